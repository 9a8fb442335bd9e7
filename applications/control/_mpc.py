"""Explicit MPC of the double integrator (Bemporad et al. 2002), and ReLU / tanh fits of it.

``x+ = [[1, 1], [0, 1]] x + [0.5, 1]^T u``, ``|u| <= 1``, horizon 5, stage cost
``x'Qx + u'Ru`` (Q = I, R = 0.1), terminal cost ``x'Px`` with P the discrete
Riccati solution. Condensed, the problem is the box-constrained QP
``min_U U'HU + 2 x'FU, -1 <= U <= 1``; its solution is a continuous PWL
function of x on polyhedral critical regions, one per optimal active set.
Here the regions are enumerated exactly (:func:`explicit_mpc`: active sets
pruned by optimal parents, kept when the polyhedron has an interior point in
the state box), and the law is also sampled by solving the QPs numerically
(``scipy.optimize.lsq_linear``, bounded-variable least squares) to train
ReLU and tanh networks (Karg and Lucia 2020).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from scipy import linalg
from scipy.optimize import lsq_linear
from torch import nn

from pwlmodels import count_parameters, make_mlp, partition, train
from pwlmodels.regions import Partition

from ._explicit import condense, explicit_mpc
from ._mpc_cert import MPCCertificates, mpc_certificates

__all__: list[str] = []

A = np.array([[1.0, 1.0], [0.0, 1.0]])
B = np.array([[0.5], [1.0]])
Q, R, N, U_BOUND = np.eye(2), np.array([[0.1]]), 5, 1.0
BOX = np.array([5.0, 2.0])  # the state box |x_j| <= BOX_j


@dataclass(frozen=True)
class MPC:
    """The condensed QP ``min U'HU + 2 x'FU`` over ``|U| <= 1``."""

    H: np.ndarray  # (N, N)
    F: np.ndarray  # (2, N)
    L: np.ndarray  # lower Cholesky factor of H


def condensed() -> MPC:
    """H and F of the horizon-5 problem, terminal cost from the discrete Riccati equation."""
    qp = condense(A, B, Q, R, N, np.array([U_BOUND]))
    return MPC(qp.H, qp.F, np.linalg.cholesky(qp.H))


def solve_qp(mpc: MPC, x: np.ndarray) -> np.ndarray:
    """The optimal first moves u*(x) for states x (M, 2), one bounded least-squares QP each.

    ``U'HU + 2 x'FU = ||L'U + L^-1 F'x||^2 - const`` with ``H = L L'``.
    """
    out = np.empty(len(x))
    for i, xi in enumerate(x):
        b = -linalg.solve_triangular(mpc.L, mpc.F.T @ xi, lower=True)
        res = lsq_linear(mpc.L.T, b, bounds=(-U_BOUND, U_BOUND), method="bvls", tol=1e-12)
        out[i] = res.x[0]
    return out


@dataclass(frozen=True)
class Fit:
    """A network fitted to the MPC law: errors on the 201 x 161 grid, parameter count."""

    rmse: float
    max_error: float
    parameters: int


@dataclass(frozen=True)
class MPCStudy:
    """Numbers of the explicit-MPC study (no networks): what the table, figure and text show.

    ``polygons``: each critical region's vertices (in the box), ``law_ids``
    the index of its first move's affine map; ``slice_x1`` the positions of
    the slice x2 = 0.5 and ``slice_u`` the first move there, of the MPC law
    (``"mpc"``) and of the fits (``"relu"``, ``"tanh"``).
    """

    polygons: tuple[np.ndarray, ...]
    law_ids: np.ndarray
    pieces: int
    qp_gap: float  # max |QP solution - explicit law| on the samples
    fits: dict[str, Fit]
    relu_partition: Partition
    grid: tuple  # (x1, x2, u*) on a test grid
    slice_x1: np.ndarray
    slice_u: dict[str, np.ndarray]
    cert: MPCCertificates  # the law's exact network and the closed-loop certificates

    @property
    def n_regions(self) -> int:
        return len(self.polygons)


def mpc_study(n_samples: int, epochs: int, polish: int, seed: int, device) -> MPCStudy:
    """Regions, QP samples, fits, the ReLU fit's partition, a slice of every law, and the
    law's exact network with the closed-loop certificates (:mod:`._mpc_cert`)."""
    from ._sim import numpy_net

    mpc = condensed()
    law = explicit_mpc(A, B, Q, R, N, U_BOUND, BOX)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n_samples, 2)) * BOX
    u = solve_qp(mpc, x)
    gap = float(np.abs(u - law(x)).max())
    g1, g2 = np.meshgrid(np.linspace(-BOX[0], BOX[0], 201), np.linspace(-BOX[1], BOX[1], 161))
    grid_x = np.column_stack([g1.ravel(), g2.ravel()])
    grid_u = law(grid_x)
    nets, fits = {}, {}
    for act in ("relu", "tanh"):
        net = make_mlp(2, (16, 16), 1, activation=act, seed=seed, device=device)
        train(net, x / BOX, u, epochs=epochs, lr=1e-2, lbfgs_polish=polish, seed=seed)
        net64 = _fold(net, BOX)
        with torch.no_grad():
            pred = net64(torch.as_tensor(grid_x, device=net64[0].weight.device)).cpu().numpy()
        err = pred[:, 0] - grid_u
        nets[act] = net64
        fits[act] = Fit(
            float(np.sqrt(np.mean(err**2))), float(np.abs(err).max()), count_parameters(net)
        )
    relu_cpu, tanh_cpu = nets["relu"].to("cpu"), nets["tanh"].to("cpu")
    part = partition(relu_cpu, -BOX, BOX)
    cert = mpc_certificates(A, B, Q, R, law, relu_cpu, tanh_cpu, BOX, U_BOUND, grid_x, seed)
    x1 = np.linspace(-BOX[0], BOX[0], 801)
    pts = np.column_stack([x1, np.full_like(x1, 0.5)])
    slice_u = {"mpc": law(pts)}
    for act in ("relu", "tanh"):
        slice_u[act] = numpy_net(copy.deepcopy(nets[act]).to("cpu"))(pts)[:, 0]
    return MPCStudy(
        tuple(p.vertices() for p in law.regions),
        law.pieces.copy(),
        law.n_pieces,
        gap,
        fits,
        part,
        (g1, g2, grid_u),
        x1,
        slice_u,
        cert,
    )


def _fold(net: nn.Sequential, half: np.ndarray) -> nn.Sequential:
    net64 = copy.deepcopy(net).to(torch.float64)
    with torch.no_grad():
        net64[0].weight.div_(
            torch.as_tensor(half, dtype=torch.float64, device=net64[0].weight.device)
        )
    return net64.eval()
