"""Organization permissions and roles (``/v1/organization_permissions``,
``/v1/organization_roles``), with Clerk's system permissions and default roles: two
collections with a unique ``key``."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from ..store import SqliteStore
from .collection import Collection, Unique
from .family import Operation, api_error
from .forms import Form, Rule, body

# Clerk's default organization roles and their system permissions
# (https://clerk.com/docs/organizations/roles-permissions). Instances that enabled
# organizations before December 2023 use ``admin`` / ``basic_member`` instead; a seed adds
# those (the tests' ``seed_from_clerk_export`` does when the export's memberships use them).
SYSTEM_PERMISSION_NAMES: Final = {  # as Clerk's dashboard lists them
    "org:sys_profile:manage": "Manage organization",
    "org:sys_profile:delete": "Delete organization",
    "org:sys_memberships:read": "Read members",
    "org:sys_memberships:manage": "Manage members",
    "org:sys_domains:read": "Read domains",
    "org:sys_domains:manage": "Manage domains",
}
# (key, name, permissions)
DEFAULT_ROLES: Final[tuple[tuple[str, str, tuple[str, ...]], ...]] = (
    ("org:admin", "Admin", tuple(SYSTEM_PERMISSION_NAMES)),
    ("org:member", "Member", ("org:sys_memberships:read",)),
)
CREATOR_ROLES: Final = ("org:admin", "admin")
SYSTEM_PERMISSION_PREFIX: Final = "org:sys_"
# A creator role must be able to run the organization it creates (the emulator's reading of
# Role.is_creator_eligible; Clerk does not document the rule).
CREATOR_PERMISSION: Final = "org:sys_memberships:manage"
# CreateOrganizationRole: "The key must ... start with the 'org:' prefix, followed by
# lowercase alphanumeric characters and underscores only." CreateOrganizationPermission:
# "org:feature:action" with segments of lowercase letters, digits or underscores, and not
# "org:sys_", which is reserved for system permissions.
ROLE_KEY: Final = Rule(
    pattern=re.compile(r"org:[a-z0-9_]+"),
    invalid="key must start with 'org:' and contain only lowercase alphanumeric characters "
    "and underscores.",
)
PERMISSION_KEY: Final = Rule(
    pattern=re.compile(r"org:[a-z0-9_]+:[a-z0-9_]+"),
    invalid='key must have the format "org:feature:action", where feature and action consist '
    "of lowercase letters, digits or underscores.",
)
KEYED_ORDER: Final = {"created_at": "t.created_at", "name": "lower(t.name)", "key": "t.key"}
KEY_TAKEN: Final = (Unique("key", "That key is taken. Please try another."),)


class Permissions(Collection):
    table, noun, object = "clerk_permissions", "permission", "permission"
    path, order, unique = "/organization_permissions", KEYED_ORDER, KEY_TAKEN
    prefix = "perm_"
    # The document's bodies are open here (no additionalProperties: false).
    update_rules = body("name key description", key=PERMISSION_KEY)
    create_rules = body("name! key! description", key=PERMISSION_KEY)
    open_body = True

    def add(self, key: str, name: str, description: str = "", *, kind: str = "user") -> str:
        """The id of permission ``key``, created (as ``kind``: system or user) if missing."""
        row = self.store.find(self.table, "key", key)
        if row is not None:
            return str(row["id"])
        return self.insert({"key": key, "name": name, "description": description, "type": kind})

    def created(self, form: Form) -> str:
        return self.add(form["key"], form["name"], form["description"] or "")

    def check_body(self, form: Form) -> None:
        if (form["key"] or "").startswith(SYSTEM_PERMISSION_PREFIX):
            form.invalid("key", "Permission keys cannot begin with org:sys_, which is reserved.")

    def check_change(self, row: sqlite3.Row, action: str) -> None:
        if row["type"] == "system":
            text = f"System permissions cannot be {action}."
            raise api_error(403, "authorization_invalid", text, text)


class Roles(Collection):
    table, noun, object = "clerk_org_roles", "organization role", "role"
    path, order, unique = "/organization_roles", KEYED_ORDER, KEY_TAKEN
    prefix = "role_"
    update_rules = body("name key description permissions", key=ROLE_KEY)
    # Role sets are not emulated: every role is assignable in every organization, as in an
    # instance whose organizations all use the initial role set.
    create_rules = body(
        "name! key! description permissions include_in_initial_role_set", key=ROLE_KEY
    )

    def __init__(self, store: SqliteStore) -> None:
        super().__init__(store)
        self.permissions = Permissions(store)

    def operations(self) -> Sequence[Operation]:
        grant = f"{self.path}/{{role_id}}/permissions/{{permission_id}}"
        return (
            *self.permissions.operations(),
            *super().operations(),
            ("POST", grant, self.assign),
            ("DELETE", grant, self.remove),
        )

    def add_defaults(self) -> None:
        """What every instance starts with: Clerk's system permissions and default roles."""
        for key, name in SYSTEM_PERMISSION_NAMES.items():
            self.permissions.add(key, name, kind="system")
        for key, name, permissions in DEFAULT_ROLES:
            self.add(key, name, permissions)

    def add(
        self, key: str, name: str, permissions: Sequence[str], description: str | None = None
    ) -> str:
        """The id of role ``key``, created with ``permissions`` (keys) if missing; a permission
        it names that does not exist yet is created, system or not by its prefix."""
        row = self.store.find(self.table, "key", key)
        if row is not None:
            return str(row["id"])
        with self.store.transaction() as conn:
            role_id = self.insert({"key": key, "name": name, "description": description}, conn)
            for permission in permissions:
                system = permission.startswith(SYSTEM_PERMISSION_PREFIX)
                named = SYSTEM_PERMISSION_NAMES.get(permission, permission)
                kind = "system" if system else "user"
                self._grant(conn, role_id, [self.permissions.add(permission, named, kind=kind)])
        return role_id

    def summaries(self) -> dict[str, tuple[str, list[str]]]:
        """Role key → its name and permission keys: what memberships show of their role."""
        found: dict[str, tuple[str, list[str]]] = {}
        for row in self.store.all(
            "SELECT r.key, r.name, p.key AS permission FROM clerk_org_roles AS r "
            "LEFT JOIN clerk_role_permissions AS rp ON rp.role_id = r.id "
            "LEFT JOIN clerk_permissions AS p ON p.id = rp.permission_id "
            "ORDER BY r.created_at, r.rowid, p.created_at, p.rowid"
        ):
            _, permissions = found.setdefault(row["key"], (row["name"], []))
            if row["permission"] is not None:
                permissions.append(row["permission"])
        return found

    def creator_role(self) -> str:
        roles = self.summaries()
        return next((key for key in CREATOR_ROLES if key in roles), next(iter(roles)))

    def check_role(self, form: Form, role: str | None) -> None:
        if role is not None and role not in self.summaries():
            text = f"There is no role with key {role} in this instance."
            form.fail("form_param_value_invalid", "role", "is invalid", text)

    def answer(self, row: sqlite3.Row) -> dict[str, Any]:
        permissions = self.store.all(
            "SELECT p.* FROM clerk_role_permissions AS rp JOIN clerk_permissions AS p "
            "ON p.id = rp.permission_id WHERE rp.role_id = ? ORDER BY p.created_at, p.rowid",
            [row["id"]],
        )
        return {
            "object": "role",
            **{key: row[key] for key in ("id", "name", "key", "description")},
            "is_creator_eligible": any(p["key"] == CREATOR_PERMISSION for p in permissions),
            "permissions": self.permissions.answers(permissions),
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        }

    def _permission_ids(self, form: Form) -> list[str] | None:
        for permission_id in form["permissions"] or []:
            self.permissions.find(permission_id)  # 404 names the unknown id
        return None if form["permissions"] is None else list(dict.fromkeys(form["permissions"]))

    def _grant(self, conn: sqlite3.Connection, role_id: str, ids: Sequence[str]) -> None:
        """Give role ``role_id`` the permissions ``ids`` (those it has already stay)."""
        conn.executemany(
            "INSERT OR IGNORE INTO clerk_role_permissions (role_id, permission_id) VALUES (?, ?)",
            [(role_id, permission_id) for permission_id in ids],
        )

    def created(self, form: Form) -> str:
        permission_ids = self._permission_ids(form) or []
        role_id = self.add(form["key"], form["name"], [], form["description"])
        with self.store.transaction() as conn:
            self._grant(conn, role_id, permission_ids)
        return role_id

    def updated(self, conn: sqlite3.Connection, row: sqlite3.Row, form: Form) -> None:
        if form["key"] not in (None, row["key"]):
            # "updating the key will cascade": members keep their role under its new key.
            sql = "UPDATE clerk_memberships SET role = ? WHERE role = ?"
            conn.execute(sql, [form["key"], row["key"]])
        permission_ids = self._permission_ids(form)
        if permission_ids is not None:  # "If provided, this will replace the existing"
            conn.execute("DELETE FROM clerk_role_permissions WHERE role_id = ?", [row["id"]])
            self._grant(conn, row["id"], permission_ids)

    def check_change(self, row: sqlite3.Row, action: str) -> None:
        """ "The role cannot be deleted if it is currently used as the default creator role,
        domain default role, assigned to any members, or exists in any invitations." (Clerk
        documents the rule, not its error codes; these name the reason.)"""
        if action != "deleted":
            return
        key = row["key"]
        if key == self.creator_role():
            text = f"The role {key} is the creator role of new organizations and cannot be deleted."
            raise api_error(422, "organization_role_is_creator_role", "role in use", text)
        if self.store.one("SELECT 1 FROM clerk_memberships WHERE role = ? LIMIT 1", [key]):
            text = f"The role {key} is assigned to organization members and cannot be deleted."
            raise api_error(422, "organization_role_assigned_to_members", "role in use", text)

    async def _pair(self, request: Request) -> tuple[sqlite3.Row, sqlite3.Row, list[str]]:
        role = self.find(request.path_params["role_id"])
        permission = self.permissions.find(request.path_params["permission_id"])
        return role, permission, [role["id"], permission["id"]]

    async def assign(self, request: Request) -> Response:
        role, permission, pair = await self._pair(request)
        if self.store.one(
            "SELECT 1 FROM clerk_role_permissions WHERE role_id = ? AND permission_id = ?", pair
        ):
            text = f"The role {role['key']} already has the permission {permission['key']}."
            raise api_error(409, "duplicate_record", "duplicate", text)
        with self.store.transaction() as conn:
            self._grant(conn, role["id"], [permission["id"]])
        return self.respond(role["id"])

    async def remove(self, request: Request) -> Response:
        role, permission, pair = await self._pair(request)
        removed = self.store.execute(
            "DELETE FROM clerk_role_permissions WHERE role_id = ? AND permission_id = ?", pair
        )
        if removed.rowcount == 0:
            text = f"The role {role['key']} does not have the permission {permission['key']}."
            raise api_error(404, "resource_not_found", "not found", text)
        return self.respond(role["id"])
