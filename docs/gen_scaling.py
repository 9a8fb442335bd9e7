"""Write the measured table of docs/scaling.md from benchmarks/results/scale.csv.

    python docs/gen_scaling.py

The page's prose is written by hand; the block between its two markers is
this script's, every number in it a cell of the CSV (written by
``benchmarks/bench_scale.py``; this script runs no benchmark). Rerun it
after rerunning the benchmark.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a source tree: applications/ is importable

from applications.report import markdown_table, write_atomic  # noqa: E402

CSV = ROOT / "benchmarks" / "results" / "scale.csv"
PAGE = ROOT / "docs" / "scaling.md"
BEGIN = "<!-- table from benchmarks/results/scale.csv by docs/gen_scaling.py: do not edit -->"
END = "<!-- end of the generated table -->"
STAMP = ["cpus", "threads", "torch", "dask", "pwlmodels"]


def _g(v: object, digits: int = 3) -> str:
    return "" if pd.isna(v) else f"{v:.{digits}g}"


def table(df: pd.DataFrame) -> str:
    """The Markdown table of the benchmark's rows, and a line naming where they ran."""
    show = pd.DataFrame(
        {
            "path": df["path"],
            "work": [f"{s} {u}" for s, u in zip(df["size"], df["unit"], strict=True)],
            "before": df["baseline"],
            "after": [
                m if w == 1 else f"{m}, {w} workers"
                for m, w in zip(df["method"], df["workers"], strict=True)
            ],
            "before (s)": [_g(v) for v in df["baseline_s"]],
            "after (s)": [_g(v) for v in df["seconds"]],
            "speedup": ["" if pd.isna(v) else f"{v:.2g}x" for v in df["speedup"]],
            "same result": df["same_result"].fillna(""),
            "load": [
                f"{a:.2f}, {b:.2f}, {c:.2f}"
                for a, b, c in zip(df["load_1min"], df["load_5min"], df["load_15min"], strict=True)
            ],
        }
    )
    stamp = "; ".join(
        f"{c} {', '.join(sorted({str(v) for v in df[c].dropna()}))}" for c in STAMP if c in df
    )
    return f"{markdown_table(show)}\nMeasured with {stamp}.\n"


def render(page: str, df: pd.DataFrame) -> str:
    """``page`` with the block between the markers replaced by the table of ``df``."""
    head, rest = page.split(BEGIN + "\n", 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table(df)}{END}{tail}"


def main() -> int:
    write_atomic(PAGE, render(PAGE.read_text(), pd.read_csv(CSV)))
    print(PAGE.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
