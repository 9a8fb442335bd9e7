"""Least-squares piecewise-linear fits: fixed or free knots, with shape constraints.

numpy/scipy only (no torch). The fit lives in the degree-1 B-spline (hat)
basis on the nodes ``[min x, knots..., max x]``: its normal equations are
tridiagonal, so a fixed-knot fit is O(n + K). Free knots are found by
variable projection (the values solved exactly for given knots, Golub and
Pereyra 1973) on segment moments from prefix sums, which makes one SSR
evaluation O(K log n) whatever n: a dynamic-programming start on binned
data, BFGS on the knot positions with the analytic gradient, jumps to
the exact optimum of a knot cell (line fits) where BFGS creeps, and a
discrete polish that relocates single knots. Constraints go through LSI ->
LDP -> NNLS (Lawson and Hanson 1974), exactly. :func:`fit_many` fits one
function per group of a DataFrame, in this process or on a Dask cluster.
"""

from ._fit import (
    PWLFit,
    fit_pwl,
    select_knots,
)
from ._many import fit_many

__all__ = [
    "PWLFit",
    "fit_many",
    "fit_pwl",
    "select_knots",
]
