"""The calibration part of the traffic page: its figure and its text."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pwlmodels.plotting import save_figure

from ._calibrate import Calibration

__all__: list[str] = []


def fig_detectors(cal: Calibration, folder: Path, dpi: int) -> Path:
    """Fitted diagrams of every detector against the true ones, and bootstrap intervals."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    fig = Figure(figsize=(14.0, 4.2))
    axes = fig.subplots(1, 3)
    fig.subplots_adjust(wspace=0.3)
    colors = colormaps["tab10"](np.arange(len(cal.fits)) % 10)
    for c, (det, f) in zip(colors, cal.fits.iterrows(), strict=True):
        rc_true = f["w_true"] * f["rho_jam_true"] / (f["vf_true"] + f["w_true"])
        axes[0].plot([0, rc_true, f["rho_jam_true"]], [0, f["capacity_true"], 0], "--", c=c, lw=1)
        axes[0].plot(
            [0, f["critical_density"], f["rho_jam"]], [0, f["capacity"], 0], c=c, lw=1.5, label=det
        )
    axes[0].set(xlabel="density (veh/km/lane)", ylabel="flow (veh/h/lane)")
    axes[0].set_title("fit_many per detector (solid) vs truth (dashed)", fontsize=10)
    axes[0].legend(fontsize=7, ncol=2)
    for ax, p, unit in ((axes[1], "w", "km/h"), (axes[2], "capacity", "veh/h")):
        ci = cal.intervals.xs(p, level="parameter")
        y = np.arange(len(ci))
        ax.errorbar(
            ci["estimate"],
            y,
            xerr=[ci["estimate"] - ci["lower"], ci["upper"] - ci["estimate"]],
            fmt="o",
            ms=4,
            capsize=3,
            label="robust fit, 95 % interval",
        )
        ax.plot(ci["truth"], y, "kx", label="truth")
        ax.set_yticks(y, ci.index)
        ax.set(xlabel=f"{p} ({unit})")
        ax.set_title(f"{p}: block bootstrap, {cal.n_boot} replicates", fontsize=10)
        ax.legend(fontsize=7)
    return save_figure(fig, folder / "detectors.png", dpi=dpi)


def calibration_text(cal: Calibration) -> str:
    """The section's calibration paragraph and table."""
    dropped = ", ".join(f"{v} {k}" for k, v in cal.dropped.items())
    cov = cal.intervals.groupby("parameter", sort=False)["covered"].agg(["sum", "size"])
    coverage = ", ".join(f"{p} {int(r['sum'])} of {int(r['size'])}" for p, r in cov.iterrows())
    err = {
        p: float(np.max(np.abs(cal.fits[p] / cal.fits[f"{p}_true"] - 1)))
        for p in ("vf", "w", "rho_jam", "capacity")
    }
    head = "| detector | vf (km/h) | w (km/h) | rho_jam (veh/km) | capacity (veh/h) |"
    lines = [head, "|---|---|---|---|---|"]
    for det, f in cal.fits.iterrows():
        cells = [f"{f[p]:.4g} ({f[p + '_true']:.4g})" for p in ("vf", "w", "rho_jam", "capacity")]
        lines.append(f"| {det} | " + " | ".join(cells) + " |")
    worst = ", ".join(f"{p} {100 * e:.1f} %" for p, e in err.items())
    return f"""### Calibration on a detector archive

A synthetic archive in the raw format of loop detectors (`detector_sample`: {len(cal.fits)} \
detectors x 3 lanes x one day of 5-minute counts and occupancies, each detector with its own \
triangle, faults planted) goes through `detectors_to_density`: density = occupancy / effective \
vehicle length (6.5 m), flow = count per hour, lanes averaged. Of {cal.n_raw} raw rows the \
filters dropped {dropped}; a detector-interval is kept only with every lane valid \
({cal.n_kept} kept). `fit_detectors` then fits every detector at once through \
`pwlmodels.fit_many` (one free knot: the critical density). Fitted (truth) per detector, \
largest relative error {worst}:

{chr(10).join(lines)}

Uncertainty: moving-block bootstrap of the robust triangle (blocks of {cal.block_s / 60:g} \
min, so a queue's serially correlated intervals stay together; {cal.n_boot} replicates, \
percentile 95 % intervals). The intervals contain the truth for {coverage} detectors \
(sampling: a nominal 95 % interval may miss now and then, and the single-loop density \
estimate carries the sample's lane-to-lane spread). Figure: `detectors.png`.

![detectors](detectors.png)
"""
