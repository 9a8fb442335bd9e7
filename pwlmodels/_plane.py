"""The activation regions of a 2-input network in a box, all polygons cut at once.

The algorithm of :func:`pwlmodels.regions.partition` (cut every piece along each
unit's kinks, layer by layer, then read its pattern at the mean of its vertices),
vectorised over the polygons: they are kept as one vertex array ``V`` (counter-
clockwise runs, polygon ``p`` is ``V[start[p]:start[p + 1]]``), and each layer's
pre-activation map as ``G[grp[p]]`` (width, 2) and ``H[grp[p]]`` (width,), shared
by the polygons of one region of the earlier layers. The same sliver tolerance as
``partition``: a cut that would leave a piece thinner than ``1e-10`` times the box
diagonal (plus a rounding margin) is not made. Memory: the vertices, the patterns
(int8) and one map per region of the earlier layers; maps are composed in chunks.
"""

from __future__ import annotations

import itertools

import numpy as np

from ._geometry import trusted_polytope
from .network._maps import slope_offset
from .network._parse import Activation, Affine, pattern_code

__all__: list[str] = []

_SLIVER = 1e-10
_EPS = float(np.finfo(np.float64).eps)
_CHUNK = 4096


class TooManyRegions(ValueError):
    """Raised inside the enumerations; relu_to_pwa words the public message."""


class Polygons:
    """Convex polygons as one ccw vertex array, with each one's map group and pattern."""

    def __init__(self, lower: np.ndarray, upper: np.ndarray) -> None:
        self.V = np.array([lower, [upper[0], lower[1]], upper, [lower[0], upper[1]]])
        self.counts = np.array([4])
        self.grp = np.zeros(1, dtype=np.intp)
        self.codes: list[np.ndarray] = []

    @property
    def start(self) -> np.ndarray:
        return np.r_[0, np.cumsum(self.counts)]

    def __len__(self) -> int:
        return len(self.counts)

    def split(self, d: np.ndarray, tol: np.ndarray) -> None:
        """Cut every polygon that ``d`` (affine, its values at the vertices) takes to
        both sides of ``tol`` (per polygon) along ``d = 0``; vertices within ``tol``
        go to both parts."""
        start = self.start
        lo = np.minimum.reduceat(d, start[:-1])
        hi = np.maximum.reduceat(d, start[:-1])
        cross = (lo < -tol) & (hi > tol)
        if not cross.any():
            return
        owner = np.repeat(np.arange(len(self)), self.counts)
        tv = tol[owner]
        side = np.where(d > tv, 1, np.where(d < -tv, -1, 0))
        cv = np.flatnonzero(cross[owner])  # vertices of crossing polygons, in order
        nxt = cv + 1
        last = nxt == start[owner[cv] + 1]
        nxt[last] = start[owner[cv[last]]]
        edge = side[cv] * side[nxt] < 0
        i, j = cv[edge], nxt[edge]
        t = (d[i] / (d[i] - d[j]))[:, None]
        new = self.V[i] + t * (self.V[j] - self.V[i])
        order = np.argsort(np.r_[2 * cv, 2 * i + 1], kind="stable")
        pts = np.vstack([self.V[cv], new])[order]
        sides = np.r_[side[cv], np.zeros(len(i), int)][order]
        parent = np.r_[owner[cv], owner[i]][order]
        ids = np.flatnonzero(cross)
        neg, pos = sides <= 0, sides >= 0
        rank = np.searchsorted(ids, parent)
        keep = ~cross
        self.V = np.vstack([self.V[~cross[owner]], pts[neg], pts[pos]])
        self.counts = np.r_[
            self.counts[keep],
            np.bincount(rank[neg], minlength=len(ids)),
            np.bincount(rank[pos], minlength=len(ids)),
        ]
        take = np.r_[np.flatnonzero(keep), ids, ids]
        self.grp = self.grp[take]
        self.codes = [c[take] for c in self.codes]

    def means(self) -> np.ndarray:
        return np.add.reduceat(self.V, self.start[:-1]) / self.counts[:, None]


def plane_regions(ops: tuple, lower: np.ndarray, upper: np.ndarray, max_regions: int) -> list:
    """Regions of a 2-input network as (polytope with vertices, pattern, K, c)."""
    polys = Polygons(lower, upper)
    sliver = _SLIVER * float(np.linalg.norm(upper - lower))
    scale = float(np.abs(polys.V).max())
    G, H = np.eye(2)[None], np.zeros((1, 2))  # per group: z = G x + H
    k = 0
    while k < len(ops):
        op = ops[k]
        if isinstance(op, Affine):
            G, H = op.weight @ G, H @ op.weight.T + op.bias
            k += 1
            continue
        tol = sliver * np.linalg.norm(G, axis=2)
        tol += 64 * _EPS * (np.abs(G).sum(axis=2) * scale + np.abs(H))  # (groups, width)
        for kink in op.kinks:
            for unit in range(G.shape[1]):
                g, h = G[:, unit], H[:, unit] - kink
                owner = np.repeat(polys.grp, polys.counts)
                if len(g) == 1:
                    d = polys.V @ g[0] + h[0]
                else:
                    d = np.einsum("ij,ij->i", polys.V, g[owner]) + h[owner]
                polys.split(d, tol[polys.grp, unit])
                if len(polys) > max_regions:
                    raise TooManyRegions
        nxt = ops[k + 1] if k + 1 < len(ops) and isinstance(ops[k + 1], Affine) else None
        G, H = _through(op, polys, G, H, nxt)
        k += 2 if nxt is not None else 1
    return _regions(polys, G, H)


def _through(op: Activation, polys: Polygons, G, H, nxt: Affine | None) -> tuple:
    """Record each polygon's pattern; the maps after the activation (and the next
    affine layer), one per polygon. Few groups: per group, one matrix product
    ``s @ M`` with ``M[w] = Wn[:, w] (x) G[w]``; many: in chunks of polygons."""
    mean, n, hard = polys.means(), len(polys), op.name == "hardtanh"
    width, d = G.shape[1], G.shape[2]
    out_w = width if nxt is None else nxt.weight.shape[0]
    codes = np.empty((n, width), dtype=np.int8)
    new_g, new_h = np.empty((n, out_w, d)), np.empty((n, out_w))
    if 32 * len(G) <= n:
        order = np.argsort(polys.grp, kind="stable")
        cuts = np.searchsorted(polys.grp[order], np.arange(len(G) + 1))
        parts = [
            (order[i : min(i + _CHUNK, j)], k)
            for k, (lo, j) in enumerate(itertools.pairwise(cuts))
            for i in range(lo, j, _CHUNK)
        ]
    else:
        parts = [(np.arange(i, min(i + _CHUNK, n)), None) for i in range(0, n, _CHUNK)]
    for idx, k in parts:
        if k is None:  # per polygon
            g0, h0 = G[polys.grp[idx]], H[polys.grp[idx]]
            z = np.einsum("pwj,pj->pw", g0, mean[idx]) + h0
        else:
            g0, h0 = G[k], H[k]
            z = mean[idx] @ g0.T + h0
        code = pattern_code(hard, z, *op.kinks).astype(np.int8)
        s, t = slope_offset(op, code)
        h = s * h0 + t
        if k is not None and nxt is not None:
            m = (nxt.weight.T[:, :, None] * g0[:, None, :]).reshape(width, -1)
            g = (s @ m).reshape(len(idx), out_w, d)
        else:
            g = s[:, :, None] * g0
            g = g if nxt is None else nxt.weight @ g
        new_g[idx], codes[idx] = g, code
        new_h[idx] = h if nxt is None else h @ nxt.weight.T + nxt.bias
    polys.codes.append(codes)
    polys.grp = np.arange(n)
    return new_g, new_h


def _regions(polys: Polygons, G: np.ndarray, H: np.ndarray) -> tuple:
    """Polytopes (rows: the edges, outward unit normals; vertices ccw from the lowest
    then leftmost, repeated ones dropped), maps K, c and vertex means."""
    V, counts = polys.V, polys.counts
    owner = np.repeat(np.arange(len(counts)), counts)
    start = np.r_[0, np.cumsum(counts)]
    prev = np.arange(len(V)) - 1
    first = start[:-1]
    prev[first] = start[1:] - 1
    keep = np.any(V != V[prev], axis=1)
    keep[first[~np.add.reduceat(keep, first).astype(bool)]] = True  # a point: keep one
    V, owner = V[keep], owner[keep]
    counts = np.bincount(owner, minlength=len(counts))
    start = np.r_[0, np.cumsum(counts)]
    nxt = np.arange(len(V)) + 1
    nxt[start[1:] - 1] = start[:-1]
    e = V[nxt] - V
    a = np.stack([e[:, 1], -e[:, 0]], axis=1)
    norm = np.hypot(a[:, 0], a[:, 1])
    norm[norm == 0] = 1.0
    a /= norm[:, None]
    b = np.einsum("ij,ij->i", a, V)
    low = np.lexsort((V[:, 0], V[:, 1], owner))[start[:-1]] - start[:-1]
    pos = np.arange(len(V)) - start[owner]
    V = V[start[owner] + (pos + low[owner]) % counts[owner]]
    polys_out = [
        trusted_polytope(a[i:j], b[i:j], V[i:j])
        for i, j in zip(start[:-1].tolist(), start[1:].tolist(), strict=True)
    ]
    anchor = np.add.reduceat(V, start[:-1]) / counts[:, None]
    return polys_out, G[polys.grp], H[polys.grp], anchor, (a, b, start)
