"""Organization permissions and roles (``/v1/organization_permissions``,
``/v1/organization_roles``), with Clerk's system permissions and default roles."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .errors import api_error, clerk_id, not_found
from .family import Family, Operation
from .forms import FLAG, REQUIRED, TEXT, TEXTS, Form, Rule, read_form, required
from .listing import Filters, like, offset_page
from .schema import insert, next_ms, update

# Clerk's default organization roles and their system permissions
# (https://clerk.com/docs/organizations/roles-permissions). Instances that enabled
# organizations before December 2023 use ``admin`` / ``basic_member`` instead; a seed adds
# those (``seed_from_clerk_export`` does when the export's memberships use them).
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
    pattern=re.compile(r"org:(?!sys_)[a-z0-9_]+:[a-z0-9_]+"),
    invalid='key must have the format "org:feature:action", where feature and action consist '
    "of lowercase letters, digits or underscores (org:sys_ is reserved).",
)
# The documents' bodies. Permission bodies are open (no additionalProperties: false).
PERMISSION_FIELDS: Final = {"name": TEXT, "key": PERMISSION_KEY, "description": TEXT}
CREATE_PERMISSION: Final = {**PERMISSION_FIELDS, "name": REQUIRED, "key": required(PERMISSION_KEY)}
ROLE_FIELDS: Final = {"name": TEXT, "key": ROLE_KEY, "description": TEXT, "permissions": TEXTS}
# Role sets are not emulated: every role is assignable in every organization, as in an
# instance whose organizations all use the initial role set.
CREATE_ROLE: Final = {
    **ROLE_FIELDS,
    "name": REQUIRED,
    "key": required(ROLE_KEY),
    "include_in_initial_role_set": FLAG,
}
KEYED_ORDER_FIELDS: Final = {"created_at": "t.created_at", "name": "lower(t.name)", "key": "t.key"}


@dataclass
class RoleSummary:
    """A role as memberships show it: its name and its permission keys."""

    name: str
    permissions: list[str]


def permission_json(row: sqlite3.Row) -> dict[str, Any]:
    return {"object": "permission", **{k: row[k] for k in row.keys()}}  # noqa: SIM118


class Roles(Family):
    def operations(self) -> Sequence[Operation]:
        permission, role = "/organization_permissions", "/organization_roles"
        return (
            ("GET", permission, self.list_permissions),
            ("POST", permission, self.create_permission),
            ("GET", f"{permission}/{{permission_id}}", self.get_permission),
            ("PATCH", f"{permission}/{{permission_id}}", self.update_permission),
            ("DELETE", f"{permission}/{{permission_id}}", self.delete_permission),
            ("GET", role, self.list_roles),
            ("POST", role, self.create_role),
            ("GET", f"{role}/{{role_id}}", self.get_role),
            ("PATCH", f"{role}/{{role_id}}", self.update_role),
            ("DELETE", f"{role}/{{role_id}}", self.delete_role),
            ("POST", f"{role}/{{role_id}}/permissions/{{permission_id}}", self.assign),
            ("DELETE", f"{role}/{{role_id}}/permissions/{{permission_id}}", self.remove),
        )

    def add_defaults(self) -> None:
        """What every instance starts with: Clerk's system permissions and default roles."""
        for key, name in SYSTEM_PERMISSION_NAMES.items():
            self.add_permission(key, name, kind="system")
        for key, name, permissions in DEFAULT_ROLES:
            self.add_role(key, name, permissions)

    def add_permission(
        self, key: str, name: str, description: str = "", *, kind: str = "user"
    ) -> str:
        """The id of permission ``key``, created (as ``kind``: system or user) if missing."""
        row = self.store.one("SELECT id FROM clerk_permissions WHERE key = ?", [key])
        if row is not None:
            return str(row["id"])
        permission_id, now = clerk_id("perm_"), next_ms(self.store)
        values = {"id": permission_id, "key": key, "name": name, "description": description}
        insert(self.store, "clerk_permissions", {**values, "type": kind, **stamps(now)})
        return permission_id

    def add_role(
        self, key: str, name: str, permissions: Sequence[str], description: str | None = None
    ) -> str:
        """The id of role ``key``, created with ``permissions`` (keys) if missing; a permission
        it names that does not exist yet is created, system or not by its prefix."""
        row = self.store.one("SELECT id FROM clerk_org_roles WHERE key = ?", [key])
        if row is not None:
            return str(row["id"])
        role_id = clerk_id("role_")
        with self.store.transaction() as conn:
            values = {"id": role_id, "key": key, "name": name, "description": description}
            insert(conn, "clerk_org_roles", {**values, **stamps(next_ms(self.store))})
            for permission in permissions:
                system = permission.startswith(SYSTEM_PERMISSION_PREFIX)
                permission_id = self.add_permission(
                    permission,
                    SYSTEM_PERMISSION_NAMES.get(permission, permission),
                    kind="system" if system else "user",
                )
                self._grant(conn, role_id, [permission_id], ignore_existing=True)
        return role_id

    def summaries(self) -> dict[str, RoleSummary]:
        """Role key → name and permission keys: what memberships show of their role."""
        found: dict[str, RoleSummary] = {}
        for row in self.store.all(
            "SELECT r.key, r.name, p.key AS permission FROM clerk_org_roles AS r "
            "LEFT JOIN clerk_role_permissions AS rp ON rp.role_id = r.id "
            "LEFT JOIN clerk_permissions AS p ON p.id = rp.permission_id "
            "ORDER BY r.created_at, r.rowid, p.created_at, p.rowid"
        ):
            summary = found.setdefault(row["key"], RoleSummary(row["name"], []))
            if row["permission"] is not None:
                summary.permissions.append(row["permission"])
        return found

    def creator_role(self) -> str:
        roles = self.summaries()
        return next((key for key in CREATOR_ROLES if key in roles), next(iter(roles)))

    def check_role(self, form: Form, role: str | None) -> None:
        if role is not None and role not in self.summaries():
            text = f"There is no role with key {role} in this instance."
            form.fail("form_param_value_invalid", "role", "is invalid", text)

    def _row(self, table: str, kind: str, row_id: str) -> sqlite3.Row:
        row = self.store.one(f"SELECT * FROM {table} WHERE id = ?", [row_id])  # noqa: S608
        if row is None:
            raise not_found(kind, row_id)
        return row

    def permission_row(self, permission_id: str) -> sqlite3.Row:
        return self._row("clerk_permissions", "permission", permission_id)

    def role_row(self, role_id: str) -> sqlite3.Row:
        return self._row("clerk_org_roles", "organization role", role_id)

    def role_json(self, row: sqlite3.Row) -> dict[str, Any]:
        permissions = self.store.all(
            "SELECT p.* FROM clerk_role_permissions AS rp JOIN clerk_permissions AS p "
            "ON p.id = rp.permission_id WHERE rp.role_id = ? ORDER BY p.created_at, p.rowid",
            [row["id"]],
        )
        return {
            "object": "role",
            **{key: row[key] for key in ("id", "name", "key", "description")},
            "is_creator_eligible": any(p["key"] == CREATOR_PERMISSION for p in permissions),
            "permissions": [permission_json(p) for p in permissions],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        }

    def _page(self, request: Request, table: str) -> tuple[list[sqlite3.Row], int]:
        """A page of permissions or roles; ``query``: "exact match for ID and partial match
        for name and key"."""
        filters = Filters()
        query = request.query_params.get("query")
        if query:
            condition = "(t.id = ? OR lower(t.name) LIKE ? ESCAPE '\\' OR t.key LIKE ? ESCAPE '\\')"
            filters.add(condition, query, like(query), like(query))
        return offset_page(self.store, request, f"{table} AS t", KEYED_ORDER_FIELDS, filters)

    def _check_key_free(self, form: Form, table: str, own_id: str | None) -> None:
        key = form["key"]
        if key is not None and self.store.one(
            f"SELECT 1 FROM {table} WHERE key = ? AND id IS NOT ?",  # noqa: S608
            [key, own_id],
        ):
            text = "That key is taken. Please try another."
            form.fail("form_identifier_exists", "key", text, text)

    def _read(self, form: Form, table: str, own_id: str | None = None) -> dict[str, Any]:
        """The changes a create or update body asks for, refused with every problem."""
        if form.sent("name") and form["name"] is not None and not form["name"].strip():
            form.missing("name")
        self._check_key_free(form, table, own_id)
        form.check()
        return form.given("name", "key", "description")

    # ---- permissions

    async def list_permissions(self, request: Request) -> Response:
        rows, total = self._page(request, "clerk_permissions")
        return JSONResponse({"data": [permission_json(r) for r in rows], "total_count": total})

    async def create_permission(self, request: Request) -> Response:
        form = await read_form(request, CREATE_PERMISSION, open=True)
        fields = self._read(form, "clerk_permissions")
        permission_id = self.add_permission(
            fields["key"], fields["name"], fields.get("description") or ""
        )
        return JSONResponse(permission_json(self.permission_row(permission_id)))

    async def get_permission(self, request: Request) -> Response:
        return JSONResponse(
            permission_json(self.permission_row(request.path_params["permission_id"]))
        )

    def _refuse_system(self, row: sqlite3.Row, action: str) -> None:
        if row["type"] == "system":
            text = f"System permissions cannot be {action}."
            raise api_error(403, "authorization_invalid", text, text)

    async def update_permission(self, request: Request) -> Response:
        row = self.permission_row(request.path_params["permission_id"])
        self._refuse_system(row, "updated")
        form = await read_form(request, PERMISSION_FIELDS, open=True)
        update(
            self.store,
            "clerk_permissions",
            row["id"],
            self._read(form, "clerk_permissions", row["id"]),
        )
        return JSONResponse(permission_json(self.permission_row(row["id"])))

    async def delete_permission(self, request: Request) -> Response:
        row = self.permission_row(request.path_params["permission_id"])
        self._refuse_system(row, "deleted")
        # Roles lose it with it (ON DELETE CASCADE on clerk_role_permissions).
        self.store.execute("DELETE FROM clerk_permissions WHERE id = ?", [row["id"]])
        return JSONResponse({"object": "permission", "id": row["id"], "deleted": True})

    # ---- roles

    def _permission_ids(self, form: Form) -> list[str] | None:
        if form["permissions"] is None:
            return None
        for permission_id in form["permissions"]:
            self.permission_row(permission_id)  # 404 names the unknown id
        return list(dict.fromkeys(form["permissions"]))

    def _grant(
        self,
        conn: sqlite3.Connection,
        role_id: str,
        ids: Sequence[str],
        *,
        ignore_existing: bool = False,
    ) -> None:
        verb = "INSERT OR IGNORE" if ignore_existing else "INSERT"
        for permission_id in ids:
            conn.execute(
                f"{verb} INTO clerk_role_permissions (role_id, permission_id) VALUES (?, ?)",
                [role_id, permission_id],
            )

    async def list_roles(self, request: Request) -> Response:
        rows, total = self._page(request, "clerk_org_roles")
        return JSONResponse({"data": [self.role_json(r) for r in rows], "total_count": total})

    async def create_role(self, request: Request) -> Response:
        form = await read_form(request, CREATE_ROLE)
        fields = self._read(form, "clerk_org_roles")
        permission_ids = self._permission_ids(form) or []
        role_id = self.add_role(fields["key"], fields["name"], [], fields.get("description"))
        with self.store.transaction() as conn:
            self._grant(conn, role_id, permission_ids)
        return JSONResponse(self.role_json(self.role_row(role_id)))

    async def get_role(self, request: Request) -> Response:
        return JSONResponse(self.role_json(self.role_row(request.path_params["role_id"])))

    async def update_role(self, request: Request) -> Response:
        row = self.role_row(request.path_params["role_id"])
        form = await read_form(request, ROLE_FIELDS)
        changes = self._read(form, "clerk_org_roles", row["id"])
        permission_ids = self._permission_ids(form)
        with self.store.transaction() as conn:
            update(conn, "clerk_org_roles", row["id"], changes)
            if changes.get("key", row["key"]) != row["key"]:
                # "updating the key will cascade": members keep their role under its new key.
                conn.execute(
                    "UPDATE clerk_memberships SET role = ? WHERE role = ?",
                    [changes["key"], row["key"]],
                )
            if permission_ids is not None:  # "If provided, this will replace the existing"
                conn.execute("DELETE FROM clerk_role_permissions WHERE role_id = ?", [row["id"]])
                self._grant(conn, row["id"], permission_ids)
        return JSONResponse(self.role_json(self.role_row(row["id"])))

    async def delete_role(self, request: Request) -> Response:
        row = self.role_row(request.path_params["role_id"])
        # "The role cannot be deleted if it is currently used as the default creator role,
        # domain default role, assigned to any members, or exists in any invitations."
        # (Clerk documents the rule, not its error codes; these name the reason.)
        if row["key"] == self.creator_role():
            raise api_error(
                422,
                "organization_role_is_creator_role",
                "role in use",
                f"The role {row['key']} is the creator role of new organizations and cannot be "
                "deleted.",
            )
        if self.store.one("SELECT 1 FROM clerk_memberships WHERE role = ? LIMIT 1", [row["key"]]):
            raise api_error(
                422,
                "organization_role_assigned_to_members",
                "role in use",
                f"The role {row['key']} is assigned to organization members and cannot be deleted.",
            )
        self.store.execute("DELETE FROM clerk_org_roles WHERE id = ?", [row["id"]])
        return JSONResponse({"object": "role", "id": row["id"], "deleted": True})

    async def assign(self, request: Request) -> Response:
        role = self.role_row(request.path_params["role_id"])
        permission = self.permission_row(request.path_params["permission_id"])
        if self.store.one(
            "SELECT 1 FROM clerk_role_permissions WHERE role_id = ? AND permission_id = ?",
            [role["id"], permission["id"]],
        ):
            text = f"The role {role['key']} already has the permission {permission['key']}."
            raise api_error(409, "duplicate_record", "duplicate", text)
        with self.store.transaction() as conn:
            self._grant(conn, role["id"], [permission["id"]])
        return JSONResponse(self.role_json(self.role_row(role["id"])))

    async def remove(self, request: Request) -> Response:
        role = self.role_row(request.path_params["role_id"])
        permission = self.permission_row(request.path_params["permission_id"])
        removed = self.store.execute(
            "DELETE FROM clerk_role_permissions WHERE role_id = ? AND permission_id = ?",
            [role["id"], permission["id"]],
        )
        if removed.rowcount == 0:
            text = f"The role {role['key']} does not have the permission {permission['key']}."
            raise api_error(404, "resource_not_found", "not found", text)
        return JSONResponse(self.role_json(self.role_row(role["id"])))


def stamps(now: int) -> dict[str, int]:
    return {"created_at": now, "updated_at": now}
