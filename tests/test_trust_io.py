"""Hostile files and points get a ValueError that names the problem, never another function.

One test per hostile input: ONNX tensors kept in external files (wherever they
sit in the model), ONNX Dropout in training mode, model files whose state dict
holds tensors torch cannot compute with (sparse, meta, quantized, complex,
half), points outside the box given to ``linear_region``, and numbers that must
print plainly in messages.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from pwlmodels.io import from_onnx, load_model, save_model
from pwlmodels.regions import linear_region, region_radius

W = np.array([[1.0, -2.0], [0.5, 3.0]])
B = np.array([0.25, -1.0])


# ------------------------------------------------------------------------- ONNX
def _external(name: str, location: str):
    """A float64 tensor of W's shape whose data lives in the file ``location``."""
    from onnx import TensorProto, helper

    t = helper.make_tensor(name, TensorProto.DOUBLE, W.shape, W.reshape(-1).tolist())
    t.ClearField("double_data")
    t.data_location = TensorProto.EXTERNAL
    t.external_data.add(key="location", value=location)
    return t


def _model(nodes, inits: dict, *, opset: int = 13, sparse=(), functions=()):
    """x (n, 2) -> nodes -> y (n, 2), float64."""
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["n", 2])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, ["n", 2])],
        initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()],
        sparse_initializer=list(sparse),
    )
    return helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset), helper.make_opsetid("local", 1)],
        functions=list(functions),
    )


def _gemm_relu(weight: str = "W", out: str = "y") -> list:
    from onnx import helper

    return [
        helper.make_node("Gemm", ["x", weight, "B"], ["h"], transB=1),
        helper.make_node("Relu", ["h"], [out]),
    ]


@pytest.fixture
def onnx_dir(tmp_path, monkeypatch):
    """tmp_path as the current directory, holding w.bin: what an external tensor would read."""
    pytest.importorskip("onnx")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "w.bin").write_bytes(W.astype("<f8").tobytes())
    return tmp_path


def _write(model, folder) -> object:
    path = folder / "m.onnx"
    path.write_bytes(model.SerializeToString())
    return path


def test_onnx_constant_node_with_external_data_is_refused_not_read(onnx_dir):
    from onnx import helper

    constant = helper.make_node("Constant", [], ["Wc"], name="c", value=_external("W", "w.bin"))
    path = _write(_model([constant, *_gemm_relu("Wc")], {"B": B}), onnx_dir)
    with pytest.raises(
        ValueError,
        match=r"must hold every tensor inside the file; got external data at 'w\.bin' for the "
        r"model > graph 'g' > node\[0\] 'c' > attribute\[0\] 'value' > t 'W'",
    ):
        from_onnx(path)


def test_onnx_external_data_in_a_subgraph_is_refused(onnx_dir):
    from onnx import TensorProto, helper

    inner = helper.make_graph(
        [helper.make_node("Constant", [], ["k"], value=_external("K", "w.bin"))],
        "branch",
        [],
        [helper.make_tensor_value_info("k", TensorProto.DOUBLE, [2, 2])],
    )
    branch = helper.make_node("If", ["x"], ["y"], name="if", then_branch=inner, else_branch=inner)
    path = _write(_model([branch], {}), onnx_dir)
    with pytest.raises(ValueError, match=r"'w\.bin' for the model > graph 'g' > node\[0\] 'if' > "):
        from_onnx(path)


def test_onnx_sparse_initializer_with_external_values_is_refused(onnx_dir):
    from onnx import helper, numpy_helper

    values = _external("S", "w.bin")
    indices = numpy_helper.from_array(np.arange(4, dtype=np.int64), "S_idx")
    sparse = helper.make_sparse_tensor(values, indices, [2, 2])
    path = _write(_model(_gemm_relu(), {"W": W, "B": B}, sparse=[sparse]), onnx_dir)
    with pytest.raises(
        ValueError, match=r"'w\.bin' for the model > graph 'g' > sparse_initializer"
    ):
        from_onnx(path)


def test_onnx_local_function_with_external_data_is_refused(onnx_dir):
    from onnx import helper

    body = [helper.make_node("Constant", [], ["k"], value=_external("K", "w.bin"))]
    func = helper.make_function("local", "konst", [], ["k"], body, [helper.make_opsetid("", 13)])
    path = _write(_model(_gemm_relu(), {"W": W, "B": B}, functions=[func]), onnx_dir)
    with pytest.raises(ValueError, match=r"'w\.bin' for the model > functions\[0\] 'konst'"):
        from_onnx(path)


def _dropout_model(*, opset: int, inputs: tuple = (), **attrs):
    from onnx import helper

    drop = helper.make_node("Dropout", ["r", *inputs], ["y"], name="drop", **attrs)
    consts = {"W": W, "B": B, "ratio": np.array(0.3), "on": np.array(True), "off": np.array(False)}
    return _model([*_gemm_relu(out="r"), drop], consts, opset=opset)


def test_onnx_dropout_with_training_mode_true_is_refused(onnx_dir):
    path = _write(_dropout_model(opset=13, inputs=("ratio", "on")), onnx_dir)
    with pytest.raises(
        ValueError,
        match=r"node 'drop' \(Dropout\) must be in inference mode, where it is the identity; "
        r"got training mode with ratio 0\.3",
    ):
        from_onnx(path)


def test_onnx_dropout_training_mode_with_the_default_ratio_is_refused(onnx_dir):
    path = _write(_dropout_model(opset=13, inputs=("", "on")), onnx_dir)
    with pytest.raises(ValueError, match=r"training mode with ratio 0\.5"):
        from_onnx(path)


def test_onnx_dropout_before_opset_7_without_is_test_is_refused(onnx_dir):
    path = _write(_dropout_model(opset=6), onnx_dir)  # is_test defaults to 0: training
    with pytest.raises(ValueError, match=r"\(Dropout\) must be in inference mode"):
        from_onnx(path)


@pytest.mark.parametrize(
    ("opset", "inputs", "attrs"),
    [(13, ("ratio", "off"), {}), (13, ("ratio",), {}), (6, (), {"is_test": 1})],
    ids=["training-mode-false", "no-training-mode", "opset6-is-test"],
)
def test_onnx_dropout_in_inference_mode_reads_as_the_identity(onnx_dir, opset, inputs, attrs):
    net = from_onnx(_write(_dropout_model(opset=opset, inputs=inputs, **attrs), onnx_dir))
    x = np.random.default_rng(0).normal(size=(16, 2))
    with torch.no_grad():
        y = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(y, np.maximum(x @ W.T + B, 0.0), rtol=1e-15, atol=0.0)


# ------------------------------------------------------------------- model files
def _payload(tmp_path) -> dict:
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)).double()
    return torch.load(save_model(net, tmp_path / "good.pt"), weights_only=True)


def _with_weight(tmp_path, make) -> object:
    data = _payload(tmp_path)
    with warnings.catch_warnings():  # torch's notes on beta sparse layouts and quantization
        warnings.simplefilter("ignore")
        data["state_dict"]["0.weight"] = make(data["state_dict"]["0.weight"])
    torch.save(data, tmp_path / "bad.pt")
    return tmp_path / "bad.pt"


def _refused_entry(path, got: str) -> None:
    with pytest.raises(
        ValueError,
        match=r"model file '.*bad\.pt': 'state_dict' entry '0\.weight' must be a dense \(strided\) "
        rf"float32 or float64 tensor; got {got}",
    ):
        load_model(path)


def test_load_model_refuses_a_sparse_coo_entry(tmp_path):
    _refused_entry(_with_weight(tmp_path, lambda t: t.to_sparse()), "a sparse_coo tensor")


def test_load_model_refuses_a_sparse_csr_entry(tmp_path):
    _refused_entry(_with_weight(tmp_path, lambda t: t.to_sparse_csr()), "a sparse_csr tensor")


def test_load_model_refuses_a_meta_entry(tmp_path):
    _refused_entry(_with_weight(tmp_path, lambda t: t.to("meta")), "a tensor on the meta device")


def test_load_model_refuses_a_complex_entry(tmp_path):
    _refused_entry(_with_weight(tmp_path, lambda t: t.to(torch.complex128)), "a complex128 tensor")


def test_load_model_refuses_a_quantized_entry(tmp_path):
    path = _with_weight(
        tmp_path, lambda t: torch.quantize_per_tensor(t.float(), 0.1, 0, torch.qint8)
    )
    _refused_entry(path, "a qint8 tensor")


def test_load_model_refuses_a_half_precision_entry(tmp_path):
    _refused_entry(_with_weight(tmp_path, lambda t: t.half()), "a float16 tensor")


def test_save_model_keeps_numpy_integer_layer_sizes(tmp_path):
    net = nn.Sequential(nn.Linear(np.int64(2), np.int64(3)), nn.ReLU()).double()
    again = load_model(save_model(net, tmp_path / "net.pt"))
    assert (again[0].in_features, again[0].out_features) == (2, 3)
    assert type(again[0].in_features) is int
    torch.testing.assert_close(again[0].weight, net[0].weight, rtol=0.0, atol=0.0)


# ------------------------------------------------------------------------ regions
def _eye_net() -> nn.Sequential:
    net = nn.Sequential(nn.Linear(2, 2, dtype=torch.float64), nn.ReLU())
    with torch.no_grad():
        net[0].weight.copy_(torch.eye(2))
        net[0].bias.zero_()
    return net


def test_linear_region_refuses_a_point_above_the_box():
    with pytest.raises(
        ValueError,
        match=r"^`x` must lie in the box `lower` <= x <= `upper`; got x\[1\] = 2\.0 > "
        r"upper\[1\] = 1\.0$",
    ):
        linear_region(_eye_net(), [0.5, 2.0], lower=-1.0, upper=1.0)


def test_linear_region_refuses_a_point_below_the_box():
    with pytest.raises(ValueError, match=r"got x\[0\] = -3\.0 < lower\[0\] = -1\.0$"):
        linear_region(_eye_net(), np.array([-3.0, 0.0]), lower=np.float64(-1.0))


def test_linear_region_accepts_a_point_on_the_box_and_contains_it():
    region = linear_region(_eye_net(), [1.0, -1.0], lower=[-1.0, -1.0], upper=[1.0, 1.0])
    assert region.contains([1.0, -1.0])
    np.testing.assert_allclose(region.vertices(), [[0, -1], [1, -1], [1, 0], [0, 0]], atol=0.0)


def test_messages_print_numpy_scalars_plainly():
    with pytest.raises(ValueError) as caught:
        region_radius(_eye_net(), np.zeros((1, 2)), norm=np.float64(3.0))
    assert str(caught.value).endswith("got 3.0") and "np." not in str(caught.value)
    with pytest.raises(ValueError) as caught:
        linear_region(_eye_net(), [0.0, 0.0], upper=np.array([1.0, np.float32(-0.5)]))
    assert "x[1] = 0.0 > upper[1] = -0.5" in str(caught.value) and "np." not in str(caught.value)


@pytest.mark.parametrize("writer", ["save_model", "to_onnx"])
def test_training_mode_dropout_is_refused_by_the_writers(tmp_path, writer):
    import pwlmodels.io as pio

    net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Dropout(0.5), torch.nn.Linear(3, 1))
    if writer == "to_onnx":
        pytest.importorskip("onnx")
    with pytest.raises(ValueError, match=r"training mode .*Dropout\(p=0.5\).*net.eval\(\)"):
        getattr(pio, writer)(net, tmp_path / "m.bin")
    assert not (tmp_path / "m.bin").exists()
    net.eval()
    getattr(pio, writer)(net, tmp_path / "m.bin")
    assert (tmp_path / "m.bin").exists()
