"""Many Euler-residual networks of one architecture trained together, as one batched model.

:func:`pwlmodels.train_many` stacks networks for a supervised loss on fixed
data; the Euler residual is not one (each network's loss evaluates it at
today's points and at the savings it chooses, and its points move with its
own policy). The same batching applies all the same: the members'
weights are stacked, each layer of all members is one batched matrix
product (``torch.baddbmm``), and one Adam steps the stacked tensors.
Adam acts element by element, so each member follows
:func:`~applications.economics.solve_network` with ``optimizer="adam"`` and
its own seed (its own weights, panel and re-simulations), up to the order
of the sums in the batched products.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence

import torch

from pwlmodels import make_mlp, resolve_device
from pwlmodels._validate import check_choice

from .._checks import check_count
from ._config import check_seeds
from ._model import IFPParams, check_params
from ._net import (
    _ACTIVATIONS,
    NetworkSolution,
    Panel,
    _loss,
    adam,
    check_loss,
    settings,
    warm_start,
)

__all__ = ["solve_networks"]


def solve_networks(
    params: IFPParams,
    seeds: Sequence[int] = (0, 1, 2),
    *,
    activation: str = "relu",
    hidden: Sequence[int] = (32, 32),
    steps: int = 1000,
    lr: float = 1e-3,
    n_points: int = 256,
    resimulate_every: int = 2,
    periods: int = 5,
    explore: float = 0.25,
    domain: tuple[float, float] | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
    asset_scale: float | None = None,
    input_transform: str = "log",
    consumption: str = "share",
) -> list[NetworkSolution]:
    """One network per seed trained on the Euler residual with Adam, all at once.

    Each member is what ``solve_network(params, optimizer="adam", seed=seed,
    **the same options)`` returns, up to rounding (float64 members agree
    with it to about 1e-10 after a few hundred steps), in a fraction of the
    time for small networks: the per-step overhead of autograd is paid once.

    Parameters
    ----------
    params : IFPParams
    seeds : sequence of int, default (0, 1, 2)
        Distinct seeds >= 0, one member each.
    activation, hidden, steps, lr, n_points, resimulate_every, periods, explore, domain, \
device, dtype, asset_scale, input_transform, consumption
        As in :func:`~applications.economics.solve_network` (``steps``: Adam steps).

    Returns
    -------
    list of NetworkSolution
        In the order of ``seeds``; ``seconds`` is the batched training's wall
        time divided by the number of members, ``history`` each member's own.

    Examples
    --------
    >>> from applications.economics import IFPParams, solve_networks
    >>> sols = solve_networks(IFPParams(), (0, 1), hidden=(8,), steps=3, n_points=32)
    >>> [s.seed for s in sols], len(sols[0].history)
    ([0, 1], 3)
    """
    params = check_params(params)
    seeds = check_seeds(seeds)
    check_choice(activation, "activation", _ACTIVATIONS)
    steps = check_count(steps, "steps", 1)
    cfg = settings(
        params, domain=domain, asset_scale=asset_scale, input_transform=input_transform,
        consumption=consumption, n_points=n_points, resimulate_every=resimulate_every,
        periods=periods, explore=explore, lr=lr, dtype=dtype,
    )  # fmt: skip
    dev = resolve_device(device)
    nets = [
        make_mlp(2, hidden, 2, activation=activation, dtype=dtype, device=dev, seed=seed)
        for seed in seeds
    ]
    models = [cfg.model(net, params, dev) for net in nets]
    panels = [Panel(params, cfg, seed) for seed in seeds]
    P = torch.as_tensor(params.P, dtype=dtype, device=dev)
    start = time.perf_counter()
    for model, panel in zip(models, panels, strict=True):
        warm_start(model, panel)
    stacked = _Stacked(nets)
    batch = copy.copy(models[0])
    batch.net = stacked
    opt, decay = adam(stacked.weights, cfg.lr, steps)
    rows: list[list[tuple]] = [[] for _ in seeds]
    for step in range(1, steps + 1):
        if (step - 1) % cfg.every == 0:
            if step > 1:
                stacked.unstack()
                for model, panel in zip(models, panels, strict=True):
                    panel.move(model)
            a, s = (
                torch.stack(t) for t in zip(*(panel.tensors(dev) for panel in panels), strict=True)
            )
        opt.zero_grad(set_to_none=True)
        losses = _loss(batch, a, s, P)
        losses.sum().backward()
        opt.step()
        decay.step()
        now = time.perf_counter() - start
        for k, (value, seed) in enumerate(zip(losses.detach().cpu().tolist(), seeds, strict=True)):
            check_loss(value, step, activation, seed)
            rows[k].append((step, value, now))
    stacked.unstack()
    seconds = (time.perf_counter() - start) / len(seeds)
    out = []
    for net, seed, r in zip(nets, seeds, rows, strict=True):
        net.eval()
        out.append(cfg.solution(params, net, activation, seed, r, seconds, dev))
    return out


class _Stacked:
    """Networks of one architecture (Linear layers and stateless activations) as one
    batched forward: input (M, ..., n_in), member k's network on row k."""

    def __init__(self, nets: list[torch.nn.Sequential]):
        self.nets = nets
        self.layers = list(nets[0])
        self.weights = []  # per Linear: W (M, in, out), b (M, 1, out), leaves for Adam
        for k, layer in enumerate(self.layers):
            if isinstance(layer, torch.nn.Linear):
                w = torch.stack([net[k].weight.detach().T for net in nets]).contiguous()
                b = torch.stack([net[k].bias.detach()[None, :] for net in nets])
                self.weights += [w.requires_grad_(), b.requires_grad_()]
            elif any(True for _ in layer.parameters()):
                raise ValueError(f"layer {k} ({type(layer).__name__}) has parameters to stack")

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        shape = z.shape
        z = z.reshape(shape[0], -1, shape[-1])
        weights = iter(self.weights)
        for layer in self.layers:
            if isinstance(layer, torch.nn.Linear):
                w, b = next(weights), next(weights)
                z = torch.baddbmm(b, z, w)
            else:
                z = layer(z)
        return z.reshape(*shape[:-1], z.shape[-1])

    def unstack(self) -> None:
        """Copy each member's slice of the stacked weights into its own network."""
        with torch.no_grad():
            linears = [
                k for k, layer in enumerate(self.layers) if isinstance(layer, torch.nn.Linear)
            ]
            for j, k in enumerate(linears):
                w, b = self.weights[2 * j], self.weights[2 * j + 1]
                for m, net in enumerate(self.nets):
                    net[k].weight.copy_(w[m].T)
                    net[k].bias.copy_(b[m, 0])
