"""The EGM policy as the neural solver's exact starting point (issue 25, item 3).

EGM's consumption policy is, in each income state, a piecewise-linear function
of assets (linear interpolation in cash on hand, and cash on hand is linear in
assets on each side of 0). With the solver's linear asset input
(``asset_scale = numpy.inf``) and its piecewise-linear output map
(``consumption = "level"``: ``c = min(max(out, 1e-13 x), x)``) it stays
piecewise linear, so :func:`pwlmodels.spline_to_relu` writes it as a ReLU
network exactly. The solver's network takes the income state as its second
input, so the per-state networks are joined by a gate: with ``e_s`` the
interpolant of the state indicator on the (sorted) income inputs, itself a
sum of hinges of the income input, the second layer computes
``relu(c_s(a) - M (1 - e_s))``, which is ``c_s(a)`` in state ``s`` and 0 in
the others whenever ``0 <= c_s <= M``. ``M`` is set above every state's
consumption up to ``R hi + max(y)``, beyond any asset level the loss visits.

The second output, ``eta = log h``, is not piecewise linear in EGM: where the
constraint binds the Kuhn-Tucker ratio ``h = beta R E[u'(c')] / u'(x)`` is
smooth in ``a``. It is the interpolant of ``log min(1, h)`` at ``n_eta``
points from the limit to the kink, 0 above. What is exact: consumption (the
network equals the interpolant of the chosen EGM nodes at every asset level in
the range, to rounding), hence every Euler error; ``h`` equals EGM's at its
interpolation points only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from pwlmodels import PiecewiseLinear, spline_to_relu

from .._checks import check_count
from ._egm import EGMSolution, _asset_level
from ._euler import ergodic_probe, euler_errors
from ._net import asset_input, solve_network
from ._net_args import _check_domain

__all__ = ["compare_warm_start", "egm_network", "egm_splines"]


def egm_splines(
    sol: EGMSolution, *, n_knots: int | None = None, top: float | None = None
) -> list[PiecewiseLinear]:
    """EGM's consumption in each income state as a PiecewiseLinear in assets.

    Parameters
    ----------
    sol : EGMSolution
    n_knots : int, optional
        Knots per state, >= 2. Default every EGM node: the spline equals
        ``sol.policy`` for ``a >= -b`` to rounding. Otherwise the interpolant
        of EGM on a subset of its nodes up to ``top``: the first (the kink) and
        the last, then greedily the node where the subset's interpolant is
        farthest from EGM (relative), until ``n_knots``.
    top : float, optional
        The largest asset level a subset spans; default ``sol.ergodic_max``.

    Returns
    -------
    list of PiecewiseLinear, one per income state

    Examples
    --------
    >>> import numpy as np
    >>> from applications.economics import IFPParams, solve_egm
    >>> from applications.economics._warm import egm_splines
    >>> sol = solve_egm(IFPParams(), n=200)
    >>> c = egm_splines(sol)
    >>> a = np.linspace(0.0, 40.0, 1001)
    >>> bool(np.allclose(c[1](a), sol.policy(a, 1), rtol=1e-13, atol=0.0))
    True
    """
    if not isinstance(sol, EGMSolution):
        raise TypeError(f"`sol` must be an EGMSolution; got {type(sol).__name__}")
    if n_knots is not None:
        n_knots = check_count(n_knots, "n_knots", 2)
    p = sol.params
    top = sol.ergodic_max if top is None else float(top)
    out = []
    for s in range(p.n_states):
        m, c = sol.cash_nodes[s], sol.consumption_nodes[s]
        a = _asset_level(p, m, s)
        if p.R_debt != p.R and a[0] < 0 < a[-1]:  # cash on hand kinks at a = 0
            a = np.append(a, 0.0)
        a = np.unique(a)
        if n_knots is not None and a.size > n_knots:
            a = _greedy_subset(a[a <= top], sol.policy(a[a <= top], s), n_knots)
        left = p.R_debt if a[0] <= 0 else p.R  # c = m + b below the first node
        right = p.R * (c[-1] - c[-2]) / (m[-1] - m[-2]) if n_knots is None else None
        out.append(PiecewiseLinear(a, sol.policy(a, s), left_slope=left, right_slope=right))
    return out


def egm_network(
    sol: EGMSolution,
    domain: tuple[float, float],
    *,
    n_knots: int | None = None,
    n_eta: int = 4,
    dtype: torch.dtype = torch.float64,
) -> torch.nn.Sequential:
    """The solver's network (inputs ``(z_a, z_y)``, outputs ``(c, eta)``) equal to EGM's policy.

    For :func:`solve_network` with ``asset_scale=numpy.inf`` and
    ``consumption="level"`` on ``domain``. Layers ``Linear(2, H), ReLU,
    Linear(H, 2 S), ReLU, Linear(2 S, 2)``: ``H`` holds the hinges of every
    state's consumption and ``eta`` spline (:func:`pwlmodels.spline_to_relu`
    of the spline in the input ``z_a``) and ``S - 1`` hinges of the income
    input; see the module docstring for the gate and what is exact.

    Parameters
    ----------
    sol : EGMSolution
    domain : (float, float)
        The solver's asset range ``(-b, hi)``.
    n_knots : int, optional
        Consumption knots per state (:func:`egm_splines`); default every node.
    n_eta : int, default 4
        Interpolation points of ``log h`` from the limit to the kink, >= 2.
    dtype : torch.dtype, default torch.float64

    Returns
    -------
    torch.nn.Sequential

    Examples
    --------
    >>> import numpy as np
    >>> from applications.economics import IFPParams, solve_egm, solve_network
    >>> from applications.economics._warm import egm_network
    >>> sol = solve_egm(IFPParams(), n=200)
    >>> dom = (0.0, sol.ergodic_max)
    >>> net = egm_network(sol, dom)
    >>> ns = solve_network(sol.params, steps=0, domain=dom, asset_scale=np.inf,
    ...                    consumption="level", init=net)
    >>> a = np.linspace(*dom, 1001)
    >>> bool(np.allclose(ns.policy(a, 0), sol.policy(a, 0), rtol=1e-12, atol=0.0))
    True
    """
    if not isinstance(sol, EGMSolution):
        raise TypeError(f"`sol` must be an EGMSolution; got {type(sol).__name__}")
    p = sol.params
    lo, hi = _check_domain(domain, p.borrowing_limit)
    n_eta = check_count(n_eta, "n_eta", 2)
    zy = (p.y - float(p.stationary_income() @ p.y)) / (float(np.ptp(p.y)) / 2 or 1.0)
    if np.unique(zy).size != zy.size:
        raise ValueError("`sol` must have distinct incomes: the network reads the state from them")
    half = (hi - lo) / 2
    top = p.R * hi + p.y.max()  # beyond every a' the loss evaluates from a <= hi

    def in_z(f: PiecewiseLinear) -> PiecewiseLinear:
        z = asset_input(f.knots, (lo, hi), np.inf)
        return PiecewiseLinear(z, f.values, left_slope=f.left_slope * half,
                               right_slope=f.right_slope * half)  # fmt: skip

    cons = [in_z(f) for f in egm_splines(sol, n_knots=n_knots, top=hi)]
    etas = [in_z(f) for f in _eta_splines(sol, lo, n_eta)]
    m_c = 2 * max(float(f(asset_input(top, (lo, hi), np.inf))) for f in cons) + 1
    m_e = 2 * max(float(np.abs(f.values).max()) for f in etas) + 1
    order = np.argsort(zy)
    # e_s(zy_k) = delta_sk as w0 + sum_j w_j relu(zy_k - zy_(j)), j < S - 1 (sorted)
    basis = np.maximum(zy[:, None] - zy[order][None, :-1], 0.0)
    gates = np.linalg.solve(np.column_stack([np.ones(zy.size), basis]), np.eye(zy.size))
    blocks = [(cons[s], 1.0, m_c, s) for s in range(zy.size)]
    blocks += [(etas[s], -1.0, m_e, s) for s in range(zy.size)]
    parts = [spline_to_relu(f, dtype=torch.float64) for f, *_ in blocks]
    widths = [net[0].out_features for net in parts]
    H, G = sum(widths), zy.size - 1
    w1, b1 = np.zeros((H + G, 2)), np.zeros(H + G)
    w2, b2 = np.zeros((2 * zy.size, H + G)), np.zeros(2 * zy.size)
    start = 0
    for i, (net, (_, sign, big, s)) in enumerate(zip(parts, blocks, strict=True)):
        sl = slice(start, start + widths[i])
        w1[sl, 0] = net[0].weight.detach().numpy()[:, 0]
        b1[sl] = net[0].bias.detach().numpy()
        # relu(sign * f - big (1 - e_s)): f (or -eta) in state s, 0 in the others
        w2[i, sl] = sign * net[2].weight.detach().numpy()[0]
        w2[i, H:] = big * gates[1:, s]
        b2[i] = sign * float(net[2].bias.detach()) - big + big * gates[0, s]
        start += widths[i]
    w1[H:, 1] = 1.0
    b1[H:] = -zy[order][:-1]
    w3 = np.zeros((2, 2 * zy.size))
    w3[0, : zy.size], w3[1, zy.size :] = 1.0, -1.0
    layers = [torch.nn.Linear(2, H + G), torch.nn.ReLU(), torch.nn.Linear(H + G, 2 * zy.size),
              torch.nn.ReLU(), torch.nn.Linear(2 * zy.size, 2)]  # fmt: skip
    net = torch.nn.Sequential(*layers).to(dtype)
    with torch.no_grad():
        for layer, w, b in ((net[0], w1, b1), (net[2], w2, b2), (net[4], w3, np.zeros(2))):
            layer.weight.copy_(torch.as_tensor(w))
            layer.bias.copy_(torch.as_tensor(b))
    return net


def _greedy_subset(a: np.ndarray, c: np.ndarray, k: int) -> np.ndarray:
    """``k`` of the knots ``a``: the ends, then the worst-interpolated node, one at a time."""
    keep = np.zeros(a.size, dtype=bool)
    keep[[0, -1]] = True
    for _ in range(min(k, a.size) - 2):
        err = np.abs(np.interp(a, a[keep], c[keep]) / c - 1)
        keep[int(np.argmax(np.where(keep, -1.0, err)))] = True
    return a[keep]


def _eta_splines(sol: EGMSolution, lo: float, n_eta: int) -> list[PiecewiseLinear]:
    """``log min(1, h)`` of EGM at ``n_eta`` points from ``lo`` to the kink, 0 above."""
    p = sol.params
    b = p.borrowing_limit
    out = []
    for s in range(p.n_states):
        if not sol.binds[s] or not sol.kinks[s] > lo:
            out.append(PiecewiseLinear([lo], [0.0], left_slope=0.0, right_slope=0.0))
            continue
        a = np.linspace(lo, sol.kinks[s], n_eta)
        c_next = sol.policy(np.full(p.n_states, -b), np.arange(p.n_states))
        expect = p.P[s] @ p.u_prime(c_next)
        ratio = p.beta * p.rate(np.array(-b)) * expect / p.u_prime(sol.policy(a, s))
        eta = np.log(np.minimum(1.0, ratio))
        eta[-1] = 0.0
        out.append(PiecewiseLinear(a, eta, right_slope=0.0))
    return out


_STARTS = ("egm_exact", "random")


def compare_warm_start(
    sol: EGMSolution,
    *,
    n_knots: int | None = 24,
    steps: Sequence[int] = (25, 250),
    n_points: int = 256,
    resimulate_every: int = 5,
    n_eta: int = 4,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> pd.DataFrame:
    """Train the solver from EGM's exact network and from random weights; Euler errors of each.

    Both runs use :func:`solve_network` with the linear asset input and
    ``consumption="level"``, on ``(-b, sol.ergodic_max)``, with the
    architecture of :func:`egm_network` (so the same parameter count); the
    random start is the solver's own (seeded weights fitted to its textbook
    guess). Every entry of ``steps`` is a separate run from the start (runs are
    deterministic, so a shorter one is the longer one's prefix).

    Parameters
    ----------
    sol : EGMSolution
    n_knots : int or None, default 24
        Consumption knots per state of the exact start (None: every EGM node).
    steps : sequence of int, default (25, 250)
        Optimiser steps of each run, >= 1 (the study's solver takes 25).
    n_points, resimulate_every : int
        As in :func:`solve_network` (the study's: 256 and 5).
    n_eta : int, default 4
    seed : int, default 0
    device : None, "auto", str or torch.device, optional (CPU)

    Returns
    -------
    pandas.DataFrame
        Tidy: ``start`` ({"egm", "egm_exact", "random"}), ``steps``, ``metric``,
        ``value``. ``egm`` is EGM itself and ``egm_exact`` at 0 steps the exact
        network before training. Metrics: ``euler_log10_mean`` and
        ``euler_log10_max`` of ``|e|`` (:func:`euler_errors`) over the probe of
        the study (dense near the limit, unweighted) ``_near`` the kink (within
        ``w = min(0.02 (hi - lo), 0.45 (a* - lo))`` of it, in the states where
        it binds) and ``_away`` from it; ``policy_max_rel_error`` against EGM;
        ``loss`` (the last training loss); ``n_params``.

    Examples
    --------
    >>> from applications.economics import IFPParams, solve_egm
    >>> from applications.economics._warm import compare_warm_start
    >>> df = compare_warm_start(solve_egm(IFPParams(), n=200), n_knots=8, steps=(1,),
    ...                         n_points=32)
    >>> sorted(set(zip(df.start, df.steps)))
    [('egm', 0), ('egm_exact', 0), ('egm_exact', 1), ('random', 1)]
    """
    if not isinstance(sol, EGMSolution):
        raise TypeError(f"`sol` must be an EGMSolution; got {type(sol).__name__}")
    if isinstance(steps, (str, bytes)) or not isinstance(steps, (Sequence, np.ndarray)):
        raise TypeError(f"`steps` must be a sequence of integers; got {type(steps).__name__}")
    steps = [check_count(k, "steps", 1) for k in steps]
    p = sol.params
    dom = (-p.borrowing_limit, sol.ergodic_max)
    net = egm_network(sol, dom, n_knots=n_knots, n_eta=n_eta)
    hidden = (net[0].out_features, net[2].out_features)
    common = dict(
        domain=dom, asset_scale=np.inf, consumption="level", n_points=n_points,
        resimulate_every=resimulate_every, seed=seed, device=device, hidden=hidden,
    )  # fmt: skip
    rows = _metrics(sol, "egm", 0, sol.policy)
    exact = solve_network(p, steps=0, init=net, **common)
    rows += _metrics(sol, "egm_exact", 0, exact.policy, n_params=exact.n_params)
    for k in steps:
        for start in _STARTS:
            ns = solve_network(p, steps=k, init=net if start == "egm_exact" else None, **common)
            loss = float(ns.history["loss"].iloc[-1])
            rows += _metrics(sol, start, k, ns.policy, n_params=ns.n_params, loss=loss)
    return pd.DataFrame(rows, columns=["start", "steps", "metric", "value"])


def _metrics(sol: EGMSolution, start: str, steps: int, policy, **extra: float) -> list[tuple]:
    """The rows of one policy: Euler errors near and away from the kink, policy error."""
    p = sol.params
    lo, hi = -p.borrowing_limit, sol.ergodic_max
    a = ergodic_probe(sol, hi)
    e = np.abs(euler_errors(policy, p, a))
    near = np.zeros(e.shape, dtype=bool)
    for s in range(p.n_states):
        if sol.binds[s]:
            w = min(0.02 * (hi - lo), 0.45 * (sol.kinks[s] - lo))
            near[s] = np.abs(a - sol.kinks[s]) <= w
    S = np.arange(p.n_states)[:, None]
    out = [
        (
            start,
            steps,
            "policy_max_rel_error",
            float(np.abs(policy(a, S) / sol.policy(a, S) - 1).max()),
        )
    ]
    for name, sel in (("near", near), ("away", ~near)):
        if sel.any():
            out.append((start, steps, f"euler_log10_mean_{name}", float(np.log10(e[sel].mean()))))
            out.append((start, steps, f"euler_log10_max_{name}", float(np.log10(e[sel].max()))))
    out += [(start, steps, k, float(v)) for k, v in extra.items()]
    return out
