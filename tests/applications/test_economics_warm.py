"""The EGM policy as the neural solver's exact start (applications.economics._warm)."""

from __future__ import annotations

import doctest
import functools

import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal

from applications.economics import _warm as warm
from applications.economics import solve_egm, solve_network
from applications.economics._euler import euler_errors
from applications.economics._study import calibrations
from applications.economics._warm import compare_warm_start, egm_network, egm_splines


@functools.cache
def egm(name: str = "default"):
    return solve_egm(calibrations()[name], n=200)


def domain(sol):
    return (-sol.params.borrowing_limit, sol.ergodic_max)


def exact_solution(sol, n_knots=None, steps=0, **kw):
    net = egm_network(sol, domain(sol), n_knots=n_knots)
    return solve_network(
        sol.params, steps=steps, domain=domain(sol), asset_scale=np.inf, consumption="level",
        init=net, **kw,
    )  # fmt: skip


def interpolant(sol, n_knots):
    """EGM interpolated on the subset's knots by numpy.interp (not by the splines)."""
    splines = egm_splines(sol, n_knots=n_knots, top=sol.ergodic_max)

    def policy(a, s):
        a, s = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(s))
        out = np.empty(a.shape)
        for k, f in enumerate(splines):
            t = f.knots
            c = sol.policy(t, k)
            sel = s == k
            # interior by numpy.interp; the ends continue the end segments
            x = a[sel]
            lin_lo = c[0] + f.left_slope * (x - t[0])
            lin_hi = c[-1] + (c[-1] - c[-2]) / (t[-1] - t[-2]) * (x - t[-1])
            inner = np.where(x > t[-1], lin_hi, np.interp(x, t, c))
            out[sel] = np.where(x < t[0], lin_lo, inner)
        return out

    return policy


@pytest.mark.parametrize("name", ["default", "wedge", "aiyagari"])
def test_exact_network_equals_the_egm_policy_at_1e4_points(name):
    sol = egm(name)
    ns = exact_solution(sol)
    a = np.linspace(*domain(sol), 10_000)
    states = np.arange(sol.params.n_states)[:, None]
    assert_allclose(ns.policy(a, states), sol.policy(a, states), rtol=1e-13, atol=0.0)


@pytest.mark.parametrize("name", ["default", "wedge"])
def test_exact_network_on_a_knot_subset_equals_its_interpolant(name):
    sol = egm(name)
    ns = exact_solution(sol, n_knots=10)
    a = np.linspace(*domain(sol), 10_000)
    states = np.arange(sol.params.n_states)[:, None]
    assert_allclose(ns.policy(a, states), interpolant(sol, 10)(a, states), rtol=1e-13, atol=0.0)


def test_the_subset_error_against_egm_falls_with_the_knots():
    sol = egm()
    a = np.linspace(*domain(sol), 5001)
    errors = [np.abs(interpolant(sol, k)(a, 0) / sol.policy(a, 0) - 1).max() for k in (6, 12, 24)]
    assert errors[0] > errors[1] > errors[2] > 0


def test_binding_consumption_is_cash_on_hand_exactly():
    """Below the kink c = x to rounding (float64 rates: R in float32 missed by 1e-9)."""
    sol = egm()
    p = sol.params
    a = np.linspace(-p.borrowing_limit, sol.kinks[0], 200)
    ns = exact_solution(sol)
    assert_allclose(ns.policy(a, 0), p.cash(a, 0) + p.borrowing_limit, rtol=1e-15, atol=0.0)


def test_zero_training_steps_keep_egm_euler_errors():
    sol = egm()
    ns = exact_solution(sol)
    a = np.linspace(*domain(sol), 2001)
    assert_allclose(euler_errors(ns.policy, sol.params, a), euler_errors(sol, sol.params, a),
                    rtol=0.0, atol=1e-13)  # fmt: skip
    assert ns.history.empty


def test_training_from_the_exact_start_is_reproducible_and_leaves_it_alone():
    sol = egm()
    net = egm_network(sol, domain(sol), n_knots=8)
    before = [t.clone() for t in net.parameters()]
    kw = dict(
        steps=2, n_points=32, domain=domain(sol), asset_scale=np.inf, consumption="level",
        init=net,
    )  # fmt: skip
    one, two = solve_network(sol.params, **kw), solve_network(sol.params, **kw)
    for x, y in zip(one.net.parameters(), two.net.parameters(), strict=True):
        torch.testing.assert_close(x, y, rtol=0.0, atol=0.0)
    for x, z in zip(net.parameters(), before, strict=True):
        torch.testing.assert_close(x, z, rtol=0.0, atol=0.0)
    assert_array_equal(one.history["loss"], two.history["loss"])
    assert one.policy(np.array([1.0]), 0)[0] != sol.policy(np.array([1.0]), 0)[0]  # it trained


def test_comparison_table_is_tidy_and_its_exact_start_matches_egm():
    df = compare_warm_start(egm(), n_knots=None, steps=(1,), n_points=32)
    assert list(df.columns) == ["start", "steps", "metric", "value"]
    runs = set(zip(df.start, df.steps, strict=True))
    assert runs == {("egm", 0), ("egm_exact", 0), ("egm_exact", 1), ("random", 1)}
    wide = df.pivot_table(index="metric", columns=["start", "steps"], values="value")
    euler = [m for m in wide.index if m.startswith("euler")]
    assert len(euler) == 4
    assert_allclose(wide.loc[euler, ("egm_exact", 0)], wide.loc[euler, ("egm", 0)], atol=1e-9)
    assert wide.loc["policy_max_rel_error", ("egm_exact", 0)] < 1e-13
    n_params = df[df.metric == "n_params"].value
    assert n_params.nunique() == 1


def test_level_and_share_outputs_both_train():
    sol = egm()
    for consumption in ("share", "level"):
        ns = solve_network(sol.params, hidden=(8,), steps=1, n_points=32,
                           consumption=consumption)  # fmt: skip
        c = ns.policy(np.array([0.0, 5.0]), 0)
        assert ns.consumption == consumption and np.all(c > 0)
        assert np.all(c <= sol.params.cash(np.array([0.0, 5.0]), 0) + sol.params.borrowing_limit)


def _net_with(*, n_in=2, n_out=2, nan=False):
    net = torch.nn.Sequential(torch.nn.Linear(n_in, 4), torch.nn.ReLU(), torch.nn.Linear(4, n_out))
    if nan:
        with torch.no_grad():
            net[2].bias[0] = float("nan")
    return net.double()


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: egm_network("x", (0.0, 1.0)), TypeError, "`sol`"),
        (lambda: egm_network(egm(), (1.0, 2.0)), ValueError, "`domain`"),
        (lambda: egm_network(egm(), (0.0, 5.0), n_knots=1), ValueError, "`n_knots`"),
        (lambda: egm_network(egm(), (0.0, 5.0), n_eta=1), ValueError, "`n_eta`"),
        (lambda: egm_network(egm(), (0.0, 5.0), n_eta=2.5), TypeError, "`n_eta`"),
        (lambda: egm_splines(None), TypeError, "`sol`"),
        (lambda: egm_splines(egm(), n_knots="3"), TypeError, "`n_knots`"),
        (lambda: compare_warm_start("x"), TypeError, "`sol`"),
        (lambda: compare_warm_start(egm(), steps="5"), TypeError, "`steps`"),
        (lambda: compare_warm_start(egm(), steps=(0,)), ValueError, "`steps`"),
        (lambda: solve_network(egm().params, init="net"), TypeError, "`init`"),
        (
            lambda: solve_network(egm().params, init=_net_with(nan=True), steps=0),
            ValueError,
            "`init` must have finite parameters",
        ),
        (
            lambda: solve_network(egm().params, init=_net_with(n_in=3), steps=0),
            ValueError,
            "`init` must take 2 inputs",
        ),
        (
            lambda: solve_network(egm().params, init=_net_with(n_out=1), steps=0),
            ValueError,
            r"`init` must map \(N, 2\) inputs to \(N, 2\) outputs .* -> \(3, 1\)",
        ),
        (
            lambda: solve_network(egm().params, init=torch.nn.Sequential(torch.nn.ReLU()), steps=0),
            ValueError,
            "`init` must have parameters",
        ),
        (lambda: solve_network(egm().params, consumption="log"), ValueError, "`consumption`"),
        (lambda: solve_network(egm().params, steps=0), ValueError, "`steps`"),
    ],
)
def test_hostile_inputs_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_docstring_examples_run():
    result = doctest.testmod(warm, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


def test_the_table_is_a_dataframe_of_floats():
    df = compare_warm_start(egm(), n_knots=6, steps=(1,), n_points=16)
    assert isinstance(df, pd.DataFrame) and df.value.dtype == float
    assert np.isfinite(df.value[df.metric != "loss"]).all()


def test_page_paragraph_renders_the_table_and_nothing_without_it():
    from applications.economics._warm_page import warm_text

    df = compare_warm_start(egm(), n_knots=6, steps=(1, 2), n_points=16)
    text = warm_text(df)
    assert text.startswith("### The exact core as the solver's start")
    assert "after 1 steps" in text and "after 2 steps" in text
    for where in ("near the kink its max error", "away from it its max error"):
        tail = text.split(where)[1]
        assert any(tail.startswith(f" {verb} (") for verb in ("is kept", "improves", "drifts up"))
    assert warm_text(None) == ""
