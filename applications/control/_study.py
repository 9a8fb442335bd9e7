"""The control study behind :func:`applications.control.run`: compute, then tabulate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from pwlmodels import count_parameters, resolve_device

from ._analysis import certify, damping, linearise
from ._checks import check_seeds
from ._config import (
    ACTIVATIONS,
    CLAMP_MARGIN,
    EPS,
    HALF,
    REACH,
    REACH_MARGIN,
    SPEED_GAIN,
    SPEED_STEP,
    STATES,
    T_POSITION,
    T_SPEED,
    U_MAX,
    UNITS,
    X_REF,
    Config,
    Q,
    R,
)
from ._engineering import TS, loop_margins, sampled_figures, worst_case
from ._learn import operating_samples, train_controllers
from ._mpc import BOX, U_BOUND, MPCStudy, mpc_study
from ._result import Controller, ControlResult, GainRatio, MilpSummary
from ._sim import loop_metrics, numpy_net, simulate
from ._speed import SpeedRun, linear_step, speed_study
from ._verify import clamp_proof, exact_range, sampled_range, sensitivity

__all__ = ["compute"]


def _analyse(name, seed, net, params, loss, plant, K, cfg: Config) -> Controller:
    A, B, _ = plant
    lin = linearise(A, B, net, X_REF)
    pwl = name in ("exact", "relu")
    cert = certify(A, B, Q, R, net, lin, X_REF, HALF, U_MAX) if pwl else None
    law = numpy_net(net)
    resp = simulate(A, B, law, np.zeros(3), T_POSITION, U_MAX)
    metrics = loop_metrics(resp, resp.x[:, 0], X_REF[0])
    if pwl:
        command = exact_range(net, -HALF, HALF)
        clamp = clamp_proof(net, -HALF, HALF, U_MAX, CLAMP_MARGIN)
    else:
        command = sampled_range(
            net, -HALF, HALF, cfg.n_sampled, cfg.budget, max(seed, 0), cfg.crown_budget
        )
        clamp = None
    sens = sensitivity(net, X_REF, EPS * HALF, pwl, cfg.n_local, cfg.budget, max(seed, 0))
    zeta, wn = damping(lin.poles)
    rel = np.linalg.norm(lin.K_net - K) / np.linalg.norm(K)
    margins = loop_margins(A, B, lin.K_net)
    robust = worst_case(law, X_REF, T_POSITION, U_MAX)
    sampled = sampled_figures(A, B, law, lin.K_net, X_REF, T_POSITION, U_MAX)
    return Controller(
        name, seed, params, loss, lin, zeta, wn, float(rel), cert, resp, metrics, command, clamp,
        sens, margins, robust, sampled,
    )  # fmt: skip


def compute(
    config: Config,
    *,
    seeds: tuple[int, ...] = (0, 1, 2),
    device: torch.device | str = "auto",
) -> ControlResult:
    """Train, linearise, certify, simulate and verify every controller; return the numbers.

    Everything the table, the figures and the section show is computed
    here: the figures and the section only draw and word the result.

    Parameters
    ----------
    config : Config
        :data:`FULL` or :data:`QUICK` (or a ``dataclasses.replace`` of one).
    seeds : sequence of int, default (0, 1, 2)
        One trained network per activation and seed (the first seed only
        when ``config.quick``); the first seed also seeds the MPC fits.
    device : {"auto", "cpu", "cuda"} or torch.device, default "auto"
        Where the networks train and are verified (float64 there).

    Returns
    -------
    ControlResult
        Numbers, arrays, DataFrames and words only. ``summary`` holds the
        section's headline numbers: ``gain_deviation_exact`` (largest
        ``|K_net - K|`` of the exact law), ``radius_l2_formula``
        (``u_max / ||K||``), ``gain_error_<activation>`` (mean over seeds),
        ``radius_scaled_min`` / ``_max`` (learned ReLU), ``exceedance_max``
        (largest command beyond the limit, learned ReLU),
        ``smooth_bound_max`` (largest sound bound of the max command, tanh and
        sigmoid, the tighter of CROWN and intervals), ``smooth_interval_max`` /
        ``smooth_crown_max`` (the largest of each method's), ``smooth_sampled_max``
        (largest sampled command), ``n_crown_tighter`` of ``n_smooth_ends`` (extremes
        where CROWN is the tighter),
        ``n_exact_ranges`` / ``n_pwl`` (certified ranges among the ReLU
        controllers), ``n_clamps`` / ``n_clamps_proven``, ``parameters`` (of a
        learned network) and ``sensitivity_formula`` (``EPS |K| @ HALF``).

    Examples
    --------
    >>> import dataclasses
    >>> from applications.control import QUICK, compute
    >>> tiny = dataclasses.replace(QUICK, n_sampled=10_000, budget=500)
    >>> r = compute(tiny, seeds=(0,), device="cpu")  # doctest: +SKIP
    >>> r.table.columns[:4].tolist(), r.K.shape  # doctest: +SKIP
    (['study', 'controller', 'seed', 'quantity'], (1, 3))
    """
    from ._design import dc_motor, lqr_gain, saturated_law
    from ._views import regions, slices

    if not isinstance(config, Config):
        raise TypeError(f"`config` must be a Config; got {type(config).__name__}")
    seeds = check_seeds(seeds)
    dev = resolve_device(device)
    cfg = config
    used = seeds[:1] if cfg.quick else seeds

    plant = dc_motor("position")
    K = lqr_gain(plant.A, plant.B, Q, R)
    exact = saturated_law(K, U_MAX, X_REF, device=dev)
    ctrls = [_analyse("exact", -1, exact, count_parameters(exact), None, plant, K, cfg)]
    nets = [exact]
    x = [operating_samples(K, U_MAX, X_REF, HALF, cfg.training.n_samples, s) for s in used]
    u = [np.clip(-(xs - X_REF) @ K[0], -U_MAX, U_MAX) for xs in x]
    trained = {  # every seed of one activation trained together, each on its own samples
        act: train_controllers(x, u, HALF, U_MAX, act, cfg.training, used, dev)
        for act in ACTIVATIONS
    }
    for i, seed in enumerate(used):
        for act in ACTIVATIONS:
            net, loss, params = trained[act][i]
            ctrls.append(_analyse(act, seed, net, params, loss, plant, K, cfg))
            nets.append(net)

    speed = dc_motor("speed")
    runs = speed_study(*speed, SPEED_GAIN, SPEED_STEP, T_SPEED, U_MAX)
    check = _speed_check(speed)
    mpc = mpc_study(*cfg.mpc, used[0], dev)
    rows = (
        _box_rows(plant.A - plant.B @ K)
        + _position_rows(ctrls, K)
        + _speed_rows(runs)
        + check
        + _mpc_rows(mpc, used[0])
    )
    table = pd.DataFrame(rows, columns=list(_COLUMNS))

    firsts = [
        (c.name, c.seed, n) for c, n in zip(ctrls, nets, strict=True) if c.seed in (-1, used[0])
    ]
    i_relu = next(i for i, c in enumerate(ctrls) if c.name == "relu")
    view = regions(nets[i_relu], ctrls[i_relu].seed, ctrls[i_relu].cert, ctrls[i_relu].lin.x_eq)
    return ControlResult(
        config=cfg,
        seeds=used,
        device=str(dev),
        K=K,
        controllers=tuple(ctrls),
        speed=tuple(runs),
        check=tuple(check),
        mpc=mpc,
        slices=slices(firsts),
        regions=view,
        gain_ratios=_gain_ratios(ctrls, K),
        milp=milp_summary(ctrls),
        summary=_summary(ctrls, K),
        table=table,
    )


def _gain_ratios(ctrls: list[Controller], K: np.ndarray) -> dict[str, GainRatio]:
    out = {}
    for name in ("exact", "relu", "tanh", "sigmoid"):
        ratios = np.array([c.lin.K_net[0] / K[0] for c in ctrls if c.name == name])
        out[name] = GainRatio(ratios.mean(axis=0), ratios.min(axis=0), ratios.max(axis=0))
    return out


def _summary(ctrls: list[Controller], K2: np.ndarray) -> dict[str, float]:
    K = K2[0]
    exact, learned = ctrls[0], ctrls[1:]
    by = {name: [c for c in learned if c.name == name] for name in ACTIVATIONS}
    out = {
        "gain_deviation_exact": float(np.abs(exact.lin.K_net[0] - K).max()),
        "radius_l2_formula": float(U_MAX / np.linalg.norm(K)),
    }
    for n in by:
        out[f"gain_error_{n}"] = float(
            np.mean([np.linalg.norm(c.lin.K_net[0] - K) / np.linalg.norm(K) for c in by[n]])
        )
    radii = [c.cert.radius_scaled for c in by["relu"]]
    over = [max(c.command.max_value - U_MAX, -U_MAX - c.command.min_value) for c in by["relu"]]
    smooth = [c.command for n in ("tanh", "sigmoid") for c in by[n]]
    pwl = [exact, *by["relu"]]
    clamps = [c.clamp for c in pwl if c.clamp is not None]
    out |= {
        "radius_scaled_min": min(radii),
        "radius_scaled_max": max(radii),
        "exceedance_max": max(over),
        "smooth_bound_max": max(r.tight_max for r in smooth),
        "smooth_interval_max": max(r.max_bound for r in smooth),
        "smooth_crown_max": max(r.crown_max for r in smooth),
        "smooth_sampled_max": max(r.max_value for r in smooth),
        "n_crown_tighter": sum(
            (r.crown_max < r.max_bound) + (r.crown_min > r.min_bound) for r in smooth
        ),
        "n_smooth_ends": 2 * len(smooth),
        "n_exact_ranges": sum(c.command.exact for c in pwl),
        "n_pwl": len(pwl),
        "n_clamps": len(clamps),
        "n_clamps_proven": sum(cl.proven for cl in clamps),
        "parameters": by["relu"][0].params,
        "sensitivity_formula": float(EPS * np.abs(K) @ HALF),
    }
    return out


def milp_summary(ctrls) -> MilpSummary:
    """Count every MILP extreme (command ranges and sensitivity boxes) by status and gap."""
    ends = []
    for c in ctrls:
        for r in (c.command, c.sens.range):
            if not r.verified:
                continue
            for e, lab in (("max", r.max_label), ("min", r.min_label)):
                gap = abs(getattr(r, f"{e}_bound") - getattr(r, f"{e}_value"))
                ends.append((getattr(r, f"{e}_status"), gap, lab.exact))
    counts = pd.Series([e[0] for e in ends]).value_counts()
    done = [e[1] for e in ends if e[2]]
    open_ = [e[1] for e in ends if not e[2]]
    verified = [c for c in ctrls if c.command.verified]
    notes = [n for c in verified for n in (*c.command.notes, *c.sens.range.notes)]
    notes += [n for c in verified if c.clamp is not None for n in c.clamp.notes]
    return MilpSummary(
        n_exact=sum(e[2] for e in ends),
        n_ends=len(ends),
        statuses=tuple((str(k), int(n)) for k, n in counts.items()),
        certified_gaps=(min(done), max(done)) if done else (),
        open_gaps=(min(open_), max(open_)) if open_ else (),
        notes=tuple(notes),
    )


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
        add("gain_error", c.gain_error, "-", "linearised", "||K_net - K|| / ||K||")
        add("offset", c.lin.u0, "V", "linearised", "u_net(x_ref)")
        add("equilibrium_error", c.lin.x_eq[0] - X_REF[0], "rad", "linearised")
        for k, p in enumerate(c.lin.poles, 1):
            add(f"pole_{k}_real", p.real, "1/s", "linearised", "eig(A - B K_net)")
            add(f"pole_{k}_imag", p.imag, "1/s", "linearised", "eig(A - B K_net)")
        add("damping", c.damping, "-", "linearised", "slowest complex pair")
        add("natural_frequency", c.natural_frequency, "rad/s", "linearised", "slowest complex pair")
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
        _engineering_rows(c, add)
        r = c.command
        for end, lab in (("max", r.max_label), ("min", r.min_label)):
            value, bound = getattr(r, f"{end}_value"), getattr(r, f"{end}_bound")
            how = lab.text if r.verified else f"sampled extreme: {_INNER[end]}"
            add(f"{end}_command", value, "V", lab.value_kind, how)
            how = lab.text if r.verified else _interval_note(r)
            add(f"{end}_command_bound", bound, "V", lab.bound_kind, how)
            add(f"{end}_command_gap", abs(bound - value), "V", lab.bound_kind, "|bound - value|")
        if not r.verified and np.isfinite(r.crown_max):
            _crown_rows(r, add)
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


_INNER = {"max": "a lower bound of the max", "min": "an upper bound of the min"}


def _interval_note(r) -> str:
    return f"interval + best-first over <= {r.interval_budget} boxes: sound bound, not exact"


def _crown_rows(r, add) -> None:
    """A smooth controller's CROWN bounds of the command's extremes, and the tighter bounds."""
    how = f"CROWN + branch and bound over {r.crown_boxes} boxes: sound bound, not exact"
    add("max_command_crown_bound", r.crown_max, "V", "sound bound", how)
    add("min_command_crown_bound", r.crown_min, "V", "sound bound", how)
    how = "tighter of the CROWN and interval bounds: sound bound, not exact"
    add("max_command_tight_bound", r.tight_max, "V", "sound bound", how)
    add("min_command_tight_bound", r.tight_min, "V", "sound bound", how)


_STEP_UNITS = {"rise_time": "s", "settling_time": "s", "overshoot": "%"}
_STEP_UNITS |= {"steady_state_error": "rad"}


def _engineering_rows(c: Controller, add) -> None:
    """Margins (linearised), worst case over the plant variations, the sampled-data loop."""
    m = c.margins
    note = "L(s) = K_net (sI - A)^-1 B, broken at the plant input"
    if np.isfinite(m.gain_margin):  # no phase crossover: infinite, no row
        add("gain_margin", m.gain_margin, "-", "linearised", note)
    add("phase_margin", m.phase_margin, "deg", "linearised", note)
    add("crossover_frequency", m.crossover, "rad/s", "linearised", note)
    note = "balanced disk margin alpha = 1 / max |(S - T) / 2|"
    add("disk_margin", m.disk_margin, "-", "linearised", note)
    add("disk_gain_margin", m.disk_gain_margin, "dB", "linearised", note)
    add("disk_phase_margin", m.disk_phase_margin, "deg", "linearised", note)
    n = int(c.robust["n_plants"])
    note = f"worst of {n} plants: +-20 % in J, b, K, R, L (32 corners, 10 one at a time)"
    for q, unit in _STEP_UNITS.items():
        v = c.robust[q]
        if np.isfinite(v):  # NaN: some plant never rises or settles; no row
            at = f"; worst at {c.robust['overshoot_plant']}" if q == "overshoot" else ""
            add(f"worst_{q}", v, unit, "simulated", note + at)
    note = f"zero-order hold, Ts = {TS * 1e3:g} ms, exact discretisation"
    for q, unit in _STEP_UNITS.items():
        if np.isfinite(c.sampled[q]):
            add(f"sampled_{q}", c.sampled[q], unit, "sampled", note)
    add("sampled_spectral_radius", c.sampled["spectral_radius"], "-", "linearised",
        f"max |eig(Ad - Bd K_net)|, Ts = {TS * 1e3:g} ms")  # fmt: skip


def _box_rows(a_cl: np.ndarray) -> list[tuple]:
    """The reachable peaks (exact), the operating box built on them, the sampling time."""
    note = f"sup from rest under |u| <= {U_MAX:g} V: u_max x L1 norm of the impulse response"
    rows = [
        _row("box", "motor", -1, "reach_omega", REACH[0], "rad/s", "exact", note),
        _row("box", "motor", -1, "reach_i", REACH[1], "A", "exact", note),
    ]
    note = f"operating box: reachable peak + {100 * REACH_MARGIN:g} % (theta: one turn)"
    for j, state in enumerate(STATES):
        unit = ("rad", "rad/s", "A")[j]
        rows.append(_row("box", "motor", -1, f"half_{state}", HALF[j], unit, "configured", note))
    rows.append(_row("box", "LQR", -1, "sampling_time", TS, "s", "configured", "zero-order hold"))
    fastest = float(np.abs(np.linalg.eigvals(a_cl)).max())
    rows.append(_row("box", "LQR", -1, "fastest_pole_times_ts", fastest * TS, "-", "linearised",
                     "|p| Ts of the fastest pole of A - B K"))  # fmt: skip
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
        _row("mpc", "explicit MPC", -1, "critical_regions", m.n_regions, "-", "exact"),
        _row("mpc", "explicit MPC", -1, "affine_pieces", m.pieces, "-", "exact", "of u0(x)"),
        _row("mpc", "explicit MPC", -1, "qp_gap", m.qp_gap, "-", "sampled", "QP vs regions"),
    ]
    for act, fit in m.fits.items():
        rows += [
            _row("mpc", act, seed, "parameters", fit.parameters, "-", "count"),
            _row("mpc", act, seed, "rmse", fit.rmse, "-", "grid", "201 x 161 states"),
            _row("mpc", act, seed, "max_error", fit.max_error, "-", "grid", "201 x 161 states"),
        ]
    rows.append(_row("mpc", "relu", seed, "linear_regions", len(m.relu_partition), "-", "exact"))
    return rows + _network_rows(m.cert.network) + _certificate_rows(m.cert, seed)


def _network_rows(n) -> list[tuple]:
    """The law's exact network: size, error against its bound, regions merged by map."""
    ctrl = "MPC network"
    rows = [
        _row("mpc", ctrl, -1, "hidden_layers", n.hidden_layers, "-", "count", "pwa_to_relu(law)"),
        _row("mpc", ctrl, -1, "relus", n.relus, "-", "count", "pwa_to_relu(law)"),
        _row("mpc", ctrl, -1, "parameters", n.parameters, "-", "count", "pwa_to_relu(law)"),
        _row("mpc", ctrl, -1, "max_error", n.max_error, "-", "grid",
             "|net - law|, float64, 201 x 161 states"),
        _row("mpc", ctrl, -1, "error_bound", n.error_bound, "-", "sound bound",
             "pwa_rounding_bound: over the whole box"),
        _row("mpc", ctrl, -1, "linear_regions", n.n_regions, "-", "exact", "partition"),
        _row("mpc", ctrl, -1, "affine_pieces", n.n_pieces, "-", "exact", "distinct maps"),
        _row("mpc", ctrl, -1, "merged_regions", n.n_merged, "-", "exact",
             "regions merged by map (simplify)"),
        _row("mpc", "explicit MPC", -1, "merged_regions", n.n_law_merged, "-", "exact",
             "critical regions merged by map (simplify)"),
        _row("mpc", ctrl, -1, "regions_coincide", n.same_maps, "-", "exact",
             "merged regions matched one to one by map"),
        _row("mpc", ctrl, -1, "region_distance", n.region_distance, "-", "exact",
             "largest vertex distance, matched merged regions (float64)"),
    ]  # fmt: skip
    return rows


def _certificate_rows(c, seed: int) -> list[tuple]:
    """Closed-loop certificates of the law and the ReLU fit, the tanh fit's command bounds."""
    rows = [
        _row("mpc", "LQR", -1, "hu_lin_level", c.ellipse_level, "-", "exact",
             f"largest x'Px <= level with |Kx| <= {U_BOUND:g} in the box (Hu and Lin 2001)"),
        _row("mpc", "LQR", -1, "hu_lin_area", c.ellipse_area, "-", "exact", "of that ellipse"),
    ]  # fmt: skip
    facets = [f"{sg}x{j + 1} <= {BOX[j]:g}" for sg in ("", "-") for j in range(2)]
    for ctrl, s, e in (("explicit MPC", -1, c.law), ("relu", seed, c.relu)):

        def add(q, v, kind, note="-", ctrl=ctrl, s=s):
            rows.append(_row("mpc", ctrl, s, q, v, "-", kind, note))

        exact = e.u_label == "exact"
        note = "max |u| over the box; " + e.u_label
        add("certified_max_command", e.u_max, "exact" if exact else "attained", note)
        add("certified_max_command_bound", e.u_bound, "verified bound" if exact else "sound bound",
            note)  # fmt: skip
        for k, f in enumerate(facets):
            add(f"box_margin_{k}", e.box_margins[k], "exact",
                f"facet {f}: its bound - max over the box at x+ (< 0: fails)")  # fmt: skip
        add("box_invariant", e.box_verdict == "invariant", "exact", e.box_verdict)
        if e.box_witness is not None:
            for j in range(2):
                add(f"box_witness_x{j + 1}", e.box_witness[j], "exact",
                    f"x in the box whose successor breaks facet {facets[e.box_worst]}")  # fmt: skip
        note = f"largest LQR polytope scaling verified invariant, |u| <= {U_BOUND:g}, in the box"
        add("roa_alpha", e.alpha, "certified", note)
        add("roa_alpha_cap", e.alpha_cap, "exact", "largest scaling inside the box")
        add("roa_area", e.area, "certified", "area of alpha x LQR polytope")
        add("roa_area_ratio", e.area / c.ellipse_area, "certified", "over the Hu-Lin ellipse")
        for k, mg in enumerate(e.margins):
            add(f"roa_margin_{k}", mg, "exact", "facet margin of alpha x LQR polytope at x+")
        kind = "certified" if e.converges else "not claimed"
        add("converges", e.converges, kind, e.reason or f"level ladder, {e.levels} levels")
        if np.isfinite(e.rate):
            add("convergence_rate", e.rate, "certified", "gauge contraction where linear")
    note = (
        f"{c.trajectories.shape[0]} runs of {c.trajectories.shape[1] - 1} steps from its boundary"
    )
    rows += [
        _row("mpc", "explicit MPC", -1, "trajectory_max_gauge", c.gauge_max, "-", "simulated",
             f"max S_A x along the runs (inside alpha S: <= alpha); {note}"),
        _row("mpc", "explicit MPC", -1, "trajectory_final_norm", c.final_norm, "-", "simulated",
             f"largest |x| at the last step; {note}"),
    ]  # fmt: skip
    t = c.crown
    rows += [
        _row("mpc", "tanh", seed, "max_command", t.sampled, "-", "sampled",
             f"max |u| at {t.n_sampled} uniform states"),
        _row("mpc", "tanh", seed, "crown_bound", t.crown, "-", "sound bound",
             f"CROWN, {t.boxes} boxes: sound bound, not exact"),
        _row("mpc", "tanh", seed, "interval_bound", t.interval, "-", "interval bound",
             "plain interval arithmetic over the box"),
    ]  # fmt: skip
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
