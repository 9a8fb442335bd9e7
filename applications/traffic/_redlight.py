"""The red light in the cell transmission model against the exact LWR answer: grid convergence.

:func:`red_light_ctm` measures the queue behind one red phase in the CTM
(:func:`simulate_ctm`) with the definitions of :class:`RedLightResult`;
:func:`red_light_convergence` tabulates its errors against the closed form
(:func:`red_light_exact`) as the cells shrink, with the observed order, and
:func:`red_light_convergence_figure` draws them. Godunov's scheme is first
order and smears the contact wave that moves upstream at ``-w`` after green
(its Courant number ``w dt / dx`` is ``0.9 w / vf = 0.18`` at the study's
time step), so the queue's wedge is cut short on coarse grids.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pwlmodels._validate import plain

from ._ctm import simulate_ctm
from ._lwr import RedLightResult, _arrival_flow, red_light_exact
from ._models import TriangularFD, positive

__all__ = ["red_light_convergence", "red_light_convergence_figure", "red_light_ctm"]

FIELDS = ("max_queue_km", "clear_s", "delay_veh_h")
_UNITS = {"max_queue_km": "km", "clear_s": "s", "delay_veh_h": "veh h"}


def red_light_ctm(
    fd: TriangularFD,
    arrival_flow: float,
    red_s: float,
    dx_m: float,
    *,
    courant: float = 0.9,
    device: torch.device | str | None = None,
) -> RedLightResult:
    """The queue behind one red phase measured in the CTM, with the exact reference's definitions.

    The set-up of :func:`red_light_exact`: one lane, a link ending at the
    stop line (its exit interface, red for ``red_s`` from t = 0, then free),
    ``1.25 x`` the exact maximum queue plus 20 cells long, starting in free
    flow at ``rho_a = q_a / vf`` with ``q_a`` entering; simulated for
    ``1.2 x`` the exact clearance time. The time step is the study's,
    ``courant x dx / max(vf, w)`` (the CFL condition: the faster of the
    free-flow and congestion waves crosses at most ``courant`` of a cell per
    step), shortened so that the red lasts a whole number of steps (so the
    red is not rounded by a step).

    Measures:

    - ``max_queue_km``: at every step, the furthest point upstream where
      the density reaches the study's threshold ``(rho_c + rho_jam) / 2``,
      placed within the cell by linear interpolation between the centres
      of the first queued cell and its upstream neighbour (the study takes
      the cell's edge); then the maximum over time. The threshold lies
      above both unqueued states (arrival ``rho_a < rho_c`` and discharge
      at ``rho_c``; a level midway between arrival and jam would fall
      below ``rho_c`` when ``w > vf``) and well inside the tail's shock,
      which the scheme keeps sharp. The exact queue is the same for any
      threshold in (rho_c, rho_jam], so this is the exact reference's
      definition; the CTM's answer depends on it because the scheme smears
      the discharge wave that closes the queue.
    - ``clear_s``: the first time after green that the stop-line flow (per
      step) falls below ``(C + q_a) / 2``, linearly interpolated between
      steps: exactly, it jumps from capacity to ``q_a`` when departures
      catch up with arrivals.
    - ``delay_veh_h``: vehicle-hours on the link minus those of the steady
      free flow without the signal (``rho_a x length x duration``, which
      the CTM keeps to rounding): by conservation, the area between the
      arrival and departure curves.

    Parameters
    ----------
    fd : TriangularFD
    arrival_flow : float
        ``q_a``, veh/h, in (0, capacity).
    red_s : float
        The red phase, s, positive.
    dx_m : float
        Cell length, m, positive and at most the exact maximum queue,
        ``1000 x red_light_exact(fd, arrival_flow, red_s).max_queue_km``: a
        queue shorter than one cell cannot be measured. The bound is
        necessary, not sufficient: within a few cells per queue the smeared
        wedge may never reach the threshold, and ``max_queue_km`` reads
        short (0 at one cell per queue for the study's light); the delay
        stays close by conservation.
    courant : float, default 0.9
        ``max(vf, w) dt / dx``, in (0, 1].
    device : None, "auto", str or torch.device, optional (CPU)

    Returns
    -------
    RedLightResult
        ``method="ctm"``.

    Examples
    --------
    >>> from applications.traffic import TriangularFD, red_light_ctm, red_light_exact
    >>> ctm = red_light_ctm(TriangularFD(), 1200.0, 180.0, 50.0)
    >>> exact = red_light_exact(TriangularFD(), 1200.0, 180.0)
    >>> bool(ctm.max_queue_km < exact.max_queue_km)  # the smeared wedge is cut short
    True
    >>> bool(abs(ctm.delay_veh_h - exact.delay_veh_h) < 0.02 * exact.delay_veh_h)
    True
    """
    q, red = _arrival_flow(fd, arrival_flow, red_s)
    dx = positive(dx_m, "dx_m", "m") / 1000.0
    courant = positive(courant, "courant", "1")
    if courant > 1:
        raise ValueError(f"`courant` must lie in (0, 1] (the CFL condition); got {courant}")
    exact = red_light_exact(fd, q, red_s)
    if dx > exact.max_queue_km:
        raise ValueError(
            f"`dx_m` must be at most the exact maximum queue, "
            f"{plain(1000.0 * exact.max_queue_km)!r} m for this `arrival_flow` and `red_s` "
            f"(a queue shorter than one cell cannot be measured); got {plain(dx_m)!r} m"
        )
    n = math.ceil((1.25 * exact.max_queue_km) / dx) + 20
    m = math.ceil(red / (courant * dx / fd.max_speed))  # red steps
    dt = red / m
    steps = math.ceil(1.2 * exact.clear_s / 3600.0 / dt)
    rho_a = q / fd.vf
    rho0 = np.full(n, rho_a)
    r = simulate_ctm(
        fd,
        rho0,
        dx=dx,
        dt=dt,
        steps=steps,
        inflow=q,
        signals=[(n, -0.5 * dt, (m - 0.5) * dt)],
        device=device,
    )
    thr = exact.threshold_veh_km
    x = _tail(r.density, thr, dx)
    queue = float(np.max(n * dx - x[np.isfinite(x)], initial=0.0))
    flow = np.diff(r.cumulative[:, n]) / dt  # per step
    level = (fd.capacity + q) / 2
    below = np.nonzero(flow[m:] < level)[0]
    if below.size == 0 or below[0] == 0:  # pragma: no cover - not met within the dx_m bound
        raise ValueError(
            f"`dx_m` = {plain(dx_m)!r} m is too coarse for this queue: the CTM's stop-line flow "
            "never fell after green; use shorter cells"
        )
    k = m + int(below[0])
    frac = (flow[k - 1] - level) / (flow[k - 1] - flow[k])
    clear = (k - 0.5 + frac) * dt  # flows sit at mid-step times
    delay = float(r.total_time) - steps * dt * float(rho0.sum()) * dx
    return RedLightResult(queue, float(3600.0 * clear), delay, "ctm", float(dx_m), thr)


def _tail(density: np.ndarray, threshold: float, dx: float) -> np.ndarray:
    """Per record, the position (km) where the density first reaches ``threshold`` (NaN: nowhere).

    Linear interpolation between the centres of the first cell at or above
    the threshold and its upstream neighbour (the entrance edge for cell 0).
    """
    mask = density >= threshold
    has = mask.any(axis=1)
    i = np.argmax(mask, axis=1)
    rows = np.arange(density.shape[0])
    here = density[rows, i]
    prev = density[rows, np.maximum(i - 1, 0)]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(i > 0, (threshold - prev) / (here - prev), 0.5)
    x = (i - 0.5 + frac) * dx
    return np.where(has, x, np.nan)


def _dx_list(dx_m: object) -> list[float]:
    if isinstance(dx_m, (str, bytes)) or not isinstance(dx_m, Sequence) or len(dx_m) < 2:
        raise TypeError(f"`dx_m` must be a sequence of at least 2 cell lengths (m); got {dx_m!r}")
    out = [positive(v, f"dx_m[{i}]", "m") for i, v in enumerate(dx_m)]
    if not (np.diff(out) < 0).all():
        raise ValueError(f"`dx_m` must be strictly decreasing; got {plain(list(dx_m))!r}")
    return out


def red_light_convergence(
    fd: TriangularFD | None = None,
    arrival_flow: float = 1200.0,
    red_s: float = 180.0,
    dx_m: Sequence[float] = (50.0, 25.0, 10.0, 5.0, 2.0),
    *,
    courant: float = 0.9,
    device: torch.device | str | None = None,
) -> pd.DataFrame:
    """The CTM's red-light errors against the closed form as the cells shrink, with observed orders.

    Defaults are the traffic study's red light (``TriangularFD()``, 1200
    veh/h arriving, 3 min of red; the study's cells are 25 m).

    Parameters
    ----------
    fd : TriangularFD, optional
        Default ``TriangularFD()``.
    arrival_flow : float, default 1200.0
        veh/h.
    red_s : float, default 180.0
        s.
    dx_m : sequence of float, default (50, 25, 10, 5, 2)
        Cell lengths, m, strictly decreasing.
    courant : float, default 0.9
    device : None, "auto", str or torch.device, optional (CPU)

    Returns
    -------
    pandas.DataFrame
        One row per cell length and quantity (``max_queue_km``, ``clear_s``,
        ``delay_veh_h``): ``dx_m``, ``quantity``, ``unit``, ``ctm``,
        ``exact``, ``error`` (ctm - exact), ``rel_error`` (``|error| /
        exact``) and ``order``, the observed order ``log(e_{i-1} / e_i) /
        log(dx_{i-1} / dx_i)`` of ``|error|`` against the previous cell
        length (NaN on the first).

    Examples
    --------
    >>> from applications.traffic import red_light_convergence
    >>> t = red_light_convergence(dx_m=(50.0, 25.0))
    >>> t.loc[t.quantity == "max_queue_km", ["dx_m", "exact"]].values.tolist()
    [[50.0, 1.25], [25.0, 1.25]]
    >>> bool((t.groupby("dx_m").rel_error.max() < 0.2).all())
    True
    """
    fd = TriangularFD() if fd is None else fd
    exact = red_light_exact(fd, arrival_flow, red_s)
    sizes = _dx_list(dx_m)
    rows = []
    previous: dict[str, float] = {}
    for i, h in enumerate(sizes):
        ctm = red_light_ctm(fd, arrival_flow, red_s, h, courant=courant, device=device)
        for name in FIELDS:
            value, truth = getattr(ctm, name), getattr(exact, name)
            err = abs(value - truth)
            order = math.nan
            if i and err > 0 and previous[name] > 0:
                order = math.log(previous[name] / err) / math.log(sizes[i - 1] / h)
            previous[name] = err
            rows.append(
                {
                    "dx_m": h,
                    "quantity": name,
                    "unit": _UNITS[name],
                    "ctm": value,
                    "exact": truth,
                    "error": value - truth,
                    "rel_error": err / truth,
                    "order": order,
                }
            )
    return pd.DataFrame(rows)


def red_light_convergence_figure(
    table: pd.DataFrame, path: str | Path, *, study_dx_m: float = 25.0, dpi: int = 150
) -> Path:
    """Relative error against cell length on log-log axes, with slopes 1/2 and 1 for reference.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`red_light_convergence`.
    path : str or pathlib.Path
        The PNG to write (its folder must exist).
    study_dx_m : float, default 25.0
        The study's cell length, marked on the axis.
    dpi : int, default 150

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> from applications.traffic import red_light_convergence_figure
    >>> t = pd.DataFrame({"dx_m": [50.0, 25.0] * 3, "quantity": [q for q in
    ...     ("max_queue_km", "clear_s", "delay_veh_h") for _ in "ab"],
    ...     "rel_error": [0.2, 0.1, 0.02, 0.01, 0.01, 0.006]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     red_light_convergence_figure(t, pathlib.Path(tmp) / "c.png").name
    'c.png'
    """
    from matplotlib.figure import Figure

    from pwlmodels.plotting import save_figure

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"`table` must be a pandas DataFrame; got {type(table).__name__}")
    missing = {"dx_m", "quantity", "rel_error"} - set(table.columns)
    if missing:
        raise ValueError(f"`table` lacks the columns {sorted(missing)}")
    if not isinstance(path, (str, Path)):
        raise TypeError(f"`path` must be a str or pathlib.Path; got {type(path).__name__}")
    study = positive(study_dx_m, "study_dx_m", "m")
    fig = Figure(figsize=(6.4, 4.4))
    ax = fig.subplots()
    labels = {
        "max_queue_km": "maximum queue",
        "clear_s": "clearance time",
        "delay_veh_h": "total delay",
    }
    for (name, label), marker in zip(labels.items(), "osD", strict=True):
        part = table[table.quantity == name].sort_values("dx_m")
        ok = part.rel_error > 0
        ax.loglog(part.dx_m[ok], part.rel_error[ok], marker=marker, label=label)
    dx = np.sort(table.dx_m.unique())
    for slope, style, anchor in ((0.5, ":", "max_queue_km"), (1.0, "--", "clear_s")):
        part = table[(table.quantity == anchor) & (table.dx_m == dx[-1])].rel_error
        if part.size and float(part.iloc[0]) > 0:  # through the coarsest point, a bit above
            ref = 1.6 * float(part.iloc[0]) * (dx / dx[-1]) ** slope
            ax.loglog(dx, ref, style, color="0.5", label=f"slope {slope:g}")
    ax.axvline(study, color="0.75", lw=1, zorder=0)
    ax.annotate(
        f"study: {study:g} m",
        (study, 0.97),
        xycoords=("data", "axes fraction"),
        xytext=(3, 0),
        textcoords="offset points",
        color="0.4",
        fontsize=8,
        va="top",
    )
    ax.set_xticks(dx, [f"{v:g}" for v in dx])
    ax.minorticks_off()
    ax.set_xlabel("cell length dx (m)")
    ax.set_ylabel("|CTM - exact LWR| / exact")
    ax.set_title("Red light: CTM against exact LWR; the queue converges only as dx^(1/2)")
    ax.legend(fontsize=8, loc="center left")
    return save_figure(fig, Path(path), dpi=dpi)
