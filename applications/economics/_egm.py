"""Ground truth for the income fluctuation problem: the endogenous grid method.

EGM (Carroll 2006) iterates on consumption at a fixed grid of end-of-period
assets ``a'``: the Euler equation gives ``c = (beta R(a') E[u'(c')])**(-1/gamma)``
there, and cash on hand ``m = c + a'`` is the endogenous grid. Below the
first node (``a' = -b``) the constraint binds and ``c = m + b``. In the
wedge variant ``a' = 0`` is a node twice, with the borrowing rate (from the
left) and the saving rate (from the right): between the two cash levels
savings stay at the corner ``a' = 0`` and linear interpolation gives ``c = m``
exactly. The value function follows from the converged policy by a linear
solve (cubic Hermite interpolation with the envelope slopes ``R(a) u'(c)``).
"""

from __future__ import annotations

import functools
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import brentq

from pwlmodels._validate import plain

from .._checks import check_count
from ._model import IFPParams, as_assets, as_states, check_params, power_grid

__all__ = ["EGMSolution", "default_a_max", "solve_egm"]

_GENERATIONS = 60  # kink generations added as EGM nodes (see _solve_nodes)
_MIN_WEIGHT = 1e-3  # ... while their probability weight is at least this
_POWER = 2.0  # the asset grids are lo + (hi - lo) t**2: dense near the borrowing limit


@dataclass(frozen=True, eq=False)
class EGMSolution:
    """The converged EGM solution: policy, value function, and where the constraint binds.

    Attributes
    ----------
    params : IFPParams
    post_grid : ndarray, shape (M,)
        End-of-period assets ``a'`` of the EGM nodes (``0`` twice in the wedge
        variant: once with each rate).
    cash_nodes, consumption_nodes : ndarray, shape (S, M)
        The endogenous grid: cash on hand ``m = R(a) a + y`` and consumption.
    value_grid : ndarray, shape (N,)
        Asset levels where the value function was solved for.
    value_nodes : ndarray, shape (S, N)
    iterations : int
        EGM iterations until the sup-norm change of consumption fell below ``tol``.
    change : float
        The last sup-norm change.
    a_max : float
        The top of the grids (above the ergodic set).
    ergodic_max : float
        The largest asset level that the top income state does not run down:
        the ergodic set is ``[-b, ergodic_max]``.
    binds : ndarray of bool, shape (S,)
        Whether the borrowing constraint binds for some ``a >= -b`` in each state.
    kinks : ndarray, shape (S,)
        The measured asset level ``a*`` below which the constraint binds (where
        ``c`` kinks: slope ``R(a)`` below, less above); NaN exactly where
        ``binds`` is False (a documented exception to the no-NaN rule).
    corner_kinks : ndarray, shape (S, 2)
        Wedge variant only: the asset levels where savings reach the corner
        ``a' = 0`` and where they leave it (two more kinks of ``c``); NaN
        otherwise or below ``-b``.

    Notes
    -----
    In the base model ``c`` and ``V'(a) = R u'(c)`` kink at ``a*``, but ``V``
    itself is differentiable there (its slope is continuous). In the wedge
    variant ``V`` has a concave kink at ``a = 0``:
    ``V'(0-) - V'(0+) = (R_borrow - R) u'(c(0, y))``.

    Examples
    --------
    >>> import numpy as np
    >>> from applications.economics import IFPParams, solve_egm
    >>> sol = solve_egm(IFPParams(), n=500)
    >>> sol.binds.tolist(), bool(np.isnan(sol.kinks[1]))  # NaN exactly where nothing binds
    ([True, False], True)
    >>> a = np.array([0.0, 1.0, 5.0])
    >>> c, a_next = sol.policy(a, 0), sol.savings(a, 0)
    >>> bool(np.allclose(c + a_next, 1.03 * a + 0.5))  # the budget: c + a' = R a + y
    True
    >>> bool(np.all(np.diff(sol.value(a, 0)) > 0))  # more assets, more value
    True
    """

    params: IFPParams
    post_grid: np.ndarray
    cash_nodes: np.ndarray
    consumption_nodes: np.ndarray
    value_grid: np.ndarray
    value_nodes: np.ndarray
    iterations: int
    change: float
    a_max: float
    ergodic_max: float
    binds: np.ndarray
    kinks: np.ndarray
    corner_kinks: np.ndarray

    def _prepare(self, a: object, state: object) -> tuple[np.ndarray, np.ndarray]:
        a = as_assets(a)
        s = as_states(state, self.params.n_states)
        return np.broadcast_arrays(a, s)

    def policy(self, a: object, state: object) -> np.ndarray:
        """Consumption ``c(a, state)``.

        Parameters
        ----------
        a : array_like of float
            Assets, >= -b (below it the constrained branch ``c = m + b`` is
            continued, which finite differences at the limit use).
        state : int or array_like of int
            Income-state indices, broadcast against ``a``.

        Returns
        -------
        ndarray of float64, the broadcast shape of ``a`` and ``state``
        """
        a, s = self._prepare(a, state)
        return self._consume(self.params.cash(a, s), s)

    def savings(self, a: object, state: object) -> np.ndarray:
        """End-of-period assets ``a' = R(a) a + y - c(a, state)`` (same conventions as policy)."""
        a, s = self._prepare(a, state)
        m = self.params.cash(a, s)
        return m - self._consume(m, s)

    def marginal_value(self, a: object, state: object) -> np.ndarray:
        """``V'(a) = R(a) u'(c(a))`` by the envelope theorem (the right derivative at a = 0)."""
        a, s = self._prepare(a, state)
        return self.params.rate(a) * self.params.u_prime(self._consume(self.params.cash(a, s), s))

    def value(self, a: object, state: object) -> np.ndarray:
        """``V(a) = u(c(a)) + beta E[V(a', y')]``: one Bellman step on the solved value nodes.

        Equal to ``value_nodes`` at ``value_grid``; between nodes the
        continuation is the cubic Hermite interpolant with the envelope slopes.
        """
        a, s = self._prepare(a, state)
        m = self.params.cash(a, s)
        c = self._consume(m, s)
        return self.params.u(c) + self.params.beta * self._continuation(m - c, s)

    # ------------------------------------------------------------ internals
    @functools.cached_property
    def _slopes(self) -> tuple[np.ndarray, np.ndarray]:
        return _envelope_slopes(self, self.value_grid)

    def _consume(self, m: np.ndarray, s: np.ndarray) -> np.ndarray:
        out = np.empty(m.shape)
        for state in np.unique(s):
            sel = s == state
            out[sel] = _consume(
                m[sel],
                self.cash_nodes[state],
                self.consumption_nodes[state],
                self.params.borrowing_limit,
            )
        return out

    def _continuation(self, a_next: np.ndarray, s: np.ndarray) -> np.ndarray:
        """``E[V(a', y') | s]`` with the Hermite interpolant of ``value_nodes``."""
        P = self.params.P
        total = np.zeros(a_next.shape)
        right, left = self._slopes
        for t in range(self.params.n_states):
            v = _hermite(self.value_grid, self.value_nodes[t], right[t], left[t], a_next)
            total += P[s, t] * v
        return total


def _consume(m: np.ndarray, mk: np.ndarray, ck: np.ndarray, b: float) -> np.ndarray:
    """The EGM consumption function: linear in the nodes, ``m + b`` below, the last slope above."""
    c = np.interp(m, mk, ck)
    low = m < mk[0]
    c[low] = m[low] + b
    high = m > mk[-1]
    if high.any():
        slope = (ck[-1] - ck[-2]) / (mk[-1] - mk[-2])
        c[high] = ck[-1] + slope * (m[high] - mk[-1])
    return c


def _hermite(grid, v, d_right, d_left, x) -> np.ndarray:
    """Cubic Hermite interpolation: slopes ``d_right`` at left ends, ``d_left`` at right ends."""
    k = np.clip(np.searchsorted(grid, x, side="right") - 1, 0, grid.size - 2)
    h = grid[k + 1] - grid[k]
    t = (x - grid[k]) / h
    t2, t3 = t * t, t * t * t
    return (
        (2 * t3 - 3 * t2 + 1) * v[k]
        + (t3 - 2 * t2 + t) * h * d_right[k]
        + (-2 * t3 + 3 * t2) * v[k + 1]
        + (t3 - t2) * h * d_left[k + 1]
    )


def _envelope_slopes(sol: EGMSolution, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``V'`` at the nodes from the right and from the left, shape (S, N) each."""
    p = sol.params
    S = p.n_states
    c = np.stack(
        [
            _consume(
                p.cash(grid, t), sol.cash_nodes[t], sol.consumption_nodes[t], p.borrowing_limit
            )
            for t in range(S)
        ]
    )
    mu = p.u_prime(c)
    right = np.where(grid < 0, p.R_debt, p.R) * mu
    left = np.where(grid <= 0, p.R_debt, p.R) * mu
    return right, left


def _post_grid(params: IFPParams, n: int, a_max: float) -> tuple[np.ndarray, np.ndarray]:
    """End-of-period asset nodes and the rate each one earns."""
    b = params.borrowing_limit
    if not params.has_wedge:
        post = power_grid(-b, a_max, n, _POWER)
        return post, np.where(post < 0, params.R_debt, params.R)
    n_neg = max(8, n // 5)
    t = np.linspace(0.0, 1.0, n_neg)
    neg = -b * (1 + np.cos(np.pi * t)) / 2  # dense near -b and near 0, ends exactly at 0
    neg[0], neg[-1] = -b, 0.0
    pos = power_grid(0.0, a_max, n - n_neg + 1, _POWER)
    post = np.concatenate([neg, pos])
    rate = np.concatenate([np.full(n_neg, params.R_debt), np.full(pos.size, params.R)])
    return post, rate


def _iterate(params: IFPParams, post, rate, m_nodes, c_nodes, tol: float, max_iter: int):
    """EGM iterations on the nodes ``post`` from the policy ``(m_nodes, c_nodes)``."""
    y, P, b, beta = params.y, params.P, params.borrowing_limit, params.beta
    income_next = rate * post  # R(a') a' (0 at both zero nodes)
    change, it = np.inf, 0
    for it in range(1, max_iter + 1):
        c_next = np.stack(
            [_consume(income_next + y[t], m_nodes[t], c_nodes[t], b) for t in range(y.size)]
        )
        c_new = params.u_prime_inverse(beta * rate * (P @ params.u_prime(c_next)))
        if it > 1 or c_new.shape == c_nodes.shape:
            change = (
                float(np.max(np.abs(c_new - c_nodes))) if c_new.shape == c_nodes.shape else np.inf
            )
        c_nodes, m_nodes = c_new, c_new + post
        if change < tol:
            break
    return m_nodes, c_nodes, it, change


def _with_levels(base, base_rate, levels):
    """The nodes ``base`` plus the asset ``levels`` (each with its rate), sorted."""
    near = np.abs(levels[:, None] - base[None, :]) <= 1e-12 * (1 + np.abs(levels[:, None]))
    levels = levels[~near.any(axis=1)]  # already a node
    post = np.concatenate([base, levels])
    rate = np.concatenate([base_rate, np.where(levels < 0, base_rate.max(), base_rate.min())])
    order = np.lexsort((-rate, post))  # at the double node 0: the borrowing rate first
    return post[order], rate[order]


def _kink_levels(params: IFPParams, post, m, a_max: float, generations: int, cap: int):
    """Asset levels where the policy kinks, up to ``generations`` steps back from the constraint.

    Generation 1: where each state's savings reach ``-b`` (and, wedge variant,
    the corner 0). A kink of ``c(., t)`` at level L puts one into ``c(., s)``
    at the asset level whose savings land on L (the inverse of the piecewise-
    linear savings map), with weight ``P[s, t]`` times the weight of L; levels
    whose weight falls below ``_MIN_WEIGHT`` are dropped. At most ``cap``
    levels, earlier generations first.
    """
    b, S, P = params.borrowing_limit, params.n_states, params.P
    a_endo = np.stack([_asset_level(params, m[s], s) for s in range(S)])  # (S, M), increasing
    roots = (post == -b) | (post == 0)
    level = a_endo[:, roots].ravel()
    state = np.repeat(np.arange(S), roots.sum())
    weight = np.ones(level.size)
    found: list[np.ndarray] = []
    count = 0
    for _ in range(generations):
        keep = (level > -b) & (level < a_max) & (level != 0) & (weight >= _MIN_WEIGHT)
        level, state, weight = level[keep], state[keep], weight[keep]
        if not level.size or count >= cap:
            break
        heavy = np.argsort(-weight, kind="stable")[: cap - count]  # the heaviest fit in the cap
        level, state, weight = level[heavy], state[heavy], weight[heavy]
        found.append(level)
        count += level.size
        inside = level < post[-1]
        level, state, weight = level[inside], state[inside], weight[inside]
        level = np.concatenate([np.interp(level, post, a_endo[s]) for s in range(S)])
        weight = np.concatenate([weight * P[s, state] for s in range(S)])
        state = np.repeat(np.arange(S), state.size)
    if not found:
        return np.empty(0)
    levels = np.unique(np.concatenate(found))
    if levels.size > 1:  # levels closer than 1e-9 count once
        levels = levels[np.concatenate([[True], np.diff(levels) > 1e-9])]
    return levels


def _solve_nodes(
    params: IFPParams, n: int, a_max: float, tol: float, max_iter: int, generations: int
):
    """EGM with the policy's structural kinks as extra nodes.

    Tomorrow's consumption kinks where the constraint starts to bind and (wedge)
    where savings reach or leave the corner; the expected marginal utility
    kinks at those ``a'``, so today's policy kinks at the asset levels that
    lead there, and so on back. Linear interpolation across such a kink costs
    O(h) accuracy instead of O(h^2), so those levels become nodes
    (:func:`_kink_levels`), from a warm-started solve to 1e-9, until they
    move by less than 1e-10; the last pass runs to ``tol``.
    """
    base, base_rate = _post_grid(params, n, a_max)
    b, S = params.borrowing_limit, params.n_states
    m = np.tile(np.linspace(-b, params.R * a_max + params.y.max(), base.size), (S, 1))
    c = m + b  # start from "consume everything" (the last period of life)
    post, rate, levels = base, base_rate, np.empty(0)
    total = 0
    for _ in range(6 if generations else 0):
        m, c, it, _ = _iterate(params, post, rate, m, c, max(tol, 1e-9), max_iter)
        total += it
        new = _kink_levels(params, post, m, a_max, generations, cap=n // 2)
        same = new.size == levels.size and np.allclose(new, levels, rtol=0, atol=1e-10)
        levels = new
        post, rate = _with_levels(base, base_rate, levels)
        if same:
            break
    m, c, it, change = _iterate(params, post, rate, m, c, tol, max_iter)
    return post, m, c, total + it, change


def _ergodic_max(params: IFPParams, m_nodes, c_nodes, a_max: float) -> float:
    """The largest a with a'(a, s) >= a for some s, or inf when that holds at a_max."""
    b = params.borrowing_limit

    def gap(a: float) -> float:
        best = -np.inf
        for t in range(params.n_states):
            m = params.cash(np.array([a]), t)
            best = max(best, float((m - _consume(m, m_nodes[t], c_nodes[t], b))[0] - a))
        return best

    grid = power_grid(-b, a_max, 400, _POWER)
    gaps = np.array([gap(a) for a in grid])
    if gaps[-1] >= 0:
        return np.inf
    above = np.nonzero(gaps >= 0)[0]
    if above.size == 0:
        return -b
    i = int(above[-1])
    return float(brentq(gap, grid[i], grid[i + 1], xtol=1e-12))


@functools.lru_cache(maxsize=64)
def default_a_max(params: IFPParams) -> float:
    """The grids' top: 1.25 times the ergodic set's top, found on a coarse grid (cached)."""
    guess = 20.0 * max(params.incomes) + params.borrowing_limit
    for _ in range(12):
        _, m, c, _, _ = _solve_nodes(params, 300, guess, 1e-9, 20000, 0)
        top = _ergodic_max(params, m, c, guess)
        if top < guess / 1.25:
            return float(max(1.25 * top, params.borrowing_limit + max(params.incomes)))
        guess *= 2.0
    raise RuntimeError("could not find the top of the ergodic set; check `params`")


def _solve_value(params: IFPParams, sol_part: EGMSolution, grid: np.ndarray) -> np.ndarray:
    """Solve ``V = u(c) + beta P V(a')`` on ``grid`` (Hermite continuation), shape (S, N)."""
    S, N = params.n_states, grid.size
    P, beta = params.P, params.beta
    right, left = _envelope_slopes(sol_part, grid)
    rows, cols, vals = [], [], []
    rhs = np.empty((S, N))
    for s in range(S):
        m = params.cash(grid, s)
        c = _consume(
            m, sol_part.cash_nodes[s], sol_part.consumption_nodes[s], params.borrowing_limit
        )
        a_next = m - c
        k = np.clip(np.searchsorted(grid, a_next, side="right") - 1, 0, N - 2)
        h = grid[k + 1] - grid[k]
        t = (a_next - grid[k]) / h
        t2, t3 = t * t, t * t * t
        h00, h10, h01, h11 = 2 * t3 - 3 * t2 + 1, t3 - 2 * t2 + t, -2 * t3 + 3 * t2, t3 - t2
        extra = np.zeros(N)
        for nxt in range(S):
            w = beta * P[s, nxt]
            if w == 0:
                continue
            rows += [s * N + np.arange(N)] * 2
            cols += [nxt * N + k, nxt * N + k + 1]
            vals += [w * h00, w * h01]
            extra += w * h * (h10 * right[nxt, k] + h11 * left[nxt, k + 1])
        rhs[s] = params.u(c) + extra
    W = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(S * N, S * N)
    )
    # W is beta times a row-stochastic matrix: iterate the contraction (a sparse LU of
    # I - W fills in badly once several states are coupled).
    rhs = rhs.ravel()
    v = rhs / (1 - beta)
    for _ in range(100_000):
        new = rhs + W @ v
        done = np.max(np.abs(new - v)) <= 1e-14 * (1 + np.max(np.abs(new)))
        v = new
        if done:
            break
    return v.reshape(S, N)


def _asset_level(params: IFPParams, m: np.ndarray, s: int) -> np.ndarray:
    """The asset level with cash on hand ``m`` in state ``s`` (inverting ``R(a) a + y``)."""
    z = np.asarray(m, dtype=float) - params.y[s]
    return np.where(z < 0, z / params.R_debt, z / params.R)


def solve_egm(
    params: IFPParams,
    *,
    n: int = 2000,
    a_max: float | None = None,
    tol: float = 1e-12,
    max_iter: int = 20000,
) -> EGMSolution:
    """Solve the income fluctuation problem by the endogenous grid method (Carroll 2006).

    Parameters
    ----------
    params : IFPParams
    n : int, default 2000
        End-of-period asset nodes, >= 10 (one more in the wedge variant),
        spaced ``-b + (a_max + b) t**2`` so that they are dense near the limit;
        up to ``n // 2`` more are added where the policy's kinks propagate
        (see Notes).
    a_max : float, optional
        The top of the grids; default 1.25 times the top of the ergodic set
        (found by a coarse solve first). Must exceed ``-b``.
    tol : float, default 1e-12
        Stop when the sup-norm change of consumption at the nodes is below it.
    max_iter : int, default 20000
        A RuntimeWarning is issued when ``tol`` is not reached.

    Returns
    -------
    EGMSolution

    Notes
    -----
    A kink of tomorrow's policy (where the constraint starts to bind, or the
    corner of the wedge variant) kinks the expected marginal utility at that
    ``a'``, hence today's policy at the asset level that saves into it, and
    so on back, with weights that fall by the transition probabilities.
    Linear interpolation across such a kink is only first-order accurate, so
    those asset levels (60 generations back, while their probability weight
    is at least 1e-3) become nodes; a few warm-started passes place them.
    The value function is then solved from the converged policy on the
    nodes, by iterating ``V = u(c) + beta P V(a')`` with a cubic Hermite
    continuation whose slopes are the envelope condition ``V' = R(a) u'(c)``.

    Examples
    --------
    >>> import numpy as np
    >>> from applications.economics import IFPParams, solve_egm
    >>> sol = solve_egm(IFPParams(), n=1000)
    >>> sol.binds.tolist(), round(float(sol.kinks[0]), 3)  # kinked in the low state only
    ([True, False], 0.021)
    >>> a = np.array([0.0, 0.01])  # below the kink: consume all cash on hand
    >>> bool(np.allclose(sol.policy(a, 0), 1.03 * a + 0.5, rtol=0, atol=1e-14))
    True
    """
    params = check_params(params)
    n = check_count(n, "n", 10)
    max_iter = check_count(max_iter, "max_iter", 1)
    if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, numbers.Real):
        raise TypeError(f"`tol` must be a real number; got {type(tol).__name__}")
    if not tol > 0:
        raise ValueError(f"`tol` must be > 0; got {plain(tol)!r}")
    b = params.borrowing_limit
    if a_max is None:
        a_max = default_a_max(params)
    else:
        if isinstance(a_max, (bool, np.bool_)) or not isinstance(a_max, numbers.Real):
            raise TypeError(f"`a_max` must be a real number or None; got {type(a_max).__name__}")
        if not (np.isfinite(a_max) and a_max > max(-b, 0.0)):
            raise ValueError(
                f"`a_max` must be finite and > max(-borrowing_limit, 0); got {plain(a_max)!r}"
            )
        a_max = float(a_max)
    post, m, c, it, change = _solve_nodes(params, n, a_max, float(tol), max_iter, _GENERATIONS)
    if not change < tol:
        warnings.warn(
            f"EGM stopped after max_iter={max_iter} iterations with a change of {change:.3g} "
            f"> tol={tol:g}; raise `max_iter`",
            RuntimeWarning,
            stacklevel=2,
        )
    top = _ergodic_max(params, m, c, a_max)
    if not top < a_max:
        raise ValueError(
            f"`a_max` = {plain(a_max)!r} is inside the ergodic set (the top income state "
            "still saves there); raise it or leave it None"
        )
    S = params.n_states
    kinks = np.array([_asset_level(params, m[s, 0], s) for s in range(S)], dtype=float)
    binds = kinks > -b
    kinks = np.where(binds, kinks, np.nan)
    corner = np.full((S, 2), np.nan)
    if params.has_wedge:
        zero = np.nonzero(post == 0)[0]  # the two zero nodes: borrowing rate, saving rate
        for s in range(S):
            ends = _asset_level(params, m[s, zero], s)
            corner[s] = np.where(ends > -b, ends, np.nan)
    value_grid = np.unique(post)
    part = EGMSolution(
        params, post, m, c, value_grid, np.zeros((S, value_grid.size)), it, change, a_max, top,
        binds, kinks, corner,
    )  # fmt: skip
    for arr in (post, m, c, binds, kinks, corner, value_grid):
        arr.setflags(write=False)
    values = _solve_value(params, part, value_grid)
    values.setflags(write=False)
    return EGMSolution(
        params, post, m, c, value_grid, values, it, change, a_max, top, binds, kinks, corner
    )
