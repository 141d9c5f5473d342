"""Every request the official SDK sends and every answer the emulator gives, validated against
WorkOS's own OpenAPI document (``reference/openapi/workos.yaml``) with openapi-core.

Exchanges are recorded by an httpx client handed to the SDK (``http_client=``), so what is
validated is exactly what went over the wire. Successful answers are also checked for
fields the document does not declare: the emulator must not invent payload.

Known disagreements between the document and the SDK or the live API, satisfied both ways:
- ``OrganizationList.required`` lists ``list_metadata`` twice, which the OpenAPI meta-schema
  rejects (uniqueItems); the document is loaded without meta-validation for that reason.
- ``DELETE /organizations/{id}`` documents 200 and 202 (no 204); the emulator answers 202.
- ``DELETE /user_management/users/{id}`` and ``.../organization_memberships/{id}`` document a
  bare 200, ``DELETE /authorization/permissions/{slug}`` and ``/organization_domains/{id}``
  a 204: the emulator follows each. The SDK accepts any of them.
- 401 is documented on only a few operations and 429 on almost none, although WorkOS answers
  both everywhere (and the SDK maps both); those answers are checked by the SDK tests instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import bcrypt
import httpx
import pytest
from openapi_core import Config, OpenAPI
from workos import WorkOSClient
from workos.organization_membership import RoleMultiple, RoleSingle
from workos.organizations.models import OrganizationDomainData
from workos.user_management import PasswordHashed, PasswordPlaintext

from authform.emulators import Limit, RateLimits, RunningEmulator, start_emulator

from .openapi_support import (
    as_openapi_request,
    as_openapi_response,
    load_openapi_document,
    resolve,
)

SPEC_SERVER = "https://api.workos.com"  # the document's server; paths are matched under it
BCRYPT_OF_HUNTER2 = bcrypt.hashpw(b"hunter2", bcrypt.gensalt(4)).decode()


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    data = load_openapi_document("workos.yaml")
    return data


@pytest.fixture(scope="module")
def openapi(spec: dict[str, Any]) -> OpenAPI:
    # spec_validator_cls=None: see the module docstring (duplicate `required` entry).
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


# --------------------------------------------------------------------------- recording


@dataclass
class Exchange:
    request: httpx.Request
    response: httpx.Response
    request_is_invalid_on_purpose: bool

    def label(self) -> str:
        return f"{self.request.method} {self.request.url.path} -> {self.response.status_code}"


@dataclass
class Recorder:
    """Records every exchange of the httpx client it hands out."""

    exchanges: list[Exchange] = field(default_factory=list)
    _invalid_on_purpose: bool = False

    def client(self) -> httpx.Client:
        return httpx.Client(timeout=10, event_hooks={"response": [self._record]})

    def _record(self, response: httpx.Response) -> None:
        response.read()
        self.exchanges.append(Exchange(response.request, response, self._invalid_on_purpose))

    def sending_invalid_requests(self) -> _InvalidRequests:
        return _InvalidRequests(self)


class _InvalidRequests:
    """Marks the requests sent inside it as deliberately invalid (bad-input tests)."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder

    def __enter__(self) -> None:
        self._recorder._invalid_on_purpose = True

    def __exit__(self, *exc: object) -> None:
        self._recorder._invalid_on_purpose = False


def operation_for(spec: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """The document's operation for a concrete path (the most literal template wins)."""
    candidates = []
    for template, item in spec["paths"].items():
        segments = template.split("/")
        pattern = "/".join("[^/]+" if s.startswith("{") else re.escape(s) for s in segments)
        if re.fullmatch(pattern, path) and method.lower() in item:
            literal_segments = sum(not s.startswith("{") for s in segments)
            candidates.append((literal_segments, item[method.lower()]))
    assert candidates, f"no operation for {method} {path} in the document"
    return max(candidates, key=lambda candidate: candidate[0])[1]


def undeclared_fields(
    spec: dict[str, Any], instance: Any, schema: dict[str, Any], where: str = "$"
) -> list[str]:
    """Object keys of ``instance`` that ``schema`` does not declare (``properties``)."""
    schema = resolve(spec, schema)
    parts = [resolve(spec, part) for part in schema.get("allOf", [])] or [schema]
    properties: dict[str, Any] = {}
    items: dict[str, Any] | None = None
    for part in parts:
        properties.update(part.get("properties", {}))
        items = part.get("items", items)
    found: list[str] = []
    if isinstance(instance, dict) and properties:
        for key, value in instance.items():
            if key not in properties:
                found.append(f"{where}.{key}")
            else:
                found += undeclared_fields(spec, value, properties[key], f"{where}.{key}")
    elif isinstance(instance, list) and items is not None:
        for index, value in enumerate(instance):
            found += undeclared_fields(spec, value, items, f"{where}[{index}]")
    return found


def assert_all_valid(openapi: OpenAPI, spec: dict[str, Any], recorder: Recorder) -> None:
    problems: list[str] = []
    for exchange in recorder.exchanges:
        openapi_request = as_openapi_request(exchange.request, SPEC_SERVER)
        if not exchange.request_is_invalid_on_purpose:
            try:
                openapi.validate_request(openapi_request)
            except Exception as error:  # noqa: BLE001 - report every problem at once
                problems.append(f"request {exchange.label()}: {error}")
        try:
            openapi.validate_response(openapi_request, as_openapi_response(exchange.response))
        except Exception as error:  # noqa: BLE001
            problems.append(f"response {exchange.label()}: {error}")
        if exchange.response.is_success and exchange.response.content:
            operation = operation_for(spec, exchange.request.method, exchange.request.url.path)
            content = operation["responses"][str(exchange.response.status_code)]["content"]
            schema = content["application/json"]["schema"]
            extra = undeclared_fields(spec, exchange.response.json(), schema)
            if extra:
                problems.append(f"response {exchange.label()}: undeclared fields {extra}")
    assert not problems, "\n".join(problems)
    assert recorder.exchanges, "nothing was recorded"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def http(recorder: Recorder, workos_emulator: RunningEmulator) -> Iterator[httpx.Client]:
    """A recorded raw client, authenticated, for the error paths the SDK does not reach."""
    with recorder.client() as client:
        client.base_url = httpx.URL(workos_emulator.url)
        client.headers["Authorization"] = f"Bearer {workos_emulator.api_key}"
        yield client


@pytest.fixture
def sdk(recorder: Recorder, workos_emulator: RunningEmulator) -> Iterator[WorkOSClient]:
    with recorder.client() as transport:
        yield WorkOSClient(
            api_key=workos_emulator.api_key,
            client_id=workos_emulator.client_id,
            base_url=workos_emulator.url,
            max_retries=0,
            http_client=transport,
        )


def call_expecting_error(call: Any) -> None:
    """Run an SDK call that must fail with an API error (its exchange is still recorded)."""
    with pytest.raises(Exception) as raised:  # noqa: PT011 - the status is what we check
        call()
    assert getattr(raised.value, "status_code", None), raised.value


# --------------------------------------------------------------------------- tests


def test_organizations_and_domains(
    sdk: WorkOSClient, http: httpx.Client, recorder: Recorder, openapi: OpenAPI, spec: Any
) -> None:
    verified = OrganizationDomainData.from_dict({"domain": "acme.com", "state": "verified"})
    org = sdk.organizations.create_organization(
        name="Acme", domain_data=[verified], external_id="acme", metadata={"k": "v"}
    )
    sdk.organizations.list_organizations(limit=5, domains=["acme.com"], search="Ac")
    sdk.organizations.get_organization(org.id)
    sdk.organizations.get_organization_by_external_id("acme")
    sdk.organizations.update_organization(org.id, name="Acme Inc", stripe_customer_id="cus_1")
    call_expecting_error(
        lambda: sdk.organizations.create_organization(name="X", external_id="acme")
    )
    call_expecting_error(lambda: sdk.organizations.get_organization("org_missing"))
    with recorder.sending_invalid_requests():
        assert http.post("/organizations", json={"name": 7}).status_code == 422
        assert (
            http.post("/organizations", json={"name": "Y", "metadata": {"k": 1}}).status_code == 400
        )

    domain = sdk.organization_domains.create_organization_domain(
        domain="acme.dev", organization_id=org.id
    )
    sdk.organization_domains.get_organization_domain(domain.id)
    sdk.organization_domains.verify_organization_domain(domain.id)
    call_expecting_error(lambda: sdk.organization_domains.verify_organization_domain(domain.id))
    call_expecting_error(
        lambda: sdk.organization_domains.create_organization_domain(
            domain="acme.dev", organization_id=org.id
        )
    )
    sdk.organization_domains.delete_organization_domain(domain.id)
    call_expecting_error(lambda: sdk.organization_domains.get_organization_domain(domain.id))
    sdk.organizations.delete_organization(org.id)
    assert_all_valid(openapi, spec, recorder)


def test_users_and_authentication(
    sdk: WorkOSClient, http: httpx.Client, recorder: Recorder, openapi: OpenAPI, spec: Any
) -> None:
    user = sdk.user_management.create_user(
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        external_id="ada",
        password=PasswordPlaintext(password="correct horse"),
    )
    sdk.user_management.create_user(
        email="bob@example.com",
        password=PasswordHashed(password_hash=BCRYPT_OF_HUNTER2, password_hash_type="bcrypt"),
    )
    sdk.user_management.list_users(limit=1, email="ada@example.com")
    sdk.user_management.get_user(user.id)
    sdk.user_management.get_user_by_external_id("ada")
    sdk.user_management.update_user(user.id, last_name="King", metadata={"team": "math"})
    sdk.user_management.authenticate_with_password(
        email="ada@example.com", password="correct horse"
    )
    sdk.user_management.authenticate_with_password(email="bob@example.com", password="hunter2")
    call_expecting_error(
        lambda: sdk.user_management.authenticate_with_password(
            email="ada@example.com", password="wrong"
        )
    )
    call_expecting_error(lambda: sdk.user_management.create_user(email="ada@example.com"))
    call_expecting_error(lambda: sdk.user_management.update_user(user.id, email="bob@example.com"))
    call_expecting_error(lambda: sdk.user_management.get_user("user_missing"))
    with recorder.sending_invalid_requests():
        assert http.post("/user_management/users", json={"email": "nope"}).status_code == 422
        both = {"email": "c@example.com", "password": "x", "password_hash": BCRYPT_OF_HUNTER2}
        assert http.post("/user_management/users", json=both).status_code == 400
    sdk.user_management.delete_user(user.id)
    assert_all_valid(openapi, spec, recorder)


def test_authenticate_rate_limit_answer_matches_the_document(
    recorder: Recorder, openapi: OpenAPI, spec: Any
) -> None:
    limits = RateLimits(authenticate_per_email=Limit(2, 60))
    with start_emulator(rate_limits=limits) as emulator, recorder.client() as client:
        # The document puts this operation under its global bearer security, so send the key
        # as the SDK does; the emulator itself only checks client_secret here, because public
        # (PKCE) clients call this endpoint without an API key.
        client.headers["Authorization"] = f"Bearer {emulator.api_key}"
        body = {
            "grant_type": "password",
            "client_id": emulator.client_id,
            "client_secret": emulator.api_key,
            "email": "nobody@example.com",
            "password": "guess",
        }
        statuses = [
            client.post(f"{emulator.url}/user_management/authenticate", json=body).status_code
            for _ in range(3)
        ]
        body["client_secret"] = "sk_wrong"
        body["email"] = "other@example.com"
        client.post(f"{emulator.url}/user_management/authenticate", json=body)
    assert statuses == [400, 400, 429]
    assert recorder.exchanges[-1].response.json()["error"] == "invalid_client"
    assert_all_valid(openapi, spec, recorder)


def test_memberships(
    sdk: WorkOSClient, http: httpx.Client, recorder: Recorder, openapi: OpenAPI, spec: Any
) -> None:
    sdk.authorization.create_environment_role(slug="member", name="Member")
    sdk.authorization.create_environment_role(slug="admin", name="Admin")
    org = sdk.organizations.create_organization(name="Acme")
    user = sdk.user_management.create_user(email="ada@example.com")
    membership = sdk.organization_membership.create_organization_membership(
        user_id=user.id, organization_id=org.id, role=RoleSingle(role_slug="admin")
    )
    sdk.organization_membership.list_organization_memberships(
        organization_id=org.id, statuses=["active", "inactive"]
    )
    sdk.organization_membership.get_organization_membership(membership.id)
    sdk.organization_membership.update_organization_membership(
        membership.id, role=RoleMultiple(role_slugs=["admin", "member"])
    )
    sdk.organization_membership.deactivate_organization_membership(membership.id)
    sdk.organization_membership.reactivate_organization_membership(membership.id)
    call_expecting_error(
        lambda: sdk.organization_membership.update_organization_membership(
            membership.id, role=RoleSingle(role_slug="ghost")
        )
    )
    assert http.get("/user_management/organization_memberships").status_code == 400
    sdk.organization_membership.delete_organization_membership(membership.id)
    assert_all_valid(openapi, spec, recorder)


def test_roles_and_permissions(
    sdk: WorkOSClient, recorder: Recorder, openapi: OpenAPI, spec: Any
) -> None:
    sdk.authorization.create_permission(slug="posts:read", name="Read", description="Read posts")
    sdk.authorization.create_permission(slug="posts:write", name="Write")
    sdk.authorization.list_permissions(limit=1, order="asc")
    sdk.authorization.get_permission("posts:read")
    sdk.authorization.update_permission("posts:read", description=None)
    call_expecting_error(lambda: sdk.authorization.create_permission(slug="posts:read", name="R"))
    sdk.authorization.create_environment_role(slug="editor", name="Editor")
    sdk.authorization.list_environment_roles()
    sdk.authorization.get_environment_role("editor")
    sdk.authorization.update_environment_role("editor", name="Editors")
    sdk.authorization.add_environment_role_permission("editor", body_slug="posts:read")
    sdk.authorization.set_environment_role_permissions("editor", permissions=["posts:write"])
    call_expecting_error(
        lambda: sdk.authorization.create_environment_role(slug="editor", name="Again")
    )
    call_expecting_error(lambda: sdk.authorization.get_environment_role("ghost"))
    sdk.authorization.delete_permission("posts:write")
    assert_all_valid(openapi, spec, recorder)


def test_redirect_uris_cors_origins_and_authorize(
    sdk: WorkOSClient,
    http: httpx.Client,
    recorder: Recorder,
    openapi: OpenAPI,
    spec: Any,
    workos_emulator: RunningEmulator,
) -> None:
    redirect = sdk.user_management.create_redirect_uri(uri="https://app.example.com/callback")
    sdk.user_management.list_redirect_uris(limit=10)
    sdk.user_management.create_cors_origin(origin="https://app.example.com")
    sdk.user_management.list_cors_origins()
    call_expecting_error(
        lambda: sdk.user_management.create_cors_origin(origin="https://app.example.com")
    )
    with recorder.sending_invalid_requests():
        assert (
            http.post("/user_management/redirect_uris", json={"uri": "no scheme"}).status_code
            == 400
        )
        assert (
            http.post("/user_management/cors_origins", json={"origin": "ftp://x/y"}).status_code
            == 422
        )

    workos_emulator.set_social_connection("github", "Iv1.0123456789abcdef")
    url = sdk.user_management.get_authorization_url(
        provider="GitHubOAuth", redirect_uri=redirect.uri, state="st"
    )
    response = http.get(url)
    assert response.status_code == 302 and response.headers["location"]
    sdk.user_management.delete_redirect_uris(redirect.id)
    call_expecting_error(lambda: sdk.user_management.delete_redirect_uris(redirect.id))
    assert_all_valid(openapi, spec, recorder)


def test_error_bodies_carry_message_and_code(
    http: httpx.Client, recorder: Recorder, openapi: OpenAPI, spec: Any
) -> None:
    """Every documented error answer is JSON with a message (or an OAuth error pair)."""
    http.get("/organizations/org_missing")
    http.get("/user_management/users/external_id/nobody")
    http.get("/authorization/permissions/ghost")
    http.delete("/user_management/redirect_uris/redir_missing")
    for exchange in recorder.exchanges:
        body = json.loads(exchange.response.content)
        assert body["message"] and body["code"] == "entity_not_found", body
        assert exchange.response.headers["x-request-id"]
    assert_all_valid(openapi, spec, recorder)
