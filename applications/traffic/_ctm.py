"""Godunov's scheme for the LWR model in demand-supply form: the cell transmission model.

Lighthill and Whitham (1955) and Richards (1956) give the conservation law
``rho_t + q(rho)_x = 0``; Daganzo's (1994, 1995) cell transmission model and
Lebacque's (1996) demand-supply form of Godunov's scheme discretise it:
the flow through an interface is ``min(D(rho_up), S(rho_down))`` with
demand ``D(rho) = max of q on [0, rho]`` and supply ``S(rho) = max of q on
[rho, rho_jam]``. A fitted flux is first made admissible
(:func:`admissible_flux`); the scheme is vectorised in torch over cells and
over a batch of fluxes, on the CPU or a GPU.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import torch

from pwlmodels import PiecewiseLinear, resolve_device
from pwlmodels._validate import plain

from .._checks import check_count, one_thread
from ._models import Greenshields, TriangularFD, as_array, positive

__all__ = ["AdmissibleFlux", "CTMResult", "admissible_flux", "simulate_ctm"]

_GREENSHIELDS_KNOTS = 513  # the interpolant a Greenshields flux is simulated with


@dataclass(frozen=True, eq=False)
class AdmissibleFlux:
    """A flux made admissible for the CTM, with Lebacque's demand and supply tabulated.

    All arrays share the nodes, between which every function is linear, so
    the tables are exact for a piecewise-linear flux.

    Attributes
    ----------
    nodes : ndarray, shape (M,)
        Increasing densities from 0 to ``jam_density``, veh/km.
    flux, demand, supply : ndarray, shape (M,)
        The corrected flux q, ``D`` (non-decreasing) and ``S`` (non-increasing), veh/h.
    critical_density, capacity, jam_density : float
    corrections : mapping
        What was needed (veh/h unless stated): ``intercept_removed`` (q(0) > 0
        faded out linearly to the critical density), ``negative_clipped``,
        ``demand_filled`` and ``supply_filled`` (how far D and S lie above q:
        bumps of a non-concave fit), ``jam_forced`` (1.0 when the flux had no
        zero beyond the critical density and its last segment was continued
        to one) and ``jam_forced_from`` (veh/km, the density where that began; 0.0 if not).

    Examples
    --------
    >>> from applications.traffic import TriangularFD, admissible_flux
    >>> a = admissible_flux(TriangularFD())
    >>> float(a.demand_at(60.0)), float(a.supply_at(60.0)), a.max_speed
    (2000.0, 1200.0, 100.0)
    >>> a.free_flow_density(1200.0), a.congested_density(1200.0)
    (12.0, 60.0)
    """

    nodes: np.ndarray
    flux: np.ndarray
    demand: np.ndarray
    supply: np.ndarray
    critical_density: float
    capacity: float
    jam_density: float
    corrections: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    @property
    def max_speed(self) -> float:
        """The largest |q'| (km/h), which sets the CFL step dt <= dx / max_speed."""
        return float(np.max(np.abs(np.diff(self.flux) / np.diff(self.nodes))))

    def __call__(self, density: object) -> np.ndarray:
        """The corrected flux at ``density`` (veh/km; 0 beyond the jam density)."""
        return np.interp(as_array(density, "density"), self.nodes, self.flux, right=0.0)

    def demand_at(self, density: object) -> np.ndarray:
        """Lebacque's demand D (veh/h) at ``density`` (veh/km)."""
        return np.interp(as_array(density, "density"), self.nodes, self.demand)

    def supply_at(self, density: object) -> np.ndarray:
        """Lebacque's supply S (veh/h) at ``density`` (veh/km)."""
        return np.interp(as_array(density, "density"), self.nodes, self.supply, right=0.0)

    def free_flow_density(self, flow: float) -> float:
        """The density on the rising branch (of D) where the flow is ``flow`` (veh/h)."""
        flow = float(flow)
        if not 0.0 <= flow <= self.capacity:
            raise ValueError(
                f"`flow` must lie in [0, capacity = {self.capacity}]; got {plain(flow)!r}"
            )
        j = int(np.argmax(self.demand >= flow))
        if j == 0:
            return float(self.nodes[0])
        d0, d1 = self.demand[j - 1], self.demand[j]
        x0, x1 = self.nodes[j - 1], self.nodes[j]
        return float(x0 + (flow - d0) / (d1 - d0) * (x1 - x0))

    def congested_density(self, flow: float) -> float:
        """The density on the falling branch (of S) where the flow is ``flow`` (veh/h)."""
        flow = float(flow)
        if not 0.0 <= flow <= self.capacity:
            raise ValueError(
                f"`flow` must lie in [0, capacity = {self.capacity}]; got {plain(flow)!r}"
            )
        j = int(np.nonzero(self.supply >= flow)[0][-1])
        if j == self.nodes.size - 1:
            return float(self.nodes[-1])
        s0, s1 = self.supply[j], self.supply[j + 1]
        x0, x1 = self.nodes[j], self.nodes[j + 1]
        return float(x0 + (s0 - flow) / (s0 - s1) * (x1 - x0))


def admissible_flux(
    flux: TriangularFD | Greenshields | PiecewiseLinear | AdmissibleFlux,
    *,
    density_max: float | None = None,
) -> AdmissibleFlux:
    """Make a (fitted) flux admissible for the cell transmission model.

    On [0, ``density_max``]: the critical density is the argmax of q; a
    positive q(0) is removed by subtracting ``q(0) (1 - rho / rho_c)`` below
    rho_c (capacity and critical density unchanged); the jam density is the
    first zero beyond rho_c, forced where absent by continuing the last
    segment (or, if that does not fall, a line down from it at the mean
    slope between capacity and zero over the rest of the range); negative
    flows are clipped at 0; then demand ``D(rho) = max of q on [0, rho]``
    and supply ``S(rho) = max of q on [rho, rho_jam]`` (Lebacque 1996), with
    the crossing points inserted so the tables are exact. The corrections
    applied are reported in ``corrections``.

    Parameters
    ----------
    flux : TriangularFD, Greenshields, PiecewiseLinear or AdmissibleFlux
        A Greenshields flux is used through its interpolant on 513 knots.
    density_max : float, optional
        The interval on which to look (veh/km); required for a
        PiecewiseLinear, default the jam density of the two models.

    Returns
    -------
    AdmissibleFlux

    Examples
    --------
    >>> import numpy as np
    >>> from pwlmodels import PiecewiseLinear
    >>> from applications.traffic import admissible_flux
    >>> bumpy = PiecewiseLinear([0, 20, 40, 60, 100], [50, 2000, 1500, 1700, 100])
    >>> a = admissible_flux(bumpy, density_max=110.0)
    >>> a.critical_density, a.capacity, round(a.jam_density, 3)
    (20.0, 2000.0, 102.5)
    >>> dict(a.corrections)  # doctest: +NORMALIZE_WHITESPACE
    {'intercept_removed': 50.0, 'negative_clipped': 0.0, 'demand_filled': 0.0,
     'supply_filled': 200.0, 'jam_forced': 0.0, 'jam_forced_from': 0.0}
    >>> float(a.supply_at(40.0)), float(a.demand_at(40.0))
    (1700.0, 2000.0)
    """
    if isinstance(flux, AdmissibleFlux):
        return flux
    if isinstance(flux, TriangularFD):
        spline, top = flux.to_spline(), flux.rho_jam
    elif isinstance(flux, Greenshields):
        spline, top = flux.to_spline(_GREENSHIELDS_KNOTS), flux.rho_max
    elif isinstance(flux, PiecewiseLinear):
        if density_max is None:
            raise ValueError(
                "`density_max` is required for a PiecewiseLinear flux: the end (veh/km) of the "
                "interval [0, density_max] searched for its capacity and jam density"
            )
        spline, top = flux, None
    else:
        raise TypeError(
            "`flux` must be a TriangularFD, Greenshields, PiecewiseLinear or AdmissibleFlux; "
            f"got {type(flux).__name__}"
        )
    if density_max is not None:
        top = positive(density_max, "density_max", "veh/km")
    t = spline.knots
    x = np.unique(np.concatenate([[0.0, top], t[(t > 0) & (t < top)]]))
    y = spline(x)
    return _admissible(x, y, top)


def _admissible(x: np.ndarray, y: np.ndarray, top: float) -> AdmissibleFlux:
    ic = int(np.argmax(y))
    rho_c, cap = float(x[ic]), float(y[ic])
    if not (cap > 0 and rho_c > 0):
        raise ValueError(
            "`flux` must rise from the origin to a positive capacity on [0, density_max]; "
            f"got its maximum {plain(cap)!r} veh/h at {plain(rho_c)!r} veh/km"
        )
    fix = {"intercept_removed": 0.0, "negative_clipped": 0.0, "demand_filled": 0.0}
    fix |= {"supply_filled": 0.0, "jam_forced": 0.0, "jam_forced_from": 0.0}
    if y[0] > 0:
        fix["intercept_removed"] = float(y[0])
        y = y - y[0] * np.maximum(1.0 - x / rho_c, 0.0)
    after = np.nonzero(y[ic:] <= 0)[0]
    if after.size:  # the first zero beyond the critical density
        j = ic + int(after[0])
        x0, x1, y0, y1 = x[j - 1], x[j], y[j - 1], y[j]
        jam = float(x1 if y1 == 0 else x0 + y0 / (y0 - y1) * (x1 - x0))
        x, y = np.append(x[:j], jam), np.append(y[:j], 0.0)
    else:  # forced: continue the last segment down to zero
        slope = (y[-1] - y[-2]) / (x[-1] - x[-2])
        if not slope < 0:
            slope = -cap / max(x[-1] - rho_c, 1e-12 * top)
        jam = float(x[-1] - y[-1] / slope)
        fix["jam_forced"], fix["jam_forced_from"] = 1.0, float(x[-1])
        x, y = np.append(x, jam), np.append(y, 0.0)
    if (y < 0).any():  # clip at zero, with the crossings as nodes
        fix["negative_clipped"] = float(-y.min())
        x, y = _with_crossings(x, y, np.zeros_like(y))
        y = np.maximum(y, 0.0)
    x, y = _with_crossings(x, y, np.maximum.accumulate(y))  # demand: running max from 0
    xr, yr = _with_crossings(-x[::-1], y[::-1], np.maximum.accumulate(y[::-1]))  # supply
    x, y = -xr[::-1], yr[::-1]
    demand = np.maximum.accumulate(y)
    supply = np.maximum.accumulate(y[::-1])[::-1]
    rising = x <= rho_c  # D lifts dips before the peak, S bumps after it
    fix["demand_filled"] = float(np.max((demand - y)[rising]))
    fix["supply_filled"] = float(np.max((supply - y)[~rising], initial=0.0))
    return AdmissibleFlux(x, y, demand, supply, rho_c, cap, float(x[-1]), MappingProxyType(fix))


def _with_crossings(x, y, level):
    """Insert the points where the linear interpolant of (x, y) crosses the step ``level``.

    ``level[i]`` is a level held on [x[i], x[i+1]] (a running maximum); the
    result has the same function on more nodes.
    """
    lo, hi = level[:-1] - y[:-1], level[:-1] - y[1:]
    cross = np.nonzero(lo * hi < 0)[0]
    if cross.size == 0:
        return x, y
    frac = (level[cross] - y[cross]) / (y[cross + 1] - y[cross])
    xc = x[cross] + frac * (x[cross + 1] - x[cross])
    keep = (xc > x[cross]) & (xc < x[cross + 1])
    xn = np.concatenate([x, xc[keep]])
    order = np.argsort(xn, kind="stable")
    return xn[order], np.concatenate([y, level[cross][keep]])[order]


@dataclass(frozen=True)
class CTMResult:
    """The output of :func:`simulate_ctm` (a leading flux axis when a sequence was given).

    Attributes
    ----------
    time : ndarray, shape (R,)
        Recorded times, h.
    edges : ndarray, shape (n + 1,)
        Interface positions, km (0 at the upstream boundary); cell i is
        [edges[i], edges[i + 1]].
    density : ndarray, shape ([B,] R, n)
        Density of each cell, veh/km summed over its lanes.
    cumulative : ndarray, shape ([B,] R, n + 1)
        Vehicles that crossed each interface since t = 0 (Newell's
        cumulative counts N(x, t)); column 0 entered, column n left.
    entry_queue : ndarray, shape ([B,] R)
        Vehicles waiting to enter at the upstream boundary (a point queue).
    dx, dt : float
        km and h.
    total_time : ndarray, shape ([B,])
        Vehicle-hours spent on the road and in the entry queue over the run.

    Examples
    --------
    >>> import numpy as np
    >>> from applications.traffic import TriangularFD, simulate_ctm
    >>> r = simulate_ctm(TriangularFD(), np.zeros(20), dx=0.1, dt=0.0009, steps=200,
    ...                  inflow=1500.0)
    >>> r.density.shape, r.cumulative.shape
    ((201, 20), (201, 21))
    >>> round(float(r.flow(20)[-1]), 6)  # the exit passes the inflow once the road has filled
    1500.0
    """

    time: np.ndarray
    edges: np.ndarray
    density: np.ndarray
    cumulative: np.ndarray
    entry_queue: np.ndarray
    dx: float
    dt: float
    total_time: np.ndarray

    def vehicles(self) -> np.ndarray:
        """On the road, waiting and exited, shape ([B,] R): initial + inflow, conserved."""
        road = self.density.sum(axis=-1) * self.dx
        return road + self.entry_queue + self.cumulative[..., -1]

    def flow(self, interface: int) -> np.ndarray:
        """Mean flow (veh/h) through ``interface`` over each record interval, ([B,] R - 1)."""
        return np.diff(self.cumulative[..., interface], axis=-1) / np.diff(self.time)


def _fluxes(flux: object) -> tuple[list[AdmissibleFlux], bool]:
    batched = isinstance(flux, (list, tuple))
    items = list(flux) if batched else [flux]
    if not items:
        raise ValueError("`flux` must hold at least one flux; got an empty sequence")
    out = []
    for i, f in enumerate(items):
        if isinstance(f, PiecewiseLinear):
            raise TypeError(
                f"`flux{f'[{i}]' if batched else ''}` is a PiecewiseLinear: make it admissible "
                "first with admissible_flux(spline, density_max=...)"
            )
        if not isinstance(f, (TriangularFD, Greenshields, AdmissibleFlux)):
            raise TypeError(
                f"`flux{f'[{i}]' if batched else ''}` must be a TriangularFD, Greenshields or "
                f"AdmissibleFlux; got {type(f).__name__}"
            )
        out.append(admissible_flux(f))
    return out, batched


def _profile(value: object, name: str, size: int, unit: str, *, allow_inf: bool = False):
    arr = as_array(value, name)
    if arr.ndim == 0:
        arr = np.full(size, float(arr))
    if arr.shape != (size,):
        raise ValueError(f"`{name}` must be a scalar or have shape ({size},); got {arr.shape}")
    bad = np.isnan(arr) | (arr < 0) | (~np.isfinite(arr) if not allow_inf else False)
    if bad.any():
        i = int(np.argmax(bad))
        kind = "non-negative" if allow_inf else "finite and non-negative"
        raise ValueError(f"`{name}` must be {kind} ({unit}); got {name}[{i}] = {arr[i]}")
    return arr


def _signals(signals: object, n_cells: int) -> list[tuple[int, float, float]]:
    if isinstance(signals, (str, bytes)) or not isinstance(signals, Sequence):
        raise TypeError(
            f"`signals` must be a sequence of (interface, start_h, end_h); got {plain(signals)!r}"
        )
    out = []
    for i, sig in enumerate(signals):
        if not isinstance(sig, Sequence) or len(sig) != 3:
            raise TypeError(
                f"`signals[{i}]` must be (interface, start_h, end_h); got {plain(sig)!r}"
            )
        j = check_count(sig[0], f"signals[{i}][0]", 0)
        if j > n_cells:
            raise ValueError(f"`signals[{i}][0]` must be an interface 0..{n_cells}; got {j}")
        start, end = (float(as_array(v, f"signals[{i}]")) for v in sig[1:])
        if not (math.isfinite(start) and math.isfinite(end) and start < end):
            raise ValueError(f"`signals[{i}]` needs finite start_h < end_h; got {plain(sig)!r}")
        out.append((j, start, end))
    return out


def simulate_ctm(
    flux: object,
    rho0: object,
    *,
    dx: float,
    dt: float,
    steps: int,
    lanes: object = 1.0,
    inflow: object = 0.0,
    exit_supply: float = math.inf,
    signals: Sequence[tuple[int, float, float]] = (),
    record_every: int = 1,
    device: torch.device | str | None = None,
) -> CTMResult:
    """Run the cell transmission model (Godunov's scheme in Lebacque's form) in torch.

    Interface flows are ``min(D_up, S_down)`` with a cell of ``n`` lanes
    using ``n D(rho / n)`` and ``n S(rho / n)``; the entrance takes
    ``min(inflow + queue / dt, S(rho_0))`` (a point queue stores what cannot
    enter), the exit ``min(D(rho_last), exit_supply)``, and an interface
    under a red signal passes nothing. Densities update by ``rho += dt / dx
    (f_in - f_out)``, so vehicles are conserved to rounding. Float64 on
    ``device`` (with one intra-op thread on the CPU, restored afterwards:
    the tensors are small); the outputs are numpy.

    Parameters
    ----------
    flux : flux or sequence of fluxes
        TriangularFD, Greenshields (its 513-knot interpolant) or
        AdmissibleFlux; a sequence runs them as a batch and gives every
        output a leading flux axis.
    rho0 : array_like, shape (n,) or (B, n)
        Initial densities, veh/km summed over the cell's lanes, in
        [0, lanes x jam density].
    dx : float
        Cell length, km.
    dt : float
        Time step, h; must satisfy the CFL condition ``dt <= dx / max|q'|``.
    steps : int
        Number of time steps, >= 1.
    lanes : float or array_like, shape (n,), default 1.0
        Lanes per cell (positive).
    inflow : float or array_like, shape (steps,), default 0.0
        Demand at the entrance, veh/h, per step.
    exit_supply : float, default inf
        Supply beyond the last cell, veh/h (inf: a free exit).
    signals : sequence of (int, float, float), default ()
        ``(interface, start_h, end_h)``: the interface passes nothing for
        ``start_h <= t < end_h``; interface i lies between cells i - 1 and i.
    record_every : int, default 1
        Record every this many steps (the last step is always recorded).
    device : None, "auto", str or torch.device, optional (CPU)

    Returns
    -------
    CTMResult

    Examples
    --------
    A free-flow pulse moves one cell per step without smearing when
    ``dt = dx / vf``:

    >>> import numpy as np
    >>> from applications.traffic import TriangularFD, simulate_ctm
    >>> fd = TriangularFD()
    >>> rho0 = np.zeros(40); rho0[5:10] = 15.0
    >>> r = simulate_ctm(fd, rho0, dx=0.1, dt=0.1 / fd.vf, steps=20)
    >>> bool(np.allclose(r.density[-1], np.roll(rho0, 20), atol=1e-12))
    True
    >>> bool(np.allclose(r.vehicles(), r.vehicles()[0], rtol=0, atol=1e-12))
    True
    """
    fluxes, batched = _fluxes(flux)
    B = len(fluxes)
    rho = as_array(rho0, "rho0")
    if rho.ndim == 1:
        rho = np.broadcast_to(rho, (B, rho.size)).copy()
    if rho.ndim != 2 or rho.shape[0] != B or rho.shape[1] < 1:
        raise ValueError(f"`rho0` must have shape (n,) or ({B}, n); got {rho.shape}")
    n = rho.shape[1]
    dx = positive(dx, "dx", "km")
    dt = positive(dt, "dt", "h")
    steps = check_count(steps, "steps", 1)
    every = check_count(record_every, "record_every", 1)
    lanes_arr = _profile(lanes, "lanes", n, "lanes")
    if (lanes_arr <= 0).any():
        raise ValueError(f"`lanes` must be positive; got {lanes_arr.min()}")
    demand_in = _profile(inflow, "inflow", steps, "veh/h")
    if isinstance(exit_supply, (bool, np.bool_)) or not isinstance(exit_supply, numbers.Real):
        raise TypeError(f"`exit_supply` must be a real number (veh/h); got {plain(exit_supply)!r}")
    if not float(exit_supply) >= 0:
        raise ValueError(f"`exit_supply` must be non-negative (veh/h); got {plain(exit_supply)!r}")
    reds = _signals(signals, n)
    bad = ~np.isfinite(rho) | (rho < 0)
    if bad.any():
        idx = np.unravel_index(int(np.argmax(bad)), rho.shape)
        raise ValueError(f"`rho0` must be finite and non-negative (veh/km); got {rho[idx]}")
    jams = np.array([f.jam_density for f in fluxes])
    over = rho > lanes_arr * jams[:, None] * (1 + 1e-12)
    if over.any():
        idx = np.unravel_index(int(np.argmax(over)), rho.shape)
        raise ValueError(
            "`rho0` must not exceed lanes x jam density; got "
            f"rho0{[int(i) for i in idx]} = {float(rho[idx])}"
        )
    speed = max(f.max_speed for f in fluxes)
    if dt * speed > dx * (1 + 1e-12):
        raise ValueError(
            f"`dt` must satisfy the CFL condition dt <= dx / max|q'| = {plain(dx / speed)!r} h "
            f"(max|q'| = {plain(speed)!r} km/h); got dt = {plain(dt)!r}"
        )
    dev = resolve_device(device)
    with one_thread():
        return _run(
            fluxes,
            batched,
            rho,
            lanes_arr,
            demand_in,
            float(exit_supply),
            reds,
            dx,
            dt,
            steps,
            every,
            dev,
        )


def _tables(fluxes: list[AdmissibleFlux], dev: torch.device):
    m = max(f.nodes.size for f in fluxes)
    nodes, dem, sup = (np.empty((len(fluxes), m)) for _ in range(3))
    for b, f in enumerate(fluxes):
        k = f.nodes.size
        pad = f.jam_density * (1.0 + np.arange(1, m - k + 1))
        nodes[b] = np.concatenate([f.nodes, pad])
        dem[b] = np.concatenate([f.demand, np.full(m - k, f.capacity)])
        sup[b] = np.concatenate([f.supply, np.zeros(m - k)])
    as_t = lambda a: torch.as_tensor(a, dtype=torch.float64, device=dev)  # noqa: E731
    return as_t(nodes), as_t(dem), as_t(sup), m


def _run(fluxes, batched, rho, lanes, demand_in, exit_supply, reds, dx, dt, steps, every, dev):
    f64 = {"dtype": torch.float64, "device": dev}
    nodes, dem, sup, m = _tables(fluxes, dev)
    jam = torch.tensor([f.jam_density for f in fluxes], **f64)[:, None]
    lanes_t = torch.as_tensor(lanes, **f64)
    rho_t = torch.as_tensor(rho, **f64)
    B, n = rho_t.shape
    record = sorted(set(range(0, steps + 1, every)) | {steps})
    R = len(record)
    dens = torch.empty((R, B, n), **f64)
    cum_rec = torch.empty((R, B, n + 1), **f64)
    queue_rec = torch.empty((R, B), **f64)
    cum = torch.zeros((B, n + 1), **f64)
    queue = torch.zeros(B, **f64)
    total = torch.zeros(B, **f64)
    closed = np.zeros((steps, n + 1), dtype=bool)
    for j, start, end in reds:
        k = np.arange(steps) * dt
        closed[(k >= start) & (k < end), j] = True
    closed_t = torch.as_tensor(closed, device=dev)
    any_closed = closed.any(axis=1)
    inflow_t = torch.as_tensor(demand_in, **f64)
    ratio = dt / dx
    r = 0
    for step in range(steps + 1):
        if step == record[r]:
            dens[r], cum_rec[r], queue_rec[r] = rho_t, cum, queue
            r += 1
        if step == steps:
            break
        total += (rho_t.sum(dim=1) * dx + queue) * dt
        u = torch.minimum(rho_t / lanes_t, jam).clamp_(min=0.0)
        idx = (torch.searchsorted(nodes, u, right=True) - 1).clamp_(0, m - 2)
        x0, x1 = nodes.gather(1, idx), nodes.gather(1, idx + 1)
        frac = (u - x0) / (x1 - x0)
        d0, s0 = dem.gather(1, idx), sup.gather(1, idx)
        demand = lanes_t * (d0 + frac * (dem.gather(1, idx + 1) - d0))
        supply = lanes_t * (s0 + frac * (sup.gather(1, idx + 1) - s0))
        f = torch.empty((B, n + 1), **f64)
        f[:, 1:n] = torch.minimum(demand[:, :-1], supply[:, 1:])
        f[:, 0] = torch.minimum(inflow_t[step] + queue / dt, supply[:, 0])
        f[:, n] = demand[:, -1].clamp(max=exit_supply)
        if any_closed[step]:
            f[:, closed_t[step]] = 0.0
        queue = queue + (inflow_t[step] - f[:, 0]) * dt
        rho_t = rho_t + ratio * (f[:, :-1] - f[:, 1:])
        cum = cum + f * dt
    out = {
        "density": dens.permute(1, 0, 2).cpu().numpy(),
        "cumulative": cum_rec.permute(1, 0, 2).cpu().numpy(),
        "entry_queue": queue_rec.T.cpu().numpy(),
        "total_time": total.cpu().numpy(),
    }
    if not batched:
        out = {k: v[0] for k, v in out.items()}
    time = np.asarray(record, dtype=float) * dt
    edges = np.arange(n + 1) * dx
    return CTMResult(
        time,
        edges,
        out["density"],
        out["cumulative"],
        out["entry_queue"],
        dx,
        dt,
        out["total_time"],
    )
