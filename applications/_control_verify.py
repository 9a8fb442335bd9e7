"""Command bounds: exact for ReLU controllers (pwlmodels.verify), sampled and interval otherwise.

ReLU controllers: ``pwlmodels.maximize`` / ``minimize`` / ``prove_bound`` with the
MILP (branch and bound on inputs converges slowly on the flat saturated
plateaus). Smooth controllers: the extremes of uniform samples, and interval
bounds refined by best-first box splitting, sound up to float64 rounding
margins: each Linear layer widens its result by ``gamma_{n+2}`` times the
magnitudes involved (Higham 2002, ch. 3), and each activation by 4 ulps plus
1e-300, which covers numpy's ``tanh`` and scipy's ``expit``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from pwlmodels import maximize, minimize, prove_bound

from ._control_checks import leaves
from ._control_learn import clamped
from ._control_sim import numpy_net

__all__: list[str] = []

_EPS = float(np.finfo(np.float64).eps)
ATOL = 1e-6  # volts: verification tolerance (the MILP certifies to about 1e-8 (1 + |bound|))


@dataclass(frozen=True)
class CommandRange:
    """Bounds on a controller's command over a box.

    ``exact``: ``max_value`` (attained at ``max_witness``) <= true max <=
    ``max_bound``, verified; otherwise ``max_value`` is the largest of the
    sampled commands and ``max_bound`` a sound interval bound ("not exact").
    The same for the minimum.
    """

    exact: bool
    max_value: float
    max_bound: float
    max_witness: np.ndarray
    min_value: float
    min_bound: float
    min_witness: np.ndarray
    status: str


def exact_range(net: nn.Sequential, lower: np.ndarray, upper: np.ndarray) -> CommandRange:
    """The verified maximum and minimum of a ReLU controller over the box."""
    hi = maximize(net, lower, upper, method="milp", atol=ATOL)
    lo = minimize(net, lower, upper, method="milp", atol=ATOL)
    status = hi.status if hi.status != "optimal" else lo.status
    return CommandRange(
        True, hi.value, hi.bound, hi.witness, lo.value, lo.bound, lo.witness, status
    )


def sampled_range(
    net: nn.Sequential, lower: np.ndarray, upper: np.ndarray, n: int, budget: int, seed: int
) -> CommandRange:
    """Extremes of ``n`` uniform samples, and sound interval bounds refined over sub-boxes."""
    f = numpy_net(net)
    rng = np.random.default_rng(seed)
    best_hi, best_lo = -np.inf, np.inf
    w_hi = w_lo = lower
    for start in range(0, n, 100_000):
        x = rng.uniform(lower, upper, (min(100_000, n - start), lower.size))
        u = f(x)[:, 0]
        i, j = int(np.argmax(u)), int(np.argmin(u))
        if u[i] > best_hi:
            best_hi, w_hi = float(u[i]), x[i]
        if u[j] < best_lo:
            best_lo, w_lo = float(u[j]), x[j]
    hi_b = interval_max(net, lower, upper, best_hi, budget=budget)
    lo_b = -interval_max(net, lower, upper, -best_lo, budget=budget, sign=-1.0)
    return CommandRange(False, best_hi, hi_b, w_hi, best_lo, lo_b, w_lo, "not exact")


def _layers(net: nn.Sequential) -> list:
    ops: list = []
    for m in leaves(net):
        if isinstance(m, nn.Linear):
            w = m.weight.detach().to("cpu", torch.float64).numpy()
            b = m.bias.detach().to("cpu", torch.float64).numpy()
            ops.append((w.T.copy(), b, np.abs(w).T.copy(), np.abs(b)))
        elif not isinstance(m, (nn.Identity, nn.Dropout, nn.Flatten)):
            ops.append(numpy_net(nn.Sequential(m)))  # monotone non-decreasing
    return ops


def _interval(ops: list, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sound output intervals (first output) of the boxes ``[lo, hi]`` (rows)."""
    for op in ops:
        if isinstance(op, tuple):
            w, b, aw, ab = op
            mid = (lo + hi) / 2
            rad = np.maximum(hi - mid, mid - lo) * (1 + 4 * _EPS)  # [mid - rad, mid + rad] covers
            centre, spread = mid @ w + b, rad @ aw
            n = w.shape[0] + 2
            err = n * _EPS / (1 - n * _EPS) * (np.abs(mid) @ aw + ab + spread) + 1e-300
            lo, hi = centre - spread - err, centre + spread + err
        else:
            lo, hi = op(lo), op(hi)
            lo = lo - 4 * _EPS * np.abs(lo) - 1e-300
            hi = hi + 4 * _EPS * np.abs(hi) + 1e-300
    return lo[:, 0], hi[:, 0]


def interval_max(
    net: nn.Sequential,
    lower: np.ndarray,
    upper: np.ndarray,
    best: float,
    *,
    budget: int,
    sign: float = 1.0,
    tol: float = 1e-3,
    batch: int = 2048,
) -> float:
    """A sound upper bound of ``sign * net(x)`` on the box, by interval branch and bound.

    Best first: the ``batch`` boxes with the largest interval bounds are
    halved along their widest side (relative to the box); boxes bounded
    within ``tol`` of ``best`` (a value the objective attains) are dropped.
    Stops when none is left or ``budget`` boxes have been bounded.
    """
    ops, width = _layers(net), upper - lower

    def bound_of(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        a, b = _interval(ops, lo, hi)
        return b if sign > 0 else -a

    lo, hi = lower[None].copy(), upper[None].copy()
    ub = bound_of(lo, hi)
    used, dropped = 1, best
    while True:
        keep = ub > best + tol
        if (~keep).any():
            dropped = max(dropped, float(ub[~keep].max()))
        lo, hi, ub = lo[keep], hi[keep], ub[keep]
        if not ub.size or used >= budget:
            break
        k = min(batch, ub.size)
        top = np.argpartition(-ub, k - 1)[:k] if k < ub.size else np.arange(ub.size)
        rest = np.ones(ub.size, bool)
        rest[top] = False
        plo, phi, pub = lo[top], hi[top], ub[top]
        j = np.argmax((phi - plo) / width, axis=1)
        rows = np.arange(k)
        mid = (plo[rows, j] + phi[rows, j]) / 2
        left_hi, right_lo = phi.copy(), plo.copy()
        left_hi[rows, j], right_lo[rows, j] = mid, mid
        new_lo, new_hi = np.concatenate([plo, right_lo]), np.concatenate([left_hi, phi])
        new_ub = np.minimum(bound_of(new_lo, new_hi), np.concatenate([pub, pub]))
        used += 2 * k
        lo, hi = np.concatenate([lo[rest], new_lo]), np.concatenate([hi[rest], new_hi])
        ub = np.concatenate([ub[rest], new_ub])
    return max(dropped, float(ub.max()) if ub.size else dropped)


def clamp_proof(net: nn.Sequential, lower, upper, u_max: float, margin: float) -> tuple:
    """Prove ``-u_max - margin <= sat(net(x)) <= u_max + margin`` on the box (two proofs)."""
    sat = clamped(net, u_max)
    up = prove_bound(sat, lower, upper, u_max + margin, method="milp")
    down = prove_bound(sat, lower, upper, -u_max - margin, sense=">=", method="milp")
    return up, down


def sensitivity(
    net: nn.Sequential,
    x_ref: np.ndarray,
    radius: np.ndarray,
    exact: bool,
    n: int,
    budget: int,
    seed: int,
) -> tuple[float, float, np.ndarray]:
    """Largest ``|u(x) - u(x_ref)|`` over the box ``|x - x_ref| <= radius``.

    Returns the attained value, an upper bound (equal up to tolerance when
    ``exact``; sampled and interval otherwise) and the witness state.
    """
    lower, upper = x_ref - radius, x_ref + radius
    u0 = float(numpy_net(net)(x_ref)[0])
    if exact:
        r = exact_range(net, lower, upper)
    else:
        r = sampled_range(net, lower, upper, n, budget, seed)
    up, down = r.max_value - u0, u0 - r.min_value
    bound = max(r.max_bound - u0, u0 - r.min_bound)
    return max(up, down), bound, (r.max_witness if up >= down else r.min_witness)
