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
    subprocess.run(
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
    assert list(table["path"]) == [*paths, "fit_pwl out of core", "fit_pwl out of core"]
    rows = table.set_index("path")
    assert rows.loc["fit_many", "same_result"] == "bit for bit"
    if "verify_many" in paths:
        assert rows.loc["verify_many", "same_result"] == "same verdicts"
    assert table["pwlmodels"].str.contains("git").all()
    assert (table[["seconds", "load_1min", "load_15min"]] >= 0).all().all()
    assert (table["baseline_s"].dropna() >= 0).all() and table["baseline_s"].notna().sum() >= 3
    assert list(tmp_path.iterdir()) == [out]


def _gen_scaling():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_scaling", ROOT / "docs" / "gen_scaling.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scaling_page_table_is_generated_from_the_committed_csv():
    gen = _gen_scaling()
    page = gen.PAGE.read_text()
    assert gen.render(page, pd.read_csv(gen.CSV)) == page, (
        "docs/scaling.md's table is out of date: run python docs/gen_scaling.py"
    )


def test_the_generator_rewrites_only_the_block_between_its_markers():
    gen = _gen_scaling()
    row = {"path": "fit_many", "size": 4, "unit": "series", "baseline": "serial"}
    row |= {"method": "client", "workers": 2, "baseline_s": 2.0, "seconds": 1.0, "speedup": 2.0}
    row |= {"same_result": "bit for bit", "load_1min": 1.0, "load_5min": 0.5, "load_15min": 0.25}
    page = f"# T\n\ntext\n{gen.BEGIN}\nold\n{gen.END}\nafter\n"
    new = gen.render(page, pd.DataFrame([row]))
    assert new.startswith(f"# T\n\ntext\n{gen.BEGIN}\n| path |") and new.endswith("after\n")
    assert "old" not in new and "| 2x | bit for bit | 1.00, 0.50, 0.25 |" in new
    assert gen.render(new, pd.DataFrame([row])) == new
