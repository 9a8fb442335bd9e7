"""Linearisation at the set point, the linear region, and the certified invariant ellipsoid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import linalg
from torch import nn

from pwlmodels import linear_region, local_affine, region_radius

from ._learn import scaled

__all__: list[str] = []


@dataclass(frozen=True)
class Linearisation:
    """The loop ``dx/dt = A x + B u(x)`` linearised at the set point ``x_ref``.

    ``u(x) ~ u0 - K_net (x - x_ref)``; its equilibrium ``x_eq`` (exact for
    a ReLU controller whose region of ``x_ref`` holds ``x_eq``), and the
    poles of ``A - B K_net``.
    """

    K_net: np.ndarray  # (1, n)
    u0: float
    x_eq: np.ndarray  # (n,)
    poles: np.ndarray  # (n,) complex, sorted by real part, then imaginary part


def linearise(A: np.ndarray, B: np.ndarray, net: nn.Sequential, x_ref: np.ndarray):
    """K_net = -local_gain(net, x_ref), the offset u0 = net(x_ref), the shifted equilibrium."""
    from ._design import local_gain

    K_net = -local_gain(net, x_ref)
    ref = next(net.parameters())
    with torch.no_grad():
        u0 = float(net(torch.as_tensor(x_ref[None], dtype=ref.dtype, device=ref.device))[0, 0])
    a_cl = A - B @ K_net
    # 0 = A x + B (u0 - K_net (x - x_ref))  <=>  (A - B K_net) x = -B (u0 + K_net x_ref)
    x_eq = np.linalg.solve(a_cl, -B[:, 0] * (u0 + float(K_net[0] @ x_ref)))
    poles = np.linalg.eigvals(a_cl)
    return Linearisation(K_net, u0, x_eq, poles[np.lexsort((poles.imag, poles.real))])


def damping(poles: np.ndarray) -> tuple[float, float]:
    """Damping ratio and natural frequency (rad/s) of the slowest-decaying complex pair.

    Real poles only: damping 1 and the slowest pole's magnitude.
    """
    pairs = poles[poles.imag > 0]
    if pairs.size == 0:
        return 1.0, float(np.abs(poles).min())
    p = pairs[np.argmax(pairs.real)]
    return float(-p.real / abs(p)), float(abs(p))


@dataclass(frozen=True)
class Certificate:
    """The linear region of a ReLU controller at ``x_ref`` and an invariant ellipsoid in it.

    ``radius_scaled``: the exact distance, in the infinity norm of states
    divided by the box half-widths, from ``x_ref`` to the boundary of its
    activation region; ``radius_l2`` the same in the l2 norm of raw states.
    ``{x : (x - x_eq)^T P (x - x_eq) <= level}`` lies in the region, in the box
    and where ``|u| <= u_max`` (so the actuator does not clip), and ``P``
    solves ``A_cl^T P + P A_cl = -(Q + K_net^T R K_net)``: there the loop is
    exactly linear, the level sets shrink, and every trajectory converges to
    ``x_eq``. ``level = 0``: no certificate (``reason`` says why).
    """

    radius_scaled: float
    radius_l2: float
    P: np.ndarray
    level: float
    theta_at_rest: float  # half-width in the angle of the ellipsoid's section omega = i = 0
    theta_extent: float  # largest angle deviation on the ellipsoid
    rows: tuple  # (A_ub, b_ub) of the constraints used
    reason: str = ""


def certify(
    A: np.ndarray,
    B: np.ndarray,
    Q: np.ndarray,
    R: np.ndarray,
    net: nn.Sequential,
    lin: Linearisation,
    x_ref: np.ndarray,
    half: np.ndarray,
    u_max: float,
) -> Certificate:
    """Radii of the region of ``x_ref`` and the largest Lyapunov level set inside it."""
    ref = next(net.parameters())
    z_ref = torch.as_tensor(x_ref / half, dtype=torch.float64, device=ref.device)[None]
    x_t = torch.as_tensor(x_ref, dtype=torch.float64, device=ref.device)[None]
    radius_scaled = float(region_radius(scaled(net, half), z_ref, norm="inf")[0])
    radius_l2 = float(region_radius(net, x_t, norm=2)[0])
    region = linear_region(net, x_ref, lower=-half, upper=half)
    a_map, c_map = local_affine(net, x_ref[None])
    g, c0 = a_map[0, 0], float(c_map[0, 0])
    rows_a = np.vstack([region.A_ub, g, -g])  # and |g x + c0| <= u_max: no clipping
    rows_b = np.concatenate([region.b_ub, [u_max - c0, u_max + c0]])
    a_cl = A - B @ lin.K_net
    P = linalg.solve_continuous_lyapunov(a_cl.T, -(Q + lin.K_net.T @ R @ lin.K_net))
    P = (P + P.T) / 2
    reason = ""
    if np.linalg.eigvals(a_cl).real.max() >= 0:
        reason = "A - B K_net is not Hurwitz"
    elif np.linalg.eigvalsh(P)[0] <= 0:
        reason = "the Lyapunov matrix is not positive definite"
    slack = rows_b - rows_a @ lin.x_eq
    if not reason and slack.min() <= 0:
        reason = "the equilibrium lies outside the region of x_ref"
    level = 0.0
    if not reason:
        p_inv = np.linalg.inv(P)
        level = float(np.min(slack**2 / np.einsum("ij,jk,ik->i", rows_a, p_inv, rows_a)))
    p_inv = np.linalg.inv(P) if not reason else np.full_like(P, np.nan)
    return Certificate(
        radius_scaled,
        radius_l2,
        P,
        level,
        float(np.sqrt(level / P[0, 0])),
        float(np.sqrt(level * p_inv[0, 0])) if level else 0.0,
        (rows_a, rows_b),
        reason,
    )
