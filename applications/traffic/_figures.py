"""The traffic study's figures (PNG, labelled with units), drawn from a ``TrafficResult``.

They only draw: every curve, grid and count was computed by ``compute``.
matplotlib is imported inside the functions only, through its
object-oriented ``Figure`` (no pyplot, no backend state); files are written
atomically by ``pwlmodels.plotting.save_figure``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pwlmodels.plotting import save_figure

from ._calib_report import fig_detectors
from ._corridor import freeway_figure
from ._labels import DATASETS, STYLE

if TYPE_CHECKING:
    from ._study import TrafficResult

__all__: list[str] = []


def _new(rows: int, cols: int, size: tuple[float, float]):
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)  # margins by save_figure's tight bounding box: no layout engine
    axes = fig.subplots(rows, cols, squeeze=False)
    fig.subplots_adjust(wspace=0.28, hspace=0.38)
    return fig, axes


_DATA = {  # kind -> (colour, marker size, alpha, drawing order)
    "free": ("0.6", 3, 0.35, 1),
    "congested": ("tab:orange", 3, 0.45, 1),
    "transition": ("indigo", 9, 0.9, 3),
    "uxsim": ("0.25", 8, 0.6, 2),
    "user": ("0.25", 6, 0.6, 2),
}


def _scatter(ax, frame: pd.DataFrame) -> None:
    for kind, group in frame.groupby("kind", sort=False):
        colour, size, alpha, order = _DATA.get(kind, ("0.4", 4, 0.5, 2))
        ax.scatter(
            group["density_veh_km"],
            group["flow_veh_h"],
            s=size,
            alpha=alpha,
            lw=0,
            color=colour,
            label=f"data: {kind}" + (" (shock-crossing cells)" if kind == "transition" else ""),
            zorder=order,
            rasterized=True,
        )


def _curves(ax, curves: pd.DataFrame, names) -> None:
    x = curves["density_veh_km"]
    for name in names:
        if name in curves:
            label, colour, ls = STYLE[name]
            top = 6 if name == "truth" else 4  # the truth stays visible on top
            ax.plot(x, curves[name], color=colour, ls=ls, lw=1.4, label=label, zorder=top)


def fig_fd(result: TrafficResult, folder: Path) -> Path:
    s0, truth = result.seeds[0], result.truth
    view = result.views["synthetic_30"]
    fig, ax = _new(1, 2, (12, 4.6))
    for a in ax[0]:
        _scatter(a, view.frame)
        _curves(a, view.curves, STYLE)
        a.set_xlabel("density (veh/km per lane)")
        a.set_ylabel("flow (veh/h per lane)")
    ax[0, 0].set_title(f"Synthetic data (seed {s0}, 30 % congested) and every fit")
    ax[0, 0].set_ylim(0, 1.2 * truth["capacity"])
    rc, cap = truth["critical_density"], truth["capacity"]
    ax[0, 1].set_xlim(0.5 * rc, 1.6 * rc)
    ax[0, 1].set_ylim(0.8 * cap, 1.06 * cap)
    ax[0, 1].set_title("The kink enlarged: where each fit puts the capacity")
    handles, labels = ax[0, 1].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="center left",
        bbox_to_anchor=(0.91, 0.5),
        fontsize=8,
        markerscale=2,
        frameon=False,
    )
    return save_figure(fig, folder / "fd.png", dpi=result.config.dpi)


def fig_datasets(result: TrafficResult, folder: Path) -> Path:
    capacity = result.truth["capacity"]
    names = [n for n in ("synthetic_10", "uxsim", "user") if n in result.views]
    fig, ax = _new(1, len(names), (5.2 * len(names), 4.4))
    for a, name in zip(ax[0], names, strict=True):
        view = result.views[name]
        _scatter(a, view.frame)
        _curves(a, view.curves, ("truth", "triangle_robust", "triangle_lsq", "relu", "tanh"))
        a.axvline(view.densest, color="0.4", ls=":", lw=1, label="densest observation")
        a.set_title(DATASETS[name] + ("" if name != "user" else " (reference: robust fit)"))
        a.set_xlabel("density (veh/km per lane)")
        a.set_ylabel("flow (veh/h per lane)")
        a.set_ylim(0, 1.25 * max(capacity, view.max_flow / 1.1))
    seen: dict = {}
    for a in ax[0]:
        for h, label in zip(*a.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, h)
    fig.legend(
        list(seen.values()),
        list(seen),
        loc="center left",
        bbox_to_anchor=(0.91, 0.5),
        fontsize=8,
        markerscale=2,
        frameon=False,
    )
    fig.suptitle("Imbalanced and simulated data: the congested branch is sparse or partial", y=1.02)
    return save_figure(fig, folder / "fd_datasets.png", dpi=result.config.dpi)


def fig_greenshields(result: TrafficResult, folder: Path) -> Path:
    g, errors = result.greenshields, result.greenshields_errors
    fig, ax = _new(1, 2, (11, 4.4))
    a, b = ax[0]
    k = errors["K"].to_numpy()
    a.loglog(k, errors["sup_error"], "o", ms=3, color="tab:blue", label="measured sup error")
    a.loglog(k, errors["bound"], "-", color="black", lw=1, label=r"$q_{max}/(K-1)^2$")
    a.loglog(k, errors["k_squared"], ":", color="0.5", lw=1, label=r"$q_{max} K^{-2}$")
    a.set_xlabel("knots K (uniform on [0, rho_max])")
    a.set_ylabel("sup |q - interpolant| (veh/h)")
    a.set_title(
        f"Greenshields (vmax {g['vmax']:g} km/h, rho_max {g['rho_max']:g} veh/km):\n"
        "the interpolant's error falls as K^-2"
    )
    a.legend()
    dev = np.maximum(errors["rel_deviation"].to_numpy(), 1e-17)  # zero drawn at 1e-17
    b.semilogy(k, dev, "o", ms=3, color="tab:blue", label="|measured - formula| / formula")
    b.semilogy(k, errors["ulp"], "-", color="0.5", lw=1, label="one ulp of q_max, relative")
    b.set_xlabel("knots K")
    b.set_ylabel("relative deviation (1; zero shown at 1e-17)")
    b.set_title("...and equals q_max/(K-1)^2 to float64 rounding")
    b.legend(fontsize=8)
    return save_figure(fig, folder / "greenshields.png", dpi=result.config.dpi)


def _label(scenario, model: str, seed: int) -> int | None:
    try:
        return scenario.labels.index((model, seed))
    except ValueError:
        return None


def fig_spacetime(result: TrafficResult, folder: Path) -> Path:
    s0 = result.seeds[0]
    show = [m for m in ("truth", "relu", "tanh")]
    fig, ax = _new(2, len(show), (13, 7.5))
    for row, run in enumerate(result.scenarios):
        x = run.edges - run.edges[run.bottleneck]
        image = None
        for col, model in enumerate(show):
            a = ax[row, col]
            b = _label(run, model, s0)
            if b is None:
                a.set_visible(False)
                continue
            step = max(1, run.time.size // 400)  # at most ~400 rows of pixels
            per_lane = run.density[b, ::step] / run.lanes
            extent = (x[0], x[-1], run.time[0] * 60, run.time[-1] * 60)
            image = a.imshow(
                per_lane,
                origin="lower",
                aspect="auto",
                extent=extent,
                vmin=0,
                vmax=result.truth["rho_jam"],
                cmap="viridis",
                interpolation="nearest",
            )
            a.axvline(0, color="white", lw=0.6, ls="--")
            if run.name == "red_light":
                a.set_ylim(0, 12)  # the queue is gone well before
            a.set_title(f"{run.name.replace('_', ' ')}: {STYLE[model][0]}")
            a.set_xlabel("position relative to the bottleneck (km)")
            a.set_ylabel("time (min)")
        if image is not None:
            fig.colorbar(image, ax=ax[row, :], label="density (veh/km per lane)", fraction=0.03)
    fig.suptitle("Space-time density: queues form behind the red light and the lane drop")
    return save_figure(fig, folder / "spacetime.png", dpi=result.config.dpi)


def fig_queues(result: TrafficResult, folder: Path) -> Path:
    s0 = result.seeds[0]
    fig, ax = _new(2, 2, (12, 8))
    slope = {"red_light": 1200.0, "lane_drop": 4000.0}  # veh/h: the oblique line drawn
    window = {"red_light": 12.0, "lane_drop": 55.0}  # min: where the queues are
    for col, run in enumerate(result.scenarios):
        t = run.time * 60
        shown = t <= window[run.name]
        low, high = 0.0, 0.0
        for b, (model, seed) in enumerate(run.labels):
            if seed != s0:
                continue
            label, colour, ls = STYLE[model]
            top = 6 if model == "truth" else 4
            kw = {"color": colour, "ls": ls, "lw": 1.2, "label": label, "zorder": top}
            ax[0, col].plot(t, run.queue[b], **kw)
            n = run.bottleneck_count[b] - slope[run.name] * run.time
            ax[1, col].plot(t, n, **kw)
            low, high = min(low, n[shown].min()), max(high, n[shown].max())
        name = run.name.replace("_", " ")
        ax[0, col].set_title(f"{name}: queue length")
        ax[0, col].set_ylabel(f"queue length (km; above {run.threshold:.3g} veh/km per lane)")
        ax[1, col].set_title(f"{name}: oblique cumulative count at the bottleneck")
        ax[1, col].set_ylabel(f"N(t) - {slope[run.name]:g} t (veh)")
        pad = 0.05 * (high - low)
        ax[1, col].set_ylim(low - pad, high + pad)
        for a in ax[:, col]:
            a.set_xlabel("time (min)")
            a.set_xlim(0, window[run.name])
    handles, labels = ax[0, 0].get_legend_handles_labels()  # beside the panels, not on a curve
    ax[0, 1].legend(handles, labels, fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.suptitle(
        f"A lower fitted capacity discharges the queue more slowly (seed {s0}; in the oblique "
        "counts a flatter line is a lower flow)"
    )
    return save_figure(fig, folder / "queues.png", dpi=result.config.dpi)


def fig_exact_reference(result: TrafficResult, folder: Path) -> Path:
    """The red light's CTM errors against the exact LWR answer, against the cell length."""
    from ._redlight import red_light_convergence_figure

    return red_light_convergence_figure(
        result.exact_reference,
        folder / "red_light_convergence.png",
        study_dx_m=1000 * result.config.red_dx,
        dpi=result.config.dpi,
    )


def figures(result: TrafficResult, folder: Path) -> list[Path]:
    """Draw every figure of ``result`` into ``folder``; return their paths."""
    return [
        fig_fd(result, folder),
        fig_datasets(result, folder),
        fig_greenshields(result, folder),
        fig_spacetime(result, folder),
        fig_queues(result, folder),
        fig_detectors(result.calibration, folder, result.config.dpi),
        *([freeway_figure(result.freeway.runs, folder / "freeway.png")] if result.freeway else []),
        fig_exact_reference(result, folder),
    ]
