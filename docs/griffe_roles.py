"""A griffe extension for the API pages: Sphinx roles in docstrings become links.

pwlmodels' numpydoc docstrings cross-reference with Sphinx roles
(:func:`rounding_bound`, :meth:`PiecewiseLinear.to_torch`), which
mkdocstrings would show literally. Each role becomes an optional autorefs
link to the object's canonical path when griffe can resolve the name from the
docstring's scope or the package root, else plain inline code; an optional
link whose target is not on the site renders as code too, so no role can make
`mkdocs build --strict` fail. Loaded by mkdocs.yml (mkdocstrings-python's
``extensions`` option); not part of the package.
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|meth|class|attr|mod|data|exc|obj):`(~?)([^`<>]+)`")


def _resolve(obj: griffe.Object, pkg: griffe.Module, name: str) -> str | None:
    name = name.removesuffix("()")
    if name.startswith(f"{pkg.name}."):
        name = name[len(pkg.name) + 1 :]
    scopes: list[griffe.Object] = []
    scope: griffe.Object | None = obj
    while scope is not None:
        scopes.append(scope)
        scope = scope.parent
    for scope in [*scopes, pkg]:
        try:
            return scope[name].canonical_path
        except Exception:  # unknown names and unresolvable aliases alike
            continue
    return None


class SphinxRoles(griffe.Extension):
    """Rewrite :role:`name` in every docstring of the package once it is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        self._visit(pkg, pkg, set())

    def _visit(self, obj: griffe.Object, pkg: griffe.Module, seen: set[str]) -> None:
        if obj.path in seen:
            return
        seen.add(obj.path)
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(lambda m: self._link(m, obj, pkg), obj.docstring.value)
        for member in obj.members.values():
            if not member.is_alias:
                self._visit(member, pkg, seen)

    @staticmethod
    def _link(match: re.Match, obj: griffe.Object, pkg: griffe.Module) -> str:
        short, name = match[1], match[2].strip()
        shown = name.rsplit(".", 1)[-1] if short else name
        code = f"<code>{html.escape(shown)}</code>"
        target = _resolve(obj, pkg, name)
        if target is None:
            return f"`{shown}`"
        return f'<autoref identifier="{html.escape(target)}" optional>{code}</autoref>'
