"""Read the manifest's ``users.source`` into an ImportSet.

The one place that knows which reader serves which source kind; everything after it works on
records and resources only.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from authform.importing.build import ImportSet, build_import_set
from authform.sources import (
    USER_FILE_READERS,
    MembershipRecord,
    OrganizationRecord,
    read_clerk_memberships,
    read_clerk_organizations,
)


def _optional(reader: Any, path: Path | None) -> Iterable[Any]:
    return reader(path) if path is not None else ()


def load_import_set(users: Any, target: str = "workos") -> ImportSet:
    """``users`` is the manifest's validated ``Users`` model; ``target`` its provider."""
    source = users.source
    if source.kind in USER_FILE_READERS:
        user_records = USER_FILE_READERS[source.kind](source.path)
        organizations: Iterable[OrganizationRecord] = _optional(
            read_clerk_organizations, source.organizations
        )
        memberships: Iterable[MembershipRecord] = _optional(
            read_clerk_memberships, source.memberships
        )
    elif source.kind == "clerk-api":
        from authform.sources.clerk_api import read_clerk_api_source

        user_records, organizations, memberships = read_clerk_api_source(source)
    else:  # the manifest model admits no other kind
        raise ValueError(f"unknown user source kind {source.kind!r}")
    return build_import_set(
        user_records,
        organizations,
        memberships,
        email_policy=users.email,
        role_map=users.role_map,
        target=target,
    )


def summarize_import(import_set: ImportSet, source_label: str) -> list[str]:
    """The pre-flight counts ``plan`` prints before anything is written."""
    c = import_set.counts
    lines = [
        f"Import from {source_label}:",
        f"  users: {c.users_total} read, {c.users_imported} to import "
        f"({c.users_with_password} with a password hash, {c.users_without_password} without; "
        f"{c.users_with_several_emails} with several emails), {c.users_skipped} skipped",
        f"  organizations: {c.orgs_total} read, {c.orgs} to import, {c.orgs_skipped} skipped",
        f"  memberships: {c.memberships_total} read, {c.memberships} to import, "
        f"{c.memberships_skipped} skipped",
    ]
    if c.users_to_reenroll:
        lines.append(
            f"  {c.users_to_reenroll} user(s) must re-enroll a second factor (TOTP/SMS do not "
            "carry over); they are listed in the re-enroll report"
        )
    if c.skipped_by_code:
        reasons = ", ".join(f"{code} {n}" for code, n in sorted(c.skipped_by_code.items()))
        lines.append(f"  skipped or caveats by reason: {reasons}")
    return lines
