"""The closed-loop certificates' figures: ``python -m applications.control._certify_report``.

Prints, for the double integrator's explicit MPC law (horizon 5, box (5, 2)) and
ReLU / tanh / sigmoid 2-16-16-1 networks fitted to it, and for the DC motor's tanh
and sigmoid controllers of the control study (its QUICK training): region counts,
certified command bounds, invariance margins, region-of-attraction scalings and
areas against the Hu-Lin ellipsoid, CROWN against interval bounds, and times.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from pwlmodels import evaluate, make_mlp, train

from ._certify import input_bound, invariance
from ._crown import crown_bound
from ._explicit import explicit_mpc
from ._mpc import BOX, A, B, N, Q, R, _fold
from ._roa import lqr_ellipsoid, region_of_attraction
from ._verify import _interval, _layers, interval_max

__all__: list[str] = []


def _timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t


def _fitted(law, act: str):
    x = np.random.default_rng(0).uniform(-1, 1, (2000, 2)) * BOX
    net = make_mlp(2, (16, 16), 1, activation=act, seed=0)
    train(net, x / BOX, law(x), epochs=300, lr=1e-2, seed=0)
    return _fold(net, BOX)


def loops() -> None:
    """The double integrator: the MPC law and a fitted ReLU net."""
    law, t_law = _timed(explicit_mpc, A, B, Q, R, N, 1.0, BOX)
    relu = _fitted(law, "relu")
    square = np.vstack([np.eye(2), -np.eye(2)])
    ell = lqr_ellipsoid(A, B, Q, R, 1.0, BOX)
    print(f"MPC law: {law.n_regions} regions, {law.n_pieces} pieces ({t_law:.2f} s)")
    print(f"Hu-Lin LQR ellipsoid: level {ell.level:.4f}, area {ell.area:.3f}")
    for name, ctrl in (("MPC law", law), ("ReLU 2-16-16-1", relu)):
        ib, t = _timed(input_bound, ctrl, -BOX, BOX)
        print(
            f"[{name}] max|u| over the box: {ib.value:.6f} (bound {ib.bound:.6f}, "
            f"{ib.label}, {ib.status}, {t:.2f} s)"
        )
        inv, t = _timed(invariance, A, B, ctrl, square, np.r_[BOX, BOX])
        print(
            f"[{name}] box |x| <= (5, 2): {inv.verdict}, margins {np.round(inv.margins, 4)}, "
            f"worst facet {inv.worst}, witness {inv.witness}, {inv.n_regions} regions ({t:.2f} s)"
        )
        roa, t = _timed(region_of_attraction, A, B, ctrl, "lqr", BOX, 1.0, Q=Q, R=R)
        inv = invariance(A, B, ctrl, roa.S_A, np.full(len(roa.S_A), roa.alpha))
        print(
            f"[{name}] LQR polytope ({len(roa.S_A)} facets): alpha {roa.alpha:.4f} "
            f"(cap {roa.alpha_cap:.4f}), area {roa.area:.3f} = {roa.area / ell.area:.2f} x "
            f"ellipsoid; margins {np.round(inv.margins, 4)}; converges {roa.converges} "
            f"({len(roa.levels)} levels, rate {roa.rate:.3f}) {roa.reason} ({t:.2f} s)"
        )
    big = np.array([10.0, 4.0])
    wide = explicit_mpc(A, B, Q, R, N, 1.0, big)
    roa, t = _timed(region_of_attraction, A, B, wide, "lqr", big, 1.0, Q=Q, R=R)
    print(
        f"[MPC law on |x| <= (10, 4), {wide.n_regions} regions] alpha {roa.alpha:.4f} "
        f"(cap {roa.alpha_cap:.4f}, {len(roa.tried)} certificates), area {roa.area:.3f} = "
        f"{roa.area / ell.area:.2f} x ellipsoid; converges {roa.converges} "
        f"({len(roa.levels)} levels, rate {roa.rate:.3f}) ({t:.2f} s)"
    )
    for act in ("tanh", "sigmoid"):
        _compare(f"{act} 2-16-16-1 on the MPC law", _fitted(law, act), BOX)


def _compare(name: str, net, half: np.ndarray, budgets=(0, 20_000)) -> None:
    x = np.random.default_rng(1).uniform(-1, 1, (100_000, len(half))) * half
    sampled = float(np.abs(evaluate(net, x)).max())
    lo, hi = _interval(_layers(net), -half[None], half[None])
    print(f"[{name}] sampled max|u| {sampled:.4f}; plain interval {max(hi[0], -lo[0]):.4f}")
    for budget in budgets:
        b, t = _timed(crown_bound, net, -half, half, max_boxes=budget)
        print(
            f"    CROWN, {b.boxes} boxes: {b.max_abs:.4f} (attained {b.value:.4f}; "
            f"{b.label}; {t:.2f} s)"
        )
        if budget:
            t0 = time.perf_counter()
            ib = max(
                interval_max(net, -half, half, b.value, budget=budget, sign=s) for s in (1, -1)
            )
            t = time.perf_counter() - t0
            print(f"    interval branch and bound, {budget} boxes per sign: {ib:.4f} ({t:.2f} s)")


def motor() -> None:
    """The DC motor's tanh and sigmoid controllers (QUICK training, seed 0)."""
    from ._config import HALF, QUICK, U_MAX, X_REF
    from ._config import Q as QM
    from ._config import R as RM
    from ._design import dc_motor, lqr_gain
    from ._learn import operating_samples, train_controllers

    plant = dc_motor("position")
    K = lqr_gain(plant.A, plant.B, QM, RM)
    x = operating_samples(K, U_MAX, X_REF, HALF, QUICK.training.n_samples, 0)
    u = np.clip(-(x - X_REF) @ K[0], -U_MAX, U_MAX)
    for act in ("tanh", "sigmoid"):
        cpu = torch.device("cpu")
        [(net, _, _)] = train_controllers([x], [u], HALF, U_MAX, act, QUICK.training, (0,), cpu)
        _compare(f"DC motor {act}, box |x| <= {np.round(HALF, 2).tolist()}, V", net, HALF)


if __name__ == "__main__":  # pragma: no cover
    loops()
    motor()
