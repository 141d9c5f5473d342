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
from .fields import Rule, Violations, checked, only_fields, read
from .organizations import Organizations
from .paging import token_page
from .schema import API, PERMISSION_NAME_PATTERN, ROLE_NAME_PATTERN
from .tokens import new_id

ROLES, PERMISSIONS = f"{API}/roles", f"{API}/permissions"
permission_json = Shape(
    columns=("id", "name", "description", "create_time", "update_time"),
    flags={"is_scalekit_permission": "builtin"},
)
role_permission_json = Shape(
    columns=("id", "name", "description", "create_time", "update_time", "role_name")
)
_role_json = Shape(
    columns=("id", "name", "display_name", "description"),
    flags={"default_creator": "default_creator", "default_member": "default_member"},
    optional=("extends",),
    constants={"is_org_role": False},
)
DESCRIPTION = Rule("description", max_length=2000)
PERMISSIONS_RULE = Rule("permissions", kind="strings")
ROLE_RULES = (
    Rule(
        "name", required=True, pattern=ROLE_NAME_PATTERN,
        hint="must be 1-64 letters, digits or underscores",
    ),
    Rule("display_name", required=True, min_length=1, max_length=100),
    DESCRIPTION,
    Rule("extends"),
    PERMISSIONS_RULE,
)  # fmt: skip
PERMISSION_RULES = (
    Rule(
        "name", required=True, pattern=PERMISSION_NAME_PATTERN,
        hint="must be 1-64 letters, digits, underscores or colons",
    ),
    DESCRIPTION,
)  # fmt: skip


class Authorization(Organizations):
    def endpoints(self) -> list[Endpoint]:
        role, perm = f"{ROLES}/{{role_name}}", f"{PERMISSIONS}/{{permission_name}}"
        return [
            *super().endpoints(),
            Endpoint("GET", ROLES, self._list_roles),
            Endpoint("POST", ROLES, lambda c: self.create_role(c.json), 201, "role"),
            Endpoint("GET", role, self._get_role, wrap="role"),
            Endpoint(
                "PUT", role, lambda c: self.update_role(c.path["role_name"], c.json), wrap="role"
            ),
            Endpoint("DELETE", role, self._delete_role),
            Endpoint("GET", f"{role}/permissions", self._list_role_permissions),
            Endpoint("POST", f"{role}/permissions", self._add_role_permissions),
            Endpoint("DELETE", f"{role}/permissions/{{permission_name}}", self._revoke),
            Endpoint("GET", PERMISSIONS, self._list_permissions),
            Endpoint(
                "POST", PERMISSIONS, lambda c: self.create_permission(c.json), 201, "permission"
            ),
            Endpoint(
                "GET",
                perm,
                lambda c: self._permission(c.path["permission_name"]),
                wrap="permission",
            ),
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
        row = self.store.one("SELECT extends FROM roles WHERE name = ?", [name])
        return row["extends"] if row is not None else None

    def role_json(self, row: sqlite3.Row, include: str | None = None) -> dict[str, Any]:
        dependents = self.store.one(
            "SELECT COUNT(*) AS n FROM roles WHERE extends = ?", [row["name"]]
        )
        item = {
            **_role_json(row),
            "dependent_roles_count": int(dependents["n"]) if dependents else 0,
        }
        if include in ("permissions", "permissions:all"):
            chain = [row["name"]]
            base = row["extends"] if include == "permissions:all" else None
            while base and base not in chain and len(chain) < 64:
                chain.append(base)
                base = self._extends(base)
            item["permissions"] = [
                role_permission_json(p) for name in chain for p in self._role_permission_rows(name)
            ]
        return item

    def effective_permissions(self, role_names: Sequence[str]) -> set[str]:
        """Direct permissions of each role and of the roles it extends (bounded depth)."""
        found: set[str] = set()
        pending, seen = list(role_names), set[str]()
        while pending and len(seen) < 64:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            found |= {row["name"] for row in self._role_permission_rows(name)}
            if extends := self._extends(name):
                pending.append(extends)
        return found

    def _check_permissions_exist(self, names: Sequence[str], field: str) -> None:
        problems = Violations()
        for index, name in enumerate(names):
            if not self.store.find("permissions", "name", name):
                problems.add(f"{field}[{index}]", f"permission {name!r} does not exist")
        problems.check()

    def _grant(self, conn: sqlite3.Connection, role: str, permissions: Sequence[str]) -> None:
        now = now_iso()
        for permission in permissions:
            conn.execute(
                "INSERT OR IGNORE INTO role_permissions (role_name, permission_name, "
                "create_time) VALUES (?, ?, ?)",
                [role, permission, now],
            )

    def create_role(self, data: Mapping[str, Any]) -> dict[str, Any]:
        fields = checked(data, ROLE_RULES)
        name, extends, permissions = (
            fields["name"],
            fields.get("extends"),
            fields.get("permissions"),
        )
        if self.store.find("roles", "name", name):
            raise grpc_error("ALREADY_EXISTS", f"role {name} already exists")
        if extends:
            self.row("roles", extends)
        self._check_permissions_exist(permissions or [], "permissions")
        now = now_iso()
        row = {"id": new_id("role_"), "name": name, "display_name": fields["display_name"]}
        row.update(description=fields.get("description") or "", extends=extends or None)
        with self.store.transaction() as conn:
            self.store.insert("roles", {**row, "create_time": now, "update_time": now}, conn)
            self._grant(conn, name, permissions or [])
        return self.role_json(self.row("roles", name), "permissions")

    def update_role(self, name: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Only the fields sent change. ``permissions``, when sent and not empty, replaces the
        role's direct permissions; an empty list is the same as none (proto3 cannot tell
        them apart), which is why clients remove permissions one by one."""
        self.row("roles", name)
        only_fields(data, ("display_name", "description", "extends", "permissions"))
        rules = [
            *([ROLE_RULES[1]] if data.get("display_name") else []),
            DESCRIPTION,
            *([Rule("extends")] if data.get("extends") else []),
            PERMISSIONS_RULE,
        ]
        problems = Violations()
        changes = read(data, rules, problems)
        problems.check()
        permissions = changes.pop("permissions", None)
        if "description" in changes:
            changes["description"] = changes["description"] or ""
        if changes.get("extends"):
            self.row("roles", changes["extends"])
        if permissions:
            self._check_permissions_exist(permissions, "permissions")
        changes["update_time"] = now_iso()
        with self.store.transaction() as conn:
            self.store.update("roles", changes, "name = ?", [name], conn)
            if permissions:
                conn.execute("DELETE FROM role_permissions WHERE role_name = ?", [name])
                self._grant(conn, name, permissions)
        return self.role_json(self.row("roles", name), "permissions")

    def add_role_permissions(self, name: str, permissions: Sequence[str]) -> None:
        self.row("roles", name)
        self._check_permissions_exist(permissions, "permission_names")
        with self.store.transaction() as conn:
            self._grant(conn, name, permissions)

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

    def _role_permissions(self, name: str) -> dict[str, Any]:
        return {"permissions": [permission_json(p) for p in self._role_permission_rows(name)]}

    def _list_role_permissions(self, call: Call) -> dict[str, Any]:
        return self._role_permissions(self.row("roles", call.path["role_name"])["name"])

    def _add_role_permissions(self, call: Call) -> dict[str, Any]:
        names = checked(call.json, [Rule("permission_names", kind="strings")])
        self.add_role_permissions(call.path["role_name"], names.get("permission_names") or [])
        return self._role_permissions(call.path["role_name"])

    def _revoke(self, call: Call) -> dict[str, Any]:
        name, permission = call.path["role_name"], call.path["permission_name"]
        self.row("roles", name)
        cursor = self.store.execute(
            "DELETE FROM role_permissions WHERE role_name = ? AND permission_name = ?",
            [name, permission],
        )
        if cursor.rowcount == 0:
            raise not_found("role permission", f"{name}/{permission}")
        return {}

    # ----------------------------------------------------------------- permissions

    def create_permission(self, data: Mapping[str, Any]) -> dict[str, Any]:
        fields = checked(data, PERMISSION_RULES)
        name = fields["name"]
        if self.store.find("permissions", "name", name):
            raise grpc_error("ALREADY_EXISTS", f"permission {name} already exists")
        now = now_iso()
        row = {"id": new_id("perm_"), "name": name, "description": fields.get("description") or ""}
        self.store.insert("permissions", {**row, "create_time": now, "update_time": now})
        return permission_json(self.row("permissions", name))

    def _list_permissions(self, call: Call) -> dict[str, Any]:
        kind = call.query.get("type") or "ALL"
        if kind not in ("ALL", "SCALEKIT", "ENVIRONMENT"):
            raise invalid("type must be ALL, SCALEKIT or ENVIRONMENT")
        where = {"ALL": "", "SCALEKIT": "builtin = 1", "ENVIRONMENT": "builtin = 0"}[kind]
        return token_page(
            self.store, "permissions", call.query, "permissions",
            permission_json.many, sizes=(1, 100, 30), where=where,
        )  # fmt: skip

    def _permission(self, name: str) -> dict[str, Any]:
        return permission_json(self.row("permissions", name))

    def _update_permission(self, call: Call) -> dict[str, Any]:
        name = call.path["permission_name"]
        row = self.row("permissions", name)
        body = call.json
        only_fields(body, ("name", "description"))
        if body.get("name") and body["name"] != name:
            raise invalid("a permission's name cannot be changed", [("name", "immutable")])
        if row["builtin"]:
            raise grpc_error("PERMISSION_DENIED", f"{name} is a Scalekit permission")
        description = checked({k: v for k, v in body.items() if k != "name"}, [DESCRIPTION])
        if "description" in body:
            changes = {"description": description["description"] or "", "update_time": now_iso()}
            self.store.update("permissions", changes, "name = ?", [name])
        return self._permission(name)

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
