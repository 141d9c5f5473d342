"""Organization memberships: per organization, per user, and the instance's whole list."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from ..store import from_json, placeholders, to_json
from .collection import Collection, Filters, query_values
from .family import NO_IMAGE, NOT_STATED, Answers, Operation, Rows, Stated, api_error, clerk_id
from .forms import Form, body, names, read_form
from .organizations import Organizations, organization_json
from .users import USER_ORDER_FIELDS, filter_users

METADATA: Final = ("public_metadata", "private_metadata")
CREATE_MEMBERSHIP: Final = body("user_id! role! public_metadata private_metadata")
# The user filters an organization's membership list takes (matched on the member's user).
MEMBER_FILTERS: Final = names(
    "user_id email_address phone_number username web3_wallet query email_address_query "
    "phone_number_query username_query name_query created_at_before created_at_after "
    "last_active_at_before last_active_at_after"
)
ORDER_FIELDS: Final = {"created_at": "t.created_at", **USER_ORDER_FIELDS}
# Members' users with the identifier their memberships show: the primary email address,
# else the primary phone number, else the username.
MEMBERS: Final = (
    "SELECT u.*, coalesce((SELECT value FROM clerk_identifications "
    "WHERE id = u.primary_email_address_id), (SELECT value FROM clerk_identifications "
    "WHERE id = u.primary_phone_number_id), u.username) AS identifier FROM clerk_users AS u "
)


def public_user_data(user_id: str, user: sqlite3.Row | None) -> dict[str, Any]:
    """The membership's ``public_user_data``; for a seeded membership whose user no longer
    exists, everything but the id is empty, as Clerk's own exports show such rows."""
    if user is None:
        empty = dict.fromkeys(("first_name", "last_name", "profile_image_url", "username"))
        return {"user_id": user_id, **empty, **NO_IMAGE, "identifier": None}
    return {
        "user_id": user_id,
        **{key: user[key] for key in ("first_name", "last_name", "username", "identifier")},
        "profile_image_url": NO_IMAGE["image_url"],
        **NO_IMAGE,
        "banned": bool(user["banned"]),
    }


class Memberships(Collection):
    table, noun, object = "clerk_memberships", "organization membership", "organization_membership"
    path, item = "/organizations/{organization_id}/memberships", "user_id"
    verbs, search = ("list", "create", "update", "delete"), ""
    update_rules = body("role!")
    # No default order is documented; newest first, like every other Clerk list.
    source = "clerk_memberships AS t LEFT JOIN clerk_users AS u ON u.id = t.user_id"
    order, tiebreak = ORDER_FIELDS, "t.id"

    def __init__(self, organizations: Organizations) -> None:
        super().__init__(organizations.store)
        self.organizations = organizations
        self.users, self.roles = organizations.users, organizations.roles

    def operations(self) -> Sequence[Operation]:
        return (
            *super().operations(),
            ("GET", "/organization_memberships", self.list),
            ("GET", "/users/{user_id}/organization_memberships", self.list),
        )

    def answers(self, rows: Rows, request: Request | None = None) -> Answers:
        organizations = self.organizations.by_id({row["organization_id"] for row in rows})
        user_ids = sorted({row["user_id"] for row in rows})
        members = self.store.all(f"{MEMBERS} WHERE u.id IN ({placeholders(user_ids)})", user_ids)
        users = {user["id"]: user for user in members}
        roles = self.roles.summaries()
        answers = []
        for row in rows:
            role_name, permissions = roles.get(row["role"], (row["role"], []))
            answers.append(
                {
                    "id": row["id"],
                    "object": "organization_membership",
                    "role": row["role"],
                    "role_name": role_name,
                    "permissions": list(permissions),
                    **{key: from_json(row[key], {}) for key in METADATA},
                    "organization": organization_json(organizations[row["organization_id"]]),
                    "public_user_data": public_user_data(row["user_id"], users.get(row["user_id"])),
                    "created_at": row["created_at"],
                    "updated_at": row["updated_at"],
                }
            )
        return answers

    def row(self, request: Request) -> sqlite3.Row:
        """The membership a request names by organization and user."""
        organization_id = self.organizations.row(request)["id"]
        user_id = request.path_params["user_id"]
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

    def check_body(self, form: Form) -> None:
        self.roles.check_role(form, form["role"])

    def add(
        self, org_id: str, form: Form, stated: Stated = NOT_STATED, *, dangling: bool = False
    ) -> str:
        """Store a CreateOrganizationMembership body; a seed also states the id and
        timestamps, and may keep a membership whose user is gone (``dangling``)."""
        organization = self.organizations.find(org_id)
        self.check(form, None)
        user_id = form["user_id"]
        if not dangling:
            self.users.find(user_id)
        members = self.store.one(
            "SELECT COUNT(*) AS n, sum(user_id = ?) AS it FROM clerk_memberships "
            "WHERE organization_id = ?",
            [user_id, organization["id"]],
        )
        assert members is not None
        if members["it"]:
            text = f"User {user_id} is already a member of the organization."
            raise api_error(400, "already_a_member_in_organization", "already a member", text)
        if 0 < organization["max_allowed_memberships"] <= members["n"]:
            raise api_error(
                403,
                "organization_membership_quota_exceeded",
                "membership quota exceeded",
                "The organization has reached its maximum number of memberships.",
            )
        row = {
            "id": stated.id or clerk_id("orgmem_"),
            "organization_id": organization["id"],
            "user_id": user_id,
            "role": form["role"],
            **{key: to_json(form[key] or {}) for key in METADATA},
            **stated.times(),
        }
        self.store.insert("clerk_memberships", row)
        return str(row["id"])

    def filters(self, request: Request) -> Filters:
        """An organization's members, filtered by role and by their users' fields; a user's
        memberships; or the instance's."""
        filters = Filters()
        if "organization_id" in request.path_params:
            filters.add("t.organization_id = ?", self.organizations.row(request)["id"])
            filters.add_in("t.role", query_values(request, "role"))
            return filter_users(request, filters, MEMBER_FILTERS, uid="t.user_id")
        if "user_id" in request.path_params:
            filters.add("t.user_id = ?", self.users.row(request)["id"])
        return filters

    async def create(self, request: Request) -> Response:
        form = await read_form(request, CREATE_MEMBERSHIP)
        membership_id = self.add(request.path_params["organization_id"], form)
        return self.respond(membership_id)  # documented 200

    def deleted(self, row: sqlite3.Row) -> dict[str, Any]:
        # The document answers the removed membership itself, not a DeletedObject.
        return self.answers([row])[0]
