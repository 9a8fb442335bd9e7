"""The command line: one quick study end to end, the manifest, the report's links, the bar."""

from __future__ import annotations

import io
import json
import re
from importlib.metadata import entry_points
from pathlib import Path

import pandas as pd
import pytest
import torch

from applications import __main__ as cli
from applications import control
from applications.report import finish

MANIFEST_KEYS = {
    "format",
    "started_utc",
    "command",
    "quick",
    "seeds",
    "device_requested",
    "device",
    "device_name",
    "torch_num_threads",
    "omp_num_threads",
    "cpu_count",
    "cuda",
    "versions",
    "git_commit",
    "platform",
    "total_seconds",
    "studies",
}
LINK = re.compile(r"\]\(([^)#]+)\)")


@pytest.fixture(scope="module")
def quick_run(one_thread, tmp_path_factory):
    """``python -m applications control --quick`` in-process: the quickest study (~6 s)."""
    out = tmp_path_factory.mktemp("apps")
    args = ["control", "--quick", "--device", "cpu", "--seeds", "0", "--out", str(out)]
    assert cli.main(args) == 0
    return out


def test_quick_run_writes_manifest_with_versions_device_threads_and_timings(quick_run):
    m = json.loads((quick_run / "manifest.json").read_text())
    assert set(m) == MANIFEST_KEYS
    assert m["format"] == "pwlmodels.apps-manifest/1"
    assert set(m["versions"]) == {"pwlmodels", "torch", "numpy", "scipy", "pandas", "python"}
    assert m["versions"]["torch"] == torch.__version__
    assert (
        m["device"] == ["cpu"]
        and m["device_requested"] == "cpu"
        and set(m["device_name"]) == {"cpu"}
    )
    assert m["torch_num_threads"] == 1 and m["seeds"] == [0] and m["quick"] is True
    assert m["command"].startswith("python -m applications control --quick")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", m["started_utc"])
    (study,) = m["studies"]
    assert study["name"] == "control" and study["device"] == "cpu" and study["seconds"] > 0
    assert study["torch_threads"] == 1  # control keeps the process's count (1 here)
    section = (quick_run / study["section"]).read_text()
    assert section.startswith("## ") and not re.search(r"^# ", section, flags=re.M)
    assert m["total_seconds"] == study["seconds"]
    assert all((quick_run / f).is_file() for f in [study["table"], *study["figures"]])
    assert not list(quick_run.glob("**/.*.tmp"))  # atomic writes leave no temporary files


def test_quick_run_report_links_manifest_table_and_every_figure(quick_run):
    report = (quick_run / "report.md").read_text()
    head = report.split("\n## ")[0]  # the summary before the first section
    assert "[manifest.json](manifest.json)" in head
    assert re.search(r"\| control \| \d+\.\d \| cpu \| \[control/table.csv\]", head)
    links = LINK.findall(report)
    figures = sorted(p.relative_to(quick_run).as_posix() for p in quick_run.glob("*/*.png"))
    assert figures and set(figures) <= set(links)
    assert all((quick_run / link).is_file() for link in links)


def test_timings_and_timestamp_stay_out_of_the_table(quick_run):
    m = json.loads((quick_run / "manifest.json").read_text())
    text = (quick_run / "control" / "table.csv").read_text()
    assert m["started_utc"][:10] not in text and f"{m['studies'][0]['seconds']:.3f}" not in text
    columns = set(pd.read_csv(quick_run / "control" / "table.csv").columns)
    assert not {"seconds", "time", "timestamp"} & columns


@pytest.fixture
def stub_control(monkeypatch):
    """control.run replaced by a stub that writes a one-row table at once."""

    def run(out_dir, *, device, seeds, quick):
        table = pd.DataFrame({"quantity": ["x"], "value": [1.0]})
        return finish("control", out_dir, table, [], "## Stub\n", 0.01, device)

    monkeypatch.setattr(control, "run", run)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("flags", "shown"), [([], True), (["--no-progress"], False)])
def test_progress_bar_goes_to_a_terminal_stderr_unless_switched_off(
    stub_control, tmp_path, monkeypatch, capsys, flags, shown
):
    err = _Terminal()
    monkeypatch.setattr("sys.stderr", err)
    assert cli.main(["control", "--device", "cpu", "--out", str(tmp_path), *flags]) == 0
    assert ("studies" in err.getvalue()) is shown
    out = capsys.readouterr().out
    assert f"report: {tmp_path / 'report.md'}" in out and "studies:" not in out


def test_no_progress_bar_when_stderr_is_not_a_terminal(stub_control, tmp_path, capsys):
    assert cli.main(["control", "--device", "cpu", "--out", str(tmp_path)]) == 0
    assert "studies" not in capsys.readouterr().err


def test_rerun_replaces_report_and_manifest(stub_control, tmp_path):
    args = ["control", "--device", "cpu", "--out", str(tmp_path), "--no-progress"]
    (tmp_path / "report.md").write_text("an older report")
    assert cli.main(args) == cli.main(args) == 0
    assert json.loads((tmp_path / "manifest.json").read_text())["studies"][0]["name"] == "control"
    assert (tmp_path / "report.md").read_text().startswith("# pwlmodels applications report")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["control", "manifest.json", "report.md"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_device_cuda_without_cuda_is_an_argument_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["control", "--device", "cuda", "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert "CUDA is not available" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # nothing ran


def test_data_for_a_study_other_than_traffic_is_an_argument_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["economics", "--data", "x.csv", "--out", str(tmp_path)])
    assert exc.value.code == 2 and "--data is for the traffic study" in capsys.readouterr().err


def test_console_script_pwlmodels_apps_is_this_main():
    (ep,) = entry_points(group="console_scripts", name="pwlmodels-apps")
    assert ep.value == "applications.__main__:main" and ep.load() is cli.main


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA")
def test_quick_study_runs_on_cuda_and_the_manifest_says_so(one_thread, tmp_path):
    args = ["control", "--quick", "--device", "cuda", "--seeds", "0", "--no-progress"]
    assert cli.main([*args, "--out", str(tmp_path)]) == 0
    m = json.loads((tmp_path / "manifest.json").read_text())
    (device,) = m["device"]
    assert device.startswith("cuda") and m["studies"][0]["device"] == device
    assert m["device_name"][device] == torch.cuda.get_device_name(0)
    assert "| control |" in (tmp_path / "report.md").read_text()
    assert Path(tmp_path / "control" / "table.csv").is_file()
