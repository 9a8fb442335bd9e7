"""bench_fit_many.py --quick runs, writes its stamped CSV atomically, the cluster's result is
the serial one bit for bit, and pwlmodels reaches the best SSR on every series.

A correctness check only: no timing is asserted.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_bench_fit_many_quick_writes_a_consistent_table(tmp_path):
    pytest.importorskip("distributed")
    pytest.importorskip("pwlf")
    out = tmp_path / "fit_many.csv"
    script = ROOT / "benchmarks" / "bench_fit_many.py"
    subprocess.run(
        [
            sys.executable,
            str(script),
            "--quick",
            "--workers",
            "1",
            "--pwlf-fit-series",
            "0",
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    table = pd.read_csv(out)
    assert list(table["method"]) == [
        "pwlmodels serial",
        "pwlmodels client (warm)",
        "pwlf fitfast",
    ]
    assert table.loc[1, "identical_to_serial"]
    assert table.loc[0, "reached_best"] == 1.0
    assert table["pwlmodels"].str.contains("git").all()
    assert (table["seconds"] > 0).all()
    assert list(tmp_path.iterdir()) == [out]
