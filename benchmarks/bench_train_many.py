"""Benchmark ``train_many`` against a loop of ``train``: many small networks at once.

For each member count M (``--members``, default 32 and 128), M networks
1-32-32-1 (``make_mlp``, ReLU, float32, seeds 0..M-1) are trained for
``EPOCHS`` full-batch Adam steps (lr 1e-2) on ``POINTS`` points of
``|x| + 0.1 sin(4 x)`` on [-1, 1]:

1. ``loop``: ``train(net, x, y, ...)`` for every network, one after another;
   with ``--loop-max K`` only the first K networks are timed and the time is
   scaled by M / K (the ``loop_timed`` column says how many were timed; on a
   GPU a loop over thousands of networks would take many minutes);
2. ``batched``: one ``train_many(nets, x, y, ...)`` call (chunk size from
   the device's free memory, recorded).

Both start from the same weights; a network's difference is its largest
weight difference between the two, relative to that tensor's largest
magnitude (float32 rounding, amplified by training); ``median_rel_diff`` and
``max_rel_diff`` are over the networks timed in the loop. Each time is the best of
``--repeats`` runs (``time.perf_counter``; ``torch.cuda.synchronize`` on a
GPU) after a short warm-up; torch runs on ``--threads`` CPU threads (default 1).

Run::

    python benchmarks/bench_train_many.py            # writes results/train_many.csv
    python benchmarks/bench_train_many.py --quick    # smoke test: results/train_many_quick.csv
    python benchmarks/bench_train_many.py --device cuda --members 1024 8192 --loop-max 16

It prints a header (versions, threads, load, settings) and a table, and writes
the same rows as a tidy CSV (one row per device and member count), atomically.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from _common import best_of, library_version, stamp_torch, write_csv_atomic

from pwlmodels import _batched
from pwlmodels.nets import make_mlp, train, train_many

FULL = {"hidden": (32, 32), "points": 512, "epochs": 300}
QUICK = {"hidden": (8,), "points": 64, "epochs": 5}
COLUMNS = [
    "device",
    "members",
    "loop_seconds",
    "loop_timed",
    "batched_seconds",
    "speedup",
    "median_rel_diff",
    "max_rel_diff",
    "chunk_size",
    "repeats",
    "config",
    "threads",
    "torch",
    "pwlmodels",
]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def row_for(members: int, cfg: dict, device: torch.device, repeats: int, loop_max: int) -> dict:
    """Time the loop and the batched call for ``members`` networks; compare their weights."""
    x = np.linspace(-1.0, 1.0, cfg["points"])
    y = np.abs(x) + 0.1 * np.sin(4 * x)
    start = [make_mlp(1, cfg["hidden"], 1, device=device, seed=s) for s in range(members)]
    options = {"epochs": cfg["epochs"], "lr": 1e-2}
    timed = min(members, loop_max)
    looped: list[torch.nn.Module] = []
    batched: list[torch.nn.Module] = []

    def loop() -> None:
        looped[:] = [copy.deepcopy(net) for net in start[:timed]]
        for net in looped:
            train(net, x, y, **options)
        _sync(device)

    def together() -> None:
        batched[:] = [copy.deepcopy(net) for net in start]
        train_many(batched, x, y, **options)
        _sync(device)

    train_many([copy.deepcopy(net) for net in start[:2]], x, y, epochs=2, lr=1e-2)  # warm-up
    loop_seconds, _, _ = best_of(loop, repeats)
    batched_seconds, _, _ = best_of(together, repeats)
    loop_seconds *= members / timed
    diffs = [
        max(
            float((p - q).detach().abs().max() / q.detach().abs().max().clamp_min(1e-30))
            for p, q in zip(a.parameters(), b.parameters(), strict=True)
        )
        for a, b in zip(batched[:timed], looped, strict=True)
    ]  # per network: its largest relative weight difference
    chunk = _batched.chunk_size_for(start[0], cfg["points"], members, device)
    return {
        "device": device.type,
        "members": members,
        "loop_seconds": loop_seconds,
        "loop_timed": timed,
        "batched_seconds": batched_seconds,
        "speedup": loop_seconds / batched_seconds,
        "median_rel_diff": float(np.median(diffs)),
        "max_rel_diff": max(diffs),
        "chunk_size": chunk,
        "repeats": repeats,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, nargs="+", default=None, help="default 32 128")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="default cpu")
    parser.add_argument("--repeats", type=int, default=1, help="best of R timings (default 1)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--loop-max", type=int, default=10**9, help="time at most K loop nets")
    parser.add_argument("--quick", action="store_true", help="smoke test: tiny networks")
    parser.add_argument("--out", type=Path, default=None, help="CSV path")
    args = parser.parse_args(argv)
    for name in ("repeats", "threads", "loop_max"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.members is not None and min(args.members) < 1:
        parser.error("--members must be at least 1")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda needs a CUDA device; none is available")
    return args


def main(argv: list[str] | None = None) -> pd.DataFrame:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    begin, load = time.perf_counter(), os.getloadavg()[0]
    cfg = QUICK if args.quick else FULL
    members = args.members or ([2, 3] if args.quick else [32, 128])
    out = args.out or Path(__file__).resolve().parent / "results" / (
        "train_many_quick.csv" if args.quick else "train_many.csv"
    )
    device = torch.device(args.device)
    rows: list[dict[str, Any]] = [
        row_for(m, cfg, device, args.repeats, args.loop_max) for m in members
    ]
    sizes = "-".join(map(str, (1, *cfg["hidden"], 1)))
    gpu = f", GPU {torch.cuda.get_device_name(0)}" if device.type == "cuda" else ""
    config = (
        f"{sizes} MLPs (make_mlp, ReLU, float32), {cfg['epochs']} full-batch Adam steps on "
        f"{cfg['points']} points, best of {args.repeats}; {platform.machine()} with "
        f"{os.cpu_count()} CPUs (load {load:.2f} at start), {args.threads} torch thread(s){gpu}"
    )
    df = pd.DataFrame(rows).reindex(columns=COLUMNS)
    df["config"] = config
    stamp_torch(df)
    write_csv_atomic(df, out)
    print(
        f"# bench_train_many: torch {torch.__version__}, python {platform.python_version()}, "
        f"pwlmodels {library_version()}\n# {config}; total "
        f"{time.perf_counter() - begin:.1f} s; written to {out}"
    )
    shown = df[["device", "members", "loop_seconds", "batched_seconds", "speedup"]]
    shown = shown.assign(median_rel_diff=df.median_rel_diff, max_rel_diff=df.max_rel_diff)
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    return df


if __name__ == "__main__":
    main()
