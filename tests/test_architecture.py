"""The package's shape: no import circle, no module over 500 lines, a test module per module.

The import graph is read from the source with ``ast`` (nothing is imported). An edge is an
import at module level (run when the module loads) or a deferred one (inside a function or
under ``if TYPE_CHECKING:``); a circle of module-level edges fails, a circle that needs a
deferred edge is reported as a warning.
"""

from __future__ import annotations

import ast
import functools
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "rlsr_bench"
TESTS = ROOT / "tests"
MAX_LINES = 500

#: Modules without a test module of their own, and why. Keep it short; a reason each.
NO_TEST_MODULE: dict[str, str] = {}


#: Import circles closed by a deferred import (inside a function), to be removed by their owners.
KNOWN_DEFERRED_CIRCLES: dict[frozenset[str], str] = {}


def _modules() -> dict[str, Path]:
    """Map each dotted module name under rlsr_bench/ to its file."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _owner(name: str, known: dict[str, Path]) -> str | None:
    """Return the longest known module that ``name`` is or lies in."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _from_module(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """Return the absolute module name of a ``from X import ...`` (relative ones resolved)."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _import_targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """Return the dotted names an import statement asks for (a module, or a name in one)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    prefix = _from_module(node, module, is_package)
    return [f"{prefix}.{alias.name}" for alias in node.names]


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _walk_imports(tree: ast.AST) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Yield each import with whether it is deferred (in a function or a TYPE_CHECKING block)."""
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, deferred = stack.pop()
        for child in ast.iter_child_nodes(node):
            inner = deferred or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, inner
            elif _is_type_checking(child):
                stack.append((child, True))
            else:
                stack.append((child, inner))


def import_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Return (module-level edges, deferred edges) between rlsr_bench modules."""
    eager: dict[str, set[str]] = {name: set() for name in MODULES}
    deferred: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, is_deferred in _walk_imports(tree):
            for wanted in _import_targets(node, name, path.name == "__init__.py"):
                target = _owner(wanted, MODULES)
                if target is not None and target != name:
                    (deferred if is_deferred else eager)[name].add(target)
    return eager, deferred


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_cycle_finder_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_graph_sees_known_edges():
    eager, deferred = import_graph()
    assert "rlsr_bench.registry.base" in eager["rlsr_bench.registry"]
    assert "rlsr_bench.verdict" in eager["rlsr_bench"]
    assert "rlsr_bench.paths" in deferred["rlsr_bench"]  # tasks_path() imports it lazily


def test_no_import_circle_at_module_level():
    eager, _ = import_graph()
    assert cycles(eager) == [], "modules that import each other when they load"


def test_no_new_import_circle_through_deferred_imports():
    """A circle closed only by an import inside a function: known ones warn, new ones fail."""
    eager, deferred = import_graph()
    both = {name: eager[name] | deferred[name] for name in MODULES}
    found = {frozenset(component) for component in cycles(both)}
    for component in sorted(found & set(KNOWN_DEFERRED_CIRCLES), key=sorted):
        names = " <-> ".join(sorted(component))
        warnings.warn(f"{names}: {KNOWN_DEFERRED_CIRCLES[component]}", stacklevel=1)
    assert sorted(sorted(c) for c in found - set(KNOWN_DEFERRED_CIRCLES)) == []


def test_no_module_over_500_lines():
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in MODULES.values()
    }
    assert {path: n for path, n in sizes.items() if n > MAX_LINES} == {}


# --- tests/ mirrors the package ---------------------------------------------------------


def _expected_test_module(name: str) -> Path:
    """Return tests/<sub-package>/test_<module>.py for rlsr_bench.<sub-package>.<module>."""
    parts = name.split(".")[1:]
    return TESTS.joinpath(*parts[:-1], f"test_{parts[-1]}.py")


def _reexports() -> dict[str, str]:
    """Map 'package.name' to the module defining a name a package __init__ re-exports."""
    out = {}
    for name, path in MODULES.items():
        if path.name != "__init__.py":
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom):
                source = _owner(_from_module(node, name, True), MODULES)
                for alias in node.names:
                    if source and source != name:
                        out[f"{name}.{alias.asname or alias.name}"] = source
    return out


def _modules_imported_by(test_file: Path, reexports: dict[str, str]) -> set[str]:
    """Return the rlsr_bench modules a test file imports (through package re-exports too)."""
    found = set()
    tree = ast.parse(test_file.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for wanted in _import_targets(node, "tests", False):
                if wanted in reexports:
                    found.add(reexports[wanted])
                target = _owner(wanted, MODULES)
                if target:
                    found.add(target)
    return found


@functools.cache
def _untested_modules() -> tuple[str, ...]:
    """Return the modules with neither a mirrored test module nor one importing them."""
    reexports = _reexports()
    imported = {
        folder: set().union(*(_modules_imported_by(t, reexports) for t in folder.glob("test_*.py")))
        for folder in {p.parent for p in TESTS.rglob("test_*.py")}
    }
    missing = []
    for name, path in MODULES.items():
        if path.name == "__init__.py" or name in NO_TEST_MODULE:
            continue
        expected = _expected_test_module(name)
        if expected.is_file():
            continue
        # a sub-package module may be tested by another test module of the mirrored folder
        folder = expected.parent
        if folder != TESTS and name in imported.get(folder, set()):
            continue
        missing.append(f"{name} -> {expected.relative_to(ROOT)}")
    return tuple(missing)


def test_every_subpackage_has_a_test_folder():
    packages = [n for n, p in MODULES.items() if p.name == "__init__.py" and n != "rlsr_bench"]
    assert [p for p in packages if not (TESTS / p.split(".", 1)[1]).is_dir()] == []


def test_exemptions_name_real_modules():
    assert sorted(set(NO_TEST_MODULE) - set(MODULES)) == []


def _area(name: str) -> str:
    """Return 'top-level' for rlsr_bench.<module>, else the sub-package's name."""
    parts = name.split(".")
    return "top-level" if len(parts) <= 2 else parts[1]


AREAS = sorted({_area(name) for name in MODULES})


@pytest.mark.parametrize("area", AREAS)
def test_every_module_has_a_test_module(area):
    missing = [line for line in _untested_modules() if _area(line.split(" -> ")[0]) == area]
    assert not missing, "modules without a test module:\n" + "\n".join(missing)


if __name__ == "__main__":
    print("\n".join(_untested_modules()))
