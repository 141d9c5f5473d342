"""Every route an emulator serves is an operation of its provider's OpenAPI document, or an
``/_emulate/`` route (seeding, faults, dashboard clicks), or on a short allow-list of real
provider endpoints the vendored document omits, each entry naming its evidence.

The routes are enumerated from each emulator app as the tests and the CLI build it
(``authform.emulators.server.create_app``), walking its Starlette routes with their methods,
so a route added anywhere (a backend, the shared admin routes) is seen here. Paths are
compared as templates: parameter names are not part of a route's identity (``{id}`` and
``{user_id}`` are the same segment), and each operation's base path comes from the servers
that apply to it (the operation's, its path item's, else the document's: Clerk's ``/v1``).

Nothing is answered outside the walk: the readiness probe ``start_emulator`` waits on is
``GET /_emulate/health``, an admin route like the others (no provider's API has one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import pytest
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.testclient import TestClient

from authform.emulators.server import create_app

from .openapi_support import load_openapi_document

DOCUMENTS = {
    "workos": "workos.yaml",
    "clerk": "clerk-bapi-2026-05-12.yml",
    "scalekit": "scalekit-saaskit.yaml",
}
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ADMIN_PREFIX = "/_emulate/"


@dataclass(frozen=True)
class Evidence:
    """Why a route the vendored document omits is still the provider's own."""

    source: str  # repository and file, as the ``search`` tool found it
    why: str


# (provider, METHOD, path template) -> evidence. Only real provider endpoints belong here:
# a route that tests or demos need lives under /_emulate/ instead.
ALLOWED_OUTSIDE_THE_DOCUMENT: Mapping[tuple[str, str, str], Evidence] = {
    ("scalekit", "GET", "/oauth/authorize"): Evidence(
        "github scalekit-inc/scalekit-sdk-python scalekit/client.py "
        '(AUTHORIZE_ENDPOINT = "oauth/authorize", used by get_authorization_url)',
        "the environment's OAuth authorize URL, where `verify` probes a social connection; "
        "the document lists API operations, not the browser's sign-in endpoints",
    ),
    ("clerk", "GET", "/fapi/v1/environment"): Evidence(
        "github clerk/javascript packages/clerk-js/src/core/resources/Environment.ts "
        "(pathRoot = '/environment', fetched from the Frontend API under /v1)",
        "Clerk's Frontend API (a separate document from the Backend API vendored here) "
        "answers which social connections the dashboard enabled; the emulator serves it "
        "under /fapi, the frontend_api_url its GET /v1/domains names",
    ),
}


def template_key(path: str) -> str:
    """A path template with its parameter names (and Starlette convertors) erased."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def base_paths(servers: Iterable[Mapping[str, Any]] | None) -> set[str]:
    """The path part of each server URL (``https://api.clerk.com/v1`` -> ``/v1``)."""
    paths = {urlparse(server.get("url", "")).path.rstrip("/") for server in servers or ()}
    return paths or {""}


def documented_operations(document: Mapping[str, Any]) -> set[tuple[str, str]]:
    """Every ``(METHOD, full path template)`` the document defines, under each base path
    that applies to it; an OAuth2 flow's token and authorization URLs count as operations
    (Scalekit's document names its token endpoint only as its security scheme's tokenUrl)."""
    operations: set[tuple[str, str]] = set()
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            servers = operation.get("servers") or item.get("servers") or document.get("servers")
            for base in base_paths(servers):
                operations.add((method.upper(), template_key(base + path)))
    for scheme in document.get("components", {}).get("securitySchemes", {}).values():
        for flow in scheme.get("flows", {}).values():
            for key, method in (("tokenUrl", "POST"), ("authorizationUrl", "GET")):
                if flow.get(key):
                    operations.add((method, template_key(urlparse(flow[key]).path)))
    return operations


def served_routes(routes: Iterable[BaseRoute]) -> list[tuple[str, str]]:
    """``(METHOD, path)`` for every method of every route; HEAD only where it is not the
    implicit companion of GET. A route of another kind (a mount, a catch-all) is refused:
    the contract cannot vouch for what it cannot enumerate."""
    served = []
    for route in routes:
        if not isinstance(route, Route) or route.methods is None:
            raise AssertionError(f"cannot enumerate {route!r}: not a route with methods")
        methods = set(route.methods)
        if "GET" in methods:
            methods.discard("HEAD")
        served.extend((method, route.path) for method in sorted(methods))
    return served


def routes_outside_the_contract(
    provider: str, routes: Iterable[BaseRoute], document: Mapping[str, Any]
) -> list[str]:
    """Every served route that is neither documented, nor ``/_emulate/``, nor allowed."""
    documented = documented_operations(document)
    allowed = {
        (method, template_key(path))
        for (owner, method, path) in ALLOWED_OUTSIDE_THE_DOCUMENT
        if owner == provider
    }
    return [
        f"{method} {path}"
        for method, path in served_routes(routes)
        if not path.startswith(ADMIN_PREFIX)
        and (method, template_key(path)) not in documented | allowed
    ]


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    return {provider: load_openapi_document(name) for provider, name in DOCUMENTS.items()}


@pytest.fixture(scope="module", params=sorted(DOCUMENTS))
def emulator_routes(request: pytest.FixtureRequest) -> tuple[str, list[BaseRoute]]:
    provider = request.param
    app = create_app(provider)
    try:
        return provider, list(app.routes)
    finally:
        app.close()


def test_every_emulator_route_is_documented_or_under_emulate(
    emulator_routes: tuple[str, list[BaseRoute]], documents: dict[str, dict[str, Any]]
) -> None:
    provider, routes = emulator_routes
    outside = routes_outside_the_contract(provider, routes, documents[provider])
    assert outside == [], f"{provider} serves routes its OpenAPI document does not define"
    # The walk really saw the provider's API, not only the shared admin routes.
    api_routes = [path for _, path in served_routes(routes) if not path.startswith(ADMIN_PREFIX)]
    assert len(api_routes) > 20


def test_the_health_route_is_walked_and_nothing_answers_beside_the_routes(
    emulator_routes: tuple[str, list[BaseRoute]],
) -> None:
    """The readiness probe is one of the walked routes; the old ``/health``, once answered
    before routing (and so never walked), is a 404 like any path no route serves."""
    provider, routes = emulator_routes
    assert ("GET", "/_emulate/health") in served_routes(routes)
    with TestClient(create_app(provider)) as client:
        assert client.get("/_emulate/health").json() == {"status": "ok"}
        old = client.get("/health", headers={"Authorization": "Bearer sk_test_emulator"})
    # Scalekit's API takes access tokens, not the key: refused before routing.
    assert old.status_code == (401 if provider == "scalekit" else 404)


def test_every_allowed_route_is_still_served_and_still_undocumented(
    documents: dict[str, dict[str, Any]],
) -> None:
    """An allow-list entry that the emulator dropped, or that the document now defines, is
    stale: remove it, so the list only ever holds what needs its evidence."""
    served = {}
    for provider in DOCUMENTS:
        app = create_app(provider)
        served[provider] = {(m, template_key(p)) for m, p in served_routes(app.routes)}
        app.close()
    for (provider, method, path), evidence in ALLOWED_OUTSIDE_THE_DOCUMENT.items():
        key = (method, template_key(path))
        assert evidence.source and evidence.why
        assert key in served[provider], f"{provider} no longer serves {method} {path}"
        assert key not in documented_operations(documents[provider]), f"{method} {path}"


def test_the_scalekit_sdk_names_the_authorize_endpoint_the_allow_list_cites() -> None:
    client = pytest.importorskip("scalekit.client")
    assert client.AUTHORIZE_ENDPOINT == "oauth/authorize"


# --------------------------------------------------------------------------- the check itself


async def _invented(request: Any) -> Response:
    return Response()


@pytest.mark.parametrize(
    ("provider", "route", "reason"),
    [
        ("clerk", Route("/v1/users/{user_id}/invented", _invented, methods=["GET"]), "new path"),
        ("clerk", Route("/v1/users/count", _invented, methods=["DELETE"]), "new method"),
        ("clerk", Route("/users", _invented, methods=["GET"]), "missing the /v1 base path"),
        ("workos", Route("/v1/organizations", _invented, methods=["GET"]), "a base path"),
        ("workos", Route("/organizations/{id}/invented", _invented, methods=["POST"]), "new"),
        ("scalekit", Route("/api/v1/invented", _invented, methods=["GET"]), "new path"),
        ("scalekit", Route("/emulate/reset", _invented, methods=["POST"]), "not /_emulate/"),
    ],
)
def test_the_check_fails_on_an_invented_route(
    provider: str, route: Route, reason: str, documents: dict[str, dict[str, Any]]
) -> None:
    app = create_app(provider)
    try:
        routes = [*app.routes, route]
    finally:
        app.close()
    outside = routes_outside_the_contract(provider, routes, documents[provider])
    assert outside == [f"{method} {path}" for method, path in served_routes([route])], reason


@pytest.mark.parametrize(
    ("provider", "path", "method"),
    [
        ("clerk", "/v1/users/{id}", "GET"),  # the document says {user_id}
        ("clerk", "/v1/organizations/{org}/memberships/{member}", "PATCH"),
        ("workos", "/organizations/{organization_id}", "GET"),
        ("scalekit", "/oauth/token", "POST"),  # the security scheme's tokenUrl
        ("scalekit", "/_emulate/anything/{x}", "PUT"),
    ],
)
def test_the_check_accepts_documented_templates_whatever_their_parameter_names(
    provider: str, path: str, method: str, documents: dict[str, dict[str, Any]]
) -> None:
    routes = [Route(path, _invented, methods=[method])]
    assert routes_outside_the_contract(provider, routes, documents[provider]) == []


def test_the_check_cannot_be_bypassed_by_a_route_it_cannot_enumerate(
    documents: dict[str, dict[str, Any]],
) -> None:
    catch_all = Route("/v1/{anything:path}", _invented)  # methods=None: every method
    catch_all.methods = None
    with pytest.raises(AssertionError, match="cannot enumerate"):
        routes_outside_the_contract("clerk", [catch_all], documents["clerk"])


# --------------------------------------------------------------------------- Scalekit's SDK


def test_every_scalekit_api_route_is_a_rest_mapping_of_the_sdk() -> None:
    """Moved from test_scalekit_openapi.py, unchanged in what it asserts: Scalekit's SDK
    protos map every emulated ``/api/`` route (the document's paths come from the same
    protos; this also pins the REST mapping the SDK itself would use)."""
    pytest.importorskip("scalekit")
    from .scalekit_sdk import load_sdk_bindings

    app = create_app("scalekit")
    try:
        backend_routes = app.backend.routes()
    finally:
        app.close()
    routes = [
        (method, route.path)
        for route in backend_routes
        for method in getattr(route, "methods", None) or ()
        if method != "HEAD" and route.path.startswith("/api/")
    ]
    assert len(routes) > 30
    bindings = load_sdk_bindings()
    templates = {(b.method, re.sub(r"\{[^}]+\}", "{}", b.template)) for b in bindings}
    missing = [
        (method, path)
        for method, path in routes
        if (method, re.sub(r"\{[^}]+\}", "{}", path)) not in templates
    ]
    assert not missing, missing
