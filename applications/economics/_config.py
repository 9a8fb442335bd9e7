"""The sizes of a run of the economics study (frozen), and the check of its seeds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pwlmodels._validate import plain

__all__ = ["FULL", "QUICK", "Config"]


@dataclass(frozen=True)
class Config:
    """The sizes of one run of the economics study (:data:`FULL` or :data:`QUICK`).

    Parameters
    ----------
    egm_n : int
        EGM's grid nodes (before the kink levels are added) for every calibration.
    dist_n : int
        Nodes of the histogram method's asset grid (stationary distributions).
    convergence_ns : tuple of int
        The EGM grid sizes of the convergence check (default calibration).
    fit_hidden : tuple of int
        Hidden widths of the ReLU and tanh networks fitted to c, V' and V.
    fit_epochs : int
        Adam epochs of each fit.
    fit_points : int
        Training points of each fit (half within ten kink windows of a kink).
    fit_lr : float
        Adam's learning rate for the fits.
    net_hidden : tuple of int
        Hidden widths of the networks solved on the Euler residual.
    net_steps : int
        L-BFGS steps of the solver.
    net_points : int
        Asset points of the solver's loss.
    net_resimulate : int
        The solver re-simulates its points every ``net_resimulate`` steps.
    net_supervised : int
        L-BFGS iterations fitting the solved networks to EGM's policy.
    calibrations : tuple of str
        The calibrations solved, a subset of ``"default"``, ``"iid"``,
        ``"aiyagari"``, ``"rouwenhorst_0.9"``, ``"tauchen_0.9"``, ``"wedge"``
        (``"default"`` and ``"wedge"`` are needed by the figures).
    fit_targets : tuple of str
        The fitted functions, a subset of ``"c"``, ``"dV"``, ``"V"``.
    aiyagari_ns : tuple of int, default (500, 1000)
        Asset grid sizes of the general-equilibrium solve (the last reported).
    aiyagari_check : bool, default True
        Clear the same economy with sequence-jacobian's household too.

    Examples
    --------
    >>> import dataclasses
    >>> from applications.economics import FULL, QUICK, Config
    >>> isinstance(QUICK, Config), QUICK.egm_n < FULL.egm_n, QUICK.fit_targets
    (True, True, ('c',))
    >>> dataclasses.replace(QUICK, net_steps=5).net_steps
    5
    """

    egm_n: int
    dist_n: int
    convergence_ns: tuple[int, ...]
    fit_hidden: tuple[int, ...]
    fit_epochs: int
    fit_points: int
    fit_lr: float
    net_hidden: tuple[int, ...]
    net_steps: int
    net_points: int
    net_resimulate: int
    net_supervised: int
    calibrations: tuple[str, ...]
    fit_targets: tuple[str, ...]
    aiyagari_ns: tuple[int, ...] = (500, 1000)
    aiyagari_check: bool = True


_ALL = ("default", "iid", "aiyagari", "rouwenhorst_0.9", "tauchen_0.9", "wedge")
#: The quick (test) sizes: a few seconds on one CPU thread.
QUICK = Config(
    egm_n=300, dist_n=300, convergence_ns=(250, 500), fit_hidden=(8,), fit_epochs=100,
    fit_points=120, fit_lr=1e-2, net_hidden=(8, 8), net_steps=2, net_points=48,
    net_resimulate=1, net_supervised=20, calibrations=("default", "iid", "wedge"),
    fit_targets=("c",), aiyagari_ns=(100,), aiyagari_check=False,
)  # fmt: skip
#: The full sizes of the published study.
FULL = Config(
    egm_n=2000, dist_n=2000, convergence_ns=(500, 1000, 2000, 4000), fit_hidden=(16,),
    fit_epochs=1000, fit_points=400, fit_lr=3e-2, net_hidden=(24, 24), net_steps=25,
    net_points=256, net_resimulate=5, net_supervised=300, calibrations=_ALL,
    fit_targets=("c", "dV", "V"),
)  # fmt: skip


def check_seeds(seeds: object) -> tuple[int, ...]:
    """``seeds`` as a tuple of distinct ints >= 0 (TypeError or ValueError naming it)."""
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, (Sequence, np.ndarray)):
        raise TypeError(
            f"`seeds` must be a sequence of integers such as (0, 1, 2); got {plain(seeds)!r}"
        )
    out = []
    for i, seed in enumerate(seeds):
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"`seeds[{i}]` must be an integer; got {type(seed).__name__}")
        if seed < 0:
            raise ValueError(f"`seeds[{i}]` must be >= 0; got {seed}")
        out.append(int(seed))
    if not out:
        raise ValueError("`seeds` must hold at least one seed; got an empty sequence")
    if len(set(out)) != len(out):
        raise ValueError(f"`seeds` must be distinct; got {tuple(out)}")
    return tuple(out)
