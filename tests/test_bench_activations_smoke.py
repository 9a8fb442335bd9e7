"""bench_activations.py --quick runs and writes its tidy CSV; no timing is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def test_bench_activations_quick_writes_one_row_per_task_device_and_activation(tmp_path):
    out = tmp_path / "activations.csv"
    script = ROOT / "benchmarks" / "bench_activations.py"
    cmd = [sys.executable, str(script), "--quick", "--repeats", "1", "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    table = pd.read_csv(out)
    assert set(table["task"]) == {"epoch", "activation only"}
    assert set(table["activation"]) == {"relu", "sigmoid", "tanh", "gelu"}
    assert len(table) == 8 * table["device"].nunique()
    assert (table["seconds_per_epoch"] > 0).all()
    relu = table[table["activation"] == "relu"]
    assert (relu["ratio_vs_relu"] == 1.0).all()
    assert list(tmp_path.iterdir()) == [out]  # written atomically: no temporary left
