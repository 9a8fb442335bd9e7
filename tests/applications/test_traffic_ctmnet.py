"""The CTM step as an exact ReLU network: against simulate_ctm, against an exact rational
step, unrolled over T steps, and the certified worst case over a box of inflow profiles."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from applications.traffic import (
    TriangularFD,
    ctm_step_network,
    ctm_unrolled_network,
    ctm_worst_case,
    simulate_ctm,
)
from applications.traffic._ctmnet import network_size
from pwlmodels import evaluate

EPS = np.finfo(np.float64).eps
FD = TriangularFD()
DROP = np.array([2.0, 2.0, 2.0, 2.0, 1.0, 1.0])  # a lane drop at interface 4
DX, DT = 0.1, 0.001  # dt = dx / vf: the CFL condition holds with equality


def exact_step(fd, rho, queue, inflow, lanes, dx, dt, exit_supply=math.inf):
    """One CTM step in rational arithmetic, from the definitions (Lebacque's min(D, S))."""
    F = Fraction
    vf, w, jam, cap = F(fd.vf), F(fd.w), F(fd.rho_jam), F(fd.capacity)
    n = len(rho)
    rho, lanes = [F(r) for r in rho], [F(m) for m in lanes]
    dem = [min(vf * r, m * cap) for r, m in zip(rho, lanes, strict=True)]
    sup = [min(m * cap, w * (m * jam - r)) for r, m in zip(rho, lanes, strict=True)]
    entry = F(inflow) + F(queue) / F(dt)
    flows = [min(entry, sup[0])]
    flows += [min(dem[i - 1], sup[i]) for i in range(1, n)]
    flows.append(dem[-1] if math.isinf(exit_supply) else min(dem[-1], F(exit_supply)))
    ratio = F(dt) / F(dx)
    new = [rho[i] + ratio * (flows[i] - flows[i + 1]) for i in range(n)]
    return [float(v) for v in new], float(F(queue) + F(dt) * (F(inflow) - flows[0]))


def random_state(rng, lanes, *, queue_max=5.0, inflow_max=5000.0):
    rho = rng.uniform(0.0, lanes * FD.rho_jam)
    rho[rng.random(lanes.size) < 0.2] = 0.0  # empty cells and jammed cells are edge cases
    jam = rng.random(lanes.size) < 0.1
    rho[jam] = lanes[jam] * FD.rho_jam
    return rho, rng.uniform(0.0, queue_max), rng.uniform(0.0, inflow_max)


# ------------------------------------------------------------------ one step
@pytest.mark.parametrize("exit_supply", [math.inf, 1500.0])
@pytest.mark.parametrize("dt", [DT, 0.0004])
def test_step_network_equals_simulate_ctm_on_random_states_with_a_lane_drop(dt, exit_supply):
    rng = np.random.default_rng(0)
    net = ctm_step_network(FD, DROP.size, DX, dt, lanes=DROP, exit_supply=exit_supply)
    worst = 0.0
    for _ in range(40):
        rho, _, inflow = random_state(rng, DROP)
        ours = evaluate(net, np.r_[rho, 0.0, inflow][None])[0]
        r = simulate_ctm(
            FD, rho, dx=DX, dt=dt, steps=1, lanes=DROP, inflow=inflow, exit_supply=exit_supply
        )
        ref = np.r_[r.density[-1], r.entry_queue[-1]]
        worst = max(worst, float(np.abs(ours - ref).max()))
    # a few ulps of the largest density, lanes x rho_jam = 240 veh/km
    assert worst <= 8 * EPS * DROP.max() * FD.rho_jam


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    lanes=st.lists(st.sampled_from([1.0, 2.0, 3.0]), min_size=1, max_size=6),
    cfl=st.floats(0.2, 1.0),
    exit_supply=st.sampled_from([math.inf, 0.0, 1000.0, 5000.0]),
)
def test_step_network_equals_the_exact_rational_step(seed, lanes, cfl, exit_supply):
    lanes = np.array(lanes)
    dt = cfl * DX / FD.vf
    net = ctm_step_network(FD, lanes.size, DX, dt, lanes=lanes, exit_supply=exit_supply)
    rho, queue, inflow = random_state(np.random.default_rng(seed), lanes)
    ours = evaluate(net, np.r_[rho, queue, inflow][None])[0]
    new, q = exact_step(FD, rho, queue, inflow, lanes, DX, dt, exit_supply)
    scale = lanes.max() * FD.rho_jam
    np.testing.assert_allclose(ours[:-1], new, rtol=0, atol=8 * EPS * scale)
    np.testing.assert_allclose(ours[-1], q, rtol=0, atol=8 * EPS * (queue + dt * inflow))


def test_step_network_shape_and_options():
    net = ctm_step_network(FD, 6, DX, DT, lanes=DROP)
    assert [type(m).__name__ for m in net] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert net[0].in_features == 6 + 2 and net[-1].out_features == 6 + 1
    closed = ctm_step_network(FD, 6, DX, DT, lanes=DROP, inflow_input=False, queue=False)
    assert closed[0].in_features == 6 and closed[-1].out_features == 6
    rho = np.array([30.0, 90.0, 200.0, 40.0, 60.0, 10.0])
    r = simulate_ctm(FD, rho, dx=DX, dt=DT, steps=1, lanes=DROP)  # inflow 0
    np.testing.assert_allclose(evaluate(closed, rho[None])[0], r.density[-1], atol=1e-12)
    f32 = ctm_step_network(FD, 6, DX, DT, lanes=DROP, dtype=torch.float32)
    assert f32[0].weight.dtype == torch.float32
    x = np.r_[rho, 0.0, 3000.0][None]
    ours64 = evaluate(ctm_step_network(FD, 6, DX, DT, lanes=DROP), x)[0]
    scale = DROP.max() * FD.rho_jam
    np.testing.assert_allclose(
        evaluate(f32, x)[0], ours64, atol=32 * np.finfo(np.float32).eps * scale
    )


def test_without_a_queue_the_excess_demand_is_lost():
    """queue=False: equal to the simulator while the entrance is not supply-limited, and
    short of it by exactly the queue when it is."""
    net = ctm_step_network(FD, 6, DX, DT, lanes=DROP, queue=False)
    rho = np.array([150.0, 90.0, 200.0, 40.0, 60.0, 10.0])  # S_0 = 4000 - 20 x 110 = 1800
    for inflow, lost in ((1000.0, 0.0), (3500.0, DT * (3500.0 - 1800.0))):
        r = simulate_ctm(FD, rho, dx=DX, dt=DT, steps=1, lanes=DROP, inflow=inflow)
        ours = evaluate(net, np.r_[rho, inflow][None])[0]
        np.testing.assert_allclose(ours, r.density[-1], atol=1e-12)
        assert r.entry_queue[-1] == pytest.approx(lost, abs=1e-12)


# ---------------------------------------------------------------- unrolled
@pytest.mark.parametrize("exit_supply", [math.inf, 1800.0])
def test_unrolled_network_equals_simulate_ctm_over_t_steps(exit_supply):
    rng = np.random.default_rng(1)
    steps = 12
    kw = {"lanes": DROP, "exit_supply": exit_supply}
    every = ctm_unrolled_network(FD, 6, DX, DT, steps, output="all", **kw)
    final = ctm_unrolled_network(FD, 6, DX, DT, steps, **kw)
    for _ in range(5):
        rho, _, _ = random_state(rng, DROP)
        inflow = rng.uniform(0.0, 4500.0, steps)
        x = np.r_[rho, 0.0, inflow][None]
        r = simulate_ctm(FD, rho, dx=DX, dt=DT, steps=steps, inflow=inflow, **kw)
        ref = np.c_[r.density[1:], r.entry_queue[1:]]
        bound = steps * DROP.size * 8 * EPS * DROP.max() * FD.rho_jam
        np.testing.assert_allclose(evaluate(every, x).reshape(steps, 7), ref, atol=bound)
        np.testing.assert_allclose(evaluate(final, x)[0], ref[-1], atol=bound)


def test_unrolled_network_has_two_hidden_layers_per_step_and_carries_the_inflows():
    for steps in (1, 3, 7):
        net = ctm_unrolled_network(FD, 6, DX, DT, steps, lanes=DROP)
        size = network_size(net)
        assert size["layers"] == 2 * steps + 1
        assert net[0].in_features == 6 + 1 + steps and net[-1].out_features == 7
        # per step: 2n + queue + inflows left, then 3n + 1 (n - 1 interfaces, g_0, e) + ...
        widths = [m.out_features for m in net if isinstance(m, torch.nn.Linear)][:-1]
        first = [12 + 1 + (steps - t) for t in range(steps)]
        second = [12 + 2 + 5 + (steps - t - 1) for t in range(steps)]
        assert widths == [v for pair in zip(first, second, strict=True) for v in pair]
    # the step network is the unrolled network of one step
    one, step = (
        ctm_unrolled_network(FD, 6, DX, DT, 1, lanes=DROP),
        ctm_step_network(FD, 6, DX, DT, lanes=DROP),
    )
    for a, b in zip(one.parameters(), step.parameters(), strict=True):
        assert torch.equal(a, b)


# -------------------------------------------------------------- worst case
def test_certified_worst_queue_beats_every_sampled_profile_and_replays():
    lanes = DROP
    weights = np.r_[np.where(lanes == 2.0, DX, 0.0), 1.0]  # vehicles held before the drop
    r = ctm_worst_case(
        FD,
        6,
        DX,
        DT,
        5,
        lanes=lanes,
        rho0=15.0 * lanes,
        inflow_lower=0.5 * 2 * FD.capacity,
        inflow_upper=2 * FD.capacity,
        weights=weights,
        samples=300,
    )
    assert r.status == "optimal" and 0.0 <= r.bound - r.value <= 1e-6 + 1e-9 * r.value
    assert r.sampled_best <= r.value
    assert abs(r.replay_value - r.value) <= 1e-9 * (1 + abs(r.value))
    # an independent replay of the witness, and of sampled profiles, by the simulator
    rng = np.random.default_rng(3)
    for _ in range(20):
        u = rng.uniform(2000.0, 4000.0, 5)
        sim = simulate_ctm(FD, 15.0 * lanes, dx=DX, dt=DT, steps=5, lanes=lanes, inflow=u)
        assert np.r_[sim.density[-1], sim.entry_queue[-1]] @ weights <= r.bound
    # the scheme is monotone, so for these non-negative weights the top corner is the maximum
    assert r.value == pytest.approx(r.upper_value, abs=1e-9)
    np.testing.assert_array_equal(r.witness_rho0, 15.0 * lanes)
    row = r.to_frame()
    assert row.shape[0] == 1 and row.loc[0, "n_binary"] == r.n_binary


def test_worst_case_with_a_box_of_initial_densities_and_mixed_weights():
    """Mixed signs (the density jump across the drop): not monotone, so the maximum is
    neither at a corner nor found by sampling (79.04 veh/km against 77.99 and 77.76)."""
    lanes = np.array([2.0, 2.0, 1.0])
    weights = [0.0, 1.0, -1.0]
    rho0 = [[20.0, 20.0, 10.0], [60.0, 60.0, 30.0]]
    r = ctm_worst_case(
        FD, 3, DX, DT, 3, lanes=lanes, rho0=rho0, inflow_lower=0.0, inflow_upper=4000.0,
        weights=weights, samples=500, time_limit=20.0,
    )  # fmt: skip
    assert r.status == "optimal" and r.value <= r.bound <= r.value + 1e-6 + 1e-9 * r.value
    # neither 500 random draws nor the top corner reach it: the witness lies inside the box
    assert r.sampled_best < r.value - 0.5 and r.upper_value < r.value - 0.5
    assert np.all(r.witness_rho0 >= rho0[0]) and np.all(r.witness_rho0 <= rho0[1])
    assert abs(r.replay_value - r.value) <= 1e-9 * (1 + abs(r.value))


# ------------------------------------------------------------ bad arguments
GOOD = {"fd": FD, "n_cells": 3, "dx": DX, "dt": DT}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"fd": FD.to_spline()}, TypeError, "`fd` must be a TriangularFD"),
        ({"n_cells": 0}, ValueError, "`n_cells` must be >= 1"),
        ({"n_cells": 2.0}, TypeError, "`n_cells` must be an integer"),
        ({"dx": 0.0}, ValueError, "`dx` must be positive"),
        ({"dt": "0.001"}, TypeError, "`dt` must be a real number"),
        ({"dt": 0.0011}, ValueError, "`dt` must satisfy the CFL condition"),
        ({"lanes": [1.0, 0.0, 1.0]}, ValueError, "`lanes` must be positive"),
        ({"lanes": [1.0, 2.0]}, ValueError, r"`lanes` must be a scalar or have shape \(3,\)"),
        ({"exit_supply": -1.0}, ValueError, "`exit_supply` must be non-negative"),
        ({"exit_supply": "inf"}, TypeError, "`exit_supply` must be a real number"),
        ({"queue": 1}, TypeError, "`queue` must be True or False"),
        ({"inflow_input": "yes"}, TypeError, "`inflow_input` must be True or False"),
        ({"dtype": torch.int64}, TypeError, "`dtype` must be torch.float32 or torch.float64"),
    ],
)
def test_step_network_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        ctm_step_network(**(GOOD | kwargs))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"steps": 0}, ValueError, "`steps` must be >= 1"),
        ({"output": "last"}, ValueError, "`output` must be one of"),
        ({"dt": 0.002}, ValueError, "`dt` must satisfy the CFL condition"),
    ],
)
def test_unrolled_network_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        ctm_unrolled_network(**(GOOD | {"steps": 2} | kwargs))


WORST = GOOD | {
    "steps": 2,
    "rho0": 10.0,
    "inflow_lower": 0.0,
    "inflow_upper": 1000.0,
    "weights": [1.0, 1.0, 1.0],
}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"rho0": [10.0, 10.0, 500.0]}, ValueError, "`rho0` must not exceed lanes x jam"),
        ({"rho0": [10.0, -1.0, 0.0]}, ValueError, "`rho0` must be finite and non-negative"),
        ({"rho0": [[20.0] * 3, [10.0] * 3]}, ValueError, "`rho0` must have lower <= upper"),
        ({"rho0": "10"}, TypeError, "`rho0` must be an array of real numbers"),
        ({"inflow_lower": 2000.0}, ValueError, "`inflow_lower` must not exceed `inflow_upper`"),
        ({"inflow_upper": [1.0, 2.0, 3.0]}, ValueError, r"`inflow_upper` must be a scalar"),
        ({"inflow_lower": np.nan}, ValueError, "`inflow_lower` must be finite"),
        ({"weights": [1.0, 1.0]}, ValueError, r"`weights` must have shape \(3,\) or \(4,\)"),
        ({"weights": [1.0, np.inf, 1.0]}, ValueError, "`weights` must be finite"),
        ({"samples": -1}, ValueError, "`samples` must be >= 0"),
        ({"seed": 0.5}, TypeError, "`seed` must be an integer"),
        ({"atol": 0.0}, ValueError, "`atol` must be positive"),
        ({"time_limit": -1.0}, ValueError, "`time_limit` must be positive"),
        ({"steps": True}, TypeError, "`steps` must be an integer"),
    ],
)
def test_worst_case_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        ctm_worst_case(**(WORST | kwargs))
