"""The corridor of :func:`corridor_scenario` (no metering) in UXsim, for a side-by-side check.

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
from ._freeway import Corridor
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
    *, hours: float = 3.0, exit_fraction: float = 0.2, deltan: int = 5, seed: int = 0
) -> UXsimCorridor:
    """Run the no-metering corridor scenario in UXsim (headless, printing silenced).

    Parameters
    ----------
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

        def record(w) -> None:
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
