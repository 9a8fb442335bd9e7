"""Shared by the modules that build torch objects: device, dtype and float32-range checks,
and a ReLU network from its weight matrices."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from .._validate import as_float_array, check_finite, plain

if TYPE_CHECKING:
    from ..spline import PiecewiseLinear

__all__ = [
    "UNIT",
    "as_data",
    "check_device",
    "check_dtype",
    "check_float32_range",
    "resolve_device",
    "relu_sequential",
    "rounded_to_float32",
]

F32 = np.finfo(np.float32)
UNIT = {torch.float64: 2.0**-53, torch.float32: 2.0**-24}  # unit roundoff per dtype


def resolve_device(device: torch.device | str | None) -> torch.device:
    """The ``torch.device`` meant by a ``device`` argument, checked to be usable.

    Parameters
    ----------
    device : None, "auto", str or torch.device
        None means CPU, as in torch; ``"auto"`` CUDA when available, else
        CPU; else a CPU or CUDA device (``"cuda:1"``) that exists here.

    Returns
    -------
    torch.device

    Examples
    --------
    >>> import torch
    >>> from pwlmodels.nets import resolve_device
    >>> resolve_device(None)
    device(type='cpu')
    >>> resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    True
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if device and torch.cuda.is_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"`device` must be None, a string or a torch.device; got {device!r}")
    kind, index = _device_kind_and_index(device)
    if kind == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if (index or 0) >= count:
            have = f"only {count} CUDA device(s) exist" if count else "CUDA is not available"
            raise ValueError(
                f"`device` is {str(device)!r} but {have} (torch {torch.__version__}); use "
                "device='cpu', or device='auto' to take CUDA only when present"
            )
    return torch.device(kind, index) if index is not None else torch.device(kind)


_MAX_INDEX = {"cpu": 0, "cuda": 2**31 - 1}


def _device_kind_and_index(device: str | torch.device) -> tuple[str, int | None]:
    """("cpu" or "cuda", index or None), parsed without ``torch.device`` for strings.

    Some torch builds keep a device index in 8 bits (``torch.device("cuda:999")``
    is ``cuda:-25``), so 'cuda:N' is parsed here.
    """
    if isinstance(device, torch.device):
        kind, index = device.type, device.index
    else:
        kind, sep, digits = device.partition(":")
        index = int(digits) if sep and digits.isascii() and digits.isdigit() else None
        if sep and index is None:
            kind = ""
    if kind not in ("cpu", "cuda") or (index is not None and not 0 <= index <= _MAX_INDEX[kind]):
        raise ValueError(f"`device` must be None, 'auto', 'cpu' or 'cuda[:N]'; got {device!r}")
    return kind, index


def check_dtype(dtype: object) -> torch.dtype:
    if not isinstance(dtype, torch.dtype) or dtype not in UNIT:
        raise TypeError(f"`dtype` must be torch.float64 or torch.float32; got {plain(dtype)!r}")
    return dtype


def check_device(device: object) -> torch.device:
    """A usable device: a ValueError (not torch's AssertionError) for missing CUDA."""
    return resolve_device(device)


def check_float32_range(parts: list[tuple[str, str, np.ndarray]]) -> None:
    """Every nonzero number must be a normal float32: none overflows or loses precision.

    ``parts`` holds (argument, what, float64 array); the first offending
    entry gets a ValueError naming the argument.
    """
    for arg, what, arr in parts:
        arr = np.atleast_1d(np.asarray(arr, dtype=np.float64))
        mag = np.abs(arr)
        bad = (mag != 0) & ((mag < F32.tiny) | (mag > F32.max))
        if bad.any():
            i = int(np.argmax(bad))
            where = f"{what}[{i}]" if arr.size > 1 else what
            side = "overflows" if mag[i] > F32.max else "underflows"
            raise ValueError(
                f"`{arg}` does not fit float32: {where} = {float(arr[i])!r} {side} float32, "
                f"whose nonzero normal numbers have magnitudes in [{float(F32.tiny):.7g}, "
                f"{float(F32.max):.7g}]; use dtype=torch.float64 or rescale `{arg}`"
            )


def rounded_to_float32(f: PiecewiseLinear) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Knots, values and slopes of ``f`` with its data rounded to float32 (held in float64)."""
    check_float32_range(
        [
            ("spline", "knots", f.knots),
            ("spline", "values", f.values),
            ("spline", "left_slope", f.left_slope),
            ("spline", "right_slope", f.right_slope),
        ]
    )
    t = f.knots.astype(np.float32).astype(np.float64)
    v = f.values.astype(np.float32).astype(np.float64)
    merged = np.diff(t) <= 0
    if merged.any():
        i = int(np.argmax(merged))
        raise ValueError(
            f"`spline` does not fit float32: knots[{i}] = {float(f.knots[i])!r} and "
            f"knots[{i + 1}] = {float(f.knots[i + 1])!r} round to the same float32 "
            f"{float(t[i])!r}; use dtype=torch.float64"
        )
    inner = np.diff(v) / np.diff(t)
    check_float32_range([("spline", "the float32 slopes", inner)])
    ends = np.float32([f.left_slope, f.right_slope]).astype(np.float64)
    slopes = np.concatenate([ends[:1], inner, ends[1:]]).astype(np.float32).astype(np.float64)
    return t, v, slopes


def as_data(value: object, name: str, like: torch.Tensor) -> torch.Tensor:
    arr = as_float_array(value, name)
    if arr.ndim not in (1, 2) or arr.shape[0] == 0:
        raise ValueError(f"`{name}` must have shape (N,) or (N, k) with N >= 1; got {arr.shape}")
    check_finite(arr, name)
    tensor = torch.as_tensor(arr, dtype=like.dtype, device=like.device)
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"`{name}` overflows the net's {like.dtype}; rescale it or use float64")
    return tensor if tensor.ndim == 2 else tensor[:, None]


def relu_sequential(
    layers, *, dtype: torch.dtype = torch.float64, device: torch.device | str | None = None
) -> torch.nn.Sequential:
    """``Linear, ReLU, ..., Linear`` with the weights and biases of ``layers``.

    ``layers`` is a sequence of ``(W, b, ...)`` (numpy arrays of shape (out, in) and
    (out,); anything after ``b`` is ignored), copied exactly when already of ``dtype``.
    """
    mods: list[torch.nn.Module] = []
    for i, (W, b, *_) in enumerate(layers):
        lin = torch.nn.Linear(W.shape[1], W.shape[0], dtype=dtype, device=device)
        with torch.no_grad():
            lin.weight.copy_(torch.as_tensor(np.asarray(W)))
            lin.bias.copy_(torch.as_tensor(np.asarray(b)))
        mods.append(lin)
        if i < len(layers) - 1:
            mods.append(torch.nn.ReLU())
    return torch.nn.Sequential(*mods)
