"""ReLU versus tanh (and other activations) on a kinked target, fairly, with metrics.

Every network gets the same data, the same hidden sizes (so the same
parameter count for activations without parameters; reported), the same
optimiser and epochs; the learning rate is chosen per activation on a
held-out validation split, and the metrics are computed on a separate test
grid. Two baselines need no training: the exact network of the target's
interpolant (``spline_to_relu``) and ``fit_pwl`` with as many free knots as
the ReLU network has hidden units (at most 100, fit_pwl's limit).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from ._validate import as_finite_1d, as_real_scalar
from .fit._fit import fit_pwl
from .nets import count_parameters, make_mlp, resolve_device, train, train_many
from .relu import evaluate, relu_to_spline, spline_to_relu
from .spline import PiecewiseLinear

__all__ = ["Comparison", "compare_activations", "kink_estimate"]

_GRID = 2001
_PIECEWISE = ("relu", "leaky_relu", "prelu", "hardtanh")
_MAX_BASELINE_KNOTS = 100  # fit_pwl's limit on free knots


@dataclass(frozen=True)
class Comparison:
    """The outcome of :func:`compare_activations`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model and seed (tidy); the metrics are columns.
    curves : dict
        ``"x"`` (the test grid), ``"target"``, and one predicted curve per
        model (first seed), for plotting.
    kinks : tuple of float
    domain : (float, float)
    networks : dict of (str, int) to torch.nn.Sequential
        The trained networks by ``(activation, seed)``, in eval mode, on the
        device they trained on: what the table measures, for further use.
    """

    table: pd.DataFrame
    curves: dict
    kinks: tuple[float, ...]
    domain: tuple[float, float]
    networks: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The tidy table (a copy)."""
        return self.table.copy()

    def summary(self) -> pd.DataFrame:
        """Mean and standard deviation of every metric per model, over seeds."""
        metrics = self.table.drop(columns=["seed", "device", "lr"]).groupby("model", sort=False)
        return metrics.agg(["mean", "std"])

    def plot(self, path=None, *, title: str | None = None):
        """Function and fits, error, and derivative, kinks marked; saved as PNG when ``path``."""
        from .plotting import plot_comparison

        return plot_comparison(self, path=path, title=title)


def compare_activations(
    target: Callable[[np.ndarray], np.ndarray] | PiecewiseLinear,
    *,
    x_train: object,
    y_train: object = None,
    domain: tuple[float, float],
    kinks: Sequence[float] = (),
    activations: Sequence[str] = ("relu", "tanh"),
    hidden: Sequence[int] = (32,),
    seeds: Sequence[int] = (0, 1, 2),
    epochs: int = 2000,
    lrs: Sequence[float] = (1e-3, 3e-3, 1e-2),
    device: torch.device | str | None = None,
    extrapolation: tuple[float, float] | None = None,
    kink_window: float | None = None,
    progress: bool = False,
    batched: bool = True,
) -> Comparison:
    """Train one network per activation and seed on the same data; compare them.

    Parameters
    ----------
    target : callable or PiecewiseLinear
        The true function (numpy in, numpy out), used for the test metrics
        and, when ``y_train`` is None, for the training labels.
    x_train : array_like, shape (n,)
    y_train : array_like, shape (n,), optional
        Noisy labels; default ``target(x_train)``.
    domain : (float, float)
        The test interval.
    kinks : sequence of float
        Known kinks of the target, for the kink metrics.
    activations : sequence of str
        Names from :data:`pwlmodels.nets.ACTIVATIONS`.
    hidden : sequence of int, default (32,)
        Hidden widths, as :func:`pwlmodels.nets.make_mlp` takes them (each at
        most 2**20 and at most 10**8 parameters in all); the ``fit_pwl``
        baseline gets ``sum(hidden)`` free knots, at most 100.
    seeds : sequence of int, default (0, 1, 2)
    epochs : int, default 2000
        Full-batch Adam epochs, the same for every model.
    lrs : sequence of float
        Candidate learning rates; each activation takes the one with the
        lowest validation error (20 % of ``x_train``, seeded, held out).
    device : torch.device or str, optional
        Where the networks train ("auto" for CUDA when available).
    extrapolation : (float, float), optional
        An interval outside the training data on which to report the error.
    kink_window : float, optional
        w, the half-width of the window around each kink; default 2 % of
        the domain. Kinks and one-sided slopes are estimated for every
        model by the same estimator, :func:`kink_estimate`.
    progress : bool, default False
        True: a tqdm progress bar over the networks trained (one per
        candidate learning rate and one per seed, for each activation).
    batched : bool, default True
        True: the seeds of each activation train together, as one model, by
        :func:`pwlmodels.nets.train_many` (several times faster for many
        seeds, and on a GPU); each network then differs from the one trained
        alone by float32 rounding, which long training can grow (see
        ``train_many``), and ``train_seconds`` is the call's time shared out
        evenly. False trains them one by one with :func:`pwlmodels.nets.train`.
        Either way two runs on the CPU give the same table.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> import numpy as np
    >>> from pwlmodels import compare_activations
    >>> x = np.linspace(-1.0, 1.0, 200)
    >>> result = compare_activations(np.abs, x_train=x, domain=(-1.0, 1.0), kinks=[0.0],
    ...                              hidden=(8,), seeds=(0,), epochs=300, lrs=(1e-2,))
    >>> sorted(result.table["model"].unique())
    ['fit_pwl', 'interpolant', 'relu', 'tanh']
    >>> bool(result.table.set_index("model").loc["fit_pwl", "rmse"] < 1e-6)
    True
    >>> sorted(result.networks)  # the trained networks, by activation and seed
    [('relu', 0), ('tanh', 0)]
    """
    if not callable(target):
        raise TypeError(f"`target` must be callable; got {type(target).__name__}")
    x = as_finite_1d(x_train, "x_train", min_size=5)
    y = target(x) if y_train is None else y_train
    y = as_finite_1d(y, "y_train")
    if y.shape != x.shape:
        raise ValueError(f"`y_train` must have one entry per x_train; got {y.size} for {x.size}")
    lo, hi = (as_real_scalar(v, "domain") for v in domain)
    if not lo < hi:
        raise ValueError(f"`domain` must be (a, b) with a < b; got ({lo}, {hi})")
    w = (hi - lo) * 0.02 if kink_window is None else as_real_scalar(kink_window, "kink_window")
    if w <= 0:
        raise ValueError(f"`kink_window` must be positive; got {w!r}")
    kinks = tuple(float(k) for k in kinks)
    if not isinstance(batched, (bool, np.bool_)):
        raise TypeError(f"`batched` must be True or False; got {batched!r}")
    dev = resolve_device(device)
    grid = np.linspace(lo, hi, _GRID)
    truth = np.asarray(target(grid), dtype=float)
    ctx = _Context(target, grid, truth, kinks, w, extrapolation, dev)
    fit_idx, val_idx = _split(x.size)
    rows, curves, networks = [], {"x": grid, "target": truth}, {}
    per_activation = (len(lrs) if len(lrs) > 1 else 0) + len(seeds)  # networks trained
    bar = _progress_bar(len(activations) * per_activation, progress)
    for act in activations:
        lr = _choose_lr(act, x, y, fit_idx, val_idx, hidden, epochs, lrs, dev, seeds[0], bar)
        nets = [make_mlp(1, hidden, 1, activation=act, device=dev, seed=s) for s in seeds]
        times = _train_seeds(nets, seeds, x[fit_idx], y[fit_idx], epochs, lr, batched)
        for seed, net, seconds in zip(seeds, nets, times, strict=True):
            predict = _net_predictor(net)
            networks[(act, seed)] = net
            rows.append(ctx.metrics(act, seed, predict, net, seconds, lr, count_parameters(net)))
            if act not in curves:  # the first seed's curve, for the figure
                curves[act] = predict(grid)
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.close()
    for name, spline, seconds, n_params in _baselines(target, x, y, hidden):
        rows.append(ctx.metrics(name, seeds[0], spline, None, seconds, np.nan, n_params))
        curves[name] = spline(grid)
    table = pd.DataFrame(rows)
    return Comparison(table, curves, kinks, (lo, hi), networks)


def kink_estimate(f: Callable, kink: float, w: float) -> tuple[float, float, float]:
    """A kink's location and one-sided slopes, the same way for every model.

    Least-squares lines to ``f`` on ``[k - 2w, k - w]`` and ``[k + w, k + 2w]``
    (51 points each); the kink is their intersection.

    Parameters
    ----------
    f : callable
        numpy in, numpy out.
    kink : float
        The nominal kink k.
    w : float
        The window half-width, positive.

    Returns
    -------
    (location, left_slope, right_slope) : tuple of float
        ``location`` is NaN when the two slopes agree to 1e-9 (no kink to locate).

    Examples
    --------
    >>> import numpy as np
    >>> from pwlmodels import kink_estimate
    >>> loc, left, right = kink_estimate(lambda x: np.maximum(x - 0.3, 0.0), 0.25, 0.05)
    >>> round(loc, 12), round(left, 12), round(right, 12)
    (0.3, 0.0, 1.0)
    """
    left = np.linspace(kink - 2 * w, kink - w, 51)
    right = np.linspace(kink + w, kink + 2 * w, 51)
    sl, il = np.polyfit(left, f(left), 1)
    sr, ir = np.polyfit(right, f(right), 1)
    loc = (il - ir) / (sr - sl) if abs(sr - sl) > 1e-9 * (abs(sl) + abs(sr) + 1e-300) else np.nan
    return float(loc), float(sl), float(sr)


# ------------------------------------------------------------------ internals
@dataclass(frozen=True)
class _Context:
    target: Callable
    grid: np.ndarray
    truth: np.ndarray
    kinks: tuple[float, ...]
    w: float
    extrapolation: tuple[float, float] | None
    device: torch.device

    def metrics(self, model, seed, predict, net, seconds, lr, n_params) -> dict:
        g, truth, w = self.grid, self.truth, self.w
        pred = predict(g)
        err = np.abs(pred - truth)
        h = (g[-1] - g[0]) * 1e-5
        d_pred = (predict(g + h) - predict(g - h)) / (2 * h)
        d_true = (self.target(g + h) - self.target(g - h)) / (2 * h)
        row = {
            "model": model,
            "seed": seed,
            "n_params": n_params,
            "lr": lr,
            "rmse": float(np.sqrt(np.mean(err**2))),
            "max_error": float(err.max()),
            "derivative_rmse": float(np.sqrt(np.mean((d_pred - d_true) ** 2))),
        }
        for i, k in enumerate(self.kinks):
            near = np.abs(g - k) <= w
            row[f"kink{i}_max_error"] = float(err[near].max()) if near.any() else np.nan
            loc, sl, sr = kink_estimate(predict, k, w)
            t_loc, t_sl, t_sr = kink_estimate(self.target, k, w)
            row[f"kink{i}_location_error"] = abs(loc - t_loc)
            row[f"kink{i}_left_slope_error"] = abs(sl - t_sl)
            row[f"kink{i}_right_slope_error"] = abs(sr - t_sr)
            for name, dist in (("w/4", w / 4), ("w", w), ("4w", 4 * w)):
                pts = np.array([k - dist, k + dist])
                dp = (predict(pts + h) - predict(pts - h)) / (2 * h)
                dt = (self.target(pts + h) - self.target(pts - h)) / (2 * h)
                row[f"kink{i}_derivative_error_{name}"] = float(np.max(np.abs(dp - dt)))
            if net is not None and model in _PIECEWISE:
                knots = relu_to_spline(net).knots  # reads the weights on any device
                row[f"kink{i}_breakpoints"] = int(np.sum(np.abs(knots - k) <= w))
        if self.extrapolation is not None:
            xe = np.linspace(*self.extrapolation, 501)
            row["extrapolation_rmse"] = float(
                np.sqrt(np.mean((predict(xe) - self.target(xe)) ** 2))
            )
        row["train_seconds"] = seconds
        row["device"] = str(self.device) if net is not None else "cpu"
        return row


def _split(n: int, seed: int = 12345) -> tuple[np.ndarray, np.ndarray]:
    """A seeded 80/20 split into fitting and validation indices."""
    perm = np.random.default_rng(seed).permutation(n)
    cut = max(1, n // 5)
    return np.sort(perm[cut:]), np.sort(perm[:cut])


def _progress_bar(total: int, progress: object):
    """A tqdm bar of ``total`` networks when ``progress`` is True, else None."""
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"`progress` must be True or False; got {progress!r}")
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError as exc:
        raise ImportError("progress=True needs tqdm; install it: `pip install tqdm`") from exc
    return tqdm(total=total, desc="compare_activations", unit="net")


def _choose_lr(act, x, y, fit_idx, val_idx, hidden, epochs, lrs, dev, seed, bar) -> float:
    if len(lrs) == 1:
        return float(lrs[0])
    scores = []
    for lr in lrs:
        net = make_mlp(1, hidden, 1, activation=act, device=dev, seed=seed)
        try:
            train(net, x[fit_idx], y[fit_idx], epochs=epochs, lr=lr, seed=seed)
        except FloatingPointError:
            scores.append(np.inf)
            continue
        finally:
            if bar is not None:
                bar.update()
        scores.append(float(np.mean((evaluate(net, x[val_idx]) - y[val_idx]) ** 2)))
    return float(lrs[int(np.argmin(scores))])


def _train_seeds(nets, seeds, x, y, epochs, lr, batched) -> list[float]:
    """Train one network per seed, together or one by one; the seconds each took."""
    if batched:
        start = time.perf_counter()
        train_many(nets, x, y, epochs=epochs, lr=lr, seed=list(seeds))
        return [(time.perf_counter() - start) / len(nets)] * len(nets)
    times = []
    for net, seed in zip(nets, seeds, strict=True):
        start = time.perf_counter()
        train(net, x, y, epochs=epochs, lr=lr, seed=seed)
        times.append(time.perf_counter() - start)
    return times


def _net_predictor(net: torch.nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    net.eval()
    return lambda z: evaluate(net, np.asarray(z, dtype=float)).astype(float)


def _baselines(target, x, y, hidden):
    """(name, spline, seconds, parameter count) for the exact interpolant and fit_pwl."""
    start = time.perf_counter()
    if isinstance(target, PiecewiseLinear):
        interp = target
    else:
        xs, idx = np.unique(x, return_index=True)
        interp = PiecewiseLinear.from_points(xs, y[idx])
    net = spline_to_relu(interp)
    seconds = time.perf_counter() - start
    yield "interpolant", interp, seconds, count_parameters(net)
    units = int(sum(hidden))
    k = max(0, min(units, (np.unique(x).size - 2) // 2, _MAX_BASELINE_KNOTS))
    start = time.perf_counter()
    fit = fit_pwl(x, y, n_knots=k)
    yield "fit_pwl", fit.spline, time.perf_counter() - start, fit.n_params - 1
