"""Closed-loop certificates for discrete-time loops ``x+ = A x + B u(x)`` with PWL controllers.

The controller is a ReLU network (``Linear``/``ReLU`` layers) or a
:class:`pwlmodels.PiecewiseAffine` (an explicit MPC law). Either way the loop is
piecewise affine: on each linear region ``R_j`` of the controller ``u = K_j x +
c_j`` and ``x+ = (A + B K_j) x + B c_j``. Every certificate here is built on
that: the maximum of a linear function of ``x+`` (or of ``u``) over a polytope
``P`` is, per region, the maximum over ``R_j`` intersected with ``P``: the best
vertex when ``R_j`` lies inside ``P``, one HiGHS LP when it straddles ``P``'s
boundary. That maximum is exact up to the float64 representation of the
regions (vertices and maps, as ``pwlmodels`` computes them) and the LP's
feasibility tolerance (:data:`LP_TOL`); the verdicts below widen it by
``atol``. A failure ("not invariant") is claimed only for a witness that
violates in exact rational arithmetic (``fractions.Fraction`` of the float64
data); a certificate ("invariant") carries the stated tolerance.

:func:`closed_loop` stacks the loop into one ReLU network for the project's
MILP (:func:`pwlmodels.maximize`), which cross-checks the LPs on boxes; the ROA
estimate and its convergence argument are in :mod:`._roa`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import torch
from scipy.optimize import linprog
from torch import nn

from pwlmodels import PiecewiseAffine, evaluate, maximize, minimize, pwa_to_relu, relu_to_pwa
from pwlmodels.network._torch import relu_sequential

from ._checks import as_array, as_matrix, as_scalar, leaves
from ._crown import check_box, crown_bound

__all__ = ["InputBound", "Invariance", "closed_loop", "input_bound", "invariance"]

#: HiGHS's primal and dual feasibility tolerance, set on every LP here.
LP_TOL = 1e-9
#: The largest relative gap between ``value`` and ``bound`` labelled "exact" (MILP).
_EXACT_RTOL = 1e-7
_LP_OPTIONS = {"primal_feasibility_tolerance": LP_TOL, "dual_feasibility_tolerance": LP_TOL}


# --------------------------------------------------------------------- checks
def check_controller(controller: object, n: int | None = None) -> tuple[str, int, int]:
    """("relu" or "pwa", n_in, n_out) of a Linear/ReLU Sequential or a PiecewiseAffine."""
    if isinstance(controller, PiecewiseAffine):
        kind, n_in, n_out = "pwa", controller.n_inputs, controller.n_outputs
    elif isinstance(controller, nn.Sequential):
        layers = list(leaves(controller))
        bad = [type(m).__name__ for m in layers if not isinstance(m, (nn.Linear, nn.ReLU))]
        if bad:
            raise TypeError(
                "`controller` must hold only torch.nn.Linear and torch.nn.ReLU layers; "
                f"got {bad[0]}"
            )
        linears = [m for m in layers if isinstance(m, nn.Linear)]
        if not linears or not isinstance(layers[-1], nn.Linear):
            raise ValueError("`controller` must end with a torch.nn.Linear layer")
        kind, n_in, n_out = "relu", linears[0].in_features, linears[-1].out_features
    else:
        raise TypeError(
            "`controller` must be a torch.nn.Sequential of Linear/ReLU layers or a "
            f"pwlmodels.PiecewiseAffine; got {type(controller).__name__}"
        )
    if n is not None and n_in != n:
        raise ValueError(f"`controller` must take the {n} states as input; it takes {n_in}")
    return kind, n_in, n_out


def check_plant(A: object, B: object, controller: object):
    """A (n, n), B (n, m) float64 and the controller's kind, m matching it."""
    A = as_matrix(A, "A")
    n = A.shape[0]
    A = as_matrix(A, "A", n, n)
    Bv = as_array(B, "B")
    B = as_matrix(Bv.reshape(n, 1) if Bv.ndim == 1 and Bv.size == n else Bv, "B", n)
    kind, _, m = check_controller(controller, n)
    if B.shape[1] != m:
        raise ValueError(f"`B` must have {m} columns, one per controller output; got {B.shape}")
    return A, B, kind


def check_polytope(P_A: object, P_b: object, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(P_A, P_b, box hull (2, n)) of a bounded polytope with an interior point."""
    P_A = as_matrix(P_A, "P_A")
    P_A = as_matrix(P_A, "P_A", None, n)
    P_b = as_array(P_b, "P_b").reshape(-1) if np.ndim(P_b) <= 1 else as_array(P_b, "P_b")
    if P_b.shape != (P_A.shape[0],):
        raise ValueError(f"`P_b` must have shape ({P_A.shape[0]},); got {P_b.shape}")
    hull = np.empty((2, n))
    for j in range(n):
        for k, sign in enumerate((1.0, -1.0)):
            res = linprog(sign * np.eye(n)[j], P_A, P_b, bounds=(None, None), method="highs")
            if res.status == 2:
                raise ValueError("`P_A`, `P_b` must describe a non-empty polytope; it is empty")
            if res.status == 3:
                raise ValueError(f"`P_A`, `P_b` must describe a bounded polytope; x[{j}] is not")
            hull[k, j] = res.x[j]
    norms = np.linalg.norm(P_A, axis=1)
    res = linprog(
        np.r_[np.zeros(n), -1.0], np.c_[P_A, norms], P_b, bounds=[(None, None)] * n + [(0, None)]
    )
    # a ball relative to P's own size: an absolute 1e-9 refused a valid 1e-9-wide box
    if res.status != 0 or -res.fun <= 1e-9 * np.abs(hull[1] - hull[0]).max():
        raise ValueError("`P_A`, `P_b` must describe a polytope with an interior point")
    return P_A, P_b, hull


# ----------------------------------------------------------------- the loop
def closed_loop(A: object, B: object, controller: object) -> nn.Sequential:
    """The closed loop ``x -> A x + B u(x)`` as one exact ReLU network (float64).

    The controller's hidden layers are kept and the state rides beside them as
    pairs ``relu(x)``, ``relu(-x)``: the next layer forms ``relu(x) - relu(-x) =
    x`` with weights +-1, and since one of the pair is 0 that is exact in float64
    as well as in real arithmetic (``relu(x + s) - s`` with a shift s from the box
    would round ``x + s``). The last layer is ``[B W_L, A, -A]`` with bias ``B
    b_L``; it equals ``A x + B u(x)`` in real arithmetic, and in float64 within
    the rounding of that one matrix product. A PiecewiseAffine controller is
    first made a network by :func:`pwlmodels.pwa_to_relu` (exact on its domain
    only: outside it the network is some extension).

    Parameters
    ----------
    A : array_like, shape (n, n)
    B : array_like, shape (n, m), or (n,) for one input
    controller : torch.nn.Sequential or PiecewiseAffine
        ``Linear``/``ReLU`` layers from n states to m inputs, or a law on a
        state box.

    Returns
    -------
    torch.nn.Sequential
        ``Linear, ReLU, ..., Linear`` from (..., n) to (..., n), float64, on the CPU.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from pwlmodels import evaluate
    >>> from applications.control import closed_loop, explicit_mpc
    >>> A, B = np.array([[1.0, 1.0], [0.0, 1.0]]), np.array([[0.5], [1.0]])
    >>> law = explicit_mpc(A, B, np.eye(2), 0.1, 3, 1.0, [5.0, 2.0])
    >>> loop = closed_loop(A, B, law)
    >>> x = np.array([[4.0, 1.0], [-1.0, 0.5]])
    >>> bool(np.allclose(evaluate(loop, x), x @ A.T + law(x)[:, None] @ B.T, atol=1e-12))
    True
    """
    A, B, kind = check_plant(A, B, controller)
    net = pwa_to_relu(controller) if kind == "pwa" else controller
    linears = [m for m in leaves(net) if isinstance(m, nn.Linear)]
    n = A.shape[0]
    eye = np.eye(n)
    ws = [m.weight.detach().to("cpu", torch.float64).numpy() for m in linears]
    bs = [
        m.bias.detach().to("cpu", torch.float64).numpy()
        if m.bias is not None
        else np.zeros(m.out_features)
        for m in linears
    ]
    layers: list[tuple[np.ndarray, np.ndarray]] = []
    for k, (W, b) in enumerate(zip(ws, bs, strict=True)):
        last = k == len(ws) - 1
        if k == 0:  # from x: the carried pair is (x, -x)
            carry, carry_in = np.vstack([eye, -eye]), W.shape[1]
        else:  # from the previous layer's (h, relu(x), relu(-x))
            pair = np.block([[eye, -eye], [-eye, eye]])
            carry, carry_in = pair, 2 * n
        if last:
            rows = B @ W
            tail = A @ (eye if k == 0 else np.hstack([eye, -eye]))
            weight = rows + tail if k == 0 else np.hstack([rows, tail])
            bias = B @ b
        else:
            if k == 0:
                weight, bias = np.vstack([W, carry]), np.r_[b, np.zeros(2 * n)]
            else:
                weight = np.block(
                    [[W, np.zeros((W.shape[0], carry_in))], [np.zeros((2 * n, W.shape[1])), carry]]
                )
                bias = np.r_[b, np.zeros(2 * n)]
        layers.append((weight, bias))
    return relu_sequential(layers).eval()


def pieces_over(controller: object, lower: np.ndarray, upper: np.ndarray) -> PiecewiseAffine:
    """The controller's linear regions over the box, as a PiecewiseAffine."""
    if isinstance(controller, PiecewiseAffine):
        lo, hi = controller.domain
        slack = 1e-9 * (1 + np.abs(lo) + np.abs(hi))
        if (lower < lo - slack).any() or (upper > hi + slack).any():
            raise ValueError(
                f"the set must lie in the `controller`'s domain [{lo.tolist()}, {hi.tolist()}]; "
                f"its box hull is [{lower.tolist()}, {upper.tolist()}]"
            )
        return controller.restrict(np.maximum(lower, lo), np.minimum(upper, hi))
    cpu = nn.Sequential(*[m for m in leaves(controller)]).to("cpu", torch.float64).eval()
    return relu_to_pwa(cpu, lower, upper)


# ------------------------------------------------------------ the maxima
@dataclass(frozen=True)
class Maxima:
    """Per row i of an affine function ``y = L_j x + o_j`` (region j): the maximum over
    the set, its region and a maximiser."""

    value: np.ndarray  # (k,)
    region: np.ndarray  # (k,) int
    witness: np.ndarray  # (k, n)
    n_lp: int


def set_maxima(
    f: PiecewiseAffine, lin: np.ndarray, off: np.ndarray, P_A: np.ndarray, P_b: np.ndarray
) -> Maxima:
    """Max over x in P of ``lin[j] x + off[j]`` (each row), region by region.

    ``lin`` (n_regions, k, n), ``off`` (n_regions, k). A region inside P (all
    vertices within 1e-12 relative): its best vertex; outside one facet of P (all
    vertices beyond it): skipped; else an LP over the region and P.
    """
    k, n = lin.shape[1], lin.shape[2]
    best, where, arg, n_lp = np.full(k, -np.inf), np.full(k, -1), np.zeros((k, n)), 0
    scale = 1e-12 * (1 + np.abs(P_b))
    for j, poly in enumerate(f.regions):
        V = poly.vertices()
        slack = V @ P_A.T - P_b
        if (slack > scale).all(axis=0).any():
            continue
        if (slack <= scale).all():
            vals = V @ lin[j].T + off[j]  # (n_vertices, k)
            top = vals.argmax(axis=0)
            cand, pts = vals[top, np.arange(k)], V[top]
        else:
            G, h = np.vstack([poly.A_ub, P_A]), np.r_[poly.b_ub, P_b]
            cand, pts = np.full(k, -np.inf), np.zeros((k, n))
            for i in range(k):
                res = linprog(
                    -lin[j, i], G, h, bounds=(None, None), method="highs", options=_LP_OPTIONS
                )
                n_lp += 1
                if res.status == 2:
                    break
                if res.status != 0:
                    raise RuntimeError(f"HiGHS failed on a bounded LP: {res.message}")
                cand[i], pts[i] = -res.fun + off[j, i], res.x
        up = cand > best
        best[up], where[up], arg[up] = cand[up], j, pts[up]
    return Maxima(best, where, arg, n_lp)


# ------------------------------------------------------------ input bound
@dataclass(frozen=True)
class InputBound:
    """A certified ``max |u|`` over a state box.

    ``value``: the largest ``|u|`` attained (at ``witness``, a true lower bound);
    ``bound``: a true upper bound (``value`` itself when exact); ``output`` the
    input where it occurs; ``status``: "exact" (from a PiecewiseAffine's region
    vertices) or the MILP's status; ``label``: "exact" only for a PiecewiseAffine
    or a MILP status "optimal" with a gap within 1e-7 of ``value``, else "sound bound".
    """

    value: float
    bound: float
    witness: np.ndarray
    output: int
    status: str
    label: str
    method: str


def input_bound(
    controller: object,
    lower: object,
    upper: object,
    *,
    time_limit: float | None = 60.0,
    splits: int = 1,
    max_boxes: int = 20_000,
) -> InputBound:
    """The certified largest command ``max |u_k(x)|`` over the box ``lower <= x <= upper``.

    A PiecewiseAffine: exact, the best of each region's map at its vertices
    (:meth:`pwlmodels.PiecewiseAffine.max` of the law restricted to the box). A
    ReLU network: :func:`pwlmodels.maximize` and :func:`~pwlmodels.minimize` of
    every output (MILP confirmed by branch and bound): the bound is sound whatever
    the status; it is labelled "exact" only when every status is "optimal" and
    ``bound - value <= 1e-7 |value|`` (the MILP's own gap is absolute). A
    tanh or sigmoid network: CROWN linear relaxations with branch and bound on the
    input box (:func:`._crown.crown_bound`), labelled "sound bound, not exact";
    ``value`` is then the largest ``|u|`` on a grid of ``2 splits + 1`` points a side.

    Parameters
    ----------
    controller : torch.nn.Sequential or PiecewiseAffine
    lower, upper : array_like, shape (n,)
        The state box; inside the law's domain for a PiecewiseAffine.
    time_limit : float, optional, default 60
        Seconds for each MILP.
    splits, max_boxes : int, default 1 and 20000
        A tanh or sigmoid network's first cut (``splits^n`` sub-boxes) and its branch
        and bound's budget of boxes.

    Returns
    -------
    InputBound

    Examples
    --------
    >>> import numpy as np
    >>> from applications.control import explicit_mpc, input_bound
    >>> A, B = [[1.0, 1.0], [0.0, 1.0]], [[0.5], [1.0]]
    >>> law = explicit_mpc(A, B, np.eye(2), 0.1, 3, 1.0, [5.0, 2.0])
    >>> r = input_bound(law, [-0.5, -0.5], [0.5, 0.5])
    >>> round(r.value, 6), r.label
    (0.943506, 'exact')
    """
    if isinstance(controller, nn.Sequential) and any(
        isinstance(m, (nn.Tanh, nn.Sigmoid)) for m in leaves(controller)
    ):
        return _smooth_bound(controller, lower, upper, splits, max_boxes)
    kind, n, m = check_controller(controller)
    lo, hi = check_box(lower, upper, n)
    if time_limit is not None:
        time_limit = as_scalar(time_limit, "time_limit", positive=True)
    if kind == "pwa":
        f = pieces_over(controller, lo, hi)
        tops, lows = np.atleast_1d(f.max()), np.atleast_1d(f.min())
        mags = np.maximum(tops, -lows)
        k = int(np.argmax(mags))
        wit = f.argmax(output=k if m > 1 else None) if tops[k] >= -lows[k] else None
        if wit is None:
            wit = f.argmin(output=k if m > 1 else None)
        value = float(mags[k])
        return InputBound(value, value, np.asarray(wit), k, "exact", "exact", "vertices")
    runs = []
    for k in range(m):
        for sign, solve in ((1.0, maximize), (-1.0, minimize)):
            r = solve(controller, lo, hi, output=k, time_limit=time_limit)
            runs.append((sign * r.value, sign * r.bound, np.asarray(r.witness, float), k, r.status))
    # max |u| lies between the largest attained value and the largest sound bound
    value, _, wit, k, _ = max(runs, key=lambda t: t[0])
    bound = max(t[1] for t in runs)
    bad = [t[4] for t in runs if t[4] != "optimal"]
    status = bad[0] if bad else "optimal"
    # "optimal" allows an absolute gap of 1e-7 (the MILP's atol): 2e-6 relative for
    # |u| near 1e-3; "exact" also needs the gap within 1e-7 of the value itself
    close = bound - value <= _EXACT_RTOL * abs(value)
    label = "exact" if not bad and close else "sound bound"
    return InputBound(float(value), float(bound), wit, int(k), status, label, "milp")


def _smooth_bound(net: nn.Sequential, lower, upper, splits, max_boxes) -> InputBound:
    """:func:`input_bound` of a tanh / sigmoid network: CROWN, and attained values."""
    b = crown_bound(net, lower, upper, splits=splits, max_boxes=max_boxes)
    n = next(m for m in leaves(net) if isinstance(m, nn.Linear)).in_features
    lo, hi = check_box(lower, upper, n)
    grids = [np.linspace(lo[j], hi[j], 2 * splits + 1) for j in range(len(lo))]
    pts = np.stack(np.meshgrid(*grids, indexing="ij"), -1).reshape(-1, len(lo))
    u = np.abs(evaluate(net, pts).reshape(len(pts), -1))
    i, k = np.unravel_index(int(np.argmax(u)), u.shape)
    return InputBound(float(u[i, k]), b.max_abs, pts[i], int(k), "crown", b.label, "crown")


# -------------------------------------------------------------- invariance
@dataclass(frozen=True)
class Invariance:
    """Positive invariance of ``P = {x : P_A x <= P_b}`` under ``x+ = A x + B u(x)``.

    ``margins[i] = P_b[i] - max_{x in P} P_A[i] x+`` (exact up to the
    tolerances in the module docstring; negative: facet i fails), ``worst`` the
    facet with the smallest margin relative to P's width across it,
    ``maximizers`` a maximiser per facet. ``verdict``: "invariant" when every
    margin is ``>= -tol[i]``, ``tol[i] = atol (P_b[i] - min_{x in P} P_A[i] x)``
    (atol times P's width across facet i, so the claim carries that tolerance
    and means the same at every scale); "not invariant" only with a ``witness``
    in P whose successor breaks a facet in exact rational arithmetic; else
    "undecided". ``n_regions`` of the controller over P's box hull, ``n_lp`` LPs.
    """

    verdict: str
    margins: np.ndarray
    worst: int
    maximizers: np.ndarray
    witness: np.ndarray | None
    n_regions: int
    n_lp: int
    atol: float
    tol: np.ndarray | None = None

    def to_frame(self):
        """One row per facet: ``facet, margin, fails``."""
        import pandas as pd

        return pd.DataFrame(
            {
                "facet": np.arange(len(self.margins)),
                "margin": self.margins,
                "fails": self.margins < -(self.atol if self.tol is None else self.tol),
            }
        )


def successor_maps(A: np.ndarray, B: np.ndarray, f: PiecewiseAffine):
    """``x+ = L[j] x + o[j]`` on region j of f: (n_regions, n, n) and (n_regions, n)."""
    K, c = f.maps
    return A[None] + np.einsum("ik,rkj->rij", B, K), c @ B.T


def _net_exact(controller: nn.Sequential, x: list) -> list:
    """The ReLU network at a point, in exact rational arithmetic (Fraction of float64)."""
    h = x
    for m in leaves(controller):
        if isinstance(m, nn.ReLU):
            h = [v if v > 0 else Fraction(0) for v in h]
            continue
        W = m.weight.detach().to("cpu", torch.float64).numpy()
        b = m.bias.detach().to("cpu", torch.float64).numpy() if m.bias is not None else None
        h = [
            sum((Fraction(float(w)) * v for w, v in zip(row, h, strict=True)), Fraction(0))
            + (Fraction(float(b[r])) if b is not None else 0)
            for r, row in enumerate(W)
        ]
    return h


def _violates(x, controller, f, j, A, B, P_A, P_b, i) -> bool:
    """Whether x is in P and ``P_A[i] x+ > P_b[i]``, in exact rational arithmetic."""
    q = [Fraction(float(v)) for v in x]

    def dot(row, vec):
        return sum((Fraction(float(a)) * v for a, v in zip(row, vec, strict=True)), Fraction(0))

    if any(dot(row, q) > Fraction(float(b)) for row, b in zip(P_A, P_b, strict=True)):
        return False
    if isinstance(controller, PiecewiseAffine):
        poly = f.regions[j]
        if any(
            dot(row, q) > Fraction(float(b)) for row, b in zip(poly.A_ub, poly.b_ub, strict=True)
        ):
            return False
        K, c = f.maps
        u = [dot(K[j][r], q) + Fraction(float(c[j][r])) for r in range(K.shape[1])]
    else:
        u = _net_exact(controller, q)
    nxt = [dot(A[r], q) + dot(B[r], u) for r in range(len(q))]
    return dot(P_A[i], nxt) > Fraction(float(P_b[i]))


def confirm(x, controller, f, j, A, B, P_A, P_b, i) -> np.ndarray | None:
    """A point of P near x (pulled towards the centre of region j and P) whose successor
    breaks facet i in exact arithmetic, or None."""
    poly = f.regions[j]
    G, h = np.vstack([poly.A_ub, P_A]), np.r_[poly.b_ub, P_b]
    norms = np.linalg.norm(G, axis=1)
    n = len(x)
    res = linprog(
        np.r_[np.zeros(n), -1.0], np.c_[G, norms], h, bounds=[(None, None)] * n + [(0, None)]
    )
    centre = res.x[:n] if res.status == 0 else x
    for t in (0.0, 1e-9, 1e-6, 1e-3, 1e-1):
        cand = x + t * (centre - x)
        if _violates(cand, controller, f, j, A, B, P_A, P_b, i):
            return cand
    return None


def widths(P_A: np.ndarray, P_b: np.ndarray) -> np.ndarray:
    """``P_b[i] - min_{x in P} P_A[i] x``: how thick P is across each facet (one LP each)."""
    out = np.empty(len(P_b))
    for i, row in enumerate(P_A):
        res = linprog(row, P_A, P_b, bounds=(None, None), method="highs", options=_LP_OPTIONS)
        out[i] = P_b[i] - res.fun if res.status == 0 else np.abs(P_b).max()
    return np.maximum(out, 0.0)


def facet_check(A, B, controller, f, P_A, P_b, atol):
    """The margins, maxima and verdict of :func:`invariance` on checked data.

    Facet i's tolerance is ``atol`` times P's width across it (:func:`widths`), so a
    verdict means the same for P and for P scaled by any factor (an absolute floor,
    ``atol (1 + |P_b|)`` before, let a 1e-6-wide P map 5 % outside itself and pass).
    """
    L, o = successor_maps(A, B, f)
    mx = set_maxima(f, np.einsum("ik,rkj->rij", P_A, L), o @ P_A.T, P_A, P_b)
    margins = P_b - mx.value
    scale = np.maximum(widths(P_A, P_b), np.finfo(float).tiny)
    tol = atol * scale
    worst = int(np.argmin(margins / scale))
    verdict, witness = "invariant", None
    if (margins < -tol).any():
        verdict = "undecided"
        for i in np.argsort(margins / scale):
            if margins[i] >= -tol[i]:
                break
            witness = confirm(mx.witness[i], controller, f, mx.region[i], A, B, P_A, P_b, i)
            if witness is not None:
                verdict = "not invariant"
                break
    return Invariance(verdict, margins, worst, mx.witness, witness, f.n_regions, mx.n_lp, atol, tol)


def invariance(
    A: object, B: object, controller: object, P_A: object, P_b: object, *, atol: float = 1e-7
) -> Invariance:
    """Whether the polytope ``P = {x : P_A x <= P_b}`` is positively invariant for
    ``x+ = A x + B u(x)``: certified facet by facet.

    The controller's linear regions over P's box hull (the law restricted there,
    or :func:`pwlmodels.relu_to_pwa` of the network) make ``x+`` affine on each;
    facet i's maximum ``max_{x in P} P_A[i] x+`` is the best, over the regions, of
    a vertex (region inside P) or a HiGHS LP (region across P's boundary, primal
    and dual tolerances :data:`LP_TOL`). So the margins are exact up to the
    float64 regions and the LP tolerance. "invariant" means every facet holds at
    ``x+`` within ``atol`` times P's width across it; "not invariant" is claimed only with a
    witness x in P whose successor breaks a facet when the plant, the controller
    (network weights, or the region and map) and P are evaluated in
    ``fractions.Fraction`` arithmetic of their float64 values.

    Parameters
    ----------
    A : array_like, shape (n, n)
    B : array_like, shape (n, m), or (n,)
    controller : torch.nn.Sequential or PiecewiseAffine
        ``Linear``/``ReLU`` layers, or a law whose domain holds P.
    P_A : array_like, shape (k, n)
    P_b : array_like, shape (k,)
        A bounded polytope with an interior point.
    atol : float, default 1e-7
        The tolerance an "invariant" verdict carries, relative to P's width across
        each facet (``P_b[i] - min_{x in P} P_A[i] x``).

    Returns
    -------
    Invariance

    Examples
    --------
    >>> import numpy as np
    >>> from applications.control import explicit_mpc, invariance
    >>> A, B = np.array([[1.0, 1.0], [0.0, 1.0]]), np.array([[0.5], [1.0]])
    >>> law = explicit_mpc(A, B, np.eye(2), 0.1, 3, 1.0, [5.0, 2.0])
    >>> box = np.vstack([np.eye(2), -np.eye(2)])
    >>> invariance(A, B, law, box, [5.0, 2.0, 5.0, 2.0]).verdict
    'not invariant'
    """
    A, B, _ = check_plant(A, B, controller)
    P_A, P_b, hull = check_polytope(P_A, P_b, A.shape[0])
    atol = as_scalar(atol, "atol", positive=True)
    f = pieces_over(controller, hull[0], hull[1])
    return facet_check(A, B, controller, f, P_A, P_b, atol)
