"""SplineModule: a PiecewiseLinear as a fast, differentiable torch module."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from .._numeric import nearer_end_table
from ._torch import check_device, check_dtype, rounded_to_float32

if TYPE_CHECKING:
    from ..spline import PiecewiseLinear

__all__ = ["SplineModule"]


class SplineModule(nn.Module):
    """A PiecewiseLinear evaluated with ``torch.searchsorted`` (any shape in and out).

    Each point is evaluated from the nearer end of its piece, ``v_j + s *
    (x - t_j)``, as :meth:`PiecewiseLinear.__call__` does, with the same
    error bound ``2 u |y| + 6 u |s| |d| + eta (1 + |d|)`` (``d`` the
    computed ``x - t_j``; ``u``, ``eta`` the unit roundoff and smallest
    subnormal of ``dtype``). In float64 it is taken against the spline
    itself. In float32 the knots, values and end slopes are rounded to
    float32 first, the interior slopes recomputed from the rounded data
    (in float64, then rounded), and the bound holds against the spline of
    the rounded data; a ValueError names the entry when rounding would
    overflow, flush a nonzero number below float32's normal range or
    merge two knots. Differentiable in the input (the derivative is the
    right slope at knots). Built by :meth:`PiecewiseLinear.to_torch`.
    """

    def __init__(self, spline: PiecewiseLinear, *, dtype=None, device=None) -> None:
        super().__init__()
        dtype = torch.float64 if dtype is None else check_dtype(dtype)
        device = check_device(device)
        knots, values, slopes = spline.knots, spline.values, spline.slopes
        if dtype == torch.float32:
            knots, values, slopes = rounded_to_float32(spline)
        data = [
            np.array(a, dtype=np.float32 if dtype == torch.float32 else np.float64)
            for a in (knots, values, slopes)
        ]  # the table is computed in `dtype`
        names = ("knots", "values", "slopes", "_edges", "_base_t", "_base_v", "_slope")
        for name, arr in zip(names, (*data, *nearer_end_table(*data)), strict=True):
            tensor = torch.as_tensor(arr, device=device)
            self.register_buffer(name, tensor, persistent=not name.startswith("_"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        j = torch.searchsorted(self._edges, x.contiguous(), right=True)
        return self._base_v[j] + self._slope[j] * (x - self._base_t[j])

    def extra_repr(self) -> str:
        return f"knots={self.knots.numel()}, dtype={self.knots.dtype}"
