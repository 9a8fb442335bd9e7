"""The traffic study's configuration, its computation, and the frozen result it returns.

``compute`` does every fit, training run, simulation and aggregation; its
``TrafficResult`` holds numbers, arrays, tables and strings only, from
which ``_figures`` and ``_section`` draw and write without computing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pwlmodels import resolve_device

from .._checks import one_thread
from . import _summary
from ._calibrate import Calibration, calibration, calibration_rows
from ._ctm import admissible_flux
from ._data import UXSIM_AVAILABLE, observed_ranges, read_detector_csv, synthetic_data, uxsim_data
from ._exact import exactness_rows, greenshields_errors, greenshields_rows
from ._field import field_rows
from ._fits import DataSet, NetConfig, fit_all, measure, seeds_of
from ._freeway_section import FreewayStudy, freeway_rows, freeway_study
from ._labels import DATASETS, STYLE
from ._models import Greenshields, TriangularFD, fit_triangular, table_row
from ._redlight import red_light_convergence
from ._scenarios import Run, lane_drop, measures, red_light

__all__ = ["FULL", "QUICK", "Config", "DataView", "Scenario", "TrafficResult", "compute"]

_CLASSIC = ("triangle_robust", "triangle_lsq", "pwl_1", "pwl_1_concave", "pwl_3", "pwl_3_concave")
MODELS = ("truth", *_CLASSIC, "relu", "tanh")
_SPEED_LIMIT = 3.0  # fluxes with max|q'| above 3 vf are not simulated (reported instead)
RED_LIGHT = (1200.0, 180.0)  # red_light()'s arrival flow (veh/h) and red (s): 1 to 4 min
_COLUMNS = ["part", "dataset", "model", "seed", "quantity", "value", "unit", "note"]


@dataclass(frozen=True)
class Config:
    """How large the traffic study is: data, networks, CTM cells and figure resolution.

    Parameters
    ----------
    n_points : int
        Observations per synthetic data set (each seed draws its own).
    hidden : tuple of int
        Hidden-layer widths of the ReLU and tanh networks.
    epochs : int
        Full-batch Adam epochs per network.
    lrs : tuple of float
        Learning rates searched on a data set's first seed (the choice is
        reused for its other seeds).
    red_dx : float
        CTM cell length of the red-light scenario, km.
    drop_dx : float
        CTM cell length of the lane-drop scenario, km.
    dpi : int
        Resolution of the figures, dots per inch.
    detectors : tuple of int, default (8, 100)
        The calibration part: detectors in the synthetic archive, and
        bootstrap replicates per detector.
    exact_dx : tuple of float, default (0.05, 0.025, 0.01, 0.005, 0.002)
        CTM cell lengths (km) of the red light's grid-convergence study
        against the exact LWR answer (``red_dx`` is always added).
    freeway_uxsim : bool, default True
        Run the freeway corridor in UXsim too (when installed; about 4 s a run).

    Examples
    --------
    >>> from applications.traffic import FULL, QUICK
    >>> QUICK.n_points < FULL.n_points, QUICK.red_dx * 1000, FULL.drop_dx * 1000
    (True, 50.0, 100.0)
    """

    n_points: int
    hidden: tuple[int, ...]
    epochs: int
    lrs: tuple[float, ...]
    red_dx: float
    drop_dx: float
    dpi: int
    detectors: tuple[int, int] = (8, 100)
    exact_dx: tuple[float, ...] = (0.05, 0.025, 0.01, 0.005, 0.002)
    freeway_uxsim: bool = True


FULL = Config(2000, (8,), 500, (1e-2, 3e-2), 0.025, 0.1, 150)
QUICK = Config(500, (8,), 150, (3e-2,), 0.05, 0.2, 80, (4, 20), (0.05, 0.025), False)


@dataclass(frozen=True)
class DataView:
    """One data set at the first seed, and every fit to it evaluated on a density grid.

    Attributes
    ----------
    frame : pandas.DataFrame
        The observations: ``density_veh_km``, ``flow_veh_h`` and ``kind``.
    curves : pandas.DataFrame
        ``density_veh_km`` (the grid: 1200 points on [0, 1.05 rho_jam] for
        "synthetic_30", else 800 on [0, 1.05 max(rho_jam, densest)]) and
        one column of flows (veh/h) per fitted model shown there.
    densest, max_flow : float
        The largest observed density (veh/km) and flow (veh/h).
    reach : float
        ``densest`` over the reference diagram's jam density.
    """

    frame: pd.DataFrame
    curves: pd.DataFrame
    densest: float
    max_flow: float
    reach: float


@dataclass(frozen=True)
class Scenario:
    """One CTM scenario's batch, as arrays: batch index b runs the flux of ``labels[b]``.

    Attributes
    ----------
    name : {"red_light", "lane_drop"}
    description : str
    labels : tuple of (str, int)
        (model, seed) of every flux simulated; index 0 is the truth.
    time : ndarray, shape (R,)
        Recorded times, h.
    edges : ndarray, shape (n + 1,)
        Cell edges, km.
    lanes : ndarray, shape (n,)
    density : ndarray, shape (B, R, n)
        Density of every cell, veh/km over all lanes.
    bottleneck : int
        Index of the interface at the stop line or the lane drop.
    bottleneck_count : ndarray, shape (B, R)
        Cumulative count N(t) at the bottleneck, veh.
    queue : ndarray, shape (B, R)
        Queue length upstream of the bottleneck, km.
    threshold : float
        The per-lane density above which a cell counts as queued, veh/km.
    """

    name: str
    description: str
    labels: tuple[tuple[str, int], ...]
    time: np.ndarray
    edges: np.ndarray
    lanes: np.ndarray
    density: np.ndarray
    bottleneck: int
    bottleneck_count: np.ndarray
    queue: np.ndarray
    threshold: float


@dataclass(frozen=True)
class TrafficResult:
    """Everything the traffic study measured: numbers, arrays, tables and strings only.

    Attributes
    ----------
    config : Config
    seeds : tuple of int
    device : str
        Where the networks trained and the CTM ran.
    table : pandas.DataFrame
        Every number in tidy form (part, dataset, model, seed, quantity,
        value, unit, note): what ``table.csv`` holds.
    truth : dict of str to float
        The true triangle: ``vf``, ``w`` (km/h), ``rho_jam``,
        ``critical_density`` (veh/km) and ``capacity`` (veh/h).
    greenshields : dict of str to float
        The parabola: ``vmax`` (km/h), ``rho_max`` (veh/km), ``capacity`` (veh/h).
    greenshields_errors : pandas.DataFrame
        Per number of knots ``K``: measured ``sup_error`` and
        ``rel_deviation`` from the formula, the formula ``bound``
        q_max/(K-1)^2, ``k_squared`` q_max K^-2 and ``ulp`` (one ulp of
        q_max relative to the bound).
    views : dict of str to DataView
        The data sets of the run by name, at the first seed.
    scenarios : tuple of Scenario
        The red light and the lane drop.
    tables : dict of str to pandas.DataFrame
        The section's tables (means over seeds, display names).
    facts : dict
        Every number the section quotes, by name.
    learning_rates : dict
        Data set -> activation -> the learning rate chosen.
    stage_seconds : dict of str to float
        Wall time of each stage of ``compute``, s.
    uxsim_note : str
        Why the UXsim data set is missing ("" when it is there).
    calibration : Calibration
        The detector archive: filters, fits of every detector by
        ``fit_many``, bootstrap intervals.
    torch_threads, default_threads : int
        torch's intra-op threads during ``compute`` and outside it.
    exact_reference : pandas.DataFrame
        The red light's CTM errors against the exact LWR answer, one row per
        cell length and quantity (:func:`red_light_convergence`).
    freeway : FreewayStudy or None
        The freeway corridor without and with ALINEA (CTM, and UXsim).
    """

    config: Config
    seeds: tuple[int, ...]
    device: str
    table: pd.DataFrame
    truth: dict[str, float]
    greenshields: dict[str, float]
    greenshields_errors: pd.DataFrame
    views: dict[str, DataView]
    scenarios: tuple[Scenario, ...]
    tables: dict[str, pd.DataFrame]
    facts: dict
    learning_rates: dict[str, dict[str, float]]
    stage_seconds: dict[str, float]
    uxsim_note: str
    calibration: Calibration
    torch_threads: int
    default_threads: int
    exact_reference: pd.DataFrame = field(default_factory=pd.DataFrame)
    freeway: FreewayStudy | None = None


def compute(
    config: Config,
    *,
    seeds: tuple[int, ...] = (0, 1, 2),
    device: torch.device | str | None = "auto",
    data: str | Path | None = None,
) -> TrafficResult:
    """Fit, train, simulate and summarise the traffic study; write nothing.

    torch runs with one intra-op thread meanwhile (the tensors are small).

    Parameters
    ----------
    config : Config
        ``FULL`` or ``QUICK``, or your own.
    seeds : sequence of int, default (0, 1, 2)
        One synthetic draw and one network initialisation per seed.
    device : None, "auto", str or torch.device, default "auto"
        Where the networks train and the CTM runs ("auto": CUDA when available).
    data : str or pathlib.Path, optional
        A detector CSV (columns ``density_veh_km``, ``flow_veh_h``), fitted
        as well against its own robust triangle.

    Returns
    -------
    TrafficResult

    Examples
    --------
    Arguments are checked before any work:

    >>> from applications.traffic import QUICK, compute
    >>> compute(QUICK, seeds=(0, 0))
    Traceback (most recent call last):
    ...
    ValueError: `seeds` must be distinct; got [0, 0]

    The quick study takes a few seconds, so it is not run here:

    >>> r = compute(QUICK, seeds=(0,), device="cpu")  # doctest: +SKIP
    >>> r.facts["queues"]["red_light"]["truth"]["discharge_flow"]  # doctest: +SKIP
    2000.0000000000075
    """
    if not isinstance(config, Config):
        raise TypeError(f"`config` must be a Config; got {type(config).__name__}")
    seeds = seeds_of(seeds)
    dev = resolve_device(device)
    user = read_detector_csv(data) if data is not None else None
    default_threads = torch.get_num_threads()
    with one_thread():
        return _compute(config, seeds, dev, user, default_threads)


def _data_rows(ds: DataSet, ranges: dict) -> list[dict]:
    rows = [("n_points", len(ds.frame), "1")]
    rows += [(k, float(v), "1") for k, v in ranges.items()]
    return [
        {
            "part": "data",
            "dataset": ds.name,
            "model": "data",
            "seed": ds.seed,
            "quantity": q,
            "value": float(v),
            "unit": u,
            "note": "",
        }
        for q, v, u in rows
    ]


def _admissible_rows(labels, fluxes) -> list[dict]:
    rows = []
    for (model, seed), f in zip(labels, fluxes, strict=True):
        items = dict(f.corrections) | {"max_speed": f.max_speed}
        for q, v in items.items():
            unit = "km/h" if q == "max_speed" else "veh/km" if q == "jam_forced_from" else "veh/h"
            unit = "1" if q == "jam_forced" else unit
            rows.append(
                {
                    "part": "admissible",
                    "dataset": "synthetic_30",
                    "model": model,
                    "seed": seed,
                    "quantity": q,
                    "value": float(v),
                    "unit": unit,
                    "note": "",
                }
            )
    return rows


def _view(name: str, ds: DataSet, models: dict, truth: TriangularFD) -> DataView:
    """The observations and the fits on the grid their figure draws them on."""
    top = float(ds.density.max())
    if name == "synthetic_30":
        x, shown = np.linspace(0, 1.05 * truth.rho_jam, 1200), tuple(STYLE)
    else:
        x = np.linspace(0, 1.05 * max(truth.rho_jam, top), 800)
        shown = ("truth", "triangle_robust", "triangle_lsq", "relu", "tanh")
    curves = {"density_veh_km": x} | {m: models[m](x) for m in shown if m in models}
    return DataView(
        frame=ds.frame,
        curves=pd.DataFrame(curves),
        densest=top,
        max_flow=float(ds.flow.max()),
        reach=top / ds.reference.rho_jam,
    )


def _scenario(run: Run) -> Scenario:
    r = run.result
    n = r.density.shape[-1]
    lanes = (
        np.ones(n) if run.name == "red_light" else np.where(np.arange(n) < run.bottleneck, 3.0, 2.0)
    )
    return Scenario(
        name=run.name,
        description=run.description,
        labels=tuple((str(m), int(s)) for m, s in run.labels),
        time=r.time,
        edges=r.edges,
        lanes=lanes,
        density=r.density,
        bottleneck=int(run.bottleneck),
        bottleneck_count=r.cumulative[:, :, run.bottleneck],
        queue=run.queue,
        threshold=float(run.threshold),
    )


def _greenshields_curves(g: Greenshields, errors: pd.DataFrame) -> pd.DataFrame:
    k = errors["K"].to_numpy()
    bound = g.capacity / (k - 1.0) ** 2
    return pd.DataFrame(
        {
            "K": k,
            "sup_error": errors["sup_error"].to_numpy(),
            "rel_deviation": errors["rel_deviation"].to_numpy(),
            "bound": bound,
            "k_squared": g.capacity / k**2.0,
            "ulp": np.spacing(g.capacity) / bound,
        }
    )


def _compute(
    cfg: Config, seeds: tuple[int, ...], dev: torch.device, user, default_threads: int
) -> TrafficResult:
    net = NetConfig(cfg.hidden, cfg.epochs, cfg.lrs)
    truth = TriangularFD()
    rows: list[dict] = []
    stages: dict[str, float] = {}
    clock = time.perf_counter()
    rows += exactness_rows(truth)
    greenshields = Greenshields()
    gs_errors = greenshields_errors(greenshields)
    rows += greenshields_rows(greenshields, gs_errors)
    stages["exactness"] = time.perf_counter() - clock
    datasets: dict[tuple[str, int], DataSet] = {}
    models: dict[tuple[str, int], dict] = {}

    def add(ds: DataSet, *, networks: bool, lrs):
        ranges = observed_ranges(ds.frame, ds.reference)
        rows.extend(_data_rows(ds, ranges))
        fitted, more, lrs = fit_all(
            ds, net, dev, lrs, networks=networks, kink_observed=ranges["kink_observed"]
        )
        rows.extend(more)
        datasets[ds.name, ds.seed], models[ds.name, ds.seed] = ds, fitted
        return lrs

    clock = time.perf_counter()
    for s in seeds:  # noise-free: the parametric recovery to rounding
        frame = synthetic_data(cfg.n_points, noise=0.0, transitions=0.0, seed=s)
        ds = DataSet("noise_free", s, frame, truth, True)
        fitted = {"truth": truth.to_spline()}
        for name, robust in (("triangle_robust", True), ("triangle_lsq", False)):
            fitted[name] = fit_triangular(ds.density, ds.flow, robust=robust).to_spline()
        rows.extend(_data_rows(ds, observed_ranges(frame, truth)))
        rows.extend(measure(ds, fitted, kink_observed=True))
        datasets[ds.name, s], models[ds.name, s] = ds, fitted
    stages["noise_free"] = time.perf_counter() - clock
    clock = time.perf_counter()
    lrs: dict[str, dict] = {}  # learning rates chosen on a data set's first seed, reused
    for s in seeds:
        lrs["synthetic_30"] = add(
            DataSet("synthetic_30", s, synthetic_data(cfg.n_points, seed=s), truth, True),
            networks=True,
            lrs=lrs.get("synthetic_30"),
        )
    stages["synthetic_30"] = time.perf_counter() - clock
    clock = time.perf_counter()
    for s in seeds:  # networks on the first draw only: the imbalance is the point here
        frame = synthetic_data(cfg.n_points, congested=0.1, seed=s)
        ds = DataSet("synthetic_10", s, frame, truth, True)
        lrs["synthetic_10"] = add(ds, networks=s == seeds[0], lrs=lrs.get("synthetic_10"))
    stages["synthetic_10"] = time.perf_counter() - clock
    clock = time.perf_counter()
    uxsim_note = ""
    if UXSIM_AVAILABLE:
        ds = DataSet("uxsim", seeds[0], uxsim_data(truth, seed=seeds[0]), truth, True)
        lrs["uxsim"] = add(ds, networks=True, lrs=None)
    else:
        uxsim_note = (
            "UXsim is not installed, so the simulated data set was skipped; install the "
            "`traffic` extra (`pip install pwlmodels[traffic]`) to include it."
        )
    stages["uxsim"] = time.perf_counter() - clock
    if user is not None:
        clock = time.perf_counter()
        ref = fit_triangular(user["density_veh_km"], user["flow_veh_h"], robust=True)
        lrs["user"] = add(DataSet("user", seeds[0], user, ref, False), networks=True, lrs=None)
        stages["user"] = time.perf_counter() - clock
    clock = time.perf_counter()
    labels, fluxes = [("truth", seeds[0])], [admissible_flux(truth)]
    for s in seeds:
        ds = datasets["synthetic_30", s]
        for name in MODELS[1:]:
            labels.append((name, s))
            fluxes.append(admissible_flux(models[ds.name, s][name], density_max=ds.density_max))
    rows += _admissible_rows(labels, fluxes)
    limit = _SPEED_LIMIT * truth.vf  # a steeper flux would shrink dt for every flux
    keep = [i for i, f in enumerate(fluxes) if f.max_speed <= limit]
    for i in sorted(set(range(len(fluxes))) - set(keep)):
        (model, seed), speed = labels[i], fluxes[i].max_speed
        rows.append(
            {
                "part": "admissible",
                "dataset": "synthetic_30",
                "model": model,
                "seed": seed,
                "quantity": "excluded_from_ctm",
                "value": 1.0,
                "unit": "1",
                "note": f"max|q'| = {speed:.4g} km/h > {limit:g} km/h would cut dt "
                f"{speed / max(fluxes[j].max_speed for j in keep):.0f}x for every flux",
            }
        )
    labels, fluxes = [labels[i] for i in keep], [fluxes[i] for i in keep]
    runs = [
        red_light(labels, fluxes, truth, dx=cfg.red_dx, device=dev),
        lane_drop(labels, fluxes, truth, dx=cfg.drop_dx, device=dev),
    ]
    for r in runs:
        new = measures(r, truth, "synthetic_30")
        truth_rows = [row for row in new if row["model"] == "truth"]
        for s in seeds[1:]:  # the truth runs once; list it under every seed
            new += [row | {"seed": s} for row in truth_rows]
        rows += new
    rows += field_rows(pd.DataFrame(rows, columns=_COLUMNS))  # differences of the rows above
    stages["ctm"] = time.perf_counter() - clock
    cal = calibration(*cfg.detectors, seed=seeds[0])
    stages["calibration"] = cal.seconds
    rows += calibration_rows(cal, seeds[0])
    clock = time.perf_counter()
    sizes = sorted({*cfg.exact_dx, cfg.red_dx}, reverse=True)
    exact = red_light_convergence(truth, *RED_LIGHT, [1000 * h for h in sizes], device=dev)
    rows += _exact_rows(exact, seeds[0])
    stages["exact_reference"] = time.perf_counter() - clock
    clock = time.perf_counter()
    freeway = freeway_study(uxsim=cfg.freeway_uxsim)
    rows += freeway_rows(freeway, seeds[0])
    stages["freeway"] = time.perf_counter() - clock
    table = pd.DataFrame(rows, columns=_COLUMNS)
    have = [n for n in DATASETS if (n, seeds[0]) in datasets]
    facts = _summary.facts(table, have, [r.name for r in runs])
    views = {n: _view(n, datasets[n, seeds[0]], models[n, seeds[0]], truth) for n in have}
    facts["reach"] = {n: v.reach for n, v in views.items()}
    return TrafficResult(
        config=cfg,
        seeds=seeds,
        device=str(dev),
        table=table,
        truth={
            "vf": truth.vf,
            "w": truth.w,
            "rho_jam": truth.rho_jam,
            "critical_density": truth.critical_density,
            "capacity": truth.capacity,
        },
        greenshields={
            "vmax": greenshields.vmax,
            "rho_max": greenshields.rho_max,
            "capacity": greenshields.capacity,
        },
        greenshields_errors=_greenshields_curves(greenshields, gs_errors),
        views=views,
        scenarios=tuple(_scenario(r) for r in runs),
        tables=_summary.tables(table, have),
        facts=facts,
        learning_rates=lrs,
        stage_seconds=stages,
        uxsim_note=uxsim_note,
        calibration=cal,
        torch_threads=torch.get_num_threads(),
        default_threads=default_threads,
        exact_reference=exact,
        freeway=freeway,
    )


def _exact_rows(table: pd.DataFrame, seed: int) -> list[dict]:
    """The convergence table as tidy rows: the exact values, then each CTM's value, error, order."""
    first = table[table.dx_m == table.dx_m.max()]
    rows = [
        table_row("exact_reference", "-", "exact_lwr", seed, r.quantity, r.exact, r.unit)
        for r in first.itertuples()
    ]
    for r in table.itertuples():
        model = f"ctm_dx={r.dx_m:g}m"
        rows.append(table_row("exact_reference", "-", model, seed, r.quantity, r.ctm, r.unit))
        rows.append(
            table_row("exact_reference", "-", model, seed, f"{r.quantity}_error", r.error, r.unit)
        )
        if r.order == r.order:  # none on the coarsest grid
            rows.append(
                table_row("exact_reference", "-", model, seed, f"{r.quantity}_order", r.order, "1")
            )
    return rows
