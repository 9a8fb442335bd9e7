"""The control study's Markdown section, worded from a ControlResult: nothing computed here."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..report import markdown_table
from ._result import ControlResult, MilpSummary
from ._section_mpc import write_mpc

__all__: list[str] = []


def _label(c) -> str:
    return "exact law" if c.seed < 0 else f"{c.name} (seed {c.seed})"


def _poles(p: np.ndarray) -> str:
    out = []
    for z in p:
        if abs(z.imag) < 1e-12:
            out.append(f"{z.real:.3f}")
        elif z.imag > 0:
            out.append(f"{z.real:.3f} +- {z.imag:.3f}j")
    return ", ".join(out)


def _gains_table(ctrls) -> pd.DataFrame:
    rows = []
    for c in ctrls:
        k = c.lin.K_net[0]
        rows.append(
            {
                "controller": _label(c),
                "K_theta (V/rad)": k[0],
                "K_omega (V s/rad)": k[1],
                "K_i (V/A)": k[2],
                "offset u(x_ref) (V)": c.lin.u0,
                "equilibrium error (mrad)": 1e3 * (c.lin.x_eq[0] - 1.0),
                "poles of A - B K_net (1/s)": _poles(c.lin.poles),
                "damping": c.damping,
            }
        )
    return pd.DataFrame(rows)


def _region_table(ctrls) -> pd.DataFrame:
    rows = []
    for c in ctrls:
        if c.cert is None:
            continue
        e = c.cert
        rows.append(
            {
                "controller": _label(c),
                "radius, scaled inf-norm": e.radius_scaled,
                "radius, l2 (raw units)": e.radius_l2,
                "ellipsoid level c": e.level,
                "theta half-width at rest (rad)": e.theta_at_rest,
                "largest theta on ellipsoid (rad)": e.theta_extent,
            }
        )
    return pd.DataFrame(rows)


def _or_missing(m: dict) -> dict:
    """None (a figure that does not exist) as the words 'not reached'."""
    return {k: ("not reached" if v is None else v) for k, v in m.items()}


def _step_table(ctrls) -> pd.DataFrame:
    rows = []
    for c in ctrls:
        m = _or_missing(c.metrics)
        rows.append(
            {
                "controller": _label(c),
                "rise (s)": m["rise_time"],
                "settling 2% (s)": m["settling_time"],
                "overshoot (%)": m["overshoot"],
                "steady-state error (mrad)": 1e3 * c.metrics["steady_state_error"],
                "peak command (V)": m["peak_command"],
                "effort int u^2 (V^2 s)": m["effort"],
                "time saturated (s)": m["time_saturated"],
            }
        )
    return pd.DataFrame(rows)


def _headline_method(num: dict) -> str:
    """Which method gives the headline bound of the max command: words for the section."""
    if num["smooth_bound_max"] == num["smooth_crown_max"] < num["smooth_interval_max"]:
        return "CROWN's"
    if num["smooth_bound_max"] == num["smooth_interval_max"] < num["smooth_crown_max"]:
        return "the interval bound's"
    return "CROWN's and the interval bound's alike"


def _proven(r, label, crown_tighter: bool) -> str:
    """What a bound of the command table is: the MILP's label, or which sound method gave it."""
    if r.verified:
        return label.text
    return f"not exact: sampled / {'CROWN' if crown_tighter else 'interval'}"


def _verify_table(ctrls) -> pd.DataFrame:
    rows = []
    for c in ctrls:
        r = c.command
        proof = "-"
        if c.clamp is not None:
            proof = " and ".join(f"{p.status} {p.sense} {p.threshold:.9g}" for p in c.clamp[:2])
        rows.append(
            {
                "controller": _label(c),
                "max u (V)": f"{r.max_value:.7f}",
                "max bound (V)": f"{r.max_bound if r.verified else r.tight_max:.7f}",
                "max: what is proven": _proven(r, r.max_label, r.crown_max < r.max_bound),
                "min u (V)": f"{r.min_value:.7f}",
                "min bound (V)": f"{r.min_bound if r.verified else r.tight_min:.7f}",
                "min: what is proven": _proven(r, r.min_label, r.crown_min > r.min_bound),
                "interval max / min bound (V)": (
                    "-" if r.verified else f"{r.max_bound:.4f} / {r.min_bound:.4f}"
                ),
                "witness of max (theta, omega, i)": "("
                + ", ".join(f"{v:.3g}" for v in r.max_witness)
                + ")",
                "clamped net": proof,
                "sensitivity (V)": c.sens.value,
                "sensitivity bound (V)": c.sens.bound,
                "sensitivity: what is proven": c.sens.label.text,
            }
        )
    return pd.DataFrame(rows)


def _status_text(milp: MilpSummary) -> str:
    """What each status means, the tolerances, and any SolverInconsistencyWarning, explained."""
    from ._verify import ATOLS, INTEGRALITY, RTOL

    statuses = ", ".join(f"{n} {k}" for k, n in milp.statuses)
    notes = milp.notes
    tols = " V, then ".join(f"{t:g}" for t in ATOLS)
    s = (
        '**What the labels mean.** A MILP maximum (`pwlmodels.maximize`, `method="milp"`) '
        "returns a value *attained* at its witness state (a float64 forward pass, so the true "
        "maximum is at least that), a *sound bound* (the true maximum is at most that) and a "
        "status. `optimal`: the gap is closed to the stated tolerance, "
        "bound - value <= atol + rtol |value|; only then does the table call the value *exact* "
        '("exact (MILP, optimal, gap ... V <= atol ... V)", kind exact / verified bound). '
        "`node_limit`: the verifier stopped before that, at its node or box budget; "
        "`precision_limit`: it finished within its budget but the gap stays above the "
        "tolerance (the float64 margins of the sound bound, or a witness off by HiGHS's "
        "integrality tolerance); `time_limit`: it ran "
        "out of time. Then the value and the bound still hold and the true maximum lies between "
        'them: the table says "sound bound (MILP stopped at node_limit, gap ... V)", kind '
        "attained / sound bound, never exact. Minima mirrored. For the clamped networks "
        "(`prove_bound`), `proven` means the inequality holds at every state of the box; "
        "`undecided` means neither it nor a counterexample was established, and the bound "
        "printed with it is then only a sound bound.\n"
        f"\n**Tolerances.** Each extreme is solved at atol = {tols} V if the first is not "
        f"certified, with rtol = {RTOL:g}; the label states the atol used. Why not tighter: "
        f"HiGHS accepts a binary within its integrality tolerance ({INTEGRALITY:g}) of 0 or "
        f"1, so an unstable unit's output may move by {INTEGRALITY:g} times its big-M constant "
        "(its pre-activation bound: 3 to 9 for the learned networks' hidden units, with output "
        "weights up to about 12 V, i.e. big-M near 30 V and more in output units), which can "
        "loosen the solver's dual bound by up to about 1e-3 V when every unit contributes "
        "(measured: 3e-6 to 5.4e-5 V on the full run's learned networks, seeds 0 to 2); "
        f"{ATOLS[-1]:g} V (below 1e-5 of the "
        f"12 V limit) is within reach of that bound, {ATOLS[0]:g} V only when the bound is "
        "confirmed by pwlmodels' own branch and bound. "
        f"In this run {milp.n_exact} of {milp.n_ends} MILP extremes (command ranges and "
        f"sensitivity boxes) are certified: statuses {statuses}"
    )
    if milp.certified_gaps:
        lo, hi = milp.certified_gaps
        s += f"; certified gaps {lo:.1e} to {hi:.1e} V"
    if milp.open_gaps:
        lo, hi = milp.open_gaps
        s += (
            f"; gaps left open {lo:.1e} to "
            f"{hi:.1e} V (those rows are sound bounds, not exact values)"
        )
    s += ".\n"
    if notes:
        s += (
            f"\n**A solver warning, explained.** The MILP raised {len(notes)} "
            f"`SolverInconsistencyWarning`{'s' if len(notes) > 1 else ''}, caught by the "
            "study and recorded here, e.g. "
            f'"{notes[0]}". It means that HiGHS\'s own objective at its solution exceeds the '
            "float64 "
            "forward pass of the network there: a binary within the integrality tolerance "
            f"({INTEGRALITY:g}) of 0 or 1, times a big-M near 30 V, lets the solver's objective "
            "exceed the true value. The study reports the float64 value at the witness "
            "(attained) and pwlmodels' bound (sound, with its margins), so the values and "
            "bounds above remain sound; only the solver's objective is off, and the status "
            "says whether the gap was closed (a warned solve that did not certify was retried "
            "at the looser tolerance).\n"
        )
    else:
        s += "\nNo `SolverInconsistencyWarning` was raised in this run.\n"
    return s


def _speed_table(runs) -> pd.DataFrame:
    from ._config import SPEED_STEP

    rows = []
    for r in runs:
        m = _or_missing(r.metrics)
        rows.append(
            {
                "controller": f"{r.activation} unit",
                "right gain (V s/rad)": r.gain_right,
                "left gain (V s/rad)": r.gain_left,
                "damping (right gain)": r.damping_right,
                "rise (s)": m["rise_time"],
                "overshoot (%)": m["overshoot"],
                "settling 2% (s)": m["settling_time"],
                "final speed / r": r.metrics["steady_state"] / SPEED_STEP,
                "min u (V)": r.u_min,
            }
        )
    return pd.DataFrame(rows)


def _margins_table(ctrls) -> pd.DataFrame:
    rows = []
    for c in ctrls:
        m = c.margins
        rows.append(
            {
                "controller": _label(c),
                "gain margin": "inf" if np.isinf(m.gain_margin) else f"{m.gain_margin:.3g}",
                "phase margin (deg)": m.phase_margin,
                "crossover (rad/s)": m.crossover,
                "disk margin alpha": m.disk_margin,
                "disk gain margin (dB)": m.disk_gain_margin,
                "disk phase margin (deg)": m.disk_phase_margin,
            }
        )
    return pd.DataFrame(rows)


def _nan_missing(v: float) -> float | str:
    return "not reached" if np.isnan(v) else v


def _robust_table(ctrls) -> pd.DataFrame:
    rows = []
    for c in ctrls:
        w, d, m = c.robust, c.sampled, _or_missing(c.metrics)
        rows.append(
            {
                "controller": _label(c),
                "rise (s)": m["rise_time"],
                "worst rise (s)": _nan_missing(w["rise_time"]),
                "sampled rise (s)": _nan_missing(d["rise_time"]),
                "settling (s)": m["settling_time"],
                "worst settling (s)": _nan_missing(w["settling_time"]),
                "sampled settling (s)": _nan_missing(d["settling_time"]),
                "overshoot (%)": m["overshoot"],
                "worst overshoot (%)": w["overshoot"],
                "sampled overshoot (%)": d["overshoot"],
                "worst abs. error at 4 s (mrad)": 1e3 * w["steady_state_error"],
                "sampled error at 4 s (mrad)": 1e3 * d["steady_state_error"],
                "spectral radius of Ad - Bd K_net": d["spectral_radius"],
            }
        )
    return pd.DataFrame(rows)


def _engineering_text(ctrls) -> str:
    from ._config import HALF, REACH, REACH_MARGIN, T_POSITION, U_MAX
    from ._engineering import SUB, TS, VARIATION

    exact = ctrls[0]
    fastest = np.abs(exact.lin.poles).max()
    s = ["\n### Engineering checks: reachable box, margins, plant variations, sampling\n"]
    s.append(
        "**The operating box is what the motor can reach.** From rest, under any input "
        f"|u| <= {U_MAX:g} V, sup |omega(t)| and sup |i(t)| are {U_MAX:g} V times the L1 norm "
        "of the impulse response from u to omega and to i (the exact peak-to-peak gain: the "
        "bang-bang input u(s) = u_max sign h(T - s) attains it as T grows), integrated exactly "
        "between the sign changes of h: "
        f"{REACH[0]:.4f} rad/s and {REACH[1]:.4f} A (both responses keep one sign, so these "
        "are the steady states). The box adds "
        f"{100 * REACH_MARGIN:g} %: |omega| <= {HALF[1]:.4f} rad/s, |i| <= {HALF[2]:.4f} A, and "
        "|theta| <= pi (one turn either way; the angle is an integrator, unbounded). Training "
        "samples, command bounds, witnesses and the regions are all on this box; the former "
        "box (5 rad/s, 15 A) put the worst-case witnesses at corners no input can reach. "
        "A test checks the bound against a dense simulation of the worst bang-bang input "
        "(1e-3 relative).\n"
    )
    s.append(
        "\n**Margins** (linearised, kind `linearised`) of the loop broken at the plant input, "
        "L(s) = K_net (sI - A)^-1 B with each controller's local gain at x_ref, from "
        "python-control's `stability_margins` and `disk_margins` (balanced disk margin "
        "alpha = 1 / max_w |(S - T)(jw) / 2|, Blight et al. 1994, Seiler et al. 2020; the disk "
        "gain margin is the gain interval [(1 - alpha/2)/(1 + alpha/2), its inverse] in dB). "
        "Full-state LQR guarantees an infinite gain margin upward and at least 60 degrees of "
        "phase margin; a learned gain keeps them only as far as it is close to K. These are "
        "small-signal margins at the set point: with the actuator saturated the loop is not "
        "linear.\n"
    )
    s.append(markdown_table(_margins_table(ctrls)))
    s.append("\n![Nyquist plots and margins of the linearised loops](margins.png)\n")
    s.append(
        "\n**Plant variations and sampling.** Worst step figures of the saturated loop "
        f"(1 rad step from rest, {T_POSITION:g} s) over 42 plants: the 32 corners of "
        f"+-{100 * VARIATION:g} % in each of J, b, K, R, L and the 10 one-at-a-time "
        "variations (classical RK4, steps of 1 ms, checked against solve_ivp to 1e-5 rad), kind "
        f"`simulated`. Sampled data: the controller sampled every Ts = {1e3 * TS:g} ms with a "
        "zero-order hold (the command from x(k Ts) applied at k Ts, no computation delay) on "
        "the exactly discretised plant (expm of the augmented matrix; equal "
        f"to python-control's `c2d`), the state recorded every {1e3 * TS / SUB:g} ms, kind "
        f"`sampled`. Ts is chosen against the fastest linearised closed-loop pole (|p| = "
        f"{fastest:.3g} 1/s for the exact law: |p| Ts = {fastest * TS:.2f}, about "
        f"{2 * np.pi / (exact.natural_frequency * TS):.0f} samples per period of the dominant "
        "pair); the last column is the spectral radius of the sampled linearised loop "
        "(below 1: stable). The largest overshoot of the exact law is at "
        f"{exact.robust['overshoot_plant']}.\n"
    )
    s.append(markdown_table(_robust_table(ctrls)))
    return "\n".join(s)


def write(result: ControlResult) -> str:
    """The section text."""
    from ._config import EPS, HALF, REACH_MARGIN, SPEED_GAIN, SPEED_STEP, T_POSITION, U_MAX
    from ._sim import N_POINTS, SOLVER

    K, ctrls, runs, cfg = result.K[0], result.controllers, result.speed, result.config
    exact = ctrls[0]
    tr = cfg.training
    seed_list = ("seed " if len(result.seeds) == 1 else "seeds ") + ", ".join(
        str(x) for x in result.seeds
    )
    num = result.summary
    agree = (
        "exactly" if num["gain_deviation_exact"] == 0 else f"to {num['gain_deviation_exact']:.1e}"
    )
    l2 = num["radius_l2_formula"]
    gerr = {n: num[f"gain_error_{n}"] for n in ("relu", "tanh", "sigmoid")}
    params = num["parameters"]
    ex = exact.command
    hard = {r.activation: r for r in runs}
    ours = {q: v for (_, _, _, q, v, _, _, _) in result.check}
    s = []
    s.append("## Control: a saturated LQR law is a ReLU network\n")
    s.append(
        "**Set-up.** The position loop of a DC motor (CTMS parameters J = 0.01 kg m^2, "
        "b = 0.1 N m s, K = 0.01 N m/A, R = 1 ohm, L = 0.5 H), state x = (theta rad, omega rad/s, "
        f"i A), input the armature voltage, physically clipped at +-{U_MAX:g} V for every "
        "controller. Reference law: the **saturated LQR** law u = sat(-K (x - x_ref)), "
        "x_ref = (1 rad, 0, 0), weights by Bryson's rule (Bryson and Ho 1975): "
        f"Q = diag(1/0.1^2, 0, 0), R = 1/{U_MAX:g}^2, giving K = "
        f"[{K[0]:.2f}, {K[1]:.2f}, {K[2]:.2f}]. A 1 rad step asks for {K[0]:.0f} V against "
        f"{U_MAX:g} V, so the saturation is active for most of the transient. This is not the "
        "constrained optimum (explicit MPC gives that, Bemporad et al. 2002); it is the law "
        "practitioners deploy, and it is continuous piecewise linear, so `saturated_law` "
        "writes it *exactly* as a ReLU network with two hidden units, "
        "relu(z + u_max) - relu(z - u_max) - u_max. Learned controllers: ReLU, tanh and sigmoid "
        f"networks 3-{tr.hidden[0]}-{tr.hidden[1]}-1 ({params} parameters each), trained on "
        f"{tr.n_samples} states of the operating box |theta| <= pi, |omega| <= {HALF[1]:.4g} "
        f"rad/s, |i| <= {HALF[2]:.4g} A (the reachable set plus {100 * REACH_MARGIN:g} %, "
        "below; half uniform, half in the thin slab where the law is unsaturated), "
        f"{tr.epochs} full-batch Adam epochs (lr {tr.lr:g}) then {tr.polish} L-BFGS steps, "
        f"inputs scaled to [-1, 1] and the scalings folded into the float64 controller; "
        f"one network per activation and seed ({seed_list})"
        + (" (quick mode: the first seed, fewer samples and epochs)." if cfg.quick else ".")
        + "\n"
    )
    s.append("### The gain is the local slope\n")
    s.append(
        "For a piecewise-linear controller, the Jacobian at the set point is exact: "
        "`K_net = -local_gain(net, x_ref)`, read from the local affine map of x_ref's activation "
        f"region. For the exact network it equals K {agree}. The learned networks' gains "
        f"differ from K by {100 * gerr['relu']:.2g} % (ReLU), {100 * gerr['tanh']:.2g} % (tanh) "
        f"and {100 * gerr['sigmoid']:.2g} % (sigmoid) on average (relative 2-norm); a non-zero "
        "offset u_net(x_ref) shifts the equilibrium to theta = 1 + offset/K_theta (no integral "
        "action), the predicted steady-state error below. The poles of A - B K_net are what a "
        "linear design would see.\n"
    )
    s.append(markdown_table(_gains_table(ctrls)))
    s.append("\n![Gains at the set point relative to LQR; one-unit gains](gains.png)\n")
    s.append("### Linear region and certified invariant ellipsoid (ReLU)\n")
    s.append(
        "Around x_ref a ReLU controller is exactly affine on its activation region. For the exact "
        f"network the region is the unsaturated slab |K (x - x_ref)| < {U_MAX:g} V, whose l2 "
        f"radius is u_max / ||K||_2 = {l2:.4f} (measured {exact.cert.radius_l2:.4f}); in the "
        "scaled infinity norm (states divided by the box half-widths, so 1 is the whole box) it "
        f"is {exact.cert.radius_scaled:.4f}. The learned ReLU networks' regions are bounded by "
        f"their other units' kinks too: scaled radii {num['radius_scaled_min']:.4f} to "
        f"{num['radius_scaled_max']:.4f}. "
        "Inside the region, P solving (A - B K_net)' P + P (A - B K_net) = "
        "-(Q + K_net' R K_net) (for the exact law: the LQR Riccati matrix) gives the largest "
        "level set {(x - x_eq)' P (x - x_eq) <= c} that stays in the region, in the box and "
        "below the actuator limit: on it the closed loop is exactly linear and every "
        "trajectory converges (Hu and Lin 2001). The radius from `region_radius` is a lower "
        "bound on the radius of linearity (neighbouring regions can share a map).\n"
    )
    s.append(markdown_table(_region_table(ctrls)))
    s.append(
        "\n![Linear regions of the learned ReLU controller on the slice i = 0 and the invariant "
        "ellipsoid](regions.png)\n"
    )
    s.append("### Closed-loop step responses\n")
    s.append(
        f"solve_ivp ({SOLVER['method']}, rtol {SOLVER['rtol']:g}, atol {SOLVER['atol']:g}, "
        f"max_step {SOLVER['max_step']:g} s, {N_POINTS} samples over {T_POSITION:g} s) from "
        "rest; metrics by `step_metrics` (python-control's definitions: 10-90 % rise, 2 % band, "
        "last exit), steady-state error theta(4 s) - 1, peak |commanded u|, effort int u^2 dt of "
        "the applied input, time with |commanded u| >= 0.99 x 12 V (in saturation).\n"
    )
    s.append(markdown_table(_step_table(ctrls)))
    s.append("\n![Step responses and applied voltage](steps.png)\n")
    s.append("\n![Slices of the controllers through x_ref, with the exact kinks](slices.png)\n")
    s.append("### Command bounds: proven, and exact where the MILP is optimal\n")
    n_ok, n_proven, n_clamps = num["n_exact_ranges"], num["n_clamps_proven"], num["n_clamps"]
    if ex.exact:
        ex_text = (
            "the actuator limit, up to float64 rounding of the forward pass and the verifier's "
            "stated margin"
        )
    else:
        ex_text = (
            "the values are the actuator limit, attained; the bounds are sound but the gap "
            "is not closed, so the range is not certified exact here"
        )
    s.append(
        "Over the whole operating box, the maximum and minimum of each ReLU controller's "
        "command come from `pwlmodels.maximize` / `minimize` (MILP): a value attained at the "
        "witness and a proven bound, with a status; both ends are certified optimal for "
        f"{n_ok} of the {num['n_pwl']} ReLU controllers, and the table's "
        '"what is proven" columns say what holds for each end. Exact law: max = '
        f"{float(ex.max_value)!r} V (bound {ex.max_bound:.10g} V; {ex.max_label.text}), "
        f"min = {float(ex.min_value)!r} V (bound {ex.min_bound:.10g} V; "
        f"{ex.min_label.text}): {ex_text}. The learned "
        f"ReLU networks command at least {num['exceedance_max']:.4g} V beyond the limit "
        "(attained at the witness states in the table): harmless through the actuator's clip, "
        "but the network is not the law there. Appending an exact output clamp (two more "
        "ReLUs) makes the bound provable in principle: `prove_bound` on the clamped network, "
        "with the threshold 12 V + 1 uV (the float64 forward pass of "
        "relu(y + 12) - relu(y - 12) - 12 itself rounds to 12 + 1e-14 V, which is a "
        "counterexample to exactly 12 V); here "
        f"{n_proven} of {n_clamps} clamped networks are `proven` both ways"
        + (
            ""
            if n_proven == n_clamps
            else " (for the others the table prints the status, `undecided`: no claim)"
        )
        + ". tanh and sigmoid networks cannot be "
        "verified this way: the table gives the largest of "
        f"{cfg.n_sampled:.0e} uniformly sampled commands (a lower bound of the maximum, up "
        f"to {num['smooth_sampled_max']:.4g} V) and two sound bounds of each extreme, both "
        "labelled sound bound, not exact: interval arithmetic with best-first box splitting "
        f"(at most {cfg.budget} boxes per extreme; up to {num['smooth_interval_max']:.4g} V "
        "for the max), and CROWN linear relaxations with best-first branch and bound on the "
        "input (`crown_bound`: each extreme searched on its own, the boxes with the worst bound "
        "halved first across the side along which their linear bound varies most; "
        f"{cfg.crown_budget} boxes shared by the two extremes, the count in each row's note; "
        f"up to {num['smooth_crown_max']:.4g} V for the max). CROWN is the tighter at "
        f"{num['n_crown_tighter']} of the {num['n_smooth_ends']} extremes"
        + (
            ""
            if num["n_crown_tighter"] == num["n_smooth_ends"]
            else " (at the others the interval bound is, and the table says so)"
        )
        + ". On one box CROWN is never the looser (its intermediate and output bounds are "
        "intersected with interval ones, and it carries a linear function of the state "
        "through the layers, where interval arithmetic ignores how the hidden units' outputs "
        "depend on each other, so boxes across the steep unsaturated slab keep wide bounds); "
        "a CROWN box costs far more than an interval box, so at a given time the interval "
        "bound can split further, and which ends tighter is what the count above says. The "
        "table's bound columns give the tighter of the two at each extreme, with the method "
        "in its 'what is proven' column, and the interval bounds in a column of their own. "
        "The headline sound bound is the tighter of the two at each extreme, here "
        f"{_headline_method(num)}: up to {num['smooth_bound_max']:.4g} V against the "
        f"{U_MAX:g} V limit, {num['smooth_bound_max'] - num['smooth_sampled_max']:.2g} V above "
        "the largest sampled command (rows `*_tight_bound`). Sensitivity: the "
        f"largest |u(x) - u(x_ref)| over the box |x_j - x_ref_j| <= {EPS:g} half-width_j, from "
        "the MILP extremes over that box (exact only when both are optimal); for "
        f"the exact law it is {EPS:g} ||K diag(half-widths)||_1 = {num['sensitivity_formula']:.4f} "
        "V while the box lies in the slab.\n"
    )
    s.append(_status_text(result.milp))
    s.append(markdown_table(_verify_table(ctrls)))
    s.append(_engineering_text(ctrls))
    s.append("\n### An activation's slope is a gain: the speed loop\n")
    s.append(
        f"One-unit controllers u = k (sigma(e) - sigma(0)), e = r - omega, k = {SPEED_GAIN:g}, on "
        f"the speed loop, step r = {SPEED_STEP:g} rad/s (k r = {SPEED_GAIN * SPEED_STEP:g} V, "
        f"below the {U_MAX:g} V limit, so the loop stays small-signal). The local gains at "
        f"e = 0 are k, k and k/4: {hard['hardtanh'].gain_right:g}, "
        f"{hard['tanh'].gain_right:g}, {hard['sigmoid'].gain_right:g} (hardtanh exact, tanh and "
        "sigmoid by autograd). The second-order loop then has damping "
        f"{hard['hardtanh'].damping_right:.2f} at gain {hard['hardtanh'].gain_right:g} and "
        f"{hard['sigmoid'].damping_right:.2f} at {hard['sigmoid'].gain_right:g}: the larger "
        "gain is faster and more oscillatory, and P control leaves a larger steady-state error "
        "at the smaller gain. ReLU alone is one-sided: right gain "
        f"{hard['relu'].gain_right:g}, left gain {hard['relu'].gain_left:g} (autograd reports "
        "relu'(0) = 0, neither); its command never goes negative, so after the overshoot it "
        "cannot brake and the speed coasts down on the motor's own friction.\n"
    )
    s.append(markdown_table(_speed_table(runs)))
    s.append("\n![Speed loop: slope 1 vs 1/4, and the one-sided ReLU](speed.png)\n")
    s.append(
        "\nCross-check of `step_metrics` on the linear speed loop under P gain 100, unit step, "
        "T = linspace(0, 5, 5001) (exact zero-order-hold samples, no actuator limit): rise "
        f"{ours['rise_time']:.4g} s, settling {ours['settling_time']:.4g} s, overshoot "
        f"{ours['overshoot']:.5g} %, steady state {ours['steady_state']:.5g}"
        + " (tests/applications/test_control.py checks these against python-control's "
        "`step_info` on the same samples).\n"
    )
    s += write_mpc(result)
    s.append(
        "\n**Table.** `table.csv` is tidy: one row per study, controller, seed and quantity, "
        "with unit, kind (exact, verified bound, certified, sound bound, sampled, "
        "interval bound, linearised, simulated, not claimed...) and a note; kind exact for a "
        "MILP extreme only when its status is "
        "optimal, attained and sound bound otherwise (the note says which); "
        "seed -1 marks controllers that involve no randomness. "
        "Quantities that do not apply (regions of smooth networks, a settling time that is "
        "not reached) have no row, so the table has no NaN.\n"
    )
    s.append(
        "\n**What it means for a control engineer.** A ReLU controller is a PWL law: its "
        "gain at the set point, its linear region and an invariant ellipsoid in it are "
        "computed exactly, and its command range over the operating box has proven bounds, "
        "not sampled ones, certified exact where the MILP's status is optimal. A tanh or "
        "sigmoid controller that tracks the law as well offers only a linearisation at a "
        "point, samples and sound but inexact bounds (CROWN, intervals). The explicit MPC "
        "law is itself an exact ReLU network, and the closed loop of any PWL controller is "
        "certified as a whole: command bound, invariance facet by facet, a region of "
        "attraction with a convergence proof where one exists.\n"
    )
    return "\n".join(s)
