"""What the motor can reach: peak outputs of a stable linear system under a bounded input.

For ``dx/dt = A x + B u``, ``y = c x``, from rest and ``|u(t)| <= u_max``,
``sup_t |y(t)| = u_max ||h||_1`` with ``h(t) = c e^{At} B`` the impulse
response: ``y(T) = int_0^T h(T - s) u(s) ds`` is at most ``u_max int |h|``,
and the bang-bang input ``u(s) = u_max sign(h(T - s))`` attains
``u_max int_0^T |h|``, which tends to the bound as ``T`` grows (the L1 norm
is the exact peak-to-peak gain). ``||h||_1`` is integrated exactly: between
consecutive sign changes of ``h``, ``int h = c A^-1 (e^{A t1} - e^{A t0}) B``.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy import linalg, optimize

from ._checks import as_plant, as_scalar

__all__ = ["reachable_peaks"]

#: Sign changes of ``h`` are searched on this many points per slowest time constant.
_PER_TAU = 400
#: ... over this many slowest time constants (e^-40 ~ 4e-18: the tail has no sign change
#: that matters, and its integral is added exactly).
_TAUS = 40
#: ... and at least this many per ``1 / max |eigenvalue|`` of ``A`` (8 per radian of the
#: fastest oscillation), up to :data:`_MAX_GRID` points in all.
_PER_FAST = 8
_MAX_GRID = 2_000_000
#: The most sign changes located (one brentq each).
_MAX_CHANGES = 1000


def _impulse(A: np.ndarray, b: np.ndarray, c: np.ndarray, t: float) -> float:
    return float(c @ linalg.expm(A * t) @ b)


def _horizon(A: np.ndarray) -> tuple[float, np.ndarray]:
    """The scan's end and grid: 400 points per slowest time constant, and at least
    :data:`_PER_FAST` per ``1 / max |eigenvalue|`` (a 100 rad/s mode decaying at 0.01 1/s
    changed sign 40 times between grid points, and 99 % of the L1 norm was missed)."""
    eig = np.linalg.eigvals(A)
    rates = -eig.real
    if rates.min() <= 0:
        raise ValueError("`A` must be Hurwitz (a stable system has a finite peak gain)")
    t_end = _TAUS / rates.min()
    count = max(int(_PER_TAU * _TAUS), int(np.ceil(t_end * np.abs(eig).max() * _PER_FAST)))
    if count > _MAX_GRID:
        raise ValueError(
            "`A` is too stiff or too lightly damped for the sign scan: "
            f"{count:.3g} grid points needed (fastest |eigenvalue| x 40 slowest time "
            f"constants x {_PER_FAST}), at most {_MAX_GRID:.0e}"
        )
    return t_end, np.linspace(0.0, t_end, count + 1)


def sign_changes(A: np.ndarray, B: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The times ``t > 0`` at which ``h(t) = c e^{At} B`` changes sign (bracketed, brentq)."""
    b = np.asarray(B, dtype=np.float64).reshape(-1)
    _, grid = _horizon(A)
    step = linalg.expm(A * (grid[1] - grid[0]))
    x, h = b.copy(), np.empty(grid.size)
    for k in range(grid.size):  # h on the grid by repeated exact steps
        h[k] = c @ x
        x = step @ x
    scale = np.abs(h).max()
    h[np.abs(h) <= 1e-13 * scale] = 0.0  # h(0) = c B = 0 is not a sign change
    s = np.sign(h)
    nz = np.flatnonzero(s)
    changes = int(np.count_nonzero(s[nz[1:]] != s[nz[:-1]]))
    if changes > _MAX_CHANGES:  # each is a brentq on expm: 38000 took over 10 minutes
        raise ValueError(
            f"`A` is too lightly damped: its impulse response changes sign {changes} times "
            f"within 40 slowest time constants, at most {_MAX_CHANGES}"
        )
    roots = []
    for k0, k1 in itertools.pairwise(nz):
        if s[k0] != s[k1]:
            roots.append(
                optimize.brentq(lambda t: _impulse(A, b, c, t), grid[k0], grid[k1], xtol=1e-14)
            )
    return np.array(roots)


def peak_gain(A: np.ndarray, B: np.ndarray, c: np.ndarray) -> float:
    """``||h||_1 = int_0^inf |c e^{At} B| dt``: the peak of ``|y|`` per volt of ``|u| <= 1``."""
    A = np.asarray(A, dtype=np.float64)
    b = np.asarray(B, dtype=np.float64).reshape(-1)
    c = np.asarray(c, dtype=np.float64).reshape(-1)
    _horizon(A)
    edges = np.concatenate([[0.0], sign_changes(A, b, c)])
    a_inv_b = np.linalg.solve(A, b)
    # int_t0^t1 c e^{At} b dt = c e^{At1} A^-1 b - c e^{At0} A^-1 b; the last piece to infinity
    at = [float(c @ linalg.expm(A * t) @ a_inv_b) for t in edges] + [0.0]
    return float(sum(abs(hi - lo) for lo, hi in itertools.pairwise(at)))


def reachable_peaks(A: object, B: object, u_max: float) -> np.ndarray:
    """How far each state of a stable linear system can go from rest under ``|u| <= u_max``.

    ``sup_t |x_j(t)| = u_max ||h_j||_1``, ``h_j(t) = e_j' e^{At} B`` (the
    exact peak-to-peak gain: the bang-bang input ``u(s) = u_max sign h_j(T - s)``
    attains ``u_max int_0^T |h_j|``, which tends to it). The L1 norm is
    integrated exactly between the sign changes of ``h_j`` (located by
    brentq after a scan of 40 slowest time constants).

    Parameters
    ----------
    A : array_like, shape (n, n)
        Hurwitz (every eigenvalue in the open left half-plane).
    B : array_like, shape (n, 1) or (n,)
    u_max : float
        Positive and finite.

    Returns
    -------
    ndarray, shape (n,)
        The peaks, in the units of the states.

    Raises
    ------
    ValueError
        ``A`` not Hurwitz, shapes that do not match, ``u_max`` not positive.
    TypeError
        Non-numeric input.

    Examples
    --------
    The DC motor's speed and current at 12 V (both impulse responses keep
    one sign, so the peaks are the steady states):

    >>> import numpy as np
    >>> from applications.control import dc_motor, reachable_peaks
    >>> A, B, _ = dc_motor("speed")
    >>> peaks = reachable_peaks(A, B, 12.0)
    >>> np.round(peaks, 4).tolist()
    [1.1988, 11.988]
    >>> bool(np.allclose(peaks, 12.0 * np.abs(np.linalg.solve(A, B)).ravel()))
    True
    """
    u_max = as_scalar(u_max, "u_max", positive=True)
    A, B = as_plant(A, B)
    n = A.shape[0]
    return np.array([u_max * peak_gain(A, B, np.eye(n)[j]) for j in range(n)])


def worst_input(A: np.ndarray, B: np.ndarray, c: np.ndarray, u_max: float, t_final: float):
    """The bang-bang input that maximises ``c x(t_final)`` from rest: switch times and levels.

    ``u(s) = u_max sign(h(t_final - s))``: returns ``(switch, level)``, the
    times in ``(0, t_final)`` where it switches, increasing, and the level
    on each of the ``len(switch) + 1`` pieces.
    """
    b = np.asarray(B, dtype=np.float64).reshape(-1)
    roots = sign_changes(A, b, c)
    roots = roots[roots < t_final]
    switch = np.sort(t_final - roots)
    mids = np.diff(np.concatenate([[0.0], switch, [t_final]])) / 2
    starts = np.concatenate([[0.0], switch])
    level = np.array([u_max * np.sign(_impulse(A, b, c, t_final - s - m)) for s, m in zip(
        starts, mids, strict=True)])  # fmt: skip
    return switch, level
