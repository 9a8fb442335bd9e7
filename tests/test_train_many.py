"""train_many: every member ends as ``train`` would leave it, one by one.

The reference is :func:`pwlmodels.train` called on an identical copy of each
network with the same options and that member's seed; float64 weights and
losses must agree to 1e-8 relative, float32 to float32 rounding.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from pwlmodels import _batched
from pwlmodels.nets import make_mlp, train, train_many

from ._helpers import DEVICES

X = np.linspace(-1.0, 1.0, 48)
Y = np.abs(X) + 0.1 * np.sin(4 * X)


def _members(n=4, *, hidden=(8, 8), activation="relu", dtype=torch.float64, device=None):
    return [
        make_mlp(1, hidden, 1, activation=activation, dtype=dtype, device=device, seed=s)
        for s in range(n)
    ]


def _one_by_one(nets, seeds, **options):
    """Copies of ``nets`` trained by ``train``, and their histories."""
    copies = [copy.deepcopy(net) for net in nets]
    histories = [train(net, X, Y, seed=s, **options) for net, s in zip(copies, seeds, strict=True)]
    return copies, histories


def _assert_same(nets, history, copies, histories, rtol):
    for net, ref in zip(nets, copies, strict=True):
        for p, q in zip(net.parameters(), ref.parameters(), strict=True):
            torch.testing.assert_close(p.detach(), q.detach(), rtol=rtol, atol=rtol * 1e-3)
    for i, ref in enumerate(histories):
        mine = history[history["member"] == i].reset_index(drop=True)
        np.testing.assert_allclose(mine["loss"], ref["loss"], rtol=rtol)
        assert list(mine["epoch"]) == list(ref["epoch"])
        assert list(mine["phase"]) == list(ref["phase"])
        np.testing.assert_array_equal(mine["lr"], ref["lr"])


# ------------------------------------------------------------------ equality with train
@pytest.mark.parametrize("optimizer", ["adam", "sgd", "adamw"])
@pytest.mark.parametrize("batch_size", [None, 16])
def test_each_member_ends_as_train_leaves_it_in_float64(optimizer, batch_size):
    nets, seeds = _members(), [3, 1, 4, 1]
    options = {"epochs": 40, "lr": 2e-2, "optimizer": optimizer, "batch_size": batch_size}
    copies, histories = _one_by_one(nets, seeds, **options)
    history = train_many(nets, X, Y, seed=seeds, **options)
    _assert_same(nets, history, copies, histories, rtol=1e-8)


@pytest.mark.parametrize("loss", ["mae", "huber"])
@pytest.mark.parametrize("activation", ["tanh", "prelu", "leaky_relu", "hardtanh"])
def test_every_loss_and_activation_matches_train(loss, activation):
    nets = _members(3, activation=activation)
    options = {"epochs": 30, "lr": 1e-2, "loss": loss}
    copies, histories = _one_by_one(nets, [0, 0, 0], **options)
    _assert_same(nets, train_many(nets, X, Y, **options), copies, histories, rtol=1e-8)


def test_float32_members_match_train_to_float32_rounding():
    nets = _members(3, dtype=torch.float32, activation="tanh")
    options = {"epochs": 20, "lr": 1e-2, "batch_size": 12}
    copies, histories = _one_by_one(nets, [0, 1, 2], **options)
    history = train_many(nets, X, Y, seed=[0, 1, 2], **options)
    _assert_same(nets, history, copies, histories, rtol=1e-4)
    assert all(p.dtype == torch.float32 for net in nets for p in net.parameters())


# ------------------------------------------------------------------ L-BFGS polish
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("batch_size", [None, 16])
def test_polished_members_end_as_train_leaves_them_in_float64(activation, batch_size):
    # One step (up to 20 L-BFGS iterations): L-BFGS grows a 1e-16 difference 100-fold or
    # more per step (1e-12 after one here, 1e-7 after three), as in train's own runs from
    # weights one ulp apart; test_the_polish_is_trains_lbfgs_steps_bit_for_bit covers more.
    nets = _members(3, activation=activation)
    options = {"epochs": 30, "lr": 1e-2, "batch_size": batch_size, "lbfgs_polish": 1}
    copies, histories = _one_by_one(nets, [0, 1, 2], **options)
    history = train_many(nets, X, Y, seed=[0, 1, 2], **options)
    _assert_same(nets, history, copies, histories, rtol=1e-8)
    assert list(history["phase"]) == (["train"] * 30 + ["polish"]) * 3
    assert list(history["epoch"]) == list(range(1, 32)) * 3
    assert set(history.loc[history["phase"] == "polish", "lr"]) == {1.0}
    assert (history.groupby("member")["seconds"].diff().dropna() >= 0).all()


def test_polish_true_is_ten_steps_after_batched_epochs_not_a_one_by_one_run(monkeypatch):
    import pwlmodels.nets as nets_module

    def refuse(*args, **kwargs):
        raise AssertionError("train_many fell back to train")

    monkeypatch.setattr(nets_module, "train", refuse)
    nets = _members(2, hidden=(4,), activation="tanh")
    history = train_many(nets, X, Y, epochs=5, lr=1e-2, lbfgs_polish=True, chunk_size=1)
    assert list(history["phase"]) == (["train"] * 5 + ["polish"] * 10) * 2
    assert list(history["member"]) == [0] * 15 + [1] * 15


def test_the_polish_is_trains_lbfgs_steps_bit_for_bit_after_the_batched_epochs():
    def lbfgs(params):  # train's polish, as an optimizer: lr 1, strong Wolfe
        return torch.optim.LBFGS(params, lr=1.0, line_search_fn="strong_wolfe")

    polished, plain = _members(2, activation="tanh"), _members(2, activation="tanh")
    history = train_many(polished, X, Y, epochs=20, lr=1e-2, lbfgs_polish=5)
    first = train_many(plain, X, Y, epochs=20, lr=1e-2)
    for i, (net, ref) in enumerate(zip(polished, plain, strict=True)):
        then = train(ref, X, Y, epochs=5, lr=1.0, optimizer=lbfgs)
        assert all(map(torch.equal, net.parameters(), ref.parameters()))
        mine = history[history["member"] == i]
        losses = np.concatenate([first.loc[first["member"] == i, "loss"], then["loss"]])
        np.testing.assert_array_equal(mine["loss"], losses)


def test_float32_polish_is_reproducible_and_never_raises_the_loss():
    # float32 L-BFGS grows float32 rounding into differences from train of up to 1e-1
    # (measured), so the reference here is the run itself and the loss.
    def run():
        nets = _members(3, dtype=torch.float32, activation="tanh")
        return nets, train_many(nets, X, Y, epochs=20, lr=1e-2, lbfgs_polish=3)

    (one, h1), (two, h2) = run(), run()
    pd.testing.assert_frame_equal(h1.drop(columns="seconds"), h2.drop(columns="seconds"))
    for a, b in zip(one, two, strict=True):
        assert all(map(torch.equal, a.parameters(), b.parameters()))
    for _, member in h1.groupby("member"):
        loss = member["loss"].to_numpy()
        assert (np.diff(loss[-4:]) <= 0).all()  # the last epoch, then three polish steps


def test_a_non_finite_polish_loss_names_the_member_and_the_polish_epoch(monkeypatch):
    class Blowup(torch.optim.SGD):  # stands in for L-BFGS: one step to NaN weights
        def __init__(self, params, **kwargs):
            super().__init__(params, lr=1.0)

        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    p.data.fill_(float("nan"))

    monkeypatch.setattr(torch.optim, "LBFGS", Blowup)
    match = r"mse loss of member 0 \(nets\[0\]\) is nan at epoch 4 \(polish, lr=1\)"
    with pytest.raises(FloatingPointError, match=match):
        train_many(_members(2, hidden=(4,)), X, Y, epochs=3, lr=1e-2, lbfgs_polish=2)


# ------------------------------------------------------------------ one data set per member
def _member_sets(n, n_in=1):
    rng = np.random.default_rng(7)
    x = rng.uniform(-1.0, 1.0, (n, X.size, n_in))
    return x, np.abs(x).sum(axis=2) + 0.1 * rng.normal(size=(n, X.size))


@pytest.mark.parametrize("batch_size", [None, 16])
@pytest.mark.parametrize("n_in", [1, 2])
def test_per_member_data_trains_each_as_train_on_its_own_data(batch_size, n_in):
    x, y = _member_sets(3, n_in)
    nets = [make_mlp(n_in, (8,), 1, dtype=torch.float64, seed=s) for s in range(3)]
    copies = [copy.deepcopy(net) for net in nets]
    options = {"epochs": 25, "lr": 1e-2, "batch_size": batch_size, "lbfgs_polish": 1}
    histories = [
        train(net, x[i], y[i], seed=i, **options) for i, net in enumerate(copies)
    ]  # fmt: skip
    history = train_many(nets, x, y, seed=[0, 1, 2], per_member=True, chunk_size=2, **options)
    _assert_same(nets, history, copies, histories, rtol=1e-8)


def test_per_member_data_one_by_one_gives_each_network_its_own_data():
    x, y = _member_sets(2)
    nets, refs = _members(2, hidden=(4,)), _members(2, hidden=(4,))
    stop = [lambda epoch, loss, net: False]  # a callback: trained one by one
    train_many(nets, x[:, :, 0], y, epochs=5, lr=1e-2, callbacks=stop, per_member=True)
    for i, (net, ref) in enumerate(zip(nets, refs, strict=True)):
        train(ref, x[i], y[i], epochs=5, lr=1e-2)
        assert all(map(torch.equal, net.parameters(), ref.parameters()))


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"x": X}, ValueError, r"`x` must have shape \(2, N\) or \(2, N, k\) with per_member"),
        ({"y": np.ones((3, 48))}, ValueError, r"`y` must have shape \(2, N\) .* got \(3, 48\)"),
        ({"x": np.ones((2, 48, 2))}, ValueError, r"`x` must have shape \(N, 1\) for this net"),
        ({"y": np.ones((2, 47))}, ValueError, r"`x` and `y` must have the same number of rows"),
        (
            {"y": np.stack([Y, np.where(X > 0, np.nan, Y)])},
            ValueError,
            r"`y\[1\]` must be finite",
        ),
        ({"per_member": "yes"}, TypeError, r"`per_member` must be True or False; got 'yes'"),
    ],
)
def test_per_member_data_rejects_bad_input_by_name(kwargs, exc, match):
    kwargs = {"x": np.stack([X, X]), "y": np.stack([Y, Y]), "per_member": True} | kwargs
    with pytest.raises(exc, match=match):
        train_many(_members(2, hidden=(4,)), epochs=2, lr=1e-2, **kwargs)


@settings(max_examples=8, deadline=None)
@given(
    n=st.integers(1, 5),
    seeds=st.lists(st.integers(0, 2**31), min_size=5, max_size=5),
    batch_size=st.one_of(st.none(), st.integers(1, 60)),
    chunk_size=st.one_of(st.none(), st.integers(1, 5)),
)
def test_any_members_seeds_batches_and_chunks_match_train(n, seeds, batch_size, chunk_size):
    nets = _members(n, hidden=(4,))
    options = {"epochs": 5, "lr": 1e-2, "batch_size": batch_size}
    copies, histories = _one_by_one(nets, seeds[:n], **options)
    history = train_many(nets, X, Y, seed=seeds[:n], chunk_size=chunk_size, **options)
    _assert_same(nets, history, copies, histories, rtol=1e-8)


@pytest.mark.parametrize("device", DEVICES)
def test_members_on_a_device_match_train_there(device):
    nets = _members(3, device=device)
    copies, histories = _one_by_one(nets, [0, 1, 2], epochs=30, lr=1e-2, batch_size=10)
    history = train_many(nets, X, Y, seed=[0, 1, 2], epochs=30, lr=1e-2, batch_size=10)
    _assert_same(nets, history, copies, histories, rtol=1e-8)
    assert all(p.device.type == torch.device(device).type for p in nets[0].parameters())


def test_frozen_parameters_stay_and_the_rest_match_train():
    nets = _members(3)
    for net in nets:
        net[0].requires_grad_(False)
    frozen = [net[0].weight.clone() for net in nets]
    copies, histories = _one_by_one(nets, [0, 0, 0], epochs=20, lr=1e-2)
    _assert_same(nets, train_many(nets, X, Y, epochs=20, lr=1e-2), copies, histories, rtol=1e-8)
    assert all(torch.equal(net[0].weight, w) for net, w in zip(nets, frozen, strict=True))


# ------------------------------------------------------------------ history
def test_history_is_trains_with_a_member_column_and_the_final_loss_is_the_nets():
    nets = _members(3)
    history = train_many(nets, X, Y, epochs=7, lr=1e-2)
    assert list(history.columns) == ["member", "epoch", "loss", "lr", "seconds", "phase"]
    assert len(history) == 21
    assert list(history["member"]) == [0] * 7 + [1] * 7 + [2] * 7
    assert list(history["epoch"]) == list(range(1, 8)) * 3
    assert (history["phase"] == "train").all() and (history["lr"] == 1e-2).all()
    assert (history.groupby("member")["seconds"].diff().dropna() >= 0).all()
    x, y = torch.from_numpy(X)[:, None], torch.from_numpy(Y)[:, None]
    for i, net in enumerate(nets):
        with torch.no_grad():
            fresh = float(torch.mean((net(x) - y) ** 2))
        last = history[history["member"] == i]["loss"].iloc[-1]
        assert last == pytest.approx(fresh, rel=1e-12)


def test_chunks_give_the_results_of_one_batch():
    one, two = _members(5), _members(5)
    h1 = train_many(one, X, Y, epochs=10, lr=1e-2, batch_size=8, seed=[1, 2, 3, 4, 5])
    h2 = train_many(two, X, Y, epochs=10, lr=1e-2, batch_size=8, seed=[1, 2, 3, 4, 5], chunk_size=2)
    np.testing.assert_allclose(h1["loss"], h2["loss"], rtol=1e-12)
    for a, b in zip(one, two, strict=True):
        for p, q in zip(a.parameters(), b.parameters(), strict=True):
            torch.testing.assert_close(p, q, rtol=1e-12, atol=0.0)


def test_the_chunk_size_follows_the_free_memory(monkeypatch):
    net = make_mlp(1, (32, 32), 1)
    assert 1 <= _batched.chunk_size_for(net, 512, 64, torch.device("cpu")) <= 64
    sizes = []
    for free in (0, 10**6, 10**7, 10**12):
        monkeypatch.setattr(_batched, "_available_bytes", lambda device, free=free: free)
        sizes.append(_batched.chunk_size_for(net, 512, 1000, torch.device("cpu")))
    assert sizes[0] == 1 and sizes == sorted(sizes) and sizes[-1] == 1000
    assert sizes[1] < sizes[2] < 1000


def test_progress_shows_one_bar_over_the_epochs(capsys):
    train_many(_members(2), X, Y, epochs=3, lr=1e-2, progress=True)
    assert "train_many" in capsys.readouterr().err


# ------------------------------------------------------------------ one by one
def _sgd_momentum(params):
    return torch.optim.SGD(params, lr=0.02, momentum=0.9, weight_decay=1e-3)


@pytest.mark.parametrize(
    "options",
    [
        {"optimizer": "lbfgs", "epochs": 3},
        {"optimizer": _sgd_momentum},
        {"callbacks": [lambda epoch, loss, net: epoch == 4]},
        {"callbacks": [lambda epoch, loss, net: epoch == 4], "lbfgs_polish": 2},
        {"n": 1, "lbfgs_polish": 2, "batch_size": 7},
    ],
    ids=["lbfgs", "factory with weight decay", "callbacks", "callbacks and polish", "one net"],
)
def test_what_cannot_be_batched_is_trained_one_by_one_bit_for_bit(options):
    options = {"epochs": 10, "lr": 1e-2} | options
    nets = _members(options.pop("n", 3), hidden=(6,))
    copies, histories = _one_by_one(nets, [0] * len(nets), **options)
    history = train_many(nets, X, Y, **options)
    for net, ref in zip(nets, copies, strict=True):
        assert all(map(torch.equal, net.parameters(), ref.parameters()))
    assert history.columns[0] == "member"
    np.testing.assert_array_equal(history["loss"], np.concatenate([h["loss"] for h in histories]))
    np.testing.assert_array_equal(
        history["member"], np.repeat(range(len(nets)), list(map(len, histories)))
    )


def test_networks_with_buffers_are_trained_one_by_one():
    def net(seed):
        mlp = make_mlp(1, (4,), 1, dtype=torch.float64, seed=seed)
        return nn.Sequential(mlp[0], nn.BatchNorm1d(4).double(), mlp[1], mlp[2])

    nets, refs = [net(0), net(1)], [net(0), net(1)]
    train_many(nets, X, Y, epochs=5, lr=1e-2)
    for a, b in zip(nets, refs, strict=True):
        train(b, X, Y, epochs=5, lr=1e-2)
        assert all(map(torch.equal, a.state_dict().values(), b.state_dict().values()))


def test_a_module_list_tuple_or_generator_of_nets_is_accepted():
    for nets in (nn.ModuleList(_members(2)), tuple(_members(2)), iter(_members(2))):
        assert len(train_many(nets, X, Y, epochs=2, lr=1e-2)) == 4


def test_train_many_leaves_the_global_rng_alone():
    state = torch.get_rng_state()
    train_many(_members(2), X, Y, epochs=2, lr=1e-2, batch_size=5)
    assert torch.equal(torch.get_rng_state(), state)


# ------------------------------------------------------------------ errors
def test_a_non_finite_loss_names_member_and_epoch_and_leaves_the_nets():
    nets = _members(2)
    before = [[p.detach().clone() for p in net.parameters()] for net in nets]
    y = np.where(np.arange(X.size) == 3, 1e300, Y)
    with pytest.raises(FloatingPointError, match=r"loss of member 0 \(nets\[0\]\) is .* epoch 1"):
        train_many(nets, X, y, epochs=3, lr=1e-2)
    for net, old in zip(nets, before, strict=True):
        assert all(map(torch.equal, net.parameters(), old))


def _shared():
    a = make_mlp(1, (4,), 1)
    b = make_mlp(1, (4,), 1)
    b[0] = a[0]
    return [a, b]


@pytest.mark.parametrize(
    ("nets", "kwargs", "exc", "match"),
    [
        ([], {}, ValueError, r"`nets` must hold at least one network; got an empty"),
        (make_mlp(), {}, TypeError, r"`nets` must be a list of networks; got a single Sequential"),
        (5, {}, TypeError, r"`nets` must be a list of torch.nn.Module; got int"),
        ("net", {}, TypeError, r"`nets` must be a list of torch.nn.Module; got str"),
        ([make_mlp(), "net"], {}, TypeError, r"`nets\[1\]` must be a torch.nn.Module; got str"),
        (
            [make_mlp(1, (4,), 1), make_mlp(1, (5,), 1)],
            {},
            ValueError,
            r"`nets\[1\]` must have the architecture of nets\[0\]",
        ),
        (
            [make_mlp(activation="relu"), make_mlp(activation="tanh")],
            {},
            ValueError,
            r"`nets\[1\]` must have the architecture",
        ),
        (
            [make_mlp(), make_mlp().eval()],
            {},
            ValueError,
            r"`nets\[1\]` must have the architecture of nets\[0\] \(module types, settings, modes",
        ),
        (
            [make_mlp(), make_mlp(dtype=torch.float64)],
            {},
            ValueError,
            r"`nets\[1\]` must have the dtype and device of nets\[0\] \(torch.float32 on cpu\)",
        ),
        (
            [nn.Sequential(nn.Linear(1, 2), nn.Linear(2, 1).double())],
            {},
            ValueError,
            r"`nets\[0\]` must have one dtype and device",
        ),
        (_shared(), {}, ValueError, r"`nets\[1\]` must share no parameter with nets\[0\]"),
        ([make_mlp()] * 2, {}, ValueError, r"`nets\[1\]` must share no parameter with nets\[0\]"),
        (
            [make_mlp().requires_grad_(False)],
            {},
            ValueError,
            r"`nets\[0\]` must have trainable parameters",
        ),
        (None, {"seed": [0, 1, 2]}, ValueError, r"`seed` must have one entry per network \(2\)"),
        (None, {"seed": [0, -1]}, ValueError, r"`seed\[1\]` must be >= 0"),
        (None, {"seed": 0.5}, TypeError, r"`seed` must be an integer"),
        (None, {"chunk_size": 0}, ValueError, r"`chunk_size` must be >= 1"),
        (None, {"chunk_size": 2.0}, TypeError, r"`chunk_size` must be an integer"),
        (None, {"epochs": 0}, ValueError, r"`epochs` must be >= 1"),
        (None, {"lr": -1.0}, ValueError, r"`lr` must be > 0"),
        (None, {"optimizer": "rmsprop"}, ValueError, r"`optimizer` must be one of 'adam'"),
        (None, {"loss": "l2"}, ValueError, r"`loss` must be one of 'mse'"),
        (None, {"x": X[:10]}, ValueError, r"`x` and `y` must have the same number of rows"),
        (None, {"x": np.ones((48, 2))}, ValueError, r"`x` must have shape \(N, 1\)"),
    ],
)
def test_train_many_rejects_bad_input_by_name(nets, kwargs, exc, match):
    nets = _members(2, hidden=(4,)) if nets is None else nets
    kwargs = {"x": X, "y": Y, "epochs": 2, "lr": 1e-2} | kwargs
    with pytest.raises(exc, match=match):
        train_many(nets, **kwargs)


# ------------------------------------------------------------------ compare_activations
def test_compare_activations_batched_trains_the_seeds_as_one_by_one():
    from pwlmodels import compare_activations

    x = np.linspace(-1.0, 1.0, 60)
    options = {"x_train": x, "domain": (-1.0, 1.0), "kinks": [0.0], "hidden": (8,)}
    options |= {"seeds": (0, 1, 2), "epochs": 20, "lrs": (1e-2,)}
    alone = compare_activations(np.abs, batched=False, **options).table
    together = compare_activations(np.abs, **options).table  # batched by default
    assert list(together["model"]) == list(alone["model"])
    assert list(together["seed"]) == list(alone["seed"])
    for column in ("rmse", "max_error", "derivative_rmse", "kink0_max_error"):
        np.testing.assert_allclose(together[column], alone[column], rtol=1e-4)
    with pytest.raises(TypeError, match=r"`batched` must be True or False; got 'yes'"):
        compare_activations(np.abs, batched="yes", **options)
