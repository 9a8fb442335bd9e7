"""The stationary asset distribution of a consumption policy (the histogram method, Young 2010).

Agents at asset node ``a_i`` in state ``s`` move to ``a' = R(a_i) a_i + y_s - c``;
``a'`` is split between the two nodes around it in proportions that keep its
mean (a lottery), and the income state moves by the chain. The stationary
distribution of that finite Markov chain is found by one sparse solve.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from pwlmodels._validate import plain

from ._egm import EGMSolution, default_a_max
from ._model import IFPParams, check_params, power_grid

__all__ = ["StationaryDistribution", "stationary_distribution"]


@dataclass(frozen=True, eq=False)
class StationaryDistribution:
    """A stationary distribution over (assets, income state) on a grid.

    Attributes
    ----------
    params : IFPParams
    grid : ndarray, shape (N,)
        Asset nodes from ``-b`` to ``a_max``; ``-b + limit_tol`` is one of them.
    pmf : ndarray, shape (S, N)
        Probability of each (state, node); sums to 1.
    mpc : ndarray, shape (S, N)
        The marginal propensity to consume at each node: the share of a
        windfall of ``windfall`` (cash) consumed at once.
    binds : ndarray of bool, shape (S, N)
        The policy puts savings exactly on the limit, ``a' = -b`` (to rounding,
        1e-10): the households at each node who will be at the limit.
    limit_tol, windfall : float

    Examples
    --------
    >>> import numpy as np
    >>> from applications.economics import IFPParams, solve_egm, stationary_distribution
    >>> p = IFPParams()
    >>> dist = stationary_distribution(solve_egm(p, n=500), p, n=500)
    >>> bool(np.isclose(dist.pmf.sum(), 1.0)), dist.quantile(1.0) <= float(dist.grid[-1])
    (True, True)
    >>> bool(0 < dist.mean_mpc < 1 and dist.mass_at_limit > 0.02)
    True
    """

    params: IFPParams
    grid: np.ndarray
    pmf: np.ndarray
    mpc: np.ndarray
    binds: np.ndarray
    limit_tol: float
    windfall: float

    @property
    def mass_at_limit(self) -> float:
        """The share of agents with ``a <= -b + limit_tol`` (at the borrowing limit, within tol)."""
        at = self.grid <= -self.params.borrowing_limit + self.limit_tol
        return float(self.pmf[:, at].sum())

    @property
    def mass_binding(self) -> float:
        """The share of agents whose savings are exactly ``-b``: the exact mass at the limit.

        In the stationary distribution this is the share at ``a = -b`` exactly
        (today's binding households are tomorrow's households at the limit),
        without the histogram's lottery between nodes: a policy that leaves
        ``a' = -b + 1e-4`` counts at the limit within ``limit_tol`` but not here.
        """
        return float(self.pmf[self.binds].sum())

    @property
    def mean_assets(self) -> float:
        """Mean assets."""
        return float((self.pmf * self.grid).sum())

    @property
    def mean_mpc(self) -> float:
        """The mean marginal propensity to consume."""
        return float((self.pmf * self.mpc).sum())

    def quantile(self, q: float) -> float:
        """The smallest node at which the asset distribution's CDF reaches ``q`` (0 < q <= 1)."""
        if isinstance(q, (bool, np.bool_)) or not isinstance(q, numbers.Real):
            raise TypeError(f"`q` must be a real number; got {type(q).__name__}")
        if not 0 < q <= 1:
            raise ValueError(f"`q` must be in (0, 1]; got {plain(q)!r}")
        cdf = np.cumsum(self.pmf.sum(axis=0))
        return float(self.grid[min(int(np.searchsorted(cdf, q - 1e-12)), self.grid.size - 1)])


def _positive(value: object, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number; got {type(value).__name__}")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"`{name}` must be finite and > 0; got {plain(value)!r}")
    return float(value)


def stationary_distribution(
    policy: EGMSolution | Callable[[np.ndarray, np.ndarray], np.ndarray],
    params: IFPParams,
    *,
    n: int = 2000,
    a_max: float | None = None,
    limit_tol: float = 1e-3,
    windfall: float = 1e-3,
) -> StationaryDistribution:
    """The stationary distribution of assets and income under ``policy`` (Young 2010).

    Parameters
    ----------
    policy : EGMSolution or callable
        ``policy(a, state) -> c`` on numpy arrays (float assets, integer
        states), or an EGMSolution.
    params : IFPParams
    n : int, default 2000
        Asset nodes, >= 10, spaced ``-b + (a_max + b) t**2``; ``-b + limit_tol``
        (and 0 when there is debt) are added.
    a_max : float, optional
        The top node; default the EGM default (1.25 times the ergodic top).
        Savings above it are put on it.
    limit_tol : float, default 1e-3
        Assets within this distance of ``-b`` count as "at the limit": an
        approximate policy that never quite reaches ``-b`` (a sigmoid) is
        judged by the same yardstick as the exact one.
    windfall : float, default 1e-3
        The cash windfall whose consumed share is the MPC.

    Returns
    -------
    StationaryDistribution

    Examples
    --------
    >>> from applications.economics import IFPParams, solve_egm, stationary_distribution
    >>> p = IFPParams()
    >>> dist = stationary_distribution(solve_egm(p), p)
    >>> round(dist.mass_at_limit, 3), round(dist.mass_binding, 4), round(dist.mean_assets, 1)
    (0.033, 0.0325, 7.7)
    """
    params = check_params(params)
    fn = policy.policy if isinstance(policy, EGMSolution) else policy
    if not callable(fn):
        raise TypeError(f"`policy` must be callable or an EGMSolution; got {type(policy).__name__}")
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
        raise TypeError(f"`n` must be an integer; got {type(n).__name__}")
    if n < 10:
        raise ValueError(f"`n` must be >= 10; got {n}")
    limit_tol = _positive(limit_tol, "limit_tol")
    windfall = _positive(windfall, "windfall")
    b, S = params.borrowing_limit, params.n_states
    if a_max is None:
        top = default_a_max(params)
    elif isinstance(a_max, (bool, np.bool_)) or not isinstance(a_max, numbers.Real):
        raise TypeError(f"`a_max` must be a real number or None; got {type(a_max).__name__}")
    else:
        top = float(a_max)
    if not (np.isfinite(top) and top > -b + limit_tol):
        given = "the default (1.25 times the ergodic top) " if a_max is None else ""
        raise ValueError(
            f"`a_max` must exceed -borrowing_limit + limit_tol = {-b + limit_tol:.6g}; got "
            f"{given}{plain(top)!r}"
        )
    grid = power_grid(-b, top, int(n), 2.0)
    extra = [-b + limit_tol] + ([0.0] if b > 0 else [])
    grid = np.unique(np.concatenate([grid, extra]))
    N = grid.size
    P = params.P
    rows, cols, vals = [], [], []
    mpc = np.empty((S, N))
    binds = np.empty((S, N), bool)
    for s in range(S):
        state = np.full(N, s)
        c = _consume(fn, grid, state)
        saved = params.cash(grid, state) - c
        binds[s] = saved <= -b + 1e-10
        a_next = np.clip(saved, grid[0], grid[-1])
        j = np.clip(np.searchsorted(grid, a_next, side="right") - 1, 0, N - 2)
        w = np.clip((grid[j + 1] - a_next) / (grid[j + 1] - grid[j]), 0.0, 1.0)
        bumped = _consume(fn, grid + windfall / params.rate(grid), state)
        mpc[s] = (bumped - c) / windfall
        for t in range(S):
            if P[s, t] == 0:
                continue
            src = s * N + np.arange(N)
            rows += [t * N + j, t * N + j + 1]
            cols += [src, src]
            vals += [P[s, t] * w, P[s, t] * (1 - w)]
    T = sp.csc_matrix(  # column-stochastic: T[to, from]
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(S * N, S * N)
    )
    pmf = _stationary_vector(T).reshape(S, N)
    for arr in (grid, pmf, mpc, binds):
        arr.setflags(write=False)
    return StationaryDistribution(params, grid, pmf, mpc, binds, limit_tol, windfall)


def _consume(fn: Callable, a: np.ndarray, s: np.ndarray) -> np.ndarray:
    c = np.asarray(fn(a, s), dtype=float)
    if c.shape != a.shape or not np.isfinite(c).all():
        raise ValueError(
            f"`policy` must return one finite consumption per (a, state); got shape {c.shape}"
        )
    return c


def _stationary_vector(T: sp.csc_matrix) -> np.ndarray:
    """The probability vector with ``T mu = mu`` (T column-stochastic, one recurrent class).

    A few power steps find a node of the recurrent class (the heaviest); fixing
    its mass leaves a non-singular sparse system for the others.
    """
    size = T.shape[0]
    mu = np.full(size, 1.0 / size)
    for _ in range(200):
        mu = T @ mu
    pivot = int(np.argmax(mu))
    A = (sp.identity(size, format="csc") - T).tocsc()
    keep = np.setdiff1d(np.arange(size), [pivot])
    rhs = -A[keep][:, [pivot]].toarray().ravel()
    x = splu(A[keep][:, keep].tocsc()).solve(rhs)
    sol = np.insert(x, pivot, 1.0)
    sol = np.where(sol < 0, 0.0, sol)  # rounding below zero on transient nodes
    sol /= sol.sum()
    if np.abs(T @ sol - sol).sum() > 1e-9:  # not one recurrent class: iterate instead
        sol = mu
        for _ in range(200_000):
            new = T @ sol
            if np.abs(new - sol).max() < 1e-15:
                break
            sol = new
        sol = new / new.sum()
    return sol
