"""Figures of the economics study (matplotlib ``Figure`` objects, no pyplot state)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pwlmodels.plotting import save_figure

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


def policy_figure(st, path: Path, dpi: int = 150) -> Path:
    """c and V' with the kink marked, and both enlarged around it."""
    sol, dist = st.solutions["default"], st.dists["default"]
    p = sol.params
    lo, hi = 0.0 - p.borrowing_limit, dist.quantile(0.999)
    k = float(sol.kinks[0])
    full = np.linspace(lo, hi, 801)
    zoom = np.linspace(lo, lo + 5 * (k - lo), 401)
    fig, ax = _figure(2, 2, (11.0, 8.0))
    for col, a in enumerate((full, zoom)):
        for s in range(p.n_states) if col == 0 else (0,):  # enlarged: the kinked state only
            color = f"C{s}"
            ax[0, col].plot(a, sol.policy(a, s), color=color, lw=1.8, label=f"c(a, y) {_state(s)}")
            ax[1, col].plot(a, sol.marginal_value(a, s), color=color, lw=1.8,
                            label=f"V'(a, y) {_state(s)}")  # fmt: skip
        if col == 1:
            cash = p.cash(a, 0) + p.borrowing_limit
            ax[0, col].plot(a, cash, color="0.5", ls="--", lw=1, label="c = x (all cash on hand)")
        for row in (0, 1):
            ax[row, col].axvline(k, color="C3", ls=":", lw=1.2)
        ax[0, col].plot([k], sol.policy(np.array([k]), 0), "o", color="C3", ms=6,
                        label=f"kink a* = {k:.4f}")  # fmt: skip
        ax[1, col].plot([k], sol.marginal_value(np.array([k]), 0), "o", color="C3", ms=6,
                        label=f"kink a* = {k:.4f}")  # fmt: skip
        for row in (0, 1):
            ax[row, col].set_xlabel("assets a (multiples of mean income)")
    echo = _echo(sol, k)  # where today's savings land on a*: tomorrow's kink echoes here
    if lo < echo < zoom[-1]:
        ax[0, 1].plot([echo], sol.policy(np.array([echo]), 0), "s", color="C1", ms=5,
                      label=f"echo at {echo:.4f}: a'(a) = a*")  # fmt: skip
        ax[1, 1].plot([echo], sol.marginal_value(np.array([echo]), 0), "s", color="C1", ms=5,
                      label=f"echo at {echo:.4f}: a'(a) = a*")  # fmt: skip
    for axis in ax.ravel():
        axis.legend(fontsize=8, frameon=False)
    ax[1, 0].set_yscale("log")
    ax[0, 0].set_ylabel("consumption c")
    ax[1, 0].set_ylabel("V'(a) = R u'(c) (log scale)")
    ax[0, 1].set_ylabel("consumption c (enlarged)")
    ax[1, 1].set_ylabel("V'(a) (enlarged)")
    ax[0, 0].set_title(f"Policy on [{lo:g}, q99.9 = {hi:.1f}] (q99.9: 99.9th percentile)")
    ax[0, 1].set_title(f"Enlarged (low income): slope R = {p.R:g} below a*, less above")
    ax[1, 0].set_title("Marginal value V'(a): kinked at a* as well")
    ax[1, 1].set_title("Enlarged (low income): V' kinks at a*, V itself does not")
    fig.suptitle(
        "Default calibration: the borrowing constraint binds below a* in the low-income state"
    )
    return save_figure(fig, path, dpi=dpi)


def _echo(sol, k: float) -> float:
    """The asset level whose low-income savings land on the kink ``k`` (NaN if none)."""
    from scipy.optimize import brentq

    top = float(sol.ergodic_max)
    f = lambda a: float(sol.savings(np.array(a), 0)) - k  # noqa: E731
    return brentq(f, k, top) if f(k) < 0 < f(top) else float("nan")


def fits_figure(st, path: Path, dpi: int = 150) -> Path:
    """The fitted networks (first seed) around the kink, and their errors over the domain."""
    keys = [key for key, fit in st.fits.items() if fit["kink"] is not None and fit["nets"]]
    fig, ax = _figure(len(keys), 2, (11.0, 2.9 * len(keys) + 0.6))
    for row, key in enumerate(keys):
        calibration, target, s = key
        fit = st.fits[key]
        lo, hi, kink, w = fit["lo"], fit["hi"], fit["kink"], fit["window"]
        half = (hi - lo) / 2
        f = fit["target_fn"]
        a = np.linspace(max(lo, kink - 6 * w), kink + 6 * w, 301)
        ax[row, 0].plot(a, f(a), color="black", lw=2.5, alpha=0.35, label="EGM (target)")
        for act, net_fn in fit["nets"].items():
            ax[row, 0].plot(
                a,
                net_fn(a),
                color=_COLORS[act],
                lw=1.3,
                label=f"{_LABELS[act]} (seed {st.seeds[0]})",
            )
        ax[row, 0].axvline(kink, color="0.4", ls=":", lw=1)
        ax[row, 0].set_xlim(a[0], a[-1])
        curves = fit["comparison"].curves
        x = lo + (curves["x"] + 1) * half
        for model in ("relu", "tanh", "fit_pwl"):
            err = np.abs(curves[model] - curves["target"])
            ax[row, 1].semilogy(
                x, np.maximum(err, 1e-12), color=_COLORS[model], lw=0.9, label=_LABELS[model]
            )
        ax[row, 1].axvline(kink, color="0.4", ls=":", lw=1)
        name = {"c": "c(a, y)", "dV": "V'(a, y)", "V": "V(a, y), standardised"}[target]
        ax[row, 0].set_title(f"{calibration}: {name}, {_state(s)}: near the kink at a = {kink:.4g}")
        ax[row, 1].set_title(f"{calibration}: |fit - EGM| over the domain (first seed)")
        ax[row, 0].set_ylabel(name)
        ax[row, 1].set_ylabel("absolute error (log scale)")
        for col in (0, 1):
            ax[row, col].set_xlabel("assets a")
            ax[row, col].legend(fontsize=8, frameon=False)
    fig.suptitle(
        f"ReLU and tanh networks of equal size (hidden {st.cfg.fit_hidden}) fitted to kinked "
        "targets"
    )
    return save_figure(fig, path, dpi=dpi)


def euler_figure(st, path: Path, dpi: int = 150) -> Path:
    """Unit-free Euler errors against assets: EGM and the networks solved by the Euler residual."""
    from ._euler import euler_errors

    sol, dist = st.solutions["default"], st.dists["default"]
    p = sol.params
    lo, hi = 0.0 - p.borrowing_limit, dist.quantile(0.999)
    t = np.linspace(0.0, 1.0, 1001)
    a = np.unique(np.concatenate([lo + (hi - lo) * t, lo + (hi - lo) * t**3]))
    seed = st.seeds[0]
    lines = [("EGM", sol.policy, "black", "-")]
    for act in ("relu", "tanh"):
        for kind in ("solved", "fit"):
            key = f"{act}_{kind}/{seed}"
            if key in st.policies:
                label = f"{_LABELS[act]}, {_KINDS[kind]} (seed {seed})"
                ls = "--" if kind == "fit" else "-"
                lines.append((label, st.policies[key], _COLORS[act], ls))
    fig, ax = _figure(1, p.n_states, (12.0, 5.0))
    for s in range(p.n_states):
        for label, policy, color, ls in lines:
            e = np.abs(euler_errors(policy, p, a, s))
            e = np.where(e > 0, e, np.nan)  # exact zeros (binding and satisfied): not drawn
            ax[0, s].semilogy(a, e, color=color, lw=0.9, ls=ls, label=label)
        if sol.binds[s]:
            ax[0, s].axvline(sol.kinks[s], color="0.4", ls=":", lw=1)
            ax[0, s].text(sol.kinks[s], 0.02, f" a* = {sol.kinks[s]:.4f}", fontsize=8,
                          transform=ax[0, s].get_xaxis_transform())  # fmt: skip
        ax[0, s].set_xscale("symlog", linthresh=0.1, linscale=0.5)
        ax[0, s].set_xlim(lo, hi)
        ax[0, s].set_xlabel("assets a (symmetric log scale, linear below 0.1)")
        ax[0, s].set_ylabel("|Euler error| (unit-free, log scale)")
        note = " (EGM: exactly 0 below a*, not drawn)" if sol.binds[s] else ""
        ax[0, s].set_title(_state(s) + note)
    handles, labels = ax[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(3, len(labels)), fontsize=8,
               frameon=False)  # fmt: skip
    fig.suptitle("Euler equation errors (Judd 1992) over the ergodic range [-b, q99.9]")
    return save_figure(fig, path, dpi=dpi)


def distribution_figure(st, path: Path, dpi: int = 150) -> Path:
    """The stationary distribution (EGM) and the asset CDF under each approximate policy.

    Both panels and the consequence table read one EGM distribution, the one
    on the grid up to q99.9 that every policy is measured on.
    """
    dist = st.policy_dists["egm"]
    p = dist.params
    lo, hi = 0.0 - p.borrowing_limit, st.dists["default"].quantile(0.999)
    fig, ax = _figure(1, 2, (12.0, 4.6))
    edges = np.linspace(lo, hi, 121)
    for s in range(p.n_states):
        inside = dist.grid > lo + dist.limit_tol
        hist, _ = np.histogram(dist.grid[inside], bins=edges, weights=dist.pmf[s, inside])
        ax[0, 0].stairs(
            hist / np.diff(edges), edges, color=f"C{s}", lw=1.4, label=f"density, {_state(s)}"
        )
    at = dist.grid <= lo + dist.limit_tol
    mass = dist.pmf[:, at].sum(axis=1)
    for s in range(p.n_states):
        if mass[s] > 0:
            ax[0, 0].plot([lo, lo], [0, mass[s] * 10], color=f"C{s}", lw=4, alpha=0.6,
                          label=f"mass at the limit x 10, {_state(s)}: {mass[s]:.4f}")  # fmt: skip
    ax[0, 0].set_xlabel("assets a")
    ax[0, 0].set_ylabel("density (mass at a = -b drawn as a bar)")
    ax[0, 0].set_title(
        f"EGM: mean assets {dist.mean_assets:.3f}, at the limit {dist.mass_binding:.4f}\n"
        f"(exactly; {dist.mass_at_limit:.4f} within {dist.limit_tol:g})"
    )
    ax[0, 0].legend(fontsize=8, frameon=False)
    seed = st.seeds[0]
    top = min(hi, 1.5)
    for key, d in st.policy_dists.items():
        if (key != "egm" and not key.endswith(f"/{seed}")) or "supervised" in key:
            continue
        model = key.split("/")[0]
        cdf = np.cumsum(d.pmf.sum(axis=0))
        color = "black" if key == "egm" else _COLORS[model.split("_")[0]]
        ls = {"fit": "--", "kkt": ":"}.get(model.split("_")[-1], "-")
        name = "EGM" if key == "egm" else model
        label = f"{name}: at limit {d.mass_binding:.4f} exactly, {d.mass_at_limit:.4f} within tol"
        keep = d.grid <= top
        ax[0, 1].step(
            d.grid[keep], cdf[keep], where="post", color=color, ls=ls, lw=1.2, label=label
        )
    ax[0, 1].set_xlabel("assets a")
    ax[0, 1].set_ylabel("P(assets <= a)")
    ax[0, 1].set_title(
        f"CDF near the limit (first seed; tol = {dist.limit_tol:g}):\nthe jump at {lo:g} is the "
        "mass there"
    )
    ax[0, 1].legend(fontsize=7, frameon=False, loc="lower right")
    fig.suptitle("Stationary distribution (histogram method, Young 2010)")
    return save_figure(fig, path, dpi=dpi)


def _policy_kinks(sol, s: int, lo: float, hi: float) -> np.ndarray:
    """The asset levels in (lo, hi) where ``c(., s)`` really kinks (slope change over 5 %).

    The candidates are EGM's own kink levels (the constraint, the corner and the
    levels that save into them, pooled over the states); each is kept when the
    state's one-sided slopes of ``c`` differ there by over 5 % of the largest change.
    """
    from ._egm import _GENERATIONS, _kink_levels

    p = sol.params
    levels = _kink_levels(p, sol.post_grid, sol.cash_nodes, sol.a_max, _GENERATIONS, 10**6)
    levels = levels[(levels > lo) & (levels < hi)]
    if not levels.size:
        return levels
    d = 1e-7
    c = sol.policy(levels[:, None] + np.array([-d, 0.0, d]), s)
    jump = np.abs((c[:, 2] - 2 * c[:, 1] + c[:, 0]) / d)
    return levels[jump > 0.05 * jump.max()]


def wedge_figure(st, path: Path, dpi: int = 150) -> Path:
    """The wedge variant: V's concave kink at 0 and the corner a' = 0 in the policy.

    Both panels are evaluated on dense grids (2001 and 4001 points) that include
    every kink, so each bend drawn is one of the solution: the corner's ends and
    their echoes (asset levels whose savings land on the corner tomorrow).
    """
    sol = st.solutions["wedge"]
    p = sol.params
    s = 0
    a = np.union1d(np.linspace(-0.4, 0.4, 2001), [0.0])
    fig, ax = _figure(1, 2, (12.0, 5.0))
    v = sol.value(a, s)
    v0 = float(sol.value(np.array(0.0), s))
    c0 = float(sol.policy(np.array(0.0), s))
    mu = float(p.u_prime(c0))
    ax[0, 0].plot(a, v, color="C0", lw=2, label="V(a, low income)")
    for rate, side, color in ((p.R_debt, a <= 0, "C3"), (p.R, a >= 0, "C2")):
        ax[0, 0].plot(a[side], v0 + rate * mu * a[side], color=color, ls="--", lw=1,
                      label=f"slope {rate:g} u'(c(0)) = {rate * mu:.3f}")  # fmt: skip
    ax[0, 0].axvline(0, color="0.4", ls=":", lw=1)
    ax[0, 0].set_xlabel("assets a (multiples of mean income)")
    ax[0, 0].set_ylabel("value V (utils)")
    ax[0, 0].set_title("Value: a concave kink at a = 0")
    ax[0, 0].legend(fontsize=8, frameon=False)
    ends = sol.corner_kinks[s]
    lo, hi = -0.15, max(0.35, float(np.nanmax(ends)) * 2)
    kinks = _policy_kinks(sol, s, lo, hi)
    a2 = np.union1d(np.linspace(lo, hi, 4001), kinks)
    ax[0, 1].plot(a2, sol.policy(a2, s), color="C0", lw=1.8, label="consumption c(a)")
    ax[0, 1].plot(a2, sol.savings(a2, s), color="C1", lw=1.8, label="savings a'(a)")
    for e in ends[np.isfinite(ends)]:
        ax[0, 1].axvline(e, color="C3", ls=":", lw=1)
    if np.isfinite(ends).all():
        ax[0, 1].axvspan(ends[0], ends[1], color="C3", alpha=0.12,
                         label=f"corner a' = 0 on [{ends[0]:.3f}, {ends[1]:.3f}]")  # fmt: skip
    echoes = kinks[np.all(np.abs(kinks[:, None] - ends[None, :]) > 1e-9, axis=1)]
    if echoes.size:
        ax[0, 1].plot(echoes, sol.policy(echoes, s), "v", color="C3", ms=6, mfc="none",
                      label="echo: a' lands on a corner end (a real kink)")  # fmt: skip
    ax[0, 1].axvline(0, color="0.4", ls=":", lw=1, label="a = 0 (the rate changes: a kink)")
    ax[0, 1].axhline(0, color="0.8", lw=0.8)
    ax[0, 1].set_xlim(lo, hi)
    ax[0, 1].set_xlabel("assets a (multiples of mean income)")
    ax[0, 1].set_ylabel("c and a' (multiples of mean income)")
    ax[0, 1].set_title("Policy: savings stay at the corner a' = 0 over an interval")
    low, top = float(sol.savings(a2, s).min()), float(sol.policy(a2, s).max())
    ax[0, 1].set_ylim(low - 0.05 * (top - low), top + 0.5 * (top - low))  # room for the legend
    ax[0, 1].legend(fontsize=8, loc="upper left", ncol=2, framealpha=0.95, edgecolor="none")
    fig.suptitle(
        f"Wedge variant (low income): borrow at {p.R_debt:g}, save at {p.R:g}, limit b ="
        f" {p.borrowing_limit:g}\nV's slope drops from R_borrow u'(c) to R u'(c) at a = 0;"
        " c kinks at both ends of the corner and where savings land on them"
    )
    return save_figure(fig, path, dpi=dpi)


def all_figures(st, folder: Path, *, dpi: int = 150) -> list[Path]:
    """Every figure of the study, written into ``folder`` (PNG at ``dpi``)."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        policy_figure(st, folder / "policy.png", dpi),
        fits_figure(st, folder / "fits.png", dpi),
        euler_figure(st, folder / "euler.png", dpi),
        distribution_figure(st, folder / "distribution.png", dpi),
        wedge_figure(st, folder / "wedge.png", dpi),
    ]
