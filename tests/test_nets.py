"""make_mlp, count_parameters, hidden_for_parameters, resolve_device and train.

References are independent: parameter counts by hand, widths by brute force,
the recorded loss against a fresh forward pass, determinism by bit equality.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import torch
from torch import nn, optim
from torch.nn import functional as F

from pwlmodels.nets import (
    ACTIVATIONS,
    LOSSES,
    OPTIMIZERS,
    count_parameters,
    hidden_for_parameters,
    make_mlp,
    resolve_device,
    train,
)

from ._helpers import CUDA, DEVICES

DTYPES = [torch.float32, torch.float64]
X = np.linspace(-1.0, 1.0, 101)
Y = np.abs(X)


def _weights(net: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(torch.equal(p, q) for p, q in zip(a, b, strict=True))


# ------------------------------------------------------------------ make_mlp
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_every_registered_activation_builds_a_working_mlp(name):
    net = make_mlp(2, (4, 3), 2, activation=name)
    assert [type(m) for m in net[1::2]] == [ACTIVATIONS[name]] * 2
    assert net(torch.zeros(5, 2)).shape == (5, 2)


def test_unknown_names_get_an_error_listing_the_valid_ones():
    with pytest.raises(ValueError, match=r"`activation` must be one of 'relu', .*'softplus'"):
        make_mlp(activation="swish")
    with pytest.raises(ValueError, match=r"`optimizer` must be one of 'adam', 'sgd'"):
        train(make_mlp(), X, Y, epochs=1, lr=0.1, optimizer="rmsprop")
    with pytest.raises(ValueError, match=r"`loss` must be one of 'mse', 'mae', 'huber'"):
        train(make_mlp(), X, Y, epochs=1, lr=0.1, loss="l2")


@pytest.mark.parametrize("registry", [ACTIVATIONS, OPTIMIZERS, LOSSES])
def test_registries_are_read_only(registry):
    with pytest.raises(TypeError):
        registry["new"] = nn.ReLU


def test_seeded_init_is_reproducible_and_differs_across_seeds():
    a, b, c = (_weights(make_mlp(1, (16, 16), 1, seed=s)) for s in (3, 3, 4))
    assert _same(a, b)
    assert not any(torch.equal(p, q) for p, q in zip(a, c, strict=True))


def test_make_mlp_and_train_leave_the_global_rng_alone():
    state = torch.random.get_rng_state()
    cuda_state = torch.cuda.get_rng_state_all() if CUDA else None
    net = make_mlp(1, (8,), 1, activation="prelu", seed=5)
    train(net, X, Y, epochs=2, lr=1e-2, batch_size=10, seed=7)
    assert torch.equal(torch.random.get_rng_state(), state)
    if CUDA:
        assert all(map(torch.equal, torch.cuda.get_rng_state_all(), cuda_state))


def test_init_draws_uniformly_within_the_fan_in_bound():
    net = make_mlp(4, (300,), 1, dtype=torch.float64).requires_grad_(False)
    for layer in (net[0], net[2]):
        bound = 1.0 / math.sqrt(layer.in_features)
        for p in (layer.weight, layer.bias):
            assert float(p.abs().max()) <= bound
        assert float(layer.weight.abs().max()) > 0.8 * bound  # spread over the interval
    assert abs(float(net[0].weight.mean())) < 0.05  # 1200 draws centred on 0


def test_float32_weights_are_the_float64_weights_rounded():
    w32 = make_mlp(1, (8, 8), 1, dtype=torch.float32, seed=2)
    w64 = make_mlp(1, (8, 8), 1, dtype=torch.float64, seed=2)
    assert _same(_weights(w32), [p.float() for p in _weights(w64)])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_parameters_have_the_requested_dtype_and_device_and_same_values(dtype, device):
    net = make_mlp(2, (5,), 3, activation="prelu", dtype=dtype, device=device)
    assert {(p.dtype, p.device.type) for p in net.parameters()} == {(dtype, device)}
    cpu = make_mlp(2, (5,), 3, activation="prelu", dtype=dtype)
    assert _same([p.cpu() for p in _weights(net)], _weights(cpu))


def test_empty_hidden_gives_a_single_linear_layer():
    net = make_mlp(3, (), 2)
    assert len(net) == 1 and isinstance(net[0], nn.Linear)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"in_features": 0}, ValueError, r"`in_features` must be >= 1; got 0"),
        ({"in_features": 1.0}, TypeError, r"`in_features` must be an integer; got float"),
        ({"out_features": True}, TypeError, r"`out_features` must be an integer; got bool"),
        ({"hidden": 32}, TypeError, r"`hidden` must be a sequence of ints"),
        ({"hidden": "32"}, TypeError, r"`hidden` must be a sequence of ints"),
        ({"hidden": (8, 0)}, ValueError, r"`hidden\[1\]` must be >= 1; got 0"),
        ({"hidden": (8.5,)}, TypeError, r"`hidden\[0\]` must be an integer"),
        ({"dtype": torch.float16}, TypeError, r"`dtype` must be torch.float32 or torch.float64"),
        ({"dtype": "float64"}, TypeError, r"`dtype` must be torch.float32 or torch.float64"),
        ({"device": "gpu"}, ValueError, r"`device` must be None, 'auto', 'cpu' or 'cuda"),
        ({"seed": -1}, ValueError, r"`seed` must be >= 0; got -1"),
    ],
)
def test_make_mlp_rejects_bad_arguments_by_name(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        make_mlp(**kwargs)


# -------------------------------------------------------- parameter counting
def test_count_parameters_matches_a_hand_count():
    # (3*5 + 5) + (5*7 + 7) + (7*2 + 2) = 20 + 42 + 16
    assert count_parameters(make_mlp(3, (5, 7), 2)) == 78
    assert count_parameters(make_mlp(3, (5, 7), 2, activation="prelu")) == 80
    assert count_parameters(nn.Linear(4, 1, bias=False)) == 4


def test_count_parameters_counts_a_shared_layer_once():
    layer = nn.Linear(3, 3)
    assert count_parameters(nn.Sequential(layer, nn.ReLU(), layer)) == 12


def test_count_parameters_rejects_non_modules():
    with pytest.raises(TypeError, match=r"`net` must be a torch.nn.Module; got list"):
        count_parameters([nn.Linear(1, 1)])


@pytest.mark.parametrize("n_params", [1, 7, 100, 1000, 12345])
@pytest.mark.parametrize(("n_in", "n_out", "depth"), [(1, 1, 1), (1, 1, 2), (3, 2, 4)])
def test_hidden_for_parameters_is_the_closest_width_by_brute_force(n_params, n_in, n_out, depth):
    h = hidden_for_parameters(n_params, in_features=n_in, out_features=n_out, depth=depth)

    def count(w: int) -> int:  # by hand: the Linear layers of make_mlp
        return (n_in + 1) * w + (depth - 1) * (w + 1) * w + (w + 1) * n_out

    errors = [abs(count(w) - n_params) for w in range(1, 20_000)]
    assert h == 1 + int(np.argmin(errors))  # the smallest width among the closest
    if h < 60:
        assert count_parameters(make_mlp(n_in, (h,) * depth, n_out)) == count(h)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"n_params": 0}, ValueError, r"`n_params` must be >= 1; got 0"),
        ({"n_params": 10.0}, TypeError, r"`n_params` must be an integer"),
        ({"n_params": 10, "depth": 0}, ValueError, r"`depth` must be >= 1"),
        ({"n_params": 10, "in_features": None}, TypeError, r"`in_features` must be an integer"),
    ],
)
def test_hidden_for_parameters_rejects_bad_arguments_by_name(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        hidden_for_parameters(**kwargs)


# ------------------------------------------------------------ resolve_device
@pytest.mark.parametrize("device", [None, "cpu", torch.device("cpu")])
def test_resolve_device_defaults_to_cpu_as_torch(device):
    assert resolve_device(device) == torch.device("cpu")


def test_resolve_device_auto_takes_cuda_only_when_present():
    assert resolve_device("auto") == torch.device("cuda" if CUDA else "cpu")


@pytest.mark.skipif(CUDA, reason="CUDA is available here")
@pytest.mark.parametrize("device", ["cuda", "cuda:0", torch.device("cuda")])
def test_resolve_device_cuda_without_cuda_is_a_clear_error(device):
    with pytest.raises(ValueError, match=r"`device` is .*cuda.* but CUDA is not available"):
        resolve_device(device)


@pytest.mark.skipif(not CUDA, reason="no CUDA")
def test_resolve_device_accepts_cuda_and_rejects_missing_indices():
    assert resolve_device("cuda").type == "cuda"
    assert resolve_device(torch.device("cuda:0")) == torch.device("cuda:0")
    with pytest.raises(ValueError, match=r"`device` is 'cuda:999' but only \d+ CUDA device"):
        resolve_device("cuda:999")


@pytest.mark.parametrize(
    ("device", "exc", "match"),
    [
        ("gpu", ValueError, r"`device` must be None, 'auto', 'cpu' or 'cuda\[:N\]'; got 'gpu'"),
        ("meta", ValueError, r"`device` must be .*; got 'meta'"),
        ("", ValueError, r"`device` must be"),
        (0, TypeError, r"`device` must be None, a string or a torch.device; got 0"),
        (1.5, TypeError, r"`device` must be None, a string or a torch.device"),
    ],
)
def test_resolve_device_rejects_bad_values_by_name(device, exc, match):
    with pytest.raises(exc, match=match):
        resolve_device(device)


# --------------------------------------------------------------------- train
def _mse(net: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    p = next(net.parameters())
    with torch.no_grad():
        pred = net(torch.as_tensor(x[:, None], dtype=p.dtype, device=p.device))
    return float(((pred[:, 0].double().cpu().numpy() - y) ** 2).mean())


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_train_fits_abs_and_records_the_final_nets_loss(dtype, device):
    net = make_mlp(1, (16,), 1, dtype=dtype, device=device)
    history = train(net, X, Y, epochs=300, lr=1e-2)
    assert history["loss"].iloc[-1] < 1e-3
    assert history["loss"].iloc[-1] < 1e-2 * history["loss"].iloc[0]
    rtol = 1e-5 if dtype == torch.float32 else 1e-12
    np.testing.assert_allclose(history["loss"].iloc[-1], _mse(net, X, Y), rtol=rtol)
    assert {(p.dtype, p.device.type) for p in net.parameters()} == {(dtype, device)}


def test_history_has_one_row_per_epoch_with_documented_columns():
    history = train(make_mlp(), X, Y, epochs=5, lr=3e-3)
    assert list(history.columns) == ["epoch", "loss", "lr", "seconds", "phase"]
    assert history["epoch"].tolist() == [1, 2, 3, 4, 5]
    assert (history["lr"] == 3e-3).all() and (history["phase"] == "train").all()
    assert history["seconds"].is_monotonic_increasing and (history["seconds"] > 0).all()
    assert history["loss"].dtype == np.float64 and history["epoch"].dtype.kind == "i"


@pytest.mark.parametrize("batch_size", [None, 16])
@pytest.mark.parametrize("optimizer", ["adam", "sgd", "adamw"])
def test_two_runs_from_the_same_weights_are_bit_identical(optimizer, batch_size):
    nets = [make_mlp(1, (8,), 1, seed=1) for _ in range(2)]
    kw = {"epochs": 5, "lr": 1e-2, "optimizer": optimizer, "batch_size": batch_size, "seed": 3}
    h1, h2 = (train(net, X, Y, **kw) for net in nets)
    assert _same(_weights(nets[0]), _weights(nets[1]))
    assert h1["loss"].tolist() == h2["loss"].tolist()


def test_minibatch_order_follows_the_seed_and_still_fits():
    nets = [make_mlp(1, (16,), 1, dtype=torch.float64) for _ in range(2)]
    h = [
        train(n, X, Y, epochs=40, lr=1e-2, batch_size=10, seed=s)
        for n, s in zip(nets, (0, 1), strict=True)
    ]
    assert not _same(_weights(nets[0]), _weights(nets[1]))
    assert max(h[0]["loss"].iloc[-1], h[1]["loss"].iloc[-1]) < 1e-3
    np.testing.assert_allclose(h[0]["loss"].iloc[-1], _mse(nets[0], X, Y), rtol=1e-12)


def test_a_batch_larger_than_the_data_is_one_batch_per_epoch():
    net = make_mlp(1, (8,), 1, dtype=torch.float64)
    assert len(train(net, X, Y, epochs=3, lr=1e-2, batch_size=10_000)) == 3


@pytest.mark.parametrize("dtype", DTYPES)
def test_lbfgs_polish_rows_are_flagged_and_lower_the_loss(dtype):
    net = make_mlp(1, (8,), 1, activation="tanh", dtype=dtype)
    history = train(net, X, Y, epochs=20, lr=1e-2, lbfgs_polish=3)
    assert history["epoch"].tolist() == list(range(1, 24))
    polish = history[history["phase"] == "polish"]
    assert len(polish) == 3 and (polish["lr"] == 1.0).all()
    assert polish["loss"].iloc[-1] < 0.5 * history["loss"].iloc[19]
    assert len(train(make_mlp(), X, Y, epochs=1, lr=1e-2, lbfgs_polish=True)) == 11
    assert len(train(make_mlp(), X, Y, epochs=1, lr=1e-2, lbfgs_polish=False)) == 1


def test_lbfgs_as_the_optimizer_fits_in_few_steps():
    net = make_mlp(1, (8,), 1, dtype=torch.float64)
    history = train(net, X, Y, epochs=10, lr=1.0, optimizer="lbfgs")
    assert len(history) == 10 and history["loss"].iloc[-1] < 1e-3


@pytest.mark.parametrize("loss", list(LOSSES))
def test_each_loss_is_reduced_and_recorded_as_its_own_value(loss):
    net = make_mlp(1, (8,), 1, dtype=torch.float64)
    history = train(net, X, Y, epochs=30, lr=1e-2, loss=loss)
    with torch.no_grad():
        final = LOSSES[loss](net(torch.as_tensor(X[:, None])), torch.as_tensor(Y[:, None]))
    assert history["loss"].iloc[-1] == pytest.approx(float(final), rel=1e-12)
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]


def test_a_callback_returning_true_stops_training_and_skips_polish():
    seen: list[tuple[int, float]] = []

    def log(epoch, loss, net):
        assert isinstance(net, nn.Module)
        seen.append((epoch, loss))

    def stop_at_3(epoch, loss, net):
        return epoch == 3

    history = train(
        make_mlp(), X, Y, epochs=50, lr=1e-2, lbfgs_polish=5, callbacks=[stop_at_3, log]
    )
    assert history["epoch"].tolist() == [1, 2, 3]
    assert seen == list(zip(history["epoch"], history["loss"], strict=True))


def test_a_single_callable_is_a_callback_and_may_change_the_weights():
    def shrink(epoch, loss, net):  # in place, between a forward pass and the next step
        with torch.no_grad():
            net[0].weight.mul_(0.5)

    net = make_mlp(1, (8,), 1, dtype=torch.float64)
    history = train(net, X, Y, epochs=3, lr=1e-3, callbacks=shrink)
    assert len(history) == 3
    assert float(net[0].weight.detach().abs().max()) <= 0.5**3 + 3e-3  # 3 halvings, 3 small steps


def test_training_keeps_the_nets_mode_and_accepts_tensors_with_several_columns():
    net = make_mlp(2, (8,), 2, dtype=torch.float64).eval()
    x = torch.rand(30, 2, generator=torch.Generator().manual_seed(0))
    y = torch.stack([x.sum(1), x[:, 0] - x[:, 1]], dim=1)
    history = train(net, x, y, epochs=10, lr=1e-2)
    assert not net.training
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]


@pytest.mark.parametrize(
    ("dtype", "optimizer", "lr", "scale"),
    [
        (torch.float32, "adam", 1e30, 1.0),
        (torch.float64, "sgd", 1e30, 1.0),
        (torch.float32, "adam", 1e-3, 1e30),  # y fits float32, its square does not
    ],
)
def test_a_non_finite_loss_raises_floating_point_error_naming_the_epoch(
    dtype, optimizer, lr, scale
):
    net = make_mlp(1, (8,), 1, dtype=dtype)
    with pytest.raises(FloatingPointError, match=r"the mse loss is (nan|inf) at epoch \d+"):
        train(net, X, Y * scale, epochs=20, lr=lr, optimizer=optimizer)


# ------------------------------------------------------- optimizer factories
@pytest.mark.parametrize("batch_size", [None, 16])
@pytest.mark.parametrize("name", ["adam", "sgd", "adamw"])
def test_a_factory_of_the_registry_optimizer_trains_bit_for_bit_as_its_name(name, batch_size):
    nets = [make_mlp(1, (8,), 1, seed=2) for _ in range(2)]
    kw = {"epochs": 6, "lr": 1e-2, "batch_size": batch_size, "seed": 4}
    by_name = train(nets[0], X, Y, optimizer=name, **kw)
    by_factory = train(nets[1], X, Y, optimizer=lambda p: OPTIMIZERS[name](p, lr=1e-2), **kw)
    assert _same(_weights(nets[0]), _weights(nets[1]))
    assert by_name["loss"].tolist() == by_factory["loss"].tolist()
    assert by_name["lr"].tolist() == by_factory["lr"].tolist() == [1e-2] * 6


@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_with_momentum_from_a_factory_is_the_hand_written_loop_bit_for_bit(dtype):
    net, ref = make_mlp(1, (8,), 1, dtype=dtype, seed=3), make_mlp(1, (8,), 1, dtype=dtype, seed=3)
    history = train(
        net, X, Y, epochs=25, lr=1.0, optimizer=lambda p: optim.SGD(p, lr=0.05, momentum=0.9)
    )
    x, y = (torch.as_tensor(a[:, None], dtype=dtype) for a in (X, Y))
    opt, losses = optim.SGD(ref.parameters(), lr=0.05, momentum=0.9), []
    for _ in range(25):  # the loop train stands for
        opt.zero_grad()
        F.mse_loss(ref(x), y).backward()
        opt.step()
        with torch.no_grad():
            losses.append(F.mse_loss(ref(x), y).item())
    assert _same(_weights(net), _weights(ref))
    assert history["loss"].tolist() == losses
    assert (history["lr"] == 0.05).all()  # the factory's learning rate, not lr=1.0


def test_lbfgs_from_a_factory_steps_with_a_closure_and_matches_the_name():
    nets = [make_mlp(1, (8,), 1, dtype=torch.float64, seed=1) for _ in range(3)]
    by_name = train(nets[0], X, Y, epochs=8, lr=1.0, optimizer="lbfgs")
    wolfe = train(
        nets[1],
        X,
        Y,
        epochs=8,
        lr=1.0,
        optimizer=lambda p: optim.LBFGS(p, lr=1.0, line_search_fn="strong_wolfe"),
    )
    assert _same(_weights(nets[0]), _weights(nets[1]))
    assert by_name["loss"].tolist() == wolfe["loss"].tolist()
    plain = train(nets[2], X, Y, epochs=8, lr=1.0, optimizer=lambda p: optim.LBFGS(p, lr=0.5))
    assert plain["loss"].iloc[-1] < 0.1 * plain["loss"].iloc[0]
    assert (plain["lr"] == 0.5).all()


def test_a_factory_may_build_parameter_groups_from_the_net():
    net = make_mlp(1, (8,), 1, dtype=torch.float64)
    frozen_bias = net[2].bias.detach().clone()

    def groups(params):
        assert [id(p) for p in params] == [id(p) for p in net.parameters()]
        rest = [p for p in params if p is not net[2].bias]
        return optim.SGD([{"params": rest}, {"params": [net[2].bias], "lr": 0.0}], lr=0.1)

    history = train(net, X, Y, epochs=5, lr=0.1, optimizer=groups)
    assert torch.equal(net[2].bias, frozen_bias)  # its group's lr is 0
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]


def test_a_non_finite_loss_with_a_factory_points_to_the_factorys_learning_rate():
    net = make_mlp(1, (8,), 1, dtype=torch.float64)
    with pytest.raises(
        FloatingPointError, match=r"at epoch \d+ \(train, lr=1e\+30\); lower the factory's"
    ):
        train(net, X, Y, epochs=20, lr=1e-2, optimizer=lambda p: optim.SGD(p, lr=1e30))


def test_progress_shows_a_tqdm_bar(capsys):
    pytest.importorskip("tqdm")
    train(make_mlp(), X, Y, epochs=3, lr=1e-2, progress=True)
    assert "3/3" in capsys.readouterr().err


def test_progress_without_tqdm_suggests_installing_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError, match=r"pip install tqdm"):
        train(make_mlp(), X, Y, epochs=1, lr=1e-2, progress=True)


def test_training_rejects_lbfgs_with_mini_batches():
    with pytest.raises(ValueError, match=r"optimizer='lbfgs' needs full batches"):
        train(make_mlp(), X, Y, epochs=1, lr=1.0, optimizer="lbfgs", batch_size=8)
    with pytest.raises(ValueError, match=r"an L-BFGS `optimizer` needs full batches"):
        train(make_mlp(), X, Y, epochs=1, lr=1.0, optimizer=optim.LBFGS, batch_size=8)


NAN_X = X.copy()
NAN_X[4] = np.nan


@pytest.mark.parametrize(
    ("change", "exc", "match"),
    [
        (
            {"y": Y[:-1]},
            ValueError,
            r"`x` and `y` must have the same number of rows; got 101 and 100",
        ),
        ({"x": NAN_X}, ValueError, r"`x` must be finite; got x\[4\] = nan"),
        ({"y": np.where(X > 0, np.inf, Y)}, ValueError, r"`y` must be finite"),
        ({"y": Y * 1e300}, ValueError, r"`y` overflows the net's torch.float32"),
        ({"x": X.astype(complex)}, TypeError, r"`x` must be real"),
        ({"x": np.zeros((4, 2, 2))}, ValueError, r"`x` must have shape \(N,\) or \(N, k\)"),
        ({"x": np.zeros(0), "y": np.zeros(0)}, ValueError, r"with N >= 1"),
        ({"x": np.zeros((101, 2))}, ValueError, r"`x` must have shape \(N, 1\) for this net"),
        ({"y": np.zeros((101, 3))}, ValueError, r"`y` must have shape \(N, 1\) for this net"),
        ({"epochs": 0}, ValueError, r"`epochs` must be >= 1; got 0"),
        ({"epochs": 2.0}, TypeError, r"`epochs` must be an integer; got float"),
        ({"lr": 0.0}, ValueError, r"`lr` must be > 0; got 0.0"),
        ({"lr": -1e-3}, ValueError, r"`lr` must be > 0"),
        ({"lr": float("nan")}, ValueError, r"`lr` must be finite"),
        ({"lr": "fast"}, TypeError, r"`lr` must be a real number; got str"),
        ({"batch_size": 0}, ValueError, r"`batch_size` must be >= 1; got 0"),
        ({"lbfgs_polish": -1}, ValueError, r"`lbfgs_polish` must be >= 0; got -1"),
        ({"seed": 0.5}, TypeError, r"`seed` must be an integer"),
        ({"callbacks": "stop"}, TypeError, r"`callbacks\[0\]` must be callable; got 'stop'"),
        ({"callbacks": [1]}, TypeError, r"`callbacks\[0\]` must be callable; got 1"),
        ({"net": "mlp"}, TypeError, r"`net` must be a torch.nn.Module; got str"),
        ({"net": nn.ReLU()}, ValueError, r"`net` must have trainable parameters"),
        (
            {"optimizer": 3},
            TypeError,
            r"`optimizer` must be one of 'adam', 'sgd', 'adamw', 'lbfgs' or a callable "
            r"params -> torch.optim.Optimizer such as .*; got int$",
        ),
        ({"optimizer": None}, TypeError, r"`optimizer` must be one of .*; got NoneType$"),
        (
            {"optimizer": optim.SGD(nn.Linear(1, 1).parameters(), lr=0.1)},
            TypeError,
            r"`optimizer` must be one of .* or a callable .*; got SGD already built$",
        ),
        (
            {"optimizer": lambda params: "sgd"},
            TypeError,
            r"`optimizer` must return a torch.optim.Optimizer when called with the "
            r"parameters; got str$",
        ),
        (
            {"optimizer": lambda params: torch.optim.lr_scheduler},
            TypeError,
            r"`optimizer` must return a torch.optim.Optimizer .*; got module$",
        ),
    ],
)
def test_train_rejects_bad_input_by_name(change, exc, match):
    kwargs = {"net": make_mlp(1, (4,), 1), "x": X, "y": Y, "epochs": 1, "lr": 1e-2} | change
    with pytest.raises(exc, match=match):
        train(**kwargs)
