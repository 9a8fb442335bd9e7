"""Traffic data: seeded synthetic detector data, a UXsim bottleneck scenario, a user's CSV.

Every loader returns a pandas DataFrame with ``density_veh_km`` and
``flow_veh_h`` (per lane) and a ``kind`` column saying where a point comes
from. UXsim (Seo; the optional ``traffic`` extra) is probed once and
imported lazily.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import numbers
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from pwlmodels._validate import plain

from .._checks import check_count
from ._models import TriangularFD, as_array, densities

__all__ = [
    "UXSIM_AVAILABLE",
    "observed_ranges",
    "read_detector_csv",
    "synthetic_data",
    "uxsim_data",
]

#: Whether the optional simulator UXsim can be imported here (probed once).
UXSIM_AVAILABLE = importlib.util.find_spec("uxsim") is not None

COLUMNS = ("density_veh_km", "flow_veh_h")


def _fraction(value: object, name: str, *, upper: float = 1.0) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number; got {type(value).__name__}")
    v = float(value)
    if not 0.0 <= v < upper:
        raise ValueError(f"`{name}` must lie in [0, {upper:g}); got {plain(v)!r}")
    return v


def _truth(truth: object) -> TriangularFD:
    if not isinstance(truth, TriangularFD):
        raise TypeError(f"`truth` must be a TriangularFD; got {type(truth).__name__}")
    return truth


def synthetic_data(
    n: int = 2000,
    *,
    truth: TriangularFD | None = None,
    congested: float = 0.3,
    noise: float = 0.05,
    transitions: float = 0.05,
    seed: int = 0,
) -> pd.DataFrame:
    """Seeded synthetic detector data around a triangular diagram.

    A fraction ``transitions`` of the ``n`` points are "transition" cells:
    a random mix ``lam (rho_a, q_a) + (1 - lam) (rho_b, q_b)`` of two random
    states on the diagram, which is what Edie's (1963) density and flow
    report for a cell that a shock crosses (a point on a chord, below the
    concave diagram). Of the others, a fraction ``congested`` has density
    uniform on [rho_c, rho_jam] (congested branch) and the rest uniform on
    [0, rho_c] (free flow); real detector data are as imbalanced (Qu, Wang
    and Zhang 2015). Every flow is then multiplied by ``1 + noise * N(0, 1)``.

    Parameters
    ----------
    n : int, default 2000
        Number of points, >= 10.
    truth : TriangularFD, optional
        Default ``TriangularFD()`` (100 km/h, 20 km/h, 120 veh/km).
    congested : float, default 0.3
        In [0, 1).
    noise : float, default 0.05
        Relative standard deviation of the multiplicative flow noise, in [0, 1).
    transitions : float, default 0.05
        In [0, 1).
    seed : int, default 0
        Seeds a local ``numpy.random.Generator``.

    Returns
    -------
    pandas.DataFrame
        ``density_veh_km``, ``flow_veh_h`` and ``kind`` ("free", "congested"
        or "transition"), in random order.

    Examples
    --------
    >>> from applications.traffic import synthetic_data
    >>> df = synthetic_data(1000, seed=3)
    >>> df["kind"].value_counts().to_dict()
    {'free': 665, 'congested': 285, 'transition': 50}
    >>> bool(df.equals(synthetic_data(1000, seed=3)))
    True
    """
    n = check_count(n, "n", 10)
    fd = _truth(TriangularFD() if truth is None else truth)
    congested = _fraction(congested, "congested")
    noise = _fraction(noise, "noise")
    transitions = _fraction(transitions, "transitions")
    rng = np.random.default_rng(check_count(seed, "seed", 0))
    n_t = round(transitions * n)
    n_c = round(congested * (n - n_t))
    n_f = n - n_t - n_c
    rho_c, rho_j = fd.critical_density, fd.rho_jam
    free = rng.uniform(0.0, rho_c, n_f)
    cong = rng.uniform(rho_c, rho_j, n_c)
    ends = rng.uniform(0.0, rho_j, (2, n_t))
    lam = rng.uniform(0.0, 1.0, n_t)
    trans_rho = lam * ends[0] + (1 - lam) * ends[1]
    trans_q = lam * fd(ends[0]) + (1 - lam) * fd(ends[1])
    rho = np.concatenate([free, cong, trans_rho])
    q = np.concatenate([fd(free), fd(cong), trans_q]) * (1 + noise * rng.standard_normal(n))
    kind = np.repeat(["free", "congested", "transition"], [n_f, n_c, n_t])
    order = rng.permutation(n)
    return pd.DataFrame({"density_veh_km": rho[order], "flow_veh_h": q[order], "kind": kind[order]})


def uxsim_data(truth: TriangularFD | None = None, *, seed: int = 0) -> pd.DataFrame:
    """Edie's (density, flow) cells from a small headless UXsim bottleneck scenario.

    One lane, three links in a row: 2 km, then 1 km whose exit is a
    bottleneck (``capacity_out`` 1500 veh/h, an incident drops it to 800
    veh/h from 20 to 35 min, then it is lifted), then 1 km into the
    destination, where no queue forms. Demand: 1200 veh/h for 10 min, a
    peak of 1900 veh/h (above the bottleneck, near capacity) until 30 min,
    then 1000 veh/h until 40 min; one simulated hour. The queue spills back
    onto the first link, so both branches and the capacity state (the
    discharge after the incident) are observed. Every link has the
    triangular diagram ``truth`` (UXsim: Newell's simplified car-following
    model, ``w = 1 / (reaction time x jam density)``), platoons of 5
    vehicles (7.5 s steps with the default truth), Edie cells of 60 s by
    the link's default length; UXsim's veh/s and veh/m are converted to
    veh/h and veh/km. Its printing is silenced, and matplotlib's rcParams
    are restored afterwards (UXsim sets a monospace ``font.family``
    globally when it analyses a run).

    Parameters
    ----------
    truth : TriangularFD, optional
        Default ``TriangularFD()``.
    seed : int, default 0
        UXsim's ``random_seed``.

    Returns
    -------
    pandas.DataFrame
        ``density_veh_km``, ``flow_veh_h``, ``kind`` ("uxsim"), ``link``,
        ``t_s`` and ``x_m`` (the cell's start).

    Raises
    ------
    ImportError
        When UXsim is not installed (``pip install pwlmodels[traffic]``).

    Examples
    --------
    >>> from applications.traffic import UXSIM_AVAILABLE, uxsim_data
    >>> df = uxsim_data() if UXSIM_AVAILABLE else None
    >>> bool(df is None or df["density_veh_km"].max() > 60)
    True
    """
    fd = _truth(TriangularFD() if truth is None else truth)
    seed = check_count(seed, "seed", 0)
    if not UXSIM_AVAILABLE:
        raise ImportError("uxsim_data needs UXsim: `pip install pwlmodels[traffic]` (uxsim)")
    import matplotlib  # UXsim depends on it

    u, kappa = fd.vf / 3.6, fd.rho_jam / 1000.0  # m/s, veh/m
    tau = 1.0 / (fd.w / 3.6 * kappa)  # UXsim: w = 1 / (tau kappa)
    with (
        matplotlib.rc_context(),  # UXsim's World sets rcParams["font.family"]: undone on exit
        contextlib.redirect_stdout(io.StringIO()),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        import uxsim

        world = uxsim.World(
            name="",
            deltan=5,
            reaction_time=tau,
            tmax=3600,
            print_mode=0,
            save_mode=0,
            show_mode=0,
            random_seed=seed,
            eular_dt=60,
        )
        for name, x in (("orig", 0), ("a", 2000), ("b", 3000), ("dest", 4000)):
            world.addNode(name, x, 0)
        kw = {"free_flow_speed": u, "jam_density": kappa}
        world.addLink("up", "orig", "a", length=2000, **kw)
        neck = world.addLink("mid", "a", "b", length=1000, capacity_out=1500 / 3600, **kw)
        world.addLink("down", "b", "dest", length=1000, **kw)

        def incident(w) -> None:
            if w.TIME == 1200:
                neck.capacity_out = 800 / 3600
            elif w.TIME == 2100:
                neck.capacity_out = 1e9  # lifted: the queue discharges at capacity

        world.user_function = incident
        for start, end, flow in ((0, 600, 1200), (600, 1800, 1900), (1800, 2400, 1000)):
            world.adddemand("orig", "dest", start, end, flow / 3600)
        world.exec_simulation()
        cells = world.analyzer.link_traffic_state_to_pandas()
    return pd.DataFrame(
        {
            "density_veh_km": cells["k"].to_numpy() * 1000.0,
            "flow_veh_h": cells["q"].to_numpy() * 3600.0,
            "kind": "uxsim",
            "link": cells["link"].to_numpy(),
            "t_s": cells["t"].to_numpy(),
            "x_m": cells["x"].to_numpy(),
        }
    )


def read_detector_csv(path: str | Path) -> pd.DataFrame:
    """A user's detector data: per-lane (density, flow) pairs, or raw counts and occupancies.

    Two formats are read. Per-lane pairs: columns ``density_veh_km`` and
    ``flow_veh_h`` (convert first if your data are in veh/mi (x 0.6214),
    veh/s (x 3600) or per carriageway (divide by the lanes)). Raw detector
    samples: the columns of ``DETECTOR_COLUMNS`` (``detector``, ``time_s``,
    ``lane``, ``interval_s``, ``count``, ``occupancy``), as
    :func:`detector_sample` writes them; they go through
    :func:`detectors_to_density` with its defaults (bad samples dropped,
    lanes averaged). Raw samples take precedence when a file has both.

    Parameters
    ----------
    path : str or pathlib.Path

    Returns
    -------
    pandas.DataFrame
        ``density_veh_km`` and ``flow_veh_h`` as float64, and ``kind`` = "user".

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from applications.traffic import detector_sample, read_detector_csv
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = pathlib.Path(tmp) / "d.csv"
    ...     _ = p.write_text("density_veh_km,flow_veh_h\\n10,1000\\n60,1200\\n")
    ...     pairs = read_detector_csv(p)["flow_veh_h"].tolist()
    ...     detector_sample(n_detectors=2).to_csv(p, index=False)
    ...     raw = read_detector_csv(p)
    >>> pairs, len(raw), list(raw.columns)
    ([1000.0, 1200.0], 572, ['density_veh_km', 'flow_veh_h', 'kind'])
    """
    from ._detectors import DETECTOR_COLUMNS, detectors_to_density

    if not isinstance(path, (str, Path)):
        raise TypeError(f"`path` must be a str or pathlib.Path; got {type(path).__name__}")
    frame = pd.read_csv(path)
    if all(c in frame.columns for c in DETECTOR_COLUMNS):
        frame = detectors_to_density(frame).data
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"`path` must be a CSV with columns {list(COLUMNS)} or {list(DETECTOR_COLUMNS)}; "
            f"{path} lacks {missing} (has {list(frame.columns)})"
        )
    rho = densities(frame["density_veh_km"].to_numpy(), "density_veh_km")
    q = as_array(frame["flow_veh_h"].to_numpy(), "flow_veh_h")
    if not np.isfinite(q).all():
        i = int(np.argmax(~np.isfinite(q)))
        raise ValueError(f"`flow_veh_h` must be finite; got flow_veh_h[{i}] = {q[i]}")
    return pd.DataFrame({"density_veh_km": rho, "flow_veh_h": q, "kind": "user"})


def observed_ranges(data: pd.DataFrame, truth: TriangularFD) -> dict[str, object]:
    """What the data cover relative to the truth, and whether the kink was observed.

    Returns
    -------
    dict
        ``max_density_over_jam``, ``max_flow_over_capacity``,
        ``nearest_to_critical`` (min |rho - rho_c| / rho_c) and
        ``kink_observed`` (some observation within 10 % of rho_c); the kink
        metrics of fits to data without it are flagged "extrapolated".

    Examples
    --------
    >>> from applications.traffic import TriangularFD, observed_ranges, synthetic_data
    >>> r = observed_ranges(synthetic_data(500), TriangularFD())
    >>> r["kink_observed"], round(r["max_density_over_jam"], 2)
    (True, 1.0)
    """
    rho = data["density_veh_km"].to_numpy()
    q = data["flow_veh_h"].to_numpy()
    near = float(np.min(np.abs(rho - truth.critical_density)) / truth.critical_density)
    return {
        "max_density_over_jam": float(rho.max() / truth.rho_jam),
        "max_flow_over_capacity": float(q.max() / truth.capacity),
        "nearest_to_critical": near,
        "kink_observed": bool(near <= 0.1),
    }
