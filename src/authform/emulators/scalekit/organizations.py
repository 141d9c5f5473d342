"""Organizations and their domains (``/api/v1/organizations``). Domains added through the
API are admin-verified (Scalekit's organization-domains guide); the seed can add DNS-pending
ones, as the Admin Portal would."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from ..routing import Call, Endpoint, Shape
from .core import ScalekitCore
from .errors import grpc_error, invalid, not_found
from .fields import checked
from .paging import token_page
from .schema import API, DOMAIN_TYPES, ENVIRONMENT_ID

ORGS = f"{API}/organizations"
FEATURES = [{"name": "sso", "enabled": False}, {"name": "dir_sync", "enabled": False}]
organization_json = Shape(
    columns=("id", "display_name", "region_code", "create_time", "update_time"),
    documents={"metadata": {}},
    optional=("external_id", "slug", "logo_url"),
    constants={"settings": {"features": FEATURES}},
)
domain_json = Shape(
    columns=(
        "id", "domain", "organization_id", "domain_type", "verification_status",
        "verification_method", "create_time", "update_time",
    ),
    constants={"environment_id": ENVIRONMENT_ID},
)  # fmt: skip


class Organizations(ScalekitCore):
    def endpoints(self) -> list[Endpoint]:
        one, domains = f"{ORGS}/{{id}}", f"{ORGS}/{{organization_id}}/domains"
        org, domain = "organization", "domain"
        return [
            *super().endpoints(),
            Endpoint("GET", ORGS, self._list_organizations),
            Endpoint("POST", ORGS, lambda c: self.create_organization(c.json), 201, org),
            Endpoint("GET", f"{ORGS}:external/{{external_id}}", self._get_organization, wrap=org),
            Endpoint("GET", one, self._get_organization, wrap=org),
            Endpoint("PATCH", one, self._update_organization, wrap=org),
            Endpoint("DELETE", one, lambda c: self.delete("organizations", c.path["id"])),
            Endpoint("GET", domains, self._list_domains),
            # The document says 200 for a create here.
            Endpoint("POST", domains, self._create_domain, wrap=domain),
            Endpoint(
                "GET", f"{domains}/{{id}}", lambda c: domain_json(self._domain(c)), wrap=domain
            ),
            Endpoint("DELETE", f"{domains}/{{id}}", self._delete_domain),
        ]

    def create_organization(self, data: Mapping[str, Any]) -> dict[str, Any]:
        return self._save_organization(checked(data, "organization_create"), None)

    def _update_organization(self, call: Call) -> dict[str, Any]:
        organization_id = self.row("organizations", call.path["id"])["id"]
        return self._save_organization(checked(call.json, "organization_update"), organization_id)

    def _save_organization(self, fields: dict[str, Any], own_id: str | None) -> dict[str, Any]:
        """Create an organization (``own_id`` None) or change the fields sent of one: an
        empty text clears its field, and the metadata map is replaced whole."""
        if fields.get("external_id"):
            self.check_external_id_free("organizations", fields["external_id"], own_id)
        row = {name: value or None for name, value in fields.items() if name != "metadata"}
        if "metadata" in fields or own_id is None:
            row["metadata"] = fields.get("metadata") or {}
        if own_id is None:
            own_id = self.add_row("organizations", "org_", row)
        else:
            self.change_row("organizations", own_id, row)
        return organization_json(self.row("organizations", own_id))

    def _list_organizations(self, call: Call) -> dict[str, Any]:
        external_id = call.query.get("external_id")
        where, params = ("external_id = ?", [external_id]) if external_id else ("", [])
        return token_page(
            self.store, "organizations", call.query, organization_json.many, (10, 100, 10),
            where, params,
        )  # fmt: skip

    def _get_organization(self, call: Call) -> dict[str, Any]:
        return organization_json(self.keyed_row("organizations", call))

    # ----------------------------------------------------------------- domains

    def create_domain(
        self, organization_id: str, data: Mapping[str, Any], *, status: str | None = None
    ) -> dict[str, Any]:
        """``status`` lets the seed add a DNS-pending domain, as the Admin Portal does; the
        API's own domains are admin-verified."""
        self.row("organizations", organization_id)
        if isinstance(domain := data.get("domain"), str):  # compared as Scalekit stores it
            data = {**data, "domain": domain.strip().lower()}
        fields = checked(data, "domain_create")
        name, domain_type = fields["domain"], fields["domain_type"]
        if self.store.one(
            "SELECT 1 FROM domains WHERE domain = ? AND domain_type = ?", [name, domain_type]
        ):
            raise grpc_error("ALREADY_EXISTS", f"domain {name} is already registered")
        if domain_type == "ORGANIZATION_DOMAIN":
            verification = (status or "VERIFIED", "DNS" if status == "PENDING" else "ADMIN")
        else:
            verification = ("AUTO_VERIFIED", "NOT_APPLICABLE")
        row = {"organization_id": organization_id, **fields}
        row.update(verification_status=verification[0], verification_method=verification[1])
        return domain_json(self.row("domains", self.add_row("domains", "dom_", row)))

    def _create_domain(self, call: Call) -> dict[str, Any]:
        return self.create_domain(call.path["organization_id"], call.json)

    def _domain(self, call: Call) -> sqlite3.Row:
        organization_id, domain_id = call.path["organization_id"], call.path["id"]
        row = self.store.one(
            "SELECT * FROM domains WHERE id = ? AND organization_id = ?",
            [domain_id, organization_id],
        )
        if row is None:
            raise not_found("domain", domain_id)
        return row

    def _list_domains(self, call: Call) -> dict[str, Any]:
        """The one list Scalekit pages by number rather than by token."""
        organization_id = self.row("organizations", call.path["organization_id"])["id"]
        try:
            size = int(call.query.get("page_size") or 30)
            number = int(call.query.get("page_number") or 0)
        except ValueError:
            raise invalid("page_size and page_number must be integers") from None
        if not 1 <= size <= 100 or number < 0:
            raise invalid(
                "page_size must be 1-100 and page_number >= 0",
                [("page_size", "1-100"), ("page_number", ">= 0")],
            )
        where, params = "organization_id = ?", [organization_id]
        if domain_type := call.query.get("domain_type"):
            if domain_type not in DOMAIN_TYPES:
                raise invalid("unknown domain_type")
            where, params = f"{where} AND domain_type = ?", [organization_id, domain_type]
        rows = self.store.all(
            f"SELECT * FROM domains WHERE {where} ORDER BY id LIMIT ? OFFSET ?",  # noqa: S608
            [*params, size, size * number],
        )
        return {"domains": domain_json.many(rows), "page_number": number, "page_size": len(rows)}

    def _delete_domain(self, call: Call) -> dict[str, Any]:
        self.store.execute("DELETE FROM domains WHERE id = ?", [self._domain(call)["id"]])
        return {}
