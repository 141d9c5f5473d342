"""Scalekit's pagination: ``page_size`` and opaque ``page_token``s to the next and previous
pages (empty when there is none), plus ``total_size``; lists run in id (creation) order."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any

from starlette.datastructures import QueryParams

from ..routing import b64url
from ..store import SqliteStore
from .errors import invalid


def page_size(query: QueryParams, low: int, high: int, default: int) -> int:
    """``page_size`` within ``low``-``high``; absent or zero (proto3's unset) is ``default``."""
    try:
        size = int(query.get("page_size") or 0)
    except ValueError:
        size = -1
    if size and not low <= size <= high:
        bounds = f"between {low} and {high}"
        raise invalid(f"page_size must be {bounds}", [("page_size", f"must be {bounds}")])
    return size or default


def _anchor(token: str) -> tuple[str | None, str | None]:
    """``(after, before)`` from an opaque page token; a forged or foreign one is a 400."""
    try:
        padded = token + "=" * (-len(token) % 4)
        direction, _, anchor = base64.urlsafe_b64decode(padded).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        direction, anchor = "", ""
    if direction not in ("after", "before") or not anchor:
        raise invalid("invalid page token", [("page_token", "invalid")])
    return (anchor, None) if direction == "after" else (None, anchor)


def token_page(
    store: SqliteStore,
    table: str,
    query: QueryParams,
    shape: Callable[[list[Any]], list[dict[str, Any]]],
    sizes: tuple[int, int, int],
    where: str = "",
    params: Sequence[Any] = (),
) -> dict[str, Any]:
    """One page of ``table`` as Scalekit's list answer: ``{table: shape(rows),
    next_page_token, prev_page_token, total_size}``. ``sizes`` is (low, high, default)."""
    token = query.get("page_token")
    after, before = _anchor(token) if token else (None, None)
    page = store.keyset_page(
        table, limit=page_size(query, *sizes), order="asc", after=after, before=before,
        where=where, params=params,
    )  # fmt: skip
    sql = f"SELECT COUNT(*) FROM {table}" + (f" WHERE {where}" if where else "")  # noqa: S608
    rows = page.rows
    return {
        table: shape(rows),
        "next_page_token": b64url(f"after:{rows[-1]['id']}".encode()) if page.has_following else "",
        "prev_page_token": b64url(f"before:{rows[0]['id']}".encode()) if page.has_preceding else "",
        "total_size": store.one(sql, list(params))[0],  # type: ignore[index]
    }
