"""Seeded MLPs, device resolution and a small training loop, in torch.

Variants live in read-only registries; an unknown name gets an error listing
the valid ones. Randomness comes from local generators, never the global RNG.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from itertools import pairwise
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
from torch import nn, optim
from torch.nn import functional as F

from . import _batched
from ._validate import (
    as_real_scalar,
    check_choice,
    check_int,
    check_module,
    plain,
)
from .network._parse import REGISTRY
from .network._torch import as_data, resolve_device

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "OPTIMIZERS",
    "count_parameters",
    "hidden_for_parameters",
    "make_mlp",
    "resolve_device",
    "train",
    "train_many",
]

#: Activation name -> module class (torch's defaults): piecewise-linear ones, then smooth ones.
ACTIVATIONS: Mapping[str, type[nn.Module]] = MappingProxyType(
    {kind.name: kind.module for kind in REGISTRY}
    | {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU}
    | {"elu": nn.ELU, "softplus": nn.Softplus, "silu": nn.SiLU}
)
#: Optimizer name -> ``torch.optim`` class, built with torch's defaults but ``lr``.
OPTIMIZERS: Mapping[str, type[optim.Optimizer]] = MappingProxyType(
    {"adam": optim.Adam, "sgd": optim.SGD, "adamw": optim.AdamW, "lbfgs": optim.LBFGS}
)
#: Loss name -> ``torch.nn.functional`` loss (mean over all entries).
LOSSES: Mapping[str, Callable[..., torch.Tensor]] = MappingProxyType(
    {"mse": F.mse_loss, "mae": F.l1_loss, "huber": F.huber_loss}
)


#: The widest layer :func:`make_mlp` builds, and the most parameters of one network
#: (0.8 GB in float64): beyond them the weights alone would exhaust memory.
_MAX_WIDTH = 2**20
_MAX_PARAMETERS = 10**8


def make_mlp(
    in_features: int = 1,
    hidden: Sequence[int] = (32,),
    out_features: int = 1,
    *,
    activation: str = "relu",
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    seed: int = 0,
) -> nn.Sequential:
    """A seeded multilayer perceptron ``Linear, act, Linear, ..., act, Linear``.

    Weights and biases are drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    as torch's ``nn.Linear`` does, by a local generator seeded with ``seed``,
    in float64 on the CPU, then rounded to ``dtype`` and moved to ``device``:
    a seed gives the same weights on every device (rounded in float32).

    Parameters
    ----------
    in_features : int, default 1
    hidden : sequence of int, default (32,)
        Widths of the hidden layers; ``()`` gives a single ``Linear``. Every
        width (``in_features`` and ``out_features`` too) is at most 2**20,
        and the network at most 10**8 parameters (0.8 GB in float64).
    out_features : int, default 1
    activation : str, default "relu"
        A key of :data:`ACTIVATIONS`: relu, leaky_relu, prelu (one parameter
        per layer), hardtanh, tanh, sigmoid, gelu, elu, softplus, silu.
    dtype : {torch.float32, torch.float64}, default torch.float32
    device : None, "auto", str or torch.device, optional (CPU)
        As in :func:`resolve_device`.
    seed : int, default 0

    Returns
    -------
    torch.nn.Sequential
        Maps (..., in_features) to (..., out_features).

    Examples
    --------
    >>> import torch
    >>> from pwlmodels.nets import make_mlp, count_parameters
    >>> net = make_mlp(1, (8, 8), 1, activation="tanh", seed=1)
    >>> [type(m).__name__ for m in net], count_parameters(net)
    (['Linear', 'Tanh', 'Linear', 'Tanh', 'Linear'], 97)
    >>> again = make_mlp(1, (8, 8), 1, activation="tanh", seed=1)
    >>> all(torch.equal(p, q) for p, q in zip(net.parameters(), again.parameters()))
    True
    """
    sizes = [check_int(in_features, "in_features", maximum=_MAX_WIDTH)]
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, (Sequence, np.ndarray)):
        raise TypeError(
            f"`hidden` must be a sequence of ints such as (32, 32); got {plain(hidden)!r}"
        )
    sizes += [check_int(h, f"hidden[{i}]", maximum=_MAX_WIDTH) for i, h in enumerate(hidden)]
    sizes.append(check_int(out_features, "out_features", maximum=_MAX_WIDTH))
    n_params = sum((a + 1) * b for a, b in pairwise(sizes))
    if n_params > _MAX_PARAMETERS:
        raise ValueError(
            f"`hidden` must give at most {_MAX_PARAMETERS:,} parameters in all; got "
            f"{n_params} for widths {sizes}"
        )
    check_choice(activation, "activation", tuple(ACTIVATIONS))
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"`dtype` must be torch.float32 or torch.float64; got {dtype!r}")
    device = resolve_device(device)
    gen = _generator(seed)
    layers: list[nn.Module] = []
    for fan_in, fan_out in pairwise(sizes):
        if layers:
            layers.append(ACTIVATIONS[activation]().to(dtype=dtype, device=device))
        linear = nn.utils.skip_init(nn.Linear, fan_in, fan_out, device=device, dtype=dtype)
        with torch.no_grad():
            for param in (linear.weight, linear.bias):  # U(-b, b) with b = 1/sqrt(fan_in)
                draw = torch.empty(param.shape, dtype=torch.float64).uniform_(-1, 1, generator=gen)
                param.copy_(draw / math.sqrt(fan_in))
        layers.append(linear)
    return nn.Sequential(*layers)


def count_parameters(net: nn.Module) -> int:
    """The number of scalar parameters of ``net`` (a shared parameter counted once).

    Parameters
    ----------
    net : torch.nn.Module

    Returns
    -------
    int

    Examples
    --------
    >>> from torch import nn
    >>> from pwlmodels.nets import count_parameters
    >>> count_parameters(nn.Sequential(nn.Linear(1, 4), nn.ReLU(), nn.Linear(4, 1)))
    13
    """
    check_module(net)
    return sum(p.numel() for p in net.parameters())


def hidden_for_parameters(
    n_params: int, *, in_features: int = 1, out_features: int = 1, depth: int = 1
) -> int:
    """The hidden width whose :func:`make_mlp` network has closest to ``n_params`` parameters.

    ``depth`` hidden layers of width ``h`` hold ``(n_in + 1) h + (depth - 1)
    (h + 1) h + (h + 1) n_out`` parameters (``activation="prelu"`` adds one
    per hidden layer). Ties go to the smaller width; the width is at least 1.

    Parameters
    ----------
    n_params : int
        The target count, >= 1.
    in_features : int, default 1
    out_features : int, default 1
    depth : int, default 1
        The number of hidden layers.

    Returns
    -------
    int

    Examples
    --------
    >>> from pwlmodels.nets import count_parameters, hidden_for_parameters, make_mlp
    >>> h = hidden_for_parameters(1000, depth=2)
    >>> h, count_parameters(make_mlp(1, (h, h), 1))
    (30, 1021)
    """
    n, depth = check_int(n_params, "n_params"), check_int(depth, "depth")
    n_in, n_out = check_int(in_features, "in_features"), check_int(out_features, "out_features")
    a, b, c = depth - 1, n_in + n_out + depth, n_out - n  # count - n = a h^2 + b h + c
    h = -c / b if a == 0 else (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    widths = sorted({max(1, math.floor(h)), max(1, math.ceil(h))})
    return min(widths, key=lambda w: abs(a * w * w + b * w + c))


def train(
    net: nn.Module,
    x: object,
    y: object,
    *,
    epochs: int,
    lr: float,
    optimizer: str | Callable[[list[nn.Parameter]], optim.Optimizer] = "adam",
    batch_size: int | None = None,
    lbfgs_polish: bool | int = False,
    seed: int = 0,
    progress: bool = False,
    callbacks: Callable | Sequence[Callable[[int, float, nn.Module], object]] = (),
    loss: str = "mse",
) -> pd.DataFrame:
    """Train ``net`` on ``(x, y)`` IN PLACE, as torch optimizers do; return its history.

    Full-batch when ``batch_size`` is None, else mini-batches shuffled by a
    local generator seeded with ``seed``; on the CPU two runs from the same
    weights give bit-identical weights. The net keeps its train/eval mode.
    An epoch's loss is the full-data loss of the weights at its end (with
    full batches and no callbacks, that forward pass also serves the next
    step). A NaN or infinite loss raises a FloatingPointError naming the epoch.

    Parameters
    ----------
    net : torch.nn.Module
        The data are converted to the dtype and device of its parameters.
    x : array_like or torch.Tensor, shape (N,) or (N, n_in)
    y : array_like or torch.Tensor, shape (N,) or (N, n_out)
        Shape (N,) stands for (N, 1).
    epochs : int
        Passes over the data (one optimizer step each for L-BFGS), >= 1.
    lr : float
        Learning rate, > 0. Checked always, but passed only to a named
        optimizer: a factory sets its own learning rate.
    optimizer : {"adam", "sgd", "adamw", "lbfgs"} or callable, default "adam"
        A key of :data:`OPTIMIZERS`: torch's defaults but ``lr``; L-BFGS
        (strong Wolfe line search) is full-batch. Or a factory
        ``optimizer(params) -> torch.optim.Optimizer``, called once with the
        list of trainable parameters in ``net.parameters()`` order (it may
        build parameter groups from ``net`` instead), for what the registry
        does not offer: momentum, weight decay on some groups, other
        optimizers. Its learning rate is the factory's, never ``lr``; the
        history's ``lr`` column reports ``param_groups[0]["lr"]`` of the
        optimizer it returns. A ``torch.optim.LBFGS`` from a factory is
        stepped with a closure and is full-batch too, with the factory's
        options (torch's default is no line search).
    batch_size : int, optional (full batch)
    lbfgs_polish : bool or int, default False
        Then run that many full-batch L-BFGS steps (True: 10; up to 20
        iterations each, strong Wolfe line search, lr 1).
    seed : int, default 0
        Seeds the mini-batch shuffling.
    progress : bool, default False (True: a tqdm progress bar)
    callbacks : callable ``cb(epoch, loss, net)`` or a list or tuple of them, default ()
        Called after every epoch and polish step; a true return value from
        any of them stops training, polish included.
    loss : {"mse", "mae", "huber"}, default "mse"

    Returns
    -------
    pandas.DataFrame
        One row per epoch and polish step: ``epoch`` (from 1; polish steps
        continue the count), ``loss``, ``lr`` (the optimizer's
        ``param_groups[0]["lr"]``: ``lr`` for a named optimizer, 1.0 when
        polishing), ``seconds`` (wall time since training began) and
        ``phase`` ("train" or "polish").

    Examples
    --------
    >>> import numpy as np, torch
    >>> from pwlmodels.nets import make_mlp, train
    >>> x = np.linspace(-1.0, 1.0, 64)
    >>> net = make_mlp(1, (16,), 1, dtype=torch.float64)
    >>> history = train(net, x, np.abs(x), epochs=200, lr=1e-2)
    >>> list(history.columns)
    ['epoch', 'loss', 'lr', 'seconds', 'phase']
    >>> bool(history["loss"].iloc[-1] < 0.01 * history["loss"].iloc[0])
    True

    A factory for options the registry does not set (here SGD with momentum):

    >>> def sgd_momentum(params):
    ...     return torch.optim.SGD(params, lr=0.05, momentum=0.9)
    >>> net = make_mlp(1, (16,), 1, dtype=torch.float64)
    >>> history = train(net, x, np.abs(x), epochs=200, lr=0.05, optimizer=sgd_momentum)
    >>> loss, step = history["loss"], history["lr"]
    >>> bool(loss.iloc[-1] < 0.01 * loss.iloc[0]), float(step.iloc[-1])
    (True, 0.05)
    """
    setup = _setup(net, x, y, epochs, lr, optimizer, batch_size, lbfgs_polish, callbacks, loss)
    xt, yt, epochs, lr, by_name, batch_size, polish, _, loss_fn = setup
    params = [p for p in net.parameters() if p.requires_grad]
    n = xt.shape[0]
    gen = _generator(seed)
    if by_name:
        extra = {"line_search_fn": "strong_wolfe"} if optimizer == "lbfgs" else {}
        opt = OPTIMIZERS[optimizer](params, lr=lr, **extra)
    else:
        if not isinstance(opt := optimizer(params), optim.Optimizer):
            raise TypeError(
                "`optimizer` must return a torch.optim.Optimizer when called with the "
                f"parameters; got {type(opt).__name__}"
            )
        if batch_size is not None and isinstance(opt, optim.LBFGS):
            raise ValueError("an L-BFGS `optimizer` needs full batches; leave `batch_size` as None")
    bar = _progress_bar(progress, epochs + polish, "train")
    loop = _Loop(net, setup, loss, time.perf_counter(), bar, opt=opt)
    try:
        for epoch in range(1, epochs + 1):
            if batch_size is None:
                opt.step(loop.closure)
            else:
                for idx in torch.randperm(n, generator=gen).to(xt.device).split(batch_size):
                    opt.zero_grad(set_to_none=True)
                    loss_fn(net(xt[idx]), yt[idx]).backward()
                    opt.step()
            if loop.record(epoch, "train", batch_size is None):
                polish = 0
                break
        loop.polish(epochs + 1, polish)
    finally:
        if bar is not None:
            bar.close()
    return pd.DataFrame(loop.rows, columns=["epoch", "loss", "lr", "seconds", "phase"])


class _Loop:
    """One network's full-batch loss, L-BFGS closure and history rows.

    What :func:`train` steps its optimizer with, and the L-BFGS polish that
    :func:`train` and :func:`train_many` (member by member) run after the epochs.
    """

    def __init__(self, net, setup, loss: str, start: float, bar, *, opt=None, who: str = ""):
        self.net, self.setup, self.loss, self.start, self.bar = net, setup, loss, start, bar
        self.opt, self.who = opt, who  # ``who``: " of member i (nets[i])" in messages
        self.cached: torch.Tensor | None = None  # a forward pass with its graph, current weights
        self.rows: list[tuple] = []

    def full_loss(self, grad: bool = True) -> torch.Tensor:
        with torch.set_grad_enabled(grad):
            value = self.setup.loss_fn(self.net(self.setup.xt), self.setup.yt)
        self.cached = value if grad else None
        return value

    def closure(self) -> torch.Tensor:
        self.opt.zero_grad(set_to_none=True)
        value, self.cached = (self.cached if self.cached is not None else self.full_loss()), None
        value.backward()
        return value

    def record(self, epoch: int, phase: str, full_batch: bool) -> bool:
        """Append the epoch's row; True when a callback asks to stop."""
        cbs = self.setup.callbacks
        value = self.full_loss(grad=full_batch and not cbs).item()  # a callback may change weights
        step = self.opt.param_groups[0]["lr"]
        if not math.isfinite(value):
            lower = "lower `lr`" if self.setup.by_name else "lower the factory's learning rate"
            raise FloatingPointError(
                f"the {self.loss} loss{self.who} is {value} at epoch {epoch} ({phase}, "
                f"lr={step:g}); {lower}, rescale x and y, or use float64"
            )
        self.rows.append((epoch, value, step, time.perf_counter() - self.start, phase))
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{value:.3e}", refresh=False)
            self.bar.update()
        return any([bool(cb(epoch, value, self.net)) for cb in cbs])  # every callback is called

    def polish(self, first: int, steps: int) -> None:
        """``steps`` full-batch L-BFGS steps (strong Wolfe, lr 1), epochs counted from ``first``."""
        if not steps:
            return
        params = [p for p in self.net.parameters() if p.requires_grad]
        self.opt = optim.LBFGS(params, lr=1.0, line_search_fn="strong_wolfe")
        for epoch in range(first, first + steps):
            self.opt.step(self.closure)
            if self.record(epoch, "polish", True):
                break


def train_many(
    nets: Sequence[nn.Module],
    x: object,
    y: object,
    *,
    epochs: int,
    lr: float,
    optimizer: str | Callable[[list[nn.Parameter]], optim.Optimizer] = "adam",
    batch_size: int | None = None,
    lbfgs_polish: bool | int = False,
    seed: int | Sequence[int] = 0,
    progress: bool = False,
    callbacks: Callable | Sequence[Callable[[int, float, nn.Module], object]] = (),
    loss: str = "mse",
    chunk_size: int | None = None,
    per_member: bool = False,
) -> pd.DataFrame:
    """Train networks of one architecture together, as one batched model, IN PLACE.

    Every network ends as ``train(net, x, y, **same options)`` would leave it
    (its own ``seed`` for the mini-batches): the members' parameters are
    stacked, their losses computed at once by ``torch.vmap`` over
    ``torch.func.functional_call``, and one optimizer steps the stacked
    tensors. Adam, AdamW and SGD act element by element, so only the order
    of the sums in the batched matrix products differs from :func:`train`,
    as it would between two BLAS builds or thread counts: float64 weights
    agree to about 1e-14 relative after hundreds of steps (tested to 1e-8),
    float32 ones to float32 rounding at first. Training can amplify such
    rounding, most where a ReLU unit's kink crosses a data point: measured
    on 1-32-32-1 ReLU networks and 512 points, one in eight float64 networks
    differed by 1e-2 after 2000 Adam steps (as much as :func:`train` itself
    on one thread and on two), and one in 32 float32 ones by 0.3 after 300
    (median 2e-6), with their losses alike. Many small networks train several
    times faster than one by one, and on a GPU thousands at once.

    ``lbfgs_polish``: after the batched epochs, each member is polished on
    its own, by the L-BFGS steps :func:`train` runs (L-BFGS's line search
    and its stopping tests are per network), its history rows following its
    epochs'. L-BFGS grows rounding differences far faster than Adam, as in
    :func:`train`'s own runs from weights one ulp apart: measured on 1-8-8-1
    networks and 48 points, float64 members agree with :func:`train` to
    1e-12 after one polish step, 1e-7 after three, 1e-3 after five, and
    float32 ones differ by up to 7e-2 after one.

    Trained one by one with :func:`train` instead (exactly as it does): a
    single network (stacking one gains nothing), ``optimizer="lbfgs"`` or a
    factory, ``callbacks`` (they see one network each epoch), networks with
    buffers (batch norm) or dropout in training mode, and a forward that
    ``torch.vmap`` cannot batch (``.item()``, a Python branch on the data:
    tried on a row of zeros).

    Parameters
    ----------
    nets : sequence of torch.nn.Module
        At least one; the same module types, settings, modes and parameter
        shapes, on one dtype and device, sharing no parameters.
    x : array_like or torch.Tensor, shape (N,) or (N, n_in); (M, N) or (M, N, n_in)
        As in :func:`train`; with ``per_member``, one data set per network
        (M = ``len(nets)``, the same N for all).
    y : array_like or torch.Tensor, shape (N,) or (N, n_out); (M, N) or (M, N, n_out)
        Likewise.
    epochs, lr, optimizer, batch_size, lbfgs_polish, progress, callbacks, loss
        As in :func:`train`, with the same defaults; ``progress`` shows one
        bar over the epochs of every chunk and the polish steps of every
        member (one bar per network when they train one by one).
    seed : int or sequence of int, default 0
        Seeds the mini-batch shuffling: one for every member, or one per member
        (each from 0 to 2**64 - 1, as ``torch.Generator.manual_seed`` takes).
    chunk_size : int, optional
        Members trained as one model at a time; default as many as fit in a
        share of the free memory (``torch.cuda.mem_get_info`` on CUDA, the
        available RAM on the CPU), estimated from the parameters and the data.
    per_member : bool, default False
        True: ``x[m]`` and ``y[m]`` are the data of ``nets[m]``, and each
        member ends as ``train(nets[m], x[m], y[m], ...)`` would leave it.

    Returns
    -------
    pandas.DataFrame
        :func:`train`'s history of every member, one after another, with a
        first column ``member`` (the index in ``nets``). ``seconds`` counts
        from the start of the call (of each network's training when they
        train one by one).

    Raises
    ------
    FloatingPointError
        A NaN or infinite loss, naming the member and the epoch; in the
        batched epochs, the members trained together with it keep their
        weights from before; in the polish, that member is left where it
        stopped (as :func:`train` leaves it) and the members after it unpolished.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from pwlmodels.nets import make_mlp, train, train_many
    >>> x = np.linspace(-1.0, 1.0, 64)
    >>> nets = [make_mlp(1, (16,), 1, dtype=torch.float64, seed=s) for s in range(4)]
    >>> history = train_many(nets, x, np.abs(x), epochs=100, lr=1e-2)
    >>> list(history.columns), len(history)
    (['member', 'epoch', 'loss', 'lr', 'seconds', 'phase'], 400)
    >>> alone = make_mlp(1, (16,), 1, dtype=torch.float64, seed=3)
    >>> _ = train(alone, x, np.abs(x), epochs=100, lr=1e-2)
    >>> all(torch.allclose(p, q, rtol=1e-10, atol=0.0)
    ...     for p, q in zip(nets[3].parameters(), alone.parameters()))
    True

    With an L-BFGS polish, each member's polish rows follow its epochs:

    >>> history = train_many(nets, x, np.abs(x), epochs=5, lr=1e-2, lbfgs_polish=2)
    >>> list(history.loc[history["member"] == 0, "phase"])
    ['train', 'train', 'train', 'train', 'train', 'polish', 'polish']

    One data set per network, here |x| for the first and relu(x) for the second:

    >>> pair = [make_mlp(1, (16,), 1, dtype=torch.float64, seed=s) for s in range(2)]
    >>> ys = np.stack([np.abs(x), np.maximum(x, 0.0)])
    >>> history = train_many(pair, np.stack([x, x]), ys, epochs=300, lr=1e-2, per_member=True)
    >>> bool(history.groupby("member")["loss"].last().max() < 1e-3)
    True
    """
    members = _batched.check_nets(nets)
    first = members[0]
    checked = (epochs, lr, optimizer, batch_size, lbfgs_polish, callbacks, loss)
    x, y = _batched.member_data(x, y, per_member, len(members))  # per member: (M, N, k)
    setup = _setup(first, *((x[0], y[0]) if per_member else (x, y)), *checked, name="nets[0]")
    if per_member:
        setup = setup._replace(**_batched.stack_data(x, y, setup.xt))
    seeds = _batched.check_seeds(seed, len(members))
    if chunk_size is not None:
        chunk_size = check_int(chunk_size, "chunk_size")
    stackable = setup.by_name and optimizer != "lbfgs" and len(members) > 1
    if not (stackable and not setup.callbacks and _batched.can_stack(first)):
        options = {"epochs": epochs, "lr": lr, "optimizer": optimizer, "batch_size": batch_size}
        options |= {"lbfgs_polish": lbfgs_polish, "progress": progress, "loss": loss}
        data = [(x[i], y[i]) if per_member else (x, y) for i in range(len(members))]
        frames = [
            train(net, *data[i], seed=s, callbacks=callbacks, **options).assign(member=i)
            for i, (net, s) in enumerate(zip(members, seeds, strict=True))
        ]
        history = pd.concat(frames, ignore_index=True)
        return history[["member", *history.columns[:-1]]]
    xt, yt = setup.xt, setup.yt
    size = chunk_size or _batched.chunk_size_for(first, xt.shape[-2], len(members), xt.device)
    chunks = range(0, len(members), size)
    total = setup.epochs * len(chunks) + setup.polish * len(members)
    bar = _progress_bar(progress, total, "train_many")
    rows: list[tuple] = []
    start = time.perf_counter()
    try:
        for i in chunks:
            xi, yi = (xt[i : i + size], yt[i : i + size]) if per_member else (xt, yt)
            trained = _batched.train_stacked(
                members[i : i + size], xi, yi, epochs=setup.epochs, lr=setup.lr,
                opt_cls=OPTIMIZERS[optimizer], batch_size=setup.batch_size,
                seeds=seeds[i : i + size], loss_fn=setup.loss_fn, loss=loss, start=start,
                first=i, bar=bar,
            )  # fmt: skip
            rows += [(*row, "train") for row in trained]
        for i, net in enumerate(members if setup.polish else ()):
            own = setup._replace(xt=xt[i], yt=yt[i]) if per_member else setup
            loop = _Loop(net, own, loss, start, bar, who=f" of member {i} (nets[{i}])")
            loop.polish(setup.epochs + 1, setup.polish)
            rows += [(i, *row) for row in loop.rows]
    finally:
        if bar is not None:
            bar.close()
    history = pd.DataFrame(rows, columns=["member", "epoch", "loss", "lr", "seconds", "phase"])
    return history.sort_values("member", kind="stable", ignore_index=True)


def _generator(seed: object) -> torch.Generator:
    """A CPU generator seeded with ``seed``, an int from 0 to 2**64 - 1 (torch's range)."""
    return torch.Generator().manual_seed(
        check_int(seed, "seed", minimum=0, maximum=_batched.MAX_SEED)
    )


def _progress_bar(progress: bool, total: int, desc: str):
    """A tqdm bar over ``total`` epochs when ``progress``, else None."""
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"`progress` must be True or False; got {type(progress).__name__}")
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError as exc:
        raise ImportError("progress=True needs tqdm; install it: `pip install tqdm`") from exc
    return tqdm(total=total, desc=desc, unit="epoch")


class _Setup(NamedTuple):
    """What :func:`train` and :func:`train_many` check once: data and options."""

    xt: torch.Tensor
    yt: torch.Tensor
    epochs: int
    lr: float
    by_name: bool
    batch_size: int | None
    polish: int
    callbacks: list[Callable]
    loss_fn: Callable[..., torch.Tensor]


def _setup(
    net, x, y, epochs, lr, optimizer, batch_size, lbfgs_polish, callbacks, loss, name="net"
) -> _Setup:
    """Check the options of :func:`train` for ``net`` (called ``name``); the data as its tensors."""
    check_module(net, name)
    if not (params := [p for p in net.parameters() if p.requires_grad]):
        raise ValueError(f"`{name}` must have trainable parameters; got none with requires_grad")
    xt, yt = as_data(x, "x", params[0]), as_data(y, "y", params[0])
    if (n := xt.shape[0]) != yt.shape[0]:
        raise ValueError(f"`x` and `y` must have the same number of rows; got {n} and {len(yt)}")
    if linears := [m for m in net.modules() if isinstance(m, nn.Linear)]:
        n_in, n_out = linears[0].in_features, linears[-1].out_features
        for name, data, k in (("x", xt, n_in), ("y", yt, n_out)):
            if data.shape[1] != k:
                got = tuple(np.shape(x if name == "x" else y))
                raise ValueError(f"`{name}` must have shape (N, {k}) for this net; got {got}")
    epochs = check_int(epochs, "epochs")
    if (lr := as_real_scalar(lr, "lr")) <= 0:
        raise ValueError(f"`lr` must be > 0; got {lr!r}")
    by_name = isinstance(optimizer, str)
    if by_name:
        check_choice(optimizer, "optimizer", tuple(OPTIMIZERS))
    elif not callable(optimizer):
        built = " already built" if isinstance(optimizer, optim.Optimizer) else ""
        raise TypeError(
            f"`optimizer` must be one of {', '.join(map(repr, OPTIMIZERS))} or a callable "
            f"params -> torch.optim.Optimizer such as lambda params: torch.optim.SGD(params, "
            f"lr=0.1, momentum=0.9); got {type(optimizer).__name__}{built}"
        )
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size")
        if by_name and optimizer == "lbfgs":
            raise ValueError("optimizer='lbfgs' needs full batches; leave `batch_size` as None")
    if isinstance(lbfgs_polish, (bool, np.bool_)):
        lbfgs_polish = 10 if lbfgs_polish else 0
    polish = check_int(lbfgs_polish, "lbfgs_polish", minimum=0)
    cbs = list(callbacks) if isinstance(callbacks, (list, tuple)) else [callbacks]
    if bad := [i for i, cb in enumerate(cbs) if not callable(cb)]:
        raise TypeError(f"`callbacks[{bad[0]}]` must be callable; got {cbs[bad[0]]!r}")
    check_choice(loss, "loss", tuple(LOSSES))
    return _Setup(xt, yt, epochs, lr, by_name, batch_size, polish, cbs, LOSSES[loss])
