"""Reading a torch Sequential as affine maps and piecewise-linear activations.

Shared by `relu_to_spline` (and later by regions and verification): the
network definition is kept apart from what is computed from it. Weights are
upcast exactly to float64; BatchNorm1d in eval mode is folded into an affine
map (one rounding per entry).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

__all__: list[str] = []

_SUPPORTED = (
    "Linear, ReLU, LeakyReLU, PReLU, Hardtanh, ReLU6, Identity, Flatten, Dropout "
    "and BatchNorm1d (eval mode), in nested nn.Sequential"
)
_SMOOTH = (
    nn.Tanh,
    nn.Sigmoid,
    nn.GELU,
    nn.SiLU,
    nn.Softplus,
    nn.ELU,
    nn.SELU,
    nn.CELU,
    nn.Mish,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.LogSigmoid,
    nn.Softsign,
    nn.Tanhshrink,
)


@dataclass(frozen=True)
class Affine:
    """z = x @ weight.T + bias, float64."""

    weight: np.ndarray  # (out, in)
    bias: np.ndarray  # (out,)


@dataclass(frozen=True)
class Activation:
    """An elementwise continuous PWL activation.

    sigma(z) = offset + slopes[0] * z + sum_j (slopes[j+1] - slopes[j]) relu(z - kinks[j]).
    ``slopes`` has shape (len(kinks) + 1, width or 1): the slope in each region.
    """

    name: str
    kinks: np.ndarray
    slopes: np.ndarray
    offset: float = 0.0

    def __call__(self, z: np.ndarray) -> np.ndarray:
        if self.name == "hardtanh":
            return np.clip(z, self.kinks[0], self.kinks[1])
        return np.where(z > 0, z, self.slopes[0] * z)  # relu, leaky, prelu


def _activation(module: nn.Module) -> Activation | None:
    if isinstance(module, nn.ReLU):
        return Activation("relu", np.array([0.0]), np.array([[0.0], [1.0]]))
    if isinstance(module, nn.LeakyReLU):
        a = float(module.negative_slope)
        return Activation("leaky_relu", np.array([0.0]), np.array([[a], [1.0]]))
    if isinstance(module, nn.PReLU):
        a = module.weight.detach().to("cpu", torch.float64).numpy()
        return Activation("prelu", np.array([0.0]), np.stack([a, np.ones_like(a)]))
    if isinstance(module, nn.Hardtanh):  # ReLU6 is a Hardtanh
        lo, hi = float(module.min_val), float(module.max_val)
        return Activation("hardtanh", np.array([lo, hi]), np.array([[0.0], [1.0], [0.0]]), lo)
    return None


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy()


def _flatten(net: nn.Module, name: str):
    for i, module in enumerate(net):
        where = f"{name}[{i}]"
        if isinstance(module, nn.Sequential):
            yield from _flatten(module, where)
        else:
            yield where, module


def parse_sequential(net: object, name: str = "net") -> list[Affine | Activation]:
    """The ops of ``net`` with consecutive affine maps composed."""
    if not isinstance(net, nn.Sequential):
        raise TypeError(
            f"`{name}` must be a torch.nn.Sequential of {_SUPPORTED}; got {type(net).__name__}"
        )
    ops: list[Affine | Activation] = []
    for where, m in _flatten(net, name):
        act = _activation(m)
        if act is not None:
            ops.append(act)
        elif isinstance(m, nn.Linear):
            b = _to_numpy(m.bias) if m.bias is not None else np.zeros(m.out_features)
            ops.append(Affine(_to_numpy(m.weight), b))
        elif isinstance(m, nn.BatchNorm1d):
            ops.append(_fold_batchnorm(m, where, name))
        elif isinstance(m, (nn.Dropout, nn.AlphaDropout)):
            if m.training and m.p > 0:
                raise ValueError(
                    f"`{name}` is in training mode and {where} is Dropout(p={m.p}), so its "
                    "function is random; call net.eval() first"
                )
        elif isinstance(m, nn.Flatten):
            if (m.start_dim, m.end_dim) != (1, -1):
                raise ValueError(
                    f"`{name}` has {where} = Flatten(start_dim={m.start_dim}, "
                    f"end_dim={m.end_dim}); only Flatten(start_dim=1, end_dim=-1) "
                    "is supported"
                )
        elif isinstance(m, nn.Identity):
            continue
        elif isinstance(m, _SMOOTH):
            raise TypeError(
                f"`{name}` contains {type(m).__name__} at {where}, a smooth activation, so it is "
                "not piecewise linear; approximate it with PiecewiseLinear.interpolate("
                "lambda x: evaluate(net, x), a, b, tol=...) instead"
            )
        else:
            raise TypeError(
                f"`{name}` contains {type(m).__name__} at {where}; supported: {_SUPPORTED}"
            )
        _check_finite_op(ops[-1] if ops else None, where, name)
    _check_sizes(ops, name)
    return _compose_affines(ops)


def _check_finite_op(op: object, where: str, name: str) -> None:
    arrays = []
    if isinstance(op, Affine):
        arrays = [op.weight, op.bias]
    elif isinstance(op, Activation):
        arrays = [op.kinks, op.slopes]
    if any(not np.isfinite(a).all() for a in arrays):
        raise ValueError(f"`{name}` must have finite parameters; got a NaN or inf in {where}")


def _check_sizes(ops: list, name: str) -> None:
    width = None
    for op in ops:
        if isinstance(op, Affine):
            n_out, n_in = op.weight.shape
            if width is not None and n_in != width:
                raise ValueError(
                    f"`{name}` has mismatched layer sizes: {width} outputs feed {n_in} inputs"
                )
            width = n_out
        elif op.slopes.shape[1] != 1:
            if width is not None and op.slopes.shape[1] != width:
                raise ValueError(
                    f"`{name}` has mismatched layer sizes: a {op.name} with "
                    f"{op.slopes.shape[1]} parameters follows {width} outputs"
                )
            width = op.slopes.shape[1]


def _fold_batchnorm(m: nn.BatchNorm1d, where: str, name: str) -> Affine:
    if m.training:
        raise ValueError(
            f"`{name}` is in training mode and {where} is BatchNorm1d (batch statistics); "
            "call net.eval() first"
        )
    if m.running_mean is None:
        raise ValueError(
            f"`{name}` cannot be folded: {where} is BatchNorm1d without running statistics"
        )
    mean, var = _to_numpy(m.running_mean), _to_numpy(m.running_var)
    scale = 1.0 / np.sqrt(var + m.eps)
    shift = -mean * scale
    if m.affine:
        gamma, beta = _to_numpy(m.weight), _to_numpy(m.bias)
        scale, shift = gamma * scale, gamma * shift + beta
    return Affine(np.diag(scale), shift)


def _compose_affines(ops: list) -> list:
    out: list = []
    for op in ops:
        if isinstance(op, Affine) and out and isinstance(out[-1], Affine):
            prev = out.pop()
            op = Affine(op.weight @ prev.weight, op.weight @ prev.bias + op.bias)
        out.append(op)
    return out


def input_features(ops: list) -> int | None:
    """Number of inputs of the first affine map (None when there is none)."""
    for op in ops:
        if isinstance(op, Affine):
            return op.weight.shape[1]
    return None


def output_features(ops: list) -> int | None:
    """Number of outputs of the last affine map (None when there is none)."""
    for op in reversed(ops):
        if isinstance(op, Affine):
            return op.weight.shape[0]
    return None
