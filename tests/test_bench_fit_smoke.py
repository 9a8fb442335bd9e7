"""bench_fit.py --quick runs, writes its tidy CSV, and pwlmodels reaches the best SSR on every row.

A correctness check only: no timing is asserted.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def test_bench_fit_quick_reaches_the_best_ssr(tmp_path):
    out = tmp_path / "fit.csv"
    script = ROOT / "benchmarks" / "bench_fit.py"
    cmd = [sys.executable, str(script), "--quick", "--repeats", "1", "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    table = pd.read_csv(out)
    assert set(table["library"]) == {"pwlmodels", "pwlf"}
    assert {"pwlf fit", "pwlf fitfast", "pwlf fit_with_breaks"} <= set(table["method"])
    assert table["error"].isna().all()
    ours = table[table["library"] == "pwlmodels"]
    assert len(ours) > 0
    assert (ours["rel_ssr"] <= 1e-6).all(), ours[["case", "n", "seed", "method", "rel_ssr"]]
    assert list(tmp_path.iterdir()) == [out]  # written atomically: no temporary left
