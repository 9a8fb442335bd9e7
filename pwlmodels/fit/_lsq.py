"""Least-squares kernels for fit_pwl: the hat-basis normal equations and LSI.

numpy/scipy only. Data are kept sorted with x scaled to [0, 1] and y centred
(the numerics a fast free-knot search needs); every function here works in
those units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve, lapack
from scipy.optimize import lsq_linear, nnls

__all__: list[str] = []

_LOST = 8 * np.finfo(float).eps  # rounding of a moment, per unit of the prefix sums
_SHAKY = 1e-4  # tolerated rounding of a Gram entry, relative to the interval's weight


@dataclass(frozen=True)
class Data:
    """Sorted, scaled data with prefix sums of (w2, w2 u, w2 u^2, w2 y, w2 u y, w2 y^2)."""

    u: np.ndarray  # x scaled to [0, 1], sorted
    y: np.ndarray  # y - y_mean, in the same order
    w2: np.ndarray  # squared weights
    x0: float
    xs: float  # x = x0 + xs * u
    y_mean: float
    prefix: np.ndarray  # (n + 1, 6)

    @classmethod
    def build(cls, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> Data:
        keep = w > 0
        x, y, w = x[keep], y[keep], w[keep]
        order = np.argsort(x, kind="stable")
        x, y, w2 = x[order], y[order], (w[order] ** 2)
        x0, xs = float(x[0]), float(x[-1] - x[0])
        u = (x - x0) / xs
        y_mean = float(np.sum(w2 * y) / np.sum(w2))
        return cls.from_scaled(u, y - y_mean, w2, x0, xs, y_mean)

    @classmethod
    def from_scaled(cls, u, yc, w2, x0: float, xs: float, y_mean: float) -> Data:
        """From points already sorted by u, scaled and centred (the out-of-core fit's data)."""
        cols = np.stack([w2, w2 * u, w2 * u * u, w2 * yc, w2 * u * yc, w2 * yc * yc], axis=1)
        prefix = np.vstack([np.zeros((1, 6)), np.cumsum(cols, axis=0)])
        return cls(u, yc, w2, x0, xs, y_mean, prefix)

    @property
    def n(self) -> int:
        return self.u.size


def nodes_of(t: np.ndarray) -> np.ndarray:
    """Hat-basis nodes [0, t..., 1] for interior knots t (..., K), scaled units."""
    shape = (*t.shape[:-1], 1)
    return np.concatenate([np.zeros(shape), t, np.ones(shape)], axis=-1)


def intervals(d: Data, t: np.ndarray) -> tuple:
    """(nodes (M, K + 2), cut indices (M, K + 2), interval moments (M, K + 1, 6)) of knots t."""
    nodes = nodes_of(t)
    idx = np.searchsorted(d.u, nodes, side="left")
    idx[..., 0], idx[..., -1] = 0, d.n
    return nodes, idx, d.prefix[idx[..., 1:]] - d.prefix[idx[..., :-1]]


def gram_fast(d: Data, t: np.ndarray, parts: tuple | None = None):
    """Tridiagonal Gram (diag, off), right-hand side and emptiness for knots t (M, K).

    From moments in O(M K log n), independent of n. The moments about an
    interval's left node are differences of prefix sums, whose rounding
    grows with the prefix sums and, in the Gram entries, as 1 / h^2 on an
    interval of width h: two knots much closer than the data spacing would
    get an SSR that is noise, and a descent could settle there. Knot vectors
    whose estimated rounding exceeds 1e-4 of some interval's weight are
    summed over the data instead (:func:`gram_exact`, O(n); rare: knots
    within about one data spacing at n = 1000, within a few hundred points
    at n = 3e6). ``empty`` (M,) says whether some interval between nodes
    holds no data: its node values are then fixed by no data point, however
    well the solve goes. ``parts``: :func:`intervals` of t, when already at hand.
    """
    nodes, idx, s = intervals(d, t) if parts is None else parts
    empty = (np.diff(idx, axis=-1) == 0).any(axis=-1)
    left, h = nodes[..., :-1], np.diff(nodes, axis=-1)
    s0, s1, s2, sy, suy = (s[..., i] for i in range(5))
    with np.errstate(all="ignore"):  # coinciding knots: the solve reports the singularity
        m1 = s1 - left * s0  # sum w2 (u - left)
        m2 = s2 - 2 * left * s1 + left * left * s0
        top = d.prefix[idx[..., 1:]]  # the prefix sums' size bounds their rounding
        lost = _LOST * (top[..., 2] + 2 * left * top[..., 1] + left * left * top[..., 0]) / (h * h)
        ll = m2 / (h * h)  # sum w2 lam^2
        l1 = m1 / h
        l0l1 = l1 - ll  # sum w2 (1 - lam) lam
        l00 = s0 - 2 * l1 + ll
        ly = (suy - left * sy) / h
    diag, off, rhs = _assemble(l00, l0l1, ll, sy - ly, ly)
    shaky = ~empty & ~(lost <= _SHAKY * s0).all(axis=-1)
    for m in np.flatnonzero(shaky):
        diag[m], off[m], rhs[m] = (part[0] for part in gram_exact(d, t[m]))
    return diag, off, rhs, empty


def gram_exact(d: Data, t: np.ndarray):
    """The same normal equations for one knot vector t (K,), summed over the data: O(n)."""
    nodes = nodes_of(t[None, :])[0]
    k = np.clip(np.searchsorted(nodes, d.u, side="right") - 1, 0, nodes.size - 2)
    lam = (d.u - nodes[k]) / (nodes[k + 1] - nodes[k])
    j = nodes.size - 1

    def per_interval(v: np.ndarray) -> np.ndarray:
        return np.bincount(k, v, minlength=j)[None, :]

    a, b = d.w2 * (1 - lam), d.w2 * lam
    return _assemble(
        per_interval(a * (1 - lam)),
        per_interval(a * lam),
        per_interval(b * lam),
        per_interval(a * d.y),
        per_interval(b * d.y),
    )


def slope_matrix(nodes: np.ndarray) -> np.ndarray:
    """(p - 1, p): the segment slopes as linear maps of the node values."""
    p = nodes.size
    return (np.eye(p, k=1) - np.eye(p))[:-1] / np.diff(nodes)[:, None]


def _assemble(l00, l01, l11, r0, r1):
    """Interval contributions -> tridiagonal Gram (diag (M, J+1), off (M, J)) and rhs."""
    diag = np.zeros((*l00.shape[:-1], l00.shape[-1] + 1))
    diag[..., :-1] += l00
    diag[..., 1:] += l11
    rhs = np.zeros_like(diag)
    rhs[..., :-1] += r0
    rhs[..., 1:] += r1
    return diag, l01, rhs


def solve_tridiagonal(diag: np.ndarray, off: np.ndarray, rhs: np.ndarray):
    """Batched solve of SPD tridiagonal Grams (M, p); (values, min pivot ratio).

    One LAPACK ``dpttrf``/``dpttrs`` (L D L') call for the whole batch: the M
    systems are the blocks of one tridiagonal matrix with zero couplings
    between them (a Python loop over the p rows cost ten times as much).
    The ratio is min(D) / max(diag) per system. A singular or non-finite
    Gram gives a zero ratio and NaN values, not a warning.
    """
    m, p = diag.shape
    if m == 0:
        return np.zeros((0, p)), np.zeros(0)
    bad = ~(np.isfinite(diag).all(axis=1) & np.isfinite(off).all(axis=1))
    bad |= ~np.isfinite(rhs).all(axis=1)
    e = np.zeros((m, p))
    while True:  # a block that is not positive definite stops dpttrf: set it aside, again
        d = np.where(bad[:, None], 1.0, diag).ravel()
        e[:, :-1] = np.where(bad[:, None], 0.0, off)
        piv, low, info = lapack.dpttrf(d, e.ravel()[:-1])
        if info == 0:
            break
        bad[(info - 1) // p] = True
    v, _ = lapack.dpttrs(piv, low, np.where(bad[:, None], 0.0, rhs).ravel())
    v = v.reshape(m, p)
    v[bad] = np.nan
    with np.errstate(all="ignore"):
        ratio = piv.reshape(m, p).min(axis=1) / np.maximum(diag.max(axis=1), 1e-300)
    return v, np.where(bad, 0.0, ratio)


def ssr_of(diag, off, rhs, v, yy):
    """The fully expanded quadratic form y'W y - 2 v'B'W y + v'G v (not y'W y - v'B'W y)."""
    gv = diag * v
    gv[..., :-1] += off * v[..., 1:]
    gv[..., 1:] += off * v[..., :-1]
    return yy - 2 * np.sum(v * rhs, axis=-1) + np.sum(v * gv, axis=-1)


def dense_gram(diag: np.ndarray, off: np.ndarray) -> np.ndarray:
    g = np.diag(diag)
    i = np.arange(off.size)
    g[i, i + 1] = g[i + 1, i] = off
    return g


def lsi(g: np.ndarray, r: np.ndarray, a_ub, b_ub, a_eq, b_eq) -> np.ndarray:
    """min v'Gv - 2 r'v subject to a_ub v >= b_ub and a_eq v = b_eq, exactly.

    Equalities are eliminated through a null-space basis; the inequality
    problem goes LSI -> LDP -> NNLS (Lawson and Hanson 1974, ch. 23).
    Raises ValueError when the constraints are infeasible. The triangular
    systems go through ``numpy.linalg.solve``: with scipy 1.17,
    ``solve_triangular`` took milliseconds per call on these tiny systems
    with a matrix right-hand side, most of a constrained free-knot search.
    """
    p = g.shape[0]
    v0, basis = np.zeros(p), np.eye(p)
    if a_eq.shape[0]:
        v0 = np.linalg.lstsq(a_eq, b_eq, rcond=None)[0]
        if not np.allclose(a_eq @ v0, b_eq, rtol=1e-9, atol=1e-9 * (1 + np.abs(b_eq).max())):
            raise ValueError(
                "`constraints` are inconsistent: the equality constraints have no solution"
            )
        _, sv, vt = np.linalg.svd(a_eq)
        rank = int(np.sum(sv > 1e-12 * sv.max()))
        basis = vt[rank:].T
    if basis.shape[1] == 0:
        v = v0
        if a_ub.shape[0] and np.any(a_ub @ v < b_ub - 1e-9 * (1 + np.abs(b_ub))):
            raise ValueError("`constraints` are infeasible")
        return v
    gz = basis.T @ g @ basis
    rz = basis.T @ (r - g @ v0)
    upper = cho_factor(gz, lower=False)[0]
    upper = np.triu(upper)
    c = np.linalg.solve(upper.T, rz)  # R z = c at the unconstrained optimum
    if not a_ub.shape[0]:
        return v0 + basis @ np.linalg.solve(upper, c)
    hz = a_ub @ basis
    kz = b_ub - a_ub @ v0
    # z = R^-1 (xi + c): constraints (hz R^-1) xi >= kz - hz R^-1 c; min ||xi||
    h = np.linalg.solve(upper.T, hz.T).T
    k = kz - h @ c
    e = np.vstack([h.T, k[None, :]])
    f = np.zeros(e.shape[0])
    f[-1] = 1.0
    u, _ = nnls(e, f, maxiter=50 * e.shape[1] + 100)
    res = e @ u - f
    if np.linalg.norm(res) <= 1e-12:
        raise ValueError("`constraints` are infeasible")
    xi = -res[:-1] / res[-1]
    return v0 + basis @ np.linalg.solve(upper, xi + c)


def box_lsq(g: np.ndarray, r: np.ndarray, basis: np.ndarray, lb, ub) -> np.ndarray:
    """min v'Gv - 2 r'v over v = basis @ theta with lb <= theta <= ub, exactly.

    With G = L L', the objective is ||L'v - L^-1 r||^2 less a constant: a
    bounded linear least-squares problem for ``scipy.optimize.lsq_linear``
    with BVLS, an active-set method that ends at the exact optimum (Stark and
    Parker 1995).
    """
    low = np.tril(cho_factor(g, lower=True)[0])
    a = low.T @ basis
    b = np.linalg.solve(low, r)
    theta = lsq_linear(a, b, bounds=(lb, ub), method="bvls", tol=1e-14).x
    return basis @ theta


def chol_inverse(g: np.ndarray) -> np.ndarray:
    return cho_solve(cho_factor(g), np.eye(g.shape[0]))
