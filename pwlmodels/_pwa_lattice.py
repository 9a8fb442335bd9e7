"""The certified lattice (max-min) representation of a PiecewiseAffine (numpy/scipy).

``f = max_t min_{j in C_t} l_j`` on the domain within ``delta`` when, with the pieces
``l_j`` of one output and ``f`` the region's own map:

(a) every cell of a partition of the domain (the regions, cut further where needed)
    has a term whose pieces are all ``>= f - delta`` on it (checked at the cell's
    vertices: ``l_j - f`` is affine), and
(b) every term is ``<= f + delta`` on every region: one of its pieces is ``<= f`` at
    all the region's vertices, or an LP over the region certifies ``min_{j in C_t}
    (l_j - f) <= delta`` by its dual (a convex combination of the pieces with
    multipliers on the region's inequalities, bounded by weak duality with the
    residual counted: Neumaier and Shcherbina 2004).

Then every term is at most ``f + delta`` and one is at least ``f - delta``. Tarela and
Martinez (1999) take one term per region (or per unique-order region) with every piece
above ``f`` there; when (b) fails for such a term on a region (the representation on
base regions is not always exact), the term's cell is cut along ``l_j = f`` for a
piece ``j`` below ``f`` on that region, so one half gains ``j``. Pruning ("gating"):
each term keeps only the pieces a greedy set cover needs for (b), and only the terms a
greedy cover needs for (a).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._geometry import unique_points

__all__ = ["Lattice", "lattice"]

_SAME_PIECE = 1e-12  # relative: maps closer than this are one piece
_ORDER_TOL = 1e-10  # relative: the tolerance of the order relations
_MAX_ROUNDS = 64
_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class Lattice:
    """One output's lattice: piece maps (K (P, d), c (P,)), terms over them, delta."""

    K: np.ndarray
    c: np.ndarray
    terms: tuple[tuple[int, ...], ...]
    delta: float  # |lattice - f| <= delta on the domain (real arithmetic)
    lo: np.ndarray  # (P,) each piece's minimum over the domain
    hi: np.ndarray  # (P,) and maximum
    n_cells: int  # cells of the partition (a): the regions and the cuts it needed


@dataclass(frozen=True)
class _Cell:
    """A convex part of a region: ``A x <= b``, its vertices, and the region it is in."""

    A: np.ndarray
    b: np.ndarray
    vertices: np.ndarray
    region: int


def _group(Ko: np.ndarray, co: np.ndarray, xabs: np.ndarray, tol: float):
    """Pieces of one output: representative regions and each region's piece."""
    reps: list[int] = []
    piece = np.empty(Ko.shape[0], dtype=np.intp)
    for r in range(Ko.shape[0]):
        if reps:
            gap = np.abs(Ko[reps] - Ko[r]) @ xabs + np.abs(co[reps] - co[r])
            j = int(np.argmin(gap))
            if gap[j] <= tol:
                piece[r] = j
                continue
        piece[r] = len(reps)
        reps.append(r)
    return np.array(reps), piece


def _extremes(cells: list[_Cell], K, c, Ko, co):
    """Per piece and cell: the least and largest ``l_j - f`` over the cell's vertices."""
    V = np.vstack([cell.vertices for cell in cells])
    sizes = [cell.vertices.shape[0] for cell in cells]
    starts = np.cumsum([0, *sizes[:-1]])
    owner = np.repeat([cell.region for cell in cells], sizes)
    G = K @ V.T + c[:, None]  # (P, V) every piece at every vertex
    diff = G - (np.einsum("vd,vd->v", Ko[owner], V) + co[owner])[None, :]
    return np.minimum.reduceat(diff, starts, axis=1), np.maximum.reduceat(diff, starts, axis=1), G


def _tight(A: np.ndarray, b: np.ndarray, V: np.ndarray) -> np.ndarray:
    """(V, rows) boolean: which inequalities hold with equality at each point."""
    size = np.abs(A).sum(axis=1) * np.max(np.abs(V)) + np.abs(b)  # each row's scale
    return np.abs(V @ A.T - b) <= 1e-9 * size


def _cut(cell: _Cell, normal: np.ndarray, offset: float) -> list[_Cell]:
    """The two halves of a cell on either side of ``normal . x = offset``.

    New vertices lie on edges that cross the plane; an edge's ends share at least
    d - 1 tight inequalities, so every such pair is cut, and of the points found those
    tight on at least d inequalities of the half are kept (its vertices).
    """
    V, d = cell.vertices, cell.vertices.shape[1]
    side = V @ normal - offset
    tight = _tight(cell.A, cell.b, V)
    neg, pos = np.flatnonzero(side < 0), np.flatnonzero(side > 0)
    shared = tight[neg].astype(np.int32) @ tight[pos].astype(np.int32).T
    a, b = np.nonzero(shared >= d - 1)
    t = (side[neg[a]] / (side[neg[a]] - side[pos[b]]))[:, None]
    on = np.vstack([V[side == 0], V[neg[a]] + t * (V[pos[b]] - V[neg[a]])])
    out = []
    for sign, keep in ((1.0, side < 0), (-1.0, side > 0)):
        A = np.vstack([cell.A, sign * normal])
        rhs = np.append(cell.b, sign * offset)
        pts = np.vstack([V[keep], on])
        pts = unique_points(
            pts[_tight(A, rhs, pts).sum(axis=1) >= d], 1e-12 * (1 + np.abs(V).max())
        )
        out.append(_Cell(A, rhs, pts, cell.region))
    return out


def _lp_bound(region: _Cell, xabs, D: np.ndarray, e: np.ndarray):
    """A certified upper bound of ``min_j (D_j x + e_j)`` over the region, and the pieces
    (rows of D) the certificate uses; ``inf`` if the LP fails."""
    from scipy.optimize import linprog

    A, b = region.A, region.b
    m, d = A.shape
    A_ub = np.block([[A, np.zeros((m, 1))], [-D, np.ones((D.shape[0], 1))]])
    res = linprog(
        np.r_[np.zeros(d), -1.0],
        A_ub=A_ub,
        b_ub=np.r_[b, e],
        bounds=[(None, None)] * (d + 1),
        method="highs",
    )
    if res.status != 0:
        return np.inf, np.arange(D.shape[0])
    y = np.maximum(-res.ineqlin.marginals, 0.0)
    mu, lam = y[:m], y[m:]
    total = lam.sum()
    if total <= 0:
        return np.inf, np.arange(D.shape[0])
    resid = lam @ D - mu @ A  # sum lam (l_j - f) = resid x + mu A x + lam e <= ...
    bound = lam @ e + mu @ b + np.abs(resid) @ xabs
    size = np.abs(lam) @ np.abs(e) + mu @ np.abs(b) + (lam @ np.abs(D) + mu @ np.abs(A)) @ xabs
    n = m + D.shape[0] + d + 2  # terms in each sum: gamma_n covers their rounding
    return float((bound + 2 * n * _EPS * size) / total), np.flatnonzero(lam > 0)


def _greedy(columns: np.ndarray, rows: np.ndarray, todo: np.ndarray) -> list[int]:
    """Greedily, rows (indices into ``rows``) of a boolean matrix covering ``todo``."""
    chosen = []
    todo = todo.copy()
    while todo.any():
        best = int(np.argmax(rows[:, todo].sum(axis=1)))
        chosen.append(int(columns[best]))
        todo &= ~rows[best]
    return chosen


def lattice(f, output: int, prune: bool = True, slack: float = 0.0) -> Lattice:
    """The certified lattice of output ``output`` of a PiecewiseAffine (module docstring);
    ``slack``: an absolute tolerance of the order relations, when larger than theirs
    (delta still measures what the certificate uses)."""
    K_all, c_all = f.maps
    Ko, co = K_all[:, output, :], c_all[:, output]
    lower, upper = f.domain
    xabs = np.maximum(np.abs(lower), np.abs(upper))
    regions = [_Cell(r.A_ub, r.b_ub, r.vertices(), n) for n, r in enumerate(f.regions)]
    V = np.vstack([cell.vertices for cell in regions])
    scale = float(np.max(np.abs(Ko @ V.T + co[:, None]), initial=0.0)) + float(np.max(xabs))
    reps, piece = _group(Ko, co, xabs, _SAME_PIECE * scale)
    K, c = Ko[reps], co[reps]
    tol = max(_ORDER_TOL * scale, slack)
    _, high_r, G = _extremes(regions, K, c, Ko, co)
    below = high_r <= tol  # (P, regions): l_j <= f on region k
    rows = list(regions)
    for _ in range(_MAX_ROUNDS):
        low, high, _ = _extremes(rows, K, c, Ko, co)
        above = (low >= -tol).T  # (cells, P): l_j >= f on cell i
        missed = (above.astype(np.float64) @ below.astype(np.float64)) == 0
        certs: dict[tuple[int, int], tuple[float, np.ndarray]] = {}
        cuts: dict[int, int] = {}
        for i, k in zip(*np.nonzero(missed), strict=True):
            S = np.flatnonzero(above[i])
            r = regions[k].region
            B, sup = _lp_bound(regions[k], xabs, K[S] - Ko[r], c[S] - co[r])
            if B <= tol:
                certs[int(i), int(k)] = (max(B, 0.0), S[sup])
            elif int(i) not in cuts:
                crossing = (low[:, i] < -tol) & (high[:, i] > tol)
                gain = below[:, missed[i]].sum(axis=1) * (crossing & below[:, k])
                if gain.max() <= 0:
                    raise ValueError(
                        f"`f` has no certified lattice representation: a term exceeds f on "
                        f"region {k} by {B:.3g} (tolerance {tol:.3g}) and no cut helps; the "
                        "domain of `f` is not convex, or its maps disagree where regions meet"
                    )
                cuts[int(i)] = int(np.argmax(gain))
        if not cuts:
            break
        new = []
        for n, cell in enumerate(rows):
            if n in cuts:
                j, r = cuts[n], cell.region
                new.extend(_cut(cell, K[j] - Ko[r], co[r] - c[j]))
            else:
                new.append(cell)
        rows = new
    else:
        raise ValueError(f"`f`: no certified lattice after {_MAX_ROUNDS} rounds of cuts")
    sets: dict[tuple[int, ...], int] = {}
    for i, cell in enumerate(rows):
        S = np.flatnonzero(above[i])
        if prune:
            keep = {int(piece[cell.region])}
            lp_cols = np.zeros(len(regions), dtype=bool)
            for (ii, k), (_, sup) in certs.items():
                if ii == i:
                    keep.update(int(j) for j in sup)
                    lp_cols[k] = True
            todo = ~(below[list(keep)].any(axis=0) | lp_cols)
            keep.update(_greedy(S, below[S], todo))
            S = np.array(sorted(keep))
        sets.setdefault(tuple(int(j) for j in S), i)
    terms = _needed(list(sets), above) if prune else tuple(sets)
    delta = _delta(terms, sets, certs, low, high_r, above, below)
    return Lattice(K, c, terms, delta, G.min(axis=1), G.max(axis=1), len(rows))


def _needed(sets: list[tuple[int, ...]], above: np.ndarray) -> tuple[tuple[int, ...], ...]:
    """Greedily, few terms such that every cell has one whose pieces are all above."""
    fits = np.array([above[:, list(t)].all(axis=1) for t in sets])  # (T, cells)
    return tuple(sets[i] for i in _greedy(np.arange(len(sets)), fits, np.ones(fits.shape[1], bool)))


def _delta(terms, sets, certs, low, high_r, above, below) -> float:
    """The largest violation among the relations the certificate uses (>= 0)."""
    best_a = np.full(above.shape[0], np.inf)  # per cell: the best term above on it
    worst_b = 0.0
    for t in terms:
        idx = list(t)
        fits = above[:, idx].all(axis=1)
        best_a = np.where(
            fits, np.minimum(best_a, np.max(np.maximum(-low[idx], 0.0), axis=0)), best_a
        )
        single = np.min(np.where(below[idx], np.maximum(high_r[idx], 0.0), np.inf), axis=0)
        for k in np.flatnonzero(~np.isfinite(single)):
            single[k] = certs[sets[t], int(k)][0]
        worst_b = max(worst_b, float(np.max(single)))
    return max(float(np.max(best_a)), worst_b)
