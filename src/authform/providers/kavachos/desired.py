"""What the KavachOS provider needs of the desired state, gathered in one pass over it.

The desired state of a large import (100,000 users, 200,000 memberships) lives in the
command's on-disk index, and every pass over it unpickles every item. So the provider reads
it once, kind by kind, and keeps only what is small or what it needs again:

- each organization's owner (its highest-ranked member): one entry per organization;
- per desired user, the few facts reading that user back needs (how the manifest splits the
  name KavachOS keeps whole, which optional fields it names), and the whole resource of an
  organization's owner (an organization is written with its owner when that user is still to
  be created), in a private scratch SQLite database looked up by key, so memory does not
  grow with the number of users;
- the counts and lists the plan's caveats state (``instructions.plan_caveats``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, field
from typing import Any

from authform.engine.codec import dump_resource, load_resource
from authform.engine.tempspace import ScratchDatabase
from authform.resources import Kind, Resource, of_kind

ROLE_PRIORITY = {"owner": 0, "admin": 1}
BATCH = 5_000
_IN_CHUNK = 500  # keys per ``IN (...)`` lookup
# Users are read back in key order, a page at a time: a small page cache serves that (the
# scratch database's default is sized for random access to the engine's index).
_CACHE_KIB = 2_000

_SCHEMA = """
CREATE TABLE users (key TEXT PRIMARY KEY, first TEXT NOT NULL, last TEXT NOT NULL,
                    image INTEGER NOT NULL, oauth TEXT, owner BLOB) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class DesiredUser:
    """What the read needs of one desired user: the manifest's first and last name (KavachOS
    joins them into one column), whether it names an image URL, and its OAuth links (None
    when the source says nothing of them)."""

    first_name: str
    last_name: str
    has_image: bool
    oauth_accounts: list[dict[str, str]] | None


class DesiredUsers:
    """Desired users by key, on disk: ``get_many`` looks up a page of keys at once."""

    def __init__(self) -> None:
        self._scratch = ScratchDatabase("authform-kavachos-", _SCHEMA)
        self._db = self._scratch.db
        self._db.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")

    def add(self, users: Iterable[Resource], owners: Set[str] = frozenset()) -> None:
        """``users``; the whole resource of those whose key is in ``owners``."""
        batch: list[tuple[Any, ...]] = []
        for user in users:
            spec = user.spec
            links = spec.get("oauth_accounts")
            batch.append(
                (
                    user.key,
                    spec.get("first_name", ""),
                    spec.get("last_name", ""),
                    1 if "image_url" in spec else 0,
                    None if links is None else json.dumps(links),
                    dump_resource(user) if user.key in owners else None,
                )
            )
            if len(batch) >= BATCH:
                self._insert(batch)
                batch = []
        self._insert(batch)

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        # A duplicate key (the engine reports it) keeps the last, as a dict would.
        self._db.executemany("INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?, ?, ?)", rows)

    def get_many(self, keys: Sequence[str]) -> dict[str, DesiredUser]:
        """The desired users among ``keys`` (a page of the read: one lookup per chunk)."""
        found: dict[str, DesiredUser] = {}
        for start in range(0, len(keys), _IN_CHUNK):
            chunk = keys[start : start + _IN_CHUNK]
            for key, first, last, image, oauth in self._db.execute(
                "SELECT key, first, last, image, oauth FROM users "
                f"WHERE key IN ({', '.join('?' * len(chunk))})",
                chunk,
            ):
                links = None if oauth is None else json.loads(oauth)
                found[key] = DesiredUser(first, last, bool(image), links)
        return found

    def owner(self, key: str) -> Resource | None:
        """The desired user ``key`` whole, when it owns an organization."""
        row = self._db.execute("SELECT owner FROM users WHERE key = ?", (key,)).fetchone()
        return None if row is None or row[0] is None else load_resource(row[0])

    def close(self) -> None:
        self._scratch.close()


@dataclass
class DesiredFacts:
    """The desired state as the provider's reads, writes and caveats need it."""

    users: DesiredUsers
    roles: dict[str, Resource] = field(default_factory=dict)  # manifest role key → role
    permissions: list[Resource] = field(default_factory=list)  # present by definition
    owners: dict[str, str] = field(default_factory=dict)  # organization key → owner's key
    password_digests: int = 0  # users carrying a password digest
    domains: int = 0  # domains of all organizations
    membership_roles: Counter[str] = field(default_factory=Counter)
    organizations: list[str] = field(default_factory=list)  # organization keys

    @property
    def role_permissions(self) -> dict[str, list[str]]:
        return {key: list(r.spec["permissions"]) for key, r in self.roles.items()}

    @classmethod
    def gather(cls, desired: Iterable[Resource]) -> DesiredFacts:
        """One pass over ``desired``, a kind at a time (memberships before users: a user is
        kept whole only when it owns an organization)."""
        facts = cls(DesiredUsers())
        candidates: dict[str, tuple[int, str]] = {}
        for membership in of_kind(desired, Kind.MEMBERSHIP):
            spec = membership.spec
            facts.membership_roles[spec["role"]] += 1
            rank = (ROLE_PRIORITY.get(spec["role"], 2), spec["user"])
            org = spec["organization"]
            if org not in candidates or rank < candidates[org]:
                candidates[org] = rank
        facts.owners = {org: user for org, (_, user) in candidates.items()}
        owner_keys = set(facts.owners.values())
        for organization in of_kind(desired, Kind.ORGANIZATION):
            facts.organizations.append(organization.key)
            facts.domains += len(organization.spec.get("domains", []))
        for role in of_kind(desired, Kind.ROLE):
            facts.roles[role.key] = role
        facts.permissions = list(of_kind(desired, Kind.PERMISSION))
        facts.users.add(facts._count_users(of_kind(desired, Kind.USER)), owner_keys)
        return facts

    def _count_users(self, users: Iterable[Resource]) -> Iterable[Resource]:
        for user in users:
            if user.create_only.get("password_hash"):
                self.password_digests += 1
            yield user

    def owner_of(self, organization: str) -> Resource | None:
        """The desired user who owns ``organization`` (see ``gather``), when there is one."""
        owner = self.owners.get(organization)
        return None if owner is None else self.users.owner(owner)

    def close(self) -> None:
        self.users.close()
