"""Regression tests for what an attack on PiecewiseAffine, pwa_to_relu and relu_to_pwa
found (issue 20): each test names the input that used to fail and how.

References: the refusal messages' argument names; exact rational arithmetic
(fractions.Fraction) for the network's error against the bound.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from pwlmodels import PiecewiseAffine, PiecewiseLinear

SQUARE = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
ABS = [([[1.0], [-1.0]], [0.0, 1.0], [-1.0], 0.0), ([[1.0], [-1.0]], [1.0, 0.0], [1.0], 0.0)]


# -------------------------------------------- maps that overflow float64 are refused
@pytest.mark.parametrize(
    ("points", "values"),
    [
        (SQUARE, [0.0, 1e308, 1e308, 0.0]),  # used to give n_pieces from an inf tolerance
        ([0.0, 1.0, 2.0], [1e308, -1e308, 1e308]),  # used to be cKDTree's "must be finite"
        ([0.0, 1e-320, 1.0], [0.0, 1.0, 2.0]),  # slope 1e320 overflows
    ],
)
def test_triangulation_with_overflowing_maps_is_a_value_error(points, values):
    with pytest.raises(ValueError, match="`values` must give maps"):
        PiecewiseAffine.from_triangulation(points, values)


def test_regions_with_overflowing_maps_are_a_value_error():
    regions = [(A, b, [K[0] * 1e308], c) for A, b, K, c in ABS]
    with pytest.raises(ValueError, match="`regions` must give maps"):
        PiecewiseAffine.from_regions(regions)


def test_spline_on_a_huge_interval_is_a_value_error():
    g = PiecewiseLinear([0.0, 1.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="`spline` on"):
        PiecewiseAffine.from_spline(g, -1e308, 1e308)


def test_large_but_finite_maps_are_still_accepted():
    f = PiecewiseAffine.from_triangulation(SQUARE, [0.0, 1e290, 1e290, 0.0])
    assert f.n_pieces == 2
    np.testing.assert_allclose(f([[0.5, 0.25]]), [0.25e290], rtol=1e-14)


# ------------------------- pwa_to_relu takes every jump from_regions accepted (tol)
def exact_forward(net, x) -> list[Fraction]:
    """The network in exact rational arithmetic of its float weights, at a float x."""
    import torch

    h = [Fraction(float(v)) for v in x]
    layers = [m for m in net if isinstance(m, torch.nn.Linear)]
    for i, lin in enumerate(layers):
        W, b = lin.weight.detach().double().tolist(), lin.bias.detach().double().tolist()
        h = [
            sum((Fraction(w) * v for w, v in zip(row, h, strict=True)), Fraction(bb))
            for row, bb in zip(W, b, strict=True)
        ]
        if i < len(layers) - 1:
            h = [max(v, Fraction(0)) for v in h]
    return h


def exact_map(f, region: int, x) -> list[Fraction]:
    K, c = f.maps
    xs = [Fraction(float(v)) for v in x]
    return [
        sum(
            (Fraction(float(k)) * v for k, v in zip(K[region, o], xs, strict=True)),
            Fraction(float(c[region, o])),
        )
        for o in range(f.n_outputs)
    ]


@pytest.mark.parametrize("jump", [1e-8, 1e-5])
@pytest.mark.parametrize("d", [1, 2])
def test_jump_within_tol_gets_a_network_whose_bound_covers_both_sides(jump, d):
    """A jump of 1e-8 across a facet (from_regions, tol=1e-3) used to be 'no certified
    lattice representation ... is the domain of `f` convex?'."""
    from pwlmodels import pwa_rounding_bound, pwa_to_relu

    if d == 1:
        regions = [([[1.0], [-1.0]], [1.0, 0.0], [1.0], 0.0)]
        regions.append(([[1.0], [-1.0]], [2.0, -1.0], [0.0], 1.0 + jump))
        near = [[1.0 - 2.0**-30], [1.0 + 2.0**-30], [0.5], [1.5], [1.0]]
    else:
        rows = [[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]]
        regions = [(rows, [0.5, 0.0, 1.0, 0.0], [[1.0, 1.0]], [0.0])]
        regions.append((rows, [1.0, -0.5, 1.0, 0.0], [[-1.0, 1.0]], [1.0 + jump]))
        near = [[0.5 - 2.0**-30, 0.75], [0.5 + 2.0**-30, 0.75], [0.25, 0.5], [0.5, 1.0]]
    f = PiecewiseAffine.from_regions(regions, tol=1e-3)
    net = pwa_to_relu(f)
    bound = pwa_rounding_bound(f, net)
    assert jump <= bound <= 4 * jump
    for x in near:
        inside = [k for k, r in enumerate(f.regions) if np.all(r.A_ub @ x <= r.b_ub)]
        y = exact_forward(net, x)
        for k in inside:  # the network is within the bound of every region's map at x
            err = max(abs(a - b) for a, b in zip(y, exact_map(f, k, x), strict=True))
            assert err <= bound


# ------------------------------------- points far from the origin are not merged
@pytest.mark.parametrize(("offset", "scale", "d"), [(1000.0, 1e-3, 2), (1e6, 1.0, 3)])
def test_points_far_from_the_origin_triangulate_like_centred_ones(offset, scale, d):
    """Qhull merged two of these points (relative precision) and from_triangulation
    refused them ('not a vertex of the triangulation'); centred, they triangulate."""
    from scipy.interpolate import LinearNDInterpolator

    rng = np.random.default_rng(5)
    rng.random((40, 2))
    rng.normal(size=40)
    unit = rng.random((20, 3))[:, :d] if d == 3 else rng.random((40, 2))
    pts, vals = unit * scale + offset, rng.normal(size=len(unit))
    f = PiecewiseAffine.from_triangulation(pts, vals)
    centred = PiecewiseAffine.from_triangulation(pts - pts.mean(axis=0), vals)
    assert f.n_regions == centred.n_regions
    inner = unit[np.argsort(np.linalg.norm(unit - 0.5, axis=1))[:5]] * scale + offset
    x = inner.mean(axis=0) * 0.5 + inner * 0.5  # inside the hull
    reference = LinearNDInterpolator(pts - pts.mean(axis=0), vals)(x - pts.mean(axis=0))
    np.testing.assert_allclose(f(x), reference, rtol=1e-8, atol=1e-8)


# ------------------------------------------ rows and weights far from unit size
@pytest.mark.parametrize("scale", [1e150, 1e-200, 1e300])
def test_regions_with_rows_far_from_unit_size_are_the_same_function(scale):
    """Rows of 1e150 were an IndexError, rows of 1e200 or 1e-200 'unbounded': the
    squares in the rows' norms overflowed or underflowed."""
    rows = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    left = (rows * scale, np.array([0.5, 0.0, 1.0, 0.0]) * scale, [[1.0, 1.0]], [0.0])
    right = (rows * scale, np.array([1.0, -0.5, 1.0, 0.0]) * scale, [[-1.0, 1.0]], [1.0])
    f = PiecewiseAffine.from_regions([left, right])
    unit = PiecewiseAffine.from_regions([(rows, r[1] / scale, r[2], r[3]) for r in (left, right)])
    assert f.n_regions == 2
    assert f.allclose(unit)
    np.testing.assert_allclose(f([[0.25, 0.5], [0.75, 0.5]]), [0.75, 0.75], rtol=1e-15)


@pytest.mark.parametrize("d", [2, 3])
def test_relu_to_pwa_of_a_net_with_a_weight_of_1e200_equals_the_net(d):
    """A first-layer weight of 1e200 was a QhullError in 3 inputs (row norms overflowed)."""
    import torch

    from pwlmodels import evaluate, relu_to_pwa

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(d, 5), torch.nn.ReLU(), torch.nn.Linear(5, 1))
    net = net.double()
    with torch.no_grad():
        net[0].weight[0, 0] = 1e200
    f = relu_to_pwa(net, -1.0, 1.0)
    x = np.random.default_rng(0).uniform(-1, 1, (2000, d))
    y = evaluate(net, x)
    assert np.abs(f(x) - y).max() <= 1e-14 * np.abs(y).max()


@pytest.mark.parametrize("n_in", [1, 3])
def test_relu_to_pwa_of_an_empty_sequential_is_the_identity(n_in):
    """nn.Sequential() over a 3-D box was numpy's 'all the input array dimensions...'."""
    import torch

    from pwlmodels import relu_to_pwa

    f = relu_to_pwa(torch.nn.Sequential(), [-1.0] * n_in, [1.0] * n_in)
    assert (f.n_regions, f.n_outputs) == (1, n_in)
    x = np.random.default_rng(1).uniform(-1, 1, (50, n_in))
    np.testing.assert_array_equal(f(x).reshape(50, n_in), x)


# ------------------- points on an edge of a sliver evaluate as LinearNDInterpolator
def test_points_on_a_sliver_edge_take_the_simplex_scipy_takes():
    """The walk accepted a simplex with a barycentric coordinate down to -1e-12 (scipy:
    -100 eps); next to a sliver (height 2e-4) its map, extrapolated that far, was 3e-9
    off LinearNDInterpolator on the hull edge y = 1, and 17 times pwa_rounding_bound
    off the exact network, as the pwa_to_relu example measures it."""
    from scipy.interpolate import LinearNDInterpolator

    from pwlmodels import evaluate, pwa_rounding_bound, pwa_to_relu

    pts = [[0, 0], [1, 0], [0, 1], [1, 1], [0.8387580242858567, 0.999772007759937]]
    pts = np.array([*pts, [0.8319205689932608, 0.46382152842602253]])
    vals = np.array([0.0, 1.0, 10.0, 0.0, 3.0, 1.0])
    f = PiecewiseAffine.from_triangulation(pts, vals)
    t = 1 - np.geomspace(1e-12, 1e-6, 2000)
    x = np.c_[t, np.ones_like(t)]
    np.testing.assert_allclose(f(x), LinearNDInterpolator(pts, vals)(x), rtol=0, atol=1e-13)
    net = pwa_to_relu(f)
    assert np.abs(evaluate(net, x) - f(x)).max() <= pwa_rounding_bound(f, net)


# ------------------------------------------- a sliver region next to a flat one
def test_network_of_a_net_with_a_sliver_region_round_trips():
    """Two units with hyperplanes 1e-8 apart in angle: relu_to_pwa keeps the sliver
    between them, whose map leaves the flat neighbour's by 7e-8 across its width
    (more than f's continuity tolerance, 5e-8), and pwa_to_relu said 'no certified
    lattice representation: a term exceeds f on region 0 by 20.2'."""
    import torch

    from pwlmodels import evaluate, pwa_rounding_bound, pwa_to_relu, relu_to_pwa

    h = float.fromhex
    W1 = [["0x1.262cf62027606p-1", "0x1.a30d593ac941bp-1"]]
    W1 += [["0x1.262cf61e79833p-1", "0x1.a30d593bf705bp-1"]]
    W1 += [["-0x1.f535db5b6e553p+0", "0x1.8d759f1ede8d0p-2"]]
    b1 = ["-0x1.cee8f54eeb25ap-1", "-0x1.cee8f54ef412bp-1", "0x1.735b6eca148bcp-4"]
    W2 = [["0x1.c6564e0000000p+8", "-0x1.dd54d80000000p+8", "0x1.653afc0000000p-1"]]
    net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    net = net.double()
    with torch.no_grad():
        for lin, (W, b) in zip(net[::2], [(W1, b1), (W2, ["0x1.0e950cd9ab4d9p-3"])], strict=True):
            lin.weight[:] = torch.tensor([[h(v) for v in row] for row in W], dtype=torch.float64)
            lin.bias[:] = torch.tensor([h(v) for v in b], dtype=torch.float64)
    f = relu_to_pwa(net, [0.0, 0.0], [1.0, 1.0])
    g = pwa_to_relu(f)
    bound = pwa_rounding_bound(f, g)
    assert bound < 1e-6
    x = np.vstack([np.random.default_rng(2).random((2000, 2)), *(r.vertices() for r in f.regions)])
    assert np.abs(evaluate(g, x) - evaluate(net, x)).max() <= bound + 1e-12


# ----------------------------------- every hyperplane through the box's centre
@pytest.mark.parametrize(("d", "seed"), [(3, 1), (4, 0)])
def test_relu_to_pwa_tiles_the_box_when_every_hyperplane_passes_its_centre(d, seed):
    """Zero biases: the walk started at the centre, where every later unit is constant
    at its kink, and its neighbours kept those units off; their regions were empty, so
    the walk ended with one region covering 0.5% (3-D) or 6% (4-D) of the box, silently
    (f.max() was the maximum over that part)."""
    import torch
    from scipy.spatial import ConvexHull

    from pwlmodels import evaluate, relu_to_pwa

    torch.manual_seed(seed)
    layers = [torch.nn.Linear(d, 6), torch.nn.ReLU(), torch.nn.Linear(6, 5), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers, torch.nn.Linear(5, 4), torch.nn.ReLU())
    net = torch.nn.Sequential(*net, torch.nn.Linear(4, 1)).double()
    with torch.no_grad():
        for m in net[::2]:
            m.bias.zero_()
    f = relu_to_pwa(net, -1.0, 1.0)
    volume = sum(ConvexHull(r.vertices()).volume for r in f.regions)
    assert volume == pytest.approx(2.0**d, rel=1e-9)
    x = np.random.default_rng(0).uniform(-1, 1, (5000, d))
    np.testing.assert_allclose(f(x), evaluate(net, x), rtol=1e-12, atol=1e-14)
