"""Benchmark pwa_to_relu: size, depth, activation regions and rounding of exact PWA networks.

For triangulated interpolants of random data on the unit square and cube
(``numpy.random.default_rng(0)``; the corners plus n random points, values standard
normal) of growing size, and for a saturated linear law ``max(-1, min(1, 2 x1 + x2))``
on [-1, 1]^2 given as its three regions, records:

- ``hidden_layers``, ``max_width``, ``relus`` of ``pwa_to_relu(f)`` (the pruned,
  "gated" lattice) and of the plain lattice (one term per cell with every piece above
  f there, Tarela and Martinez 1999; built only up to ``PLAIN_MAX_REGIONS`` regions),
  and ``arora_hidden_layers = ceil(log2(d + 1))`` (Arora et al. 2018);
- ``patterns_per_piece``: distinct activation patterns among ``N`` uniform samples of
  the domain's box that lie in the domain, divided by ``f.n_pieces`` (1 would mean
  the network's linear regions are the pieces);
- ``build_seconds`` (best of ``--repeats``), ``max_abs_error`` of the float64 network
  against ``f`` at the samples, and ``rounding_bound`` (:func:`pwa_rounding_bound`).

Run::

    python benchmarks/bench_pwa_relu.py            # writes results/pwa_relu.csv
    python benchmarks/bench_pwa_relu.py --quick    # smoke: small cases, 20 000 samples
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _common import best_of, library_version, write_csv_atomic
from torch import nn

from pwlmodels import PiecewiseAffine, evaluate, pwa_rounding_bound, pwa_to_relu
from pwlmodels._pwa_net import _plan
from pwlmodels.network._torch import relu_sequential

SIZES = {2: (3, 24, 45, 95), 3: (2, 8, 12, 25)}  # random points besides the corners
QUICK_SIZES = {2: (3, 20), 3: (2, 6)}
N_FULL, N_QUICK = 200_000, 20_000
PLAIN_MAX_REGIONS = 120
BATCH = 10_000
COLUMNS = [
    "function",
    "d",
    "regions",
    "pieces",
    "network",
    "hidden_layers",
    "arora_hidden_layers",
    "max_width",
    "relus",
    "patterns_per_piece",
    "build_seconds",
    "max_abs_error",
    "rounding_bound",
    "samples",
    "version",
]


def triangulated(d: int, n: int) -> PiecewiseAffine:
    rng = np.random.default_rng(0)
    corners = np.array(np.meshgrid(*[[0.0, 1.0]] * d)).reshape(d, -1).T
    pts = np.vstack([corners, rng.random((n, d))])
    return PiecewiseAffine.from_triangulation(pts, rng.normal(size=len(pts)))


def saturated() -> PiecewiseAffine:
    k = np.array([2.0, 1.0])
    box_A, box_b = np.vstack([np.eye(2), -np.eye(2)]), np.ones(4)
    return PiecewiseAffine.from_regions(
        [
            (np.vstack([box_A, k]), np.r_[box_b, -1.0], np.zeros(2), -1.0),
            (np.vstack([box_A, -k, k]), np.r_[box_b, 1.0, 1.0], k, 0.0),
            (np.vstack([box_A, -k]), np.r_[box_b, -1.0], np.zeros(2), 1.0),
        ]
    )


def plain_network(f: PiecewiseAffine) -> nn.Sequential:
    """The plain lattice network (no pruning), for comparison only."""
    return relu_sequential(_plan(f, prune=False)[2], dtype=torch.float64, device="cpu")


def patterns(net: nn.Sequential, x: np.ndarray) -> int:
    """Distinct activation patterns (ReLU on/off of every unit) at the points."""
    seen: set[bytes] = set()
    with torch.no_grad():
        for start in range(0, len(x), BATCH):
            h = torch.from_numpy(x[start : start + BATCH])
            bits = []
            for layer in net:
                h = layer(h)
                if isinstance(layer, nn.ReLU):
                    bits.append((h > 0).numpy())
            packed = np.packbits(np.hstack(bits), axis=1)
            seen.update(row.tobytes() for row in packed)
    return len(seen)


def measure(name: str, f: PiecewiseAffine, n_samples: int, repeats: int) -> list[dict]:
    lower, upper = f.domain
    rng = np.random.default_rng(1)
    x = rng.uniform(lower, upper, (n_samples, f.n_inputs))
    x = x[~np.isnan(f(x, outside="nan"))]
    rows = []
    kinds = ["pwa_to_relu"] + (["plain lattice"] if f.n_regions <= PLAIN_MAX_REGIONS else [])
    for kind in kinds:
        build = (lambda: pwa_to_relu(f)) if kind == "pwa_to_relu" else (lambda: plain_network(f))
        seconds, net, _ = best_of(build, repeats)
        widths = [layer.out_features for layer in net if isinstance(layer, nn.Linear)][:-1]
        err = float(np.max(np.abs(evaluate(net, x) - f(x))))
        rows.append(
            {
                "function": name,
                "d": f.n_inputs,
                "regions": f.n_regions,
                "pieces": f.n_pieces,
                "network": kind,
                "hidden_layers": len(widths),
                "arora_hidden_layers": math.ceil(math.log2(f.n_inputs + 1)),
                "max_width": max(widths),
                "relus": sum(widths),
                "patterns_per_piece": patterns(net, x) / f.n_pieces,
                "build_seconds": seconds,
                "max_abs_error": err,
                "rounding_bound": pwa_rounding_bound(f, net) if kind == "pwa_to_relu" else None,
                "samples": len(x),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small cases, fewer samples")
    parser.add_argument("--repeats", type=int, default=3, help="builds timed (best of)")
    parser.add_argument("--out", type=Path, default=None, help="CSV path")
    args = parser.parse_args(argv)
    version = library_version()
    torch.set_num_threads(1)
    n = N_QUICK if args.quick else N_FULL
    sizes = QUICK_SIZES if args.quick else SIZES
    start = time.perf_counter()
    rows = measure("saturated law", saturated(), n, args.repeats)
    for d, counts in sizes.items():
        for k in counts:
            rows += measure(f"interpolant {d}-D", triangulated(d, k), n, args.repeats)
    df = pd.DataFrame(rows).assign(version=version)[COLUMNS]
    name = "pwa_relu_quick.csv" if args.quick else "pwa_relu.csv"
    out = args.out or Path(__file__).resolve().parent / "results" / name
    write_csv_atomic(df, out, float_format="%.6g")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(f"pwlmodels {version}; {time.perf_counter() - start:.0f} s")
        print(df.drop(columns=["version"]).to_string(index=False))
    return df


if __name__ == "__main__":
    main()
