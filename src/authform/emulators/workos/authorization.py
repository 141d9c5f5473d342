"""Environment roles and permissions (``/authorization/roles``, ``/authorization/permissions``).

Roles hold their permission slugs in order; the API cannot delete a role, so the dashboard's
delete lives at ``DELETE /_emulate/roles/{slug}``."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from ..routing import Call, Endpoint, Shape
from ..store import from_json, new_id, now_iso, placeholders, to_json
from .errors import conflict, not_found
from .fields import Rule, read_fields
from .memberships import Memberships
from .schema import DEFAULT_RESOURCE_TYPE, PERMISSION_SLUG_PATTERN, ROLE_SLUG_PATTERN

_DEFINITION = (
    "id",
    "slug",
    "name",
    "description",
    "resource_type_slug",
    "created_at",
    "updated_at",
)
role_json = Shape(
    columns=_DEFINITION,
    documents={"permissions": []},
    constants={"object": "role", "type": "EnvironmentRole"},
)
permission_json = Shape(columns=_DEFINITION, constants={"object": "permission", "system": False})
PERMISSIONS = "permissions"  # the table
SLUG_HINT = "must be lowercase letters, digits and - _ : . only"
UPDATE_RULES = (
    Rule("name", non_empty=True, max_length=48),
    Rule("description", nullable=True, max_length=150),
)


def create_rules(slug_pattern: str) -> tuple[Rule, ...]:
    slug = Rule(
        "slug", required=True, non_empty=True, max_length=48, pattern=slug_pattern, hint=SLUG_HINT
    )
    name = Rule("name", required=True, non_empty=True, max_length=48)
    return (slug, Rule("resource_type_slug", max_length=48), name, UPDATE_RULES[1])


# table -> (id prefix, rules of a create, the conflict code and noun of a taken slug)
DEFINITIONS = {
    "roles": ("role_", create_rules(ROLE_SLUG_PATTERN), "role_slug_conflict", "role"),
    "permissions": (
        "perm_", create_rules(PERMISSION_SLUG_PATTERN), "permission_slug_conflict", "permission"
    ),
}  # fmt: skip


class Authorization(Memberships):
    def endpoints(self) -> list[Endpoint]:
        roles, perms = "/authorization/roles", "/authorization/permissions"
        role, perm = f"{roles}/{{slug}}", f"{perms}/{{slug}}"
        return [
            *super().endpoints(),
            Endpoint("GET", roles, self._list_roles),
            Endpoint("POST", roles, lambda c: self.create_role(c.json), 201),
            Endpoint("GET", role, lambda c: role_json(self.row("roles", c.path["slug"]))),
            Endpoint("PATCH", role, lambda c: role_json(self._update_definition("roles", c))),
            Endpoint("POST", f"{role}/permissions", self._add_role_permission),
            Endpoint("PUT", f"{role}/permissions", self._set_role_permissions),
            Endpoint("GET", perms, lambda c: self.listing(c, PERMISSIONS, permission_json)),
            Endpoint("POST", perms, lambda c: self.create_permission(c.json), 201),
            Endpoint("GET", perm, lambda c: permission_json(self.row(PERMISSIONS, c.path["slug"]))),
            Endpoint(
                "PATCH", perm, lambda c: permission_json(self._update_definition(PERMISSIONS, c))
            ),
            Endpoint("DELETE", perm, self._delete_permission, 204),
            # What only the WorkOS Dashboard can do: Roles & Permissions → delete.
            Endpoint("DELETE", "/_emulate/roles/{slug}", self._dashboard_delete_role, 204),
        ]

    def _dashboard_delete_role(self, call: Call) -> None:
        self.delete("roles", call.path["slug"])

    def _create_definition(self, table: str, data: Mapping[str, Any]) -> str:
        prefix, rules, conflict_code, noun = DEFINITIONS[table]
        values = read_fields(data, rules)
        slug = values["slug"]
        if self.store.find(table, "slug", slug):
            raise conflict(conflict_code, f"A {noun} with slug '{slug}' already exists.")
        now = now_iso()
        values.update(id=new_id(prefix), created_at=now, updated_at=now)
        values["resource_type_slug"] = values["resource_type_slug"] or DEFAULT_RESOURCE_TYPE
        self.store.insert(table, values)
        return str(slug)

    def create_role(self, data: Mapping[str, Any]) -> dict[str, Any]:
        return role_json(self.row("roles", self._create_definition("roles", data)))

    def create_permission(self, data: Mapping[str, Any]) -> dict[str, Any]:
        return permission_json(
            self.row("permissions", self._create_definition("permissions", data))
        )

    def set_role_permissions(self, slug: str, permissions: Sequence[str]) -> dict[str, Any]:
        self.row("roles", slug)
        wanted = list(dict.fromkeys(permissions))
        known = {
            row["slug"]
            for row in self.store.all(
                f"SELECT slug FROM permissions WHERE slug IN ({placeholders(wanted)})", wanted
            )
        }
        for permission in wanted:
            if permission not in known:
                raise not_found("Permission", permission)
        changes = {"permissions": to_json(wanted), "updated_at": now_iso()}
        self.store.update("roles", changes, "slug = ?", [slug])
        return role_json(self.row("roles", slug))

    def _update_definition(self, table: str, call: Call) -> sqlite3.Row:
        slug = self.row(table, call.path["slug"])["slug"]
        values = read_fields(call.json, UPDATE_RULES)
        changes = {"name": values["name"]} if values["name"] is not None else {}
        if "description" in call.json:
            changes["description"] = values["description"]
        changes["updated_at"] = now_iso()
        self.store.update(table, changes, "slug = ?", [slug])
        return self.row(table, slug)

    def _list_roles(self, call: Call) -> dict[str, Any]:
        # Not paginated: all environment roles, in priority order (here: creation order).
        rows = self.store.all("SELECT * FROM roles ORDER BY id")
        return {"object": "list", "data": [role_json(row) for row in rows]}

    def _add_role_permission(self, call: Call) -> dict[str, Any]:
        role = self.row("roles", call.path["slug"])
        permission = read_fields(call.json, [Rule("slug", required=True, non_empty=True)])["slug"]
        current: list[str] = from_json(role["permissions"], [])
        return self.set_role_permissions(role["slug"], [*current, permission])

    def _set_role_permissions(self, call: Call) -> dict[str, Any]:
        self.row("roles", call.path["slug"])
        rule = Rule("permissions", kind="strings", required=True)
        return self.set_role_permissions(
            call.path["slug"], read_fields(call.json, [rule])["permissions"]
        )

    def _delete_permission(self, call: Call) -> None:
        slug = self.row("permissions", call.path["slug"])["slug"]
        now = now_iso()
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM permissions WHERE slug = ?", [slug])
            for role in conn.execute("SELECT id, permissions FROM roles").fetchall():
                current: list[str] = from_json(role["permissions"], [])
                if slug in current:
                    changes = {"permissions": to_json([p for p in current if p != slug])}
                    self.store.update(
                        "roles", {**changes, "updated_at": now}, "id = ?", [role["id"]], conn
                    )
