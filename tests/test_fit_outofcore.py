"""fit_pwl out of core (dask arrays, dask DataFrames, parquet): the in-memory fit's knots,
values, SSR and standard errors; the SSR exact for the knots it reports; memory bounded
(no full column computed); hostile input refused with the argument named."""

from __future__ import annotations

import itertools
import tracemalloc
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from pwlmodels import fit_pwl
from pwlmodels.fit import _freeknots, _lsq, _outofcore

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")

FIELDS = ("value_se", "slope_se", "knot_se")


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def make_data(seed: int, n: int = 3000, k: int = 3, sigma: float = 0.1):
    """Uneven density (two clusters and a sparse tail), x rounded to 0.01 (duplicates), a
    continuous function with k kinks, noise."""
    rng = np.random.default_rng(seed)
    x = np.concatenate(
        [rng.normal(3.0, 0.8, n // 2), rng.uniform(0.0, 10.0, n // 3), rng.exponential(1.5, n)]
    )[:n]
    x = np.round(np.clip(x, 0.0, 10.0), 2)
    kinks = np.sort(rng.uniform(1.0, 9.0, k))
    slopes = rng.uniform(-2.0, 2.0, k + 1)
    y = slopes[0] * x + sum(
        (slopes[j + 1] - slopes[j]) * np.maximum(x - kinks[j], 0.0) for j in range(k)
    )
    return x, y + rng.normal(0.0, sigma, n)


def lazy(x, y, chunk: int = 700):
    return da.from_array(x, chunks=chunk), da.from_array(y, chunks=chunk)


def assert_same_fit(a, b, rtol: float = 1e-9) -> None:
    assert_allclose(b.knots, a.knots, rtol=rtol)
    assert_allclose(
        b.spline.values, a.spline.values, rtol=rtol, atol=rtol * np.ptp(a.spline.values)
    )
    assert_allclose(b.ssr, a.ssr, rtol=rtol)
    assert (b.n, b.n_params, b.x_range) == (a.n, a.n_params, a.x_range)
    assert_allclose([b.rmse, b.aic, b.bic], [a.rmse, a.aic, a.bic], rtol=rtol)
    for name in FIELDS:
        u, v = getattr(a, name), getattr(b, name)
        assert (u is None) == (v is None), name
        if u is not None:
            assert_allclose(v, u, rtol=1e-6, err_msg=name)


def brute_force_ssr(x, y, k: int) -> float:
    """The smallest SSR over knots at every distinct x and every midpoint between them."""
    d = _lsq.Data.build(x, y, np.ones(x.size))
    u = np.unique(d.u)
    cand = np.unique(np.concatenate([u, (u[1:] + u[:-1]) / 2]))
    cand = cand[(cand > 0) & (cand < 1)]
    grids = np.stack(np.meshgrid(*[cand] * k, indexing="ij"), axis=-1).reshape(-1, k)
    grids = grids[(np.diff(grids, axis=1) > 0).all(axis=1)]
    return float(_freeknots._Objective(d, None).batch(grids).min())


def exact_meeting_points(x, y, t) -> np.ndarray:
    """Where separate least-squares lines on the segments cut at t meet: in Fractions."""
    order = np.argsort(x)
    xs, ys = x[order], y[order]
    lines = []
    for seg in np.split(np.arange(x.size), np.searchsorted(xs, t)):
        px, py = [Fraction(float(v)) for v in xs[seg]], [Fraction(float(v)) for v in ys[seg]]
        m, sx, sy = len(px), sum(px), sum(py)
        sxx, sxy = sum(a * a for a in px), sum(a * b for a, b in zip(px, py, strict=True))
        b = (m * sxy - sx * sy) / (m * sxx - sx * sx)
        lines.append(((sy - b * sx) / m, b))
    return np.array([float((c[0] - a[0]) / (a[1] - c[1])) for a, c in itertools.pairwise(lines)])


# ------------------------------------------------------------------ equal to in memory
# Seeds and knot counts where the in-memory fit has the best SSR known (n_starts=50 finds
# no lower one); (2, 4) is left out: there it is 0.13 % above it, a local optimum only.
CASES = [(s, k) for s in (0, 1, 2) for k in (1, 2, 3, 4) if (s, k) != (2, 4)]


@pytest.mark.parametrize(("seed", "k"), CASES)
def test_matches_the_in_memory_fit(seed, k):
    x, y = make_data(seed, k=k)
    mem = fit_pwl(x, y, n_knots=k)
    ooc = fit_pwl(*lazy(x, y), n_knots=k, grid=64)
    assert_same_fit(mem, ooc)
    assert "fitted out of core" in ooc.notes[-1]


@pytest.mark.parametrize(("seed", "k", "grid"), [(12, 3, 64), (13, 4, 64)])
def test_formerly_worse_agreement_cases_match_the_in_memory_fit(seed, k, grid):
    """Cases of ``bench_outofcore.py --agreement`` (its data: 3,000 points, two clusters,
    x rounded to 0.01) where the out-of-core fit once stopped 0.03 % and 4 % higher: its
    starts came from approximate bin edges and it read the cells of the best knots only."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(3.0, 0.8, 1500), rng.exponential(1.5, 1500)])
    x = np.round(np.clip(x, 0.0, 10.0), 2)
    for j in range(1, k + 1):  # the benchmark draws 1, 2, ... knots from one generator
        kinks, slopes = np.sort(rng.uniform(1.0, 9.0, j)), rng.uniform(-2.0, 2.0, j + 1)
        y = slopes[0] * x + rng.normal(0.0, 0.1, x.size)
        y = y + sum((slopes[i + 1] - slopes[i]) * np.maximum(x - kinks[i], 0.0) for i in range(j))
    assert_same_fit(fit_pwl(x, y, n_knots=k), fit_pwl(*lazy(x, y), n_knots=k, grid=grid))


def test_bin_edges_are_the_in_memory_search_s():
    """The candidate knots (equal-count bin edges) found by rank selection passes are the
    in-memory search's exactly, with repeated x and uneven density."""
    x, y = make_data(3, n=2000)
    source = _outofcore.Source.from_arrays(*lazy(x, y, 300))
    x0, xs, y_mean, n = _outofcore._summary(source)
    frame = (x0, xs, y_mean)
    cells = _outofcore._Cells.build(source, np.linspace(0.0, 1.0, 33), frame)
    edges, passes = _outofcore._quantiles(source, cells, frame, n, _freeknots._BINS)
    d = _lsq.Data.build(x, y, np.ones(x.size))
    assert passes >= 1
    assert_allclose(edges, _freeknots._bin_edges(d), rtol=0, atol=0)


@pytest.mark.parametrize("seed", [3, 4])
def test_knots_are_the_exact_meeting_points_of_the_segment_lines(seed):
    """Where the optimum lies inside its data gaps, the knots are where the segments' own
    line fits meet (a Fraction reference), to 1e-9 relative."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 10.0, 1500)
    y = np.abs(x - 4.0) - 1.5 * np.maximum(x - 7.0, 0.0) + rng.normal(0.0, 0.1, x.size)
    ooc = fit_pwl(*lazy(x, y, 400), n_knots=2, grid=32)
    assert_allclose(ooc.knots, exact_meeting_points(x, y, ooc.knots), rtol=1e-9)


@pytest.mark.parametrize("k", [1, 2])
def test_reaches_the_brute_force_optimum_on_small_data(k):
    x, y = make_data(5, n=240, k=k, sigma=0.2)
    x = np.round(x, 1)  # about 100 distinct x
    ooc = fit_pwl(*lazy(x, y, 60), n_knots=k, grid=16)
    assert ooc.ssr <= brute_force_ssr(x, y, k) * (1 + 1e-9)
    assert_same_fit(fit_pwl(x, y, n_knots=k), ooc)


def test_finds_a_narrow_feature_inside_one_grid_cell():
    """The hard case: a tent 0.4 wide inside one cell 0.625 wide (grid=16), invisible to two
    pseudo-points; the cell's line residual flags it and its points are gathered."""
    rng = np.random.default_rng(7)
    x = rng.uniform(0.0, 10.0, 4000)
    y = 0.1 * x + 3.0 * np.maximum(0.2 - np.abs(x - 5.3), 0.0) + rng.normal(0.0, 0.02, x.size)
    mem = fit_pwl(x, y, n_knots=3)
    ooc = fit_pwl(*lazy(x, y, 1000), n_knots=3, grid=16)
    assert_allclose(mem.knots, [5.1, 5.3, 5.5], atol=0.02)
    assert_same_fit(mem, ooc)


def test_dense_cells_are_split_before_their_points_are_gathered(monkeypatch):
    monkeypatch.setattr(_outofcore, "_CELL_CAP", 300)
    x, y = make_data(8, n=4000, k=2)
    mem = fit_pwl(x, y, n_knots=2)
    ooc = fit_pwl(*lazy(x, y, 1000), n_knots=2, grid=16)
    assert_same_fit(mem, ooc)
    cells = int(ooc.notes[-1].split(": ")[1].split(" cells")[0])
    assert cells > 16


@pytest.mark.parametrize("k", [0, 2])
def test_fixed_knots_and_constant_extrapolation(k):
    x, y = make_data(9, k=2)
    opts = {"n_knots": k} if k else {"knots": [2.5, 6.0]}
    mem = fit_pwl(x, y, extrapolate="constant", **opts)
    ooc = fit_pwl(*lazy(x, y), extrapolate="constant", **opts)
    assert_same_fit(mem, ooc)
    assert ooc.spline.left_slope == ooc.spline.right_slope == 0.0


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(30, 300),
    k=st.integers(0, 3),
    grid=st.sampled_from([16, 50, 4096]),
    digits=st.sampled_from([1, 2, 8]),
)
def test_reported_ssr_and_values_are_exact_for_the_reported_knots(seed, n, k, grid, digits):
    """Whatever the search finds: the SSR is that of the reported spline on the raw points,
    and the values are the fixed-knot fit's at the reported knots."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.uniform(-5.0, 5.0, n) ** 3, digits)
    y = np.sin(x) + rng.normal(0.0, 0.3, n)
    if np.unique(x).size < 2 * k + 3:
        return
    ooc = fit_pwl(*lazy(x, y, 37), n_knots=k, grid=grid)
    assert_allclose(ooc.ssr, np.sum((y - ooc.spline(x)) ** 2), rtol=1e-9)
    fixed = fit_pwl(x, y, knots=ooc.knots)
    assert_allclose(ooc.spline.values, fixed.spline.values, rtol=1e-8, atol=1e-8)


# ------------------------------------------------------------------ inputs
def test_dask_frame_parquet_file_and_folder_give_the_array_fit(tmp_path):
    x, y = make_data(10, k=2)
    frame = pd.DataFrame({"a": x, "b": y})
    ref = fit_pwl(*lazy(x, y), n_knots=2)
    frame.to_parquet(tmp_path / "one.parquet")
    folder = tmp_path / "many"
    dd.from_pandas(frame, npartitions=3).to_parquet(folder)
    ddf = dd.from_pandas(frame, npartitions=5)
    for data in (ddf, tmp_path / "one.parquet", str(folder)):
        assert_same_fit(ref, fit_pwl("a", "b", data=data, n_knots=2), rtol=1e-12)
    series = fit_pwl(ddf["a"], ddf["b"], n_knots=2)
    assert_same_fit(ref, series, rtol=1e-12)
    assert_same_fit(fit_pwl(x, y, n_knots=2), fit_pwl("a", "b", data=frame, n_knots=2), 0.0)


def test_never_computes_a_full_column_and_memory_does_not_grow_with_n(monkeypatch):
    """Blocks are made inside the graph; computing or converting a whole array raises; the
    peak traced memory does not grow with n from 100,000 to 500,000 points (8 MB of
    data; measured 1.9 and 2.7 MB) at the same points per cell (what grows: the task
    graph, about 20 kB a partition, and the grid's moments)."""
    chunk = 10_000

    def block(block_info=None):
        start = block_info[None]["array-location"][0][0]
        rng = np.random.default_rng(start)
        x = rng.uniform(0.0, 10.0, chunk)
        return np.stack([x, np.abs(x - 4.0) + rng.normal(0.0, 0.1, chunk)])

    def forbidden(*args, **kwargs):
        raise AssertionError("a whole column was computed")

    def peak(n: int, grid: int) -> int:
        xy = da.map_blocks(block, dtype=float, chunks=((2,), (chunk,) * (n // chunk)))
        tracemalloc.start()
        try:
            fit = fit_pwl(xy[0], xy[1], n_knots=1, grid=grid)
            out = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert fit.n == n
        assert_allclose(fit.knots, [4.0], atol=0.01)
        return out

    monkeypatch.setattr(da.Array, "compute", forbidden)
    monkeypatch.setattr(da.Array, "__array__", forbidden)
    peak(2 * chunk, 16)  # imports and caches: not the fit's memory
    small, large = peak(100_000, 128), peak(500_000, 640)
    assert large < 2 * small, (small, large)
    assert large < 500_000 * 16 / 2, large


def test_threaded_local_cluster_gives_the_synchronous_fit():
    distributed = pytest.importorskip("distributed")
    x, y = make_data(11, k=2)
    ref = fit_pwl(*lazy(x, y), n_knots=2)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        dask.config.set(scheduler=None),
    ):
        fit = fit_pwl(*lazy(x, y), n_knots=2)
    assert_same_fit(ref, fit, rtol=1e-12)


# ------------------------------------------------------------------ hostile input
def test_non_finite_rows_are_refused_like_fit_pwl():
    x, y = make_data(12, n=500)
    xb = x.copy()
    xb[123] = np.nan
    with pytest.raises(ValueError, match="`x` must be finite; got 1 non-finite"):
        fit_pwl(*lazy(xb, y, 100), n_knots=1)
    frame = pd.DataFrame({"x": x, "y": y})
    frame.loc[7, "y"] = np.inf
    with pytest.raises(ValueError, match="`y` must be finite"):
        fit_pwl("x", "y", data=dd.from_pandas(frame, npartitions=2), n_knots=1)


def test_missing_and_non_numeric_columns_are_refused(tmp_path):
    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0], "y": [1.0, 2.0, 0.0], "s": ["a", "b", "c"]})
    ddf = dd.from_pandas(frame, npartitions=1)
    with pytest.raises(ValueError, match="`y` names the column 'z', which `data` lacks"):
        fit_pwl("x", "z", data=ddf, n_knots=0)
    frame.to_parquet(tmp_path / "f.parquet")
    with pytest.raises(ValueError, match="`x` names the column 'q'"):
        fit_pwl("q", "y", data=tmp_path / "f.parquet", n_knots=0)
    with pytest.raises(TypeError, match="`y` names the column 's' of dtype"):
        fit_pwl("x", "s", data=ddf, n_knots=0)
    with pytest.raises(TypeError, match="`x` must be a column name"):
        fit_pwl(0, "y", data=ddf, n_knots=0)


def test_empty_and_too_small_data_are_refused():
    empty = dd.from_pandas(pd.DataFrame({"x": np.zeros(0), "y": np.zeros(0)}), npartitions=1)
    with pytest.raises(ValueError, match="`data` must have at least 2 points; got none"):
        fit_pwl("x", "y", data=empty, n_knots=1)
    with pytest.raises(ValueError, match="`x` must not be constant"):
        fit_pwl(*lazy(np.ones(10), np.arange(10.0), 5), n_knots=1)
    with pytest.raises(ValueError, match="fewer than the 6 parameters"):
        fit_pwl(*lazy(np.arange(5.0), np.arange(5.0), 5), n_knots=2)


def test_bad_grid_is_refused():
    x, y = lazy(*make_data(13, n=200), 100)
    with pytest.raises(ValueError, match="`grid` must be between 16 and"):
        fit_pwl(x, y, n_knots=1, grid=8)
    with pytest.raises(TypeError, match="`grid` must be an integer"):
        fit_pwl(x, y, n_knots=1, grid=100.0)
    with pytest.raises(TypeError, match="`grid` must be an integer"):
        fit_pwl(x, y, n_knots=1, grid=True)
    with pytest.raises(ValueError, match="`grid` applies to out-of-core data only"):
        fit_pwl(np.arange(5.0), np.arange(5.0), n_knots=1, grid=64)


def test_bad_paths_and_data_are_refused(tmp_path):
    with pytest.raises(ValueError, match="`data` names no file or folder"):
        fit_pwl("x", "y", data=tmp_path / "missing.parquet", n_knots=1)
    (tmp_path / "f.csv").write_text("x,y\n0,1\n")
    with pytest.raises(ValueError, match=r"`data` must be a \.parquet file or a folder"):
        fit_pwl("x", "y", data=tmp_path / "f.csv", n_knots=1)
    with pytest.raises(TypeError, match="`data` must be a pandas or dask DataFrame"):
        fit_pwl("x", "y", data=[1, 2], n_knots=1)


def test_bad_array_pairs_are_refused():
    x, y = make_data(14, n=200)
    with pytest.raises(TypeError, match="`y` must be a dask Array or Series like `x`"):
        fit_pwl(da.from_array(x), y, n_knots=1)
    with pytest.raises(ValueError, match="`x` must be 1-D"):
        fit_pwl(da.from_array(x.reshape(20, 10)), da.from_array(y.reshape(20, 10)), n_knots=1)
    with pytest.raises(ValueError, match="`y` must have one entry per x"):
        fit_pwl(da.from_array(x), da.from_array(y[:-1]), n_knots=1)
    with pytest.raises(TypeError, match="`x` must be real numbers"):
        fit_pwl(da.from_array(x.astype(complex)), da.from_array(y), n_knots=1)
    ddf = dd.from_pandas(pd.DataFrame({"x": x, "y": y}), npartitions=2)
    with pytest.raises(TypeError, match="must both be dask Arrays or both dask Series"):
        fit_pwl(ddf["x"], da.from_array(y), n_knots=1)
    with pytest.raises(ValueError, match="`y` must have the partitions of `x`"):
        fit_pwl(ddf["x"], ddf["y"].repartition(npartitions=3), n_knots=1)


@pytest.mark.parametrize(
    ("option", "value"), [("weights", "w"), ("constraints", {"monotone": "increasing"})]
)
def test_options_not_available_out_of_core_are_refused(option, value):
    x, y = lazy(*make_data(15, n=200), 100)
    with pytest.raises(ValueError, match=f"`{option}` is not supported out of core"):
        fit_pwl(x, y, n_knots=1, **{option: value})
