"""Benchmark pwlmodels.fit_pwl against pwlf: time, SSR reached and knots found, in one run.

For each case, sample size n and data seed it fits the same data with

* ``pwlmodels fit_pwl(k)``: ``fit_pwl(x, y, n_knots=k, weights=w)``, k free knots, the
  defaults otherwise (``n_starts=4, seed=0``);
* ``pwlf fit``: ``pwlf.PiecewiseLinFit(x, y, weights=w, seed=s).fit(k + 1)``,
  differential evolution with pwlf's own settings (no keyword is passed: one
  would replace all of them);
* ``pwlf fitfast``: the same model, ``.fitfast(k + 1)``: L-BFGS-B from
  ``pop=2`` Latin-hypercube starts (pwlf's default);
* ``pwlmodels fit_pwl(knots)``: ``fit_pwl(x, y, knots=true_knots, weights=w)``, the
  fixed-knot fit at the true interior knots;
* ``pwlf fit_with_breaks``: ``PiecewiseLinFit(x, y, weights=w).fit_with_breaks(
  [min x, *true_knots, max x])``, the same fixed-knot problem.

pwlf is seeded through its constructor (``seed=s``, the data seed), which seeds
numpy's global generator used by its differential evolution and the Latin
hypercube of ``fitfast``. Both libraries take weights that multiply the
residuals (``w_i = 1 / sigma_i``). A timed call includes the model's
construction (pwlf's constructor, our validation and set-up).

Data: ``rng = numpy.random.default_rng(seed)``, ``x = sort(rng.uniform(0, 10,
n))``, ``y = f(x) + rng.normal(0, 1, n) * sigma(x)``, where f is the
continuous piecewise-linear function with ``f(0) = 0``, the case's interior
knots and slopes (see ``CASES``; printed in the header). Cases:

1. ``standard``: 4 knots, sigma 0.05, n = 1 000 and 10 000;
2. ``collinear``: 4 knots, the slope changes by only 0.05 at one of them;
3. ``close_knots``: two knots 1 % of the range (0.1) apart;
4. ``sparse_side``: the last knot midway between the 6th- and 5th-largest x,
   so that only 5 points lie to its right;
5. ``heteroscedastic``: sigma = 0.02 (1 + x), weights 1 / sigma;
6. ``eight_knots``: 8 knots (pwlf's ``fit`` runs its differential evolution
   to the 1000-generation cap: ~3 min a seed with single-threaded BLAS);
7. ``large``: n = 3 000 000 with 14 knots (15 segments), pwlmodels only, seed 0.

Recorded per (case, n, seed, method): the best-of-R wall time (a call is
repeated only while its calls so far took less than ``REPEAT_BUDGET`` seconds,
so pwlf's ``fit`` usually runs once), the weighted SSR ``sum (w (y - f(x)))^2``
recomputed here from each fit's predictions, the SSR the library reports,
``rel_ssr = (ssr - best) / best`` where ``best`` is the smallest SSR any method
reached on that data (for the free-knot problem over all five fits, since a
fixed-knot fit at the true knots is a feasible free-knot solution; for the
fixed-knot problem over the two fixed-knot fits), the largest error of the
fitted interior knots against the true ones, the objective (SSR) evaluations
(ours: ``PWLFit.n_evaluations``; pwlf: calls of its objective
``fit_with_breaks_opt``, counted by a wrapper on the instance, polish
included) and the optimiser iterations (pwlf's differential-evolution
generations, or L-BFGS-B iterations summed over fitfast's starts; blank for
ours). ``ratio_vs_ours`` is a fit's time over pwlmodels' time on the same data
and problem, in the same run.

Run::

    python benchmarks/bench_fit.py             # full run (10-20 min), writes results/fit.csv
    python benchmarks/bench_fit.py --quick     # smoke test, writes results/fit_quick.csv
    python benchmarks/bench_fit.py --cases standard,close_knots --seeds 2
    python benchmarks/bench_fit.py --fit-seeds 1   # pwlf fit on seed 0 only: ~6 min

On a shared machine, run with ``OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1``:
every problem here is small, and multithreaded BLAS under load slowed both
libraries' L-BFGS-B several-fold in trials (pwlf's fit on ``eight_knots``
took 962 s instead of 166 s). The setting is recorded
(``blas_threads``).

It prints a header (versions, threads, load, settings, total runtime), one row
per fit, a summary per case and the cases where pwlmodels missed the best SSR
by more than ``TOL`` (relative) or failed; progress goes to stderr. The CSV
(tidy: one row per case, n, seed and method) is written atomically.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import platform
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pwlf
import scipy
from _common import FIT_TOL as TOL
from _common import best_of, library_version, write_csv_atomic

from pwlmodels import fit_pwl

REPEAT_BUDGET = 2.0  # seconds: stop repeating a fit once its calls took this long
X_RANGE = (0.0, 10.0)
QUICK_SEEDS = 2
QUICK_LARGE_N = 300_000
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

OURS_FREE, OURS_FIXED = "pwlmodels fit_pwl(k)", "pwlmodels fit_pwl(knots)"
PWLF_FIT, PWLF_FAST, PWLF_BREAKS = "pwlf fit", "pwlf fitfast", "pwlf fit_with_breaks"
METHOD_ORDER = (OURS_FREE, PWLF_FIT, PWLF_FAST, OURS_FIXED, PWLF_BREAKS)

COLUMNS = [
    "case",
    "n",
    "seed",
    "n_knots",
    "library",
    "method",
    "problem",
    "seconds",
    "repeats",
    "ratio_vs_ours",
    "ssr",
    "ssr_reported",
    "best_ssr",
    "rel_ssr",
    "max_knot_error",
    "n_evaluations",
    "n_iterations",
    "error",
    "warnings",
    "blas_threads",
    "numpy",
    "scipy",
    "pwlf",
    "pwlmodels",
]

Row = dict[str, Any]


@dataclass(frozen=True)
class Case:
    """A data-generating process: f(0) = 0, knots, slopes, noise sigma(x) = sigma (1 + hetero x)."""

    name: str
    description: str
    knots: tuple[float, ...]
    slopes: tuple[float, ...]
    ns: tuple[int, ...] = (1_000,)
    sigma: float = 0.05
    hetero: float = 0.0  # sigma grows as sigma * (1 + hetero * x); weights 1 / sigma(x)
    sparse_right: int = 0  # > 0: the last knot leaves exactly this many points to its right
    with_pwlf: bool = True
    single_seed: bool = False


STD_KNOTS = (1.7, 3.9, 6.2, 8.1)
STD_SLOPES = (1.0, -0.8, 0.6, -1.2, 0.9)
LARGE_KNOTS = tuple(
    round(float(v), 6) for v in np.linspace(0, 10, 16)[1:-1] + 0.15 * np.sin(np.arange(1, 15))
)
LARGE_SLOPES = tuple((-1) ** i * (0.5 + 0.25 * (i % 4)) for i in range(15))

CASES = {
    c.name: c
    for c in (
        Case("standard", "4 knots, sigma 0.05", STD_KNOTS, STD_SLOPES, ns=(1_000, 10_000)),
        Case(
            "collinear",
            "4 knots, slope change of 0.05 at 3.9",
            STD_KNOTS,
            (1.0, -0.8, -0.75, 0.6, -0.9),
        ),
        Case(
            "close_knots",
            "knots 5.0 and 5.1 (1 % of the range apart)",
            (2.5, 5.0, 5.1, 7.5),
            (0.5, 1.5, -4.0, 1.0, -0.5),
        ),
        Case(
            "sparse_side",
            "last knot midway between the 6th- and 5th-largest x (5 points right of it)",
            (2.0, 4.5, 7.0, np.nan),
            (1.0, -0.8, 0.6, -0.6, -10.0),
            sparse_right=5,
        ),
        Case(
            "heteroscedastic",
            "standard f, sigma = 0.02 (1 + x), weights 1 / sigma",
            STD_KNOTS,
            STD_SLOPES,
            sigma=0.02,
            hetero=1.0,
        ),
        Case(
            "eight_knots",
            "8 knots, sigma 0.05",
            (1.1, 2.3, 3.2, 4.4, 5.6, 6.5, 7.7, 8.9),
            (1.0, -0.5, 0.8, -1.0, 0.4, -0.6, 1.2, -0.3, 0.7),
        ),
        Case(
            "large",
            "14 knots, sigma 0.05, pwlmodels only",
            LARGE_KNOTS,
            LARGE_SLOPES,
            ns=(3_000_000,),
            with_pwlf=False,
            single_seed=True,
        ),
    )
}
QUICK_CASES = ("standard", "large")


def make_data(case: Case, n: int, seed: int):
    """(x, y, weights or None, true interior knots) for a case, n and data seed."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(*X_RANGE, n))
    knots = np.array(case.knots, dtype=float)
    if case.sparse_right:
        knots[-1] = 0.5 * (x[-case.sparse_right - 1] + x[-case.sparse_right])
    slopes = np.array(case.slopes, dtype=float)
    f = slopes[0] * x
    for t, change in zip(knots, np.diff(slopes), strict=True):
        f += change * np.maximum(x - t, 0.0)
    sigma = case.sigma * (1.0 + case.hetero * x)
    y = f + rng.normal(0.0, 1.0, n) * sigma
    weights = 1.0 / sigma if case.hetero else None
    return x, y, weights, knots


# ------------------------------------------------------------------ the fits
# Each returns (predict, fitted interior knots or None, reported SSR, evaluations, iterations).
Outcome = tuple[Callable[[np.ndarray], np.ndarray], np.ndarray | None, float, Any, Any]


def ours(x, y, w, knots) -> Outcome:
    free = not isinstance(knots, np.ndarray)
    res = fit_pwl(x, y, **({"n_knots": knots} if free else {"knots": knots}), weights=w)
    return res.spline, res.knots if free else None, res.ssr, res.n_evaluations, None


@contextlib.contextmanager
def optimizer_iterations(sink: list[int]):
    """Record the iterations of pwlf's differential_evolution and fmin_l_bfgs_b calls."""
    module = importlib.import_module("pwlf.pwlf")
    de, lbfgsb = module.differential_evolution, module.fmin_l_bfgs_b

    def de_recorded(*args, **kwargs):
        res = de(*args, **kwargs)
        sink.append(int(res.nit))
        return res

    def lbfgsb_recorded(*args, **kwargs):
        out = lbfgsb(*args, **kwargs)
        sink.append(int(out[2]["nit"]))
        return out

    module.differential_evolution, module.fmin_l_bfgs_b = de_recorded, lbfgsb_recorded
    try:
        yield
    finally:
        module.differential_evolution, module.fmin_l_bfgs_b = de, lbfgsb


def pwlf_search(x, y, w, seed: int, how: str, n_segments: int) -> Outcome:
    """pwlf's fit or fitfast, counting its objective calls and optimiser iterations."""
    model = pwlf.PiecewiseLinFit(x, y, weights=w, seed=seed)
    objective, calls, iterations = model.fit_with_breaks_opt, 0, []

    def counted(var):
        nonlocal calls
        calls += 1
        return objective(var)

    model.fit_with_breaks_opt = counted  # fit/fitfast look the objective up on the instance
    with optimizer_iterations(iterations):
        getattr(model, how)(n_segments)
    return model.predict, model.fit_breaks[1:-1], float(model.ssr), calls, sum(iterations)


def pwlf_breaks(x, y, w, breaks: np.ndarray) -> Outcome:
    model = pwlf.PiecewiseLinFit(x, y, weights=w)
    model.fit_with_breaks(breaks)
    return model.predict, None, float(model.ssr), None, None


def methods(
    case: Case, x, y, w, knots, seed: int, with_fit: bool
) -> list[tuple[str, str, Callable[[], Outcome]]]:
    """(method, problem, call) in the order they run: the slow pwlf fit last."""
    k = knots.size
    breaks = np.concatenate([[x.min()], knots, [x.max()]])
    out = [
        (OURS_FREE, "free", lambda: ours(x, y, w, k)),
        (OURS_FIXED, "fixed", lambda: ours(x, y, w, knots)),
    ]
    if case.with_pwlf:
        out += [
            (PWLF_BREAKS, "fixed", lambda: pwlf_breaks(x, y, w, breaks)),
            (PWLF_FAST, "free", lambda: pwlf_search(x, y, w, seed, "fitfast", k + 1)),
        ]
        if with_fit:
            out.append((PWLF_FIT, "free", lambda: pwlf_search(x, y, w, seed, "fit", k + 1)))
    return out


def fit_row(method: str, problem: str, call, x, y, w, knots, repeats: int) -> Row:
    row: Row = {
        "library": method.split()[0],
        "method": method,
        "problem": problem,
        "n_knots": knots.size,
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            seconds, outcome, calls = best_of(call, repeats, REPEAT_BUDGET)
        except Exception as exc:  # a crash is a finding: record it and go on
            row["error"] = f"{type(exc).__name__}: {exc}"
            print(traceback.format_exc(), file=sys.stderr)
            return row
    predict, fitted, reported, evaluations, iterations = outcome
    resid = y - np.asarray(predict(x), dtype=float)
    if w is not None:
        resid = resid * w
    row.update(
        seconds=seconds,
        repeats=calls,
        ssr=float(resid @ resid),
        ssr_reported=reported,
        n_evaluations=evaluations,
        n_iterations=iterations,
    )
    if fitted is not None:
        row["max_knot_error"] = float(np.max(np.abs(np.sort(fitted) - knots)))
    messages = sorted({f"{m.category.__name__}: {m.message}" for m in caught})
    if messages:
        row["warnings"] = f"{len(caught)} x " + " | ".join(messages)[:300]
    return row


def case_rows(case: Case, n: int, seed: int, repeats: int, with_fit: bool) -> list[Row]:
    x, y, w, knots = make_data(case, n, seed)
    rows = [
        fit_row(method, problem, call, x, y, w, knots, repeats)
        for method, problem, call in methods(case, x, y, w, knots, seed, with_fit)
    ]
    ssr_all = [r.get("ssr", np.nan) for r in rows]
    ssr_fixed = [r.get("ssr", np.nan) for r in rows if r["problem"] == "fixed"]
    best = {"free": np.nanmin(ssr_all), "fixed": np.nanmin(ssr_fixed)}
    ours_seconds = {
        r["problem"]: r.get("seconds", np.nan) for r in rows if r["library"] == "pwlmodels"
    }
    for r in rows:
        r.update(case=case.name, n=n, seed=seed, best_ssr=best[r["problem"]])
        if "ssr" in r:
            r["rel_ssr"] = (r["ssr"] - r["best_ssr"]) / r["best_ssr"]
            r["ratio_vs_ours"] = r["seconds"] / ours_seconds[r["problem"]]
    return rows


# ------------------------------------------------------------------ report
def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """Per case and n: median time ratios, and on how many seeds each method reached the best."""
    out = []
    for (case, n), g in df.groupby(["case", "n"], sort=False):
        by = {m: g[g["method"] == m] for m in METHOD_ORDER}

        def median_ratio(method: str, by=by) -> float:
            return float(by[method]["ratio_vs_ours"].median()) if len(by[method]) else np.nan

        def reached(method: str, by=by) -> str:
            sel = by[method]
            if not len(sel):
                return ""
            ok = (sel["rel_ssr"] <= TOL).sum()  # NaN (a crash) counts as a miss
            return f"{ok}/{len(sel)}"

        def worst(method: str, by=by) -> float:
            sel = by[method]
            return float(sel["rel_ssr"].max()) if len(sel) else np.nan

        out.append(
            {
                "case": case,
                "n": n,
                "seeds": g["seed"].nunique(),
                "ours_s": float(by[OURS_FREE]["seconds"].median()),
                "fit/ours": median_ratio(PWLF_FIT),
                "fitfast/ours": median_ratio(PWLF_FAST),
                "breaks/ours": median_ratio(PWLF_BREAKS),
                "ours_best": reached(OURS_FREE),
                "fit_best": reached(PWLF_FIT),
                "fitfast_best": reached(PWLF_FAST),
                "fixed_best": reached(OURS_FIXED),
                "ours_worst_rel": worst(OURS_FREE),
                "fit_worst_rel": worst(PWLF_FIT),
                "fitfast_worst_rel": worst(PWLF_FAST),
                "ours_knot_err": float(by[OURS_FREE]["max_knot_error"].max()),
            }
        )
    return pd.DataFrame(out)


def findings(df: pd.DataFrame) -> list[str]:
    """pwlmodels fits that missed the best SSR by more than TOL, or failed."""
    ours_rows = df[df["library"] == "pwlmodels"]
    bad = ours_rows[ours_rows["error"].notna() | ~(ours_rows["rel_ssr"] <= TOL)]
    lines = []
    for _, r in bad.iterrows():
        case = CASES[r["case"]]
        data = df[(df["case"] == r["case"]) & (df["n"] == r["n"]) & (df["seed"] == r["seed"])]
        best = data.loc[data["ssr"].idxmin()] if data["ssr"].notna().any() else None
        what = r["error"] if pd.notna(r["error"]) else f"rel_ssr {r['rel_ssr']:.3g}"
        lines.append(
            f"{r['method']} on case {r['case']} n={r['n']} seed={r['seed']}: {what}; "
            f"ssr {r['ssr']!r} vs best {r['best_ssr']!r}"
            + (f" ({best['method']})" if best is not None else "")
            + f"; data: knots {case.knots}, slopes {case.slopes}, sigma {case.sigma}"
            + (f" (1 + {case.hetero} x)" if case.hetero else "")
            + (f", sparse_right {case.sparse_right}" if case.sparse_right else "")
        )
    return lines


def blas_threads() -> str:
    """The BLAS/OpenMP thread settings from the environment ("default" when none is set)."""
    set_vars = [f"{v}={os.environ[v]}" for v in THREAD_VARS if v in os.environ]
    return ",".join(set_vars) or "default"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="best of R timings (default 3)")
    parser.add_argument(
        "--seeds", type=int, default=None, help="data seeds 0..S-1 (default 5, 2 with --quick)"
    )
    parser.add_argument(
        "--cases",
        default=None,
        help=f"comma-separated, from {','.join(CASES)} (default all; {','.join(QUICK_CASES)} "
        "with --quick)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: standard at n = 1000 only, {QUICK_SEEDS} seeds, "
        f"large at n = {QUICK_LARGE_N:_}",
    )
    parser.add_argument(
        "--fit-seeds",
        type=int,
        default=None,
        help="run pwlf's slow fit on the first F data seeds only (default all)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="CSV path (default results/fit.csv, or results/fit_quick.csv with --quick)",
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.seeds is not None and args.seeds < 1:
        parser.error("--seeds must be at least 1")
    if args.fit_seeds is not None and args.fit_seeds < 0:
        parser.error("--fit-seeds must be at least 0")
    names = args.cases.split(",") if args.cases else list(QUICK_CASES if args.quick else CASES)
    unknown = [c for c in names if c not in CASES]
    if unknown:
        parser.error(f"unknown cases {unknown}; choose from {list(CASES)}")
    args.cases = names
    return args


def plan(args: argparse.Namespace) -> list[tuple[Case, int, int, bool]]:
    """(case, n, seed, whether pwlf fit runs) in order."""
    n_seeds = args.seeds or (QUICK_SEEDS if args.quick else 5)
    out = []
    for name in args.cases:
        case = CASES[name]
        ns = case.ns
        if args.quick:
            ns = (QUICK_LARGE_N,) if case.name == "large" else (1_000,)
        seeds = range(1) if case.single_seed else range(n_seeds)
        fit_seeds = n_seeds if args.fit_seeds is None else args.fit_seeds
        out += [(case, n, s, s < fit_seeds) for n in ns for s in seeds]
    return out


def main(argv: list[str] | None = None) -> pd.DataFrame:
    args = parse_args(argv)
    start, load = time.perf_counter(), os.getloadavg()[0]
    version = library_version()  # now: pwlmodels/ may be edited while this runs
    out = args.out or Path(__file__).resolve().parent / "results" / (
        "fit_quick.csv" if args.quick else "fit.csv"
    )
    rows: list[Row] = []
    for case, n, seed, with_fit in plan(args):
        t0 = time.perf_counter()
        rows += case_rows(case, n, seed, args.repeats, with_fit)
        print(
            f"[{time.perf_counter() - start:7.1f} s] {case.name} n={n} seed={seed}: "
            f"{time.perf_counter() - t0:.1f} s",
            file=sys.stderr,
            flush=True,
        )

    df = pd.DataFrame(rows).reindex(columns=COLUMNS)
    for col in ("n", "seed", "n_knots", "repeats", "n_evaluations", "n_iterations"):
        df[col] = df[col].astype("Int64")
    for col in ("error", "warnings"):
        df[col] = df[col].astype(object)
    df["blas_threads"] = blas_threads()
    df["numpy"], df["scipy"], df["pwlf"] = np.__version__, scipy.__version__, pwlf.__version__
    df["pwlmodels"] = version
    write_csv_atomic(df, out, float_format="%.12g")

    total = time.perf_counter() - start
    print(
        f"# bench_fit: numpy {np.__version__}, scipy {scipy.__version__}, pandas "
        f"{pd.__version__}, pwlf {pwlf.__version__}, python {platform.python_version()} on "
        f"{platform.machine()} with {os.cpu_count()} CPUs (BLAS threads {blas_threads()}, "
        f"load {load:.2f} at start), pwlmodels {version} at start\n"
        f"# best of {args.repeats} (a fit is repeated only while its calls took < "
        f"{REPEAT_BUDGET:g} s); ssr recomputed from the predictions; rel_ssr = (ssr - best) / "
        f"best on the same data; reached = rel_ssr <= {TOL:g}"
        + (f"; pwlf fit on seeds < {args.fit_seeds} only" if args.fit_seeds is not None else "")
        + "\n"
        "# data: x = sort(default_rng(seed).uniform(0, 10, n)), y = f(x) + "
        "rng.normal(0, 1, n) * sigma(x), f(0) = 0"
    )
    for name in args.cases:
        c = CASES[name]
        print(f"#   {c.name}: {c.description}; knots {c.knots}, slopes {c.slopes}")
    print(f"# total {total:.1f} s; written to {out}\n")
    shown = df[
        [
            "case",
            "n",
            "seed",
            "method",
            "seconds",
            "repeats",
            "ratio_vs_ours",
            "ssr",
            "rel_ssr",
            "max_knot_error",
            "n_evaluations",
            "n_iterations",
            "error",
        ]
    ].copy()
    for col in ("n", "seed", "repeats", "n_evaluations", "n_iterations"):
        shown[col] = [("" if pd.isna(v) else str(v)) for v in shown[col]]
    formats = {"ssr": lambda v: f"{v:.10g}", "rel_ssr": lambda v: f"{v:.2e}"}
    print(
        shown.to_string(
            index=False, na_rep="", formatters=formats, float_format=lambda v: f"{v:.3g}"
        )
    )
    print(f"\n# summary: median time ratios over seeds; *_best = seeds with rel_ssr <= {TOL:g}")
    summary = summarize(df)
    print(summary.to_string(index=False, na_rep="", float_format=lambda v: f"{v:.3g}"))
    bad = findings(df)
    print(f"\n# pwlmodels fits worse than the best SSR by more than {TOL:g}, or failed:")
    print("\n".join(bad) if bad else "none")
    return df


if __name__ == "__main__":
    main()
