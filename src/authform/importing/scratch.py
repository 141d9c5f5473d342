"""Scratch space for the import's export-wide rules, on disk.

Judging an import needs facts about the whole export before any one record is settled: is
this user id a repeat, is this email also another user's, is a membership's user imported.
Held as Python sets and dicts these grow with the export (about 100 bytes a user, more than
the whole plan is allowed at a million users), so they are kept in a SQLite file in a
private temporary folder, removed with the import's scratch (``close``, or at exit).

Each question is asked for a batch of records at once (``DiskSet.add_all``,
``DiskMap.claim_all``): one statement per batch rather than one per record, which is what
made a million-user import spend most of its time in SQLite's call overhead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence

from authform.engine.tempspace import ScratchDatabase

_SCHEMA = """
CREATE TABLE emails (email TEXT NOT NULL, ordinal INTEGER NOT NULL, source_id TEXT NOT NULL);
"""

# Each named set or map (``ImportScratch.set``, ``.map``) is a table of its own, keyed by its
# keys alone: in one table keyed by (name, key), every row repeated its name and every
# comparison of the B-tree began with it (100,000 users' ids and 200,000 memberships' keys
# claimed: 0.24 -> 0.15 s).
_ENTRIES_SCHEMA = (
    "CREATE TABLE {table} (key TEXT PRIMARY KEY NOT NULL, value TEXT, claim INTEGER NOT NULL) "
    "WITHOUT ROWID"
)


# The scratch database's page cache, in KiB.
CACHE_KIB = 4_000


class ImportScratch(ScratchDatabase):
    def __init__(self) -> None:
        super().__init__("authform-import-", _SCHEMA)
        # A small page cache: the scratch is written a batch at a time and asked about a
        # batch at a time, so pages spilled to its (unsynced, private) file cost little,
        # while the shared 16 MB cache made the import's memory grow with the export up to
        # that limit (parse peak RSS 77 MB at 10,000 users, 96 MB at 100,000; 88 MB now).
        self.db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        self.claims = 0  # batches stored so far (each entry keeps the number of its batch)
        self._entry_tables: dict[str, str] = {}  # a set's or map's name -> its table

    def entries_table(self, name: str) -> str:
        """The table of the set or map ``name`` (made at its first use)."""
        table = self._entry_tables.get(name)
        if table is None:
            table = self._entry_tables[name] = f"entries_{len(self._entry_tables)}"
            self.db.execute(_ENTRIES_SCHEMA.format(table=table))
        return table

    def set(self, name: str) -> DiskSet:
        return DiskSet(self, name)

    def map(self, name: str) -> DiskMap:
        return DiskMap(self, name)

    # ---- emails shared by several users ----------------------------------------------------

    def add_emails(self, rows: Sequence[tuple[str, int, str]]) -> None:
        """(email, ordinal of the record, its source id), a batch at a time."""
        self.insert_rows("emails (email, ordinal, source_id)", rows)

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


class _Entries:
    """One named table of keys (and values) in the scratch database."""

    def __init__(self, scratch: ImportScratch, name: str) -> None:
        self.scratch = scratch  # kept alive (and its folder with it) while this is used
        self.db = scratch.db
        self.name = name
        self.table = scratch.entries_table(name)

    def _stored(self, keys: Iterable[str]) -> dict[str, str | None]:
        """Which of ``keys`` are stored already, with their values: one statement."""
        rows = self.db.execute(
            f"SELECT key, value FROM {self.table} WHERE key IN (SELECT value FROM json_each(?))",
            (json.dumps(list(keys)),),
        )
        return dict(rows)

    def claim_if_all_new(self, pairs: Sequence[tuple[str, str | None]]) -> bool:
        """Store every key with its value when none of them is stored yet nor repeated in
        ``pairs``, and say so; else store nothing and return False (for a batch to be
        taken whole or not at all). One insert in the common case: when it leaves a key out,
        the keys it did store (those of this claim's number) are deleted again."""
        keys = [key for key, _ in pairs]
        if len(set(keys)) != len(keys):
            return False
        self.scratch.claims += 1
        claim = self.scratch.claims
        before = self.db.total_changes
        self._store(pairs, claim)
        if self.db.total_changes - before == len(keys):
            return True
        self.db.execute(
            f"DELETE FROM {self.table} WHERE claim = ? AND key IN (SELECT value FROM json_each(?))",
            (claim, json.dumps(keys)),
        )
        return False

    def _claim(self, pairs: Iterable[tuple[str, str | None]]) -> dict[str, str | None]:
        """Store each key not stored yet (the first value of a key wins); return the keys
        that were stored before this call, with their values.

        One insert for the whole batch, and no lookup unless the insert left some key out:
        nearly every key of an import is new, so asking first would double the work. The
        entries keep the number of the batch that stored them, which tells this batch's
        entries from earlier ones when a key was left out."""
        first: dict[str, str | None] = {}
        for key, value in pairs:
            first.setdefault(key, value)
        self.scratch.claims += 1
        claim = self.scratch.claims
        before = self.db.total_changes
        self._store(first.items(), claim)
        if self.db.total_changes - before == len(first):
            return {}
        rows = self.db.execute(
            f"SELECT key, value FROM {self.table} WHERE claim < ? AND key IN "
            "(SELECT value FROM json_each(?))",
            (claim, json.dumps(list(first))),
        )
        return dict(rows)

    def _store(self, pairs: Iterable[tuple[str, str | None]], claim: int) -> None:
        """Store each key unless stored already: one statement per distinct value, the keys
        passed as one JSON array, since a statement executed per row costs more in Python's
        sqlite3 than the insert costs in SQLite (a batch has a handful of values: the roles
        of a batch of memberships, or none)."""
        keys_by_value: dict[str | None, list[str]] = {}
        for key, value in pairs:
            keys_by_value.setdefault(value, []).append(key)
        for value, keys in keys_by_value.items():
            self.db.execute(
                f"INSERT OR IGNORE INTO {self.table} (key, value, claim) "
                "SELECT value, ?, ? FROM json_each(?)",
                (value, claim, json.dumps(keys)),
            )


class DiskSet(_Entries):
    """A set of strings on disk, added to a batch at a time."""

    def add_all(self, values: Sequence[str]) -> list[bool]:
        """Add every value; for each, in order, whether it was new (neither added before
        nor earlier in ``values``)."""
        known = set(self._claim((value, None) for value in values))
        fresh: list[bool] = []
        for value in values:
            is_new = value not in known
            fresh.append(is_new)
            if is_new:
                known.add(value)
        return fresh


class DiskMap(_Entries):
    """A mapping of strings to strings on disk, with the few operations the import uses."""

    def get(self, key: str, default: str | None = None) -> str | None:
        return self._stored([key]).get(key, default)

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return self.get(str(key)) is not None

    def claim_all(self, pairs: Sequence[tuple[str, str]]) -> list[str | None]:
        """Set each key to its value unless it is set already (before, or earlier in
        ``pairs``); for each pair, in order, None when it set the key, else the value set
        first."""
        first = self._claim(pairs)
        earlier: list[str | None] = []
        for key, value in pairs:
            earlier.append(first.get(key))
            if key not in first:
                first[key] = value
        return earlier

    def setdefault(self, key: str, value: str) -> None:
        """Set ``key`` unless it is set already (the first value wins)."""
        self._claim([(key, value)])
