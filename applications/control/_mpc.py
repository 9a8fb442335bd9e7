"""Explicit MPC of the double integrator (Bemporad et al. 2002), and ReLU / tanh fits of it.

``x+ = [[1, 1], [0, 1]] x + [0.5, 1]^T u``, ``|u| <= 1``, horizon 5, stage cost
``x'Qx + u'Ru`` (Q = I, R = 0.1), terminal cost ``x'Px`` with P the discrete
Riccati solution. Condensed, the problem is the box-constrained QP
``min_U U'HU + 2 x'FU, -1 <= U <= 1``; its solution is a continuous PWL
function of x on polyhedral critical regions, one per optimal active set.
Here the regions are enumerated exactly (every active set of the 5 moves,
kept when its polyhedron has an interior point in the state box), and the
law is also sampled by solving the QPs numerically (``scipy.optimize.lsq_linear``,
bounded-variable least squares) to train ReLU and tanh networks (Karg and
Lucia 2020).
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass

import numpy as np
import torch
from scipy import linalg
from scipy.optimize import linprog, lsq_linear
from torch import nn

from pwlmodels import count_parameters, make_mlp, partition, train
from pwlmodels.regions import Partition, Polytope

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
    P = linalg.solve_discrete_are(A, B, Q, R)
    phi = np.vstack([np.linalg.matrix_power(A, k) for k in range(1, N + 1)])  # x_1..x_N
    gam = np.zeros((2 * N, N))
    for k in range(N):
        for j in range(k + 1):
            gam[2 * k : 2 * k + 2, j] = (np.linalg.matrix_power(A, k - j) @ B)[:, 0]
    qbar = linalg.block_diag(*([Q] * (N - 1) + [P]))
    H = gam.T @ qbar @ gam + np.kron(np.eye(N), R)
    F = phi.T @ qbar @ gam
    H = (H + H.T) / 2
    return MPC(H, F, np.linalg.cholesky(H))


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
class Region:
    """A critical region: its polytope (with the box) and the affine first move ``g x + h``."""

    poly: Polytope
    g: np.ndarray  # (2,)
    h: float


def critical_regions(mpc: MPC) -> list[Region]:
    """Every optimal active set whose region has an interior point in the state box."""
    H, F, regions = mpc.H, mpc.F, []
    box_a = np.vstack([np.eye(2), -np.eye(2)])
    box_b = np.concatenate([BOX, BOX])
    for signs in itertools.product((-1, 0, 1), repeat=N):  # -1 lower, +1 upper, 0 free
        s = np.array(signs)
        fixed, free = np.flatnonzero(s != 0), np.flatnonzero(s == 0)
        # U = M x + m: fixed moves at their bound, free ones from the stationarity condition
        M, m = np.zeros((N, 2)), np.zeros(N)
        m[fixed] = s[fixed] * U_BOUND
        if free.size:
            hff = H[np.ix_(free, free)]
            M[free] = -np.linalg.solve(hff, F[:, free].T)
            m[free] = -np.linalg.solve(hff, H[np.ix_(free, fixed)] @ m[fixed])
        grad_x, grad_c = H @ M + F.T, H @ m  # gradient/2 of the QP at U(x)
        rows, rhs = [box_a], [box_b]
        if free.size:  # -1 <= U_free <= 1
            rows += [M[free], -M[free]]
            rhs += [U_BOUND - m[free], U_BOUND + m[free]]
        low, up = np.flatnonzero(s < 0), np.flatnonzero(s > 0)
        rows += [-grad_x[low], grad_x[up]]  # multipliers: grad >= 0 at lower, <= 0 at upper
        rhs += [grad_c[low], -grad_c[up]]
        a, b = np.vstack(rows), np.concatenate(rhs)
        if _chebyshev_radius(a, b) > 1e-7:
            regions.append(Region(Polytope(a, b), M[0], float(m[0])))
    return regions


def _chebyshev_radius(a: np.ndarray, b: np.ndarray) -> float:
    norms = np.linalg.norm(a, axis=1)
    res = linprog(
        [0.0, 0.0, -1.0],
        A_ub=np.hstack([a, norms[:, None]]),
        b_ub=b,
        bounds=[(None, None), (None, None), (0, None)],
        method="highs",
    )
    return float(-res.fun) if res.status == 0 else 0.0


def affine_pieces(regions: list[Region], tol: float = 1e-9) -> int:
    """The number of distinct affine maps of the first move among the critical regions."""
    maps: list[np.ndarray] = []
    for r in regions:
        v = np.append(r.g, r.h)
        if not any(np.abs(v - w).max() <= tol * (1 + np.abs(w).max()) for w in maps):
            maps.append(v)
    return len(maps)


def explicit_law(regions: list[Region], x: np.ndarray) -> np.ndarray:
    """u*(x) from the critical region holding each state (the first that contains it)."""
    out = np.full(len(x), np.nan)
    for r in regions:
        inside = r.poly.contains(x, tol=1e-9) & np.isnan(out)
        out[inside] = x[inside] @ r.g + r.h
    return out


def law_ids(regions: list[Region], tol: float = 1e-9) -> np.ndarray:
    """For each critical region, the index of its first move's affine map (first seen, first)."""
    maps: list[np.ndarray] = []
    ids = []
    for r in regions:
        v = np.append(r.g, r.h)
        hit = [i for i, w in enumerate(maps) if np.abs(v - w).max() <= tol * (1 + np.abs(w).max())]
        if not hit:
            maps.append(v)
        ids.append(hit[0] if hit else len(maps) - 1)
    return np.array(ids)


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

    @property
    def n_regions(self) -> int:
        return len(self.polygons)


def mpc_study(n_samples: int, epochs: int, polish: int, seed: int, device) -> MPCStudy:
    """Regions, QP samples, fits, the ReLU fit's partition and a slice of every law."""
    from ._sim import numpy_net

    mpc = condensed()
    regions = critical_regions(mpc)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n_samples, 2)) * BOX
    u = solve_qp(mpc, x)
    gap = float(np.abs(u - explicit_law(regions, x)).max())
    g1, g2 = np.meshgrid(np.linspace(-BOX[0], BOX[0], 201), np.linspace(-BOX[1], BOX[1], 161))
    grid_x = np.column_stack([g1.ravel(), g2.ravel()])
    grid_u = explicit_law(regions, grid_x)
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
    relu_cpu = nets["relu"].to("cpu")
    part = partition(relu_cpu, -BOX, BOX)
    x1 = np.linspace(-BOX[0], BOX[0], 801)
    pts = np.column_stack([x1, np.full_like(x1, 0.5)])
    slice_u = {"mpc": explicit_law(regions, pts)}
    for act in ("relu", "tanh"):
        slice_u[act] = numpy_net(copy.deepcopy(nets[act]).to("cpu"))(pts)[:, 0]
    return MPCStudy(
        tuple(r.poly.vertices() for r in regions),
        law_ids(regions),
        affine_pieces(regions),
        gap,
        fits,
        part,
        (g1, g2, grid_u),
        x1,
        slice_u,
    )


def _fold(net: nn.Sequential, half: np.ndarray) -> nn.Sequential:
    net64 = copy.deepcopy(net).to(torch.float64)
    with torch.no_grad():
        net64[0].weight.div_(
            torch.as_tensor(half, dtype=torch.float64, device=net64[0].weight.device)
        )
    return net64.eval()
