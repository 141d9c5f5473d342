"""Check the database's KavachOS tables, then encode values the way each column needs.

``inspect_database`` runs before the first read and so before any write: every missing table,
missing or mistyped column and missing write privilege is reported at once, naming it, and
nothing is written to a database authform does not understand.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from authform.providers.base import ProviderError
from authform.providers.kavachos.database import Database
from authform.providers.kavachos.schema import (
    CREATED_BY,
    DEFAULT_CREATOR,
    Encoding,
    shape_problems,
)

# JSON as a TEXT column holds it; one encoder for every value (``json.dumps`` with options
# builds one per call).
_JSON_TEXT = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class SchemaError(ProviderError):
    """The database is not the KavachOS 0.2.1 database authform writes."""


class Codec:
    """Per (table, column): how a Python value is written and read back."""

    def __init__(self, db: Database, encodings: Mapping[str, Mapping[str, Encoding]]) -> None:
        self._db = db
        self.encodings = encodings
        # One function per column, chosen once: an import encodes a million values.
        self._writers: dict[tuple[str, str], Callable[[Any], Any]] = {
            (table, column): _writer(encoding, db)
            for table, columns in encodings.items()
            for column, encoding in columns.items()
        }

    def has_table(self, table: str) -> bool:
        return table in self.encodings

    def encoding(self, table: str, column: str) -> Encoding:
        return self.encodings[table][column]

    def put(self, table: str, column: str, value: Any) -> Any:
        """``value`` is text, a bool, a JSON-able object, or a timestamp in float seconds."""
        if value is None:
            return None
        return self._writers[table, column](value)

    @staticmethod
    def json_value(raw: Any) -> Any:
        """A JSON column as read: text (SQLite, TEXT on PostgreSQL) or already decoded."""
        if isinstance(raw, str):
            if raw == "{}":
                return {}  # most rows' metadata: skip the parser
            try:
                return json.loads(raw)
            except ValueError:
                return raw
        return raw

    @staticmethod
    def bool_value(raw: Any) -> bool:
        return bool(raw) and raw not in ("0", "false", "f")


def _writer(encoding: Encoding, db: Database) -> Callable[[Any], Any]:
    """How a value is written to a column of ``encoding``."""
    if encoding is Encoding.SECONDS:
        return _seconds
    if encoding is Encoding.MILLIS:
        return _millis
    if encoding is Encoding.DATETIME:
        return _datetime
    if encoding is Encoding.INT_BOOL:
        return lambda value: 1 if value else 0
    if encoding is Encoding.BOOL:
        return bool
    if encoding is Encoding.JSON_TEXT:
        return _JSON_TEXT.encode
    if encoding is Encoding.JSONB:
        return db.json_writer()  # type: ignore[attr-defined, no-any-return]
    return lambda value: value


# A batch stamps every row with one time: each is converted once, not once per row.
@functools.lru_cache(maxsize=8)
def _seconds(value: float) -> int:
    return int(value)


@functools.lru_cache(maxsize=8)
def _millis(value: float) -> int:
    return int(value * 1000)


@functools.lru_cache(maxsize=8)
def _datetime(value: float) -> datetime:
    return datetime.fromtimestamp(int(value), UTC)


def inspect_database(db: Database, tables: Iterable[str]) -> Codec:
    """The codec for ``tables``, or ``SchemaError`` listing everything that does not fit."""
    encodings: dict[str, dict[str, Encoding]] = {}
    missing: list[str] = []
    problems: list[str] = []
    wanted = sorted(set(tables))
    for table in wanted:
        found = db.columns(table)
        if found is None:
            missing.append(f"table {table} is missing ({CREATED_BY.get(table, DEFAULT_CREATOR)})")
            continue
        table_encodings, table_problems = shape_problems(table, found, postgres=db.postgres)
        encodings[table] = table_encodings
        problems += table_problems
    if not missing and not problems:
        problems += db.write_problems(wanted)
    if missing or problems:
        lines = missing + problems
        raise SchemaError(
            f"{db.label} is not a KavachOS 0.2.1 database authform can write; nothing was "
            "written:\n  - " + "\n  - ".join(lines)
        )
    return Codec(db, encodings)
