"""Benchmark pwlmodels.verify.check on ACAS Xu (VNN-COMP 2021) against nnenum and alpha-beta-CROWN.

Every instance of ``instances.csv`` in the shared benchmark folder
(``../shared/benchmarks/acasxu``, ``--data``): the network read by
:func:`pwlmodels.io.from_onnx`, the property by
:func:`pwlmodels.io.load_vnnlib`, decided by ``check(net, spec,
time_limit=LIMIT)`` (default 60 s each, as VNN-COMP 2021). Recorded per
instance: our verdict, whether it is the expected one (``correct``), whether it
is a decision that contradicts the expected one (``wrong``: a must-be-zero),
``load_s`` (reading both files), ``check_s``, ``time_s`` (their sum),
``n_boxes`` (boxes bounded: load-independent), and the published
``nnenum_s`` / ``abcrown_s`` of VNN-COMP 2021 beside them. Those are
competition times on the competition's hardware with each tool's start-up
included (about 0.8 s for nnenum, 6-7 s for alpha-beta-CROWN); ours are this
machine's, without the process start-up (``startup_s``: importing
pwlmodels.verify, pwlmodels.io and onnx in a fresh interpreter, measured once
and printed). Sat verdicts carry a counterexample checked in real arithmetic
(:func:`pwlmodels.verify.check`).

Usage::

    python benchmarks/bench_acasxu.py                  # all 76, writes results/acasxu.csv
    python benchmarks/bench_acasxu.py --quick          # 6 instances, results/acasxu_quick.csv
    python benchmarks/bench_acasxu.py --only 1_1:prop_1,2_7:prop_1 --limit 120
    python benchmarks/bench_acasxu.py --device cuda    # on a GPU, when one is present
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import torch
from _common import library_version, stamp_torch, write_csv_atomic

from pwlmodels.io import from_onnx, load_vnnlib
from pwlmodels.verify import check

DATA = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "acasxu"
QUICK = ("1_1:prop_1", "1_2:prop_2", "1_7:prop_4", "2_1:prop_3", "2_9:prop_4", "2_9:prop_8")
STARTUP = "import pwlmodels.verify, pwlmodels.io, onnx"


def instance_key(row: dict) -> str:
    """``1_1:prop_1`` for network ACASXU_run2a_1_1_batch_2000.onnx and prop_1.vnnlib."""
    net = row["onnx"].removeprefix("ACASXU_run2a_").removesuffix("_batch_2000.onnx")
    return f"{net}:{Path(row['vnnlib']).stem}"


def run_instance(row: dict, data: Path, limit: float, device: str) -> dict:
    t0 = time.perf_counter()
    net = from_onnx(data / row["onnx"]).to(device)
    spec = load_vnnlib(data / row["vnnlib"])
    t1 = time.perf_counter()
    result = check(net, spec, time_limit=limit)
    t2 = time.perf_counter()
    decided = result.status in ("sat", "unsat")
    return {
        "instance": instance_key(row),
        "expected": row["expected"],
        "status": result.status,
        "correct": result.status == row["expected"],
        "wrong": decided and result.status != row["expected"],
        "load_s": t1 - t0,
        "check_s": t2 - t1,
        "time_s": t2 - t0,
        "n_boxes": result.n_boxes,
        "nnenum_s": float(row["nnenum_s"]),
        "abcrown_s": float(row["abcrown_s"]),
    }


def startup_seconds() -> float:
    """Seconds to import what ``pwlmodels verify --vnnlib`` needs, in a fresh interpreter."""
    code = f"import time; t = time.perf_counter(); {STARTUP}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help=f"default {DATA}")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds per instance")
    parser.add_argument("--only", default="", help="comma-separated instances, e.g. 1_1:prop_1")
    parser.add_argument("--quick", action="store_true", help=f"only {','.join(QUICK)}")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--out", type=Path, default=None, help="CSV path")
    args = parser.parse_args(argv)
    if not (args.data / "instances.csv").is_file():
        parser.error(f"--data: no instances.csv in {args.data}")
    if not args.limit > 0:
        parser.error("--limit must be positive")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device here")
    return args


def main(argv: list[str] | None = None) -> pd.DataFrame:
    args = parse_args(argv)
    load = os.getloadavg()[0]
    version = library_version()
    with open(args.data / "instances.csv") as fh:
        rows = list(csv.DictReader(fh))
    wanted = set(QUICK if args.quick else filter(None, args.only.split(",")))
    unknown = wanted - {instance_key(r) for r in rows}
    if unknown:
        raise SystemExit(f"--only: no such instances {sorted(unknown)}")
    rows = [r for r in rows if not wanted or instance_key(r) in wanted]
    records = []
    for row in rows:
        rec = run_instance(row, args.data, args.limit, args.device)
        records.append(rec)
        flag = "WRONG" if rec["wrong"] else ("" if rec["correct"] else "undecided")
        print(
            f"{rec['instance']:12s} expected {rec['expected']:5s} got {rec['status']:7s} "
            f"{rec['time_s']:7.2f} s {rec['n_boxes']:8d} boxes  nnenum {rec['nnenum_s']:6.2f} s "
            f"{flag}",
            flush=True,
        )
    df = pd.DataFrame(records)
    df["limit_s"] = args.limit
    df["device"] = args.device
    stamp_torch(df, version)
    name = "acasxu_quick.csv" if args.quick else "acasxu.csv"
    out = args.out or Path(__file__).resolve().parent / "results" / name
    write_csv_atomic(df, out, float_format="%.6g")
    decided = int(df["status"].isin(["sat", "unsat"]).sum())
    print(
        f"# bench_acasxu: {len(df)} instances, limit {args.limit:g} s, device {args.device}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), python "
        f"{platform.python_version()} on {platform.machine()} with {os.cpu_count()} CPUs "
        f"(load {load:.2f} at start)\n"
        f"decided {decided}/{len(df)} ({100 * decided / len(df):.1f} %), "
        f"wrong {int(df['wrong'].sum())}, correct {int(df['correct'].sum())}\n"
        f"total {df['time_s'].sum():.1f} s (ours, no start-up; +{startup_seconds():.2f} s "
        f"start-up per process), nnenum {df['nnenum_s'].sum():.1f} s, alpha-beta-CROWN "
        f"{df['abcrown_s'].sum():.1f} s (VNN-COMP 2021, start-up included); ours / nnenum "
        f"{df['time_s'].sum() / df['nnenum_s'].sum():.2f}\n"
        f"wrote {out}"
    )
    return df


if __name__ == "__main__":
    main()
