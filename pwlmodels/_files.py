"""Atomic file output: write to a temporary file in the same folder, then rename it."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__: list[str] = []


@contextlib.contextmanager
def atomic_open(path: str | Path) -> Iterator[BinaryIO]:
    """A binary file that replaces ``path`` only when the block ends without an error.

    It is written under a temporary name in ``path``'s folder (which must
    exist), given the mode the umask allows (not mkstemp's private 0600) and
    renamed over ``path``; on an error it is removed and ``path`` is untouched.
    A missing folder, a folder that is a file, or a ``path`` that is a folder
    raise FileNotFoundError, NotADirectoryError or IsADirectoryError naming
    ``path`` (never the temporary file) before anything is written; a ``path``
    that is a device, FIFO or socket raises FileExistsError (a rename would
    replace it). A symbolic link is kept: the file it names is replaced.
    """
    path = Path(path)
    if path.is_symlink():  # replace the file it names, as open() would write it; keep it
        path = Path(os.path.realpath(path))
    _check_target(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except FileNotFoundError:  # the folder vanished since the check
        _check_target(path)
        raise
    except PermissionError:  # named by its temporary file otherwise
        raise PermissionError(
            errno.EACCES, f"cannot write {str(path)!r}: its folder is not writable"
        ) from None
    umask = os.umask(0)
    os.umask(umask)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _check_target(path: Path) -> None:
    """Raise an OSError naming ``path`` when it cannot be written as a file."""
    folder = path.parent
    if not folder.exists():
        raise FileNotFoundError(
            errno.ENOENT, f"cannot write {str(path)!r}: its folder {str(folder)!r} does not exist"
        )
    if not folder.is_dir():
        raise NotADirectoryError(
            errno.ENOTDIR, f"cannot write {str(path)!r}: {str(folder)!r} is a file, not a folder"
        )
    if path.is_dir():
        raise IsADirectoryError(
            errno.EISDIR, f"cannot write {str(path)!r}: it is a folder; give a file name"
        )
    if path.exists() and not path.is_file():  # a rename would replace a device or FIFO
        raise FileExistsError(
            errno.EEXIST,
            f"cannot write {str(path)!r}: it is not a regular file (a device, FIFO or "
            "socket); give a file name",
        )


def check_paths(inputs: list[tuple[str, Path]], outputs: list[tuple[str, Path | None]]) -> None:
    """Refuse, before any work, an output that would overwrite an input or another output.

    Paths are compared resolved (``os.path.realpath``: ``./a.csv``, ``a.csv``
    and a symbolic link to it are one file), and by ``os.path.samefile`` when
    both exist (hard links, case-insensitive file systems).
    """
    given = [(flag, path) for flag, path in outputs if path is not None]
    for flag, path in given:
        if not path.parent.is_dir():
            raise ValueError(f"the folder of {flag} {str(path)!r} does not exist")
        if path.is_dir():
            raise ValueError(f"{flag} {str(path)!r} is a folder; give a file name")
        if path.exists() and not path.is_file():
            raise ValueError(f"{flag} {str(path)!r} is not a regular file; give a file name")
    for i, (flag, path) in enumerate(given):
        for other_flag, other in inputs:
            if same_file(path, other):
                raise ValueError(
                    f"{flag} {str(path)!r} is the input {str(other)!r} ({other_flag}); "
                    "writing it would destroy the input, so nothing was written: "
                    "give another file name"
                )
        for other_flag, other in given[:i]:
            if same_file(path, other):
                raise ValueError(
                    f"{flag} {str(path)!r} and {other_flag} {str(other)!r} are the same file; "
                    "give each output its own file name"
                )


def same_file(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False
