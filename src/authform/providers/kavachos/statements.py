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
from dataclasses import dataclass

DELETE_USER_MEMBERSHIPS = "DELETE FROM kavach_org_members WHERE user_id = ?"
DELETE_ORG_MEMBERS = "DELETE FROM kavach_org_members WHERE org_id = ?"
DELETE_MEMBER = "DELETE FROM kavach_org_members WHERE id = ?"
DELETE_ORG_ROLES = "DELETE FROM kavach_org_roles WHERE org_id = ?"
DELETE_ROLE = "DELETE FROM kavach_org_roles WHERE org_id = ? AND name = ?"
DELETE_OAUTH_ROW = "DELETE FROM kavach_oauth_accounts WHERE id = ?"
DELETE_USER_OAUTH = "DELETE FROM kavach_oauth_accounts WHERE user_id = ?"
DELETE_USER_EMAIL = "DELETE FROM kavach_email_accounts WHERE user_id = ?"
DELETE_ORG = "DELETE FROM kavach_organizations WHERE id = ?"
DELETE_USER = "DELETE FROM kavach_users WHERE id = ?"


@dataclass(frozen=True)
class Upsert:
    """An insert that converges on the primary key: its one-row SQL (``sql``, for
    ``executemany``), and the same insert from a staging table of many rows (``staged``, for
    PostgreSQL's COPY path in ``database``)."""

    table: str
    columns: tuple[str, ...]
    on_conflict: str  # what ``ON CONFLICT (id)`` does: DO NOTHING, or DO UPDATE SET ...

    @property
    def sql(self) -> str:
        marks = ", ".join("?" * len(self.columns))
        return (
            f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES ({marks}) "
            f"ON CONFLICT (id) {self.on_conflict}"
        )

    def staged(self, staging: str, order_column: str) -> str:
        """The insert of every row of ``staging``: one row per id, as ``executemany`` would
        leave it (the last row of an id wins an update, the first an insert that does
        nothing on conflict), since one INSERT cannot touch a row twice."""
        columns = ", ".join(self.columns)
        last_wins = self.on_conflict.startswith("DO UPDATE")
        return (
            f"INSERT INTO {self.table} ({columns}) SELECT DISTINCT ON (id) {columns} "
            f"FROM {staging} ORDER BY id, {order_column} {'DESC' if last_wins else 'ASC'} "
            f"ON CONFLICT (id) {self.on_conflict}"
        )


def _updating(*columns: str) -> str:
    return "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in columns)


USER_UPSERT = Upsert(
    "kavach_users",
    (
        "id",
        "email",
        "name",
        "external_id",
        "external_provider",
        "metadata",
        "email_verified",
        "force_password_reset",
        "created_at",
        "updated_at",
    ),
    _updating(
        "email",
        "name",
        "external_id",
        "external_provider",
        "metadata",
        "email_verified",
        "updated_at",
    ),
)
EMAIL_ACCOUNT_UPSERT = Upsert(
    "kavach_email_accounts",
    ("id", "user_id", "password_hash", "email_verified", "created_at", "updated_at"),
    "DO NOTHING",
)
OAUTH_UPSERT = Upsert(
    "kavach_oauth_accounts",
    (
        "id",
        "user_id",
        "provider",
        "provider_account_id",
        "access_token",
        "created_at",
        "updated_at",
    ),
    "DO NOTHING",
)
ORG_UPSERT = Upsert(
    "kavach_organizations",
    ("id", "name", "slug", "owner_id", "metadata", "created_at", "updated_at"),
    _updating("name", "metadata", "updated_at"),
)
ROLE_COLUMNS = ("id", "org_id", "name", "permissions")
SEED_ROLE_UPSERT = Upsert("kavach_org_roles", ROLE_COLUMNS, "DO NOTHING")
ROLE_UPSERT = Upsert("kavach_org_roles", ROLE_COLUMNS, _updating("permissions"))
MEMBER_UPSERT = Upsert(
    "kavach_org_members", ("id", "org_id", "user_id", "role", "joined_at"), _updating("role")
)

INSERT_USER = USER_UPSERT.sql
UPDATE_USER = (
    "UPDATE kavach_users SET email = ?, name = ?, external_id = ?, external_provider = ?, "
    "metadata = ?, email_verified = ?, updated_at = ? WHERE id = ?"
)
INSERT_EMAIL_ACCOUNT = EMAIL_ACCOUNT_UPSERT.sql
UPDATE_EMAIL_VERIFIED = (
    "UPDATE kavach_email_accounts SET email_verified = ?, updated_at = ? WHERE user_id = ?"
)
INSERT_OAUTH = OAUTH_UPSERT.sql
UPSERT_ORG = ORG_UPSERT.sql
UPDATE_ORG = "UPDATE kavach_organizations SET name = ?, metadata = ?, updated_at = ? WHERE id = ?"
INSERT_SEED_ROLE = SEED_ROLE_UPSERT.sql
UPSERT_ROLE = ROLE_UPSERT.sql
UPSERT_MEMBER = MEMBER_UPSERT.sql
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


# The inserts by their SQL: what ``database`` may send through a staging table instead.
UPSERTS: dict[str, Upsert] = {
    upsert.sql: upsert
    for upsert in (
        USER_UPSERT,
        EMAIL_ACCOUNT_UPSERT,
        OAUTH_UPSERT,
        ORG_UPSERT,
        SEED_ROLE_UPSERT,
        ROLE_UPSERT,
        MEMBER_UPSERT,
    )
}


def derived_id(prefix: str, *parts: str) -> str:
    """A stable id in KavachOS's ``<prefix>_<32 hex>`` shape for a row whose identity is its
    natural key (a membership is its organization and user)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"{prefix}_{digest}"
