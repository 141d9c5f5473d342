"""Hostile KavachOS targets: bad database URLs, missing or reshaped tables, read-only
databases, unreachable servers. Each is refused with a message naming what is wrong, exit 1,
no traceback, and the database exactly as it was (no write, not even a created file)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from kavachos.conftest import ADA_PASSWORD, MANIFEST
from kavachos.databases import (
    KavachDatabase,
    PostgresServer,
    drop_postgres_database,
    free_port,
    postgres_database,
    sqlite_database,
)
from typer.testing import CliRunner

from authform.cli import app

from .refusal import assert_refused


def run(folder: Path, manifest: str, *args: str, url: str = ""):  # noqa: ANN201
    path = folder / "authform.yaml"
    path.write_text(manifest, encoding="utf-8")
    env = {"DATABASE_URL": url, "CANARY_PASSWORD": ADA_PASSWORD, "NO_COLOR": "1"}
    command = list(args or ("plan",))
    extra = ["--auto-approve"] if command[0] == "apply" else []
    return CliRunner().invoke(app, [*command, str(path), *extra], env=env)


def target(line: str) -> str:
    return MANIFEST.replace(
        'target: {provider: kavachos, database_url: "${env:DATABASE_URL}"}', line
    )


# ---- the manifest's target -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            'target: {provider: kavachos, database_url: "mysql://u:p@db/kavach"}',
            r"authform\.yaml:3:\d+: .*database_url must start with sqlite:/// .* not 'mysql'",
        ),
        (
            'target: {provider: kavachos, database_url: "sqlite:///"}',
            r"authform\.yaml:3:\d+: .*needs a file path after sqlite:///",
        ),
        (
            'target: {provider: kavachos, database_url: "sqlite:relative.db"}',
            r"authform\.yaml:3:\d+: .*database_url must start with sqlite:///",
        ),
        (
            "target: {provider: kavachos}",
            r"authform\.yaml:3:\d+: .*missing required key 'database_url' for provider "
            r"'kavachos'",
        ),
        (
            'target: {provider: kavachos, database_url: "sqlite:///x.db", api_key: "sk_1"}',
            r"authform\.yaml:3:\d+: target\.api_key: api_key is not used by provider 'kavachos'",
        ),
        (
            'target: {provider: workos, api_key: "sk_1", database_url: "sqlite:///x.db"}',
            r"authform\.yaml:3:\d+: target\.database_url: database_url is only used by provider "
            r"'kavachos'",
        ),
        (
            'target: {provider: kavachos, database_url: "sqlite:///x.db", '
            "legacy_passwords: rehash}",
            r"authform\.yaml:3:\d+: target\.legacy_passwords: invalid legacy_passwords 'rehash' "
            r"\(expected one of: keep, reset\)",
        ),
    ],
    ids=[
        "mysql-url",
        "sqlite-without-path",
        "sqlite-without-slashes",
        "no-database-url",
        "api-key-on-kavachos",
        "database-url-on-workos",
        "unknown-legacy-passwords",
    ],
)
def test_bad_target_is_refused_at_its_place(tmp_path: Path, line: str, message: str) -> None:
    result = run(tmp_path, target(line))
    assert_refused(result, message)
    assert not (tmp_path / "x.db").exists()
    assert "u:p@" not in result.output  # a URL's password is never shown


def test_database_url_password_is_never_shown(tmp_path: Path) -> None:
    url = "mysql://admin:hunter2-secret@db.internal/kavach"
    result = run(tmp_path, MANIFEST, url=url)
    assert_refused(result, r"database_url must start with sqlite:///")
    assert "hunter2-secret" not in result.output


# ---- SQLite databases ----------------------------------------------------------------------


def _drop_table(table: str) -> Callable[[sqlite3.Connection], None]:
    return lambda db: db.execute(f"DROP TABLE {table}")


def _retype_users_created_at(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE kavach_users RENAME COLUMN created_at TO created_old")
    db.execute("ALTER TABLE kavach_users ADD COLUMN created_at TEXT")


def _drop_oauth_account_id(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE kavach_oauth_accounts DROP COLUMN provider_account_id")


def _require_tenant(db: sqlite3.Connection) -> None:
    db.execute("DROP TABLE kavach_org_roles")
    db.execute(
        "CREATE TABLE kavach_org_roles (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, "
        "name TEXT NOT NULL, permissions TEXT NOT NULL, tenant_id TEXT NOT NULL)"
    )


def _json_as_integer(db: sqlite3.Connection) -> None:
    db.execute("DROP TABLE kavach_org_roles")
    db.execute(
        "CREATE TABLE kavach_org_roles (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, "
        "name TEXT NOT NULL, permissions INTEGER NOT NULL)"
    )


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            _drop_table("kavach_users"),
            r"table kavach_users is missing \(createKavach\(\) creates it",
        ),
        (
            _drop_table("kavach_email_accounts"),
            r"table kavach_email_accounts is missing \(the emailPassword plugin",
        ),
        (
            _drop_table("kavach_org_members"),
            r"table kavach_org_members is missing",
        ),
        (
            _retype_users_created_at,
            r"kavach_users\.created_at is TEXT, but KavachOS 0\.2\.1 stores a timestamp",
        ),
        (
            _drop_oauth_account_id,
            r"kavach_oauth_accounts\.provider_account_id is missing",
        ),
        (
            _require_tenant,
            r"kavach_org_roles\.tenant_id is NOT NULL without a default",
        ),
        (
            _json_as_integer,
            r"kavach_org_roles\.permissions is INTEGER, but KavachOS 0\.2\.1 stores a JSON",
        ),
    ],
    ids=[
        "no-users-table",
        "no-email-table",
        "no-members-table",
        "timestamp-as-text",
        "missing-column",
        "extra-required-column",
        "json-as-integer",
    ],
)
@pytest.mark.parametrize("command", ["plan", "apply"])
def test_sqlite_of_another_shape_is_refused_before_any_write(
    tmp_path: Path, damage: Callable[[sqlite3.Connection], None], message: str, command: str
) -> None:
    db = sqlite_database(tmp_path)
    path = db.url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as raw:
        damage(raw)
    raw.close()
    before = db.snapshot()
    result = run(tmp_path, MANIFEST, command, url=db.url)
    assert_refused(
        result,
        r"is not a KavachOS 0\.2\.1 database authform can write; nothing "
        r"was written(.|\n)*" + message,
    )
    assert db.snapshot() == before


def test_empty_sqlite_file_names_every_missing_table(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    sqlite3.connect(path).close()
    result = run(tmp_path, MANIFEST, "apply", url=f"sqlite:///{path}")
    assert_refused(result, "table kavach_users is missing")
    for table in (
        "kavach_email_accounts",
        "kavach_oauth_accounts",
        "kavach_org_members",
        "kavach_org_roles",
        "kavach_organizations",
    ):
        assert f"table {table} is missing" in result.output
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    raw.close()


def test_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.sqlite3"
    result = run(tmp_path, MANIFEST, "apply", url=f"sqlite:///{path}")
    assert_refused(result, r"SQLite database .*nowhere\.sqlite3 does not exist")
    assert not path.exists()


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are not the tables you are looking for\n" * 20)
    before = path.read_bytes()
    result = run(tmp_path, MANIFEST, "apply", url=f"sqlite:///{path}")
    assert_refused(result, r"notes\.txt: .*(not a database|cannot open)")
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("suffix", "message"),
    [
        ("?mode=ro", r"is opened read-only \(mode=ro\)"),
        ("?mode=memory", r"takes only \?mode=ro or \?mode=rw, not mode=memory"),
        ("?cache=shared", r"takes only \?mode=ro or \?mode=rw, not cache"),
    ],
    ids=["read-only", "memory-mode", "unknown-option"],
)
def test_sqlite_url_options(tmp_path: Path, suffix: str, message: str) -> None:
    db = sqlite_database(tmp_path)
    before = db.snapshot()
    result = run(tmp_path, MANIFEST, "apply", url=db.url + suffix)
    assert_refused(result, message)
    assert db.snapshot() == before


def test_sqlite_with_ddl_of_another_dialect_is_refused(tmp_path: Path) -> None:
    """KavachOS's PostgreSQL DDL types (TIMESTAMPTZ, BOOLEAN, JSONB) on a SQLite file."""
    from authform.providers.kavachos.ddl import POSTGRES_DDL

    db = sqlite_database(tmp_path, POSTGRES_DDL)
    before = db.snapshot()
    result = run(tmp_path, MANIFEST, "apply", url=db.url)
    assert_refused(result, r"kavach_users\.created_at is TIMESTAMPTZ, but KavachOS 0\.2\.1")
    assert db.snapshot() == before


# ---- PostgreSQL ----------------------------------------------------------------------------


def test_unreachable_postgres_is_refused_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://kavach:pg-secret-9@127.0.0.1:{free_port()}/kavach"
    result = run(tmp_path, MANIFEST, "apply", url=url)
    assert_refused(
        result,
        r"PostgreSQL database postgresql://kavach:\*\*\*@127\.0\.0\.1:\d+/"
        r"kavach: cannot connect",
    )
    assert "pg-secret-9" not in result.output


@pytest.fixture
def postgres_db(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> KavachDatabase:
    name = f"hostile_{request.node.name.split('[')[-1].strip(']').replace('-', '_')}"[:60]
    request.addfinalizer(lambda: drop_postgres_database(postgres_server, name))
    return postgres_database(postgres_server, name, "postgres")


def test_postgres_user_without_write_privileges_is_refused(
    postgres_db: KavachDatabase, tmp_path: Path
) -> None:
    postgres_db.execute(
        "DROP ROLE IF EXISTS kavach_reader",
        "CREATE ROLE kavach_reader LOGIN",
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO kavach_reader",
    )
    reader = postgres_db.url.replace("postgres@", "kavach_reader@")
    before = postgres_db.snapshot()
    result = run(tmp_path, MANIFEST, "apply", url=reader)
    assert_refused(result, r"this user lacks INSERT, UPDATE, DELETE on kavach_users")
    assert postgres_db.snapshot() == before
    postgres_db.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM kavach_reader")


def test_postgres_read_only_session_is_refused(postgres_db: KavachDatabase, tmp_path: Path) -> None:
    url = postgres_db.url + "?options=-c%20default_transaction_read_only%3Don"
    before = postgres_db.snapshot()
    result = run(tmp_path, MANIFEST, "apply", url=url)
    assert_refused(result, r"is read-only \(transaction_read_only is on\)")
    assert postgres_db.snapshot() == before


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("DROP TABLE kavach_oauth_accounts", r"table kavach_oauth_accounts is missing"),
        (
            "ALTER TABLE kavach_users ALTER COLUMN metadata TYPE integer USING NULL",
            r"kavach_users\.metadata is integer, but KavachOS 0\.2\.1 stores a JSON",
        ),
        (
            "ALTER TABLE kavach_organizations ADD COLUMN region text NOT NULL",
            r"kavach_organizations\.region is NOT NULL without a default",
        ),
    ],
    ids=["no-oauth-table", "metadata-as-integer", "extra-required-column"],
)
def test_postgres_of_another_shape_is_refused(
    postgres_db: KavachDatabase, tmp_path: Path, damage: str, message: str
) -> None:
    postgres_db.execute(damage)
    before = postgres_db.snapshot()
    result = run(tmp_path, MANIFEST, "apply", url=postgres_db.url)
    assert_refused(result, message)
    assert postgres_db.snapshot() == before


# ---- hostile profile values in the user source -----------------------------------------------

FIXTURES = Path(__file__).resolve().parents[1] / "kavachos" / "fixtures"
OLIVIA = "user_2aOauth00000000000000004"


def _olivia_with(**fields: object) -> Callable[[dict], None]:
    def damage(user: dict) -> None:
        if user["id"] == OLIVIA:
            user.update(fields)

    return damage


@pytest.mark.parametrize(
    ("damage", "problem", "hostile"),
    [
        (
            _olivia_with(image_url="https://img.example/\x1b]8;;https://evil/\x07x.png"),
            r"image_url contains the control character U\+001B",
            "\x1b",
        ),
        (
            _olivia_with(image_url="https://img.example/\u202egnp.exe"),
            r"image_url contains the control character U\+202E",
            "\u202e",
        ),
        (
            _olivia_with(
                external_accounts=[{"provider": "oauth_goo\u200bgle", "provider_user_id": "sub-1"}]
            ),
            r"external_accounts\[0\]\.provider contains the control character U\+200B",
            "\u200b",
        ),
        (
            _olivia_with(
                external_accounts=[{"provider": "oauth_google", "provider_user_id": "sub\x00-1"}]
            ),
            r"external_accounts\[0\]\.provider_user_id contains the control character U\+0000",
            "\x00",
        ),
    ],
    ids=["esc-in-image-url", "rlo-in-image-url", "zwsp-in-oauth-provider", "nul-in-oauth-id"],
)
def test_hostile_profile_value_is_refused_and_never_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    damage: Callable[[dict], None],
    problem: str,
    hostile: str,
) -> None:
    """A profile value of the JSON export (image URL, OAuth link) is held to the same character
    rule as every other text: the user is skipped with file, item and field named, the value
    never quoted, and nothing of it reaches the database."""
    import json

    users = json.loads((FIXTURES / "users.json").read_text(encoding="utf-8"))
    for user in users:
        damage(user)
    export = tmp_path / "export"
    export.mkdir()
    (export / "users.json").write_text(json.dumps(users, indent=2), encoding="utf-8")
    for name in ("organizations.json", "memberships.json"):
        (export / name).write_text((FIXTURES / name).read_text(encoding="utf-8"), "utf-8")
    manifest = MANIFEST.replace(str(FIXTURES / "users.json"), str(export / "users.json"))
    kavach = sqlite_database(tmp_path)
    monkeypatch.chdir(tmp_path)  # the import reports land here
    result = run(tmp_path, manifest, "apply", url=kavach.url)
    # Refused record by record: the user (and its membership) is skipped and reported, the
    # rest imports, so the apply itself succeeds.
    assert_refused(result, r"users\.json:item 4 \(line \d+\): " + problem, exit_code=0)
    assert "users: 5 read, 4 to import" in result.output
    assert hostile not in result.output
    assert kavach.query("SELECT id FROM kavach_users WHERE id = ?", (OLIVIA,)) == []
    assert kavach.count("kavach_users") == 4  # the four others imported
    for table, rows in kavach.snapshot().items():
        assert not any(hostile in row for row in rows), table


# ---- authform emulator kavachos ------------------------------------------------------------


def _not_sqlite(path: Path) -> None:
    path.write_text("not a database\n", encoding="utf-8")


def _other_users_table(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE kavach_users (id TEXT PRIMARY KEY)")
    db.close()


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (_not_sqlite, r"Error: SQLite database .*bad\.db: cannot open it: file is not a database"),
        (
            _other_users_table,
            r"Error: SQLite database .*bad\.db is not a KavachOS 0\.2\.1 database authform can "
            r"write; nothing was written:\n  - kavach_users\.email is missing",
        ),
    ],
    ids=["not-sqlite", "users-table-of-another-shape"],
)
def test_emulator_kavachos_refuses_a_file_it_cannot_use(
    tmp_path: Path, prepare: Callable[[Path], None], message: str
) -> None:
    path = tmp_path / "bad.db"
    prepare(path)
    before = path.read_bytes()
    result = CliRunner().invoke(app, ["emulator", "kavachos", "--db", str(path)])
    assert_refused(result, message)
    assert path.read_bytes() == before  # no table added, nothing changed
