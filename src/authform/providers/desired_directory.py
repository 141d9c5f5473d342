"""What a provider's reads and writes look up in the desired state, kept on disk.

A read matches live users to desired ones by key (and, for a user made by hand, by email);
Scalekit creates a user only together with a first membership, so creating a user needs that
user's desired memberships; its plan caveats count users with a password hash, unverified
ones and users with no membership. Held in dicts, each of these grows with the number of
users (a million users and two million memberships are gigabytes of Python objects), so
the desired users, organizations and memberships are copied once per read, as they stream
by, into a scratch SQLite file of the provider's own, and looked up there by index. The
Scalekit and Clerk providers use it (``ApiProvider.desired_directory``).

The memberships created together with their user (``done``) are kept there too, so the
membership phase of a million-user apply does not hold a set of two million keys.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from itertools import islice
from typing import Any, NamedTuple

from authform.engine.tempspace import ScratchDatabase
from authform.resources import Kind, Resource, of_kind

BATCH = 1_000  # rows per executemany: a batch is held in memory while it is written

_SCHEMA = """
CREATE TABLE users (key TEXT PRIMARY KEY, email TEXT NOT NULL, email_lower TEXT NOT NULL,
                    verified INTEGER NOT NULL, hashed INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE organizations (key TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE memberships (seq INTEGER PRIMARY KEY, user TEXT NOT NULL,
                          organization TEXT NOT NULL, key TEXT NOT NULL, role TEXT NOT NULL);
CREATE TABLE done (key TEXT PRIMARY KEY) WITHOUT ROWID;
"""
_CLEAR = """
DROP INDEX IF EXISTS users_by_email;
DROP INDEX IF EXISTS organizations_by_name;
DROP INDEX IF EXISTS memberships_by_user;
DELETE FROM users;
DELETE FROM organizations;
DELETE FROM memberships;
"""
# Built once the rows are in: one sort instead of a B-tree insert per row.
_INDEXES = """
CREATE INDEX users_by_email ON users (email_lower);
CREATE INDEX organizations_by_name ON organizations (name);
CREATE INDEX memberships_by_user ON memberships (user, organization, seq);
"""


class PendingMembership(NamedTuple):
    """A desired membership as a user's create needs it."""

    key: str
    organization: str
    role: str


class DesiredUser(NamedTuple):
    email: str
    email_verified: bool


class KeySample(NamedTuple):
    """How many keys a condition holds, and the first few of them (what a caveat names)."""

    total: int
    first: list[str]

    @classmethod
    def of(cls, keys: Iterable[str], limit: int = 5, *, smallest: bool = False) -> KeySample:
        """Counted in one pass, keeping ``limit`` keys: the first met, or the smallest."""
        count, first = 0, list[str]()
        for key in keys:
            count += 1
            if smallest:
                first = heapq.nsmallest(limit, [*first, key])
            elif len(first) < limit:
                first.append(key)
        return cls(count, first)


class DesiredDirectory(ScratchDatabase):
    """The desired users, organizations and memberships of the last read, indexed on disk,
    and the memberships this provider has made."""

    def __init__(self) -> None:
        super().__init__("authform-scalekit-", _SCHEMA)
        # The desired collection last loaded (``load`` is skipped for the same one again).
        self.source: Iterable[Resource] | None = None

    def load(self, desired: Iterable[Resource]) -> None:
        """Replace the desired side with ``desired``, read once; what was done is kept."""
        self.source = desired
        self._run(_CLEAR)
        self._insert(
            "INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?, ?)",
            (
                (
                    r.key,
                    str(r.spec["email"]),
                    str(r.spec["email"]).lower(),
                    1 if r.spec.get("email_verified") else 0,
                    1 if r.create_only.get("password_hash") else 0,
                )
                for r in of_kind(desired, Kind.USER)
            ),
        )
        self._insert(
            "INSERT OR REPLACE INTO organizations VALUES (?, ?)",
            ((r.key, str(r.spec["name"])) for r in of_kind(desired, Kind.ORGANIZATION)),
        )
        self._insert(
            "INSERT INTO memberships (user, organization, key, role) VALUES (?, ?, ?, ?)",
            (
                (str(r.spec["user"]), str(r.spec["organization"]), r.key, str(r.spec["role"]))
                for r in of_kind(desired, Kind.MEMBERSHIP)
            ),
        )
        self._run(_INDEXES)

    def _run(self, script: str) -> None:
        # One statement at a time: ``executescript`` would commit the transaction the
        # scratch database lives in (``tempspace.ScratchDatabase``).
        for statement in script.split(";"):
            if statement.strip():
                self.db.execute(statement)

    def _insert(self, statement: str, rows: Iterable[tuple[Any, ...]]) -> None:
        iterator = iter(rows)
        while batch := list(islice(iterator, BATCH)):
            self.db.executemany(statement, batch)

    # ---- users -------------------------------------------------------------------------

    def user(self, key: str) -> DesiredUser | None:
        row = self.db.execute("SELECT email, verified FROM users WHERE key = ?", (key,)).fetchone()
        return None if row is None else DesiredUser(row[0], bool(row[1]))

    def user_keys_with_email(self, email: str) -> list[str]:
        """Keys of the desired users with this email, compared without case."""
        rows = self.db.execute(
            "SELECT key FROM users WHERE email_lower = ? ORDER BY key", (email.lower(),)
        )
        return [key for (key,) in rows]

    def users_with_hash(self, limit: int = 5) -> KeySample:
        return self._sample("SELECT {} FROM users WHERE hashed = 1", limit)

    def unverified_users(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM users WHERE verified = 0").fetchone()[0])

    def users_without_membership(self, limit: int = 5) -> KeySample:
        return self._sample(
            "SELECT {} FROM users u WHERE NOT EXISTS "
            "(SELECT 1 FROM memberships m WHERE m.user = u.key)",
            limit,
        )

    def _sample(self, query: str, limit: int) -> KeySample:
        count = int(self.db.execute(query.format("count(*)")).fetchone()[0])
        first = self.db.execute(query.format("key") + " ORDER BY key LIMIT ?", (limit,))
        return KeySample(count, [key for (key,) in first])

    # ---- organizations and memberships ---------------------------------------------------

    def organization_keys_named(self, name: str) -> list[str]:
        rows = self.db.execute("SELECT key FROM organizations WHERE name = ? ORDER BY key", (name,))
        return [key for (key,) in rows]

    def named_organizations(self) -> set[str]:
        """Keys of the organizations the manifest or its source names (organizations, not
        users: a twentieth of them in a typical export)."""
        rows = self.db.execute(
            "SELECT key FROM organizations UNION SELECT DISTINCT organization FROM memberships"
        )
        return {key for (key,) in rows}

    def memberships_of(self, user: str) -> list[PendingMembership]:
        """The user's desired memberships, by organization key (then desired order)."""
        rows = self.db.execute(
            "SELECT key, organization, role FROM memberships WHERE user = ? "
            "ORDER BY organization, seq",
            (user,),
        )
        return [PendingMembership(*row) for row in rows]

    def mark_done(self, membership_key: str) -> None:
        """A membership made with its user (or by an earlier write of this apply)."""
        self.db.execute("INSERT OR IGNORE INTO done VALUES (?)", (membership_key,))

    def is_done(self, membership_key: str) -> bool:
        row = self.db.execute("SELECT 1 FROM done WHERE key = ?", (membership_key,)).fetchone()
        return row is not None
