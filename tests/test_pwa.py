"""PiecewiseAffine and Polytope against independent references.

References: scipy's LinearNDInterpolator (same Delaunay triangulation, its own
barycentric evaluation), numpy.interp, closed-form functions (|x| + 2|y|, affine
maps), dense sampling for max/min, known volumes and vertices of boxes and simplices.
"""

from __future__ import annotations

import itertools
import math
import pickle

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import pwlmodels
from pwlmodels import PiecewiseAffine, PiecewiseLinear, Polytope

PROPERTY = settings(max_examples=40, deadline=None)
SQUARE = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]


def box(lo, hi) -> tuple[np.ndarray, np.ndarray]:
    """The rows (A, b) of the box [lo, hi]."""
    lo, hi = np.atleast_1d(np.asarray(lo, float)), np.atleast_1d(np.asarray(hi, float))
    d = lo.size
    return np.vstack([np.eye(d), -np.eye(d)]), np.concatenate([hi, -lo])


def cube_corners(d: int) -> np.ndarray:
    return np.array(np.meshgrid(*[[0.0, 1.0]] * d, indexing="ij")).reshape(d, -1).T


def interpolator(pts, vals):
    from scipy.interpolate import LinearNDInterpolator

    return LinearNDInterpolator(pts, vals)


def grid_regions(xs, ys, fun):
    """(A, b, K, c) for the cells of the grid xs x ys, each with the affine map of
    ``fun`` (a function affine on every cell) fitted at the cell's corners."""
    out = []
    for x0, x1 in itertools.pairwise(xs):
        for y0, y1 in itertools.pairwise(ys):
            corners = np.array([[x0, y0], [x1, y0], [x0, y1]])
            v = np.array([fun(p) for p in corners])
            k = np.linalg.solve(corners[1:] - corners[0], v[1:] - v[0])
            out.append((*box([x0, y0], [x1, y1]), k, v[0] - corners[0] @ k))
    return out


def abs_sum(p):
    return abs(p[0] - 0.5) + 2 * abs(p[1] - 0.25)


# ----------------------------------------------------------------- Polytope
@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_polytope_of_a_shifted_box_has_its_corners_volume_and_centre(d):
    lo, hi = np.arange(d) - 1.0, np.arange(d) + 2.0  # sides of length 3
    p = Polytope(*box(lo, hi))
    want = lo + 3 * cube_corners(d)
    got = p.vertices()
    assert sorted(map(tuple, got)) == sorted(map(tuple, want))
    assert p.volume() == pytest.approx(3.0**d, rel=1e-13)
    center, radius = p.chebyshev_center()
    np.testing.assert_allclose(center, lo + 1.5, atol=1e-9)
    assert radius == pytest.approx(1.5, rel=1e-9)


@pytest.mark.parametrize("d", [2, 3, 4, 5])
def test_polytope_volume_of_the_unit_simplex_is_one_over_d_factorial(d):
    rows = np.vstack([-np.eye(d), np.ones((1, d))])
    p = Polytope(rows, np.r_[np.zeros(d), 1.0])
    assert p.volume() == pytest.approx(1 / math.factorial(d), rel=1e-12)
    assert len(p.vertices()) == d + 1


def test_polytope_vertices_of_a_rotated_cube_are_exact_to_rounding():
    q = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0]
    rows = np.vstack([np.eye(3), -np.eye(3)]) @ q.T  # the cube {|q^T x| <= 1}
    p = Polytope(rows, np.ones(6))
    want = (2 * cube_corners(3) - 1) @ q.T
    got = p.vertices()
    dist = np.abs(got[:, None, :] - want[None, :, :]).max(axis=2)
    assert len(got) == 8 and dist.min(axis=1).max() < 1e-14


def test_polytope_degenerate_apex_is_one_vertex():
    rows = [[0, 0, -1], [1, 0, 1], [-1, 0, 1], [0, 1, 1], [0, -1, 1]]  # a square pyramid
    p = Polytope(rows, [0, 1, 1, 1, 1])
    assert p.vertices().tolist() == [[-1, -1, 0], [-1, 1, 0], [0, 0, 1], [1, -1, 0], [1, 1, 0]]
    assert p.volume() == pytest.approx(4 / 3, rel=1e-14)


def test_polytope_empty_and_flat_sets():
    empty = Polytope(*box([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]))
    empty = Polytope(np.vstack([empty.A_ub, [[1.0, 0, 0]]]), np.r_[empty.b_ub, -1.0])
    assert empty.chebyshev_center()[1] == -np.inf and empty.vertices().shape == (0, 3)
    assert empty.volume() == 0.0
    flat = Polytope(*box([0.0, 0.0, 0.0], [1.0, 1.0, 0.0]))
    assert flat.chebyshev_center()[1] == 0.0 and flat.volume() == 0.0
    with pytest.raises(ValueError, match="full-dimensional"):
        flat.vertices()
    assert Polytope([[1.0, 0.0]], [1.0]).chebyshev_center()[1] == np.inf
    segment = Polytope(*box([0.0, 0.0], [1.0, 0.0]))  # flat in 2-D: still its two ends
    assert segment.vertices().tolist() == [[0.0, 0.0], [1.0, 0.0]] and segment.volume() == 0.0


def test_polytope_is_one_class_without_torch_and_in_regions():
    from pwlmodels import regions

    assert pwlmodels.Polytope is regions.Polytope is Polytope
    assert Polytope.__module__ == "pwlmodels._geometry"


@pytest.mark.parametrize(
    ("a", "b", "exc", "match"),
    [
        ([[True, False]], [1.0], TypeError, "`A_ub` must be a real array"),
        ([["a", "b"]], [1.0], TypeError, "`A_ub` must be a real array"),
        ([[np.nan, 0.0]], [1.0], ValueError, r"`A_ub` must be finite"),
        ([[1.0, 0.0]], [np.inf], ValueError, r"`b_ub` must be finite"),
    ],
)
def test_polytope_refuses_bad_data(a, b, exc, match):
    with pytest.raises(exc, match=match):
        Polytope(a, b)


# -------------------------------------------------------- from_triangulation
@pytest.mark.parametrize(("d", "n", "m"), [(2, 60, 1), (3, 40, 2), (4, 30, 1)])
def test_triangulation_equals_linear_nd_interpolator_inside_the_hull(d, n, m):
    rng = np.random.default_rng(d)
    pts = rng.random((n, d))
    vals = rng.normal(size=(n, m)) if m > 1 else rng.normal(size=n)
    f = PiecewiseAffine.from_triangulation(pts, vals)
    ref = interpolator(pts, vals)
    x = rng.random((4000, d))
    want = ref(x)
    inside = ~np.isnan(want.reshape(len(x), -1)[:, 0])
    assert inside.sum() > 500
    scale = np.abs(vals).max()
    np.testing.assert_allclose(f(x[inside]), want[inside], rtol=1e-12, atol=1e-12 * scale)
    got = f(x, outside="nan")
    np.testing.assert_array_equal(np.isnan(got.reshape(len(x), -1)[:, 0]), ~inside)
    assert f.n_inputs == d and f.n_outputs == m


def test_triangulation_of_a_cospherical_grid_drops_degenerate_simplices_like_scipy():
    rng = np.random.default_rng(5)
    pts = cube_corners(3) * 2.0
    pts = np.vstack([pts, [[1.0, 1.0, 1.0]], cube_corners(3) + 0.5])  # cospherical groups
    vals = rng.normal(size=len(pts))
    f = PiecewiseAffine.from_triangulation(pts, vals)
    x = rng.uniform(0, 2, (3000, 3))
    np.testing.assert_allclose(f(x), interpolator(pts, vals)(x), rtol=1e-12, atol=1e-12)
    assert sum(p.volume() for p in f.regions) == pytest.approx(8.0, rel=1e-12)


def test_triangulation_in_one_dimension_equals_numpy_interp():
    rng = np.random.default_rng(2)
    t, v = rng.random(25), rng.normal(size=25)
    f = PiecewiseAffine.from_triangulation(t, v)
    x = rng.uniform(t.min(), t.max(), 500)
    order = np.argsort(t)
    np.testing.assert_allclose(f(x), np.interp(x, t[order], v[order]), rtol=0, atol=1e-14)
    np.testing.assert_array_equal(f(t), v)  # the anchors are the data
    assert f.n_regions == 24


@st.composite
def point_sets(draw, d=2):
    n = draw(st.integers(d + 1, 12))
    coords = draw(
        st.lists(st.tuples(*[st.integers(-20, 20)] * d), min_size=n, max_size=n, unique=True)
    )
    pts = np.array(coords, dtype=float) / 7.0
    assume(np.linalg.matrix_rank(pts - pts[0]) == d)
    return pts


@given(point_sets(), st.integers(0, 2**32 - 1))
@PROPERTY
def test_interpolant_reproduces_the_values_at_the_points(pts, seed):
    vals = np.random.default_rng(seed).normal(size=len(pts)) * 100
    f = PiecewiseAffine.from_triangulation(pts, vals)
    np.testing.assert_allclose(f(pts), vals, rtol=0, atol=1e-10 * np.abs(vals).max())
    assert sum(p.volume() for p in f.regions) == pytest.approx(
        interpolator_hull_volume(pts), rel=1e-12
    )


def interpolator_hull_volume(pts):
    from scipy.spatial import ConvexHull

    return ConvexHull(pts).volume


@given(point_sets(), st.floats(-5, 5), st.floats(-5, 5), st.floats(-5, 5))
@PROPERTY
def test_affine_data_give_one_piece_and_simplify_to_one_region(pts, a, b, c):
    f = PiecewiseAffine.from_triangulation(pts, pts @ [a, b] + c)
    assert f.n_pieces == 1
    g = f.simplify()
    assert g.n_regions == 1
    x = pts.mean(axis=0) + 0.1 * (pts - pts.mean(axis=0))
    np.testing.assert_allclose(g(x), x @ [a, b] + c, rtol=1e-12, atol=1e-12 * (1 + abs(c)))


def test_call_shapes():
    f = PiecewiseAffine.from_triangulation(SQUARE, [[0, 1], [1, 1], [1, 1], [2, 1]])
    assert f([0.5, 0.5]).shape == (2,) and f(np.zeros((5, 2))).shape == (5, 2)
    assert f(np.zeros((0, 2))).shape == (0, 2)
    g = PiecewiseAffine.from_triangulation(SQUARE, [0.0, 1.0, 1.0, 2.0])
    assert isinstance(g([0.5, 0.5]), np.float64) and g([[0.5, 0.5]]).shape == (1,)
    h = PiecewiseAffine.from_triangulation([0.0, 1.0, 2.0], [0.0, 1.0, 0.0])
    assert h(0.5) == 0.5 and h([0.5, 1.5]).shape == (2,) and h([[0.5], [1.5]]).shape == (2,)
    with pytest.raises(ValueError, match=r"`x` must have shape \(N, 2\) or \(2,\)"):
        g(np.zeros((3, 3)))


def test_points_outside_raise_naming_the_first_or_give_nan():
    f = PiecewiseAffine.from_triangulation(SQUARE, [0.0, 1.0, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"`x\[1\]` = \[1.5, 0.5\] is outside the domain"):
        f([[0.5, 0.5], [1.5, 0.5], [2.0, 2.0]])
    with pytest.raises(ValueError, match=r"`x` = \[-0.1, 0.0\] is outside"):
        f([-0.1, 0.0])
    np.testing.assert_array_equal(f([[1.5, 0.5], [0.5, 0.5]], outside="nan"), [np.nan, 1.0])
    assert f([1.0 + 1e-12, 0.5]) == pytest.approx(1.5)  # within the stated tolerance
    with pytest.raises(ValueError, match="`outside` must be one of"):
        f([0.5, 0.5], outside="clip")
    with pytest.raises(ValueError, match="`x` must be finite"):
        f([np.nan, 0.5], outside="nan")


@pytest.mark.parametrize(
    ("points", "values", "exc", "match"),
    [
        ([[0, 0], [1, 0], [0, 1], [1, 0]], [0, 1, 2, 3], ValueError, r"points\[1\] = points\[3\]"),
        ([[0, 0], [1, 1], [2, 2], [3, 3]], [0, 1, 2, 3], ValueError, "one hyperplane"),
        ([[0, 0], [1, 0]], [0, 1], ValueError, "at least d \\+ 1 = 3 points"),
        (SQUARE, [0, 1, np.nan, 3], ValueError, r"`values` must be finite; got values\[2\] = nan"),
        ([[0, 0], [1, np.inf], [0, 1]], [0, 1, 2], ValueError, "`points` must be finite"),
        (SQUARE, [0, 1, 2], ValueError, r"`values` must have shape \(4,\) or \(4, m\)"),
        (np.zeros((2, 2, 2)), [0, 1], ValueError, r"`points` must have shape \(N, d\)"),
        ([[True, False], [False, True], [True, True]], [0, 1, 2], TypeError, "`points` must"),
        (SQUARE, ["a", "b", "c", "d"], TypeError, "`values` must be a real array"),
        ([[0, 0], [1, 0], [0, 1], [1e-17, 0]], [0, 1, 2, 3], ValueError, r"points\[3\]` is not"),
    ],
)
def test_triangulation_refuses_hostile_input(points, values, exc, match):
    with pytest.raises(exc, match=match):
        PiecewiseAffine.from_triangulation(points, values)


# -------------------------------------------------------------- from_spline
@given(
    st.lists(st.floats(-50, 50), min_size=2, max_size=20, unique=True),
    st.integers(0, 2**32 - 1),
)
@PROPERTY
def test_from_spline_equals_numpy_interp_on_the_knot_range(knots, seed):
    x = np.sort(np.array(knots))
    assume(np.diff(x).min() > 1e-6)
    rng = np.random.default_rng(seed)
    y = rng.normal(size=x.size)
    s = PiecewiseLinear.from_points(x, y, extrapolate="constant")
    f = PiecewiseAffine.from_spline(s, x[0], x[-1])
    xs = rng.uniform(x[0], x[-1], 200)
    np.testing.assert_allclose(f(xs), np.interp(xs, x, y), rtol=0, atol=1e-13)
    assert f.n_regions == x.size - 1


def test_from_spline_cuts_pieces_at_the_bounds():
    s = PiecewiseLinear([0.0, 1.0, 3.0], [0.0, 2.0, 1.0])
    f = PiecewiseAffine.from_spline(s, 0.5, 5.0)
    assert [r.vertices()[:, 0].tolist() for r in f.regions] == [[0.5, 1.0], [1.0, 3.0], [3.0, 5]]
    xs = np.linspace(0.5, 5.0, 91)
    np.testing.assert_allclose(f(xs), s(xs), rtol=1e-15, atol=1e-15)
    assert (f.max(), f.argmax().tolist(), f.min(), f.argmin().tolist()) == (2.0, [1.0], 0.0, [5.0])


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda s: PiecewiseAffine.from_spline(s, 1.0, 0.0), ValueError, "less than `upper`"),
        (lambda s: PiecewiseAffine.from_spline(s, 1.0, 1.0), ValueError, "less than `upper`"),
        (lambda s: PiecewiseAffine.from_spline(s, np.nan, 1.0), ValueError, "`lower` must"),
        (lambda s: PiecewiseAffine.from_spline([0, 1], 0.0, 1.0), TypeError, "PiecewiseLinear"),
        (lambda s: PiecewiseAffine.from_spline(s, "0", 1.0), TypeError, "`lower` must be"),
    ],
)
def test_from_spline_refuses_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call(PiecewiseLinear([0.0, 1.0], [0.0, 1.0]))


# ------------------------------------------------------------- from_regions
def test_from_regions_rebuilds_a_triangulation_exactly_as_a_function():
    rng = np.random.default_rng(3)
    pts = rng.random((30, 3))
    f = PiecewiseAffine.from_triangulation(pts, rng.normal(size=30))
    g = PiecewiseAffine.from_regions(list(zip(f.regions, *f.maps, strict=True)))
    x = pts.mean(axis=0) + 0.3 * (rng.random((2000, 3)) - 0.5)
    np.testing.assert_allclose(g(x), f(x), rtol=1e-12, atol=1e-12)
    assert g.allclose(f) and f.allclose(g)
    assert g.n_pieces == f.n_pieces == f.n_regions


@given(
    st.lists(st.floats(0.05, 0.95), min_size=0, max_size=3, unique=True),
    st.lists(st.floats(0.05, 0.95), min_size=0, max_size=3, unique=True),
)
@settings(max_examples=20, deadline=None)
def test_from_regions_accepts_continuous_grids_and_refuses_a_shifted_cell(xcuts, ycuts):
    xs = np.unique(np.r_[0.0, 0.5, xcuts, 1.0])
    ys = np.unique(np.r_[0.0, 0.25, ycuts, 1.0])
    assume(min(np.diff(xs).min(), np.diff(ys).min()) > 1e-3)
    regions = grid_regions(xs, ys, abs_sum)
    f = PiecewiseAffine.from_regions(regions)
    x = np.random.default_rng(0).random((300, 2))
    np.testing.assert_allclose(f(x), [abs_sum(p) for p in x], rtol=1e-13, atol=1e-13)
    assert f.n_pieces == 4 and f.simplify().n_regions == 4
    k = len(regions) // 2
    a, b, kk, c = regions[k]
    regions[k] = (a, b, kk, c + 1e-6)
    pair = rf"(`regions\[{k}\]` and `regions\[\d+\]`|`regions\[\d+\]` and `regions\[{k}\]`)"
    with pytest.raises(ValueError, match=pair + " are not continuous"):
        PiecewiseAffine.from_regions(regions)


def test_from_regions_with_a_t_junction_checks_the_whole_shared_edge():
    left = (*box([0, 0], [1, 1]), [1.0, 1.0], 0.0)
    top = (*box([1, 0.5], [2, 1]), [1.0, 1.0], 0.0)
    bottom = (*box([1, 0], [2, 0.5]), [1.0, 1.0], 0.0)
    f = PiecewiseAffine.from_regions([left, top, bottom])
    assert f.n_regions == 3 and f.simplify().n_regions == 1
    bad = (*box([1, 0], [2, 0.5]), [1.0, 1.1], -0.05)  # equal at (1, 0.5) only
    with pytest.raises(ValueError, match=r"`regions\[0\]` and `regions\[2\]` are not continuous"):
        PiecewiseAffine.from_regions([left, top, bad])


def test_from_regions_sees_a_discontinuity_across_a_facet_without_shared_vertices():
    # a box below a diamond prism: they meet in an octagon whose corners are no vertex
    below = (*box([-1, -1, -1], [1, 1, 0]), [0.0, 0.0, 1.0], 0.0)
    rows = np.array([[1, 1, 0], [1, -1, 0], [-1, 1, 0], [-1, -1, 0], [0, 0, 1], [0, 0, -1.0]])
    above = (rows, [1.3, 1.3, 1.3, 1.3, 1.0, 0.0], [0.0, 0.0, 1.0], 0.0)
    f = PiecewiseAffine.from_regions([below, above], convex=False)
    assert f([0.9, 0.0, 0.0]) == 0.0
    tilted = (rows, above[1], [0.01, 0.0, 1.0], 0.0)  # equal on the line x = 0 only
    with pytest.raises(ValueError, match="are not continuous"):
        PiecewiseAffine.from_regions([below, tilted], convex=False)
    with pytest.raises(ValueError, match="do not cover the convex hull"):
        PiecewiseAffine.from_regions([below, above])


def test_from_regions_accepts_a_non_convex_domain_only_when_told():
    cells = [box([0, 0], [1, 1]), box([1, 0], [2, 1]), box([0, 1], [1, 2])]  # an L
    regions = [(a, b, [1.0, 2.0], 3.0) for a, b in cells]
    with pytest.raises(ValueError, match=r"cover the convex hull.*`regions\[\d\]` has a facet"):
        PiecewiseAffine.from_regions(regions)
    f = PiecewiseAffine.from_regions(regions, convex=False)
    assert f([1.5, 0.5]) == 5.5  # 1.5 + 2 x 0.5 + 3
    with pytest.raises(ValueError, match="outside the domain"):
        f([1.5, 1.5])


@pytest.mark.parametrize(
    ("regions", "exc", "match"),
    [
        ([(*box(0, 1), [1.0], 0.0), (*box(0.5, 2), [1.0], 0.0)], ValueError, r"overlap"),
        ([(*box(0, 1), [1.0], 0.0), (*box(1, 2), [2.0], 0.0)], ValueError, "not continuous"),
        ([(*box(0, 1), [1.0], 0.0), (*box(1.5, 2), [1.0], 0.0)], ValueError, "do not cover"),
        ([(*box(0, 1), [1.0], 0.0), ([[1.0], [-1.0]], [0, -1], [1], 0)], ValueError, "empty"),
        ([([[1.0, 0.0]], [1.0], [1.0, 0.0], 0.0)], ValueError, r"`regions\[0\]` is unbounded"),
        (
            [(*box([0, 0], [1, 0]), [1.0, 0.0], 0.0)],
            ValueError,
            r"`regions\[0\]` is not full-dimensional",
        ),
        (
            [(*box([0, 0], [1, 1]), [1.0, 0.0], 0.0), (*box([1, 0], [2, 1e-12]), [1, 0], 0)],
            ValueError,
            r"`regions\[1\]` is not full-dimensional",
        ),
        ([(*box(0, 1), [[1.0], [2.0]], [0.0])], ValueError, r"`regions\[0\].c` shape \(2,\)"),
        ([(*box(0, 1), [1.0], 0.0), (*box([0, 0], [1, 1]), [1, 1], 0)], ValueError, "inputs"),
        ([(np.eye(2), [1.0], [1.0, 0.0], 0.0)], ValueError, r"`regions\[0\].A` must have"),
        ([(*box(0, 1), [True], 0.0)], TypeError, r"`regions\[0\].K` must be a real"),
        ([(*box(0, 1), [1.0], "0")], TypeError, r"`regions\[0\].c` must be a real"),
        ([(*box(0, 1), [1.0], np.nan)], ValueError, r"`regions\[0\].c` must be finite"),
        ([(*box(0, 1), [1.0], 0.0, 1.0)], TypeError, r"`regions\[0\]` must be a tuple"),
        ([7.0], TypeError, r"`regions\[0\]` must be a tuple"),
        (
            [(*box(0, 1), [1.0])],
            TypeError,
            r"`regions\[0\]` has 3 entries, so it must be \(Polytope",
        ),
        ([], ValueError, "at least one region"),
        ("regions", TypeError, "`regions` must be an iterable"),
    ],
)
def test_from_regions_refuses_hostile_input(regions, exc, match):
    with pytest.raises(exc, match=match):
        PiecewiseAffine.from_regions(regions)


def test_from_regions_tolerance_and_options_are_checked():
    one = [(*box(0, 1), [1.0], 0.0)]
    for tol in (0.0, -1e-9, 0.1):
        with pytest.raises(ValueError, match="`tol` must be in"):
            PiecewiseAffine.from_regions(one, tol=tol)
    with pytest.raises(TypeError, match="`convex` must be a bool"):
        PiecewiseAffine.from_regions(one, convex="yes")
    # a mismatch of 1e-7 passes with tol=1e-6 and fails with the default
    near = [(*box(0, 1), [1.0], 0.0), (*box(1, 2), [1.0], 1e-7)]
    assert PiecewiseAffine.from_regions(near, tol=1e-6).n_regions == 2
    with pytest.raises(ValueError, match="not continuous"):
        PiecewiseAffine.from_regions(near)


# ------------------------------------------------------------------ analysis
@pytest.mark.parametrize("d", [2, 3])
def test_max_and_min_are_at_least_dense_sampling_and_attained(d):
    rng = np.random.default_rng(10 + d)
    pts = rng.random((25, d))
    vals = np.column_stack([rng.normal(size=25), pts.sum(axis=1) ** 2])
    f = PiecewiseAffine.from_triangulation(pts, vals)
    x = rng.random((20000, d))
    y = f(x, outside="nan")
    top, low = np.nanmax(y, axis=0), np.nanmin(y, axis=0)
    for k in range(2):
        hi, lo = f.max(output=k), f.min(output=k)
        assert top[k] <= hi + 1e-12 and low[k] >= lo - 1e-12
        assert float(f(f.argmax(output=k))[k]) == pytest.approx(hi, abs=1e-12)
        assert float(f(f.argmin(output=k))[k]) == pytest.approx(lo, abs=1e-12)
        assert hi == pytest.approx(vals[:, k].max(), abs=1e-15)  # an interpolant: the data
    np.testing.assert_array_equal(f.max(), [f.max(output=0), f.max(output=1)])
    assert f.argmax().shape == (2, d)


def test_max_output_is_checked():
    f = PiecewiseAffine.from_triangulation(SQUARE, [0.0, 1.0, 1.0, 2.0])
    assert f.max(output=0) == 2.0 and isinstance(f.max(), float)
    with pytest.raises(ValueError, match="`output` must be less than n_outputs = 1"):
        f.max(output=1)
    with pytest.raises(TypeError, match="`output` must be an integer"):
        f.min(output=True)


def test_simplify_merges_a_gridded_abs_into_its_four_pieces():
    g = np.array(np.meshgrid(np.linspace(-1, 1, 7), np.linspace(-1, 1, 5))).reshape(2, -1).T
    f = PiecewiseAffine.from_triangulation(g, np.abs(g).sum(axis=1))
    s = f.simplify()
    assert (f.n_regions, f.n_pieces, s.n_regions, s.n_pieces) == (48, 4, 4, 4)
    x = np.random.default_rng(0).uniform(-1, 1, (2000, 2))
    np.testing.assert_allclose(s(x), np.abs(x).sum(axis=1), rtol=1e-14, atol=1e-14)
    assert s.allclose(f) and s.simplify() is s
    assert sorted(len(r.vertices()) for r in s.regions) == [4, 4, 4, 4]


def test_simplify_keeps_a_non_convex_piece_in_convex_parts():
    # max(0, min(x, y)) on [-1, 1]^2 in cells of 0.5: the piece 0 covers an L of three
    # quadrants (not convex); x and y share the first quadrant along its diagonal
    regions = []
    for x0 in np.arange(-1.0, 1.0, 0.5):
        for y0 in np.arange(-1.0, 1.0, 0.5):
            a, b = box([x0, y0], [x0 + 0.5, y0 + 0.5])
            if min(x0, y0) < 0:
                regions.append((a, b, [0.0, 0.0], 0.0))
            elif x0 != y0:
                regions.append((a, b, [1.0, 0.0] if x0 < y0 else [0.0, 1.0], 0.0))
            else:  # split along the diagonal: x <= y (f = x) and y <= x (f = y)
                regions.append((np.vstack([a, [1, -1]]), np.r_[b, 0.0], [1.0, 0.0], 0.0))
                regions.append((np.vstack([a, [-1, 1]]), np.r_[b, 0.0], [0.0, 1.0], 0.0))
    f = PiecewiseAffine.from_regions(regions)
    s = f.simplify()
    K = s.maps[0][:, 0]
    zero = int((np.abs(K).sum(axis=1) == 0).sum())
    assert (f.n_regions, f.n_pieces, s.n_pieces) == (18, 3, 3)
    assert 2 <= zero and s.n_regions == zero + 2  # the L in convex parts; x, y: one each
    x = np.random.default_rng(1).uniform(-1, 1, (2000, 2))
    np.testing.assert_allclose(s(x), np.maximum(0, x.min(axis=1)), atol=1e-15)
    assert s.allclose(f)
    for r in s.regions:  # every merged region is convex: its hull adds no volume
        assert r.volume() == pytest.approx(interpolator_hull_volume(r.vertices()), rel=1e-12)


def test_restrict_keeps_the_values_and_cuts_the_domain():
    rng = np.random.default_rng(4)
    pts = np.vstack([SQUARE, rng.random((20, 2))])
    f = PiecewiseAffine.from_triangulation(pts, rng.normal(size=len(pts)))
    g = f.restrict([0.2, -5.0], [0.7, 0.6])
    np.testing.assert_array_equal(g.domain[0], [0.2, 0.0])
    np.testing.assert_array_equal(g.domain[1], [0.7, 0.6])
    assert g.to_frame()["volume"].sum() == pytest.approx(0.5 * 0.6, rel=1e-12)
    x = rng.uniform([0.2, 0.0], [0.7, 0.6], (1000, 2))
    np.testing.assert_allclose(g(x), f(x), rtol=1e-13, atol=1e-13)
    assert np.isnan(g([[0.8, 0.5]], outside="nan")).all()
    assert g.allclose(f.restrict([0.2, 0.0], [0.7, 0.6]))
    assert f.restrict(-1.0, 2.0).allclose(f)


@pytest.mark.parametrize(
    ("lower", "upper", "exc", "match"),
    [
        ([0.5, 0.5], [0.4, 1.0], ValueError, r"got lower\[0\] = 0.5 >= upper\[0\] = 0.4"),
        ([0.5, 0.5], [0.5, 1.0], ValueError, "`lower` must be less than `upper`"),
        ([2.0, 2.0], [3.0, 3.0], ValueError, "does not meet the domain"),
        ([1.0, 0.0], [2.0, 1.0], ValueError, "does not meet the domain"),  # an edge only
        ([0.0, 0.0, 0.0], 1.0, ValueError, r"`lower` must be a number or have shape \(2,\)"),
        ([0.0, np.nan], 1.0, ValueError, "`lower` must be finite"),
        ("0", 1.0, TypeError, "`lower` must be"),
    ],
)
def test_restrict_refuses_bad_boxes(lower, upper, exc, match):
    f = PiecewiseAffine.from_triangulation(SQUARE, [0.0, 1.0, 1.0, 2.0])
    with pytest.raises(exc, match=match):
        f.restrict(lower, upper)


def test_allclose_compares_functions_not_data():
    rng = np.random.default_rng(6)
    pts = np.vstack([SQUARE, rng.random((15, 2))])
    vals = rng.normal(size=len(pts))
    f = PiecewiseAffine.from_triangulation(pts, vals)
    moved = vals.copy()
    moved[-1] += 1e-6
    assert not f.allclose(PiecewiseAffine.from_triangulation(pts, moved))
    assert f.allclose(PiecewiseAffine.from_triangulation(pts, moved), rtol=1e-5)
    assert f.allclose(PiecewiseAffine.from_triangulation(pts[::-1], vals[::-1]))
    assert not f.allclose(f.restrict(0.0, 0.9))  # a smaller domain
    assert not f.allclose(PiecewiseAffine.from_triangulation(SQUARE, [0, 1, 1, 2]))
    with pytest.raises(TypeError, match="`other` must be a PiecewiseAffine"):
        f.allclose(PiecewiseLinear([0.0, 1.0], [0.0, 1.0]))


# ---------------------------------------------------------- value semantics
def test_to_frame_has_one_row_per_region():
    f = PiecewiseAffine.from_triangulation(np.vstack([SQUARE, [[0.5, 0.5]]]), [0, 1, 1, 2, 1])
    frame = f.to_frame()
    assert list(frame.columns) == ["region", "piece", "n_constraints", "n_vertices", "volume"]
    assert frame["region"].tolist() == list(range(4)) and frame["volume"].sum() == 1.0
    assert frame["piece"].tolist() == f.pieces.tolist() and f.n_pieces == 1
    assert (frame["n_constraints"] == 3).all() and (frame["n_vertices"] == 3).all()


def test_value_semantics_equality_hash_pickle_and_immutability():
    f = PiecewiseAffine.from_triangulation(SQUARE, [0.0, 1.0, 1.0, 3.0])
    g = PiecewiseAffine.from_triangulation(SQUARE, [0.0, 1.0, 1.0, 3.0])
    h = PiecewiseAffine.from_triangulation(SQUARE, [0.0, 1.0, 1.0, 3.0 + 1e-15])
    assert f == g and hash(f) == hash(g) and f != h and f.allclose(h)
    for obj in (f, f.restrict(0.0, 0.5)):
        back = pickle.loads(pickle.dumps(obj))
        assert back == obj and np.array_equal(back([0.2, 0.3]), obj([0.2, 0.3]))
    with pytest.raises(AttributeError, match="immutable"):
        f.tol = 1.0
    with pytest.raises(ValueError, match="read-only"):
        f.maps[0][0, 0, 0] = 1.0
    with pytest.raises(TypeError, match="from_triangulation"):
        PiecewiseAffine()
    assert repr(f) == (
        "PiecewiseAffine(n_inputs=2, n_outputs=1, n_regions=2, n_pieces=2, "
        "domain=[[0.0, 0.0], [1.0, 1.0]])"
    )


def test_plot_draws_pieces_and_values_and_writes_a_png(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g = np.array(np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 5))).reshape(2, -1).T
    f = PiecewiseAffine.from_triangulation(g, np.abs(g).sum(axis=1))
    ax = f.plot()
    assert len(ax.collections[0].get_paths()) == f.n_regions
    assert len({tuple(c) for c in ax.collections[0].get_facecolors()}) == f.n_pieces
    assert "4 affine pieces" in ax.get_title()
    plt.close(ax.figure)
    ax = f.plot(color="value", path=tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="`color` must be one of 'piece', 'value'"):
        f.plot(color="region")
    with pytest.raises(ValueError, match="2 inputs"):
        PiecewiseAffine.from_triangulation([0.0, 1.0], [0.0, 1.0]).plot()
