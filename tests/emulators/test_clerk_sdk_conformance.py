"""The official Clerk Python SDK (PyPI ``clerk-backend-api`` 7.x) against the emulator.

The SDK's models are generated from Clerk's OpenAPI document and raise on a missing required
field or an unknown discriminator, so parsing every answer into them checks that the
emulator's payloads have the shapes real clients expect. Its server URL is
``https://api.clerk.com/v1`` (``sdkconfiguration.SERVERS``), so the emulator is addressed as
``<emulator>/v1``.

Known SDK behaviour the emulator accommodates:
- The SDK sends ``Clerk-API-Version: 2025-11-10`` (its ``clerk_before_request_hook``) although
  it is generated from the 2026-05-12 document; the emulator ignores the header.
- ``EmailAddress.verification`` is a union discriminated on ``object``, which the document
  marks optional: the emulator always sends it (``verification_admin``…).
- The SDK has no ``starting_after`` parameter on ``users.list`` (the document has); the raw
  HTTP tests cover cursor paging.
- SDK 7.0.0 has a method for every configuration endpoint authform uses (organization roles
  and permissions with assignments, redirect URLs, ``instance_settings``, ``domains``,
  organization domains and metadata, ``users.update``, ``users.verify_password``,
  ``email_addresses.replace_for_user``); ``instance_settings.update`` returns ``None`` for
  the documented empty 204. The Frontend API (``GET /v1/environment``) is not part of the
  Backend SDK; ``test_clerk_instance_config`` checks it over raw HTTP.

Real HTTP on 127.0.0.1, no mocks. Retries are off so errors surface at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import bcrypt
import pytest
from clerk_backend_api import Clerk, models
from clerk_backend_api.utils import BackoffStrategy, RetryConfig

from authform.emulators import ClerkRateLimits, Limit, RunningEmulator, start_emulator

from .clerk_digests import SAMPLE_DIGESTS

DIGEST = bcrypt.hashpw(b"correct horse battery staple", bcrypt.gensalt(4)).decode()
NO_RETRIES = RetryConfig("none", BackoffStrategy(1, 1, 1, 1), False)

# The SDK reads its own deprecated ``last_active_at_since`` field when building user queries
# and warns about it on every call; that is the SDK talking to itself, not the emulator.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:clerk_backend_api")


def clerk_sdk(emulator: RunningEmulator, key: str | None = None) -> Clerk:
    return Clerk(
        bearer_auth=key or emulator.api_key,
        server_url=f"{emulator.url}/v1",
        retry_config=NO_RETRIES,
        timeout_ms=10_000,
    )


@pytest.fixture
def sdk(clerk_emulator: RunningEmulator) -> Iterator[Clerk]:
    with clerk_sdk(clerk_emulator) as client:
        yield client


def error_codes(error: models.ClerkErrors) -> list[str]:
    return [item.code for item in error.data.errors]


# --------------------------------------------------------------------------- users


def test_users_round_trip_through_sdk_models(sdk: Clerk) -> None:
    created = sdk.users.create(
        email_address=["ada@example.com", "ada@work.example"],
        phone_number=["+15555550100"],
        first_name="Ada",
        last_name="Lovelace",
        username="ada_l",
        external_id="legacy-1",
        password_digest=DIGEST,
        password_hasher="bcrypt",
        totp_secret="JBSWY3DPEHPK3PXP",
        public_metadata={"plan": "pro"},
        private_metadata={"stripe": "cus_1"},
        unsafe_metadata={"theme": "dark"},
        skip_password_checks=True,
        created_at="2023-11-14T22:13:20Z",
    )
    assert isinstance(created, models.User)
    assert created.id.startswith("user_") and created.object == models.UserObject.USER
    assert created.created_at == 1_700_000_000_000
    assert created.primary_email_address_id == created.email_addresses[0].id
    assert isinstance(created.email_addresses[0].verification, models.Admin)
    assert created.phone_numbers[0].phone_number == "+15555550100"
    assert created.password_enabled and created.totp_enabled and created.two_factor_enabled
    assert created.private_metadata == {"stripe": "cus_1"}
    assert created.unsafe_metadata == {"theme": "dark"}

    reserved = sdk.users.create(
        email_address=["una@example.com"],
        email_address_identification_status=[models.EmailAddressIdentificationStatus.RESERVED],
    )
    assert reserved.email_addresses[0].reserved and reserved.email_addresses[0].verification is None

    fetched = sdk.users.get(user_id=created.id)
    assert fetched == created
    listed = sdk.users.list(request={"limit": 1, "order_by": "+created_at"})
    assert [user.id for user in listed] == [created.id]
    assert all(isinstance(user, models.User) for user in listed)
    filtered = sdk.users.list(request={"email_address": ["ADA@example.com"], "query": "Love"})
    assert [user.id for user in filtered] == [created.id]
    count = sdk.users.count(request={"external_id": ["legacy-1"]})
    assert isinstance(count, models.TotalCount) and count.total_count == 1
    assert sdk.users.count().total_count == 2

    deleted = sdk.users.delete(user_id=reserved.id)
    assert isinstance(deleted, models.DeletedObject)
    assert (deleted.object, deleted.id, deleted.deleted) == ("user", reserved.id, True)


def test_user_errors_parse_as_clerk_errors(sdk: Clerk) -> None:
    sdk.users.create(email_address=["ada@example.com"])
    with pytest.raises(models.ClerkErrors) as taken:
        sdk.users.create(email_address=["ada@example.com"])
    assert taken.value.status_code == 422
    assert error_codes(taken.value) == ["form_identifier_exists"]
    assert taken.value.data.errors[0].meta == {"param_name": "email_address"}
    with pytest.raises(models.ClerkErrors) as digest:
        sdk.users.create(
            email_address=["b@example.com"],
            password_digest="$2a$10$short",
            password_hasher="bcrypt",
        )
    assert error_codes(digest.value) == ["form_password_digest_invalid"]
    with pytest.raises(models.ClerkErrors) as missing:
        sdk.users.get(user_id="user_missing")
    assert missing.value.status_code == 404
    assert error_codes(missing.value) == ["resource_not_found"]
    with pytest.raises(models.ClerkErrors) as bad_limit:
        sdk.users.list(request={"limit": 501})
    assert error_codes(bad_limit.value) == ["form_param_value_invalid"]


def test_wrong_key_is_clerk_errors_401(clerk_emulator: RunningEmulator) -> None:
    with (
        clerk_sdk(clerk_emulator, key="sk_test_wrong") as sdk,
        pytest.raises(models.ClerkErrors) as raised,
    ):
        sdk.users.list()
    assert raised.value.status_code == 401
    assert error_codes(raised.value) == ["clerk_key_invalid"]


def test_rate_limited_answer_reaches_the_sdk_as_429() -> None:
    limits = ClerkRateLimits(instance=Limit(1, 60))
    with start_emulator("clerk", rate_limits=limits) as emulator, clerk_sdk(emulator) as sdk:
        sdk.users.count()
        with pytest.raises(models.SDKError) as raised:
            sdk.users.count()
    assert raised.value.status_code == 429
    assert raised.value.raw_response.headers["retry-after"].isdigit()


# --------------------------------------------------------------------------- organizations


def test_organizations_round_trip_through_sdk_models(sdk: Clerk) -> None:
    owner = sdk.users.create(email_address=["owner@example.com"])
    created = sdk.organizations.create(
        request={
            "name": "Acme Inc",
            "slug": "acme",
            "created_by": owner.id,
            "public_metadata": {"tier": "gold"},
            "private_metadata": {"crm": "42"},
            "max_allowed_memberships": 10,
        }
    )
    assert isinstance(created, models.Organization)
    assert (created.slug, created.created_by, created.max_allowed_memberships) == (
        "acme",
        owner.id,
        10,
    )
    assert sdk.organizations.get(organization_id="acme") == created
    counted = sdk.organizations.get(organization_id=created.id, include_members_count=True)
    assert counted.members_count == 1
    listed = sdk.organizations.list(limit=5, query="acm", include_members_count=True)
    assert isinstance(listed, models.Organizations) and listed.total_count == 1
    assert listed.data[0].members_count == 1
    mine = sdk.organizations.list(user_id=[owner.id], order_by="name")
    assert [org.id for org in mine.data] == [created.id]
    updated = sdk.organizations.update(
        organization_id=created.id, name="Acme Corp", admin_delete_enabled=False
    )
    assert (updated.name, updated.admin_delete_enabled) == ("Acme Corp", False)
    other = sdk.organizations.create(request={"name": "Other"})
    with pytest.raises(models.ClerkErrors) as taken:
        sdk.organizations.update(organization_id=other.id, slug="acme")
    assert taken.value.status_code == 422
    assert error_codes(taken.value) == ["form_identifier_exists"]
    deleted = sdk.organizations.delete(organization_id=created.id)
    assert isinstance(deleted, models.DeletedObject)
    assert (deleted.object, deleted.slug, deleted.deleted) == ("organization", "acme", True)
    with pytest.raises(models.ClerkErrors) as gone:
        sdk.organizations.get(organization_id=created.id)
    assert gone.value.status_code == 404


# --------------------------------------------------------------------------- memberships


def test_memberships_round_trip_through_sdk_models(sdk: Clerk) -> None:
    org = sdk.organizations.create(request={"name": "Acme"})
    ada = sdk.users.create(email_address=["ada@example.com"], first_name="Ada")
    bob = sdk.users.create(phone_number=["+15555550101"], first_name="Bob")
    membership = sdk.organization_memberships.create(
        organization_id=org.id, user_id=ada.id, role="org:admin", public_metadata={"t": 1}
    )
    assert isinstance(membership, models.OrganizationMembership)
    assert membership.organization.id == org.id and membership.role_name == "Admin"
    assert membership.public_user_data is not None
    assert membership.public_user_data.identifier == "ada@example.com"
    sdk.organization_memberships.create(organization_id=org.id, user_id=bob.id, role="org:member")

    listed = sdk.organization_memberships.list(
        organization_id=org.id, limit=10, order_by="-created_at", role=["org:admin", "org:member"]
    )
    assert isinstance(listed, models.OrganizationMemberships) and listed.total_count == 2
    by_user = sdk.organization_memberships.list(organization_id=org.id, user_id=[bob.id])
    assert [m.public_user_data.user_id for m in by_user.data if m.public_user_data] == [bob.id]

    updated = sdk.organization_memberships.update(
        organization_id=org.id, user_id=ada.id, role="org:member"
    )
    assert (updated.id, updated.role, updated.role_name) == (membership.id, "org:member", "Member")
    instance = sdk.users.get_instance_organization_memberships(limit=1, offset=1)
    assert instance.total_count == 2 and len(instance.data) == 1
    per_user = sdk.users.get_organization_memberships(user_id=ada.id)
    assert [m.id for m in per_user.data] == [membership.id]

    removed = sdk.organization_memberships.delete(organization_id=org.id, user_id=ada.id)
    assert isinstance(removed, models.OrganizationMembership) and removed.id == membership.id
    with pytest.raises(models.ClerkErrors) as gone:
        sdk.organization_memberships.delete(organization_id=org.id, user_id=ada.id)
    assert gone.value.status_code == 404
    with pytest.raises(models.ClerkErrors) as invalid:
        sdk.organization_memberships.update(organization_id=org.id, user_id=bob.id, role="nope")
    assert error_codes(invalid.value) == ["form_param_value_invalid"]


# --------------------------------------------------------------------------- the export sample


def test_sdk_parses_every_user_organization_and_membership_of_the_export_sample(
    clerk_export_emulator: RunningEmulator,
) -> None:
    """The sample's edge cases (phone-only, unverified-only, TOTP, several emails, a
    membership whose user is gone, legacy role keys) all parse into the SDK's models."""
    with clerk_sdk(clerk_export_emulator) as sdk:
        users = sdk.users.list(request={"limit": 500})
        organizations = sdk.organizations.list(limit=500, include_members_count=True)
        memberships = sdk.users.get_instance_organization_memberships(limit=500)
        per_org = [
            sdk.organization_memberships.list(organization_id=org.id, limit=500)
            for org in organizations.data
        ]
    assert len(users) == 14 and all(isinstance(user, models.User) for user in users)
    unverified = next(user for user in users if user.id.endswith("014"))
    assert isinstance(unverified.email_addresses[0].verification, models.Otp)
    assert organizations.total_count == 3
    assert memberships.total_count == 7
    assert sum(page.total_count for page in per_org) == 7
    ghost = next(
        m
        for m in memberships.data
        if m.public_user_data and m.public_user_data.user_id.startswith("user_2aGhost")
    )
    assert ghost.public_user_data is not None and ghost.public_user_data.first_name is None


# --------------------------------------------------------------------------- roles, permissions


def test_permissions_and_roles_round_trip_through_sdk_models(sdk: Clerk) -> None:
    permission = sdk.organization_permissions.create(
        name="Manage billing", key="org:billing:manage", description="Plans and invoices"
    )
    assert isinstance(permission, models.Permission) and permission.type == "user"
    reports = sdk.organization_permissions.create(name="Read reports", key="org:reports:read")
    assert sdk.organization_permissions.get(permission_id=permission.id) == permission
    listed = sdk.organization_permissions.list(query="billing", order_by="key", limit=5)
    assert isinstance(listed, models.Permissions)
    assert [p.key for p in listed.data] == ["org:billing:manage"]
    renamed = sdk.organization_permissions.update(permission_id=reports.id, name="Reports")
    assert renamed.name == "Reports"

    role = sdk.organization_roles.create(
        name="Billing",
        key="org:billing",
        description="Finance team",
        permissions=[permission.id],
        include_in_initial_role_set=True,
    )
    assert isinstance(role, models.Role) and role.key == "org:billing"
    assert [p.key for p in role.permissions] == ["org:billing:manage"]
    assert all(isinstance(p, models.Permission) for p in role.permissions)
    with_reports = sdk.organization_roles.assign_permission(
        organization_role_id=role.id, permission_id=reports.id
    )
    assert {p.key for p in with_reports.permissions} == {"org:billing:manage", "org:reports:read"}
    with pytest.raises(models.ClerkErrors) as twice:
        sdk.organization_roles.assign_permission(
            organization_role_id=role.id, permission_id=reports.id
        )
    assert twice.value.status_code == 409
    without = sdk.organization_roles.remove_permission(
        organization_role_id=role.id, permission_id=permission.id
    )
    assert [p.key for p in without.permissions] == ["org:reports:read"]
    updated = sdk.organization_roles.update(
        organization_role_id=role.id, name="Finance", permissions=[permission.id]
    )
    assert (updated.name, [p.key for p in updated.permissions]) == (
        "Finance",
        ["org:billing:manage"],
    )
    roles = sdk.organization_roles.list(order_by="key", limit=10)
    assert isinstance(roles, models.Roles) and roles.total_count == 3
    assert sdk.organization_roles.get(organization_role_id=role.id) == updated
    with pytest.raises(models.ClerkErrors) as bad_key:
        sdk.organization_roles.create(name="Owner", key="owner")
    assert error_codes(bad_key.value) == ["form_param_format_invalid"]
    deleted_role = sdk.organization_roles.delete(organization_role_id=role.id)
    assert isinstance(deleted_role, models.DeletedObject) and deleted_role.deleted
    deleted = sdk.organization_permissions.delete(permission_id=permission.id)
    assert (deleted.object, deleted.deleted) == ("permission", True)


# --------------------------------------------------------------------------- application settings


def test_redirect_urls_instance_and_domains_through_sdk_models(sdk: Clerk) -> None:
    created = sdk.redirect_urls.create(request={"url": "https://app.example.com/callback"})
    assert isinstance(created, models.RedirectURL)
    sdk.redirect_urls.create(request={"url": "my-app://oauth-callback"})
    listed = sdk.redirect_urls.list(paginated=True, limit=1, offset=0)
    assert [u.url for u in listed] == ["https://app.example.com/callback"]
    assert sdk.redirect_urls.get(id=created.id) == created
    assert sdk.redirect_urls.delete(id=created.id).deleted is True

    # UpdateInstance answers 204 with no body: the SDK returns None.
    assert (
        sdk.instance_settings.update(request={"allowed_origins": ["https://app.example.com"]})
        is None
    )
    instance = sdk.instance_settings.get()
    assert isinstance(instance, models.Instance)
    assert (instance.environment_type, instance.allowed_origins) == (
        "development",
        ["https://app.example.com"],
    )
    domains = sdk.domains.list()
    assert isinstance(domains, models.Domains) and domains.total_count == 1
    assert domains.data[0].frontend_api_url.endswith("/fapi")


# The SDK's OrganizationDomain model warns when it parses the field the document marks
# deprecated (``verification``, an alias of ``affiliation_verification``), which the document
# still requires in every answer.
@pytest.mark.filterwarnings("ignore:.*DEPRECATED.*:DeprecationWarning")
def test_organization_domains_and_metadata_through_sdk_models(sdk: Clerk) -> None:
    org = sdk.organizations.create(request={"name": "Acme", "slug": "acme"})
    domain = sdk.organization_domains.create(
        organization_id=org.id, name="acme.com", enrollment_mode="manual_invitation"
    )
    assert isinstance(domain, models.OrganizationDomain) and domain.name == "acme.com"
    assert domain.affiliation_verification is not None
    assert domain.affiliation_verification.status == "verified"
    pending = sdk.organization_domains.create(
        organization_id=org.id, name="acme.dev", enrollment_mode="manual_invitation", verified=False
    )
    assert pending.affiliation_verification is None
    listed = sdk.organization_domains.list(organization_id=org.id, verified="false")
    assert [d.name for d in listed.data] == ["acme.dev"]
    promoted = sdk.organization_domains.update(
        organization_id=org.id, domain_id=pending.id, verified=True
    )
    assert promoted.affiliation_verification is not None
    everything = sdk.organization_domains.list_all(order_by="name", limit=10)
    assert isinstance(everything, models.OrganizationDomains) and everything.total_count == 2
    removed = sdk.organization_domains.delete(organization_id=org.id, domain_id=pending.id)
    assert isinstance(removed, models.DeletedObject) and removed.deleted

    merged = sdk.organizations.merge_metadata(
        organization_id=org.id, public_metadata={"tier": "gold", "seats": 5}
    )
    assert merged.public_metadata == {"tier": "gold", "seats": 5}
    replaced = sdk.organizations.replace_metadata(
        organization_id=org.id, public_metadata={"tier": "silver"}
    )
    assert isinstance(replaced, models.Organization)
    assert replaced.public_metadata == {"tier": "silver"}


# --------------------------------------------------------------------------- user changes


def test_user_update_email_replacement_and_password_check_through_the_sdk(sdk: Clerk) -> None:
    ada = sdk.users.create(email_address=["ada@example.com"], first_name="Ada")
    updated = sdk.users.update(
        user_id=ada.id,
        external_id="legacy-1",
        last_name="Lovelace",
        password_digest=DIGEST,
        password_hasher="bcrypt",
    )
    assert isinstance(updated, models.User)
    assert (updated.external_id, updated.last_name, updated.password_enabled) == (
        "legacy-1",
        "Lovelace",
        True,
    )
    checked = sdk.users.verify_password(user_id=ada.id, password="correct horse battery staple")
    assert checked.verified is True
    with pytest.raises((models.ClerkErrors, models.SDKError)) as wrong:
        sdk.users.verify_password(user_id=ada.id, password="wrong")
    assert wrong.value.status_code == 422
    address = sdk.email_addresses.replace_for_user(
        user_id=ada.id,
        email_address="ada@new.example",
        identification_status=models.IdentificationStatus.RESERVED,
    )
    assert isinstance(address, models.EmailAddress) and address.reserved
    assert sdk.users.get(user_id=ada.id).primary_email_address_id == address.id


@pytest.mark.parametrize("hasher", sorted(SAMPLE_DIGESTS))
def test_users_are_created_with_a_digest_of_every_hasher_clerk_accepts(
    sdk: Clerk, hasher: str
) -> None:
    user = sdk.users.create(
        email_address=[f"{hasher}@example.com"],
        password_digest=SAMPLE_DIGESTS[hasher],
        password_hasher=hasher,
    )
    assert user.password_enabled is True
    with pytest.raises(models.ClerkErrors) as malformed:
        sdk.users.create(
            email_address=["bad@example.com"], password_digest="x$", password_hasher=hasher
        )
    assert error_codes(malformed.value) == ["form_password_digest_invalid"]
