"""Figures of the control study, drawn from a ControlResult only: nothing is evaluated here."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pwlmodels.plotting import save_figure

from ._result import ControlResult

__all__: list[str] = []

_COLORS = {"exact": "black", "relu": "C0", "tanh": "C1", "sigmoid": "C2"}
_LABELS = {"exact": "exact law (ReLU, 2 units)", "relu": "ReLU network", "tanh": "tanh network"}
_LABELS |= {"sigmoid": "sigmoid network"}
_UNITS = {"hardtanh": "hardtanh", "tanh": "tanh", "sigmoid": "sigmoid", "relu": "ReLU"}


def _figure(rows: int, cols: int, size: tuple[float, float], **kw):
    """A ``Figure`` with constrained layout (no pyplot, no backend or rcParams change)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.subplots(rows, cols, **kw)


def draw_all(folder: Path, result: ControlResult) -> list[Path]:
    """Write every figure into ``folder``; return their paths."""
    firsts = [c for c in result.controllers if c.seed in (-1, result.seeds[0])]
    return [
        _steps(folder / "steps.png", firsts),
        _slices(folder / "slices.png", result.slices),
        _regions(folder / "regions.png", result.regions),
        _gains(folder / "gains.png", result),
        _speed(folder / "speed.png", result.speed),
        _mpc(folder / "mpc.png", result.mpc),
        _mpc_network(folder / "mpc_network.png", result.mpc),
        _mpc_invariant(folder / "mpc_invariant.png", result.mpc),
        _margins(folder / "margins.png", firsts),
    ]


def _save(fig, path: Path) -> Path:
    save_figure(fig, path, dpi=100)
    return path


def _steps(path: Path, ctrls: list) -> Path:
    from ._config import U_MAX, X_REF

    fig, (top, bottom) = _figure(2, 1, (7.5, 6.5), sharex=True)
    for c in ctrls:
        r, kw = c.response, {"color": _COLORS[c.name], "lw": 2.4 if c.name == "exact" else 1.2}
        label = _LABELS[c.name] + ("" if c.seed < 0 else f" (seed {c.seed})")
        top.plot(r.t, r.x[:, 0], label=label, alpha=0.5 if c.name == "exact" else 1.0, **kw)
        bottom.plot(r.t, r.u, alpha=0.5 if c.name == "exact" else 1.0, **kw)
    top.axhline(X_REF[0], color="0.5", ls=":", lw=1)
    for s in (-1, 1):
        bottom.axhline(s * U_MAX, color="0.5", ls="--", lw=1)
    top.set_ylabel("angle theta (rad)")
    bottom.set_ylabel("applied voltage u (V)")
    bottom.set_xlabel("time t (s)")
    top.legend(frameon=False, loc="lower right")
    top.set_title(
        "1 rad position step: the actuator saturates (dashed: +-12 V) for the first second;\n"
        "the learned controllers track the saturated LQR law closely"
    )
    return _save(fig, path)


def _slices(path: Path, slices: tuple) -> Path:
    from ._config import U_MAX

    fig, axes = _figure(1, 2, (11.0, 4.4))
    names = ["angle theta (rad), with omega = i = 0", "speed omega (rad/s), with theta = 1, i = 0"]
    for j, (ax, xlabel) in enumerate(zip(axes, names, strict=True)):
        mine = [c for c in slices if c.axis == j]
        a, b = mine[0].s[0], mine[0].s[-1]
        for c in mine:
            lw = 2.4 if c.name == "exact" else 1.2
            alpha = 0.5 if c.name == "exact" else 1.0
            ax.plot(c.s, c.u, color=_COLORS[c.name], lw=lw, alpha=alpha, label=_LABELS[c.name])
            if c.name in ("exact", "relu"):
                marker = "o" if c.name == "relu" else "s"
                ax.plot(c.kink_x, c.kink_u, marker, color=_COLORS[c.name], ms=4, mfc="none")
        for sgn in (-1, 1):
            ax.axhline(sgn * U_MAX, color="0.6", ls="--", lw=0.8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("command u (V)")
        ax.set_xlim(a, b)
    axes[0].legend(frameon=False, fontsize=8, loc="upper right")
    fig.suptitle(
        "Slices of the controllers through the set point; markers: the kinks, read exactly from\n"
        "the weights, of the exact law (squares) and the ReLU network (circles); the gain is the"
        " slope in the middle"
    )
    return _save(fig, path)


def _regions(path: Path, c) -> Path:
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Rectangle

    from ._config import X_REF

    full, zoom, zlo, zhi, own = c.full, c.zoom, c.zoom_lower, c.zoom_upper, c.own
    fig, (left, right) = _figure(1, 2, (12.0, 5.2))
    full.plot(left)
    left.plot(*X_REF[:2], "k*", ms=10)
    left.add_patch(Rectangle(zlo, *(zhi - zlo), fill=False, ec="k", lw=1.2, label="zoom (right)"))
    left.set_title(f"{len(full)} linear regions on the slice i = 0")
    left.legend(loc="upper right", fontsize=8)
    faces = np.where(own[:, None], [[1.0, 0.85, 0.4, 1.0]], [[0.9, 0.93, 0.97, 1.0]])
    right.add_collection(
        PolyCollection(list(zoom.vertices), facecolors=faces, edgecolors="0.4", linewidths=0.5)
    )
    if c.level > 0:
        right.contour(c.theta, c.omega, c.v, levels=[c.level], colors="C3", linewidths=1.8)
    right.plot([], [], color="C3", label=f"invariant ellipsoid x'Px <= {c.level:.3g} (i = 0)")
    right.fill([], [], color=(1.0, 0.85, 0.4), label="linear region of x_ref")
    right.plot(*X_REF[:2], "k*", ms=10, label="set point x_ref")
    right.set_xlim(zlo[0], zhi[0])
    right.set_ylim(zlo[1], zhi[1])
    right.legend(loc="upper right", fontsize=8)
    right.set_title(f"Zoom: {len(zoom)} regions near the set point")
    for ax in (left, right):
        ax.set_xlabel("angle theta (rad)")
        ax.set_ylabel("speed omega (rad/s)")
    fig.suptitle(
        f"ReLU controller (seed {c.seed}): inside the invariant ellipsoid (its section at i = 0)"
        " the loop is exactly linear and converges\n"
        f"(scaled l-inf radius of the certified box {c.radius_scaled:.3g})"
    )
    return _save(fig, path)


def _gains(path: Path, result: ControlResult) -> Path:
    from ._config import STATES

    fig, (left, right) = _figure(1, 2, (11.5, 4.4))
    names = ["exact", "relu", "tanh", "sigmoid"]
    # a dot plot, not bars: the ratios sit near 1, and bars cut off below 0 would mislead
    offset = 0.15
    for i, name in enumerate(names):
        ratio = result.gain_ratios[name]
        mean = ratio.mean
        err = np.stack([mean - ratio.low, ratio.high - mean])
        x = np.arange(3) + (i - 1.5) * offset
        left.errorbar(x, mean, yerr=err, fmt="o", ms=6, color=_COLORS[name],
                      label=_LABELS[name], capsize=3)  # fmt: skip
    left.axhline(1.0, color="0.3", lw=0.8, ls="--", label="LQR (ratio 1)")
    left.set_xticks(range(3), [f"K_{s}" for s in STATES])
    left.set_xlim(-0.5, 2.5)
    left.set_ylabel("K_net / K_LQR (-), axis not from 0")
    n_seeds = len(result.seeds)
    whiskers = f"min to max over {n_seeds} seeds" if n_seeds > 1 else "one seed"
    left.set_title(
        f"Position loop: gain at the set point relative to LQR\n(dots: mean; {whiskers})"
    )
    left.legend(frameon=False, fontsize=8, loc="best", ncol=2)
    runs = result.speed
    x = np.arange(len(runs))
    right.bar(x - 0.2, [r.gain_right for r in runs], 0.4, label="right gain (e -> 0+)")
    right.bar(x + 0.2, [r.gain_left for r in runs], 0.4, label="left gain (e -> 0-)")
    right.set_xticks(x, [_UNITS.get(r.activation, r.activation) for r in runs])
    right.set_ylabel("local gain du/de (V s/rad)")
    right.set_title(
        "Speed loop, one unit k (sigma(e) - sigma(0)), k = 100:\nthe slope at 0 is the gain"
    )
    right.legend(frameon=False, fontsize=8)
    return _save(fig, path)


def _speed(path: Path, speed: tuple) -> Path:
    from ._config import SPEED_STEP

    runs = {r.activation: r for r in speed}
    fig, axes = _figure(2, 2, (11.5, 6.8), sharex=True)
    groups = (("hardtanh", "tanh", "sigmoid"), ("hardtanh", "relu"))
    styles = {
        "hardtanh": ("C0", "-"),
        "tanh": ("C1", "--"),
        "sigmoid": ("C2", "-"),
        "relu": ("C3", "-"),
    }
    for col, group in enumerate(groups):
        for name in group:
            r = runs[name]
            color, ls = styles[name]
            label = f"{_UNITS[name]}: gain {r.gain_right:.3g} (left {r.gain_left:.3g}), "
            label += f"damping {r.damping_right:.2f}"
            axes[0, col].plot(
                r.response.t, r.response.x[:, 0] / SPEED_STEP, color=color, ls=ls, label=label
            )
            axes[1, col].plot(r.response.t, r.response.u, color=color, ls=ls)
        axes[0, col].axhline(1.0, color="0.5", ls=":", lw=1)
        axes[1, col].axhline(0.0, color="0.5", ls=":", lw=1)
        axes[0, col].legend(frameon=False, fontsize=8, loc="lower right")
        axes[0, col].set_ylabel("speed omega / r (-)")
        axes[1, col].set_ylabel("voltage u (V)")
        axes[1, col].set_xlabel("time t (s)")
    axes[0, 0].set_title(
        "Same k = 100: slope 1 (hardtanh, tanh) vs 1/4 (sigmoid)\n"
        "higher gain: faster, more overshoot"
    )
    axes[0, 1].set_title(
        "ReLU is one-sided: right gain k, left gain 0,\n"
        "so it cannot brake after the overshoot (u >= 0)"
    )
    fig.suptitle(f"Speed loop, step r = {SPEED_STEP} rad/s (k r = 10 V: below the 12 V limit)")
    return _save(fig, path)


def _mpc(path: Path, m) -> Path:
    import matplotlib as mpl
    from matplotlib.collections import PolyCollection

    from ._mpc import BOX

    fig, axes = _figure(1, 3, (16.0, 4.8))
    colors = mpl.colormaps["tab10"](m.law_ids % 10)  # one colour per affine map of the first move
    polys = list(m.polygons)
    axes[0].add_collection(PolyCollection(polys, facecolors=colors, edgecolors="0.2", lw=0.6))
    axes[0].set_title(
        f"explicit MPC: {m.n_regions} critical regions,\n"
        f"{m.pieces} distinct affine laws of the first move (colours)"
    )
    m.relu_partition.plot(axes[1])
    axes[1].set_title(
        f"ReLU fit (2-16-16-1): {len(m.relu_partition)} linear regions\n"
        f"RMSE {m.fits['relu'].rmse:.2g}, max error {m.fits['relu'].max_error:.2g}"
        " on a 201 x 161 grid"
    )
    x1 = m.slice_x1
    axes[2].plot(x1, m.slice_u["mpc"], color="black", lw=2.4, alpha=0.5, label="MPC")
    for act, color in (("relu", "C0"), ("tanh", "C1")):
        label = f"{_LABELS[act]}, fitted (RMSE {m.fits[act].rmse:.2g})"
        axes[2].plot(x1, m.slice_u[act], color=color, lw=1.2, label=label)
    axes[2].set_xlabel("position x1 (-), with velocity x2 = 0.5")
    axes[2].set_ylabel("first move u*(x) (-)")
    axes[2].legend(frameon=False, fontsize=8)
    axes[2].set_title("a slice: the MPC law saturates at |u| = 1")
    for ax in axes[:2]:
        ax.set_xlim(-BOX[0], BOX[0])
        ax.set_ylim(-BOX[1], BOX[1])
        ax.set_xlabel("position x1 (-)")
        ax.set_ylabel("velocity x2 (-)")
    fig.suptitle(
        "Double integrator, |u| <= 1, horizon 5: explicit MPC (Bemporad et al. 2002) is a "
        "continuous PWL law; a ReLU network fits it with more, smaller regions"
    )
    return _save(fig, path)


def _outline(ax, polygons, **kw) -> None:
    from matplotlib.collections import PolyCollection

    ax.add_collection(PolyCollection(list(polygons), facecolors="none", **kw))


def _mpc_network(path: Path, m) -> Path:
    import matplotlib as mpl
    from matplotlib.collections import PolyCollection

    from ._mpc import BOX

    n, cmap = m.cert.network, mpl.colormaps["tab10"]
    fig, axes = _figure(1, 2, (13.0, 5.0))
    axes[0].add_collection(PolyCollection(list(m.polygons), facecolors=cmap(m.law_ids % 10),
                                          edgecolors="0.35", lw=0.5))  # fmt: skip
    _outline(axes[0], n.merged, edgecolors="black", lw=2.2, linestyles="--")
    axes[0].set_title(
        f"explicit MPC: {m.n_regions} critical regions (thin), coloured by first-move map;\n"
        f"dashed: the exact network's regions merged by map ({n.n_merged})"
    )
    faces = np.where(n.piece_ids[:, None] >= 0, cmap(np.maximum(n.piece_ids, 0) % 10), 1.0)
    axes[1].add_collection(PolyCollection(list(n.polygons), facecolors=faces, edgecolors="0.35",
                                          lw=0.5))  # fmt: skip
    _outline(axes[1], n.law_merged, edgecolors="black", lw=2.2, linestyles="--")
    axes[1].set_title(
        f"pwa_to_relu(law), {n.hidden_layers} hidden layers, {n.relus} ReLUs: "
        f"{n.n_regions} linear regions;\n"
        f"dashed: the law's regions merged by map ({n.n_law_merged}); same colour, same map"
    )
    for ax in axes:
        ax.set_xlim(-BOX[0], BOX[0])
        ax.set_ylim(-BOX[1], BOX[1])
        ax.set_xlabel("position x1 (-)")
        ax.set_ylabel("velocity x2 (-)")
    same = "coincide" if n.same_maps else "DIFFER"
    fig.suptitle(
        f"The MPC law as an exact ReLU network: merged by map, the two partitions {same} "
        f"(largest vertex distance {n.region_distance:.1e}; network error <= "
        f"{n.error_bound:.1e})"
    )
    return _save(fig, path)


def _mpc_invariant(path: Path, m) -> Path:
    from matplotlib.patches import Polygon, Rectangle

    from ._mpc import BOX

    c = m.cert
    fig, ax = _figure(1, 1, (9.0, 5.6))
    ax.add_patch(Rectangle(-BOX, *(2 * BOX), fill=False, ec="0.5", lw=1.0, ls=":",
                           label="state box"))  # fmt: skip
    label = f"certified invariant set alpha S, alpha = {c.law.alpha:.4f} (area {c.law.area:.2f})"
    ax.add_patch(Polygon(c.set_vertices, closed=True, fc=(0.85, 0.9, 1.0), ec="C0", lw=2.0,
                         label=label))  # fmt: skip
    label = f"Hu-Lin ellipse x'Px <= {c.ellipse_level:.3f} (area {c.ellipse_area:.2f})"
    ax.plot(*c.ellipse.T, color="C3", lw=2.0, label=label)
    for k, tr in enumerate(c.trajectories):
        ax.plot(*tr.T, "-", color="0.2", lw=0.7, ms=2.5, marker="o",
                label="closed loop of the law, from the boundary" if k == 0 else None)  # fmt: skip
    ax.plot(*c.trajectories[:, 0].T, "o", color="C1", ms=5, label="start points")
    ax.set_xlim(-1.05 * BOX[0], 1.05 * BOX[0])
    ax.set_ylim(-1.1 * BOX[1], 1.1 * BOX[1])
    ax.set_xlabel("position x1 (-)")
    ax.set_ylabel("velocity x2 (-)")
    ax.legend(frameon=True, fontsize=8, loc="lower left")
    ax.set_title(
        "Region of attraction of the explicit MPC law: alpha S is "
        f"{c.law.area / c.ellipse_area:.1f} x the ellipse;\n{c.trajectories.shape[0]} "
        f"simulated runs: largest gauge {c.gauge_max:.4f} (inside: <= alpha), largest |x| "
        f"after {c.trajectories.shape[1] - 1} steps {c.final_norm:.0e}"
    )
    return _save(fig, path)


def _margins(path: Path, ctrls: list) -> Path:
    fig, (left, right) = _figure(1, 2, (11.5, 4.6))
    circle = np.exp(1j * np.linspace(0, 2 * np.pi, 200))
    left.plot((-1 + circle).real, (-1 + circle).imag, color="0.6", lw=0.8, ls=":",
              label="|1 + L| = 1 (LQR stays outside)")  # fmt: skip
    for c in ctrls:  # the exact law wide underneath: the learned loops lie on it
        L, lw = c.margins.nyquist, 3.5 if c.name == "exact" else 1.2
        for sign, kw in ((1, {"label": _LABELS[c.name]}), (-1, {"ls": "--", "alpha": 0.5})):
            left.plot(L.real, sign * L.imag, color=_COLORS[c.name], lw=lw, **kw)
    left.plot([-1], [0], "x", color="red", ms=8, label="critical point -1")
    left.set_xlim(-3, 1.5)
    left.set_ylim(-3, 3)
    left.set_aspect("equal")
    left.set_xlabel("Re L(jw)")
    left.set_ylabel("Im L(jw)")
    left.set_title("Nyquist plot of L(s) = K_net (sI - A)^-1 B, broken at the input\n"
                   "(linearised at x_ref; dashed: negative frequencies)")  # fmt: skip
    left.legend(frameon=False, fontsize=8, loc="lower left")
    x = np.arange(len(ctrls))
    names = [_LABELS[c.name].split(" (")[0] for c in ctrls]
    right.bar(x - 0.2, [c.margins.phase_margin for c in ctrls], 0.4, label="phase margin (deg)")
    right.bar(x + 0.2, [c.margins.disk_phase_margin for c in ctrls], 0.4,
              label="disk phase margin (deg)")  # fmt: skip
    right.axhline(60.0, color="0.3", lw=0.8, ls="--", label="60 deg (LQR guarantee)")
    right.set_xticks(x, names, fontsize=8)
    right.set_ylabel("margin (deg)")
    alphas = ", ".join(f"{c.margins.disk_margin:.2f}" for c in ctrls)
    right.set_title(f"Phase and disk margins at the set point\n(disk margin alpha: {alphas})")
    right.set_ylim(0, 100)
    right.legend(frameon=False, fontsize=8, loc="upper center", ncol=3)
    return _save(fig, path)
