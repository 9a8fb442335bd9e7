"""Figures of the economics study (matplotlib ``Figure`` objects, no pyplot state).

Each figure draws one record of an ``EconomicsResult``: every curve is
already evaluated there, so nothing here solves, trains or measures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pwlmodels.plotting import save_figure

from ._accuracy_page import accuracy_figure

__all__: list[str] = []

_COLORS = {"egm": "black", "relu": "C3", "tanh": "C0", "fit_pwl": "C2", "interpolant": "C7"}
_STATE_NAMES = ("low income", "high income")
_LABELS = {
    "relu": "ReLU network",
    "tanh": "tanh network",
    "fit_pwl": "piecewise-linear least squares",
    "interpolant": "piecewise-linear interpolant",
}
_KINDS = {"solved": "solved by the Euler residual", "fit": "fitted to EGM"}


def _figure(rows: int, cols: int, size: tuple[float, float]):
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.subplots(rows, cols, squeeze=False)


def _state(s: int) -> str:
    return _STATE_NAMES[s] if s < len(_STATE_NAMES) else f"state {s}"


def policy_figure(r, path: Path, dpi: int = 150) -> Path:
    """c and V' with the kink marked, and both enlarged around it."""
    pc = r.policy
    lo, hi, k = pc.lo, pc.hi, pc.kink
    fig, ax = _figure(2, 2, (11.0, 8.0))
    for s in range(pc.c.shape[0]):
        color = f"C{s}"
        ax[0, 0].plot(pc.a, pc.c[s], color=color, lw=1.8, label=f"c(a, y) {_state(s)}")
        ax[1, 0].plot(pc.a, pc.dv[s], color=color, lw=1.8, label=f"V'(a, y) {_state(s)}")
    # enlarged: the kinked state only
    ax[0, 1].plot(pc.a_zoom, pc.c_zoom, color="C0", lw=1.8, label=f"c(a, y) {_state(0)}")
    ax[1, 1].plot(pc.a_zoom, pc.dv_zoom, color="C0", lw=1.8, label=f"V'(a, y) {_state(0)}")
    ax[0, 1].plot(pc.a_zoom, pc.cash_zoom, color="0.5", ls="--", lw=1,
                  label="c = x (all cash on hand)")  # fmt: skip
    for col in (0, 1):
        for row in (0, 1):
            ax[row, col].axvline(k, color="C3", ls=":", lw=1.2)
        ax[0, col].plot([k], [pc.c_kink], "o", color="C3", ms=6, label=f"kink a* = {k:.4f}")
        ax[1, col].plot([k], [pc.dv_kink], "o", color="C3", ms=6, label=f"kink a* = {k:.4f}")
        for row in (0, 1):
            ax[row, col].set_xlabel("assets a (multiples of mean income)")
    if np.isfinite(pc.echo):  # where today's savings land on a*: tomorrow's kink echoes here
        ax[0, 1].plot([pc.echo], [pc.c_echo], "s", color="C1", ms=5,
                      label=f"echo at {pc.echo:.4f}: a'(a) = a*")  # fmt: skip
        ax[1, 1].plot([pc.echo], [pc.dv_echo], "s", color="C1", ms=5,
                      label=f"echo at {pc.echo:.4f}: a'(a) = a*")  # fmt: skip
    for axis in ax.ravel():
        axis.legend(fontsize=8, frameon=False)
    ax[1, 0].set_yscale("log")
    ax[0, 0].set_ylabel("consumption c")
    ax[1, 0].set_ylabel("V'(a) = R u'(c) (log scale)")
    ax[0, 1].set_ylabel("consumption c (enlarged)")
    ax[1, 1].set_ylabel("V'(a) (enlarged)")
    ax[0, 0].set_title(f"Policy on [{lo:g}, q99.9 = {hi:.1f}] (q99.9: 99.9th percentile)")
    ax[0, 1].set_title(f"Enlarged (low income): slope R = {pc.R:g} below a*, less above")
    ax[1, 0].set_title("Marginal value V'(a): kinked at a* as well")
    ax[1, 1].set_title("Enlarged (low income): V' kinks at a*, V itself does not")
    fig.suptitle(
        "Default calibration: the borrowing constraint binds below a* in the low-income state"
    )
    return save_figure(fig, path, dpi=dpi)


def fits_figure(r, path: Path, dpi: int = 150) -> Path:
    """The fitted networks (first seed) around the kink, and their errors over the domain."""
    fig, ax = _figure(len(r.fits), 2, (11.0, 2.9 * len(r.fits) + 0.6))
    for row, fc in enumerate(r.fits):
        kink = fc.kink
        ax[row, 0].plot(fc.a, fc.target_values, color="black", lw=2.5, alpha=0.35,
                        label="EGM (target)")  # fmt: skip
        for act, values in fc.networks.items():
            ax[row, 0].plot(
                fc.a,
                values,
                color=_COLORS[act],
                lw=1.3,
                label=f"{_LABELS[act]} (seed {r.seeds[0]})",
            )
        ax[row, 0].axvline(kink, color="0.4", ls=":", lw=1)
        ax[row, 0].set_xlim(fc.a[0], fc.a[-1])
        for model, err in fc.errors.items():
            ax[row, 1].semilogy(
                fc.x, np.maximum(err, 1e-12), color=_COLORS[model], lw=0.9, label=_LABELS[model]
            )
        ax[row, 1].axvline(kink, color="0.4", ls=":", lw=1)
        name = {"c": "c(a, y)", "dV": "V'(a, y)", "V": "V(a, y), standardised"}[fc.target]
        ax[row, 0].set_title(
            f"{fc.calibration}: {name}, {_state(fc.state)}: near the kink at a = {kink:.4g}"
        )
        ax[row, 1].set_title(f"{fc.calibration}: |fit - EGM| over the domain (first seed)")
        ax[row, 0].set_ylabel(name)
        ax[row, 1].set_ylabel("absolute error (log scale)")
        for col in (0, 1):
            ax[row, col].set_xlabel("assets a")
            ax[row, col].legend(fontsize=8, frameon=False)
    fig.suptitle(
        f"ReLU and tanh networks of equal size (hidden {r.config.fit_hidden}) fitted to kinked "
        "targets"
    )
    return save_figure(fig, path, dpi=dpi)


def euler_figure(r, path: Path, dpi: int = 150) -> Path:
    """Unit-free Euler errors against assets: EGM and the networks solved by the Euler residual."""
    ec = r.euler
    seed = r.seeds[0]
    kinks, binds = r.kinks["default"], r.binds["default"]
    fig, ax = _figure(1, len(kinks), (12.0, 5.0))
    for s in range(len(kinks)):
        for key, errors in ec.errors.items():
            if key == "egm":
                label, color, ls = "EGM", "black", "-"
            else:
                act, kind = key.split("_")
                label = f"{_LABELS[act]}, {_KINDS[kind]} (seed {seed})"
                color, ls = _COLORS[act], "--" if kind == "fit" else "-"
            e = np.where(errors[s] > 0, errors[s], np.nan)  # exact zeros: not drawn
            ax[0, s].semilogy(ec.a, e, color=color, lw=0.9, ls=ls, label=label)
        if binds[s]:
            ax[0, s].axvline(kinks[s], color="0.4", ls=":", lw=1)
            ax[0, s].text(kinks[s], 0.02, f" a* = {kinks[s]:.4f}", fontsize=8,
                          transform=ax[0, s].get_xaxis_transform())  # fmt: skip
        ax[0, s].set_xscale("symlog", linthresh=0.1, linscale=0.5)
        ax[0, s].set_xlim(ec.lo, ec.hi)
        ax[0, s].set_xlabel("assets a (symmetric log scale, linear below 0.1)")
        ax[0, s].set_ylabel("|Euler error| (unit-free, log scale)")
        note = " (EGM: exactly 0 below a*, not drawn)" if binds[s] else ""
        ax[0, s].set_title(_state(s) + note)
    handles, labels = ax[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(3, len(labels)), fontsize=8,
               frameon=False)  # fmt: skip
    fig.suptitle("Euler equation errors (Judd 1992) over the ergodic range [-b, q99.9]")
    return save_figure(fig, path, dpi=dpi)


def distribution_figure(r, path: Path, dpi: int = 150) -> Path:
    """The stationary distribution (EGM) and the asset CDF under each approximate policy.

    Both panels and the consequence table read one EGM distribution, the one
    on the grid up to q99.9 that every policy is measured on.
    """
    dc = r.distribution
    lo, tol = dc.lo, dc.limit_tol
    fig, ax = _figure(1, 2, (12.0, 4.6))
    for s, density in enumerate(dc.density):
        ax[0, 0].stairs(density, dc.edges, color=f"C{s}", lw=1.4, label=f"density, {_state(s)}")
    for s, mass in enumerate(dc.mass_by_state):
        if mass > 0:
            ax[0, 0].plot([lo, lo], [0, mass * 10], color=f"C{s}", lw=4, alpha=0.6,
                          label=f"mass at the limit x 10, {_state(s)}: {mass:.4f}")  # fmt: skip
    ax[0, 0].set_xlabel("assets a")
    ax[0, 0].set_ylabel("density (mass at a = -b drawn as a bar)")
    ax[0, 0].set_title(
        f"EGM: mean assets {dc.mean_assets:.3f}, at the limit {dc.mass_binding:.4f}\n"
        f"(exactly; {dc.mass_at_limit:.4f} within {tol:g})"
    )
    ax[0, 0].legend(fontsize=8, frameon=False)
    for key, cc in dc.cdfs.items():
        model = key.split("/")[0]
        color = "black" if key == "egm" else _COLORS[model.split("_")[0]]
        ls = {"fit": "--", "kkt": ":"}.get(model.split("_")[-1], "-")
        name = "EGM" if key == "egm" else model
        label = f"{name}: at limit {cc.mass_binding:.4f} exactly, {cc.mass_at_limit:.4f} within tol"
        ax[0, 1].step(cc.grid, cc.cdf, where="post", color=color, ls=ls, lw=1.2, label=label)
    ax[0, 1].set_xlabel("assets a")
    ax[0, 1].set_ylabel("P(assets <= a)")
    ax[0, 1].set_title(
        f"CDF near the limit (first seed; tol = {tol:g}):\nthe jump at {lo:g} is the mass there"
    )
    ax[0, 1].legend(fontsize=7, frameon=False, loc="lower right")
    fig.suptitle("Stationary distribution (histogram method, Young 2010)")
    return save_figure(fig, path, dpi=dpi)


def wedge_figure(r, path: Path, dpi: int = 150) -> Path:
    """The wedge variant: V's concave kink at 0 and the corner a' = 0 in the policy.

    Both panels draw dense grids (2001 and 4001 points) that include every
    kink, so each bend drawn is one of the solution: the corner's ends and
    their echoes (asset levels whose savings land on the corner tomorrow).
    """
    wc = r.wedge
    fig, ax = _figure(1, 2, (12.0, 5.0))
    ax[0, 0].plot(wc.a, wc.v, color="C0", lw=2, label="V(a, low income)")
    for a, tangent, rate, slope, color in (
        (wc.a_left, wc.tangent_left, wc.R_debt, wc.slope_left, "C3"),
        (wc.a_right, wc.tangent_right, wc.R, wc.slope_right, "C2"),
    ):
        ax[0, 0].plot(a, tangent, color=color, ls="--", lw=1,
                      label=f"slope {rate:g} u'(c(0)) = {slope:.3f}")  # fmt: skip
    ax[0, 0].axvline(0, color="0.4", ls=":", lw=1)
    ax[0, 0].set_xlabel("assets a (multiples of mean income)")
    ax[0, 0].set_ylabel("value V (utils)")
    ax[0, 0].set_title("Value: a concave kink at a = 0")
    ax[0, 0].legend(fontsize=8, frameon=False)
    ends = wc.corner
    ax[0, 1].plot(wc.a2, wc.c, color="C0", lw=1.8, label="consumption c(a)")
    ax[0, 1].plot(wc.a2, wc.savings, color="C1", lw=1.8, label="savings a'(a)")
    for e in ends[np.isfinite(ends)]:
        ax[0, 1].axvline(e, color="C3", ls=":", lw=1)
    if np.isfinite(ends).all():
        ax[0, 1].axvspan(ends[0], ends[1], color="C3", alpha=0.12,
                         label=f"corner a' = 0 on [{ends[0]:.3f}, {ends[1]:.3f}]")  # fmt: skip
    if wc.echoes.size:
        ax[0, 1].plot(wc.echoes, wc.c_echoes, "v", color="C3", ms=6, mfc="none",
                      label="echo: a' lands on a corner end (a real kink)")  # fmt: skip
    ax[0, 1].axvline(0, color="0.4", ls=":", lw=1, label="a = 0 (the rate changes: a kink)")
    ax[0, 1].axhline(0, color="0.8", lw=0.8)
    ax[0, 1].set_xlim(wc.lo, wc.hi)
    ax[0, 1].set_xlabel("assets a (multiples of mean income)")
    ax[0, 1].set_ylabel("c and a' (multiples of mean income)")
    ax[0, 1].set_title("Policy: savings stay at the corner a' = 0 over an interval")
    low, top = float(wc.savings.min()), float(wc.c.max())  # the axis range, room for the legend
    ax[0, 1].set_ylim(low - 0.05 * (top - low), top + 0.5 * (top - low))
    ax[0, 1].legend(fontsize=8, loc="upper left", ncol=2, framealpha=0.95, edgecolor="none")
    fig.suptitle(
        f"Wedge variant (low income): borrow at {wc.R_debt:g}, save at {wc.R:g}, limit b ="
        f" {wc.borrowing_limit:g}\nV's slope drops from R_borrow u'(c) to R u'(c) at a = 0;"
        " c kinks at both ends of the corner and where savings land on them"
    )
    return save_figure(fig, path, dpi=dpi)


def all_figures(r, folder: Path, *, dpi: int = 150) -> list[Path]:
    """Every figure of an ``EconomicsResult`` ``r``, written into ``folder`` (PNG at ``dpi``)."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        policy_figure(r, folder / "policy.png", dpi),
        fits_figure(r, folder / "fits.png", dpi),
        euler_figure(r, folder / "euler.png", dpi),
        distribution_figure(r, folder / "distribution.png", dpi),
        wedge_figure(r, folder / "wedge.png", dpi),
        *([accuracy_figure(r.neural_solvers, folder / "neural_solvers.png", dpi)]
          if r.neural_solvers is not None else []),
    ]  # fmt: skip
