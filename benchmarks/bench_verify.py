"""Benchmark pwlmodels.maximize against OMLT's big-M MILP (pyomo, HiGHS): optimum, time, size.

The problem: the maximum over the box [-1, 1]^n_in of a seeded, default-
initialised torch network ``nn.Sequential(Linear(n_in, w), ReLU(), Linear(w,
w), ReLU(), Linear(w, 1))`` (float32, built right after ``torch.manual_seed(
seed)``, ``--seed``, default 0, inside ``torch.random.fork_rng`` so the global
generator is left as it was). Networks (``NETWORKS``): 2-16-16-1, 2-32-32-1,
2-64-64-1, 2-128-128-1 and 10-32-32-1, the last to show where each method
stops scaling. Every method sees the float32 parameters cast exactly to
float64.

Methods, each on every selected network:

* ``pwlmodels auto``, ``pwlmodels bab``, ``pwlmodels milp crown``,
  ``pwlmodels milp lp``: ``pwlmodels.maximize(net, -1, 1, method=...,
  tighten=..., atol=1e-7, rtol=1e-9, time_limit=T)`` with method ``"auto"``
  (branch and bound up to 10 inputs, so for every network here; the MILP
  beyond; ``method_used`` says which), ``"bab"``, and ``"milp"`` with
  ``tighten="crown"`` or ``"lp"``. Our MILP runs on the HiGHS bundled with
  scipy (``highs_scipy``).
* ``OMLT default bounds``: OMLT's ``NetworkDefinition`` built from the torch
  weights (``DenseLayer`` with ``weights = W.T``; no ONNX export) with
  ``scaled_input_bounds`` = the box, ``ReluBigMFormulation`` in an
  ``OmltBlock`` of a pyomo ``ConcreteModel``, objective ``maximize
  outputs[0]``. OMLT bounds each layer by interval arithmetic (pyomo's
  ``compute_bounds_on_expr`` in its dense-layer constraint) and uses those
  bounds as the big-M constants. Solved by HiGHS through pyomo's v2 solver
  interface (``pyomo.contrib.solver.common.factory.SolverFactory("highs")``,
  highspy) with ``rel_gap=1e-9``, ``abs_gap=atol / 10`` (the gaps our MILP
  passes to HiGHS) and ``time_limit=T``; HiGHS's other options (presolve,
  feasibility tolerances, threads) at their defaults (ours: the same
  tolerances, presolve off, and a cutoff from sampled points). The node count is
  HiGHS's ``mip_node_count`` (``results.extra_info``), the bound its
  ``mip_dual_bound`` (``results.objective_bound``).
* ``OMLT our bounds``: the same model, but each hidden layer's pre-activation
  bounds (the ``zhat`` variable bounds that OMLT's big-M ReLU constraint
  reads as its constants) replaced by ours: the bounds ``pwlmodels milp lp``
  uses (CROWN, then LP tightening with a weak-duality safeguard, then our
  big-M widening ``max(1e-9, 1e-7 (|l| + |u|))`` on the unstable units only),
  computed with pwlmodels' private helpers. They are written through OMLT's
  public hook ``FullSpaceNNFormulation(net, layer_constraints={DenseLayer:
  ...}, activation_constraints=...)``: our dense-layer function calls OMLT's
  ``full_space_dense_layer`` and then overwrites the ``zhat`` bounds, before
  OMLT's ``bigm_relu_activation_constraint`` (the one ``ReluBigMFormulation``
  uses) reads them. Its build time includes computing our bounds.

Recorded per (network, method): ``value``, the float64 forward pass of the
network at the method's maximiser (for OMLT, at the inputs of HiGHS's
incumbent: ``solver_value`` is HiGHS's own objective there), ``bound`` (our
verified upper bound; for OMLT, HiGHS's dual bound, not widened for rounding),
``gap = bound - value``, ``status`` (``"optimal"``, ``"time_limit"``,
``"node_limit"``, or pyomo's termination condition), ``best_value`` (the
largest ``value`` of any method on the network: each is attained at a point
of the box, so a lower bound of the true maximum), ``agrees = |value -
best_value| <= 1e-6``, ``bound_ok = bound >= best_value - 1e-6``,
``n_binary`` (ours: one per unstable unit, none for the last layer's units
the objective pushes onto their kink; OMLT declares one per hidden unit,
and HiGHS's presolve removes those of stable units), ``n_stable`` (units that
the bounds used prove stable), ``nodes_or_boxes`` (MILP nodes, or boxes
bounded by branch and bound), ``build_s`` and ``solve_s`` (ours: the result's
``build_time`` and ``solve_time``; OMLT: the network definition, formulation
and objective, then ``solve``, which includes pyomo's hand-over to highspy;
``highs_s`` is HiGHS's own run time) and ``total_s``, the wall time of the
whole call (``time.perf_counter``), best of ``--repeats``: a call is repeated
only while its calls so far took less than ``REPEAT_BUDGET`` seconds, and
``build_s`` / ``solve_s`` come from the last call. ``speedup_vs_omlt`` is
``OMLT default bounds`` ``total_s`` over this row's ``total_s`` on the same
network in the same run: a lower bound when OMLT hit the time limit (printed
with ``>=``). The run ends with the issue's targets checked against these
ratios.

torch runs on one thread (``torch.set_num_threads(1)``): branch and bound
multiplies many tiny matrices, and extra threads only contend for the cores
(recorded as ``threads``).

Run::

    python benchmarks/bench_verify.py             # full run, writes results/verify.csv
    python benchmarks/bench_verify.py --quick     # 2-16-16-1 only, ~10 s: results/verify_quick.csv
    python benchmarks/bench_verify.py --sizes 16,32,64 --time-limit 300
    python benchmarks/bench_verify.py --omlt-sizes 16,32,64   # ours on all, OMLT on three

``--sizes`` and ``--omlt-sizes`` take network names (``2-32-32-1``) or, for
the 2-input networks, the width (``32``). It prints a header (versions,
threads, load, settings, total runtime), one row per network and method, and
the targets; progress goes to stderr. The CSV (tidy: one row per network and
method) is written atomically.
"""

from __future__ import annotations

import argparse
import copy
import importlib.metadata
import os
import platform
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import omlt
import pandas as pd
import pyomo
import pyomo.environ as pyo
import scipy
import torch
from _common import best_of, library_version, write_csv_atomic
from omlt import OmltBlock
from omlt.neuralnet import FullSpaceNNFormulation, NetworkDefinition, ReluBigMFormulation
from omlt.neuralnet.activations import bigm_relu_activation_constraint, linear_activation_constraint
from omlt.neuralnet.layer import DenseLayer, InputLayer
from omlt.neuralnet.layers.full_space import full_space_dense_layer
from pyomo.contrib.solver.common.factory import SolverFactory
from torch import nn

from pwlmodels import maximize

NETWORKS = {  # name: (inputs, hidden width)
    "2-16-16-1": (2, 16),
    "2-32-32-1": (2, 32),
    "2-64-64-1": (2, 64),
    "2-128-128-1": (2, 128),
    "10-32-32-1": (10, 32),
}
QUICK_NETWORKS = ("2-16-16-1",)
ATOL, RTOL = 1e-7, 1e-9
AGREE = 1e-6  # |value - best_value| that counts as the same optimum
TIME_LIMIT, QUICK_TIME_LIMIT = 600.0, 30.0  # seconds per solve
REPEAT_BUDGET = 2.0  # seconds: stop repeating a call once its calls took this long

OURS = {  # method: maximize keywords
    "pwlmodels auto": {"method": "auto"},
    "pwlmodels bab": {"method": "bab"},
    "pwlmodels milp crown": {"method": "milp", "tighten": "crown"},
    "pwlmodels milp lp": {"method": "milp", "tighten": "lp"},
}
OMLT_OURS, OMLT_DEFAULT = "OMLT our bounds", "OMLT default bounds"

COLUMNS = [
    "network",
    "n_in",
    "width",
    "seed",
    "method",
    "method_used",
    "value",
    "bound",
    "gap",
    "status",
    "best_value",
    "agrees",
    "bound_ok",
    "n_binary",
    "n_stable",
    "nodes_or_boxes",
    "build_s",
    "solve_s",
    "highs_s",
    "total_s",
    "repeats",
    "speedup_vs_omlt",
    "solver_value",
    "time_limit",
    "error",
    "warnings",
    "threads",
    "torch",
    "scipy",
    "highs_scipy",
    "highspy",
    "pyomo",
    "omlt",
    "pwlmodels",
]

Row = dict[str, Any]


def make_net(n_in: int, width: int, seed: int) -> nn.Sequential:
    """Linear-ReLU-Linear-ReLU-Linear with torch's default init after manual_seed(seed)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(
            nn.Linear(n_in, width),
            nn.ReLU(),
            nn.Linear(width, width),
            nn.ReLU(),
            nn.Linear(width, 1),
        )


def forward64(net64: nn.Module, x: np.ndarray) -> float:
    with torch.no_grad():
        return float(net64(torch.as_tensor(x, dtype=torch.float64)[None])[0, 0])


# ------------------------------------------------------------------ ours
def ours(net: nn.Sequential, n_in: int, time_limit: float, **options) -> Row:
    box = np.ones(n_in)
    r = maximize(net, -box, box, atol=ATOL, rtol=RTOL, time_limit=time_limit, **options)
    return {
        "method_used": r.method,
        "value": r.value,
        "bound": r.bound,
        "status": r.status,
        "n_binary": r.n_binary,
        "n_stable": r.n_stable,
        "nodes_or_boxes": r.n_nodes,
        "build_s": r.build_time,
        "solve_s": r.solve_time,
        "solver_value": r.solver_value,
    }


def our_bounds(net: nn.Sequential, lower: np.ndarray, upper: np.ndarray) -> list[tuple]:
    """Each hidden layer's pre-activation (lo, up), as ``maximize(tighten="lp")`` uses them.

    These are pwlmodels' private helpers (a benchmark may reach into them), in
    the order ``pwlmodels.verify._milp.maximize`` calls them for ``tighten="lp"``:
    CROWN layer bounds, LP tightening, and the big-M widening that its
    ``_leaky_unit`` applies to unstable units only.
    """
    from pwlmodels.network._parse import parse_sequential
    from pwlmodels.verify import _bounds, _milp

    chain = _bounds.make_chain(parse_sequential(net), lower.size, torch.device("cpu"))
    lo = torch.as_tensor(lower, dtype=torch.float64)[None]
    up = torch.as_tensor(upper, dtype=torch.float64)[None]
    crown = [(a[0].numpy(), b[0].numpy()) for a, b in _bounds.layer_bounds(chain, lo, up)]
    out = []
    for a, b in _milp.lp_bounds(chain, lower, upper, crown):
        wide_a, wide_b = _milp.bigm_widen(a, b)
        unstable = (a < 0) & (b > 0)
        out.append((np.where(unstable, wide_a, a), np.where(unstable, wide_b, b)))
    return out


# ------------------------------------------------------------------ OMLT
def omlt_definition(net: nn.Sequential, lower: np.ndarray, upper: np.ndarray) -> tuple:
    """OMLT's NetworkDefinition of the torch net (float64 weights) and its hidden layers."""
    box = {i: (float(a), float(b)) for i, (a, b) in enumerate(zip(lower, upper, strict=True))}
    definition = NetworkDefinition(scaled_input_bounds=box)
    prev = InputLayer([lower.size])
    definition.add_layer(prev)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    hidden = []
    for k, lin in enumerate(linears):
        w = lin.weight.detach().to(torch.float64).numpy()
        b = lin.bias.detach().to(torch.float64).numpy()
        last = k == len(linears) - 1
        layer = DenseLayer(
            [w.shape[1]], [w.shape[0]], w.T.copy(), b, activation="linear" if last else "relu"
        )
        definition.add_layer(layer)
        definition.add_edge(prev, layer)
        prev = layer
        if not last:
            hidden.append(layer)
    return definition, hidden


def dense_with_bounds(bounds: dict) -> Callable:
    """OMLT's dense-layer constraint, then the zhat bounds of the layers in `bounds` overwritten."""

    def constraint(net_block, net, layer_block, layer):
        full_space_dense_layer(net_block, net, layer_block, layer)
        if id(layer) in bounds:
            lo, up = bounds[id(layer)]
            for index in layer.output_indexes:
                layer_block.zhat[index].setlb(float(lo[index[-1]]))
                layer_block.zhat[index].setub(float(up[index[-1]]))

    return constraint


def omlt_maximize(
    net: nn.Sequential, n_in: int, time_limit: float, *, with_our_bounds: bool
) -> Row:
    net64 = copy.deepcopy(net).to(torch.float64)
    lower, upper = -np.ones(n_in), np.ones(n_in)
    t0 = time.perf_counter()
    definition, hidden = omlt_definition(net, lower, upper)
    if with_our_bounds:
        bounds = dict(zip(map(id, hidden), our_bounds(net, lower, upper), strict=True))
        formulation = FullSpaceNNFormulation(
            definition,
            layer_constraints={DenseLayer: dense_with_bounds(bounds)},
            activation_constraints={  # ReluBigMFormulation's
                "relu": bigm_relu_activation_constraint,
                "linear": linear_activation_constraint,
            },
        )
    else:
        formulation = ReluBigMFormulation(definition)
    m = pyo.ConcreteModel()
    m.nn = OmltBlock()
    m.nn.build_formulation(formulation)
    m.objective = pyo.Objective(expr=m.nn.outputs[0], sense=pyo.maximize)
    build = time.perf_counter() - t0

    t1 = time.perf_counter()
    res = SolverFactory("highs").solve(
        m,
        time_limit=time_limit,
        rel_gap=RTOL,
        abs_gap=ATOL / 10,
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
    )
    solve = time.perf_counter() - t1

    condition = res.termination_condition.name
    status = {"convergenceCriteriaSatisfied": "optimal", "maxTimeLimit": "time_limit"}
    value = np.nan
    if res.incumbent_objective is not None:
        res.solution_loader.load_vars()
        x = np.clip([pyo.value(m.nn.inputs[i]) for i in range(n_in)], lower, upper)
        value = forward64(net64, x)
    stable = 0
    for layer in hidden:
        for index in layer.output_indexes:
            lb, ub = m.nn.layer[id(layer)].zhat[index].bounds
            stable += int(lb >= 0 or ub <= 0)
    binaries = sum(1 for v in m.component_data_objects(pyo.Var) if v.is_binary())
    bound = res.objective_bound
    return {
        "value": value,
        "bound": np.nan if bound is None else float(bound),
        "status": status.get(condition, condition),
        "n_binary": binaries,
        "n_stable": stable,
        "nodes_or_boxes": getattr(res.extra_info, "mip_node_count", None),
        "build_s": build,
        "solve_s": solve,
        "highs_s": res.timing_info.highs_time,
        "solver_value": res.incumbent_objective,
    }


# ------------------------------------------------------------------ the runs
def run_one(method: str, call: Callable[[], Row], repeats: int) -> Row:
    row: Row = {"method": method}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            seconds, out, calls = best_of(call, repeats, REPEAT_BUDGET)
        except Exception as exc:  # a crash is a finding: record it and go on
            row["error"] = f"{type(exc).__name__}: {exc}"
            print(traceback.format_exc(), file=sys.stderr)
            return row
    row.update(out, total_s=seconds, repeats=calls)
    messages = sorted({f"{m.category.__name__}: {m.message}" for m in caught})
    if messages:
        row["warnings"] = f"{len(caught)} x " + " | ".join(messages)[:300]
    return row


def network_rows(name: str, seed: int, time_limit: float, repeats: int, with_omlt: bool, log):
    n_in, width = NETWORKS[name]
    net = make_net(n_in, width, seed)
    calls = [(m, partial(ours, net, n_in, time_limit, **kw)) for m, kw in OURS.items()]
    if with_omlt:
        calls += [
            (OMLT_OURS, partial(omlt_maximize, net, n_in, time_limit, with_our_bounds=True)),
            (OMLT_DEFAULT, partial(omlt_maximize, net, n_in, time_limit, with_our_bounds=False)),
        ]
    rows = []
    for method, call in calls:
        row = run_one(method, call, repeats)
        rows.append(row)
        log(f"{name} {method}: {row.get('status', 'error')}, {row.get('total_s', np.nan):.3g} s")
    values = [r.get("value", np.nan) for r in rows]
    best = np.nanmax(values) if np.isfinite(values).any() else np.nan
    omlt_total = next((r.get("total_s") for r in rows if r["method"] == OMLT_DEFAULT), None)
    for r in rows:
        r.update(network=name, n_in=n_in, width=width, seed=seed, time_limit=time_limit)
        r["best_value"] = best
        if "value" in r:
            r["gap"] = r["bound"] - r["value"]
            r["agrees"] = bool(abs(r["value"] - best) <= AGREE)
            r["bound_ok"] = bool(r["bound"] >= best - AGREE)
        if omlt_total is not None and "total_s" in r:
            r["speedup_vs_omlt"] = omlt_total / r["total_s"]
    return rows


# ------------------------------------------------------------------ report
def row_of(df: pd.DataFrame, network: str, method: str) -> pd.Series | None:
    sel = df[(df["network"] == network) & (df["method"] == method)]
    return sel.iloc[0] if len(sel) else None


def speedup_text(df: pd.DataFrame, network: str, method: str) -> tuple[str, float, bool]:
    """'12.3x' (or '>=12.3x' when OMLT timed out), the ratio, and whether it is a lower bound."""
    r, o = row_of(df, network, method), row_of(df, network, OMLT_DEFAULT)
    if r is None or o is None or pd.isna(r["speedup_vs_omlt"]):
        return "n.a.", np.nan, False
    ratio, lower_bound = float(r["speedup_vs_omlt"]), o["status"] != "optimal"
    return f"{'>=' if lower_bound else ''}{ratio:.3g}x", ratio, lower_bound


def targets(df: pd.DataFrame) -> list[str]:
    """The issue's targets, checked against this run."""
    lines = []
    for network in df["network"].unique():
        o = row_of(df, network, OMLT_DEFAULT)
        if o is None or o["status"] != "optimal":
            what = "not run" if o is None else f"status {o['status']}"
            lines.append(f"milp lp >= 3x OMLT default on {network}: n.a. (OMLT {what})")
            continue
        text, ratio, _ = speedup_text(df, network, "pwlmodels milp lp")
        lines.append(
            f"milp lp >= 3x OMLT default on {network}: {text} -> {'PASS' if ratio >= 3 else 'FAIL'}"
        )
    for network in ("2-32-32-1", "2-64-64-1"):
        text, ratio, lower_bound = speedup_text(df, network, "pwlmodels auto")
        verdict = "n.a. (not run)" if np.isnan(ratio) else ("PASS" if ratio >= 100 else "FAIL")
        if lower_bound and verdict == "FAIL":
            verdict = "undecided (OMLT timed out)"
        shown = "" if np.isnan(ratio) else f"{text} -> "
        lines.append(f"auto >= 100x OMLT default on {network}: {shown}{verdict}")
    r = row_of(df, "2-128-128-1", "pwlmodels auto")
    if r is None or pd.isna(r.get("total_s")):
        lines.append("2-128-128-1 certified to 1e-7 within 5 s: n.a. (not run)")
    else:
        ok = r["status"] == "optimal" and r["total_s"] <= 5.0
        lines.append(
            f"2-128-128-1 certified to 1e-7 within 5 s: {r['status']}, gap {r['gap']:.2g}, "
            f"{r['total_s']:.2f} s -> {'PASS' if ok else 'FAIL'}"
        )
    return lines


def highs_versions() -> tuple[str, str]:
    """(scipy's bundled HiGHS, highspy's HiGHS) versions, without starting a solver."""
    from scipy.optimize._highspy import _core

    bundled = ".".join(
        str(getattr(_core, f"HIGHS_VERSION_{p}", "?")) for p in ("MAJOR", "MINOR", "PATCH")
    )
    return bundled, importlib.metadata.version("highspy")


def parse_names(text: str, option: str, parser: argparse.ArgumentParser) -> list[str]:
    names = [f"2-{t}-{t}-1" if t.isdigit() else t for t in text.split(",") if t]
    unknown = [n for n in names if n not in NETWORKS]
    if unknown:
        parser.error(f"{option}: unknown networks {unknown}; choose from {list(NETWORKS)}")
    return names


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="best of R timings (default 3)")
    parser.add_argument(
        "--sizes",
        default=None,
        help=f"comma-separated networks, from {','.join(NETWORKS)}, or widths of the 2-input "
        f"ones (default all; {','.join(QUICK_NETWORKS)} with --quick)",
    )
    parser.add_argument(
        "--omlt-sizes",
        default=None,
        help="networks on which OMLT runs too (default: all of --sizes)",
    )
    parser.add_argument("--seed", type=int, default=0, help="torch.manual_seed (default 0)")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=None,
        help=f"seconds per solve, every method (default {TIME_LIMIT:g}, {QUICK_TIME_LIMIT:g} "
        "with --quick)",
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"smoke test: {','.join(QUICK_NETWORKS)} only"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="CSV path (default results/verify.csv, or results/verify_quick.csv with --quick)",
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.time_limit is not None and not args.time_limit > 0:
        parser.error("--time-limit must be positive")
    args.sizes = parse_names(
        args.sizes or ",".join(QUICK_NETWORKS if args.quick else NETWORKS), "--sizes", parser
    )
    args.omlt_sizes = (
        args.sizes
        if args.omlt_sizes is None
        else parse_names(args.omlt_sizes, "--omlt-sizes", parser)
    )
    if args.time_limit is None:
        args.time_limit = QUICK_TIME_LIMIT if args.quick else TIME_LIMIT
    return args


def main(argv: list[str] | None = None) -> pd.DataFrame:
    args = parse_args(argv)
    torch.set_num_threads(1)
    start, load = time.perf_counter(), os.getloadavg()[0]
    version = library_version()  # now: pwlmodels/ may be edited while this runs
    out = args.out or Path(__file__).resolve().parent / "results" / (
        "verify_quick.csv" if args.quick else "verify.csv"
    )

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - start:7.1f} s] {message}", file=sys.stderr, flush=True)

    rows: list[Row] = []
    for name in args.sizes:
        with_omlt = name in args.omlt_sizes
        rows += network_rows(name, args.seed, args.time_limit, args.repeats, with_omlt, log)

    df = pd.DataFrame(rows).reindex(columns=COLUMNS)
    for col in ("n_in", "width", "seed", "n_binary", "n_stable", "nodes_or_boxes", "repeats"):
        df[col] = df[col].astype("Int64")
    for col in ("agrees", "bound_ok", "error", "warnings"):
        df[col] = df[col].astype(object)
    bundled, highspy_version = highs_versions()
    df["threads"] = torch.get_num_threads()
    df["torch"], df["scipy"], df["highs_scipy"] = torch.__version__, scipy.__version__, bundled
    df["highspy"], df["pyomo"], df["omlt"] = highspy_version, pyomo.__version__, omlt.__version__
    df["pwlmodels"] = version
    write_csv_atomic(df, out, float_format="%.12g")

    total = time.perf_counter() - start
    print(
        f"# bench_verify: torch {torch.__version__} ({torch.get_num_threads()} thread), scipy "
        f"{scipy.__version__} (HiGHS {bundled}), highspy {highspy_version}, pyomo "
        f"{pyomo.__version__}, omlt {omlt.__version__}, python {platform.python_version()} on "
        f"{platform.machine()} with {os.cpu_count()} CPUs (load {load:.2f} at start), "
        f"pwlmodels {version} at start\n"
        f"# max over [-1, 1]^n_in, torch.manual_seed({args.seed}) default init; atol {ATOL:g}, "
        f"rtol {RTOL:g}; time limit {args.time_limit:g} s per solve; best of {args.repeats} "
        f"(repeated only while the calls took < {REPEAT_BUDGET:g} s); agrees = |value - "
        f"best_value| <= {AGREE:g}; speedup = OMLT default total_s / total_s "
        f"(>= when OMLT timed out)\n"
        f"# OMLT on {','.join(n for n in args.sizes if n in args.omlt_sizes) or 'none'}; "
        f"total {total:.1f} s; written to {out}\n"
    )
    shown = df[
        [
            "network",
            "method",
            "value",
            "gap",
            "status",
            "agrees",
            "n_binary",
            "n_stable",
            "nodes_or_boxes",
            "build_s",
            "solve_s",
            "total_s",
            "error",
        ]
    ].copy()
    shown.insert(
        shown.columns.get_loc("total_s") + 1,
        "speedup",
        [speedup_text(df, r["network"], r["method"])[0] for _, r in df.iterrows()],
    )
    for col in ("n_binary", "n_stable", "nodes_or_boxes"):
        shown[col] = [("" if pd.isna(v) else str(v)) for v in shown[col]]
    formats = {"value": lambda v: f"{v:.10f}", "gap": lambda v: f"{v:.1e}"}
    print(
        shown.to_string(
            index=False, na_rep="", formatters=formats, float_format=lambda v: f"{v:.3g}"
        )
    )
    print("\n# targets (from the issue)")
    print("\n".join(targets(df)))
    problems = df[(df["agrees"] != True) | (df["bound_ok"] != True) | df["error"].notna()]  # noqa: E712
    print(f"\n# rows that disagree with the best value by more than {AGREE:g}, or failed:")
    print(
        problems[["network", "method", "status", "value", "bound", "error"]].to_string(index=False)
        if len(problems)
        else "none"
    )
    warned = df[df["warnings"].notna()]
    if len(warned):
        print("\n# warnings:")
        for _, r in warned.iterrows():
            print(f"{r['network']} {r['method']}: {r['warnings']}")
    return df


if __name__ == "__main__":
    main()
