"""The economics page's warm-start part: the solver started from EGM's exact network."""

from __future__ import annotations

import pandas as pd
import torch

from ._config import Config
from ._egm import EGMSolution
from ._warm import compare_warm_start

__all__: list[str] = []

KNOTS = 24  #: consumption knots per income state of the exact start (the solver's width)
_CLOSE = 0.3  # log10: a change of the max Euler error below this is "kept"
_VERBS = {"drifts": "drifts up", "improves": "improves", "keeps": "is kept"}


def warm_part(
    sol: EGMSolution, cfg: Config, device: torch.device | str | None = None
) -> pd.DataFrame:
    """:func:`compare_warm_start` at the study's solver sizes: its steps and 10 times them."""
    return compare_warm_start(
        sol, n_knots=KNOTS, steps=(cfg.net_steps, 10 * cfg.net_steps), n_points=cfg.net_points,
        resimulate_every=cfg.net_resimulate, device=device,
    )  # fmt: skip


def _verdict(before: float, after: float) -> str:
    if after > before + _CLOSE:
        return "drifts"
    return "improves" if after < before - _CLOSE else "keeps"


def warm_text(df: pd.DataFrame | None) -> str:
    """The section's warm-start paragraph ('' when the part was not run)."""
    if df is None or df.empty:
        return ""
    wide = df.pivot_table(index="metric", columns=["start", "steps"], values="value")
    steps = sorted(k for s, k in wide.columns if s == "random")

    def cell(start: str, k: int) -> str:
        v = wide[(start, k)]
        return (
            f"{v['euler_log10_mean_near']:.2f} / {v['euler_log10_max_near']:.2f} near the kink, "
            f"{v['euler_log10_mean_away']:.2f} / {v['euler_log10_max_away']:.2f} away"
        )

    start = wide[("egm_exact", 0)]
    runs = "; ".join(
        f"after {k} steps from it {cell('egm_exact', k)} (from random weights of the same "
        f"network {cell('random', k)})"
        for k in steps
    )
    last = wide[("egm_exact", steps[-1])]
    verdict = "; ".join(
        f"{where} its max error {_VERBS[_verdict(a, b)]} ({a:.2f} -> {b:.2f})"
        for where, a, b in (
            (w, start[f"euler_log10_max_{key}"], last[f"euler_log10_max_{key}"])
            for w, key in (("near the kink", "near"), ("away from it", "away"))
        )
    )
    return f"""### The exact core as the solver's start

EGM's policy, interpolated on {KNOTS} of its nodes per income state (adding \
{start["policy_max_rel_error"]:.1e} relative error), is converted exactly to the solver's \
own network by `spline_to_relu` (linear asset input, consumption output c = min(out, x); \
{start["n_params"]:.0f} parameters; the second output log h is interpolated, not exact) and \
trained on the Euler residual (default calibration). log10 Euler errors, mean / max (the \
probe of the Euler figure, with its own "near the kink" window around a*): EGM \
{cell("egm", 0)}; the exact start {cell("egm_exact", 0)}; {runs}. After {steps[-1]} steps \
from the start, {verdict} (a change under {_CLOSE} in log10 counts as kept); \
`benchmarks/bench_warm_start.py` has every node as the start too.
"""
