"""Scenes shared by the saved-plan tests that apply (tests/cli) and those that refuse
(tests/hostile)."""

from __future__ import annotations

from pathlib import Path

import httpx

from .conftest import BASE_MANIFEST, Cli

# The base manifest's target block alone: every test below adds the sections it needs.
TARGET = BASE_MANIFEST.split("permissions:")[0]


def organizations(cli: Cli) -> list[str]:
    """The external ids of the emulator's organizations, sorted."""
    headers = {"Authorization": f"Bearer {cli.emulator.api_key}"}
    with httpx.Client(base_url=cli.emulator.url, timeout=10) as client:
        data = client.get("/organizations", params={"limit": 100}, headers=headers).json()
    return sorted(o["external_id"] for o in data["data"])


def twelve_organizations_then_five(cli: Cli) -> None:
    """Twelve organizations applied, then a manifest keeping five with deletes allowed: a plan
    that deletes 7 of 12, refused by the 30% threshold unless --force."""
    orgs = [f"  - {{key: org{i:02}, name: Org {i}}}" for i in range(12)]
    cli.write(TARGET + "organizations:\n" + "\n".join(orgs) + "\n")
    applied = cli.run("apply", str(cli.folder), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    kept = "\n".join(orgs[:5])
    cli.write(TARGET + "organizations:\n" + kept + "\npolicy: {allow_delete: true}\n")


def checkout(root: Path, organization_name: str) -> Path:
    """A checkout at ``root`` whose ``manifests`` folder holds one organization."""
    folder = root / "manifests"
    folder.mkdir(parents=True)
    text = TARGET + f"organizations: [{{key: acme, name: {organization_name}}}]\n"
    (folder / "authform.yaml").write_text(text, encoding="utf-8")
    return root
