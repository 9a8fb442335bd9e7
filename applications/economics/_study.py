"""The economics study: calibrations, EGM ground truth, ReLU/tanh fits and solvers, consequences.

:func:`compute` runs every part and returns a frozen
:class:`~applications.economics._result.EconomicsResult` of numbers;
:mod:`applications.economics._section` writes it up and
:mod:`applications.economics._figures` draws it, neither computing anything.
Rows of the tidy table are ``part, calibration, target, state, model, seed,
setting, metric, value`` (``state = -1``: all states; ``seed = -1``:
deterministic; ``setting = "-"``: none); a metric that is undefined (no kink,
a model without one) has no row. Wall times go to ``timings`` (same
columns), not to the table, so that a rerun on the CPU gives an identical table.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from pwlmodels import compare_activations, evaluate, resolve_device

from .._checks import one_thread
from ._accuracy_page import load_accuracy, summarize_accuracy
from ._config import Config, check_seeds
from ._curves import distribution_curves, euler_curves, fit_curves, policy_curves, wedge_curves
from ._dist import StationaryDistribution, stationary_distribution
from ._egm import EGMSolution, solve_egm
from ._euler import ergodic_probe, euler_errors
from ._ge import aiyagari_part, aiyagari_rows
from ._model import IFPParams
from ._net import asset_input, fit_to_policy, solve_network
from ._result import EconomicsResult
from ._warm_page import warm_part

__all__ = ["compute"]

_DATA_SEED = 20240607  # the training inputs of the fits (the same for every network)
_ACTS = ("relu", "tanh")
COLUMNS = ["part", "calibration", "target", "state", "model", "seed", "setting", "metric", "value"]


COMPARED = "default"  # the calibration whose fitted and solved policies are compared with EGM


def calibrations() -> dict[str, IFPParams]:
    """The calibrations of the study, by name."""
    return {
        "default": IFPParams(),
        "iid": IFPParams(beta=0.93, transition=((0.5, 0.5), (0.5, 0.5))),
        "aiyagari": IFPParams.from_ar1(0.6, 0.2, 7, "tauchen"),
        "rouwenhorst_0.9": IFPParams.from_ar1(0.9, 0.2, 7, "rouwenhorst"),
        "tauchen_0.9": IFPParams.from_ar1(0.9, 0.2, 7, "tauchen"),
        "wedge": IFPParams(R_borrow=1.08, borrowing_limit=1.0),
    }


@dataclass
class Study:
    """The study's working state while :func:`compute` runs (solvers, networks, policies).

    Mutable and private: :func:`compute` turns it into an ``EconomicsResult``.
    """

    cfg: Config
    seeds: tuple[int, ...]
    device: str
    rows: list[dict] = field(default_factory=list)
    timings: list[dict] = field(default_factory=list)  # wall times: kept out of the table
    solutions: dict[str, EGMSolution] = field(default_factory=dict)
    dists: dict[str, StationaryDistribution] = field(default_factory=dict)  # up to 1.25 x top
    # the distribution whose moments are reported: up to q99.9 for COMPARED, else = dists
    reported: dict[str, StationaryDistribution] = field(default_factory=dict)
    fits: dict[tuple[str, str, int], dict] = field(default_factory=dict)
    policies: dict[str, Callable] = field(default_factory=dict)
    policy_dists: dict[str, StationaryDistribution] = field(default_factory=dict)
    solved: dict[tuple[str, int], object] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, part, calibration, target, state, model, seed, metric, value, setting="-"):
        value = float(value)
        where = self.timings if metric in ("seconds", "train_seconds") else self.rows
        if np.isfinite(value):  # an undefined metric has no row
            where.append(
                {"part": part, "calibration": calibration, "target": target, "state": int(state),
                 "model": model, "seed": int(seed), "setting": setting, "metric": metric,
                 "value": value}
            )  # fmt: skip


# ------------------------------------------------------------------ ground truth
def chain_moments(p: IFPParams) -> tuple[float, float]:
    """Autocorrelation and standard deviation of log income implied by the chain."""
    z = np.log(p.y)
    pi = p.stationary_income()
    mean = pi @ z
    var = pi @ (z - mean) ** 2
    cov = pi @ ((z - mean) * (p.P @ (z - mean)))
    return float(cov / var), float(np.sqrt(var))


def euler_summary(policy, p: IFPParams, dist: StationaryDistribution, probe) -> tuple[float, float]:
    """log10 of the mean |e| under ``dist`` and of the max |e| over ``probe``."""
    e_dist = euler_errors(policy, p, dist.grid)
    e_max = euler_errors(policy, p, probe)
    mean = float((dist.pmf * np.abs(e_dist)).sum())
    return float(np.log10(max(mean, 1e-300))), float(np.log10(max(np.abs(e_max).max(), 1e-300)))


def egm_part(st: Study) -> None:
    """Solve every calibration, its distribution, Euler errors and kinks.

    The distribution is solved on EGM's grid (up to 1.25 x the top of the
    ergodic set), which gives its 99.9th percentile q99.9. For COMPARED, the
    calibration whose approximate policies are measured against EGM, it is
    solved again on the grid up to q99.9 that every policy is measured on, and
    its reported moments (mass at the limit, mean assets, MPC, mean Euler
    error) come from there. Only there: with 7 income states the mass that
    leaves the truncated grid piles up in dense rows that make the sparse
    solve take seconds.
    """
    cfg = st.cfg
    for name, p in calibrations().items():
        if name not in cfg.calibrations:
            continue
        start = time.perf_counter()
        sol = solve_egm(p, n=cfg.egm_n)
        full = stationary_distribution(sol, p, n=cfg.dist_n)
        top = full.quantile(0.999)
        dist = full
        if name == COMPARED:
            dist = stationary_distribution(sol, p, n=cfg.dist_n, a_max=top)
        seconds = time.perf_counter() - start
        st.solutions[name], st.dists[name], st.reported[name] = sol, full, dist
        log_mean, log_max = euler_summary(sol, p, dist, ergodic_probe(sol, top))
        add = st.add
        for s in range(p.n_states):
            add("egm", name, "c", s, "egm", -1, "binds", float(sol.binds[s]))
            add("egm", name, "c", s, "egm", -1, "kink", sol.kinks[s])
            add("egm", name, "c", s, "egm", -1, "income", p.y[s])
            if p.has_wedge:
                add("egm", name, "c", s, "egm", -1, "corner_start", sol.corner_kinks[s, 0])
                add("egm", name, "c", s, "egm", -1, "corner_end", sol.corner_kinks[s, 1])
        rho, sd = chain_moments(p)
        for metric, value in (
            ("mass_at_limit", dist.mass_at_limit), ("mean_assets", dist.mean_assets),
            ("mean_mpc", dist.mean_mpc), ("q999", top), ("ergodic_top", sol.ergodic_max),
            ("iterations", sol.iterations), ("log10_mean_euler", log_mean),
            ("log10_max_euler", log_max), ("chain_rho", rho), ("chain_sd", sd),
            ("seconds", seconds),
        ):  # fmt: skip
            add("egm", name, "all", -1, "egm", -1, metric, value)


def convergence_part(st: Study) -> None:
    """EGM accuracy against the grid size (default calibration)."""
    p, dist = st.solutions["default"].params, st.dists["default"]
    probe = ergodic_probe(st.solutions["default"], dist.quantile(0.999))
    for n in st.cfg.convergence_ns:
        start = time.perf_counter()
        sol = solve_egm(p, n=n)
        seconds = time.perf_counter() - start
        log_mean, log_max = euler_summary(sol, p, dist, probe)
        for metric, value in (
            ("log10_mean_euler", log_mean), ("log10_max_euler", log_max),
            ("kink", sol.kinks[0]), ("nodes", sol.post_grid.size),
            ("iterations", sol.iterations), ("seconds", seconds),
        ):  # fmt: skip
            st.add("convergence", "default", "c", -1, "egm", -1, metric, value, setting=f"n={n}")


def wedge_part(st: Study) -> None:
    """The concave kink of V at a = 0: one-sided slopes measured from V against the formula."""
    sol = st.solutions["wedge"]
    p = sol.params
    d = 1e-5
    for s in range(p.n_states):
        V = lambda a, s=s: float(sol.value(np.array(a), s))  # noqa: E731
        left = (3 * V(0.0) - 4 * V(-d) + V(-2 * d)) / (2 * d)
        right = (-3 * V(0.0) + 4 * V(d) - V(2 * d)) / (2 * d)
        formula = (p.R_debt - p.R) * float(p.u_prime(sol.policy(np.array(0.0), s)))
        for metric, value in (
            ("dV_left", left), ("dV_right", right), ("jump", left - right),
            ("jump_formula", formula), ("jump_rel_error", (left - right) / formula - 1),
        ):  # fmt: skip
            st.add("wedge", "wedge", "V", s, "egm", -1, metric, value)


# ------------------------------------------------------------------ fits
def _fit_targets(sol: EGMSolution, calibration: str, lo: float, hi: float, which):
    """(target, state, f(a), kink or None) for the fits of one calibration, every income state.

    c and V' (default and i.i.d. income) are kinked at a* in the states where
    the constraint binds and smooth in the others; V, standardised per state,
    is smooth in the base model (default calibration) and kinked at a = 0 in
    every state of the wedge variant. Kink metrics only where a kink exists.
    """
    p = sol.params
    states = range(p.n_states)
    if calibration == "wedge":
        return [("V", s, _standardised(sol, s, lo, hi), 0.0) for s in states]

    def kink(s: int) -> float | None:
        return float(sol.kinks[s]) if sol.binds[s] else None

    out = [("c", s, lambda a, s=s: sol.policy(a, s), kink(s)) for s in states]
    if "dV" in which:
        out += [("dV", s, lambda a, s=s: sol.marginal_value(a, s), kink(s)) for s in states]
    if "V" in which and calibration == "default":
        out += [("V", s, _standardised(sol, s, lo, hi), None) for s in states]
    return out


def _standardised(sol: EGMSolution, s: int, lo: float, hi: float) -> Callable:
    grid = np.linspace(lo, hi, 4001)
    v = sol.value(grid, s)
    mean, sd = float(v.mean()), float(v.std())
    return lambda a: (sol.value(a, s) - mean) / sd


def _training_inputs(n: int, lo: float, hi: float, kink: float | None, w: float) -> np.ndarray:
    """Half uniform on the domain and half within 10 kink windows of the kink (or all uniform)."""
    rng = np.random.default_rng(_DATA_SEED)
    if kink is None:
        return rng.uniform(lo, hi, n)
    near = (max(lo, kink - 10 * w), min(hi, kink + 10 * w))
    return np.concatenate([rng.uniform(lo, hi, n - n // 2), rng.uniform(*near, n // 2)])


_SCALE_BY = {  # compare's metric -> (our name, power of da/dz it is multiplied by)
    "rmse": ("rmse", 0), "max_error": ("max_error", 0), "derivative_rmse": ("derivative_rmse", -1),
    "kink0_max_error": ("kink_max_error", 0), "kink0_location_error": ("kink_location_error", 1),
    "kink0_left_slope_error": ("kink_left_slope_error", -1),
    "kink0_right_slope_error": ("kink_right_slope_error", -1),
    "kink0_derivative_error_w": ("kink_derivative_error_w", -1),
    "kink0_breakpoints": ("kink_breakpoints", 0), "n_params": ("n_params", 0),
    "train_seconds": ("train_seconds", 0),
}  # fmt: skip


def fit_part(st: Study, calibration: str, dev: torch.device) -> None:
    """compare_activations on c, V' and V (inputs scaled to [-1, 1]); fitted policies kept."""
    cfg, sol, dist = st.cfg, st.solutions[calibration], st.dists[calibration]
    p = sol.params
    lo, hi = -p.borrowing_limit, dist.quantile(0.999)
    half = (hi - lo) / 2  # da/dz
    nets: dict[tuple[str, int], dict[int, torch.nn.Module]] = {}
    for target, s, f, kink in _fit_targets(sol, calibration, lo, hi, cfg.fit_targets):
        w = None if kink is None else min(0.02 * (hi - lo), 0.45 * (kink - lo))
        a_train = _training_inputs(cfg.fit_points, lo, hi, kink, w or 0.0)
        z_train = (a_train - lo) / half - 1
        g = lambda z, f=f: f(lo + (np.asarray(z, dtype=float) + 1) * half)  # noqa: E731
        comparison = compare_activations(
            g, x_train=z_train, domain=(-1.0, 1.0),
            kinks=() if kink is None else [(kink - lo) / half - 1],
            hidden=cfg.fit_hidden, seeds=st.seeds, epochs=cfg.fit_epochs, lrs=(cfg.fit_lr,),
            device=dev, kink_window=None if w is None else w / half,
        )  # fmt: skip
        shown: dict[str, Callable] = {}
        st.fits[(calibration, target, s)] = {
            "comparison": comparison, "lo": lo, "hi": hi, "kink": kink, "window": w,
            "target_fn": f, "nets": shown,
        }  # fmt: skip
        for row in comparison.table.to_dict("records"):
            for key, (name, power) in _SCALE_BY.items():
                if key in row:
                    st.add("fit", calibration, target, s, row["model"], row["seed"], name,
                           row[key] * half**power)  # fmt: skip
            if kink is not None and "kink0_location_error" in row:
                rel = row["kink0_location_error"] * half / (kink - lo)
                st.add("fit", calibration, target, s, row["model"], row["seed"],
                       "kink_location_error_rel", rel)  # fmt: skip
        # The networks compare_activations trained, kept: every seed of the policy fits (for
        # their consequences), the first seed of the kinked others in the first state (figure).
        policy = target == "c" and calibration == "default"
        for (act, seed), net in comparison.networks.items():
            if policy:
                nets.setdefault((act, seed), {})[s] = net
            if seed == st.seeds[0] and (policy or (kink is not None and s == 0)):
                shown[act] = lambda a, net=net: evaluate(
                    net, (np.asarray(a, dtype=float) - lo) / half - 1
                ).astype(float)
    for (act, seed), by_state in nets.items():
        if len(by_state) == p.n_states:
            st.policies[f"{act}_fit/{seed}"] = _fitted_policy(p, by_state, lo, half)


def _fitted_policy(p: IFPParams, nets: dict, lo: float, half: float) -> Callable:
    """c(a, s) from one fitted network per state, kept feasible: in [1e-6 x, x]."""

    def policy(a, s):
        a, s = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(s))
        out = np.empty(a.shape)
        for state in np.unique(s):
            sel = s == state
            z = (a[sel] - lo) / half - 1
            out[sel] = evaluate(nets[int(state)], z.ravel()).astype(float).reshape(z.shape)
        x = p.cash(a, s) + p.borrowing_limit
        return np.clip(out, 1e-6 * x, x)

    return policy


# ------------------------------------------------------------------ solver
def solver_part(st: Study, dev: torch.device) -> None:
    """Solve the default calibration with ReLU and tanh networks (Maliar, Maliar, Winant 2021)."""
    cfg, sol = st.cfg, st.solutions["default"]
    p = sol.params
    kink = float(sol.kinks[0])
    for act in _ACTS:
        for seed in st.seeds:
            ns = solve_network(
                p, activation=act, hidden=cfg.net_hidden, steps=cfg.net_steps,
                n_points=cfg.net_points, resimulate_every=cfg.net_resimulate,
                domain=(-p.borrowing_limit, sol.ergodic_max), seed=seed, device=dev,
            )  # fmt: skip
            st.solved[(act, seed)] = ns
            st.policies[f"{act}_solved/{seed}"] = ns.policy
            st.policies[f"{act}_kkt/{seed}"] = ns.policy_kkt
            limit = np.array([-p.borrowing_limit])
            slack = 1 - ns.policy(limit, 0)[0] / (p.cash(limit, 0)[0] + p.borrowing_limit)
            for metric, value in (
                ("loss", ns.history["loss"].iloc[-1]), ("train_seconds", ns.seconds),
                ("n_params", ns.n_params), ("slack_at_limit", slack),
                ("h_at_limit", ns.multiplier(limit, 0)[0]),
                ("input_share_below_kink", _input_share(ns, kink, ns.asset_scale)),
                ("linear_input_share_below_kink", _input_share(ns, kink, np.inf)),
            ):  # fmt: skip
                st.add("solve", "default", "c", -1, act, seed, metric, value)
            fitted = fit_to_policy(ns, sol.policy, max_iter=cfg.net_supervised)
            st.policies[f"{act}_supervised/{seed}"] = fitted.policy


def _input_share(ns, level: float, scale: float) -> float:
    """The share of the asset input's range [-1, 1] below ``level`` on the solver's domain."""
    return float((asset_input(level, ns.domain, scale) + 1) / 2)


# ------------------------------------------------------------------ consequences
def consequence_part(st: Study) -> None:
    """Distribution, Euler errors and policy errors of every approximate policy against EGM.

    All on the grid truncated at the 99.9th percentile of the EGM distribution
    (the fits' domain; savings above it are put on it), EGM included: its
    distribution is :func:`egm_part`'s, not solved again.
    """
    sol, ref = st.solutions["default"], st.reported[COMPARED]
    p = sol.params
    top = st.dists["default"].quantile(0.999)
    st.policy_dists["egm"] = ref
    probe = ergodic_probe(sol, top)
    c_ref = sol.policy(probe[None, :], np.arange(p.n_states)[:, None])
    c_ref_dist = sol.policy(ref.grid[None, :], np.arange(p.n_states)[:, None])
    kink = float(np.nanmax(sol.kinks))  # the constrained region's top (low income)
    for name, value in (
        ("mass_at_limit", ref.mass_at_limit), ("mass_binding", ref.mass_binding),
        ("mass_below_kink", _mass_below(ref, kink)),
        ("mean_assets", ref.mean_assets), ("mean_mpc", ref.mean_mpc),
    ):  # fmt: skip
        st.add("distribution", "default", "c", -1, "egm", -1, name, value)
    log_mean, log_max = euler_summary(sol, p, ref, probe)
    st.add("distribution", "default", "c", -1, "egm", -1, "log10_mean_euler", log_mean)
    st.add("distribution", "default", "c", -1, "egm", -1, "log10_max_euler", log_max)
    for key, policy in st.policies.items():
        model, seed = key.split("/")
        dist = stationary_distribution(policy, p, n=st.cfg.dist_n, a_max=top)
        st.policy_dists[key] = dist
        log_mean, log_max = euler_summary(policy, p, ref, probe)
        c = policy(probe[None, :], np.arange(p.n_states)[:, None])
        c_dist = policy(ref.grid[None, :], np.arange(p.n_states)[:, None])
        rel = np.abs(c_dist / c_ref_dist - 1)
        for name, value in (
            ("mass_at_limit", dist.mass_at_limit), ("mass_binding", dist.mass_binding),
            ("mass_below_kink", _mass_below(dist, kink)),
            ("mean_assets", dist.mean_assets), ("mean_mpc", dist.mean_mpc),
            ("log10_mean_euler", log_mean),
            ("log10_max_euler", log_max),
            ("policy_max_rel_error", np.abs(c / c_ref - 1).max()),
            ("policy_mean_rel_error", (ref.pmf * rel).sum()),
        ):  # fmt: skip
            st.add("distribution", "default", "c", -1, model, int(seed), name, value)


def _mass_below(dist: StationaryDistribution, level: float) -> float:
    """The share of agents with assets at most ``level``."""
    return float(dist.pmf[:, dist.grid <= level].sum())


def _run_parts(cfg: Config, seeds: tuple[int, ...], dev: torch.device) -> Study:
    """Every part in order; wall times per part in ``Study.seconds``."""
    st = Study(cfg, seeds, str(dev))
    for name, part in (
        ("egm", lambda: egm_part(st)), ("convergence", lambda: convergence_part(st)),
        ("wedge", lambda: wedge_part(st)), ("fits", lambda: fit_part(st, "default", dev)),
        ("fits_iid", lambda: fit_part(st, "iid", dev)),
        ("fits_wedge", lambda: fit_part(st, "wedge", dev)),
        ("solver", lambda: solver_part(st, dev)), ("consequences", lambda: consequence_part(st)),
    ):  # fmt: skip
        start = time.perf_counter()
        part()
        st.seconds[name] = time.perf_counter() - start
    return st


def _parameters(p: IFPParams) -> dict:
    """The parameters the section quotes, as plain numbers."""
    return {
        "gamma": float(p.gamma), "beta": float(p.beta), "R": float(p.R),
        "R_debt": float(p.R_debt), "borrowing_limit": float(p.borrowing_limit),
        "incomes": tuple(float(y) for y in p.incomes),
        "transition": tuple(tuple(float(q) for q in row) for row in p.transition),
    }  # fmt: skip


def _fit_domains(st: Study) -> pd.DataFrame:
    nan = float("nan")
    rows = [
        {"calibration": cal, "target": target, "state": int(s), "lo": float(fit["lo"]),
         "hi": float(fit["hi"]), "kink": nan if fit["kink"] is None else float(fit["kink"]),
         "window": nan if fit["window"] is None else float(fit["window"])}
        for (cal, target, s), fit in st.fits.items()
    ]  # fmt: skip
    return pd.DataFrame(
        rows, columns=["calibration", "target", "state", "lo", "hi", "kink", "window"]
    )


def seed_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Each metric over seeds: one row per key (every column of ``table`` but seed and value).

    Columns: the keys, then ``n, mean, sd, max, min`` of ``value`` (``sd``
    with ddof 1, NaN where ``n = 1``), keys in the order they first appear.

    Examples
    --------
    >>> t = pd.DataFrame({"model": ["a", "a", "b"], "seed": [0, 1, -1],
    ...                   "metric": ["x", "x", "x"], "value": [1.0, 3.0, 2.0]})
    >>> s = seed_summary(t)
    >>> s.columns.tolist()
    ['model', 'metric', 'n', 'mean', 'sd', 'max', 'min']
    >>> s[["model", "n", "mean", "max", "min"]].to_numpy().tolist()
    [['a', 2, 2.0, 3.0, 1.0], ['b', 1, 2.0, 2.0, 2.0]]
    >>> s.sd.round(4).tolist()
    [1.4142, nan]
    """
    keys = [c for c in table.columns if c not in ("seed", "value")]
    stats = table.groupby(keys, dropna=False, sort=False)["value"]
    return stats.agg(n="count", mean="mean", sd="std", max="max", min="min").reset_index()


def compute(
    config: Config,
    *,
    seeds: Sequence[int] = (0, 1, 2),
    device: torch.device | str = "auto",
) -> EconomicsResult:
    """Compute the economics study: every solve, fit, network and statistic, as numbers.

    Solves the calibrations of ``config`` by EGM with their stationary
    distributions, checks EGM against the grid size and the wedge's kink of
    V, fits ReLU and tanh networks to c, V' and V, solves the default
    calibration with networks on the Euler residual, measures the
    consequences of every approximate policy, and evaluates every curve the
    figures draw. Runs with one torch thread; on the CPU a rerun gives the
    identical table.

    Parameters
    ----------
    config : Config
        The sizes, :data:`FULL` or :data:`QUICK` (or a modified copy).
    seeds : sequence of int, default (0, 1, 2)
        One network per activation and seed (distinct, >= 0).
    device : {"auto", "cpu", "cuda"} or torch.device, default "auto"
        Where the networks train ("auto": CUDA when available).

    Returns
    -------
    EconomicsResult
        Frozen; holds only numbers, arrays, DataFrames and strings (no
        networks, tensors or callables).

    Examples
    --------
    >>> from applications.economics import QUICK, compute
    >>> compute(QUICK, seeds=(0, 0))
    Traceback (most recent call last):
    ...
    ValueError: `seeds` must be distinct; got (0, 0)

    The quick sizes take a few seconds (run by the tests, not here):

    >>> r = compute(QUICK, seeds=(0,), device="cpu")  # doctest: +SKIP
    >>> round(float(r.kinks["default"][0]), 3), r.table.value.isna().any()  # doctest: +SKIP
    (0.021, False)
    """
    if not isinstance(config, Config):
        raise TypeError(f"`config` must be a Config such as QUICK; got {type(config).__name__}")
    seeds = check_seeds(seeds)
    dev = resolve_device(device)
    with one_thread():
        st = _run_parts(config, seeds, dev)
        curves = {
            "policy": policy_curves(st), "fits": fit_curves(st), "euler": euler_curves(st),
            "distribution": distribution_curves(st), "wedge": wedge_curves(st),
        }  # fmt: skip
        clock = time.perf_counter()
        warm = warm_part(st.solutions["default"], config, dev)
        st.seconds["warm_start"] = time.perf_counter() - clock
    clock = time.perf_counter()
    ge = aiyagari_part(config.aiyagari_ns, config.aiyagari_check)
    st.seconds["aiyagari"] = time.perf_counter() - clock
    st.rows.extend(aiyagari_rows(ge))
    reported = st.reported["default"]
    solver_tops = [float(ns.domain[1]) for ns in st.solved.values()]
    table = pd.DataFrame(st.rows, columns=COLUMNS)
    wedge = table[(table.part == "wedge") & (table.metric == "jump_rel_error")]
    return EconomicsResult(
        config=config, seeds=seeds, device=str(dev),
        table=table, seed_summary=seed_summary(table),
        timings=pd.DataFrame(st.timings, columns=COLUMNS),
        part_seconds=dict(st.seconds),
        parameters={name: _parameters(sol.params) for name, sol in st.solutions.items()},
        kinks={name: np.asarray(sol.kinks, dtype=float) for name, sol in st.solutions.items()},
        binds={name: np.asarray(sol.binds, dtype=bool) for name, sol in st.solutions.items()},
        mass_at_limit=float(reported.mass_at_limit), mean_assets=float(reported.mean_assets),
        mean_mpc=float(reported.mean_mpc),
        solver_top=max(solver_tops, default=float("nan")),
        wedge_jump_error=float(wedge.value.abs().max()) if len(wedge) else float("nan"),
        fit_domains=_fit_domains(st), aiyagari=ge, warm_start=warm,
        neural_solvers=summarize_accuracy(load_accuracy()), **curves,
    )  # fmt: skip
