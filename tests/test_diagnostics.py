"""pwlmodels.diagnostics: dead units, sparsity, gradient flow, warming, homogeneity, moments."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from torch import nn

from pwlmodels import diagnostics as dg
from pwlmodels import verify
from pwlmodels.nets import make_mlp, train

F64 = torch.float64


def _two_units() -> nn.Sequential:
    net = nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1)).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0], [1.0]]))
        net[0].bias.copy_(torch.tensor([0.0, -5.0]))
    return net


# ---------------------------------------------------------------- dead units
def test_dead_units_counts_active_inputs_and_treats_zero_as_inactive():
    table = dg.dead_units(_two_units(), np.array([-1.0, 0.0, 0.5, 1.0]))
    assert list(table.columns) == ["layer", "module", "unit", "active_fraction_on_data", "dead"]
    assert table["active_fraction_on_data"].tolist() == [0.5, 0.0]  # z = 0 is off, as in torch
    assert table["dead"].tolist() == [False, True]
    assert table["module"].tolist() == ["1", "1"]


def test_dead_units_read_the_pre_activation_before_an_inplace_relu():
    x = torch.randn(50, 3, generator=torch.Generator().manual_seed(1), dtype=F64)
    net = make_mlp(3, (8, 8), 1, dtype=F64, seed=2)
    ref = dg.dead_units(net, x)
    for i, m in enumerate(net):
        if isinstance(m, nn.ReLU):
            net[i] = nn.ReLU(inplace=True)
    assert dg.dead_units(net, x).equals(ref)


def test_dead_units_read_the_nets_own_pre_activations_during_bias_warming():
    net = _two_units()
    x = np.linspace(-1, 1, 9)
    ref = dg.dead_units(net, x)
    with dg.BiasWarming(net, gamma=10.0):
        assert dg.dead_units(net, x).equals(ref)


def test_dead_units_on_hardtanh_means_saturated_on_every_input():
    net = nn.Sequential(nn.Linear(1, 2), nn.Hardtanh()).double()
    with torch.no_grad():
        net[0].weight.fill_(1.0)
        net[0].bias.copy_(torch.tensor([0.0, 3.0]))
    table = dg.dead_units(net, [[-1.0], [0.5], [0.9]])
    assert table["active_fraction_on_data"].tolist() == [pytest.approx(2 / 3), 0.0]
    assert table["dead"].tolist() == [False, True]


def test_dead_units_on_a_box_are_dead_on_any_data_inside_it():
    assert dg.dead_units_on_box is verify.dead_units_on_box
    net = make_mlp(2, (16, 16), 1, dtype=F64, seed=3)
    lower, upper = np.array([0.5, -0.2]), np.array([0.9, 0.1])
    proven = np.concatenate(dg.dead_units_on_box(net, lower, upper))
    x = np.random.default_rng(0).uniform(lower, upper, size=(2000, 2))
    on_data = dg.dead_units(net, x)["dead"].to_numpy()
    assert proven.any()
    assert on_data[proven].all()  # proven dead => dead on every sample


def test_dead_units_keep_the_mode_parameters_and_global_rng():
    net = make_mlp(2, (8,), 1, seed=0)
    net.train()
    before = [p.clone() for p in net.parameters()]
    state = torch.random.get_rng_state()
    dg.dead_units(net, np.zeros((4, 2)))
    assert net.training
    assert all(torch.equal(p, q) for p, q in zip(before, net.parameters(), strict=True))
    assert torch.equal(state, torch.random.get_rng_state())


def test_activation_sparsity_per_layer():
    net = nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 3), nn.ReLU()).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0], [-1.0]]))
        net[0].bias.zero_()
        net[2].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]))
        net[2].bias.zero_()
    table = dg.activation_sparsity(net, [-1.0, -0.5, 0.5, 1.0])
    assert table["units"].tolist() == [2, 3]
    assert table["sparsity"].tolist() == [0.5, pytest.approx(2 / 3)]
    assert table["mean_active_units"].tolist() == [1.0, 1.0]
    assert table["dead_fraction"].tolist() == [0.0, pytest.approx(1 / 3)]


# ---------------------------------------------------------------- gradient flow
def test_gradient_flow_matches_backward_and_leaves_grad_untouched():
    net = make_mlp(3, (8, 8), 2, activation="tanh", dtype=F64, seed=4)
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(32, 3, generator=gen, dtype=F64)
    y = torch.randn(32, 2, generator=gen, dtype=F64)
    flow = dg.gradient_flow(net, x, y, loss="huber")
    assert all(p.grad is None for p in net.parameters())
    nn.functional.huber_loss(net(x), y).backward()
    linears = [m for m in net if isinstance(m, nn.Linear)]
    assert_allclose(flow["weight_grad_norm"], [float(m.weight.grad.norm()) for m in linears])
    assert_allclose(flow["bias_grad_norm"], [float(m.bias.grad.norm()) for m in linears])
    assert_allclose(flow["weight_norm"], [float(m.weight.detach().norm()) for m in linears])
    # the last layer's output gradient is d loss / d prediction
    pred = net(x).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(nn.functional.huber_loss(pred, y), pred)
    assert_allclose(flow["output_grad_norm"].iloc[-1], float(g.norm()))


def test_gradient_flow_without_bias_reports_nan():
    net = nn.Sequential(nn.Linear(2, 4, bias=False), nn.ReLU(), nn.Linear(4, 1)).double()
    flow = dg.gradient_flow(net, np.ones((3, 2)), np.zeros(3))
    assert math.isnan(flow["bias_grad_norm"].iloc[0]) and flow["bias_grad_norm"].iloc[1] >= 0


# ---------------------------------------------------------------- bias warming
def test_bias_warming_schedules_and_removal():
    net = _two_units()
    warm = dg.BiasWarming(net, gamma=2.0, steps=4)
    assert [warm.gamma, warm.step(), warm.step(), warm.step(), warm.step(), warm.step()] == [
        2.0, 1.5, 1.0, 0.5, 0.0, 0.0
    ]  # fmt: skip
    cos = dg.BiasWarming(make_mlp(1, (2,), 1), gamma=2.0, steps=4, schedule="cosine")
    cos.step()
    assert cos.gamma == pytest.approx(1.0 + math.cos(math.pi / 4))
    x = torch.tensor([[1.0]], dtype=F64)
    warm.t = 0
    shifted = net(x)
    warm.remove()
    assert not warm.active
    with torch.no_grad():
        assert float(net(x) - shifted) != 0.0
    warm.remove()  # idempotent


def test_bias_warming_gives_a_dead_unit_a_gradient_and_works_as_a_train_callback():
    net = _two_units()
    x = torch.linspace(-1, 1, 16, dtype=F64)[:, None]
    y = 2 * x.abs()
    nn.functional.mse_loss(net(x), y).backward()
    assert float(net[0].bias.grad[1]) == 0.0  # dead: z = x - 5 < 0
    net.zero_grad()
    with dg.BiasWarming(net, gamma=6.0, steps=50) as warm:
        nn.functional.mse_loss(net(x), y).backward()
        assert float(net[0].bias.grad[1]) != 0.0
        history = train(net, x, y, epochs=50, lr=1e-2, callbacks=warm)
    assert warm.t == 50 and warm.gamma == 0.0 and not warm.active
    assert len(history) == 50


def test_bias_warming_is_safe_with_inplace_relu():
    net = nn.Sequential(nn.Linear(1, 1), nn.ReLU(inplace=True)).double()
    with torch.no_grad():
        net[0].weight.fill_(1.0)
        net[0].bias.fill_(-2.0)
    with dg.BiasWarming(net, gamma=3.0), torch.no_grad():
        assert float(net(torch.ones(1, 1, dtype=F64))) == 2.0


# ---------------------------------------------------------------- homogeneity
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "prelu"])
@pytest.mark.parametrize("a", [0.25, 3.0, 17.5])
def test_bias_free_networks_are_positively_homogeneous(activation, a):
    net = make_mlp(3, (8, 8, 8), 2, activation=activation, dtype=F64, seed=6)
    for m in net[::2]:
        m.bias = None
    assert dg.check_homogeneity(net, a) <= 1e-13
    assert dg.check_homogeneity(net, a, x=np.eye(3)) <= 1e-13


def test_homogeneity_fails_with_biases_and_leaves_net_and_rng_alone():
    net = make_mlp(3, (8,), 1, dtype=F64, seed=7)
    before = [p.clone() for p in net.parameters()]
    state = torch.random.get_rng_state()
    assert dg.check_homogeneity(net, 2.0) > 1e-2
    assert torch.equal(state, torch.random.get_rng_state())
    assert all(torch.equal(p, q) for p, q in zip(before, net.parameters(), strict=True))


# ---------------------------------------------------------------- expected activation
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("relu", 1 / math.sqrt(2 * math.pi)),
        ("gelu", 1 / (2 * math.sqrt(math.pi))),
        ("leaky_relu", 0.99 / math.sqrt(2 * math.pi)),
        ("prelu", 0.75 / math.sqrt(2 * math.pi)),
        ("sigmoid", 0.5),
        ("tanh", 0.0),
    ],
)
def test_expected_activation_matches_closed_forms(name, value):
    assert abs(dg.expected_activation(name) - value) < 1e-10


def test_expected_activation_second_moment_of_relu_is_one_half():
    assert abs(dg.expected_activation("relu", moment=2) - 0.5) < 1e-10
    ratio = dg.expected_activation("relu") / dg.expected_activation("gelu")
    assert abs(ratio - math.sqrt(2)) < 1e-10


# ---------------------------------------------------------------- hostile input
def _tanh_net() -> nn.Module:
    return make_mlp(2, (4,), 1, activation="tanh")


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: dg.dead_units("net", [[0.0]]), TypeError, "`net` must be a torch.nn.Module"),
        (lambda: dg.dead_units(_tanh_net(), [[0.0, 0.0]]), ValueError, "must contain ReLU"),
        (lambda: dg.dead_units(_two_units(), [[np.nan]]), ValueError, "`x` must be finite"),
        (lambda: dg.dead_units(_two_units(), "abc"), TypeError, "`x` must be"),
        (lambda: dg.dead_units(_two_units(), np.zeros((0, 1))), ValueError, "N >= 1"),
        (lambda: dg.dead_units(_two_units(), np.zeros((2, 1, 1))), ValueError, "shape"),
        (lambda: dg.dead_units(_two_units(), np.zeros((2, 3))), ValueError, r"\(N, 1\)"),
        (lambda: dg.check_homogeneity(_two_units(), 2.0, x=[[1.0, 2.0]]), ValueError, "`x`"),
        (lambda: dg.activation_sparsity(nn.Linear(1, 1), [[0.0]]), ValueError, "must contain"),
        (lambda: dg.gradient_flow(nn.ReLU(), [[0.0]], [0.0]), ValueError, "nn.Linear"),
        (lambda: dg.gradient_flow(_two_units(), [[0.0]], [0.0, 1.0]), ValueError, "same number"),
        (lambda: dg.gradient_flow(_two_units(), [[0.0]], [[0.0, 1.0]]), ValueError, "shape"),
        (lambda: dg.gradient_flow(_two_units(), [[0.0]], [0.0], loss="l2"), ValueError, "`loss`"),
        (lambda: dg.BiasWarming(_two_units(), gamma=0.0), ValueError, "`gamma` must be > 0"),
        (lambda: dg.BiasWarming(_two_units(), gamma=math.inf), ValueError, "finite"),
        (lambda: dg.BiasWarming(_two_units(), steps=0), ValueError, "`steps` must be >= 1"),
        (lambda: dg.BiasWarming(_two_units(), steps=2.5), TypeError, "`steps`"),
        (lambda: dg.BiasWarming(_two_units(), schedule="exp"), ValueError, "`schedule`"),
        (lambda: dg.BiasWarming(_tanh_net()), ValueError, "ReLU, LeakyReLU or PReLU"),
        (lambda: dg.BiasWarming(3), TypeError, "`net`"),
        (lambda: dg.check_homogeneity(_two_units(), -1.0), ValueError, "`a` must be > 0; got -1.0"),
        (lambda: dg.check_homogeneity(_two_units(), 0), ValueError, "`a` must be > 0"),
        (lambda: dg.check_homogeneity(_two_units(), math.nan), ValueError, "`a` must be finite"),
        (lambda: dg.check_homogeneity(_two_units(), "2"), TypeError, "`a` must be a real"),
        (lambda: dg.check_homogeneity(_tanh_net(), 2.0), ValueError, "Tanh"),
        (
            lambda: dg.check_homogeneity(nn.Sequential(nn.Linear(1, 1), nn.Hardtanh()), 2.0),
            ValueError,
            "Hardtanh",
        ),
        (
            lambda: dg.check_homogeneity(nn.Sequential(nn.Linear(1, 1), nn.Dropout(0.5)), 2.0),
            ValueError,
            "Dropout",
        ),
        (lambda: dg.check_homogeneity(nn.Sequential(nn.ReLU()), 2.0), ValueError, "nn.Linear"),
        (lambda: dg.check_homogeneity(_two_units(), 2.0, n=0), ValueError, "`n` must be >= 1"),
        (lambda: dg.check_homogeneity(_two_units(), 2.0, seed=-1), ValueError, "`seed`"),
        (lambda: dg.expected_activation("swish"), ValueError, "`name` must be one of"),
        (lambda: dg.expected_activation("relu", moment=0), ValueError, "`moment` must be >= 1"),
        (lambda: dg.expected_activation("relu", moment=1.5), TypeError, "`moment`"),
        (lambda: dg.expected_activation("relu", moment=True), TypeError, "`moment`"),
    ],
)
def test_bad_input_raises_naming_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---------------------------------------------------------------- dtypes and devices
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="CUDA is not available"))]  # fmt: skip


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_tools_follow_the_nets_dtype_and_device(dtype, device):
    net = make_mlp(2, (8, 8), 1, dtype=dtype, device=device, seed=8)
    x = np.random.default_rng(1).standard_normal((64, 2))
    ref = dg.dead_units(make_mlp(2, (8, 8), 1, dtype=F64, seed=8), x)
    table = dg.dead_units(net, x)
    assert (table["dead"] == ref["dead"]).all()  # no pre-activation within rounding of 0 here
    flow = dg.gradient_flow(net, x, x.sum(1))
    assert np.isfinite(flow["weight_grad_norm"]).all()
    for m in net[::2]:
        m.bias = None
    eps = torch.finfo(dtype).eps
    assert dg.check_homogeneity(net, 3.0) <= 50 * eps
    with dg.BiasWarming(net, gamma=1.0), torch.no_grad():
        assert net(torch.zeros(1, 2, dtype=dtype, device=device)).device.type == device
