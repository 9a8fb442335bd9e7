"""bench_explicit_mpc.py --quick runs, writes its tidy CSV, and every network is within its bound.

A correctness check only: no timing is asserted.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def test_bench_explicit_mpc_quick_networks_are_exact_and_ppopt_agrees(tmp_path):
    out = tmp_path / "explicit_mpc.csv"
    script = ROOT / "benchmarks" / "bench_explicit_mpc.py"
    cmd = [sys.executable, str(script), "--quick", "--repeats", "1", "--out", str(out)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300)
    table = pd.read_csv(out)
    assert table["plant"].tolist() == ["double integrator", "cart-pole"]
    assert table["regions"].tolist() == [29, 27]
    assert (table["max_abs_error"] <= table["rounding_bound"]).all()
    assert (table["pieces"] <= table["regions"]).all()
    if importlib.util.find_spec("ppopt") and importlib.util.find_spec("gurobipy"):
        assert (table["ppopt_regions"] == table["regions"]).all()
    else:
        assert table["ppopt_regions"].isna().all()
    certificates = ["max_abs_u", "box_invariant", "box_worst_margin", "roa_alpha"]
    certificates += ["roa_alpha_cap", "roa_converges", "roa_volume", "roa_ellipsoid_ratio"]
    assert table[certificates].notna().all().all()
    assert (table["max_abs_u"] <= 1.0 + 1e-9).all()  # u_max = 1 in both plants
    assert (table["roa_alpha"] >= 0).all()
    assert (table["roa_alpha"] <= table["roa_alpha_cap"] + 1e-12).all()
    assert (table["roa_volume"] > 0).all() and (table["ellipsoid_volume"] > 0).all()
    assert (~table["box_invariant"] | (table["box_worst_margin"] >= -1e-6)).all()
    # the box-constrained LQR set and the clipped scaling never lose to the LQR polytope
    assert table[["mpi_converges", "clip_converges"]].all().all()
    assert (table["mpi_box_fraction"] >= table["roa_box_fraction"] * (1 - 1e-9)).all()
    assert (table["clip_box_fraction"] >= table["roa_box_fraction"] * (1 - 1e-9)).all()
    assert (table[["roa_box_fraction", "mpi_box_fraction", "clip_box_fraction"]] <= 1).all().all()
    seconds = ["input_bound_seconds", "invariance_seconds", "roa_seconds"]
    seconds += ["mpi_seconds", "clip_seconds"]
    assert (table[seconds] > 0).all().all()
    assert "Karg and Lucia" in done.stdout
    assert list(tmp_path.iterdir()) == [out]  # written atomically: no temporary left
