"""Write docs/benchmarks.md from the committed benchmark results.

    python docs/gen_benchmarks.py

Reads benchmarks/results/{convert,fit,fit_many,verify,milp_bounds,regions,pwa_relu,
activations,train_many,acasxu}.csv
(train_many_cuda.csv, ctm_network.csv, aiyagari.csv and neural_solvers_*.csv too when present)
(written by the scripts in benchmarks/; this script runs no benchmark) and writes
the site's benchmarks page: every number on it is a cell of those files or a median or count over
them, stated as such. Rerun it after rerunning a benchmark.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a source tree: applications/ is importable
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import FIT_TOL as TOL  # noqa: E402  (a fit "reached the best SSR")

from applications.report import markdown_table, write_atomic  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
PAGE = ROOT / "docs" / "benchmarks.md"


def _g(v: float, digits: int = 2) -> str:
    return "" if pd.isna(v) else f"{v:.{digits}g}"


def _ratio(v: float) -> str:
    return "" if pd.isna(v) else (f"{v:.0f}" if v >= 100 else f"{v:.2g}")


def _stamp(df: pd.DataFrame, columns: list[str]) -> str:
    parts = []
    for c in columns:
        values = sorted({str(v) for v in df[c].dropna()})
        if values:
            parts.append(f"{c} {', '.join(values)}")
    return "; ".join(parts)


def convert_section(df: pd.DataFrame) -> str:
    ev = df[df.task == "evaluate"]
    columns = {
        ("hinge net", "float64"): "hinge f64",
        ("hinge net", "float32"): "hinge f32",
        ("ramp net", "float64"): "ramp f64",
        ("ramp net", "float32"): "ramp f32",
        ("to_torch", "float64"): "`to_torch()`",
        ("PiecewiseLinear.__call__", "float64"): "`f(x)`",
        ("scipy PPoly", "float64"): "scipy PPoly",
    }
    rows = []
    for k, g in ev.groupby("K"):
        row = {"K": int(k)}
        interp = g[g.method == "numpy.interp"].iloc[0]
        row["numpy.interp (s)"] = _g(interp.seconds, 3)
        for (method, dtype), name in columns.items():
            r = g[(g.method == method) & (g.dtype == dtype)]
            if len(r):
                r = r.iloc[0]
                row[name] = f"{_ratio(r.ratio_vs_numpy_interp)}x, {r.max_rel_error:.1e}"
        rows.append(row)
    evaluate = markdown_table(pd.DataFrame(rows))

    build = df[df.task == "build"].pivot_table(
        index="K", columns="method", values="seconds", aggfunc="first"
    )
    build = build.reset_index()
    build["K"] = build["K"].astype(int)
    names = {
        "spline_to_relu hinge": "hinge (s)",
        "spline_to_relu hinge (linear ends)": "hinge, linear ends (s)",
        "spline_to_relu ramp": "ramp (s)",
    }
    build = build.rename(columns=names)
    build_table = markdown_table(build, digits=2)

    back = df[df.task == "relu_to_spline"].iloc[0]
    n = int(ev["N"].dropna().iloc[0])
    return f"""## Conversions against `numpy.interp` and scipy

`python benchmarks/bench_convert.py` (results in `benchmarks/results/convert.csv`;
{_stamp(df, ["threads", "numpy", "scipy", "torch", "pwlmodels"])}). Best of
{int(df.repeats.max())} runs each.

**Evaluating** one spline with K knots (random-walk values, both end slopes
0) at N = {n:,} points: time relative to `numpy.interp` in the same run, and
the largest error relative to `max |f|` against an extended-precision
reference. The network forms pay one hidden unit per knot; the spline itself
and its `to_torch()` module do not.

{evaluate}
**Building** the network with `spline_to_relu` (seconds; "linear ends": end
segments continued, so `width="min"` searches the facing):

{build_table}
**Reading back** a {back.method.split()[-1]} ReLU network with `relu_to_spline`:
{back.seconds * 1e3:.1f} ms for {int(back.pieces)} linear pieces, largest
relative difference from the network {back.max_rel_error:.1e}.
"""


def fit_section(df: pd.DataFrame) -> str:
    ours_free, ours_fixed = "pwlmodels fit_pwl(k)", "pwlmodels fit_pwl(knots)"
    rows = []
    for (case, n), g in df.groupby(["case", "n"], sort=False):

        def sel(method: str, g: pd.DataFrame = g) -> pd.DataFrame:
            return g[g.method == method]

        def reached(method: str, sel=sel) -> str:
            s = sel(method)
            return f"{int((s.rel_ssr <= TOL).sum())}/{len(s)}" if len(s) else ""

        def ratio(method: str, sel=sel) -> str:
            s = sel(method)
            return _ratio(s.ratio_vs_ours.median()) if len(s) else ""

        rows.append(
            {
                "case": case,
                "n": f"{int(n):,}",
                "seeds": g.seed.nunique(),
                "fit_pwl(k) s": _g(sel(ours_free).seconds.median()),
                "pwlf fit / ours": ratio("pwlf fit"),
                "pwlf fitfast / ours": ratio("pwlf fitfast"),
                "ours best SSR": reached(ours_free),
                "pwlf fit best SSR": reached("pwlf fit"),
                "pwlf fitfast best SSR": reached("pwlf fitfast"),
                "fit_pwl(knots) s": _g(sel(ours_fixed).seconds.median()),
                "fit_with_breaks / ours": ratio("pwlf fit_with_breaks"),
            }
        )
    table = markdown_table(pd.DataFrame(rows))
    return f"""## Fitting against pwlf

`python benchmarks/bench_fit.py` (results in `benchmarks/results/fit.csv`;
{_stamp(df, ["blas_threads", "numpy", "scipy", "pwlf", "pwlmodels"])}). The cases
are described in the script's docstring (noisy data from a known continuous
PWL function). Times are medians over seeds of the best of up to
{int(df.repeats.max())} calls; ratios are pwlf's time over ours on the same
data in the same run. "Best SSR" counts the seeds on which a fit came
within {TOL:g} (relative) of the smallest SSR any method reached on that data
(pwlf's `fit` does not run on every case and seed).

{table}"""


def verify_section(df: pd.DataFrame) -> str:
    show = df[
        [
            "network",
            "method",
            "value",
            "bound",
            "gap",
            "status",
            "n_binary",
            "nodes_or_boxes",
            "total_s",
            "speedup_vs_omlt",
        ]
    ].copy()
    show["value"] = [f"{v:.9f}" for v in show.value]
    show["bound"] = [f"{v:.9f}" for v in show.bound]
    show["gap"] = [f"{v:.1e}" for v in show.gap]
    show["n_binary"] = [str(int(v)) for v in show.n_binary]
    show["nodes_or_boxes"] = [str(int(v)) for v in show.nodes_or_boxes]
    show["total_s"] = [_g(v, 3) for v in show.total_s]
    show["speedup_vs_omlt"] = [
        "" if pd.isna(v) else f"{v:.3g}x" for v in show.speedup_vs_omlt.astype(float)
    ]
    show = show.rename(columns={"total_s": "seconds", "speedup_vs_omlt": "vs OMLT default"})
    limit = int(df.time_limit.dropna().max()) if df.time_limit.notna().any() else None
    omlt_nets = list(dict.fromkeys(df[df.method.str.startswith("OMLT")].network))
    return f"""## Verification against OMLT

`python benchmarks/bench_verify.py` (results in `benchmarks/results/verify.csv`;
{_stamp(df, ["threads", "torch", "scipy", "highspy", "pyomo", "omlt", "pwlmodels"])}):
the maximum over [-1, 1]^n_in of seeded networks, by our methods and by OMLT's
big-M formulation solved by HiGHS through pyomo, with OMLT's own bounds and
with ours; time limit {limit} s per call. OMLT ran on {", ".join(omlt_nets)}.
`value` is the network at the method's maximiser, `bound` a certified upper
bound (for OMLT, HiGHS's dual bound, not widened for rounding); "vs OMLT
default" is OMLT's time with its own bounds over the row's time.

{markdown_table(show)}"""


def milp_bounds_section(df: pd.DataFrame) -> str:
    columns = "network seed bounds status n_binary nodes bounds_s solve_s total_s speedup"
    show = df[[*columns.split(), "speedup_bounds_free"]].copy()
    for col in ("bounds_s", "solve_s", "total_s"):
        show[col] = [_g(v, 2) for v in show[col]]
    for col in ("speedup", "speedup_bounds_free"):
        show[col] = [f"{v:.2g}x" for v in show[col]]
    show = show.rename(
        columns={"speedup": "vs OMLT default", "speedup_bounds_free": "vs OMLT, bounds free"}
    )
    lp = df[df.bounds == "milp lp"]
    return f"""## How far bounds take the MILP

`python benchmarks/bench_milp_bounds.py` (results in
`benchmarks/results/milp_bounds.csv`; {_stamp(df, ["pwlmodels"])}): our big-M
MILP with CROWN, LP-tightened and exact per-unit bounds (each unit's range
certified by branch and bound: no bound tightening can do better) beside
OMLT with its default bounds, on {df.seed.nunique()} seeds per network. "vs
OMLT, bounds free" divides OMLT's time by our solve time alone. `milp lp` ran
{lp.speedup.min():.2g}x to {lp.speedup.max():.2g}x faster than OMLT here
(median {lp.speedup.median():.2g}x).

{markdown_table(show)}"""


def activations_section(df: pd.DataFrame) -> str:
    show = df[["task", "device", "activation", "seconds_per_epoch", "ratio_vs_relu"]].copy()
    show["seconds_per_epoch"] = [_g(v, 3) for v in show.seconds_per_epoch]
    show["ratio_vs_relu"] = [f"{v:.2f}x" for v in show.ratio_vs_relu]
    return f"""## Is ReLU cheaper than sigmoid, tanh or GELU?

`python benchmarks/bench_activations.py` (results in
`benchmarks/results/activations.csv`; {_stamp(df, ["threads", "torch"])}):
{df.config.iloc[0]}. "epoch" times the whole forward and backward pass, "activation
only" the activation's share of it; the ratio is the time over ReLU's.

{markdown_table(show)}"""


def train_many_section(df: pd.DataFrame) -> str:
    show = df[["device", "members", "loop_seconds", "batched_seconds", "speedup"]].copy()
    show["loop_seconds"] = [
        _g(v, 3) + ("" if t == m else f" (from {t})")
        for v, t, m in zip(df.loop_seconds, df.loop_timed, df.members, strict=True)
    ]
    show["batched_seconds"] = [_g(v, 3) for v in show.batched_seconds]
    show["speedup"] = [f"{_ratio(v)}x" for v in show.speedup]
    show["median_rel_diff"] = [_g(v) for v in df.median_rel_diff]
    show["max_rel_diff"] = [_g(v) for v in df.max_rel_diff]
    return f"""## Many small networks at once: `train_many`

`python benchmarks/bench_train_many.py` (results in `benchmarks/results/train_many.csv`;
{_stamp(df, ["threads", "torch", "pwlmodels"])}; on a GPU add `--device cuda --members 1024
--loop-max 16 --out benchmarks/results/train_many_cuda.csv`, which times 16 networks of the
loop and scales): {df.config.iloc[0]}. "loop" calls `train` once per network, "batched"
is one `train_many` call. A network's difference is its largest weight difference between
the two, relative to the tensor's largest weight: float32 rounding, grown by training, which
can move a ReLU network elsewhere (the max), as running `train` on two threads instead of one
can; float64 agrees to about 1e-14 over such runs.

{markdown_table(show)}"""


def fit_many_section(df: pd.DataFrame) -> str:
    show = df[["n_series", "method", "workers", "seconds", "per_fit_ms", "ratio_vs_serial"]].copy()
    show["seconds"] = [
        _g(v, 3) + ("" if t == n else f" ({t} timed)")
        for v, t, n in zip(df.seconds, df.series_timed, df.n_series, strict=True)
    ]
    show["per_fit_ms"] = [_g(v, 3) for v in df.per_fit_ms]
    show["ratio_vs_serial"] = [f"{_ratio(v)}x" for v in df.ratio_vs_serial]
    show["best_ssr"] = [f"{v:.0%}" for v in df.reached_best]
    show["load"] = [_g(v) for v in df.load_1min]
    same = df.identical_to_serial.dropna().astype(bool)
    return f"""## Many series at once: `fit_many`

`OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_fit_many.py` (results in
`benchmarks/results/fit_many.csv`; {_stamp(df, ["cpus", "dask", "pwlf", "pwlmodels"])}):
series of {df.n_points.iloc[0]} points, {df.n_knots.iloc[0]} free knots each; times are
seconds for all series, "ratio" against `fit_many`'s serial run (lower is faster),
"best_ssr" the share of series where the method reached the lowest SSR any method found,
"load" the machine's 1-minute load during the run (the two workers share its cores).
{same.sum()} of {len(same)} cluster runs gave the serial result bit for bit.

{markdown_table(show)}"""


def regions_section(df: pd.DataFrame) -> str:
    done = df[df.status == "ok"]
    # per input dimension, the run with the most regions inside the limit
    largest = done[done.method == "relu_to_pwa"].sort_values("regions").groupby("n_in").tail(1)
    best = ", ".join(
        f"{r.n_in} inputs: {r.network} ({int(r.regions):,} regions, {_g(r.seconds, 3)} s)"
        for r in largest.sort_values("n_in").itertuples()
    )
    ours = df[df.method == "relu_to_pwa"].set_index("network")
    theirs = df[df.method == "partition"].set_index("network")
    show = ours[["n_in", "status", "regions", "seconds", "regions_per_s", "peak_rss_mb"]].copy()
    show["regions"] = ["" if pd.isna(v) else f"{int(v):,}" for v in show.regions]
    show["seconds"] = [_g(v, 3) for v in show.seconds]
    show["regions_per_s"] = ["" if pd.isna(v) else f"{v:,.0f}" for v in show.regions_per_s]
    show["peak_rss_mb"] = ["" if pd.isna(v) else f"{v:,.0f}" for v in show.peak_rss_mb]
    show["partition_s"] = [
        (_g(theirs.seconds[n], 3) or theirs.status[n]) if n in theirs.index else ""
        for n in show.index
    ]
    show["partition_rss_mb"] = [
        "" if n not in theirs.index or pd.isna(v := theirs.peak_rss_mb[n]) else f"{v:,.0f}"
        for n in show.index
    ]
    limit = "60 s"
    stamp = _stamp(df, ["threads", "numpy", "scipy", "torch", "pwlmodels"])
    return f"""## Linear regions in several inputs: `relu_to_pwa`

`OMP_NUM_THREADS=1 python benchmarks/bench_regions.py` (results in
`benchmarks/results/regions.csv`; {stamp}):
the exact linear regions of seeded networks (random initialisation) over [-1, 1]^n_in,
each width until a run passes {limit}; "partition" is the 2-input `partition` on the same
network in the same run; memory is the process's peak resident set. Largest inside
{limit}: {best}.

{markdown_table(show.reset_index())}"""


def pwa_relu_section(df: pd.DataFrame) -> str:
    show = df[
        [
            "function",
            "regions",
            "network",
            "hidden_layers",
            "arora_hidden_layers",
            "max_width",
            "relus",
            "patterns_per_piece",
            "build_seconds",
            "max_abs_error",
            "rounding_bound",
        ]
    ].copy()
    show["patterns_per_piece"] = [_g(v, 3) for v in show.patterns_per_piece]
    show["build_seconds"] = [_g(v, 2) for v in show.build_seconds]
    show["max_abs_error"] = [f"{v:.1e}" for v in show.max_abs_error]
    show["rounding_bound"] = ["" if pd.isna(v) else f"{v:.1e}" for v in show.rounding_bound]
    return f"""## Exact networks of piecewise-affine functions: `pwa_to_relu`

`OMP_NUM_THREADS=1 python benchmarks/bench_pwa_relu.py` (results in
`benchmarks/results/pwa_relu.csv`; {_stamp(df, ["version"])}): interpolants of random
values on random points and a saturated linear law; "plain lattice" is the unpruned
lattice network of Tarela and Martinez (1999), built up to 120 regions; Arora's bound is
ceil(log2(d + 1)) + 1 layers, here counted as hidden layers; activation patterns per
piece are counted among {int(df.samples.iloc[0]):,} random points; the error is the
largest |net(x) - f(x)| in float64 at those points, beside `pwa_rounding_bound`.

{markdown_table(show)}"""


def acasxu_section(df: pd.DataFrame) -> str:
    df = df.assign(prop=[i.split(":")[1] for i in df.instance])
    rows = []
    for prop, g in df.groupby("prop", sort=False):
        rows.append(
            {
                "property": prop.replace("_", " "),
                "instances": len(g),
                "sat / unsat expected": f"{(g.expected == 'sat').sum()} / "
                f"{(g.expected == 'unsat').sum()}",
                "decided": int(g.status.isin(["sat", "unsat"]).sum()),
                "wrong": int(g.wrong.sum()),
                "ours (s)": _g(g.time_s.sum(), 3),
                "nnenum (s)": _g(g.nnenum_s.sum(), 3),
                "alpha-beta-CROWN (s)": _g(g.abcrown_s.sum(), 3),
                "boxes": int(g.n_boxes.sum()),
            }
        )
    table = pd.DataFrame(rows)
    decided = df.status.isin(["sat", "unsat"])
    slow = df[~decided | (df.time_s > 10)].sort_values("time_s", ascending=False)
    slow_rows = slow[["instance", "expected", "status", "time_s", "n_boxes", "nnenum_s"]].copy()
    for col in ("time_s", "nnenum_s"):
        slow_rows[col] = [_g(v, 3) for v in slow_rows[col]]
    return f"""## ACAS Xu (VNN-COMP 2021)

`python benchmarks/bench_acasxu.py` (results in `benchmarks/results/acasxu.csv`;
{_stamp(df, ["device", "threads", "torch", "pwlmodels"])}): `pwlmodels.verify.check` on the
{len(df)} instances of `../shared/benchmarks/acasxu/instances.csv`, {df.limit_s.iloc[0]:g} s
each, beside the times nnenum and alpha-beta-CROWN took at VNN-COMP 2021 (competition
hardware, start-up included: about 0.8 s and 6-7 s per instance; ours exclude the
process start-up). Decided {int(decided.sum())} of {len(df)}
({100 * decided.mean():.1f} %), {int(df.wrong.sum())} wrong; total
{df.time_s.sum():.0f} s against nnenum's {df.nnenum_s.sum():.0f} s
({df.time_s.sum() / df.nnenum_s.sum():.2g}x) and alpha-beta-CROWN's
{df.abcrown_s.sum():.0f} s. See [Verifying standard benchmarks](vnncomp.md).

{markdown_table(table)}

Undecided, or over 10 s:

{markdown_table(slow_rows)}"""


def explicit_mpc_section(df: pd.DataFrame) -> str:
    show = df[["plant", "n_states", "horizon", "regions", "pieces"]].copy()
    show["enumeration (s)"] = [_g(v, 3) for v in df.enumeration_seconds]
    show["network"] = [
        f"{r.hidden_layers} hidden layers, {r.relus} ReLUs, {r.parameters:,} parameters"
        for r in df.itertuples()
    ]
    show["build (s)"] = [_g(v, 2) for v in df.build_seconds]
    show["max error"] = [f"{v:.1e}" for v in df.max_abs_error]
    show["rounding bound"] = [f"{v:.1e}" for v in df.rounding_bound]
    show["PPOPT regions"] = ["" if pd.isna(v) else f"{int(v)}" for v in df.ppopt_regions]
    show["PPOPT (s)"] = [_g(v, 3) for v in df.ppopt_seconds]
    return f"""## Explicit MPC as an exact network: `explicit_mpc` and `pwa_to_relu`

`OMP_NUM_THREADS=1 python benchmarks/bench_explicit_mpc.py` (results in
`benchmarks/results/explicit_mpc.csv`; {_stamp(df, ["version"])}): the first-move law
of box-constrained linear MPC (`applications.control.explicit_mpc`, critical regions by
active sets) for the double integrator of the control study and a linearised cart-pole
sampled at 0.1 s, its exact ReLU network, the largest |net(x) - law(x)| over about
{int(df.samples.min()):,} points (random states and every region vertex) beside
`pwa_rounding_bound`, and PPOPT (`ppopt`, its graph algorithm) on the same mpQP in the
same run. The committed run shared its 2-core machine with other jobs (load 7 to 10):
its seconds are several times those of an idle core.

{markdown_table(show)}

Karg and Lucia (2020, arXiv 1806.10644) bound the hidden layers and neurons an exact ReLU
network of an MPC law needs; that bound is not in our searchable reference store (only
their abstract is), so the sizes above are not set beside it.

The law's closed-loop certificates (`x+ = A x + B u(x)`, `applications.control`): the
exact max |u| over the state box (`input_bound`, from the regions), whether the state
box is positively invariant and its worst facet margin (`invariance`, negative where a
facet fails), and the region-of-attraction estimate `alpha S` of `region_of_attraction`
with the LQR polytope `S` (alpha verified by bisection, capped by the state box at
alpha cap; convergence by its level ladder), its volume over the Hu-Lin LQR ellipsoid's
(`lqr_ellipsoid`; polytope volume by scipy's `ConvexHull` in 4-D). Where alpha equals
alpha cap, the state box, not invariance, limits the estimate: a candidate `S` much
longer than the box along some axis leaves a thin slice of it, as the cart-pole's
(the input-only LQR polytope reaches about 20 rad in angle against the box's 0.3 rad).
Two better candidates, each certified the same way: the MPI set (`shape="mpi"`: the
LQR loop's contractive invariant set within the state box and the input limits, Gilbert
and Tan 1991; inside it the MPC law equals the LQR law, so it is certified at alpha = 1)
and the clipped scaling (`clip=True`: `alpha S` within the fixed state box, so the
search goes past alpha cap; 6 bisection steps, one run). "Box fraction" is the certified
set's volume (`Polytope.volume`, exact, not sampled) over the state box's.

{markdown_table(_certificates(df))}"""


def _certificates(df: pd.DataFrame) -> pd.DataFrame:
    show = df[["plant", "horizon"]].copy()
    show["max abs u"] = [f"{v:.6g}" for v in df.max_abs_u]
    show["box invariant"] = ["yes" if v else "no" for v in df.box_invariant]
    show["worst margin"] = [f"{v:.3g}" for v in df.box_worst_margin]
    show["alpha"] = [f"{v:.4g}" for v in df.roa_alpha]
    show["alpha cap"] = [f"{v:.4g}" for v in df.roa_alpha_cap]
    show["converges"] = ["proven" if v else "not proven" for v in df.roa_converges]
    show["volume / ellipsoid"] = [f"{v:.3g}" for v in df.roa_ellipsoid_ratio]
    show["box fraction"] = [f"{v:.3g}" for v in df.roa_box_fraction]
    show["MPI box fraction"] = [
        f"{f:.3g}" + ("" if ok else " (not proven)")
        for f, ok in zip(df.mpi_box_fraction, df.mpi_converges, strict=True)
    ]
    show["clipped alpha"] = [f"{v:.4g}" for v in df.clip_alpha]
    show["clipped box fraction"] = [
        f"{f:.3g}" + ("" if ok else " (not proven)")
        for f, ok in zip(df.clip_box_fraction, df.clip_converges, strict=True)
    ]
    timed = {"input_bound": "max abs u", "invariance": "invariance", "roa": "ROA"}
    timed |= {"mpi": "MPI", "clip": "clipped"}
    for column, name in timed.items():
        show[f"{name} (s)"] = [_g(v, 2) for v in df[f"{column}_seconds"]]
    return show


def ctm_network_section(df: pd.DataFrame) -> str:
    show = df[["objective", "steps"]].copy()
    show["network"] = [
        f"{r.layers} layers, {r.relus:,} ReLUs, {r.parameters:,} parameters"
        for r in df.itertuples()
    ]
    show["binaries"] = df["n_binary"]
    show["status"] = df["status"]
    show["value (bound)"] = [
        f"{r.value:.6g}" if r.status == "optimal" else f"{r.value:.6g} ({r.bound:.4g})"
        for r in df.itertuples()
    ]
    show["top corner"] = [f"{v:.6g}" for v in df.upper_value]
    show["sampled best"] = [f"{v:.6g}" for v in df.sampled_best]
    show["MILP (s)"] = [_g(v, 2) for v in df.solve_seconds]
    return f"""## The CTM step as an exact network: certified worst cases

`python benchmarks/bench_ctm_network.py` (results in `benchmarks/results/ctm_network.csv`;
{_stamp(df, ["threads", "pwlmodels"])}): `applications.traffic.ctm_unrolled_network`, T
steps of the cell transmission model (8 cells of 100 m, 2 lanes dropping to 1, triangular
diagram) as one exact ReLU network of the initial state and the inflow profile, and
`ctm_worst_case`, the maximum over a box of inflow profiles by `pwlmodels.maximize`
(MILP), with its witness replayed in the simulator, beside the top corner of the box and
the best of {int(df.samples.max()):,} sampled profiles. "queue": vehicles stored before the
lane drop after T steps (monotone in the inflows, so the corner attains it: a check of the
verifier); "jump": the density step across the drop, not monotone, where the certified
maximum exceeds both. A status other than optimal gives the incumbent and the proven bound.

{markdown_table(show)}"""


def aiyagari_section(df: pd.DataFrame) -> str:
    show = df[["calibration", "n"]].copy()
    show["r* (%)"] = [f"{v:.5f}" for v in df.r_star_pct]
    show["change (bp)"] = ["" if pd.isna(v) else f"{v:+.3f}" for v in df.change_bp]
    show["sequence-jacobian r* (%)"] = [f"{v:.5f}" for v in df.ssj_r_star_pct]
    show["gap (bp)"] = [f"{v:+.3f}" for v in df.gap_bp]
    show["Gini"] = [f"{v:.4f}" for v in df.gini]
    show["household solves"] = df["household_solves"]
    show["seconds"] = [_g(v, 2) for v in df.seconds]
    return f"""## Aiyagari equilibrium: r* against the grid, and against sequence-jacobian

`python benchmarks/bench_aiyagari.py` (results in `benchmarks/results/aiyagari.csv`;
{_stamp(df, ["pwlmodels"])}): `applications.economics.solve_aiyagari` (EGM households on
n asset nodes, Young's histogram, Brent on the capital market) at growing n, and the
same economy with sequence-jacobian's household block (its own EGM, grid and
distribution, 2000 nodes) cleared by the same root finder: the gap is in basis points.

{markdown_table(show)}"""


def neural_solvers_section(data: dict[str, pd.DataFrame]) -> str:
    from applications.economics._accuracy import FAIR
    from applications.economics._accuracy_page import summarize_accuracy

    members, summary = data["members"], summarize_accuracy(data)
    n_act, n_width = members.activation.nunique(), members.width.nunique()
    return f"""## Neural solvers of the Aiyagari household, given a fair budget

`python benchmarks/bench_neural_solvers.py` (results in
`benchmarks/results/neural_solvers_{{members,tuning,ge,egm}}.csv`;
{_stamp(members, ["pwlmodels"])}): Euler-residual networks of {n_act} activations and {n_width}
widths, {members.seed.nunique()} seeds each trained as one batched model
(`applications.economics.solve_networks`), {FAIR.steps:,} Adam steps then {FAIR.polish} L-BFGS
steps, learning
rate and input transform tuned per activation; log10 Euler errors (mean over EGM's
stationary distribution ± sd over seeds, and max) near the kink and away, with wall time per
network (the Adam stage; "L-BFGS" is the change the polish makes), and general equilibrium
from each activation's best networks. The economics page discusses them.

{markdown_table(summary["members_table"])}

{markdown_table(summary["ge_summary"])}"""


def render(results: Path = RESULTS) -> str:
    """The page's Markdown, from the CSVs in ``results``."""
    convert = pd.read_csv(results / "convert.csv")
    fit = pd.read_csv(results / "fit.csv")
    verify = pd.read_csv(results / "verify.csv")
    milp_bounds = pd.read_csv(results / "milp_bounds.csv")
    activations = pd.read_csv(results / "activations.csv")
    acasxu = pd.read_csv(results / "acasxu.csv")
    fit_many = pd.read_csv(results / "fit_many.csv")
    regions = pd.read_csv(results / "regions.csv")
    pwa_relu = pd.read_csv(results / "pwa_relu.csv")
    explicit_mpc = pd.read_csv(results / "explicit_mpc.csv")
    optional = {
        name: pd.read_csv(results / f"{name}.csv")
        for name in ("ctm_network", "aiyagari")
        if (results / f"{name}.csv").exists()
    }
    from applications.economics._accuracy_page import load_accuracy

    neural = load_accuracy(results)
    many = [pd.read_csv(results / name) for name in ("train_many.csv", "train_many_cuda.csv")
            if (results / name).exists()]  # fmt: skip
    page = "\n".join(
        [
            "# Benchmarks",
            "",
            "Every number on this page is a cell of, or a median or count over, the CSV",
            "files in `benchmarks/results/`, written by the scripts in `benchmarks/` in one",
            "run each on the machine their version columns describe. Wall times vary with",
            "the machine and its load; errors, SSRs and bounds do not. `python",
            "docs/gen_benchmarks.py` rewrites this page from the CSVs.",
            "",
            convert_section(convert),
            fit_section(fit),
            fit_many_section(fit_many),
            verify_section(verify),
            milp_bounds_section(milp_bounds),
            regions_section(regions),
            pwa_relu_section(pwa_relu),
            explicit_mpc_section(explicit_mpc),
            *([ctm_network_section(optional["ctm_network"])] if "ctm_network" in optional else []),
            *([aiyagari_section(optional["aiyagari"])] if "aiyagari" in optional else []),
            *([neural_solvers_section(neural)] if neural is not None else []),
            activations_section(activations),
            train_many_section(pd.concat(many, ignore_index=True)),
            acasxu_section(acasxu),
        ]
    )
    return page.rstrip() + "\n"


def main() -> int:
    write_atomic(PAGE, render())
    print(PAGE.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
