"""bench_acasxu.py runs on two ACAS Xu instances of the shared benchmark folder and writes
its CSV with the expected verdicts. A correctness check only: no timing is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "benchmarks" / "acasxu"


@pytest.mark.skipif(not DATA.is_dir(), reason="../shared/benchmarks/acasxu is not here")
def test_bench_acasxu_decides_a_sat_and_an_unsat_instance(tmp_path):
    pytest.importorskip("onnx", reason="bench_acasxu reads ONNX (the `onnx` extra)")
    out = tmp_path / "acasxu.csv"
    script = ROOT / "benchmarks" / "bench_acasxu.py"
    only = "1_9:prop_3,2_7:prop_4"  # sat and unsat at VNN-COMP 2021 (in the file's order)
    cmd = [sys.executable, str(script), "--only", only, "--limit", "60", "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    table = pd.read_csv(out)
    assert list(table["instance"]) == ["1_9:prop_3", "2_7:prop_4"]
    assert list(table["status"]) == list(table["expected"]) == ["sat", "unsat"]
    assert not table["wrong"].any() and (table["n_boxes"] >= 0).all()
    assert list(tmp_path.iterdir()) == [out]  # written atomically: no temporary left
