"""The Clerk emulator's instance-configuration endpoints over real HTTP on 127.0.0.1:
organization permissions and roles (with assignments), redirect URLs, the instance and its
allowed origins, organization domains and metadata, user updates, email replacement,
password verification, digests for every hasher, and the Frontend API environment."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any

import bcrypt
import httpx
import pytest

from authform.emulators import RunningEmulator, start_emulator
from authform.emulators.clerk import digest_matches
from authform.emulators.server import loopback_client
from authform.importing.passwords import CLERK_HASHERS, digest_problem
from authform.password_digests import CLERK_DIGEST_FORMS, fits_clerk_form

from .clerk_digests import DIGEST, SAMPLE_DIGESTS


@pytest.fixture
def api(clerk_emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with loopback_client() as client:
        client.base_url = httpx.URL(f"{clerk_emulator.url}/v1")
        client.headers["Authorization"] = f"Bearer {clerk_emulator.api_key}"
        yield client


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def codes(response: httpx.Response) -> list[tuple[str, str | None]]:
    return [
        (error["code"], (error.get("meta") or {}).get("param_name"))
        for error in response.json()["errors"]
    ]


# --------------------------------------------------------------------------- permissions


def test_every_instance_starts_with_clerks_system_permissions_and_default_roles(
    api: httpx.Client,
) -> None:
    permissions = ok(api.get("/organization_permissions", params={"limit": 100}))
    assert permissions["total_count"] == 6
    assert {p["type"] for p in permissions["data"]} == {"system"}
    roles = ok(api.get("/organization_roles", params={"order_by": "key"}))
    assert [r["key"] for r in roles["data"]] == ["org:admin", "org:member"]
    admin = roles["data"][0]
    assert admin["is_creator_eligible"] is True and len(admin["permissions"]) == 6


def test_permission_keys_follow_clerks_rules(api: httpx.Client) -> None:
    created = ok(
        api.post(
            "/organization_permissions",
            json={"name": "Manage billing", "key": "org:billing:manage", "description": "Plans"},
        )
    )
    assert created["object"] == "permission" and created["id"].startswith("perm_")
    assert (created["type"], created["description"]) == ("user", "Plans")
    for bad in ("billing:manage", "org:billing", "org:Billing:manage", "org:a:b:c"):
        response = api.post("/organization_permissions", json={"name": "X", "key": bad})
        assert codes(response) == [("form_param_format_invalid", "key")], bad
    reserved = api.post("/organization_permissions", json={"name": "X", "key": "org:sys_x:y"})
    assert "reserved" in reserved.json()["errors"][0]["long_message"]
    taken = api.post("/organization_permissions", json={"name": "X", "key": "org:billing:manage"})
    assert codes(taken) == [("form_identifier_exists", "key")]
    missing = api.post("/organization_permissions", json={})
    assert {code for code, _ in codes(missing)} == {"form_param_missing"}

    updated = ok(
        api.patch(f"/organization_permissions/{created['id']}", json={"name": "Billing admin"})
    )
    assert (updated["name"], updated["description"]) == ("Billing admin", "Plans")
    found = ok(api.get("/organization_permissions", params={"query": "billing"}))
    assert [p["id"] for p in found["data"]] == [created["id"]]
    system = ok(api.get("/organization_permissions", params={"query": "sys_profile:manage"}))
    system_id = system["data"][0]["id"]
    assert (
        api.patch(f"/organization_permissions/{system_id}", json={"name": "x"}).status_code == 403
    )
    assert api.delete(f"/organization_permissions/{system_id}").status_code == 403
    deleted = ok(api.delete(f"/organization_permissions/{created['id']}"))
    assert deleted == {"object": "permission", "id": created["id"], "deleted": True}
    assert api.get(f"/organization_permissions/{created['id']}").status_code == 404


# --------------------------------------------------------------------------- roles


def test_roles_take_permission_ids_and_assignments_change_them_one_by_one(
    api: httpx.Client,
) -> None:
    billing = ok(api.post("/organization_permissions", json={"name": "B", "key": "org:b:manage"}))
    reports = ok(api.post("/organization_permissions", json={"name": "R", "key": "org:r:read"}))
    role = ok(
        api.post(
            "/organization_roles",
            json={
                "name": "Billing",
                "key": "org:billing",
                "permissions": [billing["id"]],
                "include_in_initial_role_set": True,
            },
        )
    )
    assert role["id"].startswith("role_") and role["description"] is None
    assert [p["key"] for p in role["permissions"]] == ["org:b:manage"]
    assert role["is_creator_eligible"] is False

    path = f"/organization_roles/{role['id']}/permissions"
    added = ok(api.post(f"{path}/{reports['id']}"))
    assert {p["key"] for p in added["permissions"]} == {"org:b:manage", "org:r:read"}
    assert api.post(f"{path}/{reports['id']}").status_code == 409
    removed = ok(api.delete(f"{path}/{billing['id']}"))
    assert [p["key"] for p in removed["permissions"]] == ["org:r:read"]
    assert api.delete(f"{path}/{billing['id']}").status_code == 404
    assert api.post(f"{path}/perm_missing").status_code == 404

    replaced = ok(
        api.patch(
            f"/organization_roles/{role['id']}",
            json={"description": "Finance", "permissions": [billing["id"]]},
        )
    )
    assert replaced["description"] == "Finance"
    assert [p["key"] for p in replaced["permissions"]] == ["org:b:manage"]
    # A permission deleted from the instance leaves every role that had it.
    api.delete(f"/organization_permissions/{billing['id']}")
    assert ok(api.get(f"/organization_roles/{role['id']}"))["permissions"] == []


def test_role_keys_and_deletion_rules(api: httpx.Client) -> None:
    for bad in ("admin", "org:Admin", "org:a:b", "org:"):
        response = api.post("/organization_roles", json={"name": "X", "key": bad})
        assert codes(response) == [("form_param_format_invalid", "key")], bad
    taken = api.post("/organization_roles", json={"name": "X", "key": "org:member"})
    assert codes(taken) == [("form_identifier_exists", "key")]
    unknown = api.post(
        "/organization_roles", json={"name": "X", "key": "org:x", "permissions": ["perm_no"]}
    )
    assert unknown.status_code == 404
    assert (
        api.post("/organization_roles", json={"name": "X", "key": "org:x", "y": 1}).status_code
        == 422
    )

    roles = {r["key"]: r for r in ok(api.get("/organization_roles"))["data"]}
    creator = api.delete(f"/organization_roles/{roles['org:admin']['id']}")
    assert codes(creator) == [("organization_role_is_creator_role", None)]
    org = ok(api.post("/organizations", json={"name": "Acme"}))
    user = ok(api.post("/users", json={"email_address": ["ada@example.com"]}))
    api.post(
        f"/organizations/{org['id']}/memberships",
        json={"user_id": user["id"], "role": "org:member"},
    )
    in_use = api.delete(f"/organization_roles/{roles['org:member']['id']}")
    assert codes(in_use) == [("organization_role_assigned_to_members", None)]

    custom = ok(api.post("/organization_roles", json={"name": "Billing", "key": "org:billing"}))
    api.patch(f"/organizations/{org['id']}/memberships/{user['id']}", json={"role": "org:billing"})
    renamed = ok(api.patch(f"/organization_roles/{custom['id']}", json={"key": "org:finance"}))
    assert renamed["key"] == "org:finance"
    members = ok(api.get(f"/organizations/{org['id']}/memberships"))["data"]
    assert [(m["role"], m["role_name"]) for m in members] == [("org:finance", "Billing")]
    api.delete(f"/organizations/{org['id']}/memberships/{user['id']}")
    assert ok(api.delete(f"/organization_roles/{custom['id']}"))["deleted"] is True


# --------------------------------------------------------------------------- redirect URLs


def test_redirect_urls_create_list_page_and_delete(api: httpx.Client) -> None:
    first = ok(api.post("/redirect_urls", json={"url": "https://app.example.com/callback"}))
    assert first["object"] == "redirect_url" and first["id"].startswith("ru_")
    ok(api.post("/redirect_urls", json={"url": "my-app://oauth-callback"}))
    duplicate = api.post("/redirect_urls", json={"url": "https://app.example.com/callback"})
    assert codes(duplicate) == [("duplicate_record", "url")]
    assert codes(api.post("/redirect_urls", json={"url": "not a url"})) == [
        ("form_param_format_invalid", "url")
    ]
    everything = ok(api.get("/redirect_urls"))
    assert [u["url"] for u in everything] == [
        "https://app.example.com/callback",
        "my-app://oauth-callback",
    ]
    page = ok(api.get("/redirect_urls", params={"paginated": "true", "limit": 1, "offset": 1}))
    assert [u["url"] for u in page] == ["my-app://oauth-callback"]
    assert ok(api.get(f"/redirect_urls/{first['id']}")) == first
    assert ok(api.delete(f"/redirect_urls/{first['id']}"))["deleted"] is True
    assert api.get(f"/redirect_urls/{first['id']}").status_code == 404


# --------------------------------------------------------------------------- the instance


def test_allowed_origins_are_replaced_whole_and_read_back(api: httpx.Client) -> None:
    instance = ok(api.get("/instance"))
    assert instance["object"] == "instance" and instance["id"].startswith("ins_")
    assert (instance["environment_type"], instance["allowed_origins"]) == ("development", None)
    origins = ["https://app.example.com", "chrome-extension://abcdef"]
    response = api.patch("/instance", json={"allowed_origins": origins, "test_mode": True})
    assert response.status_code == 204 and response.content == b""
    assert ok(api.get("/instance"))["allowed_origins"] == origins
    assert api.patch("/instance", json={"allowed_origins": []}).status_code == 204
    assert ok(api.get("/instance"))["allowed_origins"] == []
    unknown = api.patch("/instance", json={"allowed_originz": []})
    assert codes(unknown) == [("form_param_unknown", "allowed_originz")]
    bad = api.patch("/instance", json={"allowed_origins": ["app.example.com"]})
    assert codes(bad) == [("form_param_format_invalid", "allowed_origins")]


def test_a_production_key_is_a_production_instance_with_production_limits() -> None:
    with (
        start_emulator("clerk", api_key="sk_live_production") as emulator,
        loopback_client() as client,
    ):
        headers = {"Authorization": f"Bearer {emulator.api_key}"}
        instance = client.get(f"{emulator.url}/v1/instance", headers=headers).json()
        limits = client.get(f"{emulator.url}/_emulate/rate_limits", headers=headers).json()
    assert instance["environment_type"] == "production"
    assert limits["instance"]["requests"] == 1000


def test_domains_name_the_frontend_api_which_lists_enabled_social_connections(
    clerk_emulator: RunningEmulator, api: httpx.Client
) -> None:
    domains = ok(api.get("/domains"))
    assert domains["total_count"] == 1
    fapi = domains["data"][0]["frontend_api_url"]
    assert fapi == f"{clerk_emulator.url}/fapi" and not domains["data"][0]["is_satellite"]
    with loopback_client() as public:  # the Frontend API takes no secret key
        before = public.get(f"{fapi}/v1/environment").json()
        clerk_emulator.set_social_connection("google", "1234.apps.googleusercontent.com")
        after = public.get(f"{fapi}/v1/environment").json()
    assert before["user_settings"]["social"]["oauth_google"]["enabled"] is False
    google = after["user_settings"]["social"]["oauth_google"]
    assert google["enabled"] is True and google["strategy"] == "oauth_google"
    assert "1234.apps.googleusercontent.com" not in str(after)  # credentials are never shown
    assert after["user_settings"]["social"]["oauth_github"]["enabled"] is False


# --------------------------------------------------------------------------- domains, metadata


def test_organization_domains(api: httpx.Client) -> None:
    org = ok(api.post("/organizations", json={"name": "Acme", "slug": "acme"}))
    path = f"/organizations/{org['id']}/domains"
    verified = ok(api.post(path, json={"name": "Acme.com", "enrollment_mode": "manual_invitation"}))
    assert (verified["name"], verified["enrollment_mode"]) == ("acme.com", "manual_invitation")
    assert verified["affiliation_verification"]["status"] == "verified"  # "Defaults to true"
    assert verified["verification"] == verified["affiliation_verification"]
    assert verified["public_organization_data"]["slug"] == "acme"
    pending = ok(api.post(path, json={"name": "acme.dev", "verified": False}))
    assert pending["affiliation_verification"] is None and pending["ownership_verification"] is None
    assert codes(api.post(path, json={"name": "acme.com"})) == [("form_identifier_exists", "name")]
    assert codes(api.post(path, json={"name": "gmail.com"})) == [
        ("organization_domain_common", "name")
    ]
    assert set(codes(api.post(path, json={"name": "x", "enrollment_mode": "nope"}))) == {
        ("form_param_format_invalid", "name"),
        ("form_param_format_invalid", "enrollment_mode"),
    }
    listed = ok(api.get(path, params={"verified": "false"}))
    assert [d["name"] for d in listed["data"]] == ["acme.dev"]
    promoted = ok(api.patch(f"{path}/{pending['id']}", json={"verified": True}))
    assert promoted["affiliation_verification"]["status"] == "verified"
    other = ok(api.post("/organizations", json={"name": "Globex"}))
    ok(api.post(f"/organizations/{other['id']}/domains", json={"name": "globex.com"}))
    everywhere = ok(api.get("/organization_domains", params={"order_by": "name"}))
    assert [d["name"] for d in everywhere["data"]] == ["acme.com", "acme.dev", "globex.com"]
    mine = ok(api.get("/organization_domains", params={"organization_id": org["id"]}))
    assert mine["total_count"] == 2
    by_name = ok(api.get("/organization_domains", params={"domains": ["globex.com"]}))
    assert [d["organization_id"] for d in by_name["data"]] == [other["id"]]
    assert ok(api.delete(f"{path}/{pending['id']}"))["deleted"] is True
    assert api.patch(f"{path}/{pending['id']}", json={"verified": True}).status_code == 404
    api.delete(f"/organizations/{org['id']}")  # the organization's domains go with it
    assert ok(api.get("/organization_domains"))["total_count"] == 1


def test_organization_metadata_merges_or_replaces(api: httpx.Client) -> None:
    org = ok(
        api.post(
            "/organizations",
            json={
                "name": "Acme",
                "public_metadata": {"a": 1, "n": {"x": 1}},
                "private_metadata": {"p": 1},
            },
        )
    )
    path = f"/organizations/{org['id']}/metadata"
    merged = ok(api.patch(path, json={"public_metadata": {"b": 2, "a": None, "n": {"y": 2}}}))
    assert merged["public_metadata"] == {"b": 2, "n": {"x": 1, "y": 2}}
    replaced = ok(api.put(path, json={"public_metadata": {"tier": "gold"}}))
    assert replaced["public_metadata"] == {"tier": "gold"}
    assert replaced["private_metadata"] == {"p": 1}  # an omitted field is left alone
    assert codes(api.put(path, json={"metadata": {}})) == [("form_param_unknown", "metadata")]


# --------------------------------------------------------------------------- users


def test_update_user_sets_and_clears_fields_and_keeps_identifiers_unique(
    api: httpx.Client,
) -> None:
    ada = ok(api.post("/users", json={"email_address": ["ada@example.com"], "first_name": "Ada"}))
    ok(api.post("/users", json={"email_address": ["bob@example.com"], "external_id": "bob"}))
    updated = ok(
        api.patch(
            f"/users/{ada['id']}",
            json={"external_id": "ada", "last_name": "Lovelace", "first_name": None},
        )
    )
    assert (updated["external_id"], updated["first_name"], updated["last_name"]) == (
        "ada",
        None,
        "Lovelace",
    )
    assert codes(api.patch(f"/users/{ada['id']}", json={"external_id": "bob"})) == [
        ("form_identifier_exists", "external_id")
    ]
    assert codes(api.patch(f"/users/{ada['id']}", json={"email": "x"})) == [
        ("form_param_unknown", "email")
    ]
    with_digest = ok(
        api.patch(
            f"/users/{ada['id']}", json={"password_digest": DIGEST, "password_hasher": "bcrypt"}
        )
    )
    assert with_digest["password_enabled"] is True


def test_replacing_the_email_address_sets_its_status(api: httpx.Client) -> None:
    ada = ok(api.post("/users", json={"email_address": ["ada@example.com", "ada@old.example"]}))
    reserved = ok(
        api.put(
            f"/users/{ada['id']}/email_address",
            json={"email_address": "ada@new.example", "identification_status": "reserved"},
        )
    )
    assert reserved["object"] == "email_address" and reserved["reserved"] is True
    assert reserved["verification"] is None
    user = ok(api.get(f"/users/{ada['id']}"))
    assert [e["email_address"] for e in user["email_addresses"]] == ["ada@new.example"]
    assert user["primary_email_address_id"] == reserved["id"]
    verified = ok(
        api.put(f"/users/{ada['id']}/email_address", json={"email_address": "ada@example.com"})
    )
    assert verified["verification"]["status"] == "verified"
    other = ok(api.post("/users", json={"email_address": ["bob@example.com"]}))
    taken = api.put(
        f"/users/{other['id']}/email_address", json={"email_address": "ADA@example.com"}
    )
    assert codes(taken) == [("form_identifier_exists", "email_address")]


def test_verify_password_checks_the_stored_digest(api: httpx.Client) -> None:
    ada = ok(
        api.post(
            "/users",
            json={
                "email_address": ["ada@example.com"],
                "password_digest": DIGEST,
                "password_hasher": "bcrypt",
            },
        )
    )
    assert ok(
        api.post(
            f"/users/{ada['id']}/verify_password", json={"password": "correct horse battery staple"}
        )
    ) == {"verified": True}
    wrong = api.post(f"/users/{ada['id']}/verify_password", json={"password": "nope"})
    assert wrong.status_code == 422
    bob = ok(api.post("/users", json={"email_address": ["bob@example.com"]}))
    assert (
        api.post(f"/users/{bob['id']}/verify_password", json={"password": "x"}).status_code == 400
    )
    assert (
        api.post("/users/user_missing/verify_password", json={"password": "x"}).status_code == 404
    )


@pytest.mark.parametrize("hasher", sorted(SAMPLE_DIGESTS))
def test_every_hasher_takes_a_digest_in_its_own_form(api: httpx.Client, hasher: str) -> None:
    digest = SAMPLE_DIGESTS[hasher]
    user = ok(
        api.post(
            "/users",
            json={
                "email_address": [f"{hasher}@example.com"],
                "password_digest": digest,
                "password_hasher": hasher,
            },
        )
    )
    assert user["password_enabled"] is True
    wrong_form = api.post(
        "/users",
        json={
            "email_address": ["x@example.com"],
            "password_digest": "not-a-digest$",
            "password_hasher": hasher,
        },
    )
    assert codes(wrong_form) == [("form_password_digest_invalid", "password_digest")]
    assert "not-a-digest" not in wrong_form.text


def test_the_sample_digests_cover_every_accepted_hasher() -> None:
    assert set(SAMPLE_DIGESTS) == set(CLERK_DIGEST_FORMS) == CLERK_HASHERS
    assert len(CLERK_HASHERS) == 22


def _django_pbkdf2(password: bytes) -> str:
    derived = hashlib.pbkdf2_hmac("sha256", password, b"salt", 1000)
    return "pbkdf2_sha256$1000$salt$" + base64.b64encode(derived).decode()


@pytest.mark.parametrize(
    ("hasher", "digest"),
    [
        ("md5", hashlib.md5(b"password").hexdigest()),  # noqa: S324 - the hasher under test
        ("sha256", hashlib.sha256(b"password").hexdigest()),
        ("pbkdf2_sha256_django", _django_pbkdf2(b"password")),
        ("bcrypt", bcrypt.hashpw(b"password", bcrypt.gensalt(4)).decode()),
    ],
)
def test_digest_matches_the_hashers_it_can_compute(hasher: str, digest: str) -> None:
    assert digest_matches(hasher, digest, "password") is True
    assert digest_matches(hasher, digest, "Password") is False
    assert digest_matches("scrypt_firebase", SAMPLE_DIGESTS["scrypt_firebase"], "x") is None


@pytest.mark.parametrize("hasher", sorted(SAMPLE_DIGESTS))
def test_the_importer_and_the_emulator_agree_on_every_hashers_form(hasher: str) -> None:
    """What the importer sends for a Clerk target, the emulator (Clerk) accepts, and what
    it drops as malformed, Clerk would refuse."""
    good = SAMPLE_DIGESTS[hasher]
    assert digest_problem(hasher, good) is None
    assert fits_clerk_form(hasher, good)
    for bad in ("", "x", "not-a-digest$", good + "$$", "$" + good):
        if fits_clerk_form(hasher, bad):
            continue  # a shape this hasher's documented form admits (e.g. ldap_ssha's base64)
        assert digest_problem(hasher, bad) is not None, (hasher, bad)


@pytest.mark.parametrize("hasher", ["bcrypt", "bcrypt_peppered", "bcrypt_sha256_django"])
def test_the_importer_drops_bcrypt_versions_clerk_stores_but_no_password_verifies(
    hasher: str,
) -> None:
    """Clerk's form admits ``$2x$`` (the one table says so); the importer, on top of that
    table, still drops it, embedded or not, as it did when it kept its own copy."""
    good = SAMPLE_DIGESTS[hasher]
    legacy = good.replace("$2b$", "$2x$", 1)
    assert legacy != good
    assert fits_clerk_form(hasher, legacy)
    assert digest_problem(hasher, legacy) == "its prefix is not $2a$, $2b$ or $2y$"
