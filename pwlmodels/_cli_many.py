"""``pwlmodels verify --instances``: every instance of a VNN-COMP instances CSV, by verify_many."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

import numpy as np

from ._dask import import_distributed
from ._files import atomic_open, check_paths

__all__: list[str] = []

_ADDRESS = re.compile(r"[a-z][a-z0-9+.-]*://\S+")
_CONNECT = "10s"  # a scheduler that does not answer in this long is reported, not waited for


def decide_instances(
    instances: Path, address: str | None, time_limit: float | None, out: Path | None
) -> int:
    """Decide every instance, print a line each and a summary; write ``out`` (CSV) atomically."""
    from .verify._many import _instances_frame, verify_many

    check_paths([("--instances", instances)], [("--out", out)])
    if out is not None:  # nor over a network or property the instances name
        listed = _instances_frame(instances, None)
        files = {*listed["onnx"], *listed["vnnlib"]}
        check_paths([("in --instances", Path(f)) for f in sorted(files)], [("--out", out)])
    with _client(address) as client:  # a failed instance is a row: the others still count
        results = verify_many(
            instances,
            time_limit=60.0 if time_limit is None else time_limit,
            client=client,
            errors="coerce",
        )
    width = max(len(k) for k in results["instance"])
    failed = results["status"].isna().to_numpy()
    for (_, row), bad in zip(results.iterrows(), failed, strict=True):
        seconds = "" if bad else f"{row['load_s'] + row['check_s']:8.2f} s"
        boxes = "" if bad else f"{row['n_boxes']:9d} boxes"
        print(
            f"{row['instance']:{width}s} {'error' if bad else row['status']:7s} {seconds} {boxes}"
        )
    decided = int(results["status"].isin(["sat", "unsat"]).sum())
    line = f"decided {decided} of {len(results)} instance(s)"
    if out is not None:
        table = results.assign(
            counterexample=[_floats(x) for x in results["counterexample"]],
            notes=["; ".join(n) for n in results["notes"]],
        )
        with atomic_open(out) as fh:
            fh.write(table.to_csv(index=False).encode())
        line += f"; wrote {out}"
    print(line)
    if failed.any():  # after the verdicts and the file: exit status 2, the first reason
        i = int(np.argmax(failed))
        raise ValueError(
            f"{int(failed.sum())} instance(s) failed (status 'error'); the first, "
            f"{results['instance'].iloc[i]}: {results['notes'].iloc[i][0]}"
        )
    return 0


def _client(address: str | None):
    """None or "local" as they are; a scheduler address as a Client closed afterwards."""
    if address is None or address == "local":
        return contextlib.nullcontext(address)
    if not _ADDRESS.fullmatch(address):
        raise ValueError(
            f"--client must be 'local' or a Dask scheduler's address such as "
            f"tcp://host:8786; got {address!r}"
        )
    return import_distributed().Client(address, timeout=_CONNECT)


def _floats(x: np.ndarray | None) -> str:
    """A counterexample as a JSON list of floats (shortest repr: read back bit for bit)."""
    return "" if x is None else json.dumps([float(v) for v in x])
