"""Fits of data larger than memory: :func:`fit_pwl` on dask collections and parquet files.

The data are read a partition at a time, in passes of dask reductions; no
pass holds more than one partition of raw points, the moments of a grid of
cells on x, and the points of the few cells next to the knots.

1. A summary: count, non-finite entries, range of x, sum of y.
2. Moments of each grid cell (weight, sums of u, u^2, y, u y, y^2 about the
   cell's left edge; u = x scaled to [0, 1], y centred; and the extreme u).
   A cell's points and two pseudo-points in [min u, max u] with the same
   moments up to degree two (a Radau-type rule: one node at min u) give
   the same normal equations, and SSRs that differ by a constant (the
   cell's own line-fit residual), for every knot vector with no knot
   strictly inside (min u, max u). The free-knot search of the in-memory
   fit (:func:`search_knots`) runs on these pseudo-points: O(grid) data,
   from the in-memory search's starts: its candidate knots, the equal-count
   bin edges, are the data's exactly (:func:`_quantiles`, rank selection in
   a few passes over sub-cells).
3. The cells holding the knots where any start's descent ended, or next to
   them, are gathered as raw points (a filtered pass), the rest stay
   pseudo-points, and the search runs again from those ends. An end that
   moves into a cell that is not gathered makes another round. When every
   knot and its neighbouring cells are gathered, every SSR the search could
   evaluate near the knots is the true one: the result is a local optimum
   of the full data's SSR, and where the in-memory search ends in the same
   one, the same knots, values and SSR up to rounding. A cell to gather
   that holds more than ``_CELL_CAP`` points is split into finer cells
   first (one more moment pass), so that memory stays bounded whatever the
   density; a cell whose points share one x is exact as one pseudo-point.

4. One last pass sums the squared residuals of the fit: the SSR (and the
   standard errors that use it) without the cancellation of a difference of
   the moments' large sums.

The basin guard: after the grid search, the cells whose own line-fit
residual is largest against the noise level (a kink or a narrow feature
inside a cell, which pseudo-points cannot show) are gathered too, and
the search runs on them, so that a knot can move there.
"""

from __future__ import annotations

import dataclasses
import numbers
import operator
import os
import sys
from pathlib import Path

import numpy as np

from . import _freeknots, _lsq
from ._freeknots import search_knots

__all__: list[str] = []  # fit_pwl is the public entry

_GRID = 4096  # cells of the first grid
_MAX_GRID = 1 << 22
_CELL_CAP = 1 << 16  # a cell to gather holding more points is split first
_SPLIT = 64  # into this many cells
_QSPLIT = 16  # sub-cells of a quantile's interval per pass
_CANDIDATES = 3  # grid searches (seeds seed, seed + 1, ...) whose knots' cells are gathered
_ROUNDS = 12  # gather-and-search rounds at most
_PROBE_Z = 8.0  # a cell whose line residual exceeds the noise by this many sd is probed
_SLICE = 1 << 17  # rows of a partition processed at a time
_NCOL = 8  # moment columns: w, sum du, sum du^2, sum y, sum du y, sum y^2, min u, max u


# ------------------------------------------------------------------ the entry points
@dataclasses.dataclass(frozen=True)
class Reduced:
    """What :func:`fit_pwl` needs from a pass-wise fit: data (gathered points and
    pseudo-points) whose normal equations at ``knots`` are the full data's, the full data's
    SSR less theirs (``offset``), the count ``n``, SSR evaluations and notes."""

    data: _lsq.Data
    knots: np.ndarray  # scaled, sorted
    offset: float
    n: int
    evaluations: int
    notes: tuple[str, ...]


def route(x, y, weights, *, data, grid, constraints):
    """:func:`fit_pwl`'s data: (x, y, weights) to fit in memory, or a :class:`Source`."""
    if data is None:
        if not (_is_dask(x) or _is_dask(y)):
            if grid is not None:
                raise ValueError(
                    "`grid` applies to out-of-core data only (dask collections, parquet); "
                    f"got {grid!r} with in-memory x and y"
                )
            return x, y, weights
        source = Source.from_arrays(x, y)
    else:
        for arg, col in (("x", x), ("y", y)):
            if not isinstance(col, str):
                raise TypeError(
                    f"`{arg}` must be a column name (str) when `data` is given; "
                    f"got {type(col).__name__}"
                )
        import pandas as pd

        if isinstance(data, pd.DataFrame):
            _check_columns(data, x, y)
            if grid is not None:
                raise ValueError("`grid` applies to out-of-core data only; `data` is pandas")
            w = data[weights].to_numpy() if isinstance(weights, str) else weights
            return data[x].to_numpy(), data[y].to_numpy(), w
        source = Source.from_frame(_as_dask_frame(data), x, y)
    for arg, value in (("weights", weights), ("constraints", constraints)):
        if value is not None:
            raise ValueError(
                f"`{arg}` is not supported out of core (dask or parquet data); fit in memory, "
                "e.g. on a sample, or without it"
            )
    return source


def reduce(source: Source, *, n_knots, fixed, n_starts: int, seed: int, grid) -> Reduced:
    """Pass over ``source`` until the knots' neighbourhoods are gathered (module docstring).

    ``fixed``: None for ``n_knots`` free knots, else a function of (min x, range of x)
    giving the fixed knots, scaled (it checks them).
    """
    grid = _as_grid(grid)
    x0, xs, y_mean, n = _summary(source)
    frame = (x0, xs, y_mean)
    if fixed is not None:  # cells between the knots give the exact normal equations
        t = fixed(x0, xs)
        _enough_points(n, t.size + 3)
        cells = _Cells.build(source, np.concatenate([[0.0], t, [1.0]]), frame)
        d, offset = cells.data(frame)
        return Reduced(d, t, offset, n, 0, ("fitted out of core in 3 passes",))
    p = 2 * n_knots + 3
    _enough_points(n, p)
    cells = _Cells.build(source, np.linspace(0.0, 1.0, grid + 1), frame)
    d, offset = cells.data(frame)
    edges, passes = _quantiles(source, cells, frame, n, _freeknots._BINS)
    found = [
        search_knots(
            d, n_knots, None, n_starts=n_starts, seed=seed + i, edges=edges, with_ends=True
        )
        for i in range(_CANDIDATES)
    ]
    starts = np.unique(np.vstack([f[0][None] for f in found] + [f[2] for f in found]), axis=0)
    evaluations = sum(f[1] for f in found)
    t = found[0][0]
    passes, converged = passes + 2, False
    want = cells.probes(d, t, offset, n - p + 1, n_knots)
    for row in starts:
        want |= cells.window(row)
    for _ in range(_ROUNDS):
        want |= cells.window(t)
        want &= cells.spread & ~cells.raw
        if not want.any():
            converged = True
            break
        big = want & (cells.moments[:, 0] > _CELL_CAP)
        if big.any():
            cells = cells.split(big, source, frame)
        else:
            cells = cells.gather(want, source, frame)
            d, offset = cells.data(frame)
            t, more, ends = search_knots(
                d,
                n_knots,
                None,
                n_starts=n_starts,
                seed=seed,
                starts=starts,
                edges=edges,
                with_ends=True,
            )
            starts = np.unique(np.vstack([t[None], ends]), axis=0)
            evaluations += more
        passes += 1
        want = np.zeros(cells.size, bool)
        for row in starts:
            want |= cells.window(row)
    notes = [
        f"fitted out of core in {passes + 1} passes: {cells.size} cells, "  # + the SSR's
        f"{cells.points[0].size} points gathered near the knots"
    ]
    if not converged:
        notes.append(
            f"the knots still moved into new cells after {_ROUNDS} rounds: the SSR is exact "
            "but the knots may not be a local optimum; try a larger `grid`"
        )
    return Reduced(d, t, offset, n, evaluations, tuple(notes))


def residual_ssr(source: Source, d: _lsq.Data, knots: np.ndarray, v: np.ndarray) -> float:
    """The SSR of the fitted values ``v`` at the nodes of ``knots`` (scaled), summed from
    every point's residual in one more pass. From the moments (sum y^2 less the fitted
    part) it loses all its digits when the fit is close: a line through y = 5e9 + 1e6 x
    with noise 1e-3 had its SSR off by 14 %."""
    nodes = _lsq.nodes_of(knots[None, :])[0]
    frame = (d.x0, d.xs, d.y_mean)
    return source.reduce(_sliced(_squared_residuals, operator.add), operator.add, nodes, v, *frame)


def _squared_residuals(pair, nodes, v, x0, xs, y_mean) -> float:
    r = (pair[1] - y_mean) - np.interp((pair[0] - x0) / xs, nodes, v)
    return float(r @ r)


def _enough_points(n: int, p: int) -> None:
    if n < p - 1:
        raise ValueError(
            f"`x` has {n} points, fewer than the {p - 1} parameters of this fit; use fewer knots"
        )


# ------------------------------------------------------------------ the grid of cells
@dataclasses.dataclass(frozen=True)
class _Cells:
    """Cells [edges[i], edges[i + 1]) of u with their moments, and the raw points of some."""

    edges: np.ndarray  # (E + 1,), edges[0] = 0, edges[-1] = 1 (the last cell holds u = 1)
    moments: np.ndarray  # (E, _NCOL)
    raw: np.ndarray  # (E,) bool: cells whose points are gathered
    points: tuple  # (u, y centred) of the gathered cells, sorted by u

    @classmethod
    def build(cls, source, edges: np.ndarray, frame) -> _Cells:
        moments = source.reduce(_sliced(_cell_moments, _add_moments), _add_moments, edges, *frame)
        empty = np.zeros(0)
        return cls(edges, moments, np.zeros(edges.size - 1, bool), (empty, empty))

    @property
    def size(self) -> int:
        return self.edges.size - 1

    @property
    def spread(self) -> np.ndarray:
        """Cells whose points have more than one x (only those can hold a knot inside)."""
        return self.moments[:, 7] > self.moments[:, 6]

    def data(self, frame) -> tuple[_lsq.Data, float]:
        """The gathered points and two pseudo-points per other cell, and the SSR offset."""
        x0, xs, y_mean = frame
        m = self.moments[~self.raw & (self.moments[:, 0] > 0)]
        left = self.edges[:-1][~self.raw & (self.moments[:, 0] > 0)]
        u, yc, w2, offset = _pseudo_points(m, left)
        u = np.concatenate([u, self.points[0]])
        yc = np.concatenate([yc, self.points[1]])
        w2 = np.concatenate([w2, np.ones(self.points[0].size)])
        order = np.argsort(u, kind="stable")
        return _lsq.Data.from_scaled(u[order], yc[order], w2[order], x0, xs, y_mean), offset

    def window(self, t: np.ndarray) -> np.ndarray:
        """The cells holding a knot, and their neighbours."""
        out = np.zeros(self.size, bool)
        c = np.clip(np.searchsorted(self.edges, t, side="right") - 1, 0, self.size - 1)
        for shift in (-1, 0, 1):
            out[np.clip(c + shift, 0, self.size - 1)] = True
        return out

    def probes(self, d: _lsq.Data, t: np.ndarray, offset: float, dof: int, k: int) -> np.ndarray:
        """The 2k + 2 cells whose own line residual most exceeds the noise (by > 8 sd), of
        those with at most ``_CELL_CAP`` points."""
        out = np.zeros(self.size, bool)
        if dof <= 0 or k == 0:
            return out
        v = _lsq.solve_tridiagonal(*_lsq.gram_exact(d, t))[0][0]
        nodes = _lsq.nodes_of(t[None, :])[0]
        ssr = float(np.sum(d.w2 * (d.y - np.interp(d.u, nodes, v)) ** 2)) + offset
        s2 = ssr / dof
        count = self.moments[:, 0]
        own = _cell_residuals(self.moments)
        with np.errstate(all="ignore"):
            z = (own - s2 * (count - 2)) / (s2 * np.sqrt(2 * np.maximum(count - 2, 1)))
        z = np.where((count > 2) & (count <= _CELL_CAP), z, -np.inf)
        top = np.argsort(-z, kind="stable")[: 2 * k + 2]
        out[top[z[top] > _PROBE_Z]] = True
        return out

    def split(self, big: np.ndarray, source, frame) -> _Cells:
        """The same cells with ``big`` ones cut into ``_SPLIT`` (a new moment pass)."""
        lo, hi = self.moments[big, 6], self.moments[big, 7]
        inner = lo[:, None] + (hi - lo)[:, None] * np.linspace(0, 1, _SPLIT + 1)[None, 1:-1]
        edges = np.unique(np.concatenate([self.edges, inner.ravel()]))
        new = _Cells.build(source, edges, frame)
        raw = np.isin(edges[:-1], self.edges[:-1][self.raw])
        return dataclasses.replace(new, raw=raw, points=self.points)

    def gather(self, more: np.ndarray, source, frame) -> _Cells:
        """The same cells with the points of ``raw | more`` gathered (a filtered pass)."""
        raw = self.raw | more
        u, yc = source.reduce(_sliced(_gather, _concat), _concat, self.edges, raw, *frame)
        order = np.argsort(u, kind="stable")
        return dataclasses.replace(self, raw=raw, points=(u[order], yc[order]))


def _quantiles(source, cells: _Cells, frame, n: int, bins: int) -> tuple[np.ndarray, int]:
    """The in-memory search's candidate knots, exactly: the sorted u at the ranks
    ``linspace(0, n - 1, bins + 1)`` (inner ones), strictly inside (0, 1).

    Each rank's interval [lo, hi] of u (first its cell's extreme u) is cut into
    ``_QSPLIT`` sub-cells whose counts and extreme u a pass computes, until it holds one
    value: a few passes of O(bins * _QSPLIT) memory. Returns the values and the passes.
    """
    ranks = np.linspace(0, n - 1, bins + 1).astype(int)[1:-1]
    cum = np.concatenate([[0.0], np.cumsum(cells.moments[:, 0])])
    c = np.clip(np.searchsorted(cum, ranks, side="right") - 1, 0, cells.size - 1)
    lo, hi, below = cells.moments[c, 6].copy(), cells.moments[c, 7].copy(), cum[c].copy()
    for passes in range(_ROUNDS * 4):  # noqa: B007 (the count is returned)
        open_ = lo < hi
        if not open_.any():
            break
        spans, which = np.unique(np.column_stack([lo, hi])[open_], axis=0, return_inverse=True)
        sub = spans[:, :1] + (spans[:, 1:] - spans[:, :1]) * np.linspace(0.0, 1.0, _QSPLIT + 1)
        sub[:, -1] = np.nextafter(spans[:, 1], np.inf)
        stats = source.reduce(_sliced(_sub_stats, _add_sub), _add_sub, sub, *frame[:2])
        count = stats[0].reshape(-1, _QSPLIT)
        start = np.concatenate([np.zeros((count.shape[0], 1)), np.cumsum(count, 1)], axis=1)
        rows = np.flatnonzero(open_)
        at = start[which.ravel()] + below[rows, None]  # rank before each sub-cell
        j = np.clip((at[:, 1:] <= ranks[rows, None]).sum(axis=1), 0, _QSPLIT - 1)
        flat = which.ravel() * _QSPLIT + j
        below[rows] = at[np.arange(rows.size), j]
        lo[rows], hi[rows] = stats[1][flat], stats[2][flat]
    q = np.unique(np.where(lo < hi, (lo + hi) / 2, lo))
    return q[(q > 0) & (q < 1)], passes


def _sub_stats(pair, sub, x0, xs) -> np.ndarray:
    """Count, min u and max u of the points in each sub-cell of ``sub`` (m, _QSPLIT + 1)."""
    u = (pair[0] - x0) / xs
    left = sub[:, :-1].ravel()
    i = np.searchsorted(sub[:, 0], u, side="right") - 1
    keep = (i >= 0) & (u < sub[np.maximum(i, 0), -1])
    u = u[keep]
    k = np.searchsorted(left, u, side="right") - 1
    out = np.empty((3, left.size))
    out[0] = np.bincount(k, minlength=left.size)
    out[1], out[2] = np.inf, -np.inf
    np.minimum.at(out[1], k, u)
    np.maximum.at(out[2], k, u)
    return out


def _add_sub(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.stack([a[0] + b[0], np.minimum(a[1], b[1]), np.maximum(a[2], b[2])])


def _pseudo_points(m: np.ndarray, left: np.ndarray):
    """Two points per cell (one where its points share one x) with the cell's moments up to
    degree two, about ``left``; and the sum of the cells' own line residuals."""
    s0, m1, m2, sy, my, syy, lo = (m[:, i] for i in range(7))
    a = lo - left  # the first node: the smallest u
    mean = m1 / s0 - a  # E(u - lo)
    second = m2 / s0 - 2 * a * m1 / s0 + a * a  # E((u - lo)^2)
    spread = (m[:, 7] > lo) & (mean > 0) & (second > 0)
    with np.errstate(all="ignore"):
        gap = np.where(spread, np.minimum(second / mean, m[:, 7] - lo), 0.0)
        w2 = np.where(spread, np.minimum(s0 * mean * mean / second, s0), 0.0)
        w1 = s0 - w2
        my_lo = my - a * sy  # sum (u - lo) y
        y2 = np.where(spread, my_lo / (w2 * gap), 0.0)
        y1 = np.where(w1 > 0, (sy - w2 * y2) / w1, 0.0)
    offset = float(np.sum(syy - w1 * y1 * y1 - w2 * y2 * y2))
    two = spread & (w1 > 0)
    u = np.concatenate([lo, (lo + gap)[two]])
    yc = np.concatenate([np.where(two, y1, sy / s0), y2[two]])
    weight = np.concatenate([np.where(two, w1, s0), w2[two]])
    return u, yc, weight, offset


def _cell_residuals(m: np.ndarray) -> np.ndarray:
    """Each cell's own least-squares line residual, from its moments."""
    s0, m1, m2, sy, my, syy = (m[:, i] for i in range(6))
    with np.errstate(all="ignore"):
        det = s0 * m2 - m1 * m1
        line = syy - (m2 * sy * sy - 2 * m1 * sy * my + s0 * my * my) / det
        flat = syy - sy * sy / s0
    return np.where(det > 1e-12 * s0 * m2, line, np.where(s0 > 0, flat, 0.0))


# ------------------------------------------------------------------ per-partition work
def _cells_of(x, y, edges, x0, xs, y_mean):
    u = (x - x0) / xs
    c = np.clip(np.searchsorted(edges, u, side="right") - 1, 0, edges.size - 2)
    return u, y - y_mean, c


def _sliced(func, combine):
    """``func`` on slices of a partition of at most ``_SLICE`` rows, combined: a partition's
    temporaries then take a few MB whatever its size."""

    def per_partition(pair, *args):
        x, y = pair
        out = None
        for lo in range(0, max(x.size, 1), _SLICE):
            part = func((x[lo : lo + _SLICE], y[lo : lo + _SLICE]), *args)
            out = part if out is None else combine(out, part)
        return out

    return per_partition


def _cell_moments(pair, edges, x0, xs, y_mean) -> np.ndarray:
    u, yc, c = _cells_of(*pair, edges, x0, xs, y_mean)
    e = edges.size - 1
    du = u - edges[c]
    out = np.empty((e, _NCOL))
    for i, w in enumerate((None, du, du * du, yc, du * yc, yc * yc)):
        out[:, i] = np.bincount(c, w, minlength=e)
    out[:, 6], out[:, 7] = np.inf, -np.inf
    np.minimum.at(out[:, 6], c, u)
    np.maximum.at(out[:, 7], c, u)
    return out


def _add_moments(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = a[:, :6] + b[:, :6]
    return np.column_stack([out, np.minimum(a[:, 6], b[:, 6]), np.maximum(a[:, 7], b[:, 7])])


def _gather(pair, edges, raw, x0, xs, y_mean):
    u, yc, c = _cells_of(*pair, edges, x0, xs, y_mean)
    keep = raw[c]
    return u[keep], yc[keep]


def _concat(a, b):
    return np.concatenate([a[0], b[0]]), np.concatenate([a[1], b[1]])


def _partition_summary(pair):
    x, y = pair
    bad_x, bad_y = int(np.sum(~np.isfinite(x))), int(np.sum(~np.isfinite(y)))
    first = (
        float(x[~np.isfinite(x)][0]) if bad_x else 0.0,
        float(y[~np.isfinite(y)][0]) if bad_y else 0.0,
    )
    lo, hi = (float(x.min()), float(x.max())) if x.size and not bad_x else (np.inf, -np.inf)
    return np.array([x.size, bad_x, bad_y, *first, lo, hi, float(np.sum(y))])


def _add_summaries(a, b):
    first = (a[3] if a[1] else b[3], a[4] if a[2] else b[4])
    return np.array(
        [
            a[0] + b[0],
            a[1] + b[1],
            a[2] + b[2],
            *first,
            min(a[5], b[5]),
            max(a[6], b[6]),
            a[7] + b[7],
        ]
    )


def _summary(source) -> tuple[float, float, float, int]:
    """(min x, range of x, mean of y, count), after checking the data are usable."""
    n, bad_x, bad_y, first_x, first_y, lo, hi, total = source.reduce(
        _partition_summary, _add_summaries
    )
    n = int(n)
    if n == 0:
        raise ValueError(f"`{source.name}` must have at least 2 points; got none (empty data)")
    for arg, bad, first in (("x", bad_x, first_x), ("y", bad_y, first_y)):
        if bad:
            raise ValueError(
                f"`{arg}` must be finite; got {int(bad)} non-finite value(s), e.g. {first!r}; "
                "drop those rows first (e.g. dask's dropna)"
            )
    if n < 2:
        raise ValueError(f"`x` must have at least 2 entries; got {n}")
    if hi == lo:
        raise ValueError("`x` must not be constant over the points with non-zero weight")
    return float(lo), float(hi - lo), float(total / n), n  # plain floats in messages


# ------------------------------------------------------------------ the data source
def _is_dask(obj: object) -> bool:
    dask = sys.modules.get("dask")  # a dask collection exists only once dask is imported
    return dask is not None and dask.is_dask_collection(obj)


@dataclasses.dataclass(frozen=True)
class Source:
    """The data as delayed partitions, each computing an (x, y) pair of float64 vectors."""

    parts: list
    name: str  # the argument named in messages about the data as a whole

    @classmethod
    def from_frame(cls, frame, x: str, y: str) -> Source:
        import dask

        _check_columns(frame, x, y)
        parts = [dask.delayed(_frame_pair)(p, x, y) for p in frame[[x, y]].to_delayed()]
        return cls(parts, "data")

    @classmethod
    def from_arrays(cls, x, y) -> Source:
        import dask
        import dask.array as da
        import dask.dataframe as dd

        if not (_is_dask(x) and _is_dask(y)):
            lazy, other = ("x", "y") if _is_dask(x) else ("y", "x")
            raise TypeError(
                f"`{other}` must be a dask Array or Series like `{lazy}`; got "
                f"{type(y if other == 'y' else x).__name__} (wrap it in dask.array.from_array)"
            )
        if isinstance(x, dd.Series) and isinstance(y, dd.Series):
            if x.npartitions != y.npartitions:
                raise ValueError(
                    f"`y` must have the partitions of `x`; got {y.npartitions} and "
                    f"{x.npartitions} (repartition one like the other)"
                )
            pairs = zip(x.to_delayed(), y.to_delayed(), strict=True)
        elif isinstance(x, da.Array) and isinstance(y, da.Array):
            for arg, arr in (("x", x), ("y", y)):
                if arr.ndim != 1:
                    raise ValueError(f"`{arg}` must be 1-D; got an array of shape {arr.shape}")
                if arr.dtype.kind not in "iuf":
                    raise TypeError(f"`{arg}` must be real numbers; got dtype {arr.dtype}")
            if not np.isnan(x.shape[0]) and x.shape != y.shape:
                raise ValueError(
                    f"`y` must have one entry per x; got {y.shape[0]} for {x.shape[0]}"
                )
            unknown = np.isnan(x.shape[0]) or np.isnan(y.shape[0])
            if unknown and x.chunks != y.chunks:
                raise ValueError(
                    "`y` must have the chunks of `x` when either's chunk sizes are unknown "
                    "(after boolean indexing); call compute_chunk_sizes() on both first"
                )
            pairs = zip(x.to_delayed(), y.rechunk(x.chunks).to_delayed(), strict=True)
        else:
            raise TypeError(
                "`x` and `y` must both be dask Arrays or both dask Series; got "
                f"{type(x).__name__} and {type(y).__name__}"
            )
        return cls([dask.delayed(_block_pair)(a, b) for a, b in pairs], "x")

    def reduce(self, func, combine, *args):
        """``func(pair, *args)`` on every partition, combined pairwise by ``combine``."""
        import dask

        level = [dask.delayed(func)(p, *args) for p in self.parts]
        if not level:
            raise ValueError(f"`{self.name}` must have at least 2 points; got no partitions")
        while len(level) > 1:
            odd, even = level[::2], level[1::2]
            pairs = [dask.delayed(combine)(a, b) for a, b in zip(odd, even, strict=False)]
            level = pairs + level[len(pairs) * 2 :]
        try:
            return dask.compute(level[0])[0]
        except KeyError as exc:  # a parquet file of a folder lacks a column the first has
            raise ValueError(
                f"`{self.name}`: a partition lacks a column ({exc}); every file of a parquet "
                "folder must have the x and y columns"
            ) from None


def _frame_pair(frame, x: str, y: str):
    return (
        frame[x].to_numpy(dtype=float, na_value=np.nan),
        frame[y].to_numpy(dtype=float, na_value=np.nan),
    )


def _block_pair(x, y):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"`y` must have one entry per x; got a block of {y.size} for {x.size}")
    return x, y


def _as_dask_frame(data: object):
    """A dask DataFrame from ``data``: one already, or a parquet file or folder."""
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if not path.exists():
            raise ValueError(f"`data` names no file or folder: {str(path)!r}")
        if not (path.is_dir() or path.suffix == ".parquet"):
            raise ValueError(
                f"`data` must be a .parquet file or a folder of them; got {str(path)!r}"
            )
        import dask.dataframe as dd

        try:
            return dd.read_parquet(str(path))
        except (ValueError, OSError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            reason = " ".join(str(exc).split())
            raise ValueError(f"`data`: {str(path)!r} cannot be read as parquet: {reason}") from None
    if not _is_dask(data) or not hasattr(data, "columns"):
        raise TypeError(
            "`data` must be a pandas or dask DataFrame or a parquet path (str or PathLike); "
            f"got {type(data).__name__}"
        )
    return data


def _check_columns(frame, x: str, y: str) -> None:
    import pandas as pd

    for arg, col in (("x", x), ("y", y)):
        if col not in frame.columns:
            raise ValueError(
                f"`{arg}` names the column {col!r}, which `data` lacks; its columns are "
                f"{list(frame.columns)}"
            )
        dtype = frame[col].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            raise TypeError(
                f"`{arg}` names the column {col!r} of dtype {dtype}; it must be numeric "
                "(integer or float, not boolean)"
            )


def _as_grid(grid: object) -> int:
    if grid is None:
        return _GRID
    if isinstance(grid, (bool, np.bool_)) or not isinstance(grid, numbers.Integral):
        raise TypeError(f"`grid` must be an integer (a number of cells); got {type(grid).__name__}")
    if not 16 <= grid <= _MAX_GRID:
        raise ValueError(f"`grid` must be between 16 and {_MAX_GRID}; got {int(grid)}")
    return int(grid)
