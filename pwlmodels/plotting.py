"""Figures for pwlmodels results (matplotlib is imported inside the functions only).

Every figure has labelled axes and a title that says what the reader
should see; files are written atomically (a temporary file, then
``os.replace``), so no half-written PNG is ever left behind.
"""

from __future__ import annotations

import numbers
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ._files import atomic_open

if TYPE_CHECKING:  # pragma: no cover
    from .pwa import PiecewiseAffine
    from .regions import Partition

__all__ = ["plot_comparison", "plot_partition", "plot_piecewise_affine", "save_figure"]

_COLORS = ("region", "value")
_PWA_COLORS = ("piece", "value")
_MODEL_LABELS = {  # Comparison's model names -> legend labels
    "relu": "ReLU network",
    "tanh": "tanh network",
    "sigmoid": "sigmoid network",
    "fit_pwl": "piecewise-linear least squares",
    "interpolant": "piecewise-linear interpolant",
}
_MAX_DPI = 1200  # a 6.4 x 4.8 inch figure at 1200 dpi is 44 million pixels


def save_figure(fig, path: str | Path, *, dpi: int = 150) -> Path:
    """Write ``fig`` as a PNG at ``path`` atomically (temporary file, then ``os.replace``).

    Parameters
    ----------
    fig : matplotlib Figure
    path : str or Path
        Its folder must exist.
    dpi : int, default 150
        From 1 to 1200: the image is drawn in memory at this resolution.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from pwlmodels.plotting import save_figure
    >>> fig, ax = plt.subplots()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = save_figure(fig, pathlib.Path(tmp) / "f.png")
    ...     out.read_bytes()[:4] == b"\\x89PNG"
    True
    >>> plt.close(fig)
    """
    if isinstance(dpi, (bool, np.bool_)) or not isinstance(dpi, numbers.Integral):
        raise TypeError(f"`dpi` must be an integer; got {type(dpi).__name__}")
    if not 1 <= dpi <= _MAX_DPI:
        raise ValueError(f"`dpi` must be between 1 and {_MAX_DPI}; got {int(dpi)}")
    path = Path(path)
    with atomic_open(path) as fh:
        fig.savefig(fh, format="png", dpi=int(dpi), bbox_inches="tight")
    return path


def plot_partition(
    partition: Partition,
    ax=None,
    *,
    path: str | Path | None = None,
    color: str = "region",
):
    """Draw a :class:`~pwlmodels.regions.Partition`.

    2 inputs: the box tiled by the activation regions, one colour per region
    (``color="region"``, a qualitative palette with region edges drawn) or
    the first output's value, linear on each region (``color="value"``).
    1 input: the network's function with its breakpoints.

    Parameters
    ----------
    partition : Partition
    ax : matplotlib Axes, optional
        Drawn into; a new figure when None.
    path : str or Path, optional
        Write the figure there as a PNG (atomically). A figure this function
        created is closed after saving.
    color : {"region", "value"}, default "region"

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import torch
    >>> from pwlmodels.regions import partition
    >>> from pwlmodels.plotting import plot_partition
    >>> net = torch.nn.Sequential(torch.nn.Linear(1, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    >>> ax = plot_partition(partition(net, -2.0, 2.0))
    >>> ax.get_ylabel()
    'net(x)'
    """
    import matplotlib.pyplot as plt

    if not isinstance(color, str) or color not in _COLORS:
        raise ValueError(f"`color` must be one of 'region', 'value'; got {color!r}")
    created = ax is None
    if created:
        _, ax = plt.subplots(figsize=(6.4, 5.4) if partition.lower.size == 2 else (7.0, 4.0))
    if partition.lower.size == 1:
        _plot_1d(partition, ax)
    else:
        _plot_2d(partition, ax, color)
    if path is not None:
        save_figure(ax.figure, path)
        if created:
            plt.close(ax.figure)
    return ax


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _plot_1d(part: Partition, ax) -> None:
    ends = np.array([v[:, 0] for v in part.vertices])  # (n, 2)
    order = np.argsort(ends[:, 0])
    ends = ends[order]
    a, c = part.A[order, 0, 0], part.c[order, 0]
    x = ends.ravel()
    y = (a[:, None] * ends + c[:, None]).ravel()
    ax.plot(x, y, color="C0", lw=1.8, label="net(x)")
    inner = ends[1:, 0]
    if inner.size:
        y_at = a[1:] * inner + c[1:]
        label = f"{inner.size} region boundar{'y' if inner.size == 1 else 'ies'}"
        ax.plot(inner, y_at, "o", color="C3", ms=4, label=label)
        for t in inner:
            ax.axvline(t, color="0.8", lw=0.6, zorder=0)
    ax.set_xlim(part.lower[0], part.upper[0])
    ax.set_xlabel("input x")
    ax.set_ylabel("net(x)")
    ax.legend(loc="best", frameon=False)
    ax.set_title(
        f"{len(part)} activation regions on [{_fmt(part.lower[0])}, {_fmt(part.upper[0])}]:\n"
        "the network is affine between consecutive boundaries (dots)"
    )


def _plot_2d(part: Partition, ax, color: str) -> None:
    import matplotlib as mpl
    from matplotlib.collections import PolyCollection

    polys = list(part.vertices)
    n = len(polys)
    box = f"[{_fmt(part.lower[0])}, {_fmt(part.upper[0])}] x "
    box += f"[{_fmt(part.lower[1])}, {_fmt(part.upper[1])}]"
    if color == "region":
        palette = np.concatenate(
            [mpl.colormaps[name](np.linspace(0, 1, 20)) for name in ("tab20", "tab20b", "tab20c")]
        )
        rng = np.random.default_rng(0)  # a fixed shuffle: neighbours rarely share a colour
        faces = palette[rng.permutation(n) % len(palette)]
        ax.add_collection(
            PolyCollection(polys, facecolors=faces, edgecolors="0.15", linewidths=0.4)
        )
        ax.set_title(f"{n} activation regions in {box}\nthe network is affine on each polygon")
    else:
        tris, pts, vals = [], [], []
        for v, a, c in zip(polys, part.A[:, 0], part.c[:, 0], strict=True):
            base = len(pts)
            pts.extend(v)
            vals.extend(v @ a + c)
            tris.extend([base, base + i, base + i + 1] for i in range(1, len(v) - 1))
        pts_arr = np.array(pts)
        mesh = ax.tripcolor(
            pts_arr[:, 0], pts_arr[:, 1], np.array(tris), np.array(vals),
            shading="gouraud", cmap="viridis",
        )  # fmt: skip
        ax.add_collection(PolyCollection(polys, facecolors="none", edgecolors="w", linewidths=0.3))
        ax.figure.colorbar(mesh, ax=ax, label="net(x), output 0")
        ax.set_title(f"net(x) on {box}\naffine on each of the {n} activation regions (edges)")
    ax.set_xlim(part.lower[0], part.upper[0])
    ax.set_ylim(part.lower[1], part.upper[1])
    ax.set_aspect("auto")
    ax.set_xlabel("input x[0]")
    ax.set_ylabel("input x[1]")


def plot_piecewise_affine(
    f: PiecewiseAffine,
    ax=None,
    *,
    path: str | Path | None = None,
    color: str = "piece",
):
    """Draw the regions of a :class:`~pwlmodels.PiecewiseAffine` of 2 inputs.

    ``color="piece"``: one colour per affine piece (a qualitative palette; regions of
    one colour share a map), region edges drawn. ``color="value"``: the first
    output, linear on each region, with a colour bar.

    Parameters
    ----------
    f : PiecewiseAffine
        With 2 inputs.
    ax : matplotlib Axes, optional
        Drawn into; a new figure when None.
    path : str or Path, optional
        Write the figure there as a PNG (atomically). A figure this function
        created is closed after saving.
    color : {"piece", "value"}, default "piece"

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from pwlmodels import PiecewiseAffine
    >>> from pwlmodels.plotting import plot_piecewise_affine
    >>> f = PiecewiseAffine.from_triangulation([[0, 0], [1, 0], [0, 1]], [0.0, 1.0, 2.0])
    >>> plot_piecewise_affine(f, color="value").get_ylabel()
    'input x[1]'
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    if not isinstance(color, str) or color not in _PWA_COLORS:
        raise ValueError(f"`color` must be one of 'piece', 'value'; got {color!r}")
    if f.n_inputs != 2:
        raise ValueError(f"`f` must have 2 inputs to be drawn; got {f.n_inputs}")
    created = ax is None
    if created:
        _, ax = plt.subplots(figsize=(6.4, 5.4))
    polys = [p.vertices() for p in f.regions]
    lower, upper = f.domain
    box = f"[{_fmt(lower[0])}, {_fmt(upper[0])}] x [{_fmt(lower[1])}, {_fmt(upper[1])}]"
    if color == "piece":
        palette = np.concatenate(
            [mpl.colormaps[name](np.linspace(0, 1, 20)) for name in ("tab20", "tab20b", "tab20c")]
        )
        order = np.random.default_rng(0).permutation(max(f.n_pieces, 1))  # fixed shuffle
        faces = palette[order[f.pieces] % len(palette)]
        ax.add_collection(
            PolyCollection(polys, facecolors=faces, edgecolors="0.15", linewidths=0.4)
        )
        ax.set_title(
            f"{f.n_regions} regions, {f.n_pieces} affine pieces on {box}\n"
            "regions of one colour share an affine map"
        )
    else:
        K, c = f.maps
        tris, pts, vals = [], [], []
        for v, a, b in zip(polys, K[:, 0], c[:, 0], strict=True):
            base = len(pts)
            pts.extend(v)
            vals.extend(v @ a + b)
            tris.extend([base, base + i, base + i + 1] for i in range(1, len(v) - 1))
        xy = np.array(pts)
        mesh = ax.tripcolor(
            xy[:, 0], xy[:, 1], np.array(tris), np.array(vals), shading="gouraud", cmap="viridis"
        )
        ax.add_collection(PolyCollection(polys, facecolors="none", edgecolors="w", linewidths=0.3))
        ax.figure.colorbar(mesh, ax=ax, label="f(x), output 0")
        ax.set_title(f"f(x) on {box}\naffine on each of the {f.n_regions} regions (edges)")
    pad = 0.02 * (upper - lower)
    ax.set_xlim(lower[0] - pad[0], upper[0] + pad[0])
    ax.set_ylim(lower[1] - pad[1], upper[1] + pad[1])
    ax.set_xlabel("input x[0]")
    ax.set_ylabel("input x[1]")
    if path is not None:
        save_figure(ax.figure, path)
        if created:
            plt.close(ax.figure)
    return ax


def plot_comparison(comparison, path=None, *, title: str | None = None):
    """Three panels: the target and every model, the error, and the derivative; kinks marked.

    Parameters
    ----------
    comparison : pwlmodels.Comparison
    path : str or pathlib.Path, optional
        Where to save the PNG (written atomically).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    curves = comparison.curves
    x, target = curves["x"], curves["target"]
    models = [m for m in curves if m not in ("x", "target")]
    fig, axes = plt.subplots(3, 1, figsize=(7.5, 8.5), sharex=True, constrained_layout=True)
    axes[0].plot(x, target, color="black", lw=2.5, alpha=0.35, label="target")
    derivative = np.gradient(target, x)
    axes[2].plot(x, derivative, color="black", lw=2.5, alpha=0.35, label="target")
    for i, name in enumerate(models):
        color = f"C{i}"
        label = _MODEL_LABELS.get(name, name)
        axes[0].plot(x, curves[name], color=color, lw=1.2, label=label)
        axes[1].semilogy(x, np.abs(curves[name] - target) + 1e-300, color=color, lw=1.0)
        axes[2].plot(x, np.gradient(curves[name], x), color=color, lw=1.0, label=label)
    for ax in axes:
        for k in comparison.kinks:
            ax.axvline(k, color="grey", ls=":", lw=1)
    errors = np.concatenate([np.abs(curves[m] - target) for m in models])
    floor = np.percentile(errors[errors > 0], 1) if (errors > 0).any() else 1e-12
    top = max(float(errors.max()) * 3, floor * 10)
    axes[1].set_ylim(max(floor / 10, 1e-14), top)  # models with zero error are off the axis
    span = np.ptp(derivative) or 1.0  # keep the target's derivative readable beside spikes
    axes[2].set_ylim(derivative.min() - 0.75 * span, derivative.max() + 0.75 * span)
    axes[1].set_ylabel("|model - target| (0 not shown)")
    axes[2].set_ylabel("df/dx (finite differences)")
    axes[2].set_xlabel("x (dotted lines: kinks)")
    axes[0].legend(fontsize=8, ncol=2)
    axes[0].set_title(title or "Fits of a kinked target: first seed of each model")
    if path is not None:
        save_figure(fig, path)
    return fig
