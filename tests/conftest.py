"""pytest hooks: print the worst exactness figures the tests measured."""

from __future__ import annotations

from ._helpers import _WORST


def pytest_terminal_summary(terminalreporter) -> None:
    if not _WORST:
        return
    terminalreporter.section("exactness: worst error / rounding_bound and relative error")
    for (data, form, dtype), w in sorted(_WORST.items()):
        terminalreporter.write_line(
            f"{data:11s} {form:6s} {dtype:8s} max error/bound = {w['ratio']:.4f}   "
            f"max relative error on the knot range = {w['rel']:.3g}"
        )
