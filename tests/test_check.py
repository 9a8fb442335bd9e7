"""pwlmodels.verify.check: VNN-LIB properties decided, against brute force and the shared
ACAS Xu answers; counterexamples re-checked in rational arithmetic."""

from __future__ import annotations

import csv
import itertools
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from pwlmodels.io import from_onnx, load_vnnlib
from pwlmodels.verify import CheckResult, check, minimize

from ._helpers import exact_value

ACASXU = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "acasxu"


def _net(seed: int, sizes=(2, 12, 12, 2)) -> nn.Sequential:
    torch.manual_seed(seed)
    layers: list = []
    for a, b in itertools.pairwise(sizes):
        layers += [nn.Linear(a, b).double(), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def _spec(tmp_path, n_in, n_out, lower, upper, unsafe: str) -> Path:
    """A VNN-LIB file: the box and an output formula (its text as written)."""
    lines = [f"(declare-const X_{i} Real)" for i in range(n_in)]
    lines += [f"(declare-const Y_{j} Real)" for j in range(n_out)]
    for i, (lo, up) in enumerate(zip(lower, upper, strict=True)):
        lines += [f"(assert (>= X_{i} {lo}))", f"(assert (<= X_{i} {up}))"]
    lines.append(f"(assert {unsafe})")
    path = tmp_path / "prop.vnnlib"
    path.write_text("\n".join(lines))
    return path


def _exact_outputs(net, x) -> list[Fraction]:
    n_out = net[-1].out_features
    return [exact_value(net, x, j) for j in range(n_out)]


def _assert_counterexample(net, path: Path, result: CheckResult) -> None:
    """The witness lies in a box as written and its exact output meets a conjunction as
    written (decimals of the file taken exactly)."""
    assert result.status == "sat"
    spec = load_vnnlib(path)
    case = spec.cases[result.case]
    x = result.counterexample
    assert ((case.inner_lower <= x) & (x <= case.inner_upper)).all()
    y = _exact_outputs(net, x)
    np.testing.assert_allclose(result.output, [float(v) for v in y], rtol=1e-12, atol=1e-12)
    met = [
        all(
            sum(Fraction(float(a)) * v for a, v in zip(row, y, strict=True)) <= Fraction(bi)
            for row, bi in zip(a_, b_, strict=True)
        )
        for a_, b_ in zip([a for a, _ in case.unsafe], case.inner_b, strict=True)
    ]
    assert any(met)


@pytest.mark.parametrize("seed", range(6))
def test_one_row_agrees_with_the_verified_minimum(tmp_path, seed):
    """Unsafe ``Y_0 <= t``: reachable iff the minimum of Y_0 over the box is <= t."""
    net = _net(seed)
    lo, up = [-1.0, -0.5], [1.0, 0.75]
    r = minimize(net, lo, up, output=0, method="milp")
    assert r.status == "optimal"
    for t, expected in ((r.bound - 1e-3, "unsat"), (r.value + 1e-3, "sat")):
        path = _spec(tmp_path, 2, 2, lo, up, f"(<= Y_0 {t!r})")
        res = check(net, path, time_limit=60)
        assert res.status == expected, (t, res)
        if expected == "sat":
            _assert_counterexample(net, path, res)


def test_falsification_rounds_go_on_beside_branch_and_bound(tmp_path, monkeypatch):
    """With the first round made to miss, later rounds (here one per branch-and-bound step)
    still run, and neither verdict changes: rounds only ever add checked counterexamples."""
    from pwlmodels.verify import _check

    calls = []
    real = _check._falsify

    def falsify(*args):
        calls.append(args[2])
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(_check, "_falsify", falsify)
    monkeypatch.setattr(_check, "_FALSIFY_SHARE", 1e9)
    net = _net(3)
    lo, up = [-1.0, -0.5], [1.0, 0.75]
    r = minimize(net, lo, up, output=0, method="milp")
    for t, expected in ((r.bound - 1e-3, "unsat"), (r.value + 1e-3, "sat")):
        calls.clear()
        path = _spec(tmp_path, 2, 2, lo, up, f"(<= Y_0 {t!r})")
        res = check(net, path, time_limit=60)
        assert res.status == expected, (t, res)
        assert len(calls) >= 2 or res.n_boxes <= 1
        if expected == "sat":
            _assert_counterexample(net, path, res)


@pytest.mark.parametrize("seed", range(4))
def test_a_conjunction_against_dense_sampling(tmp_path, seed):
    """``Y_0 <= Y_1`` and ``Y_0 >= t``: sat where grid points meet both (a checked
    witness); for ``t`` above every grid value, decided and never contradicted by the grid."""
    net = _net(10 + seed)
    g = np.stack(np.meshgrid(*(np.linspace(-1, 1, 201),) * 2), -1).reshape(-1, 2)
    with torch.no_grad():
        y = net(torch.as_tensor(g)).numpy()
    ok = y[:, 0] <= y[:, 1]
    high = float(y[ok, 0].max() if ok.any() else y[:, 0].max()) + 0.5
    for t in ([float(np.quantile(y[ok, 0], 0.9))] if ok.any() else []) + [high]:
        path = _spec(tmp_path, 2, 2, [-1, -1], [1, 1], f"(and (<= Y_0 Y_1) (>= Y_0 {t!r}))")
        res = check(net, path, time_limit=60)
        sampled = ok & (y[:, 0] >= t)
        assert res.status in ("sat", "unsat")
        if sampled.any() or res.status == "sat":
            _assert_counterexample(net, path, res)
        else:
            assert not sampled.any()


def test_disjunction_of_boxes_and_conjunctions(tmp_path):
    """|x| on two boxes: unsafe outputs reached only in the second box."""
    net = nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1)).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0], [-1.0]]))
        net[0].bias.zero_()
        net[2].weight.fill_(1.0)
        net[2].bias.zero_()
    text = """(declare-const X_0 Real) (declare-const Y_0 Real)
    (assert (or (and (>= X_0 -0.5) (<= X_0 0.5)) (and (>= X_0 2) (<= X_0 3))))
    (assert (or (and (>= Y_0 2.5)) (and (<= Y_0 -1))))"""
    path = tmp_path / "p.vnnlib"
    path.write_text(text)
    res = check(net, path)
    assert res.status == "sat" and res.case == 1
    assert 2.5 <= res.counterexample[0] <= 3
    _assert_counterexample(net, path, res)
    path.write_text(text.replace("2.5", "3.5"))
    assert check(net, path).status == "unsat"


def test_a_point_bound_that_is_no_double_gives_no_counterexample(tmp_path):
    """X_0 = 0.1 exactly: no double is 0.1, so no witness is in the box as written; the
    verdict must not be sat although every output is unsafe."""
    net = nn.Sequential(nn.Linear(1, 1)).double()
    path = _spec(tmp_path, 1, 1, ["0.1"], ["0.1"], "(<= Y_0 1e6)")
    res = check(net, path, time_limit=10)
    assert res.status == "unknown"
    assert res.counterexample is None


def test_limits_and_statuses(tmp_path):
    net = _net(3, (2, 32, 32, 1))
    path = _spec(tmp_path, 2, 1, [-1, -1], [1, 1], "(>= Y_0 1e9)")
    assert check(net, path).status == "unsat"
    r = minimize(net, [-1, -1], [1, 1], output=0)
    tight = _spec(tmp_path, 2, 1, [-1, -1], [1, 1], f"(<= Y_0 {r.bound - 1e-6!r})")
    assert check(net, tight, max_boxes=1).status == "unknown"
    assert check(net, tight, time_limit=1e-9).status == "timeout"


def test_hostile_arguments(tmp_path):
    net = _net(0)
    path = _spec(tmp_path, 2, 2, [0, 0], [1, 1], "(<= Y_0 0)")
    with pytest.raises(TypeError, match="`spec`"):
        check(net, 3)
    with pytest.raises(ValueError, match="no such VNN-LIB file"):
        check(net, tmp_path / "missing.vnnlib")
    with pytest.raises(ValueError, match="declares 3 inputs"):
        check(net, _spec(tmp_path, 3, 2, [0] * 3, [1] * 3, "(<= Y_0 0)"))
    with pytest.raises(ValueError, match="`time_limit`"):
        check(net, path, time_limit=0)
    with pytest.raises(TypeError, match="`max_boxes`"):
        check(net, path, max_boxes=1.5)
    with pytest.raises(ValueError, match="`seed`"):
        check(net, path, seed=-1)
    with pytest.raises(ValueError, match="`seed` must be at most"):
        check(net, path, seed=2**64)
    with pytest.raises(ValueError, match="`time_limit` must be finite"):
        check(net, path, time_limit=10**400)
    with pytest.raises(ValueError, match="`net` must have a Linear layer"):
        check(nn.Sequential(nn.ReLU()), path)
    with pytest.raises(TypeError):
        check(nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 2)), path)


def test_a_conjunction_on_inputs_only_is_met_by_any_point_of_its_box(tmp_path):
    """No output rows (K = 0): every input of the box is a counterexample; with a box no
    double lies in, the verdict stays undecided."""
    net = _net(1)
    path = _spec(tmp_path, 2, 2, [0, 0], [1, 1], "(or (<= X_0 2) (<= Y_0 -1e9))")
    res = check(net, path)
    assert res.status == "sat" and res.case == 0
    assert ((0 <= res.counterexample) & (res.counterexample <= 1)).all()
    point = _spec(tmp_path, 2, 2, ["0.1", 0], ["0.1", 1], "(<= X_1 5)")
    assert check(net, point).status == "unknown"


def test_many_input_boxes_keep_the_time_limit(tmp_path):
    """Falsification and the branch and bound stop at the deadline however many boxes the
    disjunction holds (each used to get a whole round of random starts)."""
    net = _net(2, (2, 64, 64, 2))
    boxes = " ".join(
        f"(and (>= X_0 {i / 400!r}) (<= X_0 {(i + 1) / 400!r}) (>= X_1 0) (<= X_1 1))"
        for i in range(400)
    )
    text = "".join(f"(declare-const X_{i} Real)\n(declare-const Y_{i} Real)\n" for i in range(2))
    path = tmp_path / "many.vnnlib"
    path.write_text(text + f"(assert (or {boxes}))\n(assert (>= Y_0 1e9))\n")
    res = check(net, path, time_limit=0.3)
    assert res.status == "timeout" and res.time < 1.5


def test_float32_counterexamples_are_float32_inputs(tmp_path):
    """The competition runs a float32 net on float32 inputs: the witness is one, and is
    checked there."""
    net = _net(4).float()
    with torch.no_grad():
        top = float(net(torch.tensor([[0.3, 0.7]])).max())
    path = _spec(tmp_path, 2, 2, ["0.1", "0.1"], ["0.9", "0.9"], f"(>= Y_0 {top - 5:.6f})")
    res = check(net, path)
    assert res.status == "sat"
    x = res.counterexample
    assert np.array_equal(x.astype(np.float32).astype(np.float64), x)
    _assert_counterexample(net.double(), path, res)


def _instances():
    if not ACASXU.is_dir():
        return []
    with open(ACASXU / "instances.csv") as fh:
        rows = list(csv.DictReader(fh))
    fast = {  # decided in under a second here; the whole set is benchmarks/bench_acasxu.py
        ("1_1", "prop_1"),
        ("1_2", "prop_2"),
        ("2_1", "prop_2"),
        ("1_7", "prop_3"),
        ("2_2", "prop_3"),
        ("1_7", "prop_4"),
        ("2_9", "prop_4"),
        ("2_9", "prop_8"),
    }
    return [r for r in rows if (r["onnx"][13:16], r["vnnlib"][:-7]) in fast]


@pytest.mark.skipif(not ACASXU.is_dir(), reason="../shared/benchmarks/acasxu is not here")
@pytest.mark.parametrize("row", _instances(), ids=lambda r: f"{r['onnx'][13:16]}-{r['vnnlib']}")
def test_acasxu_fast_instances_get_the_expected_answer(row):
    net = from_onnx(ACASXU / row["onnx"])
    res = check(net, ACASXU / row["vnnlib"], time_limit=60)
    assert res.status == row["expected"]
    if res.status == "sat":
        _assert_counterexample(net.double(), ACASXU / row["vnnlib"], res)
