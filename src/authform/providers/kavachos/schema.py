"""The KavachOS 0.2.1 tables authform writes, as KavachOS's own code reads them.

Facts from KavachOS 0.2.1 (github kavachos/kavachos at 00372002, ``packages/core/src/db/
migrations.ts`` ``createTables`` and the email plugin's ``initTables``), as summarized in the
project's KavachOS reference: every id is TEXT chosen by the application; SQLite timestamps are
unix *seconds* (drizzle ``mode: "timestamp"``), except the email plugin's own table which
writes milliseconds; booleans are INTEGER 0/1 on SQLite and BOOLEAN on PostgreSQL; JSON is TEXT
on SQLite and JSONB on PostgreSQL. The email plugin's table is SQLite-typed everywhere.

KavachOS creates these tables itself when it starts, so authform never does (outside
``--emulate``): it checks the shape it finds and refuses, before any write, a database whose
tables are missing or of another shape. Each column is checked by *family* (text, timestamp,
boolean, JSON) and the physical type found decides the encoding, so a PostgreSQL database made
with KavachOS's DDL (TIMESTAMPTZ/BOOLEAN/JSONB) and one made with its SQLite-flavoured DDL
(INTEGER/TEXT, the only one KavachOS 0.2.1's runtime can sign in against) are both written the
way KavachOS reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Family(StrEnum):
    """What a column holds, whatever its physical type."""

    TEXT = "text"
    SECONDS = "timestamp (unix seconds on SQLite)"
    MILLIS = "timestamp (unix milliseconds)"
    BOOLEAN = "boolean"
    JSON = "JSON"


USERS = "kavach_users"
EMAIL_ACCOUNTS = "kavach_email_accounts"
OAUTH_ACCOUNTS = "kavach_oauth_accounts"
ORGANIZATIONS = "kavach_organizations"
ORG_MEMBERS = "kavach_org_members"
ORG_ROLES = "kavach_org_roles"

# The columns authform reads or writes, per table. Other columns may exist (KavachOS has many
# more); a NOT NULL one without a default that is not listed here makes the table "of another
# shape", since authform's inserts would fail on it.
COLUMNS: Mapping[str, Mapping[str, Family]] = {
    USERS: {
        "id": Family.TEXT,
        "email": Family.TEXT,
        "name": Family.TEXT,
        "external_id": Family.TEXT,
        "external_provider": Family.TEXT,
        "metadata": Family.JSON,
        "email_verified": Family.BOOLEAN,
        "force_password_reset": Family.BOOLEAN,
        "created_at": Family.SECONDS,
        "updated_at": Family.SECONDS,
    },
    EMAIL_ACCOUNTS: {
        "id": Family.TEXT,
        "user_id": Family.TEXT,
        "password_hash": Family.TEXT,
        "email_verified": Family.BOOLEAN,
        "created_at": Family.MILLIS,
        "updated_at": Family.MILLIS,
    },
    OAUTH_ACCOUNTS: {
        "id": Family.TEXT,
        "user_id": Family.TEXT,
        "provider": Family.TEXT,
        "provider_account_id": Family.TEXT,
        "access_token": Family.TEXT,
        "created_at": Family.SECONDS,
        "updated_at": Family.SECONDS,
    },
    ORGANIZATIONS: {
        "id": Family.TEXT,
        "name": Family.TEXT,
        "slug": Family.TEXT,
        "owner_id": Family.TEXT,
        "metadata": Family.JSON,
        "created_at": Family.SECONDS,
        "updated_at": Family.SECONDS,
    },
    ORG_MEMBERS: {
        "id": Family.TEXT,
        "org_id": Family.TEXT,
        "user_id": Family.TEXT,
        "role": Family.TEXT,
        "joined_at": Family.SECONDS,
    },
    ORG_ROLES: {
        "id": Family.TEXT,
        "org_id": Family.TEXT,
        "name": Family.TEXT,
        "permissions": Family.JSON,
    },
}

# Who creates each table, for the message when it is missing.
CREATED_BY: Mapping[str, str] = {
    EMAIL_ACCOUNTS: (
        "the emailPassword plugin of @kavachos/auth-email creates it when KavachOS starts "
        "with that plugin (in 0.2.1 only on sqlite-native; its start-up fails on PostgreSQL, "
        "where the table must be created with the plugin's DDL)"
    ),
}
DEFAULT_CREATOR = "createKavach() creates it at start-up unless database.skipMigrations is set"

# Physical types accepted for each family: SQLite declared-type affinity words, PostgreSQL
# ``information_schema`` data types.
SQLITE_TYPES: Mapping[Family, tuple[str, ...]] = {
    Family.TEXT: ("TEXT", "CHAR", "CLOB"),
    Family.SECONDS: ("INT",),
    Family.MILLIS: ("INT",),
    Family.BOOLEAN: ("INT",),
    Family.JSON: ("TEXT", "JSON"),
}
_PG_TIMESTAMPS = ("timestamp with time zone", "timestamp without time zone", "integer", "bigint")
POSTGRES_TYPES: Mapping[Family, tuple[str, ...]] = {
    Family.TEXT: ("text", "character varying"),
    Family.SECONDS: (
        "timestamp with time zone",
        "timestamp without time zone",
        "integer",
        "bigint",
    ),
    Family.MILLIS: ("bigint", "integer", "timestamp with time zone", "timestamp without time zone"),
    Family.BOOLEAN: ("boolean", "integer", "smallint"),
    Family.JSON: ("jsonb", "json", "text"),
}


class Encoding(StrEnum):
    """How one column's values are written, decided by the physical type found."""

    TEXT = "text"
    SECONDS = "integer seconds"
    MILLIS = "integer milliseconds"
    DATETIME = "timestamptz"
    INT_BOOL = "0/1"
    BOOL = "boolean"
    JSON_TEXT = "JSON text"
    JSONB = "jsonb"


@dataclass(frozen=True)
class ColumnFound:
    name: str
    type: str  # as declared (SQLite) or information_schema.data_type (PostgreSQL)
    not_null: bool
    has_default: bool
    primary_key: bool = False


def encoding_for(family: Family, found_type: str, *, postgres: bool) -> Encoding | None:
    """The encoding of a column of ``family`` whose physical type is ``found_type``, or None
    when that type cannot hold the family (the table is of another shape)."""
    kind = found_type.lower() if postgres else found_type.upper()
    accepted = (POSTGRES_TYPES if postgres else SQLITE_TYPES)[family]
    if postgres:
        if kind not in accepted:
            return None
    elif not any(word in kind for word in accepted):
        return None
    if family is Family.TEXT:
        return Encoding.TEXT
    if family in (Family.SECONDS, Family.MILLIS):
        if "timestamp" in kind.lower():
            return Encoding.DATETIME
        return Encoding.SECONDS if family is Family.SECONDS else Encoding.MILLIS
    if family is Family.BOOLEAN:
        return Encoding.BOOL if kind == "boolean" else Encoding.INT_BOOL
    return Encoding.JSONB if kind in ("jsonb", "json") else Encoding.JSON_TEXT


def shape_problems(
    table: str, found: Mapping[str, ColumnFound], *, postgres: bool
) -> tuple[dict[str, Encoding], list[str]]:
    """Encodings of ``table``'s managed columns, and every way it differs from KavachOS's."""
    encodings: dict[str, Encoding] = {}
    problems: list[str] = []
    wanted = COLUMNS[table]
    for name, family in wanted.items():
        column = found.get(name)
        if column is None:
            problems.append(f"{table}.{name} is missing (KavachOS 0.2.1 has it: {family.value})")
            continue
        encoding = encoding_for(family, column.type, postgres=postgres)
        if encoding is None:
            problems.append(
                f"{table}.{name} is {column.type or 'untyped'}, but KavachOS 0.2.1 stores a "
                f"{family.value} there"
            )
        else:
            encodings[name] = encoding
    for column in found.values():
        if (
            column.name not in wanted
            and column.not_null
            and not column.has_default
            and not column.primary_key
        ):
            problems.append(
                f"{table}.{column.name} is NOT NULL without a default, which KavachOS 0.2.1 "
                "does not have; authform's rows would be refused"
            )
    return encodings, problems
