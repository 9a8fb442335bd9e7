"""The control study behind :func:`applications.control.run`: compute, tabulate, write."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pwlmodels import count_parameters, resolve_device

from ..report import AppResult, finish
from ._analysis import Certificate, Linearisation, certify, damping, linearise
from ._checks import check_seeds
from ._config import (
    ACTIVATIONS,
    CLAMP_MARGIN,
    EPS,
    FULL,
    HALF,
    NAME,
    QUICK,
    SPEED_GAIN,
    SPEED_STEP,
    STATES,
    T_POSITION,
    T_SPEED,
    U_MAX,
    UNITS,
    X_REF,
    Q,
    R,
    Settings,
)
from ._learn import operating_samples, train_controller
from ._mpc import MPCStudy, mpc_study
from ._sim import Response, loop_metrics, numpy_net, simulate
from ._speed import SpeedRun, linear_step, speed_study
from ._verify import (
    Clamp,
    CommandRange,
    Sensitivity,
    clamp_proof,
    exact_range,
    sampled_range,
    sensitivity,
)

__all__: list[str] = []


@dataclass(frozen=True)
class Controller:
    """Everything measured on one position-loop controller."""

    name: str  # "exact", or the activation of a learned network
    seed: int  # -1 for the exact law
    net: torch.nn.Module
    params: int
    loss: float | None
    lin: Linearisation
    cert: Certificate | None
    response: Response
    metrics: dict
    command: CommandRange
    clamp: Clamp | None
    sens: Sensitivity


def _analyse(name, seed, net, params, loss, plant, K, cfg: Settings) -> Controller:
    A, B, _ = plant
    lin = linearise(A, B, net, X_REF)
    pwl = name in ("exact", "relu")
    cert = certify(A, B, Q, R, net, lin, X_REF, HALF, U_MAX) if pwl else None
    resp = simulate(A, B, numpy_net(net), np.zeros(3), T_POSITION, U_MAX)
    metrics = loop_metrics(resp, resp.x[:, 0], X_REF[0])
    if pwl:
        command = exact_range(net, -HALF, HALF)
        clamp = clamp_proof(net, -HALF, HALF, U_MAX, CLAMP_MARGIN)
    else:
        command = sampled_range(net, -HALF, HALF, cfg.n_sampled, cfg.budget, max(seed, 0))
        clamp = None
    sens = sensitivity(net, X_REF, EPS * HALF, pwl, cfg.n_local, cfg.budget, max(seed, 0))
    return Controller(name, seed, net, params, loss, lin, cert, resp, metrics, command, clamp, sens)


def run_study(out_dir: Path, *, device, seeds, quick: bool) -> AppResult:
    from . import _figures as figs
    from . import _section as section
    from ._design import dc_motor, lqr_gain, saturated_law

    start = time.perf_counter()
    if not isinstance(quick, (bool, np.bool_)):
        raise TypeError(f"`quick` must be a bool; got {type(quick).__name__}")
    seeds = check_seeds(seeds)
    dev = resolve_device(device)
    cfg = QUICK if quick else FULL
    used = seeds[:1] if quick else seeds
    folder = Path(out_dir) / NAME
    folder.mkdir(parents=True, exist_ok=True)

    plant = dc_motor("position")
    K = lqr_gain(plant.A, plant.B, Q, R)
    exact = saturated_law(K, U_MAX, X_REF, device=dev)
    ctrls = [_analyse("exact", -1, exact, count_parameters(exact), None, plant, K, cfg)]
    for seed in used:
        x = operating_samples(K, U_MAX, X_REF, HALF, cfg.training.n_samples, seed)
        u = np.clip(-(x - X_REF) @ K[0], -U_MAX, U_MAX)
        for act in ACTIVATIONS:
            net, loss, params = train_controller(x, u, HALF, U_MAX, act, cfg.training, seed, dev)
            ctrls.append(_analyse(act, seed, net, params, loss, plant, K, cfg))

    speed = dc_motor("speed")
    runs = speed_study(*speed, SPEED_GAIN, SPEED_STEP, T_SPEED, U_MAX)
    check = _speed_check(speed)
    mpc = mpc_study(*cfg.mpc, used[0], dev)
    rows = _position_rows(ctrls, K) + _speed_rows(runs) + check + _mpc_rows(mpc, used[0])
    table = pd.DataFrame(rows, columns=list(_COLUMNS))
    ctx = {"K": K, "ctrls": ctrls, "runs": runs, "check": check, "cfg": cfg, "seeds": used}
    ctx["mpc"] = mpc
    ctx |= {"device": str(dev), "quick": quick, "plant": plant, "speed": speed}
    figures = figs.draw_all(folder, ctx)
    text = section.write(table, ctx)
    info = {
        "K": K,
        "K_net": {(c.name, c.seed): c.lin.K_net for c in ctrls},
        "radius_l2_exact": ctrls[0].cert.radius_l2,
    }
    seconds = time.perf_counter() - start
    return finish(NAME, out_dir, table, figures, text, seconds, str(dev), **info)


_COLUMNS = ("study", "controller", "seed", "quantity", "value", "unit", "kind", "note")


def _row(study, ctrl, seed, quantity, value, unit, kind, note="-"):
    return (study, ctrl, seed, quantity, float(value), unit, kind, note or "-")


def _position_rows(ctrls: list[Controller], K: np.ndarray) -> list[tuple]:
    rows = []
    for c in ctrls:

        def add(q, v, unit, kind, note="-", c=c):
            if v is not None:
                rows.append(_row("position", c.name, c.seed, q, v, unit, kind, note))

        add("parameters", c.params, "-", "count")
        add("train_loss", c.loss, "-", "training", "MSE of u / u_max on the samples")
        for j, state in enumerate(STATES):
            add(f"K_{state}", c.lin.K_net[0, j], UNITS[j], "linearised", "-local_gain at x_ref")
        rel = np.linalg.norm(c.lin.K_net - K) / np.linalg.norm(K)
        add("gain_error", rel, "-", "linearised", "||K_net - K|| / ||K||")
        add("offset", c.lin.u0, "V", "linearised", "u_net(x_ref)")
        add("equilibrium_error", c.lin.x_eq[0] - X_REF[0], "rad", "linearised")
        for k, p in enumerate(c.lin.poles, 1):
            add(f"pole_{k}_real", p.real, "1/s", "linearised", "eig(A - B K_net)")
            add(f"pole_{k}_imag", p.imag, "1/s", "linearised", "eig(A - B K_net)")
        zeta, wn = damping(c.lin.poles)
        add("damping", zeta, "-", "linearised", "slowest complex pair")
        add("natural_frequency", wn, "rad/s", "linearised", "slowest complex pair")
        if c.cert is not None:
            e = c.cert
            add("radius_scaled", e.radius_scaled, "-", "exact", "inf-norm of x / box half-widths")
            add("radius_l2", e.radius_l2, "mixed", "exact", "l2 norm of (rad, rad/s, A)")
            note = e.reason or "x'Px <= level is invariant and linear"
            add("ellipsoid_level", e.level, "-", "certified", note)
            add("ellipsoid_theta_at_rest", e.theta_at_rest, "rad", "certified", "omega = i = 0")
            add("ellipsoid_theta_extent", e.theta_extent, "rad", "certified")
        units = {"rise_time": "s", "settling_time": "s", "overshoot": "%", "steady_state": "rad"}
        units |= {"steady_state_error": "rad", "peak_command": "V", "effort": "V^2 s"}
        units |= {"time_saturated": "s"}
        for q, v in c.metrics.items():
            add(q, v, units[q], "simulated")
        r = c.command
        for end, lab in (("max", r.max_label), ("min", r.min_label)):
            value, bound = getattr(r, f"{end}_value"), getattr(r, f"{end}_bound")
            add(f"{end}_command", value, "V", lab.value_kind, lab.text)
            add(f"{end}_command_bound", bound, "V", lab.bound_kind, lab.text)
            add(f"{end}_command_gap", abs(bound - value), "V", lab.bound_kind, "|bound - value|")
        lab = r.label
        add("exceedance", max(r.max_value - U_MAX, -U_MAX - r.min_value, 0.0), "V", lab.value_kind)
        for j, state in enumerate(STATES):
            unit = ("rad", "rad/s", "A")[j]
            add(f"max_witness_{state}", r.max_witness[j], unit, r.max_label.value_kind)
            add(f"min_witness_{state}", r.min_witness[j], unit, r.min_label.value_kind)
        if c.clamp is not None:
            for p, q in zip(c.clamp[:2], ("clamp_upper_bound", "clamp_lower_bound"), strict=True):
                kind = "verified bound" if p.status == "proven" else "sound bound"
                add(q, p.bound, "V", kind, f"{p.status}: {p.sense} {p.threshold:.9g}")
        lab = c.sens.label
        note = f"max |u(x) - u(x_ref)|, box {EPS} x half-widths; {lab.text}"
        add("sensitivity", c.sens.value, "V", lab.value_kind, note)
        add("sensitivity_bound", c.sens.bound, "V", lab.bound_kind, lab.text)
    return rows


def _speed_rows(runs: list[SpeedRun]) -> list[tuple]:
    rows = []
    units = {"rise_time": "s", "settling_time": "s", "overshoot": "%", "steady_state": "rad/s"}
    units |= {"steady_state_error": "rad/s", "peak_command": "V", "effort": "V^2 s"}
    units |= {"time_saturated": "s"}
    for r in runs:
        name = f"{r.activation} unit"
        kind = "exact" if r.activation in ("hardtanh", "relu") else "autograd"
        vals = [
            ("gain_right", r.gain_right, "V s/rad", kind),
            ("gain_left", r.gain_left, "V s/rad", kind),
            ("damping_right", r.damping_right, "-", "linearised"),
            ("natural_frequency_right", r.frequency_right, "rad/s", "linearised"),
            ("damping_left", r.damping_left, "-", "linearised"),
            ("natural_frequency_left", r.frequency_left, "rad/s", "linearised"),
        ]
        rows += [_row("speed", name, -1, q, v, u, k) for q, v, u, k in vals]
        rows += [
            _row("speed", name, -1, q, v, units[q], "simulated")
            for q, v in r.metrics.items()
            if v is not None
        ]
    return rows


def _mpc_rows(m: MPCStudy, seed: int) -> list[tuple]:
    rows = [
        _row("mpc", "explicit MPC", -1, "critical_regions", len(m.regions), "-", "exact"),
        _row("mpc", "explicit MPC", -1, "affine_pieces", m.pieces, "-", "exact", "of u0(x)"),
        _row("mpc", "explicit MPC", -1, "qp_gap", m.qp_gap, "-", "sampled", "QP vs regions"),
    ]
    for act, (_, rmse, worst, params) in m.fits.items():
        rows += [
            _row("mpc", act, seed, "parameters", params, "-", "count"),
            _row("mpc", act, seed, "rmse", rmse, "-", "grid", "201 x 161 states"),
            _row("mpc", act, seed, "max_error", worst, "-", "grid", "201 x 161 states"),
        ]
    rows.append(_row("mpc", "relu", seed, "linear_regions", len(m.relu_partition), "-", "exact"))
    return rows


def _speed_check(speed) -> list[tuple]:
    """The linear speed loop under P gain 100, unit step (python-control's numbers: the tests)."""
    from ._design import step_metrics

    t, y = linear_step(*speed, SPEED_GAIN, 5.0)
    m = step_metrics(t, y)
    ours = {"rise_time": m.rise_time, "settling_time": m.settling_time}
    ours |= {"overshoot": m.overshoot, "steady_state": m.steady_state}
    units = {"rise_time": "s", "settling_time": "s", "overshoot": "%", "steady_state": "rad/s"}
    rows = [
        _row("speed_check", "P 100 linear", -1, q, v, units[q], "step_metrics")
        for q, v in ours.items()
    ]
    return rows
