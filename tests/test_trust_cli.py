"""Hostile input to the command line and the file writers (issue 18, items 3 and 6).

One test per hostile input: every one must end with exit status 2 (or the
named exception), one line on stderr, no traceback, and no file touched.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from pwlmodels import PiecewiseLinear, fit_pwl, make_mlp, select_knots
from pwlmodels.cli import main
from pwlmodels.io import load_spline, save_model, save_spline


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """``cli("fit d.csv ...")`` run in tmp_path -> (status, out, err)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")

    def run(command: str) -> tuple[int, str, str]:
        status = main(shlex.split(command))
        out, err = capsys.readouterr()
        return status, out, err

    return run


@pytest.fixture
def data(tmp_path):
    x = np.linspace(0.0, 10.0, 60)
    path = tmp_path / "traffic.csv"
    pd.DataFrame({"x": x, "y": np.abs(x - 4.0)}).to_csv(path, index=False)
    return path


@pytest.fixture
def spline_file(tmp_path):
    return save_spline(PiecewiseLinear([0.0, 1.0], [0.0, 2.0]), tmp_path / "fd.json")


def refused(status: int, err: str, command: str, match: str) -> None:
    """Exit 2 with one error line (after argparse's usage lines), no traceback."""
    assert status == 2
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"pwlmodels {command}: error: "), err
    assert re.search(match, last), last


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# ------------------------------------------------------- outputs over inputs
def test_fit_refuses_to_write_the_spline_over_its_data(data, tmp_path, cli):
    before = snapshot(tmp_path)
    status, _, err = cli("fit traffic.csv --x x --y y --n-knots 1 --out traffic.csv")
    refused(status, err, "fit", r"--out 'traffic.csv' is the input 'traffic.csv' \(data\)")
    assert snapshot(tmp_path) == before


def test_fit_refuses_a_table_that_is_its_data_by_another_spelling(data, tmp_path, cli):
    before = snapshot(tmp_path)
    status, _, err = cli(
        "fit ./traffic.csv --x x --y y --n-knots 1 --out f.json --table traffic.csv"
    )
    refused(status, err, "fit", r"--table 'traffic.csv' is the input")
    assert snapshot(tmp_path) == before


def test_fit_refuses_a_model_written_through_a_symlink_to_its_data(data, tmp_path, cli):
    os.symlink(data, tmp_path / "alias.pt")
    before = data.read_bytes()
    status, _, err = cli("fit traffic.csv --x x --y y --n-knots 1 --out f.json --model alias.pt")
    refused(status, err, "fit", r"--model 'alias.pt' is the input")
    assert data.read_bytes() == before
    assert not (tmp_path / "f.json").exists()


def test_fit_refuses_an_output_hard_linked_to_its_data(data, tmp_path, cli):
    os.link(data, tmp_path / "copy.csv")
    status, _, err = cli("fit traffic.csv --x x --y y --n-knots 1 --out f.json --table copy.csv")
    refused(status, err, "fit", r"--table 'copy.csv' is the input")
    assert not (tmp_path / "f.json").exists()


def test_fit_refuses_two_outputs_at_one_path(data, tmp_path, cli):
    status, _, err = cli("fit traffic.csv --x x --y y --n-knots 1 --out f.json --table ./f.json")
    refused(status, err, "fit", r"--table '.*f.json' and --out 'f.json' are the same file")
    assert not (tmp_path / "f.json").exists()


def test_convert_refuses_out_and_onnx_at_one_path(spline_file, tmp_path, cli):
    status, _, err = cli("convert fd.json --out fd.pt --onnx fd.pt")
    refused(status, err, "convert", r"--onnx 'fd.pt' and --out 'fd.pt' are the same file")
    assert not (tmp_path / "fd.pt").exists()


def test_convert_refuses_to_write_over_its_source(tmp_path, cli):
    save_model(make_mlp(1, (3,), 1, dtype=torch.float64), tmp_path / "fd.pt")
    before = (tmp_path / "fd.pt").read_bytes()
    status, _, err = cli("convert fd.pt --out fd.pt")
    refused(status, err, "convert", r"--out 'fd.pt' is the input 'fd.pt' \(source\)")
    assert (tmp_path / "fd.pt").read_bytes() == before


def test_regions_refuses_a_table_over_its_model(spline_file, tmp_path, cli):
    before = spline_file.read_bytes()
    status, _, err = cli("regions fd.json --lower 0 --upper 1 --out p.png --table fd.json")
    refused(status, err, "regions", r"--table 'fd.json' is the input 'fd.json' \(model\)")
    assert spline_file.read_bytes() == before
    assert not (tmp_path / "p.png").exists()


# ----------------------------------------------------------- numeric options
@pytest.mark.parametrize(
    ("option", "match"),
    [
        ("--min-slope nan", "argument --min-slope: must be a number; got nan"),
        ("--min-slope inf", "argument --min-slope: must be finite; got inf"),
        ("--max-slope -inf", "argument --max-slope: must be finite; got -inf"),
        ("--max-slope NaN", "argument --max-slope: must be a number; got nan"),
        ("--knots 2,nan", "argument --knots: fixed knots must be finite numbers; got nan"),
        ("--knots inf,", "argument --knots: fixed knots must be finite numbers; got inf"),
        ("--seed -1", "argument --seed: must be >= 0; got -1"),
        ("--n-knots -1", "argument --n-knots: expected a number of free knots such as 5; got '-1'"),
    ],
)
def test_fit_refuses_a_non_finite_or_negative_number(option, match, data, tmp_path, cli):
    knots = "" if option.startswith("--knots") else "--n-knots 1"
    status, _, err = cli(f"fit traffic.csv --x x --y y {knots} {option} --out f.json")
    refused(status, err, "fit", re.escape(match))
    assert not (tmp_path / "f.json").exists()


def test_fit_takes_infinite_slope_bounds_as_no_bound(data, tmp_path, cli):
    status, _, err = cli(
        "fit traffic.csv --x x --y y --n-knots 1 --min-slope -inf --max-slope inf --out f.json"
    )
    assert (status, err) == (0, "")
    x = np.linspace(0.0, 10.0, 60)
    expected = PiecewiseLinear.from_points([0.0, 4.0, 10.0], [4.0, 0.0, 6.0])
    np.testing.assert_allclose(load_spline(tmp_path / "f.json")(x), expected(x), atol=1e-8)


@pytest.mark.parametrize(
    ("option", "match"),
    [
        ("--atol nan", "argument --atol: must be a number; got nan"),
        ("--rtol -1e-3", "argument --rtol: must be >= 0; got -0.001"),
        ("--time-limit inf", "argument --time-limit: must be finite; got inf"),
        ("--time-limit 0", "argument --time-limit: must be > 0; got 0.0"),
        ("--output -1", "argument --output: must be between 0"),
    ],
)
def test_verify_refuses_a_bad_number(option, match, spline_file, cli):
    status, out, err = cli(f"verify fd.json --lower 0 --upper 1 {option}")
    refused(status, err, "verify", re.escape(match))
    assert out == ""


def test_regions_refuses_an_unbounded_region_count(spline_file, tmp_path, cli):
    status, _, err = cli("regions fd.json --lower 0 --upper 1 --out p.png --max-regions 1000000000")
    refused(status, err, "regions", "must be between 1 and 1,000,000; got 1000000000")
    assert not (tmp_path / "p.png").exists()


# -------------------------------------------- library errors reach the user
def test_verify_reports_a_library_value_error_as_exit_2(spline_file, cli):
    status, out, err = cli("verify fd.json --lower 0 --upper 1 --output 3")
    refused(status, err, "verify", "output")
    assert out == ""


def test_fit_reports_too_many_free_knots_as_exit_2(data, tmp_path, cli):
    status, _, err = cli("fit traffic.csv --x x --y y --n-knots 1000000000 --out f.json")
    refused(status, err, "fit", "`n_knots` must be at most 100")
    assert not (tmp_path / "f.json").exists()


def test_verify_refuses_a_box_that_overflows_float64(spline_file, cli):
    status, out, err = cli("verify fd.json --lower -1e308 --upper 1e308")
    refused(status, err, "verify", "overflow|float64|too (wide|large)")
    assert out == ""


def test_lower_above_upper_prints_plain_numbers(spline_file, cli):
    status, _, err = cli("verify fd.json --lower 2 --upper 1")
    refused(status, err, "verify", r"got 2\.0 > 1\.0 at input 0")


@pytest.mark.parametrize(
    ("lower", "upper", "box"),
    [
        ("1e-400", "1e-400", [0.0, 5e-324]),  # a positive number is not read as 0 alone
        ("0.1", "0.3", [0.09999999999999999, 0.30000000000000004]),
        ("0.5", "0.75", [0.5, 0.75]),  # doubles already: kept
        ("-1e-999999999", "1e-999999999", [-5e-324, 5e-324]),  # no 10**999999999 is built
    ],
)
def test_verify_rounds_the_box_outward(lower, upper, box, spline_file, cli):
    status, out, _ = cli(f"verify fd.json --lower {lower} --upper {upper} --json")
    assert status == 0
    record = json.loads(out)
    assert [record["lower"][0], record["upper"][0]] == box
    assert Decimal(box[0]) <= Decimal(lower) and Decimal(box[1]) >= Decimal(upper)


# -------------------------------------------------------------------- files
def test_save_spline_into_a_missing_folder_names_the_target(tmp_path):
    target = tmp_path / "missing" / "f.json"
    with pytest.raises(FileNotFoundError, match=r"its folder .*missing' does not exist") as info:
        save_spline(PiecewiseLinear([0.0, 1.0], [0.0, 1.0]), target)
    assert str(target) in str(info.value)
    assert ".tmp" not in str(info.value)


def test_save_spline_over_a_folder_is_refused(tmp_path):
    (tmp_path / "f.json").mkdir()
    with pytest.raises(IsADirectoryError, match="it is a folder; give a file name"):
        save_spline(PiecewiseLinear([0.0, 1.0], [0.0, 1.0]), tmp_path / "f.json")
    assert os.listdir(tmp_path / "f.json") == []


def test_save_spline_under_a_file_is_refused(tmp_path):
    (tmp_path / "plain").write_text("x")
    with pytest.raises(NotADirectoryError, match=r"'.*plain' is a file, not a folder"):
        save_spline(PiecewiseLinear([0.0, 1.0], [0.0, 1.0]), tmp_path / "plain" / "f.json")


# ------------------------------------------------------ resource limits
X = np.linspace(0.0, 10.0, 50)
Y = np.abs(X - 4.0)


def test_fit_pwl_refuses_a_billion_starts():
    with pytest.raises(ValueError, match=r"`n_starts` must be at most 100; got 1000000000"):
        fit_pwl(X, Y, n_knots=1, n_starts=10**9)


def test_fit_pwl_refuses_more_free_knots_than_the_search_can_hold():
    x = np.linspace(0.0, 1.0, 1000)
    with pytest.raises(ValueError, match=r"`n_knots` must be at most 100 .*; got 101"):
        fit_pwl(x, np.sin(x), n_knots=101)


def test_fit_pwl_refuses_many_constrained_knots():
    x = np.linspace(0.0, 1.0, 5000)
    knots = np.linspace(0.0, 1.0, 2003)[1:-1]
    with pytest.raises(ValueError, match=r"`knots` must number at most 2000 with `constraints`"):
        fit_pwl(x, x, knots=knots, constraints={"monotone": "increasing"})


def test_select_knots_refuses_a_billion_knots():
    with pytest.raises(ValueError, match=r"`max_knots` must be at most 100; got 1000000000"):
        select_knots(X, Y, max_knots=10**9)


@pytest.mark.parametrize("bound", [(np.nan, None), (None, np.nan), (np.inf, None), (2.0, 1.0)])
def test_fit_pwl_refuses_a_nan_or_empty_slope_range(bound):
    with pytest.raises(ValueError, match=r"`constraints\['slope'\](\[\d\])?` must be"):
        fit_pwl(X, Y, n_knots=1, constraints={"slope": bound})


def test_make_mlp_refuses_a_billion_wide_layer():
    with pytest.raises(ValueError, match=r"`hidden\[1\]` must be at most 1048576; got 1000000000"):
        make_mlp(1, (4, 10**9), 1)


def test_make_mlp_refuses_a_network_of_too_many_parameters():
    with pytest.raises(ValueError, match=r"at most 100,000,000 parameters in all; got 4295"):
        make_mlp(1, (65536, 65536), 1)


def test_check_homogeneity_refuses_a_huge_sample():
    from pwlmodels.diagnostics import check_homogeneity

    with pytest.raises(ValueError, match=r"`n` must be at most 1000000; got 10000000000"):
        check_homogeneity(make_mlp(2, (3,), 1), 2.0, n=10**10)


def test_expected_activation_refuses_a_moment_that_overflows():
    from pwlmodels.diagnostics import expected_activation

    with pytest.raises(ValueError, match=r"`moment` must be at most 16; got 1000"):
        expected_activation("relu", moment=1000)


def test_save_figure_refuses_a_huge_dpi(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    from pwlmodels.plotting import save_figure

    fig = plt.figure()
    try:
        with pytest.raises(ValueError, match=r"`dpi` must be between 1 and 1200; got 100000"):
            save_figure(fig, tmp_path / "f.png", dpi=100_000)
    finally:
        plt.close(fig)
    assert not (tmp_path / "f.png").exists()


# -------------------------------------------------- numbers print plainly
def _messages() -> list[str]:
    """Messages of a few checks given numpy scalars."""
    from pwlmodels._validate import as_knots, check_choice

    out = []
    for call in (
        lambda: as_knots(np.array([0.0, 2.0, 2.0])),
        lambda: check_choice(np.float64(1.0), "extrapolate", ("linear", "constant")),
        lambda: fit_pwl(X, Y, n_knots=np.int64(-1)),
        lambda: fit_pwl(X, Y, knots=[np.float64(40.0)]),
        lambda: fit_pwl(X, Y, n_knots=1, weights=-np.ones(X.size)),
        lambda: fit_pwl(X, Y, n_knots=1, constraints={"slope": np.float64(1.0)}),
        lambda: make_mlp(1, np.int64(3), 1),
        lambda: make_mlp(1, (np.int64(0),), 1),
    ):
        with pytest.raises((ValueError, TypeError)) as info:
            call()
        out.append(str(info.value))
    return out


def test_messages_print_numpy_numbers_plainly():
    messages = _messages()
    for text in messages:
        assert "np.float64" not in text and "np.int64" not in text, text
    assert "got 1.0" in messages[1]


def test_traffic_messages_print_indices_plainly():
    from applications.traffic._ctm import simulate_ctm
    from applications.traffic._models import TriangularFD

    fd = TriangularFD()
    rho0 = np.full(5, 10.0)
    rho0[3] = 1000.0
    with pytest.raises(ValueError, match=r"got rho0\[0, 3\] = 1000\.0") as info:
        simulate_ctm(fd, rho0, dx=0.1, dt=0.0001, steps=2)
    assert "np.int64" not in str(info.value)
