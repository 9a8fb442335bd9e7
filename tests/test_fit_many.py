"""fit_many: one fit_pwl per group, serially, on a dask.distributed cluster and from a dask
DataFrame, bit for bit the same; group order as pandas' groupby; hostile input refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pwlmodels import _dask, fit_many, fit_pwl
from pwlmodels.fit import _many

ARRAYS = ("knots", "values", "value_se", "slope_se", "knot_se")
FLOATS = ("x_min", "x_max", "ssr", "aic", "bic")


def make_frame(n_groups: int = 6, n: int = 60, seed: int = 0, shuffle: bool = True):
    """Groups named out of sorted order, each |x - c| with its own kink c, rows shuffled."""
    rng = np.random.default_rng(seed)
    names = [f"s{n_groups - 1 - i:02d}" for i in range(n_groups)]
    g = np.repeat(names, n)
    x = rng.uniform(0.0, 10.0, g.size)
    kink = np.repeat(2.0 + 6.0 * rng.uniform(size=n_groups), n)
    y = np.abs(x - kink) + rng.normal(0.0, 0.1, g.size)
    frame = pd.DataFrame({"g": g, "x": x, "y": y, "w": rng.uniform(0.5, 2.0, g.size)})
    return frame.sample(frac=1.0, random_state=seed) if shuffle else frame


def assert_same_fits(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Bit for bit: the index, every array, every float, every spline."""
    pd.testing.assert_index_equal(a.index, b.index)
    assert list(a.columns) == list(b.columns)
    for col in ARRAYS:
        for u, v in zip(a[col], b[col], strict=True):
            assert (u is None) == (v is None), col
            assert u is None or np.array_equal(u, v), col
    for col in FLOATS:
        assert np.array_equal(a[col].to_numpy(), b[col].to_numpy(), equal_nan=True), col
    assert np.array_equal(a["n"].to_numpy(), b["n"].to_numpy())
    assert all(u == v for u, v in zip(a["spline"], b["spline"], strict=True))
    assert list(a["notes"]) == list(b["notes"])


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


# ------------------------------------------------------------------ serial
def test_serial_equals_fit_pwl_on_each_group():
    frame = make_frame()
    fits = fit_many(frame, x="x", y="y", by="g", n_knots=1, weights="w")
    assert list(fits.columns) == list(_many.COLUMNS)
    for key, part in frame.groupby("g"):
        ref = fit_pwl(part["x"], part["y"], n_knots=1, weights=part["w"])
        row = fits.loc[key]
        assert np.array_equal(row["knots"], ref.knots)
        assert np.array_equal(row["values"], ref.spline(ref._nodes()))
        assert np.array_equal(row["knot_se"], ref.knot_se)
        assert np.array_equal(row["value_se"], ref.value_se)
        assert np.array_equal(row["slope_se"], ref.slope_se)
        assert (row["ssr"], row["n"], row["bic"]) == (ref.ssr, ref.n, ref.bic)
        assert row["spline"] == ref.spline


def test_fixed_knots_match_a_least_squares_reference():
    frame = make_frame(n_groups=3, n=40)
    t = np.array([3.0, 6.0])
    fits = fit_many(frame, x="x", y="y", by="g", knots=t)
    for key, part in frame.groupby("g"):
        x, y = part["x"].to_numpy(), part["y"].to_numpy()
        basis = np.column_stack([np.ones_like(x), x, *(np.maximum(x - k, 0.0) for k in t)])
        coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
        ssr = float(np.sum((y - basis @ coef) ** 2))
        nodes = np.array([x.min(), *t, x.max()])
        ref_values = (
            np.column_stack([np.ones(4), nodes, *(np.maximum(nodes - k, 0.0) for k in t)]) @ coef
        )
        np.testing.assert_allclose(fits.loc[key, "ssr"], ssr, rtol=1e-10)
        np.testing.assert_allclose(fits.loc[key, "values"], ref_values, rtol=1e-10, atol=1e-12)
        assert fits.loc[key, "knot_se"] is None  # fixed knots have no standard error


def test_index_is_sorted_and_named_like_pandas_groupby():
    frame = make_frame()
    fits = fit_many(frame, x="x", y="y", by="g", n_knots=0)
    pd.testing.assert_index_equal(fits.index, frame.groupby("g").size().index)
    frame["h"] = frame["g"].str[-1:].astype(int) % 2
    two = fit_many(frame, x="x", y="y", by=["h", "g"], n_knots=0)
    pd.testing.assert_index_equal(two.index, frame.groupby(["h", "g"]).size().index)
    assert two.index.names == ["h", "g"]
    one = fit_many(frame, x="x", y="y", by=["g"], n_knots=0)
    assert one.index.name == "g" and one.index.equals(fits.index)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), ties=st.booleans())
def test_result_does_not_depend_on_row_order(seed, ties):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 8, 40).astype(float) if ties else rng.uniform(0.0, 8.0, 40)
    x[:2] = (0.0, 8.0)  # both groups span the fixed knots
    frame = pd.DataFrame({"g": np.repeat([1, 0], 20), "x": x, "y": rng.normal(size=40)})
    frame.loc[20:21, "x"] = (0.0, 8.0)
    fits = fit_many(frame, x="x", y="y", by="g", knots=[2.5, 5.5])
    shuffled = frame.sample(frac=1.0, random_state=int(seed % 1000))
    assert_same_fits(fits, fit_many(shuffled, x="x", y="y", by="g", knots=[2.5, 5.5]))


def test_progress_bar_goes_to_stderr_only_when_asked(capsys):
    frame = make_frame(n_groups=2, n=20)
    fit_many(frame, x="x", y="y", by="g", n_knots=0)
    assert capsys.readouterr() == ("", "")
    fit_many(frame, x="x", y="y", by="g", n_knots=0, progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "fit_many" in err and "2/2" in err


# ------------------------------------------------------------------ failed groups
def small_group_frame():
    frame = make_frame(n_groups=3, n=30)
    return pd.concat([frame, pd.DataFrame({"g": ["tiny"] * 2, "x": [1.0, 2.0], "y": [0.0, 1.0]})])


def test_a_failed_group_raises_naming_the_group():
    with pytest.raises(ValueError, match=r"group 'tiny' \(`by` = 'g'\) failed: .*fewer than"):
        fit_many(small_group_frame(), x="x", y="y", by="g", n_knots=2)


def test_errors_coerce_keeps_a_failed_group_as_nan_with_the_reason():
    fits = fit_many(small_group_frame(), x="x", y="y", by="g", n_knots=2, errors="coerce")
    assert fits.index[-1] == "tiny" and len(fits) == 4
    row = fits.loc["tiny"]
    assert np.isnan(row["ssr"]) and row["knots"] is None and pd.isna(row["n"])
    assert row["notes"][0].startswith("fit failed: `x` has 2 points")
    assert fits["n"].dtype == "Int64" and fits.loc[fits.index[0], "n"] == 30


# ------------------------------------------------------------------ distributed
def test_client_gives_the_serial_result_bit_for_bit(client):
    frame = make_frame(n_groups=9)
    options = {"x": "x", "y": "y", "by": "g", "n_knots": 1, "weights": "w"}
    assert_same_fits(fit_many(frame, **options), fit_many(frame, client=client, **options))


def test_client_raises_for_a_failed_group_like_serial(client):
    with pytest.raises(ValueError, match="group 'tiny'"):
        fit_many(small_group_frame(), x="x", y="y", by="g", n_knots=2, client=client)


def test_dask_dataframe_serial_and_on_a_client_equal_pandas(client):
    dd = pytest.importorskip("dask.dataframe")
    frame = make_frame(n_groups=7)
    ddf = dd.from_pandas(frame, npartitions=3)
    expected = fit_many(frame, x="x", y="y", by="g", n_knots=1)
    assert_same_fits(expected, fit_many(ddf, x="x", y="y", by="g", n_knots=1))
    assert_same_fits(expected, fit_many(ddf, x="x", y="y", by="g", n_knots=1, client=client))
    with pytest.raises(ValueError, match="`x` names the column 'nope'"):
        fit_many(ddf, x="nope", y="y", by="g", n_knots=1)


def test_dask_dataframe_with_two_keys_and_empty_partitions_equals_pandas():
    dd = pytest.importorskip("dask.dataframe")
    frame = make_frame(n_groups=2, n=30)
    frame["h"] = np.arange(len(frame)) % 2
    expected = fit_many(frame, x="x", y="y", by=["h", "g"], knots=[5.0])
    ddf = dd.from_pandas(frame, npartitions=6)  # more partitions than groups
    assert_same_fits(expected, fit_many(ddf, x="x", y="y", by=["h", "g"], knots=[5.0]))


def test_local_cluster_uses_processes_and_is_closed_after_an_error(monkeypatch):
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(_dask, "cores", lambda: 1)
    frame = make_frame(n_groups=3, n=30)
    assert_same_fits(
        fit_many(frame, x="x", y="y", by="g", n_knots=1),
        fit_many(frame, x="x", y="y", by="g", n_knots=1, client="local"),
    )
    started = []

    class Recorded(distributed.LocalCluster):  # threads: a second process start is slow
        def __init__(self, **kwargs):
            assert kwargs["processes"] and kwargs["threads_per_worker"] == 1
            super().__init__(**{**kwargs, "processes": False})
            started.append(self)

    monkeypatch.setattr(distributed, "LocalCluster", Recorded)
    with pytest.raises(ValueError, match="group 'tiny'"):
        fit_many(small_group_frame(), x="x", y="y", by="g", n_knots=2, client="local")
    assert len(started) == 1 and started[0].status.name == "closed"


# ------------------------------------------------------------------ hostile input
GOOD = {"x": "x", "y": "y", "by": "g", "n_knots": 1}


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"frame": {"x": [1.0]}}, TypeError, "`frame` must be a pandas or dask DataFrame"),
        ({"x": "nope"}, ValueError, "`x` names the column 'nope', which `frame` lacks"),
        ({"y": "nope"}, ValueError, "`y` names the column 'nope'"),
        ({"by": "nope"}, ValueError, "`by` names the column 'nope'"),
        ({"weights": "nope"}, ValueError, "`weights` names the column 'nope'"),
        ({"by": 3}, TypeError, "`by` must be a column name"),
        ({"by": []}, TypeError, "`by` must be a column name"),
        ({"x": 0}, TypeError, "`x` must be a column name"),
        ({"by": "x"}, ValueError, "`by` must not name the x, y or weights column"),
        (
            {"x": "label"},
            TypeError,
            "`x` names the column 'label' of dtype (object|str); it must be numeric",
        ),
        ({"y": "flag"}, TypeError, "`y` names the column 'flag' of dtype bool"),
        ({"n_knots": None}, TypeError, "exactly one of `n_knots=`.*got neither"),
        ({"knots": [5.0]}, TypeError, "exactly one of `n_knots=`.*got both"),
        ({"n_knots": None, "knots": [5.0, 4.0]}, ValueError, "`knots` must be strictly"),
        ({"n_knots": -1}, ValueError, "`n_knots` must be >= 0"),
        ({"client": 4}, TypeError, '`client` must be None, "local" or a dask.distributed'),
        ({"client": "cluster"}, ValueError, "`client` must be None, \"local\".*'cluster'"),
        ({"errors": "ignore"}, ValueError, "errors"),
        ({"progress": "yes"}, TypeError, "`progress` must be True or False"),
        ({"seed": -1}, ValueError, "`seed` must be non-negative"),
        ({"n_starts": 1.5}, TypeError, "`n_starts` must be an integer"),
        ({"extrapolate": "flat"}, ValueError, "extrapolate"),
        ({"constraints": ["convex"]}, TypeError, "`constraints` must be a dict"),
    ],
)
def test_bad_arguments_are_refused_naming_them(change, error, match):
    frame = make_frame(n_groups=2, n=20)
    frame["flag"], frame["label"] = frame["x"] > 5, "a"
    kwargs = {**GOOD, **change}
    if "client" in change and not isinstance(change["client"], str):
        pytest.importorskip("distributed")
    with pytest.raises(error, match=match):
        fit_many(kwargs.pop("frame", frame), **kwargs)


@pytest.mark.parametrize("column", ["x", "y", "w"])
def test_a_non_finite_value_is_refused_naming_group_and_row(column):
    frame = make_frame(n_groups=2, n=20, shuffle=False)
    frame.loc[25, column] = np.nan
    name = "weights" if column == "w" else column
    message = rf"group 's00'.*`{name}` must be finite; got nan at row 25"
    with pytest.raises(ValueError, match=message):
        fit_many(frame, x="x", y="y", by="g", n_knots=1, weights="w")


def test_missing_keys_and_empty_frames_are_refused():
    frame = make_frame(n_groups=2, n=20, shuffle=False)
    frame.loc[3, "g"] = None
    with pytest.raises(ValueError, match=r"`by` columns \['g'\] must have no missing keys.*row 3"):
        fit_many(frame, **GOOD)
    with pytest.raises(ValueError, match="`frame` must have at least one row"):
        fit_many(frame.iloc[:0], **GOOD)
