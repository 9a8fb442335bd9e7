"""spline_to_relu / relu_to_spline / rounding_bound / evaluate against independent references."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from scipy.interpolate import PPoly, make_interp_spline
from torch import nn

from pwlmodels import (
    PiecewiseLinear,
    PrecisionWarning,
    evaluate,
    relu_to_spline,
    rounding_bound,
    spline_to_relu,
)

from ._helpers import (
    DEVICES,
    EPS,
    random_spline,
    record_error,
    reference,
    sample_points,
    splines,
)

DTYPES = {"float64": torch.float64, "float32": torch.float32}


def quiet_relu(f, **kw) -> nn.Sequential:
    """spline_to_relu with the PrecisionWarning checked, not silenced.

    The warning must come exactly when the relative bound over the knots
    exceeds the documented threshold.
    """
    dtype = kw.get("dtype", torch.float64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net = spline_to_relu(f, **kw)
    t = f.knots
    x = np.concatenate([t, t[:-1] + np.diff(t) / 2])
    opts = {k: kw[k] for k in ("form", "width") if k in kw}
    rel = np.max(rounding_bound(f, x, dtype=dtype, **opts)) / max(np.max(np.abs(f.values)), 1e-300)
    threshold = 1e-10 if dtype == torch.float64 else 1e-3
    warned = any(issubclass(w.category, PrecisionWarning) for w in caught)
    assert warned == (rel > threshold), (rel, warned)
    return net


def check_exact(f, net, x, *, form, dtype_name, data="random") -> float:
    """max |net - reference| / bound <= 1; record the figures; return the ratio."""
    dtype = DTYPES[dtype_name]
    xd = x.astype(np.float32).astype(np.float64) if dtype == torch.float32 else x
    width = "min"
    got = evaluate(net, xd).astype(np.float64)
    ref = reference(f, xd)
    err = np.abs(got.astype(np.longdouble) - ref).astype(np.float64)
    bound = rounding_bound(f, xd, dtype=dtype, form=form, width=width)
    assert np.all(err[bound == 0] == 0)
    ratio = float(np.max(err / np.where(bound > 0, bound, 1.0)))
    inside = (xd >= f.knots[0]) & (xd <= f.knots[-1])  # relative error over the knot range
    scale = float(np.max(np.abs(f.values))) or 1.0
    record_error(form, dtype_name, ratio, float(np.max(err[inside], initial=0.0)) / scale, data)
    assert ratio <= 1.0
    return ratio


# ------------------------------------------------------------------ exactness
@pytest.mark.parametrize("dtype_name", ["float64", "float32"])
@pytest.mark.parametrize("k", [1, 2, 3, 10, 100, 1000])
@pytest.mark.parametrize("ends", ["linear", "constant"])
@pytest.mark.parametrize("width", ["min", "stable"])
def test_hinge_network_is_within_rounding_bound(dtype_name, k, ends, width):
    rng = np.random.default_rng(k)
    f = random_spline(rng, k, ends=ends)
    net = quiet_relu(f, dtype=DTYPES[dtype_name], width=width)
    x = sample_points(f, rng)
    if width == "min":
        check_exact(f, net, x, form="hinge", dtype_name=dtype_name)
    else:  # the stable facing has its own bound
        dtype = DTYPES[dtype_name]
        xd = x.astype(np.float32).astype(np.float64) if dtype == torch.float32 else x
        err = np.abs(evaluate(net, xd) - reference(f, xd)).astype(np.float64)
        assert np.all(err <= rounding_bound(f, xd, dtype=dtype, width="stable"))


@pytest.mark.parametrize("dtype_name", ["float64", "float32"])
@pytest.mark.parametrize("k", [1, 2, 10, 100, 1000])
def test_ramp_network_is_within_rounding_bound(dtype_name, k):
    rng = np.random.default_rng(100 + k)
    f = random_spline(rng, k, ends="constant")
    net = quiet_relu(f, form="ramp", dtype=DTYPES[dtype_name])
    check_exact(f, net, sample_points(f, rng), form="ramp", dtype_name=dtype_name)


def test_reference_agrees_with_numpy_interp_and_ppoly():
    rng = np.random.default_rng(7)
    f = random_spline(rng, 50, ends="constant")
    x = sample_points(f, rng)
    np.testing.assert_allclose(
        reference(f, x).astype(float), np.interp(x, f.knots, f.values), rtol=1e-14, atol=1e-14
    )
    g = random_spline(rng, 50)
    pp = PPoly.from_spline(make_interp_spline(g.knots, g.values, k=1))
    np.testing.assert_allclose(reference(g, x).astype(float), pp(x), rtol=1e-13, atol=1e-12)


def test_sine_is_converted_to_about_1e14_at_every_size():
    for k in (10, 100, 1000):
        f = PiecewiseLinear.interpolate(np.sin, 0.0, 2 * np.pi, n=k)
        net = quiet_relu(f)
        x = np.linspace(0.0, 2 * np.pi, 20001)
        err = np.max(np.abs(evaluate(net, x) - reference(f, x).astype(float)))
        assert err < 1e-13
        check_exact(f, net, x, form="hinge", dtype_name="float64")


@pytest.mark.parametrize("device", DEVICES)
def test_network_dtype_device_and_shape(device):
    f = PiecewiseLinear([0.0, 1.0, 2.0], [0.0, 1.0, 0.0])
    for dtype in (torch.float64, torch.float32):
        net = spline_to_relu(f, dtype=dtype, device=device)
        x = torch.zeros(4, 3, 1, dtype=dtype, device=device)
        y = net(x)
        assert y.shape == (4, 3, 1) and y.dtype == dtype and y.device.type == device


# ---------------------------------------------------------- adversarial splines
ADVERSARIAL = {
    "tiny_spacing": lambda rng: PiecewiseLinear(
        np.cumsum(np.full(200, 1e-9)), rng.normal(size=200)
    ),
    "huge_spacing": lambda rng: PiecewiseLinear(np.cumsum(np.full(50, 1e6)), rng.normal(size=50)),
    "mixed_spacing": lambda rng: PiecewiseLinear(
        np.cumsum(10.0 ** rng.uniform(-9, 6, 300)), rng.normal(size=300)
    ),
    "huge_values": lambda rng: PiecewiseLinear(np.arange(100.0), 1e12 * rng.normal(size=100)),
    "huge_values_tiny_spacing": lambda rng: PiecewiseLinear(
        np.cumsum(np.full(100, 1e-9)), 1e12 * rng.normal(size=100)
    ),
    "one_knot": lambda rng: PiecewiseLinear([3.0], [1.0], left_slope=-2.0, right_slope=5.0),
    "collinear": lambda rng: PiecewiseLinear(
        np.linspace(0, 1, 101), 3 * np.linspace(0, 1, 101) + 1
    ),
    "nearly_cancelling": lambda rng: PiecewiseLinear(
        np.arange(40.0), np.cumsum(np.cumsum(np.tile([1.0, -1.0 + 1e-13], 20)))
    ),
    "many_knots": lambda rng: PiecewiseLinear(
        np.cumsum(rng.uniform(0.5, 1.5, 100_000)), np.sin(np.arange(100_000) / 50.0)
    ),
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
@pytest.mark.parametrize("form", ["hinge", "ramp"])
@pytest.mark.parametrize("dtype_name", ["float64", "float32"])
def test_adversarial_splines_stay_within_bound_and_warn(name, form, dtype_name):
    rng = np.random.default_rng(3)
    f = ADVERSARIAL[name](rng)
    if form == "ramp":
        f = PiecewiseLinear(f.knots, f.values, left_slope=0.0, right_slope=0.0)
    net = quiet_relu(f, form=form, dtype=DTYPES[dtype_name])
    x = sample_points(f, rng, n=500 if f.knots.size > 10_000 else 2000)
    if f.knots.size > 10_000:  # keep the (N x H) evaluation small
        x = np.concatenate([x[:: max(1, x.size // 300)], x[-80:]])
    check_exact(f, net, x, form=form, dtype_name=dtype_name, data="adversarial")


# ----------------------------------------------------------------- width rule
def brute_force_width(a: np.ndarray, right: float) -> int:
    """Fewest units over all 2^m facings: m if a subset reproduces the right slope."""
    m = a.size
    tol = 4 * m * EPS * np.sum(np.abs(a))
    for r in itertools.product([False, True], repeat=m):
        if abs(math.fsum(a[np.array(r, dtype=bool)]) - right) <= tol:
            return m
    return m + 1


@pytest.mark.parametrize("seed", range(40))
def test_width_equals_brute_force_minimum(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 13))
    t = np.sort(rng.choice(np.arange(-50.0, 50.0), m, replace=False))
    a = rng.integers(-3, 4, m).astype(float)
    a[a == 0] = 1.0
    left = float(rng.integers(-3, 4)) if seed % 3 else float(rng.normal())
    f = PiecewiseLinear(t, np.zeros(m), left_slope=0.0, right_slope=0.0)
    # build the spline with these slope changes and left slope
    slopes = left + np.concatenate([[0.0], np.cumsum(a)])
    values = np.concatenate([[0.0], np.cumsum(slopes[1:-1] * np.diff(t))])
    f = PiecewiseLinear(t, values, left_slope=left, right_slope=float(slopes[-1]))
    a_true = f.slope_changes[f.slope_changes != 0]
    h = quiet_relu(f)[0].out_features
    assert h == brute_force_width(a_true, f.right_slope)
    assert h in (a_true.size, a_true.size + 1)


def test_width_of_constant_and_line():
    assert spline_to_relu(PiecewiseLinear([1.0, 2.0], [3.0, 3.0]))[0].out_features == 1
    assert spline_to_relu(PiecewiseLinear([1.0, 2.0], [3.0, 5.0]))[0].out_features == 2
    assert (
        spline_to_relu(PiecewiseLinear([1.0], [3.0], left_slope=2.0, right_slope=2.0))[
            0
        ].out_features
        == 2
    )


def test_width_is_m_when_an_end_slope_is_zero():
    rng = np.random.default_rng(0)
    for k in (5, 50, 500):
        f = random_spline(rng, k)
        g = PiecewiseLinear(f.knots, f.values, left_slope=0.0)
        h = PiecewiseLinear(f.knots, f.values, right_slope=0.0)
        for s in (g, h):
            m = int(np.count_nonzero(s.slope_changes))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PrecisionWarning)
                assert spline_to_relu(s)[0].out_features == m


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize("k", [1, 2, 5, 50, 500])
@pytest.mark.parametrize("width", ["min", "stable"])
def test_round_trip_spline_net_spline_keeps_knots(k, width):
    rng = np.random.default_rng(k)
    f = random_spline(rng, k)
    net = quiet_relu(f, width=width)
    g = relu_to_spline(net)
    np.testing.assert_array_equal(g.knots, f.simplify().knots)
    x = np.concatenate([g.knots, sample_points(f, rng, 200)])
    err = np.abs(g(x) - reference(f, x).astype(float))
    assert np.all(err <= rounding_bound(f, x, width=width))


def test_round_trip_of_collinear_and_constant_data():
    line = PiecewiseLinear([0.0, 1.0, 2.0], [1.0, 3.0, 5.0])
    assert relu_to_spline(spline_to_relu(line)) == line.simplify()
    const = PiecewiseLinear([0.0, 1.0], [4.0, 4.0])
    assert relu_to_spline(spline_to_relu(const)) == const.simplify()


@pytest.mark.parametrize("seed", range(20))
def test_round_trip_on_random_data_is_allclose_though_not_always_equal(seed):
    """The documented advice: == is bit-for-bit and fails by a few ulps on ordinary data;
    allclose, with an atol scaled to max|f| for values near zero, holds."""
    rng = np.random.default_rng(seed)
    f = PiecewiseLinear(np.cumsum(rng.uniform(0.5, 1.5, 12)), rng.normal(size=12))
    g, h = relu_to_spline(quiet_relu(f)), f.simplify()
    np.testing.assert_array_equal(g.knots, h.knots)  # weights of +-1: knots read back exactly
    assert g.allclose(h, atol=1e-12 * np.abs(f.values).max())
    ulps = np.abs(g.values - h.values) / np.spacing(np.abs(h.values).max())
    assert ulps.max() <= 64
    if seed == 0:  # the docs' example: == fails, by a few ulps
        assert g != h and ulps.max() >= 1


def test_round_trip_of_ramp_form():
    f = PiecewiseLinear(
        [0.0, 1.0, 3.0, 4.0], [1.0, -1.0, 2.0, 2.5], left_slope=0.0, right_slope=0.0
    )
    g = relu_to_spline(spline_to_relu(f, form="ramp"))
    np.testing.assert_allclose(g.knots, f.knots, rtol=1e-15)
    np.testing.assert_allclose(g.values, f.values, rtol=1e-14, atol=1e-15)


def random_net(rng: np.random.Generator, depth: int, width: int, act: str) -> nn.Sequential:
    torch.manual_seed(int(rng.integers(2**31)))
    acts = {
        "relu": nn.ReLU,
        "leaky_small": lambda: nn.LeakyReLU(0.1),
        "leaky_large": lambda: nn.LeakyReLU(3.0),
        "hardtanh": lambda: nn.Hardtanh(-0.5, 0.8),
        "prelu": lambda: nn.PReLU(width, init=0.3),
        "relu6": nn.ReLU6,
    }
    layers: list[nn.Module] = []
    n_in = 1
    for _ in range(depth):
        layers += [nn.Linear(n_in, width), acts[act]()]
        n_in = width
    layers.append(nn.Linear(n_in, 1))
    return nn.Sequential(*layers).double()


@pytest.mark.parametrize(
    "act", ["relu", "leaky_small", "leaky_large", "hardtanh", "prelu", "relu6"]
)
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_round_trip_net_spline_net_agrees_with_random_deep_nets(act, depth):
    rng = np.random.default_rng(depth * 10 + len(act))
    width = int(rng.choice([1, 4, 16, 32]))
    net = random_net(rng, depth, width, act)
    g = relu_to_spline(net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrecisionWarning)
        back = spline_to_relu(g)
    t = g.knots
    lo, hi = (t[0] - 1.0, t[-1] + 1.0) if t.size > 1 else (-5.0, 5.0)
    x = np.concatenate([t, t[:-1] + np.diff(t) / 2, rng.uniform(lo, hi, 10_000)])
    y = evaluate(net, x)
    scale = 1.0 + np.max(np.abs(y))
    np.testing.assert_allclose(g(x), y, rtol=0, atol=1e-11 * scale)
    np.testing.assert_allclose(evaluate(back, x), y, rtol=0, atol=1e-11 * scale)


def test_relu_to_spline_kinks_are_where_the_dense_slope_changes():
    rng = np.random.default_rng(5)
    net = random_net(rng, 3, 8, "relu")
    g = relu_to_spline(net)
    x = np.linspace(g.knots[0] - 1, g.knots[-1] + 1, 200_001)
    y = evaluate(net, x)
    slope = np.diff(y) / np.diff(x)
    jumps = np.abs(np.diff(slope)) > 1e-6 * (1 + np.max(np.abs(slope)))
    # every dense slope jump lies within one grid step of a knot
    near = np.min(np.abs(x[1:-1][jumps][:, None] - g.knots[None, :]), axis=1)
    assert np.all(near <= 2 * (x[1] - x[0]))


def test_relu_to_spline_handles_batchnorm_dropout_identity_flatten_nested():
    torch.manual_seed(0)
    inner = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU6())
    net = nn.Sequential(
        nn.Flatten(),
        nn.Linear(1, 6),
        nn.Dropout(0.5),
        nn.LeakyReLU(0.2),
        inner,
        nn.Identity(),
        nn.Linear(5, 1, bias=False),
    ).double()
    net[4][1].running_mean.uniform_(-1, 1)
    net[4][1].running_var.uniform_(0.5, 2)
    net.eval()
    g = relu_to_spline(net)
    x = np.linspace(-20, 20, 4001)
    np.testing.assert_allclose(g(x), evaluate(net, x), rtol=1e-12, atol=1e-12)


def test_relu_to_spline_restricts_to_a_line():
    torch.manual_seed(1)
    net = nn.Sequential(
        nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1)
    ).double()
    origin, direction = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.5, -0.25])
    g = relu_to_spline(net, origin=origin, direction=direction)
    s = np.linspace(-10, 10, 5001)
    y = evaluate(net, origin + s[:, None] * direction)
    np.testing.assert_allclose(g(s), y, rtol=1e-12, atol=1e-12)


def test_relu_to_spline_of_float32_net_is_the_function_of_its_weights():
    torch.manual_seed(2)
    net = nn.Sequential(nn.Linear(1, 32), nn.ReLU(), nn.Linear(32, 1))  # float32
    g = relu_to_spline(net)
    net64 = net.double()
    x = np.linspace(-4, 4, 1001)
    np.testing.assert_allclose(g(x), evaluate(net64, x), rtol=1e-13, atol=1e-13)


def test_max_pieces_guard_counts_pieces():
    torch.manual_seed(3)
    net = nn.Sequential(
        nn.Linear(1, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1)
    ).double()
    g = relu_to_spline(net)
    assert relu_to_spline(net, max_pieces=10**6) == g
    with pytest.raises(ValueError, match="max_pieces"):
        relu_to_spline(net, max_pieces=5)


# ------------------------------------------------------------------ gradients
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype_name", ["float64", "float32"])
def test_autograd_equals_slope_away_from_knots(device, dtype_name):
    rng = np.random.default_rng(11)
    f = random_spline(rng, 20)
    dtype = DTYPES[dtype_name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrecisionWarning)
        net = spline_to_relu(f, dtype=dtype, device=device)
    x = rng.uniform(f.knots[0] - 5, f.knots[-1] + 5, 500)
    gap = np.min(np.abs(x[:, None] - f.knots[None, :]), axis=1)
    x = x[gap > 1e-3]
    xt = torch.tensor(x[:, None], dtype=dtype, device=device, requires_grad=True)
    net(xt).sum().backward()
    grad = xt.grad[:, 0].cpu().numpy().astype(float)
    a = net[2].weight.detach().cpu().numpy().astype(float)
    u = 2.0**-53 if dtype == torch.float64 else 2.0**-24
    tol = 4 * a.size * u * np.sum(np.abs(a)) + 4 * u * np.max(np.abs(f.slopes))
    assert np.all(np.abs(grad - f.slope(x)) <= tol)


def test_to_torch_matches_call_and_slope():
    rng = np.random.default_rng(12)
    f = random_spline(rng, 30)
    mod = f.to_torch()
    x = sample_points(f, rng, 500)
    xt = torch.tensor(x, requires_grad=True)
    y = mod(xt)
    np.testing.assert_allclose(y.detach().numpy(), f(x), rtol=1e-14, atol=1e-12)
    y.sum().backward()
    np.testing.assert_array_equal(xt.grad.numpy(), f.slope(x))


# ------------------------------------------------------------------ ridge form
def test_ridge_function_on_several_inputs():
    rng = np.random.default_rng(13)
    f = random_spline(rng, 12)
    w, b = np.array([0.5, -2.0, 1.0]), 0.25
    net = spline_to_relu(f, weight=w, bias=b)
    x = rng.normal(size=(2000, 3)) * 4
    z = x @ w + b
    err = np.abs(evaluate(net, x) - reference(f, z).astype(float))
    assert np.all(err <= rounding_bound(f, x, weight=w, bias=b))


# --------------------------------------------------------------- input forms
def test_accepts_points_and_scipy_objects():
    x, y = [0.0, 1.0, 2.0], [0.0, 2.0, 1.0]
    f = PiecewiseLinear.from_points(x, y)
    ref = evaluate(spline_to_relu(f), np.linspace(-3, 3, 13))
    for obj in ((x, y), f.to_ppoly(), make_interp_spline(x, y, k=1)):
        np.testing.assert_allclose(
            evaluate(spline_to_relu(obj), np.linspace(-3, 3, 13)), ref, rtol=1e-14, atol=1e-14
        )


@given(splines(max_knots=12))
@settings(max_examples=200, deadline=None)
def test_round_trip_property_knots_exact_values_within_bound(f):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrecisionWarning)
        net = spline_to_relu(f)
    g = relu_to_spline(net)
    np.testing.assert_array_equal(g.knots, f.simplify().knots)
    x = np.concatenate(
        [
            g.knots,
            f.knots,
            f.knots[:-1] + np.diff(f.knots) / 2,
            [f.knots[0] - 1e3, f.knots[-1] + 1e3],
        ]
    )
    err = np.abs(g(x) - reference(f, x).astype(float))
    assert np.all(err <= rounding_bound(f, x))
    err_net = np.abs(evaluate(net, x) - reference(f, x).astype(float))
    assert np.all(err_net <= rounding_bound(f, x))


@pytest.mark.parametrize(
    ("dtype", "ends", "advice"),
    [
        (torch.float32, None, r"; use dtype=torch\.float64 \("),
        (torch.float64, None, r"float64 is already in use; try width='stable' .*, or fewer knots"),
        (torch.float64, 0.0, r"float64 is already in use; try form='ramp' .*, or width='stable'"),
    ],
)
def test_the_precision_warning_gives_advice_that_fits_the_dtype(dtype, ends, advice):
    n = 200  # a zigzag: the hinge sum's bound grows with the knots
    f = PiecewiseLinear(
        np.arange(n, dtype=float), np.arange(n) % 2.0, left_slope=ends, right_slope=ends
    )
    with pytest.warns(PrecisionWarning, match=advice) as caught:
        spline_to_relu(f, dtype=dtype)
    message = str(caught[0].message)
    assert ("consider float64" not in message) and (
        ("float64 is already in use" in message) == (dtype == torch.float64)
    )
    if dtype == torch.float64 and ends is None:  # end slopes not 0: the ramp form cannot help
        assert "ramp" not in message
