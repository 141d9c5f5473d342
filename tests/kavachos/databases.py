"""Real databases for the KavachOS tests: SQLite files and a PostgreSQL server the tests start.

The PostgreSQL server is Debian's ``postgresql`` (``.ci/run`` installs it): ``initdb`` and
``pg_ctl`` run as an unprivileged user (PostgreSQL refuses to run as root; as root the tests
use the ``postgres`` account through ``runuser``), on 127.0.0.1 and a free port, with its data
in a temporary folder, and it is stopped when the session ends. Without server binaries the
PostgreSQL tests skip locally, saying so; with ``AUTHFORM_REQUIRE_POSTGRES`` set (CI) they fail.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from authform.providers.kavachos.ddl import (
    POSTGRES_DDL,
    POSTGRES_SQLITE_FLAVOURED_DDL,
    SQLITE_DDL,
    statements,
)

START_TIMEOUT_S = 60

# Tables authform must never change, with one row each: a KavachOS session and username
# account, and the application's own table beside KavachOS's.
NEIGHBOURS_SQL = (
    "CREATE TABLE app_orders (id TEXT PRIMARY KEY, total INTEGER NOT NULL)",
    "INSERT INTO app_orders VALUES ('ord_1', 4200)",
)
UNTOUCHED_TABLES = ("app_orders", "kavach_sessions", "kavach_username_accounts")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_bindir() -> Path | None:
    """Where initdb and pg_ctl are: Debian's versioned folder first, then PATH."""
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists() and Path(candidate, "pg_ctl").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    return None


@dataclass
class PostgresServer:
    port: int
    admin_url: str

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextmanager
def running_postgres(bindir: Path, *, fsync: bool = False) -> Iterator[PostgresServer]:
    """``fsync`` off for tests (a throw-away server; nothing to lose), on for benchmarks."""
    folder = Path(tempfile.mkdtemp(prefix="authform-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, user="postgres")
    data = folder / "data"
    port = free_port()
    run = dict(check=True, capture_output=True, text=True, timeout=START_TIMEOUT_S)
    try:
        subprocess.run(
            _as_server_user(
                [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]
                + ["-E", "UTF8", "--no-sync", "--no-instructions"]
            ),
            **run,  # type: ignore[call-overload]
        )
        options = f"-h 127.0.0.1 -p {port} -k {folder} -c max_connections=50"
        options += "" if fsync else " -F"
        subprocess.run(
            _as_server_user(
                [str(bindir / "pg_ctl"), "-D", str(data), "-o", options]
                + ["-l", str(folder / "server.log"), "-w", "-t", str(START_TIMEOUT_S), "start"]
            ),
            **run,  # type: ignore[call-overload]
        )
        server = PostgresServer(port, f"postgresql://postgres@127.0.0.1:{port}/postgres")
        yield server
    finally:
        subprocess.run(
            _as_server_user(
                [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "-t", "30"]
                + ["stop"]
            ),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(folder, ignore_errors=True)


def postgres_server_session() -> Iterator[PostgresServer]:
    """The body of the session fixture ``postgres_server`` (tests/conftest.py)."""
    import pytest

    bindir = postgres_bindir()
    if bindir is None:
        if os.environ.get("AUTHFORM_REQUIRE_POSTGRES"):
            pytest.fail("AUTHFORM_REQUIRE_POSTGRES is set but no initdb/pg_ctl was found")
        pytest.skip(
            "no PostgreSQL server binaries (initdb, pg_ctl) on this machine: install Debian's "
            "postgresql to run the PostgreSQL tests (CI does, and never skips them)"
        )
    with running_postgres(bindir) as server:
        yield server


def _pg(url: str) -> Any:
    import psycopg

    return psycopg.connect(url, autocommit=True)


@dataclass
class KavachDatabase:
    """One KavachOS database for one test, and ways to look inside it."""

    backend: str  # sqlite | postgres | postgres-integer
    url: str

    @property
    def postgres(self) -> bool:
        return self.backend.startswith("postgres")

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.postgres:
            with _pg(self.url) as db:
                return list(db.execute(sql.replace("?", "%s"), params).fetchall())
        path = self.url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as db:
            rows = list(db.execute(sql, params).fetchall())
        db.close()
        return rows

    def execute(self, *sqls: str) -> None:
        if self.postgres:
            with _pg(self.url) as db:
                for sql in sqls:
                    db.execute(sql)
            return
        path = self.url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as db:
            for sql in sqls:
                db.execute(sql)
        db.close()

    def count(self, table: str) -> int:
        return int(self.query(f"SELECT count(*) FROM {table}")[0][0])

    def tables(self) -> list[str]:
        if self.postgres:
            rows = self.query(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() ORDER BY 1"
            )
        else:
            rows = self.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1")
        return [r[0] for r in rows]

    def snapshot(self, tables: tuple[str, ...] | None = None) -> dict[str, list[str]]:
        """Every row of every table (or of ``tables``), for "nothing changed" checks."""
        return {
            table: sorted(repr(row) for row in self.query(f"SELECT * FROM {table}"))
            for table in (tables or tuple(self.tables()))
        }


def sqlite_database(folder: Path, ddl: str = SQLITE_DDL) -> KavachDatabase:
    path = folder / "kavach.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(ddl)
        for sql in NEIGHBOURS_SQL:
            db.execute(sql)
    db.close()
    return KavachDatabase("sqlite", f"sqlite:///{path}")


def postgres_database(server: PostgresServer, name: str, backend: str) -> KavachDatabase:
    with _pg(server.admin_url) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    database = KavachDatabase(backend, server.url(name))
    ddl = POSTGRES_DDL if backend == "postgres" else POSTGRES_SQLITE_FLAVOURED_DDL
    database.execute(*statements(ddl), *NEIGHBOURS_SQL)
    return database


def add_native_user(database: KavachDatabase) -> None:
    """A user who signed up in KavachOS itself, with a session: not authform's to touch."""
    native = database.backend == "postgres"
    created = "'2023-11-14T22:13:20Z'" if native else "1700000000"
    expires = "'2030-03-17T17:46:40Z'" if native else "1900000000"
    database.execute(
        "INSERT INTO kavach_users (id, email, created_at, updated_at) "
        f"VALUES ('usr_native', 'native@example.net', {created}, {created})",
        f"INSERT INTO kavach_sessions VALUES ('ses_1', 'usr_native', {expires}, NULL, {created})",
    )


def drop_postgres_database(server: PostgresServer, name: str) -> None:
    with _pg(server.admin_url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def synthetic_manifest(folder: Path, users: int, organizations: int, per_user: int) -> Path:
    """A KavachOS manifest importing a synthetic Clerk export of that size (bcrypt digests)."""
    from authform.sources.synthetic import write_synthetic_export

    export = write_synthetic_export(
        folder / "export", users=users, organizations=organizations, memberships_per_user=per_user
    )
    path = folder / "synthetic.yaml"
    path.write_text(
        f"""version: 1
target: {{provider: kavachos, database_url: "${{env:DATABASE_URL}}"}}
users:
  source:
    kind: clerk-csv
    path: {export.users_csv}
    organizations: {export.organizations_json}
    memberships: {export.memberships_json}
""",
        encoding="utf-8",
    )
    return path
