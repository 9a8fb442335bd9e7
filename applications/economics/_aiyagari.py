"""Aiyagari (1994) general equilibrium: the interest rate that clears the capital market.

Households solve the income fluctuation problem at prices (r, w): budget
``a' + c = (1 + r) a + w e``, ``a' >= -borrowing_limit`` (as in QuantEcon's
Aiyagari lecture), log efficiency an AR(1) discretised by Rouwenhorst with
mean efficiency 1, so labour is 1. A Cobb-Douglas firm rents capital and
labour: ``r = alpha K^(alpha - 1) - delta`` and ``w = (1 - alpha) K^alpha``.
Capital supply is the mean of the households' stationary asset
distribution (EGM, then Young's histogram); the market clears where it
meets the firm's demand ``K(r) = (alpha / (r + delta))^(1 / (1 - alpha))``,
found by Brent's method on a bracket where supply minus demand changes sign.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from pwlmodels._validate import plain

from .._checks import check_count
from ._dist import StationaryDistribution, stationary_distribution
from ._egm import solve_egm
from ._model import IFPParams

__all__ = ["AiyagariParams", "AiyagariSolution", "solve_aiyagari"]


def _real(value: object, name: str, lo: float, hi: float, *, closed_lo: bool = False) -> float:
    """A real number in (lo, hi) (or [lo, hi)), or a TypeError / ValueError naming it."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number; got {type(value).__name__}")
    v = float(value)
    ok = (lo <= v if closed_lo else lo < v) and v < hi
    if not (math.isfinite(v) and ok):
        left = "[" if closed_lo else "("
        raise ValueError(f"`{name}` must be in {left}{lo:g}, {hi:g}); got {plain(v)!r}")
    return v


@dataclass(frozen=True)
class AiyagariParams:
    """The Aiyagari economy's parameters (validated, immutable).

    Parameters
    ----------
    beta : float, default 0.96
        Discount factor, in (0, 1).
    gamma : float, default 2.0
        Relative risk aversion, > 0.
    rho : float, default 0.9
        Persistence of log efficiency, in (-1, 1).
    sigma : float, default 0.2
        Unconditional standard deviation of log efficiency, > 0.
    n_states : int, default 7
        Rouwenhorst states, >= 2.
    alpha : float, default 0.36
        Capital share, in (0, 1).
    delta : float, default 0.08
        Depreciation, in [0, 1).
    borrowing_limit : float, default 0.0
        ``a' >= -borrowing_limit``, >= 0.

    Examples
    --------
    >>> from applications.economics import AiyagariParams
    >>> p = AiyagariParams()
    >>> round(p.capital_demand(0.04), 6), round(p.wage(0.04), 6)
    (5.565471, 1.187301)
    """

    beta: float = 0.96
    gamma: float = 2.0
    rho: float = 0.9
    sigma: float = 0.2
    n_states: int = 7
    alpha: float = 0.36
    delta: float = 0.08
    borrowing_limit: float = 0.0

    def __post_init__(self) -> None:
        checked = {
            "beta": _real(self.beta, "beta", 0.0, 1.0),
            "gamma": _real(self.gamma, "gamma", 0.0, math.inf),
            "rho": _real(self.rho, "rho", -1.0, 1.0),
            "sigma": _real(self.sigma, "sigma", 0.0, math.inf),
            "alpha": _real(self.alpha, "alpha", 0.0, 1.0),
            "delta": _real(self.delta, "delta", 0.0, 1.0, closed_lo=True),
            "borrowing_limit": _real(
                self.borrowing_limit, "borrowing_limit", 0.0, math.inf, closed_lo=True
            ),
        }
        n_states = check_count(self.n_states, "n_states", 2)
        for name, value in checked.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "n_states", n_states)

    def capital_demand(self, r: float) -> float:
        """The firm's capital at the rental rate ``r + delta`` (labour 1)."""
        return (self.alpha / (r + self.delta)) ** (1.0 / (1.0 - self.alpha))

    def wage(self, r: float) -> float:
        """The wage that goes with ``r``: ``(1 - alpha) K(r)^alpha``."""
        return (1.0 - self.alpha) * self.capital_demand(r) ** self.alpha

    def household(self, r: float) -> IFPParams:
        """The households' problem at prices ``(r, wage(r))``: incomes ``w e``."""
        base = IFPParams.from_ar1(
            self.rho,
            self.sigma,
            self.n_states,
            method="rouwenhorst",
            gamma=self.gamma,
            beta=self.beta,
            R=1.0 + r,
            borrowing_limit=self.borrowing_limit,
        )
        return dataclasses.replace(base, incomes=tuple(self.wage(r) * np.asarray(base.incomes)))


@dataclass(frozen=True, eq=False)
class AiyagariSolution:
    """The stationary equilibrium.

    Attributes
    ----------
    params : AiyagariParams
    r, wage, capital : float
        Equilibrium interest rate, wage and capital (labour is 1).
    excess : float
        Capital supply minus demand at ``r`` (the root finder's residual).
    distribution : StationaryDistribution
        The households' stationary distribution at ``r``.
    gini : float
        Gini coefficient of wealth.
    share_at_limit : float
        The exact mass at the borrowing limit (``mass_binding``): the
        hand-to-mouth share.
    mpc_by_quintile : ndarray, shape (5,)
        Mean marginal propensity to consume in each wealth quintile, poorest first.
    evaluations : int
        Household problems solved to find ``r``.
    """

    params: AiyagariParams
    r: float
    wage: float
    capital: float
    excess: float
    distribution: StationaryDistribution
    gini: float
    share_at_limit: float
    mpc_by_quintile: np.ndarray
    evaluations: int


def wealth_gini(grid: np.ndarray, mass: np.ndarray) -> float:
    """Gini coefficient of a discrete distribution of wealth (``mass`` at ``grid``, sorted)."""
    mass = mass / mass.sum()
    cum_w = np.cumsum(mass * grid)
    total = cum_w[-1]
    lorenz = np.concatenate([[0.0], cum_w / total])
    return float(1.0 - np.sum(mass * (lorenz[1:] + lorenz[:-1])))


def quintile_means(grid_mass: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mass-weighted means of ``values`` (S, N) in each fifth of the asset distribution.

    ``grid_mass`` (S, N) is ordered by assets along N; a node that straddles
    a quintile boundary is split between the two quintiles in proportion.
    """
    node_mass = grid_mass.sum(axis=0)
    node_value = np.divide(
        (grid_mass * values).sum(axis=0),
        node_mass,
        out=np.zeros_like(node_mass),
        where=node_mass > 0,
    )
    hi = np.cumsum(node_mass) / node_mass.sum()
    lo = np.concatenate([[0.0], hi[:-1]])
    out = np.empty(5)
    for k in range(5):
        a, b = k / 5, (k + 1) / 5
        share = np.clip(np.minimum(hi, b) - np.maximum(lo, a), 0.0, None)
        out[k] = float(np.dot(share, node_value) / share.sum())
    return out


def solve_aiyagari(
    params: AiyagariParams | None = None,
    *,
    n: int = 1000,
    xtol: float = 1e-7,
    bracket: tuple[float, float] | None = None,
) -> AiyagariSolution:
    """The stationary general equilibrium of the Aiyagari economy.

    Parameters
    ----------
    params : AiyagariParams, optional
        Default ``AiyagariParams()``.
    n : int, default 1000
        Asset nodes of the household's EGM solve and of its stationary
        distribution (see the grid-convergence table of the study for r*).
    xtol : float, default 1e-7
        Brent's tolerance on r (1e-7 is 0.001 basis points).
    bracket : (float, float), optional
        Interest rates where supply minus demand has opposite signs;
        default ``(-delta + 1e-3, 1/beta - 1 - 1e-4)``: demand is unbounded
        at the first end, supply at the second.

    Returns
    -------
    AiyagariSolution

    Examples
    --------
    >>> from applications.economics import AiyagariParams, solve_aiyagari
    >>> eq = solve_aiyagari(AiyagariParams(n_states=3), n=150)
    >>> round(100 * eq.r, 2), abs(eq.excess) < 1e-4 * eq.capital  # r* in %
    (3.81, True)
    >>> bool(eq.mpc_by_quintile[0] > eq.mpc_by_quintile[-1])
    True
    """
    p = AiyagariParams() if params is None else params
    if not isinstance(p, AiyagariParams):
        raise TypeError(f"`params` must be an AiyagariParams; got {type(p).__name__}")
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 50:
        raise ValueError(f"`n` must be an integer >= 50; got {n!r}")
    xtol = _real(xtol, "xtol", 0.0, 1e-2)
    lo, hi = (-p.delta + 1e-3, 1.0 / p.beta - 1.0 - 1e-4) if bracket is None else bracket
    lo = _real(lo, "bracket[0]", -p.delta, 1.0 / p.beta - 1.0)
    hi = _real(hi, "bracket[1]", lo, 1.0 / p.beta - 1.0)
    cache: dict[float, tuple[float, StationaryDistribution]] = {}

    def excess(r: float) -> float:
        if r not in cache:
            hh = p.household(r)
            dist = stationary_distribution(solve_egm(hh, n=int(n)), hh, n=int(n))
            cache[r] = (dist.mean_assets - p.capital_demand(r), dist)
        return cache[r][0]

    f_lo, f_hi = excess(lo), excess(hi)
    if not (f_lo < 0 < f_hi):
        raise ValueError(
            f"`bracket` ({lo:.6g}, {hi:.6g}) does not bracket the equilibrium: supply minus "
            f"demand is {f_lo:.4g} and {f_hi:.4g} (need < 0, then > 0)"
        )
    r = float(brentq(excess, lo, hi, xtol=xtol, rtol=4 * np.finfo(float).eps))
    gap, dist = cache[r] if r in cache else (excess(r), cache[r][1])
    mass = dist.pmf.sum(axis=0)
    return AiyagariSolution(
        params=p,
        r=r,
        wage=p.wage(r),
        capital=p.capital_demand(r),
        excess=float(gap),
        distribution=dist,
        gini=wealth_gini(dist.grid, mass),
        share_at_limit=dist.mass_binding,
        mpc_by_quintile=quintile_means(dist.pmf, dist.mpc),
        evaluations=len(cache),
    )
