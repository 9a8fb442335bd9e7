"""Neural solvers of the Aiyagari household given a fair budget (Maliar, Maliar and Winant 2021).

The households of :data:`~applications.economics._ge.PAGE_PARAMS` at EGM's
equilibrium prices (partial equilibrium), solved by Euler-residual networks
(:func:`~applications.economics.solve_network`) of every activation and
width, several seeds each, and judged as Maliar, Maliar and Winant (2021)
judge them: mean and max log10 unit-free Euler errors (Judd 1992), here
near the kink (assets at most ``Budget.near``, where the constraint binds
or is about to) and away from it, and wall time. Then general equilibrium:
each network's capital supply at interest rates around EGM's r*, and the
rate where it meets the firm's demand.

The protocol, per activation: the learning rate and the input transform
(linear, log or asinh of assets) are tuned on one seed and one width by
the distribution-weighted mean Euler error after ``tune_steps`` Adam steps;
then every width is trained with them, the seeds of one width together
(:func:`~applications.economics.solve_networks`), for ``steps`` Adam steps
(cosine decay to lr / 100), then polished by ``polish`` L-BFGS steps, and
both stages are reported.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pwlmodels._validate import as_real_scalar, check_choice

from .._checks import check_count, one_thread
from ._aiyagari import quintile_means, solve_aiyagari, wealth_gini
from ._config import check_seeds
from ._dist import StationaryDistribution, stationary_distribution
from ._egm import solve_egm
from ._euler import euler_errors
from ._ge import PAGE_PARAMS
from ._model import _positive
from ._net import _ACTIVATIONS, TRANSFORMS, NetworkSolution, solve_network
from ._net_many import solve_networks

__all__ = ["FAIR", "SMOKE", "Budget", "accuracy_study", "accuracy_table", "ge_table"]


@dataclass(frozen=True)
class Budget:
    """What every neural solver of :func:`accuracy_study` is given.

    Parameters
    ----------
    activations : tuple of str
    widths : tuple of int
        Two hidden layers of each width.
    seeds : tuple of int
    steps : int
        Adam steps of every network.
    polish : int
        L-BFGS steps after Adam (each up to 20 iterations, strong Wolfe).
    lrs : tuple of float
        Adam's initial learning rates tried per activation.
    transforms : tuple of str
        Asset input transforms tried per activation.
    tune_steps, tune_width : int
        Adam steps and width of the tuning runs (first seed).
    n_points : int
        Panel size of the Euler loss.
    resimulate_every : int
        Steps between re-simulations of the panel.
    egm_n : int
        EGM and histogram grid nodes (the ground truth and every distribution).
    ge_offsets_bp : tuple of float
        Interest rates of the general-equilibrium part, in basis points from
        EGM's r* (0 is added: the partial-equilibrium networks).
    near : float
        "Near the kink": assets at most ``near``.
    """

    activations: tuple[str, ...] = ("relu", "tanh", "softplus", "silu")
    widths: tuple[int, ...] = (8, 16, 32, 64)
    seeds: tuple[int, ...] = (0, 1, 2)
    steps: int = 10_000
    polish: int = 20
    lrs: tuple[float, ...] = (1e-3, 3e-3, 1e-2)
    transforms: tuple[str, ...] = ("linear", "log", "asinh")
    tune_steps: int = 2000
    tune_width: int = 32
    n_points: int = 256
    resimulate_every: int = 10
    egm_n: int = 1000
    ge_offsets_bp: tuple[float, ...] = (-20.0, -10.0, -5.0, 5.0, 10.0)
    near: float = 1.0

    def __post_init__(self) -> None:
        """Every field checked (TypeError / ValueError naming it); tuples of plain values."""
        done = {
            "activations": _entries(self.activations, "activations",
                                    lambda v, k: check_choice(v, k, _ACTIVATIONS) or v),
            "widths": _entries(self.widths, "widths", lambda v, k: check_count(v, k, 1)),
            "seeds": check_seeds(self.seeds),
            "lrs": _entries(self.lrs, "lrs", _positive),
            "transforms": _entries(self.transforms, "transforms",
                                   lambda v, k: check_choice(v, k, TRANSFORMS) or v),
            "ge_offsets_bp": _entries(self.ge_offsets_bp, "ge_offsets_bp", as_real_scalar),
            "near": _positive(self.near, "near"),
        }  # fmt: skip
        for name, least in (("steps", 1), ("polish", 0), ("tune_steps", 1), ("tune_width", 1),
                            ("n_points", 2), ("resimulate_every", 1), ("egm_n", 50)):  # fmt: skip
            done[name] = check_count(getattr(self, name), name, least)
        for name, value in done.items():
            object.__setattr__(self, name, value)


def _entries(values: object, name: str, check) -> tuple:
    """A non-empty tuple of ``values``, each passed through ``check(value, "name[i]")``."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise TypeError(f"`{name}` must be a tuple; got {type(values).__name__}")
    if len(values) == 0:
        raise ValueError(f"`{name}` must hold at least one entry; got an empty sequence")
    return tuple(check(v, f"{name}[{i}]") for i, v in enumerate(values))


#: The published budget (``benchmarks/bench_neural_solvers.py``).
FAIR = Budget()
#: Seconds-long sizes for tests.
SMOKE = Budget(
    activations=("relu", "tanh"), widths=(8,), seeds=(0, 1), steps=20, polish=1, lrs=(3e-3,),
    transforms=("log", "asinh"), tune_steps=5, tune_width=8, n_points=32, egm_n=200,
    ge_offsets_bp=(-10.0, 10.0),
)  # fmt: skip


class _Reference:
    """EGM at one interest rate: the policy, its distribution and the probe points."""

    def __init__(self, r: float, budget: Budget):
        self.r, self.n = r, budget.egm_n
        self.params = PAGE_PARAMS.household(r)
        self.sol = solve_egm(self.params, n=budget.egm_n)
        self.top = float(self.sol.ergodic_max)
        self.dist = stationary_distribution(self.sol, self.params, n=budget.egm_n, a_max=self.top)
        lo = -self.params.borrowing_limit
        self.probe = np.unique(
            np.concatenate(
                [np.linspace(lo, self.top, 4001), np.linspace(lo, lo + budget.near, 1001)]
            )
        )
        self.domain = (lo, self.top)

    def distribution(self, policy=None) -> StationaryDistribution:
        """The stationary distribution under ``policy`` (EGM's: None) on this grid."""
        if policy is None:
            return self.dist
        return stationary_distribution(policy, self.params, n=self.n, a_max=self.top)

    def supply(self, policy=None) -> float:
        """Mean assets of the stationary distribution under ``policy`` (EGM's: None)."""
        return self.distribution(policy).mean_assets

    def moments(self, policy=None) -> dict:
        """What economists report of the distribution under ``policy`` (EGM's: None): wealth
        Gini, the hand-to-mouth share (savings exactly at the limit), the mean MPC and the
        MPC by wealth quintile (poorest first)."""
        dist = self.distribution(policy)
        quintiles = quintile_means(dist.pmf, dist.mpc)
        return {
            "gini": wealth_gini(dist.grid, dist.pmf.sum(axis=0)),
            "hand_to_mouth": dist.mass_binding, "mean_mpc": dist.mean_mpc,
            **{f"mpc_q{k + 1}": float(v) for k, v in enumerate(quintiles)},
        }  # fmt: skip

    def excess(self, policy=None) -> float:
        """Capital supply under ``policy`` (EGM's: None) minus the firm's demand at ``r``."""
        return self.supply(policy) - PAGE_PARAMS.capital_demand(self.r)


def _errors(ref: _Reference, ns, near: float) -> dict:
    """Mean (EGM-distribution weighted) and max log10 |Euler error|, near the kink and away."""
    out = {}
    lo = -ref.params.borrowing_limit
    e_dist = np.abs(euler_errors(ns.policy, ref.params, ref.dist.grid))
    e_probe = np.abs(euler_errors(ns.policy, ref.params, ref.probe))  # ns: any .policy
    pmf = ref.dist.pmf
    for region, on_grid, on_probe in (
        ("near", ref.dist.grid <= lo + near, ref.probe <= lo + near),
        ("away", ref.dist.grid > lo + near, ref.probe > lo + near),
        ("all", slice(None), slice(None)),
    ):  # fmt: skip
        mass = pmf[:, on_grid]
        mean = (mass * e_dist[:, on_grid]).sum() / mass.sum()
        out[f"log10_mean_{region}"] = float(np.log10(max(mean, 1e-300)))
        out[f"log10_max_{region}"] = float(np.log10(max(e_probe[:, on_probe].max(), 1e-300)))
    return out


def _train(ref: _Reference, budget: Budget, activation: str, width: int, seeds, lr, transform,
           steps: int) -> list[NetworkSolution]:  # fmt: skip
    return solve_networks(
        ref.params, seeds, activation=activation, hidden=(width, width), steps=steps, lr=lr,
        n_points=budget.n_points, resimulate_every=budget.resimulate_every, domain=ref.domain,
        input_transform=transform,
    )  # fmt: skip


def _polish(ns: NetworkSolution, budget: Budget) -> NetworkSolution:
    return solve_network(
        ns.params, init=ns.net, optimizer="lbfgs", steps=budget.polish, seed=ns.seed,
        n_points=budget.n_points, resimulate_every=1, domain=ns.domain,
        asset_scale=ns.asset_scale, input_transform=ns.input_transform,
        activation=ns.activation, hidden=(),
    )  # fmt: skip


def accuracy_study(
    budget: Budget = FAIR, *, processes: int = 1, progress: bool = False
) -> dict[str, pd.DataFrame]:
    """Tune, train and judge every neural solver of ``budget``; CPU, float64, fixed seeds.

    Parameters
    ----------
    budget : Budget, default FAIR
    processes : int, default 1
        Worker processes, one activation each at a time (one torch thread
        each); the numbers do not depend on it.
    progress : bool, default False
        Print a line per run.

    Returns
    -------
    dict of pandas.DataFrame
        ``"tuning"``: activation, lr, transform, score (log10 mean Euler
        error, first seed); ``"members"``: one row per activation, width,
        seed and stage ("adam", "adam+lbfgs") with the errors near the kink,
        away from it and over all (``log10_mean_*``, ``log10_max_*``),
        ``loss`` and ``seconds`` (training wall time per network, the
        batched Adam time shared among the seeds); ``"ge"``: one row per
        model ("egm" or an activation at its best width and stage), seed and
        rate ``r`` with capital ``supply``, ``demand`` and ``excess``;
        ``"egm"``: EGM's own errors and its Brent r* (``r_brent``);
        ``"distribution"``: at EGM's r*, per model and seed, the wealth Gini,
        the hand-to-mouth share, the mean MPC and the MPC by wealth quintile
        (``mpc_q1`` poorest), the networks read by their own complementarity
        (:meth:`~applications.economics.NetworkSolution.policy_kkt`).
    """
    processes = check_count(processes, "processes", 1)
    eq = solve_aiyagari(PAGE_PARAMS, n=budget.egm_n)
    ref = _Reference(eq.r, budget)
    egm = {"r_brent": eq.r, **_errors(ref, ref.sol, budget.near)}
    ge = [
        {"model": "egm", "width": 0, "stage": "-", "seed": -1, "offset_bp": d, "r": rf.r,
         "supply": rf.supply(None), "excess": rf.excess()}
        for d, rf in _rates(ref, budget).items()
    ]  # fmt: skip
    jobs = [(budget, act, eq.r, progress) for act in budget.activations]
    if processes == 1:
        parts = [_activation_part(*job) for job in jobs]
    else:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(processes, mp_context=ctx) as pool:
            parts = list(pool.map(_activation_part, *zip(*jobs, strict=True)))
    tuning, members = [], []
    dist = [{"model": "egm", "width": 0, "stage": "-", "seed": -1, **ref.moments()}]
    for t, m, g, d in parts:
        tuning += t
        members += m
        ge += g
        dist += d
    out = pd.DataFrame(ge)
    out["demand"] = out["supply"] - out["excess"]
    return {
        "tuning": pd.DataFrame(tuning),
        "members": pd.DataFrame(members),
        "ge": out,
        "egm": pd.DataFrame([egm]),
        "distribution": pd.DataFrame(dist),
    }


def _rates(ref: _Reference, budget: Budget) -> dict[float, _Reference]:
    """EGM at r* and at r* plus each offset, by offset (sorted)."""
    refs = {0.0: ref} | {d: _Reference(ref.r + d / 1e4, budget) for d in budget.ge_offsets_bp}
    return dict(sorted(refs.items()))


def _activation_part(budget: Budget, act: str, r_star: float, progress: bool):
    """One activation's tuning, its widths and seeds, and its general-equilibrium rows."""
    with one_thread():
        ref = _Reference(r_star, budget)
        say = print if progress else (lambda *_a, **_k: None)
        tuning = []
        for lr in budget.lrs:
            for tr in budget.transforms:
                (ns,) = _train(ref, budget, act, budget.tune_width, budget.seeds[:1], lr, tr,
                               budget.tune_steps)  # fmt: skip
                score = _errors(ref, ns, budget.near)["log10_mean_all"]
                tuning.append({"activation": act, "lr": lr, "transform": tr, "score": score})
                say(f"tune {act:8s} lr={lr:g} {tr:6s} {score:.3f}", flush=True)
        pick = min(tuning, key=lambda t: t["score"])
        lr, tr = pick["lr"], pick["transform"]
        members, nets = [], {}
        for width in budget.widths:
            for ns in _train(ref, budget, act, width, budget.seeds, lr, tr, budget.steps):
                polished = _polish(ns, budget)
                nets[(width, ns.seed)] = {"adam": ns, "adam+lbfgs": polished}
                for stage, sol in nets[(width, ns.seed)].items():
                    members.append({
                        "activation": act, "width": width, "seed": ns.seed, "stage": stage,
                        "lr": lr, "transform": tr, "n_params": ns.n_params,
                        "loss": float(sol.history["loss"].iloc[-1]),
                        "seconds": ns.seconds + (polished.seconds if sol is polished else 0.0),
                        **_errors(ref, sol, budget.near),
                    })  # fmt: skip
            say(f"{act:8s} width {width:3d}: {members[-1]['log10_mean_all']:.3f}", flush=True)
        table = pd.DataFrame(members)
        width, stage = table.groupby(["width", "stage"])["log10_mean_all"].mean().idxmin()
        ge, dist = [], []
        for d, rf in _rates(ref, budget).items():
            if d == 0.0:
                sols = [nets[(width, seed)][stage] for seed in budget.seeds]
                dist += [{"model": act, "width": int(width), "stage": stage, "seed": sol.seed,
                          **rf.moments(sol.policy_kkt)} for sol in sols]  # fmt: skip
            else:
                sols = _train(rf, budget, act, width, budget.seeds, lr, tr, budget.steps)
                if stage == "adam+lbfgs":
                    sols = [_polish(ns, budget) for ns in sols]
            for sol in sols:
                ge.append({"model": act, "width": int(width), "stage": stage, "seed": sol.seed,
                           "offset_bp": d, "r": rf.r, "supply": rf.supply(sol.policy),
                           "excess": rf.excess(sol.policy)})  # fmt: skip
            say(f"ge {act:8s} {d:+.0f} bp: {ge[-1]['excess']:+.4f}", flush=True)
    return tuning, members, ge, dist


def _root(r: np.ndarray, excess: np.ndarray) -> float:
    """Where the piecewise-linear interpolant of ``excess(r)`` crosses zero, if ``excess``
    is nondecreasing in ``r`` (the market then clears once); NaN if it is not, or never
    crosses."""
    order = np.argsort(r)
    r, excess = r[order], excess[order]
    if np.any(np.diff(excess) < 0):
        return float("nan")
    for k in range(r.size - 1):
        lo, hi = excess[k], excess[k + 1]
        if lo <= 0 <= hi:
            return float(r[k] if hi == lo else r[k] - lo * (r[k + 1] - r[k]) / (hi - lo))
    return float("nan")


#: A network whose capital supply is above this multiple of EGM's at the same rate has run
#: away: its households keep saving, the stationary distribution piles up at the top of the
#: asset grid, and the grid's height, not the policy, sets the supply.
RUNAWAY = 5.0


def runaways(ge: pd.DataFrame) -> np.ndarray:
    """Which rows of a ``"ge"`` table have run away (:data:`RUNAWAY`; False where EGM has
    no row at that rate)."""
    egm = ge[ge["model"] == "egm"].set_index("offset_bp")["supply"]
    reference = ge["offset_bp"].map(egm).to_numpy(float)
    with np.errstate(invalid="ignore"):
        return ge["supply"].to_numpy(float) > RUNAWAY * reference


def _sign_changes(values: np.ndarray) -> int:
    """How often ``values`` changes sign, zeros skipped."""
    signs = np.sign(values)
    return int(np.count_nonzero(np.diff(signs[signs != 0])))


def ge_table(ge: pd.DataFrame, r_brent: float) -> pd.DataFrame:
    """General equilibrium per model and seed, from a ``"ge"`` table of
    :func:`accuracy_study`.

    ``r_star``: where the piecewise-linear interpolant of the excess supply over
    the rates crosses zero, given only when the excess rises with the rate
    (``increasing``: a conservative rule, since a curve that falls somewhere
    may still cross once; ``crossings`` counts the sign changes) and no rate
    has run away (``runaway``, :func:`runaways`); NaN otherwise. ``gap_bp`` and
    ``gap_brent_bp``: its distance to EGM's interpolated r* and to EGM's Brent
    r*, in basis points. ``supply_error_pct``: supply minus demand at EGM's r*
    in percent of demand (NaN where that rate was not run).
    """
    if not isinstance(ge, pd.DataFrame):
        raise TypeError(f"`ge` must be a pandas DataFrame; got {type(ge).__name__}")
    if missing := sorted(
        {"model", "seed", "width", "stage", "r", "supply", "excess", "demand", "offset_bp"}
        - set(ge.columns)
    ):
        raise ValueError(f"`ge` must have the columns of accuracy_study's 'ge'; lacks {missing}")
    if not (ge["model"] == "egm").any():
        raise ValueError("`ge` must hold EGM's rows (model 'egm'): the gaps are measured to it")
    ge = ge.assign(runaway=runaways(ge))
    rows = []
    for (model, seed), g in ge.groupby(["model", "seed"], sort=False):
        r, excess = g["r"].to_numpy(), g["excess"].to_numpy()
        at = g[g["offset_bp"] == 0.0]  # EGM's r*: the supply error there (NaN: not run)
        error = 100 * at["excess"].iloc[0] / at["demand"].iloc[0] if len(at) else float("nan")
        runaway, ordered = bool(g["runaway"].any()), excess[np.argsort(r)]
        rows.append({"model": model, "width": int(g["width"].iloc[0]),
                     "stage": g["stage"].iloc[0], "seed": int(seed),
                     "r_star": float("nan") if runaway else _root(r, excess),
                     "increasing": bool(np.all(np.diff(ordered) >= 0)),
                     "crossings": _sign_changes(ordered),
                     "runaway": runaway, "supply_error_pct": error})  # fmt: skip
    out = pd.DataFrame(rows)
    egm_interp = float(out.loc[out["model"] == "egm", "r_star"].iloc[0])
    out["gap_bp"] = 1e4 * (out["r_star"] - egm_interp)
    out["gap_brent_bp"] = 1e4 * (out["r_star"] - r_brent)
    return out


def accuracy_table(members: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over seeds of every metric, per activation, width and stage."""
    metrics = [c for c in members.columns if c.startswith("log10_") or c in ("seconds", "loss")]
    keys = ["activation", "width", "stage", "lr", "transform", "n_params"]
    grouped = members.groupby(keys, sort=False)[metrics]
    mean, sd = grouped.mean(), grouped.std(ddof=1)
    return pd.concat([mean, sd.add_suffix("_sd")], axis=1).reset_index()
