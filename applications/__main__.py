"""Run the field studies and join them into one report.

``python -m applications {traffic,economics,control,all} --out DIR [--quick]
[--device auto|cpu|cuda] [--seeds ...]``, also installed as ``pwlmodels-apps``.
Writes ``DIR/<study>/`` (table.csv, section.md, PNG figures), ``DIR/report.md``
joining the sections of the studies run, and ``DIR/manifest.json`` (versions,
platform, device, torch threads, seeds, command line, time per study). A
progress bar over the studies goes to stderr when it is a terminal.
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from pwlmodels import resolve_device

from . import STUDIES
from .report import build_manifest, write_manifest, write_report


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=__doc__.split("\n\n")[0],
        epilog="Example: %(prog)s all --out results --quick",
    )
    parser.add_argument("study", choices=[*STUDIES, "all"], help="one study, or all three")
    parser.add_argument(
        "--out", type=Path, default=Path("results"), help="output folder (default: results)"
    )
    parser.add_argument("--quick", action="store_true", help="the seconds-long test version")
    parser.add_argument(
        "--device",
        default="auto",
        choices=["auto", "cpu", "cuda"],
        help="where the networks train (default auto: CUDA when available)",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="default: 0 1 2")
    parser.add_argument(
        "--data",
        type=Path,
        help="traffic: a CSV of your detector data (columns density_veh_km, flow_veh_h, or "
        "raw samples: detector, time_s, lane, interval_s, count, occupancy)",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar (off anyway when not a TTY)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status (argument errors exit with 2)."""
    prog = Path(sys.argv[0]).name if argv is None else "python -m applications"
    if prog in ("__main__.py", "-m", "-c", ""):
        prog = "python -m applications"
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = _parser(prog)
    args = parser.parse_args(args_list)
    if args.data is not None and args.study not in ("traffic", "all"):
        parser.error(f"--data is for the traffic study; got study {args.study!r}")
    try:
        device = resolve_device(args.device)
    except ValueError as err:  # --device cuda without CUDA: say so before any work
        parser.error(str(err))
    names = STUDIES if args.study == "all" else (args.study,)
    results = []
    started = time.time()
    threads = torch.get_num_threads()  # the process's; each study records its own in info
    bar = tqdm(
        names,
        desc="studies",
        unit="study",
        file=sys.stderr,
        disable=args.no_progress or not sys.stderr.isatty(),
    )
    for name in bar:
        bar.set_postfix_str(name)
        module = importlib.import_module(f"applications.{name}")
        extra = {"data": args.data} if name == "traffic" and args.data is not None else {}
        r = module.run(
            args.out, device=str(device), seeds=tuple(args.seeds), quick=args.quick, **extra
        )
        tqdm.write(
            f"{name}: {r.table_path} and {len(r.figures)} figures "
            f"({r.seconds:.1f} s on {r.device})",
            file=sys.stdout,
        )
        results.append(r)
    bar.close()
    manifest = build_manifest(
        results,
        command=f"{prog} {shlex.join(args_list)}",
        seeds=args.seeds,
        quick=args.quick,
        device_requested=args.device,
        started=started,
        torch_threads=threads,
    )
    manifest_path = write_manifest(manifest, args.out)
    print(f"manifest: {manifest_path}")
    print(f"report: {write_report(results, args.out, manifest=manifest_path.name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
