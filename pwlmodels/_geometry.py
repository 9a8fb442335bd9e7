"""Polyhedral geometry: the Polytope value type, polygon cuts, areas, bounding boxes.

numpy/scipy only (no torch): the numpy core (:mod:`pwlmodels.pwa`) and
:mod:`pwlmodels.regions` share it. Polygons are (m, 2) counter-clockwise vertex
arrays, intervals (2, 1). scipy is imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ._validate import as_float_array, check_finite

__all__ = ["Polytope"]

_EPS = float(np.finfo(np.float64).eps)


# ------------------------------------------------------------------ Polytope
@dataclass(frozen=True, eq=False)
class Polytope:
    """The polyhedron ``{x : A_ub @ x <= b_ub}``; float64, read-only.

    The vertices, volume and Chebyshev centre are computed once, when first
    asked for, and kept (the object is immutable). ``==`` is identity.

    Attributes
    ----------
    A_ub : ndarray, shape (m, n)
        Finite; a 1-D array is one row.
    b_ub : ndarray, shape (m,)
        Finite.

    Examples
    --------
    >>> import numpy as np
    >>> from pwlmodels import Polytope
    >>> cube = Polytope(np.vstack([np.eye(3), -np.eye(3)]), np.ones(6))
    >>> cube.vertices().shape, cube.volume()
    ((8, 3), 8.0)
    """

    A_ub: np.ndarray
    b_ub: np.ndarray

    def __post_init__(self) -> None:
        a = np.array(as_float_array(self.A_ub, "A_ub"), float, ndmin=2)
        b = np.array(as_float_array(self.b_ub, "b_ub"), float).reshape(-1)
        if a.ndim != 2 or a.shape[0] != b.size or a.shape[1] == 0:
            raise ValueError(f"`A_ub` must be (m, n) and `b_ub` (m,); got {a.shape}, {b.shape}")
        for name, arr in (("A_ub", a), ("b_ub", b)):
            check_finite(arr, name)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    def contains(self, points: object, *, tol: float = 1e-9) -> np.ndarray | bool:
        """Whether points satisfy every inequality, row i within ``tol (1 + |b_i| + |A_i| |p|)``.

        Parameters
        ----------
        points : array_like, shape (N, n) or (n,)
        tol : float, default 1e-9

        Returns
        -------
        ndarray of bool, shape (N,), or bool for one point

        Examples
        --------
        >>> from pwlmodels.regions import Polytope
        >>> square = Polytope([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]], [1, 1, 1, 1])
        >>> square.contains([[0.5, 0.5], [2.0, 0.0]]).tolist()
        [True, False]
        """
        p = as_float_array(points, "points")
        single, p = p.ndim == 1, np.atleast_2d(p)
        if p.shape[1] != self.A_ub.shape[1]:
            raise ValueError(f"`points` must have shape (N, {self.A_ub.shape[1]}); got {p.shape}")
        scale = 1.0 + np.abs(self.b_ub) + np.abs(p) @ np.abs(self.A_ub).T
        inside = np.all(p @ self.A_ub.T - self.b_ub <= tol * scale, axis=1)
        return bool(inside[0]) if single else inside

    def to_scipy(self):
        """The inequalities as ``scipy.optimize.LinearConstraint`` (for ``milp``, ``minimize``).

        Returns
        -------
        scipy.optimize.LinearConstraint
            ``-inf <= A_ub @ x <= b_ub``.

        Examples
        --------
        >>> from pwlmodels.regions import Polytope
        >>> Polytope([[1.0, 1.0]], [2.0]).to_scipy().ub.tolist()
        [2.0]
        """
        from scipy.optimize import LinearConstraint

        return LinearConstraint(self.A_ub, -np.inf, self.b_ub)

    def vertices(self) -> np.ndarray:
        """The vertices of a bounded polytope (read-only; computed once).

        1-D and 2-D: by cutting the bounding box with every inequality, which
        also handles flat polygons. 3-D and up: ``scipy.spatial.HalfspaceIntersection``
        from the Chebyshev centre, each vertex then re-solved by least squares
        from the inequalities active at it (within ``1e-9 (1 + |v|)``) and
        duplicates of degenerate vertices merged; this needs a full-dimensional
        polytope.

        Returns
        -------
        ndarray, shape (k, n)
            2-D: counter-clockwise from the lowest (then leftmost) vertex;
            1-D: the ends of the interval; 3-D and up: sorted
            lexicographically; shape (0, n) when empty. A ValueError when
            unbounded (give ``lower`` and ``upper`` to :func:`linear_region`),
            or flat in 3 or more dimensions.

        Examples
        --------
        >>> from pwlmodels.regions import Polytope
        >>> Polytope([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]], [0, 0, 1]).vertices().tolist()
        [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]
        """
        return self._vertex_array.view()

    def volume(self) -> float:
        """The n-dimensional volume (length in 1-D, area in 2-D); 0.0 when empty or flat.

        Returns
        -------
        float
            From the vertices: the shoelace formula in 2-D,
            ``scipy.spatial.ConvexHull`` in 3-D and up. A ValueError when
            unbounded.

        Examples
        --------
        >>> from pwlmodels import Polytope
        >>> Polytope([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]], [0, 0, 1]).volume()
        0.5
        """
        return self._volume

    def chebyshev_center(self) -> tuple[np.ndarray, float]:
        """The centre and radius of the largest ball inside (one linear program).

        Returns
        -------
        center : ndarray, shape (n,)
        radius : float
            0.0 for a non-empty flat polytope; as in MPT3's ``chebyCenter``,
            ``-inf`` (and a NaN centre) when empty, ``inf`` (NaN centre) when
            it holds arbitrarily large balls. Solved by HiGHS with feasibility
            tolerances 1e-10 on the rows scaled to unit norm.

        Examples
        --------
        >>> from pwlmodels import Polytope
        >>> center, radius = Polytope([[1.0], [-1.0]], [3.0, -1.0]).chebyshev_center()
        >>> center.tolist(), radius
        ([2.0], 1.0)
        """
        center, radius = self._chebyshev
        return center.copy(), radius

    @cached_property
    def _chebyshev(self) -> tuple[np.ndarray, float]:
        return chebyshev(self.A_ub, self.b_ub)

    @cached_property
    def _vertex_array(self) -> np.ndarray:
        n = self.A_ub.shape[1]
        if n <= 2:
            v = _vertices_low(self.A_ub, self.b_ub)
        else:
            center, radius = self._chebyshev
            if radius == -np.inf:
                v = np.zeros((0, n))
            elif radius == np.inf or not is_bounded(self.A_ub):
                raise ValueError("the polytope is unbounded; give `lower` and `upper`")
            else:
                v = _vertices_high(self.A_ub, self.b_ub, center, radius)
        return _readonly(v)

    @cached_property
    def _volume(self) -> float:
        n = self.A_ub.shape[1]
        if n > 2:
            radius = self._chebyshev[1]
            if radius == np.inf or (radius > 0 and not is_bounded(self.A_ub)):
                raise ValueError("the polytope is unbounded; its volume is infinite")
            if radius <= flat(self._chebyshev[0]):
                return 0.0
        v = self._vertex_array
        if n == 2:
            return area_centroid(v)[0] if len(v) > 2 else 0.0
        return hull_volume(v)


def seed_vertices(poly: Polytope, vertices: np.ndarray) -> Polytope:
    """Give ``poly`` vertices already known (exact input points), so none are computed.

    2-D vertices are put in the documented counter-clockwise order first.
    """
    v = np.asarray(vertices, dtype=np.float64)
    if v.shape[1] == 2 and len(v) > 2:
        v = ccw(v)
    elif v.shape[1] == 1:
        v = np.sort(v, axis=0)
    else:
        v = lex_sorted(v, 1.0 + float(np.abs(v).max()))
    poly.__dict__["_vertex_array"] = _readonly(v)  # the cached_property's slot
    return poly


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def flat(center: np.ndarray) -> float:
    """Radii at most this are flat (rounding of the LP around ``center``)."""
    return 1e-12 * (1.0 + float(np.abs(center).max(initial=0.0)))


def ccw(v: np.ndarray) -> np.ndarray:
    """A convex polygon's vertices counter-clockwise from the lowest, then leftmost."""
    mid = v.mean(axis=0)
    v = v[np.argsort(np.arctan2(v[:, 1] - mid[1], v[:, 0] - mid[0]), kind="stable")]
    return np.roll(v, -int(np.lexsort((v[:, 0], v[:, 1]))[0]), axis=0)


def row_norms(a: np.ndarray) -> np.ndarray:
    """Euclidean norms of the rows, without overflow or underflow in the squares (rows
    of 1e200 or 1e-200 are as good as rows of 1)."""
    big = np.abs(a).max(axis=1, initial=0.0)
    safe = np.where(big > 0, big, 1.0)
    return np.linalg.norm(a / safe[:, None], axis=1) * big


def unit_rows(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows scaled to unit norm; zero rows dropped. Returns (a, b, zero-row b values)."""
    norms = row_norms(a)
    keep = norms > 0
    return a[keep] / norms[keep, None], b[keep] / norms[keep], b[~keep]


def chebyshev(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, float]:
    """(centre, radius) of the largest ball in {a x <= b}; see Polytope.chebyshev_center."""
    from scipy.optimize import linprog

    n = a.shape[1]
    nowhere = np.full(n, np.nan)
    an, bn, zero_b = unit_rows(a, b)
    if (zero_b < 0).any():
        return nowhere, -np.inf
    if an.shape[0] == 0:
        return nowhere, np.inf
    cost = np.zeros(n + 1)
    cost[-1] = -1.0
    res = linprog(
        cost,
        A_ub=np.hstack([an, np.ones((len(an), 1))]),
        b_ub=bn,
        bounds=(None, None),
        method="highs",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    if res.status == 3:
        return nowhere, np.inf
    if res.status != 0:  # infeasible cannot happen with a free radius; numerical trouble
        raise ValueError(f"the Chebyshev centre's linear program failed: {res.message}")
    center, radius = res.x[:n] + 0.0, float(res.x[-1]) + 0.0
    if radius < -1e-9 * (1.0 + float(np.abs(bn).max())):
        return nowhere, -np.inf
    return center, max(radius, 0.0)


def is_bounded(a: np.ndarray) -> bool:
    """Whether {a x <= b} is bounded (for any b making it non-empty): the rows' cone is R^n.

    True iff rank(a) = n and some strictly positive combination of the rows is 0.
    """
    from scipy.optimize import linprog

    an = unit_rows(a, np.zeros(len(a)))[0]
    n = a.shape[1]
    if an.shape[0] <= n or np.linalg.matrix_rank(an) < n:
        return False
    res = linprog(
        np.zeros(len(an)), A_eq=an.T, b_eq=np.zeros(n), bounds=(1.0, None), method="highs"
    )
    return res.status == 0


def _vertices_low(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Vertices in 1 or 2 dimensions by cutting the (enlarged) bounding box."""
    n = a.shape[1]
    box = bounding_box(a, b)
    if box is None:
        return np.zeros((0, n))
    v = box if n == 1 else corners(box)
    for row, rhs in zip(a, b, strict=True):
        d = v @ row - rhs
        if len(v) and d.max() > 0:
            v = cut(v, None, d, 0.0)[0][0] if d.min() <= 0 else np.zeros((0, n))
    if n == 2 and len(v):
        keep = np.any(v != np.roll(v, 1, axis=0), axis=1)  # repeated vertices
        v = v[keep] if keep.any() else v[:1]
        v = np.roll(v, -int(np.lexsort((v[:, 0], v[:, 1]))[0]), axis=0)
    return v


def _vertices_high(a: np.ndarray, b: np.ndarray, center: np.ndarray, radius: float) -> np.ndarray:
    """Vertices of a bounded full-dimensional polytope in 3 or more dimensions."""
    from scipy.spatial import HalfspaceIntersection, QhullError

    if radius <= flat(center):
        raise ValueError(
            "vertices() needs a full-dimensional polytope in 3 or more dimensions; "
            f"this one is flat (Chebyshev radius {radius!r})"
        )
    an, bn, _ = unit_rows(a, b)
    try:
        raw = HalfspaceIntersection(np.hstack([an, -bn[:, None]]), center).intersections
    except QhullError as exc:
        raise ValueError(
            "vertices() could not enumerate the vertices (Qhull failed); the polytope "
            f"is too thin (Chebyshev radius {radius!r})"
        ) from exc
    scale = 1.0 + float(np.abs(raw).max())
    keep = np.linalg.norm(a, axis=1) > 0
    v = polish(raw, a[keep], b[keep], 1e-9 * scale)
    return lex_sorted(unique_points(v, 1e-9 * scale), scale)


def polish(v: np.ndarray, a: np.ndarray, b: np.ndarray, tol: float) -> np.ndarray:
    """Each vertex re-solved (least squares, on the rows as given) from the rows active at
    it: those within distance ``tol``. Kept only where that does not move it by more."""
    from scipy.linalg import qr

    norms = np.linalg.norm(a, axis=1)
    out = v.copy()
    n = v.shape[1]
    for k, p in enumerate(v):
        act = np.abs(a @ p - b) <= tol * norms
        if act.sum() < n:
            continue
        rows, rhs = a[act], b[act]
        if len(rows) > n:  # degenerate vertex: n rows chosen by pivoted QR
            rows_t = rows / np.linalg.norm(rows, axis=1)[:, None]
            pick = qr(rows_t.T, pivoting=True, mode="r")[1][:n]
            rows, rhs = rows[pick], rhs[pick]
        try:
            q = np.linalg.solve(rows, rhs)
        except np.linalg.LinAlgError:
            continue
        if np.abs(q - p).max() <= tol:
            out[k] = q
    return out + 0.0  # no negative zeros


def lex_sorted(v: np.ndarray, scale: float) -> np.ndarray:
    """Points sorted by first coordinate, then second, ..., ties within 1e-9 scale."""
    key = np.round(v / (1e-9 * scale))
    return v[np.lexsort(key.T[::-1])]


def unique_points(v: np.ndarray, tol: float) -> np.ndarray:
    """The points of ``v`` (in order) farther than ``tol`` (max-norm) from every earlier one."""
    keep: list[int] = []
    for k in range(len(v)):
        if not keep or np.abs(v[keep] - v[k]).max(axis=1).min() > tol:
            keep.append(k)
    return v[keep]


def hull_volume(v: np.ndarray) -> float:
    """Volume of the convex hull of points; 0 when flat."""
    from scipy.spatial import ConvexHull, QhullError

    n = v.shape[1]
    if n == 1:
        return float(v[:, 0].max() - v[:, 0].min()) if len(v) else 0.0
    if len(v) <= n:
        return 0.0
    try:
        return float(ConvexHull(v).volume)
    except QhullError:  # flat: every point on one hyperplane
        return 0.0


def bounding_box(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """[lowest, highest] corner (2, n) of {a @ x <= b} by LP, enlarged; None when empty."""
    from scipy.optimize import linprog

    n = a.shape[1]
    box = np.zeros((2, n))
    for i in range(n):
        for k, sign in enumerate((1.0, -1.0)):
            res = linprog(sign * np.eye(n)[i], A_ub=a, b_ub=b, bounds=(None, None))
            if res.status == 2:
                return None
            if res.status == 3:
                raise ValueError("the polytope is unbounded; give `lower` and `upper`")
            box[k, i] = res.x[i]
    return box + (1.0 + np.abs(box).max()) * np.array([[-1.0], [1.0]])


def cut(v: np.ndarray, z, d: np.ndarray, tol: float, col: int = 0, level: float = 0.0):
    """Split a convex polygon (ccw) or an interval along the zero line of d (affine, at v).

    Returns ((v, z) where d <= 0, (v, z) where d >= 0); vertices within ``tol``
    of the line go to both. ``z`` (values at v, or None) is interpolated, its
    column ``col`` set to ``level`` on the line.
    """
    sign = np.where(d > tol, 1, np.where(d < -tol, -1, 0))
    m = len(v)
    nxt = np.roll(np.arange(m), -1)
    i = np.flatnonzero((sign * sign[nxt] < 0) & ((nxt > np.arange(m)) | (v.shape[1] == 2)))
    t = (d[i] / (d[i] - d[nxt[i]]))[:, None]
    order = np.argsort(np.concatenate([np.arange(m), i + 0.5]))
    side = np.concatenate([sign, np.zeros(len(i), int)])[order]
    vs = np.concatenate([v, v[i] + t * (v[nxt[i]] - v[i])])[order]
    if z is not None:
        new = z[i] + t * (z[nxt[i]] - z[i])
        new[:, col] = level
        z = np.concatenate([z, new])[order]
    return tuple((vs[keep], None if z is None else z[keep]) for keep in (side <= 0, side >= 0))


def corners(box: np.ndarray) -> np.ndarray:
    """The counter-clockwise corners of the rectangle [box[0], box[1]]."""
    return np.stack([box[[0, 1, 1, 0], 0], box[[0, 0, 1, 1], 1]], axis=1)


def area_centroid(v: np.ndarray) -> tuple[float, np.ndarray]:
    if v.shape[1] == 1:
        return float(v[1, 0] - v[0, 0]), v.mean(axis=0)
    x, y, xn, yn = v[:, 0], v[:, 1], np.roll(v[:, 0], -1), np.roll(v[:, 1], -1)
    cross = x * yn - xn * y
    area = 0.5 * float(cross.sum())
    if area <= 0:
        return max(area, 0.0), v.mean(axis=0)
    return area, np.array([((x + xn) * cross).sum(), ((y + yn) * cross).sum()]) / (6 * area)


def trusted_polytope(a: np.ndarray, b: np.ndarray, vertices: np.ndarray) -> Polytope:
    """A Polytope from read-only float64 rows and vertices already known to be finite,
    consistent and in the documented order (enumerated regions): no checks, no copies.
    10^5 regions would spend most of their time in the checks otherwise."""
    poly = object.__new__(Polytope)
    poly.__dict__.update(A_ub=a, b_ub=b, _vertex_array=vertices)
    return poly
