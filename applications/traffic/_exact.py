"""Exactness checks: the triangle's ReLU network; Greenshields' interpolation error against K."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from pwlmodels import evaluate, rounding_bound

from ._models import Greenshields, TriangularFD, table_row

__all__: list[str] = []

_K_ALL = range(3, 130)
_K_TABLE = (3, 4, 7, 10, 17, 33, 50, 100, 129)


def exactness_rows(truth: TriangularFD) -> list[dict]:
    """The triangle's ReLU network against its spline on and off [0, rho_jam]."""
    net, spline = truth.to_relu(), truth.to_spline()
    x = np.linspace(-0.5 * truth.rho_jam, 2.0 * truth.rho_jam, 5001)
    dev = float(np.max(np.abs(evaluate(net, x) - spline(x))))
    bound = float(np.max(rounding_bound(spline, x, dtype=torch.float64)))
    items = (("max_deviation", dev, "veh/h"), ("rounding_bound", bound, "veh/h"))
    items += (("hidden_units", float(net[0].out_features), "1"),)
    return [table_row("exact", "-", "triangle_relu", 0, q, v, u) for q, v, u in items]


def greenshields_errors(g: Greenshields) -> pd.DataFrame:
    """Measured sup error of the K-knot interpolant (midpoints and a fine grid) vs the formula."""
    fine = np.linspace(-0.1 * g.rho_max, 1.1 * g.rho_max, 24001)
    out = []
    for k in _K_ALL:
        s = g.to_spline(k)
        t = np.linspace(0.0, g.rho_max, k)
        mid = (t[:-1] + t[1:]) / 2
        sup_mid = float(np.max(g(mid) - s(mid)))
        sup_fine = float(np.max(np.abs(g(np.maximum(fine, 0)) - s(fine))))
        bound = g.interpolation_error(k)
        out.append(
            {
                "K": k,
                "sup_error": max(sup_mid, sup_fine),
                "midpoint_error": sup_mid,
                "bound": bound,
                "rel_deviation": abs(sup_mid - bound) / bound,
            }
        )
    return pd.DataFrame(out)


def greenshields_rows(g: Greenshields, errors: pd.DataFrame) -> list[dict]:
    rows = []
    for k in _K_TABLE:
        e = errors.set_index("K").loc[k]
        mid = (np.linspace(0, g.rho_max, k)[:-1] + np.linspace(0, g.rho_max, k)[1:]) / 2
        relu = float(np.max(g(mid) - evaluate(g.to_relu(k), mid)))
        for q, v, u in (
            ("sup_error", e["sup_error"], "veh/h"),
            ("bound", e["bound"], "veh/h"),
            ("rel_deviation", e["rel_deviation"], "1"),
            ("relu_midpoint_error", relu, "veh/h"),
            ("hidden_units", float(g.to_relu(k)[0].out_features), "1"),
        ):
            rows.append(table_row("greenshields", "-", f"K={k}", 0, q, v, u))
    worst = float(errors["rel_deviation"].max())
    rows.append(table_row("greenshields", "-", "K=3..129", 0, "max_rel_deviation", worst, "1"))
    return rows
