"""Regressions from an attack on the control certificates (issue 21): each test is a
case that once gave a wrong "invariant", "converges", margin or a bad error, checked
against an independent computation (closed form, Fraction arithmetic, simulation)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from applications.control import (
    dc_motor,
    explicit_mpc,
    input_bound,
    invariance,
    loop_margins,
    lqr_ellipsoid,
    lqr_polytope,
    region_of_attraction,
)
from applications.control._crown import crown_bound
from applications.control._reach import peak_gain
from pwlmodels import evaluate


def linear_net(k: float, c: float = 0.0) -> nn.Sequential:
    """The controller ``u = k x + c`` of one state, as a one-layer network."""
    net = nn.Sequential(nn.Linear(1, 1, dtype=torch.float64))
    with torch.no_grad():
        net[0].weight.fill_(k)
        net[0].bias.fill_(c)
    return net


INTERVAL = np.array([[1.0], [-1.0]])


@pytest.mark.parametrize("half_width", [1e3, 1.0, 1e-3, 1e-6])
def test_a_loop_that_grows_5_percent_is_not_invariant_at_any_scale(half_width):
    # x+ = x + 0.05 x = 1.05 x: every |x| <= w but 0 leaves [-w, w]; the tolerance was
    # absolute (1e-7 (1 + |P_b|)), so at w = 1e-6 the 5e-8 violation was "invariant"
    r = invariance([[1.0]], [[1.0]], linear_net(0.05), INTERVAL, [half_width] * 2)
    assert r.verdict == "not invariant"
    np.testing.assert_allclose(r.margins, -0.05 * half_width, rtol=1e-9)
    assert abs(1.05 * r.witness[0]) > half_width >= abs(r.witness[0])


@pytest.mark.parametrize("half_width", [1e3, 1e-6])
def test_a_contracting_loop_is_invariant_at_any_scale(half_width):
    r = invariance([[1.0]], [[1.0]], linear_net(-0.5), INTERVAL, [half_width] * 2)
    assert r.verdict == "invariant"
    np.testing.assert_allclose(r.margins, 0.5 * half_width, rtol=1e-9)
    np.testing.assert_allclose(r.tol, 1e-7 * 2 * half_width, rtol=1e-9)


# ---------------------------------------------------------------- region of attraction
@pytest.mark.parametrize("half_width", [1e-6, 1e-8])
def test_an_offset_at_the_origin_is_not_called_convergence_on_a_small_box(half_width):
    # u = -x/2 + 1e-13 on x+ = x + u: the state settles at 2e-13, not at the origin;
    # an absolute 1e-12 test of the offset called the loop linear and convergent
    net = linear_net(-0.5, 1e-13)
    r = region_of_attraction([[1.0]], [[1.0]], net, "box", half_width, 1.0)
    x = np.array([r.alpha * half_width])
    for _ in range(200):
        x = x + evaluate(net, x[:, None]).reshape(1)
    assert abs(x[0] - 2e-13) <= 1e-20  # the simulated fixed point
    assert not r.converges and "stops decreasing" in r.reason


def test_the_input_limit_is_relative_to_u_max():
    # u = -0.4 x with |u| <= 1e-8: the certified set must keep 0.4 |x| <= 1e-8 (1 + atol);
    # an absolute floor atol (1 + u_max) accepted alpha = 0.0244, |u| = 1e-7, 10 times it
    half_width = 1e-5
    r = region_of_attraction([[0.5]], [[1.0]], linear_net(-0.4), "box", half_width, 1e-8)
    assert 0.4 * r.alpha * half_width <= 1e-8 * (1 + 1e-7)
    assert r.alpha > 0  # some set is still verified: the bisection reaches 1e-3 of the box


# -------------------------------------------------------------------- LQR candidates
DI_A, DI_B = [[1.0, 1.0], [0.0, 1.0]], [[0.5], [1.0]]


@pytest.mark.parametrize(
    ("Q", "R", "error", "match"),
    [
        (-np.eye(2), 0.1, ValueError, "`Q` must be positive semidefinite"),  # was area -102
        (np.eye(2), 0.0, ValueError, "`R` must be positive definite"),  # was accepted
        ([[1.0, 0.5], [0.0, 1.0]], 0.1, ValueError, "`Q` must be symmetric"),
        (np.eye(2), "a", TypeError, "`R`"),
    ],
)
def test_lqr_sets_refuse_bad_weights_naming_them(Q, R, error, match):
    with pytest.raises(error, match=match):
        lqr_ellipsoid(DI_A, DI_B, Q, R, 1.0, [5.0, 2.0])
    with pytest.raises(error, match=match):
        lqr_polytope(DI_A, DI_B, Q, R, 1.0)


def test_lqr_sets_refuse_an_unstabilizable_plant_naming_it():  # was a LinAlgError
    with pytest.raises(ValueError, match="`A`, `B` must be stabilizable"):
        lqr_polytope([[2.0, 0.0], [0.0, 1.0]], [[0.0], [1.0]], np.eye(2), 1.0, 1.0)


# ----------------------------------------------------------------------- explicit MPC
def test_explicit_mpc_of_a_badly_scaled_plant_is_the_law_in_other_units():
    # x = T z with T = diag(1e-3, 1e3): the double integrator in other units; the regions
    # were dropped by a radius threshold on the box's diagonal (4e3 wide, x_1 only 1e-2),
    # and from_regions refused the rest ("do not cover"); the law must be the same
    T = np.diag([1e-3, 1e3])
    A = np.array([[1.0, 1.0], [0.0, 1.0]])
    B = np.array([[0.5], [1.0]])
    Ti = np.linalg.inv(T)
    law = explicit_mpc(A, B, np.eye(2), 0.1, 3, 1.0, [5.0, 2.0])
    scaled = explicit_mpc(T @ A @ Ti, T @ B, Ti @ Ti, 0.1, 3, 1.0, [5e-3, 2e3])
    assert scaled.n_regions == law.n_regions
    z = np.random.default_rng(0).uniform(-1, 1, (2000, 2)) * [5.0, 2.0]
    np.testing.assert_allclose(scaled(z @ T), law(z), rtol=0, atol=1e-9)


# ------------------------------------------------------------------- engineering
@pytest.mark.parametrize("K", [[-5.0, 0.5, 0.1], [500.0, 0.0, -0.9]])
def test_an_unstable_nominal_loop_has_no_margin(K):
    pytest.importorskip("control", reason="python-control (the control extra)")
    A, B, _ = dc_motor()
    K = np.array([K])
    assert (np.linalg.eigvals(A - B @ K).real > 0).any()  # the reference: unstable
    m = loop_margins(A, B, K)  # python-control alone gave disk margins 2.0 and 0.64
    assert not m.stable
    assert (m.gain_margin, m.phase_margin, m.disk_margin, m.disk_phase_margin) == (1, 0, 0, 0)


def test_a_stable_loop_keeps_python_controls_margins():
    control = pytest.importorskip("control", reason="python-control (the control extra)")
    A, B, _ = dc_motor()
    K = np.array([[50.0, -5.0, 0.5]])  # stable, with a finite gain margin near 3
    m = loop_margins(A, B, K)
    gm, pm, *_ = control.stability_margins(control.ss(A, B, K, 0.0))
    # an independent sweep of L(jw) = K (jwI - A)^-1 B: -1 / L where L crosses the real axis
    w = np.logspace(-1, 3, 5001)
    L = np.array([(K @ np.linalg.solve(1j * x * np.eye(3) - A, B))[0, 0] for x in w])
    cross = np.flatnonzero(np.diff(np.sign(L.imag)) != 0)
    swept = min(-1 / L[i].real for i in cross if L[i].real < 0)
    assert m.stable and (m.gain_margin, m.phase_margin) == (gm, pm)
    assert abs(m.gain_margin - swept) <= 1e-2 * swept


def test_a_horizon_too_long_to_condense_is_refused_naming_it():  # 10**9 ran out of memory
    with pytest.raises(ValueError, match="`horizon` x inputs must be at most 1000 moves"):
        explicit_mpc(DI_A, DI_B, np.eye(2), 0.1, 10**9, 1.0, [5.0, 2.0])


@pytest.mark.parametrize("half_width", [1e-9, 1e-12])
def test_a_tiny_interval_is_a_polytope_and_its_invariance_is_decided(half_width):
    # an absolute 1e-9 floor on the interior ball refused these as flat
    grow = invariance([[1.0]], [[1.0]], linear_net(0.05), INTERVAL, [half_width] * 2)
    shrink = invariance([[1.0]], [[1.0]], linear_net(-0.5), INTERVAL, [half_width] * 2)
    assert (grow.verdict, shrink.verdict) == ("not invariant", "invariant")


def test_a_flat_polytope_is_still_refused():
    with pytest.raises(ValueError, match="interior point"):
        invariance([[1.0]], [[1.0]], linear_net(0.05), INTERVAL, [1.0, -1.0])


# ------------------------------------------------------------------------- arguments
def test_crown_refuses_a_box_whose_width_overflows_naming_it():
    net = nn.Sequential(nn.Linear(1, 2, dtype=torch.float64), nn.Tanh(), nn.Linear(2, 1))
    with pytest.raises(ValueError, match="`upper` - `lower` must be finite"):
        crown_bound(net.double(), [-1e308], [1e308])


def test_region_of_attraction_takes_numpy_integer_steps():
    r = region_of_attraction([[0.5]], [[1.0]], linear_net(-0.4), "box", 1.0, 1.0, steps=np.int64(3))
    assert r.alpha == 1.0


# ------------------------------------------------------------------------ input bound
def test_an_exact_input_bound_is_exact_relative_to_the_command():
    # outputs near 1e-3: the MILP's absolute gap (1e-7) left 2e-6 relative, called "exact"
    rng = np.random.default_rng(0)
    net = nn.Sequential(
        nn.Linear(2, 5, dtype=torch.float64), nn.ReLU(),
        nn.Linear(5, 5, dtype=torch.float64), nn.ReLU(),
        nn.Linear(5, 2, dtype=torch.float64),
    )  # fmt: skip
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.as_tensor(rng.normal(size=p.shape) * 1.8e-3))
        net[0].weight /= 1.3e-3
    r = input_bound(net, [-1e-3, -1e-3], [1e-3, 1e-3], time_limit=20)
    x = np.random.default_rng(1).uniform(-1e-3, 1e-3, (100_000, 2))
    assert np.abs(evaluate(net, x)).max() <= r.bound  # sound, whatever the label
    assert r.label == "sound bound" or r.bound - r.value <= 1e-7 * r.value


# ------------------------------------------------------------------ reachable peaks
def test_a_fast_oscillation_beside_a_slow_mode_is_integrated():
    # h(t) = 0.01 e^{-t/20} + e^{-5t} cos(100 t): 400 points per slow time constant put
    # 0.05 s between points and the 100 rad/s sign changes (0.031 s apart) were missed
    A = np.zeros((3, 3))
    A[0, 0], A[1:, 1:] = -0.05, [[-5.0, 100.0], [-100.0, -5.0]]
    b, c = np.array([0.01, 1.0, 0.0]), np.array([1.0, 1.0, 0.0])
    t = np.linspace(0.0, 3.0, 3_000_001)
    h = 0.01 * np.exp(-0.05 * t) + np.exp(-5 * t) * np.cos(100 * t)
    s, w = 5.0, 100.0  # after t = 3 no sign change: both tails in closed form
    tail = 0.01 * np.exp(-0.15) / 0.05
    tail += np.exp(-s * 3) * (s * np.cos(w * 3) - w * np.sin(w * 3)) / (s * s + w * w)
    want = np.trapezoid(np.abs(h), t) + tail
    assert abs(peak_gain(A, b, c) - want) <= 1e-8 * want


def test_a_lightly_damped_oscillator_is_refused_not_underestimated():
    A = np.array([[-0.01, 30.0], [-30.0, -0.01]])  # the old answer: 10.3 for 63.7
    with pytest.raises(ValueError, match="`A` is too lightly damped"):
        peak_gain(A, np.array([1.0, 0.0]), np.array([1.0, 0.0]))


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
@pytest.mark.parametrize("box", [[1e300, 1e300], [1e150, 1e150], [1e100, 1e-100]])
def test_a_box_float64_geometry_cannot_handle_is_refused_naming_x_box(box):
    with pytest.raises(ValueError, match="`x_box`"):  # the message named `regions`
        explicit_mpc(DI_A, DI_B, np.eye(2), 0.1, 2, 1.0, box)
