"""The README's example and every docs example run as written."""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("*.py"))


def test_readme_python_blocks_run(capsys):
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "the README must show a tested example"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    assert "3 hidden units" in capsys.readouterr().out


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_docs_example_runs_and_writes_only_into_out(path, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    quick = ["--quick"] if "--quick" in path.read_text() else []  # examples that train
    monkeypatch.setattr(sys, "argv", [str(path), "--out", str(tmp_path), *quick])
    runpy.run_path(str(path), run_name="__main__")
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written and all(name.endswith(".png") for name in written)
