"""Benchmark the EGM policy as the neural solver's exact start (issue 25, item 3).

For the default calibration (EGM with the study's 2000 nodes), records the
tidy table of :func:`applications.economics._warm.compare_warm_start`: log10
Euler errors near the kink and away from it, the policy error against EGM, the
last loss, for the solver trained from the exact EGM network (``egm_exact``,
24 knots per state or every node) and from random weights of the same
architecture (``random``), after the study's 25 L-BFGS steps and 10 times
that; plus ``study``: the study's own solver (ReLU (24, 24), log asset input,
sigmoid share) for context. Deterministic on CPU (seed 0, one thread).

Run::

    python benchmarks/bench_warm_start.py            # writes results/warm_start.csv
    python benchmarks/bench_warm_start.py --quick    # smoke: small sizes
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
import torch
from _common import library_version, write_csv_atomic

from applications.economics import IFPParams, solve_egm, solve_network
from applications.economics._warm import _metrics, compare_warm_start

OUT = Path(__file__).resolve().parent / "results" / "warm_start.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    torch.set_num_threads(1)
    n, steps, points = (300, (2, 20), 64) if args.quick else (2000, (25, 250), 256)
    sol = solve_egm(IFPParams(), n=n)
    frames = []
    for knots in (24, None):
        start = time.perf_counter()
        df = compare_warm_start(sol, n_knots=knots, steps=steps, n_points=points)
        df["knots"] = "all" if knots is None else str(knots)
        df["seconds_all_runs"] = time.perf_counter() - start
        frames.append(df)
    p = sol.params
    for k in steps:
        ns = solve_network(
            p, hidden=(24, 24), steps=k, n_points=points, resimulate_every=5,
            domain=(-p.borrowing_limit, sol.ergodic_max),
        )  # fmt: skip
        rows = _metrics(sol, "study", k, ns.policy, n_params=ns.n_params,
                        loss=float(ns.history["loss"].iloc[-1]))  # fmt: skip
        frames.append(
            pd.DataFrame(rows, columns=["start", "steps", "metric", "value"]).assign(knots="-")
        )
    out = pd.concat(frames, ignore_index=True)
    out["pwlmodels"] = library_version()
    out["torch"] = torch.__version__
    if not args.quick or args.out != OUT:
        write_csv_atomic(out, args.out)
    wide = out.pivot_table(index="metric", columns=["knots", "start", "steps"], values="value",
                           dropna=False)  # fmt: skip
    print(wide.dropna(axis=1, how="all").to_string(float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
