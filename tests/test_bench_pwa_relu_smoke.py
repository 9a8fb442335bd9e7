"""bench_pwa_relu.py --quick runs, writes its tidy CSV, and every network is within its bound.

A correctness check only: no timing is asserted.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def test_bench_pwa_relu_quick_networks_are_within_their_bound(tmp_path):
    out = tmp_path / "pwa_relu.csv"
    script = ROOT / "benchmarks" / "bench_pwa_relu.py"
    cmd = [sys.executable, str(script), "--quick", "--repeats", "1", "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    table = pd.read_csv(out)
    assert set(table["network"]) == {"pwa_to_relu", "plain lattice"}
    ours = table[table["network"] == "pwa_to_relu"]
    assert (ours["max_abs_error"] <= ours["rounding_bound"]).all()
    assert (ours["hidden_layers"] >= ours["arora_hidden_layers"]).all()
    law = ours[ours["function"] == "saturated law"]
    assert law["patterns_per_piece"].tolist() == [1.0]  # its regions are its pieces
    assert list(tmp_path.iterdir()) == [out]  # written atomically: no temporary left
