"""The ``pwlmodels`` command line: fit, convert, verify and partition on user files.

::

    pwlmodels fit data.csv --x COL --y COL --n-knots 5 --out spline.json [--model model.pt]
    pwlmodels convert spline.json --out model.pt [--onnx model.onnx]
    pwlmodels verify model.pt --lower 0 --upper 1 [--minimize] [--json]
    pwlmodels verify model.onnx --vnnlib prop.vnnlib --timeout 60 --out result.txt
    pwlmodels verify --instances instances.csv [--client local] --out results.csv
    pwlmodels regions model.pt --lower=-1,-1 --upper 1,1 --out partition.png

File kinds follow the suffix: ``.json`` is a spline (:func:`pwlmodels.io.save_spline`),
``.onnx`` an ONNX model, anything else a pwlmodels model file
(:func:`pwlmodels.io.save_model`). Bad input (a missing column, non-numeric
data, an unreadable file, a box of the wrong dimension, a nan option, an
output that is an input or another output) ends with exit status 2 and one
line on stderr, without a traceback, and before any file is written.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import re
import sys
import time
import warnings
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from ._files import check_paths as _check_paths
from ._validate import round_outward

__all__ = ["main"]

_FAILURES = (ValueError, TypeError, OSError, ImportError, ArithmeticError)
_MAX_REGIONS = 1_000_000  # a partition figure of more regions is unreadable and slow
_METHODS = ("auto", "spline", "bab", "milp")
# options of the maximum over a box, which a VNN-LIB property replaces
_BOX_OPTIONS = ("lower", "upper", "minimize", "method", "output", "atol", "rtol")


class _Abort(Exception):
    """A user error found by the command line itself."""


def main(argv: list[str] | None = None) -> int:
    """Run the ``pwlmodels`` command line.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        The exit status: 0 on success, 2 for bad arguments or input (one
        line on stderr).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from pwlmodels import PiecewiseLinear
    >>> from pwlmodels.cli import main
    >>> from pwlmodels.io import load_model, save_spline
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     spline = save_spline(PiecewiseLinear([0.0, 1.0], [0.0, 1.0]), f"{tmp}/f.json")
    ...     status = main(["convert", str(spline), "--out", f"{tmp}/f.pt"])
    ...     net = load_model(f"{tmp}/f.pt")
    converted f.json (spline, 1 input) -> f.pt
    >>> status, [type(m).__name__ for m in net]
    (0, ['Linear', 'ReLU', 'Linear'])
    """
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(_glue_negative_boxes(argv))
    except SystemExit as exc:  # argparse has printed its usage and message
        return exc.code if isinstance(exc.code, int) else 2
    error: object = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            status = args.run(args)
        except (_Abort, *_FAILURES) as exc:
            status, error = 2, exc
        except MemoryError:
            status, error = 2, "out of memory; give a smaller input or box"
    for w in caught:
        if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning)):
            _say(args.command, "warning", w.message)
    if error is not None:  # last, where the eye lands
        _say(args.command, "error", error)
    return status


_NUMBER = r"[-+]?(?:[\d.]+(?:e[-+]?\d+)?|inf(?:inity)?|nan)"
_NUMBERS = re.compile(rf"{_NUMBER}(?:,\s*{_NUMBER})*,?", re.I)


_NUMERIC_OPTIONS = (
    *("--lower", "--upper", "--n-knots", "--knots", "--min-slope", "--max-slope"),
    *("--time-limit", "--atol", "--rtol", "--seed", "--output", "--max-regions", "--timeout"),
)


def _glue_negative_boxes(argv: list[str]) -> list[str]:
    """Let ``--lower -1,-2``, ``--lower -1e-3 -2`` and ``--knots -2,3`` through argparse.

    argparse takes a token that starts with "-" and is not a plain negative
    number for an option; a leading space hides the "-" (``float`` ignores it).
    """
    out: list[str] = []
    in_box = False
    for token in argv:
        if in_box and _NUMBERS.fullmatch(token):
            out.append(" " + token if token.startswith("-") else token)
            continue
        in_box = token in _NUMERIC_OPTIONS
        out.append(token)
    return out


def _say(command: str, level: str, message: object) -> None:
    text = " ".join(str(message).split()) or type(message).__name__
    if isinstance(message, OSError) and message.strerror:  # without "[Errno 2]"
        text = message.strerror
        if isinstance(message, FileNotFoundError) and message.errno == errno.ENOENT:
            text = text if message.filename is None else f"no such file: {message.filename}"
        elif message.filename is not None:
            text += f": {message.filename}"
    print(f"pwlmodels {command}: {level}: {text}", file=sys.stderr)


# ------------------------------------------------------------------- parser
def _parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="pwlmodels",
        description="Piecewise-linear fits, exact ReLU networks, verification and regions.",
    )
    parser.add_argument("--version", action="version", version=f"pwlmodels {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fit = sub.add_parser("fit", help="fit a piecewise-linear function to two CSV columns")
    fit.add_argument("data", help="CSV file with a header row")
    fit.add_argument("--x", required=True, metavar="COL", help="column of the input")
    fit.add_argument("--y", required=True, metavar="COL", help="column of the output")
    knots = fit.add_mutually_exclusive_group(required=True)
    knots.add_argument(
        "--n-knots",
        type=_n_knots,
        metavar="K",
        help="fit K free interior knots (K + 1 segments), placed by the search",
    )
    knots.add_argument(
        "--knots",
        type=_knots,
        metavar="T1,T2,...",
        help="fixed interior knots separated by commas, e.g. 2.5,7 (a single one: 4.0 or 4,)",
    )
    fit.add_argument("--weights", metavar="COL", help="column of weights (1/sigma; 0 drops a row)")
    for group in (("increasing", "decreasing"), ("convex", "concave")):
        exclusive = fit.add_mutually_exclusive_group()
        for name in group:
            dest = "monotone" if name.endswith("creasing") else "curvature"
            exclusive.add_argument(
                f"--{name}",
                dest=dest,
                action="store_const",
                const=name,
                help=f"fit a {name} function",
            )
    fit.add_argument(
        "--min-slope",
        type=_number(allow="-inf"),
        metavar="S",
        help="lower bound on every slope",
    )
    fit.add_argument(
        "--max-slope",
        type=_number(allow="inf"),
        metavar="S",
        help="upper bound on every slope",
    )
    fit.add_argument(
        "--extrapolate",
        choices=("linear", "constant"),
        default="linear",
        help="beyond the data: continue the end segments (default) or hold the end values",
    )
    fit.add_argument(
        "--seed",
        type=_count(0),
        default=0,
        help="free knots: seed of the extra starts",
    )
    fit.add_argument(
        "--out", required=True, type=_file_name, metavar="FILE", help="the spline (JSON)"
    )
    fit.add_argument("--table", type=_file_name, metavar="FILE", help="also the fit's table (CSV)")
    fit.add_argument(
        "--model", type=_file_name, metavar="FILE", help="also the exact network (.pt or .onnx)"
    )
    fit.set_defaults(run=_fit)

    convert = sub.add_parser("convert", help="convert between spline, model and ONNX files")
    convert.add_argument("source", type=Path, help="a .json spline, a model file or .onnx")
    convert.add_argument(
        "--out",
        required=True,
        type=_file_name,
        help=".json (a spline, 1 input), .onnx or a model file",
    )
    convert.add_argument("--onnx", type=_file_name, help="also write an ONNX file")
    convert.add_argument("--form", choices=("hinge", "ramp"), default="hinge")
    convert.add_argument(
        "--dtype",
        choices=("float64", "float32"),
        help="the network's dtype (default: float64 from a spline, else the model's own)",
    )
    convert.set_defaults(run=_convert)

    verify = sub.add_parser(
        "verify",
        help="verified maximum (or minimum) over a box, or decide a VNN-LIB property",
    )
    _model_and_box(verify, required=False, model_required=False)
    verify.add_argument("--minimize", action="store_true", help="the minimum instead")
    verify.add_argument("--method", choices=_METHODS, help="auto (default), spline, bab or milp")
    verify.add_argument("--output", type=_count(0, 2**31 - 1), help="which output, for several")
    verify.add_argument(
        "--time-limit", type=_number(positive=True), help="seconds (bab, milp), > 0"
    )
    verify.add_argument("--atol", type=_number(nonnegative=True))
    verify.add_argument("--rtol", type=_number(nonnegative=True))
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    verify.add_argument(
        "--vnnlib",
        type=Path,
        metavar="PROP",
        help="decide this VNN-LIB property (VNN-COMP's mode; instead of --lower/--upper)",
    )
    verify.add_argument(
        "--timeout",
        type=_number(positive=True),
        metavar="SECONDS",
        help="with --vnnlib: seconds for the whole decision after start-up; with --instances: "
        "seconds per instance where its timeout column is empty (default 60), > 0",
    )
    verify.add_argument(
        "--out",
        type=_file_name,
        metavar="RESULT",
        help="with --vnnlib: write the VNN-COMP result file (sat/unsat/unknown/timeout); "
        "with --instances: the results CSV",
    )
    verify.add_argument(
        "--instances",
        type=Path,
        metavar="CSV",
        help="decide every instance of a VNN-COMP instances CSV (columns onnx, vnnlib and "
        "optionally timeout; file names relative to its folder)",
    )
    verify.add_argument(
        "--client",
        metavar="ADDRESS",
        help="with --instances: 'local' (a LocalCluster on this machine) or a Dask "
        "scheduler's address, e.g. tcp://host:8786",
    )
    verify.set_defaults(run=_verify)

    regions = sub.add_parser("regions", help="figure of the linear regions (1 or 2 inputs)")
    _model_and_box(regions)
    regions.add_argument("--out", required=True, type=_file_name, help="the figure (PNG)")
    regions.add_argument("--color", choices=("region", "value"), default="region")
    regions.add_argument("--table", type=_file_name, help="also write one row per region (CSV)")
    regions.add_argument(
        "--max-regions",
        type=_count(1, _MAX_REGIONS),
        default=100_000,
        help=f"stop with an error beyond this many regions (at most {_MAX_REGIONS:,})",
    )
    regions.set_defaults(run=_regions)
    return parser


def _model_and_box(
    p: argparse.ArgumentParser, *, required: bool = True, model_required: bool = True
) -> None:
    p.add_argument(
        "model",
        type=Path,
        nargs=None if model_required else "?",
        help="a model file (.pt), .onnx, or a .json spline",
    )
    for side in ("lower", "upper"):
        p.add_argument(
            f"--{side}",
            required=required,
            nargs="+",
            metavar="X",
            help=f"{side} corner of the box: numbers separated by commas or spaces "
            "(one number: every input)",
        )


def _n_knots(text: str) -> int:
    if not re.fullmatch(r"\s*\d+\s*", text):
        raise argparse.ArgumentTypeError(
            f"expected a number of free knots such as 5; got {text.strip()!r} "
            "(fixed knots go in --knots, e.g. --knots 2.5,7)"
        )
    return int(text)


def _knots(text: str) -> list[float]:
    if re.fullmatch(r"\s*\d+\s*", text):  # what --knots K meant before --n-knots
        raise argparse.ArgumentTypeError(
            f"a lone integer is ambiguous; write --n-knots {text.strip()} for "
            f"{text.strip()} free knots, or --knots {text.strip()}.0 for one fixed knot there"
        )
    parts = [p for p in text.split(",") if p.strip()]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if not values:
        raise argparse.ArgumentTypeError(
            f"expected fixed knots such as 2.5,7; got {text.strip()!r} "
            "(a number of free knots goes in --n-knots)"
        )
    bad = [v for v in values if not np.isfinite(v)]
    if bad:
        raise argparse.ArgumentTypeError(f"fixed knots must be finite numbers; got {bad[0]}")
    return values


def _number(*, allow: str = "", positive: bool = False, nonnegative: bool = False):
    """An argparse type: a float that is finite (or the one infinity ``allow`` names), never nan.

    ``--min-slope -inf`` and ``--max-slope inf`` mean no bound; ``+inf`` as a
    lower bound (or ``-inf`` as an upper one) admits no slope at all, and nan
    compares false with everything, so both are refused here, before any file
    is read or written.
    """

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number; got {text.strip()!r}") from None
        if np.isnan(value):
            raise argparse.ArgumentTypeError("must be a number; got nan")
        if np.isinf(value) and value != float(allow or "nan"):
            raise argparse.ArgumentTypeError(f"must be finite; got {value}")
        if positive and not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0; got {value}")
        if nonnegative and not value >= 0:
            raise argparse.ArgumentTypeError(f"must be >= 0; got {value}")
        return value

    return parse


def _file_name(text: str) -> Path:
    """An argparse type for a file to write: a name that ends with a separator is a folder
    (``Path`` would drop the separator and write a file of the folder's name)."""
    if text.endswith(tuple(sep for sep in (os.sep, os.altsep) if sep)):
        raise argparse.ArgumentTypeError(f"{text!r} names a folder; give a file name")
    return Path(text)


def _count(low: int, high: int | None = None):
    """An argparse type: an integer in ``[low, high]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer; got {text.strip()!r}") from None
        if value < low or (high is not None and value > high):
            limit = f">= {low}" if high is None else f"between {low} and {high:,}"
            raise argparse.ArgumentTypeError(f"must be {limit}; got {value}")
        return value

    return parse


# ----------------------------------------------------------------- commands
def _fit(args: argparse.Namespace) -> int:
    from .fit._fit import fit_pwl
    from .io._io import save_spline

    _check_paths(
        [("data", Path(args.data))],
        [("--out", args.out), ("--table", args.table), ("--model", args.model)],
    )
    _require_onnx_if(_is_onnx(args.model))
    columns = {"--x": args.x, "--y": args.y, "--weights": args.weights}
    data = _read_columns(Path(args.data), {k: v for k, v in columns.items() if v is not None})
    constraints = {}
    if args.monotone:
        constraints["monotone"] = args.monotone
    if args.curvature:
        constraints["curvature"] = args.curvature
    if args.min_slope is not None or args.max_slope is not None:
        constraints["slope"] = (args.min_slope, args.max_slope)
    result = fit_pwl(
        data["--x"],
        data["--y"],
        n_knots=args.n_knots,
        knots=args.knots,
        weights=data.get("--weights"),
        constraints=constraints or None,
        extrapolate=args.extrapolate,
        seed=args.seed,
    )
    written = [save_spline(result.spline, args.out)]
    if args.table is not None:
        written.append(_write_csv(result.to_frame(), args.table))
    if args.model is not None:
        from .relu import spline_to_relu

        written.append(_write_network(spline_to_relu(result.spline), args.model))
    kind = "free" if result.free_knots else "fixed"
    print(
        f"fitted {result.knots.size} {kind} knot(s) to {result.n} points: "
        f"rmse {result.rmse:.6g}, bic {result.bic:.6g}"
    )
    print("knots: " + (", ".join(f"{t:.6g}" for t in result.knots) or "none"))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _convert(args: argparse.Namespace) -> int:
    import torch

    from .io._io import load_spline, save_spline
    from .relu import relu_to_spline, spline_to_relu

    _check_paths([("source", args.source)], [("--out", args.out), ("--onnx", args.onnx)])
    _require_onnx_if(args.onnx is not None or _is_onnx(args.out))
    dtype = getattr(torch, args.dtype) if args.dtype else None
    spline = net = None
    if _kind(args.source) == "spline":
        spline = load_spline(args.source)
        what = "spline, 1 input"
    else:
        net = _read_network(args.source)
        net = net if dtype is None else net.to(dtype)
        n_in = _n_inputs(net)
        what = f"model, {n_in} input(s)"
    out_spline = _kind(args.out) == "spline"
    if out_spline:
        if spline is None:
            if n_in != 1:
                raise _Abort(f"{args.source} has {n_in} inputs; a .json spline has 1")
            spline = relu_to_spline(net)
        save_spline(spline, args.out)
    if net is None and (not out_spline or args.onnx is not None):
        net = spline_to_relu(spline, form=args.form, dtype=dtype or torch.float64)
    if not out_spline:
        _write_network(net, args.out)
    if args.onnx is not None:
        _write_network(net, args.onnx, onnx=True)
    extra = f" and {args.onnx.name}" if args.onnx is not None else ""
    print(f"converted {args.source.name} ({what}) -> {args.out.name}{extra}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    if args.instances is not None:
        return _decide_instances(args)
    if args.client is not None:
        raise _Abort("--client goes with --instances (an instances CSV)")
    if args.model is None:
        raise _Abort("give a model file (or --instances with an instances CSV)")
    if args.vnnlib is not None:
        return _decide(args)
    from .verify._verify import maximize, minimize

    for flag in ("out", "timeout"):
        if getattr(args, flag) is not None:
            raise _Abort(f"--{flag} goes with --vnnlib (--time-limit with a box)")
    for side in ("lower", "upper"):
        if getattr(args, side) is None:
            raise _Abort(f"--{side} is required (or --vnnlib with a property file)")
    net = _read_network(args.model)
    lower, upper = _box(args, _n_inputs(net))
    solve = minimize if args.minimize else maximize
    r = solve(
        net,
        lower,
        upper,
        output=args.output,
        method=args.method or "auto",
        atol=1e-7 if args.atol is None else args.atol,
        rtol=1e-9 if args.rtol is None else args.rtol,
        time_limit=args.time_limit,
    )
    sense = "minimum" if args.minimize else "maximum"
    if not np.isfinite(r.value) or not np.isfinite(r.witness).all():
        # a value attained at a point is finite unless float64 overflowed on the way
        raise _Abort(
            f"the {sense} overflows float64 over this box (value {float(r.value)}); "
            "shrink the box or rescale the inputs"
        )
    record = {
        "sense": sense,
        "lower": [float(v) for v in lower],  # the box verified: the given one rounded outward
        "upper": [float(v) for v in upper],
        "value": float(r.value),
        "bound": float(r.bound),
        "gap": float(r.gap),
        "status": r.status,
        "witness": [float(v) for v in r.witness],
        "method": r.method,
        "n_nodes": int(r.n_nodes),
        "n_binary": int(r.n_binary),
        "time": float(r.build_time + r.solve_time),
    }
    if args.json:
        print(json.dumps(record))
        return 0
    box = " x ".join(f"[{float(lo)!r}, {float(hi)!r}]" for lo, hi in zip(lower, upper, strict=True))
    print(f"verified {sense} of {args.model.name} over {box}")
    for key in ("value", "bound", "gap", "status", "witness", "method"):
        v = record[key]
        text = ", ".join(map(repr, v)) if key == "witness" else v
        print(f"{key:8s} {text}")
    return 0


def _decide(args: argparse.Namespace) -> int:
    """VNN-COMP's run: the verdict on stdout and, with ``--out``, in the result file."""
    start = time.perf_counter()
    # by identity: `--output 0` and `--atol 0` are given (0 == False)
    given = [
        f"--{k}" for k in _BOX_OPTIONS if (v := getattr(args, k)) is not None and v is not False
    ]
    if given:
        raise _Abort(f"{', '.join(given)} cannot go with --vnnlib (the property gives the box)")
    if args.timeout is not None and args.time_limit is not None:
        raise _Abort("--timeout and --time-limit are the same limit with --vnnlib; give one")
    _check_paths([("model", args.model), ("--vnnlib", args.vnnlib)], [("--out", args.out)])
    from .io._vnnlib import load_vnnlib
    from .verify._check import check

    net, spec = _read_network(args.model), load_vnnlib(args.vnnlib)
    limit = args.timeout if args.timeout is not None else args.time_limit
    if limit is not None:  # what reading the files left of it
        limit -= time.perf_counter() - start
    if limit is not None and limit <= 0:
        result, lines = None, ["timeout"]
    else:
        result = check(net, spec, time_limit=limit)
        lines = [result.status]
    if result is not None and result.status == "sat":
        named = [f"(X_{i} {float(v)!r})" for i, v in enumerate(result.counterexample)]
        named += [f"(Y_{j} {float(v)!r})" for j, v in enumerate(result.output)]
        lines.append("(" + "\n ".join(named) + ")")
    text = "\n".join(lines) + "\n"
    if args.out is not None:
        from ._files import atomic_open

        with atomic_open(args.out) as fh:
            fh.write(text.encode())
    if args.json:
        record = {"status": lines[0], "time": time.perf_counter() - start}
        if result is not None:
            record["n_boxes"] = result.n_boxes
            if result.status == "sat":
                record["counterexample"] = [float(v) for v in result.counterexample]
                record["output"] = [float(v) for v in result.output]
        print(json.dumps(record))
    else:
        print(lines[0])
    return 0


def _decide_instances(args: argparse.Namespace) -> int:
    """Every instance of a CSV decided (verify_many), a line each, and the results CSV."""
    given = [
        f"--{k}"
        for k in (*_BOX_OPTIONS, "vnnlib", "json")
        if (v := getattr(args, k)) is not None and v is not False
    ]
    if args.model is not None:
        given.insert(0, f"the model {str(args.model)!r}")
    if given:
        raise _Abort(
            f"{', '.join(given)} cannot go with --instances (each instance names its network "
            "and property; the results go to --out)"
        )
    if args.timeout is not None and args.time_limit is not None:
        raise _Abort("--timeout and --time-limit are the same limit with --instances; give one")
    from ._cli_many import decide_instances

    limit = args.timeout if args.timeout is not None else args.time_limit
    return decide_instances(args.instances, args.client, limit, args.out)


def _regions(args: argparse.Namespace) -> int:
    from .regions import partition

    _check_paths([("model", args.model)], [("--out", args.out), ("--table", args.table)])
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise _Abort("the figure needs matplotlib: pip install 'pwlmodels[plot]'") from exc
    net = _read_network(args.model)
    n_in = _n_inputs(net)
    if n_in not in (1, 2):
        raise _Abort(f"{args.model} has {n_in} inputs; a partition figure needs 1 or 2")
    lower, upper = _box(args, n_in)
    part = partition(net, lower, upper, max_regions=args.max_regions)
    part.plot(path=args.out, color=args.color)
    written = [args.out]
    if args.table is not None:
        written.append(_write_csv(part.to_frame(), args.table))
    print(f"{len(part)} linear regions; wrote " + ", ".join(str(p) for p in written))
    return 0


# ------------------------------------------------------------------ helpers
def _kind(path: Path) -> str:
    """The file kind its suffix names: "spline" (.json), "onnx" (.onnx) or "model"."""
    return {".json": "spline", ".onnx": "onnx"}.get(path.suffix.lower(), "model")


def _is_onnx(path: Path | None) -> bool:
    return path is not None and _kind(path) == "onnx"


def _require_onnx_if(needed: bool) -> None:
    """Fail before any work when an ONNX file is asked for and onnx is missing."""
    if needed:
        from .io._onnx import require_onnx

        require_onnx()


def _read_columns(path: Path, columns: dict[str, str]) -> dict[str, np.ndarray]:
    """The named columns of a CSV file as finite float64 arrays (ValueError otherwise)."""
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise _Abort(f"{path} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise _Abort(f"{path} is not a readable CSV file: {exc}") from None
    out = {}
    for flag, name in columns.items():
        if name not in frame.columns:
            listed = ", ".join(repr(str(c)) for c in frame.columns)
            raise _Abort(f"{path} has no column {name!r} ({flag}); its columns are {listed}")
        col = frame[name]
        if isinstance(col, pd.DataFrame):
            raise _Abort(f"{path} has several columns named {name!r}")
        values = pd.to_numeric(col, errors="coerce")
        bad = values.isna() & col.notna()
        if bad.any() or pd.api.types.is_bool_dtype(col):
            i = int(np.argmax(bad.to_numpy())) if bad.any() else 0
            raise _Abort(
                f"column {name!r} of {path} must be numeric; row {i + 1} holds {col.iloc[i]!r}"
            )
        arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
        if not np.isfinite(arr).all():
            i = int(np.argmax(~np.isfinite(arr)))
            what = "is empty (a missing value)" if np.isnan(arr[i]) else f"holds {float(arr[i])}"
            raise _Abort(f"column {name!r} of {path}: row {i + 1} {what}; remove or fill it")
        out[flag] = arr
    if len(frame) < 2:
        raise _Abort(f"{path} has {len(frame)} data row(s); a fit needs at least 2")
    return out


def _read_network(path: Path):
    from .io._io import from_onnx, load_model, load_spline
    from .relu import spline_to_relu

    kind = _kind(path)
    if kind == "spline":
        return spline_to_relu(load_spline(path))
    return from_onnx(path) if kind == "onnx" else load_model(path)


def _write_network(net, path: Path, *, onnx: bool = False) -> Path:
    from .io._io import save_model, to_onnx

    if onnx or _is_onnx(path):
        return to_onnx(net, path)
    return save_model(net, path)


def _write_csv(frame, path: Path) -> Path:
    from ._files import atomic_open

    with atomic_open(path) as fh:
        fh.write(frame.to_csv(index=False).encode())
    return path


def _n_inputs(net) -> int:
    from .network._parse import input_features, parse_sequential

    n = input_features(parse_sequential(net))
    if n is None:
        raise _Abort("the model has no Linear layer, so its number of inputs is unknown")
    return n


def _outward(text: str, down: bool) -> float:
    """The float64 nearest ``text`` on the outer side: the box holds the decimal one.

    ``--upper 0.1`` is the double just above 0.1 and ``--lower 1e-400`` is 0.0
    (and ``--upper 1e-400`` the smallest subnormal), so a verified box covers
    the numbers as written rather than their nearest doubles.
    """
    value = float(text)
    if not np.isfinite(value):  # refused by the caller
        return value
    try:  # Decimal, not Fraction: "1e-999999999" must not build a 10**999999999
        exact = Decimal(text.strip().replace("_", ""))
    except InvalidOperation:
        return value
    return round_outward(exact, up=not down)


def _box(args: argparse.Namespace, n_in: int) -> tuple[np.ndarray, np.ndarray]:
    corners = []
    for flag in ("lower", "upper"):
        parts = [p for token in getattr(args, flag) for p in token.split(",") if p.strip()]
        try:
            values = np.array([_outward(p, flag == "lower") for p in parts])
        except ValueError:
            given = " ".join(t.strip() for t in getattr(args, flag))
            raise _Abort(f"--{flag} must be numbers separated by commas; got {given!r}") from None
        if values.size == 1:
            values = np.full(n_in, values[0])
        if values.size != n_in:
            raise _Abort(
                f"--{flag} has {values.size} numbers but {args.model.name} has {n_in} input(s)"
            )
        if not np.isfinite(values).all():
            raise _Abort(f"--{flag} must be finite; got {values.tolist()}")
        corners.append(values)
    lower, upper = corners
    if (lower > upper).any():
        i = int(np.argmax(lower > upper))
        raise _Abort(
            f"--lower must not exceed --upper; got {float(lower[i])} > {float(upper[i])} "
            f"at input {i}"
        )
    return lower, upper


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
