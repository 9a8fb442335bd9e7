"""Shared fixtures of the application tests."""

from __future__ import annotations

import pytest

from applications._checks import one_thread as _one_thread


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One torch thread per test module: the studies' tensors are small and the tests
    share 2 cores, where extra threads only contend."""
    with _one_thread():
        yield
