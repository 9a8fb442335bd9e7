"""Traffic: fundamental diagrams as exact ReLU networks, fitted from data, and what each fit
does to a simulated queue.

The triangular diagram (Newell 1993, Daganzo 1994) is piecewise linear, so
it *is* a three-unit ReLU network; Greenshields' (1935) parabola is not, and
its interpolant's error falls as K^-2. Fits from synthetic detector data
and from UXsim (Seo) are compared by the same definitions (capacity,
critical density, vf, w, jam density, kink), and each fitted flux drives
Godunov's scheme in Lebacque's (1996) demand-supply form, the cell
transmission model (Daganzo 1994, 1995), through a red light and a lane
drop: a rounded peak underestimates capacity, so queues discharge more
slowly. Edie's (1963) definitions turn UXsim's trajectories into
(density, flow) cells.

Units: veh/km, veh/h and km/h per lane inside the module (UXsim's veh/s
and veh/m are converted where they come in).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from pwlmodels import resolve_device

from .._checks import one_thread
from ..report import AppResult, finish
from ._ctm import AdmissibleFlux, CTMResult, admissible_flux, simulate_ctm
from ._data import (
    UXSIM_AVAILABLE,
    observed_ranges,
    read_detector_csv,
    synthetic_data,
    uxsim_data,
)
from ._exact import exactness_rows, greenshields_errors, greenshields_rows
from ._fits import DataSet, NetConfig, fit_all, measure, seeds_of
from ._models import Greenshields, TriangularFD, diagram_parameters, fit_triangular
from ._scenarios import lane_drop, measures, red_light

__all__ = [
    "UXSIM_AVAILABLE",
    "AdmissibleFlux",
    "CTMResult",
    "Greenshields",
    "TriangularFD",
    "admissible_flux",
    "diagram_parameters",
    "fit_triangular",
    "observed_ranges",
    "read_detector_csv",
    "run",
    "simulate_ctm",
    "synthetic_data",
    "uxsim_data",
]


@dataclass(frozen=True)
class _Config:
    n_points: int
    net: NetConfig
    red_dx: float  # km
    drop_dx: float  # km


_FULL = _Config(2000, NetConfig((8,), 500, (1e-2, 3e-2)), 0.025, 0.1)
_QUICK = _Config(500, NetConfig((8,), 150, (3e-2,)), 0.05, 0.2)
_CLASSIC = ("triangle_robust", "triangle_lsq", "pwl_1", "pwl_1_concave", "pwl_3", "pwl_3_concave")
MODELS = ("truth", *_CLASSIC, "relu", "tanh")
_SPEED_LIMIT = 3.0  # fluxes with max|q'| above 3 vf are not simulated (reported instead)


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


def run(
    out_dir: str | Path,
    *,
    device: torch.device | str | None = "auto",
    seeds: tuple[int, ...] = (0, 1, 2),
    quick: bool = False,
    data: str | Path | None = None,
) -> AppResult:
    """Run the traffic study; write ``out_dir/traffic/`` (table.csv, figures, section.md).

    Full run: 2000 points per synthetic data set, networks with one hidden
    layer of 16 units trained for 500 full-batch Adam epochs (learning rate
    chosen from 1e-2 and 3e-2 on the first comparison and reused), CTM
    cells of 25 m (red light) and 100 m (lane drop). ``quick=True``: 500
    points, 150 epochs at 3e-2, cells of 50 m and 200 m (what the tests run).

    Parameters
    ----------
    out_dir : str or pathlib.Path
    device : None, "auto", str or torch.device, default "auto"
        Where the networks train and the CTM runs ("auto": CUDA when available).
    seeds : sequence of int, default (0, 1, 2)
        One synthetic draw and one network initialisation per seed.
    quick : bool, default False
    data : str or pathlib.Path, optional
        A detector CSV (columns ``density_veh_km``, ``flow_veh_h``) fitted
        as well, against its own robust triangle since its truth is unknown.

    Returns
    -------
    applications.report.AppResult

    Examples
    --------
    Arguments are checked before any work:

    >>> from applications.traffic import run
    >>> run("results", seeds=(0, 0), quick=True)
    Traceback (most recent call last):
    ...
    ValueError: `seeds` must be distinct; got [0, 0]

    The quick run takes about 10 s on two CPU cores, so it is not run here:

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:  # doctest: +SKIP
    ...     r = run(tmp, device="cpu", seeds=(0,), quick=True)
    ...     sorted(p.name for p in r.figures)
    ['fd.png', 'fd_datasets.png', 'greenshields.png', 'queues.png', 'spacetime.png']
    """
    start = time.perf_counter()
    if not isinstance(out_dir, (str, Path)):
        raise TypeError(f"`out_dir` must be a str or pathlib.Path; got {type(out_dir).__name__}")
    seeds = seeds_of(seeds)
    if not isinstance(quick, bool):
        raise TypeError(f"`quick` must be True or False; got {quick!r}")
    dev = resolve_device(device)
    user = read_detector_csv(data) if data is not None else None
    cfg = _QUICK if quick else _FULL
    from . import _figures as _traffic_figures
    from . import _section as _traffic_section

    with one_thread():
        study = _study(cfg, seeds, dev, user)
        study["torch_threads"] = torch.get_num_threads()
    folder = Path(out_dir) / "traffic"
    folder.mkdir(parents=True, exist_ok=True)
    study["dpi"] = 80 if quick else 150
    figures = _traffic_figures.figures(study, folder)
    seconds = time.perf_counter() - start
    study["stage_seconds"]["total"] = seconds
    section = _traffic_section.section(study, seconds, str(dev), quick)
    return finish(
        "traffic",
        Path(out_dir),
        study["table"],
        figures,
        section,
        seconds,
        str(dev),
        **_traffic_section.info(study),
    )


def _study(cfg: _Config, seeds: tuple[int, ...], dev: torch.device, user) -> dict:
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
            ds, cfg.net, dev, lrs, networks=networks, kink_observed=ranges["kink_observed"]
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
    stages["ctm"] = time.perf_counter() - clock
    table = pd.DataFrame(
        rows, columns=["part", "dataset", "model", "seed", "quantity", "value", "unit", "note"]
    )
    return {
        "table": table,
        "truth": truth,
        "seeds": seeds,
        "datasets": datasets,
        "models": models,
        "runs": runs,
        "lrs": lrs,
        "config": cfg,
        "uxsim_note": uxsim_note,
        "stage_seconds": stages,
        "greenshields": greenshields,
        "greenshields_errors": gs_errors,
        "device": dev,
    }
