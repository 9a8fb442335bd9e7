"""Verification refuses what it cannot bound, and never trusts the MILP solver's word."""

from __future__ import annotations

import os
from fractions import Fraction

import numpy as np
import pytest
import torch
from torch import nn

from pwlmodels.verify import _bounds as bd
from pwlmodels.verify import (
    _milp,
    dead_units_on_box,
    local_robustness,
    maximize,
    minimize,
    prove_bound,
    prune,
)

from ._helpers import exact_value


def small_net(seed: int = 0, scale: float = 1.0) -> nn.Sequential:
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1)).double()
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(scale)
    return net


HUGE = ([-1e308, -1e308], [1e308, 1e308])


@pytest.mark.parametrize(
    "call",
    [
        lambda net, lo, up: maximize(net, lo, up, method="bab"),
        lambda net, lo, up: maximize(net, lo, up, method="milp"),
        lambda net, lo, up: minimize(net, lo, up),
        lambda net, lo, up: prove_bound(net, lo, up, 1.0),
        lambda net, lo, up: prune(net, lo, up),
        lambda net, lo, up: dead_units_on_box(net, lo, up),
    ],
)
def test_a_box_that_overflows_float64_is_refused(call):
    with pytest.raises(ValueError, match=r"the box overflows float64.*lower\[0\] = -1e\+308"):
        call(small_net(), *HUGE)


def test_a_box_whose_midpoint_overflows_is_refused():
    with pytest.raises(ValueError, match="the box overflows float64"):
        maximize(small_net(), [1e308, 0.0], [1e308, 1.0])


def test_weights_whose_bounds_overflow_are_refused():
    net = small_net(scale=1e300)
    with pytest.raises(ValueError, match=r"overflow float64 .*affine layer 0 exceed 1e300"):
        maximize(net, [-1.0, -1.0], [1.0, 1.0], method="bab")


def test_local_robustness_refuses_an_overflowing_ball():
    net = nn.Sequential(nn.Linear(2, 2)).double()
    with pytest.raises(ValueError, match=r"`x0` \+- `eps` overflows float64"):
        local_robustness(net, [1e308, 0.0], 1e308)


def test_nan_bounds_never_drop_a_box():
    """Past the checks, a NaN bound is read as +inf: never 'optimal' from dropped boxes."""
    net = small_net()
    from pwlmodels.verify._problem import make_problem

    chain = make_problem(net, [-1.0, -1.0], [1.0, 1.0]).chain
    c = torch.ones(1, dtype=torch.float64)
    lo = torch.tensor([[-1e308, -1e308]], dtype=torch.float64)
    up = torch.tensor([[1e308, 1e308]], dtype=torch.float64)
    ub, _, _ = bd.objective_upper(chain, c, lo, up)
    assert not torch.isnan(ub).any()
    out = bd.branch_and_bound(chain, c, lo[0].numpy(), up[0].numpy(), 1e-7, 0.0, None, 50)
    assert out["status"] != "optimal" and out["bound"] == np.inf


def test_the_milp_answer_is_confirmed_not_trusted():
    """The bound is branch and bound's; HiGHS's dual bound is kept apart as solver_bound."""
    torch.manual_seed(3)
    net = nn.Sequential(
        nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1)
    ).double()
    r = maximize(net, [-1.0, -1.0], [1.0, 1.0], method="milp")
    assert r.status == "optimal" and r.n_binary > 0 and r.solver_bound is not None
    rb = maximize(net, [-1.0, -1.0], [1.0, 1.0], method="bab")
    assert abs(r.value - rb.value) <= 2e-7
    flipped = minimize(net, [-1.0, -1.0], [1.0, 1.0], method="milp")
    assert flipped.solver_bound is not None and flipped.solver_bound <= flipped.value + 1e-6


def test_flat_hardtanh_maxima_are_certified_by_phase_splits():
    """Input halving alone stalls on flat maxima; splitting on phases closes them exactly."""
    gen = torch.Generator().manual_seed(1)
    layers = []
    for a, b in ((2, 8), (8, 8)):
        lin = nn.Linear(a, b, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.randn(b, a, generator=gen, dtype=torch.float64))
            lin.bias.copy_(torch.randn(b, generator=gen, dtype=torch.float64))
        layers += [lin, nn.Hardtanh(-0.5, 0.7)]
    last = nn.Linear(8, 1, dtype=torch.float64)
    with torch.no_grad():
        last.weight.copy_(torch.randn(1, 8, generator=gen, dtype=torch.float64))
        last.bias.zero_()
    net = nn.Sequential(*layers, last)
    lo, up = [-1.0, -2.0], [1.0, 0.5]
    stalled = maximize(net, lo, up, method="bab", atol=1e-7, max_boxes=20_000)
    assert stalled.status == "node_limit"
    r = maximize(net, lo, up, method="milp", atol=1e-7)
    assert r.status == "optimal" and r.gap <= 1e-7
    assert r.bound >= stalled.value and stalled.bound >= r.value


def test_highs_stray_stdout_line_does_not_reach_the_terminal(capfd):
    with _milp._quiet_stdout():
        os.write(1, b"HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();\n")
    print("after", flush=True)
    out = capfd.readouterr().out
    assert "HighsMipSolverData" not in out and "after" in out


def cancelling_net(relu: bool) -> nn.Sequential:
    """f(x) = x (x + 1e20 x - 1e20 x) on [0, 1]; float64 products and sums cancel it to 0."""
    mid = [nn.ReLU()] if relu else []
    net = nn.Sequential(nn.Linear(1, 3), *mid, nn.Linear(3, 1)).double()
    with torch.no_grad():
        net[0].weight.fill_(1.0)
        net[0].bias.zero_()
        net[-1].weight.copy_(torch.tensor([[1.0, 1e20, -1e20]]))
        net[-1].bias.zero_()
    return net


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("method", ["spline", "bab", "milp", "auto"])
def test_weights_that_cancel_in_float64_get_no_false_bound(relu, method):
    # Multiplying the two Linear layers in float64 (or reading the spline off in float64)
    # gives the function 0, and used to certify max = 0 while the real f(1) = 1.
    net = cancelling_net(relu)
    assert exact_value(net, np.array([1.0])) == 1
    r = maximize(net, [0.0], [1.0], method=method)
    assert Fraction(r.bound) >= 1, (r.status, r.bound)
    assert prove_bound(net, [0.0], [1.0], 0.5, method=method).status != "proven"


def test_cancelling_layers_stay_apart_in_pruned_nets():
    small = prune(cancelling_net(False), [0.0], [1.0])
    assert [type(m).__name__ for m in small] == ["Linear", "Identity", "Linear"]
    assert dead_units_on_box(cancelling_net(False), [0.0], [1.0]) == []


def test_a_float64_excess_within_rounding_is_no_counterexample():
    # At this point the float64 forward pass rounds net(x) up past t, while in exact
    # arithmetic net(x) <= t: "counterexample" would be a false claim.
    torch.manual_seed(21)
    net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1)).double()
    x = [0.6214189388681041, 0.261950854922557]
    t = -0.09384056899060282
    with torch.no_grad():
        assert float(net(torch.tensor([x], dtype=torch.float64))) > t
    assert exact_value(net, np.array(x)) <= Fraction(t)
    r = prove_bound(net, x, x, t)
    assert r.status == "undecided"
    assert prove_bound(net, x, x, t - 1e-12).status == "counterexample"


def test_a_float64_tie_is_no_robustness_counterexample():
    # Both logits read 0.474... in float64 at x0, but in exact arithmetic the first is
    # larger: the ball {x0} keeps the prediction, so "not robust" would be false.
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2)).double()
    x0 = np.array([0.9996994985377804, 0.8927302803043414])
    with torch.no_grad():
        net[2].weight[1].zero_()
        net[2].bias[1] = float(net(torch.tensor(x0[None]))[0, 0])
    assert exact_value(net, x0, 0) > exact_value(net, x0, 1)
    r = local_robustness(net, x0, 0.0)
    assert r.predicted == 0 and r.margin_values[1] <= 0
    assert r.robust is None and r.counterexample is None


def chain_of_scalars(weights: list) -> nn.Sequential:
    net = nn.Sequential(*[nn.Linear(1, 1).double() for _ in weights])
    with torch.no_grad():
        for layer, w in zip(net, weights, strict=True):
            layer.weight.fill_(w)
            layer.bias.zero_()
    return net


@pytest.mark.parametrize("method", ["spline", "bab", "milp", "auto"])
def test_products_that_underflow_and_grow_back_get_no_false_bound(method):
    # 1e-165 * 1e-165 underflows to 0 in the backward pass; two factors 1e250 later it
    # would be 1e-160 again. An absolute margin added once (1e-290) missed it: every
    # method certified max 1e-290 and proved f <= 1e-200 although f(1) = 1e-160.
    net = chain_of_scalars([1e-165, 1e-165, 1e250, 1e250, 1e-165, 1e-165])
    r = maximize(net, [0.0], [1.0], method=method)
    assert Fraction(r.bound) >= exact_value(net, np.array([1.0]))
    assert prove_bound(net, [0.0], [1.0], 1e-200, method=method).status != "proven"


@pytest.mark.parametrize("method", ["spline", "bab", "milp", "auto"])
def test_a_term_lost_to_underflow_makes_no_counterexample(method):
    # f(x) = (1e-170 - 1e-160) x <= 0 on [0, 1]; the float64 pass loses the -1e-160 term.
    rows = [[[1.0], [1e-165]], *([[1.0, 0.0], [0.0, s]] for s in (1e-165, 1e250, 1e250, 1e-165))]
    layers = []
    for w in [*rows, [[1e-170, -1e-165]]]:
        w = torch.tensor(w, dtype=torch.float64)
        layer = nn.Linear(w.shape[1], w.shape[0], bias=False).double()
        with torch.no_grad():
            layer.weight.copy_(w)
        layers.append(layer)
    net = nn.Sequential(*layers)
    assert exact_value(net, np.array([1.0])) < 0
    assert prove_bound(net, [0.0], [1.0], 0.0, method=method).status != "counterexample"


def test_a_margin_lost_to_underflow_makes_no_robustness_certificate():
    # The margin at x = 0.1 is -1e-201 in exact arithmetic: not robust on the ball.
    net = nn.Sequential(nn.Linear(1, 1), nn.Linear(1, 1), nn.Linear(1, 2)).double()
    with torch.no_grad():
        net[0].weight.fill_(1e200)
        net[1].weight.fill_(1e-200)
        net[2].weight.copy_(torch.tensor([[-1e-200], [0.0]], dtype=torch.float64))
        net[2].bias.copy_(torch.tensor([1e-280, 0.0], dtype=torch.float64))
        net[0].bias.zero_()
        net[1].bias.zero_()
    x = np.array([0.1])
    assert exact_value(net, x, 0) < exact_value(net, x, 1)
    assert local_robustness(net, [-0.5], 0.6).robust is not True


def test_pre_activations_whose_width_overflows_are_refused():
    # Bounds +-1e308 are finite but their width is not: relu's chord became "relu <= 0".
    net = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 1)).double()
    with torch.no_grad():
        net[0].weight.fill_(1e308)
        net[0].bias.zero_()
    with pytest.raises(ValueError, match=r"exceed 1e300 in magnitude"):
        maximize(net, [-1.0], [1.0], method="bab")


@pytest.mark.parametrize("method", ["spline", "bab", "milp", "auto"])
def test_a_subnormal_box_is_not_shrunk_by_halving(method):
    # Halving [0, 5 * 2^-1074] rounds its center and radius to 2 * 2^-1074, which drops
    # the top of the box; a hat of height P at 4.5 * 2^-1074 was certified below P.
    eta, w = 2.0**-1074, 1e300
    peak = float(Fraction(9, 2) * Fraction(eta) * Fraction(w))
    net = nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1)).double()
    with torch.no_grad():
        net[0].weight.fill_(w)
        net[0].bias.copy_(torch.tensor([0.0, -peak], dtype=torch.float64))
        net[2].weight.copy_(torch.tensor([[1.0, -2.0]], dtype=torch.float64))
        net[2].bias.zero_()
    x_star = Fraction(peak) / Fraction(w)  # in the box [0, 5 eta], not a float64
    truth = x_star * Fraction(w) - 2 * max(x_star * Fraction(w) - Fraction(peak), Fraction(0))
    r = maximize(net, [0.0], [5 * eta], method=method)
    assert Fraction(r.bound) >= truth
    assert prove_bound(net, [0.0], [5 * eta], 2.1e-23, method=method).status != "proven"
