"""The Clerk provider against the emulator over real HTTP: headers and limits per key, error
bodies, 429s, offset and cursor pages, roles resolving permission ids, organizations keyed by
slug with domains and metadata, allowed origins, users with digests, memberships, creates
that converge after a lost answer, adoption, the social-connection probe and caveats."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

import httpx
import pytest

from authform.emulators import RunningEmulator
from authform.emulators.server import loopback_client
from authform.engine.plan import Action, Policy, plan_changes
from authform.providers.base import ProviderError
from authform.providers.clerk import CAPABILITIES, PAGE_SIZE, ClerkProvider
from authform.providers.http import RateLimit
from authform.providers.registry import Connection, build_provider
from authform.resources import Kind, Resource, membership_key, normalize_spec
from authform.sources.records import BcryptHash, SensitiveText

T = TypeVar("T")
FAST = {"instance": RateLimit(1000, 1.0)}


def run(step: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(step())  # type: ignore[arg-type]


def make(emulator: RunningEmulator, **kwargs: Any) -> ClerkProvider:
    options: dict[str, Any] = {"rate_limits": FAST, **kwargs}
    return ClerkProvider(
        secret_key=options.pop("secret_key", emulator.api_key), base_url=emulator.url, **options
    )


def using(provider: ClerkProvider, work: Callable[[], Awaitable[T]]) -> T:
    async def step() -> T:
        try:
            return await work()
        finally:
            await provider.aclose()

    return run(step)


@pytest.fixture
def api(clerk_emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with loopback_client() as client:
        client.base_url = httpx.URL(f"{clerk_emulator.url}/v1")
        client.headers["Authorization"] = f"Bearer {clerk_emulator.api_key}"
        yield client


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def resource(kind: Kind, key: str, spec: dict[str, Any], **extra: Any) -> Resource:
    return Resource(kind, key, normalize_spec(spec), **extra)


def permission(key: str, name: str = "P", description: str = "") -> Resource:
    return resource(Kind.PERMISSION, key, {"slug": key, "name": name, "description": description})


def role(key: str, permissions: Sequence[str], name: str = "R") -> Resource:
    spec = {"slug": key, "name": name, "description": "", "permissions": sorted(permissions)}
    return resource(Kind.ROLE, key, spec)


def organization(key: str, name: str, domains: Any = (), **metadata: Any) -> Resource:
    spec = {"name": name, "domains": list(domains), "metadata": metadata}
    return resource(Kind.ORGANIZATION, key, spec)


def user(key: str, email: str, verified: bool = True, **create_only: Any) -> Resource:
    spec = {"email": email, "first_name": "Ada", "last_name": "", "email_verified": verified}
    return Resource(Kind.USER, key, spec, create_only=create_only)


def converge(provider: ClerkProvider, desired: list[Resource], kinds: set[Kind]) -> list[Any]:
    """Plan against the live state and carry the plan out; return the changes."""

    async def work() -> list[Any]:
        live = await provider.read(kinds, desired)
        plan = plan_changes(
            desired,
            live,
            managed=kinds,
            capabilities=CAPABILITIES,
            policy=Policy(allow_delete=True),
            manual_instructions=provider.manual_instructions,
        )
        for change in plan.changes:
            if change.action is Action.CREATE:
                assert change.desired is not None
                await provider.create(change.desired)
            elif change.action is Action.UPDATE:
                assert change.desired is not None and change.live is not None
                await provider.update(change.live, change.desired)
            elif change.action is Action.REPLACE:
                assert change.desired is not None and change.live is not None
                await provider.delete(change.live)
                await provider.create(change.desired)
            elif change.action is Action.DELETE:
                assert change.live is not None
                await provider.delete(change.live)
        return plan.changes

    return run(work)


def plan_of(emulator: RunningEmulator, desired: list[Resource], kinds: set[Kind]) -> list[Any]:
    provider = make(emulator)

    async def work() -> list[Any]:
        try:
            live = await provider.read(kinds, desired)
        finally:
            await provider.aclose()
        return plan_changes(
            desired,
            live,
            managed=kinds,
            capabilities=CAPABILITIES,
            policy=Policy(allow_delete=True),
            manual_instructions=provider.manual_instructions,
        ).changes

    return run(work)


# --------------------------------------------------------------------------- the connection


class Recording(httpx.AsyncBaseTransport):
    """Forwards to the real network transport and keeps every request it sent."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_every_request_carries_the_secret_key_and_the_api_version_and_the_frontend_api_neither(
    clerk_emulator: RunningEmulator,
) -> None:
    transport = Recording()
    provider = make(clerk_emulator, transport=transport)
    desired = [resource(Kind.SOCIAL_CONNECTION, "google", {"provider": "google", "client_id": "c"})]
    using(provider, lambda: provider.read({Kind.PERMISSION, Kind.SOCIAL_CONNECTION}, desired))
    backend = [r for r in transport.requests if "/fapi/" not in r.url.path]
    frontend = [r for r in transport.requests if "/fapi/" in r.url.path]
    assert backend and all(r.url.path.startswith("/v1/") for r in backend)
    for request in backend:
        assert request.headers["authorization"] == f"Bearer {clerk_emulator.api_key}"
        assert request.headers["clerk-api-version"] == "2026-05-12"
    assert [r.url.path for r in frontend] == ["/fapi/v1/environment"]
    assert "authorization" not in frontend[0].headers  # the secret key stays with the BAPI


def test_the_documented_limit_follows_the_kind_of_key_and_can_be_lowered() -> None:
    development = ClerkProvider(secret_key="sk_test_x", base_url="https://api.clerk.com")
    production = ClerkProvider(secret_key="sk_live_x", base_url="https://api.clerk.com")
    lowered = ClerkProvider(
        secret_key="sk_live_x",
        base_url="https://api.clerk.com",
        rate_limits={"instance": RateLimit(50, 10.0)},
    )
    assert development._limiter.limit == RateLimit(100, 10.0)
    assert production._limiter.limit == RateLimit(1000, 10.0)
    assert lowered._limiter.limit == RateLimit(50, 10.0)
    for provider in (development, production, lowered):
        run(provider.aclose)
    with pytest.raises(ProviderError, match="unknown Clerk bucket"):
        ClerkProvider(secret_key="sk_test_x", rate_limits={"general": RateLimit(1, 1.0)})
    with pytest.raises(ProviderError, match="publishable key"):
        ClerkProvider(secret_key="pk_test_abc")
    with pytest.raises(ProviderError, match="https"):
        ClerkProvider(secret_key="sk_test_x", base_url="http://api.example.com")


def test_the_registry_builds_clerk_and_needs_the_secret_key() -> None:
    provider = build_provider(Connection("clerk", "sk_test_x", None, None))
    assert isinstance(provider.inner, ClerkProvider)  # behind the guard of providers.guarded
    assert provider.http.base_url == "https://api.clerk.com/v1"
    run(provider.aclose)
    with pytest.raises(ProviderError, match="secret key"):
        build_provider(Connection("clerk", None, None, None))


def test_clerk_errors_surface_code_long_message_and_trace_id_and_never_the_key(
    clerk_emulator: RunningEmulator,
) -> None:
    provider = make(clerk_emulator)
    with pytest.raises(ProviderError) as raised:
        using(provider, lambda: provider.create(permission("billing")))
    message = str(raised.value)
    assert raised.value.status == 422 and raised.value.code == "form_param_format_invalid"
    assert 'key must have the format "org:feature:action"' in message
    assert "clerk trace id" in message and clerk_emulator.api_key not in message
    wrong = make(clerk_emulator, secret_key="sk_test_wrong_key")
    with pytest.raises(ProviderError) as denied:
        using(wrong, lambda: wrong.read({Kind.PERMISSION}, []))
    assert denied.value.code == "clerk_key_invalid" and "sk_test_wrong_key" not in str(denied.value)
    assert "check the secret key" in str(denied.value)


def test_429_is_honoured_with_its_retry_after(clerk_emulator: RunningEmulator) -> None:
    clerk_emulator.set_rate_limits(instance={"requests": 4, "per_seconds": 1})
    provider = make(clerk_emulator)

    async def reads() -> None:
        for _ in range(3):
            await provider.read({Kind.PERMISSION, Kind.REDIRECT_URI}, [])

    using(provider, reads)
    assert provider.http.stats.throttled >= 1
    assert any(e["status"] == 429 for e in clerk_emulator.requests_log())


def test_offset_pages_and_the_users_cursor(
    clerk_emulator: RunningEmulator, api: httpx.Client
) -> None:
    for index in range(7):
        ok(api.post("/organizations", json={"name": f"Org {index}", "slug": f"org-{index}"}))
        ok(api.post("/users", json={"email_address": [f"u{index}@example.com"]}))
    provider = make(clerk_emulator, page_size=3)
    live = using(provider, lambda: provider.read({Kind.ORGANIZATION, Kind.USER}, []))
    assert len([r for r in live if r.kind is Kind.ORGANIZATION]) == 7
    assert len([r for r in live if r.kind is Kind.USER]) == 7
    log = clerk_emulator.requests_log()
    orgs = [e["query"] for e in log if (e["method"], e["path"]) == ("GET", "/v1/organizations")]
    assert [(q["offset"], q["limit"], q["order_by"]) for q in orgs] == [
        ("0", "3", "+created_at"),
        ("3", "3", "+created_at"),
        ("6", "3", "+created_at"),
    ]
    users = [e["query"] for e in log if (e["method"], e["path"]) == ("GET", "/v1/users")]
    assert len(users) == 3 and "starting_after" not in users[0]
    assert users[1]["starting_after"] and "offset" not in users[1]
    assert PAGE_SIZE == 500
    with pytest.raises(ValueError):
        make(clerk_emulator, page_size=501)


# --------------------------------------------------------------------------- authorization


def test_roles_resolve_permission_ids_and_leave_system_permissions_alone(
    clerk_emulator: RunningEmulator, api: httpx.Client
) -> None:
    desired = [
        permission("org:billing:manage", "Manage billing"),
        permission("org:reports:read", "Read reports", "Dashboards"),
        role("org:admin", ["org:billing:manage", "org:reports:read"], name="Admin"),
        role("org:member", [], name="Member"),
        role("org:billing", ["org:billing:manage"], name="Billing"),
    ]
    kinds = {Kind.PERMISSION, Kind.ROLE}
    changes = converge(make(clerk_emulator), desired, kinds)
    assert {(c.action, c.key) for c in changes} == {
        (Action.CREATE, "org:billing:manage"),
        (Action.CREATE, "org:reports:read"),
        (Action.UPDATE, "org:admin"),
        (Action.CREATE, "org:billing"),
    }
    assert plan_of(clerk_emulator, desired, kinds) == []
    roles = {r["key"]: r for r in ok(api.get("/organization_roles"))["data"]}
    admin_keys = {p["key"] for p in roles["org:admin"]["permissions"]}
    assert {"org:billing:manage", "org:reports:read", "org:sys_memberships:manage"} <= admin_keys
    # Only the team's permissions were written, one assignment at a time.
    writes = [e["path"] for e in clerk_emulator.writes() if "/permissions/" in e["path"]]
    assert len(writes) == 2

    desired[2] = role("org:admin", ["org:reports:read"], name="Administrator")
    changes = converge(make(clerk_emulator), desired, kinds)
    assert [(c.action, c.key) for c in changes] == [(Action.UPDATE, "org:admin")]
    admin = next(r for r in ok(api.get("/organization_roles"))["data"] if r["key"] == "org:admin")
    keys = {p["key"] for p in admin["permissions"]}
    assert "org:billing:manage" not in keys and "org:sys_profile:manage" in keys
    assert admin["name"] == "Administrator"


def test_a_role_naming_a_permission_the_instance_lacks_fails_clearly(
    clerk_emulator: RunningEmulator,
) -> None:
    provider = make(clerk_emulator)

    async def work() -> None:
        await provider.read({Kind.ROLE}, [])
        await provider.create(role("org:x", ["org:ghost:read"]))

    with pytest.raises(ProviderError, match="permission org:ghost:read does not exist"):
        using(provider, work)


def test_creates_converge_on_what_an_earlier_lost_answer_created(
    clerk_emulator: RunningEmulator, api: httpx.Client
) -> None:
    """Each create finds the item its natural key names instead of failing or duplicating."""
    ok(api.post("/organization_permissions", json={"name": "Old", "key": "org:b:manage"}))
    ok(api.post("/organization_roles", json={"name": "Old", "key": "org:billing"}))
    ok(api.post("/organizations", json={"name": "Acme (old)", "slug": "acme"}))
    ok(api.post("/redirect_urls", json={"url": "https://app.example.com/cb"}))
    ada = ok(api.post("/users", json={"email_address": ["ada@example.com"], "external_id": "u1"}))
    provider = make(clerk_emulator)

    async def work() -> list[Resource]:
        await provider.read({Kind.PERMISSION, Kind.ROLE, Kind.ORGANIZATION, Kind.USER}, [])
        created = [
            await provider.create(permission("org:b:manage", "Billing")),
            await provider.create(role("org:billing", ["org:b:manage"], name="Billing")),
            await provider.create(organization("acme", "Acme Inc", tier="gold")),
            await provider.create(
                resource(
                    Kind.REDIRECT_URI,
                    "https://app.example.com/cb",
                    {"uri": "https://app.example.com/cb"},
                )
            ),
            await provider.create(user("u1", "ada@example.com")),
        ]
        created.append(
            await provider.create(
                resource(
                    Kind.MEMBERSHIP,
                    membership_key("u1", "acme"),
                    {"user": "u1", "organization": "acme", "role": "org:member"},
                )
            )
        )
        created.append(
            await provider.create(
                resource(
                    Kind.MEMBERSHIP,
                    membership_key("u1", "acme"),
                    {"user": "u1", "organization": "acme", "role": "org:billing"},
                )
            )
        )
        return created

    created = using(provider, work)
    assert all(item.provider_id for item in created)
    assert created[4].provider_id == ada["id"]
    assert [
        p["name"]
        for p in ok(api.get("/organization_permissions", params={"query": "org:b"}))["data"]
    ] == ["Billing"]
    org = ok(api.get("/organizations/acme"))
    assert (org["name"], org["public_metadata"]) == ("Acme Inc", {"tier": "gold"})
    assert ok(api.get("/organizations"))["total_count"] == 1
    assert len(ok(api.get("/redirect_urls"))) == 1
    members = ok(api.get("/organizations/acme/memberships"))["data"]
    assert [m["role"] for m in members] == ["org:billing"]  # converged on the second role


# --------------------------------------------------------------------------- organizations


def test_organizations_keyed_by_slug_with_domains_and_public_metadata(
    clerk_emulator: RunningEmulator, api: httpx.Client
) -> None:
    desired = [
        organization(
            "acme",
            "Acme Inc",
            [
                {"domain": "acme.com", "state": "verified"},
                {"domain": "acme.dev", "state": "pending"},
            ],
            tier="enterprise",
        ),
        organization("globex", "Globex"),
    ]
    kinds = {Kind.ORGANIZATION}
    converge(make(clerk_emulator), desired, kinds)
    assert plan_of(clerk_emulator, desired, kinds) == []
    acme = ok(api.get("/organizations/acme"))
    ok(api.patch(f"/organizations/{acme['id']}/metadata", json={"private_metadata": {"crm": 7}}))
    domains = {d["name"]: d for d in ok(api.get(f"/organizations/{acme['id']}/domains"))["data"]}
    assert domains["acme.com"]["affiliation_verification"]["status"] == "verified"
    assert domains["acme.dev"]["affiliation_verification"] is None
    assert {d["enrollment_mode"] for d in domains.values()} == {"manual_invitation"}

    desired[0] = organization(
        "acme", "Acme Corp", [{"domain": "acme.dev", "state": "verified"}], region="eu"
    )
    changes = plan_of(clerk_emulator, desired, kinds)
    assert [(c.action, c.key) for c in changes] == [(Action.UPDATE, "acme")]
    assert {f.field for f in changes[0].fields} == {"domains", "metadata", "name"}
    converge(make(clerk_emulator), desired, kinds)
    assert plan_of(clerk_emulator, desired, kinds) == []
    acme = ok(api.get("/organizations/acme"))
    assert (acme["name"], acme["public_metadata"]) == ("Acme Corp", {"region": "eu"})
    assert acme["private_metadata"] == {"crm": 7}  # the application's own, never touched
    domains = ok(api.get(f"/organizations/{acme['id']}/domains"))["data"]
    assert [(d["name"], d["affiliation_verification"]["status"]) for d in domains] == [
        ("acme.dev", "verified")
    ]


def test_max_allowed_memberships_is_read_back_only_where_the_spec_names_it(
    clerk_emulator: RunningEmulator, api: httpx.Client
) -> None:
    ok(
        api.post(
            "/organizations", json={"name": "Acme", "slug": "acme", "max_allowed_memberships": 5}
        )
    )
    plain = organization("acme", "Acme")
    assert plan_of(clerk_emulator, [plain], {Kind.ORGANIZATION}) == []
    limited = resource(
        Kind.ORGANIZATION,
        "acme",
        {"name": "Acme", "domains": [], "metadata": {}, "max_allowed_memberships": 10},
    )
    changes = converge(make(clerk_emulator), [limited], {Kind.ORGANIZATION})
    assert [f.path for f in changes[0].fields] == ["max_allowed_memberships"]
    assert ok(api.get("/organizations/acme"))["max_allowed_memberships"] == 10


# --------------------------------------------------------------------------- application settings


def test_redirect_urls_and_allowed_origins(
    clerk_emulator: RunningEmulator, api: httpx.Client
) -> None:
    api.patch(
        "/instance",
        json={"allowed_origins": ["HTTPS://Old.Example.com:443", "capacitor://localhost"]},
    )
    origins = ["https://app.example.com", "http://localhost:3000", "https://admin.example.com"]
    desired = [
        *(resource(Kind.CORS_ORIGIN, o, {"origin": o}) for o in origins),
        resource(Kind.CORS_ORIGIN, "capacitor://localhost", {"origin": "capacitor://localhost"}),
        resource(
            Kind.REDIRECT_URI, "https://app.example.com/cb", {"uri": "https://app.example.com/cb"}
        ),
    ]
    kinds = {Kind.CORS_ORIGIN, Kind.REDIRECT_URI}
    live = plan_of(clerk_emulator, desired, kinds)
    assert {(c.action, c.key) for c in live} == {
        *((Action.CREATE, o) for o in origins),
        (Action.CREATE, "https://app.example.com/cb"),
        (Action.DELETE, "https://old.example.com"),  # read back as the manifest writes it
    }

    async def concurrently() -> None:
        """Apply runs the creates of one kind together: none may overwrite another."""
        provider = make(clerk_emulator)
        try:
            await provider.read(kinds, desired)
            await asyncio.gather(*(provider.create(r) for r in desired[:3]))
        finally:
            await provider.aclose()

    run(concurrently)
    assert set(ok(api.get("/instance"))["allowed_origins"]) == {
        "HTTPS://Old.Example.com:443",
        "capacitor://localhost",
        *origins,
    }
    converge(make(clerk_emulator), desired, kinds)
    assert plan_of(clerk_emulator, desired, kinds) == []
    assert ok(api.get("/instance"))["allowed_origins"] == ["capacitor://localhost", *origins]
    assert [u["url"] for u in ok(api.get("/redirect_urls"))] == ["https://app.example.com/cb"]
    assert CAPABILITIES.supports(Kind.REDIRECT_URI).update is False  # a change is a replace


# --------------------------------------------------------------------------- users, memberships


def test_users_with_digests_reserved_addresses_and_email_changes(
    clerk_emulator: RunningEmulator, api: httpx.Client
) -> None:
    digest = "pbkdf2_sha256$1000$c2FsdA==$" + "A" * 43 + "="
    desired = [
        user(
            "u1",
            "ada@example.com",
            password_hash=BcryptHash("$2b$04$" + "a" * 53),
            password_hash_type="bcrypt",
        ),
        user(
            "u2",
            "una@example.com",
            verified=False,
            password_hash=SensitiveText(digest),
            password_hash_type="pbkdf2_sha256",
        ),
        user("u3", "olivia@example.com"),
    ]
    converge(make(clerk_emulator), desired, {Kind.USER})
    assert plan_of(clerk_emulator, desired, {Kind.USER}) == []
    users = {u["external_id"]: u for u in ok(api.get("/users", params={"limit": 10}))}
    assert users["u1"]["password_enabled"] and users["u2"]["password_enabled"]
    assert not users["u3"]["password_enabled"]
    una = users["u2"]["email_addresses"][0]
    assert una["reserved"] is True and una["verification"] is None
    created = [e["body"] for e in clerk_emulator.writes() if e["path"] == "/v1/users"]
    assert all(body.get("password_digest") in (None, "(redacted)") for body in created)
    assert next(b for b in created if b["external_id"] == "u3")["skip_password_requirement"] is True

    desired[1] = user("u2", "una@new.example", verified=True)
    changes = converge(make(clerk_emulator), desired, {Kind.USER})
    assert [(c.action, c.key) for c in changes] == [(Action.UPDATE, "u2")]
    assert plan_of(clerk_emulator, desired, {Kind.USER}) == []
    una = ok(api.get(f"/users/{users['u2']['id']}"))
    assert [e["email_address"] for e in una["email_addresses"]] == ["una@new.example"]
    assert una["password_enabled"]  # the digest was not touched


def test_an_unkeyed_user_is_adopted_with_its_memberships_and_gets_the_digest(
    clerk_emulator: RunningEmulator, api: httpx.Client
) -> None:
    org = ok(api.post("/organizations", json={"name": "Acme", "slug": "acme"}))
    # Made by hand, without an external id, the address in another case.
    hand_made = ok(api.post("/users", json={"email_address": ["Ada@Example.com"]}))
    ok(
        api.post(
            f"/organizations/{org['id']}/memberships",
            json={"user_id": hand_made["id"], "role": "org:member"},
        )
    )
    bcrypt_digest = "$2b$04$" + "b" * 53
    desired = [
        organization("acme", "Acme"),
        user(
            "user_src_1",
            "ada@example.com",
            password_hash=BcryptHash(bcrypt_digest),
            password_hash_type="bcrypt",
        ),
        resource(
            Kind.MEMBERSHIP,
            membership_key("user_src_1", "acme"),
            {"user": "user_src_1", "organization": "acme", "role": "org:admin"},
        ),
    ]
    kinds = {Kind.ORGANIZATION, Kind.USER, Kind.MEMBERSHIP}
    changes = converge(make(clerk_emulator), desired, kinds)
    assert {(c.action, c.key) for c in changes} == {
        (Action.UPDATE, "user_src_1"),
        (Action.UPDATE, membership_key("user_src_1", "acme")),
    }
    assert plan_of(clerk_emulator, desired, kinds) == []
    adopted = ok(api.get(f"/users/{hand_made['id']}"))
    assert adopted["external_id"] == "user_src_1" and adopted["password_enabled"]
    members = ok(api.get("/organizations/acme/memberships"))["data"]
    assert [(m["public_user_data"]["user_id"], m["role"]) for m in members] == [
        (hand_made["id"], "org:admin")
    ]
    provider = make(clerk_emulator)
    using(provider, lambda: provider.read(kinds, desired))
    assert provider.id_mapping() == {
        "users": {"user_src_1": hand_made["id"]},
        "organizations": {"acme": org["id"]},
    }


def test_a_membership_whose_user_was_never_created_fails_clearly(
    clerk_emulator: RunningEmulator,
) -> None:
    provider = make(clerk_emulator)
    missing = resource(
        Kind.MEMBERSHIP, "u@acme", {"user": "u", "organization": "acme", "role": "org:member"}
    )
    with pytest.raises(ProviderError, match="its user does not exist in Clerk"):
        using(provider, lambda: provider.create(missing))


def test_canary_logins_check_the_password_through_verify_password(
    clerk_emulator: RunningEmulator,
) -> None:
    import bcrypt

    digest = bcrypt.hashpw(b"s3cret-canary", bcrypt.gensalt(4)).decode()
    provider = make(clerk_emulator)

    async def work() -> list[Any]:
        await provider.create(
            user(
                "u1",
                "canary@example.com",
                password_hash=BcryptHash(digest),
                password_hash_type="bcrypt",
            )
        )
        return [
            await provider.authenticate("canary@example.com", "s3cret-canary"),
            await provider.authenticate("canary@example.com", "wrong"),
            await provider.authenticate("nobody@example.com", "x"),
        ]

    good, wrong, nobody = using(provider, work)
    assert good.ok and "password verified" in good.detail
    assert (
        not wrong.ok and "s3cret" not in wrong.detail and "wrong" not in wrong.detail.split(":")[0]
    )
    assert not nobody.ok and "no Clerk user" in nobody.detail


# --------------------------------------------------------------------------- social, caveats


def test_social_connections_are_manual_probed_for_enabled_and_honest_about_client_ids(
    clerk_emulator: RunningEmulator,
) -> None:
    google = resource(
        Kind.SOCIAL_CONNECTION, "google", {"provider": "google", "client_id": "1234.apps"}
    )
    changes = plan_of(clerk_emulator, [google], {Kind.SOCIAL_CONNECTION})
    assert [(c.action, c.key) for c in changes] == [(Action.MANUAL, "google")]
    steps = "\n".join(changes[0].instructions)
    assert "SSO connections" in steps and "1234.apps" in steps
    assert f"{clerk_emulator.url}/fapi/v1/oauth_callback" in steps
    assert "development instance" in steps

    clerk_emulator.set_social_connection("google", "someone-else")
    assert plan_of(clerk_emulator, [google], {Kind.SOCIAL_CONNECTION}) == []
    provider = make(clerk_emulator)
    live = using(provider, lambda: provider.read({Kind.SOCIAL_CONNECTION}, [google]))
    assert "not checked" in live[0].observed["probe"]
    caveats = " ".join(provider.plan_caveats([google]))
    assert "no Clerk API reveals their OAuth client id" in caveats
    assert "development instance ins_" in caveats


def test_an_unreadable_frontend_api_is_said_in_the_plan(clerk_emulator: RunningEmulator) -> None:
    clerk_emulator.add_fault(method="GET", path="^/v1/domains$", status=403)
    google = resource(Kind.SOCIAL_CONNECTION, "google", {"provider": "google", "client_id": "c"})
    provider = make(clerk_emulator)
    live = using(provider, lambda: provider.read({Kind.SOCIAL_CONNECTION}, [google]))
    assert live == []
    caveats = " ".join(provider.plan_caveats([google]))
    assert "could not be checked" in caveats and "GET /domains failed" in caveats
    steps = " ".join(provider.manual_instructions(google, None))
    assert "https://<your Frontend API host>/v1/oauth_callback" in steps
