"""Which package may import which: a provider (a target) never depends on a user-import
source, a source never depends on a provider's own module, and the Clerk API client both
use belongs to neither (``authform.apis``). Read from the source text, so an import inside a
function counts as much as one at the top."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "authform"
# What a source may use from authform.providers: the shared HTTP layer and its error type,
# which every API client is built on; never a provider itself.
SHARED_TRANSPORT = frozenset({"authform.providers.http", "authform.providers.base"})


def imported_modules(path: Path, root: Path = PACKAGE.parent) -> set[str]:
    """Every module ``path`` (below ``root``) imports, absolute, relative imports resolved."""
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _modules(subpackage: str) -> list[Path]:
    return sorted((PACKAGE / subpackage).rglob("*.py"))


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _is_a_provider(module: str) -> bool:
    """A provider's own module: anything in authform.providers but the shared transport."""
    return _within(module, "authform.providers") and not any(
        _within(module, shared) for shared in SHARED_TRANSPORT
    )


def _is_a_source(module: str) -> bool:
    return _within(module, "authform.sources")


def _forbidden_imports(path: Path, forbidden: list[Callable[[str], bool]]) -> list[str]:
    return sorted(m for m in imported_modules(path) if any(rule(m) for rule in forbidden))


@pytest.mark.parametrize("path", _modules("providers"), ids=lambda p: p.name)
def test_no_provider_imports_a_source(path: Path) -> None:
    assert _forbidden_imports(path, [_is_a_source]) == [], path.name


@pytest.mark.parametrize("path", _modules("sources"), ids=lambda p: p.name)
def test_no_source_imports_a_provider(path: Path) -> None:
    assert _forbidden_imports(path, [_is_a_provider]) == [], path.name


@pytest.mark.parametrize("path", _modules("apis"), ids=lambda p: p.name)
def test_the_api_clients_import_neither_sources_nor_providers(path: Path) -> None:
    assert _forbidden_imports(path, [_is_a_source, _is_a_provider]) == [], path.name


def test_the_clerk_source_and_target_share_one_client() -> None:
    for user in (PACKAGE / "sources" / "clerk_api.py", PACKAGE / "providers" / "clerk.py"):
        assert "authform.apis.clerk.clerk_api_client" in imported_modules(user), user.name


def test_the_checker_sees_every_kind_of_import(tmp_path: Path) -> None:
    """The guard above cannot pass by missing an import: a module with a top-level, a
    lazy (in-function) and a relative import of a source shows all three."""
    module = tmp_path / "authform" / "providers" / "probe.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "import authform.sources.records\n"
        "def build():\n"
        "    from authform.sources.clerk_api import ClerkApiSource\n"
        "    from ..sources import clerk_csv\n"
    )
    found = imported_modules(module, tmp_path)
    assert {
        "authform.sources.records",
        "authform.sources.clerk_api",
        "authform.sources.clerk_csv",
    } <= found
