"""Every desired item knows where it came from: the manifest line, or the export's file and row."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from authform.importing.source import load_import_set
from authform.manifest import load_manifest
from authform.manifest.diagnostics import Location
from authform.provenance import describe, display_path, manifest_origin
from authform.workflow import desired_state

FIXTURES = Path(__file__).parent.parent / "fixtures"

MANIFEST = """\
version: 1
target: {provider: workos, api_key: k, client_id: c}
permissions:
  - {slug: "billing:manage", name: Manage billing}
roles:
  - slug: admin
    name: Admin
    permissions: ["billing:manage"]
users:
  source:
    kind: clerk-csv
    path: exports/users.csv
    organizations: exports/organizations.json
    memberships: exports/memberships.json
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "authform.yaml").write_text(MANIFEST, encoding="utf-8")
    shutil.copytree(FIXTURES / "clerk", tmp_path / "config" / "exports")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_manifest_items_carry_file_line_and_column_relative_to_the_working_directory(repo):
    loaded = load_manifest(repo / "config" / "authform.yaml")
    desired, _ = desired_state(loaded, None)
    origins = {r.address: r.origin for r in desired}
    assert origins == {
        "permission.billing:manage": {"file": "config/authform.yaml", "line": 4, "column": 5},
        "role.admin": {"file": "config/authform.yaml", "line": 6, "column": 5},
    }


def test_imported_records_carry_their_file_and_row(repo):
    loaded = load_manifest(repo / "config" / "authform.yaml")
    import_set = load_import_set(loaded.manifest.users)
    lines = (repo / "config" / "exports" / "users.csv").read_text().splitlines()
    row_of = {line.split(",", 1)[0]: number for number, line in enumerate(lines, 1)}
    assert import_set.users
    for user in import_set.users:
        assert user.origin == {"file": "config/exports/users.csv", "row": row_of[user.key]}
    organization = import_set.organizations[0]
    assert organization.origin == {"file": "config/exports/organizations.json", "row": 1}
    assert all(
        m.origin["file"] == "config/exports/memberships.json" for m in import_set.memberships
    )
    assert all(isinstance(m.origin["row"], int) for m in import_set.memberships)


def test_origin_is_never_compared():
    loaded_a = manifest_origin(Location("a.yaml", 1, 1))
    from authform.resources import Kind, Resource

    assert Resource(Kind.ROLE, "x", {}, origin=loaded_a) == Resource(Kind.ROLE, "x", {})


def test_paths_outside_the_working_directory_are_never_absolute(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / ".git").mkdir(parents=True)
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    assert display_path(str(elsewhere / "auth" / "a.yaml")) == "auth/a.yaml"
    assert display_path(str(tmp_path / "loose.yaml")) == "loose.yaml"


def test_describe_is_a_link_free_location():
    assert describe({"file": "a.yaml", "line": 3, "column": 5}) == "a.yaml:3:5"
    assert describe({"file": "users.csv", "row": 12}) == "users.csv row 12"
    assert describe({"api": "user_2abc"}) == "Clerk API user_2abc"
    assert describe({}) == ""


def test_records_read_from_the_clerk_api_carry_their_record_id(clerk_export_emulator):
    from authform.importing.build import build_import_set
    from authform.sources.clerk_api import ClerkApiSource

    async def read() -> tuple[list, list, list]:
        base_url = f"{clerk_export_emulator.url}/v1"
        async with ClerkApiSource(clerk_export_emulator.api_key, base_url=base_url) as clerk:
            return (
                [u async for u in clerk.iter_users()],
                [o async for o in clerk.iter_organizations()],
                [m async for m in clerk.iter_memberships()],
            )

    users, organizations, memberships = asyncio.run(read())
    import_set = build_import_set(users, organizations, memberships)
    assert import_set.users and import_set.organizations and import_set.memberships
    for user in import_set.users:
        assert user.origin == {"api": user.key}
    for organization in import_set.organizations:
        assert organization.origin == {"api": organization.key}
    source_ids = {m.id for m in memberships}
    for membership in import_set.memberships:
        assert membership.origin["api"] in source_ids
        assert membership.origin["api"].startswith("orgmem_")
