"""The emulators' shape, checked from their source: every module imports, no import circle
between emulator modules (type-only and function-level imports count: a circle is a design
problem before it is a runtime one), and no class grows past 600 lines."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import authform.emulators

PACKAGE = "authform.emulators"
ROOT = Path(authform.emulators.__file__).resolve().parent
MAX_CLASS_LINES = 600


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


MODULES = {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def imported_modules(name: str, path: Path) -> set[str]:
    """The emulator modules ``name`` imports anywhere in its source."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            # ``from . import x`` names a module; ``from .m import f`` names module m.
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        found.update(target for target in targets if target in MODULES and target != name)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for following in sorted(graph[node]):
            if state.get(following) == "open":
                return [*stack[stack.index(following) :], following]
            if following not in state and (cycle := visit(following)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_emulator_module_imports(name: str) -> None:
    importlib.import_module(name)


def test_the_emulator_import_graph_has_no_cycle() -> None:
    graph = {name: imported_modules(name, path) for name, path in MODULES.items()}
    assert graph[f"{PACKAGE}.workos.backend"] >= {f"{PACKAGE}.workos.seed"}  # edges are seen
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_emulator_class_is_longer_than_600_lines() -> None:
    too_long = [
        f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for name, path in MODULES.items()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_CLASS_LINES
    ]
    assert not too_long
