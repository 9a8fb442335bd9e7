"""pwlmodels: continuous piecewise-linear functions as exact ReLU networks, and back."""

from importlib.metadata import PackageNotFoundError, version

from ._algebra import compose, maximum, minimum
from .fit import PWLFit, fit_pwl, select_knots
from .relu import (
    PrecisionWarning,
    SplineModule,
    evaluate,
    relu_to_spline,
    rounding_bound,
    spline_to_relu,
)
from .spline import PiecewiseLinear

try:
    __version__ = version("pwlmodels")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "PWLFit",
    "PiecewiseLinear",
    "PrecisionWarning",
    "SplineModule",
    "__version__",
    "compose",
    "evaluate",
    "fit_pwl",
    "maximum",
    "minimum",
    "relu_to_spline",
    "rounding_bound",
    "select_knots",
    "spline_to_relu",
]
