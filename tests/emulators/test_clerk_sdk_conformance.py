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

Real HTTP on 127.0.0.1, no mocks. Retries are off so errors surface at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import bcrypt
import pytest
from clerk_backend_api import Clerk, models
from clerk_backend_api.utils import BackoffStrategy, RetryConfig

from authform.emulators import ClerkRateLimits, Limit, RunningEmulator, start_emulator

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
