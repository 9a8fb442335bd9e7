"""Triangulations and point location for PiecewiseAffine (pwa.py).

numpy/scipy only. ``triangulation`` builds the Delaunay interpolant's regions and the
``Walk`` that locates points in them as ``Delaunay.find_simplex`` does;
``PointLocation`` answers "which region, and how far" for any PiecewiseAffine.
"""

from __future__ import annotations

import numpy as np

from ._geometry import Polytope, seed_vertices

__all__: list[str] = []

_EPS = float(np.finfo(np.float64).eps)
_NEAR = 100 * _EPS  # scipy's find_simplex tolerance on barycentric coordinates
_CHUNK = 2**21  # entries of one (points x rows) block in point location


# ------------------------------------------------------------ triangulation
def triangulation(points: np.ndarray, values: np.ndarray) -> dict:
    """The Delaunay interpolant of ``points`` (N, d), d >= 2: its simplices as regions.

    Barycentric transforms as scipy's ``Delaunay.transform`` (computed here with numpy:
    scipy's per-simplex LAPACK calls are slow under threading contention); simplices
    whose reciprocal 1-norm condition number is below 1000 eps, which scipy marks
    degenerate (NaN) and ``LinearNDInterpolator`` skips, are dropped: they have no
    interior. Where Qhull merges points (its precision is relative to their distance
    from the origin, so points far from it and close together merge; scipy then
    leaves them out), the points are triangulated again about their centre.
    """
    from scipy.spatial import Delaunay, QhullError

    d = points.shape[1]
    try:
        tri = Delaunay(points)
        if len(tri.coplanar):  # Qhull's precision is relative to |points|: centred, again
            tri = Delaunay(points - (points.min(axis=0) + points.max(axis=0)) / 2)
    except QhullError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "QhullError"
        raise ValueError(f"`points` could not be triangulated by Qhull ({first})") from exc
    if len(tri.coplanar):
        k, _, near = (int(v) for v in tri.coplanar[0])
        raise ValueError(
            f"`points[{k}]` is not a vertex of the triangulation: Qhull merged it with "
            f"points[{near}], nearer than its precision; remove one or spread them out"
        )
    simp = tri.simplices
    r = points[simp[:, d]]
    t = np.transpose(points[simp[:, :d]] - r[:, None, :], (0, 2, 1))  # T_ij = (r_j - r_n)_i
    with np.errstate(all="ignore"):
        det_ok = np.abs(np.linalg.det(t)) > 0
        tinv = np.zeros_like(t)
        tinv[det_ok] = np.linalg.inv(t[det_ok])
        cond = np.linalg.norm(t, 1, axis=(1, 2)) * np.linalg.norm(tinv, 1, axis=(1, 2))
    keep = np.flatnonzero(det_ok & (cond * 1000 * _EPS < 1.0))
    simp, r, tk = simp[keep], r[keep], tinv[keep]
    vals = values[simp]  # (k, d + 1, m)
    K = np.einsum("kim,kij->kmj", vals[:, :d] - vals[:, d:], tk)
    rows = np.concatenate([-tk, tk.sum(axis=1, keepdims=True)], axis=1)
    rhs = np.concatenate(
        [-np.einsum("kij,kj->ki", tk, r), 1.0 + np.einsum("kj,kj->k", tk.sum(axis=1), r)[:, None]],
        axis=1,
    )
    norms = np.linalg.norm(rows, axis=2)
    rows, rhs = rows / norms[:, :, None], rhs / norms
    polys = [
        seed_vertices(Polytope(a, b), points[s]) for a, b, s in zip(rows, rhs, simp, strict=True)
    ]
    region_of = np.full(len(tri.simplices) + 1, -1, dtype=np.intp)  # [-1]: no simplex
    region_of[keep] = np.arange(len(keep))
    nbr = tri.neighbors[keep]
    nbr = np.where(nbr < 0, -2, region_of[nbr])  # -2: the hull's boundary; -1: dropped
    walk = Walk(points, region_of[tri.vertex_to_simplex], nbr, norms)
    return {
        "polys": polys,
        "K": K,
        "anchor": r,
        "anchor_value": vals[:, d],
        "bary": (tk, vals, walk),
    }


class Walk:
    """Point location in a triangulation, as ``Delaunay.find_simplex``: from a simplex at
    the nearest data point, step across the facet of the most negative barycentric
    coordinate until none is below -1e-12. A walk that must cross a facet of the hull
    ends there with the point's distance beyond it; one that meets a dropped simplex
    (or the step guard) ends unresolved."""

    def __init__(self, points, start, neighbors, norms) -> None:
        from scipy.spatial import cKDTree

        self.tree, self.start, self.neighbors, self.norms = cKDTree(points), start, neighbors, norms

    def __call__(self, pts: np.ndarray, tinv: np.ndarray, anchor: np.ndarray):
        """(region, dist): dist 0 inside the region, the distance beyond the hull facet
        where the walk left the domain, NaN where unresolved."""
        s = self.start[self.tree.query(pts)[1]]
        s[s < 0] = 0
        dist = np.full(len(pts), np.nan)
        todo = np.arange(len(pts))
        for _ in range(4 * len(self.neighbors) + 8):  # a Delaunay walk ends; a guard
            if not todo.size:
                break
            st = s[todo]
            lam = np.einsum("nij,nj->ni", tinv[st], pts[todo] - anchor[st])
            lam = np.concatenate([lam, 1.0 - lam.sum(axis=1, keepdims=True)], axis=1)
            worst = lam.argmin(axis=1)
            low = lam[np.arange(len(st)), worst]
            nxt = self.neighbors[st, worst]
            inside = low >= -1e-12
            dist[todo[inside]] = 0.0
            slack = inside & (low < -_NEAR) & (nxt >= 0)
            s[todo[slack]] = self._better(
                pts[todo[slack]], st[slack], nxt[slack], low[slack], tinv, anchor
            )
            edge = (low < -1e-12) & (nxt == -2)
            dist[todo[edge]] = -low[edge] / self.norms[st[edge], worst[edge]]
            go = (low < -1e-12) & (nxt >= 0)
            s[todo[go]] = nxt[go]
            todo = todo[go]
        return s, dist

    @staticmethod
    def _better(pts, here, there, low, tinv, anchor) -> np.ndarray:
        """Of a simplex a point is in to -1e-12 (barycentric; rounding in slivers needs
        that much for the walk to end) and its neighbour across the most negative
        coordinate, the one whose least coordinate is larger: scipy's tolerance is 100
        eps, and a sliver's map extrapolated 1e-12 across an edge can be 1e-10 off."""
        lam = np.einsum("nij,nj->ni", tinv[there], pts - anchor[there])
        lam = np.concatenate([lam, 1.0 - lam.sum(axis=1, keepdims=True)], axis=1)
        return np.where(lam.min(axis=1) > low, there, here)


def barycentric(bary: tuple, region: np.ndarray, pts: np.ndarray, anchor: np.ndarray):
    """As LinearNDInterpolator: sum_j lambda_j v_j over the vertices of each point's simplex."""
    tinv, vals = bary[:2]
    lam = np.einsum("nij,nj->ni", tinv[region], pts - anchor[region])
    lam = np.concatenate([lam, 1.0 - lam.sum(axis=1, keepdims=True)], axis=1)
    return np.einsum("nj,njm->nm", lam, vals[region])


# ---------------------------------------------------------- point location
def locate(
    pts: np.ndarray, rows: np.ndarray, rhs: np.ndarray, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each point, the region whose largest violated (unit) row is smallest, and that
    violation: a lower bound on the distance to the region (0 or less inside)."""
    n = len(pts)
    region = np.zeros(n, dtype=np.intp)
    dist = np.zeros(n)
    step = max(1, _CHUNK // max(len(rhs), 1))
    for s in range(0, n, step):
        viol = pts[s : s + step] @ rows.T - rhs
        worst = np.maximum.reduceat(viol, starts, axis=1)
        best = worst.argmin(axis=1)
        region[s : s + step] = best
        dist[s : s + step] = worst[np.arange(len(best)), best]
    return region, dist


class Locator:
    """Point location: a uniform grid of about 8 n_regions cells over the bounding box,
    each listing the regions whose box (widened by ``h``) meets it. A point is tested
    against its cell's regions; the few in none of them (within ``h``) are located by
    ``locate`` over all regions, except those more than ``h`` beyond a facet of the
    domain's hull (``hull``: unit normals and offsets, for a convex domain)."""

    def __init__(self, units: list, verts: list, h: float, hull=None) -> None:
        n, d = len(units), verts[0].shape[1]
        width = max(len(b) for _, b in units)
        self.a, self.b = np.zeros((n, width, d)), np.full((n, width), np.inf)  # pad: -inf
        for i, (a, b) in enumerate(units):
            self.a[i, : len(b)], self.b[i, : len(b)] = a, b
        self.flat = (
            np.vstack([a for a, _ in units]),
            np.concatenate([b for _, b in units]),
            np.cumsum([0] + [len(b) for _, b in units[:-1]]),
        )
        self.h, self.hull = h, hull
        lo = np.array([v.min(axis=0) for v in verts])
        hi = np.array([v.max(axis=0) for v in verts])
        self.lo, span = lo.min(axis=0), hi.max(axis=0) - lo.min(axis=0)
        self.g = int(np.ceil((8 * n) ** (1 / d)))
        self.scale = self.g / span
        first, last = self._cell(lo - h), self._cell(hi + h)
        cells, owner = [], []
        for r in range(n):
            ranges = [np.arange(first[r, k], last[r, k] + 1) for k in range(d)]
            idx = np.ravel_multi_index(np.meshgrid(*ranges, indexing="ij"), (self.g,) * d)
            cells.append(idx.ravel())
            owner.append(np.full(idx.size, r))
        cells, owner = np.concatenate(cells), np.concatenate(owner)
        order = np.argsort(cells, kind="stable")
        self.regions = owner[order]
        self.count = np.bincount(cells, minlength=self.g**d)
        self.start = np.concatenate([[0], np.cumsum(self.count)[:-1]])

    def _cell(self, x: np.ndarray) -> np.ndarray:
        return np.clip(np.floor((x - self.lo) * self.scale), 0, self.g - 1).astype(np.intp)

    def __call__(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n, d = pts.shape
        cell = np.ravel_multi_index(self._cell(pts).T, (self.g,) * d)
        start, count = self.start[cell], self.count[cell]
        region, dist = np.zeros(n, dtype=np.intp), np.full(n, np.inf)
        for j in range(int(count.max(initial=0))):
            idx = np.flatnonzero(count > j)
            r = self.regions[start[idx] + j]
            viol = (np.einsum("nrd,nd->nr", self.a[r], pts[idx]) - self.b[r]).max(axis=1)
            better = viol < dist[idx]
            region[idx[better]], dist[idx[better]] = r[better], viol[better]
        redo = np.flatnonzero(dist > self.h)
        if redo.size and self.hull is not None:
            out = (pts[redo] @ self.hull[0].T - self.hull[1]).max(axis=1)
            dist[redo] = np.maximum(dist[redo], out)
            redo = redo[out <= self.h]
        if redo.size:
            region[redo], dist[redo] = locate(pts[redo], *self.flat)
        return region, dist


class PointLocation:
    """Where points are: (region, dist) with ``dist`` a lower bound on the distance to
    the region (0 or less inside). Intervals (d = 1) by sorted ends; a triangulation by
    its ``Walk``; the rest (and what a walk leaves) by ``Locator``, built when needed."""

    def __init__(self, units, verts, h: float, convex: bool, walk, anchor) -> None:
        self.units, self.verts, self.h, self.convex = units, verts, h, convex
        self.walk, self.anchor, self.grid = walk, anchor, None
        self.ends = None
        if verts[0].shape[1] == 1:
            left = np.array([v[0, 0] for v in verts])
            right = np.array([v[-1, 0] for v in verts])
            self.ends = (left, right, np.argsort(left, kind="stable"))

    def __call__(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.ends is not None:
            return locate_1d(pts[:, 0], *self.ends)
        region, dist = np.zeros(len(pts), dtype=np.intp), np.zeros(len(pts))
        rest = np.arange(len(pts))
        if self.walk is not None:
            region, dist = self.walk[2](pts, self.walk[0], self.anchor)
            rest = np.flatnonzero(~(dist == 0) & ~(dist > self.h))  # NaN: unresolved
        if rest.size:
            if self.grid is None:
                hull = None
                if self.convex:
                    from scipy.spatial import ConvexHull

                    eq = ConvexHull(np.vstack(self.verts)).equations  # unit normals
                    hull = (eq[:, :-1], -eq[:, -1])
                self.grid = Locator(self.units, self.verts, self.h, hull)
            region[rest], dist[rest] = self.grid(pts[rest])
        return region, dist


def locate_1d(
    x: np.ndarray, left: np.ndarray, right: np.ndarray, order: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``locate`` for intervals: the nearer of the two intervals around each point."""
    k = np.clip(np.searchsorted(left[order], x, side="right") - 1, 0, len(order) - 1)
    cand = np.stack([k, np.minimum(k + 1, len(order) - 1)])
    idx = order[cand]
    dist = np.maximum(left[idx] - x, x - right[idx])
    pick = dist.argmin(axis=0)
    cols = np.arange(len(x))
    return idx[pick, cols], dist[pick, cols]
