"""Reading scipy's piecewise-linear interpolants (used by PiecewiseLinear.from_scipy)."""

from __future__ import annotations

import numpy as np

from ._validate import check_finite, plain

__all__: list[str] = []

_ACCEPTED = (
    "a scipy.interpolate PPoly of degree <= 1, BSpline of degree 1 or interp1d(kind='linear')"
)


def from_scipy_object(obj: object) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Knots, values and end slopes of a scipy piecewise-linear object."""
    from scipy.interpolate import BSpline, PPoly, interp1d

    if isinstance(obj, PPoly):
        _check_extrapolate(obj.extrapolate, "PPoly")
        return _from_ppoly(obj.c, obj.x)
    if isinstance(obj, BSpline):
        if obj.k != 1:
            raise ValueError(f"`obj` must be a BSpline of degree 1; got degree {obj.k}")
        _check_extrapolate(obj.extrapolate, "BSpline")
        if np.ndim(obj.c) != 1:
            raise ValueError(
                f"`obj` must be scalar-valued; got BSpline coefficients of shape {np.shape(obj.c)}"
            )
        p = PPoly.from_spline(obj, extrapolate=True)
        return _from_ppoly(p.c, p.x)
    if isinstance(obj, interp1d):
        return _from_interp1d(obj)
    raise TypeError(f"`obj` must be {_ACCEPTED}; got {type(obj).__name__}")


def _check_extrapolate(extrapolate: object, kind: str) -> None:
    if isinstance(extrapolate, (bool, np.bool_)) and extrapolate:  # scipy may keep np.True_
        return
    what = f"extrapolate={plain(extrapolate)!r}"
    raise ValueError(
        f"`obj` is a {kind} with {what}, which does not define one continuous function "
        "on the whole line; build it with extrapolate=True (linear end pieces), or use "
        "PiecewiseLinear.from_points(x, y, extrapolate='constant')"
    )


def _from_ppoly(c: np.ndarray, x: np.ndarray):
    c = np.asarray(c, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if c.ndim != 2:
        raise ValueError(f"`obj` must be scalar-valued; got PPoly coefficients of shape {c.shape}")
    if c.shape[0] > 2 and (c[:-2] != 0).any():
        raise ValueError(
            f"`obj` must be a PPoly of degree <= 1; got degree {c.shape[0] - 1} "
            "with non-zero higher coefficients"
        )
    check_finite(c, "obj.c")
    check_finite(x, "obj.x")
    slope = c[-2] if c.shape[0] >= 2 else np.zeros(c.shape[1])
    start = c[-1]
    h = np.diff(x)
    keep = h != 0  # zero-length intervals are never used for evaluation
    x0, x1, slope, start, h = x[:-1][keep], x[1:][keep], slope[keep], start[keep], h[keep]
    end = start + slope * h
    jump = np.abs(end[:-1] - start[1:])
    scale = np.abs(start[:-1]) + np.abs(slope[:-1] * h[:-1]) + np.abs(start[1:])
    bad = jump > 16 * np.finfo(np.float64).eps * scale
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"`obj` is discontinuous at x = {float(x1[i])!r} (left limit {float(end[i])!r}, "
            f"right value {float(start[i + 1])!r}); a PiecewiseLinear is continuous"
        )
    knots = np.concatenate([x0, x1[-1:]])
    values = np.concatenate([start, end[-1:]])
    if h[0] > 0:
        return knots, values, float(slope[0]), float(slope[-1])
    # breakpoints in decreasing order: the first interval extends to +inf
    return knots[::-1], values[::-1], float(slope[-1]), float(slope[0])


def _from_interp1d(obj) -> tuple[np.ndarray, np.ndarray, float, float]:
    kind = getattr(obj, "_kind", None)
    if kind != "linear":
        spline = getattr(obj, "_spline", None)
        got = f"a spline of degree {spline.k}" if spline is not None else f"kind={kind!r}"
        raise ValueError(f"`obj` must be an interp1d with kind='linear'; got {got}")
    x = np.asarray(obj.x, dtype=np.float64)
    y = np.asarray(obj.y, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"`obj` must be scalar-valued; got interp1d values of shape {y.shape}")
    check_finite(x, "obj.x")
    check_finite(y, "obj.y")
    if x.size < 2:
        raise ValueError("`obj` must interpolate at least 2 points")
    if getattr(obj, "_extrapolate", False):
        h = np.diff(x)
        return x, y, float((y[1] - y[0]) / h[0]), float((y[-1] - y[-2]) / h[-1])
    if obj.bounds_error:
        raise ValueError(
            "`obj` is an interp1d with bounds_error=True, defined only on "
            f"[{float(x[0])!r}, {float(x[-1])!r}]; create it with fill_value='extrapolate' or "
            "fill_value=(y[0], y[-1])"
        )
    below = np.asarray(obj._fill_value_below, dtype=np.float64)
    above = np.asarray(obj._fill_value_above, dtype=np.float64)
    if below.size != 1 or above.size != 1 or below.item() != y[0] or above.item() != y[-1]:
        raise ValueError(
            f"`obj` has fill values ({below.tolist()}, {above.tolist()}) that make it "
            f"discontinuous at the ends (y[0] = {float(y[0])!r}, y[-1] = {float(y[-1])!r}); use "
            "fill_value='extrapolate' or fill_value=(y[0], y[-1])"
        )
    return x, y, 0.0, 0.0
