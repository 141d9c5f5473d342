"""What the Scalekit emulator stores (SQLite tables) and its fixed values; the rules request
bodies follow are data too, in ``requests.json``."""

from __future__ import annotations

from typing import Final

API: Final = "/api/v1"
SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS organizations (
    id TEXT PRIMARY KEY, display_name TEXT NOT NULL, external_id TEXT UNIQUE,
    metadata TEXT NOT NULL DEFAULT '{}', slug TEXT, logo_url TEXT,
    region_code TEXT NOT NULL DEFAULT 'US', create_time TEXT NOT NULL, update_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS domains (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    domain TEXT NOT NULL, domain_type TEXT NOT NULL, verification_status TEXT NOT NULL,
    verification_method TEXT NOT NULL, create_time TEXT NOT NULL, update_time TEXT NOT NULL,
    UNIQUE (domain, domain_type)
);
CREATE INDEX IF NOT EXISTS domains_by_org ON domains(organization_id, id);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, email TEXT NOT NULL, email_key TEXT NOT NULL UNIQUE,
    external_id TEXT UNIQUE, metadata TEXT NOT NULL DEFAULT '{}',
    profile TEXT NOT NULL DEFAULT '{}', email_verified INTEGER NOT NULL DEFAULT 0,
    create_time TEXT NOT NULL, update_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS memberships (
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, membership_status TEXT NOT NULL,
    roles TEXT NOT NULL DEFAULT '[]', metadata TEXT NOT NULL DEFAULT '{}', inviter_email TEXT,
    join_time TEXT NOT NULL, accepted_at TEXT, PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX IF NOT EXISTS memberships_by_user ON memberships(user_id);
CREATE TABLE IF NOT EXISTS roles (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '', extends TEXT, default_creator INTEGER NOT NULL DEFAULT 0,
    default_member INTEGER NOT NULL DEFAULT 0, create_time TEXT NOT NULL,
    update_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS permissions (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '',
    builtin INTEGER NOT NULL DEFAULT 0, create_time TEXT NOT NULL, update_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS role_permissions (
    role_name TEXT NOT NULL REFERENCES roles(name) ON DELETE CASCADE,
    permission_name TEXT NOT NULL REFERENCES permissions(name), create_time TEXT NOT NULL,
    PRIMARY KEY (role_name, permission_name)
);
CREATE TABLE IF NOT EXISTS dashboard_redirect_uris (
    uri TEXT PRIMARY KEY, created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, email TEXT NOT NULL,
    organization_id TEXT NOT NULL, sent_at TEXT NOT NULL
);
"""

# table -> (the noun a NOT_FOUND names, the column a path names a row by; None: no path
# names its rows), children before parents: the order a reset wipes them in.
TABLES: Final = {
    "memberships": None,
    "domains": ("domain", "id"),
    "role_permissions": None,
    "users": ("user", "id"),
    "organizations": ("organization", "id"),
    "roles": ("role", "name"),
    "permissions": ("permission", "name"),
    "dashboard_redirect_uris": None,
    "outbox": None,
}

# Scalekit's own permissions exist in every environment (organization-domains guide); they
# are listed with is_scalekit_permission and cannot be changed.
BUILTIN_PERMISSIONS: Final = (
    ("sk_org_settings_read", "View organization settings in Scalekit's hosted widgets"),
    ("sk_org_settings_write", "Change organization settings in Scalekit's hosted widgets"),
)

DOMAIN_TYPES: Final = ("ALLOWED_EMAIL_DOMAIN", "ORGANIZATION_DOMAIN")
DEFAULT_TOKEN_TTL: Final = 86399  # what Scalekit's token endpoint answers
ENVIRONMENT_ID: Final = "env_000000000000000001"
