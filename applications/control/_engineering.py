"""Engineering checks of a position controller: margins, plant variations, sampled-data.

* Margins of the loop linearised at the set point, broken at the plant input:
  ``L(s) = K_net (sI - A)^-1 B`` (python-control's ``stability_margins`` and
  ``disk_margins``; the disk margin is the balanced one, ``alpha = 1 /
  max_w |(S - T)(jw) / 2|``, Blight et al. 1994, Seiler et al. 2020).
* Robustness: the saturated closed loop on the 32 corners of +-20 % in each
  of (J, b, K, R, L) and on the 10 one-at-a-time variations, simulated in one
  batch (classical RK4, steps of 1 ms), worst step metrics over the 42 plants.
* Sampled data: the controller sampled every ``Ts`` with a zero-order hold
  on the exactly discretised plant (``expm`` of the augmented matrix),
  states kept between samples on a grid ``Ts / SUB`` (exact too).
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from ._checks import as_plant, as_row
from ._design import dc_motor, step_metrics

__all__ = ["Margins", "loop_margins"]

#: Sampling time of the digital controller (s): |p| Ts <= 0.11 for the fastest linearised
#: closed-loop pole (about -10.3 1/s), 130 samples per period of the dominant pair.
TS = 0.01
#: Sub-steps per sampling period on which the sampled-data response is recorded.
SUB = 10
#: Relative variation of each motor parameter.
VARIATION = 0.20
_PARAMS = ("J", "b", "K", "R", "L")
#: The CTMS parameters, read from :func:`dc_motor`'s defaults.
NOMINAL = {p: inspect.signature(dc_motor).parameters[p].default for p in _PARAMS}
#: Frequencies (rad/s) of the disk-margin sweep.
OMEGA = np.logspace(-3, 4, 4001)
#: Frequencies (rad/s) of the Nyquist curve kept for the figure.
NYQUIST_OMEGA = np.logspace(-1, 3, 400)


@dataclass(frozen=True)
class Margins:
    """Classical and disk margins of ``L(s) = K (sI - A)^-1 B`` (:func:`loop_margins`).

    Attributes
    ----------
    gain_margin : float
        A factor; inf when the Nyquist curve never crosses the negative real axis.
    phase_margin : float
        Degrees, at ``crossover``.
    crossover : float
        The gain crossover frequency ``|L(jw)| = 1``, rad/s.
    disk_margin : float
        The balanced disk margin alpha.
    disk_gain_margin : float
        dB: the disk's gain interval ``[1/g, g]``, ``g = (1 + alpha/2) / (1 - alpha/2)``.
    disk_phase_margin : float
        Degrees, for simultaneous gain and phase variations in the disk.
    nyquist : ndarray, shape (400,), complex
        ``L(jw)`` at :data:`NYQUIST_OMEGA` (0.1 to 1000 rad/s), for figures.
    stable : bool
        Whether the nominal closed loop ``A - B K`` is stable; when it is not, the loop
        has no margin: gain margin 1, every other margin 0.
    """

    gain_margin: float
    phase_margin: float
    crossover: float
    disk_margin: float
    disk_gain_margin: float
    disk_phase_margin: float
    nyquist: np.ndarray  # L(jw) at NYQUIST_OMEGA, complex, for the figure
    stable: bool = True


def loop_margins(A: object, B: object, K: object) -> Margins:
    """Gain, phase and disk margins of the state-feedback loop ``u = -K x``, broken at the input.

    The loop transfer function is ``L(s) = K (sI - A)^-1 B`` (one input).
    Classical margins from python-control's ``stability_margins``; the
    balanced disk margin (skew 0) ``alpha = 1 / max_w |(S - T)(jw) / 2|``,
    ``S = 1 / (1 + L)``, ``T = L / (1 + L)`` (Blight et al. 1994, Seiler et
    al. 2020), from ``control.disk_margins`` on the grid :data:`OMEGA`
    (1e-3 to 1e4 rad/s, 4001 points): the loop tolerates any simultaneous
    gain in ``[(1 - alpha/2) / (1 + alpha/2), (1 + alpha/2) / (1 - alpha/2)]``
    and phase within ``disk_phase_margin``.

    Parameters
    ----------
    A : array_like, shape (n, n)
    B : array_like, shape (n, 1) or (n,)
    K : array_like, shape (1, n) or (n,)
        The feedback gain (``u = -K x``), e.g. ``K_net = -local_gain(net, x_ref)``.

    Returns
    -------
    Margins
        For an unstable nominal loop (some eigenvalue of ``A - B K`` with real part
        >= 0) no margin exists: gain margin 1, the others 0, ``stable`` False.

    Raises
    ------
    ValueError
        Shapes that do not match, non-finite entries.
    TypeError
        Non-numeric input.

    Examples
    --------
    >>> import numpy as np
    >>> from applications.control import dc_motor, loop_margins, lqr_gain
    >>> A, B, _ = dc_motor()
    >>> m = loop_margins(A, B, lqr_gain(A, B, np.diag([100.0, 0, 0]), 1 / 144))
    >>> m.gain_margin, round(m.phase_margin, 1), round(m.disk_margin, 3)  # LQR: >= 60 deg
    (inf, 69.6, 1.355)
    """
    import control

    A, B = as_plant(A, B)
    K = as_row(K, "K", A.shape[0])
    loop = control.ss(A, B, K, 0.0)
    gm, pm, _, _, wgc, _ = control.stability_margins(loop)
    dm, dgm, dpm = control.disk_margins(loop, OMEGA)
    eye = np.eye(A.shape[0])
    L = np.array([(K @ np.linalg.solve(1j * w * eye - A, B))[0, 0] for w in NYQUIST_OMEGA])
    # python-control reads margins off L(jw) whether or not the nominal loop is stable:
    # for u = -[-5, 0.5, 0.1] x on the motor (a pole at +0.36) it gave a disk margin of 2
    stable = bool((np.linalg.eigvals(A - B @ K).real < 0).all())
    if not stable:
        gm, pm, dm, dgm, dpm = 1.0, 0.0, 0.0, 0.0, 0.0
    return Margins(float(gm), float(pm), float(wgc), float(dm), float(dgm), float(dpm), L, stable)


def plant_variations() -> list[dict[str, float]]:
    """The nominal plant's parameters at +-20 %: the 32 corners, then one at a time (10)."""
    out = []
    for signs in itertools.product((-1, 1), repeat=len(_PARAMS)):
        out.append(
            {p: NOMINAL[p] * (1 + s * VARIATION) for p, s in zip(_PARAMS, signs, strict=True)}
        )
    for p in _PARAMS:
        for s in (-1, 1):
            out.append(NOMINAL | {p: NOMINAL[p] * (1 + s * VARIATION)})
    return out


def simulate_batch(
    As: np.ndarray,
    Bs: np.ndarray,
    law: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    t_final: float,
    u_max: float,
    dt: float = 1e-3,
) -> tuple[np.ndarray, np.ndarray]:
    """RK4 of ``dx/dt = A_p x + B_p clip(law(x))`` for every plant ``p`` at once.

    ``As`` (P, n, n), ``Bs`` (P, n); returns ``t`` (N,) and ``x`` (P, N, n).
    """
    steps = round(t_final / dt)
    t = np.linspace(0.0, t_final, steps + 1)
    h = t[1] - t[0]

    def f(x: np.ndarray) -> np.ndarray:
        u = np.clip(law(x)[:, 0], -u_max, u_max)
        return np.einsum("pij,pj->pi", As, x) + Bs * u[:, None]

    x = np.tile(np.asarray(x0, dtype=np.float64), (As.shape[0], 1))
    out = np.empty((As.shape[0], t.size, x.shape[1]))
    out[:, 0] = x
    for k in range(steps):
        k1 = f(x)
        k2 = f(x + h / 2 * k1)
        k3 = f(x + h / 2 * k2)
        k4 = f(x + h * k3)
        x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        out[:, k + 1] = x
    return t, out


def _step_figures(t: np.ndarray, y: np.ndarray, ref: float) -> dict[str, float]:
    m = step_metrics(t, y)
    nan = float("nan")
    return {
        "rise_time": nan if m.rise_time is None else m.rise_time,
        "settling_time": nan if m.settling_time is None else m.settling_time,
        "overshoot": float(m.overshoot),
        "steady_state_error": float(y[-1] - ref),
    }


def worst_case(
    law: Callable[[np.ndarray], np.ndarray], x_ref: np.ndarray, t_final: float, u_max: float
) -> dict[str, float | str]:
    """Worst step figures of the saturated loop over :func:`plant_variations`.

    Largest rise and settling time (NaN: some plant never rises or settles),
    largest overshoot, largest ``|steady-state error|``, ``n_plants``, and
    ``overshoot_plant``, the parameters of the plant with the largest overshoot
    (a string, e.g. "J +20 %, b -20 %, ...").
    """
    plants = [dc_motor("position", **p) for p in plant_variations()]
    As = np.stack([p.A for p in plants])
    Bs = np.stack([p.B[:, 0] for p in plants])
    t, x = simulate_batch(As, Bs, law, np.zeros(3), t_final, u_max)
    figs = [_step_figures(t, xp[:, 0], float(x_ref[0])) for xp in x]
    out = {q: max(f[q] for f in figs) for q in ("rise_time", "settling_time", "overshoot")}
    for q in ("rise_time", "settling_time"):
        if any(np.isnan(f[q]) for f in figs):
            out[q] = float("nan")
    out["steady_state_error"] = max(abs(f["steady_state_error"]) for f in figs)
    out["n_plants"] = float(len(figs))
    worst = plant_variations()[int(np.argmax([f["overshoot"] for f in figs]))]
    out["overshoot_plant"] = ", ".join(
        f"{p} {100 * (worst[p] / NOMINAL[p] - 1):+.0f} %" for p in _PARAMS
    )
    return out


def zoh(A: np.ndarray, B: np.ndarray, ts: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact zero-order-hold discretisation: ``expm([[A, B], [0, 0]] ts)`` read off."""
    n, m = B.shape
    big = np.zeros((n + m, n + m))
    big[:n, :n], big[:n, n:] = A, B
    e = linalg.expm(big * ts)
    return e[:n, :n], e[:n, n:]


def simulate_sampled(
    A: np.ndarray,
    B: np.ndarray,
    law: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    t_final: float,
    u_max: float,
    ts: float = TS,
    sub: int = SUB,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The loop with ``u`` sampled every ``ts`` and held; ``t``, ``x`` (grid ``ts / sub``), ``u``.

    Exact between samples (the plant is linear and ``u`` constant there). The
    command computed from ``x(k ts)`` is applied at ``k ts``: no computation delay.
    """
    ad, bd = zoh(A, B, ts / sub)
    periods = round(t_final / ts)
    t = np.linspace(0.0, periods * ts, periods * sub + 1)
    x = np.empty((t.size, A.shape[0]))
    u = np.empty(t.size)
    x[0] = x0
    for k in range(periods):
        hold = float(np.clip(law(x[k * sub][None])[0, 0], -u_max, u_max))
        for j in range(k * sub, (k + 1) * sub):
            u[j] = hold
            x[j + 1] = ad @ x[j] + bd[:, 0] * hold
    u[-1] = u[-2]
    return t, x, u


def sampled_figures(
    A: np.ndarray,
    B: np.ndarray,
    law: Callable[[np.ndarray], np.ndarray],
    K_net: np.ndarray,
    x_ref: np.ndarray,
    t_final: float,
    u_max: float,
) -> dict[str, float]:
    """Step figures of the sampled-data loop, and the spectral radius of ``Ad - Bd K_net``."""
    t, x, _ = simulate_sampled(A, B, law, np.zeros(A.shape[0]), t_final, u_max)
    out = _step_figures(t, x[:, 0], float(x_ref[0]))
    ad, bd = zoh(A, B, TS)
    out["spectral_radius"] = float(np.abs(np.linalg.eigvals(ad - bd @ K_net)).max())
    return out
