"""Numerical kernels behind PiecewiseLinear: evaluation, slopes, crossings, refinement,
simplification.

numpy only; nothing here knows the PiecewiseLinear class.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._validate import as_float_array

__all__: list[str] = []


def segment_slopes(t: np.ndarray, v: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        dt = np.diff(t)
        if not np.isfinite(dt).all():
            i = int(np.argmax(~np.isfinite(dt)))
            raise ValueError(
                f"`knots` must span less than the float64 range; got knots[{i + 1}] - "
                f"knots[{i}] = inf (overflow)"
            )
        inner = np.diff(v) / dt
    if not np.isfinite(inner).all():
        i = int(np.argmax(~np.isfinite(inner)))
        raise ValueError(
            f"the slope between knots[{i}] and knots[{i + 1}] overflows float64; "
            "rescale `knots` or `values`"
        )
    return inner


# Unit roundoff and smallest subnormal of float64, for the evaluation bound.
UNIT64 = 2.0**-53
ETA64 = 2.0**-1074


def nearer_end_table(t: np.ndarray, v: np.ndarray, slopes: np.ndarray):
    """``(edges, base_t, base_v, slope)`` for :func:`nearer_end_eval`, in the dtype of ``t``.

    ``edges`` interleaves the knots with the rounded midpoints of the pieces
    (2K - 1 entries, non-decreasing; a midpoint is at least the next float
    after its left knot, so a knot is never located past itself). Interval
    ``j`` of ``edges`` (0..2K-1) is evaluated from knot ``j // 2`` with
    slope ``slopes[(j + 1) // 2]``: the nearer end of its piece.
    """
    mids = np.maximum(t[:-1] + np.diff(t) / 2, np.nextafter(t[:-1], np.inf))
    edges = np.empty(2 * t.size - 1)
    edges[0::2], edges[1::2] = t, mids
    j = np.arange(2 * t.size)
    return edges, t[j // 2], v[j // 2], slopes[(j + 1) // 2]


def nearer_end_eval(table, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(y, slope, d)``: ``y = v_j + slope * d``, ``d = fl(x - t_j)``, ``t_j`` the nearer knot."""
    edges, base_t, base_v, slope = table
    j = np.searchsorted(edges, x, side="right")
    s, d = slope.take(j), x - base_t.take(j)  # take: faster than indexing
    return base_v.take(j) + s * d, s, d


def evaluation_error(y, slope, d, unit: float = UNIT64, eta: float = ETA64) -> np.ndarray:
    """The bound ``2u|y| + 6u|slope||d| + eta (1 + |d|)`` on the nearer-end formula.

    ``y`` is the computed value, ``slope`` the stored slope of the piece and
    ``d`` the computed distance to its nearer end (see
    ``PiecewiseLinear.__call__`` for the derivation).
    """
    return 2 * unit * np.abs(y) + 6 * unit * np.abs(slope) * np.abs(d) + eta * (1 + np.abs(d))


def crossing(x0, x1, d0, d1) -> np.ndarray:
    """Zero of the line through (x0, d0), (x1, d1) with d0 * d1 < 0, kept inside."""
    x = x0 + (x1 - x0) * (d0 / (d0 - d1))
    return np.clip(x, x0, x1)


def ray_zero(x0: float, d0: float, slope: float, direction: float) -> np.ndarray:
    """The zero of d0 + slope (x - x0) on the ray from x0 in ``direction`` (+1 or -1).

    Empty when there is none, or when it lies beyond the float64 range.
    """
    if d0 == 0 or slope == 0 or (d0 > 0) == ((slope > 0) == (direction > 0)):
        return np.zeros(0)
    with np.errstate(over="ignore"):
        x = x0 - d0 / slope
    return np.array([x]) if np.isfinite(x) else np.zeros(0)


def call_user(f: Callable, x: np.ndarray) -> np.ndarray:
    y = as_float_array(f(x.copy()), "f(x)")
    if y.shape != x.shape:
        raise ValueError(
            f"`f` must map an array to one of the same shape; got {y.shape} for {x.shape}"
        )
    bad = ~np.isfinite(y)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"`f` must be finite on [a, b]; got f({float(x[i])!r}) = {float(y[i])!r}")
    return y


def refine(f: Callable, a: float, b: float, tol: float, max_knots: int):
    """Bisect intervals until the midpoint error is at most ``tol``."""
    x = np.linspace(a, b, 9)
    y = call_user(f, x)
    active = np.ones(x.size - 1, dtype=bool)
    while active.any():
        i = np.nonzero(active)[0]
        m = 0.5 * (x[i] + x[i + 1])
        fm = call_user(f, m)
        split = np.abs(fm - 0.5 * (y[i] + y[i + 1])) > tol
        if not split.any():
            break
        if x.size + int(split.sum()) > max_knots:
            raise ValueError(
                f"`tol` = {tol!r} needs more than `max_knots` = {max_knots} knots; "
                "raise max_knots or tol"
            )
        new_x, new_y = m[split], fm[split]
        if ((new_x <= x[i][split]) | (new_x >= x[i + 1][split])).any():
            raise ValueError(f"`tol` = {tol!r} is below what float64 spacing can resolve")
        x = np.concatenate([x, new_x])
        y = np.concatenate([y, new_y])
        fresh = np.concatenate([np.zeros(x.size - new_x.size, bool), np.ones(new_x.size, bool)])
        order = np.argsort(x, kind="stable")
        x, y, fresh = x[order], y[order], fresh[order]
        active = fresh[:-1] | fresh[1:]
    return x, y


def cone_simplify(t: np.ndarray, v: np.ndarray, thr: float) -> np.ndarray:
    """Indices to keep so that the chords stay within ``thr`` of every dropped knot.

    A sliding cone of feasible chord slopes from the current anchor: O(K).
    """
    keep = [0]
    a, n = 0, t.size
    while a < n - 1:
        lo, hi = -np.inf, np.inf
        best = a + 1
        for j in range(a + 1, n):
            dt = t[j] - t[a]
            if lo <= (v[j] - v[a]) / dt <= hi:  # chord to j passes every point before it
                best = j
            lo = max(lo, (v[j] - thr - v[a]) / dt)
            hi = min(hi, (v[j] + thr - v[a]) / dt)
            if lo > hi:
                break
        keep.append(best)
        a = best
    return np.asarray(keep)
