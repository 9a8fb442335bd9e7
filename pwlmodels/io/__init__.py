"""Lossless files for splines and networks (JSON, a validated state dict, ONNX), and
VNN-LIB property files.

Three formats for models, none of which executes code when read:

- **Splines** (:func:`save_spline`, :func:`load_spline`): JSON with the
  format tag ``"pwlmodels.spline/1"``, the knots, the values at the knots
  and the two end slopes. Floats are written as Python's ``repr`` writes
  them: the shortest decimal (at most 17 significant digits) that reads back
  to the same float64, so a round trip is bit for bit, negative zero and
  subnormals included.
- **Networks** (:func:`save_model`, :func:`load_model`): a dict
  ``{"format": "pwlmodels.mlp/1", "layers": [...], "state_dict": {...}}`` of
  primitives and CPU tensors, written with :func:`torch.save` and read with
  ``torch.load(..., weights_only=True)``, then validated (known layer kinds,
  consistent shapes, one float dtype, finite parameters) before a
  :class:`torch.nn.Sequential` is built from it.
- **ONNX** (:func:`to_onnx`, :func:`from_onnx`, the optional ``onnx`` extra):
  ``Gemm``, ``Relu``, ``LeakyRelu``, ``PRelu`` and ``Clip`` (for Hardtanh)
  nodes at opset 13, which OMLT (``omlt.io.load_onnx_neural_network``, for
  Linear + ReLU networks) and VNN-COMP tools read. :func:`from_onnx` also
  reads the competition's files (ACAS Xu): ``Sub`` / ``Add`` / ``Mul`` /
  ``Div`` by constants around the input kept as exact affine layers (a
  division only by a power of two, whose reciprocal is exact), ``MatMul`` +
  ``Add``, ``Flatten`` or ``Reshape`` to a vector, and initializers listed
  among the graph's inputs.

Supported layers: ``Linear`` (with or without bias), ``ReLU``,
``LeakyReLU``, ``PReLU``, ``Hardtanh`` and ``ReLU6`` (stored as
``Hardtanh(0, 6)``), in nested ``nn.Sequential``; ``Identity`` and
``Dropout`` in eval mode are dropped (Dropout in training mode is random:
refused).
Every file is written atomically (a temporary file, then a rename): a failed
write leaves no partial file. A malformed, truncated or foreign file raises a
``ValueError`` that names the file and the problem.

**Properties** (:func:`load_vnnlib`): the VNN-LIB subset of VNN-COMP's
benchmarks, read into a :class:`VnnlibSpec` (input boxes, each with its
unsafe outputs as a disjunction of ``A y <= b``); see
:mod:`pwlmodels.io._vnnlib` for the subset and how constants are rounded.
"""

from ._io import (
    from_onnx,
    load_model,
    load_spline,
    save_model,
    save_spline,
    to_onnx,
)
from ._vnnlib import VnnlibCase, VnnlibSpec, load_vnnlib

__all__ = [
    "VnnlibCase",
    "VnnlibSpec",
    "from_onnx",
    "load_model",
    "load_spline",
    "load_vnnlib",
    "save_model",
    "save_spline",
    "to_onnx",
]
