"""Detector-format input, bad-sample filters, many detectors at once, bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from applications.traffic import (
    DETECTOR_COLUMNS,
    bootstrap_triangular,
    detector_sample,
    detectors_to_density,
    fit_detectors,
    fit_triangular,
    read_detector_csv,
)
from pwlmodels import fit_many


def _raw(rows):
    return pd.DataFrame(rows, columns=list(DETECTOR_COLUMNS))


def test_conversion_and_lane_average_by_hand():
    raw = _raw(
        [
            ("A", 0, 1, 300, 100, 0.13),  # 1200 veh/h, 0.13 * 1000 / 6.5 = 20 veh/km
            ("A", 0, 2, 300, 150, 0.26),  # 1800 veh/h, 40 veh/km
            ("A", 300, 1, 300, 60, 0.065),
            ("A", 300, 2, 300, 90, 0.065),
        ]
    )
    out = detectors_to_density(raw)
    assert_allclose(out.data["density_veh_km"], [30.0, 10.0])
    assert_allclose(out.data["flow_veh_h"], [1500.0, 900.0])
    assert out.data["lanes"].tolist() == [2, 2] and out.dropped.empty
    half = detectors_to_density(raw, effective_length_m=3.25)
    assert_allclose(half.data["density_veh_km"], [60.0, 20.0])


@pytest.mark.parametrize(
    ("count", "occ", "reason"),
    [
        (np.nan, 0.1, "missing"),
        (10, np.nan, "missing"),
        (10, 1.2, "out of range"),
        (10, -0.1, "out of range"),
        (-1, 0.1, "out of range"),
        (300, 0.1, "out of range"),  # 3600 veh/h on one lane
        (10, 0.0, "count without occupancy"),
    ],
)
def test_each_filter_drops_the_whole_detector_interval(count, occ, reason):
    raw = _raw(
        [("A", 0, 1, 300, count, occ), ("A", 0, 2, 300, 50, 0.1), ("A", 300, 1, 300, 50, 0.1)]
    )
    out = detectors_to_density(raw)
    assert out.dropped["reason"].tolist() == [reason]
    # interval 0 lost a lane, so it is not averaged over the one left
    assert out.data["time_s"].tolist() == [300]
    assert out.summary()[reason] == 1 and out.summary().sum() == 1


def test_stuck_lanes_are_dropped_from_the_threshold_on():
    t = np.arange(20) * 300.0
    for repeats, dropped in ((11, 0), (12, 12)):
        occ = np.r_[np.full(repeats, 0.1), np.linspace(0.2, 0.3, 20 - repeats)]
        raw = _raw([("A", ti, 1, 300, 40, o) for ti, o in zip(t, occ, strict=True)])
        assert len(detectors_to_density(raw).dropped) == dropped
        assert len(detectors_to_density(raw, stuck_intervals=20).dropped) == 0
    zeros = _raw([("A", ti, 1, 300, 0, 0.0) for ti in t])  # an empty road is not stuck
    assert detectors_to_density(zeros).dropped.empty


def test_the_sample_plants_one_fault_per_filter_and_is_seeded():
    raw = detector_sample()
    assert raw.shape == (8 * 3 * 288, 9)
    summary = detectors_to_density(raw).summary()
    assert summary.to_dict() == {
        "missing": 2,
        "out of range": 1,
        "count without occupancy": 1,
        "stuck": 24,
    }
    pd.testing.assert_frame_equal(raw, detector_sample())
    assert not raw.equals(detector_sample(seed=1))


def test_fit_detectors_is_fit_many_and_recovers_each_detectors_diagram():
    raw = detector_sample()
    data = detectors_to_density(raw).data
    fits = fit_detectors(data)
    truth = raw.groupby("detector")[["vf", "w", "rho_jam"]].first()
    assert fits.index.tolist() == truth.index.tolist()
    assert_allclose(fits["vf"], truth["vf"], rtol=0.05)
    assert_allclose(fits["w"], truth["w"], rtol=0.12)
    assert_allclose(fits["rho_jam"], truth["rho_jam"], rtol=0.05)
    direct = fit_many(data, x="density_veh_km", y="flow_veh_h", by="detector", n_knots=1)
    assert_allclose(fits["critical_density"], [k[0] for k in direct["knots"]])
    assert_allclose(fits["capacity"], [v[1] for v in direct["values"]])


def test_fit_detectors_gives_nan_for_a_detector_it_cannot_fit():
    data = detectors_to_density(detector_sample(n_detectors=2)).data
    tiny = pd.DataFrame({"detector": "Z", "density_veh_km": [1.0, 2.0], "flow_veh_h": [90, 180]})
    fits = fit_detectors(pd.concat([data, tiny], ignore_index=True))
    assert fits.loc["Z"].drop(["n", "notes"]).isna().all() and fits.loc["Z", "notes"]
    assert np.isfinite(fits.loc[["D01", "D02"], "w"]).all()
    with pytest.raises(TypeError, match="`data` must be a pandas DataFrame"):
        fit_detectors(data.to_numpy())


def test_bootstrap_intervals_cover_the_truth_and_collapse_with_one_block():
    raw = detector_sample(seed=0)
    d = detectors_to_density(raw).data.query("detector == 'D02'")
    ci = bootstrap_triangular(d["density_veh_km"], d["flow_veh_h"], d["time_s"], n_boot=60)
    truth = raw.query("detector == 'D02'").iloc[0]
    assert ci.loc["w", "lower"] <= truth["w"] <= ci.loc["w", "upper"]
    assert ci.loc["rho_jam", "lower"] <= truth["rho_jam"] <= ci.loc["rho_jam", "upper"]
    fit = fit_triangular(d["density_veh_km"], d["flow_veh_h"])
    assert_allclose(ci["estimate"], [fit.vf, fit.w, fit.rho_jam, fit.capacity])
    again = bootstrap_triangular(d["density_veh_km"], d["flow_veh_h"], d["time_s"], n_boot=60)
    pd.testing.assert_frame_equal(ci, again)
    with pytest.raises(ValueError, match="at least 2 blocks"):  # was a 0-width interval
        bootstrap_triangular(
            d["density_veh_km"], d["flow_veh_h"], d["time_s"], block_s=1e9, n_boot=5
        )


def test_bootstrap_refuses_bad_arguments_and_unidentifiable_data():
    d = detectors_to_density(detector_sample(n_detectors=1)).data
    rho, q, t = d["density_veh_km"], d["flow_veh_h"], d["time_s"]
    with pytest.raises(ValueError, match="`level` must be a number in"):
        bootstrap_triangular(rho, q, t, level=1.0)
    with pytest.raises(ValueError, match="`block_s` must be positive"):
        bootstrap_triangular(rho, q, t, block_s=0.0)
    with pytest.raises(ValueError, match="one length"):
        bootstrap_triangular(rho, q, t[:-1])
    with pytest.raises(ValueError, match="`time_s` must be finite"):
        bootstrap_triangular(rho, q, np.r_[t.to_numpy()[:-1], np.nan])
    free = d[d["density_veh_km"] < 12]
    with pytest.raises(ValueError, match="not identifiable"):
        bootstrap_triangular(free["density_veh_km"], free["flow_veh_h"], free["time_s"])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_boot": 1}, ValueError, "`n_boot` must be >= 2"),
        ({"n_boot": 20.0}, TypeError, "`n_boot` must be an integer"),
        ({"n_boot": True}, TypeError, "`n_boot` must be an integer"),
        ({"seed": -1}, ValueError, "`seed` must be >= 0"),
        ({"seed": 1.0}, TypeError, "`seed` must be an integer"),
        ({"seed": np.bool_(True)}, TypeError, "`seed` must be an integer"),
    ],
)
def test_bootstrap_refuses_counts_that_are_not_integers(kwargs, error, match):
    d = detectors_to_density(detector_sample(n_detectors=1, hours=2)).data
    with pytest.raises(error, match=match):
        bootstrap_triangular(d["density_veh_km"], d["flow_veh_h"], d["time_s"], **kwargs)


def test_bootstrap_accepts_numpy_integer_counts():
    d = detectors_to_density(detector_sample(n_detectors=1, seed=1)).data
    args = d["density_veh_km"], d["flow_veh_h"], d["time_s"]
    ci = bootstrap_triangular(*args, n_boot=np.int64(20), seed=np.uint8(3))
    pd.testing.assert_frame_equal(ci, bootstrap_triangular(*args, n_boot=20, seed=3))
    assert type(ci["n_boot"].iloc[0].item()) is int


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_detectors": 0}, ValueError, "`n_detectors` must be >= 1"),
        ({"n_detectors": 2.0}, TypeError, "`n_detectors` must be an integer"),
        ({"n_detectors": np.bool_(True)}, TypeError, "`n_detectors` must be an integer"),
        ({"seed": -1}, ValueError, "`seed` must be >= 0"),
        ({"seed": 0.0}, TypeError, "`seed` must be an integer"),
        ({"seed": False}, TypeError, "`seed` must be an integer"),
    ],
)
def test_detector_sample_refuses_counts_that_are_not_integers(kwargs, error, match):
    with pytest.raises(error, match=match):
        detector_sample(hours=1, **kwargs)


@pytest.mark.parametrize(
    ("stuck", "error", "match"),
    [
        (1, ValueError, "`stuck_intervals` must be >= 2"),
        (2.5, TypeError, "`stuck_intervals` must be an integer"),
        (12.0, TypeError, "`stuck_intervals` must be an integer"),
        (True, TypeError, "`stuck_intervals` must be an integer"),
    ],
)
def test_detectors_to_density_refuses_stuck_counts_that_are_not_integers(stuck, error, match):
    raw = detector_sample(n_detectors=1, hours=1)
    with pytest.raises(error, match=match):
        detectors_to_density(raw, stuck_intervals=stuck)
    assert len(detectors_to_density(raw, stuck_intervals=np.int32(12)).data) > 0


def test_detectors_to_density_refuses_bad_arguments():
    raw = detector_sample(n_detectors=1, hours=1)
    with pytest.raises(TypeError, match="`raw` must be a pandas DataFrame"):
        detectors_to_density(raw.to_numpy())
    with pytest.raises(ValueError, match="lacks \\['occupancy'\\]"):
        detectors_to_density(raw.drop(columns="occupancy"))
    with pytest.raises(ValueError, match="`effective_length_m` must be positive"):
        detectors_to_density(raw, effective_length_m=0)
    with pytest.raises(ValueError, match="`hours` must be positive"):
        detector_sample(hours=-1)


def test_read_detector_csv_reads_the_raw_format(tmp_path):
    raw = detector_sample(n_detectors=2)
    raw.to_csv(tmp_path / "raw.csv", index=False)
    got = read_detector_csv(tmp_path / "raw.csv")
    want = detectors_to_density(raw).data
    assert_allclose(got["density_veh_km"], want["density_veh_km"], rtol=1e-12)
    assert_allclose(got["flow_veh_h"], want["flow_veh_h"], rtol=1e-12)
    assert set(got["kind"]) == {"user"}


def test_the_studys_calibration_part_and_its_table_rows():
    from applications.traffic._calibrate import calibration, calibration_rows

    cal = calibration(2, 5, seed=0)
    assert cal.fits.index.tolist() == ["D01", "D02"] and cal.intervals.shape[0] == 8
    assert cal.dropped == detectors_to_density(detector_sample(2)).summary().to_dict()
    rows = pd.DataFrame(calibration_rows(cal, 0))
    got = rows.query("dataset == 'D02' and quantity == 'w_upper'")["value"].item()
    assert got == cal.intervals.loc[("D02", "w"), "upper"]
    assert rows["value"].notna().all()
