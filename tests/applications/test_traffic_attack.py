"""Regression tests from an adversarial pass over the traffic study (issue 24)."""

import numpy as np
import pytest

from applications.traffic import node_flows


def test_node_flows_terminates_when_only_unbounded_outlets_remain():
    # every remaining a_j was inf and argmin picked an outlet out of play: an endless loop
    q = node_flows([100.0], [[0.0, 1.0]], [100.0, np.inf], [1.0])
    np.testing.assert_array_equal(q, [[0.0, 100.0]])
    d = np.array([1424.3, 2559.6, 2465.5, 0.0])
    a = np.array(
        [
            [0.0787, 0.5090, 0.2418, 0.1705],
            [0.0983, 0.0, 0.9017, 0.0],
            [0.0, 0.0, 0.0, 1.0],
            [0.0, 0.1034, 0.1252, 0.7714],
        ]
    )
    a /= a.sum(axis=1, keepdims=True)
    s = np.array([797.5, 486.2, 1666.0, np.inf])
    q = node_flows(d, a, s, [2.93, 0.22, 2.35, 0.83])
    assert (q.sum(axis=0) <= s + 1e-9).all()
    assert (q <= d[:, None] * a + 1e-9).all()
    assert q[2, 3] == pytest.approx(d[2])  # link 2 turns only to the free outlet


def _raw():
    from applications.traffic import detector_sample
    from applications.traffic._detectors import DETECTOR_COLUMNS

    return detector_sample(n_detectors=2, hours=2)[list(DETECTOR_COLUMNS)]


def test_detectors_to_density_rejects_duplicate_lane_rows():
    # a repeated (detector, time_s, lane) row made the interval vanish without a reason,
    # or (with another lane flagged) entered the lane mean twice
    import pandas as pd

    from applications.traffic import detectors_to_density

    raw = _raw()
    dup = pd.concat([raw, raw.iloc[[40]].assign(count=99.0)])
    with pytest.raises(ValueError, match=r"one row per \(detector, time_s, lane\)"):
        detectors_to_density(dup)


def test_detectors_to_density_rejects_percent_occupancy():
    # in percent, every busy row was "out of range" but the quiet ones (<= 1 %) passed as
    # fractions: densities 100 times too high, silently
    from applications.traffic import detectors_to_density

    raw = _raw()
    with pytest.raises(ValueError, match=r"fraction in \[0, 1\].*percent"):
        detectors_to_density(raw.assign(occupancy=raw["occupancy"] * 100))


def test_bootstrap_triangular_refuses_a_single_block():
    # one block: every replicate was the data itself, and the "95 % interval" had width 0
    from applications.traffic import TriangularFD, bootstrap_triangular

    rng = np.random.default_rng(0)
    rho = rng.uniform(0.0, 120.0, 300)
    q = TriangularFD()(rho) + rng.normal(0.0, 30.0, 300)
    t = np.arange(300) * 60.0
    with pytest.raises(ValueError, match="`block_s` must cut the data into at least 2 blocks"):
        bootstrap_triangular(rho, q, t, block_s=1e6)
    ci = bootstrap_triangular(rho, q, t, block_s=1800.0, n_boot=20)
    assert (ci["upper"] > ci["lower"]).all()


def test_red_light_ctm_fields_are_plain_floats():
    from applications.traffic import TriangularFD, red_light_ctm

    r = red_light_ctm(TriangularFD(), 1200.0, 180.0, 50.0)
    assert all(type(v) is float for v in (r.max_queue_km, r.clear_s, r.delay_veh_h))


def test_detectors_to_density_names_a_missing_lane():
    # a NaN lane failed inside pandas with "sequence item 1: expected str instance"
    from applications.traffic import detectors_to_density

    raw = _raw()
    raw.loc[5, "lane"] = np.nan
    with pytest.raises(ValueError, match=r"`raw\['lane'\]` must have no missing values"):
        detectors_to_density(raw)
