"""Big-M mixed-integer encoding of a piecewise-linear network (private to verify.py).

One binary per unstable unit and none for stable units (Tjeng, Xiao and
Tedrake 2019). LeakyReLU / PReLU units with negative-side slope below 1 are
convex (``a >= z``, ``a >= alpha z`` and two big-M upper constraints); above
1 they are concave and mirrored. ``Hardtanh(lo, hi) = lo + relu(z - lo) -
relu(z - hi)``: one binary per kink inside the unit's bounds.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from . import _bounds as bd
from ._lp import _t, lp_bounds, no_binary, prob_value

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
    only candidates, confirmed by :func:`pwlmodels.verify._bounds.branch_and_bound`.
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
    (``pwlmodels.verify._bounds``, float64 with rounding margins) proves, starting
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
    (:mod:`pwlmodels.verify._phases`) goes on from its best point, with up to
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
