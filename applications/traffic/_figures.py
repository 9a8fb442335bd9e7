"""The traffic study's figures (PNG, labelled with units).

matplotlib is imported inside the functions only, through its
object-oriented ``Figure`` (no pyplot, no backend state); files are written
atomically by ``pwlmodels.plotting.save_figure``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pwlmodels.plotting import save_figure

__all__: list[str] = []

STYLE = {  # model -> (label, colour, line style)
    "truth": ("truth", "black", "--"),
    "triangle_robust": ("triangle, robust LS", "tab:blue", "-"),
    "triangle_lsq": ("triangle, plain LS", "tab:cyan", "-"),
    "pwl_1": ("PWL least squares, 1 knot", "tab:olive", "-"),
    "pwl_1_concave": ("PWL least squares, 1 knot, concave", "tab:brown", ":"),
    "pwl_3": ("PWL least squares, 3 knots", "tab:purple", "-"),
    "pwl_3_concave": ("PWL least squares, 3 knots, concave", "tab:pink", ":"),
    "relu": ("ReLU network", "tab:red", "-"),
    "tanh": ("tanh network", "tab:green", "-"),
}
DATASETS = {
    "noise_free": "synthetic, noise-free",
    "synthetic_30": "synthetic, 30 % congested",
    "synthetic_10": "synthetic, 10 % congested",
    "uxsim": "UXsim bottleneck",
    "user": "your detector data",
}


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


def _curves(ax, models: dict, names, x: np.ndarray) -> None:
    for name in names:
        if name in models:
            label, colour, ls = STYLE[name]
            top = 6 if name == "truth" else 4  # the truth stays visible on top
            ax.plot(x, models[name](x), color=colour, ls=ls, lw=1.4, label=label, zorder=top)


def fig_fd(study: dict, folder: Path) -> Path:
    s0 = study["seeds"][0]
    ds, models = study["datasets"]["synthetic_30", s0], study["models"]["synthetic_30", s0]
    truth = study["truth"]
    fig, ax = _new(1, 2, (12, 4.6))
    x = np.linspace(0, 1.05 * truth.rho_jam, 1200)
    for a in ax[0]:
        _scatter(a, ds.frame)
        _curves(a, models, STYLE, x)
        a.set_xlabel("density (veh/km per lane)")
        a.set_ylabel("flow (veh/h per lane)")
    ax[0, 0].set_title(f"Synthetic data (seed {s0}, 30 % congested) and every fit")
    ax[0, 0].set_ylim(0, 1.2 * truth.capacity)
    rc, cap = truth.critical_density, truth.capacity
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
    return save_figure(fig, folder / "fd.png", dpi=study["dpi"])


def fig_datasets(study: dict, folder: Path) -> Path:
    s0, truth = study["seeds"][0], study["truth"]
    names = [n for n in ("synthetic_10", "uxsim", "user") if (n, s0) in study["datasets"]]
    fig, ax = _new(1, len(names), (5.2 * len(names), 4.4))
    for a, name in zip(ax[0], names, strict=True):
        ds, models = study["datasets"][name, s0], study["models"][name, s0]
        _scatter(a, ds.frame)
        top = float(ds.density.max())
        x = np.linspace(0, 1.05 * max(truth.rho_jam, top), 800)
        _curves(a, models, ("truth", "triangle_robust", "triangle_lsq", "relu", "tanh"), x)
        a.axvline(top, color="0.4", ls=":", lw=1, label="densest observation")
        a.set_title(DATASETS[name] + ("" if name != "user" else " (reference: robust fit)"))
        a.set_xlabel("density (veh/km per lane)")
        a.set_ylabel("flow (veh/h per lane)")
        a.set_ylim(0, 1.25 * max(truth.capacity, ds.flow.max() / 1.1))
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
    return save_figure(fig, folder / "fd_datasets.png", dpi=study["dpi"])


def fig_greenshields(study: dict, errors: pd.DataFrame, folder: Path) -> Path:
    g = study["greenshields"]
    fig, ax = _new(1, 2, (11, 4.4))
    a, b = ax[0]
    k = errors["K"].to_numpy()
    a.loglog(k, errors["sup_error"], "o", ms=3, color="tab:blue", label="measured sup error")
    a.loglog(k, g.capacity / (k - 1.0) ** 2, "-", color="black", lw=1, label=r"$q_{max}/(K-1)^2$")
    a.loglog(k, g.capacity / k**2.0, ":", color="0.5", lw=1, label=r"$q_{max} K^{-2}$")
    a.set_xlabel("knots K (uniform on [0, rho_max])")
    a.set_ylabel("sup |q - interpolant| (veh/h)")
    a.set_title(
        f"Greenshields (vmax {g.vmax:g} km/h, rho_max {g.rho_max:g} veh/km):\n"
        "the interpolant's error falls as K^-2"
    )
    a.legend()
    dev = np.maximum(errors["rel_deviation"].to_numpy(), 1e-17)
    b.semilogy(k, dev, "o", ms=3, color="tab:blue", label="|measured - formula| / formula")
    b.semilogy(
        k,
        np.spacing(g.capacity) / (g.capacity / (k - 1.0) ** 2),
        "-",
        color="0.5",
        lw=1,
        label="one ulp of q_max, relative",
    )
    b.set_xlabel("knots K")
    b.set_ylabel("relative deviation (1; zero shown at 1e-17)")
    b.set_title("...and equals q_max/(K-1)^2 to float64 rounding")
    b.legend(fontsize=8)
    return save_figure(fig, folder / "greenshields.png", dpi=study["dpi"])


def _label(run, model: str, seed: int) -> int | None:
    try:
        return run.labels.index((model, seed))
    except ValueError:
        return None


def fig_spacetime(study: dict, folder: Path) -> Path:
    s0 = study["seeds"][0]
    show = [m for m in ("truth", "relu", "tanh")]
    fig, ax = _new(2, len(show), (13, 7.5))
    for row, run in enumerate(study["runs"]):
        r = run.result
        lanes = (
            np.ones(r.density.shape[-1])
            if run.name == "red_light"
            else np.where(np.arange(r.density.shape[-1]) < run.bottleneck, 3.0, 2.0)
        )
        x = r.edges - r.edges[run.bottleneck]
        image = None
        for col, model in enumerate(show):
            a = ax[row, col]
            b = _label(run, model, s0)
            if b is None:
                a.set_visible(False)
                continue
            step = max(1, r.time.size // 400)  # at most ~400 rows of pixels
            per_lane = r.density[b, ::step] / lanes
            extent = (x[0], x[-1], r.time[0] * 60, r.time[-1] * 60)
            image = a.imshow(
                per_lane,
                origin="lower",
                aspect="auto",
                extent=extent,
                vmin=0,
                vmax=study["truth"].rho_jam,
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
    return save_figure(fig, folder / "spacetime.png", dpi=study["dpi"])


def fig_queues(study: dict, folder: Path) -> Path:
    s0 = study["seeds"][0]
    fig, ax = _new(2, 2, (12, 8))
    slope = {"red_light": 1200.0, "lane_drop": 4000.0}
    window = {"red_light": 12.0, "lane_drop": 55.0}  # min: where the queues are
    for col, run in enumerate(study["runs"]):
        t = run.result.time * 60
        shown = t <= window[run.name]
        low, high = 0.0, 0.0
        for b, (model, seed) in enumerate(run.labels):
            if seed != s0:
                continue
            label, colour, ls = STYLE[model]
            top = 6 if model == "truth" else 4
            kw = {"color": colour, "ls": ls, "lw": 1.2, "label": label, "zorder": top}
            ax[0, col].plot(t, run.queue[b], **kw)
            n = run.result.cumulative[b, :, run.bottleneck] - slope[run.name] * run.result.time
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
    return save_figure(fig, folder / "queues.png", dpi=study["dpi"])


def figures(study: dict, folder: Path) -> list[Path]:
    """Write every figure into ``folder``; return their paths."""
    errors = study["greenshields_errors"]
    return [
        fig_fd(study, folder),
        fig_datasets(study, folder),
        fig_greenshields(study, errors, folder),
        fig_spacetime(study, folder),
        fig_queues(study, folder),
    ]
