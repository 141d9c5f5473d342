"""What an import tells its operator besides the resources: skips, caveats, re-enrollments.

Every record that is not imported, or imported with something lost, gets one ``Skipped`` with
a stable machine ``code`` (for CI reports and counting) and a sentence for a human. None of
these ever carries a secret: reasons are written from facts about a value (its hasher, its
shape), never from the value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from authform.sources.records import MalformedRecord

SkippedKind = Literal["user", "organization", "membership"]


class SkipCode(StrEnum):
    """Stable codes of ``Skipped.code``; a ``StrEnum`` so they compare equal to plain strings."""

    MALFORMED_RECORD = "malformed_record"
    # users
    DUPLICATE_USER = "duplicate_user"
    PHONE_ONLY = "phone_only"
    NO_EMAIL = "no_email"
    MULTIPLE_EMAILS_SKIPPED = "multiple_emails_skipped"
    PRIMARY_EMAIL_UNKNOWN = "primary_email_unknown"
    INVALID_EMAIL = "invalid_email"
    EMAIL_CONFLICT = "email_conflict"
    MALFORMED_PASSWORD_DIGEST = "malformed_password_digest"
    UNSUPPORTED_PASSWORD_HASHER = "unsupported_password_hasher"
    # organizations
    DUPLICATE_ORGANIZATION = "duplicate_organization"
    ORGANIZATION_WITHOUT_SLUG = "organization_without_slug"
    # memberships
    USER_SKIPPED = "user_skipped"
    USER_NOT_IN_EXPORT = "user_not_in_export"
    ORGANIZATION_SKIPPED = "organization_skipped"
    ORGANIZATION_NOT_IN_EXPORT = "organization_not_in_export"
    UNMAPPED_ROLE = "unmapped_role"
    DUPLICATE_MEMBERSHIP = "duplicate_membership"


@dataclass(frozen=True)
class Skipped:
    """One record not imported (``imported=False``), or imported with a caveat (``True``)."""

    kind: SkippedKind
    source_id: str
    origin: str
    reason: str
    code: str
    imported: bool = False


@dataclass(frozen=True)
class ReenrollNotice:
    """An imported user whose second factor does not carry over and must be enrolled again.

    ``factors`` names what was lost (``"totp"``, ``"sms"``); the secret itself is never kept.
    """

    source_id: str
    email: str
    factors: tuple[str, ...]
    reason: str


@dataclass
class ImportCounts:
    """Figures to show before anything is written (the migration guide's pre-flight counts).

    User figures about passwords count imported users only, so
    ``users_with_password + users_without_password == users_imported``.
    ``skipped_by_code`` counts every ``Skipped``, caveats included.
    """

    users_total: int = 0
    users_imported: int = 0
    users_skipped: int = 0
    users_with_several_emails: int = 0
    users_primary_unknown: int = 0
    users_with_password: int = 0
    users_without_password: int = 0
    users_to_reenroll: int = 0
    orgs_total: int = 0
    orgs: int = 0
    orgs_skipped: int = 0
    memberships_total: int = 0
    memberships: int = 0
    memberships_skipped: int = 0
    skipped_by_code: dict[str, int] = field(default_factory=dict)

    def count_skips(self, skipped: Iterable[Skipped]) -> None:
        self.skipped_by_code = dict(Counter(str(s.code) for s in skipped))


def skipped(
    kind: SkippedKind,
    source_id: str,
    origin: str,
    code: SkipCode,
    reason: str,
    *,
    imported: bool = False,
) -> Skipped:
    """Build a ``Skipped`` whose ``code`` and ``origin`` are plain strings (clean repr, JSON,
    comparisons; and skips are spooled to disk, where a ``RecordOrigin`` pickles slowly)."""
    return Skipped(kind, source_id, str(origin), reason, code.value, imported)


def skipped_malformed(record: MalformedRecord) -> Skipped:
    """The ``Skipped`` of a record the source could not read (or would not trust): its kind,
    its id when the source found one, its place, and the source's own words."""
    source_id = record.source_id or ""
    return skipped(record.kind, source_id, record.origin, SkipCode.MALFORMED_RECORD, record.problem)
