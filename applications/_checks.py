"""Small helpers the three studies share: integer arguments, one torch thread."""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Iterator

import numpy as np
import torch

__all__ = ["check_count", "one_thread"]


def check_count(value: object, name: str, minimum: int) -> int:
    """``value`` as an int, at least ``minimum``; TypeError / ValueError naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer; got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}; got {value}")
    return int(value)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """One intra-op torch thread while the body runs (the tensors are small: threads only
    contend), restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
