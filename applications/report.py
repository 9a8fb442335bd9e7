"""AppResult and the report writer shared by the studies: atomic files, Markdown tables."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pwlmodels._files import atomic_open

__all__ = ["AppResult", "finish", "markdown_table", "write_atomic", "write_report"]


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


_IMAGE = re.compile(r"!\[([^\]]*)\]\((?![a-z]+:|/)([^)]+)\)")


def write_report(results: Sequence[AppResult], out_dir: Path, *, header: str = "") -> Path:
    """Join the studies' sections into ``out_dir/report.md`` (figure links made relative to it)."""
    parts = ["# pwlmodels applications report\n", header]
    for r in results:  # sections link their figures by file name, relative to section.md
        text = _IMAGE.sub(lambda m, name=r.name: f"![{m[1]}]({name}/{m[2]})", r.section)
        parts += [text.rstrip() + "\n", f"\n_{r.name}: {r.seconds:.1f} s on {r.device}_\n"]
    return write_atomic(Path(out_dir) / "report.md", "\n".join(parts))
