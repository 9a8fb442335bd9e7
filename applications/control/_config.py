"""The control study's configuration: the operating point, the box, the sizes of a run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._learn import Training

__all__: list[str] = []

NAME = "control"
U_MAX = 12.0  # V
X_REF = np.array([1.0, 0.0, 0.0])  # rad, rad/s, A
HALF = np.array([np.pi, 5.0, 15.0])  # the operating box |x_j| <= HALF_j
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
class Settings:
    """Sizes of a run: full (the demo) or quick (the tests)."""

    training: Training
    n_sampled: int  # states sampled for the smooth controllers' command range
    budget: int  # interval boxes per bound
    n_local: int  # states sampled in the sensitivity box
    mpc: tuple[int, int, int]  # explicit MPC: QP samples, epochs, L-BFGS steps


FULL = Settings(Training((16, 16), 2048, 400, 10), 1_000_000, 40_000, 100_000, (2000, 400, 10))
QUICK = Settings(Training((16, 16), 1024, 100, 5), 100_000, 8_000, 10_000, (500, 100, 5))
