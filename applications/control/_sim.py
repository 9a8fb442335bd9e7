"""Closed-loop simulation: controller networks as float64 numpy functions, solve_ivp, metrics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.integrate import solve_ivp, trapezoid
from scipy.special import expit
from torch import nn

from ._checks import leaves

__all__: list[str] = []

#: The integrator settings (issue 8): tight tolerances, steps of at most 1 ms. LSODA, not
#: RK45: on the position loop it is 6x faster and closer to a DOP853 run at rtol 1e-12
#: (8e-8 against 4e-7 rad).
SOLVER = {"method": "LSODA", "rtol": 1e-9, "atol": 1e-11, "max_step": 1e-3}
N_POINTS = 5001
#: "In saturation": the command within 1 % of the limit, or beyond it (learned plateaus
#: sit a few mV off 12 V, so an exact test would miss them).
SATURATED = 0.99
_ACTS: dict[type, Callable[[np.ndarray], np.ndarray]] = {
    nn.ReLU: lambda z: np.maximum(z, 0.0),
    nn.Tanh: np.tanh,
    nn.Sigmoid: expit,
}


def numpy_net(net: nn.Sequential) -> Callable[[np.ndarray], np.ndarray]:
    """``net`` as a float64 numpy function, (n_in,) -> (n_out,) or (N, n_in) -> (N, n_out).

    The weights are cast exactly to float64: this is the function that is
    linearised and verified, evaluated without torch's per-call overhead.
    """
    ops: list = []
    for m in leaves(net):
        if isinstance(m, nn.Linear):
            w = m.weight.detach().to("cpu", torch.float64).numpy().T.copy()
            b = np.zeros(w.shape[1]) if m.bias is None else m.bias.detach().double().cpu().numpy()
            ops.append((w, b))
        elif isinstance(m, nn.Hardtanh):
            lo, hi = float(m.min_val), float(m.max_val)
            ops.append(lambda z, lo=lo, hi=hi: np.clip(z, lo, hi))
        elif type(m) in _ACTS:
            ops.append(_ACTS[type(m)])
        elif isinstance(m, nn.LeakyReLU):
            ops.append(lambda z, a=float(m.negative_slope): np.where(z > 0, z, a * z))
        elif not isinstance(m, (nn.Identity, nn.Dropout, nn.Flatten)):
            raise TypeError(f"simulation supports Linear, ReLU, Hardtanh, Tanh, Sigmoid; got {m}")

    def f(x: np.ndarray) -> np.ndarray:
        z = x
        for op in ops:
            z = z @ op[0] + op[1] if isinstance(op, tuple) else op(z)
        return z

    return f


@dataclass(frozen=True)
class Response:
    """A simulated closed loop: times, states, commanded and applied inputs."""

    t: np.ndarray  # (N,)
    x: np.ndarray  # (N, n)
    u_cmd: np.ndarray  # (N,) what the controller asks for
    u: np.ndarray  # (N,) what the actuator applies: clip(u_cmd, -u_max, u_max)
    u_max: float


def simulate(
    A: np.ndarray,
    B: np.ndarray,
    law: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    t_final: float,
    u_max: float,
) -> Response:
    """``dx/dt = A x + B clip(law(x), -u_max, u_max)`` from ``x0``, sampled at 5001 points."""
    b = B[:, 0].copy()

    def rhs(_t: float, x: np.ndarray) -> np.ndarray:
        u = float(law(x)[0])
        return A @ x + b * min(max(u, -u_max), u_max)

    t = np.linspace(0.0, t_final, N_POINTS)
    sol = solve_ivp(rhs, (0.0, t_final), x0, t_eval=t, **SOLVER)
    if not sol.success:  # pragma: no cover - the loops here are smooth enough
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    x = sol.y.T
    u_cmd = law(x)[:, 0]
    return Response(t, x, u_cmd, np.clip(u_cmd, -u_max, u_max), u_max)


def loop_metrics(resp: Response, y: np.ndarray, ref: float) -> dict[str, float | None]:
    """Step metrics of output ``y`` plus steady-state error, peak command, effort, saturation."""
    from ._design import step_metrics

    m = step_metrics(resp.t, y)
    saturated = (np.abs(resp.u_cmd) >= SATURATED * resp.u_max).astype(np.float64)
    return {
        "rise_time": m.rise_time,
        "settling_time": m.settling_time,
        "overshoot": float(m.overshoot),
        "steady_state": m.steady_state,
        "steady_state_error": float(y[-1] - ref),
        "peak_command": float(np.abs(resp.u_cmd).max()),
        "effort": float(trapezoid(resp.u**2, resp.t)),
        "time_saturated": float(trapezoid(saturated, resp.t)),
    }
