"""explicit_mpc: the exact MPC law against the online QP, PPOPT and its exact ReLU network."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import linalg
from scipy.optimize import lsq_linear

from applications.control import _explicit, explicit_mpc
from applications.control._explicit import cartpole
from pwlmodels import evaluate, pwa_rounding_bound, pwa_to_relu

DI = dict(  # the control study's double integrator
    A=[[1.0, 1.0], [0.0, 1.0]], B=[[0.5], [1.0]], Q=np.eye(2), R=0.1, horizon=5, u_max=1.0,
    x_box=[5.0, 2.0],
)  # fmt: skip
CART = dict(
    A=cartpole(0.1)[0], B=cartpole(0.1)[1], Q=np.diag([1.0, 1.0, 10.0, 1.0]), R=1.0, horizon=6,
    u_max=1.0, x_box=[1.0, 1.0, 0.3, 1.0],
)  # fmt: skip
ONE = dict(A=[[1.2]], B=[[1.0]], Q=[[1.0]], R=0.5, horizon=4, u_max=0.5, x_box=3.0)
TWO_INPUTS = dict(
    A=[[1.1, 0.2, 0.0], [0.0, 0.9, 0.3], [0.1, 0.0, 1.05]],
    B=[[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]], Q=np.eye(3), R=np.diag([1.0, 2.0]), horizon=3,
    u_max=[1.0, 0.4], x_box=[2.0, 2.0, 2.0],
)  # fmt: skip
PLANTS = {"double_integrator": DI, "cartpole": CART, "one_state": ONE, "two_inputs": TWO_INPUTS}


# ------------------------------------------------------------------ the reference
def _cost_matrix(p: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """H, F and the bounds of the MPC cost ``U'HU + 2 x'FU + ...``, read off rollouts.

    Independent of the module's condensing: the cost J(z), z = (x, U), is a quadratic
    form z'Wz, so ``W_ij = (J(e_i + e_j) - J(e_i) - J(e_j)) / 2`` from simulations.
    """
    A, B = np.atleast_2d(p["A"]), np.array(p["B"], float).reshape(len(p["A"]), -1)
    Q, R = np.atleast_2d(p["Q"]), np.atleast_2d(p["R"])
    P = linalg.solve_discrete_are(A, B, Q, R)
    n, m, N = A.shape[0], B.shape[1], p["horizon"]

    def cost(z: np.ndarray) -> float:
        x, total = z[:n], 0.0
        for k in range(N):
            u = z[n + k * m : n + (k + 1) * m]
            total += x @ Q @ x + u @ R @ u
            x = A @ x + B @ u
        return total + x @ P @ x

    size = n + N * m
    e = np.eye(size)
    diag = np.array([cost(e[i]) for i in range(size)])
    W = np.array([[(cost(e[i] + e[j]) - diag[i] - diag[j]) / 2 for j in range(size)]
                  for i in range(size)])  # fmt: skip
    np.fill_diagonal(W, diag)
    bound = np.tile(np.broadcast_to(np.asarray(p["u_max"], float), (m,)), N)
    return W[n:, n:], W[:n, n:], bound


def online_qp(p: dict, states: np.ndarray) -> np.ndarray:
    """The first move at each state, by bounded least squares polished to the exact
    active-set solution (primal-dual active-set steps until the KKT conditions hold)."""
    H, F, ub = _cost_matrix(p)
    L = np.linalg.cholesky(H)
    m = len(ub) // p["horizon"]
    out = []
    for x in states:
        g = F.T @ x
        U = lsq_linear(L.T, -linalg.solve_triangular(L, g, lower=True), bounds=(-ub, ub),
                       method="bvls", tol=1e-14).x  # fmt: skip
        sign = np.where(U >= ub * (1 - 1e-9), 1, np.where(U <= -ub * (1 - 1e-9), -1, 0))
        for _ in range(50):
            free = sign == 0
            U = sign * ub
            if free.any():
                rhs = g[free] + H[np.ix_(free, ~free)] @ U[~free]
                U[free] = -np.linalg.solve(H[np.ix_(free, free)], rhs)
            lam = -(H @ U + g) * sign  # >= 0 at an optimal bound
            new = sign.copy()
            new[free & (U > ub)], new[free & (U < -ub)] = 1, -1
            new[(sign != 0) & (lam < 0)] = 0
            if (new == sign).all():
                break
            sign = new
        else:
            raise AssertionError("the active-set polish did not converge")
        out.append(U[:m])
    return np.array(out)


def _states(p: dict, f, count: int, seed: int) -> np.ndarray:
    """Random states in the box and every region's Chebyshev centre."""
    box = np.broadcast_to(np.asarray(p["x_box"], float), (f.n_inputs,))
    rng = np.random.default_rng(seed)
    centres = np.array([r.chebyshev_center()[0] for r in f.regions])
    return np.vstack([rng.uniform(-1, 1, (count, len(box))) * box, centres])


@pytest.fixture(scope="module")
def laws() -> dict:
    return {name: explicit_mpc(**p) for name, p in PLANTS.items()}


# ----------------------------------------------------------------- against the QP
@pytest.mark.parametrize("name", list(PLANTS))
def test_law_equals_the_online_qp_at_random_states_and_region_centres(laws, name):
    p, f = PLANTS[name], laws[name]
    x = _states(p, f, 300, seed=1)
    want = online_qp(p, x)
    got = f(x).reshape(len(x), -1)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-8)
    assert (np.abs(got) <= np.max(p["u_max"]) + 1e-12).all()


def test_the_region_counts_are_those_of_the_study_and_the_benchmark(laws):
    counts = {k: (f.n_regions, f.n_pieces) for k, f in laws.items()}
    assert counts["double_integrator"] == (29, 7)  # as the control study reported before
    assert counts["cartpole"] == (69, 33)
    assert laws["two_inputs"].n_outputs == 2 and laws["one_state"].n_inputs == 1


def test_the_unconstrained_region_holds_the_lqr_law(laws):
    p = TWO_INPUTS
    A, B, R = np.array(p["A"]), np.array(p["B"]), np.array(p["R"])
    P = linalg.solve_discrete_are(A, B, p["Q"], R)
    k_lqr = np.linalg.solve(R + B.T @ P @ B, B.T @ P @ A)
    x = np.random.default_rng(2).uniform(-1e-3, 1e-3, (20, 3))
    np.testing.assert_allclose(laws["two_inputs"](x), -x @ k_lqr.T, rtol=0, atol=1e-13)


@pytest.mark.parametrize("name", ["double_integrator", "two_inputs"])
def test_pruned_search_finds_every_optimal_active_set(name):
    p = PLANTS[name]
    A, B, Q, R, N, u_max, box = _explicit._check_problem(*p.values())
    qp = _explicit.condense(A, B, Q, R, N, u_max)
    pruned = _explicit.critical_regions(qp, box)
    every = _explicit.critical_regions(qp, box, complete=True)
    assert sorted(r.signs for r in pruned) == sorted(r.signs for r in every)


def test_a_region_the_pruning_misses_is_caught_by_the_volume_check(monkeypatch):
    region, missed = _explicit._region, []

    def lossy(qp, signs, box):  # the first time, pretend a saturated set is not optimal
        if signs == (1, 0, 0, 0, 0) and not missed:
            missed.append(signs)
            return None
        return region(qp, signs, box)

    monkeypatch.setattr(_explicit, "_region", lossy)
    f = explicit_mpc(**DI)
    assert missed and f.n_regions == 29  # the full search ran and found it


def test_a_full_search_too_long_to_run_is_refused_naming_horizon():
    qp = _explicit.Condensed(np.eye(12), np.zeros((1, 12)), np.eye(1), np.ones(12), 1)
    with pytest.raises(ValueError, match="3\\^12 active sets is too long; shorten `horizon`"):
        _explicit.critical_regions(qp, np.ones(1), complete=True)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    a=st.lists(st.floats(-1.2, 1.2), min_size=4, max_size=4),
    b=st.lists(st.floats(0.2, 1.0), min_size=2, max_size=2),
    u_max=st.floats(0.1, 2.0),
    horizon=st.integers(1, 4),
)
def test_random_plants_law_is_bounded_zero_at_zero_and_the_qp_solution(a, b, u_max, horizon):
    p = dict(A=np.reshape(a, (2, 2)), B=np.reshape(b, (2, 1)), Q=np.eye(2), R=0.3,
             horizon=horizon, u_max=u_max, x_box=[2.0, 1.0])  # fmt: skip
    f = explicit_mpc(**p)
    x = _states(p, f, 20, seed=0)
    np.testing.assert_allclose(f(x), online_qp(p, x)[:, 0], rtol=0, atol=1e-8)
    assert abs(f([[0.0, 0.0]])[0]) <= 1e-15 and np.abs(f(x)).max() <= u_max * (1 + 1e-12)


# ------------------------------------------------------------------ the exact network
@pytest.mark.parametrize("name", ["double_integrator", "cartpole", "two_inputs"])
def test_pwa_to_relu_of_the_law_is_exact_within_its_rounding_bound(laws, name):
    f = laws[name]
    net = pwa_to_relu(f)
    vertices = np.vstack([r.vertices() for r in f.regions])
    x = np.vstack([_states(PLANTS[name], f, 20_000, seed=3), vertices])
    error = np.abs(evaluate(net, x).reshape(len(x), -1) - f(x).reshape(len(x), -1)).max()
    assert error <= pwa_rounding_bound(f, net)


# ------------------------------------------------------------------------- PPOPT
@pytest.mark.parametrize("name", ["double_integrator", "two_inputs"])
def test_ppopt_finds_the_same_regions_and_law(laws, name):
    pytest.importorskip("ppopt", reason="the `mpc` extra (ppopt==1.6.12)")
    pytest.importorskip("gurobipy", reason="PPOPT's LPs need gurobipy or cvxopt")
    from ppopt.mp_solvers.solve_mpqp import mpqp_algorithm, solve_mpqp

    p, f = PLANTS[name], laws[name]
    H, F, ub = _cost_matrix(p)
    box = np.broadcast_to(np.asarray(p["x_box"], float), (f.n_inputs,))
    program = _explicit.ppopt_program(H, F, ub, box)
    solution = solve_mpqp(program, mpqp_algorithm.combinatorial)
    assert len(solution.critical_regions) == f.n_regions
    m = f.n_outputs
    theirs = [linalg_chebyshev(cr.E, cr.f[:, 0]) for cr in solution.critical_regions]
    ours = [r.chebyshev_center()[0] for r in f.regions]
    for x in ours + theirs:
        np.testing.assert_allclose(
            solution.evaluate(x[:, None])[:m, 0], np.atleast_1d(f(x)), rtol=0, atol=1e-8
        )
    # one of their regions holds each of our centres, and no two share one
    held = {next(i for i, cr in enumerate(solution.critical_regions) if cr.is_inside(x[:, None]))
            for x in ours}  # fmt: skip
    assert len(held) == f.n_regions


def linalg_chebyshev(E: np.ndarray, b: np.ndarray) -> np.ndarray:
    from pwlmodels import Polytope

    return Polytope(E, b).chebyshev_center()[0]


# --------------------------------------------------------------------- bad input
BAD = [
    (dict(A=[[1.0, 1.0]]), ValueError, "`A` must have shape"),
    (dict(A="a"), TypeError, "`A`"),
    (dict(A=[[1.0, np.nan], [0.0, 1.0]]), ValueError, "`A` must be finite"),
    (dict(B=[[0.5], [1.0], [2.0]]), ValueError, "`B` must have shape"),
    (dict(B=[[0.5], [np.inf]]), ValueError, "`B` must be finite"),
    (dict(Q=[[1.0, 0.5], [0.0, 1.0]]), ValueError, "`Q` must be symmetric"),
    (dict(Q=-np.eye(2)), ValueError, "`Q` must be positive semidefinite"),
    (dict(Q=np.eye(3)), ValueError, "`Q` must have shape"),
    (dict(R=0.0), ValueError, "`R` must be positive definite"),
    (dict(R=np.eye(2)), ValueError, "`R` must have shape"),
    (dict(R=[[1.0, 2.0], [3.0, 1.0]]), ValueError, "`R` must have shape"),
    (dict(horizon=0), ValueError, "`horizon` must be >= 1"),
    (dict(horizon=2.5), TypeError, "`horizon` must be an integer"),
    (dict(horizon=True), TypeError, "`horizon` must be an integer"),
    (dict(horizon=np.bool_(True)), TypeError, "`horizon` must be an integer"),
    (dict(horizon=3.0), TypeError, "`horizon` must be an integer"),
    (dict(u_max=0.0), ValueError, "`u_max` must be positive"),
    (dict(u_max=[1.0, 2.0]), ValueError, r"`u_max` must be a number or have shape \(1,\)"),
    (dict(u_max=np.inf), ValueError, "`u_max` must be finite"),
    (dict(u_max="1"), TypeError, "`u_max`"),
    (dict(x_box=[5.0, -2.0]), ValueError, r"`x_box` must be positive; got x_box\[1\]"),
    (dict(x_box=[5.0]), ValueError, r"`x_box` must be a number or have shape \(2,\)"),
    (dict(x_box=np.nan), ValueError, "`x_box` must be finite"),
    (dict(A=np.diag([2.0, 1.0]), B=[[0.0], [1.0]]), ValueError, "`A`, `B` must be stabilizable"),
]


@pytest.mark.parametrize(("change", "error", "match"), BAD, ids=lambda v: str(v)[:40])
def test_bad_arguments_are_refused_naming_them(change, error, match):
    with pytest.raises(error, match=match):
        explicit_mpc(**{**DI, **change})


def test_numpy_integer_horizon_and_max_regions_are_accepted():
    want = explicit_mpc(**DI)
    got = explicit_mpc(**{**DI, "horizon": np.int64(5)}, max_regions=np.int32(10_000))
    assert (got.n_regions, got.n_pieces) == (want.n_regions, want.n_pieces)


def test_too_many_regions_is_refused_naming_max_regions():
    with pytest.raises(ValueError, match="`max_regions` = 5"):
        explicit_mpc(**DI, max_regions=5)
    with pytest.raises(TypeError, match="`max_regions` must be an integer"):
        explicit_mpc(**DI, max_regions=5.0)
    with pytest.raises(TypeError, match="`max_regions` must be an integer"):
        explicit_mpc(**DI, max_regions=True)
    with pytest.raises(ValueError, match="`max_regions` must be >= 1"):
        explicit_mpc(**DI, max_regions=0)
