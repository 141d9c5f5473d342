"""Organization domains (``/v1/organizations/{id}/domains``, ``/v1/organization_domains``)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from .collection import Collection, Filters, like, query_values
from .family import NO_IMAGE, Answers, Operation, Rows, not_found, param_invalid
from .forms import Rule, body, names, read_form
from .organizations import Organizations

ENROLLMENT_MODES: Final = names(
    "manual_invitation automatic_invitation automatic_suggestion enterprise_sso"
)
ENROLLMENT_MODE: Final = Rule(
    choices=ENROLLMENT_MODES,
    invalid=f"enrollment_mode must be one of {', '.join(ENROLLMENT_MODES)}.",
)
# Public email providers Clerk refuses as organization domains (a sample of its list).
COMMON_EMAIL_DOMAINS: Final = frozenset(
    {"gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com"}
)
DOMAIN_NAME: Final = Rule(
    pattern=re.compile(
        r"(?i)(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]"
    ),
    invalid="name must be a valid domain name, e.g. example.com.",
)
UPDATE_DOMAIN: Final = body("enrollment_mode verified", enrollment_mode=ENROLLMENT_MODE)
CREATE_DOMAIN: Final = body("name! enrollment_mode verified", name=DOMAIN_NAME, **UPDATE_DOMAIN)


def domain_json(row: sqlite3.Row, organization: sqlite3.Row) -> dict[str, Any]:
    """An ``OrganizationDomain``. ``verified`` in the create and update bodies is the
    affiliation verification (the one members prove by email); its deprecated alias
    ``verification`` carries the same. DNS ownership is never attempted here, so
    ``ownership_verification`` stays null, as the document says it does until then."""
    affiliation = (
        # "verified_at: Only populated on ownership_verification"
        {"status": "verified", "strategy": "admin", "attempts": None, "expire_at": None}
        | {"verified_at": None}
        if row["verified"]
        else None
    )
    public = {key: organization[key] for key in ("id", "name", "slug")}
    return {
        "object": "organization_domain",
        **{key: row[key] for key in ("id", "organization_id", "name", "enrollment_mode")},
        "affiliation_email_address": None,
        "affiliation_verification": affiliation,
        "ownership_verification": None,
        "verification": affiliation,
        "total_pending_invitations": 0,
        "total_pending_suggestions": 0,
        "public_organization_data": {**public, **NO_IMAGE},
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


class Domains(Collection):
    table, noun, object = "clerk_organization_domains", "organization domain", "organization_domain"
    path, item, prefix = "/organizations/{organization_id}/domains", "domain_id", "orgdmn_"
    verbs, search = ("list", "create", "update", "delete"), ""
    create_rules, update_rules = CREATE_DOMAIN, UPDATE_DOMAIN
    order = {"created_at": "t.created_at", "name": "t.name"}

    def __init__(self, organizations: Organizations) -> None:
        super().__init__(organizations.store)
        self.organizations = organizations

    def operations(self) -> Sequence[Operation]:
        return (*super().operations(), ("GET", "/organization_domains", self.list))

    def row(self, request: Request) -> sqlite3.Row:
        """The domain a request names, of the organization it names."""
        organization = self.organizations.row(request)
        row = self.store.one(
            "SELECT * FROM clerk_organization_domains WHERE id = ? AND organization_id = ?",
            [request.path_params["domain_id"], organization["id"]],
        )
        if row is None:
            raise not_found("organization domain", request.path_params["domain_id"])
        return row

    def answers(self, rows: Rows, request: Request | None = None) -> Answers:
        organizations = self.organizations.by_id({row["organization_id"] for row in rows})
        return [domain_json(row, organizations[row["organization_id"]]) for row in rows]

    async def create(self, request: Request) -> Response:
        organization = self.organizations.row(request)
        form = await read_form(request, CREATE_DOMAIN)
        name = (form["name"] or "").strip().lower()
        if name in COMMON_EMAIL_DOMAINS:
            form.fail(
                "organization_domain_common",
                "name",
                "is a common email provider",
                "This is a common email provider domain; it cannot be an organization domain.",
            )
        elif name and self.store.find(self.table, "name", name):
            text = "That domain is taken by an organization. Please try another."
            form.fail("form_identifier_exists", "name", text, text)
        form.check()
        domain_id = self.insert(
            {
                "organization_id": organization["id"],
                "name": name,
                "enrollment_mode": form["enrollment_mode"] or "manual_invitation",
                "verified": form["verified"] is not False,  # "Defaults to true"
            }
        )
        return self.respond(domain_id)

    def filters(self, request: Request) -> Filters:
        """An organization's domains; or every organization's (``/v1/organization_domains``),
        with filters of its own, read before those both lists take."""
        filters, nested = Filters(), "organization_id" in request.path_params
        if nested:
            filters.add("t.organization_id = ?", self.organizations.row(request)["id"])
        elif organization_id := request.query_params.get("organization_id"):
            filters.add("t.organization_id = ?", organization_id)
        query = None if nested else request.query_params.get("query")
        if query is not None:
            if not query.strip():
                raise param_invalid("query", "query must not be empty.")
            if query.startswith("org_"):  # "an exact organization ID match"
                filters.add("t.organization_id = ?", query)
            else:
                filters.add("t.name LIKE ? ESCAPE '\\'", like(query))
        if not nested:
            filters.add_in("t.name", [name.lower() for name in query_values(request, "domains")])
        verified = request.query_params.get("verified")
        if verified:
            if verified not in ("true", "false"):
                raise param_invalid("verified", "verified must be true or false.")
            filters.add("t.verified = ?", verified == "true")
        modes = [
            mode
            for value in query_values(request, "enrollment_mode")
            for mode in value.split(",")
            if mode
        ]
        if any(mode.lstrip("+- ") not in ENROLLMENT_MODES for mode in modes):
            raise param_invalid("enrollment_mode", ENROLLMENT_MODE.invalid)
        filters.add_signed(
            "t.enrollment_mode IN ({values})", "t.enrollment_mode NOT IN ({values})", modes
        )
        return filters
