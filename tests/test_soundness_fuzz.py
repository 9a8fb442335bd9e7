"""Soundness fuzz: no method may certify a bound that a point of the box beats.

Random networks with 2 to 6 inputs, widths 4 to 64, weights scaled layer by
layer by 1e-3 to 1e3, dead and duplicate units, boxes from [-0.06, 0.06] to
[-60, 60], every method. Each result is attacked with 10^5 samples, the box's
vertices and projected gradient ascent from the best of them; a point that
beats the bound in float64 is then checked in exact rational arithmetic
(``fractions.Fraction``, the network's float64 parameters taken exactly), so
rounding in the check can neither hide a violation nor invent one.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
import torch
from torch import nn

from pwlmodels.verify import maximize, minimize, prove_bound

from ._helpers import exact_value

N_MILP = 300  # MILP problems (about 60 s in all on 2 cores)
N_OTHER = 120  # problems for branch and bound and "auto", on wider nets


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


ACTS = (nn.ReLU, lambda: nn.LeakyReLU(0.1), lambda: nn.Hardtanh(-0.5, 0.7), nn.ReLU)


def fuzz_net(seed: int, *, max_width: int) -> tuple:
    """A random float64 net and box, scaled and made degenerate by the seed."""
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    n_in = int(rng.integers(2, 7))
    depth = int(rng.integers(1, 3))
    widths = [int(rng.integers(4, max_width + 1)) for _ in range(depth)]
    act = ACTS[seed % len(ACTS)]
    layers: list = []
    for k, (a, b) in enumerate(itertools.pairwise([n_in, *widths, 1])):
        lin = nn.Linear(a, b, dtype=torch.float64)
        scale = float(10.0 ** rng.choice([-3, 0, 3])) if rng.random() < 0.6 else 1.0
        with torch.no_grad():
            lin.weight.copy_(torch.randn(b, a, generator=gen, dtype=torch.float64) * scale)
            lin.bias.copy_(torch.randn(b, generator=gen, dtype=torch.float64) * scale)
            if b >= 4 and seed % 3 == 0:
                lin.weight[1] = lin.weight[0]  # a duplicate unit
                lin.bias[1] = lin.bias[0]
                lin.weight[2] = 0.0  # a dead (constant) unit
                lin.bias[2] = -abs(float(lin.bias[2])) - 1.0
        layers.append(lin)
        if k < len(widths):
            layers.append(act().to(torch.float64))
    half = float(rng.choice([0.06, 1.0, 60.0]))
    centre = rng.uniform(-1, 1, n_in) * half * 0.2
    return nn.Sequential(*layers), centre - half, centre + half


def attack_points(net: nn.Sequential, lo: np.ndarray, up: np.ndarray, sign: float, seed: int):
    """10^5 samples, the vertices and 40 steps of projected gradient ascent on sign * net."""
    gen = torch.Generator().manual_seed(seed)
    tlo, tup = torch.as_tensor(lo), torch.as_tensor(up)
    x = tlo + (tup - tlo) * torch.rand(100_000, lo.size, generator=gen, dtype=torch.float64)
    corners = torch.tensor(list(itertools.product([0.0, 1.0], repeat=lo.size)), dtype=x.dtype)
    x = torch.cat([x, tlo + (tup - tlo) * corners])
    with torch.no_grad():
        y = sign * net(x)[:, 0]
    start = x[torch.topk(y, 16).indices].clone().requires_grad_(True)
    step = (tup - tlo) / 8
    pts = [x]
    for _ in range(40):
        g = torch.autograd.grad((sign * net(start)[:, 0]).sum(), start)[0]
        with torch.no_grad():
            start = torch.clamp(start + step * torch.sign(g), tlo, tup)
        start.requires_grad_(True)
        pts.append(start.detach())
        step = step * 0.8
    return torch.cat(pts)


def assert_no_violation(net, lo, up, bound: float, sign: float, seed: int, what: str) -> None:
    """No point beats ``bound`` (an upper bound of sign * net) in exact arithmetic."""
    pts = attack_points(net, lo, up, sign, seed)
    with torch.no_grad():
        y = sign * net(pts)[:, 0]
    near = torch.nonzero(y >= bound - 1e-9 * (1.0 + abs(bound))).flatten()
    for i in near[torch.argsort(y[near], descending=True)][:20].tolist():
        x = pts[i].numpy()
        value = sign * exact_value(net, x)
        assert value <= Fraction(bound), (
            f"{what}: net(x) = {float(value)!s} beats the bound {bound!s} at x = {x.tolist()}"
        )


MILP_CASES = [(seed, ("crown", "lp", "interval")[seed % 3]) for seed in range(N_MILP)]


@pytest.mark.parametrize(("seed", "tighten"), MILP_CASES)
def test_milp_bounds_are_sound_in_exact_arithmetic(seed, tighten):
    net, lo, up = fuzz_net(seed, max_width=16)
    if seed % 2:
        r = maximize(net, lo, up, method="milp", tighten=tighten, max_boxes=2000, time_limit=2.0)
        assert_no_violation(net, lo, up, r.bound, 1.0, seed, f"milp/{tighten} max")
    else:
        r = minimize(net, lo, up, method="milp", tighten=tighten, max_boxes=2000, time_limit=2.0)
        assert_no_violation(net, lo, up, -r.bound, -1.0, seed, f"milp/{tighten} min")
    assert r.status in ("optimal", "node_limit", "time_limit", "precision_limit")
    assert np.isfinite([r.value, r.bound, r.gap]).all() and r.gap >= 0


@pytest.mark.parametrize("seed", range(N_OTHER))
def test_bab_and_auto_bounds_are_sound_in_exact_arithmetic(seed):
    net, lo, up = fuzz_net(10_000 + seed, max_width=64)
    method = ("bab", "auto")[seed % 2]
    r = maximize(net, lo, up, method=method, max_boxes=5000, time_limit=0.5)
    assert_no_violation(net, lo, up, r.bound, 1.0, seed, f"{method} max")


@pytest.mark.parametrize("seed", range(0, N_MILP, 5))
def test_proven_claims_hold_in_exact_arithmetic(seed):
    """prove_bound says "proven" only for thresholds no point exceeds."""
    net, lo, up = fuzz_net(seed, max_width=16)
    r = maximize(net, lo, up, method="bab", max_boxes=2000, time_limit=2.0)
    for method in ("milp", "bab", "auto"):
        for t in (r.value + 1e-9 * (1.0 + abs(r.value)), (r.value + r.bound) / 2, r.bound):
            p = prove_bound(net, lo, up, t, method=method, max_boxes=2000, time_limit=0.5)
            if p.status == "proven":
                assert_no_violation(net, lo, up, t, 1.0, seed, f"prove_bound/{method}")
            elif p.status == "counterexample":
                assert exact_value(net, p.witness) > Fraction(t)


def test_the_reported_reproducer_is_no_longer_certified():
    """Issue 18's seed 316: HiGHS's dual bound is 8.4e-7 below a real point's value."""
    torch.manual_seed(316)
    net = nn.Sequential(
        nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 1)
    ).double()
    with torch.no_grad():
        net[0].weight.mul_(1e-3)
        net[0].bias.mul_(1e-3)
    lo, up = np.full(3, -60.0), np.full(3, 60.0)
    x = np.array([-0.4169748559813292, -1.3583521897802173, -1.1923810164279978])
    truth = exact_value(net, x)
    r = maximize(net, lo, up, method="milp")
    assert Fraction(r.bound) >= truth
    assert_no_violation(net, lo, up, r.bound, 1.0, 316, "milp")
    p = prove_bound(net, lo, up, 0.1151950, method="milp")
    assert p.status == "counterexample" and exact_value(net, p.witness) > Fraction(0.1151950)
