"""Sound bounds of tanh and sigmoid networks over a box by CROWN linear relaxations.

CROWN (Zhang, Weng, Chen, Hsieh, Daniel 2018): each smooth unit ``h = s(z)`` with
``l <= z <= u`` is enclosed by two lines ``a_lo z + b_lo <= s(z) <= a_up z + b_up``,
and the output's linear objective is carried backward through the layers, at
each unit taking the upper line where its coefficient is positive and the lower
one where it is negative, down to a linear function of the input whose maximum
over the box is closed form. Pre-activation bounds of every hidden layer come
from the same backward pass on that layer (the first from intervals).

Slopes follow CROWN: on a convex piece (``u <= 0``) the chord above and the
tangent at the midpoint below; on a concave piece (``l >= 0``) the reverse; across
0 the tangent through the far end point (found by bisection), or the chord when
the tangent point falls outside ``[l, u]``. Soundness does not rest on those
choices: for whatever slope ``a`` is chosen, the intercepts are the exact
extremes of ``s(z) - a z`` on ``[l, u]`` (at the ends, or where ``s'(z) = a``,
``z = +-c acosh(1/(c' sqrt(a)))``, that root bracketed by two evaluations of
``s'``, its position error then costing at most ``max|s''| delta^2 / 2``); where the
bracket cannot be confirmed, the slope falls back to ``min(s'(l), s'(u))``, for
which ``s(z) - a z`` is monotone (the parallel lines of Singh et al. 2019).

Floating point: every tanh, sigmoid, cosh value is taken within 4 ulps + 1e-300
(as ``._verify`` does), every product within one rounding, every sum of n terms
within ``gamma_n`` of its magnitudes (Higham 2002, ch. 3); since ``|h| <= 1``
for both activations, each rounding of a coefficient costs at most its size
times the bound of what it multiplies, and those costs are added to the bound.
The result is a sound bound of the real-arithmetic function of the float64
weights, not an exact value.

:func:`crown_bound` refines the bounds by best-first branch and bound on the input,
one search per extreme (input-domain branching as in Bunel et al., JMLR 2020; the
split side is the one along which the box's linear bound varies most). Every box
keeps the smaller of its own bound and its parent's (a half lies inside its box),
and boxes are dropped only into the reported bound, so the bound stays sound
whatever the order of the search.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import expit
from torch import nn

from pwlmodels._validate import as_real_scalar

from .._checks import check_count
from ._checks import as_array, leaves

__all__ = ["CrownBound", "crown_bound"]

_EPS = float(np.finfo(np.float64).eps)
_ULP = 4 * _EPS  # relative error allowed for tanh, expit, cosh, sqrt, acosh values


def _gamma(n: int) -> float:
    return n * _EPS / (1 - n * _EPS)


@dataclass(frozen=True)
class _Act:
    """An S-shaped activation: value, derivative (both to 4 ulps), ``s'(0)``, ``max|s''|``,
    and the positive root of ``s'(z) = a``."""

    f: object
    df: object
    peak: float
    curv: float
    root: object


TANH = _Act(
    np.tanh,
    lambda z: 1.0 / np.cosh(z) ** 2,
    1.0,
    0.77,  # 4 / (3 sqrt 3) = 0.7698...
    lambda a: np.arccosh(1.0 / np.sqrt(a)),
)
SIGMOID = _Act(
    expit,
    lambda z: expit(z) * expit(-z),
    0.25,
    0.0963,  # 1 / (6 sqrt 3) = 0.0962...
    lambda a: 2.0 * np.arccosh(0.5 / np.sqrt(a)),
)
ACTS = {nn.Tanh: TANH, nn.Sigmoid: SIGMOID}


def _df_range(act: _Act, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sound bounds of s'(z): 8 ulps either side (cosh squared, or a product of two)."""
    d = act.df(z)
    return d * (1 - 3 * _ULP) - 1e-300, d * (1 + 3 * _ULP) + 1e-300


def _intercepts(act: _Act, a: np.ndarray, l: np.ndarray, u: np.ndarray, monotone=False):  # noqa: E741
    """Sound (min, max) of ``s(z) - a z`` on [l, u], or NaN where a root is unconfirmed;
    ``monotone``: the caller knows ``s' >= a`` on [l, u], so the ends are the extremes."""
    pts = [l, u]
    inner = (a > 0) & (a < act.peak) & (not monotone)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(inner, act.root(np.where(inner, a, act.peak / 2)), 0.0)
    delta = 1e-7 * (1 + r)
    lo_d, _ = _df_range(act, r - delta)
    _, hi_d = _df_range(act, r + delta)
    sure = inner & (r - delta > 0) & (lo_d >= a) & (hi_d <= a)
    for root in (r, -r):
        use = sure & (root > l) & (root < u)
        pts.append(np.where(use, root, l))  # l again where unused: no effect on the extremes
    # the true root lies within delta of r: inside [l, u] even where r is just outside it,
    # then the extreme there exceeds the end's value by at most this
    extra = np.where(sure, act.curv * delta**2 / 2, 0.0)
    need = inner & ~sure & (r > 0)
    need &= ((r > l) & (r < u)) | ((-r > l) & (-r < u))
    vals = np.stack([act.f(p) - a * p for p in pts])
    err = np.stack([_ULP * np.abs(act.f(p)) + 2 * _EPS * np.abs(a * p) for p in pts]).max(0)
    err = err + 2 * _EPS * np.abs(vals).max(0) + extra + 1e-300
    low, high = vals.min(0) - err, vals.max(0) + err
    low[need], high[need] = np.nan, np.nan
    return low, high


def _tangent_through(act: _Act, anchor: np.ndarray, far: np.ndarray) -> np.ndarray:
    """The point d between 0 and ``far`` whose tangent passes through (anchor, s(anchor));
    ``far`` itself when none (then the chord is the line)."""
    lo, hi = np.zeros_like(far), far.copy()
    s_a = act.f(anchor)

    def side(d):
        return act.f(d) + act.df(d) * (anchor - d) - s_a

    miss = np.sign(side(hi)) == np.sign(side(lo))
    for _ in range(60):
        mid = (lo + hi) / 2
        same = np.sign(side(mid)) == np.sign(side(lo))
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    return np.where(miss, far, hi)


def relax(act: _Act, l: np.ndarray, u: np.ndarray):  # noqa: E741
    """(a_lo, b_lo, a_up, b_up): sound lines below and above s on [l, u]."""
    width = np.maximum(u - l, 1e-300)
    chord = (act.f(u) - act.f(l)) / width
    tan_mid = act.df((l + u) / 2)
    # the tangent points matter only for units across 0 (elsewhere the chord or tan_mid
    # is taken below): the bisection, most of the cost, runs on those alone
    cross = (l < 0) & (u > 0)
    d_up, d_lo = np.maximum(u, 0.0), np.minimum(l, 0.0)
    if cross.any():
        d_up[cross] = _tangent_through(act, l[cross], d_up[cross])
        d_lo[cross] = _tangent_through(act, u[cross], d_lo[cross])
    up_cross = np.where(d_up >= u, chord, act.df(d_up))
    lo_cross = np.where(d_lo <= l, chord, act.df(d_lo))
    a_up = np.where(u <= 0, chord, np.where(l >= 0, tan_mid, up_cross))
    a_lo = np.where(u <= 0, tan_mid, np.where(l >= 0, chord, lo_cross))
    parallel = np.minimum(act.df(l), act.df(u)) * (1 - 4 * _ULP)
    out = []
    for a, k in ((a_lo, 0), (a_up, 1)):
        a = np.where(np.isfinite(a), a, parallel)
        ends = _intercepts(act, a, l, u)
        bad = np.isnan(ends[k])
        if bad.any():  # s(z) - a z is monotone for this slope: its ends are its extremes
            a = np.where(bad, parallel, a)
            fixed = _intercepts(act, a, l, u, monotone=True)
            ends = (np.where(bad, fixed[0], ends[0]), np.where(bad, fixed[1], ends[1]))
        out += [a, ends[k]]
    return out[0], out[1], out[2], out[3]


def _parse(net: nn.Sequential):
    """[(W, b)] and [act] alternating: Linear, act, Linear, ..., Linear."""
    mods = [m for m in leaves(net) if not isinstance(m, (nn.Identity, nn.Dropout))]
    lins, acts = mods[0::2], mods[1::2]
    ok = all(isinstance(m, nn.Linear) for m in lins) and all(type(m) in ACTS for m in acts)
    if not mods or not ok or len(lins) != len(acts) + 1:
        raise TypeError(
            "`net` must alternate torch.nn.Linear and Tanh/Sigmoid layers, starting and "
            f"ending with Linear; got {[type(m).__name__ for m in mods]}"
        )
    layers = []
    for m in lins:
        W = m.weight.detach().to("cpu", torch.float64).numpy()
        b = np.zeros(W.shape[0]) if m.bias is None else m.bias.detach().double().cpu().numpy()
        layers.append((W, b))
    return layers, [ACTS[type(m)] for m in acts]


def _dot(lam: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``lam`` (nb, k, w) times ``v`` (nb, w) or (w,): shape (nb, k)."""
    return np.einsum("bkw,bw->bk", lam, np.broadcast_to(v, (lam.shape[0], lam.shape[2])))


def _backward(C, layers, rel, zmax, lower, upper):
    """Sound upper bounds of ``C @ z_k`` over each box (rows of ``lower``, ``upper``), z_k
    the output of ``layers[-1]``: shape (n_boxes, len(C)).

    ``rel[i]`` the relaxation of the activation after ``layers[i]``, ``zmax[i]`` a
    bound of ``|z_i|``, each (n_boxes, width); activations are bounded by 1 in
    absolute value.
    """
    nb = len(lower)
    lam = np.broadcast_to(C, (nb, *C.shape)).copy()
    const, err = np.zeros((nb, len(C))), np.zeros((nb, len(C)))
    for i in range(len(layers) - 1, -1, -1):
        W, b = layers[i]
        terms = np.abs(lam) @ np.abs(b)
        const = const + lam @ b
        err += _gamma(len(b) + 1) * (terms + np.abs(const))
        hmax = 1.0 if i > 0 else np.maximum(np.abs(lower), np.abs(upper))
        err += _gamma(W.shape[0]) * _dot(np.abs(lam) @ np.abs(W), hmax)
        lam = lam @ W
        if i == 0:
            break
        a_lo, b_lo, a_up, b_up = (r[:, None, :] for r in rel[i - 1])
        pos = lam >= 0
        a_sel, b_sel = np.where(pos, a_up, a_lo), np.where(pos, b_up, b_lo)
        const = const + (lam * b_sel).sum(-1)
        err += _gamma(lam.shape[2] + 1) * (np.abs(lam) * np.maximum(abs(b_up), abs(b_lo))).sum(-1)
        err += 2 * _EPS * np.abs(const)
        lam = lam * a_sel
        err += _EPS * _dot(np.abs(lam), zmax[i - 1])
    mid = (lower + upper) / 2
    rad = np.maximum(upper - mid, mid - lower) * (1 + 4 * _EPS)  # [mid - rad, mid + rad] covers
    val = _dot(lam, mid) + _dot(np.abs(lam), rad) + const
    err += _gamma(mid.shape[1] + 3) * (_dot(np.abs(lam), np.abs(mid) + rad) + np.abs(const))
    top = val + err
    return top + 2 * _EPS * np.abs(top) + 1e-300


def _interval_step(W, b, lo, hi):
    """Sound interval of ``W h + b`` for ``lo <= h <= hi`` (rows: boxes; as ``._verify``)."""
    mid = (lo + hi) / 2
    rad = np.maximum(hi - mid, mid - lo) * (1 + 4 * _EPS)
    centre, spread = mid @ W.T + b, rad @ np.abs(W).T
    err = _gamma(W.shape[1] + 2) * (np.abs(mid) @ np.abs(W).T + np.abs(b) + spread) + 1e-300
    return centre - spread - err, centre + spread + err


def _bounds(layers, acts, lower, upper):
    """(lower, upper) of every output over each box (rows): the tighter of plain CROWN
    and CROWN whose intermediate bounds are intersected with interval bounds (all
    sound; none is always tighter, since CROWN's slopes depend on the bounds)."""
    lo1, hi1 = _pass(layers, acts, lower, upper, intersect=False)
    lo2, hi2 = _pass(layers, acts, lower, upper, intersect=True)
    return np.maximum(lo1, lo2), np.minimum(hi1, hi2)


def _pass(layers, acts, lower, upper, *, intersect: bool, keep: list | None = None):
    """(lower, upper) of every output over each box; ``keep``: a list that receives the
    relaxations used, one (a_lo, b_lo, a_up, b_up) per hidden layer."""
    rel, zmax = [], []
    lo, hi = _interval_step(*layers[0], lower, upper)
    for k in range(len(layers)):
        eye = np.eye(len(layers[k][1]))
        hi = np.minimum(hi, _backward(eye, layers[: k + 1], rel, zmax, lower, upper))
        lo = np.maximum(lo, -_backward(-eye, layers[: k + 1], rel, zmax, lower, upper))
        if k == len(layers) - 1:
            if keep is not None:
                keep += rel
            return lo, hi
        act = acts[k]
        rel.append(relax(act, lo, hi))
        zmax.append(np.maximum(np.abs(lo), np.abs(hi)))
        h_lo = act.f(lo) * (1 - np.sign(act.f(lo)) * _ULP) - 1e-300
        h_hi = act.f(hi) * (1 + np.sign(act.f(hi)) * _ULP) + 1e-300
        lo, hi = _interval_step(*layers[k + 1], h_lo, h_hi)
        if not intersect:
            lo, hi = np.full_like(lo, -np.inf), np.full_like(hi, np.inf)
    raise AssertionError("unreachable")


def check_box(lower: object, upper: object, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Finite (n,) bounds with lower < upper."""
    lo, hi = as_array(lower, "lower"), as_array(upper, "upper")
    lo, hi = np.broadcast_to(lo, (n,)).copy() if lo.ndim == 0 else lo, hi
    hi = np.broadcast_to(hi, (n,)).copy() if hi.ndim == 0 else hi
    for name, arr in (("lower", lo), ("upper", hi)):
        if arr.shape != (n,):
            raise ValueError(f"`{name}` must have shape ({n},); got {arr.shape}")
    if (lo >= hi).any():
        j = int(np.argmax(lo >= hi))
        raise ValueError(f"`lower` must be below `upper`; got lower[{j}] >= upper[{j}]")
    with np.errstate(over="ignore"):
        wide = ~np.isfinite(hi - lo)
    if wide.any():  # halving such a box gave inf / inf = NaN, reported as a bad `x`
        j = int(np.argmax(wide))
        raise ValueError(f"`upper` - `lower` must be finite; upper[{j}] - lower[{j}] overflows")
    return lo, hi


# ------------------------------------------------------ best-first branch and bound
#: Boxes halved per round of one extreme's search: enough for numpy to batch.
BATCH = 256


@dataclass
class _Search:
    """One extreme's best-first search: ``c @ net`` maximised (``c = +-e_o``) over boxes
    (rows of ``lo``, ``hi``), each with a sound bound ``ub`` and the input coefficients
    ``lam`` of its linear bound; ``best`` a value attained, ``dropped`` the largest
    bound of the boxes dropped (within ``tol`` of ``best``)."""

    c: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    ub: np.ndarray
    lam: np.ndarray
    best: float
    dropped: float = -np.inf

    @property
    def bound(self) -> float:
        """A sound upper bound of ``max c @ net`` over the first box."""
        return max(self.dropped, float(self.ub.max()) if len(self.ub) else -np.inf)

    @property
    def gap(self) -> float:
        return (self.bound - self.best) / (1 + abs(self.best))

    def prune(self, tol: float) -> None:
        self.ub = np.where(np.isnan(self.ub), np.inf, self.ub)  # NaN: no bound, kept
        keep = self.ub > self.best + tol * (1 + abs(self.best))
        if not keep.all():
            self.dropped = max(self.dropped, float(self.ub[~keep].max()))
            self.lo, self.hi, self.ub, self.lam = (a[keep] for a in self.parts())

    def parts(self) -> tuple:
        return self.lo, self.hi, self.ub, self.lam


def _forward(layers, acts, x: np.ndarray) -> np.ndarray:
    """The network at the points ``x`` (rows), float64."""
    for (W, b), act in zip(layers[:-1], acts, strict=True):
        x = act.f(x @ W.T + b)
    W, b = layers[-1]
    return x @ W.T + b


def _coefficients(c: np.ndarray, layers, rel, n_boxes: int) -> np.ndarray:
    """The input coefficients of the linear bound of ``c @ net`` that :func:`_backward`
    builds from the relaxations ``rel`` (rounding terms left out: they only steer)."""
    lam = np.broadcast_to(c, (n_boxes, len(c)))
    for i in range(len(layers) - 1, 0, -1):
        lam = lam @ layers[i][0]
        a_lo, _, a_up, _ = rel[i - 1]
        lam = lam * np.where(lam >= 0, a_up, a_lo)
    return lam @ layers[0][0]


def _candidates(layers, acts, c, lo, hi, lam) -> float:
    """The largest ``c @ net`` at the boxes' centres and at the corners where their linear
    bounds peak: values attained, so lower bounds of the maximum."""
    pts = np.concatenate([(lo + hi) / 2, np.where(lam >= 0, hi, lo)])
    return float((_forward(layers, acts, pts) @ c).max())


def _halve(lo, hi, lam, width) -> tuple[np.ndarray, np.ndarray]:
    """Both halves of every box, cut across the side of largest ``|lam_j| * width_j`` (the
    side along which the linear bound varies most; the widest side relative to
    ``width`` where ``lam`` is 0): lower halves first, then upper halves."""
    score = np.abs(lam) * (hi - lo)
    flat = score.max(axis=1) <= 0
    score[flat] = ((hi - lo) / width)[flat]
    j, rows = np.argmax(score, axis=1), np.arange(len(lo))
    cut = (lo[rows, j] + hi[rows, j]) / 2
    left_hi, right_lo = hi.copy(), lo.copy()
    left_hi[rows, j], right_lo[rows, j] = cut, cut
    return np.concatenate([lo, right_lo]), np.concatenate([left_hi, hi])


def _step(s: _Search, k: int, layers, acts, width, tol: float) -> None:
    """Halve the ``k`` boxes of ``s`` with the largest bounds, bound the halves (one CROWN
    pass with interval-intersected intermediate bounds), update the best value, prune."""
    top = np.argpartition(-s.ub, k - 1)[:k] if k < len(s.ub) else np.arange(len(s.ub))
    rest = np.ones(len(s.ub), bool)
    rest[top] = False
    lo, hi = _halve(s.lo[top], s.hi[top], s.lam[top], width)
    rel: list = []
    out_lo, out_hi = _pass(layers, acts, lo, hi, intersect=True, keep=rel)
    o = int(np.flatnonzero(s.c)[0])
    ub = out_hi[:, o] if s.c[o] > 0 else -out_lo[:, o]
    ub = np.minimum(ub, np.tile(s.ub[top], 2))  # a half lies inside its box
    lam = _coefficients(s.c, layers, rel, len(lo))
    s.best = max(s.best, _candidates(layers, acts, s.c, lo, hi, lam))
    new = (lo, hi, ub, lam)
    parts = zip(s.parts(), new, strict=True)
    s.lo, s.hi, s.ub, s.lam = (np.concatenate([a[rest], b]) for a, b in parts)
    s.prune(tol)


@dataclass(frozen=True)
class CrownBound:
    """Sound bounds of a smooth network over a box: ``lower <= net(x) <= upper`` per
    output, ``max_abs`` a sound bound of ``max |net(x)|``; ``label`` "sound bound, not
    exact"; ``value`` the largest ``|net|`` attained at the points evaluated (box
    centres and the corners where the linear bounds peak), so the maximum of ``|net|``
    lies in ``[value, max_abs]``; ``boxes`` the number of boxes bounded."""

    lower: np.ndarray
    upper: np.ndarray
    max_abs: float
    value: float
    boxes: int
    label: str = "sound bound, not exact"


def crown_bound(
    net: nn.Sequential,
    lower: object,
    upper: object,
    *,
    splits: int = 1,
    max_boxes: int = 0,
    tol: float = 1e-3,
) -> CrownBound:
    """Sound output bounds of a tanh / sigmoid network over a box, by CROWN relaxations
    and best-first branch and bound on the input, one extreme at a time.

    The box is cut into ``splits^n`` equal sub-boxes, each bounded by CROWN (the
    tighter of plain CROWN and CROWN with interval-intersected intermediate
    bounds). Then every extreme (the maximum and the minimum of each output) has
    its own search: each round halves the ``BATCH`` (256) boxes with the worst
    bound of that extreme, across the side along which the box's linear bound
    varies most (largest ``|coefficient_j| * width_j``), and bounds the halves by
    one CROWN pass with interval-intersected intermediate bounds; boxes whose
    bound is within ``tol (1 + |value|)`` of a value the network attains (at box
    centres and at the corners where the linear bounds peak) are dropped. Each
    round goes to the extreme with the largest relative gap between its bound and
    its attained value, until ``max_boxes`` boxes have been bounded or every box
    is dropped. An extreme's bound is the largest over its boxes dropped and
    left: every bound is sound (float64 with outward rounding margins), none
    exact.

    Parameters
    ----------
    net : torch.nn.Sequential
        ``Linear, Tanh|Sigmoid, ..., Linear``; weights cast exactly to float64.
    lower, upper : array_like, shape (n,)
    splits : int, default 1
        The first cut: ``splits`` equal parts a side.
    max_boxes : int, default 0
        The branch and bound's budget of boxes, shared by all extremes and
        counting the first cut's (0: no branching). Never exceeded once the
        first cut is bounded.
    tol : float, default 1e-3
        Relative tolerance of dropping a box (and of stopping).

    Returns
    -------
    CrownBound

    Examples
    --------
    >>> import numpy as np, torch
    >>> from pwlmodels import evaluate, make_mlp
    >>> net = make_mlp(2, (8,), 1, activation="tanh", dtype=torch.float64, seed=0)
    >>> b = crown_bound(net, [-1.0, -1.0], [1.0, 1.0], max_boxes=2000)
    >>> u = evaluate(net, np.random.default_rng(0).uniform(-1, 1, (100_000, 2)))
    >>> bool(b.lower[0] <= u.min() and u.max() <= b.upper[0]), b.label
    (True, 'sound bound, not exact')
    >>> round(float(u.min()), 3), round(float(b.lower[0]), 3)  # the minimum, within tol
    (-0.538, -0.539)
    """
    if not isinstance(net, nn.Sequential):
        raise TypeError(f"`net` must be a torch.nn.Sequential; got {type(net).__name__}")
    layers, acts = _parse(net)
    lo, hi = check_box(lower, upper, layers[0][0].shape[1])
    splits = check_count(splits, "splits", 1)
    max_boxes = check_count(max_boxes, "max_boxes", 0)
    if not (tol := as_real_scalar(tol, "tol")) > 0:
        raise ValueError(f"`tol` must be > 0; got {tol!r}")
    n = len(lo)
    if splits**n > 100_000:
        raise ValueError(f"`splits` = {splits} makes {splits**n} boxes; at most 100000")
    edges = [np.linspace(lo[j], hi[j], splits + 1) for j in range(n)]
    idx = np.array(list(np.ndindex(*([splits] * n)))).reshape(-1, n)
    box_lo = np.column_stack([edges[j][idx[:, j]] for j in range(n)])
    box_hi = np.column_stack([edges[j][idx[:, j] + 1] for j in range(n)])
    rel: list = []
    low, high = _pass(layers, acts, box_lo, box_hi, intersect=True, keep=rel)
    plain = _pass(layers, acts, box_lo, box_hi, intersect=False)
    low, high = np.maximum(low, plain[0]), np.minimum(high, plain[1])
    searches = []
    for o in range(low.shape[1]):
        for sign, ub in ((1.0, high[:, o]), (-1.0, -low[:, o])):
            c = np.zeros(low.shape[1])
            c[o] = sign
            lam = _coefficients(c, layers, rel, len(box_lo))
            best = _candidates(layers, acts, c, box_lo, box_hi, lam)
            searches.append(_Search(c, box_lo, box_hi, ub, lam, best))
            searches[-1].prune(tol)
    used = len(box_lo)
    while used < max_boxes:
        live = [s for s in searches if len(s.ub)]
        k = min(BATCH, (max_boxes - used) // 2)
        if not live or k < 1:
            break
        s = max(live, key=lambda s: s.gap)
        k = min(k, len(s.ub))
        _step(s, k, layers, acts, hi - lo, tol)
        used += 2 * k
    ends = np.array([s.bound for s in searches]).reshape(-1, 2)
    value = max(abs(s.best) for s in searches)
    return CrownBound(-ends[:, 1], ends[:, 0], float(ends.max()), value, used)
