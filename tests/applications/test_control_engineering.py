"""Engineering checks of the control study: reachable box, margins, plant variations, ZOH."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import optimize
from scipy.integrate import solve_ivp

from applications.control import dc_motor, lqr_gain, saturated_law
from applications.control._config import HALF, REACH, REACH_MARGIN, U_MAX, X_REF, Q, R
from applications.control._engineering import (
    NOMINAL,
    NYQUIST_OMEGA,
    TS,
    loop_margins,
    plant_variations,
    sampled_figures,
    simulate_batch,
    simulate_sampled,
    worst_case,
    zoh,
)
from applications.control._reach import peak_gain, reachable_peaks, worst_input
from applications.control._sim import loop_metrics, numpy_net, simulate

control = pytest.importorskip("control")

#: A lightly damped oscillator: its impulse response changes sign, so the peak gain
#: exceeds the DC gain and the worst input switches.
OSC = (np.array([[0.0, 1.0], [-4.0, -0.8]]), np.array([0.0, 4.0]), np.array([1.0, 0.0]))


@pytest.fixture(scope="module")
def lqr():
    A, B, _ = dc_motor()
    return A, B, lqr_gain(A, B, Q, R)


def _bang_bang_peak(A, b, c, u_max, t_final):
    """``c x(t_final)`` under the worst bang-bang input, by solve_ivp on each constant piece."""
    switch, level = worst_input(A, b, c, u_max, t_final)
    x, edges = np.zeros(A.shape[0]), np.concatenate([[0.0], switch, [t_final]])
    for t0, t1, u in zip(edges[:-1], edges[1:], level, strict=True):
        sol = solve_ivp(lambda _t, z, u=u: A @ z + b * u, (t0, t1), x, rtol=1e-11, atol=1e-13)
        x = sol.y[:, -1]
    return float(c @ x), len(switch)


@pytest.mark.parametrize("j", [0, 1])
def test_motor_peaks_match_dense_simulation_of_worst_input(j):
    A, B, _ = dc_motor("speed")
    c = np.eye(2)[j]
    y, _ = _bang_bang_peak(A, B[:, 0], c, U_MAX, 25.0)
    assert_allclose(y, REACH[j], rtol=1e-3)
    assert_allclose(REACH, [12 * 0.01 / 0.1001, 12 * 0.1 / 0.1001], rtol=1e-12)  # DC gains


def test_peak_gain_of_sign_changing_response_matches_switching_input():
    A, b, c = OSC
    y, n_switch = _bang_bang_peak(A, b, c, 1.0, 40.0)
    assert n_switch > 10
    assert_allclose(y, peak_gain(A, b, c), rtol=1e-3)
    assert peak_gain(A, b, c) > 1.5 * abs(c @ np.linalg.solve(A, b))  # well above the DC gain


def test_operating_box_is_the_reachable_set_plus_margin():
    assert_allclose(HALF[1:], (1 + REACH_MARGIN) * REACH, rtol=1e-15)
    assert HALF[0] == np.pi
    x = simulate(*dc_motor()[:2], lambda z: np.full((*np.shape(z)[:-1], 1), U_MAX), np.zeros(3),
                 4.0, U_MAX).x  # fmt: skip
    assert np.all(np.abs(x[:, 1:]) <= REACH * (1 + 1e-9))


def test_unstable_plant_has_no_peak_gain():
    with pytest.raises(ValueError, match="`A` must be Hurwitz"):
        peak_gain(np.array([[0.0]]), np.array([1.0]), np.array([1.0]))


def _sweep(A, B, K, w):
    L = np.array([(K @ np.linalg.solve(1j * x * np.eye(A.shape[0]) - A, B))[0, 0] for x in w])
    return L


def test_margins_match_an_independent_frequency_sweep(lqr):
    A, B, K = lqr
    m = loop_margins(A, B, K)
    w = np.logspace(-3, 4, 20001)
    L = _sweep(A, B, K, w)
    alpha = 1.0 / np.abs((1 - L) / (2 * (1 + L))).max()  # (S - T) / 2 = (1 - L) / (2 (1 + L))
    assert_allclose(m.disk_margin, alpha, rtol=1e-4)
    wc = optimize.brentq(lambda x: abs(_sweep(A, B, K, [x])[0]) - 1.0, 0.1, 100.0, xtol=1e-14)
    pm = 180.0 + np.degrees(np.angle(_sweep(A, B, K, [wc])[0]))
    assert_allclose([m.crossover, m.phase_margin], [wc, pm], rtol=1e-6)
    assert m.gain_margin == np.inf and m.phase_margin >= 60.0  # the LQR guarantees
    gmin = (1 - alpha / 2) / (1 + alpha / 2)  # the disk's gain interval [gmin, 1 / gmin]
    assert_allclose(m.disk_gain_margin, -20 * np.log10(gmin), rtol=1e-4)


def test_zoh_matches_python_control_c2d(lqr):
    A, B, _ = lqr
    sysd = control.c2d(control.ss(A, B, np.eye(3), 0.0), TS, method="zoh")
    ad, bd = zoh(A, B, TS)
    assert_allclose(ad, sysd.A, rtol=1e-12, atol=1e-15)
    assert_allclose(bd, sysd.B, rtol=1e-12, atol=1e-15)


def test_sampled_loop_matches_python_control_discrete_simulation(lqr):
    A, B, K = lqr
    law = lambda x: -(x - X_REF) @ K.T  # noqa: E731 - linear, no clipping below
    x0 = X_REF + np.array([0.01, 0.0, 0.0])  # small: |u| = 1.2 V, the clip is inactive
    t, x, _ = simulate_sampled(A, B, law, x0, 1.0, U_MAX, TS, 1)
    ad, bd = zoh(A, B, TS)
    loop = control.ss(ad - bd @ K, np.zeros((3, 1)), np.eye(3), 0.0, TS)
    ref = control.initial_response(loop, T=t, X0=x0 - X_REF).outputs.T + X_REF
    assert_allclose(x, ref, rtol=1e-10, atol=1e-12)


def test_batch_rk4_matches_solve_ivp_on_the_saturated_loop(lqr):
    A, B, K = lqr
    law = numpy_net(saturated_law(K, U_MAX, X_REF))
    t, x = simulate_batch(A[None], B[:, 0][None], law, np.zeros(3), 4.0, U_MAX)
    ref = simulate(A, B, law, np.zeros(3), 4.0, U_MAX)
    assert_allclose(np.interp(ref.t, t, x[0, :, 0]), ref.x[:, 0], atol=1e-5)


def test_plant_variations_are_corners_then_one_at_a_time():
    v = plant_variations()
    assert len(v) == 42
    assert len({tuple(sorted(p.items())) for p in v}) == 42
    assert_allclose(v[0]["J"], 0.008) and assert_allclose(v[-1]["L"], 0.6)


def test_worst_overshoot_matches_solve_ivp_on_the_named_plant(lqr):
    K = lqr[2]
    law = numpy_net(saturated_law(K, U_MAX, X_REF))
    w = worst_case(law, X_REF, 4.0, U_MAX)
    assert w["n_plants"] == 42
    named = dict(item.split(" ", 1) for item in w["overshoot_plant"].split(", "))
    params = {p: NOMINAL[p] * (1 + float(v.rstrip(" %")) / 100) for p, v in named.items()}
    plant = dc_motor(**params)
    ref = simulate(plant.A, plant.B, law, np.zeros(3), 4.0, U_MAX)
    assert_allclose(w["overshoot"], loop_metrics(ref, ref.x[:, 0], 1.0)["overshoot"], rtol=1e-3)


def test_sampled_loop_is_close_to_the_continuous_one_at_10_ms(lqr):
    A, B, K = lqr
    law = numpy_net(saturated_law(K, U_MAX, X_REF))
    d = sampled_figures(A, B, law, K, X_REF, 4.0, U_MAX)
    ref = simulate(A, B, law, np.zeros(3), 4.0, U_MAX)
    m = loop_metrics(ref, ref.x[:, 0], 1.0)
    assert abs(d["rise_time"] - m["rise_time"]) < 2 * TS  # a hold of Ts delays by ~Ts / 2
    assert abs(d["overshoot"] - m["overshoot"]) < 0.5
    ad, bd = zoh(A, B, TS)
    assert_allclose(d["spectral_radius"], max(abs(np.linalg.eigvals(ad - bd @ K))), rtol=1e-14)
    assert d["spectral_radius"] < 1


def test_finite_gain_margin_matches_the_phase_crossover_of_a_sweep():
    A, B, _ = dc_motor()
    K = np.array([[50.0, 0.0, 0.0]])  # P control of the angle: relative degree 3
    m = loop_margins(A, B, K)

    def phase(w):
        return np.angle(_sweep(A, B, K, [w])[0])

    w180 = optimize.brentq(lambda w: np.imag(_sweep(A, B, K, [w])[0]), 1.0, 100.0, xtol=1e-14)
    assert abs(abs(phase(w180)) - np.pi) < 1e-9  # on the negative real axis
    assert_allclose(m.gain_margin, 1.0 / abs(_sweep(A, B, K, [w180])[0]), rtol=1e-6)
    assert_allclose(m.nyquist, _sweep(A, B, K, NYQUIST_OMEGA), rtol=1e-12)


def test_public_names_are_exported():
    from applications import control as ctl

    assert ctl.loop_margins is loop_margins and ctl.reachable_peaks is reachable_peaks


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (("A", [0.0, 2.0], [1.0, 1.0]), TypeError, "`A` must be real numbers"),
        ((np.eye(2)[:1], [0.0, 2.0], [1.0, 1.0]), ValueError, "`A` must be square"),
        ((-np.eye(2), [0.0, 2.0, 1.0], [1.0, 1.0]), ValueError, r"`B` must have shape \(2, 1\)"),
        ((-np.eye(2), [0.0, np.nan], [1.0, 1.0]), ValueError, "`B` must be finite"),
        ((-np.eye(2), [0.0, 2.0], [1.0]), ValueError, r"`K` must have shape \(1, 2\)"),
        ((-np.eye(2), [0.0, 2.0], None), TypeError, "`K` must be real numbers"),
        ((-np.eye(2), np.ones((2, 2)), [1.0, 1.0]), ValueError, "`B` must have shape"),
    ],
)
def test_loop_margins_rejects_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        loop_margins(*args)


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((np.eye(2), [0.0, 1.0], 12.0), ValueError, "`A` must be Hurwitz"),
        ((-np.eye(2), [0.0, 1.0], 0.0), ValueError, "`u_max` must be positive"),
        ((-np.eye(2), [0.0, 1.0], "12"), TypeError, "`u_max` must be a real number"),
        ((-np.eye(2), [0.0, 1.0], np.inf), ValueError, "`u_max` must be finite"),
        ((-np.eye(2), [0.0, 1.0, 2.0], 12.0), ValueError, r"`B` must have shape \(2, 1\)"),
        ((-np.ones((2, 3)), [0.0, 1.0], 12.0), ValueError, "`A` must be square"),
        (([["a"]], [1.0], 12.0), TypeError, "`A` must be real numbers"),
    ],
)
def test_reachable_peaks_rejects_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        reachable_peaks(*args)
