"""The corridor of :func:`corridor_scenario` in UXsim, for a side-by-side check.

UXsim (Seo) moves platoons of ``deltan`` vehicles by Newell's simplified
car-following model on each link (exact for the triangular diagram in the
limit of small platoons) and transfers them at nodes by its own rule
(incoming links served in proportion to ``merge_priority``, one platoon at
a time, first in first out on each link). The mainline is five links (0-2,
2-5, 5-7.5, 7.5-8.5 km with three lanes, 8.5-10 km with two), the ramps
and the off-ramp are 100 m one-lane links; the merge priorities are 3 : 1
(lanes x capacity, as in the CTM corridor). The demand is the same: each
origin-destination flow (mainline and ramp 1 split 80 / 20 between the
end and the off-ramp; ramp 2 to the end) is turned into platoon departure
times where its cumulative count passes ``deltan (i + 1/2)``, so no demand
is lost to rounding.

Measured (3 h, seed 0; CTM at 100 m / 3.6 s):

==========================  ==========  ==========  ============  ============
                            CTM         UXsim (5)   CTM ALINEA    UXsim ALINEA
==========================  ==========  ==========  ============  ============
total travel time (veh h)   1900        1926        1858          1893
max mainline queue (km)     7.0         6.96        1.9           2.47
max ramp-2 queue (veh)      0           75          691           710
==========================  ==========  ==========  ============  ============

With platoons of one vehicle UXsim gives 1907 veh h and 7.3 km (a 150 s
run). The differences: UXsim's merge passes whole platoons in turn, so
ramp 2, whose demand (900 veh/h) fits its 1/4 share of the 4000 veh/h
discharged and never queues in the CTM, waits for gaps of five vehicles;
its travel time counts the 100 m ramp and off-ramp links, which the CTM's
point queues do not have; Edie cells of 60 s over whole links blur the
queue's tail (the CTM counts 100 m cells); and UXsim's ALINEA measures
platoons, so its occupancy moves in steps of five vehicles per 100 m, and
its rate is applied through a token bucket that releases whole platoons.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._checks import check_count
from ._corridor import _BASE, _PEAK, _morning_peak
from ._data import UXSIM_AVAILABLE
from ._freeway import Alinea, Corridor
from ._models import positive

__all__ = ["UXsimCorridor", "corridor_uxsim"]


@dataclass(frozen=True)
class UXsimCorridor:
    """The UXsim run of the corridor.

    Attributes
    ----------
    time : ndarray, shape (R,)
        h, every UXsim step (``deltan x reaction time``).
    in_system : ndarray, shape (R,)
        Vehicles on the links and waiting at the origins.
    ramp_queues : ndarray, shape (R, 2)
        Vehicles on each on-ramp link and waiting at its origin.
    queue_time : ndarray, shape (Q,)
        h, the start of each Edie interval (60 s).
    queue_length : ndarray, shape (Q,)
        Mainline length (km) of Edie cells whose density per lane exceeds the critical.
    total_travel_time : float
        veh h: the integral of ``in_system``.
    deltan : int
    """

    time: np.ndarray
    in_system: np.ndarray
    ramp_queues: np.ndarray
    queue_time: np.ndarray
    queue_length: np.ndarray
    total_travel_time: float
    deltan: int

    def to_frame(self) -> pd.DataFrame:
        """The columns of ``FreewayResult.to_frame`` that UXsim gives."""
        return pd.DataFrame(
            [
                {
                    "total_travel_time_veh_h": self.total_travel_time,
                    "max_mainline_queue_km": float(self.queue_length.max()),
                    "max_ramp1_queue_veh": float(self.ramp_queues[:, 0].max()),
                    "max_ramp2_queue_veh": float(self.ramp_queues[:, 1].max()),
                }
            ]
        )


def _departures(rate: np.ndarray, step_s: float, deltan: int) -> np.ndarray:
    """Platoon departure times (s) where the cumulative demand passes deltan (i + 1/2)."""
    cum = np.concatenate([[0.0], np.cumsum(rate / 3600.0 * step_s)])
    t = np.arange(cum.size) * step_s
    count = int(cum[-1] / deltan + 0.5)
    return np.interp(deltan * (np.arange(count) + 0.5), cum, t)


def corridor_uxsim(
    *,
    metering: bool = False,
    hours: float = 3.0,
    exit_fraction: float = 0.2,
    deltan: int = 5,
    seed: int = 0,
) -> UXsimCorridor:
    """Run the corridor scenario in UXsim (headless, printing silenced).

    Parameters
    ----------
    metering : bool, default False
        ALINEA on ramp 2 with :class:`Alinea`'s defaults, as in :func:`corridor_scenario`:
        occupancy from the platoons in the first 100 m of the link after the merge,
        the rate applied as the ramp link's ``capacity_out`` (UXsim's token bucket).
    hours : float, default 3.0
    exit_fraction : float, default 0.2
        Share of the mainline and ramp-1 demand bound for the off-ramp.
    deltan : int, default 5
        UXsim's platoon size (its step is ``deltan`` reaction times: 7.5 s at 5).
    seed : int, default 0

    Returns
    -------
    UXsimCorridor

    Raises
    ------
    ImportError
        When UXsim is not installed.

    Examples
    --------
    >>> from applications.traffic import UXSIM_AVAILABLE, corridor_uxsim
    >>> run = corridor_uxsim() if UXSIM_AVAILABLE else None
    >>> bool(run is None or 1500 < run.total_travel_time < 2100)
    True
    """
    if not isinstance(metering, bool):
        raise TypeError(f"`metering` must be True or False; got {metering!r}")
    hours = positive(hours, "hours", "h")
    beta = positive(exit_fraction, "exit_fraction", "share")
    if beta >= 1:
        raise ValueError(f"`exit_fraction` must lie in (0, 1); got {beta!r}")
    deltan = check_count(deltan, "deltan", 1)
    seed = check_count(seed, "seed", 0)
    if not UXSIM_AVAILABLE:
        raise ImportError("corridor_uxsim needs UXsim: `pip install pwlmodels[traffic]` (uxsim)")
    import matplotlib  # UXsim depends on it

    c = Corridor()
    fd = c.fd
    with (
        matplotlib.rc_context(),
        contextlib.redirect_stdout(io.StringIO()),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        import uxsim

        tau = 1.0 / (fd.w / 3.6 * fd.rho_jam / 1000.0)
        world = uxsim.World(
            name="",
            deltan=deltan,
            reaction_time=tau,
            tmax=hours * 3600.0,
            print_mode=0,
            save_mode=0,
            show_mode=0,
            random_seed=seed,
            eular_dt=60,
        )
        links = _network(world, c)
        _demand(world, hours, beta, deltan)
        log = []
        meter = _UXsimMeter(world, links, c, hours) if metering else None

        def record(w) -> None:
            if meter is not None:
                meter.observe(w)
            inside = sum(len(link.vehicles) for link in links["all"])
            inside += sum(len(node.generation_queue) for node in w.NODES)
            ramps = [
                len(links[f"ramp{i}"].vehicles) + len(w.get_node(f"r{i}").generation_queue)
                for i in (1, 2)
            ]
            log.append((w.TIME, inside * w.DELTAN, *(r * w.DELTAN for r in ramps)))

        world.user_function = record
        world.exec_simulation()
        cells = world.analyzer.link_traffic_state_to_pandas()
        step = world.DELTAT
    arr = np.array(log, dtype=float)
    lanes = {link.name: link.number_of_lanes for link in links["main"]}
    cells = cells[cells["link"].isin(lanes)]
    per_lane = cells["k"].to_numpy() * 1000.0 / cells["link"].map(lanes).to_numpy()
    congested = cells.assign(km=np.where(per_lane > fd.critical_density, cells["delta_x"], 0.0))
    length = congested.groupby("t")["km"].sum() / 1000.0
    return UXsimCorridor(
        time=arr[:, 0] / 3600.0,
        in_system=arr[:, 1],
        ramp_queues=arr[:, 2:4],
        queue_time=length.index.to_numpy(dtype=float) / 3600.0,
        queue_length=length.to_numpy(),
        total_travel_time=float(arr[:, 1].sum() * step / 3600.0),
        deltan=deltan,
    )


class _UXsimMeter:
    """ALINEA on ramp 2 inside UXsim's step function (the law of ``_freeway._Meter``)."""

    def __init__(self, world, links: dict, c: Corridor, hours: float) -> None:
        self.alinea, self.fd = Alinea(ramp=1), c.fd
        self.after = links["main"][3]  # m2-drop: the measured first 100 m
        self.lanes = self.after.number_of_lanes
        self.ramp, self.origin = links["ramp2"], world.get_node("r2")
        self.rate = c.ramp_capacity
        self.capacity = c.ramp_capacity
        self.steps = max(1, round(self.alinea.period * 3600.0 / world.DELTAT))
        self.period = self.steps * world.DELTAT / 3600.0  # h
        self.total, self.count = 0.0, 0
        self.ramp.capacity_out = self.rate / 3600.0

    def observe(self, w) -> None:
        platoons = sum(1 for v in self.after.vehicles if v.x < 100.0)
        per_lane = platoons * w.DELTAN / (0.1 * self.lanes)  # veh/km per lane
        self.total += 100.0 * per_lane * self.alinea.length_km(self.fd)
        self.count += 1
        if self.count < self.steps:
            return
        a = self.alinea
        occupancy = self.total / self.count
        queue = (len(self.ramp.vehicles) + len(self.origin.generation_queue)) * w.DELTAN
        arrivals = float(_morning_peak(np.array([w.TIME / 3600.0]), _BASE[2], _PEAK[2])[0])
        could = min(self.capacity, arrivals + queue / self.period)
        rate = self.rate + a.gain * (a.target_occupancy(self.fd) - occupancy)
        self.rate = float(min(max(rate, a.min_rate), max(a.min_rate, could)))
        self.ramp.capacity_out = self.rate / 3600.0
        self.total, self.count = 0.0, 0


def _network(world, c: Corridor) -> dict:
    fd = c.fd
    kw = {"free_flow_speed": fd.vf / 3.6, "jam_density_per_lane": fd.rho_jam / 1000.0}
    stops = {"up": 0.0, "m1": 2.0, "d": 5.0, "m2": 7.5, "drop": 8.5, "end": 10.0}
    for name, x in stops.items():
        world.addNode(name, x * 1000.0, 0.0)
    for name, x in (("r1", 1.9), ("r2", 7.4), ("off", 5.1)):
        world.addNode(name, x * 1000.0, -100.0)
    names = list(stops)
    main = []
    for a, b in itertools.pairwise(names):
        lanes = c.lanes_after_drop if stops[a] >= c.lane_drop else c.lanes
        length = (stops[b] - stops[a]) * 1000.0
        main.append(
            world.addLink(f"{a}-{b}", a, b, length=length, number_of_lanes=lanes,
                          merge_priority=float(lanes), **kw)
        )  # fmt: skip
    one = {"length": 100.0, "number_of_lanes": 1, "merge_priority": 1.0, **kw}
    ramp1 = world.addLink("ramp1", "r1", "m1", **one)
    ramp2 = world.addLink("ramp2", "r2", "m2", **one)
    off = world.addLink("offramp", "d", "off", **one)
    return {"main": main, "ramp1": ramp1, "ramp2": ramp2, "all": [*main, ramp1, ramp2, off]}


def _demand(world, hours: float, beta: float, deltan: int) -> None:
    step = 1.0  # s
    t = np.arange(round(hours * 3600.0)) * step / 3600.0
    main, ramp1, ramp2 = (_morning_peak(t, b, p) for b, p in zip(_BASE, _PEAK, strict=True))
    trips = (
        ("up", "end", (1 - beta) * main),
        ("up", "off", beta * main),
        ("r1", "end", (1 - beta) * ramp1),
        ("r1", "off", beta * ramp1),
        ("r2", "end", ramp2),
    )
    for orig, dest, rate in trips:
        for when in _departures(rate, step, deltan):
            world.addVehicle(orig, dest, float(when))
