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
    assert "Karg and Lucia" in done.stdout
    assert list(tmp_path.iterdir()) == [out]  # written atomically: no temporary left
