"""Solving the income fluctuation problem with a neural network (Maliar, Maliar and Winant 2021).

One network maps (assets, income) to two outputs ``(zeta, eta)``: consumption
``c = x sigmoid(zeta)`` with cash on hand ``x = R(a) a + y + b`` (so the
borrowing constraint ``c <= x`` holds by construction) and the Kuhn-Tucker
ratio ``h = exp(eta)``. The loss is the mean over the training points of

    (beta R(a') E[u'(c')] / u'(c) - h)**2 + FB(1 - c/x, 1 - h)**2,

with the Fischer-Burmeister function ``FB(p, q) = p + q - sqrt(p**2 + q**2)``,
zero exactly when ``p >= 0``, ``q >= 0`` and ``p q = 0``: either the
constraint binds or the Euler equation holds. The expectation is an exact sum
over the income states. The training points are re-simulated with the
current policy every few optimiser steps (the ergodic set), with a share
drawn afresh so that no region is forgotten. Assets enter the network as
``log(1 + (a + b) / scale)`` by default (or ``asinh((a + b) / scale)``, or
linearly), so that its units are spread where the policy curves and kinks,
near the limit, for every activation alike.

Because ``sigmoid(zeta) < 1``, the raw policy never binds exactly: see
:meth:`NetworkSolution.policy_kkt` for the network's own reading of where it
binds.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from pwlmodels import count_parameters, make_mlp, resolve_device
from pwlmodels._validate import as_real_scalar, check_choice, plain

from .._checks import check_count
from ._egm import default_a_max
from ._model import IFPParams, as_assets, as_states, check_params
from ._net_args import _check_domain, _check_init

__all__ = ["NetworkSolution", "solve_network"]

_ACTIVATIONS = (
    "relu", "tanh", "leaky_relu", "hardtanh", "gelu", "elu", "softplus", "sigmoid", "silu",
)  # fmt: skip
#: The maps of assets onto the network's first input (see :func:`asset_input`).
TRANSFORMS = ("linear", "log", "asinh")


@dataclass(frozen=True, eq=False)
class NetworkSolution:
    """A consumption policy found by training a network on the Euler residual.

    Attributes
    ----------
    params : IFPParams
    net : torch.nn.Sequential
        Input ``(scaled a, scaled y)``, outputs ``(zeta, eta)``.
    activation : str
    seed : int
    domain : (float, float)
        The asset range the inputs are scaled to and fresh points are drawn from.
    history : pandas.DataFrame
        One row per optimiser step: ``step``, ``loss``, ``seconds``.
    n_params : int
    seconds : float
        Training wall time.
    device : str
    asset_scale : float
        The asset input is ``log(1 + (a + b) / asset_scale)`` scaled to [-1, 1]
        (``inf``: linear in ``a``).
    consumption : {"share", "level"}
        How the first output gives consumption (see :func:`solve_network`).
    input_transform : {"log", "asinh", "linear"}
        The map of assets onto the first input (see :func:`asset_input`).

    Examples
    --------
    >>> import numpy as np
    >>> from applications.economics import IFPParams, solve_network
    >>> sol = solve_network(IFPParams(), hidden=(8,), steps=1, n_points=32)
    >>> sol.policy(np.array([0.0, 1.0, 2.0]), 1).shape, sol.n_params, list(sol.history.columns)
    ((3,), 42, ['step', 'loss', 'seconds'])
    """

    params: IFPParams
    net: torch.nn.Sequential
    activation: str
    seed: int
    domain: tuple[float, float]
    history: pd.DataFrame
    n_params: int
    seconds: float
    device: str
    asset_scale: float = np.inf
    consumption: str = "share"
    input_transform: str = "log"

    def policy(self, a: object, state: object) -> np.ndarray:
        """Consumption ``c(a, state)`` in float64 numpy (broadcast shape of ``a`` and ``state``)."""
        return self._evaluate(a, state)[0]

    def policy_kkt(self, a: object, state: object) -> np.ndarray:
        """Consumption with the network's own complementarity reading: ``c = x`` where it binds.

        ``c = x sigmoid(zeta)`` never reaches cash on hand ``x``, so the raw
        policy never puts anyone exactly at the limit. The network also says
        where the constraint binds: the Fischer-Burmeister pair ``(p, q) =
        (1 - c/x, 1 - h)`` is solved by ``min(p, q) = 0``, and where the slack
        ``p`` is the smaller of the two (``1 - c/x < 1 - h``) the network's
        answer is "binding, with a multiplier". There consumption is snapped to
        the corner ``c = x``; elsewhere it is the raw policy. No tolerance is
        chosen: the classification is FB's own, so ``c`` jumps by ``x p`` where
        ``p = q`` (small where the network has learnt the complementarity).
        """
        c, h = self._evaluate(a, state)
        a, s = np.broadcast_arrays(as_assets(a), as_states(state, self.params.n_states))
        x = self.params.cash(a, s) + self.params.borrowing_limit
        return np.where(1 - c / x < 1 - h, x, c)

    def multiplier(self, a: object, state: object) -> np.ndarray:
        """The ratio ``h(a, state)``: 1 where the Euler equation holds, below 1 where c = x."""
        return self._evaluate(a, state)[1]

    def _evaluate(self, a: object, state: object) -> tuple[np.ndarray, np.ndarray]:
        a = as_assets(a)
        s = as_states(state, self.params.n_states)
        a, s = np.broadcast_arrays(a, s)
        p = next(self.net.parameters())
        model = _Model.of(self, p.dtype, p.device)
        with torch.no_grad():
            c, _, h, _ = model(
                torch.as_tensor(a.ravel(), dtype=p.dtype, device=p.device),
                torch.as_tensor(s.ravel(), device=p.device),
            )
        c = c.detach().cpu().double().numpy().reshape(a.shape)
        return c, h.detach().cpu().double().numpy().reshape(a.shape)


def asset_input(a, domain: tuple[float, float], scale: float, transform: str = "log"):
    """Assets mapped onto [-1, 1] on ``domain = (lo, hi)``: ``g((a - lo) / scale)`` rescaled.

    ``g`` is ``log1p`` (``transform="log"``), ``asinh`` (``"asinh"``: linear
    near the limit, logarithmic far from it) or the identity (``"linear"``,
    also whenever ``scale = numpy.inf``): ``2 g((a - lo) / scale) / g((hi -
    lo) / scale) - 1``. A torch tensor in gives a tensor out, anything else a
    float64 numpy value.
    """
    lo, hi = domain
    if scale == np.inf or transform == "linear":
        return 2 * (a - lo) / (hi - lo) - 1
    torch_in = isinstance(a, torch.Tensor)
    if transform == "asinh":
        g = torch.asinh if torch_in else np.arcsinh
        return 2 * g((a - lo) / scale) / np.arcsinh((hi - lo) / scale) - 1
    g = torch.log1p if torch_in else np.log1p
    return 2 * g((a - lo) / scale) / np.log1p((hi - lo) / scale) - 1


class _Model:
    """The network with its input scaling and output maps, in torch."""

    def __init__(
        self, net, params: IFPParams, domain, dtype, device, scale, level="share", transform="log"
    ):
        self.net, self.params, self.level = net, params, level == "level"
        self.lo, self.hi = domain
        self.scale, self.transform = scale, transform
        self.y = torch.as_tensor(params.y, dtype=dtype, device=device)
        mean = float(params.stationary_income() @ params.y)
        spread = float(np.ptp(params.y)) / 2 or 1.0
        self.y_mid, self.y_half = mean, spread
        # tensors in the net's dtype: torch.where on two Python floats gives float32
        self.R, self.Rb = (
            torch.tensor(r, dtype=dtype, device=device) for r in (params.R, params.R_debt)
        )
        self.b = params.borrowing_limit

    @classmethod
    def of(cls, ns: NetworkSolution, dtype, device, net=None) -> _Model:
        """The model of a solution (its own network unless ``net`` is given)."""
        return cls(
            ns.net if net is None else net, ns.params, ns.domain, dtype, device, ns.asset_scale,
            ns.consumption, ns.input_transform,
        )  # fmt: skip

    def inputs(self, a: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """The network's input: assets and income, each mapped onto [-1, 1] on the domain."""
        z_a = asset_input(a, (self.lo, self.hi), self.scale, self.transform)
        z_y = (self.y[s] - self.y_mid) / self.y_half
        return torch.stack([z_a, z_y], dim=-1)

    def __call__(self, a: torch.Tensor, s: torch.Tensor):
        """Consumption, the slack ``1 - c/x``, ``h`` and cash on hand ``x`` at (a, s)."""
        out = self.net(self.inputs(a, s))
        x = torch.where(a < 0, self.Rb, self.R) * a + self.y[s] + self.b
        h = torch.exp(out[..., 1].clamp(-30.0, 30.0))
        if self.level:  # c = out clipped to [1e-13 x, x]: piecewise linear in out and x
            c = torch.minimum(torch.maximum(out[..., 0], 1e-13 * x), x)
            return c, (x - c) / x, h, x
        zeta = out[..., 0].clamp(-30.0, 30.0)  # c/x in [1e-13, 1 - 1e-13]: no 0 or inf
        return x * torch.sigmoid(zeta), torch.sigmoid(-zeta), h, x

    def first_output(self, share: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The first output that gives consumption ``share * x``: ``share * x`` or its logit."""
        return share * x if self.level else np.log(share / (1 - share))


def _loss(model: _Model, a: torch.Tensor, s: torch.Tensor, P: torch.Tensor) -> torch.Tensor:
    """The mean loss over the last axis of ``(a, s)``: one value per leading index
    (a scalar for one network's points, one per member for stacked networks)."""
    p = model.params
    c, slack, h, x = model(a, s)
    a_next = x * slack - p.borrowing_limit  # x - c - b, without cancellation
    shape = (*a.shape[:-1], p.n_states, a.shape[-1])  # (..., S, n): every state tomorrow
    states = torch.arange(p.n_states, device=a.device).view(-1, 1).expand(shape)
    c_next = model(a_next.unsqueeze(-2).expand(shape), states)[0]
    expect = (P[s].transpose(-1, -2) * c_next ** (-p.gamma)).sum(dim=-2)
    rate = torch.where(a_next < 0, model.Rb, model.R)
    ratio = p.beta * rate * expect * c**p.gamma
    fb = slack + (1 - h) - torch.sqrt(slack**2 + (1 - h) ** 2)
    return ((ratio - h) ** 2 + fb**2).mean(dim=-1)


def solve_network(
    params: IFPParams,
    *,
    activation: str = "relu",
    hidden: Sequence[int] = (32, 32),
    steps: int = 40,
    n_points: int = 256,
    resimulate_every: int = 2,
    periods: int = 5,
    explore: float = 0.25,
    domain: tuple[float, float] | None = None,
    seed: int = 0,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
    optimizer: str = "lbfgs",
    lr: float = 1e-3,
    asset_scale: float | None = None,
    consumption: str = "share",
    init: torch.nn.Sequential | None = None,
    input_transform: str = "log",
) -> NetworkSolution:
    """Train a network on the Euler residual with Fischer-Burmeister complementarity.

    Parameters
    ----------
    params : IFPParams
    activation : str, default "relu"
        A key of :data:`pwlmodels.nets.ACTIVATIONS`.
    hidden : sequence of int, default (32, 32)
        Hidden widths (same for every activation: the same parameter count).
    steps : int, default 40
        Optimiser steps.
    n_points : int, default 256
        Training points (agents in the simulated panel).
    resimulate_every : int, default 2
        Steps between re-simulations of the panel.
    periods : int, default 5
        Periods the panel is moved forward by the current policy at each
        re-simulation (income drawn from the chain).
    explore : float, default 0.25
        Share of the panel redrawn afresh at each re-simulation, in [0, 1):
        assets ``lo + (hi - lo) u**2`` (dense near the limit), income from its
        stationary distribution; the initial panel is drawn the same way.
    domain : (float, float), optional
        The asset range ``(lo, hi)``, ``lo = -b``; default up to the top of the
        ergodic set (of a coarse EGM solve).
    seed : int, default 0
        Seeds the weights (:func:`pwlmodels.make_mlp`) and the simulation.
    device : None, "auto", str or torch.device, optional (CPU)
    dtype : {torch.float64, torch.float32}, default torch.float64
        float64 keeps the line search reliable when residuals are small.
    optimizer : {"lbfgs", "adam"}, default "lbfgs"
        L-BFGS: each step up to 20 iterations with a strong Wolfe line search,
        its memory cleared at every re-simulation. Adam: one full-batch step
        per ``step`` (Euler-residual training is slow with it: thousands of
        steps).
    lr : float, default 1e-3
        Adam's initial learning rate, > 0, decayed to ``lr / 100`` on a cosine
        schedule over ``steps`` (L-BFGS uses 1 with its line search).
    asset_scale : float, optional
        The asset input is ``log(1 + (a + b) / asset_scale)``, mapped onto
        [-1, 1] on the domain; default mean income. The log spreads the
        network's resolution towards the limit, where the policy curves and
        kinks (on the default calibration's domain [0, 50] the kink at 0.021
        gets 0.04 % of a linear input's range and 0.5 % of the log input's).
        ``numpy.inf``: the linear map ``2 (a - lo) / (hi - lo) - 1``.
        The scale of the "asinh" transform too.
    consumption : {"share", "level"}, default "share"
        "share": ``c = x sigmoid(zeta)`` (the constraint holds by construction,
        never binds exactly); "level": ``c = min(max(zeta, 1e-13 x), x)``, piecewise
        linear, so that a piecewise-linear policy is represented exactly.
    init : torch.nn.Sequential, optional
        Start from a copy of this network (2 inputs, 2 outputs; ``hidden`` and
        ``activation`` are then labels only) instead of seeded random weights
        fitted to the textbook guess; ``steps = 0`` is then allowed.
    input_transform : {"log", "asinh", "linear"}, default "log"
        The map of assets onto the first input (:func:`asset_input`):
        ``log(1 + (a + b) / asset_scale)``, ``asinh((a + b) / asset_scale)``
        or linear (as ``asset_scale=numpy.inf``), rescaled to [-1, 1].

    Returns
    -------
    NetworkSolution

    Examples
    --------
    >>> import numpy as np
    >>> from applications.economics import IFPParams, solve_network
    >>> sol = solve_network(IFPParams(), activation="tanh", hidden=(8,), steps=2, n_points=64)
    >>> c = sol.policy(np.array([0.0, 5.0]), 0)
    >>> bool(np.all((c > 0) & (c <= 1.03 * np.array([0.0, 5.0]) + 0.5)))
    True
    """
    params = check_params(params)
    check_choice(activation, "activation", _ACTIVATIONS)
    if init is not None:
        _check_init(init)
    steps = check_count(steps, "steps", 0 if init is not None else 1)
    seed = check_count(seed, "seed", 0)
    check_choice(optimizer, "optimizer", ("lbfgs", "adam"))
    cfg = settings(
        params, domain=domain, asset_scale=asset_scale, input_transform=input_transform,
        consumption=consumption, n_points=n_points, resimulate_every=resimulate_every,
        periods=periods, explore=explore, lr=lr, dtype=dtype,
    )  # fmt: skip
    dev = resolve_device(device)
    if init is None:
        net = make_mlp(2, hidden, 2, activation=activation, dtype=dtype, device=dev, seed=seed)
    else:
        net = copy.deepcopy(init).to(dtype=dtype, device=dev).train()
    model = cfg.model(net, params, dev)
    P = torch.as_tensor(params.P, dtype=dtype, device=dev)
    panel = Panel(params, cfg, seed)
    start = time.perf_counter()
    if init is None:
        warm_start(model, panel)
    rows = []
    opt = None
    for step in range(1, steps + 1):
        if opt is None or (step - 1) % cfg.every == 0:
            if step > 1:
                panel.move(model)
            a_t, s_t = panel.tensors(dev)
            if optimizer == "lbfgs":
                opt = torch.optim.LBFGS(
                    net.parameters(), lr=1.0, max_iter=20, history_size=50,
                    line_search_fn="strong_wolfe",
                )  # fmt: skip
            elif opt is None:
                opt, decay = adam(net.parameters(), cfg.lr, steps)

        def closure(a_t=a_t, s_t=s_t, opt=opt) -> torch.Tensor:
            opt.zero_grad(set_to_none=True)
            value = _loss(model, a_t, s_t, P)
            value.backward()
            return value

        value = float(opt.step(closure).detach())
        if optimizer == "adam":  # cosine decay from lr to lr / 100
            decay.step()
        check_loss(value, step, activation, seed)
        rows.append((step, value, time.perf_counter() - start))
    net.eval()
    return cfg.solution(params, net, activation, seed, rows, time.perf_counter() - start, dev)


@dataclass(frozen=True)
class Settings:
    """The checked training settings of :func:`solve_network` (and of the batched solver)."""

    domain: tuple[float, float]
    scale: float
    transform: str
    consumption: str
    n_points: int
    every: int
    periods: int
    explore: float
    lr: float
    dtype: torch.dtype

    def model(self, net, params: IFPParams, dev) -> _Model:
        return _Model(
            net, params, self.domain, self.dtype, dev, self.scale, self.consumption,
            self.transform,
        )  # fmt: skip

    def solution(self, params, net, activation, seed, rows, seconds, dev) -> NetworkSolution:
        """The trained ``net`` as a NetworkSolution (``rows``: (step, loss, seconds))."""
        history = pd.DataFrame(rows, columns=["step", "loss", "seconds"])
        return NetworkSolution(
            params, net, activation, seed, self.domain, history, count_parameters(net), seconds,
            str(dev), self.scale, self.consumption, self.transform,
        )  # fmt: skip


def settings(
    params: IFPParams, *, domain, asset_scale, input_transform, consumption, n_points,
    resimulate_every, periods, explore, lr, dtype,
) -> Settings:  # fmt: skip
    """:func:`solve_network`'s keyword arguments checked (TypeError / ValueError naming them)."""
    check_choice(consumption, "consumption", ("share", "level"))
    check_choice(input_transform, "input_transform", TRANSFORMS)
    n_points = check_count(n_points, "n_points", 2)
    every = check_count(resimulate_every, "resimulate_every", 1)
    periods = check_count(periods, "periods", 0)
    explore = as_real_scalar(explore, "explore")
    if not 0 <= explore < 1:
        raise ValueError(f"`explore` must be in [0, 1); got {plain(explore)!r}")
    if (lr := as_real_scalar(lr, "lr")) <= 0:
        raise ValueError(f"`lr` must be > 0; got {plain(lr)!r}")
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"`dtype` must be torch.float32 or torch.float64; got {dtype!r}")
    if asset_scale is None:
        scale = float(params.stationary_income() @ params.y)
    elif not (scale := as_real_scalar(asset_scale, "asset_scale", finite=False)) > 0:
        raise ValueError(
            f"`asset_scale` must be > 0 (numpy.inf: linear); got {plain(asset_scale)!r}"
        )
    if input_transform == "linear" or scale == np.inf:
        scale, input_transform = np.inf, "linear"
    b = params.borrowing_limit
    if domain is None:
        domain = (-b, default_a_max(params) / 1.25)
    return Settings(
        _check_domain(domain, b), scale, input_transform, consumption, n_points, every, periods,
        explore, lr, dtype,
    )  # fmt: skip


class Panel:
    """One network's training points, drawn and moved as :func:`solve_network` does.

    Half the fresh draws are dense near the limit (``lo + (hi - lo) u**2``),
    half uniform; income from its stationary distribution; all from one
    generator seeded with ``seed``.
    """

    def __init__(self, params: IFPParams, cfg: Settings, seed: int):
        self.cfg = cfg
        self.gen = torch.Generator().manual_seed(seed)
        self.P = torch.as_tensor(params.P, dtype=torch.float64)
        self.pi = torch.as_tensor(params.stationary_income(), dtype=torch.float64)
        self.a, self.s = self.fresh(cfg.n_points)

    def fresh(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``k`` fresh points (float64 assets and integer states, on the CPU)."""
        lo, hi = self.cfg.domain
        u = torch.rand(k, generator=self.gen, dtype=torch.float64)
        u[: k // 2] = u[: k // 2] ** 2  # half dense near the limit, half uniform
        return lo + (hi - lo) * u, torch.multinomial(
            self.pi, k, replacement=True, generator=self.gen
        )

    def move(self, model: _Model) -> None:
        """Move the panel ``periods`` periods forward with the current policy (income drawn
        from the chain), then redraw the ``explore`` share of it afresh."""
        cfg = self.cfg
        lo, hi = cfg.domain
        dev, b = model.y.device, model.params.borrowing_limit
        a, s = self.a, self.s
        for _ in range(cfg.periods):
            with torch.no_grad():
                _, slack, _, x = model(a.to(dtype=cfg.dtype, device=dev), s.to(dev))
            a = (x * slack - b).double().cpu().clamp(lo, hi)
            s = torch.multinomial(self.P[s], 1, generator=self.gen).squeeze(1)
        if k := round(cfg.explore * cfg.n_points):
            idx = torch.randperm(cfg.n_points, generator=self.gen)[:k]
            a[idx], s[idx] = self.fresh(k)
        self.a, self.s = a, s

    def tensors(self, dev) -> tuple[torch.Tensor, torch.Tensor]:
        """The panel on ``dev``, assets in the training dtype."""
        return self.a.to(dtype=self.cfg.dtype, device=dev), self.s.to(dev)


def adam(parameters, lr: float, steps: int):
    """Adam at ``lr`` with its cosine decay to ``lr / 100`` over ``steps``."""
    opt = torch.optim.Adam(parameters, lr=lr)
    return opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=lr / 100)


def check_loss(value: float, step: int, activation: str, seed: int) -> None:
    """A FloatingPointError when the Euler loss is not finite."""
    if not np.isfinite(value):
        raise FloatingPointError(
            f"the Euler loss is {value} at step {step} ({activation}, seed {seed}); "
            "try float64 or fewer steps between re-simulations"
        )


def warm_start(model: _Model, panel: Panel) -> None:
    """Fit the network to a smooth textbook guess before the Euler training.

    The guess consumes income plus the perfect-foresight share ``kappa = 1 -
    (beta R)**(1/gamma) / R`` of the asset income: ``c0 = y + kappa R(a) a``,
    so ``c0 / x`` is smooth and inside (0, 1). Without it the Euler residual
    has a spurious near-solution on a bounded domain: consumption that falls
    with wealth while assets pile up (the transversality condition is not in
    the loss), and training from random weights often ends there.
    """
    p = model.params
    kappa = 1 - (p.beta * p.R) ** (1 / p.gamma) / p.R
    a, s = panel.fresh(4 * panel.cfg.n_points)
    a_np, s_np = a.numpy(), s.numpy()
    x = p.cash(a_np, s_np) + p.borrowing_limit
    share = np.clip((p.y[s_np] + kappa * p.rate(a_np) * a_np) / x, 0.02, 0.98)
    dtype, dev = panel.cfg.dtype, model.y.device
    target = torch.as_tensor(model.first_output(share, x), dtype=dtype, device=dev)
    a_t, s_t = a.to(dtype=dtype, device=dev), s.to(dev)

    def objective() -> torch.Tensor:
        out = model.net(model.inputs(a_t, s_t))
        return ((out[:, 0] - target) ** 2).mean() + (out[:, 1] ** 2).mean()

    _lbfgs(model.net, objective, max_iter=60)


def _lbfgs(net: torch.nn.Module, objective, *, max_iter: int, history_size: int = 100) -> None:
    """Minimise ``objective()`` over the weights of ``net``: one L-BFGS step, strong Wolfe."""
    opt = torch.optim.LBFGS(
        net.parameters(), lr=1.0, max_iter=max_iter, history_size=history_size,
        line_search_fn="strong_wolfe",
    )  # fmt: skip

    def closure() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        value = objective()
        value.backward()
        return value

    opt.step(closure)


def fit_to_policy(ns: NetworkSolution, policy, *, max_iter: int) -> NetworkSolution:
    """The solver's network (same inputs, outputs and size) fitted to ``policy`` instead.

    Least squares on ``c / policy - 1`` over the domain (dense near the
    limit), L-BFGS started from the solver's trained weights (a copy: ``ns``
    is left as it is): what the architecture can represent near the solver's
    answer, to separate it from what the Euler-residual training finds.
    """
    p = ns.params
    lo, hi = ns.domain
    net = copy.deepcopy(ns.net).train()
    t = np.linspace(0.0, 1.0, 400)
    a = np.tile(np.concatenate([lo + (hi - lo) * t, lo + (hi - lo) * t**3]), p.n_states)
    s = np.repeat(np.arange(p.n_states), a.size // p.n_states)
    w = next(net.parameters())
    model = _Model.of(ns, w.dtype, w.device, net)
    a_t = torch.as_tensor(a, dtype=w.dtype, device=w.device)
    s_t = torch.as_tensor(s, device=w.device)
    target = torch.as_tensor(policy(a, s), dtype=w.dtype, device=w.device)
    _lbfgs(net, lambda: ((model(a_t, s_t)[0] / target - 1) ** 2).mean(), max_iter=max_iter,
           history_size=50)  # fmt: skip
    net.eval()
    return dataclasses.replace(ns, net=net, seconds=0.0)
