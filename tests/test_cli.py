"""The `pwlmodels` command line, run in-process (and once as the installed console script).

Each command's files are compared with the library called directly; every
kind of bad input must end with exit status 2 and one line on stderr.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from pwlmodels import (
    PiecewiseLinear,
    fit_pwl,
    make_mlp,
    maximize,
    minimize,
    relu_to_spline,
    spline_to_relu,
)
from pwlmodels.cli import main
from pwlmodels.io import from_onnx, load_model, load_spline, save_model, save_spline

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def data(tmp_path):
    """A kinked curve with noise, as a CSV with a spare text column."""
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0.0, 10.0, 200))
    y = np.minimum(x, 4.0) - 0.5 * np.maximum(x - 7.0, 0.0) + rng.normal(0.0, 0.05, x.size)
    w = np.where(np.arange(x.size) % 10 == 0, 0.0, 1.0)
    path = tmp_path / "data.csv"
    pd.DataFrame({"x": x, "y": y, "w": w, "label": "a"}).to_csv(path, index=False)
    return path, x, y, w


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """``cli("fit d.csv ...")``: run pwlmodels in-process in tmp_path -> (status, out, err)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")

    def run(command: str) -> tuple[int, str, str]:
        status = main(shlex.split(command))
        out, err = capsys.readouterr()
        return status, out, err

    return run


# ----------------------------------------------------------------------- fit
def test_fit_writes_the_spline_table_and_network_of_fit_pwl(data, tmp_path, cli):
    _, x, y, w = data
    status, out, err = cli(
        "fit data.csv --x x --y y --weights w --n-knots 2 --out f.json --table f.csv --model f.pt"
    )
    assert (status, err) == (0, "")
    expected = fit_pwl(x, y, n_knots=2, weights=w)
    assert load_spline(tmp_path / "f.json") == expected.spline
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "f.csv"), expected.to_frame(), check_exact=False, rtol=1e-15
    )
    net = load_model(tmp_path / "f.pt")
    for p, q in zip(net.parameters(), spline_to_relu(expected.spline).parameters(), strict=True):
        assert torch.equal(p, q)
    assert "fitted 2 free knot(s) to 180 points" in out and "wrote" in out


def test_fit_with_fixed_knots_and_constraints(data, tmp_path, cli):
    _, x, y, _ = data
    model = "f.onnx" if importlib.util.find_spec("onnx") else "f.pt"
    status, _, err = cli(
        "fit data.csv --x x --y y --knots 4,7 --concave --increasing --max-slope 0.9 "
        f"--extrapolate constant --out f.json --model {model}"
    )
    assert (status, err) == (0, "")
    f = load_spline(tmp_path / "f.json")
    constraints = {"monotone": "increasing", "curvature": "concave", "slope": (None, 0.9)}
    assert (
        f == fit_pwl(x, y, knots=[4.0, 7.0], constraints=constraints, extrapolate="constant").spline
    )
    inner = f.slopes[1:-1]  # the end slopes are 0: constant extrapolation
    assert (np.diff(inner) <= 1e-12).all() and (inner >= -1e-12).all() and inner.max() <= 0.9
    assert (tmp_path / model).stat().st_size > 0


def test_fit_accepts_negative_fixed_knots(tmp_path, cli):
    x = np.linspace(-5.0, 5.0, 101)
    pd.DataFrame({"x": x, "y": np.abs(x + 1.5)}).to_csv(tmp_path / "d.csv", index=False)
    status, _, err = cli("fit d.csv --x x --y y --knots -1.5, --min-slope -1e0 --out f.json")
    assert (status, err) == (0, "")
    assert load_spline(tmp_path / "f.json").knots.tolist() == [-1.5]


# ------------------------------------------------------------------- convert
def test_convert_spline_to_model_and_onnx_and_back(tmp_path, cli):
    f = PiecewiseLinear([0.0, 1.0, 3.0], [0.0, 2.0, 1.0], left_slope=0.0, right_slope=0.0)
    save_spline(f, tmp_path / "f.json")
    status, out, _ = cli("convert f.json --out f.pt --form ramp --dtype float32")
    assert status == 0 and "f.json (spline, 1 input) -> f.pt" in out
    net = load_model(tmp_path / "f.pt")
    assert isinstance(net[1], torch.nn.Hardtanh) and net[0].weight.dtype == torch.float32
    assert cli("convert f.pt --out g.json")[0] == 0
    assert load_spline(tmp_path / "g.json") == relu_to_spline(net)
    pytest.importorskip("onnx")
    assert cli("convert f.json --out h.json --onnx f.onnx")[0] == 0
    assert load_spline(tmp_path / "h.json") == f
    assert cli("convert f.onnx --out k.json")[0] == 0
    assert load_spline(tmp_path / "k.json").allclose(f, atol=1e-14)


def test_convert_keeps_a_float32_model_float32(tmp_path, cli):
    pytest.importorskip("onnx")
    save_model(make_mlp(1, (3,), 1, seed=0), tmp_path / "net.pt")
    assert cli("convert net.pt --out net.onnx")[0] == 0
    assert next(from_onnx(tmp_path / "net.onnx").parameters()).dtype == torch.float32


# -------------------------------------------------------------------- verify
@pytest.fixture
def net2(tmp_path):
    net = make_mlp(2, (6,), 1, dtype=torch.float64, seed=2)
    save_model(net, tmp_path / "net2.pt")
    return net


def test_verify_prints_the_verified_maximum(net2, cli):
    status, out, _ = cli("verify net2.pt --lower -1,-2 --upper 1 2")
    assert status == 0
    expected = maximize(net2, [-1.0, -2.0], [1.0, 2.0])
    fields = dict(line.split(None, 1) for line in out.splitlines()[1:])
    assert float(fields["value"]) == expected.value and fields["status"] == expected.status
    assert float(fields["bound"]) == expected.bound
    assert [float(v) for v in fields["witness"].split(",")] == expected.witness.tolist()
    assert out.splitlines()[0] == "verified maximum of net2.pt over [-1.0, 1.0] x [-2.0, 2.0]"


def test_verify_json_minimum(net2, cli):
    status, out, _ = cli("verify net2.pt --lower=-1 --upper 1 --minimize --method milp --json")
    assert status == 0
    record = json.loads(out)
    expected = minimize(net2, -1.0, 1.0, method="milp")
    assert record["sense"] == "minimum" and record["method"] == "milp"
    assert record["bound"] <= record["value"] and record["gap"] >= 0.0
    np.testing.assert_allclose(record["value"], expected.value, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    "lower", ["--lower -1,-2", "--lower -1 -2", "--lower=-1,-2", "--lower -1e0 -2e0"]
)
def test_negative_boxes_parse_in_every_spelling(lower, net2, cli):
    status, out, _ = cli(f"verify net2.pt {lower} --upper 1,2 --json")
    assert status == 0
    assert json.loads(out)["value"] == maximize(net2, [-1.0, -2.0], [1.0, 2.0]).value


def test_verify_reads_a_spline_file(tmp_path, cli):
    save_spline(PiecewiseLinear([0.0, 1.0, 3.0], [0.0, 2.0, 1.0]), tmp_path / "f.json")
    status, out, _ = cli("verify f.json --lower 0 --upper 3 --json")
    assert status == 0 and json.loads(out)["witness"] == [1.0]


# ------------------------------------------------------------------- regions
@pytest.mark.parametrize("n_in", [1, 2])
def test_regions_writes_a_figure_and_a_table(n_in, tmp_path, cli):
    pytest.importorskip("matplotlib")
    save_model(make_mlp(n_in, (4,), 1, dtype=torch.float64, seed=0), tmp_path / "net.pt")
    status, out, _ = cli("regions net.pt --lower=-2 --upper 2 --out p.png --table p.csv")
    assert status == 0
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
    table = pd.read_csv(tmp_path / "p.csv")
    assert out.startswith(f"{len(table)} linear regions")
    assert table["area"].sum() == pytest.approx(4.0**n_in, rel=1e-12)


PROP = """(declare-const X_0 Real) (declare-const X_1 Real) (declare-const Y_0 Real)
(assert (>= X_0 -1)) (assert (<= X_0 1)) (assert (>= X_1 -2)) (assert (<= X_1 2))
(assert (>= Y_0 {}))"""


@pytest.mark.parametrize("sat", [True, False])
def test_verify_vnnlib_writes_the_vnncomp_result_file(net2, tmp_path, cli, sat):
    """VNN-COMP's call: exit 0 with the verdict; after sat, the counterexample as
    ``((X_0 v) ... (Y_0 v))``, which the net maps to an unsafe output."""
    top = maximize(net2, [-1.0, -2.0], [1.0, 2.0])
    threshold = top.value - 0.1 if sat else top.bound + 0.1
    (tmp_path / "p.vnnlib").write_text(PROP.format(repr(threshold)))
    status, out, err = cli("verify net2.pt --vnnlib p.vnnlib --timeout 60 --out result.txt")
    assert (status, err) == (0, "")
    lines = (tmp_path / "result.txt").read_text().splitlines()
    assert out.strip() == lines[0] == ("sat" if sat else "unsat")
    if not sat:
        assert len(lines) == 1
        return
    pairs = re.findall(r"\((X|Y)_(\d+) (\S+?)\)", "".join(lines[1:]))
    assert [(k, int(i)) for k, i, _ in pairs] == [("X", 0), ("X", 1), ("Y", 0)]
    x = np.array([float(v) for _, _, v in pairs[:2]])
    assert ((-1, -2) <= x).all() and (x <= (1, 2)).all()
    with torch.no_grad():
        y = float(net2(torch.as_tensor(x[None]))[0, 0])
    assert y == float(pairs[2][2]) and y >= threshold


def test_verify_vnnlib_timeout_and_json(net2, tmp_path, cli):
    (tmp_path / "p.vnnlib").write_text(PROP.format("1e9"))
    status, out, _ = cli("verify net2.pt --vnnlib p.vnnlib --json")
    record = json.loads(out)
    assert status == 0 and record["status"] == "unsat" and record["n_boxes"] >= 1


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ("--vnnlib p.vnnlib --lower 0 --upper 1", "--lower, --upper cannot go with --vnnlib"),
        ("--vnnlib p.vnnlib --minimize", "--minimize cannot go with --vnnlib"),
        ("--lower 0 --upper 1 --out r.txt", "--out goes with --vnnlib"),
        ("--lower 0 --upper 1 --timeout 5", "--timeout goes with --vnnlib"),
        ("--upper 1", "--lower is required"),
        ("--vnnlib missing.vnnlib", "missing.vnnlib: no such VNN-LIB file"),
        ("--vnnlib p.vnnlib --out p.vnnlib", "--out 'p.vnnlib' is the input"),
        ("--vnnlib p.vnnlib --timeout 5 --time-limit 5", "--timeout and --time-limit are"),
        ("--vnnlib p.vnnlib --out /dev/null", "--out '/dev/null' is not a regular file"),
        # found by the attacker pass: 0 == False hid these, and a trailing "/" was dropped
        ("--vnnlib p.vnnlib --output 0", "--output cannot go with --vnnlib"),
        ("--vnnlib p.vnnlib --atol 0", "--atol cannot go with --vnnlib"),
    ],
)
def test_verify_vnnlib_refuses_bad_calls(net2, tmp_path, cli, extra, match):
    (tmp_path / "p.vnnlib").write_text(PROP.format("0"))
    status, _, err = cli(f"verify net2.pt {extra}")
    assert_one_line_error(status, err, "verify", match)


def test_an_output_name_that_ends_with_a_separator_is_a_folder(net2, tmp_path, cli):
    """Found by the attacker pass: ``Path("newdir/")`` dropped the "/" and wrote a file."""
    (tmp_path / "p.vnnlib").write_text(PROP.format("0"))
    status, _, err = cli("verify net2.pt --vnnlib p.vnnlib --out newdir/")
    assert status == 2 and "Traceback" not in err
    assert err.strip().splitlines()[-1].endswith("'newdir/' names a folder; give a file name")
    assert not (tmp_path / "newdir").exists()


# ---------------------------------------------------------------- bad input
def assert_one_line_error(status: int, err: str, command: str, match: str) -> None:
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"pwlmodels {command}: error: ")
    assert re.search(match, lines[0]), lines[0]
    assert "Traceback" not in err


CSV_CASES = {
    "missing-column": (b"a,b\n1,2\n3,4\n", r"no column 'x' \(--x\); its columns are 'a', 'b'"),
    "non-numeric": (b"x,y\n1,2\n3,abc\n5,6\n", "column 'y' .* must be numeric; row 2 holds 'abc'"),
    "empty-cell": (b"x,y\n1,2\n3,\n5,6\n", "row 2 is empty"),
    "nan": (b"x,y\n1,2\nnan,4\n5,6\n", "column 'x' .*row 2 is empty"),
    "inf": (b"x,y\n1,2\n3,inf\n5,6\n", "row 2 holds inf"),
    "booleans": (b"x,y\n1,True\n2,False\n", "column 'y' .* must be numeric"),
    "empty-file": (b"", "is empty"),
    "header-only": (b"x,y\n", "0 data row"),
    "binary": (b"\x80\x81\x82\xff\x00\x01" * 20, "not a readable CSV file"),
    "ragged": (b"x,y\n1,2\n3,4,5,6\n", "not a readable CSV file"),
    "too-few-points": (b"x,y\n1,2\n2,3\n3,5\n", "fewer than the"),
}


@pytest.mark.parametrize("case", list(CSV_CASES))
def test_fit_rejects_bad_csv_files(case, tmp_path, cli):
    content, match = CSV_CASES[case]
    (tmp_path / "d.csv").write_bytes(content)
    status, _, err = cli("fit d.csv --x x --y y --n-knots 2 --out f.json")
    assert_one_line_error(status, err, "fit", match)
    assert not (tmp_path / "f.json").exists()


def test_fit_rejects_a_missing_file_and_folder(data, cli):
    status, _, err = cli("fit absent.csv --x x --y y --n-knots 1 --out f.json")
    assert_one_line_error(status, err, "fit", "no such file: absent.csv")
    status, _, err = cli("fit data.csv --x x --y y --n-knots 1 --out nowhere/f.json")
    assert_one_line_error(status, err, "fit", "the folder of --out 'nowhere/f.json' does not exist")


@pytest.mark.parametrize(
    ("option", "match"),
    [
        ("--knots abc", "argument --knots: expected fixed knots such as 2.5,7; got 'abc'"),
        ("--knots 1,x", "argument --knots: expected fixed knots such as 2.5,7; got '1,x'"),
        ("--knots ,", "argument --knots: expected fixed knots such as 2.5,7; got ','"),
        ("--knots 3", "argument --knots: a lone integer is ambiguous; write --n-knots 3 for 3"),
        ("--n-knots 2.5", "argument --n-knots: expected a number of free knots such as 5; got"),
        ("--n-knots 2,3", "(fixed knots go in --knots, e.g. --knots 2.5,7)"),
        ("--n-knots 1 --knots 4.0", "argument --knots: not allowed with argument --n-knots"),
        ("", "one of the arguments --n-knots --knots is required"),
    ],
)
def test_fit_rejects_bad_or_ambiguous_knots_as_a_usage_error(option, match, data, tmp_path, cli):
    status, out, err = cli(f"fit data.csv --x x --y y {option} --out f.json")
    assert status == 2 and out == "" and match in err, err
    assert not (tmp_path / "f.json").exists()


def test_fit_takes_one_fixed_knot_with_or_without_a_comma(data, tmp_path, cli):
    _, x, y, _ = data
    for option in ("--knots 4.0", "--knots 4,"):
        status, _, err = cli(f"fit data.csv --x x --y y {option} --out f.json")
        assert (status, err) == (0, "")
        assert load_spline(tmp_path / "f.json") == fit_pwl(x, y, knots=[4.0]).spline


def test_fit_checks_for_onnx_before_writing_anything(data, tmp_path, cli, monkeypatch):
    import pwlmodels.io

    def missing():
        raise ImportError(
            "ONNX files need the optional onnx package: pip install 'pwlmodels[onnx]'"
        )

    monkeypatch.setattr(pwlmodels.io._onnx, "require_onnx", missing)
    status, _, err = cli("fit data.csv --x x --y y --n-knots 1 --out f.json --model f.onnx")
    assert_one_line_error(status, err, "fit", r"pip install 'pwlmodels\[onnx\]'")
    assert not (tmp_path / "f.json").exists()


@pytest.mark.parametrize(
    ("box", "match"),
    [
        ("--lower 0,0,0 --upper 1", "--lower has 3 numbers but net2.pt has 2 input"),
        ("--lower 0 --upper 1,2,3", "--upper has 3 numbers"),
        ("--lower a,b --upper 1", "--lower must be numbers separated by commas; got 'a,b'"),
        ("--lower 2 --upper 1", "--lower must not exceed --upper"),
        ("--lower 0,nan --upper 1", "--lower must be finite"),
    ],
)
def test_verify_rejects_a_bad_box(box, match, net2, cli):
    status, _, err = cli(f"verify net2.pt {box}")
    assert_one_line_error(status, err, "verify", match)


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("m.pt", b"garbage", "is not a model written by pwlmodels.io.save_model"),
        ("m.pt", b"", "is not a model written by pwlmodels.io.save_model"),
        ("m.json", b"{}", "is not a 'pwlmodels.spline/1' file"),
        ("m.json", b"{", "is not valid JSON"),
        ("m.onnx", b"garbage", "not a valid ONNX model|must have one input|needs the optional"),
    ],
)
def test_verify_rejects_malformed_model_files(name, content, match, tmp_path, cli):
    (tmp_path / name).write_bytes(content)
    status, _, err = cli(f"verify {name} --lower 0 --upper 1")
    assert_one_line_error(status, err, "verify", match)


def test_regions_rejects_three_inputs(tmp_path, cli):
    pytest.importorskip("matplotlib")
    save_model(make_mlp(3, (4,), 1), tmp_path / "net3.pt")
    status, _, err = cli("regions net3.pt --lower 0 --upper 1 --out p.png")
    assert_one_line_error(status, err, "regions", "has 3 inputs; a partition figure needs 1 or 2")
    assert not (tmp_path / "p.png").exists()


def test_convert_rejects_a_multi_input_network_as_a_spline(net2, cli):
    status, _, err = cli("convert net2.pt --out f.json")
    assert_one_line_error(status, err, "convert", "has 2 inputs; a .json spline has 1")


def test_usage_help_and_version(capsys):
    assert main([]) == 2
    assert main(["--help"]) == 0
    assert main(["--version"]) == 0
    assert main(["verify"]) == 2
    assert "pwlmodels" in capsys.readouterr().out


# ------------------------------------------------ the installed console script
def test_console_script_runs(tmp_path):
    script = Path(sys.executable).with_name("pwlmodels")
    if not script.exists():
        pytest.skip("the console script is not installed next to this interpreter")
    save_spline(PiecewiseLinear([0.0, 1.0, 3.0], [0.0, 2.0, 1.0]), tmp_path / "f.json")
    command = [str(script), "verify", "f.json", "--lower", "0", "--upper", "3", "--json"]
    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["value"] == 2.0


# ---------------------------------------------------------- docs/cli.md runs
def _doc_commands() -> list[list[str] | str]:
    """The shell blocks of docs/cli.md: argument lists for pwlmodels, code for python."""
    text = (ROOT / "docs" / "cli.md").read_text()
    steps: list[list[str] | str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        heredoc = re.fullmatch(r"python - <<'EOF'\n(.*)EOF\n", block, flags=re.S)
        if heredoc:
            steps.append(heredoc.group(1))
            continue
        for line in block.strip().splitlines():
            words = shlex.split(line)
            if words[:2] == ["python", "-c"]:
                steps.append(words[2])
            else:
                assert words[0] == "pwlmodels", f"docs/cli.md: cannot run {line!r}"
                steps.append(words[1:])
    return steps


def test_docs_cli_commands_run_in_order(tmp_path, cli):
    pytest.importorskip("matplotlib")
    pytest.importorskip("onnx")
    steps = _doc_commands()
    assert sum(isinstance(s, list) for s in steps) >= 4
    for step in steps:
        if isinstance(step, str):
            exec(compile(step, "docs/cli.md", "exec"), {"__name__": "__main__"})
        else:
            status, _, err = cli(shlex.join(step))
            assert status == 0, (step, err)
    fd = load_spline(tmp_path / "fd.json")
    assert fd.knots.size == 1 and abs(fd.knots[0] - 25.0) < 1.0  # the critical density
    assert (np.diff(fd.slopes) <= 0).all()
    assert {"fd.png", "net2.png", "fd.onnx", "fd-back.json"} <= {p.name for p in tmp_path.iterdir()}
    assert (tmp_path / "result.txt").read_text() == "unsat\n"
