"""PiecewiseLinear against independent references: numpy.interp, scipy, quad, dense sampling."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.interpolate import PPoly, interp1d, make_interp_spline

from pwlmodels import PiecewiseLinear, compose, maximum, minimum

from ._helpers import assert_close_scaled, random_spline, reference, sample_points, splines

PROPERTY = settings(max_examples=150, deadline=None)
IDENTITY = PiecewiseLinear([0.0], [0.0], left_slope=1.0, right_slope=1.0)


def dense(f: PiecewiseLinear, *others: PiecewiseLinear, n: int = 2001) -> np.ndarray:
    """Points covering all knots with margin, plus the knots themselves."""
    t = np.concatenate([f.knots, *[g.knots for g in others]])
    lo, hi = t.min(), t.max()
    pad = 1.0 + (hi - lo)
    return np.concatenate([np.linspace(lo - pad, hi + pad, n), t])


# ------------------------------------------------------------------ evaluation
def test_call_matches_numpy_interp_inside_and_is_constant_outside():
    rng = np.random.default_rng(0)
    x, y = np.cumsum(rng.uniform(0.1, 1, 40)), rng.normal(size=40)
    f = PiecewiseLinear.from_points(x, y, extrapolate="constant")
    xs = sample_points(f, rng)
    assert_close_scaled(f(xs), np.interp(xs, x, y), [f], xs, ulps=4)
    outside = (xs <= x[0]) | (xs >= x[-1])
    np.testing.assert_array_equal(f(xs)[outside], np.interp(xs, x, y)[outside])
    np.testing.assert_array_equal(f(x), y)  # the knots give the stored values exactly


def test_call_matches_scipy_ppoly_with_linear_extrapolation():
    rng = np.random.default_rng(1)
    x, y = np.cumsum(rng.uniform(0.1, 1, 40)), rng.normal(size=40)
    f = PiecewiseLinear.from_points(x, y)
    pp = PPoly.from_spline(make_interp_spline(x, y, k=1))
    xs = sample_points(f, rng)
    assert_close_scaled(f(xs), pp(xs), [f], xs)


def test_call_keeps_shape_and_returns_scalars_for_scalars():
    f = PiecewiseLinear([0.0, 1.0], [0.0, 2.0])
    assert f(np.zeros((3, 4, 2))).shape == (3, 4, 2)
    y = f(0.5)
    assert isinstance(y, np.float64) and y == 1.0


@given(splines())
@PROPERTY
def test_call_agrees_with_extended_precision_reference(f):
    x = dense(f, n=301)
    assert_close_scaled(f(x), reference(f, x).astype(float), [f], x, ulps=8)


@given(splines())
@PROPERTY
def test_slope_is_the_one_sided_difference_quotient(f):
    x = dense(f, n=101)
    h = 1e-6 * (1 + np.abs(x))
    right = (reference(f, x + h) - reference(f, x)) / h
    left = (reference(f, x) - reference(f, x - h)) / h
    far = np.min(np.abs(x[:, None] - f.knots[None, :]), axis=1) > 2e-6 * (1 + np.abs(x))
    at_knot = np.isin(x, f.knots)
    for side, ref in (("right", right), ("left", left)):
        got = f.slope(x, side=side)
        check = far | at_knot
        np.testing.assert_allclose(got[check], ref[check].astype(float), rtol=1e-6, atol=1e-6)


def test_slopes_and_slope_changes():
    f = PiecewiseLinear([0.0, 1.0, 3.0], [0.0, 2.0, 1.0], left_slope=-1.0, right_slope=0.0)
    np.testing.assert_array_equal(f.slopes, [-1.0, 2.0, -0.5, 0.0])
    np.testing.assert_array_equal(f.slope_changes, [3.0, -2.5, 0.5])


# ------------------------------------------------------------------ semantics
def test_value_semantics_equality_hash_readonly_copy_pickle():
    f = PiecewiseLinear([0.0, 1.0], [1.0, 3.0])
    g = PiecewiseLinear(np.array([0.0, 1.0]), [1.0, 3.0], left_slope=2.0)
    assert f == g and hash(f) == hash(g) and len({f, g}) == 1
    assert f != PiecewiseLinear([0.0, 1.0], [1.0, 3.0], right_slope=0.0)
    for arr in (f.knots, f.values, f.slopes):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 5.0
    assert pickle.loads(pickle.dumps(f)) == f
    assert copy.deepcopy(f) == f
    assert f != "not a spline"


def test_allclose_uses_tolerances():
    f = PiecewiseLinear([0.0, 1.0], [1.0, 3.0])
    assert f.allclose(f * (1 + 1e-13))
    assert not f.allclose(f * (1 + 1e-13), rtol=1e-15)
    assert f.allclose(f + 1e-9, atol=1e-8)
    assert not f.allclose(PiecewiseLinear([0.0, 0.5, 1.0], [1.0, 2.0, 3.0]))


def test_repr_round_trips_the_data():
    f = PiecewiseLinear([0.1, 0.7], [1 / 3, 2 / 3], left_slope=0.25, right_slope=-1.0)
    assert "PiecewiseLinear(knots=" in repr(f) and "right_slope=-1.0" in repr(f)


# ------------------------------------------------------------------ algebra
@given(splines(), splines())
@PROPERTY
def test_addition_commutes_and_matches_pointwise(f, g):
    assert f + g == g + f
    x = dense(f, g, n=201)
    assert_close_scaled((f + g)(x), f(x) + g(x), [f, g], x)
    assert_close_scaled((f - g)(x), f(x) - g(x), [f, g], x)
    assert_close_scaled((2.5 * f - 1.0)(x), 2.5 * f(x) - 1.0, [f * 2.5], x)
    assert_close_scaled((f / 4)(x), f(x) / 4, [f], x)
    negated = -f
    assert -negated == f


@given(splines(), splines())
@PROPERTY
def test_maximum_and_minimum_are_pointwise_and_sum_to_f_plus_g(f, g):
    hi, lo = maximum(f, g), minimum(f, g)
    assert hi == maximum(g, f)
    x = np.concatenate([dense(f, g, n=401), hi.knots, lo.knots])
    every = [f, g, hi, lo]  # evaluating hi and lo works with their own values too
    assert_close_scaled(hi(x), np.maximum(f(x), g(x)), every, x)
    assert_close_scaled(lo(x), np.minimum(f(x), g(x)), every, x)
    assert_close_scaled(hi(x) + lo(x), f(x) + g(x), every, x)
    assert_close_scaled(maximum(f, f)(x), f(x), [f], x)
    assert hi.left_slope == min(f.left_slope, g.left_slope)
    assert hi.right_slope == max(f.right_slope, g.right_slope)


def test_maximum_with_a_constant_is_relu():
    relu = maximum(IDENTITY, 0.0)
    np.testing.assert_array_equal(relu([-2.0, 0.0, 3.0]), [0.0, 0.0, 3.0])
    assert (relu.left_slope, relu.right_slope) == (0.0, 1.0)
    np.testing.assert_array_equal(minimum(0.0, IDENTITY)([-2.0, 3.0]), [-2.0, 0.0])


@given(splines(), splines(max_knots=5))
@PROPERTY
def test_compose_matches_pointwise_and_identity_is_neutral(f, g):
    x = dense(f, g, n=201)
    right_id = compose(f, IDENTITY)
    assert set(f.knots) <= set(right_id.knots)
    assert_close_scaled(right_id(x), f(x), [f], x)
    assert_close_scaled(compose(IDENTITY, f)(x), f(x), [f], x)
    h = compose(f, g)
    xs = np.concatenate([x, h.knots])
    inner = g(xs)
    scale_f = [f, PiecewiseLinear(f.knots, f.values, left_slope=0.0, right_slope=0.0)]
    assert_close_scaled(h(xs), f(inner), scale_f, inner, ulps=256)


def test_compose_puts_knots_at_preimages():
    absval = PiecewiseLinear([0.0], [0.0], left_slope=-1.0, right_slope=1.0)
    sine_like = PiecewiseLinear([0.0, 1.0, 2.0], [-1.0, 1.0, -1.0])
    h = compose(absval, sine_like)
    np.testing.assert_allclose(h.knots, [0.0, 0.5, 1.0, 1.5, 2.0])
    np.testing.assert_allclose(h.roots(), [0.5, 1.5])


@given(splines(), st.floats(-200, 200), st.floats(-200, 200))
@PROPERTY
def test_integrate_matches_quad(f, a, b):
    exact = f.integrate(a, b)
    ref, _ = quad(
        f,
        a,
        b,
        points=f.knots[(f.knots > min(a, b)) & (f.knots < max(a, b))]
        if f.knots.size < 50
        else None,
        epsabs=0,
        epsrel=1e-12,
        limit=200,
    )
    scale = (abs(b - a) + 1) * (np.max(np.abs(f.values)) + np.max(np.abs(f.slopes)) * 600)
    assert abs(exact - ref) <= 1e-10 * scale
    assert f.integrate(b, a) == -exact


@given(splines(), st.floats(-300, 300), st.floats(0, 300))
@PROPERTY
def test_max_min_argmax_on_an_interval_match_dense_sampling(f, a, width):
    b = a + width
    x = np.concatenate([np.linspace(a, b, 2001), f.knots[(f.knots >= a) & (f.knots <= b)]])
    y = f(x)
    assert f.max(a, b) == pytest.approx(np.max(y), rel=1e-12, abs=1e-9)
    assert f.min(a, b) == pytest.approx(np.min(y), rel=1e-12, abs=1e-9)
    assert f(f.argmax(a, b)) == f.max(a, b)
    assert f(f.argmin(a, b)) == f.min(a, b)
    assert a <= f.argmax(a, b) <= b


def test_max_on_the_whole_line():
    tent = PiecewiseLinear([0.0, 1.0, 2.0], [0.0, 1.0, 0.0])
    assert (tent.max(), tent.argmax()) == (1.0, 1.0)
    with pytest.raises(ValueError, match="unbounded below"):
        tent.min()


@given(splines(), st.floats(-100, 100))
@PROPERTY
def test_roots_are_zeros_and_none_are_missed(f, y):
    r = f.roots(y)
    assert np.all(np.diff(r) > 0)
    scale = 1 + np.max(np.abs(f.values)) + np.max(np.abs(f.slopes)) * (1 + np.abs(r))
    assert np.all(np.abs(f(r) - y) <= 64 * np.finfo(float).eps * scale)
    # brute force: every sign change of f - y on a dense grid has a root in between
    x = dense(f, n=4001)
    far = [x.min() - 1e3 * (1 + np.abs(x.min())), x.max() + 1e3 * (1 + np.abs(x.max()))]
    x = np.sort(np.concatenate([x, far]))
    d = f(x) - y
    for i in np.nonzero(d[:-1] * d[1:] < 0)[0]:
        assert np.any((r >= x[i]) & (r <= x[i + 1]))


@given(splines(), st.booleans())
@PROPERTY
def test_inverse_undoes_a_monotone_function(f, decreasing):
    sign = -1.0 if decreasing else 1.0
    # make f strictly monotone: cumulative positive increments
    steps = np.abs(np.diff(f.values)) + 0.5
    g = PiecewiseLinear(
        f.knots,
        sign * np.concatenate([[0.0], np.cumsum(steps)]),
        left_slope=sign * (abs(f.left_slope) + 0.1),
        right_slope=sign * (abs(f.right_slope) + 0.1),
    )
    inv = g.inverse()
    x = dense(g, n=301)
    np.testing.assert_allclose(inv(g(x)), x, rtol=1e-9, atol=1e-9 * (1 + np.max(np.abs(x))))
    np.testing.assert_allclose(
        inv.inverse()(x), g(x), rtol=1e-9, atol=1e-9 * (1 + np.max(np.abs(g(x))))
    )


# ------------------------------------------------------------------ simplify
def test_simplify_drops_exactly_collinear_knots_and_keeps_near_collinear_ones():
    f = PiecewiseLinear([0.0, 1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 2.0, 2.0, 2.0])
    g = f.simplify()
    np.testing.assert_array_equal(g.knots, [2.0])
    assert g.left_slope == 1.0 and g.right_slope == 0.0
    x = np.linspace(0.0, 1.0, 11)
    near = PiecewiseLinear(x, 0.1 * x)
    assert near.simplify().knots.size == np.count_nonzero(near.slope_changes) or 1


@given(splines(max_knots=30), st.floats(1e-6, 0.5))
@PROPERTY
def test_simplify_with_tol_stays_within_tol(f, tol):
    g = f.simplify(tol)
    x = np.concatenate([f.knots, dense(f, n=501)])
    limit = tol * (1 + np.max(np.abs(f.values)))
    assert np.max(np.abs(g(x) - f(x))) <= limit * (1 + 1e-9) + 1e-12 * (1 + np.max(np.abs(f(x))))
    assert g.knots.size <= f.knots.size
    assert (g.left_slope, g.right_slope) == (f.left_slope, f.right_slope)


def test_simplify_removes_noise_below_tol():
    rng = np.random.default_rng(4)
    x = np.linspace(0, 10, 1001)
    y = np.abs(x - 5) + 1e-9 * rng.normal(size=x.size)
    f = PiecewiseLinear(x, y, left_slope=-1.0, right_slope=1.0)
    assert f.simplify(1e-6).knots.size <= 4


# ------------------------------------------------------------------ constructors
def test_interpolate_uniform_and_adaptive():
    f = PiecewiseLinear.interpolate(np.sin, 0.0, np.pi, n=11)
    np.testing.assert_allclose(f.knots, np.linspace(0, np.pi, 11))
    np.testing.assert_allclose(f.values, np.sin(f.knots))
    g = PiecewiseLinear.interpolate(np.exp, 0.0, 3.0, tol=1e-6)
    x = np.linspace(0.0, 3.0, 100_001)
    assert np.max(np.abs(g(x) - np.exp(x))) <= 1.01e-6
    # adaptivity puts more knots where the curvature is larger
    assert np.sum(g.knots > 2.0) > np.sum(g.knots < 1.0)


def test_interpolate_of_a_kink_refines_only_near_it():
    g = PiecewiseLinear.interpolate(lambda x: np.abs(x - 0.3), -1.0, 1.0, tol=1e-8)
    x = np.linspace(-1, 1, 20001)
    assert np.max(np.abs(g(x) - np.abs(x - 0.3))) <= 1e-8
    assert g.knots.size < 200


@pytest.mark.parametrize("seed", range(5))
def test_scipy_round_trips_keep_end_slopes(seed):
    rng = np.random.default_rng(seed)
    f = random_spline(rng, int(rng.integers(1, 20)))
    f = PiecewiseLinear(f.knots, f.values, left_slope=1.5, right_slope=-0.25)
    x = sample_points(f, rng, 500)
    for obj in (f.to_ppoly(), f.to_bspline()):
        np.testing.assert_allclose(obj(x), f(x), rtol=1e-13, atol=1e-12 * (1 + np.max(np.abs(x))))
        back = PiecewiseLinear.from_scipy(obj)
        np.testing.assert_allclose([back.left_slope, back.right_slope], [1.5, -0.25], rtol=4e-16)
        np.testing.assert_allclose(back(x), f(x), rtol=1e-13, atol=1e-12 * (1 + np.max(np.abs(x))))
    exact = PiecewiseLinear.from_scipy(f.to_ppoly())  # PPoly stores the slopes themselves
    assert (exact.left_slope, exact.right_slope) == (1.5, -0.25)
    np.testing.assert_array_equal(exact.knots[1:-1], f.knots)


def test_from_scipy_reads_scipy_constructed_objects():
    x, y = np.array([0.0, 1.0, 2.5, 4.0]), np.array([1.0, -1.0, 0.5, 0.0])
    xs = np.linspace(-3, 7, 101)
    f = PiecewiseLinear.from_points(x, y)
    for obj in (
        make_interp_spline(x, y, k=1),
        PPoly.from_spline(make_interp_spline(x, y, k=1)),
        interp1d(x, y, fill_value="extrapolate"),
    ):
        np.testing.assert_allclose(
            PiecewiseLinear.from_scipy(obj)(xs), obj(xs), rtol=1e-14, atol=1e-14
        )
        np.testing.assert_allclose(
            PiecewiseLinear.from_scipy(obj)(xs), f(xs), rtol=1e-14, atol=1e-14
        )
    held = interp1d(x, y, bounds_error=False, fill_value=(y[0], y[-1]))
    g = PiecewiseLinear.from_scipy(held)
    assert_close_scaled(g(xs), held(xs), [g], xs, ulps=4)
    np.testing.assert_array_equal(g(x), y)


def test_from_scipy_reads_descending_ppoly_and_degree_zero_constant():
    c = np.array([[1.0, -2.0], [3.0, 2.0]])
    desc = PPoly(c, [3.0, 2.0, 0.0])
    xs = np.linspace(-2, 5, 71)
    np.testing.assert_allclose(PiecewiseLinear.from_scipy(desc)(xs), desc(xs), rtol=1e-14)
    flat = PPoly(np.array([[2.0, 2.0]]), [0.0, 1.0, 2.0])
    assert PiecewiseLinear.from_scipy(flat)(10.0) == 2.0
