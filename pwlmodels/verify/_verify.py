"""The public functions of :mod:`pwlmodels.verify` (documented there)."""

from __future__ import annotations

import time
import warnings
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from .._validate import as_real_scalar, check_choice
from ..network._parse import Affine, input_features, output_features, parse_sequential
from . import _bounds as bd
from . import _milp
from ._problem import Problem, as_box, make_problem
from ._prune import dead_units_on_box, prune
from ._results import ProofResult, RobustnessResult, VerificationResult

__all__ = [
    "ProofResult",
    "RobustnessResult",
    "SolverInconsistencyWarning",
    "VerificationResult",
    "dead_units_on_box",
    "local_robustness",
    "maximize",
    "minimize",
    "prove_bound",
    "prune",
]

_METHODS = ("auto", "spline", "bab", "milp")
_TIGHTEN = ("auto", "interval", "crown", "lp")
_AUTO_BOXES = 20_000  # method="auto": boxes before branch and bound hands over to the MILP
# method="auto": branch and bound up to this many inputs (the MILP beyond). With 5 inputs
# (ACAS Xu, 300 ReLUs) bab certified in 2.8 s a maximum the MILP left at bound 796 after
# 300 s; with 10 inputs (10-32-32-1, bench_verify) bab's gap was 0.19 and the MILP's 0.49.
_AUTO_BAB_INPUTS = 10


SolverInconsistencyWarning = bd.SolverInconsistencyWarning


def _check_options(method, tighten, atol, rtol, time_limit, max_boxes) -> tuple:
    check_choice(method, "method", _METHODS)
    check_choice(tighten, "tighten", _TIGHTEN)
    atol = as_real_scalar(atol, "atol")
    rtol = as_real_scalar(rtol, "rtol")
    if atol < 0 or rtol < 0:
        raise ValueError(f"`atol` and `rtol` must be non-negative; got {atol!r}, {rtol!r}")
    if time_limit is not None:
        time_limit = as_real_scalar(time_limit, "time_limit")
        if time_limit <= 0:
            raise ValueError(f"`time_limit` must be positive; got {time_limit!r}")
    if isinstance(max_boxes, bool) or not isinstance(max_boxes, (int, np.integer)):
        raise TypeError(f"`max_boxes` must be an integer; got {type(max_boxes).__name__}")
    if max_boxes < 1:
        raise ValueError(f"`max_boxes` must be positive; got {max_boxes}")
    return atol, rtol, time_limit


# ----------------------------------------------------------------- the methods
def _tol(value: float, atol: float, rtol: float) -> float:
    return atol + rtol * abs(value)


def _spline(prob: Problem) -> dict:
    from ..network._extract import network_spline

    t0 = time.perf_counter()
    ops = prob.ops
    c = prob.c.to("cpu").numpy()
    j = int(np.argmax(c != 0))
    if isinstance(ops[-1], Affine) and np.count_nonzero(c) == 1 and abs(c[j]) == 1:
        last = Affine(c[j] * ops[-1].weight[j : j + 1], c[j] * ops[-1].bias[j : j + 1])  # exact
        ops = (*ops[:-1], last)
    else:
        ops = (*ops, Affine(c[None, :], np.zeros(1)))
    f = network_spline(ops, np.zeros(1), np.ones(1), 10**6)
    a, b = float(prob.lower[0]), float(prob.upper[0])
    knots = f.knots[(f.knots > a) & (f.knots < b)]
    cand = np.concatenate([[a], knots, [b]])
    fv = f(cand)
    i = int(np.argmax(fv))
    # The spline is computed in float64 and could be off where weights cancel: its pieces
    # are only the boxes whose sound linear bounds (exact where the net is affine) give
    # the bound.
    ends = torch.as_tensor(cand, dtype=torch.float64, device=prob.c.device)
    lo, up = ends[:-1, None], ends[1:, None]  # cand holds both ends of the box: >= 1 piece
    ubs = [bd.objective_upper(prob.chain, prob.c, *box)[0] for box in _chunks(lo, up, prob.chain)]
    return {
        "x": cand[i : i + 1],
        "bound": float(torch.cat(ubs).max()),
        "status": "optimal",
        "n_nodes": lo.shape[0],
        "solve_time": time.perf_counter() - t0,
    }


def _chunks(lo: torch.Tensor, up: torch.Tensor, chain: bd.Chain):
    """Batches of boxes of about 2**20 numbers per layer: they stay in cache."""
    size = min(4096, max(8, 2**20 // max(w.shape[0] for w in chain.weights)))
    for k in range(0, lo.shape[0], size):
        yield lo[k : k + size], up[k : k + size]


def _milp_on(prob: Problem, *options) -> dict:
    """:func:`pwlmodels.verify._milp.maximize` on the problem's chain, objective and box."""
    return _milp.maximize(prob.chain, prob.c, prob.lower, prob.upper, *options)


def _then_milp(prob, first, tighten, atol, rtol, time_limit, max_boxes, threshold) -> dict:
    """Branch and bound ran out of boxes (flat maxima): finish with the MILP."""
    left = None if time_limit is None else max(time_limit - first["solve_time"], 1e-3)
    second = _milp_on(
        prob, tighten, atol, rtol, left, max(max_boxes - first["n_nodes"], 1), threshold
    )
    xs = np.stack([first["x"], second["x"]])
    best = int(np.argmax([prob.value(x) for x in xs]))
    out = dict(second)
    out["x"] = xs[best]
    out["bound"] = min(first["bound"], second["bound"])
    out["n_nodes"] = first["n_nodes"] + second["n_nodes"]
    out["solve_time"] = first["solve_time"] + second["solve_time"]
    return out


def _polish(prob: Problem, x: np.ndarray, value: float) -> tuple:
    """The best point of the witness's activation region in the box, by an LP."""
    from scipy.optimize import linprog

    from ..regions import linear_region, local_affine

    region = linear_region(prob.net64, x, lower=prob.lower, upper=prob.upper)
    a, _ = local_affine(prob.net64, x[None])
    grad = prob.c.to("cpu").numpy() @ a[0]
    res = linprog(
        -grad,
        A_ub=region.A_ub,
        b_ub=region.b_ub,
        bounds=np.stack([prob.lower, prob.upper], 1),
        method="highs",
    )
    if res.status != 0:
        return x, value
    y = np.clip(res.x, prob.lower, prob.upper)
    v = prob.value(y)
    return (y, v) if v > value else (x, value)


def _run(prob, method, tighten, atol, rtol, time_limit, max_boxes, threshold=None):
    n_in = prob.chain.n_in
    hybrid = method == "auto" and 2 <= n_in <= 4
    if method == "auto":
        method = "spline" if n_in == 1 else ("bab" if n_in <= _AUTO_BAB_INPUTS else "milp")
    if method == "spline":
        if n_in != 1:
            raise ValueError(f"`method='spline'` needs a net with one input; this one has {n_in}")
        out = _spline(prob)
    elif method == "bab":
        budget = min(max_boxes, _AUTO_BOXES) if hybrid else max_boxes
        out = bd.branch_and_bound(
            prob.chain, prob.c, prob.lower, prob.upper, atol, rtol, time_limit, budget, threshold
        )
        if hybrid and out["status"] == "node_limit":
            out = _then_milp(prob, out, tighten, atol, rtol, time_limit, max_boxes, threshold)
            method = "bab+milp"
    else:
        out = _milp_on(prob, tighten, atol, rtol, time_limit, max_boxes, threshold)
    x = np.clip(np.asarray(out["x"], dtype=np.float64).reshape(n_in), prob.lower, prob.upper)
    value = prob.value(x)
    bound = max(float(out["bound"]), value)
    gap = bound - value
    status = out["status"]
    if gap <= _tol(value, atol, rtol):
        status = "optimal"
    elif status == "optimal":
        # the search ended with no node or time limit reached, yet the sound bound is looser
        # than the tolerance: its rounding margins, boxes at float64 resolution or HiGHS's
        # integrality tolerance leave a gap that more nodes would not close
        status = "precision_limit"
    sv = out.get("solver_value")
    if sv is not None and sv > value + _tol(value, atol, rtol):
        x, value = _polish(prob, x, value)
        bound = max(bound, value)
        gap = bound - value
        if gap <= _tol(value, atol, rtol):
            status = "optimal"
    if sv is not None and sv > value + 10 * _tol(value, atol, rtol) + 1e-6 * (1 + abs(value)):
        warnings.warn(
            f"the MILP solver's objective {sv!r} exceeds the float64 value {value!r} at its "
            "solution; the reported value and gap use the float64 value",
            SolverInconsistencyWarning,
            stacklevel=3,
        )
    return VerificationResult(
        value=value,
        witness=x,
        bound=bound,
        gap=gap,
        status=status,
        method=method,
        n_binary=out.get("n_binary", 0),
        n_stable=out.get("n_stable", 0),
        n_nodes=out["n_nodes"],
        build_time=out.get("build_time", 0.0),
        solve_time=out["solve_time"],
        solver_value=sv,
        solver_bound=out.get("solver_bound"),
    )


def _flip(r: VerificationResult) -> VerificationResult:
    def neg(v):
        return None if v is None else -v

    return replace(
        r,
        value=-r.value,
        bound=-r.bound,
        solver_value=neg(r.solver_value),
        solver_bound=neg(r.solver_bound),
    )


# ------------------------------------------------------------------ public API
def maximize(
    net: nn.Sequential,
    lower: object,
    upper: object,
    *,
    output: int | None = None,
    c: object = None,
    method: str = "auto",
    tighten: str = "auto",
    atol: float = 1e-7,
    rtol: float = 1e-9,
    time_limit: float | None = None,
    max_boxes: int = 200_000,
) -> VerificationResult:
    """The verified maximum of a network output (or ``c @ net(x)``) over a box.

    Parameters
    ----------
    net : torch.nn.Sequential
        Linear, ReLU, LeakyReLU, PReLU, Hardtanh / ReLU6 (and the layers
        :func:`pwlmodels.relu_to_spline` accepts), any depth, any dtype and
        device; verified in float64 on the net's device.
    lower, upper : array_like, shape (n_in,), or float
        The box; finite, ``lower <= upper``.
    output : int, optional
        Which output to maximise; required (or ``c``) when there are several.
    c : array_like, shape (n_out,), optional
        Maximise the linear objective ``c @ net(x)``.
    method : {"auto", "spline", "bab", "milp"}, default "auto"
        ``"auto"``: spline for 1 input, bab for 2 to 4 (handing over to the
        MILP after 20,000 boxes), bab alone for 5 to 10, milp beyond. Branch and bound converges
        slowly when the maximisers form a flat set (saturated Hardtanh
        units): its relaxation error shrinks only linearly with box width.
    tighten : {"auto", "interval", "crown", "lp"}, default "auto"
        Intermediate bounds for the MILP's big-M constants (``"auto"`` is
        ``"crown"``: CROWN intersected with interval bounds). ``"lp"``: CROWN
        bounds tightened, layer by layer, by two LPs per unit over the
        linear relaxation (``scipy.optimize.linprog``), each made safe by
        weak duality from its dual vector (Neumaier and Shcherbina 2004):
        fewer binaries, two LPs per hidden unit to build (none for last-layer
        units that need no binary). With up to 4
        inputs the first layer's ReLUs enter those LPs in their ideal
        formulation over the box (Anderson et al. 2020).
    atol, rtol : float, default 1e-7, 1e-9
        Stop when ``bound - value <= atol + rtol |value|``.
    time_limit : float, optional
        Seconds for bab and milp (status ``"time_limit"`` when reached).
    max_boxes : int, default 200_000
        Boxes bounded by bab before it stops (status ``"node_limit"``; see
        :class:`VerificationResult` for every status).

    Returns
    -------
    VerificationResult
        ``value`` (float64 forward pass at ``witness``) <= true maximum <=
        ``bound``, with the margins of the module docstring.

    Examples
    --------
    >>> import torch
    >>> from pwlmodels.verify import maximize
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.tensor([[1.0, 1.0], [1.0, -1.0]]))
    ...     _ = net[0].bias.zero_(), net[2].weight.fill_(1.0), net[2].bias.zero_()
    >>> r = maximize(net, [-1.0, -1.0], [1.0, 1.0])  # relu(x+y) + relu(x-y): max 2 at x=1
    >>> r.status, round(r.value, 9), r.gap <= 1e-7, r.witness.tolist()[0]
    ('optimal', 2.0, True, 1.0)
    """
    atol, rtol, time_limit = _check_options(method, tighten, atol, rtol, time_limit, max_boxes)
    prob = make_problem(net, lower, upper, output, c)
    return _run(prob, method, tighten, atol, rtol, time_limit, max_boxes)


def minimize(
    net: nn.Sequential,
    lower: object,
    upper: object,
    *,
    output: int | None = None,
    c: object = None,
    method: str = "auto",
    tighten: str = "auto",
    atol: float = 1e-7,
    rtol: float = 1e-9,
    time_limit: float | None = None,
    max_boxes: int = 200_000,
) -> VerificationResult:
    """The verified minimum over a box; ``bound`` is a lower bound.

    Parameters and returns as in :func:`maximize`, with ``value >= true
    minimum >= bound`` and ``gap = value - bound >= 0``.

    Examples
    --------
    >>> import torch
    >>> from pwlmodels.verify import minimize
    >>> net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.ReLU())
    >>> with torch.no_grad():
    ...     _ = net[0].weight.fill_(1.0), net[0].bias.fill_(-0.5)
    >>> r = minimize(net, [-1.0], [1.0])  # relu(x - 0.5) on [-1, 1]
    >>> r.value, r.bound <= 0.0, r.status
    (0.0, True, 'optimal')
    """
    atol, rtol, time_limit = _check_options(method, tighten, atol, rtol, time_limit, max_boxes)
    prob = make_problem(net, lower, upper, output, c).negated()
    return _flip(_run(prob, method, tighten, atol, rtol, time_limit, max_boxes))


# ------------------------------------------------------------- built on it
def prove_bound(
    net: nn.Sequential,
    lower: object,
    upper: object,
    threshold: float,
    *,
    sense: str = "<=",
    output: int | None = None,
    c: object = None,
    method: str = "auto",
    time_limit: float | None = None,
    max_boxes: int = 200_000,
) -> ProofResult:
    """Prove ``net(x) <= threshold`` (or ``>=``) on the box, or find a counterexample.

    Branch and bound stops as soon as the bound proves the claim or a point
    violates it (strictly), and drops boxes whose bound is on the right side
    of ``threshold``; it also stops when the gap is within ``atol=1e-7`` +
    ``rtol=1e-9`` ``|value|`` (then ``"undecided"`` if the maximum is within
    that of ``threshold``).

    Parameters
    ----------
    net, lower, upper, output, c, method, time_limit, max_boxes
        As in :func:`maximize`.
    threshold : float
    sense : {"<=", ">="}, default "<="

    Returns
    -------
    ProofResult
        ``"proven"``: the verified bound is on the right side of
        ``threshold``; ``"counterexample"``: the net at ``witness`` violates
        it in real arithmetic (a sound bound of its value there, not only the
        float64 ``value``, is on the wrong side); ``"undecided"``: a limit was
        reached first, or the violation is within the rounding of the value.

    Examples
    --------
    >>> import torch
    >>> from pwlmodels.verify import prove_bound
    >>> net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Hardtanh())
    >>> with torch.no_grad():
    ...     _ = net[0].weight.fill_(1.0), net[0].bias.zero_()
    >>> prove_bound(net, [-5.0], [5.0], 1.5).status  # hardtanh never exceeds 1
    'proven'
    >>> prove_bound(net, [-5.0], [5.0], 0.5).status
    'counterexample'
    """
    threshold = as_real_scalar(threshold, "threshold")
    check_choice(sense, "sense", ("<=", ">="))
    atol, rtol, time_limit = _check_options(method, "auto", 1e-7, 1e-9, time_limit, max_boxes)
    prob = make_problem(net, lower, upper, output, c)
    flip = sense == ">="
    if flip:
        prob = prob.negated()
    t = -threshold if flip else threshold
    r = _run(prob, method, "auto", atol, rtol, time_limit, max_boxes, threshold=t)
    if r.value > t and prob.value_lower(r.witness) > t:  # beyond the float64 evaluation's error
        status = "counterexample"
    elif r.bound <= t:
        status = "proven"
    else:
        status = "undecided"
    if flip:
        r = _flip(r)
    return ProofResult(
        status, threshold, sense, r.value, r.witness, r.bound, r.method, r.n_nodes, r.solve_time
    )


def _stable(chain: bd.Chain, bounds: list) -> bool:
    """No unit has a kink inside its bounds: the net is one affine map on the box."""
    return not any(
        bool(bd._kinked(unit, lo, up).any())
        for unit, (lo, up) in zip(chain.acts, bounds, strict=True)
    )


def local_robustness(
    net: nn.Sequential,
    x0: object,
    eps: float,
    *,
    norm: str = "inf",
    method: str = "auto",
    time_limit: float | None = None,
) -> RobustnessResult:
    """Whether a classifier's prediction at ``x0`` holds on the ball ``|x - x0|_inf <= eps``.

    Parameters
    ----------
    net : torch.nn.Sequential
        A classifier with at least two outputs (logits).
    x0 : array_like, shape (n_in,)
    eps : float
        Radius, non-negative.
    norm : {"inf"}, default "inf"
    method : {"auto", "bab", "milp", "spline"}, default "auto"
        For each other class, as in :func:`minimize`.
    time_limit : float, optional
        Seconds per other class.

    Returns
    -------
    RobustnessResult

    Examples
    --------
    >>> import torch
    >>> from pwlmodels.verify import local_robustness
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2))
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.eye(2)), net[0].bias.zero_()
    >>> r = local_robustness(net, [1.0, 0.0], 0.4)  # class 0 while x0 > x1
    >>> r.robust, r.predicted, r.method
    (True, 0, 'region')
    >>> local_robustness(net, [1.0, 0.0], 0.6).robust
    False
    """
    check_choice(norm, "norm", ("inf",))
    eps = as_real_scalar(eps, "eps")
    if eps < 0:
        raise ValueError(f"`eps` must be non-negative; got {eps!r}")
    ops = parse_sequential(net)
    n_in, n_out = input_features(ops), output_features(ops)
    if n_in is None:
        raise TypeError("`net` must contain at least one Linear layer")
    x = as_box(x0, "x0", n_in)
    if n_out < 2:
        raise ValueError(f"`net` must have at least 2 outputs (a classifier); got {n_out}")
    with np.errstate(over="ignore"):
        lo, up = x - eps, x + eps
    if not (np.isfinite(lo).all() and np.isfinite(up).all()):
        raise ValueError(f"`x0` +- `eps` overflows float64; got eps = {eps}")
    prob = make_problem(net, lo, up, c=np.ones(n_out), ops=ops)  # parsed once, for every class
    options = _check_options(method, "auto", 1e-7, 1e-9, time_limit, 200_000)
    with torch.no_grad():
        pred = int(torch.argmax(prob.net64(torch.as_tensor(x[None]))[0]))
    exact = _stable(prob.chain, bd.layer_bounds(prob.chain, *prob.box()))
    bounds, values = np.full(n_out, np.inf), np.full(n_out, np.inf)
    witness, undecided = None, False
    used = "region" if exact else method
    for j in range(n_out):
        if j == pred:
            continue
        cvec = np.zeros(n_out)
        cvec[pred], cvec[j] = 1.0, -1.0
        margin = replace(prob, c=torch.as_tensor(cvec, dtype=torch.float64, device=prob.c.device))
        if exact:  # affine on the ball: the linear bound is attained at a vertex
            r = _region_min(margin.negated())
        else:
            atol, rtol, limit = options
            r = _flip(_run(margin.negated(), method, "auto", atol, rtol, limit, 200_000))
            used = r.method
        bounds[j], values[j] = r.bound, r.value
        # a counterexample in real arithmetic: the margin's sound upper bound there <= 0
        if r.value <= 0 and witness is None and margin.negated().value_lower(r.witness) >= 0:
            witness = r.witness
        undecided |= r.bound <= 0
    robust = False if witness is not None else (None if undecided else True)
    return RobustnessResult(robust, pred, bounds, values, witness, used)


def _region_min(prob: Problem) -> VerificationResult:
    """The minimum of ``-prob``'s objective where the net is affine on the box (a vertex)."""
    tl, tu = prob.box()
    ub, a, _ = bd.objective_upper(prob.chain, prob.c, tl, tu)
    x = bd.vertex(a[0], tl[0], tu[0]).to("cpu").numpy()
    value = prob.value(x)
    bound = max(float(ub[0]), value)
    r = VerificationResult(value, x, bound, bound - value, "optimal", "region", n_nodes=1)
    return _flip(r)
