"""Node models (Daganzo 1995, Tampere et al. 2011) and the freeway corridor simulator."""

from __future__ import annotations

import doctest
import importlib
import inspect
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from applications.traffic import (
    UXSIM_AVAILABLE,
    Alinea,
    Corridor,
    TriangularFD,
    corridor_comparison,
    corridor_scenario,
    corridor_uxsim,
    diverge_flows,
    freeway_figure,
    freeway_section,
    freeway_study,
    merge_flows,
    node_flows,
    simulate_ctm,
    simulate_freeway,
)

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
@given(nodes(), st.floats(1.0, 4.0))
def test_unused_supply_does_not_matter(node, factor):
    # the same for outgoing links: more supply where the supply is not used changes nothing
    d, a, s, p = node
    q = node_flows(d, a, s, p)
    slack = q.sum(axis=0) < s * (1 - 1e-9)
    if slack.any():
        more = np.where(slack, s * factor, s)
        assert_allclose(node_flows(d, a, more, p), q, rtol=1e-9, atol=1e-7)


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


# ------------------------------------------------------------------ the corridor
@pytest.fixture(scope="module")
def runs():
    return {m: corridor_scenario(m, record_every=1) for m in (False, True)}


def test_corridor_without_ramps_is_the_one_link_ctm():
    # no ramps, no off-ramp: the torch single-link CTM (tabulated demand and supply) is an
    # independent reference for the cells, the lane drop and the entrance queue.
    c = Corridor(on_ramps=(), off_ramp=None)
    dt = c.dx / c.fd.vf
    inflow = np.interp(np.arange(1500) * dt, [0.0, 0.3, 0.6, 1.5], [2000.0, 5000.0, 5000.0, 0.0])
    ours = simulate_freeway(c, steps=1500, mainline_demand=inflow, ramp_demands=[])
    ref = simulate_ctm(
        c.fd, np.zeros(c.n_cells), dx=c.dx, dt=dt, steps=1500, lanes=c.lanes_per_cell, inflow=inflow
    )
    assert_allclose(ours.density, ref.density, rtol=0, atol=1e-9)
    assert_allclose(ours.entry_queue, ref.entry_queue, rtol=0, atol=1e-9)
    assert_allclose(ours.total_travel_time, ref.total_time, rtol=1e-12)
    assert ours.queue_length.max() > 3.0  # the lane drop (4000 veh/h) queued


def test_vehicles_are_conserved_at_every_step(runs):
    for r in runs.values():
        assert r.time.size == 3001
        assert_allclose(r.arrived, r.stored() + r.exited, rtol=0, atol=1e-8)
        assert (r.density >= -1e-12).all() and (r.density / r.lanes <= 120.0 + 1e-9).all()


def test_light_traffic_has_no_delay_and_the_off_ramp_takes_its_share():
    c = Corridor()
    r = simulate_freeway(
        c, steps=400, mainline_demand=2400.0, ramp_demands=[300.0, 500.0], exit_fraction=0.25
    )
    assert abs(r.total_delay) < 1e-9 and r.queue_length.max() == 0.0
    # after the front has passed 5 km (50 steps), 0.25 (2400 + 300) = 675 veh/h leave there
    rate = np.diff(r.off_ramp_exits[100:]) / r.dt
    assert_allclose(rate, 675.0, rtol=1e-12)
    # and 0.75 * 2700 + 500 = 2525 veh/h leave downstream once the road has filled
    assert_allclose(np.diff(r.exited[-50:] - r.off_ramp_exits[-50:]) / r.dt, 2525.0, rtol=1e-12)


def test_a_congested_mainline_holds_the_on_ramp():
    # One lane after 3 km (capacity 2000): the merge at 2.5 km sits in the queue, whose
    # cells pass 2000 veh/h; ramp priority 2000 / (3 x 2000 + 2000) = 1/4, share 500 veh/h
    # < its demand 1500, so the ramp queue grows at 1500 - 500 = 1000 veh/h.
    c = Corridor(
        length=4.0, lanes=3, lane_drop=3.0, lanes_after_drop=1, on_ramps=(2.5,), off_ramp=None
    )
    r = simulate_freeway(c, steps=1500, mainline_demand=3000.0, ramp_demands=[1500.0])
    growth = np.diff(r.ramp_queues[-100:, 0]) / r.dt
    assert_allclose(growth, 1000.0, rtol=1e-9)
    assert r.entry_queue[-1] > 0  # the queue has reached the entrance as well


def test_fifo_diverge_holds_the_exiting_traffic_in_the_queue(runs):
    # No metering, peak: the queue covers 5 km to 7.5 km. Ramp 2 sends its 900 veh/h
    # (share 1000 of the 4000 discharged), so the mainline between the ramps carries
    # 3100 veh/h, and FIFO lets 3100 x 0.2 / 0.8 = 775 veh/h off (demand: 980).
    r = runs[False]
    shown = (r.time >= 1.4) & (r.time <= 1.5)
    rate = np.diff(r.off_ramp_exits[shown]) / r.dt
    assert_allclose(rate, 775.0, rtol=1e-9)
    metered = runs[True]
    assert_allclose(np.diff(metered.off_ramp_exits[shown]) / r.dt, 980.0, rtol=1e-9)


def test_alinea_moves_the_queue_onto_the_ramp(runs):
    free, metered = runs[False], runs[True]
    assert metered.total_travel_time < free.total_travel_time
    assert metered.queue_length.max() < 0.3 * free.queue_length.max()
    assert free.ramp_queues.max() < 1e-9 < 500 < metered.ramp_queues[:, 1].max()
    rate = metered.metering_rate
    assert (rate >= 200.0 - 1e-9).all() and (rate <= 2000.0 + 1e-9).all()
    assert np.isnan(free.metering_rate).all()
    table = corridor_comparison(record_every=100)
    assert_allclose(
        table["total_travel_time_veh_h"],
        [free.total_travel_time, metered.total_travel_time],
        rtol=1e-12,
    )


def test_alinea_rate_follows_its_law(runs):
    # Rebuilt from the records: every 17 steps (60 s / 3.6 s) r <- clip(r + 70 (16.67 - o),
    # 200, min(2000, arrivals + queue / period)), o the period's mean occupancy (%) of the
    # cell just downstream of ramp 2 (100 x density per lane / 120).
    r = runs[True]
    dt, n = r.dt, 17
    occupancy = 100.0 * r.density[:, 75] / r.lanes[75] / 120.0
    arrivals = 300.0 + 600.0 * np.interp(
        np.arange(3000) * dt, [0, 0.25, 0.5, 1.5, 1.75], [0, 0, 1, 1, 0]
    )
    checked = 0
    for m in range(1, 3000 // n):
        end = m * n  # the rate at record `end` is the one set after step end - 1
        before, after = r.metering_rate[end - n], r.metering_rate[end]
        o = occupancy[end - n + 1 : end + 1].mean()
        upper = max(200.0, min(2000.0, arrivals[end - 1] + r.ramp_queues[end, 1] / (n * dt)))
        assert_allclose(
            after, np.clip(before + 70.0 * (100.0 / 6.0 - o), 200.0, upper), rtol=1e-12, atol=1e-9
        )
        checked += 200.0 < after < upper
    assert checked > 5  # the law itself, not only its clip, was exercised
    assert (np.diff(r.metering_rate)[np.arange(3000) % n != n - 1] == 0).all()


def test_alinea_rate_is_clipped_to_what_the_ramp_can_send():
    # Light traffic: r + K_R (o_target - o) exceeds what the ramp could send, so the rate
    # sits at arrivals 400 + queue 0 / period = 400 veh/h after the first period.
    r = simulate_freeway(
        Corridor(),
        steps=100,
        mainline_demand=1000.0,
        ramp_demands=[0.0, 400.0],
        alinea=Alinea(ramp=1),
    )
    assert r.metering_rate[0] == 2000.0
    assert_allclose(r.metering_rate[20:], 400.0)


def test_freeway_figure_writes_a_png(runs, tmp_path):
    pytest.importorskip("matplotlib")
    out = freeway_figure({"a": runs[False], "b": runs[True]}, tmp_path / "f.png")
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_freeway_study_table_and_section_render_its_numbers(runs):
    study = freeway_study(uxsim=False)
    assert_allclose(
        study.table["total_travel_time_veh_h"],
        [runs[False].total_travel_time, runs[True].total_travel_time],
        rtol=1e-12,
    )
    text = freeway_section(study, "f.png")
    assert "1900 -> 1858 veh h" in text and "![Space-time density and queues](f.png)" in text


@pytest.mark.skipif(not UXSIM_AVAILABLE, reason="UXsim is not installed")
def test_uxsim_corridor_agrees_with_the_ctm(runs):
    # Measured (deltan = 5): UXsim 1926 / 1893 veh h without / with ALINEA against the CTM's
    # 1900 / 1858; queues 6.96 / 2.47 km against 7.0 / 1.9. UXsim's discrete platoons at the
    # ramp-2 merge leave a small ramp queue (75 veh) where the CTM's ramp fits its priority
    # share (900 <= 1000 veh/h) and has none.
    for metering in (False, True):
        ux, ctm = corridor_uxsim(metering=metering), runs[metering]
        assert_allclose(ux.total_travel_time, ctm.total_travel_time, rtol=0.05)
        assert abs(ux.queue_length.max() - ctm.queue_length.max()) < 1.0
        assert_allclose(ux.ramp_queues[:, 1].max(), ctm.ramp_queues[:, 1].max(), atol=150)
        assert ux.to_frame().shape == (1, 4)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: Corridor(length="10"), TypeError, "`length`"),
        (lambda: Corridor(dx=0.3), ValueError, "length / dx"),
        (lambda: Corridor(lanes=0), ValueError, "`lanes`"),
        (lambda: Corridor(on_ramps=[2.0]), TypeError, "`on_ramps`"),
        (lambda: Corridor(on_ramps=(12.0,)), ValueError, "on_ramps\\[0\\]"),
        (lambda: Corridor(on_ramps=(3.0, 2.0)), ValueError, "`on_ramps` must be increasing"),
        (lambda: Corridor(off_ramp=2.0), ValueError, "`off_ramp`"),
        (lambda: Corridor(fd="fd"), TypeError, "`fd`"),
        (lambda: Alinea(gain=-1.0), ValueError, "`gain`"),
        (lambda: Alinea(ramp=-1), ValueError, "`ramp`"),
        (
            lambda: simulate_freeway("c", steps=1, mainline_demand=0.0, ramp_demands=[0, 0]),
            TypeError,
            "`corridor`",
        ),
        (lambda: _sim(steps=0), ValueError, "`steps`"),
        (lambda: _sim(ramp_demands=[1.0]), ValueError, "`ramp_demands`"),
        (lambda: _sim(ramp_demands=5.0), TypeError, "`ramp_demands`"),
        (lambda: _sim(mainline_demand=[1.0, 2.0]), ValueError, "`mainline_demand`"),
        (lambda: _sim(mainline_demand=-1.0), ValueError, "`mainline_demand`"),
        (lambda: _sim(exit_fraction=1.5), ValueError, "`exit_fraction`"),
        (lambda: _sim(dt=0.01), ValueError, "CFL"),
        (lambda: _sim(alinea=Alinea(ramp=2)), ValueError, "`alinea.ramp`"),
        (lambda: _sim(alinea="alinea"), TypeError, "`alinea`"),
        (lambda: _sim(alinea=Alinea(measure_at=11.0)), ValueError, "`alinea.measure_at`"),
        (
            lambda: simulate_freeway(
                Corridor(off_ramp=None),
                steps=1,
                mainline_demand=0.0,
                ramp_demands=[0, 0],
                exit_fraction=0.1,
            ),
            ValueError,
            "`exit_fraction`",
        ),
        (lambda: corridor_scenario(1), TypeError, "`metering`"),
        (lambda: corridor_uxsim(exit_fraction=1.0), ValueError, "`exit_fraction`"),
        (lambda: corridor_uxsim(deltan=0), ValueError, "`deltan`"),
        (lambda: corridor_uxsim(metering=1), TypeError, "`metering`"),
        (lambda: freeway_study(uxsim=1), TypeError, "`uxsim`"),
        (lambda: freeway_section("study"), TypeError, "`study`"),
        (lambda: corridor_uxsim(hours="3"), TypeError, "`hours`"),
        (lambda: corridor_scenario(False, hours=-1.0), ValueError, "`hours`"),
        (lambda: freeway_figure({}, "x.png"), TypeError, "`results`"),
        (lambda: freeway_figure({"a": 1}, "x.png"), TypeError, "results\\['a'\\]"),
    ],
)
def test_hostile_corridor_input_is_refused_by_name(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_default_step_keeps_the_cfl_condition_when_congestion_waves_are_faster():
    c = Corridor(fd=TriangularFD(vf=40.0, w=60.0))  # w > vf: dx / vf would be 1.5 cells a step
    r = simulate_freeway(c, steps=3000, mainline_demand=3500.0, ramp_demands=[1500.0, 1500.0])
    assert max(c.fd.vf, c.fd.w) * r.dt / c.dx <= 1 + 1e-12
    jam = c.fd.rho_jam * c.lanes_per_cell
    assert (r.density <= jam * (1 + 1e-12)).all()  # was 362.8 veh/km on 3 lanes of 360
    with pytest.raises(ValueError, match=r"dt <= dx / max\(vf, w\)"):
        simulate_freeway(c, steps=1, mainline_demand=0.0, ramp_demands=[0, 0], dt=c.dx / c.fd.vf)


def _sim(**kw):
    args = {"steps": 10, "mainline_demand": 1000.0, "ramp_demands": [0.0, 0.0]} | kw
    return simulate_freeway(Corridor(), **args)


PUBLIC = [
    "node_flows", "merge_flows", "diverge_flows", "simulate_freeway", "corridor_scenario",
    "corridor_comparison", "freeway_figure", "corridor_uxsim", "freeway_study",
    "freeway_section", "Corridor", "Alinea",
]  # fmt: skip


@pytest.mark.parametrize("name", PUBLIC)
def test_public_names_document_every_parameter_and_have_examples(name):
    obj = getattr(importlib.import_module("applications.traffic"), name)
    doc = inspect.getdoc(obj) or ""
    assert "\nExamples\n--------\n" in doc
    pattern = r"^(\w+(?:, \w+)*) :|^\*{0,2}(\w+)$"
    documented = {n for a, b in re.findall(pattern, doc, flags=re.M) for n in (a or b).split(", ")}
    for p in inspect.signature(obj).parameters:
        assert p in documented, f"{name} does not document `{p}`"


@pytest.mark.parametrize(
    "name",
    [
        "applications.traffic._nodes",
        "applications.traffic._freeway",
        "applications.traffic._corridor",
        "applications.traffic._freeway_section",
    ],
)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    result = doctest.testmod(module, optionflags=flags)
    assert result.failed == 0 and result.attempted > 0
