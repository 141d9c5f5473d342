"""Renaming the key of an item that holds a unique value (issue 9, finding 5): the delete of
the old key runs before the create of the new one when deletes are allowed, so the create
does not fail on a conflict while the delete still runs; when deletes are not allowed, the
create is shown as not applied and apply writes neither."""

from __future__ import annotations

from pathlib import Path

from .targets import (
    Target,
    api_writes,
    plan_json,
    roles_block,
    target_block,
    users_block,
)


def organizations(target: Target, key: str, allow_delete: bool) -> str:
    return (
        target_block(target.provider)
        + f"organizations:\n  - {{key: {key}, name: Acme, "
        + "domains: [{domain: acme.com, state: verified}]}\n"
        + f"policy: {{allow_delete: {str(allow_delete).lower()}}}\n"
    )


def org_path(target: Target) -> str:
    return {
        "workos": "/organizations",
        "scalekit": "/api/v1/organizations",
        "clerk": "/v1/organizations",
    }[target.provider]


def test_a_renamed_organization_is_deleted_before_its_domain_is_claimed(target: Target) -> None:
    target.write(organizations(target, "acme", allow_delete=True))
    first = target("apply", str(target.folder), "--auto-approve")
    assert first.exit_code == 0, first.output
    target.write(organizations(target, "acme-inc", allow_delete=True))
    target.emulator.clear_log()

    planned = target("plan", str(target.folder))
    assert "+ organization.acme-inc  (after organization.acme)" in planned.output
    applied = target("apply", str(target.folder), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    writes = [
        (w["method"], w["path"])
        for w in api_writes(target)
        if w["path"].startswith(org_path(target))
        and w["path"].count("/") <= org_path(target).count("/") + 1
    ]
    assert [method for method, _ in writes] == ["DELETE", "POST"], writes
    settled = target("plan", str(target.folder), "--detailed-exitcode")
    assert settled.exit_code == 0, settled.output


def test_without_deletes_the_rename_is_shown_not_applied_and_nothing_is_written(
    target: Target,
) -> None:
    target.write(organizations(target, "acme", allow_delete=False))
    assert target("apply", str(target.folder), "--auto-approve").exit_code == 0
    target.write(organizations(target, "acme-inc", allow_delete=False))
    target.emulator.clear_log()

    planned = target("plan", str(target.folder))
    assert planned.exit_code == 0, planned.output
    assert (
        "[not applied: its domain acme.com is still held by organization.acme, whose delete "
        "is not applied" in planned.output
    ), planned.output
    applied = target("apply", str(target.folder), "--auto-approve")
    assert applied.exit_code == 2, applied.output  # pending, not failed
    assert "FAILED" not in applied.output
    assert api_writes(target) == []


def test_a_user_whose_source_id_changed_is_deleted_before_its_email_is_claimed(
    target: Target, tmp_path: Path
) -> None:
    export = target.export(tmp_path, users=3, organizations=1, memberships_per_user=1)
    target.write(
        target_block(target.provider)
        + roles_block(target.provider)
        + users_block(export, tmp_path / "reports")
        + "policy: {allow_delete: true}\n"
    )
    assert target("apply", str(target.folder), "--auto-approve").exit_code == 0
    for path in (export.users_csv, export.memberships_json):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("user_syn00000001", "user_synrenamed1"), encoding="utf-8")
    actions = {c["address"]: c["action"] for c in plan_json(target)["changes"]}
    assert actions["user.user_syn00000001"] == "delete"
    assert actions["user.user_synrenamed1"] == "create"

    applied = target("apply", str(target.folder), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    ids = target.user_ids_by_key()
    assert "user_synrenamed1" in ids and "user_syn00000001" not in ids
    assert target.user_email("user_synrenamed1") == "person1@example1.com"
    settled = target("plan", str(target.folder), "--detailed-exitcode")
    assert settled.exit_code == 0, settled.output
