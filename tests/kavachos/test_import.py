"""A Clerk import into KavachOS writes exactly what KavachOS 0.2.1 reads, on SQLite and on
PostgreSQL (both DDL flavours), and `plan`, `apply`, `verify` and `drift` work on it."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from datetime import datetime

from .conftest import KavachCli

ADA = "user_2aAda0000000000000000001"
GRACE = "user_2aGrace00000000000000002"
LINUS = "user_2aLinus00000000000000003"
OLIVIA = "user_2aOauth00000000000000004"
UNA = "user_2aUnver00000000000000014"
ACME = "org_2aAcme000000000000000001"
GLOBEX = "org_2aGlobx000000000000000002"
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _seconds(value) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def test_apply_writes_what_kavachos_reads(kavach_cli: KavachCli) -> None:
    db = kavach_cli.db
    manifest = kavach_cli.write()
    before = time.time()
    result = kavach_cli.run("apply", "--auto-approve", str(manifest))
    assert result.exit_code == 0, result.output
    users = {
        row[0]: row
        for row in db.query(
            "SELECT id, email, name, external_id, external_provider, metadata, email_verified, "
            "force_password_reset, created_at FROM kavach_users"
        )
    }
    assert set(users) == {ADA, GRACE, LINUS, OLIVIA, UNA}
    ada = users[ADA]
    assert ada[1:5] == ("ada@example.com", "Ada Lovelace", ADA, "clerk")
    assert _json(ada[5]) == {"image_url": "https://img.clerk.com/ada.png"}
    assert users[GRACE][1] == "grace.hopper@example.com"  # lower-cased: KavachOS matches exactly
    assert bool(users[UNA][6]) is False and bool(ada[6]) is True
    assert not any(bool(u[7]) for u in users.values())  # keep mode: nobody forced to reset
    created = ada[8]
    if db.backend == "postgres":
        assert isinstance(created, datetime) and created.tzinfo is not None  # TIMESTAMPTZ
        assert isinstance(ada[6], bool)  # BOOLEAN
        assert isinstance(ada[5], dict)  # JSONB
    else:
        assert isinstance(created, int) and before - 1 <= created <= time.time() + 1  # seconds
        assert ada[6] == 1
    accounts = {
        row[0]: row
        for row in db.query(
            "SELECT user_id, password_hash, email_verified, created_at FROM kavach_email_accounts"
        )
    }
    assert set(accounts) == {ADA, GRACE, LINUS, UNA}  # olivia has no password
    assert accounts[ADA][1].startswith("$2a$10$")  # kept as exported, untouched
    assert accounts[LINUS][1].startswith("$2y$10$")
    assert [bool(accounts[u][2]) for u in (ADA, UNA)] == [True, False]
    millis = accounts[ADA][3]
    assert isinstance(millis, int) and before * 1000 - 1000 <= millis <= time.time() * 1000 + 1000
    links = sorted(
        db.query(
            "SELECT user_id, provider, provider_account_id, access_token FROM kavach_oauth_accounts"
        )
    )
    assert links == [
        (ADA, "github", "1001", ""),  # listed twice in the source, linked once
        (ADA, "google", "ada-google-sub", ""),
        (OLIVIA, "google", "olivia-google-sub", ""),
    ]
    orgs = {r[0]: r for r in db.query("SELECT id, name, slug, owner_id FROM kavach_organizations")}
    assert orgs[ACME][1:] == ("Acme Inc", "acme", ADA)  # the admin owns it
    assert orgs[GLOBEX][3] == LINUS
    assert all(SLUG.match(o[2]) for o in orgs.values())
    roles = {
        (r[0], r[1]): sorted(_json(r[2]))
        for r in db.query("SELECT org_id, name, permissions FROM kavach_org_roles")
    }
    for org in (ACME, GLOBEX):
        assert {name for o, name in roles if o == org} == {
            "owner",
            "admin",
            "member",
            "viewer",
            "billing",
        }
        assert roles[(org, "admin")] == ["billing:manage", "reports:read"]
        assert "org:manage" in roles[(org, "owner")]  # KavachOS's seed, kept
    members = sorted(db.query("SELECT org_id, user_id, role FROM kavach_org_members"))
    assert members == sorted(
        [
            (ACME, ADA, "admin"),
            (ACME, GRACE, "member"),
            (GLOBEX, LINUS, "member"),
            (GLOBEX, OLIVIA, "billing"),  # through role_map
        ]
    )

    again = kavach_cli.run("plan", "--detailed-exitcode", str(manifest))
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output


def test_plan_states_bcrypt_users_and_verify_says_what_sign_in_needs(
    kavach_cli: KavachCli,
) -> None:
    manifest = kavach_cli.write()
    plan = kavach_cli.run("plan", str(manifest))
    assert plan.exit_code == 0, plan.output
    assert "4 user(s) keep a bcrypt digest that KavachOS alone will not accept" in plan.output
    assert "$2a$" not in plan.output and "bcrypt hash (set)" in plan.output
    assert kavach_cli.db.count("kavach_users") == 0  # plan wrote nothing
    assert kavach_cli.run("apply", "--auto-approve", str(manifest)).exit_code == 0
    verify = kavach_cli.run("verify", str(manifest))
    assert verify.exit_code == 0, verify.output
    assert "password login ada@example.com" in verify.output
    assert "application-side check" in verify.output
    wrong = kavach_cli.run("verify", str(manifest), env={"CANARY_PASSWORD": "not-it"})
    assert wrong.exit_code == 3
    assert "does not match" in wrong.output
    assert "not-it" not in wrong.output


def test_reset_mode_stores_no_digest_and_marks_users(kavach_cli: KavachCli) -> None:
    text = (
        kavach_cli.write()
        .read_text()
        .replace(
            'database_url: "${env:DATABASE_URL}"}',
            'database_url: "${env:DATABASE_URL}", legacy_passwords: reset}',
        )
    )
    manifest = kavach_cli.write(text)
    plan = kavach_cli.run("plan", str(manifest))
    assert "marked force_password_reset" in plan.output, plan.output
    assert kavach_cli.run("apply", "--auto-approve", str(manifest)).exit_code == 0
    db = kavach_cli.db
    hashes = {r[0] for r in db.query("SELECT password_hash FROM kavach_email_accounts")}
    assert hashes == {"!password-reset-required"}  # no bcrypt digest kept
    rows = db.query("SELECT id, force_password_reset FROM kavach_users")
    forced = {user for user, flag in rows if flag}
    assert forced == {ADA, GRACE, LINUS, UNA}
    verify = kavach_cli.run("verify", str(manifest))
    assert verify.exit_code == 3
    assert "marked for a password reset" in verify.output


def kavachos_scrypt(password: str) -> str:
    """KavachOS's email-plugin format: scrypt over the salt's hex *text*."""
    salt = secrets.token_hex(16)
    key = hashlib.scrypt(password.encode(), salt=salt.encode(), n=16384, r=8, p=1, dklen=64)
    return f"{salt}:{key.hex()}"


def test_verify_accepts_a_password_kavachos_already_rehashed(kavach_cli: KavachCli) -> None:
    manifest = kavach_cli.write()
    assert kavach_cli.run("apply", "--auto-approve", str(manifest)).exit_code == 0
    kavach_cli.db.execute(
        f"UPDATE kavach_email_accounts SET password_hash = "
        f"'{kavachos_scrypt('correct horse battery staple')}' WHERE user_id = '{ADA}'"
    )
    verify = kavach_cli.run("verify", str(manifest))
    assert verify.exit_code == 0, verify.output
    assert "KavachOS's email sign-in accepts it" in verify.output


def test_drift_notices_rows_changed_by_hand_and_apply_repairs_them(
    kavach_cli: KavachCli,
) -> None:
    manifest = kavach_cli.write()
    assert kavach_cli.run("apply", "--auto-approve", str(manifest)).exit_code == 0
    db = kavach_cli.db
    # A key the application keeps in the user's metadata: not drift, and kept by the repair.
    if db.backend == "postgres":
        keep_plan = "coalesce(metadata, '{}'::jsonb) || '{\"plan\": \"pro\"}'::jsonb"
    elif db.postgres:
        keep_plan = "(coalesce(metadata, '{}')::jsonb || '{\"plan\": \"pro\"}'::jsonb)::text"
    else:
        keep_plan = "json_set(coalesce(metadata, '{}'), '$.plan', 'pro')"
    db.execute(f"UPDATE kavach_users SET metadata = {keep_plan} WHERE id = '{ADA}'")
    db.execute(
        f"UPDATE kavach_users SET name = 'Ada King' WHERE id = '{ADA}'",
        f"UPDATE kavach_email_accounts SET email_verified = 0 WHERE user_id = '{ADA}'",
        f"DELETE FROM kavach_oauth_accounts WHERE user_id = '{OLIVIA}'",
        "INSERT INTO kavach_oauth_accounts (id, user_id, provider, provider_account_id, "
        f"access_token, created_at, updated_at) SELECT 'oac_copy', user_id, provider, "
        f"provider_account_id, '', created_at, updated_at FROM kavach_oauth_accounts "
        f"WHERE user_id = '{ADA}' AND provider = 'github'",
        f"UPDATE kavach_org_members SET role = 'viewer' WHERE user_id = '{GRACE}'",
        f"UPDATE kavach_org_roles SET permissions = '[]' WHERE org_id = '{GLOBEX}' "
        "AND name = 'billing'"
        if not db.postgres or db.backend == "postgres-integer"
        else f"UPDATE kavach_org_roles SET permissions = '[]'::jsonb WHERE org_id = '{GLOBEX}' "
        "AND name = 'billing'",
    )
    drift = kavach_cli.run("drift", str(manifest))
    assert drift.exit_code == 2, drift.output
    for address in (
        f"user.{ADA}",
        f"user.{OLIVIA}",
        f"membership.{GRACE}@{ACME}",
        "role.billing",
    ):
        assert address in drift.output
    assert "Drift found: 4 difference(s)" in drift.output
    assert kavach_cli.run("apply", "--auto-approve", str(manifest)).exit_code == 0
    assert kavach_cli.run("drift", str(manifest)).exit_code == 0
    github = db.query(
        f"SELECT count(*) FROM kavach_oauth_accounts WHERE user_id = '{ADA}' "
        "AND provider = 'github'"
    )
    assert github[0][0] == 1  # the hand-made duplicate is gone
    assert db.query(f"SELECT name FROM kavach_users WHERE id = '{ADA}'")[0][0] == "Ada Lovelace"
    metadata = _json(db.query(f"SELECT metadata FROM kavach_users WHERE id = '{ADA}'")[0][0])
    assert metadata["plan"] == "pro"  # the application's key survives the repair
    verified = db.query(f"SELECT email_verified FROM kavach_email_accounts WHERE user_id = '{ADA}'")
    assert verified == [(1,)]  # the existing password row is updated, not left unverified


def test_reset_mode_needs_no_email_table(kavach_cli: KavachCli) -> None:
    """KavachOS 0.2.1's email plugin cannot create its table on PostgreSQL: reset mode
    imports without it (keep mode refuses, naming it: tests/hostile/test_kavachos.py)."""
    kavach_cli.db.execute("DROP TABLE kavach_email_accounts")
    text = (
        kavach_cli.write()
        .read_text()
        .replace(
            'database_url: "${env:DATABASE_URL}"}',
            'database_url: "${env:DATABASE_URL}", legacy_passwords: reset}',
        )
    )
    manifest = kavach_cli.write(text)
    result = kavach_cli.run("apply", "--auto-approve", str(manifest))
    assert result.exit_code == 0, result.output
    rows = kavach_cli.db.query("SELECT id, force_password_reset FROM kavach_users")
    assert {user for user, flag in rows if flag} == {ADA, GRACE, LINUS, UNA}
    assert kavach_cli.run("plan", "--detailed-exitcode", str(manifest)).exit_code == 0


def test_an_owner_written_with_its_organization_is_not_written_again(
    kavach_cli: KavachCli,
) -> None:
    """An organization is created with its owner's rows (KavachOS requires the owner's user
    row first, and a plan creates organizations before users); that user's own create later
    in the same apply writes nothing again. A trigger the test adds logs every write of a
    user row: each user is inserted once and never updated."""
    db = kavach_cli.db
    if db.postgres:
        db.execute(
            "CREATE TABLE user_writes (id TEXT, op TEXT)",
            "CREATE FUNCTION log_user_write() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN INSERT INTO user_writes VALUES (NEW.id, TG_OP); RETURN NEW; END $$",
            "CREATE TRIGGER log_user_write AFTER INSERT OR UPDATE ON kavach_users "
            "FOR EACH ROW EXECUTE FUNCTION log_user_write()",
        )
    else:
        db.execute(
            "CREATE TABLE user_writes (id TEXT, op TEXT)",
            "CREATE TRIGGER log_user_insert AFTER INSERT ON kavach_users "
            "BEGIN INSERT INTO user_writes VALUES (NEW.id, 'INSERT'); END",
            "CREATE TRIGGER log_user_update AFTER UPDATE ON kavach_users "
            "BEGIN INSERT INTO user_writes VALUES (NEW.id, 'UPDATE'); END",
        )

    result = kavach_cli.run("apply", "--auto-approve", str(kavach_cli.write()))

    assert result.exit_code == 0, result.output
    owners = {row[0] for row in db.query("SELECT owner_id FROM kavach_organizations")}
    assert owners and owners <= {ADA, GRACE, LINUS, OLIVIA, UNA}
    writes = sorted(db.query("SELECT id, op FROM user_writes"))
    assert writes == sorted((user, "INSERT") for user in (ADA, GRACE, LINUS, OLIVIA, UNA))
