"""Benchmark explicit_mpc and its exact ReLU network: regions, network size, times, errors.

For the control study's double integrator (``x+ = [[1, 1], [0, 1]] x + [0.5, 1]' u``,
Q = I, R = 0.1, |u| <= 1, box |x| <= (5, 2)) at several horizons, and a cart-pole
linearised upright and sampled at 0.1 s (``applications.control._explicit.cartpole``;
Q = diag(1, 1, 10, 1), R = 1, |u| <= 1 N, box (1 m, 1 m/s, 0.3 rad, 1 rad/s)),
records:

- ``regions`` and ``pieces`` (distinct affine maps) of ``explicit_mpc``, and
  ``enumeration_seconds`` (best of ``--repeats``);
- the size of ``pwa_to_relu(law)``: ``hidden_layers``, ``max_width``, ``relus``,
  ``parameters``, and ``build_seconds`` (best of ``--repeats``);
- ``max_abs_error`` of the float64 network against the law at uniform samples of
  the box and at every region's vertices, and ``rounding_bound``
  (:func:`pwlmodels.pwa_rounding_bound`);
- with PPOPT installed (the ``mpc`` extra), ``ppopt_regions`` and ``ppopt_seconds``
  of its graph algorithm on the same mpQP (one run), else empty;
- the closed-loop certificates of the law (``applications.control``; each time the
  best of ``--repeats``): ``max_abs_u``, the exact largest |u| over the state box
  (``input_bound``, from the law's regions) and ``input_bound_seconds``;
  ``box_invariant`` (``invariance`` of the state box, per facet),
  ``box_worst_margin`` (its smallest facet margin, negative where the facet fails)
  and ``invariance_seconds``; ``roa_alpha``, ``roa_alpha_cap``, ``roa_converges``
  and ``roa_seconds`` of ``region_of_attraction`` with the LQR polytope candidate
  (where alpha = alpha_cap, the state box, not invariance, limits the scaling), and
  ``roa_volume`` (``Polytope.volume``: the shoelace area in 2-D, scipy's
  ``ConvexHull`` in 4-D) over ``ellipsoid_volume``, the Hu-Lin LQR ellipsoid's
  (``lqr_ellipsoid``, ``pi^(n/2) / Gamma(n/2 + 1) level^(n/2) / sqrt(det P)``), as
  ``roa_ellipsoid_ratio``, and over the state box's volume as ``roa_box_fraction``;
  the same for two better candidates: ``mpi_*``, the LQR loop's contractive invariant
  set within the state box and the input limits (``shape="mpi"``, best of
  ``--repeats``), and ``clip_*``, the LQR polytope scaled within the fixed state box
  (``clip=True``, 6 bisection steps, one run: it is the slowest). Every certificate
  runs at every horizon.

Run::

    python benchmarks/bench_explicit_mpc.py            # writes results/explicit_mpc.csv
    python benchmarks/bench_explicit_mpc.py --quick    # smoke: two small cases
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _common import best_of, library_version, write_csv_atomic
from torch import nn

from applications.control import (
    explicit_mpc,
    input_bound,
    invariance,
    lqr_ellipsoid,
    region_of_attraction,
)
from applications.control._explicit import cartpole, condense, ppopt_program
from pwlmodels import count_parameters, evaluate, pwa_rounding_bound, pwa_to_relu

DOUBLE_INTEGRATOR = dict(
    A=np.array([[1.0, 1.0], [0.0, 1.0]]), B=np.array([[0.5], [1.0]]), Q=np.eye(2),
    R=np.array([[0.1]]), u_max=np.array([1.0]), x_box=np.array([5.0, 2.0]),
)  # fmt: skip
CARTPOLE = dict(
    A=cartpole(0.1)[0], B=cartpole(0.1)[1], Q=np.diag([1.0, 1.0, 10.0, 1.0]),
    R=np.array([[1.0]]), u_max=np.array([1.0]), x_box=np.array([1.0, 1.0, 0.3, 1.0]),
)  # fmt: skip
CASES = [("double integrator", DOUBLE_INTEGRATOR, n) for n in (2, 5, 8, 12)] + [
    ("cart-pole", CARTPOLE, n) for n in (4, 6, 8, 10)
]
QUICK_CASES = [("double integrator", DOUBLE_INTEGRATOR, 5), ("cart-pole", CARTPOLE, 4)]
N_FULL, N_QUICK = 100_000, 10_000
COLUMNS = [
    "plant",
    "n_states",
    "horizon",
    "regions",
    "pieces",
    "enumeration_seconds",
    "hidden_layers",
    "max_width",
    "relus",
    "parameters",
    "build_seconds",
    "max_abs_error",
    "rounding_bound",
    "ppopt_regions",
    "ppopt_seconds",
    "samples",
    "max_abs_u",
    "input_bound_seconds",
    "box_invariant",
    "box_worst_margin",
    "invariance_seconds",
    "roa_alpha",
    "roa_alpha_cap",
    "roa_converges",
    "roa_seconds",
    "roa_volume",
    "ellipsoid_volume",
    "roa_ellipsoid_ratio",
    "roa_box_fraction",
    "mpi_alpha",
    "mpi_converges",
    "mpi_seconds",
    "mpi_volume",
    "mpi_box_fraction",
    "mpi_ellipsoid_ratio",
    "clip_alpha",
    "clip_converges",
    "clip_seconds",
    "clip_box_fraction",
    "version",
]
KARG_LUCIA = (
    "Karg and Lucia (2020, arXiv 1806.10644) bound the hidden layers and neurons that "
    "represent an MPC law exactly, but the searchable reference store holds only their "
    "abstract, not the bound (searched: the arXiv number, their theorem, the "
    "difference-of-convex and Hanin width n+1 constructions, and papers restating it: "
    "Lupu-Necoara 2024, Teichrib-Schulze Darup, Li-You 2026); no figures compared."
)


def ppopt_run(plant: dict, horizon: int) -> tuple[int | None, float | None]:
    """Regions and seconds of PPOPT's graph algorithm, or (None, None) without it."""
    if importlib.util.find_spec("ppopt") is None or importlib.util.find_spec("gurobipy") is None:
        return None, None
    from ppopt.mp_solvers.solve_mpqp import mpqp_algorithm, solve_mpqp

    qp = condense(plant["A"], plant["B"], plant["Q"], plant["R"], horizon, plant["u_max"])
    with contextlib.redirect_stdout(io.StringIO()):  # PPOPT and gurobipy print
        program = ppopt_program(qp.H, qp.F, qp.u_bound, plant["x_box"])
        start = time.perf_counter()
        solution = solve_mpqp(program, mpqp_algorithm.graph)
        seconds = time.perf_counter() - start
    return len(solution.critical_regions), seconds


def certificates(plant: dict, law, repeats: int) -> dict:
    """The law's closed-loop certificates on the state box, each timed (best of repeats)."""
    A, B, box, u_max = plant["A"], plant["B"], plant["x_box"], plant["u_max"]
    facets = np.vstack([np.eye(len(box)), -np.eye(len(box))])
    ib_s, ib, _ = best_of(lambda: input_bound(law, -box, box), repeats)
    inv_s, inv, _ = best_of(lambda: invariance(A, B, law, facets, np.r_[box, box]), repeats)

    def roa(shape, **options):
        return region_of_attraction(
            A, B, law, shape, box, u_max, Q=plant["Q"], R=plant["R"], **options
        )

    roa_s, lqr, _ = best_of(lambda: roa("lqr"), repeats)
    mpi_s, mpi, _ = best_of(lambda: roa("mpi"), repeats)
    clip_s, clip, _ = best_of(lambda: roa("lqr", clip=True, steps=6), 1)
    ellipsoid = lqr_ellipsoid(A, B, plant["Q"], plant["R"], u_max, box)
    box_volume = float(np.prod(2 * box))
    return {
        "max_abs_u": ib.value,
        "input_bound_seconds": ib_s,
        "box_invariant": inv.verdict == "invariant",
        "box_worst_margin": float(inv.margins[inv.worst]),
        "invariance_seconds": inv_s,
        "roa_alpha": lqr.alpha,
        "roa_alpha_cap": lqr.alpha_cap,
        "roa_converges": lqr.converges,
        "roa_seconds": roa_s,
        "roa_volume": lqr.area,
        "ellipsoid_volume": ellipsoid.area,
        "roa_ellipsoid_ratio": lqr.area / ellipsoid.area,
        "roa_box_fraction": lqr.area / box_volume,
        "mpi_alpha": mpi.alpha,
        "mpi_converges": mpi.converges,
        "mpi_seconds": mpi_s,
        "mpi_volume": mpi.area,
        "mpi_box_fraction": mpi.area / box_volume,
        "mpi_ellipsoid_ratio": mpi.area / ellipsoid.area,
        "clip_alpha": clip.alpha,
        "clip_converges": clip.converges,
        "clip_seconds": clip_s,
        "clip_box_fraction": clip.area / box_volume,
    }


def measure(name: str, plant: dict, horizon: int, n_samples: int, repeats: int) -> dict:
    args = (plant["A"], plant["B"], plant["Q"], plant["R"], horizon, plant["u_max"])
    enum_s, law, _ = best_of(lambda: explicit_mpc(*args, plant["x_box"]), repeats)
    build_s, net, _ = best_of(lambda: pwa_to_relu(law), repeats)
    widths = [layer.out_features for layer in net if isinstance(layer, nn.Linear)][:-1]
    box = plant["x_box"]
    x = np.random.default_rng(1).uniform(-box, box, (n_samples, len(box)))
    x = np.vstack([x, *(r.vertices() for r in law.regions)])
    ppopt_regions, ppopt_s = ppopt_run(plant, horizon)
    return {
        "plant": name,
        "n_states": len(box),
        "horizon": horizon,
        "regions": law.n_regions,
        "pieces": law.n_pieces,
        "enumeration_seconds": enum_s,
        "hidden_layers": len(widths),
        "max_width": max(widths),
        "relus": sum(widths),
        "parameters": count_parameters(net),
        "build_seconds": build_s,
        "max_abs_error": float(np.max(np.abs(evaluate(net, x) - law(x)))),
        "rounding_bound": pwa_rounding_bound(law, net),
        "ppopt_regions": ppopt_regions,
        "ppopt_seconds": ppopt_s,
        "samples": len(x),
        **certificates(plant, law, repeats),
    }


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two small cases, fewer samples")
    parser.add_argument("--repeats", type=int, default=3, help="runs timed (best of)")
    parser.add_argument("--out", type=Path, default=None, help="CSV path")
    args = parser.parse_args(argv)
    version = library_version()
    torch.set_num_threads(1)
    start = time.perf_counter()
    n = N_QUICK if args.quick else N_FULL
    cases = QUICK_CASES if args.quick else CASES
    rows = [measure(name, plant, horizon, n, args.repeats) for name, plant, horizon in cases]
    df = pd.DataFrame(rows).assign(version=version)[COLUMNS]
    name = "explicit_mpc_quick.csv" if args.quick else "explicit_mpc.csv"
    out = args.out or Path(__file__).resolve().parent / "results" / name
    write_csv_atomic(df, out, float_format="%.6g")
    with pd.option_context("display.width", 220, "display.max_columns", 20):
        print(f"pwlmodels {version}; {time.perf_counter() - start:.0f} s")
        print(df.drop(columns=["version"]).to_string(index=False))
    print(KARG_LUCIA)
    return df


if __name__ == "__main__":
    main()
