"""The readers and writers of :mod:`pwlmodels.io` (documented there)."""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .._files import atomic_open
from .._validate import is_real
from ..network._parse import check_dropout, leaves, parse_sequential
from ..spline import PiecewiseLinear
from . import _onnx

__all__ = ["from_onnx", "load_model", "load_spline", "save_model", "save_spline", "to_onnx"]

SPLINE_FORMAT = "pwlmodels.spline/1"
MODEL_FORMAT = "pwlmodels.mlp/1"
_KINDS = ("linear", "relu", "leaky_relu", "prelu", "hardtanh")
_DTYPES = (torch.float32, torch.float64)
# _network._SUPPORTED less Flatten and BatchNorm1d, which save_model refuses: a file holds layers
# that load back bit for bit, and folding BatchNorm1d into a Linear rounds, while dropping a
# Flatten would change the network on inputs of more than two dimensions.
_SUPPORTED = (
    "Linear, ReLU, LeakyReLU, PReLU, Hardtanh, ReLU6, Identity and Dropout, in nested nn.Sequential"
)


# ------------------------------------------------------------------ splines
def save_spline(f: PiecewiseLinear, path: str | os.PathLike) -> Path:
    """Write a spline as lossless JSON (atomically).

    Parameters
    ----------
    f : PiecewiseLinear
    path : str or path-like
        Its folder must exist; an existing file is replaced.

    Returns
    -------
    Path
        ``path``.

    See Also
    --------
    load_spline : reads it back, bit for bit.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from pwlmodels import PiecewiseLinear
    >>> from pwlmodels.io import load_spline, save_spline
    >>> f = PiecewiseLinear([0.0, 0.1, 3.0], [0.0, 2.0, 1.0 / 3.0], right_slope=-0.0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_spline(f, pathlib.Path(tmp) / "f.json")
    ...     text = path.read_text()
    ...     g = load_spline(path)
    >>> print(text)
    {
      "format": "pwlmodels.spline/1",
      "knots": [0.0, 0.1, 3.0],
      "values": [0.0, 2.0, 0.3333333333333333],
      "left_slope": 20.0,
      "right_slope": -0.0
    }
    >>> g == f and str(g.right_slope) == "-0.0"
    True
    """
    if not isinstance(f, PiecewiseLinear):
        hint = " (a PWLFit: pass fit.spline)" if hasattr(f, "spline") else ""
        raise TypeError(f"`f` must be a PiecewiseLinear{hint}; got {type(f).__name__}")
    path = _as_path(path)

    def numbers(a: np.ndarray) -> str:
        return "[" + ", ".join(repr(float(v)) for v in a) + "]"

    text = (
        "{\n"
        f'  "format": "{SPLINE_FORMAT}",\n'
        f'  "knots": {numbers(f.knots)},\n'
        f'  "values": {numbers(f.values)},\n'
        f'  "left_slope": {float(f.left_slope)!r},\n'
        f'  "right_slope": {float(f.right_slope)!r}\n'
        "}\n"
    )
    with atomic_open(path) as fh:
        fh.write(text.encode("ascii"))
    return path


def load_spline(path: str | os.PathLike) -> PiecewiseLinear:
    """Read a spline written by :func:`save_spline`.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    PiecewiseLinear
        Equal, bit for bit, to the spline that was saved.

    Raises
    ------
    ValueError
        The file is not JSON, lacks the ``"pwlmodels.spline/1"`` tag or a
        field, or holds data that is not a valid spline (non-finite or
        non-numeric entries, knots not strictly increasing, ...).
    OSError
        The file cannot be read.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from pwlmodels import PiecewiseLinear
    >>> from pwlmodels.io import load_spline
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "line.json"
    ...     _ = path.write_text('{"format": "pwlmodels.spline/1", "knots": [1], '
    ...                         '"values": [2], "left_slope": 0.5, "right_slope": 0.5}')
    ...     f = load_spline(path)
    >>> float(f(3.0))
    3.0
    """
    path = _as_path(path)
    raw = path.read_bytes()
    where = f"spline file {str(path)!r}"
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ValueError(f"{where} is not valid JSON: {_first_line(exc)}") from None
    if not isinstance(data, dict) or data.get("format") != SPLINE_FORMAT:
        raise ValueError(_format_problem(where, data, SPLINE_FORMAT))
    fields = ("knots", "values", "left_slope", "right_slope")
    missing = [k for k in fields if k not in data]
    if missing:
        raise ValueError(f"{where} lacks the field(s) {', '.join(map(repr, missing))}")
    for key in ("knots", "values"):
        if not isinstance(data[key], list) or not all(is_real(v) for v in data[key]):
            raise ValueError(f"{where}: {key!r} must be a list of numbers")
    for key in ("left_slope", "right_slope"):
        if not is_real(data[key]):
            raise ValueError(f"{where}: {key!r} must be a number; got {data[key]!r}")
    try:
        return PiecewiseLinear(
            [float(v) for v in data["knots"]],
            [float(v) for v in data["values"]],
            left_slope=float(data["left_slope"]),
            right_slope=float(data["right_slope"]),
        )
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{where} holds an invalid spline: {exc}") from None


# ------------------------------------------------------------------- models
def save_model(net: nn.Sequential, path: str | os.PathLike) -> Path:
    """Write a piecewise-linear network as a validated dict of tensors (atomically).

    The file is ``torch.save({"format": "pwlmodels.mlp/1", "layers": [...],
    "state_dict": {...}})``: ``layers`` describes each layer with primitives
    (``{"kind": "linear", "in_features": 1, "out_features": 3, "bias":
    True}``, ``{"kind": "leaky_relu", "negative_slope": 0.01}``,
    ``{"kind": "hardtanh", "min_val": -1.0, "max_val": 1.0}``, ...) and
    ``state_dict`` holds the parameters as CPU tensors under ``"<i>.weight"``
    and ``"<i>.bias"``, ``i`` the layer's index in ``layers``.

    Parameters
    ----------
    net : torch.nn.Sequential
        Linear, ReLU, LeakyReLU, PReLU, Hardtanh / ReLU6 layers (nested
        Sequentials are flattened; Identity and eval-mode Dropout dropped;
        training-mode Dropout refused), float32 or float64, finite, on any
        device. A TypeError for a layer whose class overrides ``forward`` of
        the torch class it derives from, and for forward hooks.
    path : str or path-like
        Its folder must exist; an existing file is replaced.

    Returns
    -------
    Path
        ``path``.

    See Also
    --------
    load_model : reads it back with ``torch.load(..., weights_only=True)``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import torch
    >>> from pwlmodels import PiecewiseLinear, spline_to_relu
    >>> from pwlmodels.io import load_model, save_model
    >>> net = spline_to_relu(PiecewiseLinear([0.0, 1.0, 3.0], [0.0, 2.0, 1.0]))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_model(net, pathlib.Path(tmp) / "net.pt")
    ...     again = load_model(path)
    >>> all(torch.equal(p, q) for p, q in zip(net.parameters(), again.parameters()))
    True
    """
    payload = _checked_payload(net)
    path = _as_path(path)
    with atomic_open(path) as fh:
        torch.save(payload, fh)
    return path


def _checked_payload(net: object) -> dict:
    """The model payload of ``net``, checked as :func:`load_model` checks a file's."""
    payload = _describe(net)
    _build(payload, "`net`")  # never write a file that load_model would refuse
    return payload


def load_model(path: str | os.PathLike) -> nn.Sequential:
    """Read a network written by :func:`save_model`, without executing code from the file.

    The file is read with ``torch.load(path, weights_only=True,
    map_location="cpu")`` and checked before anything is built from it: the
    format tag, the layer kinds and their primitives, that the state dict
    has exactly the expected tensors with the expected shapes, one float
    dtype (float32 or float64), finite values, and that consecutive layer
    sizes agree.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    torch.nn.Sequential
        On the CPU, in the file's dtype, in eval mode; the same parameters
        bit for bit.

    Raises
    ------
    ValueError
        The file is not a pwlmodels model (another format, a bare state
        dict, truncated, a pickle that would run code) or fails a check
        (a state dict entry that is sparse, on the meta device, quantized,
        complex or not float32 / float64 is named); the message names the
        file and the problem.
    OSError
        The file cannot be read.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import torch
    >>> from pwlmodels.io import load_model, save_model
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Hardtanh(), torch.nn.Linear(4, 1))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_model(net, pathlib.Path(tmp) / "net.pt")
    ...     again = load_model(path)
    >>> [type(m).__name__ for m in again]
    ['Linear', 'Hardtanh', 'Linear']
    >>> x = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
    >>> torch.equal(net(x), again(x))
    True
    """
    path = _as_path(path)
    where = f"model file {str(path)!r}"
    with path.open("rb") as fh:  # a missing file or a folder: the usual OSError
        try:
            with warnings.catch_warnings():  # torch's notes on a foreign pickle: we raise below
                warnings.simplefilter("ignore")
                data = torch.load(fh, weights_only=True, map_location="cpu")
        except Exception as exc:
            raise ValueError(
                f"{where} is not a model written by pwlmodels.io.save_model "
                f"(torch.load(weights_only=True) refused it: {_torch_reason(exc)})"
            ) from None
    return _build(data, where)


def _describe(net: object) -> dict:
    """The model payload of ``net`` (layer primitives and CPU tensors), not yet checked."""
    if not isinstance(net, nn.Sequential):
        raise TypeError(
            f"`net` must be a torch.nn.Sequential of {_SUPPORTED}; got {type(net).__name__}"
        )
    layers: list[dict] = []
    state: dict[str, torch.Tensor] = {}

    def keep(key: str, t: torch.Tensor) -> None:
        state[f"{len(layers)}.{key}"] = t.detach().to("cpu", copy=True)

    # leaves() refuses what no file can hold exactly (subclasses that override forward,
    # hooks, sparse or meta tensors, training-mode Dropout); Dropout in eval mode is dropped,
    # and _build then runs parse_sequential on what was kept.
    for where, m in leaves(net, "net"):
        if isinstance(m, nn.Linear):
            keep("weight", m.weight)
            if m.bias is not None:
                keep("bias", m.bias)
            layer = {  # int(): nn.Linear(np.int64(2), 3) keeps the numpy integer
                "kind": "linear",
                "in_features": int(m.in_features),
                "out_features": int(m.out_features),
                "bias": m.bias is not None,
            }
        elif isinstance(m, nn.PReLU):
            keep("weight", m.weight)
            layer = {"kind": "prelu", "num_parameters": int(m.num_parameters)}
        elif isinstance(m, nn.LeakyReLU):
            layer = {"kind": "leaky_relu", "negative_slope": float(m.negative_slope)}
        elif isinstance(m, nn.ReLU):
            layer = {"kind": "relu"}
        elif isinstance(m, nn.Hardtanh):  # ReLU6 too
            layer = {"kind": "hardtanh", "min_val": float(m.min_val), "max_val": float(m.max_val)}
        elif isinstance(m, nn.Identity):
            continue
        elif isinstance(m, nn.Dropout):
            check_dropout(m, where, "net")
            continue
        else:
            raise TypeError(
                f"`net` contains {type(m).__name__} at {where}; a model file holds {_SUPPORTED}"
            )
        layers.append(layer)
    return {"format": MODEL_FORMAT, "layers": layers, "state_dict": state}


def _build(data: object, where: str) -> nn.Sequential:
    """Check a model payload and build its network (ValueError naming ``where``)."""
    if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
        raise ValueError(_format_problem(where, data, MODEL_FORMAT))
    layers, state = data.get("layers"), data.get("state_dict")
    if not isinstance(layers, list) or not layers:
        raise ValueError(f"{where}: 'layers' must be a non-empty list; got {_kind_of(layers)}")
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise ValueError(f"{where}: 'state_dict' must map names to tensors")
    for key, t in state.items():
        _check_stored_tensor(t, key, where)
    makers, shapes = [], {}  # modules are made only once the tensors match them
    for i, spec in enumerate(layers):
        make, expected = _layer(spec, f"{where}: layers[{i}]")
        makers.append(make)
        shapes.update({f"{i}.{k}": s for k, s in expected.items()})
    if set(state) != set(shapes):
        extra, lacking = sorted(set(state) - set(shapes)), sorted(set(shapes) - set(state))
        raise ValueError(
            f"{where}: 'state_dict' does not match 'layers'"
            + (f"; missing {', '.join(lacking)}" if lacking else "")
            + (f"; unexpected {', '.join(extra)}" if extra else "")
        )
    dtypes = {t.dtype for t in state.values()}
    if not dtypes <= set(_DTYPES) or len(dtypes) > 1:
        raise ValueError(
            f"{where}: the parameters must share one dtype, float32 or float64; got "
            + ", ".join(sorted(str(d).replace("torch.", "") for d in dtypes))
        )
    dtype = dtypes.pop() if dtypes else torch.float64
    for key, shape in shapes.items():
        t = state[key]
        if tuple(t.shape) != shape:
            raise ValueError(
                f"{where}: {key} must have shape {shape} to match 'layers'; got {tuple(t.shape)}"
            )
        if not torch.isfinite(t).all():
            raise ValueError(f"{where}: {key} must be finite; it holds NaN or inf")
    net = nn.Sequential(*(make(dtype) for make in makers))
    with torch.no_grad():
        net.load_state_dict(state, strict=True)
    try:
        parse_sequential(net, "net")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None
    return net.eval()


def _check_stored_tensor(t: torch.Tensor, key: str, where: str) -> None:
    """A ValueError naming ``key`` unless ``t`` is a dense real float32 / float64 CPU tensor.

    Run before any arithmetic on ``t``: torch answers sparse, meta, quantized or
    complex tensors with NotImplementedError or RuntimeError instead.
    """
    problem = None
    if t.layout != torch.strided:
        problem = f"a {str(t.layout).replace('torch.', '')} tensor"
    elif t.is_meta or t.device.type != "cpu":
        problem = f"a tensor on the {t.device.type} device, which holds no values here"
    elif t.dtype not in _DTYPES:
        problem = f"a {str(t.dtype).replace('torch.', '')} tensor"
    if problem is not None:
        raise ValueError(
            f"{where}: 'state_dict' entry {key[:80]!r} must be a dense (strided) float32 or "
            f"float64 tensor; got {problem}"
        )


def _layer(spec: object, where: str) -> tuple[Callable, dict[str, tuple]]:
    """A maker of the module (given the dtype) and the shapes of its parameters."""
    if not isinstance(spec, dict) or spec.get("kind") not in _KINDS:
        got = spec.get("kind") if isinstance(spec, dict) else spec
        raise ValueError(
            f"{where} must be a layer of kind {', '.join(_KINDS)}; got {str(got)[:80]!r}"
        )
    kind = spec["kind"]
    if kind == "relu":
        return lambda dtype: nn.ReLU(), {}
    if kind == "leaky_relu":
        slope = _float(spec, "negative_slope", where)
        return lambda dtype: nn.LeakyReLU(slope), {}
    if kind == "hardtanh":
        lo, hi = _float(spec, "min_val", where), _float(spec, "max_val", where)
        if not lo < hi:
            raise ValueError(f"{where}: min_val must be < max_val; got {lo!r} >= {hi!r}")
        return lambda dtype: nn.Hardtanh(lo, hi), {}
    if kind == "prelu":
        n = _int(spec, "num_parameters", where)
        return lambda dtype: nn.PReLU(n, dtype=dtype), {"weight": (n,)}
    n_in, n_out = _int(spec, "in_features", where), _int(spec, "out_features", where)
    bias = spec.get("bias")
    if not isinstance(bias, bool):
        raise ValueError(f"{where}: 'bias' must be true or false; got {bias!r}")
    shapes = {"weight": (n_out, n_in)}
    if bias:
        shapes["bias"] = (n_out,)
    return lambda dtype: nn.utils.skip_init(  # no draw from the global RNG
        nn.Linear, n_in, n_out, bias=bias, dtype=dtype
    ), shapes


def _float(spec: dict, key: str, where: str) -> float:
    v = spec.get(key)
    try:
        f = float(v) if is_real(v) else math.nan
    except OverflowError:  # an int beyond float64
        f = math.inf
    if not math.isfinite(f):
        raise ValueError(f"{where}: {key!r} must be a finite number; got {str(v)[:40]}")
    return f


def _int(spec: dict, key: str, where: str) -> int:
    v = spec.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 2**31:
        shown = v.item() if isinstance(v, np.generic) else v  # 3, not np.int64(3)
        raise ValueError(f"{where}: {key!r} must be a positive integer; got {str(shown)[:40]}")
    return v


# --------------------------------------------------------------------- ONNX
def to_onnx(net: nn.Sequential, path: str | os.PathLike) -> Path:
    """Write a piecewise-linear network as an ONNX model (atomically; needs ``onnx``).

    Each ``Linear`` becomes a ``Gemm`` (``transB=1``; a zero bias when the
    layer has none, as OMLT requires a bias), ``ReLU`` a ``Relu``,
    ``LeakyReLU`` a ``LeakyRelu`` (a ``PRelu`` with one slope when the
    slope is not a float32 number, since ONNX attributes are float32),
    ``PReLU`` a ``PRelu``, ``Hardtanh`` / ``ReLU6`` a ``Clip``; opset 13, the
    network's dtype (float32 or float64), input ``"x"`` of shape ``("batch",
    n_in)`` and output ``"y"``. :func:`from_onnx` reads the same parameters
    back bit for bit; OMLT's ``load_onnx_neural_network`` reads Linear + ReLU
    networks.

    Parameters
    ----------
    net : torch.nn.Sequential
        As in :func:`save_model`.
    path : str or path-like
        Its folder must exist; an existing file is replaced.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import pytest, torch
    >>> _ = pytest.importorskip("onnx")  # the optional onnx extra
    >>> from pwlmodels import PiecewiseLinear, spline_to_relu
    >>> from pwlmodels.io import from_onnx, to_onnx
    >>> net = spline_to_relu(PiecewiseLinear([0.0, 1.0, 3.0], [0.0, 2.0, 1.0]))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     again = from_onnx(to_onnx(net, pathlib.Path(tmp) / "net.onnx"))
    ...     x = torch.linspace(-1.0, 4.0, 11, dtype=torch.float64)[:, None]
    ...     torch.equal(net(x), again(x))
    True
    """
    onnx = _onnx.require_onnx()

    payload = _checked_payload(net)
    layers, state = payload["layers"], payload["state_dict"]
    path = _as_path(path)
    n_in = next((s["in_features"] for s in layers if s["kind"] == "linear"), None)
    if n_in is None:
        raise ValueError("`net` must contain a Linear layer, which fixes its number of inputs")
    model = _onnx.write_model(layers, state, next(iter(state.values())).dtype, n_in)
    onnx.checker.check_model(model)
    with atomic_open(path) as fh:
        fh.write(model.SerializeToString())
    return path


def from_onnx(path: str | os.PathLike) -> nn.Sequential:
    """Read an ONNX model of a piecewise-linear network into a torch Sequential (needs ``onnx``).

    The graph must be a chain from its one input to its one output of
    ``Gemm`` (``transA=0``), ``MatMul`` (followed by an optional ``Add`` of
    a bias), ``Relu``, ``LeakyRelu``, ``PRelu``, ``Clip`` (both bounds),
    ``Identity``, ``Dropout`` (in inference mode) and ``Flatten`` nodes,
    with every tensor stored in the file: external data is refused wherever
    it appears (initializers, Constant nodes, subgraphs, functions) before
    any tensor is read. Files written by :func:`to_onnx` and by
    ``torch.onnx.export`` of such networks qualify.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    torch.nn.Sequential
        On the CPU, in the model's dtype (float32 or float64), in eval mode.

    Raises
    ------
    ValueError
        The file is not a valid ONNX model, keeps a tensor in an external
        file, or uses an operator, layout or training-mode Dropout outside
        the list above (the message names the node or tensor).
    ImportError
        ``onnx`` is not installed (``pip install pwlmodels[onnx]``).

    Examples
    --------
    See :func:`to_onnx`.
    """
    onnx = _onnx.require_onnx()

    path = _as_path(path)
    where = f"ONNX file {str(path)!r}"
    raw = path.read_bytes()
    try:
        model = onnx.load_model_from_string(raw)
    except Exception as exc:
        raise ValueError(f"{where} is not a valid ONNX model: {_first_line(exc)}") from None
    _onnx.refuse_external_data(model, where)  # before anything reads a tensor
    try:
        onnx.checker.check_model(model)
    except Exception as exc:
        raise ValueError(f"{where} is not a valid ONNX model: {_first_line(exc)}") from None
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    try:
        net = _onnx.read_graph(model.graph, where, opset)
    except ValueError:
        raise
    except Exception as exc:  # shapes or types the checks above did not foresee
        raise ValueError(f"{where} holds a malformed network: {_first_line(exc)}") from None
    if len(net) == 0:  # only Identity, Dropout or Flatten nodes: the identity, no payload layer
        return net.eval()
    return _build(_describe(net), where)  # the checks of load_model, on a fresh copy


# ------------------------------------------------------------------ helpers
def _as_path(path: object) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a str or path-like; got {type(path).__name__}")
    return Path(path)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a finite number")


def _first_line(exc: object) -> str:
    lines = [s.strip() for s in str(exc).splitlines() if s.strip()]
    return lines[0][:200] if lines else type(exc).__name__


def _torch_reason(exc: BaseException) -> str:
    text = str(exc)
    found = re.search(r"Unsupported global: GLOBAL (\S+)", text)
    if found:  # a whole pickled module, or a crafted pickle
        return (
            f"it pickles the Python object {found[1]}, and loading it could run code; if you "
            "trust the file, load it with torch.load(path, weights_only=False) and write it "
            "again with pwlmodels.io.save_model"
        )
    marker = "WeightsUnpickler error:"
    if marker in text:
        text = text.split(marker, 1)[1]
    return _first_line(text if text.strip() else exc)


def _kind_of(obj: object) -> str:
    return type(obj).__name__


def _format_problem(where: str, data: object, expected: str) -> str:
    if isinstance(data, dict) and "format" in data:
        return f"{where} has format {str(data['format'])[:80]!r}; this version reads {expected!r}"
    if isinstance(data, dict) and data and all(isinstance(v, torch.Tensor) for v in data.values()):
        return (
            f"{where} is a bare state dict, not a {expected!r} file: build the network and "
            "call load_state_dict, or write the file with pwlmodels.io.save_model"
        )
    return f"{where} is not a {expected!r} file: it holds a {_kind_of(data)} without that tag"
