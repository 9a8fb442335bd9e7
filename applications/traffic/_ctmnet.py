"""The cell transmission model's step as an exact ReLU network, unrolled and verified.

With the triangular diagram (Newell 1993, Daganzo 1994) a cell of ``n``
lanes has demand ``D = vf min(rho, n rho_c)`` and supply ``S = n C - w
relu(rho - n rho_c)`` (veh/h; ``rho`` veh/km summed over the lanes), so
both are affine in ``rho`` and one hinge ``h = relu(rho - n rho_c)``.
Godunov's flow through an interface (Lebacque 1996) is ``min(D_up, S_down)
= D_up - relu(D_up - S_down)``: one step of the CTM is a ReLU network with
two hidden layers, exactly, in real arithmetic:

- layer 1: ``rho`` carried as ``relu(rho)`` (densities are non-negative),
  the hinges ``h``, the point queue and the inflows carried the same way;
- layer 2: ``rho`` and ``h`` carried, ``g_i = relu(D_{i-1} - S_i)`` at every
  interface, ``g_0 = relu(E - S_0)`` at the entrance with demand ``E =
  inflow + queue / dt``, ``relu(E)`` carried, ``relu(D_last - exit_supply)``
  when the exit supply is finite;
- output: ``rho + dt / dx (f_in - f_out)`` with ``f_i = D_{i-1} - g_i`` and
  ``f_0 = E - g_0``, and the queue ``q' = q + dt (inflow - f_0) = dt g_0``.

:func:`ctm_unrolled_network` stacks T steps into one network (each step's
output layer multiplied into the next step's first layer, which only picks
and shifts, so the product is exact), carrying the later steps' inflows
through the ReLUs as ``relu(u) = u``. :func:`pwlmodels.maximize` then gives a
certified worst case over a box of inflow profiles, with the witness profile
(:func:`ctm_worst_case`), which no number of simulations can give.
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from pwlmodels import evaluate, maximize
from pwlmodels._validate import plain
from pwlmodels.network._torch import relu_sequential

from .._checks import check_count, one_thread
from ._ctm import _profile, simulate_ctm
from ._models import TriangularFD, as_array, positive

__all__ = ["CTMWorstCase", "ctm_step_network", "ctm_unrolled_network", "ctm_worst_case"]

_OUTPUTS = ("final", "all")


# ------------------------------------------------------------------ checks
def _check(fd, n_cells, dx, dt, lanes, exit_supply):
    if not isinstance(fd, TriangularFD):
        raise TypeError(
            "`fd` must be a TriangularFD (its demand and supply are exact with ReLUs); "
            f"got {type(fd).__name__}"
        )
    n = check_count(n_cells, "n_cells", 1)
    dx = positive(dx, "dx", "km")
    dt = positive(dt, "dt", "h")
    speed = fd.max_speed
    if dt * speed > dx * (1 + 1e-12):  # as simulate_ctm
        raise ValueError(
            f"`dt` must satisfy the CFL condition dt <= dx / max(vf, w) = {plain(dx / speed)!r} "
            f"h; got dt = {plain(dt)!r}"
        )
    lanes = _profile(lanes, "lanes", n, "lanes")
    if (lanes <= 0).any():
        raise ValueError(f"`lanes` must be positive; got {plain(float(lanes.min()))!r}")
    if isinstance(exit_supply, (bool, np.bool_)) or not isinstance(exit_supply, numbers.Real):
        raise TypeError(f"`exit_supply` must be a real number (veh/h); got {plain(exit_supply)!r}")
    if not float(exit_supply) >= 0:
        raise ValueError(f"`exit_supply` must be non-negative (veh/h); got {plain(exit_supply)!r}")
    return n, dx, dt, lanes, float(exit_supply)


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False; got {plain(value)!r}")
    return bool(value)


# ------------------------------------------------------------ the layers
@dataclass(frozen=True)
class _Layout:
    """What the state vector between two steps holds, in this order."""

    n: int
    queue: bool
    inflows: int  # inflows still to come, the current step's first
    history: int  # densities (and queues) of earlier steps kept for output="all"

    @property
    def size(self) -> int:
        return self.n + self.queue + self.inflows + self.history


def _step(fd: TriangularFD, lanes, dx, dt, exit_supply, lay: _Layout, keep: bool):
    """[(W, b)] x 3 of one step from the state ``lay`` to the next (history grows if keep)."""
    n, vf, w = lay.n, fd.vf, fd.w
    rc, cap = fd.critical_density, fd.capacity
    fut = lay.inflows - 1 if lay.inflows else 0
    entrance = lay.queue or lay.inflows > 0
    # layer 1: [rho (n), h (n), q?, u (inflows), history]
    m1 = 2 * n + lay.queue + lay.inflows + lay.history
    W1, b1 = np.zeros((m1, lay.size)), np.zeros(m1)
    W1[np.arange(n), np.arange(n)] = 1.0
    W1[n + np.arange(n), np.arange(n)] = 1.0
    b1[n : 2 * n] = -lanes * rc
    rest = np.arange(lay.size - n)
    W1[2 * n + rest, n + rest] = 1.0
    R, H, Q, U = 0, n, 2 * n, 2 * n + lay.queue  # offsets into layer 1
    X = U + lay.inflows  # layer 1's history
    # layer 2: [rho (n), h (n), g_0?, e?, g_1..g_{n-1}, g_n?, future u, history]
    exit_row = math.isfinite(exit_supply)
    m2 = 2 * n + 2 * entrance + (n - 1) + exit_row + fut + lay.history
    W2, b2 = np.zeros((m2, m1)), np.zeros(m2)
    W2[np.arange(2 * n), np.arange(2 * n)] = 1.0
    row = 2 * n
    if entrance:  # g_0 = relu(E - S_0), e = relu(E), E = u + q / dt
        for r in (row, row + 1):
            if lay.inflows:
                W2[r, U] = 1.0
            if lay.queue:
                W2[r, Q] = 1.0 / dt
        W2[row, H] = w
        b2[row] = -lanes[0] * cap
        row += 2
    g1 = row
    for i in range(1, n):  # g_i = relu(D_{i-1} - S_i)
        W2[row, [R + i - 1, H + i - 1, H + i]] = vf, -vf, w
        b2[row] = -lanes[i] * cap
        row += 1
    if exit_row:
        W2[row, [R + n - 1, H + n - 1]] = vf, -vf
        b2[row] = -exit_supply
        row += 1
    W2[row + np.arange(fut), U + 1 + np.arange(fut)] = 1.0
    W2[row + fut + np.arange(lay.history), X + np.arange(lay.history)] = 1.0
    F2, Hist2 = row, row + fut
    # output: [rho' (n), q'?, future u, history (+ rho', q' if keep)]
    nxt = _Layout(n, lay.queue, fut, lay.history + (n + lay.queue) * keep)
    W3, b3 = np.zeros((nxt.size, m2)), np.zeros(nxt.size)
    ratio = dt / dx
    flows = np.zeros((n + 1, m2))  # f_i as rows over layer 2
    if entrance:
        flows[0, 2 * n + 1], flows[0, 2 * n] = 1.0, -1.0
    for i in range(1, n + 1):
        flows[i, i - 1], flows[i, n + i - 1] = vf, -vf
        if i < n:
            flows[i, g1 + i - 1] = -1.0
        elif exit_row:
            flows[i, g1 + n - 1] = -1.0
    state = np.zeros((n + lay.queue, m2))
    state[np.arange(n), np.arange(n)] = 1.0
    state[:n] += ratio * (flows[:-1] - flows[1:])
    if lay.queue:
        state[n, 2 * n] = dt
    W3[: n + lay.queue] = state
    W3[n + lay.queue + np.arange(fut), F2 + np.arange(fut)] = 1.0
    at = n + lay.queue + fut
    W3[at + np.arange(lay.history), Hist2 + np.arange(lay.history)] = 1.0
    if keep:
        W3[at + lay.history :] = state
    return [(W1, b1), (W2, b2), (W3, b3)], nxt


def _build(fd, lanes, dx, dt, exit_supply, n, steps, queue, inflow_input, output, dtype, device):
    """The unrolled network: 2 hidden layers per step, output layers merged into the next."""
    lay = _Layout(n, queue, steps if inflow_input else 0, 0)
    layers: list[tuple[np.ndarray, np.ndarray]] = []
    for _ in range(steps):
        block, lay = _step(fd, lanes, dx, dt, exit_supply, lay, output == "all")
        if layers:  # the previous output layer times this first layer (picks and shifts)
            (Wp, bp), (W1, b1) = layers.pop(), block[0]
            block[0] = (W1 @ Wp, W1 @ bp + b1)
        layers.extend(block)
    W, b = layers[-1]
    keep = slice(lay.size - lay.history, None) if output == "all" else slice(0, n + queue)
    layers[-1] = (W[keep], b[keep])
    return relu_sequential(layers, dtype=dtype, device=device).eval()


def _dtype(dtype: object) -> torch.dtype:
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"`dtype` must be torch.float32 or torch.float64; got {plain(dtype)!r}")
    return dtype


# ----------------------------------------------------------------- public
def ctm_step_network(
    fd: TriangularFD,
    n_cells: int,
    dx: float,
    dt: float,
    *,
    lanes: object = 1.0,
    inflow_input: bool = True,
    queue: bool = True,
    exit_supply: float = math.inf,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> nn.Sequential:
    """One step of :func:`simulate_ctm` with a triangular diagram, as an exact ReLU network.

    ``Linear, ReLU, Linear, ReLU, Linear``: the demand ``D = vf min(rho, n
    rho_c)`` and supply ``S = n C - w relu(rho - n rho_c)`` of a cell of
    ``n`` lanes are affine in ``rho`` and one hinge, and the flow ``min(D_up,
    S_down) = D_up - relu(D_up - S_down)`` adds a second layer (module
    docstring). The entrance passes ``min(inflow + queue / dt, S_0)`` and
    the point queue keeps the rest, as in :func:`simulate_ctm`; with
    ``queue=False`` there is no queue: what the first cell cannot take is
    lost (and the simulator, whose queue cannot be turned off, agrees only
    while the entrance is not supply-limited).

    Parameters
    ----------
    fd : TriangularFD
        The per-lane diagram.
    n_cells : int
        Cells, >= 1.
    dx, dt : float
        Cell length (km) and time step (h), with the CFL condition ``dt <= dx
        / max(vf, w)`` (checked as :func:`simulate_ctm` checks it).
    lanes : float or array_like, shape (n_cells,), default 1.0
        Lanes per cell (positive): a lane drop is a smaller count downstream.
    inflow_input : bool, default True
        Take the upstream demand (veh/h) as an input; False: nothing arrives.
    queue : bool, default True
        Take and return the entry queue (vehicles).
    exit_supply : float, default inf
        Supply beyond the last cell, veh/h.
    dtype : torch.float64 or torch.float32, default torch.float64
    device : None, str or torch.device, optional (CPU)

    Returns
    -------
    torch.nn.Sequential
        From (..., n_cells [+ 1 queue] [+ 1 inflow]) (densities in veh/km
        summed over the lanes, then the queue, then the inflow) to (...,
        n_cells [+ 1]): the densities after the step, then the queue. Equal
        to the scheme in real arithmetic for densities in [0, lanes x
        rho_jam], a queue >= 0 and an inflow >= 0 (outside, some extension);
        in float64 the two differ by rounding only (a few ulps of ``lanes x
        rho_jam``).

    Examples
    --------
    A two-lane road dropping to one lane, checked against the simulator:

    >>> import numpy as np
    >>> from pwlmodels import evaluate
    >>> from applications.traffic import TriangularFD, ctm_step_network, simulate_ctm
    >>> fd, lanes = TriangularFD(), [2, 2, 2, 1, 1]
    >>> net = ctm_step_network(fd, 5, 0.1, 0.001, lanes=lanes)
    >>> rho, inflow = np.array([150.0, 60.0, 150.0, 100.0, 10.0]), 3500.0
    >>> ours = evaluate(net, np.r_[rho, 0.0, inflow][None])
    >>> r = simulate_ctm(fd, rho, dx=0.1, dt=0.001, steps=1, lanes=lanes, inflow=inflow)
    >>> bool(np.allclose(ours[0, :5], r.density[-1], rtol=0, atol=1e-12))
    True
    >>> round(float(ours[0, 5]), 9), round(float(r.entry_queue[-1]), 9)  # 3.5 arrive, 1.8 enter
    (1.7, 1.7)
    """
    n, dx, dt, lanes, exit_supply = _check(fd, n_cells, dx, dt, lanes, exit_supply)
    inflow_input, queue = _flag(inflow_input, "inflow_input"), _flag(queue, "queue")
    return _build(
        fd, lanes, dx, dt, exit_supply, n, 1, queue, inflow_input, "final", _dtype(dtype), device
    )


def ctm_unrolled_network(
    fd: TriangularFD,
    n_cells: int,
    dx: float,
    dt: float,
    steps: int,
    *,
    lanes: object = 1.0,
    queue: bool = True,
    exit_supply: float = math.inf,
    output: str = "final",
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> nn.Sequential:
    """``steps`` steps of :func:`ctm_step_network` as one network of the inflow profile.

    Each step is two hidden layers; its output layer is multiplied into the
    next step's first layer (which only copies and shifts, so the product is
    exact), and the later steps' inflows ride along as ``relu(u) = u``. So
    the network has ``2 steps`` hidden layers, and is the scheme's map from
    the initial state and the whole inflow profile to the state after
    ``steps`` steps, exactly in real arithmetic.

    Parameters
    ----------
    fd, n_cells, dx, dt, lanes, queue, exit_supply, dtype, device
        As in :func:`ctm_step_network`.
    steps : int
        Time steps T, >= 1.
    output : {"final", "all"}, default "final"
        ``"final"``: the densities (and queue) after the last step;
        ``"all"``: those after every step, step by step (each carried to the
        end, so the hidden layers widen with the step).

    Returns
    -------
    torch.nn.Sequential
        From (..., n_cells [+ 1 queue] + T) (initial densities, initial
        queue, then the inflow of each step, veh/h) to (..., n_cells [+ 1])
        for ``"final"`` or (..., T (n_cells [+ 1])) for ``"all"``.

    Examples
    --------
    >>> import numpy as np
    >>> from pwlmodels import evaluate
    >>> from applications.traffic import TriangularFD, ctm_unrolled_network, simulate_ctm
    >>> fd, lanes, inflow = TriangularFD(), [2, 2, 2, 1], [3800.0, 2500.0, 4000.0]
    >>> net = ctm_unrolled_network(fd, 4, 0.1, 0.001, 3, lanes=lanes, output="all")
    >>> x = np.r_[np.full(4, 30.0), 0.0, inflow][None]
    >>> ours = evaluate(net, x).reshape(3, 5)
    >>> r = simulate_ctm(fd, np.full(4, 30.0), dx=0.1, dt=0.001, steps=3, lanes=lanes,
    ...                  inflow=inflow)
    >>> bool(np.allclose(ours[:, :4], r.density[1:], rtol=0, atol=1e-12))
    True
    >>> bool(np.allclose(ours[:, 4], r.entry_queue[1:], rtol=0, atol=1e-12))
    True
    """
    n, dx, dt, lanes, exit_supply = _check(fd, n_cells, dx, dt, lanes, exit_supply)
    steps = check_count(steps, "steps", 1)
    queue = _flag(queue, "queue")
    if output not in _OUTPUTS:
        raise ValueError(f"`output` must be one of {_OUTPUTS}; got {plain(output)!r}")
    return _build(
        fd, lanes, dx, dt, exit_supply, n, steps, queue, True, output, _dtype(dtype), device
    )


def network_size(net: nn.Sequential) -> dict[str, int]:
    """``layers`` (Linear), ``relus`` (hidden units) and ``parameters`` of a Linear/ReLU net."""
    lins = [m for m in net if isinstance(m, nn.Linear)]
    return {
        "layers": len(lins),
        "relus": sum(m.out_features for m in lins[:-1]),
        "parameters": sum(p.numel() for p in net.parameters()),
    }


@dataclass(frozen=True)
class CTMWorstCase:
    """The certified maximum of a linear functional of the CTM's final state over a box.

    Attributes
    ----------
    steps, n_cells : int
    value : float
        The objective at the witness (float64 forward pass of the network): a
        true lower bound of the maximum.
    bound : float
        A sound upper bound (:func:`pwlmodels.maximize`); ``gap = bound - value``.
    gap : float
    solver_bound : float or None
        HiGHS's own dual bound (not trusted: ``bound`` is the one branch and
        bound confirms; where HiGHS finished but the confirmation did not,
        this is the sharper, unconfirmed, figure).
    status : str
        ``"optimal"`` when ``gap <= atol + 1e-9 |value|``; else why it stopped.
    witness_inflow : ndarray, shape (steps,)
        The inflow profile attaining ``value``, veh/h.
    witness_rho0 : ndarray, shape (n_cells,)
        The initial densities attaining it (the given ones when fixed), veh/km.
    replay_value : float
        The objective of :func:`simulate_ctm` run on the witness.
    sampled_best : float or None
        The best of ``samples`` profiles drawn uniformly from the box (None for 0).
    samples : int
    upper_value : float
        The objective at the box's upper corner (every inflow and density at
        its largest); the scheme is monotone, so for non-negative weights this
        is the maximum, and the certificate must agree with it.
    layers, relus, parameters, n_binary : int
        The unrolled network's Linear layers, hidden units and parameters, and
        the MILP's binaries.
    build_time, solve_time : float
        Seconds: the checks and the network; then :func:`pwlmodels.maximize`, the
        samples and the replay.
    """

    steps: int
    n_cells: int
    value: float
    bound: float
    gap: float
    solver_bound: float | None
    status: str
    witness_inflow: np.ndarray
    witness_rho0: np.ndarray
    replay_value: float
    sampled_best: float | None
    samples: int
    upper_value: float
    layers: int
    relus: int
    parameters: int
    n_binary: int
    build_time: float
    solve_time: float

    def to_frame(self) -> pd.DataFrame:
        """One row; the witness arrays as tuples."""
        row = asdict(self)
        for key in ("witness_inflow", "witness_rho0"):
            row[key] = tuple(float(v) for v in row[key])
        return pd.DataFrame([row])


def _box(value: object, name: str, size: int, unit: str) -> np.ndarray:
    """(2, size): a fixed profile (size,) or scalar, or a [lower, upper] pair of them."""
    arr = as_array(value, name)
    if arr.ndim == 2 and arr.shape[0] == 2:
        lo, up = (_profile(a, name, size, unit) for a in arr)
    else:
        lo = up = _profile(arr, name, size, unit)
    if (lo > up).any():
        i = int(np.argmax(lo > up))
        raise ValueError(f"`{name}` must have lower <= upper; got {lo[i]} > {up[i]} at {i}")
    return np.stack([lo, up])


def ctm_worst_case(
    fd: TriangularFD,
    n_cells: int,
    dx: float,
    dt: float,
    steps: int,
    *,
    rho0: object,
    inflow_lower: object,
    inflow_upper: object,
    weights: object,
    lanes: object = 1.0,
    exit_supply: float = math.inf,
    samples: int = 1000,
    seed: int = 0,
    atol: float = 1e-6,
    time_limit: float | None = 60.0,
) -> CTMWorstCase:
    """Maximise ``weights @ (densities, queue)`` after ``steps`` steps over a box of inflows.

    The scheme unrolled (:func:`ctm_unrolled_network`, entry queue 0 at the
    start, as :func:`simulate_ctm` starts) is maximised by
    :func:`pwlmodels.maximize` (``method="milp"``: HiGHS proposes, branch
    and bound confirms a sound bound). The witness is replayed in
    :func:`simulate_ctm`, and the best of ``samples`` random profiles is a
    sampled lower bound to set beside the certified one.

    Parameters
    ----------
    fd, n_cells, dx, dt, steps, lanes, exit_supply
        As in :func:`ctm_unrolled_network`.
    rho0 : array_like, shape (n_cells,) or (2, n_cells)
        Initial densities (veh/km), fixed, or a [lower, upper] box.
    inflow_lower, inflow_upper : float or array_like, shape (steps,)
        The box of inflow profiles, veh/h.
    weights : array_like, shape (n_cells,) or (n_cells + 1,)
        The objective's weights on the final densities, then on the final
        entry queue (0 when omitted): ``dx`` on the cells upstream of a lane
        drop and 1 on the queue count the vehicles held back by the drop.
    samples : int, default 1000
    seed : int, default 0
    atol : float, default 1e-6
        Absolute tolerance of the maximum, in the objective's units (with
        ``rtol=1e-9``); the sound bound's float64 margins are about 1e-8
        relative, so much below this the status stays short of optimal.
    time_limit : float or None, default 60.0
        Seconds for :func:`pwlmodels.maximize`.

    Returns
    -------
    CTMWorstCase

    Examples
    --------
    Vehicles held upstream of a lane drop (2 lanes to 1) after 4 steps of
    3.6 s, with inflows between 2000 and 4000 veh/h:

    >>> import numpy as np
    >>> from applications.traffic import TriangularFD, ctm_worst_case
    >>> lanes = [2, 2, 2, 2, 1, 1]
    >>> rho0 = 15.0 * np.array(lanes)  # free flow, 15 veh/km per lane
    >>> r = ctm_worst_case(TriangularFD(), 6, 0.1, 0.001, 4, lanes=lanes, rho0=rho0,
    ...                    inflow_lower=2000.0, inflow_upper=4000.0,
    ...                    weights=[0.1, 0.1, 0.1, 0.1, 0.0, 0.0, 1.0], samples=200)
    >>> r.status, round(r.value, 6), r.witness_inflow.tolist()
    ('optimal', 20.0, [4000.0, 4000.0, 4000.0, 4000.0])
    >>> r.bound - r.value < 1e-6, abs(r.replay_value - r.value) < 1e-12
    (True, True)
    >>> r.sampled_best <= r.value
    True
    """
    start = time.perf_counter()
    n, dx, dt, lanes, exit_supply = _check(fd, n_cells, dx, dt, lanes, exit_supply)
    steps = check_count(steps, "steps", 1)
    samples = check_count(samples, "samples", 0)
    seed = check_count(seed, "seed", 0)
    atol = positive(atol, "atol", "objective units")
    if time_limit is not None:
        time_limit = positive(time_limit, "time_limit", "s")
    rho = _box(rho0, "rho0", n, "veh/km")
    if (rho[1] > lanes * fd.rho_jam * (1 + 1e-12)).any():
        i = int(np.argmax(rho[1] > lanes * fd.rho_jam * (1 + 1e-12)))
        raise ValueError(f"`rho0` must not exceed lanes x jam density; got rho0[{i}] = {rho[1, i]}")
    u_lo = _profile(inflow_lower, "inflow_lower", steps, "veh/h")
    u_up = _profile(inflow_upper, "inflow_upper", steps, "veh/h")
    if (u_lo > u_up).any():
        i = int(np.argmax(u_lo > u_up))
        raise ValueError(
            f"`inflow_lower` must not exceed `inflow_upper`; got {u_lo[i]} > {u_up[i]} at step {i}"
        )
    c = as_array(weights, "weights")
    if c.shape not in ((n,), (n + 1,)):
        raise ValueError(f"`weights` must have shape ({n},) or ({n + 1},); got {c.shape}")
    if not np.isfinite(c).all():
        raise ValueError(f"`weights` must be finite; got {c.tolist()}")
    c = np.r_[c, 0.0] if c.size == n else c
    net = _build(fd, lanes, dx, dt, exit_supply, n, steps, True, True, "final", torch.float64, None)
    lower, upper = np.r_[rho[0], 0.0, u_lo], np.r_[rho[1], 0.0, u_up]
    built = time.perf_counter() - start
    with one_thread():
        res = maximize(net, lower, upper, c=c, method="milp", atol=atol, time_limit=time_limit)
        best = None
        if samples:
            x = lower + (upper - lower) * np.random.default_rng(seed).random((samples, lower.size))
            best = float((evaluate(net, x) @ c).max())
        top = float(evaluate(net, upper[None])[0] @ c)
    w_rho, w_u = res.witness[:n], res.witness[n + 1 :]
    sim = simulate_ctm(
        fd, w_rho, dx=dx, dt=dt, steps=steps, lanes=lanes, inflow=w_u, exit_supply=exit_supply
    )
    replay = float(np.r_[sim.density[-1], sim.entry_queue[-1]] @ c)
    size = network_size(net)
    return CTMWorstCase(
        steps=steps,
        n_cells=n,
        value=float(res.value),
        bound=float(res.bound),
        gap=float(res.gap),
        solver_bound=res.solver_bound,
        status=res.status,
        witness_inflow=w_u,
        witness_rho0=w_rho,
        replay_value=replay,
        sampled_best=best,
        samples=samples,
        upper_value=top,
        layers=size["layers"],
        relus=size["relus"],
        parameters=size["parameters"],
        n_binary=int(res.n_binary),
        build_time=built,
        solve_time=time.perf_counter() - start - built,
    )
