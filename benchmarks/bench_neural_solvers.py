"""Neural solvers of the Aiyagari household given a fair budget: accuracy and wall time.

The study of :mod:`applications.economics._accuracy` (Maliar, Maliar and
Winant 2021's accuracy measures): ReLU, tanh, softplus and SiLU networks of
two hidden layers of width 8, 16, 32 and 64, three seeds each, trained on
the Euler residual of the households of ``AiyagariParams()`` at EGM's r*
with 10,000 Adam steps (learning rate and asset input transform tuned per
activation on one seed) then 20 L-BFGS steps; the three seeds of a width
train together as one batched model (``solve_networks``). Writes, under
``results/``:

- ``neural_solvers_members.csv``: one row per activation, width, seed and
  stage ("adam", "adam+lbfgs"): mean (EGM-distribution weighted) and max
  log10 Euler errors near the kink (assets <= 1), away from it and over
  all, the final loss, and ``seconds`` (training wall time per network);
- ``neural_solvers_tuning.csv``: the tuning runs (activation, lr,
  transform, score);
- ``neural_solvers_ge.csv``: capital supply minus demand at r* and r* +
  (-20, -10, -5, 5, 10) bp, for EGM and for each activation at its best
  width and stage (networks retrained at each rate, same budget);
- ``neural_solvers_egm.csv``: EGM's own errors and its Brent r*;
- ``neural_solvers_distribution.csv``: at EGM's r*, wealth Gini,
  hand-to-mouth share, mean MPC and MPC by wealth quintile, for EGM and for
  each activation's networks of the general-equilibrium part.

Load-independent figures beside the wall times: the Adam steps and L-BFGS
steps are fixed by the budget, and ``n_params`` is in the members' table.
CPU, float64, fixed seeds: a rerun gives the same errors.

Run::

    python benchmarks/bench_neural_solvers.py              # about 40 min on 2 cores
    python benchmarks/bench_neural_solvers.py --quick      # smoke: seconds
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from _common import library_version, write_csv_atomic

from applications.economics._accuracy import (
    FAIR,
    SMOKE,
    accuracy_study,
    accuracy_table,
    ge_table,
)

OUT = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> dict[str, pd.DataFrame]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke sizes")
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the CSVs")
    parser.add_argument("--processes", type=int, default=2, help="one activation each")
    args = parser.parse_args(argv)
    tables = accuracy_study(SMOKE if args.quick else FAIR, processes=args.processes, progress=True)
    summary = accuracy_table(tables["members"])
    cols = ["activation", "width", "stage", "log10_mean_near", "log10_max_near",
            "log10_mean_away", "log10_max_away", "seconds"]  # fmt: skip
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(summary[cols].round(3).to_string(index=False))
        r_brent = float(tables["egm"]["r_brent"].iloc[0])
        print(ge_table(tables["ge"], r_brent).round(6).to_string(index=False))
    if not args.quick or args.out != OUT:
        for name, df in tables.items():
            df = df.assign(pwlmodels=library_version())
            write_csv_atomic(df, args.out / f"neural_solvers_{name}.csv", float_format="%.8g")
    return tables


if __name__ == "__main__":
    main()
