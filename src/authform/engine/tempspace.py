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
from pathlib import Path


def private_folder(owner: object, prefix: str) -> tuple[Path, weakref.finalize]:
    """A fresh 0700 temporary folder, removed with ``owner`` (or by calling the finalizer
    returned, or at exit, whichever comes first)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    return folder, weakref.finalize(owner, shutil.rmtree, str(folder), ignore_errors=True)


# A scratch database holds one command's cache: no journal, no fsync, one connection.
_SCRATCH_PRAGMAS = (
    "journal_mode = OFF",
    "synchronous = OFF",
    "locking_mode = EXCLUSIVE",
    "temp_store = FILE",
    "cache_size = -16000",
)


def scratch_database(
    owner: object, prefix: str, schema: str
) -> tuple[Path, weakref.finalize, sqlite3.Connection]:
    """A SQLite file with ``schema`` in a private folder removed with ``owner``, open in one
    transaction for its whole life: each write is then a B-tree update in the page cache,
    not a commit (nothing in it must survive the command)."""
    folder, remove = private_folder(owner, prefix)
    db = sqlite3.connect(folder / "scratch.sqlite3", isolation_level=None, check_same_thread=False)
    for pragma in _SCRATCH_PRAGMAS:
        db.execute(f"PRAGMA {pragma}")
    db.executescript(schema)
    db.execute("BEGIN")
    return folder, remove, db
