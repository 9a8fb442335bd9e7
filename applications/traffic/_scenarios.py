"""What a fitted diagram does to a queue: a red light and a lane drop in the CTM.

Hypothesis, not conclusion: a rounded peak underestimates capacity, so
queues discharge more slowly. Every flux of a scenario runs in one batch
with one dx and one dt = 0.9 dx / (largest |q'| over all of them), once
with the disturbance and once without (the reference for the delay).
Queue lengths use thresholds from the true diagram only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ._ctm import AdmissibleFlux, CTMResult, simulate_ctm
from ._models import TriangularFD, table_row

__all__: list[str] = []

MIN = 1.0 / 60.0  # one minute in hours


@dataclass(frozen=True)
class Run:
    """One scenario's batch: labels (model, seed), results, where to look."""

    name: str
    labels: list[tuple[str, int]]
    fluxes: list[AdmissibleFlux]
    result: CTMResult
    reference: CTMResult
    bottleneck: int  # interface index
    probe: int  # interface 1 km upstream
    queue: np.ndarray  # (B, R) km upstream of the bottleneck
    threshold: float  # veh/km per lane
    event: float  # h: green / demand drop
    description: str


def _queue(result: CTMResult, lanes: np.ndarray, k: int, threshold: float):
    """Queue length (km) and front distance (km) upstream of interface ``k``, shape (B, R)."""
    per_lane = result.density[..., :k] / lanes[:k]
    mask = per_lane >= threshold
    has = mask.any(axis=-1)
    first = np.argmax(mask, axis=-1)
    last = k - 1 - np.argmax(mask[..., ::-1], axis=-1)
    e = result.edges
    length = np.where(has, e[k] - e[first], 0.0)
    front = np.where(has, e[k] - e[last + 1], np.nan)
    return length, front


def _slope(t: np.ndarray, y: np.ndarray) -> float:
    ok = np.isfinite(y)
    if ok.sum() < 3 or np.ptp(t[ok]) == 0:
        return math.nan
    return float(np.polyfit(t[ok], y[ok], 1)[0])


def _dt(fluxes: list[AdmissibleFlux], dx: float) -> float:
    return 0.9 * dx / max(f.max_speed for f in fluxes)


def red_light(labels, fluxes, truth: TriangularFD, *, dx: float, device: torch.device) -> Run:
    """A queue behind a red light (1 to 4 min) on one lane, 1200 veh/h arriving."""
    up, down, q_in, red, horizon = 2.0, 0.5, 1200.0, (1 * MIN, 4 * MIN), 20 * MIN
    n, k = round((up + down) / dx), round(up / dx)
    dt = _dt(fluxes, dx)
    steps = math.ceil(horizon / dt)
    rho0 = np.array([[f.free_flow_density(q_in)] * n for f in fluxes])
    kw = {"dx": dx, "dt": dt, "steps": steps, "inflow": q_in, "device": device}
    result = simulate_ctm(fluxes, rho0, signals=[(k, *red)], **kw)
    reference = simulate_ctm(fluxes, rho0, **kw)
    thr = (truth.critical_density + truth.rho_jam) / 2
    queue, _ = _queue(result, np.ones(n), k, thr)
    text = (
        f"one lane, {up:g} km before the stop line and {down:g} km after it, {q_in:g} veh/h "
        f"arriving, red from {red[0] * 60:g} to {red[1] * 60:g} min, {horizon * 60:g} min "
        f"simulated; dx = {dx * 1000:g} m, dt = {dt * 3600:.3g} s"
    )
    return Run(
        "red_light",
        labels,
        fluxes,
        result,
        reference,
        k,
        k - round(1.0 / dx),
        queue,
        thr,
        red[1],
        text,
    )


def lane_drop(labels, fluxes, truth: TriangularFD, *, dx: float, device: torch.device) -> Run:
    """Three lanes dropping to two; demand peaks above the two lanes' capacity."""
    up, down, horizon = 4.0, 1.0, 75 * MIN
    profile = ((0.0, 5 * MIN, 3000.0), (5 * MIN, 30 * MIN, 4600.0), (30 * MIN, horizon, 2400.0))
    n, k = round((up + down) / dx), round(up / dx)
    dt = _dt(fluxes, dx)
    steps = math.ceil(horizon / dt)
    t = np.arange(steps) * dt
    inflow = np.select([(t >= a) & (t < b) for a, b, _ in profile], [q for *_, q in profile])
    lanes = np.where(np.arange(n) < k, 3.0, 2.0)
    rho0 = np.array([f.free_flow_density(1000.0) * lanes for f in fluxes])
    rho0[:, k:] = [[2 * f.free_flow_density(1500.0)] * (n - k) for f in fluxes]
    kw = {"dx": dx, "dt": dt, "steps": steps, "inflow": inflow, "device": device}
    result = simulate_ctm(fluxes, rho0, lanes=lanes, **kw)
    three = np.full(n, 3.0)
    reference = simulate_ctm(
        fluxes, [f.free_flow_density(1000.0) * three for f in fluxes], lanes=three, **kw
    )
    rho_q = truth.rho_jam - (2.0 / 3.0) * truth.capacity / truth.w  # true queue, per lane
    thr = (truth.critical_density + rho_q) / 2
    queue, _ = _queue(result, lanes, k, thr)
    text = (
        f"3 lanes for {up:g} km, then 2 lanes for {down:g} km; demand 3000 veh/h, 4600 veh/h "
        f"from 5 to 30 min (above the 2 lanes' capacity), then 2400 veh/h; "
        f"{horizon * 60:g} min simulated; dx = {dx * 1000:g} m, dt = {dt * 3600:.3g} s"
    )
    return Run(
        "lane_drop",
        labels,
        fluxes,
        result,
        reference,
        k,
        k - round(1.0 / dx),
        queue,
        thr,
        30 * MIN,
        text,
    )


def measures(run: Run, truth: TriangularFD, dataset: str) -> list[dict]:
    """Tidy rows of the queue measures of every flux in ``run`` (batch index 0 is the truth)."""
    r, time = run.result, run.result.time
    k = run.bottleneck
    lanes = np.ones(r.density.shape[-1]) if run.name == "red_light" else None
    if lanes is None:
        lanes = np.where(np.arange(r.density.shape[-1]) < k, 3.0, 2.0)
    _, front = _queue(r, lanes, k, run.threshold)
    flow = r.flow(k)
    mid = (time[1:] + time[:-1]) / 2
    if run.name == "red_light":
        window = (mid >= run.event + 0.5 * MIN) & (mid < run.event + 3 * MIN)
        grow = (time >= 1 * MIN + 0.5 * MIN) & (time <= run.event)
    else:
        window = (mid >= 15 * MIN) & (mid < 30 * MIN)
        grow = (time >= 10 * MIN) & (time <= run.event)
    rows = []
    for b, ((model, seed), f) in enumerate(zip(run.labels, run.fluxes, strict=True)):
        q = run.queue[b]
        vals: dict[str, tuple[float, str, str]] = {}
        cap_err = (f.capacity - truth.capacity) / truth.capacity
        vals["capacity"] = (f.capacity, "veh/h", "")
        vals["capacity_rel_error"] = (cap_err, "1", "")
        vals["discharge_flow"] = (float(flow[b, window].mean()), "veh/h", "")
        vals["max_queue"] = (float(q.max()), "km", "")
        queued = np.nonzero(q > 0)[0]
        note = ""
        if queued.size and queued[-1] == q.size - 1:
            note = "not cleared by the end of the run: a lower bound"
        end = time[queued[-1] + 1] if queued.size and queued[-1] + 1 < time.size else time[-1]
        clear = max(0.0, end - run.event) * 3600 if queued.size else 0.0
        vals["clearance_time"] = (clear, "s", note)
        delay = float(r.total_time[b] - run.reference.total_time[b])
        vals["total_delay"] = (delay, "veh h", "")
        for name, j in (("bottleneck", k), ("1km_upstream", run.probe)):
            err = np.max(np.abs(r.cumulative[b, :, j] - r.cumulative[0, :, j]))
            vals[f"count_error_{name}"] = (float(err), "veh", "")
        tail = _slope(time[grow], np.where(q[grow] > 0, -q[grow], np.nan))
        vals["tail_speed"] = (tail, "km/h", "" if np.isfinite(tail) else "none: no queue")
        if run.name == "red_light":
            rho_in = f.free_flow_density(1200.0)
            vals["tail_speed_rh"] = (1200.0 / (rho_in - f.jam_density), "km/h", "")
            after = (time >= run.event + 0.25 * MIN) & (time <= run.event + 1.5 * MIN)
            fs = _slope(time[after], -front[b, after])
            vals["front_speed"] = (fs, "km/h", "" if np.isfinite(fs) else "none: no queue")
            s = np.diff(f.flux) / np.diff(f.nodes)
            i = min(int(np.searchsorted(f.nodes, run.threshold, side="right")) - 1, s.size - 1)
            vals["front_speed_characteristic"] = (float(s[i]), "km/h", "")
        else:
            rho_up = 3 * f.free_flow_density(4600.0 / 3)
            q_q = min(4600.0, 2 * f.capacity)
            rho_q = 3 * f.congested_density(q_q / 3)
            vals["tail_speed_rh"] = ((4600.0 - q_q) / (rho_up - rho_q), "km/h", "")
        for quantity, (value, unit, note) in vals.items():
            rows.append(table_row(run.name, dataset, model, seed, quantity, value, unit, note))
    return rows
