"""User-import sources: Clerk exports read as streams of plain records.

Every reader is a generator over an open file, so memory stays flat however large the export;
a record it cannot read is yielded as a ``MalformedRecord`` (reported, the rest go on), and a
file it cannot read at all raises ``SourceError`` naming the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from os import PathLike

from authform.sources.clerk_csv import read_clerk_csv
from authform.sources.clerk_files import read_clerk_memberships, read_clerk_organizations
from authform.sources.clerk_json import read_clerk_json
from authform.sources.errors import SourceError
from authform.sources.records import (
    BcryptHash,
    MalformedRecord,
    MembershipRecord,
    OrganizationRecord,
    PasswordDigest,
    SensitiveText,
    SourceEmail,
    SourceMembership,
    SourceOrganization,
    SourceUser,
    UserRecord,
)

# The manifest's ``users.source.kind`` values backed by a users file, and their readers.
USER_FILE_READERS: dict[str, Callable[[str | PathLike[str]], Iterator[UserRecord]]] = {
    "clerk-csv": read_clerk_csv,
    "clerk-json": read_clerk_json,
}

__all__ = [
    "USER_FILE_READERS",
    "BcryptHash",
    "MalformedRecord",
    "MembershipRecord",
    "OrganizationRecord",
    "PasswordDigest",
    "SensitiveText",
    "SourceEmail",
    "SourceError",
    "SourceMembership",
    "SourceOrganization",
    "SourceUser",
    "UserRecord",
    "read_clerk_csv",
    "read_clerk_json",
    "read_clerk_memberships",
    "read_clerk_organizations",
]
