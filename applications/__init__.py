"""Field applications of pwlmodels: traffic flow, consumption-savings, feedback control.

Each study module has ``run(out_dir, *, device="auto", seeds=(0, 1, 2), quick=False)``
returning an :class:`applications.report.AppResult`; ``python -m applications
{traffic,economics,control,all} --out DIR`` runs them from the command line.
"""

STUDIES = ("traffic", "economics", "control")

__all__ = ["STUDIES"]
