"""Verified maxima and minima of piecewise-linear networks over boxes.

What is verified is the real-arithmetic function of the network's parameters
cast exactly to float64 (each Linear layer as it is, never multiplied into
its neighbour; BatchNorm1d as the affine map ``z s + t`` folded in float64
as :mod:`pwlmodels.network._parse` states), for Linear + ReLU / LeakyReLU / PReLU /
Hardtanh networks of any depth, over a box ``lower <= x <= upper``. Three
methods check each other:

- ``"spline"`` (one input): :func:`pwlmodels.relu_to_spline` gives the
  breakpoints inside the box; the value is the best of them and the box's
  ends, the bound the largest sound linear bound (below) over the pieces
  between them, exact up to its margins where the net is affine.
- ``"bab"``: input-domain branch and bound with CROWN / DeepPoly linear
  relaxations (Zhang et al. 2018; Singh et al. 2019) batched over boxes in
  torch float64; the branching input is the one with the largest
  ``|A_j| (u_j - l_j)`` of the box's linear bound ``A x + d``.
- ``"milp"``: big-M with one binary per unstable unit (Tjeng, Xiao and
  Tedrake 2019) solved by ``scipy.optimize.milp`` (HiGHS) on the unit box;
  none for stable units, nor for last-layer units the objective pushes onto
  their kink. HiGHS's answer is a proposal: branch and bound over the input
  box, seeded with it, and if needed over activation phases with safe LP
  bounds (``pwlmodels.verify._phases``) supply the bound; HiGHS's dual bound is kept
  only as ``solver_bound``.

Limits
------
Results are exact in real arithmetic up to the stated tolerance
(``gap <= atol + rtol |value|``) with documented floating-point margins:
linear and interval bounds are computed in float64 and widened by a
first-order rounding term and an absolute underflow term carried through the
layers (``pwlmodels.verify._bounds``); LP bounds are weak-duality
bounds of the solver's dual vector, recomputed and widened likewise (Neumaier
and Shcherbina 2004), so no bound rests on a solver's tolerances, nor on a
float64 spline. Boxes and networks whose interval bounds exceed 1e300 in
magnitude are refused. This is not a guarantee against networks crafted to
exploit rounding (Zombori et al. 2021; Jia and Rinard 2021).
"""

from ._check import CheckResult, check
from ._many import verify_many
from ._verify import (
    ProofResult,
    RobustnessResult,
    SolverInconsistencyWarning,
    VerificationResult,
    dead_units_on_box,
    local_robustness,
    maximize,
    minimize,
    prove_bound,
    prune,
)

__all__ = [
    "CheckResult",
    "ProofResult",
    "RobustnessResult",
    "SolverInconsistencyWarning",
    "VerificationResult",
    "check",
    "dead_units_on_box",
    "local_robustness",
    "maximize",
    "minimize",
    "prove_bound",
    "prune",
    "verify_many",
]
