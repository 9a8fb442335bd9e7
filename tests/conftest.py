"""pytest set-up: deterministic hypothesis runs, and a summary of the worst exactness figures."""

from __future__ import annotations

import os

from hypothesis import settings

from ._helpers import _WORST

# Deterministic by default, so CI cannot flake; HYPOTHESIS_PROFILE=explore searches afresh.
settings.register_profile("default", derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=2000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_terminal_summary(terminalreporter) -> None:
    if not _WORST:
        return
    terminalreporter.section("exactness: worst error / rounding_bound and relative error")
    for (data, form, dtype), w in sorted(_WORST.items()):
        terminalreporter.write_line(
            f"{data:11s} {form:6s} {dtype:8s} max error/bound = {w['ratio']:.4f}   "
            f"max relative error on the knot range = {w['rel']:.3g}"
        )
