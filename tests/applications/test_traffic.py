"""The traffic application: diagrams as networks, the triangle fit, the CTM, and the quick run."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import re
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_allclose

import applications.traffic as traffic
import applications.traffic._data as traffic_data
import applications.traffic._field as traffic_field
import applications.traffic._labels as traffic_labels
import applications.traffic._models as traffic_models
from applications.traffic import (
    QUICK,
    AdmissibleFlux,
    Config,
    Greenshields,
    TrafficResult,
    TriangularFD,
    admissible_flux,
    compute,
    detector_sample,
    diagram_parameters,
    fit_triangular,
    observed_ranges,
    read_detector_csv,
    run,
    simulate_ctm,
    synthetic_data,
    uxsim_data,
)
from pwlmodels import PiecewiseLinear, evaluate, rounding_bound

from .._helpers import disallowed

FIGURES = (
    "fd.png",
    "fd_datasets.png",
    "greenshields.png",
    "spacetime.png",
    "queues.png",
    "detectors.png",
    "red_light_convergence.png",
    "freeway.png",
)
DEVICES = [
    "cpu",
    pytest.param(
        "cuda",
        marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available"),
    ),
]


def _triangle_formula(fd: TriangularFD, x: np.ndarray) -> np.ndarray:
    """max(0, min(vf x, w (rho_jam - x))) for any real x (no input check)."""
    return np.maximum(0.0, np.minimum(fd.vf * x, fd.w * (fd.rho_jam - x)))


# ------------------------------------------------------------------ models
def test_triangle_defaults_have_critical_density_20_and_capacity_2000():
    fd = TriangularFD()
    assert (fd.vf, fd.w, fd.rho_jam) == (100.0, 20.0, 120.0)
    assert fd.critical_density == 20.0 and fd.capacity == 2000.0
    assert_allclose(fd([0.0, 10.0, 20.0, 70.0, 120.0, 300.0]), [0, 1000, 2000, 1000, 0, 0])


@pytest.mark.parametrize("params", [(100.0, 20.0, 120.0), (87.3, 17.9, 143.1), (120, 25, 160)])
def test_triangle_relu_is_exact_to_rounding_on_and_off_the_jam_interval(params):
    fd = TriangularFD(*params)
    net = fd.to_relu()
    assert net[0].out_features == 3
    x = np.concatenate([np.linspace(-200.0, 500.0, 7001), [0.0, fd.critical_density, fd.rho_jam]])
    bound = rounding_bound(fd.to_spline(), x, dtype=torch.float64)
    assert np.all(np.abs(evaluate(net, x) - _triangle_formula(fd, x)) <= bound + 1e-12)
    assert_allclose(fd.to_spline()(x), _triangle_formula(fd, x), rtol=1e-15, atol=1e-12)


def test_triangle_relu_in_float32_is_within_the_float32_bound():
    fd = TriangularFD()
    net = fd.to_relu(dtype=torch.float32)
    x = np.linspace(-60.0, 240.0, 3001).astype(np.float32).astype(float)
    bound = rounding_bound(fd.to_spline(), x, dtype=torch.float32)
    assert np.all(np.abs(evaluate(net, x) - fd.to_spline()(x)) <= bound)


def _exact_sup_error(g: Greenshields, k: int) -> Fraction:
    """Sup of q - interpolant over [0, rho_max], in exact rational arithmetic on the float data."""
    s = g.to_spline(k)
    vmax, rmax = Fraction(g.vmax), Fraction(g.rho_max)
    best = Fraction(0)
    t, v = s.knots, s.values
    for i in range(k - 1):
        a, b, va, vb = Fraction(t[i]), Fraction(t[i + 1]), Fraction(v[i]), Fraction(v[i + 1])
        slope = (vb - va) / (b - a)
        x = min(max((1 - slope / vmax) * rmax / 2, a), b)  # where q' = the chord's slope
        best = max(best, vmax * x * (1 - x / rmax) - (va + slope * (x - a)))
    return best


def test_greenshields_interpolant_error_is_exactly_qmax_over_k_minus_1_squared():
    g = Greenshields()
    half_ulp = np.spacing(g.capacity) / 2  # the knot values are rounded to float64
    for k in range(3, 130):
        sup = _exact_sup_error(g, k)
        bound = g.interpolation_error(k)
        assert abs(float(sup) - bound) <= 1e-12 * bound + half_ulp, k


@pytest.mark.parametrize("k", [3, 4, 17, 50, 129])
def test_greenshields_sup_error_is_reached_at_midpoints_in_float64(k):
    g = Greenshields(90.0, 150.0)
    s = g.to_spline(k)
    t = np.linspace(0.0, g.rho_max, k)
    mid = (t[:-1] + t[1:]) / 2
    bound = g.interpolation_error(k)
    assert_allclose(g(mid) - s(mid), bound, rtol=1e-12, atol=8 * np.spacing(g.capacity))
    x = np.linspace(0.0, 2 * g.rho_max, 20001)
    assert np.max(np.abs(g(x) - s(x))) <= bound * (1 + 1e-12) + 8 * np.spacing(g.capacity)
    net = g.to_relu(k)
    assert net[0].out_features == k
    assert_allclose(evaluate(net, x), s(x), rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", ["vf", "w", "rho_jam"])
@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_triangle_rejects_parameters_that_are_not_positive_and_finite(name, bad):
    with pytest.raises(ValueError, match=f"`{name}` must be positive and finite"):
        TriangularFD(**{name: bad})


@pytest.mark.parametrize("bad", ["100", None, True, 1j])
def test_triangle_rejects_parameters_that_are_not_real_numbers(bad):
    with pytest.raises(TypeError, match="`vf` must be a real number"):
        TriangularFD(vf=bad)


@pytest.mark.parametrize("name", ["vmax", "rho_max"])
def test_greenshields_rejects_bad_parameters(name):
    with pytest.raises(ValueError, match=f"`{name}` must be positive"):
        Greenshields(**{name: -3.0})
    with pytest.raises(TypeError, match=f"`{name}` must be a real number"):
        Greenshields(**{name: "3"})


@pytest.mark.parametrize("model", [TriangularFD(), Greenshields()])
def test_diagrams_reject_negative_or_non_finite_densities(model):
    with pytest.raises(ValueError, match="`density` must be non-negative"):
        model([10.0, -0.5])
    with pytest.raises(ValueError, match="`density` must be finite"):
        model([np.nan])
    with pytest.raises(TypeError, match="`density` must be an array of real numbers"):
        model("10")


@pytest.mark.parametrize(
    ("knots", "error", "match"),
    [
        (1, ValueError, "`knots` must be >= 2"),
        (2.5, TypeError, "`knots` must be an integer"),
        (33.0, TypeError, "`knots` must be an integer"),
        (True, TypeError, "`knots` must be an integer"),
        (np.bool_(True), TypeError, "`knots` must be an integer"),
    ],
)
def test_greenshields_knots_must_be_an_integer_of_at_least_2(knots, error, match):
    for method in (Greenshields().to_spline, Greenshields().interpolation_error):
        with pytest.raises(error, match=match):
            method(knots)
    assert Greenshields().to_spline(np.int64(5)) == Greenshields().to_spline(5)


# ------------------------------------------------------------ parameters
def test_diagram_parameters_of_a_triangle_are_its_own():
    truth = TriangularFD()
    fd = TriangularFD(93.0, 21.5, 131.0)
    p = diagram_parameters(fd, reference=truth)
    want = [fd.vf, fd.w, fd.rho_jam, fd.capacity, fd.critical_density]
    got = [p["vf"], p["w"], p["jam_density"], p["capacity"], p["critical_density"]]
    assert_allclose(got, want, rtol=1e-12)


def test_diagram_parameters_say_none_when_the_flux_never_returns_to_zero():
    flat = PiecewiseLinear([0.0, 20.0, 60.0], [0.0, 2000.0, 500.0], right_slope=0.0)
    p = diagram_parameters(flat, density_max=150.0)
    assert math.isnan(p["jam_density"]) and p["capacity"] == 2000.0
    smooth = diagram_parameters(Greenshields(), reference=TriangularFD(100, 100, 120))
    assert_allclose([smooth["capacity"], smooth["critical_density"]], [3000, 60], rtol=1e-6)


def test_diagram_parameters_reject_bad_arguments():
    with pytest.raises(TypeError, match="`reference` must be a TriangularFD"):
        diagram_parameters(TriangularFD(), reference=Greenshields())
    with pytest.raises(TypeError, match="`flux` must be a TriangularFD"):
        diagram_parameters("triangle")
    with pytest.raises(ValueError, match="`density_max` must be positive"):
        diagram_parameters(TriangularFD(), density_max=-1.0)


# ---------------------------------------------------------------- the fit
@pytest.mark.parametrize("congested", [0.3, 0.1])
@pytest.mark.parametrize("robust", [True, False])
def test_fit_triangular_recovers_noise_free_parameters_to_1e_8(congested, robust):
    truth = TriangularFD()
    for seed in (0, 1, 2):
        d = synthetic_data(2000, congested=congested, noise=0.0, transitions=0.0, seed=seed)
        fit = fit_triangular(d["density_veh_km"], d["flow_veh_h"], robust=robust)
        assert_allclose([fit.vf, fit.w, fit.rho_jam], [truth.vf, truth.w, truth.rho_jam], rtol=1e-8)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_robust_fit_meets_the_recovery_targets_on_noisy_data(seed):
    truth = TriangularFD()
    d = synthetic_data(2000, seed=seed)
    fit = fit_triangular(d["density_veh_km"], d["flow_veh_h"])
    assert abs(fit.vf / truth.vf - 1) <= 0.02
    assert abs(fit.capacity / truth.capacity - 1) <= 0.02
    assert abs(fit.w / truth.w - 1) <= 0.05
    assert abs(fit.rho_jam / truth.rho_jam - 1) <= 0.05
    plain = fit_triangular(d["density_veh_km"], d["flow_veh_h"], robust=False)
    assert plain.capacity < fit.capacity  # shock-crossing cells pull plain least squares low


def _exact_cells_with_shock_chords():
    """Simulator-like data: most cells exactly on the free branch, stationary congested
    cells exactly on the congested branch, and cells crossed by a shock on chords below."""
    truth = TriangularFD(80.0, 18.0, 150.0)
    rng = np.random.default_rng(0)
    free = rng.uniform(0.0, truth.critical_density, 600)
    jammed = rng.uniform(40.0, 120.0, 150)
    a = rng.uniform(10.0, truth.critical_density, 120)  # free upstream of a shock
    b = rng.uniform(60.0, 130.0, 120)  # congested downstream of it
    lam = rng.uniform(0.2, 0.8, 120)
    chords = lam * a + (1 - lam) * b  # a cell's mean over the two: on the chord, below q
    rho = np.r_[free, jammed, chords]
    q = np.r_[truth(free), truth(jammed), lam * truth(a) + (1 - lam) * truth(b)]
    return truth, rho, q


def test_robust_scale_does_not_collapse_on_exact_simulator_like_data():
    # Pooled over both branches, the median absolute deviation was 0 once vf was exact
    # (most cells lie on the free line): every congested cell got weight 0 but the
    # last few, and on UXsim output w came out at 7621 km/h.
    truth, rho, q = _exact_cells_with_shock_chords()
    fit = fit_triangular(rho, q)
    # chords within 4.685 x 1 % of the branch keep some weight: 0.09 % off in w
    assert_allclose([fit.vf, fit.w, fit.rho_jam], [truth.vf, truth.w, truth.rho_jam], rtol=2e-3)
    plain = fit_triangular(rho, q, robust=False)
    assert abs(plain.w / truth.w - 1) > 0.02  # the chords pull plain least squares
    with pytest.raises(ValueError, match="`scale_floor` must be positive"):
        fit_triangular(rho, q, scale_floor=0.0)
    with pytest.raises(TypeError, match="`scale_floor` must be a real number"):
        fit_triangular(rho, q, scale_floor="1%")


def test_robust_fit_recovers_the_diagram_uxsim_was_given():
    pytest.importorskip("uxsim")
    truth = TriangularFD(80.0, 18.0, 150.0)
    d = uxsim_data(truth)
    fit = fit_triangular(d["density_veh_km"], d["flow_veh_h"])
    plain = fit_triangular(d["density_veh_km"], d["flow_veh_h"], robust=False)
    assert abs(fit.vf / truth.vf - 1) < 1e-3
    assert abs(fit.w / truth.w - 1) < 0.05  # 17.55 km/h: congested cells are Edie averages
    assert abs(fit.rho_jam / truth.rho_jam - 1) < 0.02
    # plain least squares is pulled off the free branch by the cells crossed by shocks
    assert abs(plain.vf / truth.vf - 1) > 10 * abs(fit.vf / truth.vf - 1)


def test_fit_triangular_without_congested_points_says_w_and_rho_jam_are_not_identifiable():
    for noise in (0.0, 0.05):
        d = synthetic_data(500, congested=0.0, transitions=0.0, noise=noise, seed=3)
        with pytest.raises(ValueError, match="w and rho_jam are not identifiable"):
            fit_triangular(d["density_veh_km"], d["flow_veh_h"])


def test_fit_triangular_rejects_bad_input():
    rho, q = np.linspace(0, 120, 50), TriangularFD()(np.linspace(0, 120, 50))
    with pytest.raises(ValueError, match="`density` must be non-negative"):
        fit_triangular(np.r_[rho[:-1], -1.0], q)
    with pytest.raises(ValueError, match="`density` must be finite"):
        fit_triangular(np.r_[rho[:-1], np.inf], q)
    with pytest.raises(ValueError, match="`flow` must be finite"):
        fit_triangular(rho, np.r_[q[:-1], np.nan])
    with pytest.raises(ValueError, match="same length"):
        fit_triangular(rho, q[:-1])
    with pytest.raises(ValueError, match="at least 4 observations"):
        fit_triangular(rho[:3], q[:3])
    with pytest.raises(TypeError, match="`robust` must be True or False"):
        fit_triangular(rho, q, robust="yes")
    with pytest.raises(TypeError, match="`flow` must be an array of real numbers"):
        fit_triangular(rho, ["a"] * rho.size)


# ------------------------------------------------------------------- data
def test_synthetic_data_is_seeded_and_has_the_documented_mix():
    d = synthetic_data(2000, congested=0.1, seed=5)
    counts = d["kind"].value_counts()
    assert counts["transition"] == 100 and counts["congested"] == 190
    assert d.equals(synthetic_data(2000, congested=0.1, seed=5))
    assert not d.equals(synthetic_data(2000, congested=0.1, seed=6))
    rho_c = TriangularFD().critical_density
    free = d[d["kind"] == "free"]["density_veh_km"]
    assert free.max() <= rho_c and free.min() >= 0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n": 5}, ValueError, "`n` must be >= 10"),
        ({"n": 20.5}, TypeError, "`n` must be an integer"),
        ({"congested": 1.0}, ValueError, r"`congested` must lie in \[0, 1\)"),
        ({"noise": -0.1}, ValueError, "`noise` must lie in"),
        ({"transitions": "0.1"}, TypeError, "`transitions` must be a real number"),
        ({"seed": -1}, ValueError, "`seed` must be >= 0"),
        ({"truth": Greenshields()}, TypeError, "`truth` must be a TriangularFD"),
    ],
)
def test_synthetic_data_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        synthetic_data(**kwargs)


def test_read_detector_csv_round_trips_and_names_missing_columns(tmp_path):
    d = synthetic_data(50, seed=1)
    path = tmp_path / "d.csv"
    d[["density_veh_km", "flow_veh_h"]].to_csv(path, index=False)
    back = read_detector_csv(path)
    assert_allclose(back["flow_veh_h"], d["flow_veh_h"])
    (tmp_path / "bad.csv").write_text("k,q\n1,2\n")
    with pytest.raises(ValueError, match="lacks"):
        read_detector_csv(tmp_path / "bad.csv")
    (tmp_path / "neg.csv").write_text("density_veh_km,flow_veh_h\n-1,2\n")
    with pytest.raises(ValueError, match="`density_veh_km` must be non-negative"):
        read_detector_csv(tmp_path / "neg.csv")
    with pytest.raises(TypeError, match="`path` must be a str"):
        read_detector_csv(3)


def test_observed_ranges_flag_data_without_the_kink():
    truth = TriangularFD()
    d = synthetic_data(400, seed=0)
    far = d[(d["density_veh_km"] - truth.critical_density).abs() > 0.2 * truth.critical_density]
    r = observed_ranges(far, truth)
    assert not r["kink_observed"] and r["nearest_to_critical"] > 0.1
    assert observed_ranges(d, truth)["kink_observed"]


def test_uxsim_data_observe_both_branches_and_print_nothing():
    pytest.importorskip("uxsim")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        d = uxsim_data()
    assert out.getvalue() == ""
    truth = TriangularFD()
    r = observed_ranges(d, truth)
    assert r["kink_observed"] and 0.6 < r["max_density_over_jam"] < 1.0
    assert 0.95 < r["max_flow_over_capacity"] < 1.1
    fit = fit_triangular(d["density_veh_km"], d["flow_veh_h"])
    assert abs(fit.capacity / truth.capacity - 1) < 0.02 and abs(fit.w / truth.w - 1) < 0.05


def test_uxsim_data_leaves_matplotlib_rcparams_unchanged():
    # UXsim sets rcParams["font.family"] to a monospace font when it analyses a run, which
    # turned every later figure's "|" into a broken bar; uxsim_data must undo it.
    pytest.importorskip("uxsim")
    matplotlib = pytest.importorskip("matplotlib")
    before = {k: v for k, v in matplotlib.rcParams.items() if k != "backend"}
    uxsim_data()
    after = {k: v for k, v in matplotlib.rcParams.items() if k != "backend"}
    changed = sorted(k for k in before if before[k] != after[k])
    assert not changed, f"uxsim_data changed matplotlib.rcParams: {changed}"


def test_uxsim_data_without_uxsim_raises_a_clear_import_error(monkeypatch):
    monkeypatch.setattr(traffic_data, "UXSIM_AVAILABLE", False)
    with pytest.raises(ImportError, match=r"pwlmodels\[traffic\]"):
        uxsim_data()


# ------------------------------------------------------------ admissible
def test_admissible_triangle_is_unchanged_with_demand_and_supply_of_lebacque():
    fd = TriangularFD()
    a = admissible_flux(fd)
    assert (a.critical_density, a.capacity, a.jam_density) == (20.0, 2000.0, 120.0)
    assert all(v == 0.0 for v in a.corrections.values())
    x = np.linspace(0, 120, 241)
    assert_allclose(a.demand_at(x), np.where(x <= 20, fd(x), 2000.0), rtol=1e-15)
    assert_allclose(a.supply_at(x), np.where(x >= 20, fd(x), 2000.0), rtol=1e-15, atol=1e-12)
    assert a.max_speed == 100.0


def test_admissible_flux_reports_every_correction():
    bumpy = PiecewiseLinear([0, 20, 30, 40, 60, 100], [40, 2000, 1500, 1900, 1700, 300])
    a = admissible_flux(bumpy, density_max=105.0)  # q(105) = 125 > 0: no zero in range
    fix = dict(a.corrections)
    assert fix["intercept_removed"] == 40.0 and fix["jam_forced"] == 1.0
    assert fix["jam_forced_from"] == 105.0 and fix["demand_filled"] == 0.0
    assert fix["supply_filled"] == pytest.approx(400.0)  # the dip after the peak
    assert a.jam_density == pytest.approx(100.0 + 300.0 / 35.0)  # the last segment continued
    assert admissible_flux(bumpy, density_max=110.0).corrections["jam_forced"] == 0.0
    x = np.linspace(0, a.jam_density, 5001)
    d, s = a.demand_at(x), a.supply_at(x)
    assert np.all(np.diff(d) >= -1e-9) and np.all(np.diff(s) <= 1e-9)
    assert np.all(d >= a(x) - 1e-9) and np.all(s >= a(x) - 1e-9)
    assert a(0.0) == 0.0
    dip = PiecewiseLinear([0, 5, 20, 120], [-30.0, 400.0, 2000.0, 0.0])
    assert admissible_flux(dip, density_max=130.0).corrections["negative_clipped"] == 30.0


def test_admissible_flux_rejects_bad_input():
    spline = TriangularFD().to_spline()
    with pytest.raises(ValueError, match="`density_max` is required"):
        admissible_flux(spline)
    with pytest.raises(TypeError, match="`flux` must be a TriangularFD"):
        admissible_flux(lambda r: r)
    with pytest.raises(ValueError, match="must rise from the origin"):
        admissible_flux(PiecewiseLinear([0.0, 10.0], [5.0, 0.0]), density_max=20.0)
    with pytest.raises(ValueError, match="`density_max` must be positive"):
        admissible_flux(spline, density_max=0.0)


# ------------------------------------------------------------------ CTM
@pytest.mark.parametrize("device", DEVICES)
def test_free_flow_pulse_moves_one_cell_per_step_without_smearing(device):
    fd = TriangularFD()
    rho0 = np.zeros(60)
    rho0[5:12] = np.linspace(3.0, 18.0, 7)
    r = simulate_ctm(fd, rho0, dx=0.05, dt=0.05 / fd.vf, steps=30, device=device)
    for n in (1, 17, 30):
        assert_allclose(r.density[n], np.roll(rho0, n), rtol=0, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
def test_vehicles_are_conserved_to_rounding(device):
    fluxes = [TriangularFD(), Greenshields(), admissible_flux(TriangularFD(90, 25, 140))]
    rng = np.random.default_rng(0)
    lanes = np.where(np.arange(50) < 30, 3.0, 2.0)
    rho0 = rng.uniform(0, 100, (3, 50))
    dt = 0.9 * 0.1 / max(admissible_flux(f).max_speed for f in fluxes)
    steps = 400
    inflow = rng.uniform(0, 5000, steps)
    r = simulate_ctm(
        fluxes,
        rho0,
        dx=0.1,
        dt=dt,
        steps=steps,
        lanes=lanes,
        inflow=inflow,
        signals=[(30, 0.05, 0.1), (10, 0.0, 0.02)],
        device=device,
    )
    expected = rho0.sum(axis=1, keepdims=True) * 0.1 + np.concatenate([[0], np.cumsum(inflow)]) * dt
    assert_allclose(r.vehicles(), expected, rtol=1e-13, atol=1e-10)
    assert r.density.min() >= -1e-12
    on = (r.time > 0.05) & (r.time < 0.1)  # the red interface passes nothing
    assert np.ptp(r.cumulative[:, on, 30], axis=1).max() == 0.0


@pytest.mark.parametrize(
    "flux",
    [TriangularFD(), Greenshields(), PiecewiseLinear([0, 25, 60, 130], [0, 2100, 1500, 0])],
    ids=["triangle", "greenshields", "pwl"],
)
@pytest.mark.parametrize(("left", "right"), [(15.0, 90.0), (10.0, 40.0), (50.0, 100.0)])
def test_riemann_shock_speed_is_within_2dx_over_T_of_rankine_hugoniot(flux, left, right):
    a = admissible_flux(flux, density_max=130.0 if isinstance(flux, PiecewiseLinear) else None)
    q_l, q_r = float(a(left)), float(a(right))  # left < right: a shock for a concave flux
    speed = (q_r - q_l) / (right - left)  # Rankine-Hugoniot, for the flux the CTM uses
    dx, n = 0.05, 200
    x0 = n // 2 * dx
    rho0 = np.where(np.arange(n) < n // 2, left, right)
    dt = 0.9 * dx / a.max_speed
    steps = int(min(0.1, 3.0 / max(abs(speed), 1e-9)) / dt)  # the shock stays 2 km inside
    r = simulate_ctm(
        a,
        rho0,
        dx=dx,
        dt=dt,
        steps=steps,
        exit_supply=float(a.supply_at(right)),
        inflow=float(a.demand_at(left)),
    )
    T = steps * dt
    mid = (left + right) / 2
    centres = (r.edges[:-1] + r.edges[1:]) / 2
    i = int(np.argmax(r.density[-1] >= mid))
    r0, r1 = r.density[-1][i - 1], r.density[-1][i]
    x_shock = centres[i - 1] + (mid - r0) / (r1 - r0) * dx
    assert abs((x_shock - x0) / T - speed) <= 2 * dx / T


def test_lane_drop_discharges_at_the_two_lanes_capacity():
    fd = TriangularFD()
    lanes = np.where(np.arange(40) < 30, 3.0, 2.0)
    rho0 = np.full(40, 30.0)
    r = simulate_ctm(fd, rho0, dx=0.1, dt=0.0009, steps=500, lanes=lanes, inflow=5000.0)
    assert_allclose(r.flow(30)[-100:], 2 * fd.capacity, rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"dt": 0.0011}, ValueError, "CFL condition"),
        ({"dx": 0.0}, ValueError, "`dx` must be positive"),
        ({"steps": 0}, ValueError, "`steps` must be >= 1"),
        ({"steps": 2.0}, TypeError, "`steps` must be an integer"),
        ({"steps": True}, TypeError, "`steps` must be an integer"),
        ({"record_every": 1.0}, TypeError, "`record_every` must be an integer"),
        ({"signals": [(1.0, 0.0, 1.0)]}, TypeError, r"`signals\[0\]\[0\]` must be an integer"),
        ({"signals": [(-1, 0.0, 1.0)]}, ValueError, r"`signals\[0\]\[0\]` must be >= 0"),
        ({"rho0": [10.0, -1.0]}, ValueError, "`rho0` must be finite and non-negative"),
        ({"rho0": [10.0, np.nan]}, ValueError, "`rho0` must be finite and non-negative"),
        ({"rho0": [10.0, 130.0]}, ValueError, "must not exceed lanes x jam density"),
        ({"rho0": np.zeros((2, 3))}, ValueError, r"`rho0` must have shape \(n,\) or \(1, n\)"),
        ({"lanes": [1.0, 0.0]}, ValueError, "`lanes` must be positive"),
        ({"lanes": [1.0, 1.0, 1.0]}, ValueError, r"`lanes` must be a scalar or have shape \(2,\)"),
        ({"inflow": -5.0}, ValueError, "`inflow` must be finite and non-negative"),
        ({"inflow": [1.0, 2.0]}, ValueError, r"`inflow` must be a scalar or have shape \(3,\)"),
        ({"exit_supply": -1.0}, ValueError, "`exit_supply` must be non-negative"),
        ({"exit_supply": "inf"}, TypeError, "`exit_supply` must be a real number"),
        ({"signals": [(5, 0.0, 1.0)]}, ValueError, r"`signals\[0\]\[0\]` must be an interface"),
        ({"signals": [(1, 1.0, 0.0)]}, ValueError, "needs finite start_h < end_h"),
        ({"signals": [(1, 1.0)]}, TypeError, r"`signals\[0\]` must be \(interface"),
        ({"signals": "red"}, TypeError, "`signals` must be a sequence"),
        ({"record_every": 0}, ValueError, "`record_every` must be >= 1"),
        ({"device": "tpu"}, ValueError, "device"),
        ({"flux": TriangularFD().to_spline()}, TypeError, "make it admissible first"),
        ({"flux": []}, ValueError, "at least one flux"),
        ({"flux": [TriangularFD(), "x"]}, TypeError, r"`flux\[1\]` must be"),
    ],
)
def test_simulate_ctm_rejects_bad_input(kwargs, error, match):
    args = {"flux": TriangularFD(), "rho0": [10.0, 20.0], "dx": 0.1, "dt": 0.0009, "steps": 3}
    args |= kwargs
    with pytest.raises(error, match=match):
        simulate_ctm(args.pop("flux"), args.pop("rho0"), **args)


def test_simulate_ctm_on_cuda_matches_the_cpu():
    if not torch.cuda.is_available():
        pytest.skip("CUDA is not available")
    fluxes = [TriangularFD(), Greenshields()]
    kw = {"dx": 0.05, "dt": 0.0004, "steps": 300, "inflow": 1500.0, "signals": [(40, 0.02, 0.05)]}
    cpu = simulate_ctm(fluxes, np.full(60, 12.0), device="cpu", **kw)
    gpu = simulate_ctm(fluxes, np.full(60, 12.0), device="cuda", **kw)
    assert_allclose(gpu.density, cpu.density, rtol=1e-12, atol=1e-10)


def test_admissible_flux_is_accepted_directly_and_as_a_batch():
    a = admissible_flux(TriangularFD())
    assert isinstance(a, AdmissibleFlux) and admissible_flux(a) is a
    single = simulate_ctm(a, np.full(10, 10.0), dx=0.1, dt=0.0009, steps=5)
    batch = simulate_ctm([a, a], np.full(10, 10.0), dx=0.1, dt=0.0009, steps=5)
    assert single.density.shape == (6, 10) and batch.density.shape == (2, 6, 10)
    assert_allclose(batch.density[1], single.density, rtol=0, atol=0)


# -------------------------------------------------------------- the study
@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """The quick run (with a detector CSV) and the TrafficResult it rendered, computed once."""
    out = tmp_path_factory.mktemp("traffic")
    user = out / "detectors.csv"
    detector_sample(n_detectors=2, seed=11).to_csv(user, index=False)  # raw counts
    results = []

    def keep(*args, **kwargs):
        results.append(compute(*args, **kwargs))
        return results[-1]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(traffic, "compute", keep)
        app = run(out, device="cpu", seeds=(0,), quick=True, data=user)
    (result,) = results
    return app, result


@pytest.fixture(scope="module")
def quick(quick_run):
    return quick_run[0]


@pytest.fixture(scope="module")
def result(quick_run):
    return quick_run[1]


def test_compute_returns_a_frozen_result_of_numbers_arrays_tables_and_strings(result):
    assert isinstance(result, TrafficResult) and isinstance(result.config, Config)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.table = None
    assert disallowed(result, "result") == []
    net = torch.nn.Linear(1, 1)
    assert disallowed({"net": net}, "x") == ["x['net']: torch.nn.modules.linear.Linear"]


def test_run_writes_the_table_of_its_result(quick, result):
    assert result.config == QUICK and result.seeds == (0,)
    pd.testing.assert_frame_equal(result.table, quick.table)


def test_figures_and_section_render_a_result_without_torch(result, tmp_path, no_computing):
    from applications.traffic import _figures, _section

    paths = _figures.figures(result, tmp_path)
    assert sorted(p.name for p in paths) == sorted(FIGURES)
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)
    text = _section.section(result, 1.0, result.device, True)
    assert text.startswith("## Traffic") and "1.0 s on cpu" in text
    info = _section.info(result, 1.0)
    assert info["stage_seconds"]["total"] == 1.0 and "recovered" in info


def test_compute_rejects_a_config_that_is_not_a_config():
    with pytest.raises(TypeError, match="`config` must be a Config; got dict"):
        compute({"n_points": 10}, seeds=(0,))


def test_quick_run_writes_the_table_the_figures_and_the_section(quick):
    folder = quick.out_dir / "traffic"
    assert quick.table_path.exists() and quick.section_path.exists()
    assert quick.section.startswith("## ") and not re.search(r"^# ", quick.section, flags=re.M)
    assert quick.info["torch_threads"] == 1
    assert sorted(p.name for p in quick.figures) == sorted(FIGURES)
    for name in FIGURES:
        assert (folder / name).read_bytes()[:4] == b"\x89PNG"
        assert f"]({name})" in quick.section
    table = pd.read_csv(quick.table_path)
    assert list(table.columns) == [
        "part",
        "dataset",
        "model",
        "seed",
        "quantity",
        "value",
        "unit",
        "note",
    ]
    parts = {"fit", "compare", "admissible", "red_light", "lane_drop", "greenshields"}
    assert parts | {"exact_reference"} <= set(table["part"])
    assert "user" in set(table["dataset"])


def test_quick_run_has_nan_only_where_documented(quick):
    t = quick.table
    nan = t[t["value"].isna()]
    assert nan["note"].str.startswith("none").all()
    assert set(nan["quantity"]) <= {
        "jam_density",
        "jam_density_rel_error",
        "kink_location_error",
        "tail_speed",
        "front_speed",
    }


def test_quick_run_recovers_the_triangle_and_quotes_numbers_from_the_run(quick):
    rec = quick.info["recovered"]
    assert rec["noise_free"]["triangle_robust"]["vf"] == pytest.approx(100.0, rel=1e-8)
    worst = quick.info["robust_worst_rel_error"]
    assert worst["vf"] < 0.02 and worst["capacity"] < 0.02
    assert f"{100 * worst['capacity']:.2f} % on capacity" in quick.section
    assert quick.info["greenshields_max_rel_deviation"] < 1e-10
    assert quick.info["triangle_relu_max_deviation"] < 1e-9


def test_quick_run_queues_follow_the_fitted_capacity(quick):
    red = quick.info["queues"]["red_light"]
    assert red["truth"]["discharge_flow"] == pytest.approx(2000.0, rel=1e-9)
    assert red["truth"]["tail_speed"] == pytest.approx(-1200.0 / 108.0, abs=0.5)
    drop = quick.info["queues"]["lane_drop"]
    assert drop["truth"]["discharge_flow"] == pytest.approx(4000.0, rel=1e-9)
    for name, m in drop.items():
        if name != "hypothesis":
            assert m["discharge_flow"] == pytest.approx(2 * 2000 * (1 + m["capacity_rel_error"]))


def test_quick_run_uses_uxsim_when_installed(quick):
    if traffic_data.UXSIM_AVAILABLE:
        assert "uxsim" in set(quick.table["dataset"]) and "UXsim" in quick.section
    else:
        assert "UXsim is not installed" in quick.section


def test_quick_run_has_field_rows_for_every_model_and_no_nan(quick):
    field = quick.table[quick.table["part"] == "field"]
    sets = ["synthetic_30", "synthetic_10"] + ["uxsim"] * traffic_data.UXSIM_AVAILABLE
    assert sorted(set(field["dataset"])) == sorted(sets)
    ctm = {f"{s}_{q}_error" for s in ("red_light", "lane_drop") for q in ("delay", "queue")}
    for ds in sets:
        want = {"capacity_error", "w_error", "vf_error"} | (ctm if ds == "synthetic_30" else set())
        for model in traffic_field.MODELS:
            got = field[(field["dataset"] == ds) & (field["model"] == model)]["quantity"]
            assert set(got) == want, (ds, model)
    assert np.isfinite(field["value"]).all()


def test_field_rows_are_each_fit_minus_the_truth(quick):
    t = quick.table

    def value(part, ds, model, quantity):
        d = t[(t["part"] == part) & (t["dataset"] == ds) & (t["model"] == model)]
        return float(d.loc[d["quantity"] == quantity, "value"].iloc[0])

    sources = {"delay": "total_delay", "queue": "max_queue"}
    for r in t[t["part"] == "field"].itertuples():
        if r.quantity == "capacity_error":  # measure()'s own relative error, in %
            want = 100 * value("fit", r.dataset, r.model, "capacity_rel_error")
        elif r.quantity in ("w_error", "vf_error"):
            q = r.quantity.removesuffix("_error")
            rel = value("fit", r.dataset, r.model, f"{q}_rel_error")
            want = rel * value("fit", r.dataset, "truth", q)
        else:
            part, q = r.quantity[:9], sources[r.quantity.split("_")[2]]
            want = value(part, r.dataset, r.model, q) - value(part, r.dataset, "truth", q)
        assert r.value == pytest.approx(want, rel=1e-9, abs=1e-12), r


def _field_table_rows(section: str) -> list[list[str]]:
    """The cells of the field table in a section, the header first."""
    start = section.index("### The comparison where it matters in the field")
    head, _rule, *rows = [x for x in section[start:].split("\n\n")[2].splitlines() if x[:1] == "|"]
    return [[c.strip() for c in x.strip("|").split("|")] for x in (head, *rows)]


def test_the_best_model_sentences_and_bold_cells_match_the_table(quick):
    t = pd.read_csv(quick.table_path)
    field = t[t["part"] == "field"]
    mean_abs = field["value"].abs().groupby([field["dataset"], field["quantity"], field["model"]])
    mean_abs = mean_abs.mean()
    head, *cells = _field_table_rows(quick.section)
    lines = quick.section.splitlines()
    for (ds, quantity), errors in mean_abs.groupby(level=[0, 1]):
        errors = errors.droplevel([0, 1])
        near = errors <= errors.min() * (1 + traffic_field.TIE_RTOL) + 1e-12
        want = tuple(m for m in traffic_field.MODELS if near[m])
        assert tuple(quick.info["field"]["best"][ds][quantity]) == want
        label, names = traffic_field.LABELS[quantity], [traffic_labels.STYLE[m][0] for m in want]
        (line,) = [x for x in lines if x.startswith(f"- {label}: ")]
        assert " / ".join(names) in line
        col = head.index(label)
        data = traffic_labels.DATASETS[ds]
        bold = [r[1] for r in cells if r[0] == data and r[col].startswith("**")]
        assert bold == names, (ds, quantity)
    duel = [w for d in quick.info["field"]["relu_vs_tanh"].values() for w in d.values()]
    said = f"the ReLU network in {duel.count('relu')}"
    assert said in quick.section and f"of the {len(duel)} entries" in quick.section


def test_field_stats_average_over_seeds_keep_ties_and_say_which_network_is_closer():
    errors = {"triangle_robust": (1, -1), "triangle_lsq": (-1, 1), "relu": (-3, -5), "tanh": (2, 4)}
    rows = [
        traffic_models.table_row("field", "synthetic_30", m, seed, "capacity_error", v[seed], "%")
        for m, v in errors.items()
        for seed in (0, 1)
    ]
    stats = traffic_field.field_stats(pd.DataFrame(rows))
    robust = stats["stats"]["synthetic_30"]["triangle_robust"]["capacity_error"]
    assert robust == {"mean": 0.0, "sd": pytest.approx(math.sqrt(2.0)), "mean_abs": 1.0, "n": 2}
    assert stats["best"]["synthetic_30"]["capacity_error"] == ("triangle_robust", "triangle_lsq")
    assert stats["relu_vs_tanh"]["synthetic_30"]["capacity_error"] == "tanh"  # 3 against 4
    table = traffic_field.field_table(stats)
    assert list(table["capacity error (%)"]) == [
        "**0 ± 1.4**",
        "**0 ± 1.4**",
        "-4 ± 1.4",
        "3 ± 1.4",
    ]


@pytest.mark.slow
def test_a_rerun_on_the_cpu_gives_an_identical_table(quick, tmp_path):
    user = quick.out_dir / "detectors.csv"
    again = run(tmp_path, device="cpu", seeds=(0,), quick=True, data=user)
    pd.testing.assert_frame_equal(again.table, quick.table)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"out_dir": 3}, TypeError, "`out_dir` must be a str"),
        ({"seeds": "012"}, TypeError, "`seeds` must be a non-empty sequence"),
        ({"seeds": ()}, TypeError, "`seeds` must be a non-empty sequence"),
        ({"seeds": (0, -1)}, ValueError, r"`seeds\[1\]` must be >= 0"),
        ({"seeds": (0, 1.5)}, TypeError, r"`seeds\[1\]` must be an integer"),
        ({"seeds": (True,)}, TypeError, r"`seeds\[0\]` must be an integer"),
        ({"seeds": (np.bool_(False),)}, TypeError, r"`seeds\[0\]` must be an integer"),
        ({"seeds": (1, 1)}, ValueError, "`seeds` must be distinct"),
        ({"quick": "yes"}, TypeError, "`quick` must be True or False"),
        ({"device": "tpu"}, ValueError, "device"),
    ],
)
def test_run_rejects_bad_arguments_before_any_work(kwargs, error, match, tmp_path):
    args = {"out_dir": tmp_path, "quick": True} | kwargs
    with pytest.raises(error, match=match):
        run(args.pop("out_dir"), **args)
    assert not (tmp_path / "traffic").exists()


def test_seeds_accept_numpy_integers_as_plain_ints():
    from applications.traffic._fits import seeds_of

    got = seeds_of([np.int64(3), np.uint8(1), 0])
    assert got == (3, 1, 0) and all(type(s) is int for s in got)


def test_run_rejects_a_detector_csv_without_the_columns(tmp_path):
    (tmp_path / "bad.csv").write_text("k,q\n1,2\n")
    with pytest.raises(ValueError, match="density_veh_km"):
        run(tmp_path, quick=True, data=tmp_path / "bad.csv")
