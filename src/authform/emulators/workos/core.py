"""What every WorkOS resource family shares: the store, WorkOS's error and rate-limit shapes,
row lookups that answer WorkOS's 404, and cursor pagination with ``list_metadata``."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..base import Limit, LimitTable, TableBackend
from ..routing import Call
from .errors import error_body, not_found
from .fields import ListParams, json_body, parse_list_params
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

    def page(
        self, table: str, params: ListParams, where: str = "", args: Sequence[Any] = ()
    ) -> tuple[list[sqlite3.Row], dict[str, str | None]]:
        """A page of rows plus WorkOS ``list_metadata`` for it."""
        page = self.store.keyset_page(
            table,
            limit=params.limit,
            order=params.order,
            before=params.before,
            after=params.after,
            where=where,
            params=args,
        )
        if not page.rows:
            return [], {"before": None, "after": None}
        first, last = page.rows[0]["id"], page.rows[-1]["id"]
        if params.order == "normal":  # newest first, `before` walks to older items
            older, newer = page.has_following, page.has_preceding
            return page.rows, {"before": last if older else None, "after": first if newer else None}
        return page.rows, {
            "before": first if page.has_preceding else None,
            "after": last if page.has_following else None,
        }

    def listing(
        self, call: Call, table: str, shape: Callable[[sqlite3.Row], Any]
    ) -> dict[str, Any]:
        """A plain paged list of ``table`` (no filters), each row as ``shape`` makes it."""
        rows, metadata = self.page(table, parse_list_params(call.query))
        return self.list_body([shape(row) for row in rows], metadata)

    @staticmethod
    def list_body(data: list[dict[str, Any]], metadata: Mapping[str, str | None]) -> dict[str, Any]:
        return {"object": "list", "data": data, "list_metadata": dict(metadata)}
