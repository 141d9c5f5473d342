"""Every dependency earns its place (issue 10, item 8): the product imports each one, outside
the emulators for those the design names for the product itself, and states a lower bound that
.ci/run tests exactly."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "src" / "authform"
# distribution name -> the module it provides
MODULES = {"pyyaml": "yaml"}
# Used where a user needs it, not only by the emulators: the design names them for that.
OUTSIDE_EMULATORS = {"pyyaml", "pydantic", "httpx", "jsonschema", "deepdiff", "bcrypt", "typer"}
# Not imported, yet needed: httpcore imports it on every request when present (see pyproject).
NOT_IMPORTED = {"sniffio"}


def dependencies() -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return project["project"]["dependencies"]


def imported_modules(*, skip: str | None = None) -> set[str]:
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        if skip and skip in path.relative_to(SOURCE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def test_every_dependency_is_imported_by_the_product() -> None:
    everywhere = imported_modules()
    outside = imported_modules(skip="emulators")
    names = [re.split(r"[<>=!~ ;\[]", requirement)[0].lower() for requirement in dependencies()]
    assert "rich" not in names and "click" not in names
    for name in names:
        module = MODULES.get(name, name)
        if name in NOT_IMPORTED:
            assert module not in everywhere
            continue
        assert module in everywhere, f"{name} is a dependency nothing imports"
        if name in OUTSIDE_EMULATORS:
            assert module in outside, f"{name} serves only the emulators"


def test_every_dependency_has_the_lower_bound_ci_installs() -> None:
    constraints = subprocess.run(
        [sys.executable, str(REPO / ".ci" / "lowest_constraints.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    assert len(constraints) == len(dependencies())
    assert "typer==0.26" in constraints and "pydantic==2.11" in constraints
