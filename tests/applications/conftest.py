"""Shared fixtures of the application tests."""

from __future__ import annotations

import pytest
import torch

from applications._checks import one_thread as _one_thread


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One torch thread per test module: the studies' tensors are small and the tests
    share 2 cores, where extra threads only contend."""
    with _one_thread():
        yield


@pytest.fixture
def no_computing(monkeypatch):
    """Rendering must only draw what a study's result holds: calling a network, making a
    tensor or asking pwlmodels for regions or splines raises while this is active."""

    def refuse(*args, **kwargs):
        raise AssertionError("rendering computed (a network, a tensor or a pwlmodels call)")

    monkeypatch.setattr(torch.nn.Module, "__call__", refuse)
    for name in ("as_tensor", "tensor", "get_num_threads"):
        monkeypatch.setattr(torch, name, refuse)
    for name in ("relu_to_spline", "partition", "activation_pattern", "local_affine"):
        monkeypatch.setattr(f"pwlmodels.{name}", refuse)
