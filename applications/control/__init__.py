"""Feedback control: a saturated LQR law as an exact ReLU network, and learned imitations of it.

A DC motor (University of Michigan CTMS parameters) under the saturated LQR
law ``u = sat(-K (x - x_ref))`` with Bryson's-rule weights (Bryson and Ho
1975). The law is a continuous piecewise-linear (PWL) function of the state,
so it *is* a ReLU network with two hidden units (:func:`saturated_law`); ReLU,
tanh and sigmoid networks of equal size are trained on samples of it. For
each controller the study measures what a control engineer reads off a
linear design: the gain at the set point (:func:`local_gain`), the closed-loop
poles, the linear region around the set point and an invariant ellipsoid in
it (Hu and Lin 2001), closed-loop step responses (:func:`step_metrics`, with
python-control's definitions), and proven bounds on the command
(``pwlmodels.maximize``; called exact only where its status is "optimal").
:func:`compute` measures all of this under a :class:`Config` (:data:`FULL` or
:data:`QUICK`) and returns a :class:`ControlResult` of numbers, arrays and
tables; :func:`run` draws the figures and words the section from that result
alone, and writes them with the table.

This is the *saturated* LQR law, not the constrained optimum: explicit MPC
(Bemporad et al. 2002) gives that, also as a continuous PWL law;
:func:`explicit_mpc` computes it exactly as a ``PiecewiseAffine``.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import torch

from ..report import AppResult
from ._certify import InputBound, Invariance, closed_loop, input_bound, invariance
from ._config import FULL, QUICK, Config
from ._design import (
    Plant,
    StepMetrics,
    dc_motor,
    local_gain,
    lqr_gain,
    saturated_law,
    step_metrics,
)
from ._engineering import Margins, loop_margins
from ._explicit import explicit_mpc
from ._reach import reachable_peaks
from ._result import ControlResult
from ._roa import (
    Ellipsoid,
    RegionOfAttraction,
    lqr_ellipsoid,
    lqr_polytope,
    region_of_attraction,
)
from ._study import compute

__all__ = [
    "FULL",
    "QUICK",
    "Config",
    "ControlResult",
    "Ellipsoid",
    "InputBound",
    "Invariance",
    "Margins",
    "Plant",
    "RegionOfAttraction",
    "StepMetrics",
    "closed_loop",
    "compute",
    "dc_motor",
    "explicit_mpc",
    "input_bound",
    "invariance",
    "local_gain",
    "loop_margins",
    "lqr_ellipsoid",
    "lqr_gain",
    "lqr_polytope",
    "reachable_peaks",
    "region_of_attraction",
    "run",
    "saturated_law",
    "step_metrics",
]


def run(
    out_dir: str | Path,
    *,
    device: torch.device | str = "auto",
    seeds: tuple[int, ...] = (0, 1, 2),
    quick: bool = False,
) -> AppResult:
    """Run the control study; write ``out_dir/control/`` (table.csv, figures, section.md).

    The position loop of :func:`dc_motor` under the saturated LQR law
    (``Q = diag(1/0.1^2, 0, 0)``, ``R = 1/12^2``, ``x_ref = (1 rad, 0, 0)``,
    ``|u| <= 12 V``), as the exact network and as ReLU, tanh and sigmoid
    networks of equal size trained on it (one per seed); the speed loop
    under one-unit controllers ``u = k (sigma(e) - sigma(0))``. Table rows
    are tidy: ``study, controller, seed, quantity, value, unit, kind``.

    The run is ``compute(FULL or QUICK, seeds=seeds, device=device)``, then
    figures and section drawn from that :class:`ControlResult` alone, then
    :func:`applications.report.finish`.

    Parameters
    ----------
    out_dir : str or Path
    device : {"auto", "cpu", "cuda"} or torch.device, default "auto"
        Where the networks train and are verified (float64 there).
    seeds : sequence of int, default (0, 1, 2)
        One trained network per activation and seed.
    quick : bool, default False
        The seconds-long test version: the first seed only, fewer samples
        and epochs, 10^5 instead of 10^6 sampled states.

    Returns
    -------
    AppResult

    Examples
    --------
    >>> import inspect
    >>> from applications.control import run
    >>> list(inspect.signature(run).parameters)
    ['out_dir', 'device', 'seeds', 'quick']

    The quick run takes about 15 s on one CPU thread (not run here):

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:  # doctest: +SKIP
    ...     r = run(tmp, device="cpu", seeds=(0,), quick=True)
    ...     len(r.figures), r.table_path.exists()
    (7, True)
    """
    import time

    import numpy as np

    from ..report import finish
    from . import _figures, _section
    from ._config import NAME

    start = time.perf_counter()
    if not isinstance(out_dir, (str, PathLike)):
        raise TypeError(f"`out_dir` must be a str or os.PathLike; got {type(out_dir).__name__}")
    if not isinstance(quick, (bool, np.bool_)):
        raise TypeError(f"`quick` must be a bool; got {type(quick).__name__}")
    result = compute(QUICK if quick else FULL, seeds=seeds, device=device)
    folder = Path(out_dir) / NAME
    folder.mkdir(parents=True, exist_ok=True)
    figures = _figures.draw_all(folder, result)
    text = _section.write(result)
    info = {
        "K": result.K,
        "K_net": {(c.name, c.seed): c.lin.K_net for c in result.controllers},
        "radius_l2_exact": result.controllers[0].cert.radius_l2,
    }
    seconds = time.perf_counter() - start
    return finish(NAME, out_dir, result.table, figures, text, seconds, result.device, **info)
