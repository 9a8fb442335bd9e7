"""The Markdown section of the economics study: every number comes from an ``EconomicsResult``.

It formats the result's table, its seed summary (mean ± sd over seeds where
there are several, the worst seed) and the few numbers the result holds beside
it; nothing here solves, trains or takes a statistic: every number is looked up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..report import markdown_table
from ._accuracy_page import accuracy_text
from ._ge import aiyagari_text
from ._warm_page import warm_text

__all__: list[str] = []


def _rows(df: pd.DataFrame, **where) -> pd.DataFrame:
    sel = np.ones(len(df), bool)
    for key, value in where.items():
        sel &= (df[key] == value).to_numpy()
    return df[sel]


def _get(df: pd.DataFrame, **where) -> pd.Series:
    return _rows(df, **where)["value"]


def _look(df: pd.DataFrame, column: str, **where) -> float:
    """``column`` of the first row matching ``where`` (NaN where none does)."""
    values = _rows(df, **where)[column]
    return float(values.iloc[0]) if len(values) else float("nan")


def _one(df: pd.DataFrame, **where) -> float:
    """A value of the table (the first seed's where there are several)."""
    return _look(df, "value", **where)


def _mean(summary: pd.DataFrame, **where) -> float:
    """The mean over seeds, from the seed summary (NaN where no row matches)."""
    return _look(summary, "mean", **where)


def _mean_sd(summary: pd.DataFrame, digits: int = 3, **where) -> str:
    """``mean ± sd`` over seeds from the seed summary; the value for one seed, "-" for none."""
    row = _rows(summary, **where)
    if row.empty:
        return "-"
    mean = float(row["mean"].iloc[0])
    if int(row["n"].iloc[0]) == 1:
        return f"{mean:.{digits}g}"
    return f"{mean:.{digits}g} ± {float(row['sd'].iloc[0]):.2g}"


def calibration_table(df: pd.DataFrame, names) -> pd.DataFrame:
    rows = []
    for name in names:
        egm = df[(df.part == "egm") & (df.calibration == name)]
        states = sorted(s for s in egm.state.unique() if s >= 0)
        kinks = []
        for s in states:
            k = _get(egm, state=s, metric="kink")
            if len(k):
                kinks.append(f"y={_one(egm, state=s, metric='income'):.3g}: {k.iloc[0]:.4f}")
        rows.append({
            "calibration": name,
            "states": len(states),
            "kinks a* (state income: level)": "; ".join(kinks) or "none",
            "mass at limit": _one(egm, metric="mass_at_limit"),
            "mean assets": _one(egm, metric="mean_assets"),
            "mean MPC": _one(egm, metric="mean_mpc"),
            "q99.9": _one(egm, metric="q999"),
            "ergodic top": _one(egm, metric="ergodic_top"),
            "chain rho / sd": f"{round(_one(egm, metric='chain_rho'), 3) + 0.0:.3f} / "
                              f"{_one(egm, metric='chain_sd'):.3f}",
            "log10 max Euler": _one(egm, metric="log10_max_euler"),
        })  # fmt: skip
    return pd.DataFrame(rows)


def convergence_table(df: pd.DataFrame) -> pd.DataFrame:
    conv = df[df.part == "convergence"]
    rows = []
    for setting in conv.setting.unique():
        part = conv[conv.setting == setting]
        rows.append({
            "grid": setting, "nodes (with kink levels)": int(_one(part, metric="nodes")),
            "log10 max Euler": _one(part, metric="log10_max_euler"),
            "log10 mean Euler": _one(part, metric="log10_mean_euler"),
            "kink a*": f"{_one(part, metric='kink'):.8f}",
            "iterations": int(_one(part, metric="iterations")),
            "seconds": _one(part, metric="seconds"),
        })  # fmt: skip
    return pd.DataFrame(rows)


_TARGETS = {"c": "c(a, y)", "dV": "V'(a, y)", "V": "V(a, y) std."}


def fit_table(df: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    fit, stats = df[df.part == "fit"], summary[summary.part == "fit"]
    keys = stats[["calibration", "target", "state"]].drop_duplicates()
    rows = []
    for cal, target, state in keys.itertuples(index=False):
        at = {"calibration": cal, "target": target, "state": state}
        for model in ("relu", "tanh", "fit_pwl"):
            m = _rows(stats, **at, model=model)
            if m.empty:
                continue
            has_kink = "kink_location_error" in set(m.metric)
            rows.append({
                "calibration": cal, "target": _TARGETS[target], "state": int(state),
                "model": model, "params": int(_one(fit, **at, model=model, metric="n_params")),
                "rmse": _mean_sd(m, metric="rmse"),
                "kink location error": _mean_sd(m, metric="kink_location_error")
                if has_kink else "no kink",
                "relative to a* + b": _mean_sd(m, metric="kink_location_error_rel")
                if has_kink else "-",
                "slope error left / right": (
                    f"{_mean_sd(m, metric='kink_left_slope_error')} / "
                    f"{_mean_sd(m, metric='kink_right_slope_error')}"
                ) if has_kink else "-",
                "max error near kink": _mean_sd(m, metric="kink_max_error")
                if has_kink else "-",
            })  # fmt: skip
    return pd.DataFrame(rows)


_LABELS = {
    "egm": "EGM", "relu_fit": "ReLU fit", "tanh_fit": "tanh fit",
    "relu_solved": "ReLU solved", "tanh_solved": "tanh solved",
    "relu_kkt": "ReLU solved, KKT", "tanh_kkt": "tanh solved, KKT",
    "relu_supervised": "ReLU net fitted to EGM", "tanh_supervised": "tanh net fitted to EGM",
}  # fmt: skip


def consequence_table(summary: pd.DataFrame) -> pd.DataFrame:
    dist = summary[summary.part == "distribution"]
    rows = []
    for model in _LABELS:
        m = dist[dist.model == model]
        if m.empty:
            continue
        rows.append({
            "policy": _LABELS[model],
            "mass exactly at limit": _mean_sd(m, metric="mass_binding"),
            "mass within tol": _mean_sd(m, metric="mass_at_limit"),
            "mass below a*": _mean_sd(m, metric="mass_below_kink"),
            "mean assets": _mean_sd(m, 4, metric="mean_assets"),
            "mean MPC": _mean_sd(m, metric="mean_mpc"),
            "log10 mean Euler": _mean_sd(m, metric="log10_mean_euler"),
            "log10 max Euler": _mean_sd(m, metric="log10_max_euler"),
            "policy error max / mean": "-" if model == "egm" else (
                f"{_mean_sd(m, metric='policy_max_rel_error')} / "
                f"{_mean_sd(m, metric='policy_mean_rel_error')}"
            ),
        })  # fmt: skip
    return pd.DataFrame(rows)


def _closest(relu: float, tanh: float, fitted: float) -> str:
    """Which fit locates the kink best, said as the numbers say it."""
    best = min(("ReLU", relu), ("tanh", tanh), ("fit_pwl", fitted), key=lambda t: t[1])
    nets = min(relu, tanh)
    if best[0] == "fit_pwl":
        return f"{nets / max(fitted, 1e-300):.3g} times closer than the better network."
    return f"here the {best[0]} network is the closest."


def _fit_sentences(r) -> str:
    """What the kink metrics of the fits say, for each kinked consumption target."""
    fit = _rows(r.seed_summary, part="fit", target="c", state=0)
    domains = r.fit_domains.set_index(["calibration", "target", "state"])
    out = []
    for cal in fit.calibration.unique():
        k, lo, hi = domains.loc[(cal, "c", 0), ["kink", "lo", "hi"]]
        part = fit[fit.calibration == cal]

        def m(model: str, metric: str, part=part) -> float:
            return _mean(part, model=model, metric=metric)

        out.append(
            f"{cal}: the kink of c sits at a* = {k:.4f}, {(k - lo) / (hi - lo):.2%} of the fitted "
            f"range; ReLU puts its estimate {m('relu', 'kink_location_error'):.2g} away "
            f"({m('relu', 'kink_location_error_rel'):.1%} of a* + b), tanh "
            f"{m('tanh', 'kink_location_error'):.2g} ({m('tanh', 'kink_location_error_rel'):.1%});"
            f" the slope errors left / right are {m('relu', 'kink_left_slope_error'):.2g} / "
            f"{m('relu', 'kink_right_slope_error'):.2g} (ReLU) and "
            f"{m('tanh', 'kink_left_slope_error'):.2g} / {m('tanh', 'kink_right_slope_error'):.2g}"
            f" (tanh), the largest error within the window {m('relu', 'kink_max_error'):.2g} and "
            f"{m('tanh', 'kink_max_error'):.2g}. The free-knot fit_pwl, with as many knots as "
            f"the networks have hidden units and no training, puts it "
            f"{m('fit_pwl', 'kink_location_error'):.2g} away "
            f"({m('fit_pwl', 'kink_location_error_rel'):.2%}): "
            + _closest(
                m("relu", "kink_location_error"),
                m("tanh", "kink_location_error"),
                m("fit_pwl", "kink_location_error"),
            )
        )
    return (
        " ".join(out)
        + " Slope errors close to the whole change of slope mean the network is nearly straight"
        " across the kink (it has not resolved it); a location estimate then says little, since"
        " the estimator intersects two fitted lines that barely differ."
    )


def _headlines(r) -> str:
    """The page's findings in three sentences, each only where its part was run."""
    fit = _rows(r.seed_summary, part="fit", target="c", state=0, calibration="default")

    def err(model: str) -> float:
        return _mean(fit, model=model, metric="kink_location_error")

    out = []
    if not np.isnan(err("fit_pwl")):
        nets = min(err("relu"), err("tanh"))
        out.append(
            f"the free-knot least-squares fit `fit_pwl` locates the kink of consumption "
            f"{err('fit_pwl'):.2g} from a* (default calibration), "
            + (f"{nets / max(err('fit_pwl'), 1e-300):.3g} times closer than the better of the"
               " ReLU and tanh networks fitted with as many units"
               if err("fit_pwl") < nets else "not closer than the better network")
        )  # fmt: skip
    if (ns := r.neural_solvers) is not None:
        act, width, _, best = ns["best"]
        out.append(
            f"networks solving the general-equilibrium households' Euler equation themselves, "
            f"every activation given the same tuned budget, reach at best {best:.2f} (log10 "
            f"mean Euler error; {act}, width {width}) against EGM's "
            f"{ns['egm']['log10_mean_all']:.2f}"
            + (f", and {ns['n_falling']} of their {ns['n_nets']} capital-supply curves fall "
               f"somewhere as r rises ({ns['n_multi']} cross the demand more than once)"
               if ns["n_falling"] else "")
        )  # fmt: skip
    ge = r.aiyagari
    if not np.isnan(ge["ssj_r"]):
        out.append(
            f"EGM's general equilibrium r* = {100 * ge['r']:.4f} % agrees with "
            f"sequence-jacobian's to {1e4 * abs(ge['r'] - ge['ssj_r']):.2g} bp"
        )
    if not out:
        return ""
    return "What this page finds: " + "; ".join(out) + ".\n"


def _solver_sentences(
    df: pd.DataFrame, summary: pd.DataFrame, ref_assets: float, top: float
) -> str:
    dist = summary[summary.part == "distribution"]
    parts = []
    for model, name in (("relu", "ReLU"), ("tanh", "tanh")):
        d = dist[dist.model == f"{model}_solved"]
        if d.empty:
            continue

        def m(metric: str, d=d) -> float:
            return _mean(d, metric=metric)

        loss = _mean(summary, part="solve", model=model, metric="loss")
        parts.append(
            f"{name}: final loss {loss:.2g}, log10 Euler error {m('log10_mean_euler'):.2f} on "
            f"average and {m('log10_max_euler'):.2f} at worst, policy error "
            f"{m('policy_max_rel_error'):.1%} at worst and {m('policy_mean_rel_error'):.2%} on "
            "average"
        )
        worst = _look(d, "max", metric="mean_assets")  # the worst seed
        if worst > 1.5 * ref_assets:
            parts[-1] += (
                f" (a seed drifts to a savings path: mean assets {worst:.1f}, the grid's top "
                f"being {top:.1f}; "
                "consumption that falls with wealth also nearly satisfies the Euler equation on "
                "a bounded range, the transversality condition being outside the loss)"
            )
    out = "; ".join(parts) + "."

    def avg(model: str, metric: str) -> float:
        return _mean(dist, model=model, metric=metric)

    per_seed = df[df.part == "distribution"]
    if not _rows(dist, model="relu_supervised").empty:
        out += (
            " Mean log10 Euler errors per seed: ReLU "
            + ", ".join(f"{v:.2f}" for v in _get(per_seed, model="relu_solved",
                                                  metric="log10_mean_euler"))
            + "; tanh "
            + ", ".join(f"{v:.2f}" for v in _get(per_seed, model="tanh_solved",
                                                  metric="log10_mean_euler"))
            + ". To tell representation from training, the same networks (same inputs, "
            "outputs and size), started from the solver's trained weights and fitted by least "
            "squares to EGM's policy, reach "
            f"{avg('relu_supervised', 'log10_mean_euler'):.2f} (ReLU) and "
            f"{avg('tanh_supervised', 'log10_mean_euler'):.2f} (tanh), policy errors "
            f"{avg('relu_supervised', 'policy_max_rel_error'):.1%} and "
            f"{avg('tanh_supervised', 'policy_max_rel_error'):.1%} at worst (rows \"net fitted "
            "to EGM\" below): part of ReLU's gap is what a piecewise-linear policy of this "
            "size can represent (its Euler error is a difference of two consumption levels, "
            "c(a) and c(a'), each off by its interpolation error), the rest is what the "
            "Euler-residual training finds with it. This is a finding under a fair comparison "
            "(same size, optimiser, steps, inputs and seeds); ReLU alone was not tuned."
        )  # fmt: skip
    return out


def section(r, *, seconds: float, quick: bool) -> str:
    """The section's Markdown, from an ``EconomicsResult`` ``r`` and the run's wall time."""
    df = pd.concat([r.table, r.timings], ignore_index=True)
    stats = r.seed_summary
    p = r.parameters["default"]
    cfg = r.config
    egm = df[(df.part == "egm") & (df.calibration == "default")]
    k_low = _one(egm, state=0, metric="kink")
    top = _one(egm, metric="q999")
    dist = df[df.part == "distribution"]
    ref_mass = _one(dist, model="egm", metric="mass_at_limit")
    ref_exact = _one(dist, model="egm", metric="mass_binding")
    solve = df[df.part == "solve"]
    # the asset input's map is the same for every network (activation and seed): one value
    share = _one(solve, metric="input_share_below_kink")
    lin_share = _one(solve, metric="linear_input_share_below_kink")
    net_top = r.solver_top

    def slack(model: str) -> float:
        return _mean(stats, part="solve", model=model, metric="slack_at_limit")

    tol = r.distribution.limit_tol
    ref_mpc = _one(dist, model="egm", metric="mean_mpc")
    ref_assets = _one(dist, model="egm", metric="mean_assets")
    egm_max = _one(dist, model="egm", metric="log10_max_euler")

    def avg(model: str, metric: str) -> float:
        return _mean(stats, part="distribution", model=model, metric=metric)

    w_rel = r.wedge_jump_error
    wp = r.parameters["wedge"]
    w_egm = df[(df.part == "egm") & (df.calibration == "wedge")]
    corner = (
        _one(w_egm, state=0, metric="corner_start"),
        _one(w_egm, state=0, metric="corner_end"),
    )
    conv = convergence_table(df)
    mode = "quick (test) sizes" if quick else "full sizes"
    lines = [
        "## Economics: consumption and savings with a borrowing limit\n",
        f"A household with CRRA utility (gamma = {p['gamma']:g}), discount factor "
        f"{p['beta']:g} and "
        f"gross return R = {p['R']:g} saves in one asset, a' = R a + y - c with a' >= -b "
        f"(b = {p['borrowing_limit']:g}); income follows a Markov chain (default: y in "
        f"{p['incomes']}, staying with probability {p['transition'][0][0]:g}). The ground truth is "
        "the endogenous grid method (Carroll 2006), iterated to a sup-norm change below 1e-12, "
        f"on {cfg.egm_n} nodes plus the asset levels where the policy's kinks propagate; the "
        "stationary distribution comes from the histogram method (Young 2010), its moments "
        "measured, in the default calibration, on the grid up to its 99.9th percentile q99.9 "
        "that every approximate policy is measured on (EGM's full grid elsewhere). Euler errors "
        "are unit-free (Judd 1992): 1 - c~/c off the constraint, max(0, c/c~ - 1) on it.\n",
        _headlines(r),
        "### Where the kinks are (measured from the EGM solution)\n",
        markdown_table(calibration_table(df, list(r.parameters))),
        f"\nIn the default calibration the constraint binds below a* = {k_low:.4f} in the "
        f"low-income state and nowhere in the high-income state; assets range up to "
        f"{top:.1f} (99.9th percentile). Consumption has slope R below a* and the MPC above "
        "it, so c kinks there, and so does V'(a) = R u'(c); V itself is differentiable at a* "
        "(its slope is continuous). The calibrations: the Aiyagari (1994) benchmark (rho 0.6, "
        "sd 0.2, Tauchen with m = 3, 7 states), rho = 0.9 by Rouwenhorst (Kopecky and Suen "
        "2010; the chain reproduces rho and sd exactly, Tauchen's does not, see the column "
        "chain rho / sd), and i.i.d. income with beta = 0.93, whose kink is well inside "
        "the ergodic range"
        + (" (the quick run solves default, iid and wedge only)" if quick else "")
        + ".\n",
        "![Policy and marginal value with the kink marked and enlarged](policy.png)\n",
        "EGM accuracy against the grid (default calibration, errors over [-b, q99.9]):\n",
        markdown_table(conv),
        "\n### The wedge: when V itself kinks\n",
        f"Borrowing at R_borrow = {wp['R_debt']:g} against saving at {wp['R']:g}, with b = "
        f"{wp['borrowing_limit']:g}: V has a concave kink at a = 0. Measured from V by one-sided "
        f"differences, V'(0-) - V'(0+) matches (R_borrow - R) u'(c(0, y)) to {w_rel:.1e} "
        f"(relative, worst state). Savings stay at the corner a' = 0 for a in [{corner[0]:.4f},"
        f" {corner[1]:.4f}] (low income): two more kinks in c, which EGM handles by solving "
        "a' = 0 twice, once with each rate.\n",
        "![Wedge variant](wedge.png)\n",
        "### Fitting the kinked functions: ReLU against tanh\n",
        f"`compare_activations` with {cfg.fit_hidden} hidden units for both activations (equal "
        f"parameter counts), {cfg.fit_epochs} Adam epochs at lr {cfg.fit_lr:g}, seeds "
        f"{list(r.seeds)}, {cfg.fit_points} training points (half within ten kink windows of "
        "the kink), inputs scaled to [-1, 1]; errors in asset units, mean ± sd over seeds. "
        "Every income state is fitted, one network per state; c and V' are kinked only in the "
        'states where the constraint binds (the others show "no kink" and have no kink '
        "metrics), V (standardised per state) is smooth in the base model and kinked at 0 in "
        "every state of the wedge variant. "
        "fit_pwl (as many free knots as hidden units) is the exact piecewise-linear reference.\n",
        markdown_table(fit_table(df, stats)),
        "\n" + _fit_sentences(r) + "\n",
        "![Fitted networks and their errors](fits.png)\n",
        "### Solving the model with networks (Maliar, Maliar and Winant 2021)\n",
        f"Networks with {cfg.net_hidden} hidden units map (a, y) to (zeta, eta): c = x "
        "sigmoid(zeta), h = exp(eta); the loss is the squared Euler ratio residual plus the "
        "squared Fischer-Burmeister term FB(1 - c/x, 1 - h), with the expectation summed "
        "exactly over incomes. Assets enter as log(1 + (a + b) / mean income), mapped onto "
        "[-1, 1], which spreads the units towards the limit where the policy curves and kinks: "
        f"the constrained region [-b, a*] of the low state gets {share:.1%} of the input's "
        f"range, against {lin_share:.2%} with an input linear on the solver's domain [-b, "
        f"{net_top:.1f}] (the same map for every activation); "
        f"{cfg.net_steps} L-BFGS steps on {cfg.net_points} points "
        f"re-simulated every {cfg.net_resimulate} steps, after a fit to a smooth textbook "
        "guess (income plus the perfect-foresight share of asset income). Same sizes, "
        "optimiser and steps for ReLU and tanh. "
        + _solver_sentences(df, stats, ref_assets, top)
        + f" EGM's worst Euler error on the same range is 10^{egm_max:.1f} (the figure).\n",
        "### Consequences: who is at the borrowing limit\n",
        "Every policy on the same asset grid up to q99.9 (EGM included), mean ± sd over "
        "seeds; Euler errors weighted by the EGM distribution (mean) and over the ergodic "
        "range (max); policy errors relative to EGM. Two measures of the mass at the limit: "
        "exactly at it (savings a' = -b, to rounding) and within a stated tolerance, "
        f"a <= -b + {tol:g} (the histogram's node -b + {tol:g}; EGM measured the same way).\n",
        markdown_table(consequence_table(stats)),
        f"\nWith the exact kink, {ref_exact:.2%} of households sit exactly at the borrowing "
        f"limit ({ref_mass:.2%} within {tol:g}) and consume all cash on hand (MPC 1); the mean "
        f"MPC is {ref_mpc:.3f} and mean assets {ref_assets:.3f}. Fitted networks that round the "
        f"kink put {avg('relu_fit', 'mass_binding'):.2%} (ReLU) and "
        f"{avg('tanh_fit', 'mass_binding'):.2%} (tanh) exactly at the limit (where the fit "
        "exceeds cash on hand and is clipped to it) and lower the mean MPC to "
        f"{avg('relu_fit', 'mean_mpc'):.3f} and {avg('tanh_fit', 'mean_mpc'):.3f}. "
        "The solved networks' raw policy c = x sigmoid(zeta) never binds: a sigmoid share is "
        "below 1 for every finite zeta, and the FB term pushes it up only through the "
        "sigmoid's vanishing slope (the loss falls like (1 - c/x)^2 near the corner), so "
        "constrained households keep a buffer: at the limit in the low state the solved "
        f"networks leave {slack('relu'):.1%} (ReLU) and {slack('tanh'):.1%} (tanh) of cash on "
        "hand unspent, so "
        f"{avg('relu_solved', 'mass_at_limit'):.2%} (ReLU) and "
        f"{avg('tanh_solved', 'mass_at_limit'):.2%} (tanh) even within {tol:g} of the limit. "
        "Reading the network's own complementarity instead (rows KKT: c = x where the slack "
        "1 - c/x is below 1 - h, the pair FB treats as binding; no tolerance chosen) puts "
        f"{avg('relu_kkt', 'mass_binding'):.2%} (ReLU) and {avg('tanh_kkt', 'mass_binding'):.2%}"
        f" (tanh) exactly at the limit against {ref_exact:.2%}, with mean MPC "
        f"{avg('relu_kkt', 'mean_mpc'):.3f} and {avg('tanh_kkt', 'mean_mpc'):.3f}; we report "
        "both, the KKT reading being the one an economist would use to count the "
        "hand-to-mouth. A model that smooths the kink thus misstates the hand-to-mouth share "
        "and the average response of consumption to a transfer, which is what fiscal-policy "
        "questions turn on, even where its aggregate wealth is close.\n",
        "![Euler errors against assets](euler.png)\n",
        "![Stationary distribution](distribution.png)\n",
        aiyagari_text(r.aiyagari),
        warm_text(r.warm_start),
        accuracy_text(r.neural_solvers, "neural_solvers.png"),
        f"_Run: {seconds:.1f} s on {r.device}, {mode}; parts: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in r.part_seconds.items())
        + "._\n",
    ]
    return "\n".join(lines)
