"""Round trips between piecewise-affine functions and exact ReLU networks (issue 20, item 4):
``relu_to_pwa(pwa_to_relu(f))`` is ``f`` again, with the triangulation's pieces."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pwlmodels import PiecewiseAffine, evaluate, pwa_to_relu, relu_to_pwa


def _interpolant(d: int, n: int, seed: int) -> PiecewiseAffine:
    rng = np.random.default_rng(seed)
    corners = np.array(np.meshgrid(*[[0.0, 1.0]] * d)).reshape(d, -1).T
    points = np.vstack([corners, rng.random((n, d))])
    return PiecewiseAffine.from_triangulation(points, rng.normal(size=len(points)))


def _round_trip(f: PiecewiseAffine) -> PiecewiseAffine:
    lower, upper = f.domain
    return relu_to_pwa(pwa_to_relu(f), lower, upper, max_regions=50_000)


@pytest.mark.parametrize(("n", "seed"), [(10, 0), (10, 1), (25, 0), (25, 2)])
def test_a_2d_interpolant_comes_back_with_its_pieces(n, seed):
    f = _interpolant(2, n, seed)
    g = _round_trip(f)
    assert g.allclose(f, rtol=1e-9, atol=1e-12)
    assert g.n_pieces == f.n_pieces  # activation regions: more; distinct maps: the same
    assert g.simplify().n_regions == f.n_regions  # merged back into the triangles


def test_a_small_3d_interpolant_comes_back_with_its_pieces():
    f = _interpolant(3, 0, 0)  # random values at the cube's corners
    g = _round_trip(f)
    assert g.allclose(f, rtol=1e-9, atol=1e-12)
    assert g.n_pieces == f.n_pieces


def test_a_saturated_law_comes_back_with_its_three_pieces():
    """max(-1, min(1, k.x)) on a box, given as its three regions."""
    k = np.array([2.0, -1.0])
    box = (np.array([[1.0, 0], [-1, 0], [0, 1], [0, -1]]), np.array([1.0, 1, 1, 1]))
    regions = []
    for sign in (1, 0, -1):
        a, b = box
        if sign == 1:  # k.x <= -1: u = -1
            a, b, K, c0 = np.vstack([a, k]), np.append(b, -1.0), np.zeros((1, 2)), [-1.0]
        elif sign == -1:  # k.x >= 1: u = 1
            a, b, K, c0 = np.vstack([a, -k]), np.append(b, -1.0), np.zeros((1, 2)), [1.0]
        else:
            a, b, K, c0 = np.vstack([a, k, -k]), np.append(b, [1.0, 1.0]), k[None], [0.0]
        regions.append((a, b, K, np.array(c0)))
    f = PiecewiseAffine.from_regions(regions)
    g = _round_trip(f)
    assert g.allclose(f, rtol=1e-9, atol=1e-12) and g.n_pieces == 3


@settings(max_examples=15, deadline=None)
@given(n=st.integers(0, 12), seed=st.integers(0, 2**16))
def test_round_trips_of_random_2d_triangulations(n, seed):
    f = _interpolant(2, n, seed)
    g = _round_trip(f)
    assert g.allclose(f, rtol=1e-9, atol=1e-12) and g.n_pieces == f.n_pieces
    x = np.random.default_rng(seed).random((500, 2))
    net = pwa_to_relu(f)
    assert np.allclose(evaluate(net, x), f(x), rtol=0, atol=1e-11)
