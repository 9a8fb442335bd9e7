"""Safe LP relaxations of a network's chain: rows, weak-duality bounds, tightening.

Shared by the MILP (:mod:`._milp`), which tightens its big-M bounds with
:func:`lp_bounds`, and the phase search (:mod:`._phases`), whose node bounds
are :func:`_safe_mins` of :func:`_relaxation_rows`. Every bound is the
weak-duality bound of the returned dual vector, recomputed and widened for
rounding (Neumaier and Shcherbina 2004), so none rests on the LP solver's
tolerances.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import torch
from scipy import sparse
from scipy.optimize import linprog

from . import _bounds as bd

__all__: list[str] = []

# LP tightening uses the ideal formulation of the first layer's ReLUs (2^n_in rows per unit)
# when the network has at most this many inputs.
IDEAL_INPUTS = 4
# LP tightening solves this many LPs per HiGHS call (blocks of one LP).
LP_BATCH = 32


def no_binary(alpha, coef):
    """Whether a last-layer unit of slope ``alpha`` needs no binary in the MILP.

    ``coef`` is its output's coefficient in the (maximised) objective. A convex
    unit (alpha < 1) with coef <= 0, or a concave one with coef >= 0, is exact
    from its two lines alone: the optimum pushes it onto max(e, alpha e)
    (min(e, alpha e) if concave), so the MILP's optimum is unchanged.
    """
    return np.where(np.asarray(alpha) < 1, np.asarray(coef) <= 0, np.asarray(coef) >= 0)


def prob_value(chain, c, x) -> float:
    """c @ net(x) in float64 at one point."""
    xt = torch.as_tensor(np.asarray(x), dtype=torch.float64, device=c.device)[None]
    return float((bd.forward(chain, xt) @ c)[0])


def _relaxation_rows(chain, k_stop: int, bounds: list, post: list, lower, upper) -> tuple:
    """LP relaxation of layers before ``k_stop``: rows A v <= b over v = (x, a_1, ...)."""
    sizes = [chain.n_in] + [w.shape[0] for w in chain.weights[:k_stop]]
    offs = np.concatenate([[0], np.cumsum(sizes)])
    n = int(offs[-1])
    rows, rhs = [], []
    lb = np.concatenate([lower, *[p[0] for p in post[:k_stop]]])
    ub = np.concatenate([upper, *[p[1] for p in post[:k_stop]]])
    for k in range(k_stop):
        w = chain.weights[k].to("cpu").numpy()
        b = chain.biases[k].to("cpu").numpy()
        lo_t = torch.as_tensor(bounds[k][0])[None]
        up_t = torch.as_tensor(bounds[k][1])[None]
        sl, tl, su, tu = (t[0].numpy() for t in bd._relax(_cpu(chain.acts[k]), lo_t, up_t))
        lines = [(su, tu, 1.0), (sl, tl, -1.0)]  # a <= su z + tu ; a >= sl z + tl
        unit = chain.acts[k]
        if unit.kind == "leaky":  # the second line through the origin (hull of the unit)
            alpha = unit.alpha.to("cpu").numpy()
            other = np.where(sl == 1.0, alpha, 1.0)
            convex = alpha <= 1
            lines.append((np.where(convex, other, sl), np.where(convex, 0.0, tl), -1.0))
            other_u = np.where(su == 1.0, alpha, 1.0)
            lines.append((np.where(~convex, other_u, su), np.where(~convex, 0.0, tu), 1.0))
        for s, t, sign in lines:
            block = np.zeros((w.shape[0], n))
            block[:, offs[k] : offs[k + 1]] = -sign * s[:, None] * w
            block[np.arange(w.shape[0]), offs[k + 1] + np.arange(w.shape[0])] = sign
            rows.append(block)
            rhs.append(sign * (s * b + t))
    a_ub = np.concatenate(rows) if rows else np.zeros((0, n))
    b_ub = np.concatenate(rhs) if rhs else np.zeros(0)
    if k_stop >= 1 and chain.n_in <= IDEAL_INPUTS:
        a_ub, b_ub, lb, ub = _with_ideal_rows(chain, bounds[0], lower, upper, a_ub, b_ub, lb, ub)
    return a_ub, b_ub, lb, ub, offs


def _with_ideal_rows(chain, bounds0, lower, upper, a_ub, b_ub, lb, ub) -> tuple:
    """Add the ideal formulation of each unstable first-layer ReLU over the input box.

    Anderson, Huchette, Ma, Tjandraatmadja and Vielma (2020): with an
    indicator d in [0, 1] per unit, ``a <= sum_{i in I} w_i (x_i - L_i (1 -
    d)) + (b + sum_{i not in I} w_i U_i) d`` for every subset I of the
    inputs (L_i, U_i the ends of input i's range where w_i x_i is smallest
    and largest) describe, with ``a >= 0`` and ``a >= w x + b``, the convex
    hull of the unit's graph over the box: tighter than the triangle over
    its pre-activation bounds. 2^n_in rows per unit, hence only for few
    inputs. Columns for the d's are appended to v.
    """
    unit = chain.acts[0]
    if unit.kind != "leaky":
        return a_ub, b_ub, lb, ub
    w = chain.weights[0].to("cpu").numpy()
    b = chain.biases[0].to("cpu").numpy()
    alpha = unit.alpha.to("cpu").numpy()
    lo, up = bounds0
    units = np.flatnonzero((alpha == 0) & (lo < 0) & (up > 0))
    if not units.size:
        return a_ub, b_ub, lb, ub
    n_in, n = w.shape[1], a_ub.shape[1]
    subsets = np.array(list(itertools.product([False, True], repeat=n_in)))  # (2^n, n_in)
    rows, rhs = [], []
    for i, j in enumerate(units):
        low = np.where(w[j] >= 0, lower, upper)  # where w_j x_i is smallest
        high = np.where(w[j] >= 0, upper, lower)
        block = np.zeros((subsets.shape[0], n + units.size))
        block[:, n_in + j] = 1.0  # a_j
        block[:, :n_in] = np.where(subsets, -w[j], 0.0)
        fixed = np.where(subsets, w[j] * low, 0.0).sum(axis=1)
        block[:, n + i] = -(fixed + b[j] + np.where(subsets, 0.0, w[j] * high).sum(axis=1))
        rows.append(block)
        rhs.append(-fixed)
    a_ub = np.vstack([np.hstack([a_ub, np.zeros((a_ub.shape[0], units.size))]), *rows])
    return (
        a_ub,
        np.concatenate([b_ub, *rhs]),
        np.concatenate([lb, np.zeros(units.size)]),
        np.concatenate([ub, np.ones(units.size)]),
    )


def _cpu(unit):
    return replace(unit, alpha=unit.alpha.to("cpu"))


def _safe_mins(costs, a_ub, b_ub, lb, ub, gamma, *, primal: bool = False, elastic: bool = False):
    """Rigorous-in-spirit lower bounds of min cost @ v over A v <= b, lb <= v <= ub, per cost row.

    The LPs go to HiGHS LP_BATCH at a time, as the blocks of one block-diagonal
    LP (they share the constraints; one call instead of many saves scipy's
    per-call overhead). Each block's dual vector then gives its bound by weak
    duality (Neumaier and Shcherbina 2004), whatever the solver's accuracy.
    With ``primal``, also the LPs' solutions (rows of NaN where none). With
    ``elastic``, each row gets a slack of cost ``pen`` (one LP per cost row):
    the LP is then feasible whatever the rows, its multipliers lie in [-pen,
    0], and an empty set of rows gets a bound near ``pen`` times its
    infeasibility instead of no bound.
    """

    out = np.full(costs.shape[0], -np.inf)
    xs = np.full(costs.shape, np.nan)
    a_sp = sparse.csr_array(a_ub)
    mag = np.maximum(np.abs(lb), np.abs(ub))
    # Underflow: up to 2**-1074 per product and sum, the errors in y @ A scaled by |v|.
    underflow = 2.0**-1073 * (a_ub.shape[0] + a_ub.shape[1] + (a_ub.shape[0] + 1) * mag.sum())
    m, n = a_ub.shape
    step = 1 if elastic else LP_BATCH
    for s in range(0, costs.shape[0], step):
        c = costs[s : s + step]
        k = c.shape[0]
        pen = 1e7 * (1.0 + np.abs(c).sum())
        if elastic:
            args = {
                "c": np.concatenate([c.ravel(), np.full(m, pen)]),
                "A_ub": sparse.hstack([a_sp, -sparse.eye_array(m)]),
                "bounds": np.concatenate([np.stack([lb, ub], 1), [(0.0, np.inf)] * m]),
            }
        else:
            args = {
                "c": c.ravel(),
                "A_ub": _repeat_block(a_sp, k),
                "bounds": np.tile(np.stack([lb, ub], 1), (k, 1)),
            }
        # presolve off is 25% faster on these block LPs; on badly scaled ones HiGHS can end
        # with an unknown model status, and presolve on then usually succeeds
        for presolve in (False, True):
            res = linprog(
                **args, b_ub=np.tile(b_ub, k), method="highs", options={"presolve": presolve}
            )
            if res.status == 0 and res.ineqlin is not None:
                break
        else:
            continue  # the bounds stay as they were
        y = np.minimum(res.ineqlin.marginals.reshape(k, -1), 0.0)  # valid for A v <= b
        if elastic:
            y = np.maximum(y, -pen)
        r = c - y @ a_ub
        val = y @ b_ub + np.minimum(r * lb, r * ub).sum(axis=1)
        mass = np.abs(y) @ np.abs(b_ub) + (np.abs(c) + np.abs(y) @ np.abs(a_ub)) @ mag
        out[s : s + k] = val - (gamma * mass + underflow)
        xs[s : s + k] = res.x[: k * n].reshape(k, -1)
    return (out, xs) if primal else out


def _repeat_block(a: sparse.csr_array, k: int) -> sparse.csr_array:
    """The block-diagonal matrix of k copies of a (what ``sparse.block_diag`` builds, faster)."""
    m, n = a.shape
    nnz = a.indptr[-1]
    indptr = np.concatenate([(a.indptr[:-1] + i * nnz) for i in range(k)] + [[k * nnz]])
    indices = (a.indices[None, :] + n * np.arange(k)[:, None]).ravel()
    return sparse.csr_array((np.tile(a.data, k), indices, indptr), shape=(k * m, k * n))


def lp_bounds(chain, lower: np.ndarray, upper: np.ndarray, bounds: list, coef=None) -> list:
    """Intermediate bounds tightened by LP over the relaxation, made safe by weak duality.

    ``coef``: the objective's weights on the last activation layer's outputs.
    If given, that layer's units that the MILP encodes without a binary
    (:func:`no_binary`) keep their bounds: tighter ones would not change it.
    """
    out = [(bounds[0][0].copy(), bounds[0][1].copy())]
    for k in range(1, len(chain.acts)):
        post = [
            tuple(t.numpy() for t in bd.act_interval(_cpu(u), *map(_t, out[i])))
            for i, u in enumerate(chain.acts[:k])
        ]
        a_ub, b_ub, lb, ub, offs = _relaxation_rows(chain, k, out, post, lower, upper)
        w = chain.weights[k].to("cpu").numpy()
        b = chain.biases[k].to("cpu").numpy()
        lo, up = bounds[k][0].copy(), bounds[k][1].copy()
        gamma = chain.gamma + 4 * 2.0**-53 * a_ub.shape[0]
        # A unit with no kink inside its bounds is encoded exactly whatever its bounds: no LPs.
        kinked = bd._kinked(_cpu(chain.acts[k]), _t(lo)[None], _t(up)[None])[0].numpy()
        if coef is not None and k == len(chain.acts) - 1:
            unit = _cpu(chain.acts[k])
            kinked &= ~(no_binary(unit.alpha.numpy(), coef) if unit.kind == "leaky" else coef == 0)
        units = np.flatnonzero(kinked)
        costs = np.zeros((2 * units.size, a_ub.shape[1]))
        costs[: units.size, offs[k] : offs[k + 1]] = w[units]  # min w_j . a: lower bounds
        costs[units.size :, offs[k] : offs[k + 1]] = -w[units]  # min -w_j . a: upper bounds
        m = _safe_mins(costs, a_ub, b_ub, lb, ub, gamma)
        pad = 4 * 2.0**-53 * np.abs(b[units])
        lo[units] = np.maximum(lo[units], m[: units.size] + b[units] - pad)
        up[units] = np.minimum(up[units], -m[units.size :] + b[units] + pad)
        out.append((lo, np.maximum(up, lo)))
    return out


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(a, dtype=torch.float64)
