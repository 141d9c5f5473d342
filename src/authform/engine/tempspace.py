"""Private temporary folders for what a command spools to disk (its index, its plan).

Each is created with mode 0700 and removed with the object that owns it, or when the
finalizer is called, or at exit, whichever comes first: spooled state is a cache of one
command, never state to find again.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import weakref
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any


def private_folder(owner: object, prefix: str) -> tuple[Path, weakref.finalize]:
    """A fresh 0700 temporary folder, removed with ``owner`` (or by calling the finalizer
    returned, or at exit, whichever comes first)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    return folder, weakref.finalize(owner, shutil.rmtree, str(folder), ignore_errors=True)


# A scratch database holds one command's cache: no journal, no fsync, one connection.
# Its page cache is 8 MB: every page beyond it is still in the operating system's file cache,
# so a smaller one costs no CPU, while each 16 MB cache filled as the data passed 10,000
# users (bench/scale_cli.py, 100,000 users: plan peak RSS 113 -> 89 MB, the same CPU).
_SCRATCH_PRAGMAS = (
    "journal_mode = OFF",
    "synchronous = OFF",
    "locking_mode = EXCLUSIVE",
    "temp_store = FILE",
    "cache_size = -8000",
)


class ScratchDatabase:
    """A SQLite file with ``schema`` in a private folder removed with this object (or by
    ``close``), open in one transaction for its whole life: each write is then a B-tree
    update in the page cache, not a commit (nothing in it must survive the command)."""

    # The file's page size in bytes; None: SQLite's default (4096). Set before the schema
    # is written (a page size cannot change once a table exists).
    page_size: int | None = None

    def __init__(self, prefix: str, schema: str) -> None:
        self.folder, self._remove = private_folder(self, prefix)
        self.db = sqlite3.connect(
            self.folder / "scratch.sqlite3", isolation_level=None, check_same_thread=False
        )
        if self.page_size is not None:
            self.db.execute(f"PRAGMA page_size = {int(self.page_size)}")
        for pragma in _SCRATCH_PRAGMAS:
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(schema)
        self.db.execute("BEGIN")

    def insert_rows(self, into: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """``INSERT INTO <into> VALUES`` each of ``rows`` (tuples of one width; ``into`` is
        ``table (column, ...)``), ``ROWS_PER_INSERT`` rows to a statement: Python's sqlite3
        spends more on each statement it executes than SQLite spends on inserting a row, and
        an import writes millions of rows."""
        if not rows:
            return
        width = len(rows[0])
        per, whole = _whole_statements(width, len(rows))
        if whole:
            self.db.executemany(
                _insert_statement(into, width, per),
                (tuple(chain.from_iterable(rows[at : at + per])) for at in range(0, whole, per)),
            )
        if whole < len(rows):
            self.db.executemany(_insert_statement(into, width, 1), rows[whole:])

    def insert_columns(self, into: str, columns: Sequence[Sequence[Any]]) -> int:
        """``insert_rows`` of the rows ``zip(*columns)`` (columns of one length, each
        sliceable), as many as fill whole statements, without making each row's tuple: each
        statement's parameters are read off the columns' slices in one pass. Returns how
        many rows were written; the rest (fewer than a statement takes) are left to the
        caller, to be written with later rows."""
        width = len(columns)
        per, whole = _whole_statements(width, len(columns[0]))
        if whole:
            self.db.executemany(
                _insert_statement(into, width, per),
                (
                    tuple(
                        chain.from_iterable(zip(*[c[at : at + per] for c in columns], strict=True))
                    )
                    for at in range(0, whole, per)
                ),
            )
        return whole

    def close(self) -> None:
        self.db.close()
        self._remove()

    @property
    def closed(self) -> bool:
        return not self._remove.alive


# Rows one INSERT statement writes, within the parameters a statement may have (999: the
# limit of older SQLite builds).
ROWS_PER_INSERT = 100
MAX_PARAMETERS = 999


@lru_cache(maxsize=64)
def _whole_statements(width: int, count: int) -> tuple[int, int]:
    """Rows of ``width`` values per INSERT statement, and how many of ``count`` rows fill
    whole statements of that many."""
    per = min(ROWS_PER_INSERT, MAX_PARAMETERS // width)
    return per, count - count % per


def _insert_statement(into: str, width: int, rows: int) -> str:
    values = "(" + ", ".join("?" * width) + ")"
    return f"INSERT INTO {into} VALUES " + ", ".join([values] * rows)
