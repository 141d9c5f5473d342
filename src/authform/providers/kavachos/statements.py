"""Every statement authform runs against a KavachOS database, in transaction order.

Only these touch the database, and only the six ``kavach_`` tables of ``schema.COLUMNS``:
nothing else is read or written. Inserts converge instead of duplicating: ids are the source's
(users: the Clerk id; organizations: the manifest key or Clerk id) or derived from a natural
key (``derived_id``), so a rerun or a second concurrent apply writing the same row meets it on
the primary key (``ON CONFLICT (id)``, which SQLite and PostgreSQL spell alike) instead of
adding a copy. That matters most for ``kavach_oauth_accounts``, which has no unique constraint
of its own on (provider, provider_account_id).
"""

from __future__ import annotations

import hashlib

DELETE_USER_MEMBERSHIPS = "DELETE FROM kavach_org_members WHERE user_id = ?"
DELETE_ORG_MEMBERS = "DELETE FROM kavach_org_members WHERE org_id = ?"
DELETE_MEMBER = "DELETE FROM kavach_org_members WHERE id = ?"
DELETE_ORG_ROLES = "DELETE FROM kavach_org_roles WHERE org_id = ?"
DELETE_ROLE = "DELETE FROM kavach_org_roles WHERE id = ?"
DELETE_OAUTH_ROW = "DELETE FROM kavach_oauth_accounts WHERE id = ?"
DELETE_USER_OAUTH = "DELETE FROM kavach_oauth_accounts WHERE user_id = ?"
DELETE_USER_EMAIL = "DELETE FROM kavach_email_accounts WHERE user_id = ?"
DELETE_ORG = "DELETE FROM kavach_organizations WHERE id = ?"
DELETE_USER = "DELETE FROM kavach_users WHERE id = ?"

INSERT_USER = (
    "INSERT INTO kavach_users (id, email, name, external_id, external_provider, metadata, "
    "email_verified, force_password_reset, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name, "
    "external_id = excluded.external_id, external_provider = excluded.external_provider, "
    "metadata = excluded.metadata, email_verified = excluded.email_verified, "
    "updated_at = excluded.updated_at"
)
UPDATE_USER = (
    "UPDATE kavach_users SET email = ?, name = ?, external_id = ?, external_provider = ?, "
    "metadata = ?, email_verified = ?, updated_at = ? WHERE id = ?"
)
INSERT_EMAIL_ACCOUNT = (
    "INSERT INTO kavach_email_accounts (id, user_id, password_hash, email_verified, "
    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
)
UPDATE_EMAIL_VERIFIED = (
    "UPDATE kavach_email_accounts SET email_verified = ?, updated_at = ? WHERE user_id = ?"
)
INSERT_OAUTH = (
    "INSERT INTO kavach_oauth_accounts (id, user_id, provider, provider_account_id, "
    "access_token, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO NOTHING"
)
UPSERT_ORG = (
    "INSERT INTO kavach_organizations (id, name, slug, owner_id, metadata, created_at, "
    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET name = excluded.name, metadata = excluded.metadata, "
    "updated_at = excluded.updated_at"
)
UPDATE_ORG = "UPDATE kavach_organizations SET name = ?, metadata = ?, updated_at = ? WHERE id = ?"
INSERT_SEED_ROLE = (
    "INSERT INTO kavach_org_roles (id, org_id, name, permissions) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (id) DO NOTHING"
)
UPSERT_ROLE = (
    "INSERT INTO kavach_org_roles (id, org_id, name, permissions) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET permissions = excluded.permissions"
)
UPSERT_MEMBER = (
    "INSERT INTO kavach_org_members (id, org_id, user_id, role, joined_at) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET role = excluded.role"
)
UPDATE_MEMBER_ROLE = "UPDATE kavach_org_members SET role = ? WHERE id = ?"

# Children are removed before their parents, and parents written before their children.
ORDER: tuple[str, ...] = (
    DELETE_USER_MEMBERSHIPS,
    DELETE_ORG_MEMBERS,
    DELETE_MEMBER,
    DELETE_ORG_ROLES,
    DELETE_ROLE,
    DELETE_OAUTH_ROW,
    DELETE_USER_OAUTH,
    DELETE_USER_EMAIL,
    DELETE_ORG,
    DELETE_USER,
    INSERT_USER,
    UPDATE_USER,
    INSERT_EMAIL_ACCOUNT,
    UPDATE_EMAIL_VERIFIED,
    INSERT_OAUTH,
    UPSERT_ORG,
    UPDATE_ORG,
    INSERT_SEED_ROLE,
    UPSERT_ROLE,
    UPSERT_MEMBER,
    UPDATE_MEMBER_ROLE,
)


def derived_id(prefix: str, *parts: str) -> str:
    """A stable id in KavachOS's ``<prefix>_<32 hex>`` shape for a row whose identity is its
    natural key (a membership is its organization and user)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"{prefix}_{digest}"
