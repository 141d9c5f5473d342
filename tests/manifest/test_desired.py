"""Manifest -> desired resources: exact spec shapes, normalization, managed kinds."""

from __future__ import annotations

from authform.manifest import desired_resources, load_manifest, managed_kinds
from authform.manifest.models import Manifest
from authform.resources import Kind, Resource, normalize_spec

from .conftest import DATA, FIXTURE_ENV


def _manifest(**sections: object) -> Manifest:
    return Manifest.model_validate(
        {"version": 1, "target": {"provider": "workos", "api_key": "sk"}, **sections}
    )


def test_full_example_resources() -> None:
    manifest = load_manifest(DATA / "valid" / "full.yaml", env=FIXTURE_ENV).manifest
    resources = desired_resources(manifest)
    assert [(r.kind, r.key, dict(r.spec)) for r in resources] == [
        (
            Kind.PERMISSION,
            "billing:manage",
            {
                "description": "Change plans and payment methods.",
                "name": "Manage billing",
                "slug": "billing:manage",
            },
        ),
        (
            Kind.PERMISSION,
            "reports:read",
            {"description": "", "name": "Read reports", "slug": "reports:read"},
        ),
        (
            Kind.ROLE,
            "admin",
            {
                "description": "Full access.",
                "name": "Admin",
                "permissions": ["billing:manage", "reports:read"],
                "slug": "admin",
            },
        ),
        (
            Kind.ROLE,
            "member",
            {"description": "", "name": "Member", "permissions": [], "slug": "member"},
        ),
        (
            Kind.ORGANIZATION,
            "acme",
            {
                "domains": [
                    {"domain": "acme.com", "state": "verified"},
                    {"domain": "acme.io", "state": "pending"},
                ],
                "metadata": {"region": "eu", "tier": "gold"},
                "name": "Acme Inc",
            },
        ),
        (Kind.ORGANIZATION, "globex", {"domains": [], "metadata": {}, "name": "Globex"}),
        (
            Kind.REDIRECT_URI,
            "https://app.example.com/callback",
            {"uri": "https://app.example.com/callback"},
        ),
        (
            Kind.REDIRECT_URI,
            "http://localhost:3000/callback",
            {"uri": "http://localhost:3000/callback"},
        ),
        (Kind.CORS_ORIGIN, "https://app.example.com", {"origin": "https://app.example.com"}),
        (Kind.CORS_ORIGIN, "http://localhost:3000", {"origin": "http://localhost:3000"}),
        (
            Kind.SOCIAL_CONNECTION,
            "google",
            {"client_id": "1234.apps.googleusercontent.com", "provider": "google"},
        ),
        (
            Kind.SOCIAL_CONNECTION,
            "github",
            {"client_id": "Iv1.0123456789abcdef", "provider": "github"},
        ),
    ]
    assert all(r.provider_id is None for r in resources)


def test_specs_equal_what_a_provider_reads_back_in_any_order() -> None:
    manifest = _manifest(
        roles=[{"slug": "admin", "name": "Admin", "permissions": ["b", "a", "c"]}],
        organizations=[
            {
                "key": "acme",
                "name": "Acme",
                "domains": [{"domain": "z.com"}, {"domain": "A.com", "state": "verified"}],
                "metadata": {"b": "2", "a": "1"},
            }
        ],
        permissions=[{"slug": s, "name": s} for s in "abc"],
    )
    by_address = {r.address: r for r in desired_resources(manifest)}
    live_role = {
        "permissions": ["c", "a", "b"],
        "name": "Admin",
        "slug": "admin",
        "description": "",
    }
    live_org = {
        "metadata": {"a": "1", "b": "2"},
        "domains": [
            {"state": "pending", "domain": "z.com"},
            {"domain": "a.com", "state": "verified"},
        ],
        "name": "Acme",
    }
    assert by_address["role.admin"].spec == normalize_spec(live_role)
    assert by_address["organization.acme"].spec == normalize_spec(live_org)


def test_client_secrets_never_reach_specs() -> None:
    manifest = _manifest(
        social_connections=[{"provider": "google", "client_id": "id", "client_secret": "s3cret"}]
    )
    [resource] = desired_resources(manifest)
    assert resource == Resource(
        Kind.SOCIAL_CONNECTION, "google", {"client_id": "id", "provider": "google"}
    )
    assert "s3cret" not in repr(resource)


def test_managed_kinds_follow_present_sections() -> None:
    assert managed_kinds(_manifest()) == set()
    assert desired_resources(_manifest()) == []
    empty = _manifest(permissions=[], roles=[], redirect_uris=[], cors_origins=[])
    assert managed_kinds(empty) == {
        Kind.PERMISSION,
        Kind.ROLE,
        Kind.REDIRECT_URI,
        Kind.CORS_ORIGIN,
    }
    assert desired_resources(empty) == []
    with_everything = _manifest(
        organizations=[],
        social_connections=[],
        users={"source": {"kind": "clerk-json", "path": "users.json"}},
    )
    assert managed_kinds(with_everything) == {
        Kind.ORGANIZATION,
        Kind.SOCIAL_CONNECTION,
        Kind.USER,
        Kind.MEMBERSHIP,
    }


def test_folder_resources_keep_file_order() -> None:
    manifest = load_manifest(DATA / "folder", env=FIXTURE_ENV).manifest
    assert [r.address for r in desired_resources(manifest)] == [
        "permission.billing:manage",
        "permission.reports:read",
        "role.admin",
        "role.member",
        "organization.acme",
        "redirect_uri.https://app.example.com/callback",
    ]
    assert managed_kinds(manifest) == {
        Kind.PERMISSION,
        Kind.ROLE,
        Kind.ORGANIZATION,
        Kind.REDIRECT_URI,
    }
