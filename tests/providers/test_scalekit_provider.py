"""The Scalekit provider against the emulator over real HTTP: OAuth tokens (cached, refreshed
before expiry and once on 401), page tokens, error bodies, 429s, users created inside an
organization without emails or passwords, domains, adoption, probes and the plan's caveats."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from authform.emulators import RunningEmulator, start_emulator
from authform.emulators.scalekit import set_dashboard_redirect_uri
from authform.engine.plan import Action, Policy, plan_changes
from authform.providers.base import ProviderError
from authform.providers.http import RateLimit
from authform.providers.registry import Connection, build_provider
from authform.providers.scalekit import (
    CAPABILITIES,
    MAX_PAGES,
    ScalekitProvider,
    _page_tokens,
    describe_scalekit_error,
)
from authform.resources import Kind, Resource, membership_key, normalize_spec
from authform.sources.records import BcryptHash

T = TypeVar("T")
API = "/api/v1"
FAST = {"general": RateLimit(1000, 1.0)}
BCRYPT = "$2b$10$" + "a" * 53


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(step: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(step())  # type: ignore[arg-type]


def make(emulator: RunningEmulator, **kwargs: Any) -> ScalekitProvider:
    options: dict[str, Any] = {"rate_limits": FAST, **kwargs}
    return ScalekitProvider(
        client_secret=options.pop("client_secret", emulator.api_key),
        client_id=emulator.client_id,
        base_url=emulator.url,
        **options,
    )


def admin(emulator: RunningEmulator) -> httpx.Client:
    return httpx.Client(
        base_url=emulator.url,
        headers={"Authorization": f"Bearer {emulator.api_key}"},
        timeout=10,
    )


@pytest.fixture
def api(scalekit_emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=scalekit_emulator.url, timeout=10) as client:
        token = client.post(
            "/oauth/token",
            data={
                "client_id": scalekit_emulator.client_id,
                "client_secret": scalekit_emulator.api_key,
                "grant_type": "client_credentials",
            },
        ).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def paths(emulator: RunningEmulator, method: str | None = None) -> list[str]:
    return [
        f"{e['method']} {e['path']}"
        for e in emulator.requests_log()
        if method is None or e["method"] == method
    ]


def perm(slug: str, description: str = "") -> Resource:
    return Resource(
        Kind.PERMISSION, slug, {"slug": slug, "name": slug.title(), "description": description}
    )


def role(slug: str, permissions: list[str], name: str = "Role", description: str = "") -> Resource:
    spec = {"slug": slug, "name": name, "description": description, "permissions": permissions}
    return Resource(Kind.ROLE, slug, normalize_spec(spec))


def org(key: str, name: str, domains: dict[str, str] | None = None, **metadata: str) -> Resource:
    spec = {
        "name": name,
        "domains": [{"domain": d, "state": s} for d, s in (domains or {}).items()],
        "metadata": metadata,
    }
    return Resource(Kind.ORGANIZATION, key, normalize_spec(spec))


def user(key: str, email: str, verified: bool = True, hashed: bool = False) -> Resource:
    spec = {
        "email": email,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email_verified": verified,
    }
    create_only = {"password_hash": BcryptHash(BCRYPT), "password_hash_type": "bcrypt"}
    return Resource(Kind.USER, key, spec, create_only=create_only if hashed else {})


def member(user_key: str, org_key: str, role_slug: str) -> Resource:
    return Resource(
        Kind.MEMBERSHIP,
        membership_key(user_key, org_key),
        {"user": user_key, "organization": org_key, "role": role_slug},
    )


async def plan_for(provider: ScalekitProvider, desired: list[Resource]) -> Any:
    """Read and plan, as ``authform plan`` does (with deletes allowed)."""
    kinds = {r.kind for r in desired}
    live = await provider.read(kinds, desired)
    return plan_changes(
        desired,
        live,
        managed=kinds,
        capabilities=CAPABILITIES,
        policy=Policy(allow_delete=True),
        manual_instructions=provider.manual_instructions,
    )


async def apply_all(provider: ScalekitProvider, desired: list[Resource]) -> None:
    """Read, then create what is missing in kind order (what apply does, minus the plan)."""
    kinds = {r.kind for r in desired}
    live = {r.address for r in await provider.read(kinds, desired)}
    for item in sorted(desired, key=lambda r: r.kind.order):
        if item.address not in live and not CAPABILITIES.support[item.kind].manual:
            await provider.create(item)


def scenario(provider: ScalekitProvider, body: Callable[[], Awaitable[T]]) -> T:
    """Run one test's steps on one event loop (the provider's HTTP pool and locks belong to
    the loop that first used them) and close the provider after."""

    async def step() -> T:
        try:
            return await body()
        finally:
            await provider.aclose()

    return asyncio.run(step())


# --------------------------------------------------------------------------- tokens


def test_one_token_serves_every_request(scalekit_emulator: RunningEmulator) -> None:
    provider = make(scalekit_emulator)

    async def step() -> None:
        try:
            await asyncio.gather(*(provider.read({Kind.ROLE}, []) for _ in range(5)))
        finally:
            await provider.aclose()

    run(step)
    assert provider.credentials.fetches == 1
    assert paths(scalekit_emulator).count("POST /oauth/token") == 1


def test_the_token_is_refreshed_before_it_expires(scalekit_emulator: RunningEmulator) -> None:
    with admin(scalekit_emulator) as client:
        client.put("/_emulate/tokens", json={"expires_in": 3600}).raise_for_status()
    clock = FakeClock()
    provider = make(scalekit_emulator, clock=clock)

    async def step() -> None:
        try:
            await provider.read({Kind.ROLE}, [])
            clock.now += 3600 - 120  # still valid, outside the refresh margin
            await provider.read({Kind.ROLE}, [])
            assert provider.credentials.fetches == 1
            clock.now += 90  # within a minute of expiry: refreshed before use
            await provider.read({Kind.ROLE}, [])
        finally:
            await provider.aclose()

    run(step)
    assert provider.credentials.fetches == 2


def test_a_revoked_token_is_refreshed_once_on_401(scalekit_emulator: RunningEmulator) -> None:
    provider = make(scalekit_emulator)

    async def step() -> None:
        try:
            await provider.read({Kind.ROLE}, [])
            with admin(scalekit_emulator) as client:
                client.delete("/_emulate/tokens").raise_for_status()
            # Several requests meet the 401 at once; one new token serves them all.
            await asyncio.gather(*(provider.read({Kind.PERMISSION}, []) for _ in range(4)))
        finally:
            await provider.aclose()

    run(step)
    assert provider.credentials.fetches == 2
    unauthorized = [e for e in scalekit_emulator.requests_log() if e["status"] == 401]
    assert unauthorized and all(e["path"] == f"{API}/permissions" for e in unauthorized)


def test_a_wrong_client_secret_is_a_clear_error_without_the_secret(
    scalekit_emulator: RunningEmulator,
) -> None:
    provider = make(scalekit_emulator, client_secret="wrong-secret-value-123")

    async def step() -> None:
        try:
            await provider.read({Kind.ROLE}, [])
        finally:
            await provider.aclose()

    with pytest.raises(ProviderError) as raised:
        run(step)
    message = str(raised.value)
    assert "POST /oauth/token → HTTP 401 invalid_client" in message
    assert "wrong-secret-value-123" not in message
    assert [e["path"] for e in scalekit_emulator.requests_log()] == ["/oauth/token"]


def test_registry_needs_secret_client_id_and_environment_url() -> None:
    with pytest.raises(ProviderError, match="target.client_id, target.base_url"):
        build_provider(Connection("scalekit", "secret", None, None))
    with pytest.raises(ProviderError, match="https"):
        build_provider(Connection("scalekit", "secret", "cid", "http://acme.scalekit.dev"))


# --------------------------------------------------------------------------- errors, paging


def test_grpc_error_bodies_name_the_code_and_every_field_violation() -> None:
    response = httpx.Response(
        400,
        json={
            "code": 3,
            "message": "invalid request",
            "details": [
                {
                    "@type": "type.googleapis.com/scalekit.v1.errdetails.ErrorInfo",
                    "error_code": "INVALID_ARGUMENT",
                    "validation_error_info": {
                        "field_violations": [
                            {"field": "name", "description": "must be 1-64 letters"},
                            {"field": "display_name", "constraint": "required"},
                        ]
                    },
                }
            ],
        },
    )
    assert describe_scalekit_error(response) == (
        "INVALID_ARGUMENT",
        "invalid request (name: must be 1-64 letters; display_name: required)",
    )
    oauth = httpx.Response(401, json={"error": "invalid_client", "error_description": "nope"})
    assert describe_scalekit_error(oauth) == ("invalid_client", "nope")


def test_api_errors_surface_code_message_and_fields(scalekit_emulator: RunningEmulator) -> None:
    provider = make(scalekit_emulator)

    async def step() -> None:
        try:
            await provider.create(role("org-admin", [], "Org admin"))
        finally:
            await provider.aclose()

    with pytest.raises(ProviderError) as raised:
        run(step)
    assert raised.value.status == 400 and raised.value.code == "INVALID_ARGUMENT"
    assert "name: must be 1-64 letters, digits or underscores" in str(raised.value)
    assert "request id" in str(raised.value)


def test_page_tokens_are_followed_and_bounded(
    scalekit_emulator: RunningEmulator, api: httpx.Client
) -> None:
    backend = scalekit_emulator.app.backend
    for index in range(230):
        backend.create_organization({"display_name": f"Org {index}", "external_id": f"o{index}"})
    provider = make(scalekit_emulator)

    async def step() -> list[Resource]:
        try:
            return await provider.read({Kind.ORGANIZATION}, [])
        finally:
            await provider.aclose()

    live = run(step)
    assert len(live) == 230 and len({r.key for r in live}) == 230
    pages = [e for e in scalekit_emulator.requests_log() if e["path"] == f"{API}/organizations"]
    assert [e["query"]["page_size"] for e in pages] == ["100"] * 3
    assert "page_token" not in pages[0]["query"] and pages[1]["query"]["page_token"]

    next_token = _page_tokens("/x")
    assert next_token({"next_page_token": "a"}) == "a"
    assert next_token({"next_page_token": ""}) is None
    with pytest.raises(ProviderError, match="kept returning more pages"):
        next_token({"next_page_token": "a"})
    assert MAX_PAGES >= 1000


def test_429_is_honoured_with_and_without_retry_after(scalekit_emulator: RunningEmulator) -> None:
    scalekit_emulator.set_rate_limits(general={"requests": 3, "per_seconds": 1})
    scalekit_emulator.add_fault(method="GET", path=f"^{API}/roles$", status=429, times=1)
    provider = make(scalekit_emulator)

    async def step() -> None:
        try:
            for _ in range(3):
                await provider.read({Kind.ROLE, Kind.PERMISSION}, [])
        finally:
            await provider.aclose()

    run(step)
    assert provider.http.stats.throttled >= 2  # the injected one and the emulator's own
    limited = [e for e in scalekit_emulator.requests_log() if e["status"] == 429]
    assert len(limited) >= 2


# --------------------------------------------------------------------------- reading, writing


def test_permissions_roles_and_organizations_round_trip(
    scalekit_emulator: RunningEmulator, api: httpx.Client
) -> None:
    desired = [
        perm("billing:manage", "Change plans"),
        perm("reports:read"),
        role("admin", ["billing:manage", "reports:read"], "Admin", "Everything"),
        org("acme", "Acme", {"acme.com": "verified", "acme.dev": "pending"}, tier="gold"),
    ]
    changed = [
        perm("billing:manage", "Plans and invoices"),
        perm("reports:read"),
        role("admin", ["billing:manage"], "Administrators", "Everything"),
        org("acme", "Acme Inc", {"acme.com": "verified", "acme.io": "verified"}, plan="pro"),
    ]
    renamed = [
        Resource(Kind.PERMISSION, "billing:manage", {**desired[0].spec, "name": "Pay"}),
        *desired[1:],
    ]
    provider = make(scalekit_emulator)

    async def steps() -> None:
        await apply_all(provider, desired)
        assert (await plan_for(provider, desired)).changes == []  # converged
        # Scalekit stores no display name for permissions: never sent, never a diff.
        assert (await plan_for(provider, renamed)).changes == []
        plan = await plan_for(provider, changed)
        assert {(c.action, c.address) for c in plan.changes} == {
            (Action.UPDATE, "permission.billing:manage"),
            (Action.UPDATE, "role.admin"),
            (Action.UPDATE, "organization.acme"),
        }
        scalekit_emulator.clear_log()
        for change in plan.changes:
            await provider.update(change.live, change.desired)
        assert (await plan_for(provider, changed)).changes == []

    scenario(provider, steps)
    body = api.get(f"{API}/permissions/billing:manage").json()["permission"]
    assert "display_name" not in body and body["description"] == "Plans and invoices"
    writes = [f"{e['method']} {e['path']}" for e in scalekit_emulator.requests_log()]
    assert f"DELETE {API}/roles/admin/permissions/reports:read" in writes
    assert f"PUT {API}/roles/admin" in writes  # display name and description
    org_id = api.get(f"{API}/organizations:external/acme").json()["organization"]["id"]
    domains = api.get(f"{API}/organizations/{org_id}/domains").json()["domains"]
    # The pending domain was added admin-verified, then removed; acme.io was added.
    assert {(d["domain"], d["verification_status"]) for d in domains} == {
        ("acme.com", "VERIFIED"),
        ("acme.io", "VERIFIED"),
    }


def test_a_domain_pending_dns_becomes_admin_verified_when_declared_verified(
    tmp_path: Path,
) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(
        json.dumps(
            {
                "organizations": [
                    {
                        "display_name": "Acme",
                        "external_id": "acme",
                        "domains": [{"domain": "acme.com", "state": "pending"}],
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    with start_emulator("scalekit", seed=seed) as emulator:
        provider = make(emulator)
        pending = [org("acme", "Acme", {"acme.com": "pending"})]
        verified = [org("acme", "Acme", {"acme.com": "verified"})]

        async def steps() -> None:
            assert (await plan_for(provider, pending)).changes == []
            [change] = (await plan_for(provider, verified)).changes
            assert change.action is Action.UPDATE
            assert [f.path for f in change.fields] == ["domains[acme.com].state"]
            await provider.update(change.live, change.desired)
            assert (await plan_for(provider, verified)).changes == []

        scenario(provider, steps)


def test_users_are_created_with_memberships_never_emailed_never_given_a_password(
    scalekit_emulator: RunningEmulator, api: httpx.Client
) -> None:
    desired = [
        role("admin", [], "Admin"),
        role("member", [], "Member"),
        org("acme", "Acme"),
        org("globex", "Globex"),
        user("u1", "ada@acme.com", verified=False, hashed=True),
        member("u1", "acme", "admin"),
        member("u1", "globex", "member"),
    ]
    moved = [*desired[:5], member("u1", "acme", "member"), desired[6]]
    renamed = [*desired[:4], user("u1", "ada@acme.io"), *moved[5:]]
    provider = make(scalekit_emulator)

    async def steps() -> None:
        await apply_all(provider, desired[:4])
        scalekit_emulator.clear_log()
        await provider.read({r.kind for r in desired}, desired)
        await provider.create(desired[4])  # the user, with both memberships
        await provider.create(desired[5])  # already done with the user: no request
        await provider.create(desired[6])
        check_what_was_sent()
        assert (await plan_for(provider, desired)).changes == []  # verified: not compared
        [change] = (await plan_for(provider, moved)).changes
        assert (change.action, change.address) == (Action.UPDATE, "membership.u1@acme")
        await provider.update(change.live, change.desired)
        # Scalekit cannot change an email, and a user is never deleted and recreated for it
        # (issue 9, finding 1): a manual step that says so, whatever the delete policy.
        [manual] = (await plan_for(provider, renamed)).changes
        assert (manual.action, manual.address) == (Action.MANUAL, "user.u1")
        assert "cannot change a user's email address" in manual.instructions[0]
        assert "does not delete and recreate the user" in manual.instructions[1]

    def check_what_was_sent() -> None:
        posts = [e for e in scalekit_emulator.requests_log() if e["method"] == "POST"]
        posts = [e for e in posts if e["path"] != "/oauth/token"]
        assert [e["query"] for e in posts] == [{"send_invitation_email": "false"}] * 2
        assert posts[0]["path"].endswith("/users")
        assert posts[1]["path"].startswith(f"{API}/memberships/organizations/")
        sent = posts[0]["body"]
        assert sent["external_id"] == "u1" and sent["membership"] == {"roles": [{"name": "admin"}]}
        assert sent["user_profile"] == {"given_name": "Ada", "family_name": "Lovelace"}
        assert "password" not in str(sent) and BCRYPT not in str(scalekit_emulator.requests_log())
        with admin(scalekit_emulator) as client:
            assert client.get("/_emulate/emails").json()["data"] == []
        stored = api.get(f"{API}/users:external/u1").json()["user"]
        assert [m["membership_status"] for m in stored["memberships"]] == ["ACTIVE", "ACTIVE"]
        assert provider.id_mapping()["users"] == {"u1": stored["id"]}
        assert set(provider.id_mapping()["organizations"]) == {"acme", "globex"}

    scenario(provider, steps)
    # The user was left alone: same address (and same id, as the mapping checks above).
    assert api.get(f"{API}/users:external/u1").json()["user"]["email"] == "ada@acme.com"


def test_a_membership_for_an_existing_user_and_deletes(scalekit_emulator: RunningEmulator) -> None:
    desired = [
        role("admin", [], "Admin"),
        org("acme", "Acme"),
        org("globex", "Globex"),
        user("u1", "ada@acme.com"),
        member("u1", "acme", "admin"),
    ]
    more = [*desired, member("u1", "globex", "admin")]
    fewer = [*desired[:4], member("u1", "globex", "admin")]
    provider = make(scalekit_emulator)

    async def steps() -> None:
        await apply_all(provider, desired)
        [change] = (await plan_for(provider, more)).changes
        assert change.action is Action.CREATE
        scalekit_emulator.clear_log()
        await provider.create(change.desired)
        [write] = [e for e in scalekit_emulator.requests_log() if e["method"] == "POST"]
        assert write["path"].startswith(f"{API}/memberships/organizations/")
        assert write["query"] == {"send_invitation_email": "false"}
        plan = await plan_for(provider, fewer)
        assert [(c.action, c.address) for c in plan.changes] == [
            (Action.DELETE, "membership.u1@acme")
        ]
        await provider.delete(plan.changes[0].live)
        assert (await plan_for(provider, fewer)).changes == []
        # Memberships in organizations the manifest does not name are not read at all.
        assert (await plan_for(provider, [user("u1", "ada@acme.com")])).changes == []

    scenario(provider, steps)


def test_a_user_without_a_membership_cannot_be_created(scalekit_emulator: RunningEmulator) -> None:
    provider = make(scalekit_emulator)
    desired = [user("u9", "solo@example.com")]

    async def steps() -> None:
        await provider.read({Kind.USER, Kind.MEMBERSHIP}, desired)
        await provider.create(desired[0])

    with pytest.raises(ProviderError, match="can only be created inside an organization"):
        scenario(provider, steps)
    assert [e for e in scalekit_emulator.requests_log() if e["method"] != "GET"] == [
        e for e in scalekit_emulator.requests_log() if e["path"] == "/oauth/token"
    ]


def test_unkeyed_organizations_and_users_are_adopted(
    scalekit_emulator: RunningEmulator, api: httpx.Client
) -> None:
    existing = api.post(f"{API}/organizations", json={"display_name": "Acme"}).json()
    org_id = existing["organization"]["id"]
    api.post(f"{API}/roles", json={"name": "admin", "display_name": "Admin"})
    person = api.post(
        f"{API}/organizations/{org_id}/users",
        params={"send_invitation_email": "false"},
        json={"email": "ada@acme.com", "membership": {"roles": [{"name": "admin"}]}},
    ).json()["user"]
    desired = [org("acme", "Acme"), user("u1", "ada@acme.com"), member("u1", "acme", "admin")]
    provider = make(scalekit_emulator)

    async def steps() -> None:
        plan = await plan_for(provider, desired)
        # The membership already exists under the organization and user being adopted.
        assert [(c.action, c.address, c.note) for c in plan.changes] == [
            (Action.UPDATE, "organization.acme", f"adopts existing {org_id}, which has no key yet"),
            (Action.UPDATE, "user.u1", f"adopts existing {person['id']}, which has no key yet"),
        ]
        for change in plan.changes:
            await provider.update(change.live, change.desired)
        assert (await plan_for(provider, desired)).changes == []

    scenario(provider, steps)
    assert api.get(f"{API}/users:external/u1").json()["user"]["id"] == person["id"]
    assert api.get(f"{API}/organizations:external/acme").json()["organization"]["id"] == org_id


# --------------------------------------------------------------------------- dashboard-only


def test_redirect_uris_and_social_logins_are_manual_and_probed(
    scalekit_emulator: RunningEmulator,
) -> None:
    uri = "https://app.example.com/callback"
    origin = "https://app.example.com"
    desired = [
        Resource(Kind.REDIRECT_URI, uri, {"uri": uri}),
        Resource(Kind.SOCIAL_CONNECTION, "google", {"provider": "google", "client_id": "g-1"}),
        Resource(Kind.CORS_ORIGIN, origin, {"origin": origin}),
    ]
    provider = make(scalekit_emulator)

    async def steps() -> None:
        plan = await plan_for(provider, desired)
        assert {(c.action, c.address) for c in plan.changes} == {
            (Action.MANUAL, f"redirect_uri.{uri}"),
            (Action.MANUAL, "social_connection.google"),
            (Action.MANUAL, f"cors_origin.{origin}"),
        }
        text = {c.kind: " ".join(c.instructions) for c in plan.changes}
        assert "Authentication → Redirects" in text[Kind.REDIRECT_URI]
        assert "Authentication → Auth Methods → Social logins" in text[Kind.SOCIAL_CONNECTION]
        assert "g-1" in text[Kind.SOCIAL_CONNECTION]
        assert "no CORS-origin setting" in text[Kind.CORS_ORIGIN]

        await asyncio.to_thread(set_dashboard_redirect_uri, scalekit_emulator, uri, True)
        await asyncio.to_thread(scalekit_emulator.set_social_connection, "google", "other")
        differs = await plan_for(provider, desired)
        [social] = [c for c in differs.changes if c.kind is Kind.SOCIAL_CONNECTION]
        assert [(f.path, f.old, f.new) for f in social.fields] == [("client_id", "other", "g-1")]
        assert Kind.REDIRECT_URI not in {c.kind for c in differs.changes}

        await asyncio.to_thread(scalekit_emulator.set_social_connection, "google", "g-1")
        done = await plan_for(provider, desired)
        # CORS origins can never be done on Scalekit: the step stays until removed.
        assert [c.address for c in done.changes] == [f"cors_origin.{origin}"]
        assert (await provider.authenticate("a@b.c", "pw")).ok is False

    scenario(provider, steps)


def test_plan_caveats_say_what_scalekit_will_not_carry() -> None:
    provider = ScalekitProvider(client_secret="s", client_id="c", base_url="https://x.example")
    desired = [
        perm("billing:manage"),
        org("acme", "Acme", {"acme.com": "pending"}, a="too short key"),
        user("u1", "a@x.io", verified=False, hashed=True),
        user("u2", "b@x.io", hashed=True),
        member("u1", "acme", "admin"),
        Resource(Kind.REDIRECT_URI, "https://a.example/cb", {"uri": "https://a.example/cb"}),
        Resource(Kind.CORS_ORIGIN, "https://a.example", {"origin": "https://a.example"}),
    ]
    caveats = "\n".join(provider.plan_caveats(desired))
    assert "2 user(s) have a password hash that Scalekit's API cannot import" in caveats
    assert "(u1, u2)" in caveats
    assert "1 user(s) are unverified in the source" in caveats
    assert "1 user(s) have no organization membership" in caveats and "(u2)" in caveats
    assert "name of 1 permission(s) is neither sent nor compared" in caveats
    assert "1 domain(s) are declared pending" in caveats
    assert "1 organization(s) have metadata Scalekit refuses" in caveats
    assert "redirect URLs are set in the dashboard" in caveats
    assert "no CORS-origin setting" in caveats
    assert BCRYPT not in caveats
    assert provider.plan_caveats([]) == []
