"""Experiments on dying ReLU units, their fixes, and optimizers after a dead spell.

Part of the diagnostics page's experiments (see ``claims``): each function
takes a ``seed``, draws from local generators only, trains small float64
networks on the CPU with full batches, and returns a tidy DataFrame.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd
import torch
from torch import nn, optim
from torch.nn import functional as F

from pwlmodels.diagnostics import BiasWarming, dead_units
from pwlmodels.nets import OPTIMIZERS, make_mlp, train

from .claims import DEAD_BIAS, F64, _gen, _interval, _kill

__all__: list[str] = []

N_DEAD, WIDTH = 24, 32  # of the revival experiment: dead units out of the layer's width


def _target(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(3.0 * x)


def _dead(
    net: nn.Module, x: torch.Tensor, *, layer: int = 0, units: int | None = None
) -> np.ndarray:
    """``dead_units(net, x)["dead"]`` of activation layer ``layer``, units ``:units``."""
    table = dead_units(net, x)
    return table["dead"].to_numpy()[table["layer"].to_numpy() == layer][:units]


#: The optimizers of these experiments: ``nets.OPTIMIZERS`` but L-BFGS, and SGD with momentum 0.9.
_OPTIMIZER_NAMES = (*(name for name in OPTIMIZERS if name != "lbfgs"), "sgd_momentum")


def _optimizer(name: str, params: object, lr: float, weight_decay: float = 0.0):
    if name not in _OPTIMIZER_NAMES:
        raise ValueError(f"`optimizer` must be one of {_OPTIMIZER_NAMES}; got {name!r}")
    if name == "sgd_momentum":
        return optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    return OPTIMIZERS[name](params, lr=lr, weight_decay=weight_decay)


def _factory(name: str, lr: float, groups: list[dict] | None = None) -> Callable:
    """A ``train`` optimizer factory: ``_optimizer`` on ``groups``, else on the parameters."""
    return lambda params: _optimizer(name, params if groups is None else groups, lr)


def _groups(net: nn.Sequential, weight_decay: float, bias_decay: float) -> list[dict]:
    """The weights and the biases of a one-hidden-layer net as two decay groups."""
    return [
        {"params": [net[0].weight, net[2].weight], "weight_decay": weight_decay},
        {"params": [net[0].bias, net[2].bias], "weight_decay": bias_decay},
    ]


def _measured(net: nn.Module, measure: Callable, *, now: bool = True) -> tuple[list, Callable]:
    """``measure(net)`` now (unless ``now`` is False), and a ``train`` callback doing it per step.

    Returns the list the values go into and the callback, which never stops training.
    """
    values = [measure(net)] if now else []

    def callback(epoch: int, loss: float, net: nn.Module) -> bool:
        values.append(measure(net))
        return False

    return values, callback


def _dead_grad(net: nn.Module, units: int = 8) -> float:
    """The largest |gradient| of first-layer units ``:units`` (of the step just taken)."""
    g = torch.cat([net[0].weight.grad[:units, 0], net[0].bias.grad[:units]])
    return float(g.abs().max())


def _dead_and_loss(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """The dead fraction (the net's own z) and the loss (with any warming shift)."""
    with torch.no_grad():
        loss = float(F.mse_loss(net(x), y))
    return float(_dead(net, x).mean()), loss


def first_layer_stays_dead(
    *, seed: int = 0, steps: int = 300, lrs: tuple = (1e-3, 1e-2, 1e-1, 1.0)
) -> pd.DataFrame:
    """Dead first-layer units (bias -2, weights U(+-0.1), inputs in [-1, 1]) never move.

    A 1-16-1 network, 8 of the 16 units dead, fitted to sin(3x) at 64
    points for ``steps`` full-batch steps of SGD, SGD with momentum 0.9 and
    Adam, each without weight decay, at every learning rate in ``lrs``.
    """
    x = _interval(64)
    y = _target(x)
    rows = []
    for opt_name in ("sgd", "sgd_momentum", "adam"):
        for lr in lrs:
            net = make_mlp(1, (16,), 1, dtype=F64, seed=seed)
            _kill(net[0], slice(0, 8), _gen(seed + 1))
            w0, b0 = net[0].weight[:8].detach().clone(), net[0].bias[:8].detach().clone()
            grads, log = _measured(net, _dead_grad, now=False)
            opt = opt_name if opt_name in OPTIMIZERS else _factory(opt_name, lr)
            history = train(net, x, y, epochs=steps, lr=lr, optimizer=opt, callbacks=log)
            max_grad = max([0.0, *grads])
            with torch.no_grad():
                change = max(
                    float((net[0].weight[:8] - w0).abs().max()),
                    float((net[0].bias[:8] - b0).abs().max()),
                )
            final = float(history["loss"].iloc[-1])
            dead = float(_dead(net, x, units=8).mean())
            rows.append((opt_name, lr, max_grad, change, dead, final))
    cols = ["optimizer", "lr", "max_abs_grad_dead", "max_abs_change_dead", "still_dead_fraction"]
    return pd.DataFrame(rows, columns=[*cols, "final_loss"])


def leaky_gradients(*, seed: int = 0) -> pd.DataFrame:
    """The smallest |gradient| of the dead-initialised units' weights and biases, at init."""
    x = _interval(64)
    rows = []
    for act in ("relu", "leaky_relu"):
        net = make_mlp(1, (16,), 1, activation=act, dtype=F64, seed=seed)
        _kill(net[0], slice(0, 8), _gen(seed + 1))
        F.mse_loss(net(x), _target(x)).backward()
        g = torch.cat([net[0].weight.grad[:8, 0], net[0].bias.grad[:8]]).abs()
        rows.append((act, float(g.min()), float(g.max()), int((g == 0).sum())))
    return pd.DataFrame(rows, columns=["activation", "min_abs_grad", "max_abs_grad", "zero_grads"])


def deeper_units_revive(
    *, seed: int = 0, replicates: int = 5, steps: int = 500, lr: float = 1e-2, margin: float = 0.05
) -> pd.DataFrame:
    """Units dead by ``margin`` in layer 2 can revive as layer 1 trains; in layer 1 they cannot.

    A 1-16-16-1 network fitted by Adam to sin(3x); in layer ``layer`` units
    0..7 get the bias that puts their largest pre-activation on the data at
    ``-margin``. One row per replicate and layer.
    """
    x = _interval(64)
    y = _target(x)
    rows = []
    for rep in range(replicates):
        for layer in (0, 2):
            net = make_mlp(1, (16, 16), 1, dtype=F64, seed=seed + rep)
            with torch.no_grad():
                z = net[: layer + 1](x)
                net[layer].bias[:8] -= z[:, :8].max(0).values + margin
            dead, log = _measured(net, partial(_dead, x=x, layer=layer // 2, units=8), now=False)
            train(net, x, y, epochs=steps, lr=lr, optimizer="adam", callbacks=log)
            ever = ~np.logical_and.reduce(dead)  # active after some step
            alive = int((~dead[-1]).sum())
            rows.append((seed + rep, layer // 2 + 1, 8, int(ever.sum()), alive))
    cols = ["seed", "layer", "dead_at_start", "revived_ever", "alive_at_end"]
    return pd.DataFrame(rows, columns=cols)


def momentum_after_death(*, seed: int = 0, after: int = 100) -> pd.DataFrame:
    """How far a unit moves after the step that killed it: plain SGD, momentum, Adam.

    One unit ``relu(x + b)`` on 16 points ``x`` in [0, 1] (dead once ``b <=
    -1``), loss ``mean(relu(x + b)^2)`` (it pushes ``b`` down), ``b = 0.5`` at
    the start; ``seed`` is unused (the problem has no randomness) but kept
    for a uniform signature. SGD with momentum m moves a dead unit by
    ``lr * buf * (m + ... + m^k)`` over k zero-gradient steps, ``buf`` the
    momentum buffer when it died.
    """
    del seed
    x = torch.linspace(0.0, 1.0, 16, dtype=F64)
    rows = []
    for name, lr in (("sgd", 2.0), ("sgd_momentum", 0.3), ("adam", 0.5)):
        b = torch.tensor(0.5, dtype=F64, requires_grad=True)
        opt = _optimizer(name, [b], lr)
        died, at_death, buf, revived = None, math.nan, math.nan, False
        for t in range(1, 1000):  # by hand: a bare tensor; reads the optimizer state at death
            opt.zero_grad()
            F.relu(x + b).pow(2).mean().backward()
            opt.step()
            alive = bool((x + b.detach() > 0).any())
            if died is None and not alive:
                died, at_death = t, float(b.detach())
                state = opt.state[b]
                buf = float(state["momentum_buffer"]) if "momentum_buffer" in state else math.nan
            elif died is not None:
                revived |= alive
                if t == died + after:
                    break
        moved = float(b.detach()) - at_death if died is not None else math.nan
        closed = math.nan
        if name == "sgd":
            closed = 0.0
        elif name == "sgd_momentum" and died is not None:
            closed = -lr * buf * sum(0.9**k for k in range(1, after + 1))
        rows.append((name, lr, died, at_death, moved, closed, revived))
    cols = ["optimizer", "lr", "died_at_step", "b_at_death", "moved_after_death"]
    return pd.DataFrame(rows, columns=[*cols, "closed_form", "revived"])


#: (optimizer, lr, weight_decay): lr * weight_decay = 1e-2 for SGD and AdamW
DECAY_RUNS = (("sgd", 0.05, 0.2), ("adam", 0.01, 0.1), ("adamw", 0.01, 1.0))


def decay_revival(*, seed: int = 0, steps: int = 600) -> pd.DataFrame:
    """Weight decay on all parameters, on weights only, on biases only, or none.

    The 1-16-1 set-up of :func:`first_layer_stays_dead` (8 dead units),
    trained by each of ``DECAY_RUNS``. While a unit is dead its gradient is
    0, so SGD's L2 term and AdamW's decoupled decay multiply its parameters by
    ``1 - lr wd`` per step: decaying the bias alone revives unit j at the
    first step t with ``|w_j| + b0 (1 - lr wd)^t > 0`` (the closed form).
    """
    x = _interval(64)
    y = _target(x)
    rows = []
    for opt_name, lr, wd in DECAY_RUNS:
        for where in ("none", "all", "weights", "biases"):
            net = make_mlp(1, (16,), 1, dtype=F64, seed=seed)
            _kill(net[0], slice(0, 8), _gen(seed + 1))
            w_dead = net[0].weight[:8, 0].detach().abs().clone()
            decay_w = wd if where in ("all", "weights") else 0.0
            decay_b = wd if where in ("all", "biases") else 0.0
            opt = _factory(opt_name, lr, _groups(net, decay_w, decay_b))
            dead, log = _measured(net, partial(_dead, x=x, units=8))  # dead[t]: after t steps
            history = train(net, x, y, epochs=steps, lr=lr, optimizer=opt, callbacks=log)
            first = next((t for t, d in enumerate(dead) if not d.all()), None)
            revived = float((~dead[-1]).mean())
            with torch.no_grad():
                bias = float(net[0].bias[:8].mean())
            final = float(history["loss"].iloc[-1])
            closed = math.nan
            if where == "biases" and opt_name in ("sgd", "adamw"):
                ratio = float(w_dead.max()) / -DEAD_BIAS
                closed = math.floor(math.log(ratio) / math.log1p(-lr * wd)) + 1
            first = first if first is not None else math.nan  # a revival at step 0 is 0
            rows.append((opt_name, where, lr, wd, revived, first, closed, bias, final))
    cols = ["optimizer", "decay_on", "lr", "weight_decay", "revived_fraction"]
    cols += ["first_revival_step", "closed_form_first_revival", "mean_dead_bias", "final_loss"]
    return pd.DataFrame(rows, columns=cols)


#: method -> (activation, optimizer, weight_decay, decay on biases only, bias warming)
REVIVAL_METHODS = {
    "ReLU, Adam": ("relu", "adam", 0.0, False, False),
    "Leaky ReLU (0.01), Adam": ("leaky_relu", "adam", 0.0, False, False),
    "ReLU + bias warming, Adam": ("relu", "adam", 0.0, False, True),
    "ReLU, Adam + L2 decay 1e-2 (all)": ("relu", "adam", 1e-2, False, False),
    "ReLU, AdamW decay 1 (biases only)": ("relu", "adamw", 1.0, True, False),
}
WARM_GAMMA, WARM_STEPS = 3.0, 500


def revival_over_training(
    *,
    seed: int = 0,
    replicates: int = 3,
    epochs: int = 1500,
    lr: float = 1e-2,
    methods: tuple = tuple(REVIVAL_METHODS),
) -> pd.DataFrame:
    """Dead fraction over training for ReLU, Leaky ReLU, bias warming and weight decay.

    A 1-32-1 network with 24 of its 32 units dead-initialised (bias -2,
    weights U(+-0.1)), fitted to sin(3x) at 64 points in [-1, 1], full batch,
    lr 1e-2, for each of ``methods`` (keys of ``REVIVAL_METHODS``). Bias
    warming: gamma 3 annealed linearly to 0 over 500 steps.
    "Dead" is measured on the network's own pre-activations (no warming
    shift): never > 0 on the data. One row per method, replicate and epoch
    (0 to ``epochs``: the state after that many steps); ``loss`` includes the
    warming shift while it is non-zero, except in the last row.
    """
    x = _interval(64)
    y = _target(x)
    frames = []
    for rep in range(replicates):
        s = seed + rep
        for method in methods:
            act, opt_name, wd, biases_only, warming = REVIVAL_METHODS[method]
            net = make_mlp(1, (WIDTH,), 1, activation=act, dtype=F64, seed=s)
            _kill(net[0], slice(0, N_DEAD), _gen(s + 1))
            opt = _factory(opt_name, lr, _groups(net, 0.0 if biases_only else wd, wd))
            warm = BiasWarming(net, gamma=WARM_GAMMA, steps=WARM_STEPS) if warming else None
            # row t: after t steps, the loss with the shift of step t + 1 (warm steps first)
            rows, log = _measured(net, partial(_dead_and_loss, x=x, y=y))
            callbacks = [log] if warm is None else [warm, log]
            train(net, x, y, epochs=epochs, lr=lr, optimizer=opt, callbacks=callbacks)
            if warm is not None:  # the last row: the network's own loss, without the shift
                warm.remove()
                rows[-1] = _dead_and_loss(net, x, y)
            dead, losses = np.array(rows).T
            table = {"method": method, "seed": s, "epoch": np.arange(epochs + 1)}
            frames.append(pd.DataFrame(table | {"dead_fraction": dead, "loss": losses}))
    return pd.concat(frames, ignore_index=True)


def _he(net: nn.Sequential, gen: torch.Generator, bias: float) -> None:
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu", generator=gen)
                m.bias.fill_(bias)


INITS = ("default", "he", "he + bias 0.1")


def dead_vs_lr(
    *,
    seed: int = 0,
    replicates: int = 3,
    lrs: tuple = (1e-4, 1e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0),
    inits: tuple = INITS,
    epochs: int = 200,
    n: int = 256,
) -> pd.DataFrame:
    """Fraction of dead hidden units after Adam training, against lr and initialisation.

    A 2-64-64-1 ReLU network fitted to ``sin(2 x0) + x1^2 / 2`` at ``n``
    standard normal inputs, full batch, ``epochs`` Adam steps. ``default``:
    torch's U(+-1/sqrt(fan_in)); ``he``: He normal weights (He et al. 2015),
    zero biases; ``he + bias 0.1``: the same with biases 0.1. Dead: never
    active on the training inputs; both hidden layers together.
    """
    rows = []
    for rep in range(replicates):
        s = seed + rep
        x = torch.randn(n, 2, generator=_gen(50_000 + s), dtype=F64)
        y = (torch.sin(2 * x[:, 0]) + x[:, 1] ** 2 / 2)[:, None]
        for init in inits:
            for lr in lrs:
                net = make_mlp(2, (64, 64), 1, dtype=F64, seed=s)
                if init != "default":
                    _he(net, _gen(60_000 + s), 0.1 if "bias" in init else 0.0)
                start = float(dead_units(net, x)["dead"].mean())
                history = train(net, x, y, epochs=epochs, lr=lr, optimizer="adam")
                final = float(history["loss"].iloc[-1])
                dead = float(dead_units(net, x)["dead"].mean())
                rows.append((s, init, lr, start, dead, final))
    cols = ["seed", "init", "lr", "dead_fraction_at_init", "dead_fraction", "final_loss"]
    return pd.DataFrame(rows, columns=cols)


#: name -> (optimizer class, options, the closed-form first step / lr after a long spell)
SPELL_OPTIMIZERS = {
    "sgd": (optim.SGD, {"lr": 1e-2}, None),
    "rmsprop": (optim.RMSprop, {"lr": 1e-3, "alpha": 0.99, "eps": 0.0}, 1 / math.sqrt(0.01)),
    "adam": (optim.Adam, {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 0.0}, 0.1 / math.sqrt(1e-3)),
}


def dead_spell_first_step(
    *,
    seed: int = 0,
    alive: int = 200,
    checkpoints: tuple = (10, 100, 1000, 3000, 10_000, 20_000),
) -> pd.DataFrame:
    """The first step of a revived unit's bias after a dead spell, against closed forms.

    One unit ``relu(0.8 x + b)`` (output weight 1; only ``b`` is trained)
    fitted to ``relu(0.8 x + 0.3)`` at 32 seeded points in [-1, 1] for
    ``alive`` steps; then ``b = -3`` kills it, and the optimizer steps on its
    exactly zero gradient (checked by autograd every 1000 steps; fed directly
    in between, for speed) for ``max(checkpoints)`` steps (SGD, which keeps
    no state: the checkpoints up to 1000). At each checkpoint a
    copy of the unit and its optimizer is revived by :class:`BiasWarming`
    (gamma 4: ``w x + b + 4 > 0``), and one step taken: ``first_step_over_lr
    = |db| / lr``. ``exact`` recomputes it from the optimizer's state (the
    same recursion in float64); ``closed_form`` is the long-spell limit:
    RMSprop ``1 / sqrt(1 - alpha) = 10``, Adam ``(1 - beta1) / sqrt(1 -
    beta2) = 3.162``, SGD ``|g|``. eps = 0, float64 (in float32 RMSprop's
    second moment underflows during the spell and eps = 0 gives 0/0).
    """
    gen = _gen(seed)
    x = (torch.rand(32, 1, generator=gen, dtype=F64) * 2 - 1).sort(0).values
    y = F.relu(0.8 * x + 0.3)
    rows = []
    for name, (cls, options, closed) in SPELL_OPTIMIZERS.items():
        linear = [nn.utils.skip_init(nn.Linear, 1, 1, dtype=F64) for _ in range(2)]
        net = nn.Sequential(linear[0], nn.ReLU(), linear[1])  # no draw: filled below
        with torch.no_grad():
            net[0].weight.fill_(0.8)
            net[0].bias.fill_(-0.2)
            net[2].weight.fill_(1.0)
            net[2].bias.fill_(0.0)
        net.requires_grad_(False)
        bias = net[0].bias.requires_grad_(True)  # the one parameter stepped
        opt = cls([bias], **options)
        for _ in range(alive):  # by hand: this optimizer's state goes on into the spell
            opt.zero_grad()
            F.mse_loss(net(x), y).backward()
            opt.step()
        with torch.no_grad():
            bias.fill_(-3.0)
        max_grad, zero = 0.0, torch.zeros_like(bias)
        spell = max(checkpoints) if name != "sgd" else max(c for c in checkpoints if c <= 1000)
        for t in range(1, spell + 1):  # by hand: steps on a zero gradient fed directly
            if t % 1000 == 1:
                opt.zero_grad()
                F.mse_loss(net(x), y).backward()
                max_grad = max(max_grad, float(bias.grad.abs().max()))
            bias.grad = zero
            opt.step()
            if t in checkpoints:
                rows.append((name, t, *_revive(net, opt, cls, options, x, y), closed, max_grad))
    cols = ["optimizer", "spell", "grad_b", "first_step_over_lr", "exact", "closed_form"]
    df = pd.DataFrame(rows, columns=[*cols, "max_abs_grad_during_spell"])
    sgd = df["optimizer"] == "sgd"
    df.loc[sgd, "closed_form"] = df.loc[sgd, "grad_b"].abs()
    return df


def _revive(net, opt, cls, options, x, y) -> tuple[float, float, float]:
    """On copies: warm, take one step; (gradient of b, |db| / lr, the exact recursion's)."""
    twin = copy.deepcopy(net)
    params = [twin[0].weight, twin[0].bias]
    twin_opt = cls([params[1]], **options)  # by hand: one step of a copied optimizer state
    twin_opt.load_state_dict(copy.deepcopy(opt.state_dict()))
    lr = options["lr"]
    with BiasWarming(twin, gamma=4.0, steps=10**9):
        twin_opt.zero_grad()
        F.mse_loss(twin(x), y).backward()
        g = float(params[1].grad)
        before = float(params[1].detach())
        old = twin_opt.state[params[1]]
        state = {k: (v.clone() if torch.is_tensor(v) else v) for k, v in old.items()}
        twin_opt.step()
    step = abs(float(params[1].detach()) - before) / lr
    if cls is optim.RMSprop:
        a = options["alpha"]
        exact = abs(g) / math.sqrt(a * float(state["square_avg"]) + (1 - a) * g * g)
    elif cls is optim.Adam:
        b1, b2 = options["betas"]
        t = float(state["step"]) + 1
        m = (b1 * float(state["exp_avg"]) + (1 - b1) * g) / (1 - b1**t)
        v = (b2 * float(state["exp_avg_sq"]) + (1 - b2) * g * g) / (1 - b2**t)
        exact = abs(m) / math.sqrt(v)
    else:
        exact = abs(g)
    return g, step, exact
