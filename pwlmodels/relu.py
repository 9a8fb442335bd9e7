"""Exact conversions between PiecewiseLinear splines and ReLU networks.

A continuous PWL function with slope changes ``a_i`` at knots ``t_i`` is
``f(x) = c + sum_i a_i relu(s_i (x - t_i))`` with facings ``s_i = +-1``
(Arora et al. 2018). :func:`spline_to_relu` builds that network,
:func:`relu_to_spline` reads the exact function back from any network of
Linear and piecewise-linear activation layers, and :func:`rounding_bound`
states how far floating point can move the network from the spline
(Higham 2002, ch. 3).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ._numeric import evaluation_error, nearer_end_eval, nearer_end_table
from ._pwa_net import pwa_rounding_bound, pwa_to_relu
from ._validate import (
    as_finite_1d,
    as_float_array,
    as_real_scalar,
    check_choice,
    check_finite,
    check_module,
)
from .network._extract import hinge_spline, line_arguments, network_spline
from .network._parse import input_features, output_features, parse_sequential
from .network._spline_module import SplineModule
from .network._torch import UNIT, check_device, check_dtype, check_float32_range
from .spline import PiecewiseLinear

__all__ = [
    "PrecisionWarning",
    "SplineModule",
    "evaluate",
    "pwa_rounding_bound",
    "pwa_to_relu",
    "relu_to_spline",
    "rounding_bound",
    "spline_to_relu",
]

SplineLike = PiecewiseLinear | tuple | object
_EPS = float(np.finfo(np.float64).eps)
_WARN_AT = {torch.float64: 1e-10, torch.float32: 1e-3}
_EXACT_SEARCH_MAX = 40
_EVAL_ACTIVATIONS = 2**20  # hidden activations per batch in evaluate()


class PrecisionWarning(UserWarning):
    """The network's rounding bound is large relative to the function's values."""


# --------------------------------------------------------------- parameters
def _as_spline(spline: SplineLike) -> PiecewiseLinear:
    if isinstance(spline, PiecewiseLinear):
        return spline
    if isinstance(spline, (tuple, list)) and len(spline) == 2:
        return PiecewiseLinear.from_points(*spline)
    if type(spline).__module__.startswith("scipy."):
        try:
            return PiecewiseLinear.from_scipy(spline)
        except (TypeError, ValueError) as exc:  # name the argument the caller used
            raise type(exc)(str(exc).replace("`obj`", "`spline`")) from None
    raise TypeError(
        "`spline` must be a PiecewiseLinear, an (x, y) pair or a scipy PPoly/BSpline/"
        f"interp1d; got {type(spline).__name__}"
    )


def _subset_matching(a: np.ndarray, target: float, tol: float) -> np.ndarray | None:
    """A boolean mask R with |sum(a[R]) - target| <= tol, or None.

    Exact search (meet in the middle) up to 40 entries, greedy beyond.
    """
    m = a.size
    if m <= _EXACT_SEARCH_MAX:
        half = m // 2
        sa, sb = _subset_sums(a[:half]), _subset_sums(a[half:])
        order = np.argsort(sb, kind="stable")
        sorted_b = sb[order]
        pos = np.searchsorted(sorted_b, target - sa)
        best_res, best = np.inf, None
        for p in (np.clip(pos - 1, 0, sb.size - 1), np.clip(pos, 0, sb.size - 1)):
            res = np.abs(sa + sorted_b[p] - target)
            i = int(np.argmin(res))
            if res[i] < best_res:
                best_res, best = res[i], (i, int(order[p[i]]))
        if best_res > tol:
            return None
        bits = np.concatenate([_bits(best[0], half), _bits(best[1], m - half)])
        return bits
    mask = np.zeros(m, dtype=bool)
    total = 0.0
    for i in np.argsort(-np.abs(a), kind="stable"):
        if abs(total + a[i] - target) < abs(total - target):
            mask[i] = True
            total += a[i]
    return mask if abs(math.fsum(a[mask]) - target) <= tol else None


def _subset_sums(a: np.ndarray) -> np.ndarray:
    sums = np.zeros(1)
    for v in a:  # bit i of the index says whether a[i] is in the subset
        sums = np.concatenate([sums, sums + v])
    return sums


def _bits(index: int, n: int) -> np.ndarray:
    return np.array([(index >> i) & 1 for i in range(n)], dtype=bool)


@dataclass(frozen=True)
class _Hinges:
    """f(x) = c + sum_i a_i relu(s_i (x - t_i)), and what the bound needs.

    ``anchor`` is the knot where ``c`` was computed; ``residual`` bounds how far
    the right-facing units' slope sum is from the right slope.
    """

    t: np.ndarray
    s: np.ndarray
    a: np.ndarray
    c: float
    anchor: float
    residual: float


def _hinge_parameters(f: PiecewiseLinear, width: str) -> _Hinges:
    changes = f.slope_changes
    nz = changes != 0
    t, a = f.knots[nz], changes[nz]
    left, right = f.left_slope, f.right_slope
    t0, v0 = float(f.knots[0]), float(f.values[0])
    if t.size == 0:  # a line: two opposite units at the first knot; a constant: one dead unit
        if left == 0:
            return _Hinges(np.array([t0]), np.array([1.0]), np.array([0.0]), v0, t0, 0.0)
        return _Hinges(
            np.array([t0, t0]), np.array([1.0, -1.0]), np.array([left, -left]), v0, t0, 0.0
        )
    m = t.size
    tol = 4 * m * _EPS * float(np.sum(np.abs(a)))
    if width == "min":
        if abs(right) <= tol:
            right_facing = np.zeros(m, dtype=bool)
        elif abs(left) <= tol:
            right_facing = np.ones(m, dtype=bool)
        else:
            right_facing = _subset_matching(a, right, tol)
    else:  # stable: face away from the centre
        right_facing = np.arange(m) >= m // 2
        if abs(math.fsum(a[right_facing]) - right) > tol:
            right_facing = None
    if right_facing is not None:
        s = np.where(right_facing, 1.0, -1.0)
    else:  # no facing reproduces both end slopes: one extra unit
        j = m // 2 if width == "stable" else 0
        s = np.where(np.arange(m) >= j, 1.0, -1.0)
        extra = math.fsum(a[s > 0]) - right  # left-facing at t_j; unit j gives it up
        a = a.copy()
        a[j] -= extra
        t, s, a = np.append(t, t[j]), np.append(s, -1.0), np.append(a, extra)
    anchor = _best_anchor(t, s, a)
    c = float(f(anchor)) - math.fsum(a * np.maximum(s * (anchor - t), 0.0))
    residual = abs(math.fsum(a[s > 0]) - right) + 2 * _EPS * float(np.sum(np.abs(a[s > 0])))
    return _Hinges(t, s, a, c, anchor, residual)


def _best_anchor(t: np.ndarray, s: np.ndarray, a: np.ndarray) -> float:
    """The knot where sum |a_i| relu(s_i (x - t_i)) is smallest (c absorbs the least)."""
    b = hinge_spline(t, s, np.abs(a))[0]
    return float(b.knots[int(np.argmin(b.values))])


def _ramp_parameters(f: PiecewiseLinear):
    if f.left_slope != 0 or f.right_slope != 0:
        raise ValueError(
            "form='ramp' reproduces a spline only when both end slopes are 0; got "
            f"left_slope={f.left_slope!r}, right_slope={f.right_slope!r}; use form='hinge'"
        )
    t, v = f.knots, f.values
    if t.size == 1:
        return np.array([1.0]), np.array([-t[0]]), np.array([0.0]), float(v[0])
    h = np.diff(t)
    w = 2.0 / h
    b = -(t[:-1] + h / 2) * w
    return w, b, np.diff(v) / 2, float((v[0] + v[-1]) / 2)


def _ridge(weight: object, bias: object, form: str) -> tuple[np.ndarray, float]:
    if weight is not None and form == "ramp":
        raise ValueError("form='ramp' takes one input; use form='hinge' for a ridge function")
    if weight is None:
        if bias is not None:
            raise ValueError("`bias` needs `weight`: give both, or neither for one input")
        return np.ones(1), 0.0
    w = as_finite_1d(weight, "weight", min_size=1)
    b = 0.0 if bias is None else as_real_scalar(bias, "bias")
    return w, b


# ------------------------------------------------------------------ builders
def spline_to_relu(
    spline: SplineLike,
    *,
    weight: object = None,
    bias: object = None,
    width: str = "min",
    form: str = "hinge",
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> nn.Sequential:
    """The exact two-layer network of a continuous piecewise-linear function.

    Hinge form, ``Linear(n_in, H), ReLU(), Linear(H, 1)``:
    ``f(x) = c + sum_i a_i relu(s_i (x - t_i))`` with one unit per knot
    where the slope changes (change ``a_i``), facing ``s_i = +-1``. The
    width is ``H = m`` when some set of units facing right reproduces the
    right slope (within ``4 m eps sum |a_i|``; always when an end slope is
    0), else ``m + 1``; a constant gives ``H = 1``, a line ``H = 2``.
    ``width="min"`` searches the facings exactly for ``m <= 40`` (then
    ``H`` is the minimum over all facings) and greedily beyond (then ``H``
    is minimal only when it equals ``m``); ``width="stable"`` faces the
    units away from the middle knot, which keeps each unit small where the
    function is evaluated far out.

    Ramp form, ``Linear(1, K-1), Hardtanh(), Linear(K-1, 1)``: one unit
    per segment, ``hardtanh((x - m_i) / (h_i / 2))`` with weight
    ``dy_i / 2``; better conditioned for many rough knots, exact on the
    whole line only when both end slopes are 0.

    The network is for training, composition and verification; evaluate
    with the spline itself or :meth:`PiecewiseLinear.to_torch`, which are
    much faster.

    Parameters
    ----------
    spline : PiecewiseLinear, (x, y) pair or scipy PPoly/BSpline/interp1d
        An ``(x, y)`` pair goes through :meth:`PiecewiseLinear.from_points`.
    weight : array_like, shape (n_in,), optional
        With ``bias``, the ridge function ``x -> spline(weight . x + bias)`` on R^n_in.
    bias : float, optional
    width : {"min", "stable"}, default "min"
    form : {"hinge", "ramp"}, default "hinge"
    dtype : {torch.float64, torch.float32}, default torch.float64
        For float32, a ValueError names the argument when a nonzero
        parameter would overflow float32 or fall below its normal range
        (about 1.2e-38), where rounding is no longer relative.
    device : torch.device or str, optional (CPU)
        Checked by :func:`pwlmodels.nets.resolve_device`: a CUDA device that
        does not exist here is a ValueError.

    Returns
    -------
    torch.nn.Sequential
        Maps (..., n_in) to (..., 1) in ``dtype``; its error is at most
        :func:`rounding_bound`. A :class:`PrecisionWarning` is issued when
        that bound, relative to ``max |f|`` over the knots, exceeds 1e-10
        (float64) or 1e-3 (float32); its message says what would help:
        float64 for a float32 network; in float64 (where rescaling x or f
        leaves the relative bound unchanged) ``form="ramp"`` when both end
        slopes are 0, ``width="stable"``, or fewer knots.

    Examples
    --------
    >>> import numpy as np
    >>> from pwlmodels import PiecewiseLinear, spline_to_relu, evaluate, rounding_bound
    >>> f = PiecewiseLinear([0.0, 1.0, 2.0], [0.0, 1.0, 0.5], left_slope=0.0)
    >>> net = spline_to_relu(f)
    >>> net
    Sequential(
      (0): Linear(in_features=1, out_features=2, bias=True)
      (1): ReLU()
      (2): Linear(in_features=2, out_features=1, bias=True)
    )
    >>> x = np.linspace(-10.0, 10.0, 101)
    >>> bool(np.all(np.abs(evaluate(net, x) - f(x)) <= rounding_bound(f, x)))
    True
    """
    f = _as_spline(spline)
    check_choice(width, "width", ("min", "stable"))
    check_choice(form, "form", ("hinge", "ramp"))
    dtype = check_dtype(dtype)
    device = check_device(device)
    w_ridge, b_ridge = _ridge(weight, bias, form)
    p, (hidden_w, hidden_b, out_w, out_b) = _layers(f, form, width, w_ridge, b_ridge)
    if dtype == torch.float32:
        _check_layers_fit_float32(hidden_w, hidden_b, out_w, out_b, ridge=weight is not None)
    act = nn.ReLU() if form == "hinge" else nn.Hardtanh()
    n_in, h = hidden_w.shape[1], hidden_w.shape[0]
    f64 = torch.float64  # built in float64, then rounded once to `dtype`
    net = nn.Sequential(nn.Linear(n_in, h, dtype=f64), act, nn.Linear(h, 1, dtype=f64))
    with torch.no_grad():
        params = ((hidden_w, hidden_b), (out_w[None, :], [out_b]))
        for layer, (wt, bs) in zip((net[0], net[2]), params, strict=True):
            layer.weight.copy_(torch.as_tensor(np.asarray(wt), dtype=torch.float64))
            layer.bias.copy_(torch.as_tensor(np.asarray(bs), dtype=torch.float64))
    net = net.to(dtype=dtype, device=device)
    if form == "hinge":  # the ridge's input term is not included
        margin = 1 + 16 * _EPS  # exactly what rounding_bound returns
        _warn_if_imprecise(f, form, dtype, lambda x: _hinge_bound(p, x, dtype) * margin)
    else:
        _warn_if_imprecise(f, form, dtype, lambda x: _ramp_bound(f, x, dtype))
    return net


def _layers(f: PiecewiseLinear, form: str, width: str, w_ridge: np.ndarray, b_ridge: float):
    """(hinge parameters or None, (hidden weight, hidden bias, output weight, output bias))."""
    if form == "hinge":
        p = _hinge_parameters(f, width)
        return p, (np.outer(p.s, w_ridge), p.s * (b_ridge - p.t), p.a, p.c)
    w, b, out_w, out_b = _ramp_parameters(f)
    return None, (w[:, None], b, out_w, out_b)


def _check_layers_fit_float32(hidden_w, hidden_b, out_w, out_b, *, ridge: bool) -> None:
    """A ValueError when rounding a parameter to float32 overflows or underflows.

    :func:`rounding_bound` models float32 rounding as relative, which holds
    only for normal numbers.
    """
    check_float32_range(
        [
            ("weight" if ridge else "spline", "the hidden weight", np.ravel(hidden_w)),
            ("spline", "the hidden bias", hidden_b),
            ("spline", "the output weight", out_w),
            ("spline", "the output bias", out_b),
        ]
    )


def _warn_if_imprecise(f: PiecewiseLinear, form: str, dtype: torch.dtype, bound_at) -> None:
    """Warn when ``bound_at`` (x -> rounding bound) at knots and midpoints is large."""
    t = f.knots
    x = np.concatenate([t, t[:-1] + np.diff(t) / 2])
    scale = float(np.max(np.abs(f.values)))
    bound = float(np.max(bound_at(x)))
    rel = bound / scale if scale > 0 else (0.0 if bound == 0 else np.inf)
    if rel > _WARN_AT[dtype]:
        warnings.warn(
            f"the {form} network's rounding bound reaches {rel:.1e} of max|f| over the knots "
            f"in {dtype} (threshold {_WARN_AT[dtype]:.0e}); {_precision_advice(f, form, dtype)}",
            PrecisionWarning,
            stacklevel=3,
        )


def _precision_advice(f: PiecewiseLinear, form: str, dtype: torch.dtype) -> str:
    """What would shrink the relative rounding bound, for this dtype and form.

    In float64 the bound relative to max|f| is unchanged by rescaling or
    shifting x and f, so only the form, the facing and the knots can help.
    """
    if dtype != torch.float64:
        return "use dtype=torch.float64 (a unit roundoff 5e8 times smaller)"
    ways = ["fewer knots (a coarser fit)"]
    if form == "hinge":
        ways.insert(0, "width='stable' (units facing away from the middle knot)")
        if f.left_slope == 0 and f.right_slope == 0:
            ways.insert(0, "form='ramp' (better conditioned for many rough knots)")
    return "float64 is already in use; try " + ", or ".join(ways)


def rounding_bound(
    spline: SplineLike,
    x: object,
    *,
    dtype: torch.dtype = torch.float64,
    form: str = "hinge",
    width: str = "min",
    weight: object = None,
    bias: object = None,
) -> np.ndarray:
    """A rigorous bound on ``|net(x) - f(x)|`` for ``net = spline_to_relu(f, ...)``.

    Hinge form, with ``B(x) = |c| + sum_i |a_i| relu(s_i (x - t_i))`` and
    ``gamma_n = n u / (1 - n u)`` (Higham 2002, ch. 3): float64,
    ``gamma_{H+2} B(x)``; float32, ``gamma_{H+3} B(x) + u32 sum_i |a_i| |t_i|``
    (TF32 off); a ridge function adds ``(n_in + 1) u sum_i |a_i|
    (|w|.|x| + |b|)``. When the chosen facing reproduces the right slope
    only to the width tolerance, the residual ``rho`` adds ``rho |x - t*|``
    (``t*`` the anchor knot). Ramp form: ``gamma_{H+2} (|c| + sum_i
    |a_i|)`` plus ``|a_i| gamma_4 (|w_i x| + |b_i|)`` for each unit that
    rounding can take out of saturation at ``x``.

    The bound covers inputs representable in ``dtype`` (the network sees
    ``x`` rounded to ``dtype``; compare with ``f`` at the rounded point).
    It also adds the error bound of ``f(x)`` as
    :meth:`PiecewiseLinear.__call__` computes it in float64 (``2 u |f(x)|
    + 6 u |s| |d|`` and an underflow term, ``d`` the distance to the
    nearer knot of the piece), so it bounds the difference from ``f(x)``
    both in real arithmetic and as computed: ``abs(evaluate(net, x) -
    f(x)) <= rounding_bound(f, x)`` holds.

    Parameters
    ----------
    spline : PiecewiseLinear, (x, y) pair or scipy object
    x : float or array_like, shape (N,); shape (N, n_in) for a ridge function
        Finite. Without ``weight`` any other shape (also (N, 1)) is a
        ValueError.
    dtype : {torch.float64, torch.float32}, default torch.float64
        For float32, every nonzero parameter of the network must be a
        normal float32 number (else a ValueError, as in
        :func:`spline_to_relu`).
    form : {"hinge", "ramp"}, default "hinge"
    width : {"min", "stable"}, default "min"
    weight, bias : as in :func:`spline_to_relu`

    Returns
    -------
    ndarray, shape (N,) (0-d for a scalar ``x``)

    Examples
    --------
    >>> import numpy as np
    >>> from pwlmodels import PiecewiseLinear, rounding_bound
    >>> f = PiecewiseLinear.interpolate(np.sin, 0.0, 6.0, n=50)
    >>> bool(np.max(rounding_bound(f, np.linspace(0.0, 6.0, 7))) < 1e-12)
    True
    """
    f = _as_spline(spline)
    check_choice(form, "form", ("hinge", "ramp"))
    check_choice(width, "width", ("min", "stable"))
    dtype = check_dtype(dtype)
    u = UNIT[dtype]
    w_ridge, b_ridge = _ridge(weight, bias, form)
    x = as_float_array(x, "x")
    if weight is not None and (x.ndim != 2 or x.shape[1] != w_ridge.size):
        raise ValueError(
            f"`x` must have shape (N, {w_ridge.size}) for a ridge function; got {x.shape}"
        )
    if weight is None and x.ndim > 1:
        raise ValueError(
            f"`x` must be a scalar or 1-D (shape (N,)) for a spline of one input; got shape "
            f"{x.shape} (pass x[:, 0] for an (N, 1) array, or `weight` for a ridge function)"
        )
    check_finite(x, "x")
    p, layers = _layers(f, form, width, w_ridge, b_ridge)
    if dtype == torch.float32:
        _check_layers_fit_float32(*layers, ridge=weight is not None)
    if weight is not None:
        ridge_mag = np.abs(x) @ np.abs(w_ridge) + abs(b_ridge)
        x = x @ w_ridge + b_ridge
    table = nearer_end_table(f.knots, f.values, f.slopes)
    own = evaluation_error(*nearer_end_eval(table, x))  # f(x) as PiecewiseLinear rounds it
    if form == "ramp":
        return _ramp_bound(f, x, dtype) + own
    bound = _hinge_bound(p, x, dtype)
    if weight is not None:
        bound = bound + (w_ridge.size + 1) * u * float(np.sum(np.abs(p.a))) * ridge_mag
    return (bound + own) * (1 + 16 * _EPS)  # a margin for the rounding of the bound itself


def _hinge_bound(p: _Hinges, x: np.ndarray, dtype: torch.dtype) -> np.ndarray:
    """The hinge form's bound at (scalar) inputs x, without the ridge term."""
    u = UNIT[dtype]
    h = p.t.size
    b = abs(p.c) + hinge_spline(p.t, p.s, np.abs(p.a))[0](x)
    extra = p.residual * np.abs(x - p.anchor)
    if dtype == torch.float32:
        return _gamma(h + 3, u) * b + u * float(np.sum(np.abs(p.a) * np.abs(p.t))) + extra
    return _gamma(h + 2, u) * b + extra


def _gamma(n: int, u: float) -> float:
    return n * u / (1.0 - n * u)


def _ramp_bound(f: PiecewiseLinear, x: np.ndarray, dtype: torch.dtype) -> np.ndarray:
    """Saturated units are exact; a unit can leave saturation only within
    ``gamma (|x| + max|t|)`` of its segment, a window found by bisection, and
    its error there is at most ``|a_i| gamma (|w_i x| + |b_i|)``: O((N + H) log H)."""
    w, b, a, c = _ramp_parameters(f)
    u = UNIT[dtype]
    k = 1 if dtype == torch.float64 else 2  # float32 rounds every parameter once more
    g = _gamma(4 * k, u)
    base = _gamma(a.size + 2 * k, u) * (abs(c) + float(np.sum(np.abs(a))))
    t = f.knots if f.knots.size > 1 else np.repeat(f.knots, 2)
    reach = 2 * g * (np.abs(x) + float(np.max(np.abs(t))))
    lo = np.searchsorted(t[1:], x - reach, side="left")  # first segment ending at or after
    hi = np.searchsorted(t[:-1], x + reach, side="right")  # one past the last starting before
    cum_aw = np.concatenate([[0.0], np.cumsum(np.abs(a * w))])
    cum_ab = np.concatenate([[0.0], np.cumsum(np.abs(a * b))])
    cum_a = np.concatenate([[0.0], np.cumsum(np.abs(a))])
    near = g * (np.abs(x) * (cum_aw[hi] - cum_aw[lo]) + (cum_ab[hi] - cum_ab[lo]))
    return base + np.minimum(near, 2 * (cum_a[hi] - cum_a[lo]))


# ------------------------------------------------------------ network -> spline
def relu_to_spline(
    net: nn.Module,
    *,
    origin: object = None,
    direction: object = None,
    max_pieces: int = 10**6,
) -> PiecewiseLinear:
    """The exact function of a one-input piecewise-linear network, as a spline.

    ``net`` is a (nested) ``nn.Sequential`` of ``Linear``, ``ReLU``,
    ``LeakyReLU``, ``PReLU``, ``Hardtanh``, ``ReLU6``, ``Identity``,
    ``Flatten``, ``Dropout`` (eval mode) and ``BatchNorm1d`` (eval mode,
    folded), of any depth, with one output. The weights are upcast exactly
    to float64 and the breakpoints propagated layer by layer (no sampling):
    the result is the real-arithmetic function of those weights up to
    float64 rounding of the breakpoints and values. One hidden layer takes
    O(H log H).

    Parameters
    ----------
    net : torch.nn.Sequential
    origin, direction : array_like, shape (n_in,), optional
        Restrict a network with n_in inputs to the line
        ``s -> net(origin + s * direction)``; required when n_in > 1.
    max_pieces : int, default 10**6
        A ValueError when an intermediate layer has more linear pieces.

    Returns
    -------
    PiecewiseLinear
        Knots only where the slope changes (at least one knot).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from pwlmodels import PiecewiseLinear, spline_to_relu, relu_to_spline
    >>> f = PiecewiseLinear([0.0, 1.0, 3.0], [1.0, 2.0, 0.0])
    >>> relu_to_spline(spline_to_relu(f)) == f.simplify()  # exact here: small integers
    True

    On ordinary data the round trip is exact only up to float64 rounding
    (the network's sum of hinges is evaluated at each knot), so ``==`` may
    fail by a few ulps; compare with :meth:`PiecewiseLinear.allclose`:

    >>> rng = np.random.default_rng(0)
    >>> f = PiecewiseLinear(np.cumsum(rng.uniform(0.5, 1.5, 12)), rng.normal(size=12))
    >>> g = relu_to_spline(spline_to_relu(f))
    >>> g == f.simplify(), g.allclose(f.simplify(), atol=1e-12 * np.abs(f.values).max())
    (False, True)
    >>> net = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    >>> g = relu_to_spline(net)
    >>> x = np.linspace(-3.0, 3.0, 13)
    >>> with torch.no_grad():
    ...     y = net(torch.tensor(x[:, None], dtype=torch.float32)).numpy()[:, 0]
    >>> bool(np.allclose(g(x), y, rtol=1e-5, atol=1e-6))
    True
    """
    ops = parse_sequential(net)
    if isinstance(max_pieces, bool) or not isinstance(max_pieces, (int, np.integer)):
        raise TypeError(f"`max_pieces` must be an integer; got {type(max_pieces).__name__}")
    if max_pieces < 1:
        raise ValueError(f"`max_pieces` must be positive; got {max_pieces}")
    n_in, n_out = input_features(ops), output_features(ops)
    if n_out is not None and n_out != 1:
        raise ValueError(
            f"`net` must have one output; got {n_out} (select one with a Linear layer)"
        )
    origin, direction = line_arguments(n_in, origin, direction)
    if n_out is None and origin.size != 1:
        raise ValueError("`net` without a Linear layer must have one input")
    return network_spline(ops, origin, direction, max_pieces)


# ------------------------------------------------------------------ evaluation
def evaluate(net: nn.Module, x: object) -> np.ndarray:
    """Run ``net`` on numpy input under ``no_grad``; numpy output.

    Parameters
    ----------
    net : torch.nn.Module
        Evaluated in its own dtype and on its own device, in its current mode.
    x : array_like, shape (N,) for one input or (N, n_in)

    Returns
    -------
    ndarray, shape (N,) for one output, else (N, n_out)
        Computed in batches of at most 2**20 hidden activations, which
        bounds memory and keeps the work in cache.

    Examples
    --------
    >>> import numpy as np
    >>> from pwlmodels import PiecewiseLinear, spline_to_relu, evaluate
    >>> f = PiecewiseLinear([0.0, 1.0], [0.0, 1.0], left_slope=0.0, right_slope=0.0)
    >>> evaluate(spline_to_relu(f), np.array([-1.0, 0.5, 2.0]))
    array([0. , 0.5, 1. ])
    """
    check_module(net)
    param = next(iter(net.parameters()), None)
    dtype = param.dtype if param is not None else torch.float64
    device = param.device if param is not None else torch.device("cpu")
    first = next((m for m in net.modules() if isinstance(m, nn.Linear)), None)
    n_in = first.in_features if first is not None else 1
    x = as_float_array(x, "x")
    check_finite(x, "x")
    if x.ndim <= 1 and n_in == 1:
        x = x.reshape(-1, 1)
    if x.ndim != 2 or x.shape[1] != n_in:
        raise ValueError(f"`x` must have shape (N, {n_in}) for this net; got {x.shape}")
    widest = max((m.out_features for m in net.modules() if isinstance(m, nn.Linear)), default=1)
    batch = max(1, _EVAL_ACTIVATIONS // widest)  # bounds memory at N x H activations
    with torch.no_grad():
        parts = [
            net(torch.as_tensor(x[i : i + batch], dtype=dtype, device=device)).to("cpu")
            for i in range(0, max(x.shape[0], 1), batch)
        ]
    y = torch.cat(parts).numpy()
    return y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y
