"""bench_aiyagari.py --quick runs and writes its tidy CSV; r* agrees with sequence-jacobian.

A correctness check only: no timing is asserted.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_bench_aiyagari_quick_writes_its_table(tmp_path):
    pytest.importorskip("sequence_jacobian")
    out = tmp_path / "aiyagari.csv"
    script = ROOT / "benchmarks" / "bench_aiyagari.py"
    cmd = [sys.executable, str(script), "--quick", "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=600)
    table = pd.read_csv(out)
    assert table["n"].tolist() == [100, 200]
    assert (table["gap_bp"].abs() < 5).all()  # coarse grids; 0.04 bp at n = 1000
    assert table["change_bp"].isna().tolist() == [True, False]
    assert (table["household_solves"] >= 3).all()
