"""What the figures draw, evaluated from the networks: slices with kinks, regions, ellipse."""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from pwlmodels import activation_pattern, partition, relu_to_spline

from ._config import HALF, X_REF
from ._result import RegionsView, Slice
from ._sim import numpy_net

__all__: list[str] = []


def _cpu(net: nn.Module) -> nn.Module:
    return copy.deepcopy(net).to("cpu")


def slices(named: list[tuple[str, int, nn.Sequential]]) -> tuple[Slice, ...]:
    """Each controller along theta and along omega through ``x_ref`` (1201 points), with kinks."""
    spans = [(X_REF[0] - 0.3, X_REF[0] + 0.3), (-HALF[1], HALF[1])]
    out = []
    for j, (a, b) in enumerate(spans):
        s = np.linspace(a, b, 1201)
        pts = np.tile(X_REF, (s.size, 1))
        pts[:, j] = s
        for name, seed, net in named:
            u = numpy_net(net)(pts)[:, 0]
            kx = ku = np.empty(0)
            if name in ("exact", "relu"):
                direction = np.eye(3)[j]
                f = relu_to_spline(_cpu(net), origin=X_REF, direction=direction)
                k = f.knots + X_REF[j]
                kx = k[(k > a) & (k < b)]
                ku = f(kx - X_REF[j])
            out.append(Slice(name, seed, j, s, u, kx, ku))
    return tuple(out)


def _sliced(net: nn.Module) -> nn.Sequential:
    """The controller on the plane i = 0, as a 2-input network on the CPU."""
    net = _cpu(net)
    first = net[0]
    plane = nn.Linear(2, first.out_features, dtype=torch.float64)
    with torch.no_grad():
        plane.weight.copy_(first.weight[:, :2])
        plane.bias.copy_(first.bias)
    return nn.Sequential(plane, *list(net)[1:])


def _ellipse(P: np.ndarray, level: float, x_eq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and half-extents of the ellipse {(theta, omega): x'Px <= level at i = 0}."""
    M, p, d = P[:2, :2], P[:2, 2], -x_eq[2]
    shift = np.linalg.solve(M, p) * d
    rest = level - (P[2, 2] - p @ np.linalg.solve(M, p)) * d * d
    if level <= 0 or rest <= 0:  # no certificate: a small window around the equilibrium
        return x_eq[:2], np.array([0.1, 1.0])
    return x_eq[:2] - shift, np.sqrt(rest * np.diag(np.linalg.inv(M)))


def regions(net: nn.Sequential, seed: int, cert, x_eq: np.ndarray) -> RegionsView:
    """The partitions of the plane i = 0 (box and zoom) and the Lyapunov function on the zoom."""
    net2 = _sliced(net)
    full = partition(net2, -HALF[:2], HALF[:2])
    centre, reach = _ellipse(cert.P, cert.level, x_eq)
    zlo, zhi = centre - 1.8 * reach, centre + 1.8 * reach
    zoom = partition(net2, zlo, zhi)
    mine = [p[0].numpy() for p in activation_pattern(net2, X_REF[None, :2])]
    own = np.all(
        np.concatenate(
            [(pat == m[None, :]) for pat, m in zip(zoom.patterns, mine, strict=True)], 1
        ),
        axis=1,
    )
    gt, gw = np.meshgrid(np.linspace(zlo[0], zhi[0], 401), np.linspace(zlo[1], zhi[1], 401))
    e = np.stack([gt - x_eq[0], gw - x_eq[1], np.full_like(gt, -x_eq[2])], -1)
    v = np.einsum("...i,ij,...j->...", e, cert.P, e)
    return RegionsView(seed, full, zoom, own, zlo, zhi, gt, gw, v, cert.level, cert.radius_scaled)
