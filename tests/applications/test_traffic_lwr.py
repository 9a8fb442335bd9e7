"""The exact LWR red light: closed form, Newell's cumulative-count solver, the CTM's convergence."""

from __future__ import annotations

import doctest
import importlib
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from applications.traffic import (
    RedLightResult,
    TriangularFD,
    newell_link,
    red_light_convergence,
    red_light_convergence_figure,
    red_light_ctm,
    red_light_exact,
    simulate_ctm,
)

FD = TriangularFD()
FIELDS = ("max_queue_km", "clear_s", "delay_veh_h")


def red_light_link(fd: TriangularFD, q: float, red_s: float, length: float):
    red = red_s / 3600.0
    return newell_link(fd, length, inflow=q, exit_capacity=[(0.0, 0.0), (red, fd.capacity)])


def newell_red_light(fd: TriangularFD, q: float, red_s: float) -> RedLightResult:
    """The red light read from Newell's solution on a link twice the queue's length."""
    exact = red_light_exact(fd, q, red_s)
    link = red_light_link(fd, q, red_s, 2.0 * exact.max_queue_km + 0.1)
    thr = exact.threshold_veh_km
    return RedLightResult(
        link.max_queue(thr), 3600 * link.clear_time(), link.total_delay(), "newell", math.nan, thr
    )


def geometric_red_light(fd: TriangularFD, q: float, red_s: float) -> tuple[Fraction, ...]:
    """The wave construction in exact rationals: tail shock, discharge wave, meeting, clearing."""
    vf, w, jam = Fraction(fd.vf), Fraction(fd.w), Fraction(fd.rho_jam)
    q, red = Fraction(q), Fraction(red_s) / 3600
    rho_c = w * jam / (vf + w)
    cap = vf * rho_c
    u = q / (jam - q / vf)  # tail speed upstream (Rankine-Hugoniot with jam)
    meet = w * red / (w - u)  # the -w wave from (red, stop line) meets the tail
    longest = u * meet
    tail = (cap - q) / (rho_c - q / vf)  # the arrival/capacity shock: vf
    clear = meet + longest / tail
    # delay: area between arrivals q t and departures cap (t - red) up to clear
    delay = q * clear**2 / 2 - cap * (clear - red) ** 2 / 2
    return longest, clear * 3600, delay


CASES = [(FD, 1200.0, 180.0), (FD, 300.0, 30.0), (TriangularFD(80.0, 15.0, 150.0), 1500.0, 90.0)]


@pytest.mark.parametrize(("fd", "q", "red_s"), CASES)
def test_closed_form_equals_the_wave_construction_in_rationals(fd, q, red_s):
    r = red_light_exact(fd, q, red_s)
    want = geometric_red_light(fd, q, red_s)
    got = (r.max_queue_km, r.clear_s, r.delay_veh_h)
    np.testing.assert_allclose(got, [float(v) for v in want], rtol=1e-14)


@pytest.mark.parametrize(("fd", "q", "red_s"), CASES)
def test_closed_form_equals_newells_solver(fd, q, red_s):
    exact, newell = red_light_exact(fd, q, red_s), newell_red_light(fd, q, red_s)
    for name in FIELDS:
        np.testing.assert_allclose(getattr(newell, name), getattr(exact, name), rtol=1e-9)


@settings(max_examples=25, deadline=None)
@given(
    vf=st.floats(60.0, 130.0),
    w=st.floats(10.0, 30.0),
    jam=st.floats(100.0, 160.0),
    load=st.floats(0.02, 0.97),
    red_s=st.floats(5.0, 300.0),
)
def test_closed_form_equals_newell_for_any_triangle(vf, w, jam, load, red_s):
    fd = TriangularFD(vf, w, jam)
    exact, newell = red_light_exact(fd, load * fd.capacity, red_s), None
    newell = newell_red_light(fd, load * fd.capacity, red_s)
    for name in FIELDS:
        np.testing.assert_allclose(getattr(newell, name), getattr(exact, name), rtol=1e-9)


def test_newell_states_are_arrival_jam_and_capacity_where_the_waves_put_them():
    link = red_light_link(FD, 1200.0, 180.0, 3.0)
    stop = 3.0
    # at 2 min of red: the tail is 2/60 h x 1200 / 108 km/h = 0.3704 km upstream
    t = 2 / 60
    tail = t * 1200.0 / 108.0
    np.testing.assert_array_equal(
        link.density(t, [stop - tail - 1e-6, stop - tail + 1e-6]), [12, 120]
    )
    np.testing.assert_array_equal(link.flow(t, [stop - tail - 1e-6, stop - 1e-6]), [1200, 0])
    # 1 min after green: discharge (capacity) within 1/3 km of the stop line, jam beyond
    t = 4 / 60
    np.testing.assert_array_equal(link.density(t, [stop - 0.3, stop - 0.4]), [20, 120])
    np.testing.assert_array_equal(link.flow(t, [stop - 0.3, stop - 0.4]), [2000, 0])


@pytest.mark.parametrize("t", [0.02, 0.06, 0.1, 0.12, 0.2])
def test_newell_conserves_vehicles(t):
    """Vehicles on the link from the counts equal the integral of the density field."""
    link = red_light_link(FD, 1200.0, 180.0, 3.0)
    x = (np.arange(200_000) + 0.5) * (3.0 / 200_000)
    on_link = link.count(t, 0.0) - link.count(t, 3.0)
    np.testing.assert_allclose(on_link, np.sum(link.density(t, x)) * 3.0 / x.size, atol=0.01)
    # and the count falls along x by the density: N(t, x) - N(t, x + h) = rho h away from waves
    h = 1e-7
    drop = (link.count(t, x[:-1:997]) - link.count(t, x[:-1:997] + h)) / h
    np.testing.assert_allclose(np.median(drop - link.density(t, x[:-1:997])), 0.0, atol=1e-6)


def test_newell_spillback_and_entrance_queue_agree_with_a_fine_ctm():
    """Demand above capacity and a red that fills the link: counts at both ends and mid-link."""
    length, inflow = 0.5, [(0.0, 1500.0), (0.03, 2500.0), (0.05, 500.0)]
    link = newell_link(
        FD, length, inflow=inflow, exit_capacity=[(0, 2000.0), (0.02, 0), (0.06, 2000.0)]
    )
    assert link.max_queue() == length  # spills back to the entrance
    errors = []
    for dx in (0.01, 0.005):
        n, dt = round(length / dx), 0.9 * dx / FD.vf
        steps = math.ceil(0.15 / dt)
        t = np.arange(steps) * dt
        q = np.select(
            [(t >= a) & (t < b) for a, b in ((0, 0.03), (0.03, 0.05), (0.05, 1))], [1500, 2500, 500]
        )
        r = simulate_ctm(
            FD, np.full(n, 15.0), dx=dx, dt=dt, steps=steps, inflow=q, signals=[(n, 0.02, 0.06)]
        )
        cols = (0, n // 2, n)
        exact = [link.count(r.time, r.edges[j]) - link.count(0.0, r.edges[j]) for j in cols]
        err = [np.max(np.abs(r.cumulative[:, j] - e)) for j, e in zip(cols, exact, strict=True)]
        err.append(np.max(np.abs(r.entry_queue - (link.demand(r.time) - link.entry(r.time)))))
        errors.append(err)
    assert all(b < a for a, b in zip(*errors, strict=True)), errors
    assert max(errors[1]) < 2.0  # vehicles, out of about 250
    assert errors[1][2] < 0.1  # the exit count: the queue there is never smeared


def test_newell_queue_on_a_grid_follows_the_tail_and_peaks_at_the_exact_maximum():
    link = red_light_link(FD, 1200.0, 180.0, 3.0)
    dx, dt = 1e-3, 5e-4
    x = np.arange(0.0, 3.0 + dx / 2, dx)
    t = np.arange(0.0, 0.13, dt)
    queue = link.queue_length(t, x)
    u = 1200.0 / 108.0  # km/h: the tail until the discharge wave meets it at 0.1125 h
    growing = t < 0.1125
    np.testing.assert_allclose(queue[growing], u * t[growing], atol=dx)
    assert (queue[t > 0.1125 + 1e-9] == 0).all()  # the jam wedge has closed
    assert link.max_queue() - dx - u * dt <= queue.max() <= link.max_queue()  # grid steps


def test_newell_free_exit_is_free_flow_and_never_queues():
    link = newell_link(FD, 2.0, inflow=[(0.0, 800.0), (0.1, 1900.0)])
    assert link.max_queue() == 0.0 and link.clear_time() == 0.0 and link.total_delay() == 0.0
    np.testing.assert_allclose(link.density([0.05, 0.2], 1.0), [8.0, 19.0])


def test_newell_queue_that_never_clears_is_infinite():
    link = newell_link(FD, 1.0, inflow=1500.0, exit_capacity=[(0.0, 2000.0), (0.01, 1000.0)])
    assert link.clear_time() == math.inf and link.total_delay() == math.inf
    assert link.max_queue(threshold=60.0) == 1.0


def test_ctm_errors_fall_with_dx_and_the_queue_converges_at_order_one_half():
    table = red_light_convergence(dx_m=(50.0, 25.0, 10.0))
    for name, part in table.groupby("quantity"):
        err = part.sort_values("dx_m", ascending=False).rel_error.to_numpy()
        assert (np.diff(err) < 0).all(), (name, err)
    fine = table[table.dx_m == 10.0].set_index("quantity")
    # stated tolerances at 10 m: the smeared discharge wave costs the queue most
    assert fine.rel_error["max_queue_km"] < 0.08
    assert fine.rel_error["clear_s"] < 2e-4
    assert fine.rel_error["delay_veh_h"] < 2e-5
    assert (fine.error[["max_queue_km", "clear_s"]] < 0).all()  # the CTM ends them early
    orders = table.dropna().set_index(["dx_m", "quantity"]).order
    assert 0.35 < orders[(10.0, "max_queue_km")] < 0.75  # a contact wave smears as sqrt(dx)
    assert orders[(10.0, "clear_s")] > 0.8 and orders[(10.0, "delay_veh_h")] > 0.8


def test_ctm_result_has_the_exact_threshold_and_grid():
    r = red_light_ctm(FD, 1200.0, 180.0, 50.0)
    assert r.method == "ctm" and r.dx_m == 50.0 and r.threshold_veh_km == 70.0
    frame = r.to_frame()
    assert list(frame.columns) == [*FIELDS, "method", "dx_m", "threshold_veh_km"]


def test_ctm_accepts_one_cell_per_queue_and_keeps_the_delay():
    exact = red_light_exact(FD, 1200.0, 180.0)
    r = red_light_ctm(FD, 1200.0, 180.0, 1000.0 * exact.max_queue_km)  # the bound itself
    assert abs(r.delay_veh_h - exact.delay_veh_h) < 0.02 * exact.delay_veh_h  # conservation
    assert 0.0 <= r.max_queue_km < exact.max_queue_km  # one cell smears the wedge (documented)


def test_ctm_step_keeps_the_cfl_condition_when_congestion_waves_are_faster(monkeypatch):
    import applications.traffic._redlight as redlight

    fd = TriangularFD(vf=40.0, w=60.0)  # w > vf: the congestion wave sets the step
    seen = {}

    def spy(*args, **kwargs):
        seen.update(dx=kwargs["dx"], dt=kwargs["dt"])
        return simulate_ctm(*args, **kwargs)

    monkeypatch.setattr(redlight, "simulate_ctm", spy)
    r = red_light_ctm(fd, 1000.0, 60.0, 25.0)  # was a CFL ValueError about a `dt` never given
    cfl = max(fd.vf, fd.w) * seen["dt"] / seen["dx"]
    assert 0.8 < cfl <= 0.9 * (1 + 1e-12)  # courant=0.9, shortened to whole red steps
    exact = red_light_exact(fd, 1000.0, 60.0)
    assert abs(r.delay_veh_h - exact.delay_veh_h) < 0.05 * exact.delay_veh_h


def test_convergence_figure_is_a_png(tmp_path):
    table = pd.DataFrame(
        {
            "dx_m": [50.0, 25.0] * 3,
            "quantity": [q for q in FIELDS for _ in range(2)],
            "rel_error": [0.2, 0.1, 1e-3, 5e-4, 5e-5, 0.0],
        }
    )
    out = red_light_convergence_figure(table, tmp_path / "c.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


HOSTILE = [
    (lambda: red_light_exact(FD, 2000.0, 180.0), ValueError, "`arrival_flow` must be below"),
    (lambda: red_light_exact(FD, 2500.0, 180.0), ValueError, "`arrival_flow`"),
    (lambda: red_light_exact(FD, -5.0, 180.0), ValueError, "`arrival_flow`"),
    (lambda: red_light_exact(FD, "1200", 180.0), TypeError, "`arrival_flow`"),
    (lambda: red_light_exact(FD, 1200.0, -1.0), ValueError, "`red_s`"),
    (lambda: red_light_exact(FD, 1200.0, math.nan), ValueError, "`red_s`"),
    (lambda: red_light_exact(FD, 1200.0, True), TypeError, "`red_s`"),
    (lambda: red_light_exact("fd", 1200.0, 180.0), TypeError, "`fd`"),
    (lambda: red_light_ctm(FD, 2000.0, 180.0, 25.0), ValueError, "`arrival_flow`"),
    (lambda: red_light_ctm(FD, 1200.0, 0.0, 25.0), ValueError, "`red_s`"),
    (lambda: red_light_ctm(FD, 1200.0, 180.0, 0.0), ValueError, "`dx_m`"),
    (lambda: red_light_ctm(FD, 1200.0, 180.0, "25"), TypeError, "`dx_m`"),
    (lambda: red_light_ctm(FD, 1200.0, 180.0, 25.0, courant=1.5), ValueError, "`courant`"),
    # the exact queue (1250 m) fits in one 2 km cell: refused, not a queue of 0 km
    (
        lambda: red_light_ctm(FD, 1200.0, 180.0, 2000.0),
        ValueError,
        "`dx_m` must be at most the exact maximum queue, 1250.0 m",
    ),
    # a 5 s red behind 100 veh/h queues 0.14 m: was a RuntimeError from inside the CTM
    (lambda: red_light_ctm(FD, 100.0, 5.0, 50.0), ValueError, "`dx_m` must be at most"),
    (lambda: red_light_convergence(dx_m=(25.0, 50.0)), ValueError, "`dx_m` must be strictly"),
    (lambda: red_light_convergence(dx_m="25"), TypeError, "`dx_m`"),
    (lambda: red_light_convergence(dx_m=(50.0, -1.0)), ValueError, r"`dx_m\[1\]`"),
    (lambda: red_light_convergence_figure([1], "x.png"), TypeError, "`table`"),
    (
        lambda: red_light_convergence_figure(pd.DataFrame({"a": [1]}), "x.png"),
        ValueError,
        "`table`",
    ),
    (lambda: newell_link(FD, -1.0, inflow=1000.0), ValueError, "`length_km`"),
    (lambda: newell_link(FD, 1.0, inflow="1000"), TypeError, "`inflow`"),
    (lambda: newell_link(FD, 1.0, inflow=2500.0), ValueError, "`inflow` rates"),
    (
        lambda: newell_link(FD, 1.0, inflow=[(0.0, 100.0), (0.1, -1.0)]),
        ValueError,
        "`inflow` rates",
    ),
    (lambda: newell_link(FD, 1.0, inflow=[(0.0, 100.0), (0.1, math.inf)]), ValueError, "`inflow`"),
    (lambda: newell_link(FD, 1.0, inflow=[(0.1, 100.0)]), ValueError, "`inflow` must start at 0"),
    (lambda: newell_link(FD, 1.0, inflow=[(0.0, 1.0), (0.0, 2.0)]), ValueError, "increasing"),
    (lambda: newell_link(FD, 1.0, inflow=[(0.0, 1.0, 2.0)]), ValueError, "`inflow` must be pairs"),
    (
        lambda: newell_link(FD, 1.0, inflow=1.0, exit_capacity=[(0, -1.0)]),
        ValueError,
        "`exit_capacity`",
    ),
    (lambda: newell_link(FD, 1.0, inflow=1.0, exit_capacity=[]), TypeError, "`exit_capacity`"),
    (lambda: newell_link(None, 1.0, inflow=1.0), TypeError, "`fd`"),
    (lambda: newell_link(FD, 1.0, inflow=1.0).count(0.0, 1.5), ValueError, "`x` must lie"),
    (lambda: newell_link(FD, 1.0, inflow=1.0).density(math.inf, 0.5), ValueError, "`t`"),
    (lambda: newell_link(FD, 1.0, inflow=1.0).flow("0", 0.5), TypeError, "`t`"),
    (lambda: newell_link(FD, 1.0, inflow=1.0).max_queue(10.0), ValueError, "`threshold`"),
    (lambda: newell_link(FD, 1.0, inflow=1.0).max_queue("a"), TypeError, "`threshold`"),
    (lambda: newell_link(FD, 1.0, inflow=1.0).queue_length([[0.0]], [0.5]), ValueError, "1-D"),
]


@pytest.mark.parametrize(("call", "error", "match"), HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_arguments_raise_naming_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_steps_may_be_given_as_an_array():
    a = newell_link(FD, 1.0, inflow=np.array([[0.0, 1000.0], [0.1, 500.0]]))
    b = newell_link(FD, 1.0, inflow=[(0.0, 1000.0), (0.1, 500.0)])
    assert a.demand == b.demand and a.departures == b.departures


def test_exit_capacity_above_capacity_acts_as_capacity():
    a = newell_link(FD, 1.0, inflow=1200.0, exit_capacity=[(0.0, 0.0), (0.01, math.inf)])
    b = newell_link(FD, 1.0, inflow=1200.0, exit_capacity=[(0.0, 0.0), (0.01, FD.capacity)])
    assert a.departures == b.departures


@pytest.mark.parametrize("name", ["applications.traffic._lwr", "applications.traffic._redlight"])
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    result = doctest.testmod(module, optionflags=flags)
    assert result.failed == 0 and result.attempted > 0
