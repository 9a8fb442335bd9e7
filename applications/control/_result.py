"""The control study's result: numbers, arrays, tables and words only (no networks, no figures)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pwlmodels.regions import Partition

from ._analysis import Certificate, Linearisation
from ._config import Config
from ._engineering import Margins
from ._mpc import MPCStudy
from ._sim import Response
from ._speed import SpeedRun
from ._verify import Clamp, CommandRange, Sensitivity

__all__ = ["ControlResult"]


@dataclass(frozen=True)
class Controller:
    """Everything measured on one position-loop controller (its network is not kept)."""

    name: str  # "exact", or the activation of a learned network
    seed: int  # -1 for the exact law
    params: int
    loss: float | None
    lin: Linearisation
    damping: float  # of the slowest complex pole pair of A - B K_net
    natural_frequency: float  # rad/s, the same pair
    gain_error: float  # ||K_net - K|| / ||K||
    cert: Certificate | None
    response: Response
    metrics: dict
    command: CommandRange
    clamp: Clamp | None
    sens: Sensitivity
    margins: Margins  # of the loop linearised at x_ref, broken at the plant input
    robust: dict  # worst step figures over the +-20 % plant variations
    sampled: dict  # step figures under a zero-order hold at TS, and Ad - Bd K_net's radius


@dataclass(frozen=True)
class Slice:
    """One controller's command along a line through ``x_ref`` (state ``axis`` varies).

    ``s`` the states' values along the axis, ``u`` the command there;
    ``kink_x``, ``kink_u`` the kinks inside the span, read exactly from the
    weights (PWL controllers; empty otherwise).
    """

    name: str
    seed: int
    axis: int
    s: np.ndarray
    u: np.ndarray
    kink_x: np.ndarray
    kink_u: np.ndarray


@dataclass(frozen=True)
class RegionsView:
    """A ReLU controller on the plane i = 0: its regions, and its ellipsoid's section there.

    ``full`` the partition of the box, ``zoom`` that of the window
    ``[zoom_lower, zoom_upper]`` around the set point, ``own`` which zoom
    regions share the set point's activation pattern; ``theta``, ``omega``
    a 401 x 401 grid of the window and ``v`` the Lyapunov function
    ``(x - x_eq)' P (x - x_eq)`` on it, ``level`` the certified level.
    """

    seed: int
    full: Partition
    zoom: Partition
    own: np.ndarray
    zoom_lower: np.ndarray
    zoom_upper: np.ndarray
    theta: np.ndarray
    omega: np.ndarray
    v: np.ndarray
    level: float
    radius_scaled: float


@dataclass(frozen=True)
class GainRatio:
    """``K_net / K`` over the seeds of one kind of controller: mean, min and max, shape (3,)."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


@dataclass(frozen=True)
class MilpSummary:
    """Every MILP extreme of a run (command ranges and sensitivity boxes), counted.

    ``statuses`` (status, count) pairs, most frequent first; ``certified_gaps``
    and ``open_gaps`` (smallest, largest) gap in V of the certified and
    uncertified extremes, () when there is none; ``notes`` the
    SolverInconsistencyWarning messages (ranges, sensitivity, clamp proofs).
    """

    n_exact: int
    n_ends: int
    statuses: tuple[tuple[str, int], ...]
    certified_gaps: tuple[float, ...]
    open_gaps: tuple[float, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class ControlResult:
    """What :func:`applications.control.compute` measured: numbers, arrays, tables and words.

    Figures and the report section are drawn from it alone; it holds no
    network, tensor, figure or function.

    Attributes
    ----------
    config : Config
        The configuration of the run.
    seeds : tuple of int
        The seeds used (the first only when ``config.quick``).
    device : str
        Where the networks were trained and verified.
    K : ndarray, shape (1, 3)
        The LQR gain (V/rad, V s/rad, V/A).
    controllers : tuple of Controller
        The exact law first, then per seed the ReLU, tanh and sigmoid
        networks: linearisation, certificate, step response, command bounds.
    speed : tuple of SpeedRun
        The one-unit controllers on the speed loop (hardtanh, tanh, sigmoid, relu).
    check : tuple of tuple
        The table rows of the linear speed loop's step metrics.
    mpc : MPCStudy
        Explicit MPC: region polygons, the fits' errors, the ReLU fit's partition, a slice.
    slices : tuple of Slice
        The first seed's controllers and the exact law through ``x_ref``, along theta and omega.
    regions : RegionsView
        The first seed's ReLU controller on the plane i = 0.
    gain_ratios : dict of str to GainRatio
        ``K_net / K`` per kind of controller ("exact", "relu", "tanh", "sigmoid").
    milp : MilpSummary
        The MILP extremes' statuses and gaps.
    summary : dict of str to float
        The section's headline numbers (see :func:`compute`).
    table : pandas.DataFrame
        The tidy table: ``study, controller, seed, quantity, value, unit, kind, note``.

    Examples
    --------
    See :func:`applications.control.compute`.
    """

    config: Config
    seeds: tuple[int, ...]
    device: str
    K: np.ndarray
    controllers: tuple[Controller, ...]
    speed: tuple[SpeedRun, ...]
    check: tuple[tuple, ...]
    mpc: MPCStudy
    slices: tuple[Slice, ...]
    regions: RegionsView
    gain_ratios: dict[str, GainRatio]
    milp: MilpSummary
    summary: dict[str, float]
    table: pd.DataFrame
