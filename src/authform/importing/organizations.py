"""Turning source organizations into desired ``organization`` resources.

The key is the Clerk organization id (the target's ``external_id``). Clerk's slug has no
WorkOS field, so it is kept in metadata as ``clerk_slug`` for apps that look organizations up
by slug; it is set last so it always reflects the source. Domains are not in Clerk's
organization object, so none are imported (``[]``): the manifest declares them.

A Clerk target keys organizations by slug (see ``authform.providers.clerk``), so there the
key is the source's slug and the public metadata travels as it is (Clerk's metadata holds any
JSON); an organization without a slug cannot be keyed and is reported. ``keys`` maps each
imported source id to its key, so memberships name the organization the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from authform.engine.index import DesiredWriter
from authform.engine.spool import PickleSpool, dataclass_spool
from authform.importing.metadata import flatten_metadata
from authform.importing.report import ImportCounts, SkipCode, Skipped, skipped, skipped_malformed
from authform.provenance import record_origin
from authform.resources import Kind, Resource
from authform.sources.records import MalformedRecord, OrganizationRecord, SourceOrganization


@dataclass
class OrganizationImport:
    """Organizations to import and everything reported about them, in source order."""

    # In the state index; the id sets stay in memory (organizations are a twentieth of users).
    resources: Sequence[Resource] = ()
    skipped: PickleSpool = field(
        default_factory=lambda: dataclass_spool(Skipped, "authform-skips-")
    )
    imported_ids: set[str] = field(default_factory=set)
    skipped_ids: dict[str, str] = field(default_factory=dict)  # id -> code of its skip
    keys: dict[str, str] = field(default_factory=dict)  # source id -> resource key


def import_organizations(
    records: Iterable[OrganizationRecord],
    *,
    counts: ImportCounts,
    writer: DesiredWriter,
    target: str = "workos",
) -> OrganizationImport:
    """Apply the organization rules to every record, write the organizations to import
    through ``writer`` and fill the organization figures."""
    result = OrganizationImport()
    slug_keyed = target == "clerk"
    owner_of_key: dict[str, str] = {}
    for record in records:
        counts.orgs_total += 1
        if isinstance(record, MalformedRecord):
            source_id = record.source_id or ""
            result.skipped.append(skipped_malformed(record))
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
        elif slug_keyed and (not record.slug or record.slug in owner_of_key):
            code, reason = (
                (
                    SkipCode.ORGANIZATION_WITHOUT_SLUG,
                    "the organization has no slug, and a Clerk target keys organizations by "
                    "slug; give it one in the source, or declare it in the manifest",
                )
                if not record.slug
                else (
                    SkipCode.DUPLICATE_ORGANIZATION,
                    f"slug {record.slug!r} is also the slug of {owner_of_key[record.slug]} "
                    "earlier in the export; only the first is used",
                )
            )
            result.skipped.append(skipped("organization", record.id, record.origin, code, reason))
            result.skipped_ids.setdefault(record.id, code.value)
            counts.orgs_skipped += 1
        else:
            resource = slug_keyed_resource(record) if slug_keyed else organization_resource(record)
            writer.append(resource)
            result.imported_ids.add(record.id)
            result.keys[record.id] = resource.key
            if slug_keyed:
                owner_of_key[resource.key] = record.id
            result.skipped_ids.pop(record.id, None)
            counts.orgs += 1
    writer.close()
    result.resources = writer.view()
    return result


def slug_keyed_resource(org: SourceOrganization) -> Resource:
    """The organization for a target keyed by slug, whose metadata holds any JSON value."""
    assert org.slug
    return Resource(
        kind=Kind.ORGANIZATION,
        key=org.slug,
        spec={"name": org.name, "domains": [], "metadata": dict(org.public_metadata)},
        origin=record_origin(org.origin),
    )


def organization_resource(org: SourceOrganization) -> Resource:
    metadata = flatten_metadata(org.public_metadata)
    if org.slug:
        metadata["clerk_slug"] = org.slug
    return Resource(
        kind=Kind.ORGANIZATION,
        key=org.id,
        spec={"name": org.name, "domains": [], "metadata": metadata},
        origin=record_origin(org.origin),
    )
