"""The import step: source records in, desired resources plus everything reported out.

Users are read first and whole, then organizations, then memberships, because a membership's
fate depends on whether both its ends import; each source is still consumed as a stream, and
what is held is the desired state itself (one compact ``Resource`` per item) and the id sets
needed to judge memberships. Nothing here touches a provider: the ``ImportSet`` is the
pre-flight report a team reviews before any write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from authform.engine.index import StateIndex
from authform.engine.spool import ChainedSequence
from authform.importing.emails import EMAIL_POLICIES, EmailPolicy
from authform.importing.memberships import KnownIds, RoleUse, import_memberships
from authform.importing.organizations import import_organizations
from authform.importing.report import ImportCounts, ReenrollNotice, Skipped
from authform.importing.roles import effective_role_map
from authform.importing.scratch import ImportScratch
from authform.importing.users import import_users
from authform.resources import Resource
from authform.sources.records import MembershipEntry, OrganizationRecord, UserEntry
from authform.sources.screening import screened


@dataclass
class ImportSet:
    """Desired users, organizations and memberships, with every skip and caveat in source order.

    ``skipped`` lists users, then organizations, then memberships, each in source order. Built
    by ``build_import_set``, every list is a sequence spooled to disk (read as often as
    needed, held nowhere whole).
    """

    users: Sequence[Resource] = field(default_factory=list)
    organizations: Sequence[Resource] = field(default_factory=list)
    memberships: Sequence[Resource] = field(default_factory=list)
    skipped: Sequence[Skipped] = field(default_factory=list)
    reenroll: Sequence[ReenrollNotice] = field(default_factory=list)
    counts: ImportCounts = field(default_factory=ImportCounts)
    role_uses: dict[str, RoleUse] = field(default_factory=dict)
    # The state index the resources were written to (when built by ``build_import_set``).
    index: StateIndex | None = None

    @property
    def resources(self) -> Sequence[Resource]:
        """All desired resources, in dependency order (organizations, users, memberships)."""
        return ChainedSequence(self.organizations, self.users, self.memberships)


def build_import_set(
    users: Iterable[UserEntry],
    organizations: Iterable[OrganizationRecord] = (),
    memberships: Iterable[MembershipEntry] = (),
    *,
    email_policy: EmailPolicy = "primary",
    role_map: Mapping[str, str] | None = None,
    target: str = "workos",
    index: StateIndex | None = None,
) -> ImportSet:
    """Turn source records into the desired state for the import, reporting what is left out.

    ``target`` (the manifest's provider) decides what the target can take: which password
    hashers import, how organizations are keyed, which role keys the defaults map to.

    Raises ``ValueError`` for an unknown ``email_policy``; a source file that cannot be read
    raises ``authform.sources.SourceError`` from the iteration.

    The resources are written to ``index`` as they are judged (a fresh index when none is
    given, kept alive by the result), in sections that read back in dependency order.
    """
    if email_policy not in EMAIL_POLICIES:
        raise ValueError(
            f"unknown email policy {email_policy!r}; expected one of {', '.join(EMAIL_POLICIES)}"
        )
    counts = ImportCounts()
    scratch = ImportScratch()
    index = StateIndex() if index is None else index
    try:
        return _build(
            index,
            scratch,
            users,
            organizations,
            memberships,
            email_policy,
            role_map,
            target,
            counts,
        )
    finally:
        scratch.close()


# Sections of the state index the import writes (section 0 is the manifest's own resources):
# the users are judged first, but read back after the organizations they may belong to.
ORGANIZATIONS_SECTION, USERS_SECTION, MEMBERSHIPS_SECTION = 1, 2, 3


def _build(
    index: StateIndex,
    scratch: ImportScratch,
    users: Iterable[UserEntry],
    organizations: Iterable[OrganizationRecord],
    memberships: Iterable[MembershipEntry],
    email_policy: EmailPolicy,
    role_map: Mapping[str, str] | None,
    target: str,
    counts: ImportCounts,
) -> ImportSet:
    # Every record is screened first (Clerk id shapes, the manifest's character rule): a
    # hostile value is a reported skip here, so nothing downstream can send or print it.
    user_import = import_users(
        screened(users),
        email_policy=email_policy,
        counts=counts,
        writer=index.desired_writer(USERS_SECTION),
        target=target,
        scratch=scratch,
    )
    org_import = import_organizations(
        screened(organizations),
        counts=counts,
        writer=index.desired_writer(ORGANIZATIONS_SECTION),
        target=target,
    )
    membership_import = import_memberships(
        screened(memberships),
        users=KnownIds(
            user_import.imported_among,
            user_import.skipped_ids,
            imported_count=user_import.imported_count,
        ),
        organizations=KnownIds(
            org_import.imported_ids.intersection, org_import.skipped_ids, org_import.keys
        ),
        role_map=effective_role_map(role_map, target),
        counts=counts,
        writer=index.desired_writer(MEMBERSHIPS_SECTION),
        scratch=scratch,
    )
    skipped = ChainedSequence(user_import.skipped, org_import.skipped, membership_import.skipped)
    counts.count_skips(skipped)
    return ImportSet(
        users=user_import.resources,
        organizations=org_import.resources,
        memberships=membership_import.resources,
        skipped=skipped,
        reenroll=user_import.reenroll,
        counts=counts,
        role_uses=membership_import.role_uses,
        index=index,
    )
