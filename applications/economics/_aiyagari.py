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
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from pwlmodels._validate import as_real_scalar, plain

from .._checks import check_count
from ._dist import StationaryDistribution, stationary_distribution
from ._egm import solve_egm
from ._model import IFPParams, as_pair

__all__ = ["AiyagariParams", "AiyagariSolution", "solve_aiyagari"]


def _real(value: object, name: str, lo: float, hi: float, *, closed_lo: bool = False) -> float:
    """A real number in (lo, hi) (or [lo, hi)), or a TypeError / ValueError naming it."""
    v = as_real_scalar(value, name, finite=False)
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
        r_top = 1.0 / self.beta - 1.0
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            try:
                e_min = min(self.efficiency().incomes)
            except ValueError as err:  # exp(+-sigma sqrt(n_states - 1)) beyond float64
                raise ValueError(
                    f"`sigma` * sqrt(`n_states` - 1) = {self.sigma * (n_states - 1) ** 0.5:g} "
                    "is too wide: the efficiency levels exp(z) / E[exp(z)] leave float64"
                ) from err
        natural = self.wage(r_top) * e_min / r_top
        if not self.borrowing_limit < natural:
            raise ValueError(
                f"`borrowing_limit` must be below the natural borrowing limit w(r) min(e) / r "
                f"= {natural:.6g} at the highest rate r = 1/beta - 1 = {r_top:.6g} (where "
                f"consumption can stay positive); got {plain(self.borrowing_limit)!r}"
            )

    def _rate(self, r: object, *, below_top: bool = False) -> float:
        """``r`` checked: > -delta (the firm's demand is finite), < 1/beta - 1 if asked."""
        top = 1.0 / self.beta - 1.0 if below_top else math.inf
        return _real(r, "r", -self.delta, top)

    def capital_demand(self, r: float) -> float:
        """The firm's capital at the rental rate ``r + delta`` (labour 1), ``r > -delta``."""
        return (self.alpha / (self._rate(r) + self.delta)) ** (1.0 / (1.0 - self.alpha))

    def wage(self, r: float) -> float:
        """The wage that goes with ``r``: ``(1 - alpha) K(r)^alpha``."""
        return (1.0 - self.alpha) * self.capital_demand(r) ** self.alpha

    def efficiency(self) -> IFPParams:
        """The Rouwenhorst chain of efficiency (``incomes``: levels with mean 1)."""
        return IFPParams.from_ar1(self.rho, self.sigma, self.n_states, method="rouwenhorst")

    def household(self, r: float) -> IFPParams:
        """The households' problem at prices ``(r, wage(r))``, ``-delta < r < 1/beta - 1``:
        incomes ``w e``."""
        r = self._rate(r, below_top=True)
        chain = self.efficiency()
        return dataclasses.replace(
            chain, gamma=self.gamma, beta=self.beta, R=1.0 + r,
            borrowing_limit=self.borrowing_limit,
            incomes=tuple(self.wage(r) * np.asarray(chain.incomes)),
        )  # fmt: skip


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


#: The largest wage the bracket reaches: EGM's tolerance on consumption is absolute
#: (1e-12), so incomes above about 1e6 do not converge (alpha near 1 gives such wages
#: at rates near -delta).
_MAX_WAGE = 1e6
#: How far below 1 the default bracket's top puts beta (1 + r), tried in turn until the
#: households' ergodic set has a top (a large gamma saves without bound near beta R = 1).
_TOP_GAPS = (1e-3, 1e-2, 5e-2)


def _unsolvable(r: float, err: Exception) -> ValueError:
    return ValueError(
        f"the households' problem at r = {r:.6g} (an end of `bracket`) cannot be solved: "
        f"{err}; give a narrower `bracket` or less extreme `params`"
    )


def _end(excess, r: float) -> float:
    """``excess(r)`` at an end of the bracket; a ValueError when the households' problem
    there has no numerical solution (so no stationary distribution)."""
    try:
        return excess(r)
    except (RuntimeError, ValueError) as err:
        raise _unsolvable(r, err) from err


def _default_top(excess, beta: float, lo: float) -> tuple[float, float]:
    """The default bracket's top and the excess there: ``1/beta - 1 - 1e-4``, else the
    first ``(1 - gap)/beta - 1`` of :data:`_TOP_GAPS` above ``lo`` whose households have
    an ergodic set (midway from ``lo`` to ``1/beta - 1`` when none is above ``lo``)."""
    tops = [1.0 / beta - 1.0 - 1e-4] + [(1.0 - g) / beta - 1.0 for g in _TOP_GAPS]
    for r in [r for r in tops if r > lo] or [(lo + 1.0 / beta - 1.0) / 2]:
        try:
            return r, excess(r)
        except (RuntimeError, ValueError) as err:
            failure = r, err
            if isinstance(err, ValueError):  # only a missing top moves the bracket's top
                break
    raise _unsolvable(*failure) from failure[1]


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
        at the first end, supply at the second (when the households' ergodic
        set has no top there, as with a large ``gamma``, the top is moved to
        ``beta (1 + r) = 1 - 1e-3``, then ``1 - 1e-2`` or ``1 - 5e-2``); the
        first end is raised to where the wage is 1e6 if it is larger there
        (alpha near 1). A pair of finite rates with ``-delta < lo < hi < 1/beta
        - 1`` and a wage of at most 1e6 at ``lo``.

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
    n = check_count(n, "n", 50)
    xtol = _real(xtol, "xtol", 0.0, 1e-2)
    r_top = 1.0 / p.beta - 1.0
    cache: dict[float, tuple[float, StationaryDistribution]] = {}

    def excess(r: float) -> float:
        if r not in cache:
            hh = p.household(r)
            dist = stationary_distribution(solve_egm(hh, n=n), hh, n=n)
            cache[r] = (dist.mean_assets - p.capital_demand(r), dist)
        return cache[r][0]

    r_wage = p.alpha * (_MAX_WAGE / (1 - p.alpha)) ** ((p.alpha - 1) / p.alpha) - p.delta
    if bracket is None:
        lo = max(-p.delta + min(1e-3, (r_top + p.delta) / 10), r_wage)
        if not lo < r_top - 1e-4:
            raise ValueError(
                f"`params` have a wage above {_MAX_WAGE:g} at every rate below 1/beta - 1 "
                f"(alpha = {p.alpha:g} too near 1 for delta = {p.delta:g}): incomes that large "
                "are beyond the households' EGM (its tolerance is absolute)"
            )
        f_lo, (hi, f_hi) = _end(excess, lo), _default_top(excess, p.beta, lo)
    else:
        lo, hi = as_pair(bracket, "bracket")
        if not -p.delta < lo < hi < r_top:
            raise ValueError(
                f"`bracket` must hold -delta < lo < hi < 1/beta - 1 = {r_top:.6g} (delta = "
                f"{p.delta:g}); got {plain(tuple(bracket))!r}"
            )
        if lo < r_wage:
            raise ValueError(
                f"`bracket` must start at r >= {r_wage:.6g}, where the wage is {_MAX_WAGE:g} "
                f"(larger incomes are beyond the households' EGM); got {plain(tuple(bracket))!r}"
            )
        f_lo, f_hi = _end(excess, lo), _end(excess, hi)
    if not (f_lo < 0 < f_hi):
        raise ValueError(
            f"`bracket` ({lo:.6g}, {hi:.6g}) does not bracket the equilibrium: supply minus "
            f"demand is {f_lo:.4g} and {f_hi:.4g} (need < 0, then > 0)"
            + ("; without enough income risk r* is 1/beta - 1 itself" if f_hi <= 0 else "")
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
