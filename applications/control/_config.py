"""The control study's configuration: the operating point, the box, the sizes of a run.

The operating box ``|x_j| <= HALF_j`` (training, verification, sampled ranges)
lies inside what the motor can reach plus a margin: ``|theta| <= pi`` (one turn
either way: the angle itself is unbounded, an integrator), and for the speed
and the current ``REACH_MARGIN`` (10 %) above their peaks from rest under any
``|u| <= U_MAX`` (:func:`_reach.reachable_peaks`: ``U_MAX`` times the L1 norm
of the impulse response, the exact peak-to-peak gain). Both impulse responses
keep one sign, so the peaks are the steady states: 12 V x 0.0999 = 1.199 rad/s
and 12 V x 0.999 = 11.99 A, hence ``HALF = (pi, 1.319 rad/s, 13.19 A)``. The
former box (5 rad/s, 15 A) put the worst-case witnesses at corners no input
can reach.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._design import dc_motor
from ._learn import Training
from ._reach import reachable_peaks

__all__ = ["FULL", "QUICK", "Config"]

NAME = "control"
U_MAX = 12.0  # V
X_REF = np.array([1.0, 0.0, 0.0])  # rad, rad/s, A
REACH_MARGIN = 0.10  # the box's margin over the reachable peaks of omega and i
#: sup |omega|, sup |i| from rest under |u| <= U_MAX (rad/s, A): exact peak-to-peak gains.
REACH = reachable_peaks(*dc_motor("speed")[:2], U_MAX)
HALF = np.concatenate([[np.pi], (1 + REACH_MARGIN) * REACH])  # the box |x_j| <= HALF_j
Q = np.diag([1 / 0.1**2, 0.0, 0.0])  # Bryson: 0.1 rad of angle error ~ 12 V
R = np.array([[1 / U_MAX**2]])
T_POSITION = 4.0  # s
SPEED_GAIN, SPEED_STEP, T_SPEED = 100.0, 0.1, 2.0  # V s/rad, rad/s, s
EPS = 0.01  # the sensitivity box: |x_j - x_ref_j| <= EPS HALF_j
CLAMP_MARGIN = 1e-6  # V: the clamp proofs allow the verifier's float64 margin
ACTIVATIONS = ("relu", "tanh", "sigmoid")
UNITS = ("V/rad", "V s/rad", "V/A")
STATES = ("theta", "omega", "i")


@dataclass(frozen=True)
class Config:
    """The sizes of a control run: :data:`FULL` (the demo) or :data:`QUICK` (the tests).

    The plant, the LQR weights, the operating box and the set point are
    fixed by the study (module constants); a configuration sets how much
    work a run does.

    Parameters
    ----------
    training : Training
        How every learned position controller is trained: hidden widths,
        number of sampled states, Adam epochs, L-BFGS polishing steps and
        learning rate (the same for every activation and seed).
    n_sampled : int
        States sampled uniformly in the operating box for the tanh and
        sigmoid controllers' command range (the largest and smallest
        sampled command).
    budget : int
        Interval boxes per sound interval bound (best-first box splitting)
        of a smooth controller's command.
    crown_budget : int
        Boxes of CROWN best-first branch and bound (:func:`._crown.crown_bound`'s
        ``max_boxes``) per smooth controller, shared by the searches for the
        command's maximum and minimum over the operating box (each round goes
        to the extreme with the larger gap). 120,000 bounded the six (16, 16)
        controllers within 0.49 V of their sampled extremes (12.82 V at most)
        in 44 s on one shared CPU core, where the former breadth-first search
        over 20,000 boxes took 79 s in the same run for bounds up to 108 V
        (60,000 boxes: within 1 V, 28 s).
    n_local : int
        States sampled in the sensitivity box ``|x - x_ref| <= EPS HALF``
        for the smooth controllers.
    mpc : tuple of int, (n_samples, epochs, polish)
        Explicit MPC: QPs solved to sample the law, then Adam epochs and
        L-BFGS steps of the ReLU and tanh fits.
    quick : bool, default False
        The test version: only the first seed is used, and the section
        says "quick mode".

    Examples
    --------
    >>> from applications.control import FULL, QUICK, Config
    >>> QUICK.quick, FULL.quick, QUICK.training.n_samples < FULL.training.n_samples
    (True, False, True)
    >>> import dataclasses
    >>> small = dataclasses.replace(QUICK, n_sampled=1000)
    >>> isinstance(small, Config), small.n_sampled
    (True, 1000)
    """

    training: Training
    n_sampled: int
    budget: int
    crown_budget: int
    n_local: int
    mpc: tuple[int, int, int]
    quick: bool = False


#: The full run (the documentation's numbers).
FULL = Config(
    Training((16, 16), 2048, 400, 10), 1_000_000, 40_000, 120_000, 100_000, (2000, 400, 10)
)
#: The seconds-long test run: the first seed only, fewer samples and epochs.
QUICK = Config(
    Training((16, 16), 1024, 100, 5), 100_000, 8_000, 300, 10_000, (500, 100, 5), quick=True
)
