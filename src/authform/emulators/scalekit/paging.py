"""Scalekit's pagination: ``page_size`` and opaque ``page_token``s to the next and previous
pages (empty when there is none), plus ``total_size``; lists run in id (creation) order."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from starlette.datastructures import QueryParams

from ..routing import b64url
from ..store import SqliteStore
from .errors import invalid


def decode_page_token(token: str) -> tuple[str, str]:
    """(direction, id) from an opaque page token; a forged or foreign one is a 400."""
    try:
        padded = token + "=" * (-len(token) % 4)
        direction, _, anchor = base64.urlsafe_b64decode(padded).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        direction, anchor = "", ""
    if direction not in ("after", "before") or not anchor:
        raise invalid("invalid page token", [("page_token", "invalid")])
    return direction, anchor


def page_size_param(query: QueryParams, *, low: int, high: int, default: int) -> int:
    raw = query.get("page_size")
    if raw is None or raw == "":
        return default
    try:
        size = int(raw)
    except ValueError:
        size = -1
    if size == 0:
        return default  # proto3: zero means "not set"
    if not low <= size <= high:
        bounds = f"between {low} and {high}"
        raise invalid(f"page_size must be {bounds}", [("page_size", f"must be {bounds}")])
    return size


def token_page(
    store: SqliteStore,
    table: str,
    query: QueryParams,
    name: str,
    shape: Any,
    *,
    sizes: tuple[int, int, int],
    where: str = "",
    params: Sequence[Any] = (),
) -> dict[str, Any]:
    """One page of ``table`` as Scalekit's list answer: ``{name: [shape(rows)…],
    next_page_token, prev_page_token, total_size}``. ``sizes`` is (low, high, default)."""
    low, high, default = sizes
    size = page_size_param(query, low=low, high=high, default=default)
    after = before = None
    if token := query.get("page_token") or "":
        direction, anchor = decode_page_token(token)
        after, before = (anchor, None) if direction == "after" else (None, anchor)
    page = store.keyset_page(
        table, limit=size, order="asc", after=after, before=before, where=where, params=params
    )
    total = store.one(
        f"SELECT COUNT(*) AS n FROM {table}" + (f" WHERE {where}" if where else ""),  # noqa: S608
        list(params),
    )
    rows = page.rows
    following = rows and page.has_following
    preceding = rows and page.has_preceding
    return {
        name: shape(rows),
        "next_page_token": b64url(f"after:{rows[-1]['id']}".encode()) if following else "",
        "prev_page_token": b64url(f"before:{rows[0]['id']}".encode()) if preceding else "",
        "total_size": int(total["n"]) if total else 0,
    }
