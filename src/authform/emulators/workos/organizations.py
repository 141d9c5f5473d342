"""Organizations and their domains (``/organizations``, ``/organization_domains``)."""

from __future__ import annotations

import re
import secrets
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from ..routing import Call, Endpoint, Shape
from ..store import placeholders, to_json
from .core import WorkOSCore
from .errors import bad_request, conflict, unprocessable
from .fields import EXTERNAL_ID, Fields, Rule, parse_metadata, query_list, read_fields
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
        in_ids = f"organization_id IN ({placeholders(ids)})"
        for domain in self.store.all(f"SELECT * FROM {DOMAINS} WHERE {in_ids} ORDER BY id", ids):
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
            pairs = _domain_data(fields)
        else:
            return None
        normalized: dict[str, str] = {}
        for domain, state in pairs:
            name = domain.strip().lower()
            if re.fullmatch(DOMAIN_PATTERN, name) is None:
                fields.fail("domain_data", "invalid_domain", f"'{domain}' is not a valid domain.")
            elif name in normalized:
                fields.fail("domain_data", "duplicate_domain", f"'{domain}' is listed twice.")
            else:
                normalized[name] = state
        return list(normalized.items())

    def _check_free(
        self, own_id: str | None, values: Mapping[str, Any], domains: Sequence[tuple[str, str]]
    ) -> None:
        """Refuse what another organization holds: an external id, a domain, a Stripe id."""
        if values["external_id"] is not None:
            self.check_external_id_free("organizations", values["external_id"], own_id)
        names = [domain for domain, _ in domains]
        taken = self.store.one(
            f"SELECT domain FROM {DOMAINS} WHERE domain IN ({placeholders(names)})"  # noqa: S608
            " AND organization_id IS NOT ?",
            [*names, own_id],
        )
        if names and taken:
            message = f"Domain '{taken['domain']}' already belongs to another organization."
            raise conflict("domain_already_exists", message)
        stripe_customer_id = values.get("stripe_customer_id")
        if stripe_customer_id is not None and self.store.taken_by(
            "organizations", "stripe_customer_id", stripe_customer_id, own_id
        ):
            raise bad_request(
                "stripe_customer_id_already_used",
                f"The stripe_customer_id '{stripe_customer_id}' is already used.",
            )

    def check_external_id_free(self, table: str, external_id: str, own_id: str | None) -> None:
        if clash := self.store.taken_by(table, "external_id", external_id, own_id):
            raise bad_request(
                "external_id_already_used",
                f"The external_id '{external_id}' is already used by {clash}.",
            )

    def _insert_domain(
        self, conn: sqlite3.Connection, organization_id: str, domain: str, state: str
    ) -> str:
        values = {
            "organization_id": organization_id,
            "domain": domain,
            "state": state,
            # A domain created verified was verified by an admin, not by DNS.
            "verification_strategy": "manual" if state == "verified" else "dns",
            "verification_prefix": f"workos-domain-verification-{secrets.token_hex(3)}",
            "verification_token": secrets.token_urlsafe(18),
        }
        return self.insert(DOMAINS, "org_domain_", values, conn)

    def create_organization(self, data: Mapping[str, Any]) -> dict[str, Any]:
        fields = Fields(data)
        values = fields.read(CREATE_RULES)
        domains = self._parse_domains(fields) or []
        fields.check()
        metadata = parse_metadata(data) or {}
        self._check_free(None, values, domains)
        values.update(
            metadata=to_json(metadata),
            allow_profiles_outside_organization=bool(values[ALLOW_OUTSIDE.name]),
        )
        with self.store.transaction() as conn:
            organization_id = self.insert("organizations", "org_", values, conn)
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
        self._check_free(organization_id, values, domains or [])
        # An explicit null clears the external id; other fields are left as they are.
        changes = {k: v for k, v in values.items() if v is not None or k == "external_id"}
        if not fields.has("external_id"):
            del changes["external_id"]
        if metadata is not None:
            changes["metadata"] = to_json(metadata)
        with self.store.transaction() as conn:
            self.touch("organizations", organization_id, conn, **changes)
            if domains is not None:
                self._replace_domains(conn, organization_id, domains)
        return self.organization_json(organization_id)

    def _replace_domains(
        self, conn: sqlite3.Connection, organization_id: str, domains: Sequence[tuple[str, str]]
    ) -> None:
        """PUT semantics: the organization ends with exactly ``domains``; a domain that stays
        keeps its id (and its verification), one whose state changes is updated in place."""
        existing = {
            row["domain"]: row
            for row in conn.execute(
                f"SELECT * FROM {DOMAINS} WHERE organization_id = ?", [organization_id]
            )
        }
        wanted = dict(domains)
        for domain, row in existing.items():
            state = wanted.get(domain)
            if state is None:
                conn.execute(f"DELETE FROM {DOMAINS} WHERE id = ?", [row["id"]])
            elif state != row["state"]:
                manual = {"verification_strategy": "manual"} if state == "verified" else {}
                self.touch(DOMAINS, row["id"], conn, state=state, **manual)
        for domain, state in domains:
            if domain not in existing:
                self._insert_domain(conn, organization_id, domain, state)

    def _list_organizations(self, call: Call) -> dict[str, Any]:
        conditions: dict[str, list[Any]] = {}
        if domains := [domain.lower() for domain in query_list(call.query, "domains")]:
            in_domains = f"SELECT organization_id FROM {DOMAINS} WHERE domain IN"
            conditions[f"id IN ({in_domains} ({placeholders(domains)}))"] = domains
        if search := call.query.get("search"):
            escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions["name LIKE ? ESCAPE '\\'"] = [f"%{escaped}%"]
        return self.listing(call, "organizations", self.organizations_json, conditions)

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
        if self.store.find(DOMAINS, "domain", name):
            raise conflict("domain_already_exists", f"Domain '{name}' already exists.")
        with self.store.transaction() as conn:
            domain_id = self._insert_domain(conn, organization_id, name, "pending")
            self.touch("organizations", organization_id, conn)
        return domain_json(self.row(DOMAINS, domain_id))

    def _verify_domain(self, call: Call) -> dict[str, Any]:
        row = self.row(DOMAINS, call.path["id"])
        if row["state"] in ("verified", "legacy_verified"):
            raise bad_request("domain_already_verified", "Domain is already verified.")
        # WorkOS starts a DNS check; the emulator has no DNS to look at and succeeds at once.
        self.touch(DOMAINS, row["id"], state="verified")
        return domain_json(self.row(DOMAINS, row["id"]))


def _domain_data(fields: Fields) -> list[tuple[str, str]]:
    """``domain_data``'s ``{domain, state}`` items, each problem noted on ``fields``."""
    items = fields.data["domain_data"]
    if not isinstance(items, list):
        fields.fail("domain_data", "invalid_type", "domain_data must be an array.")
        return []
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
    return pairs
