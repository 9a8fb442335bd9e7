"""Argument checks for the control study: one template, the argument named in every message."""

from __future__ import annotations

import numbers

import numpy as np
import torch
from torch import nn

from .._checks import check_count

__all__: list[str] = []

_ACCEPTED = "real numbers (a float array, nested lists or a torch tensor)"


def as_array(value: object, name: str) -> np.ndarray:
    """A finite float64 array; TypeError for non-numeric data, ValueError for NaN or inf."""
    if isinstance(value, torch.Tensor):
        if value.is_complex():
            raise TypeError(f"`{name}` must be real; got complex dtype {value.dtype}")
        value = value.detach().to("cpu", torch.float64).numpy()
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"`{name}` must be {_ACCEPTED}; got {type(value).__name__}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested sequences
        raise TypeError(f"`{name}` must be {_ACCEPTED}; got {type(value).__name__}") from exc
    if arr.dtype.kind == "c":
        raise TypeError(f"`{name}` must be real; got complex dtype {arr.dtype}")
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"`{name}` must be {_ACCEPTED}; got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = np.unravel_index(int(np.argmax(bad)), arr.shape) if arr.ndim else ()
        where = f"{name}[{', '.join(map(str, idx))}]" if arr.ndim else name
        raise ValueError(f"`{name}` must be finite; got {where} = {float(arr[idx])!r}")
    return arr


def as_matrix(value: object, name: str, rows: int | None = None, cols: int | None = None):
    """A finite float64 matrix of the given shape (None: any); a number is a 1 x 1 matrix."""
    arr = as_array(value, name)
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    if arr.ndim != 2 or 0 in arr.shape:
        raise ValueError(f"`{name}` must be a non-empty 2-D matrix; got shape {arr.shape}")
    want = (rows if rows is not None else arr.shape[0], cols if cols is not None else arr.shape[1])
    if arr.shape != want:
        raise ValueError(f"`{name}` must have shape {want}; got {arr.shape}")
    return arr


def check_weights(Q: object, R: object, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """LQR weights: ``Q`` (n, n) symmetric positive semidefinite, ``R`` (m, m) symmetric
    positive definite (a number when m = 1)."""
    Q, R = as_matrix(Q, "Q", n, n), as_matrix(R, "R", m, m)
    for name, mat in (("Q", Q), ("R", R)):
        if not np.allclose(mat, mat.T, rtol=1e-12, atol=1e-14 * np.abs(mat).max()):
            raise ValueError(f"`{name}` must be symmetric; got {name} - {name}' != 0")
    low = float(np.linalg.eigvalsh(Q).min())
    if low < -1e-12 * max(1.0, float(np.abs(Q).max())):
        raise ValueError(f"`Q` must be positive semidefinite; got an eigenvalue {low:.3g}")
    try:
        np.linalg.cholesky(R)
    except np.linalg.LinAlgError as exc:
        low = float(np.linalg.eigvalsh(R).min())
        raise ValueError(f"`R` must be positive definite; got an eigenvalue {low:.3g}") from exc
    return Q, R


def riccati(A: np.ndarray, B: np.ndarray, Q: np.ndarray, R: np.ndarray) -> np.ndarray:
    """The stabilizing solution of the discrete Riccati equation; a ValueError naming
    ``A``, ``B`` (and ``Q``) when there is none."""
    from scipy import linalg

    try:
        return linalg.solve_discrete_are(A, B, Q, R)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise ValueError(
            "`A`, `B` must be stabilizable and `Q`, `A` detectable: the discrete Riccati "
            f"equation has no stabilizing solution ({exc})"
        ) from exc


def as_vector(value: object, name: str, size: int) -> np.ndarray:
    """A finite float64 vector of ``size`` entries (shape (size,) or (1, size))."""
    arr = as_array(value, name)
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.shape != (size,):
        raise ValueError(f"`{name}` must have shape ({size},); got {arr.shape}")
    return arr


def as_scalar(value: object, name: str, *, positive: bool = False) -> float:
    """A finite Python float (not a bool); ``positive``: > 0."""
    if isinstance(value, (np.ndarray, torch.Tensor)) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number; got {type(value).__name__}")
    out = float(value)
    if not np.isfinite(out):
        raise ValueError(f"`{name}` must be finite; got {out!r}")
    if positive and out <= 0:
        raise ValueError(f"`{name}` must be positive; got {out!r}")
    return out


def check_choice(value: object, name: str, choices: tuple) -> str:
    """``value`` when it is one of ``choices``, else a ValueError listing them."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        shown = (
            value.item()
            if isinstance(value, (np.generic, np.ndarray)) and np.size(value) == 1
            else value
        )
        raise ValueError(f"`{name}` must be one of {listed}; got {shown!r}")
    return value


def leaves(net: nn.Module):
    """The layers of a (nested) Sequential, in order."""
    for m in net:
        yield from (leaves(m) if isinstance(m, nn.Sequential) else (m,))


def check_net(net: object, name: str = "net") -> tuple[int, int]:
    """A torch Sequential with Linear layers; returns (n_in, n_out)."""
    if not isinstance(net, nn.Sequential):
        raise TypeError(f"`{name}` must be a torch.nn.Sequential; got {type(net).__name__}")
    linears = [m for m in leaves(net) if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"`{name}` must contain at least one torch.nn.Linear layer")
    return linears[0].in_features, linears[-1].out_features


def check_seeds(seeds: object) -> tuple[int, ...]:
    """A non-empty tuple of distinct non-negative integer seeds."""
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"`seeds` must be a sequence of integers; got {type(seeds).__name__}")
    out = tuple(seeds)
    out = tuple(check_count(s, f"seeds[{i}]", 0) for i, s in enumerate(out))
    if not out:
        raise ValueError("`seeds` must hold at least one seed; got none")
    if len(set(out)) != len(out):
        raise ValueError(f"`seeds` must be distinct; got {out}")
    return out


def as_plant(A: object, B: object) -> tuple[np.ndarray, np.ndarray]:
    """``A`` square (n, n) and ``B`` as (n, 1): a plant with one input."""
    A = as_matrix(A, "A")
    n = A.shape[0]
    if A.shape != (n, n):
        raise ValueError(f"`A` must be square; got shape {A.shape}")
    B_arr = as_array(B, "B")
    return A, as_matrix(B_arr[:, None] if B_arr.ndim == 1 else B_arr, "B", n, 1)


def as_row(value: object, name: str, n: int) -> np.ndarray:
    """A finite (1, n) matrix from shape (n,) or (1, n)."""
    arr = as_array(value, name)
    return as_matrix(arr[None, :] if arr.ndim == 1 else arr, name, 1, n)
