"""The README's example, every Python block of the documentation site and every docs example
run as written; the site's navigation lists every page; the generated pages match their
sources."""

from __future__ import annotations

import importlib.util
import json
import re
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = sorted((DOCS / "examples").glob("*.py"))
PAGES = sorted(DOCS.rglob("*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", flags=re.S | re.M)


def python_blocks(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text())


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_python_blocks_run(capsys):
    blocks = python_blocks(ROOT / "README.md")
    assert blocks, "the README must show a tested example"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    assert "3 hidden units" in capsys.readouterr().out


@pytest.mark.parametrize(
    "page",
    [p for p in PAGES if python_blocks(p)],
    ids=lambda p: p.relative_to(DOCS).as_posix(),
)
def test_docs_page_python_blocks_run(page, tmp_path, monkeypatch):
    """A page's blocks run in order in one namespace, as a reader would paste them,
    from an empty working directory (anything they write lands in tmp_path)."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "docs"}
    for i, block in enumerate(python_blocks(page)):
        exec(compile(block, f"{page.relative_to(ROOT)} (python block {i + 1})", "exec"), namespace)


def test_the_site_has_python_examples_on_the_user_guide_pages():
    with_blocks = {p.relative_to(DOCS).as_posix() for p in PAGES if python_blocks(p)}
    assert {"index.md", "getting-started.md", "core.md", "fitting.md", "verification.md"} <= (
        with_blocks
    )


def test_every_docs_page_is_in_the_site_navigation():
    nav = (ROOT / "mkdocs.yml").read_text().split("\nnav:", 1)[1]
    listed = set(re.findall(r"([\w/.-]+\.md)\b", nav))
    pages = {p.relative_to(DOCS).as_posix() for p in PAGES}
    assert pages <= listed, f"pages missing from mkdocs.yml's nav: {sorted(pages - listed)}"
    assert listed <= pages, f"nav entries without a page: {sorted(listed - pages)}"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_docs_example_runs_and_writes_only_into_out(path, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    quick = ["--quick"] if "--quick" in path.read_text() else []  # examples that train
    monkeypatch.setattr(sys, "argv", [str(path), "--out", str(tmp_path), *quick])
    runpy.run_path(str(path), run_name="__main__")
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written and all(name.endswith(".png") for name in written)


def test_benchmarks_page_is_generated_from_the_committed_csvs():
    pytest.importorskip("pandas")
    page = (DOCS / "benchmarks.md").read_text()
    assert load_script("gen_benchmarks").render() == page, (
        "docs/benchmarks.md is out of date: run python docs/gen_benchmarks.py"
    )


def test_application_pages_take_sections_figures_and_the_run_from_a_results_folder(tmp_path):
    gen = load_script("gen_applications")
    results, docs = tmp_path / "results", tmp_path / "docs"
    sections = {"traffic": "## T\n\n### t.1\n![a](a.png)\n", "economics": "## E\n\n### e.1\n"}
    sections["control"] = "## C\n\n![b](b.png) and ![c](https://example.org/c.png)\n"
    for name, text in sections.items():
        (results / name).mkdir(parents=True)
        (results / name / "section.md").write_text(text)
    (results / "traffic" / "a.png").write_bytes(b"png-a")
    (results / "control" / "b.png").write_bytes(b"png-b")
    (docs / "control").mkdir(parents=True)
    (docs / "control" / "stale.png").write_bytes(b"old")  # from an earlier run: removed
    manifest = {"command": "pwlmodels-apps all --out /tmp/x --quick", "quick": True}
    manifest |= {"versions": {"pwlmodels": "9.9"}, "torch_num_threads": 4}
    manifest["studies"] = [{"name": "traffic", "seconds": 3.0, "device": "cpu", "torch_threads": 1}]
    (results / "manifest.json").write_text(json.dumps(manifest))
    gen.write_pages(results, docs)
    traffic = (docs / "traffic.md").read_text()
    assert traffic.startswith("# T\n") and "\n## t.1\n" in traffic
    assert "![a](traffic/a.png)" in traffic
    assert (docs / "traffic" / "a.png").read_bytes() == b"png-a"
    assert "`pwlmodels-apps all --out results --quick`" in traffic and "pwlmodels 9.9" in traffic
    assert "3 s on cpu" in traffic and "quick mode" in traffic
    assert "1 torch thread(s)" in traffic  # the study's own count, not the process's 4
    assert (docs / "economics.md").read_text().startswith("# E\n")
    control = (docs / "control.md").read_text()
    assert "![b](control/b.png)" in control and "(https://example.org/c.png)" in control
    assert sorted(p.name for p in (docs / "control").iterdir()) == ["b.png"]


def test_application_pages_are_left_alone_when_a_section_is_missing(tmp_path):
    gen = load_script("gen_applications")
    results, docs = tmp_path / "results", tmp_path / "docs"
    for name in ("traffic", "economics"):  # control's is missing
        (results / name).mkdir(parents=True)
        (results / name / "section.md").write_text(f"## {name}\n")
    (docs / "traffic").mkdir(parents=True)
    (docs / "traffic" / "old.png").write_bytes(b"old")
    with pytest.raises(SystemExit, match=r"control/section\.md"):
        gen.write_pages(results, docs)
    assert sorted(p.name for p in docs.rglob("*")) == ["old.png", "traffic"]  # nothing touched


def test_committed_application_pages_link_only_figures_that_exist():
    for page in sorted((DOCS / "applications").glob("*.md")):
        for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page.read_text()):
            assert (page.parent / link).is_file(), f"{page.name} links a missing figure {link}"
