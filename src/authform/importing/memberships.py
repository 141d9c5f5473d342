"""Turning source memberships into desired ``membership`` resources.

A membership can only be created once both ends exist, so each one is checked against the
users and organizations that will actually be imported; one that cannot be is reported with
the reason of the missing end (skipped, or never in the export) and the rest go on, as the
migration guide asks. The key is ``membership_key(user, org)``, so a user listed twice in one
organization is one membership: the first listing wins and the second is reported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import NamedTuple, Protocol

from authform.engine.codec import dump_imported_states, imported_state
from authform.engine.index import DesiredWriter, IndexedResources, canonical_texts
from authform.engine.spool import PickleSpool, dataclass_spool
from authform.importing.report import ImportCounts, SkipCode, Skipped, skipped, skipped_malformed
from authform.importing.runs import runs
from authform.importing.scratch import DiskMap, ImportScratch
from authform.importing.users import RECORD_BATCH
from authform.provenance import display_path, record_origin
from authform.resources import Kind, membership_key
from authform.sources.records import (
    CleanMemberships,
    MalformedRecord,
    MembershipEntry,
    MembershipRecord,
    SourceMembership,
)
from authform.sources.screening import screened


class _CodeLookup(Protocol):
    def __contains__(self, value: object) -> bool: ...
    def __getitem__(self, key: str) -> str: ...


@dataclass(frozen=True)
class KnownIds:
    """Which source ids are imported (``imported_among``: which of a batch of ids are; one
    lookup per batch, since the users' live on disk), and which were seen but skipped (with
    the skip's code).

    ``keys`` maps a source id to the resource key it imports under, where the two differ (a
    Clerk target keys organizations by slug); an id it does not name is its own key.
    ``imported_count`` says how many of a set of ids are imported, where that is cheaper
    than naming them (the users' are counted on disk); else it is ``len(imported_among)``.
    """

    imported_among: Callable[[Iterable[str]], set[str]]
    skipped: _CodeLookup
    keys: Mapping[str, str] = field(default_factory=dict)
    imported_count: Callable[[Collection[str]], int] | None = None

    def all_imported(self, ids: Collection[str]) -> bool:
        """Whether every one of the (distinct) ``ids`` is imported."""
        if self.imported_count is not None:
            return self.imported_count(ids) == len(ids)
        return len(self.imported_among(ids)) == len(ids)


@dataclass
class RoleUse:
    """How the imported memberships reach one target role, for messages that must say where:
    the source role mapped to it, the first record that did, and how many did."""

    source_role: str
    first_origin: str
    count: int = 0


@dataclass
class MembershipImport:
    """Memberships to import (written to the state index) and everything reported about
    them (spooled to disk), in source order: an import has about two for every user."""

    resources: IndexedResources
    skipped: PickleSpool
    # Target role slug → its first use, so a role the target lacks is reported at its source.
    role_uses: dict[str, RoleUse]


def import_memberships(
    records: Iterable[MembershipEntry],
    *,
    users: KnownIds,
    organizations: KnownIds,
    role_map: Mapping[str, str],
    counts: ImportCounts,
    writer: DesiredWriter,
    scratch: ImportScratch | None = None,
) -> MembershipImport:
    """Apply the membership rules to every record, write the memberships to import through
    ``writer`` and fill the membership figures; the keys seen so far (to report a repeat)
    are kept in ``scratch`` (a fresh one when not given). Records are judged a batch at a
    time: each export-wide question is one lookup per batch.

    A ``CleanMemberships`` block (the fast lane) is written whole when every membership in
    it imports with nothing to report (``_Rules.accept_block``); else its records take the
    exact path one by one, so every message is what it would have been."""
    skips: PickleSpool = dataclass_spool(Skipped, "authform-skips-")
    role_uses: dict[str, RoleUse] = {}
    seen = (scratch or ImportScratch()).map("membership roles")
    rules = _Rules(users, organizations, role_map, seen)
    append, membership = writer.append_state, Kind.MEMBERSHIP
    batch: Sequence[MembershipRecord]
    for run in runs(records, CleanMemberships, RECORD_BATCH):
        if isinstance(run, CleanMemberships):
            if _write_block(run, rules, role_uses, writer):
                counts.memberships_total += len(run)
                counts.memberships += len(run)
                continue
            batch = list(screened(run.records()))
        else:
            batch = run
        counts.memberships_total += len(batch)
        for outcome in rules.judge_all(batch):
            if type(outcome) is Skipped:
                skips.append(outcome)
                counts.memberships_skipped += 1
                continue
            assert type(outcome) is Accepted
            record, key, spec = outcome
            append(
                membership,
                key,
                _canonical_spec(spec["user"], spec["organization"], spec["role"]),
                imported_state(membership, key, spec, {}, record_origin(record.origin)),
            )
            counts.memberships += 1
            role = spec["role"]
            use = role_uses.get(role)
            if use is None:
                use = role_uses[role] = RoleUse(record.role, record.origin)
            use.count += 1
    writer.close()
    return MembershipImport(writer.view(), skips, role_uses)


def _write_block(
    block: CleanMemberships,
    rules: _Rules,
    role_uses: dict[str, RoleUse],
    writer: DesiredWriter,
) -> bool:
    """Write the block's memberships when they all import with nothing to report (see
    ``_Rules.accept_block``), as the exact path would have written them (same rows, same
    bytes); False (nothing written, nothing claimed) when they do not."""
    accepted = rules.accept_block(block)
    if accepted is None:
        return False
    keys, organization_keys = accepted
    target_roles = list(map(rules.role_map.__getitem__, block.roles))
    for role in [role for role in dict.fromkeys(target_roles) if role not in role_uses]:
        # A target role's first use: its record's origin, read again exactly (a few times
        # an import: once per role).
        at = target_roles.index(role)
        record = next(islice(block.records(), at, None))
        role_uses[role] = RoleUse(block.roles[at], record.origin)
    users, first = block.user_ids, block.first_row
    file = display_path(block.file)
    writer.extend_rows(
        Kind.MEMBERSHIP,
        keys,
        _canonical_spec.of_columns(users, organization_keys, target_roles),
        dump_imported_states(
            Kind.MEMBERSHIP,
            keys,
            [
                {"user": user, "organization": org, "role": role}
                for user, org, role in zip(users, organization_keys, target_roles, strict=True)
            ],
            [{"file": file, "row": row} for row in range(first, first + len(keys))],
        ),
    )
    for role, count in Counter(target_roles).items():
        role_uses[role].count += count
    return True


class Accepted(NamedTuple):
    """A membership that imports: its record, its key and its spec (the parts of its row in
    the state index; see ``codec.imported_state``)."""

    record: SourceMembership
    key: str
    spec: dict[str, str]


# An ``Accepted`` built from its fields' tuple (``tuple.__new__``, in C: one per membership).
_new_accepted = tuple.__new__
# The canonical JSON of a membership's spec, from its user, organization and role.
_canonical_spec = canonical_texts("user", "organization", "role")


@dataclass
class _Rules:
    """The membership rules of one import, and the memberships judged so far (a user's first
    membership in an organization wins; the role it had is kept for the message), on disk:
    an import has about two memberships for every user."""

    users: KnownIds
    organizations: KnownIds
    role_map: Mapping[str, str]
    roles_by_key: DiskMap

    def judge_all(self, records: Sequence[MembershipRecord]) -> list[Accepted | Skipped]:
        """For each of ``records``, in order, its membership or why there is none.
        The first membership of a key wins, also within ``records``."""
        ids = [r for r in records if not isinstance(r, MalformedRecord)]
        imported = _Ends(
            self.users.imported_among({r.user_id for r in ids}),
            self.organizations.imported_among({r.organization_id for r in ids}),
        )
        outcomes: list[Accepted | Skipped] = []
        claims: list[tuple[int, str, str]] = []  # (place in outcomes, key, source role)
        org_keys, role_map = self.organizations.keys, self.role_map
        imported_users, imported_orgs = imported.users, imported.organizations
        for record in records:
            if isinstance(record, MalformedRecord):
                outcomes.append(skipped_malformed(record))
                continue
            user, org = record.user_id, record.organization_id
            org_key = org_keys.get(org, org)
            key = membership_key(user, org_key)
            role = role_map.get(record.role)
            if role is None or user not in imported_users or org not in imported_orgs:
                # The common case is tested inline; ``problem`` says which rule it breaks.
                problem = self.problem(record, key, imported)
                if problem is not None:
                    outcomes.append(problem)
                    continue
                role = role_map[record.role]
            claims.append((len(outcomes), key, record.role))
            outcomes.append(
                _new_accepted(
                    Accepted, (record, key, {"user": user, "organization": org_key, "role": role})
                )
            )
        # Last, as it claims each key for the first membership that has it.
        earlier_roles = self.roles_by_key.claim_all([(key, role) for _, key, role in claims])
        for (at, key, _), earlier in zip(claims, earlier_roles, strict=True):
            if earlier is not None:
                record = records[at]  # one outcome per record
                assert isinstance(record, SourceMembership)
                outcomes[at] = skipped(
                    "membership",
                    key,
                    record.origin,
                    SkipCode.DUPLICATE_MEMBERSHIP,
                    f"user {record.user_id} is already a member of {record.organization_id} "
                    f"(role {earlier!r}) earlier in the export; only the first membership "
                    "is used",
                )
        return outcomes

    def accept_block(self, block: CleanMemberships) -> tuple[list[str], list[str]] | None:
        """The keys and organization keys of the block's memberships, claimed, when every
        one of them imports with nothing to report: its role is mapped, both its ends are
        imported, and its key is new (in the block and the export so far). Else None, with
        nothing claimed: the block's records then take ``judge_all``, which reports each."""
        if not self.role_map.keys() >= set(block.roles):
            return None
        if not self.organizations.all_imported(set(block.organization_ids)):
            return None
        if not self.users.all_imported(set(block.user_ids)):
            return None
        org_ids, org_keys = block.organization_ids, self.organizations.keys
        keyed = list(map(org_keys.get, org_ids, org_ids)) if org_keys else org_ids
        keys = list(map(membership_key, block.user_ids, keyed))
        if not self.roles_by_key.claim_if_all_new(list(zip(keys, block.roles, strict=True))):
            return None
        return keys, keyed

    def problem(self, record: SourceMembership, key: str, imported: _Ends) -> Skipped | None:
        """Why ``record`` (a membership under ``key``) is not imported, short of being a
        repeat, or None."""

        def skip(code: SkipCode, reason: str) -> Skipped:
            return skipped("membership", key, record.origin, code, reason)

        users, organizations = self.users, self.organizations
        user, org = record.user_id, record.organization_id
        if user not in imported.users:
            if user in users.skipped:
                return skip(
                    SkipCode.USER_SKIPPED,
                    f"its user {user} is not imported ({users.skipped[user]})",
                )
            return skip(SkipCode.USER_NOT_IN_EXPORT, f"its user {user} is not in the users export")
        if org not in imported.organizations:
            if org in organizations.skipped:
                return skip(
                    SkipCode.ORGANIZATION_SKIPPED,
                    f"its organization {org} is not imported ({organizations.skipped[org]})",
                )
            return skip(
                SkipCode.ORGANIZATION_NOT_IN_EXPORT,
                f"its organization {org} is not in the organizations export",
            )
        if record.role not in self.role_map:
            return skip(
                SkipCode.UNMAPPED_ROLE,
                f"role {record.role!r} has no target role: add it to users.role_map in the "
                "manifest",
            )
        return None


@dataclass(frozen=True)
class _Ends:
    """The user and organization ids of one batch of memberships that are imported."""

    users: set[str]
    organizations: set[str]
