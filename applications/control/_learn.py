"""Learned controllers: samples of the saturated law over the operating box, training, scaling."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from pwlmodels import count_parameters, make_mlp, train_many

__all__: list[str] = []


@dataclass(frozen=True)
class Training:
    """How the learned controllers are trained (the same for every activation)."""

    hidden: tuple[int, ...]
    n_samples: int
    epochs: int
    polish: int
    lr: float = 1e-2


def operating_samples(
    K: np.ndarray, u_max: float, x_ref: np.ndarray, half: np.ndarray, n: int, seed: int
) -> np.ndarray:
    """``n`` states of the box ``|x| <= half``: half uniform, half near the switching slab.

    The law has slope ``|K|`` only in the slab ``|K (x - x_ref)| < u_max``,
    0.2 rad thick in the angle against a box 2 pi wide; the second half of
    the samples draws ``-K (x - x_ref)`` uniformly in ``[-2 u_max, 2 u_max]``
    (the angle solved for, clipped to the box), so that the gain is learned.
    """
    rng = np.random.default_rng(seed)
    k = K[0]
    x = rng.uniform(-1.0, 1.0, (n, half.size)) * half
    slab = x[n // 2 :]
    s = rng.uniform(-2 * u_max, 2 * u_max, slab.shape[0])
    rest = slab[:, 1:] - x_ref[1:]
    slab[:, 0] = x_ref[0] - (s + rest @ k[1:]) / k[0]
    slab[:, 0] = np.clip(slab[:, 0], -half[0], half[0])
    return x


def train_controllers(
    x: list[np.ndarray],
    u: list[np.ndarray],
    half: np.ndarray,
    u_max: float,
    activation: str,
    cfg: Training,
    seeds: tuple[int, ...],
    device: torch.device,
) -> list[tuple[nn.Sequential, float, int]]:
    """One controller per seed, trained together on its own ``(x / half, u / u_max)``.

    The networks (float32, one per seed, each on the samples of its seed)
    train as one model by ``train_many``, L-BFGS polish included; the
    scalings are then folded into a float64 copy of each. Returns, per seed,
    the float64 controller (raw state in volts out, on ``device``), the final
    training loss (scaled units) and the parameter count.
    """
    nets = [
        make_mlp(half.size, cfg.hidden, 1, activation=activation, seed=seed, device=device)
        for seed in seeds
    ]
    hist = train_many(
        nets, np.stack(x) / half, np.stack(u) / u_max, epochs=cfg.epochs, lr=cfg.lr,
        lbfgs_polish=cfg.polish, seed=list(seeds), per_member=True,
    )  # fmt: skip
    losses = hist.groupby("member")["loss"].last()
    scale = torch.as_tensor(half, dtype=torch.float64, device=device)
    out = []
    for i, net in enumerate(nets):
        net64 = copy.deepcopy(net).to(torch.float64)
        first, last = net64[0], net64[-1]
        with torch.no_grad():
            first.weight.div_(scale)
            last.weight.mul_(u_max)
            last.bias.mul_(u_max)
        out.append((net64.eval(), float(losses[i]), count_parameters(net)))
    return out


def scaled(net: nn.Sequential, half: np.ndarray) -> nn.Sequential:
    """``z -> net(half * z)``: the controller on states divided by the box half-widths."""
    ref = next(net.parameters())
    first = nn.Linear(half.size, half.size, dtype=ref.dtype, device=ref.device)
    with torch.no_grad():
        first.weight.copy_(torch.diag(torch.as_tensor(half, dtype=ref.dtype)))
        first.bias.zero_()
    return nn.Sequential(first, *net)


def clamped(net: nn.Sequential, u_max: float) -> nn.Sequential:
    """``sat(net(x))`` exactly: the output clamp ``relu(y + u_max) - relu(y - u_max) - u_max``."""
    ref = next(net.parameters())
    up = nn.Linear(1, 2, dtype=ref.dtype, device=ref.device)
    down = nn.Linear(2, 1, dtype=ref.dtype, device=ref.device)
    with torch.no_grad():
        up.weight.fill_(1.0)
        up.bias.copy_(torch.tensor([u_max, -u_max]))
        down.weight.copy_(torch.tensor([[1.0, -1.0]]))
        down.bias.fill_(-u_max)
    return nn.Sequential(*net, up, nn.ReLU(), down)
