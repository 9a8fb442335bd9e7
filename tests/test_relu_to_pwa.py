"""relu_to_pwa: the exact linear regions of a network over a box, as a PiecewiseAffine.

References: the network's own forward pass (``evaluate``, torch float64), the
patterns torch gives at sampled points (``activation_pattern``), ``partition``
(2-D, polygon by polygon), the walk run in 2-D (against the vectorised cutter),
``maximize`` (branch and bound / MILP) and the box's volume.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import pwlmodels
from pwlmodels import activation_pattern, evaluate, maximize, partition, relu_to_pwa
from pwlmodels._plane import plane_regions
from pwlmodels._walk import Walk, forward_codes
from pwlmodels.network._parse import parse_sequential

ACTS = {
    "relu": nn.ReLU,
    "leaky": lambda w: nn.LeakyReLU(0.2),
    "prelu": lambda w: nn.PReLU(w, init=-0.3),
    "hardtanh": lambda w: nn.Hardtanh(-0.5, 0.5),
}


def make_net(sizes: tuple, act: str = "relu", seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(ACTS[act](b) if act != "relu" else nn.ReLU())
    return nn.Sequential(*layers).double()


def keys(net: nn.Sequential, x: np.ndarray) -> list[bytes]:
    pats = [p.numpy() for p in activation_pattern(net, x)]
    return [b"".join(p[i].tobytes() for p in pats) for i in range(len(x))]


def anchors(f) -> np.ndarray:
    """A point inside each region: the mean of its vertices."""
    return np.array([p.vertices().mean(axis=0) for p in f.regions])


@pytest.mark.parametrize(
    ("sizes", "act"),
    [
        ((2, 12, 12, 3), "leaky"),
        ((3, 10, 8, 2), "prelu"),
        ((4, 8, 6, 2), "hardtanh"),
        ((5, 7, 5, 3), "relu"),
    ],
)
def test_equals_the_network_and_holds_every_sampled_pattern(sizes, act):
    net = make_net(sizes, act, seed=len(sizes) + sizes[0])
    d = sizes[0]
    lower, upper = -np.ones(d), np.linspace(1.0, 2.0, d)
    f = relu_to_pwa(net, lower, upper)
    assert (f.n_inputs, f.n_outputs) == (d, sizes[-1])
    x = np.random.default_rng(d).uniform(lower, upper, (25_000, d))  # 10^5 in all
    y = evaluate(net, x).reshape(len(x), -1)
    np.testing.assert_allclose(f(x), y, rtol=1e-10, atol=1e-12)
    regions = keys(net, anchors(f))
    assert len(set(regions)) == f.n_regions  # one region per pattern
    assert set(keys(net, x[:5000])) <= set(regions)
    if d <= 3:
        volume = sum(p.volume() for p in f.regions)
        np.testing.assert_allclose(volume, np.prod(upper - lower), rtol=1e-9)


@pytest.mark.parametrize("act", ["relu", "hardtanh"])
def test_agrees_with_partition_in_2d(act):
    net = make_net((2, 16, 16, 2), act, seed=3)
    f = relu_to_pwa(net, [-2.0, -1.0], [1.0, 3.0])
    part = partition(net, [-2.0, -1.0], [1.0, 3.0])
    assert f.n_regions == len(part)
    K, c = f.maps
    order_f = np.lexsort(np.round(anchors(f), 9).T)
    centroids = np.array([np.mean(v, axis=0) for v in part.vertices])
    order_p = np.lexsort(np.round(centroids, 9).T)
    np.testing.assert_allclose(anchors(f)[order_f], centroids[order_p], atol=1e-9)
    np.testing.assert_allclose(K[order_f], part.A[order_p], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c[order_f], part.c[order_p], rtol=1e-12, atol=1e-14)
    areas = np.array([p.volume() for p in f.regions])
    np.testing.assert_allclose(areas[order_f], part.areas[order_p], rtol=1e-9, atol=1e-15)


def test_the_walk_in_2d_finds_the_regions_the_plane_cutter_finds():
    ops = parse_sequential(make_net((2, 10, 10, 1), "prelu", seed=5))
    lo, hi = np.array([-1.0, -1.0]), np.array([1.0, 1.0])
    walk, plane = Walk(ops, lo, hi, 10**4).run(), plane_regions(ops, lo, hi, 10**4)
    from_walk = sorted(b"".join(c.tobytes() for c in codes) for codes in walk[4])
    at = [forward_codes(ops, x) for x in plane[3]]  # the pattern inside each polygon
    assert from_walk == sorted(b"".join(c.tobytes() for c in codes) for codes in at)
    np.testing.assert_allclose(sum(p.volume() for p in walk[0]), 4.0, rtol=1e-12)


@pytest.mark.parametrize("d", [2, 3])
def test_the_maximum_over_the_regions_is_maximize(d):
    net = make_net((d, 8, 8, 1), "relu", seed=d)
    lower, upper = -np.ones(d), np.ones(d)
    best = relu_to_pwa(net, lower, upper).max()
    res = maximize(net, lower, upper)
    assert res.value - 1e-9 <= best <= res.bound + 1e-9


@pytest.mark.parametrize("act", ["relu", "hardtanh", "leaky"])
def test_one_input(act):
    net = make_net((1, 9, 6, 2), act, seed=11)
    f = relu_to_pwa(net, -3.0, 2.0)
    x = np.linspace(-3.0, 2.0, 2001)[:, None]
    np.testing.assert_allclose(f(x), evaluate(net, x).reshape(-1, 2), rtol=1e-10, atol=1e-12)
    ends = np.sort(np.concatenate([p.vertices()[:, 0] for p in f.regions]))
    assert ends[0] == -3.0 and ends[-1] == 2.0
    assert set(keys(net, x)) <= set(keys(net, anchors(f)))


def test_degenerate_units_dead_duplicate_zero_and_through_a_corner():
    net = make_net((3, 6, 4, 1), "relu", seed=2)
    with torch.no_grad():
        w, b = net[0].weight, net[0].bias
        w[1], b[1] = w[0], b[0]  # a duplicate: both flip on one facet
        w[2], b[2] = 0.0, 0.0  # identically 0 (at its kink) everywhere
        w[3], b[3] = torch.tensor([1.0, 0.0, 0.0], dtype=w.dtype), -10.0  # dead on the box
        w[4] = torch.tensor([1.0, 1.0, 1.0], dtype=w.dtype)
        b[4] = 3.0  # its hyperplane through the corner (-1, -1, -1)
        net[2].weight[1] = 0.0  # a second-layer unit constant on its kink
        net[2].bias[1] = 0.0
    lower, upper = -np.ones(3), np.ones(3)
    f = relu_to_pwa(net, lower, upper)
    x = np.random.default_rng(0).uniform(lower, upper, (5000, 3))
    np.testing.assert_allclose(f(x), evaluate(net, x), rtol=1e-10, atol=1e-12)
    assert set(keys(net, x)) <= set(keys(net, anchors(f)))
    np.testing.assert_allclose(sum(p.volume() for p in f.regions), 8.0, rtol=1e-9)


def test_a_network_linear_on_the_box_is_one_region():
    net = make_net((4, 3, 1), "relu", seed=0)
    with torch.no_grad():
        net[0].bias.fill_(100.0)
    f = relu_to_pwa(net, -1.0, 1.0)
    assert f.n_regions == 1 and f.regions[0].vertices().shape == (16, 4)


@settings(max_examples=15, deadline=None)
@given(
    d=st.integers(2, 3),
    width=st.integers(1, 6),
    seed=st.integers(0, 10**6),
    act=st.sampled_from(sorted(ACTS)),
)
def test_regions_tile_the_box_and_equal_the_network(d, width, seed, act):
    net = make_net((d, width, width, 2), act, seed=seed)
    rng = np.random.default_rng(seed)
    lower = rng.uniform(-2, 0, d)
    upper = lower + rng.uniform(0.1, 3, d)
    f = relu_to_pwa(net, lower, upper)
    x = rng.uniform(lower, upper, (500, d))
    np.testing.assert_allclose(f(x), evaluate(net, x).reshape(-1, 2), rtol=1e-9, atol=1e-11)
    volume = sum(p.volume() for p in f.regions)
    np.testing.assert_allclose(volume, np.prod(upper - lower), rtol=1e-8)


@pytest.mark.parametrize("d", [2, 3])
def test_max_regions_is_a_clear_error(d):
    net = make_net((d, 10, 1), "relu", seed=0)
    with pytest.raises(ValueError, match="more than `max_regions` = 3 linear regions"):
        relu_to_pwa(net, -1.0, 1.0, max_regions=3)


def test_exported_from_the_package_and_regions():
    assert pwlmodels.relu_to_pwa is pwlmodels.regions.relu_to_pwa is relu_to_pwa


@pytest.mark.parametrize(
    ("net", "lower", "upper", "kwargs", "error", "match"),
    [
        (nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)), -1, 1, {}, TypeError, "net"),
        ("not a network", -1, 1, {}, TypeError, "net"),
        (None, [1.0, 0.0], [0.0, 1.0], {}, ValueError, r"`lower` must be < `upper`.*lower\[0\]"),
        (None, [0.0, 0.0], [0.0, 1.0], {}, ValueError, "`lower` must be < `upper`"),
        (None, [0.0, np.nan], 1.0, {}, ValueError, "lower"),
        (None, 0.0, [1.0, np.inf], {}, ValueError, "upper"),
        (None, [0.0, 0.0, 0.0], 1.0, {}, ValueError, r"`lower` must be a number or have shape"),
        (None, 0.0, [[1.0, 1.0]], {}, ValueError, "`upper` must be a number or have shape"),
        (None, "a", 1.0, {}, (TypeError, ValueError), "lower"),
        (None, 0.0, 1.0, {"max_regions": 0}, ValueError, "`max_regions` must be positive"),
        (None, 0.0, 1.0, {"max_regions": True}, TypeError, "`max_regions` must be an integer"),
        (None, 0.0, 1.0, {"max_regions": 2.5}, TypeError, "`max_regions` must be an integer"),
    ],
)
def test_hostile_inputs_name_the_argument(net, lower, upper, kwargs, error, match):
    net = make_net((2, 3, 1)) if net is None else net
    with pytest.raises(error, match=match):
        relu_to_pwa(net, lower, upper, **kwargs)


@pytest.mark.parametrize("d", [2, 3])
def test_a_thin_slab_between_close_parallel_kinks_is_a_region(d):
    net = nn.Sequential(nn.Linear(d, 2), nn.ReLU(), nn.Linear(2, 1)).double()
    with torch.no_grad():
        net[0].weight.zero_()
        net[0].weight[:, 0] = 1.0
        net[0].bias.copy_(torch.tensor([0.0, -1e-7], dtype=torch.float64))
        net[2].weight.copy_(torch.tensor([[1.0, -3.0]], dtype=torch.float64))
    f = relu_to_pwa(net, -1.0, 1.0)
    widths = sorted(float(np.ptp(p.vertices()[:, 0])) for p in f.regions)
    assert f.n_regions == 3
    np.testing.assert_allclose(widths, [1e-7, 1.0 - 1e-7, 1.0], rtol=1e-9)


@pytest.mark.parametrize("size", [1e300, 1e-300])
def test_a_box_beyond_the_tolerances_range_is_refused(size):
    """Found by a probe: both used to end in "no full-dimensional region in the box"."""
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1)).double()
    with pytest.raises(ValueError, match="must have a diagonal between 1e-150 and 1e150"):
        relu_to_pwa(net, [-size] * 3, [size] * 3)
