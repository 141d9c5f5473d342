"""Memberships of an existing user in another organization
(``/api/v1/memberships/organizations/{organization_id}/users/{id or :external/…}``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from ..routing import Call, Endpoint
from ..store import to_json
from .errors import grpc_error, not_found
from .fields import Violations, bool_param, only_fields
from .schema import API
from .users import Users

MEMBERS = f"{API}/memberships/organizations/{{organization_id}}/users"


class Memberships(Users):
    def endpoints(self) -> list[Endpoint]:
        return [
            *super().endpoints(),
            *(
                endpoint
                for member in (f"{MEMBERS}:external/{{external_id}}", f"{MEMBERS}/{{id}}")
                for endpoint in (
                    Endpoint("POST", member, self._create_membership, 201, "user"),
                    Endpoint("PATCH", member, self._update_membership, wrap="user"),
                    Endpoint("DELETE", member, self._delete_membership),
                )
            ),
        ]

    def create_membership(
        self, organization_id: str, user_id: str, data: Mapping[str, Any], *, send_invitation: bool
    ) -> dict[str, Any]:
        self.row("organizations", organization_id)
        user = self.user_row(user_id)
        problems = Violations()
        parsed = self.parse_membership(data, problems)
        problems.check()
        if self._membership(organization_id, user_id) is not None:
            raise grpc_error(
                "ALREADY_EXISTS", f"user {user_id} is already a member of {organization_id}"
            )
        with self.store.transaction() as conn:
            self.insert_membership(
                conn, organization_id, user_id, user["email"], parsed,
                send_invitation=send_invitation,
            )  # fmt: skip
        return self.user_json(user_id)

    def _membership(self, organization_id: str, user_id: str) -> sqlite3.Row | None:
        return self.store.one(
            "SELECT * FROM memberships WHERE organization_id = ? AND user_id = ?",
            [organization_id, user_id],
        )

    def _member(self, call: Call) -> tuple[str, str]:
        """``(organization id, user id)`` of the membership the path names; 404 if none."""
        organization_id = self.row("organizations", call.path["organization_id"])["id"]
        user_id = self.user_row(call)["id"]
        if self._membership(organization_id, user_id) is None:
            raise not_found("membership", f"{organization_id}/{user_id}")
        return organization_id, user_id

    def _create_membership(self, call: Call) -> dict[str, Any]:
        body = call.json
        organization_id = self.row("organizations", call.path["organization_id"])["id"]
        return self.create_membership(
            organization_id,
            self.user_row(call)["id"],
            body,
            send_invitation=bool_param(call.query, "send_invitation_email", True),
        )

    def _update_membership(self, call: Call) -> dict[str, Any]:
        body = call.json
        organization_id, user_id = self._member(call)
        only_fields(body, ("roles", "metadata"))
        problems = Violations()
        roles, metadata, _ = self.parse_membership(body, problems)
        problems.check()
        changes: dict[str, Any] = {}
        if roles is not None:
            changes["roles"] = to_json(roles)
        if metadata is not None:
            changes["metadata"] = to_json(metadata)
        where = "organization_id = ? AND user_id = ?"
        self.store.update("memberships", changes, where, [organization_id, user_id])
        return self.user_json(user_id)

    def _delete_membership(self, call: Call) -> dict[str, Any]:
        organization_id, user_id = self._member(call)
        self.store.execute(
            "DELETE FROM memberships WHERE organization_id = ? AND user_id = ?",
            [organization_id, user_id],
        )
        return {}
