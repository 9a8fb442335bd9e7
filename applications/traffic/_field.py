"""The field comparison: what five fits get wrong where a traffic engineer looks.

Capacity, the congested wave speed w and the free speed vf of every data set
whose truth is known, and the delay and the longest queue of the two CTM
scenarios, each as the fit's value minus the truth's, for the robust and the
plain least-squares triangle, ``fit_pwl`` with one free knot, the ReLU
network and the tanh network. Built from rows the study already measured
(part "fit" and the scenario parts): nothing is recomputed here, only
differenced, averaged over seeds and ranked.
"""

from __future__ import annotations

import pandas as pd

from ._labels import DATASETS, STYLE
from ._models import table_row

__all__: list[str] = []

MODELS = ("triangle_robust", "triangle_lsq", "pwl_1", "relu", "tanh")
FIELD_DATASETS = ("synthetic_30", "synthetic_10", "uxsim")  # the truth is known there
SPEC = (  # (quantity, source part, source quantity, unit, relative (%), display label)
    ("capacity_error", "fit", "capacity", "%", True, "capacity error (%)"),
    ("w_error", "fit", "w", "km/h", False, "w error (km/h)"),
    ("vf_error", "fit", "vf", "km/h", False, "vf error (km/h)"),
    (
        "red_light_delay_error",
        "red_light",
        "total_delay",
        "veh h",
        False,
        "red light: delay error (veh h)",
    ),
    (
        "red_light_queue_error",
        "red_light",
        "max_queue",
        "km",
        False,
        "red light: max queue error (km)",
    ),
    (
        "lane_drop_delay_error",
        "lane_drop",
        "total_delay",
        "veh h",
        False,
        "lane drop: delay error (veh h)",
    ),
    (
        "lane_drop_queue_error",
        "lane_drop",
        "max_queue",
        "km",
        False,
        "lane drop: max queue error (km)",
    ),
)
TIE_RTOL = 1e-6  # mean |errors| this close are a tie (table.csv keeps 10 digits)
LABELS = {q: label for q, *_, label in SPEC}


def field_rows(table: pd.DataFrame) -> list[dict]:
    """Tidy rows, part "field": each model's value minus the truth's, same data set and seed.

    The source row's note (e.g. "extrapolated: ...") is carried over. A
    (data set, seed) without a truth row, or a model that was not simulated,
    gets no row.
    """
    rows = []
    keep = table["dataset"].isin(FIELD_DATASETS)
    for quantity, part, source, unit, relative, _ in SPEC:
        d = table[keep & (table["part"] == part) & (table["quantity"] == source)]
        truth = d[d["model"] == "truth"].set_index(["dataset", "seed"])["value"].to_dict()
        for r in d[d["model"].isin(MODELS)].itertuples():
            ref = truth.get((r.dataset, r.seed))
            if ref is None:
                continue
            err = 100.0 * (r.value - ref) / ref if relative else r.value - ref
            rows.append(table_row("field", r.dataset, r.model, r.seed, quantity, err, unit, r.note))
    return rows


def field_stats(table: pd.DataFrame) -> dict:
    """Means over seeds, their sd, mean |error| and the best model of every quantity.

    Returns ``{"stats": {dataset: {model: {quantity: {"mean", "sd", "mean_abs",
    "n"}}}}, "best": {dataset: {quantity: model}}, "relu_vs_tanh": {dataset:
    {quantity: "relu", "tanh" or "tie"}}}``; the best models (a tuple: all
    that tie, within ``TIE_RTOL``) have the smallest mean |error| over seeds
    (the queue, read to a cell's edge, often ties exactly; the plain triangle
    and the one-knot ``fit_pwl`` share their congested slope); sd is None
    with one seed.

    Examples
    --------
    >>> import pandas as pd
    >>> from applications.traffic._models import table_row
    >>> errors = {"triangle_robust": 0.5, "relu": -3.0, "tanh": 2.0}
    >>> rows = [table_row("field", "uxsim", m, 0, "capacity_error", v, "%")
    ...         for m, v in errors.items()]
    >>> s = field_stats(pd.DataFrame(rows))
    >>> s["best"]["uxsim"]["capacity_error"], s["relu_vs_tanh"]["uxsim"]["capacity_error"]
    (('triangle_robust',), 'tanh')
    """
    d = table[table["part"] == "field"]
    g = d.assign(abs=d["value"].abs()).groupby(["dataset", "model", "quantity"], sort=False)
    agg = g.agg(mean=("value", "mean"), sd=("value", "std"), mean_abs=("abs", "mean"))
    agg["n"] = g.size()
    stats: dict = {}
    for (ds, model, q), r in agg.iterrows():
        sd = None if r["n"] < 2 else float(r["sd"])
        cell = {"mean": float(r["mean"]), "sd": sd, "mean_abs": float(r["mean_abs"])}
        stats.setdefault(ds, {}).setdefault(model, {})[q] = cell | {"n": int(r["n"])}
    best: dict = {}
    duel: dict = {}
    for ds in [n for n in FIELD_DATASETS if n in stats]:
        for q in LABELS:
            have = {m: stats[ds][m][q]["mean_abs"] for m in MODELS if q in stats[ds].get(m, {})}
            if have:
                low = min(have.values())
                near = [m for m, v in have.items() if v <= low + TIE_RTOL * low + 1e-12]
                best.setdefault(ds, {})[q] = tuple(near)
            if "relu" in have and "tanh" in have:
                r, t = have["relu"], have["tanh"]
                tie = abs(r - t) <= TIE_RTOL * min(r, t) + 1e-12
                duel.setdefault(ds, {})[q] = "tie" if tie else "relu" if r < t else "tanh"
    return {"stats": stats, "best": best, "relu_vs_tanh": duel}


def _cell(s: dict | None, bold: bool) -> str:
    if s is None:
        return ""
    text = f"{s['mean']:.3g}" if s["sd"] is None else f"{s['mean']:.3g} ± {s['sd']:.2g}"
    return f"**{text}**" if bold else text


def field_table(field: dict) -> pd.DataFrame:
    """The section's table: one row per (data set, model), mean ± sd, the best in bold."""
    stats, best = field["stats"], field["best"]
    shown = [q for q in LABELS if any(q in b for b in best.values())]
    rows = []
    for ds in [n for n in FIELD_DATASETS if n in stats]:
        for m in [m for m in MODELS if m in stats[ds]]:
            row = {"data": DATASETS[ds], "model": STYLE[m][0]}
            for q in shown:
                s = stats[ds][m].get(q)
                row[LABELS[q]] = _cell(s, m in best[ds].get(q, ()))
            rows.append(row)
    return pd.DataFrame(rows, columns=["data", "model", *(LABELS[q] for q in shown)])
