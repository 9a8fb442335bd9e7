"""Activation patterns, local affine maps and linear regions of piecewise-linear networks.

A network of Linear and ReLU / LeakyReLU / PReLU / Hardtanh / ReLU6 layers is
affine on each activation region, where every unit stays on one piece of its
activation (Montufar et al. 2014; Serra et al. 2018). Ties follow torch's
backward pass, so :func:`local_affine` equals ``torch.func.jacrev`` everywhere,
boundaries included: the pattern comes from the network's own forward pass in
its dtype, and ``z`` on a kink is inactive for ReLU (``relu'(0) = 0``), on the
negative slope for LeakyReLU / PReLU, and saturated for Hardtanh / ReLU6
(``z = min_val``: -1, ``z = max_val``: 1; torch passes the gradient only
strictly between). Maps and polytopes are composed in float64 from the weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ._geometry import Polytope, area_centroid, corners, cut
from ._validate import as_float_array, check_choice, check_finite
from ._walk import relu_to_pwa
from .network._maps import halfspaces, maps, piece_index, slope_offset
from .network._parse import (
    ACTIVATIONS,
    Affine,
    input_features,
    leaves,
    parse_sequential,
    pattern_code,
    reference_tensor,
    unit_code,
)

__all__ = [
    "Partition",
    "Polytope",
    "activation_pattern",
    "linear_region",
    "local_affine",
    "one_sided_jacobian",
    "partition",
    "region_radius",
    "relu_to_pwa",
]

_SLIVER = 1e-10  # relative to the box diagonal: thinner pieces are not cut off
_EPS = float(np.finfo(np.float64).eps)
_DUAL = {"inf": 1, 2: 2, 1: np.inf}


# ------------------------------------------------------------------ results
@dataclass(frozen=True, eq=False)
class Partition:
    """Every activation region of a 1- or 2-input network in a box (see :func:`partition`).

    Attributes
    ----------
    lower, upper : ndarray, shape (n_in,)
    vertices : tuple of ndarray, shape (m_i, n_in)
        Per region: a counter-clockwise polygon (2-D) or an interval's ends
        (1-D, intervals from left to right).
    patterns : tuple of ndarray, shape (n_regions, width_l), int8
        Per activation layer, coded as in :func:`activation_pattern`.
    A : ndarray, shape (n_regions, n_out, n_in)
    c : ndarray, shape (n_regions, n_out)
        ``net(x) = A[i] @ x + c[i]`` on region i.
    sliver : float
        Pieces thinner than this (in the input's units) were not cut off.
    """

    lower: np.ndarray
    upper: np.ndarray
    vertices: tuple
    patterns: tuple
    A: np.ndarray
    c: np.ndarray
    sliver: float

    def __len__(self) -> int:
        return len(self.vertices)

    @property
    def areas(self) -> np.ndarray:
        """Area of each region (length in 1-D), shape (n_regions,)."""
        return np.array([area_centroid(v)[0] for v in self.vertices])

    @property
    def centroids(self) -> np.ndarray:
        """Centroid of each region, shape (n_regions, n_in)."""
        return np.array([area_centroid(v)[1] for v in self.vertices]).reshape(len(self), -1)

    def to_frame(self):
        """One row per region: region, area, centroid_0 (, centroid_1), n_vertices.

        Returns
        -------
        pandas.DataFrame

        Examples
        --------
        >>> import torch
        >>> from pwlmodels.regions import partition
        >>> net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.ReLU())
        >>> partition(net, -1.0, 2.0).to_frame().columns.tolist()
        ['region', 'area', 'centroid_0', 'n_vertices']
        """
        import pandas as pd

        frame = {"region": np.arange(len(self)), "area": self.areas}
        frame.update({f"centroid_{i}": col for i, col in enumerate(self.centroids.T)})
        frame["n_vertices"] = [len(v) for v in self.vertices]
        return pd.DataFrame(frame)

    def plot(self, ax=None, *, path: str | Path | None = None, color: str = "region"):
        """Draw the regions (2-D) or the function and its region boundaries (1-D).

        Parameters
        ----------
        ax : matplotlib Axes, optional
        path : str or Path, optional
            Write a PNG there, atomically.
        color : {"region", "value"}, default "region"
            2-D: one colour per region, or the first output's value.

        Returns
        -------
        matplotlib Axes

        Examples
        --------
        See :func:`pwlmodels.plotting.plot_partition`, which this calls.
        """
        from .plotting import plot_partition

        return plot_partition(self, ax, path=path, color=color)


# ------------------------------------------------------------ public functions
def activation_pattern(net: nn.Sequential, x: object) -> list[torch.Tensor]:
    """Which piece of its activation every unit is on, at every point.

    Parameters
    ----------
    net : torch.nn.Sequential
        Linear and ReLU / LeakyReLU / PReLU / Hardtanh / ReLU6 layers (and
        the other layers :func:`pwlmodels.relu_to_spline` accepts), run in
        its own dtype and on its own device (``x`` is cast to them). A
        TypeError when the regions would be another function's: a layer
        whose class overrides ``forward`` of its torch parent, or a forward
        hook; a ValueError for Dropout or BatchNorm1d in training mode.
    x : torch.Tensor or array_like, shape (N, n_in), or (N,) when n_in == 1

    Returns
    -------
    list of torch.Tensor, shape (N, width), int8
        One per activation layer, on ``x``'s device (CPU for numpy input).
        ReLU / LeakyReLU / PReLU: 1 where ``z > 0``, else 0. Hardtanh: -1
        where ``z <= min_val``, 1 where ``z >= max_val``, else 0. These are
        torch's ties (module docstring).

    Examples
    --------
    >>> import torch
    >>> from pwlmodels.regions import activation_pattern
    >>> net = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.ReLU())
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.tensor([[1.0], [-1.0]])), net[0].bias.zero_()
    >>> [p.tolist() for p in activation_pattern(net, [-1.0, 0.0, 2.0])]
    [[[0, 1], [0, 0], [1, 0]]]
    """
    _, _, like, codes = _setup(net, x)
    device = like.device if isinstance(like, torch.Tensor) else "cpu"
    return [torch.from_numpy(p).to(device) for p in codes]


def local_affine(net: nn.Sequential, x: object) -> tuple:
    """The affine map of ``net`` on each point's activation region.

    ``net(y) = A @ y + c`` for every ``y`` in the region of ``x``. ``A`` is the
    Jacobian ``torch.func.jacrev`` returns, region boundaries included (the
    same pattern; the product is formed in float64 and rounded once).

    Parameters
    ----------
    net : torch.nn.Sequential
        As in :func:`activation_pattern`.
    x : torch.Tensor or array_like, shape (N, n_in), or (N,) when n_in == 1

    Returns
    -------
    A : torch.Tensor or ndarray, shape (N, n_out, n_in)
    c : torch.Tensor or ndarray, shape (N, n_out)
        Composed in float64, returned in ``x``'s dtype (float64 for
        integers) and on its device: torch in, torch out; numpy in, numpy out.

    Examples
    --------
    >>> import torch
    >>> from pwlmodels.regions import local_affine
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    >>> x = torch.tensor([[0.3, -0.2], [1.0, 2.0]])
    >>> A, c = local_affine(net, x)
    >>> A.shape, c.shape
    (torch.Size([2, 1, 2]), torch.Size([2, 1]))
    >>> torch.allclose((A @ x[:, :, None])[:, :, 0] + c, net(x), atol=1e-6)
    True
    >>> torch.allclose(A[0], torch.func.jacrev(net)(x[0]))
    True
    """
    ops, pts, like, codes = _setup(net, x)
    _, a, c = maps(ops, codes, *pts.shape)
    return _like(a, like), _like(c, like)


def one_sided_jacobian(net: nn.Sequential, x: object, *, side: str = "right") -> object:
    """The one-sided partial derivatives of ``net`` at each point.

    Entry ``(i, j)`` is the derivative of output ``i`` along ``+e_j``
    (``side="right"``) or ``-e_j`` (``"left"``). Inside an activation region
    both equal :func:`local_affine`'s ``A``; on a boundary a unit at its kink
    takes the piece the direction moves it onto, where autograd would use
    ``relu'(0) = 0``, which is in general neither. For a controller
    ``u = net(x)`` these are its gains at ``x`` from either side. Which
    piece each unit is on comes from the network's own forward pass; the
    products are formed in float64 from the weights.

    Parameters
    ----------
    net : torch.nn.Sequential
        As in :func:`activation_pattern`.
    x : torch.Tensor or array_like, shape (N, n_in), or (N,) when n_in == 1
    side : {"right", "left"}, default "right"

    Returns
    -------
    torch.Tensor or ndarray, shape (N, n_out, n_in)
        In ``x``'s dtype and on its device, as :func:`local_affine` returns.

    Examples
    --------
    >>> import torch
    >>> from pwlmodels.regions import one_sided_jacobian
    >>> net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.ReLU())
    >>> with torch.no_grad():  # relu(x): slope 1 to the right of 0, 0 to its left
    ...     _ = net[0].weight.fill_(1.0), net[0].bias.zero_()
    >>> one_sided_jacobian(net, [0.0]).item(), one_sided_jacobian(net, [0.0], side="left").item()
    (1.0, 0.0)
    """
    check_choice(side, "side", ("right", "left"))
    ops = parse_sequential(net)
    pts, like = _points(x, input_features(ops))
    states = iter(_forward_codes(net, pts, ties=True))
    sign = 1.0 if side == "right" else -1.0
    n, n_in = pts.shape
    d = np.broadcast_to(sign * np.eye(n_in), (n, n_in, n_in))  # (N, width, n_in)
    for op in ops:
        if isinstance(op, Affine):
            d = op.weight @ d
            continue
        code, tie = next(states)
        width = code.shape[1]
        piece = np.where(
            tie[:, :, None] >= 0, tie[:, :, None] + (d > 0), piece_index(op, code)[:, :, None]
        )
        slopes = np.broadcast_to(op.slopes, (op.slopes.shape[0], width))
        d = slopes[piece, np.arange(width)[None, :, None]] * d
    return _like(sign * d + 0.0, like)  # + 0.0: no negative zeros


def linear_region(
    net: nn.Sequential, x: object, *, lower: object = None, upper: object = None
) -> Polytope:
    """The closed activation region of one point, as a polytope ``A_ub @ y <= b_ub``.

    One row per kink bounding each unit's piece (none for units constant on
    the region), in float64.

    Parameters
    ----------
    net : torch.nn.Sequential
        As in :func:`activation_pattern`.
    x : torch.Tensor or array_like, shape (n_in,) or (1, n_in)
    lower, upper : float or array_like, shape (n_in,), optional
        Box constraints, appended as the last rows; ``x`` must lie in the
        box (a ValueError names the first coordinate outside it).

    Returns
    -------
    Polytope

    Examples
    --------
    >>> import torch
    >>> from pwlmodels.regions import linear_region
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU())
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.eye(2)), net[0].bias.zero_()
    >>> region = linear_region(net, [0.5, -0.5], lower=-1.0, upper=1.0)
    >>> region.vertices().tolist()
    [[0.0, -1.0], [1.0, -1.0], [1.0, 0.0], [0.0, 0.0]]
    >>> region.contains([[0.9, -0.9], [-0.1, -0.5]]).tolist()
    [True, False]
    """
    n_in = input_features(parse_sequential(net))
    arr = as_float_array(x, "x")
    if arr.size != (n_in or arr.size) or arr.ndim > 2 or (arr.ndim == 2 and len(arr) != 1):
        raise ValueError(f"`x` must be one point of shape ({n_in or 'n_in'},); got {arr.shape}")
    ops, pts, _, codes = _setup(net, (x if isinstance(x, torch.Tensor) else arr).reshape(1, -1))
    box = _bounds(lower, upper, pts.shape[1])
    _check_inside(pts[0], *box)
    a, b = (m[0] for m in halfspaces(ops, codes, pts))
    keep = np.isfinite(b) & np.any(a != 0, axis=1)
    a, b = [a[keep]], [b[keep]]
    for sign, bound in zip((-1.0, 1.0), box, strict=True):
        if bound is not None:
            a.append(sign * np.eye(pts.shape[1]))
            b.append(sign * bound)
    return Polytope(np.concatenate(a), np.concatenate(b))


def region_radius(net: nn.Sequential, x: object, *, norm: str | float = "inf") -> object:
    """The exact distance from each point to the boundary of its activation region.

    The minimum over the region's half-spaces ``a @ y <= b`` of
    ``(b - a @ x) / ||a||_*`` (the dual norm): every ``y`` with
    ``||y - x|| < radius`` has the pattern of ``x``. A lower bound on the
    radius of linearity, since neighbouring regions can share an affine map.
    0 on a boundary; ``inf`` when no unit can change.

    Parameters
    ----------
    net : torch.nn.Sequential
        As in :func:`activation_pattern`.
    x : torch.Tensor or array_like, shape (N, n_in), or (N,) when n_in == 1
    norm : {"inf", 2, 1}, default "inf"
        The norm of ``y - x``.

    Returns
    -------
    torch.Tensor or ndarray, shape (N,)
        In ``x``'s dtype (float64 for integers) and on its device.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from pwlmodels.regions import region_radius
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.ReLU())
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.tensor([[3.0, 4.0]])), net[0].bias.zero_()
    >>> region_radius(net, np.array([[1.0, 1.0]]), norm=2)  # |3 + 4| / 5
    array([1.4])
    >>> region_radius(net, np.array([[1.0, 1.0]]))  # 7 / (3 + 4)
    array([1.])
    """
    key = "inf" if isinstance(norm, float) and math.isinf(norm) else norm
    if isinstance(key, bool) or key not in _DUAL:
        shown = norm.item() if isinstance(norm, np.generic) else norm  # 3.0, not np.float64(3.0)
        raise ValueError(f"`norm` must be one of 'inf', 2, 1; got {shown!r}")
    ops, pts, like, codes = _setup(net, x)
    a, b = halfspaces(ops, codes, pts)
    slack = np.maximum(b - np.einsum("nmi,ni->nm", a, pts), 0.0)  # < 0 only by rounding
    size = np.linalg.norm(a, ord=_DUAL[key], axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        dist = np.where((size > 0) & np.isfinite(b), slack / size, np.inf)
    return _like(dist.min(axis=1, initial=np.inf), like)


def partition(
    net: nn.Sequential, lower: object, upper: object, *, max_regions: int = 100_000
) -> Partition:
    """Every activation region of a 1- or 2-input network in a box.

    The box is split layer by layer: every piece so far is cut along each
    unit's kinks (polygons in 2-D, intervals in 1-D), then carries its
    pattern and affine map, so the result is exact up to float64 rounding
    of the vertices. A cut that would leave a piece thinner than ``1e-10``
    times the box diagonal (plus a rounding margin; the ``sliver``
    attribute) is not made: such slivers join a neighbour and are not
    reported. With one input there are at most ``prod_l (n_l + 1)`` regions
    (Serra et al. 2018); depth can multiply them (Montufar et al. 2014).

    Parameters
    ----------
    net : torch.nn.Sequential
        As in :func:`activation_pattern`, with 1 or 2 inputs.
    lower, upper : float or array_like, shape (n_in,)
        The box: finite, ``lower < upper``.
    max_regions : int, default 100_000
        A ValueError as soon as there are more regions.

    Returns
    -------
    Partition

    Examples
    --------
    >>> import torch
    >>> from pwlmodels.regions import partition
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    >>> with torch.no_grad():  # relu(x0) + relu(x1): two orthogonal kinks, four quadrants
    ...     _ = net[0].weight.copy_(torch.eye(2)), net[0].bias.zero_()
    >>> part = partition(net, [-1.0, -1.0], [1.0, 1.0])
    >>> len(part), part.areas.tolist()
    (4, [1.0, 1.0, 1.0, 1.0])
    """
    ops = parse_sequential(net)
    if isinstance(max_regions, bool) or not isinstance(max_regions, (int, np.integer)):
        raise TypeError(f"`max_regions` must be an integer; got {type(max_regions).__name__}")
    if max_regions < 1:
        raise ValueError(f"`max_regions` must be positive; got {max_regions}")
    n_in = input_features(ops) or np.size(as_float_array(lower, "lower"))
    if n_in not in (1, 2):
        raise ValueError(
            f"`net` must have 1 or 2 inputs for partition; got {n_in} "
            "(use linear_region for the region of one point)"
        )
    lo, hi = _bounds(lower, upper, n_in, strict=True)
    return _partition(ops, lo, hi, max_regions)


# ------------------------------------------------------------------ internals
def _setup(net: object, x: object) -> tuple:
    """Parsed ops, points (N, n_in) in float64, the output template, and the patterns."""
    ops = parse_sequential(net)
    pts, like = _points(x, input_features(ops))
    return ops, pts, like, _forward_codes(net, pts)


def _points(x: object, n_in: int | None) -> tuple[np.ndarray, object]:
    arr = as_float_array(x, "x")
    check_finite(arr, "x")
    if arr.ndim == 1 and n_in in (None, 1):
        arr = arr[:, None]
    if arr.ndim != 2 or (n_in is not None and arr.shape[1] != n_in):
        one = " or (N,)" if n_in == 1 else ""
        raise ValueError(f"`x` must have shape (N, {n_in or 'n_in'}){one}; got {arr.shape}")
    if isinstance(x, torch.Tensor):
        return arr, x
    kept = np.asarray(x)
    return arr, (kept if kept.dtype.kind == "f" else arr)


def _like(a: np.ndarray, like: object) -> object:
    """``a`` in the dtype and on the device of ``like`` (torch or numpy)."""
    if isinstance(like, torch.Tensor):
        dtype = like.dtype if like.is_floating_point() else torch.float64
        return torch.from_numpy(np.ascontiguousarray(a)).to(like.device, dtype)
    return a.astype(like.dtype, copy=False)


def _forward_codes(net: nn.Module, pts: np.ndarray, *, ties: bool = False) -> list:
    """Patterns, int8 (N, width), from the network's own forward pass.

    With ``ties``: (pattern, tie) pairs, ``tie`` the index of the kink a unit's
    pre-activation equals (in the net's dtype), -1 for none.
    """
    ref = reference_tensor(net)
    z = torch.tensor(pts, dtype=ref.dtype, device=ref.device)  # a copy: in-place layers are safe
    out = []
    with torch.no_grad():
        for _, m in leaves(net):  # the layers parse_sequential read, checked as it checks them
            if isinstance(m, ACTIVATIONS):
                code = unit_code(m, z).to(torch.int8).cpu().numpy()
                if ties:
                    at = torch.full(z.shape, -1, dtype=torch.int8, device=z.device)
                    hard = isinstance(m, nn.Hardtanh)
                    for k, kink in enumerate((m.min_val, m.max_val) if hard else (0.0,)):
                        at[z == kink] = k
                    code = (code, at.cpu().numpy())
                out.append(code)
            z = m(z)
    return out


def _bounds(lower: object, upper: object, n_in: int, *, strict: bool = False) -> list:
    """Finite float64 bounds of shape (n_in,) (numbers broadcast); None where not given."""
    out = []
    for name, bound in (("lower", lower), ("upper", upper)):
        arr = None if bound is None and not strict else as_float_array(bound, name)
        if arr is not None and arr.shape not in ((), (n_in,)):
            raise ValueError(f"`{name}` must be a number or have shape ({n_in},); got {arr.shape}")
        out.append(None if arr is None else np.broadcast_to(arr, (n_in,)).copy())
        check_finite(np.zeros(0) if arr is None else arr, name)
    lo, hi = out
    bad = np.zeros(0, bool) if lo is None or hi is None else (lo >= hi if strict else lo > hi)
    if bad.any():
        i = int(np.argmax(bad))
        rel = f"> upper[{i}] = {float(hi[i])!r}" if lo[i] > hi[i] else f"= upper[{i}]"
        raise ValueError(
            f"`lower` must be {'<' if strict else '<='} `upper`; "
            f"got lower[{i}] = {float(lo[i])!r} {rel}"
        )
    return out


def _check_inside(x: np.ndarray, lower: np.ndarray | None, upper: np.ndarray | None) -> None:
    """A ValueError naming the first coordinate of ``x`` outside ``lower <= x <= upper``."""
    for name, bound, out, rel in (
        ("lower", lower, np.less, "<"),
        ("upper", upper, np.greater, ">"),
    ):
        bad = np.zeros(0, bool) if bound is None else out(x, bound)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"`x` must lie in the box `lower` <= x <= `upper`; got x[{i}] = {float(x[i])!r} "
                f"{rel} {name}[{i}] = {float(bound[i])!r}"
            )


def _partition(ops: list, lower: np.ndarray, upper: np.ndarray, max_regions: int) -> Partition:
    n_in = lower.size
    box = np.array([lower, upper])
    box = box if n_in == 1 else corners(box)
    sliver = _SLIVER * float(np.linalg.norm(upper - lower))
    scale = float(np.abs(box).max())
    # a piece: (vertices, patterns so far, map g (width, n_in), offset h (width,))
    pieces = [(box, [], np.eye(n_in), np.zeros(n_in))]
    for op in ops:
        if isinstance(op, Affine):
            pieces = [(v, p, op.weight @ g, op.weight @ h + op.bias) for v, p, g, h in pieces]
            continue
        out = []
        for v, pats, g, h in pieces:
            z = v @ g.T + h
            tol = sliver * np.linalg.norm(g, axis=1)
            tol += 64 * _EPS * (np.abs(g).sum(axis=1) * scale + np.abs(h))  # rounding
            todo = [(v, z)]
            for k in op.kinks:
                for j in np.flatnonzero((z.min(axis=0) < k - tol) & (z.max(axis=0) > k + tol)):
                    nxt = []
                    for vv, zz in todo:
                        d = zz[:, j] - k
                        if d.min() < -tol[j] and d.max() > tol[j]:
                            nxt.extend(cut(vv, zz, d, tol[j], j, k))
                        else:
                            nxt.append((vv, zz))
                    todo = nxt
            for vv, zz in todo:  # the pattern at the mean of the vertices, inside the piece
                code = pattern_code(op.name == "hardtanh", zz.mean(axis=0), *op.kinks).astype(
                    np.int8
                )
                s, t = (u[0] for u in slope_offset(op, code[None, :]))
                out.append((vv, [*pats, code], s[:, None] * g, s * h + t))
            if len(out) > max_regions:
                raise ValueError(
                    f"`net` has more than `max_regions` = {max_regions} activation regions "
                    "in the box; raise max_regions or shrink the box"
                )
        pieces = out
    if n_in == 1:  # intervals from left to right
        pieces.sort(key=lambda piece: piece[0][0, 0])
    vertices, pats, a, c = (tuple(col) for col in zip(*pieces, strict=True))
    patterns = tuple(np.array(layer, dtype=np.int8) for layer in zip(*pats, strict=True))
    arrays = [lower.copy(), upper.copy(), np.array(a), np.array(c)]
    for arr in (*arrays, *patterns, *vertices):
        arr.setflags(write=False)
    return Partition(arrays[0], arrays[1], vertices, patterns, arrays[2], arrays[3], sliver)
