"""Organizations and their domains (``/api/v1/organizations``). Domains added through the
API are admin-verified (Scalekit's organization-domains guide); the seed can add DNS-pending
ones, as the Admin Portal would."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from typing import Any

from ..routing import Call, Endpoint, Shape
from ..store import now_iso, to_json
from .core import ScalekitCore
from .errors import grpc_error, invalid, not_found
from .fields import Rule, Violations, checked, only_fields, read
from .paging import token_page
from .schema import API, DOMAIN_PATTERN, DOMAIN_TYPES, ENVIRONMENT_ID, PUBLIC_DOMAINS, SLUG_PATTERN
from .tokens import new_id

ORGS, TABLE = f"{API}/organizations", "organizations"
organization_json = Shape(
    columns=("id", "display_name", "region_code", "create_time", "update_time"),
    documents={"metadata": {}},
    optional=("external_id", "slug", "logo_url"),
    constants={
        "settings": {
            "features": [{"name": "sso", "enabled": False}, {"name": "dir_sync", "enabled": False}]
        }
    },
)
domain_json = Shape(
    columns=(
        "id", "domain", "organization_id", "domain_type", "verification_status",
        "verification_method", "create_time", "update_time",
    ),
    constants={"environment_id": ENVIRONMENT_ID},
)  # fmt: skip
ORGANIZATION_RULES = (
    Rule("display_name", required=True, min_length=1, max_length=200),
    Rule("external_id", max_length=255),
    Rule("metadata", kind="map", max_pairs=10),
    Rule("slug", max_length=253, pattern=SLUG_PATTERN),
    Rule("logo_url", max_length=1024, pattern=r"https://\S+"),
)


class Organizations(ScalekitCore):
    def endpoints(self) -> list[Endpoint]:
        one, domains = f"{ORGS}/{{id}}", f"{ORGS}/{{organization_id}}/domains"
        org, domain = "organization", "domain"
        return [
            *super().endpoints(),
            Endpoint("GET", ORGS, self._list_organizations),
            Endpoint("POST", ORGS, lambda c: self.create_organization(c.json), 201, org),
            Endpoint("GET", f"{ORGS}:external/{{external_id}}", self._by_external_id, wrap=org),
            Endpoint(
                "GET", one, lambda c: organization_json(self.row(TABLE, c.path["id"])), wrap=org
            ),
            Endpoint(
                "PATCH", one, lambda c: self.update_organization(c.path["id"], c.json), wrap=org
            ),
            Endpoint("DELETE", one, lambda c: self.delete(TABLE, c.path["id"])),
            Endpoint("GET", domains, self._list_domains),
            # The document says 200 for a create here.
            Endpoint(
                "POST",
                domains,
                lambda c: self.create_domain(c.path["organization_id"], c.json),
                wrap=domain,
            ),
            Endpoint(
                "GET", f"{domains}/{{id}}", lambda c: domain_json(self._domain_row(c)), wrap=domain
            ),
            Endpoint("DELETE", f"{domains}/{{id}}", self._delete_domain),
        ]

    def _organization_fields(self, data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        rules = ORGANIZATION_RULES if creating or "display_name" in data else ORGANIZATION_RULES[1:]
        fields = checked(data, rules)
        if "metadata" in fields:
            fields["metadata"] = fields["metadata"] or {}
        return fields

    def create_organization(self, data: Mapping[str, Any]) -> dict[str, Any]:
        fields = self._organization_fields(data, creating=True)
        if external_id := fields.get("external_id") or None:
            self.check_external_id_free("organizations", external_id, None)
        organization_id, now = new_id("org_"), now_iso()
        row = {name: fields.get(name) or None for name in ("display_name", "slug", "logo_url")}
        row.update(
            id=organization_id,
            external_id=external_id,
            metadata=to_json(fields.get("metadata") or {}),
            create_time=now,
            update_time=now,
        )
        self.store.insert("organizations", row)
        return organization_json(self.row("organizations", organization_id))

    def update_organization(self, organization_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        self.row("organizations", organization_id)
        fields = self._organization_fields(data, creating=False)
        if fields.get("external_id"):
            self.check_external_id_free("organizations", fields["external_id"], organization_id)
        changes = {k: (v or None) for k, v in fields.items() if k != "metadata"}
        if "metadata" in fields:
            changes["metadata"] = to_json(fields["metadata"])  # the map is replaced whole
        changes["update_time"] = now_iso()
        self.store.update("organizations", changes, "id = ?", [organization_id])
        return organization_json(self.row("organizations", organization_id))

    def _list_organizations(self, call: Call) -> dict[str, Any]:
        external_id = call.query.get("external_id")
        where, params = ("external_id = ?", [external_id]) if external_id else ("", [])
        return token_page(
            self.store, "organizations", call.query, "organizations", organization_json.many,
            sizes=(10, 100, 10), where=where, params=params,
        )  # fmt: skip

    def _by_external_id(self, call: Call) -> dict[str, Any]:
        row = self.store.find(TABLE, "external_id", call.path["external_id"])
        if row is None:
            raise not_found("organization with external_id", call.path["external_id"])
        return organization_json(row)

    # ----------------------------------------------------------------- domains

    def create_domain(
        self, organization_id: str, data: Mapping[str, Any], *, status: str | None = None
    ) -> dict[str, Any]:
        """``status`` lets the seed add a DNS-pending domain, as the Admin Portal does; the
        API's own domains are admin-verified."""
        self.row("organizations", organization_id)
        only_fields(data, ("domain", "domain_type"))
        problems = Violations()
        domain = read(data, [Rule("domain", required=True, max_length=253)], problems)["domain"]
        domain_type = data.get("domain_type")
        if domain_type not in DOMAIN_TYPES:
            problems.add("domain_type", f"must be one of {', '.join(DOMAIN_TYPES)}")
        name = (domain or "").strip().lower()
        if domain and re.fullmatch(DOMAIN_PATTERN, name) is None:
            problems.add("domain", "is not a valid domain name")
        elif name in PUBLIC_DOMAINS:
            problems.add("domain", "public and disposable email domains are not allowed")
        problems.check()
        if self.store.one(
            "SELECT 1 FROM domains WHERE domain = ? AND domain_type = ?", [name, domain_type]
        ):
            raise grpc_error("ALREADY_EXISTS", f"domain {name} is already registered")
        if domain_type == "ORGANIZATION_DOMAIN":
            verification = (status or "VERIFIED", "DNS" if status == "PENDING" else "ADMIN")
        else:
            verification = ("AUTO_VERIFIED", "NOT_APPLICABLE")
        domain_id, now = new_id("dom_"), now_iso()
        row = {"id": domain_id, "organization_id": organization_id, "domain": name}
        row.update(domain_type=domain_type, create_time=now, update_time=now)
        row.update(verification_status=verification[0], verification_method=verification[1])
        self.store.insert("domains", row)
        return domain_json(self.row("domains", domain_id))

    def _domain_row(self, call: Call) -> sqlite3.Row:
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
        conditions, params = ["organization_id = ?"], [organization_id]
        if domain_type := call.query.get("domain_type"):
            if domain_type not in DOMAIN_TYPES:
                raise invalid("unknown domain_type")
            conditions.append("domain_type = ?")
            params.append(domain_type)
        rows = self.store.all(
            f"SELECT * FROM domains WHERE {' AND '.join(conditions)} "  # noqa: S608
            "ORDER BY id LIMIT ? OFFSET ?",
            [*params, size, size * number],
        )
        return {
            "domains": [domain_json(row) for row in rows],
            "page_number": number,
            "page_size": len(rows),
        }

    def _delete_domain(self, call: Call) -> dict[str, Any]:
        self.store.execute("DELETE FROM domains WHERE id = ?", [self._domain_row(call)["id"]])
        return {}
