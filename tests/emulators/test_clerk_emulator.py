"""The Clerk emulator's own behaviour over real HTTP on 127.0.0.1: auth, error bodies,
validation, users (bare-array lists, cursor and offset paging, filters), organizations,
memberships, rate limits, fault hooks, the request log, seeds and persistence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import pytest
import yaml

from authform.emulators import ClerkRateLimits, Limit, RunningEmulator, start_emulator
from authform.emulators.clerk import DEVELOPMENT_LIMIT, PRODUCTION_LIMIT, create_clerk_app
from authform.emulators.server import loopback_client

from .clerk_export_seed import seed_from_clerk_export

DIGEST = bcrypt.hashpw(b"correct horse battery staple", bcrypt.gensalt(4)).decode()
EXPORT = Path(__file__).resolve().parents[1] / "fixtures" / "clerk"


@pytest.fixture
def api(clerk_emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with loopback_client() as client:
        client.base_url = httpx.URL(f"{clerk_emulator.url}/v1")
        client.headers["Authorization"] = f"Bearer {clerk_emulator.api_key}"
        client.headers["Clerk-API-Version"] = "2026-05-12"
        yield client


def create_user(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = api.post("/users", json=fields)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def create_org(api: httpx.Client, name: str, **fields: Any) -> dict[str, Any]:
    response = api.post("/organizations", json={"name": name, **fields})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def codes(response: httpx.Response) -> list[tuple[str, str | None]]:
    return [
        (error["code"], (error.get("meta") or {}).get("param_name"))
        for error in response.json()["errors"]
    ]


# --------------------------------------------------------------------------- auth, errors


@pytest.mark.parametrize(
    "authorization", [None, "Bearer sk_test_wrong", "sk_test_emulator", "Basic abc"]
)
def test_wrong_or_missing_secret_key_is_401_with_clerks_body_and_writes_nothing(
    clerk_emulator: RunningEmulator, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    with loopback_client() as client:
        response = client.post(
            f"{clerk_emulator.url}/v1/organizations", json={"name": "Acme"}, headers=headers
        )
    assert response.status_code == 401
    body = response.json()
    assert [error["code"] for error in body["errors"]] == ["clerk_key_invalid"]
    assert body["errors"][0]["long_message"].startswith("The provided Clerk Secret Key is invalid")
    assert body["clerk_trace_id"]
    assert [w["status"] for w in clerk_emulator.writes()] == [401]
    assert clerk_emulator.app.backend.store.all("SELECT id FROM clerk_organizations") == []


def test_health_and_request_ids(clerk_emulator: RunningEmulator) -> None:
    with loopback_client() as client:
        health = client.get(f"{clerk_emulator.url}/_emulate/health")
    assert health.json() == {"status": "ok"} and health.headers["x-request-id"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/users/user_missing"),
        ("DELETE", "/users/user_missing"),
        ("GET", "/users/user_missing/organization_memberships"),
        ("GET", "/organizations/org_missing"),
        ("PATCH", "/organizations/org_missing"),
        ("DELETE", "/organizations/org_missing"),
        ("GET", "/organizations/org_missing/memberships"),
        ("POST", "/organizations/org_missing/memberships"),
        ("PATCH", "/organizations/org_missing/memberships/user_missing"),
        ("DELETE", "/organizations/org_missing/memberships/user_missing"),
        ("GET", "/no/such/route"),
    ],
)
def test_unknown_ids_are_404_resource_not_found(api: httpx.Client, method: str, path: str) -> None:
    response = api.request(method, path, json={"role": "org:member", "user_id": "user_x"})
    assert response.status_code == 404
    body = response.json()
    assert codes(response) == [("resource_not_found", None)]
    assert set(body["errors"][0]) == {"message", "long_message", "code"}
    assert body["clerk_trace_id"]


def test_non_json_body_is_400(api: httpx.Client) -> None:
    response = api.post("/users", content=b"[1, 2]", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert codes(response) == [("request_body_invalid", None)]


# --------------------------------------------------------------------------- users


def test_create_user_answers_the_user_schema_and_never_the_digest(api: httpx.Client) -> None:
    user = create_user(
        api,
        email_address=["ada@example.com", "ada@work.example"],
        email_address_identification_status=["verified", "reserved"],
        phone_number=["+15555550100"],
        first_name="Ada",
        last_name="Lovelace",
        username="ada_l",
        external_id="legacy-1",
        password_digest=DIGEST,
        password_hasher="bcrypt",
        totp_secret="JBSWY3DPEHPK3PXP",
        backup_codes=["one", "two"],
        public_metadata={"plan": "pro"},
        private_metadata={"stripe": "cus_1"},
        created_at="2023-11-14T22:13:20Z",
    )
    assert user["object"] == "user" and user["id"].startswith("user_") and len(user["id"]) == 32
    assert user["created_at"] == 1_700_000_000_000
    assert isinstance(user["updated_at"], int)
    first, second = user["email_addresses"]
    assert first["id"].startswith("idn_") and user["primary_email_address_id"] == first["id"]
    assert first["verification"] == {
        "object": "verification_admin",
        "status": "verified",
        "strategy": "admin",
        "attempts": None,
        "expire_at": None,
    }
    assert second["reserved"] is True and second["verification"] is None
    assert user["phone_numbers"][0]["id"] == user["primary_phone_number_id"]
    assert user["password_enabled"] and user["totp_enabled"] and user["backup_code_enabled"]
    assert user["two_factor_enabled"] and user["mfa_enabled_at"] == user["created_at"]
    assert user["public_metadata"] == {"plan": "pro"}
    assert user["private_metadata"] == {"stripe": "cus_1"}
    text = json.dumps(user)
    for secret in (DIGEST, "JBSWY3DPEHPK3PXP", '"one"'):
        assert secret not in text
    assert "password_digest" not in text and "totp_secret" not in text


def test_plaintext_password_is_stored_as_bcrypt(
    api: httpx.Client, clerk_emulator: RunningEmulator
) -> None:
    user = create_user(api, email_address=["p@example.com"], password="long enough pw")
    assert user["password_enabled"] is True
    row = clerk_emulator.app.backend.store.one(
        "SELECT password_digest, password_hasher FROM clerk_users WHERE id = ?", [user["id"]]
    )
    assert row["password_hasher"] == "bcrypt"
    assert bcrypt.checkpw(b"long enough pw", row["password_digest"].encode())


def test_create_user_reports_every_problem_at_once_without_echoing_secrets(
    api: httpx.Client,
) -> None:
    response = api.post(
        "/users",
        json={
            "email_address": ["not-an-email"],
            "phone_number": ["555-0100"],
            "username": "ab",
            "password_digest": "$2a$10$tooshort",
            "password_hasher": "bcrypt",
            "totp_secret": "not base32!",
            "public_metadata": ["x"],
            "favourite_colour": "blue",
        },
    )
    assert response.status_code == 422
    assert set(codes(response)) == {
        ("form_param_unknown", "favourite_colour"),
        ("form_param_format_invalid", "email_address"),
        ("form_param_format_invalid", "phone_number"),
        ("form_username_invalid_length", "username"),
        ("form_password_digest_invalid", "password_digest"),
        ("form_param_format_invalid", "totp_secret"),
        ("form_param_format_invalid", "public_metadata"),
    }
    assert "tooshort" not in response.text and "not base32" not in response.text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"password_digest": DIGEST}, ("form_conditional_param_missing", "password_hasher")),
        ({"password_hasher": "bcrypt"}, ("form_conditional_param_missing", "password_digest")),
        (
            {"password_digest": DIGEST, "password_hasher": "rot13"},
            ("form_param_value_invalid", "password_hasher"),
        ),
        (
            {"password": "correct horse", "password_digest": DIGEST, "password_hasher": "bcrypt"},
            ("form_param_value_invalid", "password_digest"),
        ),
        ({"password": "short"}, ("form_password_length_too_short", "password")),
        (
            {"email_address": ["a@example.com"], "email_address_identification_status": []},
            None,
        ),
        (
            {
                "email_address": ["a@example.com"],
                "email_address_identification_status": ["verified", "reserved"],
            },
            ("form_param_format_invalid", "email_address_identification_status"),
        ),
        ({"created_at": "yesterday"}, ("form_param_format_invalid", "created_at")),
    ],
)
def test_password_and_field_rules(
    api: httpx.Client, body: dict[str, Any], expected: tuple[str, str] | None
) -> None:
    response = api.post("/users", json=body)
    if expected is None:
        assert response.status_code == 200, response.text
    else:
        assert (response.status_code, codes(response)) == (422, [expected])


def test_short_password_is_allowed_with_skip_password_checks(api: httpx.Client) -> None:
    user = create_user(api, username="shorty", password="short", skip_password_checks=True)
    assert user["password_enabled"] is True


def test_identifiers_are_unique_regardless_of_case(api: httpx.Client) -> None:
    create_user(
        api,
        email_address=["ada@example.com"],
        username="Ada_L",
        external_id="x1",
        phone_number=["+15555550100"],
    )
    response = api.post(
        "/users",
        json={
            "email_address": ["ADA@Example.com"],
            "username": "ada_l",
            "external_id": "x1",
            "phone_number": ["+15555550100"],
        },
    )
    assert response.status_code == 422
    assert set(codes(response)) == {
        ("form_identifier_exists", "email_address"),
        ("form_identifier_exists", "username"),
        ("form_identifier_exists", "external_id"),
        ("form_identifier_exists", "phone_number"),
    }
    assert (
        response.json()["errors"][0]["message"]
        == "That email address is taken. Please try another."
    )


def test_form_encoded_bodies_are_accepted(api: httpx.Client) -> None:
    response = api.post(
        "/users",
        content=b"email_address[]=f%40example.com&email_address[]=g%40example.com"
        b"&first_name=Form&banned=true",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    user = response.json()
    assert [e["email_address"] for e in user["email_addresses"]] == [
        "f@example.com",
        "g@example.com",
    ]
    assert user["banned"] is True and user["first_name"] == "Form"


def test_get_and_delete_user(api: httpx.Client) -> None:
    user = create_user(api, email_address=["d@example.com"])
    assert api.get(f"/users/{user['id']}").json() == user
    deleted = api.delete(f"/users/{user['id']}")
    assert deleted.json() == {"object": "user", "id": user["id"], "deleted": True}
    assert api.get(f"/users/{user['id']}").status_code == 404


def seed_users(api: httpx.Client, count: int) -> list[dict[str, Any]]:
    """``count`` users created a second apart (oldest first)."""
    return [
        create_user(
            api,
            email_address=[f"user{n:02}@example.com"],
            first_name=f"User{n:02}",
            last_name=f"{'Z' if n % 2 else 'A'}{n:02}",
            username=f"user_{n:02}",
            external_id=f"ext-{n:02}",
            created_at=f"2024-01-01T00:00:{n:02}Z",
        )
        for n in range(count)
    ]


def ids(response: httpx.Response) -> list[str]:
    body = response.json()
    assert isinstance(body, list), body  # GET /users is a bare array
    return [user["id"] for user in body]


def test_list_users_is_a_bare_array_newest_first_with_limit_and_offset(
    api: httpx.Client,
) -> None:
    users = seed_users(api, 12)
    newest_first = [user["id"] for user in reversed(users)]
    assert ids(api.get("/users")) == newest_first[:10]  # default limit 10
    assert ids(api.get("/users", params={"limit": 5, "offset": 5})) == newest_first[5:10]
    assert ids(api.get("/users", params={"order_by": "+created_at", "limit": 3})) == [
        user["id"] for user in users[:3]
    ]
    # An unencoded '+' arrives as a space and still means ascending.
    raw = api.get("/users?order_by=+created_at&limit=2")
    assert ids(raw) == [user["id"] for user in users[:2]]
    count = api.get("/users/count")
    assert count.json() == {"object": "total_count", "total_count": 12}


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 501}, {"limit": "ten"}, {"offset": -1}, {"order_by": "-password"}],
)
def test_list_parameters_are_validated(api: httpx.Client, params: dict[str, Any]) -> None:
    response = api.get("/users", params=params)
    assert response.status_code == 422
    assert codes(response)[0][0] == "form_param_value_invalid"


def test_limit_500_is_accepted(api: httpx.Client) -> None:
    assert api.get("/users", params={"limit": 500}).status_code == 200


@pytest.mark.parametrize("order_by", ["-created_at", "+created_at", "created_at", None])
def test_starting_after_walks_every_user_once(api: httpx.Client, order_by: str | None) -> None:
    users = seed_users(api, 7)
    expected = [user["id"] for user in users]
    if order_by in (None, "-created_at"):
        expected.reverse()
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if order_by:
            params["order_by"] = order_by
        if cursor:
            params["starting_after"] = cursor
        page = ids(api.get("/users", params=params))
        seen += page
        if len(page) < 3:
            break
        cursor = page[-1]
    assert seen == expected


@pytest.mark.parametrize(
    "params",
    [
        {"order_by": "username"},
        {"order_by": "-updated_at"},
        {"offset": 1},
    ],
)
def test_starting_after_needs_created_at_order_and_zero_offset(
    api: httpx.Client, params: dict[str, Any]
) -> None:
    users = seed_users(api, 2)
    response = api.get("/users", params={"starting_after": users[0]["id"], **params})
    assert response.status_code == 422
    assert codes(response) == [("form_param_value_invalid", "starting_after")]


def test_starting_after_an_unknown_user_is_422(api: httpx.Client) -> None:
    response = api.get("/users", params={"starting_after": "user_gone"})
    assert (response.status_code, codes(response)) == (
        422,
        [("form_param_value_invalid", "starting_after")],
    )


def test_user_orderings(api: httpx.Client) -> None:
    users = seed_users(api, 4)
    by_last_name = sorted(users, key=lambda user: user["last_name"].lower())
    assert ids(api.get("/users", params={"order_by": "last_name"})) == [
        user["id"] for user in by_last_name
    ]
    assert ids(api.get("/users", params={"order_by": "-email_address"})) == [
        user["id"] for user in reversed(users)
    ]
    assert ids(api.get("/users", params={"order_by": "+username"})) == [u["id"] for u in users]


def test_user_filters(api: httpx.Client) -> None:
    users = seed_users(api, 6)
    org = create_org(api, "Acme")
    for user in users[:2]:
        api.post(
            f"/organizations/{org['id']}/memberships",
            json={"user_id": user["id"], "role": "org:member"},
        )

    def filtered(query: str) -> set[str]:
        return set(ids(api.get(f"/users?{query}")))

    def of(*indexes: int) -> set[str]:
        return {users[i]["id"] for i in indexes}

    # The SDK repeats the parameter; other clients send name[].
    assert filtered("email_address=USER01@example.com&email_address=user02@example.com") == of(1, 2)
    assert filtered("email_address[]=user03@example.com") == of(3)
    assert filtered("external_id=ext-04") == of(4)
    assert filtered("external_id=-ext-04&external_id=-ext-05") == of(0, 1, 2, 3)
    assert filtered(f"user_id={users[0]['id']}&user_id={users[5]['id']}") == of(0, 5)
    assert filtered(f"organization_id={org['id']}") == of(0, 1)
    assert filtered(f"organization_id=-{org['id']}") == of(2, 3, 4, 5)
    assert filtered("query=user03") == of(3)
    # `query` also matches user ids, which are random: one may happen to hold "z05".
    ids_with_z05 = {user["id"] for user in users if "z05" in user["id"].lower()}
    assert filtered("query=Z05") == of(5) | ids_with_z05
    assert filtered("username=USER_02") == of(2)
    assert filtered("email_address_query=R04@EX") == of(4)
    assert filtered("name_query=user01%20z") == of(1)
    assert filtered("created_at_after=1704067203000") == of(4, 5)
    assert filtered("banned=false") == of(0, 1, 2, 3, 4, 5)
    count = api.get(f"/users/count?organization_id={org['id']}").json()
    assert count == {"object": "total_count", "total_count": 2}
    too_many = "&".join(f"user_id=user_{n}" for n in range(101))
    assert api.get(f"/users?{too_many}").status_code == 422


# --------------------------------------------------------------------------- organizations


def test_organization_lifecycle(api: httpx.Client) -> None:
    org = create_org(api, "Acme Inc", public_metadata={"tier": "gold"}, max_allowed_memberships=5)
    assert org["object"] == "organization" and org["id"].startswith("org_")
    assert org["slug"] == "acme-inc"  # generated from the name
    assert org["public_metadata"] == {"tier": "gold"} and org["private_metadata"] == {}
    assert org["has_image"] is False and org["admin_delete_enabled"] is True
    assert "members_count" not in org and "created_by" not in org
    assert create_org(api, "Acme, Inc.")["slug"] == "acme-inc-2"
    assert api.get(f"/organizations/{org['id']}").json() == org
    assert api.get("/organizations/acme-inc").json() == org  # by slug
    counted = api.get("/organizations/acme-inc", params={"include_members_count": "true"})
    assert counted.json()["members_count"] == 0

    updated = api.patch(
        f"/organizations/{org['id']}",
        json={"name": "Acme Corp", "slug": "acme-corp", "admin_delete_enabled": False},
    ).json()
    assert (updated["name"], updated["slug"], updated["admin_delete_enabled"]) == (
        "Acme Corp",
        "acme-corp",
        False,
    )
    assert updated["public_metadata"] == {"tier": "gold"}
    assert updated["updated_at"] >= org["updated_at"]
    deleted = api.delete(f"/organizations/{org['id']}").json()
    assert deleted == {
        "object": "organization",
        "id": org["id"],
        "slug": "acme-corp",
        "deleted": True,
    }
    assert api.get(f"/organizations/{org['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, [("form_param_missing", "name")]),
        ({"name": "  "}, [("form_param_missing", "name")]),
        ({"name": "A", "slug": "Not A Slug"}, [("form_param_format_invalid", "slug")]),
        ({"name": "<b>A</b>"}, [("form_param_format_invalid", "name")]),
        (
            {"name": "A", "max_allowed_memberships": -1},
            [("form_param_format_invalid", "max_allowed_memberships")],
        ),
        ({"name": "A", "domains": ["a.com"]}, [("form_param_unknown", "domains")]),
        ({"name": "A", "created_by": "user_missing"}, None),
    ],
)
def test_organization_validation(
    api: httpx.Client, body: dict[str, Any], expected: list[tuple[str, str]] | None
) -> None:
    response = api.post("/organizations", json=body)
    if expected is None:
        assert response.status_code == 404
    else:
        assert (response.status_code, codes(response)) == (422, expected)


def test_slug_is_unique_and_patch_refuses_metadata(api: httpx.Client) -> None:
    create_org(api, "Acme", slug="acme")
    other = create_org(api, "Other")
    taken = api.post("/organizations", json={"name": "B", "slug": "acme"})
    assert codes(taken) == [("form_identifier_exists", "slug")]
    clash = api.patch(f"/organizations/{other['id']}", json={"slug": "acme"})
    assert (clash.status_code, codes(clash)) == (422, [("form_identifier_exists", "slug")])
    # As of 2026-05-12 metadata has its own endpoint; PATCH refuses it.
    metadata = api.patch(f"/organizations/{other['id']}", json={"public_metadata": {"a": 1}})
    assert codes(metadata) == [("form_param_unknown", "public_metadata")]


def test_created_by_becomes_an_admin_member(api: httpx.Client) -> None:
    user = create_user(api, email_address=["owner@example.com"])
    org = create_org(api, "Owned", created_by=user["id"])
    assert org["created_by"] == user["id"]
    members = api.get(f"/organizations/{org['id']}/memberships").json()
    assert [(m["public_user_data"]["user_id"], m["role"]) for m in members["data"]] == [
        (user["id"], "org:admin")
    ]


def test_list_organizations(api: httpx.Client) -> None:
    orgs = [
        create_org(api, name, created_at=f"2024-01-0{n + 1}T00:00:00Z")
        for n, name in enumerate(["Beta", "alpha", "Gamma"])
    ]
    user = create_user(api, email_address=["m@example.com"])
    api.post(
        f"/organizations/{orgs[2]['id']}/memberships",
        json={"user_id": user["id"], "role": "org:member"},
    )
    body = api.get("/organizations").json()
    assert set(body) == {"data", "total_count"} and body["total_count"] == 3
    assert [o["name"] for o in body["data"]] == ["Gamma", "alpha", "Beta"]  # -created_at
    by_name = api.get("/organizations", params={"order_by": "name"}).json()
    assert [o["name"] for o in by_name["data"]] == ["alpha", "Beta", "Gamma"]
    page = api.get("/organizations", params={"limit": 1, "offset": 1}).json()
    assert [o["name"] for o in page["data"]] == ["alpha"] and page["total_count"] == 3
    counted = api.get(
        "/organizations", params={"include_members_count": "true", "order_by": "-members_count"}
    ).json()
    assert [(o["name"], o["members_count"]) for o in counted["data"]][0] == ("Gamma", 1)
    assert [o["name"] for o in api.get("/organizations?query=AMM").json()["data"]] == ["Gamma"]
    assert api.get(f"/organizations?query={orgs[0]['id']}").json()["total_count"] == 1
    mine = api.get(f"/organizations?user_id={user['id']}").json()
    assert [o["id"] for o in mine["data"]] == [orgs[2]["id"]]
    assert api.get(f"/organizations?organization_id=-{orgs[0]['id']}").json()["total_count"] == 2
    assert api.get("/organizations", params={"limit": 501}).status_code == 422


# --------------------------------------------------------------------------- memberships


def test_membership_lifecycle(api: httpx.Client) -> None:
    org = create_org(api, "Acme")
    ada = create_user(api, email_address=["ada@example.com"], first_name="Ada", username="ada_l")
    bob = create_user(api, phone_number=["+15555550101"], first_name="Bob")
    created = api.post(
        f"/organizations/{org['id']}/memberships",
        json={"user_id": ada["id"], "role": "org:admin", "public_metadata": {"team": "core"}},
    )
    assert created.status_code == 200, created.text
    membership = created.json()
    assert membership["object"] == "organization_membership"
    assert membership["id"].startswith("orgmem_")
    assert (membership["role"], membership["role_name"]) == ("org:admin", "Admin")
    assert "org:sys_memberships:manage" in membership["permissions"]
    assert membership["organization"]["id"] == org["id"]
    assert membership["public_user_data"]["identifier"] == "ada@example.com"
    assert membership["public_user_data"]["username"] == "ada_l"
    assert membership["public_metadata"] == {"team": "core"}
    api.post(
        f"/organizations/{org['id']}/memberships", json={"user_id": bob["id"], "role": "org:member"}
    )
    listed = api.get(f"/organizations/{org['id']}/memberships").json()
    assert listed["total_count"] == 2
    assert [m["public_user_data"]["identifier"] for m in listed["data"]] == [
        "+15555550101",
        "ada@example.com",
    ]
    by_role = api.get(f"/organizations/{org['id']}/memberships?role=org:admin").json()
    assert [m["public_user_data"]["user_id"] for m in by_role["data"]] == [ada["id"]]
    by_email = api.get(
        f"/organizations/{org['id']}/memberships", params={"email_address": "ADA@example.com"}
    ).json()
    assert by_email["total_count"] == 1
    by_name = api.get(f"/organizations/{org['id']}/memberships?order_by=first_name").json()
    assert [m["public_user_data"]["first_name"] for m in by_name["data"]] == ["Ada", "Bob"]

    updated = api.patch(
        f"/organizations/{org['id']}/memberships/{ada['id']}", json={"role": "org:member"}
    ).json()
    assert (updated["id"], updated["role"], updated["role_name"]) == (
        membership["id"],
        "org:member",
        "Member",
    )
    instance = api.get("/organization_memberships", params={"limit": 1}).json()
    assert instance["total_count"] == 2 and len(instance["data"]) == 1
    per_user = api.get(f"/users/{ada['id']}/organization_memberships").json()
    assert [m["id"] for m in per_user["data"]] == [membership["id"]]

    removed = api.delete(f"/organizations/{org['id']}/memberships/{ada['id']}")
    assert removed.status_code == 200 and removed.json()["id"] == membership["id"]
    assert api.get(f"/organizations/{org['id']}/memberships").json()["total_count"] == 1
    # Deleting a user or an organization deletes their memberships.
    api.delete(f"/users/{bob['id']}")
    assert api.get("/organization_memberships").json()["total_count"] == 0


def test_membership_rules(api: httpx.Client) -> None:
    org = create_org(api, "Small", max_allowed_memberships=1)
    ada = create_user(api, email_address=["ada@example.com"])
    bob = create_user(api, email_address=["bob@example.com"])
    path = f"/organizations/{org['id']}/memberships"
    missing = api.post(path, json={})
    assert (missing.status_code, set(codes(missing))) == (
        422,
        {("form_param_missing", "user_id"), ("form_param_missing", "role")},
    )
    unknown_role = api.post(path, json={"user_id": ada["id"], "role": "org:owner"})
    assert codes(unknown_role) == [("form_param_value_invalid", "role")]
    assert api.post(path, json={"user_id": "user_gone", "role": "org:member"}).status_code == 404
    assert api.post(path, json={"user_id": ada["id"], "role": "org:member"}).status_code == 200
    again = api.post(path, json={"user_id": ada["id"], "role": "org:member"})
    assert (again.status_code, codes(again)) == (400, [("already_a_member_in_organization", None)])
    full = api.post(path, json={"user_id": bob["id"], "role": "org:member"})
    assert (full.status_code, codes(full)) == (
        403,
        [("organization_membership_quota_exceeded", None)],
    )
    no_role = api.patch(f"{path}/{ada['id']}", json={})
    assert codes(no_role) == [("form_param_missing", "role")]
    assert api.patch(f"{path}/{bob['id']}", json={"role": "org:admin"}).status_code == 404


def test_deleting_an_organization_deletes_its_memberships(api: httpx.Client) -> None:
    org = create_org(api, "Doomed")
    user = create_user(api, email_address=["u@example.com"])
    api.post(
        f"/organizations/{org['id']}/memberships",
        json={"user_id": user["id"], "role": "org:member"},
    )
    api.delete(f"/organizations/{org['id']}")
    assert api.get(f"/users/{user['id']}/organization_memberships").json()["total_count"] == 0


# --------------------------------------------------------------------------- rate limits


def test_default_limits_follow_the_key_kind() -> None:
    documented = (Limit(100, 10), Limit(1000, 10))  # development, production
    assert documented == (DEVELOPMENT_LIMIT, PRODUCTION_LIMIT)
    for key, limit in (("sk_test_x", DEVELOPMENT_LIMIT), ("sk_live_x", PRODUCTION_LIMIT)):
        app = create_clerk_app(api_key=key)
        try:
            assert app.rate_limits == ClerkRateLimits(instance=limit)
        finally:
            app.close()


def test_rate_limit_answers_429_with_integer_retry_after(
    clerk_emulator: RunningEmulator, api: httpx.Client
) -> None:
    clerk_emulator.set_rate_limits(instance={"requests": 2, "per_seconds": 30})
    statuses = [api.get("/users").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = api.get("/organizations")
    assert limited.status_code == 429
    assert (
        limited.headers["retry-after"].isdigit() and 1 <= int(limited.headers["retry-after"]) <= 30
    )
    assert codes(limited) == [("too_many_requests", None)]
    with loopback_client() as client:  # admin routes are never limited
        health = client.get(f"{clerk_emulator.url}/_emulate/health")
    assert health.status_code == 200
    clerk_emulator.set_rate_limits(enabled=False)
    assert api.get("/users").status_code == 200


def test_a_disabled_table_from_any_provider_turns_clerk_limits_off() -> None:
    from authform.emulators import RateLimits
    from authform.emulators.server import create_app

    app = create_app("clerk", rate_limits=RateLimits.disabled())
    try:
        assert app.rate_limits == ClerkRateLimits.disabled()
    finally:
        app.close()


def test_scaled_down_limits_at_start() -> None:
    limits = ClerkRateLimits(instance=Limit(1, 60))
    with start_emulator("clerk", rate_limits=limits) as emulator, loopback_client() as client:
        headers = {"Authorization": f"Bearer {emulator.api_key}"}
        first = client.get(f"{emulator.url}/v1/users", headers=headers)
        second = client.get(f"{emulator.url}/v1/users/count", headers=headers)
    assert (first.status_code, second.status_code) == (200, 429)


# --------------------------------------------------------------------------- faults, log


def test_injected_5xx_has_clerks_error_body(
    clerk_emulator: RunningEmulator, api: httpx.Client
) -> None:
    clerk_emulator.add_fault(method="GET", path="/v1/users", status=503, times=1)
    failed = api.get("/users")
    assert failed.status_code == 503
    assert codes(failed) == [("internal_clerk_error", None)]
    assert api.get("/users").status_code == 200


def test_request_log_never_holds_secrets(
    clerk_emulator: RunningEmulator, api: httpx.Client
) -> None:
    create_user(
        api,
        email_address=["s@example.com"],
        password_digest=DIGEST,
        password_hasher="bcrypt",
        totp_secret="JBSWY3DPEHPK3PXP",
        backup_codes=["123456"],
    )
    create_user(api, email_address=["t@example.com"], password="plaintext secret")
    text = json.dumps(clerk_emulator.requests_log())
    for secret in (DIGEST, "JBSWY3DPEHPK3PXP", "123456", "plaintext secret"):
        assert secret not in text
    bodies = [entry["body"] for entry in clerk_emulator.requests_log()]
    assert bodies[0]["password_digest"] == "(redacted)"
    assert bodies[0]["password_hasher"] == "bcrypt"
    assert bodies[0]["email_address"] == ["s@example.com"]


# --------------------------------------------------------------------------- seeds


def test_export_sample_seed_holds_the_whole_export(clerk_export_emulator: RunningEmulator) -> None:
    with loopback_client() as client:
        client.base_url = httpx.URL(f"{clerk_export_emulator.url}/v1")
        client.headers["Authorization"] = f"Bearer {clerk_export_emulator.api_key}"
        users = client.get("/users", params={"limit": 500, "order_by": "+created_at"}).json()
        orgs = client.get("/organizations", params={"include_members_count": "true"}).json()
        memberships = client.get("/organization_memberships", params={"limit": 100}).json()
    assert [user["id"][-3:] for user in users] == [f"{n:03}" for n in range(1, 15)]
    by_id = {user["id"][-3:]: user for user in users}
    jessica = by_id["005"]
    assert [e["email_address"] for e in jessica["email_addresses"]] == [
        "jessica@atreides.example",
        "jessica@harkonnen.example",
    ]
    assert jessica["primary_email_address_id"] == jessica["email_addresses"][0]["id"]
    assert by_id["014"]["email_addresses"][0]["verification"]["status"] == "unverified"
    assert by_id["013"]["totp_enabled"] and by_id["013"]["two_factor_enabled"]
    assert (
        by_id["011"]["email_addresses"] == [] and by_id["011"]["primary_email_address_id"] is None
    )
    assert by_id["011"]["phone_numbers"][0]["phone_number"] == "+15555550111"
    assert by_id["001"]["public_metadata"] == {"plan": "pro"}  # from users.json
    assert by_id["004"]["password_enabled"] is False and by_id["001"]["password_enabled"]
    assert "$2" not in json.dumps(users)
    assert {(o["slug"], o["members_count"]) for o in orgs["data"]} == {
        ("acme", 3),
        ("globex", 4),
        ("empty-org", 0),
    }
    assert memberships["total_count"] == 7
    ghost = next(
        m
        for m in memberships["data"]
        if m["public_user_data"]["user_id"].startswith("user_2aGhost")
    )
    assert ghost["public_user_data"]["identifier"] is None
    assert {m["role"] for m in memberships["data"]} == {
        "org:admin",
        "org:member",
        "admin",
        "basic_member",
    }
    legacy = next(m for m in memberships["data"] if m["role"] == "basic_member")
    assert legacy["role_name"] == "Basic Member"


def test_reset_restores_the_seed(clerk_export_emulator: RunningEmulator) -> None:
    with loopback_client() as client:
        client.base_url = httpx.URL(f"{clerk_export_emulator.url}/v1")
        client.headers["Authorization"] = f"Bearer {clerk_export_emulator.api_key}"
        client.delete("/users/user_2aAda0000000000000000001")
        assert client.get("/users/count").json()["total_count"] == 13
        clerk_export_emulator.reset()
        assert client.get("/users/count").json()["total_count"] == 14
        assert client.get("/organization_memberships").json()["total_count"] == 7


def test_seed_from_export_shape() -> None:
    seed = seed_from_clerk_export(EXPORT)
    assert len(seed["users"]) == 14 and len(seed["organizations"]) == 3
    assert len(seed["memberships"]) == 7
    assert [m for m in seed["memberships"] if m.get("dangling_user")] == [
        {
            "id": "orgmem_00029999",
            "organization": "org_2aGlobx000000000000000002",
            "user_id": "user_2aGhost99999999999999999",
            "role": "org:member",
            "created_at": 1700000300000,
            "updated_at": 1700000300000,
            "dangling_user": True,
        }
    ]
    assert {role["key"] for role in seed["roles"]} == {"admin", "basic_member"}
    tess = next(user for user in seed["users"] if user["id"].endswith("013"))
    assert tess["totp_secret"] == "JBSWY3DPEHPK3PXP"
    django = next(user for user in seed["users"] if user["id"].endswith("009"))
    assert django["password_hasher"] == "pbkdf2_sha256"


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        ({"groups": []}, "unknown seed sections: groups"),
        ({"users": [{"id": "user_1", "email": "a@x.io"}]}, "unknown fields email"),
        (
            {
                "organizations": [{"id": "org_1", "name": "A"}],
                "memberships": [
                    {"organization": "org_1", "user_id": "user_x", "role": "org:member"}
                ],
            },
            "dangling_user",
        ),
        (
            {"memberships": [{"organization": "nope", "user_id": "u", "role": "r"}]},
            "No organization",
        ),
        ({"users": [{"id": "u1", "created_at": "soon"}]}, "created_at"),
    ],
)
def test_bad_seeds_are_refused(seed: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_clerk_app(seed=seed)


def test_yaml_seed_with_external_account_and_persistence(tmp_path: Path) -> None:
    seed_path = tmp_path / "seed.yaml"
    seed_path.write_text(
        yaml.safe_dump(
            {
                "users": [
                    {
                        "id": "user_social",
                        "first_name": "Sol",
                        "email_addresses": [
                            {"email_address": "old@example.com", "reserved": True},
                            "sol@example.com",
                        ],
                        "primary_email_address": "sol@example.com",
                        "phone_numbers": [
                            {"phone_number": "+15555550123", "reserved_for_second_factor": True}
                        ],
                        "external_accounts": [
                            {"provider": "oauth_google", "email_address": "sol@example.com"}
                        ],
                        "password": "seeded password",
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    db = tmp_path / "clerk.sqlite3"
    with (
        start_emulator("clerk", db_path=db, seed=seed_path) as emulator,
        loopback_client() as client,
    ):
        headers = {"Authorization": f"Bearer {emulator.api_key}"}
        user = client.get(f"{emulator.url}/v1/users/user_social", headers=headers).json()
        created = client.post(
            f"{emulator.url}/v1/organizations", json={"name": "Kept"}, headers=headers
        )
        assert created.status_code == 200
    old, sol = user["email_addresses"]
    assert user["primary_email_address_id"] == sol["id"] and old["reserved"] is True
    account = user["external_accounts"][0]
    assert account["provider"] == "oauth_google" and account["identification_id"] == sol["id"]
    assert sol["linked_to"] == [{"type": "oauth_google", "id": account["id"]}]
    assert sol["verification"]["strategy"] == "from_oauth_google"
    assert user["two_factor_enabled"] and not user["totp_enabled"] and user["password_enabled"]
    # Restarting on the same file keeps the state and re-seeding changes nothing.
    with (
        start_emulator("clerk", db_path=db, seed=seed_path) as emulator,
        loopback_client() as client,
    ):
        headers = {"Authorization": f"Bearer {emulator.api_key}"}
        assert (
            client.get(f"{emulator.url}/v1/users/count", headers=headers).json()["total_count"] == 1
        )
        orgs = client.get(f"{emulator.url}/v1/organizations", headers=headers).json()
    assert [o["name"] for o in orgs["data"]] == ["Kept"]


def test_a_saved_organizations_page_seeds_as_it_is(api: httpx.Client) -> None:
    created = create_org(api, "Acme", slug="acme", public_metadata={"tier": "gold"})
    saved = api.get("/organizations", params={"include_members_count": "true"}).json()["data"]
    app = create_clerk_app(seed={"organizations": saved})
    try:
        row = app.backend.store.one(
            "SELECT * FROM clerk_organizations WHERE id = ?", [created["id"]]
        )
        assert (row["slug"], row["created_at"]) == ("acme", created["created_at"])
        assert json.loads(row["public_metadata"]) == {"tier": "gold"}
    finally:
        app.close()
