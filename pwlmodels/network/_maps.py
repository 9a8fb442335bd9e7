"""Affine maps of a parsed network on given activation patterns (numpy only).

Shared by :mod:`pwlmodels.regions` (local maps, region polytopes, ``partition``)
and the region enumeration of ``relu_to_pwa`` (``pwlmodels._walk``, ``_plane``).
Patterns are coded as in :func:`pwlmodels.regions.activation_pattern`.
"""

from __future__ import annotations

import numpy as np

from ._parse import Activation, Affine

__all__ = ["halfspaces", "maps", "piece_index", "slope_offset"]


def piece_index(op: Activation, code: np.ndarray) -> np.ndarray:
    return code.astype(np.intp) + (1 if op.name == "hardtanh" else 0)


def slope_offset(op: Activation, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sigma(z) = slope * z + offset on each unit's piece."""
    width = code.shape[-1]
    slopes = np.broadcast_to(op.slopes, (op.slopes.shape[0], width))
    jumps = np.diff(slopes, axis=0) * op.kinks[:, None]
    offsets = op.offset - np.concatenate([np.zeros((1, width)), np.cumsum(jumps, axis=0)])
    r, cols = piece_index(op, code), np.arange(width)
    return slopes[r, cols], offsets[r, cols]


def maps(ops: list, codes: list, n: int, n_in: int) -> tuple[list, np.ndarray, np.ndarray]:
    """Each activation layer's input map (g, h), and the output map, for patterns ``codes``."""
    g, h = np.broadcast_to(np.eye(n_in), (n, n_in, n_in)), np.zeros((n, n_in))
    pre, it = [], iter(codes)
    for op in ops:
        if isinstance(op, Affine):
            g, h = op.weight @ g, h @ op.weight.T + op.bias
        else:
            pre.append((g, h))
            s, t = slope_offset(op, next(it))
            g, h = s[:, :, None] * g, s * h + t
    return pre, np.asarray(g), h


def halfspaces(ops: list, codes: list, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows a (N, m, n_in) and bounds b (N, m) of each point's region; b = inf: no kink."""
    pre, _, _ = maps(ops, codes, *pts.shape)
    rows, rhs = [np.zeros((*pts.shape[:1], 0, pts.shape[1]))], [np.zeros((len(pts), 0))]
    acts = [op for op in ops if isinstance(op, Activation)]
    for (g, h), op, code in zip(pre, acts, codes, strict=True):
        padded, r = np.concatenate([[-np.inf], op.kinks, [np.inf]]), piece_index(op, code)
        rows += [-g, g]
        rhs += [h - padded[r], padded[r + 1] - h]
    return np.concatenate(rows, axis=1), np.concatenate(rhs, axis=1)
