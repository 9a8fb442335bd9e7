"""Regression tests from an attack on the scale-out paths (issue 23): fit_many's group keys
and dask input, the out-of-core fit's SSR and its parquet errors, verify's --out against the
instances' own files, and train_many's hostile arguments. Each test names what broke."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from pwlmodels import fit_many, fit_pwl

dd = pytest.importorskip("dask.dataframe")


def groups_frame(keys, n: int = 30, seed: int = 0) -> pd.DataFrame:
    """``n`` noisy points of |x - c| per key, c different for each."""
    rng = np.random.default_rng(seed)
    parts = []
    for i, key in enumerate(keys):
        x = rng.uniform(0.0, 10.0, n)
        y = np.abs(x - 2.0 - i) + rng.normal(0.0, 0.1, n)
        key_column = np.empty(n, dtype=object)
        key_column[:] = [key] * n
        parts.append(pd.DataFrame({"g": key_column, "x": x, "y": y}))
    return pd.concat(parts, ignore_index=True)


def loop_fits(frame: pd.DataFrame, by, **options) -> dict:
    """The independent reference: fit_pwl on each group's points sorted by x then y."""
    out = {}
    for key, part in frame.groupby(by, sort=True):
        order = np.lexsort((part["y"].to_numpy(), part["x"].to_numpy()))
        out[key] = fit_pwl(part["x"].to_numpy()[order], part["y"].to_numpy()[order], **options)
    return out


# ------------------------------------------------------------------ fit_many: group keys
def test_tuple_group_keys_stay_whole_and_distinct():
    # was: the key (1, 2) became 1, so (1, 1) and (1, 2) shared the label 1
    frame = groups_frame([(1, 2), (0, 5), (1, 1)])
    fits = fit_many(frame, x="x", y="y", by="g", n_knots=1)
    assert fits.index.tolist() == [(0, 5), (1, 1), (1, 2)]
    assert fits.index.is_unique and fits.index.nlevels == 1
    for key, ref in loop_fits(frame, "g", n_knots=1).items():
        np.testing.assert_array_equal(fits.loc[[key], "knots"].iloc[0], ref.knots)
        assert fits.loc[[key], "ssr"].iloc[0] == ref.ssr


@pytest.mark.parametrize("npartitions", [1, 3])
def test_missing_keys_are_refused_for_dask_frames_as_for_pandas(npartitions):
    # was: a dask frame's rows with a missing key were dropped without a word
    frame = groups_frame(["a", "b", "c"])
    frame.loc[7, "g"] = None
    with pytest.raises(ValueError, match=r"`by` columns \['g'\] must have no missing keys"):
        fit_many(frame, x="x", y="y", by="g", n_knots=1)
    lazy = dd.from_pandas(frame, npartitions=npartitions)
    with pytest.raises(ValueError, match=r"`by` columns \['g'\] must have no missing keys"):
        fit_many(lazy, x="x", y="y", by="g", n_knots=1)


def test_dask_groups_come_in_the_category_order_as_for_pandas():
    # was: a dask frame's categorical keys came back sorted as strings, pandas' in category order
    frame = groups_frame(["a", "b", "c", "d"])
    frame["g"] = pd.Categorical(frame["g"], categories=["d", "b", "zz", "c", "a"])
    serial = fit_many(frame, x="x", y="y", by="g", n_knots=1)
    lazy = fit_many(dd.from_pandas(frame, npartitions=3), x="x", y="y", by="g", n_knots=1)
    assert serial.index.tolist() == ["d", "b", "c", "a"]
    assert lazy.index.tolist() == serial.index.tolist()
    for a, b in zip(lazy["knots"], serial["knots"], strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(lazy["ssr"].to_numpy(), serial["ssr"].to_numpy())


def test_a_repeated_by_column_is_refused_by_name():
    # was: pandas' "Grouper for 'g' not 1-dimensional"
    frame = groups_frame(["a", "b"]).assign(h=1)
    with pytest.raises(ValueError, match=r"`by` must name each column once; got \['g', 'g'\]"):
        fit_many(frame, x="x", y="y", by=["g", "g"], n_knots=1)


def test_x_and_y_may_name_one_column():
    # was: "`x` must be 1-D; got an array of shape (30, 2, 2)" (the column selected twice)
    frame = groups_frame(["a", "b"])
    fits = fit_many(frame, x="x", y="x", by="g", n_knots=1)
    for key, ref in loop_fits(frame.assign(y=frame["x"]), "g", n_knots=1).items():
        assert fits.loc[key, "ssr"] == ref.ssr
    lazy = fit_many(dd.from_pandas(frame, npartitions=2), x="x", y="x", by="g", n_knots=1)
    np.testing.assert_array_equal(lazy["ssr"].to_numpy(), fits["ssr"].to_numpy())


# ------------------------------------------------------------------ out of core
def close_fit_data(case: str, n: int = 4000, seed: int = 3):
    """Data whose fit is close against the spread of y: the SSR is a tiny difference of the
    moments' sums (sum of y^2 less the fitted part) and lost its digits there."""
    rng = np.random.default_rng(seed)
    if case == "offset":
        x = rng.uniform(0.0, 1.0, n)
        y = 5e9 + 1e6 * np.maximum(x - 0.3, 0.0) + rng.normal(0.0, 1e-3, n)
    else:  # "tiny": x of order 1e-300, an exact V
        x = rng.uniform(0.0, 1e-300, n)
        y = np.abs(x - 5e-301) * 1e300
    return x, y


@pytest.mark.parametrize("case", ["offset", "tiny"])
def test_out_of_core_ssr_is_the_in_memory_ssr_when_the_fit_is_close(case):
    # was: SSR 0.02255 against 0.01985 in memory (offset), 1e-15 against 1e-24 (tiny)
    x, y = close_fit_data(case)
    small = fit_pwl(x, y, n_knots=1)
    frame = dd.from_pandas(pd.DataFrame({"x": x, "y": y}), npartitions=4)
    import dask

    with dask.config.set(scheduler="synchronous"):
        big = fit_pwl("x", "y", n_knots=1, data=frame)
    np.testing.assert_allclose(big.knots, small.knots, rtol=1e-9)
    # the in-memory fit sums every point's residual (the float spline cannot stand in:
    # its values near 5e9 are rounded to 1e-6, the residuals are 1e-3)
    # tiny: an exact fit, both SSRs are rounding (1e-24 against sum y^2 = 300)
    np.testing.assert_allclose(big.ssr, small.ssr, rtol=1e-9, atol=1e-22 * np.sum(y**2))
    if case == "offset":  # the standard errors follow the SSR (tiny: both are rounding)
        np.testing.assert_allclose(big.knot_se, small.knot_se, rtol=1e-6)


def write_parquet_folder(folder, frames) -> None:
    folder.mkdir()
    for i, frame in enumerate(frames):
        frame.to_parquet(folder / f"part{i}.parquet")


def test_a_parquet_folder_whose_file_lacks_a_column_is_a_value_error_naming_data(tmp_path):
    # was: pandas' KeyError "['y'] not in index" from inside a dask task
    pytest.importorskip("pyarrow")
    x = np.linspace(0.0, 10.0, 200)
    first = pd.DataFrame({"x": x[:100], "y": np.abs(x[:100] - 4.0)})
    write_parquet_folder(tmp_path / "p", [first, pd.DataFrame({"x": x[100:], "z": x[100:]})])
    with pytest.raises(ValueError, match="`data`: a partition lacks a column"):
        fit_pwl("x", "y", n_knots=1, data=tmp_path / "p")


@pytest.mark.parametrize("what", ["corrupt", "empty folder"])
def test_an_unreadable_parquet_path_is_a_value_error_naming_data(tmp_path, what):
    # was: pyarrow's ArrowInvalid / dask's "An error occurred while calling read_parquet"
    pytest.importorskip("pyarrow")
    if what == "corrupt":
        path = tmp_path / "bad.parquet"
        path.write_bytes(b"not a parquet file")
    else:
        path = tmp_path / "nothing"
        path.mkdir()
    with pytest.raises(ValueError, match=r"^`data`: .* cannot be read as parquet"):
        fit_pwl("x", "y", n_knots=1, data=path)


# ------------------------------------------------------------------ verify --instances
def abs_instance(folder) -> None:
    """sub/abs.onnx (|x|) and sub/p.vnnlib (|x| >= 2 on [-1, 1]: unsat) under ``folder``."""
    pytest.importorskip("onnx")
    from pwlmodels import PiecewiseLinear, spline_to_relu
    from pwlmodels.io import to_onnx

    (folder / "sub").mkdir()
    network = folder / "sub" / "abs.onnx"
    to_onnx(spline_to_relu(PiecewiseLinear([-1.0, 0.0, 1.0], [1.0, 0.0, 1.0])), network)
    prop = "(declare-const X_0 Real) (declare-const Y_0 Real) (assert (>= X_0 -1)) "
    (folder / "sub" / "p.vnnlib").write_text(prop + "(assert (<= X_0 1)) (assert (>= Y_0 2))")


def test_cli_out_refuses_to_overwrite_a_network_the_instances_name(tmp_path, capsys):
    # was: `--out sub/n0.onnx` decided every instance, then wrote the CSV over the network
    from pwlmodels.cli import main

    abs_instance(tmp_path)
    network = tmp_path / "sub" / "abs.onnx"
    (tmp_path / "instances.csv").write_text("sub/abs.onnx,sub/p.vnnlib,10\n")
    before = network.read_bytes()
    for target in (network, tmp_path / "sub" / "p.vnnlib"):
        args = ["verify", "--instances", str(tmp_path / "instances.csv"), "--out", str(target)]
        assert main(args) == 2
        assert "is the input" in capsys.readouterr().err
    assert network.read_bytes() == before


@pytest.mark.parametrize("text", ["nan", "NaN", "NA"])
@pytest.mark.parametrize("header", [True, False])
def test_a_nan_timeout_in_the_instances_csv_is_refused_not_replaced(tmp_path, text, header):
    # was: read as a missing value, so the instance silently got `time_limit` (60 s)
    from pwlmodels.verify import verify_many

    rows = ["onnx,vnnlib,timeout"] if header else []
    (tmp_path / "instances.csv").write_text("\n".join([*rows, f"n.onnx,p.vnnlib,{text}"]) + "\n")
    with pytest.raises(ValueError, match=f"column 'timeout' must hold .* row 0 holds '{text}'"):
        verify_many(tmp_path / "instances.csv")


# ------------------------------------------------------------------ train_many
class Branchy(torch.nn.Module):
    """A module whose forward branches on its data through ``.item()`` (vmap cannot)."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.inner = torch.nn.Linear(1, 1, dtype=torch.float64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.inner(x)
        return z if bool((z.mean() > 0).item()) else -z


def test_a_forward_vmap_cannot_batch_trains_one_by_one_as_train_would():
    # was: torch's "vmap: It looks like you're calling .item() on a Tensor"
    import copy

    from pwlmodels.nets import train, train_many

    x = np.linspace(-1.0, 1.0, 32)
    nets = [Branchy(s) for s in range(3)]
    alone = [copy.deepcopy(net) for net in nets]
    history = train_many(nets, x, np.abs(x), epochs=5, lr=1e-2)
    assert history["member"].tolist() == [m for m in range(3) for _ in range(5)]
    for net, ref in zip(nets, alone, strict=True):
        train(ref, x, np.abs(x), epochs=5, lr=1e-2)
        for p, q in zip(net.parameters(), ref.parameters(), strict=True):
            assert torch.equal(p, q)


@pytest.mark.parametrize(
    ("seed", "error", "message"),
    [
        (np.array(3), None, None),  # a 0-d array is one seed (was: "iteration over a 0-d array")
        (2**70, ValueError, r"`seed` must be at most 18446744073709551615; got"),
        ([1, 2**64], ValueError, r"`seed\[1\]` must be at most 18446744073709551615"),
    ],
)
def test_train_many_seeds_beyond_torch_are_named(seed, error, message):
    # was: torch's "Overflow when unpacking long long"
    from pwlmodels.nets import make_mlp, train_many

    nets = [make_mlp(1, (4,), 1, dtype=torch.float64, seed=s) for s in range(2)]
    x = np.linspace(-1.0, 1.0, 16)
    options = {"epochs": 1, "lr": 1e-2, "batch_size": 4, "seed": seed}
    if error is None:
        assert len(train_many(nets, x, x, **options)) == 2
    else:
        with pytest.raises(error, match=message):
            train_many(nets, x, x, **options)


@pytest.mark.parametrize("call", ["train", "train_many", "make_mlp"])
def test_a_seed_beyond_torch_is_refused_everywhere(call):
    from pwlmodels.nets import make_mlp, train, train_many

    net = make_mlp(1, (4,), 1, dtype=torch.float64)
    x = np.linspace(-1.0, 1.0, 16)
    with pytest.raises(ValueError, match=r"`seed` must be at most 18446744073709551615"):
        if call == "train":
            train(net, x, x, epochs=1, lr=1e-2, seed=2**64)
        elif call == "train_many":
            train_many([net], x, x, epochs=1, lr=1e-2, seed=2**64)
        else:
            make_mlp(seed=2**64)


@pytest.mark.parametrize("progress", ["yes", 1, None])
def test_a_progress_that_is_not_a_bool_is_a_type_error(progress):
    # was: any truthy value showed a bar, as compare_activations and fit_many refuse
    from pwlmodels.nets import make_mlp, train, train_many

    net = make_mlp(1, (4,), 1, dtype=torch.float64)
    x = np.linspace(-1.0, 1.0, 16)
    for fn, first in ((train, net), (train_many, [net])):
        with pytest.raises(TypeError, match="`progress` must be True or False"):
            fn(first, x, x, epochs=1, lr=1e-2, progress=progress)


def test_the_cpu_memory_share_counts_memavailable_not_only_free_pages():
    import os

    from pwlmodels import _batched

    try:
        with open("/proc/meminfo") as fh:
            info = dict(line.split(":", 1) for line in fh)
    except OSError:
        pytest.skip("no /proc/meminfo")
    expected = int(int(info["MemAvailable"].split()[0]) * 1024 * _batched._CPU_SHARE)
    got = _batched._available_bytes(torch.device("cpu"))
    assert abs(got - expected) <= 0.05 * expected  # memory moves a little between the reads
    free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") * _batched._CPU_SHARE
    assert got >= 0.95 * free


def test_on_a_cluster_missing_keys_are_refused_and_categories_keep_their_order():
    distributed = pytest.importorskip("distributed")
    frame = groups_frame(["a", "b", "c"])
    frame["g"] = pd.Categorical(frame["g"], categories=["c", "a", "b"])
    serial = fit_many(frame, x="x", y="y", by="g", n_knots=1)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        lazy = dd.from_pandas(frame, npartitions=2)
        fits = fit_many(lazy, x="x", y="y", by="g", n_knots=1, client=client)
        assert fits.index.tolist() == serial.index.tolist() == ["c", "a", "b"]
        np.testing.assert_array_equal(fits["ssr"].to_numpy(), serial["ssr"].to_numpy())
        holed = frame.astype({"g": object})
        holed.loc[3, "g"] = None
        with pytest.raises(ValueError, match="must have no missing keys"):
            fit_many(dd.from_pandas(holed, npartitions=2), x="x", y="y", by="g", n_knots=1,
                     client=client)  # fmt: skip


def test_dask_arrays_of_unknown_chunk_sizes_are_refused_by_name_or_fitted():
    # was: dask's "Chunks must be unchanging along dimensions with missing values"
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(4)
    x = rng.uniform(0.0, 10.0, 3000)
    y = np.abs(x - 4.0) + rng.normal(0.0, 0.1, x.size)
    lazy_x = da.from_array(x, chunks=700)
    keep = lazy_x > 1.0
    with pytest.raises(ValueError, match="`y` must have the chunks of `x` when"):
        fit_pwl(lazy_x[keep], da.from_array(y[x > 1.0], chunks=900), n_knots=1)
    both = fit_pwl(lazy_x[keep], da.from_array(y, chunks=700)[keep], n_knots=1)  # alike: fine
    small = fit_pwl(x[x > 1.0], y[x > 1.0], n_knots=1)
    np.testing.assert_allclose(both.ssr, small.ssr, rtol=1e-9)


def test_a_fixed_knot_outside_the_data_is_named_with_plain_floats():
    # was: "the data range (np.float64(0.0006...), np.float64(9.99...))"
    da = pytest.importorskip("dask.array")
    x = np.linspace(0.0, 10.0, 100)
    with pytest.raises(ValueError, match=r"data range \(0\.0, 10\.0\)"):
        fit_pwl(da.from_array(x, chunks=30), da.from_array(x, chunks=30), knots=[30.0])


def test_an_empty_dask_frame_is_refused_as_an_empty_pandas_one():
    # was: pandas input raised, a dask frame gave an empty table
    frame = groups_frame(["a"]).iloc[:0]
    for data in (frame, dd.from_pandas(frame, npartitions=1)):
        with pytest.raises(ValueError, match="`frame` must have at least one row"):
            fit_many(data, x="x", y="y", by="g", n_knots=1)


@pytest.mark.parametrize("batch_size", [None, 16])
def test_train_many_with_lbfgs_polish_leaves_each_net_as_train_does(batch_size):
    # a guard for the batched-epochs-then-polish path (issue 23's float64 claim: 1e-8)
    import copy

    from pwlmodels.nets import make_mlp, train, train_many

    x = np.linspace(-1.0, 1.0, 48)
    nets = [make_mlp(1, (8,), 1, dtype=torch.float64, seed=s) for s in range(3)]
    alone = [copy.deepcopy(net) for net in nets]
    options = {"epochs": 20, "lr": 1e-2, "batch_size": batch_size, "lbfgs_polish": 3}
    history = train_many(nets, x, np.abs(x), seed=[5, 6, 7], **options)
    assert set(history["phase"]) <= {"train", "polish"}
    for net, ref, seed in zip(nets, alone, [5, 6, 7], strict=True):
        train(ref, x, np.abs(x), seed=seed, **options)
        for p, q in zip(net.parameters(), ref.parameters(), strict=True):
            torch.testing.assert_close(p, q, rtol=1e-8, atol=1e-12)


def test_cli_instances_decides_and_writes_the_rest_when_one_fails(tmp_path, capsys):
    # was: one missing file aborted the run: no verdicts printed, no --out written
    from pwlmodels.cli import main

    abs_instance(tmp_path)
    lines = ["sub/abs.onnx,sub/p.vnnlib,10", "sub/gone.onnx,sub/p.vnnlib,10"]
    (tmp_path / "instances.csv").write_text("\n".join([*lines, lines[0]]) + "\n")
    out = tmp_path / "results.csv"
    assert main(["verify", "--instances", str(tmp_path / "instances.csv"), "--out", str(out)]) == 2
    printed = capsys.readouterr()
    assert [line.split()[1] for line in printed.out.splitlines()[:3]] == ["unsat", "error", "unsat"]
    assert "1 instance(s) failed" in printed.err and "gone.onnx" in printed.err
    written = pd.read_csv(out, keep_default_na=False)
    assert written["status"].tolist() == ["unsat", "", "unsat"]
    assert "gone.onnx" in written["notes"].iloc[1]
