"""The control study: plants, LQR, the exact saturated law, local gains, step metrics, run()."""

from __future__ import annotations

import math
import re
import warnings
from itertools import pairwise
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from applications import control
from applications.control import _verify as verify
from applications.control import (
    dc_motor,
    local_gain,
    lqr_gain,
    saturated_law,
    step_metrics,
)
from applications.control._analysis import certify, linearise
from applications.control._config import HALF
from applications.control._learn import Training, operating_samples, train_controllers
from applications.control._speed import linear_step
from applications.control._verify import (
    clamp_proof,
    describe,
    exact_range,
    interval_max,
    sensitivity,
)
from pwlmodels import (
    SolverInconsistencyWarning,
    VerificationResult,
    activation_pattern,
    local_affine,
    region_radius,
)

from .._helpers import disallowed

EPS = np.finfo(np.float64).eps
U_MAX = 12.0
X_REF = np.array([1.0, 0.0, 0.0])
Q = np.diag([1 / 0.1**2, 0.0, 0.0])
R = np.array([[1 / U_MAX**2]])


@pytest.fixture(scope="module")
def K():
    A, B, _ = dc_motor()
    return lqr_gain(A, B, Q, R)


@pytest.fixture(scope="module")
def exact(K):
    return saturated_law(K, U_MAX, X_REF)


# ------------------------------------------------------------------ plants and LQR
def test_dc_motor_matrices_follow_the_ctms_parameters():
    A, B, C = dc_motor()
    J, b, k, r, ell = 0.01, 0.1, 0.01, 1.0, 0.5
    want = [[0, 1, 0], [0, -b / J, k / J], [0, -k / ell, -r / ell]]
    np.testing.assert_array_equal(A, want)
    np.testing.assert_array_equal(B, [[0.0], [0.0], [1 / ell]])
    np.testing.assert_array_equal(C, [[1.0, 0.0, 0.0]])
    As, Bs, Cs = dc_motor("speed")
    np.testing.assert_array_equal(As, np.array(want)[1:, 1:])
    np.testing.assert_array_equal(Bs, [[0.0], [1 / ell]])
    np.testing.assert_array_equal(Cs, [[1.0, 0.0]])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"kind": "torque"}, ValueError, "`kind` must be one of 'position', 'speed'"),
        ({"kind": np.float64(1.0)}, ValueError, "'speed'; got 1.0$"),
        ({"J": 0.0}, ValueError, "`J` must be positive"),
        ({"L": -0.5}, ValueError, "`L` must be positive"),
        ({"R": math.inf}, ValueError, "`R` must be finite"),
        ({"b": "0.1"}, TypeError, "`b` must be a real number"),
        ({"K": True}, TypeError, "`K` must be a real number"),
    ],
)
def test_dc_motor_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        dc_motor(**kwargs)


def test_lqr_gain_is_brysons_rule_gain_and_solves_the_riccati_equation(K):
    A, B, _ = dc_motor()
    np.testing.assert_allclose(K, [[120.0, 11.25, 2.50]], atol=5e-3)
    assert K[0, 0] == pytest.approx(120.0, rel=1e-12)  # sqrt(Q_11 / R)
    assert np.linalg.eigvals(A - B @ K).real.max() < 0
    from scipy.linalg import solve_continuous_are

    P = solve_continuous_are(A, B, Q, R)
    residual = A.T @ P + P @ A - P @ B @ np.linalg.solve(R, B.T @ P) + Q
    assert np.abs(residual).max() <= 1e-9 * np.abs(P).max()
    np.testing.assert_allclose(K, np.linalg.solve(R, B.T @ P), rtol=1e-12)


def test_lqr_gain_equals_python_control():
    ct = pytest.importorskip("control")
    A, B, _ = dc_motor()
    np.testing.assert_allclose(lqr_gain(A, B, Q, R), ct.lqr(A, B, Q, R)[0], rtol=1e-9)


def test_lqr_gain_takes_a_vector_b_and_a_scalar_r(K):
    A, B, _ = dc_motor()
    np.testing.assert_allclose(lqr_gain(A, B[:, 0], Q, 1 / 144), K, rtol=1e-14)


_A2, _B2 = np.diag([1.0, -1.0]), np.array([[0.0], [1.0]])


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((_A2, _B2, np.eye(2), 1.0), ValueError, "must be stabilisable; the mode at 1"),
        ((np.eye(2)[:1], _B2, np.eye(2), 1.0), ValueError, "`A` must be square"),
        ((-np.eye(2), np.ones((3, 1)), np.eye(2), 1.0), ValueError, "`B` must have shape"),
        ((-np.eye(2), _B2, np.eye(3), 1.0), ValueError, r"`Q` must have shape \(2, 2\)"),
        ((-np.eye(2), _B2, [[1.0, 1.0], [0.0, 1.0]], 1.0), ValueError, "`Q` must be symmetric"),
        ((-np.eye(2), _B2, np.diag([1.0, -1.0]), 1.0), ValueError, "positive semidefinite"),
        ((-np.eye(2), _B2, np.eye(2), 0.0), ValueError, "`R` must be positive definite"),
        ((-np.eye(2), _B2, np.eye(2), -1.0), ValueError, "`R` must be positive definite"),
        ((-np.eye(2), _B2, np.eye(2), [[1.0, 0.0]]), ValueError, r"`R` must have shape \(1, 1\)"),
        ((-np.eye(2), _B2, np.eye(2), np.nan), ValueError, "`R` must be finite"),
        ((-np.eye(2), _B2, np.eye(2), "1"), TypeError, "`R` must be real numbers"),
        (([[1, 2], [3]], _B2, np.eye(2), 1.0), TypeError, "`A` must be real numbers"),
        ((-np.eye(2), _B2 * 1j, np.eye(2), 1.0), TypeError, "`B` must be real"),
    ],
)
def test_lqr_gain_rejects_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        lqr_gain(*args)


def test_lqr_gain_needs_the_integrator_in_the_cost():
    A, B, _ = dc_motor()
    with pytest.raises(ValueError, match="`Q` must weight every mode of `A` on the imaginary"):
        lqr_gain(A, B, np.zeros((3, 3)), R)


# --------------------------------------------------------------- the exact law
def test_saturated_law_is_exact_to_rounding(K, exact):
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [rng.uniform(-1, 1, (2000, 3)) * HALF * 3, X_REF + rng.normal(0, 0.05, (2000, 3))]
    )
    with torch.no_grad():
        got = exact(torch.from_numpy(x)).numpy()[:, 0]
    want = np.clip(-(x - X_REF) @ K[0], -U_MAX, U_MAX)
    scale = np.abs(x) @ np.abs(K[0]) + abs(K[0] @ X_REF) + U_MAX
    assert np.all(np.abs(got - want) <= 8 * EPS * scale)
    assert [type(m) for m in exact] == [nn.Linear, nn.ReLU, nn.Linear]
    assert exact[0].out_features == 2 and exact[0].weight.dtype == torch.float64


def test_saturated_law_handles_several_inputs_float32_and_the_origin():
    K2 = np.array([[1.0, 2.0], [-3.0, 0.5]])
    net = saturated_law(K2, 1.5, dtype=torch.float32)
    x = np.random.default_rng(1).normal(0, 1, (500, 2))
    got = net(torch.tensor(x, dtype=torch.float32)).detach().numpy()
    np.testing.assert_allclose(got, np.clip(-x @ K2.T, -1.5, 1.5), atol=1e-5)
    assert net[0].weight.dtype == torch.float32 and net(torch.zeros(1, 2)).shape == (1, 2)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (([1.0, 2.0], 0.0), {}, ValueError, "`u_max` must be positive"),
        (([1.0, 2.0], -1.0), {}, ValueError, "`u_max` must be positive"),
        (([1.0, 2.0], math.inf), {}, ValueError, "`u_max` must be finite"),
        (([1.0, 2.0], math.nan), {}, ValueError, "`u_max` must be finite"),
        (([1.0, 2.0], "12"), {}, TypeError, "`u_max` must be a real number"),
        (([1.0, np.nan], 1.0), {}, ValueError, r"`K` must be finite; got K\[1\] = nan"),
        ((np.ones((1, 2, 2)), 1.0), {}, ValueError, "`K` must be a non-empty 2-D matrix"),
        (([1.0, 2.0], 1.0, [1.0]), {}, ValueError, r"`x_ref` must have shape \(2,\)"),
        (([1.0, 2.0], 1.0), {"dtype": torch.float16}, TypeError, "`dtype` must be"),
        (([1.0, 2.0], 1.0), {"device": "tpu"}, ValueError, "`device` must be"),
    ],
)
def test_saturated_law_rejects_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        saturated_law(*args, **kwargs)


def test_exact_network_gain_is_k_and_its_region_radius_is_u_max_over_norm_k(K, exact):
    np.testing.assert_allclose(-local_gain(exact, X_REF), K, rtol=0, atol=1e-12)
    radius = region_radius(exact, X_REF[None], norm=2)[0]
    assert radius == pytest.approx(U_MAX / np.linalg.norm(K), rel=1e-12)
    assert round(radius, 4) == 0.0995
    from applications.control._learn import scaled

    r_inf = region_radius(scaled(exact, HALF), (X_REF / HALF)[None])[0]
    assert r_inf == pytest.approx(U_MAX / (np.abs(K[0]) @ HALF), rel=1e-12)


# ------------------------------------------------------------------ local_gain
def _net(seed: int, act=nn.ReLU, widths=(3, 8, 8, 1)) -> nn.Sequential:
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(pairwise(widths)):
        hidden = [act().to(torch.float64)] if i < len(widths) - 2 else []
        layers += [nn.Linear(a, b, dtype=torch.float64), *hidden]
    return nn.Sequential(*layers)


@pytest.mark.parametrize("act", [nn.ReLU, nn.Hardtanh, nn.LeakyReLU, nn.PReLU, nn.Tanh])
def test_local_gain_equals_autograd_and_the_local_affine_map_off_kinks(act):
    net = _net(3, act)
    x = np.random.default_rng(2).normal(0, 1, (20, 3))
    for p in x:
        jac = torch.func.jacrev(net)(torch.from_numpy(p)).detach().numpy()
        np.testing.assert_allclose(local_gain(net, p), jac, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(local_gain(net, p, side="left"), jac, rtol=1e-12, atol=1e-14)
        if act is not nn.Tanh:
            np.testing.assert_allclose(local_gain(net, p), local_affine(net, p[None])[0][0])


@pytest.mark.parametrize("act", [nn.ReLU, nn.Hardtanh, nn.LeakyReLU])
def test_local_gain_is_the_one_sided_derivative_on_a_kink(act):
    net = _net(5, act)
    rng = np.random.default_rng(4)
    kink = 1.0 if act is nn.Hardtanh else 0.0
    for _ in range(5):
        x0 = rng.normal(0, 1, 3)
        with torch.no_grad():  # move x0 onto the kink of unit 0 of the first layer
            w, b = net[0].weight[0].numpy(), float(net[0].bias[0])
        x0 += (kink - (w @ x0 + b)) * w / (w @ w)
        with torch.no_grad():
            net[0].bias[0] += kink - float(net[0](torch.from_numpy(x0))[0])  # exactly on it
            assert float(net[0](torch.from_numpy(x0))[0]) == kink
        f = lambda p: net(torch.from_numpy(p)).detach().numpy()  # noqa: E731
        h = 1e-7
        for side, sign in (("right", 1.0), ("left", -1.0)):
            fd = np.stack([(f(x0 + sign * h * e) - f(x0)) / (sign * h) for e in np.eye(3)], -1)
            np.testing.assert_allclose(local_gain(net, x0, side=side), fd, rtol=1e-5, atol=1e-6)


def test_local_gain_of_one_relu_unit_is_k_on_the_right_and_zero_on_the_left():
    from applications.control._speed import one_unit

    relu = one_unit("relu", 100.0)
    assert local_gain(relu, [0.0]).item() == 100.0
    assert local_gain(relu, [0.0], side="left").item() == 0.0
    assert torch.func.jacrev(relu)(torch.zeros(1, dtype=torch.float64)).item() == 0.0  # autograd
    for name, gain in (("hardtanh", 100.0), ("tanh", 100.0), ("sigmoid", 25.0)):
        net = one_unit(name, 100.0)
        assert local_gain(net, [0.0]).item() == pytest.approx(gain, rel=1e-14)
        assert net(torch.zeros(1, dtype=torch.float64)).item() == 0.0


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((nn.Linear(2, 1),), {}, TypeError, "`net` must be a torch.nn.Sequential"),
        ((nn.Sequential(nn.ReLU()),), {}, ValueError, "at least one torch.nn.Linear"),
        ((nn.Sequential(nn.Linear(2, 1)), [1.0]), {}, ValueError, r"`x0` must have shape \(2,\)"),
        ((nn.Sequential(nn.Linear(2, 1)), [1.0, "a"]), {}, TypeError, "`x0` must be real"),
        ((nn.Sequential(nn.Linear(2, 1)), [np.inf, 0]), {}, ValueError, "`x0` must be finite"),
        ((nn.Sequential(nn.Linear(2, 1)),), {"side": "up"}, ValueError, "`side` must be one of"),
    ],
)
def test_local_gain_rejects_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        local_gain(*args, **kwargs)


# ---------------------------------------------------------------- step_metrics
def _compare_with_step_info(ct, t, y):
    ours, theirs = step_metrics(t, y), ct.step_info(y, t)
    dt = t[1] - t[0]
    assert abs(ours.rise_time - theirs["RiseTime"]) <= 2 * dt
    assert abs(ours.settling_time - theirs["SettlingTime"]) <= 2 * dt
    assert abs(ours.peak_time - theirs["PeakTime"]) <= 2 * dt
    for mine, key in (
        (ours.overshoot, "Overshoot"),
        (ours.undershoot, "Undershoot"),
        (ours.peak, "Peak"),
        (ours.steady_state, "SteadyStateValue"),
        (ours.settling_min, "SettlingMin"),
        (ours.settling_max, "SettlingMax"),
    ):
        assert mine == pytest.approx(theirs[key], rel=1e-6, abs=1e-12), key
    return ours


def test_step_metrics_match_python_control_on_the_speed_loop():
    ct = pytest.importorskip("control")
    t, y = linear_step(*dc_motor("speed"), 100.0, 5.0)
    np.testing.assert_array_equal(t, np.linspace(0, 5, 5001))
    m = _compare_with_step_info(ct, t, y)
    assert (round(m.rise_time, 3), round(m.settling_time, 3)) == (0.099, 0.567)
    assert (round(m.overshoot, 3), round(m.steady_state, 5)) == (24.919, 0.90901)
    A, B, C = dc_motor("speed")  # the same samples as python-control's own simulation
    sys = ct.ss(A - 100 * B @ C, 100 * B, C, 0)
    np.testing.assert_allclose(ct.step_response(sys, t).outputs, y, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_step_metrics_match_python_control_with_undershoot_and_negative_final(sign):
    ct = pytest.importorskip("control")
    t = np.linspace(0.0, 8.0, 4001)  # non-minimum phase: dips below 0 first
    y = sign * (1 - 1.5 * np.exp(-t) + 0.5 * np.exp(-3 * t) - 0.9 * t * np.exp(-2 * t))
    m = _compare_with_step_info(ct, t, y)
    assert m.undershoot > 0 and m.steady_state == y[-1]


def test_step_metrics_of_a_first_order_lag_are_analytic():
    t = np.linspace(0.0, 12.0, 120_001)
    m = step_metrics(t, 2.0 * (1 - np.exp(-t)), final=2.0)
    assert m.rise_time == pytest.approx(math.log(9), abs=2e-4)
    assert m.settling_time == pytest.approx(math.log(50), abs=2e-4)
    assert (m.overshoot, m.undershoot, m.notes) == (0, 0, ())
    assert list(m.to_frame().columns)[:2] == ["rise_time", "settling_time"]


def test_step_metrics_say_why_a_figure_is_missing():
    t = np.linspace(0.0, 1.0, 101)
    m = step_metrics(t, np.sin(20 * t) + 0.05 * t, final=1.0)
    assert m.settling_time is None and "not settled" in m.notes[-1]
    m = step_metrics(t, 0.5 * t, final=1.0)
    assert m.rise_time is None and m.settling_min is None and "never reaches" in m.notes[0]


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (
            ([0.0, 1.0, 1.0], [0.0, 1.0, 1.0]),
            {},
            ValueError,
            r"`t` must be strictly increasing; got t\[2\] = 1.0 <= t\[1\] = 1.0$",
        ),
        (([0.0],), {}, ValueError, "`t` must be 1-D with at least 2"),
        (([0.0, 1.0], [0.0, 1.0, 1.0]), {}, ValueError, "`y` must have the shape of `t`"),
        (([0.0, 1.0], [0.0, np.nan]), {}, ValueError, "`y` must be finite"),
        (([0.0, 1.0], ["a", "b"]), {}, TypeError, "`y` must be real numbers"),
        (([0.0, 1.0], [0.0, 1.0]), {"rise": (0.9, 0.1)}, ValueError, "`rise` must be two"),
        (
            ([0.0, 1.0], [0.0, 1.0]),
            {"rise": np.array([0.9, 0.1])},
            ValueError,
            r"got \[0.9, 0.1\]$",
        ),
        (([0.0, 1.0], [0.0, 1.0]), {"rise": (0.1,)}, ValueError, "`rise` must be two"),
        (([0.0, 1.0], [0.0, 1.0]), {"settle": 0.0}, ValueError, r"`settle` must be in \(0, 1\)"),
        (([0.0, 1.0], [0.0, 1.0]), {"settle": "2%"}, TypeError, "`settle` must be a real"),
        (([0.0, 1.0], [0.0, 0.0]), {}, ValueError, "`final` must be non-zero"),
        (([0.0, 1.0], [0.0, 1.0]), {"final": np.inf}, ValueError, "`final` must be finite"),
    ],
)
def test_step_metrics_reject_bad_input(args, kwargs, error, match):
    y = args[1] if len(args) > 1 else [0.0]
    with pytest.raises(error, match=match):
        step_metrics(args[0], y, **kwargs)


# ------------------------------------------- linear region, ellipsoid, verification
def test_the_ellipsoid_is_in_the_linear_region_and_the_loop_decreases_on_its_boundary(exact):
    A, B, _ = dc_motor()
    lin = linearise(A, B, exact, X_REF)
    cert = certify(A, B, Q, R, exact, lin, X_REF, HALF, U_MAX)
    assert cert.reason == "" and cert.level > 0
    from scipy.linalg import solve_continuous_are

    riccati = solve_continuous_are(A, B, Q, R)  # the Lyapunov matrix of the LQR loop
    np.testing.assert_allclose(cert.P, riccati, rtol=1e-8, atol=1e-10 * np.abs(riccati).max())
    rng = np.random.default_rng(7)
    d = rng.normal(0, 1, (4000, 3))
    d *= np.sqrt(cert.level / np.einsum("ij,jk,ik->i", d, cert.P, d))[:, None]
    x = lin.x_eq + d * (1 - 1e-12)  # on the boundary of {x'Px <= c}
    ref = [p.numpy() for p in activation_pattern(exact, X_REF[None])]
    pats = activation_pattern(exact, x)
    assert all((p.numpy() == r).all() for p, r in zip(pats, ref, strict=True))
    assert np.all(np.abs(x) <= HALF)
    with torch.no_grad():
        u = exact(torch.from_numpy(x)).numpy()[:, 0]
    assert np.abs(u).max() <= U_MAX
    xdot = x @ A.T + np.clip(u, -U_MAX, U_MAX)[:, None] * B[:, 0]
    assert np.all(np.einsum("ij,jk,ik->i", x - lin.x_eq, cert.P, xdot) < 0)  # dV/dt < 0
    # the level is the largest: the ellipsoid touches one of the constraints
    a_ub, b_ub = cert.rows
    p_inv = np.linalg.inv(cert.P)
    reach = np.sqrt(cert.level * np.einsum("ij,jk,ik->i", a_ub, p_inv, a_ub))
    assert np.all(a_ub @ lin.x_eq + reach <= b_ub + 1e-9 * (1 + np.abs(b_ub)))
    assert np.min(b_ub - a_ub @ lin.x_eq - reach) <= 1e-9 * (1 + np.abs(b_ub).max())


def test_milp_command_range_of_the_exact_law_is_sound_and_attains_the_limit(K, exact):
    r = exact_range(exact, -HALF, HALF)
    assert r.verified
    assert abs(r.max_value - U_MAX) <= 1e-12 and r.max_bound >= U_MAX
    assert abs(r.min_value + U_MAX) <= 1e-12 and r.min_bound <= -U_MAX
    s = sensitivity(exact, X_REF, 0.01 * HALF, True, 0, 0, 0)
    assert s.value == pytest.approx(0.01 * np.abs(K[0]) @ HALF, rel=1e-9)  # eps ||K D||_1
    assert s.bound >= s.value - 1e-12


def test_milp_certifies_the_exact_laws_command_range_and_clamp(exact):
    r = exact_range(exact, -HALF, HALF)
    assert (r.max_status, r.min_status) == ("optimal", "optimal") and r.exact
    assert 0 <= r.max_bound - U_MAX <= 1e-6 and 0 <= -U_MAX - r.min_bound <= 1e-6
    clamp = clamp_proof(exact, -HALF, HALF, U_MAX, 1e-6)
    assert (clamp.up.status, clamp.down.status) == ("proven", "proven") and clamp.proven


# ------------------------------------------------------------- what a label may claim
def _result(value, bound, status, solver_value=None):
    return VerificationResult(
        value=value,
        witness=np.zeros(3),
        bound=bound,
        gap=abs(bound - value),
        status=status,
        method="milp",
        solver_value=solver_value,
    )


@pytest.mark.parametrize("status", ["node_limit", "time_limit", "precision_limit"])
@pytest.mark.parametrize("gap", [0.0, 3e-6, 4e-5])
def test_a_stopped_milp_bound_is_never_labelled_exact(status, gap):
    lab = describe(status, gap, 12.0, atol=1e-4)
    assert not lab.exact
    assert (lab.value_kind, lab.bound_kind) == ("attained", "sound bound")
    assert "exact" not in lab.text and f"stopped at {status}" in lab.text
    assert f"gap {gap:.1e} V" in lab.text


def test_an_optimal_milp_bound_is_labelled_exact_with_its_tolerance():
    lab = describe("optimal", 3e-6, 12.0, atol=1e-4)
    assert lab.exact and (lab.value_kind, lab.bound_kind) == ("exact", "verified bound")
    assert lab.text == "exact (MILP, optimal, gap 3.0e-06 V <= atol 0.0001 V)"


def test_an_optimal_status_beyond_the_stated_tolerance_is_not_labelled_exact():
    lab = describe("optimal", 4e-5, 12.0, atol=1e-6, rtol=1e-9)  # 4e-5 > 1e-6 + 1.2e-8
    assert not lab.exact and lab.value_kind == "attained"
    assert describe("optimal", 1e-6, 12.0, atol=1e-6, rtol=1e-9).exact  # within it


def test_sampled_ranges_are_labelled_not_exact():
    lab = describe("sampled", 0.0, 12.0, atol=1e-4)
    assert not lab.exact and (lab.value_kind, lab.bound_kind) == ("sampled", "interval bound")


@pytest.fixture
def fake_milp(monkeypatch):
    """maximize stops at node_limit at every tolerance (warning as HiGHS's slack does);
    minimize is optimal at the second tolerance only. Records the tolerances asked for."""
    calls = []

    def fake_max(net, lower, upper, *, method, atol, rtol):
        calls.append(("max", atol))
        msg = "the MILP solver's objective 12.2 exceeds"
        warnings.warn(msg, SolverInconsistencyWarning, stacklevel=2)
        return _result(12.19, 12.19004, "node_limit", solver_value=12.2)

    def fake_min(net, lower, upper, *, method, atol, rtol):
        calls.append(("min", atol))
        return _result(-12.1, -12.10003, "optimal" if atol >= 1e-4 else "node_limit")

    monkeypatch.setattr(verify, "maximize", fake_max)
    monkeypatch.setattr(verify, "minimize", fake_min)
    return calls


def test_exact_range_labels_each_end_by_its_status_and_keeps_solver_warnings(fake_milp):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing escapes: the warnings are recorded instead
        r = exact_range(None, -HALF, HALF, atols=(1e-6, 1e-4))
    assert fake_milp == [("max", 1e-6), ("max", 1e-4), ("min", 1e-6), ("min", 1e-4)]
    assert (r.max_status, r.max_atol, r.min_status, r.min_atol) == (
        "node_limit",
        1e-4,
        "optimal",
        1e-4,
    )
    assert not r.max_label.exact and r.min_label.exact and not r.exact
    assert r.label == r.max_label  # the range is as exact as its weaker end
    assert len(r.notes) == 2 and all("exceeds" in n for n in r.notes)


def test_the_report_calls_a_node_limit_range_a_sound_bound_and_explains_the_warning(fake_milp):
    from applications.control._section import _status_text, _verify_table
    from applications.control._study import milp_summary
    from applications.control._verify import Sensitivity

    r = exact_range(None, -HALF, HALF, atols=(1e-6, 1e-4))
    sens = Sensitivity(4.7, 4.70001, np.zeros(3), r)
    ctrl = SimpleNamespace(name="relu", seed=0, command=r, clamp=None, sens=sens)
    row = _verify_table([ctrl]).iloc[0]
    assert row["max: what is proven"] == (
        "sound bound (MILP stopped at node_limit, gap 4.0e-05 V > atol 0.0001 V)"
    )
    assert row["min: what is proven"].startswith("exact (MILP, optimal, gap 3.0e-05 V")
    assert row["sensitivity: what is proven"].startswith("sound bound (MILP stopped at node_limit")
    text = _status_text(milp_summary([ctrl]))
    assert "4 `SolverInconsistencyWarning`s" in text and "integrality tolerance" in text
    assert "2 of 4 MILP extremes" in text and "2 node_limit" in text


def test_interval_bound_is_sound_for_a_tanh_controller():
    net = _net(11, nn.Tanh, (3, 16, 16, 1))
    lo, hi = -np.ones(3), np.ones(3)
    x = np.random.default_rng(3).uniform(lo, hi, (200_000, 3))
    with torch.no_grad():
        u = net(torch.from_numpy(x)).numpy()[:, 0]
    top = interval_max(net, lo, hi, float(u.max()), budget=4000)
    bottom = -interval_max(net, lo, hi, -float(u.min()), budget=4000, sign=-1.0)
    assert top >= u.max() and bottom <= u.min()
    assert top - u.max() < 0.5 * np.ptp(u)  # and not vacuous


def test_training_the_controllers_twice_gives_identical_weights(one_thread, K):
    cfg = Training((8, 8), 256, 20, 2)
    x = [operating_samples(K, U_MAX, X_REF, HALF, 256, s) for s in (0, 1)]
    u = [np.clip(-(xs - X_REF) @ K[0], -U_MAX, U_MAX) for xs in x]
    cpu = torch.device("cpu")
    a = train_controllers(x, u, HALF, U_MAX, "tanh", cfg, (0, 1), cpu)
    b = train_controllers(x, u, HALF, U_MAX, "tanh", cfg, (0, 1), cpu)
    for (net, loss, n), (again, loss_again, _) in zip(a, b, strict=True):
        assert n == 4 * 8 + 9 * 8 + 9 and loss == loss_again
        assert all(map(torch.equal, net.parameters(), again.parameters()))
        assert net[0].weight.dtype == torch.float64


def test_each_controller_is_trained_on_its_own_seed_s_samples_with_the_scalings_folded(K):
    cfg = Training((8,), 200, 30, 1)
    x = [operating_samples(K, U_MAX, X_REF, HALF, 200, s) for s in (3, 4)]
    u = [np.clip(-(xs - X_REF) @ K[0], -U_MAX, U_MAX) for xs in x]
    trained = train_controllers(x, u, HALF, U_MAX, "relu", cfg, (3, 4), torch.device("cpu"))
    for xs, us, (net, loss, _) in zip(x, u, trained, strict=True):
        with torch.no_grad():
            out = net(torch.from_numpy(xs)).numpy()[:, 0]  # raw state in, volts out
        # the float32 training loss, in units of u_max, from the float64 copy on raw states
        assert np.mean(((out - us) / U_MAX) ** 2) == pytest.approx(loss, rel=1e-4)


def test_explicit_mpc_regions_match_the_qps_and_contain_the_lqr_law():
    from scipy.linalg import solve_discrete_are

    from applications.control import _mpc as mpc

    qp = mpc.condensed()
    f = control.explicit_mpc(mpc.A, mpc.B, mpc.Q, mpc.R, mpc.N, mpc.U_BOUND, mpc.BOX)
    x = np.random.default_rng(5).uniform(-1, 1, (300, 2)) * mpc.BOX
    law = f(x)  # a ValueError if the regions left a sample uncovered
    np.testing.assert_allclose(law, mpc.solve_qp(qp, x), atol=1e-9)
    assert np.abs(law).max() <= mpc.U_BOUND
    P = solve_discrete_are(mpc.A, mpc.B, mpc.Q, mpc.R)  # unconstrained: the LQR law
    k_lqr = np.linalg.solve(mpc.R + mpc.B.T @ P @ mpc.B, mpc.B.T @ P @ mpc.A)
    K, c = f.maps
    assert any(
        np.allclose(k, -k_lqr, rtol=1e-9) and abs(h[0]) < 1e-12 for k, h in zip(K, c, strict=True)
    )
    assert (f.n_regions, f.n_pieces) == (29, 7)  # the study's counts before explicit_mpc


# --------------------------------------------------------- compute, then render
def _tiny_config():
    """QUICK at a fraction of its size: the structure of the result, in seconds."""
    import dataclasses

    return dataclasses.replace(
        control.QUICK,
        training=Training((4, 4), 128, 5, 1),
        n_sampled=1000,
        budget=200,
        n_local=1000,
        mpc=(40, 5, 1),
    )


@pytest.fixture(scope="module")
def tiny(one_thread):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SolverInconsistencyWarning)
        return control.compute(_tiny_config(), seeds=(3, 4), device="cpu")


def test_the_disallowed_walk_finds_networks_lists_and_callables():
    bad = {"net": nn.Linear(1, 1), "list": [1.0], "f": print, "t": torch.zeros(1)}
    assert len(disallowed(bad)) == 4
    assert disallowed((1, 2.0, "a", np.zeros(2), pd.DataFrame(), None, {"k": (3,)})) == []


def test_compute_returns_numbers_arrays_tables_and_words_only(tiny):
    assert isinstance(tiny, control.ControlResult)
    assert disallowed(tiny) == []
    assert tiny.seeds == (3,)  # a quick config: the first seed only
    assert list(tiny.table.columns)[:4] == ["study", "controller", "seed", "quantity"]
    assert [c.name for c in tiny.controllers] == ["exact", "relu", "tanh", "sigmoid"]


def test_figures_and_section_render_from_the_result_without_torch(tiny, tmp_path, no_computing):
    from applications.control import _figures, _section

    paths = _figures.draw_all(tmp_path, tiny)
    text = _section.write(tiny)
    assert [p.name for p in paths] == [
        "steps.png", "slices.png", "regions.png", "gains.png", "speed.png", "mpc.png",
        "mpc_network.png", "mpc_invariant.png", "margins.png",
    ]  # fmt: skip
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)
    assert text.startswith("## Control") and "seed 3" in text


def test_compute_rejects_a_config_that_is_not_one():
    with pytest.raises(TypeError, match="`config` must be a Config; got dict"):
        control.compute({}, seeds=(0,), device="cpu")


# ------------------------------------------------------------------------ run
@pytest.fixture(scope="module")
def quick_run(one_thread, tmp_path_factory):
    out = tmp_path_factory.mktemp("control")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = control.run(out, device="cpu", seeds=(0, 5), quick=True)
    return result, caught


@pytest.fixture(scope="module")
def quick(quick_run):
    return quick_run[0]


def _value(table, controller, quantity, study="position"):
    rows = table[
        (table.study == study) & (table.controller == controller) & (table.quantity == quantity)
    ]
    assert len(rows) == 1, (controller, quantity)
    return float(rows.value.iloc[0])


def test_run_writes_table_figures_and_section(quick):
    folder = quick.out_dir / "control"
    names = {"steps.png", "slices.png", "regions.png", "gains.png", "speed.png", "mpc.png"}
    names |= {"mpc_network.png", "mpc_invariant.png", "margins.png"}
    assert {p.name for p in quick.figures} == names
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in quick.figures)
    table = pd.read_csv(folder / "table.csv")
    columns = ["study", "controller", "seed", "quantity", "value", "unit", "kind", "note"]
    assert list(table.columns) == columns
    assert not table.isna().any().any()
    assert set(table.seed) == {-1, 0}  # quick: the first seed only
    text = (folder / "section.md").read_text()
    for name in names:
        assert f"]({name})" in text
    assert "|  |" not in text and re.search(r"\bnan\b", text) is None  # no NaN cell or value
    assert quick.device == "cpu" and quick.name == "control"


def test_run_reports_the_issues_numbers(quick, K):
    t = quick.table
    for j, name in enumerate(("theta", "omega", "i")):
        assert _value(t, "exact", f"K_{name}") == pytest.approx(K[0, j], abs=1e-12)
    assert _value(t, "exact", "radius_l2") == pytest.approx(U_MAX / np.linalg.norm(K), rel=1e-12)
    assert _value(t, "exact", "max_command") == pytest.approx(U_MAX, abs=1e-12)
    assert _value(t, "exact", "exceedance") <= 1e-12
    assert _value(t, "exact", "time_saturated") > 0.5  # a 120 V demand against 12 V
    assert abs(_value(t, "relu", "gain_error")) < 0.05
    gains = {a: _value(t, f"{a} unit", "gain_right", "speed") for a in ("hardtanh", "tanh")}
    assert gains == {"hardtanh": 100.0, "tanh": pytest.approx(100.0, rel=1e-12)}
    assert _value(t, "sigmoid unit", "gain_right", "speed") == pytest.approx(25.0, rel=1e-12)
    assert _value(t, "relu unit", "gain_left", "speed") == 0.0
    assert round(_value(t, "hardtanh unit", "damping_right", "speed"), 2) == 0.40
    assert round(_value(t, "sigmoid unit", "damping_right", "speed"), 2) == 0.72
    check = {q: _value(t, "P 100 linear", q, "speed_check") for q in ("rise_time", "overshoot")}
    assert (round(check["rise_time"], 3), round(check["overshoot"], 3)) == (0.099, 24.919)
    for kind in t[t.controller.isin(["tanh", "sigmoid"])].kind.unique():
        assert kind not in ("exact", "verified bound")  # smooth nets: sampled or interval
    up = t[(t.controller == "relu") & (t.quantity == "clamp_upper_bound")]
    assert len(up) == 1
    for _, row in up.iterrows():
        proven = row.note.startswith("proven")
        assert row.kind == ("verified bound" if proven else "sound bound")


def test_run_reports_reachable_box_margins_variations_and_sampling(quick):
    t = quick.table
    box = t[t.study == "box"].set_index("quantity")
    assert box.loc["reach_omega", "kind"] == "exact" and box.loc["reach_i", "kind"] == "exact"
    assert box.loc["half_omega", "value"] == pytest.approx(1.1 * box.loc["reach_omega", "value"])
    for name in ("exact", "relu", "tanh", "sigmoid"):
        assert _value(t, name, "phase_margin") > 0
        assert 0 < _value(t, name, "sampled_spectral_radius") < 1
        rows = t[(t.controller == name) & (t.study == "position")].set_index("quantity")
        assert rows.loc["disk_margin", "kind"] == "linearised"
        assert rows.loc["sampled_overshoot", "kind"] == "sampled"
        assert rows.loc["worst_overshoot", "kind"] == "simulated"
        assert "worst at J" in rows.loc["worst_overshoot", "note"]
    assert _value(t, "exact", "phase_margin") >= 60.0  # the LQR guarantee
    text = (quick.out_dir / "control" / "section.md").read_text()
    assert "### Engineering checks" in text and "Ts = 10 ms" in text
    assert "|omega| <= 1.3187 rad/s" in text


def test_run_reports_the_mpc_network_within_its_bound_and_its_regions_coincide(quick, tiny):
    t = quick.table
    rows = t[t.study == "mpc"].set_index(["controller", "quantity"])
    net = rows.loc["MPC network"]
    assert (
        net.loc["max_error", "kind"] == "grid" and net.loc["error_bound", "kind"] == "sound bound"
    )
    assert net.loc["max_error", "value"] <= net.loc["error_bound", "value"] < 1e-9
    assert net.loc["regions_coincide", "value"] == 1 and net.loc["region_distance", "value"] < 1e-9
    law = rows.loc["explicit MPC"]
    assert net.loc["merged_regions", "value"] == law.loc["merged_regions", "value"]
    assert net.loc["affine_pieces", "value"] == law.loc["affine_pieces", "value"]
    assert net.loc["linear_regions", "value"] >= net.loc["merged_regions", "value"]
    n = tiny.mpc.cert.network
    assert (n.piece_ids >= 0).all() and len(n.polygons) == n.n_regions


def test_run_certifies_the_mpc_closed_loop_and_sampling_agrees(quick, tiny):
    from scipy.spatial import ConvexHull

    from applications.control import _mpc as mpc

    t = quick.table
    rows = t[t.study == "mpc"].set_index(["controller", "quantity"])
    for ctrl in ("explicit MPC", "relu"):
        r = rows.loc[ctrl]
        assert 0 < r.loc["roa_alpha", "value"] <= r.loc["roa_alpha_cap", "value"] + 1e-12
        assert (
            r.loc["roa_alpha", "kind"] == "certified" and r.loc["box_invariant", "kind"] == "exact"
        )
        assert r.loc["certified_max_command", "kind"] in ("exact", "attained")
        if r.loc["box_invariant", "value"] == 0:  # refuted: with a witness in the box
            w = np.array([r.loc[f"box_witness_x{j}", "value"] for j in (1, 2)])
            assert (np.abs(w) <= mpc.BOX).all()
    law = rows.loc["explicit MPC"]
    assert law.loc["certified_max_command", "value"] == pytest.approx(mpc.U_BOUND, abs=1e-12)
    assert (law.loc["converges", "value"], law.loc["converges", "kind"]) == (1, "certified")
    alpha = law.loc["roa_alpha", "value"]
    assert law.loc["trajectory_max_gauge", "value"] <= alpha * (1 + 1e-9)
    hu_lin = rows.loc[("LQR", "hu_lin_area"), "value"]
    assert law.loc["roa_area_ratio", "value"] == pytest.approx(
        law.loc["roa_area", "value"] / hu_lin
    )
    # independent: 10^4 states sampled in the certified set stay in it one step later
    f = control.explicit_mpc(mpc.A, mpc.B, mpc.Q, mpc.R, mpc.N, mpc.U_BOUND, mpc.BOX)
    assert tiny.mpc.cert.law.alpha == alpha  # the law's set: no training involved
    eq = ConvexHull(tiny.mpc.cert.set_vertices).equations  # a x + b <= 0 inside
    x = np.random.default_rng(2).uniform(-1, 1, (80_000, 2)) * mpc.BOX
    x = x[(x @ eq[:, :2].T + eq[:, 2]).max(axis=1) <= 0][:10_000]
    assert len(x) == 10_000
    step = x @ mpc.A.T + np.outer(f(x), mpc.B[:, 0])
    assert (step @ eq[:, :2].T + eq[:, 2]).max() <= 1e-9
    assert np.abs(f(x)).max() <= mpc.U_BOUND + 1e-12
    tanh = rows.loc["tanh"]
    kinds = [tanh.loc[q, "kind"] for q in ("max_command", "crown_bound", "interval_bound")]
    assert kinds == ["sampled", "sound bound", "interval bound"]
    sampled, crown = tanh.loc["max_command", "value"], tanh.loc["crown_bound", "value"]
    assert sampled <= crown <= tanh.loc["interval_bound", "value"]
    text = (quick.out_dir / "control" / "section.md").read_text()
    assert "sound bound, not exact" in text and "partitions coincide" in text


@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
def test_run_bounds_smooth_commands_by_crown_and_by_intervals(quick, act):
    t = quick.table
    rows = t[(t.study == "position") & (t.controller == act)].set_index("quantity")
    value = rows.value
    for end, sign in (("max", 1), ("min", -1)):
        sampled = sign * value[f"{end}_command"]  # a sampled extreme: attained
        crown, interval = (sign * value[f"{end}_command{q}_bound"] for q in ("_crown", ""))
        assert sampled <= crown and sampled <= interval  # both sound, neither exact
        assert sign * value[f"{end}_command_tight_bound"] == min(crown, interval)
        assert rows.loc[f"{end}_command_crown_bound", "kind"] == "sound bound"
        note = rows.loc[f"{end}_command_crown_bound", "note"]
        assert re.fullmatch(
            r"CROWN \+ branch and bound over \d+ boxes: sound bound, not exact", note
        )
        assert rows.loc[f"{end}_command_bound", "note"].startswith("interval + best-first over")
    smooth = t[(t.study == "position") & t.controller.isin(["tanh", "sigmoid"])]
    by = smooth.set_index(["controller", "seed", "quantity"]).value.unstack()
    n = int((by.max_command_crown_bound < by.max_command_bound).sum())
    n += int((by.min_command_crown_bound > by.min_command_bound).sum())
    assert f"CROWN is the tighter at {n} of the {2 * len(by)} extremes" in quick.section
    if n < 2 * len(by):  # no claim that CROWN always wins: the text says where it loses
        assert "at the others the interval bound is" in quick.section
    headline = f"up to {by.max_command_tight_bound.max():.4g} V against the"
    assert headline in quick.section


def test_run_raises_no_unexplained_solver_warning(quick_run):
    result, caught = quick_run
    assert not [w for w in caught if issubclass(w.category, SolverInconsistencyWarning)]
    text = (result.out_dir / "control" / "section.md").read_text()
    found = re.search(r"The MILP raised (\d+) `SolverInconsistencyWarning`", text)
    if found:  # caught by the study, counted and explained in the section
        assert int(found.group(1)) > 0
        assert "integrality tolerance" in text and "remain sound" in text
    else:
        assert "No `SolverInconsistencyWarning` was raised in this run." in text


def test_run_labels_a_milp_extreme_exact_only_when_optimal_within_its_tolerance(quick):
    t = quick.table.set_index(["controller", "seed", "quantity"])
    for end in ("max", "min"):
        for (ctrl, seed, _), row in t.xs(f"{end}_command", level=2, drop_level=False).iterrows():
            gap = t.loc[(ctrl, seed, f"{end}_command_gap"), "value"]
            bound_kind = t.loc[(ctrl, seed, f"{end}_command_bound"), "kind"]
            if row.kind == "exact":
                assert row.note.startswith("exact (MILP, optimal, gap")
                atol = float(re.search(r"atol ([0-9.e-]+) V", row.note).group(1))
                assert gap <= atol + 1e-9 * abs(row.value) and bound_kind == "verified bound"
            elif row.kind == "attained":
                assert row.note.startswith("sound bound (MILP stopped at")
                assert bound_kind == "sound bound"
            else:
                assert (row.kind, bound_kind) == ("sampled", "interval bound")
                assert ctrl in ("tanh", "sigmoid")
    claimed = t[t.kind.isin(["exact", "verified bound"])]
    assert not claimed.note.str.contains("node_limit|time_limit|precision_limit|undecided").any()


def test_seeds_accept_numpy_integers_as_plain_ints():
    from applications.control._checks import check_seeds

    got = check_seeds(s for s in (np.int64(2), np.uint16(0)))  # any iterable
    assert got == (2, 0) and all(type(s) is int for s in got)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"seeds": ()}, ValueError, "`seeds` must hold at least one seed"),
        ({"seeds": (0, 0)}, ValueError, "`seeds` must be distinct"),
        ({"seeds": (-1,)}, ValueError, r"`seeds\[0\]` must be >= 0"),
        ({"seeds": (1.5,)}, TypeError, r"`seeds\[0\]` must be an integer"),
        ({"seeds": (0, True)}, TypeError, r"`seeds\[1\]` must be an integer"),
        ({"seeds": (np.bool_(False),)}, TypeError, r"`seeds\[0\]` must be an integer"),
        ({"seeds": 3}, TypeError, "`seeds` must be a sequence of integers"),
        ({"quick": "yes"}, TypeError, "`quick` must be a bool"),
        ({"device": "tpu"}, ValueError, "`device` must be"),
        ({"out_dir": None}, TypeError, "`out_dir` must be a str or os.PathLike"),
    ],
)
def test_run_rejects_bad_input(tmp_path, kwargs, error, match):
    kwargs = {"out_dir": tmp_path} | kwargs
    with pytest.raises(error, match=match):
        control.run(**kwargs)
    assert not (tmp_path / "control" / "table.csv").exists()
