"""pwlmodels.io: lossless spline JSON, validated model files, ONNX in and out.

References are independent of the code under test: bit patterns of float64
arrays, torch's own forward pass, ONNX's reference evaluator and OMLT's
parser.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torch import nn

from pwlmodels import PiecewiseLinear, fit_pwl, make_mlp, spline_to_relu
from pwlmodels.io import from_onnx, load_model, load_spline, save_model, save_spline, to_onnx

F = PiecewiseLinear([0.0, 1.0, 3.0], [0.0, 2.0, 1.0])
DTYPES = [torch.float64, torch.float32]


def bits(a: object) -> np.ndarray:
    return np.asarray(a, dtype=np.float64).view(np.uint64)


def assert_same_bits(f: PiecewiseLinear, g: PiecewiseLinear) -> None:
    for name in ("knots", "values", "slopes"):
        np.testing.assert_array_equal(bits(getattr(f, name)), bits(getattr(g, name)), err_msg=name)


# ------------------------------------------------------------------ splines
finite = st.floats(allow_nan=False, allow_infinity=False)  # subnormals, -0.0 and huge included


@st.composite
def splines(draw) -> PiecewiseLinear:
    knots = sorted(draw(st.lists(finite, min_size=1, max_size=6, unique=True)))
    values = draw(st.lists(finite, min_size=len(knots), max_size=len(knots)))
    left, right = draw(finite), draw(finite)
    try:
        return PiecewiseLinear(knots, values, left_slope=left, right_slope=right)
    except ValueError:  # an interior slope overflows float64
        assume(False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(splines())
def test_spline_round_trip_is_bit_exact(f):
    with tempfile.TemporaryDirectory() as tmp:
        g = load_spline(save_spline(f, Path(tmp) / "f.json"))
    assert g == f
    assert_same_bits(f, g)


@pytest.mark.parametrize(
    "f",
    [
        PiecewiseLinear(
            [5e-324, 1e-300], [-0.0, 2.2250738585072014e-308], left_slope=-0.0, right_slope=0.0
        ),
        PiecewiseLinear(
            [-1.7976931348623157e308],
            [1.7976931348623157e308],
            left_slope=1e308,
            right_slope=-1e308,
        ),
        PiecewiseLinear([0.1, 0.2, 0.30000000000000004], [1 / 3, 2 / 3, 0.1]),
    ],
    ids=["subnormal-negative-zero", "huge", "decimal"],
)
def test_spline_round_trip_keeps_extreme_floats(f, tmp_path):
    path = save_spline(f, tmp_path / "f.json")
    assert_same_bits(f, load_spline(path))
    data = json.loads(path.read_text())  # plain JSON any reader understands
    assert data["format"] == "pwlmodels.spline/1"
    assert [float(v) for v in data["knots"]] == f.knots.tolist()


def test_spline_file_is_readable_json_with_shortest_digits(tmp_path):
    text = save_spline(F, tmp_path / "f.json").read_text()
    assert '"knots": [0.0, 1.0, 3.0]' in text and text.endswith("}\n")


def test_save_spline_rejects_other_types(tmp_path):
    x = np.linspace(0.0, 1.0, 20)
    with pytest.raises(TypeError, match=r"pass fit\.spline"):
        save_spline(fit_pwl(x, x, n_knots=0), tmp_path / "f.json")
    with pytest.raises(TypeError, match="`path` must be a str"):
        save_spline(F, 3)


GOOD = {
    "format": "pwlmodels.spline/1",
    "knots": [0.0, 1.0],
    "values": [0.0, 1.0],
    "left_slope": 1.0,
    "right_slope": 1.0,
}


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "not valid JSON"),
        (b"\x80\x81\xff garbage", "not valid JSON"),
        (b"{not json", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),  # recursion
        (b"[1, 2]", "not a 'pwlmodels.spline/1' file"),
        ({**GOOD, "format": "pwlmodels.spline/9"}, "has format 'pwlmodels.spline/9'"),
        ({k: v for k, v in GOOD.items() if k != "values"}, "lacks the field.*'values'"),
        ({**GOOD, "knots": [1.0, 0.0]}, "strictly increasing"),
        ({**GOOD, "knots": [0.0, "1"]}, "'knots' must be a list of numbers"),
        ({**GOOD, "knots": [0.0, [1.0]]}, "'knots' must be a list of numbers"),
        ({**GOOD, "values": [True, False]}, "'values' must be a list of numbers"),
        ({**GOOD, "left_slope": None}, "'left_slope' must be a number"),
        ({**GOOD, "values": [0.0]}, "one entry per knot"),
        ({**GOOD, "knots": [], "values": []}, "at least 1"),
        (b'{"format": "pwlmodels.spline/1", "knots": [0, NaN]}', "NaN is not a finite"),
        (b'{"format": "pwlmodels.spline/1", "knots": [0, Infinity]}', "Infinity is not a fin"),
        (json.dumps({**GOOD, "values": [0, 1]}).replace("1]", "1e400]").encode(), "finite"),
        (json.dumps({**GOOD, "values": [0, 10**400]}).encode(), "invalid spline"),
    ],
    ids=lambda v: None,
)
def test_load_spline_rejects_malformed_files(content, match, tmp_path):
    path = tmp_path / "bad.json"
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    with pytest.raises(ValueError, match=match):
        load_spline(path)


def test_load_spline_missing_file_is_an_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_spline(tmp_path / "absent.json")


# ------------------------------------------------------------------- models
def nets(dtype: torch.dtype) -> dict[str, nn.Sequential]:
    g = torch.Generator().manual_seed(0)
    nested = nn.Sequential(
        nn.Sequential(nn.Linear(2, 5), nn.LeakyReLU(0.1)),
        nn.Identity(),
        nn.Dropout(0.2),
        nn.Linear(5, 4, bias=False),
        nn.PReLU(4),
        nn.Linear(4, 3),
        nn.ReLU6(),
        nn.Linear(3, 2),
        nn.Hardtanh(-0.3, 0.7),
        nn.Linear(2, 1),
    ).to(dtype)
    nested.eval()  # Dropout in training mode is random: refused
    with torch.no_grad():
        for p in nested.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64))
    return {
        "hinge": spline_to_relu(F, dtype=dtype),
        "ramp": spline_to_relu(
            PiecewiseLinear([0.0, 1.0, 3.0], [0.0, 2.0, 1.0], left_slope=0.0, right_slope=0.0),
            form="ramp",
            dtype=dtype,
        ),
        "mlp-prelu": make_mlp(2, (6, 6), 3, activation="prelu", dtype=dtype, seed=1),
        "nested": nested,
    }


def _inputs(net: nn.Sequential, dtype: torch.dtype) -> torch.Tensor:
    n_in = next(m for m in net.modules() if isinstance(m, nn.Linear)).in_features
    return torch.randn(64, n_in, generator=torch.Generator().manual_seed(1), dtype=dtype) * 3


def _same_function(net: nn.Sequential, again: nn.Sequential, dtype: torch.dtype) -> None:
    x = _inputs(net, dtype)
    with torch.no_grad():
        torch.testing.assert_close(again(x), net.eval()(x), rtol=0.0, atol=0.0)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", ["hinge", "ramp", "mlp-prelu", "nested"])
def test_model_round_trip_keeps_parameters_and_function(name, dtype, tmp_path):
    net = nets(dtype)[name]
    again = load_model(save_model(net, tmp_path / "net.pt"))
    kept = [p for m in net.modules() if not isinstance(m, nn.Sequential) for p in m.parameters()]
    assert len(kept) == len(list(again.parameters()))
    for p, q in zip(kept, again.parameters(), strict=True):
        assert p.dtype == q.dtype and torch.equal(p, q)
    assert not again.training
    _same_function(net, again, dtype)


def test_load_model_leaves_the_global_rng_alone(tmp_path):
    path = save_model(make_mlp(3, (50,), 1), tmp_path / "net.pt")
    state = torch.random.get_rng_state()
    load_model(path)
    assert torch.equal(state, torch.random.get_rng_state())


def test_model_file_holds_primitives_and_cpu_tensors(tmp_path):
    path = save_model(nets(torch.float64)["nested"], tmp_path / "net.pt")
    data = torch.load(path, weights_only=True)
    assert data["format"] == "pwlmodels.mlp/1"
    assert [layer["kind"] for layer in data["layers"]] == [
        "linear",
        "leaky_relu",
        "linear",
        "prelu",
        "linear",
        "hardtanh",
        "linear",
        "hardtanh",
        "linear",
    ]
    assert data["layers"][5] == {"kind": "hardtanh", "min_val": 0.0, "max_val": 6.0}
    assert set(data["state_dict"]) == {
        "0.weight",
        "0.bias",
        "2.weight",
        "3.weight",
        "4.weight",
        "4.bias",
        "6.weight",
        "6.bias",
        "8.weight",
        "8.bias",
    }


@pytest.mark.parametrize(
    ("net", "error", "match"),
    [
        (nn.Sequential(nn.Linear(1, 2), nn.Tanh(), nn.Linear(2, 1)), TypeError, "Tanh at net"),
        (nn.Linear(1, 1), TypeError, "must be a torch.nn.Sequential"),
        (nn.Sequential(nn.Linear(1, 2).half()), ValueError, "float32 or float64"),
        (nn.Sequential(nn.Linear(1, 2), nn.Linear(3, 1)), ValueError, "mismatched layer sizes"),
    ],
)
def test_save_model_rejects_what_it_cannot_store(net, error, match, tmp_path):
    with pytest.raises(error, match=match):
        save_model(net, tmp_path / "net.pt")
    assert list(tmp_path.iterdir()) == []


def test_save_model_rejects_nan_weights_and_keeps_the_old_file(tmp_path):
    path = save_model(spline_to_relu(F), tmp_path / "net.pt")
    before = path.read_bytes()
    bad = spline_to_relu(F)
    with torch.no_grad():
        bad[0].weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"0\.weight must be finite"):
        save_model(bad, path)
    assert path.read_bytes() == before and list(tmp_path.iterdir()) == [path]


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    path = save_model(spline_to_relu(F), tmp_path / "net.pt")
    before = path.read_bytes()

    def broken(obj, fh):
        fh.write(b"PK half")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken)
    with pytest.raises(OSError, match="disk full"):
        save_model(spline_to_relu(F), path)
    assert path.read_bytes() == before and list(tmp_path.iterdir()) == [path]


class _Payload:
    """Pickles to a call that would delete ``target``: torch.load must refuse it."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (os.remove, (str(self.target),))


def _payload() -> dict:
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)).double()
    return {
        "format": "pwlmodels.mlp/1",
        "layers": [
            {"kind": "linear", "in_features": 2, "out_features": 3, "bias": True},
            {"kind": "relu"},
            {"kind": "linear", "in_features": 3, "out_features": 1, "bias": True},
        ],
        "state_dict": {k: v.detach().clone() for k, v in net.state_dict().items()},
    }


def _edit(**changes):
    def make() -> dict:
        p = _payload()
        for key, value in changes.items():
            if key == "layer0":
                p["layers"][0] = {**p["layers"][0], **value}
            elif key == "state":
                p["state_dict"] = value(p["state_dict"])
            else:
                p[key] = value
        return p

    return make


HOSTILE_MODELS = {
    "format-v2": (_edit(format="pwlmodels.mlp/2"), "has format 'pwlmodels.mlp/2'"),
    "no-format": (lambda: {"layers": []}, "without that tag"),
    "bare-state-dict": (lambda: _payload()["state_dict"], "bare state dict"),
    "tensor": (lambda: torch.zeros(3), "holds a Tensor"),
    "empty-layers": (_edit(layers=[]), "'layers' must be a non-empty list"),
    "unknown-kind": (_edit(layer0={"kind": "tanh"}), r"layers\[0\] must be a layer of kind"),
    "bool-width": (_edit(layer0={"out_features": True}), "'out_features' must be a positive"),
    "negative-width": (_edit(layer0={"in_features": -2}), "'in_features' must be a positive"),
    "bias-not-bool": (_edit(layer0={"bias": "yes"}), "'bias' must be true or false"),
    "nan-slope": (
        _edit(layers=[{"kind": "leaky_relu", "negative_slope": float("nan")}]),
        "'negative_slope' must be a finite number",
    ),
    "huge-int-slope": (
        _edit(layers=[{"kind": "leaky_relu", "negative_slope": 10**400}]),
        "'negative_slope' must be a finite number",
    ),
    "hardtanh-order": (
        _edit(layers=[{"kind": "hardtanh", "min_val": 1.0, "max_val": -1.0}], state_dict={}),
        "min_val must be < max_val",
    ),
    "missing-tensor": (
        _edit(state=lambda s: {k: v for k, v in s.items() if k != "2.bias"}),
        "missing 2.bias",
    ),
    "extra-tensor": (
        _edit(state=lambda s: {**s, "9.weight": torch.zeros(1)}),
        "unexpected 9.weight",
    ),
    "wrong-shape": (
        _edit(state=lambda s: {**s, "0.weight": torch.zeros(3, 5).double()}),
        r"0.weight must have shape \(3, 2\)",
    ),
    "nan-weight": (
        _edit(state=lambda s: {**s, "0.bias": torch.full((3,), float("nan")).double()}),
        "0.bias must be finite",
    ),
    "mixed-dtypes": (
        _edit(state=lambda s: {**s, "0.bias": s["0.bias"].float()}),
        "share one dtype.*float32, float64",
    ),
    "half": (_edit(state=lambda s: {k: v.half() for k, v in s.items()}), "float16"),
    "int-tensor": (
        _edit(state=lambda s: {**s, "0.bias": torch.zeros(3, dtype=torch.int64)}),
        "int64",
    ),
    "state-not-tensors": (
        _edit(state_dict={"0.weight": [[1.0, 2.0]]}),
        "'state_dict' must map names to tensors",
    ),
    "sizes": (
        _edit(
            layers=[
                {"kind": "linear", "in_features": 2, "out_features": 3, "bias": True},
                {"kind": "relu"},
                {"kind": "linear", "in_features": 4, "out_features": 1, "bias": True},
            ],
            state=lambda s: {**s, "2.weight": torch.zeros(1, 4).double()},
        ),
        "mismatched layer sizes",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE_MODELS))
def test_load_model_rejects_invalid_payloads(case, tmp_path):
    make, match = HOSTILE_MODELS[case]
    path = tmp_path / "net.pt"
    torch.save(make(), path)
    with pytest.raises(ValueError, match=match):
        load_model(path)


def test_load_model_never_runs_code_from_the_file(tmp_path):
    target = tmp_path / "keep-me"
    target.write_text("still here")
    for name, save in [
        ("zip.pt", torch.save),
        ("legacy.pt", lambda obj, p: Path(p).write_bytes(pickle.dumps(obj))),
    ]:
        save({"format": "pwlmodels.mlp/1", "layers": [_Payload(target)]}, tmp_path / name)
        with pytest.raises(ValueError, match="refused it"):
            load_model(tmp_path / name)
    assert target.read_text() == "still here"


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00" * 100, b"hello, world\n", b'{"format": "pwlmodels.mlp/1"}', "truncated"],
    ids=["empty", "zeros", "text", "json", "truncated"],
)
def test_load_model_rejects_foreign_or_damaged_files(content, tmp_path):
    path = tmp_path / "net.pt"
    if content == "truncated":
        good = save_model(spline_to_relu(F), tmp_path / "good.pt").read_bytes()
        content = good[: len(good) // 2]
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"net.pt' is not a model written by pwlmodels"):
        load_model(path)


def test_load_model_missing_file_or_folder_is_an_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "absent.pt")
    with pytest.raises(IsADirectoryError):
        load_model(tmp_path)


# --------------------------------------------------------------------- ONNX
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", ["hinge", "ramp", "mlp-prelu", "nested"])
def test_onnx_round_trip_and_reference_evaluator_agree(name, dtype, tmp_path):
    pytest.importorskip("onnx")
    from onnx.reference import ReferenceEvaluator

    net = nets(dtype)[name]
    path = to_onnx(net, tmp_path / "net.onnx")
    again = from_onnx(path)
    _same_function(net, again, dtype)
    x = _inputs(net, dtype)
    (y,) = ReferenceEvaluator(str(path)).run(None, {"x": x.numpy()})
    assert y.dtype == x.numpy().dtype
    with torch.no_grad():
        expected = net(x).numpy()
    np.testing.assert_allclose(
        y,
        expected,
        rtol=1e-12 if dtype == torch.float64 else 1e-5,
        atol=1e-12 if dtype == torch.float64 else 1e-5,
    )


def test_onnx_keeps_a_float64_leaky_slope_exactly(tmp_path):
    pytest.importorskip("onnx")
    net = nn.Sequential(nn.Linear(1, 2), nn.LeakyReLU(0.1), nn.Linear(2, 1)).double()
    again = from_onnx(to_onnx(net, tmp_path / "net.onnx"))
    x = torch.linspace(-5.0, 5.0, 101, dtype=torch.float64)[:, None]
    _same_function(net, again, torch.float64)
    assert torch.equal(again(x), net(x))


def test_omlt_reads_the_exported_network(tmp_path):
    onnx = pytest.importorskip("onnx")
    omlt_io = pytest.importorskip("omlt.io")
    net = make_mlp(2, (5, 4), 1, dtype=torch.float64, seed=3)
    path = to_onnx(net, tmp_path / "net.onnx")
    definition = omlt_io.load_onnx_neural_network(onnx.load(path))
    dense = [layer for layer in definition.layers if hasattr(layer, "weights")]
    linears = [m for m in net if isinstance(m, nn.Linear)]
    assert [layer.activation for layer in dense] == ["relu", "relu", "linear"]
    for layer, m in zip(dense, linears, strict=True):
        np.testing.assert_array_equal(layer.weights, m.weight.detach().numpy().T)
        np.testing.assert_array_equal(layer.biases, m.bias.detach().numpy())


def _onnx_model(nodes, inits, *, opset: int = 13, n_in: int = 2, n_out: int = 1):
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["n", n_in])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, ["n", n_out])],
        initializer=[
            numpy_helper.from_array(np.asarray(v, np.float64), k) for k, v in inits.items()
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def test_from_onnx_reads_matmul_add_and_attribute_clip(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import helper

    w, b = np.array([[1.0, -2.0], [0.5, 3.0]]), np.array([0.25, -1.0])
    model = _onnx_model(
        [
            helper.make_node("MatMul", ["x", "W"], ["h"]),
            helper.make_node("Add", ["B", "h"], ["a"]),  # the bias first
            helper.make_node("Clip", ["a"], ["c"], min=-1.0, max=2.0),
            helper.make_node("Flatten", ["c"], ["f"], axis=1),
            helper.make_node("MatMul", ["f", "V"], ["y"]),
        ],
        {"W": w, "B": b, "V": [[1.0], [1.0]]},
        opset=10,
        n_in=2,
    )
    onnx.save(model, tmp_path / "m.onnx")
    net = from_onnx(tmp_path / "m.onnx")
    assert [type(m).__name__ for m in net] == ["Linear", "Hardtanh", "Linear"]
    x = np.random.default_rng(0).normal(size=(20, 2)) * 3
    expected = np.clip(x @ w + b, -1.0, 2.0).sum(axis=1, keepdims=True)
    with torch.no_grad():
        np.testing.assert_allclose(net(torch.from_numpy(x)).numpy(), expected, rtol=1e-15)


def _hostile_onnx():
    from onnx import TensorProto, helper

    gemm = helper.make_node("Gemm", ["x", "W", "B"], ["h"], transB=1)
    inits = {"W": [[1.0, 2.0]], "B": [0.5]}
    branch = _onnx_model(
        [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Add", ["x", "r"], ["y"])],
        {},
        n_out=2,
    )
    external = _onnx_model([gemm, helper.make_node("Relu", ["h"], ["y"])], inits)
    external.graph.initializer[0].data_location = TensorProto.EXTERNAL
    del external.graph.initializer[0].double_data[:]
    external.graph.initializer[0].external_data.add(key="location", value="../../etc/passwd")
    return {
        "sigmoid": (
            _onnx_model([gemm, helper.make_node("Sigmoid", ["h"], ["y"])], inits),
            r"\(Sigmoid\) is not supported; from_onnx reads Gemm",
        ),
        "branch": (branch, r"node 1 \(Add\) takes .x., which is not a constant"),
        "transA": (
            _onnx_model(
                [helper.make_node("Gemm", ["x", "W", "B"], ["y"], transA=1)],
                {"W": [[1.0], [2.0]], "B": [0.5]},
            ),
            "transA=0",
        ),
        "clip-one-sided": (
            _onnx_model([gemm, helper.make_node("Clip", ["h", "B"], ["y"])], inits),
            "constant min and max",
        ),
        "not-a-chain": (
            _onnx_model([gemm, helper.make_node("Relu", ["x"], ["y"])], inits, n_out=2),
            "does not continue a chain",
        ),
        "external-data": (
            external,
            r"must hold every tensor inside the file; got external data at '\.\./\.\./etc/passwd' "
            r"for the model > graph 'g' > initializer\[0\] 'W'",
        ),
    }


@pytest.mark.parametrize(
    "case", ["sigmoid", "branch", "transA", "clip-one-sided", "not-a-chain", "external-data"]
)
def test_from_onnx_rejects_unsupported_graphs(case, tmp_path):
    pytest.importorskip("onnx")
    model, match = _hostile_onnx()[case]
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(ValueError, match=match):
        from_onnx(path)


@pytest.mark.parametrize(
    "content",
    [b"", b"\x08\x07garbage\xff\xff", b"not onnx at all"],
    ids=["empty", "garbage", "text"],
)
def test_from_onnx_rejects_files_that_are_not_onnx(content, tmp_path):
    pytest.importorskip("onnx")
    path = tmp_path / "m.onnx"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"is not a valid ONNX model|must have one input"):
        from_onnx(path)


def test_onnx_functions_say_how_to_install_onnx(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'pwlmodels\[onnx\]'"):
        to_onnx(spline_to_relu(F), tmp_path / "net.onnx")
    with pytest.raises(ImportError, match=r"pip install 'pwlmodels\[onnx\]'"):
        from_onnx(tmp_path / "net.onnx")
    assert list(tmp_path.iterdir()) == []


def test_load_model_checks_declared_sizes_against_the_tensors_before_allocating(tmp_path):
    layers = [{"kind": "linear", "in_features": 2**31, "out_features": 2**31, "bias": False}]
    state = {"0.weight": torch.zeros(1, 1, dtype=torch.float64)}
    torch.save(
        {"format": "pwlmodels.mlp/1", "layers": layers, "state_dict": state}, tmp_path / "huge.pt"
    )
    with pytest.raises(ValueError, match=r"0\.weight must have shape \(2147483648, 2147483648\)"):
        load_model(tmp_path / "huge.pt")


def test_load_model_explains_a_pickled_module(tmp_path):
    torch.save(nn.Sequential(nn.Linear(1, 2)), tmp_path / "whole.pt")
    with pytest.raises(ValueError, match=r"pickles the Python object torch\.nn\..*Sequential"):
        load_model(tmp_path / "whole.pt")


# ----------------------------------------------------- ONNX as VNN-COMP writes it
ACASXU = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "acasxu"


def test_from_onnx_keeps_normalisation_as_exact_affine_layers(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import helper

    c, d, m, a = [0.1, -3.0], [4.0, 0.5], [3.0, -0.7], [1e-3, 2.0]
    model = _onnx_model(
        [
            helper.make_node("Sub", ["x", "C"], ["s"]),
            helper.make_node("Div", ["s", "D"], ["q"]),  # by powers of two: 1 / d is exact
            helper.make_node("Mul", ["q", "M"], ["p"]),
            helper.make_node("Add", ["p", "A"], ["r"]),
            helper.make_node("Reshape", ["r", "S"], ["v"]),
            helper.make_node("MatMul", ["v", "W"], ["y"]),
        ],
        {"C": c, "D": d, "M": m, "A": a, "W": [[1.0], [1.0]]},
    )
    target = onnx.numpy_helper.from_array(np.array([-1, 2], np.int64), "S")
    model.graph.initializer.append(target)  # the Reshape target: (batch, 2)
    onnx.save(model, tmp_path / "norm.onnx")
    net = from_onnx(tmp_path / "norm.onnx")
    x = torch.tensor(np.random.default_rng(0).normal(size=(200, 2)), dtype=torch.float64)
    with torch.no_grad():
        prefix = net[:4](x)
    want = (x - torch.tensor(c, dtype=torch.float64)) / torch.tensor(d, dtype=torch.float64)
    want = want * torch.tensor(m, dtype=torch.float64) + torch.tensor(a, dtype=torch.float64)
    assert torch.equal(prefix, want)  # bit for bit: no rounded constant was folded anywhere


def test_from_onnx_refuses_a_division_that_no_exact_layer_holds(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import helper

    model = _onnx_model(
        [helper.make_node("Div", ["x", "D"], ["q"]), helper.make_node("MatMul", ["q", "W"], ["y"])],
        {"D": [3.0, 1.0], "W": [[1.0], [1.0]]},
    )
    onnx.save(model, tmp_path / "div.onnx")
    with pytest.raises(ValueError, match=r"divides by 3.0, whose reciprocal is not exact"):
        from_onnx(tmp_path / "div.onnx")


@pytest.mark.skipif(not ACASXU.is_dir(), reason="../shared/benchmarks/acasxu is not here")
@pytest.mark.parametrize("path", sorted(ACASXU.glob("*.onnx")), ids=lambda p: p.stem[12:17])
def test_every_shared_acasxu_network_loads_and_matches_onnxruntime(path):
    ort = pytest.importorskip("onnxruntime")
    net = from_onnx(path)
    assert [type(m).__name__ for m in net].count("ReLU") == 6
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (32, 5)).astype(np.float32)
    session = ort.InferenceSession(str(path))
    name = session.get_inputs()[0].name
    ref = np.concatenate([session.run(None, {name: xi.reshape(1, 1, 1, 5)})[0] for xi in x])
    with torch.no_grad():
        got = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, ref.reshape(32, 5), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("node", "constant", "match"),
    [  # found by the attacker pass: (5, 1) broadcast to an outer difference, and so on
        ("Sub", np.ones((2, 1)), r"constant of shape \(2, 1\); one value, or one per feature"),
        ("Sub", np.ones(3), r"has 3 values for 2 features"),
        ("Div", np.full(2, 2.0**-1074), r"divides by 5e-324, whose reciprocal is not exact"),
    ],
)
def test_from_onnx_refuses_constants_that_are_not_one_per_feature(tmp_path, node, constant, match):
    onnx = pytest.importorskip("onnx")
    from onnx import helper

    model = _onnx_model(
        [helper.make_node(node, ["x", "C"], ["s"]), helper.make_node("MatMul", ["s", "W"], ["y"])],
        {"C": constant, "W": [[1.0], [1.0]]},
    )
    onnx.save(model, tmp_path / "c.onnx")
    with pytest.raises(ValueError, match=match):
        from_onnx(tmp_path / "c.onnx")


def _gemm_relu(extra_nodes, inits, **kw):
    from onnx import helper

    return _onnx_model(
        [helper.make_node("MatMul", ["x", "W"], ["h"]), *extra_nodes],
        {"W": [[1.0, 2.0], [3.0, -1.0]], **inits},
        **kw,
    )


def _column_constants():
    """Constants of shape (n, 1): against a batch of rows they broadcast along the batch."""
    from onnx import helper

    col = np.array([[0.5], [-0.25]])
    return {
        "add-bias": (
            _gemm_relu([helper.make_node("Add", ["h", "C"], ["y"])], {"C": col}, n_out=2),
            r"constant of shape \(2, 1\); expected \(2,\)",
        ),
        "prelu": (
            _gemm_relu([helper.make_node("PRelu", ["h", "C"], ["y"])], {"C": col}, n_out=2),
            r"constant of shape \(2, 1\); expected \(2,\)",
        ),
        "gemm-c": (
            _onnx_model(
                [helper.make_node("Gemm", ["x", "W", "C"], ["y"])],
                {"W": [[1.0, 2.0], [3.0, -1.0]], "C": col},
                n_out=2,
            ),
            r"constant of shape \(2, 1\); expected \(2,\)",
        ),
        "mul-empty": (
            _gemm_relu([helper.make_node("Mul", ["h", "C"], ["y"])], {"C": np.zeros(0)}, n_out=2),
            r"\(Mul\) must combine the input with one non-empty float constant",
        ),
        "input-width": (
            _gemm_relu([helper.make_node("Relu", ["h"], ["y"])], {}, n_in=3, n_out=2),
            "declares 3 input features, but its first layer takes 2",
        ),
        "output-width": (
            _gemm_relu([helper.make_node("Relu", ["h"], ["y"])], {}, n_out=5),
            "declares 5 output features, but its last layer gives 2",
        ),
    }


@pytest.mark.parametrize(
    "case", ["add-bias", "prelu", "gemm-c", "mul-empty", "input-width", "output-width"]
)
def test_from_onnx_refuses_column_constants_and_widths_unlike_the_declared(case, tmp_path):
    """Found by the attacker pass on issue 22: each was read as a different function."""
    onnx = pytest.importorskip("onnx")
    model, match = _column_constants()[case]
    onnx.save(model, tmp_path / "c.onnx")
    with pytest.raises(ValueError, match=match):
        from_onnx(tmp_path / "c.onnx")


def test_from_onnx_refuses_a_reshape_that_holds_for_one_batch_only(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import helper

    model = _onnx_model(
        [
            helper.make_node("Reshape", ["x", "S"], ["r"]),
            helper.make_node("MatMul", ["r", "W"], ["y"]),
        ],
        {"W": [[1.0], [1.0]]},
    )
    model.graph.initializer.append(onnx.numpy_helper.from_array(np.array([1, -1], np.int64), "S"))
    onnx.save(model, tmp_path / "r.onnx")
    with pytest.raises(ValueError, match=r"\(Reshape\) is not supported"):
        from_onnx(tmp_path / "r.onnx")


@pytest.mark.parametrize(("alpha", "beta", "layers"), [(0.5, 3.0, 1), (0.1, 0.3, 2), (3.0, 1.0, 2)])
def test_from_onnx_keeps_gemm_alpha_exact(tmp_path, alpha, beta, layers):
    """alpha (x W) + beta C: a power-of-two alpha folds into W exactly; any other alpha
    is a layer of its own, so the network's real function is the node's (no rounded
    product alpha W among its weights)."""
    onnx = pytest.importorskip("onnx")
    from onnx import helper

    w, c = np.array([[0.1, -0.7], [1.3, 0.2]]), np.array([0.25, -1.1])
    gemm = helper.make_node("Gemm", ["x", "W", "C"], ["y"], alpha=alpha, beta=beta)
    onnx.save(_onnx_model([gemm], {"W": w, "C": c}, n_out=2), tmp_path / "m.onnx")
    net = from_onnx(tmp_path / "m.onnx")
    assert [type(m).__name__ for m in net] == ["Linear"] * layers
    alpha, beta = float(np.float32(alpha)), float(np.float32(beta))  # attributes are float32
    # the composite map in exact arithmetic: weights alpha W^T, bias fl(beta c)
    weight, bias = np.eye(2, dtype=object), np.zeros(2, dtype=object)
    for m in net:
        lw = np.vectorize(Fraction)(m.weight.detach().numpy().astype(object))
        lb = 0 if m.bias is None else np.vectorize(Fraction)(m.bias.detach().numpy())
        weight, bias = lw @ weight, lw @ bias + lb
    assert (weight == Fraction(alpha) * np.vectorize(Fraction)(w.T.astype(object))).all()
    assert (bias == np.vectorize(Fraction)(beta * c)).all()


def test_writing_through_a_link_keeps_it_and_a_fifo_is_refused(tmp_path):
    """An atomic rename over ``path`` would replace a symbolic link (or a device or FIFO)
    with a regular file: the link's target is written, and a FIFO refused."""
    spline = PiecewiseLinear([0.0, 1.0], [0.0, 2.0])
    target = tmp_path / "target.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    save_spline(spline, link)
    assert link.is_symlink() and load_spline(target) == spline
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(FileExistsError, match=r"'.*fifo'.* not a regular file"):
        save_spline(spline, fifo)
    assert fifo.is_fifo()
