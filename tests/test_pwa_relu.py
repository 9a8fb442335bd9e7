"""pwa_to_relu and pwa_rounding_bound: exact networks for PiecewiseAffine functions."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.interpolate import LinearNDInterpolator
from torch import nn

from pwlmodels import (
    PiecewiseAffine,
    PiecewiseLinear,
    evaluate,
    pwa_rounding_bound,
    pwa_to_relu,
)
from pwlmodels._pwa_lattice import lattice


def _data(d: int, n: int, seed: int, m: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    corners = np.array(np.meshgrid(*[[0.0, 1.0]] * d)).reshape(d, -1).T
    pts = np.vstack([corners, rng.random((n, d))])
    return pts, rng.normal(size=(len(pts), m) if m > 1 else len(pts))


def _triangulated(d: int, n: int, seed: int, m: int = 1) -> PiecewiseAffine:
    return PiecewiseAffine.from_triangulation(*_data(d, n, seed, m))


def _saturated_law() -> PiecewiseAffine:
    """max(-1, min(1, k . x)) on [-1, 1]^2, as its three regions."""
    k = np.array([2.0, 1.0])
    box_A = np.vstack([np.eye(2), -np.eye(2)])
    box_b = np.ones(4)
    regions = [
        (np.vstack([box_A, k]), np.r_[box_b, -1.0], np.zeros(2), -1.0),
        (np.vstack([box_A, -k, k]), np.r_[box_b, 1.0, 1.0], k, 0.0),
        (np.vstack([box_A, -k]), np.r_[box_b, -1.0], np.zeros(2), 1.0),
    ]
    return PiecewiseAffine.from_regions(regions)


def _hidden_layers(net: nn.Sequential) -> int:
    return sum(isinstance(layer, nn.ReLU) for layer in net)


@pytest.mark.parametrize(("d", "n"), [(1, 8), (2, 25), (3, 12), (4, 3)])
def test_network_equals_the_interpolant_and_scipy_within_the_bound(d, n):
    pts, values = _data(d, n, seed=d)
    f = PiecewiseAffine.from_triangulation(pts, values)
    net = pwa_to_relu(f)
    x = np.random.default_rng(10 + d).random((4000, d))
    bound = pwa_rounding_bound(f, net)
    got = evaluate(net, x).reshape(-1)
    assert np.max(np.abs(got - f(x))) <= bound
    assert bound < 1e-10 * (1 + np.max(np.abs(f(x))))
    if d >= 2:
        ref = LinearNDInterpolator(pts, values)(x)
        np.testing.assert_allclose(got, ref, rtol=0, atol=bound + 1e-12)


def test_network_has_only_linear_and_relu_layers_in_the_asked_dtype():
    f = _triangulated(2, 10, seed=0)
    for dtype in (torch.float64, torch.float32):
        net = pwa_to_relu(f, dtype=dtype)
        assert {type(layer) for layer in net} == {nn.Linear, nn.ReLU}
        assert all(p.dtype == dtype for p in net.parameters())
        assert isinstance(net[0], nn.Linear) and isinstance(net[-1], nn.Linear)


def test_depth_is_the_documented_tree_depth_and_at_least_arora():
    f = _triangulated(2, 20, seed=3)
    net = pwa_to_relu(f)
    lat = lattice(f, 0)
    widest = max(len(t) for t in lat.terms)
    want = max(1, math.ceil(math.log2(widest)) + math.ceil(math.log2(len(lat.terms))))
    assert _hidden_layers(net) == want
    assert _hidden_layers(net) >= math.ceil(math.log2(f.n_inputs + 1))


def test_several_outputs_each_equal_their_interpolant():
    f = _triangulated(2, 15, seed=4, m=3)
    net = pwa_to_relu(f)
    x = np.random.default_rng(5).random((3000, 2))
    got = evaluate(net, x)
    assert got.shape == (3000, 3)
    assert np.max(np.abs(got - f(x))) <= pwa_rounding_bound(f, net)


def test_saturated_linear_law_from_regions_is_exact():
    f = _saturated_law()
    net = pwa_to_relu(f)
    x = np.random.default_rng(6).uniform(-1, 1, (5000, 2))
    want = np.clip(x @ np.array([2.0, 1.0]), -1.0, 1.0)
    bound = pwa_rounding_bound(f, net)
    assert np.max(np.abs(evaluate(net, x) - want)) <= bound < 1e-13
    assert _hidden_layers(net) == 2  # max of two terms of at most two pieces


def test_from_spline_is_exact_with_one_hidden_layer_for_a_hat():
    g = PiecewiseLinear([0.0, 1.0, 2.0], [0.0, 1.0, 0.0])
    f = PiecewiseAffine.from_spline(g, -1.0, 3.0)
    net = pwa_to_relu(f)
    x = np.linspace(-1.0, 3.0, 801)
    assert np.max(np.abs(evaluate(net, x) - g(x))) <= pwa_rounding_bound(f, net)


def _exact_forward(net: nn.Sequential, x: np.ndarray) -> list[Fraction]:
    h = [Fraction(float(v)) for v in x]
    for layer in net:
        if isinstance(layer, nn.Linear):
            W = layer.weight.detach().double().numpy()
            b = layer.bias.detach().double().numpy()
            h = [
                sum(
                    (Fraction(float(w)) * v for w, v in zip(row, h, strict=True) if w),
                    Fraction(float(bi)),
                )
                for row, bi in zip(W, b, strict=True)
            ]
        else:
            h = [max(v, Fraction(0)) for v in h]
    return h


def _exact_f(f: PiecewiseAffine, x: np.ndarray) -> Fraction:
    K, c = f.maps
    region = next(i for i, r in enumerate(f.regions) if r.contains(x, tol=0.0))
    return sum(
        (Fraction(float(k)) * Fraction(float(v)) for k, v in zip(K[region, 0], x, strict=True)),
        Fraction(float(c[region, 0])),
    )


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_bound_holds_against_exact_rational_arithmetic(dtype):
    f = _triangulated(2, 6, seed=7)
    net = pwa_to_relu(f, dtype=dtype)
    bound = pwa_rounding_bound(f, net)
    rng = np.random.default_rng(8)
    x = rng.random((12, 2))
    if dtype == torch.float32:
        x = x.astype(np.float32).astype(np.float64)  # points the network sees exactly
    got = evaluate(net, x)
    worst = 0.0
    for xi, gi in zip(x, got, strict=True):
        exact_net = _exact_forward(net, xi)[0]
        exact_f = _exact_f(f, xi)
        assert abs(float(exact_net - exact_f)) <= bound  # the weights' real function
        worst = max(worst, abs(float(Fraction(float(gi)) - exact_f)))
    assert worst <= bound
    assert bound <= 1e4 * max(
        worst, float(np.finfo(np.float32 if dtype == torch.float32 else np.float64).eps)
    )


@settings(max_examples=8, deadline=None)
@given(
    d=st.integers(2, 3),
    n=st.integers(1, 10),
    seed=st.integers(0, 2**16),
)
def test_random_triangulations_are_reproduced_within_the_bound(d, n, seed):
    f = _triangulated(d, n, seed)
    net = pwa_to_relu(f)
    x = np.random.default_rng(seed + 1).random((500, d))
    assert np.max(np.abs(evaluate(net, x) - f(x))) <= pwa_rounding_bound(f, net)


def test_hostile_inputs_name_the_argument():
    f = _triangulated(2, 5, seed=9)
    with pytest.raises(TypeError, match="`f` must be a PiecewiseAffine"):
        pwa_to_relu(PiecewiseLinear([0.0, 1.0], [0.0, 1.0]))
    with pytest.raises(TypeError, match="`dtype`"):
        pwa_to_relu(f, dtype=torch.float16)
    with pytest.raises(TypeError, match="`dtype`"):
        pwa_to_relu(f, dtype="float64")
    with pytest.raises(ValueError, match="device"):
        pwa_to_relu(f, device="nonsense")
    with pytest.raises(TypeError, match="`f` must be a PiecewiseAffine"):
        pwa_rounding_bound("f", pwa_to_relu(f))
    with pytest.raises(TypeError, match="`net` must be"):
        pwa_rounding_bound(f, nn.Linear(2, 1))
    other = pwa_to_relu(_triangulated(2, 6, seed=10))
    with pytest.raises(ValueError, match="`net` is not the network"):
        pwa_rounding_bound(f, other)
    with pytest.raises(ValueError, match="`net` must be a float64 or float32"):
        pwa_rounding_bound(f, nn.Sequential(nn.ReLU()))


def test_float32_weights_out_of_range_are_refused():
    f = PiecewiseAffine.from_spline(PiecewiseLinear([0.0, 1.0], [0.0, 1e39]), 0.0, 1.0)
    with pytest.raises(ValueError, match="`f` does not fit float32"):
        pwa_to_relu(f, dtype=torch.float32)


def _l_shape(maps: list[tuple[list[float], float]]) -> PiecewiseAffine:
    """[0, 2] x [0, 1] and [0, 1] x [1, 2] as three unit squares with the given maps."""

    def box(lo, hi):
        return np.vstack([np.eye(2), -np.eye(2)]), np.r_[hi, -np.asarray(lo, float)]

    boxes = [box([0, 0], [1, 1]), box([1, 0], [2, 1]), box([0, 1], [1, 2])]
    regions = [(A, b, K, c) for (A, b), (K, c) in zip(boxes, maps, strict=True)]
    return PiecewiseAffine.from_regions(regions, convex=False)


def test_a_non_convex_domain_is_exact_where_the_lattice_certifies():
    f = _l_shape([([0.0, 0.0], 1.0), ([1.0, 0.0], 0.0), ([0.0, 1.0], 0.0)])  # max(x, y, 1)
    net = pwa_to_relu(f)
    x = np.random.default_rng(11).uniform(0, 2, (4000, 2))
    x = x[(x[:, 0] <= 1) | (x[:, 1] <= 1)]
    assert np.max(np.abs(evaluate(net, x) - f(x))) <= pwa_rounding_bound(f, net)


def test_a_non_convex_domain_without_a_lattice_is_refused_naming_f():
    f = _l_shape([([0.0, 0.0], 0.0), ([1.0, 0.0], -1.0), ([0.0, -1.0], 1.0)])
    with pytest.raises(ValueError, match="`f` has no certified lattice"):
        pwa_to_relu(f)
