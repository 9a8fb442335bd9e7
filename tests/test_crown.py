"""CROWN bounds of tanh / sigmoid controllers (applications.control._crown): the relaxations
hold on dense grids, the bounds cover sampled values and beat plain intervals."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from applications.control import explicit_mpc, input_bound
from applications.control._crown import SIGMOID, TANH, crown_bound, relax
from applications.control._mpc import BOX, A, B, N, Q, R, _fold
from applications.control._verify import _interval, _layers
from pwlmodels import evaluate, make_mlp, train


@pytest.fixture(scope="module")
def fitted():
    """tanh and sigmoid 2-16-16-1 nets fitted to the double integrator's MPC law."""
    law = explicit_mpc(A, B, Q, R, N, 1.0, BOX)
    x = np.random.default_rng(0).uniform(-1, 1, (2000, 2)) * BOX
    out = {}
    for act in ("tanh", "sigmoid"):
        net = make_mlp(2, (16, 16), 1, activation=act, seed=0)
        train(net, x / BOX, law(x), epochs=300, lr=1e-2, seed=0)
        out[act] = _fold(net, BOX)
    return out


@pytest.mark.parametrize("act", [TANH, SIGMOID], ids=["tanh", "sigmoid"])
def test_relaxation_lines_enclose_the_activation_on_dense_grids(act):
    rng = np.random.default_rng(1)
    low = np.r_[rng.normal(0, 3, 3000), rng.normal(0, 30, 500), [-1e-9, 0.0, 5.0, -40.0]]
    up = (
        low
        + np.r_[
            np.abs(rng.normal(0, 3, 3000)), np.abs(rng.normal(0, 30, 500)), [2e-9, 1e-12, 1e-3, 80]
        ]
    )
    a_lo, b_lo, a_up, b_up = relax(act, low, up)
    z = low[:, None] + (up - low)[:, None] * np.linspace(0, 1, 1001)[None]
    s = act.f(z)
    assert (s >= a_lo[:, None] * z + b_lo[:, None]).all()
    assert (s <= a_up[:, None] * z + b_up[:, None]).all()
    # and tight: CROWN's lines touch s within a small gap on narrow intervals
    narrow = (up - low) < 0.1
    gap = (a_up - a_lo)[:, None] * z + (b_up - b_lo)[:, None]
    assert gap[narrow].max() < 2e-3


def test_one_unit_bound_is_the_exact_range_within_rounding():
    net = nn.Sequential(nn.Linear(1, 1), nn.Tanh(), nn.Linear(1, 1)).double()
    with torch.no_grad():
        for lin in (net[0], net[2]):
            lin.weight.fill_(1.0)
            lin.bias.fill_(0.0)
    b = crown_bound(net, [-1.0], [2.0])
    assert b.lower[0] <= np.tanh(-1.0) and b.upper[0] >= np.tanh(2.0)
    assert b.upper[0] - np.tanh(2.0) < 1e-12 and np.tanh(-1.0) - b.lower[0] < 1e-12


@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
def test_bound_covers_samples_and_is_labelled_sound_not_exact(act, fitted):
    net = fitted[act]
    r = input_bound(net, -BOX, BOX, splits=6, max_boxes=500)
    x = np.random.default_rng(2).uniform(-1, 1, (100_000, 2)) * BOX
    sampled = np.abs(evaluate(net, x)).max()
    assert sampled <= r.bound and r.value <= r.bound
    assert r.label == "sound bound, not exact" and r.status == "crown"
    assert abs(evaluate(net, r.witness[None])[0]) == pytest.approx(r.value, abs=1e-12)


def test_crown_is_tighter_than_intervals_on_the_fitted_tanh_net(fitted):
    net = fitted["tanh"]
    lo, hi = _interval(_layers(net), -BOX[None], BOX[None])
    interval = max(hi[0], -lo[0])
    one = crown_bound(net, -BOX, BOX)
    assert one.max_abs < interval
    # on the same 6 x 6 sub-boxes too
    e0, e1 = np.linspace(-BOX[0], BOX[0], 7), np.linspace(-BOX[1], BOX[1], 7)
    sub_lo = np.array([[e0[i], e1[j]] for i in range(6) for j in range(6)])
    sub_hi = np.array([[e0[i + 1], e1[j + 1]] for i in range(6) for j in range(6)])
    lo, hi = _interval(_layers(net), sub_lo, sub_hi)
    assert crown_bound(net, -BOX, BOX, splits=6).max_abs < max(hi.max(), -lo.min())


def test_branch_and_bound_tightens_and_stays_above_samples(fitted):
    net = fitted["sigmoid"]
    x = np.random.default_rng(3).uniform(-1, 1, (100_000, 2)) * BOX
    sampled = np.abs(evaluate(net, x)).max()
    plain, split = crown_bound(net, -BOX, BOX), crown_bound(net, -BOX, BOX, max_boxes=3000)
    assert sampled <= split.max_abs < plain.max_abs
    # it stopped because every box was within tol (1e-3) of a value attained, not the budget
    assert split.boxes < 3000 and split.max_abs <= sampled * (1 + 2e-3) + 2e-3


def test_hostile_inputs_name_the_argument(fitted):
    net = fitted["tanh"]
    relu = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    with pytest.raises(TypeError, match="`net`"):
        crown_bound(relu, -BOX, BOX)
    with pytest.raises(TypeError, match="`net`"):
        crown_bound("net", -BOX, BOX)
    with pytest.raises(ValueError, match="`splits`"):
        crown_bound(net, -BOX, BOX, splits=0)
    with pytest.raises(ValueError, match="`max_boxes`"):
        crown_bound(net, -BOX, BOX, max_boxes=-1)
    with pytest.raises(ValueError, match="`tol`"):
        crown_bound(net, -BOX, BOX, tol=0.0)
    with pytest.raises(ValueError, match="`lower`"):
        crown_bound(net, BOX, -BOX)
    with pytest.raises(ValueError, match="`upper`"):
        crown_bound(net, -BOX, [1.0, np.nan])
    with pytest.raises(ValueError, match="`upper`"):
        crown_bound(net, -BOX, [1.0])
