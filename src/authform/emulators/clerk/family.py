"""What every resource family of the emulated Backend API shares: its shape (a table of
operations, method, path under ``/v1`` and handler, over the shared store; most families are
a ``collection.Collection``, whose standard routes come from its verbs), Clerk's ids and
timestamps, what a seed states of them (``Stated``), Clerk's error bodies, and the store: its
tables (``schema.sql``, a data file shipped in the package) and the writes every family makes."""

from __future__ import annotations

import re
import secrets
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..base import ApiError
from ..store import SqliteStore

API_PREFIX: Final = "/v1"
# What Clerk answers for an object without an uploaded image: an img.clerk.com URL whose
# path is a base64 JSON descriptor ({"type":"default"}).
NO_IMAGE: Final = {
    "image_url": "https://img.clerk.com/eyJ0eXBlIjoiZGVmYXVsdCJ9",
    "has_image": False,
}
Operation = tuple[str, str, Callable[[Request], Awaitable[Response]]]
Rows = Sequence[sqlite3.Row]
Answers = list[dict[str, Any]]  # a page of API objects


class Family:
    def __init__(self, store: SqliteStore) -> None:
        self.store = store

    def operations(self) -> Sequence[Operation]:
        """``(method, path under /v1, handler)`` for each operation this family serves."""
        return ()

    def routes(self) -> list[Route]:
        return [
            Route(f"{API_PREFIX}{path}", handler, methods=[method])
            for method, path, handler in self.operations()
        ]


_BASE62: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_KSUID_EPOCH: Final = 1_400_000_000


def clerk_id(prefix: str) -> str:
    """A Clerk-style id such as ``user_2aAda…``: Clerk ids are KSUIDs, 27 base62 characters
    encoding a 32-bit timestamp (seconds since 2014-05-13) and 128 random bits."""
    value = ((int(time.time()) - _KSUID_EPOCH) << 128) | secrets.randbits(128)
    digits = []
    for _ in range(27):
        value, digit = divmod(value, 62)
        digits.append(_BASE62[digit])
    return prefix + "".join(reversed(digits))


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class Stated:
    """What a seed states about an object that the API hands out itself."""

    id: str | None = None
    created_at: int | None = None
    updated_at: int | None = None

    def times(self, created_at: int | None = None) -> dict[str, int]:
        """The object's timestamps: stated, else ``created_at`` (else now), and an update
        time no earlier than its creation."""
        now = now_ms()
        created = next(time for time in (self.created_at, created_at, now) if time is not None)
        updated = self.updated_at if self.updated_at is not None else max(created, now)
        return {"created_at": created, "updated_at": updated}


NOT_STATED: Final = Stated()


def parse_rfc3339_ms(text: str) -> int | None:
    """``2012-10-20T07:15:20.902Z`` → Unix milliseconds; ``None`` when unparseable or naive."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return None if parsed.tzinfo is None else int(parsed.timestamp() * 1000)


def clerk_error(
    code: str, message: str, long_message: str, *, param: str | None = None
) -> dict[str, Any]:
    """One entry of ``errors``; ``meta.param_name`` names the offending request parameter."""
    error: dict[str, Any] = {"message": message, "long_message": long_message, "code": code}
    if param is not None:
        error["meta"] = {"param_name": param}
    return error


def errors_body(*errors: Mapping[str, Any]) -> dict[str, Any]:
    # Clerk puts a trace id on every error; support asks for it, clients log it.
    return {"errors": [dict(error) for error in errors], "clerk_trace_id": uuid.uuid4().hex}


def api_error(
    status: int, code: str, message: str, long_message: str, *, param: str | None = None
) -> ApiError:
    return ApiError(status, errors_body(clerk_error(code, message, long_message, param=param)))


def not_found(kind: str, identifier: str) -> ApiError:
    # The shape of Clerk's index entries, e.g. "No identifier was found with id <id>".
    text = f"No {kind} was found with id {identifier}"
    return api_error(404, "resource_not_found", "not found", text)


def param_invalid(param: str, long_message: str) -> ApiError:
    return api_error(422, "form_param_value_invalid", "is invalid", long_message, param=param)


def taken(param: str, noun: str | None = None) -> dict[str, Any]:
    """The ``form_identifier_exists`` error of a unique value already in use."""
    text = f"That {noun or param.replace('_', ' ')} is taken. Please try another."
    return clerk_error("form_identifier_exists", text, text, param=param)


# Read once per process, as the module loads.
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
