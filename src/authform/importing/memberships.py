"""Turning source memberships into desired ``membership`` resources.

A membership can only be created once both ends exist, so each one is checked against the
users and organizations that will actually be imported; one that cannot be is reported with
the reason of the missing end (skipped, or never in the export) and the rest go on, as the
migration guide asks. The key is ``membership_key(user, org)``, so a user listed twice in one
organization is one membership: the first listing wins and the second is reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from authform.engine.spool import PickleSpool, dataclass_spool, resource_spool
from authform.importing.report import ImportCounts, SkipCode, Skipped, skipped, skipped_malformed
from authform.importing.scratch import DiskMap, ImportScratch
from authform.provenance import record_origin
from authform.resources import Kind, Resource, membership_key
from authform.sources.records import MalformedRecord, MembershipRecord, SourceMembership


class _Lookup(Protocol):
    def __contains__(self, value: object) -> bool: ...


class _CodeLookup(_Lookup, Protocol):
    def __getitem__(self, key: str) -> str: ...


@dataclass(frozen=True)
class KnownIds:
    """Which source ids are imported, and which were seen but skipped (with the skip's code):
    sets and mappings in memory, or on disk in the import's scratch database (users).

    ``keys`` maps a source id to the resource key it imports under, where the two differ (a
    Clerk target keys organizations by slug); an id it does not name is its own key.
    """

    imported: _Lookup
    skipped: _CodeLookup
    keys: Mapping[str, str] = field(default_factory=dict)


@dataclass
class RoleUse:
    """How the imported memberships reach one target role, for messages that must say where:
    the source role mapped to it, the first record that did, and how many did."""

    source_role: str
    first_origin: str
    count: int = 0


@dataclass
class MembershipImport:
    """Memberships to import and everything reported about them, in source order (spooled
    to disk: an import has about two for every user)."""

    resources: PickleSpool = field(default_factory=lambda: resource_spool("authform-members-"))
    skipped: PickleSpool = field(
        default_factory=lambda: dataclass_spool(Skipped, "authform-skips-")
    )
    # Target role slug → its first use, so a role the target lacks is reported at its source.
    role_uses: dict[str, RoleUse] = field(default_factory=dict)


def import_memberships(
    records: Iterable[MembershipRecord],
    *,
    users: KnownIds,
    organizations: KnownIds,
    role_map: Mapping[str, str],
    counts: ImportCounts,
    scratch: ImportScratch | None = None,
) -> MembershipImport:
    """Apply the membership rules to every record and fill the membership figures; the keys
    seen so far (to report a repeat) are kept in ``scratch`` (a fresh one when not given)."""
    result = MembershipImport()
    seen = (scratch or ImportScratch()).map("membership roles")
    rules = _Rules(users, organizations, role_map, seen)
    for record in records:
        counts.memberships_total += 1
        outcome = rules.judge(record)
        if isinstance(outcome, Skipped):
            result.skipped.append(outcome)
            counts.memberships_skipped += 1
        else:
            result.resources.append(outcome)
            counts.memberships += 1
            assert not isinstance(record, MalformedRecord)
            role = outcome.spec["role"]
            use = result.role_uses.setdefault(role, RoleUse(record.role, record.origin))
            use.count += 1
    return result


@dataclass
class _Rules:
    """The membership rules of one import, and the memberships judged so far (a user's first
    membership in an organization wins; the role it had is kept for the message), on disk:
    an import has about two memberships for every user."""

    users: KnownIds
    organizations: KnownIds
    role_map: Mapping[str, str]
    roles_by_key: DiskMap

    def judge(self, record: MembershipRecord) -> Resource | Skipped:
        """The membership resource for ``record``, or why there is none."""
        if isinstance(record, MalformedRecord):
            return skipped_malformed(record)
        org_key = self.organizations.keys.get(record.organization_id, record.organization_id)
        key = membership_key(record.user_id, org_key)
        problem = self.problem(record, key)
        if problem is not None:
            return problem
        return Resource(
            kind=Kind.MEMBERSHIP,
            key=key,
            spec={
                "user": record.user_id,
                "organization": org_key,
                "role": self.role_map[record.role],
            },
            origin=record_origin(record.origin),
        )

    def problem(self, record: SourceMembership, key: str) -> Skipped | None:
        """Why ``record`` (a membership under ``key``) is not imported, or None."""

        def skip(code: SkipCode, reason: str) -> Skipped:
            return skipped("membership", key, record.origin, code, reason)

        users, organizations = self.users, self.organizations
        user, org = record.user_id, record.organization_id
        if user not in users.imported:
            if user in users.skipped:
                return skip(
                    SkipCode.USER_SKIPPED,
                    f"its user {user} is not imported ({users.skipped[user]})",
                )
            return skip(SkipCode.USER_NOT_IN_EXPORT, f"its user {user} is not in the users export")
        if org not in organizations.imported:
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
        # Last, as it claims the key for this membership when it is the first.
        earlier = self.roles_by_key.claim(key, record.role)
        if earlier is not None:
            return skip(
                SkipCode.DUPLICATE_MEMBERSHIP,
                f"user {user} is already a member of {org} (role {earlier!r}) earlier in "
                "the export; only the first membership is used",
            )
        return None
