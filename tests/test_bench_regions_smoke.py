"""bench_regions.py --quick runs, writes its tidy CSV, and relu_to_pwa finds partition's
regions on the 2-D networks. A correctness check only: no timing is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def test_bench_regions_quick_writes_its_table_and_agrees_with_partition(tmp_path):
    out = tmp_path / "regions.csv"
    script = ROOT / "benchmarks" / "bench_regions.py"
    subprocess.run(
        [sys.executable, str(script), "--quick", "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    table = pd.read_csv(out)
    assert (table["status"] == "ok").all()
    assert set(table["n_in"]) == {2, 3, 4, 5}
    assert (table["regions"] > 1).all() and (table["seconds"] > 0).all()
    two = table[table["n_in"] == 2].pivot(index="network", columns="method", values="regions")
    assert len(two) == 2 and (two["relu_to_pwa"] == two["partition"]).all()
    assert table["pwlmodels"].notna().all()  # stamped with the version and commit
    assert list(tmp_path.iterdir()) == [out]  # written atomically: no temporary left
