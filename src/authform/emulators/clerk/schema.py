"""The Clerk emulator's tables (``schema.sql``, a data file shipped in the package), and the
writes every resource family makes."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from importlib.resources import files
from typing import Any, Final

from ..store import SqliteStore
from .family import now_ms

CLERK_SCHEMA: Final = (files(__package__) / "schema.sql").read_text(encoding="utf-8")
# Children before parents, so a wipe never trips a foreign key.
CLERK_TABLES: Final = tuple(reversed(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", CLERK_SCHEMA)))
# Tables whose lists order by a creation time ``next_ms`` hands out.
_STEPPED_TABLES: Final = (
    "clerk_permissions clerk_org_roles clerk_redirect_urls clerk_organization_domains"
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
    union = " UNION ALL ".join(f"SELECT created_at FROM {t}" for t in _STEPPED_TABLES.split())
    row = store.one(f"SELECT max(created_at) AS latest FROM ({union})")  # noqa: S608
    latest = row["latest"] if row is not None and row["latest"] is not None else 0
    return max(now_ms(), latest + 1)
