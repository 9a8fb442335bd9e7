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
from ._accuracy import FAIR, RUNAWAY, accuracy_table, ge_table

__all__: list[str] = []

#: Where ``benchmarks/bench_neural_solvers.py`` writes (a source checkout).
RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
_TABLES = ("members", "tuning", "ge", "egm", "distribution")
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
            out[f"max {name}"] = [f"{v:.2f}" for v in adam[f"log10_max_{region}"]]
    change = polished["log10_mean_all"] - adam["log10_mean_all"]
    out["L-BFGS: mean all"] = [f"{v:+.2f}" for v in change]
    out["seconds"] = [f"{v:.0f}" for v in adam["seconds"].to_numpy()]
    e = egm.iloc[0]
    out.loc[len(out)] = {
        "activation": "EGM", "width": "", "params": "",
        "mean near the kink": f"{e.log10_mean_near:.2f}", "max near the kink":
        f"{e.log10_max_near:.2f}", "mean away": f"{e.log10_mean_away:.2f}",
        "max away": f"{e.log10_max_away:.2f}", "mean all": f"{e.log10_mean_all:.2f}",
        "L-BFGS: mean all": "", "seconds": "",
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


def ge_summary(ge: pd.DataFrame, egm: pd.DataFrame) -> pd.DataFrame:
    """Per model: its network, how many seeds' capital supply rises with r, r* of those
    (gap to EGM's interpolated r*, bp) and the supply error at EGM's r* per seed."""
    t = ge_table(ge, float(egm["r_brent"].iloc[0]))
    rows = []
    for model, g in t.groupby("model", sort=False):
        ok = g[g["r_star"].notna()]  # supply rises with r and meets demand on the grid
        rows.append({
            "model": "EGM" if model == "egm" else model,
            "network": "" if model == "egm" else f"width {g.width.iloc[0]}, {g.stage.iloc[0]}",
            "supply rises with r": f"{int(g['increasing'].sum())} of {len(g)}",
            "runaway": f"{int(g['runaway'].sum())} of {len(g)}",
            "r* (%)": ", ".join(f"{100 * v:.3f}" for v in ok["r_star"]) or "none",
            "r* gap (bp)": ", ".join(f"{v:+.1f}" for v in ok["gap_bp"]) or "",
            "supply error at EGM's r* (%)": ", ".join(f"{v:+.1f}" for v in g["supply_error_pct"]),
        })  # fmt: skip
    return pd.DataFrame(rows)


def _kept(dist: pd.DataFrame, ge: pd.DataFrame) -> np.ndarray:
    """Which rows of ``dist`` belong to a model whose supply at EGM's r* is at most
    :data:`RUNAWAY` times the demand (EGM's always)."""
    at = ge[ge["offset_bp"] == 0.0].set_index(["model", "seed"])
    ok = at["supply"] <= RUNAWAY * at["demand"]
    return ok.reindex(pd.MultiIndex.from_frame(dist[["model", "seed"]])).to_numpy(bool)


def distribution_table(dist: pd.DataFrame, ge: pd.DataFrame) -> pd.DataFrame:
    """Per model at EGM's r*: wealth Gini, hand-to-mouth share, mean MPC and MPC by wealth
    quintile, the networks' as mean ± sd over the seeds whose supply there is at most
    :data:`RUNAWAY` times the demand (how many: ``networks``; "-" where none is)."""
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
    activation's networks that do not run away, and EGM's value."""
    nets = dist[_kept(dist, ge) & (dist["model"] != "egm").to_numpy()]
    egm = dist[dist["model"] == "egm"].iloc[0]
    return {
        key: (float(nets.groupby("model")[key].mean().max()), float(egm[key]))
        for key in ("hand_to_mouth", "mpc_q1")
    }


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
        "ge_summary": ge_summary(data["ge"], egm),
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
        "n_runaway": int((err > 100 * (RUNAWAY - 1)).sum()),
        "n_falling": int((~nets["increasing"]).sum()),
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
    kink = (
        f"The mean error near the kink is {gap_lo:.1f} to {gap_hi:.1f} orders of magnitude "
        "above the mean error away from it in every activation-width cell, the ReLU's "
        "included: a network whose pieces could represent the kink exactly does not find it "
        "by gradient descent on the Euler residual (the free-knot `fit_pwl` above does)."
        if gap_lo > 0
        else f"The mean error near the kink minus the mean error away from it ranges from "
        f"{gap_lo:.1f} to {gap_hi:.1f} orders of magnitude over the activation-width cells."
    )
    acts, widths = ", ".join(m["activations"]), ", ".join(map(str, m["widths"]))
    runaway = (
        f" {m['n_runaway']} of {m['n_nets']} networks run away there (supply above "
        f"{RUNAWAY:g} times the demand)."
        if m["n_runaway"]
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
        f"\nEvery activation's networks {' and '.join(below)}: a smoothed kink understates "
        "who is hand-to-mouth.\n"
        if below
        else ""
    )
    fig = f"![Neural solvers' Euler errors and capital supply]({figure})\n\n" if figure else ""
    body = f"""The households of the general equilibrium above, at EGM's r*, solved by the Euler \
residual (`solve_network`'s loss) with networks of every activation ({acts}) and two hidden \
layers of width {widths}, {m["n_seeds"]} seeds each: \
{b.steps:,} Adam steps (cosine decay to lr / 100) on a panel of {b.n_points} households \
re-simulated every {b.resimulate_every} steps, then {b.polish} L-BFGS steps; the seeds of a \
width train together as one batched model (`applications.economics.solve_networks`, the \
batched analogue of `train_many` for a loss that is not a regression). Per activation the \
learning rate ({", ".join(f"{v:g}" for v in b.lrs)}) and the asset input (linear, \
log(1 + a / s) or asinh(a / s), s the mean income) are tuned on one seed at width \
{b.tune_width} by the mean Euler error after {b.tune_steps:,} steps. Errors are log10 \
unit-free Euler errors (Judd 1992) on EGM's stationary distribution (mean, weighted by it) and \
on a dense grid of the ergodic set (max), near the kink (assets at most {b.near:g}) and away \
from it, against EGM's own on the same points. From `python benchmarks/bench_neural_solvers.py` \
(pwlmodels {m["stamp"]}).

{markdown_table(m["tuning_table"])}

{markdown_table(m["members_table"])}

What the numbers say. {verdict} the best single network ({best_act}, width {best_width}, \
seed {best_seed}) reaches {best_mean:.2f} mean over all assets against EGM's \
{e["log10_mean_all"]:.2f}, and the worst max error near the kink is {worst_near:.2f} \
({worst_act}) against EGM's {e["log10_max_near"]:.2f}. Among activations the mean over widths \
and seeds ranks {ranking}. {kink} L-BFGS after Adam lowered the mean error in \
{m["polish_helped"]} of {m["n_cells"]} activation-width cells and raised the max error near \
the kink in {m["polish_worse_near"]}.

General equilibrium: each activation's best width and stage, retrained at r* + \
({", ".join(f"{v:+g}" for v in m["offsets_bp"])}) bp, its stationary capital supply against \
the firm's demand (r* where the interpolated excess crosses zero, reported only where the \
supply rises with r, so that the market clears once on this grid, and never exceeds \
{RUNAWAY:g} times the demand: a "runaway" policy keeps saving, and the top of the asset grid, \
not the policy, then sets the supply):

{markdown_table(m["ge_summary"])}

{fig}At EGM's r*, the networks' capital supply misses the firm's demand by \
{m["median_supply_error"]:.1f} % at the median (EGM's own grid error: \
{m["egm_supply_error"]:.2f} %).{runaway} The capital supply of {m["n_falling"]} of \
{m["n_nets"]} networks falls somewhere as r rises: retraining at a neighbouring rate moves it \
more than the rate change does. An r* from such networks is as good as its seed; read it \
with that spread, and check it against a grid method where one exists.

What economists report of the distribution, at EGM's r*, under the same networks (each read \
by its own complementarity, `NetworkSolution.policy_kkt`: c = x where its Fischer-Burmeister \
pair says the constraint binds) beside EGM's, on the same histogram grid:

{markdown_table(m["distribution_table"])}
{understated}"""
    return head + body


def accuracy_figure(summary: dict, path: Path, dpi: int = 150) -> Path:
    """Mean Euler error near and away from the kink by width per activation (every seed and
    their mean), EGM's as a line; and every network's excess capital supply against r."""
    from matplotlib.figure import Figure

    data = summary["data"]
    members, egm = data["members"], data["egm"].iloc[0]
    adam = members[members["stage"] == "adam"]
    fig = Figure(figsize=(13, 4.2), layout="constrained")
    ax = fig.subplots(1, 3)
    ax[1].sharey(ax[0])
    for k, region in enumerate(("near", "away")):
        for act, g in adam.groupby("activation", sort=False):
            c = _COLORS.get(act, "C7")
            ax[k].scatter(g["width"], g[f"log10_mean_{region}"], color=c, s=12, alpha=0.5)
            m = g.groupby("width")[f"log10_mean_{region}"].mean()
            ax[k].plot(m.index, m.to_numpy(), color=c, marker="o", label=act)
        ax[k].axhline(egm[f"log10_mean_{region}"], color="black", ls="--", label="EGM")
        ax[k].set_xscale("log", base=2)
        ax[k].set_xticks(sorted(set(adam["width"])), labels=map(str, sorted(set(adam["width"]))))
        ax[k].set_xlabel("width (two hidden layers)")
        ax[k].set_ylabel("log10 mean Euler error")
        where = "near the kink (a <= 1)" if region == "near" else "away from the kink (a > 1)"
        ax[k].set_title(f"Adam, {where}")
    ax[0].legend(fontsize=8)
    ge = data["ge"]
    for (model, _seed), g in ge.groupby(["model", "seed"], sort=False):
        g = g.sort_values("offset_bp")
        c, lw = ("black", 2.5) if model == "egm" else (_COLORS.get(model, "C7"), 1.0)
        ax[2].plot(g["offset_bp"], g["excess"] / g["demand"] * 100, color=c, lw=lw, marker=".")
    ax[2].axhline(0, color="gray", lw=0.8)
    ax[2].set_ylim(-60, 60)
    ax[2].set_xlabel("r - EGM's r* (bp)")
    ax[2].set_ylabel("capital supply - demand (% of demand)")
    ax[2].set_title("Excess capital supply per seed (EGM thick; clipped)")
    fig.suptitle("Neural solvers of the Aiyagari household, each with the same budget")
    return save_figure(fig, path, dpi=dpi)
