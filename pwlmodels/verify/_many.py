"""Many VNN-COMP instances decided by :func:`check`, serially or on a Dask cluster."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .._dask import client_for, map_batches
from .._validate import as_real_scalar, check_choice, plain

if TYPE_CHECKING:
    import pandas as pd
    import torch

__all__ = ["verify_many"]

#: The result's columns, in order (the index is the instances' own).
COLUMNS = (
    "instance",
    "onnx",
    "vnnlib",
    "time_limit",
    "status",
    "counterexample",
    "n_boxes",
    "load_s",
    "check_s",
    "notes",
)
_ERRORS = ("raise", "coerce")


def verify_many(
    instances: str | os.PathLike | pd.DataFrame,
    *,
    root: str | os.PathLike | None = None,
    time_limit: float | None = 60.0,
    client: object = None,
    progress: bool = False,
    device: str | torch.device = "cpu",
    errors: str = "raise",
) -> pd.DataFrame:
    """Decide many VNN-COMP instances (an ONNX network and a VNN-LIB property each).

    Each instance is read (:func:`pwlmodels.io.from_onnx`,
    :func:`pwlmodels.io.load_vnnlib`) and decided by :func:`check` where it
    runs: in this process one after another, or on the workers of a Dask
    cluster, one instance a task (only the paths travel; each worker reads
    its own files). The verdicts do not depend on where an instance ran.

    Parameters
    ----------
    instances : path or pandas.DataFrame
        An instances CSV with a header row naming the columns ``onnx`` and
        ``vnnlib``, optionally ``timeout`` (other columns are ignored), or
        without one, as VNN-COMP ships them (rows ``net.onnx,prop.vnnlib,
        timeout``); or a DataFrame with those columns.
    root : path, optional
        The folder the file names are relative to; by default the CSV's own
        folder, or the working directory for a DataFrame. Names are made
        absolute here, so workers on a shared file system find them.
    time_limit : float or None, default 60.0
        Seconds for each instance, reading its files included (as VNN-COMP
        counts them); None for no limit. A ``timeout`` column, as VNN-COMP's
        instances files have, wins where it holds a value: ``time_limit``
        applies only to the rows where it is empty, or when it is absent.
    client : None, "local" or dask.distributed.Client, default None
        As in :func:`pwlmodels.fit_many`: None decides here; a Client runs
        one task per instance on its workers and gathers the results in
        instance order; ``"local"`` starts a ``LocalCluster`` of one
        single-threaded worker process per core and closes it afterwards.
    progress : bool, default False
        A tqdm bar here, Dask's ``progress`` on a cluster.
    device : str or torch.device, default "cpu"
        Where each network runs (``"cuda"`` on workers with a GPU).
    errors : {"raise", "coerce"}, default "raise"
        What an instance that cannot be decided (a missing or unreadable
        file, a network and property that do not match) does: ``"raise"`` a
        ValueError naming the instance and the reason; ``"coerce"`` a row
        with status None and the reason in ``notes``, as in ``fit_many``.

    Returns
    -------
    pandas.DataFrame
        One row per instance, in the given order and with the given index:
        ``instance`` (``"<onnx stem>:<vnnlib stem>"``), ``onnx`` and
        ``vnnlib`` (absolute paths), ``time_limit`` (the seconds it had, NaN
        for none), ``status`` (``"unsat"``, ``"sat"``, ``"unknown"`` or
        ``"timeout"``, as :class:`CheckResult`), ``counterexample`` (an
        ndarray with ``"sat"``, else None), ``n_boxes``, ``load_s`` and
        ``check_s`` (seconds reading the files and deciding) and ``notes``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import pandas as pd
    >>> from pwlmodels import PiecewiseLinear, spline_to_relu
    >>> from pwlmodels.io import to_onnx
    >>> from pwlmodels.verify import verify_many
    >>> net = spline_to_relu(PiecewiseLinear([-1.0, 0.0, 1.0], [1.0, 0.0, 1.0]))  # |x|
    >>> prop = "(declare-const X_0 Real) (declare-const Y_0 Real) (assert (>= X_0 -1)) "
    >>> prop += "(assert (<= X_0 1)) (assert (>= Y_0 {}))"
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     folder = pathlib.Path(tmp)
    ...     _ = to_onnx(net, folder / "abs.onnx")
    ...     _ = (folder / "far.vnnlib").write_text(prop.format(1.5))
    ...     _ = (folder / "near.vnnlib").write_text(prop.format(0.5))
    ...     names = {"onnx": ["abs.onnx"] * 2, "vnnlib": ["far.vnnlib", "near.vnnlib"]}
    ...     table = pd.DataFrame(names)
    ...     results = verify_many(table, root=folder, time_limit=10.0)
    >>> results[["instance", "status"]].to_numpy().tolist()
    [['abs:far', 'unsat'], ['abs:near', 'sat']]
    >>> abs(float(results["counterexample"][1][0])) >= 0.5
    True
    """
    check_choice(errors, "errors", _ERRORS)
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"`progress` must be True or False; got {type(progress).__name__}")
    if time_limit is not None:
        time_limit = as_real_scalar(time_limit, "time_limit")
        if not time_limit > 0:
            raise ValueError(f"`time_limit` must be positive (or None); got {time_limit!r}")
    device = _check_device(device, serial=client is None)
    frame = _instances_frame(instances, root)
    limits = _limits(frame, time_limit)
    items = list(zip(frame["onnx"], frame["vnnlib"], limits, strict=True))
    with client_for(client) as run_on:
        if run_on is None:
            rows = _decide_here(items, device, progress, errors)
        else:
            rows = map_batches(
                _decide_batch, items, run_on, progress=progress, per_worker=None, device=device
            )
    return _finish(frame, limits, rows, errors)


# ------------------------------------------------------------------ checks
def _check_device(device: object, serial: bool) -> str:
    """``device`` as a string; resolved here (so a missing GPU fails early) when serial."""
    import torch

    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"`device` must be a string or a torch.device; got {device!r}")
    if serial:
        from ..network._torch import resolve_device

        return str(resolve_device(device))
    return str(device)


def _instances_frame(instances: object, root: object) -> pd.DataFrame:
    """The instances with absolute ``onnx`` and ``vnnlib`` paths (str)."""
    import pandas as pd

    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"`root` must be a path (str or os.PathLike); got {type(root).__name__}")
    if isinstance(instances, (str, os.PathLike)):
        path = Path(instances)
        if not path.is_file():
            raise ValueError(f"`instances` names {str(path)!r}, which is not a file")
        # only an empty field is missing: "nan" or "NA" as a timeout is refused, not the default
        text = {"skipinitialspace": True, "keep_default_na": False, "na_values": [""]}
        try:
            frame = pd.read_csv(path, dtype=str, **text)
            if _headerless(frame):  # VNN-COMP's own files: onnx,vnnlib,timeout rows only
                names = ["onnx", "vnnlib", "timeout"][: len(frame.columns)]
                frame = pd.read_csv(path, header=None, names=names, **text)
            else:
                frame = pd.read_csv(path, **text)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise ValueError(
                f"`instances`: {str(path)!r} is not a readable CSV file: {exc}"
            ) from None
        base = Path(root) if root is not None else path.resolve().parent
    elif isinstance(instances, pd.DataFrame):
        frame = instances
        base = Path(root) if root is not None else Path.cwd()
    else:
        raise TypeError(
            f"`instances` must be a path to an instances CSV or a pandas DataFrame; got "
            f"{type(instances).__name__}"
        )
    missing = [c for c in ("onnx", "vnnlib") if c not in frame.columns]
    if missing:
        raise ValueError(
            f"`instances` must have the columns 'onnx' and 'vnnlib'; it lacks {missing} (its "
            f"columns are {[str(c) for c in frame.columns]})"
        )
    if len(frame) == 0:
        raise ValueError("`instances` must list at least one instance; got none")
    out = frame.copy()
    for col in ("onnx", "vnnlib"):
        bad = [i for i, v in enumerate(frame[col]) if not isinstance(v, str) or not v.strip()]
        if bad:
            raise ValueError(
                f"`instances` column {col!r} must hold file names; row {bad[0]} holds "
                f"{plain(frame[col].iloc[bad[0]])!r}"
            )
        out[col] = [str((base / v.strip()).resolve()) for v in frame[col]]
    return out


def _headerless(frame: pd.DataFrame) -> bool:
    """Whether the first row read as a header is an instance (``x.onnx,y.vnnlib[,60]``)."""
    names = [str(c).strip().lower() for c in frame.columns]
    return (
        2 <= len(names) <= 3
        and "onnx" not in names
        and ".onnx" in names[0]
        and ".vnnlib" in names[1]
    )


def _limits(frame: pd.DataFrame, time_limit: float | None) -> list:
    """Seconds per instance: the ``timeout`` column where it holds one, else ``time_limit``."""
    import pandas as pd

    if "timeout" not in frame.columns:
        return [time_limit] * len(frame)
    given = pd.to_numeric(frame["timeout"], errors="coerce")
    bad = (given.isna() & frame["timeout"].notna()) | ~(given.isna() | (given > 0))
    bad |= np.isinf(given.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise ValueError(
            f"`instances` column 'timeout' must hold positive finite seconds (or nothing); "
            f"row {i} holds {plain(frame['timeout'].iloc[i])!r}"
        )
    return [time_limit if np.isnan(v) else float(v) for v in given.to_numpy(dtype=float)]


# ------------------------------------------------------------------ the work
def _decide_one(item: tuple, device: str) -> dict:
    """One instance read and decided; a failure gives a row with the reason under "error"."""
    from ..io._io import from_onnx
    from ..io._vnnlib import load_vnnlib
    from ..network._torch import resolve_device
    from ._check import check

    onnx, vnnlib, limit = item
    start = time.perf_counter()
    try:
        net = from_onnx(onnx).to(resolve_device(device))  # a worker without the GPU: named
        spec = load_vnnlib(vnnlib)
    except (OSError, ValueError, TypeError, ImportError) as exc:
        return {"error": _reason(exc)}
    load = time.perf_counter() - start
    row = {"load_s": load, "n_boxes": 0, "check_s": 0.0, "status": "timeout"}
    if limit is not None and limit <= load:  # reading the files took all the time
        return row
    try:
        result = check(net, spec, time_limit=None if limit is None else limit - load)
    except (ValueError, TypeError) as exc:
        return {"error": _reason(exc)}
    row |= {"status": result.status, "n_boxes": result.n_boxes, "check_s": result.time}
    row["counterexample"] = result.counterexample
    return row


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError) and exc.filename is not None:
        return f"no such file: {exc.filename}"
    return " ".join(str(exc).split()) or type(exc).__name__


def _decide_batch(batch: list, device: str) -> list:
    return [_decide_one(item, device) for item in batch]


def _decide_here(items: list, device: str, progress: bool, errors: str) -> list:
    """One instance after another in this process; with errors="raise", stop at a failure."""
    from tqdm.auto import tqdm

    rows = []
    for item in tqdm(items, desc="verify_many", disable=not progress):
        rows.append(_decide_one(item, device))
        if errors == "raise" and "error" in rows[-1]:
            break
    return rows


def _finish(frame: pd.DataFrame, limits: list, rows: list, errors: str) -> pd.DataFrame:
    """The result table; raise for the first failed instance unless errors="coerce"."""
    import pandas as pd

    keys = [
        f"{Path(a).stem}:{Path(b).stem}"
        for a, b in zip(frame["onnx"], frame["vnnlib"], strict=True)
    ]
    failed = [i for i, row in enumerate(rows) if "error" in row]
    if failed and errors == "raise":
        i = failed[0]
        raise ValueError(
            f"instance {plain(frame.index[i])!r} ({keys[i]}) failed: {rows[i]['error']}; "
            "errors='coerce' keeps such instances as rows with status None"
        )
    n_boxes = pd.array([row.get("n_boxes") for row in rows], dtype="Int64")
    notes = [(f"failed: {row['error']}",) if "error" in row else () for row in rows]

    def objects(values) -> pd.Series:  # as they are: arrays stay arrays, None stays None
        out = np.empty(len(rows), dtype=object)
        for i, v in enumerate(values):
            out[i] = v
        return pd.Series(out, index=frame.index, dtype=object)

    return pd.DataFrame(
        {
            "instance": keys,
            "onnx": frame["onnx"].to_numpy(),
            "vnnlib": frame["vnnlib"].to_numpy(),
            "time_limit": np.array([np.nan if v is None else v for v in limits], dtype=float),
            "status": objects(row.get("status") for row in rows),
            "counterexample": objects(row.get("counterexample") for row in rows),
            "n_boxes": n_boxes if failed else n_boxes.astype(np.int64),
            "load_s": np.array([row.get("load_s", np.nan) for row in rows], dtype=float),
            "check_s": np.array([row.get("check_s", np.nan) for row in rows], dtype=float),
            "notes": objects(notes),
        },
        index=frame.index,
    )
