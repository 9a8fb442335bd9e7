"""Explicit MPC with constraints on the predicted states: the mpQP with general constraints.

With state constraints the condensed QP is ``min_U U'HU + 2 x'FU`` subject to
``G U <= w + S x``: the move bounds ``|U| <= u_max`` and, for every predicted
state ``x_k = A^k x + sum_j A^(k-1-j) B u_j`` (k = 1..N), ``C x_k <= d``. For an
active set ``Act`` whose rows of G are linearly independent (LICQ), the KKT
conditions (``2HU + 2F'x + 2G_Act' mu = 0``, ``G_Act U = w_Act + S_Act x``) give
the multipliers and the moves as affine functions of x::

    mu(x) = -(G_Act H^-1 G_Act')^-1 (w_Act + (S_Act + G_Act H^-1 F') x)
    U(x)  = -H^-1 (F' x + G_Act' mu(x))

and the set is optimal on its critical region: ``mu >= 0``, the other rows of
``G U <= w + S x`` hold, and x is in the state box.

Unlike the move bounds alone, not every active set is feasible, and the law is
defined only on the feasible states. The enumeration is the combinatorial one of
Gupta, Bhartiya and Nataraj (2011): active sets by cardinality, each checked for
feasibility (one HiGHS LP: some (x, U) with the set's rows at equality and every
row satisfied, x in the box) and for LICQ; an infeasible or dependent set is
dropped with all its supersets (they are infeasible or dependent too), every
other one is extended. So every active set that could be optimal with LICQ is
examined: the search is exhaustive, not guided by the regions found, and its
cost grows with the feasible active sets (at most :data:`_MAX_SETS`). Degenerate
sets (dependent rows) are skipped, as in Gupta et al.; a region lost that way
would leave a gap, which :meth:`PiecewiseAffine.from_regions` reports (the
feasible set is convex, so the regions must cover their convex hull).
"""

from __future__ import annotations

import numpy as np
from scipy import linalg
from scipy.optimize import linprog

from pwlmodels import Polytope

from ._checks import as_array, as_matrix

__all__: list[str] = []

_RADIUS = 1e-8  # as in _explicit: a region counts above this x the box's diagonal
_MAX_SETS = 200_000  # the most active sets the search examines


def check_state_constraints(value: object, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``x_constraints`` as ``(C, d)``, ``C x <= d`` on every predicted state.

    A number or an (n,) array is a box ``|x_j| <= value_j``; a pair is a polytope.
    The origin must be strictly inside (every ``d > 0``).
    """
    if isinstance(value, tuple):
        if len(value) != 2:
            raise TypeError(
                f"`x_constraints` must be a number, an array of shape ({n},) or a pair "
                f"(C, d); got a tuple of {len(value)}"
            )
        C = as_matrix(value[0], "x_constraints", None, n)
        d = as_array(value[1], "x_constraints")
        if d.shape != (C.shape[0],):
            raise ValueError(
                f"`x_constraints` (C, d) must have d of shape ({C.shape[0]},); got {d.shape}"
            )
    else:
        half = as_array(value, "x_constraints")
        half = np.full(n, float(half)) if half.ndim == 0 else half
        if half.shape != (n,):
            raise ValueError(
                f"`x_constraints` must be a number or have shape ({n},); got {half.shape}"
            )
        C, d = np.vstack([np.eye(n), -np.eye(n)]), np.r_[half, half]
    if (d <= 0).any():
        j = int(np.argmax(d <= 0))
        raise ValueError(
            f"`x_constraints` must hold the origin strictly inside; got d[{j}] = {d[j]!r} <= 0"
        )
    return C, d


def constraint_rows(phi, gam, u_bound, C, d, horizon):
    """``G U <= w + S x``: the move bounds, then ``C x_k <= d`` for k = 1..N."""
    k = len(u_bound)
    Cb = np.kron(np.eye(horizon), C)
    G = np.vstack([np.eye(k), -np.eye(k), Cb @ gam])
    w = np.r_[u_bound, u_bound, np.tile(d, horizon)]
    S = np.vstack([np.zeros((2 * k, phi.shape[1])), -Cb @ phi])
    return G, w, S


class _Program:
    """The mpQP ``min U'HU + 2x'FU``, ``G U <= w + S x``, x in the box, and its LPs."""

    def __init__(self, H, F, G, w, S, box):
        self.H, self.F, self.G, self.w, self.S, self.box = H, F, G, w, S, box
        self.chol = linalg.cho_factor(H)
        self.Hi_Gt = linalg.cho_solve(self.chol, G.T)  # H^-1 G'
        self.Hi_Ft = linalg.cho_solve(self.chol, F.T)  # H^-1 F'
        k = F.shape[1]
        # the LP variables are (x, U): rows G U - S x <= w and |x| <= box
        self.rows = np.hstack([-S, G])
        self.bounds = [(-b, b) for b in box] + [(None, None)] * k

    def feasible(self, act: tuple[int, ...]) -> bool:
        """Some (x, U) has the rows of ``act`` at equality and every row satisfied."""
        idx = list(act)
        res = linprog(
            np.zeros(self.rows.shape[1]),
            A_ub=self.rows,
            b_ub=self.w,
            A_eq=self.rows[idx] if idx else None,
            b_eq=self.w[idx] if idx else None,
            bounds=self.bounds,
            method="highs",
        )
        return res.status == 0

    def independent(self, act: tuple[int, ...]) -> bool:
        """LICQ: the active rows of G are linearly independent."""
        if not act:
            return True
        ga = self.G[list(act)]
        return len(act) <= ga.shape[1] and np.linalg.matrix_rank(ga) == len(act)

    def region(self, act: tuple[int, ...]):
        """(polytope, M, v) with ``U = M x + v`` on the critical region, or None."""
        n, k = self.F.shape
        idx, rest = list(act), np.setdiff1d(np.arange(len(self.w)), act)
        if idx:
            ga = self.G[idx]
            gram = ga @ self.Hi_Gt[:, idx]
            Lm = -np.linalg.solve(gram, self.S[idx] + ga @ self.Hi_Ft)
            lm = -np.linalg.solve(gram, self.w[idx])
            M = -(self.Hi_Ft + self.Hi_Gt[:, idx] @ Lm)
            v = -self.Hi_Gt[:, idx] @ lm
        else:
            Lm, lm = np.zeros((0, n)), np.zeros(0)
            M, v = -self.Hi_Ft, np.zeros(k)
        gi = self.G[rest]
        eye = np.eye(n)
        a = np.vstack([eye, -eye, -Lm, gi @ M - self.S[rest]])
        b = np.concatenate([self.box, self.box, lm, self.w[rest] - gi @ v])
        norms = np.linalg.norm(a, axis=1)
        flat = norms <= 1e-12 * norms.max()
        if (b[flat] < 0).any():
            return None
        poly = Polytope(a[~flat], b[~flat])
        if poly.chebyshev_center()[1] <= _RADIUS * float(np.linalg.norm(2 * self.box)):
            return None
        return poly, M, v


def general_regions(H, F, G, w, S, box, *, max_regions: int) -> list:
    """Every critical region with an interior point, by exhaustive active-set search.

    Level k holds the feasible, independent active sets of k rows; level k + 1 their
    extensions by a higher row whose every k-row subset is in level k (a subset that is
    infeasible or dependent rules the extension out without an LP).
    """
    prog = _Program(H, F, G, w, S, box)
    q, found, centres = len(w), [], []
    level, examined = [()], 0
    while level:
        kept = set()
        for act in level:
            examined += 1
            if examined > _MAX_SETS:
                raise ValueError(
                    f"more than {_MAX_SETS} active sets to examine; shorten `horizon` or "
                    "loosen `x_constraints`"
                )
            if not (prog.independent(act) and prog.feasible(act)):
                continue
            kept.add(act)
            reg = prog.region(act)
            if reg is None:
                continue
            centre = reg[0].chebyshev_center()[0]
            if any(p.contains(centre, tol=1e-9) for p in centres):
                continue  # the same optimum under a weakly active row (primal degeneracy)
            centres.append(reg[0])
            found.append(reg)
            if len(found) > max_regions:
                raise ValueError(
                    f"more than `max_regions` = {max_regions} critical regions; raise it, "
                    "or shorten `horizon`"
                )
        level = sorted(
            {
                (*act, i)
                for act in kept
                for i in range((act[-1] + 1) if act else 0, q)
                if all((*act[:j], *act[j + 1 :], i) in kept for j in range(len(act)))
            }
        )
    return found
