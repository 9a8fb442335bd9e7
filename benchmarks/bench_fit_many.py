"""Benchmark pwlmodels.fit_many: many series, serial against a Dask LocalCluster and pwlf.

For each number of series S (default 200 and 1000), S series of ``--points``
points each (default 500) are drawn, each a continuous piecewise-linear
function with 3 interior knots of its own plus noise, and fitted with 3 free
knots by

* ``pwlmodels serial``: ``fit_many(frame, x=, y=, by=, n_knots=3)``, one group
  after another in this process;
* ``pwlmodels client`` (warm): the same call with ``client=`` a Client of an
  already running ``LocalCluster(n_workers=W, threads_per_worker=1,
  processes=True)``, W = the cores (``--workers``); the cluster's start is not
  timed;
* ``pwlmodels client="local"`` (cold): ``client="local"``, which starts such a
  cluster, fits and closes it; all of it timed;
* ``pwlf fitfast``: ``pwlf.PiecewiseLinFit(x, y, seed=0).fitfast(4)`` per
  series, one by one (pwlf's L-BFGS-B from 2 Latin-hypercube starts);
* ``pwlf fit``: ``.fit(4)`` (differential evolution, about 30x slower than
  fitfast) on the first ``--pwlf-fit-series`` series only (default 20):
  ``seconds`` is then the time for those, ``per_fit_ms`` the time a fit, and
  ``projected_s`` the time all S would take at that rate (not measured).

Recorded per (S, method): wall seconds (one run; the fits are many, so one
run averages over them), milliseconds a fit, ``ratio_vs_serial`` (a method's
time a fit over pwlmodels serial's), ``reached_best`` (the share of the fitted
series whose SSR is within 1e-6 relative of the best SSR any method found on
that series) and ``worst_rel_gap`` (the largest such relative gap),
``cpu_s`` (CPU seconds: of this process for the serial and pwlf runs, summed
over the worker processes for the warm cluster, read with psutil; blank for
the cold one), ``identical_to_serial`` (the cluster runs: every array, float and
spline of the result bit for bit equal to the serial run) and the 1-minute
load average before each method ran (other jobs share the cores). The CSV
(``results/fit_many.csv``, or ``fit_many_quick.csv`` with ``--quick``) is
stamped with the pwlmodels commit and written atomically.

Run::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_fit_many.py
    python benchmarks/bench_fit_many.py --quick      # smoke test, seconds (no cold start)
    python benchmarks/bench_fit_many.py --series 400 --points 1000 --workers 2
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import dask
import distributed
import numpy as np
import pandas as pd
import psutil
import pwlf
from _common import library_version, write_csv_atomic

from pwlmodels import fit_many

N_KNOTS = 3
SIGMA = 0.05
REL_TOL = 1e-6
COLUMNS = [
    "n_series",
    "n_points",
    "n_knots",
    "method",
    "workers",
    "series_timed",
    "seconds",
    "per_fit_ms",
    "projected_s",
    "ratio_vs_serial",
    "reached_best",
    "worst_rel_gap",
    "identical_to_serial",
    "cpu_s",
    "load_1min",
    "cpus",
    "dask",
    "pwlf",
    "pwlmodels",
]


def make_frame(n_series: int, n_points: int, seed: int = 0) -> pd.DataFrame:
    """Series ``s0000``...: x uniform on [0, 10], 3 knots at least 1 apart, noise SIGMA."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 10.0, (n_series, n_points))
    gaps = rng.dirichlet(np.ones(N_KNOTS + 1), n_series) * (8.0 - N_KNOTS) + 1.0
    knots = np.cumsum(gaps, axis=1)[:, :N_KNOTS]
    slopes = rng.uniform(-2.0, 2.0, (n_series, N_KNOTS + 1))
    y = slopes[:, :1] * x
    for j in range(N_KNOTS):
        y += (slopes[:, j + 1 : j + 2] - slopes[:, j : j + 1]) * np.maximum(
            x - knots[:, j : j + 1], 0
        )
    y += rng.normal(0.0, SIGMA, y.shape)
    names = np.repeat([f"s{i:04d}" for i in range(n_series)], n_points)
    return pd.DataFrame({"series": names, "x": x.ravel(), "y": y.ravel()})


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _cpu_seconds() -> float:
    times = psutil.Process().cpu_times()
    return times.user + times.system


def workers_cpu(client) -> float:
    """CPU seconds the cluster's worker processes have used so far, summed."""
    return sum(client.run(_cpu_seconds).values())


def pwlf_ssr(frame: pd.DataFrame, how: str, limit: int) -> tuple[float, pd.Series]:
    """Seconds and SSR per series of pwlf's fit or fitfast on the first ``limit`` series."""
    ssr, total = {}, 0.0
    for i, (key, part) in enumerate(frame.groupby("series", sort=True)):
        if i >= limit:
            break
        x, y = part["x"].to_numpy(), part["y"].to_numpy()
        start = time.perf_counter()
        model = pwlf.PiecewiseLinFit(x, y, seed=0)
        getattr(model, how)(N_KNOTS + 1)
        total += time.perf_counter() - start
        ssr[key] = float(model.ssr)
    return total, pd.Series(ssr)


def same_bits(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    arrays = ("knots", "values", "value_se", "slope_se", "knot_se")
    floats = ("x_min", "x_max", "ssr", "aic", "bic")
    return (
        a.index.equals(b.index)
        and all(
            (u is None and v is None) or np.array_equal(u, v)
            for col in arrays
            for u, v in zip(a[col], b[col], strict=True)
        )
        and all(np.array_equal(a[c].to_numpy(), b[c].to_numpy(), equal_nan=True) for c in floats)
        and all(u == v for u, v in zip(a["spline"], b["spline"], strict=True))
    )


def run_size(n_series: int, args: argparse.Namespace, client) -> list[dict]:
    frame = make_frame(n_series, args.points)
    options = {"x": "x", "y": "y", "by": "series", "n_knots": N_KNOTS}
    rows, ssr = [], {}

    def record(method, seconds, timed_series, workers=1, **extra):
        rows.append(
            {
                "n_series": n_series,
                "method": method,
                "workers": workers,
                "series_timed": timed_series,
                "seconds": seconds,
                "per_fit_ms": 1e3 * seconds / timed_series,
                **extra,
            }
        )

    load, cpu = os.getloadavg()[0], time.process_time()
    seconds, serial = timed(lambda: fit_many(frame, **options))
    cpu = time.process_time() - cpu
    record("pwlmodels serial", seconds, n_series, load_1min=load, cpu_s=cpu)
    ssr["pwlmodels serial"] = serial["ssr"]
    load, cpu = os.getloadavg()[0], workers_cpu(client)
    seconds, warm = timed(lambda: fit_many(frame, client=client, **options))
    cpu = workers_cpu(client) - cpu
    record(
        "pwlmodels client (warm)",
        seconds,
        n_series,
        args.workers,
        identical_to_serial=same_bits(serial, warm),
        load_1min=load,
        cpu_s=cpu,
    )
    if args.cold:
        load = os.getloadavg()[0]
        seconds, cold = timed(lambda: fit_many(frame, client="local", **options))
        record(
            'pwlmodels client="local" (cold)',
            seconds,
            n_series,
            os.cpu_count(),
            identical_to_serial=same_bits(serial, cold),
            load_1min=load,
        )
    for how, limit in (("fitfast", n_series), ("fit", min(n_series, args.pwlf_fit_series))):
        if limit == 0:
            continue
        load, cpu = os.getloadavg()[0], time.process_time()
        seconds, ssr[f"pwlf {how}"] = pwlf_ssr(frame, how, limit)
        record(
            f"pwlf {how}",
            seconds,
            limit,
            projected_s=seconds / limit * n_series if limit < n_series else np.nan,
            load_1min=load,
            cpu_s=time.process_time() - cpu,
        )
    best = pd.concat(ssr, axis=1).min(axis=1)
    base = rows[0]["per_fit_ms"]
    for row in rows:
        method = row["method"] if row["method"] in ssr else "pwlmodels serial"
        got = ssr[method]
        gap = (got - best[got.index]) / best[got.index]
        row["reached_best"] = float((gap <= REL_TOL).mean())
        row["worst_rel_gap"] = float(gap.max())
        row["ratio_vs_serial"] = row["per_fit_ms"] / base
    return rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, nargs="+", default=None, help="default 200 1000")
    parser.add_argument("--points", type=int, default=None, help="points a series (500)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="warm cluster")
    parser.add_argument("--pwlf-fit-series", type=int, default=None, help="pwlf fit on (20)")
    parser.add_argument(
        "--cold",
        action=argparse.BooleanOptionalAction,
        default=None,
        help='time client="local" too (default: yes, no with --quick)',
    )
    parser.add_argument("--quick", action="store_true", help="smoke test: 6 series of 100")
    parser.add_argument("--out", type=Path, default=None, help="CSV path")
    args = parser.parse_args(argv)
    quick = {"series": [6], "points": 100, "pwlf_fit_series": 1, "cold": False}
    full = {"series": [200, 1000], "points": 500, "pwlf_fit_series": 20, "cold": True}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if min(args.series) < 1 or args.points < 2 * N_KNOTS + 4 or args.workers < 1:
        parser.error("--series and --workers must be >= 1 and --points >= 10")
    return args


def main(argv: list[str] | None = None) -> pd.DataFrame:
    args = parse_args(argv)
    start, version = time.perf_counter(), library_version()
    out = args.out or Path(__file__).resolve().parent / "results" / (
        "fit_many_quick.csv" if args.quick else "fit_many.csv"
    )
    rows = []
    with (
        distributed.LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        for n_series in args.series:
            rows += run_size(n_series, args, client)
    df = pd.DataFrame(rows)
    df["n_points"], df["n_knots"], df["cpus"] = args.points, N_KNOTS, os.cpu_count()
    df["dask"], df["pwlf"], df["pwlmodels"] = dask.__version__, pwlf.__version__, version
    df = df.reindex(columns=COLUMNS)
    write_csv_atomic(df, out, float_format="%.6g")
    threads = ",".join(
        f"{v}={os.environ[v]}"
        for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
        if v in os.environ
    )
    print(
        f"# bench_fit_many: pwlmodels {version}, dask {dask.__version__}, pwlf "
        f"{pwlf.__version__}, python {platform.python_version()}, {os.cpu_count()} CPUs "
        f"({threads or 'default threads'}); {args.points} points and {N_KNOTS} free knots a "
        f"series; total {time.perf_counter() - start:.1f} s; written to {out}\n"
        "# ratio_vs_serial: time a fit over pwlmodels serial's (below 1: faster); load_1min: "
        "the machine's load before the method ran (other jobs share the cores); cpu_s: CPU "
        "seconds (the warm cluster's: its workers', summed)"
    )
    shown = df.drop(columns=["n_points", "n_knots", "cpus", "dask", "pwlf", "pwlmodels"])
    print(shown.to_string(index=False, na_rep="", float_format=lambda v: f"{v:.3g}"))
    return df


if __name__ == "__main__":
    main()
