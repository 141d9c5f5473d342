"""SQLite state for the emulators.

One connection guarded by a re-entrant lock: uvicorn runs handlers on its event-loop thread,
while tests and the server wrapper may close the store from another thread, and SQLite
connections must not be used concurrently. File databases use WAL so a crashed or killed
emulator never leaves a half-written state behind, and so `--emulate` runs keep their state
across restarts.

Lists page by primary key (`keyset_page`) instead of OFFSET: ids are ULIDs, so key order is
creation order, each page is one indexed range scan, and a cursor stays valid even when the
object it names has since been deleted (the same contract WorkOS's `before`/`after` give).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

_CROCKFORD32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class UlidGenerator:
    """Monotonic ULIDs: 48-bit millisecond time + 80 random bits, Crockford base32.

    WorkOS ids (``org_01EHZNVPK3SFK441A1RGBFSHRT``) are ULIDs, and sorting by them sorts by
    creation time; within one millisecond the random part is incremented so two objects
    created in the same millisecond still sort in creation order.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._last_random = 0

    def new(self) -> str:
        with self._lock:
            now_ms = time.time_ns() // 1_000_000
            if now_ms <= self._last_ms:
                now_ms = self._last_ms
                self._last_random += 1
            else:
                self._last_random = secrets.randbits(80)
            self._last_ms = now_ms
            value = (now_ms << 80) | (self._last_random & ((1 << 80) - 1))
        chars = []
        for _ in range(26):
            chars.append(_CROCKFORD32[value & 31])
            value >>= 5
        return "".join(reversed(chars))


_ULIDS = UlidGenerator()


def new_id(prefix: str) -> str:
    """A provider-style object id, e.g. ``new_id("org_")`` → ``org_01J…``."""
    return prefix + _ULIDS.new()


def now_iso() -> str:
    """An ISO-8601 UTC timestamp with millisecond precision, as WorkOS writes them."""
    now = datetime.now(UTC)
    return f"{now:%Y-%m-%dT%H:%M:%S}.{now.microsecond // 1000:03d}Z"


def to_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def placeholders(values: Sequence[Any] | Mapping[str, Any]) -> str:
    """``?, ?, ?``: one SQL parameter per value."""
    return ", ".join("?" for _ in values)


def from_json(text: str | None, default: Any = None) -> Any:
    return default if text is None else json.loads(text)


ListOrder = Literal["asc", "desc", "normal"]


@dataclass(frozen=True)
class KeysetPage:
    """One page of rows plus whether rows exist on either side of it (in list order)."""

    rows: list[sqlite3.Row]
    has_preceding: bool
    has_following: bool


class SqliteStore:
    """A locked SQLite connection with small helpers; the schema comes from each emulator."""

    def __init__(self, db_path: str | Path = ":memory:") -> None:
        self.db_path = str(db_path)
        self._lock = threading.RLock()
        if self.db_path != ":memory:":
            Path(self.db_path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(
            self.db_path, check_same_thread=False, isolation_level=None, timeout=30
        )
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA foreign_keys = ON")
        if self.db_path != ":memory:":
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
        self._closed = False

    def apply_schema(self, schema_sql: str) -> None:
        """Create tables and indexes; statements must be idempotent (IF NOT EXISTS)."""
        with self._lock:
            self._conn.executescript(schema_sql)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._conn.close()
                self._closed = True

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run several statements atomically; nested use joins the outer transaction."""
        with self._lock:
            if self._conn.in_transaction:
                yield self._conn
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._conn.execute(sql, params)

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
            return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())

    def find(self, table: str, column: str, value: Any) -> sqlite3.Row | None:
        """The row of ``table`` whose ``column`` equals ``value`` (names come from code)."""
        return self.one(f"SELECT * FROM {table} WHERE {column} = ?", [value])  # noqa: S608

    def taken_by(self, table: str, column: str, value: Any, own_id: str | None) -> str | None:
        """The id of another row of ``table`` (not ``own_id``) holding ``value`` in ``column``."""
        row = self.one(
            f"SELECT id FROM {table} WHERE {column} = ? AND id IS NOT ?",  # noqa: S608
            [value, own_id],
        )
        return None if row is None else str(row["id"])

    def insert(
        self, table: str, values: Mapping[str, Any], conn: sqlite3.Connection | None = None
    ) -> None:
        """Insert one row given as column -> value (inside ``conn``'s transaction if given)."""
        sql = f"INSERT INTO {table} ({', '.join(values)}) VALUES ({placeholders(values)})"
        (conn or self).execute(sql, list(values.values()))

    def update(
        self,
        table: str,
        changes: Mapping[str, Any],
        where: str,
        params: Sequence[Any],
        conn: sqlite3.Connection | None = None,
    ) -> None:
        """``UPDATE table SET column = value, … WHERE where``; nothing when no changes."""
        if changes:
            assignments = ", ".join(f"{column} = ?" for column in changes)
            sql = f"UPDATE {table} SET {assignments} WHERE {where}"  # noqa: S608
            (conn or self).execute(sql, [*changes.values(), *params])

    def wipe(self, tables: Sequence[str]) -> None:
        """Delete every row of ``tables`` (children first) in one transaction."""
        with self.transaction() as conn:
            for table in tables:
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - names come from code

    def keyset_page(
        self,
        table: str,
        *,
        limit: int,
        order: ListOrder = "desc",
        before: str | None = None,
        after: str | None = None,
        where: str = "",
        params: Sequence[Any] = (),
    ) -> KeysetPage:
        """Page ``table`` by its ``id`` column with WorkOS cursor semantics.

        ``asc``/``desc``: ``after`` continues the list past that id, ``before`` returns the
        ``limit`` items just ahead of it. ``normal`` lists newest first but swaps the cursor
        meaning (``before`` fetches older, ``after`` newer), as WorkOS documents it.
        """
        descending = order in ("desc", "normal")
        following, preceding = (before, after) if order == "normal" else (after, before)
        # In list order, "following X" means id < X when descending, id > X when ascending.
        follow_op, precede_op = ("<", ">") if descending else (">", "<")

        def select(bounds: Sequence[tuple[str, Any]], backwards: bool, count: int) -> list[Any]:
            """Up to ``count`` rows within ``where`` and every ``(operator, id)`` bound."""
            clauses = [f"({where})"] if where else []
            clauses += [f"id {operator} ?" for operator, _ in bounds]
            clause = f"WHERE {' AND '.join(clauses)}" if clauses else ""
            direction = "DESC" if descending != backwards else "ASC"
            sql = f"SELECT * FROM {table} {clause} ORDER BY id {direction} LIMIT ?"  # noqa: S608
            return self.all(sql, [*params, *(pivot for _, pivot in bounds), count])

        cursors = ((follow_op, following), (precede_op, preceding))
        bounds = [(operator, cursor) for operator, cursor in cursors if cursor is not None]
        # Scan from the side the caller anchored: a lone `before` (in list order) wants the
        # items closest to its cursor, so read backwards from it and flip the result.
        backwards = preceding is not None and following is None
        rows = select(bounds, backwards, limit + 1)
        overflow, rows = len(rows) > limit, rows[:limit]
        if backwards:
            rows.reverse()
        if not rows:
            return KeysetPage(rows=[], has_preceding=False, has_following=False)
        if backwards:
            following_exists = bool(select([(follow_op, rows[-1]["id"])], False, 1))
            return KeysetPage(rows, has_preceding=overflow, has_following=following_exists)
        preceding_exists = bool(select([(precede_op, rows[0]["id"])], False, 1))
        return KeysetPage(rows, has_preceding=preceding_exists, has_following=overflow)
