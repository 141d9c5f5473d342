"""Organizations (``/v1/organizations``) and their metadata."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..store import SqliteStore, from_json, to_json
from .family import Family, Operation, clerk_id, not_found, now_ms
from .forms import COUNT, FLAG, OBJECT, TEXT, TIME, Form, Rule, names, read_form, required
from .listing import Filters, like, offset_page, placeholders, query_bool, query_values
from .roles import Roles
from .schema import insert, update
from .user_records import DEFAULT_IMAGE_URL
from .users import Users

NAME: Final = Rule(max_length=256)
SLUG: Final = Rule(
    pattern=re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*"),
    invalid="slug can contain only lowercase alphanumeric characters and the dash '-'.",
)
CREATE_ORGANIZATION: Final = {
    "name": required(NAME),
    "slug": SLUG,
    "created_by": TEXT,
    "public_metadata": OBJECT,
    "private_metadata": OBJECT,
    "max_allowed_memberships": COUNT,
    "created_at": TIME,
    "role_set_key": TEXT,
}
# Since 2026-05-12 metadata is not accepted here (it has its own /metadata endpoint), so
# public_metadata / private_metadata are form_param_unknown like any other field.
UPDATE_ORGANIZATION: Final = {
    "name": NAME,
    "slug": SLUG,
    "max_allowed_memberships": COUNT,
    "admin_delete_enabled": FLAG,
    "created_at": TIME,
    "role_set_key": TEXT,
}
METADATA: Final = {"public_metadata": OBJECT, "private_metadata": OBJECT}
ORDER_FIELDS: Final = {
    "created_at": "o.created_at",
    "name": "lower(o.name)",
    "members_count": "(SELECT COUNT(*) FROM clerk_memberships WHERE organization_id = o.id)",
}
# Organization columns an answer copies as they are.
ANSWERED_AS_IS: Final = names(
    "id name slug max_allowed_memberships created_at updated_at role_set_key"
)


def organization_json(row: sqlite3.Row, members_count: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "object": "organization",
        **{column: row[column] for column in ANSWERED_AS_IS},
        "image_url": DEFAULT_IMAGE_URL,
        "has_image": False,
        "admin_delete_enabled": bool(row["admin_delete_enabled"]),
        **{column: from_json(row[column], {}) for column in METADATA},
    }
    if members_count is not None:
        item["members_count"] = members_count
    if row["created_by"] is not None:  # a string when present, never null in the document
        item["created_by"] = row["created_by"]
    return item


def organization_row(store: SqliteStore, id_or_slug: str) -> sqlite3.Row:
    row = store.one(
        "SELECT * FROM clerk_organizations WHERE id = ? OR slug = ? ORDER BY id = ? DESC",
        [id_or_slug, id_or_slug, id_or_slug],
    )
    if row is None:
        raise not_found("organization", id_or_slug)
    return row


def members_counts(store: SqliteStore, organization_ids: Sequence[str]) -> dict[str, int]:
    counts = dict.fromkeys(organization_ids, 0)
    for row in store.all(
        "SELECT organization_id, COUNT(*) AS n FROM clerk_memberships WHERE "
        f"organization_id IN ({placeholders(organization_ids)}) GROUP BY organization_id",
        organization_ids,
    ):
        counts[row["organization_id"]] = row["n"]
    return counts


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


class Organizations(Family):
    def __init__(self, store: SqliteStore, users: Users, roles: Roles) -> None:
        super().__init__(store)
        self.users, self.roles = users, roles

    def operations(self) -> Sequence[Operation]:
        organization = "/organizations/{organization_id}"
        return (
            ("GET", "/organizations", self.list),
            ("POST", "/organizations", self.create),
            ("GET", organization, self.get),
            ("PATCH", organization, self.update),
            ("DELETE", organization, self.delete),
            ("PATCH", f"{organization}/metadata", self.merge_metadata),
            ("PUT", f"{organization}/metadata", self.replace_metadata),
        )

    def row(self, id_or_slug: str) -> sqlite3.Row:
        return organization_row(self.store, id_or_slug)

    def _free_slug(self, name: str) -> str:
        base = "-".join(re.findall(r"[a-z0-9]+", name.lower())) or "organization"
        slug, suffix = base, 1
        while self.store.one("SELECT 1 FROM clerk_organizations WHERE slug = ?", [slug]):
            suffix += 1
            slug = f"{base}-{suffix}"
        return slug

    def _check(self, form: Form, own_id: str | None) -> None:
        """What the rules cannot say: no markup in a name, a slug no other organization has."""
        name, slug = form["name"], form["slug"]
        if form.sent("name") and name is not None and not name.strip():
            form.missing("name")
        if name is not None and ("<" in name or "://" in name):
            form.invalid("name", "name may not contain URLs or HTML.")
        if slug is not None and self.store.one(
            "SELECT 1 FROM clerk_organizations WHERE slug = ? AND id IS NOT ?", [slug, own_id]
        ):
            text = "This organization slug is already taken. Please try another."
            form.fail("form_identifier_exists", "slug", text, text)
        form.check()

    def create_organization(
        self,
        form: Form,
        *,
        organization_id: str | None = None,
        created_at: int | None = None,
        updated_at: int | None = None,
    ) -> dict[str, Any]:
        """Create from a CreateOrganization body; a seed also states id and timestamps."""
        self._check(form, None)
        created_by = form["created_by"]
        if created_by is not None:
            self.users.user_row(created_by)
        organization_id = organization_id or clerk_id("org_")
        now = now_ms()
        created = created_at if created_at is not None else form["created_at"] or now
        with self.store.transaction() as conn:
            row = {
                "id": organization_id,
                "name": form["name"],
                "slug": form["slug"] or self._free_slug(form["name"]),
                "max_allowed_memberships": form["max_allowed_memberships"] or 0,
                **{column: to_json(form[column] or {}) for column in METADATA},
                "created_by": created_by,
                "role_set_key": form["role_set_key"],
                "created_at": created,
                "updated_at": updated_at if updated_at is not None else max(created, now),
            }
            insert(conn, "clerk_organizations", row)
            if created_by is not None:
                # "The ID of the User who will become the administrator for the new
                # organization": the creator gets a membership with the admin role.
                membership = {"id": clerk_id("orgmem_"), "organization_id": organization_id}
                role = self.roles.creator_role()
                stamps = {"created_at": now, "updated_at": now}
                values = {**membership, "user_id": created_by, "role": role, **stamps}
                insert(conn, "clerk_memberships", values)
        return organization_json(self.row(organization_id))

    async def list(self, request: Request) -> Response:
        filters = Filters()
        include_count = bool(query_bool(request, "include_members_count"))
        query_bool(request, "include_missing_member_with_elevated_permissions")
        query = request.query_params.get("query")
        if query:
            # "Exact match for organization ID and partial match for name and slug."
            condition = (
                "(o.id = ? OR lower(o.name) LIKE ? ESCAPE '\\' OR o.slug LIKE ? ESCAPE '\\')"
            )
            filters.add(condition, query, like(query), like(query))
        has_member = (
            "o.id {} (SELECT organization_id FROM clerk_memberships WHERE user_id IN ({{values}}))"
        )
        user_ids = query_values(request, "user_id")
        filters.add_signed(has_member.format("IN"), has_member.format("NOT IN"), user_ids)
        organization_ids = query_values(request, "organization_id")
        filters.add_signed("o.id IN ({values})", "o.id NOT IN ({values})", organization_ids)
        rows, total = offset_page(
            self.store,
            request,
            "clerk_organizations AS o",
            ORDER_FIELDS,
            filters,
            alias="o",
            tiebreak="id",
        )
        counts = members_counts(self.store, [row["id"] for row in rows]) if include_count else {}
        data = [organization_json(row, counts.get(row["id"])) for row in rows]
        return JSONResponse({"data": data, "total_count": total})

    async def create(self, request: Request) -> Response:
        form = await read_form(request, CREATE_ORGANIZATION)
        return JSONResponse(self.create_organization(form))  # documented 200, not 201

    async def get(self, request: Request) -> Response:
        row = self.row(request.path_params["organization_id"])
        count = None
        if query_bool(request, "include_members_count"):
            count = members_counts(self.store, [row["id"]])[row["id"]]
        return JSONResponse(organization_json(row, count))

    async def update(self, request: Request) -> Response:
        row = self.row(request.path_params["organization_id"])
        form = await read_form(request, UPDATE_ORGANIZATION)
        self._check(form, row["id"])
        update(self.store, "clerk_organizations", row["id"], form.given(*UPDATE_ORGANIZATION))
        return JSONResponse(organization_json(self.row(row["id"])))

    async def delete(self, request: Request) -> Response:
        row = self.row(request.path_params["organization_id"])
        # "Deleting an organization will also delete all memberships" (ON DELETE CASCADE).
        self.store.execute("DELETE FROM clerk_organizations WHERE id = ?", [row["id"]])
        deleted = {"object": "organization", "id": row["id"], "slug": row["slug"]}
        return JSONResponse({**deleted, "deleted": True})

    async def _metadata(self, request: Request, *, merge: bool) -> Response:
        row = self.row(request.path_params["organization_id"])
        form = await read_form(request, METADATA)
        form.check()
        changes = {
            column: to_json(deep_merge(from_json(row[column], {}), value) if merge else value)
            for column, value in form.given(*METADATA).items()
        }
        update(self.store, "clerk_organizations", row["id"], changes)
        return JSONResponse(organization_json(self.row(row["id"])))

    async def merge_metadata(self, request: Request) -> Response:
        return await self._metadata(request, merge=True)

    async def replace_metadata(self, request: Request) -> Response:
        return await self._metadata(request, merge=False)
