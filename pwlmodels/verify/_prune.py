"""Pruning on a box: units provably inactive there, and the smaller network without them."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import _bounds as bd
from ._problem import make_problem, net_device

__all__ = ["dead_units_on_box", "prune"]


def dead_units_on_box(net: nn.Sequential, lower: object, upper: object) -> list:
    """Which units are provably inactive over the whole box.

    Parameters
    ----------
    net : torch.nn.Sequential
    lower, upper : array_like, shape (n_in,), or float

    Returns
    -------
    list of ndarray of bool, shape (width,)
        One per activation layer. ReLU / LeakyReLU / PReLU: the
        pre-activation's verified upper bound is <= 0 (the unit stays on its
        negative piece); Hardtanh: the unit stays saturated (constant).

    Examples
    --------
    >>> import torch
    >>> from pwlmodels.verify import dead_units_on_box
    >>> net = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.tensor([[1.0], [-1.0]])), net[0].bias.zero_()
    >>> [m.tolist() for m in dead_units_on_box(net, [0.5], [1.0])]
    [[False, True]]
    """
    prob = make_problem(net, lower, upper, objective=False)
    dead = _dead(prob.chain, bd.layer_bounds(prob.chain, *prob.box()))
    return [d for d, unit in zip(dead, prob.chain.acts, strict=True) if unit.name != "identity"]


def _dead(chain: bd.Chain, bounds: list) -> list:
    """Per activation layer, on the CPU: the unit stays on its negative piece (or saturated)."""
    out = []
    for unit, (lo, up) in zip(chain.acts, bounds, strict=True):
        if unit.kind == "hardtanh":
            dead = (up <= unit.lo) | (lo >= unit.hi)
        else:
            dead = up <= 0
        out.append(dead[0].to("cpu").numpy())
    return out


def _module(unit: bd.Unit, keep: np.ndarray, dtype) -> nn.Module:
    if unit.kind == "hardtanh":
        return nn.Hardtanh(unit.lo, unit.hi)
    if unit.name == "relu":
        return nn.ReLU()
    if unit.name == "identity":  # between two Linear layers of the net
        return nn.Identity()
    alpha = unit.alpha.to("cpu").numpy()[keep]
    if unit.name == "leaky_relu":
        return nn.LeakyReLU(float(alpha[0]))
    m = nn.PReLU(num_parameters=int(keep.sum()), dtype=dtype)
    with torch.no_grad():
        m.weight.copy_(torch.as_tensor(alpha))
    return m


def prune(net: nn.Sequential, lower: object, upper: object) -> nn.Sequential:
    """A smaller network equal to ``net`` on the box: provably inactive units removed.

    ReLU units (and LeakyReLU / PReLU units with slope 0) whose
    pre-activation is provably <= 0 on the box output 0 there and are removed;
    saturated Hardtanh units output a constant, folded into the next bias
    (one rounding per entry). At least one unit is kept per layer. The
    result has plain Linear and activation layers (an Identity between
    consecutive Linear layers, BatchNorm1d folded into an affine Linear),
    in the net's dtype and on its device.

    Parameters
    ----------
    net : torch.nn.Sequential
    lower, upper : array_like, shape (n_in,), or float

    Returns
    -------
    torch.nn.Sequential

    Examples
    --------
    >>> import numpy as np, torch
    >>> from pwlmodels.verify import prune
    >>> from pwlmodels import evaluate
    >>> gen = torch.Generator().manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Linear(1, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.randn(16, 1, generator=gen))
    ...     _ = net[0].bias.copy_(torch.randn(16, generator=gen))
    >>> small = prune(net, [0.5], [1.0])
    >>> small[0].out_features < 16
    True
    >>> x = np.linspace(0.5, 1.0, 101)
    >>> bool(np.allclose(evaluate(small, x), evaluate(net, x), rtol=1e-6, atol=1e-6))
    True
    """
    prob = make_problem(net, lower, upper, objective=False)
    chain = prob.chain
    bounds = bd.layer_bounds(chain, *prob.box())
    dead = _dead(chain, bounds)
    param = next(iter(net.parameters()), None)
    dtype = param.dtype if param is not None else torch.float64
    ws = [w.to("cpu").numpy().copy() for w in chain.weights]
    bs = [b.to("cpu").numpy().copy() for b in chain.biases]
    layers: list = []
    keep_prev = np.ones(chain.n_in, dtype=bool)
    for k, unit in enumerate(chain.acts):
        if unit.kind == "hardtanh":  # constant outputs: fold into the next bias
            lo_k = bounds[k][0][0].to("cpu").numpy()
            const = np.where(lo_k >= unit.hi, unit.hi, unit.lo)
            bs[k + 1] = bs[k + 1] + ws[k + 1][:, dead[k]] @ const[dead[k]]
            zero_out = dead[k]
        else:
            zero_out = dead[k] & (unit.alpha.to("cpu").numpy() == 0)
        keep = ~zero_out
        if not keep.any():
            keep[0] = True
            if unit.kind == "hardtanh":  # its constant is already in the next bias
                ws[k + 1][:, 0] = 0.0
        layers.append(_linear(ws[k][keep][:, keep_prev], bs[k][keep], dtype))
        layers.append(_module(unit, keep, dtype))
        keep_prev = keep
    layers.append(_linear(ws[-1][:, keep_prev], bs[-1], dtype))
    return nn.Sequential(*layers).to(net_device(net))


def _linear(w: np.ndarray, b: np.ndarray, dtype) -> nn.Linear:
    lin = nn.Linear(w.shape[1], w.shape[0], dtype=dtype)
    with torch.no_grad():
        lin.weight.copy_(torch.as_tensor(w))
        lin.bias.copy_(torch.as_tensor(b))
    return lin
