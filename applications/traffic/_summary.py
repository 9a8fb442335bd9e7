"""The traffic study's summaries of its tidy table: means over seeds, the tables the section
prints, and the key numbers it quotes (every aggregation the report needs, done once here).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._field import field_stats, field_table
from ._labels import DATASETS, STYLE

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
    qs = [*_QUEUE_QUANTITIES, "front_speed_characteristic"]
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


_QUEUE_QUANTITIES = [
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
]


def tables(table: pd.DataFrame, have: list[str]) -> dict[str, pd.DataFrame]:
    """The section's tables by name, means over seeds, with display names for models and data.

    ``have``: the data sets of the run, in the order of ``DATASETS``.
    """
    return {
        "greenshields": _greenshields_table(table),
        "data": _data_table(table, have),
        "recovery": _recovery_table(table, have),
        "networks": _nets_table(table, [n for n in have if n != "noise_free"]),
        "admissible": _admissible_table(table),
        "red_light": _ctm_table(table, "red_light"),
        "lane_drop": _ctm_table(table, "lane_drop"),
        "field": field_table(field_stats(table)),
    }


def facts(table: pd.DataFrame, have: list[str], scenarios: list[str]) -> dict:
    """Every number the section quotes, by name (the first ten are ``AppResult.info``'s).

    ``have``: the data sets of the run; ``scenarios``: the CTM parts ("red_light", ...).
    """
    t = table
    recovered = {}
    for name in have:
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
    for name in (n for n in have if n != "noise_free"):
        p = _mean(
            t,
            "fit",
            name,
            ["capacity_rel_error", "critical_density", "kink_location_error", "kink_max_error"],
        )
        nets[name] = {m: p.loc[m].to_dict() for m in ("relu", "tanh") if m in p.index}
    queues = {}
    for part in scenarios:
        p = _mean(t, part, "synthetic_30", _QUEUE_QUANTITIES)
        queues[part] = {m: row.dropna().to_dict() for m, row in p.iterrows()}
        queues[part]["hypothesis"] = _hypothesis(t, part)
    gs = t[(t["part"] == "greenshields") & (t["quantity"] == "max_rel_deviation")]
    ex = t[(t["part"] == "exact") & (t["quantity"] == "max_deviation")]
    out = {
        "recovered": recovered,
        "robust_worst_rel_error": worst,
        "relu_vs_tanh": nets,
        "queues": queues,
        "greenshields_max_rel_deviation": float(gs["value"].iloc[0]),
        "triangle_relu_max_deviation": float(ex["value"].iloc[0]),
        "field": field_stats(table),
    }
    out["exact"] = {r["quantity"]: r["value"] for r in t[t["part"] == "exact"].to_dict("records")}
    nf = t[
        (t["part"] == "fit")
        & (t["dataset"] == "noise_free")
        & t["model"].str.startswith("triangle")
        & t["quantity"].isin(["vf_rel_error", "w_rel_error", "jam_density_rel_error"])
    ]
    out["noise_free_max_rel_error"] = float(nf["value"].abs().max())
    out["lsq"] = {
        "w": _value(t, "fit", "synthetic_30", "triangle_lsq", "w_rel_error"),
        "capacity": _value(t, "fit", "synthetic_30", "triangle_lsq", "capacity_rel_error"),
        "capacity_10": _value(t, "fit", "synthetic_10", "triangle_lsq", "capacity_rel_error"),
    }
    base = t[
        (t["part"] == "compare")
        & (t["model"] == "fit_pwl_baseline")
        & (t["quantity"] == "max_error")
    ]
    out["baseline_worst"] = {}  # the fit_pwl baseline's largest max_error, where it ran
    if len(base):
        row = base.loc[base["value"].idxmax()]
        out["baseline_worst"] = {
            "value": float(row["value"]),
            "dataset": str(row["dataset"]),
            "seed": int(row["seed"]),
        }
    adm = t[t["part"] == "admissible"]
    out["excluded"] = tuple(
        (str(r["model"]), int(r["seed"]), str(r["note"]))
        for r in adm[adm["quantity"] == "excluded_from_ctm"].to_dict("records")
    )
    forced = adm[(adm["quantity"] == "jam_forced") & (adm["value"] > 0)]
    out["jam_forced"] = tuple(
        (str(m), int(s)) for m, s in zip(forced["model"], forced["seed"], strict=True)
    )
    return out
