"""The curves the economics figures draw, evaluated on their grids while the study computes.

Each function reads the study's solutions, fits and policies (which hold
solvers and networks) and returns a frozen record of arrays from
:mod:`applications.economics._result`; nothing here draws.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._egm import _GENERATIONS, _kink_levels
from ._euler import euler_errors
from ._result import (
    CDFCurve,
    DistributionCurves,
    EulerCurves,
    FitCurves,
    PolicyCurves,
    WedgeCurves,
)

if TYPE_CHECKING:
    from ._egm import EGMSolution

__all__: list[str] = []

_ACTS = ("relu", "tanh")


def policy_curves(st) -> PolicyCurves:
    """c and V' on [-b, q99.9] in every state, and enlarged around the low-income kink."""
    sol, dist = st.solutions["default"], st.dists["default"]
    p = sol.params
    lo, hi = 0.0 - p.borrowing_limit, dist.quantile(0.999)
    k = float(sol.kinks[0])
    full = np.linspace(lo, hi, 801)
    zoom = np.linspace(lo, lo + 5 * (k - lo), 401)
    states = range(p.n_states)
    echo = _echo(sol, k)  # where today's savings land on a*: tomorrow's kink echoes here
    inside = lo < echo < zoom[-1]
    nan = float("nan")
    return PolicyCurves(
        lo=float(lo), hi=float(hi), kink=k, R=float(p.R), a=full,
        c=np.stack([sol.policy(full, s) for s in states]),
        dv=np.stack([sol.marginal_value(full, s) for s in states]),
        a_zoom=zoom, c_zoom=sol.policy(zoom, 0), dv_zoom=sol.marginal_value(zoom, 0),
        cash_zoom=p.cash(zoom, 0) + p.borrowing_limit,
        c_kink=float(sol.policy(np.array([k]), 0)[0]),
        dv_kink=float(sol.marginal_value(np.array([k]), 0)[0]),
        echo=float(echo) if inside else nan,
        c_echo=float(sol.policy(np.array([echo]), 0)[0]) if inside else nan,
        dv_echo=float(sol.marginal_value(np.array([echo]), 0)[0]) if inside else nan,
    )  # fmt: skip


def _echo(sol: EGMSolution, k: float) -> float:
    """The asset level whose low-income savings land on the kink ``k`` (NaN if none)."""
    from scipy.optimize import brentq

    top = float(sol.ergodic_max)
    f = lambda a: float(sol.savings(np.array(a), 0)) - k  # noqa: E731
    return brentq(f, k, top) if f(k) < 0 < f(top) else float("nan")


def fit_curves(st) -> tuple[FitCurves, ...]:
    """Every kinked fit with kept networks: the first seed's curves near the kink, errors."""
    out = []
    for (calibration, target, s), fit in st.fits.items():
        if fit["kink"] is None or not fit["nets"]:
            continue
        lo, hi, kink, w = fit["lo"], fit["hi"], fit["kink"], fit["window"]
        half = (hi - lo) / 2
        a = np.linspace(max(lo, kink - 6 * w), kink + 6 * w, 301)
        curves = fit["comparison"].curves
        errors = {m: np.abs(curves[m] - curves["target"]) for m in ("relu", "tanh", "fit_pwl")}
        out.append(
            FitCurves(
                calibration=calibration,
                target=target,
                state=int(s),
                kink=float(kink),
                a=a,
                target_values=np.asarray(fit["target_fn"](a), dtype=float),
                networks={act: net_fn(a) for act, net_fn in fit["nets"].items()},
                x=lo + (curves["x"] + 1) * half,
                errors=errors,
            )
        )
    return tuple(out)


def euler_curves(st) -> EulerCurves:
    """|Euler errors| of EGM and the first seed's solved and fitted networks, every state."""
    sol, dist = st.solutions["default"], st.dists["default"]
    p = sol.params
    lo, hi = 0.0 - p.borrowing_limit, dist.quantile(0.999)
    t = np.linspace(0.0, 1.0, 1001)
    a = np.unique(np.concatenate([lo + (hi - lo) * t, lo + (hi - lo) * t**3]))
    seed = st.seeds[0]
    policies = {"egm": sol.policy}
    for act in _ACTS:
        for kind in ("solved", "fit"):
            key = f"{act}_{kind}/{seed}"
            if key in st.policies:
                policies[f"{act}_{kind}"] = st.policies[key]
    errors = {
        name: np.stack([np.abs(euler_errors(policy, p, a, s)) for s in range(p.n_states)])
        for name, policy in policies.items()
    }
    return EulerCurves(lo=float(lo), hi=float(hi), a=a, errors=errors)


def distribution_curves(st) -> DistributionCurves:
    """EGM's histogram density and mass at the limit; the first seed's CDFs near the limit.

    Both read the one EGM distribution that the consequence table reads, the
    one on the grid up to q99.9 that every policy is measured on.
    """
    dist = st.policy_dists["egm"]
    p = dist.params
    lo, hi = 0.0 - p.borrowing_limit, st.dists["default"].quantile(0.999)
    edges = np.linspace(lo, hi, 121)
    inside = dist.grid > lo + dist.limit_tol
    density = np.stack([
        np.histogram(dist.grid[inside], bins=edges, weights=dist.pmf[s, inside])[0]
        / np.diff(edges)
        for s in range(p.n_states)
    ])  # fmt: skip
    at = dist.grid <= lo + dist.limit_tol
    seed = st.seeds[0]
    top = min(hi, 1.5)
    cdfs = {}
    for key, d in st.policy_dists.items():
        if (key != "egm" and not key.endswith(f"/{seed}")) or "supervised" in key:
            continue
        cdf = np.cumsum(d.pmf.sum(axis=0))
        keep = d.grid <= top
        cdfs[key] = CDFCurve(
            grid=d.grid[keep], cdf=cdf[keep], mass_binding=float(d.mass_binding),
            mass_at_limit=float(d.mass_at_limit),
        )  # fmt: skip
    return DistributionCurves(
        lo=float(lo), hi=float(hi), limit_tol=float(dist.limit_tol),
        mean_assets=float(dist.mean_assets), mass_binding=float(dist.mass_binding),
        mass_at_limit=float(dist.mass_at_limit), edges=edges, density=density,
        mass_by_state=dist.pmf[:, at].sum(axis=1), cdfs=cdfs,
    )  # fmt: skip


def _policy_kinks(sol: EGMSolution, s: int, lo: float, hi: float) -> np.ndarray:
    """The asset levels in (lo, hi) where ``c(., s)`` really kinks (slope change over 5 %).

    The candidates are EGM's own kink levels (the constraint, the corner and the
    levels that save into them, pooled over the states); each is kept when the
    state's one-sided slopes of ``c`` differ there by over 5 % of the largest change.
    """
    p = sol.params
    levels = _kink_levels(p, sol.post_grid, sol.cash_nodes, sol.a_max, _GENERATIONS, 10**6)
    levels = levels[(levels > lo) & (levels < hi)]
    if not levels.size:
        return levels
    d = 1e-7
    c = sol.policy(levels[:, None] + np.array([-d, 0.0, d]), s)
    jump = np.abs((c[:, 2] - 2 * c[:, 1] + c[:, 0]) / d)
    return levels[jump > 0.05 * jump.max()]


def wedge_curves(st) -> WedgeCurves:
    """The wedge variant (low income): V with its one-sided tangents at 0, c and a' near 0.

    Both are evaluated on dense grids (2001 and 4001 points) that include
    every kink, so each bend drawn is one of the solution: the corner's ends and
    their echoes (asset levels whose savings land on the corner tomorrow).
    """
    sol = st.solutions["wedge"]
    p = sol.params
    s = 0
    a = np.union1d(np.linspace(-0.4, 0.4, 2001), [0.0])
    v0 = float(sol.value(np.array(0.0), s))
    c0 = float(sol.policy(np.array(0.0), s))
    mu = float(p.u_prime(c0))
    left, right = a <= 0, a >= 0
    ends = np.asarray(sol.corner_kinks[s], dtype=float)
    lo, hi = -0.15, max(0.35, float(np.nanmax(ends)) * 2)
    kinks = _policy_kinks(sol, s, lo, hi)
    a2 = np.union1d(np.linspace(lo, hi, 4001), kinks)
    echoes = kinks[np.all(np.abs(kinks[:, None] - ends[None, :]) > 1e-9, axis=1)]
    return WedgeCurves(
        R_debt=float(p.R_debt), R=float(p.R), borrowing_limit=float(p.borrowing_limit),
        a=a, v=sol.value(a, s), a_left=a[left], tangent_left=v0 + p.R_debt * mu * a[left],
        a_right=a[right], tangent_right=v0 + p.R * mu * a[right],
        slope_left=float(p.R_debt * mu), slope_right=float(p.R * mu), lo=lo, hi=hi, a2=a2,
        c=sol.policy(a2, s), savings=sol.savings(a2, s), corner=ends, echoes=echoes,
        c_echoes=sol.policy(echoes, s) if echoes.size else np.empty(0),
    )  # fmt: skip
