"""Node models (Daganzo 1995, Tampere et al. 2011) and the freeway corridor simulator."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from applications.traffic import diverge_flows, merge_flows, node_flows

INF = float("inf")


# ------------------------------------------------------------ hand-computed cases
def test_merge_both_congested_get_priority_shares():
    # D = (1500, 800) > S = 2000 in total; shares 0.75 * 2000 = 1500 and 0.25 * 2000 = 500;
    # approach 1 median(1500, 2000 - 800 = 1200, 1500) = 1500, approach 2 median(800, 500, 500).
    assert_allclose(merge_flows([1500.0, 800.0], 2000.0, [3.0, 1.0]), [1500.0, 500.0])


def test_merge_unused_share_goes_to_the_other_approach():
    # shares 1125 and 375 of S = 1500; approach 1 asks 1000 < 1125, so approach 2 gets
    # 1500 - 1000 = 500 (more than its share 375, less than its demand 800).
    assert_allclose(merge_flows([1000.0, 800.0], 1500.0, [0.75, 0.25]), [1000.0, 500.0])


def test_merge_uncongested_passes_demands():
    # 700 + 600 = 1300 <= 2000: both pass.
    assert_allclose(merge_flows([700.0, 600.0], 2000.0, [1.0, 1.0]), [700.0, 600.0])


def test_diverge_most_constrained_branch_limits_both():
    # q = min(3000, 1800 / 0.9 = 2000, 400 / 0.1 = 4000) = 2000 -> (1800, 200).
    assert_allclose(diverge_flows(3000.0, [0.9, 0.1], [1800.0, 400.0]), [1800.0, 200.0])
    # the off-ramp blocked: q = min(3000, 6000 / 0.8, 100 / 0.2 = 500) = 500 -> (400, 100).
    assert_allclose(diverge_flows(3000.0, [0.8, 0.2], [6000.0, 100.0]), [400.0, 100.0])


def test_diverge_with_a_zero_fraction_ignores_that_branch():
    assert_allclose(diverge_flows(1000.0, [1.0, 0.0], [INF, 0.0]), [1000.0, 0.0])


def test_general_node_two_in_two_out_by_hand():
    # Demands 1000 and 2000; turning [[0.5, 0.5], [0.25, 0.75]]; supplies 1000 and 2000;
    # priorities (capacities) 2000 and 2000. Oriented capacities C_ij = [[1000, 1000],
    # [500, 1500]]. a_1 = 1000 / 1500 = 2/3, a_2 = 2000 / 2500 = 0.8: j = 1 is most restrictive.
    # Shares a_1 C_i = 1333.3 each: link 1 (1000) fits -> sends (500, 500); link 2 (2000) not.
    # Left: R = (500, 1500); only link 2 competes: a_1 = 500 / 500 = 1, a_2 = 1500 / 1500 = 1;
    # 2000 > 1 * 2000? no (equal): demand-constrained -> (500, 1500).
    q = node_flows([1000.0, 2000.0], [[0.5, 0.5], [0.25, 0.75]], [1000.0, 2000.0], [2e3, 2e3])
    assert_allclose(q, [[500.0, 500.0], [500.0, 1500.0]])
    # Supply 1 cut to 900: a_1 = 900 / 1500 = 0.6, shares 1200: link 1 fits -> (500, 500);
    # R = (400, 1500); link 2: a_1 = 400 / 500 = 0.8, a_2 = 1500 / 1500 = 1 -> j = 1, share
    # 0.8 * 2000 = 1600 < 2000: supply-constrained, sends 1600 split (400, 1200).
    q = node_flows([1000.0, 2000.0], [[0.5, 0.5], [0.25, 0.75]], [900.0, 2000.0], [2e3, 2e3])
    assert_allclose(q, [[500.0, 500.0], [400.0, 1200.0]])


def test_general_node_zero_demand_and_zero_supply():
    q = node_flows([0.0, 500.0], [[1.0, 0.0], [0.5, 0.5]], [0.0, 1000.0], [1.0, 1.0])
    assert_allclose(q, [[0.0, 0.0], [0.0, 0.0]])  # FIFO: the blocked branch holds link 2


# --------------------------------------------------------------- properties
demand = st.floats(0.0, 5000.0)
supply = st.one_of(st.floats(0.0, 6000.0), st.just(INF))
weight = st.floats(0.1, 10.0)


@st.composite
def nodes(draw):
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    d = np.array([draw(demand) for _ in range(n)])
    raw = np.array([[draw(st.floats(0.0, 1.0)) for _ in range(m)] for _ in range(n)])
    raw[:, 0] += 1e-3  # rows with a positive sum
    a = raw / raw.sum(axis=1, keepdims=True)
    a = a / a.sum(axis=1, keepdims=True)
    s = np.array([draw(supply) for _ in range(m)])
    p = np.array([draw(weight) for _ in range(n)])
    return d, a, s, p


def _check_node(q, d, a, s):
    tol = 1e-9 * (1.0 + np.abs(d).sum())
    assert (q >= -tol).all()
    assert (q <= d[:, None] * a + tol).all()  # no flow above demand
    assert (q.sum(axis=0) <= s + tol).all()  # no flow above supply
    sent = q.sum(axis=1)
    ratio = np.divide(sent, d, out=np.ones_like(d), where=d > 0)
    assert_allclose(q, ratio[:, None] * d[:, None] * a, rtol=0, atol=tol)  # FIFO
    return sent, ratio, tol


@settings(max_examples=150, deadline=None)
@given(nodes())
def test_node_flows_respect_demand_supply_fifo_and_conserve(node):
    d, a, s, p = node
    q = node_flows(d, a, s, p)
    sent, ratio, tol = _check_node(q, d, a, s)
    assert_allclose(sent.sum(), q.sum(axis=0).sum(), rtol=1e-14, atol=1e-9)  # in = out
    # every approach is demand-constrained or held by an outgoing link whose supply is used
    full = q.sum(axis=0) >= s - tol
    for i in np.nonzero(ratio < 1 - 1e-9)[0]:
        assert (full & (a[i] > 0)).any()


@settings(max_examples=150, deadline=None)
@given(nodes(), st.floats(1.0, 4.0))
def test_invariance_principle(node, factor):
    # Tampere et al.: raising the demand of a supply-constrained approach changes nothing.
    d, a, s, p = node
    q = node_flows(d, a, s, p)
    held = q.sum(axis=1) < d * (1 - 1e-9)
    if held.any():
        more = np.where(held, d * factor, d)
        assert_allclose(node_flows(more, a, s, p), q, rtol=1e-9, atol=1e-7)


@settings(max_examples=150, deadline=None)
@given(st.tuples(demand, demand), supply, st.tuples(weight, weight))
def test_general_node_is_daganzos_merge(d, s, p):
    q = node_flows(d, [[1.0], [1.0]], [s], p)[:, 0]
    assert_allclose(q, merge_flows(d, s, p), rtol=1e-12, atol=1e-9)
    if sum(d) > s:
        assert_allclose(q.sum(), s, rtol=1e-12, atol=1e-9)  # the whole supply is used


@settings(max_examples=150, deadline=None)
@given(demand, st.floats(0.0, 1.0), st.tuples(supply, supply))
def test_general_node_is_daganzos_diverge(d, b, s):
    q = node_flows([d], [[1.0 - b, b]], s, [1.0])[0]
    assert_allclose(q, diverge_flows(d, [1.0 - b, b], s), rtol=1e-12, atol=1e-9)


# ----------------------------------------------------------- hostile input
@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: merge_flows([1.0], 1.0, [1.0, 1.0]), ValueError, "`demands` must have shape"),
        (lambda: merge_flows([-1.0, 1.0], 1.0, [1.0, 1.0]), ValueError, "`demands`"),
        (lambda: merge_flows([1.0, 1.0], -1.0, [1.0, 1.0]), ValueError, "`supply`"),
        (lambda: merge_flows([1.0, 1.0], 1.0, [0.0, 1.0]), ValueError, "`priorities`"),
        (lambda: merge_flows("ab", 1.0, [1.0, 1.0]), TypeError, "`demands`"),
        (lambda: merge_flows([1.0, 1.0], "1", [1.0, 1.0]), TypeError, "`supply`"),
        (lambda: diverge_flows(np.nan, [0.5, 0.5], [1.0, 1.0]), ValueError, "`demand`"),
        (lambda: diverge_flows(1.0, [0.5, 0.6], [1.0, 1.0]), ValueError, "sum to 1"),
        (lambda: diverge_flows(1.0, [1.0], [1.0]), ValueError, "`turning` must have shape"),
        (lambda: diverge_flows(1.0, [0.5, 0.5], [1.0, np.nan]), ValueError, "`supplies`"),
        (lambda: node_flows([1.0], [[1.5, -0.5]], [1.0, 1.0], [1.0]), ValueError, "`turning`"),
        (lambda: node_flows([1.0], [[1.0]], [1.0, 1.0], [1.0]), ValueError, "`supplies`"),
        (lambda: node_flows([1.0, 1.0], [[1.0]], [1.0], [1.0, 1.0]), ValueError, "`turning`"),
        (lambda: node_flows([INF], [[1.0]], [1.0], [1.0]), ValueError, "`demands`"),
        (lambda: node_flows([1.0], [[1.0]], [1.0], [1.0, 2.0]), ValueError, "`priorities`"),
        (lambda: node_flows([1.0], [[1.0]], [1.0], [True]), TypeError, "`priorities`"),
    ],
)
def test_hostile_node_input_is_refused_by_name(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("name", ["applications.traffic._nodes"])
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    result = doctest.testmod(module, optionflags=flags)
    assert result.failed == 0 and result.attempted > 0
