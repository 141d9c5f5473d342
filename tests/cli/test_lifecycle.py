"""plan → apply → plan → drift → verify against the WorkOS emulator, through the CLI."""

from __future__ import annotations

import json

import httpx

from .saved_plans import read_plan_file


def api(cli, method, path, **kwargs):
    with httpx.Client(base_url=cli.emulator.url, timeout=10) as client:
        response = client.request(
            method, path, headers={"Authorization": f"Bearer {cli.emulator.api_key}"}, **kwargs
        )
    response.raise_for_status()
    return response.json() if response.content else None


def test_plan_apply_converges_and_plan_is_then_empty(cli):
    planned = cli.run("plan", str(cli.folder), "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    assert "+ permission.billing:manage" in planned.output
    assert "+ organization.acme" in planned.output
    assert "! social_connection.google" in planned.output
    assert cli.emulator.writes() == []  # planning never writes

    applied = cli.run("apply", str(cli.folder), "--auto-approve")
    # Everything the API can do was done; the social connection is a dashboard step.
    assert applied.exit_code == 2, applied.output
    assert "Manual steps still to do" in applied.output
    assert "1234.apps.googleusercontent.com" in applied.output

    cli.emulator.set_social_connection("google", "1234.apps.googleusercontent.com")
    again = cli.run("plan", str(cli.folder), "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output

    verified = cli.run("verify", str(cli.folder))
    assert verified.exit_code == 0, verified.output
    assert "redirects to Google with client_id 1234.apps.googleusercontent.com" in verified.output


def test_role_permissions_and_org_domains_land_as_declared(cli):
    cli.run("apply", str(cli.folder), "--auto-approve")
    roles = {r["slug"]: r for r in api(cli, "GET", "/authorization/roles")["data"]}
    assert sorted(roles["admin"]["permissions"]) == ["billing:manage", "reports:read"]
    org = api(cli, "GET", "/organizations/external_id/acme")
    assert org["name"] == "Acme Inc"
    assert [(d["domain"], d["state"]) for d in org["domains"]] == [("acme.com", "verified")]
    assert org["metadata"] == {"tier": "enterprise"}


def test_drift_behind_authforms_back_exits_2_and_names_the_fields(cli):
    cli.run("apply", str(cli.folder), "--auto-approve")
    cli.emulator.set_social_connection("google", "1234.apps.googleusercontent.com")
    assert cli.run("drift", str(cli.folder)).exit_code == 0

    org = api(cli, "GET", "/organizations/external_id/acme")
    api(
        cli,
        "PUT",
        f"/organizations/{org['id']}",
        json={"name": "Acme (renamed by hand)", "metadata": {"tier": "free"}},
    )
    api(cli, "PATCH", "/authorization/permissions/reports:read", json={"name": "Reports"})
    drift = cli.run("drift", str(cli.folder))
    assert drift.exit_code == 2, drift.output
    assert "~ organization.acme" in drift.output
    assert '"Acme (renamed by hand)" → "Acme Inc"' in drift.output
    assert 'metadata.tier : "free" → "enterprise"' in drift.output
    assert "~ permission.reports:read" in drift.output


def test_verify_exits_3_and_says_what_failed(cli):
    cli.run("apply", str(cli.folder), "--auto-approve")
    # the social connection was never configured in the dashboard
    result = cli.run("verify", str(cli.folder))
    assert result.exit_code == 3, result.output
    assert "FAIL social_connection.google: missing" in result.output
    cli.emulator.set_social_connection("google", "someone-elses-client-id")
    result = cli.run("verify", str(cli.folder))
    assert result.exit_code == 3
    assert "social_connection.google: differs in client_id" in result.output


def test_json_and_markdown_plans(cli):
    data = json.loads(cli.run("plan", str(cli.folder), "--format", "json").output)
    assert data["provider"] == "workos"
    assert data["summary"]["create"] == 8 and data["summary"]["manual"] == 1
    markdown = cli.run("plan", str(cli.folder), "--format", "markdown").output
    assert markdown.startswith("<!-- authform-plan -->")
    assert "| ➕ create | `role.admin` |" in markdown


def test_deletes_are_refused_unless_allowed_and_then_carried_out(cli):
    cli.run("apply", str(cli.folder), "--auto-approve")
    api(cli, "POST", "/authorization/permissions", json={"slug": "stray:perm", "name": "Stray"})
    plan = cli.run("plan", str(cli.folder), "--detailed-exitcode")
    assert plan.exit_code == 2
    assert "- permission.stray:perm  [not applied: deletes are not allowed" in plan.output
    cli.run("apply", str(cli.folder), "--auto-approve")
    slugs = [
        p["slug"]
        for p in api(cli, "GET", "/authorization/permissions", params={"limit": 100})["data"]
    ]
    assert "stray:perm" in slugs  # still there: deletes are off by default

    manifest = (cli.folder / "authform.yaml").read_text()
    cli.write(manifest + "policy: {allow_delete: true}\n")
    cli.run("apply", str(cli.folder), "--auto-approve")
    slugs = [
        p["slug"]
        for p in api(cli, "GET", "/authorization/permissions", params={"limit": 100})["data"]
    ]
    assert "stray:perm" not in slugs


def test_safety_threshold_refuses_mass_deletes_without_force(cli):
    manifest = (cli.folder / "authform.yaml").read_text()
    cli.write(manifest + "policy: {allow_delete: true}\n")
    cli.run("apply", str(cli.folder), "--auto-approve")
    for i in range(10):
        api(
            cli,
            "POST",
            "/user_management/redirect_uris",
            json={"uri": f"https://old{i}.example.com/cb"},
        )
    cli.emulator.clear_log()
    refused = cli.run("apply", str(cli.folder), "--auto-approve")
    assert refused.exit_code == 1, refused.output
    assert "redirect_uris: would delete 10 of 11 existing" in refused.output
    assert cli.emulator.writes() == []
    forced = cli.run("apply", str(cli.folder), "--auto-approve", "--force")
    assert forced.exit_code in (0, 2), forced.output
    uris = api(cli, "GET", "/user_management/redirect_uris", params={"limit": 100})["data"]
    assert [u["uri"] for u in uris] == ["https://app.example.com/callback"]


def test_saved_plan_applies_exactly_and_refuses_when_live_state_moved(cli, tmp_path):
    plan_file = tmp_path / "plan.json"
    assert cli.run("plan", str(cli.folder), "--out", str(plan_file)).exit_code == 0
    saved = read_plan_file(plan_file)
    assert saved["fingerprints"]["live"].startswith("hmac-sha256:") and saved["plan_digest"]

    # someone creates a permission by hand between review and apply
    api(cli, "POST", "/authorization/permissions", json={"slug": "sneaky", "name": "Sneaky"})
    cli.emulator.clear_log()
    stale = cli.run("apply", str(plan_file), "--auto-approve")
    assert stale.exit_code == 1
    assert "live state changed since this plan was made (permission.sneaky)" in stale.output
    assert cli.emulator.writes() == []

    assert cli.run("plan", str(cli.folder), "--out", str(plan_file)).exit_code == 0
    fresh = cli.run("apply", str(plan_file), "--auto-approve")
    assert fresh.exit_code == 2, fresh.output  # only the manual social step remains


def test_saved_plan_refuses_when_the_manifest_changed(cli, tmp_path):
    plan_file = tmp_path / "plan.json"
    cli.run("plan", str(cli.folder), "--out", str(plan_file))
    manifest = (cli.folder / "authform.yaml").read_text()
    cli.write(manifest.replace("name: Globex", "name: Globex Corp"))
    result = cli.run("apply", str(plan_file), "--auto-approve")
    assert result.exit_code == 1
    assert "the manifest changed since this plan was made (authform.yaml)" in result.output
    assert cli.emulator.writes() == []


def test_apply_needs_auto_approve_off_a_tty(cli):
    result = cli.run("apply", str(cli.folder))
    assert result.exit_code == 1
    assert "apply needs --auto-approve" in result.output
    assert cli.emulator.requests_log() == []


def test_secrets_never_reach_output(cli):
    manifest = (cli.folder / "authform.yaml").read_text()
    cli.write(
        manifest.replace(
            "client_id: 1234.apps.googleusercontent.com}",
            'client_id: 1234.apps.googleusercontent.com, client_secret: "${env:GOOGLE_SECRET}"}',
        )
    )
    env = {"GOOGLE_SECRET": "GOCSPX-very-secret"}
    for command in (
        ["plan"],
        ["plan", "--format", "json"],
        ["apply", "--auto-approve"],
        ["verify"],
    ):
        result = cli.run(command[0], str(cli.folder), *command[1:], env=env)
        assert "GOCSPX-very-secret" not in result.output
        assert cli.emulator.api_key not in result.output
