"""bench_train_many.py --quick runs and writes its tidy CSV; no timing is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def test_bench_train_many_quick_writes_one_row_per_member_count(tmp_path):
    out = tmp_path / "train_many.csv"
    script = ROOT / "benchmarks" / "bench_train_many.py"
    cmd = [sys.executable, str(script), "--quick", "--loop-max", "2", "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    table = pd.read_csv(out)
    assert list(table["members"]) == [2, 3]
    assert list(table["loop_timed"]) == [2, 2]
    assert (table[["loop_seconds", "batched_seconds", "speedup"]] > 0).all().all()
    assert (table["median_rel_diff"] <= table["max_rel_diff"]).all()
    assert (table["max_rel_diff"] < 1e-4).all()  # float32 rounding, five steps
    assert table["pwlmodels"].str.contains("git").all()
    assert list(tmp_path.iterdir()) == [out]  # written atomically: no temporary left
