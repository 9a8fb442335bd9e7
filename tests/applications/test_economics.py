"""The economics application: model, EGM ground truth, distribution, solver, the quick run."""

from __future__ import annotations

import dataclasses
import doctest
import importlib
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal

from applications.economics import (
    QUICK,
    EconomicsResult,
    EGMSolution,
    IFPParams,
    compute,
    euler_errors,
    run,
    solve_egm,
    solve_network,
    stationary_distribution,
)
from pwlmodels import kink_estimate

from .._helpers import disallowed

FIGURES = ("distribution.png", "euler.png", "fits.png", "policy.png", "wedge.png")
MODULES = (
    "applications.economics",
    "applications.economics._model",
    "applications.economics._egm",
    "applications.economics._euler",
    "applications.economics._dist",
    "applications.economics._net",
    "applications.economics._config",
    "applications.economics._study",
    "applications.economics._result",
)
WEDGE = {"R_borrow": 1.08, "borrowing_limit": 1.0}


@pytest.fixture(scope="module")
def default():
    p = IFPParams()
    sol = solve_egm(p, n=2000)
    return p, sol, stationary_distribution(sol, p)


@pytest.fixture(scope="module")
def wedge():
    p = IFPParams(**WEDGE)
    return p, solve_egm(p, n=2000)


def _probe(lo: float, hi: float) -> np.ndarray:
    """Dense everywhere and denser near the limit, off the EGM nodes."""
    t = np.linspace(0.0, 1.0, 20001)[1:-1] + 1.234e-7
    return np.unique(np.concatenate([lo + (hi - lo) * t, lo + (hi - lo) * t**3]))


def _node_assets(sol: EGMSolution, s: int) -> np.ndarray:
    p = sol.params
    z = sol.cash_nodes[s] - p.y[s]
    a = np.where(z < 0, z / p.R_debt, z / p.R)
    return a[a >= -p.borrowing_limit]


# ------------------------------------------------------------------ parameters
def test_default_parameters_and_their_derived_quantities():
    p = IFPParams()
    assert (p.gamma, p.beta, p.R, p.incomes, p.borrowing_limit, p.R_borrow) == (
        2.0, 0.96, 1.03, (0.5, 1.5), 0.0, None,
    )  # fmt: skip
    assert p.n_states == 2 and p.R_debt == 1.03 and not p.has_wedge
    assert_allclose(p.natural_limit, 0.5 / 0.03)
    assert_allclose(p.stationary_income(), [0.5, 0.5])
    assert IFPParams(**WEDGE).has_wedge and IFPParams(**WEDGE).R_debt == 1.08
    assert_array_equal(p.rate(np.array([-1.0, 0.0, 2.0])), [1.03, 1.03, 1.03])
    assert_array_equal(IFPParams(**WEDGE).rate(np.array([-1.0, 0.0])), [1.08, 1.03])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"gamma": 0.0}, ValueError, "`gamma` must be > 0"),
        ({"gamma": "2"}, TypeError, "`gamma` must be a real number"),
        ({"gamma": True}, TypeError, "`gamma` must be a real number"),
        ({"beta": 0.0}, ValueError, "`beta` must be > 0"),
        ({"beta": 0.99}, ValueError, r"`beta` \* `R` must be < 1"),
        ({"R": -1.0}, ValueError, "`R` must be > 0"),
        ({"R": float("nan")}, ValueError, "`R` must be finite"),
        (
            {"incomes": (0.5, -1.0)},
            ValueError,
            r"`incomes` must be finite and > 0; got incomes\[1\]",
        ),
        ({"incomes": ((0.5, 1.5),)}, ValueError, "`incomes` must be a non-empty 1-D"),
        ({"incomes": ()}, ValueError, "`incomes` must be a non-empty 1-D"),
        ({"incomes": "ab"}, TypeError, "`incomes` must be"),
        ({"transition": ((1.0,),)}, ValueError, r"`transition` must have shape \(2, 2\)"),
        ({"transition": ((1.1, -0.1), (0.5, 0.5))}, ValueError, "entries >= 0"),
        ({"transition": ((0.9, 0.1 + 1e-11), (0.1, 0.9))}, ValueError, "rows must sum to 1"),
        ({"borrowing_limit": -0.5}, ValueError, "`borrowing_limit` must be >= 0"),
        ({"borrowing_limit": 17.0}, ValueError, "below the natural limit"),
        ({"borrowing_limit": "1"}, TypeError, "`borrowing_limit` must be a real number"),
        ({"R_borrow": 1.0}, ValueError, "`R_borrow` must be None or >= `R`"),
        ({"R_borrow": 1.08, "borrowing_limit": 6.25}, ValueError, "below the natural limit"),
        ({"R_borrow": [1.08]}, TypeError, "`R_borrow` must be a real number"),
    ],
)
def test_params_reject_bad_input_naming_the_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        IFPParams(**kwargs)


def test_transition_rows_may_miss_1_by_at_most_1e_12():
    IFPParams(transition=((0.9, 0.1 + 5e-13), (0.1, 0.9)))
    with pytest.raises(ValueError, match=r"within 1e-12"):
        IFPParams(transition=((0.9, 0.1 + 5e-12), (0.1, 0.9)))


def _chain_moments(p: IFPParams) -> tuple[float, float]:
    """rho and sd of log income by simulation-free algebra on the chain (independent code)."""
    z = np.log(np.asarray(p.incomes))
    P = np.asarray(p.transition)
    w, v = np.linalg.eig(P.T)
    pi = np.real(v[:, np.argmin(np.abs(w - 1))])
    pi /= pi.sum()
    m = pi @ z
    var = pi @ (z - m) ** 2
    return float((pi * (z - m)) @ P @ (z - m) / var), float(np.sqrt(var))


def test_rouwenhorst_matches_the_ar1_exactly_and_tauchen_does_not_at_rho_0_9():
    rou = IFPParams.from_ar1(0.9, 0.2, 7, "rouwenhorst")
    tau = IFPParams.from_ar1(0.9, 0.2, 7, "tauchen")
    assert_allclose(_chain_moments(rou), (0.9, 0.2), rtol=1e-10)
    rho, sd = _chain_moments(tau)
    assert sd / 0.2 - 1 > 0.15 and abs(rho - 0.9) < 0.01  # Tauchen inflates the variance
    aiyagari = IFPParams.from_ar1(0.6, 0.2)  # Tauchen, m = 3, 7 states: 6 % at rho 0.6
    assert aiyagari.n_states == 7
    assert_allclose(_chain_moments(aiyagari), (0.6, 0.212), rtol=0.01)
    for p in (rou, tau, aiyagari):
        assert_allclose(p.stationary_income() @ p.y, 1.0, rtol=1e-12)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((1.0, 0.2), {}, ValueError, r"`rho` must be in \(-1, 1\)"),
        ((0.5, 0.0), {}, ValueError, "`sigma` must be > 0"),
        ((0.5, 0.2, 1), {}, ValueError, "`n` must be >= 2"),
        ((0.5, 0.2, 2.5), {}, TypeError, "`n` must be an integer"),
        ((0.5, 0.2, 7, "ar"), {}, ValueError, "`method` must be one of 'tauchen', 'rouwenhorst'"),
        ((0.5, 0.2), {"m": 0.0}, ValueError, "`m` must be > 0"),
        ((0.5, 0.2), {"beta": 1.0}, ValueError, r"`beta` \* `R` must be < 1"),
        (("a", 0.2), {}, TypeError, "`rho` must be a real number"),
    ],
)
def test_from_ar1_rejects_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        IFPParams.from_ar1(*args, **kwargs)


# ------------------------------------------------------------------ EGM
def test_egm_converges_below_1e_12_and_its_residuals_at_the_nodes_are_below_1e_9(default):
    p, sol, _ = default
    assert sol.change < 1e-12
    for s in range(p.n_states):
        e = euler_errors(sol, p, _node_assets(sol, s), s)
        assert np.abs(e).max() <= 1e-9


def test_euler_errors_off_the_grid_are_below_1e_4_and_fall_10x_from_500_to_4000_nodes(default):
    p, sol, dist = default
    probe = _probe(0.0, dist.quantile(0.999))
    worst = {n: np.abs(euler_errors(solve_egm(p, n=n), p, probe)).max() for n in (500, 4000)}
    worst[2000] = np.abs(euler_errors(sol, p, probe)).max()
    assert worst[2000] <= 1e-4
    assert worst[500] >= 10 * worst[4000]


def test_constrained_points_consume_all_cash_exactly_and_satisfy_the_euler_inequality(default):
    p, sol, _ = default
    assert sol.binds.tolist() == [True, False]
    a = np.linspace(0.0, sol.kinks[0], 101)[:-1]
    assert_array_equal(sol.policy(a, 0), p.R * a + p.y[0] + p.borrowing_limit)
    assert_array_equal(sol.savings(a, 0), -p.borrowing_limit)
    e = euler_errors(sol, p, a, 0)
    assert (e >= 0).all() and e.max() <= 1e-12  # max(0, c / c_tilde - 1)


def test_kinks_are_measured_where_the_slope_leaves_r_and_nan_where_nothing_binds(default):
    p, sol, _ = default
    assert_allclose(sol.kinks[0], 0.021, atol=5e-4)  # the reference
    assert np.isnan(sol.kinks[1])
    w = sol.kinks[0] / 3
    loc, left, right = kink_estimate(lambda a: sol.policy(a, 0), sol.kinks[0], w)
    assert_allclose(left, p.R, rtol=1e-12)
    assert right < 0.8 * p.R
    assert abs(loc - sol.kinks[0]) < 1e-3 * w  # the MPC varies a little beyond the kink
    iid = solve_egm(IFPParams(beta=0.93, transition=((0.5, 0.5), (0.5, 0.5))), n=1000)
    assert_allclose(iid.kinks[0], 0.13, atol=0.01)
    assert iid.binds.tolist() == [True, False]


def test_the_kink_moves_less_than_1e_5_when_the_grid_doubles():
    p = IFPParams()
    assert abs(solve_egm(p, n=1000).kinks[0] - solve_egm(p, n=2000).kinks[0]) < 1e-5


def test_value_function_solves_bellman_and_is_smooth_at_the_kink_unlike_c(default):
    p, sol, _ = default
    a = sol.value_grid[::97]
    for s in range(p.n_states):  # value() is one Bellman step: it returns the nodes there
        assert_allclose(sol.value(a, s), sol.value_nodes[s, ::97], rtol=1e-11)
    k, d = sol.kinks[0], 1e-4
    V = lambda x: sol.value(np.asarray(x, dtype=float), 0)  # noqa: E731
    left, right = (V(k) - V(k - d)) / d, (V(k + d) - V(k)) / d
    assert_allclose(left, right, rtol=1e-3)  # V' continuous at a*
    c_left = (sol.policy(k, 0) - sol.policy(k - d, 0)) / d
    c_right = (sol.policy(k + d, 0) - sol.policy(k, 0)) / d
    assert c_left - c_right > 0.2  # c is not
    x = np.array([0.5, 3.0, 10.0])  # V' from V against the envelope theorem
    fd = (V(x + 1e-5) - V(x - 1e-5)) / 2e-5
    assert_allclose(fd, sol.marginal_value(x, 0), rtol=1e-5)


def test_wedge_v_has_a_concave_kink_of_the_predicted_size(wedge):
    p, sol = wedge
    d = 1e-5
    for s in range(p.n_states):
        V = lambda x, s=s: float(sol.value(np.array(x), s))  # noqa: E731
        left = (3 * V(0.0) - 4 * V(-d) + V(-2 * d)) / (2 * d)
        right = (-3 * V(0.0) + 4 * V(d) - V(2 * d)) / (2 * d)
        formula = (p.R_borrow - p.R) * float(p.u_prime(sol.policy(0.0, s)))
        assert_allclose(left - right, formula, rtol=1e-6)


def test_wedge_savings_stay_at_the_corner_over_an_interval_with_kinks_at_both_ends(wedge):
    p, sol = wedge
    lo, hi = sol.corner_kinks[0]
    assert -p.borrowing_limit < lo < hi
    inside = np.linspace(lo, hi, 50)[1:-1]
    assert np.abs(sol.savings(inside, 0)).max() < 1e-12
    assert_allclose(sol.policy(inside, 0), p.cash(inside, 0), rtol=1e-13)
    w = (hi - lo) / 4
    for end in (lo, hi):  # a kink at each end of the corner
        _, left, right = kink_estimate(lambda a: sol.policy(a, 0), end, w / 2)
        assert abs(left - right) > 0.1
    e = euler_errors(sol, p, _probe(-p.borrowing_limit, 27.0))
    assert np.abs(e).max() < 1e-4
    assert np.abs(euler_errors(sol, p, inside, 0)).max() == 0.0  # both one-sided values hold


def test_log_utility_solves():
    sol = solve_egm(IFPParams(gamma=1.0, beta=0.9), n=300)
    assert sol.change < 1e-12 and np.isfinite(sol.value_nodes).all()


def _hark_solution(p: IFPParams, count: int):
    """HARK's KinkedRconsumerType with our wedge variant's parameters and timing.

    HARK's market resources m = R(a) a + y are our cash on hand less b; its end-of-period
    assets a = m - c are our a', on which Rboro (a < 0) or Rsave applies next period, as
    our R(a) does. No permanent shocks; income 0.5 or 1.5, each with probability 1/2, is
    HARK's unemployment shock (IncUnemp = 0.5, UnempPrb = 0.5: employed income is
    normalised to a mean of 1, so 1.5). aXtraMin = 1e-6 puts HARK's first node next to
    the limit (its default 1e-3 leaves a chord there that moves the kink by 2.5e-4).
    """
    from HARK.ConsumptionSaving.ConsIndShockModel import KinkedRconsumerType

    agent = KinkedRconsumerType(
        cycles=0, CRRA=p.gamma, DiscFac=p.beta, Rboro=p.R_borrow, Rsave=p.R,
        BoroCnstArt=-p.borrowing_limit, LivPrb=[1.0], PermGroFac=[1.0], PermShkStd=[0.0],
        PermShkCount=1, TranShkStd=[0.0], TranShkCount=1, UnempPrb=0.5, IncUnemp=0.5,
        aXtraMin=1e-6, aXtraMax=40.0, aXtraCount=count, T_cycle=1, tolerance=1e-10,
    )  # fmt: skip
    agent.solve()
    return agent.solution[0].cFunc


def _hark_gaps(p: IFPParams, sol: EGMSolution, count: int) -> tuple[float, float, float, float]:
    """HARK against EGM: max and mean relative gap in c, gap of the kink and of the corner (m)."""
    from scipy.optimize import brentq

    c_hark = _hark_solution(p, count)
    b = p.borrowing_limit
    gaps = []
    for s in range(p.n_states):  # i.i.d. income: c depends on m alone, in both states
        m = np.linspace(-p.R_borrow * b + p.y[s], 10.0, 5000)
        a = np.where(m < p.y[s], (m - p.y[s]) / p.R_borrow, (m - p.y[s]) / p.R)
        gaps.append(np.abs(c_hark(m) / sol.policy(a, s) - 1))
    gap = np.concatenate(gaps)
    unconstrained = c_hark.functions[0]  # HARK: the lower envelope of it and c = m + b
    x, y = np.asarray(unconstrained.x_list), np.asarray(unconstrained.y_list)
    kink = brentq(lambda m: float(unconstrained(m)) - (m + b), x[0] + 1e-9, x[5])
    corner = x[np.abs(x - y) < 1e-12]  # the two nodes with end-of-period assets 0
    assert corner.size == 2
    kink_gap = abs(kink - (p.R_borrow * sol.kinks[0] + p.y[0]))
    corner_gap = np.abs(corner - (p.R * sol.corner_kinks[0] + p.y[0])).max()
    return float(gap.max()), float(gap.mean()), float(kink_gap), float(corner_gap)


def test_hark_kinked_r_consumer_agrees_with_egm():
    """Consumption, the constraint's kink and the corner's two kinks against econ-ark's HARK.

    Tolerances from HARK's own discretisation, which our EGM (kink levels among its
    nodes, 2000 nodes) resolves far more finely: HARK interpolates linearly between
    end-of-period nodes that do not include the asset levels where next period's
    kinks echo back, so its consumption is off by first-order interpolation errors
    there (measured 1.6e-3 at most, at m = 1.44, with 400 nodes; 4e-5 on average),
    and its corner endpoints by 1.1e-5, the kink by 1.6e-6. The gaps shrink as
    HARK's grid is refined (200 to 800 nodes: at least 2x for c, 4x for the corner):
    HARK converges to EGM.
    """
    pytest.importorskip("HARK")
    p = IFPParams(beta=0.93, transition=((0.5, 0.5), (0.5, 0.5)), **WEDGE)
    sol = solve_egm(p, n=2000)
    c_max, c_mean, kink, corner = _hark_gaps(p, sol, 400)
    assert c_max < 3e-3 and c_mean < 1e-4
    assert kink < 1e-5 and corner < 5e-5
    coarse, fine = _hark_gaps(p, sol, 200), _hark_gaps(p, sol, 800)
    assert fine[0] < coarse[0] / 2 and fine[3] < coarse[3] / 4


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n": 5}, ValueError, "`n` must be >= 10"),
        ({"n": 100.0}, TypeError, "`n` must be an integer"),
        ({"tol": 0.0}, ValueError, "`tol` must be > 0"),
        ({"tol": "1e-12"}, TypeError, "`tol` must be a real number"),
        ({"max_iter": 0}, ValueError, "`max_iter` must be >= 1"),
        ({"a_max": 10.0}, ValueError, "`a_max` = 10.0 is inside the ergodic set"),
        ({"a_max": -1.0}, ValueError, "`a_max` must be finite and >"),
        ({"a_max": "60"}, TypeError, "`a_max` must be a real number or None"),
    ],
)
def test_solve_egm_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        solve_egm(IFPParams(), **kwargs)


def test_solve_egm_needs_params_and_warns_when_it_stops_early():
    with pytest.raises(TypeError, match="`params` must be an IFPParams"):
        solve_egm({"beta": 0.96})
    with pytest.warns(RuntimeWarning, match="raise `max_iter`"):
        solve_egm(IFPParams(), n=50, max_iter=5)


@pytest.mark.parametrize(
    ("a", "state", "error", "match"),
    [
        (1.0, 2, ValueError, r"`state` must be in \[0, 2\)"),
        (1.0, -1, ValueError, r"`state` must be in \[0, 2\)"),
        (1.0, 0.5, TypeError, "`state` must be integer income-state indices"),
        (np.nan, 0, ValueError, "`a` must be finite"),
        ("1", 0, TypeError, "`a` must be"),
    ],
)
def test_policy_rejects_bad_points(default, a, state, error, match):
    _, sol, _ = default
    for method in (sol.policy, sol.value, sol.savings, sol.marginal_value):
        with pytest.raises(error, match=match):
            method(a, state)


# ------------------------------------------------------------------ Euler errors
def test_euler_errors_shapes_and_sign_of_a_policy_that_consumes_too_little(default):
    p, sol, _ = default
    assert euler_errors(sol, p).shape == (2, 1001)
    assert euler_errors(sol, p, [1.0, 2.0], [0, 1]).shape == (2,)
    assert euler_errors(sol.policy, p, np.ones((3, 4)), 1).shape == (3, 4)

    def stingy(a, s):  # halves consumption on [4.9, 5.1] only, where tomorrow's a' is not
        c = sol.policy(a, s)
        return np.where(np.abs(a - 5.0) < 0.1, c / 2, c)

    assert_allclose(euler_errors(stingy, p, [5.0, 5.05], 0), -1.0, atol=0.1)  # 1 - c~/c
    assert euler_errors(lambda a, s: 0.9 * p.cash(a, s), p, [5.0], 0)[0] > 0.5  # too much
    assert np.abs(euler_errors(lambda a, s: 0.8 * sol.policy(a, s), p, [5.0], 0)).max() < 0.02


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (("not a policy", IFPParams()), TypeError, "`policy` must be callable"),
        ((lambda a, s: a + 1, {"beta": 0.9}), TypeError, "`params` must be an IFPParams"),
        ((lambda a, s: a + 1, IFPParams(), [-0.5]), ValueError, "`a` must be >= -borrowing_limit"),
        ((lambda a, s: np.ones(3), IFPParams(), [1.0]), ValueError, "one consumption per"),
        ((lambda a, s: -np.ones_like(a), IFPParams(), [1.0]), ValueError, "positive consumption"),
        ((lambda a, s: a + 1, IFPParams(), [1.0], 5), ValueError, r"`state` must be in \[0, 2\)"),
    ],
)
def test_euler_errors_reject_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        euler_errors(*args)


# ------------------------------------------------------------------ distribution
def test_stationary_distribution_matches_the_reference_and_a_simulation(default):
    _, sol, dist = default
    assert_allclose(dist.pmf.sum(), 1.0, rtol=1e-12)
    assert (dist.pmf >= 0).all()
    assert_allclose(dist.mass_at_limit, 0.033, atol=0.002)  # the reference values
    assert_allclose(dist.mean_assets, 7.7, atol=0.05)
    rng = np.random.default_rng(0)  # an independent reference: simulate 10000 households
    a, s = np.zeros(10000), rng.integers(0, 2, 10000)
    total, count = 0.0, 0
    for t in range(1000):
        a = sol.savings(a, s)
        s = np.where(rng.random(a.size) < 0.9, s, 1 - s)
        if t >= 300:
            total, count = total + a.mean(), count + 1
    assert_allclose(total / count, dist.mean_assets, rtol=0.02)
    low = (dist.grid < sol.kinks[0] - 0.01) & (dist.pmf[0] > 0)
    assert_allclose(dist.mpc[0, low], 1.0, rtol=1e-9)  # constrained: a windfall is spent
    assert 0 < dist.mean_mpc < 0.2 and 0 < dist.quantile(0.5) < dist.quantile(0.999) < 30


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n": 5}, ValueError, "`n` must be >= 10"),
        ({"n": 50.0}, TypeError, "`n` must be an integer"),
        ({"limit_tol": 0.0}, ValueError, "`limit_tol` must be finite and > 0"),
        ({"windfall": -1e-3}, ValueError, "`windfall` must be finite and > 0"),
        ({"windfall": "x"}, TypeError, "`windfall` must be a real number"),
        ({"a_max": "30"}, TypeError, "`a_max` must be a real number or None"),
        ({"a_max": 1e-4}, ValueError, "`a_max` must exceed"),
    ],
)
def test_stationary_distribution_rejects_bad_input(default, kwargs, error, match):
    p, sol, _ = default
    with pytest.raises(error, match=match):
        stationary_distribution(sol, p, **kwargs)


def test_stationary_distribution_rejects_bad_policies_and_quantiles(default):
    p, _, dist = default
    with pytest.raises(TypeError, match="`policy` must be callable"):
        stationary_distribution(3.0, p)
    with pytest.raises(ValueError, match="one finite consumption"):
        stationary_distribution(lambda a, s: np.nan * a, p, n=20)
    with pytest.raises(ValueError, match=r"`q` must be in \(0, 1\]"):
        dist.quantile(1.5)
    with pytest.raises(TypeError, match="`q` must be a real number"):
        dist.quantile("0.5")


# ------------------------------------------------------------------ network solver
def test_solve_network_is_feasible_deterministic_and_lowers_its_loss():
    p = IFPParams()
    kw = {"activation": "tanh", "hidden": (8,), "steps": 4, "n_points": 64, "seed": 3}
    one, two = solve_network(p, **kw), solve_network(p, **kw)
    a = np.linspace(0.0, 40.0, 101)
    assert_array_equal(one.policy(a, 0), two.policy(a, 0))  # same seed, same weights
    for s in range(2):
        c = one.policy(a, s)
        assert (c > 0).all() and (c <= p.cash(a, s) + p.borrowing_limit).all()
    assert one.n_params == 2 * 8 + 8 + 8 * 2 + 2
    assert one.history["loss"].iloc[-1] < one.history["loss"].iloc[0]
    assert (one.multiplier(a, 0) > 0).all()


def test_kkt_policy_snaps_to_the_corner_on_egms_constrained_region(default):
    # EGM: c = x exactly on [-b, a*] in the low state (a* = 0.021), nowhere in the high one.
    # A trained network's snapped region is an interval from -b ending near a*: measured
    # ends 0.036-0.053 over seeds 0-3 (tanh (16, 16), 40 steps, 128 points), an error of at
    # most 0.032, so 0.05 (0.1 % of the domain [0, 50]) holds with room and still fails a
    # snap that spreads over the low-wealth range or vanishes.
    p, egm, _ = default
    sol = solve_network(p, activation="tanh", hidden=(16, 16), steps=40, n_points=128, seed=0)
    a = np.linspace(-p.borrowing_limit, 1.0, 20001)
    for s in range(2):
        c, kkt = sol.policy(a, s), sol.policy_kkt(a, s)
        x = p.cash(a, s) + p.borrowing_limit
        assert (c < x).all()  # the raw share never reaches 1
        snapped = kkt == x
        assert_array_equal(kkt[~snapped], c[~snapped])  # elsewhere the raw policy
        if not egm.binds[s]:
            assert not snapped.any()
            continue
        top = a[snapped].max()
        assert_array_equal(snapped, a <= top)  # one interval [-b, top]
        assert abs(top - egm.kinks[s]) <= 0.05, (top, egm.kinks[s])
    # the exact mass at the limit counts only a' = -b; within limit_tol counts a' <= -b + tol
    dist = stationary_distribution(sol.policy_kkt, p, n=300)
    raw = stationary_distribution(sol.policy, p, n=300)
    assert raw.mass_binding == 0 and dist.mass_binding <= dist.mass_at_limit + 1e-12


def test_linear_and_log_asset_inputs_both_train():
    p = IFPParams()
    kw = {"activation": "relu", "hidden": (8,), "steps": 2, "n_points": 64}
    linear, log = solve_network(p, asset_scale=np.inf, **kw), solve_network(p, **kw)
    assert linear.asset_scale == np.inf and log.asset_scale == pytest.approx(1.0)  # mean income
    a = np.array([0.0, 1.0, 10.0])
    assert not np.array_equal(linear.policy(a, 0), log.policy(a, 0))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"activation": "swish"}, ValueError, "`activation` must be one of"),
        ({"steps": 0}, ValueError, "`steps` must be >= 1"),
        ({"n_points": 1}, ValueError, "`n_points` must be >= 2"),
        ({"resimulate_every": 1.5}, TypeError, "`resimulate_every` must be an integer"),
        ({"periods": -1}, ValueError, "`periods` must be >= 0"),
        ({"explore": 1.0}, ValueError, r"`explore` must be in \[0, 1\)"),
        ({"domain": (0.5, 10.0)}, ValueError, "`domain` must be"),
        ({"domain": (0.0,)}, ValueError, "`domain` must be a pair"),
        ({"domain": 10.0}, TypeError, "`domain` must be a pair"),
        ({"dtype": torch.int32}, TypeError, "`dtype` must be torch.float32 or torch.float64"),
        ({"device": "tpu"}, ValueError, "`device` must be"),
        ({"optimizer": "sgd"}, ValueError, "`optimizer` must be one of"),
        ({"lr": 0.0}, ValueError, "`lr` must be > 0"),
        ({"asset_scale": 0.0}, ValueError, "`asset_scale` must be > 0"),
        ({"asset_scale": "1"}, TypeError, "`asset_scale` must be a real number"),
    ],
)
def test_solve_network_rejects_bad_input(kwargs, error, match):
    kwargs = {"steps": 1} | kwargs
    with pytest.raises(error, match=match):
        solve_network(IFPParams(), **kwargs)


# ------------------------------------------------------------------ the study
def _figures() -> tuple[str, ...]:
    """The study's figures: the fair-budget one too where the checkout has its CSVs."""
    from applications.economics._accuracy_page import load_accuracy

    return FIGURES + (("neural_solvers.png",) if load_accuracy() is not None else ())


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("econ")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the quick run must not warn
        result = run(out, device="cpu", seeds=(0,), quick=True)
    return result


def test_quick_run_writes_table_figures_and_section(quick):
    folder = quick.out_dir / "economics"
    figures = _figures()
    assert sorted(p.name for p in quick.figures) == sorted(figures)
    for name in figures:
        assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({name})" in quick.section  # linked by file name
    table = pd.read_csv(quick.table_path)
    assert list(table.columns) == [
        "part", "calibration", "target", "state", "model", "seed", "setting", "metric", "value",
    ]  # fmt: skip
    assert not table.isna().any().any()
    assert set(table.part) == {
        "egm", "convergence", "wedge", "fit", "distribution", "solve", "aiyagari",
    }  # fmt: skip
    assert quick.section_path.read_text() == quick.section
    assert quick.section.startswith("## ") and not re.search(r"^# ", quick.section, flags=re.M)
    assert quick.info["torch_threads"] == 1  # computed under one_thread()
    assert not list(folder.glob(".*.tmp"))  # nothing half-written left behind


def test_quick_run_numbers_come_from_the_run(quick):
    t = quick.table
    ge = t[t.part == "aiyagari"].set_index(["metric", "setting"])["value"]
    assert f"{100 * ge[('r_star', 'n=100')]:.5f} %" in quick.section
    assert f"wealth Gini {ge[('gini', '-')]:.3f}" in quick.section
    kink = t[(t.part == "egm") & (t.calibration == "default") & (t.metric == "kink")]
    assert kink.state.tolist() == [0]  # no row where nothing binds
    assert_allclose(kink.value.iloc[0], quick.info["kinks"][0])
    assert np.isnan(quick.info["kinks"][1]) and quick.info["binds"] == (True, False)
    assert f"{kink.value.iloc[0]:.4f}" in quick.section
    egm = t[(t.part == "distribution") & (t.model == "egm")].set_index("metric")["value"]
    assert f"{egm['mass_at_limit']:.2%}" in quick.section
    models = set(t[t.part == "distribution"].model)
    assert models == {
        "egm", "relu_fit", "tanh_fit", "relu_solved", "tanh_solved", "relu_kkt", "tanh_kkt",
        "relu_supervised", "tanh_supervised",
    }  # fmt: skip
    dist = t[t.part == "distribution"]
    exact = dist[(dist.metric == "mass_binding")].set_index("model")["value"]
    assert exact["relu_solved"] == 0 and exact["tanh_solved"] == 0  # a sigmoid never binds
    assert 0.03 < exact["egm"] <= egm["mass_at_limit"] + 1e-12
    assert f"{exact['egm']:.2%}" in quick.section
    fit = t[(t.part == "fit") & (t.target == "c") & (t.state == 0)]
    assert {"relu", "tanh", "fit_pwl", "interpolant"} <= set(fit.model)
    assert "kink_location_error_rel" in set(fit.metric)
    high = t[(t.part == "fit") & (t.target == "c") & (t.state == 1)]
    assert not high.metric.str.startswith("kink").any()  # no kink metrics without a kink


@pytest.fixture(scope="module")
def computed_and_calls():
    """compute(QUICK), counting the training calls compare_activations and train_many make."""
    import pwlmodels.compare as compare_module
    import pwlmodels.nets as nets_module

    calls = dict.fromkeys(("train", "train_many"), 0)

    def counting(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)

        return wrapper

    with pytest.MonkeyPatch.context() as mp:
        for module, name in ((compare_module, "train"), (compare_module, "train_many")):
            mp.setattr(module, name, counting(name, getattr(module, name)))
        mp.setattr(nets_module, "train", counting("train", nets_module.train))
        return compute(QUICK, seeds=(0,), device="cpu"), calls


@pytest.fixture(scope="module")
def computed(computed_and_calls):
    return computed_and_calls[0]


def test_every_fitted_network_is_trained_once_with_its_seeds_together(computed_and_calls):
    computed, calls = computed_and_calls
    fits = len(computed.fit_domains)  # one compare_activations per fit, one lr: no search
    # relu and tanh: one train_many each, whose single network (one seed) trains by
    # train itself; no other training (the fitted policies are the compared networks)
    assert fits > 0 and calls == {"train": 2 * fits, "train_many": 2 * fits}


def test_disallowed_flags_networks_tensors_callables_and_mutable_records():
    @dataclasses.dataclass
    class Mutable:
        x: float = 0.0

    assert disallowed((1, 2.0, "a", np.zeros(2), {"k": pd.DataFrame({"a": ["x"]})})) == []
    for bad in (torch.zeros(1), torch.nn.Linear(1, 1), len, np.array([None]), Mutable(), [1.0]):
        assert disallowed({"k": bad})


def test_compute_result_holds_only_numbers_arrays_tables_and_strings(computed):
    assert isinstance(computed, EconomicsResult)
    assert disallowed(computed) == []
    with pytest.raises(dataclasses.FrozenInstanceError):
        computed.mean_mpc = 1.0  # type: ignore[misc]


def test_compute_gives_the_run_s_table(computed, quick):
    pd.testing.assert_frame_equal(computed.table, quick.table)


def test_figures_and_section_render_the_result_without_torch(computed, tmp_path, no_computing):
    from applications.economics._figures import all_figures
    from applications.economics._section import section

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        paths = all_figures(computed, tmp_path, dpi=40)
        text = section(computed, seconds=1.0, quick=True)
    assert sorted(p.name for p in paths) == sorted(_figures())
    assert f"{computed.kinks['default'][0]:.4f}" in text


def test_seed_summary_has_one_row_per_key_of_the_table(computed):
    t, s = computed.table, computed.seed_summary
    keys = [c for c in t.columns if c not in ("seed", "value")]
    assert list(s.columns) == [*keys, "n", "mean", "sd", "max", "min"]
    assert len(s) == len(t[keys].drop_duplicates()) and s.n.sum() == len(t)
    one = s.n == 1  # one seed here: every statistic is the value itself, sd undefined
    assert one.all() and s.sd.isna().all()
    assert_array_equal(s["mean"], t.value)
    assert_array_equal(s["max"], t.value)
    assert_array_equal(s["min"], t.value)


def test_section_code_takes_no_statistics():
    """The section only looks numbers up: every statistic over seeds is computed by compute."""
    import applications.economics._section as module

    text = Path(module.__file__).read_text()
    for call in (".mean(", ".std(", ".max(", ".min(", "groupby", ".agg("):
        assert call not in text, call


def test_compute_rejects_a_config_that_is_not_one():
    with pytest.raises(TypeError, match="`config` must be a Config"):
        compute({"egm_n": 300}, seeds=(0,))


def test_quick_rerun_on_the_cpu_gives_the_identical_table(quick, tmp_path):
    again = run(tmp_path, device="cpu", seeds=(0,), quick=True)
    pd.testing.assert_frame_equal(again.table, quick.table)
    assert (tmp_path / "economics" / "table.csv").read_bytes() == quick.table_path.read_bytes()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"out_dir": 3}, TypeError, "`out_dir` must be a str or os.PathLike"),
        ({"seeds": ()}, ValueError, "at least one seed"),
        ({"seeds": (0, 0)}, ValueError, "`seeds` must be distinct"),
        ({"seeds": (0, -1)}, ValueError, r"`seeds\[1\]` must be >= 0"),
        ({"seeds": ("0",)}, TypeError, r"`seeds\[0\]` must be an integer"),
        ({"seeds": "012"}, TypeError, "`seeds` must be a sequence of integers"),
        ({"quick": "yes"}, TypeError, "`quick` must be True or False"),
        ({"device": "tpu"}, ValueError, "`device` must be"),
    ],
)
def test_run_rejects_bad_input_before_writing(tmp_path, kwargs, error, match):
    kwargs = {"out_dir": tmp_path, "quick": True} | kwargs
    with pytest.raises(error, match=match):
        run(kwargs.pop("out_dir"), **kwargs)
    assert not (tmp_path / "economics").exists()


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    result = doctest.testmod(module, optionflags=flags)
    assert result.failed == 0 and result.attempted > 0


def test_distribution_names_the_default_top_when_it_is_below_limit_tol():
    p = IFPParams(incomes=(1e-5, 2e-5))  # tiny incomes: the ergodic top is below 1e-3
    with pytest.raises(ValueError, match=r"limit_tol = 0.001; got the default \(1.25 times"):
        stationary_distribution(solve_egm(p, n=60), p, n=60)
