"""The least-squares fits behind :mod:`pwlmodels.fit` (its public names are there)."""

from __future__ import annotations

import numbers
import types
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from .._validate import (
    as_finite_1d,
    as_float_array,
    as_knots,
    as_real_scalar,
    check_choice,
    check_finite,
    plain,
)
from ..spline import PiecewiseLinear
from . import _lsq, _outofcore
from ._freeknots import search_knots
from ._stats import standard_errors

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PWLFit", "fit_pwl", "select_knots"]

_CONSTRAINT_KEYS = ("monotone", "curvature", "slope", "through", "A_ub", "b_ub", "A_eq", "b_eq")
#: At most this many free knots: the search keeps (starts, K, K) quasi-Newton matrices and
#: (K, 3K) KKT systems per start, and its time grows as K^3 (K = 100 takes a minute or so).
_MAX_FREE_KNOTS = 100
#: At most this many perturbed starts of the free-knot search.
_MAX_STARTS = 100
#: Constraints and standard errors use dense (K + 2, K + 2) matrices: up to this many knots
#: (32 MB each). Beyond it a constrained fit is refused and the standard errors are None.
_MAX_DENSE_KNOTS = 2000


@dataclass(frozen=True)
class PWLFit:
    """The result of :func:`fit_pwl`.

    Attributes
    ----------
    spline : PiecewiseLinear
        The fitted function on the whole line.
    knots : ndarray, shape (K,)
        The interior knots (where the slope may change), fixed or fitted.
    x_range : (float, float)
        The range of ``x`` over the points with non-zero weight.
    ssr : float
        Weighted sum of squared residuals, ``sum (w_i (y_i - f(x_i)))^2``.
    rmse : float
        ``sqrt(ssr / n)``.
    n : int
        Points with non-zero weight.
    n_params : int
        p = coefficients (K + 2) + free knots + 1 (the noise variance).
    aic, bic : float
        ``n log(ssr / n) + 2 p`` and ``n log(ssr / n) + p log n``; ``-inf``
        when ``ssr == 0`` (an exact fit).
    value_se : ndarray, shape (K + 2,) or None
        Standard errors of the values at ``[min x, knots..., max x]``.
    slope_se : ndarray, shape (K + 1,) or None
        Standard errors of the segment slopes, left to right.
    knot_se : ndarray, shape (K,) or None
        Delta-method standard errors of free knots (Muggeo 2003).
    free_knots : bool
    n_evaluations : int
        SSR evaluations the knot search used (0 for fixed knots).
    notes : tuple of str
        Why a statistic is None, and other caveats.
    """

    spline: PiecewiseLinear
    knots: np.ndarray
    x_range: tuple[float, float]
    ssr: float
    rmse: float
    n: int
    n_params: int
    aic: float
    bic: float
    value_se: np.ndarray | None
    slope_se: np.ndarray | None
    knot_se: np.ndarray | None
    free_knots: bool
    n_evaluations: int = 0
    notes: tuple[str, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        """One row per node ``[min x, knots..., max x]``: position, value, slopes, errors."""
        nodes = np.concatenate([[np.nan], self.knots, [np.nan]])
        xs = self._nodes()
        slopes = np.diff(self.spline(xs)) / np.diff(xs)
        import pandas as pd

        frame = pd.DataFrame(
            {
                "x": xs,
                "is_knot": ~np.isnan(nodes),
                "value": self.spline(xs),
                "value_se": self.value_se if self.value_se is not None else np.nan,
                "slope_right": np.append(slopes, self.spline.right_slope),
                "slope_right_se": (
                    np.append(self.slope_se, np.nan) if self.slope_se is not None else np.nan
                ),
                "knot_se": (
                    np.concatenate([[np.nan], self.knot_se, [np.nan]])
                    if self.knot_se is not None
                    else np.nan
                ),
            }
        )
        return frame

    def _nodes(self) -> np.ndarray:
        return np.concatenate([[self.x_range[0]], self.knots, [self.x_range[1]]])


def fit_pwl(
    x: object,
    y: object,
    *args: object,
    n_knots: int | None = None,
    knots: object = None,
    weights: object = None,
    constraints: dict | None = None,
    extrapolate: str = "linear",
    n_starts: int = 4,
    seed: int = 0,
    data: object = None,
    grid: int | None = None,
) -> PWLFit:
    """Fit a continuous piecewise-linear function by weighted least squares.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Finite data; ``x`` need not be sorted and may repeat.
    *args
        Refused with a TypeError that names the keyword to use: the knots
        are given by name, ``n_knots=`` or ``knots=`` (a positional ``3``
        and ``3.0`` would mean different fits).
    n_knots : int, optional
        Fit this many free knots (``n_knots + 1`` segments), placed by the
        search; ``0 <= n_knots <= 100`` (the search's memory and time grow
        as ``n_knots**3``). Like pwlf's ``fit``.
    knots : array_like of float, shape (K,), optional
        Fixed interior knots where the slope may change (pwlf's interior
        breakpoints of ``fit_with_breaks``), strictly increasing and
        strictly inside the range of ``x``; a sequence even for one knot
        (``knots=[3.0]``). With ``constraints``, at most 2000 knots;
        without, they are limited only by the data, but beyond 2000 the
        standard errors are None (they need a dense covariance).
        Exactly one of ``n_knots`` and ``knots`` is required.
    weights : array_like, shape (n,), optional
        Multiply the residuals (``w_i = 1 / sigma_i``, as ``numpy.polyfit``);
        zero weights drop a point.
    constraints : dict, optional
        Any of ``monotone`` ("increasing" or "decreasing"), ``curvature``
        ("convex" or "concave"), ``slope`` (``(lo, hi)``, either may be
        None: bounds on every slope), ``through`` (a sequence of ``(x, y)``
        points the fit passes through), and general linear constraints on
        the values at the nodes ``[min x, knots..., max x]``: ``A_ub v >=
        b_ub`` and ``A_eq v == b_eq``. Solved exactly (LSI -> LDP -> NNLS).
    extrapolate : {"linear", "constant"}, default "linear"
        Beyond the data the spline continues its end segments, or holds its
        end values (then ``min x`` and ``max x`` become knots).
    n_starts : int, default 4
        Free knots: perturbed starts besides the deterministic one, at most
        100.
    seed : int, default 0
        Free knots: seeds the perturbed starts.
    data : pandas or dask DataFrame, or str or PathLike, optional
        With ``data``, ``x`` and ``y`` are column names (as in seaborn). A
        pandas frame is fitted in memory. A dask DataFrame, a ``.parquet``
        file or a folder of them (read with ``dask.dataframe.read_parquet``)
        are fitted out of core, as are ``x`` and ``y`` given as dask Arrays
        or dask Series: a few passes over the data, memory O(grid + knots),
        the in-memory fit's knots, values, SSR and standard errors (see
        "Data larger than memory" in the fitting guide). Out of core,
        ``weights`` and ``constraints`` are refused. Needs the ``scale``
        extra.
    grid : int, optional
        Out of core only: cells of the first pass's grid on x, 16 to 2**22
        (default 4096).

    Returns
    -------
    PWLFit

    Examples
    --------
    >>> import numpy as np
    >>> from pwlmodels import fit_pwl
    >>> x = np.linspace(0.0, 10.0, 201)
    >>> y = np.minimum(x, 4.0) - 0.5 * np.maximum(x - 7.0, 0.0)
    >>> fixed = fit_pwl(x, y, knots=[4.0, 7.0])
    >>> bool(fixed.ssr < 1e-20)
    True
    >>> free = fit_pwl(x, y, n_knots=2)
    >>> np.round(free.knots, 6)
    array([4., 7.])
    """
    n_knots = _knot_arguments(args, n_knots, knots)
    routed = _outofcore.route(x, y, weights, data=data, grid=grid, constraints=constraints)
    if isinstance(routed, _outofcore.Source):
        return _fit_lazy(routed, n_knots, knots, extrapolate, n_starts, seed, grid)
    x, y, weights = routed  # arrays, or the columns of a pandas `data`
    x_arr = as_finite_1d(x, "x", min_size=2)
    y_arr = as_finite_1d(y, "y")
    if y_arr.size != x_arr.size:
        raise ValueError(f"`y` must have one entry per x; got {y_arr.size} for {x_arr.size}")
    w = _weights(weights, x_arr.size)
    check_choice(extrapolate, "extrapolate", ("linear", "constant"))
    seed = _nonneg_int(seed, "seed")
    n_starts = _nonneg_int(n_starts, "n_starts", limit=_MAX_STARTS)
    used = w > 0
    if np.ptp(x_arr[used]) == 0:
        raise ValueError("`x` must not be constant over the points with non-zero weight")
    d = _lsq.Data.build(x_arr, y_arr, w)
    free = n_knots is not None
    if free:
        n_free = n_knots
    else:
        t = _fixed_knots(knots, d)
        n_knots, n_free = t.size, 0
    p = n_knots + 2 + n_free + 1  # coefficients, free knots, noise variance
    if d.n < p - 1:
        raise ValueError(
            f"`x` has {d.n} points with non-zero weight, fewer than the {p - 1} parameters "
            "of this fit; use fewer knots"
        )
    cons = _Constraints.parse(constraints, d)
    if cons is not None and n_knots > _MAX_DENSE_KNOTS:
        raise ValueError(
            f"`knots` must number at most {_MAX_DENSE_KNOTS} with `constraints` (they are solved "
            f"with dense matrices); got {n_knots} knots"
        )
    evaluations = 0
    if free:
        t, evaluations = search_knots(d, n_knots, cons, n_starts=n_starts, seed=seed)
    v, active = _solve(d, t, cons)
    return _result(d, t, v, active, extrapolate, free, p, evaluations)


def select_knots(
    x: object,
    y: object,
    *,
    max_knots: int = 10,
    weights: object = None,
    criterion: str = "bic",
    seed: int = 0,
) -> PWLFit:
    """Free-knot fits with 0 to ``max_knots`` knots; the one with the smallest BIC (or AIC).

    Parameters
    ----------
    x, y : array_like, shape (n,)
    max_knots : int, default 10
        At most 100.
    weights : array_like, optional
    criterion : {"bic", "aic"}, default "bic"
    seed : int, default 0

    Returns
    -------
    PWLFit

    Examples
    --------
    >>> import numpy as np
    >>> from pwlmodels import select_knots
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(0, 10, 500)
    >>> y = np.abs(x - 3) - np.maximum(x - 6, 0) + rng.normal(0, 0.05, x.size)
    >>> select_knots(x, y, max_knots=5).knots.size
    2
    """
    check_choice(criterion, "criterion", ("bic", "aic"))
    max_knots = _nonneg_int(max_knots, "max_knots", limit=_MAX_FREE_KNOTS)
    fits = []
    for k in range(max_knots + 1):
        try:
            fits.append(fit_pwl(x, y, n_knots=k, weights=weights, seed=seed))
        except ValueError:
            if not fits:
                raise
            break  # too few points for more knots
    return min(fits, key=lambda f: getattr(f, criterion))


# ------------------------------------------------------------------ internals
def _fit_lazy(source, n_knots, knots, extrapolate, n_starts, seed, grid) -> PWLFit:
    """fit_pwl out of core: solved on the reduced data of :func:`_outofcore.reduce`."""
    check_choice(extrapolate, "extrapolate", ("linear", "constant"))
    red = _outofcore.reduce(
        source,
        n_knots=n_knots,
        fixed=None
        if n_knots is not None
        else lambda x0, xs: _fixed_knots(knots, types.SimpleNamespace(x0=x0, xs=xs)),
        n_starts=_nonneg_int(n_starts, "n_starts", limit=_MAX_STARTS),
        seed=_nonneg_int(seed, "seed"),
        grid=grid,
    )
    k, free = red.knots.size, n_knots is not None
    v, _ = _solve(red.data, red.knots, None)
    p = k + 3 + (k if free else 0)
    d, nodes = red.data, _lsq.nodes_of(red.knots[None, :])[0]
    reduced_ssr = float(np.sum(d.w2 * (d.y - np.interp(d.u, nodes, v)) ** 2))
    offset = _outofcore.residual_ssr(source, d, red.knots, v) - reduced_ssr  # not red.offset
    fit = _result(d, red.knots, v, False, extrapolate, free, p, red.evaluations, red.n, offset)
    return replace(fit, notes=(*fit.notes, *red.notes))


def _weights(weights: object, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = as_float_array(weights, "weights")
    if w.shape != (n,):
        raise ValueError(f"`weights` must have shape ({n},); got {w.shape}")
    check_finite(w, "weights")
    if (w < 0).any():
        i = int(np.argmax(w < 0))
        raise ValueError(f"`weights` must be non-negative; got weights[{i}] = {float(w[i])!r}")
    if not (w > 0).any():
        raise ValueError("`weights` must have at least one positive entry")
    return w


def _nonneg_int(value: object, name: str, *, limit: int | None = None) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer; got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"`{name}` must be non-negative; got {int(value)}")
    if limit is not None and value > limit:
        raise ValueError(f"`{name}` must be at most {limit}; got {int(value)}")
    return int(value)


def _knot_arguments(args: tuple, n_knots: object, knots: object) -> int | None:
    """Check that the knots come by name, exactly one way; the number of free knots or None."""
    if args:
        raise TypeError(f"`fit_pwl` takes its knots by keyword; {_which_keyword(args[0])}")
    if (n_knots is None) == (knots is None):
        raise TypeError(
            "`fit_pwl` needs exactly one of `n_knots=` (a number of free knots to place) and "
            f"`knots=` (fixed interior knots); got {'both' if knots is not None else 'neither'}"
        )
    if n_knots is None:
        if isinstance(knots, numbers.Number) or getattr(knots, "ndim", None) == 0:
            raise TypeError(
                f"`knots` must be a sequence of fixed knots; got the scalar {plain(knots)!r}: "
                f"{_which_keyword(knots)}"
            )
        return None
    if isinstance(n_knots, (bool, np.bool_)) or not isinstance(n_knots, numbers.Integral):
        raise TypeError(
            f"`n_knots` must be an integer (a number of free knots); got "
            f"{type(n_knots).__name__} {plain(n_knots)!r}; fixed knots go in `knots=`"
        )
    if n_knots < 0:
        raise ValueError(f"`n_knots` must be >= 0; got {int(n_knots)}")
    if n_knots > _MAX_FREE_KNOTS:
        raise ValueError(
            f"`n_knots` must be at most {_MAX_FREE_KNOTS} (the search's memory and time grow "
            f"as n_knots^3); got {int(n_knots)}; fix the knots instead with `knots=`, e.g. at "
            "quantiles of x"
        )
    return int(n_knots)


def _which_keyword(value: object) -> str:
    """The advice for knots given positionally (or as a scalar): which keyword means what."""
    value = plain(value)
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return "pass fixed knots as knots=..., or a number of free knots as n_knots=..."
    fixed = f"knots=[{value!r}] for one fixed knot at {value!r}"
    if value >= 0 and float(value).is_integer():
        return f"write n_knots={int(value)} for {int(value)} free knot(s), or {fixed}"
    return f"write {fixed}"


def _fixed_knots(knots: object, d: _lsq.Data) -> np.ndarray:
    t = as_knots(knots, "knots", min_size=0)
    lo, hi = d.x0, d.x0 + d.xs
    outside = (t <= lo) | (t >= hi)
    if outside.any():
        i = int(np.argmax(outside))
        raise ValueError(
            f"`knots` must lie strictly inside the data range ({lo!r}, {hi!r}), or a knot has "
            f"no data on one side; got knots[{i}] = {float(t[i])!r}"
        )
    return (t - d.x0) / d.xs


@dataclass(frozen=True)
class _Constraints:
    """Linear constraints on the node values, as callables of the scaled knots."""

    spec: dict

    @classmethod
    def parse(cls, constraints: dict | None, d: _lsq.Data) -> _Constraints | None:
        if constraints is None:
            return None
        if not isinstance(constraints, dict):
            raise TypeError(f"`constraints` must be a dict; got {type(constraints).__name__}")
        unknown = set(constraints) - set(_CONSTRAINT_KEYS)
        if unknown:
            raise ValueError(
                f"`constraints` has unknown keys {sorted(unknown)}; accepted: {_CONSTRAINT_KEYS}"
            )
        spec = dict(constraints)
        if "monotone" in spec:
            check_choice(spec["monotone"], "constraints['monotone']", ("increasing", "decreasing"))
        if "curvature" in spec:
            check_choice(spec["curvature"], "constraints['curvature']", ("convex", "concave"))
        if "through" in spec:
            pts = as_float_array(spec["through"], "constraints['through']").reshape(-1, 2)
            check_finite(pts, "constraints['through']")
            spec["through"] = np.column_stack([(pts[:, 0] - d.x0) / d.xs, pts[:, 1] - d.y_mean])
        if "slope" in spec:
            lo, hi = _slope_bounds(spec["slope"])
            spec["slope"] = (lo * d.xs, hi * d.xs)
        for a, b in (("A_ub", "b_ub"), ("A_eq", "b_eq")):
            if (a in spec) != (b in spec):
                raise ValueError(f"`constraints` needs both {a!r} and {b!r}")
        return cls(spec)

    @property
    def knot_independent(self) -> bool:
        """Whether the constraints restrict slopes only (the knots' gradient stays exact)."""
        return not ({"through", "A_ub", "A_eq"} & set(self.spec))

    def solve(self, diag, off, rhs, t: np.ndarray, y_mean: float) -> np.ndarray:
        """Node values of the constrained fit at scaled knots t, exactly.

        Bounds on slopes (``slope``, ``monotone``) or on slope changes
        (``curvature``, with ``monotone`` in the direction that bounds the
        first slope) go to :func:`scipy.optimize.lsq_linear` in that
        parametrisation; everything else through LSI -> LDP -> NNLS. Raises
        ValueError when the constraints are infeasible.
        """
        g = _lsq.dense_gram(diag, off)
        box = self.box(_lsq.nodes_of(t[None, :])[0])
        if box is not None:
            return _lsq.box_lsq(g, rhs, *box)
        return _lsq.lsi(g, rhs, *self.matrices(t, y_mean))

    def box(self, nodes: np.ndarray):
        """(basis, lb, ub) with v = basis @ theta when the constraints are bounds on theta."""
        s, keys, p = self.spec, set(self.spec), nodes.size
        sign = {"increasing": 1.0, "decreasing": -1.0}.get(s.get("monotone"), 0.0)
        # theta = (v_0, slopes): v_i = v_0 + sum_{j < i} h_j b_j
        to_values = np.column_stack([np.ones(p), np.tril(np.ones((p, p - 1)), -1) * np.diff(nodes)])
        if keys <= {"monotone", "slope"}:
            lo, hi = s.get("slope", (-np.inf, np.inf))
            lo, hi = (max(lo, 0.0), hi) if sign > 0 else (lo, min(hi, 0.0)) if sign else (lo, hi)
            lb = np.array([-np.inf, *np.full(p - 1, lo)])
            ub = np.array([np.inf, *np.full(p - 1, hi)])
            basis = to_values
        elif keys <= {"monotone", "curvature"}:
            # theta = (v_0, first slope, slope changes)
            bend = 1.0 if s["curvature"] == "convex" else -1.0
            if sign not in (0.0, bend):
                return None  # convex and decreasing bounds the last slope: not a box
            lb = np.array([-np.inf, 0.0 if sign > 0 else -np.inf, *np.full(p - 2, -np.inf)])
            ub = np.array([np.inf, 0.0 if sign < 0 else np.inf, *np.full(p - 2, np.inf)])
            (lb if bend > 0 else ub)[2:] = 0.0
            basis = to_values.copy()
            basis[:, 1:] = to_values[:, 1:] @ np.tril(np.ones((p - 1, p - 1)))
        else:
            return None
        return (basis, lb, ub) if (lb < ub).all() else None

    def matrices(self, t: np.ndarray, y_mean: float):
        """(A_ub, b_ub, A_eq, b_eq) on the node values, scaled units, for knots t (K,)."""
        nodes = _lsq.nodes_of(t[None, :])[0]
        p = nodes.size
        slope = _lsq.slope_matrix(nodes)
        ub, lb_rhs, eq, eq_rhs = [], [], [], []
        s = self.spec
        if "monotone" in s:
            sign = 1.0 if s["monotone"] == "increasing" else -1.0
            ub.append(sign * slope)
            lb_rhs.append(np.zeros(p - 1))
        if "curvature" in s and p > 2:
            sign = 1.0 if s["curvature"] == "convex" else -1.0
            ub.append(sign * np.diff(slope, axis=0))
            lb_rhs.append(np.zeros(p - 2))
        if "slope" in s:
            lo, hi = s["slope"]
            if np.isfinite(lo):
                ub.append(slope)
                lb_rhs.append(np.full(p - 1, lo))
            if np.isfinite(hi):
                ub.append(-slope)
                lb_rhs.append(np.full(p - 1, -hi))
        if "through" in s:
            for u0, y0 in s["through"]:
                eq.append(_hat_row(nodes, u0))
                eq_rhs.append(y0)
        if "A_ub" in s:
            ub.append(np.asarray(s["A_ub"], float).reshape(-1, p))
            lb_rhs.append(np.asarray(s["b_ub"], float).ravel() - y_mean)
        if "A_eq" in s:
            eq.extend(np.asarray(s["A_eq"], float).reshape(-1, p))
            eq_rhs.extend(np.asarray(s["b_eq"], float).ravel() - y_mean)
        a_ub = np.vstack(ub) if ub else np.zeros((0, p))
        b_ub = np.concatenate(lb_rhs) if lb_rhs else np.zeros(0)
        a_eq = np.array(eq).reshape(-1, p)
        return a_ub, b_ub, a_eq, np.array(eq_rhs, float)


def _slope_bounds(bounds: object) -> tuple[float, float]:
    """``constraints['slope']`` as (lo, hi): None is no bound; nan and empty ranges refused."""
    name = "constraints['slope']"
    if (
        isinstance(bounds, (str, bytes))
        or not isinstance(bounds, (tuple, list))
        or len(bounds) != 2
    ):
        raise TypeError(
            f"`{name}` must be a pair (lo, hi), either may be None; got {plain(bounds)!r}"
        )
    lo, hi = (
        default if b is None else as_real_scalar(b, f"{name}[{i}]", finite=False)
        for i, (b, default) in enumerate(zip(bounds, (-np.inf, np.inf), strict=True))
    )
    for i, b in enumerate((lo, hi)):
        if np.isnan(b):
            raise ValueError(f"`{name}[{i}]` must be a number or None; got nan")
    if lo == np.inf or hi == -np.inf or lo > hi:
        raise ValueError(
            f"`{name}` must be (lo, hi) with lo <= hi, lo < inf and hi > -inf; got ({lo}, {hi})"
        )
    return lo, hi


def _hat_row(nodes: np.ndarray, u0: float) -> np.ndarray:
    """Coefficients of the node values giving f(u0), with linear extrapolation."""
    j = int(np.clip(np.searchsorted(nodes, u0, side="right") - 1, 0, nodes.size - 2))
    lam = (u0 - nodes[j]) / (nodes[j + 1] - nodes[j])
    row = np.zeros(nodes.size)
    row[j], row[j + 1] = 1 - lam, lam
    return row


def _solve(d: _lsq.Data, t: np.ndarray, cons: _Constraints | None):
    """Node values for knots t (scaled), exactly; and whether a constraint is active."""
    diag, off, rhs = _lsq.gram_exact(d, t)
    v, ratio = _lsq.solve_tridiagonal(diag, off, rhs)
    if not (ratio[0] > 1e-13) or not np.isfinite(v).all():
        raise ValueError(_rank_message(d, t))
    if cons is None:
        return v[0], False
    vc = cons.solve(diag[0], off[0], rhs[0], t, d.y_mean)
    a_ub, b_ub, a_eq, _ = cons.matrices(t, d.y_mean)
    active = bool(a_eq.shape[0]) or bool(
        a_ub.shape[0] and np.any(np.abs(a_ub @ vc - b_ub) <= 1e-9 * (1 + np.abs(b_ub)))
    )
    return vc, active


def _rank_message(d: _lsq.Data, t: np.ndarray) -> str:
    nodes = _lsq.nodes_of(t[None, :])[0]
    counts = np.diff(np.searchsorted(d.u, nodes, side="left"))
    counts[-1] += int(np.sum(d.u == 1.0))
    x = d.x0 + d.xs * nodes
    empty = [f"({float(x[i])!r}, {float(x[i + 1])!r})" for i in np.nonzero(counts == 0)[0]]
    where = f"; no data between {', '.join(empty)}" if empty else ""
    return (
        "the design is rank deficient: the knots leave too few points to determine the fit"
        f"{where}; move or drop knots"
    )


def _result(d, t, v, active, extrapolate, free, p, evaluations, n=None, ssr_offset=0.0):
    """The PWLFit; ``n`` and ``ssr_offset``: the out-of-core fit's reduced data stand for
    ``n`` points whose SSR exceeds theirs by ``ssr_offset``."""
    nodes = _lsq.nodes_of(t[None, :])[0]
    ssr = float(np.sum(d.w2 * (d.y - np.interp(d.u, nodes, v)) ** 2)) + ssr_offset
    n = d.n if n is None else n
    x_nodes = d.x0 + d.xs * nodes
    values = v + d.y_mean
    slopes = np.diff(values) / np.diff(x_nodes)
    if extrapolate == "constant":
        spline = PiecewiseLinear(x_nodes, values, left_slope=0.0, right_slope=0.0)
    elif t.size:
        spline = PiecewiseLinear(
            x_nodes[1:-1], values[1:-1], left_slope=slopes[0], right_slope=slopes[-1]
        )
    else:
        spline = PiecewiseLinear(
            x_nodes[:1], values[:1], left_slope=slopes[0], right_slope=slopes[0]
        )
    notes = []
    with np.errstate(divide="ignore"):
        base = n * np.log(ssr / n) if ssr > 0 else -np.inf
    if ssr == 0:
        notes.append("ssr is 0 (an exact fit): AIC and BIC are -inf")
    ses = (None, None, None)
    dof = n - (p - 1)
    if active:
        notes.append("standard errors are None: a constraint is active at the optimum")
    elif dof <= 0:
        notes.append("standard errors are None: no residual degrees of freedom (n <= p)")
    elif t.size > _MAX_DENSE_KNOTS:
        notes.append(
            f"standard errors are None: more than {_MAX_DENSE_KNOTS} knots (the covariance "
            "is a dense matrix)"
        )
    else:
        diag, off, _ = _lsq.gram_exact(d, t)
        ses = standard_errors(d, t, v, diag[0], off[0], ssr / dof, free)
        if ses[0] is None:
            notes.append("standard errors are None: a knot is not identified (no slope change)")
    return PWLFit(
        spline=spline,
        knots=x_nodes[1:-1],
        x_range=(float(x_nodes[0]), float(x_nodes[-1])),
        ssr=ssr,
        rmse=float(np.sqrt(ssr / n)),
        n=n,
        n_params=p,
        aic=float(base + 2 * p),
        bic=float(base + p * np.log(n)),
        value_se=ses[0],
        slope_se=ses[1],
        knot_se=ses[2] if free else None,
        free_knots=free,
        n_evaluations=evaluations,
        notes=tuple(notes),
    )
