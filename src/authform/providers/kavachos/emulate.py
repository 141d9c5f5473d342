"""``--emulate`` for KavachOS: a SQLite file in the emulator state folder holding KavachOS's
tables, made the way a KavachOS app's first start would make them, so the quickstart works
with no database at all."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from authform.providers.kavachos.ddl import SQLITE_DDL


def emulated_database_url(state_file: Path) -> str:
    """Create ``state_file`` with KavachOS's tables if needed; its ``sqlite:///`` URL."""
    state_file.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(state_file) as db:
        db.executescript(SQLITE_DDL)
    db.close()
    return f"sqlite:///{state_file}"
