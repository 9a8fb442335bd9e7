"""bench_scale.py --quick runs and writes its stamped CSV atomically: one row per scale path,
the cluster's fits bit for bit the serial ones, the same verdicts serial and distributed.

A correctness check only: no timing is asserted.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
ACASXU = ROOT.parent / "shared" / "benchmarks" / "acasxu"


def test_bench_scale_quick_writes_a_consistent_table(tmp_path):
    pytest.importorskip("distributed")
    pytest.importorskip("onnx")
    out = tmp_path / "scale.csv"
    script = ROOT / "benchmarks" / "bench_scale.py"
    done = subprocess.run(
        [sys.executable, str(script), "--quick", "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    table = pd.read_csv(out)
    paths = ["train_many", "fit_many"]
    if (ACASXU / "instances.csv").is_file():
        paths.append("verify_many")
    assert list(table["path"])[: len(paths)] == paths
    if not (ROOT / "benchmarks" / "bench_outofcore.py").is_file():
        assert len(table) == len(paths) and "out of core skipped" in done.stdout
    rows = table.set_index("path")
    assert rows.loc["fit_many", "same_result"] == "bit for bit"
    if "verify_many" in paths:
        assert rows.loc["verify_many", "same_result"] == "same verdicts"
    assert table["pwlmodels"].str.contains("git").all()
    assert (table[["seconds", "baseline_s", "load_1min", "load_15min"]] >= 0).all().all()
    assert list(tmp_path.iterdir()) == [out]
