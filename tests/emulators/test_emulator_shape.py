"""The shape issue 13 asks of an emulator package, kept: no class over 600 lines, and no
import circle among its modules. Packages are listed as they are reshaped; an emulator still
in one module is not a package yet."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

EMULATORS = Path(__file__).resolve().parents[2] / "src" / "authform" / "emulators"
PACKAGES = ["clerk"]
MAX_CLASS_LINES = 600


def modules(package: str) -> dict[str, ast.Module]:
    return {path.stem: ast.parse(path.read_text()) for path in (EMULATORS / package).glob("*.py")}


@pytest.mark.parametrize("package", PACKAGES)
def test_no_class_is_over_600_lines(package: str) -> None:
    sizes = {
        f"{name}.{node.name}": (node.end_lineno or node.lineno) - node.lineno + 1
        for name, tree in modules(package).items()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    }
    assert sizes and max(sizes.values()) <= MAX_CLASS_LINES, sorted(sizes.items())


@pytest.mark.parametrize("package", PACKAGES)
def test_the_package_has_no_import_circle(package: str) -> None:
    trees = modules(package)
    imports = {
        name: {
            node.module.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module
        }
        & set(trees)
        for name, tree in trees.items()
    }

    assert on_a_circle(imports) == [], "modules on an import circle"


def on_a_circle(imports: dict[str, set[str]]) -> list[str]:
    """The modules from which their own imports lead back to them."""

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for module in imports.get(start, set()) - seen:
            if module == target or reaches(module, target, seen | {module}):
                return True
        return False

    return sorted(name for name in imports if reaches(name, name, set()))


def test_the_circle_check_finds_a_circle() -> None:
    assert on_a_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c"]
