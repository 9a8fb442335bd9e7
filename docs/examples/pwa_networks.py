"""Piecewise-affine functions of several inputs as exact ReLU networks, and back.

Run:  python docs/examples/pwa_networks.py --out DIR
      (writes DIR/pwa_surface.png and DIR/pwa_regions_3d.png)

1. A surface tabulated at scattered points becomes the triangulated interpolant
   (the function scipy's LinearNDInterpolator computes), then an exact ReLU
   network (``pwa_to_relu``); the network's linear regions (``relu_to_pwa``) give
   the same function with the same pieces back.
2. The linear regions of a 3-input ReLU network over a cube, their count, and
   the network's maximum read off them (it equals ``maximize``'s certified one).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.interpolate import LinearNDInterpolator
from torch import nn

from pwlmodels import (
    PiecewiseAffine,
    evaluate,
    maximize,
    pwa_rounding_bound,
    pwa_to_relu,
    relu_to_pwa,
)


def surface(out: Path) -> Path:
    rng = np.random.default_rng(0)
    corners = np.array([[-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]])
    points = np.vstack([corners, rng.uniform(-1.0, 1.0, (26, 2))])
    values = np.exp(-3 * (points**2).sum(1)) + 0.5 * points[:, 0] * points[:, 1]
    f = PiecewiseAffine.from_triangulation(points, values)

    x = rng.uniform(-1.0, 1.0, (20_000, 2))
    assert np.allclose(f(x), LinearNDInterpolator(points, values)(x), rtol=0, atol=1e-12)

    net = pwa_to_relu(f)  # float64 Linear/ReLU layers
    error = np.abs(evaluate(net, x) - f(x)).max()
    bound = pwa_rounding_bound(f, net)
    widths = [m.out_features for m in net if isinstance(m, nn.Linear)][:-1]
    print(
        f"surface: {f.n_regions} triangles, {f.n_pieces} pieces; network with "
        f"{len(widths)} hidden layers, widest {max(widths)}, {sum(widths)} ReLUs; "
        f"max |net - f| = {error:.1e} <= bound {bound:.1e}"
    )
    assert error <= bound

    back = relu_to_pwa(net, [-1.0, -1.0], [1.0, 1.0])
    assert back.allclose(f, rtol=1e-9, atol=1e-12)
    print(
        f"back from the network: {back.n_regions} activation regions, "
        f"{back.n_pieces} pieces (the triangulation: {f.n_pieces})"
    )

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), constrained_layout=True)
    f.plot(axes[0])
    axes[0].set_title(f"triangulated interpolant: {f.n_regions} triangles")
    merged = back.simplify()  # neighbouring activation regions with one map, merged
    merged.plot(axes[1])
    axes[1].set_title(
        f"its network read back: {back.n_regions:,} regions -> {merged.n_regions} merged"
    )
    fig.suptitle("One colour per affine piece: the network has the interpolant's pieces")
    path = out / "pwa_surface.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def regions_3d(out: Path) -> Path:
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Linear(3, 12), nn.ReLU(), nn.Linear(12, 12), nn.ReLU(), nn.Linear(12, 1)
    ).double()
    lower, upper = -np.ones(3), np.ones(3)
    g = relu_to_pwa(net, lower, upper)
    best = maximize(net, lower, upper)
    print(
        f"3-input network: {g.n_regions} linear regions in the cube; max from the regions "
        f"{g.max():.10f}; maximize: attained {best.value:.10f}, bound {best.bound:.10f} "
        f"({best.status}, gap {best.gap:.1e})"
    )
    # the regions' maximum lies between what maximize attained and its certified bound
    slack = 1e-12 * max(1.0, abs(best.bound))
    assert best.value - slack <= g.max() <= best.bound + slack

    # the regions met by the plane x[2] = 0: a slice, drawn as the 2-input network
    # that fixes x[2] (same first layer, without its third column)
    sliced = nn.Sequential(nn.Linear(2, 12), *list(net)[1:]).double()
    with torch.no_grad():
        sliced[0].weight.copy_(net[0].weight[:, :2])
        sliced[0].bias.copy_(net[0].bias)
    s = relu_to_pwa(sliced, lower[:2], upper[:2])
    volumes = np.sort([r.volume() for r in g.regions])[::-1]

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), constrained_layout=True)
    s.plot(axes[0], color="value")
    axes[0].set_title(f"the regions on the slice x[2] = 0: {s.n_regions}")
    axes[1].loglog(np.arange(1, volumes.size + 1), volumes, ".", ms=3)
    axes[1].axhline(8.0 / g.n_regions, color="grey", lw=0.8, ls="--", label="cube / count")
    axes[1].set_xlabel("region, largest first")
    axes[1].set_ylabel("volume")
    axes[1].legend()
    axes[1].set_title(f"volumes of all {g.n_regions} regions in the cube")
    fig.suptitle("Linear regions of a 3-12-12-1 ReLU network over [-1, 1]^3")
    path = out / "pwa_regions_3d.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    return [surface(out), regions_3d(out)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for the figures")
    for path in main(parser.parse_args().out):
        print(f"wrote {path}")
