"""Big-M mixed-integer encoding of a piecewise-linear network (private to verify.py).

One binary per unstable unit and none for stable units (Tjeng, Xiao and
Tedrake 2019). LeakyReLU / PReLU units with negative-side slope below 1 are
convex (``a >= z``, ``a >= alpha z`` and two big-M upper constraints); above
1 they are concave and mirrored. ``Hardtanh(lo, hi) = lo + relu(z - lo) -
relu(z - hi)``: one binary per kink inside the unit's bounds.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import time
import warnings
from dataclasses import dataclass, replace

import numpy as np
import torch
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from . import _bounds as bd

__all__: list[str] = []

# HiGHS runs with presolve off and its default feasibility tolerances (primal 1e-7, integrality
# 1e-6). Its answers are candidates, never certificates: tolerances of 1e-9 gave "optimal" dual
# bounds below the true maximum by up to 0.09 on 6 of 60 default-initialised networks, and even
# the defaults one 8e-7 below on a 3-16-8-1 net with first-layer weights near 1e-3 over
# [-60, 60]^3. So the model is solved on the unit box (_unit_box) and the bound that is
# reported comes from branch and bound, seeded with HiGHS's witness (maximize).
# Points of the box sampled before the MILP: the best value, less CUTOFF_SLACK (1 + |value|),
# is HiGHS's cutoff (objective_bound), so that it need not find a good incumbent by itself; its
# RINS and RENS sub-MIPs then only cost time (2-16-16-1: 0.079 -> 0.050 s, same nodes).
SAMPLES = 4096
CUTOFF_SLACK = 1e-6
# LP tightening uses the ideal formulation of the first layer's ReLUs (2^n_in rows per unit)
# when the network has at most this many inputs.
IDEAL_INPUTS = 4
# LP tightening solves this many LPs per HiGHS call (blocks of one LP).
LP_BATCH = 32
# Boxes of input-space branch and bound that confirm the MILP's answer before the check
# turns to branching on activation phases (_phases).
CONFIRM_BOXES = 5000


def bigm_widen(lo: np.ndarray, up: np.ndarray) -> tuple:
    """Big-M bounds widened by max(1e-9, 1e-7 (|l| + |u|))."""
    pad = np.maximum(1e-9, 1e-7 * (np.abs(lo) + np.abs(up)))
    return lo - pad, up + pad


@dataclass
class _Model:
    n_vars: int
    lb: list
    ub: list
    integer: list
    rows: list  # (cols, vals, lo, hi)

    def new(self, lo: float, hi: float, integer: bool = False) -> int:
        self.lb.append(lo)
        self.ub.append(hi)
        self.integer.append(1 if integer else 0)
        self.n_vars += 1
        return self.n_vars - 1

    def add(self, cols, vals, lo: float, hi: float) -> None:
        self.rows.append((np.asarray(cols, dtype=np.int64), np.asarray(vals, float), lo, hi))


def no_binary(alpha, coef):
    """Whether a last-layer unit of slope ``alpha`` needs no binary in the MILP.

    ``coef`` is its output's coefficient in the (maximised) objective. A convex
    unit (alpha < 1) with coef <= 0, or a concave one with coef >= 0, is exact
    from its two lines alone: the optimum pushes it onto max(e, alpha e)
    (min(e, alpha e) if concave), so the MILP's optimum is unchanged.
    """
    return np.where(np.asarray(alpha) < 1, np.asarray(coef) <= 0, np.asarray(coef) >= 0)


def _leaky_unit(m, cols, w, b, l_, u_, alpha, y, coef=None) -> int:
    """Encode y = max/min(e, alpha e), e = w . vars[cols] + b in [l_, u_]; binaries added.

    ``coef``: y's coefficient in the objective when y feeds nothing else (None
    otherwise); see :func:`no_binary`.
    """
    inf = np.inf
    if l_ >= 0 or alpha == 1.0:  # y = e
        m.add([y, *cols], [1.0, *(-w)], b, b)
        return 0
    if u_ <= 0:  # y = alpha e
        m.add([y, *cols], [1.0, *(-alpha * w)], alpha * b, alpha * b)
        return 0
    convex = alpha < 1
    for s in (1.0, alpha):  # y above both lines s e (below if concave)
        m.add([y, *cols], [1.0, *(-s * w)], *((s * b, inf) if convex else (-inf, s * b)))
    if coef is not None and no_binary(alpha, coef):
        return 0
    lm, um = bigm_widen(np.float64(l_), np.float64(u_))
    d = m.new(0.0, 1.0, integer=True)
    c_all = [y, *cols, d]
    if convex:
        m.add(c_all, [1.0, *(-alpha * w), -(1 - alpha) * um], -inf, alpha * b)
        m.add(c_all, [1.0, *(-w), -(1 - alpha) * lm], -inf, b - (1 - alpha) * lm)
    else:  # mirrored
        m.add(c_all, [1.0, *(-alpha * w), (alpha - 1) * um], alpha * b, inf)
        m.add(c_all, [1.0, *(-w), (alpha - 1) * lm], b + (alpha - 1) * lm, inf)
    return 1


def solve(
    weights: list,
    biases: list,
    acts: list,
    bounds: list,
    post: list,
    xl: np.ndarray,
    xu: np.ndarray,
    c: np.ndarray,
    *,
    time_limit: float | None,
    rtol: float,
    atol: float,
    cutoff: float = -np.inf,
) -> dict:
    """Maximise c @ net(x) over the box; numpy float64 inputs (one box).

    ``bounds[k]`` = (lo, up) of activation k's pre-activations, ``post[k]`` of
    its outputs (both sound). ``cutoff``, a value below the maximum, lets
    HiGHS prune every node whose LP bound is below it (``objective_bound``);
    if that leaves no solution the model is solved again without it. Returns
    the solver's result and model sizes.
    """
    m = _Model(0, [], [], [], [])
    prev = [m.new(float(a), float(b)) for a, b in zip(xl, xu, strict=True)]
    n_binary = 0
    obj_w = c @ weights[-1]
    for k, unit in enumerate(acts):
        w_k, b_k = weights[k], biases[k]
        lo_k, up_k = bounds[k]
        p_lo, p_up = bigm_widen(*post[k])
        cur = []
        for j in range(w_k.shape[0]):
            y = m.new(float(p_lo[j]), float(p_up[j]))
            cur.append(y)
            w, b, l_, u_ = w_k[j], float(b_k[j]), float(lo_k[j]), float(up_k[j])
            coef = float(obj_w[j]) if k == len(acts) - 1 else None
            if unit[0] == "leaky":
                n_binary += _leaky_unit(m, prev, w, b, l_, u_, float(unit[1][j]), y, coef)
            else:
                n_binary += _hardtanh_unit(m, prev, w, b, l_, u_, unit[1], unit[2], y, coef)
        prev = cur
    obj_b = float(c @ biases[-1])
    cost = np.zeros(m.n_vars)
    cost[prev] = -obj_w
    empty = np.zeros(0)
    data, ri, ci, blo, bhi = [empty], [empty.astype(int)], [empty.astype(int)], [], []
    for i, (cols, vals, lo, hi) in enumerate(m.rows):
        ci.append(cols)
        data.append(vals)
        ri.append(np.full(cols.size, i))
        blo.append(lo)
        bhi.append(hi)
    a_mat = sparse.csr_array(
        (np.concatenate(data), (np.concatenate(ri), np.concatenate(ci))),
        shape=(len(m.rows), m.n_vars),
    )
    options = {
        "disp": False,
        "presolve": False,
        "mip_rel_gap": max(rtol, 1e-12),
        "time_limit": float(time_limit) if time_limit is not None else 1e30,
        "mip_abs_gap": atol / 10,
    }
    rows = LinearConstraint(a_mat, np.asarray(blo), np.asarray(bhi))
    cut = {}
    if np.isfinite(cutoff):  # with a cutoff, HiGHS's sub-MIP heuristics cost more than they find
        cut = {
            "objective_bound": obj_b - cutoff,
            "mip_heuristic_run_rins": False,
            "mip_heuristic_run_rens": False,
        }
    for _ in range(2):
        with warnings.catch_warnings():
            # scipy names options it does not list and passes them to HiGHS verbatim
            warnings.filterwarnings(
                "ignore", message="Unrecognized options", category=RuntimeWarning
            )
            with _quiet_stdout():
                res = milp(
                    cost,
                    integrality=np.asarray(m.integer),
                    bounds=Bounds(np.asarray(m.lb), np.asarray(m.ub)),
                    constraints=rows,
                    options=options | cut,
                )
        if res.x is not None or res.status == 1 or not cut:
            break
        cut = {}  # nothing beat the cutoff (rounding): solve without it

    def polish() -> np.ndarray | None:
        """Inputs of the LP with the binaries rounded and fixed (None if it fails)."""
        if res.x is None or not n_binary:
            return None
        lb, ub = np.asarray(m.lb, dtype=float), np.asarray(m.ub, dtype=float)
        ints = np.asarray(m.integer, dtype=bool)
        lb[ints] = ub[ints] = np.round(res.x[ints])
        lp = milp(
            cost,
            bounds=Bounds(lb, ub),
            constraints=rows,
            options={"disp": False, "time_limit": options["time_limit"]},
        )
        return None if lp.x is None else lp.x[: len(xl)]

    return {
        "res": res,
        "polish": polish,
        "obj_b": obj_b,
        "n_in": len(xl),
        "n_binary": int(n_binary),
    }


def _hardtanh_unit(m, cols, w, b, l_, u_, lo, hi, y, coef=None) -> int:
    if u_ <= lo:
        m.add([y], [1.0], lo, lo)
        return 0
    if l_ >= hi:
        m.add([y], [1.0], hi, hi)
        return 0
    if l_ >= lo and u_ <= hi:
        m.add([y, *cols], [1.0, *(-w)], b, b)
        return 0
    # y = lo + p - q, p = relu(z - lo), q = relu(z - hi)
    pl, pu = bigm_widen(np.float64(max(l_ - lo, 0.0)), np.float64(max(u_ - lo, 0.0)))
    p = m.new(float(max(pl, 0.0)), float(pu))
    nb = _leaky_unit(m, cols, w, b - lo, l_ - lo, u_ - lo, 0.0, p, coef)
    if u_ > hi:
        _, qu = bigm_widen(np.float64(0.0), np.float64(u_ - hi))
        q = m.new(0.0, float(qu))
        nb += _leaky_unit(
            m, cols, w, b - hi, l_ - hi, u_ - hi, 0.0, q, None if coef is None else -coef
        )
        m.add([y, p, q], [1.0, -1.0, 1.0], lo, lo)
    else:
        m.add([y, p], [1.0, -1.0], lo, lo)
    return nb


def _unit_box(chain: bd.Chain, lower: np.ndarray, upper: np.ndarray) -> tuple:
    """The chain on the unit box: x = mid + rad * s, s in [-1, 1]^n (its first layer rescaled).

    HiGHS's tolerances are absolute: inputs ranging over [-60, 60] with
    first-layer weights near 1e-3 gave dual bounds 8e-7 below the true
    maximum. On the unit box its answers are far more accurate; they remain
    only candidates, confirmed by :func:`pwlmodels._bounds.branch_and_bound`.
    Returns the rescaled chain and the map from s back to x.
    """
    dev = chain.weights[0].device
    mid = torch.as_tensor((lower + upper) / 2, dtype=torch.float64, device=dev)
    rad = torch.as_tensor((upper - lower) / 2, dtype=torch.float64, device=dev)
    w0, b0 = chain.weights[0], chain.biases[0]
    scaled = bd.Chain(
        [w0 * rad, *chain.weights[1:]], [b0 + w0 @ mid, *chain.biases[1:]], chain.acts, chain.gamma
    )

    def to_x(s: np.ndarray) -> np.ndarray:
        x = mid.to("cpu").numpy() + rad.to("cpu").numpy() * np.asarray(s, dtype=np.float64)
        return np.clip(x, lower, upper)

    return scaled, to_x


@contextlib.contextmanager
def _quiet_stdout():
    """File descriptor 1 sent to /dev/null while HiGHS runs.

    HiGHS 1.12 prints a stray debugging line
    (``HighsMipSolverData::transformNewIntegerFeasibleSolution ...``) to the C
    stdout even with output off (ERGO-Code/HiGHS#2783). Output that other
    threads write to fd 1 during a solve is lost too.
    """
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no fd 1 (some embedded interpreters): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            try:
                yield
            finally:
                os.dup2(saved, 1)
    finally:
        os.close(saved)


def maximize(
    chain, c, lower, upper, tighten, atol, rtol, time_limit, max_boxes, threshold=None
) -> dict:
    """Maximise ``c @ net(x)`` over the box: HiGHS proposes, branch and bound confirms.

    The big-M MILP (on the unit box, :func:`_unit_box`) gives a witness and a
    dual bound. Neither is trusted: the dual bound is kept as
    ``solver_bound``, and the reported bound is the one branch and bound
    (``pwlmodels._bounds``, float64 with rounding margins) proves, starting
    from the MILP's witness as its incumbent. Where it cannot close the gap
    within ``max_boxes`` or the time left, the status says so
    (``"node_limit"`` / ``"time_limit"``) and the bound is its sound one.
    """
    t0 = time.perf_counter()
    dev = c.device
    lower = np.asarray(lower, dtype=np.float64)
    upper = np.asarray(upper, dtype=np.float64)
    n_in = lower.size
    unit, to_x = _unit_box(chain, lower, upper)
    lo = -torch.ones(1, n_in, dtype=torch.float64, device=dev)
    up = torch.ones(1, n_in, dtype=torch.float64, device=dev)
    ones = np.ones(n_in)
    _, a, bounds = bd.objective_upper(unit, c, lo, up)
    if tighten == "interval":
        bounds = bd.layer_bounds(unit, lo, up, crown=False)
    elif tighten == "lp" and bounds:
        cpu = [(b_lo[0].to("cpu").numpy(), b_up[0].to("cpu").numpy()) for b_lo, b_up in bounds]
        coef = (c @ unit.weights[-1]).to("cpu").numpy()
        tight = lp_bounds(unit, -ones, ones, cpu, coef)
        bounds = [(_t(a)[None].to(dev), _t(b)[None].to(dev)) for a, b in tight]
    post = [bd.act_interval(u, *bounds[k]) for k, u in enumerate(unit.acts)]

    def np_(t):
        return t[0].to("cpu").numpy()

    acts = [
        ("leaky", np_(u.alpha[None])) if u.kind == "leaky" else ("hardtanh", u.lo, u.hi)
        for u in unit.acts
    ]
    cvec = c.to("cpu").numpy()
    gen = torch.Generator(device=dev).manual_seed(0)
    rand = lo + (up - lo) * torch.rand(
        SAMPLES, n_in, generator=gen, dtype=torch.float64, device=dev
    )
    samples = torch.cat([(lo + up) / 2, bd.vertex(a[0], lo[0], up[0])[None], rand])
    sampled = bd.forward(unit, samples) @ c
    best = float(sampled.max())
    build = time.perf_counter() - t0
    out = solve(
        [w.to("cpu").numpy() for w in unit.weights],
        [b.to("cpu").numpy() for b in unit.biases],
        acts,
        [(np_(lo_), np_(up_)) for lo_, up_ in bounds],
        [(np_(lo_), np_(up_)) for lo_, up_ in post],
        -ones,
        ones,
        cvec,
        time_limit=time_limit,
        rtol=rtol,
        atol=atol,
        cutoff=best - CUTOFF_SLACK * (1.0 + abs(best)),
    )
    res = out["res"]
    dual = getattr(res, "mip_dual_bound", None)
    claimed = -float(dual) + out["obj_b"] if dual is not None and np.isfinite(dual) else None
    cands = [to_x(samples[int(torch.argmax(sampled))].to("cpu").numpy())]
    solver_value = None
    if res.x is not None:
        cands.append(to_x(res.x[:n_in]))
        solver_value = -float(res.fun) + out["obj_b"]
        fixed = out["polish"]()
        if fixed is not None:
            cands.append(to_x(fixed))
    check = _confirm(
        chain,
        c,
        lower,
        upper,
        tighten,
        atol,
        rtol,
        threshold,
        np.stack(cands),
        None if time_limit is None else time_limit - (time.perf_counter() - t0),
        max_boxes,
    )
    status = check["status"]
    if res.status == 1 and status != "optimal":
        status = "time_limit"
    return {
        "x": check["x"],
        "bound": check["bound"],
        "status": status,
        "n_nodes": int(getattr(res, "mip_node_count", 0) or 0) + check["n_nodes"],
        "n_binary": out["n_binary"],
        "n_stable": sum(int((~bd._kinked(u, *bounds[k])).sum()) for k, u in enumerate(unit.acts)),
        "build_time": build,
        "solve_time": time.perf_counter() - t0 - build,
        "solver_value": solver_value,
        "solver_bound": claimed,
    }


def _confirm(chain, c, lower, upper, tighten, atol, rtol, threshold, start, time_left, max_boxes):
    """A sound bound near the MILP's candidates: input splits, then phase splits if needed.

    Branch and bound over the input box (CROWN bounds) gets up to
    CONFIRM_BOXES boxes; where it does not close the gap (flat maxima, many
    inputs), branch and bound over activation phases with safe LP bounds
    (:mod:`pwlmodels._phases`) goes on from its best point, with up to
    ``max_boxes // 100`` nodes. The smaller of the two bounds is returned.
    """
    from . import _phases

    t0 = time.perf_counter()

    def left():
        return None if time_left is None else max(time_left - (time.perf_counter() - t0), 1e-3)

    boxes = min(max_boxes, CONFIRM_BOXES)
    first = bd.branch_and_bound(
        chain, c, lower, upper, atol, rtol, left(), boxes, threshold, start=start
    )
    decided = threshold is not None and (
        first["bound"] <= threshold or prob_value(chain, c, first["x"]) > threshold
    )
    if first["status"] == "optimal" or decided or first["status"] == "time_limit":
        return first
    dev = c.device
    lo = torch.as_tensor(lower, dtype=torch.float64, device=dev)[None]
    up = torch.as_tensor(upper, dtype=torch.float64, device=dev)[None]
    bounds = [
        (a[0].to("cpu").numpy(), b[0].to("cpu").numpy()) for a, b in bd.layer_bounds(chain, lo, up)
    ]
    if tighten == "lp" and bounds:
        bounds = lp_bounds(chain, lower, upper, bounds, (c @ chain.weights[-1]).to("cpu").numpy())
    second = _phases.maximize(
        chain,
        c,
        lower,
        upper,
        bounds,
        np.stack([first["x"], *start]),
        atol,
        rtol,
        threshold,
        left(),
        max(max_boxes // 100, 1),
    )
    out = dict(second)
    out["bound"] = min(first["bound"], second["bound"])
    out["n_nodes"] = first["n_nodes"] + second["n_nodes"]
    out["solve_time"] = first["solve_time"] + second["solve_time"]
    tol = atol + rtol * abs(prob_value(chain, c, out["x"]))
    if out["bound"] - prob_value(chain, c, out["x"]) <= tol:
        out["status"] = "optimal"
    return out


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
    from scipy.optimize import linprog

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
