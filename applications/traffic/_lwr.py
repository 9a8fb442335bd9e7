"""Exact LWR solutions for a triangular diagram: a red light in closed form, and Newell's
cumulative-count method for a link with piecewise-constant boundary data.

Lighthill and Whitham (1955) and Richards (1956) give the conservation law;
for a triangular diagram Newell (1993) showed that the cumulative count
N(t, x) (vehicles past x by time t) on a link [0, L] is the smaller of two
terms carried along the two characteristic speeds,

    N(t, x) = min( N(t - x / vf, 0),  N(t - (L - x) / w, L) + rho_jam (L - x) ),

and Daganzo's (2005) variational theory proves it: the cost of a path of
speed u in [-w, vf] is capacity - u rho_c, linear in u, so for boundary
data with flows <= capacity the minimum over each boundary is attained by
the single characteristic. The boundary counts are point queues (min-plus
convolutions) of the piecewise-linear demand and exit-capacity curves, so
every quantity below is exact up to floating-point rounding.

Units: km, h, veh/km, veh/h per lane (``red_s`` and ``clear_s`` in seconds).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from pwlmodels import PiecewiseLinear, minimum
from pwlmodels._validate import plain

from ._models import TriangularFD, as_array, positive

__all__ = ["NewellLink", "RedLightResult", "newell_link", "red_light_exact"]


@dataclass(frozen=True)
class RedLightResult:
    """Queue measures of one red phase: exact (closed form or Newell) or from the CTM.

    Attributes
    ----------
    max_queue_km : float
        The furthest distance upstream of the stop line at which the density
        reaches ``threshold_veh_km`` at any time, km.
    clear_s : float
        From the start of red until departures at the stop line catch up
        with the arrivals (the stop-line flow falls from capacity to the
        arrival flow), s.
    delay_veh_h : float
        Total delay: vehicle-hours spent beyond the free-flow travel time.
    method : {"closed form", "newell", "ctm"}
    dx_m : float
        The CTM's cell length, m (NaN for the exact methods).
    threshold_veh_km : float
        The density above which a point counts as queued, veh/km.
    """

    max_queue_km: float
    clear_s: float
    delay_veh_h: float
    method: str
    dx_m: float
    threshold_veh_km: float

    def to_frame(self) -> pd.DataFrame:
        """One row with every field as a column."""
        return pd.DataFrame([asdict(self)])


def _arrival_flow(fd: object, arrival_flow: object, red_s: object) -> tuple[float, float]:
    """Checked (arrival_flow veh/h, red hours) for a red light on ``fd``."""
    if not isinstance(fd, TriangularFD):
        raise TypeError(f"`fd` must be a TriangularFD; got {type(fd).__name__}")
    q = positive(arrival_flow, "arrival_flow", "veh/h")
    if not q < fd.capacity:
        raise ValueError(
            f"`arrival_flow` must be below the capacity {plain(fd.capacity)!r} veh/h (else the "
            f"queue never clears); got {plain(q)!r}"
        )
    return q, positive(red_s, "red_s", "s") / 3600.0


def red_light_exact(fd: TriangularFD, arrival_flow: float, red_s: float) -> RedLightResult:
    """The exact LWR queue behind one red phase, in closed form, for a triangular diagram.

    Assumptions: a long link in free flow at the arrival flow ``q_a`` (density
    ``rho_a = q_a / vf``) when the red starts at t = 0; red for ``R`` hours
    at the stop line (flow 0), then green with the saturation discharge at
    capacity ``C`` (the stop line passes whatever the queue supplies); ``q_a
    < C``; the link is long enough that the queue never reaches its
    entrance (no spillback); no point queue anywhere: the queue has a
    length, at jam density ``rho_jam``.

    The queue's tail is the shock between the arrival state and jam; by
    Rankine-Hugoniot it moves upstream at ``u = q_a / (rho_jam - rho_a)``.
    At green a wave moves upstream from the stop line at ``-w``, behind
    which the flow is ``C`` at the critical density. It meets the tail at
    ``t_m = w R / (w - u)``, where the queue is longest:
    ``max_queue = u t_m = q_a C R / (rho_jam (C - q_a))`` km. From then on
    the tail is the shock between the arrival and capacity states, both on
    the free branch, so it moves downstream at ``vf``; it reaches the stop
    line when departures (``C`` from green on) catch up with the arrivals
    (``q_a`` from the start of red on): ``t_c = C R / (C - q_a)``. For a
    triangle every vehicle's extra travel time is its wait in the
    cumulative-count (input-output) diagram, so the total delay is the
    triangle between the two curves: ``q_a C R^2 / (2 (C - q_a))`` veh h.

    Parameters
    ----------
    fd : TriangularFD
    arrival_flow : float
        ``q_a``, veh/h, in (0, capacity).
    red_s : float
        The red phase ``R``, s, positive.

    Returns
    -------
    RedLightResult
        ``method="closed form"``; the threshold is the study's, midway
        between the critical and jam densities (any value in (rho_c,
        rho_jam] gives the same exact queue).

    Examples
    --------
    The traffic study's red light: 1200 veh/h against 2000 veh/h capacity, 3 min of red.

    >>> from applications.traffic import TriangularFD, red_light_exact
    >>> r = red_light_exact(TriangularFD(), 1200.0, 180.0)
    >>> round(r.max_queue_km, 12), round(r.clear_s, 9), round(r.delay_veh_h, 12)
    (1.25, 450.0, 3.75)
    """
    q, red = _arrival_flow(fd, arrival_flow, red_s)
    cap, jam = fd.capacity, fd.rho_jam
    return RedLightResult(
        max_queue_km=q * cap * red / (jam * (cap - q)),
        clear_s=3600.0 * cap * red / (cap - q),
        delay_veh_h=q * cap * red * red / (2.0 * (cap - q)),
        method="closed form",
        dx_m=math.nan,
        threshold_veh_km=(fd.critical_density + jam) / 2.0,
    )


# ------------------------------------------------------------ piecewise-linear curves
def _shift(f: PiecewiseLinear, dt: float, dv: float = 0.0) -> PiecewiseLinear:
    """t -> f(t - dt) + dv."""
    return PiecewiseLinear(
        f.knots + dt, f.values + dv, left_slope=f.left_slope, right_slope=f.right_slope
    )


def _line(slope: float) -> PiecewiseLinear:
    return PiecewiseLinear([0.0], [0.0], left_slope=slope, right_slope=slope)


def _running_min(g: PiecewiseLinear) -> PiecewiseLinear:
    """t -> min of g over (-inf, t], for g non-decreasing as t -> -inf (left slope <= 0)."""
    t, v = g.knots, g.values
    kt, kv, m = [t[0]], [v[0]], v[0]
    for a, b, va, vb in zip(t[:-1], t[1:], v[:-1], v[1:], strict=True):
        if vb < m:
            if va > m:  # g falls through the running minimum inside the segment
                c = a + (va - m) / (va - vb) * (b - a)
                if kt[-1] < c < b:
                    kt.append(c)
                    kv.append(m)
            m = vb
        kt.append(b)
        kv.append(m)
    right = 0.0
    if g.right_slope < 0:
        right = g.right_slope
        if v[-1] > m:  # falls through m beyond the last knot
            kt.append(t[-1] + (v[-1] - m) / -g.right_slope)
            kv.append(m)
    return PiecewiseLinear(kt, kv, left_slope=g.left_slope, right_slope=right)


def _point_queue(arrivals: PiecewiseLinear, capacity: PiecewiseLinear) -> PiecewiseLinear:
    """Departures of a point queue: min over s <= t of A(s) + C(t) - C(s) (min-plus)."""
    return capacity + _running_min(arrivals - capacity)


def _steps(value: object, name: str, *, low_first: float, top: float) -> list[tuple[float, float]]:
    """A piecewise-constant rate as [(start_h, veh/h), ...] starting at 0, starts increasing."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        value = [(0.0, value)]
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
        raise TypeError(
            f"`{name}` must be a number or a non-empty sequence of (start_h, veh/h); "
            f"got {plain(value)!r}"
        )
    arr = as_array(value, name)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"`{name}` must be pairs (start_h, veh/h); got shape {arr.shape}")
    start, rate = arr[:, 0], arr[:, 1]
    if start[0] != 0.0 or not (np.diff(start) > 0).all() or not np.isfinite(start).all():
        raise ValueError(
            f"`{name}` must start at 0 h with finite, increasing starts; got {start.tolist()}"
        )
    finite = np.isfinite(rate).all() or top < np.inf
    if np.isnan(rate).any() or (rate < 0).any() or not finite or rate[0] > low_first:
        raise ValueError(
            f"`{name}` rates must be non-negative (veh/h){'' if top < np.inf else ' and finite'}"
            f", the first at most {plain(low_first)!r}; got {rate.tolist()}"
        )
    return list(zip(start.tolist(), np.minimum(rate, top).tolist(), strict=True))


def _cumulative(steps: list[tuple[float, float]], before: float) -> PiecewiseLinear:
    """The integral from 0 of a step function (rate ``before`` for t < 0)."""
    start = np.array([s for s, _ in steps])
    rate = np.array([r for _, r in steps])
    values = np.concatenate([[0.0], np.cumsum(rate[:-1] * np.diff(start))])
    if start.size == 1:
        return PiecewiseLinear([0.0], [0.0], left_slope=before, right_slope=float(rate[0]))
    return PiecewiseLinear(start, values, left_slope=before, right_slope=float(rate[-1]))


# ------------------------------------------------------------------- Newell's method
@dataclass(frozen=True, eq=False)
class NewellLink:
    """The exact solution on a link, from :func:`newell_link`.

    Time t in h (0 when the data start), position x in km from the
    entrance (0) to the exit (``length_km``).

    Attributes
    ----------
    fd : TriangularFD
    length_km : float
    demand : PiecewiseLinear
        Cumulative demand at the entrance (veh) against t.
    entry : PiecewiseLinear
        N(t, 0): vehicles that entered (demand through a point queue at
        capacity, then held back when the queue fills the link).
    departures : PiecewiseLinear
        N(t, L): vehicles that left (a point queue at the exit capacity).

    Examples
    --------
    Counts fall along the link by the density and grow in time by the flow:

    >>> import numpy as np
    >>> from applications.traffic import TriangularFD, newell_link
    >>> link = newell_link(TriangularFD(), 2.0, inflow=[(0.0, 1000.0), (0.1, 1800.0)])
    >>> t, x, h = 0.05, 1.0, 1e-6
    >>> n = link.count(t, x)
    >>> round(float(n - link.count(t, x + h)) / h, 4), float(link.density(t, x))
    (10.0, 10.0)
    >>> round(float(link.count(t + h, x) - n) / h, 4), float(link.flow(t, x))
    (1000.0, 1000.0)
    >>> bool(np.isclose(link.count(t, 0.0) - link.count(t, 2.0), 10.0 * 2.0))  # on the link
    True
    """

    fd: TriangularFD
    length_km: float
    demand: PiecewiseLinear
    entry: PiecewiseLinear
    departures: PiecewiseLinear

    def _terms(self, t: object, x: object):
        t, x = np.broadcast_arrays(as_array(t, "t"), as_array(x, "x"))
        if not np.isfinite(t).all():
            raise ValueError("`t` must be finite (h)")
        bad = ~((x >= 0) & (x <= self.length_km))
        if bad.any():
            v = x.ravel()[int(np.argmax(bad.ravel()))]
            raise ValueError(f"`x` must lie in [0, length_km = {self.length_km}] km; got {v}")
        fd, y = self.fd, self.length_km - x
        t_up, t_down = t - x / fd.vf, t - y / fd.w
        up = self.entry(t_up)
        down = self.departures(t_down) + fd.rho_jam * y
        return up, down, t_up, t_down

    def count(self, t: object, x: object) -> np.ndarray:
        """N(t, x), veh (0 at the entrance at t = 0), broadcast over ``t`` and ``x``."""
        up, down, _, _ = self._terms(t, x)
        return np.minimum(up, down)[()]

    def flow(self, t: object, x: object) -> np.ndarray:
        """The flow just after t (veh/h): the slope of the active term."""
        up, down, t_up, t_down = self._terms(t, x)
        q_up = self.entry.slope(t_up, side="right")
        q_down = self.departures.slope(t_down, side="right")
        return np.where(up < down, q_up, q_down)[()]

    def density(self, t: object, x: object) -> np.ndarray:
        """The density just after t (veh/km): q / vf upstream, rho_jam - q / w downstream."""
        up, down, t_up, t_down = self._terms(t, x)
        fd = self.fd
        rho_up = self.entry.slope(t_up, side="right") / fd.vf
        rho_down = fd.rho_jam - self.departures.slope(t_down, side="right") / fd.w
        return np.where(up < down, rho_up, rho_down)[()]

    def queue_length(self, t: object, x: object, *, threshold: float | None = None) -> np.ndarray:
        """Distance (km) from the exit to the furthest point of the grid ``x`` queued at each t.

        ``t`` shape (R,) in h, ``x`` shape (M,) in km; a point is queued when
        its density reaches ``threshold`` (veh/km; default as in
        :meth:`max_queue`). Returns shape (R,), 0 where nothing is queued.
        """
        thr = self._threshold(threshold)
        t, x = as_array(t, "t"), as_array(x, "x")
        if t.ndim != 1 or x.ndim != 1:
            raise ValueError(f"`t` and `x` must be 1-D; got shapes {t.shape} and {x.shape}")
        queued = self.density(t[:, None], x[None, :]) >= thr
        far = np.where(queued, self.length_km - x[None, :], 0.0)
        return far.max(axis=1, initial=0.0)

    def _threshold(self, threshold: object) -> float:
        fd = self.fd
        thr = (fd.critical_density + fd.rho_jam) / 2 if threshold is None else threshold
        thr = positive(thr, "threshold", "veh/km")
        if not fd.critical_density < thr <= fd.rho_jam:
            raise ValueError(
                f"`threshold` must lie in (critical density, jam density] = "
                f"({fd.critical_density}, {fd.rho_jam}] veh/km; got {plain(thr)!r}"
            )
        return thr

    def _queue(self) -> PiecewiseLinear:
        """Vertical queue at the exit: demand shifted by the free-flow time, minus departures."""
        return _shift(self.demand, self.length_km / self.fd.vf) - self.departures

    def clear_time(self) -> float:
        """The end of the last period with vehicles delayed at the exit, h (inf: never)."""
        q = self._queue()
        tol = 1e-10 * max(1.0, float(np.max(np.abs(self.departures.values))))
        flat = 1e-12 * self.fd.capacity  # slopes are sums of rates: rounding, not growth
        if q.right_slope > flat or (q.right_slope >= -flat and q.values[-1] > tol):
            return math.inf
        busy = np.nonzero(q.values > tol)[0]
        if busy.size == 0:
            return 0.0
        i = int(busy[-1])
        t, v = q.knots, q.values
        if i == t.size - 1:
            return float(t[i] + v[i] / -q.right_slope)
        return float(t[i] + v[i] / (v[i] - v[i + 1]) * (t[i + 1] - t[i]))

    def total_delay(self) -> float:
        """Vehicle-hours spent beyond the free-flow travel time, entrance queue included."""
        end = self.clear_time()
        if end == math.inf:
            return math.inf
        q = self._queue()
        return float(q.integrate(min(float(q.knots[0]), end), end))

    def max_queue(self, threshold: float | None = None) -> float:
        """The furthest distance upstream of the exit (km) where the density reaches ``threshold``.

        Exact: a characteristic leaves the exit at time s with the density
        ``rho_jam - D'(s) / w`` and survives (stays below the upstream term)
        for ``h*(s) C / rho_jam`` km, where ``s + h*(s)`` is the last time
        the shifted arrivals ``A_L`` satisfy ``A_L(s + h) - C (s + h) >=
        D(s) - C s``; the maximum over queued s is attained at the
        departures' knots or where ``s + h*`` meets a knot of ``A_L``.
        ``threshold`` (veh/km) defaults to midway between the critical and
        jam densities; capped at ``length_km`` (spillback).
        """
        fd, thr = self.fd, self._threshold(threshold)
        cap, d = fd.capacity, self.departures
        q_thr = fd.w * (fd.rho_jam - thr)  # departure flows at most this make a queued state
        g = _shift(self.entry, self.length_km / fd.vf) - _line(cap)
        gt, gv = g.knots, np.minimum.accumulate(g.values)  # non-increasing up to rounding
        k = d - _line(cap)
        edges = np.concatenate([[-np.inf], d.knots, [np.inf]])
        best = 0.0
        for j, c in enumerate(d.slopes):
            a, b = edges[j], edges[j + 1]
            if c > q_thr * (1 + 1e-12):
                continue
            if not math.isfinite(b) and self.clear_time() == math.inf:
                return self.length_km  # a queued state that grows for ever
            a = a if math.isfinite(a) else float(d.knots[0]) - 1.0
            b = b if math.isfinite(b) else float(max(d.knots[-1], gt[-1])) + 1.0
            s = [a, b]
            if c < cap:  # where k(s) reaches the level of a knot of g
                s += [x for x in a + (gv - float(k(a))) / (c - cap) if a < x < b]
            s = np.array(s)
            tau = _last_at_least(gt, gv, g.left_slope, g.right_slope, k(s))
            best = max(best, float(np.max(tau - s)) * cap / fd.rho_jam)
        return min(best, self.length_km)


def _last_at_least(t, v, left, right, level) -> np.ndarray:
    """sup{tau : g(tau) >= level} for the non-increasing PWL g of knots (t, v)."""
    level = np.asarray(level, float)
    i = np.searchsorted(-v, -level, side="right") - 1  # last knot with v >= level
    out = np.empty_like(level)
    first = i < 0
    out[first] = t[0] - (level[first] - v[0]) / -left if left < 0 else -np.inf
    last = i == t.size - 1
    out[last] = np.inf if right == 0 else t[-1] + (v[-1] - level[last]) / -right
    mid = ~first & ~last
    j = i[mid]
    drop = v[j] - v[j + 1]
    out[mid] = t[j] + (v[j] - level[mid]) / np.where(drop > 0, drop, 1) * (t[j + 1] - t[j])
    return out


def newell_link(
    fd: TriangularFD,
    length_km: float,
    *,
    inflow: float | Sequence[tuple[float, float]],
    exit_capacity: float | Sequence[tuple[float, float]] | None = None,
) -> NewellLink:
    """Solve the LWR model on one link exactly by Newell's cumulative-count method.

    The link starts (t = 0) in the free-flow steady state of the first
    inflow (as if that had held since t = -inf, with a free exit).
    Entrance: the demand passes a point queue of capacity C and then is
    held back while the queue fills the link (``N(t, 0) <= N(t - L / w, L) +
    rho_jam L``), so demand above capacity waits outside. Exit: departures
    are the point queue of the free-flow arrivals ``N(t - L / vf, 0)`` at
    the exit capacity (a red signal is a capacity of 0). Then
    ``N(t, x) = min(N(t - x / vf, 0), N(t - (L - x) / w, L) + rho_jam (L - x))``
    (Newell 1993; Daganzo 2005), exact for piecewise-constant data.

    Parameters
    ----------
    fd : TriangularFD
    length_km : float
        ``L``, km, positive.
    inflow : float or sequence of (float, float)
        Demand at the entrance, veh/h: a constant, or ``(start_h, rate)``
        steps, the first starting at 0 h with a rate at most capacity,
        starts increasing; each rate holds until the next start.
    exit_capacity : float or sequence of (float, float), optional
        The exit's capacity (veh/h) in the same form; rates above capacity
        act as capacity. Default: capacity throughout (a free exit).

    Returns
    -------
    NewellLink

    Examples
    --------
    A red light of 3 minutes at the end of a 3 km link with 1200 veh/h arriving:

    >>> from applications.traffic import TriangularFD, newell_link
    >>> fd = TriangularFD()
    >>> link = newell_link(fd, 3.0, inflow=1200.0,
    ...                    exit_capacity=[(0.0, 0.0), (0.05, fd.capacity)])
    >>> round(link.max_queue(), 12), round(link.clear_time() * 3600, 9)
    (1.25, 450.0)
    >>> round(link.total_delay(), 12)
    3.75
    >>> link.density(0.04, [1.0, 2.9]).tolist()  # free flow, then jam
    [12.0, 120.0]
    """
    if not isinstance(fd, TriangularFD):
        raise TypeError(f"`fd` must be a TriangularFD; got {type(fd).__name__}")
    length = positive(length_km, "length_km", "km")
    cap = fd.capacity
    demand_steps = _steps(inflow, "inflow", low_first=cap, top=np.inf)
    exit_steps = _steps(
        cap if exit_capacity is None else exit_capacity, "exit_capacity", low_first=np.inf, top=cap
    )
    demand = _cumulative(demand_steps, demand_steps[0][1])
    admitted = _point_queue(demand, _line(cap))
    departures = _point_queue(_shift(admitted, length / fd.vf), _cumulative(exit_steps, cap))
    spill = _shift(departures, length / fd.w, fd.rho_jam * length)
    entry = minimum(admitted, spill)
    return NewellLink(fd, length, demand, entry, departures)
