"""Benchmark the CTM unrolled as an exact ReLU network: sizes, MILP time, certified worst cases.

A link of 8 cells of 100 m, 2 lanes dropping to 1 lane for the last 2 cells
(triangular diagram vf = 100 km/h, w = 20 km/h, 120 veh/km per lane; dt = dx /
vf = 3.6 s), inflow of each step in [0.5, 1.0] x the entrance's capacity
(2000 to 4000 veh/h). For T steps (``--steps``, ``--jump-steps``), ``ctm_worst_case``
maximises:

- ``queue``: the vehicles held before the drop after T steps (the 6 two-lane
  cells times dx, plus the entry queue), from free flow (15 veh/km per lane).
  The scheme is monotone, so the maximum is at the top corner of the box
  (``upper_value``): the certificate must agree with it.
- ``jump``: the density jump across the drop after T steps (rho_5 - rho_6,
  veh/km), with the initial densities in a box too (15 to 45 veh/km per lane):
  not monotone, so neither the corner nor sampling finds the maximum.

Each row: the network's ``layers`` (Linear), ``relus``, ``parameters``; the
MILP's ``n_binary``, ``status``, ``value`` (at the witness), ``bound`` (sound),
``gap``, ``solver_bound`` (HiGHS's own dual bound, unconfirmed); ``upper_value``
(the box's top corner), ``sampled_best`` (best of ``--samples`` uniform
profiles, a sampled lower bound), ``replay_error`` (|the witness replayed in
simulate_ctm - value|), ``build_seconds``, ``solve_seconds`` (maximize, with
``--time-limit``, then the samples and the replay), ``witness_inflow``.

Run::

    python benchmarks/bench_ctm_network.py            # writes results/ctm_network.csv
    python benchmarks/bench_ctm_network.py --quick    # smoke: T = 3, 5 (queue), 3 (jump)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _common import stamp_torch, write_csv_atomic

from applications.traffic import TriangularFD, ctm_worst_case

LANES = np.array([2.0] * 6 + [1.0] * 2)
DX = 0.1  # km
FD = TriangularFD()
DT = DX / FD.vf  # h: the CFL condition with equality


def objectives() -> dict[str, dict]:
    queue = np.r_[np.where(LANES == 2.0, DX, 0.0), 1.0]
    jump = np.zeros(LANES.size)
    jump[5], jump[6] = 1.0, -1.0
    return {
        "queue": {"weights": queue, "rho0": 15.0 * LANES},
        "jump": {"weights": jump, "rho0": np.stack([15.0 * LANES, 45.0 * LANES])},
    }


def row(name: str, steps: int, samples: int, time_limit: float) -> dict:
    spec = objectives()[name]
    r = ctm_worst_case(
        FD,
        LANES.size,
        DX,
        DT,
        steps,
        lanes=LANES,
        rho0=spec["rho0"],
        inflow_lower=0.5 * 2 * FD.capacity,
        inflow_upper=2 * FD.capacity,
        weights=spec["weights"],
        samples=samples,
        time_limit=time_limit,
    )
    return {
        "objective": name,
        "steps": steps,
        "n_cells": r.n_cells,
        "layers": r.layers,
        "relus": r.relus,
        "parameters": r.parameters,
        "n_binary": r.n_binary,
        "status": r.status,
        "value": r.value,
        "bound": r.bound,
        "gap": r.gap,
        "solver_bound": r.solver_bound,
        "upper_value": r.upper_value,
        "sampled_best": r.sampled_best,
        "samples": r.samples,
        "replay_error": abs(r.replay_value - r.value),
        "build_seconds": r.build_time,
        "solve_seconds": r.solve_time,
        "witness_inflow": " ".join(f"{v:.6g}" for v in r.witness_inflow),
    }


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="5,10,15,20", help="queue's horizons (5,10,15,20)")
    parser.add_argument("--jump-steps", default="3,5", help="jump's horizons (default 3,5)")
    parser.add_argument("--samples", type=int, default=10_000, help="random profiles (10000)")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per maximize")
    parser.add_argument("--quick", action="store_true", help="queue T = 3, 5 and jump T = 3")
    parser.add_argument("--out", type=Path, default=None, help="CSV path")
    args = parser.parse_args(argv)
    horizons = {
        "queue": [3, 5] if args.quick else [int(s) for s in args.steps.split(",") if s],
        "jump": [3] if args.quick else [int(s) for s in args.jump_steps.split(",") if s],
    }
    default = "ctm_network_quick.csv" if args.quick else "ctm_network.csv"
    out = args.out or Path(__file__).resolve().parent / "results" / default
    torch.set_num_threads(1)
    start = time.perf_counter()
    rows = []
    for name, steps in horizons.items():
        for t in steps:
            rows.append(row(name, t, args.samples, args.time_limit))
            print(
                f"[{time.perf_counter() - start:6.1f} s] {name} T={t}: {rows[-1]['status']}",
                file=sys.stderr,
                flush=True,
            )
    df = pd.DataFrame(rows)
    stamp_torch(df)
    write_csv_atomic(df, out, float_format="%.12g")
    print(
        f"# bench_ctm_network: 8 cells, 2 lanes -> 1 at cell 6, dt = dx / vf = 3.6 s, inflow in "
        f"[2000, 4000] veh/h; pwlmodels {df['pwlmodels'].iloc[0]}; written to {out}"
    )
    shown = df.drop(columns=["witness_inflow", "threads", "torch", "pwlmodels", "n_cells"])
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.6g}"))
    return df


if __name__ == "__main__":
    main()
