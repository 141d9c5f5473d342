"""A user whose email changes in the source is never deleted and recreated (issue 9, finding
1): WorkOS and Clerk change the address in place, keeping the user's id; Scalekit's API
cannot change it, so the plan shows a manual step and apply leaves the user alone, whatever
the delete policy says."""

from __future__ import annotations

from pathlib import Path

import pytest

from .targets import (
    Target,
    api_writes,
    plan_json,
    roles_block,
    target_block,
    users_block,
)

OLD, NEW = "person1@example1.com", "person1.moved@example1.com"
KEY = "user_syn00000001"


@pytest.mark.parametrize("allow_delete", [False, True])
def test_a_changed_email_keeps_the_user_and_its_id(
    target: Target, tmp_path: Path, allow_delete: bool
) -> None:
    export = target.export(tmp_path, users=3, organizations=1, memberships_per_user=1)
    policy = f"policy: {{allow_delete: {str(allow_delete).lower()}}}\n"
    target.write(
        target_block(target.provider)
        + roles_block(target.provider)
        + users_block(export, tmp_path / "reports")
        + policy
    )
    first = target("apply", str(target.folder), "--auto-approve")
    assert first.exit_code == 0, first.output
    before = target.user_ids_by_key()
    assert target.user_email(KEY) == OLD

    csv = export.users_csv.read_text(encoding="utf-8")
    export.users_csv.write_text(csv.replace(OLD, NEW), encoding="utf-8")
    target.emulator.clear_log()

    [change] = plan_json(target)["changes"]
    assert change["address"] == f"user.{KEY}"
    assert [f["path"] for f in change["fields"]] == ["email"], change
    applied = target("apply", str(target.folder), "--auto-approve")
    deletes = [w for w in api_writes(target) if w["method"] == "DELETE"]
    assert deletes == [], deletes
    assert target.user_ids_by_key() == before  # same users, same ids

    if target.provider == "scalekit":
        assert change["action"] == "manual", change
        assert "cannot change a user's email address" in " ".join(change["instructions"])
        assert applied.exit_code == 2, applied.output  # pending: a person must do it
        assert target.user_email(KEY) == OLD
    else:
        assert change["action"] == "update", change
        assert applied.exit_code == 0, applied.output
        assert target.user_email(KEY) == NEW
        settled = target("plan", str(target.folder), "--detailed-exitcode")
        assert settled.exit_code == 0, settled.output
