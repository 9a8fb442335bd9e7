"""Aiyagari general equilibrium: r* against sequence-jacobian, firm conditions, distribution."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from applications.economics import AiyagariParams, solve_aiyagari
from applications.economics._aiyagari import quintile_means, wealth_gini

CALIBRATIONS = [
    AiyagariParams(n_states=3),
    AiyagariParams(gamma=1.0, rho=0.6, sigma=0.4, n_states=5, borrowing_limit=0.5),
]


@pytest.fixture(scope="module", params=range(len(CALIBRATIONS)), ids=["default3", "log5debt"])
def solved(request):
    p = CALIBRATIONS[request.param]
    return p, solve_aiyagari(p, n=300)


def test_r_star_matches_sequence_jacobian_within_one_basis_point(solved):
    pytest.importorskip("sequence_jacobian")
    from applications.economics._aiyagari_check import ssj_r_star

    p, eq = solved
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba / numpy deprecation chatter
        ref = ssj_r_star(p, n_a=500)
    # measured at n = 300: 0.15 and 0.53 bp; at n = 1000 both within 0.05 bp
    assert abs(eq.r - ref) < 1e-4


def test_firm_first_order_conditions_hold_at_the_reported_prices(solved):
    p, eq = solved
    assert eq.r == pytest.approx(p.alpha * eq.capital ** (p.alpha - 1) - p.delta, rel=1e-12)
    assert eq.wage == pytest.approx((1 - p.alpha) * eq.capital**p.alpha, rel=1e-12)
    supply = eq.distribution.mean_assets
    assert abs(supply - eq.capital) == pytest.approx(abs(eq.excess), abs=1e-12)
    assert abs(eq.excess) < 1e-4 * eq.capital
    assert eq.distribution.params.R == 1 + eq.r
    assert np.allclose(
        eq.distribution.params.y / eq.wage, p.household(0.0).y / p.wage(0.0), rtol=1e-12
    )


def test_distributional_outputs(solved):
    _, eq = solved
    assert 0 < eq.gini < 1 and 0 < eq.share_at_limit < 0.2
    mpc = eq.mpc_by_quintile
    assert mpc.shape == (5,) and mpc[0] > mpc[-1] > 0
    dist = eq.distribution
    assert np.isclose(np.dot(quintile_means(dist.pmf, dist.mpc), np.full(5, 0.2)), dist.mean_mpc)


def test_wealth_gini_against_the_mean_absolute_difference():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(-1.0, 10.0, 40))
    m = rng.uniform(0.0, 1.0, 40)
    m /= m.sum()
    mad = np.sum(m[:, None] * m[None, :] * np.abs(x[:, None] - x[None, :]))
    assert wealth_gini(x, m) == pytest.approx(mad / (2 * np.dot(m, x)), rel=1e-12)
    assert wealth_gini(np.array([0.0, 1.0]), np.array([0.5, 0.5])) == pytest.approx(0.5)


def test_quintile_means_split_a_node_across_a_boundary():
    # nodes hold CDF [0, .1), [.1, .4), [.4, 1): the first fifth takes half of node 1
    pmf = np.array([[0.1, 0.3, 0.6], [0.0, 0.0, 0.0]])
    vals = np.array([[10.0, 20.0, 30.0], [99.0, 99.0, 99.0]])
    assert np.allclose(quintile_means(pmf, vals), [15.0, 20.0, 30.0, 30.0, 30.0])
    pmf = np.array([[0.05, 0.15, 0.25, 0.1], [0.05, 0.15, 0.05, 0.2]])  # two states per node
    vals = np.array([[1.0, 2.0, 3.0, 4.0], [3.0, 4.0, 5.0, 6.0]])
    # node means 2, 3, 3 1/3, 5 1/3 over CDF [0, .1), [.1, .4), [.4, .7), [.7, 1)
    want = [(0.1 * 2 + 0.1 * 3) / 0.2, 3.0, 10 / 3, (0.1 * 10 / 3 + 0.1 * 16 / 3) / 0.2, 16 / 3]
    assert np.allclose(quintile_means(pmf, vals), want)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"beta": 1.0}, ValueError, "`beta` must be in"),
        ({"gamma": -1.0}, ValueError, "`gamma` must be in"),
        ({"rho": 1.0}, ValueError, "`rho` must be in"),
        ({"sigma": 0.0}, ValueError, "`sigma` must be in"),
        ({"alpha": 1.5}, ValueError, "`alpha` must be in"),
        ({"delta": -0.1}, ValueError, "`delta` must be in"),
        ({"borrowing_limit": -1.0}, ValueError, "`borrowing_limit` must be in"),
        ({"n_states": 1}, ValueError, "`n_states` must be >= 2"),
        ({"n_states": 2.0}, TypeError, "`n_states` must be an integer"),
        ({"beta": "0.96"}, TypeError, "`beta` must be a real number"),
        ({"sigma": np.nan}, ValueError, "`sigma` must be in"),
        ({"gamma": np.inf}, ValueError, "`gamma` must be in"),
        ({"delta": 1.0}, ValueError, r"`delta` must be in \[0, 1\)"),
        ({"beta": np.float16(0.9)}, TypeError, "`beta` has dtype float16"),
        ({"rho": [0.5]}, TypeError, "`rho` must be a real number"),
        ({"sigma": 300.0}, ValueError, r"`sigma` \* sqrt\(`n_states` - 1\) = 734.847 is too wide"),
        ({"borrowing_limit": 1e3}, ValueError, r"`borrowing_limit` must be below the natural"),
    ],
)
def test_params_refuse_bad_values(kwargs, error, match):
    with pytest.raises(error, match=match):
        AiyagariParams(**kwargs)


def test_params_accept_numpy_scalars_as_python_numbers():
    p = AiyagariParams(beta=np.float64(0.95), gamma=np.array(2.0), n_states=np.int64(3))
    assert (p.beta, p.gamma, p.n_states) == (0.95, 2.0, 3)
    assert type(p.beta) is float and type(p.gamma) is float and type(p.n_states) is int


def test_natural_borrowing_limit_is_the_bound_at_the_highest_rate():
    p = AiyagariParams(n_states=3)
    r_top = 1 / p.beta - 1
    natural = p.wage(r_top) * min(p.efficiency().incomes) / r_top
    assert AiyagariParams(n_states=3, borrowing_limit=0.99 * natural).household(0.04)
    with pytest.raises(ValueError, match=f"natural borrowing limit .* = {natural:.6g} at"):
        AiyagariParams(n_states=3, borrowing_limit=natural)


@pytest.mark.parametrize("r", [-0.08, -0.5, np.nan, np.inf])
def test_prices_refuse_rates_where_demand_is_not_finite(r):
    with pytest.raises(ValueError, match=r"`r` must be in \(-0.08, inf\)"):
        AiyagariParams().capital_demand(r)


def test_household_refuses_rates_at_or_above_one_over_beta():
    with pytest.raises(ValueError, match=r"`r` must be in \(-0.08, 0.0416667\)"):
        AiyagariParams().household(1 / 0.96 - 1)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n": True}, TypeError, "`n` must be an integer; got bool"),
        ({"n": 100.0}, TypeError, "`n` must be an integer; got float"),
        ({"n": -5}, ValueError, "`n` must be >= 50; got -5"),
        ({"bracket": 0.01}, TypeError, r"`bracket` must be a pair \(lo, hi\); got float"),
        ({"bracket": "ab"}, TypeError, r"`bracket` must be a pair \(lo, hi\); got str"),
        ({"bracket": (0.01,)}, ValueError, "`bracket` must be a pair .* got 1 entries"),
        ({"bracket": (0.0, 0.01, 0.02)}, ValueError, "got 3 entries"),
        ({"bracket": ("a", "b")}, TypeError, "`bracket` must be a real number"),
        ({"bracket": (np.nan, 0.03)}, ValueError, "`bracket` must be finite"),
        ({"bracket": (0.01, np.inf)}, ValueError, "`bracket` must be finite"),
        ({"bracket": (0.03, 0.01)}, ValueError, "`bracket` must hold -delta < lo < hi"),
        ({"bracket": (0.01, 0.01)}, ValueError, "`bracket` must hold -delta < lo < hi"),
        ({"bracket": (-0.09, 0.01)}, ValueError, "`bracket` must hold -delta < lo < hi"),
        ({"bracket": (0.01, 0.05)}, ValueError, r"hi < 1/beta - 1 = 0.0416667"),
        ({"xtol": True}, TypeError, "`xtol` must be a real number"),
    ],
)
def test_solve_refuses_bad_arguments_naming_them(kwargs, error, match):
    with pytest.raises(error, match=match):
        solve_aiyagari(AiyagariParams(n_states=2), **({"n": 60} | kwargs))


def test_solve_accepts_numpy_integers_and_a_numpy_bracket():
    p = AiyagariParams(n_states=2)
    eq = solve_aiyagari(p, n=np.int64(60), bracket=np.array([0.0, 0.041]))
    assert eq.r == pytest.approx(solve_aiyagari(p, n=60, bracket=(0.0, 0.041)).r, abs=1e-12)
    assert 0.0 < eq.r < 0.041


def test_default_bracket_moves_its_top_when_no_ergodic_top_exists():
    from applications.economics._egm import default_a_max

    p = AiyagariParams(n_states=3, gamma=30.0)
    with pytest.raises(RuntimeError, match="could not find the top of the ergodic set"):
        default_a_max(p.household(1 / p.beta - 1 - 1e-4))  # the first default top
    eq = solve_aiyagari(p, n=60)
    assert -p.delta < eq.r < 1 / p.beta - 1
    assert abs(eq.excess) < 1e-4 * eq.capital


def test_a_tiny_wage_economy_gets_a_clear_error():
    # beta = 1e-6: r up to 1e6, wages near 1e-4, below the distribution's limit_tol
    with pytest.raises(ValueError, match=r"households' problem at r = .* cannot be solved"):
        solve_aiyagari(AiyagariParams(n_states=3, beta=1e-6), n=60)


@pytest.mark.parametrize("alpha", [0.95, 0.99])
def test_alpha_near_one_is_refused_before_any_solve(alpha):
    with pytest.raises(ValueError, match=f"alpha = {alpha:g} too near 1"):
        solve_aiyagari(AiyagariParams(n_states=3, alpha=alpha), n=60)


def test_alpha_near_one_raises_the_bracket_start_to_a_wage_of_1e6():
    p = AiyagariParams(n_states=3, alpha=0.7)
    with pytest.raises(ValueError, match=r"`bracket` must start at r >= -0.0[0-9]+, where the"):
        solve_aiyagari(p, n=60, bracket=(-0.079, 0.04))
    eq = solve_aiyagari(p, n=60)
    assert abs(eq.excess) < 1e-5 * eq.capital


def test_no_income_risk_says_why_there_is_no_bracket():
    with pytest.raises(ValueError, match=r"without enough income risk r\* is 1/beta - 1"):
        solve_aiyagari(AiyagariParams(n_states=3, sigma=1e-12), n=60)


def test_solve_refuses_bad_arguments():
    p = AiyagariParams(n_states=2)
    with pytest.raises(TypeError, match="`params` must be an AiyagariParams"):
        solve_aiyagari(dataclasses.asdict(p))
    with pytest.raises(ValueError, match="does not bracket the equilibrium"):
        solve_aiyagari(p, n=60, bracket=(0.001, 0.002))
    with pytest.raises(ValueError, match="`xtol` must be in"):
        solve_aiyagari(p, n=60, xtol=0.0)
