"""The public surface: names exported, every parameter documented, an Examples section each."""

from __future__ import annotations

import inspect
import re

import pytest

import pwlmodels
from pwlmodels import PiecewiseAffine, PiecewiseLinear, Polytope

FUNCTIONS = [
    getattr(pwlmodels, name)
    for name in pwlmodels.__all__
    if inspect.isfunction(getattr(pwlmodels, name))
]
METHODS = [
    member
    for cls in (PiecewiseLinear, PiecewiseAffine, Polytope)
    for name, member in inspect.getmembers(cls)
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
    if re.search(r"Parameters (and returns )?as in :func:", doc):
        return  # documented by reference to a twin (minimize -> maximize)
    documented = set()
    # numpydoc "a, b : type", a list of names whose type is given below it, or "*args"
    pattern = r"^(\w+(?:, \w+)*) :|^(\w+(?:, \w+)+)$|^\*{1,2}(\w+)(?: :.*)?$"
    for names in re.findall(pattern, doc, flags=re.M):
        names = names[0] or names[1] or names[2]
        documented.update(names.split(", "))
    for name in inspect.signature(obj).parameters:
        if name not in ("self", "cls"):
            assert name in documented, f"{obj.__qualname__} does not document `{name}`"
