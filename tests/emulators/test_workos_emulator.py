"""The WorkOS emulator's own behaviour over real HTTP on 127.0.0.1: auth, errors, pagination,
rate limits, fault hooks, the request log, the authorize redirect, persistence and seeding."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import bcrypt
import httpx
import pytest

from authform.emulators import RateLimits, RunningEmulator, start_emulator
from authform.emulators.server import loopback_client
from authform.emulators.store import new_id, now_iso
from authform.social import SOCIAL_PROVIDERS


@pytest.fixture
def api(workos_emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with loopback_client() as client:
        client.base_url = httpx.URL(workos_emulator.url)
        client.headers["Authorization"] = f"Bearer {workos_emulator.api_key}"
        yield client


def create_org(api: httpx.Client, name: str, **fields: Any) -> dict[str, Any]:
    response = api.post("/organizations", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# --------------------------------------------------------------------------- auth, errors


def test_health_needs_no_key_and_every_response_has_a_request_id(
    workos_emulator: RunningEmulator,
) -> None:
    with loopback_client() as client:
        health = client.get(f"{workos_emulator.url}/_emulate/health")
        missing = client.get(f"{workos_emulator.url}/organizations")
    assert health.json() == {"status": "ok"}
    assert health.headers["x-request-id"] and missing.headers["x-request-id"]
    assert health.headers["x-request-id"] != missing.headers["x-request-id"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer sk_test_wrong", "Basic c2tfdGVzdF9lbXVsYXRvcjo=", "sk_test_emulator"],
)
def test_wrong_or_missing_api_key_is_401_and_writes_nothing(
    workos_emulator: RunningEmulator, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    with loopback_client() as client:
        create = client.post(
            f"{workos_emulator.url}/organizations", json={"name": "Acme"}, headers=headers
        )
        admin = client.get(f"{workos_emulator.url}/_emulate/requests", headers=headers)
    assert create.status_code == 401
    assert create.json() == {"message": "Unauthorized", "code": "unauthorized"}
    assert admin.status_code == 401
    assert [w["status"] for w in workos_emulator.writes()] == [401]
    with loopback_client() as client:
        listed = client.get(
            f"{workos_emulator.url}/organizations",
            headers={"Authorization": f"Bearer {workos_emulator.api_key}"},
        )
    assert listed.json()["data"] == []


@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [
        ("GET", "/organizations/org_01MISSING", "Organization"),
        ("PUT", "/organizations/org_01MISSING", "Organization"),
        ("DELETE", "/organizations/org_01MISSING", "Organization"),
        ("GET", "/organizations/external_id/nope", "Organization"),
        ("GET", "/organization_domains/org_domain_01MISSING", "Organization domain"),
        ("POST", "/organization_domains/org_domain_01MISSING/verify", "Organization domain"),
        ("GET", "/user_management/users/user_01MISSING", "User"),
        ("DELETE", "/user_management/users/user_01MISSING", "User"),
        ("GET", "/user_management/users/external_id/nope", "User"),
        (
            "GET",
            "/user_management/organization_memberships/om_01MISSING",
            "Organization membership",
        ),
        (
            "PUT",
            "/user_management/organization_memberships/om_1/deactivate",
            "Organization membership",
        ),
        ("GET", "/authorization/roles/ghost", "Role"),
        ("PATCH", "/authorization/roles/ghost", "Role"),
        ("POST", "/authorization/roles/ghost/permissions", "Role"),
        ("GET", "/authorization/permissions/ghost", "Permission"),
        ("DELETE", "/authorization/permissions/ghost", "Permission"),
        ("DELETE", "/user_management/redirect_uris/redir_01MISSING", "Redirect URI"),
    ],
)
def test_unknown_ids_are_404_with_workos_message(
    api: httpx.Client, method: str, path: str, kind: str
) -> None:
    response = api.request(method, path, json={})
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "entity_not_found"
    assert body["message"].startswith(f"{kind} not found: '")


def test_unknown_route_and_wrong_method_answer_json(api: httpx.Client) -> None:
    assert api.get("/no/such/route").json() == {"message": "Not found.", "code": "not_found"}
    wrong_method = api.patch("/organizations")
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "method_not_allowed"


def test_validation_errors_list_every_field(api: httpx.Client) -> None:
    response = api.post(
        "/user_management/users",
        json={"first_name": 3, "email_verified": "yes", "external_id": "é" * 3},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_request_parameters"
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("email", "required"),
        ("first_name", "invalid_type"),
        ("email_verified", "invalid_type"),
        ("external_id", "invalid_format"),
    }
    assert "email is required" in body["message"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "A", "metadata": {"plan": 3}}, 400, "invalid_metadata"),
        ({"name": "A", "metadata": {"k" * 41: "v"}}, 400, "invalid_metadata"),
        ({"name": "A", "metadata": {f"k{i}": "v" for i in range(51)}}, 400, "invalid_metadata"),
        ({"name": "A", "metadata": ["plan"]}, 422, "invalid_request_parameters"),
        ({"name": ""}, 422, "invalid_request_parameters"),
        ({"name": "A", "external_id": "x" * 129}, 422, "invalid_request_parameters"),
        ({"name": "A", "domain_data": [{"domain": "a.com", "state": "sure"}]}, 422, None),
        ({"name": "A", "domain_data": [{"domain": "not a domain", "state": "pending"}]}, 422, None),
        ({"name": "A", "domain_data": "a.com"}, 422, None),
        ({"name": "A", "domains": ["a.com"], "domain_data": []}, 422, None),
    ],
)
def test_organization_body_validation(
    api: httpx.Client, body: dict[str, Any], status: int, code: str | None
) -> None:
    response = api.post("/organizations", json=body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == (code or "invalid_request_parameters")


def test_external_id_and_domains_are_unique(api: httpx.Client) -> None:
    acme = create_org(
        api, "Acme", external_id="acme", domain_data=[{"domain": "acme.com", "state": "verified"}]
    )
    taken = api.post("/organizations", json={"name": "Other", "external_id": "acme"})
    assert (taken.status_code, taken.json()["code"]) == (400, "external_id_already_used")
    clash = api.post(
        "/organizations",
        json={"name": "Other", "domain_data": [{"domain": "ACME.com", "state": "pending"}]},
    )
    assert (clash.status_code, clash.json()["code"]) == (409, "domain_already_exists")
    # Updating an organization with its own external id and domains is fine.
    same = api.put(f"/organizations/{acme['id']}", json={"external_id": "acme", "name": "Acme 2"})
    assert same.status_code == 200
    cleared = api.put(f"/organizations/{acme['id']}", json={"external_id": None, "metadata": None})
    assert (cleared.json()["external_id"], cleared.json()["metadata"]) == (None, {})


def test_users_password_rules(api: httpx.Client) -> None:
    digest = bcrypt.hashpw(b"pw", bcrypt.gensalt(4)).decode()
    both = api.post(
        "/user_management/users",
        json={"email": "a@x.io", "password": "pw", "password_hash": digest},
    )
    assert (both.status_code, both.json()["code"]) == (400, "password_and_password_hash_provided")
    broken = api.post(
        "/user_management/users",
        json={"email": "a@x.io", "password_hash": "$2b$10$short", "password_hash_type": "bcrypt"},
    )
    assert (broken.status_code, broken.json()["code"]) == (400, "invalid_password_hash")
    no_type = api.post("/user_management/users", json={"email": "a@x.io", "password_hash": digest})
    assert no_type.status_code == 422
    taken_external = api.post(
        "/user_management/users", json={"email": "b@x.io", "external_id": "u1"}
    )
    assert taken_external.status_code == 201
    again = api.post("/user_management/users", json={"email": "c@x.io", "external_id": "u1"})
    assert again.json()["errors"][0]["code"] == "external_id_already_used"


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[1, 2]", b'"text"', b"null", b"\xff\xfe", b'{"name": {"nested": true}}'],
)
def test_garbage_bodies_never_cause_a_500(api: httpx.Client, raw: bytes) -> None:
    targets = [
        ("POST", "/organizations"),
        ("PUT", "/organizations/org_x"),
        ("POST", "/organization_domains"),
        ("POST", "/user_management/users"),
        ("PUT", "/user_management/users/user_x"),
        ("POST", "/user_management/authenticate"),
        ("POST", "/user_management/organization_memberships"),
        ("POST", "/authorization/roles"),
        ("POST", "/authorization/permissions"),
        ("POST", "/user_management/redirect_uris"),
        ("POST", "/user_management/cors_origins"),
        ("POST", "/_emulate/hooks"),
        ("PUT", "/_emulate/rate_limits"),
        ("PUT", "/_emulate/social_connections/google"),
    ]
    headers = {"Content-Type": "application/json"}
    for method, path in targets:
        response = api.request(method, path, content=raw, headers=headers)
        assert 400 <= response.status_code < 500, (method, path, response.status_code)
        assert "message" in response.json() or "error" in response.json()


# --------------------------------------------------------------------------- pagination


def test_cursor_pagination_edges(api: httpx.Client) -> None:
    ids = [create_org(api, f"Org {i}")["id"] for i in range(5)]  # oldest first
    newest_first = list(reversed(ids))

    def page(**params: Any) -> tuple[list[str], dict[str, Any]]:
        body = api.get("/organizations", params=params).json()
        return [item["id"] for item in body["data"]], body["list_metadata"]

    first, meta = page(limit=2)
    assert first == newest_first[:2] and meta == {"before": None, "after": newest_first[1]}
    second, meta = page(limit=2, after=meta["after"])
    assert second == newest_first[2:4]
    assert meta == {"before": newest_first[2], "after": newest_first[3]}
    last, meta = page(limit=2, after=meta["after"])
    assert last == newest_first[4:] and meta == {"before": newest_first[4], "after": None}
    # `before` returns the items just ahead of the cursor, not the start of the list.
    back, meta = page(limit=2, before=newest_first[4])
    assert back == newest_first[2:4] and meta["before"] == newest_first[2]

    ascending, meta = page(limit=3, order="asc")
    assert ascending == ids[:3] and meta["after"] == ids[2]
    assert page(limit=3, order="asc", after=ids[2])[0] == ids[3:]
    # "normal": newest first, but `before` walks to older items and `after` to newer ones.
    normal, meta = page(limit=2, order="normal")
    assert normal == newest_first[:2] and meta == {"before": newest_first[1], "after": None}
    older, meta = page(limit=2, order="normal", before=meta["before"])
    assert older == newest_first[2:4] and meta["after"] == newest_first[2]
    assert page(limit=2, order="normal", after=meta["after"])[0] == newest_first[:2]

    # A cursor stays valid after its object is deleted (ids are time-ordered ULIDs).
    assert api.delete(f"/organizations/{ids[2]}").status_code == 202
    assert page(limit=10, after=ids[2])[0] == [ids[1], ids[0]]
    assert page(limit=100)[0] == [i for i in newest_first if i != ids[2]]
    assert page(after="org_01ZZZZZZZZZZZZZZZZZZZZZZZZ", limit=1)[0] == [newest_first[0]]


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"limit": ""}, {"order": "newest"}],
)
def test_pagination_parameters_are_validated(api: httpx.Client, params: dict[str, Any]) -> None:
    for path in ("/organizations", "/user_management/users", "/authorization/permissions"):
        response = api.get(path, params=params)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["code"] == "invalid_request_parameters"


def test_listing_ten_thousand_organizations_pages_by_index(
    api: httpx.Client, workos_emulator: RunningEmulator
) -> None:
    """10,000 organizations at limit=100 is 100 requests, each an indexed range scan.
    Rows go straight into SQLite: creating them over HTTP is the benchmark's job."""
    store = workos_emulator.app.backend.store
    now = now_iso()
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO organizations (id, name, metadata, created_at, updated_at) "
            "VALUES (?, ?, '{}', ?, ?)",
            [(new_id("org_"), f"Org {i}", now, now) for i in range(10_000)],
        )
    seen: list[str] = []
    after: str | None = None
    requests = 0
    for _ in range(150):  # bounded: 100 pages expected
        params: dict[str, Any] = {"limit": 100, **({"after": after} if after else {})}
        body = api.get("/organizations", params=params).json()
        requests += 1
        seen += [org["id"] for org in body["data"]]
        after = body["list_metadata"]["after"]
        if after is None:
            break
    assert requests == 100
    assert len(seen) == len(set(seen)) == 10_000
    assert seen == sorted(seen, reverse=True)


# --------------------------------------------------------------------------- memberships


def test_membership_rules(api: httpx.Client) -> None:
    org = create_org(api, "Acme")
    user = api.post("/user_management/users", json={"email": "ada@acme.com"}).json()
    no_roles = api.post(
        "/user_management/organization_memberships",
        json={"user_id": user["id"], "organization_id": org["id"]},
    )
    assert (no_roles.status_code, no_roles.json()["code"]) == (422, "invalid_role")
    for slug in ("admin", "member"):
        api.post("/authorization/roles", json={"slug": slug, "name": slug})
    body = {"user_id": user["id"], "organization_id": org["id"]}
    created = api.post("/user_management/organization_memberships", json=body)
    assert created.status_code == 201 and created.json()["role"] == {"slug": "member"}
    duplicate = api.post("/user_management/organization_memberships", json=body)
    assert duplicate.status_code == 409
    membership_id = created.json()["id"]
    api.put(f"/user_management/organization_memberships/{membership_id}/deactivate")
    # Creating again for an inactive pair reactivates it with the requested role.
    revived = api.post(
        "/user_management/organization_memberships", json={**body, "role_slug": "admin"}
    )
    assert revived.status_code == 201
    assert (revived.json()["id"], revived.json()["status"]) == (membership_id, "active")
    assert revived.json()["role"] == {"slug": "admin"}
    both = api.put(
        f"/user_management/organization_memberships/{membership_id}",
        json={"role_slug": "admin", "role_slugs": ["member"]},
    )
    assert both.status_code == 422
    missing = api.get("/user_management/organization_memberships")
    assert missing.json()["code"] == "missing_user_id_or_organization_id"
    bad_status = api.get(
        "/user_management/organization_memberships",
        params={"user_id": user["id"], "statuses": "active,gone"},
    )
    assert bad_status.status_code == 400
    in_org = api.get("/user_management/users", params={"organization_id": org["id"]}).json()
    assert [u["id"] for u in in_org["data"]] == [user["id"]]
    # Deleting the user removes the membership with it.
    api.delete(f"/user_management/users/{user['id']}")
    gone = api.get(f"/user_management/organization_memberships/{membership_id}")
    assert gone.status_code == 404


# --------------------------------------------------------------------------- rate limits


def test_rate_limit_answers_429_with_retry_after_then_recovers(
    api: httpx.Client, workos_emulator: RunningEmulator
) -> None:
    workos_emulator.set_rate_limits(
        user_management_writes={"requests": 5, "per_seconds": 1, "window": "sliding"}
    )
    statuses = [
        api.post("/user_management/users", json={"email": f"u{i}@x.io"}).status_code
        for i in range(6)
    ]
    assert statuses == [201] * 5 + [429]
    limited = api.post("/user_management/users", json={"email": "late@x.io"})
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "1"
    assert limited.json() == {"message": "Too many requests.", "code": "rate_limit_exceeded"}
    assert api.get("/user_management/users").status_code == 200  # reads: another bucket
    assert api.post("/organizations", json={"name": "A"}).status_code == 201  # not /user_management
    time.sleep(float(limited.headers["retry-after"]))
    assert api.post("/user_management/users", json={"email": "late@x.io"}).status_code == 201
    # Rejected requests did not count, and nothing was created by them.
    emails = [u["email"] for u in api.get("/user_management/users?limit=100").json()["data"]]
    assert sorted(emails) == sorted([f"u{i}@x.io" for i in range(5)] + ["late@x.io"])


def test_fixed_window_general_limit(api: httpx.Client, workos_emulator: RunningEmulator) -> None:
    workos_emulator.set_rate_limits(general={"requests": 3, "per_seconds": 30, "window": "fixed"})
    statuses = [api.get("/organizations").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    retry_after = int(api.get("/authorization/roles").headers["retry-after"])
    assert 1 <= retry_after <= 30
    workos_emulator.set_rate_limits(enabled=False)
    assert api.get("/organizations").status_code == 200


def test_authenticate_is_limited_per_email(
    api: httpx.Client, workos_emulator: RunningEmulator
) -> None:
    workos_emulator.set_rate_limits(authenticate_per_email={"requests": 3, "per_seconds": 60})
    body = {
        "grant_type": "password",
        "client_id": workos_emulator.client_id,
        "client_secret": workos_emulator.api_key,
        "password": "guess",
    }
    attempts = [
        api.post("/user_management/authenticate", json={**body, "email": "Ada@x.io"})
        for _ in range(4)
    ]
    assert [r.status_code for r in attempts] == [400, 400, 400, 429]
    assert attempts[-1].json()["error"] == "too_many_requests"
    assert 1 <= int(attempts[-1].headers["retry-after"]) <= 60
    other = api.post("/user_management/authenticate", json={**body, "email": "bob@x.io"})
    assert other.status_code == 400  # another email has its own budget


def test_authenticate_accepts_a_form_body(
    api: httpx.Client, workos_emulator: RunningEmulator
) -> None:
    api.post("/user_management/users", json={"email": "ada@x.io", "password": "form-pw-123"})
    response = api.post(
        "/user_management/authenticate",
        data={
            "grant_type": "password",
            "client_id": workos_emulator.client_id,
            "client_secret": workos_emulator.api_key,
            "email": "ada@x.io",
            "password": "form-pw-123",
        },
    )
    assert response.status_code == 200 and response.json()["user"]["email"] == "ada@x.io"


def test_rate_limit_settings_are_validated(workos_emulator: RunningEmulator) -> None:
    with loopback_client() as client:
        response = client.put(
            f"{workos_emulator.url}/_emulate/rate_limits",
            json={"general": {"requests": 0, "per_seconds": 1}},
            headers={"Authorization": f"Bearer {workos_emulator.api_key}"},
        )
    assert response.status_code == 422
    assert "requests must be a positive integer" in response.json()["message"]
    assert workos_emulator.set_rate_limits()["general"] == {
        "requests": 6000,
        "per_seconds": 60.0,
        "window": "sliding",
    }


# --------------------------------------------------------------------------- fault hooks


def test_fault_hook_returns_status_for_its_matches_then_expires(
    api: httpx.Client, workos_emulator: RunningEmulator
) -> None:
    workos_emulator.add_fault(method="POST", path="/organizations", status=503, times=2)
    assert api.get("/organizations").status_code == 200  # method does not match
    first = api.post("/organizations", json={"name": "A"})
    assert first.status_code == 503 and first.json()["code"] == "emulator_fault"
    assert api.post("/organizations", json={"name": "A"}).status_code == 503
    assert api.post("/organizations", json={"name": "A"}).status_code == 201
    assert len(api.get("/organizations").json()["data"]) == 1  # faulted requests wrote nothing


def test_fault_hook_body_and_path_regex(
    api: httpx.Client, workos_emulator: RunningEmulator
) -> None:
    workos_emulator.add_fault(
        path=r"/user_management/users/[^/]+", status=500, body={"message": "boom"}, times=1
    )
    assert api.get("/user_management/users").status_code == 200  # fullmatch: list untouched
    response = api.get("/user_management/users/user_1")
    assert (response.status_code, response.json()) == (500, {"message": "boom"})


def test_fault_hook_latency(api: httpx.Client, workos_emulator: RunningEmulator) -> None:
    workos_emulator.add_fault(path="/organizations", latency_ms=300, times=1)
    started = time.perf_counter()
    assert api.get("/organizations").status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_fault_hook_drops_the_connection(
    api: httpx.Client, workos_emulator: RunningEmulator
) -> None:
    workos_emulator.add_fault(method="POST", path="/organizations", drop_connection=True, times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/organizations", json={"name": "A"})
    assert api.post("/organizations", json={"name": "A"}).status_code == 201
    logged = workos_emulator.writes()
    assert [(w["dropped"], w["status"]) for w in logged] == [(True, None), (False, 201)]


def test_fault_hook_loses_the_answer_after_carrying_the_request_out(
    api: httpx.Client, workos_emulator: RunningEmulator
) -> None:
    workos_emulator.add_fault(method="POST", path="/organizations", lose_answer=True, times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/organizations", json={"name": "A", "external_id": "a"})
    # The write landed: a retry meets it.
    retry = api.post("/organizations", json={"name": "A", "external_id": "a"})
    assert retry.status_code == 400 and retry.json()["code"] == "external_id_already_used"
    assert [o["external_id"] for o in api.get("/organizations").json()["data"]] == ["a"]
    logged = workos_emulator.writes()
    assert [(w["dropped"], w["status"]) for w in logged] == [(True, 201), (False, 400)]


def test_fault_hooks_are_validated_and_never_block_admin_routes(
    workos_emulator: RunningEmulator,
) -> None:
    with pytest.raises(httpx.HTTPStatusError) as invalid:
        workos_emulator.add_fault(path="(", status=500)
    assert invalid.value.response.status_code == 422
    with pytest.raises(httpx.HTTPStatusError):
        workos_emulator.add_fault(path=".*")  # neither status, latency nor drop
    workos_emulator.add_fault(path=".*", status=500)
    assert workos_emulator.requests_log() == []  # /_emulate/* is not hooked
    workos_emulator.clear_faults()


# --------------------------------------------------------------------------- request log


def test_request_log_redacts_secrets(api: httpx.Client, workos_emulator: RunningEmulator) -> None:
    digest = bcrypt.hashpw(b"clerk-pw", bcrypt.gensalt(4)).decode()
    api.post("/user_management/users", json={"email": "a@x.io", "password": "plain-secret-77"})
    api.post(
        "/user_management/users",
        json={"email": "b@x.io", "password_hash": digest, "password_hash_type": "bcrypt"},
    )
    api.post(
        "/user_management/authenticate",
        json={
            "grant_type": "password",
            "client_id": workos_emulator.client_id,
            "client_secret": workos_emulator.api_key,
            "email": "a@x.io",
            "password": "plain-secret-77",
        },
    )
    log = workos_emulator.requests_log()
    dumped = json.dumps(log)
    for secret in ("plain-secret-77", digest, workos_emulator.api_key):
        assert secret not in dumped
    assert log[0]["body"] == {"email": "a@x.io", "password": "(redacted)"}
    assert log[1]["body"]["password_hash"] == "(redacted)"
    assert log[2]["body"]["client_secret"] == "(redacted)"
    assert [entry["status"] for entry in log] == [201, 201, 200]
    assert {"id", "at", "method", "path", "query", "status", "duration_ms"} <= set(log[0])

    api.get("/organizations", params={"limit": 3})
    assert workos_emulator.requests_log()[-1]["query"] == {"limit": "3"}
    assert [w["path"] for w in workos_emulator.writes()] == [
        "/user_management/users",
        "/user_management/users",
        "/user_management/authenticate",
    ]
    workos_emulator.clear_log()
    assert workos_emulator.requests_log() == []


# --------------------------------------------------------------------------- authorize


def authorize(workos_emulator: RunningEmulator, **params: str) -> httpx.Response:
    query = {
        "response_type": "code",
        "client_id": workos_emulator.client_id,
        "redirect_uri": "https://app.example.com/callback",
        "provider": "GoogleOAuth",
        "state": "opaque-123",
        **params,
    }
    with loopback_client() as browser:  # a browser has no API key
        return browser.get(f"{workos_emulator.url}/user_management/authorize", params=query)


def test_authorize_redirects_to_the_configured_social_provider(
    api: httpx.Client, workos_emulator: RunningEmulator
) -> None:
    api.post("/user_management/redirect_uris", json={"uri": "https://app.example.com/callback"})
    workos_emulator.set_social_connection("google", "1234.apps.googleusercontent.com")
    response = authorize(workos_emulator)
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    expected = urlsplit(SOCIAL_PROVIDERS["google"].oauth_authorize_url)
    assert (location.scheme, location.netloc, location.path) == (
        expected.scheme,
        expected.netloc,
        expected.path,
    )
    query = parse_qs(location.query)
    assert query["client_id"] == ["1234.apps.googleusercontent.com"]
    assert query["response_type"] == ["code"]
    assert query["state"] == ["opaque-123"]
    assert query["redirect_uri"][0].startswith(workos_emulator.url)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"client_id": "client_someone_else"}, "invalid_client"),
        ({"redirect_uri": "https://evil.example.com/callback"}, "invalid_redirect_uri"),
        ({"provider": "GitHubOAuth"}, "invalid_connection"),
        ({"response_type": "token"}, "invalid_request"),
        ({"provider": "MadeUpOAuth"}, "invalid_request"),
    ],
)
def test_authorize_errors(
    api: httpx.Client, workos_emulator: RunningEmulator, params: dict[str, str], code: str
) -> None:
    api.post("/user_management/redirect_uris", json={"uri": "https://app.example.com/callback"})
    workos_emulator.set_social_connection("google", "1234.apps.googleusercontent.com")
    response = authorize(workos_emulator, **params)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["message"]


def test_removing_a_social_connection_breaks_its_authorize(
    api: httpx.Client, workos_emulator: RunningEmulator
) -> None:
    api.post("/user_management/redirect_uris", json={"uri": "https://app.example.com/callback"})
    workos_emulator.set_social_connection("google", "1234.apps.googleusercontent.com")
    assert authorize(workos_emulator).status_code == 302
    workos_emulator.set_social_connection("google", None)
    assert authorize(workos_emulator).json()["code"] == "invalid_connection"
    listed = api.get("/_emulate/social_connections").json()["data"]
    assert listed == []
    unknown = api.put("/_emulate/social_connections/GoogleOAuth", json={"client_id": "x"})
    assert unknown.status_code == 422  # canonical lower-case names only


# --------------------------------------------------------------------------- persistence, seed


def test_state_persists_across_restarts_with_a_file_database(tmp_path: Path) -> None:
    db = tmp_path / ".authform" / "workos.sqlite3"
    with start_emulator(db_path=db) as first:
        with loopback_client() as client:
            headers = {"Authorization": f"Bearer {first.api_key}"}
            org = client.post(
                f"{first.url}/organizations", json={"name": "Acme"}, headers=headers
            ).json()
            client.post(
                f"{first.url}/user_management/users",
                json={"email": "ada@acme.com", "password": "persist-me-1"},
                headers=headers,
            )
        first.set_social_connection("github", "Iv1.abc")
    assert db.exists()
    with (
        start_emulator(db_path=db, rate_limits=RateLimits.disabled()) as second,
        loopback_client() as client,
    ):
        headers = {"Authorization": f"Bearer {second.api_key}"}
        again = client.get(f"{second.url}/organizations/{org['id']}", headers=headers)
        login = client.post(
            f"{second.url}/user_management/authenticate",
            json={
                "grant_type": "password",
                "client_id": second.client_id,
                "client_secret": second.api_key,
                "email": "ada@acme.com",
                "password": "persist-me-1",
            },
        )
        social = client.get(f"{second.url}/_emulate/social_connections", headers=headers)
    assert again.status_code == 200 and again.json()["name"] == "Acme"
    assert login.status_code == 200
    assert [c["provider"] for c in social.json()["data"]] == ["github"]


SEED = """
permissions:
  - {slug: "billing:manage", name: Manage billing}
roles:
  - {slug: admin, name: Admin, permissions: ["billing:manage"]}
  - {slug: member, name: Member}
organizations:
  - name: Acme
    external_id: acme
    domains: [{domain: acme.com, state: verified}]
users:
  - email: ada@acme.com
    password: seeded-password-1
    first_name: Ada
    memberships: [{organization: acme, role: admin}]
  - email: bob@acme.com
    password_hash: "{bob_hash}"
    memberships: [{organization: Acme}]
redirect_uris: [https://app.example.com/callback]
cors_origins: [https://app.example.com]
social_connections: {google: 1234.apps.googleusercontent.com}
"""


def test_seed_file_loads_everything_once(tmp_path: Path) -> None:
    bob_hash = bcrypt.hashpw(b"bob-pw", bcrypt.gensalt(4)).decode().replace("$2b$", "$2y$")
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED.replace("{bob_hash}", bob_hash), encoding="utf-8")
    db = tmp_path / "workos.sqlite3"
    for _ in range(2):  # seeding the same database twice must not duplicate anything
        with start_emulator(db_path=db, seed=seed) as emulator, loopback_client() as client:
            client.base_url = httpx.URL(emulator.url)
            client.headers["Authorization"] = f"Bearer {emulator.api_key}"
            roles = client.get("/authorization/roles").json()["data"]
            orgs = client.get("/organizations").json()["data"]
            users = client.get("/user_management/users").json()["data"]
            memberships = client.get(
                "/user_management/organization_memberships",
                params={"organization_id": orgs[0]["id"]},
            ).json()["data"]
            redirects = client.get("/user_management/redirect_uris").json()["data"]
            origins = client.get("/user_management/cors_origins").json()["data"]
            social = client.get("/_emulate/social_connections").json()["data"]
            logins = [
                client.post(
                    "/user_management/authenticate",
                    json={
                        "grant_type": "password",
                        "client_id": emulator.client_id,
                        "client_secret": emulator.api_key,
                        "email": email,
                        "password": password,
                    },
                ).status_code
                for email, password in (
                    ("ada@acme.com", "seeded-password-1"),
                    ("bob@acme.com", "bob-pw"),
                )
            ]
            assert client.post("/_emulate/reset").status_code == 204
            after_reset = client.get("/user_management/users").json()["data"]
        assert {r["slug"]: r["permissions"] for r in roles} == {
            "admin": ["billing:manage"],
            "member": [],
        }
        assert [(o["external_id"], o["domains"][0]["state"]) for o in orgs] == [
            ("acme", "verified")
        ]
        assert sorted(u["email"] for u in users) == ["ada@acme.com", "bob@acme.com"]
        assert sorted((m["user"]["email"], m["role"]["slug"]) for m in memberships) == [
            ("ada@acme.com", "admin"),
            ("bob@acme.com", "member"),
        ]
        assert [r["uri"] for r in redirects] == ["https://app.example.com/callback"]
        assert [o["origin"] for o in origins] == ["https://app.example.com"]
        assert [(s["provider"], s["client_id"]) for s in social] == [
            ("google", "1234.apps.googleusercontent.com")
        ]
        assert logins == [200, 200]
        assert len(after_reset) == 2  # reset goes back to the seeded state


def test_a_bad_seed_fails_at_start_with_its_reason(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("roles: [{slug: 'Bad Slug', name: X}]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"seed roles item 1: .*slug.*must be lowercase"):
        start_emulator(seed=seed)
    seed.write_text("widgets: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown seed sections: widgets"):
        start_emulator(seed=seed)


# --------------------------------------------------------------------------- serving


def test_serves_on_loopback_only_and_handles_concurrent_writes(
    workos_emulator: RunningEmulator,
) -> None:
    assert urlsplit(workos_emulator.url).hostname == "127.0.0.1"
    statuses: list[int] = []
    lock = threading.Lock()

    def create(index: int) -> None:
        with loopback_client() as client:
            response = client.post(
                f"{workos_emulator.url}/organizations",
                json={"name": f"Org {index}", "external_id": f"org-{index}"},
                headers={"Authorization": f"Bearer {workos_emulator.api_key}"},
            )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert statuses == [201] * 20
    with loopback_client() as client:
        listed = client.get(
            f"{workos_emulator.url}/organizations?limit=100",
            headers={"Authorization": f"Bearer {workos_emulator.api_key}"},
        ).json()["data"]
    assert len({org["id"] for org in listed}) == 20


def test_reset_forgets_state_hooks_and_limits(
    api: httpx.Client, workos_emulator: RunningEmulator
) -> None:
    create_org(api, "Acme")
    workos_emulator.add_fault(path="/nothing", status=500)
    workos_emulator.set_rate_limits(general={"requests": 1000, "per_seconds": 1})
    workos_emulator.reset()
    assert api.get("/organizations").json()["data"] == []
    assert api.get("/_emulate/hooks").json()["data"] == []
    assert api.get("/_emulate/rate_limits").json()["general"]["requests"] == 6000
