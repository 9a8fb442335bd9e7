"""Hostile input: every argument the public API must refuse, and how.

Each case asserts the exception type and a fragment of the message, which
follows the template "`name` must be ...; got ..." and names the argument.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.interpolate import BSpline, PPoly, interp1d, make_interp_spline
from torch import nn

from pwlmodels import (
    PiecewiseLinear,
    compose,
    evaluate,
    maximum,
    minimum,
    relu_to_spline,
    rounding_bound,
    spline_to_relu,
)

NAN, INF = float("nan"), float("inf")
F64 = torch.float64


def _f() -> PiecewiseLinear:
    """A small spline with non-zero end slopes."""
    return PiecewiseLinear([0.0, 1.0, 3.0], [0.0, 2.0, 1.0])


def _flat() -> PiecewiseLinear:
    """A spline with both end slopes 0 (valid for form='ramp')."""
    return PiecewiseLinear([0.0, 1.0], [0.0, 1.0], left_slope=0.0, right_slope=0.0)


def _net(*, n_in: int = 1, width: int = 4, n_out: int = 1, act: nn.Module | None = None):
    """Linear(n_in, width), act, Linear(width, n_out) with fixed weights (kinks at 0..width-1)."""
    net = nn.Sequential(
        nn.Linear(n_in, width, dtype=F64),
        nn.ReLU() if act is None else act,
        nn.Linear(width, n_out, dtype=F64),
    )
    with torch.no_grad():
        net[0].weight.fill_(1.0)
        net[0].bias.copy_(-torch.arange(width, dtype=F64))
        net[2].weight.fill_(1.0)
        net[2].bias.zero_()
    return net.eval()


def _deep(width: int = 4) -> nn.Sequential:
    """Two hidden ReLU layers with fixed weights; the first alone makes width + 1 pieces."""
    net = nn.Sequential(
        nn.Linear(1, width, dtype=F64),
        nn.ReLU(),
        nn.Linear(width, width, dtype=F64),
        nn.ReLU(),
        nn.Linear(width, 1, dtype=F64),
    )
    with torch.no_grad():
        net[0].weight.fill_(1.0)
        net[0].bias.copy_(-torch.arange(width, dtype=F64))
        net[2].weight.copy_(torch.eye(width, dtype=F64))
        net[2].bias.zero_()
        net[4].weight.fill_(1.0)
        net[4].bias.zero_()
    return net.eval()


def _poisoned(net: nn.Sequential, index: int, attr: str, value: float) -> nn.Sequential:
    """``net`` with the first entry of ``net[index].<attr>`` set to ``value``."""
    with torch.no_grad():
        getattr(net[index], attr).view(-1)[0] = value
    return net


def _bn_net(*, train: bool, track: bool = True) -> nn.Sequential:
    net = nn.Sequential(
        nn.Linear(1, 2, dtype=F64),
        nn.BatchNorm1d(2, dtype=F64, track_running_stats=track),
        nn.ReLU(),
        nn.Linear(2, 1, dtype=F64),
    )
    return net.train(train)


def _bspline(**kw) -> BSpline:
    b = make_interp_spline([0.0, 1.0, 2.0], [0.0, 1.0, 0.0], k=1)
    return BSpline(b.t, b.c, 1, **kw)


def _ppoly(**kw) -> PPoly:
    return PPoly(np.array([[1.0, -1.0], [0.0, 1.0]]), [0.0, 1.0, 2.0], **kw)


def _case(call, exc, match, *, id: str):  # noqa: A002
    return pytest.param(call, exc, match, id=id)


def _check(call, exc, match) -> None:
    with pytest.raises(exc, match=match):
        call()


F16_NP = np.array([0.0, 1.0], dtype=np.float16)
F16_T = torch.tensor([0.0, 1.0], dtype=torch.float16)
BF16_T = torch.tensor([0.0, 1.0], dtype=torch.bfloat16)

# ------------------------------------------------------------ the constructor
CONSTRUCTOR = [
    # NaN / inf anywhere
    _case(
        lambda: PiecewiseLinear([0.0, NAN], [0.0, 1.0]),
        ValueError,
        r"`knots` must be finite; got knots\[1\] = .*nan",
        id="knots-nan",
    ),
    _case(
        lambda: PiecewiseLinear([-INF, 0.0], [0.0, 1.0]),
        ValueError,
        r"`knots` must be finite; got knots\[0\] = .*inf",
        id="knots-inf",
    ),
    _case(
        lambda: PiecewiseLinear([0.0, 1.0], [0.0, NAN]),
        ValueError,
        r"`values` must be finite; got values\[1\]",
        id="values-nan",
    ),
    _case(
        lambda: PiecewiseLinear([0.0, 1.0], [INF, 0.0]),
        ValueError,
        r"`values` must be finite; got values\[0\]",
        id="values-inf",
    ),
    _case(
        lambda: PiecewiseLinear([0.0, 1.0], [0.0, 1.0], left_slope=NAN),
        ValueError,
        r"`left_slope` must be finite; got nan",
        id="left_slope-nan",
    ),
    _case(
        lambda: PiecewiseLinear([0.0, 1.0], [0.0, 1.0], right_slope=-INF),
        ValueError,
        r"`right_slope` must be finite; got -inf",
        id="right_slope-inf",
    ),
    _case(
        lambda: PiecewiseLinear(torch.tensor([0.0, NAN]), [0.0, 1.0]),
        ValueError,
        r"`knots` must be finite",
        id="knots-torch-nan",
    ),
    # order
    _case(
        lambda: PiecewiseLinear([0.0, 2.0, 1.0], [0.0, 1.0, 2.0]),
        ValueError,
        r"`knots` must be strictly increasing; got knots\[2\] = .*1\.0.* <= knots\[1\] = .*2\.0",
        id="knots-unsorted",
    ),
    _case(
        lambda: PiecewiseLinear([0.0, 1.0, 1.0], [0.0, 1.0, 2.0]),
        ValueError,
        r"`knots` must be strictly increasing; got knots\[2\]",
        id="knots-repeated",
    ),
    _case(
        lambda: PiecewiseLinear([-0.0, 0.0], [0.0, 1.0]),
        ValueError,
        r"`knots` must be strictly increasing",
        id="knots-signed-zeros",
    ),
    _case(
        lambda: PiecewiseLinear([3.0, 2.0, 1.0], [0.0, 1.0, 2.0]),
        ValueError,
        r"`knots` must be strictly increasing",
        id="knots-decreasing",
    ),
    # sizes and shapes
    _case(
        lambda: PiecewiseLinear([], []),
        ValueError,
        r"`knots` must have at least 1 ",
        id="zero-knots",
    ),
    _case(
        lambda: PiecewiseLinear([0.0, 1.0], [0.0, 1.0, 2.0]),
        ValueError,
        r"`values` must have one entry per knot; got 3 values for 2 knots",
        id="len-values",
    ),
    _case(
        lambda: PiecewiseLinear([0.0, 1.0, 2.0], [0.0]),
        ValueError,
        r"`values` must have one entry per knot",
        id="len-knots",
    ),
    _case(
        lambda: PiecewiseLinear([[0.0, 1.0]], [0.0, 1.0]),
        ValueError,
        r"`knots` must be 1-D; got an array of shape \(1, 2\)",
        id="knots-2d",
    ),
    _case(
        lambda: PiecewiseLinear([0.0, 1.0], [[0.0], [1.0]]),
        ValueError,
        r"`values` must be 1-D; got an array of shape \(2, 1\)",
        id="values-2d",
    ),
    _case(
        lambda: PiecewiseLinear(0.0, 1.0, left_slope=0.0, right_slope=0.0),
        ValueError,
        r"`knots` must be 1-D; got an array of shape \(\)",
        id="knots-0d",
    ),
    _case(
        lambda: PiecewiseLinear([0.0], [1.0]),
        ValueError,
        r"`left_slope` and `right_slope` are both required when there is one knot",
        id="K1-no-slopes",
    ),
    _case(
        lambda: PiecewiseLinear([0.0], [1.0], left_slope=1.0),
        ValueError,
        r"`left_slope` and `right_slope` are both required",
        id="K1-one-slope",
    ),
    # dtypes
    _case(
        lambda: PiecewiseLinear([0.0, 1j], [0.0, 1.0]),
        TypeError,
        r"`knots` must be real; got complex dtype complex128",
        id="knots-complex",
    ),
    _case(
        lambda: PiecewiseLinear([0.0, 1.0], torch.tensor([0.0, 1j])),
        TypeError,
        r"`values` must be real; got complex dtype torch.complex64",
        id="values-torch-complex",
    ),
    _case(
        lambda: PiecewiseLinear(np.array([0, 1], dtype=object), [0.0, 1.0]),
        TypeError,
        r"`knots` must be a real array .*; got dtype object",
        id="knots-object",
    ),
    _case(
        lambda: PiecewiseLinear(None, [0.0, 1.0]),
        TypeError,
        r"`knots` must be a real array .*; got dtype object",
        id="knots-None",
    ),
    _case(
        lambda: PiecewiseLinear(["0", "1"], [0.0, 1.0]),
        TypeError,
        r"`knots` must be a real array .*; got dtype <U1",
        id="knots-str-array",
    ),
    _case(
        lambda: PiecewiseLinear("01", [0.0, 1.0]),
        TypeError,
        r"`knots` must be a real array .*; got a string",
        id="knots-str",
    ),
    _case(
        lambda: PiecewiseLinear([0.0, 1.0], b"01"),
        TypeError,
        r"`values` must be a real array .*; got a string",
        id="values-bytes",
    ),
    _case(
        lambda: PiecewiseLinear([[0.0, 1.0], [2.0]], [0.0, 1.0]),
        TypeError,
        r"`knots` must be a real array .*; got list",
        id="knots-ragged",
    ),
    _case(
        lambda: PiecewiseLinear([True, False], [0.0, 1.0]),
        TypeError,
        r"`knots` must be a real array .*; got boolean values",
        id="knots-bool",
    ),
    _case(
        lambda: PiecewiseLinear(np.array(["2020-01-01", "2021-01-01"], dtype="M8[D]"), [0.0, 1.0]),
        TypeError,
        r"`knots` must be a real array .*; got dtype datetime64",
        id="knots-datetime",
    ),
    _case(
        lambda: PiecewiseLinear(F16_NP, [0.0, 1.0]),
        TypeError,
        r"`knots` has dtype float16",
        id="knots-np-float16",
    ),
    _case(
        lambda: PiecewiseLinear([0.0, 1.0], F16_NP),
        TypeError,
        r"`values` has dtype float16",
        id="values-np-float16",
    ),
    _case(
        lambda: PiecewiseLinear(F16_T, [0.0, 1.0]),
        TypeError,
        r"`knots` has dtype torch.float16",
        id="knots-torch-float16",
    ),
    _case(
        lambda: PiecewiseLinear([0.0, 1.0], BF16_T),
        TypeError,
        r"`values` has dtype torch.bfloat16",
        id="values-torch-bfloat16",
    ),
    _case(
        lambda: PiecewiseLinear([0.0, 1.0], [0.0, 1.0], left_slope="1"),
        TypeError,
        r"`left_slope` must be a real number; got str",
        id="left_slope-str",
    ),
    _case(
        lambda: PiecewiseLinear([0.0, 1.0], [0.0, 1.0], right_slope=1j),
        TypeError,
        r"`right_slope` must be a real number; got complex",
        id="right_slope-complex",
    ),
    _case(
        lambda: PiecewiseLinear([0.0, 1.0], [0.0, 1.0], left_slope=True),
        TypeError,
        r"`left_slope` must be a real number; got bool",
        id="left_slope-bool",
    ),
    _case(
        lambda: PiecewiseLinear([0.0, 1.0], [0.0, 1.0], left_slope=np.array([1.0])),
        TypeError,
        r"`left_slope` must be a real number; got ndarray",
        id="left_slope-array",
    ),
    # overflow
    _case(
        lambda: PiecewiseLinear([0.0, 1e-300], [0.0, 1e300]),
        ValueError,
        r"the slope between knots\[0\] and knots\[1\] overflows float64",
        id="slope-overflow",
    ),
    _case(
        lambda: PiecewiseLinear([0.0, 1.0], [-1e308, 1e308]),
        ValueError,
        r"overflows float64",
        id="values-difference-overflow",
    ),
    _case(
        lambda: PiecewiseLinear([-1e308, 1e308], [0.0, 1.0]),
        ValueError,
        r"`knots`.*overflow",
        id="knot-spacing-overflow",
    ),
]


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize(("call", "exc", "match"), CONSTRUCTOR)
def test_constructor_rejects(call, exc, match):
    _check(call, exc, match)


# ----------------------------------------------------- scalar float16 policy
@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda: PiecewiseLinear([0.0], [0.0], left_slope=np.float16(0.1), right_slope=0.0),
            id="left_slope-np-float16",
        ),
        pytest.param(
            lambda: PiecewiseLinear(
                [0.0], [0.0], left_slope=0.0, right_slope=torch.tensor(0.1, dtype=torch.bfloat16)
            ),
            id="right_slope-torch-bfloat16",
        ),
        pytest.param(
            lambda: PiecewiseLinear.interpolate(np.square, np.float16(0.1), 1.0, n=3),
            id="interpolate-a-np-float16",
        ),
        pytest.param(
            lambda: PiecewiseLinear.interpolate(np.square, 0.0, 1.0, tol=np.float16(1e-3)),
            id="interpolate-tol-np-float16",
        ),
        pytest.param(
            lambda: spline_to_relu(_f(), weight=[1.0], bias=torch.tensor(0.5, dtype=torch.float16)),
            id="spline_to_relu-bias-torch-float16",
        ),
    ],
)
def test_half_precision_scalars_rejected(call):
    with pytest.raises(TypeError, match=r"has dtype (torch\.)?(b)?float16"):
        call()


# --------------------------------------------------------------- evaluation
EVALUATION = [
    _case(
        lambda: _f()([0.0, NAN]),
        ValueError,
        r"`x` must be finite; got x\[1\] = .*nan",
        id="call-nan",
    ),
    _case(
        lambda: _f()(np.array([[0.0, 1.0], [INF, 2.0]])),
        ValueError,
        r"`x` must be finite; got x\[1, 0\] = .*inf",
        id="call-inf-2d",
    ),
    _case(
        lambda: _f()(NAN), ValueError, r"`x` must be finite; got x = .*nan", id="call-nan-scalar"
    ),
    _case(
        lambda: _f()(torch.tensor([0.0, -INF])),
        ValueError,
        r"`x` must be finite",
        id="call-torch-inf",
    ),
    _case(lambda: _f()([0.0, 1j]), TypeError, r"`x` must be real", id="call-complex"),
    _case(
        lambda: _f()(np.array([1, None])),
        TypeError,
        r"`x` must be a real array .*; got dtype object",
        id="call-object",
    ),
    _case(
        lambda: _f()("1.0"), TypeError, r"`x` must be a real array .*; got a string", id="call-str"
    ),
    _case(lambda: _f()(F16_NP), TypeError, r"`x` has dtype float16", id="call-np-float16"),
    _case(lambda: _f()(F16_T), TypeError, r"`x` has dtype torch.float16", id="call-torch-float16"),
    _case(
        lambda: _f()(BF16_T), TypeError, r"`x` has dtype torch.bfloat16", id="call-torch-bfloat16"
    ),
    _case(lambda: _f().slope([NAN]), ValueError, r"`x` must be finite", id="slope-nan"),
    _case(lambda: _f().slope(F16_NP), TypeError, r"`x` has dtype float16", id="slope-float16"),
    _case(
        lambda: _f().slope(0.0, side="both"),
        ValueError,
        r"`side` must be one of 'right', 'left'; got 'both'",
        id="slope-side",
    ),
    _case(
        lambda: _f().slope(0.0, side=None),
        ValueError,
        r"`side` must be one of 'right', 'left'; got None",
        id="slope-side-None",
    ),
]


@pytest.mark.parametrize(("call", "exc", "match"), EVALUATION)
def test_evaluation_rejects(call, exc, match):
    _check(call, exc, match)


# --------------------------------------------------------------- from_points
FROM_POINTS = [
    _case(
        lambda: PiecewiseLinear.from_points([0.0, NAN], [0.0, 1.0]),
        ValueError,
        r"`x` must be finite; got x\[1\]",
        id="x-nan",
    ),
    _case(
        lambda: PiecewiseLinear.from_points([0.0, 1.0], [0.0, INF]),
        ValueError,
        r"`y` must be finite; got y\[1\]",
        id="y-inf",
    ),
    _case(
        lambda: PiecewiseLinear.from_points([1.0, 0.0], [0.0, 1.0]),
        ValueError,
        r"`x` must be strictly increasing; got x\[1\] = .*0\.0.* <= x\[0\] = .*1\.0",
        id="x-unsorted",
    ),
    _case(
        lambda: PiecewiseLinear.from_points([0.0, 0.0], [0.0, 1.0]),
        ValueError,
        r"`x` must be strictly increasing",
        id="x-repeated",
    ),
    _case(
        lambda: PiecewiseLinear.from_points([], [], extrapolate="constant"),
        ValueError,
        r"`x` must have at least 1 ",
        id="zero-points",
    ),
    _case(
        lambda: PiecewiseLinear.from_points([0.0, 1.0], [0.0, 1.0, 2.0]),
        ValueError,
        r"`y` must have one entry per x; got 3 for 2",
        id="len-mismatch",
    ),
    _case(
        lambda: PiecewiseLinear.from_points([0.0, 1.0], [[0.0, 1.0]]),
        ValueError,
        r"`y` must be 1-D; got an array of shape \(1, 2\)",
        id="y-2d",
    ),
    _case(
        lambda: PiecewiseLinear.from_points(np.zeros((2, 2)), [0.0, 1.0]),
        ValueError,
        r"`x` must be 1-D",
        id="x-2d",
    ),
    _case(
        lambda: PiecewiseLinear.from_points([0.0], [1.0]),
        ValueError,
        r"`x` needs at least 2 points for extrapolate='linear'; got 1",
        id="one-point-linear",
    ),
    _case(
        lambda: PiecewiseLinear.from_points([0.0, 1.0], [0.0, 1.0], extrapolate="periodic"),
        ValueError,
        r"`extrapolate` must be one of 'linear', 'constant'; got 'periodic'",
        id="extrapolate-periodic",
    ),
    _case(
        lambda: PiecewiseLinear.from_points([0.0, 1.0], [0.0, 1.0], extrapolate=True),
        ValueError,
        r"`extrapolate` must be one of .*; got True",
        id="extrapolate-bool",
    ),
    _case(
        lambda: PiecewiseLinear.from_points([0.0, 1.0], [0.0, 1j]),
        TypeError,
        r"`y` must be real",
        id="y-complex",
    ),
    _case(
        lambda: PiecewiseLinear.from_points(["a", "b"], [0.0, 1.0]),
        TypeError,
        r"`x` must be a real array",
        id="x-str",
    ),
    _case(
        lambda: PiecewiseLinear.from_points(BF16_T, [0.0, 1.0]),
        TypeError,
        r"`x` has dtype torch.bfloat16",
        id="x-bfloat16",
    ),
    _case(
        lambda: PiecewiseLinear.from_points([0.0, 1.0], F16_NP),
        TypeError,
        r"`y` has dtype float16",
        id="y-float16",
    ),
]


@pytest.mark.parametrize(("call", "exc", "match"), FROM_POINTS)
def test_from_points_rejects(call, exc, match):
    _check(call, exc, match)


# --------------------------------------------------------------- interpolate
def _interp(f=np.sin, a=0.0, b=1.0, **kw):
    return lambda: PiecewiseLinear.interpolate(f, a, b, **kw)


def _nan_above_half(x):
    return np.where(x > 0.5, np.nan, x)


INTERPOLATE = [
    _case(
        _interp(_nan_above_half, n=5),
        ValueError,
        r"`f` must be finite on \[a, b\]; got f\(.*0\.75.*\) = .*nan",
        id="f-nan-n",
    ),
    _case(
        _interp(_nan_above_half, tol=1e-3),
        ValueError,
        r"`f` must be finite on \[a, b\]",
        id="f-nan-tol",
    ),
    _case(
        _interp(lambda x: np.full_like(x, np.inf), n=3),
        ValueError,
        r"`f` must be finite on \[a, b\]",
        id="f-inf",
    ),
    _case(_interp(lambda x: x + 0j, n=3), TypeError, r"`f\(x\)` must be real", id="f-complex"),
    _case(
        _interp(lambda x: x.astype(np.float16), n=3),
        TypeError,
        r"`f\(x\)` has dtype float16",
        id="f-float16",
    ),
    _case(
        _interp(lambda x: x.astype(str), n=3),
        TypeError,
        r"`f\(x\)` must be a real array",
        id="f-str",
    ),
    _case(
        _interp(lambda x: 1.0, n=3),
        ValueError,
        r"`f` must map an array to one of the same shape; got \(\) for \(3,\)",
        id="f-shape",
    ),
    _case(_interp(3.0, n=3), TypeError, r"`f` must be callable; got float", id="f-not-callable"),
    _case(_interp(a=NAN, n=3), ValueError, r"`a` must be finite; got nan", id="a-nan"),
    _case(_interp(b=INF, n=3), ValueError, r"`b` must be finite; got inf", id="b-inf"),
    _case(_interp(a="0", n=3), TypeError, r"`a` must be a real number; got str", id="a-str"),
    _case(
        _interp(a=1.0, b=1.0, n=3),
        ValueError,
        r"`a` must be less than `b`; got a = 1\.0, b = 1\.0",
        id="a-equals-b",
    ),
    _case(_interp(a=2.0, b=1.0, n=3), ValueError, r"`a` must be less than `b`", id="a-above-b"),
    _case(
        _interp(n=5, tol=1e-3),
        ValueError,
        r"give exactly one of `n` \(uniform knots\) or `tol`",
        id="n-and-tol",
    ),
    _case(
        _interp(),
        ValueError,
        r"give exactly one of `n` \(uniform knots\) or `tol`",
        id="neither-n-nor-tol",
    ),
    _case(_interp(n=1), ValueError, r"`n` must be at least 2; got 1", id="n-1"),
    _case(_interp(n=5.0), TypeError, r"`n` must be an integer; got float", id="n-float"),
    _case(_interp(n=True), TypeError, r"`n` must be an integer; got bool", id="n-bool"),
    _case(_interp(tol=0.0), ValueError, r"`tol` must be positive; got 0\.0", id="tol-zero"),
    _case(_interp(tol=-1e-3), ValueError, r"`tol` must be positive", id="tol-negative"),
    _case(_interp(tol=NAN), ValueError, r"`tol` must be finite; got nan", id="tol-nan"),
    _case(
        _interp(np.sin, 0.0, 10.0, tol=1e-12, max_knots=100),
        ValueError,
        r"`tol` = 1e-12 needs more than `max_knots` = 100 knots",
        id="max_knots-exceeded",
    ),
    _case(
        _interp(np.square, tol=1e-3, max_knots="many"),
        TypeError,
        r"`max_knots` must be an integer",
        id="max_knots-str",
    ),
    _case(
        _interp(lambda x: 2.0 * x, tol=1e-3, max_knots=0),
        ValueError,
        r"`max_knots`",
        id="max_knots-zero",
    ),
]


@pytest.mark.parametrize(("call", "exc", "match"), INTERPOLATE)
def test_interpolate_rejects(call, exc, match):
    _check(call, exc, match)


# ---------------------------------------------------------------- from_scipy
_EXTRAPOLATE_MSG = r"which does not define one continuous function on the whole line"

FROM_SCIPY = [
    _case(
        lambda: PPoly(np.array([[1.0, 1.0], [0.0, 5.0]]), [0.0, 1.0, 2.0]),
        ValueError,
        r"`obj` is discontinuous at x = .*1\.0.*left limit .*1\.0.*right value .*5\.0",
        id="ppoly-discontinuous",
    ),
    _case(
        lambda: PPoly(np.array([[0.0, 1.0]]), [0.0, 1.0, 2.0]),
        ValueError,
        r"`obj` is discontinuous",
        id="ppoly-degree0-step",
    ),
    _case(
        lambda: PPoly(np.array([[1.0], [0.0], [0.0]]), [0.0, 1.0]),
        ValueError,
        r"`obj` must be a PPoly of degree <= 1; got degree 2",
        id="ppoly-degree2",
    ),
    _case(
        lambda: PPoly(np.array([[NAN], [0.0]]), [0.0, 1.0]),
        ValueError,
        r"`obj.c` must be finite",
        id="ppoly-nan-coefficient",
    ),
    _case(
        lambda: PPoly(np.zeros((2, 1, 2)), [0.0, 1.0]),
        ValueError,
        r"`obj` must be scalar-valued",
        id="ppoly-vector-valued",
    ),
    _case(
        lambda: _ppoly(extrapolate=False),
        ValueError,
        r"`obj` is a PPoly with extrapolate=False, " + _EXTRAPOLATE_MSG,
        id="ppoly-extrapolate-False",
    ),
    _case(
        lambda: _ppoly(extrapolate="periodic"),
        ValueError,
        r"`obj` is a PPoly with extrapolate='periodic'.*" + _EXTRAPOLATE_MSG,
        id="ppoly-periodic",
    ),
    _case(
        lambda: make_interp_spline([0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 0.0, 1.0], k=2),
        ValueError,
        r"`obj` must be a BSpline of degree 1; got degree 2",
        id="bspline-degree2",
    ),
    _case(
        lambda: _bspline(extrapolate=False),
        ValueError,
        r"`obj` is a BSpline with extrapolate=False, " + _EXTRAPOLATE_MSG,
        id="bspline-extrapolate-False",
    ),
    _case(
        lambda: _bspline(extrapolate="periodic"),
        ValueError,
        r"`obj` is a BSpline with extrapolate='periodic'.*" + _EXTRAPOLATE_MSG,
        id="bspline-periodic",
    ),
    _case(
        lambda: interp1d([0.0, 1.0], [1.0, 2.0]),
        ValueError,
        r"`obj` is an interp1d with bounds_error=True, defined only on \[.*0\.0.*, .*1\.0.*\]",
        id="interp1d-default-bounds_error",
    ),
    _case(
        lambda: interp1d([0.0, 1.0], [1.0, 2.0], bounds_error=False, fill_value=0.0),
        ValueError,
        r"`obj` has fill values \(\[0\.0\], \[0\.0\]\) that make it discontinuous at the ends",
        id="interp1d-fill-zero",
    ),
    _case(
        lambda: interp1d([0.0, 1.0], [1.0, 2.0], bounds_error=False),
        ValueError,
        r"`obj` has fill values \(\[nan\], \[nan\]\) that make it discontinuous",
        id="interp1d-fill-nan",
    ),
    _case(
        lambda: interp1d([0.0, 1.0], [1.0, 2.0], bounds_error=False, fill_value=(1.0, 0.0)),
        ValueError,
        r"`obj` has fill values .* discontinuous",
        id="interp1d-fill-tuple",
    ),
    _case(
        lambda: interp1d([0.0, 1.0], [1.0, NAN], fill_value="extrapolate"),
        ValueError,
        r"`obj.y` must be finite",
        id="interp1d-nan-y",
    ),
    _case(
        lambda: interp1d([0.0, 1.0], [[0.0, 1.0], [1.0, 2.0]], fill_value="extrapolate"),
        ValueError,
        r"`obj` must be scalar-valued",
        id="interp1d-vector-valued",
    ),
    _case(
        lambda: interp1d(
            [0.0, 1.0, 2.0], [0.0, 1.0, 0.0], kind="nearest", fill_value="extrapolate"
        ),
        ValueError,
        r"`obj` must be an interp1d with kind='linear'; got kind='nearest'",
        id="interp1d-nearest",
    ),
    _case(
        lambda: interp1d(
            [0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 0.0, 1.0], kind="cubic", fill_value="extrapolate"
        ),
        ValueError,
        r"`obj` must be an interp1d with kind='linear'; got .*(cubic|degree 3)",
        id="interp1d-cubic",
    ),
    _case(
        lambda: np.sin,
        TypeError,
        r"`obj` must be a scipy.interpolate PPoly .*; got ufunc",
        id="not-scipy",
    ),
    _case(
        lambda: ([0.0, 1.0], [0.0, 1.0]),
        TypeError,
        r"`obj` must be a scipy.interpolate PPoly .*; got tuple",
        id="tuple",
    ),
]


@pytest.mark.parametrize(("make", "exc", "match"), FROM_SCIPY)
def test_from_scipy_rejects(make, exc, match):
    obj = make()
    with pytest.raises(exc, match=match):
        PiecewiseLinear.from_scipy(obj)


# ------------------------------------------------------------ spline_to_relu
SPLINE_TO_RELU = [
    _case(
        lambda: spline_to_relu(_f(), weight=[1.0, NAN], bias=0.0),
        ValueError,
        r"`weight` must be finite; got weight\[1\] = .*nan",
        id="weight-nan",
    ),
    _case(
        lambda: spline_to_relu(_f(), weight=[INF], bias=0.0),
        ValueError,
        r"`weight` must be finite; got weight\[0\] = .*inf",
        id="weight-inf",
    ),
    _case(
        lambda: spline_to_relu(_f(), weight=[1.0], bias=NAN),
        ValueError,
        r"`bias` must be finite; got nan",
        id="bias-nan",
    ),
    _case(
        lambda: spline_to_relu(_f(), weight=[1.0], bias=-INF),
        ValueError,
        r"`bias` must be finite; got -inf",
        id="bias-inf",
    ),
    _case(
        lambda: spline_to_relu(_f(), weight=np.ones((2, 2)), bias=0.0),
        ValueError,
        r"`weight` must be 1-D; got an array of shape \(2, 2\)",
        id="weight-2d",
    ),
    _case(
        lambda: spline_to_relu(_f(), weight=[], bias=0.0),
        ValueError,
        r"`weight` must have at least 1 ",
        id="weight-empty",
    ),
    _case(
        lambda: spline_to_relu(_f(), weight=[1.0, 1j]),
        TypeError,
        r"`weight` must be real",
        id="weight-complex",
    ),
    _case(
        lambda: spline_to_relu(_f(), weight=F16_T),
        TypeError,
        r"`weight` has dtype torch.float16",
        id="weight-torch-float16",
    ),
    _case(
        lambda: spline_to_relu(_f(), weight=[1.0], bias="0"),
        TypeError,
        r"`bias` must be a real number; got str",
        id="bias-str",
    ),
    _case(
        lambda: spline_to_relu(_f(), weight=[1.0], bias=[0.0]),
        TypeError,
        r"`bias` must be a real number; got list",
        id="bias-list",
    ),
    _case(
        lambda: spline_to_relu(_f(), bias=1.0),
        ValueError,
        r"`bias` needs `weight`",
        id="bias-without-weight",
    ),
    _case(
        lambda: spline_to_relu(_f(), form="ramp"),
        ValueError,
        r"form='ramp' reproduces a spline only when both end slopes are 0; "
        r"got left_slope=2\.0, right_slope=-0\.5",
        id="ramp-nonzero-end-slopes",
    ),
    _case(
        lambda: spline_to_relu(
            PiecewiseLinear([0.0, 1.0], [0.0, 1.0], left_slope=0.0, right_slope=1.0), form="ramp"
        ),
        ValueError,
        r"form='ramp' reproduces a spline only when both end slopes are 0",
        id="ramp-one-nonzero-end-slope",
    ),
    _case(
        lambda: spline_to_relu(_flat(), form="ramp", weight=[1.0]),
        ValueError,
        r"form='ramp' takes one input",
        id="ramp-with-weight",
    ),
    _case(
        lambda: spline_to_relu(_f(), form="relu"),
        ValueError,
        r"`form` must be one of 'hinge', 'ramp'; got 'relu'",
        id="form-bad",
    ),
    _case(
        lambda: spline_to_relu(_f(), form="Hinge"),
        ValueError,
        r"`form` must be one of 'hinge', 'ramp'; got 'Hinge'",
        id="form-case",
    ),
    _case(
        lambda: spline_to_relu(_f(), width="max"),
        ValueError,
        r"`width` must be one of 'min', 'stable'; got 'max'",
        id="width-bad",
    ),
    _case(
        lambda: spline_to_relu(_f(), width=3),
        ValueError,
        r"`width` must be one of 'min', 'stable'; got 3",
        id="width-int",
    ),
    _case(
        lambda: spline_to_relu(_f(), dtype=torch.float16),
        TypeError,
        r"`dtype` must be torch.float64 or torch.float32; got torch.float16",
        id="dtype-float16",
    ),
    _case(
        lambda: spline_to_relu(_f(), dtype=torch.bfloat16),
        TypeError,
        r"`dtype` must be torch.float64 or torch.float32; got torch.bfloat16",
        id="dtype-bfloat16",
    ),
    _case(
        lambda: spline_to_relu(_f(), dtype=torch.complex128),
        TypeError,
        r"`dtype` must be torch.float64 or torch.float32",
        id="dtype-complex",
    ),
    _case(
        lambda: spline_to_relu(_f(), dtype="float32"),
        TypeError,
        r"`dtype` must be torch.float64 or torch.float32; got 'float32'",
        id="dtype-str",
    ),
    _case(
        lambda: spline_to_relu(_f(), dtype=np.float64),
        TypeError,
        r"`dtype` must be torch.float64 or torch.float32",
        id="dtype-numpy",
    ),
    _case(
        lambda: spline_to_relu(_f(), dtype=[]),
        TypeError,
        r"`dtype` must be torch.float64 or torch.float32",
        id="dtype-unhashable",
    ),
    _case(
        lambda: spline_to_relu(_f(), device="nonsense"), ValueError, r"`device`", id="device-bad"
    ),
    _case(
        lambda: spline_to_relu("abc"),
        TypeError,
        r"`spline` must be a PiecewiseLinear, an \(x, y\) pair or a scipy .*; got str",
        id="spline-str",
    ),
    _case(
        lambda: spline_to_relu(([0.0, 1.0], [0.0, 1.0], [0.0, 1.0])),
        TypeError,
        r"`spline` must be a PiecewiseLinear",
        id="spline-triple",
    ),
    _case(
        lambda: spline_to_relu(np.array([[0.0, 1.0], [0.0, 1.0]])),
        TypeError,
        r"`spline` must be a PiecewiseLinear.*; got ndarray",
        id="spline-array",
    ),
    _case(
        lambda: spline_to_relu(([0.0, NAN], [0.0, 1.0])),
        ValueError,
        r"`x` must be finite",
        id="spline-pair-nan",
    ),
    _case(
        lambda: spline_to_relu(([1.0, 0.0], [0.0, 1.0])),
        ValueError,
        r"`x` must be strictly increasing",
        id="spline-pair-unsorted",
    ),
    _case(
        lambda: spline_to_relu(_ppoly(extrapolate=False)),
        ValueError,
        r"extrapolate=False",
        id="spline-ppoly-extrapolate-False",
    ),
    _case(
        lambda: spline_to_relu(interp1d([0.0, 1.0], [1.0, 2.0])),
        ValueError,
        r"`spline`.*bounds_error=True",
        id="spline-interp1d-names-spline",
    ),
]


@pytest.mark.parametrize(("call", "exc", "match"), SPLINE_TO_RELU)
def test_spline_to_relu_rejects(call, exc, match):
    _check(call, exc, match)


# ------------------------------------------------------------ rounding_bound
ROUNDING_BOUND = [
    _case(
        lambda: rounding_bound(_f(), [0.0, NAN]),
        ValueError,
        r"`x` must be finite; got x\[1\]",
        id="x-nan",
    ),
    _case(
        lambda: rounding_bound(_f(), F16_NP), TypeError, r"`x` has dtype float16", id="x-float16"
    ),
    _case(
        lambda: rounding_bound(_f(), [0.0], dtype=torch.float16),
        TypeError,
        r"`dtype` must be torch.float64 or torch.float32; got torch.float16",
        id="dtype-float16",
    ),
    _case(
        lambda: rounding_bound(_f(), [0.0], form="tanh"),
        ValueError,
        r"`form` must be one of 'hinge', 'ramp'; got 'tanh'",
        id="form-bad",
    ),
    _case(
        lambda: rounding_bound(_f(), [0.0], width=""),
        ValueError,
        r"`width` must be one of 'min', 'stable'; got ''",
        id="width-bad",
    ),
    _case(
        lambda: rounding_bound(_f(), [0.0], form="ramp"),
        ValueError,
        r"form='ramp' reproduces a spline only when both end slopes are 0",
        id="ramp-slopes",
    ),
    _case(
        lambda: rounding_bound(_f(), [[0.0]], weight=[1.0, 2.0], bias=0.0),
        ValueError,
        r"`x` must have shape \(N, 2\) for a ridge function; got \(1, 1\)",
        id="x-ridge-shape",
    ),
    _case(
        lambda: rounding_bound(_f(), [[0.0]], weight=[NAN]),
        ValueError,
        r"`weight` must be finite",
        id="weight-nan",
    ),
    _case(
        lambda: rounding_bound(_f(), [0.0], bias=0.0),
        ValueError,
        r"`bias` needs `weight`",
        id="bias-without-weight",
    ),
]


@pytest.mark.parametrize(("call", "exc", "match"), ROUNDING_BOUND)
def test_rounding_bound_rejects(call, exc, match):
    _check(call, exc, match)


# ------------------------------------------------------------ relu_to_spline
RELU_TO_SPLINE = [
    # NaN / inf in the line
    _case(
        lambda: relu_to_spline(_net(n_in=2), origin=[0.0, NAN], direction=[1.0, 0.0]),
        ValueError,
        r"`origin` must be finite; got origin\[1\]",
        id="origin-nan",
    ),
    _case(
        lambda: relu_to_spline(_net(n_in=2), origin=[0.0, 0.0], direction=[INF, 0.0]),
        ValueError,
        r"`direction` must be finite; got direction\[0\]",
        id="direction-inf",
    ),
    _case(
        lambda: relu_to_spline(_net(n_in=2), origin=[[0.0, 0.0]], direction=[1.0, 0.0]),
        ValueError,
        r"`origin` must be 1-D",
        id="origin-2d",
    ),
    _case(
        lambda: relu_to_spline(_net(n_in=2), origin=[0.0, 0.0], direction=[1j, 0.0]),
        TypeError,
        r"`direction` must be real",
        id="direction-complex",
    ),
    _case(
        lambda: relu_to_spline(_net(n_in=2), origin="00", direction=[1.0, 0.0]),
        TypeError,
        r"`origin` must be a real array",
        id="origin-str",
    ),
    _case(
        lambda: relu_to_spline(_net(n_in=2), origin=F16_T, direction=[1.0, 0.0]),
        TypeError,
        r"`origin` has dtype torch.float16",
        id="origin-float16",
    ),
    _case(
        lambda: relu_to_spline(_net(n_in=2), origin=[0.0, 0.0], direction=BF16_T),
        TypeError,
        r"`direction` has dtype torch.bfloat16",
        id="direction-bfloat16",
    ),
    _case(
        lambda: relu_to_spline(_net(n_in=2), origin=[0.0, 0.0, 0.0], direction=[1.0, 0.0, 0.0]),
        ValueError,
        r"`origin` must have shape \(2,\); got \(3,\)",
        id="origin-size",
    ),
    _case(
        lambda: relu_to_spline(_net(n_in=2), origin=[0.0, 0.0], direction=[1.0]),
        ValueError,
        r"`direction` must have shape \(2,\); got \(1,\)",
        id="direction-size",
    ),
    _case(
        lambda: relu_to_spline(nn.Sequential(nn.ReLU()), origin=[0.0, 0.0], direction=[1.0]),
        ValueError,
        r"`origin` and `direction` must have the same shape",
        id="line-mismatch",
    ),
    _case(
        lambda: relu_to_spline(_net(n_in=2), origin=[0.0, 0.0], direction=[0.0, 0.0]),
        ValueError,
        r"`direction` must be non-zero",
        id="direction-zero",
    ),
    _case(
        lambda: relu_to_spline(_net(), origin=[0.0]),
        ValueError,
        r"give both `origin` and `direction`, or neither",
        id="origin-only",
    ),
    _case(
        lambda: relu_to_spline(_net(), direction=[1.0]),
        ValueError,
        r"give both `origin` and `direction`, or neither",
        id="direction-only",
    ),
    # the network's shape
    _case(
        lambda: relu_to_spline(_net(n_in=2)),
        ValueError,
        r"`net` has 2 inputs; give `origin` and `direction`",
        id="two-inputs",
    ),
    _case(
        lambda: relu_to_spline(_net(n_out=2)),
        ValueError,
        r"`net` must have one output; got 2",
        id="two-outputs",
    ),
    _case(
        lambda: relu_to_spline(nn.Sequential(nn.ReLU()), origin=[0.0, 0.0], direction=[1.0, 1.0]),
        ValueError,
        r"`net` without a Linear layer must have one input",
        id="no-linear-2d",
    ),
    _case(
        lambda: relu_to_spline(nn.Sequential(nn.Linear(1, 3), nn.Linear(2, 1))),
        ValueError,
        r"`net` has mismatched layer sizes: 3 outputs feed 2 inputs",
        id="sizes-linear",
    ),
    _case(
        lambda: relu_to_spline(nn.Sequential(nn.Linear(1, 3), nn.ReLU(), nn.Linear(2, 1))),
        ValueError,
        r"`net` has mismatched layer sizes",
        id="sizes-across-relu",
    ),
    _case(
        lambda: relu_to_spline(
            nn.Sequential(nn.Linear(1, 3), nn.ReLU(), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
        ),
        ValueError,
        r"`net` has mismatched layer sizes",
        id="sizes-across-relu-deep",
    ),
    # the network's layers
    _case(
        lambda: relu_to_spline(_net(act=nn.Tanh())),
        TypeError,
        r"`net` contains Tanh at net\[1\], a smooth activation",
        id="tanh",
    ),
    _case(
        lambda: relu_to_spline(_net(act=nn.Sigmoid())),
        TypeError,
        r"`net` contains Sigmoid at net\[1\], a smooth activation",
        id="sigmoid",
    ),
    _case(
        lambda: relu_to_spline(
            nn.Sequential(nn.Sequential(nn.Linear(1, 2), nn.GELU()), nn.Linear(2, 1))
        ),
        TypeError,
        r"`net` contains GELU at net\[0\]\[1\]",
        id="gelu-nested",
    ),
    _case(
        lambda: relu_to_spline(_net(act=nn.Softmax(dim=-1))),
        TypeError,
        r"`net` contains Softmax at net\[1\]; supported: Linear, ReLU",
        id="softmax",
    ),
    _case(
        lambda: relu_to_spline(nn.Sequential(nn.Conv1d(1, 1, 1))),
        TypeError,
        r"`net` contains Conv1d at net\[0\]",
        id="conv",
    ),
    _case(
        lambda: relu_to_spline(nn.Linear(1, 1)),
        TypeError,
        r"`net` must be a torch.nn.Sequential of .*; got Linear",
        id="not-sequential-linear",
    ),
    _case(
        lambda: relu_to_spline(nn.ModuleList([nn.Linear(1, 1)])),
        TypeError,
        r"`net` must be a torch.nn.Sequential of .*; got ModuleList",
        id="modulelist",
    ),
    _case(
        lambda: relu_to_spline(lambda x: x),
        TypeError,
        r"`net` must be a torch.nn.Sequential of .*; got function",
        id="callable",
    ),
    _case(
        lambda: relu_to_spline(_f()),
        TypeError,
        r"`net` must be a torch.nn.Sequential of .*; got PiecewiseLinear",
        id="spline",
    ),
    # training mode
    _case(
        lambda: relu_to_spline(
            nn.Sequential(nn.Linear(1, 4), nn.Dropout(), nn.ReLU(), nn.Linear(4, 1))
        ),
        ValueError,
        r"`net` is in training mode and net\[1\] is Dropout\(p=0\.5\)",
        id="dropout-training",
    ),
    _case(
        lambda: relu_to_spline(nn.Sequential(nn.Linear(1, 4), nn.AlphaDropout(0.1))),
        ValueError,
        r"`net` is in training mode and net\[1\] is Dropout\(p=0\.1\)",
        id="alphadropout-training",
    ),
    _case(
        lambda: relu_to_spline(_bn_net(train=True)),
        ValueError,
        r"`net` is in training mode.*net\[1\] is BatchNorm1d",
        id="batchnorm-training",
    ),
    _case(
        lambda: relu_to_spline(_bn_net(train=True)),
        ValueError,
        r"`net` is in training mode and net\[1\] is BatchNorm1d.*call net.eval\(\) first",
        id="batchnorm-training-type-and-position",
    ),
    _case(
        lambda: relu_to_spline(_bn_net(train=False, track=False)),
        ValueError,
        r"`net`.*net\[1\] is BatchNorm1d without running statistics",
        id="batchnorm-no-running-stats",
    ),
    _case(
        lambda: relu_to_spline(nn.Sequential(nn.Flatten(0), nn.Linear(1, 1))),
        ValueError,
        r"`net`.*net\[0\].*Flatten\(start_dim=1, end_dim=-1\)",
        id="flatten-dims",
    ),
    # non-finite parameters
    _case(
        lambda: relu_to_spline(_poisoned(_net(), 0, "weight", NAN)),
        ValueError,
        r"`net`.*finite",
        id="net-weight-nan",
    ),
    _case(
        lambda: relu_to_spline(_poisoned(_net(), 2, "bias", INF)),
        ValueError,
        r"`net`.*finite",
        id="net-bias-inf",
    ),
    _case(
        lambda: relu_to_spline(_poisoned(_deep(), 2, "weight", NAN)),
        ValueError,
        r"`net`.*finite",
        id="deep-net-weight-nan",
    ),
    _case(
        lambda: relu_to_spline(_poisoned(_bn_net(train=False), 1, "running_mean", INF)),
        ValueError,
        r"`net`.*finite",
        id="batchnorm-running-mean-inf",
    ),
    _case(
        lambda: relu_to_spline(_net(act=nn.LeakyReLU(NAN))),
        ValueError,
        r"`net`.*finite",
        id="leakyrelu-slope-nan",
    ),
    # max_pieces
    _case(
        lambda: relu_to_spline(_deep(), max_pieces=2),
        ValueError,
        r"`net` has more than `max_pieces` = 2 linear pieces on a layer",
        id="max_pieces-deep",
    ),
    _case(
        lambda: relu_to_spline(_net(width=8), max_pieces=2),
        ValueError,
        r"`net` has more than `max_pieces` = 2 linear pieces",
        id="max_pieces-one-hidden-layer",
    ),
    _case(
        lambda: relu_to_spline(_net(), max_pieces=0),
        ValueError,
        r"`max_pieces` must be positive; got 0",
        id="max_pieces-zero",
    ),
    _case(
        lambda: relu_to_spline(_net(), max_pieces=1.5),
        TypeError,
        r"`max_pieces` must be an integer; got float",
        id="max_pieces-float",
    ),
    _case(
        lambda: relu_to_spline(_net(), max_pieces=True),
        TypeError,
        r"`max_pieces` must be an integer; got bool",
        id="max_pieces-bool",
    ),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(("call", "exc", "match"), RELU_TO_SPLINE)
def test_relu_to_spline_rejects(call, exc, match):
    _check(call, exc, match)


# ------------------------------------------------------------------ evaluate
EVALUATE = [
    _case(
        lambda: evaluate(_net(n_in=2), np.zeros((5, 3))),
        ValueError,
        r"`x` must have shape \(N, 2\) for this net; got \(5, 3\)",
        id="width-3-for-2",
    ),
    _case(
        lambda: evaluate(_net(n_in=2), np.zeros(5)),
        ValueError,
        r"`x` must have shape \(N, 2\) for this net; got \(5,\)",
        id="1d-for-2",
    ),
    _case(
        lambda: evaluate(_net(), np.zeros((5, 2))),
        ValueError,
        r"`x` must have shape \(N, 1\) for this net; got \(5, 2\)",
        id="width-2-for-1",
    ),
    _case(
        lambda: evaluate(_net(), np.zeros((5, 1, 1))),
        ValueError,
        r"`x` must have shape \(N, 1\) for this net; got \(5, 1, 1\)",
        id="3d",
    ),
    _case(
        lambda: evaluate(_net(), [0.0, NAN]),
        ValueError,
        r"`x` must be finite; got x\[1\]",
        id="x-nan",
    ),
    _case(lambda: evaluate(_net(), [INF]), ValueError, r"`x` must be finite", id="x-inf"),
    _case(lambda: evaluate(_net(), [0.0, 1j]), TypeError, r"`x` must be real", id="x-complex"),
    _case(lambda: evaluate(_net(), "x"), TypeError, r"`x` must be a real array", id="x-str"),
    _case(
        lambda: evaluate(_net(), F16_T),
        TypeError,
        r"`x` has dtype torch.float16",
        id="x-torch-float16",
    ),
    _case(
        lambda: evaluate(_net(), BF16_T),
        TypeError,
        r"`x` has dtype torch.bfloat16",
        id="x-torch-bfloat16",
    ),
    _case(lambda: evaluate(_net(), F16_NP), TypeError, r"`x` has dtype float16", id="x-float16"),
    _case(
        lambda: evaluate("net", [0.0]),
        TypeError,
        r"`net` must be a torch.nn.Module; got str",
        id="net-str",
    ),
    _case(
        lambda: evaluate(_f(), [0.0]),
        TypeError,
        r"`net` must be a torch.nn.Module; got PiecewiseLinear",
        id="net-spline",
    ),
]


@pytest.mark.parametrize(("call", "exc", "match"), EVALUATE)
def test_evaluate_rejects(call, exc, match):
    _check(call, exc, match)


# ----------------------------------------------------- methods and operators
def _line() -> PiecewiseLinear:
    return PiecewiseLinear([0.0, 1.0], [0.0, 1.0])


METHODS = [
    _case(
        lambda: _f() * _f(),
        TypeError,
        r"the product of two PiecewiseLinear functions is not piecewise linear",
        id="pl-times-pl",
    ),
    _case(lambda: _f() * None, TypeError, r"unsupported operand", id="pl-times-None"),
    _case(lambda: _f() + "2", TypeError, r"unsupported operand", id="pl-plus-str"),
    _case(lambda: _f() * 2j, TypeError, r"unsupported operand", id="pl-times-complex"),
    _case(lambda: _f() + np.ones(2), TypeError, r"PiecewiseLinear", id="pl-plus-array"),
    _case(lambda: _f() + NAN, ValueError, r"`other` must be finite; got nan", id="pl-plus-nan"),
    _case(lambda: INF * _f(), ValueError, r"`other` must be finite; got inf", id="inf-times-pl"),
    _case(lambda: _f() - np.float64(-INF), ValueError, r"must be finite", id="pl-minus-inf"),
    _case(lambda: _f() / NAN, ValueError, r"`other` must be finite", id="pl-div-nan"),
    _case(
        lambda: _f() / 0,
        ZeroDivisionError,
        r"division of a PiecewiseLinear by zero",
        id="pl-div-zero",
    ),
    _case(
        lambda: _f().inverse(),
        ValueError,
        r"f must be strictly monotone to have an inverse; got slopes\[0\] = .*2\.0.* and "
        r"slopes\[2\] = .*-0\.5",
        id="inverse-non-monotone",
    ),
    _case(
        lambda: PiecewiseLinear([0.0], [1.0], left_slope=0.0, right_slope=0.0).inverse(),
        ValueError,
        r"f must be strictly monotone",
        id="inverse-constant",
    ),
    _case(
        lambda: PiecewiseLinear([0.0, 1.0, 2.0], [0.0, 1.0, 1.0]).inverse(),
        ValueError,
        r"f must be strictly monotone",
        id="inverse-flat-piece",
    ),
    _case(
        lambda: _line().max(),
        ValueError,
        r"f is unbounded above as x -> \+inf \(right_slope = 1\.0\); give a finite `b`",
        id="max-unbounded",
    ),
    _case(
        lambda: _line().min(),
        ValueError,
        r"f is unbounded below as x -> -inf \(left_slope = 1\.0\); give a finite `a`",
        id="min-unbounded",
    ),
    _case(
        lambda: _line().argmax(a=0.0), ValueError, r"give a finite `b`", id="argmax-half-bounded"
    ),
    _case(
        lambda: _line().argmin(b=0.0), ValueError, r"give a finite `a`", id="argmin-half-bounded"
    ),
    _case(
        lambda: _f().max(2.0, 1.0),
        ValueError,
        r"`a` must not exceed `b`; got a = 2\.0, b = 1\.0",
        id="max-a-above-b",
    ),
    _case(lambda: _f().max(NAN, 1.0), ValueError, r"`a` must be finite; got nan", id="max-a-nan"),
    _case(
        lambda: _f().min(0.0, "1"), TypeError, r"`b` must be a real number; got str", id="min-b-str"
    ),
    _case(
        lambda: _f().integrate(0.0, INF),
        ValueError,
        r"`b` must be finite; got inf",
        id="integrate-inf",
    ),
    _case(
        lambda: _f().integrate(NAN, 1.0),
        ValueError,
        r"`a` must be finite; got nan",
        id="integrate-nan",
    ),
    _case(lambda: _f().roots(NAN), ValueError, r"`y` must be finite; got nan", id="roots-nan"),
    _case(
        lambda: _f().roots([0.0, 1.0]),
        TypeError,
        r"`y` must be a real number; got list",
        id="roots-list",
    ),
    _case(
        lambda: _f().simplify(-1.0),
        ValueError,
        r"`tol` must be non-negative; got -1\.0",
        id="simplify-negative",
    ),
    _case(lambda: _f().simplify(NAN), ValueError, r"`tol` must be finite", id="simplify-nan"),
    _case(
        lambda: _f().allclose([0.0]),
        TypeError,
        r"`other` must be a PiecewiseLinear; got list",
        id="allclose-list",
    ),
    _case(
        lambda: _f().to_torch(dtype=torch.float16),
        TypeError,
        r"`dtype` must be torch.float64 or torch.float32; got torch.float16",
        id="to_torch-float16",
    ),
    _case(
        lambda: _f().to_torch(dtype=torch.bfloat16),
        TypeError,
        r"`dtype` must be torch.float64 or torch.float32",
        id="to_torch-bfloat16",
    ),
    _case(
        lambda: _f().to_torch(dtype={}),
        TypeError,
        r"`dtype` must be torch.float64 or torch.float32",
        id="to_torch-unhashable",
    ),
    _case(
        lambda: _f().to_torch(device="nonsense"), ValueError, r"`device`", id="to_torch-device-bad"
    ),
    _case(
        lambda: compose(_f(), 1.0),
        TypeError,
        r"`g` must be a PiecewiseLinear; got float",
        id="compose-g",
    ),
    _case(
        lambda: compose(np.sin, _f()),
        TypeError,
        r"`f` must be a PiecewiseLinear; got ufunc",
        id="compose-f",
    ),
    _case(
        lambda: maximum(_f(), "a"),
        TypeError,
        r"`g` must be a PiecewiseLinear or a real number; got str",
        id="maximum-g-str",
    ),
    _case(
        lambda: maximum(_f(), NAN), ValueError, r"`g` must be finite; got nan", id="maximum-g-nan"
    ),
    _case(
        lambda: maximum(1.0, 2.0),
        TypeError,
        r"at least one of `f` and `g` must be a PiecewiseLinear",
        id="maximum-no-spline",
    ),
    _case(
        lambda: maximum("a", _f()),
        TypeError,
        r"`f` must be a PiecewiseLinear or a real number; got str",
        id="maximum-f-str",
    ),
    _case(
        lambda: minimum(NAN, _f()), ValueError, r"`f` must be finite; got nan", id="minimum-f-nan"
    ),
]


@pytest.mark.parametrize(("call", "exc", "match"), METHODS)
def test_methods_reject(call, exc, match):
    _check(call, exc, match)


# ------------------------------------------------------- numbers in messages
@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        _case(
            lambda: PiecewiseLinear([0.0, 2.0, 1.0], [0.0, 1.0, 2.0]),
            ValueError,
            r"`knots` must be strictly increasing; got knots\[2\] = 1\.0 <= knots\[1\] = 2\.0",
            id="as_knots",
        ),
        _case(
            lambda: _f()([0.0, NAN]),
            ValueError,
            r"`x` must be finite; got x\[1\] = nan",
            id="check_finite",
        ),
        _case(
            _interp(_nan_above_half, n=5),
            ValueError,
            r"`f` must be finite on \[a, b\]; got f\(0\.75\) = nan",
            id="interpolate",
        ),
        _case(
            lambda: PiecewiseLinear.from_scipy(
                PPoly(np.array([[1.0, 1.0], [0.0, 5.0]]), [0.0, 1.0, 2.0])
            ),
            ValueError,
            r"`obj` is discontinuous at x = 1\.0 \(left limit 1\.0, right value 5\.0\)",
            id="from_scipy-discontinuous",
        ),
        _case(
            lambda: PiecewiseLinear.from_scipy(interp1d([0.0, 1.0], [1.0, 2.0])),
            ValueError,
            r"defined only on \[0\.0, 1\.0\]",
            id="from_scipy-bounds_error",
        ),
        _case(
            lambda: _f().inverse(),
            ValueError,
            r"got slopes\[0\] = 2\.0 and slopes\[2\] = -0\.5",
            id="inverse",
        ),
    ],
)
def test_messages_print_plain_numbers(call, exc, match):
    with pytest.raises(exc, match=match) as info:
        call()
    assert "np.float64(" not in str(info.value)


# ----------------------------------------------------------- value semantics
@pytest.mark.parametrize("name", ["knots", "values", "slopes", "left_slope", "_knots", "extra"])
def test_attribute_assignment_raises(name):
    f = _f()
    with pytest.raises(AttributeError, match=r"PiecewiseLinear is immutable"):
        setattr(f, name, np.zeros(3))
    assert f == _f()


@pytest.mark.parametrize("name", ["knots", "values", "slope_changes", "left_slope"])
def test_attribute_deletion_raises(name):
    f = _f()
    with pytest.raises(AttributeError):
        delattr(f, name)
    assert f == _f()


def test_private_slot_deletion_raises():
    f = _f()
    with pytest.raises(AttributeError, match=r"PiecewiseLinear is immutable"):
        del f._knots


@pytest.mark.parametrize("name", ["knots", "values", "slopes"])
def test_arrays_are_read_only(name):
    f = _f()
    arr = getattr(f, name)
    with pytest.raises(ValueError, match=r"read-only"):
        arr[0] = 42.0
    with pytest.raises(ValueError, match=r"read-only"):
        arr += 1.0
    with pytest.raises(ValueError, match=r"read-only"):
        np.copyto(arr, 0.0)
    assert f == _f()


@pytest.mark.parametrize("name", ["knots", "values", "slopes"])
def test_arrays_cannot_be_made_writable(name):
    f = _f()
    arr = getattr(f, name)
    with pytest.raises(ValueError, match=r"WRITEABLE|writeable|read-only"):
        arr.flags.writeable = True
    assert f == _f()


def _build(kind: str, knots, values) -> PiecewiseLinear:
    if kind == "constructor":
        return PiecewiseLinear(knots, values)
    if kind == "from_points":
        return PiecewiseLinear.from_points(knots, values)
    return PiecewiseLinear.from_points(knots, values, extrapolate="constant")


@pytest.mark.parametrize("kind", ["constructor", "from_points", "from_points-constant"])
@pytest.mark.parametrize("container", ["numpy", "torch"])
def test_mutating_inputs_afterwards_does_not_change_the_spline(kind, container):
    knots = np.array([0.0, 1.0, 3.0])
    values = np.array([0.0, 2.0, 1.0])
    if container == "torch":
        knots, values = torch.from_numpy(knots), torch.from_numpy(values)
    f = _build(kind, knots, values)
    expected = _build(kind, [0.0, 1.0, 3.0], [0.0, 2.0, 1.0])
    before = hash(f)
    knots[0] = -10.0
    knots[1] = 2.5
    values[:] = 99.0
    assert f == expected
    assert hash(f) == before
    assert f(0.5) == 1.0


def test_mutating_interpolated_arrays_afterwards_does_not_change_the_spline():
    seen = []

    def g(x):
        x *= 2.0  # return the very array the library passed in
        seen.append(x)
        return x

    f = PiecewiseLinear.interpolate(g, 0.0, 1.0, n=3)
    for x in seen:
        x[:] = 7.0
    assert f == PiecewiseLinear([0.0, 0.5, 1.0], [0.0, 1.0, 2.0])
