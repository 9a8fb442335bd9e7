"""What the economics study computed: frozen records of numbers, arrays, tables and strings.

:func:`applications.economics.compute` returns an :class:`EconomicsResult`;
the figures and the section only draw and format it. No field holds a
solver, a network, a tensor or a callable: every curve a figure draws is
already evaluated on its grid here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._config import Config

__all__ = [
    "CDFCurve",
    "DistributionCurves",
    "EconomicsResult",
    "EulerCurves",
    "FitCurves",
    "PolicyCurves",
    "WedgeCurves",
]


@dataclass(frozen=True)
class PolicyCurves:
    """EGM's policy and marginal value (default calibration) for the policy figure.

    Attributes
    ----------
    lo, hi : float
        The range drawn, ``[-b, q99.9]``.
    kink, R : float
        The low-income kink a* and the gross return.
    a : ndarray, shape (801,)
    c, dv : ndarray, shape (S, 801)
        ``c(a, s)`` and ``V'(a, s)`` in every income state.
    a_zoom : ndarray, shape (401,)
        ``[-b, -b + 5 (a* + b)]``, around the kink.
    c_zoom, dv_zoom, cash_zoom : ndarray, shape (401,)
        ``c``, ``V'`` and cash on hand ``x + b`` in the low-income state.
    c_kink, dv_kink : float
        ``c`` and ``V'`` at a* (low income).
    echo, c_echo, dv_echo : float
        The asset level whose low-income savings land on a*, with ``c`` and
        ``V'`` there; NaN when it is not inside the enlarged range.
    """

    lo: float
    hi: float
    kink: float
    R: float
    a: np.ndarray
    c: np.ndarray
    dv: np.ndarray
    a_zoom: np.ndarray
    c_zoom: np.ndarray
    dv_zoom: np.ndarray
    cash_zoom: np.ndarray
    c_kink: float
    dv_kink: float
    echo: float
    c_echo: float
    dv_echo: float


@dataclass(frozen=True)
class FitCurves:
    """One kinked fitted target: the networks near the kink and the errors over the domain.

    Attributes
    ----------
    calibration, target : str
        The calibration and ``"c"``, ``"dV"`` or ``"V"``.
    state : int
    kink : float
        The kink's asset level.
    a : ndarray, shape (301,)
        Six kink windows either side of the kink.
    target_values : ndarray, shape (301,)
        EGM's function at ``a``.
    networks : dict of str to ndarray, shape (301,)
        ``"relu"`` and ``"tanh"``: the first seed's network at ``a``.
    x : ndarray, shape (M,)
        :func:`pwlmodels.compare_activations`' evaluation grid, in asset units.
    errors : dict of str to ndarray, shape (M,)
        ``|model - EGM|`` on ``x`` for ``"relu"``, ``"tanh"`` and ``"fit_pwl"``.
    """

    calibration: str
    target: str
    state: int
    kink: float
    a: np.ndarray
    target_values: np.ndarray
    networks: dict[str, np.ndarray]
    x: np.ndarray
    errors: dict[str, np.ndarray]


@dataclass(frozen=True)
class EulerCurves:
    """Unit-free Euler errors against assets (default calibration) for the Euler figure.

    Attributes
    ----------
    lo, hi : float
        ``[-b, q99.9]``.
    a : ndarray, shape (N,)
        Denser near the limit.
    errors : dict of str to ndarray, shape (S, N)
        ``|Euler error|`` of ``"egm"`` and of the first seed's ``"{act}_solved"``
        and ``"{act}_fit"`` policies, in that order; 0 where exactly satisfied.
    """

    lo: float
    hi: float
    a: np.ndarray
    errors: dict[str, np.ndarray]


@dataclass(frozen=True)
class CDFCurve:
    """The asset CDF of one policy's stationary distribution, near the limit.

    Attributes
    ----------
    grid, cdf : ndarray, shape (K,)
        ``P(assets <= a)`` on the distribution's nodes up to ``min(q99.9, 1.5)``.
    mass_binding, mass_at_limit : float
        Mass exactly at the limit and within the tolerance.
    """

    grid: np.ndarray
    cdf: np.ndarray
    mass_binding: float
    mass_at_limit: float


@dataclass(frozen=True)
class DistributionCurves:
    """EGM's stationary distribution (on the grid up to q99.9) and the CDFs compared.

    Attributes
    ----------
    lo, hi, limit_tol : float
        ``-b``, q99.9 and the tolerance of "at the limit".
    mean_assets, mass_binding, mass_at_limit : float
        EGM's.
    edges : ndarray, shape (121,)
    density : ndarray, shape (S, 120)
        The histogram density off the limit, per state.
    mass_by_state : ndarray, shape (S,)
        The mass within ``limit_tol`` of the limit, per state.
    cdfs : dict of str to CDFCurve
        ``"egm"`` and the first seed's fitted, solved and KKT policies
        (keys ``"{model}/{seed}"``).
    """

    lo: float
    hi: float
    limit_tol: float
    mean_assets: float
    mass_binding: float
    mass_at_limit: float
    edges: np.ndarray
    density: np.ndarray
    mass_by_state: np.ndarray
    cdfs: dict[str, CDFCurve]


@dataclass(frozen=True)
class WedgeCurves:
    """The wedge variant in the low-income state: V near 0 and the policy around the corner.

    Attributes
    ----------
    R_debt, R, borrowing_limit : float
    a, v : ndarray, shape (2002,)
        ``V(a)`` on [-0.4, 0.4] with 0 included.
    a_left, tangent_left, a_right, tangent_right : ndarray
        ``V(0) + rate u'(c(0)) a`` for ``a <= 0`` (rate ``R_debt``) and ``a >= 0`` (``R``).
    slope_left, slope_right : float
        ``R_debt u'(c(0))`` and ``R u'(c(0))``.
    lo, hi : float
        The policy panel's range.
    a2, c, savings : ndarray, shape (K,)
        ``c(a)`` and ``a'(a)`` on 4001 points plus every kink in (lo, hi).
    corner : ndarray, shape (2,)
        Where savings start and stop being 0 (NaN where they never are).
    echoes, c_echoes : ndarray
        The other kinks of ``c`` (savings land on a corner end) and ``c`` there.
    """

    R_debt: float
    R: float
    borrowing_limit: float
    a: np.ndarray
    v: np.ndarray
    a_left: np.ndarray
    tangent_left: np.ndarray
    a_right: np.ndarray
    tangent_right: np.ndarray
    slope_left: float
    slope_right: float
    lo: float
    hi: float
    a2: np.ndarray
    c: np.ndarray
    savings: np.ndarray
    corner: np.ndarray
    echoes: np.ndarray
    c_echoes: np.ndarray


@dataclass(frozen=True)
class EconomicsResult:
    """Everything the economics study computed, as numbers (see :func:`compute`).

    Attributes
    ----------
    config : Config
        The sizes it ran with.
    seeds : tuple of int
    device : str
        Where the networks trained.
    table : pandas.DataFrame
        The tidy table ``part, calibration, target, state, model, seed,
        setting, metric, value`` (no NaN, no wall times): identical on a CPU rerun.
    seed_summary : pandas.DataFrame
        The table over seeds: one row per key (every column but ``seed`` and
        ``value``, in the order they first appear) with ``n, mean, sd, max,
        min`` of ``value`` (``sd`` with ddof 1, NaN where ``n = 1``, as for
        the deterministic rows, seed -1). The section reads its means,
        spreads and worst seeds here instead of computing them.
    timings : pandas.DataFrame
        Wall times, same columns (metrics ``seconds`` and ``train_seconds``).
    part_seconds : dict of str to float
        Wall time of each part of the computation.
    parameters : dict of str to dict
        Each solved calibration's parameters (``gamma``, ``beta``, ``R``,
        ``R_debt``, ``borrowing_limit``, ``incomes``, ``transition``), in order.
    kinks : dict of str to ndarray, shape (S,)
        EGM's kink a* per calibration and state (NaN where nothing binds).
    binds : dict of str to ndarray of bool, shape (S,)
    mass_at_limit, mean_assets, mean_mpc : float
        The default calibration's reported moments.
    solver_top : float
        The top of the networks' solver domain (NaN without solved networks).
    wedge_jump_error : float
        The largest ``|jump_rel_error|`` over income states: how far V's jump
        at 0, measured by one-sided differences, is from the formula (relative).
    fit_domains : pandas.DataFrame
        ``calibration, target, state, lo, hi, kink, window`` of every fit
        (kink and window NaN where the target has no kink).
    policy : PolicyCurves
    fits : tuple of FitCurves
    euler : EulerCurves
    distribution : DistributionCurves
    wedge : WedgeCurves
    aiyagari : dict
        The general-equilibrium part (numbers only; see ``_ge.aiyagari_part``).
    warm_start : pandas.DataFrame or None
        The solver started from EGM's exact network (``_warm.compare_warm_start``).
    neural_solvers : dict or None
        The committed results of ``benchmarks/bench_neural_solvers.py``
        summarised (``_accuracy_page.summarize_accuracy``: tables and numbers),
        None when the source tree has none.

    Examples
    --------
    >>> import dataclasses
    >>> from applications.economics import EconomicsResult
    >>> names = [f.name for f in dataclasses.fields(EconomicsResult)]
    >>> names[:4], EconomicsResult.__dataclass_params__.frozen
    (['config', 'seeds', 'device', 'table'], True)
    """

    config: Config
    seeds: tuple[int, ...]
    device: str
    table: pd.DataFrame
    seed_summary: pd.DataFrame
    timings: pd.DataFrame
    part_seconds: dict[str, float]
    parameters: dict[str, dict]
    kinks: dict[str, np.ndarray]
    binds: dict[str, np.ndarray]
    mass_at_limit: float
    mean_assets: float
    mean_mpc: float
    solver_top: float
    wedge_jump_error: float
    fit_domains: pd.DataFrame
    policy: PolicyCurves
    fits: tuple[FitCurves, ...]
    euler: EulerCurves
    distribution: DistributionCurves
    wedge: WedgeCurves
    aiyagari: dict
    warm_start: pd.DataFrame | None = None
    neural_solvers: dict | None = None
