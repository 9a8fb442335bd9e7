"""Loop-detector data: counts and occupancies per lane to per-lane density and flow.

A detector archive (PeMS, MIDAS, NDW...) gives, per detector, lane and
interval, a vehicle count and an occupancy (the fraction of the interval
the loop was occupied). Density follows from occupancy through an
effective vehicle length (vehicle plus loop: ``rho = occupancy /
L_eff``), the classical single-loop estimate; flow is the count per hour.
Before aggregation over lanes, samples that no traffic can produce are
dropped, each with its reason (the sample-level tests of Chen et al.
2003, and a stuck-detector test). :func:`detector_sample` generates a
small synthetic archive in this format, with faults planted, so the
path from raw counts to a fitted diagram runs with no download.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pwlmodels._validate import plain

from .._checks import check_count
from ._models import TriangularFD, positive

__all__: list[str] = []

#: The raw format: one row per detector, lane and interval.
DETECTOR_COLUMNS = ("detector", "time_s", "lane", "interval_s", "count", "occupancy")
_REASONS = ("missing", "out of range", "count without occupancy", "stuck")


@dataclass(frozen=True)
class DetectorData:
    """Per-lane densities and flows from raw detector samples, and what was dropped.

    Attributes
    ----------
    data : pandas.DataFrame
        One row per detector and interval whose lanes all passed the
        filters: ``detector``, ``time_s``, ``lanes``, ``density_veh_km``
        and ``flow_veh_h`` (both per lane: lane means), ``kind`` "detector".
    dropped : pandas.DataFrame
        The raw rows that failed a filter, with a ``reason`` column (the
        first failed, in the order "missing", "out of range", "count
        without occupancy", "stuck").
    """

    data: pd.DataFrame
    dropped: pd.DataFrame

    def summary(self) -> pd.Series:
        """Raw rows dropped per reason (every reason listed, zeros included)."""
        counts = self.dropped["reason"].value_counts()
        return pd.Series({r: int(counts.get(r, 0)) for r in _REASONS}, name="rows dropped")


def _flags(raw: pd.DataFrame, max_flow: float, stuck: int) -> pd.Series:
    """The first filter each raw row fails ("" when it passes)."""
    count = pd.to_numeric(raw["count"], errors="coerce").to_numpy(float)
    occ = pd.to_numeric(raw["occupancy"], errors="coerce").to_numpy(float)
    interval = pd.to_numeric(raw["interval_s"], errors="coerce").to_numpy(float)
    reason = np.full(len(raw), "", dtype=object)
    missing = ~(np.isfinite(count) & np.isfinite(occ) & np.isfinite(interval))
    with np.errstate(invalid="ignore", divide="ignore"):
        flow = count * 3600.0 / interval
        bad = (occ < 0) | (occ > 1) | (count < 0) | (interval <= 0) | (flow > max_flow)
    ghost = (occ == 0) & (count > 0)
    # stuck: the same (count, occupancy) for `stuck` intervals in a row, with traffic
    key = raw[["detector", "lane"]].astype(str).agg("|".join, axis=1)
    same = (raw["count"].eq(raw["count"].shift())) & (raw["occupancy"].eq(raw["occupancy"].shift()))
    same &= key.eq(key.shift()) & (occ > 0)
    run_id = (~same).cumsum()
    run_len = same.groupby(run_id).transform("size").to_numpy()
    stuck_rows = run_len >= stuck
    for mask, name in zip((missing, bad, ghost, stuck_rows), _REASONS, strict=True):
        reason[(reason == "") & mask] = name
    return pd.Series(reason, index=raw.index)


def detectors_to_density(
    raw: pd.DataFrame,
    *,
    effective_length_m: float = 6.5,
    max_flow_veh_h: float = 3000.0,
    stuck_intervals: int = 12,
) -> DetectorData:
    """Per-lane density and flow from raw counts and occupancies, bad samples dropped.

    Per lane: flow = count x 3600 / interval_s (veh/h) and density =
    occupancy x 1000 / ``effective_length_m`` (veh/km): a vehicle occupies
    the loop over its own length plus the loop's, so occupancy is density
    times that effective length (a single-loop estimate; it assumes one
    length for all vehicles, so a truck share shifts densities). Then the
    lanes of each detector and interval are averaged: the per-lane values
    a fundamental diagram is fitted to. A detector and interval is kept
    only when every lane reported and passed these filters:

    - missing: count, occupancy or interval not a finite number;
    - out of range: occupancy outside [0, 1], a negative count or
      interval, or a flow above ``max_flow_veh_h`` per lane;
    - count without occupancy: vehicles counted at zero occupancy;
    - stuck: the same count and occupancy, with occupancy above 0, for
      ``stuck_intervals`` intervals or more in a row on one lane.

    Parameters
    ----------
    raw : pandas.DataFrame
        The columns ``detector``, ``time_s`` (interval start, s), ``lane``,
        ``interval_s`` (s), ``count`` (vehicles) and ``occupancy`` (a
        fraction; divide percentages by 100).
    effective_length_m : float, default 6.5
        Mean vehicle length plus loop length, m (cars 4.5-5 m, loops 1.8-2 m).
    max_flow_veh_h : float, default 3000.0
        The highest plausible flow per lane, veh/h.
    stuck_intervals : int, default 12
        Repeats that mark a lane as stuck (one hour of 5-minute data).

    Returns
    -------
    DetectorData

    Examples
    --------
    >>> from applications.traffic import detector_sample, detectors_to_density
    >>> out = detectors_to_density(detector_sample(n_detectors=2, hours=2))
    >>> list(out.data.columns)
    ['detector', 'time_s', 'lanes', 'density_veh_km', 'flow_veh_h', 'kind']
    >>> out.summary().to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'missing': 2, 'out of range': 1, 'count without occupancy': 1, 'stuck': 0}
    """
    if not isinstance(raw, pd.DataFrame):
        raise TypeError(f"`raw` must be a pandas DataFrame; got {type(raw).__name__}")
    missing = [c for c in DETECTOR_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(
            f"`raw` must have the columns {list(DETECTOR_COLUMNS)}; it lacks {missing}"
        )
    length = positive(effective_length_m, "effective_length_m", "m")
    max_flow = positive(max_flow_veh_h, "max_flow_veh_h", "veh/h")
    stuck_intervals = check_count(stuck_intervals, "stuck_intervals", 2)
    for col in ("detector", "time_s", "lane"):  # the keys: a missing one cannot be grouped
        if raw[col].isna().any():
            i = int(np.argmax(raw[col].isna().to_numpy()))
            raise ValueError(f"`raw['{col}']` must have no missing values; got one in row {i}")
    occ = pd.to_numeric(raw["occupancy"], errors="coerce").to_numpy(float)
    occ = occ[np.isfinite(occ)]
    if occ.size and np.median(occ) > 1:  # percent: the night's rows (<= 1 %) would pass x 100
        raise ValueError(
            "`raw['occupancy']` must be a fraction in [0, 1]; got a median of "
            f"{plain(float(np.median(occ)))!r} (percent? divide by 100)"
        )
    dup = raw.duplicated(["detector", "time_s", "lane"], keep=False)
    if dup.any():  # a repeated lane would be averaged twice, or the interval silently lost
        first = raw[dup].iloc[0]
        raise ValueError(
            "`raw` must have one row per (detector, time_s, lane); got "
            f"{int(dup.sum())} rows sharing a key, e.g. ({first['detector']!r}, "
            f"{first['time_s']!r}, {first['lane']!r})"
        )
    raw = raw.sort_values(["detector", "lane", "time_s"], kind="stable").reset_index(drop=True)
    reason = _flags(raw, max_flow, int(stuck_intervals))
    dropped = raw[reason != ""].assign(reason=reason[reason != ""])
    good = raw[reason == ""]
    per_lane = pd.DataFrame(
        {
            "detector": good["detector"],
            "time_s": good["time_s"],
            "density_veh_km": good["occupancy"].astype(float) * 1000.0 / length,
            "flow_veh_h": good["count"].astype(float) * 3600.0 / good["interval_s"].astype(float),
        }
    )
    lanes_all = raw.groupby(["detector", "time_s"])["lane"].nunique().rename("lanes_all")
    agg = per_lane.groupby(["detector", "time_s"]).agg(
        lanes=("density_veh_km", "size"),
        density_veh_km=("density_veh_km", "mean"),
        flow_veh_h=("flow_veh_h", "mean"),
    )
    agg = agg.join(lanes_all)
    agg = agg[agg["lanes"] == agg["lanes_all"]].drop(columns="lanes_all").reset_index()
    return DetectorData(agg.assign(kind="detector"), dropped.reset_index(drop=True))


def detector_sample(
    n_detectors: int = 8, *, hours: float = 24.0, interval_s: float = 300.0, seed: int = 0
) -> pd.DataFrame:
    """A small synthetic detector archive in the raw format, with faults planted.

    Detectors along a three-lane motorway, each with its own triangular
    diagram (vf 90-110 km/h, w 16-24 km/h, jam density 110-140 veh/km per
    lane, drawn once): a quiet night, a morning and an evening peak whose
    density reaches 2-4 times the critical density (a congested branch to
    fit), flows with 5 % noise, counts rounded to vehicles and
    occupancies to 0.1 % as controllers report them. Planted faults, so
    that every filter of :func:`detectors_to_density` has work: two
    missing samples, one occupancy above 100 %, one count at zero
    occupancy, and lane 3 of detector D03 (when there is one, and the
    archive reaches 10:00) stuck for two hours from 10:00.

    Parameters
    ----------
    n_detectors : int, default 8
        Number of detectors, at least 1.
    hours : float, default 24.0
        Length of the archive, from midnight.
    interval_s : float, default 300.0
        Aggregation interval, s.
    seed : int, default 0
        Seed of the synthetic archive, a non-negative integer.

    Returns
    -------
    pandas.DataFrame
        The columns of ``DETECTOR_COLUMNS`` plus the true ``vf``, ``w`` and
        ``rho_jam`` of each row's detector (a synthetic archive knows them).

    Examples
    --------
    >>> from applications.traffic import detector_sample
    >>> raw = detector_sample(n_detectors=3, hours=1)
    >>> raw.shape, sorted(raw["lane"].unique().tolist())
    ((108, 9), [1, 2, 3])
    """
    n_detectors = check_count(n_detectors, "n_detectors", 1)
    seed = check_count(seed, "seed", 0)
    hours = positive(hours, "hours", "h")
    interval = positive(interval_s, "interval_s", "s")
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, hours * 3600.0, interval)
    if t.size == 0:
        raise ValueError(f"`hours` must cover at least one interval; got {hours} h")
    lanes = np.array([1, 2, 3])
    length = 6.5
    frames = []
    for d in range(n_detectors):
        fd = TriangularFD(rng.uniform(90, 110), rng.uniform(16, 24), rng.uniform(110, 140))
        crit = fd.critical_density
        h = t / 3600.0
        peak = rng.uniform(2.0, 4.0)  # peak density in units of the critical density
        shape = np.exp(-(((h - 8.0) / 1.2) ** 2)) + 0.8 * np.exp(-(((h - 17.5) / 1.5) ** 2))
        base = 0.15 + 0.55 * (1 - np.cos(2 * np.pi * (h - 3.0) / 24.0)) / 2
        rho = crit * (base + (peak - base.min()) * shape)
        for lane in lanes:
            r = np.clip(
                rho * rng.uniform(0.9, 1.1) * (1 + 0.03 * rng.standard_normal(t.size)), 0, None
            )
            q = np.clip(fd(r) * (1 + 0.05 * rng.standard_normal(t.size)), 0, None)
            frames.append(
                pd.DataFrame(
                    {
                        "detector": f"D{d + 1:02d}",
                        "time_s": t,
                        "lane": lane,
                        "interval_s": interval,
                        "count": np.round(q * interval / 3600.0),
                        "occupancy": np.round(np.minimum(r * length / 1000.0, 1.0), 3),
                        "vf": fd.vf,
                        "w": fd.w,
                        "rho_jam": fd.rho_jam,
                    }
                )
            )
    raw = pd.concat(frames, ignore_index=True)
    first = raw.index[raw["detector"] == "D01"]
    raw.loc[first[0], "count"] = np.nan
    raw.loc[first[1], "occupancy"] = np.nan
    raw.loc[first[2], "occupancy"] = 1.7
    raw.loc[first[3], ["count", "occupancy"]] = [12.0, 0.0]
    rows = raw.index[
        (raw["detector"] == "D03") & (raw["lane"] == 3) & raw["time_s"].between(36000, 43199)
    ]
    if rows.size:
        raw.loc[rows, ["count", "occupancy"]] = raw.loc[rows[0], ["count", "occupancy"]].to_numpy()
    return raw
