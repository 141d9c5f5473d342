"""Users and their memberships (``/api/v1/users``, ``/api/v1/organizations/{id}/users``,
``/api/v1/memberships/organizations/{id}/users/…``). A Scalekit user always belongs to an
organization: it is created together with its first membership, and its answer lists every
membership with the roles' effective permissions.

Users created with ``send_invitation_email=false`` are active and verified at once (as the
migration guide says); with the default ``true`` an invitation is "sent": it lands in
``GET /_emulate/emails`` so tests can prove a migration emailed nobody."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from ..routing import Call, Endpoint, Shape
from ..store import from_json, now_iso, placeholders, to_json
from .authorization import Authorization
from .errors import grpc_error, not_found
from .fields import bool_param, checked, refuse
from .organizations import ORGS
from .paging import token_page
from .schema import API

USERS, MEMBERS = f"{API}/users", f"{API}/memberships/organizations/{{organization_id}}/users"
_user_json = Shape(
    columns=("id", "email", "create_time", "update_time"),
    documents={"metadata": {}},
    optional=("external_id",),
)
_membership_json = Shape(
    columns=("organization_id", "join_time", "membership_status"),
    documents={"metadata": {}},
    optional=("inviter_email", "accepted_at"),
)
# Profile fields stored under Scalekit's names; a null one is stored empty.
PROFILE_ALIASES = {"first_name": "given_name", "last_name": "family_name"}
PROFILE_EMPTY: dict[str, Any] = {"metadata": {}, "custom_attributes": {}, "groups": []}


class Users(Authorization):
    def endpoints(self) -> list[Endpoint]:
        org_users = f"{ORGS}/{{organization_id}}/users"
        keys = (":external/{external_id}", "/{id}")
        return [
            *super().endpoints(),
            Endpoint("GET", org_users, self._list_organization_users),
            Endpoint("POST", org_users, self._create_user_and_membership, 201, "user"),
            Endpoint("GET", USERS, self._list_users),
            *(
                endpoint
                for user, member in ((f"{USERS}{key}", f"{MEMBERS}{key}") for key in keys)
                for endpoint in (
                    Endpoint("GET", user, self._get_user, wrap="user"),
                    Endpoint("PATCH", user, self._update_user, wrap="user"),
                    Endpoint("DELETE", user, self._delete_user),
                    Endpoint("POST", member, self._create_membership, 201, "user"),
                    Endpoint("PATCH", member, self._update_membership, wrap="user"),
                    Endpoint("DELETE", member, self._delete_membership),
                )
            ),
        ]

    # ----------------------------------------------------------------- answers

    def users_json(self, rows: Sequence[sqlite3.Row]) -> list[dict[str, Any]]:
        ids = [row["id"] for row in rows]
        memberships: dict[str, list[dict[str, Any]]] = {user_id: [] for user_id in ids}
        for m in self.store.all(
            "SELECT m.*, o.display_name AS org_name FROM memberships m "
            "JOIN organizations o ON o.id = m.organization_id "
            f"WHERE m.user_id IN ({placeholders(ids)}) ORDER BY m.organization_id",
            ids,
        ):
            memberships[m["user_id"]].append(self._membership_json(m))
        return [
            {
                **_user_json(row),
                "user_profile": {
                    "id": "usp_" + row["id"].removeprefix("usr_"),
                    **from_json(row["profile"], {}),
                    "email_verified": bool(row["email_verified"]),
                    "phone_number_verified": False,
                },
                "memberships": memberships[row["id"]],
            }
            for row in rows
        ]

    def user_json(self, user_id: str) -> dict[str, Any]:
        return self.users_json([self.row("users", user_id)])[0]

    def _membership_json(self, row: sqlite3.Row) -> dict[str, Any]:
        role_names: list[str] = from_json(row["roles"], [])
        roles = [
            {"id": role["id"], "name": role["name"], "display_name": role["display_name"]}
            for role in (self.store.find("roles", "name", name) for name in role_names)
            if role is not None
        ]
        return {
            **_membership_json(row),
            "roles": roles,
            "name": row["org_name"],
            "display_name": row["org_name"],
            "created_at": row["join_time"],
            "permissions": sorted(self.effective_permissions(role_names)),
        }

    # ----------------------------------------------------------------- users

    def create_user_and_membership(
        self, organization_id: str, data: Mapping[str, Any], *, send_invitation: bool
    ) -> dict[str, Any]:
        self.row("organizations", organization_id)
        fields = checked(data, "user_create")
        email = fields["email"]
        if self.store.find("users", "email_key", email.lower()):
            raise grpc_error("ALREADY_EXISTS", f"a user with email {email} already exists")
        if external_id := fields.get("external_id"):
            self.check_external_id_free("users", external_id, None)
        row = {"email": email, "email_key": email.lower(), "external_id": external_id or None}
        row.update(
            metadata=fields.get("metadata") or {},
            profile=_profile(data.get("user_profile")),
            # Without an invitation the membership is active and the email verified.
            email_verified=not send_invitation,
        )
        with self.store.transaction():  # a refused membership leaves no user behind
            user_id = self.add_row("users", "usr_", row)
            membership = fields.get("membership") or {}
            return self.create_membership(
                organization_id, user_id, membership, send_invitation=send_invitation,
                where="membership.",
            )  # fmt: skip

    def _create_user_and_membership(self, call: Call) -> dict[str, Any]:
        body = call.json  # a malformed body is refused first
        send_invitation = bool_param(call.query, "send_invitation_email", True)
        return self.create_user_and_membership(
            call.path["organization_id"], body, send_invitation=send_invitation
        )

    def _get_user(self, call: Call) -> dict[str, Any]:
        return self.user_json(self.keyed_row("users", call)["id"])

    def _update_user(self, call: Call) -> dict[str, Any]:
        row = self.keyed_row("users", call)
        fields = checked(call.json, "user_update")
        changes: dict[str, Any] = {}
        if "external_id" in fields:
            changes["external_id"] = fields["external_id"] or None
            if changes["external_id"]:
                self.check_external_id_free("users", fields["external_id"], row["id"])
        if "metadata" in fields:
            changes["metadata"] = fields["metadata"]
        if "user_profile" in fields:
            profile = _profile(call.json["user_profile"])
            changes["profile"] = {**from_json(row["profile"], {}), **profile}
        self.change_row("users", row["id"], changes)
        return self.user_json(row["id"])

    def _delete_user(self, call: Call) -> dict[str, Any]:
        self.store.execute("DELETE FROM users WHERE id = ?", [self.keyed_row("users", call)["id"]])
        return {}

    def _list_users(self, call: Call) -> dict[str, Any]:
        return token_page(self.store, "users", call.query, self.users_json, (10, 100, 10))

    def _list_organization_users(self, call: Call) -> dict[str, Any]:
        organization_id = self.row("organizations", call.path["organization_id"])["id"]
        return token_page(
            self.store, "users", call.query, self.users_json, (1, 100, 10),
            "id IN (SELECT user_id FROM memberships WHERE organization_id = ?)", [organization_id],
        )  # fmt: skip

    # ----------------------------------------------------------------- memberships

    def create_membership(
        self,
        organization_id: str,
        user_id: str,
        data: Mapping[str, Any],
        *,
        send_invitation: bool,
        where: str = "",
    ) -> dict[str, Any]:
        """Add an existing user to an organization (``where`` prefixes the fields a refusal
        names: the body may be part of a user's)."""
        self.row("organizations", organization_id)
        email = self.row("users", user_id)["email"]
        fields = checked(data, "membership_create")
        roles = self._role_names(fields, where)
        if self._membership(organization_id, user_id) is not None:
            message = f"user {user_id} is already a member of {organization_id}"
            raise grpc_error("ALREADY_EXISTS", message)
        if not roles:
            default = self.store.one("SELECT name FROM roles WHERE default_member = 1 ORDER BY id")
            roles = [default["name"]] if default else []
        now = now_iso()
        row: dict[str, Any] = {"organization_id": organization_id, "user_id": user_id}
        row.update(
            join_time=now,
            membership_status="PENDING_INVITE" if send_invitation else "ACTIVE",
            roles=to_json(roles),
            metadata=to_json(fields.get("metadata") or {}),
            inviter_email=fields.get("inviter_email") or None,
            accepted_at=None if send_invitation else now,
        )
        with self.store.transaction() as conn:
            self.store.insert("memberships", row, conn)
            if send_invitation:
                invitation = {"kind": "invitation", "email": email, "sent_at": now}
                outbox = {**invitation, "organization_id": organization_id}
                self.store.insert("outbox", outbox, conn)
        return self.user_json(user_id)

    def _create_membership(self, call: Call) -> dict[str, Any]:
        body = call.json
        organization_id = self.row("organizations", call.path["organization_id"])["id"]
        return self.create_membership(
            organization_id,
            self.keyed_row("users", call)["id"],
            body,
            send_invitation=bool_param(call.query, "send_invitation_email", True),
        )

    def _role_names(self, membership: Mapping[str, Any], where: str = "") -> list[str] | None:
        """The role names a membership body sets (``None`` if it sends none); each must
        exist."""
        if "roles" not in membership:
            return None
        names = [role["name"] for role in membership["roles"]]
        refuse(
            [
                (f"{where}roles[{index}].name", f"role {name!r} does not exist")
                for index, name in enumerate(names)
                if not self.store.find("roles", "name", name)
            ]
        )
        return names

    def _membership(self, organization_id: str, user_id: str) -> sqlite3.Row | None:
        return self.store.one(
            "SELECT * FROM memberships WHERE organization_id = ? AND user_id = ?",
            [organization_id, user_id],
        )

    def _member(self, call: Call) -> list[str]:
        """``[organization id, user id]`` of the membership the path names; 404 if none."""
        organization_id = self.row("organizations", call.path["organization_id"])["id"]
        user_id = self.keyed_row("users", call)["id"]
        if self._membership(organization_id, user_id) is None:
            raise not_found("membership", f"{organization_id}/{user_id}")
        return [organization_id, user_id]

    def _update_membership(self, call: Call) -> dict[str, Any]:
        body = call.json
        key = self._member(call)
        fields = checked(body, "membership_update")
        roles = self._role_names(fields)
        changes = {"roles": to_json(roles)} if roles is not None else {}
        if "metadata" in fields:
            changes["metadata"] = to_json(fields["metadata"])
        self.store.update("memberships", changes, "organization_id = ? AND user_id = ?", key)
        return self.user_json(key[1])

    def _delete_membership(self, call: Call) -> dict[str, Any]:
        where = "organization_id = ? AND user_id = ?"
        self.store.execute(f"DELETE FROM memberships WHERE {where}", self._member(call))  # noqa: S608
        return {}


def _profile(raw: Any) -> dict[str, Any]:
    """A (checked) ``user_profile`` as stored: Scalekit's field names, nulls stored empty."""
    return {
        PROFILE_ALIASES.get(name, name): PROFILE_EMPTY.get(name, "") if value is None else value
        for name, value in (raw or {}).items()
    }
