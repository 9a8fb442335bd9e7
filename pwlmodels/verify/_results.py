"""The result types of verification: verified optima, proofs, robustness certificates."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["ProofResult", "RobustnessResult", "VerificationResult"]


@dataclass(frozen=True)
class VerificationResult:
    """A verified optimum: ``value`` attained at ``witness``, ``bound`` beyond any value.

    Attributes
    ----------
    value : float
        Float64 forward pass of the objective at ``witness``.
    witness : ndarray, shape (n_in,)
        A point of the box (float64).
    bound : float
        For a maximum, an upper bound of the objective over the box; for a
        minimum, a lower bound.
    gap : float
        ``|bound - value|``, at least 0.
    status : {"optimal", "time_limit", "node_limit", "precision_limit"}
        Why the search stopped; ``bound`` is sound whatever the status.

        - ``"optimal"``: ``gap <= atol + rtol |value|``.
        - ``"time_limit"``: ``time_limit`` ran out first.
        - ``"node_limit"``: the node budget ran out first (bab's
          ``max_boxes``, or the MILP's confirmation budget), or the bound
          overflowed float64; more boxes may close the gap.
        - ``"precision_limit"``: the search finished without reaching a
          node or time limit, but the gap stays above the tolerance: the
          sound bound's float64 rounding margins (or boxes split down to
          float64 resolution, or an LP of the phase search that failed)
          exceed it, as when the MILP's witness is off by HiGHS's
          integrality tolerance. More nodes would not help; a tolerance
          above the reported ``gap`` would (``atol=0`` with ``rtol=0``
          usually ends here).
    method : {"spline", "bab", "milp", "bab+milp", "region"}
        ``"bab+milp"``: ``method="auto"`` with 2 to 4 inputs, where branch
        and bound used 20,000 boxes without closing the gap (flat maxima,
        typical of Hardtanh) and the MILP finished (best witness, smallest
        bound of the two).
    n_binary, n_stable : int
        Binaries and stable units of the MILP (0 for the other methods).
    n_nodes : int
        Boxes bounded (bab) or MILP nodes.
    build_time, solve_time : float
        Seconds.
    solver_value : float or None
        The MILP solver's objective (None for the other methods).
    solver_bound : float or None
        The MILP solver's dual bound, as HiGHS reported it (None for the
        other methods, or when it gave none). Not trusted: ``bound`` comes
        from branch and bound, which confirms or replaces it.
    """

    value: float
    witness: np.ndarray
    bound: float
    gap: float
    status: str
    method: str
    n_binary: int = 0
    n_stable: int = 0
    n_nodes: int = 0
    build_time: float = 0.0
    solve_time: float = 0.0
    solver_value: float | None = None
    solver_bound: float | None = None

    def to_frame(self):
        """One-row pandas DataFrame (the witness as a tuple)."""
        return _one_row(self)


@dataclass(frozen=True)
class ProofResult:
    """The outcome of :func:`pwlmodels.prove_bound`.

    Attributes
    ----------
    status : {"proven", "counterexample", "undecided"}
    threshold : float
    sense : {"<=", ">="}
    value : float
        The best objective found (at ``witness``).
    witness : ndarray, shape (n_in,)
        A counterexample when ``status == "counterexample"``.
    bound : float
        The verified bound in the direction of ``sense``.
    method : str
    n_nodes : int
    solve_time : float
    """

    status: str
    threshold: float
    sense: str
    value: float
    witness: np.ndarray
    bound: float
    method: str
    n_nodes: int
    solve_time: float

    def to_frame(self):
        """One-row pandas DataFrame (the witness as a tuple)."""
        return _one_row(self)


@dataclass(frozen=True)
class RobustnessResult:
    """The outcome of :func:`pwlmodels.local_robustness`.

    Attributes
    ----------
    robust : bool or None
        True: the predicted class keeps a positive margin on the whole ball;
        False: ``counterexample`` is a point of the ball where it does not
        (a sound bound of the margin there, not only its float64 value, is
        <= 0); None: undecided at a limit or within rounding.
    predicted : int
        ``argmax net(x0)``.
    margin_bounds : ndarray, shape (n_out,)
        Verified lower bounds of ``net_k(x) - net_j(x)`` over the ball (inf at k).
    margin_values : ndarray, shape (n_out,)
        Attained margins (inf at k).
    counterexample : ndarray, shape (n_in,), or None
    method : str
        ``"region"`` when the ball lies in x0's activation region (exact).
    """

    robust: bool | None
    predicted: int
    margin_bounds: np.ndarray
    margin_values: np.ndarray
    counterexample: np.ndarray | None
    method: str

    def to_frame(self):
        """One row per other class: its margin bound and attained margin."""
        import pandas as pd

        keep = np.arange(self.margin_bounds.size) != self.predicted
        return pd.DataFrame(
            {
                "cls": np.flatnonzero(keep),
                "margin_bound": self.margin_bounds[keep],
                "margin_value": self.margin_values[keep],
            }
        )


def _one_row(result):
    """A result dataclass with a ``witness`` as a one-row DataFrame."""
    import pandas as pd

    row = asdict(result)
    row["witness"] = tuple(float(v) for v in result.witness)
    return pd.DataFrame([row])
