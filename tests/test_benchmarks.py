"""The benchmark scripts run (quick mode) and write a tidy CSV; no timing is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def test_bench_convert_quick_writes_its_table(tmp_path):
    out = tmp_path / "convert.csv"
    script = ROOT / "benchmarks" / "bench_convert.py"
    cmd = [sys.executable, str(script), "--quick", "--repeats", "1", "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    table = pd.read_csv(out)
    assert set(table["task"]) == {"build", "evaluate", "relu_to_spline"}
    evaluated = table[table["task"] == "evaluate"]
    assert (evaluated["seconds"] > 0).all()
    # the float64 networks are accurate; float32 ones within float32 rounding
    f64 = evaluated[(evaluated["dtype"] == "float64") & evaluated["method"].str.contains("net")]
    assert (f64["max_rel_error"] < 1e-9).all()
    assert list(tmp_path.iterdir()) == [out]  # written atomically: no temporary left
