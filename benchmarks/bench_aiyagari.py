"""Benchmark solve_aiyagari: r* against the grid size, and sequence-jacobian on the same economy.

For two calibrations (``AiyagariParams()``, 7 Rouwenhorst states; and log utility,
rho = 0.6, sigma = 0.4, 5 states, borrowing limit 0.5), records for each asset
grid size n of :func:`applications.economics.solve_aiyagari`:

- ``r_star`` (%), ``capital``, ``gini``, ``share_at_limit`` and
  ``household_solves`` (EGM + stationary distribution per Brent step: the
  load-independent cost), and ``seconds``;
- ``change_bp``, the change of r* from the previous n, in basis points;
- ``ssj_r_star`` and ``ssj_seconds``: sequence-jacobian's standard
  incomplete-markets household (its own EGM, grid and distribution;
  ``n_a`` = 2000, 200 the top of its grid) at the same prices, with the
  market cleared by the same Brent tolerance; ``gap_bp`` = (ours - ssj) in
  basis points.

Run::

    python benchmarks/bench_aiyagari.py            # writes results/aiyagari.csv
    python benchmarks/bench_aiyagari.py --quick    # smoke: small grids, one calibration
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import pandas as pd
from _common import library_version, write_csv_atomic

from applications.economics import AiyagariParams, solve_aiyagari
from applications.economics._aiyagari_check import ssj_r_star

OUT = Path(__file__).resolve().parent / "results" / "aiyagari.csv"
CALIBRATIONS = {
    "default (gamma 2, rho 0.9, sigma 0.2, 7 states)": AiyagariParams(),
    "log utility, rho 0.6, sigma 0.4, 5 states, b = 0.5": AiyagariParams(
        gamma=1.0, rho=0.6, sigma=0.4, n_states=5, borrowing_limit=0.5
    ),
}


def measure(name: str, params: AiyagariParams, ns: list[int], ssj_n: int) -> list[dict]:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba / numpy deprecation chatter
        ref = ssj_r_star(params, n_a=ssj_n)
    ssj_seconds = time.perf_counter() - start
    rows, last = [], None
    for n in ns:
        start = time.perf_counter()
        eq = solve_aiyagari(params, n=n)
        seconds = time.perf_counter() - start
        rows.append(
            {
                "calibration": name,
                "n": n,
                "r_star_pct": 100 * eq.r,
                "change_bp": float("nan") if last is None else 1e4 * (eq.r - last),
                "capital": eq.capital,
                "gini": eq.gini,
                "share_at_limit": eq.share_at_limit,
                "household_solves": eq.evaluations,
                "seconds": seconds,
                "ssj_r_star_pct": 100 * ref,
                "gap_bp": 1e4 * (eq.r - ref),
                "ssj_seconds": ssj_seconds,
            }
        )
        last = eq.r
        print(
            f"{name[:24]:24s} n={n:5d} r*={100 * eq.r:.5f} % gap={rows[-1]['gap_bp']:+.3f} bp "
            f"({seconds:.1f} s, {eq.evaluations} solves)",
            flush=True,
        )
    return rows


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small grids, one calibration")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    ns = [100, 200] if args.quick else [250, 500, 1000, 2000, 4000]
    cals = dict(list(CALIBRATIONS.items())[:1]) if args.quick else CALIBRATIONS
    rows = []
    for name, params in cals.items():
        rows += measure(name, params, ns, 300 if args.quick else 2000)
    df = pd.DataFrame(rows)
    df["pwlmodels"] = library_version()
    if not args.quick or args.out != OUT:
        write_csv_atomic(df, args.out, float_format="%.8g")
    return df


if __name__ == "__main__":
    main()
