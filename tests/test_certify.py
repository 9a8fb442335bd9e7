"""Closed-loop certificates (applications.control._certify, _roa) against sampling, the MILP
and exact rational arithmetic, on the double integrator's explicit MPC law and a learned
ReLU controller."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch
from torch import nn

from applications.control import explicit_mpc
from applications.control._certify import closed_loop, input_bound, invariance
from applications.control._mpc import BOX, A, B, N, Q, R, _fold
from applications.control._roa import lqr_ellipsoid, lqr_polytope, region_of_attraction
from pwlmodels import evaluate, make_mlp, maximize, train

SQUARE = np.vstack([np.eye(2), -np.eye(2)])


@pytest.fixture(scope="module")
def law():
    return explicit_mpc(A, B, Q, R, N, 1.0, BOX)


@pytest.fixture(scope="module")
def relu(law):
    x = np.random.default_rng(0).uniform(-1, 1, (2000, 2)) * BOX
    net = make_mlp(2, (16, 16), 1, activation="relu", seed=0)
    train(net, x / BOX, law(x), epochs=300, lr=1e-2, seed=0)
    return _fold(net, BOX)


def command(controller, x):
    return controller(x) if not isinstance(controller, nn.Module) else evaluate(controller, x)


def successor(controller, x):
    return x @ A.T + np.reshape(command(controller, x), (-1, 1)) @ B.T


def sample_polytope(P_A, P_b, n, seed=0):
    """n uniform samples of a bounded polytope, by rejection from its vertices' box."""
    rng, out = np.random.default_rng(seed), []
    from pwlmodels import Polytope

    V = Polytope(P_A, P_b).vertices()
    while sum(len(o) for o in out) < n:
        x = rng.uniform(V.min(0), V.max(0), (2 * n, 2))
        out.append(x[(x @ P_A.T <= P_b).all(axis=1)])
    return np.vstack(out)[:n]


@pytest.mark.parametrize("which", ["law", "relu"])
def test_closed_loop_equals_plant_plus_controller(which, law, relu):
    controller = law if which == "law" else relu
    x = np.random.default_rng(1).uniform(-1, 1, (10_000, 2)) * BOX
    loop = closed_loop(A, B, controller)
    assert all(isinstance(m, (nn.Linear, nn.ReLU)) for m in loop)
    np.testing.assert_allclose(evaluate(loop, x), successor(controller, x), rtol=0, atol=1e-12)


def test_closed_loop_carries_state_through_deep_and_linear_nets():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(500, 2))
    for hidden in ((), (3, 4, 5)):
        net = make_mlp(2, hidden, 1, dtype=torch.float64, seed=3) if hidden else None
        net = net if net is not None else nn.Sequential(nn.Linear(2, 1, dtype=torch.float64))
        np.testing.assert_allclose(
            evaluate(closed_loop(A, B, net), x),
            x @ A.T + evaluate(net, x)[:, None] @ B.T,
            rtol=0,
            atol=1e-13,
        )


def test_input_bound_of_law_is_exact_against_dense_grid(law):
    r = input_bound(law, [-1.0, -0.5], [1.0, 0.5])
    g = np.stack(np.meshgrid(np.linspace(-1, 1, 401), np.linspace(-0.5, 0.5, 201)), -1)
    sampled = np.abs(law(g.reshape(-1, 2))).max()
    assert r.label == "exact" and r.value == r.bound
    assert sampled <= r.value + 1e-12 and r.value - sampled < 1e-2
    assert abs(abs(float(law(r.witness[None])[0])) - r.value) < 1e-12
    assert input_bound(law, -BOX, BOX).value == pytest.approx(1.0, abs=1e-12)  # saturates


def test_input_bound_of_relu_covers_samples(relu):
    r = input_bound(relu, -BOX, BOX)
    x = np.random.default_rng(4).uniform(-1, 1, (100_000, 2)) * BOX
    sampled = np.abs(evaluate(relu, x)).max()
    assert sampled <= r.bound and r.value <= r.bound
    assert r.label == ("exact" if r.status == "optimal" else "sound bound")
    assert abs(evaluate(relu, r.witness[None])[0]) == pytest.approx(r.value, abs=1e-12)


def fraction_violation(controller, x, i, P_A, P_b):
    """P_A[i] x+ - P_b[i] in exact arithmetic (the law's value through its region)."""
    q = [Fraction(float(v)) for v in x]
    u = Fraction(float(command(controller, np.asarray(x)[None])[0]))  # float command, exact after
    nxt = [
        sum(Fraction(float(a)) * v for a, v in zip(A[r], q, strict=True)) + Fraction(B[r, 0]) * u
        for r in range(2)
    ]
    return sum(Fraction(float(a)) * v for a, v in zip(P_A[i], nxt, strict=True)) - Fraction(
        float(P_b[i])
    )


@pytest.mark.parametrize("which", ["law", "relu"])
def test_too_large_box_is_refuted_by_a_witness_that_violates(which, law, relu):
    controller = law if which == "law" else relu
    P_b = np.r_[BOX, BOX]
    r = invariance(A, B, controller, SQUARE, P_b)
    assert r.verdict == "not invariant" and r.margins.min() < 0
    assert (SQUARE @ r.witness <= P_b).all()
    fails = [i for i in range(4) if fraction_violation(controller, r.witness, i, SQUARE, P_b) > 0]
    assert fails  # the witness leaves P, also with the float64 forward pass made exact


@pytest.mark.parametrize("which", ["law", "relu"])
def test_invariance_margins_equal_the_milp_on_a_box(which, law, relu):
    controller = law if which == "law" else relu
    P_b = np.r_[BOX, BOX] * 0.3
    r = invariance(A, B, controller, SQUARE, P_b)
    loop = closed_loop(A, B, controller)
    for i in range(4):
        m = maximize(loop, -BOX * 0.3, BOX * 0.3, c=SQUARE[i])
        assert m.status == "optimal"
        assert P_b[i] - m.bound - 1e-6 <= r.margins[i] <= P_b[i] - m.value + 1e-9


@pytest.mark.parametrize("which", ["law", "relu"])
def test_proven_invariant_set_has_no_violation_in_samples(which, law, relu):
    controller = law if which == "law" else relu
    roa = region_of_attraction(A, B, controller, "lqr", BOX, 1.0, Q=Q, R=R)
    P_b = np.full(len(roa.S_A), roa.alpha)
    r = invariance(A, B, controller, roa.S_A, P_b)
    assert r.verdict == "invariant" and r.witness is None
    x = sample_polytope(roa.S_A, P_b, 100_000)
    assert (successor(controller, x) @ roa.S_A.T <= P_b + 1e-9).all()
    # the sampled worst margin is no better than the certified one, and close to it
    sampled = (P_b - successor(controller, x) @ roa.S_A.T).min(axis=0)
    assert (sampled >= r.margins - 1e-9).all() and (sampled - r.margins < 0.05).all()


def test_invariance_on_a_polytope_across_regions_uses_lps_and_matches_samples(law):
    angles = np.linspace(0, 2 * np.pi, 7)[:-1] + 0.3
    P_A = np.column_stack([np.cos(angles), np.sin(angles)])
    P_b = np.full(6, 1.6)
    r = invariance(A, B, law, P_A, P_b)
    assert r.n_lp > 0
    x = sample_polytope(P_A, P_b, 100_000, seed=5)
    sampled = (P_b - successor(law, x) @ P_A.T).min(axis=0)
    assert (sampled >= r.margins - 1e-9).all() and (sampled - r.margins < 0.05).all()


def test_roa_of_law_converges_in_samples_and_beats_the_ellipsoid(law):
    roa = region_of_attraction(A, B, law, "lqr", BOX, 1.0, Q=Q, R=R)
    assert roa.alpha > 0 and roa.converges and 0 < roa.rate < 1
    assert max(a for a, ok in roa.tried if ok) == roa.alpha
    x = sample_polytope(roa.S_A, np.full(len(roa.S_A), roa.alpha), 2000, seed=6)
    for _ in range(80):
        x = successor(law, x)
        assert (x @ roa.S_A.T <= roa.alpha + 1e-9).all()
    assert np.abs(x).max() < 1e-8
    assert roa.area > lqr_ellipsoid(A, B, Q, R, 1.0, BOX).area


def test_roa_bisects_on_verified_answers_and_a_box_is_never_invariant(law):
    S_A, _ = lqr_polytope(A, B, Q, R, 1.0)
    big = np.array([10.0, 4.0])
    wide = explicit_mpc(A, B, Q, R, 3, 1.0, big)
    roa = region_of_attraction(A, B, wide, (S_A, np.ones(len(S_A))), big, 1.0, steps=4)
    assert roa.alpha < roa.alpha_cap and roa.alpha == max(a for a, ok in roa.tried if ok)
    assert not region_of_attraction(A, B, law, "box", BOX, 1.0, steps=2).alpha


def test_roa_of_learned_net_is_invariant_but_convergence_not_claimed(relu):
    roa = region_of_attraction(A, B, relu, "lqr", BOX, 1.0, Q=Q, R=R)
    assert roa.alpha > 0 and not roa.converges and "stops decreasing" in roa.reason
    assert roa.levels[-1] < roa.alpha


def bad_calls(law):
    good_P = (SQUARE, np.ones(4))
    return [
        (lambda: closed_loop(np.ones((2, 3)), B, law), ValueError, "`A`"),
        (lambda: closed_loop(A, np.ones((2, 2)), law), ValueError, "`B`"),
        (lambda: closed_loop(A, B, "net"), TypeError, "`controller`"),
        (
            lambda: closed_loop(A, B, nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))),
            TypeError,
            "`controller`",
        ),
        (lambda: closed_loop(A, B, nn.Sequential(nn.Linear(3, 1))), ValueError, "`controller`"),
        (lambda: closed_loop([[np.nan, 1], [0, 1]], B, law), ValueError, "`A`"),
        (lambda: input_bound(law, [1.0, 0.0], [0.0, 1.0]), ValueError, "`lower`"),
        (lambda: input_bound(law, [-9.0, -1.0], [9.0, 1.0]), ValueError, "domain"),
        (lambda: input_bound(law, [-1.0], [1.0]), ValueError, "`lower`"),
        (lambda: invariance(A, B, law, np.ones((4, 3)), np.ones(4)), ValueError, "`P_A`"),
        (lambda: invariance(A, B, law, SQUARE, np.ones(3)), ValueError, "`P_b`"),
        (lambda: invariance(A, B, law, SQUARE, [1, 1, -2, 1]), ValueError, "empty"),
        (lambda: invariance(A, B, law, SQUARE[:3], np.ones(3)), ValueError, "bounded"),
        (lambda: invariance(A, B, law, SQUARE, [1, 1, np.inf, 1]), ValueError, "`P_b`"),
        (lambda: invariance(A, B, law, *good_P, atol=-1.0), ValueError, "`atol`"),
        (lambda: region_of_attraction(A, B, law, "ball", BOX, 1.0), ValueError, "`shape`"),
        (lambda: region_of_attraction(A, B, law, "lqr", BOX, 1.0), ValueError, "`Q`"),
        (
            lambda: region_of_attraction(A, B, law, (SQUARE, -np.ones(4)), BOX, 1.0),
            ValueError,
            "`P_A`",
        ),
        (lambda: region_of_attraction(A, B, law, [SQUARE], BOX, 1.0), TypeError, "`shape`"),
        (lambda: region_of_attraction(A, B, law, "box", -BOX, 1.0), ValueError, "`x_box`"),
        (lambda: region_of_attraction(A, B, law, "box", BOX, 0.0), ValueError, "`u_max`"),
        (lambda: region_of_attraction(A, B, law, "box", BOX, 1.0, steps=0), ValueError, "`steps`"),
        (
            lambda: region_of_attraction(A, B, law, "box", BOX, 1.0, steps=2.0),
            TypeError,
            "`steps` must be an integer",
        ),
        (
            lambda: region_of_attraction(A, B, law, "box", BOX, 1.0, steps=True),
            TypeError,
            "`steps` must be an integer",
        ),
        (lambda: lqr_polytope(A, B, Q, R, 1.0, contraction=0.1), ValueError, "`contraction`"),
    ]


def test_hostile_inputs_name_the_argument(law):
    for call, error, text in bad_calls(law):
        with pytest.raises(error, match=text):
            call()
