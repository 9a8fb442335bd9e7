"""A morning peak on a 10 km corridor, without and with ALINEA, and its space-time figure.

The corridor (:class:`Corridor`'s defaults): three lanes from 0 to 8.5 km, then
two; on-ramps at 2.0 and 7.5 km, an off-ramp at 5.0 km taking 20 % of the
mainline. Demand (veh/h): mainline 2500, ramps 300 each, rising from 0.25 h
to a peak from 0.5 h to 1.5 h (mainline 4300, ramp 1 600, ramp 2 900) and
back by 1.75 h; three hours in all. At the peak the lane drop (capacity
4000 veh/h) receives 0.8 (4300 + 600) + 900 = 4820 veh/h: without metering
its queue runs back past the off-ramp and on-ramp 1, and the first-in-
first-out diverge then holds the exiting vehicles too (775 instead of 980
veh/h leave there). ALINEA on ramp 2 (measured just downstream of the merge)
meets a mainline that alone nearly fills the drop (0.8 x 4900 = 3920
veh/h): it sits at its minimum rate (200 veh/h) for 87 % of the peak, the
mainline queue stops at 6.6 km instead of 1.5 km, the off-ramp stays free,
and ramp 2 stores up to 691 vehicles (no queue override here; a real ramp
holds far fewer). With a triangular diagram there is no capacity drop, so
the lane drop discharges 4000 veh/h either way: what metering saves (1900
-> 1858 veh h) is the exiting traffic's delay, not bottleneck throughput.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from pwlmodels.plotting import save_figure

from ._freeway import Alinea, Corridor, FreewayResult, simulate_freeway
from ._models import positive

__all__ = ["corridor_comparison", "corridor_scenario", "freeway_figure"]

_BASE = (2500.0, 300.0, 300.0)  # veh/h: mainline, ramp 1, ramp 2
_PEAK = (4300.0, 600.0, 900.0)
_SHAPE = ([0.0, 0.25, 0.5, 1.5, 1.75], [0.0, 0.0, 1.0, 1.0, 0.0])  # h -> share of the peak


def _morning_peak(time: np.ndarray, base: float, top: float) -> np.ndarray:
    """``base`` until 0.25 h, rising linearly to ``top`` at 0.5 h, held to 1.5 h, back by 1.75 h."""
    return base + (top - base) * np.interp(time, *_SHAPE)


def corridor_scenario(
    metering: bool,
    *,
    hours: float = 3.0,
    exit_fraction: float = 0.2,
    alinea: Alinea | None = None,
    record_every: int = 10,
) -> FreewayResult:
    """The morning peak on the default :class:`Corridor`, at the CFL step (3.6 s).

    Parameters
    ----------
    metering : bool
        Meter on-ramp 2 (7.5 km, the one nearest the lane drop) with ALINEA.
    hours : float, default 3.0
        Simulated time (the queues of the peak clear within it).
    exit_fraction : float, default 0.2
        Share of the mainline taking the off-ramp.
    alinea : Alinea, optional
        The controller when ``metering``; default ``Alinea(ramp=1)`` (K_R = 70 veh/h
        per %, the critical occupancy as target, 60 s period, measured just downstream
        of the merge).
    record_every : int, default 10
        Record every 10 steps (36 s).

    Returns
    -------
    FreewayResult

    Examples
    --------
    >>> from applications.traffic import corridor_scenario
    >>> free, metered = corridor_scenario(False), corridor_scenario(True)
    >>> round(free.total_travel_time), round(metered.total_travel_time)
    (1900, 1858)
    >>> float(free.queue_length.max()), round(float(metered.ramp_queues[:, 1].max()))
    (7.0, 691)
    """
    if not isinstance(metering, bool):
        raise TypeError(f"`metering` must be True or False; got {metering!r}")
    corridor = Corridor()
    dt = corridor.dx / corridor.fd.vf
    steps = max(1, round(positive(hours, "hours", "h") / dt))
    time = np.arange(steps) * dt
    main, ramp1, ramp2 = (_morning_peak(time, b, t) for b, t in zip(_BASE, _PEAK, strict=True))
    if metering and alinea is None:
        alinea = Alinea(ramp=1)
    return simulate_freeway(
        corridor,
        steps=steps,
        mainline_demand=main,
        ramp_demands=[ramp1, ramp2],
        exit_fraction=exit_fraction,
        dt=dt,
        alinea=alinea if metering else None,
        record_every=record_every,
    )


def corridor_comparison(**options: object) -> pd.DataFrame:
    """No metering against ALINEA on ramp 2: one row each (``FreewayResult.to_frame``).

    Parameters
    ----------
    **options
        Passed to :func:`corridor_scenario` (``hours``, ``exit_fraction``, ``alinea``,
        ``record_every``).

    Returns
    -------
    pandas.DataFrame
        ``scenario`` and the columns of ``FreewayResult.to_frame``.

    Examples
    --------
    >>> from applications.traffic import corridor_comparison
    >>> table = corridor_comparison()
    >>> table["scenario"].tolist()
    ['no metering', 'ALINEA on ramp 2']
    >>> bool(table["total_travel_time_veh_h"].iloc[1] < table["total_travel_time_veh_h"].iloc[0])
    True
    """
    rows = []
    for name, metering in (("no metering", False), ("ALINEA on ramp 2", True)):
        frame = corridor_scenario(metering, **options).to_frame()
        frame.insert(0, "scenario", name)
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def _mark(ax, run: FreewayResult, x: float, label: str) -> None:
    ax.text(
        run.time[0] + 0.02 * (run.time[-1] - run.time[0]),
        x + 0.05,
        label,
        color="white",
        fontsize=8,
        va="bottom",
    )


def freeway_figure(results: Mapping[str, FreewayResult], path: str | Path) -> Path:
    """Space-time density maps (one column per run) over the queues; a PNG at ``path``.

    Top: density per lane (veh/km/lane) against time and position, with the
    on-ramps (solid), the off-ramp (dashed) and the lane drop (dotted) marked.
    Bottom: the congested mainline length (km) and each ramp's queue (veh).

    Parameters
    ----------
    results : mapping of str to FreewayResult
        Titles to runs.
    path : str or pathlib.Path
        Its folder must exist.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from applications.traffic import corridor_scenario, freeway_figure
    >>> runs = {"no metering": corridor_scenario(False, hours=0.5)}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = freeway_figure(runs, pathlib.Path(tmp) / "freeway.png")
    ...     out.read_bytes()[:4] == b"\\x89PNG"
    True
    """
    from matplotlib.figure import Figure

    if not isinstance(results, Mapping) or not results:
        raise TypeError("`results` must be a non-empty mapping of titles to FreewayResult")
    for name, run in results.items():
        if not isinstance(run, FreewayResult):
            raise TypeError(
                f"`results[{name!r}]` must be a FreewayResult; got {type(run).__name__}"
            )
    if not isinstance(path, (str, Path)):
        raise TypeError(f"`path` must be a str or pathlib.Path; got {type(path).__name__}")
    cols = len(results)
    fig = Figure(figsize=(6.5 * cols, 8.5))
    ax = fig.subplots(2, cols, squeeze=False, height_ratios=(2.2, 1.0))
    fig.subplots_adjust(wspace=0.4, hspace=0.3)
    jam = max(float(np.max(r.density / r.lanes)) for r in results.values())
    ramp_top = max(1.0, *(float(r.ramp_queues.max(initial=0.0)) for r in results.values()))
    queue_top = max(0.1, *(float(r.queue_length.max()) for r in results.values()))
    for col, (name, run) in enumerate(results.items()):
        a = ax[0, col]
        extent = (run.time[0], run.time[-1], run.edges[0], run.edges[-1])
        image = a.imshow(
            (run.density / run.lanes).T,
            origin="lower",
            aspect="auto",
            extent=extent,
            vmin=0.0,
            vmax=jam,
            cmap="viridis",
            interpolation="nearest",
        )
        for i, x in enumerate(run.on_ramps):
            a.axhline(x, color="white", lw=0.8)
            _mark(a, run, x, f"on-ramp {i + 1}")
        if run.off_ramp is not None:
            a.axhline(run.off_ramp, color="white", lw=0.8, ls="--")
            _mark(a, run, run.off_ramp, "off-ramp")
        if run.lane_drop is not None:
            a.axhline(run.lane_drop, color="white", lw=0.8, ls=":")
            _mark(a, run, run.lane_drop, "lane drop")
        a.set_title(f"{name}: total travel time {run.total_travel_time:.0f} veh h")
        a.set_xlabel("time (h)")
        a.set_ylabel("position (km, traffic moves up)")
        fig.colorbar(image, ax=a, label="density (veh/km/lane)")
        b = ax[1, col]
        b.plot(run.time, run.queue_length, color="k", label="congested mainline (km)")
        b.set_xlabel("time (h)")
        b.set_ylabel("mainline queue (km)")
        c = b.twinx()
        for i in range(run.ramp_queues.shape[1]):
            c.plot(run.time, run.ramp_queues[:, i], ls="--", label=f"ramp {i + 1} queue (veh)")
        c.set_ylabel("ramp queue (veh)")
        c.set_ylim(0.0, 1.05 * ramp_top)
        b.set_ylim(0.0, 1.05 * queue_top)
        lines = b.get_lines() + c.get_lines()
        b.legend(lines, [ln.get_label() for ln in lines], fontsize=8, loc="upper left")
    fig.suptitle(
        "Freeway corridor, morning peak: the lane-drop queue spills back past the ramps "
        "unless ALINEA holds it on ramp 2"
    )
    return save_figure(fig, Path(path))
