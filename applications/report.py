"""AppResult and the report writer shared by the studies: atomic files, Markdown tables."""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pwlmodels._files import atomic_open

__all__ = [
    "AppResult",
    "build_manifest",
    "finish",
    "markdown_table",
    "relink_figures",
    "write_atomic",
    "write_manifest",
    "write_report",
]

MANIFEST_FORMAT = "pwlmodels.apps-manifest/1"


@dataclass(frozen=True)
class AppResult:
    """What a study wrote: its tidy table, figures, Markdown section and timings.

    ``figures`` are paths inside ``out_dir / name``; ``section`` is the
    Markdown text written to ``section.md`` (figures linked relative to it);
    ``seconds`` is the study's wall time; ``info`` holds figures a caller or
    test may want by name (recovered parameters, errors...).
    """

    name: str
    out_dir: Path
    table: pd.DataFrame
    figures: tuple[Path, ...]
    section: str
    seconds: float
    device: str
    info: dict = field(default_factory=dict)

    @property
    def table_path(self) -> Path:
        return self.out_dir / self.name / "table.csv"

    @property
    def section_path(self) -> Path:
        return self.out_dir / self.name / "section.md"


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write to a temporary file in the same folder, then rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path) as fh:
        fh.write(data.encode() if isinstance(data, str) else data)
    return path


def _cell(value: object, digits: int) -> str:
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return ""
        return f"{value:.{digits}g}"
    return str(value).replace("|", "\\|")


def markdown_table(df: pd.DataFrame, *, digits: int = 4) -> str:
    """A GitHub-flavoured Markdown table of ``df`` (floats to ``digits`` significant digits)."""
    head = "| " + " | ".join(str(c) for c in df.columns) + " |"
    rule = "|" + "---|" * len(df.columns)
    rows = ["| " + " | ".join(_cell(v, digits) for v in row) + " |" for row in df.itertuples(False)]
    return "\n".join([head, rule, *rows]) + "\n"


def finish(
    name: str,
    out_dir: Path,
    table: pd.DataFrame,
    figures: Sequence[Path],
    section: str,
    seconds: float,
    device: str,
    **info: object,
) -> AppResult:
    """Write ``out_dir/name/table.csv`` and ``section.md`` atomically; return the AppResult."""
    folder = Path(out_dir) / name
    write_atomic(folder / "table.csv", table.to_csv(index=False, float_format="%.10g"))
    write_atomic(folder / "section.md", section)
    return AppResult(name, Path(out_dir), table, tuple(figures), section, seconds, device, info)


def _versions() -> dict[str, str]:
    import scipy
    import torch

    import pwlmodels

    return {
        "pwlmodels": pwlmodels.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "python": platform.python_version(),
    }


def _git_commit() -> str | None:
    """The source tree's commit, with "+dirty" when pwlmodels/ or applications/ have edits."""
    root = Path(__file__).resolve().parents[1]
    git = ["git", "-C", str(root)]
    try:
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", "pwlmodels", "applications"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None  # not a git checkout (an installed package), or no git
    return f"{head}+dirty" if dirty else head


def _device_name(device: str) -> str:
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    try:  # Linux names the CPU model here; elsewhere fall back to platform's guess
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def build_manifest(
    results: Sequence[AppResult],
    *,
    command: str,
    seeds: Sequence[int],
    quick: bool,
    device_requested: str,
    started: float,
    torch_threads: int,
) -> dict:
    """What a run needs to be reproduced and compared: a JSON-ready dict.

    Versions (pwlmodels, torch, numpy, scipy, pandas, python), the git commit
    of the source tree (None outside a checkout), platform, the
    devices the studies used (a list, one entry per distinct device) and their
    names, torch's intra-op thread count (the process's; in ``studies[]``
    each study's own: ``info["torch_threads"]`` when the study switches it
    while it computes, else the process's),
    ``OMP_NUM_THREADS``, the seeds, the quick flag, the command line, the
    seconds per study and the UTC start time. Tables stay free of timings:
    everything that changes from run to run is here, not in ``table.csv``.
    """
    import torch

    devices = sorted({r.device for r in results})
    return {
        "format": MANIFEST_FORMAT,
        "started_utc": datetime.datetime.fromtimestamp(started, datetime.timezone.utc)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z"),
        "command": command,
        "quick": bool(quick),
        "seeds": [int(s) for s in seeds],
        "device_requested": device_requested,
        "device": devices,
        "device_name": {d: _device_name(d) for d in devices},
        "torch_num_threads": int(torch_threads),  # the process's; per study: studies[]
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "cuda": torch.version.cuda,
        "versions": _versions(),
        "git_commit": _git_commit(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "total_seconds": round(sum(r.seconds for r in results), 3),
        "studies": [
            {
                "name": r.name,
                "seconds": round(r.seconds, 3),
                "device": r.device,
                "torch_threads": r.info.get("torch_threads", int(torch_threads)),
                "table": r.table_path.relative_to(r.out_dir).as_posix(),
                "section": r.section_path.relative_to(r.out_dir).as_posix(),
                "figures": [
                    Path(p).relative_to(r.out_dir).as_posix()
                    if Path(p).is_relative_to(r.out_dir)
                    else str(p)
                    for p in r.figures
                ],
            }
            for r in results
        ],
    }


def write_manifest(manifest: dict, out_dir: Path) -> Path:
    """Write ``manifest`` to ``out_dir/manifest.json`` atomically (sorted keys, indented)."""
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    return write_atomic(Path(out_dir) / "manifest.json", text)


_IMAGE = re.compile(r"!\[([^\]]*)\]\((?![a-z]+:|/)([^)]+)\)")


def relink_figures(text: str, prefix: str) -> str:
    """Relative image links in ``text`` prefixed by ``prefix`` (e.g. ``"traffic/"``)."""
    return _IMAGE.sub(lambda m: f"![{m[1]}]({prefix}{m[2]})", text)


def _summary(results: Sequence[AppResult], manifest: str | None) -> str:
    rows = [
        {
            "study": r.name,
            "seconds": f"{r.seconds:.1f}",
            "device": r.device,
            "table": "[{0}]({0})".format(r.table_path.relative_to(r.out_dir).as_posix()),
        }
        for r in results
    ]
    lines = [markdown_table(pd.DataFrame(rows))] if rows else []
    if manifest:
        lines.append(
            f"Versions, platform, torch threads, seeds and the command line: "
            f"[{manifest}]({manifest}).\n"
        )
    return "\n".join(lines)


def write_report(
    results: Sequence[AppResult],
    out_dir: Path,
    *,
    header: str = "",
    manifest: str | None = None,
) -> Path:
    """Join the studies' sections into ``out_dir/report.md`` (figure links made relative to it).

    Each section starts with a level-2 heading, under the report's title. The
    report opens with a table of the studies run (seconds, device, table
    file) and, when ``manifest`` names a file in ``out_dir``, a link to it.
    """
    parts = ["# pwlmodels applications report\n", _summary(results, manifest), header]
    for r in results:  # sections link their figures by file name, relative to section.md
        text = relink_figures(r.section, f"{r.name}/")
        parts.append(text.rstrip() + "\n")
    return write_atomic(Path(out_dir) / "report.md", "\n".join(p for p in parts if p))
