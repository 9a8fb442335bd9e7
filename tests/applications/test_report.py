"""The report writer: atomic files, Markdown tables, figure links made relative to report.md."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from applications.report import (
    build_manifest,
    finish,
    markdown_table,
    write_atomic,
    write_manifest,
    write_report,
)


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
    assert "![f](demo/f.png)" in report
    assert "| demo | 1.5 | cpu | [demo/table.csv](demo/table.csv) |" in report  # the summary
    assert "manifest" not in report  # linked only when one is written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo", "report.md"]


def test_manifest_is_json_with_relative_paths_and_the_report_links_it(tmp_path):
    r = finish(
        "demo", tmp_path, pd.DataFrame({"x": [1.0]}), [tmp_path / "demo" / "f.png"], "", 2.25, "cpu"
    )
    m = build_manifest(
        [r],
        command="prog demo",
        seeds=[3],
        quick=True,
        device_requested="auto",
        started=0.0,
        torch_threads=2,
    )
    assert m["started_utc"] == "1970-01-01T00:00:00Z" and m["device"] == ["cpu"]
    assert m["torch_num_threads"] == 2
    assert m["studies"] == [
        {
            "name": "demo",
            "seconds": 2.25,
            "device": "cpu",
            "torch_threads": 2,  # the study did not say: the process's
            "table": "demo/table.csv",
            "section": "demo/section.md",
            "figures": ["demo/f.png"],
        }
    ]
    path = write_manifest(m, tmp_path)
    assert json.loads(path.read_text()) == m
    report = write_report([r], tmp_path, manifest=path.name).read_text()
    assert "[manifest.json](manifest.json)" in report.split("\n\n## ")[0]


def test_write_atomic_leaves_nothing_behind_when_writing_fails(tmp_path):
    with pytest.raises(TypeError):
        write_atomic(tmp_path / "x.md", 3.0)  # neither str nor bytes
    assert list(tmp_path.iterdir()) == []


def test_sections_go_under_the_report_title_unchanged(tmp_path):
    a = finish("a", tmp_path, pd.DataFrame({"x": [1.0]}), [], "## A\n\n### a.1\n", 1.0, "cpu")
    b = finish("b", tmp_path, pd.DataFrame({"x": [1.0]}), [], "## B\n\n### b.1\n", 1.0, "cpu")
    report = write_report([a, b], tmp_path).read_text()
    headings = [line for line in report.splitlines() if line.startswith("#")]
    assert headings == ["# pwlmodels applications report", "## A", "### a.1", "## B", "### b.1"]
