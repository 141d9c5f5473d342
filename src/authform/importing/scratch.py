"""Scratch space for the import's export-wide rules, on disk.

Judging an import needs facts about the whole export before any one record is settled: is
this user id a repeat, is this email also another user's, is a membership's user imported.
Held as Python sets and dicts these grow with the export (about 100 bytes a user, more than
the whole plan is allowed at a million users), so they are kept in a SQLite file in a
private temporary folder, removed with the import's scratch (``close``, or at exit).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from authform.engine.tempspace import scratch_database

_SCHEMA = """
CREATE TABLE entries (name TEXT NOT NULL, key TEXT NOT NULL, value TEXT,
                      PRIMARY KEY (name, key)) WITHOUT ROWID;
CREATE TABLE emails (email TEXT NOT NULL, ordinal INTEGER NOT NULL, source_id TEXT NOT NULL);
"""


class ImportScratch:
    def __init__(self) -> None:
        self.folder, self._remove, self.db = scratch_database(self, "authform-import-", _SCHEMA)

    def close(self) -> None:
        self.db.close()
        self._remove()

    def set(self, name: str) -> DiskSet:
        return DiskSet(self, name)

    def map(self, name: str) -> DiskMap:
        return DiskMap(self, name)

    # ---- emails shared by several users ----------------------------------------------------

    def add_emails(self, rows: Iterable[tuple[str, int, str]]) -> None:
        """(email, ordinal of the record, its source id), a batch at a time."""
        self.db.executemany("INSERT INTO emails VALUES (?, ?, ?)", rows)

    def shared_emails(self) -> Iterator[tuple[str, list[tuple[int, str]]]]:
        """Each email chosen by more than one record, with those records (ordinal, source
        id) in export order."""
        self.db.execute("CREATE INDEX IF NOT EXISTS emails_by_email ON emails (email, ordinal)")
        rows = self.db.execute(
            "SELECT email, ordinal, source_id FROM emails WHERE email IN "
            "(SELECT email FROM emails GROUP BY email HAVING count(*) > 1) "
            "ORDER BY email, ordinal"
        ).fetchall()
        shared: dict[str, list[tuple[int, str]]] = {}
        for email, ordinal, source_id in rows:
            shared.setdefault(email, []).append((ordinal, source_id))
        yield from shared.items()


class DiskSet:
    """A set of strings on disk: ``add`` says whether the value is new."""

    def __init__(self, scratch: ImportScratch, name: str) -> None:
        self.scratch = scratch  # kept alive (and its folder with it) while this is used
        self.db = scratch.db
        self.name = name

    def add(self, value: str) -> bool:
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO entries (name, key) VALUES (?, ?)", (self.name, value)
        )
        return cursor.rowcount == 1

    def __contains__(self, value: object) -> bool:
        return (
            self.db.execute(
                "SELECT 1 FROM entries WHERE name = ? AND key = ?", (self.name, value)
            ).fetchone()
            is not None
        )


class DiskMap:
    """A mapping of strings to strings on disk, with the few operations the import uses."""

    def __init__(self, scratch: ImportScratch, name: str) -> None:
        self.scratch = scratch  # kept alive (and its folder with it) while this is used
        self.db = scratch.db
        self.name = name

    def get(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute(
            "SELECT value FROM entries WHERE name = ? AND key = ?", (self.name, key)
        ).fetchone()
        return default if row is None else str(row[0])

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return self.get(str(key)) is not None

    def claim(self, key: str, value: str) -> str | None:
        """Set ``key`` to ``value`` if it is not set yet and return None; else return the
        value set first (one statement in the common case)."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO entries (name, key, value) VALUES (?, ?, ?)",
            (self.name, key, value),
        )
        return None if cursor.rowcount == 1 else self.get(key)

    def setdefault(self, key: str, value: str) -> None:
        """Set ``key`` unless it is set already (the first value wins)."""
        self.db.execute(
            "INSERT OR IGNORE INTO entries (name, key, value) VALUES (?, ?, ?)",
            (self.name, key, value),
        )
