"""Verified optima: methods agree, bounds are sound against dense sampling, errors are clear."""

from __future__ import annotations

import copy
import itertools
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from pwlmodels import PiecewiseLinear
from pwlmodels.relu import evaluate, relu_to_spline, spline_to_relu
from pwlmodels.verify import (
    ProofResult,
    RobustnessResult,
    SolverInconsistencyWarning,
    VerificationResult,
    dead_units_on_box,
    local_robustness,
    maximize,
    minimize,
    prove_bound,
    prune,
)

# HiGHS's dual bound, at its default integrality tolerance (1e-6), is loose by up to about
# 1e-6 x the big-M constants: the MILP certifies at a looser atol
MILP_ATOL = 1e-5

ACTS = {
    "relu": nn.ReLU,
    "leaky": lambda: nn.LeakyReLU(0.1),
    "leaky2": lambda: nn.LeakyReLU(2.5),
    "prelu": lambda: nn.PReLU(),
    "hardtanh": lambda: nn.Hardtanh(-0.5, 0.7),
}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny batched matmuls run far faster on one thread on a busy machine."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def make_net(seed, n_in, widths, act="relu", *, scale=1.0, n_out=1, adversarial=False):
    gen = torch.Generator().manual_seed(seed)
    layers: list = []
    sizes = [n_in, *widths]
    for a, b in itertools.pairwise(sizes):
        lin = nn.Linear(a, b, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.randn(b, a, generator=gen, dtype=torch.float64) * scale)
            lin.bias.copy_(torch.randn(b, generator=gen, dtype=torch.float64) * scale)
            if adversarial and b >= 3:
                lin.weight[1] = lin.weight[0]  # duplicate unit
                lin.bias[1] = lin.bias[0]
                lin.weight[2] = 0.0  # zero row
        module = ACTS[act]()
        layers += [lin, module.to(torch.float64)]
    last = nn.Linear(sizes[-1], n_out, dtype=torch.float64)
    with torch.no_grad():
        last.weight.copy_(torch.randn(n_out, sizes[-1], generator=gen, dtype=torch.float64))
        if adversarial and sizes[-1] >= 3:  # duplicates that cancel exactly
            last.weight[:, 1] = -last.weight[:, 0]
    return nn.Sequential(*layers, last)


def samples(lo, up, n=10_000, seed=0):
    rng = np.random.default_rng(seed)
    lo, up = np.asarray(lo, float), np.asarray(up, float)
    pts = [rng.uniform(lo, up, (n, lo.size))]
    k = max(2, round(n ** (1 / lo.size)))
    grid = np.meshgrid(*[np.linspace(a, b, k) for a, b in zip(lo, up, strict=True)])
    pts.append(np.stack([g.ravel() for g in grid], axis=1))
    return np.concatenate(pts)


def fuzz_case(seed, rng, n_in, widths, act, scale, *, face):
    """A random net (adversarial on even seeds) and a random box; ``face``: a first-layer
    unit's pre-activation is exactly 0 on a face of the box."""
    net = make_net(seed, n_in, widths, act, scale=scale, adversarial=seed % 2 == 0)
    lo = rng.uniform(-2, 0, n_in)
    up = lo + rng.uniform(0.1, 2, n_in)
    if face:
        with torch.no_grad():
            net[0].weight[0] = 0.0
            net[0].weight[0, 0] = 1.0
            net[0].bias[0] = -float(up[0])
    return net, lo, up


def spline_max(net, a, b):
    f = relu_to_spline(net)
    cand = np.concatenate([[a], f.knots[(f.knots > a) & (f.knots < b)], [b]])
    return float(f(cand).max())


def check_sound(net, lo, up, r, *, sense="max", c=None):
    x = samples(lo, up)
    y = evaluate(net, x)
    if c is not None:
        y = y @ np.asarray(c)
    tol = 1e-7 + 1e-9 * abs(r.value)
    if sense == "max":
        assert r.bound >= y.max()  # no tolerance
        if r.status == "optimal":
            assert r.value >= y.max() - tol
    else:
        assert r.bound <= y.min()
        if r.status == "optimal":
            assert r.value <= y.min() + tol
    assert np.all(r.witness >= lo) and np.all(r.witness <= up)
    assert r.witness.dtype == np.float64 and r.witness.shape == (len(lo),)
    yw = evaluate(net, r.witness[None])
    if c is None:
        assert float(np.ravel(yw)[0]) == r.value
    else:
        np.testing.assert_allclose(np.ravel(yw) @ np.asarray(c), r.value, rtol=1e-14, atol=1e-300)
    assert r.gap >= 0 and np.isfinite([r.value, r.bound, r.gap]).all()
    assert r.status in ("optimal", "time_limit", "node_limit", "precision_limit")


@pytest.mark.parametrize("act", list(ACTS))
def test_methods_agree_on_two_inputs(act):
    net = make_net(1, 2, [8, 8], act)
    lo, up = [-1.0, -2.0], [1.0, 0.5]
    # flat maxima (saturated Hardtanh) make bab converge linearly: a looser atol there
    atol = 1e-4 if act == "hardtanh" else 1e-7
    rb = maximize(net, lo, up, method="bab", atol=atol)
    rm = maximize(net, lo, up, method="milp", atol=MILP_ATOL)
    # on flat maxima "auto" hands over to the MILP, which certifies at its own tolerance
    ra = maximize(net, lo, up, atol=MILP_ATOL if act == "hardtanh" else 1e-7)
    assert rb.status == rm.status == ra.status == "optimal"
    assert abs(rb.value - rm.value) <= 2 * atol + MILP_ATOL
    assert abs(ra.value - rm.value) <= 2e-7 + MILP_ATOL
    assert rb.bound >= rm.value and rm.bound >= rb.value
    for r in (rb, rm, ra):
        check_sound(net, lo, up, r)
    if act != "hardtanh":
        assert rm.n_binary + rm.n_stable <= 16  # last-layer units pushed down need none


@pytest.mark.parametrize("act", list(ACTS))
def test_every_method_finds_the_spline_maximum_in_one_input(act):
    net = make_net(2, 1, [6, 5], act)
    truth = spline_max(net, -2.0, 1.5)
    for method in ("spline", "bab", "milp", "auto"):
        r = maximize(
            net, [-2.0], [1.5], method=method, atol=MILP_ATOL if method == "milp" else 1e-7
        )
        assert r.status == "optimal"
        assert abs(r.value - truth) <= 1e-6 * (1 + abs(truth)), method
        assert r.bound >= truth - 1e-12 * (1 + abs(truth))
        assert r.method == ("spline" if method == "auto" else method)


@pytest.mark.parametrize("seed", range(120))
def test_bounds_are_sound_on_random_and_adversarial_nets(seed):
    rng = np.random.default_rng(seed)
    act = list(ACTS)[seed % len(ACTS)]
    n_in = 1 + seed % 3
    widths = [int(w) for w in rng.integers(2, 6, size=1 + seed % 3)]
    scale = (1.0, 1e3, 1e-3)[(seed // 5) % 3]
    net, lo, up = fuzz_case(seed, rng, n_in, widths, act, scale, face=seed % 4 == 0)
    method = "milp" if seed % 6 == 5 else "bab"
    r = maximize(net, lo, up, method=method, max_boxes=20_000, time_limit=5.0)
    check_sound(net, lo, up, r)
    other = "milp" if method == "bab" and seed % 3 == 0 else "bab"
    r = minimize(net, lo, up, method=other, max_boxes=20_000, time_limit=5.0)
    check_sound(net, lo, up, r, sense="min")
    if n_in == 1:
        check_sound(net, lo, up, maximize(net, lo, up, method="spline"))


def test_linear_objective_and_output_selection_on_several_outputs():
    net = make_net(3, 2, [6, 6], "relu", n_out=3)
    lo, up = [-1.0, -1.0], [1.0, 1.0]
    c = np.array([1.0, -2.0, 0.5])
    for method in ("bab", "milp"):
        check_sound(net, lo, up, maximize(net, lo, up, c=c, method=method), c=c)
        r = minimize(net, lo, up, output=1, method=method)
        check_sound(net, lo, up, r, sense="min", c=np.eye(3)[1])
    with pytest.raises(ValueError, match="`net` has 3 outputs"):
        maximize(net, lo, up)
    with pytest.raises(ValueError, match="not both"):
        maximize(net, lo, up, output=0, c=c)
    with pytest.raises(ValueError, match="`c` must have 3 entries"):
        maximize(net, lo, up, c=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"`output` must be in \[0, 3\)"):
        maximize(net, lo, up, output=3)


@pytest.mark.parametrize("method", ["spline", "bab", "milp"])
def test_a_gap_that_only_rounding_keeps_open_is_a_precision_limit_not_a_node_limit(method):
    """With atol = rtol = 0 the sound bound's rounding margins exceed the tolerance: the
    search finishes well within its budget, so the status must not say "node_limit"."""
    f = PiecewiseLinear([0.0, 0.3, 0.7, 1.0], [0.1, 1.0 / 3.0, 0.2, 0.9])
    net = spline_to_relu(f)
    r = maximize(net, [0.0], [1.0], method=method, atol=0.0, rtol=0.0, max_boxes=200_000)
    assert r.status == "precision_limit"
    assert 0.0 < r.gap <= 1e-12 and r.n_nodes < 200_000
    check_sound(net, [0.0], [1.0], r)
    assert maximize(net, [0.0], [1.0], method=method, atol=1e-12).status == "optimal"


def test_limits_give_sound_bounds_and_their_status():
    net = make_net(4, 2, [16, 16], "relu")
    lo, up = [-1.0, -1.0], [1.0, 1.0]
    r = maximize(net, lo, up, method="bab", max_boxes=1, atol=0.0, rtol=0.0)
    assert r.status == "node_limit" and r.n_nodes == 1
    check_sound(net, lo, up, r)
    r = maximize(net, lo, up, method="bab", time_limit=1e-9, atol=0.0, rtol=0.0)
    assert r.status in ("time_limit", "optimal")
    check_sound(net, lo, up, r)


def test_float32_net_is_verified_in_float64():
    net32 = make_net(5, 2, [8, 8], "leaky").float()
    net64 = copy.deepcopy(net32).double()
    r = maximize(net32, [-1.0, -1.0], [1.0, 1.0])
    check_sound(net64, [-1.0, -1.0], [1.0, 1.0], r)


def test_tighten_interval_is_sound_and_agrees():
    net = make_net(6, 2, [8, 8, 8], "relu")
    lo, up = [-1.0, -1.0], [1.0, 1.0]
    ri = maximize(net, lo, up, method="milp", tighten="interval")
    rc = maximize(net, lo, up, method="milp", tighten="crown")
    rl = maximize(net, lo, up, method="milp", tighten="lp")
    assert abs(ri.value - rc.value) <= 2e-7 and abs(rl.value - rc.value) <= 2e-7
    assert ri.n_binary >= rc.n_binary >= rl.n_binary
    for r in (ri, rc, rl):
        check_sound(net, lo, up, r)


@pytest.mark.parametrize("seed", range(30))
def test_lp_tightening_with_ideal_first_layer_is_sound(seed):
    """LP bounds over the ideal first-layer formulation contain every sampled pre-activation."""
    from pwlmodels.verify import _bounds as bd
    from pwlmodels.verify import _lp
    from pwlmodels.verify._problem import make_problem

    rng = np.random.default_rng(1000 + seed)
    n_in = 2 + seed % 3
    act = ("relu", "relu", "prelu", "leaky")[seed % 4]
    scale = (1.0, 1e3, 1e-3)[(seed // 4) % 3]
    net, lo, up = fuzz_case(seed, rng, n_in, [6, 5, 4], act, scale, face=seed % 5 == 0)
    prob = make_problem(net, lo, up)
    crown = bd.layer_bounds(prob.chain, *prob.box())
    cpu = [(a[0].numpy(), b[0].numpy()) for a, b in crown]
    tight = _lp.lp_bounds(prob.chain, lo, up, cpu)
    x = torch.as_tensor(samples(lo, up))
    linears = [m for m in net if isinstance(m, nn.Linear)]
    with torch.no_grad():
        h = x
        for k, (lin, (t_lo, t_up)) in enumerate(zip(linears, tight, strict=False)):
            z = lin(h)
            assert (z.numpy() >= t_lo).all() and (z.numpy() <= t_up).all(), k
            assert (t_lo >= cpu[k][0]).all() and (t_up <= cpu[k][1]).all()  # never looser
            h = net[2 * k + 1](z)
    for sense, fn in (("max", maximize), ("min", minimize)):
        with warnings.catch_warnings():  # HiGHS on weights ~1e3: falls back, soundly
            warnings.simplefilter("ignore", SolverInconsistencyWarning)
            r = fn(net, lo, up, method="milp", tighten="lp", time_limit=5.0)
        check_sound(net, lo, up, r, sense=sense)


def _difference(a: nn.Sequential, b: nn.Sequential) -> nn.Sequential:
    """One ReLU net computing a(x) - b(x) (block-diagonal hidden layers)."""
    la = [m for m in a if isinstance(m, nn.Linear)]
    lb = [m for m in b if isinstance(m, nn.Linear)]
    layers: list = []
    for i, (p, q) in enumerate(zip(la, lb, strict=True)):
        last = i == len(la) - 1
        n_in = p.in_features if i == 0 else p.in_features + q.in_features
        n_out = 1 if last else p.out_features + q.out_features
        lin = nn.Linear(n_in, n_out, dtype=torch.float64)
        with torch.no_grad():
            pw, qw = p.weight.double(), q.weight.double()
            if i == 0:
                lin.weight.copy_(torch.cat([pw, qw]))
                lin.bias.copy_(torch.cat([p.bias.double(), q.bias.double()]))
            elif last:
                lin.weight.copy_(torch.cat([pw, -qw], dim=1))
                lin.bias.copy_(p.bias.double() - q.bias.double())
            else:
                lin.weight.copy_(torch.block_diag(pw, qw))
                lin.bias.copy_(torch.cat([p.bias.double(), q.bias.double()]))
        layers += [lin] if last else [lin, nn.ReLU()]
    return nn.Sequential(*layers)


@pytest.mark.parametrize("n_in", [1, 2])
def test_pruned_net_equals_the_original_on_the_box(n_in):
    net = make_net(7, n_in, [12, 12], "relu")
    lo, up = np.full(n_in, 0.2), np.full(n_in, 0.6)
    small = prune(net, lo, up)
    widths = [m.out_features for m in small if isinstance(m, nn.Linear)][:-1]
    assert sum(widths) < 24
    dead = dead_units_on_box(net, lo, up)
    assert [int((~d).sum()) for d in dead] == widths
    x = samples(lo, up)
    np.testing.assert_allclose(evaluate(small, x), evaluate(net, x), rtol=1e-12, atol=1e-12)
    diff = _difference(net, small)
    if n_in == 1:
        f = relu_to_spline(diff)
        cand = np.concatenate([lo, f.knots[(f.knots > lo[0]) & (f.knots < up[0])], up])
        worst = float(np.abs(f(cand)).max())
    else:
        worst = max(
            abs(maximize(diff, lo, up, method="milp", atol=MILP_ATOL).bound),
            abs(minimize(diff, lo, up, method="milp", atol=MILP_ATOL).bound),
        )
    assert worst <= MILP_ATOL


def test_dead_units_are_never_active_on_samples():
    net = make_net(8, 2, [10, 10], "relu")
    lo, up = [0.5, -0.2], [0.9, 0.3]
    dead = dead_units_on_box(net, lo, up)
    assert any(d.any() for d in dead)
    x = torch.as_tensor(samples(lo, up))
    h = x
    for i, m in enumerate(net):
        h = m(h)
        if isinstance(m, nn.Linear) and i + 1 < len(net):
            assert not bool((h[:, torch.as_tensor(dead[i // 2])] > 0).any())


def test_prove_bound_proves_refutes_and_stops_early():
    net = make_net(9, 2, [8, 8], "relu")
    lo, up = [-1.0, -1.0], [1.0, 1.0]
    r = maximize(net, lo, up)
    p = prove_bound(net, lo, up, r.bound + 0.1)
    assert isinstance(p, ProofResult) and p.status == "proven"
    p = prove_bound(net, lo, up, r.value - 0.1)
    assert p.status == "counterexample" and evaluate(net, p.witness[None])[0] > r.value - 0.1
    q = minimize(net, lo, up)
    p = prove_bound(net, lo, up, q.bound - 0.1, sense=">=")
    assert p.status == "proven" and p.bound >= q.bound - 0.1
    p = prove_bound(net, lo, up, q.value + 0.1, sense=">=", method="milp")
    assert p.status == "counterexample"
    p = prove_bound(net, lo, up, r.value, max_boxes=1)
    assert p.status in ("undecided", "proven")
    assert p.to_frame().shape[0] == 1


def test_local_robustness_matches_sampling():
    net = make_net(10, 2, [8], "relu", n_out=3)
    x0 = np.array([0.3, -0.4])
    small = local_robustness(net, x0, 1e-4)
    assert isinstance(small, RobustnessResult) and small.robust is True
    pred = int(np.argmax(evaluate(net, x0[None])[0]))
    assert small.predicted == pred
    big = local_robustness(net, x0, 5.0)
    assert big.robust is False
    y = evaluate(net, big.counterexample[None])[0]
    assert y[pred] - np.delete(y, pred).max() <= 0
    assert np.abs(big.counterexample - x0).max() <= 5.0
    assert big.to_frame().shape == (2, 3)
    mid = local_robustness(net, x0, 0.05, method="milp")
    ys = evaluate(net, samples(x0 - 0.05, x0 + 0.05, n=2000))
    margins = ys[:, pred] - np.delete(ys, pred, axis=1).max(axis=1)
    assert (mid.robust is True) == bool((margins > 0).all()) or mid.robust is None
    for j in range(3):
        if j != pred:
            assert mid.margin_bounds[j] <= (ys[:, pred] - ys[:, j]).min()
    with pytest.raises(ValueError, match="`norm` must be one of"):
        local_robustness(net, x0, 0.1, norm=2)
    with pytest.raises(ValueError, match="`eps` must be non-negative"):
        local_robustness(net, x0, -0.1)


def test_result_is_frozen_and_tabulates():
    net = make_net(11, 2, [4], "relu")
    r = maximize(net, [-1.0, -1.0], [1.0, 1.0])
    assert isinstance(r, VerificationResult)
    with pytest.raises(AttributeError):
        r.value = 0.0
    frame = r.to_frame()
    assert frame.shape[0] == 1 and frame["status"][0] == r.status


def test_bad_inputs_name_the_argument():
    net = make_net(12, 2, [4], "relu")
    ok = ([-1.0, -1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="`lower` must not exceed `upper`"):
        maximize(net, [1.0, 0.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="`upper` must be finite"):
        maximize(net, [0.0, 0.0], [np.inf, 1.0])
    with pytest.raises(ValueError, match="`lower` must have 2 entries"):
        maximize(net, [0.0, 0.0, 0.0], [1.0, 1.0])
    with pytest.raises(TypeError, match="`net` contains Tanh"):
        maximize(nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1)), *ok)
    with pytest.raises(TypeError, match=r"`net` must be a torch\.nn\.Sequential"):
        maximize(nn.Linear(2, 1), *ok)
    with pytest.raises(ValueError, match="`method` must be one of"):
        maximize(net, *ok, method="exact")
    with pytest.raises(ValueError, match="`method='spline'` needs a net with one input"):
        maximize(net, *ok, method="spline")
    with pytest.raises(ValueError, match="`tighten` must be one of"):
        maximize(net, *ok, tighten="exact")
    with pytest.raises(ValueError, match="`time_limit` must be positive"):
        maximize(net, *ok, time_limit=0)
    with pytest.raises(TypeError, match="`max_boxes` must be an integer"):
        maximize(net, *ok, max_boxes=1.5)
    with pytest.raises(ValueError, match="`sense` must be one of"):
        prove_bound(net, *ok, 0.0, sense="<")


@pytest.mark.parametrize(
    ("seed", "act", "widths"), [(1527, "leaky2", [3, 2, 8, 5]), (1546, "leaky", [6, 4, 6])]
)
def test_milp_stays_sound_on_badly_scaled_nets(seed, act, widths):
    """Weights ~1e3 over 3-4 layers: HiGHS's dual bound has come out below sampled values."""
    rng = np.random.default_rng(seed)
    n_in = 1 + seed % 4
    rng.integers(2, 10, size=1 + seed % 4)
    net = make_net(seed, n_in, widths, act, scale=1e3, adversarial=seed % 2 == 0)
    lo = rng.uniform(-2, 0, n_in)
    up = lo + rng.uniform(0.0, 2, n_in)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SolverInconsistencyWarning)
        r = maximize(net, lo, up, method="milp", time_limit=5.0)
        check_sound(net, lo, up, r)
        r = minimize(net, lo, up, method="milp", time_limit=5.0)
        check_sound(net, lo, up, r, sense="min")


@pytest.mark.parametrize(("m", "n", "k"), [(5, 3, 1), (7, 4, 3), (1, 1, 5), (3, 2, 4)])
def test_lp_batches_repeat_their_block_like_scipy_block_diag(m, n, k):
    from scipy import sparse

    from pwlmodels.verify import _lp

    a = np.random.default_rng(m * n * k).normal(size=(m, n))
    a[a < 0.3] = 0.0  # some zeros, and for (3, 2, 4) maybe none left
    block = sparse.csr_array(a)
    got = _lp._repeat_block(block, k)
    want = sparse.block_diag([block] * k, format="csr")
    assert got.shape == want.shape == (k * m, k * n)
    np.testing.assert_array_equal(got.toarray(), want.toarray())


@pytest.mark.parametrize("seed", [7, 12, 13])
def test_milp_is_sound_where_tight_highs_tolerances_were_not(seed):
    """Default-initialised 2-32-32-1 nets on which HiGHS at tolerances of 1e-9 claimed an
    optimum 0.04-0.09 below the true maximum (its root cuts cut it off)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())
        net.append(nn.Linear(32, 1))
    box = [-1.0, -1.0], [1.0, 1.0]
    truth = maximize(net, *box, method="bab", atol=1e-10, rtol=1e-13)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SolverInconsistencyWarning)
        r = maximize(net, *box, method="milp", tighten="lp")
    assert r.status == "optimal"
    assert r.bound >= truth.value and truth.bound >= r.value


@pytest.mark.parametrize(("act", "sign"), [("relu", -1.0), ("leaky", -1.0), ("leaky2", 1.0)])
def test_milp_needs_no_binary_where_the_objective_pushes_onto_the_kink(act, sign):
    """A last-layer unit that only feeds the objective, convex with a negative coefficient
    (concave with a positive one), is exact from its two lines: only the first layer's
    unstable units (exact interval bounds: the pre-activations are affine) get binaries."""
    net = make_net(3, 2, [8, 8], act)
    with torch.no_grad():
        net[-1].weight.copy_(sign * net[-1].weight.abs())
    lo, up = np.array([-1.0, -2.0]), np.array([1.0, 0.5])
    w, b = net[0].weight.detach().numpy(), net[0].bias.detach().numpy()
    centre, radius = w @ (lo + up) / 2 + b, np.abs(w) @ (up - lo) / 2
    unstable = int(((centre - radius < 0) & (centre + radius > 0)).sum())
    truth = maximize(net, lo, up, method="bab", atol=1e-10, rtol=1e-13)
    r = maximize(net, lo, up, method="milp", tighten="lp", atol=MILP_ATOL)
    assert r.n_binary == unstable > 0
    assert r.status == "optimal"
    assert r.bound >= truth.value and truth.bound >= r.value
    check_sound(net, lo, up, r)
    # minimising pushes the other way: the last layer's unstable units need binaries again
    assert minimize(net, lo, up, method="milp", tighten="lp").n_binary > unstable


def test_prove_bound_at_the_exact_maximum_is_undecided_not_endless():
    net = nn.Sequential(nn.Linear(2, 1), nn.Hardtanh())
    with torch.no_grad():  # saturated on part of the box: the maximum is exactly 1
        net[0].weight.copy_(torch.tensor([[0.3, -0.2]]))
        net[0].bias.fill_(0.1)
    p = prove_bound(net, [-5.0, -5.0], [5.0, 5.0], 1.0, method="bab")
    assert p.status in ("undecided", "proven")
    assert p.value <= 1.0 <= p.bound
    p = prove_bound(net, [-5.0, -5.0], [5.0, 5.0], 1.0 + 1e-6)
    assert p.status == "proven"
