# ruff: noqa: F811 (tests take the imported `cli` fixture of tests/cli as an argument)
"""--target and --exclude: in every kind, with dependencies pulled in or the selection
refused; saved plans keep their selection; drift.ignore leaves hand-managed items alone.

Real HTTP to the WorkOS emulator throughout.
"""

from __future__ import annotations

import json

import httpx
import pytest
from cli.conftest import BASE_MANIFEST, cli  # noqa: F401 (the `cli` fixture of tests/cli)
from cli.manifests import CLERK_CSV_IMPORT
from cli.saved_plans import read_plan_file
from hostile.refusal import assert_refused


def _plan(cli, *args: str) -> dict:
    result = cli.run("plan", str(cli.folder), "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _addresses(plan: dict) -> list[str]:
    return [c["address"] for c in plan["changes"]]


def _written_paths(cli) -> list[str]:
    return [w["path"] for w in cli.emulator.writes()]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("permission.*", ["permission.billing:manage", "permission.reports:read"]),
        ("role.member", ["permission.reports:read", "role.member"]),
        ("organization.acme", ["organization.acme"]),
        ("organization.*", ["organization.acme", "organization.globex"]),
        (
            "redirect_uri.https://app.example.com/*",
            ["redirect_uri.https://app.example.com/callback"],
        ),
        ("cors_origin.*", ["cors_origin.https://app.example.com"]),
        ("social_connection.google", ["social_connection.google"]),
    ],
)
def test_a_target_in_every_manifest_kind_selects_it_and_what_it_needs(cli, pattern, expected):
    plan = _plan(cli, "--target", pattern)
    assert sorted(_addresses(plan)) == sorted(expected)
    assert any(note.startswith(f"Targeted plan (--target {pattern})") for note in plan["notes"])
    assert cli.emulator.writes() == []


def test_a_pulled_in_dependency_is_named(cli):
    plan = _plan(cli, "--target", "role.admin")
    assert _addresses(plan) == [
        "permission.billing:manage",
        "permission.reports:read",
        "role.admin",
    ]
    note = next(n for n in plan["notes"] if n.startswith("Targeted plan"))
    assert "Pulled in as dependencies: permission.billing:manage (needed by role.admin)" in note


def test_exclude_leaves_items_out(cli):
    plan = _plan(cli, "--exclude", "organization.*", "--exclude", "social_connection.google")
    addresses = _addresses(plan)
    assert not [a for a in addresses if a.startswith(("organization.", "social_connection."))]
    assert "role.admin" in addresses and "cors_origin.https://app.example.com" in addresses


def test_a_targeted_apply_writes_only_the_selection_and_the_rest_stays_planned(cli):
    result = cli.run("apply", str(cli.folder), "--auto-approve", "--target", "organization.acme")
    assert result.exit_code == 0, result.output
    assert _written_paths(cli) == ["/organizations"]
    rest = _addresses(_plan(cli))
    assert "organization.acme" not in rest
    assert "organization.globex" in rest and "role.admin" in rest


def test_an_unchanged_target_is_an_empty_plan_not_an_error(cli):
    cli.run("apply", str(cli.folder), "--auto-approve", "--target", "organization.acme")
    plan = _plan(cli, "--target", "organization.acme")
    assert plan["changes"] == []


def test_a_saved_plan_records_and_keeps_its_selection(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plan_file = tmp_path / "plan.json"
    made = cli.run("plan", str(cli.folder), "--target", "organization.*", "--out", str(plan_file))
    assert made.exit_code == 0, made.output
    document = read_plan_file(plan_file)
    assert document["made_with"]["selection"] == {"target": ["organization.*"], "exclude": []}
    assert _addresses(document) == ["organization.acme", "organization.globex"]
    other = cli.run("apply", str(plan_file), "--auto-approve", "--target", "role.admin")
    assert_refused(
        other,
        r"was made for --target organization\.\*, not --target role\.admin",
        emulator=cli.emulator,
    )
    applied = cli.run("apply", str(plan_file), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert _written_paths(cli) == ["/organizations", "/organizations"]


def test_imported_kinds_select_too_and_a_membership_pulls_in_its_user_org_and_role(cli):
    cli.write(CLERK_CSV_IMPORT)
    everything = _plan(cli)
    memberships = [a for a in _addresses(everything) if a.startswith("membership.")]
    one = memberships[0]
    user_key, org_key = one.removeprefix("membership.").split("@")
    plan = _plan(cli, "--target", one)
    change = next(c for c in everything["changes"] if c["address"] == one)
    role = next(f["new"] for f in change["fields"] if f["path"] == "role")
    assert sorted(_addresses(plan)) == sorted(
        [one, f"user.{user_key}", f"organization.{org_key}", f"role.{role}"]
    )
    users_only = _plan(cli, "--target", "user.*")
    assert {a.split(".")[0] for a in _addresses(users_only)} == {"user"}


def test_excluding_the_users_that_selected_memberships_need_is_refused(cli):
    cli.write(CLERK_CSV_IMPORT)
    result = cli.run("plan", str(cli.folder), "--target", "membership.*", "--exclude", "user.*")
    assert_refused(
        result,
        r"the selection would break a dependency: membership\.\S+ needs user\.\S+ \(create\), "
        r"which --exclude 'user\.\*' leaves out",
        emulator=cli.emulator,
    )


def _rename_acme_by_hand(cli) -> None:
    headers = {"Authorization": f"Bearer {cli.emulator.api_key}"}
    with httpx.Client(base_url=cli.emulator.url, headers=headers, timeout=10) as client:
        orgs = client.get("/organizations", params={"limit": 100}).json()["data"]
        acme = next(o for o in orgs if o.get("external_id") == "acme")
        client.put(f"/organizations/{acme['id']}", json={"name": "Acme (renamed by hand)"})


def test_drift_ignores_the_items_the_manifest_lists(cli):
    assert cli.run("apply", str(cli.folder), "--auto-approve").exit_code in (0, 2)
    _rename_acme_by_hand(cli)
    found = cli.run("drift", str(cli.folder), "--format", "json")
    assert found.exit_code == 2
    assert "organization.acme" in _addresses(json.loads(found.stdout))
    cli.write(BASE_MANIFEST + "drift:\n  ignore: [organization.acme, social_connection.*]\n")
    ignored = cli.run("drift", str(cli.folder), "--format", "json")
    assert ignored.exit_code == 0, ignored.output
    assert _addresses(json.loads(ignored.stdout)) == []
    # plan and apply still show it: ignoring is about what counts as drift.
    assert "organization.acme" in _addresses(_plan(cli))


def test_a_bad_drift_ignore_pattern_is_a_positioned_manifest_error(cli):
    manifest = cli.write(BASE_MANIFEST + "drift:\n  ignore:\n    - organisation.acme\n")
    line = len(manifest.read_text().splitlines())
    for command in ("validate", "drift", "plan"):
        result = cli.run(command, str(cli.folder))
        assert_refused(
            result,
            rf"authform\.yaml:{line}:7: drift\.ignore\[0\]: 'organisation\.acme': unknown kind "
            r"'organisation'",
            emulator=cli.emulator,
        )


def test_the_json_schema_describes_drift_ignore(cli):
    result = cli.run("schema")
    schema = json.loads(result.stdout)
    drift = schema["$defs"]["Drift"]["properties"]["ignore"]
    assert drift["type"] == "array"
    assert "drift" in schema["properties"]
