"""The economics page's general-equilibrium part: Aiyagari's r*, its grid check, its cross-check."""

from __future__ import annotations

import importlib.util
import math
import time
import warnings

from ._aiyagari import AiyagariParams, solve_aiyagari

__all__: list[str] = []

#: The calibration of the page: Aiyagari (1994)'s rho = 0.9, sigma = 0.2, 7 states; gamma 2.
PAGE_PARAMS = AiyagariParams()


def aiyagari_part(ns: tuple[int, ...], check: bool) -> dict:
    """Solve the page's economy at each grid size in ``ns`` (the last is reported) and,
    with ``check``, clear the same economy with sequence-jacobian's household.

    Returns only numbers (and tuples of them): ``r_by_n`` ((n, r) pairs), the
    last solve's ``r``, ``wage``, ``capital``, ``excess``, ``gini``,
    ``share_at_limit``, ``mpc_by_quintile``, ``mean_mpc``, ``evaluations``,
    ``ssj_r`` (NaN when not run), ``seconds`` and ``ssj_seconds``.
    """
    start = time.perf_counter()
    r_by_n, eq = [], None
    for n in ns:
        eq = solve_aiyagari(PAGE_PARAMS, n=n)
        r_by_n.append((n, eq.r))
    seconds = time.perf_counter() - start
    ssj_r, ssj_seconds = math.nan, 0.0
    if check and importlib.util.find_spec("sequence_jacobian") is not None:
        from ._aiyagari_check import ssj_r_star

        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numba / numpy deprecation chatter
            ssj_r = ssj_r_star(PAGE_PARAMS, n_a=max(ns))
        ssj_seconds = time.perf_counter() - start
    return {
        "r_by_n": tuple(r_by_n),
        "r": eq.r,
        "wage": eq.wage,
        "capital": eq.capital,
        "excess": eq.excess,
        "gini": eq.gini,
        "share_at_limit": eq.share_at_limit,
        "mpc_by_quintile": tuple(float(v) for v in eq.mpc_by_quintile),
        "mean_mpc": eq.distribution.mean_mpc,
        "evaluations": eq.evaluations,
        "ssj_r": ssj_r,
        "seconds": seconds,
        "ssj_seconds": ssj_seconds,
    }


def aiyagari_rows(ge: dict) -> list[dict]:
    """The part's numbers as rows of the study's table (part "aiyagari")."""

    def row(metric: str, value: float, setting: str = "-") -> dict:
        return {"part": "aiyagari", "calibration": "aiyagari_ge", "target": "all", "state": -1,
                "model": "egm", "seed": -1, "setting": setting, "metric": metric,
                "value": float(value)}  # fmt: skip

    rows = [row("r_star", r, f"n={n}") for n, r in ge["r_by_n"]]
    for key in ("wage", "capital", "excess", "gini", "share_at_limit", "mean_mpc"):
        rows.append(row(key, ge[key]))
    rows += [row("mpc", v, f"quintile={k + 1}") for k, v in enumerate(ge["mpc_by_quintile"])]
    if not math.isnan(ge["ssj_r"]):
        rows.append(row("r_star", ge["ssj_r"], "sequence-jacobian") | {"model": "ssj"})
    return rows


def aiyagari_text(ge: dict) -> str:
    """The section's general-equilibrium paragraph."""
    p = PAGE_PARAMS
    rs = ", ".join(f"{100 * r:.5f} % (n = {n})" for n, r in ge["r_by_n"])
    last_change = (
        f"; the last doubling moved it {1e4 * abs(ge['r_by_n'][-1][1] - ge['r_by_n'][-2][1]):.3f} "
        "bp"
        if len(ge["r_by_n"]) > 1
        else ""
    )
    if math.isnan(ge["ssj_r"]):
        check = "The cross-check with sequence-jacobian was not run (quick run, or not installed)."
    else:
        check = (
            f"Cross-check: the same economy with sequence-jacobian's household block (its own "
            f"EGM, grid and distribution; Auclert et al. 2021) cleared by the same root finder "
            f"gives r* = {100 * ge['ssj_r']:.5f} %, {1e4 * (ge['r'] - ge['ssj_r']):+.3f} bp "
            f"from ours (`benchmarks/bench_aiyagari.py` has both at every grid size)."
        )
    mpc = ", ".join(f"{v:.3f}" for v in ge["mpc_by_quintile"])
    return f"""### General equilibrium (Aiyagari 1994)

The same households in a production economy: `solve_aiyagari(AiyagariParams())` (beta \
{p.beta:g}, gamma {p.gamma:g}, log efficiency AR(1) with rho {p.rho:g} and unconditional \
standard deviation {p.sigma:g} by Rouwenhorst on {p.n_states} states, mean efficiency 1; \
Cobb-Douglas firm with alpha {p.alpha:g}, delta {p.delta:g}; borrowing limit \
{p.borrowing_limit:g}). Capital supply is the mean of the stationary asset distribution, \
demand (alpha / (r + delta))^(1 / (1 - alpha)); Brent's method clears the market to 1e-7 in \
r ({ge["evaluations"]} household solves at the last grid size; {ge["seconds"]:.1f} s for all \
the grid sizes below). \
r* = {rs}{last_change}. At r* = {100 * ge["r"]:.4f} %: wage {ge["wage"]:.4f}, capital \
{ge["capital"]:.4f} (capital-output ratio {ge["capital"] ** (1 - p.alpha):.3f}; supply minus \
demand {ge["excess"]:.1e}), wealth Gini {ge["gini"]:.3f}, share at the borrowing limit \
(hand-to-mouth) {ge["share_at_limit"]:.4f}, MPC out of a windfall by wealth quintile (poorest \
first) {mpc} (mean {ge["mean_mpc"]:.3f}). {check}
"""
