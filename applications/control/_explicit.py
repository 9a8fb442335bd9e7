"""Explicit linear MPC with box input constraints: the exact first-move law as a PiecewiseAffine.

The MPC problem at state x (Bemporad, Morari, Dua, Pistikopoulos 2002)::

    min  sum_{k<N} (x_k' Q x_k + u_k' R u_k) + x_N' P x_N
    s.t. x_{k+1} = A x_k + B u_k,  x_0 = x,  |u_k| <= u_max (entrywise),

with P the discrete Riccati solution, is condensed (``U = (u_0, ..., u_{N-1})``,
``x_k`` eliminated) into the multiparametric QP ``min_U U'HU + 2 x'FU`` over the
box ``|U| <= u_max``. For an active set (each move at its lower bound, upper bound,
or free) the KKT conditions give U and the multipliers as affine functions of x;
the set is optimal exactly on its *critical region*: the free moves within their
bounds and every multiplier >= 0, a polytope in x.

Enumeration (:func:`critical_regions`) is combinatorial, as in Gupta, Bhartiya and
Nataraj (2011). Their pruning drops the supersets of infeasible active sets, but with
bounds on the moves only every active set is feasible, so the search here prunes by
optimal parents instead: an active set is examined only when it extends (by one
bound) a set whose critical region has an interior point in the state box, and kept
when its own has one (a Chebyshev ball, one HiGHS LP). That pruning is a heuristic,
so the result is *certified* afterwards: the regions' volumes must add up to the
box's (every state is feasible, so the regions tile the box); if they do not, every
active set is examined.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from pwlmodels import PiecewiseAffine, Polytope

from .._checks import check_count
from ._checks import as_array, as_matrix, check_weights, riccati
from ._mpqp import check_state_constraints, constraint_rows, general_regions

__all__ = ["explicit_mpc"]

_RADIUS = 1e-8  # a critical region counts when its Chebyshev ball, in units of the box
# (x_j / x_box_j), exceeds this x the unit box's diagonal
_FULL_SEARCH = 3**11  # the most active sets the full search examines
_MAX_MOVES = 1000  # the most moves (horizon x inputs) condensed: H is (moves, moves)
_COVER = 1e-6  # a relative gap between the regions' volumes and the box's: search every set


@dataclass(frozen=True)
class Condensed:
    """The condensed QP ``min_U U'HU + 2 x'FU`` over ``|U| <= u_bound``.

    ``H`` (Nm, Nm) positive definite, ``F`` (n, Nm), ``P`` the terminal cost,
    ``u_bound`` (Nm,) the bound of every move, ``m`` the number of inputs; the
    predicted states are ``X = phi x + gam U`` (x_1..x_N stacked).
    """

    H: np.ndarray
    F: np.ndarray
    P: np.ndarray
    u_bound: np.ndarray
    m: int
    phi: np.ndarray | None = None
    gam: np.ndarray | None = None


@dataclass(frozen=True)
class CriticalRegion:
    """An optimal active set (``signs``: -1 lower, +1 upper, 0 free, per move), its
    critical region in the state box, and the moves ``U = M x + v`` there."""

    signs: tuple[int, ...]
    poly: Polytope
    M: np.ndarray
    v: np.ndarray


def condense(A, B, Q, R, horizon: int, u_max) -> Condensed:
    """The condensed QP of checked problem data (see :func:`explicit_mpc`)."""
    n, m = B.shape
    P = riccati(A, B, Q, R)
    powers = [np.eye(n)]
    for _ in range(horizon):
        powers.append(A @ powers[-1])
    phi = np.vstack(powers[1:])  # x_1, ..., x_N from x_0
    gam = np.zeros((horizon * n, horizon * m))
    for k, j in itertools.product(range(horizon), repeat=2):
        if j <= k:
            gam[k * n : (k + 1) * n, j * m : (j + 1) * m] = powers[k - j] @ B
    qbar = linalg.block_diag(*([Q] * (horizon - 1) + [P]))
    H = gam.T @ qbar @ gam + np.kron(np.eye(horizon), R)
    F = phi.T @ qbar @ gam
    return Condensed((H + H.T) / 2, F, P, np.tile(u_max, horizon), m, phi, gam)


def _region(qp: Condensed, signs: tuple[int, ...], box: np.ndarray) -> CriticalRegion | None:
    """The critical region of one active set, or None when it has no interior point.

    The active constraints' gradients are distinct unit vectors (one bound per move),
    so LICQ holds for every active set and the multipliers are unique.
    """
    H, F, ub = qp.H, qp.F, qp.u_bound
    s = np.array(signs)
    fixed, free = np.flatnonzero(s != 0), np.flatnonzero(s == 0)
    M, v = np.zeros((len(s), len(box))), np.zeros(len(s))
    v[fixed] = s[fixed] * ub[fixed]
    if free.size:  # stationarity in the free moves
        hff = linalg.cho_factor(H[np.ix_(free, free)])
        M[free] = -linalg.cho_solve(hff, F[:, free].T)
        v[free] = -linalg.cho_solve(hff, H[np.ix_(free, fixed)] @ v[fixed])
    grad_x, grad_c = H @ M + F.T, H @ v  # half the gradient at U(x): grad_x x + grad_c
    low, up = np.flatnonzero(s < 0), np.flatnonzero(s > 0)
    n = len(box)
    a = np.vstack([np.eye(n), -np.eye(n), M[free], -M[free], -grad_x[low], grad_x[up]])
    b = np.concatenate([box, box, ub[free] - v[free], ub[free] + v[free], grad_c[low], -grad_c[up]])
    norms = np.linalg.norm(a, axis=1)
    flat = norms <= 1e-12 * norms.max()
    if (b[flat] < 0).any():  # a constant row that fails: the set is never optimal
        return None
    poly = Polytope(a[~flat], b[~flat])
    # the ball in units of the box (y = x / box): a threshold on the diagonal dropped
    # whole regions of a box 5e-3 by 2e3 wide (thin in x_1 only because x_1 is small)
    if Polytope(a[~flat] * box, b[~flat]).chebyshev_center()[1] <= _RADIUS * 2 * np.sqrt(n):
        return None
    return CriticalRegion(tuple(int(t) for t in s), poly, M, v)


def critical_regions(
    qp: Condensed, box: np.ndarray, *, complete: bool = False, max_regions: int = 10_000
) -> list[CriticalRegion]:
    """Every optimal active set whose critical region has an interior point in the box.

    ``complete=False`` extends only optimal sets (the unconstrained set first; each
    level adds one bound), then checks that the regions tile the box and searches
    every active set if they do not; ``complete=True`` searches every one (3^(Nm)).
    """
    size = len(qp.u_bound)
    if complete:
        if 3**size > _FULL_SEARCH:
            raise ValueError(
                f"the regions found do not tile the box and a full search of 3^{size} "
                "active sets is too long; shorten `horizon`"
            )
        found = [_region(qp, s, box) for s in itertools.product((0, -1, 1), repeat=size)]
        return [r for r in found if r is not None]
    level, seen, found = [(0,) * size], {(0,) * size}, []
    while level:
        children = []
        for signs in level:
            reg = _region(qp, signs, box)
            if reg is None:
                continue
            found.append(reg)
            if len(found) > max_regions:
                raise ValueError(
                    f"more than `max_regions` = {max_regions} critical regions; raise it, "
                    "or shorten `horizon`"
                )
            for i in np.flatnonzero(np.array(signs) == 0):
                for side in (-1, 1):
                    child = (*signs[:i], side, *signs[i + 1 :])
                    if child not in seen:
                        seen.add(child)
                        children.append(child)
        level = children
    covered = sum(r.poly.volume() for r in found)
    if abs(covered - np.prod(2 * box)) > _COVER * np.prod(2 * box):
        return critical_regions(qp, box, complete=True)
    return found


def _check_problem(A, B, Q, R, horizon, u_max, x_box):
    """The problem data as float64 arrays, each checked; a ValueError/TypeError names it."""
    A = as_matrix(A, "A")
    n = A.shape[0]
    A = as_matrix(A, "A", n, n)
    B = as_array(B, "B")
    B = as_matrix(B.reshape(n, 1) if B.ndim == 1 and B.size == n else B, "B", n)
    m = B.shape[1]
    Q, R = check_weights(Q, R, n, m)
    horizon = check_count(horizon, "horizon", 1)
    if horizon * m > _MAX_MOVES:  # 10**9 ran out of memory condensing
        raise ValueError(
            f"`horizon` x inputs must be at most {_MAX_MOVES} moves; got {horizon} x {m}"
        )
    limits = []
    for name, value, size in (("u_max", u_max, m), ("x_box", x_box, n)):
        arr = as_array(value, name)
        if arr.ndim == 0:
            arr = np.full(size, float(arr))
        if arr.shape != (size,):
            raise ValueError(f"`{name}` must be a number or have shape ({size},); got {arr.shape}")
        if (arr <= 0).any():
            j = int(np.argmax(arr <= 0))
            raise ValueError(f"`{name}` must be positive; got {name}[{j}] = {arr[j]!r}")
        limits.append(arr)
    return A, B, Q, R, horizon, limits[0], limits[1]


def explicit_mpc(
    A: object,
    B: object,
    Q: object,
    R: object,
    horizon: int,
    u_max: object,
    x_box: object,
    *,
    x_constraints: object = None,
    max_regions: int = 10_000,
) -> PiecewiseAffine:
    """The exact first-move law of linear MPC with box input constraints, on a state box.

    At state x the controller solves ``min sum_{k<N} (x_k'Q x_k + u_k'R u_k) +
    x_N'P x_N`` subject to ``x_{k+1} = A x_k + B u_k``, ``x_0 = x`` and ``|u_k| <=
    u_max`` (entrywise), with P the stabilizing solution of the discrete Riccati
    equation (``scipy.linalg.solve_discrete_are``: the unconstrained LQR cost-to-go),
    and applies ``u_0``. As a function of x this is a continuous piecewise-affine
    law on polyhedral critical regions (Bemporad et al. 2002), returned here exactly
    (to float64 rounding) on the box ``|x_j| <= x_box_j``.

    Method: the condensed multiparametric QP ``min_U U'HU + 2x'FU``, ``|U| <= u_max``,
    solved by active sets. An active set puts each of the ``N m`` moves at its lower
    bound, its upper bound or free; its constraints' gradients are distinct unit
    vectors, so LICQ always holds and the KKT system gives the moves and multipliers
    as affine functions of x. The set is kept when its critical region (free moves
    within bounds, multipliers >= 0, x in the box) holds a ball of radius above 1e-8
    of the box's diagonal, measured in units of the box (``x_j / x_box_j``), found by a
    Chebyshev LP (HiGHS). The sets are explored by
    cardinality from the unconstrained one, as in the combinatorial mpQP of Gupta,
    Bhartiya and Nataraj (2011); their pruning (no superset of an infeasible set)
    removes nothing here, where every set is feasible, so only sets whose region
    was kept are extended: the work grows with the number of regions, not with the
    ``3^(Nm)`` active sets. Since that pruning is not a theorem, the regions'
    volumes are summed afterwards and must equal the box's (every state is feasible,
    so the regions tile it); otherwise all ``3^(Nm)`` sets are searched. A geometric
    exploration across facets (Bemporad et al. 2002) would also scale with the
    regions but needs care at degenerate facets; the combinatorial search has none.
    Finally :meth:`pwlmodels.PiecewiseAffine.from_regions` checks that the regions do
    not overlap and that the law is continuous across them.

    Parameters
    ----------
    A : array_like, shape (n, n)
    B : array_like, shape (n, m), or (n,) for one input
    Q : array_like, shape (n, n)
        Symmetric positive semidefinite; ``(Q, A)`` detectable.
    R : array_like, shape (m, m), or a number when m = 1
        Symmetric positive definite.
    horizon : int
        N >= 1 moves.
    u_max : float or array_like, shape (m,)
        Positive bounds of the inputs, one for all or one per input.
    x_box : float or array_like, shape (n,)
        Positive half-widths of the state box, the law's domain.
    x_constraints : float, array_like of shape (n,), or (C, d), optional
        Constraints on the predicted states x_1..x_N: a box ``|x_k| <= x_constraints``
        (entrywise) or a polytope ``C x_k <= d`` (C of shape (r, n), every d > 0).
        Then not every state is feasible: the law is defined on the feasible states
        of the box only, and the regions come from an exhaustive active-set search
        of the general mpQP (:mod:`._mpqp`: feasibility and LICQ pruning, Gupta et al.
        2011) instead of the search above; its cost grows with the feasible active
        sets, so keep the horizon short.
    max_regions : int, default 10000
        A ValueError when the search finds more critical regions.

    Returns
    -------
    PiecewiseAffine
        From (n,) states to the first move, shape () for one input, (m,) for several;
        one region per optimal active set (regions with equal maps are not merged:
        ``n_pieces`` counts the distinct maps, ``simplify()`` merges).

    Raises
    ------
    ValueError
        For shapes, non-finite data, ``Q`` not positive semidefinite, ``R`` not
        positive definite, ``horizon < 1`` or ``horizon m > 1000``, ``u_max`` or
        ``x_box`` not positive, no stabilizing Riccati solution, or more than
        ``max_regions`` regions.
    TypeError
        For non-numeric data or a non-integer ``horizon``.

    Examples
    --------
    The double integrator: saturated at the corners, linear around the origin.

    >>> import numpy as np
    >>> from applications.control import explicit_mpc
    >>> A, B = [[1.0, 1.0], [0.0, 1.0]], [[0.5], [1.0]]
    >>> law = explicit_mpc(A, B, np.eye(2), 0.1, 5, 1.0, [5.0, 2.0])
    >>> law.n_regions, law.n_pieces
    (29, 7)
    >>> law([[0.0, 0.0], [4.0, 1.0], [-4.0, -1.0]]).tolist()
    [0.0, -1.0, 1.0]
    """
    A, B, Q, R, horizon, u_max, box = _check_problem(A, B, Q, R, horizon, u_max, x_box)
    max_regions = check_count(max_regions, "max_regions", 1)
    qp = condense(A, B, Q, R, horizon, u_max)
    m = qp.m
    if x_constraints is not None:
        C, d = check_state_constraints(x_constraints, A.shape[0])
        G, w, S = constraint_rows(qp.phi, qp.gam, qp.u_bound, C, d, horizon)
        found = general_regions(qp.H, qp.F, G, w, S, box, max_regions=max_regions)
        pieces = [(p, M[:m] if m > 1 else M[0], v[:m]) for p, M, v in found]
    else:
        found = critical_regions(qp, box, max_regions=max_regions)
        pieces = [(r.poly, r.M[:m] if m > 1 else r.M[0], r.v[:m]) for r in found]
    try:
        return PiecewiseAffine.from_regions(pieces)
    except ValueError as exc:  # x_box = 1e300 was reported as "`regions` must hold ..."
        raise ValueError(
            f"the law could not be assembled on the box `x_box` = {box.tolist()} "
            f"(too wide or too unequal for float64 geometry?): {exc}"
        ) from exc


def cartpole(dt: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """A cart-pole linearised at the upright pole, sampled with a zero-order hold.

    State (cart position m, cart speed m/s, pole angle rad, angular speed rad/s),
    input the force on the cart (N); cart 1 kg, point mass 0.1 kg on a massless
    0.5 m pole, g = 9.81 m/s^2, sampled by ``scipy.signal.cont2discrete``. The
    4-state test plant of :func:`explicit_mpc` (tests and benchmark).

    Examples
    --------
    >>> A, B = cartpole(0.1)
    >>> A.shape, B.shape, bool(abs(np.linalg.eigvals(A)).max() > 1)  # unstable upright
    ((4, 4), (4, 1), True)
    """
    from scipy.signal import cont2discrete

    cart, mass, length, g = 1.0, 0.1, 0.5, 9.81
    a = np.zeros((4, 4))
    a[0, 1] = a[2, 3] = 1.0
    a[1, 2] = -mass * g / cart
    a[3, 2] = (cart + mass) * g / (cart * length)
    b = np.array([[0.0], [1.0 / cart], [0.0], [-1.0 / (cart * length)]])
    A, B, *_ = cont2discrete((a, b, np.eye(4), np.zeros((4, 1))), dt, method="zoh")
    return A, B


def ppopt_program(H: np.ndarray, F: np.ndarray, u_bound: np.ndarray, box: np.ndarray):
    """The same mpQP for PPOPT (``ppopt``, the ``mpc`` extra), to check against.

    PPOPT's form is ``min 1/2 U'(2H)U + x'(2F)U`` subject to ``[I; -I] U <= [u; u]``
    and ``[I; -I] x <= [box; box]``. Its LP subproblems run on gurobipy (its
    size-limited pip licence; the open alternative, GLPK, needs cvxopt), its QPs on
    DAQP.
    """
    from ppopt.mpqp_program import MPQP_Program
    from ppopt.solver import Solver

    n, k = F.shape
    eye_u, eye_x = np.vstack([np.eye(k), -np.eye(k)]), np.vstack([np.eye(n), -np.eye(n)])
    return MPQP_Program(
        eye_u,
        np.concatenate([u_bound, u_bound])[:, None],
        np.zeros((k, 1)),
        2 * F.T,
        2 * H,
        eye_x,
        np.concatenate([box, box])[:, None],
        np.zeros((2 * k, n)),
        solver=Solver({"lp": "gurobi", "qp": "daqp"}),
    )
