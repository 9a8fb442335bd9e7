"""Linear regions of a small 2-input ReLU network, its verified maximum over a box,
and a local robustness certificate, with the limits of what is proven.

Run:  python docs/examples/regions_and_verification.py --out DIR   (writes DIR/regions.png)

What is proven: the bound is exact in real arithmetic for the network's weights
(upcast exactly to float64) up to the stated tolerance, with documented
floating-point margins. It is not a defence against networks crafted to exploit
rounding (Zombori et al. 2021; Jia and Rinard 2021).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pwlmodels import local_robustness, maximize, partition, region_radius


def main(out: Path) -> Path:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
    lower, upper = np.array([-1.0, -1.0]), np.array([1.0, 1.0])

    regions = partition(net, lower, upper)
    best = maximize(net, lower, upper)  # branch and bound for 2 inputs
    print(
        f"{len(regions)} linear regions in the box; areas sum to "
        f"{regions.to_frame()['area'].sum():.12f} (box area 4)"
    )
    print(
        f"max = {best.value:.9f} at {np.round(best.witness, 6)}; certified bound "
        f"{best.bound:.9f}, gap {best.gap:.1e}, status {best.status}, {best.n_nodes} boxes"
    )
    assert best.value <= best.bound and best.status == "optimal"

    x0 = np.array([0.2, -0.3])
    radius = float(region_radius(net, x0[None, :])[0])
    print(f"x0 = {x0} lies {radius:.4f} (inf-norm) from the boundary of its region")
    classifier = nn.Sequential(net, nn.Linear(1, 2))  # two classes from the scalar score
    with torch.no_grad():
        classifier[1].weight.copy_(torch.tensor([[1.0], [-1.0]]))
        classifier[1].bias.zero_()
    cert = local_robustness(classifier, x0, 0.05)
    print(f"prediction {cert.predicted} robust on the 0.05 inf-ball: {cert.robust}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 5.6), constrained_layout=True)
    regions.plot(ax)
    ax.plot(*best.witness, marker="*", color="black", markersize=16, label="verified maximum")
    for r, style, label in (
        (radius, ":", f"x0's region contains this inf-ball (r = {radius:.3f})"),
        (0.05, "-", f"certified {'robust' if cert.robust else 'not robust'} (r = 0.05)"),
    ):
        ax.add_patch(plt.Rectangle(x0 - r, 2 * r, 2 * r, fill=False, lw=1.5, ls=style, label=label))
    ax.plot(*x0, marker="o", color="black", label="x0")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(f"{len(regions)} linear regions; the star is the certified maximum")
    out.mkdir(parents=True, exist_ok=True)
    from pwlmodels.plotting import save_figure

    path = save_figure(fig, out / "regions.png")
    plt.close(fig)
    print(f"figure: {path}")
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results"))
    main(parser.parse_args().out)
