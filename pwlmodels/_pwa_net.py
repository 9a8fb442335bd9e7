"""Exact ReLU networks for continuous piecewise-affine functions on R^d (``pwa_to_relu``).

The construction is a lattice (max-min) representation ``f = max_t min_{j in C_t} l_j``
over the distinct affine pieces ``l_j`` of each output (Tarela and Martinez 1999),
certified and pruned in :mod:`pwlmodels._pwa_lattice`: each term's pieces are above
``f`` on a cell of the domain (a region, cut along ``l_j = f`` where one term per region
is not exact) and every term has a piece, or an LP-certified combination, below ``f`` on
every region; a greedy set cover keeps few pieces per term and few terms ("gating"),
which keeps the network small and its activation regions near the pieces.

It is written with ReLUs in balanced trees: ``min(a, b) = a - relu(a - b)``, ``max(a,
b) = a + relu(b - a)``, the min within each term, then the max over the terms, so
there are ``ceil(log2 max|C_t|) + ceil(log2 T)`` hidden layers (at least 1) for ``T``
terms, against the ``ceil(log2(d + 1))`` of Arora et al. 2018 (whose construction is
much wider). A value that must reach a later layer rides through a ReLU as ``relu(v + s)
- s``, with one shift ``s``, a power of two at least twice ``max |l_j|`` over the
domain: the unit is always active (it adds no activation boundary), every weight after
the first layer is a small integer and every bias an integer multiple of ``s``, all
exact in floating point. Equal subtrees are shared. Outputs have their own trees, side
by side in the same layers (the shorter ones carried to the common depth).

The rounding bound (:func:`pwa_rounding_bound`) follows the values: a computed ``min(a,
b)`` is within ``max(|alpha|, |beta|) + |e1| + |e2|`` of the exact one when ``a`` and
``b`` carry errors alpha and beta and its two units round by e1 and e2 (relu is
monotone and 1-Lipschitz), each unit's rounding is ``gamma_{n+1} (|W| (|h| + e) + |b|)``
(Higham 2002, ch. 3) with ``|h|`` from the value ranges over the domain, the first
layer adds the rounding of its weights (and float32 the rounding of the input), and the
certificate's delta (the largest violation of the relations it used) is added last.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ._pwa_build import value_scale
from ._pwa_lattice import Lattice, lattice
from .network._torch import (
    UNIT,
    check_device,
    check_dtype,
    check_float32_range,
    relu_sequential,
)
from .pwa import PiecewiseAffine

__all__ = ["pwa_rounding_bound", "pwa_to_relu"]


# ------------------------------------------------------------------ the network
def _tree(op: str, items: list) -> object:
    """A balanced binary tree of ``op`` over items (nested tuples; a leaf stays itself)."""
    while len(items) > 1:
        pairs = [(op, items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
        items = pairs + ([items[-1]] if len(items) % 2 else [])
    return items[0]


class _Compiler:
    """Lays out the trees layer by layer: units are ``relu(pre-activation)``."""

    def __init__(self, lattices: list[Lattice], shift: float) -> None:
        self.lat, self.s = lattices, shift
        self.memo: dict = {}
        self.height: dict = {}
        self.range: dict = {}
        self.layers: list[dict] = []  # per layer: key -> unit index
        self.units: list[list] = []  # per layer: (form terms, const, hi) per unit
        self.values: dict = {}  # (node, layer) -> (units it reads, values it reads)

    def depth(self, n) -> int:
        if n not in self.height:
            self.height[n] = 0 if n[0] == "leaf" else 1 + max(self.depth(n[1]), self.depth(n[2]))
        return self.height[n]

    def bounds(self, n) -> tuple[float, float]:
        if n not in self.range:
            if n[0] == "leaf":
                lat = self.lat[n[1]]
                self.range[n] = (float(lat.lo[n[2]]), float(lat.hi[n[2]]))
            else:
                (la, ha), (lb, hb) = self.bounds(n[1]), self.bounds(n[2])
                pick = min if n[0] == "min" else max
                self.range[n] = (pick(la, lb), pick(ha, hb))
        return self.range[n]

    def unit(self, layer: int, key, terms: list, const: float, hi: float) -> int:
        table = self.layers[layer - 1]
        if key not in table:
            table[key] = len(table)
            self.units[layer - 1].append((terms, const, hi))
        return table[key]

    def form(self, n, layer: int):
        """The value of node n after ``layer`` hidden layers: ({unit: coef}, const)."""
        if (n, layer) in self.memo:
            return self.memo[n, layer]
        s = self.s
        if layer == 0:
            out = ("leaf", n)
        elif self.depth(n) == layer:
            a, b = self.form(n[1], layer - 1), self.form(n[2], layer - 1)
            (la, ha), (lb, hb) = self.bounds(n[1]), self.bounds(n[2])
            cu = self.unit(layer, ("carry", n[1]), [(a, 1)], s, ha + s)
            if n[0] == "min":  # min(a, b) = a - relu(a - b)
                du = self.unit(layer, n, [(a, 1), (b, -1)], 0.0, max(ha - lb, 0.0))
                out = ({cu: 1, du: -1}, -s)
            else:  # max(a, b) = a + relu(b - a)
                du = self.unit(layer, n, [(b, 1), (a, -1)], 0.0, max(hb - la, 0.0))
                out = ({cu: 1, du: 1}, -s)
            self.values[n, layer] = ((cu, du), ((n[1], layer - 1), (n[2], layer - 1)))
        else:  # carried: relu(v + s) - s, always active
            v = self.form(n, layer - 1)
            cu = self.unit(layer, ("carry", n), [(v, 1)], s, self.bounds(n)[1] + s)
            out = ({cu: 1}, -s)
            self.values[n, layer] = ((cu,), ((n, layer - 1),))
        self.memo[n, layer] = out
        return out

    def build(self, roots: list) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        depth = max(1, *(self.depth(r) for r in roots))
        self.layers = [{} for _ in range(depth)]
        self.units = [[] for _ in range(depth)]
        self.roots, self.depth_ = roots, depth
        finals = [self.form(r, depth) for r in roots]
        d = self.lat[0].K.shape[1]
        out, n_prev = [], d
        for layer in range(depth):
            rows = [(terms, const) for terms, const, _ in self.units[layer]]
            W, b = self._dense(rows, n_prev)
            hi = np.array([h for _, _, h in self.units[layer]])
            out.append((W, b, hi))
            n_prev = W.shape[0]
        W, b = self._dense([((f, 1),) for f in finals], n_prev, wrapped=True)
        out.append((W, b, np.full(len(finals), np.nan)))
        return out

    def _dense(self, rows, n_prev: int, wrapped: bool = False):
        W = np.zeros((len(rows), n_prev))
        b = np.zeros(len(rows))
        for r, row in enumerate(rows):
            terms, const = ([row[0]], 0.0) if wrapped else row
            b[r] = const
            for f, coef in terms:
                if f[0] == "leaf":  # f = ("leaf", ("leaf", output, piece))
                    lat = self.lat[f[1][1]]
                    W[r] += coef * lat.K[f[1][2]]
                    b[r] += coef * lat.c[f[1][2]]
                else:
                    for unit, k in f[0].items():
                        W[r, unit] += coef * k
                    b[r] += coef * f[1]
        return W, b


def _rounding(W: np.ndarray, b: np.ndarray, mag: np.ndarray, u: float) -> np.ndarray:
    """Per row: a bound on the rounding of ``fl(W h + b)`` for ``|h| <= mag``."""
    nnz = np.count_nonzero(W, axis=1) + 1
    return _gamma(nnz, u) * (np.abs(W) @ mag + np.abs(b))


def _bound(comp: _Compiler, lattices, layers, xabs: np.ndarray, dtype: torch.dtype) -> float:
    """Error bound of the float network against f (module docstring).

    Value level: if a and b carry errors alpha and beta, the computed ``min(a, b) =
    (a + s + e1) - s - relu(a - b + e2)`` is within ``max(|alpha|, |beta|) + |e1| +
    |e2|`` of the exact one (relu is monotone and 1-Lipschitz), e1 and e2 the
    roundings of the two units; a carried value adds its unit's rounding.
    """
    u = UNIT[dtype]
    err: dict = {}
    mag = xabs * (1 + u)
    unit_err = np.zeros_like(xabs)
    for layer, (W, b, hi) in enumerate(layers[:-1], start=1):
        if dtype == torch.float32:
            W, b = W.astype(np.float32).astype(np.float64), b.astype(np.float32).astype(np.float64)
        rnd = _rounding(W, b, mag + unit_err, u)
        if layer == 1:  # rounded weights K_a - K_b, c + s (and float32 inputs)
            rnd = rnd + 3 * u * (np.abs(W) @ xabs + np.abs(b))
        new_unit = rnd.copy()  # each unit's error, for the magnitudes of the next layer
        for key, (units, reads) in comp.values.items():
            if key[1] == layer:
                before = [err.get(r, 0.0) for r in reads]
                err[key] = max(before) + float(sum(rnd[v] for v in units))
                for v in units:
                    new_unit[v] = max(new_unit[v], rnd[v] + sum(before))
        unit_err, mag = new_unit, np.maximum(hi, 0.0) * (1 + 1e-9)
    W, b, _ = layers[-1]
    rnd = _rounding(W, b, mag + unit_err, u)
    roots = zip(comp.roots, lattices, strict=True)
    out = [err.get((r, comp.depth_), 0.0) + rnd[o] + lat.delta for o, (r, lat) in enumerate(roots)]
    return float(max(out) * (1 + 1e-6))


def _lattices(f: PiecewiseAffine, prune: bool) -> list[Lattice]:
    """Each output's lattice; where one cannot be certified at its own tolerance (1e-10
    of the values), again at the continuity tolerance ``f`` was built with (maps may
    disagree by that much where regions meet), then at 1000 times it (a sliver region
    whose map leaves a neighbour's by a little more across its width); the bound
    includes what the certificate then uses (delta is measured)."""
    K, c = f.maps
    slacks = [0.0, f.tol * value_scale(K, c, *f.domain)]
    slacks.append(1000 * slacks[1])
    for slack in slacks[:-1]:
        try:
            return [lattice(f, o, prune, slack) for o in range(f.n_outputs)]
        except ValueError:
            pass
    return [lattice(f, o, prune, slacks[-1]) for o in range(f.n_outputs)]


def _plan(f: PiecewiseAffine, prune: bool):
    lattices = _lattices(f, prune)
    roots = [
        _tree("max", [_tree("min", [("leaf", o, j) for j in t]) for t in lat.terms])
        for o, lat in enumerate(lattices)
    ]
    big = max(float(np.max(np.abs(np.r_[lat.lo, lat.hi]))) for lat in lattices)
    shift = 2.0 ** math.ceil(math.log2(max(2.0 * big, 1.0)))
    comp = _Compiler(lattices, shift)
    return lattices, comp, comp.build(roots)


def _check_f(f: object) -> PiecewiseAffine:
    if not isinstance(f, PiecewiseAffine):
        raise TypeError(
            f"`f` must be a PiecewiseAffine (from_triangulation, from_regions or "
            f"from_spline); got {type(f).__name__}"
        )
    return f


def pwa_to_relu(
    f: PiecewiseAffine,
    *,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> nn.Sequential:
    """An exact ReLU network equal to a continuous piecewise-affine function on its domain.

    A certified, pruned lattice (max-min) representation (Tarela and Martinez 1999)
    with min and max of two written as ``a -+ relu(+-(a - b))`` in balanced trees;
    values that skip a layer ride through always-active units ``relu(v + s) - s``
    (module ``pwlmodels._pwa_net`` has the derivation). Each output has its own
    trees, side by side in the same layers.

    Size: ``ceil(log2 max|C_t|) + ceil(log2 T)`` hidden layers (at least one), for
    ``T`` terms of at most ``max|C_t|`` pieces each, against the ``ceil(log2(d +
    1))`` hidden layers of Arora et al. 2018 (their construction is much
    wider). Measured (``benchmarks/bench_pwa_relu.py``, random values on random
    points): a 2-D interpolant on 50 triangles takes 8 hidden layers, width 85, 253
    ReLUs, and about 130 activation patterns per piece in 200,000 samples (the plain
    lattice: 11 layers, 849 ReLUs, about 2,800); 53 tetrahedra in 3-D take 10 layers,
    width 117, 394 ReLUs and about 1,300 patterns per piece (plain: about 3,400). The
    float64 error and its bound (:func:`pwa_rounding_bound`) were at most 1.5e-12 and
    8.3e-11 there, for values of order 1. Building costs a few LPs per region where a
    term needs one (0.7 s for 192 triangles).

    Parameters
    ----------
    f : PiecewiseAffine
        On a convex domain (every triangulation, every ``from_spline``); a domain on
        which a lattice term cannot be certified is a ValueError.
    dtype : {torch.float64, torch.float32}, default torch.float64
    device : torch.device or str, optional
        None is the CPU.

    Returns
    -------
    torch.nn.Sequential
        ``Linear, ReLU, ..., Linear`` mapping (..., d) to (..., m) in ``dtype``.

    Examples
    --------
    >>> import numpy as np
    >>> from pwlmodels import PiecewiseAffine, evaluate, pwa_to_relu
    >>> rng = np.random.default_rng(0)
    >>> pts = np.vstack([[0, 0], [1, 0], [0, 1], [1, 1], rng.random((8, 2))])
    >>> f = PiecewiseAffine.from_triangulation(pts, rng.normal(size=12))
    >>> net = pwa_to_relu(f)
    >>> x = rng.random((1000, 2))
    >>> bool(np.max(np.abs(evaluate(net, x) - f(x))) <= pwa_rounding_bound(f, net))
    True
    """
    f = _check_f(f)
    dtype = check_dtype(dtype)
    device = check_device(device)
    _, _, layers = _plan(f, prune=True)
    if dtype == torch.float32:
        check_float32_range(
            [("f", "network weights", np.concatenate([W.ravel() for W, _, _ in layers]))]
        )
    return relu_sequential(layers, dtype=dtype, device=device)


def _gamma(n: np.ndarray, u: float) -> np.ndarray:
    return n * u / (1.0 - n * u)


def pwa_rounding_bound(f: PiecewiseAffine, net: nn.Module) -> float:
    """A true upper bound on ``|net(x) - f(x)|`` over the domain, for ``net =
    pwa_to_relu(f, dtype=...)``.

    Each layer's float error is bounded by ``|W| e + gamma_{n+1} (|W| (|h| + e) +
    |b|)`` (Higham 2002, ch. 3; ``n`` the nonzero weights of the row, ``e`` the
    previous layer's error bound, ``|h|`` the exact value range of each unit over the
    domain from the construction); the first layer adds the rounding of its weights
    (``K_a - K_b`` and ``c + s``; all later weights are small integers and biases
    integer multiples of a power of two, exact), float32 adds the rounding of the
    input. To this adds the largest violation of the order relations the lattice
    certificate uses (module docstring; computed at the regions' vertices as
    ``f.regions`` give them), usually a few ulps. TF32 matmuls (off by default) are
    not covered.

    Parameters
    ----------
    f : PiecewiseAffine
    net : torch.nn.Sequential
        The network :func:`pwa_to_relu` builds for ``f`` (any dtype and device it
        accepts); any other network is a ValueError.

    Returns
    -------
    float
        The bound, the largest over the outputs.

    Examples
    --------
    >>> from pwlmodels import PiecewiseAffine, PiecewiseLinear, pwa_to_relu
    >>> g = PiecewiseLinear([0.0, 1.0, 2.0], [0.0, 1.0, 0.5])
    >>> f = PiecewiseAffine.from_spline(g, -1.0, 3.0)
    >>> bool(pwa_rounding_bound(f, pwa_to_relu(f)) < 1e-13)
    True
    """
    f = _check_f(f)
    if not isinstance(net, nn.Sequential):
        raise TypeError(
            f"`net` must be the nn.Sequential pwa_to_relu(f) built; got {type(net).__name__}"
        )
    params = list(net.parameters())
    dtype = params[0].dtype if params else None
    if dtype not in UNIT:
        raise ValueError("`net` must be a float64 or float32 network built by pwa_to_relu(f)")
    lattices, comp, layers = _plan(f, prune=True)
    want = relu_sequential(layers, dtype=dtype, device="cpu")
    same = len(want) == len(net) and all(
        type(a) is type(b)
        and all(
            torch.equal(p.detach().cpu(), q)
            for p, q in zip(b.parameters(), a.parameters(), strict=True)
        )
        for a, b in zip(want, net, strict=True)
    )
    if not same:
        raise ValueError(
            "`net` is not the network pwa_to_relu(f) builds (layers or weights differ); "
            "the bound holds only for that construction"
        )
    lower, upper = f.domain
    return _bound(comp, lattices, layers, np.maximum(np.abs(lower), np.abs(upper)), dtype)
