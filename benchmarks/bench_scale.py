"""Benchmark the scale paths: train_many, fit_many and verify_many against one at a time.

One script, one table (``results/scale.csv``), one row per path and size:

* ``train_many``: M networks 1-32-32-1 trained as one batched model against
  M ``train`` calls (``bench_train_many.row_for``: 300 full-batch Adam steps
  on 512 points, float32, ``--threads`` torch threads); ``same_result`` is
  the median relative weight difference between the two (float32 rounding);
* ``fit_many``: S series of 500 points (``bench_fit_many.make_frame``, 3 free
  knots each) fitted serially against on a warm ``LocalCluster`` of
  ``--workers`` single-threaded worker processes, started as
  ``client="local"`` starts one; ``same_result``: the two
  results bit for bit equal (``bench_fit_many.same_bits``);
* ``verify_many``: the quick ACAS Xu set (``bench_acasxu.QUICK``, 6
  instances, 60 s each) decided serially against on the same cluster (the
  workers' imports done before the clock starts); ``same_result``: the same
  verdicts, and every verdict the published one;
* ``fit_pwl out of core``: ``benchmarks/bench_outofcore.py``'s run at its
  default sizes (10^6 and 10^7 points written to parquet), its rows recorded
  as they are under this path.

``--quick`` runs tiny sizes on a cluster of threads (a smoke test of the
script, not a measurement). Each time is one wall-clock run
(``time.perf_counter``); the cluster's start is not timed. Other jobs may
share the cores: the 1-, 5- and 15-minute load averages (as ``uptime``
prints them) are recorded before each timing. The CSV is stamped with the
pwlmodels commit and written atomically.

Run::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_scale.py
    python benchmarks/bench_scale.py --quick        # smoke test: results/scale_quick.csv
    python benchmarks/bench_scale.py --device cuda --members 1024   # train_many on a GPU
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import bench_acasxu  # the sibling benchmarks: their set-ups reused, not copied
import bench_fit_many
import bench_outofcore
import bench_train_many
import dask
import pandas as pd
import torch
from _common import library_version, write_csv_atomic

from pwlmodels import _dask, fit_many
from pwlmodels.verify import verify_many

HERE = Path(__file__).resolve().parent
QUICK_INSTANCES = ("1_7:prop_4", "2_9:prop_4")  # decided in milliseconds
COLUMNS = [
    "path",
    "size",
    "unit",
    "baseline",
    "method",
    "workers",
    "baseline_s",
    "seconds",
    "speedup",
    "same_result",
    "load_1min",
    "load_5min",
    "load_15min",
    "device",
    "threads",
    "cpus",
    "torch",
    "dask",
    "pwlmodels",
]


def load() -> dict:
    """The 1-, 5- and 15-minute load averages, as ``uptime`` shows them."""
    one, five, fifteen = os.getloadavg()
    return {"load_1min": one, "load_5min": five, "load_15min": fifteen}


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def train_many_rows(args: argparse.Namespace) -> list[dict]:
    cfg = bench_train_many.QUICK if args.quick else bench_train_many.FULL
    device = torch.device(args.device)
    rows = []
    for members in args.members:
        before = load()
        row = bench_train_many.row_for(members, cfg, device, 1, args.loop_max)
        rows.append(
            {
                "path": "train_many",
                "size": members,
                "unit": "networks",
                "baseline": f"{members} train calls",
                "method": "train_many",
                "workers": 1,
                "baseline_s": row["loop_seconds"],
                "seconds": row["batched_seconds"],
                "same_result": f"median rel. weight diff {row['median_rel_diff']:.1e}",
                "device": device.type,
                **before,
            }
        )
    return rows


def fit_many_rows(args: argparse.Namespace, client) -> list[dict]:
    n_series, n_points = (6, 100) if args.quick else (args.series, 500)
    frame = bench_fit_many.make_frame(n_series, n_points)
    options = {"x": "x", "y": "y", "by": "series", "n_knots": bench_fit_many.N_KNOTS}
    before = load()
    serial_s, serial = timed(lambda: fit_many(frame, **options))
    seconds, spread = timed(lambda: fit_many(frame, client=client, **options))
    return [
        {
            "path": "fit_many",
            "size": n_series,
            "unit": f"series of {n_points} points",
            "baseline": "serial",
            "method": "client",
            "workers": args.workers,
            "baseline_s": serial_s,
            "seconds": seconds,
            "same_result": "bit for bit"
            if bench_fit_many.same_bits(serial, spread)
            else "DIFFERENT",
            "device": "cpu",
            **before,
        }
    ]


def _acasxu_instances(quick: bool) -> pd.DataFrame:
    table = pd.read_csv(bench_acasxu.DATA / "instances.csv")
    keys = [bench_acasxu.instance_key(row) for row in table.to_dict("records")]
    wanted = QUICK_INSTANCES if quick else bench_acasxu.QUICK
    return table[[k in wanted for k in keys]].reset_index(drop=True)


def _warm() -> None:
    """The imports a first instance would pay for, done before the clock starts."""
    import onnx  # noqa: F401

    import pwlmodels.io
    import pwlmodels.verify  # noqa: F401


def verify_many_rows(args: argparse.Namespace, client) -> list[dict]:
    if not (bench_acasxu.DATA / "instances.csv").is_file():
        print(f"# verify_many skipped: no ACAS Xu instances in {bench_acasxu.DATA}")
        return []
    table = _acasxu_instances(args.quick)
    _warm()
    client.run(_warm)
    options = {"root": bench_acasxu.DATA, "time_limit": 60.0}
    before = load()
    serial_s, serial = timed(lambda: verify_many(table, **options))
    seconds, spread = timed(lambda: verify_many(table, client=client, **options))
    same = list(serial["status"]) == list(spread["status"])
    published = list(serial["status"]) == list(table["expected"])
    return [
        {
            "path": "verify_many",
            "size": len(table),
            "unit": "ACAS Xu instances",
            "baseline": "serial",
            "method": "client",
            "workers": args.workers,
            "baseline_s": serial_s,
            "seconds": seconds,
            "same_result": ("same verdicts" if same else "DIFFERENT verdicts")
            + ("" if published else ", not all as published"),
            "device": "cpu",
            **before,
        }
    ]


def outofcore_rows(args: argparse.Namespace) -> list[dict]:
    """The rows of benchmarks/bench_outofcore.py's run (its sizes; --quick: its smoke sizes)."""
    sizes, per_file, compare_at = bench_outofcore.plan(quick=args.quick)
    before = load()
    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
        rows = bench_outofcore.run(sizes, tmp, rows_per_file=per_file, compare_at=compare_at)
    in_memory = {r["n"]: r["seconds"] for r in rows if r["method"] == "in-memory"}
    return [
        {
            "path": "fit_pwl out of core",
            "size": r["n"],
            "unit": "points from parquet",
            "baseline": "fit_pwl in memory" if r["n"] in in_memory else "",
            "method": "out of core",
            "workers": 1,
            "baseline_s": in_memory.get(r["n"]),
            "seconds": r["seconds"],
            "speedup": in_memory[r["n"]] / r["seconds"] if r["n"] in in_memory else None,
            "same_result": f"peak {r['peak_traced_mb']:.0f} MB traced, "
            f"{r['ru_maxrss_mb']:.0f} MB resident",
            "device": "cpu",
            **before,
        }
        for r in rows
        if r["method"] == "out-of-core"
    ]


def _at_least_one(text: str) -> int:
    """An argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1; got {value}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=_at_least_one, nargs="+", default=None, help="default 32")
    parser.add_argument("--series", type=_at_least_one, default=400, help="fit_many series (400)")
    parser.add_argument("--workers", type=_at_least_one, default=None, help="workers (2; quick 1)")
    parser.add_argument("--threads", type=_at_least_one, default=1, help="torch threads here (1)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="train_many")
    parser.add_argument("--loop-max", type=_at_least_one, default=10**9, help="train calls timed")
    parser.add_argument("--quick", action="store_true", help="smoke test: seconds")
    parser.add_argument("--out", type=Path, default=None, help="CSV path")
    args = parser.parse_args(argv)
    if args.members is None:
        args.members = [2] if args.quick else [32]
    if args.workers is None:
        args.workers = 1 if args.quick else 2
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device here")
    return args


def main(argv: list[str] | None = None) -> pd.DataFrame:
    """Run every path, write the CSV, print the table; the rows as a DataFrame."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    start, version = time.perf_counter(), library_version()
    out = args.out or HERE / "results" / ("scale_quick.csv" if args.quick else "scale.csv")
    rows = train_many_rows(args)
    # as client="local" starts it (without the nanny's MALLOC_TRIM_THRESHOLD_); --quick: threads
    with _dask.local_client(args.workers, processes=not args.quick) as client:
        rows += fit_many_rows(args, client)
        rows += verify_many_rows(args, client)
    rows += outofcore_rows(args)
    df = pd.DataFrame(rows)
    df["speedup"] = df["baseline_s"] / df["seconds"]
    df["threads"], df["cpus"] = torch.get_num_threads(), os.cpu_count()
    df["torch"], df["dask"], df["pwlmodels"] = torch.__version__, dask.__version__, version
    extra = [c for c in df.columns if c not in COLUMNS]  # the out-of-core rows' own columns
    df = df.reindex(columns=[*COLUMNS, *extra])
    write_csv_atomic(df, out, float_format="%.6g")
    print(
        f"# bench_scale: pwlmodels {version}, torch {torch.__version__}, dask "
        f"{dask.__version__}, python {platform.python_version()} on {platform.machine()} with "
        f"{os.cpu_count()} CPUs, {args.threads} torch thread(s); total "
        f"{time.perf_counter() - start:.1f} s; written to {out}"
    )
    shown = df[["path", "size", "baseline", "workers", "baseline_s", "seconds", "speedup"]]
    shown = shown.assign(same_result=df["same_result"], load_1min=df["load_1min"])
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    return df


if __name__ == "__main__":
    main()
