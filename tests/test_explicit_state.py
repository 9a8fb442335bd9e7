"""explicit_mpc with constraints on the predicted states (``x_constraints``): the law against
an online QP solved at random states (SLSQP polished on its active set), the unconstrained
path where the constraints never bind, PPOPT, and hostile arguments."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg
from scipy.optimize import linprog, minimize

from applications.control import explicit_mpc

A = np.array([[1.0, 1.0], [0.0, 1.0]])
B = np.array([[0.5], [1.0]])
BOX = np.array([5.0, 2.0])
SPEED = [5.0, 1.0]  # |x_k| <= (5, 1): the speed limited on every predicted state
POLY = (
    np.array([[0.0, 1.0], [0.0, -1.0], [1.0, 1.0], [-1.0, -1.0]]),
    np.array([1.2, 1.2, 4.0, 4.0]),
)
CASES = {"speed box, N=3": (3, SPEED), "polytope, N=2": (2, POLY)}


def program(horizon: int, C: np.ndarray, d: np.ndarray):
    """H, F and ``G U <= w + S x`` built from simulated rollouts, independent of the module."""
    n, P = 2, linalg.solve_discrete_are(A, B, np.eye(2), 0.1 * np.eye(1))

    def states(x, U):  # x_1..x_N
        out = []
        for u in U:
            x = A @ x + B[:, 0] * u
            out.append(x)
        return np.array(out)

    # predicted states are linear in (x, U): read the matrices off unit rollouts
    phi = np.column_stack([states(e, np.zeros(horizon)).ravel() for e in np.eye(n)])
    gam = np.column_stack([states(np.zeros(n), e).ravel() for e in np.eye(horizon)])
    qbar = linalg.block_diag(*([np.eye(2)] * (horizon - 1) + [P]))
    H = gam.T @ qbar @ gam + 0.1 * np.eye(horizon)
    F = phi.T @ qbar @ gam
    Cb = np.kron(np.eye(horizon), C)
    G = np.vstack([np.eye(horizon), -np.eye(horizon), Cb @ gam])
    w = np.r_[np.ones(2 * horizon), np.tile(d, horizon)]
    S = np.vstack([np.zeros((2 * horizon, n)), -Cb @ phi])
    return H, F, G, w, S


def as_pair(xc):
    if isinstance(xc, tuple):
        return xc
    return np.vstack([np.eye(2), -np.eye(2)]), np.r_[xc, xc]


def slack(G, w, S, x) -> float:
    """The largest t with some U meeting ``G U + t <= w + S x`` (negative: infeasible)."""
    k = G.shape[1]
    res = linprog(
        np.r_[np.zeros(k), -1.0], np.c_[G, np.ones(len(w))], w + S @ x,
        bounds=[(None, None)] * k + [(None, 1.0)], method="highs",
    )  # fmt: skip
    return -res.fun


def online(H, F, G, w, S, x) -> np.ndarray:
    """The QP's first move: SLSQP, then the KKT system on its active set, checked."""
    k, h = G.shape[1], w + S @ x
    res = minimize(
        lambda U: U @ H @ U + 2 * x @ F @ U, np.zeros(k), jac=lambda U: 2 * H @ U + 2 * F.T @ x,
        constraints=[{"type": "ineq", "fun": lambda U: h - G @ U, "jac": lambda U: -G}],
        method="SLSQP", options={"ftol": 1e-14, "maxiter": 500},
    )  # fmt: skip
    act = np.flatnonzero(h - G @ res.x < 1e-7)
    kkt = np.block([[2 * H, G[act].T], [G[act], np.zeros((len(act), len(act)))]])
    sol = np.linalg.lstsq(kkt, np.r_[-2 * F.T @ x, h[act]], rcond=None)[0]
    U, mu = sol[:k], sol[k:]
    assert (G @ U <= h + 1e-10).all() and (mu >= -1e-9).all()  # an optimum (convex QP)
    return U[0]


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    horizon, xc = CASES[request.param]
    law = explicit_mpc(A, B, np.eye(2), 0.1, horizon, 1.0, BOX, x_constraints=xc)
    return horizon, xc, law


def test_state_constrained_law_equals_the_online_qp_at_random_states(case):
    horizon, xc, law = case
    H, F, G, w, S = program(horizon, *as_pair(xc))
    x = np.random.default_rng(0).uniform(-BOX, BOX, (400, 2))
    t = np.array([slack(G, w, S, xi) for xi in x])
    inside, outside = x[t > 1e-6], x[t < -1e-6]
    assert len(inside) > 100 and len(outside) > 20  # the constraints cut the box
    expected = np.array([online(H, F, G, w, S, xi) for xi in inside[:150]])
    np.testing.assert_allclose(law(inside[:150]), expected, rtol=0, atol=1e-8)
    assert np.isnan(law(outside, outside="nan")).all()  # infeasible: no law


def test_constraints_that_never_bind_give_the_unconstrained_law():
    loose = explicit_mpc(A, B, np.eye(2), 0.1, 3, 1.0, BOX, x_constraints=1e3)
    plain = explicit_mpc(A, B, np.eye(2), 0.1, 3, 1.0, BOX)
    assert loose.n_regions == plain.n_regions and loose.n_pieces == plain.n_pieces
    x = np.random.default_rng(1).uniform(-BOX, BOX, (5000, 2))
    np.testing.assert_allclose(loose(x), plain(x), rtol=0, atol=1e-12)


def test_ppopt_finds_the_same_state_constrained_regions_and_law(case):
    pytest.importorskip("ppopt", reason="the `mpc` extra (ppopt==1.6.12)")
    pytest.importorskip("gurobipy", reason="PPOPT's LPs need gurobipy or cvxopt")
    from ppopt.mp_solvers.solve_mpqp import mpqp_algorithm, solve_mpqp
    from ppopt.mpqp_program import MPQP_Program
    from ppopt.solver import Solver

    horizon, xc, law = case
    H, F, G, w, S = program(horizon, *as_pair(xc))
    eye = np.vstack([np.eye(2), -np.eye(2)])
    prog = MPQP_Program(
        G, w[:, None], np.zeros((horizon, 1)), 2 * F.T, 2 * H, eye, np.r_[BOX, BOX][:, None],
        S, solver=Solver({"lp": "gurobi", "qp": "daqp"}),
    )  # fmt: skip
    solution = solve_mpqp(prog, mpqp_algorithm.combinatorial)
    assert len(solution.critical_regions) == law.n_regions
    for region in law.regions:
        x = region.chebyshev_center()[0]
        np.testing.assert_allclose(solution.evaluate(x[:, None])[0, 0], law(x), atol=1e-8)


@pytest.mark.parametrize(
    "xc, error, text",
    [
        (-1.0, ValueError, "`x_constraints` must hold the origin"),
        ([1.0, 1.0, 1.0], ValueError, "`x_constraints` must be a number or have shape"),
        ("tight", TypeError, "`x_constraints`"),
        ([1.0, np.inf], ValueError, "`x_constraints` must be finite"),
        ((np.eye(2), np.ones(2), 1.0), TypeError, "`x_constraints` must be"),
        ((np.ones((2, 3)), np.ones(2)), ValueError, "`x_constraints` must have shape"),
        ((np.eye(2), np.ones(3)), ValueError, r"d of shape \(2,\)"),
        ((np.eye(2), np.array([1.0, 0.0])), ValueError, "origin strictly inside"),
    ],
)
def test_hostile_state_constraints_name_the_argument(xc, error, text):
    with pytest.raises(error, match=text):
        explicit_mpc(A, B, np.eye(2), 0.1, 2, 1.0, BOX, x_constraints=xc)
