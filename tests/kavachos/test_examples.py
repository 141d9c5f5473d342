"""The same manifests on KavachOS: the portable example plans with only `target` changed, the
KavachOS example converges on SQLite and PostgreSQL, and `--emulate` needs no database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from authform.cli import app
from authform.emulated_tenant import emulator_state_file

from .databases import KavachDatabase
from .portable import EXAMPLES, portable_on_kavachos


def cli(*args: str, env: dict[str, str] | None = None):  # noqa: ANN201
    return CliRunner().invoke(app, list(args), env={"NO_COLOR": "1", **(env or {})})


def test_portable_example_plans_on_kavachos_with_only_the_target_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = portable_on_kavachos(tmp_path)
    monkeypatch.chdir(tmp_path)
    plan = cli("plan", "--emulate", str(folder))
    assert plan.exit_code == 0, plan.output
    assert "Traceback" not in plan.output
    # Kept in the application's code: manual steps that show the configuration to write.
    assert "! redirect_uri.https://app.example.com/callback" in plan.output
    assert "! social_connection.google" in plan.output
    assert "oauth({ providers: {" in plan.output
    assert "google: createGoogleProvider({ clientId: '1234567890-abc" in plan.output
    assert "/auth/oauth/callback/google" in plan.output
    # What KavachOS cannot hold is a caveat, before any write.
    assert "organizations have no domains" in plan.output
    assert "have no member to own them (acme, globex)" in plan.output
    assert "role names and descriptions are not stored" in plan.output

    # An organization with no member has no owner KavachOS accepts: apply writes nothing for
    # it and leaves it as a manual step naming it (pending, exit 2), never a failure.
    apply = cli("apply", "--emulate", "--auto-approve", str(folder))
    assert "Traceback" not in apply.output
    assert apply.exit_code == 2, apply.output
    assert "Manual steps still to do" in apply.output
    assert "! organization.acme" in apply.output
    assert 'kavach.org.create({ name: "Acme Inc", slug: "acme", ownerId })' in apply.output
    assert "Error" not in apply.output
    database = next((tmp_path / ".authform").glob("*/kavachos.sqlite3"))
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM kavach_organizations").fetchone() == (0,)
    db.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_kavachos_example_converges(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .conftest import make_database

    db: KavachDatabase = make_database(backend, request, tmp_path)
    monkeypatch.chdir(tmp_path)
    env = {"DATABASE_URL": db.url}
    example = str(EXAMPLES / "kavachos")
    apply = cli("apply", "--auto-approve", example, env=env)
    assert apply.exit_code == 0, apply.output
    assert db.count("kavach_users") == 5 and db.count("kavach_org_members") == 4
    plan = cli("plan", "--detailed-exitcode", example, env=env)
    assert plan.exit_code == 0, plan.output
    verify = cli("verify", example, env=env)
    assert verify.exit_code == 0, verify.output
    mapping = (tmp_path / "authform-reports" / "id-mapping.json").read_text()
    assert "user_2aAda0000000000000000001" in mapping


def test_emulate_quickstart_needs_no_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    example = str(EXAMPLES / "kavachos")
    apply = cli("apply", "--emulate", "--auto-approve", example)
    assert apply.exit_code == 0, apply.output
    state = emulator_state_file(example, "kavachos")  # the manifest's own emulated tenant
    assert state.exists()
    with sqlite3.connect(state) as db:
        users = db.execute("SELECT count(*) FROM kavach_users").fetchone()[0]
    db.close()
    assert users == 5
    assert cli("plan", "--emulate", "--detailed-exitcode", example).exit_code == 0
    assert cli("drift", "--emulate", example).exit_code == 0


def test_emulator_kavachos_makes_a_database_the_example_converges_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`authform emulator kavachos` is the KavachOS emulator: a SQLite file with its tables
    (no server: KavachOS has no admin API), whose URL a manifest's database_url takes."""
    monkeypatch.chdir(tmp_path)
    made = cli("emulator", "kavachos")
    assert made.exit_code == 0, made.output
    database = tmp_path / ".authform" / "kavachos.sqlite3"
    assert f"DATABASE_URL=sqlite:///{database}" in made.output
    env = {"DATABASE_URL": f"sqlite:///{database}"}
    example = str(EXAMPLES / "kavachos")
    assert cli("apply", "--auto-approve", example, env=env).exit_code == 0
    # Run again on the same file: its rows are kept, and the example has converged.
    assert cli("emulator", "kavachos", "--db", str(database)).exit_code == 0
    plan = cli("plan", "--detailed-exitcode", example, env=env)
    assert plan.exit_code == 0, plan.output
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM kavach_users").fetchone() == (5,)
    db.close()


def test_saved_plan_applies_as_reviewed_and_refuses_a_database_changed_since(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    example = str(EXAMPLES / "kavachos")
    assert cli("plan", "--emulate", example, "--out", "reviewed.json").exit_code == 0
    assert "$2a$" not in (tmp_path / "reviewed.json").read_text()  # no digest in the file
    assert cli("apply", "--emulate", "--auto-approve", "reviewed.json").exit_code == 0

    state = emulator_state_file(example, "kavachos")
    assert cli("plan", "--emulate", example, "--out", "second.json").exit_code == 0
    with sqlite3.connect(state) as db:
        db.execute("UPDATE kavach_users SET name = 'Someone Else' WHERE email = 'ada@example.com'")
    db.close()
    stale = cli("apply", "--emulate", "--auto-approve", "second.json")
    assert stale.exit_code == 1, stale.output
    assert "Traceback" not in stale.output
    with sqlite3.connect(state) as db:
        name = db.execute("SELECT name FROM kavach_users WHERE email = 'ada@example.com'")
        assert name.fetchone()[0] == "Someone Else"  # nothing applied
    db.close()
