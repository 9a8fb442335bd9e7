"""Benchmark fit_pwl out of core: 10^6 and 10^7 points (10^8 with --full) read from parquet.

For each size n the points are written to a folder of parquet files (one file
per million points, ``--rows-per-file``) in a temporary folder: x from a
mixture of a uniform law on [0, 10] and a denser cluster around 3 (uneven
density), x rounded to 1e-6 (duplicates), y a continuous function with 3
kinks plus noise. Then, in a fresh child process each (so that its peak
resident memory is the fit's own), ``fit_pwl("x", "y", data=folder, n_knots=3)`` runs twice:

* untimed memory: under ``tracemalloc`` (``peak_traced_mb``, the largest
  traced allocation total of the fit: numpy buffers, graph, partitions);
* timed: without tracemalloc (``seconds``), then ``ru_maxrss_mb``, the child's
  peak resident memory (interpreter, imports and the fit together; Linux's
  VmHWM, which exec resets, where ru_maxrss would keep the parent's peak).

``growth_seconds`` and ``growth_peak`` divide a size's figure by the previous
size's: about 10 for O(n) time, about 1 for memory that does not grow with n
(one run each: ``load_1min``, the machine's load before the fit, says how much
other jobs shared the cores). At 10^6 the same parquet folder is also read whole
with pandas and fitted in memory (``method = in-memory``): its time (fit only;
reading excluded), its SSR, and ``rel_ssr_vs_in_memory``, the out-of-core SSR's
relative gap to it (0 up to rounding when both find the same optimum; negative:
out of core found a lower SSR). The CSV (``results/outofcore.csv``;
``outofcore_quick.csv`` with ``--quick``) is stamped with the pwlmodels commit
and written atomically; the temporary data are removed.

``--agreement`` instead fits 160 random in-memory cases (20 seeds, 1 to 4 knots,
grid 64 and 256; 3,000 points) both ways and counts where the out-of-core fit is
the same (SSR and knots to 1e-9), lower or higher (``outofcore_agreement.csv``):
both are local searches and may stop in different local optima; ``*_at_best``
say whether each reached the best SSR known (either fit, or in memory with
``n_starts=50``).

:func:`run` is importable (``bench_scale.py`` uses it).

Run::

    OMP_NUM_THREADS=1 python benchmarks/bench_outofcore.py          # 10^6, 10^7: minutes
    OMP_NUM_THREADS=1 python benchmarks/bench_outofcore.py --full   # and 10^8 (1.6 GB disk)
    python benchmarks/bench_outofcore.py --quick                    # smoke test: 2e4, 5e4
    python benchmarks/bench_outofcore.py --agreement                # against in memory
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import dask
import numpy as np
import pandas as pd
from _common import library_version, write_csv_atomic

from pwlmodels import fit_pwl

N_KNOTS = 3
KINKS = (3.0, 6.0, 8.0)
SIGMA = 0.2
COLUMNS = [
    "n",
    "method",
    "files",
    "seconds",
    "growth_seconds",
    "peak_traced_mb",
    "growth_peak",
    "ru_maxrss_mb",
    "ssr",
    "rel_ssr_vs_in_memory",
    "knots",
    "passes_note",
    "load_1min",
    "cpus",
    "dask",
    "pwlmodels",
]


def truth(x: np.ndarray) -> np.ndarray:
    """0.5 x with slope changes +1.5, -2.5, +1.0 at 3, 6 and 8."""
    y = 0.5 * x
    for kink, change in zip(KINKS, (1.5, -2.5, 1.0), strict=True):
        y = y + change * np.maximum(x - kink, 0.0)
    return y


def write_parquet(n: int, folder: Path, *, rows_per_file: int = 10**6, seed: int = 0) -> int:
    """n points in ``ceil(n / rows_per_file)`` parquet files under folder; the file count."""
    folder.mkdir(parents=True, exist_ok=True)
    files = 0
    for start in range(0, n, rows_per_file):
        m = min(rows_per_file, n - start)
        rng = np.random.default_rng([seed, start])
        dense = rng.uniform(size=m) < 0.4
        x = np.where(dense, rng.normal(3.0, 0.5, m), rng.uniform(0.0, 10.0, m))
        x = np.round(np.clip(x, 0.0, 10.0), 6)
        y = truth(x) + rng.normal(0.0, SIGMA, m)
        pd.DataFrame({"x": x, "y": y}).to_parquet(folder / f"part-{files:05d}.parquet")
        files += 1
    return files


def _peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM, which exec resets (ru_maxrss keeps the
    parent's peak across fork and exec on Linux: 900 MB under bench_scale), else ru_maxrss."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def fit_child(folder: str) -> dict:
    """In this (child) process: the fit's traced peak, then its time and peak RSS."""
    fit_pwl("x", "y", data=folder, n_knots=N_KNOTS)  # warm: imports and caches
    tracemalloc.start()
    fit_pwl("x", "y", data=folder, n_knots=N_KNOTS)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    start = time.perf_counter()
    fit = fit_pwl("x", "y", data=folder, n_knots=N_KNOTS)
    seconds = time.perf_counter() - start
    rss = _peak_rss_mb()
    return {
        "seconds": seconds,
        "peak_traced_mb": peak / 2**20,
        "ru_maxrss_mb": rss,
        "ssr": fit.ssr,
        "knots": " ".join(f"{k:.6f}" for k in fit.knots),
        "passes_note": fit.notes[-1],
    }


def in_memory(folder: Path) -> dict:
    frame = pd.read_parquet(folder)
    x, y = frame["x"].to_numpy(), frame["y"].to_numpy()
    start = time.perf_counter()
    fit = fit_pwl(x, y, n_knots=N_KNOTS)
    return {
        "method": "in-memory",
        "seconds": time.perf_counter() - start,
        "ssr": fit.ssr,
        "knots": " ".join(f"{k:.6f}" for k in fit.knots),
    }


def run(sizes, tmpdir, *, rows_per_file: int = 10**6, compare_at: int | None = 10**6) -> list[dict]:
    """One out-of-core row per size (and an in-memory row at ``compare_at``); data written
    under ``tmpdir`` and removed size by size."""
    rows, previous = [], None
    for n in sizes:
        folder = Path(tmpdir) / f"n{n}"
        files = write_parquet(n, folder, rows_per_file=min(rows_per_file, n))
        load = os.getloadavg()[0]  # other jobs share the cores: single runs, noisy times
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(folder)],
            check=True,
            capture_output=True,
            text=True,
        )
        row = {"n": n, "method": "out-of-core", "files": files, "load_1min": load}
        row.update(json.loads(child.stdout.strip().splitlines()[-1]))
        if previous is not None:
            row["growth_seconds"] = row["seconds"] / previous["seconds"]
            row["growth_peak"] = row["peak_traced_mb"] / previous["peak_traced_mb"]
        if n == compare_at:
            mem = {"n": n, "files": files, **in_memory(folder)}
            row["rel_ssr_vs_in_memory"] = (row["ssr"] - mem["ssr"]) / mem["ssr"]
            rows += [row, mem]
        else:
            rows.append(row)
        previous = row
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()
    return rows


def agreement(seeds, ks, grids, *, n: int = 3000) -> list[dict]:
    """Out of core (dask arrays, synchronous) against in memory on random in-memory data:
    uneven density, x rounded to 0.01, k random kinks, noise 0.1; one row per case."""
    import dask.array as da

    rows = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        x = np.concatenate([rng.normal(3.0, 0.8, n // 2), rng.exponential(1.5, n - n // 2)])
        x = np.round(np.clip(x, 0.0, 10.0), 2)
        for k in ks:
            kinks = np.sort(rng.uniform(1.0, 9.0, k))
            slopes = rng.uniform(-2.0, 2.0, k + 1)
            y = slopes[0] * x + rng.normal(0.0, 0.1, n)
            for j in range(k):
                y += (slopes[j + 1] - slopes[j]) * np.maximum(x - kinks[j], 0.0)
            mem = fit_pwl(x, y, n_knots=k)
            best = min(mem.ssr, fit_pwl(x, y, n_knots=k, n_starts=50).ssr)  # best known
            for grid in grids:
                with dask.config.set(scheduler="synchronous"):
                    ooc = fit_pwl(
                        da.from_array(x, 700), da.from_array(y, 700), n_knots=k, grid=grid
                    )
                gap = float(np.max(np.abs(ooc.knots - mem.knots) / np.abs(mem.knots)))
                rel = (ooc.ssr - mem.ssr) / mem.ssr
                same = abs(rel) <= 1e-9 and gap <= 1e-9
                rows.append(
                    {
                        "seed": seed,
                        "k": k,
                        "grid": grid,
                        "rel_ssr": rel,
                        "knot_gap": gap,
                        "outcome": "same" if same else "lower" if rel < 0 else "higher",
                        "in_memory_at_best": mem.ssr <= min(best, ooc.ssr) * (1 + 1e-9),
                        "out_of_core_at_best": ooc.ssr <= min(best, mem.ssr) * (1 + 1e-9),
                    }
                )
    return rows


def plan(*, quick: bool = False, full: bool = False) -> tuple[list[int], int, int]:
    """(sizes, rows per parquet file, the size compared with the in-memory fit) of a run."""
    if quick:
        return [20_000, 50_000], 10_000, 20_000
    return [10**6, 10**7, *([10**8] if full else [])], 10**6, 10**6


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also 10^8 points")
    parser.add_argument("--quick", action="store_true", help="smoke test: 2e4 and 5e4 points")
    parser.add_argument("--out", type=Path, default=None, help="CSV path")
    parser.add_argument(
        "--agreement",
        action="store_true",
        help="instead: out of core against in memory on 20 seeds x 1-4 knots x grid 64, 256",
    )
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> pd.DataFrame | None:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(fit_child(args.child)))
        return None
    start, version = time.perf_counter(), library_version()
    if args.agreement:
        df = pd.DataFrame(agreement(range(20), (1, 2, 3, 4), (64, 256)))
        df["pwlmodels"] = version
        out = args.out or Path(__file__).resolve().parent / "results" / "outofcore_agreement.csv"
        write_csv_atomic(df, out, float_format="%.6g")
        print(df.groupby(["grid", "k", "outcome"]).size().unstack(fill_value=0).to_string())
        print(pd.crosstab(df["in_memory_at_best"], df["out_of_core_at_best"]).to_string())
        print(df[df["outcome"] != "same"].to_string(index=False))
        return df
    sizes, per_file, compare_at = plan(quick=args.quick, full=args.full)
    out = args.out or Path(__file__).resolve().parent / "results" / (
        "outofcore_quick.csv" if args.quick else "outofcore.csv"
    )
    with tempfile.TemporaryDirectory(prefix="bench_outofcore_") as tmp:
        rows = run(sizes, tmp, rows_per_file=per_file, compare_at=compare_at)
    df = pd.DataFrame(rows)
    df["cpus"], df["dask"], df["pwlmodels"] = os.cpu_count(), dask.__version__, version
    df = df.reindex(columns=COLUMNS)
    write_csv_atomic(df, out, float_format="%.6g")
    print(
        f"# bench_outofcore: pwlmodels {version}, dask {dask.__version__}, python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs; {N_KNOTS} free knots; total "
        f"{time.perf_counter() - start:.1f} s; written to {out}"
    )
    print(df.drop(columns=["cpus", "dask", "pwlmodels", "passes_note"]).to_string(index=False))
    return df


if __name__ == "__main__":
    main()
