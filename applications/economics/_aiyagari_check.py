"""An independent Aiyagari equilibrium: the sequence-space Jacobian toolkit's household.

The household's steady state comes from sequence-jacobian's standard
incomplete-markets block (``hetblocks.hh_sim.hh``: its own EGM on its own
asset grid, its own Rouwenhorst chain and its own forward iteration for
the distribution; Auclert et al. 2021), at prices from the same firm; the
capital market is cleared by Brent's method. It shares no code with
:func:`solve_aiyagari` beyond the firm's two first-order conditions.
Needs sequence-jacobian (installed with the ``econ`` extra).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from ._aiyagari import AiyagariParams

__all__: list[str] = []


def ssj_r_star(
    params: AiyagariParams,
    *,
    n_a: int = 1000,
    a_max: float = 200.0,
    bracket: tuple[float, float] = (0.0, 0.04),
    xtol: float = 1e-9,
) -> float:
    """r* of the Aiyagari economy with sequence-jacobian's household block.

    ``bracket`` must hold the root with supply below demand at its left end
    and above at its right; its right end must leave the distribution
    bounded (sequence-jacobian's forward iteration stops after 1e5 steps
    as r approaches 1 / beta - 1).
    """
    from sequence_jacobian import grids
    from sequence_jacobian.hetblocks import hh_sim

    p = params
    e, _, Pi = grids.markov_rouwenhorst(rho=p.rho, sigma=p.sigma, N=p.n_states)
    a_grid = grids.asset_grid(-p.borrowing_limit, a_max, n_a)

    def excess(r: float) -> float:
        ss = hh_sim.hh.steady_state(
            {
                "Pi": Pi,
                "a_grid": a_grid,
                "y": p.wage(r) * e,
                "r": r,
                "beta": p.beta,
                "eis": 1.0 / p.gamma,
            }
        )
        return float(ss["A"]) - p.capital_demand(r)

    return float(brentq(excess, *bracket, xtol=xtol, rtol=4 * np.finfo(float).eps))
