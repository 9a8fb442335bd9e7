"""Regression tests for what an attack on PiecewiseAffine, pwa_to_relu and relu_to_pwa
found (issue 20): each test names the input that used to fail and how.

References: the refusal messages' argument names; exact rational arithmetic
(fractions.Fraction) for the network's error against the bound.
"""

from __future__ import annotations

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
