"""verify_many: verdicts against the exact maximum of one-input networks (relu_to_spline),
the same verdicts serially and on a LocalCluster (threads, and one with processes), in
instance order; two real ACAS Xu instances; the timeout column; failed instances;
hostile input refused with a message naming the argument."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from pwlmodels import _dask, make_mlp, relu_to_spline
from pwlmodels.verify import verify_many

pytest.importorskip("onnx")
distributed = pytest.importorskip("distributed")

ACASXU = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "acasxu"
LOWER, UPPER = -1.0, 1.0
PROP = (
    "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n"
    "(assert (>= X_0 {lo}))\n(assert (<= X_0 {up}))\n(assert (>= Y_0 {t!r}))\n"
)


def net_for(seed: int) -> torch.nn.Sequential:
    return make_mlp(1, (8, 8), dtype=torch.float64, seed=seed)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Three networks, and for each a property 0.05 above and one 0.05 below its maximum
    on [-1, 1] (the maximum of its exact spline: at a knot or an end of the box)."""
    from pwlmodels.io import to_onnx

    path = tmp_path_factory.mktemp("instances")
    rows = []
    for seed in range(3):
        net = net_for(seed)
        spline = relu_to_spline(net)
        top = float(spline.max(LOWER, UPPER))
        to_onnx(net, path / f"net{seed}.onnx")
        for name, t, expected in (("above", top + 0.05, "unsat"), ("below", top - 0.05, "sat")):
            (path / f"p{seed}_{name}.vnnlib").write_text(PROP.format(lo=LOWER, up=UPPER, t=t))
            rows.append(
                {
                    "onnx": f"net{seed}.onnx",
                    "vnnlib": f"p{seed}_{name}.vnnlib",
                    "expected": expected,
                    "threshold": t,
                }
            )
    pd.DataFrame(rows).to_csv(path / "instances.csv", index=False)
    return path


@pytest.fixture(scope="module")
def table(folder) -> pd.DataFrame:
    return pd.read_csv(folder / "instances.csv")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def assert_counterexamples_reach_the_threshold(results, table, folder):
    for i, row in results.iterrows():
        x = row["counterexample"]
        if row["status"] != "sat":
            assert x is None
            continue
        assert x.shape == (1,) and LOWER <= x[0] <= UPPER
        seed = int(Path(row["onnx"]).stem.removeprefix("net"))
        y = float(net_for(seed)(torch.tensor(x)[None]).detach()[0, 0])
        assert y >= table.loc[i, "threshold"] - 1e-12


def test_verdicts_match_the_exact_maximum_of_each_network(folder, table):
    results = verify_many(folder / "instances.csv", time_limit=20.0)
    assert list(results.index) == list(table.index)
    assert list(results["status"]) == list(table["expected"])
    assert list(results["instance"]) == [
        f"{Path(a).stem}:{Path(b).stem}" for a, b in zip(table.onnx, table.vnnlib, strict=True)
    ]
    assert results["onnx"].map(lambda p: Path(p).is_absolute()).all()
    assert (results["time_limit"] == 20.0).all() and (results["n_boxes"] >= 0).all()
    assert (results["load_s"] > 0).all() and (results["check_s"] >= 0).all()
    assert all(notes == () for notes in results["notes"])
    assert_counterexamples_reach_the_threshold(results, table, folder)


def test_a_frame_with_root_and_any_index_gives_rows_in_its_order(folder, table):
    shuffled = table.iloc[::-1].set_index(pd.Index([f"r{i}" for i in range(len(table))]))
    results = verify_many(shuffled, root=folder, time_limit=20.0)
    assert list(results.index) == list(shuffled.index)
    assert list(results["status"]) == list(shuffled["expected"])


def test_a_threads_cluster_gives_the_serial_verdicts_in_instance_order(folder, table, client):
    for _ in range(2):  # a second call on the same client scatters the same data again
        results = verify_many(folder / "instances.csv", client=client, progress=True)
        assert list(results["status"]) == list(table["expected"])
        assert list(results.index) == list(table.index)
        assert_counterexamples_reach_the_threshold(results, table, folder)


def test_local_starts_worker_processes_that_read_their_own_files(folder, table, monkeypatch):
    monkeypatch.setattr(_dask, "cores", lambda: 1)  # one worker process: a quick start
    first = table.iloc[:2]
    results = verify_many(first, root=folder, client="local")
    assert list(results["status"]) == list(first["expected"])


def test_the_timeout_column_wins_over_time_limit_where_it_holds_a_value(folder, table):
    timed = table.iloc[:3].assign(timeout=[5.0, np.nan, 7.5])
    results = verify_many(timed, root=folder, time_limit=30.0)
    np.testing.assert_array_equal(results["time_limit"], [5.0, 30.0, 7.5])
    results = verify_many(timed, root=folder, time_limit=None)
    np.testing.assert_array_equal(results["time_limit"], [5.0, np.nan, 7.5])


@pytest.mark.skipif(not (ACASXU / "instances.csv").is_file(), reason="no ACAS Xu benchmark")
def test_two_acasxu_instances_get_the_published_verdicts(client):
    table = pd.read_csv(ACASXU / "instances.csv")
    nets = table["onnx"].str.removeprefix("ACASXU_run2a_").str.removesuffix("_batch_2000.onnx")
    keys = nets + ":" + table["vnnlib"].str.removesuffix(".vnnlib")
    chosen = table[keys.isin(["1_2:prop_1", "2_5:prop_2"])]
    serial = verify_many(chosen, root=ACASXU, time_limit=30.0)
    spread = verify_many(chosen, root=ACASXU, time_limit=30.0, client=client)
    assert list(serial["status"]) == list(chosen["expected"]) == ["unsat", "sat"]
    assert list(spread["status"]) == list(serial["status"])
    x = serial["counterexample"].iloc[1]
    assert x.shape == (5,)


# ------------------------------------------------------------------ failed instances
@pytest.fixture(scope="module")
def broken(folder, table) -> pd.DataFrame:
    (folder / "garbage.onnx").write_text("not a model")
    bad = pd.DataFrame(
        {"onnx": ["nowhere.onnx", "garbage.onnx"], "vnnlib": ["p0_above.vnnlib"] * 2}
    )
    return pd.concat([table.iloc[:1], bad], ignore_index=True)


def test_a_failed_instance_raises_naming_it(folder, broken):
    with pytest.raises(ValueError, match=r"instance 1 \(nowhere:p0_above\) failed: no such file"):
        verify_many(broken, root=folder)


def test_errors_coerce_keeps_failed_instances_as_rows_with_the_reason(folder, broken, client):
    for run_on in (None, client):
        results = verify_many(broken, root=folder, errors="coerce", client=run_on)
        assert list(results["status"]) == ["unsat", None, None]
        assert results["n_boxes"].isna().tolist() == [False, True, True]
        assert "no such file" in results["notes"][1][0]
        assert "not a valid ONNX model" in results["notes"][2][0]


def test_a_network_and_property_of_other_sizes_fail_as_that_instance(folder, tmp_path):
    (tmp_path / "two.vnnlib").write_text(
        "(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n"
        "(assert (>= X_0 0))\n(assert (<= X_0 1))\n(assert (>= X_1 0))\n(assert (<= X_1 1))\n"
        "(assert (>= Y_0 0))\n"
    )
    frame = pd.DataFrame({"onnx": [str(folder / "net0.onnx")], "vnnlib": ["two.vnnlib"]})
    with pytest.raises(ValueError, match=r"instance 0 \(net0:two\) failed: `spec` declares 2"):
        verify_many(frame, root=tmp_path)


# ------------------------------------------------------------------ hostile input
@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"instances": 3}, TypeError, "`instances` must be a path to an instances CSV"),
        ({"instances": "no/such.csv"}, ValueError, "`instances` names 'no/such.csv'"),
        ({"drop": "vnnlib"}, ValueError, r"lacks \['vnnlib'\]"),
        ({"drop": "onnx"}, ValueError, r"lacks \['onnx'\]"),
        ({"empty": True}, ValueError, "at least one instance"),
        ({"cell": 3.0}, ValueError, "column 'onnx' must hold file names; row 0 holds 3.0"),
        ({"timeout": -1.0}, ValueError, "column 'timeout' must hold positive finite"),
        ({"timeout": "soon"}, ValueError, "column 'timeout' must hold positive finite"),
        ({"timeout": np.inf}, ValueError, "column 'timeout' must hold positive finite"),
        ({"root": 3}, TypeError, "`root` must be a path"),
        ({"time_limit": 0.0}, ValueError, "`time_limit` must be positive"),
        ({"time_limit": -5}, ValueError, "`time_limit` must be positive"),
        ({"time_limit": np.nan}, ValueError, "`time_limit` must be finite"),
        ({"time_limit": "60"}, TypeError, "`time_limit` must be a real number"),
        ({"time_limit": True}, TypeError, "`time_limit` must be a real number"),
        ({"client": "remote"}, ValueError, '`client` must be None, "local" or a dask'),
        ({"client": 4}, TypeError, '`client` must be None, "local" or a dask'),
        ({"progress": "yes"}, TypeError, "`progress` must be True or False"),
        ({"device": 0}, TypeError, "`device` must be a string or a torch.device"),
        ({"device": "tpu"}, ValueError, "device"),
        ({"errors": "ignore"}, ValueError, "`errors` must be one of 'raise', 'coerce'"),
    ],
)
def test_hostile_input_is_refused_naming_the_argument(folder, table, change, error, match):
    frame = table.iloc[:1].copy()
    change = dict(change)
    if "drop" in change:
        frame = frame.drop(columns=change.pop("drop"))
    if change.pop("empty", False):
        frame = frame.iloc[:0]
    if "cell" in change:
        frame["onnx"] = [change.pop("cell")]
    if "timeout" in change:
        frame["timeout"] = [change.pop("timeout")]
    kwargs = {"instances": frame, "root": folder, **change}
    with pytest.raises(error, match=match):
        verify_many(**kwargs)


def test_an_unreadable_instances_csv_is_refused(tmp_path):
    path = tmp_path / "instances.csv"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match=r"`instances`: .* is not a readable CSV file"):
        verify_many(path)


# ------------------------------------------------------------------ the command line
def test_cli_instances_prints_each_verdict_and_writes_the_results_csv(folder, table, tmp_path):
    from pwlmodels.cli import main

    out = tmp_path / "results.csv"
    args = ["verify", "--instances", str(folder / "instances.csv"), "--timeout", "20"]
    assert main([*args, "--out", str(out)]) == 0
    written = pd.read_csv(out, keep_default_na=False)
    assert list(written["status"]) == list(table["expected"])
    assert (written["time_limit"] == 20.0).all()
    for text, status in zip(written["counterexample"], written["status"], strict=True):
        assert (text == "") == (status != "sat")
        if text:
            assert len(json.loads(text)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["model.onnx"], "the model 'model.onnx' cannot go with --instances"),
        (["--vnnlib", "p.vnnlib"], "--vnnlib cannot go with --instances"),
        (["--lower", "0", "--upper", "1"], "--lower, --upper cannot go with --instances"),
        (["--json"], "--json cannot go with --instances"),
        (["--timeout", "5", "--time-limit", "5"], "--timeout and --time-limit are the same"),
        (["--client", "somewhere:8786"], "--client must be 'local' or a Dask scheduler's"),
        (["--out", "SELF"], "is the input"),
    ],
)
def test_cli_refuses_options_that_make_no_sense_with_instances(folder, extra, message, capsys):
    from pwlmodels.cli import main

    instances = str(folder / "instances.csv")
    extra = [instances if e == "SELF" else e for e in extra]
    assert main(["verify", "--instances", instances, *extra]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--client", "local", "m.pt", "--lower", "0", "--upper", "1"], "--client goes with"),
        (["--lower", "0", "--upper", "1"], "give a model file (or --instances"),
        (["--instances", "no/such.csv"], "`instances` names 'no/such.csv'"),
    ],
)
def test_cli_refuses_a_client_without_instances_and_a_missing_csv(args, message, capsys):
    from pwlmodels.cli import main

    assert main(["verify", *args]) == 2
    assert message in capsys.readouterr().err


def test_a_device_a_worker_lacks_fails_as_each_instance(folder, table, client):
    if torch.cuda.device_count() > 8:
        pytest.skip("this machine has the device")
    results = verify_many(
        table.iloc[:1], root=folder, client=client, device="cuda:8", errors="coerce"
    )
    assert results["status"].tolist() == [None]
    assert "`device` is 'cuda:8'" in results["notes"][0][0]


def test_a_headerless_csv_as_vnncomp_ships_it_reads_onnx_vnnlib_timeout(folder):
    path = folder / "vnncomp.csv"
    path.write_text("net0.onnx,p0_above.vnnlib,12\nnet0.onnx, p0_below.vnnlib, 13.5\n")
    results = verify_many(path)
    assert list(results["status"]) == ["unsat", "sat"]
    np.testing.assert_array_equal(results["time_limit"], [12.0, 13.5])
    path.write_text("net0.onnx,p0_above.vnnlib\n")
    assert list(verify_many(path, time_limit=9.0)["time_limit"]) == [9.0]
