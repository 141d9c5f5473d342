"""Safe database writes: a run killed mid-import and two concurrent runs converge, deletes
follow the policy every target follows, and nothing outside the managed tables changes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import KavachCli, make_database
from .databases import UNTOUCHED_TABLES, KavachDatabase, add_native_user, synthetic_manifest

USERS, ORGS, PER_USER = 3000, 300, 2
# The killed import's size: users are written in transactions of up to 2,000
# (``kavachos.writer.MAX_BATCH``), so 3,000 users are two transactions, and a fast machine
# committed both between two looks at the table (found: "assert 3000 < 3000"). Ten of them
# take a second or more, which the kill lands inside however fast the machine is.
KILLED_USERS = 20_000

BOUND_S = 120


def apply_process(manifest: Path, db: KavachDatabase, cwd: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": db.url, "NO_COLOR": "1"}
    command = [sys.executable, "-m", "authform.cli", "apply", str(manifest), "--auto-approve"]
    return subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def assert_converged(db: KavachDatabase, users: int = USERS) -> None:
    assert db.count("kavach_users") == users
    assert db.count("kavach_email_accounts") == users
    assert db.count("kavach_organizations") == ORGS
    assert db.count("kavach_org_members") == users * PER_USER
    assert db.count("kavach_org_roles") == ORGS * 4  # KavachOS's four seeds each
    duplicates = db.query(
        "SELECT org_id, user_id FROM kavach_org_members GROUP BY org_id, user_id "
        "HAVING count(*) > 1"
    )
    assert duplicates == []


def test_sigkill_mid_import_then_rerun_converges(
    kavach_db_two: KavachDatabase, tmp_path: Path
) -> None:
    db = kavach_db_two
    manifest = synthetic_manifest(tmp_path, KILLED_USERS, ORGS, PER_USER)
    victim = apply_process(manifest, db, tmp_path)
    deadline = time.monotonic() + BOUND_S
    while time.monotonic() < deadline and victim.poll() is None:
        if db.count("kavach_users") > ORGS:  # past the organizations, into the users
            break
        time.sleep(0.02)
    assert victim.poll() is None, "apply finished before it could be killed"
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    partial = db.count("kavach_users")
    assert 0 < partial < KILLED_USERS
    # Whole users only: every user row has its password row (one transaction each).
    assert db.count("kavach_email_accounts") == partial

    rerun = apply_process(manifest, db, tmp_path)
    output = rerun.communicate(timeout=BOUND_S)[0].decode()
    assert rerun.returncode == 0, output
    assert_converged(db, KILLED_USERS)


# A trigger that fails the first two membership inserts' transactions with PostgreSQL's own
# deadlock_detected, as the loser of a real deadlock between two applies is failed. A
# sequence counts them: its values survive the rollback of the transaction that took them.
DEADLOCK_TWICE = (
    "CREATE SEQUENCE authform_test_deadlocks",
    """CREATE FUNCTION authform_test_deadlock() RETURNS trigger AS $$
    BEGIN
      IF nextval('authform_test_deadlocks') <= 2 THEN
        RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01';
      END IF;
      RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER authform_test_deadlock BEFORE INSERT ON kavach_org_members "
    "FOR EACH STATEMENT EXECUTE FUNCTION authform_test_deadlock()",
)


def test_a_batch_failed_by_a_deadlock_is_tried_again_and_converges(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Found when two concurrent applies deadlocked on their membership batches and the
    losing one reported every membership FAILED (exit 1): PostgreSQL rolls the loser back,
    and the batch, all upserts, is tried again whole."""
    db = make_database("postgres", request, tmp_path)
    db.execute(*DEADLOCK_TWICE)
    manifest = synthetic_manifest(tmp_path, 300, 30, PER_USER)
    run = apply_process(manifest, db, tmp_path)
    output = run.communicate(timeout=BOUND_S)[0].decode()
    assert run.returncode == 0, output
    assert "deadlock" not in output and "Traceback" not in output
    assert db.query("SELECT last_value FROM authform_test_deadlocks") == [(3,)]
    assert db.count("kavach_org_members") == 300 * PER_USER


def test_two_concurrent_applies_converge(kavach_db_two: KavachDatabase, tmp_path: Path) -> None:
    db = kavach_db_two
    manifest = synthetic_manifest(tmp_path, 1000, ORGS, PER_USER)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    runs = [apply_process(manifest, db, tmp_path / name) for name in ("a", "b")]
    outputs = [run.communicate(timeout=BOUND_S)[0].decode() for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output
    assert_converged(db, users=1000)


def test_deletes_follow_the_policy(kavach_cli: KavachCli) -> None:
    db = kavach_cli.db
    manifest = kavach_cli.write()
    assert kavach_cli.run("apply", "--auto-approve", str(manifest)).exit_code == 0
    add_native_user(db)  # signed up in KavachOS itself: unlisted, so a delete
    plan = kavach_cli.run("plan", str(manifest))
    assert "user.(no external_id) usr_native" in plan.output
    assert "deletes are not allowed" in plan.output
    blocked = kavach_cli.run("apply", "--auto-approve", str(manifest))
    assert blocked.exit_code == 2, blocked.output  # a blocked delete stays pending
    assert db.count("kavach_users") == 6

    allowed = kavach_cli.write(
        manifest.read_text() + "policy: {allow_delete: true, threshold_min_existing: 1}\n"
    )
    result = kavach_cli.run("apply", "--auto-approve", str(allowed))
    # Its session is KavachOS's: the foreign key stops the delete, and apply says so.
    assert result.exit_code == 1, result.output
    assert "usr_native" in result.output and "FOREIGN KEY" in result.output.upper()
    db.execute("DELETE FROM kavach_sessions")
    result = kavach_cli.run("apply", "--auto-approve", str(allowed))
    assert result.exit_code == 0, result.output
    assert db.count("kavach_users") == 5


def test_delete_threshold_refuses_without_force(kavach_cli: KavachCli) -> None:
    db = kavach_cli.db
    manifest = kavach_cli.write()
    assert kavach_cli.run("apply", "--auto-approve", str(manifest)).exit_code == 0
    empty = kavach_cli.folder / "empty.json"
    empty.write_text("[]\n")
    emptied = manifest.read_text().replace(
        manifest.read_text().split("path: ")[1].split("\n")[0], str(empty)
    )
    policy = "policy: {allow_delete: true, threshold_min_existing: 1}\n"
    target = kavach_cli.write(emptied + policy, "emptied.yaml")
    snapshot = db.snapshot()
    refused = kavach_cli.run("apply", "--auto-approve", str(target))
    assert refused.exit_code == 1, refused.output
    assert "would delete 5 of 5" in refused.output
    assert db.snapshot() == snapshot


@pytest.mark.parametrize("command", ["plan", "apply", "verify", "drift"])
def test_nothing_outside_the_managed_tables_changes(kavach_cli: KavachCli, command: str) -> None:
    db = kavach_cli.db
    add_native_user(db)
    manifest = kavach_cli.write()
    before = db.snapshot(UNTOUCHED_TABLES)
    args = [command, str(manifest)] + (["--auto-approve"] if command == "apply" else [])
    kavach_cli.run(*args)
    assert db.snapshot(UNTOUCHED_TABLES) == before
