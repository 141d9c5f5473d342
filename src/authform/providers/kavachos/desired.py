"""What the KavachOS provider needs of the desired state, asked of the command's index.

The desired state of a large import (100,000 users, 200,000 memberships) lives in the
command's on-disk index (``engine.index``), where unpickling every item costs more than
reading the whole database back. So the provider asks the index in SQL, and no item is
unpickled but roles and permissions (a manifest's few):

- each organization's owner (its highest-ranked member), from the memberships' organization,
  role and user read out of their canonical JSON: one entry per organization;
- per desired user, the few facts reading that user back needs (how the manifest splits the
  name KavachOS keeps whole, which optional fields it names), looked up by key a page of the
  read at a time, from the users' canonical JSON (``DesiredUsers``): nothing held grows with
  the number of users; and the whole resource of an organization's owner, by key, when a
  write needs it (an organization is written with its owner when that user is still to be
  created);
- the counts and lists the plan's caveats state (``instructions.plan_caveats``): the users
  carrying a password digest are counted from the index's own column of it.

A desired state that is not such an index (a list in a test, an in-memory plan) is first
written into an index of its own, so there is one way of reading it.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from typing import Any, NamedTuple

from authform import fast_json
from authform.engine.codec import resource_from
from authform.engine.index import ALL_ROWS, IndexedResources, StateIndex
from authform.resources import Kind, Resource

ROLE_PRIORITY = {"owner": 0, "admin": 1}
# A page of keys is looked up as a range of the index when the range holds at most this
# many desired users per key (more: the keys lie far apart, and are looked up one by one).
_RANGE_SLACK = 4


class DesiredUser(NamedTuple):
    """What the read needs of one desired user: the manifest's first and last name (KavachOS
    joins them into one column), whether it names an image URL, and its OAuth links (None
    when the source says nothing of them). A named tuple: made for every user read, at
    half the cost of a frozen dataclass (100,000 users: 0.07 -> 0.04 s)."""

    first_name: str
    last_name: str
    has_image: bool
    oauth_accounts: list[dict[str, str]] | None


class DesiredUsers:
    """Desired users by key, in the index holding the desired state (rows ``seq``):
    ``get_many`` looks up a page of keys at once."""

    def __init__(self, index: StateIndex, seq: tuple[int, int]) -> None:
        self.index = index
        self.seq = seq

    def get_many(self, keys: Sequence[str]) -> dict[str, DesiredUser]:
        """The desired users among ``keys`` (a page of the read: one lookup); a key given
        twice keeps its last row, as a dict would."""
        rows = self.index.desired_specs_among(Kind.USER, keys, self.seq)
        return {key: _desired_user(spec) for key, spec in _decoded([rows])}

    def spec_texts(self, keys: Sequence[str]) -> dict[str, str]:
        """The canonical spec (JSON text) of each desired user among ``keys``, the last row
        of a key given twice: one lookup, nothing decoded (``user_of`` decodes one). Keys
        in ascending order (a read in key order: KavachOS ids of the users authform wrote
        are their keys) are looked up as the one range of the index they span, when it
        holds few more users than they are."""
        if keys and all(map(operator.le, keys, islice(keys, 1, None))):
            rows = self.index.desired_specs_between(
                Kind.USER, keys[0], keys[-1], self.seq, limit=_RANGE_SLACK * len(keys)
            )
            if rows is not None:
                wanted = set(keys)
                return {key: spec for key, spec in rows if key in wanted}
        return dict(self.index.desired_specs_among(Kind.USER, keys, self.seq))

    @staticmethod
    def user_of(spec_text: str) -> DesiredUser:
        """The desired user whose canonical spec is ``spec_text``."""
        spec: dict[str, Any] = fast_json.loads(spec_text)
        return _desired_user(spec)

    def owner(self, key: str) -> Resource | None:
        """The desired user ``key`` whole (its last row), when there is one."""
        states = self.index.desired_states_among(Kind.USER, [key], self.seq)
        return resource_from(states[-1]) if states else None


def _desired_user(spec: dict[str, Any]) -> DesiredUser:
    links = spec.get("oauth_accounts")
    return DesiredUser(
        spec.get("first_name", ""),
        spec.get("last_name", ""),
        "image_url" in spec,
        None if links is None else links or [],
    )


def _decoded(batches: Iterable[list[tuple[str, str]]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each (key, canonical spec) of ``batches`` with its spec read back: a batch's specs
    by one call of orjson over them as one JSON array (200,000 memberships: 0.2 s, against
    0.5 s a call each and 1 s for SQLite's ``json_extract`` of three fields)."""
    for batch in batches:
        texts = [spec_json for _, spec_json in batch]
        specs = fast_json.loads("[" + ",".join(texts) + "]")
        yield from zip((key for key, _ in batch), specs, strict=True)


@dataclass
class DesiredFacts:
    """The desired state as the provider's reads, writes and caveats need it."""

    users: DesiredUsers
    roles: dict[str, Resource] = field(default_factory=dict)  # manifest role key → role
    permissions: list[Resource] = field(default_factory=list)  # present by definition
    password_digests: int = 0  # users carrying a password digest
    domains: int = 0  # domains of all organizations
    membership_roles: Counter[str] = field(default_factory=Counter)
    organizations: list[str] = field(default_factory=list)  # organization keys
    # The index written for a desired state that was not one (closed with these facts).
    _own_index: StateIndex | None = None

    @property
    def role_permissions(self) -> dict[str, list[str]]:
        return {key: list(r.spec["permissions"]) for key, r in self.roles.items()}

    @classmethod
    def gather(cls, desired: Iterable[Resource]) -> DesiredFacts:
        """The facts of ``desired``, asked of the index holding it (written into one of
        their own first when it is not held in one)."""
        own = None
        if isinstance(desired, IndexedResources):
            index, seq = desired.state_index, desired.seq or (0, ALL_ROWS)
        else:
            index = own = StateIndex()
            try:
                seq = index.add_desired(desired)
            except BaseException:
                index.close()
                raise
        facts = cls(DesiredUsers(index, seq), _own_index=own)
        index.key_desired()  # each query below reads one kind's rows, not the whole table
        facts.password_digests = index.password_digests(Kind.USER, seq=seq)
        facts.roles = {role.key: role for role in index.desired(Kind.ROLE, seq=seq)}
        facts.permissions = list(index.desired(Kind.PERMISSION, seq=seq))
        for key, spec in _decoded(index.desired_specs(Kind.ORGANIZATION, seq=seq)):
            facts.organizations.append(key)
            facts.domains += len(spec.get("domains", []))
        facts.membership_roles = Counter(
            index.desired_value_counts(Kind.MEMBERSHIP, "role", seq=seq)
        )
        return facts

    @cached_property
    def owners(self) -> dict[str, str]:
        """Organization key → its owner's key: its highest-ranked member (``ROLE_PRIORITY``,
        then the lowest user key). Found on first use, by a pass over every membership: a
        plan whose organizations all exist already (nothing to create) never makes it."""
        index, seq = self.users.index, self.users.seq
        memberships = _decoded(index.desired_specs(Kind.MEMBERSHIP, seq=seq))
        candidates: dict[str, tuple[int, str]] = {}
        priority = ROLE_PRIORITY.get
        for _, spec in memberships:
            rank = (priority(spec["role"], 2), spec["user"])
            org = spec["organization"]
            best = candidates.get(org)
            if best is None or rank < best:
                candidates[org] = rank
        return {org: user for org, (_, user) in candidates.items()}

    def owner_of(self, organization: str) -> Resource | None:
        """The desired user who owns ``organization`` (see ``gather``), when there is one."""
        owner = self.owners.get(organization)
        return None if owner is None else self.users.owner(owner)

    def close(self) -> None:
        if self._own_index is not None:
            self._own_index.close()
            self._own_index = None
