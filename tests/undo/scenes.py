"""Scenes shared by the undo tests that restore (tests/undo) and those that refuse
(tests/hostile/test_undo.py)."""

from __future__ import annotations

from pathlib import Path

import httpx
from cli.conftest import BASE_CONFIGURATION, Cli
from cli.saved_plans import TARGET

from .conftest import journals

ORIGINAL = TARGET + BASE_CONFIGURATION

# A permission removed (WorkOS cannot delete a role), both roles stripped of it, an
# organization renamed, another added, a redirect URI added.
DAMAGING = (
    TARGET
    + """\
permissions:
  - {slug: "billing:manage", name: Manage billing}
roles:
  - {slug: admin, name: Admin, permissions: ["billing:manage"]}
  - {slug: member, name: Member}
organizations:
  - key: acme
    name: Acme (renamed)
    domains: [{domain: acme.com, state: verified}]
    metadata: {tier: free}
  - key: globex
    name: Globex
  - key: initech
    name: Initech
redirect_uris: [https://app.example.com/callback, https://evil.example.com/callback]
policy: {allow_delete: true}
"""
)


def apply_then_damage(cli: Cli) -> Path:
    """ORIGINAL applied, then DAMAGING: the journal of the damaging apply."""
    cli.write(ORIGINAL)
    first = cli.run("apply", str(cli.folder), "--auto-approve")
    assert first.exit_code == 0, first.output
    cli.write(DAMAGING)
    damage = cli.run("apply", str(cli.folder), "--auto-approve")
    assert damage.exit_code == 0, damage.output
    journal = journals()[-1]
    assert f"Wrote {journal}" in damage.output
    return journal


def rename_by_hand(cli: Cli, key: str, name: str) -> None:
    """What someone does in the dashboard after the apply: the live state moves on."""
    headers = {"Authorization": f"Bearer {cli.emulator.api_key}"}
    with httpx.Client(base_url=cli.emulator.url, headers=headers, timeout=10) as client:
        org = client.get(f"/organizations/external_id/{key}").raise_for_status().json()
        client.put(f"/organizations/{org['id']}", json={"name": name}).raise_for_status()
