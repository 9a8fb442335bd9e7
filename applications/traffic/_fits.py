"""Every fit on one data set, measured with the same definitions against the truth.

The fits: the parametric triangle by robust and by plain least squares;
``fit_pwl`` with one free knot and with three, each also refitted
constrained (concave, through the origin) on the same knots; ReLU and tanh
networks through ``compare_activations``. Every model ends up as a
PiecewiseLinear in veh/km -> veh/h: exact for the triangles and the
``fit_pwl`` splines, the networks tabulated on the comparison's 2001-point
test grid over the data range and continued linearly beyond it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from pwlmodels import PiecewiseLinear, compare_activations, fit_pwl, kink_estimate
from pwlmodels._validate import plain

from .._checks import check_count
from ._models import TriangularFD, diagram_parameters, fit_triangular, table_row

__all__: list[str] = []

CONCAVE = {"curvature": "concave", "through": [(0.0, 0.0)]}
PARAMETERS = (  # (key of diagram_parameters, quantity, unit)
    ("vf", "vf", "km/h"),
    ("w", "w", "km/h"),
    ("jam_density", "jam_density", "veh/km"),
    ("capacity", "capacity", "veh/h"),
    ("critical_density", "critical_density", "veh/km"),
)
NETWORKS = ("relu", "tanh")


@dataclass(frozen=True)
class NetConfig:
    """Network settings shared by every comparison (one hidden layer)."""

    hidden: tuple[int, ...]
    epochs: int
    lrs: tuple[float, ...]


@dataclass(frozen=True)
class DataSet:
    """Observations, their reference diagram (the truth, or a robust fit) and a label."""

    name: str
    seed: int
    frame: pd.DataFrame
    reference: TriangularFD
    truth_known: bool

    @property
    def density(self) -> np.ndarray:
        return self.frame["density_veh_km"].to_numpy()

    @property
    def flow(self) -> np.ndarray:
        return self.frame["flow_veh_h"].to_numpy()

    @property
    def density_max(self) -> float:
        """Where fits are searched for capacity and jam density: 1.25 max(data, rho_jam), veh/km."""
        return 1.25 * max(float(self.density.max()), self.reference.rho_jam)


def classic_fits(ds: DataSet) -> dict[str, PiecewiseLinear]:
    """The parametric triangles and the four ``fit_pwl`` variants, as splines."""
    rho, q = ds.density, ds.flow
    models = {
        "triangle_robust": fit_triangular(rho, q, robust=True).to_spline(),
        "triangle_lsq": fit_triangular(rho, q, robust=False).to_spline(),
    }
    for k in (1, 3):
        with np.errstate(invalid="ignore"):  # fit_pwl's standard errors (unused) may take sqrt(<0)
            free = fit_pwl(rho, q, n_knots=k, seed=ds.seed)
            concave = fit_pwl(rho, q, knots=free.knots, constraints=CONCAVE)
        models[f"pwl_{k}"] = free.spline
        models[f"pwl_{k}_concave"] = concave.spline
    return models


def _scales(ds: DataSet) -> tuple[float, float]:
    return float(ds.density.max()), float(np.max(np.abs(ds.flow)))


def network_fits(
    ds: DataSet, cfg: NetConfig, device: torch.device, lrs: dict[str, float] | None
) -> tuple[dict[str, PiecewiseLinear], pd.DataFrame, dict[str, float]]:
    """ReLU and tanh networks on ``ds`` through ``compare_activations`` (seed ``ds.seed``).

    Inputs are scaled to [-1, 1] and flows by their maximum. ``lrs`` (chosen
    by an earlier comparison) skips the learning-rate search; otherwise
    ``cfg.lrs`` are searched. Returns the splines in physical units, the
    comparison's table in physical units and the learning rates used.
    """
    rs, qs = _scales(ds)
    ref = ds.reference
    to_x = lambda rho: 2.0 * np.asarray(rho) / rs - 1.0  # noqa: E731
    target = PiecewiseLinear(
        to_x([0.0, ref.critical_density, ref.rho_jam]),
        np.array([0.0, ref.capacity, 0.0]) / qs,
        left_slope=0.0,
        right_slope=0.0,
    )
    kinks = [float(to_x(ref.critical_density))]
    common = {"x_train": to_x(ds.density), "y_train": ds.flow / qs, "domain": (-1.0, 1.0)}
    common |= {"kinks": kinks, "hidden": cfg.hidden, "seeds": (ds.seed,), "epochs": cfg.epochs}
    common["device"] = device
    if lrs is None:
        runs = [(NETWORKS, cfg.lrs)]
    elif lrs["relu"] == lrs["tanh"]:
        runs = [(NETWORKS, (lrs["relu"],))]
    else:
        runs = [((act,), (lrs[act],)) for act in NETWORKS]
    tables, splines = [], {}
    for acts, lr in runs:
        with np.errstate(invalid="ignore"):  # as above, in its fit_pwl baseline
            comp = compare_activations(target, activations=acts, lrs=lr, **common)
        grid = (comp.curves["x"] + 1.0) * rs / 2.0
        for act in acts:
            splines[act] = PiecewiseLinear(grid, comp.curves[act] * qs)
        tables.append(comp.to_frame())
    table = pd.concat(tables, ignore_index=True).drop_duplicates(["model", "seed"])
    table = table[table["model"] != "interpolant"]  # the target itself: the truth
    chosen = {act: float(table.loc[table["model"] == act, "lr"].iloc[0]) for act in NETWORKS}
    return splines, _physical(table, rs, qs), chosen


def _physical(table: pd.DataFrame, rs: float, qs: float) -> pd.DataFrame:
    """The comparison's metrics in veh/h, veh/km and km/h (inputs were 2 rho / rs - 1)."""
    out = table[["model", "seed", "n_params", "lr"]].copy()
    slope = qs * 2.0 / rs  # d(flow)/d(density) per unit of d(y)/d(x)
    out["rmse"] = table["rmse"] * qs
    out["max_error"] = table["max_error"] * qs
    out["kink_max_error"] = table["kink0_max_error"] * qs
    out["kink_location_error"] = table["kink0_location_error"] * rs / 2.0
    out["kink_left_slope_error"] = table["kink0_left_slope_error"] * slope
    out["kink_right_slope_error"] = table["kink0_right_slope_error"] * slope
    if "kink0_breakpoints" in table:
        out["kink_breakpoints"] = table["kink0_breakpoints"]
    return out


def measure(
    ds: DataSet, models: dict[str, PiecewiseLinear], *, kink_observed: bool
) -> list[dict[str, object]]:
    """Tidy rows: the five diagram parameters, errors, RMSE and kink metrics of every model.

    Kink metrics are flagged "extrapolated" when no observation lies within
    10 % of the critical density; ``w`` and the jam density likewise when
    the data stop short of 0.9 rho_jam (the end of the window for ``w``).
    """
    ref = ds.reference
    reach = float(ds.density.max()) / ref.rho_jam
    far = "" if reach >= 0.9 else f"extrapolated: the data reach {reach:.2f} rho_jam"
    truth = diagram_parameters(ref.to_spline(), reference=ref, density_max=ds.density_max)
    grid = np.linspace(0.0, ref.rho_jam, 2401)
    window = 0.02 * ref.rho_jam
    t_loc, t_left, t_right = kink_estimate(ref.to_spline(), ref.critical_density, window)
    near = np.abs(grid - ref.critical_density) <= window
    flag = "" if kink_observed else "extrapolated: no observation within 10 % of rho_c"
    rows = []

    def add(model, quantity, value, unit, note=""):
        rows.append(table_row("fit", ds.name, model, ds.seed, quantity, value, unit, note))

    for name, spline in models.items():
        p = diagram_parameters(spline, reference=ref, density_max=ds.density_max)
        for key, quantity, unit in PARAMETERS:
            note = ""
            if np.isnan(p[key]):
                note = f"none: no zero beyond rho_c up to {ds.density_max:.4g} veh/km"
            elif key in ("capacity", "critical_density"):
                note = flag
            elif key in ("w", "jam_density"):
                note = far
            add(name, quantity, p[key], unit, note)
            add(name, f"{quantity}_rel_error", (p[key] - truth[key]) / truth[key], "1", note)
        err = spline(grid) - ref(grid)
        add(name, "rmse", np.sqrt(np.mean(err**2)), "veh/h")
        add(name, "kink_max_error", np.max(np.abs(err[near])), "veh/h", flag)
        loc, left, right = kink_estimate(spline, ref.critical_density, window)
        if np.isfinite(loc):
            add(name, "kink_location_error", abs(loc - t_loc), "veh/km", flag)
        else:
            add(name, "kink_location_error", np.nan, "veh/km", "none: no kink (equal slopes)")
        add(name, "kink_left_slope_error", abs(left - t_left), "km/h", flag)
        add(name, "kink_right_slope_error", abs(right - t_right), "km/h", flag)
    return rows


def compare_rows(ds: DataSet, table: pd.DataFrame, *, kink_observed: bool) -> list[dict]:
    """The comparison's own table (physical units) as tidy rows, part "compare"."""
    units = {"n_params": "1", "lr": "1", "rmse": "veh/h", "max_error": "veh/h"}
    units |= {"kink_max_error": "veh/h", "kink_location_error": "veh/km"}
    units |= {"kink_left_slope_error": "km/h", "kink_right_slope_error": "km/h"}
    units |= {"kink_breakpoints": "1"}
    flag = "" if kink_observed else "extrapolated: no observation within 10 % of rho_c"
    rows = []
    for rec in table.to_dict("records"):
        for quantity, unit in units.items():
            value = rec.get(quantity)
            if value is None or (isinstance(value, float) and np.isnan(value)):
                continue  # lr of the untrained baseline, breakpoints of tanh: not defined
            note = flag if quantity.startswith("kink") else ""
            model = "fit_pwl_baseline" if rec["model"] == "fit_pwl" else rec["model"]
            rows.append(table_row("compare", ds.name, model, ds.seed, quantity, value, unit, note))
    return rows


def fit_all(
    ds: DataSet,
    cfg: NetConfig,
    device: torch.device,
    lrs: dict[str, float] | None,
    *,
    networks: bool,
    kink_observed: bool,
) -> tuple[dict[str, PiecewiseLinear], list[dict], dict[str, float] | None]:
    """Fit every model on ``ds``; return the splines (truth first), tidy rows and the lrs."""
    models = {"truth": ds.reference.to_spline()} | classic_fits(ds)
    rows: list[dict] = []
    if networks:
        nets, table, lrs = network_fits(ds, cfg, device, lrs)
        models |= nets
        rows += compare_rows(ds, table, kink_observed=kink_observed)
    return models, measure(ds, models, kink_observed=kink_observed) + rows, lrs


def seeds_of(seeds: Sequence[int]) -> tuple[int, ...]:
    """Validated seeds: a non-empty sequence of distinct non-negative integers."""
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or not seeds:
        raise TypeError(f"`seeds` must be a non-empty sequence of integers; got {plain(seeds)!r}")
    out = [check_count(s, f"seeds[{i}]", 0) for i, s in enumerate(seeds)]
    if len(set(out)) != len(out):
        raise ValueError(f"`seeds` must be distinct; got {list(out)}")
    return tuple(out)
