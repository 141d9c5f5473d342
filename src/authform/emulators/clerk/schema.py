"""The Clerk emulator's tables, and the two writes every resource family makes."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any, Final

from ..store import SqliteStore
from .family import now_ms

CLERK_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS clerk_permissions (
    id TEXT PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '', type TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS clerk_org_roles (
    id TEXT PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL, description TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS clerk_role_permissions (
    role_id TEXT NOT NULL REFERENCES clerk_org_roles(id) ON DELETE CASCADE,
    permission_id TEXT NOT NULL REFERENCES clerk_permissions(id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
);
CREATE TABLE IF NOT EXISTS clerk_redirect_urls (
    id TEXT PRIMARY KEY, url TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
-- One row: the instance's settings that PATCH /v1/instance changes and GET reads back.
CREATE TABLE IF NOT EXISTS clerk_instance (
    id TEXT PRIMARY KEY, settings TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS clerk_organization_domains (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES clerk_organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL UNIQUE, enrollment_mode TEXT NOT NULL, verified INTEGER NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS clerk_organization_domains_by_org
    ON clerk_organization_domains(organization_id, created_at);
CREATE TABLE IF NOT EXISTS clerk_users (
    id TEXT PRIMARY KEY, external_id TEXT UNIQUE, username TEXT,
    first_name TEXT, last_name TEXT, locale TEXT,
    primary_email_address_id TEXT, primary_phone_number_id TEXT,
    password_digest TEXT, password_hasher TEXT, password_last_updated_at INTEGER,
    totp_secret TEXT, backup_codes TEXT, mfa_enabled_at INTEGER,
    public_metadata TEXT NOT NULL DEFAULT '{}', private_metadata TEXT NOT NULL DEFAULT '{}',
    unsafe_metadata TEXT NOT NULL DEFAULT '{}', external_accounts TEXT NOT NULL DEFAULT '[]',
    banned INTEGER NOT NULL DEFAULT 0, locked INTEGER NOT NULL DEFAULT 0,
    delete_self_enabled INTEGER NOT NULL DEFAULT 1,
    create_organization_enabled INTEGER NOT NULL DEFAULT 1, create_organizations_limit INTEGER,
    bypass_client_trust INTEGER NOT NULL DEFAULT 0, legal_accepted_at INTEGER,
    last_sign_in_at INTEGER, last_active_at INTEGER,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS clerk_users_by_created ON clerk_users(created_at, id);
CREATE UNIQUE INDEX IF NOT EXISTS clerk_users_by_username
    ON clerk_users(lower(username)) WHERE username IS NOT NULL;
CREATE TABLE IF NOT EXISTS clerk_identifications (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES clerk_users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL, value TEXT NOT NULL, status TEXT NOT NULL,
    reserved_for_second_factor INTEGER NOT NULL DEFAULT 0,
    default_second_factor INTEGER NOT NULL DEFAULT 0,
    verification_strategy TEXT, linked_to TEXT NOT NULL DEFAULT '[]', position INTEGER NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    UNIQUE (kind, value)
);
CREATE INDEX IF NOT EXISTS clerk_identifications_by_user
    ON clerk_identifications(user_id, position);
CREATE INDEX IF NOT EXISTS clerk_identifications_by_value
    ON clerk_identifications(kind, lower(value));
CREATE TABLE IF NOT EXISTS clerk_organizations (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, slug TEXT NOT NULL UNIQUE,
    max_allowed_memberships INTEGER NOT NULL DEFAULT 0,
    admin_delete_enabled INTEGER NOT NULL DEFAULT 1,
    public_metadata TEXT NOT NULL DEFAULT '{}', private_metadata TEXT NOT NULL DEFAULT '{}',
    created_by TEXT, role_set_key TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS clerk_organizations_by_created
    ON clerk_organizations(created_at, id);
-- user_id has no foreign key: a seed may hold a membership whose user is gone (see
-- seed.py); deleting a user through the API deletes its memberships explicitly.
CREATE TABLE IF NOT EXISTS clerk_memberships (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES clerk_organizations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL, role TEXT NOT NULL,
    public_metadata TEXT NOT NULL DEFAULT '{}', private_metadata TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    UNIQUE (organization_id, user_id)
);
CREATE INDEX IF NOT EXISTS clerk_memberships_by_user ON clerk_memberships(user_id);
CREATE INDEX IF NOT EXISTS clerk_memberships_by_created ON clerk_memberships(created_at, id);
"""

# Children before parents, so a wipe never trips a foreign key.
CLERK_TABLES: Final = (
    "clerk_memberships",
    "clerk_organization_domains",
    "clerk_identifications",
    "clerk_users",
    "clerk_organizations",
    "clerk_role_permissions",
    "clerk_org_roles",
    "clerk_permissions",
    "clerk_redirect_urls",
    "clerk_instance",
)
# Tables whose lists order by a creation time ``next_ms`` hands out.
_STEPPED_TABLES: Final = (
    "clerk_permissions",
    "clerk_org_roles",
    "clerk_redirect_urls",
    "clerk_organization_domains",
)


def stamps(now: int) -> dict[str, int]:
    return {"created_at": now, "updated_at": now}


def update(
    db: SqliteStore | sqlite3.Connection, table: str, row_id: str, changes: Mapping[str, Any]
) -> None:
    """Set ``changes`` on row ``row_id`` of ``table`` and stamp its ``updated_at``."""
    changes = {**changes, "updated_at": changes.get("updated_at") or now_ms()}
    assignments = ", ".join(f"{column} = ?" for column in changes)
    db.execute(
        f"UPDATE {table} SET {assignments} WHERE id = ?",  # noqa: S608 - names come from code
        [*changes.values(), row_id],
    )


def next_ms(store: SqliteStore) -> int:
    """Now, but later than anything created before: lists order by creation time, and
    objects created in one millisecond must still list in creation order."""
    union = " UNION ALL ".join(f"SELECT created_at FROM {table}" for table in _STEPPED_TABLES)
    row = store.one(f"SELECT max(created_at) AS latest FROM ({union})")  # noqa: S608
    latest = row["latest"] if row is not None and row["latest"] is not None else 0
    return max(now_ms(), latest + 1)
