"""What the WorkOS emulator stores (SQLite tables) and the value rules WorkOS documents.

Everything a list endpoint filters on is a column with an index, so paging through 10,000
organizations is one range scan per page.
"""

from __future__ import annotations

from typing import Final

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS organizations (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, external_id TEXT UNIQUE,
    metadata TEXT NOT NULL DEFAULT '{}', stripe_customer_id TEXT,
    allow_profiles_outside_organization INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS organization_domains (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    domain TEXT NOT NULL UNIQUE, state TEXT NOT NULL, verification_strategy TEXT NOT NULL,
    verification_prefix TEXT NOT NULL, verification_token TEXT NOT NULL, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS organization_domains_by_org ON organization_domains(organization_id, id);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, email_verified INTEGER NOT NULL DEFAULT 0,
    first_name TEXT, last_name TEXT, name TEXT, external_id TEXT UNIQUE,
    metadata TEXT NOT NULL DEFAULT '{}', locale TEXT, last_sign_in_at TEXT, password_hash TEXT,
    password_hash_type TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS organization_memberships (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    status TEXT NOT NULL, role_slugs TEXT NOT NULL, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL, UNIQUE (user_id, organization_id)
);
CREATE INDEX IF NOT EXISTS organization_memberships_by_org
    ON organization_memberships(organization_id, id);
CREATE INDEX IF NOT EXISTS organization_memberships_by_user
    ON organization_memberships(user_id, id);
CREATE TABLE IF NOT EXISTS roles (
    id TEXT PRIMARY KEY, slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL, description TEXT,
    resource_type_slug TEXT NOT NULL, permissions TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS permissions (
    id TEXT PRIMARY KEY, slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL, description TEXT,
    resource_type_slug TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS redirect_uris (
    id TEXT PRIMARY KEY, uri TEXT NOT NULL UNIQUE, is_default INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cors_origins (
    id TEXT PRIMARY KEY, origin TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""

# table -> (the name WorkOS's 404 gives its rows, the column a path names a row by), children
# before parents: the order a reset wipes them in, so no foreign key trips.
TABLES: Final = {
    "organization_memberships": ("Organization membership", "id"),
    "organization_domains": ("Organization domain", "id"),
    "users": ("User", "id"),
    "organizations": ("Organization", "id"),
    "roles": ("Role", "slug"),
    "permissions": ("Permission", "slug"),
    "redirect_uris": ("Redirect URI", "id"),
    "cors_origins": ("CORS origin", "origin"),
}

# Surrounding whitespace is allowed: WorkOS trims it (and lowercases) before storing.
EMAIL_PATTERN: Final = r"\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*"
EXTERNAL_ID_PATTERN: Final = r"[\x00-\x7F]+"
# Permission slugs: "lowercase … letters, numbers, hyphens, underscores, colons, periods, and
# asterisks" (SDK docstring). Role slugs: the same minus asterisks.
PERMISSION_SLUG_PATTERN: Final = r"[a-z0-9_\-:.*]+"
ROLE_SLUG_PATTERN: Final = r"[a-z0-9_\-:.]+"
DOMAIN_PATTERN: Final = r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}"
BCRYPT_PATTERN: Final = r"\$2[abxy]\$\d{2}\$[./A-Za-z0-9]{53}"
PASSWORD_HASH_TYPES: Final = (
    "bcrypt", "firebase-scrypt", "ssha", "ssha256", "scrypt", "pbkdf2", "argon2"
)  # fmt: skip
MEMBERSHIP_STATUSES: Final = ("active", "inactive", "pending")
DEFAULT_RESOURCE_TYPE: Final = "organization"
DEFAULT_ROLE: Final = "member"
