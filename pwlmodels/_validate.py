"""Argument checks shared by the public functions (the one validation path).

Every helper takes the argument's public name so that messages follow one
template: "`knots` must be strictly increasing; got knots[3] = 2.0 <=
knots[2] = 2.0".
"""

from __future__ import annotations

import math
import numbers
from decimal import Decimal

import numpy as np

__all__: list[str] = []

_ACCEPTED = "a real array of float32/float64 or integer values"


def _reject_bad_dtype(dtype: np.dtype, name: str) -> None:
    if dtype.kind == "c":
        raise TypeError(f"`{name}` must be real; got complex dtype {dtype}")
    if dtype.kind not in "iuf" and dtype.kind != "b":
        raise TypeError(f"`{name}` must be {_ACCEPTED}; got dtype {dtype}")
    if dtype.kind == "b":
        raise TypeError(f"`{name}` must be {_ACCEPTED}; got boolean values")
    if dtype.kind == "f" and dtype.itemsize < 4:
        raise TypeError(
            f"`{name}` has dtype {dtype}, whose rounding would dominate every "
            "result; convert it to float32 or float64 first"
        )


def as_float_array(x: object, name: str) -> np.ndarray:
    """Convert ``x`` to a float64 ndarray, refusing lossy or non-numeric data."""
    if _is_torch_tensor(x):
        import torch

        if x.dtype in (torch.float16, torch.bfloat16):
            raise TypeError(
                f"`{name}` has dtype {x.dtype}, whose rounding would dominate every "
                "result; convert it to float32 or float64 first"
            )
        if x.is_complex():
            raise TypeError(f"`{name}` must be real; got complex dtype {x.dtype}")
        x = x.detach().cpu().numpy()
    if isinstance(x, (str, bytes)):
        raise TypeError(f"`{name}` must be {_ACCEPTED}; got a string")
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested sequences
        raise TypeError(f"`{name}` must be {_ACCEPTED}; got {type(x).__name__}") from exc
    _reject_bad_dtype(arr.dtype, name)
    return arr.astype(np.float64, copy=False)


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise a ValueError naming the first non-finite entry of ``arr``."""
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = np.unravel_index(int(np.argmax(bad)), arr.shape) if arr.ndim else ()
        where = f"{name}[{', '.join(map(str, idx))}]" if arr.ndim else name
        raise ValueError(f"`{name}` must be finite; got {where} = {float(arr[idx])!r}")


def as_finite_1d(x: object, name: str, *, min_size: int = 0) -> np.ndarray:
    """A finite float64 vector of at least ``min_size`` entries."""
    arr = as_float_array(x, name)
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be 1-D; got an array of shape {arr.shape}")
    if arr.size < min_size:
        raise ValueError(
            f"`{name}` must have at least {min_size} {'entry' if min_size == 1 else 'entries'}; "
            f"got {arr.size}"
        )
    check_finite(arr, name)
    return arr


def as_knots(x: object, name: str = "knots", *, min_size: int = 1) -> np.ndarray:
    """A finite, strictly increasing float64 vector."""
    arr = as_finite_1d(x, name, min_size=min_size)
    step = np.diff(arr)
    if (step <= 0).any():
        i = int(np.argmax(step <= 0)) + 1
        raise ValueError(
            f"`{name}` must be strictly increasing; got {name}[{i}] = {float(arr[i])!r} "
            f"<= {name}[{i - 1}] = {float(arr[i - 1])!r}"
        )
    return arr


def as_real_scalar(x: object, name: str, *, finite: bool = True) -> float:
    """A Python float from a real number (not bool, complex, string or half precision)."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None and str(dtype) in ("float16", "torch.float16", "torch.bfloat16"):
        raise TypeError(
            f"`{name}` has dtype {dtype}, whose rounding would dominate every result; "
            "give a float32 or float64 number"
        )
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        if isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "iuf":
            x = x.item()
        elif _is_torch_tensor(x) and x.ndim == 0 and x.is_floating_point():
            x = x.item()
        else:
            raise TypeError(f"`{name}` must be a real number; got {type(x).__name__}")
    try:
        value = float(x)
    except OverflowError:  # an integer beyond float64's range
        value = math.inf if x > 0 else -math.inf
    if finite and not np.isfinite(value):
        raise ValueError(f"`{name}` must be finite; got {value!r}")
    return value


def check_choice(value: object, name: str, choices: tuple) -> None:
    """Raise a ValueError listing ``choices`` when ``value`` is not one of them."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}` must be one of {listed}; got {plain(value)!r}")


def check_module(net: object, name: str = "net") -> None:
    """Raise a TypeError unless ``net`` is a ``torch.nn.Module``."""
    from torch import nn

    if not isinstance(net, nn.Module):
        raise TypeError(f"`{name}` must be a torch.nn.Module; got {type(net).__name__}")


def _is_torch_tensor(x: object) -> bool:
    mod = type(x).__module__
    return mod.startswith("torch") and type(x).__name__ in ("Tensor", "Parameter")


def is_real(x: object) -> bool:
    """Whether ``x`` is a real scalar (not bool): a Python or numpy number or 0-d array."""
    if isinstance(x, (bool, np.bool_)):
        return False
    if isinstance(x, numbers.Real):
        return True
    return isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "iuf"


def plain(x: object) -> object:
    """``x`` with numpy scalars made Python numbers, for messages (``1.0``, not
    ``np.float64(1.0)``); tuples and lists element by element, anything else as is."""
    if isinstance(x, np.generic) or (isinstance(x, np.ndarray) and x.ndim == 0):
        return x.item()
    if isinstance(x, (tuple, list)):
        return type(x)(plain(v) for v in x)
    return x


def check_int(value: object, name: str, *, minimum: int = 1, maximum: int | None = None) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer; got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}; got {int(value)}")
    if maximum is not None and value > maximum:
        raise ValueError(f"`{name}` must be at most {maximum}; got {int(value)}")
    return int(value)


def round_outward(value: Decimal, up: bool) -> float:
    """The float64 nearest the decimal ``value`` on one side: the least double >= it
    (``up``) or the greatest <= it, so a bound read from text holds the bound written.

    ``float(value)`` itself (+-inf) when it overflows; the caller refuses that.
    """
    near = float(value)
    if math.isfinite(near) and (Decimal(near) < value if up else Decimal(near) > value):
        near = math.nextafter(near, math.inf if up else -math.inf)
    return near
