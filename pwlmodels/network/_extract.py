"""Exact breakpoint propagation through a parsed network (behind relu_to_spline).

One hidden layer: every unit is a sum of hinges, accumulated in O(H log H).
Deeper: breakpoints, unit values and carried segment slopes, layer by layer;
a breakpoint stays only where a carried slope changes.
"""

from __future__ import annotations

import math

import numpy as np

from .._numeric import crossing
from .._validate import as_finite_1d
from ..spline import PiecewiseLinear
from ._parse import Activation, Affine

__all__: list[str] = []


def line_arguments(n_in: int | None, origin: object, direction: object):
    if (origin is None) != (direction is None):
        raise ValueError("give both `origin` and `direction`, or neither")
    if origin is None:
        if n_in not in (None, 1):
            raise ValueError(
                f"`net` has {n_in} inputs; give `origin` and `direction` (shape ({n_in},)) "
                "to restrict it to a line"
            )
        return np.zeros(1), np.ones(1)
    o = as_finite_1d(origin, "origin", min_size=1)
    d = as_finite_1d(direction, "direction", min_size=1)
    for name, arr in (("origin", o), ("direction", d)):
        if n_in is not None and arr.size != n_in:
            raise ValueError(f"`{name}` must have shape ({n_in},); got ({arr.size},)")
    if o.size != d.size:
        raise ValueError(
            f"`origin` and `direction` must have the same shape; got {o.shape}, {d.shape}"
        )
    if not d.any():
        raise ValueError("`direction` must be non-zero")
    return o, d


def network_spline(ops: list, origin, direction, max_pieces: int) -> PiecewiseLinear:
    """The exact function of parsed ``ops`` along ``origin + s * direction``."""
    if len(ops) == 3 and isinstance(ops[0], Affine) and isinstance(ops[1], Activation):
        return _one_hidden_layer(ops, origin, direction, max_pieces)
    return _propagate(ops, origin, direction, max_pieces)


def _one_hidden_layer(ops, origin, direction, max_pieces) -> PiecewiseLinear:
    first, act, last = ops
    w = first.weight @ direction
    b = first.weight @ origin + first.bias
    a = last.weight[0]
    slopes = np.broadcast_to(act.slopes, (act.slopes.shape[0], w.size))
    const = float(last.bias[0]) + math.fsum(a * (act.offset + slopes[0] * b))
    lin = math.fsum(a * slopes[0] * w)
    ts, ss, ws = [], [], []
    for j, k in enumerate(act.kinks):
        jump = a * (slopes[j + 1] - slopes[j])
        on = w != 0
        const += math.fsum(jump[~on] * np.maximum(b[~on] - k, 0.0))
        ts.append((k - b[on]) / w[on])
        ss.append(np.sign(w[on]))
        ws.append(jump[on] * np.abs(w[on]))
    t, s, wt = (np.concatenate(z) for z in (ts, ss, ws))
    _check_pieces(np.unique(t).size, max_pieces)
    if t.size == 0:
        return PiecewiseLinear._make(np.zeros(1), [const], lin, lin)
    spline, change = hinge_spline(t, s, wt, const, lin)
    return _drop_straight(
        spline.knots, spline.values, change, spline.left_slope, spline.right_slope
    )


def _drop_straight(knots, values, change, left, right) -> PiecewiseLinear:
    keep = change != 0
    if not keep.any():
        keep[0] = True
    return PiecewiseLinear._make(knots[keep], values[keep], left, right)


def _propagate(ops, origin, direction, max_pieces) -> PiecewiseLinear:
    """Breakpoints, values (P, W) and carried segment slopes (P + 1, W), layer by layer."""
    xs = np.zeros(1)
    vals, slopes = origin[None, :], np.vstack([direction, direction])
    for op in ops:
        if isinstance(op, Affine):
            vals = vals @ op.weight.T + op.bias
            slopes = slopes @ op.weight.T
        else:
            xs, vals, slopes = _split(xs, vals, slopes, op.kinks)
            _check_pieces(xs.size, max_pieces)
            vals, slopes = op(vals), slopes * _region_slopes(vals, slopes, op)
    change = (slopes[1:] != slopes[:-1]).any(axis=1).astype(float)
    return _drop_straight(xs, vals[:, 0], change, slopes[0, 0], slopes[-1, 0])


def _check_pieces(n_breakpoints: int, max_pieces: int) -> None:
    if n_breakpoints + 1 > max_pieces:
        raise ValueError(
            f"`net` has more than `max_pieces` = {max_pieces} linear pieces on a layer; "
            "raise max_pieces"
        )


def _split(xs, vals, slopes, kinks):
    """Add the points where any unit crosses a kink; interpolate every unit there."""
    new = []
    for k in kinks:
        d = vals - k
        j, unit = np.nonzero(d[:-1] * d[1:] < 0)
        new.append(crossing(xs[j], xs[j + 1], d[j, unit], d[j + 1, unit]))
        for end, ray, sign in ((0, slopes[0], 1.0), (-1, slopes[-1], -1.0)):
            hit = (ray != 0) & (sign * d[end] * ray > 0)
            new.append(xs[end] - d[end, hit] / ray[hit])
    new = np.setdiff1d(np.concatenate(new), xs)
    if new.size == 0:
        return xs, vals, slopes
    seg = np.searchsorted(xs, new)  # 0: left ray, P: right ray
    base = np.maximum(seg - 1, 0)
    new_vals = vals[base] + slopes[seg] * (new - xs[base])[:, None]
    all_x = np.concatenate([xs, new])
    order = np.argsort(all_x, kind="stable")
    all_x = all_x[order]
    all_vals = np.concatenate([vals, new_vals])[order]
    seg_right = np.searchsorted(xs, all_x, side="right")
    return all_x, all_vals, np.concatenate([slopes[:1], slopes[seg_right]])


def _region_slopes(vals, slopes, act: Activation) -> np.ndarray:
    """The activation's slope on every segment (no kink lies inside a segment)."""
    mid = np.concatenate(
        [
            np.where(slopes[:1] > 0, -np.inf, np.where(slopes[:1] < 0, np.inf, vals[:1])),
            0.5 * (vals[:-1] + vals[1:]),
            np.where(slopes[-1:] > 0, np.inf, np.where(slopes[-1:] < 0, -np.inf, vals[-1:])),
        ]
    )
    region = np.searchsorted(act.kinks, mid)
    table = np.broadcast_to(act.slopes, (act.slopes.shape[0], vals.shape[1]))
    return np.take_along_axis(table, region, axis=0)


def hinge_spline(t, s, w, const=0.0, lin=0.0):
    """const + lin x + sum_i w_i relu(s_i (x - t_i)) as a spline, and the slope change per knot.

    Values are accumulated outward from the side where each unit is zero, so
    rounding stays proportional to sum |w_i| relu(s_i (x - t_i)).
    """
    knots, inv = np.unique(t, return_inverse=True)
    wr = np.bincount(inv, np.where(s > 0, w, 0.0), minlength=knots.size)
    wl = np.bincount(inv, np.where(s < 0, w, 0.0), minlength=knots.size)
    dx = np.diff(knots)
    sr = np.cumsum(wr)  # slope of the right-facing part right of each knot
    sl = np.cumsum(wl[::-1])[::-1]  # minus the slope of the left-facing part left of each knot
    right_part = np.concatenate([[0.0], np.cumsum(sr[:-1] * dx)])
    left_part = np.concatenate([np.cumsum((sl[1:] * dx)[::-1])[::-1], [0.0]])
    values = const + lin * knots + right_part + left_part
    spline = PiecewiseLinear._make(knots, values, lin - sl[0], lin + sr[-1])
    return spline, wr + wl
