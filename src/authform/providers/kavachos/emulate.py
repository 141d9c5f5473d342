"""The KavachOS emulator: a SQLite file holding KavachOS 0.2.1's tables, made the way a
KavachOS app's first start makes them. KavachOS is a library with no admin API, so there is
no server to run: its "API" is its tables. ``--emulate`` keeps one in the emulator state
folder, so the quickstart works with no database at all, and ``authform emulator kavachos``
makes one where you say, for a manifest whose ``database_url`` points at it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from authform.providers.kavachos.codec import inspect_database
from authform.providers.kavachos.database import connect
from authform.providers.kavachos.ddl import SQLITE_DDL
from authform.providers.kavachos.schema import COLUMNS


def emulated_database_url(state_file: Path) -> str:
    """Create ``state_file`` with KavachOS's tables if needed; its ``sqlite:///`` URL.

    A file that is there already must be a SQLite database whose KavachOS tables have the
    shape authform writes (``DatabaseError`` naming what is not, and nothing written); its
    rows are kept and only missing tables are added."""
    url = f"sqlite:///{state_file.resolve()}"
    if state_file.exists():
        _check_shape(url, present_only=True)
    state_file.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(state_file) as db:
        db.executescript(SQLITE_DDL)
    db.close()
    _check_shape(url, present_only=False)
    return url


def _check_shape(url: str, *, present_only: bool) -> None:
    database = connect(url)  # a file that is not SQLite is refused here
    try:
        tables = [t for t in COLUMNS if not present_only or database.columns(t) is not None]
        inspect_database(database, tables)
    finally:
        database.close()
