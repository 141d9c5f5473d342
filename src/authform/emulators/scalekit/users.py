"""Users (``/api/v1/users``, ``/api/v1/organizations/{id}/users``). A Scalekit user always
belongs to an organization: it is created together with its first membership, and its
answer lists every membership with the roles' effective permissions.

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
from .fields import Rule, Violations, bool_param, only_fields, read
from .organizations import ORGS
from .paging import token_page
from .schema import API, EMAIL_PATTERN
from .tokens import new_id

USERS = f"{API}/users"
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
PROFILE_RULES = (
    *(
        Rule(name, max_length=255)
        for name in ("given_name", "family_name", "first_name", "last_name", "name")
    ),
    *(Rule(name) for name in ("locale", "phone_number", "preferred_username", "picture", "gender")),
    Rule("metadata", kind="map"),
    Rule("custom_attributes", kind="map"),
)
PROFILE_ALIASES = {"first_name": "given_name", "last_name": "family_name"}
EXTERNAL_ID = Rule("external_id", max_length=255)
CREATE_RULES = (
    Rule(
        "email", required=True, max_length=254, pattern=EMAIL_PATTERN,
        hint="is not a valid email address",
    ),
    EXTERNAL_ID,
    Rule("metadata", kind="map"),
)  # fmt: skip
MEMBERSHIP_FIELDS = ("roles", "metadata", "inviter_email")
MEMBERSHIP_RULES = (Rule("metadata", kind="map"), Rule("inviter_email", pattern=EMAIL_PATTERN))


def _object(data: Mapping[str, Any], name: str, problems: Violations) -> Mapping[str, Any]:
    value = data.get(name) or {}
    if not isinstance(value, dict):
        problems.add(name, "must be an object")
        return {}
    return value


class Users(Authorization):
    def endpoints(self) -> list[Endpoint]:
        org_users = f"{ORGS}/{{organization_id}}/users"
        return [
            *super().endpoints(),
            Endpoint("GET", org_users, self._list_organization_users),
            Endpoint("POST", org_users, self._create_user_and_membership, 201, "user"),
            Endpoint("GET", USERS, self._list_users),
            *(
                endpoint
                for user in (f"{USERS}:external/{{external_id}}", f"{USERS}/{{id}}")
                for endpoint in (
                    Endpoint(
                        "GET", user, lambda c: self.user_json(self.user_row(c)["id"]), wrap="user"
                    ),
                    Endpoint("PATCH", user, self._update_user, wrap="user"),
                    Endpoint("DELETE", user, self._delete_user),
                )
            ),
        ]

    def user_row(self, call_or_id: Call | str) -> sqlite3.Row:
        """By ``{id}`` or ``{external_id}`` in the path, or by a plain id."""
        if isinstance(call_or_id, str):
            column, value = "id", call_or_id
        elif "external_id" in call_or_id.path:
            column, value = "external_id", call_or_id.path["external_id"]
        else:
            column, value = "id", call_or_id.path["id"]
        row = self.store.find("users", column, value)
        if row is None:
            raise not_found("user" if column == "id" else "user with external_id", value)
        return row

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
        return self.users_json([self.user_row(user_id)])[0]

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

    def parse_membership(
        self, data: Mapping[str, Any], problems: Violations, where: str = ""
    ) -> tuple[list[str] | None, dict[str, str] | None, str | None]:
        """``(role names, metadata, inviter email)`` of a membership body."""
        only_fields(data, MEMBERSHIP_FIELDS, where)
        roles: list[str] | None = None
        field = f"{where}.roles" if where else "roles"
        if "roles" in data:
            raw = data["roles"]
            if not isinstance(raw, list):
                problems.add(field, "must be a list of {name}")
                raw = []
            roles = []
            for index, item in enumerate(raw):
                name = item.get("name") if isinstance(item, dict) else None
                if isinstance(item, dict):
                    only_fields(item, ("id", "name", "display_name"), f"{field}[{index}]")
                if not isinstance(name, str) or not name:
                    problems.add(f"{field}[{index}].name", "is required")
                elif not self.store.find("roles", "name", name):
                    problems.add(f"{field}[{index}].name", f"role {name!r} does not exist")
                else:
                    roles.append(name)
        values = read(data, MEMBERSHIP_RULES, problems, where)
        return roles, values.get("metadata"), values.get("inviter_email")

    def insert_membership(
        self,
        conn: sqlite3.Connection,
        organization_id: str,
        user_id: str,
        email: str,
        parsed: tuple[list[str] | None, dict[str, str] | None, str | None],
        *,
        send_invitation: bool,
    ) -> None:
        roles, metadata, inviter = parsed
        if not roles:
            default = self.store.one("SELECT name FROM roles WHERE default_member = 1 ORDER BY id")
            roles = [default["name"]] if default else []
        now = now_iso()
        row: dict[str, Any] = {"organization_id": organization_id, "user_id": user_id}
        row.update(
            join_time=now,
            membership_status="PENDING_INVITE" if send_invitation else "ACTIVE",
            roles=to_json(roles),
            metadata=to_json(metadata or {}),
            inviter_email=inviter or None,
            accepted_at=None if send_invitation else now,
        )
        self.store.insert("memberships", row, conn)
        if send_invitation:
            invitation = {"kind": "invitation", "email": email, "sent_at": now}
            self.store.insert("outbox", {**invitation, "organization_id": organization_id}, conn)

    def _profile(self, data: Mapping[str, Any], problems: Violations) -> dict[str, Any]:
        only_fields(data, [*(rule.name for rule in PROFILE_RULES), "groups"], "user_profile")
        profile = {
            PROFILE_ALIASES.get(name, name): value or ({} if rule.kind == "map" else "")
            for rule in PROFILE_RULES
            for name, value in read(data, [rule], problems, "user_profile").items()
        }
        if "groups" in data:
            groups = data["groups"]
            if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
                problems.add("user_profile.groups", "must be a list of strings")
            else:
                profile["groups"] = list(groups)
        return profile

    def create_user_and_membership(
        self, organization_id: str, data: Mapping[str, Any], *, send_invitation: bool
    ) -> dict[str, Any]:
        self.row("organizations", organization_id)
        only_fields(data, ("email", "external_id", "metadata", "user_profile", "membership"))
        problems = Violations()
        values = read(data, CREATE_RULES, problems)
        profile = self._profile(_object(data, "user_profile", problems), problems)
        membership = _object(data, "membership", problems)
        parsed = self.parse_membership(membership, problems, "membership")
        problems.check()
        email = values["email"].strip()
        if self.store.find("users", "email_key", email.lower()):
            raise grpc_error("ALREADY_EXISTS", f"a user with email {email} already exists")
        if external_id := values.get("external_id"):
            self.check_external_id_free("users", external_id, None)
        user_id, now = new_id("usr_"), now_iso()
        row = {"id": user_id, "email": email, "email_key": email.lower()}
        row.update(
            external_id=external_id or None,
            metadata=to_json(values.get("metadata") or {}),
            profile=to_json(profile),
            # Without an invitation the membership is active and the email verified.
            email_verified=not send_invitation,
            create_time=now,
            update_time=now,
        )
        with self.store.transaction() as conn:
            self.store.insert("users", row, conn)
            self.insert_membership(
                conn, organization_id, user_id, email, parsed, send_invitation=send_invitation
            )
        return self.user_json(user_id)

    def update_user(self, user_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        row = self.user_row(user_id)
        only_fields(data, ("external_id", "metadata", "user_profile"))
        problems = Violations()
        values = read(data, CREATE_RULES[1:], problems)
        changes: dict[str, Any] = {}
        if "external_id" in values:
            changes["external_id"] = values["external_id"] or None
        if "metadata" in values:
            changes["metadata"] = to_json(values["metadata"] or {})
        if "user_profile" in data:
            raw = data["user_profile"]
            if not isinstance(raw, dict):
                problems.add("user_profile", "must be an object")
                raw = {}
            profile = {**from_json(row["profile"], {}), **self._profile(raw, problems)}
            changes["profile"] = to_json(profile)
        problems.check()
        if changes.get("external_id"):
            self.check_external_id_free("users", changes["external_id"], user_id)
        changes["update_time"] = now_iso()
        self.store.update("users", changes, "id = ?", [user_id])
        return self.user_json(user_id)

    def _list_users(self, call: Call) -> dict[str, Any]:
        return token_page(
            self.store, "users", call.query, "users", self.users_json, sizes=(10, 100, 10)
        )

    def _list_organization_users(self, call: Call) -> dict[str, Any]:
        organization_id = self.row("organizations", call.path["organization_id"])["id"]
        return token_page(
            self.store, "users", call.query, "users", self.users_json, sizes=(1, 100, 10),
            where="id IN (SELECT user_id FROM memberships WHERE organization_id = ?)",
            params=[organization_id],
        )  # fmt: skip

    def _create_user_and_membership(self, call: Call) -> dict[str, Any]:
        body = call.json  # a malformed body is refused first
        send_invitation = bool_param(call.query, "send_invitation_email", True)
        organization_id = call.path["organization_id"]
        return self.create_user_and_membership(
            organization_id, body, send_invitation=send_invitation
        )

    def _update_user(self, call: Call) -> dict[str, Any]:
        body = call.json
        return self.update_user(self.user_row(call)["id"], body)

    def _delete_user(self, call: Call) -> dict[str, Any]:
        self.store.execute("DELETE FROM users WHERE id = ?", [self.user_row(call)["id"]])
        return {}
