"""Regressions from an attack on the control certificates (issue 21): each test is a
case that once gave a wrong "invariant", "converges", margin or a bad error, checked
against an independent computation (closed form, Fraction arithmetic, simulation)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from applications.control import invariance


def linear_net(k: float, c: float = 0.0) -> nn.Sequential:
    """The controller ``u = k x + c`` of one state, as a one-layer network."""
    net = nn.Sequential(nn.Linear(1, 1, dtype=torch.float64))
    with torch.no_grad():
        net[0].weight.fill_(k)
        net[0].bias.fill_(c)
    return net


INTERVAL = np.array([[1.0], [-1.0]])


@pytest.mark.parametrize("half_width", [1e3, 1.0, 1e-3, 1e-6])
def test_a_loop_that_grows_5_percent_is_not_invariant_at_any_scale(half_width):
    # x+ = x + 0.05 x = 1.05 x: every |x| <= w but 0 leaves [-w, w]; the tolerance was
    # absolute (1e-7 (1 + |P_b|)), so at w = 1e-6 the 5e-8 violation was "invariant"
    r = invariance([[1.0]], [[1.0]], linear_net(0.05), INTERVAL, [half_width] * 2)
    assert r.verdict == "not invariant"
    np.testing.assert_allclose(r.margins, -0.05 * half_width, rtol=1e-9)
    assert abs(1.05 * r.witness[0]) > half_width >= abs(r.witness[0])


@pytest.mark.parametrize("half_width", [1e3, 1e-6])
def test_a_contracting_loop_is_invariant_at_any_scale(half_width):
    r = invariance([[1.0]], [[1.0]], linear_net(-0.5), INTERVAL, [half_width] * 2)
    assert r.verdict == "invariant"
    np.testing.assert_allclose(r.margins, 0.5 * half_width, rtol=1e-9)
    np.testing.assert_allclose(r.tol, 1e-7 * 2 * half_width, rtol=1e-9)
