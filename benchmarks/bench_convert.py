"""Benchmark the spline <-> ReLU conversions against numpy.interp and scipy.

Measures, in one run, on the CPU:

1. ``build``: the time of ``spline_to_relu`` for K = 10 ... 100 000 knots with
   random-walk values (``numpy.random.default_rng(0)``): the hinge form on a
   spline with zero end slopes (the one used in 2), the hinge form with the
   end segments continued (``width="min"`` then has to search the facing),
   and the ramp form. A build is repeated only while its repeats so far
   took less than ``REPEAT_BUDGET`` seconds in all.
2. ``evaluate``: for K = 10, 100, 1000 at N = 1 000 000 points (uniform over
   the knot range, 5% outside it), the time and the maximum relative error
   ``max|y - ref| / max|ref|`` of the hinge and ramp networks in float64 and
   float32 (under ``torch.no_grad``, in batches of at most ``BATCH_ELEMENTS``
   hidden activations), ``f.to_torch()`` (float64), ``PiecewiseLinear.__call__``,
   ``numpy.interp`` and scipy ``PPoly`` from ``f.to_ppoly()``. All methods
   evaluate one spline with both end slopes 0, for which the ramp form is
   exact and numpy.interp's constant extrapolation is right. ``ref`` is the
   spline evaluated in extended precision (``numpy.longdouble``); float32
   networks get float32 inputs and are compared with the spline at those
   float32-rounded inputs. Times are also given as a ratio to numpy.interp's
   time in the same run (``ratio_vs_numpy_interp``).
3. ``relu_to_spline``: the time to read back a 1-32-32-32-1 ReLU network
   (``torch.manual_seed(0)``, float64), its number of linear pieces, and the
   largest relative difference between the spline and the network.

Every time is the best of ``--repeats`` runs of ``time.perf_counter``.

Run::

    python benchmarks/bench_convert.py            # full run, writes results/convert.csv
    python benchmarks/bench_convert.py --quick    # smoke test, writes results/convert_quick.csv

It prints a header (versions, threads, settings, total runtime) and a table,
and writes the same rows as a tidy CSV (one row per task, method, K and dtype)
next to this file, atomically.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy
import torch
from _common import best_of, library_version, write_csv_atomic
from torch import nn

from pwlmodels import PiecewiseLinear, PrecisionWarning, relu_to_spline, spline_to_relu

BUILD_K = (10, 100, 1_000, 10_000, 100_000)
EVAL_K = (10, 100, 1_000)
N_FULL, N_QUICK = 1_000_000, 100_000
QUICK_MAX_K = 10_000
REPEAT_BUDGET = 20.0  # seconds: stop repeating a build once its calls took this long
OUTSIDE = 0.05  # fraction of evaluation points outside the knot range
BATCH_ELEMENTS = 2**19  # hidden activations per network batch (4 MiB in float64)
MAX_BATCH = 2**16  # points per network batch
RELU_WIDTHS = (1, 32, 32, 32, 1)
COLUMNS = [
    "task",
    "method",
    "K",
    "N",
    "dtype",
    "units",
    "seconds",
    "ratio_vs_numpy_interp",
    "max_rel_error",
    "pieces",
    "repeats",
    "threads",
    "numpy",
    "scipy",
    "torch",
    "pwlmodels",
]

Row = dict[str, Any]


def random_walk(k: int, *, zero_ends: bool) -> PiecewiseLinear:
    """K knots with spacings uniform on [0.5, 1.5] and random-walk values (seed 0)."""
    rng = np.random.default_rng(0)
    knots = np.concatenate([[0.0], np.cumsum(rng.uniform(0.5, 1.5, k - 1))])
    values = np.cumsum(rng.standard_normal(k))
    if zero_ends:
        return PiecewiseLinear(knots, values, left_slope=0.0, right_slope=0.0)
    return PiecewiseLinear(knots, values)


def eval_points(f: PiecewiseLinear, n: int) -> np.ndarray:
    """N points in random order: uniform on the knot range, OUTSIDE of them beyond it."""
    rng = np.random.default_rng(1)
    lo, hi = float(f.knots[0]), float(f.knots[-1])
    span = hi - lo
    n_out = round(OUTSIDE * n)
    inside = rng.uniform(lo, hi, n - n_out)
    left = rng.uniform(lo - span / 2, lo, n_out // 2)
    right = rng.uniform(hi, hi + span / 2, n_out - n_out // 2)
    return rng.permutation(np.concatenate([inside, left, right]))


def reference(f: PiecewiseLinear, x: np.ndarray) -> np.ndarray:
    """f(x) in extended precision (numpy.longdouble) from the float64 knots and values."""
    ld = np.longdouble
    t, v = f.knots.astype(ld), f.values.astype(ld)
    xl = x.astype(ld)
    if t.size == 1:
        i = np.zeros(x.shape, dtype=np.intp)
        y = np.full(x.shape, v[0])
    else:
        i = np.clip(np.searchsorted(f.knots, x, side="right") - 1, 0, t.size - 2)
        y = v[i] + (v[i + 1] - v[i]) * ((xl - t[i]) / (t[i + 1] - t[i]))
    y = np.where(x < f.knots[0], v[0] + ld(f.left_slope) * (xl - t[0]), y)
    return np.where(x > f.knots[-1], v[-1] + ld(f.right_slope) * (xl - t[-1]), y)


def rel_error(y: np.ndarray, ref: np.ndarray) -> float:
    """max|y - ref| / max|ref|, computed in extended precision."""
    diff = np.abs(y.astype(np.longdouble) - ref)
    return float(np.max(diff) / np.max(np.abs(ref)))


def run_network(net: nn.Module, x: torch.Tensor, units: int) -> np.ndarray:
    """net on a 1-D tensor, batched so that a batch holds at most BATCH_ELEMENTS activations."""
    batch = max(1, min(MAX_BATCH, BATCH_ELEMENTS // max(units, 1)))
    out = torch.empty(x.shape[0], dtype=x.dtype)
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            out[i : i + batch] = net(x[i : i + batch, None])[:, 0]
    return out.numpy()


def run_module(module: nn.Module, x: torch.Tensor) -> np.ndarray:
    """A shape-preserving module (to_torch) on the whole tensor at once."""
    with torch.no_grad():
        return module(x).numpy()


def build_rows(ks: tuple[int, ...], repeats: int) -> list[Row]:
    rows = []
    for k in ks:
        cases = [
            ("spline_to_relu hinge", random_walk(k, zero_ends=True), "hinge"),
            ("spline_to_relu hinge (linear ends)", random_walk(k, zero_ends=False), "hinge"),
            ("spline_to_relu ramp", random_walk(k, zero_ends=True), "ramp"),
        ]
        for method, f, form in cases:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PrecisionWarning)
                seconds, net, calls = best_of(
                    partial(spline_to_relu, f, form=form), repeats, REPEAT_BUDGET
                )
            rows.append(
                {
                    "task": "build",
                    "method": method,
                    "K": k,
                    "dtype": "float64",
                    "units": net[0].out_features,
                    "seconds": seconds,
                    "repeats": calls,
                }
            )
    return rows


def eval_rows(k: int, n: int, repeats: int) -> list[Row]:
    f = random_walk(k, zero_ends=True)
    x = eval_points(f, n)
    x32 = x.astype(np.float32)
    ref = reference(f, x)
    ref32 = reference(f, x32.astype(np.float64))
    tx, tx32 = torch.from_numpy(x), torch.from_numpy(x32)
    t, v = f.knots, f.values
    ppoly = f.to_ppoly()
    module = f.to_torch()
    cases: list[tuple[str, str, int | None, Callable[[], np.ndarray], np.ndarray]] = []
    for form in ("hinge", "ramp"):
        for dtype, xin, r in ((torch.float64, tx, ref), (torch.float32, tx32, ref32)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PrecisionWarning)
                net = spline_to_relu(f, form=form, dtype=dtype)
            units = net[0].out_features
            cases.append(
                (
                    f"{form} net",
                    str(dtype).removeprefix("torch."),
                    units,
                    partial(run_network, net, xin, units),
                    r,
                )
            )
    cases += [
        ("to_torch", "float64", None, lambda: run_module(module, tx), ref),
        ("PiecewiseLinear.__call__", "float64", None, lambda: f(x), ref),
        ("numpy.interp", "float64", None, lambda: np.interp(x, t, v), ref),
        ("scipy PPoly", "float64", None, lambda: ppoly(x), ref),
    ]
    rows = []
    for method, dtype, units, fn, r in cases:
        seconds, y, calls = best_of(fn, repeats)
        rows.append(
            {
                "task": "evaluate",
                "method": method,
                "K": k,
                "N": n,
                "dtype": dtype,
                "units": units,
                "seconds": seconds,
                "max_rel_error": rel_error(y, r),
                "repeats": calls,
            }
        )
    interp = next(row["seconds"] for row in rows if row["method"] == "numpy.interp")
    for row in rows:
        row["ratio_vs_numpy_interp"] = row["seconds"] / interp
    return rows


def relu_rows(repeats: int) -> list[Row]:
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(RELU_WIDTHS)):
        layers.append(nn.Linear(n_in, n_out, dtype=torch.float64))
        if i < len(RELU_WIDTHS) - 2:
            layers.append(nn.ReLU())
    net = nn.Sequential(*layers)
    seconds, g, calls = best_of(partial(relu_to_spline, net), repeats)
    lo, hi = float(g.knots[0]), float(g.knots[-1])
    pad = max(hi - lo, 1.0)
    x = np.concatenate([g.knots, np.linspace(lo - pad, hi + pad, 100_001)])
    with torch.no_grad():
        y = net(torch.from_numpy(x)[:, None])[:, 0].numpy()
    err = float(np.max(np.abs(g(x) - y)) / np.max(np.abs(y)))
    return [
        {
            "task": "relu_to_spline",
            "method": "relu_to_spline " + "-".join(map(str, RELU_WIDTHS)),
            "dtype": "float64",
            "units": sum(RELU_WIDTHS[1:-1]),
            "seconds": seconds,
            "max_rel_error": err,
            "pieces": len(g.knots) + 1,
            "repeats": calls,
        }
    ]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="best of R timings (default 3)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: N = {N_QUICK:_}, build K up to {QUICK_MAX_K:_}",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="CSV path (default results/convert.csv, or results/convert_quick.csv with --quick)",
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def main(argv: list[str] | None = None) -> pd.DataFrame:
    args = parse_args(argv)
    start, load = time.perf_counter(), os.getloadavg()[0]
    n = N_QUICK if args.quick else N_FULL
    build_ks = tuple(k for k in BUILD_K if not args.quick or k <= QUICK_MAX_K)
    out = args.out or Path(__file__).resolve().parent / "results" / (
        "convert_quick.csv" if args.quick else "convert.csv"
    )
    rows = build_rows(build_ks, args.repeats)
    for k in EVAL_K:
        rows += eval_rows(k, n, args.repeats)
    rows += relu_rows(args.repeats)

    df = pd.DataFrame(rows).reindex(columns=COLUMNS)
    for col in ("K", "N", "units", "pieces"):
        df[col] = df[col].astype("Int64")
    df["threads"] = torch.get_num_threads()
    df["numpy"], df["scipy"], df["torch"] = np.__version__, scipy.__version__, torch.__version__
    df["pwlmodels"] = library_version()
    write_csv_atomic(df, out)

    total = time.perf_counter() - start
    print(
        f"# bench_convert: numpy {np.__version__}, scipy {scipy.__version__}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"python {platform.python_version()} on {platform.machine()} with "
        f"{os.cpu_count()} CPUs (load {load:.2f} at start), pwlmodels {library_version()}\n"
        f"# N = {n:_}, best of {args.repeats}, network batches <= {MAX_BATCH:_} points and "
        f"{BATCH_ELEMENTS:_} activations; total {total:.1f} s; written to {out}"
    )
    shown = df.drop(columns=["threads", "numpy", "scipy", "torch", "pwlmodels"])
    for col in ("K", "N", "units", "pieces"):  # blank, not <NA>, for missing integers
        shown[col] = [("" if pd.isna(v) else str(v)) for v in shown[col]]
    print(shown.to_string(index=False, na_rep="", float_format=lambda v: f"{v:.3g}"))
    return df


if __name__ == "__main__":
    main()
