"""The economics page's fair-budget part: the neural solvers' accuracy study, read and drawn.

The study itself (:func:`~applications.economics._accuracy.accuracy_study`)
takes about 40 minutes on 2 cores, too long for every run of the page, so
``benchmarks/bench_neural_solvers.py`` runs it and commits its CSVs; the page
reads them (stamped with the commit they were measured at) when the source
tree has them, and says how to make them when it does not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pwlmodels.plotting import save_figure

from ..report import markdown_table
from ._accuracy import FAIR, RUNAWAY, accuracy_table, ge_table, runaways

__all__: list[str] = []

#: Where ``benchmarks/bench_neural_solvers.py`` writes (a source checkout).
RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
_TABLES = ("members", "tuning", "ge", "egm", "distribution")
_POLISH = "L-BFGS change of mean all (< 0: better)"
_COLORS = {"relu": "C3", "tanh": "C0", "softplus": "C1", "silu": "C2"}


def load_accuracy(folder: Path = RESULTS) -> dict[str, pd.DataFrame] | None:
    """The benchmark's tables (members, tuning, ge, egm, distribution) from ``folder``
    (None when any is missing)."""
    paths = {name: folder / f"neural_solvers_{name}.csv" for name in _TABLES}
    if not all(p.is_file() for p in paths.values()):
        return None
    return {name: pd.read_csv(p) for name, p in paths.items()}


def members_table(members: pd.DataFrame, egm: pd.DataFrame) -> pd.DataFrame:
    """Per activation and width: the Adam stage's errors (mean ± sd over seeds), wall time,
    and the change of the mean error over all assets that the L-BFGS polish makes; EGM last."""
    summary = accuracy_table(members).set_index(["activation", "width"])
    adam = summary[summary["stage"] == "adam"]
    polished = summary[summary["stage"] == "adam+lbfgs"].reindex(adam.index)
    out = adam.index.to_frame(index=False).astype(str)
    out["params"] = adam["n_params"].astype(str).to_numpy()
    for region, name in (("near", "near the kink"), ("away", "away"), ("all", "all")):
        mean, sd = adam[f"log10_mean_{region}"], adam[f"log10_mean_{region}_sd"]
        out[f"mean {name}"] = [f"{m:.2f} ± {s:.2f}" for m, s in zip(mean, sd, strict=True)]
        if region != "all":
            out[f"max {name} (seed mean)"] = [f"{v:.2f}" for v in adam[f"log10_max_{region}"]]
    change = polished["log10_mean_all"] - adam["log10_mean_all"]
    out[_POLISH] = [f"{v:+.2f}" for v in change]
    out["Adam s / network"] = [f"{v:.0f}" for v in adam["seconds"].to_numpy()]
    e = egm.iloc[0]
    out.loc[len(out)] = {
        "activation": "EGM", "width": "", "params": "",
        "mean near the kink": f"{e.log10_mean_near:.2f}",
        "max near the kink (seed mean)": f"{e.log10_max_near:.2f}",
        "mean away": f"{e.log10_mean_away:.2f}",
        "max away (seed mean)": f"{e.log10_max_away:.2f}",
        "mean all": f"{e.log10_mean_all:.2f}", _POLISH: "", "Adam s / network": "",
    }  # fmt: skip
    return out


def tuning_table(tuning: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Per activation: the tuning score of each input transform (best lr) and the choice."""
    best = tuning.groupby(["activation", "transform"], sort=False)["score"].min().unstack()
    chosen = members.groupby("activation", sort=False)[["lr", "transform"]].first()
    out = pd.DataFrame({"activation": chosen.index})
    for tr in best.columns:
        out[f"{tr} input"] = [f"{best.loc[a, tr]:.2f}" for a in chosen.index]
    out["chosen lr"] = [f"{v:g}" for v in chosen["lr"]]
    out["chosen input"] = chosen["transform"].to_numpy()
    return out


def ge_summary(t: pd.DataFrame) -> pd.DataFrame:
    """Per model of :func:`~applications.economics._accuracy.ge_table`'s ``t``: its network,
    how many seeds' capital supply rises with r, crosses the demand once and runs away at
    some rate, and per seed its r* (with the gap to EGM's interpolated r*) and its supply
    error at EGM's r*."""
    rows = []
    for model, g in t.groupby("model", sort=False):
        rows.append({
            "model": "EGM" if model == "egm" else model,
            "network": "" if model == "egm" else f"width {g.width.iloc[0]}, {g.stage.iloc[0]}",
            "supply rises with r": f"{int(g['increasing'].sum())} of {len(g)}",
            "crosses demand once": f"{int((g['crossings'] == 1).sum())} of {len(g)}",
            "runs away at some rate": f"{int(g['runaway'].sum())} of {len(g)}",
            "r* (%), per seed": ", ".join(
                "-" if np.isnan(v) else f"{100 * v:.3f}" for v in g["r_star"]
            ),
            "r* gap (bp)": ", ".join("-" if np.isnan(v) else f"{v:+.1f}" for v in g["gap_bp"]),
            "supply error at EGM's r* (%)": ", ".join(f"{v:+.1f}" for v in g["supply_error_pct"]),
        })  # fmt: skip
    return pd.DataFrame(rows)


def _kept(dist: pd.DataFrame, ge: pd.DataFrame) -> np.ndarray:
    """Which rows of ``dist`` belong to a network that has not run away at EGM's r*
    (:func:`~applications.economics._accuracy.runaways`; EGM's always; a row without a
    general-equilibrium row at r* is not kept)."""
    at = ge.assign(ok=~runaways(ge))
    at = at[at["offset_bp"] == 0.0].set_index(["model", "seed"])["ok"]
    index = pd.MultiIndex.from_frame(dist[["model", "seed"]])
    return at.reindex(index, fill_value=False).to_numpy(bool)


def distribution_table(dist: pd.DataFrame, ge: pd.DataFrame) -> pd.DataFrame:
    """Per model at EGM's r*: wealth Gini, hand-to-mouth share, mean MPC and MPC by wealth
    quintile, the networks' as mean ± sd over the seeds that have not run away there (how
    many: ``networks``; "-" where none is left)."""
    dist = dist[_kept(dist, ge)]
    n_seeds = ge[ge["offset_bp"] == 0.0].groupby("model", sort=False)["seed"].nunique()
    cols = {"gini": "Gini", "hand_to_mouth": "hand-to-mouth", "mean_mpc": "mean MPC"}
    cols |= {f"mpc_q{k}": f"MPC Q{k}" for k in range(1, 6)}
    rows = []
    for model in n_seeds.index:
        g = dist[dist["model"] == model]
        width = ge.loc[ge["model"] == model, "width"].iloc[0]
        row = {"model": "EGM" if model == "egm" else f"{model} (width {width})",
               "networks": "" if model == "egm" else f"{len(g)} of {n_seeds[model]}"}  # fmt: skip
        for key, name in cols.items():
            v = g[key].to_numpy(float)
            row[name] = (
                "-" if v.size == 0 else f"{v[0]:.3f}" if v.size == 1
                else f"{v.mean():.3f} ± {v.std(ddof=1):.3f}"
            )  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows)


def _below_egm(dist: pd.DataFrame, ge: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """For the hand-to-mouth share and the poorest quintile's MPC: the largest mean over an
    activation's networks that have not run away, and EGM's value; NaN for the first when
    some activation has no such network."""
    is_net = (dist["model"] != "egm").to_numpy()
    nets = dist[_kept(dist, ge) & is_net]
    complete = nets["model"].nunique() == dist.loc[is_net, "model"].nunique()
    egm = dist[dist["model"] == "egm"].iloc[0]
    return {
        key: (float(nets.groupby("model")[key].mean().max()) if complete else float("nan"),
              float(egm[key]))
        for key in ("hand_to_mouth", "mpc_q1")
    }  # fmt: skip


def summarize_accuracy(data: dict[str, pd.DataFrame] | None) -> dict | None:
    """Every table and number the section states, from :func:`load_accuracy`'s tables
    (None in, None out); ``"data"`` keeps the tables for the figure."""
    if data is None:
        return None
    members, egm = data["members"], data["egm"]
    adam = members[members["stage"] == "adam"]
    cells = accuracy_table(members).pivot_table(
        index=["activation", "width"], columns="stage",
        values=["log10_mean_all", "log10_max_near", "log10_mean_near", "log10_mean_away"],
    )  # fmt: skip

    def polish_change(metric: str) -> pd.Series:
        return cells[(metric, "adam+lbfgs")] - cells[(metric, "adam")]

    gap = cells[("log10_mean_near", "adam")] - cells[("log10_mean_away", "adam")]
    t = ge_table(data["ge"], float(egm["r_brent"].iloc[0]))
    nets = t[t["model"] != "egm"]
    err = nets["supply_error_pct"].abs()
    near = adam.groupby("activation")["log10_max_near"].max()
    wide = adam[adam["width"] == adam["width"].max()].groupby("activation")["log10_mean_near"]
    egm_ge = data["ge"][data["ge"]["model"] == "egm"].set_index("offset_bp")
    # EGM's excess supply per bp of r around r*, in % of demand (its two nearest rates)
    offsets = sorted(egm_ge.index)
    lo, hi = max(o for o in offsets if o < 0), min(o for o in offsets if o > 0)
    slope = 100 * (egm_ge.excess[hi] - egm_ge.excess[lo]) / egm_ge.demand[0.0] / (hi - lo)
    best = members.loc[members["log10_mean_all"].idxmin()]
    ranking = adam.groupby("activation")["log10_mean_all"].mean().sort_values()
    return {
        "data": data,
        "stamp": ", ".join(sorted({str(v) for v in members["pwlmodels"].dropna()})),
        "activations": tuple(dict.fromkeys(members["activation"])),
        "widths": tuple(sorted(int(w) for w in set(members["width"]))),
        "n_seeds": int(members["seed"].nunique()),
        "tuning_table": tuning_table(data["tuning"], members),
        "members_table": members_table(members, egm),
        "ge_summary": ge_summary(t),
        "distribution_table": distribution_table(data["distribution"], data["ge"]),
        "egm": {k: float(v) for k, v in egm.iloc[0].items() if k.startswith("log10_")},
        "best": (
            str(best["activation"]),
            int(best["width"]),
            int(best["seed"]),
            float(best["log10_mean_all"]),
        ),
        "worst_near": (str(near.idxmax()), float(near.max())),
        "ranking": tuple((str(a), float(v)) for a, v in ranking.items()),
        "gap_range": (float(gap.min()), float(gap.max())),
        "n_cells": len(cells),
        "polish_helped": int((polish_change("log10_mean_all") < 0).sum()),
        "polish_worse_near": int((polish_change("log10_max_near") > 0).sum()),
        "n_nets": len(nets),
        "median_supply_error": float(err.median()),
        "egm_supply_error": float(abs(t.loc[t["model"] == "egm", "supply_error_pct"].iloc[0])),
        "n_runaway": int(runaways(data["ge"])[(data["ge"]["offset_bp"] == 0.0).to_numpy()].sum()),
        "n_falling": int((~nets["increasing"]).sum()),
        "n_multi": int((nets["crossings"] > 1).sum()),
        "egm_slope_pct_per_bp": float(slope),
        "near_width": (
            int(adam["width"].max()),
            tuple((str(a), float(v)) for a, v in wide.mean().sort_values().items()),
        ),
        "below_egm": _below_egm(data["distribution"], data["ge"]),
        "offsets_bp": tuple(float(v) for v in sorted(set(data["ge"]["offset_bp"]) - {0.0})),
    }


def accuracy_text(summary: dict | None, figure: str | None = None) -> str:
    """The section's fair-budget part from :func:`summarize_accuracy` (how to make it when
    ``summary`` is None)."""
    head = "### Neural solvers given a fair budget (Maliar, Maliar and Winant 2021)\n\n"
    if summary is None:
        return head + (
            "The accuracy study was not found: `python benchmarks/bench_neural_solvers.py` "
            "(about 40 min on 2 cores) writes `benchmarks/results/neural_solvers_*.csv`, "
            "which this section reads.\n"
        )
    b, m = FAIR, summary
    e = m["egm"]
    ranking = ", ".join(f"{a} {v:.2f}" for a, v in m["ranking"])
    best_act, best_width, best_seed, best_mean = m["best"]
    (worst_act, worst_near), (gap_lo, gap_hi) = m["worst_near"], m["gap_range"]
    verdict = (
        "No network comes within an order of magnitude of EGM:"
        if best_mean > e["log10_mean_all"] + 1
        else "The networks against EGM:"
    )
    egm_gap = e["log10_mean_near"] - e["log10_mean_away"]
    width, near_rank = m["near_width"]
    relu_near = dict(near_rank).get("relu")
    best_other = min((v, a) for a, v in near_rank if a != "relu") if relu_near else None
    kink = (
        f"The networks' mean error near the kink is {gap_lo:.1f} to {gap_hi:.1f} orders of "
        f"magnitude above their mean error away from it in every activation-width cell (EGM's "
        f"is {abs(egm_gap):.2f} {'lower' if egm_gap < 0 else 'higher'} there)."
        if gap_lo > 0
        else f"The networks' mean error near the kink minus their mean error away from it "
        f"ranges from {gap_lo:.1f} to {gap_hi:.1f} orders of magnitude over the cells."
    )
    if best_other is not None and relu_near >= best_other[0]:
        kink += (
            f" ReLU networks, whose pieces could represent the kink exactly, do no better near "
            f"it than {best_other[1]} (mean {relu_near:.2f} against {best_other[0]:.2f} at "
            f"width {width}): nothing here shows gradient descent on the Euler residual using "
            "that ability (the free-knot `fit_pwl` above, fitted to EGM's policy, finds the "
            "kink)."
        )
    acts, widths = ", ".join(m["activations"]), ", ".join(map(str, m["widths"]))
    runaway = (
        f" {m['n_runaway']} of {m['n_nets']} networks have run away there."
        if m["n_runaway"]
        else ""
    )
    falling = (
        f" The capital supply of {m['n_falling']} of {m['n_nets']} networks falls somewhere as "
        f"r rises ({m['n_multi']} of them cross the demand more than once): retraining at a "
        "neighbouring rate moves supply more than the rate change does. An r* from such "
        "networks is as good as its seed; read it with that spread, and check it against a "
        "grid method where one exists."
        if m["n_falling"]
        else ""
    )
    said = {
        "hand_to_mouth": "put fewer households at the borrowing limit than EGM",
        "mpc_q1": "give the poorest fifth a lower MPC than EGM",
    }
    below = [
        f"{text} (at most {m['below_egm'][key][0]:.3f} on average against "
        f"{m['below_egm'][key][1]:.3f})"
        for key, text in said.items()
        if m["below_egm"][key][0] < m["below_egm"][key][1]
    ]
    understated = (
        f"\nEvery activation's networks {' and '.join(below)}: solved on the Euler residual "
        "and read by their own complementarity, they understate who is hand-to-mouth, the "
        "ReLU's included.\n"
        if below
        else ""
    )
    fig = f"![Neural solvers' Euler errors and capital supply]({figure})\n\n" if figure else ""
    body = f"""The households of the general equilibrium above, at EGM's r*, solved by the Euler \
residual (`solve_network`'s loss) with networks of every activation ({acts}) and two hidden \
layers of width {widths}, {m["n_seeds"]} seeds each: \
{b.steps:,} Adam steps (cosine decay to lr / 100) on a panel of {b.n_points} households \
re-simulated every {b.resimulate_every} steps, then {b.polish} L-BFGS steps (re-simulating \
every step); the seeds of a width train together as one batched model \
(`applications.economics.solve_networks`, the batched analogue of `train_many` for a loss \
that is not a regression on fixed data). Per activation the learning rate \
({", ".join(f"{v:g}" for v in b.lrs)}) and the asset input (linear, log(1 + a / s) or \
asinh(a / s), s the mean income) are tuned on one seed at width {b.tune_width} by the mean \
Euler error after {b.tune_steps:,} steps (the table gives each input's best score over the \
learning rates). Tuning, like the choice of width below, scores against EGM's distribution, \
which a practitioner would not have; it is the same for every activation. Errors are log10 \
unit-free Euler errors (Judd 1992) of the raw policy c = x sigmoid(zeta), which never binds \
(a constrained household's error is the share of cash on hand it leaves unspent): the mean \
weighted by EGM's stationary distribution, the max over a dense grid of the ergodic set (up \
to its top, where almost nobody lives), near the kink (assets at most {b.near:g}, where the \
constrained households and the low-income states' kinks are) and away from it. EGM solves \
the same households on {b.egm_n} nodes, its histogram up to the ergodic top (the \
equilibrium paragraph's histogram stops lower, hence its values differ in the third digit). \
From `python benchmarks/bench_neural_solvers.py` (pwlmodels {m["stamp"]}).

{markdown_table(m["tuning_table"])}

{markdown_table(m["members_table"])}

What the numbers say. {verdict} the best single network ({best_act}, width {best_width}, \
seed {best_seed}) reaches {best_mean:.2f} mean over all assets against EGM's \
{e["log10_mean_all"]:.2f}, and after Adam the worst single network's max error near the kink \
is {worst_near:.2f} ({worst_act}) against EGM's {e["log10_max_near"]:.2f}. Among activations \
the mean over widths and seeds ranks {ranking}. {kink} L-BFGS after Adam lowered the mean \
error in {m["polish_helped"]} of {m["n_cells"]} activation-width cells and raised the max \
error near the kink in {m["polish_worse_near"]}.

General equilibrium: each activation's best width and stage, retrained at r* + \
({", ".join(f"{v:+g}" for v in m["offsets_bp"])}) bp, its stationary capital supply against \
the firm's demand. r* is where the interpolated excess crosses zero, given only where the \
supply rises with r (a conservative rule: a curve that falls somewhere may still cross once) \
and has not run away at any rate (supply above {RUNAWAY:g} times EGM's at the same rate: \
the policy keeps saving, and the top of the asset grid, not the policy, sets the supply):

{markdown_table(m["ge_summary"])}

{fig}At EGM's r*, the networks' capital supply misses the firm's demand by \
{m["median_supply_error"]:.1f} % at the median, about \
{m["median_supply_error"] / m["egm_slope_pct_per_bp"]:.1f} bp of r at EGM's local slope \
({m["egm_slope_pct_per_bp"]:.1f} % of demand per bp: supply is very elastic this close to \
1/beta - 1); EGM's own grid error is {m["egm_supply_error"]:.2f} %.{runaway}{falling}

What economists report of the distribution, at EGM's r*, under the same networks (each read \
by its own complementarity, `NetworkSolution.policy_kkt`: c = x where its Fischer-Burmeister \
pair says the constraint binds; networks that have run away there left out) beside EGM's, \
on the same histogram grid:

{markdown_table(m["distribution_table"])}
{understated}"""
    return head + body


def accuracy_figure(summary: dict, path: Path, dpi: int = 150) -> Path:
    """Mean Euler error near and away from the kink by width per activation (every seed and
    their mean; EGM's level in the title, far below), and every network's excess capital
    supply against r (runaways marked at the clip edge)."""
    from matplotlib.figure import Figure

    data = summary["data"]
    members, egm = data["members"], data["egm"].iloc[0]
    adam = members[members["stage"] == "adam"]
    widths = sorted(set(adam["width"]))
    fig = Figure(figsize=(13, 4.2), layout="constrained")
    ax = fig.subplots(1, 3)
    for k, region in enumerate(("near", "away")):
        for act, g in adam.groupby("activation", sort=False):
            c = _COLORS.get(act, "C7")
            ax[k].scatter(g["width"], g[f"log10_mean_{region}"], color=c, s=12, alpha=0.5)
            m = g.groupby("width")[f"log10_mean_{region}"].mean()
            ax[k].plot(m.index, m.to_numpy(), color=c, marker="o", label=act)
        ax[k].set_xscale("log", base=2)
        ax[k].set_xticks(widths, labels=map(str, widths))
        ax[k].set_xlabel("width (two hidden layers)")
        ax[k].set_ylabel("log10 mean Euler error")
        where = "near the kink (a <= 1)" if region == "near" else "away from it (a > 1)"
        ax[k].set_title(f"Adam, {where}\nEGM: {egm[f'log10_mean_{region}']:.2f} (off scale)")
    ax[0].legend(fontsize=8)
    ge = data["ge"].assign(runaway=runaways(data["ge"]))
    clip = 60.0
    for (model, _seed), g in ge.groupby(["model", "seed"], sort=False):
        g = g.sort_values("offset_bp")
        c, lw = ("black", 2.5) if model == "egm" else (_COLORS.get(model, "C7"), 1.0)
        pct = (g["excess"] / g["demand"] * 100).where(~g["runaway"])  # a gap at a runaway
        ax[2].plot(g["offset_bp"], pct, color=c, lw=lw, marker=".")
        gone = g[g["runaway"]]
        ax[2].scatter(gone["offset_bp"], np.full(len(gone), clip * 0.95), color=c, marker="x")
    ax[2].axhline(0, color="gray", lw=0.8)
    ax[2].set_ylim(-clip, clip)
    ax[2].set_xlabel("r - EGM's r* (bp)")
    ax[2].set_ylabel("capital supply - demand (% of demand)")
    ax[2].set_title("Excess supply per seed, each activation's best width\n"
                    "(EGM thick; x: the network ran away; clipped)")  # fmt: skip
    fig.suptitle("Neural solvers of the Aiyagari household, each with the same budget")
    return save_figure(fig, path, dpi=dpi)
