"""Benchmark "ReLU is cheaper than sigmoid or tanh": forward + backward time per epoch.

Measures, in one run, for the same multilayer perceptron built by
``pwlmodels.make_mlp`` with each activation in ``ACTIVATIONS`` (ReLU,
sigmoid, tanh, GELU; float32, seed 0):

1. ``epoch``: the time of one epoch of forward and backward passes (MSE loss,
   ``zero_grad``, ``backward``; no optimizer step, so only the passes are
   timed) over ``N`` inputs in mini-batches of ``BATCH``, on every device:
   the CPU and, when ``torch.cuda.is_available()``, the first GPU (timed
   with ``torch.cuda.synchronize()`` before reading the clock). The data are
   standard normal, drawn by a local generator.
2. ``activation only``: the forward and backward time of the activation
   alone on a (BATCH, width) tensor, repeated as many times as the epoch
   applies it (``N / BATCH`` batches x hidden layers), to show what share
   of the epoch the activation itself takes.

Every time is the best of ``--repeats`` runs (``time.perf_counter``) after one
warm-up run, the activations taking turns within each round (so a change in
the machine's load affects them alike); ``ratio_vs_relu`` divides by ReLU's
time for the same task and device. torch runs on ``--threads`` CPU threads (default 1; recorded).

Run::

    python benchmarks/bench_activations.py            # writes results/activations.csv
    python benchmarks/bench_activations.py --quick    # smoke test: results/activations_quick.csv
    python benchmarks/bench_activations.py --threads 2 --repeats 5

It prints a header (versions, threads, settings, total runtime) and a table,
and writes the same rows as a tidy CSV (one row per task, device and
activation) next to this file, atomically.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from _common import best_of, library_version, stamp_torch, write_csv_atomic

from pwlmodels import make_mlp

ACTIVATIONS = ("relu", "sigmoid", "tanh", "gelu")
FULL = {"n_in": 64, "hidden": (512, 512, 512), "N": 16_384, "BATCH": 256}
QUICK = {"n_in": 16, "hidden": (64, 64), "N": 1_024, "BATCH": 256}
COLUMNS = [
    "task",
    "device",
    "activation",
    "seconds_per_epoch",
    "ratio_vs_relu",
    "repeats",
    "config",
    "threads",
    "torch",
    "pwlmodels",
]

Row = dict[str, Any]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def epoch_fn(activation: str, cfg: dict, device: torch.device):
    """A function running one epoch of forward + backward passes of the network."""
    net = make_mlp(cfg["n_in"], cfg["hidden"], 1, activation=activation, device=device, seed=0)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(cfg["N"], cfg["n_in"], generator=gen).to(device)
    y = torch.randn(cfg["N"], 1, generator=gen).to(device)
    batches = list(zip(x.split(cfg["BATCH"]), y.split(cfg["BATCH"]), strict=True))

    def run() -> None:
        for xb, yb in batches:
            net.zero_grad(set_to_none=True)
            torch.nn.functional.mse_loss(net(xb), yb).backward()
        _sync(device)

    return run


def activation_fn(activation: str, cfg: dict, device: torch.device):
    """A function applying the activation alone, forward + backward, as often as an epoch does."""
    from pwlmodels.nets import ACTIVATIONS as MODULES

    act = MODULES[activation]()
    width = cfg["hidden"][0]
    gen = torch.Generator().manual_seed(2)
    z = torch.randn(cfg["BATCH"], width, generator=gen).to(device).requires_grad_(True)
    calls = (cfg["N"] // cfg["BATCH"]) * len(cfg["hidden"])

    def run() -> None:
        for _ in range(calls):
            torch.autograd.grad(act(z).sum(), z)
        _sync(device)

    return run


def rows_for(device: torch.device, cfg: dict, repeats: int) -> list[Row]:
    """Best-of-``repeats`` times, the activations taking turns (so drifts in load hit all)."""
    rows = []
    for task, factory in (("epoch", epoch_fn), ("activation only", activation_fn)):
        fns = {a: factory(a, cfg, device) for a in ACTIVATIONS}
        for fn in fns.values():
            fn()  # warm-up: allocations, kernel selection
        best = dict.fromkeys(ACTIVATIONS, float("inf"))
        for _ in range(repeats):
            for activation, fn in fns.items():
                seconds, _, _ = best_of(fn, 1)
                best[activation] = min(best[activation], seconds)
        for activation in ACTIVATIONS:
            rows.append(
                {
                    "task": task,
                    "device": device.type,
                    "activation": activation,
                    "seconds_per_epoch": best[activation],
                    "ratio_vs_relu": best[activation] / best["relu"],
                    "repeats": repeats,
                }
            )
    return rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="best of R timings (default 7)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--quick", action="store_true", help="smoke test: a small network")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="CSV path (default results/activations.csv, or activations_quick.csv with --quick)",
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    return args


def main(argv: list[str] | None = None) -> pd.DataFrame:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    start, load = time.perf_counter(), os.getloadavg()[0]
    cfg = QUICK if args.quick else FULL
    out = args.out or Path(__file__).resolve().parent / "results" / (
        "activations_quick.csv" if args.quick else "activations.csv"
    )
    devices = [torch.device("cpu")]
    if torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    rows: list[Row] = []
    for device in devices:
        rows += rows_for(device, cfg, args.repeats)
    sizes = "-".join(map(str, (cfg["n_in"], *cfg["hidden"], 1)))
    gpu = f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""
    config = (
        f"{sizes} MLP (make_mlp, float32), {cfg['N']} inputs in batches of {cfg['BATCH']}, "
        f"forward + backward (MSE, no optimizer step), best of {args.repeats}; "
        f"{platform.machine()} with {os.cpu_count()} CPUs, {args.threads} torch thread(s){gpu}"
    )
    df = pd.DataFrame(rows).reindex(columns=COLUMNS)
    df["config"] = config
    stamp_torch(df)
    write_csv_atomic(df, out)
    total = time.perf_counter() - start
    print(
        f"# bench_activations: torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"python {platform.python_version()} on {platform.machine()} with {os.cpu_count()} "
        f"CPUs (load {load:.2f} at start), pwlmodels {library_version()}\n"
        f"# {config}; total {total:.1f} s; written to {out}"
    )
    shown = df[["task", "device", "activation", "seconds_per_epoch", "ratio_vs_relu"]]
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    return df


if __name__ == "__main__":
    main()
