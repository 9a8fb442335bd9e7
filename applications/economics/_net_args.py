"""The checks of the network solver's structured arguments: its starting network and domain."""

from __future__ import annotations

import torch

from pwlmodels._validate import plain

from ._model import as_pair

__all__: list[str] = []


def _check_init(init: object) -> None:
    """``init`` a Sequential with finite parameters mapping (3, 2) to (3, 2), or an error."""
    if not isinstance(init, torch.nn.Sequential):
        raise TypeError(f"`init` must be a torch.nn.Sequential or None; got {type(init).__name__}")
    params = list(init.parameters())
    if not params:
        raise ValueError("`init` must have parameters to train; got a network without any")
    if not all(bool(torch.isfinite(w).all()) for w in params):
        raise ValueError("`init` must have finite parameters; got NaN or inf in its weights")
    probe = torch.zeros(3, 2, dtype=params[0].dtype, device=params[0].device)
    try:
        with torch.no_grad():
            shape = tuple(init(probe).shape)
    except (RuntimeError, ValueError, IndexError) as err:
        raise ValueError(f"`init` must take 2 inputs (assets, income); it failed: {err}") from err
    if shape != (3, 2):
        raise ValueError(
            f"`init` must map (N, 2) inputs to (N, 2) outputs (zeta, eta); got (3, 2) -> {shape}"
        )


def _check_domain(domain: object, b: float) -> tuple[float, float]:
    lo, hi = as_pair(domain, "domain")
    if lo != -b or not hi > lo:
        raise ValueError(
            f"`domain` must be (-borrowing_limit, hi) with hi > -borrowing_limit = {plain(-b)!r}; "
            f"got {plain(tuple(domain))!r}"
        )
    return lo, hi
