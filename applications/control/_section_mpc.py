"""The MPC part of the control section, worded from a ControlResult: nothing computed here.

The explicit MPC law and its fits, then the law as an exact ReLU network, then the
closed-loop certificates, each figure labelled by what it is: exact, certified (a
verified answer), sound bound (not exact), sampled or simulated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..report import markdown_table
from ._mpc import BOX, U_BOUND, N, R
from ._result import ControlResult

__all__: list[str] = []


def _fits_text(result: ControlResult) -> str:
    m, cfg = result.mpc, result.config
    relu_m, tanh_m = m.fits["relu"], m.fits["tanh"]
    return (
        "The input-constrained MPC law of the double integrator x+ = [[1, 1], [0, 1]] x + "
        f"[0.5, 1]' u, |u| <= {U_BOUND:g}, horizon {N}, stage cost x'x + {R[0, 0]:g} u^2 and "
        "the Riccati terminal cost, is a continuous PWL function on polyhedral critical "
        "regions (Bemporad et al. 2002). Enumerating every active set of the moves (kept when "
        f"its region has an interior point in the box |x1| <= {BOX[0]:g}, |x2| <= {BOX[1]:g}) "
        "gives "
        f"{m.n_regions} critical regions, on which the first move takes {m.pieces} distinct "
        f"affine forms. The law sampled by solving {cfg.mpc[0]} QPs agrees with the "
        f"regions to {m.qp_gap:.1e}. Networks 2-16-16-1 ({relu_m.parameters} parameters, seed "
        f"{result.seeds[0]}) fitted to the samples (Karg and Lucia 2020): ReLU RMSE "
        f"{relu_m.rmse:.2g} (max error {relu_m.max_error:.2g}), tanh RMSE {tanh_m.rmse:.2g} "
        f"(max {tanh_m.max_error:.2g}) on a 201 x 161 grid; the ReLU fit has "
        f"{len(m.relu_partition)} linear regions in the box, against the MPC's "
        f"{m.n_regions}: it approximates the law with more, smaller pieces, "
        "without recovering the exact partition.\n"
    )


def _network_text(result: ControlResult) -> str:
    m = result.mpc
    n = m.cert.network
    same = "coincide" if n.same_maps else "do NOT coincide"
    return (
        "\n**The law as an exact ReLU network.** `pwa_to_relu(law)` builds a network of "
        f"{n.hidden_layers} hidden layers, {n.relus} ReLUs and {n.parameters} parameters (a "
        "pruned lattice: no fitting). On the grid its float64 output differs from the law by "
        f"at most {n.max_error:.1e} (sampled), within the true rounding bound "
        f"{n.error_bound:.1e} over the whole box (`pwa_rounding_bound`, a sound bound). "
        f"`partition` finds {n.n_regions} linear regions in the box with {n.n_pieces} distinct "
        f"affine maps (exact); merged by map they are {n.n_merged} regions, and the law's "
        f"{m.n_regions} critical regions merged by map are {n.n_law_merged}: matched one to "
        f"one by their maps, the two partitions {same} (largest vertex distance "
        f"{n.region_distance:.1e}, float64). A critical region is an active set of all "
        f"{N} "
        "moves, so several share the first move's map; the network's regions are "
        "those of the first move only.\n"
    )


def _cert_table(result: ControlResult) -> pd.DataFrame:
    c = result.mpc.cert
    rows = []
    for name, e in (("explicit MPC law", c.law), (f"ReLU fit (seed {result.seeds[0]})", c.relu)):
        rows.append(
            {
                "controller": name,
                "max abs(u) over the box": e.u_max,
                "max abs(u): kind": e.u_label,
                "box invariant": e.box_verdict,
                "worst box margin": float(np.min(e.box_margins)),
                "alpha (certified)": e.alpha,
                "area of alpha S": e.area,
                "x Hu-Lin area": e.area / c.ellipse_area,
                "smallest margin of alpha S": float(np.min(e.margins)),
                "convergence": "proven" if e.converges else "not claimed",
            }
        )
    return pd.DataFrame(rows)


def _cert_text(result: ControlResult) -> str:
    c = result.mpc.cert
    law, relu, t = c.law, c.relu, c.crown
    w = law.box_witness
    witness = "" if w is None else f" (witness x = ({w[0]:g}, {w[1]:g}): its successor leaves"
    witness += "" if w is None else " the box, checked in exact arithmetic)"
    relu_conv = (
        "proven"
        if relu.converges
        else f"not claimed (the ladder of verified levels stalls: {relu.reason})"
    )
    over = relu.u_max - U_BOUND
    fit_u = (
        f"so the fit exceeds the input limit by {over:.2g}"
        if over > 0
        else "so the fit keeps the input limit"
    )
    return (
        "\n**Closed-loop certificates.** The closed loop x -> A x + B u(x) of a PWL "
        "controller is itself PWL, so the project's verification certifies it "
        "(`applications/control/_certify.py`, `_roa.py`). Command bound: the law's "
        f"max |u| over the box is {law.u_max:.6g} ({law.u_label}), the ReLU fit's "
        f"{relu.u_max:.6g} ({relu.u_label}; MILP confirmed by branch and bound), {fit_u}. "
        f"Invariance of the box: {law.box_verdict} for the law, worst facet margin "
        f"{np.min(law.box_margins):.4g}{witness}; {relu.box_verdict} for the fit, worst "
        f"margin {np.min(relu.box_margins):.4g} (exact margins, per facet in the table). "
        "Region of attraction: the largest scaling alpha of the LQR polytope S (where the "
        "LQR command stays within its limit along the contracted LQR loop, Gilbert and Tan "
        f"1991) that is verified invariant, within |u| <= {U_BOUND:g} and inside the box, found "
        "by bisection on verified answers: alpha = "
        f"{law.alpha:.4f} for the law (the box caps it at {law.alpha_cap:.4f}), area "
        f"{law.area:.3f}, {law.area / c.ellipse_area:.2f} times the Hu-Lin ellipse x'Px <= "
        f"{c.ellipse_level:.4f} (area {c.ellipse_area:.3f}, exact) that the LQR law keeps "
        f"unsaturated; for the ReLU fit alpha = {relu.alpha:.4f}"
        + (" (the same cap)" if relu.alpha == relu.alpha_cap else "")
        + f", area {relu.area:.3f} "
        f"(certified, with |u| <= {U_BOUND:g} on the set). Convergence: "
        f"for the law proven by a ladder of {law.levels} verified levels into its linear "
        f"region, with certified gauge contraction {law.rate:.3f} there; for the fit "
        f"{relu_conv}. Simulated from {c.trajectories.shape[0]} points on the boundary of "
        f"the law's set, {c.trajectories.shape[1] - 1} steps each, the largest gauge along "
        f"the runs is {c.gauge_max:.6g} against alpha = {law.alpha:.6g} (inside, as "
        f"certified), and the largest |x| at the end is {c.final_norm:.1e} (simulated).\n"
        "\nThe tanh fit is not PWL: its largest |u| over the box is bounded by CROWN linear "
        f"relaxations with branching ({t.boxes} boxes) at {t.crown:.4f} (sound bound, not "
        f"exact), against {t.sampled:.4f} sampled at {t.n_sampled} states (a lower bound) and "
        f"{t.interval:.4g} by plain interval arithmetic (sound bound, loose).\n"
    )


def write_mpc(result: ControlResult) -> list[str]:
    """The MPC subsection, as a list of Markdown blocks."""
    return [
        "\n### Explicit MPC: the field's standard PWL controller\n",
        _fits_text(result),
        "\n![Explicit MPC regions and the ReLU fit's regions](mpc.png)\n",
        _network_text(result),
        "\n![The law's critical regions and its exact network's regions](mpc_network.png)\n",
        _cert_text(result),
        markdown_table(_cert_table(result)),
        "\n![The certified invariant set and trajectories of the law](mpc_invariant.png)\n",
    ]
