"""Attacks on the CROWN backward pass at subnormal / tiny scales (found attacking ab1ef12;
the failure below predates it: ab1ef12^ gives the same bounds)."""

from fractions import Fraction

import numpy as np
import pytest
import torch
from torch import nn

from pwlmodels import maximize, prove_bound
from tests._helpers import exact_value


def hardtanh_net(w_in: float, lo: float, hi: float, w_out: float) -> nn.Sequential:
    net = nn.Sequential(nn.Linear(1, 1), nn.Hardtanh(lo, hi), nn.Linear(1, 1)).double()
    with torch.no_grad():
        net[0].weight.fill_(w_in)
        net[2].weight.fill_(w_out)
        net[0].bias.zero_()
        net[2].bias.zero_()
    return net


@pytest.mark.parametrize("method", ["bab"])  # "auto" picks the spline, which refuses
def test_hardtanh_chord_slope_that_underflows_gets_no_false_bound(method):
    # Both kinks of Hardtanh(-1e-300, 1e-300) inside [-1e150, 1e150]: the upper line's
    # slope (b - a) / (b - lo) = 2e-300 / 1e150 underflows to 0, leaving the constant
    # line a = -1e-300 below hardtanh(b) = 1e-300 by 2e-300, far more than the 4 * 2^-1074
    # intercept margin; the output weight 1e300 makes that 2. f(1) = 1 exactly (near).
    net = hardtanh_net(1e150, -1e-300, 1e-300, 1e300)
    attained = exact_value(net, np.array([1.0]))
    assert attained > Fraction(1, 2)
    r = maximize(net, [-1.0], [1.0], method=method)
    assert Fraction(r.bound) >= attained
    assert prove_bound(net, [-1.0], [1.0], 0.5, method=method).status != "proven"


@pytest.mark.parametrize("method", ["bab", "auto"])
def test_nan_intermediate_bounds_do_not_kill_a_unit(method):
    # x1 in [-2^-1074, 2^-1074] (center 0) with weight 1e300, then 1e150: the backward
    # coefficient on x1 overflows to -inf and times the center 0 gives NaN. The NaN
    # pre-activation bounds of the second ReLU make _lines treat it as dead (slopes 0),
    # so bab certifies max ~1.8e-15 and proves f <= 0.05, though f(0, 0.3) = 0.1.
    net = nn.Sequential(
        nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1), nn.ReLU(), nn.Linear(1, 1)
    ).double()
    with torch.no_grad():
        net[0].weight.copy_(
            torch.tensor([[1e300, 0.0], [0.0, 1.0], [0.0, -1.0]], dtype=torch.float64)
        )
        net[0].bias.copy_(torch.tensor([0.0, -0.3, 0.3], dtype=torch.float64))
        net[2].weight.copy_(torch.tensor([[-1e150, -1.0, -1.0]], dtype=torch.float64))
        net[2].bias.fill_(0.1)
        net[4].weight.fill_(1.0)
        net[4].bias.zero_()
    eta = 2.0**-1074
    lo, up = [-eta, 0.0], [eta, 1.0]
    attained = exact_value(net, np.array([0.0, 0.3]))
    assert attained > Fraction(1, 20)
    r = maximize(net, lo, up, method=method)
    assert r.bound == np.inf or Fraction(r.bound) >= attained  # +inf: the overflow, read soundly
    assert prove_bound(net, lo, up, 0.05, method=method).status != "proven"
