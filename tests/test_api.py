"""The public surface: names exported, every parameter documented, an Examples section each."""

from __future__ import annotations

import inspect
import re

import pytest

import pwlmodels
from pwlmodels import PiecewiseLinear

FUNCTIONS = [
    getattr(pwlmodels, name)
    for name in pwlmodels.__all__
    if inspect.isfunction(getattr(pwlmodels, name))
]
METHODS = [
    member
    for name, member in inspect.getmembers(PiecewiseLinear)
    if not name.startswith("_") and (inspect.isfunction(member) or inspect.ismethod(member))
]


def test_all_names_exist_and_version_is_set():
    for name in pwlmodels.__all__:
        assert hasattr(pwlmodels, name), name
    assert pwlmodels.__version__


@pytest.mark.parametrize("obj", FUNCTIONS + METHODS, ids=lambda o: o.__qualname__)
def test_public_callables_document_every_parameter_and_have_examples(obj):
    doc = inspect.getdoc(obj) or ""
    assert "\nExamples\n--------\n" in doc, f"{obj.__qualname__} has no Examples section"
    documented = set()
    for names in re.findall(r"^(\w+(?:, \w+)*) :", doc, flags=re.M):  # numpydoc "a, b : type"
        documented.update(names.split(", "))
    for name in inspect.signature(obj).parameters:
        if name not in ("self", "cls"):
            assert name in documented, f"{obj.__qualname__} does not document `{name}`"
