"""Saved and fresh change entries joined by address, without holding either list.

A refused saved plan names the changes that moved (the live state or a password digest
changed under them). Both lists may hold a million entries and a change may have moved
within the plan's order, so they are joined by address in a temporary SQLite file, which
keeps memory flat at any size; only the first few addresses, and the count, come back.
"""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# An entry as the join sees it: its address and a digest of the part being compared.
Entry = tuple[str, bytes]


@dataclass(frozen=True)
class Moved:
    """The addresses that differ between the two lists: the first few, and how many."""

    first: list[str]
    total: int


def entry_digest(content: bytes) -> bytes:
    return hashlib.sha256(content).digest()


def moved_addresses(
    saved: Iterable[Entry], fresh: Iterable[Entry], *, shared_only: bool, first: int
) -> Moved:
    """Addresses whose digests differ, in the saved list's order, then (unless
    ``shared_only``) those in only one list: the saved ones with them, the fresh ones after,
    in the fresh list's order."""
    with tempfile.TemporaryDirectory(prefix="authform-join-") as folder:
        connection = sqlite3.connect(Path(folder) / "join.sqlite3")
        try:
            return _join(connection, saved, fresh, shared_only=shared_only, first=first)
        finally:
            connection.close()


def _join(
    db: sqlite3.Connection,
    saved: Iterable[Entry],
    fresh: Iterable[Entry],
    *,
    shared_only: bool,
    first: int,
) -> Moved:
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute(
        "CREATE TABLE saved (address TEXT PRIMARY KEY, position INTEGER, digest BLOB, fresh BLOB)"
    )
    db.execute("CREATE TABLE fresh_only (position INTEGER PRIMARY KEY, address TEXT)")
    db.executemany(
        "INSERT OR IGNORE INTO saved (address, position, digest) VALUES (?, ?, ?)",
        ((address, n, digest) for n, (address, digest) in enumerate(saved)),
    )
    for n, (address, digest) in enumerate(fresh):
        cursor = db.execute("UPDATE saved SET fresh = ? WHERE address = ?", (digest, address))
        if cursor.rowcount == 0 and not shared_only:
            db.execute("INSERT INTO fresh_only VALUES (?, ?)", (n, address))
    differs = "fresh IS NOT NULL AND fresh != digest"
    if not shared_only:
        differs = f"fresh IS NULL OR ({differs})"
    total = db.execute(f"SELECT count(*) FROM saved WHERE {differs}").fetchone()[0]
    total += db.execute("SELECT count(*) FROM fresh_only").fetchone()[0]
    rows = db.execute(
        f"SELECT address FROM saved WHERE {differs} ORDER BY position LIMIT ?", (first,)
    ).fetchall()
    if len(rows) < first:
        rows += db.execute(
            "SELECT address FROM fresh_only ORDER BY position LIMIT ?", (first - len(rows),)
        ).fetchall()
    return Moved([address for (address,) in rows], total)
