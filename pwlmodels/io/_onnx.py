"""ONNX graphs of piecewise-linear networks, written and read (for ``pwlmodels.io``).

Writing: Gemm, Relu, LeakyRelu, PRelu and Clip at opset 13. Reading: a chain
of Gemm, MatMul (+ Add), Relu, LeakyRelu, PRelu, Clip, Identity, Dropout and
Flatten nodes from the graph's one input to its one output; every other
layout gets a ValueError naming the node. ``onnx`` is imported inside the
functions (the optional extra).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

__all__: list[str] = []

OPSET = 13
OPS = (
    "Gemm, MatMul (+ Add), Sub / Add / Mul / Div by constants, Relu, LeakyRelu, PRelu, Clip, "
    "Identity, Dropout, Flatten and Reshape to a vector"
)
_NP_TO_TORCH = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def write_model(layers: list[dict], state: dict, dtype: torch.dtype, n_in: int):
    """The ONNX ModelProto of a checked model payload (see ``pwlmodels.io.to_onnx``)."""
    from onnx import TensorProto, helper, numpy_helper

    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    elem = TensorProto.DOUBLE if dtype == torch.float64 else TensorProto.FLOAT
    nodes, inits, current, width = [], [], "x", n_in

    def const(name: str, array: object) -> str:
        if isinstance(array, torch.Tensor):
            array = array.numpy()
        inits.append(numpy_helper.from_array(np.array(array, dtype=np_dtype), name))
        return name

    for i, spec in enumerate(layers):
        kind, out = spec["kind"], "y" if i == len(layers) - 1 else f"h{i}"
        if kind == "linear":
            w = state[f"{i}.weight"].numpy()
            b = state[f"{i}.bias"].numpy() if spec["bias"] else np.zeros(w.shape[0])
            args = ("Gemm", [current, const(f"W{i}", w), const(f"B{i}", b)])
            attrs = {"alpha": 1.0, "beta": 1.0, "transA": 0, "transB": 1}  # OMLT reads all four
            width = spec["out_features"]
        elif kind == "relu":
            args, attrs = ("Relu", [current]), {}
        elif (
            kind == "leaky_relu"
            and float(np.float32(spec["negative_slope"])) == spec["negative_slope"]
        ):
            args, attrs = ("LeakyRelu", [current]), {"alpha": spec["negative_slope"]}
        elif kind in ("leaky_relu", "prelu"):  # a float32 attribute would round the slope
            slope = [spec["negative_slope"]] if kind == "leaky_relu" else state[f"{i}.weight"]
            args, attrs = ("PRelu", [current, const(f"slope{i}", slope)]), {}
        else:  # hardtanh
            lo, hi = const(f"min{i}", spec["min_val"]), const(f"max{i}", spec["max_val"])
            args, attrs = ("Clip", [current, lo, hi]), {}
        nodes.append(helper.make_node(*args, [out], name=f"{args[0].lower()}{i}", **attrs))
        current = out
    graph = helper.make_graph(
        nodes,
        "pwlmodels",
        [helper.make_tensor_value_info("x", elem, ["batch", n_in])],
        [helper.make_tensor_value_info("y", elem, ["batch", width])],
        initializer=inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="pwlmodels",
    )
    model.ir_version = 7  # the IR of opset 13: readable by older runtimes
    return model


def refuse_external_data(model, where: str) -> None:
    """A ValueError naming the first tensor anywhere in ``model`` that keeps its data elsewhere.

    Every TensorProto is visited (initializers, sparse initializers, Constant
    nodes and any other tensor attribute, subgraphs, local functions, training
    info), before anything reads one: ``numpy_helper.to_array`` would read an
    external tensor from a path relative to the current directory.
    """
    from google.protobuf.message import Message
    from onnx import TensorProto

    stack = [(model, "the model")]
    while stack:
        msg, path = stack.pop()
        if isinstance(msg, TensorProto) and (
            msg.data_location == TensorProto.EXTERNAL or len(msg.external_data)
        ):
            info = {e.key: e.value for e in msg.external_data}
            raise ValueError(
                f"{where} must hold every tensor inside the file; got external data at "
                f"{info.get('location', '?')[:200]!r} for {path}, which from_onnx never reads"
            )
        for field, value in reversed(msg.ListFields()):
            if field.message_type is None or field.message_type.GetOptions().map_entry:
                continue  # numbers, strings and string maps (metadata): no tensors
            single = isinstance(value, Message)
            for i, item in reversed(list(enumerate([value] if single else value))):
                name = getattr(item, "name", "")
                step = field.name if single else f"{field.name}[{i}]"
                stack.append((item, f"{path} > {step}" + (f" {name[:80]!r}" if name else "")))


def read_graph(graph, where: str, opset: int = OPSET) -> nn.Sequential:
    """The chain of supported nodes from the graph's input to its output.

    ``opset`` is the model's version of the default domain (it decides what a
    Dropout node without a training flag means). Call :func:`refuse_external_data`
    first.
    """
    from onnx import numpy_helper

    consts: dict[str, np.ndarray] = {}
    for t in graph.initializer:
        consts[t.name] = numpy_helper.to_array(t)
    inputs = [v for v in graph.input if v.name not in consts]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise ValueError(
            f"{where} must have one input and one output; got {len(inputs)} and {len(graph.output)}"
        )
    dims = [d.dim_value for d in inputs[0].type.tensor_type.shape.dim]
    n_in = math.prod(dims[1:]) if len(dims) >= 2 and all(d > 0 for d in dims[1:]) else None
    current, modules = inputs[0].name, []
    for node in graph.node:
        op = node.op_type
        if op == "Constant":
            consts[node.output[0]] = _constant(node, where)
            continue
        label = f"node {node.name or len(modules)!r} ({op})"
        names = list(node.input)
        if op == "Add" and len(names) == 2 and names[1] == current:  # bias + h
            names.reverse()
        if not names or names[0] != current or node.domain not in ("", "ai.onnx"):
            raise ValueError(
                f"{where}: {label} does not continue a chain from the input; from_onnx reads "
                f"chains of {OPS}"
            )
        extra = [consts[n] if n in consts else _missing(n, label, where) for n in names[1:] if n]
        attrs = _attributes(node)
        if op == "Dropout":  # inputs by position: an omitted optional one is ""
            _check_dropout(
                [consts[n] if n else None for n in names[1:]], attrs, opset, label, where
            )
        module = _node_module(op, extra, attrs, modules, label, where, n_in)
        if module is not None:
            modules.append(module)
        current = node.output[0]
    if current != graph.output[0].name:
        raise ValueError(f"{where}: the chain of nodes does not end at the graph's output")
    _check_widths(modules, n_in, graph.output[0], where)
    return nn.Sequential(*modules)


def _check_widths(modules: list, n_in: int | None, output, where: str) -> None:
    """A ValueError when the declared input or output width disagrees with the layers."""
    linears = [m for m in modules if isinstance(m, nn.Linear)]
    if not linears:
        return  # the network parser refuses a net without a Linear layer, by name
    if n_in is not None and linears[0].in_features != n_in:
        raise ValueError(
            f"{where} declares {n_in} input features, but its first layer takes "
            f"{linears[0].in_features}"
        )
    dims = [d.dim_value for d in output.type.tensor_type.shape.dim]
    n_out = math.prod(dims[1:]) if len(dims) >= 2 and all(d > 0 for d in dims[1:]) else None
    if n_out is not None and linears[-1].out_features != n_out:
        raise ValueError(
            f"{where} declares {n_out} output features, but its last layer gives "
            f"{linears[-1].out_features}"
        )


def _node_module(
    op: str, extra: list, attrs: dict, modules: list, label: str, where: str, n_in: int | None
):
    """The torch module of one node (None: no module; a bias folded into ``modules[-1]``)."""
    if op == "Gemm":
        if attrs.get("transA", 0) != 0 or len(extra) not in (1, 2):
            raise ValueError(f"{where}: {label} must have transA=0 and a constant B (and C)")
        w = extra[0] if attrs.get("transB", 0) else extra[0].T
        b = None
        if len(extra) == 2:  # beta C: rounded once, as the node rounds it
            beta = attrs.get("beta", 1.0)
            b = _vector(extra[1] * beta if beta != 1.0 else extra[1], w.shape[0], label, where)
        alpha = attrs.get("alpha", 1.0)
        if alpha == 1.0:
            return _linear(w, b, label, where)
        # alpha (A B) + beta C: alpha folds into B exactly only as a power of two (with no
        # overflow or underflow); otherwise it stays a layer of its own, rounded as the node
        scaled = w * np.asarray(alpha, dtype=w.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            exact = np.abs(np.frexp(alpha)[0]) == 0.5 and np.array_equal(scaled / alpha, w)
        if exact:
            return _linear(scaled, b, label, where)
        modules.append(_linear(w, None, label, where))
        n = w.shape[0]
        eye = np.eye(n, dtype=w.dtype) * np.asarray(alpha, dtype=w.dtype)
        return _linear(eye, np.zeros(n, w.dtype) if b is None else b, label, where)
    if op == "MatMul":
        if len(extra) != 1 or extra[0].ndim != 2:
            raise ValueError(f"{where}: {label} must multiply by a constant matrix")
        return _linear(extra[0].T, None, label, where)
    if op == "Add":
        last = modules[-1] if modules else None
        if isinstance(last, nn.Linear) and last.bias is None and len(extra) == 1:
            b = _vector(extra[0], last.out_features, label, where)
            modules[-1] = _linear(last.weight.detach().numpy(), b, label, where)
            return None
    if op in ("Sub", "Add", "Mul", "Div"):
        return _elementwise(op, extra, _width(modules, n_in), label, where)
    if op == "Relu":
        return nn.ReLU()
    if op == "LeakyRelu":
        return nn.LeakyReLU(float(attrs.get("alpha", 0.01)))
    if op == "PRelu":
        if len(extra) != 1 or extra[0].size == 0 or extra[0].dtype not in _NP_TO_TORCH:
            raise ValueError(f"{where}: {label} must have a constant float slope")
        slope = _vector(extra[0], extra[0].size, label, where)
        m = nn.PReLU(slope.size, dtype=_NP_TO_TORCH[slope.dtype])
        with torch.no_grad():
            m.weight.copy_(torch.from_numpy(slope))
        return m
    if op == "Clip":
        lo = extra[0] if len(extra) >= 1 else attrs.get("min")
        hi = extra[1] if len(extra) >= 2 else attrs.get("max")
        if lo is None or hi is None or np.size(lo) != 1 or np.size(hi) != 1:
            raise ValueError(f"{where}: {label} must have constant min and max (a Hardtanh)")
        lo, hi = float(np.reshape(lo, ())), float(np.reshape(hi, ()))
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"{where}: {label} must have finite min < max; got {lo}, {hi}")
        return nn.Hardtanh(lo, hi)
    if (op == "Flatten" and attrs.get("axis", 1) == 1) or op in ("Identity", "Dropout"):
        return None
    if op == "Reshape" and len(extra) == 1 and _to_vector(extra[0], _width(modules, n_in)):
        return None
    raise ValueError(f"{where}: {label} is not supported; from_onnx reads {OPS}")


def _width(modules: list, n_in: int | None) -> int | None:
    """The width after the modules read so far (before the first Linear: the input's
    declared features, None when the graph does not declare them)."""
    last = next((m for m in reversed(modules) if isinstance(m, nn.Linear)), None)
    return n_in if last is None else last.out_features


def _to_vector(shape: np.ndarray, width: int | None) -> bool:
    """Whether a Reshape target is (batch, features): ``[-1, width]`` or ``[0, -1 | width]``."""
    shape = np.asarray(shape).ravel()
    if shape.size != 2 or shape[0] not in (-1, 0):
        return False  # a batch of 1 only, or not a vector
    return shape[1] == width or (shape[0] == 0 and shape[1] == -1)


def _elementwise(op: str, extra: list, width: int | None, label: str, where: str):
    """``x - c``, ``x + c``, ``x * c`` or ``x / c`` by a constant, as an exact Linear layer.

    ``x + (-c)`` and ``x * c + 0`` round as ``x - c`` and ``x * c`` do, so the
    layer is the node's function bit for bit; ``x / c`` is one only when
    ``1 / c`` is exact (a power of two), and is refused otherwise (folding a
    rounded reciprocal into the weights would change the network).
    """
    if len(extra) != 1 or extra[0].dtype not in _NP_TO_TORCH or extra[0].size == 0:
        raise ValueError(
            f"{where}: {label} must combine the input with one non-empty float constant"
        )
    c = np.asarray(extra[0])
    if any(d != 1 for d in c.shape[:-1]):  # (5, 1) would broadcast to an outer operation
        raise ValueError(
            f"{where}: {label} has a constant of shape {c.shape}; one value, or one per "
            "feature along the last axis, is read"
        )
    c = c.ravel()
    if c.size > 1 and width is not None and c.size != width:
        raise ValueError(f"{where}: {label} has {c.size} values for {width} features")
    n = c.size if c.size > 1 else width
    if n is None:
        raise ValueError(
            f"{where}: {label} has a scalar constant before any layer fixes the width; give the "
            "constant one entry per input"
        )
    c = np.broadcast_to(c, (n,)).astype(c.dtype)
    if not np.isfinite(c).all():
        raise ValueError(f"{where}: {label} has a constant that is not finite")
    if op == "Div":
        with np.errstate(divide="ignore", over="ignore"):  # 1 / c: exact for powers of two
            inexact = (np.abs(np.frexp(c)[0]) != 0.5) | ~np.isfinite(1 / c)
        if inexact.any():
            bad = c[inexact][0]
            raise ValueError(
                f"{where}: {label} divides by {float(bad)!r}, whose reciprocal is not exact in "
                f"{c.dtype}: the division cannot be kept as an exact layer"
            )
        op, c = "Mul", (1 / c).astype(c.dtype)
    eye = np.eye(n, dtype=c.dtype)
    if op == "Mul":
        return _linear(eye * c, np.zeros(n, dtype=c.dtype), label, where)
    return _linear(eye, -c if op == "Sub" else c.copy(), label, where)


def _check_dropout(inputs: list, attrs: dict, opset: int, label: str, where: str) -> None:
    """A ValueError for a Dropout node in training mode (random) with a positive ratio.

    Opset 12 on: the optional third input ``training_mode`` (default false) and
    the second, ``ratio`` (default 0.5). Before opset 7: the attribute
    ``is_test`` (default 0, training). A ``training_mode`` attribute, which no
    opset defines, is honoured too.
    """
    if opset >= 12:
        ratio, flag = (*inputs, None, None)[:2]
        training = flag is not None and bool(np.any(flag))
        ratio = 0.5 if ratio is None or np.size(ratio) == 0 else float(np.max(ratio))
    else:
        training = opset < 7 and not attrs.get("is_test", 0)
        ratio = float(attrs.get("ratio", 0.5))
    training = training or bool(attrs.get("training_mode", 0))
    if training and ratio > 0:
        raise ValueError(
            f"{where}: {label} must be in inference mode, where it is the identity; got "
            f"training mode with ratio {ratio}, a random function"
        )


def _linear(w: np.ndarray, b: np.ndarray | None, label: str, where: str) -> nn.Linear:
    w = np.asarray(w)
    if w.ndim != 2 or w.size == 0 or w.dtype not in _NP_TO_TORCH:
        raise ValueError(f"{where}: {label} must have a float32 or float64 weight matrix")
    if b is not None and b.dtype != w.dtype:
        raise ValueError(f"{where}: {label} must have weight and bias of one dtype")
    dtype = _NP_TO_TORCH[w.dtype]
    m = nn.utils.skip_init(nn.Linear, w.shape[1], w.shape[0], bias=b is not None, dtype=dtype)
    with torch.no_grad():
        m.weight.copy_(torch.from_numpy(np.array(w)))
        if b is not None:
            m.bias.copy_(torch.from_numpy(b))
    return m


def _vector(a: np.ndarray, n: int, label: str, where: str) -> np.ndarray:
    """``a`` (size 1 or n, every axis but the last of length 1) as a writable vector of n entries.

    A constant of shape ``(n, 1)`` is refused: against a batch of rows it would
    broadcast along the batch axis, not the features.
    """
    a = np.asarray(a)
    if a.size not in (1, n) or any(d != 1 for d in a.shape[:-1]):
        raise ValueError(f"{where}: {label} has a constant of shape {a.shape}; expected ({n},)")
    return np.array(np.broadcast_to(a.reshape(-1), (n,)))


def _attributes(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _constant(node, where: str) -> np.ndarray:
    from onnx import numpy_helper

    attrs = {a.name: a for a in node.attribute}
    if "value" not in attrs:
        raise ValueError(f"{where}: Constant node {node.name!r} must hold a tensor 'value'")
    return numpy_helper.to_array(attrs["value"].t)


def _missing(name: str, label: str, where: str):
    raise ValueError(f"{where}: {label} takes {name!r}, which is not a constant of the file")


def require_onnx():
    try:
        import onnx
    except ImportError as exc:
        raise ImportError(
            "ONNX files need the optional onnx package: pip install 'pwlmodels[onnx]'"
        ) from exc
    return onnx
