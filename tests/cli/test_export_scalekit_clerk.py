"""`authform export` from Scalekit and Clerk: every target with a read API exports, and what
it writes plans back to no changes against the same tenant."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from authform.cli import app
from authform.emulators import RunningEmulator

REPO = Path(__file__).resolve().parents[2]
PORTABLE = REPO / "manifests" / "examples" / "portable"

SCALEKIT_TARGET = """version: 1
target:
  provider: scalekit
  api_key: "${env:SCALEKIT_CLIENT_SECRET}"
  client_id: "${env:SCALEKIT_CLIENT_ID}"
  base_url: "${env:SCALEKIT_ENVIRONMENT_URL}"
"""
CLERK_MANIFEST = """version: 1
target:
  provider: clerk
  api_key: "${env:CLERK_SECRET_KEY}"
  base_url: "${env:CLERK_API_URL}"
permissions:
  - {slug: "org:billing:manage", name: Manage billing, description: Change plans}
  - {slug: "org:reports:read", name: Read reports}
roles:
  - {slug: "org:admin", name: Admin, permissions: ["org:billing:manage", "org:reports:read"]}
  - {slug: "org:member", name: Member, permissions: ["org:reports:read"]}
  - {slug: "org:billing", name: Billing, description: Finance, permissions: ["org:billing:manage"]}
organizations:
  - key: acme
    name: Acme Inc
    domains: [{domain: acme.com, state: verified}]
    metadata: {tier: enterprise}
  - {key: globex, name: Globex}
redirect_uris: [https://app.example.com/sso-callback, "http://localhost:3000/sso-callback"]
cors_origins: [https://app.example.com]
"""


def credentials(provider: str, emulator: RunningEmulator) -> dict[str, str | None]:
    if provider == "scalekit":
        return {
            "SCALEKIT_CLIENT_SECRET": emulator.api_key,
            "SCALEKIT_CLIENT_ID": emulator.client_id,
            "SCALEKIT_ENVIRONMENT_URL": emulator.url,
        }
    return {"CLERK_SECRET_KEY": emulator.api_key, "CLERK_API_URL": emulator.url}


def run(provider: str, emulator: RunningEmulator, *args: str, **env: str | None) -> Any:
    variables = {**credentials(provider, emulator), "NO_COLOR": "1", **env}
    return CliRunner().invoke(app, list(args), env=variables)


def source_manifest(provider: str, tmp_path: Path) -> Path:
    folder = tmp_path / "manifests"
    if provider == "scalekit":
        shutil.copytree(PORTABLE, folder)
        (folder / "target.yaml").write_text(SCALEKIT_TARGET, encoding="utf-8")
    else:
        folder.mkdir()
        (folder / "authform.yaml").write_text(CLERK_MANIFEST, encoding="utf-8")
    return folder


def read_folder(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.yaml"))}


EXPECTED_FILES = {
    "scalekit": ["organizations.yaml", "permissions.yaml", "roles.yaml", "target.yaml"],
    "clerk": [
        "cors_origins.yaml",
        "organizations.yaml",
        "permissions.yaml",
        "redirect_uris.yaml",
        "roles.yaml",
        "target.yaml",
    ],
}
EXPECTED_TARGET = {
    "scalekit": {
        "provider": "scalekit",
        "api_key": "${env:SCALEKIT_CLIENT_SECRET}",
        "client_id": "${env:SCALEKIT_CLIENT_ID}",
        "base_url": "${env:SCALEKIT_ENVIRONMENT_URL}",
    },
    "clerk": {
        "provider": "clerk",
        "api_key": "${env:CLERK_SECRET_KEY}",
        "base_url": "${env:CLERK_API_URL}",
    },
}


@pytest.fixture(params=["scalekit", "clerk"])
def tenant(request, scalekit_emulator, clerk_emulator) -> tuple[str, RunningEmulator]:
    provider = request.param
    return provider, scalekit_emulator if provider == "scalekit" else clerk_emulator


def test_export_round_trips_to_no_changes(tenant, tmp_path):
    provider, emulator = tenant
    manifests = source_manifest(provider, tmp_path)
    applied = run(provider, emulator, "apply", str(manifests), "--auto-approve")
    assert applied.exit_code in (0, 2), applied.output  # 2: the dashboard steps remain
    emulator.clear_log()

    out = tmp_path / "exported"
    exported = run(provider, emulator, "export", "--provider", provider, "--out", str(out))
    assert exported.exit_code == 0, exported.output
    # export only reads (buying Scalekit's access token is no change to the tenant)
    assert [w for w in emulator.writes() if w["path"] != "/oauth/token"] == []
    assert sorted(p.name for p in out.iterdir()) == EXPECTED_FILES[provider]
    target = yaml.safe_load((out / "target.yaml").read_text())["target"]
    assert target == EXPECTED_TARGET[provider]
    for text in [*read_folder(out).values(), exported.output]:
        assert emulator.api_key not in text  # placeholders only, never the secret
    assert "Not exported: social connections" in (out / "target.yaml").read_text() or (
        "Not exported: redirect URIs and social connections" in (out / "target.yaml").read_text()
    )

    planned = run(provider, emulator, "plan", str(out), "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    assert "No changes" in planned.output

    # What was exported is what the manifest declared.
    roles = {r["slug"]: r for r in yaml.safe_load((out / "roles.yaml").read_text())["roles"]}
    organizations = yaml.safe_load((out / "organizations.yaml").read_text())["organizations"]
    assert {o["key"] for o in organizations} == {"acme", "globex"}
    acme = next(o for o in organizations if o["key"] == "acme")
    assert acme["name"] == "Acme Inc" and acme["metadata"]["tier"] == "enterprise"
    if provider == "clerk":
        assert roles["org:billing"]["permissions"] == ["org:billing:manage"]
        assert yaml.safe_load((out / "cors_origins.yaml").read_text()) == {
            "cors_origins": ["https://app.example.com"]
        }
    else:
        assert roles["billing_admin"]["permissions"] == ["billing:manage", "reports:read"]

    # Exporting the same state again gives the same bytes (export, then git diff).
    again = tmp_path / "again"
    assert (
        run(provider, emulator, "export", "--provider", provider, "--out", str(again)).exit_code
        == 0
    )
    assert read_folder(again) == read_folder(out)


def test_a_change_made_in_the_provider_shows_in_a_re_export(tenant, tmp_path):
    """The point of exporting over the folder: the diff is what someone changed by hand."""
    provider, emulator = tenant
    manifests = source_manifest(provider, tmp_path)
    run(provider, emulator, "apply", str(manifests), "--auto-approve")
    out = tmp_path / "exported"
    assert (
        run(provider, emulator, "export", "--provider", provider, "--out", str(out)).exit_code == 0
    )
    before = read_folder(out)
    rename_organization(provider, emulator, "globex", "Globex Holdings")
    assert (
        run(provider, emulator, "export", "--provider", provider, "--out", str(out)).exit_code == 0
    )
    after = read_folder(out)
    assert [name for name in before if before[name] != after[name]] == ["organizations.yaml"]
    assert "Globex Holdings" in after["organizations.yaml"]


def rename_organization(provider: str, emulator: RunningEmulator, key: str, name: str) -> None:
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        if provider == "clerk":
            headers = {"Authorization": f"Bearer {emulator.api_key}"}
            found = client.get("/v1/organizations", params={"query": key}, headers=headers).json()
            [org] = [o for o in found["data"] if o["slug"] == key]
            response = client.patch(
                f"/v1/organizations/{org['id']}", json={"name": name}, headers=headers
            )
        else:
            token = client.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": emulator.client_id,
                    "client_secret": emulator.api_key,
                },
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            found = client.get(f"/api/v1/organizations:external/{key}", headers=headers).json()
            org_id = found["organization"]["id"]
            response = client.patch(
                f"/api/v1/organizations/{org_id}", json={"display_name": name}, headers=headers
            )
    response.raise_for_status()


def test_a_scalekit_organization_without_external_id_is_adopted_once(scalekit_emulator, tmp_path):
    """Scalekit organizations made in its dashboard have no external_id: export gives each a
    key from its name, the first plan adopts it (no create, no delete), one apply stores it."""
    emulator = scalekit_emulator
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        token = client.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": emulator.client_id,
                "client_secret": emulator.api_key,
            },
        ).json()["access_token"]
        created = client.post(
            "/api/v1/organizations",
            json={"display_name": "Initech Ltd"},
            headers={"Authorization": f"Bearer {token}"},
        )
    created.raise_for_status()
    out = tmp_path / "exported"
    exported = run("scalekit", emulator, "export", "--provider", "scalekit", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    [organization] = yaml.safe_load((out / "organizations.yaml").read_text())["organizations"]
    assert organization["key"] == "initech-ltd"
    planned = run("scalekit", emulator, "plan", str(out), "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    assert "which has no key yet" in planned.output
    assert "0 to create, 1 to update, 0 to replace, 0 to delete" in planned.output
    applied = run("scalekit", emulator, "apply", str(out), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    again = run("scalekit", emulator, "plan", str(out), "--detailed-exitcode")
    assert again.exit_code == 0, again.output
