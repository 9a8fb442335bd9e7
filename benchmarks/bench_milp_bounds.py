"""How far better bounds can take the big-M MILP, against OMLT's default: nodes and times.

Issue 5 asks for ``maximize(method="milp", tighten="lp")`` to run at least 3
times faster than OMLT's big-M MILP with its default (interval) bounds, on
the networks of ``bench_verify.py``. This script asks what the best possible
bounds would give. On each seeded network (``bench_verify.make_net``) it
times, in the same run:

* ``OMLT default bounds``: ``bench_verify.omlt_maximize`` (HiGHS through
  pyomo and highspy);
* ``milp crown`` and ``milp lp``: ``pwlmodels.maximize(net, -1, 1,
  method="milp", tighten=...)``;
* ``milp exact``: the same MILP with each kinked hidden unit's pre-activation
  bounds made exact: after the LP tightening, the maximum and the minimum of
  the unit over the box are certified by branch and bound
  (``pwlmodels.maximize`` / ``minimize`` with ``method="bab"``, ``atol=rtol=
  1e-9``, on the network cut after that layer, ``c`` picking the unit). No
  bound tightening can give the MILP tighter big-M constants than these. They
  reach the MILP through ``pwlmodels.verify._milp.lp_bounds``, patched for that
  call only (a benchmark may reach into private helpers).

Recorded per (network, seed, bounds): ``value`` and ``bound`` (the verified
result; OMLT's bound is HiGHS's dual bound), ``status``, ``n_binary``
(binaries; OMLT: its unstable units), ``nodes`` (HiGHS's), ``bounds_s``
(ours: the result's ``build_time``, mostly computing the bounds; OMLT: building the model),
``solve_s`` (ours: HiGHS, and the sampling and candidate evaluations; OMLT:
the solve through pyomo), ``total_s`` (wall time: best of 3 calls, repeated
only while the calls took less than 2 s; ``bounds_s`` and ``solve_s`` come
from the last call), ``speedup`` = OMLT's ``total_s`` / ``total_s`` and
``speedup_bounds_free`` = OMLT's ``total_s`` / ``solve_s``, the ratio if the
bounds cost nothing. Time limit ``--time-limit`` (120 s) per solve.

Run::

    python benchmarks/bench_milp_bounds.py                 # 2-16/32, seeds 0-4 (~2 min)
    python benchmarks/bench_milp_bounds.py --sizes 64 --seeds 0 --time-limit 600
    python benchmarks/bench_milp_bounds.py --sizes 16 --seeds 0 --out /tmp/b.csv

Writes ``results/milp_bounds.csv`` (atomically) and prints the table.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from functools import partial
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import torch
from _common import best_of, library_version, write_csv_atomic
from bench_verify import ATOL, NETWORKS, REPEAT_BUDGET, RTOL, make_net, omlt_maximize, parse_names

from pwlmodels import maximize, minimize
from pwlmodels.verify import _milp

TIME_LIMIT = 120.0  # seconds per solve (--time-limit)
REPEATS = 3  # best of 3 wall times, repeated only while the calls took < REPEAT_BUDGET
EXACT_TOL = 1e-9  # atol and rtol of the branch and bound that makes each unit's bounds exact


def exact_lp_bounds(net: torch.nn.Sequential):
    """A stand-in for ``_milp.lp_bounds``: its bounds, then each kinked unit's made exact."""
    lp_bounds = _milp.lp_bounds

    def bounds(chain, lower, upper, start, coef=None):
        out = lp_bounds(chain, lower, upper, start, coef)
        for k in range(1, len(out)):
            sub = net[: 2 * k + 1]  # up to layer k's pre-activations
            lo, up = out[k][0].copy(), out[k][1].copy()
            for j in np.flatnonzero((lo < 0) & (up > 0)):
                c = torch.zeros(lo.size, dtype=torch.float64)
                c[j] = 1.0
                kw = {"c": c, "method": "bab", "atol": EXACT_TOL, "rtol": EXACT_TOL}
                up[j] = min(up[j], maximize(sub, lower, upper, **kw).bound)
                lo[j] = max(lo[j], minimize(sub, lower, upper, **kw).bound)
            out[k] = (lo, np.maximum(up, lo))
        return out

    return bounds


def milp_row(net: torch.nn.Sequential, n_in: int, bounds: str, time_limit: float) -> dict:
    box = np.ones(n_in)
    tighten = "crown" if bounds == "crown" else "lp"
    patch = (
        mock.patch.object(_milp, "lp_bounds", exact_lp_bounds(net))
        if bounds == "exact"
        else contextlib.nullcontext()
    )

    def call():
        with patch:
            return maximize(
                net, -box, box, method="milp", tighten=tighten, atol=ATOL, rtol=RTOL,
                time_limit=time_limit,
            )  # fmt: skip

    seconds, r, _ = best_of(call, REPEATS, REPEAT_BUDGET)
    return {
        "bounds": f"milp {bounds}",
        "value": r.value,
        "bound": r.bound,
        "status": r.status,
        "n_binary": r.n_binary,
        "nodes": r.n_nodes,
        "bounds_s": r.build_time,
        "solve_s": r.solve_time,
        "total_s": seconds,
    }


def rows_for(name: str, seed: int, time_limit: float, log) -> list[dict]:
    n_in, width = NETWORKS[name]
    net = make_net(n_in, width, seed)
    seconds, o, _ = best_of(
        partial(omlt_maximize, net, n_in, time_limit, with_our_bounds=False), REPEATS, REPEAT_BUDGET
    )
    omlt = {
        "bounds": "OMLT default bounds",
        "value": o["value"],
        "bound": o["bound"],
        "status": o["status"],
        "n_binary": o["n_binary"] - o["n_stable"],
        "nodes": o["nodes_or_boxes"],
        "bounds_s": o["build_s"],
        "solve_s": o["solve_s"],
        "total_s": seconds,
    }
    rows = [omlt] + [milp_row(net, n_in, b, time_limit) for b in ("crown", "lp", "exact")]
    for r in rows:
        r.update(network=name, seed=seed)
        r["speedup"] = omlt["total_s"] / r["total_s"]
        r["speedup_bounds_free"] = omlt["total_s"] / r["solve_s"]
        log(f"{name} seed {seed} {r['bounds']}: {r['nodes']} nodes, {r['total_s']:.3g} s")
    return rows


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="16,32", help="networks (default 16,32)")
    parser.add_argument("--seeds", default="0,1,2,3,4", help="seeds (default 0,1,2,3,4)")
    parser.add_argument(
        "--time-limit", type=float, default=TIME_LIMIT, help=f"seconds per solve ({TIME_LIMIT:g})"
    )
    parser.add_argument("--out", type=Path, default=None, help="CSV path")
    args = parser.parse_args(argv)
    names = parse_names(args.sizes, "--sizes", parser)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    out = args.out or Path(__file__).resolve().parent / "results" / "milp_bounds.csv"
    torch.set_num_threads(1)
    start, version = time.perf_counter(), library_version()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - start:7.1f} s] {message}", file=sys.stderr, flush=True)

    rows = [r for n in names for seed in seeds for r in rows_for(n, seed, args.time_limit, log)]
    df = pd.DataFrame(rows)
    df = df[["network", "seed", *[c for c in df.columns if c not in ("network", "seed")]]]
    df["pwlmodels"] = version
    write_csv_atomic(df, out, float_format="%.12g")
    print(
        f"# bench_milp_bounds: pwlmodels {version}; max over [-1, 1]^n_in; atol {ATOL:g}, rtol "
        f"{RTOL:g}; speedup = OMLT default total / total; bounds_free = OMLT total / solve_s; "
        f"total {time.perf_counter() - start:.0f} s; written to {out}"
    )
    shown = df.drop(columns=["value", "bound", "pwlmodels"])
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    return df


if __name__ == "__main__":
    main()
