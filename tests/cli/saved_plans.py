"""Scenes shared by the saved-plan tests that apply (tests/cli) and those that refuse
(tests/hostile)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from authform.saved_plan.seal import canonical

from .conftest import Cli
from .manifests import WORKOS_TARGET

# The target block alone: every test below adds the sections it needs.
TARGET = WORKOS_TARGET


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


def read_plan_file(path: Path) -> dict[str, Any]:
    """A saved plan as one document: its header line, ``changes`` (one per line after it)
    and its seal line. Only for small test plans: authform itself never loads one whole."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header, *changes, trailer = (json.loads(line) for line in lines)
    return {**header, "changes": changes, **trailer}


def write_plan_file(path: Path, document: dict[str, Any]) -> None:
    """Lay ``document`` out as ``plan --out`` does: the header line, each change on a line of
    its own in canonical form, then the seal line (so an untouched part stays sealed)."""
    seal_keys = ("seal", "plan_digest")
    header = {k: v for k, v in document.items() if k not in ("changes", *seal_keys)}
    trailer = {k: document[k] for k in seal_keys if k in document}
    lines = [json.dumps(header).encode()]
    lines += [canonical(change) for change in document.get("changes", [])]
    lines.append(json.dumps(trailer).encode())
    path.write_bytes(b"".join(line + b"\n" for line in lines))
