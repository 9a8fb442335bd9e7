"""The speed loop under one-unit controllers u = k (sigma(e) - sigma(0)): slope = gain.

A small step (0.1 rad/s, so ``k r = 10 V`` stays under the 12 V limit)
keeps the loop in its small-signal range, where the local gain at ``e = 0``
decides the response: second order, damping about 0.40 at gain 100 and
about 0.72 at 25. ReLU is one-sided: gain ``k`` for ``e > 0``, 0 for ``e < 0``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import linalg
from torch import nn

from ._analysis import damping
from ._sim import N_POINTS, Response, loop_metrics, numpy_net, simulate

__all__: list[str] = []

ONE_UNIT = ("hardtanh", "tanh", "sigmoid", "relu")
_MODULES = {"hardtanh": nn.Hardtanh, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}


def one_unit(activation: str, k: float) -> nn.Sequential:
    """``e -> k (sigma(e) - sigma(0))`` as ``Linear(1, 1), sigma, Linear(1, 1)`` in float64."""
    act = _MODULES[activation]()
    inner, outer = nn.Linear(1, 1, dtype=torch.float64), nn.Linear(1, 1, dtype=torch.float64)
    with torch.no_grad():
        inner.weight.fill_(1.0)
        inner.bias.zero_()
        outer.weight.fill_(k)
        outer.bias.fill_(-k * float(act(torch.zeros(1, dtype=torch.float64))[0]))
    return nn.Sequential(inner, act, outer)


@dataclass(frozen=True)
class SpeedRun:
    """One one-unit controller on the speed loop."""

    activation: str
    gain_right: float
    gain_left: float
    damping_right: float
    frequency_right: float
    damping_left: float
    frequency_left: float
    response: Response
    metrics: dict
    u_min: float  # the smallest applied voltage of the step


def speed_study(A, B, C, k: float, step: float, t_final: float, u_max: float) -> list[SpeedRun]:
    """Local gains, linearised damping and the simulated step of every one-unit controller."""
    from ._design import local_gain

    runs = []
    for name in ONE_UNIT:
        net = one_unit(name, k)
        right = float(local_gain(net, [0.0])[0, 0])
        left = float(local_gain(net, [0.0], side="left")[0, 0])
        zr, wr = damping(np.linalg.eigvals(A - right * B @ C))
        zl, wl = damping(np.linalg.eigvals(A - left * B @ C))
        f = numpy_net(net)

        def law(x: np.ndarray, f=f) -> np.ndarray:
            return f(step - x[..., :1])

        resp = simulate(A, B, law, np.zeros(A.shape[0]), t_final, u_max)
        metrics = loop_metrics(resp, resp.x[:, 0], step)
        runs.append(SpeedRun(name, right, left, zr, wr, zl, wl, resp, metrics, float(resp.u.min())))
    return runs


def linear_step(A, B, C, gain: float, t_final: float) -> tuple[np.ndarray, np.ndarray]:
    """The unit step of the loop ``u = gain (r - y)`` without actuator limit, sampled exactly.

    Zero-order-hold discretisation of the closed loop (exact for a step) on
    ``linspace(0, t_final, 5001)``: the samples python-control's
    ``step_response`` gives.
    """
    t = np.linspace(0.0, t_final, N_POINTS)
    a_cl, b_cl = A - gain * B @ C, gain * B[:, 0]
    dt = t[1] - t[0]
    phi = linalg.expm(a_cl * dt)
    gam = np.linalg.solve(a_cl, (phi - np.eye(A.shape[0])) @ b_cl)
    x, y = np.zeros(A.shape[0]), np.empty(t.size)
    for i in range(t.size):
        y[i] = float(C[0] @ x)
        x = phi @ x + gam
    return t, y
