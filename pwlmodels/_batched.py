"""The engine of :func:`pwlmodels.nets.train_many`: networks of one architecture as one model.

The members' parameters are stacked along a new first axis, the loss of every
member is computed by ``torch.vmap`` over ``torch.func.functional_call`` of
the first network, and one torch optimizer steps the stacked tensors. Adam,
AdamW and SGD act element by element, so a stacked step is every member's own
step; the gradient of the sum of the members' losses is, member by member,
the gradient of its own loss. What differs from training one by one is only
the order of the sums inside the batched matrix products (float rounding).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn
from torch.func import functional_call
from torch.nn.modules.dropout import _DropoutNd

from ._validate import as_float_array, check_int, check_module
from .network._torch import as_data

__all__ = [
    "architecture",
    "can_stack",
    "check_nets",
    "check_seeds",
    "chunk_size_for",
    "member_data",
    "stack_data",
    "train_stacked",
]

#: Shares of the free memory a chunk may take: CUDA's free memory, the CPU's available RAM.
_CUDA_SHARE, _CPU_SHARE = 0.5, 0.25
#: On CUDA the losses are read back (a synchronisation) every this many epochs, not every one.
_CUDA_CHECK_EVERY = 100


def architecture(net: nn.Module) -> tuple:
    """What must agree for networks to be stacked: modules, their settings and mode, shapes."""
    modules = tuple((name, type(m), m.training, m.extra_repr()) for name, m in net.named_modules())
    params = tuple((n, tuple(p.shape), p.requires_grad) for n, p in net.named_parameters())
    buffers = tuple((n, tuple(b.shape)) for n, b in net.named_buffers())
    return modules, params, buffers


def check_nets(nets: object) -> list[nn.Module]:
    """``nets`` as a non-empty list of stackable networks: one architecture, dtype and device."""
    if isinstance(nets, nn.Module) and not isinstance(nets, nn.ModuleList):
        raise TypeError(
            f"`nets` must be a list of networks; got a single {type(nets).__name__} "
            "(pass [net] to train one)"
        )
    if isinstance(nets, (str, bytes)) or not isinstance(nets, Iterable):
        raise TypeError(f"`nets` must be a list of torch.nn.Module; got {type(nets).__name__}")
    members = list(nets)
    if not members:
        raise ValueError("`nets` must hold at least one network; got an empty sequence")
    for i, net in enumerate(members):
        check_module(net, f"nets[{i}]")
    shape = architecture(members[0])
    params0 = list(members[0].parameters())
    where = {(p.dtype, p.device) for p in params0}
    if len(where) > 1:
        raise ValueError(f"`nets[0]` must have one dtype and device; got {sorted(map(str, where))}")
    owner: dict[int, int] = {}
    for i, net in enumerate(members):
        if architecture(net) != shape:
            raise ValueError(
                f"`nets[{i}]` must have the architecture of nets[0] (module types, settings, "
                f"modes and parameter shapes); got {net!r} against {members[0]!r}"
            )
        for p, q in zip(net.parameters(), params0, strict=True):
            if (p.dtype, p.device) != (q.dtype, q.device):
                raise ValueError(
                    f"`nets[{i}]` must have the dtype and device of nets[0] ({q.dtype} on "
                    f"{q.device}); got {p.dtype} on {p.device}: convert with .to(...)"
                )
            if (j := owner.setdefault(id(p), i)) != i:
                raise ValueError(f"`nets[{i}]` must share no parameter with nets[{j}]")
    return members


#: The largest seed ``torch.Generator.manual_seed`` takes.
MAX_SEED = 2**64 - 1


def check_seeds(seed: object, n: int) -> list[int]:
    """One seed per member: an int for all (a 0-d array too), or a sequence of n ints."""
    if isinstance(seed, np.ndarray) and seed.ndim == 0:
        seed = seed.item()
    if isinstance(seed, (Sequence, np.ndarray)) and not isinstance(seed, (str, bytes)):
        seeds = [
            check_int(s, f"seed[{i}]", minimum=0, maximum=MAX_SEED) for i, s in enumerate(seed)
        ]
        if len(seeds) != n:
            raise ValueError(f"`seed` must have one entry per network ({n}); got {len(seeds)}")
        return seeds
    return [check_int(seed, "seed", minimum=0, maximum=MAX_SEED)] * n


def member_data(x: object, y: object, per_member: object, n: int) -> tuple:
    """With ``per_member``, ``x`` and ``y`` as arrays of shape (n, N) or (n, N, k); else as is."""
    if not isinstance(per_member, (bool, np.bool_)):
        raise TypeError(f"`per_member` must be True or False; got {per_member!r}")
    if not per_member:
        return x, y
    out = []
    for value, name in ((x, "x"), (y, "y")):
        arr = as_float_array(value.detach().cpu() if torch.is_tensor(value) else value, name)
        if arr.ndim not in (2, 3) or arr.shape[0] != n:
            raise ValueError(
                f"`{name}` must have shape ({n}, N) or ({n}, N, k) with per_member=True: one "
                f"data set per network; got {arr.shape}"
            )
        out.append(arr)
    return tuple(out)


def stack_data(x: np.ndarray, y: np.ndarray, like: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every member's data checked and converted as :func:`train` does, stacked: (M, N, k)."""
    return {
        key: torch.stack([as_data(v[m], f"{name}[{m}]", like) for m in range(len(v))])
        for key, name, v in (("xt", "x", x), ("yt", "y", y))
    }


def can_stack(net: nn.Module) -> bool:
    """False for what vmap cannot batch: buffers (batch-norm statistics), training-mode
    dropout, and a forward that fails under vmap on one row of zeros (``.item()``, Python
    branches on data); such a forward then runs, and fails if it must, one net at a time."""
    has_buffers = next(net.buffers(), None) is not None
    dropout = any(isinstance(m, _DropoutNd) and m.training for m in net.modules())
    return not has_buffers and not dropout and _vmaps(net)


def _vmaps(net: nn.Module) -> bool:
    """Whether a forward of ``net`` on one row of zeros runs under ``torch.vmap``."""
    if (n_in := net_in(net)) is None:
        return True  # no input width known: left to the first step
    p = next(net.parameters())
    row = torch.zeros(1, n_in, dtype=p.dtype, device=p.device)
    params = {name: q.detach()[None] for name, q in net.named_parameters()}
    try:
        with torch.no_grad():
            torch.vmap(lambda ps: functional_call(net, ps, (row,)))(params)
    except RuntimeError:
        return False
    return True


def _available_bytes(device: torch.device) -> int:
    """A share of the memory free on ``device``: CUDA's free memory, else available RAM."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free * _CUDA_SHARE)
    try:  # Linux: MemAvailable counts the page cache the kernel gives back, MemFree does not
        with open("/proc/meminfo") as fh:
            kib = next(int(line.split()[1]) for line in fh if line.startswith("MemAvailable:"))
        return int(kib * 1024 * _CPU_SHARE)
    except (OSError, StopIteration, ValueError, IndexError):
        pass
    try:
        pages = os.sysconf("SC_AVPHYS_PAGES")  # free pages only: a lower bound
        page = os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # no such sysconf name (macOS, Windows)
        return 2**30
    return int(pages * page * _CPU_SHARE)


def chunk_size_for(net: nn.Module, rows: int, members: int, device: torch.device) -> int:
    """Members per batched model, so that one chunk fits the device's free memory.

    A member holds its parameters four times (value, gradient, two optimizer
    states) and, per data row, about four numbers per unit of every layer
    (outputs, activations and their gradients) in a forward and backward pass.
    """
    itemsize = next(net.parameters()).element_size()
    n_params = sum(p.numel() for p in net.parameters())
    widths = [m.out_features for m in net.modules() if isinstance(m, nn.Linear)]
    units = sum(widths) + (net_in(net) or 0) if widths else n_params
    per_member = itemsize * (4 * n_params + 4 * rows * units)
    return max(1, min(members, _available_bytes(device) // max(per_member, 1)))


def net_in(net: nn.Module) -> int | None:
    """The input width of the first ``Linear`` layer, or None when there is none."""
    first = next((m for m in net.modules() if isinstance(m, nn.Linear)), None)
    return None if first is None else first.in_features


def train_stacked(
    nets: Sequence[nn.Module],
    xt: torch.Tensor,
    yt: torch.Tensor,
    *,
    epochs: int,
    lr: float,
    opt_cls: type[torch.optim.Optimizer],
    batch_size: int | None,
    seeds: Sequence[int],
    loss_fn: Callable[..., torch.Tensor],
    loss: str,
    start: float,
    first: int = 0,
    bar: object = None,
) -> list[tuple[int, int, float, float, float]]:
    """Train ``nets`` (one chunk) as one model and write the weights back into each.

    ``xt`` and ``yt``: shape (N, k), shared, or (M, N, k), one data set per
    member. Returns rows ``(member, epoch, loss, lr, seconds)``, members counted from
    ``first``. A non-finite loss raises FloatingPointError naming the
    first member and epoch where it occurred; the networks are then left untouched.
    """
    base, n, device, own = nets[0], xt.shape[-2], xt.device, xt.ndim == 3
    named = [dict(net.named_parameters()) for net in nets]
    stacked = {
        name: torch.stack([d[name].detach() for d in named]).requires_grad_(p.requires_grad)
        for name, p in base.named_parameters()
    }
    opt = opt_cls([t for t in stacked.values() if t.requires_grad], lr=lr)
    step_lr = opt.param_groups[0]["lr"]

    def member_loss(params: dict, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return loss_fn(functional_call(base, params, (xb,)), yb)

    full = torch.vmap(member_loss, in_dims=(0, 0, 0) if own else (0, None, None))
    rows = torch.arange(len(nets), device=device)[:, None]  # each member's own rows
    mini = torch.vmap(member_loss, in_dims=(0, 0, 0))
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    every = _CUDA_CHECK_EVERY if device.type == "cuda" else 1
    losses = torch.empty(epochs, len(nets), dtype=xt.dtype, device=device)
    seconds: list[float] = []
    cached: torch.Tensor | None = None  # the full-batch losses with their graph, current weights
    for epoch in range(1, epochs + 1):
        if batch_size is None:
            opt.zero_grad(set_to_none=True)
            value = cached if cached is not None else full(stacked, xt, yt)
            value.sum().backward()
            opt.step()
        else:
            perms = torch.stack([torch.randperm(n, generator=g) for g in gens]).to(device)
            for idx in perms.split(batch_size, dim=1):
                opt.zero_grad(set_to_none=True)
                pick = (rows, idx) if own else idx
                mini(stacked, xt[pick], yt[pick]).sum().backward()
                opt.step()
        with torch.set_grad_enabled(batch_size is None):
            value = full(stacked, xt, yt)
        cached = value if batch_size is None else None
        losses[epoch - 1] = value.detach()
        seconds.append(time.perf_counter() - start)
        if bar is not None:
            bar.update()
        if epoch % every == 0 or epoch == epochs:
            _check_finite(losses[:epoch], loss, step_lr, first)
    with torch.no_grad():
        for member, d in enumerate(named):
            for name, param in d.items():
                param.copy_(stacked[name][member])
    values = losses.cpu().tolist()
    return [
        (first + member, epoch, values[epoch - 1][member], step_lr, seconds[epoch - 1])
        for member in range(len(nets))
        for epoch in range(1, epochs + 1)
    ]


def _check_finite(losses: torch.Tensor, loss: str, lr: float, first: int) -> None:
    """Raise FloatingPointError at the first epoch (then member) with a non-finite loss."""
    bad = ~torch.isfinite(losses)
    if not bool(bad.any()):
        return
    epoch, member = (int(i) for i in bad.nonzero()[0])
    value = float(losses[epoch, member])
    raise FloatingPointError(
        f"the {loss} loss of member {first + member} (nets[{first + member}]) is {value} at "
        f"epoch {epoch + 1} (train, lr={lr:g}); lower `lr`, rescale x and y, or use float64"
    )
