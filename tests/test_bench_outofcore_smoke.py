"""bench_outofcore.py --quick runs, writes its stamped CSV atomically, and the out-of-core
fit's SSR equals the in-memory fit's; run() can be imported (bench_scale.py uses it).

A correctness check only: no timing is asserted.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_bench_outofcore_quick_writes_a_consistent_table(tmp_path):
    pytest.importorskip("dask.dataframe")
    out = tmp_path / "outofcore.csv"
    script = ROOT / "benchmarks" / "bench_outofcore.py"
    subprocess.run(
        [sys.executable, str(script), "--quick", "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    table = pd.read_csv(out)
    assert list(table["method"]) == ["out-of-core", "in-memory", "out-of-core"]
    assert list(table["n"]) == [20_000, 20_000, 50_000]
    assert list(table["files"]) == [2, 2, 5]
    assert abs(table.loc[0, "rel_ssr_vs_in_memory"]) < 1e-9
    assert table.loc[0, "knots"] == table.loc[1, "knots"]
    assert table.loc[2, "growth_peak"] > 0
    assert (table["seconds"] > 0).all()
    assert table["pwlmodels"].str.contains("git").all()
    assert list(tmp_path.iterdir()) == [out]


def test_run_is_importable_with_its_signature(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    bench_outofcore = pytest.importorskip("bench_outofcore")
    params = inspect.signature(bench_outofcore.run).parameters
    assert list(params) == ["sizes", "tmpdir", "rows_per_file", "compare_at"]
