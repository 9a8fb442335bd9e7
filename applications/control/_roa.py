"""A certified inner estimate of the region of attraction of ``x+ = A x + B u(x)``.

The candidate is ``alpha S`` for a polytope ``S = {x : S_A x <= 1}`` holding the
origin: the state box, or the polytope of the unconstrained LQR loop (the
maximal set where ``|K x| <= u_max`` stays true along ``x+ = (A - B K) x /
lambda``, Gilbert and Tan 1991, so ``(A - B K) S`` lies in ``lambda S``), or
that set with the state box among its constraints ("mpi"); with ``clip`` the
candidate is ``alpha S`` within the (unscaled) state box. The answer is the
largest alpha found by bisection whose set is *verified*: inside the state box,
inside ``|u| <= u_max`` (the controller's command, exactly over its regions), and
positively invariant (:func:`._certify.invariance`'s facet check), each within
the stated tolerance.

Convergence is argued separately (:class:`RegionOfAttraction`, ``converges``):
invariance keeps trajectories in ``alpha S`` but does not make them converge. A
ladder of levels ``beta_0 = alpha > beta_1 > ...`` is built with ``beta_{k+1}``
the certified maximum of the gauge ``max_i S_A[i] x+`` over ``beta_k S``, so
every state of ``beta_k S`` enters ``beta_{k+1} S`` in one step. Once every
region meeting ``beta_L S`` carries the same linear map ``u = K0 x`` (an offset
whose step ``max_i |S_A[i] B c|`` is at most 1e-12 beta_L counts as none: the state
then settles within 1e-12 beta_L / (1 - lambda) of the origin, in the gauge),
the loop there is linear and ``(A + B K0) S`` lies in ``lambda S`` with the
certified ``lambda < 1``: from then on the gauge falls by ``lambda`` each step,
and the state converges to the origin exponentially. Where the ladder stalls
(for a learned network with an offset at the origin, or too slow a decrease)
``converges`` is False and ``levels`` ends at the smallest level proven.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from pwlmodels import Polytope

from .._checks import check_count
from ._certify import (
    _LP_OPTIONS,
    check_plant,
    check_polytope,
    facet_check,
    pieces_over,
    set_maxima,
    successor_maps,
)
from ._checks import as_array, as_matrix, as_scalar, check_choice, check_weights, riccati

__all__ = [
    "Ellipsoid",
    "RegionOfAttraction",
    "lqr_ellipsoid",
    "lqr_polytope",
    "region_of_attraction",
]

_MAX_LEVELS = 400
#: HiGHS at the certificates' tolerances for the linear loop's rate too (the default 1e-7
#: is atol itself, the margin "lambda < 1 - atol" is judged by)
_LP = {"method": "highs", "options": _LP_OPTIONS}


def _dare(A, B, Q, R):
    """The Riccati solution and LQR gain of checked weights (a negative Q gave a negative
    'level' and area, an unstabilizable pair a LinAlgError)."""
    Q, R = check_weights(Q, R, A.shape[0], B.shape[1])
    P = riccati(A, B, Q, R)
    K = np.linalg.solve(R + B.T @ P @ B, B.T @ P @ A)
    return P, K


def _limits(value: object, name: str, size: int) -> np.ndarray:
    arr = as_array(value, name)
    arr = np.full(size, float(arr)) if arr.ndim == 0 else arr
    if arr.shape != (size,):
        raise ValueError(f"`{name}` must be a number or have shape ({size},); got {arr.shape}")
    if (arr <= 0).any():
        j = int(np.argmax(arr <= 0))
        raise ValueError(f"`{name}` must be positive; got {name}[{j}] = {arr[j]!r}")
    return arr


def lqr_polytope(
    A: object,
    B: object,
    Q: object,
    R: object,
    u_max: object,
    *,
    contraction: float | None = None,
    x_box: object = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``S = {x : S_A x <= 1}``: where the LQR command ``-K x`` stays within ``u_max``
    (and, with ``x_box``, the state within the box) along ``x+ = (A - B K) x /
    contraction`` (a lambda-contractive set of the loop).

    ``contraction`` defaults to ``(1 + rho) / 2``, rho the spectral radius of
    ``A - B K``. Rows ``G M^t`` are added (``M = (A - BK)/lambda``, ``G`` the
    constraint rows) until the next ones are redundant (an LP each), as in Gilbert
    and Tan (1991). Without ``x_box`` only the input limits constrain S, which can
    then reach far beyond a state box along weakly controlled directions; with it S
    is the lambda-contractive version of the maximal positively invariant set of the
    LQR loop within the box and the input limits: ``(A - BK) S`` lies in
    ``lambda S`` and S in the box.

    Parameters
    ----------
    A, B, Q, R : array_like
        The plant and the LQR weights (``K`` from the discrete Riccati equation).
    u_max : float or array_like, shape (m,)
    contraction : float, optional
        lambda in ``(rho, 1]``.
    x_box : float or array_like, shape (n,), optional
        Half-widths of a state box that S must lie in.

    Returns
    -------
    (S_A, S_b) : ndarray, shape (k, n), and ones, shape (k,)

    Examples
    --------
    >>> import numpy as np
    >>> A, B = [[1.0, 1.0], [0.0, 1.0]], [[0.5], [1.0]]
    >>> S_A, S_b = lqr_polytope(A, B, np.eye(2), 0.1, 1.0)
    >>> S_A.shape[1], bool((S_b == 1).all())
    (2, True)
    >>> from pwlmodels import Polytope
    >>> S_A, S_b = lqr_polytope(A, B, np.eye(2), 0.1, 1.0, x_box=[1.0, 0.5])
    >>> bool((np.abs(Polytope(S_A, S_b).vertices()) <= [1.0, 0.5 + 1e-12]).all())  # in the box
    True
    """
    A = as_matrix(A, "A")
    A = as_matrix(A, "A", A.shape[0], A.shape[0])
    n = A.shape[0]
    Bv = as_array(B, "B")
    B = as_matrix(Bv.reshape(n, 1) if Bv.ndim == 1 and Bv.size == n else Bv, "B", n)
    u_max = _limits(u_max, "u_max", B.shape[1])
    _, K = _dare(A, B, Q, R)
    a_cl = A - B @ K
    rho = float(np.abs(np.linalg.eigvals(a_cl)).max())
    lam = (1 + rho) / 2 if contraction is None else as_scalar(contraction, "contraction")
    if not rho < lam <= 1:
        raise ValueError(f"`contraction` must be in (rho, 1] = ({rho:.4g}, 1]; got {lam!r}")
    M = a_cl / lam
    rows = np.vstack([K / u_max[:, None], -K / u_max[:, None]])
    if x_box is not None:
        box = _limits(x_box, "x_box", n)
        rows = np.vstack([rows, np.eye(n) / box[:, None], -np.eye(n) / box[:, None]])
    G, power = rows.copy(), rows
    for _ in range(200):
        power = power @ M
        new = []
        for row in power:
            res = linprog(-row, G, np.ones(len(G)), bounds=(None, None), method="highs")
            if res.status == 3 or (res.status == 0 and -res.fun > 1 + 1e-9):
                new.append(row)
        if not new and np.linalg.matrix_rank(G) == n:
            return G, np.ones(len(G))
        G = np.vstack([G, *new]) if new else np.vstack([G, power])
    raise ValueError("the LQR polytope did not close in 200 steps; raise `contraction`")


@dataclass(frozen=True)
class RegionOfAttraction:
    """The largest verified scaling ``alpha`` of ``S = {x : S_A x <= 1}``.

    The certified set is ``{x : P_A x <= P_b}``: ``alpha S``, or with ``clip``
    ``alpha S`` intersected with the state box (whose facets are not scaled).
    ``alpha_cap``: the largest alpha with ``alpha S`` in the state box (without
    ``clip`` the search stops there); ``tried``: every (alpha, verified) of the
    bisection; ``area``: the volume of the certified set (area for n = 2;
    ``Polytope.volume``, not sampled); ``converges``, ``levels``, ``rate``: the
    convergence ladder (module docstring): every state of the set is in
    ``levels[k] S`` (within the box) after k steps, proven step by step within
    ``atol``; with ``converges`` the last level lies where the law is linear and
    ``rate`` is the certified gauge contraction there; ``reason`` says why it
    failed, if it did. ``alpha = 0``: nothing verified.
    """

    alpha: float
    alpha_cap: float
    S_A: np.ndarray
    tried: tuple
    area: float
    converges: bool
    levels: tuple
    rate: float
    reason: str
    P_A: np.ndarray
    P_b: np.ndarray


def _candidate(S_A: np.ndarray, fixed: np.ndarray, alpha: float):
    """``alpha S`` intersected with ``{fixed x <= 1}`` (no rows: ``alpha S``)."""
    return np.vstack([S_A, fixed]), np.r_[np.full(len(S_A), alpha), np.ones(len(fixed))]


def _scaled_ok(A, B, controller, f, P_A, P_b, u_max, atol) -> bool:
    """The set invariant and |u| <= u_max (1 + atol) over it (invariance within atol times
    the set's width across each facet)."""
    inv = facet_check(A, B, controller, f, P_A, P_b, atol)
    if inv.verdict != "invariant":
        return False
    K, c = f.maps
    rows = np.concatenate([K, -K], axis=1)
    offs = np.concatenate([c, -c], axis=1)
    top = set_maxima(f, rows, offs, P_A, P_b).value
    # relative to u_max: an absolute floor (atol (1 + u_max)) let |u| reach 100 u_max at 1e-9
    return bool((top <= np.r_[u_max, u_max] * (1 + atol)).all())


def _ladder(A, B, f, S_A, fixed, alpha, atol):
    """Levels beta_k (each step proven) and the linear rate, or a reason it stalls.

    The level sets are ``beta S`` within ``{fixed x <= 1}``: once the set at level
    alpha is invariant its successors stay in it, so the fixed rows keep holding.
    """
    L, o = successor_maps(A, B, f)
    K, c = f.maps
    levels, beta = [alpha], alpha
    for _ in range(_MAX_LEVELS):
        P_A, P_b = _candidate(S_A, fixed, beta)
        mx = set_maxima(f, np.einsum("ik,rkj->rij", S_A, L), o @ S_A.T, P_A, P_b)
        touched = _touched(f, P_A, P_b)
        k0 = K[touched]
        # both relative: the offset's step in the gauge against the level (an absolute
        # 1e-12 called u = -x/2 + 1e-13 linear on a 1e-8 box, whose states settle at
        # 2e-13, 2e-5 of it), and the spread of the gains against the gains
        offset = np.abs(c[touched] @ B.T @ S_A.T).max()
        if offset <= 1e-12 * beta and np.ptp(k0, axis=0).max() <= 1e-9 * np.abs(k0).max():
            lin = A + B @ k0[0]
            one = np.ones(len(S_A))
            lam = max(
                -linprog(-(S_A @ lin)[i], S_A, one, bounds=(None, None), **_LP).fun
                for i in range(len(S_A))
            )
            if lam < 1 - atol:
                return tuple(levels), float(lam), ""
            return tuple(levels), float(lam), f"the linear loop's gauge ratio is {lam:.4g} >= 1"
        nxt = float(mx.value.max()) + atol * (1 + beta)
        if nxt >= beta * (1 - 1e-6):
            return tuple(levels), math.nan, f"the gauge stops decreasing at level {beta:.4g}"
        levels.append(nxt)
        beta = nxt
    return tuple(levels), math.nan, f"no linear level within {_MAX_LEVELS} steps"


def _touched(f, S_A, b) -> np.ndarray:
    """The regions that meet ``{S_A x <= b}``: those not apart by their vertices (all
    beyond one facet) and feasible together with it (an LP); LP feasibility within
    its tolerance keeps the answer a superset, the safe side for the linear test."""
    scale = 1e-12 * (1 + np.abs(b))
    keep = []
    for j, poly in enumerate(f.regions):
        if ((poly.vertices() @ S_A.T - b) > scale).all(axis=0).any():
            continue
        res = linprog(
            np.zeros(S_A.shape[1]),
            np.vstack([poly.A_ub, S_A]),
            np.r_[poly.b_ub, b],
            bounds=(None, None),
            method="highs",
        )
        if res.status != 2:
            keep.append(j)
    return np.array(keep, int)


def region_of_attraction(
    A: object,
    B: object,
    controller: object,
    shape: object,
    x_box: object,
    u_max: object,
    *,
    Q: object = None,
    R: object = None,
    clip: bool = False,
    steps: int = 10,
    atol: float = 1e-7,
) -> RegionOfAttraction:
    """The largest verified invariant scaling ``alpha S`` of a candidate set, by bisection.

    Each bisection step is a full certificate: the set in the state box
    ``|x_j| <= x_box_j``, the controller's command within ``u_max`` on it, and
    positively invariant (per facet, as :func:`._certify.invariance`), all within
    ``atol``; the answer is the largest alpha so verified, never an unverified
    midpoint. Convergence inside it is argued by the level ladder of the module
    docstring and reported, not assumed.

    The candidate matters more than the search. ``"lqr"`` knows only the input
    limits, so for a thin state box it can be far longer than the box along a weakly
    controlled direction (the cart-pole's angle), and the box caps alpha at a thin
    slice. ``"mpi"`` adds the box to the constraints of the LQR loop (the
    lambda-contractive maximal invariant set, Gilbert and Tan 1991): inside it an MPC
    law with the Riccati terminal cost equals the LQR law, so it is invariant at
    alpha = 1. ``clip=True`` keeps the box's facets fixed while S is scaled (the set
    ``alpha S`` within the box), so the search goes on past ``alpha_cap``.

    Parameters
    ----------
    A, B : array_like
        The plant ``x+ = A x + B u``.
    controller : torch.nn.Sequential or PiecewiseAffine
        On (at least) the state box.
    shape : {"box", "lqr", "mpi"} or (S_A, S_b)
        ``"box"``: the state box; ``"lqr"``: :func:`lqr_polytope` (needs ``Q``, ``R``);
        ``"mpi"``: :func:`lqr_polytope` with ``x_box`` (needs ``Q``, ``R``); a
        polytope holding the origin in its interior.
    x_box : float or array_like, shape (n,)
    u_max : float or array_like, shape (m,)
    Q, R : array_like, optional
        The LQR weights of ``shape="lqr"`` and ``"mpi"``.
    clip : bool, default False
        Scale S within the state box (its facets fixed) instead of only up to the
        largest alpha that keeps ``alpha S`` inside it.
    steps : int, default 10
        Bisection steps after the top of the range fails.
    atol : float, default 1e-7

    Returns
    -------
    RegionOfAttraction

    Examples
    --------
    >>> import numpy as np
    >>> from applications.control import explicit_mpc, region_of_attraction
    >>> A, B, box = np.array([[1.0, 1.0], [0.0, 1.0]]), np.array([[0.5], [1.0]]), [5.0, 2.0]
    >>> law = explicit_mpc(A, B, np.eye(2), 0.1, 3, 1.0, box)
    >>> roa = region_of_attraction(A, B, law, "lqr", box, 1.0, Q=np.eye(2), R=0.1)
    >>> roa.alpha > 0, roa.converges
    (True, True)
    >>> mpi = region_of_attraction(A, B, law, "mpi", box, 1.0, Q=np.eye(2), R=0.1)
    >>> mpi.alpha == mpi.alpha_cap, mpi.converges
    (True, True)
    """
    A, B, _ = check_plant(A, B, controller)
    n = A.shape[0]
    box = _limits(x_box, "x_box", n)
    u_max = _limits(u_max, "u_max", B.shape[1])
    atol = as_scalar(atol, "atol", positive=True)
    steps = check_count(steps, "steps", 1)
    if not isinstance(clip, (bool, np.bool_)):
        raise TypeError(f"`clip` must be True or False; got {clip!r}")
    S_A = _shape(shape, A, B, Q, R, box, u_max)
    _, _, hull = check_polytope(S_A, np.ones(len(S_A)), n)
    cap = float(np.min(box / np.maximum(hull[1], -hull[0])))
    fixed = np.vstack([np.eye(n), -np.eye(n)]) / np.r_[box, box][:, None] if clip else S_A[:0]
    f = pieces_over(controller, -box, box)
    tried = []

    def ok(alpha):
        P_A, P_b = _candidate(S_A, fixed, alpha)
        tried.append((alpha, _scaled_ok(A, B, controller, f, P_A, P_b, u_max, atol)))
        return tried[-1][1]

    best, lo, hi = 0.0, 0.0, cap
    if ok(cap):
        best = lo = cap
        if clip:  # on to the smallest alpha whose S holds the box
            hi = float((np.abs(S_A) @ box).max())
            if ok(hi):
                best = lo = hi
    for _ in range(steps if lo < hi else 0):
        mid = (lo + hi) / 2
        if ok(mid):
            best = lo = mid
        else:
            hi = mid
    P_A, P_b = _candidate(S_A, fixed, best)
    area = Polytope(P_A, P_b).volume() if best > 0 else 0.0
    if best > 0:
        levels, rate, reason = _ladder(A, B, f, S_A, fixed, best, atol)
    else:
        levels, rate, reason = (), math.nan, "no scaling verified"
    return RegionOfAttraction(
        best, cap, S_A, tuple(tried), float(area), not reason, levels, rate, reason, P_A, P_b
    )


def _shape(shape, A, B, Q, R, box, u_max) -> np.ndarray:
    """The candidate's rows ``S_A`` (``S = {x : S_A x <= 1}``) from ``shape``."""
    n = A.shape[0]
    if isinstance(shape, str):
        check_choice(shape, "shape", ("box", "lqr", "mpi"))
        if shape == "box":
            return np.vstack([np.eye(n), -np.eye(n)]) / np.r_[box, box][:, None]
        if Q is None or R is None:
            raise ValueError(f'`Q` and `R` are needed for shape="{shape}"; got None')
        return lqr_polytope(A, B, Q, R, u_max, x_box=box if shape == "mpi" else None)[0]
    if not isinstance(shape, tuple) or len(shape) != 2:
        raise TypeError(f"`shape` must be 'box', 'lqr', 'mpi' or a pair (S_A, S_b); got {shape!r}")
    S_A, S_b, _ = check_polytope(shape[0], shape[1], n)
    if (S_b <= 0).any():
        raise ValueError("`shape` must hold the origin in its interior; some S_b <= 0")
    return S_A / S_b[:, None]


@dataclass(frozen=True)
class Ellipsoid:
    """``{x : x' P x <= level}``, P the discrete Riccati solution: its volume (area in 2-D)."""

    P: np.ndarray
    level: float
    area: float


def lqr_ellipsoid(A: object, B: object, Q: object, R: object, u_max: object, x_box: object):
    """The largest LQR level set where ``|K x| <= u_max`` and ``|x_j| <= x_box_j``.

    ``level = min_i lim_i^2 / (a_i P^-1 a_i')`` over the rows ``a_i`` (K and the unit
    vectors) and their limits; ``area`` the volume ``pi^(n/2) / Gamma(n/2 + 1)
    level^(n/2) / sqrt(det P)``. In it the LQR command never saturates and ``x' P x``
    decreases along ``x+ = (A - BK) x``, so it is invariant and converges (Hu and Lin
    2001), and an MPC law whose terminal cost is P equals ``-K x`` there.

    Examples
    --------
    >>> import numpy as np
    >>> e = lqr_ellipsoid([[1.0, 1.0], [0.0, 1.0]], [[0.5], [1.0]], np.eye(2), 0.1, 1.0, [5, 2])
    >>> e.area > 0
    True
    """
    A = as_matrix(A, "A")
    n = A.shape[0]
    A = as_matrix(A, "A", n, n)
    Bv = as_array(B, "B")
    B = as_matrix(Bv.reshape(n, 1) if Bv.ndim == 1 and Bv.size == n else Bv, "B", n)
    u_max, box = _limits(u_max, "u_max", B.shape[1]), _limits(x_box, "x_box", n)
    P, K = _dare(A, B, Q, R)
    rows = np.vstack([K, np.eye(n)])
    lim = np.r_[u_max, box]
    p_inv = np.linalg.inv(P)
    level = float(np.min(lim**2 / np.einsum("ij,jk,ik->i", rows, p_inv, rows)))
    unit = math.pi ** (n / 2) / math.gamma(n / 2 + 1)
    area = unit * level ** (n / 2) / math.sqrt(np.linalg.det(P))
    return Ellipsoid(P, level, float(area))
