"""Roles and permissions (``/api/v1/roles``, ``/api/v1/permissions``). Roles may extend one
another; Scalekit's own permissions are listed with ``is_scalekit_permission`` and cannot be
changed or deleted."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from ..routing import Call, Endpoint, Shape
from ..store import from_json, now_iso, to_json
from .errors import grpc_error, invalid, not_found
from .fields import checked, refuse
from .organizations import Organizations
from .paging import token_page
from .schema import API

ROLES, PERMISSIONS = f"{API}/roles", f"{API}/permissions"
PERMISSION_COLUMNS = ("id", "name", "description", "create_time", "update_time")
permission_json = Shape(PERMISSION_COLUMNS, flags={"is_scalekit_permission": "builtin"})
role_permission_json = Shape((*PERMISSION_COLUMNS, "role_name"))
_role_json = Shape(
    columns=("id", "name", "display_name", "description"),
    flags={"default_creator": "default_creator", "default_member": "default_member"},
    optional=("extends",),
    constants={"is_org_role": False},
)
# The permission filter of GET /permissions?type=…
PERMISSION_TYPES = {"ALL": "", "SCALEKIT": "builtin = 1", "ENVIRONMENT": "builtin = 0"}


class Authorization(Organizations):
    def endpoints(self) -> list[Endpoint]:
        role, perm = f"{ROLES}/{{role_name}}", f"{PERMISSIONS}/{{permission_name}}"
        return [
            *super().endpoints(),
            Endpoint("GET", ROLES, self._list_roles),
            Endpoint("POST", ROLES, lambda c: self.create_role(c.json), 201, "role"),
            Endpoint("GET", role, self._get_role, wrap="role"),
            Endpoint("PUT", role, self._update_role, wrap="role"),
            Endpoint("DELETE", role, self._delete_role),
            Endpoint("GET", f"{role}/permissions", self._list_role_permissions),
            Endpoint("POST", f"{role}/permissions", self._add_role_permissions),
            Endpoint("DELETE", f"{role}/permissions/{{permission_name}}", self._revoke),
            Endpoint("GET", PERMISSIONS, self._list_permissions),
            Endpoint("POST", PERMISSIONS, self._create_permission, 201, "permission"),
            Endpoint("GET", perm, self._get_permission, wrap="permission"),
            Endpoint("PUT", perm, self._update_permission, wrap="permission"),
            Endpoint("DELETE", perm, self._delete_permission),
        ]

    # ----------------------------------------------------------------- roles

    def _role_permission_rows(self, name: str) -> list[sqlite3.Row]:
        return self.store.all(
            "SELECT p.*, rp.role_name FROM role_permissions rp "
            "JOIN permissions p ON p.name = rp.permission_name "
            "WHERE rp.role_name = ? ORDER BY p.name",
            [name],
        )

    def _extends(self, name: str) -> str | None:
        row = self.store.find("roles", "name", name)
        return row["extends"] if row is not None else None

    def _chain(self, role_names: Sequence[str]) -> list[str]:
        """The roles named and every role they extend, each once (bounded depth)."""
        chain: list[str] = []
        pending = list(role_names)
        while pending and len(chain) < 64:
            name = pending.pop(0)
            if name not in chain:
                chain.append(name)
                pending += [base] if (base := self._extends(name)) else []
        return chain

    def role_json(self, row: sqlite3.Row, include: str | None = None) -> dict[str, Any]:
        dependents = self.store.one("SELECT COUNT(*) FROM roles WHERE extends = ?", [row["name"]])
        item = {**_role_json(row), "dependent_roles_count": dependents[0] if dependents else 0}
        if include in ("permissions", "permissions:all"):
            chain = self._chain([row["name"]]) if include == "permissions:all" else [row["name"]]
            item["permissions"] = [
                role_permission_json(p) for name in chain for p in self._role_permission_rows(name)
            ]
        return item

    def effective_permissions(self, role_names: Sequence[str]) -> set[str]:
        """Direct permissions of each role and of the roles it extends."""
        return {
            p["name"] for name in self._chain(role_names) for p in self._role_permission_rows(name)
        }

    def _grant(self, role: str, permissions: Sequence[str], field: str) -> None:
        """Give ``role`` each of ``permissions``, which must all exist."""
        missing = [
            (f"{field}[{index}]", f"permission {name!r} does not exist")
            for index, name in enumerate(permissions)
            if not self.store.find("permissions", "name", name)
        ]
        refuse(missing)
        now = now_iso()
        with self.store.transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO role_permissions (role_name, permission_name, "
                "create_time) VALUES (?, ?, ?)",
                [(role, permission, now) for permission in permissions],
            )

    def create_role(self, data: Mapping[str, Any]) -> dict[str, Any]:
        fields = checked(data, "role_create")
        name, permissions = fields["name"], fields.pop("permissions", None) or []
        if self.store.find("roles", "name", name):
            raise grpc_error("ALREADY_EXISTS", f"role {name} already exists")
        if fields.get("extends"):
            self.row("roles", fields["extends"])
        with self.store.transaction():
            self.add_row("roles", "role_", {**fields, "extends": fields.get("extends") or None})
            self._grant(name, permissions, "permissions")
        return self.role_json(self.row("roles", name), "permissions")

    def _update_role(self, call: Call) -> dict[str, Any]:
        """Only the fields sent change; an empty one is proto3's unset. ``permissions``, when
        sent and not empty, replaces the role's direct permissions (an empty list is the same
        as none, which is why clients remove permissions one by one)."""
        name = self.row("roles", call.path["role_name"])["name"]
        fields = checked(call.json, "role_update")
        changes = {key: value for key, value in fields.items() if value or key == "description"}
        permissions = changes.pop("permissions", None)
        if changes.get("extends"):
            self.row("roles", changes["extends"])
        with self.store.transaction():
            self.change_row("roles", name, changes, column="name")
            if permissions:
                self.store.execute("DELETE FROM role_permissions WHERE role_name = ?", [name])
                self._grant(name, permissions, "permissions")
        return self.role_json(self.row("roles", name), "permissions")

    def _list_roles(self, call: Call) -> dict[str, Any]:
        rows = self.store.all("SELECT * FROM roles ORDER BY id")
        return {"roles": [self.role_json(row, call.query.get("include")) for row in rows]}

    def _get_role(self, call: Call) -> dict[str, Any]:
        return self.role_json(self.row("roles", call.path["role_name"]), call.query.get("include"))

    def _delete_role(self, call: Call) -> dict[str, Any]:
        name = self.row("roles", call.path["role_name"])["name"]
        reassign = call.query.get("reassign_role_name")
        if self.store.find("roles", "extends", name):
            raise grpc_error("FAILED_PRECONDITION", f"role {name} has dependent roles")
        members = self.store.all("SELECT organization_id, user_id, roles FROM memberships")
        holders = [m for m in members if name in from_json(m["roles"], [])]
        if holders and not reassign:
            raise grpc_error(
                "FAILED_PRECONDITION",
                f"role {name} is assigned to {len(holders)} user(s); pass reassign_role_name",
            )
        if reassign:
            self.row("roles", reassign)
        with self.store.transaction() as conn:
            for m in holders:
                roles = [reassign if r == name else r for r in from_json(m["roles"], [])]
                conn.execute(
                    "UPDATE memberships SET roles = ? WHERE organization_id = ? AND user_id = ?",
                    [to_json(list(dict.fromkeys(roles))), m["organization_id"], m["user_id"]],
                )
            conn.execute("DELETE FROM roles WHERE name = ?", [name])
        return {}

    def _list_role_permissions(self, call: Call) -> dict[str, Any]:
        name = self.row("roles", call.path["role_name"])["name"]
        return {"permissions": permission_json.many(self._role_permission_rows(name))}

    def _add_role_permissions(self, call: Call) -> dict[str, Any]:
        names = checked(call.json, "role_permissions_add").get("permission_names") or []
        self._grant(self.row("roles", call.path["role_name"])["name"], names, "permission_names")
        return self._list_role_permissions(call)

    def _revoke(self, call: Call) -> dict[str, Any]:
        name, permission = (
            self.row("roles", call.path["role_name"])["name"],
            call.path["permission_name"],
        )
        cursor = self.store.execute(
            "DELETE FROM role_permissions WHERE role_name = ? AND permission_name = ?",
            [name, permission],
        )
        if cursor.rowcount == 0:
            raise not_found("role permission", f"{name}/{permission}")
        return {}

    # ----------------------------------------------------------------- permissions

    def create_permission(self, data: Mapping[str, Any]) -> dict[str, Any]:
        fields = checked(data, "permission_create")
        if self.store.find("permissions", "name", fields["name"]):
            raise grpc_error("ALREADY_EXISTS", f"permission {fields['name']} already exists")
        self.add_row("permissions", "perm_", {"description": "", **fields})
        return permission_json(self.row("permissions", fields["name"]))

    def _create_permission(self, call: Call) -> dict[str, Any]:
        return self.create_permission(call.json)

    def _get_permission(self, call: Call) -> dict[str, Any]:
        return permission_json(self.row("permissions", call.path["permission_name"]))

    def _list_permissions(self, call: Call) -> dict[str, Any]:
        where = PERMISSION_TYPES.get(call.query.get("type") or "ALL")
        if where is None:
            raise invalid("type must be ALL, SCALEKIT or ENVIRONMENT")
        return token_page(
            self.store, "permissions", call.query, permission_json.many, (1, 100, 30), where
        )

    def _update_permission(self, call: Call) -> dict[str, Any]:
        name = call.path["permission_name"]
        row = self.row("permissions", name)
        fields = checked(call.json, "permission_update")
        if fields.get("name") and fields["name"] != name:
            raise invalid("a permission's name cannot be changed", [("name", "immutable")])
        if row["builtin"]:
            raise grpc_error("PERMISSION_DENIED", f"{name} is a Scalekit permission")
        if "description" in fields:
            self.change_row("permissions", name, fields, column="name")
        return self._get_permission(call)

    def _delete_permission(self, call: Call) -> dict[str, Any]:
        name = call.path["permission_name"]
        if self.row("permissions", name)["builtin"]:
            raise grpc_error("PERMISSION_DENIED", f"{name} is a Scalekit permission")
        assigned = self.store.all(
            "SELECT role_name FROM role_permissions WHERE permission_name = ?", [name]
        )
        if assigned:
            roles = ", ".join(sorted(r["role_name"] for r in assigned))
            raise grpc_error(
                "FAILED_PRECONDITION", f"permission {name} is assigned to role(s) {roles}"
            )
        self.store.execute("DELETE FROM permissions WHERE name = ?", [name])
        return {}
