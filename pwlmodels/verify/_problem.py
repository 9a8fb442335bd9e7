"""A network, a box and a linear objective, checked and normalised for verification (private)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import torch
from torch import nn

from .._validate import as_finite_1d, as_real_scalar
from ..network._parse import input_features, output_features, parse_sequential
from . import _bounds as bd

__all__: list[str] = []

_LARGEST = 1e300  # the largest interval bound verification works with


@dataclass(frozen=True)
class Problem:
    chain: bd.Chain
    c: torch.Tensor
    net: nn.Module
    state64: dict  # the net's parameters and buffers, float64 on the CPU
    lower: np.ndarray
    upper: np.ndarray
    output: int | None
    sign: float = 1.0
    ops: tuple = ()  # the net as parse_sequential read it (the chain is built from these)

    def negated(self) -> Problem:
        return replace(self, c=-self.c, sign=-self.sign)

    @cached_property
    def net64(self) -> nn.Module:
        """A float64 CPU copy of the net (made when first asked for: a deep copy is slow)."""
        return copy.deepcopy(self.net).to(device="cpu", dtype=torch.float64)

    def value(self, x: np.ndarray) -> float:
        """Float64 forward pass of the original layers at one point."""
        with torch.no_grad():  # the net's own forward, run on float64 copies of its tensors
            xt = torch.as_tensor(x[None, :], dtype=torch.float64)
            y = torch.func.functional_call(self.net, self.state64, (xt,))[0]
        if self.output is not None:
            return self.sign * float(y[self.output])
        return float(y @ self.c.to("cpu"))

    def value_lower(self, x: np.ndarray) -> float:
        """A lower bound, sound in real arithmetic, of the objective at the point ``x``."""
        xt = torch.as_tensor(x, dtype=torch.float64, device=self.c.device).reshape(1, -1)
        return -float(bd.objective_upper(self.chain, -self.c, xt, xt)[0][0])

    def box(self) -> tuple:
        """``lower`` and ``upper`` as float64 tensors of shape (1, n_in) on the chain's device."""
        dev = self.c.device
        tl = torch.as_tensor(self.lower, dtype=torch.float64, device=dev)[None]
        tu = torch.as_tensor(self.upper, dtype=torch.float64, device=dev)[None]
        return tl, tu


def net_device(net: nn.Module) -> torch.device:
    param = next(iter(net.parameters()), None)
    return param.device if param is not None else torch.device("cpu")


def as_box(x: object, name: str, n_in: int) -> np.ndarray:
    arr = np.asarray(x, dtype=object)
    if arr.ndim == 0:
        return np.full(n_in, as_real_scalar(x, name))
    out = np.array(as_finite_1d(x, name))  # a writable copy: torch shares its memory
    if out.size != n_in:
        raise ValueError(f"`{name}` must have {n_in} entries (the net's inputs); got {out.size}")
    return out


def make_problem(net, lower, upper, output=None, c=None, *, objective=True, ops=None) -> Problem:
    """The checked problem; ``ops``: ``net`` already parsed (not parsed again)."""
    ops = parse_sequential(net) if ops is None else ops
    n_in, n_out = input_features(ops), output_features(ops)
    if n_in is None:
        raise TypeError("`net` must contain at least one Linear layer")
    lo, up = as_box(lower, "lower", n_in), as_box(upper, "upper", n_in)
    if (lo > up).any():
        i = int(np.argmax(lo > up))
        raise ValueError(
            f"`lower` must not exceed `upper`; got lower[{i}] = {float(lo[i])} > "
            f"upper[{i}] = {float(up[i])}"
        )
    with np.errstate(over="ignore"):
        wide = ~(np.isfinite(up - lo) & np.isfinite(up + lo))
    if wide.any():
        i = int(np.argmax(wide))
        raise ValueError(
            f"the box overflows float64: `lower` and `upper` must have a finite width and "
            f"midpoint; got lower[{i}] = {float(lo[i])}, upper[{i}] = {float(up[i])}"
        )
    vec = np.ones(1)
    if objective:
        vec, output = _objective(n_out, output, c)
    device = net_device(net)
    chain = bd.make_chain(ops, n_in, device)
    _check_bounds_finite(chain, lo, up)
    state = {**dict(net.named_parameters()), **dict(net.named_buffers())}
    state64 = {  # as Module.to(float64) converts: the floating tensors only
        k: v.detach().to(device="cpu", dtype=torch.float64 if v.is_floating_point() else v.dtype)
        for k, v in state.items()
    }
    cvec = torch.as_tensor(vec, dtype=torch.float64, device=device)
    return Problem(chain, cvec, net, state64, lo, up, output, ops=ops)


def _check_bounds_finite(chain: bd.Chain, lo: np.ndarray, up: np.ndarray) -> None:
    """Refuse a net and box whose interval bounds overflow float64 (no bound could be sound)."""
    tl = torch.as_tensor(lo, dtype=torch.float64, device=chain.weights[0].device)[None]
    tu = torch.as_tensor(up, dtype=torch.float64, device=chain.weights[0].device)[None]
    for k in range(len(chain.weights)):
        tl, tu = bd.interval(chain, k, tl, tu)
        # Within 1e300, widths (tu - tl) and the relaxations' products stay finite too.
        if not bool((tl.abs() <= _LARGEST).all() and (tu.abs() <= _LARGEST).all()):
            raise ValueError(
                f"the network's values over the box overflow float64 (interval bounds of "
                f"affine layer {k} exceed 1e300 in magnitude): shrink the box (`lower`, "
                "`upper`) or rescale the weights of `net`"
            )
        if k < len(chain.acts):
            tl, tu = bd.act_interval(chain.acts[k], tl, tu)


def _objective(n_out: int, output, c) -> tuple:
    if output is not None and c is not None:
        raise ValueError("give `output` or `c`, not both")
    if output is not None:
        if isinstance(output, bool) or not isinstance(output, (int, np.integer)):
            raise TypeError(f"`output` must be an integer; got {type(output).__name__}")
        if not 0 <= output < n_out:
            raise ValueError(f"`output` must be in [0, {n_out}); got {output}")
        return np.eye(n_out)[int(output)], int(output)
    if c is not None:
        vec = as_finite_1d(c, "c")
        if vec.size != n_out:
            raise ValueError(f"`c` must have {n_out} entries (the net's outputs); got {vec.size}")
        return vec, None
    if n_out != 1:
        raise ValueError(
            f"`net` has {n_out} outputs; choose one with `output=` or a linear objective with `c=`"
        )
    return np.ones(1), 0
