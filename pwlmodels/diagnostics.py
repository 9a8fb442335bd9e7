"""Diagnostics for ReLU networks: dead units, sparsity, gradient flow, and the known fixes.

Tools a practitioner runs on a torch network and its data. "Active" means on
the identity piece of the activation, with torch's ties: a ReLU, LeakyReLU or
PReLU unit is active where its pre-activation ``z > 0`` (``z = 0`` is off, as
``relu'(0) = 0`` in torch's backward pass); a Hardtanh / ReLU6 unit where
``min_val < z < max_val`` (torch passes the gradient only strictly between).
A ReLU unit that is never active on the data gets an exactly zero gradient
for its incoming weights and bias (Lu et al. 2019, "Dying ReLU and
initialization"); :func:`dead_units` finds such units on data and
:func:`dead_units_on_box` proves them inactive over a whole box, from the
verification bounds (Zhang et al. 2018, CROWN). :class:`BiasWarming` is one
of the fixes measured on the page that ``docs/gen_diagnostics.py`` writes.

Every function leaves the network's parameters, gradients, mode and the
global random state as they were.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from torch import nn

from ._validate import as_real_scalar, check_choice, check_int, check_module
from .nets import ACTIVATIONS, LOSSES
from .network._parse import ACTIVATIONS as PIECEWISE
from .network._parse import reference_tensor, unit_code
from .network._torch import as_data
from .verify._verify import dead_units_on_box

__all__ = [
    "BiasWarming",
    "activation_sparsity",
    "check_homogeneity",
    "dead_units",
    "dead_units_on_box",
    "expected_activation",
    "gradient_flow",
]

_PWL = PIECEWISE  # ReLU6 is a Hardtanh
_RELU_LIKE = (nn.ReLU, nn.LeakyReLU, nn.PReLU)
_HOMOGENEOUS = (*_RELU_LIKE, nn.Linear, nn.Identity, nn.Flatten, nn.Dropout, nn.Sequential)
_SCHEDULES = ("linear", "cosine")
_PWL_NAMES = "ReLU, LeakyReLU, PReLU, Hardtanh or ReLU6"
_MAX_POINTS = 10**6  # check_homogeneity's sample
_MAX_MOMENT = 16  # expected_activation: s**moment stays finite where the tails matter


def _data(net: nn.Module, value: object, name: str) -> torch.Tensor:
    """``value`` as (N, k) in the net's dtype and device; k checked against the first Linear."""
    data = as_data(value, name, reference_tensor(net))
    first = next((m for m in net.modules() if isinstance(m, nn.Linear)), None)
    if name == "x" and first is not None and data.shape[1] != first.in_features:
        raise ValueError(
            f"`x` must have shape (N, {first.in_features}) for this net; got {tuple(data.shape)}"
        )
    return data


def _activations(net: nn.Module, kinds: tuple = _PWL, names: str = _PWL_NAMES) -> list:
    found = [(name, m) for name, m in net.named_modules() if isinstance(m, kinds)]
    if not found:
        raise ValueError(f"`net` must contain {names} modules; got none in {type(net).__name__}")
    return found


def _active(module: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """On the identity piece: pattern code 1 (ReLU-like), 0 (Hardtanh, strictly between kinks)."""
    return unit_code(module, z) == (0 if isinstance(module, nn.Hardtanh) else 1)


def _masks(net: nn.Module, x: object) -> list[tuple[str, torch.Tensor]]:
    """(module name, active mask (N, units)) per activation call, from one forward pass."""
    check_module(net)
    acts = _activations(net)
    xt = _data(net, x, "x")
    out: list[tuple[str, torch.Tensor]] = []

    def hook(name: str) -> Callable:
        def record(module: nn.Module, args: tuple) -> None:
            z = args[0]  # read before an in-place activation overwrites it
            out.append((name, _active(module, z).reshape(z.shape[0], -1).cpu()))

        return record

    # prepended: the net's own pre-activations, before other hooks (BiasWarming's) shift them
    handles = [m.register_forward_pre_hook(hook(name), prepend=True) for name, m in acts]
    try:
        with torch.no_grad():
            net(xt)
    finally:
        for h in handles:
            h.remove()
    return out


def dead_units(net: nn.Module, x: object) -> pd.DataFrame:
    """Per activation layer and unit: the fraction of inputs on which it is active, and dead.

    Parameters
    ----------
    net : torch.nn.Module
        Any module holding ReLU, LeakyReLU, PReLU, Hardtanh or ReLU6 modules
        (hooks read their inputs, the pre-activations, before any other
        forward pre-hook such as :class:`BiasWarming`'s shifts them), run as
        it is (its train/eval mode is kept) under ``torch.no_grad``.
    x : array_like or torch.Tensor, shape (N,) or (N, n_in)
        Converted to the dtype and device of the net's parameters.

    Returns
    -------
    pandas.DataFrame
        One row per unit: ``layer`` (0, 1, ... in the order the activations
        run), ``module`` (its name in ``net.named_modules()``), ``unit``,
        ``active_fraction_on_data`` and ``dead`` (never active on ``x``: a
        dead ReLU unit of the first layer gets a zero gradient for its
        weights and bias on every batch drawn from ``x``).

    See Also
    --------
    dead_units_on_box : units provably inactive over a whole box.

    Examples
    --------
    >>> import torch
    >>> from pwlmodels.diagnostics import dead_units
    >>> net = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    >>> with torch.no_grad():
    ...     _ = net[0].weight.fill_(1.0), net[0].bias.copy_(torch.tensor([0.0, -5.0]))
    >>> table = dead_units(net, torch.linspace(-1, 1, 5))
    >>> table["active_fraction_on_data"].tolist(), table["dead"].tolist()
    ([0.4, 0.0], [False, True])
    """
    masks = _masks(net, x)
    fracs = [mask.double().mean(0).numpy() for _, mask in masks]
    sizes = [f.size for f in fracs]
    frac = np.concatenate(fracs) if fracs else np.empty(0)
    table = {
        "layer": np.repeat(np.arange(len(masks)), sizes),
        "module": np.repeat(np.array([name for name, _ in masks], dtype=object), sizes),
        "unit": np.concatenate([np.arange(k) for k in sizes]) if sizes else np.empty(0, int),
        "active_fraction_on_data": frac,
        "dead": frac == 0,  # never active on x (N >= 1)
    }
    return pd.DataFrame(table)


def activation_sparsity(net: nn.Module, x: object) -> pd.DataFrame:
    """Per activation layer: how sparse the activations are on data.

    Parameters
    ----------
    net : torch.nn.Module
        As in :func:`dead_units`.
    x : array_like or torch.Tensor, shape (N,) or (N, n_in)

    Returns
    -------
    pandas.DataFrame
        One row per activation layer: ``layer``, ``module``, ``units``,
        ``sparsity`` (the fraction of (input, unit) pairs that are inactive:
        for ReLU, the fraction of exact zeros), ``mean_active_units`` (per
        input) and ``dead_fraction`` (units never active on ``x``).

    Examples
    --------
    >>> import torch
    >>> from pwlmodels.diagnostics import activation_sparsity
    >>> net = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.tensor([[1.0], [-1.0]])), net[0].bias.zero_()
    >>> row = activation_sparsity(net, torch.tensor([-1.0, -0.5, 0.5, 1.0])).iloc[0]
    >>> float(row["sparsity"]), float(row["mean_active_units"]), float(row["dead_fraction"])
    (0.5, 1.0, 0.0)
    """
    rows = []
    for layer, (name, mask) in enumerate(_masks(net, x)):
        m = mask.double()
        dead = float((~mask.any(0)).double().mean())
        sparsity, per_input = 1.0 - float(m.mean()), float(m.sum(1).mean())
        rows.append((layer, name, mask.shape[1], sparsity, per_input, dead))
    cols = ["layer", "module", "units", "sparsity", "mean_active_units", "dead_fraction"]
    return pd.DataFrame(rows, columns=cols)


def gradient_flow(net: nn.Module, x: object, y: object, *, loss: str = "mse") -> pd.DataFrame:
    """Per Linear layer: the norms of the loss gradient, at the current weights.

    Computed with ``torch.autograd.grad``, so the parameters' ``.grad`` are
    left untouched.

    Parameters
    ----------
    net : torch.nn.Module
        Holding at least one ``nn.Linear``; run as it is (mode kept).
    x : array_like or torch.Tensor, shape (N,) or (N, n_in)
    y : array_like or torch.Tensor, shape (N,) or (N, n_out)
        Converted to the net's dtype and device; (N,) stands for (N, 1).
    loss : {"mse", "mae", "huber"}, default "mse"
        Mean over all entries, as in :func:`pwlmodels.nets.train`.

    Returns
    -------
    pandas.DataFrame
        One row per Linear layer, from the input: ``layer``, ``module``,
        ``weight_grad_norm`` and ``bias_grad_norm`` (Frobenius norms; NaN
        without a bias), ``weight_norm``, and ``output_grad_norm``, the norm
        of the gradient with respect to the layer's output (its
        pre-activations) over the batch, the signal backpropagation carries.

    Examples
    --------
    >>> import torch
    >>> from pwlmodels.diagnostics import gradient_flow
    >>> from pwlmodels.nets import make_mlp
    >>> net = make_mlp(2, (16, 16), 1, activation="sigmoid", dtype=torch.float64)
    >>> x = torch.randn(64, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> flow = gradient_flow(net, x, x.sum(1))
    >>> flow["layer"].tolist(), net[0].weight.grad is None
    ([0, 1, 2], True)
    >>> bool(flow["weight_grad_norm"].iloc[0] < flow["weight_grad_norm"].iloc[-1])
    True
    """
    check_module(net)
    check_choice(loss, "loss", tuple(LOSSES))
    linears = [(name, m) for name, m in net.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"`net` must contain nn.Linear layers; got none in {type(net).__name__}")
    xt, yt = _data(net, x, "x"), _data(net, y, "y")
    if xt.shape[0] != yt.shape[0]:
        raise ValueError(
            f"`x` and `y` must have the same number of rows; got {xt.shape[0]} and {yt.shape[0]}"
        )
    outputs: dict[str, torch.Tensor] = {}

    def keep(name: str) -> Callable:
        def record(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
            outputs[name] = output

        return record

    handles = [m.register_forward_hook(keep(name)) for name, m in linears]
    try:
        with torch.enable_grad():
            pred = net(xt)
            if pred.shape != yt.shape:
                raise ValueError(f"`y` must have shape {tuple(pred.shape)}; got {tuple(yt.shape)}")
            value = LOSSES[loss](pred, yt)
            targets = []
            for name, m in linears:
                targets += [m.weight, m.bias if m.bias is not None else m.weight, outputs[name]]
            grads = torch.autograd.grad(value, targets, allow_unused=True)
    finally:
        for h in handles:
            h.remove()

    def norm(g: torch.Tensor | None) -> float:
        return 0.0 if g is None else float(torch.linalg.vector_norm(g.double()))

    rows = []
    for i, (name, m) in enumerate(linears):
        gw, gb, go = grads[3 * i : 3 * i + 3]
        bias = norm(gb) if m.bias is not None else math.nan
        w = float(torch.linalg.vector_norm(m.weight.detach().double()))
        rows.append((i, name, norm(gw), bias, w, norm(go)))
    cols = ["layer", "module", "weight_grad_norm", "bias_grad_norm", "weight_norm"]
    return pd.DataFrame(rows, columns=[*cols, "output_grad_norm"])


class BiasWarming:
    """Add a positive ``gamma`` to every ReLU's pre-activation, annealed to zero.

    Forward pre-hooks on the ReLU, LeakyReLU and PReLU modules of ``net``
    replace their input ``z`` by ``z + gamma_t`` (a new tensor, so in-place
    ReLUs are safe). A unit dead on the data gets a gradient again while
    ``z + gamma_t > 0`` somewhere, so training can move its weights and bias;
    ``gamma_t`` falls from ``gamma`` to 0 over ``steps`` calls of
    :meth:`step`, after which the hooks add nothing and the network computes
    its own function (whether a unit stays alive then is measured on the
    diagnostics page). :meth:`remove` takes the hooks off; so does leaving a
    ``with`` block. An instance is also a callback for
    :func:`pwlmodels.nets.train`: each call is one step.

    Parameters
    ----------
    net : torch.nn.Module
        Holding at least one ReLU, LeakyReLU or PReLU module.
    gamma : float, default 1.0
        The initial shift, > 0.
    steps : int, default 100
        Steps until the shift is 0, >= 1.
    schedule : {"linear", "cosine"}, default "linear"
        ``gamma_t = gamma (1 - t/steps)`` or ``gamma (1 + cos(pi t/steps)) / 2``.

    Examples
    --------
    >>> import torch
    >>> from pwlmodels.diagnostics import BiasWarming
    >>> net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.ReLU())
    >>> with torch.no_grad():
    ...     _ = net[0].weight.fill_(1.0), net[0].bias.fill_(-2.0)
    >>> x = torch.tensor([[1.0]])
    >>> with BiasWarming(net, gamma=3.0, steps=2) as warm:
    ...     first = net(x).item()
    ...     _ = warm.step()
    ...     second = net(x).item()
    >>> first, second, warm.gamma, net(x).item()
    (2.0, 0.5, 1.5, 0.0)
    """

    def __init__(
        self, net: nn.Module, *, gamma: float = 1.0, steps: int = 100, schedule: str = "linear"
    ) -> None:
        check_module(net)
        if (gamma := as_real_scalar(gamma, "gamma")) <= 0:
            raise ValueError(f"`gamma` must be > 0; got {gamma!r}")
        self._gamma0, self.steps = gamma, check_int(steps, "steps")
        check_choice(schedule, "schedule", _SCHEDULES)
        self.schedule, self.t = schedule, 0
        modules = _activations(net, _RELU_LIKE, "ReLU, LeakyReLU or PReLU")
        self._handles = [m.register_forward_pre_hook(self._shift) for _, m in modules]

    @property
    def gamma(self) -> float:
        """The shift added now (0 once ``steps`` steps are done)."""
        frac = min(self.t / self.steps, 1.0)
        if self.schedule == "linear":
            return self._gamma0 * (1.0 - frac)
        return self._gamma0 * 0.5 * (1.0 + math.cos(math.pi * frac))

    @property
    def active(self) -> bool:
        """Whether the hooks are still on the network."""
        return bool(self._handles)

    def _shift(self, module: nn.Module, args: tuple) -> tuple | None:
        g = self.gamma
        return None if g == 0.0 else (args[0] + g, *args[1:])

    def step(self) -> float:
        """Advance the schedule by one step; return the new shift."""
        self.t += 1
        return self.gamma

    def __call__(self, epoch: int, loss: float, net: nn.Module) -> bool:
        """One step, as a :func:`pwlmodels.nets.train` callback (never stops training)."""
        self.step()
        return False

    def remove(self) -> None:
        """Take the hooks off the network (idempotent)."""
        for h in self._handles:
            h.remove()
        self._handles = []

    def __enter__(self) -> BiasWarming:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def check_homogeneity(
    net: nn.Module, a: float, *, x: object = None, n: int = 256, seed: int = 0
) -> float:
    """How far ``net`` is from positive homogeneity: f_{aW}(x) = a^L f_W(x).

    Every Linear weight is multiplied by ``a`` (biases are left alone) in a
    copy of ``net``; with L Linear layers, a bias-free network of Linear and
    ReLU / LeakyReLU / PReLU layers satisfies ``f_{aW} = a^L f_W`` for every
    ``a > 0``, since ``relu(a z) = a relu(z)``. Biases break it (scaling the
    l-th bias by ``a^l`` would restore it); this returns the deviation.

    Parameters
    ----------
    net : torch.nn.Module
        Built only of Linear, ReLU, LeakyReLU, PReLU, Identity, Flatten,
        Dropout (eval mode) and nested Sequential modules.
    a : float
        The scale, > 0.
    x : array_like or torch.Tensor, shape (N, n_in), optional
        Where to compare; by default ``n`` standard normal points drawn from
        a local generator seeded with ``seed``.
    n : int, default 256
        At most 10**6 points: the copy of the net runs on all at once.
    seed : int, default 0

    Returns
    -------
    float
        ``max|f_{aW}(x) - a^L f_W(x)| / max|a^L f_W(x)|`` over the points,
        computed in the net's dtype and on its device (0.0 when both are 0).

    Examples
    --------
    >>> import torch
    >>> from pwlmodels.diagnostics import check_homogeneity
    >>> from pwlmodels.nets import make_mlp
    >>> net = make_mlp(3, (8, 8), 1, dtype=torch.float64)
    >>> check_homogeneity(net, 3.0) > 1e-3  # biases break it
    True
    >>> for layer in net[::2]:
    ...     layer.bias = None
    >>> check_homogeneity(net, 3.0) < 1e-14
    True
    """
    check_module(net)
    if (a := as_real_scalar(a, "a")) <= 0:
        raise ValueError(f"`a` must be > 0; got {a!r}")
    for name, m in net.named_modules():
        if not isinstance(m, _HOMOGENEOUS) or (isinstance(m, nn.Dropout) and m.training):
            raise ValueError(
                f"`net` must be built of Linear and ReLU, LeakyReLU or PReLU layers (positively "
                f"homogeneous) with Dropout in eval mode; got {type(m).__name__} at '{name}'"
            )
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("`net` must contain nn.Linear layers; got none")
    if x is None:
        gen = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
        n = check_int(n, "n", maximum=_MAX_POINTS)
        draw = torch.randn(n, linears[0].in_features, generator=gen)
        x = draw.to(torch.float64)
    xt = _data(net, x, "x")
    scaled = copy.deepcopy(net)
    with torch.no_grad():
        for m in scaled.modules():
            if isinstance(m, nn.Linear):
                m.weight.mul_(a)
        want = net(xt) * a ** len(linears)
        got = scaled(xt)
    top = float(want.abs().max())
    diff = float((got - want).abs().max())
    return diff / top if top > 0 else (0.0 if diff == 0 else math.inf)


def expected_activation(name: str, *, moment: int = 1) -> float:
    """E[sigma(Z)^moment] for Z standard normal, by adaptive quadrature (scipy ``quad``).

    The integral is split at the activation's kinks (0, and -1, 1 for
    hardtanh), each piece to about 1e-13; the activation is torch's module in
    float64 with its default parameters (``prelu``: slope 0.25).

    Parameters
    ----------
    name : str
        A key of :data:`pwlmodels.nets.ACTIVATIONS`: relu, leaky_relu, prelu,
        hardtanh, tanh, sigmoid, gelu, elu, softplus, silu.
    moment : int, default 1
        From 1 to 16: higher moments overflow float64 in the quadrature's tails.

    Returns
    -------
    float

    Examples
    --------
    >>> import math
    >>> from pwlmodels.diagnostics import expected_activation
    >>> abs(expected_activation("relu") - 1 / math.sqrt(2 * math.pi)) < 1e-12
    True
    >>> abs(expected_activation("relu", moment=2) - 0.5) < 1e-12
    True
    """
    from scipy import integrate

    check_choice(name, "name", tuple(ACTIVATIONS))
    moment = check_int(moment, "moment", maximum=_MAX_MOMENT)
    act = ACTIVATIONS[name]().double()

    def integrand(z: float) -> float:
        with torch.no_grad():
            s = float(act(torch.tensor([z], dtype=torch.float64))[0])
        return s**moment * math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)

    cuts = [-math.inf, -1.0, 0.0, 1.0, math.inf]
    total = 0.0
    for lo, hi in itertools.pairwise(cuts):
        value, _ = integrate.quad(integrand, lo, hi, epsabs=1e-14, epsrel=1e-13, limit=200)
        total += value
    return total
