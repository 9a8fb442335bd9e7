"""The exact linear regions of a piecewise-linear network over a box: ``relu_to_pwa``.

Two exact enumerations, both in float64 from the parsed weights:

- 2 inputs (``_plane``): the box is cut layer by layer, unit by unit, every
  polygon at once (vectorised), as :func:`pwlmodels.regions.partition` cuts it
  one polygon at a time;
- any other number of inputs (here): a breadth-first walk over neighbouring
  activation patterns. A region is ``{x in box : the pattern's sign conditions}``;
  its vertices and non-redundant facets come from one Qhull halfspace intersection
  from an interior point (found by shooting a ray across the facet it was entered
  through, or, where that fails, by a Chebyshev-ball linear program, HiGHS);
  the neighbour across a facet flips every unit whose kink lies on it, later-layer
  units decided by the side their bent hyperplane takes. Serra et al. (2018) bound
  and count regions; relucent walks them the same way with Gurobi's LPs.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from ._geometry import Polytope, chebyshev, row_norms, seed_vertices
from ._plane import TooManyRegions, plane_regions
from ._validate import as_float_array, check_finite
from .network._maps import maps, piece_index
from .network._parse import (
    Activation,
    Affine,
    input_features,
    parse_sequential,
    pattern_code,
)

if TYPE_CHECKING:
    from torch import nn

    from .pwa import PiecewiseAffine

__all__ = ["relu_to_pwa"]

_EPS = float(np.finfo(np.float64).eps)
FLAT = 1e-10  # relative to the box diagonal: regions with a smaller inscribed ball are flat


def relu_to_pwa(
    net: nn.Sequential, lower: object, upper: object, *, max_regions: int = 100_000
) -> PiecewiseAffine:
    """The exact linear regions of a piecewise-linear network over a box.

    Every full-dimensional activation region of ``net`` in the box
    ``lower <= x <= upper``, each with the network's affine map on it, as a
    :class:`~pwlmodels.PiecewiseAffine` equal to ``net`` on the box (the
    real-arithmetic function of its weights cast exactly to float64; vertices and
    maps in float64). Regions are activation regions, not pieces: neighbours may
    share a map (``n_pieces`` counts distinct maps; ``simplify()`` merges them).

    2 inputs: the box is cut layer by layer and unit by unit, all polygons at once,
    as :func:`partition` cuts it polygon by polygon; the two give the same regions
    and maps (tested), this one 4 to 7 times faster on two hidden layers and
    20 times on one (``benchmarks/bench_regions.py``: 2-384-384-1, 100,420 regions,
    5.8 s against 22 s). ``partition`` could become a view of this one but stays its
    own function for now: it keeps the patterns and the 1-input case, and its
    ``Partition`` is what the plots read. Any other number of inputs: a
    breadth-first walk over neighbouring activation patterns from the box's centre.
    Each region's vertices and non-redundant facets come from a Qhull halfspace
    intersection from an interior point (a ray shot across the facet it was
    entered by, or a Chebyshev-ball linear program by HiGHS); the neighbour across
    a facet flips every unit whose kink lies on it (several units may share a
    facet), and a later-layer unit whose hyperplane bends there takes the side its
    new hyperplane leaves. Regions whose inscribed ball is thinner than ``1e-10``
    times the box diagonal are lower-dimensional (a zero-width region, a kink on a
    face of the box, a unit constant at its kink) and are not regions here.
    Cost (same benchmark, one thread): about 0.7 ms per region in 3 inputs, 1 ms in
    5 (3-56-56-1: 47,426 regions in 35 s), at most one linear program per region.

    Parameters
    ----------
    net : torch.nn.Sequential
        Linear and ReLU / LeakyReLU / PReLU / Hardtanh / ReLU6 layers (and the
        other layers :func:`pwlmodels.relu_to_spline` accepts: Identity, Flatten,
        Dropout and BatchNorm1d in eval mode), any number of inputs and outputs.
        A smooth activation is a TypeError.
    lower, upper : float or array_like, shape (n_in,)
        The box: finite, ``lower < upper`` in every coordinate.
    max_regions : int, default 100_000
        A ValueError as soon as there are more regions.

    Returns
    -------
    PiecewiseAffine
        ``n_inputs`` = n_in, ``n_outputs`` = the network's outputs, one region per
        activation region, in the order found.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from pwlmodels import evaluate, relu_to_pwa
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = torch.nn.Sequential(
    ...     torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1)
    ... ).double()
    >>> f = relu_to_pwa(net, -1.0, 1.0)
    >>> f.n_inputs, f.n_outputs, f.n_regions > 8  # 8 hyperplanes cut the cube
    (3, 1, True)
    >>> x = np.random.default_rng(0).uniform(-1, 1, (1000, 3))
    >>> np.allclose(f(x), evaluate(net, x), rtol=1e-12, atol=1e-12)
    True
    """
    ops = parse_sequential(net)
    if isinstance(max_regions, bool) or not isinstance(max_regions, (int, np.integer)):
        raise TypeError(f"`max_regions` must be an integer; got {type(max_regions).__name__}")
    if max_regions < 1:
        raise ValueError(f"`max_regions` must be positive; got {max_regions}")
    lo, hi = _box(lower, upper, input_features(ops))
    try:
        if lo.size == 2:
            regions = plane_regions(ops, lo, hi, max_regions)
        else:
            regions = Walk(ops, lo, hi, max_regions).run()[:4]
    except TooManyRegions:
        raise ValueError(
            f"`net` has more than `max_regions` = {max_regions} linear regions in the box; "
            "raise max_regions or shrink the box"
        ) from None
    return _assemble(regions, lo.size)


def _box(lower: object, upper: object, n_in: int | None) -> tuple[np.ndarray, np.ndarray]:
    arrs = {}
    for name, bound in (("lower", lower), ("upper", upper)):
        arr = as_float_array(bound, name)
        want = n_in or (arr.size if arr.ndim == 1 else None)
        if arr.ndim > 1 or (arr.ndim == 1 and arr.size != want) or arr.size == 0:
            raise ValueError(
                f"`{name}` must be a number or have shape ({n_in or 'n_in'},); got {arr.shape}"
            )
        check_finite(arr, name)
        arrs[name] = arr
    n = n_in or max(arrs["lower"].size, arrs["upper"].size)
    lo, hi = (np.broadcast_to(arrs[k], (n,)).astype(np.float64) for k in ("lower", "upper"))
    bad = lo >= hi
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"`lower` must be < `upper`; got lower[{i}] = {float(lo[i])!r} "
            f">= upper[{i}] = {float(hi[i])!r}"
        )
    # the tolerances scale with the diagonal: its square must neither overflow nor underflow
    with np.errstate(over="ignore", under="ignore"):
        diagonal = float(np.sqrt(((hi - lo) ** 2).sum()))
    if not 1e-150 <= diagonal <= 1e150:
        raise ValueError(
            f"the box `lower`, `upper` must have a diagonal between 1e-150 and 1e150; got "
            f"{diagonal:.3g}: rescale the inputs (fold the scale into the first layer)"
        )
    return lo, hi


def _assemble(regions: tuple, d: int) -> PiecewiseAffine:
    """A PiecewiseAffine from trusted regions: polytopes with vertices, K, c, anchors."""
    from .pwa import PiecewiseAffine

    polys, K, c, anchor = regions[:4]
    if not polys:
        raise ValueError("`net` has no full-dimensional region in the box")
    K, c = K.reshape(len(polys), -1, d), c.reshape(len(polys), -1)
    value = np.einsum("rmd,rd->rm", K, anchor) + c
    units = [(p.A_ub, p.b_ub) for p in polys]  # unit rows already
    return PiecewiseAffine._build(polys, K, anchor, value, units=units)


def forward_codes(ops: tuple, x: np.ndarray) -> list[np.ndarray]:
    """The patterns (int8, shape (width,)) of one point, float64, torch's ties."""
    z, out = x, []
    for op in ops:
        if isinstance(op, Affine):
            z = op.weight @ z + op.bias
        else:
            out.append(pattern_code(op.name == "hardtanh", z, *op.kinks).astype(np.int8))
            z = op(z[None, :])[0]
    return out


_SAMPLES = 256  # random points whose patterns must be among the regions found


class Walk:
    """The breadth-first walk over full-dimensional activation regions of a box."""

    def __init__(self, ops: tuple, lower: np.ndarray, upper: np.ndarray, max_regions: int):
        self.ops, self.lower, self.upper, self.max_regions = ops, lower, upper, max_regions
        self.d = lower.size
        self.acts = [op for op in ops if isinstance(op, Activation)]
        self.diag = float(np.linalg.norm(upper - lower))
        self.flat = FLAT * self.diag
        self.vtol = 1e-12 * (self.diag + float(np.abs(np.r_[lower, upper]).max()))
        eye = np.eye(self.d)
        self.box_a, self.box_b = np.vstack([eye, -eye]), np.r_[upper, -lower]
        # the same network with |weights|, |slopes|, |offsets|: the size of the terms
        # each unit's map sums, so that maps that cancel to rounding count as zero
        self.abs_ops = [
            Affine(np.abs(op.weight), np.abs(op.bias))
            if isinstance(op, Affine)
            else replace(
                op, kinks=np.abs(op.kinks), slopes=np.abs(op.slopes), offset=abs(op.offset)
            )
            for op in ops
        ]
        self.far = float(np.abs(np.r_[lower, upper]).max())

    # ------------------------------------------------------------ one region
    def constraints(self, codes: list) -> tuple:
        """Unit rows, bounds, each row's (layer, unit, side) (layer -1: the box), and
        the maps: each activation layer's input map (g, h), the output map (K, c)."""
        pre, K, c = maps(self.ops, [c[None, :] for c in codes], 1, self.d)
        pre = [(g[0], h[0]) for g, h in pre]
        size, _, _ = maps(self.abs_ops, [c[None, :] for c in codes], 1, self.d)
        noise = [128 * _EPS * (np.abs(g[0]).sum(axis=1) * self.far + h[0]) for g, h in size]
        pre = [
            (np.where(np.abs(g).sum(axis=1, keepdims=True) <= e[:, None], 0.0, g), h)
            for (g, h), e in zip(pre, noise, strict=True)
        ]
        a, b = halfspaces(pre, self.acts, codes, self.d)
        slack = np.concatenate([np.r_[e, e] for e in noise]) if noise else np.zeros(0)
        meta = [
            np.stack([np.full(w, layer), np.arange(w), np.full(w, side)], axis=1)
            for layer, c in enumerate(codes)
            for side, w in ((0, c.size), (1, c.size))
        ]
        meta.append(np.full((2 * self.d, 3), -1))
        a, b = np.vstack([a, self.box_a]), np.r_[b, self.box_b]
        slack = np.r_[slack, np.zeros(2 * self.d)]
        meta = np.concatenate(meta)
        finite = np.isfinite(b)
        a, b, meta, slack = a[finite], b[finite], meta[finite], slack[finite]
        norms = row_norms(a)
        maps_ = (pre, K[0], c[0])
        if (b[norms == 0] < -slack[norms == 0]).any():  # constant on the wrong side
            return np.zeros((0, self.d)), np.zeros(0), meta[:0], maps_
        keep = norms > 0
        return a[keep] / norms[keep, None], b[keep] / norms[keep], meta[keep], maps_

    def interior(self, a: np.ndarray, b: np.ndarray, hint) -> np.ndarray | None:
        """A point well inside {a x <= b}, or None when the region is flat or empty."""
        if len(a) == 0:
            return None
        if hint is not None:
            p0, n = hint
            slack, rate = b - a @ p0, a @ n
            ahead = rate > 1e-12
            if (slack[~ahead] > -self.vtol).all() and (slack[ahead] > self.vtol).all():
                t = min(float((slack[ahead] / rate[ahead]).min(initial=np.inf)), self.diag)
                p = p0 + 0.5 * t * n
                if (b - a @ p).min() > self.flat:
                    return p
        center, radius = chebyshev(a, b)
        return center if radius > self.flat else None

    def cell(self, a: np.ndarray, b: np.ndarray, p: np.ndarray) -> tuple | None:
        """Vertices of {a x <= b} (p inside), and its facets: (rows on the facet's
        hyperplane, a point inside the facet); None when Qhull finds it flat.

        The facets are the halfspaces Qhull names at d or more vertices
        (``dual_facets``), not rows found active at the vertices within a tolerance,
        which rounding in the vertices can miss; rows within 1e-9 of a facet's (unit)
        row and bound hold it too."""
        if self.d == 1:
            up, down = a[:, 0] > 0, a[:, 0] < 0
            v = np.array([[(b[down] / a[down, 0]).max()], [(b[up] / a[up, 0]).min()]])
            ends = [np.flatnonzero(down & (np.abs(b / a[:, 0] - v[0, 0]) <= self.vtol))]
            ends.append(np.flatnonzero(up & (np.abs(b / a[:, 0] - v[1, 0]) <= self.vtol)))
            return v, [(rows, v[k]) for k, rows in enumerate(ends)]
        from scipy.spatial import HalfspaceIntersection, QhullError

        halfspaces = np.hstack([a, -b[:, None]])
        try:
            hs = HalfspaceIntersection(halfspaces, p)
        except QhullError:  # a point too close to a facet: retry from the deepest one
            center, radius = chebyshev(a, b)
            if radius <= self.flat:
                return None
            try:
                hs = HalfspaceIntersection(halfspaces, center)
            except QhullError as exc:  # e.g. weights of 1e300 next to weights of 1
                raise ValueError(
                    "`net`: Qhull could not intersect the halfspaces of a region from its "
                    "Chebyshev centre (rows of very different scales?); rescale the weights"
                ) from exc
        raw, dual = hs.intersections, hs.dual_facets
        owner = np.repeat(np.arange(len(raw)), [len(f) for f in dual])
        on = np.concatenate([np.asarray(f, dtype=np.intp) for f in dual])
        sums, counts = np.zeros((len(a), self.d)), np.bincount(on, minlength=len(a))
        np.add.at(sums, on, raw[owner])
        near = 1e-9 * (1.0 + np.abs(b).max())
        facets = []
        for f in np.flatnonzero(counts >= self.d):  # on d or more of Qhull's vertices
            same = (np.abs(a - a[f]).max(axis=1) <= 1e-9) & (np.abs(b - b[f]) <= near)
            facets.append((np.flatnonzero(same), sums[f] / max(counts[f], 1)))
        key = np.round(raw / self.vtol)
        return raw[np.unique(key, axis=0, return_index=True)[1]], facets

    def neighbour(self, codes: list, meta: np.ndarray, n: np.ndarray, pre: list) -> list | None:
        """The pattern across a facet with outward normal n whose rows have ``meta``;
        ``pre``: the layers' input maps on this side."""
        if (meta[:, 0] < 0).any():
            return None  # the box
        new = [c.copy() for c in codes]
        changed = False
        for layer, op in enumerate(self.acts):
            rows = meta[meta[:, 0] == layer]
            if rows.size == 0:
                continue
            # the input map under the new pattern of the earlier layers
            g = self._pre_maps(new)[layer][0] if changed else pre[layer][0]
            changed = True
            hard = op.name == "hardtanh"
            units, sides = rows[:, 1], rows[:, 2]
            kink = piece_index(op, new[layer][units]) - 1 + sides  # the kink on the facet
            slope = g[units] @ n
            tie = np.abs(slope) <= 1e-10 * row_norms(g[units])
            at = pattern_code(hard, op.kinks[kink], *op.kinks) + (1 if hard else 0)
            piece = np.where(tie, at, np.where(slope > 0, kink + 1, kink))
            new[layer][units] = piece - (1 if hard else 0)
        return new

    def _pre_maps(self, codes: list) -> list:
        pre, _, _ = maps(self.ops, [c[None, :] for c in codes], 1, self.d)
        return [(g[0], h[0]) for g, h in pre]

    # ------------------------------------------------------------------ walk
    def run(self, seed: int = 0) -> tuple:
        """The regions: polytopes with vertices, K, c and anchors (vertex means), and
        the patterns."""
        start = self._start(seed)
        if start is None:
            return [], np.zeros(0), np.zeros(0), np.zeros((0, self.d)), []
        seen = {_key(start[0])}
        todo = deque([start])
        out = []
        # a check that the walk missed nothing: random points' patterns, walked from
        # if unseen (a degenerate facet the neighbour rule cannot cross would cut off
        # the regions beyond it, silently)
        samples = np.random.default_rng(seed).uniform(self.lower, self.upper, (_SAMPLES, self.d))
        while todo or len(samples):
            if not todo:
                for x in samples:
                    codes = forward_codes(self.ops, x)
                    if _key(codes) not in seen:
                        seen.add(_key(codes))
                        todo.append((codes, None))
                samples = samples[:0]
                continue
            codes, hint = todo.popleft()
            a, b, meta, (pre, K, c) = self.constraints(codes)
            p = self.interior(a, b, hint)
            found = None if p is None else self.cell(a, b, p)
            if found is None:  # flat or empty: lower-dimensional, not a region
                todo.extend(self._probe(hint, seen))
                continue
            v, facets = found
            if len(out) >= self.max_regions:
                raise TooManyRegions
            rows = [g[0] for g, _ in facets]
            poly = seed_vertices(Polytope(a[rows], b[rows]), v)
            out.append((poly, K, c, v.mean(axis=0), codes))
            for g, centre in facets:
                nxt = self.neighbour(codes, meta[g], a[g[0]], pre)
                if nxt is None or _key(nxt) in seen:
                    continue
                seen.add(_key(nxt))
                todo.append((nxt, (centre, a[g[0]])))
        polys, K, c, anchor, codes = (list(col) for col in zip(*out, strict=True))
        return polys, np.array(K), np.array(c), np.array(anchor), codes

    def _probe(self, hint, seen: set) -> list:
        """Patterns at points just across a facet (its centre plus small steps along its
        normal) that no one has seen: where the pattern ``neighbour`` derived is flat,
        a later unit constant at its kink on this side (all hyperplanes through one
        point) may bend on the other, and the region there would be missed."""
        if hint is None:
            return []
        centre, n = hint
        found = []
        for step in (1e-9, 1e-7, 1e-5):
            x = np.clip(centre + step * self.diag * n, self.lower, self.upper)
            codes = forward_codes(self.ops, x)
            if _key(codes) not in seen:
                seen.add(_key(codes))
                found.append((codes, None))
        return found

    def _start(self, seed: int):
        """A pattern with a full-dimensional region: the box centre's, else a random
        point's (the centre may lie on a kink)."""
        rng = np.random.default_rng(seed)
        mid = (self.lower + self.upper) / 2
        for k in range(200):
            x = mid if k == 0 else rng.uniform(self.lower, self.upper)
            codes = forward_codes(self.ops, x)
            a, b = self.constraints(codes)[:2]
            if self.interior(a, b, None) is not None:
                return codes, None
        return None


def halfspaces(pre: list, acts: list, codes: list, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and bounds of one pattern's region in R^d (as ``network._maps.halfspaces``,
    from the input maps already composed); bound inf: no kink on that side."""
    rows, rhs = [np.zeros((0, d))], [np.zeros(0)]
    for (g, h), op, code in zip(pre, acts, codes, strict=True):
        padded, r = np.concatenate([[-np.inf], op.kinks, [np.inf]]), piece_index(op, code)
        rows += [-g, g]
        rhs += [h - padded[r], padded[r + 1] - h]
    return np.concatenate(rows), np.concatenate(rhs)


def _key(codes: list) -> bytes:
    return b"".join(c.tobytes() for c in codes)
