"""What the KavachOS provider needs of the desired state, gathered in one pass over it.

The desired state of a large import (100,000 users, 200,000 memberships) lives in the
command's on-disk index, and every pass over it unpickles every item. So the provider reads
it once, as the index stores it (``codec.resource_states``: no ``Resource`` built per item),
and keeps only what is small or what it needs again:

- each organization's owner (its highest-ranked member): one entry per organization;
- per desired user, the few facts reading that user back needs (how the manifest splits the
  name KavachOS keeps whole, which optional fields it names), in a private scratch SQLite
  database looked up by key, so memory does not grow with the number of users; and, once a
  write first needs one, the whole resource of each organization's owner (an organization
  is written with its owner when that user is still to be created): a second pass that a
  plan with nothing to create never makes;
- the counts and lists the plan's caveats state (``instructions.plan_caveats``).
"""

from __future__ import annotations

import json
import pickle
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from itertools import islice
from operator import itemgetter
from typing import Any

from authform.engine.codec import load_resource, resource_from, resource_states, state_fields
from authform.engine.tempspace import ScratchDatabase
from authform.resources import Kind, Resource

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

    def add(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Rows of (key, first name, last name, has image, OAuth links as JSON or None, the
        whole user's stored state pickled or None), a batch at a time."""
        batch = list(islice(rows := iter(rows), BATCH))
        while batch:
            # A duplicate key (the engine reports it) keeps the last, as a dict would.
            self._db.executemany("INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?, ?, ?)", batch)
            batch = list(islice(rows, BATCH))

    def keep_whole(self, states: Iterable[tuple[Any, ...]]) -> None:
        """Keep these users' stored states, to give them back whole (``owner``)."""
        self._db.executemany(
            "UPDATE users SET owner = ? WHERE key = ?",
            ((_pickled(state), _KEY(state)) for state in states),
        )

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
                # Most users name no link: "[]" needs no parser.
                links = None if oauth is None else [] if oauth == "[]" else json.loads(oauth)
                found[key] = DesiredUser(first, last, bool(image), links)
        return found

    def owner(self, key: str) -> Resource | None:
        """The desired user ``key`` whole, when ``keep_whole`` kept it."""
        row = self._db.execute("SELECT owner FROM users WHERE key = ?", (key,)).fetchone()
        return None if row is None or row[0] is None else load_resource(row[0])

    def close(self) -> None:
        self._scratch.close()


_KIND, _KEY, _SPEC = (state_fields(name) for name in ("kind", "key", "spec"))
_CREATE_ONLY = state_fields("create_only")
# ``create_only`` as stored, without building its secrets' classes (``_has_password_digest``).
_STORED_CREATE_ONLY = itemgetter([f.name for f in fields(Resource)].index("create_only"))


def _has_password_digest(state: tuple[Any, ...]) -> bool:
    """Whether a user's stored state carries a password digest: read from the stored
    (name, class number, text) entries when it is stored so (``codec.create_only_state``),
    rather than building each secret's object only to test it (100,000 users a read)."""
    stored = _STORED_CREATE_ONLY(state)
    if type(stored) is tuple:
        return any(name == "password_hash" and bool(text) for name, _, text in stored)
    return bool(_CREATE_ONLY(state).get("password_hash"))


def _pickled(state: tuple[Any, ...]) -> bytes:
    """A resource's stored state as ``codec.dump_resource`` writes the resource."""
    return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


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
    # Where the owners' whole resources are read from, the first time one is needed (a
    # plan with nothing to create never needs them); None once they are kept.
    _owners_from: Iterable[Resource] | None = None

    @property
    def role_permissions(self) -> dict[str, list[str]]:
        return {key: list(r.spec["permissions"]) for key, r in self.roles.items()}

    @classmethod
    def gather(cls, desired: Iterable[Resource]) -> DesiredFacts:
        """One pass over ``desired``, read as stored (``codec.resource_states``: no
        ``Resource`` is built but for roles and permissions). The owners' whole resources
        are kept later, by a second pass over the users when the first is needed
        (``owner_of``); when ``desired`` can be read only once, every user's is kept now."""
        facts = cls(DesiredUsers())
        one_pass = isinstance(desired, Iterator)
        candidates: dict[str, tuple[int, str]] = {}
        facts.users.add(facts._gathered(resource_states(desired), candidates, keep=one_pass))
        facts.owners = {org: user for org, (_, user) in candidates.items()}
        facts._owners_from = None if one_pass else desired
        return facts

    def _gathered(
        self,
        states: Iterable[tuple[Any, ...]],
        candidates: dict[str, tuple[int, str]],
        *,
        keep: bool,
    ) -> Iterator[tuple[Any, ...]]:
        """The users' rows for ``DesiredUsers.add``; the other kinds' facts as they pass
        (``candidates``: each organization's highest-ranked member so far)."""
        for state in states:
            kind, key, spec = _KIND(state), _KEY(state), _SPEC(state)
            if kind == _MEMBERSHIP:
                role = spec["role"]
                self.membership_roles[role] += 1
                rank = (ROLE_PRIORITY.get(role, 2), spec["user"])
                org = spec["organization"]
                if org not in candidates or rank < candidates[org]:
                    candidates[org] = rank
            elif kind == _USER:
                if _has_password_digest(state):
                    self.password_digests += 1
                links = spec.get("oauth_accounts")
                yield (
                    key,
                    spec.get("first_name", ""),
                    spec.get("last_name", ""),
                    1 if "image_url" in spec else 0,
                    None if links is None else json.dumps(links) if links else "[]",
                    _pickled(state) if keep else None,
                )
            elif kind == _ORGANIZATION:
                self.organizations.append(key)
                self.domains += len(spec.get("domains", []))
            elif kind == _ROLE:
                self.roles[key] = _resource(state)
            elif kind == _PERMISSION:
                self.permissions.append(_resource(state))

    def owner_of(self, organization: str) -> Resource | None:
        """The desired user who owns ``organization`` (see ``gather``), when there is one."""
        owner = self.owners.get(organization)
        if owner is None:
            return None
        if self._owners_from is not None:
            self.users.keep_whole(_users_among(self._owners_from, set(self.owners.values())))
            self._owners_from = None
        return self.users.owner(owner)

    def close(self) -> None:
        self.users.close()


_MEMBERSHIP = Kind.MEMBERSHIP.value
_USER = Kind.USER.value
_ORGANIZATION = Kind.ORGANIZATION.value
_ROLE = Kind.ROLE.value
_PERMISSION = Kind.PERMISSION.value


def _users_among(desired: Iterable[Resource], keys: set[str]) -> Iterator[tuple[Any, ...]]:
    """The stored states of the desired users whose key is among ``keys``: looked up by key
    where the collection can (the on-disk index: a few thousand owners of a hundred
    thousand users, read alone), else found by reading it whole."""
    among = getattr(desired, "states_among", None)
    if among is not None:
        found: Iterator[tuple[Any, ...]] = among(Kind.USER, sorted(keys))
        return found
    return (
        state for state in resource_states(desired) if _KIND(state) == _USER and _KEY(state) in keys
    )


def _resource(state: tuple[Any, ...]) -> Resource:
    resource = resource_from(state)
    assert resource is not None
    return resource
