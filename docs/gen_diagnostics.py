"""Run the diagnostics experiments and write docs/diagnostics.md with its figures.

    python docs/gen_diagnostics.py              # docs/diagnostics.md, docs/figures/diagnostics/
    python docs/gen_diagnostics.py --out DIR --quick    # small settings, seconds (for the test)

Every number on the page is computed here, from the experiment functions in
``docs/claims/claims.py`` and ``docs/claims/dying.py`` (seeded, CPU, float64),
except the timing claim, read from ``benchmarks/results/activations.csv``
(written by ``benchmarks/bench_activations.py``) when that file exists. The
settings the text states (learning rates, step counts, widths, seeds) come from
the experiment functions' defaults and module constants, updated by the
``--quick`` settings, so the page says what was run. Files are written
atomically.
"""

from __future__ import annotations

import argparse
import inspect
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a source tree: applications/ and docs/ are importable

from applications.report import markdown_table, write_atomic  # noqa: E402
from docs.claims import claims as cl  # noqa: E402
from docs.claims import dying as cd  # noqa: E402
from pwlmodels.diagnostics import check_homogeneity  # noqa: E402

BENCH = ROOT / "benchmarks" / "results" / "activations.csv"
FIGS = Path("figures") / "diagnostics"
DEAD_INIT = f"bias {cl.DEAD_BIAS:g}, weights U(-{cl.DEAD_WEIGHT:g}, {cl.DEAD_WEIGHT:g})"

FULL: dict[str, dict] = {}
QUICK: dict[str, dict] = {
    "expected": {"n": 20_000},
    "path": {"n": 64},
    "gradients": {"replicates": 2, "depth": 4, "width": 16, "n": 64},
    "half": {"replicates": 5, "n": 128},
    "first": {"steps": 10, "lrs": (1e-2, 1.0)},
    "deeper": {"replicates": 2, "steps": 30},
    "decay": {"steps": 40},
    "revival": {"replicates": 2, "epochs": 40},
    "lr": {"replicates": 2, "lrs": (1e-3, 1e-1), "inits": ("default", "he"), "epochs": 10, "n": 64},
    "spell": {"checkpoints": (10, 100)},
}


def _save(fig, out: Path, name: str) -> str:
    import matplotlib.pyplot as plt

    from pwlmodels.plotting import save_figure

    save_figure(fig, out / FIGS / name)
    plt.close(fig)
    return f"![{name}]({(FIGS / name).as_posix()})"


def _verdict(ok: bool, yes: str = "Agrees", no: str = "Disagrees") -> str:
    return f"**{yes if ok else no}.**"


def _settings(fn, cfg: dict | None = None, key: str = "") -> dict:
    """The keyword arguments ``fn`` runs with: its defaults, updated by ``cfg[key]``."""
    params = inspect.signature(fn).parameters.items()
    defaults = {name: p.default for name, p in params if p.default is not p.empty}
    return defaults | (cfg or {}).get(key, {})


def _sci(value: float, digits: int = 3) -> str:
    """A setting in the page's scientific notation: 0.01 -> 1e-2, 9.5367e-7 -> 9.54e-7."""
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


# ---------------------------------------------------------------- sections
def expected_section(cfg: dict) -> str:
    df = cl.expected_activations(**cfg.get("expected", {}))
    err = float(df["abs_error"].max())
    z = ((df["monte_carlo"] - df["closed_form"]).abs() / df["se"]).dropna().max()
    return f"""## Mean activation of a standard normal input

**Claim.** E[ReLU(Z)] = 1/sqrt(2 pi) = 0.39894, E[GELU(Z)] = 1/(2 sqrt(pi)) = 0.28209
(GELU of Hendrycks and Gimpel 2016, exact erf form), so their ratio is sqrt(2).
**Conditions.** Z ~ N(0, 1); torch's `nn.GELU()` (approximate="none").
**How measured.** `expected_activation(name)`: adaptive quadrature (scipy `quad`, split at the
kinks) of torch's float64 activation against the normal density; and a seeded Monte Carlo mean
with its standard error.
**Measured.** Largest quadrature error {err:.1e}; the Monte Carlo means lie within {z:.1f}
standard errors. {_verdict(err < 1e-8)}

{markdown_table(df)}"""


def path_section(cfg: dict) -> str:
    df = cl.sigmoid_path_bound(**cfg.get("path", {}))
    run = _settings(cl.sigmoid_path_bound, cfg, "path")
    depth, width = run["depth"], run["width"]
    sig = df[df.activation == "sigmoid"].iloc[0]
    ok = sig.max_path_product <= sig.bound and sig.max_sigmoid_derivative == 0.25
    return f"""## sigmoid' <= 1/4, so {depth} sigmoid layers shrink every path by 4^-{depth}

**Claim.** sigma'(z) = sigma(z)(1 - sigma(z)) <= 1/4, so along any path through {depth} sigmoid
layers the product of activation derivatives is at most 4^-{depth} = {_sci(0.25**depth)}.
**Conditions.** Any weights; the bound is on the activation factors only (the weights multiply
in as well, see the next section).
**How measured.** The largest sigma' on a grid of 160 001 points in [-8, 8]; in a
default-initialised 8-{width}x{depth}-1 network at standard normal inputs, the largest path
product, which is the product over layers of the largest sigma' in each layer (a path picks one
unit per layer).
**Measured.** max sigma' = {sig.max_sigmoid_derivative:.6g} (at z = 0); the largest path product
{sig.max_path_product:.4g} against the bound {sig.bound:.4g}: default-initialised pre-activations
are small, so every factor is close to 1/4 and the bound is nearly attained. tanh and ReLU have
factors up to 1. {_verdict(ok)}

{markdown_table(df)}"""


def gradient_section(cfg: dict, out: Path) -> str:
    import matplotlib.pyplot as plt

    flow = cl.gradient_norms(**cfg.get("gradients", {}))
    run = _settings(cl.gradient_norms, cfg, "gradients")
    ratios = cl.gradient_ratio(flow)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True, constrained_layout=True)
    for ax, init in zip(axes, ("default", "xavier"), strict=True):
        for i, act in enumerate(("sigmoid", "tanh", "relu")):
            g = flow[(flow.activation == act) & (flow.init == init)]
            geo = g.groupby("layer")["weight_grad_norm"].apply(lambda v: np.exp(np.log(v).mean()))
            ax.semilogy(geo.index, geo.to_numpy(), "o-", color=f"C{i}", label=act, ms=4)
        ax.set_xlabel("Linear layer (0 = input side)")
        ax.set_title(f"{init} initialisation")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("||dL/dW||, Frobenius (geometric mean over seeds)")
    axes[0].legend(frameon=False)
    depth = int(flow.layer.max())
    fig.suptitle(
        f"Gradient norm per layer at initialisation, depth-{depth} networks: sigmoid "
        "vanishes under both inits; tanh and ReLU keep it level under Xavier"
    )
    image = _save(fig, out, "gradient_norms.png")
    r = ratios.set_index(["activation", "init"])

    def fmt(act: str, init: str) -> str:
        row = r.loc[(act, init)]
        return f"{row.log10_ratio:+.2f} +- {row.se:.2f}"

    ok = r.loc[("sigmoid", "default"), "log10_ratio"] < r.loc[("relu", "default"), "log10_ratio"]
    rx = flow[(flow.activation == "relu") & (flow.init == "xavier")]
    signal = rx.groupby("layer")["output_grad_norm"].apply(lambda v: np.log10(v).mean())
    signal_drop = float(signal.iloc[0] - signal.iloc[-1])
    show = ratios.copy()
    return f"""## Vanishing gradients: sigmoid, tanh and ReLU, default and Xavier initialisation

**Claim.** Deep sigmoid networks have vanishing gradients; whether the gradient norm shrinks
towards the input also depends on the weights (Glorot and Bengio 2010).
**Conditions.** 16-{run["width"]}x{run["depth"]}-1 networks at initialisation, standard normal
inputs and targets, MSE, {int(ratios.replicates.max())} seeds. "default": torch's `nn.Linear`
initialisation U(+-1/sqrt(fan_in)); "xavier": `xavier_uniform_` weights, zero biases.
**How measured.** `gradient_flow(net, x, y)` (per-layer norms through `torch.autograd.grad`); the
table gives log10(||dL/dW_first|| / ||dL/dW_last||), mean +- standard error over seeds.
**Measured.** log10 ratio first/last layer: sigmoid {fmt("sigmoid", "default")} (default),
{fmt("sigmoid", "xavier")} (Xavier); tanh {fmt("tanh", "default")} / {fmt("tanh", "xavier")};
ReLU {fmt("relu", "default")} / {fmt("relu", "xavier")}. The default initialisation shrinks
the gradient towards the input for all three (its weights have variance 1/(3 fan_in), below the
1/fan_in a tanh or the 2/fan_in a ReLU layer needs to keep it); Xavier keeps tanh and ReLU
level, while sigmoid still loses many orders of magnitude (its factors are at most 1/4). For ReLU
under Xavier it is the weight gradients that stay level: the backpropagated signal itself
(`output_grad_norm`, the gradient with respect to a layer's pre-activations) still falls by
{signal_drop:.2f} orders of magnitude from the last layer to the first (Xavier's gain is 1, He
et al. 2015 use sqrt(2) for ReLU), compensated by the layers' inputs, which are larger nearer
the input (the forward signal shrinks with depth).
{_verdict(bool(ok), "Agrees, with the condition on the weights")}

{image}

{markdown_table(show)}"""


def half_section(cfg: dict) -> str:
    df = cl.half_units_off(**cfg.get("half", {}))
    run = _settings(cl.half_units_off, cfg, "half")
    g = df.groupby("layer")["fraction_off"].agg(["mean", cl._se, "std", "count"]).reset_index()
    g = g.rename(columns={"_se": "se", "std": "sd over networks", "count": "networks"})
    dev = ((g["mean"] - 0.5).abs() / g["se"]).max()
    return f"""## About half the units are off for symmetric pre-activations

**Claim.** With pre-activations symmetric about 0, about half the ReLU units are off (the
sparsity Glorot, Bordes and Bengio 2011 describe).
**Conditions.** Default-initialised 8-{run["width"]}x{run["depth"]}-1 networks (weights and
biases symmetric about 0) at standard normal inputs: for any fixed input each pre-activation
is then symmetric over the draw of the weights, in every layer.
**How measured.** `activation_sparsity(net, x)`: the fraction of (input, unit) pairs with z <= 0,
per layer, over {int(g.networks.max())} seeded networks.
**Measured.** Means within {dev:.1f} standard errors of 0.5 in every layer; a single network
deviates more (the standard deviation over networks in the table). After training it need not
hold (see the dead fractions below). {_verdict(bool(dev < 4))}

{markdown_table(g)}"""


def homogeneity_section() -> str:
    df = cl.homogeneity()
    free = df[~df.bias]["max_relative_deviation"].max()
    biased = df[df.bias]["max_relative_deviation"].min()
    show = df.groupby(["activation", "bias"])["max_relative_deviation"].max().reset_index()
    scales = ", ".join(f"{a:g}" for a in _settings(cl.homogeneity)["scales"])
    n = _settings(check_homogeneity)["n"]
    return f"""## Positive homogeneity of bias-free ReLU networks

**Claim.** A bias-free network of Linear and ReLU / LeakyReLU / PReLU layers satisfies
f_(aW)(x) = a^L f_W(x) for a > 0, L the number of Linear layers.
**Conditions.** No biases (a network with biases is homogeneous only if the l-th bias is scaled
by a^l); smooth activations and Hardtanh are not homogeneous (`check_homogeneity` raises).
**How measured.** `check_homogeneity(net, a)` for a in {{{scales}}}, 4-16-16-2 float64
networks, {n} seeded normal inputs: max |f_(aW) - a^L f_W| / max |a^L f_W|.
**Measured.** Bias-free: at most {free:.1e} (rounding; exactly 0 for a = 0.5 and 2); with
biases at least {biased:.2f}. {_verdict(bool(free < 1e-12))}

{markdown_table(show)}"""


def first_layer_section(cfg: dict) -> str:
    df = cd.first_layer_stays_dead(**cfg.get("first", {}))
    leaky = cd.leaky_gradients()
    deeper = cd.deeper_units_revive(**cfg.get("deeper", {}))
    run = _settings(cd.deeper_units_revive, cfg, "deeper")
    moved = float(df["max_abs_change_dead"].max())
    second = deeper[deeper.layer == 2]
    first = deeper[deeper.layer == 1]
    lk = leaky.set_index("activation")
    return f"""## Dying units: a dead first-layer unit never learns again

**Claim.** A first-layer ReLU unit inactive on every training input gets a zero gradient for its
weights and bias, so no learning rate revives it under SGD or Adam without weight decay (Lu et
al. 2019, "Dying ReLU and initialization").
**Conditions.** A 1-16-1 float64 network fitted to sin(3x) at 64 points in [-1, 1], full batch;
8 units initialised dead ({DEAD_INIT}, so z <= {cl.DEAD_BIAS + cl.DEAD_WEIGHT:g} on the data);
SGD, SGD with momentum 0.9 and Adam, lr in {sorted(set(df.lr))}, no weight decay.
**How measured.** The largest |gradient| of the dead units' parameters over training, and their
largest change.
**Measured.** Largest gradient {df.max_abs_grad_dead.max():.1g}, largest change {moved:.1g}: the
dead units' parameters stay bit-identical, at every learning rate, and they are still dead at the
end. {_verdict(moved == 0.0)}

{markdown_table(df)}

**Deeper layers.** The same claim does not hold beyond the first layer: a unit's input there is
the previous layer's output, which keeps training. In a 1-16-16-1 network fitted by Adam
(lr {_sci(run["lr"])}, {int(deeper.seed.nunique())} seeds), 8 units of one layer were made dead by a
margin of {run["margin"]:g} (bias set so the largest pre-activation on the data is
-{run["margin"]:g}). In layer 2,
{second.revived_ever.mean():.1f} of 8 revived at some step (mean over seeds;
{second.alive_at_end.mean():.1f} active at the end); in layer 1, {first.revived_ever.mean():.1f}.
{_verdict(bool((second.revived_ever > 0).all() and (first.revived_ever == 0).all()))}

{markdown_table(deeper)}

**Leaky ReLU keeps every gradient non-zero** (Maas, Hannun and Ng 2013): with the same dead
initialisation and `LeakyReLU(0.01)`, the smallest |gradient| of the 16 weights and biases of
the 8 "dead" units is {lk.loc["leaky_relu", "min_abs_grad"]:.2g} (ReLU:
{lk.loc["relu", "zero_grads"]} of 16 exactly zero). Non-zero, but scaled by the slope 0.01: such
units move slowly (see the figure below). {_verdict(bool(lk.loc["leaky_relu", "zero_grads"] == 0))}

{markdown_table(leaky)}"""


def momentum_section() -> str:
    df = cd.momentum_after_death()
    mom = df.set_index("optimizer")
    err = abs(mom.loc["sgd_momentum", "moved_after_death"] - mom.loc["sgd_momentum", "closed_form"])
    lr = {name: f"lr {value:g}" for name, value in mom["lr"].items()}
    after = _settings(cd.momentum_after_death)["after"]
    return f"""## Momentum still moves a unit that has just died

**Claim.** With momentum, a unit whose gradient has just become zero keeps moving.
**Conditions.** One unit relu(x + b) on 16 points x in [0, 1] (dead once b <= -1), loss
mean(relu(x + b)^2), b = 0.5 at the start; plain SGD ({lr["sgd"]}), SGD with momentum 0.9
({lr["sgd_momentum"]}), Adam ({lr["adam"]}); the next {after} steps after the unit died.
**How measured.** The change of b after the step that killed it, against lr * buf * (m + m^2 +
... + m^{after}) for SGD with momentum (buf: the momentum buffer when it died).
**Measured.** SGD: {mom.loc["sgd", "moved_after_death"]:.3g}; SGD with momentum:
{mom.loc["sgd_momentum", "moved_after_death"]:.4g} (closed form, difference {err:.1e}); Adam:
{mom.loc["adam", "moved_after_death"]:.4g}. It moves, but in the direction of the updates that
killed it, deeper into the dead zone: here momentum never revived the unit. {
        _verdict(err < 1e-8, "Agrees (it moves); it does not revive")
    }

{markdown_table(df)}"""


def decay_section(cfg: dict) -> str:
    df = cd.decay_revival(**cfg.get("decay", {}))
    closed = df.dropna(subset=["closed_form_first_revival"])
    gap = (closed.first_revival_step - closed.closed_form_first_revival).abs().max()
    by = df.set_index(["optimizer", "decay_on"])["revived_fraction"]
    ok = bool((df[df.decay_on == "biases"].revived_fraction > 0).all())
    ok &= bool((df[df.decay_on.isin(["none", "weights"])].revived_fraction == 0).all())
    steps = _settings(cd.decay_revival, cfg, "decay")["steps"]
    runs = {name: f"lr {lr:g} decay {wd:g}" for name, lr, wd in cd.DECAY_RUNS}
    products = {f"{lr * wd:g}" for name, lr, wd in cd.DECAY_RUNS if name != "adam"}
    same = f" (so lr x decay = {products.pop()} for SGD and AdamW)" if len(products) == 1 else ""
    return f"""## Weight decay pulls a negative bias towards 0, and can revive the unit

**Claim.** Weight decay, coupled (L2 in SGD or Adam) or decoupled (AdamW, Loshchilov and Hutter
2019), pulls a dead unit's negative bias towards 0 and can revive it.
**Conditions.** The 1-16-1 set-up above (8 dead units), {steps} full-batch steps; SGD
{runs["sgd"]}, Adam {runs["adam"]} (L2),
AdamW {runs["adamw"]}{same}; decay on all parameters, on weights only (the common "no
decay on biases"), on biases only, or none.
**How measured.** The fraction of the 8 units active on some input at the end, the first step at
which one is, and, for SGD and AdamW with decay on the biases only, the closed form: a dead
unit's gradient is 0, so its bias is b0 (1 - lr decay)^t, and unit j revives at the first step t
with b0 (1 - lr decay)^t + |w_j| > 0.
**Measured.** Decay on the biases only revives: SGD {by[("sgd", "biases")]:.2f}, Adam
{by[("adam", "biases")]:.2f}, AdamW {by[("adamw", "biases")]:.2f} of the units, the first at the
closed-form step (largest difference {gap:.0f} steps). No decay, or decay on the weights only:
none revive. Decay on everything: none within {steps} steps, and for SGD and AdamW never, since
weights and bias shrink by the same factor, so z = w x + b keeps its sign; with Adam's L2 term
(normalised by the second moment) the parameters end up hovering around 0 and the units revive
late (after about 1400 steps in the figure below). So: it can revive, when the bias is decayed
faster than the weights. {_verdict(ok, "Agrees, with conditions")}

{markdown_table(df)}"""


def revival_section(cfg: dict, out: Path) -> str:
    import matplotlib.pyplot as plt

    df = cd.revival_over_training(**cfg.get("revival", {}))
    lr = _sci(_settings(cd.revival_over_training, cfg, "revival")["lr"])
    dead, width = cd.N_DEAD, cd.WIDTH
    fig, ax = plt.subplots(figsize=(8, 4.6), constrained_layout=True)
    for i, (method, g) in enumerate(df.groupby("method", sort=False)):
        stats = g.groupby("epoch")["dead_fraction"].agg(["mean", "min", "max"])
        ax.plot(stats.index, stats["mean"], color=f"C{i}", lw=1.6, label=method)
        ax.fill_between(stats.index, stats["min"], stats["max"], color=f"C{i}", alpha=0.15, lw=0)
    ax.axvline(cd.WARM_STEPS, color="0.6", ls=":", lw=1)
    ax.set_xlabel(f"training step (full-batch Adam / AdamW, lr {lr})")
    ax.set_ylabel(f"fraction of the {width} units dead on the data")
    ax.set_ylim(0, 1)
    ax.legend(frameon=False, fontsize=8, loc="lower left")
    ax.set_title(
        f"Dead units over training ({dead} of {width} dead at the start; band: min-max over "
        "seeds)\n"
        "ReLU never revives; warming (until the dotted line) and bias decay do,\n"
        "Adam's L2 decay late, Leaky ReLU only slowly"
    )
    image = _save(fig, out, "dead_over_training.png")
    last = df[df.epoch == df.epoch.max()]
    final = (
        last.groupby("method", sort=False)
        .agg(
            dead_mean=("dead_fraction", "mean"),
            dead_se=("dead_fraction", cl._se),
            loss_mean=("loss", "mean"),
        )
        .reset_index()
    )
    start = df[df.epoch == 0]["dead_fraction"].mean()
    f = final.set_index("method")["dead_mean"]
    ok = f["ReLU + bias warming, Adam"] < f["ReLU, Adam"]
    ok &= f["ReLU, AdamW decay 1 (biases only)"] < f["ReLU, Adam"]
    l2, bias_decay = "ReLU, Adam + L2 decay 1e-2 (all)", "ReLU, AdamW decay 1 (biases only)"
    return f"""## Dead fraction over training: ReLU, Leaky ReLU, bias warming, decay

**Claim.** Leaky ReLU, bias warming and weight decay revive dead units; plain ReLU does not.
**Conditions.** A 1-{width}-1 float64 network, {dead} of its {width} units dead-initialised
({DEAD_INIT}), fitted to sin(3x) at 64 points, full batch, lr {lr}, {int(df.epoch.max())} steps,
{int(df.seed.nunique())} seeds. Bias warming:
`BiasWarming(net, gamma={cd.WARM_GAMMA:g}, steps={cd.WARM_STEPS})`, gamma annealed linearly to 0
(one step per training step). Dead: never active on the data, read from the network's own
pre-activations (no warming shift).
**How measured.** The dead fraction after every step.
**Measured.** At the start {start:.3f} dead ({start * width - dead:.1f} of the {width - dead}
default-initialised units are dead on [-1, 1] too, on average).
At the end, mean over seeds: ReLU {f["ReLU, Adam"]:.3f} (the dead-initialised units never move);
Leaky ReLU {f["Leaky ReLU (0.01), Adam"]:.3f} (the gradient is 100 times smaller on the
negative piece: slow); bias warming {f["ReLU + bias warming, Adam"]:.3f}; Adam + L2 decay
{_sci(cd.REVIVAL_METHODS[l2][2])} on all parameters {f[l2]:.3f}; AdamW decay
{cd.REVIVAL_METHODS[bias_decay][2]:g} on the biases only {f[bias_decay]:.3f}.
{_verdict(bool(ok), "Agrees for bias warming and weight decay; Leaky ReLU revives only slowly")}

{image}

{markdown_table(final)}"""


def lr_section(cfg: dict, out: Path) -> str:
    import matplotlib.pyplot as plt

    df = cd.dead_vs_lr(**cfg.get("lr", {}))
    run = _settings(cd.dead_vs_lr, cfg, "lr")
    g = (
        df.groupby(["init", "lr"], sort=False)
        .agg(
            dead=("dead_fraction", "mean"),
            se=("dead_fraction", cl._se),
            at_init=("dead_fraction_at_init", "mean"),
            loss=("final_loss", "mean"),
        )
        .reset_index()
    )
    fig, ax = plt.subplots(figsize=(7.5, 4.4), constrained_layout=True)
    for i, (init, s) in enumerate(g.groupby("init", sort=False)):
        ax.errorbar(s.lr, s.dead, yerr=s.se, fmt="o-", color=f"C{i}", capsize=3, label=init)
        ax.axhline(s.at_init.iloc[0], color=f"C{i}", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("Adam learning rate")
    ax.set_ylabel("fraction of hidden units dead after training")
    ax.set_ylim(0, 1)
    ax.legend(title="initialisation (dotted: at init)", frameon=False, fontsize=8)
    ax.set_title(
        f"Large learning rates kill units: dead fraction after {run['epochs']} Adam steps,\n"
        "2-64-64-1 ReLU network (mean +- SE over seeds)"
    )
    image = _save(fig, out, "dead_vs_lr.png")
    d = g[g.init == "default"].set_index("lr")
    lo, hi = d.index.min(), d.dead.idxmax()
    ok = d.dead[hi] - d.dead[lo] > 4 * math.hypot(d.se[hi], d.se[lo])
    return f"""## "A large update kills units": dead fraction against learning rate and init

**Claim.** Large learning rates kill ReLU units; the initialisation matters.
**Conditions.** A 2-64-64-1 float64 ReLU network fitted to sin(2 x0) + x1^2 / 2 at
{run["n"]} standard normal inputs, full-batch Adam,
{run["epochs"]} steps, {int(df.seed.nunique())} seeds. Inits:
"default" (torch's U(+-1/sqrt(fan_in))), "he" (He normal weights, He et al. 2015, zero biases),
"he + bias 0.1" (the same, biases 0.1).
**How measured.** The fraction of the 128 hidden units never active on the training inputs,
after training (dotted lines: at initialisation).
**Measured.** Default init: {d.dead[lo]:.3f} dead at lr {lo:g}, {d.dead[hi]:.3f} at lr {hi:g}
(the most), from {d.at_init.iloc[0]:.3f} at initialisation. The dead fraction grows with the
learning rate up to about 0.1 and levels off near one half beyond (where the loss is also
worse); He initialisation starts with fewer dead units and keeps fewer at small learning rates,
but neither it nor a positive bias prevents the deaths at large ones.
{_verdict(bool(ok), "Agrees, with the curve flattening beyond lr 0.1")}

{image}

{markdown_table(g)}"""


def mask_section() -> str:
    mask = cl.shared_mask()
    inplace = cl.inplace_relu()
    v = mask.set_index("check")["value"]
    ok = v.iloc[0] == 0 and v.iloc[2] < 1e-12
    legal = inplace[inplace.legal]
    ok2 = bool((legal.max_value_diff == 0).all() and (legal.max_grad_diff == 0).all())
    n = _settings(cl.shared_mask)["n"]
    return f"""## The forward and backward passes share one mask

**Claim.** The gradient with respect to a ReLU's pre-activation is zero exactly where the unit is
off, torch's relu'(0) = 0 included; with the mask frozen, the network is the affine map of its
activation region.
**Conditions.** A 3-16-16-1 float64 network whose first unit is relu(x0), at {n} normal inputs,
half with x0 = 0 exactly.
**How measured.** Hooks keep each pre-activation z and its gradient (of the summed output); we
count the units whose output gradient is non-zero where "grad_z == 0" differs from "z <= 0". The
network with each unit's on/off frozen at x is evaluated at points far from x and compared with
`local_affine(net, x)`.
**Measured.** {int(v.iloc[0])} mismatches ({int(v.iloc[1])} exact ties included); frozen mask
against `local_affine`: {v.iloc[2]:.1e} (the unfrozen network there differs by {v.iloc[3]:.2g}).
{_verdict(bool(ok))}

{markdown_table(mask)}

**`nn.ReLU(inplace=True)`** gives the same values and gradients as `nn.ReLU()`, bit for bit,
where it is legal: after a Linear layer (Linear's backward needs its input, not its output).
Where it is not (right after a sigmoid, whose backward needs its output; on a leaf tensor that
requires grad) torch raises a RuntimeError instead of computing a wrong gradient.
{_verdict(ok2)}

{markdown_table(inplace)}"""


def spell_section(cfg: dict, out: Path) -> str:
    import matplotlib.pyplot as plt

    df = cd.dead_spell_first_step(**cfg.get("spell", {}))
    alive = _settings(cd.dead_spell_first_step, cfg, "spell")["alive"]
    _, rms, rms_limit = cd.SPELL_OPTIMIZERS["rmsprop"]
    _, adam, adam_limit = cd.SPELL_OPTIMIZERS["adam"]
    (b1, b2), eps = adam["betas"], {f"{o['eps']:g}" for o in (rms, adam)}
    fig, ax = plt.subplots(figsize=(7.5, 4.4), constrained_layout=True)
    for i, name in enumerate(("rmsprop", "adam")):
        g = df[df.optimizer == name]
        ax.semilogx(g.spell, g.first_step_over_lr, "o-", color=f"C{i}", label=f"{name}: measured")
        ax.axhline(g.closed_form.iloc[0], color=f"C{i}", ls="--", lw=1,
                   label=f"{name}: long-spell limit {g.closed_form.iloc[0]:.3g}")  # fmt: skip
    ax.set_xlabel("length of the dead spell (optimizer steps with zero gradient)")
    ax.set_ylabel("first step after revival, |db| / lr")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title(
        f"After a long dead spell the first step is {rms_limit:.3g} lr (RMSprop) and "
        f"{adam_limit:.3g} lr (Adam),\n"
        "whatever the gradient's size, once the old second moment has decayed"
    )
    image = _save(fig, out, "dead_spell_first_step.png")
    last = df.loc[df.groupby("optimizer")["spell"].idxmax()].set_index("optimizer")
    rel = ((last.first_step_over_lr - last.closed_form).abs() / last.closed_form).max()
    exact = ((df.first_step_over_lr - df.exact).abs() / df.exact).max()
    return f"""## RMSprop and Adam after a long dead spell

**Claim.** Once the second-moment estimate has decayed during a dead spell, the first step when
the gradient returns is lr / sqrt(1 - alpha) = {rms_limit:.3g} lr for RMSprop (alpha =
{rms["alpha"]:g}; Tieleman and Hinton 2012), about lr (1 - beta1) / sqrt(1 - beta2) =
{adam_limit:.3g} lr for Adam ({b1:g}, {b2:g}; Kingma and Ba 2015), and lr |g| for SGD, whatever
the size of the returning gradient.
**Conditions.** eps = {", ".join(sorted(eps))}, float64. One unit relu(0.8 x + b), only b trained,
fitted for {alive} steps, then killed
(b = -3) and stepped on its exactly zero gradient (checked by autograd every 1000 steps; the
largest |gradient| during the spell {df.max_abs_grad_during_spell.max():g}) for up to
{int(df.spell.max())} steps; then revived by `BiasWarming(gamma=4)` and one step taken. The
zero gradient must be a tensor of zeros, as autograd gives a dead unit: with `grad = None` torch
skips the parameter and its moments do not decay.
**How measured.** |db| / lr of that step, against the long-spell closed forms and against the
same recursion computed from the optimizer's state ("exact").
**Measured.** After {int(df.spell.max())} steps: RMSprop
{last.loc["rmsprop", "first_step_over_lr"]:.6g}, Adam {last.loc["adam", "first_step_over_lr"]:.6g},
SGD (which keeps no state; spells up to {int(last.loc["sgd", "spell"])} steps)
{last.loc["sgd", "first_step_over_lr"]:.4g} = |g|; largest relative difference from the closed
forms {rel:.1e}, from the exact recursion {exact:.1e}. Shorter spells give smaller first steps
(the figure): Adam needs about 1e4 steps (beta2^n small against 1 - beta2). {_verdict(rel < 1e-3)}

{image}

{markdown_table(df)}"""


def timing_section() -> str:
    head = """## "ReLU is cheaper than sigmoid or tanh"

**Claim.** ReLU networks are cheaper to train than sigmoid or tanh networks of the same size.
"""
    how = """**How measured.** `benchmarks/bench_activations.py`: forward plus backward time per
epoch of the same MLP with each activation (ReLU, sigmoid, tanh, GELU), on the CPU and, when
available, a GPU; and the activation alone, applied as often as in an epoch.
"""
    if not BENCH.exists():
        todo = "run `python benchmarks/bench_activations.py`"
        return head + how + f"\n**Measured.** Not yet: {todo}.\n"
    full = pd.read_csv(BENCH)
    show = full[["task", "device", "activation", "seconds_per_epoch", "ratio_vs_relu"]]
    df = full[full["task"] == "epoch"]
    lines = []
    for device, g in df.groupby("device"):
        r = g.set_index("activation")["ratio_vs_relu"]
        lines.append(
            f"{device}: sigmoid {r.get('sigmoid', math.nan):.2f}x, tanh "
            f"{r.get('tanh', math.nan):.2f}x, GELU {r.get('gelu', math.nan):.2f}x ReLU's time"
        )
    cond = str(df["config"].iloc[0]) if "config" in df else ""
    alone = full[(full["task"] == "activation only") & (full["activation"] == "relu")]
    epoch = df[df["activation"] == "relu"]
    share = float(alone["seconds_per_epoch"].iloc[0] / epoch["seconds_per_epoch"].iloc[0])
    gpus = "" if (df["device"] == "cuda").any() else " No GPU was available for this run."
    return (
        head
        + f"""**Conditions.** {cond}.{gpus}
{how}**Measured.** Time per epoch, as a multiple of ReLU's: {"; ".join(lines)}. ReLU is the
cheapest of the four, but by little: applying the activation alone (forward and backward) takes
{share:.0%} of a ReLU epoch on the {epoch["device"].iloc[0].upper()}, the matrix products the
rest; on its own, sigmoid, tanh and GELU cost more than ReLU by the ratios in the "activation
only" rows. {_verdict(bool((df["ratio_vs_relu"] >= 1).all()), "Agrees, by a small margin")}

{markdown_table(show)}"""
    )


def build(out: Path, *, quick: bool) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    cfg = QUICK if quick else FULL
    (out / FIGS).mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    rng = torch.random.get_rng_state()
    parts = [
        expected_section(cfg),
        path_section(cfg),
        gradient_section(cfg, out),
        half_section(cfg),
        homogeneity_section(),
        first_layer_section(cfg),
        momentum_section(),
        decay_section(cfg),
        revival_section(cfg, out),
        lr_section(cfg, out),
        mask_section(),
        spell_section(cfg, out),
        timing_section(),
    ]
    seconds = time.perf_counter() - start
    if not torch.equal(rng, torch.random.get_rng_state()):  # the experiments draw locally only
        raise RuntimeError("an experiment changed torch's global random state")
    intro = f"""# Diagnostics: common claims about ReLU, measured

The tools (`pwlmodels.diagnostics`): `dead_units(net, x)`, `dead_units_on_box(net, lower, upper)`
(units provably inactive over a box, from the verification bounds), `activation_sparsity`,
`gradient_flow`, `BiasWarming`, `check_homogeneity`, `expected_activation`. Below, each claim
commonly made about ReLU networks, its conditions, how it was measured, and the number. Where a
measurement disagrees with the claim, the measurement is reported. Every experiment is seeded
and runs on the CPU in float64; `tests/test_claims.py` asserts the figures (statistical ones
within 4 standard errors of the same seeded replicates).

Generated by `python docs/gen_diagnostics.py`{" --quick (small settings)" if quick else ""} in
{seconds:.0f} s (torch {torch.__version__}, {torch.get_num_threads()} threads, python
{platform.python_version()}).

"""
    text = intro + "\n".join(parts) + REFERENCES
    for label in ("Conditions", "How measured", "Measured"):  # one paragraph each
        text = text.replace(f"\n**{label}.**", f"\n\n**{label}.**")
    return write_atomic(out / "diagnostics.md", text)


REFERENCES = """
## References

- Glorot, Bengio (AISTATS 2010), "Understanding the difficulty of training deep feedforward
  neural networks": Xavier initialisation, vanishing gradients with sigmoid.
- Glorot, Bordes, Bengio (AISTATS 2011), "Deep sparse rectifier neural networks": sparsity.
- Maas, Hannun, Ng (ICML 2013 workshop): Leaky ReLU.
- He, Zhang, Ren, Sun (ICCV 2015), "Delving deep into rectifiers": He initialisation.
- Kingma, Ba (ICLR 2015): Adam. Tieleman, Hinton (2012), lecture 6.5: RMSprop.
- Hendrycks, Gimpel (2016), "Gaussian error linear units".
- Loshchilov, Hutter (ICLR 2019), "Decoupled weight decay regularization": AdamW.
- Lu, Shin, Su, Karniadakis (2019; Commun. Comput. Phys. 2020), "Dying ReLU and
  initialization: theory and numerical examples".
- Zhang, Weng, Chen, Hsieh, Daniel (NeurIPS 2018), CROWN: the bounds behind `dead_units_on_box`.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder (default docs/)")
    parser.add_argument("--quick", action="store_true", help="small settings (seconds)")
    args = parser.parse_args(argv)
    build(args.out, quick=args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
