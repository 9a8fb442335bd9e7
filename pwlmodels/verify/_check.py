"""Decide a VNN-LIB property of a network: unsat, sat with a checked counterexample, or neither.

The property's unsafe set is, for each case of the spec, an input box and a
disjunction of conjunctions ``A y <= b`` on the output ``y = net(x)``. A
conjunction is unreachable from a box when one of its rows has a sound lower
bound ``a . y >= l > b`` there; the property holds (``"unsat"``) when every
conjunction is unreachable from every piece of a partition of every box.
Input-domain branch and bound finds that partition: one backward CROWN pass
bounds every row of every conjunction of a box at once, a box is dropped
when each of its conjunctions has a closing row, and the others are halved.
This is the exact meaning of the one objective ``min_j max_i (a_ji . y - b_ji)
> 0``, without the relaxation of the ReLU layers that would compute it.

A counterexample is an input whose output meets every row of one
conjunction. It is searched first by projected gradient descent from random
starts, then among the corners and centres of the boxes the search splits
(with more rounds of gradient descent beside it, a tenth of its time), and
reported only when a sound upper bound of ``A y`` at it (not only the
float64 forward pass) meets ``b`` and it lies in the box, both as written
(the reader's constants rounded inward). A float32 network's counterexample
is a float32 input, the input the network is run on. A conjunction without
output constraints is met by any point of its box.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .._validate import as_real_scalar, check_int
from ..io import VnnlibSpec, load_vnnlib
from ..network._parse import (
    input_features,
    output_features,
    parse_sequential,
    reference_tensor,
)
from . import _bounds as bd
from ._problem import make_problem

__all__ = ["CheckResult", "check"]

_STATUSES = ("sat", "unsat", "unknown", "timeout")
_STARTS = 1024  # random starts per round of the falsification
_STEPS = 40  # its projected gradient steps
_FALSIFY = (0.25, 0.02)  # its rounds stop after 0.25 s or 2 % of the time limit, if less
_FALSIFY_SHARE = 0.1  # then one more round whenever branch and bound has had 10x its time


@dataclass(frozen=True)
class CheckResult:
    """The verdict on a property.

    Attributes
    ----------
    status : {"unsat", "sat", "unknown", "timeout"}
        ``"unsat"``: the property holds (no input of any box reaches an unsafe
        output), proven with the margins of :mod:`pwlmodels.verify`;
        ``"sat"``: ``counterexample`` reaches an unsafe output, checked in real
        arithmetic; ``"unknown"``: the search ended undecided (``max_boxes``
        reached, or boxes split to float64 resolution); ``"timeout"``:
        ``time_limit`` ran out first.
    counterexample : ndarray, shape (n_inputs,), or None
        With ``"sat"``: the input (float64, inside the box as written).
    output : ndarray, shape (n_outputs,), or None
        With ``"sat"``: the float64 forward pass of the net at it.
    case : int or None
        With ``"sat"``: the index of the spec's case whose box holds it.
    n_boxes : int
        Boxes bounded by the branch and bound.
    time : float
        Seconds.
    """

    status: str
    counterexample: np.ndarray | None
    output: np.ndarray | None
    case: int | None
    n_boxes: int
    time: float


@dataclass
class _Target:
    """One case: rows ``A`` (K, n_out) and ``b`` of all its conjunctions, ``group`` (K,)
    their conjunction, and the box in which a counterexample must lie."""

    chain: bd.Chain
    lower: np.ndarray
    upper: np.ndarray
    a: torch.Tensor
    b: torch.Tensor
    b_in: torch.Tensor  # b rounded inward: what a counterexample must meet
    member: torch.Tensor  # (K, G) float, member[k, g] = 1 when row k is in conjunction g
    inner: tuple | None  # (lo, up) tensors (1, n): the box as written; None when empty
    single: bool  # a float32 net: a counterexample must be a float32 input
    free: bool  # a conjunction without output rows: every input of the box is unsafe

    def unsafe(self, y: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Which outputs (P, n_out) meet every row of some conjunction (``A y <= b``)."""
        met = (y @ self.a.T <= b).to(torch.float64)  # (P, K)
        return (met @ self.member >= self.member.sum(0)).any(1)


def _targets(net: nn.Module, spec: VnnlibSpec, deadline: float | None) -> list | None:
    """One target per case of ``spec``; None when ``deadline`` passes first."""
    ops = parse_sequential(net)
    n_in, n_out = input_features(ops), output_features(ops)
    if n_in is None:
        raise ValueError("`net` must have a Linear layer (its inputs and outputs are checked)")
    if (n_in, n_out) != (spec.n_inputs, spec.n_outputs):
        raise ValueError(
            f"`spec` declares {spec.n_inputs} inputs and {spec.n_outputs} outputs; "
            f"`net` has {n_in} and {n_out}"
        )
    single = reference_tensor(net).dtype == torch.float32
    out = []
    for case in spec.cases:
        if deadline is not None and time.perf_counter() > deadline:
            return None
        prob = make_problem(net, case.lower, case.upper, objective=False, ops=ops)
        dev = prob.c.device
        sizes = [len(b) for _, b in case.unsafe]
        member = np.eye(len(sizes))[np.repeat(np.arange(len(sizes)), sizes)]
        inner = None  # a box empty inward (a point bound not a double) holds no witness
        if (case.inner_lower <= case.inner_upper).all():
            inner = (_tensor(case.inner_lower, dev)[None], _tensor(case.inner_upper, dev)[None])
        out.append(
            _Target(
                prob.chain,
                prob.lower,
                prob.upper,
                _tensor(np.concatenate([a for a, _ in case.unsafe]), dev),
                _tensor(np.concatenate([b for _, b in case.unsafe]), dev),
                _tensor(np.concatenate(case.inner_b), dev),
                _tensor(member, dev),
                inner,
                single,
                0 in sizes,
            )
        )
    return out


def _tensor(arr: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.tensor(arr, dtype=torch.float64, device=device)


def _sound(target: _Target, x: torch.Tensor) -> torch.Tensor:
    """Which points (P, n_in) are counterexamples in real arithmetic: inside the box as
    written, and a sound upper bound of ``A net(x)`` meets ``b`` there."""
    lo, up = target.inner
    inside = ((x >= lo) & (x <= up)).all(1)
    ub, _, _ = bd.rows_upper(target.chain, target.a, x, x)
    met = (ub <= target.b_in).to(torch.float64)
    return inside & (met @ target.member >= target.member.sum(0)).any(1)


def _first_sound(target: _Target, pts: torch.Tensor):
    """The first of ``pts`` that is a counterexample in real arithmetic, else None
    (a float32 net's points are first rounded to float32, the inputs it is run on)."""
    if target.inner is None or not len(pts):
        return None
    lo, up = target.inner
    pts = torch.maximum(torch.minimum(pts, up), lo)
    if target.single:  # rounded to nearest: a point that leaves the box is dropped below
        pts = pts.to(torch.float32).to(torch.float64)
    cand = pts[target.unsafe(bd.forward(target.chain, pts), target.b_in)]
    if not len(cand):
        return None
    ok = _sound(target, cand[:64])
    return cand[int(torch.argmax(ok.to(torch.int8)))] if ok.any() else None


def _anywhere(target: _Target):
    """A counterexample of a target with a conjunction that holds everywhere: any point of
    the box as written (None when there is none to give)."""
    if target.inner is None:
        return None
    lo, up = target.inner
    pts = torch.cat([lo / 2 + up / 2, lo, up])
    if target.single:
        pts = pts.to(torch.float32).to(torch.float64)
    inside = ((pts >= lo) & (pts <= up)).all(1)
    return pts[int(torch.argmax(inside.to(torch.int8)))] if inside.any() else None


def _falsify(target: _Target, rng: torch.Generator, until: float, deadline: float | None):
    """Projected gradient descent on the smallest excess of a conjunction, from random
    starts in the box, in rounds until a counterexample or the time ``until``, checked
    after each round (a round's result does not hang on the machine's speed), or the
    ``deadline`` of the whole decision, checked at every step."""
    if target.inner is None:
        return None
    lo, up = target.inner
    width = up - lo
    scale = target.b.abs() + 1.0
    mask = target.member.T[None] > 0  # (1, G, K)
    while True:
        u = torch.rand(_STARTS, lo.shape[1], generator=rng, dtype=torch.float64)
        x = torch.cat([(lo + up) / 2, lo + u.to(lo.device) * width])
        for step in range(_STEPS):
            x = x.detach().requires_grad_(True)
            excess = (bd.forward(target.chain, x) @ target.a.T - target.b) / scale  # (P, K)
            # a conjunction is met where its largest excess is <= 0: descend on the best one
            worst = torch.where(mask, excess[:, None, :], -torch.inf).amax(2)
            (grad,) = torch.autograd.grad(worst.amin(1).sum(), x)
            with torch.no_grad():
                x = x - (0.25 * (1 - step / _STEPS)) * width * grad.sign()
                x = torch.maximum(torch.minimum(x, up), lo)
            found = _first_sound(target, x.detach())
            if found is not None or (deadline is not None and time.perf_counter() > deadline):
                return found
        if time.perf_counter() > until:
            return None


def _bound(target: _Target, lo: torch.Tensor, up: torch.Tensor, open_: torch.Tensor) -> list:
    """Bound the boxes; drop those whose every conjunction is closed. Returns the open
    boxes, their open conjunctions, the coefficients to split them by, and a
    counterexample among their centres and corners (or None)."""
    # -ub: lower bounds of A y; a row above b on a box: real a.y > b there
    ub, coef, _ = bd.rows_upper(target.chain, -target.a, lo, up)
    open_ = open_ & ((-ub > target.b).to(torch.float64) @ target.member == 0)
    keep = open_.any(1)
    lo, up, open_, coef = lo[keep], up[keep], open_[keep], coef[keep]
    # candidates: each box's centre and, per row, the corner of its smallest linear bound
    corners = torch.where(coef > 0, up[:, None, :], lo[:, None, :]).reshape(-1, lo.shape[1])
    x = _first_sound(target, torch.cat([(lo + up) / 2, corners]))
    # split across the input that moves the open rows' linear bounds most
    rows_open = (open_.to(torch.float64) @ target.member.T) > 0
    a = (coef.abs() * rows_open[..., None]).sum(1)
    # the boxes whose open conjunction is nearest being met last: split first (depth first)
    excess = torch.where(target.member.T[None] > 0, (-ub[keep] - target.b)[:, None, :], -torch.inf)
    near = torch.where(open_, excess.amax(2), torch.inf).amin(1)
    order = torch.argsort(near, descending=True)
    return [lo[order], up[order], open_[order], a[order], x]


def _decide(target: _Target, deadline: float | None, max_boxes: int, rng, spent: float) -> tuple:
    """Branch and bound over the case's box: (status, counterexample or None, boxes).

    Depth first, on a stack of batches of open boxes: the pieces of the boxes just
    split are split next, which keeps the stack short (and no step copies it).
    Falsification goes on beside it, a round of :func:`_falsify` whenever the
    search has taken 1 / _FALSIFY_SHARE times the falsification's time so far
    (``spent`` seconds before): how many rounds a counterexample needs does not
    depend on the machine, how many fit in the first 0.25 s does.
    """
    dev = target.a.device
    lo = torch.as_tensor(target.lower, dtype=torch.float64, device=dev)[None]
    up = torch.as_tensor(target.upper, dtype=torch.float64, device=dev)[None]
    open_ = torch.ones(1, target.member.shape[1], dtype=torch.bool, device=dev)
    *batch, x = _bound(target, lo, up, open_)
    stack = [batch]
    n_boxes, step = 1, 0.0  # step: the last step's seconds, to stop before one overruns
    searched = 0.0
    while x is None:
        while stack and not stack[-1][0].shape[0]:
            stack.pop()
        if not stack:
            return "unsat", None, n_boxes
        if n_boxes >= max_boxes:
            return "unknown", None, n_boxes
        began = time.perf_counter()
        if deadline is not None and began + step > deadline:
            return "timeout", None, n_boxes
        batch = stack.pop()
        k = batch[0].shape[0] - bd.BATCH
        if k > 0:  # the first boxes go back
            stack.append([t[:k] for t in batch])
            batch = [t[k:] for t in batch]
        lo, up, open_, a = batch
        # few open boxes are halved several times in one step (across the parent's
        # coefficients): ACAS Xu 2_2 prop 1 takes 309 boxes so, and over 4,900 with one
        # halving per step, which only 2_7 prop 1 prefers (2,057 boxes against 36,000)
        p_lo, p_up, parent, stuck = bd.split(lo, up, a, bd.split_levels(len(lo), bd.BATCH))
        if stuck.any():  # a box at float64 resolution still open
            return "unknown", None, n_boxes
        n_boxes += p_lo.shape[0]
        *batch, x = _bound(target, p_lo, p_up, open_[parent])
        stack.append(batch)
        step = time.perf_counter() - began
        searched += step
        if x is None and searched * _FALSIFY_SHARE > spent:
            began = time.perf_counter()
            with torch.enable_grad():
                x = _falsify(target, rng, began, deadline)  # one round
            spent += time.perf_counter() - began
    return "sat", x, n_boxes


def check(
    net: nn.Module,
    spec: VnnlibSpec | str | os.PathLike,
    *,
    time_limit: float | None = None,
    max_boxes: int = 10_000_000,
    seed: int = 0,
) -> CheckResult:
    """Decide a VNN-LIB property: does any input of its boxes reach an unsafe output?

    Cheap falsification first (projected gradient descent from random
    starts), then input-domain branch and bound with CROWN bounds of every
    output constraint at once, which stops as soon as every box is closed
    (``"unsat"``) or a point of a box is a counterexample (``"sat"``).

    Parameters
    ----------
    net : torch.nn.Sequential
        As :func:`maximize` accepts (e.g. from :func:`pwlmodels.io.from_onnx`).
    spec : VnnlibSpec or path
        The property (:func:`pwlmodels.io.load_vnnlib`, or a path it reads).
    time_limit : float, optional
        Seconds; status ``"timeout"`` when they run out.
    max_boxes : int, default 10_000_000
        Boxes bounded before the status is ``"unknown"``.
    seed : int, default 0
        Of the falsification's random starts.

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> import pathlib, tempfile, torch
    >>> from pwlmodels.verify import check
    >>> net = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    >>> with torch.no_grad():  # |x|
    ...     _ = net[0].weight.copy_(torch.tensor([[1.0], [-1.0]])), net[0].bias.zero_()
    ...     _ = net[2].weight.fill_(1.0), net[2].bias.zero_()
    >>> prop = "(declare-const X_0 Real) (declare-const Y_0 Real) " + (
    ...     "(assert (>= X_0 -1)) (assert (<= X_0 1)) (assert (>= Y_0 {}))"
    ... )
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "p.vnnlib"
    ...     _ = path.write_text(prop.format(1.5))
    ...     holds = check(net, path)  # |x| >= 1.5 is out of reach
    ...     _ = path.write_text(prop.format(0.5))
    ...     broken = check(net, path)
    >>> holds.status, broken.status, abs(float(broken.counterexample[0])) >= 0.5
    ('unsat', 'sat', True)
    """
    t0 = time.perf_counter()
    if isinstance(spec, (str, os.PathLike)):
        spec = load_vnnlib(spec)
    if not isinstance(spec, VnnlibSpec):
        raise TypeError(f"`spec` must be a VnnlibSpec or a path; got {type(spec).__name__}")
    if time_limit is not None:
        time_limit = as_real_scalar(time_limit, "time_limit")
        if time_limit <= 0:
            raise ValueError(f"`time_limit` must be positive; got {time_limit!r}")
    max_boxes = check_int(max_boxes, "max_boxes")
    seed = check_int(seed, "seed", minimum=0, maximum=2**64 - 1)
    deadline = None if time_limit is None else t0 + time_limit
    targets = _targets(net, spec, deadline)
    if targets is None:
        return CheckResult("timeout", None, None, None, 0, time.perf_counter() - t0)
    rng = torch.Generator().manual_seed(seed)

    def result(status, x=None, case=None, n_boxes=0):
        out = None
        if x is not None:
            out = bd.forward(targets[case].chain, x[None])[0].cpu().numpy()
            x = x.cpu().numpy()
        return CheckResult(status, x, out, case, n_boxes, time.perf_counter() - t0)

    # a conjunction on inputs only: any point of its box (none: undecided, since the box
    # as written may hold a point that no double does)
    for i, target in enumerate(targets):
        if target.free and (x := _anywhere(target)) is not None:
            return result("sat", x, i)
    verdict = "unknown" if any(t.free for t in targets) else "unsat"
    todo = [(i, t) for i, t in enumerate(targets) if not t.free]
    spend = _FALSIFY[0] if time_limit is None else min(_FALSIFY[0], _FALSIFY[1] * time_limit)
    spent = []
    for i, target in todo:
        began = time.perf_counter()
        if deadline is not None and began > deadline:  # each case costs a step at least
            return result("timeout")
        x = _falsify(target, rng, began + spend / len(todo), deadline)
        if x is not None:
            return result("sat", x, i)
        spent.append(time.perf_counter() - began)
    total = 0
    with torch.no_grad():
        for (i, target), used in zip(todo, spent, strict=True):
            if deadline is not None and time.perf_counter() > deadline:
                return result("timeout", n_boxes=total)
            status, x, n_boxes = _decide(target, deadline, max_boxes - total, rng, used)
            total += n_boxes
            if status in ("sat", "timeout"):
                return result(status, x, i, total)
            if status == "unknown":
                verdict = "unknown"
    return result(verdict, n_boxes=total)
