"""The portable example (``manifests/examples/portable``) against the WorkOS and the Scalekit
emulators, changing only the ``target`` block; then what is Scalekit's own: token refresh on
401, its naming rules refused before any request, CORS origins it has no setting for, and a
Clerk import it can only partly carry."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from authform.cli import app
from authform.emulators import RunningEmulator
from authform.emulators.scalekit import set_dashboard_redirect_uri

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "manifests" / "examples" / "portable"
CLERK_EXPORT = REPO / "tests" / "fixtures" / "clerk"

TARGETS = {
    "workos": """target:
  provider: workos
  api_key: "${env:WORKOS_API_KEY}"
  client_id: "${env:WORKOS_CLIENT_ID}"
  base_url: "${env:WORKOS_BASE_URL}"
""",
    "scalekit": """target:
  provider: scalekit
  api_key: "${env:SCALEKIT_CLIENT_SECRET}"
  client_id: "${env:SCALEKIT_CLIENT_ID}"
  base_url: "${env:SCALEKIT_ENVIRONMENT_URL}"
""",
}
# What each provider cannot do through its API, for this example: the plan's manual steps.
MANUAL = {
    "workos": {"social_connection.google"},
    "scalekit": {
        "social_connection.google",
        "redirect_uri.https://app.example.com/callback",
        "redirect_uri.http://localhost:3000/callback",
    },
}


@dataclass
class Run:
    provider: str
    emulator: RunningEmulator
    folder: Path
    runner: CliRunner

    @property
    def env(self) -> dict[str, str]:
        return {
            "WORKOS_API_KEY": self.emulator.api_key,
            "WORKOS_CLIENT_ID": self.emulator.client_id,
            "WORKOS_BASE_URL": self.emulator.url,
            "SCALEKIT_CLIENT_SECRET": self.emulator.api_key,
            "SCALEKIT_CLIENT_ID": self.emulator.client_id,
            "SCALEKIT_ENVIRONMENT_URL": self.emulator.url,
            "NO_COLOR": "1",
        }

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Any:
        return self.runner.invoke(app, list(args), env={**self.env, **(env or {})})

    def plan_json(self) -> dict[str, Any]:
        result = self("plan", str(self.folder), "--format", "json")
        assert result.exit_code == 0, result.output
        plan: dict[str, Any] = json.loads(result.stdout)
        return plan

    def do_dashboard_steps(self, plan: dict[str, Any]) -> None:
        """What a person does in the provider's dashboard for each manual step."""
        for change in plan["changes"]:
            assert change["action"] == "manual", change
            if change["kind"] == "redirect_uri":
                set_dashboard_redirect_uri(self.emulator, change["key"], True)
        for change in plan["changes"]:  # social logins are probed through a redirect URL
            if change["kind"] == "social_connection":
                fields = {f["path"]: f["new"] for f in change["fields"]}
                self.emulator.set_social_connection(change["key"], fields["client_id"])


def with_target(folder: Path, provider: str) -> None:
    """Replace only the ``target`` block of the example's target.yaml."""
    path = folder / "target.yaml"
    text = path.read_text(encoding="utf-8")
    head = text[: text.index("\ntarget:\n") + 1]
    path.write_text(head + TARGETS[provider], encoding="utf-8")


@pytest.fixture(params=["workos", "scalekit"])
def portable(
    request: pytest.FixtureRequest,
    workos_emulator: RunningEmulator,
    scalekit_emulator: RunningEmulator,
    tmp_path: Path,
) -> Run:
    folder = tmp_path / "portable"
    shutil.copytree(EXAMPLE, folder)
    with_target(folder, request.param)
    emulator = workos_emulator if request.param == "workos" else scalekit_emulator
    return Run(request.param, emulator, folder, CliRunner())


@pytest.fixture
def scalekit(scalekit_emulator: RunningEmulator, tmp_path: Path) -> Run:
    folder = tmp_path / "manifests"
    folder.mkdir()
    return Run("scalekit", scalekit_emulator, folder, CliRunner())


def write(run: Run, text: str, name: str = "authform.yaml") -> None:
    (run.folder / name).write_text("version: 1\n" + TARGETS["scalekit"] + text, encoding="utf-8")


# --------------------------------------------------------------------------- the example


def test_only_the_target_block_differs(tmp_path: Path) -> None:
    for provider in TARGETS:
        folder = tmp_path / provider
        shutil.copytree(EXAMPLE, folder)
        with_target(folder, provider)
        for path in EXAMPLE.iterdir():
            if path.name != "target.yaml":
                assert (folder / path.name).read_bytes() == path.read_bytes()
        text = (folder / "target.yaml").read_text(encoding="utf-8")
        assert text.count("\ntarget:\n") == 1 and text.endswith(TARGETS[provider])


def test_the_portable_example_converges(portable: Run) -> None:
    planned = portable("plan", str(portable.folder), "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    assert "+ role.billing_admin" in planned.output
    # Planning writes nothing (Scalekit's token exchange is a POST that changes no state).
    assert [w for w in portable.emulator.writes() if w["path"] != "/oauth/token"] == []

    applied = portable("apply", str(portable.folder), "--auto-approve")
    # Everything the API can do is done; what only a dashboard can do is left.
    assert applied.exit_code == 2, applied.output
    assert "Manual steps still to do" in applied.output

    pending = portable("plan", str(portable.folder), "--detailed-exitcode")
    assert pending.exit_code == 2, pending.output
    plan = portable.plan_json()
    assert {c["address"] for c in plan["changes"]} == MANUAL[portable.provider]
    assert {c["action"] for c in plan["changes"]} == {"manual"}

    portable.do_dashboard_steps(plan)
    settled = portable("plan", str(portable.folder), "--detailed-exitcode")
    assert settled.exit_code == 0, settled.output
    assert "No changes" in settled.output
    verified = portable("verify", str(portable.folder))
    assert verified.exit_code == 0, verified.output
    assert "redirects to Google with client_id 1234567890-abc" in verified.output
    assert portable("drift", str(portable.folder)).exit_code == 0


def test_scalekit_plan_says_what_it_cannot_carry(portable: Run) -> None:
    result = portable("plan", str(portable.folder))
    assert result.exit_code == 0, result.output
    if portable.provider == "workos":
        assert "Scalekit" not in result.output
        return
    assert "permissions have no display name" in result.output
    assert "1 domain(s) are declared pending" in result.output
    assert "Authentication → Redirects and add https://app.example.com/callback" in result.output
    assert "Authentication → Auth Methods → Social logins" in result.output
    # The client secret and the access token it buys never reach the output.
    assert portable.emulator.api_key not in result.output
    assert "eyJ" not in result.output


# --------------------------------------------------------------------------- Scalekit's own


# Scalekit's alone: WorkOS uses a static API key, with no token to expire.
@pytest.mark.parametrize("portable", ["scalekit"], indirect=True)
def test_an_expired_token_is_refreshed_once_on_401(portable: Run) -> None:
    portable.emulator.add_fault(method="GET", path="^/api/v1/roles$", status=401, times=1)
    result = portable("plan", str(portable.folder), "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    log = portable.emulator.requests_log()
    assert [e["path"] for e in log].count("/oauth/token") == 2
    assert [(e["path"], e["status"]) for e in log if e["status"] == 401] == [("/api/v1/roles", 401)]
    tokens = [e for e in log if e["path"] == "/oauth/token"]
    assert all(e["body"]["client_secret"] == "(redacted)" for e in tokens)


def test_a_wrong_client_secret_is_a_clear_error(scalekit: Run) -> None:
    write(scalekit, "roles: []\n")
    result = scalekit("plan", str(scalekit.folder), env={"SCALEKIT_CLIENT_SECRET": "nope-123"})
    assert result.exit_code == 1
    assert "POST /oauth/token → HTTP 401 invalid_client" in result.output
    assert "nope-123" not in result.output
    assert scalekit.emulator.writes() == [
        e for e in scalekit.emulator.writes() if e["path"] == "/oauth/token"
    ]


def test_names_scalekit_refuses_are_errors_before_any_request(scalekit: Run) -> None:
    write(
        scalekit,
        """permissions:
  - {slug: "billing:manage", name: Billing}
  - {slug: "reports.read", name: Reports}
roles:
  - {slug: org-admin, name: Org admin, permissions: ["billing:manage"]}
organizations:
  - {key: acme, name: Acme, metadata: {id: "x"}}
""",
    )
    for command in (["validate"], ["plan"], ["apply", "--auto-approve"], ["verify"]):
        result = scalekit(command[0], str(scalekit.folder), *command[1:])
        assert result.exit_code == 1, (command, result.output)
        assert re.search(
            r"authform\.yaml:11:\d+: roles\[0\]\.slug: role slug 'org-admin' is not a valid "
            r"Scalekit role name: Scalekit allows only letters, digits and '_', 1-64",
            result.output,
        ), result.output
        assert re.search(
            r"authform\.yaml:9:\d+: permissions\[1\]\.slug: permission slug 'reports\.read'",
            result.output,
        )
        assert re.search(
            r"authform\.yaml:13:\d+: organizations\[0\]\.metadata\.id: metadata key 'id' has "
            r"2 characters, but Scalekit requires 3-25",
            result.output,
        )
    assert scalekit.emulator.requests_log() == []
    # The same names are fine for WorkOS: the rule is Scalekit's.
    text = (scalekit.folder / "authform.yaml").read_text(encoding="utf-8")
    (scalekit.folder / "authform.yaml").write_text(
        text.replace(TARGETS["scalekit"], TARGETS["workos"]), encoding="utf-8"
    )
    assert scalekit("validate", str(scalekit.folder)).exit_code == 0


def test_cors_origins_are_a_manual_step_that_says_scalekit_has_none(scalekit: Run) -> None:
    write(scalekit, "cors_origins: [https://app.example.com]\n")
    applied = scalekit("apply", str(scalekit.folder), "--auto-approve")
    assert applied.exit_code == 2, applied.output
    assert "! cors_origin.https://app.example.com" in applied.output
    assert "Scalekit has no CORS-origin setting" in applied.output
    assert "Remove cors_origins from a manifest that targets Scalekit" in applied.output
    assert [e for e in scalekit.emulator.writes() if e["path"] != "/oauth/token"] == []


# --------------------------------------------------------------------------- a Clerk import


def test_a_clerk_import_creates_users_inside_organizations_without_email_or_password(
    scalekit: Run, tmp_path: Path
) -> None:
    write(
        scalekit,
        f"""roles:
  - {{slug: admin, name: Admin}}
  - {{slug: member, name: Member}}
users:
  source:
    kind: clerk-csv
    path: {CLERK_EXPORT / "users.csv"}
    organizations: {CLERK_EXPORT / "organizations.json"}
    memberships: {CLERK_EXPORT / "memberships.json"}
  reports_dir: {tmp_path / "reports"}
""",
    )
    planned = scalekit("plan", str(scalekit.folder), "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    assert "have a password hash that Scalekit's API cannot import" in planned.output
    orphans = re.search(
        r"Scalekit: (\d+) user\(s\) have no organization membership", planned.output
    )
    assert orphans, planned.output
    assert "$2b$" not in planned.output

    applied = scalekit("apply", str(scalekit.folder), "--auto-approve")
    # Users with no organization cannot exist in Scalekit: their creates fail, by name.
    assert applied.exit_code == 1, applied.output
    failed = re.findall(r"FAILED user\.\S+: Scalekit: a user can only be created", applied.output)
    assert len(failed) == int(orphans.group(1)), applied.output
    log = scalekit.emulator.requests_log()
    creates = [e for e in log if e["method"] == "POST" and e["path"].endswith("/users")]
    assert creates and all(e["query"] == {"send_invitation_email": "false"} for e in creates)
    assert not any("password" in json.dumps(e["body"]) for e in creates)
    with httpx.Client(base_url=scalekit.emulator.url) as client:
        headers = {"Authorization": f"Bearer {scalekit.emulator.api_key}"}
        assert client.get("/_emulate/emails", headers=headers).json()["data"] == []
    mapping = json.loads((tmp_path / "reports" / "id-mapping.json").read_text())
    assert len(mapping["users"]) == len(creates) and len(mapping["organizations"]) == 3

    # What is left is exactly the users Scalekit cannot hold; everything else converged.
    # (The memberships apply lists as "not attempted" were created with their users: the
    # engine stops later kinds after a failure and cannot know that.)
    again = scalekit("plan", str(scalekit.folder), "--format", "json")
    left = json.loads(again.stdout)["changes"]
    assert {c["kind"] for c in left} == {"user"}
    assert len(left) == int(orphans.group(1))
