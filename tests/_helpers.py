"""Shared references, strategies and checks for the tests.

The reference for a spline is an independent evaluation in extended precision
(numpy.longdouble): interior slopes recomputed from knots and values, no code
shared with pwlmodels.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import strategies as st
from torch import nn

from pwlmodels import PiecewiseLinear

EPS = np.finfo(np.float64).eps
CUDA = torch.cuda.is_available()
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not CUDA, reason="no CUDA"))]

# Largest error/bound ratio and relative error seen, per (data, form, dtype): printed at the end.
_WORST: dict[tuple[str, str, str], dict[str, float]] = defaultdict(
    lambda: {"ratio": 0.0, "rel": 0.0}
)


def record_error(form: str, dtype: str, ratio: float, rel: float, data: str = "random") -> None:
    worst = _WORST[(data, form, dtype)]
    worst["ratio"] = max(worst["ratio"], ratio)
    worst["rel"] = max(worst["rel"], rel)


def reference(f: PiecewiseLinear, x: np.ndarray) -> np.ndarray:
    """f(x) in extended precision, independent of PiecewiseLinear.__call__."""
    ld = np.longdouble
    t, v = f.knots.astype(ld), f.values.astype(ld)
    x = np.asarray(x, dtype=np.float64).astype(ld)
    inner = (v[1:] - v[:-1]) / (t[1:] - t[:-1])
    slopes = np.concatenate([[ld(f.left_slope)], inner, [ld(f.right_slope)]])
    idx = np.searchsorted(t, x, side="right")
    base = np.clip(idx - 1, 0, t.size - 1)
    return v[base] + slopes[idx] * (x - t[base])


def sample_points(f: PiecewiseLinear, rng: np.random.Generator, n: int = 2000) -> np.ndarray:
    """Knots, midpoints, random points and points far outside (up to 1e6 spans)."""
    t = f.knots
    span = float(t[-1] - t[0]) if t.size > 1 else 1.0
    far = span * np.logspace(-3, 6, 40)
    return np.concatenate(
        [
            t,
            t[:-1] + np.diff(t) / 2,
            rng.uniform(t[0] - span, t[-1] + span, n),
            t[0] - far,
            t[-1] + far,
        ]
    )


def random_spline(rng: np.random.Generator, k: int, *, ends: str = "linear") -> PiecewiseLinear:
    """Random-walk values on random knots; ends 'linear' (continued) or 'constant'."""
    t = np.cumsum(rng.uniform(0.1, 1.0, k))
    v = rng.normal(size=k)
    if ends == "constant":
        return PiecewiseLinear(t, v, left_slope=0.0, right_slope=0.0)
    if k == 1:
        return PiecewiseLinear(
            t, v, left_slope=float(rng.normal()), right_slope=float(rng.normal())
        )
    return PiecewiseLinear(t, v)


@st.composite
def splines(draw, max_knots: int = 8, scale: float = 100.0) -> PiecewiseLinear:
    """Hypothesis strategy: small splines with well-separated knots."""
    k = draw(st.integers(1, max_knots))
    real = st.floats(-scale, scale, allow_nan=False, allow_infinity=False)
    start = draw(real)
    gaps = draw(st.lists(st.floats(0.01, scale / 4), min_size=k - 1, max_size=k - 1))
    t = start + np.concatenate([[0.0], np.cumsum(gaps)])
    if np.any(np.diff(t) <= 0):
        t = start + np.arange(k, dtype=float)
    v = draw(st.lists(real, min_size=k, max_size=k))
    slope = st.floats(-10.0, 10.0, allow_nan=False)
    return PiecewiseLinear(t, v, left_slope=draw(slope), right_slope=draw(slope))


def assert_close_scaled(actual, expected, f_list, x, *, ulps: float = 64.0) -> None:
    """|actual - expected| <= ulps * eps * (the magnitude a float64 evaluation works with)."""
    x = np.asarray(x, dtype=np.float64)
    scale = np.zeros_like(x)
    for f in f_list:
        reach = np.abs(x) + np.max(np.abs(f.knots))
        scale = scale + np.max(np.abs(f.values)) + np.max(np.abs(f.slopes)) * reach
    err = np.abs(np.asarray(actual, dtype=np.float64) - np.asarray(expected, dtype=np.float64))
    assert np.all(err <= ulps * EPS * (1.0 + scale)), float(np.max(err / (1.0 + scale)))


def exact_value(net: nn.Sequential, x: np.ndarray, output: int = 0) -> Fraction:
    """net(x)[output] in rational arithmetic, the float64 parameters and x taken exactly.

    Linear, ReLU, LeakyReLU and Hardtanh layers, as the fuzzed and crafted nets use.
    """
    h = [Fraction(float(v)) for v in np.ravel(x)]
    for m in net:
        if isinstance(m, nn.Linear):
            w = m.weight.detach().double().numpy()
            b = m.bias.detach().double().numpy() if m.bias is not None else np.zeros(len(w))
            h = [
                sum((Fraction(float(w[i, j])) * h[j] for j in range(len(h))), Fraction(0))
                + Fraction(float(b[i]))
                for i in range(w.shape[0])
            ]
        elif isinstance(m, nn.Hardtanh):
            lo_, hi_ = Fraction(m.min_val), Fraction(m.max_val)
            h = [min(max(v, lo_), hi_) for v in h]
        elif isinstance(m, nn.LeakyReLU):
            s = Fraction(m.negative_slope)
            h = [v if v > 0 else s * v for v in h]
        elif isinstance(m, nn.ReLU):
            h = [max(v, Fraction(0)) for v in h]
        else:
            raise TypeError(f"exact_value does not read {type(m).__name__}")
    return h[output]


def disallowed(value: object, where: str = "result") -> list[str]:
    """Paths inside a study's result holding anything but numbers, strings, numeric arrays,
    DataFrames (non-numeric columns of strings), and tuples, dicts and frozen dataclasses of
    those: no network, tensor, figure, callable, list or mutable record."""
    if value is None or isinstance(value, (bool, int, float, complex, str, np.number, np.bool_)):
        return []
    if isinstance(value, np.ndarray):
        return [] if value.dtype.kind in "biufc" else [f"{where}: ndarray of {value.dtype}"]
    if isinstance(value, pd.DataFrame):
        return [
            f"{where}[{name!r}]: {type(v).__name__}"
            for name, column in value.items()
            if column.dtype.kind not in "biufc"
            for v in column[:1]
            if not all(isinstance(x, str) for x in column)
        ]
    if isinstance(value, tuple):
        return [bad for i, v in enumerate(value) for bad in disallowed(v, f"{where}[{i}]")]
    if isinstance(value, dict):
        return [
            bad
            for k, v in value.items()
            for bad in disallowed(k, f"{where} key") + disallowed(v, f"{where}[{k!r}]")
        ]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if not type(value).__dataclass_params__.frozen:
            return [f"{where}: {type(value).__name__} is not frozen"]
        return [
            bad
            for f in dataclasses.fields(value)
            for bad in disallowed(getattr(value, f.name), f"{where}.{f.name}")
        ]
    return [f"{where}: {type(value).__module__}.{type(value).__qualname__}"]
