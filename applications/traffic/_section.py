"""The traffic study's Markdown section, its tables, and the key numbers by name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..report import markdown_table
from ._figures import DATASETS, STYLE

__all__: list[str] = []

_ORDER = tuple(STYLE)


def _mean(table: pd.DataFrame, part: str, dataset: str, quantities) -> pd.DataFrame:
    """Mean over seeds, models as rows (in the usual order), ``quantities`` as columns."""
    d = table[(table["part"] == part) & (table["dataset"] == dataset)]
    d = d[d["quantity"].isin(quantities)]
    p = d.pivot_table(
        index="model", columns="quantity", values="value", aggfunc="mean", dropna=False
    )
    rows = [m for m in _ORDER if m in p.index] + [m for m in p.index if m not in _ORDER]
    return p.reindex(index=rows, columns=[q for q in quantities if q in p.columns])


def _value(table, part, dataset, model, quantity, agg="mean") -> float:
    d = table[(table["part"] == part) & (table["dataset"] == dataset) & (table["model"] == model)]
    v = d.loc[d["quantity"] == quantity, "value"]
    return float(getattr(v, agg)()) if v.size else float("nan")


def _pct(x: float) -> str:
    return f"{100 * x:+.2f} %"


def _named(frame: pd.DataFrame, names: dict) -> pd.DataFrame:
    out = frame.rename(columns=names).rename(index=lambda m: STYLE.get(m, (m,))[0])
    return out.reset_index(names="model")


def _recovery_table(table: pd.DataFrame, datasets) -> pd.DataFrame:
    qs = [
        "vf_rel_error",
        "w_rel_error",
        "jam_density_rel_error",
        "capacity_rel_error",
        "critical_density",
    ]
    parts = []
    for ds in datasets:
        p = _mean(table, "fit", ds, qs)
        p = p.drop(index="truth", errors="ignore")
        for q in qs[:-1]:
            p[q] = p[q] * 100
        p.insert(0, "data", DATASETS[ds])
        parts.append(p)
    out = pd.concat(parts)
    out = _named(
        out,
        {
            "vf_rel_error": "vf error (%)",
            "w_rel_error": "w error (%)",
            "jam_density_rel_error": "rho_jam error (%)",
            "capacity_rel_error": "capacity error (%)",
            "critical_density": "rho_c (veh/km)",
        },
    )
    col = "rho_jam error (%)"
    out[col] = [("none" if np.isnan(v) else f"{v:.3g}") for v in out[col]]
    return out


def _nets_table(table: pd.DataFrame, datasets) -> pd.DataFrame:
    qs = [
        "capacity_rel_error",
        "critical_density",
        "kink_location_error",
        "kink_max_error",
        "kink_left_slope_error",
        "kink_right_slope_error",
        "rmse",
    ]
    parts = []
    for ds in datasets:
        p = (
            _mean(table, "fit", ds, qs)
            .reindex(["triangle_robust", "relu", "tanh"])
            .dropna(how="all")
        )
        p["capacity_rel_error"] *= 100
        c = _mean(table, "compare", ds, ["kink_breakpoints"])
        p["kink_breakpoints"] = c["kink_breakpoints"].reindex(p.index) if len(c) else np.nan
        p.insert(0, "data", DATASETS[ds])
        parts.append(p)
    out = _named(
        pd.concat(parts),
        {
            "capacity_rel_error": "capacity error (%)",
            "critical_density": "rho_c (veh/km)",
            "kink_location_error": "kink location error (veh/km)",
            "kink_max_error": "max error near kink (veh/h)",
            "kink_left_slope_error": "free slope error (km/h)",
            "kink_right_slope_error": "congested slope error (km/h)",
            "rmse": "RMSE (veh/h)",
            "kink_breakpoints": "ReLU breakpoints near kink",
        },
    )
    col = "ReLU breakpoints near kink"
    out[col] = ["" if np.isnan(v) else f"{v:.3g}" for v in out[col]]
    return out


def _ctm_table(table: pd.DataFrame, part: str) -> pd.DataFrame:
    qs = [
        "capacity_rel_error",
        "discharge_flow",
        "max_queue",
        "clearance_time",
        "total_delay",
        "count_error_bottleneck",
        "count_error_1km_upstream",
        "tail_speed",
        "tail_speed_rh",
        "front_speed",
        "front_speed_characteristic",
    ]
    p = _mean(table, part, "synthetic_30", qs)
    p["capacity_rel_error"] *= 100
    return _named(
        p,
        {
            "capacity_rel_error": "capacity error (%)",
            "discharge_flow": "discharge (veh/h)",
            "max_queue": "max queue (km)",
            "clearance_time": "clearance (s)",
            "total_delay": "delay (veh h)",
            "count_error_bottleneck": "count error at bottleneck (veh)",
            "count_error_1km_upstream": "count error 1 km upstream (veh)",
            "tail_speed": "tail speed (km/h)",
            "tail_speed_rh": "tail speed, RH (km/h)",
            "front_speed": "front speed (km/h)",
            "front_speed_characteristic": "front speed, q'(threshold) (km/h)",
        },
    )


def _admissible_table(table: pd.DataFrame) -> pd.DataFrame:
    names = {
        "intercept_removed": "q(0) removed (veh/h)",
        "negative_clipped": "clipped below 0 (veh/h)",
        "demand_filled": "D above q (veh/h)",
        "supply_filled": "S above q (veh/h)",
        "jam_forced": "jam forced (seeds)",
        "max_speed": "max |q'| (km/h)",
    }
    d = table[(table["part"] == "admissible") & table["quantity"].isin(list(names))]
    p = d.pivot_table(index="model", columns="quantity", values="value", aggfunc="max")
    forced = d[d["quantity"] == "jam_forced"].groupby("model")["value"].sum()
    p["jam_forced"] = forced.reindex(p.index)
    p = p.reindex(index=[m for m in _ORDER if m in p.index], columns=list(names))
    return _named(p, names)


def _fit_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or np.ptp(x[ok]) == 0:
        return float("nan"), float("nan")
    return float(np.polyfit(x[ok], y[ok], 1)[0]), float(np.corrcoef(x[ok], y[ok])[0, 1])


def _hypothesis(table: pd.DataFrame, part: str) -> dict:
    """Across every (model, seed): relative delay and clearance change against capacity error."""
    d = table[(table["part"] == part) & (table["dataset"] == "synthetic_30")]
    wide = d.pivot_table(index=["model", "seed"], columns="quantity", values="value")
    truth = wide.xs("truth", level="model").mean()
    others = wide.drop(index="truth", level="model")
    cap = others["capacity_rel_error"].to_numpy()
    delay = (others["total_delay"] / truth["total_delay"] - 1).to_numpy()
    clear = (others["clearance_time"] / truth["clearance_time"] - 1).to_numpy()
    discharge = (others["discharge_flow"] / truth["discharge_flow"] - 1).to_numpy()
    out = {"delay_per_capacity": _fit_line(cap, delay), "clear_per_capacity": _fit_line(cap, clear)}
    out["discharge_vs_capacity"] = float(np.max(np.abs(discharge - cap)))
    rh = (others["tail_speed"] - others["tail_speed_rh"]).abs()
    out["tail_vs_rh"] = float(rh.max())
    out["tail_vs_rh_worst"] = tuple(rh.idxmax()) if rh.notna().any() else ("", 0)
    out["clearance_vs_truth"] = {
        m: float(others.xs(m, level="model")["clearance_time"].mean() - truth["clearance_time"])
        for m in others.index.get_level_values("model").unique()
    }
    return out


def info(study: dict) -> dict:
    """Key numbers by name, for callers and the closing note."""
    t, seeds = study["table"], study["seeds"]
    recovered = {}
    for name, _ in study["datasets"]:
        p = _mean(t, "fit", name, ["vf", "w", "jam_density", "capacity", "critical_density"])
        recovered[name] = {m: row.dropna().to_dict() for m, row in p.iterrows()}
    worst = {}
    for q in ("vf", "w", "jam_density", "capacity"):
        d = t[
            (t["part"] == "fit")
            & (t["dataset"] == "synthetic_30")
            & (t["model"] == "triangle_robust")
            & (t["quantity"] == f"{q}_rel_error")
        ]
        worst[q] = float(d["value"].abs().max())
    nets = {}
    for name in ("synthetic_30", "synthetic_10", "uxsim", "user"):
        if (name, seeds[0]) in study["datasets"]:
            p = _mean(
                t,
                "fit",
                name,
                ["capacity_rel_error", "critical_density", "kink_location_error", "kink_max_error"],
            )
            nets[name] = {m: p.loc[m].to_dict() for m in ("relu", "tanh") if m in p.index}
    queues = {}
    for run in study["runs"]:
        p = _mean(
            t,
            run.name,
            "synthetic_30",
            [
                "capacity_rel_error",
                "discharge_flow",
                "max_queue",
                "clearance_time",
                "total_delay",
                "count_error_bottleneck",
                "count_error_1km_upstream",
                "tail_speed",
                "tail_speed_rh",
                "front_speed",
            ],
        )
        queues[run.name] = {m: row.dropna().to_dict() for m, row in p.iterrows()}
        queues[run.name]["hypothesis"] = _hypothesis(t, run.name)
    gs = t[(t["part"] == "greenshields") & (t["quantity"] == "max_rel_deviation")]
    ex = t[(t["part"] == "exact") & (t["quantity"] == "max_deviation")]
    return {
        "recovered": recovered,
        "robust_worst_rel_error": worst,
        "relu_vs_tanh": nets,
        "queues": queues,
        "greenshields_max_rel_deviation": float(gs["value"].iloc[0]),
        "triangle_relu_max_deviation": float(ex["value"].iloc[0]),
        "learning_rates": study["lrs"],
        "stage_seconds": dict(study["stage_seconds"]),
        "uxsim_note": study["uxsim_note"],
        "torch_threads": study["torch_threads"],
    }


def _data_table(table: pd.DataFrame, names) -> pd.DataFrame:
    qs = ["n_points", "max_density_over_jam", "max_flow_over_capacity", "nearest_to_critical"]
    qs.append("kink_observed")
    d = table[(table["part"] == "data") & table["dataset"].isin(names)]
    d = d[d["quantity"].isin(qs)]
    p = d.pivot_table(index="dataset", columns="quantity", values="value", aggfunc="mean")
    p = p.reindex(index=[n for n in names if n in p.index], columns=qs)
    words = {1.0: "yes", 0.0: "no: kink metrics extrapolated"}
    p["kink_observed"] = [words.get(v, "some seeds") for v in p["kink_observed"]]
    names = {
        "n_points": "points",
        "max_density_over_jam": "max density / rho_jam",
        "max_flow_over_capacity": "max flow / capacity",
        "nearest_to_critical": "nearest |rho - rho_c| / rho_c",
        "kink_observed": "a point within 10 % of rho_c",
    }
    return p.rename(index=DATASETS, columns=names).reset_index(names="data")


def _greenshields_table(table: pd.DataFrame) -> pd.DataFrame:
    gs = table[(table["part"] == "greenshields") & (table["model"] != "K=3..129")]
    p = gs.pivot_table(index="model", columns="quantity", values="value", sort=False)
    names = {
        "hidden_units": "ReLU units",
        "bound": "q_max/(K-1)^2 (veh/h)",
        "sup_error": "measured sup error (veh/h)",
        "rel_deviation": "relative deviation",
        "relu_midpoint_error": "ReLU network at midpoints (veh/h)",
    }
    return p[list(names)].rename(columns=names).reset_index(names="knots")


def _intro(study: dict, quick: bool) -> str:
    t, truth, g = study["table"], study["truth"], study["greenshields"]
    ex = {r["quantity"]: r["value"] for r in t[t["part"] == "exact"].to_dict("records")}
    worst = float(t.loc[t["quantity"] == "max_rel_deviation", "value"].iloc[0])
    mode = " (quick mode: a smoke test of the code, not the study)" if quick else ""
    return f"""## Traffic: fundamental diagrams as exact ReLU networks, fitted from data, and what \
each fit does to a queue

In the LWR model (Lighthill and Whitham 1955, Richards 1956) traffic density is conserved and \
the flow is a function of it, the fundamental diagram q(rho). Every number below comes from \
this run{mode}; seeds {list(study["seeds"])}; densities, flows and speeds are per lane.

### Diagrams as networks

The triangular diagram (Newell 1993, Daganzo 1994) with vf = {truth.vf:g} km/h, \
w = {truth.w:g} km/h and rho_jam = {truth.rho_jam:g} veh/km (capacity {truth.capacity:g} veh/h \
at {truth.critical_density:g} veh/km) is piecewise linear, so `TriangularFD.to_relu()` is a \
ReLU network with {ex["hidden_units"]:.0f} hidden units; it equals the diagram to \
{ex["max_deviation"]:.2g} veh/h on [-60, 240] veh/km, on and off [0, rho_jam] (float64 \
rounding bound {ex["rounding_bound"]:.2g} veh/h). Greenshields' (1935) parabola \
(vmax {g.vmax:g} km/h, rho_max {g.rho_max:g} veh/km) is not piecewise linear; its interpolant \
on K uniform knots (one ReLU unit per knot) misses it by exactly q_max/(K-1)^2, at the \
interval midpoints. Measured in float64 for every K from 3 to 129, the sup error matches the \
formula to {worst:.2g} relative: the rounding of the knot values (a few ulps of q_max) is all \
that separates them.

![Greenshields interpolation error against K](greenshields.png)

{markdown_table(_greenshields_table(t))}"""


def _data(study: dict, have: list[str]) -> str:
    cfg = study["config"]
    text = f"""### Data

Synthetic detector data, {cfg.n_points} points per seed: density uniform on each branch with \
30 % of the points congested (and a 10 % variant: real detector data are as imbalanced, Qu, \
Wang and Zhang 2015), 5 % multiplicative flow noise, and 5 % transition cells, random mixes of \
two states: what Edie's (1963) definitions report for a cell that a shock crosses, a point on \
a chord below the diagram. A noise-free draw checks the recovery to rounding."""
    if "uxsim" in have:
        text += """ UXsim (Seo; \
Newell's simplified car-following model, a triangular diagram on every link, \
w = 1/(reaction time x jam density)) simulates one lane with a bottleneck: `capacity_out` \
1500 veh/h at the end of the middle link, 800 veh/h during an incident from 20 to 35 min, \
then lifted, under a demand peak of 1900 veh/h; the queue spills back onto the first link and \
the discharge after the incident passes through the capacity state. Edie's cells (60 s long) \
come from its analyzer, converted from veh/s and veh/m."""
    if study["uxsim_note"]:
        text += f"\n\n**{study['uxsim_note']}**"
    return f"""{text}

{markdown_table(_data_table(study["table"], have))}
![Data and fitted diagrams, the kink enlarged](fd.png)

![The 10 % congested and the UXsim data sets](fd_datasets.png)
"""


def _recovery(study: dict, have: list[str], facts: dict) -> str:
    t, cfg, seeds = study["table"], study["config"], list(study["seeds"])
    worst = facts["robust_worst_rel_error"]
    met = worst["vf"] <= 0.02 and worst["capacity"] <= 0.02
    met = met and worst["w"] <= 0.05 and worst["jam_density"] <= 0.05
    nf = t[
        (t["part"] == "fit")
        & (t["dataset"] == "noise_free")
        & t["model"].str.startswith("triangle")
        & t["quantity"].isin(["vf_rel_error", "w_rel_error", "jam_density_rel_error"])
    ]
    lsq = {q: _value(t, "fit", "synthetic_30", "triangle_lsq", f"{q}_rel_error") for q in ("w",)}
    lsq["capacity"] = _value(t, "fit", "synthetic_30", "triangle_lsq", "capacity_rel_error")
    lsq10 = _value(t, "fit", "synthetic_10", "triangle_lsq", "capacity_rel_error")
    return f"""### Recovered parameters

Every fit is measured by one set of definitions, so smooth fits get the same numbers: \
critical density = argmax of q, capacity = its max, vf = the least-squares slope through the \
origin on [0, 0.5 rho_c], w = minus the least-squares slope on [1.5 rho_c, 0.9 rho_jam] (the \
true rho_c and rho_jam), jam density = the first zero beyond rho_c ('none' when there is none \
up to 1.25 max(observed density, rho_jam)). The fits: the triangle by robust least squares \
(Tukey's bisquare on flow-scaled residuals, the field's baseline) and by plain least squares; \
`fit_pwl` with one and with three free knots, each refitted concave and through the origin on \
the same knots; ReLU and tanh networks (one hidden layer of {cfg.net.hidden[0]} units, \
{cfg.net.epochs} full-batch Adam epochs, the learning rate chosen on held-out data) through \
`compare_activations`. Errors in %, means over seeds.

{markdown_table(_recovery_table(t, have))}
Noise-free data give the triangle to {nf["value"].abs().max():.1g} relative (target 1e-8). \
On noisy data the robust fit's worst error over seeds {seeds} is {100 * worst["vf"]:.2f} % on \
vf and {100 * worst["capacity"]:.2f} % on capacity (target 2 %), {100 * worst["w"]:.2f} % on w \
and {100 * worst["jam_density"]:.2f} % on rho_jam (target 5 %): {"met" if met else "MISSED"}. \
Plain least squares, like every unweighted fit here, is pulled low by the shock-crossing \
cells: capacity {_pct(lsq["capacity"])} and w {_pct(lsq["w"])} with 30 % congested data, \
capacity {_pct(lsq10)} with 10 %.{_reach(study, have)}
"""


def _reach(study: dict, have: list[str]) -> str:
    """A sentence on data sets that stop short of 0.9 rho_jam (their w and rho_jam extrapolate)."""
    short = []
    for name in have:
        ds = study["datasets"][name, study["seeds"][0]]
        reach = float(ds.density.max()) / ds.reference.rho_jam
        if reach < 0.9:
            short.append(f"{DATASETS[name]} reach only {reach:.2f} rho_jam")
    if not short:
        return ""
    return (
        f" The densities of {'; '.join(short)}: there w and rho_jam are extrapolated by every "
        "fit (flagged in table.csv), and a fit that bends beyond the data has no jam density."
    )


def _networks(study: dict, have: list[str], facts: dict) -> str:
    t, truth = study["table"], study["truth"]
    nets = facts["relu_vs_tanh"].get("synthetic_30", {})
    if "relu" not in nets or "tanh" not in nets:
        return ""
    relu, tanh = nets["relu"], nets["tanh"]
    text = f"""### ReLU against tanh at the kink

With the same data, width, epochs and learning-rate search, the ReLU network puts its peak at \
{relu["critical_density"]:.3g} veh/km (truth {truth.critical_density:g}) with a capacity error \
of {_pct(relu["capacity_rel_error"])}; the tanh network rounds the peak and moves it to \
{tanh["critical_density"]:.3g} veh/km, with a capacity error of \
{_pct(tanh["capacity_rel_error"])}. Within 2 % of rho_jam of the kink the largest error is \
{relu["kink_max_error"]:.3g} veh/h for ReLU and {tanh["kink_max_error"]:.3g} veh/h for tanh. \
The kink's location and one-sided slopes come from `kink_estimate` (lines fitted on either \
side of the window), the same for every model; breakpoints are counted on the ReLU network's \
exact spline (`relu_to_spline`). Means over seeds:

{markdown_table(_nets_table(t, [n for n in have if n != "noise_free"]))}"""
    base = t[
        (t["part"] == "compare")
        & (t["model"] == "fit_pwl_baseline")
        & (t["quantity"] == "max_error")
    ]
    if len(base) and base["value"].max() > 10 * truth.capacity:
        worst = base.loc[base["value"].idxmax()]
        text += f"""
`compare_activations`' own baseline (`fit_pwl` with as many free knots as the network has \
units) is in table.csv; on {worst["dataset"]} seed {int(worst["seed"])} its knot search put \
two knots almost together and the fit reaches {worst["value"]:.3g} veh/h between them on the \
test grid.
"""
    return text


def _admissible(study: dict) -> str:
    t = study["table"]
    adm = t[t["part"] == "admissible"]
    lines = []
    for rec in adm[adm["quantity"] == "excluded_from_ctm"].to_dict("records"):
        name = STYLE.get(rec["model"], (rec["model"],))[0]
        lines.append(
            f"- {name} (seed {int(rec['seed'])}) is not simulated: {rec['note']} (two free "
            "knots almost together: a near-jump in q)."
        )
    forced = adm[(adm["quantity"] == "jam_forced") & (adm["value"] > 0)]
    if len(forced):
        which = ", ".join(
            f"{STYLE.get(m, (m,))[0]} seed {int(s)}"
            for m, s in zip(forced["model"], forced["seed"], strict=True)
        )
        lines.append(f"- The jam density was forced for: {which}.")
    return f"""### Making a fit admissible for the CTM

Godunov's scheme in demand-supply form (Lebacque 1996; Daganzo's cell transmission model) \
needs a flux that is zero at 0 and at jam density, with one peak. Each fit is made admissible: \
critical density = argmax; a positive q(0) faded out linearly to rho_c; jam density = the \
first zero beyond rho_c (forced where absent by continuing the last segment); the flux clipped \
at 0; demand D(rho) = max of q on [0, rho] and supply S(rho) = max of q on [rho, rho_jam]. The \
largest correction over seeds (30 % congested data):

{markdown_table(_admissible_table(t))}
{chr(10).join(lines)}
"""


def _ctm(study: dict, facts: dict) -> str:
    t, runs = study["table"], {r.name: r for r in study["runs"]}
    red, drop = facts["queues"]["red_light"], facts["queues"]["lane_drop"]
    hd, hr = drop["hypothesis"], red["hypothesis"]
    agree = 100 * max(hd["discharge_vs_capacity"], hr["discharge_vs_capacity"])
    worst = max((hd, hr), key=lambda h: h["tail_vs_rh"])
    model, seed = worst["tail_vs_rh_worst"]
    who = f"{STYLE.get(model, (model,))[0]} seed {seed}"
    adm = t[(t["part"] == "admissible") & (t["quantity"] == "jam_forced") & (t["value"] > 0)]
    if ((adm["model"] == model) & (adm["seed"] == seed)).any():
        who += ", whose jam density was forced, so its queue fills towards it only slowly"
    tables = "\n".join(
        f"**{title}**: {runs[name].description}.\n\n{markdown_table(_ctm_table(t, name))}"
        for name, title in (("red_light", "Red light"), ("lane_drop", "Lane drop, 3 to 2 lanes"))
    )
    nets = ""
    if "tanh" in drop and "relu" in drop:
        nets = f""" The tanh network, {_pct(drop["tanh"]["capacity_rel_error"])} in capacity, \
gives {drop["tanh"]["total_delay"]:.3g} veh h of delay at the lane drop against \
{drop["truth"]["total_delay"]:.3g} for the truth and {drop["relu"]["total_delay"]:.3g} for the \
ReLU network ({_pct(drop["relu"]["capacity_rel_error"])} in capacity)."""
        if (
            hr["clearance_vs_truth"].get("tanh", 0.0)
            < 0
            < red["tanh"]["total_delay"] - red["truth"]["total_delay"]
        ):
            nets += f""" Behind the light the tanh queue 'clears' \
{-hr["clearance_vs_truth"]["tanh"]:.3g} s sooner by the density threshold, yet causes more \
delay ({red["tanh"]["total_delay"]:.3g} against {red["truth"]["total_delay"]:.3g} veh h): its \
queue is denser and shorter (its jam density is higher) while the vehicles still leave at the \
lower discharge rate; clearance by a density threshold misleads when the diagram is wrong."""
    gain = -hd["delay_per_capacity"][0]
    return f"""### Consequence: queues in the cell transmission model

The hypothesis, not a conclusion: a rounded peak underestimates capacity, so queues discharge \
more slowly. All fluxes of a scenario run in one torch batch with one dx and \
dt = 0.9 dx / (the largest |q'| over all of them), once with the disturbance and once without \
it (delay = the difference in vehicle-hours). Queue length uses the true diagram's threshold \
(rho_c + rho_jam)/2 = {runs["red_light"].threshold:g} veh/km behind the light; the lane drop's \
queue (53.3 veh/km per lane for the truth) never reaches it, so there the threshold is midway \
between the true rho_c and that queue state, {runs["lane_drop"].threshold:.3g} veh/km per lane. \
Cumulative counts N(t) (Newell 1993) are compared with the truth's at the bottleneck and 1 km \
upstream. Means over seeds.

{tables}
What it means in the field: the bottleneck discharges at the fitted capacity (discharge and \
capacity errors agree to {agree:.2g} percentage points), so a capacity error is a \
queue-discharge error, and it compounds: across every fit and seed at the lane drop, each 1 % \
of capacity lost adds {gain:.3g} % of delay (correlation {hd["delay_per_capacity"][1]:.2f}) \
and {-hd["clear_per_capacity"][0]:.3g} % of clearance time (correlation \
{hd["clear_per_capacity"][1]:.2f}); behind the light each 1 % adds \
{-hr["delay_per_capacity"][0]:.3g} % of delay (correlation {hr["delay_per_capacity"][1]:.2f}).\
{nets} Queue tails move at the Rankine-Hugoniot speed of each model's own flux (the largest \
gap, {worst["tail_vs_rh"]:.2g} km/h, is for {who}); the truth's tail behind the light moves at \
{red["truth"]["tail_speed"]:.3g} km/h against {red["truth"]["tail_speed_rh"]:.3g} in theory, \
and its discharge front at {red["truth"].get("front_speed", float("nan")):.3g} km/h against \
-w = {-study["truth"].w:g} km/h.

![Space-time density: truth, ReLU and tanh](spacetime.png)

![Queue length and oblique cumulative counts](queues.png)
"""


def _run(study: dict, seconds: float, device: str, facts: dict) -> str:
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in facts["stage_seconds"].items() if k != "total")
    return f"""### Run

{seconds:.1f} s on {device} (torch with one intra-op thread while the study runs; this \
machine has {torch.get_num_threads()} by default): {stages}, the rest figures. Learning rates \
chosen: {facts["learning_rates"]}. table.csv holds every number in tidy form (part, dataset, \
model, seed, quantity, value, unit, note); the only NaN values are a jam density or kink that \
does not exist, with the reason in note.
"""


def section(study: dict, seconds: float, device: str, quick: bool) -> str:
    """The Markdown section: what was measured, the tables, the figures, what it means."""
    s0 = study["seeds"][0]
    names = ("noise_free", "synthetic_30", "synthetic_10", "uxsim", "user")
    have = [n for n in names if (n, s0) in study["datasets"]]
    facts = info(study)
    parts = [
        _intro(study, quick),
        _data(study, have),
        _recovery(study, have, facts),
        _networks(study, have, facts),
        _admissible(study),
        _ctm(study, facts),
        _run(study, seconds, device, facts),
    ]
    return "\n".join(p for p in parts if p)
