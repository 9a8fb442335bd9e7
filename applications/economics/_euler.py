"""Unit-free Euler equation errors of any consumption policy (Judd 1992)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pwlmodels._validate import plain

from ._egm import EGMSolution, default_a_max
from ._model import IFPParams, as_assets, as_states, check_params

__all__ = ["euler_errors"]


def euler_errors(
    policy: EGMSolution | Callable[[np.ndarray, np.ndarray], np.ndarray],
    params: IFPParams,
    a: object = None,
    state: object = None,
) -> np.ndarray:
    """Unit-free Euler equation errors of a consumption policy (Judd 1992).

    With ``c_tilde = (beta R(a') E[u'(c(a', y'))])**(-1/gamma)`` the consumption
    that the Euler equation asks for given tomorrow's policy, and cash on hand
    ``x = R(a) a + y + b``:

    * where the constraint binds (``a' = -b``): ``max(0, c / c_tilde - 1)``
      (only consuming too much is an error there);
    * elsewhere: ``1 - min(c_tilde, x) / c``, which is Judd's ``1 - c_tilde / c``
      whenever ``c_tilde`` is feasible, and the distance to the constraint when
      the Euler equation asks for more than the cash on hand;
    * wedge variant, at the corner ``a' = 0``: 0 when ``c`` lies between the
      two one-sided Euler values (borrowing rate, saving rate), else the
      relative distance ``1 - c_tilde / c`` to the nearer one.

    The expectation is an exact sum over the income states.

    Parameters
    ----------
    policy : EGMSolution or callable
        ``policy(a, state) -> c`` on broadcast numpy arrays (float assets,
        integer states), or an EGMSolution (its ``policy``).
    params : IFPParams
    a : array_like of float, optional
        Asset levels, >= -b. Default: 1001 points evenly spaced on the
        ergodic range ``[-b, ergodic top]`` (the policy's when it is an
        EGMSolution, else that of a coarse EGM solve).
    state : int or array_like of int, optional
        Broadcast against ``a``; default every state.

    Returns
    -------
    ndarray of float64
        Signed errors; shape (S, len(a)) when ``state`` is None, else the
        broadcast shape of ``a`` and ``state``.

    Examples
    --------
    >>> import numpy as np
    >>> from applications.economics import IFPParams, solve_egm, euler_errors
    >>> p = IFPParams()
    >>> sol = solve_egm(p, n=2000)
    >>> e = euler_errors(sol, p)
    >>> e.shape, bool(np.abs(e).max() < 1e-4)
    ((2, 1001), True)
    >>> too_much = lambda a, s: 0.9 * p.cash(a, s)  # spends 90 % of cash on hand
    >>> bool(euler_errors(too_much, p, [5.0], 0)[0] > 0.5)
    True
    """
    params = check_params(params)
    fn = policy.policy if isinstance(policy, EGMSolution) else policy
    if not callable(fn):
        raise TypeError(f"`policy` must be callable or an EGMSolution; got {type(policy).__name__}")
    b, S = params.borrowing_limit, params.n_states
    if a is None:
        top = (
            policy.ergodic_max if isinstance(policy, EGMSolution) else default_a_max(params) / 1.25
        )
        a = np.linspace(-b, top, 1001)
    a = as_assets(a)
    if (a < -b - 1e-12 * (1 + b)).any():
        raise ValueError(f"`a` must be >= -borrowing_limit = {plain(-b)!r}; got {float(a.min())!r}")
    if state is None:
        s = np.arange(S).reshape((S,) + (1,) * a.ndim)
        a = a[None, ...]
    else:
        s = as_states(state, S)
    a, s = np.broadcast_arrays(a, s)
    c = _call_policy(fn, a, s)
    m = params.cash(a, s)
    x = m + b
    a_next = np.maximum(m - c, -b)
    expect = np.zeros(a.shape)
    P = params.P
    for t in range(S):
        expect += P[s, t] * params.u_prime(_call_policy(fn, a_next, np.full(a.shape, t)))
    tol = 1e-12 * (1 + np.abs(m) + b)
    binding = a_next <= -b + tol
    c_tilde = params.u_prime_inverse(
        params.beta * params.rate(np.where(binding, -b, a_next)) * expect
    )
    e = 1 - np.minimum(c_tilde, x) / c
    e = np.where(binding, np.maximum(0.0, c / c_tilde - 1), e)
    if params.has_wedge:
        corner = (np.abs(a_next) <= tol) & ~binding
        hi = params.u_prime_inverse(params.beta * params.R * expect)  # the saving side
        lo = params.u_prime_inverse(params.beta * params.R_debt * expect)  # the borrowing side
        at_corner = np.where(c > hi, 1 - hi / c, np.where(c < lo, 1 - lo / c, 0.0))
        e = np.where(corner, at_corner, e)
    return e


def ergodic_probe(sol: EGMSolution, top: float) -> np.ndarray:
    """Asset levels on which maxima over the ergodic range are taken: dense near the limit."""
    b = sol.params.borrowing_limit
    t = np.linspace(0.0, 1.0, 2001)
    return np.unique(np.concatenate([-b + (top + b) * t, -b + (top + b) * t**2]))


def _call_policy(fn: Callable, a: np.ndarray, s: np.ndarray) -> np.ndarray:
    c = np.asarray(fn(a, s), dtype=float)
    if c.shape != a.shape:
        raise ValueError(
            f"`policy` must return one consumption per (a, state); got shape {c.shape} "
            f"for {a.shape}"
        )
    if not (np.isfinite(c).all() and (c > 0).all()):
        raise ValueError(
            "`policy` must return finite, positive consumption; got a value <= 0 or not finite"
        )
    return c
