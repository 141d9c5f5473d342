"""What every WorkOS resource family shares: the store, WorkOS's error and rate-limit shapes,
row lookups that answer WorkOS's 404, and cursor pagination with ``list_metadata``."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..base import Limit, LimitTable, TableBackend
from ..routing import Call
from ..store import new_id, now_iso, placeholders
from .errors import error_body, not_found
from .fields import json_body, list_params
from .schema import SCHEMA, TABLES


@dataclass(frozen=True)
class RateLimits(LimitTable):
    """WorkOS's documented limits (https://workos.com/docs/reference/rate-limits).

    Buckets: ``general`` per API key, ``user_management_reads``/``_writes`` per environment
    for ``/user_management/*``, ``authenticate_per_email`` on ``/user_management/authenticate``.
    Tests scale them down, e.g. ``RateLimits(user_management_writes=Limit(50, 1))``.
    """

    general: Limit | None = Limit(6000, 60)
    user_management_reads: Limit | None = Limit(1000, 10)
    user_management_writes: Limit | None = Limit(500, 10)
    authenticate_per_email: Limit | None = Limit(10, 60)


class WorkOSCore(TableBackend):
    """The state and conventions each resource family builds on. The families stack as
    subclasses in dependency order (see ``backend.py``), so one may call what an earlier one
    defines (memberships look up users), never a later one."""

    provider: ClassVar[str] = "workos"
    schema, tables = SCHEMA, TABLES
    not_found, json_body = staticmethod(not_found), staticmethod(json_body)

    # ----------------------------------------------------------------- EmulatorBackend

    def error_body(self, status: int, message: str, code: str | None = None) -> dict[str, Any]:
        return error_body(message, code)

    def rate_limited_body(self, bucket: str) -> dict[str, Any]:
        if bucket == "authenticate_per_email":
            # The document's 429 for /user_management/authenticate.
            return {
                "error": "too_many_requests",
                "error_description": "Too many authentication attempts for this email.",
            }
        return error_body("Too many requests.", "rate_limit_exceeded")

    def rate_limit_claims(self, method: str, path: str, body: Any) -> list[tuple[str, str]]:
        claims = [("general", "api_key")]
        if path.startswith("/user_management/"):
            writes = method not in ("GET", "HEAD", "OPTIONS")
            bucket = "user_management_writes" if writes else "user_management_reads"
            claims.append((bucket, "environment"))
        if method == "POST" and path == "/user_management/authenticate":
            email = body.get("email") if isinstance(body, dict) else None
            if isinstance(email, str) and email.strip():
                claims.append(("authenticate_per_email", email.strip().lower()))
        return claims

    # ----------------------------------------------------------------- shared helpers

    def listing(
        self,
        call: Call,
        table: str,
        render: Callable[[list[sqlite3.Row]], list[dict[str, Any]]],
        conditions: Mapping[str, Sequence[Any]] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A page of ``table`` with WorkOS ``list_metadata``: ``conditions`` (SQL -> its
        arguments) filter it, ``render`` makes its rows API objects."""
        params = params or list_params(call.query)
        where = conditions or {}
        args = [arg for values in where.values() for arg in values]
        page = self.store.keyset_page(table, where=" AND ".join(where), params=args, **params)
        # The cursors to the items ahead of this page and behind it, in list order.
        ahead = page.rows[0]["id"] if page.has_preceding else None
        behind = page.rows[-1]["id"] if page.has_following else None
        if params["order"] == "normal":  # newest first, `before` walks to older items
            ahead, behind = behind, ahead
        metadata = {"before": ahead, "after": behind}
        return {"object": "list", "data": render(page.rows), "list_metadata": metadata}

    def insert(
        self,
        table: str,
        prefix: str,
        values: Mapping[str, Any],
        conn: sqlite3.Connection | None = None,
    ) -> str:
        """Insert a new row with a fresh ``prefix`` id and timestamps; returns its id."""
        row_id, now = new_id(prefix), now_iso()
        row = {**values, "id": row_id, "created_at": now, "updated_at": now}
        self.store.insert(table, row, conn)
        return row_id

    def touch(
        self, table: str, row_id: str, conn: sqlite3.Connection | None = None, **changes: Any
    ) -> None:
        """Apply ``changes`` (column=value) to the row ``row_id``, stamping its ``updated_at``."""
        self.store.update(table, {**changes, "updated_at": now_iso()}, "id = ?", [row_id], conn)

    def unknown(self, table: str, column: str, values: Sequence[str]) -> list[str]:
        """Those of ``values`` that no row of ``table`` holds in ``column``, in order."""
        sql = f"SELECT {column} FROM {table} WHERE {column} IN ({placeholders(values)})"
        known = {row[0] for row in self.store.all(sql, list(values))}  # noqa: S608
        return [value for value in values if value not in known]
