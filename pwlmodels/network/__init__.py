"""A torch ``nn.Sequential`` read as affine maps and piecewise-linear activations.

The layer every network-side module stands on (conversion, regions,
verification, files, diagnostics, the applications): one registry of the
activations pwlmodels reads (:data:`ACTIVATIONS`, their kinks and slopes), the
layers it reads (:data:`LAYERS`), and :func:`is_piecewise_linear`.

Examples
--------
>>> import torch
>>> from pwlmodels.network import is_piecewise_linear
>>> is_piecewise_linear(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU6()))
True
>>> is_piecewise_linear(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh()))
False
"""

from ._parse import ACTIVATIONS, LAYERS, PASS_THROUGH, is_piecewise_linear

__all__ = ["ACTIVATIONS", "LAYERS", "PASS_THROUGH", "is_piecewise_linear"]
