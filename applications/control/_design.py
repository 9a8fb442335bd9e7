"""The control study's building blocks: the plant, LQR, the exact saturated law, gains."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
from scipy import linalg
from torch import nn

from pwlmodels import resolve_device
from pwlmodels.network import is_piecewise_linear
from pwlmodels.regions import one_sided_jacobian

from ._checks import (
    as_array,
    as_matrix,
    as_scalar,
    as_vector,
    check_choice,
    check_net,
)

__all__ = [
    "Plant",
    "StepMetrics",
    "dc_motor",
    "local_gain",
    "lqr_gain",
    "saturated_law",
    "step_metrics",
]

_KINDS = ("position", "speed")
_SIDES = ("right", "left")


class Plant(NamedTuple):
    """A linear plant ``dx/dt = A x + B u``, ``y = C x``, as float64 arrays.

    Attributes
    ----------
    A : ndarray, shape (n, n)
    B : ndarray, shape (n, m)
    C : ndarray, shape (1, n)
    """

    A: np.ndarray
    B: np.ndarray
    C: np.ndarray


def dc_motor(
    kind: str = "position",
    *,
    J: float = 0.01,
    b: float = 0.1,
    K: float = 0.01,
    R: float = 1.0,
    L: float = 0.5,
) -> Plant:
    """The state-space model of an armature-controlled DC motor (CTMS parameters).

    Position: ``x = (theta, omega, i)`` (rad, rad/s, A), ``y = theta``;
    speed: ``x = (omega, i)``, ``y = omega``. The input is the armature
    voltage ``u`` (V): ``J domega/dt = -b omega + K i`` and
    ``L di/dt = -K omega - R i + u``.

    Parameters
    ----------
    kind : {"position", "speed"}, default "position"
    J : float, default 0.01
        Rotor inertia, kg m^2.
    b : float, default 0.1
        Viscous friction, N m s.
    K : float, default 0.01
        Motor constant, V s/rad = N m/A.
    R : float, default 1.0
        Armature resistance, ohm.
    L : float, default 0.5
        Armature inductance, H. All five must be positive and finite.

    Returns
    -------
    Plant
        ``(A, B, C)``, float64.

    Examples
    --------
    >>> from applications.control import dc_motor
    >>> A, B, C = dc_motor()
    >>> A.tolist(), B.ravel().tolist()
    ([[0.0, 1.0, 0.0], [0.0, -10.0, 1.0], [0.0, -0.02, -2.0]], [0.0, 0.0, 2.0])
    >>> dc_motor("speed").A.shape
    (2, 2)
    """
    check_choice(kind, "kind", _KINDS)
    J, b, K, R, L = (
        as_scalar(v, n, positive=True) for v, n in zip((J, b, K, R, L), "JbKRL", strict=True)
    )
    speed = np.array([[-b / J, K / J], [-K / L, -R / L]])
    if kind == "speed":
        return Plant(speed, np.array([[0.0], [1.0 / L]]), np.array([[1.0, 0.0]]))
    A = np.zeros((3, 3))
    A[0, 1] = 1.0
    A[1:, 1:] = speed
    return Plant(A, np.array([[0.0], [0.0], [1.0 / L]]), np.array([[1.0, 0.0, 0.0]]))


def _modes(A: np.ndarray, M: np.ndarray, where, *, rows: bool) -> list[complex]:
    """Eigenvalues ``lam`` of A with ``where(lam)`` at which the PBH matrix loses rank."""
    n, bad = A.shape[0], []
    for lam in np.linalg.eigvals(A):
        if not where(lam):
            continue
        shifted = A - lam * np.eye(n)
        pbh = np.vstack([shifted, M]) if rows else np.hstack([shifted, M])
        s = np.linalg.svd(pbh, compute_uv=False)
        if s[n - 1] <= 1e-10 * max(1.0, s[0]):
            bad.append(complex(lam))
    return bad


def _symmetric(M: np.ndarray, name: str) -> np.ndarray:
    if not np.allclose(M, M.T, rtol=1e-12, atol=1e-12 * max(1.0, np.abs(M).max())):
        raise ValueError(f"`{name}` must be symmetric; got {name} - {name}.T != 0")
    return (M + M.T) / 2


def lqr_gain(A: object, B: object, Q: object, R: object) -> np.ndarray:
    """The continuous-time LQR gain ``K = R^-1 B^T P`` (``u = -K x`` minimises the cost).

    ``P`` is the stabilising solution of the algebraic Riccati equation
    ``A^T P + P A - P B R^-1 B^T P + Q = 0`` (``scipy.linalg.solve_continuous_are``),
    for the cost ``int x^T Q x + u^T R u dt``. Weights by Bryson's rule
    (Bryson and Ho 1975): ``Q_ii = 1 / (largest acceptable x_i)^2``,
    ``R = 1 / u_max^2``. The same gain as python-control's ``lqr(A, B, Q, R)[0]``.

    Parameters
    ----------
    A : array_like, shape (n, n)
    B : array_like, shape (n, m), or (n,) for one input
    Q : array_like, shape (n, n)
        Symmetric positive semidefinite, with no unobservable mode of
        ``(A, Q)`` on the imaginary axis.
    R : float or array_like, shape (m, m)
        Symmetric positive definite.

    Returns
    -------
    ndarray, shape (m, n)
        ``A - B K`` is Hurwitz.

    Raises
    ------
    ValueError
        Shapes that do not match, ``(A, B)`` not stabilisable, ``Q`` not
        symmetric positive semidefinite, ``R`` not positive definite.

    Examples
    --------
    >>> import numpy as np
    >>> from applications.control import dc_motor, lqr_gain
    >>> A, B, _ = dc_motor()
    >>> K = lqr_gain(A, B, np.diag([1 / 0.1**2, 0.0, 0.0]), 1 / 12.0**2)
    >>> np.round(K, 2).tolist()
    [[120.0, 11.25, 2.5]]
    >>> bool(np.linalg.eigvals(A - B @ K).real.max() < 0)
    True
    """
    A = as_matrix(A, "A")
    n = A.shape[0]
    if A.shape != (n, n):
        raise ValueError(f"`A` must be square; got shape {A.shape}")
    B_arr = as_array(B, "B")
    B = as_matrix(B_arr[:, None] if B_arr.ndim == 1 else B_arr, "B", rows=n)
    m = B.shape[1]
    Q = _symmetric(as_matrix(Q, "Q", n, n), "Q")
    R = _symmetric(as_matrix(R, "R", m, m), "R")
    q_min, r_min = np.linalg.eigvalsh(Q)[0], np.linalg.eigvalsh(R)[0]
    if q_min < -1e-12 * max(1.0, np.abs(Q).max()):
        raise ValueError(
            f"`Q` must be positive semidefinite; got smallest eigenvalue {q_min:.6g} < 0"
        )
    if r_min <= 1e-14 * np.abs(R).max():
        raise ValueError(f"`R` must be positive definite; got smallest eigenvalue {r_min:.6g}")
    if bad := _modes(A, B, lambda lam: lam.real >= -1e-12, rows=False):
        raise ValueError(
            f"(`A`, `B`) must be stabilisable; the mode at {bad[0]:.6g} is not stable and "
            "cannot be moved by the input (it is not controllable)"
        )
    if bad := _modes(A, Q, lambda lam: abs(lam.real) <= 1e-12, rows=True):
        raise ValueError(
            f"`Q` must weight every mode of `A` on the imaginary axis; the mode at {bad[0]:.6g} "
            "is invisible in the cost, so no stabilising Riccati solution exists"
        )
    try:
        P = linalg.solve_continuous_are(A, B, Q, R)
    except (linalg.LinAlgError, ValueError) as exc:
        raise ValueError(f"the Riccati equation for (`A`, `B`, `Q`, `R`) failed: {exc}") from exc
    return np.linalg.solve(R, B.T @ P)


def saturated_law(
    K: object,
    u_max: float,
    x_ref: object = None,
    *,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> nn.Sequential:
    """The exact ReLU network of the saturated linear law ``u = sat(-K (x - x_ref))``.

    ``sat(z) = clip(z, -u_max, u_max) = relu(z + u_max) - relu(z - u_max) - u_max``:
    ``Linear(n, 2m), ReLU(), Linear(2m, m)``, two units per input channel. In
    float64 the network equals the law up to rounding (a few ulps of
    ``|K| |x| + |K x_ref| + u_max``); the real-arithmetic function of its
    weights is the law with ``K x_ref`` rounded once.

    Parameters
    ----------
    K : array_like, shape (m, n), or (n,) for one input
        Finite feedback gain.
    u_max : float
        Actuator limit, positive and finite (the same for every channel).
    x_ref : array_like, shape (n,), optional
        Set point (default: the origin).
    dtype : {torch.float64, torch.float32}, default torch.float64
    device : None, "auto", str or torch.device, optional (CPU)

    Returns
    -------
    torch.nn.Sequential
        Maps (..., n) to (..., m).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from applications.control import saturated_law
    >>> K = np.array([[120.0, 11.25, 2.5]])
    >>> net = saturated_law(K, 12.0, x_ref=[1.0, 0.0, 0.0])
    >>> x = np.array([[0.0, 0.0, 0.0], [0.95, 0.0, 0.0], [1.0, 0.4, 0.0]])
    >>> net(torch.tensor(x)).ravel().tolist()  # saturated, linear, linear
    [12.0, 6.0, -4.5]
    >>> bool(np.allclose(net(torch.tensor(x)).detach().numpy().ravel(),
    ...                  np.clip(-(x - [1.0, 0.0, 0.0]) @ K[0], -12.0, 12.0), rtol=1e-14))
    True
    """
    K_arr = as_array(K, "K")
    K = as_matrix(K_arr[None, :] if K_arr.ndim == 1 else K_arr, "K")
    m, n = K.shape
    u_max = as_scalar(u_max, "u_max", positive=True)
    x_ref = np.zeros(n) if x_ref is None else as_vector(x_ref, "x_ref", n)
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"`dtype` must be torch.float32 or torch.float64; got {dtype!r}")
    device = resolve_device(device)
    kx = K @ x_ref
    first = nn.Linear(n, 2 * m, dtype=torch.float64)
    last = nn.Linear(2 * m, m, dtype=torch.float64)
    with torch.no_grad():
        first.weight.copy_(torch.from_numpy(np.vstack([-K, -K])))
        first.bias.copy_(torch.from_numpy(np.concatenate([kx + u_max, kx - u_max])))
        last.weight.copy_(torch.from_numpy(np.hstack([np.eye(m), -np.eye(m)])))
        last.bias.fill_(-u_max)
    return nn.Sequential(first, nn.ReLU(), last).to(device=device, dtype=dtype)


def local_gain(net: nn.Sequential, x0: object = None, *, side: str = "right") -> np.ndarray:
    """The Jacobian ``du/dx`` of a controller network at ``x0``: its gain there.

    Piecewise-linear networks (:func:`pwlmodels.network.is_piecewise_linear`):
    exact, :func:`pwlmodels.regions.one_sided_jacobian` (the local affine
    map of ``x0``'s activation region; on a region boundary, entry
    ``(i, j)`` is the one-sided partial derivative along ``+e_j`` for
    ``side="right"`` or ``-e_j`` for ``"left"``). Other networks (tanh,
    sigmoid...): ``torch.func.jacrev`` in the net's dtype, where both sides
    agree.

    Parameters
    ----------
    net : torch.nn.Sequential
    x0 : array_like, shape (n_in,), optional
        Default: the origin.
    side : {"right", "left"}, default "right"

    Returns
    -------
    ndarray, shape (n_out, n_in), float64
        For a controller ``u = net(x)`` the linearised feedback is
        ``u ~ u(x0) - K_net (x - x0)`` with ``K_net = -local_gain(net, x0)``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from applications.control import local_gain, saturated_law
    >>> K = np.array([[120.0, 11.25, 2.5]])
    >>> net = saturated_law(K, 12.0, x_ref=[1.0, 0.0, 0.0])
    >>> (-local_gain(net, [1.0, 0.0, 0.0])).tolist()  # the LQR gain at the set point
    [[120.0, 11.25, 2.5]]
    >>> local_gain(net, [0.0, 0.0, 0.0]).tolist()  # saturated: no gain
    [[0.0, 0.0, 0.0]]
    >>> relu = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.ReLU())
    >>> with torch.no_grad():
    ...     _ = relu[0].weight.fill_(1.0), relu[0].bias.zero_()
    >>> local_gain(relu, [0.0]).item(), local_gain(relu, [0.0], side="left").item()
    (1.0, 0.0)
    """
    n_in, _ = check_net(net)
    x = np.zeros(n_in) if x0 is None else as_vector(x0, "x0", n_in)
    check_choice(side, "side", _SIDES)
    if is_piecewise_linear(net):
        return one_sided_jacobian(net, x[None], side=side)[0]
    ref = next((p for p in net.parameters() if p.is_floating_point()), None)
    dtype, device = (torch.float64, "cpu") if ref is None else (ref.dtype, ref.device)
    jac = torch.func.jacrev(net)(torch.as_tensor(x, dtype=dtype, device=device))
    return jac.detach().to("cpu", torch.float64).numpy().reshape(-1, n_in)


@dataclass(frozen=True)
class StepMetrics:
    """Step-response figures, defined as in python-control's ``step_info``.

    Attributes
    ----------
    rise_time : float or None
        From the first sample at or beyond ``rise[0] * final`` to the first at
        or beyond ``rise[1] * final``; None when the response never gets there.
    settling_time : float or None
        ``t`` at the first sample after the last one outside the band
        ``|y / final - 1| < settle``; None when the last sample is outside.
    settling_min, settling_max : float or None
        Extremes of ``y`` from the rise time's end on, ``final`` included.
    overshoot, undershoot : float
        Percent of ``|final|``.
    peak, peak_time : float
        ``max |y|`` and its time.
    steady_state : float
        ``final``.
    notes : tuple of str
        Why a figure is None.
    """

    rise_time: float | None
    settling_time: float | None
    settling_min: float | None
    settling_max: float | None
    overshoot: float
    undershoot: float
    peak: float
    peak_time: float
    steady_state: float
    notes: tuple[str, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        """One row, one column per figure (None as NaN), ``notes`` joined by "; "."""
        row = asdict(self)
        row["notes"] = "; ".join(self.notes)
        return pd.DataFrame([row])


def step_metrics(
    t: object,
    y: object,
    *,
    rise: tuple[float, float] = (0.1, 0.9),
    settle: float = 0.02,
    final: float | None = None,
) -> StepMetrics:
    """Rise time, settling time, overshoot, peak... of a sampled step response.

    python-control's ``step_info(y, T)`` definitions on the same samples (so
    times are sample times; a response that starts at 0 is assumed), for any
    response: ``step_info`` itself cannot take a nonlinear system in
    python-control 0.10.2.

    Parameters
    ----------
    t : array_like, shape (N,)
        Strictly increasing, finite, N >= 2 (seconds).
    y : array_like, shape (N,)
        Finite.
    rise : (float, float), default (0.1, 0.9)
        Fractions of ``final``, ``0 <= rise[0] < rise[1]``.
    settle : float, default 0.02
        Half-width of the settling band relative to ``final``, in (0, 1).
    final : float, optional
        The steady-state value; default ``y[-1]``. Finite and non-zero.

    Returns
    -------
    StepMetrics

    Examples
    --------
    >>> import numpy as np
    >>> from applications.control import step_metrics
    >>> t = np.linspace(0.0, 10.0, 10001)
    >>> m = step_metrics(t, 1.0 - np.exp(-t), final=1.0)  # first order, time constant 1 s
    >>> round(m.rise_time, 3), round(m.settling_time, 3), m.overshoot  # ln 9, ln 50
    (2.197, 3.912, 0)
    """
    t = as_array(t, "t")
    if t.ndim != 1 or t.size < 2:
        raise ValueError(f"`t` must be 1-D with at least 2 samples; got shape {t.shape}")
    if (step := np.diff(t)).min() <= 0:
        i = int(np.argmax(step <= 0)) + 1
        raise ValueError(
            f"`t` must be strictly increasing; got t[{i}] = {float(t[i])!r} <= "
            f"t[{i - 1}] = {float(t[i - 1])!r}"
        )
    y = as_array(y, "y")
    if y.shape != t.shape:
        raise ValueError(f"`y` must have the shape of `t`, {t.shape}; got {y.shape}")
    r = as_array(rise, "rise")
    if r.shape != (2,) or not 0 <= r[0] < r[1]:
        shown = r.tolist() if r.ndim == 1 else r
        raise ValueError(f"`rise` must be two fractions 0 <= rise[0] < rise[1]; got {shown}")
    settle = as_scalar(settle, "settle")
    if not 0 < settle < 1:
        raise ValueError(f"`settle` must be in (0, 1); got {settle!r}")
    yf = float(y[-1]) if final is None else as_scalar(final, "final")
    if yf == 0:
        raise ValueError("`final` must be non-zero (it scales every figure); got 0.0")
    sgn, notes = np.sign(yf), []
    lo_hit, hi_hit = (np.flatnonzero(sgn * (y - f * yf) >= 0) for f in r)
    rise_time = smin = smax = settling = None
    if lo_hit.size and hi_hit.size:
        rise_time = float(t[hi_hit[0]] - t[lo_hit[0]])
        smin = float(min(y[hi_hit[0] :].min(), yf))
        smax = float(max(y[hi_hit[0] :].max(), yf))
    else:
        notes.append(f"the response never reaches {r[1]:g} of final: no rise time")
    outside = np.flatnonzero(np.abs(y / yf - 1) >= settle)
    settled = 0 if outside.size == 0 else int(outside[-1]) + 1
    if settled < t.size:
        settling = float(t[settled])
    else:
        notes.append(f"the last sample is outside the {settle:g} band: not settled")
    dy = abs((sgn * y).max()) - abs(yf)
    overshoot = abs(100.0 * dy / yf) if dy > 0 else 0
    y_us = y[int(np.argmin(sgn * y))]
    undershoot = -100.0 * y_us / yf if sgn * y_us < 0 else 0
    k = int(np.argmax(np.abs(y)))
    return StepMetrics(
        rise_time,
        settling,
        smin,
        smax,
        overshoot,
        undershoot,
        float(abs(y[k])),
        float(t[k]),
        yf,
        tuple(notes),
    )
