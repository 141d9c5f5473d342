"""Organization memberships (``/user_management/organization_memberships``): one per user and
organization, with role slugs that must name environment roles, and the
active/inactive/pending lifecycle WorkOS documents."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ApiError
from ..routing import Call, Endpoint, Shape
from ..store import from_json, placeholders, to_json
from .errors import bad_request, conflict, error_body
from .fields import Fields, Rule, list_params, query_list, read_fields
from .schema import DEFAULT_ROLE, MEMBERSHIP_STATUSES
from .sessions import Sessions
from .users import user_json

TABLE = "organization_memberships"
_membership_json = Shape(
    columns=("id", "user_id", "organization_id", "status", "created_at", "updated_at"),
    constants={
        "object": "organization_membership", "directory_managed": False, "custom_attributes": {}
    },
)  # fmt: skip
# (status it moves from, status it moves to, error code when the membership is pending)
TRANSITIONS = {
    "deactivate": ("active", "inactive", "cannot_deactivate_pending_organization_membership"),
    "reactivate": ("inactive", "active", "cannot_reactivate_pending_organization_membership"),
}


class Memberships(Sessions):
    def endpoints(self) -> list[Endpoint]:
        oms, one = f"/user_management/{TABLE}", f"/user_management/{TABLE}/{{id}}"
        return [
            *super().endpoints(),
            Endpoint("GET", oms, self._list_memberships),
            Endpoint("POST", oms, lambda c: self.create_membership(c.json), 201),
            Endpoint("GET", one, lambda c: self.membership_json(c.path["id"])),
            Endpoint("PUT", one, self._update_membership),
            Endpoint("DELETE", one, lambda c: self.delete(TABLE, c.path["id"])),
            Endpoint("PUT", f"{one}/deactivate", lambda c: self._transition(c, "deactivate")),
            Endpoint("PUT", f"{one}/reactivate", lambda c: self._transition(c, "reactivate")),
        ]

    def memberships_json(self, rows: Sequence[sqlite3.Row]) -> list[dict[str, Any]]:
        """Memberships as the API answers them: with their user and organization name."""
        ids = [row["id"] for row in rows]
        joined = self.store.all(
            f"SELECT m.id AS membership_id, o.name AS organization_name, u.* FROM {TABLE} m "  # noqa: S608
            "JOIN users u ON u.id = m.user_id JOIN organizations o ON o.id = m.organization_id "
            f"WHERE m.id IN ({placeholders(ids)})",
            ids,
        )
        related = {row["membership_id"]: row for row in joined}
        return [
            {
                **_membership_json(row),
                "organization_name": related[row["id"]]["organization_name"],
                "role": {"slug": slugs[0]},
                "roles": [{"slug": slug} for slug in slugs],
                "user": user_json(related[row["id"]]),
            }
            for row in rows
            for slugs in [from_json(row["role_slugs"], [])]
        ]

    def membership_json(self, membership_id: str) -> dict[str, Any]:
        return self.memberships_json([self.row(TABLE, membership_id)])[0]

    def _parse_role_slugs(self, data: Mapping[str, Any]) -> list[str] | None:
        """``role_slug`` or ``role_slugs``; every slug must name an environment role."""
        fields = Fields(data)
        if fields.has("role_slug") and fields.has("role_slugs"):
            fields.fail("role_slugs", "conflict", "Send role_slug or role_slugs, not both.")
        elif fields.has("role_slug"):
            slugs = [fields.string("role_slug", required=True, non_empty=True)]
        elif fields.has("role_slugs"):
            slugs = fields.read([Rule("role_slugs", kind="strings", required=True)])["role_slugs"]
            if not slugs and not fields.errors:
                fields.fail("role_slugs", "required", "role_slugs must not be empty.")
        else:
            return None
        fields.check()
        unique = list(dict.fromkeys(slugs))
        if unknown := self.unknown("roles", "slug", unique):
            raise ApiError(422, error_body(f"Role '{unknown[0]}' does not exist.", "invalid_role"))
        return unique

    def _default_role_slugs(self) -> list[str]:
        """The environment's default role: ``member`` when it exists, else the first role."""
        row = self.store.find("roles", "slug", DEFAULT_ROLE)
        row = row or self.store.one("SELECT slug FROM roles ORDER BY id LIMIT 1")
        if row is None:
            message = "No role given and the environment has no roles to default to."
            raise ApiError(422, error_body(message, "invalid_role"))
        return [row["slug"]]

    def create_membership(self, data: Mapping[str, Any]) -> dict[str, Any]:
        rules = [
            Rule(name, required=True, non_empty=True) for name in ("user_id", "organization_id")
        ]
        values = read_fields(data, rules)
        user_id, organization_id = values["user_id"], values["organization_id"]
        slugs = self._parse_role_slugs(data)
        self.row("users", user_id)
        self.row("organizations", organization_id)
        existing = self.store.one(
            f"SELECT * FROM {TABLE} WHERE user_id = ? AND organization_id = ?",  # noqa: S608
            [user_id, organization_id],
        )
        if existing is None:
            row = {"user_id": user_id, "organization_id": organization_id, "status": "active"}
            row["role_slugs"] = to_json(slugs or self._default_role_slugs())
            return self.membership_json(self.insert(TABLE, "om_", row))
        if existing["status"] == "pending":
            raise bad_request(
                "cannot_reactivate_pending_organization_membership",
                "A pending membership (an open invitation) cannot be reactivated.",
            )
        if existing["status"] == "active":
            # The document lists no error for this; WorkOS's own emulator answers 409.
            raise conflict(
                "organization_membership_already_exists",
                "The user is already a member of this organization.",
            )
        # "Calling this API with an organization and user that match an inactive
        # membership will activate the membership with the specified role(s)."
        role_slugs = to_json(slugs or self._default_role_slugs())
        self.touch(TABLE, existing["id"], status="active", role_slugs=role_slugs)
        return self.membership_json(existing["id"])

    def _list_memberships(self, call: Call) -> dict[str, Any]:
        params = list_params(call.query)
        user_id, organization_id = call.query.get("user_id"), call.query.get("organization_id")
        if not user_id and not organization_id:
            raise bad_request(
                "missing_user_id_or_organization_id",
                "At least one of user_id or organization_id is required.",
            )
        statuses = query_list(call.query, "statuses") or ["active"]
        if invalid := [status for status in statuses if status not in MEMBERSHIP_STATUSES]:
            raise bad_request(
                "invalid_request_parameters",
                f"Invalid status '{invalid[0]}': use active, inactive or pending.",
            )
        conditions = {f"status IN ({placeholders(statuses)})": statuses}
        for column, value in (("user_id", user_id), ("organization_id", organization_id)):
            if value:
                conditions[f"{column} = ?"] = [value]
        return self.listing(call, TABLE, self.memberships_json, conditions, params)

    def _update_membership(self, call: Call) -> dict[str, Any]:
        row = self.row(TABLE, call.path["id"])
        slugs = self._parse_role_slugs(call.json)
        if slugs is not None:
            self.touch(TABLE, row["id"], role_slugs=to_json(slugs))
        return self.membership_json(row["id"])

    def _transition(self, call: Call, action: str) -> dict[str, Any]:
        """Deactivating an inactive membership (or reactivating an active one) does nothing;
        a pending one (an open invitation) cannot do either."""
        source, target, pending_code = TRANSITIONS[action]
        row = self.row(TABLE, call.path["id"])
        if row["status"] == "pending":
            raise bad_request(pending_code, f"A pending membership cannot be {action}d.")
        if row["status"] == source:
            self.touch(TABLE, row["id"], status=target)
        return self.membership_json(row["id"])
