"""Environment roles and permissions (``/authorization/roles``, ``/authorization/permissions``).

Roles hold their permission slugs in order; the API cannot delete a role, so the dashboard's
delete lives at ``DELETE /_emulate/roles/{slug}``. The two are one family: a definition with
a slug, a name and a description, told apart by the table in ``DEFINITIONS``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from ..routing import Call, Endpoint, Shape
from ..store import from_json, to_json
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


# table -> (its path, id prefix, JSON shape, rules of a create, code and noun of a taken slug)
DEFINITIONS = {
    "roles": (
        "/authorization/roles", "role_", role_json, create_rules(ROLE_SLUG_PATTERN),
        "role_slug_conflict", "role",
    ),
    "permissions": (
        "/authorization/permissions", "perm_", permission_json,
        create_rules(PERMISSION_SLUG_PATTERN), "permission_slug_conflict", "permission",
    ),
}  # fmt: skip


class Authorization(Memberships):
    def endpoints(self) -> list[Endpoint]:
        routes = super().endpoints()
        for table, (path, *_) in DEFINITIONS.items():
            one = f"{path}/{{slug}}"
            routes += [
                Endpoint("POST", path, partial(self._create_definition, table), 201),
                Endpoint("GET", one, partial(self._get_definition, table)),
                Endpoint("PATCH", one, partial(self._update_definition, table)),
            ]
        role = "/authorization/roles/{slug}"
        return [
            *routes,
            Endpoint("GET", "/authorization/roles", self._list_roles),
            Endpoint("POST", f"{role}/permissions", self._add_role_permission),
            Endpoint("PUT", f"{role}/permissions", self._set_role_permissions),
            Endpoint(
                "GET",
                "/authorization/permissions",
                lambda c: self.listing(c, "permissions", permission_json.many),
            ),
            Endpoint("DELETE", "/authorization/permissions/{slug}", self._delete_permission, 204),
            # What only the WorkOS Dashboard can do: Roles & Permissions → delete.
            Endpoint("DELETE", "/_emulate/roles/{slug}", self._dashboard_delete_role, 204),
        ]

    def _dashboard_delete_role(self, call: Call) -> None:
        self.delete("roles", call.path["slug"])

    def create_definition(self, table: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """A new role or permission (``table``), as the API answers it."""
        _, prefix, shape, rules, conflict_code, noun = DEFINITIONS[table]
        values = read_fields(data, rules)
        slug = values["slug"]
        if self.store.find(table, "slug", slug):
            raise conflict(conflict_code, f"A {noun} with slug '{slug}' already exists.")
        values["resource_type_slug"] = values["resource_type_slug"] or DEFAULT_RESOURCE_TYPE
        return shape(self.row(table, self.insert(table, prefix, values), "id"))

    def _create_definition(self, table: str, call: Call) -> dict[str, Any]:
        return self.create_definition(table, call.json)

    def _get_definition(self, table: str, call: Call) -> dict[str, Any]:
        return DEFINITIONS[table][2](self.row(table, call.path["slug"]))

    def create_role(self, data: Mapping[str, Any]) -> dict[str, Any]:
        return self.create_definition("roles", data)

    def create_permission(self, data: Mapping[str, Any]) -> dict[str, Any]:
        return self.create_definition("permissions", data)

    def set_role_permissions(self, slug: str, permissions: Sequence[str]) -> dict[str, Any]:
        role_id = self.row("roles", slug)["id"]
        wanted = list(dict.fromkeys(permissions))
        if unknown := self.unknown("permissions", "slug", wanted):
            raise not_found("Permission", unknown[0])
        self.touch("roles", role_id, permissions=to_json(wanted))
        return role_json(self.row("roles", slug))

    def _update_definition(self, table: str, call: Call) -> dict[str, Any]:
        row_id, shape = self.row(table, call.path["slug"])["id"], DEFINITIONS[table][2]
        values = read_fields(call.json, UPDATE_RULES)
        changes = {"name": values["name"]} if values["name"] is not None else {}
        if "description" in call.json:
            changes["description"] = values["description"]
        self.touch(table, row_id, **changes)
        return shape(self.row(table, row_id, "id"))

    def _list_roles(self, call: Call) -> dict[str, Any]:
        # Not paginated: all environment roles, in priority order (here: creation order).
        rows = self.store.all("SELECT * FROM roles ORDER BY id")
        return {"object": "list", "data": role_json.many(rows)}

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
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM permissions WHERE slug = ?", [slug])
            for role in conn.execute("SELECT id, permissions FROM roles").fetchall():
                current: list[str] = from_json(role["permissions"], [])
                if slug in current:
                    remaining = to_json([p for p in current if p != slug])
                    self.touch("roles", role["id"], conn, permissions=remaining)
