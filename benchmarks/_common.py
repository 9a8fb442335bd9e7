"""Helpers shared by the benchmark scripts: timing, version stamps, atomic CSV writes."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

import pwlmodels
from pwlmodels._files import atomic_open

FIT_TOL = 1e-6  # bench_fit: the relative SSR gap counted as "reached the best SSR"


def best_of(fn: Callable[[], Any], repeats: int, budget: float = np.inf) -> tuple[float, Any, int]:
    """The smallest wall time of up to `repeats` calls of fn, the last result, the calls.

    Stops early once the calls so far took more than `budget` seconds.
    """
    best, out, spent, calls = np.inf, None, 0.0, 0
    while calls < repeats and (calls == 0 or spent < budget):
        start = time.perf_counter()
        out = fn()
        elapsed = time.perf_counter() - start
        best, spent, calls = min(best, elapsed), spent + elapsed, calls + 1
    return best, out, calls


def library_version() -> str:
    """pwlmodels' version, with the git commit and '+dirty' when pwlmodels/ has edits."""
    root = Path(__file__).resolve().parent.parent
    version = pwlmodels.__version__
    try:
        git = ["git", "-C", str(root)]
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            [*git, "status", "--porcelain", "--", "pwlmodels"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return version
    return f"{version} (git {head}{'+dirty' if status else ''})"


def stamp_torch(df: pd.DataFrame, version: str | None = None) -> None:
    """Add the torch run's stamp columns: ``threads``, ``torch`` and ``pwlmodels``."""
    df["threads"] = torch.get_num_threads()
    df["torch"] = torch.__version__
    df["pwlmodels"] = library_version() if version is None else version


def write_csv_atomic(df: pd.DataFrame, path: Path, *, float_format: str = "%.6g") -> None:
    """Write to a temporary file in the same folder, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path) as fh:
        fh.write(df.to_csv(index=False, float_format=float_format).encode())
