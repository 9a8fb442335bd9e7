"""Sound bounds for piecewise-linear networks over boxes (private to pwlmodels.verify).

The network is normalised to ``z_1 = W_0 x + b_0``, ``a_k = sigma_k(z_k)``,
``z_{k+1} = W_k a_k + b_k``, ``y = W_L a_L + b_L`` (:class:`Chain`). Bounds are
interval bounds and CROWN / DeepPoly linear relaxations propagated backwards
(Zhang et al. 2018; Singh et al. 2019), batched over boxes in torch float64.

Floating-point margin
---------------------
Every bound is computed in float64 and then widened by ``gamma * mass`` plus
an absolute term (1e-290 per layer in the interval pass; in the backward pass
the underflow error, 2^-1074 per product and sum, carried through the later
layers; box radii and relaxation intercepts moved out by a few 2^-1074),
where ``mass`` is the same computation carried out on absolute values
(``|Lambda| |W| ...``: an upper bound on the sum of the magnitudes of the
terms that were added) and ``gamma = 4 u (n_in + sum of widths + 4 L + 16)``
with ``u = 2**-53``: four times the classical dot-product error bound
``gamma_n`` (Higham 2002, sec. 3.1) for the longest chain of additions. This
is a documented first-order margin, not interval arithmetic: it covers
ordinary networks but is no guarantee against networks crafted to exploit
rounding (Zombori et al. 2021; Jia and Rinard 2021).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ..network._parse import Activation, Affine

__all__: list[str] = []

_U = 2.0**-53


class SolverInconsistencyWarning(UserWarning):
    """The MILP solver's results disagree with the float64 forward pass."""


_TINY = 1e-290
_ETA = 2.0**-1074  # the smallest subnormal: an underflowing product or sum is off by <= _ETA
_NORMAL = 2.0**-1022  # the smallest normal float64


@dataclass(frozen=True)
class Unit:
    """One activation layer: kind in {"leaky", "hardtanh"}, per-unit parameters."""

    kind: str
    alpha: torch.Tensor  # (h,) negative-side slope ("leaky"; 0 for relu)
    lo: float = 0.0
    hi: float = 0.0
    name: str = ""
    relu: bool = False  # "leaky" with every alpha 0: a shorter relaxation


@dataclass(frozen=True)
class Chain:
    """Alternating affine maps and activations, float64 torch on one device."""

    weights: list  # L + 1 tensors (out, in)
    biases: list  # L + 1 tensors (out,)
    acts: list  # L Units
    gamma: float
    abs_weights: list = field(init=False, repr=False)  # |W|, |b|: for the rounding margins
    abs_biases: list = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "abs_weights", [w.abs() for w in self.weights])
        object.__setattr__(self, "abs_biases", [b.abs() for b in self.biases])

    @property
    def n_in(self) -> int:
        return self.weights[0].shape[1]

    @property
    def n_out(self) -> int:
        return self.weights[-1].shape[0]


def make_chain(ops: list, n_in: int, device: torch.device) -> Chain:
    """Normalise parsed ops (identity maps inserted where needed).

    Two affine maps in a row get an identity activation between them (a
    "leaky" unit of slope 1, which nothing treats as kinked) rather than
    being multiplied together in float64.
    """
    weights: list = []
    biases: list = []
    acts: list = []
    width = n_in
    expect_affine = True
    for op in ops:
        if isinstance(op, Affine):
            if not expect_affine:
                ones = torch.ones(width, dtype=torch.float64, device=device)
                acts.append(Unit("leaky", ones, name="identity"))
            weights.append(torch.tensor(op.weight, dtype=torch.float64, device=device))
            biases.append(torch.tensor(op.bias, dtype=torch.float64, device=device))
            width = op.weight.shape[0]
            expect_affine = False
            continue
        if expect_affine:  # activation first or two in a row: identity in between
            weights.append(torch.eye(width, dtype=torch.float64, device=device))
            biases.append(torch.zeros(width, dtype=torch.float64, device=device))
        acts.append(_unit(op, width, device))
        expect_affine = True
    if expect_affine:
        weights.append(torch.eye(width, dtype=torch.float64, device=device))
        biases.append(torch.zeros(width, dtype=torch.float64, device=device))
    widths = sum(w.shape[0] for w in weights)
    gamma = 4 * _U * (n_in + widths + 4 * len(acts) + 16)
    return Chain(weights, biases, acts, gamma)


def _unit(op: Activation, width: int, device: torch.device) -> Unit:
    if op.name == "hardtanh":
        zero = torch.zeros(width, dtype=torch.float64, device=device)
        return Unit("hardtanh", zero, float(op.kinks[0]), float(op.kinks[1]), op.name)
    a = torch.tensor(op.slopes[0], dtype=torch.float64, device=device)
    alpha = a.expand(width).clone() if a.numel() == 1 else a
    return Unit("leaky", alpha, name=op.name, relu=bool((alpha == 0).all()))


def apply_unit(unit: Unit, z: torch.Tensor) -> torch.Tensor:
    if unit.kind == "hardtanh":
        return z.clamp(unit.lo, unit.hi)
    if unit.relu:
        return z.clamp(min=0)
    return torch.where(z > 0, z, unit.alpha * z)


def forward(chain: Chain, x: torch.Tensor) -> torch.Tensor:
    """Float64 forward pass, (N, n_in) -> (N, n_out)."""
    h = x
    for k, unit in enumerate(chain.acts):
        h = apply_unit(unit, h @ chain.weights[k].T + chain.biases[k])
    return h @ chain.weights[-1].T + chain.biases[-1]


def _kinked(unit: Unit, lo: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    """Whether a kink of sigma lies strictly inside [lo, up], per box and unit."""
    if unit.kind == "hardtanh":
        return ((lo < unit.lo) & (up > unit.lo)) | ((lo < unit.hi) & (up > unit.hi))
    return (lo < 0) & (up > 0) & (unit.alpha != 1)  # slope 1: linear, no kink


def _relax(unit: Unit, lo: torch.Tensor, up: torch.Tensor) -> tuple:
    """Linear bounds sl z + tl <= sigma(z) <= su z + tu for z in [lo, up].

    The intercepts are moved out by ``4 * _ETA``: computed from subnormal
    bounds, a product or difference rounds by up to ``_ETA / 2`` absolutely,
    which later weights can multiply beyond every relative margin.
    """
    sl, tl, su, tu = _lines(unit, lo, up)
    return sl, tl - 4 * _ETA, su, tu + 4 * _ETA


def _lines(unit: Unit, lo: torch.Tensor, up: torch.Tensor) -> tuple:
    """:func:`_relax`'s lines without its margin. An upper slope below the smallest normal
    (a chord over a very wide interval) has lost its relative accuracy, or all of it (0
    leaves the line through the left end, below the right one): there the upper line is
    the constant max of sigma over [lo, up], at an end (sigma is monotone or convex),
    rounded up."""
    sl, tl, su, tu = _sloped_lines(unit, lo, up)
    flat = _kinked(unit, lo, up) & (su.abs() < _NORMAL)
    if flat.any():
        top = torch.maximum(apply_unit(unit, lo), apply_unit(unit, up))
        top = top + (2 * _U * top.abs() + _ETA)  # one product each, rounded
        su = torch.where(flat, torch.zeros_like(su), su)
        tu = torch.where(flat, top, tu)
    return sl, tl, su, tu


def _sloped_lines(unit: Unit, lo: torch.Tensor, up: torch.Tensor) -> tuple:
    if unit.kind == "hardtanh":
        return _relax_hardtanh(unit.lo, unit.hi, lo, up)
    if unit.relu:  # the general case below with a = 0, in fewer operations
        pos = (lo >= 0).to(lo.dtype)
        unstable = (lo < 0) & (up > 0)
        su = torch.where(unstable, up / torch.where(unstable, up - lo, 1.0), pos)
        tu = torch.where(unstable, -su * lo, 0.0)
        sl = torch.where(unstable, (up > -lo).to(lo.dtype), pos)
        return sl, torch.zeros_like(lo), su, tu
    a = unit.alpha.expand_as(lo)
    one = torch.ones_like(lo)
    zero = torch.zeros_like(lo)
    pos, neg = lo >= 0, up <= 0
    unstable = ~(pos | neg) & (a != 1)  # slope 1 on both sides: exactly linear
    width = torch.where(unstable, up - lo, one)
    chord = (up - a * lo) / width  # slope of the chord, between a and 1
    chord_t = a * lo - chord * lo
    adapt = torch.where(up > -lo, one, a)  # tangent through the origin
    convex = a <= 1
    stable_s = torch.where(pos, one, a)
    su = torch.where(unstable, torch.where(convex, chord, adapt), stable_s)
    tu = torch.where(unstable & convex, chord_t, zero)
    sl = torch.where(unstable, torch.where(convex, adapt, chord), stable_s)
    tl = torch.where(unstable & ~convex, chord_t, zero)
    return sl, tl, su, tu


def _relax_hardtanh(a: float, b: float, lo: torch.Tensor, up: torch.Tensor) -> tuple:
    zero = torch.zeros_like(lo)
    one = torch.ones_like(lo)
    sl, tl = zero.clone(), torch.full_like(lo, a)
    su, tu = zero.clone(), torch.full_like(lo, b)
    ident = (lo >= a) & (up <= b)
    sl = torch.where(ident, one, sl)
    tl = torch.where(ident, zero, tl)
    su = torch.where(ident, one, su)
    tu = torch.where(ident, zero, tu)
    low_flat = up <= a  # constant a
    su = torch.where(low_flat, zero, su)
    tu = torch.where(low_flat, torch.full_like(lo, a), tu)
    high_flat = lo >= b  # constant b
    sl = torch.where(high_flat, zero, sl)
    tl = torch.where(high_flat, torch.full_like(lo, b), tl)
    # one kink at a (convex piece): upper chord (lo, a)-(up, up), lower a + s (z - a)
    left = (lo < a) & (up > a) & (up <= b)
    w = torch.where(left, up - lo, one)
    s = (up - a) / w
    su = torch.where(left, s, su)
    tu = torch.where(left, a - s * lo, tu)
    s_lo = torch.where(up - a > a - lo, one, zero)
    sl = torch.where(left, s_lo, sl)
    tl = torch.where(left, a - s_lo * a, tl)
    # one kink at b (concave piece): lower chord (lo, lo)-(up, b), upper b + s (z - b)
    right = (lo >= a) & (lo < b) & (up > b)
    w = torch.where(right, up - lo, one)
    s = (b - lo) / w
    sl = torch.where(right, s, sl)
    tl = torch.where(right, lo - s * lo, tl)
    s_up = torch.where(b - lo > up - b, one, zero)
    su = torch.where(right, s_up, su)
    tu = torch.where(right, b - s_up * b, tu)
    # both kinks: upper through (lo, a) and (b, b), lower through (a, a) and (up, b)
    both = (lo < a) & (up > b)
    s = (b - a) / torch.where(both, b - lo, one)
    su = torch.where(both, s, su)
    tu = torch.where(both, a - s * lo, tu)
    s = (b - a) / torch.where(both, up - a, one)
    sl = torch.where(both, s, sl)
    tl = torch.where(both, a - s * a, tl)
    return sl, tl, su, tu


def _widen(value: torch.Tensor, mass: torch.Tensor, gamma: float) -> torch.Tensor:
    return value + (gamma * mass + _TINY)


def _center_radius(lo: torch.Tensor, up: torch.Tensor) -> tuple:
    """Center and radius of boxes, ``[c - r, c + r]`` covering ``[lo, up]``.

    Halving is exact but for subnormals, where it rounds by up to ``_ETA / 2``
    (the box [0, 5 * 2^-1074] became [0, 4 * 2^-1074]): the radius is widened
    by ``_ETA``; relative rounding is in the masses.
    """
    return (lo + up) / 2, (up - lo) / 2 + _ETA


def interval(chain: Chain, k: int, lo: torch.Tensor, up: torch.Tensor) -> tuple:
    """Bounds of z_{k+1} = W_k a + b_k from bounds [lo, up] on its input."""
    w, b = chain.weights[k], chain.biases[k]
    c, r = _center_radius(lo, up)
    wa = chain.abs_weights[k]
    mid = c @ w.T + b
    rad = r @ wa.T
    mass = c.abs() @ wa.T + chain.abs_biases[k] + rad
    return -_widen(-(mid - rad), mass, chain.gamma), _widen(mid + rad, mass, chain.gamma)


def act_interval(unit: Unit, lo: torch.Tensor, up: torch.Tensor) -> tuple:
    """Bounds of sigma over [lo, up] (sigma is convex or concave per unit), widened."""
    if unit.relu or unit.kind == "hardtanh":  # nondecreasing: the ends
        low, high = apply_unit(unit, lo), apply_unit(unit, up)
    else:
        vals = torch.stack(
            [apply_unit(unit, t) for t in (lo, up, torch.clamp(torch.zeros_like(lo), lo, up))]
        )
        low, high = vals.min(0).values, vals.max(0).values
    return low - (4 * _U * low.abs() + _TINY), high + (4 * _U * high.abs() + _TINY)


def backward(
    chain: Chain, k: int, lam: torch.Tensor, const: torch.Tensor, relax: list, xl, xu
) -> tuple:
    """Sound upper bound of ``lam @ z + const`` where z is the output of affine map k.

    lam : (B, m, width of map k's output), or (1, m, ...) for the same objectives in
    every box (then the first products, before any box-dependent relaxation, are
    computed once, not B times); const : (B, m). ``relax[j]`` holds :func:`_lines`
    of activation j over its pre-activation bounds (the margin of :func:`_relax` is
    added here). Returns (upper (B, m),
    coefficient on x (B, m, n_in), constant (B, m)) before concretisation and
    the margin.
    """
    mass_l = lam.abs()
    mass_c = const.abs()
    # Underflow is an absolute error (up to _ETA per product and sum), which the relative
    # margin gamma * mass misses and later large weights multiply: under_l bounds it in
    # lam, under_c in const, carried through every product like the masses. Each step
    # adds _NORMAL rather than _ETA: an over-count (sound), which keeps the sums normal
    # numbers (as multiples of _ETA they were subnormals, which Intel CPUs multiply 5-20x
    # slower); a unit count scaled back at the end instead overflowed once the error
    # passed 1e-15 and, capped, gave false bounds.
    under_l = torch.zeros_like(mass_l)
    under_c = torch.zeros_like(mass_c)
    for j in range(k, -1, -1):
        w, b = chain.weights[j], chain.biases[j]
        n_terms = w.shape[0] * _NORMAL
        const = const + lam @ b
        mass_c = mass_c + mass_l @ chain.abs_biases[j]
        under_c = under_c + under_l @ chain.abs_biases[j] + n_terms
        lam = lam @ w
        mass_l = mass_l @ chain.abs_weights[j]
        under_l = under_l @ chain.abs_weights[j] + n_terms
        if j == 0:
            break
        sl, tl, su, tu = (t[:, None, :] for t in relax[j - 1])
        lp, ln = lam.clamp(min=0), lam.clamp(max=0)
        const = const + (lp * tu + ln * tl).sum(-1)
        t_abs, s_abs = torch.maximum(tu.abs(), tl.abs()), torch.maximum(su.abs(), sl.abs())
        mass_c = mass_c + (mass_l * t_abs).sum(-1)
        # + 4 |lam| per unit: the 4 * _ETA by which _relax moves each intercept out, added
        # here (as _NORMAL), not to the intercepts, which it would make subnormal
        under_c = (
            under_c + (under_l * t_abs).sum(-1) + (w.shape[1] + 4 * lam.abs().sum(-1)) * _NORMAL
        )
        lam = lp * su + ln * sl
        mass_l = mass_l * s_abs
        under_l = under_l * s_abs + _NORMAL
    c, r = (t[:, None, :] for t in _center_radius(xl, xu))
    upper = const + (lam * c).sum(-1) + (lam.abs() * r).sum(-1)
    mag = torch.maximum(xl.abs(), xu.abs())[:, None, :]
    mass = mass_c + (mass_l * mag).sum(-1)
    under = under_c + (under_l * mag).sum(-1) + mag.shape[-1] * _NORMAL
    # NaN (inf - inf, inf * 0 of an overflow the problem's checks did not foresee) must
    # never read as a bound, here or in the layer bounds built on it (a unit read as dead
    # by NaN bounds dropped its term): +inf is sound; posinf stays inf, not the largest float
    return (
        torch.nan_to_num(
            _widen(upper + 2 * under, mass, chain.gamma), nan=math.inf, posinf=math.inf
        ),
        lam.expand(xl.shape[0], *lam.shape[1:]),
        const,
    )


def layer_bounds(chain: Chain, xl: torch.Tensor, xu: torch.Tensor, *, crown: bool = True):
    """Sound (lo, up) of every activation's pre-activations over boxes [xl, xu] (B, n_in)."""
    return _bounds_and_relaxations(chain, xl, xu, crown)[0]


def _bounds_and_relaxations(chain: Chain, xl, xu, crown: bool) -> tuple:
    """:func:`layer_bounds` and the lines of :func:`_relax`, without its margin, of every
    activation over them (:func:`backward` accounts for that margin itself)."""
    bounds: list = []
    relax: list = []
    lo, up = xl, xu
    for k in range(len(chain.acts)):
        lo, up = interval(chain, k, lo, up)
        # Only units with a kink inside their interval bounds in some box get the
        # backward pass. The others are stable either way and their relaxation is
        # exact whatever their bounds, so tightening them would change no relaxation
        # and no later bound of the backward passes: they keep their interval bounds.
        kinked = _kinked(chain.acts[k], lo, up).any(0) if crown and k > 0 else None
        cols = [] if kinked is None else torch.nonzero(kinked).flatten()
        if len(cols):
            u, h = len(cols), chain.weights[k].shape[0]
            sel = torch.eye(h, dtype=torch.float64, device=xl.device)[cols]
            lam = torch.cat([sel, -sel])[None]
            zero = torch.zeros(xl.shape[0], 2 * u, dtype=torch.float64, device=xl.device)
            ub, _, _ = backward(chain, k, lam, zero, relax, xl, xu)
            lo[:, cols] = torch.maximum(lo[:, cols], -ub[:, u:])
            up[:, cols] = torch.minimum(up[:, cols], ub[:, :u])
            up = torch.maximum(up, lo)  # both sound: equal up to the margin
        bounds.append((lo, up))
        relax.append(_lines(chain.acts[k], lo, up))  # backward() adds _relax's margin
        lo, up = act_interval(chain.acts[k], lo, up)
    return bounds, relax


def objective_upper(
    chain: Chain, c: torch.Tensor, xl: torch.Tensor, xu: torch.Tensor, *, crown: bool = True
) -> tuple:
    """Upper bounds of ``c @ net(x)`` over each box: (ub (B,), A (B, n_in), bounds)."""
    ub, a, bounds = rows_upper(chain, c.reshape(1, -1), xl, xu, crown=crown)
    return ub[:, 0], a[:, 0, :], bounds


def rows_upper(
    chain: Chain,
    rows: torch.Tensor,
    xl: torch.Tensor,
    xu: torch.Tensor,
    *,
    crown: bool = True,
) -> tuple:
    """Upper bounds of ``rows @ net(x)`` (rows (K, n_out)) over each box, in one backward
    pass: (ub (B, K), their coefficients on x (B, K, n_in), bounds)."""
    bounds, relax = _bounds_and_relaxations(chain, xl, xu, crown)
    zero = torch.zeros(xl.shape[0], rows.shape[0], dtype=torch.float64, device=xl.device)
    ub, a, _ = backward(chain, len(chain.acts), rows[None], zero, relax, xl, xu)
    return ub, a, bounds  # never NaN: backward reads it as +inf


BATCH = 512  # boxes split per branch-and-bound step
# Bisections per box and step while the batch has room: at least 2 (4 children, half the
# steps), and up to DEPTH while the step would bound fewer than FILL boxes. Near the end a
# search often holds one or two open boxes; bounding 32 of their descendants in one step
# costs about what bounding 4 does (per-call overhead), and takes the steps from 20 to 10
# on 2-32-32-1.
DEPTH = 5
FILL = 32


def vertex(a: torch.Tensor, lo: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    """The vertex of each box maximising the linear function with coefficients ``a``."""
    return torch.where(a > 0, up, lo)


def branch_and_bound(
    chain: Chain,
    c: torch.Tensor,
    lower,
    upper,
    atol,
    rtol,
    time_limit,
    max_boxes,
    threshold=None,
    start=None,
) -> dict:
    """Maximise ``c @ net(x)``; ``threshold`` stops at a proof or counterexample.

    ``start``: points of the box (k, n_in) whose best value is the first
    incumbent (e.g. the MILP's solution, which this search then confirms).
    """
    t0 = time.perf_counter()
    dev = c.device
    lo = torch.as_tensor(lower, dtype=torch.float64, device=dev)[None]
    up = torch.as_tensor(upper, dtype=torch.float64, device=dev)[None]
    ub, a, _ = objective_upper(chain, c, lo, up)
    n_nodes = 1
    best_x, best = (lo + up)[0] / 2, -np.inf
    if start is not None:
        pts = torch.as_tensor(np.asarray(start), dtype=torch.float64, device=dev).reshape(
            -1, lo.shape[1]
        )
        vals = forward(chain, pts) @ c
        i = int(torch.argmax(vals))
        best_x, best = pts[i], float(vals[i])
    closed = -np.inf  # largest bound of the boxes dropped
    status = "optimal"
    new_lo, new_up, new_a = lo, up, a
    while True:
        if new_lo.shape[0]:
            pts = torch.cat([vertex(new_a, new_lo, new_up), (new_lo + new_up) / 2])
            vals = forward(chain, pts) @ c
            i = int(torch.argmax(vals))
            if float(vals[i]) > best:
                best, best_x = float(vals[i]), pts[i]
        tol = atol + rtol * abs(best)
        cut = best + tol if threshold is None else min(best + tol, threshold)
        keep = ub > cut  # the others cannot beat the incumbent (or break the threshold)
        if (~keep).any():
            closed = max(closed, float(ub[~keep].max()))
        lo, up, ub, a = lo[keep], up[keep], ub[keep], a[keep]
        bound = max(best, closed, float(ub.max()) if ub.numel() else -np.inf)
        if ub.numel() == 0 or bound - best <= tol:
            break
        if threshold is not None and (best > threshold or bound <= threshold):
            break
        if n_nodes >= max_boxes:
            status = "node_limit"
            break
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            status = "time_limit"
            break
        k = min(BATCH, ub.numel(), max(1, (max_boxes - n_nodes) // 2))
        order = torch.argsort(ub, descending=True)
        pick, rest = order[:k], order[k:]
        new_lo, new_up, pub, pa = lo[pick], up[pick], ub[pick], a[pick]
        lo, up, ub, a = lo[rest], up[rest], ub[rest], a[rest]
        levels = split_levels(k, min(BATCH, max_boxes - n_nodes))
        new_lo, new_up, parent, stuck = split(new_lo, new_up, pa, levels)
        if stuck.any():  # too small to split: dropped, their bound kept
            closed = max(closed, float(pub[stuck].max()))
        pub = pub[parent]
        new_ub, new_a, _ = objective_upper(chain, c, new_lo, new_up)
        new_ub = torch.minimum(new_ub, pub)  # the parent's bound holds too
        n_nodes += new_lo.shape[0]
        lo, up = torch.cat([lo, new_lo]), torch.cat([up, new_up])
        ub, a = torch.cat([ub, new_ub]), torch.cat([a, new_a])
    if not (np.isfinite(bound) and np.isfinite(best)):  # overflow: nothing is certified
        status = "node_limit"
    return {
        "x": best_x.to("cpu").numpy(),
        "bound": bound,
        "status": status,
        "n_nodes": n_nodes,
        "solve_time": time.perf_counter() - t0,
    }


def split_levels(k: int, room: int) -> int:
    """Bisections for each of ``k`` boxes so that one step bounds at most ``room`` pieces:
    few open boxes are split several times, so one batch goes deeper."""
    levels = 1
    while k * 2 ** (levels + 1) <= room and levels < DEPTH:
        if levels >= 2 and k * 2**levels >= FILL:
            break
        levels += 1
    return levels


def split(lo, up, a, levels: int) -> tuple:
    """Halve every box ``levels`` times, each time across the input with the largest
    ``|a_j| (u_j - l_j)``.

    The halves of a box have its widths but one, so all the pieces of a box
    at one level are halved across the same input. Returns the pieces' boxes,
    the index of each piece's parent, and which boxes were too small to split
    (at float64 resolution: a piece of zero width across an input that was
    halved), which have no pieces.
    """
    n = lo.shape[1]
    cols = torch.arange(n, device=lo.device)
    score = a.abs() * (up - lo)
    halved = torch.zeros_like(score, dtype=torch.bool)
    lo, up = lo[:, None, :], up[:, None, :]  # (B, pieces, n)
    for _ in range(levels):
        j = cols == torch.argmax(score, dim=1, keepdim=True)  # (B, n), one input per box
        halved |= j
        score = torch.where(j, score / 2, score)
        mid = (lo + up) / 2
        j = j[:, None, :]
        lo, up = (
            torch.cat([lo, torch.where(j, mid, lo)], 1),
            torch.cat([torch.where(j, mid, up), up], 1),
        )
    ok = ((up > lo) | ~halved[:, None, :]).all(2).all(1)
    parent = torch.nonzero(ok).flatten().repeat_interleave(lo.shape[1])
    return lo[ok].reshape(-1, n), up[ok].reshape(-1, n), parent, ~ok
