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
    """Convex polygons in a growing vertex buffer (polygon p: ``cnt[p]`` ccw vertices
    from ``buf[st[p]]``), each with its bounding box and map group. A cut
    rewrites only the polygons it splits: a line meets few of them, found by their
    boxes; the parts are appended to the buffer (the old runs are left unused)."""

    def __init__(self, lower: np.ndarray, upper: np.ndarray) -> None:
        self.buf = np.empty((1024, 2))
        self.buf[:4] = [lower, [upper[0], lower[1]], upper, [lower[0], upper[1]]]
        self.used, self.n = 4, 1
        self._int = np.zeros((3, 1024), dtype=np.intp)  # rows: st, cnt, grp
        self._box = np.zeros((2, 1024, 2))  # lower and upper corners
        self._int[:, 0] = 0, 4, 0
        self._box[:, 0] = lower, upper

    st = property(lambda self: self._int[0, : self.n])
    cnt = property(lambda self: self._int[1, : self.n])
    grp = property(lambda self: self._int[2, : self.n])
    lo = property(lambda self: self._box[0, : self.n])
    hi = property(lambda self: self._box[1, : self.n])

    def __len__(self) -> int:
        return self.n

    def set_groups(self, grp: np.ndarray) -> None:
        self._int[2, : self.n] = grp

    def _add(self, st: np.ndarray, cnt: np.ndarray, grp: np.ndarray, box: tuple) -> None:
        """Append polygons (amortised: capacity doubles)."""
        need = self.n + len(st)
        if need > self._int.shape[1]:
            cap = max(2 * self._int.shape[1], need)
            self._int = np.concatenate([self._int, np.zeros((3, cap), np.intp)], axis=1)
            self._box = np.concatenate([self._box, np.zeros((2, cap, 2))], axis=1)
        self._int[:, self.n : need] = st, cnt, grp
        self._box[0, self.n : need], self._box[1, self.n : need] = box
        self.n = need

    def gather(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The vertices of polygons ``ids`` in a row, their runs' starts and owners."""
        cnt = self.cnt[ids]
        start = np.r_[0, np.cumsum(cnt)]
        owner = np.repeat(np.arange(len(ids)), cnt)
        vidx = self.st[ids][owner] + np.arange(start[-1]) - start[owner]
        return self.buf[vidx], start, owner

    def _append(self, pts: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Store runs of vertices; their starts in the buffer."""
        need = self.used + len(pts)
        if need > len(self.buf):
            self.buf = np.concatenate([self.buf[: self.used], np.empty((need, 2))])
        self.buf[self.used : need] = pts
        starts = self.used + np.r_[0, np.cumsum(counts)[:-1]]
        self.used = need
        return starts

    def split(self, g: np.ndarray, h: np.ndarray, tol: np.ndarray) -> None:
        """Cut every polygon that ``d = g x + h`` (per polygon, or one g and h for all)
        takes to both sides of ``tol`` along ``d = 0``; vertices within ``tol`` go to
        both parts, as ``partition`` cuts."""
        mid, half = (self.lo + self.hi) / 2, (self.hi - self.lo) / 2
        if g.ndim == 1:
            centre, reach = mid @ g + h, half @ np.abs(g)
        else:
            centre = np.einsum("pj,pj->p", mid, g) + h
            reach = np.einsum("pj,pj->p", half, np.abs(g))
        ids = np.flatnonzero((centre - reach < -tol) & (centre + reach > tol))
        if ids.size == 0:
            return
        V, start, owner = self.gather(ids)
        if g.ndim == 1:
            d = V @ g + h
        else:
            d = np.einsum("ij,ij->i", V, g[ids][owner]) + h[ids][owner]
        tp = tol[ids]
        cross = (np.minimum.reduceat(d, start[:-1]) < -tp) & (
            np.maximum.reduceat(d, start[:-1]) > tp
        )
        if not cross.any():
            return
        if not cross.all():
            keep = cross[owner]
            ids, tp, V, d = ids[cross], tp[cross], V[keep], d[keep]
            cnt = self.cnt[ids]
            start = np.r_[0, np.cumsum(cnt)]
            owner = np.repeat(np.arange(len(ids)), cnt)
        tv = tp[owner]
        side = np.where(d > tv, 1, np.where(d < -tv, -1, 0))
        cv = np.arange(len(V))
        nxt = cv + 1
        last = nxt == start[owner + 1]
        nxt[last] = start[owner[last]]
        edge = side * side[nxt] < 0
        i, j = cv[edge], nxt[edge]
        t = (d[i] / (d[i] - d[j]))[:, None]
        order = np.argsort(np.r_[2 * cv, 2 * i + 1], kind="stable")
        pts = np.vstack([V, V[i] + t * (V[j] - V[i])])[order]
        sides = np.r_[side, np.zeros(len(i), int)][order]
        parent = np.r_[owner, owner[i]][order]
        n = len(ids)
        parts = []
        for mask in (sides <= 0, sides >= 0):
            counts = np.bincount(parent[mask], minlength=n)
            first = np.r_[0, np.cumsum(counts)[:-1]]
            box = (np.minimum.reduceat(pts[mask], first), np.maximum.reduceat(pts[mask], first))
            parts.append((self._append(pts[mask], counts), counts, box))
        (st, cnt, (lo, hi)), pos = parts
        self._int[0, ids], self._int[1, ids] = st, cnt
        self._box[0, ids], self._box[1, ids] = lo, hi
        self._add(pos[0], pos[1], self.grp[ids], pos[2])

    def compact(self) -> tuple[np.ndarray, np.ndarray]:
        """All vertices, polygon by polygon, and the counts."""
        return self.gather(np.arange(len(self)))[0], self.cnt

    def means(self) -> np.ndarray:
        V, start, _ = self.gather(np.arange(len(self)))
        return np.add.reduceat(V, start[:-1]) / self.cnt[:, None]


def plane_regions(ops: tuple, lower: np.ndarray, upper: np.ndarray, max_regions: int) -> tuple:
    """Regions of a 2-input network: polytopes with vertices, K, c, anchors."""
    polys = Polygons(lower, upper)
    sliver = _SLIVER * float(np.linalg.norm(upper - lower))
    scale = float(np.abs(np.r_[lower, upper]).max())
    G, H = np.eye(2)[None], np.zeros((1, 2))  # per group: z = G x + H
    k = 0
    while k < len(ops):
        op = ops[k]
        if isinstance(op, Affine):
            G, H = op.weight @ G, H @ op.weight.T + op.bias
            k += 1
            continue
        gx, gy = G[:, :, 0].T.copy(), G[:, :, 1].T.copy()  # (width, groups): unit-major
        Ht = H.T.copy()
        tolt = sliver * np.hypot(gx, gy)
        tolt += 64 * _EPS * ((np.abs(gx) + np.abs(gy)) * scale + np.abs(Ht))
        for kink in op.kinks:
            for unit in range(G.shape[1]):
                if len(G) == 1:
                    g, h = np.array([gx[unit, 0], gy[unit, 0]]), Ht[unit, 0] - kink
                else:
                    grp = polys.grp
                    g = np.stack([gx[unit][grp], gy[unit][grp]], axis=1)
                    h = Ht[unit][grp] - kink
                polys.split(g, h, tolt[unit][polys.grp])
                if len(polys) > max_regions:
                    raise TooManyRegions
        nxt = ops[k + 1] if k + 1 < len(ops) and isinstance(ops[k + 1], Affine) else None
        G, H = _through(op, polys, G, H, nxt)
        k += 2 if nxt is not None else 1
    return _regions(polys, G, H)


def _through(op: Activation, polys: Polygons, G, H, nxt: Affine | None) -> tuple:
    """The maps after the activation (and the next affine layer), one per polygon,
    each unit on the piece its pattern at the polygon's vertex mean gives. Few
    groups: per group, one matrix product ``s @ M`` with ``M[w] = Wn[:, w] (x) G[w]``;
    many: in chunks of polygons."""
    mean, n, hard = polys.means(), len(polys), op.name == "hardtanh"
    width, d = G.shape[1], G.shape[2]
    out_w = width if nxt is None else nxt.weight.shape[0]
    first = -1 if hard else 0  # the code of the lowest piece
    table = slope_offset(op, np.arange(first, first + len(op.kinks) + 1)[:, None].repeat(width, 1))
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
        s, t = _pieces(table, code, hard)
        h = s * h0 + t
        if k is not None and nxt is not None:
            m = (nxt.weight.T[:, :, None] * g0[:, None, :]).reshape(width, -1)
            g = (s @ m).reshape(len(idx), out_w, d)
        else:
            g = s[:, :, None] * g0
            if nxt is not None:  # one product, not one per polygon
                g = np.tensordot(nxt.weight, g, axes=([1], [1])).transpose(1, 0, 2)
        new_g[idx] = g
        new_h[idx] = h if nxt is None else h @ nxt.weight.T + nxt.bias
    polys.set_groups(np.arange(n))
    return new_g, new_h


def _pieces(table: tuple, code: np.ndarray, hard: bool) -> tuple[np.ndarray, np.ndarray]:
    """Slope and offset of each unit's piece from the per-piece table (slope_offset's
    values for every piece), by comparisons rather than fancy indexing."""
    slopes, offsets = table
    r = code + 1 if hard else code
    s, t = np.broadcast_to(slopes[0], code.shape), np.broadcast_to(offsets[0], code.shape)
    for k in range(1, len(slopes)):
        on = r >= k
        s, t = np.where(on, slopes[k], s), np.where(on, offsets[k], t)
    return s, t


def _regions(polys: Polygons, G: np.ndarray, H: np.ndarray) -> tuple:
    """Polytopes (rows: the edges, outward unit normals; vertices ccw from the lowest
    then leftmost, repeated ones dropped), maps K, c and vertex means."""
    V, counts = polys.compact()
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
    for arr in (a, b, V):
        arr.setflags(write=False)  # so are the views handed out
    polys_out = [
        trusted_polytope(a[i:j], b[i:j], V[i:j])
        for i, j in zip(start[:-1].tolist(), start[1:].tolist(), strict=True)
    ]
    anchor = np.add.reduceat(V, start[:-1]) / counts[:, None]
    return polys_out, G[polys.grp], H[polys.grp], anchor, (a, b, start)
