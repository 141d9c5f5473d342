"""One manifest shape for the three HTTP providers, so a test can run the same story against
WorkOS, Scalekit and Clerk emulators: the target block, role slugs each accepts, and a small
Clerk export written into the test's folder."""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from authform.cli import app
from authform.emulators import RunningEmulator
from authform.sources.synthetic import SyntheticExport, write_synthetic_export

PROVIDERS = ("workos", "scalekit", "clerk")

# The roles a Clerk export's org:admin / org:member map to by default on each target.
ROLES = {
    "workos": ("admin", "member"),
    "scalekit": ("admin", "member"),
    "clerk": ("org:admin", "org:member"),
}


def target_block(provider: str) -> str:
    extra = ""
    if provider != "clerk":
        extra += '  client_id: "${env:T_CLIENT_ID}"\n'
    if provider == "clerk":
        # The emulator enforces Clerk's development-key limit; 429s are honoured anyway.
        extra += "  rate_limits: {instance: {requests: 100, per_seconds: 10}}\n"
    return (
        "version: 1\n"
        "target:\n"
        f"  provider: {provider}\n"
        '  api_key: "${env:T_API_KEY}"\n'
        '  base_url: "${env:T_BASE_URL}"\n' + extra
    )


def roles_block(provider: str) -> str:
    admin, member = ROLES[provider]
    return f'roles:\n  - {{slug: "{admin}", name: Admin}}\n  - {{slug: "{member}", name: Member}}\n'


def users_block(export: SyntheticExport, reports: Path) -> str:
    return textwrap.dedent(
        f"""\
        users:
          source:
            kind: clerk-csv
            path: {export.users_csv}
            organizations: {export.organizations_json}
            memberships: {export.memberships_json}
          reports_dir: {reports}
        """
    )


@dataclass
class Target:
    """The CLI pointed at one provider's emulator, with a manifest folder of its own."""

    provider: str
    emulator: RunningEmulator
    folder: Path
    runner: CliRunner = field(default_factory=CliRunner)

    @property
    def env(self) -> dict[str, str]:
        return {
            "T_API_KEY": self.emulator.api_key,
            "T_CLIENT_ID": self.emulator.client_id,
            "T_BASE_URL": self.emulator.url,
            "NO_COLOR": "1",
        }

    def write(self, text: str, name: str = "authform.yaml") -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / name
        path.write_text(text, encoding="utf-8")
        return path

    def __call__(self, *args: str) -> Any:
        return self.runner.invoke(app, list(args), env=self.env)

    def export(self, tmp_path: Path, **sizes: int) -> SyntheticExport:
        return write_synthetic_export(tmp_path / "export", **sizes)

    def get(self, path: str, **params: Any) -> Any:
        prefix = {"workos": "", "scalekit": "/api/v1", "clerk": "/v1"}[self.provider]
        with httpx.Client(base_url=self.emulator.url, timeout=10) as client:
            response = client.get(
                prefix + path, params=params, headers={"Authorization": f"Bearer {self.token()}"}
            )
        response.raise_for_status()
        return response.json()

    def token(self) -> str:
        if self.provider != "scalekit":
            return self.emulator.api_key
        with httpx.Client(base_url=self.emulator.url, timeout=10) as client:
            answer = client.post(
                "/oauth/token",
                data={
                    "client_id": self.emulator.client_id,
                    "client_secret": self.emulator.api_key,
                    "grant_type": "client_credentials",
                },
            )
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    def user_ids_by_key(self) -> dict[str, str]:
        """External id → provider id of every user, read straight from the emulator."""
        if self.provider == "workos":
            users = self.get("/user_management/users", limit=100)["data"]
        elif self.provider == "scalekit":
            users = self.get("/users", page_size=100)["users"]
        else:
            users = self.get("/users", limit=500)
        return {u["external_id"]: u["id"] for u in users if u.get("external_id")}

    def user_email(self, key: str) -> str:
        if self.provider == "workos":
            return str(self.get(f"/user_management/users/external_id/{key}")["email"])
        if self.provider == "scalekit":
            return str(self.get(f"/users:external/{key}")["user"]["email"])
        (user,) = self.get("/users", external_id=key)
        primary = user["primary_email_address_id"]
        return next(a["email_address"] for a in user["email_addresses"] if a["id"] == primary)


def api_writes(target: Target) -> list[dict[str, Any]]:
    """The writes that change the tenant (Scalekit's token request is a POST that does not)."""
    return [w for w in target.emulator.writes() if w["path"] != "/oauth/token"]


def plan_json(target: Target) -> dict[str, Any]:
    result = target("plan", str(target.folder), "--format", "json")
    assert result.exit_code in (0, 2), result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document
