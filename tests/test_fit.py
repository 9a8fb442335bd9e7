"""fit_pwl against independent references: make_lsq_spline, dense lstsq, brute-force QP."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.interpolate import make_lsq_spline
from scipy.optimize import lsq_linear

from pwlmodels import PiecewiseLinear, fit_pwl, select_knots
from pwlmodels.fit import _lsq
from pwlmodels.fit._fit import _Constraints


def hinge_basis(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Columns 1, x, relu(x - t_j): pwlf's basis, built independently of pwlmodels."""
    return np.column_stack([np.ones_like(x), x, *[np.maximum(x - tj, 0.0) for tj in t]])


def hat_basis(x: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Hat functions on the nodes, the end ones continued linearly beyond the nodes."""
    cols = []
    for j in range(nodes.size):
        unit = np.eye(nodes.size)[j]
        cols.append(PiecewiseLinear.from_points(nodes, unit)(x))
    return np.column_stack(cols)


def pwl_data(seed: int, n: int = 400, sigma: float = 0.05):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 10.0, n)
    truth = PiecewiseLinear([2.0, 5.0, 7.5], [1.0, -0.5, 1.5], left_slope=0.5, right_slope=-1.0)
    return x, truth(x) + rng.normal(0.0, sigma, n), truth


# ------------------------------------------------------------------ fixed knots
@pytest.mark.parametrize("seed", range(4))
def test_fixed_knots_match_make_lsq_spline_with_weights(seed):
    x, y, _ = pwl_data(seed)
    w = np.random.default_rng(seed + 10).uniform(0.2, 3.0, x.size)
    t = np.sort(np.random.default_rng(seed + 20).uniform(0.5, 9.5, 6))
    fit = fit_pwl(x, y, knots=t, weights=w)
    order = np.argsort(x)
    xs, ys, ws = x[order], y[order], w[order]
    full = np.concatenate([[xs[0]] * 2, t, [xs[-1]] * 2])
    ref = make_lsq_spline(xs, ys, full, k=1, w=ws)
    scale = np.linalg.norm(y)
    assert np.max(np.abs(fit.spline(xs) - ref(xs))) <= 1e-10 * scale
    assert fit.ssr == pytest.approx(np.sum((ws * (ys - ref(xs))) ** 2), rel=1e-10)


@pytest.mark.parametrize("k", [0, 1, 5, 20, 50])
def test_fixed_knots_match_dense_lstsq_in_the_hinge_basis(k):
    rng = np.random.default_rng(k)
    x = rng.uniform(0.0, 1.0, 2000)
    y = np.sin(7 * x) + rng.normal(0, 0.1, x.size)
    t = np.sort(rng.choice(np.linspace(0.01, 0.99, 500), k, replace=False))
    fit = fit_pwl(x, y, knots=t)
    coef = np.linalg.lstsq(hinge_basis(x, t), y, rcond=None)[0]
    ref = hinge_basis(x, t) @ coef
    assert np.max(np.abs(fit.spline(x) - ref)) <= 1e-10 * np.linalg.norm(y)
    # the spline continues the end segments (linear extrapolation)
    far = np.array([-5.0, 6.0])
    assert np.allclose(fit.spline(far), hinge_basis(far, t) @ coef, rtol=1e-9)


def test_zero_weights_drop_points_and_constant_extrapolation_holds_ends():
    x, y, _ = pwl_data(1)
    w = np.ones_like(x)
    w[::3] = 0.0
    a = fit_pwl(x, y, knots=[3.0, 6.0], weights=w)
    b = fit_pwl(x[w > 0], y[w > 0], knots=[3.0, 6.0])
    assert a.n == b.n == int(np.sum(w > 0))
    assert a.ssr == pytest.approx(b.ssr, rel=1e-12)
    c = fit_pwl(x, y, knots=[3.0, 6.0], extrapolate="constant")
    lo, hi = c.x_range
    assert c.spline(lo - 100) == c.spline(lo) and c.spline(hi + 100) == c.spline(hi)


def test_rank_deficient_knots_are_named():
    x = np.concatenate([np.linspace(0, 1, 50), np.linspace(3, 4, 50)])
    y = x.copy()
    with pytest.raises(ValueError, match=r"rank deficient.*no data between \(1\.5"):
        fit_pwl(x, y, knots=[1.5, 2.0, 2.5])
    with pytest.raises(ValueError, match="strictly inside the data range"):
        fit_pwl(x, y, knots=[4.5])


# ------------------------------------------------------------------ free knots
@pytest.mark.parametrize("seed", range(5))
def test_free_knots_recover_the_true_knots_of_noise_free_data(seed):
    rng = np.random.default_rng(seed)
    t_true = np.sort(rng.uniform(1.0, 9.0, 3))
    while np.min(np.diff(t_true)) < 0.8:
        t_true = np.sort(rng.uniform(1.0, 9.0, 3))
    slopes = rng.choice([-2.0, -1.0, 1.0, 2.0], 4)
    while np.min(np.abs(np.diff(slopes))) == 0:
        slopes = rng.choice([-2.0, -1.0, 1.0, 2.0], 4)
    values = np.concatenate([[0.0], np.cumsum(slopes[1:-1] * np.diff(t_true))])
    truth = PiecewiseLinear(t_true, values, left_slope=slopes[0], right_slope=slopes[-1])
    x = np.sort(rng.uniform(0.0, 10.0, 500))
    fit = fit_pwl(x, truth(x), n_knots=3, seed=seed)
    np.testing.assert_allclose(fit.knots, t_true, atol=1e-6)
    assert fit.ssr <= 1e-12 * np.sum(truth(x) ** 2)


def test_free_knot_fit_is_no_worse_than_its_fixed_knot_refit_and_dense_search():
    x, y, truth = pwl_data(3, n=300)
    fit = fit_pwl(x, y, n_knots=3)
    assert fit.ssr == pytest.approx(fit_pwl(x, y, knots=fit.knots).ssr, rel=1e-12)
    # brute force over a grid of knot triples near the truth cannot do better
    grid = [np.linspace(tk - 0.3, tk + 0.3, 13) for tk in truth.knots]
    best = min(fit_pwl(x, y, knots=np.array(t)).ssr for t in itertools.product(*grid))
    assert fit.ssr <= best * (1 + 1e-9)


def test_select_knots_picks_the_true_number_by_bic():
    x, y, truth = pwl_data(4, n=600)
    chosen = select_knots(x, y, max_knots=6)
    assert chosen.knots.size == truth.knots.size
    aic = select_knots(x, y, max_knots=6, criterion="aic")
    assert aic.knots.size >= truth.knots.size


def test_information_criteria_follow_their_formulas():
    x, y, _ = pwl_data(5)
    fit = fit_pwl(x, y, n_knots=2)
    n, p = fit.n, fit.n_params
    assert p == 4 + 2 + 1
    assert fit.aic == pytest.approx(n * np.log(fit.ssr / n) + 2 * p)
    assert fit.bic == pytest.approx(n * np.log(fit.ssr / n) + p * np.log(n))
    exact = fit_pwl(np.arange(10.0), np.zeros(10), knots=[4.0])
    assert exact.ssr == 0 and exact.aic == -np.inf and "-inf" in exact.notes[0]


# ------------------------------------------------------------------ statistics
def test_delta_method_standard_errors_match_a_parametric_bootstrap():
    x, y, _ = pwl_data(6, n=200, sigma=0.1)
    fit = fit_pwl(x, y, n_knots=2, n_starts=0)
    rng = np.random.default_rng(123)
    sigma = np.sqrt(fit.ssr / (fit.n - fit.n_params + 1))
    knots, slopes = [], []
    for _ in range(400):
        yb = fit.spline(x) + rng.normal(0.0, sigma, x.size)
        refit = fit_pwl(x, yb, n_knots=2, n_starts=0)
        knots.append(refit.knots)
        nodes = np.concatenate([[refit.x_range[0]], refit.knots, [refit.x_range[1]]])
        slopes.append(np.diff(refit.spline(nodes)) / np.diff(nodes))
    np.testing.assert_allclose(fit.knot_se, np.std(knots, axis=0), rtol=0.25)
    np.testing.assert_allclose(fit.slope_se, np.std(slopes, axis=0), rtol=0.25)


def test_fixed_knot_standard_errors_equal_the_ols_covariance():
    x, y, _ = pwl_data(7)
    t = np.array([2.0, 5.0, 7.5])
    fit = fit_pwl(x, y, knots=t)
    nodes = np.concatenate([[fit.x_range[0]], t, [fit.x_range[1]]])
    b = hat_basis(x, nodes)
    cov = fit.ssr / (fit.n - b.shape[1]) * np.linalg.inv(b.T @ b)
    np.testing.assert_allclose(fit.value_se, np.sqrt(np.diag(cov)), rtol=1e-8)
    frame = fit.to_frame()
    assert list(frame["x"]) == list(nodes) and frame["value_se"].notna().all()


# ------------------------------------------------------------------ constraints
def brute_force_qp(g, r, a_ub, b_ub, a_eq, b_eq):
    """min v'Gv - 2r'v over every active set of the inequalities (small problems)."""
    best, best_v = np.inf, None
    m = a_ub.shape[0]
    for size in range(m + 1):
        for active in itertools.combinations(range(m), size):
            a = np.vstack([a_eq, a_ub[list(active)]])
            b = np.concatenate([b_eq, b_ub[list(active)]])
            kkt = np.block([[2 * g, a.T], [a, np.zeros((a.shape[0], a.shape[0]))]])
            try:
                sol = np.linalg.solve(kkt, np.concatenate([2 * r, b]))
            except np.linalg.LinAlgError:
                continue
            v = sol[: g.shape[0]]
            if m and np.any(a_ub @ v < b_ub - 1e-9):
                continue
            value = v @ g @ v - 2 * r @ v
            if value < best:
                best, best_v = value, v
    return best_v


CONSTRAINTS = {
    "increasing": {"monotone": "increasing"},
    "decreasing": {"monotone": "decreasing"},
    "convex": {"curvature": "convex"},
    "concave_through_origin": {"curvature": "concave", "through": [(0.0, 0.0)]},
    "slope_bounds": {"slope": (-0.2, 0.3)},
    "increasing_concave": {"monotone": "increasing", "curvature": "concave"},
    "increasing_convex": {"monotone": "increasing", "curvature": "convex"},
    "decreasing_concave": {"monotone": "decreasing", "curvature": "concave"},
    "increasing_slope_bounds": {"monotone": "increasing", "slope": (-0.2, 0.3)},
}
BOX = {  # bounds on slopes or on slope changes: solved by scipy's lsq_linear (BVLS)
    "increasing",
    "decreasing",
    "convex",
    "slope_bounds",
    "increasing_convex",
    "decreasing_concave",
    "increasing_slope_bounds",
}


@pytest.mark.parametrize("name", sorted(CONSTRAINTS))
def test_box_constraints_take_lsq_linear_and_agree_with_lsi(name):
    rng = np.random.default_rng(7)
    x = rng.uniform(0.0, 10.0, 300)
    y = np.sin(x) + 0.3 * x + rng.normal(0.0, 0.2, x.size)
    d = _lsq.Data.build(x, y, np.ones(x.size))
    t = (np.array([2.0, 4.0, 6.0, 8.0]) - d.x0) / d.xs
    cons = _Constraints.parse(CONSTRAINTS[name], d)
    box = cons.box(_lsq.nodes_of(t[None, :])[0])
    assert (box is not None) == (name in BOX)
    diag, off, rhs = (a[0] for a in _lsq.gram_exact(d, t))
    v = cons.solve(diag, off, rhs, t, d.y_mean)
    v_lsi = _lsq.lsi(_lsq.dense_gram(diag, off), rhs, *cons.matrices(t, d.y_mean))
    np.testing.assert_allclose(v, v_lsi, rtol=0, atol=1e-9 * (1 + np.abs(v_lsi).max()))


@pytest.mark.parametrize("name", sorted(CONSTRAINTS))
def test_constrained_fits_satisfy_kkt_and_match_a_brute_force_qp(name):
    rng = np.random.default_rng(len(name))
    x = rng.uniform(0.0, 10.0, 300)
    y = np.sin(x) + 0.3 * x + rng.normal(0.0, 0.2, x.size)
    t = np.array([2.0, 4.0, 6.0, 8.0])
    fit = fit_pwl(x, y, knots=t, constraints=CONSTRAINTS[name])
    nodes = np.concatenate([[x.min()], t, [x.max()]])
    b = hat_basis(x, nodes)
    g, r = b.T @ b, b.T @ y
    v = fit.spline(nodes)
    p = nodes.size
    slope = (np.eye(p, k=1) - np.eye(p))[:-1] / np.diff(nodes)[:, None]
    rows, rhs, eq, eq_rhs = [], [], np.zeros((0, p)), np.zeros(0)
    spec = CONSTRAINTS[name]
    if "monotone" in spec:
        rows.append((1 if spec["monotone"] == "increasing" else -1) * slope)
        rhs.append(np.zeros(p - 1))
    if "curvature" in spec:
        rows.append((1 if spec["curvature"] == "convex" else -1) * np.diff(slope, axis=0))
        rhs.append(np.zeros(p - 2))
    if "slope" in spec:
        rows += [slope, -slope]
        rhs += [np.full(p - 1, spec["slope"][0]), np.full(p - 1, -spec["slope"][1])]
    if "through" in spec:
        eq = hat_basis(np.array([0.0]), nodes)
        eq_rhs = np.array([0.0])
    a_ub, b_ub = np.vstack(rows), np.concatenate(rhs)
    # feasibility and KKT: 2(Gv - r) = A_active' lambda + A_eq' mu, lambda >= 0
    slack = a_ub @ v - b_ub
    assert np.all(slack >= -1e-9 * (1 + np.abs(b_ub)))
    active = np.abs(slack) <= 1e-7
    mat = np.vstack([a_ub[active], eq]).T
    grad = 2 * (g @ v - r)
    scale = 1 + np.linalg.norm(2 * r)
    if mat.size:  # multipliers >= 0 for the active inequalities (degenerate sets included)
        n_ub = int(active.sum())
        lb = np.r_[np.zeros(n_ub), np.full(eq.shape[0], -np.inf)]
        mult = lsq_linear(mat, grad, bounds=(lb, np.inf), method="bvls", tol=1e-14).x
        grad = grad - mat @ mult
    assert np.linalg.norm(grad) <= 1e-9 * scale
    ref = brute_force_qp(g, r, a_ub, b_ub, eq, eq_rhs)
    ssr_ref = np.sum((y - b @ ref) ** 2)
    assert fit.ssr == pytest.approx(ssr_ref, rel=1e-9)
    if spec.get("through"):
        assert abs(fit.spline(0.0)) <= 1e-9


def test_active_constraints_leave_standard_errors_none_with_a_reason():
    x = np.linspace(0, 10, 200)
    y = np.sin(x)
    fit = fit_pwl(x, y, knots=[3.0, 6.0], constraints={"monotone": "increasing"})
    assert fit.value_se is None and "constraint is active" in " ".join(fit.notes)


def test_free_knots_with_concave_constraint_fit_a_fundamental_diagram():
    rng = np.random.default_rng(0)
    rho = rng.uniform(0, 120, 500)
    q = np.minimum(100 * rho, 20 * (120 - rho)) * (1 + rng.normal(0, 0.05, rho.size))
    fit = fit_pwl(rho, q, n_knots=1, constraints={"curvature": "concave", "through": [(0.0, 0.0)]})
    assert abs(fit.knots[0] - 20.0) < 1.0
    assert abs(fit.spline(0.0)) < 1e-6 * np.max(q)


# ------------------------------------------------------------------ bad input
BAD = [
    (lambda: fit_pwl([0.0, 1.0, np.nan], [0, 1, 2], n_knots=0), ValueError, r"`x` must be finite"),
    (
        lambda: fit_pwl([0.0, 1.0, 2.0], [0, np.inf, 2], n_knots=0),
        ValueError,
        r"`y` must be finite",
    ),
    (
        lambda: fit_pwl([0.0, 1.0, 2.0], [0, 1], n_knots=0),
        ValueError,
        r"`y` must have one entry per x",
    ),
    (
        lambda: fit_pwl([1.0, 1.0, 1.0], [0, 1, 2], n_knots=0),
        ValueError,
        r"`x` must not be constant",
    ),
    (
        lambda: fit_pwl([0.0, 1.0, 2.0], [0, 1, 2], n_knots=2),
        ValueError,
        r"fewer than the .* parameters",
    ),
    (
        lambda: fit_pwl([0.0, 1.0, 2.0], [0, 1, 2], n_knots=0, weights=[1, -1, 1]),
        ValueError,
        r"`weights` must be non-negative",
    ),
    (
        lambda: fit_pwl([0.0, 1.0, 2.0], [0, 1, 2], n_knots=0, weights=[1, np.nan, 1]),
        ValueError,
        r"`weights` must be finite",
    ),
    (
        lambda: fit_pwl([0.0, 1.0, 2.0], [0, 1, 2], n_knots=0, weights=[0, 0, 0]),
        ValueError,
        r"at least one positive",
    ),
    (
        lambda: fit_pwl(np.arange(9.0), np.arange(9.0), knots=[5.0, 3.0]),
        ValueError,
        r"`knots` must be strictly increasing",
    ),
    (lambda: fit_pwl(np.arange(9.0), np.arange(9.0), n_knots=-1), ValueError, r">= 0"),
    (lambda: fit_pwl(np.arange(9.0), np.arange(9.0), n_knots=1, seed=1.5), TypeError, r"`seed`"),
    (
        lambda: fit_pwl(np.arange(9.0), np.arange(9.0), knots=[4.0], extrapolate="cubic"),
        ValueError,
        r"`extrapolate` must be one of",
    ),
    (
        lambda: fit_pwl(np.arange(9.0), np.arange(9.0), knots=[4.0], constraints={"convex": True}),
        ValueError,
        r"unknown keys",
    ),
    (
        lambda: fit_pwl(
            np.arange(9.0), np.arange(9.0), knots=[4.0], constraints={"monotone": "up"}
        ),
        ValueError,
        r"constraints\['monotone'\]",
    ),
    (
        lambda: fit_pwl(np.arange(9.0), np.arange(9.0), knots=[4.0], constraints=[1]),
        TypeError,
        r"`constraints` must be a dict",
    ),
    (
        lambda: fit_pwl(
            np.arange(9.0),
            np.arange(9.0),
            knots=[4.0],
            constraints={"monotone": "increasing", "through": [(0, 5), (8, 0)]},
        ),
        ValueError,
        r"infeasible",
    ),
]


@pytest.mark.parametrize("call, exc, match", BAD)
def test_bad_input_raises_a_clear_error(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ------------------------------------------- the knots are named, one way only
X9, Y9 = np.arange(9.0), np.abs(np.arange(9.0) - 4.0)


@pytest.mark.parametrize(
    ("third", "match"),
    [
        (3, r"by keyword; write n_knots=3 for 3 free knot\(s\), or knots=\[3\] for one fixed"),
        (np.int64(2), r"by keyword; write n_knots=2 for 2 free knot\(s\), or knots=\[2\]"),
        (3.0, r"by keyword; write n_knots=3 for 3 free knot\(s\), or knots=\[3\.0\] for one"),
        (2.5, r"by keyword; write knots=\[2\.5\] for one fixed knot at 2\.5$"),
        ([2.0, 5.0], r"by keyword; pass fixed knots as knots=\.\.\., or a number of free"),
    ],
)
def test_a_positional_knot_argument_is_refused_naming_the_keyword(third, match):
    with pytest.raises(TypeError, match=match):
        fit_pwl(X9, Y9, third)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"n_knots": 1, "knots": [4.0]}, TypeError, r"exactly one of `n_knots=` .*; got both"),
        ({}, TypeError, r"exactly one of `n_knots=` .* and `knots=` .*; got neither"),
        ({"n_knots": 2.0}, TypeError, r"`n_knots` must be an integer .*; got float 2\.0"),
        ({"n_knots": True}, TypeError, r"`n_knots` must be an integer .*; got bool True"),
        ({"n_knots": [4.0]}, TypeError, r"`n_knots` must be an integer .*; got list"),
        ({"n_knots": -1}, ValueError, r"`n_knots` must be >= 0; got -1"),
        ({"knots": 4}, TypeError, r"`knots` must be a sequence .*; got the scalar 4: .*n_knots=4"),
        ({"knots": np.float64(4.0)}, TypeError, r"got the scalar 4\.0: .*knots=\[4\.0\]"),
        ({"knots": "4"}, TypeError, r"`knots` must be a real array"),
    ],
)
def test_the_knot_keywords_are_checked(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fit_pwl(X9, Y9, **kwargs)


def test_n_knots_and_knots_give_the_fits_they_name():
    free = fit_pwl(X9, Y9, n_knots=1)
    fixed = fit_pwl(X9, Y9, knots=[3.0])
    assert free.free_knots and not fixed.free_knots
    np.testing.assert_allclose(free.knots, [4.0], atol=1e-9)
    np.testing.assert_array_equal(fixed.knots, [3.0])
    line = fit_pwl(X9, Y9, knots=[])
    assert line.ssr == pytest.approx(fit_pwl(X9, Y9, n_knots=0).ssr, rel=1e-12)


exact_seen: list[bool] = []


@pytest.mark.parametrize("seed", range(12))
def test_cell_optimum_is_the_best_fit_in_its_cell(seed):
    """Brute force over the closed cell: no knot vector there fits better than an exact
    cell optimum, and none below the cell's floor."""
    from pwlmodels.fit import _freeknots

    x, y, _ = pwl_data(seed, n=50, sigma=0.3)
    d = _lsq.Data.build(x, y, np.ones(x.size))
    obj = _freeknots._Objective(d, None)
    rng = np.random.default_rng(seed)
    k = 2 + seed % 2
    if seed < 6:  # random cells: their optima pin knots to data points
        gaps = np.sort(rng.choice(np.arange(1, 16), k, replace=False)) * 3  # >= 2 points apart
    else:  # the cells of free-knot fits: often an interior optimum
        gaps = np.searchsorted(d.u, (fit_pwl(x, y, n_knots=k).knots - d.x0) / d.xs)
    lo, hi = d.u[gaps - 1], d.u[gaps]  # the gaps between data points holding the knots
    opt, side = (a[0] for a in _freeknots._cell_optima(d, ((lo + hi) / 2)[None]))
    exact = not side.any()
    assert np.isfinite(opt).all() and (opt >= lo).all() and (opt <= hi).all()
    points = 61 if k == 2 else 17
    grids = np.meshgrid(*[np.linspace(a, b, points) for a, b in zip(lo, hi, strict=True)])
    best = obj.batch(np.stack([g.ravel() for g in grids], axis=1)).min()
    if exact:  # an interior optimum: the best of the cell
        assert ((opt > lo) & (opt < hi)).all()
        assert obj.batch(opt[None])[0] <= best * (1 + 1e-12)
    else:  # a point on the cell's boundary
        assert ((opt == lo) | (opt == hi)).any()
    exact_seen.append(bool(exact))
    floor = _freeknots._cell_floor(d, ((lo + hi) / 2)[None])[0]
    assert floor <= best * (1 + 1e-12)


def test_cell_optima_were_exact_on_some_cells():
    """The test above is not vacuous: some of its cells have an interior optimum."""
    if len(exact_seen) < 12:
        pytest.skip("runs after test_cell_optimum_is_the_best_fit_in_its_cell")
    assert 2 <= sum(exact_seen) < 12
