"""The manifest the import benchmarks plan and apply: a WorkOS target at an emulator's URL with
the given rate-limit windows, two roles, and a synthetic Clerk export as the user source."""

from __future__ import annotations

from pathlib import Path

from authform.sources.synthetic import SyntheticExport


def import_manifest(
    export: SyntheticExport,
    url: str,
    windows: dict[str, tuple[int, float]],
    reports: Path,
    *,
    role_map: bool = False,
) -> str:
    """``windows``: each rate-limit window's (requests, seconds). ``role_map`` maps Clerk's
    organization roles onto the two roles (without it, memberships take the default role)."""
    limits = "\n".join(
        f"    {name}: {{requests: {requests}, per_seconds: {seconds:.4f}}}"
        for name, (requests, seconds) in windows.items()
    )
    mapping = '  role_map: {"org:admin": admin, "org:member": member}\n' if role_map else ""
    return f"""version: 1
target:
  provider: workos
  api_key: "${{env:WORKOS_API_KEY}}"
  base_url: "{url}"
  rate_limits:
{limits}
roles:
  - {{slug: admin, name: Admin}}
  - {{slug: member, name: Member}}
users:
  source:
    kind: clerk-csv
    path: {export.users_csv}
    organizations: {export.organizations_json}
    memberships: {export.memberships_json}
{mapping}  reports_dir: {reports}
"""
