"""The explicit MPC law as an exact ReLU network, and closed-loop certificates of it.

Called by :func:`._mpc.mpc_study` on the double integrator (box |x| <= (5, 2),
|u| <= 1): the law's exact network (:func:`pwlmodels.pwa_to_relu`) with its size,
its float64 error on the grid against :func:`pwlmodels.pwa_rounding_bound`, and its
linear regions (:func:`pwlmodels.partition`) merged by map against the law's own;
then, for the law and the ReLU fit, the certified command bound, the box's
invariance facet by facet, the certified region of attraction (alpha times the
LQR polytope) against the Hu-Lin ellipse, with trajectories of the law simulated
from the set's boundary; and the tanh fit's command bounded by CROWN, by plain
intervals and by sampling. Numbers and arrays only: nothing here is drawn.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.spatial import ConvexHull, HalfspaceIntersection
from torch import nn

from pwlmodels import (
    PiecewiseAffine,
    count_parameters,
    evaluate,
    partition,
    pwa_rounding_bound,
    pwa_to_relu,
    relu_to_pwa,
)

from ._certify import input_bound, invariance
from ._crown import crown_bound
from ._roa import lqr_ellipsoid, region_of_attraction
from ._verify import _interval, _layers

__all__: list[str] = []

N_SAMPLED = 100_000  # states sampled for the tanh fit's largest command
N_TRAJECTORIES, N_STEPS = 24, 30  # closed-loop runs of the law from the set's boundary
CROWN_BOXES = 20_000


@dataclass(frozen=True)
class Network:
    """The law's exact ReLU network: size, error on the grid, regions against the law's.

    ``polygons`` the network's activation regions (vertices), ``piece_ids`` the law's
    piece (``law.pieces``) whose map each carries, ``merged`` its regions
    merged by map, ``law_merged`` the law's critical regions merged by map (both in
    the same order: matched by map); ``region_distance`` the largest distance of a
    merged region's vertex to the matched law region's vertex set and back.
    """

    hidden_layers: int
    relus: int
    parameters: int
    build_time: float
    max_error: float  # on the study's grid, float64 forward pass against the law
    error_bound: float  # pwa_rounding_bound: a true bound over the box
    n_regions: int  # activation regions in the box (partition)
    n_pieces: int  # distinct affine maps among them
    n_merged: int
    n_law_merged: int
    region_distance: float
    same_maps: bool  # every merged region's map is the matched law region's
    polygons: tuple[np.ndarray, ...]
    piece_ids: np.ndarray  # per network region: the law's piece with the same map (-1: none)
    merged: tuple[np.ndarray, ...]
    law_merged: tuple[np.ndarray, ...]


@dataclass(frozen=True)
class Certificate:
    """One controller's closed-loop certificates (see :mod:`._certify`, :mod:`._roa`)."""

    u_max: float  # certified max |u| over the box
    u_bound: float
    u_label: str
    box_verdict: str
    box_margins: np.ndarray  # per facet of |x| <= BOX: x1 <= 5, x2 <= 2, -x1 <= 5, -x2 <= 2
    box_worst: int
    box_witness: np.ndarray | None
    alpha: float
    alpha_cap: float
    area: float
    margins: np.ndarray  # per facet of alpha S
    converges: bool
    levels: int
    rate: float
    reason: str
    time: float


@dataclass(frozen=True)
class Crown:
    """The tanh fit's largest |u| over the box: sampled, CROWN and plain interval bounds."""

    sampled: float
    n_sampled: int
    crown: float
    crown_attained: float
    boxes: int
    interval: float


@dataclass(frozen=True)
class MPCCertificates:
    """What the MPC part's certificate rows, text and figures show.

    ``set_vertices`` the vertices of the law's certified set ``alpha S`` in order;
    ``ellipse`` points on the Hu-Lin ellipse ``x'Px = level``; ``trajectories``
    (N_TRAJECTORIES, N_STEPS + 1, 2) the law's closed loop from points on the set's
    boundary, ``gauge_max`` their largest gauge ``max S_A x`` (inside: <= alpha).
    """

    network: Network
    law: Certificate
    relu: Certificate
    crown: Crown
    ellipse_level: float
    ellipse_area: float
    set_vertices: np.ndarray
    ellipse: np.ndarray
    trajectories: np.ndarray
    gauge_max: float
    final_norm: float  # largest |x| after N_STEPS steps (sampled)


def _ordered(vertices: np.ndarray) -> np.ndarray:
    """A convex polygon's vertices in counter-clockwise order."""
    return vertices[ConvexHull(vertices).vertices]


def _hausdorff(a: np.ndarray, b: np.ndarray) -> float:
    d = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)
    return float(max(d.min(axis=1).max(), d.min(axis=0).max()))


def _match(maps: tuple, K: np.ndarray, c: np.ndarray) -> int:
    """The first region whose map (of ``maps = (K, c)``) is ``K x + c`` to 1e-9 relative,
    or -1."""
    lK, lc = maps
    d = np.abs(lK - K).reshape(len(lK), -1).max(axis=1) + np.abs(lc - c).max(axis=1)
    j = int(np.argmin(d))
    return j if d[j] <= 1e-9 * (1 + np.abs(K).max() + np.abs(c).max()) else -1


def network(law: PiecewiseAffine, grid_x: np.ndarray, half: np.ndarray) -> Network:
    """The exact network of ``law``, its size and error, its regions merged by map."""
    t0 = time.perf_counter()
    net = pwa_to_relu(law)
    build = time.perf_counter() - t0
    linears = [m for m in net if isinstance(m, nn.Linear)]
    err = float(np.abs(evaluate(net, grid_x) - law(grid_x)).max())
    part = partition(net, -half, half)
    where = [_match(law.maps, k, c) for k, c in zip(part.A, part.c, strict=True)]
    piece_ids = np.array([law.pieces[j] if j >= 0 else -1 for j in where])
    walk = relu_to_pwa(net, -half, half)
    gm, lm = walk.simplify(), law.simplify()
    pairs = [_match(lm.maps, k, c) for k, c in zip(*gm.maps, strict=True)]
    same = sorted(pairs) == list(range(lm.n_regions))  # one to one by map
    merged = tuple(_ordered(r.vertices()) for r in gm.regions)
    law_merged = tuple(_ordered(lm.regions[j].vertices()) for j in pairs)
    dist = max(_hausdorff(a, b) for a, b in zip(merged, law_merged, strict=True))
    return Network(
        hidden_layers=len(linears) - 1,
        relus=sum(m.out_features for m in linears[:-1]),
        parameters=count_parameters(net),
        build_time=build,
        max_error=err,
        error_bound=float(pwa_rounding_bound(law, net)),
        n_regions=len(part),
        n_pieces=walk.n_pieces,
        n_merged=gm.n_regions,
        n_law_merged=lm.n_regions,
        region_distance=dist,
        same_maps=same,
        polygons=tuple(part.vertices),
        piece_ids=piece_ids,
        merged=merged,
        law_merged=law_merged,
    )


def certificate(A, B, Q, R, controller, half: np.ndarray, u_max: float):
    """Command bound, the box's invariance and the region of attraction of one controller;
    with the candidate set's rows ``S_A``."""
    t0 = time.perf_counter()
    ib = input_bound(controller, -half, half)
    square = np.vstack([np.eye(2), -np.eye(2)])
    box = invariance(A, B, controller, square, np.r_[half, half])
    roa = region_of_attraction(A, B, controller, "lqr", half, u_max, Q=Q, R=R)
    inside = invariance(A, B, controller, roa.S_A, np.full(len(roa.S_A), roa.alpha))
    return Certificate(
        u_max=float(ib.value),
        u_bound=float(ib.bound),
        u_label=ib.label,
        box_verdict=box.verdict,
        box_margins=np.asarray(box.margins, dtype=float),
        box_worst=int(box.worst),
        box_witness=None if box.witness is None else np.asarray(box.witness, dtype=float),
        alpha=float(roa.alpha),
        alpha_cap=float(roa.alpha_cap),
        area=float(roa.area),
        margins=np.asarray(inside.margins, dtype=float),
        converges=bool(roa.converges),
        levels=len(roa.levels),
        rate=float(roa.rate),
        reason=roa.reason,
        time=time.perf_counter() - t0,
    ), roa.S_A


def crown(net: nn.Sequential, half: np.ndarray, seed: int) -> Crown:
    """The tanh fit's largest |u|: sampled, CROWN with branching, plain intervals."""
    x = np.random.default_rng(seed).uniform(-1, 1, (N_SAMPLED, len(half))) * half
    sampled = float(np.abs(evaluate(net, x)).max())
    lo, hi = _interval(_layers(net), -half[None], half[None])
    b = crown_bound(net, -half, half, max_boxes=CROWN_BOXES)
    return Crown(sampled, N_SAMPLED, float(b.max_abs), float(b.value), int(b.boxes),
                 float(max(hi[0], -lo[0])))  # fmt: skip


def _trajectories(A, B, law, S_A, alpha, half):
    """The law's closed loop from points on the boundary of ``alpha S`` (sampled)."""
    hs = np.column_stack([S_A, -np.full(len(S_A), alpha)])
    verts = _ordered(HalfspaceIntersection(hs, np.zeros(2)).intersections)
    theta = np.linspace(0, 2 * np.pi, N_TRAJECTORIES, endpoint=False)
    d = np.column_stack([np.cos(theta), np.sin(theta)])
    x = alpha * d / (d @ S_A.T).max(axis=1, keepdims=True)
    x = np.clip(x, -half, half)  # on the set's boundary, rounded into the box
    runs = [x]
    for _ in range(N_STEPS):
        x = x @ A.T + np.outer(law(np.clip(x, -half, half)), B[:, 0])
        runs.append(x)
    traj = np.stack(runs, axis=1)
    return verts, traj, float((traj @ S_A.T).max()), float(np.abs(traj[:, -1]).max())


def mpc_certificates(A, B, Q, R, law, relu, tanh, half, u_max, grid_x, seed):
    """Everything of :class:`MPCCertificates` for the law and the fitted networks."""
    ell = lqr_ellipsoid(A, B, Q, R, u_max, half)
    law_cert, S_A = certificate(A, B, Q, R, law, half, u_max)
    relu_cert, _ = certificate(A, B, Q, R, relu, half, u_max)
    verts, traj, gauge, final = _trajectories(A, B, law, S_A, law_cert.alpha, half)
    L = np.linalg.cholesky(ell.P)  # x'Px = level: x = sqrt(level) L^-T (cos t, sin t)
    t = np.linspace(0, 2 * np.pi, 200)
    ellipse = np.sqrt(ell.level) * np.linalg.solve(L.T, np.vstack([np.cos(t), np.sin(t)])).T
    return MPCCertificates(
        network=network(law, grid_x, half),
        law=law_cert,
        relu=relu_cert,
        crown=crown(tanh, half, seed),
        ellipse_level=float(ell.level),
        ellipse_area=float(ell.area),
        set_vertices=verts,
        ellipse=ellipse,
        trajectories=traj,
        gauge_max=gauge,
        final_norm=final,
    )
