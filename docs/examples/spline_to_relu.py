"""Convert a spline to an exact ReLU network, check it against `rounding_bound`,
and draw the network's hinge decomposition.

Run:  python docs/examples/spline_to_relu.py --out DIR   (writes DIR/hinge_decomposition.png)
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from pwlmodels import PiecewiseLinear, evaluate, relu_to_spline, rounding_bound, spline_to_relu


def main(out: Path) -> Path:
    # A kinked function: a capped tent with a sloped tail (5 knots).
    f = PiecewiseLinear([0.0, 1.0, 2.0, 3.5, 5.0], [0.0, 2.0, 2.0, -1.0, 0.0], left_slope=0.0)
    net = spline_to_relu(f)  # Linear(1, H), ReLU(), Linear(H, 1) in float64

    # Exactness: at knots, midpoints, random points and far outside the knot range.
    rng = np.random.default_rng(0)
    x = np.concatenate([f.knots, rng.uniform(-1e6, 1e6, 1000), np.linspace(-10, 15, 1001)])
    err = np.abs(evaluate(net, x) - f(x))
    ratio = float(np.max(err / np.maximum(rounding_bound(f, x), np.finfo(float).tiny)))
    assert ratio <= 1.0, ratio
    back = relu_to_spline(net)  # and back: the same knots, bit for bit
    assert np.array_equal(back.knots, f.simplify().knots)
    assert np.all(np.abs(back(x) - f(x)) <= rounding_bound(f, x))
    print(
        f"H = {net[0].out_features} hidden units for {len(f.knots)} knots; "
        f"max error / rounding bound = {ratio:.3f}"
    )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = np.linspace(-1.0, 6.0, 701)
    with torch.no_grad():
        hidden = net[1](net[0](torch.as_tensor(xs[:, None]))).numpy()
    a = net[2].weight.detach().numpy()[0]
    c = float(net[2].bias.detach()[0])
    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    for i in range(hidden.shape[1]):
        ax.plot(xs, a[i] * hidden[:, i], lw=1, ls="--", label=f"unit {i}: a={a[i]:+.2f}")
    ax.plot(xs, c + hidden @ a, color="k", lw=2.5, alpha=0.4, label="network: c + sum")
    ax.plot(f.knots, f.values, "o", color="C3", label="spline knots")
    ax.set_xlabel("x (input units)")
    ax.set_ylabel("f(x) (output units)")
    ax.set_title("The network is the sum of one hinge per kink, plus a constant")
    ax.legend(fontsize=8, ncol=2)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "hinge_decomposition.png"
    fd, tmp = tempfile.mkstemp(dir=out, suffix=".png")  # write, then rename: never half a file
    os.close(fd)
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)
    print(f"figure: {path}")
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results"))
    main(parser.parse_args().out)
