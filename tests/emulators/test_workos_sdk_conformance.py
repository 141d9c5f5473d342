"""The official WorkOS Python SDK (PyPI ``workos`` 10.x) against the emulator.

The SDK's models are generated from WorkOS's OpenAPI document and raise on a missing
required field, so parsing every answer into them is a check that the emulator's payloads
have the shapes real clients expect. WorkOS's own emulator fails this SDK on roles,
permissions and redirect URIs; these tests make sure ours does not.

Real HTTP on 127.0.0.1, no mocks. ``max_retries=0`` so errors surface at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import bcrypt
import httpx
import pytest
from workos import WorkOSClient
from workos._errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    RateLimitExceededError,
    UnprocessableEntityError,
)
from workos.authorization.models import Role, RoleList
from workos.common.models.authorization_permission import AuthorizationPermission
from workos.common.models.organization_domain import OrganizationDomain
from workos.common.models.user import User
from workos.organization_membership import RoleMultiple, RoleSingle
from workos.organization_membership.models import OrganizationMembership
from workos.organizations.models import Organization, OrganizationDomainData
from workos.user_management import PasswordHashed, PasswordPlaintext
from workos.user_management.models import (
    AuthenticateResponse,
    CORSOriginResponse,
    RedirectUri,
    UserCreateResponse,
)

from authform.emulators import Limit, RateLimits, RunningEmulator, start_emulator
from authform.social import SOCIAL_PROVIDERS


@pytest.fixture
def sdk(workos_emulator: RunningEmulator) -> Iterator[WorkOSClient]:
    client = WorkOSClient(
        api_key=workos_emulator.api_key,
        client_id=workos_emulator.client_id,
        base_url=workos_emulator.url,
        max_retries=0,
        request_timeout=10,
    )
    try:
        yield client
    finally:
        client.close()


def domain_data(domain: str, state: str) -> OrganizationDomainData:
    return OrganizationDomainData.from_dict({"domain": domain, "state": state})


def test_organizations_round_trip_through_sdk_models(sdk: WorkOSClient) -> None:
    created = sdk.organizations.create_organization(
        name="Acme Inc",
        domain_data=[domain_data("acme.com", "verified"), domain_data("acme.dev", "pending")],
        external_id="acme",
        metadata={"tier": "gold"},
    )
    assert isinstance(created, Organization)
    assert created.id.startswith("org_")
    assert created.name == "Acme Inc"
    assert created.external_id == "acme"
    assert created.metadata == {"tier": "gold"}
    assert isinstance(created.created_at, datetime) and created.created_at.tzinfo is not None
    domains = {d.domain: d for d in created.domains}
    assert all(isinstance(d, OrganizationDomain) for d in created.domains)
    assert domains["acme.com"].state is not None and domains["acme.com"].state.value == "verified"
    assert domains["acme.dev"].state is not None and domains["acme.dev"].state.value == "pending"
    assert all(
        d.id.startswith("org_domain_") and d.organization_id == created.id for d in domains.values()
    )

    assert sdk.organizations.get_organization(created.id).name == "Acme Inc"
    assert sdk.organizations.get_organization_by_external_id("acme").id == created.id

    updated = sdk.organizations.update_organization(
        created.id,
        name="Acme Corporation",
        domain_data=[domain_data("acme.com", "verified"), domain_data("acme.io", "pending")],
        metadata={"tier": "platinum"},
    )
    kept = {d.domain: d.id for d in updated.domains}
    assert updated.name == "Acme Corporation"
    assert set(kept) == {"acme.com", "acme.io"}  # domain_data replaces the set...
    assert kept["acme.com"] == domains["acme.com"].id  # ...keeping ids of domains that stay
    assert updated.metadata == {"tier": "platinum"}
    assert updated.updated_at >= created.updated_at

    other = sdk.organizations.create_organization(name="Globex")
    by_domain = sdk.organizations.list_organizations(domains=["acme.io"])
    assert [o.id for o in by_domain.data] == [created.id]
    by_name = sdk.organizations.list_organizations(search="glob")
    assert [o.id for o in by_name.data] == [other.id]

    sdk.organizations.delete_organization(created.id)
    with pytest.raises(NotFoundError) as missing:
        sdk.organizations.get_organization(created.id)
    assert missing.value.code == "entity_not_found"


def test_organization_pagination_walks_every_page(sdk: WorkOSClient) -> None:
    ids = [sdk.organizations.create_organization(name=f"Org {i:02}").id for i in range(23)]
    first = sdk.organizations.list_organizations(limit=10)
    assert len(first.data) == 10 and first.before is None and first.after is not None
    walked = [org.id for org in first.auto_paging_iter()]
    assert walked == list(reversed(ids))  # default order: newest first
    ascending = sdk.organizations.list_organizations(limit=10, order="asc")
    assert [org.id for org in ascending.auto_paging_iter()] == ids


def test_organization_domains_service(sdk: WorkOSClient) -> None:
    org = sdk.organizations.create_organization(name="Initech")
    domain = sdk.organization_domains.create_organization_domain(
        domain="initech.com", organization_id=org.id
    )
    assert isinstance(domain, OrganizationDomain)
    assert domain.domain == "initech.com"
    assert domain.state is not None and domain.state.value == "pending"
    assert domain.verification_strategy is not None
    assert domain.verification_strategy.value == "dns"
    assert domain.verification_token and domain.verification_prefix

    fetched = sdk.organization_domains.get_organization_domain(domain.id)
    assert fetched.id == domain.id
    verified = sdk.organization_domains.verify_organization_domain(domain.id)
    assert verified.state is not None and verified.state.value == "verified"
    with pytest.raises(BadRequestError) as again:
        sdk.organization_domains.verify_organization_domain(domain.id)
    assert again.value.code == "domain_already_verified"
    with pytest.raises(ConflictError) as taken:
        sdk.organization_domains.create_organization_domain(
            domain="initech.com", organization_id=org.id
        )
    assert taken.value.code == "domain_already_exists"

    sdk.organization_domains.delete_organization_domain(domain.id)
    with pytest.raises(NotFoundError):
        sdk.organization_domains.get_organization_domain(domain.id)


def test_users_crud_and_pagination(sdk: WorkOSClient) -> None:
    created = [
        sdk.user_management.create_user(
            email=f"User{i:02}@Example.com ",
            first_name="User",
            last_name=f"{i:02}",
            external_id=f"clerk_{i:02}",
            email_verified=True,
            metadata={"source": "clerk"},
        )
        for i in range(25)
    ]
    first = created[0]
    assert isinstance(first, UserCreateResponse)
    assert first.id.startswith("user_")
    assert first.email == "user00@example.com"  # trimmed and lowercased, as WorkOS does
    assert first.email_verified is True
    assert first.last_sign_in_at is None
    assert first.metadata == {"source": "clerk"}

    page = sdk.user_management.list_users(limit=10)
    assert all(isinstance(u, User) for u in page.data)
    walked = [u.id for u in page.auto_paging_iter()]
    assert walked == [u.id for u in reversed(created)]

    assert [u.id for u in sdk.user_management.list_users(email="USER07@example.com").data] == [
        created[7].id
    ]
    assert sdk.user_management.get_user(created[3].id).external_id == "clerk_03"
    assert sdk.user_management.get_user_by_external_id("clerk_04").id == created[4].id

    updated = sdk.user_management.update_user(
        created[5].id, first_name="Ada", external_id="ada", locale="en-GB"
    )
    assert isinstance(updated, User)
    assert (updated.first_name, updated.external_id, updated.locale) == ("Ada", "ada", "en-GB")

    with pytest.raises(BadRequestError) as duplicate:
        sdk.user_management.create_user(email="user01@example.com")
    assert duplicate.value.code == "user_creation_error"
    assert duplicate.value.errors == [
        {"code": "email_not_available", "message": "This email is not available."}
    ]

    sdk.user_management.delete_user(created[6].id)
    with pytest.raises(NotFoundError):
        sdk.user_management.get_user(created[6].id)


def test_authenticate_with_password_checks_bcrypt(sdk: WorkOSClient) -> None:
    # A Clerk export carries $2a$/$2b$ digests; both must verify.
    digest = bcrypt.hashpw(b"clerk-secret-1", bcrypt.gensalt(4)).decode().replace("$2b$", "$2a$")
    imported = sdk.user_management.create_user(
        email="imported@example.com",
        password=PasswordHashed(password_hash=digest, password_hash_type="bcrypt"),
    )
    native = sdk.user_management.create_user(
        email="native@example.com", password=PasswordPlaintext(password="native-secret-1")
    )
    org = sdk.organizations.create_organization(name="Acme")
    sdk.authorization.create_environment_role(slug="member", name="Member")
    sdk.organization_membership.create_organization_membership(
        user_id=native.id, organization_id=org.id
    )

    result = sdk.user_management.authenticate_with_password(
        email="imported@example.com", password="clerk-secret-1"
    )
    assert isinstance(result, AuthenticateResponse)
    assert result.user.id == imported.id
    assert result.access_token.count(".") == 2 and result.refresh_token
    assert result.authentication_method is not None
    assert result.authentication_method.value == "Password"
    assert result.user.last_sign_in_at is not None
    assert result.organization_id is None

    signed_in = sdk.user_management.authenticate_with_password(
        email="NATIVE@example.com", password="native-secret-1"
    )
    assert signed_in.user.id == native.id
    assert signed_in.organization_id == org.id  # the user's only organization

    with pytest.raises(BadRequestError) as wrong:
        sdk.user_management.authenticate_with_password(
            email="imported@example.com", password="not-it"
        )
    assert wrong.value.code == "invalid_credentials"


def test_authenticate_rejects_a_client_secret_that_is_not_the_api_key(
    workos_emulator: RunningEmulator,
) -> None:
    with (
        WorkOSClient(
            api_key="sk_test_wrong",
            client_id=workos_emulator.client_id,
            base_url=workos_emulator.url,
            max_retries=0,
        ) as client,
        pytest.raises(BadRequestError) as rejected,
    ):
        client.user_management.authenticate_with_password(email="a@b.co", password="x")
    assert rejected.value.error == "invalid_client"


def test_organization_memberships_lifecycle(sdk: WorkOSClient) -> None:
    for slug in ("member", "admin", "billing"):
        sdk.authorization.create_environment_role(slug=slug, name=slug.title())
    org = sdk.organizations.create_organization(name="Acme")
    user = sdk.user_management.create_user(email="ada@acme.com", first_name="Ada")

    membership = sdk.organization_membership.create_organization_membership(
        user_id=user.id, organization_id=org.id, role=RoleSingle(role_slug="admin")
    )
    assert isinstance(membership, OrganizationMembership)
    assert membership.id.startswith("om_")
    assert membership.status.value == "active"
    assert membership.role.slug == "admin"
    assert [r.slug for r in membership.roles] == ["admin"]
    assert membership.user.email == "ada@acme.com"
    assert membership.organization_name == "Acme"

    fetched = sdk.organization_membership.get_organization_membership(membership.id)
    assert fetched.user_id == user.id and fetched.organization_id == org.id

    updated = sdk.organization_membership.update_organization_membership(
        membership.id, role=RoleMultiple(role_slugs=["admin", "billing"])
    )
    assert [r.slug for r in updated.roles] == ["admin", "billing"]

    listed = sdk.organization_membership.list_organization_memberships(organization_id=org.id)
    assert [m.id for m in listed.data] == [membership.id]

    deactivated = sdk.organization_membership.deactivate_organization_membership(membership.id)
    assert deactivated.status.value == "inactive"
    # Only active memberships are listed by default.
    assert sdk.organization_membership.list_organization_memberships(user_id=user.id).data == []
    inactive = sdk.organization_membership.list_organization_memberships(
        user_id=user.id, statuses=["inactive"]
    )
    assert [m.id for m in inactive.data] == [membership.id]

    reactivated = sdk.organization_membership.reactivate_organization_membership(membership.id)
    assert reactivated.status.value == "active"

    with pytest.raises(UnprocessableEntityError) as bad_role:
        sdk.organization_membership.update_organization_membership(
            membership.id, role=RoleSingle(role_slug="owner")
        )
    assert bad_role.value.code == "invalid_role"

    sdk.organization_membership.delete_organization_membership(membership.id)
    with pytest.raises(NotFoundError):
        sdk.organization_membership.get_organization_membership(membership.id)

    # Without a role the environment's default role, `member`, is used.
    default = sdk.organization_membership.create_organization_membership(
        user_id=user.id, organization_id=org.id
    )
    assert default.role.slug == "member"


def test_roles_and_permissions(sdk: WorkOSClient) -> None:
    read = sdk.authorization.create_permission(
        slug="posts:read", name="Read posts", description="View posts"
    )
    assert isinstance(read, AuthorizationPermission)
    assert read.id.startswith("perm_") and read.system is False
    write = sdk.authorization.create_permission(slug="posts:write", name="Write posts")
    assert write.description is None

    page = sdk.authorization.list_permissions(limit=1)
    assert [p.slug for p in page.auto_paging_iter()] == ["posts:write", "posts:read"]
    assert sdk.authorization.get_permission("posts:read").name == "Read posts"
    renamed = sdk.authorization.update_permission("posts:read", name="Read all posts")
    assert renamed.name == "Read all posts"

    role = sdk.authorization.create_environment_role(slug="editor", name="Editor")
    assert isinstance(role, Role)
    assert role.id.startswith("role_")
    assert role.type.value == "EnvironmentRole"
    assert role.permissions == []
    role = sdk.authorization.add_environment_role_permission("editor", body_slug="posts:read")
    assert role.permissions == ["posts:read"]
    role = sdk.authorization.set_environment_role_permissions(
        "editor", permissions=["posts:read", "posts:write"]
    )
    assert role.permissions == ["posts:read", "posts:write"]
    role = sdk.authorization.update_environment_role("editor", description="Edits posts")
    assert role.description == "Edits posts" and role.name == "Editor"

    roles = sdk.authorization.list_environment_roles()
    assert isinstance(roles, RoleList)
    assert [r.slug for r in roles.data] == ["editor"]
    assert sdk.authorization.get_environment_role("editor").permissions == [
        "posts:read",
        "posts:write",
    ]

    with pytest.raises(ConflictError) as conflict:
        sdk.authorization.create_environment_role(slug="editor", name="Again")
    assert conflict.value.code == "role_slug_conflict"
    with pytest.raises(NotFoundError):
        sdk.authorization.set_environment_role_permissions("editor", permissions=["nope"])

    sdk.authorization.delete_permission("posts:write")
    assert sdk.authorization.get_environment_role("editor").permissions == ["posts:read"]
    with pytest.raises(NotFoundError):
        sdk.authorization.get_permission("posts:write")


def test_redirect_uris_and_cors_origins(sdk: WorkOSClient) -> None:
    first = sdk.user_management.create_redirect_uri(uri="https://app.example.com/callback")
    second = sdk.user_management.create_redirect_uri(uri="http://localhost:3000/callback")
    assert isinstance(first, RedirectUri)
    assert first.id.startswith("redir_")
    assert (first.default, second.default) == (True, False)
    listed = sdk.user_management.list_redirect_uris()
    assert [r.uri for r in listed.data] == [second.uri, first.uri]
    # The SDK names this method in the plural.
    sdk.user_management.delete_redirect_uris(second.id)
    assert [r.id for r in sdk.user_management.list_redirect_uris().data] == [first.id]

    origin = sdk.user_management.create_cors_origin(origin="https://app.example.com")
    assert isinstance(origin, CORSOriginResponse)
    assert origin.id.startswith("cors_origin_")
    assert [o.origin for o in sdk.user_management.list_cors_origins().data] == [origin.origin]
    with pytest.raises(ConflictError) as duplicate:
        sdk.user_management.create_cors_origin(origin="https://app.example.com")
    assert duplicate.value.code == "duplicate_cors_origin"
    with pytest.raises(UnprocessableEntityError):
        sdk.user_management.create_cors_origin(origin="not an origin")


def test_get_authorization_url_leads_to_the_social_provider(
    sdk: WorkOSClient, workos_emulator: RunningEmulator
) -> None:
    sdk.user_management.create_redirect_uri(uri="https://app.example.com/callback")
    workos_emulator.set_social_connection("google", "1234.apps.googleusercontent.com")
    url = sdk.user_management.get_authorization_url(
        provider="GoogleOAuth", redirect_uri="https://app.example.com/callback", state="s1"
    )
    assert url.startswith(workos_emulator.url + "/user_management/authorize?")

    response = httpx.get(url, follow_redirects=False)
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    google = SOCIAL_PROVIDERS["google"].oauth_authorize_url
    assert f"{location.scheme}://{location.netloc}{location.path}" == google
    query = parse_qs(location.query)
    assert query["client_id"] == ["1234.apps.googleusercontent.com"]
    assert query["response_type"] == ["code"]
    assert query["state"] == ["s1"]


def test_sdk_maps_emulator_errors(workos_emulator: RunningEmulator) -> None:
    with (
        WorkOSClient(
            api_key="sk_test_wrong", base_url=workos_emulator.url, max_retries=0
        ) as wrong_key,
        pytest.raises(AuthenticationError),
    ):
        wrong_key.organizations.list_organizations()
    with WorkOSClient(
        api_key=workos_emulator.api_key, base_url=workos_emulator.url, max_retries=0
    ) as client:
        with pytest.raises(UnprocessableEntityError) as invalid:
            client.organizations.list_organizations(limit=500)
        assert invalid.value.code == "invalid_request_parameters"
        assert invalid.value.request_id  # X-Request-ID reaches the SDK's error


def test_sdk_sees_rate_limit_with_retry_after() -> None:
    with (
        start_emulator(rate_limits=RateLimits(general=Limit(3, 30))) as emulator,
        WorkOSClient(api_key=emulator.api_key, base_url=emulator.url, max_retries=0) as client,
    ):
        for _ in range(3):
            client.organizations.list_organizations()
        with pytest.raises(RateLimitExceededError) as limited:
            client.organizations.list_organizations()
    assert limited.value.retry_after is not None and 1 <= limited.value.retry_after <= 30
    assert limited.value.code == "rate_limit_exceeded"
