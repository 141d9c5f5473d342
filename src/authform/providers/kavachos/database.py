"""One connection to the database KavachOS uses: SQLite (standard library) or PostgreSQL
(psycopg), behind the few operations the provider needs.

Writes go through ``run_batch`` only: one transaction per batch, each statement sent with
``executemany`` (psycopg pipelines those) or, for many rows of one insert on PostgreSQL, by
COPY (straight into the table, or through a staging table when a row is there already), so
an import is a few hundred transactions, not hundreds of thousands of round trips. Messages
never show the URL's password.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from authform.json_text import sorted_encoder
from authform.providers.base import ProviderError
from authform.providers.kavachos.schema import ColumnFound
from authform.providers.kavachos.statements import UPSERTS, Upsert

Rows = Sequence[tuple[Any, ...]]
Batch = Sequence[tuple[str, Rows]]  # (SQL with ? placeholders, parameter rows)

CONNECT_TIMEOUT_S = 10
PAGE = 5000  # rows per fetch in large reads
# From this many rows of one insert in a batch, PostgreSQL gets them by COPY (a staging
# table) rather than a statement per row; fewer are not worth the staging round trips.
COPY_MIN_ROWS = 64
# A PostgreSQL transaction rolled back because it met another (deadlock_detected,
# serialization_failure: SQLSTATE class 40) is tried again whole, as PostgreSQL's manual
# advises: every statement of a batch converges (an upsert), so a second try is safe. Two
# applies writing the same rows at once meet this; a lasting conflict still fails the batch.
ROLLBACK_ATTEMPTS = 5
ROLLBACK_PAUSE_S = 0.05
STAGING_ORDER = "authform_position"  # a staged row's place in the batch
_COPY_SAVEPOINT = "authform_copy"  # what a COPY refused on a key is undone to
# A JSONB value's text (a value JSON cannot hold is refused, as ``json.dumps`` refuses it).
_JSONB_TEXT = sorted_encoder(separators=(",", ":"), ensure_ascii=False, default=None)
# A concurrent apply holds SQLite's write lock for one batch at a time; waiting this long for
# it is far more than any batch takes.
SQLITE_BUSY_TIMEOUT_MS = 30_000


class DatabaseError(ProviderError):
    """A statement or the connection failed; the message is the database's own, redacted."""


class RowError(DatabaseError):
    """A row was refused (a constraint, a value the column cannot hold): the fault of that
    row's change, not of the batch it came in, so the batch can be split to find it."""


def redact_url(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


class Database(Protocol):
    postgres: bool
    label: str

    def columns(self, table: str) -> dict[str, ColumnFound] | None: ...
    def write_problems(self, tables: Sequence[str]) -> list[str]: ...
    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
    def rows(self, sql: str) -> Iterator[tuple[Any, ...]]: ...
    def run_batch(self, batch: Batch) -> None: ...
    def close(self) -> None: ...


def connect(url: str) -> Database:
    scheme = url.partition("://")[0].lower()
    if scheme == "sqlite":
        return SqliteDatabase(url)
    if scheme in ("postgresql", "postgres"):
        return PostgresDatabase(url)
    raise DatabaseError(
        "target.database_url must be sqlite:///path or postgresql://..., "
        f"not a {scheme or 'scheme-less'} URL"
    )


@dataclass(frozen=True)
class SqlitePath:
    path: str
    read_only: bool


def sqlite_path(url: str) -> SqlitePath:
    """``sqlite:///relative.db`` (relative to the working directory, as SQLAlchemy reads
    it), ``sqlite:////absolute.db``; ``?mode=ro`` opens it read-only."""
    rest = url.partition("://")[2]
    path, _, query = rest.partition("?")
    if not path.startswith("/") or not path[1:]:
        raise DatabaseError("a SQLite database_url is sqlite:/// followed by the file's path")
    options = dict(parse_qsl(query))
    unknown = sorted(set(options) - {"mode"})
    if unknown or options.get("mode", "rw") not in ("ro", "rw"):
        raise DatabaseError(
            "a SQLite database_url takes only ?mode=ro or ?mode=rw, not "
            + ", ".join(unknown or [f"mode={options.get('mode')}"])
        )
    return SqlitePath(path[1:], options.get("mode") == "ro")


class SqliteDatabase:
    postgres = False

    def __init__(self, url: str) -> None:
        where = sqlite_path(url)
        self.label = f"SQLite database {where.path}"
        self.read_only = where.read_only
        if not os.path.isfile(where.path):
            # Opening a missing file would create it: a write, and an empty database.
            raise DatabaseError(
                f"{self.label} does not exist; point target.database_url at the file your "
                "KavachOS app uses (KavachOS creates it and its tables when it starts)"
            )
        mode = "ro" if where.read_only else "rw"
        try:
            self._db = sqlite3.connect(
                f"file:{where.path}?mode={mode}",
                uri=True,
                isolation_level=None,  # transactions are explicit: BEGIN IMMEDIATE … COMMIT
                check_same_thread=False,
                timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
            )
            self._db.execute("PRAGMA foreign_keys = ON")  # as KavachOS runs SQLite
            self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            raise DatabaseError(f"{self.label}: cannot open it: {exc}") from None
        self._lock = threading.Lock()

    def columns(self, table: str) -> dict[str, ColumnFound] | None:
        rows = self.fetch(f"PRAGMA table_info({table})")
        if not rows:
            return None
        return {
            name: ColumnFound(
                name, type_ or "", bool(not_null), default is not None, primary_key=bool(pk)
            )
            for _cid, name, type_, not_null, default, pk in rows
        }

    def write_problems(self, tables: Sequence[str]) -> list[str]:
        if self.read_only:
            return [f"{self.label} is opened read-only (mode=ro)"]
        if not os.access(self._file(), os.W_OK):
            return [f"{self.label} is not writable by this user"]
        return []

    def _file(self) -> str:
        row = self._db.execute("PRAGMA database_list").fetchone()
        return str(row[2])

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return list(self._db.execute(sql, tuple(params)).fetchall())
            except sqlite3.Error as exc:
                raise DatabaseError(f"{self.label}: {exc}") from None

    def rows(self, sql: str) -> Iterator[tuple[Any, ...]]:
        """The rows of a large read, a page at a time, never all held at once."""
        with self._lock:
            try:
                cursor = self._db.execute(sql)
                while page := cursor.fetchmany(PAGE):
                    yield from page
            except sqlite3.Error as exc:
                raise DatabaseError(f"{self.label}: {exc}") from None

    def run_batch(self, batch: Batch) -> None:
        with self._lock:
            try:
                # IMMEDIATE takes the write lock first: two applies queue instead of both
                # reading and then failing to upgrade.
                self._db.execute("BEGIN IMMEDIATE")
                for sql, rows in batch:
                    self._db.executemany(sql, rows)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                refused = isinstance(exc, sqlite3.IntegrityError | sqlite3.DataError)
                raise (RowError if refused else DatabaseError)(f"{self.label}: {exc}") from None

    def close(self) -> None:
        self._db.close()


class PostgresDatabase:
    postgres = True

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError:  # pragma: no cover - psycopg is a dependency
            raise DatabaseError("PostgreSQL needs the psycopg package") from None
        self._psycopg = psycopg
        self.label = f"PostgreSQL database {redact_url(url)}"
        try:
            self._db = psycopg.connect(
                url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, application_name="authform"
            )
        except psycopg.Error as exc:
            raise DatabaseError(f"{self.label}: cannot connect: {_first_line(exc)}") from None
        except (ValueError, UnicodeError) as exc:
            raise DatabaseError(f"{self.label}: not a valid PostgreSQL URL ({exc})") from None
        self._lock = threading.Lock()
        self._staging: dict[str, str] = {}  # upsert SQL → its staging table
        self._staging_made: set[str] = set()

    def columns(self, table: str) -> dict[str, ColumnFound] | None:
        rows = self.fetch(
            "SELECT c.column_name, c.data_type, c.is_nullable, c.column_default, "
            "EXISTS (SELECT 1 FROM information_schema.table_constraints t "
            "JOIN information_schema.key_column_usage k ON k.constraint_name = t.constraint_name "
            "AND k.table_schema = t.table_schema AND k.table_name = t.table_name "
            "WHERE t.constraint_type = 'PRIMARY KEY' AND t.table_schema = c.table_schema "
            "AND t.table_name = c.table_name AND k.column_name = c.column_name) "
            "FROM information_schema.columns c "
            "WHERE c.table_schema = current_schema() AND c.table_name = ? "
            "ORDER BY c.ordinal_position",
            (table,),
        )
        if not rows:
            return None
        return {
            name: ColumnFound(name, data_type, nullable == "NO", default is not None, bool(pk))
            for name, data_type, nullable, default, pk in rows
        }

    def write_problems(self, tables: Sequence[str]) -> list[str]:
        problems = []
        for table in tables:
            row = self.fetch(
                "SELECT has_table_privilege(?, 'INSERT'), has_table_privilege(?, 'UPDATE'), "
                "has_table_privilege(?, 'DELETE')",
                (table, table, table),
            )[0]
            missing = [
                p for p, ok in zip(("INSERT", "UPDATE", "DELETE"), row, strict=True) if not ok
            ]
            if missing:
                problems.append(f"{self.label}: this user lacks {', '.join(missing)} on {table}")
        read_only = self.fetch("SHOW transaction_read_only")[0][0]
        if read_only == "on":
            problems.append(f"{self.label} is read-only (transaction_read_only is on)")
        return problems

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                with self._db.cursor() as cursor:
                    cursor.execute(_pg(sql), tuple(params))
                    return list(cursor.fetchall())
            except self._psycopg.Error as exc:
                raise DatabaseError(f"{self.label}: {_first_line(exc)}") from None

    def rows(self, sql: str) -> Iterator[tuple[Any, ...]]:
        """The rows of a large read, a page at a time (a server-side cursor)."""
        with self._lock:
            try:
                with self._db.transaction(), self._db.cursor(name="authform_read") as cursor:
                    cursor.execute(sql)
                    while page := cursor.fetchmany(PAGE):
                        yield from page
            except self._psycopg.Error as exc:
                raise DatabaseError(f"{self.label}: {_first_line(exc)}") from None

    def run_batch(self, batch: Batch) -> None:
        """One transaction. Many rows of one insert are COPYed (``_copy_in``); the rest go
        by ``executemany``. Either way a refused row fails the whole transaction as a
        ``RowError``, and the caller splits the batch to find it."""
        staged = {
            sql: upsert
            for sql, rows in batch
            if len(rows) >= COPY_MIN_ROWS and (upsert := UPSERTS.get(sql)) is not None
        }
        with self._lock:
            for attempt in range(1, ROLLBACK_ATTEMPTS + 1):
                try:
                    staging = {sql: self._staging_table(u) for sql, u in staged.items()}
                    with self._db.transaction(), self._db.cursor() as cursor:
                        for sql, rows in batch:
                            if sql in staged:
                                self._copy_in(cursor, staged[sql], staging[sql], rows)
                            else:
                                cursor.executemany(_pg(sql), rows)
                    return
                except self._psycopg.OperationalError as exc:
                    if not (exc.sqlstate or "").startswith("40"):
                        raise DatabaseError(f"{self.label}: {_first_line(exc)}") from None
                    if attempt == ROLLBACK_ATTEMPTS:
                        tried = f" (tried {attempt} times)"
                        raise DatabaseError(f"{self.label}: {_first_line(exc)}{tried}") from None
                    # Apart, at random: two applies that met retry at different moments.
                    time.sleep(ROLLBACK_PAUSE_S * attempt * (1 + random.random()))
                except (self._psycopg.IntegrityError, self._psycopg.DataError) as exc:
                    raise RowError(f"{self.label}: {_first_line(exc)}") from None
                except self._psycopg.Error as exc:
                    raise DatabaseError(f"{self.label}: {_first_line(exc)}") from None

    def _copy_in(self, cursor: Any, upsert: Upsert, staging: str, rows: Rows) -> None:
        """The rows of one insert by COPY straight into its table, which is all an import's
        first run needs: no staging, no conflict handling per row. When a row's id is there
        already (a rerun, a concurrent apply, an id twice in the batch) the table refuses
        the COPY on its key: that is undone to a savepoint, and the rows go through the
        staging table with the upsert's own rule (``_copy_upsert``), as if it was the only
        way. Any other refusal is the batch's, as before."""
        cursor.execute(f"SAVEPOINT {_COPY_SAVEPOINT}")
        try:
            _copy_rows(cursor, upsert, rows)
        except self._psycopg.errors.UniqueViolation:
            cursor.execute(f"ROLLBACK TO SAVEPOINT {_COPY_SAVEPOINT}")
            _copy_upsert(cursor, upsert, staging, rows)
        cursor.execute(f"RELEASE SAVEPOINT {_COPY_SAVEPOINT}")

    def _staging_table(self, upsert: Upsert) -> str:
        """The staging table of ``upsert``: session-private, of the table's own column
        types, emptied at every commit or rollback. Created the first time it is needed,
        outside the batch's transaction, so a rolled back batch does not take it away."""
        name = self._staging.setdefault(upsert.sql, f"authform_stage_{len(self._staging)}")
        if name not in self._staging_made:
            with self._db.cursor() as cursor:  # autocommit: it lasts as long as the session
                cursor.execute(
                    f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ON COMMIT DELETE ROWS AS "
                    f"SELECT {', '.join(upsert.columns)}, 0::bigint AS {STAGING_ORDER} "
                    f"FROM {upsert.table} WITH NO DATA"
                )
            self._staging_made.add(name)
        return name

    def close(self) -> None:
        self._db.close()

    def json_writer(self) -> Any:
        """How a value is written to a JSONB column: as its JSON text, which PostgreSQL
        reads into the column's type (psycopg sends a ``str`` as of unknown type), made by
        the C encoder. psycopg's ``Jsonb`` wrapper encodes each value with ``json.dumps``
        from Python when the row is sent, and an import COPYs hundreds of thousands."""
        return _JSONB_TEXT


def _copy_rows(cursor: Any, upsert: Upsert, rows: Rows) -> None:
    """COPY ``rows`` into ``upsert``'s table as they are."""
    with cursor.copy(f"COPY {upsert.table} ({', '.join(upsert.columns)}) FROM STDIN") as copy:
        write_row = copy.write_row
        for row in rows:
            write_row(row)


def _copy_upsert(cursor: Any, upsert: Upsert, staging: str, rows: Rows) -> None:
    """COPY is PostgreSQL's fastest way in, but cannot say ON CONFLICT: the rows go into
    ``staging`` first, then into the table in one statement with the upsert's own rule."""
    columns = ", ".join(upsert.columns)
    with cursor.copy(f"COPY {staging} ({columns}, {STAGING_ORDER}) FROM STDIN") as copy:
        for position, row in enumerate(rows):
            copy.write_row((*row, position))
    cursor.execute(upsert.staged(staging, STAGING_ORDER))


def _pg(sql: str) -> str:
    """Our SQL is written with ``?`` placeholders and never contains a literal ``?`` or
    ``%``."""
    return sql.replace("?", "%s")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
