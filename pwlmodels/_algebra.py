"""Pointwise maximum, minimum and composition of PiecewiseLinear functions, without sampling."""

from __future__ import annotations

import numpy as np

from ._numeric import crossing, ray_zero
from ._validate import as_real_scalar, is_real
from .spline import PiecewiseLinear

__all__ = ["compose", "maximum", "minimum"]


def maximum(f: PiecewiseLinear | float, g: PiecewiseLinear | float) -> PiecewiseLinear:
    """The pointwise maximum of two functions (or a function and a constant).

    Computed without sampling: the knots of both, plus every crossing point
    (in float64, correct to a few ulps).

    Parameters
    ----------
    f, g : PiecewiseLinear or float
        At least one is a PiecewiseLinear; a real number is a constant.

    Returns
    -------
    PiecewiseLinear

    Examples
    --------
    >>> import numpy as np
    >>> from pwlmodels import PiecewiseLinear, maximum
    >>> f = PiecewiseLinear([0.0], [0.0], left_slope=1.0, right_slope=1.0)
    >>> relu = maximum(f, 0.0)
    >>> relu([-2.0, 3.0])
    array([0., 3.])
    """
    f, g = _pair(f, g)
    u = np.union1d(f.knots, g.knots)
    fu, gu = f(u), g(u)
    h = fu - gu
    hl = f.left_slope - g.left_slope
    hr = f.right_slope - g.right_slope
    i = np.nonzero(h[:-1] * h[1:] < 0)[0]
    extra = [
        crossing(u[i], u[i + 1], h[i], h[i + 1]),
        ray_zero(u[0], h[0], hl, -1.0),
        ray_zero(u[-1], h[-1], hr, 1.0),
    ]
    k = np.union1d(u, np.concatenate(extra))
    return PiecewiseLinear._make(
        k,
        np.maximum(f(k), g(k)),
        min(f.left_slope, g.left_slope),
        max(f.right_slope, g.right_slope),
    )


def minimum(f: PiecewiseLinear | float, g: PiecewiseLinear | float) -> PiecewiseLinear:
    """The pointwise minimum of two functions (or a function and a constant).

    Parameters
    ----------
    f, g : PiecewiseLinear or float
        At least one is a PiecewiseLinear; a real number is a constant.

    Returns
    -------
    PiecewiseLinear

    Examples
    --------
    >>> from pwlmodels import PiecewiseLinear, minimum
    >>> f = PiecewiseLinear([0.0, 1.0], [0.0, 1.0])
    >>> minimum(f, 0.5)([0.0, 1.0])
    array([0. , 0.5])
    """
    f, g = _pair(f, g)
    return -maximum(-f, -g)


def compose(f: PiecewiseLinear, g: PiecewiseLinear) -> PiecewiseLinear:
    """The composition ``x -> f(g(x))``, exactly.

    Its knots are those of ``g`` and every preimage under ``g`` of a knot of
    ``f`` (preimages beyond the float64 range do not exist and are omitted).

    Parameters
    ----------
    f, g : PiecewiseLinear

    Returns
    -------
    PiecewiseLinear

    Examples
    --------
    >>> import numpy as np
    >>> from pwlmodels import PiecewiseLinear, compose
    >>> f = PiecewiseLinear([0.0], [0.0], left_slope=-1.0, right_slope=1.0)  # |x|
    >>> g = PiecewiseLinear([0.0], [1.0], left_slope=1.0, right_slope=1.0)   # x + 1
    >>> h = compose(f, g)
    >>> h.knots, h([-3.0, 0.0])
    (array([-1.,  0.]), array([2., 1.]))
    """
    for name, obj in (("f", f), ("g", g)):
        if not isinstance(obj, PiecewiseLinear):
            raise TypeError(f"`{name}` must be a PiecewiseLinear; got {type(obj).__name__}")
    u, gv, tf = g.knots, g.values, f.knots
    pre = []
    if u.size > 1:
        lo = np.minimum(gv[:-1], gv[1:])
        hi = np.maximum(gv[:-1], gv[1:])
        start = np.searchsorted(tf, lo, side="right")
        stop = np.searchsorted(tf, hi, side="left")
        count = np.maximum(stop - start, 0)
        seg = np.repeat(np.arange(u.size - 1), count)
        offs = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        tj = tf[np.repeat(start, count) + offs]
        pre.append(u[seg] + (u[seg + 1] - u[seg]) * ((tj - gv[seg]) / (gv[seg + 1] - gv[seg])))
    gl, gr = g.left_slope, g.right_slope
    with np.errstate(over="ignore"):  # preimages beyond the float64 range are dropped below
        if gl != 0:  # the left ray covers (-inf, g0) if gl > 0, else (g0, inf)
            tj = tf[tf < gv[0]] if gl > 0 else tf[tf > gv[0]]
            pre.append(u[0] + (tj - gv[0]) / gl)
        if gr != 0:
            tj = tf[tf > gv[-1]] if gr > 0 else tf[tf < gv[-1]]
            pre.append(u[-1] + (tj - gv[-1]) / gr)
    pre = np.concatenate([np.asarray(p, dtype=np.float64) for p in pre] or [np.zeros(0)])
    k = np.union1d(u, pre[np.isfinite(pre)])
    left = 0.0 if gl == 0 else (f.left_slope if gl > 0 else f.right_slope) * gl
    right = 0.0 if gr == 0 else (f.right_slope if gr > 0 else f.left_slope) * gr
    return PiecewiseLinear._make(k, f(g(k)), left, right)


def _pair(f: object, g: object) -> tuple[PiecewiseLinear, PiecewiseLinear]:
    """Both as PiecewiseLinear; a real constant borrows the other's first knot."""
    for name, obj in (("f", f), ("g", g)):
        if not (isinstance(obj, PiecewiseLinear) or is_real(obj)):
            raise TypeError(
                f"`{name}` must be a PiecewiseLinear or a real number; got {type(obj).__name__}"
            )
    if not isinstance(f, PiecewiseLinear) and not isinstance(g, PiecewiseLinear):
        raise TypeError("at least one of `f` and `g` must be a PiecewiseLinear")
    knot = (f if isinstance(f, PiecewiseLinear) else g).knots[:1]
    f, g = (
        obj
        if isinstance(obj, PiecewiseLinear)
        else PiecewiseLinear._make(knot, [as_real_scalar(obj, name)], 0.0, 0.0)
        for name, obj in (("f", f), ("g", g))
    )
    return f, g
