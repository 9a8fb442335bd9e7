"""The architecture's layering, checked on the source (AST, no tool needed).

- no import cycles among the modules of the library and of the applications
  (imports inside functions count; ``if TYPE_CHECKING:`` blocks do not);
- no module takes a ``_private`` name from a public module;
- the library never imports ``applications``;
- the numpy core (splines, fits, PiecewiseAffine, Polytope) imports and works with
  torch absent, and ``import pwlmodels`` loads neither torch nor pandas nor matplotlib;
- no module is over 800 lines.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "pwlmodels"
MAX_LINES = 800


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    module_name(p): p
    for folder in (LIBRARY, ROOT / "applications")
    for p in sorted(folder.rglob("*.py"))
}
LIBRARY_MODULES = [name for name in MODULES if name.split(".")[0] == "pwlmodels"]


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def imports(name: str) -> list[tuple[str, str | None, int]]:
    """(module imported, name taken from it or None, line) for every import of ``name``."""
    tree = ast.parse(MODULES[name].read_text())
    out = []
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if _type_checking(node):
            todo.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            out += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package(name) else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            out += [(source, alias.name, node.lineno) for alias in node.names]
        todo.extend(ast.iter_child_nodes(node))
    return out


def edges(name: str) -> set[str]:
    """The library modules ``name`` imports (a name that is a submodule counts as that)."""
    out = set()
    for source, taken, _ in imports(name):
        sub = f"{source}.{taken}" if taken else None
        if sub in MODULES:
            out.add(sub)
        elif source in MODULES:
            out.add(source)
    out.discard(name)
    return out


def test_the_checker_sees_imports_inside_functions_and_skips_type_checking():
    seen = edges("pwlmodels.spline")  # to_torch imports SplineModule inside a function
    assert "pwlmodels.network._spline_module" in seen
    assert "pwlmodels.spline" not in edges("pwlmodels.network._spline_module")  # TYPE_CHECKING


def test_no_import_cycles():
    graph = {name: edges(name) for name in MODULES}
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)


def _public(module: str) -> bool:
    return not any(part.startswith("_") for part in module.split("."))


def test_no_private_name_is_taken_from_a_public_module():
    bad = [
        f"{MODULES[name].relative_to(ROOT)}:{line} takes {taken} from {source}"
        for name in MODULES
        for source, taken, line in imports(name)
        if source in MODULES
        and _public(source)
        and taken
        and taken.startswith("_")
        and not taken.startswith("__")
        and f"{source}.{taken}" not in MODULES
    ]
    assert not bad, "\n".join(bad)


def test_the_library_never_imports_the_applications():
    bad = [
        f"{name}:{line}"
        for name in LIBRARY_MODULES
        for source, _, line in imports(name)
        if source == "applications" or source.startswith("applications.")
    ]
    assert not bad


def test_no_module_is_over_800_lines():
    long = {
        name: n for name, p in MODULES.items() if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_numpy_core_works_without_torch():
    done = run_python(
        """
        import sys
        sys.modules["torch"] = None  # import torch now raises ImportError
        import numpy as np
        import pwlmodels
        from pwlmodels import PiecewiseLinear, compose, fit_pwl, maximum
        from pwlmodels.fit import select_knots
        f = PiecewiseLinear([0.0, 1.0, 2.0], [0.0, 1.0, 0.0])
        g = maximum(f, compose(f, f))
        x = np.linspace(0.0, 2.0, 41)
        fit = fit_pwl(x, f(x), n_knots=1)
        assert abs(fit.knots[0] - 1.0) < 1e-9, fit.knots
        assert select_knots(x, f(x), max_knots=2).knots.size >= 1
        print(float(g(0.5)))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0.5"


def test_piecewise_affine_and_polytope_work_without_torch():
    done = run_python(
        """
        import sys
        sys.modules["torch"] = None  # import torch now raises ImportError
        import numpy as np
        from pwlmodels import PiecewiseAffine, PiecewiseLinear, Polytope
        f = PiecewiseAffine.from_triangulation([[0, 0], [1, 0], [0, 1], [1, 1]], [0, 1, 1, 3])
        g = PiecewiseAffine.from_regions(list(zip(f.regions, *f.maps)))
        h = PiecewiseAffine.from_spline(PiecewiseLinear([0.0, 1.0], [0.0, 2.0]), 0.0, 1.0)
        assert g.allclose(f) and f.simplify().restrict(0.0, 0.5).n_regions == 2
        assert Polytope(np.vstack([np.eye(3), -np.eye(3)]), np.ones(6)).volume() == 8.0
        print(float(f([0.5, 0.5])), float(h(0.25)), f.max(), sys.modules["torch"])
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1.5 0.5 3.0 None"


@pytest.mark.parametrize(
    "statement",
    [
        "import pwlmodels",
        "import pwlmodels.spline",
        "import pwlmodels.fit",
        "import pwlmodels.pwa",
        "import pwlmodels.cli",
    ],
)
def test_importing_the_core_loads_no_heavy_dependency(statement):
    done = run_python(
        f"""
        import sys
        {statement}
        print(sorted(m for m in ("torch", "pandas", "matplotlib", "scipy.optimize")
                     if m in sys.modules))
        """
    )
    assert done.returncode == 0, done.stderr
    heavy = done.stdout.strip()
    if statement == "import pwlmodels.fit":
        assert heavy in ("['scipy.optimize']", "[]")  # the least-squares solvers
    else:
        assert heavy == "[]"


def test_version_loads_no_torch():
    done = run_python(
        """
        import sys
        from pwlmodels.cli import main
        try:
            main(["--version"])
        except SystemExit:
            pass
        print("torch" in sys.modules)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
