"""Organizations and their domains (``/organizations``, ``/organization_domains``)."""

from __future__ import annotations

import re
import secrets
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from ..routing import Call, Endpoint, Shape
from ..store import new_id, now_iso, placeholders, to_json
from .core import WorkOSCore
from .errors import bad_request, conflict, unprocessable
from .fields import (
    EXTERNAL_ID,
    Fields,
    Rule,
    parse_list_params,
    parse_metadata,
    query_list,
    read_fields,
)
from .schema import DOMAIN_PATTERN

domain_json = Shape(
    columns=(
        "id", "organization_id", "domain", "state", "verification_prefix",
        "verification_token", "verification_strategy", "created_at", "updated_at",
    ),
    constants={"object": "organization_domain"},
)  # fmt: skip
_organization_json = Shape(
    columns=("id", "name", "external_id", "created_at", "updated_at"),
    flags={"allow_profiles_outside_organization": "allow_profiles_outside_organization"},
    documents={"metadata": {}},
    optional=("stripe_customer_id",),
    constants={"object": "organization"},
)
DOMAINS = "organization_domains"
ALLOW_OUTSIDE = Rule("allow_profiles_outside_organization", kind="boolean")
CREATE_RULES = (Rule("name", required=True, non_empty=True), ALLOW_OUTSIDE, EXTERNAL_ID)
UPDATE_RULES = (
    Rule("name", non_empty=True), ALLOW_OUTSIDE, Rule("stripe_customer_id"), EXTERNAL_ID
)  # fmt: skip


class Organizations(WorkOSCore):
    def endpoints(self) -> list[Endpoint]:
        one, domain = "/organizations/{id}", "/organization_domains/{id}"
        return [
            *super().endpoints(),
            Endpoint("GET", "/organizations", self._list_organizations),
            Endpoint("POST", "/organizations", lambda c: self.create_organization(c.json), 201),
            Endpoint("GET", "/organizations/external_id/{external_id:path}", self._by_external_id),
            Endpoint("GET", one, lambda c: self.organization_json(c.path["id"])),
            Endpoint("PUT", one, lambda c: self.update_organization(c.path["id"], c.json)),
            # WorkOS deletes asynchronously (202, allowed by the document); we at once.
            Endpoint("DELETE", one, lambda c: self.delete("organizations", c.path["id"]), 202),
            Endpoint("POST", "/organization_domains", self._create_domain, 201),
            Endpoint("GET", domain, lambda c: domain_json(self.row(DOMAINS, c.path["id"]))),
            Endpoint("DELETE", domain, lambda c: self.delete(DOMAINS, c.path["id"]), 204),
            Endpoint("POST", f"{domain}/verify", self._verify_domain, 201),
        ]

    def organizations_json(self, rows: Sequence[sqlite3.Row]) -> list[dict[str, Any]]:
        ids = [row["id"] for row in rows]
        domains: dict[str, list[dict[str, Any]]] = {org_id: [] for org_id in ids}
        for domain in self.store.all(
            f"SELECT * FROM organization_domains WHERE organization_id IN "  # noqa: S608
            f"({placeholders(ids)}) ORDER BY id",
            ids,
        ):
            domains[domain["organization_id"]].append(domain_json(domain))
        return [{**_organization_json(row), "domains": domains[row["id"]]} for row in rows]

    def organization_json(self, organization_id: str) -> dict[str, Any]:
        return self.organizations_json([self.row("organizations", organization_id)])[0]

    def _parse_domains(self, fields: Fields) -> list[tuple[str, str]] | None:
        """``domain_data`` (or the deprecated ``domains``) as ``[(domain, state)]``."""
        if fields.has("domain_data") and fields.has("domains"):
            fields.fail("domains", "conflict", "Send domain_data or domains, not both.")
            return None
        if fields.has("domains"):
            names = fields.read([Rule("domains", kind="strings")])["domains"]
            # Deprecated form: no state given, so the domain starts unverified.
            pairs = [(name, "pending") for name in names or []]
        elif fields.has("domain_data"):
            items = fields.data["domain_data"]
            if not isinstance(items, list):
                fields.fail("domain_data", "invalid_type", "domain_data must be an array.")
                return None
            pairs = []
            for index, item in enumerate(items):
                where = f"domain_data[{index}]"
                if not isinstance(item, dict):
                    fields.fail(where, "invalid_type", f"{where} must be an object.")
                elif not isinstance(item.get("domain"), str):
                    fields.fail(f"{where}.domain", "required", f"{where}.domain is required.")
                elif item.get("state") not in ("pending", "verified"):
                    problem = f"{where}.state must be 'pending' or 'verified'."
                    fields.fail(f"{where}.state", "invalid_enum_value", problem)
                else:
                    pairs.append((item["domain"], item["state"]))
        else:
            return None
        normalized: list[tuple[str, str]] = []
        for domain, state in pairs:
            name = domain.strip().lower()
            if re.fullmatch(DOMAIN_PATTERN, name) is None:
                fields.fail("domain_data", "invalid_domain", f"'{domain}' is not a valid domain.")
            elif name in {seen for seen, _ in normalized}:
                fields.fail("domain_data", "duplicate_domain", f"'{domain}' is listed twice.")
            else:
                normalized.append((name, state))
        return normalized

    def _check_domains_free(self, names: Sequence[str], organization_id: str | None) -> None:
        taken = self.store.one(
            f"SELECT domain FROM organization_domains WHERE domain IN ({placeholders(names)})"  # noqa: S608
            " AND organization_id IS NOT ?",
            [*names, organization_id],
        )
        if names and taken:
            message = f"Domain '{taken['domain']}' already belongs to another organization."
            raise conflict("domain_already_exists", message)

    def check_external_id_free(self, table: str, external_id: str, own_id: str | None) -> None:
        if clash := self.store.taken_by(table, "external_id", external_id, own_id):
            raise bad_request(
                "external_id_already_used",
                f"The external_id '{external_id}' is already used by {clash}.",
            )

    def _insert_domain(
        self, conn: sqlite3.Connection, organization_id: str, domain: str, state: str
    ) -> str:
        domain_id, now = new_id("org_domain_"), now_iso()
        values = {
            "id": domain_id,
            "organization_id": organization_id,
            "domain": domain,
            "state": state,
            # A domain created verified was verified by an admin, not by DNS.
            "verification_strategy": "manual" if state == "verified" else "dns",
            "verification_prefix": f"workos-domain-verification-{secrets.token_hex(3)}",
            "verification_token": secrets.token_urlsafe(18),
            "created_at": now,
            "updated_at": now,
        }
        self.store.insert("organization_domains", values, conn)
        return domain_id

    def create_organization(self, data: Mapping[str, Any]) -> dict[str, Any]:
        fields = Fields(data)
        values = fields.read(CREATE_RULES)
        domains = self._parse_domains(fields) or []
        fields.check()
        metadata = parse_metadata(data) or {}
        if values["external_id"] is not None:
            self.check_external_id_free("organizations", values["external_id"], None)
        self._check_domains_free([domain for domain, _ in domains], None)
        organization_id, now = new_id("org_"), now_iso()
        with self.store.transaction() as conn:
            row = {
                **values,
                "id": organization_id,
                "metadata": to_json(metadata),
                "allow_profiles_outside_organization": bool(values[ALLOW_OUTSIDE.name]),
                "created_at": now,
                "updated_at": now,
            }
            self.store.insert("organizations", row, conn)
            for domain, state in domains:
                self._insert_domain(conn, organization_id, domain, state)
        return self.organization_json(organization_id)

    def update_organization(self, organization_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        self.row("organizations", organization_id)
        fields = Fields(data)
        values = fields.read(UPDATE_RULES)
        domains = self._parse_domains(fields)
        fields.check()
        metadata = parse_metadata(data)
        if values["external_id"] is not None:
            self.check_external_id_free("organizations", values["external_id"], organization_id)
        if domains is not None:
            self._check_domains_free([domain for domain, _ in domains], organization_id)
        stripe_customer_id = values["stripe_customer_id"]
        if stripe_customer_id is not None and self.store.taken_by(
            "organizations", "stripe_customer_id", stripe_customer_id, organization_id
        ):
            raise bad_request(
                "stripe_customer_id_already_used",
                f"The stripe_customer_id '{stripe_customer_id}' is already used.",
            )
        changes = {k: v for k, v in values.items() if v is not None or k == "external_id"}
        if not fields.has("external_id"):
            del changes["external_id"]
        if metadata is not None:
            changes["metadata"] = to_json(metadata)
        now = now_iso()
        changes["updated_at"] = now
        with self.store.transaction() as conn:
            self.store.update("organizations", changes, "id = ?", [organization_id], conn)
            if domains is not None:
                self._replace_domains(conn, organization_id, domains, now)
        return self.organization_json(organization_id)

    def _replace_domains(
        self,
        conn: sqlite3.Connection,
        organization_id: str,
        domains: Sequence[tuple[str, str]],
        now: str,
    ) -> None:
        """PUT semantics: the organization ends with exactly ``domains``; a domain that stays
        keeps its id (and its verification), one whose state changes is updated in place."""
        existing = {
            row["domain"]: row
            for row in conn.execute(
                "SELECT * FROM organization_domains WHERE organization_id = ?", [organization_id]
            )
        }
        wanted = dict(domains)
        for domain, row in existing.items():
            state = wanted.get(domain)
            if state is None:
                conn.execute("DELETE FROM organization_domains WHERE id = ?", [row["id"]])
            elif state != row["state"]:
                changes = {"state": state, "updated_at": now}
                if state == "verified":
                    changes["verification_strategy"] = "manual"
                self.store.update("organization_domains", changes, "id = ?", [row["id"]], conn)
        for domain, state in domains:
            if domain not in existing:
                self._insert_domain(conn, organization_id, domain, state)

    def _list_organizations(self, call: Call) -> dict[str, Any]:
        conditions: list[str] = []
        args: list[Any] = []
        domains = [domain.lower() for domain in query_list(call.query, "domains")]
        if domains:
            conditions.append(
                "id IN (SELECT organization_id FROM organization_domains "
                f"WHERE domain IN ({placeholders(domains)}))"
            )
            args.extend(domains)
        if search := call.query.get("search"):
            escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append("name LIKE ? ESCAPE '\\'")
            args.append(f"%{escaped}%")
        params = parse_list_params(call.query)
        rows, metadata = self.page("organizations", params, " AND ".join(conditions), args)
        return self.list_body(self.organizations_json(rows), metadata)

    def _by_external_id(self, call: Call) -> dict[str, Any]:
        row = self.row("organizations", call.path["external_id"], "external_id")
        return self.organizations_json([row])[0]

    # ----------------------------------------------------------------- domains

    def _create_domain(self, call: Call) -> dict[str, Any]:
        rules = [
            Rule(name, required=True, non_empty=True) for name in ("domain", "organization_id")
        ]
        values = read_fields(call.json, rules)
        domain, organization_id = values["domain"], values["organization_id"]
        name = domain.strip().lower()
        if re.fullmatch(DOMAIN_PATTERN, name) is None:
            raise unprocessable(
                f"'{domain}' is not a valid domain.",
                [{"field": "domain", "code": "invalid_domain"}],
            )
        self.row("organizations", organization_id)
        if self.store.find("organization_domains", "domain", name):
            raise conflict("domain_already_exists", f"Domain '{name}' already exists.")
        with self.store.transaction() as conn:
            domain_id = self._insert_domain(conn, organization_id, name, "pending")
            changes = {"updated_at": now_iso()}
            self.store.update("organizations", changes, "id = ?", [organization_id], conn)
        return domain_json(self.row(DOMAINS, domain_id))

    def _verify_domain(self, call: Call) -> dict[str, Any]:
        row = self.row(DOMAINS, call.path["id"])
        if row["state"] in ("verified", "legacy_verified"):
            raise bad_request("domain_already_verified", "Domain is already verified.")
        # WorkOS starts a DNS check; the emulator has no DNS to look at and succeeds at once.
        changes = {"state": "verified", "updated_at": now_iso()}
        self.store.update("organization_domains", changes, "id = ?", [row["id"]])
        return domain_json(self.row(DOMAINS, row["id"]))
