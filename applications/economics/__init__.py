"""Economics: a consumption-savings model with a borrowing limit, its kinks, and networks.

The income fluctuation problem (a household with CRRA utility saving in one
asset, income a Markov chain, borrowing limit ``a' >= -b``) has a consumption
policy with a kink where the constraint stops binding, and a marginal value
``V'(a) = R u'(c)`` kinked at the same asset level; V itself is smooth there.
With a borrowing rate above the saving rate (the wedge variant) V has a
concave kink at ``a = 0``. This module solves the model exactly enough to be
the ground truth, then asks how ReLU and tanh networks of equal size do.

Public names
------------
:class:`IFPParams`
    The model's parameters (validated) and calibrations (:meth:`IFPParams.from_ar1`).
:func:`solve_egm` -> :class:`EGMSolution`
    The endogenous grid method (Carroll 2006): ``.policy``, ``.value``,
    ``.marginal_value``, ``.binds`` and the measured ``.kinks``.
:func:`euler_errors`
    Unit-free Euler equation errors of any policy (Judd 1992).
:func:`stationary_distribution` -> :class:`StationaryDistribution`
    The histogram method (Young 2010): mass at the limit, mean assets, mean MPC.
:func:`solve_network` -> :class:`NetworkSolution`
    A network trained on the Euler residual with Fischer-Burmeister
    complementarity (Maliar, Maliar and Winant 2021).
:func:`solve_networks` -> list of :class:`NetworkSolution`
    Several seeds of one architecture trained with Adam at once, as one
    batched model (each member as :func:`solve_network` would train it).
:func:`solve_aiyagari` -> :class:`AiyagariSolution`
    Aiyagari (1994)'s general equilibrium: r*, wage, capital, Gini,
    hand-to-mouth share and MPCs by wealth quintile.
:class:`Config`, :data:`FULL`, :data:`QUICK`
    The sizes of a run of the study (frozen).
:func:`egm_network`, :func:`compare_warm_start`
    EGM's policy as the solver's exact starting network (``spline_to_relu``
    per income state), and the Euler errors trained from it against a random
    start.
:func:`compute` -> :class:`EconomicsResult`
    Every solve, fit and statistic of the study, as a frozen record of
    numbers, arrays and tables; the figures and the section only render it.
:func:`run`
    The study behind ``python -m applications economics --out DIR``:
    :func:`compute`, then the figures, the section and the table on disk.

References: Carroll (2006), Aiyagari (1994), Tauchen (1986), Kopecky and Suen
(2010), Young (2010), Judd (1992), Maliar, Maliar and Winant (2021); the wedge
variant is econ-ark HARK's ``KinkedRconsumerType``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import torch

from pwlmodels import resolve_device

from .._checks import one_thread
from ..report import AppResult, finish
from ._aiyagari import AiyagariParams, AiyagariSolution, solve_aiyagari
from ._config import FULL, QUICK, Config, check_seeds
from ._dist import StationaryDistribution, stationary_distribution
from ._egm import EGMSolution, solve_egm
from ._euler import euler_errors
from ._model import IFPParams
from ._net import NetworkSolution, solve_network
from ._net_many import solve_networks
from ._result import EconomicsResult
from ._study import compute
from ._warm import compare_warm_start, egm_network

__all__ = [
    "FULL",
    "AiyagariParams",
    "AiyagariSolution",
    "QUICK",
    "Config",
    "EGMSolution",
    "EconomicsResult",
    "IFPParams",
    "NetworkSolution",
    "StationaryDistribution",
    "compare_warm_start",
    "compute",
    "egm_network",
    "euler_errors",
    "run",
    "solve_aiyagari",
    "solve_egm",
    "solve_network",
    "solve_networks",
    "stationary_distribution",
]


def run(
    out_dir: str | PathLike,
    *,
    device: torch.device | str = "auto",
    seeds: Sequence[int] = (0, 1, 2),
    quick: bool = False,
) -> AppResult:
    """Run the economics study; write ``out_dir/economics/`` (table.csv, figures, section.md).

    :func:`compute` with :data:`QUICK` or :data:`FULL`, then the figures and
    the section drawn from its result, then the table and section written.

    Solves six calibrations by EGM (default two-state, i.i.d. income with
    beta = 0.93, Aiyagari's AR(1) by Tauchen, rho = 0.9 by Rouwenhorst and by
    Tauchen, the wedge variant) with their stationary distributions; checks EGM
    against the grid size and the wedge's kink of V; fits c, V' and V in every
    income state with ReLU and tanh networks of equal size
    (:func:`pwlmodels.compare_activations`; kink metrics only where a kink
    exists); solves the default calibration with ReLU and tanh networks on the
    Euler residual, and fits the same networks to EGM's policy (what they can
    represent); and compares the stationary distributions (mass exactly at the
    limit and within ``limit_tol``, mean assets, mean MPC) of every
    approximate policy with EGM, the solved networks both raw and read by
    their own complementarity (:meth:`NetworkSolution.policy_kkt`).

    Full sizes: EGM and distributions on 2000 nodes; fits with 16 hidden
    units, 1000 Adam epochs at lr 0.03, 400 points; solver networks (24, 24),
    25 L-BFGS steps on 256 points. ``quick=True``: 300 nodes, 8 units and 100
    epochs, c only, (8, 8) networks and 2 steps (a few seconds). Deterministic
    on the CPU: a rerun gives the same table.

    Parameters
    ----------
    out_dir : str or os.PathLike
    device : {"auto", "cpu", "cuda"} or torch.device, default "auto"
        Where the networks train ("auto": CUDA when available).
    seeds : sequence of int, default (0, 1, 2)
        One network per activation and seed (distinct, >= 0).
    quick : bool, default False

    Returns
    -------
    AppResult
        ``table`` is tidy: ``part, calibration, target, state, model, seed,
        setting, metric, value`` (``state = -1``: all states, ``seed = -1``:
        deterministic, ``setting = "-"``: none); an undefined metric (no kink)
        has no row, so the table has no NaN. Wall times are in the section and
        ``info["part_seconds"]``, not in the table: a rerun on the CPU gives the
        identical table. ``info`` holds the headline numbers.

    Examples
    --------
    >>> import inspect
    >>> from applications.economics import run
    >>> list(inspect.signature(run).parameters)
    ['out_dir', 'device', 'seeds', 'quick']
    >>> run("out", seeds=())
    Traceback (most recent call last):
    ...
    ValueError: `seeds` must hold at least one seed; got an empty sequence

    The quick run takes a few seconds (run by the tests, not here):

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:  # doctest: +SKIP
    ...     r = run(tmp, device="cpu", seeds=(0,), quick=True)
    ...     sorted(p.name for p in r.figures), round(r.info["kinks"][0], 3)
    (['distribution.png', 'euler.png', 'fits.png', 'policy.png', 'wedge.png'], 0.021)
    """
    from ._figures import all_figures
    from ._section import section

    if not isinstance(out_dir, (str, PathLike)):
        raise TypeError(f"`out_dir` must be a str or os.PathLike; got {type(out_dir).__name__}")
    seeds = check_seeds(seeds)
    if not isinstance(quick, (bool, np.bool_)):
        raise TypeError(f"`quick` must be True or False; got {quick!r}")
    dev = resolve_device(device)
    start = time.perf_counter()
    with one_thread():
        threads = torch.get_num_threads()
        result = compute(QUICK if quick else FULL, seeds=seeds, device=dev)
    figures = all_figures(result, Path(out_dir) / "economics", dpi=80 if quick else 150)
    seconds = time.perf_counter() - start
    text = section(result, seconds=seconds, quick=bool(quick))
    return finish(
        "economics", Path(out_dir), result.table, figures, text, seconds, str(dev),
        kinks=tuple(float(k) for k in result.kinks["default"]),
        binds=tuple(bool(b) for b in result.binds["default"]),
        mass_at_limit=result.mass_at_limit, mean_assets=result.mean_assets,
        mean_mpc=result.mean_mpc,
        part_seconds=dict(result.part_seconds), quick=bool(quick), torch_threads=threads,
    )  # fmt: skip
