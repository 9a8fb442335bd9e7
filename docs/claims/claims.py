"""Experiments behind the diagnostics page: one function per common claim about ReLU.

Each takes a ``seed`` (replicates use ``seed, seed + 1, ...``), draws only
from local generators (the global random state is left alone), runs on the
CPU in float64, and returns a tidy pandas DataFrame. ``tests/test_claims.py``
asserts the measured figures; ``docs/gen_diagnostics.py`` writes them up.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from pwlmodels.diagnostics import (
    activation_sparsity,
    check_homogeneity,
    expected_activation,
    gradient_flow,
)
from pwlmodels.nets import make_mlp
from pwlmodels.regions import local_affine

__all__: list[str] = []

F64 = torch.float64
#: The first-layer "dead" initialisation of Lu et al. (2019): bias -2, small weights.
DEAD_BIAS, DEAD_WEIGHT = -2.0, 0.1


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _interval(n: int) -> torch.Tensor:
    return torch.linspace(-1.0, 1.0, n, dtype=F64)[:, None]


def _kill(layer: nn.Linear, units: slice | list, gen: torch.Generator) -> None:
    """Bias -2 and weights U(-0.1, 0.1): z <= -1.9 for |x| <= 1 (one input)."""
    with torch.no_grad():
        shape = layer.weight[units].shape
        w = torch.empty(shape, dtype=F64).uniform_(-DEAD_WEIGHT, DEAD_WEIGHT, generator=gen)
        layer.weight[units] = w
        layer.bias[units] = DEAD_BIAS


def _se(values: object) -> float:
    v = np.asarray(values, float)
    return float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else math.nan


# ---------------------------------------------------------------- analytic
def expected_activations(*, seed: int = 0, n: int = 400_000) -> pd.DataFrame:
    """E[ReLU(Z)] = 1/sqrt(2 pi), E[GELU(Z)] = 1/(2 sqrt(pi)) and their ratio sqrt(2).

    Quadrature (``expected_activation``) against the closed forms, and a
    Monte Carlo mean of ``n`` seeded normal draws with its standard error.
    """
    z = torch.randn(n, generator=_gen(seed), dtype=F64)
    rows = []
    closed = {"relu": 1 / math.sqrt(2 * math.pi), "gelu": 1 / (2 * math.sqrt(math.pi))}
    samples = {"relu": F.relu(z), "gelu": F.gelu(z)}
    for name, value in closed.items():
        s = samples[name]
        rows.append((f"E[{name}(Z)]", value, expected_activation(name), float(s.mean()), _se(s)))
    ratio_mc = float(samples["relu"].mean() / samples["gelu"].mean())
    rows.append(("ratio relu/gelu", math.sqrt(2), rows[0][2] / rows[1][2], ratio_mc, math.nan))
    df = pd.DataFrame(rows, columns=["quantity", "closed_form", "quadrature", "monte_carlo", "se"])
    df["abs_error"] = (df["quadrature"] - df["closed_form"]).abs()
    return df


def sigmoid_path_bound(
    *, seed: int = 0, depth: int = 10, width: int = 32, n: int = 512
) -> pd.DataFrame:
    """sigmoid' <= 1/4: along a path through ``depth`` sigmoid layers, the product <= 4^-depth.

    The largest product along any path is the product over layers of the
    largest derivative in that layer (a path picks one unit per layer); it is
    measured at ``n`` standard normal inputs of a default-initialised network.
    """
    grid = torch.linspace(-8, 8, 160_001, dtype=F64)
    s = torch.sigmoid(grid)
    max_derivative = float((s * (1 - s)).max())
    rows = []
    for act in ("sigmoid", "tanh", "relu"):
        net = make_mlp(8, (width,) * depth, 1, activation=act, dtype=F64, seed=seed)
        x = torch.randn(n, 8, generator=_gen(seed + 1), dtype=F64)
        prod = torch.ones(n, dtype=F64)
        h = x
        with torch.no_grad():
            for m in net:
                if isinstance(m, nn.Linear):
                    h = m(h)
                    continue
                z = h.clone().requires_grad_(True)
                with torch.enable_grad():
                    (d,) = torch.autograd.grad(m(z).sum(), z)  # elementwise derivative
                prod *= d.max(1).values
                h = m(h)
        bound = 0.25**depth if act == "sigmoid" else 1.0
        rows.append((act, depth, bound, float(prod.max()), float(prod.median()), max_derivative))
    cols = ["activation", "depth", "bound", "max_path_product", "median_path_product"]
    return pd.DataFrame(rows, columns=[*cols, "max_sigmoid_derivative"])


def _xavier(net: nn.Sequential, gen: torch.Generator) -> None:
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight, generator=gen)
                m.bias.zero_()


def gradient_norms(
    *, seed: int = 0, replicates: int = 5, depth: int = 10, width: int = 64, n: int = 256
) -> pd.DataFrame:
    """Per-layer gradient norms of deep sigmoid, tanh and ReLU networks at two initialisations.

    ``default``: torch's ``nn.Linear`` initialisation, U(+-1/sqrt(fan_in))
    (through ``make_mlp``); ``xavier``: ``xavier_uniform_`` weights (Glorot
    and Bengio 2010), zero biases. Inputs (n, 16) standard normal, targets
    standard normal, MSE at the initial weights.
    """
    frames = []
    for rep in range(replicates):
        s = seed + rep
        x = torch.randn(n, 16, generator=_gen(10_000 + s), dtype=F64)
        y = torch.randn(n, 1, generator=_gen(20_000 + s), dtype=F64)
        for act in ("sigmoid", "tanh", "relu"):
            for init in ("default", "xavier"):
                net = make_mlp(16, (width,) * depth, 1, activation=act, dtype=F64, seed=s)
                if init == "xavier":
                    _xavier(net, _gen(30_000 + s))
                flow = gradient_flow(net, x, y)
                flow.insert(0, "activation", act)
                flow.insert(1, "init", init)
                flow.insert(2, "seed", s)
                frames.append(flow)
    return pd.concat(frames, ignore_index=True)


def gradient_ratio(flow: pd.DataFrame) -> pd.DataFrame:
    """log10(first-layer / last-layer weight-gradient norm): mean and SE over seeds."""

    def per_seed(g: pd.DataFrame) -> float:
        g = g.sort_values("layer")["weight_grad_norm"].to_numpy()
        return float(np.log10(g[0] / g[-1]))

    logs = flow.groupby(["activation", "init", "seed"]).apply(per_seed, include_groups=False)
    out = logs.groupby(["activation", "init"]).agg(["mean", _se, "count"]).reset_index()
    return out.rename(columns={"mean": "log10_ratio", "_se": "se", "count": "replicates"})


def half_units_off(
    *, seed: int = 0, replicates: int = 20, depth: int = 3, width: int = 64, n: int = 512
) -> pd.DataFrame:
    """Fraction of (input, unit) pairs with z <= 0, per layer, at initialisation.

    Default-initialised ReLU networks (weights and biases symmetric about 0)
    on standard normal inputs; one row per replicate and layer.
    """
    rows = []
    for rep in range(replicates):
        net = make_mlp(8, (width,) * depth, 1, dtype=F64, seed=seed + rep)
        x = torch.randn(n, 8, generator=_gen(40_000 + seed + rep), dtype=F64)
        for _, r in activation_sparsity(net, x).iterrows():
            rows.append((seed + rep, int(r["layer"]), float(r["sparsity"])))
    return pd.DataFrame(rows, columns=["seed", "layer", "fraction_off"])


def homogeneity(*, seed: int = 0, scales: tuple = (0.5, 2.0, 3.0, 10.0)) -> pd.DataFrame:
    """check_homogeneity of depth-3 float64 networks, bias-free and with biases."""
    rows = []
    for act in ("relu", "leaky_relu", "prelu"):
        for bias in (False, True):
            net = make_mlp(4, (16, 16), 2, activation=act, dtype=F64, seed=seed)
            if not bias:
                for m in net[::2]:
                    m.bias = None
            for a in scales:
                rows.append((act, bias, a, check_homogeneity(net, a, seed=seed)))
    return pd.DataFrame(rows, columns=["activation", "bias", "a", "max_relative_deviation"])


def shared_mask(*, seed: int = 0, n: int = 256) -> pd.DataFrame:
    """The backward pass uses the forward mask (z = 0 included); a frozen mask gives local_affine.

    A 3-16-16-1 float64 network whose first unit is ``relu(x[0])``, at ``n``
    normal inputs, half with ``x[0] = 0`` exactly (ties).
    """
    net = make_mlp(3, (16, 16), 1, dtype=F64, seed=seed)
    with torch.no_grad():
        net[0].weight[0] = torch.tensor([1.0, 0.0, 0.0], dtype=F64)
        net[0].bias[0] = 0.0
    x = torch.randn(n, 3, generator=_gen(seed + 1), dtype=F64)
    x[: n // 2, 0] = 0.0
    zs: list[torch.Tensor] = []

    def keep(module: nn.Module, args: tuple) -> None:
        args[0].retain_grad()
        zs.append(args[0])

    handles = [m.register_forward_pre_hook(keep) for m in net if isinstance(m, nn.ReLU)]
    try:
        net(x).sum().backward()
    finally:
        for h in handles:
            h.remove()
    mismatches = ties = 0
    for z, act_out_grad in zip(zs, _downstream(net, x), strict=True):
        live = act_out_grad != 0  # where the unit's output matters at all
        mismatches += int(((z.grad == 0) != (z <= 0))[live].sum())
        ties += int((z == 0).sum())
    net.zero_grad(set_to_none=True)
    # frozen masks: the network with each unit's on/off fixed at x0, evaluated far from x0
    x0 = x[n // 2 : n // 2 + 8].detach()
    y = x0 + 3.0 * torch.randn(x0.shape, generator=_gen(seed + 2), dtype=F64)
    a_map, c_map = local_affine(net, x0)
    with torch.no_grad():
        frozen = torch.stack([_frozen(net, x0[i], y[i]) for i in range(len(x0))])
        affine = (a_map @ y[:, :, None])[:, :, 0] + c_map
        moved = (net(y) - affine).abs().max()
    rows = [
        ("grad_z == 0 differs from z <= 0 (units whose output matters)", float(mismatches)),
        ("exact ties z == 0 checked", float(ties)),
        ("max |frozen-mask net(y) - (A y + c)|", float((frozen - affine).abs().max())),
        ("max |net(y) - (A y + c)| (the mask not frozen)", float(moved)),
    ]
    return pd.DataFrame(rows, columns=["check", "value"])


def _downstream(net: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """d sum(net) / d (each ReLU's output)."""
    outs: list[torch.Tensor] = []

    def keep(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
        out.retain_grad()
        outs.append(out)

    handles = [m.register_forward_hook(keep) for m in net if isinstance(m, nn.ReLU)]
    try:
        net(x).sum().backward()
    finally:
        for h in handles:
            h.remove()
    return [o.grad for o in outs]


def _frozen(net: nn.Sequential, x0: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    h0, h = x0[None], y[None]
    for m in net:
        if isinstance(m, nn.ReLU):
            mask = (h0 > 0).to(F64)
            h0, h = m(h0), h * mask
        else:
            h0, h = m(h0), m(h)
    return h[0]


def inplace_relu(*, seed: int = 0, n: int = 128) -> pd.DataFrame:
    """``nn.ReLU(inplace=True)`` against ``nn.ReLU()``: values and gradients, where legal."""
    x = torch.randn(n, 4, generator=_gen(seed + 1), dtype=F64)
    rows = []
    for case in ("Linear -> ReLU", "Sigmoid -> ReLU", "leaf input -> ReLU"):
        outs = []
        for inplace in (False, True):
            net = make_mlp(4, (16, 16), 1, dtype=F64, seed=seed)
            for i, m in enumerate(net):
                if isinstance(m, nn.ReLU):
                    net[i] = nn.ReLU(inplace=inplace)
            if case == "Sigmoid -> ReLU":  # sigmoid's backward needs its output
                net.insert(1, nn.Sigmoid())
            xin = x.clone().requires_grad_(True)
            try:
                if case == "leaf input -> ReLU":  # in place on a leaf that requires grad
                    out = nn.ReLU(inplace=inplace)(xin)
                    grads = torch.autograd.grad(out.sum(), [xin])
                else:
                    out = net(xin)
                    grads = torch.autograd.grad(out.sum(), [xin, *net.parameters()])
                outs.append((out.detach(), grads, ""))
            except RuntimeError as exc:
                outs.append((None, None, str(exc).split("\n")[0][:90]))
        (v0, g0, _), (v1, g1, err) = outs
        legal = v1 is not None
        dv = float((v0 - v1).abs().max()) if legal else math.nan
        pairs = zip(g0, g1, strict=True) if legal else ()
        dg = max((float((a - b).abs().max()) for a, b in pairs), default=math.nan)
        rows.append((case, legal, dv, dg, err))
    return pd.DataFrame(rows, columns=["case", "legal", "max_value_diff", "max_grad_diff", "error"])
