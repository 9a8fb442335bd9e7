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
    ],
)
def test_params_refuse_bad_values(kwargs, error, match):
    with pytest.raises(error, match=match):
        AiyagariParams(**kwargs)


def test_solve_refuses_bad_arguments():
    p = AiyagariParams(n_states=2)
    with pytest.raises(TypeError, match="`params` must be an AiyagariParams"):
        solve_aiyagari(dataclasses.asdict(p))
    with pytest.raises(ValueError, match="`n` must be an integer >= 50"):
        solve_aiyagari(p, n=10)
    with pytest.raises(ValueError, match="does not bracket the equilibrium"):
        solve_aiyagari(p, n=60, bracket=(0.001, 0.002))
    with pytest.raises(ValueError, match="`xtol` must be in"):
        solve_aiyagari(p, n=60, xtol=0.0)
