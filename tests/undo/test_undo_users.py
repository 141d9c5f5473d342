"""Users deleted by an apply come back on undo (without their password, as the plan says),
with their memberships; and no journal ever holds a password digest or another secret."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from cli.saved_plans import TARGET

from .conftest import journals

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "clerk"
DELETED = ("ada@example.com", "grace@example.com")


def import_manifest(source: Path, *, allow_delete: bool = False) -> str:
    return (
        TARGET
        + f"""\
roles:
  - {{slug: admin, name: Admin}}
  - {{slug: member, name: Member}}
users:
  source:
    kind: clerk-csv
    path: {source / "users.csv"}
    organizations: {source / "organizations.json"}
    memberships: {source / "memberships.json"}
policy: {{allow_delete: {str(allow_delete).lower()}}}
"""
    )


def export_without(tmp_path: Path, emails: tuple[str, ...]) -> Path:
    """A copy of the Clerk export sample whose users.csv lacks the users of ``emails``."""
    folder = tmp_path / "export-later"
    shutil.copytree(FIXTURES, folder)
    with (FIXTURES / "users.csv").open(encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))
    with (folder / "users.csv").open("w", encoding="utf-8", newline="") as target:
        writer = csv.DictWriter(target, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["primary_email_address"] not in emails)
    return folder


def test_users_deleted_by_an_apply_come_back_with_their_memberships(cli, tmp_path):
    cli.write(import_manifest(FIXTURES))
    first = cli.run("apply", str(cli.folder), "--auto-approve")
    assert first.exit_code == 0, first.output
    cli.write(import_manifest(export_without(tmp_path, DELETED), allow_delete=True))
    damage = cli.run("apply", str(cli.folder), "--auto-approve")
    assert damage.exit_code == 0, damage.output
    assert "- user." in damage.output

    undo = cli.run("undo", str(journals()[-1]), str(cli.folder), "--out", "undo.json")
    assert undo.exit_code == 2, undo.output
    assert "deleted user(s) come back without their password" in undo.output
    # Grace was deleted, with her membership; with Ada's row gone, the user who shared her
    # email became importable and was created: undo deletes it (deletes are allowed here).
    assert "+ user.user_2aGrace00000000000000002" in undo.output
    assert "+ membership.user_2aGrace00000000000000002@org_2aAcme" in undo.output
    assert "- user.user_2aDupEm00000000000000010" in undo.output
    applied = cli.run("apply", "undo.json", "--auto-approve")
    assert applied.exit_code == 0, applied.output

    cli.write(import_manifest(FIXTURES))
    after = cli.run("plan", str(cli.folder), "--detailed-exitcode")
    assert after.exit_code == 0, after.output


def test_no_journal_holds_a_password_digest_or_another_secret(cli, tmp_path):
    cli.write(import_manifest(FIXTURES))
    assert cli.run("apply", str(cli.folder), "--auto-approve").exit_code == 0
    cli.write(import_manifest(export_without(tmp_path, DELETED), allow_delete=True))
    assert cli.run("apply", str(cli.folder), "--auto-approve").exit_code == 0
    with (FIXTURES / "users.csv").open(encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))
    secrets = [r["password_digest"] for r in rows if r["password_digest"]]
    secrets += [r["totp_secret"] for r in rows if r["totp_secret"]]
    secrets += [cli.emulator.api_key]
    assert len(secrets) > 5
    written = [path.read_text(encoding="utf-8") for path in journals()]
    assert len(written) == 2
    for text in written:
        for secret in secrets:
            assert secret not in text
        assert "$2a$" not in text and "$2b$" not in text
    # The import's password digests are recorded as set, by fingerprint only.
    assert '"password_hash":"(sensitive sha256:' in written[0]
