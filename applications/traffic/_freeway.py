"""A freeway corridor: the cell transmission model with on-ramps, an off-ramp, a lane drop
and ALINEA ramp metering.

The mainline is a row of cells (Godunov's scheme in Lebacque's demand-supply
form, as in :func:`simulate_ctm`, with the triangular diagram per lane).
Each on-ramp is a point queue fed by its own demand and joined to the
mainline by Daganzo's (1995) merge with capacity-proportional priorities;
the off-ramp leaves through his first-in-first-out diverge, so a queue
that reaches it also holds the exiting vehicles (and a congested mainline
holds the ramps: spillback through the nodes). A lane drop is an
interface between cells of different lane counts. ALINEA (Papageorgiou,
Hadj-Salem and Blosseville 1991) meters one ramp:
``r(k) = r(k-1) + K_R (o_target - o_out(k-1))``.

Units: km, h, veh/h, veh/km (summed over a cell's lanes), occupancy in %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pwlmodels._validate import plain

from .._checks import check_count
from ._models import TriangularFD, as_array, positive
from ._nodes import diverge_flows, merge_flows

__all__ = ["Alinea", "Corridor", "FreewayResult", "simulate_freeway"]


def _count(value: object, name: str) -> int:
    return check_count(value, name, 1)


@dataclass(frozen=True)
class Corridor:
    """The geometry of a freeway corridor (positions in km, snapped to the cell edges).

    Parameters
    ----------
    length : float, default 10.0
        Mainline length, km.
    dx : float, default 0.1
        Cell length, km (``length / dx`` must be a whole number).
    lanes : int, default 3
        Lanes upstream of the lane drop.
    lane_drop : float or None, default 8.5
        Where ``lanes`` fall to ``lanes_after_drop`` (km); None: no drop.
    lanes_after_drop : int, default 2
    on_ramps : tuple of float, default (2.0, 7.5)
        Merge positions, km, in increasing order.
    off_ramp : float or None, default 5.0
        Diverge position, km; None: no off-ramp.
    ramp_capacity : float, default 2000.0
        Capacity of each on-ramp, veh/h (also its priority weight at the merge, against
        the mainline's lanes x capacity).
    off_ramp_capacity : float, default 2000.0
        Supply of the off-ramp, veh/h.
    fd : TriangularFD, default TriangularFD()
        The diagram of every mainline lane.

    Examples
    --------
    >>> from applications.traffic import Corridor
    >>> c = Corridor()
    >>> c.n_cells, c.ramp_interfaces, c.off_ramp_interface, c.lanes_per_cell[[84, 85]]
    (100, (20, 75), 50, array([3., 2.]))
    """

    length: float = 10.0
    dx: float = 0.1
    lanes: int = 3
    lane_drop: float | None = 8.5
    lanes_after_drop: int = 2
    on_ramps: tuple[float, ...] = (2.0, 7.5)
    off_ramp: float | None = 5.0
    ramp_capacity: float = 2000.0
    off_ramp_capacity: float = 2000.0
    fd: TriangularFD = field(default_factory=TriangularFD)

    def __post_init__(self) -> None:
        positive(self.length, "length", "km")
        positive(self.dx, "dx", "km")
        cells = self.length / self.dx
        if abs(cells - round(cells)) > 1e-9 * cells or round(cells) < 2:
            raise ValueError(
                f"`length / dx` must be a whole number >= 2; got {plain(self.length)!r} / "
                f"{plain(self.dx)!r}"
            )
        _count(self.lanes, "lanes")
        _count(self.lanes_after_drop, "lanes_after_drop")
        positive(self.ramp_capacity, "ramp_capacity", "veh/h")
        positive(self.off_ramp_capacity, "off_ramp_capacity", "veh/h")
        if not isinstance(self.fd, TriangularFD):
            raise TypeError(f"`fd` must be a TriangularFD; got {type(self.fd).__name__}")
        if isinstance(self.on_ramps, (str, bytes)) or not isinstance(self.on_ramps, tuple):
            raise TypeError(f"`on_ramps` must be a tuple of km; got {plain(self.on_ramps)!r}")
        ramps = [self._interface(x, f"on_ramps[{i}]") for i, x in enumerate(self.on_ramps)]
        if ramps != sorted(set(ramps)):
            raise ValueError(f"`on_ramps` must be increasing cell edges; got {self.on_ramps!r}")
        if self.off_ramp is not None:
            off = self._interface(self.off_ramp, "off_ramp")
            if off in ramps:
                raise ValueError(f"`off_ramp` must not sit on an on-ramp; got {self.off_ramp!r}")
        if self.lane_drop is not None:
            self._interface(self.lane_drop, "lane_drop")

    def _interface(self, x: object, name: str) -> int:
        pos = positive(x, name, "km")
        j = round(pos / self.dx)
        if not 1 <= j <= self.n_cells - 1:
            raise ValueError(
                f"`{name}` must lie inside the mainline (0, {plain(self.length)!r}) km "
                f"at a cell edge; got {plain(pos)!r}"
            )
        return j

    @property
    def n_cells(self) -> int:
        return round(self.length / self.dx)

    @property
    def ramp_interfaces(self) -> tuple[int, ...]:
        """The interface (cell edge) of each merge: the ramp joins cell ``j``."""
        return tuple(round(x / self.dx) for x in self.on_ramps)

    @property
    def off_ramp_interface(self) -> int | None:
        """The diverge's interface: vehicles leave from cell ``j - 1``."""
        return None if self.off_ramp is None else round(self.off_ramp / self.dx)

    @property
    def lanes_per_cell(self) -> np.ndarray:
        lanes = np.full(self.n_cells, float(self.lanes))
        if self.lane_drop is not None:
            lanes[round(self.lane_drop / self.dx) :] = self.lanes_after_drop
        return lanes


@dataclass(frozen=True)
class Alinea:
    """ALINEA (Papageorgiou et al. 1991) on one on-ramp.

    Every ``period`` the rate becomes ``r + gain (target - o)``, with ``o`` the mean
    occupancy (%) of the measured cell over the period, clipped to
    ``[min_rate, max(min_rate, min(ramp capacity, arrivals + queue / period))]`` (the
    upper bound is what the ramp could send: no wind-up while it has less).
    Occupancy is ``100 x density per lane x effective_length``.

    Parameters
    ----------
    ramp : int, default 1
        Which on-ramp (index into ``Corridor.on_ramps``).
    gain : float, default 70.0
        ``K_R``, veh/h per % occupancy (Papageorgiou et al.'s value).
    target : float, optional
        % occupancy; default the critical occupancy ``100 rho_c effective_length``.
    period : float, default 1 / 60
        Control period, h (60 s).
    min_rate : float, default 200.0
        veh/h.
    measure_at : float, optional
        Position (km) of the measured cell; default the cell just downstream of the merge.
    effective_length : float, optional
        Vehicle plus detector length, km; default ``1 / rho_jam`` (100 % at jam).

    Examples
    --------
    >>> from applications.traffic import Alinea, Corridor
    >>> a = Alinea()
    >>> round(a.target_occupancy(Corridor().fd), 3)  # 100 x 20 / 120
    16.667
    """

    ramp: int = 1
    gain: float = 70.0
    target: float | None = None
    period: float = 1.0 / 60.0
    min_rate: float = 200.0
    measure_at: float | None = None
    effective_length: float | None = None

    def __post_init__(self) -> None:
        check_count(self.ramp, "ramp", 0)
        positive(self.gain, "gain", "veh/h per %")
        positive(self.period, "period", "h")
        positive(self.min_rate, "min_rate", "veh/h")
        if self.target is not None:
            positive(self.target, "target", "%")
        if self.measure_at is not None:
            positive(self.measure_at, "measure_at", "km")
        if self.effective_length is not None:
            positive(self.effective_length, "effective_length", "km")

    def length_km(self, fd: TriangularFD) -> float:
        return 1.0 / fd.rho_jam if self.effective_length is None else self.effective_length

    def target_occupancy(self, fd: TriangularFD) -> float:
        """The target, % (the critical occupancy unless set)."""
        crit = 100.0 * fd.critical_density * self.length_km(fd)
        return crit if self.target is None else float(self.target)


@dataclass(frozen=True)
class FreewayResult:
    """The output of :func:`simulate_freeway` (R recorded times, n cells, k on-ramps).

    Attributes
    ----------
    time : ndarray, shape (R,)
        h.
    edges : ndarray, shape (n + 1,)
        Cell edges, km.
    lanes : ndarray, shape (n,)
    density : ndarray, shape (R, n)
        veh/km summed over the lanes.
    entry_queue : ndarray, shape (R,)
        Vehicles waiting at the upstream end of the mainline.
    ramp_queues : ndarray, shape (R, k)
        Vehicles waiting on each on-ramp.
    metering_rate : ndarray, shape (R,)
        ALINEA's rate, veh/h (NaN without metering).
    arrived, exited, off_ramp_exits : ndarray, shape (R,)
        Cumulative vehicles: arrived (mainline and ramps), left (downstream end and
        off-ramp), of which through the off-ramp.
    queue_length : ndarray, shape (R,)
        Mainline length (km) whose density per lane exceeds the critical density.
    total_travel_time, total_delay : float
        veh h on the road and in the queues over the run; delay is that minus the
        free-flow time of the distance driven (vehicle-km / vf).
    dx, dt, critical_density : float
    on_ramps : tuple of float
    off_ramp, lane_drop : float or None
    """

    time: np.ndarray
    edges: np.ndarray
    lanes: np.ndarray
    density: np.ndarray
    entry_queue: np.ndarray
    ramp_queues: np.ndarray
    metering_rate: np.ndarray
    arrived: np.ndarray
    exited: np.ndarray
    off_ramp_exits: np.ndarray
    queue_length: np.ndarray
    total_travel_time: float
    total_delay: float
    dx: float
    dt: float
    critical_density: float
    on_ramps: tuple[float, ...]
    off_ramp: float | None
    lane_drop: float | None

    def stored(self) -> np.ndarray:
        """Vehicles on the mainline and in every queue, shape (R,)."""
        return self.density.sum(axis=1) * self.dx + self.entry_queue + self.ramp_queues.sum(1)

    def to_frame(self) -> pd.DataFrame:
        """One row: total travel time and delay (veh h), the longest queues."""
        row = {
            "total_travel_time_veh_h": self.total_travel_time,
            "total_delay_veh_h": self.total_delay,
            "max_mainline_queue_km": float(self.queue_length.max()),
            "max_entry_queue_veh": float(self.entry_queue.max()),
        }
        for i in range(self.ramp_queues.shape[1]):
            row[f"max_ramp{i + 1}_queue_veh"] = float(self.ramp_queues[:, i].max())
        row["off_ramp_exits_veh"] = float(self.off_ramp_exits[-1])
        return pd.DataFrame([row])


def _profile(value: object, name: str, steps: int) -> np.ndarray:
    arr = as_array(value, name)
    if arr.ndim == 0:
        arr = np.full(steps, float(arr))
    if arr.shape != (steps,):
        raise ValueError(f"`{name}` must be a scalar or have shape ({steps},); got {arr.shape}")
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"`{name}` must be finite and non-negative; got {name}[{i}] = {arr[i]}")
    return arr


def _ramp_profiles(value: object, k: int, steps: int) -> np.ndarray:
    if isinstance(value, (str, bytes)):
        raise TypeError("`ramp_demands` must be a sequence of demand profiles; got a string")
    try:
        items = list(value)
    except TypeError:
        raise TypeError(
            f"`ramp_demands` must be a sequence of {k} demand profiles; got {plain(value)!r}"
        ) from None
    if len(items) != k:
        raise ValueError(
            f"`ramp_demands` must hold {k} profiles (one per on-ramp); got {len(items)}"
        )
    out = np.zeros((k, steps))
    for i, item in enumerate(items):
        out[i] = _profile(item, f"ramp_demands[{i}]", steps)
    return out


def simulate_freeway(
    corridor: Corridor,
    *,
    steps: int,
    mainline_demand: object,
    ramp_demands: object,
    exit_fraction: object = 0.0,
    dt: float | None = None,
    alinea: Alinea | None = None,
    record_every: int = 1,
) -> FreewayResult:
    """Run the cell transmission model on a corridor with ramps, a lane drop and ALINEA.

    Each step: demands ``D = n min(vf rho / n, C)`` and supplies ``S = n min(C, w
    (rho_jam - rho / n))`` of every cell (``n`` lanes); a plain interface passes
    ``min(D_up, S_down)`` (a lane drop included); a merge passes
    :func:`merge_flows` of the mainline demand and the ramp's ``min(arrivals + queue /
    dt, ramp capacity, metering rate)`` into the supply, with priorities ``n_up C`` and
    the ramp capacity; the diverge passes :func:`diverge_flows` of the upstream demand
    with fractions ``(1 - beta, beta)`` into the downstream supply and the off-ramp's.
    The mainline entrance takes ``min(demand + queue / dt, S_0)`` (a point queue), the
    exit is free. Densities change by ``dt / dx (in - out)``, so arrivals = stored +
    exited to rounding at every step.

    Parameters
    ----------
    corridor : Corridor
    steps : int
        Time steps, >= 1.
    mainline_demand : float or array_like, shape (steps,)
        veh/h at the upstream end, per step.
    ramp_demands : sequence of float or array_like, one per on-ramp
        veh/h, each a scalar or shape (steps,).
    exit_fraction : float or array_like, shape (steps,), default 0.0
        Share ``beta`` of the mainline demand at the diverge that takes the off-ramp.
    dt : float, optional
        h; default the CFL limit ``dx / max(vf, w)`` (exact free flow when
        ``vf >= w``), at most that.
    alinea : Alinea, optional
        Meter one on-ramp.
    record_every : int, default 1
        Record every this many steps (and the last).

    Returns
    -------
    FreewayResult

    Examples
    --------
    Light traffic flows freely: no delay, no queue, and vehicles are conserved:

    >>> import numpy as np
    >>> from applications.traffic import Corridor, simulate_freeway
    >>> r = simulate_freeway(Corridor(), steps=500, mainline_demand=2000.0,
    ...                      ramp_demands=[300.0, 300.0], exit_fraction=0.1)
    >>> bool(abs(r.total_delay) < 1e-9), float(r.queue_length.max())
    (True, 0.0)
    >>> bool(np.allclose(r.arrived, r.stored() + r.exited, rtol=0, atol=1e-9))
    True
    """
    if not isinstance(corridor, Corridor):
        raise TypeError(f"`corridor` must be a Corridor; got {type(corridor).__name__}")
    steps = _count(steps, "steps")
    every = _count(record_every, "record_every")
    fd = corridor.fd
    limit = corridor.dx / fd.max_speed  # the faster wave sets the CFL step
    dt = limit if dt is None else positive(dt, "dt", "h")
    if dt > limit * (1 + 1e-12):
        raise ValueError(
            f"`dt` must satisfy the CFL condition dt <= dx / max(vf, w) = {plain(limit)!r} h; "
            f"got {plain(dt)!r}"
        )
    main = _profile(mainline_demand, "mainline_demand", steps)
    k = len(corridor.on_ramps)
    ramps = _ramp_profiles(ramp_demands, k, steps)
    beta = _profile(exit_fraction, "exit_fraction", steps)
    if (beta > 1).any():
        i = int(np.argmax(beta > 1))
        raise ValueError(f"`exit_fraction` must lie in [0, 1]; got exit_fraction[{i}] = {beta[i]}")
    if beta.any() and corridor.off_ramp is None:
        raise ValueError("`exit_fraction` must be 0 on a corridor without an off-ramp")
    if alinea is not None:
        if not isinstance(alinea, Alinea):
            raise TypeError(f"`alinea` must be an Alinea or None; got {type(alinea).__name__}")
        if alinea.ramp >= k:
            raise ValueError(
                f"`alinea.ramp` must be an on-ramp index 0..{k - 1}; got {alinea.ramp}"
            )
        if alinea.measure_at is not None:
            corridor._interface(alinea.measure_at, "alinea.measure_at")
    return _run(corridor, steps, every, dt, main, ramps, beta, alinea)


class _Meter:
    """ALINEA's state: the rate (veh/h; NaN and ``ramp`` None without metering)."""

    def __init__(self, alinea: Alinea | None, corridor: Corridor, dt: float) -> None:
        self.alinea, self.ramp, self.rate = alinea, None, math.nan
        if alinea is None:
            return
        fd = corridor.fd
        self.ramp, self.rate, self.capacity = (
            alinea.ramp,
            corridor.ramp_capacity,
            corridor.ramp_capacity,
        )
        if alinea.measure_at is None:  # the cell just downstream of the merge
            self.cell = corridor.ramp_interfaces[alinea.ramp]
        else:
            self.cell = min(int(alinea.measure_at / corridor.dx), corridor.n_cells - 1)
        self.lanes = float(corridor.lanes_per_cell[self.cell])
        self.steps = max(1, round(alinea.period / dt))
        self.period = self.steps * dt
        self.percent = 100.0 * alinea.length_km(fd)  # % occupancy per veh/km per lane
        self.target = alinea.target_occupancy(fd)
        self.total, self.count = 0.0, 0

    def observe(self, rho: np.ndarray, queues: np.ndarray, arrivals: np.ndarray) -> None:
        """Accumulate the occupancy after a step; at a period's end, the ALINEA update."""
        if self.ramp is None:
            return
        self.total += self.percent * rho[self.cell] / self.lanes
        self.count += 1
        if self.count < self.steps:
            return
        a = self.alinea
        occupancy = self.total / self.count
        could = min(self.capacity, arrivals[self.ramp] + queues[self.ramp] / self.period)
        rate = self.rate + a.gain * (self.target - occupancy)
        self.rate = float(min(max(rate, a.min_rate), max(a.min_rate, could)))
        self.total, self.count = 0.0, 0


def _run(corridor, steps, every, dt, main, ramps, beta, alinea) -> FreewayResult:
    fd, dx, n = corridor.fd, corridor.dx, corridor.n_cells
    lanes = corridor.lanes_per_cell
    cap = lanes * fd.capacity
    merges = corridor.ramp_interfaces
    off = corridor.off_ramp_interface
    k = len(merges)
    record = sorted(set(range(0, steps + 1, every)) | {steps})
    R = len(record)
    dens = np.empty((R, n))
    rec = {name: np.empty(R) for name in ("entry", "rate", "arrived", "exited", "off")}
    ramp_rec = np.empty((R, k))
    rho = np.zeros(n)
    entry, queues = 0.0, np.zeros(k)
    arrived = exited = off_total = 0.0
    ttt = vkt = 0.0
    meter = _Meter(alinea, corridor, dt)
    r = 0
    for step in range(steps + 1):
        if step == record[r]:
            dens[r], ramp_rec[r] = rho, queues
            rec["entry"][r], rec["rate"][r], rec["arrived"][r] = entry, meter.rate, arrived
            rec["exited"][r], rec["off"][r] = exited, off_total
            r += 1
        if step == steps:
            break
        ttt += (rho.sum() * dx + entry + queues.sum()) * dt
        demand = np.minimum(fd.vf * rho, cap)
        supply = np.clip(fd.w * (fd.rho_jam * lanes - rho), 0.0, cap)
        f = np.empty(n + 1)
        f[1:n] = np.minimum(demand[:-1], supply[1:])
        f[0] = min(main[step] + entry / dt, supply[0])
        f[n] = demand[-1]
        inflow = np.zeros(n)
        left_off = 0.0
        for i, j in enumerate(merges):
            want = min(ramps[i, step] + queues[i] / dt, corridor.ramp_capacity)
            if meter.ramp == i:
                want = min(want, meter.rate)
            prio = (lanes[j - 1] * fd.capacity, corridor.ramp_capacity)
            f[j], q_ramp = merge_flows([demand[j - 1], want], supply[j], prio)
            inflow[j] += q_ramp
            queues[i] += (ramps[i, step] - q_ramp) * dt
        if off is not None:
            b = beta[step]
            f[off], left_off = diverge_flows(
                demand[off - 1], [1.0 - b, b], [supply[off], corridor.off_ramp_capacity]
            )
        outflow = f[1:].copy()
        if off is not None:
            outflow[off - 1] += left_off
        inflow += f[:-1]
        vkt += outflow.sum() * dx * dt
        entry += (main[step] - f[0]) * dt
        rho = rho + dt / dx * (inflow - outflow)
        arrived += (main[step] + ramps[:, step].sum()) * dt
        exited += (f[n] + left_off) * dt
        off_total += left_off * dt
        meter.observe(rho, queues, ramps[:, step])
    congested = dens / lanes > fd.critical_density * (1 + 1e-9)
    return FreewayResult(
        time=np.asarray(record, dtype=float) * dt,
        edges=np.arange(n + 1) * dx,
        lanes=lanes,
        density=dens,
        entry_queue=rec["entry"],
        ramp_queues=ramp_rec,
        metering_rate=rec["rate"],
        arrived=rec["arrived"],
        exited=rec["exited"],
        off_ramp_exits=rec["off"],
        queue_length=congested.sum(axis=1) * dx,
        total_travel_time=ttt,
        total_delay=ttt - vkt / fd.vf,
        dx=dx,
        dt=dt,
        critical_density=fd.critical_density,
        on_ramps=tuple(float(x) for x in corridor.on_ramps),
        off_ramp=None if corridor.off_ramp is None else float(corridor.off_ramp),
        lane_drop=None if corridor.lane_drop is None else float(corridor.lane_drop),
    )
