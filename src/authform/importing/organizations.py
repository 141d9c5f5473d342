"""Turning source organizations into desired ``organization`` resources.

The key is the Clerk organization id (the target's ``external_id``). Clerk's slug has no
WorkOS field, so it is kept in metadata as ``clerk_slug`` for apps that look organizations up
by slug; it is set last so it always reflects the source. Domains are not in Clerk's
organization object, so none are imported (``[]``): the manifest declares them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from authform.importing.metadata import flatten_metadata
from authform.importing.report import ImportCounts, SkipCode, Skipped, skipped
from authform.resources import Kind, Resource
from authform.sources.records import MalformedRecord, OrganizationRecord, SourceOrganization


@dataclass
class OrganizationImport:
    """Organizations to import and everything reported about them, in source order."""

    resources: list[Resource] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    imported_ids: set[str] = field(default_factory=set)
    skipped_ids: dict[str, str] = field(default_factory=dict)  # id -> code of its skip


def import_organizations(
    records: Iterable[OrganizationRecord], *, counts: ImportCounts
) -> OrganizationImport:
    """Apply the organization rules to every record and fill the organization figures."""
    result = OrganizationImport()
    for record in records:
        counts.orgs_total += 1
        if isinstance(record, MalformedRecord):
            source_id = record.source_id or ""
            result.skipped.append(
                skipped(
                    "organization",
                    source_id,
                    record.origin,
                    SkipCode.MALFORMED_RECORD,
                    record.problem,
                )
            )
            if source_id and source_id not in result.imported_ids:
                result.skipped_ids[source_id] = SkipCode.MALFORMED_RECORD.value
            counts.orgs_skipped += 1
        elif record.id in result.imported_ids:
            result.skipped.append(
                skipped(
                    "organization",
                    record.id,
                    record.origin,
                    SkipCode.DUPLICATE_ORGANIZATION,
                    "the same organization id appears earlier in the export; "
                    "only the first record is used",
                )
            )
            counts.orgs_skipped += 1
        else:
            result.resources.append(organization_resource(record))
            result.imported_ids.add(record.id)
            result.skipped_ids.pop(record.id, None)
            counts.orgs += 1
    return result


def organization_resource(org: SourceOrganization) -> Resource:
    metadata = flatten_metadata(org.public_metadata)
    if org.slug:
        metadata["clerk_slug"] = org.slug
    return Resource(
        kind=Kind.ORGANIZATION,
        key=org.id,
        spec={"name": org.name, "domains": [], "metadata": metadata},
    )
