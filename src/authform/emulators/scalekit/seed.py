"""The Scalekit seed: a starting environment, each item created through the same operation
an API call would use and skipped when its natural key exists::

    permissions: [{name: "billing:manage", description: Change plans}]
    roles: [{name: admin, display_name: Admin, permissions: ["billing:manage"]}]
    organizations:
      - {display_name: Acme, external_id: acme, domains: [{domain: acme.com, state: pending}]}
    users:
      - {email: ada@acme.com, external_id: u1, memberships: [{organization: acme, role: admin}]}
    redirect_uris: [https://app.example.com/callback]
    social_connections: {google: 1234.apps.googleusercontent.com}

A domain's ``state: pending`` adds it DNS-pending, as the Admin Portal would.
"""

from __future__ import annotations

from typing import Any, Final

from ..seeding import SeedSection, create_once, find_organization, required, seed_social_connection
from .oauth import OAuth


def _organization(backend: OAuth, item: Any) -> None:
    reference = item.get("external_id") or required(item, "display_name")
    if find_organization(backend.store, reference, "display_name"):
        return
    body = {key: value for key, value in item.items() if key != "domains"}
    organization_id = backend.create_organization(body)["id"]
    for domain in item.get("domains") or []:
        status = "PENDING" if domain.get("state") == "pending" else None
        request = {"domain": domain["domain"], "domain_type": "ORGANIZATION_DOMAIN"}
        backend.create_domain(organization_id, request, status=status)


def _user(backend: OAuth, item: Any) -> None:
    email = str(required(item, "email"))
    memberships = item.get("memberships") or []
    if not memberships:
        raise ValueError(f"seed user {email}: Scalekit users need an organization membership")
    if backend.store.find("users", "email_key", email.lower()):
        return
    user_id = None
    for membership in memberships:
        reference = str(required(membership, "organization"))
        organization_id = find_organization(backend.store, reference, "display_name")
        if organization_id is None:
            raise ValueError(f"seed user {email}: no organization {membership['organization']}")
        roles = [{"name": membership["role"]}] if membership.get("role") else []
        if user_id is None:
            body = {k: v for k, v in item.items() if k != "memberships"}
            body["membership"] = {"roles": roles}
            user = backend.create_user_and_membership(organization_id, body, send_invitation=False)
            user_id = user["id"]
        else:
            backend.create_membership(
                organization_id, user_id, {"roles": roles}, send_invitation=False
            )


SEED_SECTIONS: Final = (
    SeedSection("permissions", create_once("permissions", "name", "create_permission")),
    SeedSection("roles", create_once("roles", "name", "create_role")),
    SeedSection("organizations", _organization),
    SeedSection("users", _user),
    SeedSection("redirect_uris", lambda backend, uri: backend.add_redirect_uri(uri)),
    SeedSection("social_connections", seed_social_connection, container=dict),
)
