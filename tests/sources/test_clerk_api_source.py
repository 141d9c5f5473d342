"""The live Clerk API source against the Clerk emulator on 127.0.0.1: every record of the
export sample read back through the API, cursor and offset paging across pages, 429 with
Retry-After, 5xx retries, errors without the secret key, HTTPS policy, and the CSV digest
join. Real HTTP, no mocks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from authform.apis.clerk import (
    DEVELOPMENT_LIMIT,
    PRODUCTION_LIMIT,
    api_base_url,
    describe_clerk_error,
    rate_limit_for_key,
)
from authform.emulators import RunningEmulator
from authform.providers.http import RateLimit, RetryPolicy
from authform.sources import (
    MalformedRecord,
    PasswordDigest,
    SourceEmail,
    SourceError,
    SourceMembership,
    SourceOrganization,
    SourceUser,
)
from authform.sources.clerk_api import (
    ClerkApiError,
    ClerkApiSource,
    CsvDigests,
    load_csv_digests,
    merge_csv_digests,
    read_clerk_api_memberships,
    read_clerk_api_organizations,
    read_clerk_api_source,
    read_clerk_api_users,
    user_from_api,
)

from . import FIXTURES

T = TypeVar("T")
FAST_RETRIES = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)
UNLIMITED = RateLimit(10_000, 1.0)  # so the emulator's limit, not ours, is what gets hit


def source(emulator: RunningEmulator, **options: Any) -> ClerkApiSource:
    options.setdefault("retry", FAST_RETRIES)
    return ClerkApiSource(emulator.api_key, base_url=f"{emulator.url}/v1", **options)


async def collect(stream: AsyncIterator[T]) -> list[T]:
    return [item async for item in stream]


def read_all(emulator: RunningEmulator, **options: Any) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        async with source(emulator, **options) as clerk:
            return {
                "users": await collect(clerk.iter_users()),
                "organizations": await collect(clerk.iter_organizations()),
                "memberships": await collect(clerk.iter_memberships()),
                "requests": clerk.requests_sent,
            }

    return asyncio.run(run())


def api_queries(emulator: RunningEmulator, path: str) -> list[dict[str, str]]:
    return [entry["query"] for entry in emulator.requests_log() if entry["path"] == path]


# --------------------------------------------------------------------------- the sample


def test_reads_every_user_organization_and_membership_of_the_sample(
    clerk_export_emulator: RunningEmulator,
) -> None:
    result = read_all(clerk_export_emulator)
    users = result["users"]
    assert all(isinstance(user, SourceUser) for user in users)
    assert [user.id[-3:] for user in users] == [f"{n:03}" for n in range(1, 15)]  # oldest first
    by_id = {user.id[-3:]: user for user in users}
    ada = by_id["001"]
    assert (ada.first_name, ada.last_name, ada.username) == ("Ada", "Lovelace", "")
    assert ada.emails == (SourceEmail("ada@example.com", True),)
    assert ada.primary_email == "ada@example.com"
    assert ada.origin == "Clerk API users #1 (user_2aAda0000000000000000001)"
    assert ada.password is None and ada.totp_secret is None  # the API has neither
    assert by_id["002"].username == "ghopper"
    assert by_id["005"].emails == (
        SourceEmail("jessica@atreides.example", True),
        SourceEmail("jessica@harkonnen.example", True),
    )
    assert by_id["005"].primary_email == "jessica@atreides.example"
    assert (by_id["006"].first_name, by_id["006"].last_name) == ("José", "Ñúñez")
    assert by_id["007"].primary_email == "Mixed.Case@Example.COM"  # as stored, not lowered
    assert by_id["010"].primary_email == "ADA@example.com"
    phone_only = by_id["011"]
    assert (phone_only.emails, phone_only.primary_email) == ((), None)
    assert phone_only.phone_numbers == ("+15555550111",)
    assert (by_id["012"].first_name, by_id["012"].last_name) == ('Robert "Bobby"', "Tables, Jr.")
    assert by_id["013"].totp_enabled and not by_id["001"].totp_enabled
    assert by_id["014"].emails == (SourceEmail("una@example.com", False),)

    assert result["organizations"] == [
        SourceOrganization(
            id="org_2aAcme000000000000000001",
            origin="Clerk API organizations #1 (org_2aAcme000000000000000001)",
            name="Acme Inc",
            slug="acme",
            public_metadata={"tier": "enterprise"},
        ),
        SourceOrganization(
            id="org_2aGlobx000000000000000002",
            origin="Clerk API organizations #2 (org_2aGlobx000000000000000002)",
            name="Globex",
            slug="globex",
        ),
        SourceOrganization(
            id="org_2aEmpty000000000000000003",
            origin="Clerk API organizations #3 (org_2aEmpty000000000000000003)",
            name="Empty Org",
            slug="empty-org",
        ),
    ]
    memberships = result["memberships"]
    assert all(isinstance(m, SourceMembership) for m in memberships)
    assert {(m.user_id[-3:], m.organization_id[-1], m.role, m.id) for m in memberships} == {
        ("001", "1", "org:admin", "orgmem_00010001"),
        ("002", "1", "org:member", "orgmem_00010002"),
        ("005", "1", "org:member", "orgmem_00010005"),
        ("003", "2", "admin", "orgmem_00020003"),
        ("006", "2", "basic_member", "orgmem_00020006"),
        ("999", "2", "org:member", "orgmem_00029999"),  # a user the export does not hold
        ("011", "2", "org:member", "orgmem_00020011"),
    }
    # One page each at the default (and maximum) page size of 500.
    assert result["requests"] == 3
    assert api_queries(clerk_export_emulator, "/v1/users") == [
        {"limit": "500", "order_by": "+created_at"}
    ]


def test_memberships_of_one_organization(clerk_export_emulator: RunningEmulator) -> None:
    async def run() -> list[Any]:
        async with source(clerk_export_emulator, page_size=2) as clerk:
            return await collect(clerk.iter_memberships("org_2aAcme000000000000000001"))

    memberships = asyncio.run(run())
    assert {m.user_id[-3:] for m in memberships} == {"001", "002", "005"}
    assert api_queries(
        clerk_export_emulator, "/v1/organizations/org_2aAcme000000000000000001/memberships"
    ) == [
        {"limit": "2", "offset": "0", "order_by": "+created_at"},
        {"limit": "2", "offset": "2", "order_by": "+created_at"},
    ]


def test_count_users(clerk_export_emulator: RunningEmulator) -> None:
    async def run() -> int:
        async with source(clerk_export_emulator) as clerk:
            return await clerk.count_users()

    assert asyncio.run(run()) == 14


# --------------------------------------------------------------------------- paging


def test_users_page_by_cursor_across_several_pages(clerk_export_emulator: RunningEmulator) -> None:
    result = read_all(clerk_export_emulator, page_size=3)
    ids = [user.id for user in result["users"]]
    assert len(ids) == len(set(ids)) == 14
    queries = api_queries(clerk_export_emulator, "/v1/users")
    # 14 users in pages of 3: four full pages and a short one, which ends the walk.
    assert len(queries) == 5
    assert queries[0] == {"limit": "3", "order_by": "+created_at"}
    for number, query in enumerate(queries[1:], start=1):
        assert query == {
            "limit": "3",
            "order_by": "+created_at",
            "starting_after": ids[number * 3 - 1],
        }
    assert "offset" not in json.dumps(queries)


def test_a_full_last_page_costs_one_empty_page(clerk_export_emulator: RunningEmulator) -> None:
    result = read_all(clerk_export_emulator, page_size=7)
    assert len(result["users"]) == 14
    assert len(api_queries(clerk_export_emulator, "/v1/users")) == 3


def test_organizations_and_memberships_page_by_offset(
    clerk_export_emulator: RunningEmulator,
) -> None:
    result = read_all(clerk_export_emulator, page_size=2)
    assert len(result["organizations"]) == 3 and len(result["memberships"]) == 7
    assert [q["offset"] for q in api_queries(clerk_export_emulator, "/v1/organizations")] == [
        "0",
        "2",
    ]
    membership_queries = api_queries(clerk_export_emulator, "/v1/organization_memberships")
    # 7 memberships: 2+2+2 and then a short page of 1.
    assert [q["offset"] for q in membership_queries] == ["0", "2", "4", "6"]
    assert {q["limit"] for q in membership_queries} == {"2"}


def test_paging_is_stable_when_users_sign_up_during_the_walk(
    clerk_emulator: RunningEmulator,
) -> None:
    """Oldest first: users created while the walk runs land after the cursor and are read."""
    with httpx.Client(base_url=f"{clerk_emulator.url}/v1") as client:
        client.headers["Authorization"] = f"Bearer {clerk_emulator.api_key}"
        for n in range(4):
            client.post("/users", json={"email_address": [f"u{n}@example.com"]})

        async def run() -> list[str]:
            seen = []
            async with source(clerk_emulator, page_size=2) as clerk:
                async for user in clerk.iter_users():
                    assert isinstance(user, SourceUser)
                    seen.append(user.primary_email or "")
                    if len(seen) == 1:
                        await asyncio.to_thread(
                            client.post, "/users", json={"email_address": ["late@example.com"]}
                        )
            return seen

        seen = asyncio.run(run())
    assert seen == [f"u{n}@example.com" for n in range(4)] + ["late@example.com"]


# --------------------------------------------------------------------------- failures


def test_429_with_retry_after_is_waited_out_with_bounded_requests(
    clerk_export_emulator: RunningEmulator,
) -> None:
    clerk_export_emulator.set_rate_limits(instance={"requests": 3, "per_seconds": 1})
    result = read_all(clerk_export_emulator, page_size=3, rate_limit=UNLIMITED)
    assert len(result["users"]) == 14 and len(result["memberships"]) == 7
    statuses = [entry["status"] for entry in clerk_export_emulator.requests_log()]
    throttled = statuses.count(429)
    # Pages: 5 (users) + 1 (3 organizations, the total) + 3 (memberships) = 9 requests.
    assert statuses.count(200) == 9
    assert throttled >= 1  # the limit was really hit...
    assert throttled <= 6  # ...and each 429 was waited out, not hammered
    assert result["requests"] == 9 + throttled


def test_5xx_is_retried_with_backoff(clerk_export_emulator: RunningEmulator) -> None:
    clerk_export_emulator.add_fault(method="GET", path="/v1/users", status=503, times=2)
    result = read_all(clerk_export_emulator)
    assert len(result["users"]) == 14
    statuses = [
        e["status"] for e in clerk_export_emulator.requests_log() if e["path"] == "/v1/users"
    ]
    assert statuses == [503, 503, 200]


def test_persistent_5xx_fails_after_bounded_attempts_with_clerks_explanation(
    clerk_emulator: RunningEmulator,
) -> None:
    clerk_emulator.add_fault(method="GET", path="/v1/organizations", status=500)

    async def run() -> None:
        async with source(clerk_emulator) as clerk:
            await collect(clerk.iter_organizations())

    with pytest.raises(ClerkApiError) as raised:
        asyncio.run(run())
    error = raised.value
    assert (error.status, error.code) == (500, "internal_clerk_error")
    assert "GET /organizations" in str(error) and "clerk trace id" in str(error)
    assert len(clerk_emulator.requests_log()) == FAST_RETRIES.max_attempts
    assert isinstance(error, SourceError)  # an import reports it like any unreadable source


def test_wrong_key_is_a_clear_error_without_the_key(clerk_export_emulator: RunningEmulator) -> None:
    wrong_key = "sk_test_Wr0ngK3yThatMustNeverBePrinted"
    clerk = ClerkApiSource(
        wrong_key, base_url=f"{clerk_export_emulator.url}/v1", retry=FAST_RETRIES
    )

    async def run() -> None:
        async with clerk:
            await collect(clerk.iter_users())

    with pytest.raises(ClerkApiError) as raised:
        asyncio.run(run())
    error = raised.value
    assert (error.status, error.code) == (401, "clerk_key_invalid")
    message = str(error)
    assert "The provided Clerk Secret Key is invalid" in message
    assert "check the secret key" in message and "clerk trace id" in message
    for text in (message, repr(error), repr(clerk), str(error.__cause__), str(error.__context__)):
        assert wrong_key not in text and "Wr0ngK3y" not in text
    # 401 is not retried.
    assert [e["status"] for e in clerk_export_emulator.requests_log()] == [401]


@pytest.mark.parametrize(
    ("key", "hint"),
    [("pk_test_Y2xlcmsuZXhhbXBsZSQ", "publishable key"), ("not-a-key", "sk_test_")],
)
def test_keys_that_are_not_secret_keys_are_refused_before_any_request(key: str, hint: str) -> None:
    with pytest.raises(ClerkApiError, match=hint) as raised:
        ClerkApiSource(key, base_url="http://127.0.0.1:9/v1")
    assert key not in str(raised.value)


@pytest.mark.parametrize(
    "base_url",
    ["http://api.clerk.com/v1", "http://10.0.0.5:8080/v1", "ftp://api.clerk.com/v1"],
)
def test_https_is_required_except_for_loopback(base_url: str) -> None:
    with pytest.raises(ClerkApiError, match="https"):
        ClerkApiSource("sk_test_x", base_url=base_url)


@pytest.mark.parametrize(
    "base_url", ["https://api.clerk.com/v1", "http://127.0.0.1:8787/v1", "http://localhost/v1"]
)
def test_https_or_loopback_is_accepted(base_url: str) -> None:
    clerk = ClerkApiSource("sk_test_x", base_url=base_url)
    asyncio.run(clerk.aclose())


def test_limits_follow_the_key_kind() -> None:
    assert rate_limit_for_key("sk_test_abc") == DEVELOPMENT_LIMIT == RateLimit(100, 10.0)
    assert rate_limit_for_key("sk_live_abc") == PRODUCTION_LIMIT == RateLimit(1000, 10.0)


def test_page_size_is_bounded() -> None:
    with pytest.raises(ValueError, match="between 1 and 500"):
        ClerkApiSource("sk_test_x", page_size=501)


def test_describe_error_lists_every_error_and_falls_back_to_cf_ray() -> None:
    response = httpx.Response(
        422,
        json={
            "errors": [
                {
                    "message": "is invalid",
                    "long_message": "limit is too big",
                    "code": "a",
                    "meta": {"param_name": "limit"},
                },
                {"message": "is unknown", "long_message": "x is unknown", "code": "b"},
            ]
        },
        headers={"cf-ray": "8abc-FRA"},
    )
    code, message = describe_clerk_error(response)
    assert code == "a"
    assert message == "limit is too big; x is unknown (clerk trace id 8abc-FRA)"


# --------------------------------------------------------------------------- mapping


def test_user_mapping_reads_primary_by_id_and_second_factors() -> None:
    user = user_from_api(
        {
            "id": "user_1",
            "object": "user",
            "first_name": None,
            "primary_email_address_id": "idn_b",
            "primary_phone_number_id": "idn_p2",
            "email_addresses": [
                {"id": "idn_a", "email_address": "a@example.com", "verification": None},
                {
                    "id": "idn_b",
                    "email_address": "b@example.com",
                    "verification": {"status": "verified", "strategy": "admin"},
                },
                {
                    "id": "idn_c",
                    "email_address": "c@example.com",
                    "verification": {"status": "expired", "strategy": "email_code"},
                },
            ],
            "phone_numbers": [
                {
                    "id": "idn_p1",
                    "phone_number": "+15555550001",
                    "reserved_for_second_factor": True,
                },
                {"id": "idn_p2", "phone_number": "+15555550002"},
            ],
            "totp_enabled": False,
            "two_factor_enabled": True,
        },
        "here",
    )
    assert isinstance(user, SourceUser)
    assert user.primary_email == "b@example.com"  # by id, not position
    assert user.emails == (
        SourceEmail("a@example.com", False),
        SourceEmail("b@example.com", True),
        SourceEmail("c@example.com", False),
    )
    assert user.phone_numbers == ("+15555550002", "+15555550001")  # primary first
    assert user.sms_second_factor and not user.totp_enabled
    assert user.first_name == ""


@pytest.mark.parametrize(
    ("item", "problem", "source_id"),
    [
        ([1], "expected an object, found an array", None),
        ({"first_name": "x"}, "the user object has no id", None),
        ({"id": "org_1", "object": "organization"}, "object is 'organization'", "org_1"),
        ({"id": "user_1", "email_addresses": ["a@b.c"]}, "email_addresses[0]", "user_1"),
    ],
)
def test_unreadable_users_become_malformed_records(
    item: Any, problem: str, source_id: str | None
) -> None:
    record = user_from_api(item, "Clerk API users #1")
    assert isinstance(record, MalformedRecord)
    assert problem in record.problem and record.source_id == source_id


# --------------------------------------------------------------------------- CSV join


def test_csv_digests_are_joined_on_the_user_id(clerk_export_emulator: RunningEmulator) -> None:
    async def run() -> list[Any]:
        async with source(clerk_export_emulator, page_size=5) as clerk:
            return await collect(merge_csv_digests(clerk.iter_users(), FIXTURES / "users.csv"))

    users = {user.id[-3:]: user for user in asyncio.run(run())}
    assert len(users) == 14
    assert users["001"].password is not None
    assert users["001"].password.hasher == "bcrypt"
    assert users["001"].password.value.startswith("$2a$10$")
    assert users["003"].password.value.startswith("$2y$")
    assert users["009"].password == PasswordDigest(
        "pbkdf2_sha256", users["009"].password.value
    ) and users["009"].password.value.startswith("pbkdf2_sha256$")
    assert users["004"].password is None and users["011"].password is None
    # Everything else still comes from the API: the CSV is a snapshot.
    assert users["014"].emails == (SourceEmail("una@example.com", False),)
    assert "$2a$" not in repr(users["001"])  # digests stay masked


def test_csv_join_ignores_rows_not_in_the_api_and_users_not_in_the_csv(
    clerk_export_emulator: RunningEmulator, tmp_path: Path
) -> None:
    lines = (FIXTURES / "users.csv").read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    ghost = rows[0].replace("user_2aAda0000000000000000001", "user_2aGhost99999999999999999")
    broken = "user_2aGrace00000000000000002,Grace,only three"
    (tmp_path / "users.csv").write_text(
        "\n".join([header, ghost, broken, *rows[2:]]) + "\n", encoding="utf-8"
    )
    digests = load_csv_digests(tmp_path / "users.csv")
    assert isinstance(digests, CsvDigests)
    assert "user_2aGhost99999999999999999" in digests.by_user_id
    assert [problem.source_id for problem in digests.problems] == ["user_2aGrace00000000000000002"]
    users = {
        user.id[-3:]: user
        for user in read_clerk_api_users(
            clerk_export_emulator.api_key,
            base_url=f"{clerk_export_emulator.url}/v1",
            csv_digests=digests,
        )
    }
    assert len(users) == 14  # the ghost row adds nobody
    assert users["001"].password is None  # its row now names the ghost
    assert users["002"].password is None  # its row is unreadable: reported, not guessed
    assert users["005"].password is not None


def test_an_unreadable_csv_fails_before_any_request(
    clerk_emulator: RunningEmulator, tmp_path: Path
) -> None:
    (tmp_path / "users.csv").write_text("not,a,clerk,export\n", encoding="utf-8")
    with pytest.raises(SourceError, match="not a Clerk Dashboard users CSV"):
        read_clerk_api_users(
            clerk_emulator.api_key,
            base_url=f"{clerk_emulator.url}/v1",
            csv_digests=tmp_path / "users.csv",
        )
    with pytest.raises(SourceError, match="file not found"):
        read_clerk_api_users(clerk_emulator.api_key, csv_digests=tmp_path / "missing.csv")
    assert clerk_emulator.requests_log() == []


# --------------------------------------------------------------------------- sync API


def test_sync_readers_stream_the_same_records(clerk_export_emulator: RunningEmulator) -> None:
    options = {"base_url": f"{clerk_export_emulator.url}/v1", "page_size": 4}
    users = read_clerk_api_users(clerk_export_emulator.api_key, **options)
    assert isinstance(users, Iterator)
    first = next(users)
    assert isinstance(first, SourceUser) and first.id.endswith("001")
    assert len([first, *users]) == 14
    organizations = list(read_clerk_api_organizations(clerk_export_emulator.api_key, **options))
    assert [org.slug for org in organizations if isinstance(org, SourceOrganization)] == [
        "acme",
        "globex",
        "empty-org",
    ]
    globex = list(
        read_clerk_api_memberships(
            clerk_export_emulator.api_key,
            organization_id="org_2aGlobx000000000000000002",
            **options,
        )
    )
    assert len(globex) == 4


def test_stopping_a_sync_reader_early_closes_it(clerk_export_emulator: RunningEmulator) -> None:
    users = read_clerk_api_users(
        clerk_export_emulator.api_key, base_url=f"{clerk_export_emulator.url}/v1", page_size=2
    )
    assert next(users).id.endswith("001")
    users.close()  # type: ignore[attr-defined]
    assert len(clerk_export_emulator.requests_log()) == 1


# --------------------------------------------------------------------------- the manifest source


def test_manifest_source_yields_all_three_streams_with_csv_digests(
    clerk_export_emulator: RunningEmulator,
) -> None:
    from authform.manifest.models import ClerkApiSource as ClerkApiSourceSpec

    settings = ClerkApiSourceSpec(
        kind="clerk-api",
        secret_key=clerk_export_emulator.api_key,
        csv=FIXTURES / "users.csv",
        base_url=clerk_export_emulator.url,  # the API root: /v1 is added
    )
    users, organizations, memberships = read_clerk_api_source(settings)
    assert clerk_export_emulator.requests_log() == []  # nothing fetched until iterated
    by_id = {user.id[-3:]: user for user in users}
    assert len(by_id) == 14 and by_id["002"].password is not None
    assert len(list(organizations)) == 3 and len(list(memberships)) == 7
    assert {entry["path"] for entry in clerk_export_emulator.requests_log()} == {
        "/v1/users",
        "/v1/organizations",
        "/v1/organization_memberships",
    }


def test_manifest_source_refuses_plain_http_before_any_request() -> None:
    from authform.manifest.models import ClerkApiSource as ClerkApiSourceSpec

    settings = ClerkApiSourceSpec.model_construct(
        kind="clerk-api", secret_key="sk_live_x", csv=None, base_url="http://clerk.internal"
    )
    with pytest.raises(ClerkApiError, match="https"):
        read_clerk_api_source(settings)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.clerk.com", "https://api.clerk.com/v1"),
        ("https://api.clerk.com/", "https://api.clerk.com/v1"),
        ("https://api.clerk.com/v1", "https://api.clerk.com/v1"),
        ("http://127.0.0.1:8787", "http://127.0.0.1:8787/v1"),
        ("https://proxy.example/clerk/v1", "https://proxy.example/clerk/v1"),
    ],
)
def test_api_base_url(url: str, expected: str) -> None:
    assert api_base_url(url) == expected
