"""Read the manifest's ``users.source`` into an ImportSet.

The one place that knows which reader serves which source kind; everything after it works on
records and resources only.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from authform.collector import collected_rarely
from authform.engine.index import StateIndex
from authform.importing.build import ImportSet, build_import_set
from authform.importing.report import SkipCode
from authform.sources import (
    USER_FILE_READERS,
    OrganizationRecord,
    read_clerk_organizations,
)
from authform.sources.clerk_csv import read_clerk_csv_blocks
from authform.sources.clerk_files import read_clerk_membership_blocks
from authform.sources.records import MembershipEntry, UserEntry

# How many unreadable records ``plan`` names one by one before it only counts the rest.
MAX_LISTED_UNREADABLE = 20

# The collector's first generation while an export file is read (the default is 700).
FILE_PARSE_FIRST_GENERATION = 50_000


def _optional(reader: Any, path: Path | None) -> Iterable[Any]:
    return reader(path) if path is not None else ()


def load_import_set(
    users: Any, target: str = "workos", index: StateIndex | None = None
) -> ImportSet:
    """``users`` is the manifest's validated ``Users`` model; ``target`` its provider; the
    resources are written to ``index`` (see ``build_import_set``)."""
    source = users.source
    user_records: Iterable[UserEntry]
    collector: AbstractContextManager[None] = nullcontext()
    if source.kind in USER_FILE_READERS:
        # Reading files makes no cyclic garbage (none over 100,000 users, organizations and
        # memberships), while the readers hold a block of decoded records at a time: 8.4 ->
        # 7.5 s CPU for that parse (see ``collector``). The Clerk API source keeps the
        # default: its HTTP client makes cycles.
        collector = collected_rarely(FILE_PARSE_FIRST_GENERATION)
        user_records = (
            read_clerk_csv_blocks(source.path)  # with the users' fast lane
            if source.kind == "clerk-csv"
            else USER_FILE_READERS[source.kind](source.path)
        )
        organizations: Iterable[OrganizationRecord] = _optional(
            read_clerk_organizations, source.organizations
        )
        memberships: Iterable[MembershipEntry] = _optional(
            read_clerk_membership_blocks, source.memberships
        )
    elif source.kind == "clerk-api":
        from authform.sources.clerk_api import read_clerk_api_source

        user_records, organizations, memberships = read_clerk_api_source(source)
    else:  # the manifest model admits no other kind
        raise ValueError(f"unknown user source kind {source.kind!r}")
    with collector:
        return build_import_set(
            user_records,
            organizations,
            memberships,
            email_policy=users.email,
            role_map=users.role_map,
            target=target,
            index=index,
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
    lines += _unreadable_records(import_set)
    return lines


def _unreadable_records(import_set: ImportSet) -> list[str]:
    """Records the source could not be trusted for (broken rows, hostile values, ids not of
    Clerk's shape), each with its file and row: the operator fixes these in the export, so the
    plan names them instead of only counting them. The first few, so a broken million-row
    export still prints a readable plan; the skipped report lists all of them."""
    unreadable = [s for s in import_set.skipped if s.code == SkipCode.MALFORMED_RECORD]
    if not unreadable:
        return []
    lines = ["  records skipped as unreadable or unsafe (fix them in the source and re-run):"]
    lines += [f"    {s.origin}: {s.reason}" for s in unreadable[:MAX_LISTED_UNREADABLE]]
    if len(unreadable) > MAX_LISTED_UNREADABLE:
        more = len(unreadable) - MAX_LISTED_UNREADABLE
        lines.append(f"    … and {more} more (all are listed in skipped.csv after apply)")
    return lines
