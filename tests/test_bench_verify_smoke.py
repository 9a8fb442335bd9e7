"""bench_verify.py --quick runs, writes its tidy CSV, and every method finds the same maximum.

A correctness check only: no timing is asserted.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_bench_verify_quick_methods_agree_on_the_maximum(tmp_path):
    for module in ("omlt", "pyomo", "highspy"):
        pytest.importorskip(module, reason=f"bench_verify needs {module} (the `bench` extra)")
    out = tmp_path / "verify.csv"
    script = ROOT / "benchmarks" / "bench_verify.py"
    cmd = [sys.executable, str(script), "--quick", "--repeats", "1", "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    table = pd.read_csv(out)
    assert set(table["method"]) == {
        "pwlmodels auto",
        "pwlmodels bab",
        "pwlmodels milp crown",
        "pwlmodels milp lp",
        "OMLT our bounds",
        "OMLT default bounds",
    }
    assert table["error"].isna().all(), table[["method", "error"]]
    best = table["value"].max()
    assert (abs(table["value"] - best) <= 1e-6).all(), table[["method", "value"]]
    assert table["agrees"].all()
    ours = table[table["method"].str.startswith("pwlmodels")]
    assert (ours["status"] == "optimal").all(), ours[["method", "status", "gap"]]
    assert (ours["bound"] >= best).all()  # our bounds are verified upper bounds
    assert list(tmp_path.iterdir()) == [out]  # written atomically: no temporary left


def test_bench_milp_bounds_runs_and_every_bound_set_finds_the_maximum(tmp_path):
    for module in ("omlt", "pyomo", "highspy"):
        pytest.importorskip(module, reason=f"bench_milp_bounds needs {module} (the `bench` extra)")
    out = tmp_path / "milp_bounds.csv"
    script = ROOT / "benchmarks" / "bench_milp_bounds.py"
    cmd = [sys.executable, str(script), "--sizes", "16", "--seeds", "0", "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    table = pd.read_csv(out)
    assert list(table["bounds"]) == ["OMLT default bounds", "milp crown", "milp lp", "milp exact"]
    best = table["value"].max()
    assert (abs(table["value"] - best) <= 1e-6).all(), table[["bounds", "value"]]
    ours = table[table["bounds"].str.startswith("milp")]
    assert (ours["bound"] >= best).all()  # verified upper bounds
    # exact per-unit bounds are the tightest: never more unstable units than the LP ones
    assert ours["n_binary"].iloc[2] <= ours["n_binary"].iloc[1]
    assert list(tmp_path.iterdir()) == [out]
