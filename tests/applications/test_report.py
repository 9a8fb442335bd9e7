"""The report writer: atomic files, Markdown tables, figure links made relative to report.md."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from applications.report import finish, markdown_table, write_atomic, write_report


def test_markdown_table_formats_floats_and_escapes_pipes():
    df = pd.DataFrame({"model": ["relu", "a|b"], "rmse": [0.0123456, np.nan]})
    assert markdown_table(df, digits=3).splitlines() == [
        "| model | rmse |",
        "|---|---|",
        "| relu | 0.0123 |",
        "| a\\|b |  |",
    ]


def test_finish_writes_table_and_section_and_the_report_links_figures(tmp_path):
    table = pd.DataFrame({"x": [1.5, 0.25]})
    r = finish("demo", tmp_path, table, [tmp_path / "demo" / "f.png"], "![f](f.png)\n", 1.5, "cpu")
    assert pd.read_csv(r.table_path).equals(table)
    assert r.section_path.read_text() == "![f](f.png)\n"
    report = write_report([r], tmp_path).read_text()
    assert "![f](demo/f.png)" in report and "1.5 s on cpu" in report
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo", "report.md"]


def test_write_atomic_leaves_nothing_behind_when_writing_fails(tmp_path):
    with pytest.raises(TypeError):
        write_atomic(tmp_path / "x.md", 3.0)  # neither str nor bytes
    assert list(tmp_path.iterdir()) == []
