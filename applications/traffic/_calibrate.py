"""Calibration with uncertainty: block-bootstrap intervals, and many detectors at once.

Detector samples are serially correlated (a queue lasts many intervals),
so resampling single observations would understate the uncertainty; the
moving-block bootstrap (Kuensch 1989) resamples whole blocks of
consecutive intervals instead. Many detectors are fitted at once by
:func:`pwlmodels.fit_many`, one free-knot two-segment fit per detector,
serially or on a Dask cluster.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pwlmodels import fit_many
from pwlmodels._validate import plain

from .._checks import check_count
from ._detectors import detector_sample, detectors_to_density
from ._models import TriangularFD, as_array, densities, fit_triangular, positive, table_row

__all__: list[str] = []

PARAMETERS = ("vf", "w", "rho_jam", "capacity")


def _params(fd: TriangularFD) -> list[float]:
    return [fd.vf, fd.w, fd.rho_jam, fd.capacity]


def bootstrap_triangular(
    density: object,
    flow: object,
    time_s: object,
    *,
    block_s: float = 1800.0,
    n_boot: int = 200,
    level: float = 0.95,
    robust: bool = True,
    seed: int = 0,
) -> pd.DataFrame:
    """Moving-block bootstrap confidence intervals of the triangular diagram's parameters.

    The observations, ordered by ``time_s``, are cut into blocks of
    ``block_s`` seconds; each replicate draws as many blocks, with
    replacement, fits :func:`fit_triangular` to their union and keeps vf,
    w, rho_jam and capacity. The intervals are the replicates' percentiles
    (``(1 - level) / 2`` and ``(1 + level) / 2``). A replicate whose blocks
    hold no congested observation cannot identify w and rho_jam: it is
    counted in ``n_failed`` and left out (so the intervals are conditional
    on identification; many failures mean too few congested blocks).

    Parameters
    ----------
    density, flow : array_like, shape (n,)
        Per-lane observations, veh/km and veh/h.
    time_s : array_like, shape (n,)
        Each observation's time, s (several detectors may share a time).
    block_s : float, default 1800.0
        Block length, s: longer than a queue's typical life.
    n_boot : int, default 200
        Bootstrap replicates, at least 2.
    level : float, default 0.95
    robust : bool, default True
        Passed to :func:`fit_triangular`.
    seed : int, default 0
        Seed of the block draws, a non-negative integer.

    Returns
    -------
    pandas.DataFrame
        Indexed by parameter (vf, w, rho_jam: km/h, km/h, veh/km;
        capacity: veh/h), with ``estimate`` (the fit to all data),
        ``lower``, ``upper``, ``std`` (of the replicates), ``n_boot`` and
        ``n_failed``.

    Examples
    --------
    >>> from applications.traffic import (bootstrap_triangular, detector_sample,
    ...                                   detectors_to_density)
    >>> d = detectors_to_density(detector_sample(n_detectors=1, seed=1)).data
    >>> ci = bootstrap_triangular(d["density_veh_km"], d["flow_veh_h"], d["time_s"], n_boot=20)
    >>> bool((ci["lower"] <= ci["estimate"]).all() and (ci["estimate"] <= ci["upper"]).all())
    True
    """
    rho = densities(density)
    q = as_array(flow, "flow")
    t = as_array(time_s, "time_s")
    if not (rho.shape == q.shape == t.shape and rho.ndim == 1):
        raise ValueError(
            f"`density`, `flow` and `time_s` must be 1-D of one length; got {rho.shape}, "
            f"{q.shape} and {t.shape}"
        )
    if not np.isfinite(t).all():
        raise ValueError("`time_s` must be finite")
    block = positive(block_s, "block_s", "s")
    n_boot = check_count(n_boot, "n_boot", 2)
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise ValueError(f"`level` must be a number in (0, 1); got {level!r}")
    seed = check_count(seed, "seed", 0)
    estimate = _params(fit_triangular(rho, q, robust=robust))
    ids = np.floor((t - t.min()) / block).astype(np.int64)
    blocks = [np.flatnonzero(ids == b) for b in np.unique(ids)]
    if len(blocks) < 2:  # every replicate would be the data itself: an interval of width 0
        raise ValueError(
            f"`block_s` must cut the data into at least 2 blocks; got block_s = {plain(block)!r} "
            f"s over a span of {plain(float(t.max() - t.min()))!r} s (1 block)"
        )
    rng = np.random.default_rng(seed)
    reps, failed = [], 0
    for _ in range(n_boot):
        pick = np.concatenate([blocks[i] for i in rng.integers(0, len(blocks), len(blocks))])
        try:
            reps.append(_params(fit_triangular(rho[pick], q[pick], robust=robust)))
        except ValueError:
            failed += 1
    if len(reps) < 2:
        raise ValueError(
            f"only {len(reps)} of {n_boot} bootstrap replicates identified w and rho_jam: "
            "too few blocks with congested observations; use shorter `block_s` or more data"
        )
    arr = np.asarray(reps)
    lo, hi = np.quantile(arr, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return pd.DataFrame(
        {
            "estimate": estimate,
            "lower": np.minimum(lo, estimate),
            "upper": np.maximum(hi, estimate),
            "std": arr.std(axis=0, ddof=1),
            "n_boot": n_boot,
            "n_failed": failed,
        },
        index=pd.Index(PARAMETERS, name="parameter"),
    )


def fit_detectors(data: pd.DataFrame, *, by: str = "detector", client: object = None):
    """One two-segment free-knot fit per detector, through :func:`pwlmodels.fit_many`.

    Each detector's (density, flow) points get :func:`pwlmodels.fit_pwl`
    with one free knot (the critical density): its first segment's slope is
    vf, the value at the knot the capacity, minus the second slope w, and
    rho_jam = knot + capacity / w (the congested line's zero, extrapolated
    when no jam was observed). A detector whose fit fails gets a row of NaN
    with the reason in ``notes``.

    Parameters
    ----------
    data : pandas.DataFrame
        Columns ``density_veh_km``, ``flow_veh_h`` and ``by``.
    by : str, default "detector"
    client : None, "local" or dask.distributed.Client
        As in :func:`pwlmodels.fit_many`.

    Returns
    -------
    pandas.DataFrame
        Indexed by detector: ``vf``, ``w``, ``rho_jam``, ``capacity``,
        ``critical_density``, ``n`` and ``notes``.

    Examples
    --------
    >>> from applications.traffic import detector_sample, detectors_to_density, fit_detectors
    >>> d = detectors_to_density(detector_sample(n_detectors=3)).data
    >>> fits = fit_detectors(d)
    >>> fits.index.tolist(), bool((fits["w"] > 0).all())
    (['D01', 'D02', 'D03'], True)
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"`data` must be a pandas DataFrame; got {type(data).__name__}")
    fits = fit_many(
        data, x="density_veh_km", y="flow_veh_h", by=by, n_knots=1, client=client, errors="coerce"
    )
    rows = {}
    for key, f in fits.iterrows():
        if f["spline"] is None:
            rows[key] = dict.fromkeys((*PARAMETERS, "critical_density"), np.nan)
            continue
        knot, (v0, vk, v1) = float(f["knots"][0]), f["values"]
        vf = (vk - v0) / (knot - f["x_min"])
        w = -(v1 - vk) / (f["x_max"] - knot)
        jam = knot + vk / w if w > 0 else np.nan
        rows[key] = {"vf": vf, "w": w, "rho_jam": jam, "capacity": vk, "critical_density": knot}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = fits.index.name
    return out.assign(n=fits["n"], notes=fits["notes"])


@dataclass(frozen=True)
class Calibration:
    """The study's detector-archive part: filters, per-detector fits, bootstrap intervals.

    Attributes
    ----------
    dropped : dict of str to int
        Raw rows dropped per filter reason.
    n_raw, n_kept : int
        Raw rows, and detector-intervals kept after lane aggregation.
    fits : pandas.DataFrame
        Per detector: ``fit_many``'s ``vf``, ``w``, ``rho_jam``,
        ``capacity``, ``critical_density`` and the truth's (``*_true``).
    intervals : pandas.DataFrame
        Per detector and parameter: the robust fit's ``estimate``,
        ``lower``, ``upper`` (moving-block bootstrap), ``truth`` and
        ``covered``.
    n_boot, block_s : int, float
    seconds : float
    """

    dropped: dict[str, int]
    n_raw: int
    n_kept: int
    fits: pd.DataFrame
    intervals: pd.DataFrame
    n_boot: int
    block_s: float
    seconds: float


def calibration(n_detectors: int, n_boot: int, seed: int, block_s: float = 1800.0) -> Calibration:
    """Run the detector-archive calibration on :func:`detector_sample` (whose truth is known)."""
    start = time.perf_counter()
    raw = detector_sample(n_detectors, seed=seed)
    conv = detectors_to_density(raw)
    truth = raw.groupby("detector")[["vf", "w", "rho_jam"]].first()
    truth["capacity"] = truth["vf"] * truth["w"] * truth["rho_jam"] / (truth["vf"] + truth["w"])
    fits = fit_detectors(conv.data)[[*PARAMETERS, "critical_density"]]
    fits = fits.join(truth.add_suffix("_true"))
    parts = []
    for det, d in conv.data.groupby("detector"):
        ci = bootstrap_triangular(
            d["density_veh_km"],
            d["flow_veh_h"],
            d["time_s"],
            block_s=block_s,
            n_boot=n_boot,
            seed=seed,
        )
        ci["truth"] = truth.loc[det, list(PARAMETERS)].to_numpy()
        ci["covered"] = (ci["lower"] <= ci["truth"]) & (ci["truth"] <= ci["upper"])
        parts.append(ci.reset_index().assign(detector=det))
    intervals = pd.concat(parts, ignore_index=True).set_index(["detector", "parameter"])
    return Calibration(
        conv.summary().to_dict(),
        len(raw),
        len(conv.data),
        fits,
        intervals,
        n_boot,
        block_s,
        time.perf_counter() - start,
    )


def calibration_rows(cal: Calibration, seed: int) -> list[dict]:
    """The calibration's numbers as rows of the study's tidy table."""
    rows = [
        table_row("calibration", "detectors", "filters", seed, f"dropped_{k}", v, "rows")
        for k, v in cal.dropped.items()
    ]
    rows += [table_row("calibration", "detectors", "filters", seed, "kept", cal.n_kept, "1")]
    units = {"vf": "km/h", "w": "km/h", "rho_jam": "veh/km", "capacity": "veh/h"}
    for det, f in cal.fits.iterrows():
        rows += [table_row("calibration", det, "fit_many", seed, p, f[p], units[p]) for p in units]
    for (det, p), r in cal.intervals.iterrows():
        note = f"moving-block bootstrap, {cal.n_boot} replicates, blocks of {cal.block_s:g} s"
        for q in ("estimate", "lower", "upper"):
            rows.append(
                table_row(
                    "calibration", det, "triangle_robust", seed, f"{p}_{q}", r[q], units[p], note
                )
            )
    return rows
