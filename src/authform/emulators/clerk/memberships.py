"""Organization memberships: per organization, per user, and the instance's whole list."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..store import from_json, to_json
from .family import NOT_STATED, Family, Operation, Stated, api_error, clerk_id
from .forms import OBJECT, REQUIRED, Form, names, read_form
from .listing import (
    USER_ORDER_FIELDS,
    Filters,
    filter_users,
    offset_page,
    placeholders,
    query_values,
)
from .organizations import Organizations, members_counts, organization_json
from .schema import update
from .users import public_user_data

CREATE_MEMBERSHIP: Final = {
    "user_id": REQUIRED,
    "role": REQUIRED,
    "public_metadata": OBJECT,
    "private_metadata": OBJECT,
}
# The user filters an organization's membership list takes (matched on the member's user).
MEMBER_FILTERS: Final = names(
    "user_id email_address phone_number username web3_wallet query email_address_query "
    "phone_number_query username_query name_query created_at_before created_at_after "
    "last_active_at_before last_active_at_after"
)
ORDER_FIELDS: Final = {"created_at": "m.created_at", **USER_ORDER_FIELDS}


class Memberships(Family):
    def __init__(self, organizations: Organizations) -> None:
        super().__init__(organizations.store)
        self.organizations = organizations
        self.users, self.roles = organizations.users, organizations.roles

    def operations(self) -> Sequence[Operation]:
        memberships = "/organizations/{organization_id}/memberships"
        return (
            ("GET", memberships, self.list_of_organization),
            ("POST", memberships, self.create),
            ("PATCH", f"{memberships}/{{user_id}}", self.update),
            ("DELETE", f"{memberships}/{{user_id}}", self.delete),
            ("GET", "/organization_memberships", self.list),
            ("GET", "/users/{user_id}/organization_memberships", self.list_of_user),
        )

    def memberships_json(self, rows: Sequence[sqlite3.Row]) -> list[dict[str, Any]]:
        def by_id(sql: str, ids: Sequence[str]) -> list[sqlite3.Row]:
            return self.store.all(sql.format(placeholders(ids)), ids)

        org_ids = sorted({row["organization_id"] for row in rows})
        user_ids = sorted({row["user_id"] for row in rows})
        organizations = {
            org["id"]: organization_json(org)
            for org in by_id("SELECT * FROM clerk_organizations WHERE id IN ({})", org_ids)
        }
        users = {u["id"]: u for u in by_id("SELECT * FROM clerk_users WHERE id IN ({})", user_ids)}
        identifiers = {
            row["id"]: row["value"]
            for row in by_id(
                "SELECT id, value FROM clerk_identifications WHERE user_id IN ({})", user_ids
            )
        }
        roles = self.roles.summaries()
        result = []
        for row in rows:
            role = roles.get(row["role"])
            user = public_user_data(row["user_id"], users.get(row["user_id"]), identifiers)
            result.append(
                {
                    "id": row["id"],
                    "object": "organization_membership",
                    "role": row["role"],
                    "role_name": role.name if role else row["role"],
                    "permissions": list(role.permissions) if role else [],
                    "public_metadata": from_json(row["public_metadata"], {}),
                    "private_metadata": from_json(row["private_metadata"], {}),
                    "organization": organizations[row["organization_id"]],
                    "public_user_data": user,
                    "created_at": row["created_at"],
                    "updated_at": row["updated_at"],
                }
            )
        return result

    def _one(self, membership_id: str) -> dict[str, Any]:
        rows = self.store.all("SELECT * FROM clerk_memberships WHERE id = ?", [membership_id])
        return self.memberships_json(rows)[0]

    def _row(self, request: Request) -> sqlite3.Row:
        """The membership a request names by organization and user."""
        organization = self.organizations.row(request)
        organization_id, user_id = organization["id"], request.path_params["user_id"]
        row = self.store.one(
            "SELECT * FROM clerk_memberships WHERE organization_id = ? AND user_id = ?",
            [organization_id, user_id],
        )
        if row is None:
            text = (
                f"No organization membership was found for user {user_id} in organization "
                f"{organization_id}"
            )
            raise api_error(404, "resource_not_found", "not found", text)
        return row

    def create_membership(
        self,
        organization_id: str,
        form: Form,
        stated: Stated = NOT_STATED,
        *,
        user_must_exist: bool = True,
    ) -> dict[str, Any]:
        """Create from a CreateOrganizationMembership body; a seed also states the id and
        timestamps, and may keep a membership whose user is gone (``user_must_exist``)."""
        organization = self.organizations.find(organization_id)
        self.roles.check_role(form, form["role"])
        form.check()
        user_id = form["user_id"]
        if user_must_exist:
            self.users.find(user_id)
        if self.store.one(
            "SELECT 1 FROM clerk_memberships WHERE organization_id = ? AND user_id = ?",
            [organization["id"], user_id],
        ):
            text = f"User {user_id} is already a member of the organization."
            raise api_error(400, "already_a_member_in_organization", "already a member", text)
        maximum = organization["max_allowed_memberships"]
        if (
            maximum
            and members_counts(self.store, [organization["id"]])[organization["id"]] >= maximum
        ):
            raise api_error(
                403,
                "organization_membership_quota_exceeded",
                "membership quota exceeded",
                "The organization has reached its maximum number of memberships.",
            )
        membership_id = stated.id or clerk_id("orgmem_")
        row = {
            "id": membership_id,
            "organization_id": organization["id"],
            "user_id": user_id,
            "role": form["role"],
            **{key: to_json(form[key] or {}) for key in ("public_metadata", "private_metadata")},
            **stated.times(),
        }
        self.store.insert("clerk_memberships", row)
        return self._one(membership_id)

    async def _page(self, request: Request, filters: Filters) -> Response:
        # No default order is documented; newest first, like every other Clerk list.
        source = "clerk_memberships AS m LEFT JOIN clerk_users AS u ON u.id = m.user_id"
        rows, total = offset_page(
            self.store, request, source, ORDER_FIELDS, filters, alias="m", tiebreak="id"
        )
        return JSONResponse({"data": self.memberships_json(rows), "total_count": total})

    async def list_of_organization(self, request: Request) -> Response:
        organization = self.organizations.row(request)
        filters = Filters()
        filters.add("m.organization_id = ?", organization["id"])
        filters.add_in("m.role", query_values(request, "role"))
        return await self._page(
            request, filter_users(request, filters, MEMBER_FILTERS, uid="m.user_id")
        )

    async def list(self, request: Request) -> Response:
        return await self._page(request, Filters())

    async def list_of_user(self, request: Request) -> Response:
        user = self.users.find(request.path_params["user_id"])
        filters = Filters()
        filters.add("m.user_id = ?", user["id"])
        return await self._page(request, filters)

    async def create(self, request: Request) -> Response:
        form = await read_form(request, CREATE_MEMBERSHIP)
        membership = self.create_membership(request.path_params["organization_id"], form)
        return JSONResponse(membership)  # documented 200

    async def update(self, request: Request) -> Response:
        row = self._row(request)
        form = await read_form(request, {"role": REQUIRED})
        self.roles.check_role(form, form["role"])
        form.check()
        update(self.store, "clerk_memberships", row["id"], {"role": form["role"]})
        return JSONResponse(self._one(row["id"]))

    async def delete(self, request: Request) -> Response:
        row = self._row(request)
        # The document answers the removed membership itself, not a DeletedObject.
        removed = self.memberships_json([row])[0]
        self.store.execute("DELETE FROM clerk_memberships WHERE id = ?", [row["id"]])
        return JSONResponse(removed)
