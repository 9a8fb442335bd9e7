"""Plane geometry for regions.py: polygon cuts, areas and centroids, bounding boxes.

numpy/scipy only; polygons are (m, 2) counter-clockwise vertex arrays,
intervals (2, 1).
"""

from __future__ import annotations

import numpy as np

__all__: list[str] = []


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
