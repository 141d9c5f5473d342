"""Clerk as a target, through the CLI against Clerk emulators: plan → apply → plan → drift →
verify; bad input refused before any request; a user import with digests of several hashers;
``--emulate``; and the promotion example (``manifests/examples/clerk``): one manifest set,
a development and a production instance, each plan naming its environment."""

from __future__ import annotations

import json
import shutil
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from authform.cli import app
from authform.emulators import RunningEmulator
from authform.emulators.server import loopback_client

from .manifests import CLERK_FIXTURE_USERS

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "manifests" / "examples" / "clerk"
FIXTURES = REPO / "tests" / "fixtures" / "clerk"

TARGET = """\
version: 1
target:
  provider: clerk
  api_key: "${env:CLERK_SECRET_KEY}"
  base_url: "${env:CLERK_API_URL}"
  rate_limits: {instance: {requests: 10000, per_seconds: 1}}
"""
CONFIGURATION = """\
permissions:
  - {slug: "org:billing:manage", name: Manage billing}
  - {slug: "org:reports:read", name: Read reports, description: See the dashboards}
roles:
  - {slug: "org:admin", name: Admin, permissions: ["org:billing:manage", "org:reports:read"]}
  - {slug: "org:member", name: Member, permissions: ["org:reports:read"]}
  - {slug: "org:billing", name: Billing, permissions: ["org:billing:manage"]}
organizations:
  - key: acme
    name: Acme Inc
    domains: [{domain: acme.com, state: verified}]
    metadata: {tier: enterprise}
  - {key: globex, name: Globex}
redirect_uris: [https://app.example.com/sso-callback]
cors_origins: [https://app.example.com]
social_connections:
  - {provider: google, client_id: 1234.apps.googleusercontent.com}
"""


@dataclass
class Clerk:
    """The CLI pointed at one or two Clerk emulators (development, and production)."""

    emulator: RunningEmulator
    folder: Path
    production: RunningEmulator | None = None
    runner: CliRunner = field(default_factory=CliRunner)

    @property
    def env(self) -> dict[str, str]:
        env = {
            "CLERK_SECRET_KEY": self.emulator.api_key,
            "CLERK_API_URL": self.emulator.url,
            "CLERK_DEV_SECRET_KEY": self.emulator.api_key,
            "CLERK_DEV_API_URL": self.emulator.url,
            "NO_COLOR": "1",
        }
        if self.production is not None:
            env["CLERK_PROD_SECRET_KEY"] = self.production.api_key
            env["CLERK_PROD_API_URL"] = self.production.url
        return env

    def write(self, text: str, name: str = "authform.yaml") -> None:
        (self.folder / name).write_text(textwrap.dedent(text), encoding="utf-8")

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Any:
        return self.runner.invoke(app, list(args), env={**self.env, **(env or {})})


def api(emulator: RunningEmulator, method: str, path: str, **kwargs: Any) -> Any:
    with loopback_client() as client:
        response = client.request(
            method,
            f"{emulator.url}/v1{path}",
            headers={"Authorization": f"Bearer {emulator.api_key}"},
            **kwargs,
        )
    response.raise_for_status()
    return response.json() if response.content else None


@pytest.fixture
def clerk(clerk_emulator: RunningEmulator, tmp_path: Path) -> Clerk:
    folder = tmp_path / "manifests"
    folder.mkdir()
    helper = Clerk(clerk_emulator, folder)
    helper.write(TARGET + CONFIGURATION)
    return helper


# --------------------------------------------------------------------------- the lifecycle


def test_plan_apply_converges_and_verify_checks_what_clerk_can_show(clerk: Clerk) -> None:
    planned = clerk("plan", str(clerk.folder), "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    assert "+ permission.org:billing:manage" in planned.output
    assert "~ role.org:admin" in planned.output  # a default role: its permissions change
    assert "+ organization.acme" in planned.output
    assert "! social_connection.google" in planned.output
    assert f"{clerk.emulator.url}/fapi/v1/oauth_callback" in planned.output
    assert "the secret key belongs to the development instance" in planned.output
    assert "no Clerk API reveals their OAuth client id" in planned.output
    assert clerk.emulator.writes() == []

    applied = clerk("apply", str(clerk.folder), "--auto-approve")
    assert applied.exit_code == 2, applied.output  # the dashboard step is left
    assert "Manual steps still to do" in applied.output
    assert clerk.emulator.api_key not in applied.output

    failed = clerk("verify", str(clerk.folder))
    assert failed.exit_code == 3 and "FAIL social_connection.google: missing" in failed.output
    clerk.emulator.set_social_connection("google", "1234.apps.googleusercontent.com")
    again = clerk("plan", str(clerk.folder), "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output
    verified = clerk("verify", str(clerk.folder))
    assert verified.exit_code == 0, verified.output
    assert "Google (oauth_google) is enabled" in verified.output
    assert "client id cannot be read from Clerk and is not checked" in verified.output

    roles = {r["key"]: r for r in api(clerk.emulator, "GET", "/organization_roles")["data"]}
    assert {p["key"] for p in roles["org:billing"]["permissions"]} == {"org:billing:manage"}
    acme = api(clerk.emulator, "GET", "/organizations/acme")
    assert (acme["name"], acme["public_metadata"]) == ("Acme Inc", {"tier": "enterprise"})
    assert api(clerk.emulator, "GET", "/instance")["allowed_origins"] == ["https://app.example.com"]


def test_drift_by_hand_exits_2_and_names_the_fields(clerk: Clerk) -> None:
    clerk("apply", str(clerk.folder), "--auto-approve")
    clerk.emulator.set_social_connection("google", "1234.apps.googleusercontent.com")
    assert clerk("drift", str(clerk.folder)).exit_code == 0

    acme = api(clerk.emulator, "GET", "/organizations/acme")
    api(clerk.emulator, "PATCH", f"/organizations/{acme['id']}", json={"name": "Acme (by hand)"})
    api(
        clerk.emulator,
        "PATCH",
        "/instance",
        json={"allowed_origins": ["https://app.example.com", "https://evil.example"]},
    )
    roles = {r["key"]: r for r in api(clerk.emulator, "GET", "/organization_roles")["data"]}
    billing = next(p for p in roles["org:billing"]["permissions"] if p["key"] != "")
    api(
        clerk.emulator,
        "DELETE",
        f"/organization_roles/{roles['org:billing']['id']}/permissions/{billing['id']}",
    )
    drift = clerk("drift", str(clerk.folder))
    assert drift.exit_code == 2, drift.output
    assert '"Acme (by hand)" → "Acme Inc"' in drift.output
    assert "~ role.org:billing" in drift.output and '+ "org:billing:manage"' in drift.output
    assert "- cors_origin.https://evil.example  [not applied: deletes are not allowed" in (
        drift.output
    )
    clerk.write(TARGET + CONFIGURATION + "policy: {allow_delete: true}\n")
    assert clerk("apply", str(clerk.folder), "--auto-approve").exit_code == 0
    assert clerk("drift", str(clerk.folder)).exit_code == 0
    assert api(clerk.emulator, "GET", "/instance")["allowed_origins"] == ["https://app.example.com"]


def test_clerks_key_rules_are_refused_before_any_request(clerk: Clerk) -> None:
    clerk.write(
        TARGET
        + """\
permissions:
  - {slug: "billing:manage", name: Manage billing}
  - {slug: "org:sys_domains:manage", name: Reserved}
roles:
  - {slug: admin, name: Admin}
organizations:
  - {key: Acme_Inc, name: Acme}
"""
    )
    for command in (["plan"], ["apply", "--auto-approve"], ["verify"], ["drift"]):
        result = clerk(*command, str(clerk.folder))
        assert result.exit_code == 1, result.output
        assert "authform.yaml:8:12: permissions[0].slug: permission 'billing:manage' is not a " in (
            result.output
        )
        assert "authform.yaml:9:12: permissions[1].slug: permission 'org:sys_domains:manage' " in (
            result.output
        )
        assert "authform.yaml:11:12: roles[0].slug: role 'admin' is not a valid Clerk role key" in (
            result.output
        )
        assert "organizations[0].key: organization key 'Acme_Inc' is not a valid Clerk slug" in (
            result.output
        )
    assert clerk.emulator.requests_log() == []  # not even a read


def test_a_wrong_secret_key_is_a_clear_error_that_never_shows_the_key(clerk: Clerk) -> None:
    result = clerk("plan", str(clerk.folder), env={"CLERK_SECRET_KEY": "sk_test_not_the_key"})
    assert result.exit_code == 1
    assert "clerk_key_invalid" in result.output and "check the secret key" in result.output
    assert "sk_test_not_the_key" not in result.output
    assert clerk.emulator.writes() == []


# --------------------------------------------------------------------------- a user import


def test_a_clerk_export_imports_into_clerk_with_every_digest_it_can_carry(
    clerk: Clerk, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    clerk.write(
        TARGET
        + f"""\
roles:
  - {{slug: "org:admin", name: Admin}}
  - {{slug: "org:member", name: Member}}
{CLERK_FIXTURE_USERS}  reports_dir: {reports}
verify:
  password_logins:
    - {{email: grace@example.com, password: "cobol-forever-1959"}}
    - {{email: jose.nunez@example.es, password: "contraseña-segura"}}
"""
    )
    planned = clerk("plan", str(clerk.folder), "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    # The pbkdf2_sha256 digest WorkOS would drop imports into Clerk.
    assert "11 to import (8 with a password hash, 3 without" in planned.output
    assert "password_hash  : pbkdf2_sha256 hash (set)" in planned.output
    assert "+ organization.acme" in planned.output  # keyed by the source's slug
    assert 'role         : "org:member"' in planned.output  # basic_member carried over
    assert "$2b$10$" not in planned.output and "pbkdf2_sha256$260000" not in planned.output
    as_json = clerk("plan", str(clerk.folder), "--format", "json").output
    assert "$2b$10$" not in as_json and "pbkdf2_sha256$260000" not in as_json
    assert clerk.emulator.writes() == []

    applied = clerk("apply", str(clerk.folder), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    again = clerk("plan", str(clerk.folder), "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    verified = clerk("verify", str(clerk.folder))
    assert verified.exit_code == 0, verified.output
    assert "ok   password login grace@example.com: password verified" in verified.output

    mapping = json.loads((reports / "id-mapping.json").read_text(encoding="utf-8"))
    assert mapping["provider"] == "clerk"
    assert set(mapping["organizations"]) == {"acme", "globex", "empty-org"}
    assert len(mapping["users"]) == 11
    for path in reports.iterdir():
        text = path.read_text(encoding="utf-8")
        assert "$2" not in text and "pbkdf2_sha256$" not in text
    logged = json.dumps(clerk.emulator.requests_log())
    assert "$2b$10$" not in logged and "pbkdf2_sha256$260000" not in logged
    user = api(
        clerk.emulator, "GET", "/users", params={"external_id": "user_2aPbkdf00000000000000009"}
    )
    assert user[0]["password_enabled"] is True


# --------------------------------------------------------------------------- --emulate


def test_the_example_runs_on_the_embedded_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "clerk")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    env = {"NO_COLOR": "1"}
    applied = runner.invoke(
        app, ["apply", "clerk", "--emulate", "-e", "development", "--auto-approve"], env=env
    )
    # As on the real instance: the social connection is a dashboard step, left pending.
    assert applied.exit_code == 2, applied.output
    assert "! social_connection.google" in applied.output
    unverified = runner.invoke(app, ["verify", "clerk", "--emulate", "-e", "development"], env=env)
    assert unverified.exit_code == 3, unverified.output
    clicked = runner.invoke(app, ["emulator", "dashboard", "clerk", "-e", "development"], env=env)
    assert clicked.exit_code == 0, clicked.output
    assert "done on the emulated dashboard: social_connection.google" in clicked.output
    planned = runner.invoke(
        app, ["plan", "clerk", "--emulate", "-e", "development", "--detailed-exitcode"], env=env
    )
    assert planned.exit_code == 0, planned.output
    assert "authform plan for clerk (environment: development)" in planned.output
    verified = runner.invoke(app, ["verify", "clerk", "--emulate", "-e", "development"], env=env)
    assert verified.exit_code == 0, verified.output


# --------------------------------------------------------------------------- promotion


def plan_json(clerk: Clerk, environment: str) -> dict[str, Any]:
    result = clerk("plan", str(clerk.folder), "-e", environment, "--format", "json")
    assert result.exit_code == 0, result.output
    plan: dict[str, Any] = json.loads(result.stdout)
    return plan


def test_one_manifest_promoted_from_development_to_production(
    clerk_emulator: RunningEmulator,
    clerk_production_emulator: RunningEmulator,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "clerk"
    shutil.copytree(EXAMPLE, folder)
    clerk = Clerk(clerk_emulator, folder, production=clerk_production_emulator)
    development, production = clerk_emulator, clerk_production_emulator

    # Which instance: the manifest defines two, so a command must name one.
    unnamed = clerk("plan", str(folder))
    assert unnamed.exit_code == 1 and "choose one with --environment" in unnamed.output
    assert development.requests_log() == [] and production.requests_log() == []

    # 1. In the pull request: plan against development, then apply there.
    planned = clerk("plan", str(folder), "-e", "development", "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    assert "authform plan for clerk (environment: development)" in planned.output
    assert "the secret key belongs to the development instance" in planned.output
    assert "+ cors_origin.http://localhost:3000" in planned.output
    applied = clerk("apply", str(folder), "-e", "development", "--auto-approve")
    assert applied.exit_code == 2, applied.output  # the dashboard step for Google
    assert "1234-dev.apps.googleusercontent.com" in applied.output
    development.set_social_connection("google", "1234-dev.apps.googleusercontent.com")
    assert clerk("drift", str(folder), "-e", "development").exit_code == 0
    assert production.requests_log() == []  # nothing touched production

    # 2. On merge: the plan for production names production and shows production's values.
    plan = plan_json(clerk, "production")
    assert (plan["provider"], plan["environment"]) == ("clerk", "production")
    addresses = {(c["action"], c["address"]) for c in plan["changes"]}
    assert ("create", "cors_origin.https://app.example.com") in addresses
    assert ("create", "cors_origin.http://localhost:3000") not in addresses
    assert ("create", "redirect_uri.http://localhost:3000/sso-callback") not in addresses
    google = next(c for c in plan["changes"] if c["address"] == "social_connection.google")
    assert google["action"] == "manual"
    assert any("5678-prod.apps.googleusercontent.com" in step for step in google["instructions"])
    text = clerk("plan", str(folder), "-e", "production").output
    assert "authform plan for clerk (environment: production)" in text
    assert "the secret key belongs to the production instance" in text

    applied = clerk("apply", str(folder), "-e", "production", "--auto-approve")
    assert applied.exit_code == 2, applied.output
    production.set_social_connection("google", "5678-prod.apps.googleusercontent.com")
    for environment in ("development", "production"):
        drift = clerk("drift", str(folder), "-e", environment)
        assert drift.exit_code == 0, (environment, drift.output)
        assert clerk("verify", str(folder), "-e", environment).exit_code == 0

    # 3. Both instances now hold the same configuration, apart from what differs by design.
    for emulator in (development, production):
        roles = {r["key"] for r in api(emulator, "GET", "/organization_roles")["data"]}
        assert roles == {"org:admin", "org:member", "org:billing"}
        assert api(emulator, "GET", "/organizations/acme")["public_metadata"] == {
            "tier": "enterprise"
        }
    assert sorted(api(development, "GET", "/instance")["allowed_origins"]) == [
        "http://localhost:3000",
        "https://app.example.com",
    ]
    assert api(production, "GET", "/instance")["allowed_origins"] == ["https://app.example.com"]
    assert [u["url"] for u in api(production, "GET", "/redirect_urls")] == [
        "https://app.example.com/sso-callback"
    ]

    # 4. Someone edits production by hand: the nightly drift of production fails, and says
    #    what; development is still in step.
    acme = api(production, "GET", "/organizations/acme")
    api(production, "PUT", f"/organizations/{acme['id']}/metadata", json={"public_metadata": {}})
    drift = clerk("drift", str(folder), "-e", "production")
    assert drift.exit_code == 2, drift.output
    assert "(environment: production)" in drift.output and "~ organization.acme" in drift.output
    assert clerk("drift", str(folder), "-e", "development").exit_code == 0

    # 5. A plan saved for one environment is applied to that environment only.
    saved = tmp_path / "plan.json"
    assert clerk("plan", str(folder), "-e", "production", "--out", str(saved)).exit_code == 0
    header = saved.read_text(encoding="utf-8").splitlines()[0]
    assert json.loads(header)["environment"] == "production"
    assert clerk("apply", str(saved), "--auto-approve").exit_code == 0
    assert clerk("drift", str(folder), "-e", "production").exit_code == 0


def test_the_example_validates_for_every_environment() -> None:
    result = CliRunner().invoke(
        app,
        ["validate", str(EXAMPLE)],
        env={"CLERK_DEV_SECRET_KEY": "sk_test_x", "CLERK_PROD_SECRET_KEY": "sk_live_x"},
    )
    assert result.exit_code == 0, result.output
    assert "environments: development, production" in result.output
