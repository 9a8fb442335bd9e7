"""Reading a torch Sequential as affine maps and piecewise-linear activations.

Shared by `relu_to_spline`, regions, verification and the files of
``pwlmodels.io``: the network definition is kept apart from what is computed
from it. Weights are upcast exactly to float64 and Linear layers are kept as
they are: consecutive ones are not multiplied together, since a product
rounded in float64 can cancel to another function (weights [1, 1e20, -1e20]
after three ones compose to 0, not 1). BatchNorm1d in eval mode becomes the
affine map ``z * s + t`` with ``r = 1 / sqrt(var + eps)``, ``s = gamma * r``
and ``t = gamma * (-mean * r) + beta``, each operation rounded in float64 in
that order; that map, not torch's kernel, is what is read.

Only networks whose function is the one their layers define are read: a
module whose class overrides ``forward`` (or how it is called) of the torch
class it derives from, a forward hook or pre-hook, Dropout or BatchNorm1d in
training mode, and parameters that are not dense real floating tensors are
refused, since the ops read here would describe another function.
"""

from __future__ import annotations

from collections.abc import Callable
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


# The torch classes read here, most derived first: a module's class must use the forward
# (and the call machinery) of the first of them in its MRO.
_PARENTS = (
    nn.Sequential,
    nn.ReLU6,
    nn.Hardtanh,
    nn.ReLU,
    nn.LeakyReLU,
    nn.PReLU,
    nn.Linear,
    nn.BatchNorm1d,
    nn.Identity,
    nn.Flatten,
    nn.Dropout,
    nn.AlphaDropout,
)
_CALL = ("forward", "__call__", "_call_impl", "_wrapped_call_impl")
_CALL_SEQUENTIAL = (*_CALL, "__iter__", "__len__", "__getitem__")  # Sequential.forward iterates


@dataclass(frozen=True)
class Kind:
    """A piecewise-linear activation read here: its name, torch class and kinks."""

    name: str
    module: type[nn.Module]
    read: Callable[[nn.Module], Activation]


def _prelu(m: nn.Module) -> Activation:
    a = m.weight.detach().to("cpu", torch.float64).numpy()
    return Activation("prelu", np.array([0.0]), np.stack([a, np.ones_like(a)]))


def _hardtanh(m: nn.Module) -> Activation:
    lo, hi = float(m.min_val), float(m.max_val)
    return Activation("hardtanh", np.array([lo, hi]), np.array([[0.0], [1.0], [0.0]]), lo)


#: The one registry of activations: conversion, regions, verification, files, diagnostics
#: and ``make_mlp`` all read it (ReLU6 is a Hardtanh).
REGISTRY = (
    Kind("relu", nn.ReLU, lambda m: Activation("relu", np.array([0.0]), np.array([[0.0], [1.0]]))),
    Kind(
        "leaky_relu",
        nn.LeakyReLU,
        lambda m: Activation(
            "leaky_relu", np.array([0.0]), np.array([[float(m.negative_slope)], [1.0]])
        ),
    ),
    Kind("prelu", nn.PReLU, _prelu),
    Kind("hardtanh", nn.Hardtanh, _hardtanh),
)
ACTIVATIONS = tuple(kind.module for kind in REGISTRY)
#: Layers that leave the function as it is (Dropout in eval mode).
PASS_THROUGH = (nn.Identity, nn.Flatten, nn.Dropout, nn.AlphaDropout)
#: Every layer :func:`parse_sequential` reads.
LAYERS = (nn.Linear, nn.BatchNorm1d, *ACTIVATIONS, *PASS_THROUGH)


def _activation(module: nn.Module) -> Activation | None:
    kind = next((k for k in REGISTRY if isinstance(module, k.module)), None)
    return None if kind is None else kind.read(module)


def is_piecewise_linear(net: object) -> bool:
    """Whether ``net`` is an ``nn.Sequential`` whose layers :func:`parse_sequential` reads.

    False too for layers it refuses to read as their parent class (a subclass
    with its own ``forward``, a hook).
    """
    if not isinstance(net, nn.Sequential):
        return False
    try:
        return all(isinstance(m, LAYERS) for _, m in leaves(net))
    except (TypeError, ValueError):
        return False


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy()


def leaves(net: nn.Sequential, name: str = "net"):
    """``(where, module)`` for the layers of ``net``, nested Sequentials flattened, each checked.

    Every module met, the containers included, is checked by :func:`check_exact`, and global
    forward hooks are refused, so whatever is read from the layers is the network's function.
    """
    _check_global_hooks(name)
    yield from _walk(net, name, name)


def _walk(net: nn.Sequential, where: str, name: str):
    check_exact(net, where, name)
    for i, module in enumerate(net._modules.values()):
        here = f"{where}[{i}]"
        if not isinstance(module, nn.Module):
            raise TypeError(
                f"`{name}` must hold torch modules; got {here} = {type(module).__name__}"
            )
        if isinstance(module, nn.Sequential):
            yield from _walk(module, here, name)
        else:
            check_exact(module, here, name)
            yield here, module


def _check_global_hooks(name: str) -> None:
    from torch.nn.modules import module as torch_module

    for kind, register in (
        ("forward pre-hook", "register_module_forward_pre_hook"),
        ("forward hook", "register_module_forward_hook"),
    ):
        hooks = getattr(torch_module, f"_global_{kind.replace(' ', '_').replace('-', '_')}s", None)
        if hooks:
            raise TypeError(
                f"`{name}` must run without global forward hooks, which can change every "
                f"layer's output; got {len(hooks)} global {kind}(s) registered with "
                f"torch.nn.modules.module.{register} (remove them through their handles)"
            )


def check_exact(m: nn.Module, where: str, name: str = "net") -> None:
    """Refuse a module whose output is not the one its class's layers define.

    Parameters
    ----------
    m : torch.nn.Module
    where : str
        Its path in the network (``"net[1][0]"``), named in the message.
    name : str, default "net"
        The argument's name.

    Raises
    ------
    TypeError
        The class overrides ``forward`` (or ``__call__``, or iteration for a
        Sequential) of the supported torch class it derives from, the
        instance carries its own ``forward``, the module has a forward hook
        or forward pre-hook, or a parameter or buffer is not a dense
        (strided) real tensor off the meta device.
    ValueError
        A lazy module whose parameters are not initialized yet.
    """
    cls = type(m).__name__
    _check_tensors(m, where, name)
    for kind, hooks in (
        ("forward pre-hook", m._forward_pre_hooks),
        ("forward hook", m._forward_hooks),
    ):
        if hooks:
            raise TypeError(
                f"`{name}` must have no forward hooks, which can change a layer's output; got "
                f"{len(hooks)} {kind}(s) on {where} = {cls} (remove them through their handles)"
            )
    own = sorted(set(vars(m)) & {"forward", "_call_impl", "_wrapped_call_impl"})
    if own:
        raise TypeError(
            f"`{name}` must use its layers' own forward; got {where} = {cls} with an instance "
            f"attribute {own[0]!r} that replaces it"
        )
    parent = next((p for p in type(m).__mro__ if p in _PARENTS), None)
    if parent is None or parent is type(m):
        return  # a torch class (refused later when unsupported), or not a subclass
    names = _CALL_SEQUENTIAL if parent is nn.Sequential else _CALL
    changed = [a for a in names if getattr(type(m), a, None) is not getattr(parent, a, None)]
    if changed:
        raise TypeError(
            f"`{name}` must consist of torch's own layers, whose function pwlmodels reads exactly; "
            f"got {where} = {cls}, a subclass of nn.{parent.__name__} that overrides "
            f"{changed[0]}, so its function may differ from its layers'. Supported: "
            f"{_SUPPORTED}, without their forward overridden; rewrite {cls} as a plain "
            "nn.Sequential of these layers"
        )


def _check_tensors(m: nn.Module, where: str, name: str) -> None:
    params = [(k, t, True) for k, t in m.named_parameters(recurse=False)]
    buffers = [(k, t, False) for k, t in m.named_buffers(recurse=False)]
    for key, t, is_param in (*params, *buffers):
        if isinstance(t, nn.parameter.UninitializedTensorMixin):
            raise ValueError(
                f"`{name}` must have initialized parameters; got {where} = {type(m).__name__} "
                f"with {key} uninitialized (run the lazy module once first)"
            )
        problem = None
        if t.layout != torch.strided:
            problem = f"a {str(t.layout).replace('torch.', '')} tensor"
        elif t.is_meta:
            problem = "a tensor on the meta device, which holds no values"
        elif t.is_quantized or t.is_complex() or (is_param and not t.is_floating_point()):
            problem = f"a {str(t.dtype).replace('torch.', '')} tensor"
        if problem is not None:
            raise TypeError(
                f"`{name}` must have dense (strided) real floating parameters and buffers; got "
                f"{where}.{key} = {problem}"
            )


def parse_sequential(net: object, name: str = "net") -> tuple[Affine | Activation, ...]:
    """The ops of ``net``: affine maps and activations, in order (affines not composed).

    Immutable: a tuple of frozen ops whose arrays are read-only, so one parse
    can be shared by every step of a computation.
    """
    if not isinstance(net, nn.Sequential):
        raise TypeError(
            f"`{name}` must be a torch.nn.Sequential of {_SUPPORTED}; got {type(net).__name__}"
        )
    ops: list[Affine | Activation] = []
    for where, m in leaves(net, name):
        act = _activation(m)
        if act is not None:
            ops.append(act)
        elif isinstance(m, nn.Linear):
            b = _to_numpy(m.bias) if m.bias is not None else np.zeros(m.out_features)
            ops.append(Affine(_to_numpy(m.weight), b))
        elif isinstance(m, nn.BatchNorm1d):
            ops.append(_fold_batchnorm(m, where, name))
        elif isinstance(m, (nn.Dropout, nn.AlphaDropout)):
            check_dropout(m, where, name)
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
    for op in ops:
        for arr in vars(op).values():
            if isinstance(arr, np.ndarray):
                arr.setflags(write=False)
    return tuple(ops)


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


def check_dropout(m: nn.Module, where: str, name: str) -> None:
    """Refuse a Dropout in training mode with p > 0: its function is random."""
    if m.training and m.p > 0:
        raise ValueError(
            f"`{name}` is in training mode and {where} is Dropout(p={m.p}), so its "
            "function is random; call net.eval() first"
        )


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


def reference_tensor(net: nn.Module) -> torch.Tensor:
    """A floating tensor of the net (its dtype and device), float64 CPU when it has none."""
    ref = next((t for t in (*net.parameters(), *net.buffers()) if t.is_floating_point()), None)
    return torch.empty(0, dtype=torch.float64) if ref is None else ref


def pattern_code(hardtanh: bool, z, lo: float = 0.0, hi: float = 0.0):
    """The pattern of pre-activations z (numpy or torch, int64), with torch's ties."""
    return (z >= hi) * 1 - (z <= lo) * 1 if hardtanh else (z > 0) * 1


def unit_code(module: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """:func:`pattern_code` of pre-activations ``z`` of one activation module (Hardtanh: kinks)."""
    hard = isinstance(module, nn.Hardtanh)
    return pattern_code(hard, z, *((module.min_val, module.max_val) if hard else ()))
