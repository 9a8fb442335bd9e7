"""The freeway corridor's part of the traffic report: compute once, then render.

:func:`freeway_study` runs the corridor without and with ALINEA in the CTM
(and in UXsim when it is installed) and keeps the numbers;
:func:`freeway_section` only formats them (Markdown, with the figure's file
name); the traffic study runs it in ``compute`` and draws
``freeway_figure(study.runs, folder / "freeway.png")``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..report import markdown_table
from ._corridor import corridor_scenario
from ._data import UXSIM_AVAILABLE
from ._freeway import FreewayResult
from ._freeway_uxsim import corridor_uxsim

__all__ = ["FreewayStudy", "freeway_rows", "freeway_section", "freeway_study"]

_NAMES = {False: "no metering", True: "ALINEA on ramp 2"}


@dataclass(frozen=True)
class FreewayStudy:
    """The corridor's numbers: ``runs`` (title -> FreewayResult) and a tidy ``table``.

    ``table`` has one row per model and scenario: ``model`` ("CTM" or "UXsim"),
    ``scenario``, ``total_travel_time_veh_h``, ``max_mainline_queue_km``,
    ``max_ramp2_queue_veh``; ``uxsim_note`` says why UXsim rows are missing ("" if not).
    """

    runs: dict[str, FreewayResult]
    table: pd.DataFrame
    uxsim_note: str


def freeway_study(*, uxsim: bool = True) -> FreewayStudy:
    """Run the corridor scenario without and with ALINEA (CTM; UXsim when asked and installed).

    Parameters
    ----------
    uxsim : bool, default True
        Also run UXsim (about 4 s each run on a shared CPU core).

    Returns
    -------
    FreewayStudy

    Examples
    --------
    >>> from applications.traffic import freeway_study
    >>> study = freeway_study(uxsim=False)
    >>> study.table[["model", "scenario"]].values.tolist()
    [['CTM', 'no metering'], ['CTM', 'ALINEA on ramp 2']]
    >>> study.uxsim_note
    'UXsim not run (uxsim=False)'
    """
    if not isinstance(uxsim, bool):
        raise TypeError(f"`uxsim` must be True or False; got {uxsim!r}")
    columns = ["total_travel_time_veh_h", "max_mainline_queue_km", "max_ramp2_queue_veh"]
    runs: dict[str, FreewayResult] = {}
    rows = []
    for metering, name in _NAMES.items():
        runs[name] = corridor_scenario(metering)
        rows.append(
            {"model": "CTM", "scenario": name} | runs[name].to_frame()[columns].iloc[0].to_dict()
        )
    note = "" if uxsim and UXSIM_AVAILABLE else "UXsim not run (uxsim=False)"
    if uxsim and not UXSIM_AVAILABLE:
        note = "UXsim is not installed"
    if not note:
        for metering, name in _NAMES.items():
            frame = corridor_uxsim(metering=metering).to_frame()[columns].iloc[0].to_dict()
            rows.append({"model": "UXsim", "scenario": name} | frame)
    return FreewayStudy(runs, pd.DataFrame(rows), note)


def freeway_section(study: FreewayStudy, figure: str = "freeway.png") -> str:
    """The Markdown subsection of the traffic report for ``study`` (formatting only).

    Parameters
    ----------
    study : FreewayStudy
    figure : str, default "freeway.png"
        The figure's path relative to the section (from :func:`freeway_figure`).

    Returns
    -------
    str

    Examples
    --------
    >>> from applications.traffic import freeway_section, freeway_study
    >>> text = freeway_section(freeway_study(uxsim=False))
    >>> text.splitlines()[0]
    '### A freeway corridor: merges, a diverge, a lane drop and ALINEA'
    """
    if not isinstance(study, FreewayStudy):
        raise TypeError(f"`study` must be a FreewayStudy; got {type(study).__name__}")
    t = study.table.set_index(["model", "scenario"])["total_travel_time_veh_h"]
    free, metered = t[("CTM", _NAMES[False])], t[("CTM", _NAMES[True])]
    note = f" ({study.uxsim_note})" if study.uxsim_note else ""
    return f"""### A freeway corridor: merges, a diverge, a lane drop and ALINEA

Ten kilometres of three lanes dropping to two at 8.5 km, on-ramps at 2.0 and 7.5 km \
(Daganzo's 1995 merge, priorities by capacity), an off-ramp at 5.0 km taking 20 % (his \
first-in-first-out diverge; Tampere et al.'s 2011 general node model reduces to both), \
cells of 100 m at the CFL step, and a morning peak above the lane drop's capacity. \
Without metering the queue runs back past the off-ramp, whose first-in-first-out diverge \
then holds the exiting traffic too; ALINEA (Papageorgiou et al. 1991, K_R = 70 veh/h per %) on \
ramp 2 holds the queue on the ramp: total travel time {free:.0f} -> {metered:.0f} veh h. With a \
triangular diagram there is no capacity drop, so the saving is the exiting traffic's delay. \
UXsim (Newell's car-following model, platoons of five, its own node rule) runs the same \
corridor{note}:

{markdown_table(study.table)}
![Space-time density and queues]({figure})
"""


_UNITS = {
    "total_travel_time_veh_h": "veh h",
    "max_mainline_queue_km": "km",
    "max_ramp2_queue_veh": "veh",
}


def freeway_rows(study: FreewayStudy, seed: int) -> list[dict]:
    """The corridor's numbers as rows of the traffic study's table (part "freeway")."""
    return [
        {
            "part": "freeway",
            "dataset": "corridor",
            "model": r["model"],
            "seed": seed,
            "quantity": f"{q}:{r['scenario']}",
            "value": float(r[q]),
            "unit": unit,
            "note": "UXsim: Newell car-following, platoons of 5" if r["model"] == "UXsim" else "",
        }
        for r in study.table.to_dict("records")
        for q, unit in _UNITS.items()
    ]
