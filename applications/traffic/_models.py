"""Fundamental diagrams: the triangular and Greenshields models, the triangle fit, the parameters.

Units throughout: density in veh/km, flow in veh/h, speeds in km/h, per lane.
The triangular diagram is Newell's (1993) and Daganzo's (1994); the
parabola is Greenshields' (1935).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import torch

from pwlmodels import PiecewiseLinear, spline_to_relu
from pwlmodels._validate import plain

from .._checks import check_count

__all__ = ["Greenshields", "TriangularFD", "diagram_parameters", "fit_triangular"]

_TUKEY = 4.685  # bisquare tuning constant: 95 % efficiency under Gaussian noise
_MAD = 1.4826  # median absolute deviation -> standard deviation under Gaussian noise


# ------------------------------------------------------------------ validation
def positive(value: object, name: str, unit: str) -> float:
    """A positive finite real number, or a TypeError / ValueError naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number ({unit}); got {type(value).__name__}")
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"`{name}` must be positive and finite ({unit}); got {plain(v)!r}")
    return v


def as_array(x: object, name: str) -> np.ndarray:
    """A float64 array of real numbers (TypeError for strings, complex, booleans, objects)."""
    if isinstance(x, (str, bytes)):
        raise TypeError(f"`{name}` must be an array of real numbers; got a string")
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`{name}` must be an array of real numbers; got {plain(x)!r}") from exc
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"`{name}` must be an array of real numbers; got dtype {arr.dtype}")
    return arr.astype(np.float64)


def densities(x: object, name: str = "density") -> np.ndarray:
    """Finite, non-negative densities (veh/km) as float64, any shape."""
    arr = as_array(x, name)
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.argmax(bad.ravel()))
        raise ValueError(f"`{name}` must be finite (veh/km); got {name}[{i}] = {arr.ravel()[i]}")
    if (arr < 0).any():
        i = int(np.argmax((arr < 0).ravel()))
        raise ValueError(
            f"`{name}` must be non-negative (veh/km); got {name}[{i}] = {arr.ravel()[i]}"
        )
    return arr


# ------------------------------------------------------------------- diagrams
@dataclass(frozen=True)
class TriangularFD:
    """The triangular fundamental diagram q = max(0, min(vf rho, w (rho_jam - rho))).

    Newell (1993) and Daganzo (1994): free flow at speed ``vf`` up to the
    critical density, then a congested branch along which waves travel
    upstream at speed ``w``. It is piecewise linear, so :meth:`to_relu` is
    an exact ReLU network (three hinges at 0, the critical density and the
    jam density).

    Parameters
    ----------
    vf : float, default 100.0
        Free-flow speed, km/h (typical motorway lanes: 80-130).
    w : float, default 20.0
        Backward wave speed, km/h (typically 15-25).
    rho_jam : float, default 120.0
        Jam density, veh/km per lane (typically 110-160).

    Attributes
    ----------
    critical_density : float
        ``w rho_jam / (vf + w)``, veh/km (20 with the defaults).
    capacity : float
        ``vf * critical_density``, veh/h (2000 with the defaults).

    Examples
    --------
    >>> import numpy as np
    >>> from pwlmodels import evaluate
    >>> from applications.traffic import TriangularFD
    >>> fd = TriangularFD()
    >>> fd.critical_density, fd.capacity, fd.max_speed, TriangularFD(vf=40, w=60).max_speed
    (20.0, 2000.0, 100.0, 60.0)
    >>> fd([10.0, 20.0, 70.0, 150.0])
    array([1000., 2000., 1000.,    0.])
    >>> x = np.linspace(-50.0, 200.0, 1001)
    >>> bool(np.allclose(evaluate(fd.to_relu(), x), fd.to_spline()(x), rtol=0, atol=1e-9))
    True
    """

    vf: float = 100.0
    w: float = 20.0
    rho_jam: float = 120.0

    def __post_init__(self) -> None:
        for name, unit in (("vf", "km/h"), ("w", "km/h"), ("rho_jam", "veh/km")):
            object.__setattr__(self, name, positive(getattr(self, name), name, unit))

    @property
    def critical_density(self) -> float:
        return self.w * self.rho_jam / (self.vf + self.w)

    @property
    def capacity(self) -> float:
        return self.vf * self.critical_density

    @property
    def max_speed(self) -> float:
        """The faster wave, ``max(vf, w)`` (km/h): the CFL step is ``dt <= dx / max_speed``
        (as :attr:`~applications.traffic.AdmissibleFlux.max_speed` for any flux)."""
        return max(self.vf, self.w)

    def __call__(self, density: object) -> np.ndarray:
        """Flow (veh/h) at non-negative densities (veh/km), any shape; numpy in, numpy out."""
        rho = densities(density)
        q = np.minimum(self.vf * rho, self.w * (self.rho_jam - rho))
        return np.maximum(q, 0.0)[()]

    def to_spline(self) -> PiecewiseLinear:
        """The diagram as a :class:`~pwlmodels.PiecewiseLinear` (0 outside [0, rho_jam])."""
        knots = [0.0, self.critical_density, self.rho_jam]
        return PiecewiseLinear(knots, [0.0, self.capacity, 0.0], left_slope=0.0, right_slope=0.0)

    def to_relu(
        self, *, dtype: torch.dtype = torch.float64, device: torch.device | str | None = None
    ) -> torch.nn.Sequential:
        """The exact ReLU network of :meth:`to_spline` (``pwlmodels.spline_to_relu``)."""
        return spline_to_relu(self.to_spline(), dtype=dtype, device=device)


@dataclass(frozen=True)
class Greenshields:
    """Greenshields' (1935) parabola q = vmax relu(rho) relu(1 - rho / rho_max).

    Not piecewise linear: :meth:`to_spline` interpolates it on ``knots``
    uniform knots including 0 and ``rho_max`` (constant beyond), whose
    sup error over the whole line is exactly ``capacity / (knots - 1)**2``
    (``|q''| h^2 / 8`` with ``h = rho_max / (knots - 1)``), reached at the
    interval midpoints; :meth:`interpolation_error` returns that value. The
    knot values are computed in exact rational arithmetic and rounded once,
    so the float64 interpolant's sup error differs from it by at most about
    half an ulp of the capacity (1e-12 relative up to K of about 100).

    Parameters
    ----------
    vmax : float, default 100.0
        Free-flow speed at zero density, km/h.
    rho_max : float, default 120.0
        Jam density, veh/km per lane.

    Attributes
    ----------
    critical_density : float
        ``rho_max / 2``, veh/km.
    capacity : float
        ``vmax rho_max / 4``, veh/h.

    Examples
    --------
    >>> import numpy as np
    >>> from applications.traffic import Greenshields
    >>> g = Greenshields()
    >>> g.capacity, g.critical_density
    (3000.0, 60.0)
    >>> s = g.to_spline(knots=9)
    >>> mid = np.linspace(0.0, 120.0, 9)[:-1] + 7.5
    >>> float(np.max(g(mid) - s(mid))), g.interpolation_error(9)
    (46.875, 46.875)
    """

    vmax: float = 100.0
    rho_max: float = 120.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "vmax", positive(self.vmax, "vmax", "km/h"))
        object.__setattr__(self, "rho_max", positive(self.rho_max, "rho_max", "veh/km"))

    @property
    def critical_density(self) -> float:
        return self.rho_max / 2.0

    @property
    def capacity(self) -> float:
        return self.vmax * self.rho_max / 4.0

    def __call__(self, density: object) -> np.ndarray:
        """Flow (veh/h) at non-negative densities (veh/km), any shape; numpy in, numpy out."""
        rho = densities(density)
        return (self.vmax * rho * np.maximum(1.0 - rho / self.rho_max, 0.0))[()]

    def to_spline(self, knots: int = 33) -> PiecewiseLinear:
        """The interpolant on ``knots`` >= 2 uniform knots on [0, rho_max], constant beyond."""
        k = check_count(knots, "knots", 2)  # 0 and rho_max are knots
        t = np.linspace(0.0, self.rho_max, k)
        vmax, rho_max = Fraction(self.vmax), Fraction(self.rho_max)
        exact = [vmax * Fraction(x) * (rho_max - Fraction(x)) / rho_max for x in t]
        values = np.array([float(v) for v in exact])  # correctly rounded
        return PiecewiseLinear.from_points(t, values, extrapolate="constant")

    def to_relu(
        self,
        knots: int = 33,
        *,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str | None = None,
    ) -> torch.nn.Sequential:
        """The exact ReLU network of :meth:`to_spline` (one hinge per knot)."""
        return spline_to_relu(self.to_spline(knots), dtype=dtype, device=device)

    def interpolation_error(self, knots: int = 33) -> float:
        """``capacity / (knots - 1)**2``: the sup error of :meth:`to_spline` (veh/h)."""
        return self.capacity / (check_count(knots, "knots", 2) - 1) ** 2


# ----------------------------------------------------------------- parameters
def flux_spline(flux: object, density_max: float, *, n: int = 4001) -> PiecewiseLinear:
    """Any flux as a PiecewiseLinear: exact for PWL models, else interpolated on ``n`` knots."""
    if isinstance(flux, TriangularFD):
        return flux.to_spline()
    if isinstance(flux, PiecewiseLinear):
        return flux
    if isinstance(flux, Greenshields):
        return flux.to_spline(n)
    if callable(flux):
        return PiecewiseLinear.interpolate(
            lambda r: np.asarray(flux(r), float), 0, density_max, n=n
        )
    raise TypeError(
        "`flux` must be a TriangularFD, a Greenshields, a PiecewiseLinear or a callable "
        f"(veh/km -> veh/h); got {type(flux).__name__}"
    )


def diagram_parameters(
    flux: TriangularFD | Greenshields | PiecewiseLinear | Callable,
    *,
    reference: TriangularFD | None = None,
    density_max: float | None = None,
) -> dict[str, float]:
    """Capacity, critical density, vf, w and jam density of any flux, one definition for all.

    So that smooth fits get the same numbers as piecewise-linear ones:
    critical density = argmax of q on [0, density_max]; capacity = its max;
    vf = least-squares slope through the origin on [0, 0.5 rho_c]; w = minus
    the least-squares slope on [1.5 rho_c, 0.9 rho_jam] (rho_c and rho_jam of
    ``reference``, the truth); jam density = the first zero beyond the
    critical density, NaN when there is none up to ``density_max``.
    PiecewiseLinear fluxes (and the triangle) are used exactly; others are
    interpolated on 4001 uniform knots of [0, density_max].

    Parameters
    ----------
    flux : TriangularFD, Greenshields, PiecewiseLinear or callable
        Density (veh/km) -> flow (veh/h).
    reference : TriangularFD, optional
        The truth that fixes the slope windows; default ``TriangularFD()``.
    density_max : float, optional
        The end of the search interval (veh/km); default 1.5 reference.rho_jam.

    Returns
    -------
    dict
        ``critical_density`` (veh/km), ``capacity`` (veh/h), ``vf`` and ``w``
        (km/h), ``jam_density`` (veh/km, NaN when absent).

    Examples
    --------
    >>> from applications.traffic import Greenshields, TriangularFD, diagram_parameters
    >>> p = diagram_parameters(TriangularFD(90.0, 18.0, 130.0), reference=TriangularFD())
    >>> {k: round(v, 9) for k, v in p.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'critical_density': 21.666666667, 'capacity': 1950.0, 'vf': 90.0, 'w': 18.0,
     'jam_density': 130.0}
    >>> round(diagram_parameters(Greenshields())["capacity"], 3)
    3000.0
    """
    ref = TriangularFD() if reference is None else reference
    if not isinstance(ref, TriangularFD):
        raise TypeError(f"`reference` must be a TriangularFD; got {type(ref).__name__}")
    top = (
        1.5 * ref.rho_jam if density_max is None else positive(density_max, "density_max", "veh/km")
    )
    s = flux_spline(flux, top)
    rho_c, cap = s.argmax(0.0, top), s.max(0.0, top)
    x = np.linspace(0.0, 0.5 * ref.critical_density, 201)
    vf = float(np.dot(x, s(x)) / np.dot(x, x))
    x = np.linspace(1.5 * ref.critical_density, 0.9 * ref.rho_jam, 201)
    w = -float(np.polyfit(x, s(x), 1)[0])
    zeros = s.roots(0.0)
    zeros = zeros[(zeros > rho_c) & (zeros <= top)]
    jam = float(zeros[0]) if zeros.size else math.nan
    return {"critical_density": rho_c, "capacity": cap, "vf": vf, "w": w, "jam_density": jam}


# ------------------------------------------------------------------- the fit
def fit_triangular(
    density: object, flow: object, *, robust: bool = True, scale_floor: float = 0.01
) -> TriangularFD:
    """Least-squares fit of the triangular diagram to (density, flow) observations.

    The model ``q = min(vf rho, w (rho_jam - rho))`` is a two-regime
    regression whose breakpoint is the critical density: for each split of
    the density-sorted data, the free branch is a line through the origin
    and the congested branch a line, both solved in closed form from prefix
    sums (O(n) for all splits); a split counts only if the two lines cross
    between its neighbouring densities. The global least-squares optimum
    is the best such split, so noise-free data give the parameters to
    rounding.

    ``robust=True`` (the field's baseline) then reweights iteratively with
    Tukey's bisquare on residuals scaled by the fitted flow (detector noise
    grows with the flow): cells crossed by a shock, which lie on chords
    below the diagram, stop pulling the fit down. The residual scale is the
    median absolute deviation of each branch's own residuals, never below
    ``scale_floor``: pooled over both branches it collapses on simulator
    data, where most cells lie exactly on the free branch (the median
    absolute deviation is then 0, or rounding once vf is exact, and the
    congested cells all get weight 0: a UXsim run gave w = 7621 km/h).
    ``robust=False`` is plain least squares.

    Parameters
    ----------
    density : array_like, shape (n,)
        Finite, non-negative densities, veh/km (per lane).
    flow : array_like, shape (n,)
        Finite flows, veh/h (per lane).
    robust : bool, default True
    scale_floor : float, default 0.01
        The smallest residual scale of the robust fit, as a fraction of the
        fitted flow: the data's resolution. 1 % is one vehicle in a
        5-minute count at 1200 veh/h; cells further than 4.685 times the
        scale from the fitted branch get weight 0.

    Returns
    -------
    TriangularFD

    Raises
    ------
    ValueError
        When no observation lies on a falling congested branch: ``w`` and
        ``rho_jam`` are then not identifiable.

    Examples
    --------
    >>> import numpy as np
    >>> from applications.traffic import TriangularFD, fit_triangular
    >>> truth = TriangularFD(95.0, 18.0, 140.0)
    >>> rho = np.linspace(0.0, 140.0, 57)
    >>> fit = fit_triangular(rho, truth(rho))
    >>> bool(np.allclose([fit.vf, fit.w, fit.rho_jam], [95.0, 18.0, 140.0], rtol=1e-10))
    True
    """
    rho = densities(density)
    q = as_array(flow, "flow")
    if rho.ndim != 1 or q.shape != rho.shape:
        raise ValueError(
            f"`density` and `flow` must be 1-D of the same length; got shapes {rho.shape} "
            f"and {q.shape}"
        )
    if not np.isfinite(q).all():
        i = int(np.argmax(~np.isfinite(q)))
        raise ValueError(f"`flow` must be finite (veh/h); got flow[{i}] = {q[i]}")
    if rho.size < 4:
        raise ValueError(
            f"`density` needs at least 4 observations for 3 parameters; got {rho.size}"
        )
    if not isinstance(robust, (bool, np.bool_)):
        raise TypeError(f"`robust` must be True or False; got {robust!r}")
    floor = positive(scale_floor, "scale_floor", "(a fraction of the flow)")
    order = np.argsort(rho, kind="stable")
    rho, q = rho[order], q[order]
    params = _two_regime(rho, q, np.ones_like(rho))
    if params is None or not _beats_one_line(rho, q, params):
        raise ValueError(
            "w and rho_jam are not identifiable: no observations lie on a falling congested "
            "branch (flow decreasing with density beyond the critical density); add congested "
            "observations or fix w and rho_jam"
        )
    if robust:
        params = _bisquare(rho, q, params, floor)
    vf, a, m = params
    return TriangularFD(vf, -m, a / -m)


def _model(rho: np.ndarray, params: tuple[float, float, float]) -> np.ndarray:
    vf, a, m = params
    return np.minimum(vf * rho, a + m * rho)


def _two_regime(rho, q, wt) -> tuple[float, float, float] | None:
    """(vf, a, m) minimising sum wt (q - min(vf rho, a + m rho))^2 over vf > 0, m < 0, a > 0.

    ``rho`` sorted. The model is continuous with one knot b = a / (vf - m):
    either b lies strictly between two neighbouring densities (then the two
    branches are separate fits on a split of the data), or b is a density
    (then a fit with that knot fixed); both families are scanned in O(n)
    from prefix sums, and the winner is solved again directly, centred.
    """
    cs = lambda v: np.concatenate([[0.0], np.cumsum(v)])  # noqa: E731
    scale = max(float(rho[-1]), 1e-300)
    x = rho / scale  # unit scale for the sums
    sw, sx, sq = cs(wt), cs(wt * x), cs(wt * q)
    sxx, sxq, sqq = cs(wt * x * x), cs(wt * x * q), cs(wt * q * q)
    n = x.size
    best: tuple[float, str, int] = (np.inf, "", -1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # knot strictly inside a gap: free = [:k], congested = [k:]
        k = np.arange(1, n - 1)
        k = k[x[k - 1] < x[k]]
        vf = sxq[k] / sxx[k]
        w_, x_, q_ = sw[-1] - sw[k], sx[-1] - sx[k], sq[-1] - sq[k]
        xx, xq, qq = sxx[-1] - sxx[k], sxq[-1] - sxq[k], sqq[-1] - sqq[k]
        det = w_ * xx - x_ * x_
        m = (w_ * xq - x_ * q_) / det
        a = (q_ - m * x_) / w_
        ssr = (sqq[k] - vf * sxq[k]) + (qq - a * q_ - m * xq)
        b = a / (vf - m)
        ok = (vf > 0) & (m < 0) & (a > 0) & (det > 0) & (b > x[k - 1]) & (b < x[k])
        if ok.any():
            i = int(np.argmin(np.where(ok, ssr, np.inf)))
            best = (float(ssr[i]), "gap", int(k[i]))
        # knot at a density x[j]: free = [:j+1] (x <= b), congested = [j+1:]
        j = np.arange(1, n - 2)
        j = j[x[j] < x[j + 1]]
        b = x[j]
        cw, cx, cq = sw[-1] - sw[j + 1], sx[-1] - sx[j + 1], sq[-1] - sq[j + 1]
        cxx, cxq = sxx[-1] - sxx[j + 1], sxq[-1] - sxq[j + 1]
        a11 = sxx[j + 1] + b * b * cw
        a12 = b * (cx - b * cw)
        a22 = cxx - 2 * b * cx + b * b * cw
        r1 = sxq[j + 1] + b * cq
        r2 = cxq - b * cq
        det = a11 * a22 - a12 * a12
        s1 = (a22 * r1 - a12 * r2) / det
        s2 = (a11 * r2 - a12 * r1) / det
        ssr = sqq[-1] - s1 * r1 - s2 * r2
        ok = (s1 > 0) & (s2 < 0) & (det > 0)
        if ok.any():
            i = int(np.argmin(np.where(ok, ssr, np.inf)))
            if ssr[i] < best[0]:
                best = (float(ssr[i]), "knot", int(j[i]))
    if best[1] == "":
        return None
    return _solve_split(rho, q, wt, best[1], best[2])


def _solve_split(rho, q, wt, kind: str, i: int) -> tuple[float, float, float] | None:
    """The winner of :func:`_two_regime` solved directly (weighted, centred least squares)."""
    sw = np.sqrt(wt)
    if kind == "gap":
        free, cong = slice(0, i), slice(i, None)
        vf = np.linalg.lstsq((sw * rho)[free, None], (sw * q)[free], rcond=None)[0][0]
        mid = np.average(rho[cong], weights=wt[cong]) if wt[cong].sum() > 0 else 0.0
        basis = np.column_stack([sw[cong], sw[cong] * (rho[cong] - mid)])
        c0, m = np.linalg.lstsq(basis, (sw * q)[cong], rcond=None)[0]
        a = c0 - m * mid
    else:
        b = rho[i]
        basis = np.column_stack([np.minimum(rho, b), np.maximum(rho - b, 0.0)]) * sw[:, None]
        vf, m = np.linalg.lstsq(basis, sw * q, rcond=None)[0]
        a = (vf - m) * b
    if not (vf > 0 and m < 0 and a > 0):
        return None
    return float(vf), float(a), float(m)


def _beats_one_line(rho, q, params) -> bool:
    """BIC of the triangle (3 parameters) below that of one line through the origin (1)."""
    n = rho.size
    line = np.dot(rho, q) / np.dot(rho, rho) if np.dot(rho, rho) > 0 else 0.0
    ssr_line = float(np.sum((q - line * rho) ** 2))
    ssr_tri = float(np.sum((q - _model(rho, params)) ** 2))
    if ssr_line <= 0:  # every point on one line through the origin: no congested branch
        return False
    if ssr_tri <= 0:
        return True
    return n * math.log(ssr_tri / n) + 3 * math.log(n) < n * math.log(ssr_line / n) + math.log(n)


def _bisquare(rho, q, params, floor: float, *, iterations: int = 50):
    """Iteratively reweighted two-regime fit: Tukey's bisquare on flow-scaled residuals,
    each branch with its own scale (median absolute deviation, at least ``floor``)."""
    for _ in range(iterations):
        pred = _model(rho, params)
        scale = np.maximum(pred, 0.05 * np.max(pred))  # multiplicative noise, with a floor
        r = (q - pred) / scale
        vf, a, m = params
        sigma = np.full_like(r, floor)
        for branch in (rho > a / (vf - m), rho <= a / (vf - m)):
            if branch.any():
                rb = r[branch]
                sigma[branch] = max(floor, _MAD * float(np.median(np.abs(rb - np.median(rb)))))
        u = r / (_TUKEY * sigma)
        wt = np.where(np.abs(u) < 1, (1 - u * u) ** 2, 0.0) / scale**2
        new = _two_regime(rho, q, wt)
        if new is None:
            break
        done = np.allclose(new, params, rtol=1e-13, atol=0)
        params = new
        if done:
            break
    return params


def table_row(part, dataset, model, seed, quantity, value, unit, note="") -> dict:
    """One row of the study's tidy table (value as a float)."""
    return {
        "part": part,
        "dataset": dataset,
        "model": model,
        "seed": seed,
        "quantity": quantity,
        "value": float(value),
        "unit": unit,
        "note": note,
    }
