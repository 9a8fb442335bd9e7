"""``python -m applications {traffic,economics,control,all} --out DIR [--quick] [--device ...]``."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from . import STUDIES
from .report import write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m applications", description=__doc__)
    parser.add_argument("study", choices=[*STUDIES, "all"])
    parser.add_argument("--out", type=Path, default=Path("results"))
    parser.add_argument("--quick", action="store_true", help="the seconds-long test version")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--data",
        type=Path,
        help="traffic: a CSV of your detector data (columns density_veh_km, flow_veh_h)",
    )
    args = parser.parse_args(argv)
    names = STUDIES if args.study == "all" else (args.study,)
    results = []
    for name in names:
        module = importlib.import_module(f"applications.{name}")
        extra = {"data": args.data} if name == "traffic" and args.data is not None else {}
        r = module.run(
            args.out, device=args.device, seeds=tuple(args.seeds), quick=args.quick, **extra
        )
        print(f"{name}: {r.table_path} and {len(r.figures)} figures ({r.seconds:.1f} s)")
        results.append(r)
    if args.study == "all":
        print(f"report: {write_report(results, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
