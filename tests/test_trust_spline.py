"""Trust in evaluation: PiecewiseLinear.__call__ and to_torch against exact rational arithmetic.

The reference is fractions.Fraction: the spline of the stored knots, values
and end slopes in real arithmetic, located and evaluated with no float
operation. The bound checked is the one stated in ``PiecewiseLinear.__call__``:
``2 u |y| + 6 u |s| |d| + eta (1 + |d|)``, ``d`` the distance to the nearer knot.
Also here: float32 range errors, argument shapes and sizes, and devices.
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pwlmodels import PiecewiseLinear, evaluate, rounding_bound, spline_to_relu
from pwlmodels.nets import resolve_device
from pwlmodels.relu import PrecisionWarning

from ._helpers import CUDA, DEVICES

U64, ETA64 = 2.0**-53, 2.0**-1074
U32, ETA32 = 2.0**-24, 2.0**-149
STEEP_KNOTS = [0.4536111451758895, 0.4616305669599977]
STEEP_VALUES = [269396315057.2506, 81.18337814406866]


# ------------------------------------------------------------------ references
def exact_value(t, v, left: float, right: float, x: float) -> Fraction:
    """The spline through (t_i, v_i) with end slopes left, right, at x, in rationals."""
    q = Fraction(x)
    tq = [Fraction(float(ti)) for ti in t]
    vq = [Fraction(float(vi)) for vi in v]
    if q <= tq[0]:
        return vq[0] + Fraction(left) * (q - tq[0])
    if q >= tq[-1]:
        return vq[-1] + Fraction(right) * (q - tq[-1])
    i = max(j for j in range(len(tq) - 1) if tq[j] <= q)
    return vq[i] + (vq[i + 1] - vq[i]) / (tq[i + 1] - tq[i]) * (q - tq[i])


def stated_bound(y: float, t, slopes, x: float, dtype=np.float64) -> Fraction:
    """``2u|y| + 6u|s||d| + eta(1 + |d|)`` for the piece of x and its nearer knot."""
    u, eta = (U64, ETA64) if dtype == np.float64 else (U32, ETA32)
    q = Fraction(x)
    k = int(np.searchsorted(np.asarray(t, dtype=np.float64), x, side="right"))
    lo, hi = max(k - 1, 0), min(k, len(t) - 1)
    near = hi if abs(q - Fraction(float(t[hi]))) < abs(q - Fraction(float(t[lo]))) else lo
    d = abs(float(dtype(dtype(x) - dtype(t[near]))))
    s = abs(float(slopes[k]))
    return (
        Fraction(2 * u) * abs(Fraction(float(y)))
        + Fraction(6 * u) * Fraction(s) * Fraction(d)
        + Fraction(eta) * (1 + Fraction(d))
    )


def probe_points(t: np.ndarray, rng: np.random.Generator, n: int = 6) -> np.ndarray:
    """Knots, their float64 neighbours, midpoints, random points and far outside."""
    t = np.asarray(t, dtype=np.float64)
    span = float(t[-1] - t[0]) or 1.0
    return np.concatenate(
        [
            t,
            np.nextafter(t, -np.inf),
            np.nextafter(t, np.inf),
            t[:-1] + np.diff(t) / 2,
            rng.uniform(t[0] - span, t[-1] + span, n),
            [t[0] - 1e6 * span, t[-1] + 1e6 * span],
        ]
    )


def check_against_exact(f: PiecewiseLinear, x: np.ndarray) -> float:
    """Assert |f(x) - exact| <= stated bound at every x; return the worst error / bound."""
    y = f(x)
    worst = 0.0
    for xi, yi in zip(x, y, strict=True):
        ex = exact_value(f.knots, f.values, f.left_slope, f.right_slope, float(xi))
        err = abs(Fraction(float(yi)) - ex)
        bound = stated_bound(float(yi), f.knots, f.slopes, float(xi))
        assert err <= bound, (float(xi), float(err), float(bound))
        worst = max(worst, float(err / bound))
    return worst


@st.composite
def steep_three_knot_splines(draw) -> PiecewiseLinear:
    """Three knots, gaps from 1e-9 to 1, values from 1e-3 to 1e12 in magnitude: steep pieces."""
    start = draw(st.floats(-1.0, 1.0))
    gaps = draw(st.lists(st.floats(1e-9, 1.0), min_size=2, max_size=2))
    t = start + np.concatenate([[0.0], np.cumsum(gaps)])
    mags = draw(st.lists(st.floats(-3.0, 12.0), min_size=3, max_size=3))
    signs = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=3, max_size=3))
    v = [s * 10.0**m for s, m in zip(signs, mags, strict=True)]
    return PiecewiseLinear(t, v)


def random_three_knot_spline(rng: np.random.Generator) -> PiecewiseLinear:
    t = np.sort(rng.uniform(0.0, 1.0, 3))
    v = rng.choice([-1.0, 1.0], 3) * 10.0 ** rng.uniform(-3.0, 12.0, 3)
    return PiecewiseLinear(t, v)


# ---------------------------------------------------------- __call__ is exact
def test_call_on_the_issue_example_is_within_one_ulp_where_numpy_interp_is_not():
    f = PiecewiseLinear(STEEP_KNOTS, STEEP_VALUES)
    x = 0.46163056695999766  # one ulp left of the right knot
    ex = exact_value(f.knots, f.values, f.left_slope, f.right_slope, x)
    err = abs(Fraction(float(f(x))) - ex)
    assert err <= Fraction(U64) * abs(ex)
    interp_err = abs(Fraction(float(np.interp(x, f.knots, f.values))) - ex)
    assert interp_err > stated_bound(float(f(x)), f.knots, f.slopes, x)  # the old formula


def test_call_is_within_the_stated_bound_on_3000_random_steep_splines():
    rng = np.random.default_rng(18)
    worst = max(
        check_against_exact(f, probe_points(f.knots, rng, n=2))
        for f in (random_three_knot_spline(rng) for _ in range(3000))
    )
    assert worst <= 1.0


@given(steep_three_knot_splines(), st.floats(-2.0, 3.0))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_call_is_within_the_stated_bound_property(f, x):
    rng = np.random.default_rng(0)
    check_against_exact(f, np.concatenate([[x], probe_points(f.knots, rng, n=1)]))


@pytest.mark.parametrize("k", [1, 2, 50])
def test_call_at_the_knots_returns_the_stored_values_exactly(k):
    rng = np.random.default_rng(k)
    t = np.cumsum(rng.uniform(1e-6, 1.0, k))
    f = PiecewiseLinear(t, rng.normal(size=k) * 1e9, left_slope=3.0, right_slope=-7.0)
    np.testing.assert_array_equal(f(f.knots), f.values)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_knots_one_ulp_apart_are_each_evaluated_exactly(dtype):
    npdt = np.float64 if dtype == torch.float64 else np.float32
    t0 = npdt(1.0)
    t = np.array([t0, np.nextafter(t0, npdt(2)), np.nextafter(np.nextafter(t0, npdt(2)), npdt(2))])
    f = PiecewiseLinear(t.astype(np.float64), [0.1, -5.3, 7.7])
    np.testing.assert_array_equal(f(f.knots), f.values)
    y = f.to_torch(dtype=dtype)(torch.as_tensor(t)).numpy()
    np.testing.assert_array_equal(y, f.values.astype(npdt))


def test_to_torch_state_dict_holds_only_knots_values_and_slopes():
    mod = PiecewiseLinear([0.0, 1.0, 2.0], [0.0, 1.0, 0.0]).to_torch()
    assert sorted(mod.state_dict()) == ["knots", "slopes", "values"]


def test_extrapolation_pieces_are_within_the_stated_bound():
    rng = np.random.default_rng(5)
    f = PiecewiseLinear([0.1, 0.3], [1e10, -2.0], left_slope=1e12, right_slope=-3e-5)
    x = np.concatenate([-(10.0 ** rng.uniform(-3, 8, 200)), 0.3 + 10.0 ** rng.uniform(-3, 8, 200)])
    check_against_exact(f, x)


# ------------------------------------------------- the README's check holds
def test_readme_check_holds_on_3000_random_steep_splines():
    rng = np.random.default_rng(491)
    for _ in range(3000):
        f = random_three_knot_spline(rng)
        x = probe_points(f.knots, rng, n=4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PrecisionWarning)
            net = spline_to_relu(f)
        assert np.all(np.abs(evaluate(net, x) - f(x)) <= rounding_bound(f, x))


@given(steep_three_knot_splines())
@settings(max_examples=200, deadline=None)
def test_readme_check_and_the_exact_side_hold_property(f):
    x = probe_points(f.knots, np.random.default_rng(1), n=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrecisionWarning)
        net = spline_to_relu(f)
    got, bound = evaluate(net, x), rounding_bound(f, x)
    assert np.all(np.abs(got - f(x)) <= bound)
    for xi, gi, bi in zip(x, got, bound, strict=True):
        ex = exact_value(f.knots, f.values, f.left_slope, f.right_slope, float(xi))
        assert abs(Fraction(float(gi)) - ex) <= Fraction(float(bi))


# ------------------------------------------------------------- to_torch
def float32_data(f: PiecewiseLinear):
    """Knots, values, end slopes rounded to float32: what the float32 module evaluates."""
    t = f.knots.astype(np.float32).astype(np.float64)
    v = f.values.astype(np.float32).astype(np.float64)
    ends = np.float32([f.left_slope, f.right_slope]).astype(np.float64)
    return t, v, float(ends[0]), float(ends[1])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_to_torch_is_within_the_stated_bound_of_its_dtype(device, dtype):
    rng = np.random.default_rng(7)
    npdt = np.float64 if dtype == torch.float64 else np.float32
    worst = 0.0
    for _ in range(300):
        f = random_three_knot_spline(rng)
        mod = f.to_torch(dtype=dtype, device=device)
        x = probe_points(f.knots, rng, n=3).astype(npdt)  # inputs the module can hold
        y = mod(torch.as_tensor(x, device=device)).cpu().numpy()
        assert y.dtype == npdt
        t, v, left, right = (
            float32_data(f)
            if npdt == np.float32
            else (
                f.knots,
                f.values,
                f.left_slope,
                f.right_slope,
            )
        )
        slopes = mod.slopes.cpu().numpy()
        for xi, yi in zip(x.astype(np.float64), y.astype(np.float64), strict=True):
            ex = exact_value(t, v, left, right, float(xi))
            bound = stated_bound(float(yi), t, slopes, float(xi), dtype=npdt)
            err = abs(Fraction(float(yi)) - ex)
            assert err <= bound, (float(xi), float(err), float(bound))
            worst = max(worst, float(err / bound))
    assert worst <= 1.0


def test_to_torch_float64_agrees_with_call_and_its_gradient_is_the_right_slope():
    rng = np.random.default_rng(8)
    f = PiecewiseLinear(np.cumsum(rng.uniform(1e-3, 1.0, 40)), rng.normal(size=40) * 1e6)
    x = probe_points(f.knots, rng, n=200)
    xt = torch.tensor(x, requires_grad=True)
    y = f.to_torch()(xt)
    np.testing.assert_array_equal(y.detach().numpy(), f(x))  # the same formula, bit for bit
    y.sum().backward()
    np.testing.assert_array_equal(xt.grad.numpy(), f.slope(x))


# ------------------------------------------------------------ float32 range
HUGE = PiecewiseLinear([0.0, 1.0], [0.0, 1e40])
TINY = PiecewiseLinear([0.0, 1.0, 2.0], [1.0, 1e-40, 1.0])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: spline_to_relu(HUGE, dtype=torch.float32),
            r"`spline` does not fit float32: .*1e\+40 overflows",
        ),
        (
            lambda: spline_to_relu(TINY, dtype=torch.float32, form="hinge"),
            r"`spline` does not fit float32: .*underflows",
        ),
        (
            lambda: rounding_bound(HUGE, [0.5], dtype=torch.float32),
            r"`spline` does not fit float32",
        ),
        (lambda: rounding_bound(TINY, [0.5], dtype=torch.float32), r"underflows float32"),
        (
            lambda: HUGE.to_torch(dtype=torch.float32),
            r"`spline` does not fit float32: values\[1\] = 1e\+40 overflows",
        ),
        (
            lambda: TINY.to_torch(dtype=torch.float32),
            r"`spline` does not fit float32: values\[1\] = 1e-40 underflows",
        ),
        (
            lambda: PiecewiseLinear([1.0, 1.0 + 1e-12], [0.0, 1.0]).to_torch(dtype=torch.float32),
            r"knots\[0\] = 1.0 and knots\[1\] = 1.000000000001 round to the same float32 1.0",
        ),
        (
            lambda: spline_to_relu(TINY * 1e30, weight=[1e-45, 1.0], bias=0.0, dtype=torch.float32),
            r"`weight` does not fit float32: the hidden weight\[0\] = -?1e-45 underflows",
        ),
    ],
    ids=[
        "relu-overflow",
        "relu-underflow",
        "bound-overflow",
        "bound-underflow",
        "torch-overflow",
        "torch-underflow",
        "torch-merged-knots",
        "ridge-weight",
    ],
)
def test_float32_out_of_range_is_a_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_float32_within_range_still_converts_and_float64_is_untouched():
    g = PiecewiseLinear([0.0, 1.0], [0.0, 1e30])
    assert spline_to_relu(g, dtype=torch.float32)[2].weight.dtype == torch.float32
    assert HUGE.to_torch()(torch.tensor([1.0], dtype=torch.float64)).item() == 1e40
    assert np.all(np.isfinite(rounding_bound(TINY, [0.5, 1.5])))


# ---------------------------------------------------- shapes, sizes, devices
@pytest.mark.parametrize("shape", [(4, 1), (2, 3), (2, 2, 2)])
def test_rounding_bound_rejects_arrays_that_are_not_1d(shape):
    f = PiecewiseLinear([0.0, 1.0], [0.0, 1.0])
    with pytest.raises(ValueError, match=r"`x` must be a scalar or 1-D \(shape \(N,\)\)"):
        rounding_bound(f, np.zeros(shape))


def test_rounding_bound_takes_scalars_and_vectors_as_documented():
    f = PiecewiseLinear([0.0, 1.0], [0.0, 1.0])
    assert rounding_bound(f, 0.5).shape == ()
    assert rounding_bound(f, [0.5, 2.0]).shape == (2,)
    assert rounding_bound(f, np.zeros((3, 2)), weight=[1.0, 2.0]).shape == (3,)


def test_interpolate_refuses_a_huge_n_up_front():
    with pytest.raises(ValueError, match=r"`n` must be at most `max_knots` = 100000; got 10{12}"):
        PiecewiseLinear.interpolate(np.sin, 0.0, 1.0, n=10**12)
    with pytest.raises(ValueError, match=r"`max_knots` must be at most 100000000"):
        PiecewiseLinear.interpolate(np.sin, 0.0, 1.0, n=10**12, max_knots=10**12)
    f = PiecewiseLinear.interpolate(np.sin, 0.0, 1.0, n=200_000, max_knots=200_000)
    assert f.knots.size == 200_000


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)


@pytest.fixture
def one_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


@pytest.mark.parametrize(
    "call",
    [
        lambda: spline_to_relu(PiecewiseLinear([0.0, 1.0], [0.0, 1.0]), device="cuda"),
        lambda: PiecewiseLinear([0.0, 1.0], [0.0, 1.0]).to_torch(device="cuda:0"),
    ],
    ids=["spline_to_relu", "to_torch"],
)
def test_cuda_without_cuda_is_a_value_error(no_cuda, call):
    with pytest.raises(ValueError, match=r"`device` is 'cuda(:0)?' but CUDA is not available"):
        call()


@pytest.mark.parametrize("device", ["cuda:999", "cuda:1", torch.device("cuda", 1), "cuda:256"])
def test_resolve_device_on_one_gpu_rejects_missing_indices(one_gpu, device):
    with pytest.raises(ValueError, match=r"`device` is 'cuda:\d+' but only 1 CUDA device"):
        resolve_device(device)


def test_resolve_device_on_one_gpu_accepts_its_device(one_gpu):
    assert resolve_device("cuda") == torch.device("cuda")
    assert resolve_device("cuda:0") == torch.device("cuda", 0)
    assert resolve_device("auto") == torch.device("cuda")


@pytest.mark.parametrize("device", ["cuda:-1", "cuda:x", "cuda:", "cpu:1", "cuda:0:0"])
def test_resolve_device_rejects_malformed_indices(device):
    with pytest.raises(ValueError, match=r"`device` must be None, 'auto', 'cpu' or 'cuda\[:N\]'"):
        resolve_device(device)


@pytest.mark.skipif(not CUDA, reason="no CUDA")
def test_resolve_device_on_this_machine_rejects_an_index_past_the_last():
    n = torch.cuda.device_count()
    with pytest.raises(ValueError, match=rf"`device` is 'cuda:{n}' but only {n} CUDA device"):
        resolve_device(f"cuda:{n}")


# --------------------------------------------------------- plain messages
def test_messages_print_numpy_scalars_plainly():
    f = PiecewiseLinear([0.0, 1.0], [0.0, 1.0])
    with pytest.raises(TypeError, match=r"got 1\.0$"):
        spline_to_relu(f, dtype=np.float64(1.0))
    with pytest.raises(ValueError, match=r"got 1000000000000$"):
        PiecewiseLinear.interpolate(
            np.sin, 0.0, 1.0, n=np.int64(10**12), max_knots=np.int64(10**12)
        )
