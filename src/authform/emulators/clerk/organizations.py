"""Organizations (``/v1/organizations``) and their metadata."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from ..store import SqliteStore, from_json, placeholders, to_json
from .collection import Collection, Filters, Unique, query_bool, query_values
from .family import (
    NO_IMAGE,
    NOT_STATED,
    Answers,
    Operation,
    Rows,
    Stated,
    clerk_id,
    not_found,
    now_ms,
    stamps,
    update,
)
from .forms import Form, Rule, body, names, read_form
from .roles import Roles
from .users import Users

NAME: Final = Rule(
    max_length=256,
    pattern=re.compile(r"(?s)(?!.*(?:<|://)).*"),
    invalid="name may not contain URLs or HTML.",
)
SLUG: Final = Rule(
    pattern=re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*"),
    invalid="slug can contain only lowercase alphanumeric characters and the dash '-'.",
)
CREATE_ORGANIZATION: Final = body(
    "name! slug created_by public_metadata private_metadata max_allowed_memberships created_at "
    "role_set_key",
    name=NAME,
    slug=SLUG,
)
# Since 2026-05-12 metadata is not accepted here (it has its own /metadata endpoint), so
# public_metadata / private_metadata are form_param_unknown like any other field.
UPDATE_ORGANIZATION: Final = body(
    "name slug max_allowed_memberships admin_delete_enabled created_at role_set_key",
    name=NAME,
    slug=SLUG,
)
METADATA: Final = body("public_metadata private_metadata")
ORDER_FIELDS: Final = {
    "created_at": "t.created_at",
    "name": "lower(t.name)",
    "members_count": "(SELECT COUNT(*) FROM clerk_memberships WHERE organization_id = t.id)",
}
# Organization columns an answer copies as they are.
ANSWERED_AS_IS: Final = names(
    "id name slug max_allowed_memberships created_at updated_at role_set_key"
)


def organization_json(row: sqlite3.Row, members_count: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "object": "organization",
        **{column: row[column] for column in ANSWERED_AS_IS},
        **NO_IMAGE,
        "admin_delete_enabled": bool(row["admin_delete_enabled"]),
        **{column: from_json(row[column], {}) for column in METADATA},
    }
    if members_count is not None:
        item["members_count"] = members_count
    if row["created_by"] is not None:  # a string when present, never null in the document
        item["created_by"] = row["created_by"]
    return item


def deep_merge(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Clerk's metadata merge: nested objects merge too, and a ``null`` removes a key."""
    merged = dict(current)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class Organizations(Collection):
    table, noun, object, path = (
        "clerk_organizations",
        "organization",
        "organization",
        "/organizations",
    )
    item, order, tiebreak = "organization_id", ORDER_FIELDS, "t.id"
    create_rules, update_rules = CREATE_ORGANIZATION, UPDATE_ORGANIZATION
    unique = (Unique("slug", "This organization slug is already taken. Please try another."),)
    # "Exact match for organization ID and partial match for name and slug."
    search = "(t.id = ? OR lower(t.name) LIKE ? ESCAPE '\\' OR t.slug LIKE ? ESCAPE '\\')"

    def __init__(self, store: SqliteStore, users: Users, roles: Roles) -> None:
        super().__init__(store)
        self.users, self.roles = users, roles

    def operations(self) -> Sequence[Operation]:
        metadata = f"{self.path}/{{organization_id}}/metadata"
        return (
            *super().operations(),
            ("PATCH", metadata, self.merge_metadata),
            ("PUT", metadata, self.replace_metadata),
        )

    def find(self, id_or_slug: str) -> sqlite3.Row:
        """The organization with this id, else this slug (the API takes either)."""
        row = self.store.one(
            "SELECT * FROM clerk_organizations WHERE id = ? OR slug = ? ORDER BY id = ? DESC",
            [id_or_slug, id_or_slug, id_or_slug],
        )
        if row is None:
            raise not_found("organization", id_or_slug)
        return row

    def answers(self, rows: Rows, request: Request | None = None) -> Answers:
        """Organizations, with their ``members_count`` when the request asks for it."""
        counts: dict[str, int] = {}
        if request is not None and query_bool(request, "include_members_count"):
            ids = [row["id"] for row in rows]
            sql = f"SELECT t.id, {ORDER_FIELDS['members_count']} AS n FROM {self.table} AS t "
            rows_counted = self.store.all(f"{sql} WHERE t.id IN ({placeholders(ids)})", ids)
            counts = {row["id"]: row["n"] for row in rows_counted}
        return [organization_json(row, counts.get(row["id"])) for row in rows]

    def _free_slug(self, name: str) -> str:
        base = "-".join(re.findall(r"[a-z0-9]+", name.lower())) or "organization"
        slug, suffix = base, 1
        while self.store.find(self.table, "slug", slug):
            suffix += 1
            slug = f"{base}-{suffix}"
        return slug

    def created(self, form: Form, stated: Stated = NOT_STATED) -> str:
        """Store a checked CreateOrganization body (and what a seed states)."""
        created_by = form["created_by"]
        if created_by is not None:
            self.users.find(created_by)
        organization_id = stated.id or clerk_id("org_")
        with self.store.transaction() as conn:
            row = {
                "id": organization_id,
                "name": form["name"],
                "slug": form["slug"] or self._free_slug(form["name"]),
                "max_allowed_memberships": form["max_allowed_memberships"] or 0,
                **{column: to_json(form[column] or {}) for column in METADATA},
                "created_by": created_by,
                "role_set_key": form["role_set_key"],
                **stated.times(form["created_at"] or None),
            }
            self.store.insert("clerk_organizations", row, conn)
            if created_by is not None:
                # "The ID of the User who will become the administrator for the new
                # organization": the creator gets a membership with the admin role.
                membership = {"id": clerk_id("orgmem_"), "organization_id": organization_id}
                role = self.roles.creator_role()
                values = {**membership, "user_id": created_by, "role": role}
                self.store.insert("clerk_memberships", {**values, **stamps(now_ms())}, conn)
        return organization_id

    def filters(self, request: Request) -> Filters:
        filters = super().filters(request)
        query_bool(request, "include_missing_member_with_elevated_permissions")
        has_member = (
            "t.id {} (SELECT organization_id FROM clerk_memberships WHERE user_id IN ({{values}}))"
        )
        user_ids = query_values(request, "user_id")
        filters.add_signed(has_member.format("IN"), has_member.format("NOT IN"), user_ids)
        organization_ids = query_values(request, "organization_id")
        filters.add_signed("t.id IN ({values})", "t.id NOT IN ({values})", organization_ids)
        return filters

    def deleted(self, row: sqlite3.Row) -> dict[str, Any]:
        # "Deleting an organization will also delete all memberships" (ON DELETE CASCADE).
        return {**super().deleted(row), "slug": row["slug"]}

    async def _metadata(self, request: Request, *, merge: bool) -> Response:
        row = self.row(request)
        form = await read_form(request, METADATA)
        form.check()
        changes = {
            column: to_json(deep_merge(from_json(row[column], {}), value) if merge else value)
            for column, value in form.given(*METADATA).items()
        }
        update(self.store, "clerk_organizations", row["id"], changes)
        return self.respond(row["id"])

    async def merge_metadata(self, request: Request) -> Response:
        return await self._metadata(request, merge=True)

    async def replace_metadata(self, request: Request) -> Response:
        return await self._metadata(request, merge=False)
