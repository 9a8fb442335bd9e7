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
from pathlib import Path

import torch

from ..report import AppResult, finish
from ._calibrate import bootstrap_triangular, fit_detectors
from ._corridor import corridor_comparison, corridor_scenario, freeway_figure
from ._ctm import AdmissibleFlux, CTMResult, admissible_flux, simulate_ctm
from ._ctmnet import CTMWorstCase, ctm_step_network, ctm_unrolled_network, ctm_worst_case
from ._data import (
    UXSIM_AVAILABLE,
    observed_ranges,
    read_detector_csv,
    synthetic_data,
    uxsim_data,
)
from ._detectors import DETECTOR_COLUMNS, DetectorData, detector_sample, detectors_to_density
from ._freeway import Alinea, Corridor, FreewayResult, simulate_freeway
from ._freeway_section import FreewayStudy, freeway_section, freeway_study
from ._freeway_uxsim import UXsimCorridor, corridor_uxsim
from ._lwr import NewellLink, RedLightResult, newell_link, red_light_exact
from ._models import Greenshields, TriangularFD, diagram_parameters, fit_triangular
from ._nodes import diverge_flows, merge_flows, node_flows
from ._redlight import red_light_convergence, red_light_convergence_figure, red_light_ctm
from ._study import FULL, QUICK, Config, DataView, Scenario, TrafficResult, compute

__all__ = [
    "DETECTOR_COLUMNS",
    "FULL",
    "QUICK",
    "UXSIM_AVAILABLE",
    "AdmissibleFlux",
    "Alinea",
    "CTMResult",
    "CTMWorstCase",
    "Config",
    "Corridor",
    "DetectorData",
    "DataView",
    "FreewayResult",
    "FreewayStudy",
    "Greenshields",
    "NewellLink",
    "RedLightResult",
    "Scenario",
    "TrafficResult",
    "TriangularFD",
    "UXsimCorridor",
    "admissible_flux",
    "bootstrap_triangular",
    "compute",
    "corridor_comparison",
    "corridor_scenario",
    "corridor_uxsim",
    "ctm_step_network",
    "ctm_unrolled_network",
    "ctm_worst_case",
    "detector_sample",
    "detectors_to_density",
    "diagram_parameters",
    "diverge_flows",
    "fit_detectors",
    "fit_triangular",
    "freeway_figure",
    "freeway_section",
    "freeway_study",
    "merge_flows",
    "newell_link",
    "node_flows",
    "observed_ranges",
    "read_detector_csv",
    "red_light_convergence",
    "red_light_convergence_figure",
    "red_light_ctm",
    "red_light_exact",
    "run",
    "simulate_ctm",
    "simulate_freeway",
    "synthetic_data",
    "uxsim_data",
]


def run(
    out_dir: str | Path,
    *,
    device: torch.device | str | None = "auto",
    seeds: tuple[int, ...] = (0, 1, 2),
    quick: bool = False,
    data: str | Path | None = None,
) -> AppResult:
    """Run the traffic study; write ``out_dir/traffic/`` (table.csv, figures, section.md).

    ``compute`` with ``FULL``, then the figures and the section drawn from
    its result. Full run: 2000 points per synthetic data set, networks with
    one hidden layer of 8 units trained for 500 full-batch Adam epochs
    (learning rate chosen from 1e-2 and 3e-2 on the first comparison and
    reused), CTM cells of 25 m (red light) and 100 m (lane drop).
    ``quick=True`` uses ``QUICK``: 500 points, 150 epochs at 3e-2, cells of
    50 m and 200 m (what the tests run).

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
    ...     sorted(p.name for p in r.figures)  # doctest: +NORMALIZE_WHITESPACE
    ['detectors.png', 'fd.png', 'fd_datasets.png', 'greenshields.png', 'queues.png',
     'spacetime.png']
    """
    start = time.perf_counter()
    if not isinstance(out_dir, (str, Path)):
        raise TypeError(f"`out_dir` must be a str or pathlib.Path; got {type(out_dir).__name__}")
    if not isinstance(quick, bool):
        raise TypeError(f"`quick` must be True or False; got {quick!r}")
    from . import _figures as _traffic_figures
    from . import _section as _traffic_section

    result = compute(QUICK if quick else FULL, seeds=seeds, device=device, data=data)
    folder = Path(out_dir) / "traffic"
    folder.mkdir(parents=True, exist_ok=True)
    figures = _traffic_figures.figures(result, folder)
    seconds = time.perf_counter() - start
    section = _traffic_section.section(result, seconds, result.device, quick)
    return finish(
        "traffic",
        Path(out_dir),
        result.table,
        figures,
        section,
        seconds,
        result.device,
        **_traffic_section.info(result, seconds),
    )
