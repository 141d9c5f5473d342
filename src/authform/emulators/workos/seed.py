"""The WorkOS seed: a starting tenant, each item created through the same operation an API
call would use and skipped when its natural key exists::

    permissions: [{slug: "billing:manage", name: Manage billing}]
    roles:
      - {slug: admin, name: Admin, permissions: ["billing:manage"]}
      - {slug: member, name: Member}
    organizations:
      - {name: Acme, external_id: acme, domain_data: [{domain: acme.com, state: verified}]}
    users:
      - email: ada@acme.com
        password: correct horse battery staple
        memberships: [{organization: acme, role: admin}]  # external_id or name
      - {email: bob@acme.com, password_hash: "$2b$10$…", password_hash_type: bcrypt}
    redirect_uris: [https://app.example.com/callback]
    cors_origins: [https://app.example.com]
    social_connections: {google: 1234.apps.googleusercontent.com}
"""

from __future__ import annotations

from typing import Any, Final

from ..seeding import SeedSection, create_once, find_organization, required, seed_social_connection
from .redirects import Redirects


def _role(backend: Redirects, item: Any) -> None:
    slug = required(item, "slug")
    permissions = item.get("permissions") or []
    if not isinstance(permissions, list):
        raise ValueError(f"seed role {slug}: permissions must be a list of slugs")
    if not backend.store.find("roles", "slug", slug):
        backend.create_role({key: value for key, value in item.items() if key != "permissions"})
        backend.set_role_permissions(slug, permissions)


def _organization(backend: Redirects, item: Any) -> None:
    reference = item.get("external_id") or required(item, "name")
    if find_organization(backend.store, reference, "name"):
        return
    body = dict(item)
    if body.get("domains") and isinstance(body["domains"][0], dict):
        body["domain_data"] = body.pop("domains")
    backend.create_organization(body)


def _user(backend: Redirects, item: Any) -> None:
    email = str(required(item, "email")).strip().lower()
    body = {key: value for key, value in item.items() if key != "memberships"}
    if body.get("password_hash") is not None:
        body.setdefault("password_hash_type", "bcrypt")
    row = backend.store.find("users", "email", email)
    user_id = row["id"] if row else backend.create_user(body)["id"]
    for membership in item.get("memberships") or []:
        reference = str(required(membership, "organization"))
        organization = find_organization(backend.store, reference, "name")
        if organization is None:
            raise ValueError(f"seed user {email}: no organization {membership['organization']!r}")
        if backend.store.one(
            "SELECT 1 FROM organization_memberships WHERE user_id = ? AND organization_id = ?",
            [user_id, organization],
        ):
            continue
        request: dict[str, Any] = {"user_id": user_id, "organization_id": organization}
        if membership.get("roles"):
            request["role_slugs"] = membership["roles"]
        elif membership.get("role"):
            request["role_slug"] = membership["role"]
        backend.create_membership(request)


SEED_SECTIONS: Final = (
    SeedSection("permissions", create_once("permissions", "slug", "create_permission")),
    SeedSection("roles", _role),
    SeedSection("organizations", _organization),
    SeedSection("users", _user),
    SeedSection(
        "redirect_uris", create_once("redirect_uris", "uri", "create_redirect_uri", scalar=True)
    ),
    SeedSection(
        "cors_origins", create_once("cors_origins", "origin", "create_cors_origin", scalar=True)
    ),
    SeedSection("social_connections", seed_social_connection, container=dict),
)
