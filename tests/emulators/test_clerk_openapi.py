"""Every request the official SDK (and our raw clients) send and every answer the emulator
gives, validated against Clerk's own OpenAPI document
(``reference/openapi/clerk-bapi-2026-05-12.yml``) with openapi-core.

Exchanges are recorded by an httpx client handed to the SDK (``Clerk(client=…)``), so what
is validated is exactly what went over the wire. Successful answers are also checked for
fields the document does not declare: the emulator must not invent payload.

Known disagreements between the document, the SDK and the live API, satisfied both ways:
- ``EmailAddress.verification`` and ``PhoneNumber.verification`` are discriminated unions
  whose ``object`` property the document marks optional; the SDK needs it to pick the
  variant, so the emulator always sends it (the document allows it).
- ``starting_after`` is in the document but not in SDK 7.0.0, whose ``users.list`` cannot
  send it; the raw cursor requests here check it against the document instead.
- 401 and 429 are documented on only some operations (no 429 on any of these), although
  Clerk answers both everywhere; those answers are validated against the ``ClerkErrors``
  schema directly, and the SDK tests check the SDK maps them.
- ``nullable: true`` beside ``oneOf`` (the verification unions) or ``allOf`` (an
  organization domain's verifications) does not admit ``null`` under OpenAPI 3.0.3, though
  the document clearly means it to and the SDK types it ``Nullable``; the loaded document
  adds ``null`` as a variant (``allow_null_unions``).
- ``VerifyPassword`` documents its 422 (a wrong password) without a body; Clerk answers its
  error body there, which the test checks by hand.
- The document loads without meta-validation: it is valid, but validating 20,000 lines of
  OpenAPI costs two seconds a session and is not what these tests are about.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import bcrypt
import httpx
import jsonschema
import pytest
from clerk_backend_api import Clerk, models
from clerk_backend_api.utils import BackoffStrategy, RetryConfig
from openapi_core import Config, OpenAPI

from authform.emulators import ClerkRateLimits, Limit, RunningEmulator, start_emulator

from .clerk_digests import SAMPLE_DIGESTS
from .openapi_support import (
    as_openapi_request,
    as_openapi_response,
    load_openapi_document,
    resolve,
)

SPEC_NAME = "clerk-bapi-2026-05-12.yml"
SPEC_HOST = "https://api.clerk.com"  # the document's server is SPEC_HOST + /v1
DIGEST = bcrypt.hashpw(b"correct horse battery staple", bcrypt.gensalt(4)).decode()
NO_RETRIES = RetryConfig("none", BackoffStrategy(1, 1, 1, 1), False)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:clerk_backend_api")


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    data = load_openapi_document(SPEC_NAME)
    return allow_null_unions(data)


def allow_null_unions(node: Any) -> Any:
    """Rewrite ``{type: object, nullable: true, oneOf: [...]}`` so ``null`` validates.

    The document means these unions (an email address's ``verification``…) to be nullable,
    and the SDK types them ``Nullable[...]``; but under OpenAPI 3.0.3 ``nullable`` does not
    reach into ``oneOf``, so openapi-core refuses the ``null`` Clerk answers for an address
    that was never verified (a reserved one). Adding ``null`` as a variant keeps everything
    else as strict as the document.
    """
    if isinstance(node, dict):
        node = {key: allow_null_unions(value) for key, value in node.items()}
        if node.get("nullable") is True and "oneOf" in node:
            return {"oneOf": [{"enum": [None]}, *node["oneOf"]]}
        if node.get("nullable") is True and "allOf" in node:
            # The same for a nullable object written as allOf of one $ref (an organization
            # domain's ownership_verification, null "until ownership has been attempted").
            rest = {key: value for key, value in node.items() if key != "nullable"}
            return {"oneOf": [{"enum": [None]}, rest]}
        return node
    if isinstance(node, list):
        return [allow_null_unions(item) for item in node]
    return node


@pytest.fixture(scope="session")
def openapi(spec: dict[str, Any]) -> OpenAPI:
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


@pytest.fixture(scope="session")
def clerk_errors_validator(spec: dict[str, Any]) -> jsonschema.Draft4Validator:
    """``ClerkErrors`` as plain JSON Schema, for answers on undocumented statuses."""
    schema = {"$ref": "#/components/schemas/ClerkErrors", "components": spec["components"]}
    return jsonschema.Draft4Validator(schema)


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
    """Records every exchange of the httpx clients it hands out."""

    exchanges: list[Exchange] = field(default_factory=list)
    invalid_on_purpose: bool = False

    def client(self, **options: Any) -> httpx.Client:
        return httpx.Client(timeout=10, event_hooks={"response": [self._record]}, **options)

    def _record(self, response: httpx.Response) -> None:
        response.read()
        self.exchanges.append(Exchange(response.request, response, self.invalid_on_purpose))


def operation_for(spec: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """The document's operation for a concrete ``/v1/...`` path (most literal template wins)."""
    path = path.removeprefix("/v1")
    candidates = []
    for template, item in spec["paths"].items():
        segments = template.split("/")
        pattern = "/".join("[^/]+" if s.startswith("{") else re.escape(s) for s in segments)
        if re.fullmatch(pattern, path) and method.lower() in item:
            literal_segments = sum(not s.startswith("{") for s in segments)
            candidates.append((literal_segments, item[method.lower()]))
    assert candidates, f"no operation for {method} {path} in the document"
    return max(candidates, key=lambda candidate: candidate[0])[1]


def response_schema(spec: dict[str, Any], operation: dict[str, Any], status: int) -> Any:
    response = resolve(spec, operation["responses"][str(status)])
    return response["content"]["application/json"]["schema"]


def undeclared_fields(
    spec: dict[str, Any], instance: Any, schema: dict[str, Any], where: str = "$"
) -> list[str]:
    """Object keys of ``instance`` that ``schema`` does not declare (``properties``)."""
    schema = resolve(spec, schema)
    parts = [resolve(spec, part) for part in schema.get("allOf", [])] or [schema]
    properties: dict[str, Any] = {}
    items: dict[str, Any] | None = None
    variants: list[dict[str, Any]] = []
    for part in parts:
        properties.update(part.get("properties", {}))
        items = part.get("items", items)
        variants += [resolve(spec, variant) for variant in part.get("oneOf", [])]
    real_variants = [variant for variant in variants if variant.get("enum") != [None]]
    if isinstance(instance, dict) and len(real_variants) == 1 and not properties:
        # A nullable object (``allow_null_unions``) that is not null: check the object.
        return undeclared_fields(spec, instance, real_variants[0], where)
    if isinstance(instance, dict) and variants and not properties:
        # A discriminated union: check against the variant the ``object`` names.
        chosen = [
            variant
            for variant in variants
            if instance.get("object")
            in variant.get("properties", {}).get("object", {}).get("enum", [])
        ]
        return (
            undeclared_fields(spec, instance, chosen[0], where)
            if chosen
            else [f"{where}: no variant"]
        )
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


def assert_all_valid(
    openapi: OpenAPI,
    spec: dict[str, Any],
    recorder: Recorder,
    clerk_errors: jsonschema.Draft4Validator,
) -> None:
    problems: list[str] = []
    for exchange in recorder.exchanges:
        openapi_request = as_openapi_request(exchange.request, SPEC_HOST)
        operation = operation_for(spec, exchange.request.method, exchange.request.url.path)
        status = exchange.response.status_code
        if not exchange.request_is_invalid_on_purpose:
            try:
                openapi.validate_request(openapi_request)
            except Exception as error:  # noqa: BLE001 - report every problem at once
                problems.append(f"request {exchange.label()}: {error}")
        if str(status) not in operation["responses"]:
            # Undocumented for this operation (401, 429): still Clerk's error body.
            assert status in (401, 429), f"{exchange.label()}: undocumented status"
            errors = list(clerk_errors.iter_errors(exchange.response.json()))
            problems += [f"response {exchange.label()}: {error.message}" for error in errors]
            continue
        try:
            openapi.validate_response(openapi_request, as_openapi_response(exchange.response))
        except Exception as error:  # noqa: BLE001
            problems.append(f"response {exchange.label()}: {error}")
        if not exchange.response.content:  # a documented empty answer (204 Accepted)
            continue
        extra = undeclared_fields(
            spec, exchange.response.json(), response_schema(spec, operation, status)
        )
        if extra:
            problems.append(f"response {exchange.label()}: undeclared fields {extra}")
    assert not problems, "\n".join(problems)
    assert recorder.exchanges, "nothing was recorded"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def sdk(recorder: Recorder, clerk_emulator: RunningEmulator) -> Iterator[Clerk]:
    with recorder.client() as transport:
        yield Clerk(
            bearer_auth=clerk_emulator.api_key,
            server_url=f"{clerk_emulator.url}/v1",
            client=transport,
            retry_config=NO_RETRIES,
        )


@pytest.fixture
def http(recorder: Recorder, clerk_emulator: RunningEmulator) -> Iterator[httpx.Client]:
    """A recorded raw client, authenticated, for what the SDK cannot send."""
    with recorder.client(base_url=f"{clerk_emulator.url}/v1") as client:
        client.headers["Authorization"] = f"Bearer {clerk_emulator.api_key}"
        yield client


def expect_error(call: Any) -> None:
    """Run an SDK call that must fail with an API error (its exchange is still recorded)."""
    with pytest.raises((models.ClerkErrors, models.SDKError)):
        call()


@pytest.fixture
def check(
    openapi: OpenAPI,
    spec: dict[str, Any],
    recorder: Recorder,
    clerk_errors_validator: jsonschema.Draft4Validator,
) -> Any:
    return lambda: assert_all_valid(openapi, spec, recorder, clerk_errors_validator)


# --------------------------------------------------------------------------- tests


def test_users(sdk: Clerk, http: httpx.Client, recorder: Recorder, check: Any) -> None:
    ada = sdk.users.create(
        email_address=["ada@example.com", "ada@work.example"],
        email_address_identification_status=[
            models.EmailAddressIdentificationStatus.VERIFIED,
            models.EmailAddressIdentificationStatus.RESERVED,
        ],
        phone_number=["+15555550100"],
        first_name="Ada",
        username="ada_l",
        external_id="legacy-1",
        password_digest=DIGEST,
        password_hasher="bcrypt",
        totp_secret="JBSWY3DPEHPK3PXP",
        backup_codes=["123456"],
        public_metadata={"plan": "pro"},
        created_at="2023-11-14T22:13:20Z",
    )
    sdk.users.create(email_address=["bob@example.com"], password="long enough password")
    sdk.users.list(request={"limit": 5, "order_by": "-created_at", "email_address": ["a@b.c"]})
    sdk.users.list(request={"organization_id": ["-org_x"], "query": "ada", "banned": False})
    sdk.users.count(request={"user_id": [ada.id]})
    sdk.users.get(user_id=ada.id)
    # starting_after is documented but missing from SDK 7.0.0: send it raw.
    page = http.get("/users", params={"limit": 1, "order_by": "+created_at"}).json()
    http.get(
        "/users", params={"limit": 1, "order_by": "+created_at", "starting_after": page[0]["id"]}
    )
    assert (
        http.get("/users", params={"starting_after": ada.id, "order_by": "username"}).status_code
        == 422
    )
    expect_error(lambda: sdk.users.create(email_address=["ada@example.com"]))
    expect_error(lambda: sdk.users.get(user_id="user_missing"))
    recorder.invalid_on_purpose = True
    expect_error(lambda: sdk.users.list(request={"limit": 501}))  # the maximum is 500
    assert http.post("/users", json={"email_address": "x", "shoe_size": 9}).status_code == 422
    assert http.post("/users", json={"password_digest": "$2a$10$x"}).status_code == 422
    recorder.invalid_on_purpose = False
    sdk.users.delete(user_id=ada.id)
    expect_error(lambda: sdk.users.delete(user_id=ada.id))
    check()


def test_organizations(sdk: Clerk, http: httpx.Client, recorder: Recorder, check: Any) -> None:
    owner = sdk.users.create(email_address=["owner@example.com"])
    org = sdk.organizations.create(
        request={
            "name": "Acme",
            "slug": "acme",
            "created_by": owner.id,
            "public_metadata": {"tier": "gold"},
            "max_allowed_memberships": 3,
            "created_at": "2024-01-01T00:00:00Z",
        }
    )
    sdk.organizations.create(request={"name": "Globex"})
    sdk.organizations.list(limit=1, offset=1, order_by="name", include_members_count=True)
    sdk.organizations.list(query="acm", user_id=[owner.id], organization_id=["+" + org.id])
    sdk.organizations.get(organization_id="acme", include_members_count=True)
    sdk.organizations.update(organization_id=org.id, name="Acme Inc", slug="acme-inc")
    expect_error(lambda: sdk.organizations.create(request={"name": "Other", "slug": "acme-inc"}))
    expect_error(lambda: sdk.organizations.get(organization_id="org_missing"))
    recorder.invalid_on_purpose = True
    assert http.post("/organizations", json={}).status_code == 422
    assert http.patch(f"/organizations/{org.id}", json={"public_metadata": {}}).status_code == 422
    recorder.invalid_on_purpose = False
    sdk.organizations.delete(organization_id=org.id)
    expect_error(lambda: sdk.organizations.delete(organization_id=org.id))
    check()


def test_memberships(sdk: Clerk, http: httpx.Client, recorder: Recorder, check: Any) -> None:
    org = sdk.organizations.create(request={"name": "Acme", "max_allowed_memberships": 2})
    ada = sdk.users.create(email_address=["ada@example.com"], first_name="Ada")
    bob = sdk.users.create(phone_number=["+15555550101"], username="bobby")
    cat = sdk.users.create(email_address=["cat@example.com"])
    sdk.organization_memberships.create(
        organization_id=org.id, user_id=ada.id, role="org:admin", private_metadata={"n": 1}
    )
    sdk.organization_memberships.create(organization_id=org.id, user_id=bob.id, role="org:member")
    expect_error(
        lambda: sdk.organization_memberships.create(
            organization_id=org.id, user_id=ada.id, role="org:member"
        )
    )
    expect_error(  # the organization is full
        lambda: sdk.organization_memberships.create(
            organization_id=org.id, user_id=cat.id, role="org:member"
        )
    )
    sdk.organization_memberships.list(
        organization_id=org.id, limit=1, order_by="+first_name", email_address=["ada@example.com"]
    )
    sdk.organization_memberships.list(organization_id=org.id, role=["org:member"], query="bob")
    sdk.organization_memberships.update(organization_id=org.id, user_id=ada.id, role="org:member")
    expect_error(
        lambda: sdk.organization_memberships.update(
            organization_id=org.id, user_id=cat.id, role="org:member"
        )
    )
    sdk.users.get_instance_organization_memberships(limit=10, order_by="-created_at")
    sdk.users.get_organization_memberships(user_id=ada.id)
    sdk.organization_memberships.delete(organization_id=org.id, user_id=ada.id)
    expect_error(
        lambda: sdk.organization_memberships.delete(organization_id=org.id, user_id=ada.id)
    )
    recorder.invalid_on_purpose = True
    assert http.post(f"/organizations/{org.id}/memberships", json={}).status_code == 422
    recorder.invalid_on_purpose = False
    check()


def test_export_sample_answers_match_the_document(
    clerk_export_emulator: RunningEmulator, recorder: Recorder, check: Any
) -> None:
    """The sample's shapes (unverified-only, phone-only, TOTP, a membership whose user is
    gone, legacy roles) as the document describes them."""
    with recorder.client(base_url=f"{clerk_export_emulator.url}/v1") as client:
        client.headers["Authorization"] = f"Bearer {clerk_export_emulator.api_key}"
        users = client.get("/users", params={"limit": 500}).json()
        assert len(users) == 14
        client.get("/organizations", params={"limit": 500, "include_members_count": "true"})
        client.get("/organization_memberships", params={"limit": 500})
        client.get("/organizations/globex/memberships", params={"limit": 500})
    check()


def test_error_answers_on_undocumented_statuses_are_clerk_errors(
    clerk_emulator: RunningEmulator, recorder: Recorder, check: Any
) -> None:
    with recorder.client(base_url=f"{clerk_emulator.url}/v1") as client:
        client.headers["Authorization"] = "Bearer sk_test_wrong"
        assert client.get("/users/count").status_code == 401
        assert client.get("/organizations").status_code == 401
    limits = ClerkRateLimits(instance=Limit(1, 60))
    with (
        start_emulator("clerk", rate_limits=limits) as emulator,
        recorder.client(base_url=f"{emulator.url}/v1") as client,
    ):
        client.headers["Authorization"] = f"Bearer {emulator.api_key}"
        statuses = [client.get("/organizations").status_code for _ in range(2)]
    assert statuses == [200, 429]
    for exchange in recorder.exchanges:
        assert json.loads(exchange.response.content).get("errors") or exchange.response.is_success
    check()


def test_permissions_and_roles(
    sdk: Clerk, http: httpx.Client, recorder: Recorder, check: Any
) -> None:
    permission = sdk.organization_permissions.create(
        name="Manage billing", key="org:billing:manage", description="Plans"
    )
    reports = sdk.organization_permissions.create(name="Read reports", key="org:reports:read")
    sdk.organization_permissions.list(query="org", order_by="-created_at", limit=2, offset=1)
    sdk.organization_permissions.get(permission_id=permission.id)
    sdk.organization_permissions.update(permission_id=reports.id, description="Dashboards")
    role = sdk.organization_roles.create(
        name="Billing",
        key="org:billing",
        description="Finance",
        permissions=[permission.id],
        include_in_initial_role_set=True,
    )
    sdk.organization_roles.assign_permission(organization_role_id=role.id, permission_id=reports.id)
    expect_error(
        lambda: sdk.organization_roles.assign_permission(
            organization_role_id=role.id, permission_id=reports.id
        )
    )
    sdk.organization_roles.remove_permission(organization_role_id=role.id, permission_id=reports.id)
    sdk.organization_roles.update(organization_role_id=role.id, permissions=[reports.id])
    sdk.organization_roles.list(query="billing", order_by="name", limit=5)
    sdk.organization_roles.get(organization_role_id=role.id)
    expect_error(lambda: sdk.organization_roles.get(organization_role_id="role_missing"))
    recorder.invalid_on_purpose = True
    assert http.post("/organization_roles", json={"name": "X"}).status_code == 422
    assert http.post("/organization_permissions", json={"name": "X", "key": "x"}).status_code == 422
    recorder.invalid_on_purpose = False
    admin = next(r for r in sdk.organization_roles.list().data if r.key == "org:admin")
    expect_error(lambda: sdk.organization_roles.delete(organization_role_id=admin.id))
    sdk.organization_roles.delete(organization_role_id=role.id)
    sdk.organization_permissions.delete(permission_id=permission.id)
    check()


def test_redirect_urls_instance_and_domains(
    sdk: Clerk, http: httpx.Client, recorder: Recorder, check: Any
) -> None:
    created = sdk.redirect_urls.create(request={"url": "https://app.example.com/callback"})
    expect_error(
        lambda: sdk.redirect_urls.create(request={"url": "https://app.example.com/callback"})
    )
    sdk.redirect_urls.list(paginated=True, limit=10, offset=0)
    sdk.redirect_urls.list()
    sdk.redirect_urls.get(id=created.id)
    sdk.redirect_urls.delete(id=created.id)
    expect_error(lambda: sdk.redirect_urls.get(id=created.id))
    sdk.instance_settings.update(
        request={"allowed_origins": ["https://app.example.com", "chrome-extension://abc"]}
    )
    sdk.instance_settings.get()
    recorder.invalid_on_purpose = True
    assert http.patch("/instance", json={"allowed_originz": []}).status_code == 422
    recorder.invalid_on_purpose = False
    sdk.domains.list()
    check()


@pytest.mark.filterwarnings("ignore:.*DEPRECATED.*:DeprecationWarning")
def test_organization_domains_and_metadata(
    sdk: Clerk, http: httpx.Client, recorder: Recorder, check: Any
) -> None:
    org = sdk.organizations.create(request={"name": "Acme", "slug": "acme"})
    domain = sdk.organization_domains.create(
        organization_id=org.id, name="acme.com", enrollment_mode="manual_invitation", verified=True
    )
    pending = sdk.organization_domains.create(
        organization_id=org.id, name="acme.dev", enrollment_mode="manual_invitation", verified=False
    )
    expect_error(
        lambda: sdk.organization_domains.create(
            organization_id=org.id, name="acme.com", enrollment_mode="manual_invitation"
        )
    )
    sdk.organization_domains.list(organization_id=org.id, verified="true", limit=5)
    sdk.organization_domains.update(organization_id=org.id, domain_id=pending.id, verified=True)
    sdk.organization_domains.list_all(organization_id=org.id, order_by="name", limit=5)
    sdk.organization_domains.list_all(query="acme", domains=["acme.com"])
    sdk.organization_domains.delete(organization_id=org.id, domain_id=domain.id)
    sdk.organizations.merge_metadata(organization_id=org.id, public_metadata={"tier": "gold"})
    sdk.organizations.replace_metadata(organization_id=org.id, public_metadata={"tier": "free"})
    recorder.invalid_on_purpose = True
    assert http.put(f"/organizations/{org.id}/metadata", json={"x": {}}).status_code == 422
    recorder.invalid_on_purpose = False
    check()


def test_user_changes(sdk: Clerk, http: httpx.Client, recorder: Recorder, check: Any) -> None:
    ada = sdk.users.create(
        email_address=["ada@example.com"], password_digest=DIGEST, password_hasher="bcrypt"
    )
    sdk.users.update(user_id=ada.id, external_id="legacy-1", first_name="Ada", last_name="L")
    sdk.users.verify_password(user_id=ada.id, password="correct horse battery staple")
    # 422 (a wrong password) is documented without a body schema: the raw answer is checked
    # against ClerkErrors by hand.
    wrong = http.post(f"/users/{ada.id}/verify_password", json={"password": "wrong"})
    assert wrong.status_code == 422 and wrong.json()["errors"]
    recorder.exchanges.pop()
    sdk.email_addresses.replace_for_user(
        user_id=ada.id,
        email_address="ada@new.example",
        identification_status=models.IdentificationStatus.RESERVED,
    )
    for hasher, digest in sorted(SAMPLE_DIGESTS.items()):
        sdk.users.create(
            email_address=[f"{hasher}@example.com"], password_digest=digest, password_hasher=hasher
        )
    recorder.invalid_on_purpose = True
    assert http.patch(f"/users/{ada.id}", json={"email": "x"}).status_code == 422
    recorder.invalid_on_purpose = False
    check()
