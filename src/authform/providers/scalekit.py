"""Scalekit: maps authform's canonical kinds onto Scalekit's REST API (``/api/v1``).

API facts (paths, shapes) are in shared/reference/provider-apis.md §C and Scalekit's OpenAPI
document (``reference/openapi/scalekit-saaskit.yaml``); the emulator in
``authform.emulators.scalekit`` honours the same contract and is checked against both.

What Scalekit's public API cannot do shapes this module, and the plan says each one:

- Redirect URLs, social logins (and CORS origins, which Scalekit has no setting for) are
  dashboard-only: ``manual`` kinds, verified by probing ``/oauth/authorize``.
- Permissions have no display name: the manifest's ``name`` is neither sent nor compared.
- Users exist only inside an organization: a user is created together with its first
  membership (``POST /organizations/{org}/users?send_invitation_email=false``), never
  emailed, and without a password (hashes cannot be imported through the API).
- Users created without an invitation email are marked verified and no field sets
  ``email_verified``, and domains added through the API are admin-verified: neither
  direction that Scalekit forces is compared, and ``plan_caveats`` says so.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from authform.providers.api_provider import (
    ApiProvider,
    KindHandlers,
    window_limiters,
    with_provider_id,
)
from authform.providers.base import KindSupport, ProbeResult, ProviderError, api_capabilities
from authform.providers.desired_directory import (
    DesiredDirectory,
    DesiredUser,
    PendingMembership,
)
from authform.providers.http import ApiClient, RateLimit, WindowLimiter, answer_error
from authform.providers.ids import remembering
from authform.providers.scalekit_credentials import ClientCredentials, describe_scalekit_error
from authform.providers.scalekit_dashboard import DASHBOARD, MANUAL_STEPS, plan_caveats
from authform.providers.social_probe import SocialLoginProbe
from authform.resources import (
    Kind,
    Resource,
    membership_key,
    normalize_spec,
    of_kind,
    unkeyed_key,
)

API = "/api/v1"
AUTHORIZE_PATH = "/oauth/authorize"

# Scalekit publishes no rate limits (its API reference lists only "429 Rate limit
# exceeded"), so this is authform's own conservative assumption: 10 requests per second per
# environment. 429s are still honoured (Retry-After when sent, else jittered backoff), and
# ``target.rate_limits.general`` overrides it once Scalekit tells you your real limit.
GENERAL_LIMIT = RateLimit(10, 1.0)

# The largest page Scalekit's list endpoints accept (organizations and users: 10-100).
PAGE_SIZE = 100
# A hard stop for every pagination loop: 10,000 pages of 100 is a million items, far past
# any environment; a server that keeps returning a next page past that is misbehaving.
MAX_PAGES = 10_000
# Domains of this type are Scalekit's organization domains (SSO discovery, SCIM); the other
# type, ALLOWED_EMAIL_DOMAIN, is an organization-switcher hint authform does not manage.
DOMAIN_TYPE = "ORGANIZATION_DOMAIN"
VERIFIED_STATUSES = frozenset({"VERIFIED", "AUTO_VERIFIED"})

CAPABILITIES = api_capabilities(
    "scalekit",
    {
        # Dashboard only (Authentication > Redirects); probed through /oauth/authorize.
        Kind.REDIRECT_URI: KindSupport(manual=True),
        # Scalekit has no CORS-origin setting at all; the step explains that.
        Kind.CORS_ORIGIN: KindSupport(manual=True),
        # PATCH /users/{id} has no email field ("fields like user ID, email address ...
        # cannot be modified"): a changed email is a manual step, never a delete + create.
        Kind.USER: KindSupport(immutable_fields=frozenset({"email"})),
    },
)


class ScalekitProvider(ApiProvider):
    label = "Scalekit"
    dashboard = DASHBOARD
    capabilities = CAPABILITIES

    def __init__(
        self,
        *,
        client_secret: str,
        client_id: str,
        base_url: str,
        max_concurrency: int = 16,
        rate_limits: Mapping[str, RateLimit] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._limiters = window_limiters("Scalekit", {"general": GENERAL_LIMIT}, rate_limits)
        self.client_id = client_id
        self.credentials = ClientCredentials(
            base_url,
            client_id=client_id,
            client_secret=client_secret,
            limiters_for=self._limiters_for,
            transport=transport,
            clock=clock,
        )
        self.http = ApiClient(
            base_url,
            provider_name="Scalekit",
            headers=self.credentials.headers,
            describe_error=describe_scalekit_error,
            limiters_for=self._limiters_for,
            on_unauthorized=self.credentials.refresh,
            max_concurrency=max_concurrency,
            # Scalekit documents no idempotency keys; creates converge on 409 instead.
            idempotency_header=None,
            transport=transport,
        )
        # Scalekit org id → key: organizations, not users (a twentieth of them in an import).
        self._org_keys: dict[str, str] = {}
        self._unkeyed_org_names: dict[str, str] = {}  # Scalekit id → display name
        self.social_logins = SocialLoginProbe(
            self.http,
            AUTHORIZE_PATH,
            client_id,
            no_redirect_uri="the manifest lists no redirect URI to probe the login with",
            params=lambda social: {"scope": "openid profile email", "provider": social.name},
        )
        self.handlers = {
            Kind.PERMISSION: KindHandlers(
                self._create_permission,
                self._update_permission,
                self.delete_by_key(f"{API}/permissions"),
            ),
            Kind.ROLE: KindHandlers(
                self._create_role, self._update_role, self.delete_by_key(f"{API}/roles")
            ),
            Kind.ORGANIZATION: KindHandlers(
                self._create_organization,
                self._update_organization,
                self.delete_by_id(f"{API}/organizations"),
            ),
            Kind.USER: KindHandlers(
                self._create_user, self._update_user, self.delete_by_id(f"{API}/users")
            ),
            Kind.MEMBERSHIP: KindHandlers(
                self._create_membership, self._update_membership, self._delete_membership
            ),
        }
        self.manual_steps = MANUAL_STEPS

    def _limiters_for(self, method: str, path: str) -> Sequence[WindowLimiter]:
        return [self._limiters["general"]]

    async def aclose(self) -> None:
        await super().aclose()
        await self.credentials.aclose()

    # ---- reading ---------------------------------------------------------------------------

    async def read_stream(
        self, kinds: Iterable[Kind], desired: Iterable[Resource]
    ) -> AsyncIterator[Resource]:
        """The live resources of ``kinds``, yielded as they are read: users (and the
        memberships Scalekit embeds in them) a page at a time, organizations a page at a time
        with their domains. Nothing that grows with the users is held: the desired side the
        read matches against is looked up on disk (``desired_directory``), the ids writes
        need go to ``self.ids``."""
        wanted = set(kinds)
        directory = self.desired_directory(desired, reload=True)
        if Kind.PERMISSION in wanted:
            for resource in await self._read_permissions(desired):
                yield resource
        if Kind.ROLE in wanted:
            for resource in await self._read_roles():
                yield resource
        if Kind.ORGANIZATION in wanted:
            async for resource in self._read_organizations(desired):
                yield resource
        elif Kind.MEMBERSHIP in wanted:
            async for _ in self._stream_organizations():  # fills the id index
                pass
        if Kind.REDIRECT_URI in wanted:
            for resource in await self._probe_redirect_uris(desired):
                yield resource
        # CORS origins: Scalekit has no such setting, so there is never anything to read.
        if Kind.SOCIAL_CONNECTION in wanted:
            for resource in await self._probe_social_connections(desired):
                yield resource
        if Kind.USER in wanted or Kind.MEMBERSHIP in wanted:
            async for resource in self._read_users(wanted, directory):
                yield resource

    async def _list(
        self, path: str, data_key: str, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        return [item async for item in self._paginate(path, data_key, params)]

    def _paginate(
        self, path: str, data_key: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        return self.http.paginate_cursor(
            path,
            params,
            limit=PAGE_SIZE,
            data_key=data_key,
            next_cursor=_page_tokens(path),
            cursor_param="page_token",
            limit_param="page_size",
        )

    async def _read_permissions(self, desired: Iterable[Resource]) -> list[Resource]:
        # Scalekit permissions have no display name; the manifest's is not comparable, so the
        # live side reports the desired one (see plan_caveats).
        names = {r.key: r.spec["name"] for r in of_kind(desired, Kind.PERMISSION)}
        return [
            Resource(
                Kind.PERMISSION,
                p["name"],
                {
                    "slug": p["name"],
                    "name": names.get(p["name"], p["name"]),
                    "description": p.get("description") or "",
                },
                provider_id=p.get("id"),
            )
            for p in await self._list(f"{API}/permissions", "permissions", {"type": "ENVIRONMENT"})
            if not p.get("is_scalekit_permission")  # Scalekit's own, not the team's
        ]

    async def _read_roles(self) -> list[Resource]:
        body = await self.http.get_json(f"{API}/roles", {"include": "permissions"})
        return [
            Resource(
                Kind.ROLE,
                r["name"],
                normalize_spec(
                    {
                        "slug": r["name"],
                        "name": r.get("display_name") or "",
                        "description": r.get("description") or "",
                        "permissions": sorted(
                            p["name"]
                            for p in r.get("permissions") or []
                            if p.get("role_name", r["name"]) == r["name"]  # direct ones only
                        ),
                    }
                ),
                provider_id=r.get("id"),
            )
            for r in body.get("roles") or []
            if not r.get("is_org_role")  # organization-specific roles are not environment roles
        ]

    async def _stream_organizations(self) -> AsyncIterator[dict[str, Any]]:
        """Every organization, a page at a time, its id remembered for the writes."""
        self._unkeyed_org_names = {}
        with remembering(self.ids, Kind.ORGANIZATION) as remember:
            async for org in self._paginate(f"{API}/organizations", "organizations"):
                key = org.get("external_id") or unkeyed_key(org["id"])
                remember(key, org["id"])
                self._org_keys[org["id"]] = key
                if not org.get("external_id"):
                    self._unkeyed_org_names[org["id"]] = org.get("display_name") or ""
                yield org

    async def _read_organizations(self, desired: Iterable[Resource]) -> AsyncIterator[Resource]:
        """Organizations and their domains. Scalekit lists domains per organization, so they
        are read per organization (a page of organizations at a time, concurrently within
        the rate limit), for every one: an organization the manifest no longer names is a
        delete, and the domains it holds are what a new organization claiming them must
        wait for (the plan orders that delete first, or holds the create back when deletes
        are not allowed)."""
        declared_domains = {
            r.key: {d["domain"]: d["state"] for d in r.spec["domains"]}
            for r in of_kind(desired, Kind.ORGANIZATION)
            if r.spec.get("domains")
        }

        async def one(org: dict[str, Any]) -> Resource:
            external_id = org.get("external_id") or ""
            key = external_id or unkeyed_key(org["id"])
            spec: dict[str, Any] = {
                "name": org.get("display_name") or "",
                "metadata": dict(org.get("metadata") or {}),
            }
            observed: dict[str, Any] = {"unkeyed": not external_id}
            domains = await self._list_domains(org["id"])
            declared = declared_domains.get(key, {})
            spec["domains"] = [
                {"domain": name, "state": _reported_domain_state(d, declared.get(name))}
                for name, d in domains.items()
            ]
            observed["domain_ids"] = {name: d["id"] for name, d in domains.items()}
            return Resource(
                Kind.ORGANIZATION,
                key,
                normalize_spec(spec),
                provider_id=org["id"],
                observed=observed,
            )

        page: list[dict[str, Any]] = []
        async for org in self._stream_organizations():
            page.append(org)
            if len(page) >= PAGE_SIZE:
                for resource in await asyncio.gather(*(one(o) for o in page)):
                    yield resource
                page = []
        for resource in await asyncio.gather(*(one(o) for o in page)):
            yield resource

    async def _list_domains(self, org_id: str) -> dict[str, dict[str, Any]]:
        """Domain name → domain object. This endpoint pages by number (0-based), not token."""
        found: dict[str, dict[str, Any]] = {}
        for page_number in range(MAX_PAGES):
            body = await self.http.get_json(
                f"{API}/organizations/{self.seg(org_id)}/domains",
                {"domain_type": DOMAIN_TYPE, "page_size": PAGE_SIZE, "page_number": page_number},
            )
            domains = body.get("domains") or []
            for domain in domains:
                found[str(domain["domain"]).lower()] = domain
            if len(domains) < PAGE_SIZE:
                return found
        raise ProviderError(f"Scalekit: organization {org_id} has more domain pages than expected")

    async def _read_users(
        self, wanted: set[Kind], directory: DesiredDirectory
    ) -> AsyncIterator[Resource]:
        """Users, and the memberships Scalekit embeds in each, as the pages come. Only
        memberships in organizations the manifest or its source names are read: a
        membership elsewhere is not authform's to delete."""
        named_orgs = directory.named_organizations() if Kind.MEMBERSHIP in wanted else set()
        org_key_of = {**self._org_keys, **self._adoptable_org_keys(directory)}
        with remembering(self.ids, Kind.USER) as remember:
            async for user in self._paginate(f"{API}/users", "users"):
                external_id = user.get("external_id") or ""
                key = external_id or unkeyed_key(user["id"])
                remember(key, user["id"])
                target = directory.user(key) if external_id else None
                # A user made by hand: adopted by the one desired user with its email, if any;
                # its memberships compare under the key it is about to get.
                adopter = (
                    None if external_id else _only(directory.user_keys_with_email(user["email"]))
                )
                if adopter is not None:
                    target = directory.user(adopter)
                if Kind.USER in wanted:
                    yield Resource(
                        Kind.USER,
                        key,
                        _user_spec(user, target),
                        provider_id=user["id"],
                        observed={"unkeyed": not external_id},
                    )
                if Kind.MEMBERSHIP in wanted:
                    user_key = adopter or key
                    for membership in user.get("memberships") or []:
                        org_id = membership.get("organization_id")
                        org_key = org_key_of.get(org_id or "")
                        if org_key is None or org_key not in named_orgs:
                            continue
                        yield Resource(
                            Kind.MEMBERSHIP,
                            membership_key(user_key, org_key),
                            {
                                "user": user_key,
                                "organization": org_key,
                                "role": _role_names(membership),
                            },
                            provider_id=f"{org_id}/{user['id']}",
                            observed={"organization_id": org_id, "user_id": user["id"]},
                        )

    def _adoptable_org_keys(self, directory: DesiredDirectory) -> dict[str, str]:
        """Scalekit id → desired key for live organizations without an external_id that the
        plan will adopt (the only unkeyed one with the name of exactly one desired
        organization that does not exist yet), so their memberships compare under that key."""
        unkeyed: dict[str, list[str]] = {}
        for org_id, name in self._unkeyed_org_names.items():
            unkeyed.setdefault(name, []).append(org_id)
        adoptable = {}
        for name, org_ids in unkeyed.items():
            keys = [
                key
                for key in directory.organization_keys_named(name)
                if key not in self.ids[Kind.ORGANIZATION]
            ]
            if len(org_ids) == 1 and len(keys) == 1:
                adoptable[org_ids[0]] = keys[0]
        return adoptable

    # ---- probing what only the dashboard sets ----------------------------------------------

    async def _probe_redirect_uris(self, desired: Iterable[Resource]) -> list[Resource]:
        """Redirect URLs cannot be listed: each desired one is checked by asking the authorize
        endpoint to use it. A registered URL leads on to the hosted login page; an unknown one
        is refused (``invalid_redirect_uri``). Unlisted URLs stay invisible to authform."""
        live = []
        for resource in of_kind(desired, Kind.REDIRECT_URI):
            result = await self.probe_redirect_uri(resource.key)
            if result.ok:
                live.append(
                    Resource(
                        Kind.REDIRECT_URI,
                        resource.key,
                        {"uri": resource.key},
                        observed={"probe": result.detail},
                    )
                )
        return live

    async def probe_redirect_uri(self, uri: str) -> ProbeResult:
        if not self.client_id:
            return ProbeResult(False, "target.client_id is not set, so nothing can be probed")
        response = await self._authorize(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": uri,
                "scope": "openid profile email",
                "state": "authform-probe",
            }
        )
        if response is None or not 300 <= response.status_code < 400:
            status = response.status_code if response is not None else "no answer"
            return ProbeResult(False, f"authorize refused the redirect URI (HTTP {status})")
        location = response.headers.get("location", "")
        if "error" in parse_qs(urlsplit(location).query):
            return ProbeResult(False, f"authorize redirected with an error: {location}")
        return ProbeResult(True, "accepted by the authorize endpoint")

    async def _probe_social_connections(self, desired: Iterable[Resource]) -> list[Resource]:
        """Social logins cannot be read through the API: probe each one's authorization URL
        (``provider=google``); a configured one redirects to the OAuth provider carrying the
        OAuth client id it was configured with, which is the live state."""
        redirect_uris = [r.key for r in of_kind(desired, Kind.REDIRECT_URI)]
        social = of_kind(desired, Kind.SOCIAL_CONNECTION)
        return await self.social_logins.connections(social, redirect_uris)

    async def _authorize(self, params: Mapping[str, str]) -> httpx.Response | None:
        try:
            return await self.http.request(
                "GET", AUTHORIZE_PATH, params=params, expected=(), follow=True
            )
        except ProviderError:
            return None

    # ---- writing: one handler per kind and write (see ``handlers``) -------------------------
    # Scalekit documents no idempotency keys: a create refused with 409 (a retried create that
    # had landed, an interrupted run) reads back what is there (``create_converging``).

    async def _create_permission(self, desired: Resource) -> Resource:
        spec = desired.spec
        body, existed = await self.create_converging(
            f"{API}/permissions",
            {"name": spec["slug"], "description": spec["description"]},
            lambda: self.get_or_none(f"{API}/permissions/{self.seg(spec['slug'])}"),
        )
        permission = body.get("permission") or {}
        if existed and (permission.get("description") or "") != spec["description"]:
            await self._update_permission(desired, desired)
        return with_provider_id(desired, permission.get("id"))

    async def _create_role(self, desired: Resource) -> Resource:
        spec = desired.spec
        body, existed = await self.create_converging(
            f"{API}/roles",
            {
                "name": spec["slug"],
                "display_name": spec["name"],
                "description": spec["description"],
                "permissions": list(spec["permissions"]),
            },
            lambda: self.get_or_none(f"{API}/roles/{self.seg(spec['slug'])}"),
        )
        if existed:  # made by another run: bring it to the manifest's spec
            current = next((r for r in await self._read_roles() if r.key == desired.key), None)
            if current is not None and current.spec != desired.spec:
                await self._update_role(current, desired)
        return with_provider_id(desired, (body.get("role") or {}).get("id"))

    async def _create_organization(self, desired: Resource) -> Resource:
        spec = desired.spec
        body, existed = await self.create_converging(
            f"{API}/organizations",
            {
                "display_name": spec["name"],
                "external_id": desired.key,
                "metadata": dict(spec["metadata"]),
            },
            lambda: self.get_or_none(f"{API}/organizations:external/{self.seg(desired.key)}"),
        )
        org = body.get("organization") or {}
        org_id = _required(org.get("id"), desired)
        self.ids[Kind.ORGANIZATION][desired.key] = org_id
        self._org_keys[org_id] = desired.key
        existing = await self._list_domains(org_id) if existed else {}
        for domain in spec["domains"]:
            if domain["domain"] not in existing:
                await self._add_domain(org_id, domain["domain"])
        return with_provider_id(desired, org_id)

    async def _add_domain(self, org_id: str, domain: str) -> None:
        # Domains added through the API are admin-verified by Scalekit (no DNS challenge).
        await self.http.send_json(
            "POST",
            f"{API}/organizations/{self.seg(org_id)}/domains",
            {"domain": domain, "domain_type": DOMAIN_TYPE},
        )

    async def _create_user(self, desired: Resource) -> Resource:
        """Scalekit creates a user only inside an organization: the user is created with its
        first membership, and its other memberships follow at once; the membership phase then
        finds them done. No invitation email is ever sent."""
        directory = self.desired_directory()
        memberships = directory.memberships_of(desired.key)
        if not memberships:
            raise ProviderError(
                "Scalekit: a user can only be created inside an organization (POST "
                "/api/v1/organizations/{id}/users) and this one has no membership in the "
                "source; give it one, or add the user in the Scalekit Dashboard"
            )
        first = memberships[0]
        org_id = await self._organization_id(first.organization, _membership(desired, first))
        spec = desired.spec
        body = {
            "email": spec["email"],
            "external_id": desired.key,
            "user_profile": {"given_name": spec["first_name"], "family_name": spec["last_name"]},
            "membership": {"roles": _roles_body(first.role)},
        }
        try:
            answer = await self.http.request(
                "POST",
                f"{API}/organizations/{self.seg(org_id)}/users",
                params={"send_invitation_email": "false"},
                json=body,
            )
            user = (answer.json() or {}).get("user") or {}
        except ProviderError as exc:
            if exc.status != 409:
                raise
            # The email or external id is taken. If the holder carries our key, it is ours
            # (an interrupted earlier run): converge on it.
            user = await self._find_user(desired.key)
            if user is None:
                raise
            if not _has_membership(user, org_id):
                await self._add_membership(org_id, user["id"], first.role)
        user_id = _required(user.get("id"), desired)
        self.ids[Kind.USER][desired.key] = user_id
        directory.mark_done(first.key)
        for membership in memberships[1:]:
            other_org = self.ids[Kind.ORGANIZATION].get(membership.organization)
            if other_org is None or _has_membership(user, other_org):
                continue  # left to the membership phase, which reports what fails
            try:
                await self._add_membership(other_org, user_id, membership.role)
            except ProviderError:
                continue  # the membership phase tries again and reports the error
            directory.mark_done(membership.key)
        return with_provider_id(desired, user_id)

    async def _find_user(self, key: str) -> dict[str, Any] | None:
        body = await self.get_or_none(f"{API}/users:external/{self.seg(key)}")
        user = body.get("user") if isinstance(body, dict) else None
        return user if isinstance(user, dict) else None

    async def _create_membership(self, desired: Resource) -> Resource:
        spec = desired.spec
        directory = self.desired_directory()
        if directory.is_done(desired.key):  # created together with its user
            return desired
        org_id = await self._organization_id(spec["organization"], desired)
        user_id = await self._user_id(spec["user"], desired)
        try:
            await self._add_membership(org_id, user_id, spec["role"])
        except ProviderError as exc:
            if exc.status != 409:
                raise
            # Already a member (an interrupted run, an adopted user): converge on the role.
            await self._set_membership_role(org_id, user_id, spec["role"])
        directory.mark_done(desired.key)
        return with_provider_id(desired, f"{org_id}/{user_id}")

    async def _add_membership(self, org_id: str, user_id: str, role: str) -> None:
        await self.http.request(
            "POST",
            self._membership_path(org_id, user_id),
            params={"send_invitation_email": "false"},
            json={"roles": _roles_body(role)},
        )

    async def _set_membership_role(self, org_id: str, user_id: str, role: str) -> None:
        await self.http.send_json(
            "PATCH", self._membership_path(org_id, user_id), {"roles": _roles_body(role)}
        )

    def _membership_path(self, org_id: str, user_id: str) -> str:
        return f"{API}/memberships/organizations/{self.seg(org_id)}/users/{self.seg(user_id)}"

    async def _organization_id(self, key: str, desired: Resource) -> str:
        known = self.ids[Kind.ORGANIZATION].get(key)
        if known is not None:
            return known
        body = await self.get_or_none(f"{API}/organizations:external/{self.seg(key)}")
        if body is None:
            raise ProviderError(
                f"Scalekit: {desired.address}: organization {key} does not exist in Scalekit "
                "(its create failed or was not attempted)"
            )
        org_id = _required((body.get("organization") or {}).get("id"), desired)
        self.ids[Kind.ORGANIZATION][key] = org_id
        self._org_keys[org_id] = key
        return org_id

    async def _user_id(self, key: str, desired: Resource) -> str:
        known = self.ids[Kind.USER].get(key)
        if known is not None:
            return known
        user = await self._find_user(key)
        if user is None:
            raise ProviderError(
                f"Scalekit: {desired.address}: user {key} does not exist in Scalekit "
                "(its create failed or was not attempted)"
            )
        self.ids[Kind.USER][key] = user["id"]
        return str(user["id"])

    async def _update_user(self, live: Resource, desired: Resource) -> None:
        # The email never changes here: the API cannot (a changed email is a manual step).
        user_id = self.require_id(live)
        await self.http.send_json(
            "PATCH",
            f"{API}/users/{self.seg(user_id)}",
            {
                "external_id": desired.key,
                "user_profile": {
                    "given_name": desired.spec["first_name"],
                    "family_name": desired.spec["last_name"],
                },
            },
        )
        self.ids[Kind.USER][desired.key] = user_id

    async def _update_membership(self, live: Resource, desired: Resource) -> None:
        org_id, user_id = _membership_ids(live)
        await self._set_membership_role(org_id, user_id, desired.spec["role"])

    async def _delete_membership(self, live: Resource) -> None:
        org_id, user_id = _membership_ids(live)
        await self.http.send_json("DELETE", self._membership_path(org_id, user_id))

    async def _update_permission(self, live: Resource, desired: Resource) -> None:
        await self.http.send_json(
            "PUT",
            f"{API}/permissions/{self.seg(desired.key)}",
            {"name": desired.key, "description": desired.spec["description"]},
        )

    async def _update_role(self, live: Resource, desired: Resource) -> None:
        """Display name and description with PUT (only the fields sent change); permissions
        with the add and remove endpoints, because an empty list sent to PUT cannot be told
        from an absent one and so cannot clear a role's permissions."""
        name = self.seg(desired.key)
        await self.relabel("PUT", f"{API}/roles/{name}", live, desired, name_field="display_name")
        have, want = set(live.spec["permissions"]), set(desired.spec["permissions"])
        if want - have:
            await self.http.send_json(
                "POST", f"{API}/roles/{name}/permissions", {"permission_names": sorted(want - have)}
            )
        for permission in sorted(have - want):
            await self.http.send_json(
                "DELETE", f"{API}/roles/{name}/permissions/{self.seg(permission)}"
            )

    async def _update_organization(self, live: Resource, desired: Resource) -> None:
        """PATCH replaces the fields sent (metadata as a whole map); domains are added and
        removed one by one. A domain to become verified that Scalekit holds as pending (added
        through the Admin Portal, waiting for DNS) is removed and added again: domains added
        through the API are admin-verified."""
        spec, org_id = desired.spec, self.require_id(live)
        if (
            live.observed.get("unkeyed")
            or live.spec.get("name") != spec["name"]
            or live.spec.get("metadata") != spec["metadata"]
        ):
            await self.http.send_json(
                "PATCH",
                f"{API}/organizations/{self.seg(org_id)}",
                {
                    "display_name": spec["name"],
                    "external_id": desired.key,
                    "metadata": dict(spec["metadata"]),
                },
            )
        self.ids[Kind.ORGANIZATION][desired.key] = org_id
        self._org_keys[org_id] = desired.key
        have = {d["domain"]: d["state"] for d in live.spec.get("domains") or []}
        want = {d["domain"]: d["state"] for d in spec["domains"]}
        domain_ids: Mapping[str, str] = live.observed.get("domain_ids") or {}
        for domain, state in sorted(have.items()):
            stale = state == "pending" and want.get(domain) == "verified"
            if (domain not in want or stale) and domain in domain_ids:
                await self.http.send_json(
                    "DELETE",
                    f"{API}/organizations/{self.seg(org_id)}/domains/{self.seg(domain_ids[domain])}",
                )
        for domain, state in sorted(want.items()):
            if domain not in have or (have[domain] == "pending" and state == "verified"):
                await self._add_domain(org_id, domain)

    def plan_caveats(self, desired: Sequence[Resource]) -> list[str]:
        """What Scalekit will not carry, counted before anything is written (users counted
        on disk, in the directory the read loaded)."""
        return plan_caveats(desired, self.desired_directory(desired))

    async def authenticate(self, email: str, password: str) -> ProbeResult:
        return ProbeResult(
            False,
            "Scalekit has no API to sign a user in with a password (its hosted login page does "
            "that), so password logins cannot be verified against Scalekit",
        )


def _page_tokens(path: str) -> Callable[[Any], str | None]:
    """``next_page_token`` of each page; a token seen twice, or more pages than MAX_PAGES,
    stops the walk with an error instead of looping."""
    seen: set[str] = set()

    def next_token(page: Any) -> str | None:
        token = page.get("next_page_token") if isinstance(page, dict) else None
        if not token:
            return None
        if token in seen or len(seen) >= MAX_PAGES:
            raise ProviderError(f"Scalekit: GET {path} kept returning more pages; stopped")
        seen.add(token)
        return str(token)

    return next_token


def _reported_domain_state(domain: Mapping[str, Any], declared: str | None) -> str:
    """A domain's state as compared. Scalekit verifies every domain added through its API,
    so a domain the manifest declares ``pending`` is satisfied by a verified one (Scalekit
    is stricter than asked, never looser); a pending one declared verified is a real diff."""
    state = "verified" if domain.get("verification_status") in VERIFIED_STATUSES else "pending"
    return "pending" if declared == "pending" else state


def _user_spec(user: Mapping[str, Any], desired: DesiredUser | None) -> dict[str, Any]:
    profile = user.get("user_profile") or {}
    verified = bool(profile.get("email_verified"))
    email = str(user["email"])
    if desired is not None:
        # Not comparable: Scalekit verifies users created without an invitation email and
        # no API field sets it, so the live side reports what was asked (see plan_caveats).
        verified = desired.email_verified
        # Addresses compare without case (as Scalekit's uniqueness does): a change of case
        # alone must never plan a replace, which would delete the user.
        if email.lower() == desired.email.lower():
            email = desired.email
    return {
        "email": email,
        "first_name": profile.get("given_name") or profile.get("first_name") or "",
        "last_name": profile.get("family_name") or profile.get("last_name") or "",
        "email_verified": verified,
    }


def _only(keys: Sequence[str]) -> str | None:
    """The one key of ``keys``; None when there are none or several (ambiguous)."""
    return keys[0] if len(keys) == 1 else None


def _membership(user: Resource, pending: PendingMembership) -> Resource:
    """A desired membership of ``user`` as a Resource (for what a write's error names)."""
    spec = {"user": user.key, "organization": pending.organization, "role": pending.role}
    return Resource(Kind.MEMBERSHIP, pending.key, spec)


def _role_names(membership: Mapping[str, Any]) -> str:
    """A membership's role as authform holds it: one role name. Several (set elsewhere) show
    joined with commas, so the plan replaces them with the one role the manifest names."""
    names = sorted(str(r.get("name")) for r in membership.get("roles") or [] if r.get("name"))
    return ",".join(names)


def _roles_body(role: str) -> list[dict[str, str]]:
    return [{"name": role}] if role else []


def _has_membership(user: Mapping[str, Any], org_id: str) -> bool:
    return any(m.get("organization_id") == org_id for m in user.get("memberships") or [])


def _required(value: Any, desired: Resource) -> str:
    if not isinstance(value, str) or not value:
        raise answer_error("the answer has no 'id' field", f"creating {desired.address}")
    return value


def _membership_ids(live: Resource) -> tuple[str, str]:
    """(organization id, user id) of a live membership, as its read observed them."""
    return str(live.observed["organization_id"]), str(live.observed["user_id"])
