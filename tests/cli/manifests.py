"""Manifest text the CLI tests share, written once: the WorkOS target block that reads the
emulator's address and keys from the environment (``Cli.env`` sets them), the two roles an
import maps Clerk's to, and the Clerk fixture export as a ``users.source``. A test appends
what is its own (``reports_dir``, ``verify``, ...) after these."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "clerk"

WORKOS_TARGET = """\
version: 1
target:
  provider: workos
  api_key: "${env:WORKOS_API_KEY}"
  client_id: "${env:WORKOS_CLIENT_ID}"
  base_url: "${env:WORKOS_BASE_URL}"
"""

IMPORT_ROLES = """\
roles:
  - {slug: admin, name: Admin}
  - {slug: member, name: Member}
"""

# The Clerk fixture export (users, organizations, memberships) as a ``users.source``; the
# ``users`` mapping is left open for a test's own keys (two-space indented lines).
CLERK_FIXTURE_USERS = f"""\
users:
  source:
    kind: clerk-csv
    path: {FIXTURES / "users.csv"}
    organizations: {FIXTURES / "organizations.json"}
    memberships: {FIXTURES / "memberships.json"}
"""

# That export imported into WorkOS.
CLERK_CSV_IMPORT = WORKOS_TARGET + IMPORT_ROLES + CLERK_FIXTURE_USERS
