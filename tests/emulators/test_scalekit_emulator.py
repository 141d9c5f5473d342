"""The Scalekit emulator's behaviour over real HTTP: client-credentials tokens, gRPC-status
errors, page tokens, Scalekit's naming and metadata rules, users that exist only inside an
organization, dashboard-only state, rate limits, fault hooks and the request log."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from authform.emulators import Limit, RunningEmulator, start_emulator
from authform.emulators.scalekit import ScalekitRateLimits, set_dashboard_redirect_uri
from authform.emulators.server import create_app
from authform.emulators.workos import RateLimits

API = "/api/v1"


def token_for(emulator: RunningEmulator) -> str:
    answer = httpx.post(
        f"{emulator.url}/oauth/token",
        data={
            "client_id": emulator.client_id,
            "client_secret": emulator.api_key,
            "grant_type": "client_credentials",
        },
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


@pytest.fixture
def api(scalekit_emulator: RunningEmulator) -> Iterator[httpx.Client]:
    """An httpx client holding an access token, as an API client would."""
    with httpx.Client(base_url=scalekit_emulator.url, timeout=10) as client:
        client.headers["Authorization"] = f"Bearer {token_for(scalekit_emulator)}"
        yield client


def grpc(response: httpx.Response) -> tuple[int, str, list[str]]:
    """(code, error_code, violated fields) of a gRPC-status error body."""
    body = response.json()
    detail = body["details"][0]
    assert detail["@type"] == "type.googleapis.com/scalekit.v1.errdetails.ErrorInfo"
    assert isinstance(body["message"], str) and body["message"]
    violations = (detail.get("validation_error_info") or {}).get("field_violations") or []
    return body["code"], detail["error_code"], [v["field"] for v in violations]


def new_org(api: httpx.Client, name: str = "Acme", **fields: object) -> dict:
    answer = api.post(f"{API}/organizations", json={"display_name": name, **fields})
    assert answer.status_code == 201, answer.text
    organization: dict = answer.json()["organization"]
    return organization


# --------------------------------------------------------------------------- auth


def test_token_exchange_and_bearer_tokens(scalekit_emulator: RunningEmulator) -> None:
    url = scalekit_emulator.url
    form = {
        "client_id": scalekit_emulator.client_id,
        "client_secret": scalekit_emulator.api_key,
        "grant_type": "client_credentials",
    }
    answer = httpx.post(f"{url}/oauth/token", data=form).json()
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 86399
    assert answer["scope"] == "openid"
    token = answer["access_token"]
    assert httpx.get(f"{url}{API}/roles", headers={"Authorization": f"Bearer {token}"}).is_success

    wrong = httpx.post(f"{url}/oauth/token", data={**form, "client_secret": "nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    grant = httpx.post(f"{url}/oauth/token", data={**form, "grant_type": "password"})
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"

    # The API takes only issued tokens: not the client secret, not nothing.
    for header in ({}, {"Authorization": f"Bearer {scalekit_emulator.api_key}"}):
        refused = httpx.get(f"{url}{API}/roles", headers=header)
        assert refused.status_code == 401
        assert grpc(refused)[:2] == (16, "UNAUTHENTICATED")
    # Admin routes take the client secret (the dashboard's stand-in), not a token.
    admin = httpx.get(f"{url}/_emulate/requests", headers={"Authorization": f"Bearer {token}"})
    assert admin.status_code == 401


def test_revoked_and_expired_tokens_answer_401(scalekit_emulator: RunningEmulator) -> None:
    url = scalekit_emulator.url
    token = token_for(scalekit_emulator)
    headers = {"Authorization": f"Bearer {token}"}
    secret = {"Authorization": f"Bearer {scalekit_emulator.api_key}"}
    assert httpx.delete(f"{url}/_emulate/tokens", headers=secret).json() == {"revoked": 1}
    assert httpx.get(f"{url}{API}/roles", headers=headers).status_code == 401

    assert httpx.put(f"{url}/_emulate/tokens", json={"expires_in": 1}, headers=secret).is_success
    answer = httpx.post(
        f"{url}/oauth/token",
        data={
            "client_id": scalekit_emulator.client_id,
            "client_secret": scalekit_emulator.api_key,
            "grant_type": "client_credentials",
        },
    ).json()
    assert answer["expires_in"] == 1
    short = {"Authorization": f"Bearer {answer['access_token']}"}
    assert httpx.get(f"{url}{API}/roles", headers=short).is_success
    import time

    time.sleep(1.05)
    assert httpx.get(f"{url}{API}/roles", headers=short).status_code == 401


def test_request_log_never_holds_the_client_secret(scalekit_emulator: RunningEmulator) -> None:
    token_for(scalekit_emulator)
    [entry] = scalekit_emulator.requests_log()
    assert entry["path"] == "/oauth/token"
    assert entry["body"]["client_secret"] == "(redacted)"
    assert scalekit_emulator.api_key not in str(scalekit_emulator.requests_log())


# --------------------------------------------------------------------------- organizations


def test_organization_crud_and_external_ids(api: httpx.Client) -> None:
    acme = new_org(api, external_id="acme", metadata={"tier": "gold"})
    assert acme["id"].startswith("org_") and len(acme["id"]) <= 32
    assert acme["region_code"] == "US" and acme["create_time"].endswith("Z")
    assert api.get(f"{API}/organizations:external/acme").json()["organization"]["id"] == acme["id"]
    clash = api.post(f"{API}/organizations", json={"display_name": "B", "external_id": "acme"})
    assert clash.status_code == 409 and grpc(clash)[:2] == (6, "ALREADY_EXISTS")

    patched = api.patch(
        f"{API}/organizations/{acme['id']}",
        json={"display_name": "Acme Inc", "metadata": {"plan": "pro"}},
    ).json()["organization"]
    assert patched["display_name"] == "Acme Inc"
    assert patched["metadata"] == {"plan": "pro"}  # the map is replaced whole
    assert patched["external_id"] == "acme"

    assert api.delete(f"{API}/organizations/{acme['id']}").json() == {}
    missing = api.get(f"{API}/organizations/{acme['id']}")
    assert missing.status_code == 404 and grpc(missing)[:2] == (5, "NOT_FOUND")


def test_organization_validation_reports_every_field(api: httpx.Client) -> None:
    bad = api.post(
        f"{API}/organizations",
        json={
            "display_name": "x" * 201,
            "metadata": {"ab": "ok", "long_enough": "", **{f"key{i}": "v" for i in range(10)}},
            "slug": "Not A Slug",
        },
    )
    assert bad.status_code == 400
    code, error_code, fields = grpc(bad)
    assert (code, error_code) == (3, "INVALID_ARGUMENT")
    assert set(fields) >= {
        "display_name",
        "metadata",
        "metadata.ab",
        "metadata.long_enough",
        "slug",
    }
    unknown = api.post(f"{API}/organizations", json={"display_name": "A", "name": "typo"})
    assert unknown.status_code == 400 and "name" in unknown.json()["message"]


def test_request_schemas_describe_each_violation_and_read_empty_as_unset(
    api: httpx.Client,
) -> None:
    """Bodies are checked against the schemas of ``requests.json``: each violation names its
    field and says what is wrong; ``null`` and an empty optional text are proto3's unset."""
    bad = api.post(f"{API}/roles", json={"name": "org-admin", "display_name": "", "x": 1})
    assert bad.status_code == 400
    violations = bad.json()["details"][0]["validation_error_info"]["field_violations"]
    assert sorted((v["field"], v["description"]) for v in violations) == [
        ("display_name", "is required"),
        ("name", "must be 1-64 letters, digits or underscores"),
        ("x", "unknown field"),
    ]
    assert bad.json()["message"].startswith("invalid request: ")
    acme = new_org(api, external_id=None, slug="", metadata={"tier": "gold"})
    assert "external_id" not in acme and "slug" not in acme
    user = api.post(
        f"{API}/organizations/{acme['id']}/users",
        json={"email": "ada@acme.com", "membership": {"roles": [{"name": "ghost"}]}},
    )
    assert user.status_code == 400 and grpc(user)[2] == ["membership.roles[0].name"]
    assert api.get(f"{API}/users").json()["total_size"] == 0  # nothing half-created


def test_page_tokens_walk_every_organization_once(api: httpx.Client) -> None:
    created = [new_org(api, f"Org {i}")["id"] for i in range(23)]
    seen, token, pages = [], "", 0
    while pages < 10:
        params = {"page_size": 10, **({"page_token": token} if token else {})}
        page = api.get(f"{API}/organizations", params=params).json()
        assert page["total_size"] == 23
        seen += [o["id"] for o in page["organizations"]]
        pages += 1
        token = page["next_page_token"]
        if not token:
            break
    assert seen == created and pages == 3
    assert page["prev_page_token"]
    back = api.get(
        f"{API}/organizations", params={"page_size": 10, "page_token": page["prev_page_token"]}
    ).json()
    assert [o["id"] for o in back["organizations"]] == created[10:20]

    assert api.get(f"{API}/organizations", params={"page_size": 5}).status_code == 400
    forged = base64.urlsafe_b64encode(b"sideways:1").decode()
    assert api.get(f"{API}/organizations", params={"page_token": forged}).status_code == 400
    by_external = api.get(f"{API}/organizations", params={"external_id": "none"}).json()
    assert by_external["organizations"] == [] and by_external["total_size"] == 0


def test_domains_added_through_the_api_are_admin_verified(api: httpx.Client) -> None:
    acme = new_org(api)
    path = f"{API}/organizations/{acme['id']}/domains"
    domain = api.post(path, json={"domain": "Acme.com", "domain_type": "ORGANIZATION_DOMAIN"})
    assert domain.status_code == 200  # the document's status for this create
    body = domain.json()["domain"]
    assert (body["domain"], body["verification_status"], body["verification_method"]) == (
        "acme.com",
        "VERIFIED",
        "ADMIN",
    )
    hint = api.post(path, json={"domain": "acme.io", "domain_type": "ALLOWED_EMAIL_DOMAIN"})
    assert hint.json()["domain"]["verification_status"] == "AUTO_VERIFIED"
    again = api.post(path, json={"domain": "acme.com", "domain_type": "ORGANIZATION_DOMAIN"})
    assert again.status_code == 409
    public = api.post(path, json={"domain": "gmail.com", "domain_type": "ORGANIZATION_DOMAIN"})
    assert public.status_code == 400 and grpc(public)[2] == ["domain"]
    listed = api.get(path, params={"domain_type": "ORGANIZATION_DOMAIN"}).json()
    assert [d["domain"] for d in listed["domains"]] == ["acme.com"]
    assert listed["page_number"] == 0
    second_page = api.get(path, params={"page_size": 1, "page_number": 1}).json()
    assert [d["domain"] for d in second_page["domains"]] == ["acme.io"]
    assert api.delete(f"{path}/{body['id']}").json() == {}
    assert api.get(f"{path}/{body['id']}").status_code == 404


# --------------------------------------------------------------------------- users


def test_users_are_created_inside_an_organization_without_email(
    api: httpx.Client, scalekit_emulator: RunningEmulator
) -> None:
    acme, globex = new_org(api), new_org(api, "Globex")
    api.post(f"{API}/roles", json={"name": "admin", "display_name": "Admin"})
    created = api.post(
        f"{API}/organizations/{acme['id']}/users",
        params={"send_invitation_email": "false"},
        json={
            "email": "ada@acme.com",
            "external_id": "u1",
            "user_profile": {"given_name": "Ada", "family_name": "Lovelace"},
            "membership": {"roles": [{"name": "admin"}]},
        },
    )
    assert created.status_code == 201, created.text
    user = created.json()["user"]
    assert user["id"].startswith("usr_") and 19 <= len(user["id"]) <= 25
    assert user["user_profile"]["email_verified"] is True  # no invitation: verified at once
    [membership] = user["memberships"]
    assert membership["membership_status"] == "ACTIVE"
    assert [r["name"] for r in membership["roles"]] == ["admin"]

    # The API's default sends an invitation; the outbox shows it.
    invited = api.post(
        f"{API}/organizations/{acme['id']}/users", json={"email": "bob@acme.com"}
    ).json()["user"]
    assert invited["memberships"][0]["membership_status"] == "PENDING_INVITE"
    assert invited["user_profile"]["email_verified"] is False
    emails = httpx.get(
        f"{scalekit_emulator.url}/_emulate/emails",
        headers={"Authorization": f"Bearer {scalekit_emulator.api_key}"},
    ).json()["data"]
    assert [e["email"] for e in emails] == ["bob@acme.com"]

    taken = api.post(f"{API}/organizations/{globex['id']}/users", json={"email": "ADA@acme.com"})
    assert taken.status_code == 409

    member = f"{API}/memberships/organizations/{globex['id']}/users"
    added = api.post(
        f"{member}/{user['id']}", params={"send_invitation_email": "false"}, json={"roles": []}
    )
    assert added.status_code == 201
    assert len(added.json()["user"]["memberships"]) == 2
    assert api.post(f"{member}/{user['id']}", json={}).status_code == 409
    patched = api.patch(f"{member}:external/u1", json={"roles": [{"name": "admin"}]})
    roles = {m["organization_id"]: m["roles"] for m in patched.json()["user"]["memberships"]}
    assert [r["name"] for r in roles[globex["id"]]] == ["admin"]
    ghost = api.patch(f"{member}/{user['id']}", json={"roles": [{"name": "ghost"}]})
    assert ghost.status_code == 400 and grpc(ghost)[2] == ["roles[0].name"]
    assert api.delete(f"{member}/{user['id']}").json() == {}

    listed = api.get(f"{API}/users", params={"page_size": 10}).json()
    assert listed["total_size"] == 2 and listed["next_page_token"] == ""
    in_acme = api.get(f"{API}/organizations/{acme['id']}/users").json()
    assert {u["email"] for u in in_acme["users"]} == {"ada@acme.com", "bob@acme.com"}

    renamed = api.patch(
        f"{API}/users/{user['id']}", json={"user_profile": {"given_name": "Augusta"}}
    ).json()["user"]
    assert renamed["user_profile"]["given_name"] == "Augusta"
    assert renamed["user_profile"]["family_name"] == "Lovelace"
    assert api.patch(f"{API}/users/{user['id']}", json={"email": "x@y.z"}).status_code == 400
    assert api.delete(f"{API}/users:external/u1").json() == {}
    assert api.get(f"{API}/users/{user['id']}").status_code == 404


# --------------------------------------------------------------------------- roles, permissions


def test_roles_and_permissions(api: httpx.Client) -> None:
    builtin = api.get(f"{API}/permissions", params={"type": "SCALEKIT"}).json()["permissions"]
    assert {p["name"] for p in builtin} == {"sk_org_settings_read", "sk_org_settings_write"}
    assert all(p["is_scalekit_permission"] for p in builtin)
    for name in ("billing:manage", "reports:read", "members_invite"):
        assert api.post(f"{API}/permissions", json={"name": name}).status_code == 201
    bad = api.post(f"{API}/permissions", json={"name": "billing.manage"})
    assert bad.status_code == 400 and grpc(bad)[2] == ["name"]
    own = api.get(f"{API}/permissions", params={"type": "ENVIRONMENT"}).json()
    assert own["total_size"] == 3

    assert (
        api.post(f"{API}/roles", json={"name": "org-admin", "display_name": "A"}).status_code == 400
    )
    created = api.post(
        f"{API}/roles",
        json={"name": "admin", "display_name": "Admin", "permissions": ["billing:manage"]},
    )
    assert created.status_code == 201
    assert [p["name"] for p in created.json()["role"]["permissions"]] == ["billing:manage"]
    bare = api.get(f"{API}/roles").json()["roles"]
    assert "permissions" not in bare[0]
    # PUT changes only what is sent; a permissions list replaces the role's permissions.
    updated = api.put(f"{API}/roles/admin", json={"description": "All of it"}).json()["role"]
    assert (updated["display_name"], updated["description"]) == ("Admin", "All of it")
    replaced = api.put(f"{API}/roles/admin", json={"permissions": ["reports:read"]}).json()
    assert [p["name"] for p in replaced["role"]["permissions"]] == ["reports:read"]
    added = api.post(
        f"{API}/roles/admin/permissions", json={"permission_names": ["members_invite"]}
    )
    assert [p["name"] for p in added.json()["permissions"]] == ["members_invite", "reports:read"]
    in_use = api.delete(f"{API}/permissions/reports:read")
    assert in_use.status_code == 400 and grpc(in_use)[:2] == (9, "FAILED_PRECONDITION")
    assert api.delete(f"{API}/roles/admin/permissions/reports:read").json() == {}
    assert api.delete(f"{API}/permissions/reports:read").json() == {}
    assert api.put(f"{API}/permissions/billing:manage", json={"description": "Pay"}).is_success
    assert api.get(f"{API}/permissions/billing:manage").json()["permission"]["description"] == (
        "Pay"
    )
    assert api.delete(f"{API}/permissions/sk_org_settings_read").status_code == 403
    assert api.delete(f"{API}/roles/admin").json() == {}


def test_a_role_in_use_needs_a_replacement_to_be_deleted(api: httpx.Client) -> None:
    acme = new_org(api)
    for name in ("admin", "member"):
        api.post(f"{API}/roles", json={"name": name, "display_name": name.title()})
    api.post(
        f"{API}/organizations/{acme['id']}/users",
        params={"send_invitation_email": "false"},
        json={"email": "ada@acme.com", "membership": {"roles": [{"name": "admin"}]}},
    )
    assert api.delete(f"{API}/roles/admin").status_code == 400
    assert api.delete(f"{API}/roles/admin", params={"reassign_role_name": "member"}).is_success
    user = api.get(f"{API}/users").json()["users"][0]
    assert [r["name"] for r in user["memberships"][0]["roles"]] == ["member"]


# --------------------------------------------------------------------------- dashboard-only


def test_authorization_url_honours_dashboard_redirects_and_social_logins(
    scalekit_emulator: RunningEmulator,
) -> None:
    url = scalekit_emulator.url
    query = {
        "response_type": "code",
        "client_id": scalekit_emulator.client_id,
        "redirect_uri": "https://app.example.com/callback",
        "state": "s1",
    }
    unknown = httpx.get(f"{url}/oauth/authorize", params=query)
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_redirect_uri"

    set_dashboard_redirect_uri(scalekit_emulator, "https://app.example.com/callback", True)
    login = httpx.get(f"{url}/oauth/authorize", params=query)
    assert login.status_code == 302 and "/ui/login" in login.headers["location"]

    not_enabled = httpx.get(f"{url}/oauth/authorize", params={**query, "provider": "google"})
    target = urlsplit(not_enabled.headers["location"])
    assert target.netloc == "app.example.com"
    assert parse_qs(target.query)["error"] == ["invalid_request"]
    assert parse_qs(target.query)["state"] == ["s1"]

    scalekit_emulator.set_social_connection("google", "1234.apps.googleusercontent.com")
    social = httpx.get(f"{url}/oauth/authorize", params={**query, "provider": "google"})
    target = urlsplit(social.headers["location"])
    assert (target.netloc, target.path) == ("accounts.google.com", "/o/oauth2/v2/auth")
    assert parse_qs(target.query)["client_id"] == ["1234.apps.googleusercontent.com"]

    set_dashboard_redirect_uri(scalekit_emulator, "https://app.example.com/callback", False)
    assert httpx.get(f"{url}/oauth/authorize", params=query).status_code == 400
    wrong_client = httpx.get(f"{url}/oauth/authorize", params={**query, "client_id": "other"})
    assert wrong_client.status_code == 400


# --------------------------------------------------------------------------- limits, faults


def test_rate_limit_answers_429_with_retry_after(
    api: httpx.Client, scalekit_emulator: RunningEmulator
) -> None:
    scalekit_emulator.set_rate_limits(general={"requests": 2, "per_seconds": 60})
    statuses = [api.get(f"{API}/roles").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = api.get(f"{API}/roles")
    assert int(limited.headers["retry-after"]) >= 1
    assert grpc(limited)[:2] == (8, "RESOURCE_EXHAUSTED")


def test_faults_answer_in_scalekits_error_shape(
    api: httpx.Client, scalekit_emulator: RunningEmulator
) -> None:
    scalekit_emulator.add_fault(method="GET", path=f"^{API}/roles$", status=503, times=1)
    failed = api.get(f"{API}/roles")
    assert failed.status_code == 503 and grpc(failed)[0] == 14
    assert api.get(f"{API}/roles").is_success
    assert api.get(f"{API}/nowhere").status_code == 404


def test_seed_and_registration(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        """
permissions: [{name: "billing:manage"}]
roles: [{name: admin, display_name: Admin, permissions: ["billing:manage"]}]
organizations:
  - {display_name: Acme, external_id: acme, domains: [{domain: acme.com, state: pending}]}
users:
  - email: ada@acme.com
    external_id: u1
    memberships: [{organization: acme, role: admin}]
redirect_uris: [https://app.example.com/callback]
social_connections: {google: g-1}
""",
        encoding="utf-8",
    )
    with start_emulator("scalekit", seed=seed) as emulator:
        with httpx.Client(base_url=emulator.url) as client:
            client.headers["Authorization"] = f"Bearer {token_for(emulator)}"
            org = client.get(f"{API}/organizations:external/acme").json()["organization"]
            [domain] = client.get(f"{API}/organizations/{org['id']}/domains").json()["domains"]
            assert (domain["verification_status"], domain["verification_method"]) == (
                "PENDING",
                "DNS",
            )
            user = client.get(f"{API}/users:external/u1").json()["user"]
            assert user["memberships"][0]["permissions"] == ["billing:manage"]
        emulator.reset()  # the seed comes back after a reset
        with httpx.Client(base_url=emulator.url) as client:
            client.headers["Authorization"] = f"Bearer {token_for(emulator)}"
            assert client.get(f"{API}/users:external/u1").is_success

    # A disabled table from any provider's emulator turns the limits off.
    app = create_app("scalekit", rate_limits=RateLimits.disabled())
    try:
        assert app.rate_limits.enabled is False
        assert isinstance(app.rate_limits, ScalekitRateLimits)
    finally:
        app.close()
    app = create_app("scalekit", rate_limits=ScalekitRateLimits(general=Limit(5, 1)))
    try:
        assert app.rate_limits.limit_for("general") == Limit(5, 1)
    finally:
        app.close()
