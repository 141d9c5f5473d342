"""Fixtures for the KavachOS target: one database per test, on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
import os
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from authform.cli import app

from .databases import (
    KavachDatabase,
    PostgresServer,
    drop_postgres_database,
    postgres_database,
    sqlite_database,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ADA_PASSWORD = "correct horse battery staple"
_names = itertools.count()

MANIFEST = """
version: 1
target: {provider: kavachos, database_url: "${env:DATABASE_URL}"}
permissions:
  - {slug: "billing:manage", name: Manage billing}
  - {slug: "reports:read", name: Read reports}
roles:
  - {slug: admin, name: Admin, permissions: ["billing:manage", "reports:read"]}
  - {slug: member, name: Member, permissions: ["reports:read"]}
  - {slug: billing, name: Billing, permissions: ["billing:manage"]}
users:
  source:
    kind: clerk-json
    path: FIXTURES/users.json
    organizations: FIXTURES/organizations.json
    memberships: FIXTURES/memberships.json
  role_map: {"org:billing": billing}
verify:
  password_logins:
    - {email: ada@example.com, password: "${env:CANARY_PASSWORD}"}
""".replace("FIXTURES", str(FIXTURES))


def make_database(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> KavachDatabase:
    if backend == "sqlite":
        return sqlite_database(tmp_path)
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"kavach_{os.getpid()}_{next(_names)}"
    request.addfinalizer(lambda: drop_postgres_database(server, name))
    return postgres_database(server, name, backend)


@pytest.fixture(params=["sqlite", "postgres", "postgres-integer"])
def kavach_db(request: pytest.FixtureRequest, tmp_path: Path) -> KavachDatabase:
    """A KavachOS database with its tables: SQLite; PostgreSQL with KavachOS's own DDL
    (TIMESTAMPTZ/BOOLEAN/JSONB); PostgreSQL with its SQLite-flavoured DDL (INTEGER/TEXT)."""
    return make_database(request.param, request, tmp_path)


@pytest.fixture(params=["sqlite", "postgres"])
def kavach_db_two(request: pytest.FixtureRequest, tmp_path: Path) -> KavachDatabase:
    """The same, SQLite and PostgreSQL (KavachOS's own DDL) only, for slower tests."""
    return make_database(request.param, request, tmp_path)


@dataclass
class KavachCli:
    db: KavachDatabase
    folder: Path
    runner: CliRunner

    @property
    def env(self) -> dict[str, str]:
        return {"DATABASE_URL": self.db.url, "CANARY_PASSWORD": ADA_PASSWORD, "NO_COLOR": "1"}

    def write(self, text: str = MANIFEST, name: str = "authform.yaml") -> Path:
        path = self.folder / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    def run(self, *args: str, env: dict[str, str] | None = None):  # noqa: ANN201
        return self.runner.invoke(app, list(args), env={**self.env, **(env or {})})


@pytest.fixture
def kavach_cli(
    kavach_db: KavachDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> KavachCli:
    folder = tmp_path / "manifests"
    folder.mkdir()
    monkeypatch.chdir(tmp_path)  # reports land in the test's folder
    helper = KavachCli(kavach_db, folder, CliRunner())
    helper.write()
    return helper
