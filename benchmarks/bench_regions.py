"""Benchmark relu_to_pwa (exact linear regions over a box) against partition (2-D).

Measures, on the CPU, for ReLU networks ``d-W-W-1`` (``torch.manual_seed(seed)``
with ``seed = 1000 d + W``, PyTorch's default initialisation, float64) over the
box ``[-1, 1]^d``:

1. ``relu_to_pwa`` for d = 2, 3, 4, 5 and growing widths W: the number of
   regions, distinct affine maps (``n_pieces``), seconds and regions per second,
   and the peak resident memory; for each d the widths grow until one takes more
   than ``--limit`` seconds (default 60: the largest network enumerated within
   60 s is the last row with status ``ok``);
2. ``partition`` (today's 2-D enumeration, polygon by polygon) on the same 2-D
   networks, up to the same limit; and a one-hidden-layer family ``2-W-1`` (the
   10^5-region target) with both.

Each case runs in its own Python process (so ``peak_rss_mb``, that process's
peak resident set, and ``rss_increase_mb``, its growth over the baseline after
imports and a warm-up call, belong to that case alone), killed at ``--limit``
seconds (status ``timeout``). ``--quick`` runs a few small cases in this process
instead (memory there is this process's peak so far). Times are one run each
(``time.perf_counter``): the enumerations are deterministic and the large ones
take seconds; on a shared machine they move with the load (reported).

Run::

    python benchmarks/bench_regions.py            # full run, writes results/regions.csv
    python benchmarks/bench_regions.py --quick    # smoke test, writes results/regions_quick.csv
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
import torch
from _common import library_version, write_csv_atomic
from torch import nn

from pwlmodels import partition, relu_to_pwa

WIDTHS = {  # d -> hidden widths W of d-W-W-1, tried in order until one exceeds the limit
    2: (16, 32, 64, 128, 192, 256, 384, 512, 640, 768, 896, 1024),
    3: (8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64),
    4: (6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 32),
    5: (5, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24),
}
WIDE = (250, 500, 1000, 1500, 2000)  # 2-W-1
QUICK = [(2, 16, 2), (3, 6, 2), (4, 5, 2), (5, 4, 2), (2, 64, 1)]  # (d, W, hidden layers)
MAX_REGIONS = 2_000_000
COLUMNS = [
    "method",
    "network",
    "n_in",
    "width",
    "hidden_layers",
    "status",
    "regions",
    "pieces",
    "seconds",
    "regions_per_s",
    "peak_rss_mb",
    "rss_increase_mb",
]


def make_net(d: int, width: int, hidden: int) -> nn.Sequential:
    torch.manual_seed(1000 * d + width)
    sizes = [d] + [width] * hidden + [1]
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(sizes):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1]).double()


def rss_mb() -> float:
    """This process's peak resident set size so far, MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case(method: str, d: int, width: int, hidden: int) -> dict:
    """One enumeration, timed, after a warm-up call (imports, caches)."""
    net = make_net(d, width, hidden)
    box = (-np.ones(d), np.ones(d))
    warm = make_net(d, 2, 1)
    relu_to_pwa(warm, *box)
    if method == "partition":
        partition(warm, *box)
    base = rss_mb()
    start = time.perf_counter()
    if method == "partition":
        regions, pieces = len(partition(net, *box, max_regions=MAX_REGIONS)), None
    else:
        f = relu_to_pwa(net, *box, max_regions=MAX_REGIONS)
        regions, pieces = f.n_regions, f.n_pieces
    seconds = time.perf_counter() - start
    return {
        "status": "ok",
        "regions": regions,
        "pieces": pieces,
        "seconds": seconds,
        "regions_per_s": regions / seconds,
        "peak_rss_mb": rss_mb(),
        "rss_increase_mb": rss_mb() - base,
    }


def run_isolated(method: str, d: int, width: int, hidden: int, limit: float) -> dict:
    """run_case in a fresh process, killed after ``limit`` seconds."""
    cmd = [sys.executable, __file__, "--case", json.dumps([method, d, width, hidden])]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=limit + 10, check=True)
    except subprocess.TimeoutExpired:
        return {"status": "timeout"}
    out = json.loads(done.stdout.strip().splitlines()[-1])
    if out["seconds"] > limit:
        out["status"] = "over limit"
    return out


def row(method: str, d: int, width: int, hidden: int, result: dict) -> dict:
    network = "-".join(map(str, [d] + [width] * hidden + [1]))
    return {"method": method, "network": network, "n_in": d, "width": width} | {
        "hidden_layers": hidden,
        **result,
    }


def sweep(limit: float) -> list[dict]:
    rows = []
    families = [(d, 2, widths) for d, widths in WIDTHS.items()] + [(2, 1, WIDE)]
    for d, hidden, widths in families:
        for method in ("relu_to_pwa", "partition") if d == 2 else ("relu_to_pwa",):
            for width in widths:
                result = run_isolated(method, d, width, hidden, limit)
                rows.append(row(method, d, width, hidden, result))
                print(rows[-1], flush=True)
                if result["status"] != "ok":
                    break
    return rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few small cases, in-process")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds per case (default 60)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="CSV path (default results/regions.csv, or results/regions_quick.csv with --quick)",
    )
    parser.add_argument("--case", default=None, help=argparse.SUPPRESS)  # internal: one case
    args = parser.parse_args(argv)
    if args.limit <= 0:
        parser.error("--limit must be positive")
    return args


def main(argv: list[str] | None = None) -> pd.DataFrame | None:
    args = parse_args(argv)
    if args.case is not None:
        print(json.dumps(run_case(*json.loads(args.case))))
        return None
    start, load = time.perf_counter(), os.getloadavg()[0]
    out = args.out or Path(__file__).resolve().parent / "results" / (
        "regions_quick.csv" if args.quick else "regions.csv"
    )
    if args.quick:
        rows = [
            row(method, d, w, hidden, run_case(method, d, w, hidden))
            for d, w, hidden in QUICK
            for method in (("relu_to_pwa", "partition") if d == 2 else ("relu_to_pwa",))
        ]
    else:
        rows = sweep(args.limit)
    df = pd.DataFrame(rows).reindex(columns=COLUMNS)
    for col in ("regions", "pieces"):
        df[col] = df[col].astype("Int64")
    df["threads"] = torch.get_num_threads()
    df["omp_num_threads"] = os.environ.get("OMP_NUM_THREADS", "")
    df["numpy"], df["scipy"], df["torch"] = np.__version__, scipy.__version__, torch.__version__
    df["pwlmodels"] = library_version()
    write_csv_atomic(df, out)

    total = time.perf_counter() - start
    print(
        f"# bench_regions: numpy {np.__version__}, scipy {scipy.__version__}, "
        f"torch {torch.__version__}, python {platform.python_version()} on "
        f"{platform.machine()} with {os.cpu_count()} CPUs (load {load:.2f} at start), "
        f"pwlmodels {library_version()}\n# limit {args.limit:g} s per case; total "
        f"{total:.1f} s; written to {out}"
    )
    shown = df[COLUMNS].copy()
    print(shown.to_string(index=False, na_rep="", float_format=lambda v: f"{v:.3g}"))
    ok = df[df["status"] == "ok"]
    for (method, hidden, d), part in ok.groupby(["method", "hidden_layers", "n_in"]):
        last = part.iloc[-1]
        print(
            f"# largest within the limit, {method}, {hidden} hidden layer(s), {d} inputs: "
            f"{last['network']} ({last['regions']} regions, {last['seconds']:.1f} s)"
        )
    return df


if __name__ == "__main__":
    main()
