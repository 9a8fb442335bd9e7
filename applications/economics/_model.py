"""The income fluctuation problem: parameters, income processes, utility, argument checks.

An infinitely lived household with CRRA utility ``u(c) = c**(1 - gamma) / (1 - gamma)``
(``log c`` at ``gamma = 1``) holds assets ``a``, earns income ``y_s`` that follows a
Markov chain, and chooses consumption ``c``:

    a' = R(a) a + y - c,    a' >= -b,

with ``R(a) = R_borrow`` for ``a < 0`` and ``R`` otherwise (one rate when
``R_borrow`` is None). Cash on hand is ``m = R(a) a + y``; the constraint is
``c <= m + b``. Used by :mod:`applications.economics`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from pwlmodels._validate import as_float_array, as_real_scalar, check_choice, plain

from .._checks import check_count

__all__ = ["IFPParams"]

_ROW_TOL = 1e-12
_AR1_METHODS = ("tauchen", "rouwenhorst")


def _positive(value: object, name: str) -> float:
    v = as_real_scalar(value, name)
    if not v > 0:
        raise ValueError(f"`{name}` must be > 0; got {plain(v)!r}")
    return v


@dataclass(frozen=True)
class IFPParams:
    """Parameters of the income fluctuation problem (validated, immutable).

    Timing: ``a' = R(a) a + y - c`` with ``a' >= -borrowing_limit``, where
    ``R(a) = R_borrow`` for ``a < 0`` and ``R`` for ``a >= 0``.

    Parameters
    ----------
    gamma : float, default 2.0
        Relative risk aversion, > 0 (1 is log utility).
    beta : float, default 0.96
        Discount factor, > 0, with ``beta * R < 1`` (so assets stay bounded
        and a stationary distribution exists).
    R : float, default 1.03
        Gross return on savings, > 0.
    incomes : sequence of float, default (0.5, 1.5)
        Income in each Markov state, all > 0.
    transition : sequence of sequences, shape (S, S), default ((0.9, 0.1), (0.1, 0.9))
        ``transition[s][t]`` is the probability of moving from state s to
        state t; entries >= 0, rows summing to 1 within 1e-12.
    borrowing_limit : float, default 0.0
        b >= 0, strictly below the natural limit ``min(incomes) / (R_b - 1)``
        (``R_b`` the borrowing rate), so that consumption stays positive.
    R_borrow : float, optional
        Gross rate on debt (``a < 0``), >= ``R``; None means ``R``. With
        ``R_borrow > R`` and ``borrowing_limit > 0`` the value function has a
        concave kink at ``a = 0`` (the wedge variant).

    Examples
    --------
    >>> from applications.economics import IFPParams
    >>> p = IFPParams()
    >>> p.n_states, p.y.tolist(), round(p.natural_limit, 6)
    (2, [0.5, 1.5], 16.666667)
    >>> IFPParams(beta=0.99)
    Traceback (most recent call last):
    ...
    ValueError: `beta` * `R` must be < 1 (for a stationary distribution); got 0.99 * 1.03 = 1.0197
    """

    gamma: float = 2.0
    beta: float = 0.96
    R: float = 1.03
    incomes: tuple[float, ...] = (0.5, 1.5)
    transition: tuple[tuple[float, ...], ...] = ((0.9, 0.1), (0.1, 0.9))
    borrowing_limit: float = 0.0
    R_borrow: float | None = None

    def __post_init__(self) -> None:
        gamma = _positive(self.gamma, "gamma")
        beta = _positive(self.beta, "beta")
        rate = _positive(self.R, "R")
        if not beta * rate < 1:
            raise ValueError(
                "`beta` * `R` must be < 1 (for a stationary distribution); "
                f"got {plain(beta)!r} * {plain(rate)!r} = {beta * rate:.5g}"
            )
        y = as_float_array(self.incomes, "incomes")
        if y.ndim != 1 or y.size == 0:
            raise ValueError(f"`incomes` must be a non-empty 1-D sequence; got shape {y.shape}")
        if not (np.isfinite(y).all() and (y > 0).all()):
            i = int(np.argmax(~(np.isfinite(y) & (y > 0))))
            raise ValueError(
                f"`incomes` must be finite and > 0; got incomes[{i}] = {plain(y[i])!r}"
            )
        P = as_float_array(self.transition, "transition")
        if P.shape != (y.size, y.size):
            raise ValueError(
                f"`transition` must have shape ({y.size}, {y.size}), one row and column per "
                f"income state; got {P.shape}"
            )
        if not (np.isfinite(P).all() and (P >= 0).all()):
            i, j = np.unravel_index(int(np.argmax(~(np.isfinite(P) & (P >= 0)))), P.shape)
            raise ValueError(
                f"`transition` must have finite entries >= 0; got transition[{i}][{j}] = "
                f"{plain(P[i, j])!r}"
            )
        sums = P.sum(axis=1)
        if (bad := np.abs(sums - 1) > _ROW_TOL).any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"`transition` rows must sum to 1 (within {_ROW_TOL:g}); got row {i} summing "
                f"to {plain(sums[i])!r}"
            )
        b = as_real_scalar(self.borrowing_limit, "borrowing_limit")
        if b < 0:
            raise ValueError(f"`borrowing_limit` must be >= 0 (a' >= -b); got {plain(b)!r}")
        rb = None if self.R_borrow is None else as_real_scalar(self.R_borrow, "R_borrow")
        if rb is not None and rb < rate:
            raise ValueError(
                f"`R_borrow` must be None or >= `R` = {plain(rate)!r}; got {plain(rb)!r}"
            )
        r_debt = rate if rb is None else rb
        natural = float(y.min() / (r_debt - 1)) if r_debt > 1 else np.inf
        if not b < natural:
            raise ValueError(
                f"`borrowing_limit` must be below the natural limit min(incomes) / "
                f"(R_b - 1) = {natural:.6g}, where consumption can stay positive; got {plain(b)!r}"
            )
        for name, value in (("gamma", gamma), ("beta", beta), ("R", rate)):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "incomes", tuple(float(v) for v in y))
        object.__setattr__(self, "transition", tuple(tuple(float(v) for v in r) for r in P))
        object.__setattr__(self, "borrowing_limit", b)
        object.__setattr__(self, "R_borrow", rb)

    # ------------------------------------------------------------ derived
    @property
    def y(self) -> np.ndarray:
        """Incomes as a float64 array, shape (S,)."""
        return np.array(self.incomes)

    @property
    def P(self) -> np.ndarray:
        """The transition matrix as a float64 array, shape (S, S)."""
        return np.array(self.transition)

    @property
    def n_states(self) -> int:
        """S, the number of income states."""
        return len(self.incomes)

    @property
    def R_debt(self) -> float:
        """The gross rate on debt: ``R_borrow``, or ``R`` when it is None."""
        return self.R if self.R_borrow is None else self.R_borrow

    @property
    def has_wedge(self) -> bool:
        """True when debt is possible and dearer than saving (V kinks at a = 0)."""
        return self.borrowing_limit > 0 and self.R_debt > self.R

    @property
    def natural_limit(self) -> float:
        """``min(incomes) / (R_b - 1)``: the most debt repayable for sure (inf if R_b <= 1)."""
        return float(min(self.incomes) / (self.R_debt - 1)) if self.R_debt > 1 else np.inf

    def rate(self, a: np.ndarray) -> np.ndarray:
        """``R(a)``: ``R_borrow`` where ``a < 0``, ``R`` elsewhere (same shape as ``a``)."""
        return np.where(np.asarray(a) < 0, self.R_debt, self.R)

    def cash(self, a: np.ndarray, state: np.ndarray) -> np.ndarray:
        """Cash on hand ``m = R(a) a + y_state``."""
        a = np.asarray(a, dtype=float)
        return self.rate(a) * a + self.y[state]

    def stationary_income(self) -> np.ndarray:
        """The stationary distribution of the income chain, shape (S,)."""
        return _stationary(self.P)

    # ------------------------------------------------------------ utility
    def u(self, c: np.ndarray) -> np.ndarray:
        """CRRA utility."""
        c = np.asarray(c, dtype=float)
        if self.gamma == 1.0:
            return np.log(c)
        return c ** (1 - self.gamma) / (1 - self.gamma)

    def u_prime(self, c: np.ndarray) -> np.ndarray:
        """Marginal utility ``c**-gamma``."""
        return np.asarray(c, dtype=float) ** -self.gamma

    def u_prime_inverse(self, v: np.ndarray) -> np.ndarray:
        """The consumption with marginal utility ``v``: ``v**(-1/gamma)``."""
        return np.asarray(v, dtype=float) ** (-1 / self.gamma)

    # ------------------------------------------------------------ factories
    @classmethod
    def from_ar1(
        cls,
        rho: float,
        sigma: float,
        n: int = 7,
        method: str = "tauchen",
        *,
        m: float = 3.0,
        gamma: float = 2.0,
        beta: float = 0.96,
        R: float = 1.03,
        borrowing_limit: float = 0.0,
        R_borrow: float | None = None,
    ) -> IFPParams:
        """Discretise log income ``z' = rho z + e`` into an n-state chain; incomes have mean 1.

        Parameters
        ----------
        rho : float
            Persistence, in (-1, 1).
        sigma : float
            The *unconditional* standard deviation of log income, > 0 (as
            Aiyagari 1994 states his calibration); the innovations have
            standard deviation ``sigma * sqrt(1 - rho**2)``.
        n : int, default 7
            Number of states, >= 2.
        method : {"tauchen", "rouwenhorst"}, default "tauchen"
            Tauchen (1986): an even grid on ``[-m sigma, m sigma]`` with normal
            probabilities of the cells. Rouwenhorst (Kopecky and Suen 2010):
            an even grid on ``[-sqrt(n-1) sigma, sqrt(n-1) sigma]`` that matches
            the persistence and the variance exactly; use it for rho near 1,
            where Tauchen's chain is inaccurate.
        m : float, default 3.0
            Tauchen's grid width in standard deviations, > 0.
        gamma, beta, R, borrowing_limit, R_borrow
            As in :class:`IFPParams`.

        Returns
        -------
        IFPParams
            ``incomes = exp(z) / E[exp(z)]`` under the chain's stationary
            distribution (mean income 1).

        Examples
        --------
        >>> import numpy as np
        >>> from applications.economics import IFPParams
        >>> p = IFPParams.from_ar1(0.6, 0.2)  # the Aiyagari (1994) benchmark
        >>> p.n_states, round(float(p.stationary_income() @ p.y), 12)
        (7, 1.0)
        """
        rho = as_real_scalar(rho, "rho")
        if not -1 < rho < 1:
            raise ValueError(f"`rho` must be in (-1, 1); got {plain(rho)!r}")
        sigma = _positive(sigma, "sigma")
        n = check_count(n, "n", 2)
        check_choice(method, "method", _AR1_METHODS)
        m = _positive(m, "m")
        if method == "tauchen":
            z, P = _tauchen(rho, sigma, n, m)
        else:
            z, P = _rouwenhorst(rho, sigma, n)
        P = P / P.sum(axis=1, keepdims=True)
        level = np.exp(z)
        incomes = level / (_stationary(P) @ level)
        return cls(
            gamma=gamma,
            beta=beta,
            R=R,
            incomes=tuple(incomes),
            transition=tuple(map(tuple, P)),
            borrowing_limit=borrowing_limit,
            R_borrow=R_borrow,
        )


def _tauchen(rho: float, sigma: float, n: int, m: float) -> tuple[np.ndarray, np.ndarray]:
    z = np.linspace(-m * sigma, m * sigma, n)
    step = z[1] - z[0]
    sd = sigma * np.sqrt(1 - rho**2)
    upper = (z[None, :] - rho * z[:, None] + step / 2) / sd
    lower = (z[None, :] - rho * z[:, None] - step / 2) / sd
    P = ndtr(upper) - ndtr(lower)
    P[:, 0] = ndtr(upper[:, 0])
    P[:, -1] = 1 - ndtr(lower[:, -1])
    return z, P


def _rouwenhorst(rho: float, sigma: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    p = (1 + rho) / 2
    P = np.array([[p, 1 - p], [1 - p, p]])
    for k in range(3, n + 1):
        big = np.zeros((k, k))
        big[:-1, :-1] += p * P
        big[:-1, 1:] += (1 - p) * P
        big[1:, :-1] += (1 - p) * P
        big[1:, 1:] += p * P
        big[1:-1] /= 2
        P = big
    psi = np.sqrt(n - 1) * sigma
    return np.linspace(-psi, psi, n), P


def _stationary(P: np.ndarray) -> np.ndarray:
    """The stationary distribution of an irreducible chain (a linear solve)."""
    S = P.shape[0]
    A = np.vstack([P.T - np.eye(S), np.ones(S)])
    rhs = np.zeros(S + 1)
    rhs[-1] = 1.0
    pi = np.linalg.lstsq(A, rhs, rcond=None)[0]
    pi = np.clip(pi, 0.0, None)
    return pi / pi.sum()


def as_states(state: object, n_states: int, name: str = "state") -> np.ndarray:
    """Integer state indices in ``[0, n_states)`` as an int64 array (any shape)."""
    arr = np.asarray(state)
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"`{name}` must be integer income-state indices; got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() >= n_states):
        bad = arr.min() if arr.min() < 0 else arr.max()
        raise ValueError(f"`{name}` must be in [0, {n_states}); got {int(bad)}")
    return arr.astype(np.int64)


def as_assets(a: object, name: str = "a") -> np.ndarray:
    """Finite float64 asset levels (any shape)."""
    arr = as_float_array(a, name)
    if not np.isfinite(arr).all():
        raise ValueError(
            f"`{name}` must be finite; got {plain(arr[~np.isfinite(arr)].ravel()[0])!r}"
        )
    return arr


def as_pair(value: object, name: str) -> tuple[float, float]:
    """Two finite reals ``(lo, hi)`` (any order), or a TypeError / ValueError naming ``name``."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise TypeError(f"`{name}` must be a pair (lo, hi); got {type(value).__name__}")
    if len(value) != 2:
        raise ValueError(f"`{name}` must be a pair (lo, hi); got {len(value)} entries")
    lo, hi = (as_real_scalar(v, name) for v in value)
    return lo, hi


def check_params(params: object, name: str = "params") -> IFPParams:
    """``params`` if it is an IFPParams, else a TypeError."""
    if not isinstance(params, IFPParams):
        raise TypeError(f"`{name}` must be an IFPParams; got {type(params).__name__}")
    return params


def power_grid(lo: float, hi: float, n: int, power: float = 2.0) -> np.ndarray:
    """``n`` points from ``lo`` to ``hi``, denser near ``lo``: ``lo + (hi - lo) t**power``."""
    t = np.linspace(0.0, 1.0, n)
    grid = lo + (hi - lo) * t**power
    grid[-1] = hi
    return grid
