"""User import from the Clerk fixture into the WorkOS emulator, through the CLI."""

from __future__ import annotations

import csv
import json

import httpx

from .manifests import CLERK_CSV_IMPORT, FIXTURES, IMPORT_ROLES, WORKOS_TARGET

IMPORT_MANIFEST = (
    CLERK_CSV_IMPORT
    + """\
  reports_dir: "${env:REPORTS}"
verify:
  password_logins:
    - {email: ada2@example.com, password: "${env:MISSING_CANARY:-x}"}
"""
)


def api(cli, method, path, **kwargs):
    with httpx.Client(base_url=cli.emulator.url, timeout=10) as client:
        response = client.request(
            method, path, headers={"Authorization": f"Bearer {cli.emulator.api_key}"}, **kwargs
        )
    response.raise_for_status()
    return response.json() if response.content else None


def all_users(cli):
    return api(cli, "GET", "/user_management/users", params={"limit": 100})["data"]


def setup_import(cli, tmp_path, logins=None):
    text = IMPORT_MANIFEST
    logins = logins or [
        ("grace@example.com", "cobol-forever-1959"),
        ("jose.nunez@example.es", "contraseña-segura"),
        ("linus@example.org", "penguin-power"),
    ]
    block = "\n".join(f'    - {{email: {e}, password: "{p}"}}' for e, p in logins)
    text = text.split("verify:")[0] + "verify:\n  password_logins:\n" + block + "\n"
    (cli.folder / "authform.yaml").write_text(text, encoding="utf-8")
    return {"REPORTS": str(tmp_path / "reports")}


def test_plan_counts_everything_before_any_write(cli, tmp_path):
    env = setup_import(cli, tmp_path)
    result = cli.run("plan", str(cli.folder), "--detailed-exitcode", env=env)
    assert result.exit_code == 2, result.output
    assert (
        "users: 14 read, 11 to import (7 with a password hash, 4 without; "
        "1 with several emails), 3 skipped" in result.output
    )
    assert "memberships: 7 read, 4 to import, 3 skipped" in result.output
    assert "email_conflict 2" in result.output and "phone_only 1" in result.output
    assert "1 user(s) must re-enroll a second factor" in result.output
    assert "password_hash  : bcrypt hash (set)" in result.output
    assert "$2b$10$" not in result.output
    assert cli.emulator.writes() == []


def test_import_applies_verifies_converges_and_writes_reports(cli, tmp_path):
    env = setup_import(cli, tmp_path)
    applied = cli.run("apply", str(cli.folder), "--auto-approve", env=env)
    assert applied.exit_code == 0, applied.output
    users = all_users(cli)
    assert len(users) == 11
    by_external = {u["external_id"]: u for u in users}
    assert by_external["user_2aUnicd00000000000000006"]["first_name"] == "José"
    assert by_external["user_2aQuote00000000000000012"]["first_name"] == 'Robert "Bobby"'
    assert by_external["user_2aUpper00000000000000007"]["email"] == "mixed.case@example.com"
    assert by_external["user_2aUnver00000000000000014"]["email_verified"] is False

    verified = cli.run("verify", str(cli.folder), env=env)
    assert verified.exit_code == 0, verified.output
    assert "password login jose.nunez@example.es: signed in" in verified.output
    assert (
        "import users: 11 present; the source had 14, 3 reported skipped, so 11 expected"
        in verified.output
    )
    assert "import memberships: 4 present; the source had 7, 3 reported skipped" in verified.output

    again = cli.run("plan", str(cli.folder), "--detailed-exitcode", env=env)
    assert again.exit_code == 0, again.output

    reports = tmp_path / "reports"
    mapping = json.loads((reports / "id-mapping.json").read_text())
    assert (
        mapping["users"]["user_2aGrace00000000000000002"]
        == (by_external["user_2aGrace00000000000000002"]["id"])
    )
    assert len(mapping["organizations"]) == 3
    skipped = list(csv.DictReader((reports / "skipped.csv").open(encoding="utf-8")))
    codes = sorted(row["code"] for row in skipped)
    assert codes == sorted(
        [
            "email_conflict",
            "email_conflict",
            "phone_only",
            "malformed_password_digest",
            "unsupported_password_hasher",
            "user_skipped",
            "user_skipped",
            "user_not_in_export",
        ]
    )
    reenroll = list(csv.DictReader((reports / "reenroll.csv").open(encoding="utf-8")))
    assert [(r["email"], r["factors"]) for r in reenroll] == [("tess@example.com", "totp")]
    for report in reports.iterdir():
        text = report.read_text(encoding="utf-8")
        assert "$2" not in text and "JBSWY3DPEHPK3PXP" not in text


def test_memberships_carry_mapped_roles(cli, tmp_path):
    env = setup_import(cli, tmp_path)
    cli.run("apply", str(cli.folder), "--auto-approve", env=env)
    org = api(cli, "GET", "/organizations/external_id/org_2aGlobx000000000000000002")
    members = api(
        cli,
        "GET",
        "/user_management/organization_memberships",
        params={"organization_id": org["id"], "limit": 100},
    )["data"]
    users = {u["id"]: u["external_id"] for u in all_users(cli)}
    roles = {users[m["user_id"]]: m["role"]["slug"] for m in members}
    assert roles == {
        "user_2aLinus00000000000000003": "admin",  # legacy 'admin' key
        "user_2aUnicd00000000000000006": "member",  # legacy 'basic_member' key
    }


def test_verify_fails_with_exit_3_when_a_canary_cannot_sign_in(cli, tmp_path):
    env = setup_import(cli, tmp_path, logins=[("grace@example.com", "wrong-password")])
    cli.run("apply", str(cli.folder), "--auto-approve", env=env)
    result = cli.run("verify", str(cli.folder), env=env)
    assert result.exit_code == 3
    assert "FAIL password login grace@example.com: sign-in failed" in result.output
    assert "wrong-password" not in result.output


def test_an_existing_user_without_external_id_is_adopted_not_duplicated(cli, tmp_path):
    env = setup_import(cli, tmp_path)
    existing = api(
        cli,
        "POST",
        "/user_management/users",
        json={"email": "grace@example.com", "first_name": "G", "last_name": "H"},
    )
    plan = cli.run("plan", str(cli.folder), env=env)
    assert "~ user.user_2aGrace00000000000000002" in plan.output
    assert f"adopts existing {existing['id']}" in plan.output
    applied = cli.run("apply", str(cli.folder), "--auto-approve", env=env)
    assert applied.exit_code == 0, applied.output
    graces = [u for u in all_users(cli) if u["email"] == "grace@example.com"]
    assert [(u["id"], u["external_id"], u["first_name"]) for u in graces] == [
        (existing["id"], "user_2aGrace00000000000000002", "Grace")
    ]
    # the hash was carried over on adoption: she can sign in with her Clerk password
    verified = cli.run("verify", str(cli.folder), env=env)
    assert verified.exit_code == 0, verified.output


def test_an_unreadable_source_is_an_error_before_any_request(cli, tmp_path):
    env = setup_import(cli, tmp_path)
    broken = tmp_path / "broken.csv"
    broken.write_text("id,name\nuser_1,x\n", encoding="utf-8")
    manifest = (cli.folder / "authform.yaml").read_text(encoding="utf-8")
    (cli.folder / "authform.yaml").write_text(
        manifest.replace(str(FIXTURES / "users.csv"), str(broken)), encoding="utf-8"
    )
    result = cli.run("apply", str(cli.folder), "--auto-approve", env=env)
    assert result.exit_code == 1
    assert "broken.csv" in result.output
    assert cli.emulator.requests_log() == []


def test_live_clerk_api_source_joined_with_csv_digests(cli, clerk_export_emulator, tmp_path):
    """Users, organizations and memberships from the (emulated) Clerk Backend API; password
    digests from the dashboard CSV, joined on the Clerk user id."""
    (cli.folder / "authform.yaml").write_text(
        WORKOS_TARGET
        + IMPORT_ROLES
        + f"""\
users:
  source:
    kind: clerk-api
    secret_key: "${{env:CLERK_SECRET_KEY}}"
    base_url: "{clerk_export_emulator.url}"
    csv: {FIXTURES / "users.csv"}
  reports_dir: "{tmp_path / "reports"}"
verify:
  password_logins:
    - {{email: grace@example.com, password: "cobol-forever-1959"}}
""",
        encoding="utf-8",
    )
    env = {"CLERK_SECRET_KEY": clerk_export_emulator.api_key}
    plan = cli.run("plan", str(cli.folder), env=env)
    assert plan.exit_code == 0, plan.output
    assert "users: 14 read, 11 to import (7 with a password hash" in plan.output
    assert "memberships: 7 read, 4 to import, 3 skipped" in plan.output
    assert clerk_export_emulator.api_key not in plan.output
    applied = cli.run("apply", str(cli.folder), "--auto-approve", env=env)
    assert applied.exit_code == 0, applied.output
    verified = cli.run("verify", str(cli.folder), env=env)
    assert verified.exit_code == 0, verified.output
    assert "password login grace@example.com: signed in" in verified.output
    assert clerk_export_emulator.writes() == []  # the source is only ever read
