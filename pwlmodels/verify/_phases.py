"""Branch and bound over activation phases, each node's LP bound made safe (private).

Where halving the input box cannot close the gap (flat maxima of saturated
Hardtanh units, many inputs), the MILP's claim is checked by splitting the
pre-activation range of one unit at a kink instead: each node is the LP
relaxation of :func:`pwlmodels.verify._lp._relaxation_rows` under the node's
pre-activation bounds, plus rows keeping every pre-activation inside them; a
node whose units all lie on one side of their kinks is an exact LP over one
activation region, so the search is finite. Each node's bound is the
weak-duality bound of HiGHS's dual vector (Neumaier and Shcherbina 2004,
:func:`pwlmodels.verify._lp._safe_mins`): sound whatever the LP solver's accuracy,
with the first-order rounding margins of :mod:`pwlmodels.verify._bounds`. The
branching unit is the one whose LP point is furthest from its activation
(most infeasible, as MILP solvers branch), split at its kink nearest to the
LP's pre-activation value.
"""

from __future__ import annotations

import heapq
import itertools
import time

import numpy as np
import torch

from . import _bounds as bd
from ._lp import _cpu, _relaxation_rows, _safe_mins, _t

__all__: list[str] = []

_U = 2.0**-53


def _kinks(unit) -> tuple:
    return (unit.lo, unit.hi) if unit.kind == "hardtanh" else (0.0,)


def _node_bound(chain, cw: np.ndarray, cb: float, bounds: list, lower, upper) -> tuple:
    """Safe upper bound of the objective over the node's relaxation, and the LP's point v."""
    post = [
        tuple(t.numpy() for t in bd.act_interval(_cpu(u), _t(lo), _t(up)))
        for u, (lo, up) in zip(chain.acts, bounds, strict=True)
    ]
    n_layers = len(chain.acts)
    a_ub, b_ub, lb, ub, offs = _relaxation_rows(chain, n_layers, bounds, post, lower, upper)
    rows, rhs = [a_ub], [b_ub]
    for k, (lo, up) in enumerate(bounds):  # lo <= W_k a_{k-1} + b_k <= up
        w = chain.weights[k].to("cpu").numpy()
        b = chain.biases[k].to("cpu").numpy()
        block = np.zeros((w.shape[0], a_ub.shape[1]))
        block[:, offs[k] : offs[k + 1]] = w
        rows += [block, -block]
        rhs += [up - b, b - lo]
    a_ub, b_ub = np.concatenate(rows), np.concatenate(rhs)
    cost = np.zeros(a_ub.shape[1])
    cost[offs[n_layers] : offs[n_layers + 1]] = -cw
    gamma = chain.gamma + 4 * _U * a_ub.shape[0]
    low, v = _safe_mins(cost[None], a_ub, b_ub, lb, ub, gamma, primal=True, elastic=True)
    bound = -float(low[0]) + cb + 4 * _U * abs(cb) + 1e-290
    return bound, v[0], offs


def _propagate(chain, bounds: list, k: int) -> bool:
    """Tighten the bounds of layers after k by interval arithmetic from layer k's, in place.

    Both the old bounds and the propagated ones hold on the node, so their
    intersection does; False when it is empty (no point of the box is in the node).
    """
    for m in range(k + 1, len(bounds)):
        lo, up = bounds[m - 1]
        a_lo, a_up = bd.act_interval(_cpu(chain.acts[m - 1]), _t(lo)[None], _t(up)[None])
        i_lo, i_up = bd.interval(_cpu_chain(chain), m, a_lo, a_up)
        new_lo = np.maximum(bounds[m][0], i_lo[0].numpy())
        new_up = np.minimum(bounds[m][1], i_up[0].numpy())
        if (new_lo > new_up).any():
            return False
        bounds[m] = (new_lo, new_up)
    return True


def _cpu_chain(chain):
    """The chain itself when on the CPU, else a CPU copy (interval arithmetic runs there)."""
    if chain.weights[0].device.type == "cpu":
        return chain
    return bd.Chain(
        [w.to("cpu") for w in chain.weights],
        [b.to("cpu") for b in chain.biases],
        [_cpu(u) for u in chain.acts],
        chain.gamma,
    )


def _branch(chain, v: np.ndarray, offs, bounds: list) -> tuple | None:
    """(layer, unit, kink) of the most infeasible unit at the LP point v, or None."""
    best, pick = 0.0, None
    for k, unit in enumerate(chain.acts):
        lo, up = bounds[k]
        w = chain.weights[k].to("cpu").numpy()
        b = chain.biases[k].to("cpu").numpy()
        z = w @ v[offs[k] : offs[k + 1]] + b
        a = v[offs[k + 1] : offs[k + 2]]
        exact = bd.apply_unit(_cpu(unit), _t(z)).numpy()
        gap = np.abs(a - exact)
        for kink in _kinks(unit):
            inside = (lo < kink) & (up > kink)
            if not inside.any():
                continue
            score = np.where(inside, gap, -1.0)
            j = int(np.argmax(score))
            if score[j] > best:
                best, pick = float(score[j]), (k, j, kink)
    return pick


def maximize(chain, c, lower, upper, bounds, start, atol, rtol, threshold, time_limit, max_nodes):
    """Maximise ``c @ net(x)`` by branching on phases; ``bounds`` sound at the root.

    ``start``: candidate points, the best of which is the first incumbent.
    Returns a dict as :func:`pwlmodels.verify._bounds.branch_and_bound` does.
    """
    t0 = time.perf_counter()
    cvec = c.to("cpu").numpy()
    cw = cvec @ chain.weights[-1].to("cpu").numpy()
    cb = float(cvec @ chain.biases[-1].to("cpu").numpy())
    n_in = chain.n_in
    dev = c.device

    def value(points: np.ndarray) -> tuple:
        pts = torch.as_tensor(np.clip(points, lower, upper), dtype=torch.float64, device=dev)
        vals = bd.forward(chain, pts) @ c
        i = int(torch.argmax(vals))
        return float(vals[i]), pts[i].to("cpu").numpy()

    best, best_x = value(np.asarray(start).reshape(-1, n_in))
    root = [(np.array(lo, dtype=float), np.array(up, dtype=float)) for lo, up in bounds]
    bound, v, offs = _node_bound(chain, cw, cb, root, lower, upper)
    count = itertools.count()
    heap = [(-bound, next(count), root, v)]
    closed, n_nodes, status = -np.inf, 1, "optimal"
    while heap:
        tol = atol + rtol * abs(best)
        target = best + tol if threshold is None else min(best + tol, threshold)
        if -heap[0][0] <= target or (threshold is not None and best > threshold):
            break
        if n_nodes >= max_nodes:
            status = "node_limit"
            break
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            status = "time_limit"
            break
        neg, _, node, v = heapq.heappop(heap)
        if np.isnan(v).any():  # the LP failed: the node stays open with its parent's bound
            closed = max(closed, -neg)
            status = "precision_limit"
            continue
        val, x = value(v[None, :n_in])
        if val > best:
            best, best_x = val, x
        pick = _branch(chain, v, offs, node)
        if pick is None:  # every unit on one side of its kinks: the LP is exact
            closed = max(closed, -neg)
            continue
        k, j, kink = pick
        for side in (0, 1):
            child = [(lo.copy(), up.copy()) for lo, up in node]
            child[k][1 - side][j] = kink  # (lo, kink) then (kink, up)
            if not _propagate(chain, child, k):  # the split leaves no point: nothing to bound
                continue
            b_child, v_child, _ = _node_bound(chain, cw, cb, child, lower, upper)
            n_nodes += 1
            heapq.heappush(heap, (-min(b_child, -neg), next(count), child, v_child))
    top = max([closed, best] + [-h[0] for h in heap])
    return {
        "x": best_x,
        "bound": top,
        "status": status,
        "n_nodes": n_nodes,
        "solve_time": time.perf_counter() - t0,
    }
