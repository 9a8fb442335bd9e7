"""Activation patterns, local affine maps, linear regions and partitions.

References: torch's own autograd (``torch.func.jacrev``) for the maps, at
random points and at points placed exactly on kinks; bisection along rays for
the radius; sampling, a 1000 x 1000 grid, hand-built networks with known
counts (Montufar et al. 2014 sawtooth), ``relu_to_spline`` and the bound of
Serra et al. (2018) for the partitions.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.func import jacrev

from pwlmodels import make_mlp, relu_to_spline
from pwlmodels.regions import (
    Partition,
    Polytope,
    activation_pattern,
    linear_region,
    local_affine,
    one_sided_jacobian,
    partition,
    region_radius,
)

from ._helpers import DEVICES

F32, F64 = torch.float32, torch.float64
ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky": lambda: nn.LeakyReLU(0.1),
    "prelu": None,  # one slope per unit, built in _net
    "hardtanh": lambda: nn.Hardtanh(-0.5, 0.75),
    "relu6": nn.ReLU6,
}


def _net(sizes, act="relu", *, dtype=F64, seed=0, device="cpu") -> nn.Sequential:
    """Linear layers with N(0, 1) weights (a seeded generator) and ``act`` between them."""
    gen = torch.Generator().manual_seed(seed)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(nn.PReLU(b, 0.2, dtype=dtype) if act == "prelu" else ACTIVATIONS[act]())
    net = nn.Sequential(*layers)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=dtype))
    return net.to(device).eval()


def _set(layer: nn.Linear, weight, bias) -> None:
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight, dtype=layer.weight.dtype))
        layer.bias.copy_(torch.as_tensor(bias, dtype=layer.bias.dtype))


def _jac(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """torch.func.jacrev of the network, per point: (N, n_out, n_in).

    The points are independent, so the Jacobian of the batch's sum over points
    holds every point's Jacobian (vmap has no batching rule for PReLU's backward).
    """
    return jacrev(lambda v: net(v).sum(0))(x).permute(1, 0, 2)


def _pre_activations(net: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """The inputs of every activation layer in torch's forward pass."""
    seen: list[torch.Tensor] = []
    handles = [
        m.register_forward_pre_hook(lambda _m, args: seen.append(args[0].detach().clone()))
        for m in net.modules()
        if isinstance(m, (nn.ReLU, nn.LeakyReLU, nn.PReLU, nn.Hardtanh))
    ]
    with torch.no_grad():
        net(x)
    for h in handles:
        h.remove()
    return seen


def _same_pattern(a: list, b: list) -> np.ndarray:
    return np.all(
        [np.all(np.asarray(p) == np.asarray(q), axis=1) for p, q in zip(a, b, strict=True)], axis=0
    )


# ----------------------------------------------------------- local affine maps
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("act", list(ACTIVATIONS))
def test_local_affine_equals_jacrev_and_reproduces_net_at_random_points(act, dtype, device):
    net = _net((3, 8, 8, 2), act, dtype=dtype, seed=1, device=device)
    x = torch.randn(200, 3, generator=torch.Generator().manual_seed(2), dtype=dtype).to(device)
    a, c = local_affine(net, x)
    assert a.shape == (200, 2, 3) and c.shape == (200, 2)
    assert a.dtype == c.dtype == dtype and a.device == x.device
    torch.testing.assert_close(a, _jac(net, x))
    with torch.no_grad():
        torch.testing.assert_close((a @ x[:, :, None])[:, :, 0] + c, net(x))
    codes = torch.cat(activation_pattern(net, x), dim=1)
    assert len(torch.unique(codes, dim=0)) > 10  # the points visit many regions


def _tie_net(act: str, dtype) -> nn.Sequential:
    """Integer weights, dyadic biases: on the dyadic grid below, many units sit exactly on kinks."""
    make = {
        "prelu": lambda: nn.PReLU(4, 0.25, dtype=dtype),
        "leaky": lambda: nn.LeakyReLU(0.25),  # dyadic, so the second layer has ties too
    }.get(act, ACTIVATIONS[act])
    net = nn.Sequential(
        nn.Linear(2, 4, dtype=dtype),
        make(),
        nn.Sequential(nn.Linear(4, 4, dtype=dtype), make()),  # nested
        nn.Linear(4, 1, dtype=dtype),
    )
    _set(net[0], [[1, 0], [0, 1], [1, 1], [1, -2]], [0.0, -0.5, 0.75, 0.0])
    _set(
        net[2][0], [[1, -1, 0, 2], [0, 1, 1, -1], [2, 0, -1, 1], [-1, 1, 1, 0]], [0, -0.5, 0.75, 6]
    )
    _set(net[3], [[1, -2, 3, 1]], [0.5])
    if act == "prelu":
        with torch.no_grad():
            net[2][1].weight.copy_(torch.tensor([0.5, -0.25, 2.0, 0.125], dtype=dtype))
    return net.eval()


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("act", list(ACTIVATIONS))
def test_local_affine_equals_jacrev_exactly_on_region_boundaries(act, dtype):
    net = _tie_net(act, dtype)
    g = torch.arange(-16, 17, dtype=dtype) / 8  # dyadic: every sum below is exact
    x = torch.cartesian_prod(g, g)
    kinks = {"hardtanh": (-0.5, 0.75), "relu6": (0.0, 6.0)}.get(act, (0.0,))
    on_kink = [sum((z == k) for k in kinks) for z in _pre_activations(net, x)]
    assert all(int(t.sum()) >= 8 for t in on_kink), "the grid must put units on kinks"
    a, c = local_affine(net, x)
    torch.testing.assert_close(a, _jac(net, x), rtol=0.0, atol=0.0)
    with torch.no_grad():
        torch.testing.assert_close((a @ x[:, :, None])[:, :, 0] + c, net(x), rtol=0, atol=0)


@pytest.mark.parametrize(
    ("module", "z", "expected"),
    [
        (nn.ReLU(), [-1.0, -0.0, 0.0, 1.0], [0, 0, 0, 1]),
        (nn.ReLU(inplace=True), [-1.0, 0.0, 1.0], [0, 0, 1]),
        (nn.LeakyReLU(0.1), [-1.0, 0.0, 1.0], [0, 0, 1]),
        (nn.LeakyReLU(2.0), [-1.0, 0.0, 1.0], [0, 0, 1]),
        (nn.PReLU(1, 0.25), [-1.0, 0.0, 1.0], [0, 0, 1]),
        (nn.Hardtanh(-1.0, 2.0), [-3.0, -1.0, 0.0, 2.0, 3.0], [-1, -1, 0, 1, 1]),
        (nn.ReLU6(), [-1.0, 0.0, 3.0, 6.0, 7.0], [-1, -1, 0, 1, 1]),
    ],
    ids=["relu", "relu_inplace", "leaky", "leaky_steep", "prelu", "hardtanh", "relu6"],
)
def test_ties_follow_torch_backward(module, z, expected):
    net = nn.Sequential(nn.Linear(1, 1, dtype=F64), module.to(F64))
    _set(net[0], [[1.0]], [0.0])
    x = torch.tensor(z, dtype=F64)[:, None]
    assert activation_pattern(net, x)[0][:, 0].tolist() == expected
    grad = _jac(net, x)[:, 0, 0]
    slope = {0: 1.0, 1: 0.0, -1: 0.0} if isinstance(module, nn.Hardtanh) else None
    if slope is None:  # relu family: pattern 1 is the identity piece, 0 the negative slope
        slope = {1: 1.0, 0: float(grad[0].detach())}
    assert grad.tolist() == [slope[e] for e in expected]
    assert x[:, 0].tolist() == z  # an in-place layer must not touch the caller's input


def test_patterns_follow_the_networks_own_rounding_not_float64():
    """float32: 0.1 * 7 - 0.7 rounds to exactly 0 (inactive, relu' = 0), while the same
    weights in float64 arithmetic give 2.2e-8 > 0; the map must be torch's, so 0."""
    net = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 1))
    _set(net[0], [[0.1]], [-0.7])
    _set(net[2], [[1.0]], [0.0])
    x = torch.tensor([[7.0]])
    with torch.no_grad():
        z = net[0](x)
    assert float(np.float32(0.1)) * 7.0 + float(np.float32(-0.7)) > 0
    assert activation_pattern(net, x)[0].item() == int(z.item() > 0)
    a, _ = local_affine(net, x)
    torch.testing.assert_close(a, _jac(net, x), rtol=0.0, atol=0.0)


def test_inputs_keep_their_type_dtype_and_shape():
    net = _net((1, 4, 1), seed=3)
    x = np.linspace(-2, 2, 7)
    a, c = local_affine(net, x.astype(np.float32))
    assert isinstance(a, np.ndarray) and a.dtype == c.dtype == np.float32 and a.shape == (7, 1, 1)
    a64, c64 = local_affine(net, x.tolist())
    assert a64.dtype == np.float64 and c64.shape == (7, 1)
    np.testing.assert_allclose(a, a64, rtol=1e-6)
    pats = activation_pattern(net, x)
    assert [p.dtype for p in pats] == [torch.int8] and pats[0].shape == (7, 4)
    assert set(torch.unique(pats[0]).tolist()) <= {0, 1}
    r = region_radius(net, torch.tensor(x[:, None], dtype=F32))
    assert isinstance(r, torch.Tensor) and r.dtype == F32 and r.shape == (7,)


def test_batchnorm_dropout_and_flatten_are_followed():
    net = _net((2, 6, 6, 1), seed=4)
    bn = nn.BatchNorm1d(6, dtype=F64)
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1, generator=torch.Generator().manual_seed(5))
        bn.running_var.uniform_(0.5, 2, generator=torch.Generator().manual_seed(6))
    full = nn.Sequential(nn.Flatten(), net[0], bn, net[1], nn.Dropout(0.5), *net[2:]).eval()
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(7), dtype=F64)
    a, c = local_affine(full, x)
    torch.testing.assert_close(a, _jac(full, x))
    with torch.no_grad():
        torch.testing.assert_close((a @ x[:, :, None])[:, :, 0] + c, full(x))


# ---------------------------------------------------------------- regions
def test_linear_region_holds_exactly_the_points_with_the_same_pattern():
    net = _net((2, 10, 10, 1), seed=8)
    x0 = np.array([0.3, -0.4])
    region = linear_region(net, x0)
    assert isinstance(region, Polytope) and region.A_ub.shape[1] == 2
    assert region.contains(x0)
    y = np.random.default_rng(0).uniform(-3, 3, (4000, 2))
    same = _same_pattern(activation_pattern(net, y), activation_pattern(net, x0[None]))
    assert same.any() and not same.all()
    np.testing.assert_array_equal(region.contains(y, tol=0.0), same)
    boxed = linear_region(net, x0, lower=[-0.5, -0.5], upper=[0.5, 0.5])
    inside = np.all(np.abs(y) <= 0.5, axis=1)
    np.testing.assert_array_equal(boxed.contains(y, tol=0.0), same & inside)


def test_region_vertices_match_the_partition_polygon():
    net = _net((2, 8, 8, 1), seed=9)
    lower, upper = np.array([-1.0, -1.0]), np.array([1.0, 1.0])
    part = partition(net, lower, upper)
    for i in np.argsort(-part.areas)[:5]:
        x = part.centroids[i]
        v = linear_region(net, x, lower=lower, upper=upper).vertices()
        area = 0.5 * np.sum(v[:, 0] * np.roll(v[:, 1], -1) - np.roll(v[:, 0], -1) * v[:, 1])
        np.testing.assert_allclose(area, part.areas[i], rtol=1e-9)


def _unit(u: np.ndarray, norm) -> np.ndarray:
    order = {"inf": np.inf, 2: 2, 1: 1}[norm]
    return u / np.linalg.norm(u, ord=order, axis=1, keepdims=True)


def _exit_time(net, x, u, hi):
    """Bisection for where x + t u first leaves x's region, t in [0, hi] (inf if it stays)."""
    base = activation_pattern(net, x)
    left, right = np.zeros(len(x)), np.asarray(hi, dtype=float)
    stays = _same_pattern(activation_pattern(net, x + right[:, None] * u), base)
    for _ in range(45):  # 2**-45 of the bracket: far below the tolerances
        mid = 0.5 * (left + right)
        same = _same_pattern(activation_pattern(net, x + mid[:, None] * u), base)
        left, right = np.where(same, mid, left), np.where(same, right, mid)
    return np.where(stays, np.inf, right)


@pytest.mark.parametrize("norm", ["inf", 2, 1])
@pytest.mark.parametrize("n_in", [2, 3])
def test_region_radius_agrees_with_bisection_along_rays(norm, n_in):
    net = _net((n_in, 12, 12, 1), "leaky", seed=10)
    rng = np.random.default_rng(11)
    x = rng.uniform(-1, 1, (30, n_in))
    r = region_radius(net, x, norm=norm)
    assert np.all((r > 0) & np.isfinite(r))
    # random directions: no exit before the radius; slightly less than it keeps the pattern
    xs, us = np.repeat(x, 20, axis=0), _unit(rng.normal(size=(600, n_in)), norm)
    rs = np.repeat(r, 20)
    assert _same_pattern(
        activation_pattern(net, xs + (rs * (1 - 1e-7))[:, None] * us),
        activation_pattern(net, xs),
    ).all()
    assert np.all(_exit_time(net, xs, us, 50 * rs) >= rs * (1 - 1e-9))
    # the optimal direction towards the nearest facet exits at the radius
    best = []
    for xi in x:
        poly = linear_region(net, xi)
        a, b = poly.A_ub, poly.b_ub
        dual = {"inf": 1, 2: 2, 1: np.inf}[norm]
        k = int(np.argmin((b - a @ xi) / np.linalg.norm(a, ord=dual, axis=1)))
        if norm == 2:
            best.append(a[k] / np.linalg.norm(a[k]))
        elif norm == "inf":
            best.append(np.sign(a[k]))
        else:
            j = int(np.argmax(np.abs(a[k])))
            best.append(np.eye(n_in)[j] * np.sign(a[k, j]))
    t = _exit_time(net, x, np.array(best), 2 * r)
    np.testing.assert_allclose(t, r, rtol=1e-6)


def test_region_radius_is_zero_on_a_boundary_and_infinite_without_kinks():
    net = _tie_net("relu", F64)
    on = torch.tensor([[0.0, 0.25]], dtype=F64)  # unit 0 of layer 1 exactly at 0
    assert float(region_radius(net, on)[0]) == 0.0
    linear = nn.Sequential(nn.Linear(2, 3, dtype=F64), nn.Linear(3, 1, dtype=F64))
    assert np.isinf(region_radius(linear, np.zeros((1, 2)))).all()


# ---------------------------------------------------------------- partitions
def _count_containing(part: Partition, pts: np.ndarray) -> np.ndarray:
    """How many pieces contain each point (an independent point-in-convex-polygon test)."""
    count = np.zeros(len(pts), dtype=int)
    for v in part.vertices:
        if v.shape[1] == 1:
            count += (pts[:, 0] >= v[0, 0]) & (pts[:, 0] <= v[1, 0])
            continue
        e = np.roll(v, -1, axis=0) - v
        rel = pts[:, None, :] - v[None, :, :]
        cross = e[None, :, 0] * rel[:, :, 1] - e[None, :, 1] * rel[:, :, 0]
        count += np.all(cross >= 0, axis=1)
    return count


@pytest.mark.parametrize("act", ["relu", "leaky", "prelu", "hardtanh"])
def test_partition_tiles_the_box_and_each_piece_has_its_pattern_and_map(act):
    net = _net((2, 10, 10, 2), act, seed=12)
    lower, upper = np.array([-2.0, -1.0]), np.array([1.5, 2.0])
    part = partition(net, lower, upper)
    assert len(part) > 20
    np.testing.assert_allclose(part.areas.sum(), np.prod(upper - lower), rtol=1e-9)
    pts = np.random.default_rng(13).uniform(lower, upper, (3000, 2))
    assert np.all(_count_containing(part, pts) == 1)
    cen = part.centroids
    for p, q in zip(activation_pattern(net, cen), part.patterns, strict=True):
        np.testing.assert_array_equal(p.numpy(), q)
    a, c = local_affine(net, cen)
    np.testing.assert_allclose(a, part.A, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c, part.c, rtol=1e-12, atol=1e-12)
    frame = part.to_frame()
    assert list(frame.columns) == ["region", "area", "centroid_0", "centroid_1", "n_vertices"]
    assert len(frame) == len(part) and frame["n_vertices"].min() >= 3


def _pattern_keys(codes: np.ndarray) -> np.ndarray:
    """One integer per row of a 0/1 pattern matrix with at most 62 columns."""
    return codes.astype(np.int64) @ (2 ** np.arange(codes.shape[1], dtype=np.int64))


def test_every_pattern_on_a_1000_by_1000_grid_is_a_partition_piece():
    net = _net((2, 8, 8, 1), seed=14)
    part = partition(net, [-1.5, -1.5], [1.5, 1.5])
    g = np.linspace(-1.5, 1.5, 1000)
    grid = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
    codes = np.concatenate([p.numpy() for p in activation_pattern(net, grid)], axis=1)
    seen = np.unique(_pattern_keys(codes))
    known = _pattern_keys(np.concatenate(part.patterns, axis=1))
    assert np.isin(seen, known).all()
    assert len(seen) > 0.8 * len(part)  # the grid resolves most pieces


def test_known_counts_on_hand_built_networks():
    two = nn.Sequential(nn.Linear(2, 2, dtype=F64), nn.ReLU(), nn.Linear(2, 1, dtype=F64))
    _set(two[0], [[1, 0], [0, 1]], [0, 0])
    assert len(partition(two, [-1, -1], [1, 1])) == 4
    assert len(partition(two, [0.5, 0.5], [1, 1])) == 1  # both kinks outside the box
    three = nn.Sequential(nn.Linear(2, 3, dtype=F64), nn.ReLU())
    _set(three[0], [[1, 0], [0, 1], [1, 1]], [0, 0, -0.5])  # three lines, general position
    assert len(partition(three, [-1, -1], [1, 1])) == 1 + 3 + 3
    _set(three[0], [[1, 0], [0, 1], [1, 1]], [0, 0, 0])  # three lines through one point
    assert len(partition(three, [-1, -1], [1, 1])) == 6
    linear = nn.Sequential(nn.Linear(2, 3, dtype=F64), nn.Linear(3, 2, dtype=F64))
    assert len(partition(linear, [-1, -1], [1, 1])) == 1
    clip = nn.Sequential(nn.Linear(1, 1, dtype=F64), nn.Hardtanh(-1.0, 1.0))
    _set(clip[0], [[1]], [0])
    part = partition(clip, -3, 3)
    assert len(part) == 3 and part.patterns[0][:, 0].tolist() == [-1, 0, 1]
    assert [v[:, 0].tolist() for v in part.vertices] == [[-3, -1], [-1, 1], [1, 3]]


def _sawtooth(depth: int) -> nn.Sequential:
    """Montufar et al. (2014): the tent map t(x) = 2 relu(x) - 4 relu(x - 1/2), composed."""
    layers: list[nn.Module] = []
    for i in range(depth):
        lin = nn.Linear(1 if i == 0 else 2, 2, dtype=F64)
        _set(lin, [[1.0], [1.0]] if i == 0 else [[2.0, -4.0], [2.0, -4.0]], [0.0, -0.5])
        layers += [lin, nn.ReLU()]
    out = nn.Linear(2, 1, dtype=F64)
    _set(out, [[2.0, -4.0]], [0.0])
    return nn.Sequential(*layers, out)


@pytest.mark.parametrize("depth", [1, 2, 3, 6, 9])
def test_sawtooth_of_depth_l_has_2_to_the_l_pieces(depth):
    net = _sawtooth(depth)
    part = partition(net, 0.0, 1.0)
    assert len(part) == 2**depth
    np.testing.assert_allclose(np.abs(part.A[:, 0, 0]), 2.0**depth)
    knots = relu_to_spline(net).knots
    assert np.sum((knots > 0) & (knots < 1)) == 2**depth - 1


def _merged_count(part: Partition) -> int:
    """Pieces after joining neighbouring intervals with the same affine map."""
    order = np.argsort([v[0, 0] for v in part.vertices])
    a, c = part.A[order, 0, 0], part.c[order, 0]
    same = np.isclose(a[1:], a[:-1], rtol=1e-12, atol=1e-14) & np.isclose(
        c[1:], c[:-1], rtol=1e-12, atol=1e-14
    )
    return len(part) - int(same.sum())


@pytest.mark.parametrize(
    ("sizes", "seed"), [((1, 12, 1), 15), ((1, 8, 8, 1), 16), ((1, 6, 6, 6, 1), 17)]
)
def test_one_input_counts_match_relu_to_spline_and_the_serra_bound(sizes, seed):
    net = _net(sizes, seed=seed)
    part = partition(net, -3.0, 3.0)
    knots = relu_to_spline(net).knots
    inside = int(np.sum((knots > -3.0) & (knots < 3.0)))
    assert _merged_count(part) == inside + 1
    if len(sizes) == 3:  # one hidden layer, non-zero output weights: no merging needed
        assert len(part) == inside + 1
    assert len(part) <= math.prod(n + 1 for n in sizes[1:-1])  # Serra et al. 2018
    ends = np.sort(np.concatenate([v[:, 0] for v in part.vertices]))
    assert ends[0] == -3.0 and ends[-1] == 3.0
    np.testing.assert_allclose(part.areas.sum(), 6.0, rtol=1e-12)


def test_max_regions_guard_raises():
    with pytest.raises(ValueError, match="more than `max_regions` = 10 activation regions"):
        partition(_net((2, 16, 1), seed=18), [-3, -3], [3, 3], max_regions=10)


def test_plot_writes_a_png_atomically(tmp_path):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    open_before = set(plt.get_fignums())
    two = partition(_net((2, 8, 8, 1), seed=19), [-1, -1], [1, 1])
    ax = two.plot(path=tmp_path / "p.png")
    assert ax.get_xlabel() == "input x[0]" and "activation regions" in ax.get_title()
    two.plot(path=tmp_path / "v.png", color="value")
    partition(_sawtooth(3), 0.0, 1.0).plot(path=tmp_path / "s.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.png", "s.png", "v.png"]
    assert all((tmp_path / n).read_bytes()[:4] == b"\x89PNG" for n in ("p.png", "s.png"))
    assert set(plt.get_fignums()) == open_before  # figures it created are closed after saving


# ---------------------------------------------------------------- bad input
def _two():
    return _net((2, 4, 1), seed=20)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (
            lambda: local_affine(_two(), np.zeros((3, 3))),
            ValueError,
            r"`x` must have shape \(N, 2\)",
        ),
        (lambda: activation_pattern(_two(), np.zeros(2)), ValueError, r"`x` must have shape"),
        (lambda: local_affine(_two(), [[0.0, np.nan]]), ValueError, r"`x` must be finite"),
        (lambda: local_affine(_two(), "ab"), TypeError, r"`x` must be"),
        (lambda: linear_region(_two(), [0.0, 0.0, 0.0]), ValueError, r"`x` must be one point"),
        (lambda: partition(_two(), [1, 0], [0, 1]), ValueError, r"`lower` must be < `upper`"),
        (lambda: partition(_two(), [0, 0], [0, 1]), ValueError, r"lower\[0\] = 0.0 = upper\[0\]"),
        (lambda: partition(_two(), [0, 0], [np.inf, 1]), ValueError, r"`upper` must be finite"),
        (lambda: partition(_two(), [0, 0, 0], 1), ValueError, r"`lower` must be a number or"),
        (lambda: partition(_two(), 0, 1, max_regions=0), ValueError, r"`max_regions` must be"),
        (lambda: partition(_two(), 0, 1, max_regions=1.5), TypeError, r"`max_regions` must be"),
        (lambda: partition(_net((3, 4, 1)), 0, 1), ValueError, r"1 or 2 inputs"),
        (lambda: linear_region(_two(), [0, 0], lower=1, upper=0), ValueError, r"`lower` must"),
        (lambda: region_radius(_two(), np.zeros((1, 2)), norm=3), ValueError, r"`norm` must be"),
        (lambda: local_affine(nn.Linear(2, 1), np.zeros((1, 2))), TypeError, r"`net` must be"),
        (
            lambda: local_affine(nn.Sequential(nn.Linear(2, 2), nn.Tanh()), np.zeros((1, 2))),
            TypeError,
            r"`net` contains Tanh .* smooth activation",
        ),
        (
            lambda: partition(nn.Sequential(nn.Conv1d(1, 1, 1)), 0, 1),
            TypeError,
            r"`net` contains Conv1d",
        ),
        (
            lambda: activation_pattern(nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)), [[0, 0]]),
            ValueError,
            r"`net` is in training mode",
        ),
        (lambda: Polytope(np.eye(2), [1.0]), ValueError, r"`A_ub` must be \(m, n\)"),
        (lambda: Polytope(np.eye(3), np.ones(3)).vertices(), ValueError, r"unbounded"),
        (lambda: Polytope([[1.0, 0.0]], [1.0]).vertices(), ValueError, r"unbounded"),
        (lambda: partition(_two(), 0, 1).plot(color="pink"), ValueError, r"`color` must be"),
    ],
)
def test_bad_input_is_refused_with_a_message_naming_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("side", ["right", "left"])
def test_one_sided_jacobian_matches_one_sided_difference_quotients_on_kinks(seed, side):
    # Zero first-layer biases put every first-layer unit on its kink at the origin (and
    # Hardtanh's at its bounds): the derivative along +-e_j depends on the side.
    torch.manual_seed(seed)
    act = (nn.ReLU(), nn.LeakyReLU(0.2), nn.Hardtanh(0.0, 0.5))[seed % 3]
    net = nn.Sequential(
        nn.Linear(3, 6), act, nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2)
    ).double()
    net[3].running_mean.uniform_(-0.1, 0.1)
    net[3].eval()
    with torch.no_grad():
        net[0].bias.zero_()
    x = torch.zeros(1, 3, dtype=torch.float64)
    got = one_sided_jacobian(net, x, side=side)[0]
    h = 1e-7 * (1.0 if side == "right" else -1.0)
    with torch.no_grad():
        quotients = torch.stack(
            [(net(x + h * torch.eye(3, dtype=torch.float64)[j]) - net(x))[0] / h for j in range(3)],
            dim=1,
        )
    torch.testing.assert_close(got, quotients, rtol=1e-6, atol=1e-6)


def test_one_sided_jacobian_is_local_affine_inside_a_region():
    net = make_mlp(2, (8, 8), 3, activation="leaky_relu", seed=4).double()
    x = torch.rand(50, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    a, _ = local_affine(net, x)
    for side in ("right", "left"):
        assert torch.equal(one_sided_jacobian(net, x, side=side), a)


def test_one_sided_jacobian_refuses_an_unknown_side():
    net = nn.Sequential(nn.Linear(1, 1), nn.ReLU())
    with pytest.raises(ValueError, match="`side` must be one of"):
        one_sided_jacobian(net, [0.0], side="up")
