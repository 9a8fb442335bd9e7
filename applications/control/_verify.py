"""Command bounds: verified for ReLU controllers (pwlmodels.verify), sampled and interval otherwise.

ReLU controllers: ``pwlmodels.maximize`` / ``minimize`` / ``prove_bound`` with the
MILP (branch and bound on inputs converges slowly on the flat saturated
plateaus). Its bound is sound whatever the status; the attained value is
*exact* (the maximum to within ``atol + RTOL |value|``, ``atol`` from ``ATOLS``)
only when the status is ``"optimal"``, and :func:`describe` words every label
from that status.
Smooth controllers: the extremes of uniform samples, and interval
bounds refined by best-first box splitting and, for the operating box, CROWN
bounds with branch and bound (:func:`._crown.crown_bound`), all sound up to
float64 rounding margins; the interval ones: each Linear layer widens its
result by ``gamma_{n+2}`` times the magnitudes involved (Higham 2002, ch. 3),
and each activation by 4 ulps plus 1e-300, which covers numpy's ``tanh`` and scipy's ``expit``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from pwlmodels import (
    ProofResult,
    SolverInconsistencyWarning,
    maximize,
    minimize,
    prove_bound,
)

from ._checks import leaves
from ._crown import crown_bound
from ._learn import clamped
from ._sim import numpy_net

__all__: list[str] = []

_EPS = float(np.finfo(np.float64).eps)
#: Volts: the MILP's certification tolerances, ``gap <= atol + RTOL |value|``, tried
#: in turn until the status is "optimal". HiGHS accepts a binary within its
#: integrality tolerance (1e-6) of 0 or 1, which lets a unit's output move by 1e-6
#: times its big-M constant; the learned controllers' hidden units have big-M
#: constants of 3 to 9 and output weights up to about 12 V per unit, so HiGHS's
#: dual bound can sit up to about 1e-3 V above the maximum in the worst case and
#: sat 3e-6 to 5.4e-5 V above it when measured. 1e-6 V certifies when pwlmodels
#: confirms the bound by branch and bound; 1e-4 V (below 1e-5 of the 12 V limit)
#: is within reach of HiGHS's own dual bound.
ATOLS = (1e-6, 1e-4)
RTOL = 1e-9  # pwlmodels' default
INTEGRALITY = 1e-6  # HiGHS's default mip_feasibility_tolerance (pwlmodels does not change it)


@dataclass(frozen=True)
class Label:
    """How a report may call a bound: what was proven, and in words.

    ``value_kind`` is the table kind of the attained value ("exact" only for
    a certified optimum), ``bound_kind`` that of the bound, ``text`` the
    method column ("exact (MILP, optimal, gap <= atol)" or "sound bound (MILP
    stopped at node_limit, gap 4e-05 V)"), ``exact`` whether it was certified.
    """

    exact: bool
    value_kind: str
    bound_kind: str
    text: str


def describe(status: str, gap: float, value: float, *, atol: float, rtol: float = RTOL) -> Label:
    """The label a MILP bound may carry: exact only when optimal within ``atol + rtol |value|``.

    ``status`` and ``gap`` are those of a ``pwlmodels.VerificationResult``
    (``"optimal"``, ``"node_limit"``, ``"time_limit"``, ``"precision_limit"``), or ``"sampled"``
    for a sampled value with an interval bound. A status of ``"optimal"``
    whose gap exceeds the stated tolerance is not called exact either.
    """
    gap, value = float(gap), float(value)
    if status == "sampled":
        return Label(False, "sampled", "interval bound", "not exact: sampled / interval")
    tol = atol + rtol * abs(value)
    if status == "optimal" and 0 <= gap <= tol:
        text = f"exact (MILP, optimal, gap {gap:.1e} V <= atol {atol:g} V)"
        return Label(True, "exact", "verified bound", text)
    why = f"stopped at {status}" if status != "optimal" else f"reported {status}"
    text = f"sound bound (MILP {why}, gap {gap:.1e} V > atol {atol:g} V)"
    return Label(False, "attained", "sound bound", text)


@dataclass(frozen=True)
class CommandRange:
    """Bounds on a controller's command over a box.

    ``verified``: from the MILP, ``max_value`` (attained at ``max_witness``)
    <= true max <= ``max_bound`` with ``max_status`` the MILP's status at
    tolerance ``max_atol`` (exact only when it is "optimal", see
    :func:`describe`); otherwise ``max_value`` is the largest of the sampled
    commands, ``max_bound`` a sound interval bound and the status "sampled".
    The same for the minimum. ``notes``: the SolverInconsistencyWarning
    messages the MILP raised (explained in the report). Sampled ranges also
    keep ``interval_budget`` (the interval bounds' box budget) and, when CROWN
    ran, ``crown_max`` / ``crown_min`` (its sound bounds of the extremes,
    NaN otherwise) over ``crown_boxes`` boxes.
    """

    verified: bool
    max_value: float
    max_bound: float
    max_witness: np.ndarray
    max_status: str
    min_value: float
    min_bound: float
    min_witness: np.ndarray
    min_status: str
    max_atol: float = ATOLS[-1]
    min_atol: float = ATOLS[-1]
    rtol: float = RTOL
    notes: tuple[str, ...] = ()
    interval_budget: int = 0
    crown_max: float = float("nan")
    crown_min: float = float("nan")
    crown_boxes: int = 0

    @property
    def tight_max(self) -> float:
        """The tighter sound bound of the maximum: ``max_bound``, or CROWN's where lower."""
        return float(np.fmin(self.max_bound, self.crown_max))

    @property
    def tight_min(self) -> float:
        """The tighter sound bound of the minimum: ``min_bound``, or CROWN's where higher."""
        return float(np.fmax(self.min_bound, self.crown_min))

    @property
    def max_label(self) -> Label:
        gap = self.max_bound - self.max_value
        return describe(self.max_status, gap, self.max_value, atol=self.max_atol, rtol=self.rtol)

    @property
    def min_label(self) -> Label:
        gap = self.min_value - self.min_bound
        return describe(self.min_status, gap, self.min_value, atol=self.min_atol, rtol=self.rtol)

    @property
    def exact(self) -> bool:
        """Both extremes certified optimal at their stated tolerances."""
        return self.max_label.exact and self.min_label.exact

    @property
    def label(self) -> Label:
        """The weaker of the two extremes' labels (the range is as exact as its worse end)."""
        return self.min_label if self.max_label.exact else self.max_label


def _solve(fn, notes: list, *args, **kwargs):
    """``fn(*args, **kwargs)``; its SolverInconsistencyWarnings go to ``notes``, others on."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fn(*args, **kwargs)
    for w in caught:
        if issubclass(w.category, SolverInconsistencyWarning):
            notes.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    return res


def exact_range(
    net: nn.Sequential,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    atols: tuple[float, ...] = ATOLS,
    rtol: float = RTOL,
) -> CommandRange:
    """The MILP maximum and minimum of a ReLU controller over the box, with their statuses.

    Each extreme is solved at ``atols[0]``, and again at the next tolerance
    while its status is not "optimal"; the last result is kept with its
    tolerance. A SolverInconsistencyWarning (the solver's objective above the
    float64 value at its solution, by up to its integrality tolerance times
    the big-M constants) is caught and kept in ``notes``: the value is the
    float64 forward pass at the witness and the bound is sound, so the range
    stands; the report says why it was raised.
    """
    notes: list[str] = []
    ends = []
    for fn in (maximize, minimize):
        for atol in atols:
            res = _solve(fn, notes, net, lower, upper, method="milp", atol=atol, rtol=rtol)
            if res.status == "optimal":
                break
        ends.append((res, atol))
    (hi, hi_atol), (lo, lo_atol) = ends
    return CommandRange(
        True,
        float(hi.value),
        float(hi.bound),
        hi.witness,
        hi.status,
        float(lo.value),
        float(lo.bound),
        lo.witness,
        lo.status,
        hi_atol,
        lo_atol,
        rtol,
        tuple(notes),
    )


def sampled_range(
    net: nn.Sequential,
    lower: np.ndarray,
    upper: np.ndarray,
    n: int,
    budget: int,
    seed: int,
    crown_budget: int | None = None,
) -> CommandRange:
    """Extremes of ``n`` uniform samples, and sound interval bounds refined over sub-boxes;
    with ``crown_budget``, also CROWN bounds by branch and bound over that many boxes."""
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
    crown = {}
    if crown_budget is not None:
        b = crown_bound(net, lower, upper, max_boxes=crown_budget)
        crown = {"crown_max": float(b.upper[0]), "crown_min": float(b.lower[0])}
        crown["crown_boxes"] = b.boxes
    return CommandRange(
        False, best_hi, hi_b, w_hi, "sampled", best_lo, lo_b, w_lo, "sampled",
        interval_budget=budget, **crown,
    )  # fmt: skip


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


class Clamp(NamedTuple):
    """The two proofs on the clamped network, and any SolverInconsistencyWarning messages."""

    up: ProofResult
    down: ProofResult
    notes: tuple[str, ...] = ()

    @property
    def proven(self) -> bool:
        return self.up.status == self.down.status == "proven"


def clamp_proof(net: nn.Sequential, lower, upper, u_max: float, margin: float) -> Clamp:
    """Prove ``-u_max - margin <= sat(net(x)) <= u_max + margin`` on the box (two proofs)."""
    sat, notes = clamped(net, u_max), []
    up = _solve(prove_bound, notes, sat, lower, upper, u_max + margin, method="milp")
    down = _solve(prove_bound, notes, sat, lower, upper, -u_max - margin, sense=">=", method="milp")
    return Clamp(up, down, tuple(notes))


class Sensitivity(NamedTuple):
    """``value`` = largest ``|u(x) - u(x_ref)|`` found (at ``witness``), ``bound`` above it.

    ``range`` is the command range over the box they come from; the
    sensitivity is exact when ``range.exact`` (its gap is at most the
    larger of the two extremes' gaps).
    """

    value: float
    bound: float
    witness: np.ndarray
    range: CommandRange

    @property
    def label(self) -> Label:
        """Exact only when both MILP extremes are optimal and the gap is within tolerance."""
        r = self.range
        if not r.verified:
            status = "sampled"
        else:
            status = next((s for s in (r.max_status, r.min_status) if s != "optimal"), "optimal")
        atol = max(r.max_atol, r.min_atol)
        return describe(status, self.bound - self.value, self.value, atol=atol, rtol=r.rtol)


def sensitivity(
    net: nn.Sequential,
    x_ref: np.ndarray,
    radius: np.ndarray,
    verified: bool,
    n: int,
    budget: int,
    seed: int,
) -> Sensitivity:
    """Largest ``|u(x) - u(x_ref)|`` over the box ``|x - x_ref| <= radius``.

    ``verified``: by the MILP (exact when both extremes are certified
    optimal); otherwise sampled, with an interval bound.
    """
    lower, upper = x_ref - radius, x_ref + radius
    u0 = float(numpy_net(net)(x_ref)[0])
    if verified:
        r = exact_range(net, lower, upper)
    else:
        r = sampled_range(net, lower, upper, n, budget, seed)
    up, down = r.max_value - u0, u0 - r.min_value
    bound = max(r.max_bound - u0, u0 - r.min_bound)
    witness = r.max_witness if up >= down else r.min_witness
    return Sensitivity(max(up, down), bound, witness, r)
