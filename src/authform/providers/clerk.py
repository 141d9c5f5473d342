"""Clerk: maps authform's canonical kinds onto one Clerk instance's Backend API (``/v1``).

API facts are in shared/reference/provider-apis.md §B and Clerk's OpenAPI document
(``reference/openapi/clerk-bapi-2026-05-12.yml``); the emulator in ``authform.emulators.clerk``
honours the same contract and is checked with the official ``clerk-backend-api`` SDK.

A Clerk *instance* (development, staging, production) is one target: its secret key says
which, and the same manifests keep every instance in step. How each kind maps, and why:

- Organization permissions and roles, keyed by their Clerk ``key`` (``org:billing:manage``,
  ``org:admin``). Roles name permissions by key; Clerk wants ids, which this module resolves.
  Clerk's own system permissions (``org:sys_…``) are neither listed nor touched: a role's
  system permissions stay as they are, and only the permissions the team defines are
  compared and assigned or removed, one by one.
- Organizations are keyed by their **slug**. Clerk enforces slugs unique per instance, so two
  CI jobs that race to create the same organization converge on one (the loser's create is
  refused and finds the winner), and the same slug names the same organization in the
  development and the production instance. The manifest's ``metadata`` is the organization's
  ``public_metadata`` (replaced whole, so keys removed from the manifest go); its private
  metadata is the application's and is never read or written. Domains are read for the whole
  instance in one listing (``GET /organization_domains``); ``state: verified`` is a domain
  whose (affiliation) verification is ``verified``.
- Redirect URLs have no update endpoint; the URL is the key, so a change is a delete and a
  create.
- Allowed origins are one list on the instance: ``GET /instance`` reads it back and
  ``PATCH /instance {allowed_origins}`` replaces it. Each origin is one item; adding or
  removing one re-reads the list and writes it back under a lock, so concurrent changes in
  one apply never overwrite each other (a person editing the list in the same second still
  can: Clerk offers no compare-and-set).
- Social connections are dashboard-only. The plan gives the dashboard steps and the redirect
  URI to register with the OAuth provider (the instance's Frontend API ``/v1/oauth_callback``,
  found through ``GET /domains``). ``plan`` and ``verify`` read the public Frontend API's
  ``GET /v1/environment``, which says whether each connection is *enabled*; no Clerk API says
  which OAuth client id it uses, so that is not checked, and the plan says so.
- Users are keyed by ``external_id`` and imported with their ``password_digest`` and
  ``password_hasher``. ``email_verified: false`` creates the address *reserved* (unverified
  but usable for sign-in, and locked to the user), which reads back as unverified.
- Memberships are read instance-wide (``GET /organization_memberships``, one listing) and
  changed per organization and user; only the role changes in place.

Every request carries ``Clerk-API-Version: 2026-05-12`` (the shapes parsed here) and goes
through the one Clerk API client (``authform.apis.clerk``, shared with the ``clerk-api``
source): Clerk's documented limit per secret key (100 requests per
10 s for a development ``sk_test_`` key, 1,000 for a production ``sk_live_`` key),
``Retry-After`` on 429, retries on 5xx and timeouts, HTTPS only (loopback excepted).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Container, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from authform.apis.clerk import DEFAULT_BASE_URL, clerk_api_client, rate_limit_for_key
from authform.providers.api_provider import (
    ApiProvider,
    KindHandlers,
    ManualSteps,
    window_limiters,
    with_provider_id,
)
from authform.providers.base import KindSupport, ProbeResult, ProviderError, api_capabilities
from authform.providers.dashboard_steps import SocialLoginSteps
from authform.providers.desired_directory import DesiredDirectory
from authform.providers.http import RateLimit, require_secure_base_url
from authform.providers.ids import remembering
from authform.resources import (
    Kind,
    Resource,
    membership_key,
    normalize_spec,
    of_kind,
    unkeyed_key,
)
from authform.social import CLERK_STRATEGIES, SOCIAL_PROVIDERS

DASHBOARD = "https://dashboard.clerk.com"
# The largest page every list endpoint accepts (the document's LimitParameter maximum).
PAGE_SIZE = 500
# A hard stop for every pagination loop: 10,000 pages of 500 is five million items, far past
# any instance; a server still answering full pages past that is misbehaving.
MAX_PAGES = 10_000
SYSTEM_PERMISSION_PREFIX = "org:sys_"
PERMISSIONS = "/organization_permissions"
ROLES = "/organization_roles"
# The least-privileged enrollment mode: nobody joins through the domain without an invite.
# Enrollment is not in the manifest; this is what a new domain gets.
NEW_DOMAIN_ENROLLMENT = "manual_invitation"
# Create answers that may mean "it exists already" (a lost answer, a parallel run); the
# module then looks the item up by its key before believing the error.
CONFLICT_STATUSES = frozenset({400, 409, 422})

SOCIAL_LOGIN = SocialLoginSteps(
    enable="In the Clerk Dashboard ({dashboard}), select this application and the {instance} "
    "instance, open Configure → SSO connections, choose Add connection → For all users → "
    "{label}, and enable it.",
    own_client="Turn on 'Use custom credentials'",
    callback="At {label}, add {callback}",
    confirm="it reads the instance's Frontend API and expects {label} ({strategy}) to be enabled",
    disable="In the Clerk Dashboard ({dashboard}), open Configure → SSO connections for the "
    "{instance} instance and remove {label}.",
)

CAPABILITIES = api_capabilities(
    "clerk",
    {
        # No update endpoint: the URL is the key, so a change is a delete and a create.
        Kind.REDIRECT_URI: KindSupport(update=False),
        # One list on the instance; an origin is its own key.
        Kind.CORS_ORIGIN: KindSupport(update=False),
    },
)


class ClerkProvider(ApiProvider):
    label = "Clerk"
    dashboard = DASHBOARD
    capabilities = CAPABILITIES
    conflict_statuses = CONFLICT_STATUSES
    path_safe = ""  # ids and slugs only: nothing in a path needs to stay readable

    def __init__(
        self,
        *,
        secret_key: str,
        base_url: str = DEFAULT_BASE_URL,
        max_concurrency: int = 16,
        rate_limits: Mapping[str, RateLimit] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        """``page_size`` (default and maximum 500) exists so tests can cross page boundaries
        with a few items."""
        if not 1 <= page_size <= PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {PAGE_SIZE}")
        super().__init__()
        self._page_size = page_size
        secret_key = secret_key.strip()
        if not secret_key.startswith("sk_"):
            hint = " (that looks like a publishable key)" if secret_key.startswith("pk_") else ""
            raise ProviderError(
                "target.api_key must be the Clerk secret key of the instance, sk_test_… or "
                f"sk_live_…{hint}"
            )
        limiters = window_limiters(
            "Clerk", {"instance": rate_limit_for_key(secret_key)}, rate_limits
        )
        self._limiter = limiters["instance"]
        self._transport = transport
        self.http = clerk_api_client(
            secret_key,
            base_url,
            label="Clerk",
            limiter=self._limiter,
            max_concurrency=max_concurrency,
            transport=transport,
        )
        # ``self.ids`` (the base's): natural key → Clerk id, filled by reads and creates, so a
        # role can name permissions and a membership its user and organization created earlier
        # in the same apply.
        self._unkeyed_emails: dict[str, str] = {}
        self._origins_lock = asyncio.Lock()
        self.instance: dict[str, Any] = {}
        self.frontend_api_url: str | None = None
        self._social_probe_problem: str | None = None
        self.handlers = {
            Kind.PERMISSION: KindHandlers(
                self._create_permission,
                self._update_permission,
                self.delete_by_id(PERMISSIONS),
            ),
            Kind.ROLE: KindHandlers(self._create_role, self._update_role, self.delete_by_id(ROLES)),
            Kind.ORGANIZATION: KindHandlers(
                self._create_organization,
                self._update_organization,
                self.delete_by_id("/organizations"),
            ),
            # No update endpoint: the URL is the key, so a change is a delete and a create.
            Kind.REDIRECT_URI: KindHandlers(
                create=self._create_redirect_url, delete=self.delete_by_id("/redirect_urls")
            ),
            Kind.CORS_ORIGIN: KindHandlers(create=self._create_origin, delete=self._delete_origin),
            Kind.USER: KindHandlers(
                self._create_user, self._update_user, self.delete_by_id("/users")
            ),
            Kind.MEMBERSHIP: KindHandlers(
                self._create_membership, self._update_membership, self._delete_membership
            ),
        }
        self.manual_steps = {
            Kind.SOCIAL_CONNECTION: ManualSteps(
                add=self._enable_social_connection, remove=self._remove_social_connection
            )
        }

    # ---- pagination ------------------------------------------------------------------------

    async def _offset_items(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every item of a ``{data, total_count}`` list, oldest first (``_offset_pages``)."""
        async for page in self._offset_pages(path, params):
            for item in page:
                yield item

    async def _offset_pages(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Every page of a ``{data, total_count}`` list, oldest first, by ``offset``.

        Oldest first (``+created_at``) so an item created during the walk lands after the
        pages not yet read instead of shifting them.
        """
        seen = 0
        for _ in range(MAX_PAGES):
            query = {"order_by": "+created_at", **(params or {})}
            query.update(limit=self._page_size, offset=seen)
            page = await self.http.get_json(path, query)
            data = page.get("data") if isinstance(page, Mapping) else None
            if not isinstance(data, list):
                raise ProviderError(f"Clerk: GET {path} answered no data list")
            yield data
            seen += len(data)
            total = page.get("total_count")
            if len(data) < self._page_size or (isinstance(total, int) and seen >= total):
                return
        raise ProviderError(f"Clerk: GET {path} kept returning full pages; stopped")

    async def _offset_list(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """``_offset_items`` collected: for lists that stay small (roles, a new
        organization's domains)."""
        return [item async for item in self._offset_items(path, params)]

    async def _array_items(
        self, path: str, params: Mapping[str, Any], cursor_field: str | None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every item of a list answered as a bare array, a page at a time: by the
        ``starting_after`` cursor when ``cursor_field`` names it (users), else by ``offset``;
        ends on a short page."""
        seen = 0
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            query = {**params, "limit": self._page_size}
            if cursor_field is None:
                query["offset"] = seen
            elif cursor is not None:
                query[cursor_field] = cursor
            page = await self.http.get_json(path, query)
            if not isinstance(page, list):
                raise ProviderError(f"Clerk: GET {path} answered something other than a list")
            for item in page:
                yield item
            seen += len(page)
            if len(page) < self._page_size:
                return
            cursor = str(page[-1].get("id"))
        raise ProviderError(f"Clerk: GET {path} kept returning full pages; stopped")

    async def _redirect_urls(self) -> list[dict[str, Any]]:
        return [u async for u in self._array_items("/redirect_urls", {"paginated": "true"}, None)]

    # ---- reading ---------------------------------------------------------------------------

    async def read_stream(
        self, kinds: Iterable[Kind], desired: Iterable[Resource]
    ) -> AsyncIterator[Resource]:
        """The live resources of ``kinds``, yielded as they are read: organizations, users
        and memberships a page at a time. Nothing that grows with the users is held: the
        desired side the read matches against is looked up on disk (``desired_directory``),
        the ids writes need go to ``self.ids``."""
        wanted = set(kinds)
        # The instance answers what kind it is (development or production), which the plan
        # names, and holds the allowed origins.
        self.instance = await self.http.get_json("/instance") or {}
        directory = None
        if wanted & {Kind.ORGANIZATION, Kind.USER, Kind.MEMBERSHIP}:
            directory = self.desired_directory(desired, reload=True)
        if Kind.PERMISSION in wanted or Kind.ROLE in wanted:
            permissions = await self._read_keyed(
                Kind.PERMISSION, PERMISSIONS, _permission_spec, _is_system_permission
            )
            if Kind.PERMISSION in wanted:
                for resource in permissions:
                    yield resource
        if Kind.ROLE in wanted:
            for resource in await self._read_keyed(Kind.ROLE, ROLES, _role_spec):
                yield resource
        if Kind.ORGANIZATION in wanted or Kind.MEMBERSHIP in wanted:
            async for resource in self._read_organizations(desired):
                if Kind.ORGANIZATION in wanted:  # else read only to fill the id index
                    yield resource
        if Kind.REDIRECT_URI in wanted:
            for u in await self._redirect_urls():
                yield Resource(Kind.REDIRECT_URI, u["url"], {"uri": u["url"]}, provider_id=u["id"])
        if Kind.CORS_ORIGIN in wanted:
            for resource in self._allowed_origins(self.instance.get("allowed_origins")):
                yield resource
        if Kind.SOCIAL_CONNECTION in wanted:
            social = list(of_kind(desired, Kind.SOCIAL_CONNECTION))
            for resource in await self._probe_social_connections(social):
                yield resource
        if directory is not None and (Kind.USER in wanted or Kind.MEMBERSHIP in wanted):
            async for resource in self._read_users(directory):
                if Kind.USER in wanted:
                    yield resource
        if directory is not None and Kind.MEMBERSHIP in wanted:
            async for resource in self._read_memberships(directory):
                yield resource

    async def _read_keyed(
        self,
        kind: Kind,
        path: str,
        spec_of: Callable[[Mapping[str, Any]], dict[str, Any]],
        clerks_own: Callable[[Mapping[str, Any]], bool] = lambda item: False,
    ) -> list[Resource]:
        """Permissions or roles, keyed by their Clerk ``key``. Every id is remembered (a role
        names its permissions by id), but what is ``clerks_own`` (its system permissions) is
        not listed: it is never the team's."""
        live = []
        async for item in self._offset_items(path):
            key = str(item["key"])
            self.ids[kind][key] = item["id"]
            if not clerks_own(item):
                live.append(Resource(kind, key, spec_of(item), provider_id=item["id"]))
        return live

    async def _read_organizations(self, desired: Iterable[Resource]) -> AsyncIterator[Resource]:
        """Organizations a page at a time, each with its domains. The domains are one
        instance-wide listing, grouped by organization first (organizations are a twentieth
        of the users in an import, and most have none or one domain)."""
        domains: dict[str, list[dict[str, Any]]] = {}
        async for domain in self._offset_items("/organization_domains"):
            domains.setdefault(str(domain.get("organization_id")), []).append(domain)
        # Only the manifest declares a membership limit: its organizations, not the source's.
        limited = {
            r.key
            for r in of_kind(desired, Kind.ORGANIZATION)
            if "max_allowed_memberships" in r.spec
        }
        with remembering(self.ids, Kind.ORGANIZATION) as remember:
            async for org in self._offset_items("/organizations"):
                resource = _organization_resource(org, domains.pop(str(org["id"]), []), limited)
                if not resource.observed.get("unkeyed"):
                    remember(resource.key, org["id"])
                yield resource

    def _allowed_origins(self, origins: Any) -> list[Resource]:
        """One resource per origin, keyed as the manifest normalizes origins; the raw values
        that normalize to it are kept so a delete removes exactly those."""
        raw_by_key: dict[str, list[str]] = {}
        for raw in origins if isinstance(origins, list) else []:
            raw_by_key.setdefault(_origin_key(str(raw)), []).append(str(raw))
        return [
            Resource(Kind.CORS_ORIGIN, key, {"origin": key}, observed={"raw": raw})
            for key, raw in raw_by_key.items()
        ]

    async def _read_users(self, directory: DesiredDirectory) -> AsyncIterator[Resource]:
        users = self._array_items("/users", {"order_by": "+created_at"}, "starting_after")
        with remembering(self.ids, Kind.USER) as remember:
            async for user in users:
                external_id = user.get("external_id")
                key = str(external_id) if external_id else unkeyed_key(user["id"], "key")
                remember(key, user["id"])
                # An unkeyed user is compared with the desired user of its address (the one
                # the plan may adopt it as), so a difference of case alone does not stop
                # adoption.
                if external_id:
                    counterpart = directory.user(key)
                else:
                    matches = directory.user_keys_with_email(_primary_email(user))
                    counterpart = directory.user(matches[0]) if matches else None
                spec = _user_spec(user, None if counterpart is None else counterpart.email)
                if not external_id:
                    self._unkeyed_emails[key] = spec["email"]
                yield Resource(
                    Kind.USER,
                    key,
                    spec,
                    provider_id=user["id"],
                    observed={
                        "unkeyed": not external_id,
                        "password_enabled": bool(user.get("password_enabled")),
                    },
                )

    def _adoptable_user_keys(self, directory: DesiredDirectory) -> dict[str, str]:
        """Clerk id → desired key for live users without an external_id that the plan will
        adopt (exactly one desired user with that email), so their memberships compare under
        the key they are about to get instead of as a delete plus a create. Only the users
        made by hand are held, not every user."""
        adoptable = {}
        for key, email in self._unkeyed_emails.items():
            provider_id = self.ids[Kind.USER].get(key)
            matches = directory.user_keys_with_email(email)
            if provider_id is not None and len(matches) == 1:
                adoptable[provider_id] = matches[0]
        return adoptable

    async def _read_memberships(self, directory: DesiredDirectory) -> AsyncIterator[Resource]:
        """Memberships of the organizations the manifest and its source name, from one
        instance-wide listing (one request per 500 memberships, not one walk per
        organization), yielded a page at a time."""
        adoptable = self._adoptable_user_keys(directory)
        named = directory.named_organizations()
        async for page in self._offset_pages("/organization_memberships"):
            ends = [
                (
                    str((m.get("organization") or {}).get("id") or ""),
                    (m.get("public_user_data") or {}).get("user_id"),
                )
                for m in page
            ]
            # The page's organizations' and users' keys in two lookups, not two per item.
            org_keys = self.ids.keys_for(Kind.ORGANIZATION, [o for o, _ in ends if o])
            user_keys = self.ids.keys_for(Kind.USER, [str(u) for _, u in ends if u])
            for m, (org_id, user_id) in zip(page, ends, strict=True):
                org_key = org_keys.get(org_id) if org_id else None
                if org_key is None or org_key not in named or not user_id:
                    continue
                user_key = (
                    adoptable.get(user_id)
                    or user_keys.get(str(user_id))
                    or unkeyed_key(user_id, "key")
                )
                yield Resource(
                    Kind.MEMBERSHIP,
                    membership_key(user_key, org_key),
                    {"user": user_key, "organization": org_key, "role": str(m.get("role", ""))},
                    provider_id=m["id"],
                    observed={"organization_id": org_id, "user_id": user_id},
                )

    # ---- social connections (dashboard-only): the Frontend API probe ------------------------

    async def _probe_social_connections(self, desired: Sequence[Resource]) -> list[Resource]:
        """The desired social connections that the instance has enabled.

        Clerk's public Frontend API answers ``GET /v1/environment`` with
        ``user_settings.social``: per OAuth strategy, whether it is enabled. Nothing in any
        Clerk API names the OAuth client id a connection uses, so an enabled connection is
        reported with the manifest's client id and ``plan_caveats`` says it was not checked.
        """
        self._social_probe_problem = None
        if not desired:
            return []
        social = await self._frontend_social_settings()
        if social is None:
            return []
        live = []
        for resource in desired:
            strategy = CLERK_STRATEGIES[resource.key]
            entry = social.get(strategy)
            if isinstance(entry, Mapping) and entry.get("enabled") is True:
                live.append(
                    Resource(
                        Kind.SOCIAL_CONNECTION,
                        resource.key,
                        {"provider": resource.key, "client_id": resource.spec["client_id"]},
                        observed={
                            "probe": f"{SOCIAL_PROVIDERS[resource.key].label} ({strategy}) is "
                            "enabled in the instance's Frontend API environment; its client id "
                            "cannot be read from Clerk and is not checked"
                        },
                    )
                )
        return live

    async def _frontend_social_settings(self) -> Mapping[str, Any] | None:
        """``user_settings.social`` from the Frontend API, or None (with the reason kept for
        the plan) when the instance's Frontend API cannot be found or read."""
        try:
            body = await self.http.get_json("/domains")
        except ProviderError as exc:
            self._social_probe_problem = f"GET /domains failed: {exc}"
            return None
        domains = [d for d in (body or {}).get("data") or [] if isinstance(d, Mapping)]
        primary = next((d for d in domains if not d.get("is_satellite")), None)
        url = primary.get("frontend_api_url") if primary else None
        if not isinstance(url, str) or not url:
            self._social_probe_problem = "GET /domains named no Frontend API URL"
            return None
        try:
            self.frontend_api_url = require_secure_base_url(url)
        except ProviderError as exc:
            self._social_probe_problem = str(exc)
            return None
        # The Frontend API is public: no secret key goes there, only a plain GET.
        async with httpx.AsyncClient(
            timeout=15.0,
            transport=self._transport,
            follow_redirects=False,
            headers={"User-Agent": "authform", "Accept": "application/json"},
        ) as client:
            try:
                response = await client.get(f"{self.frontend_api_url}/v1/environment")
            except httpx.HTTPError as exc:
                self._social_probe_problem = (
                    f"the Frontend API at {self.frontend_api_url} did not answer "
                    f"({type(exc).__name__})"
                )
                return None
        if response.status_code != 200:
            self._social_probe_problem = (
                f"the Frontend API at {self.frontend_api_url} answered HTTP "
                f"{response.status_code} to GET /v1/environment"
            )
            return None
        try:
            social = response.json().get("user_settings", {}).get("social")
        except (ValueError, AttributeError):
            social = None
        if not isinstance(social, Mapping):
            self._social_probe_problem = (
                f"the Frontend API at {self.frontend_api_url} answered no user_settings.social"
            )
            return None
        return social

    # ---- writing ---------------------------------------------------------------------------

    # ---- permissions and roles

    async def _find_by_key(self, path: str, key: str) -> dict[str, Any] | None:
        """The permission or role with exactly ``key`` (``query`` matches keys partially)."""
        page = await self.http.get_json(path, {"query": key, "limit": PAGE_SIZE})
        for item in page.get("data") or []:
            if item.get("key") == key:
                found: dict[str, Any] = item
                return found
        return None

    async def _create_permission(self, desired: Resource) -> Resource:
        spec = desired.spec
        created, existed = await self.create_converging(
            PERMISSIONS,
            {"name": spec["name"], "key": desired.key, "description": spec["description"]},
            lambda: self._find_by_key(PERMISSIONS, desired.key),
        )
        live = await self.converged(desired, created, existed, self._update_permission)
        self.ids[Kind.PERMISSION][desired.key] = created["id"]
        return live

    async def _update_permission(self, live: Resource, desired: Resource) -> None:
        await self.http.send_json(
            "PATCH",
            f"{PERMISSIONS}/{self.seg(self.require_id(live))}",
            {"name": desired.spec["name"], "description": desired.spec["description"]},
        )

    def _permission_ids(self, role: Resource, keys: Iterable[str]) -> list[str]:
        ids = []
        for key in keys:
            permission_id = self.ids[Kind.PERMISSION].get(key)
            if permission_id is None:
                raise ProviderError(
                    f"Clerk: {role.address}: permission {key} does not exist in this instance "
                    "(define it under permissions, or create it in the dashboard)"
                )
            ids.append(permission_id)
        return ids

    async def _create_role(self, desired: Resource) -> Resource:
        spec = desired.spec
        permission_ids = self._permission_ids(desired, spec["permissions"])
        body = {
            "name": spec["name"],
            "key": desired.key,
            "description": spec["description"],
            "permissions": permission_ids,
            # Without it a new role is in no role set, and organizations could not use it.
            "include_in_initial_role_set": True,
        }
        created, existed = await self.create_converging(
            ROLES, body, lambda: self._find_by_key(ROLES, desired.key)
        )
        if existed:
            current = Resource(Kind.ROLE, desired.key, _role_spec(created), created["id"])
            await self._update_role(current, desired)
        self.ids[Kind.ROLE][desired.key] = created["id"]
        return with_provider_id(desired, created["id"])

    async def _update_role(self, live: Resource, desired: Resource) -> None:
        """Name and description by PATCH; permissions one by one, so the role's system
        permissions (which authform does not manage) are left as they are."""
        role_id = self.require_id(live)
        await self.relabel("PATCH", f"{ROLES}/{self.seg(role_id)}", live, desired)
        have, want = set(live.spec["permissions"]), set(desired.spec["permissions"])
        for permission_id in self._permission_ids(desired, sorted(want - have)):
            path = f"{ROLES}/{self.seg(role_id)}/permissions/{self.seg(permission_id)}"
            try:
                await self.http.send_json("POST", path)
            except ProviderError as exc:
                if exc.status != 409:  # 409: assigned already (a parallel run)
                    raise
        for key in sorted(have - want):
            removed_id = self.ids[Kind.PERMISSION].get(key)
            if removed_id is None:
                continue  # gone from the instance: nothing to remove
            path = f"{ROLES}/{self.seg(role_id)}/permissions/{self.seg(removed_id)}"
            await self.http.send_json("DELETE", path)
        self.ids[Kind.ROLE][desired.key] = role_id

    # ---- organizations

    async def _create_organization(self, desired: Resource) -> Resource:
        spec = desired.spec
        body: dict[str, Any] = {
            "name": spec["name"],
            "slug": desired.key,
            "public_metadata": dict(spec["metadata"]),
        }
        if "max_allowed_memberships" in spec:
            body["max_allowed_memberships"] = spec["max_allowed_memberships"]
        # The slug is the key: an organization holding it is this one (an earlier run's create
        # whose answer was lost, or a parallel run's). Converge on it.
        created, existed = await self.create_converging(
            "/organizations", body, lambda: self._organization_by_slug(desired.key)
        )
        if existed:
            domains = await self._offset_list(f"/organizations/{self.seg(created['id'])}/domains")
            limited = {desired.key} if "max_allowed_memberships" in spec else set()
            current = _organization_resource(created, domains, limited)
            await self._update_organization(current, desired)
            return with_provider_id(desired, created["id"])
        self.ids[Kind.ORGANIZATION][desired.key] = created["id"]
        for domain in spec["domains"]:
            await self._add_domain(created["id"], domain)
        return with_provider_id(desired, created["id"])

    async def _organization_by_slug(self, slug: str) -> dict[str, Any] | None:
        found = await self.get_or_none(f"/organizations/{self.seg(slug)}")
        return found if found is not None and found.get("slug") == slug else None

    async def _update_organization(self, live: Resource, desired: Resource) -> None:
        org_id = self.require_id(live)
        spec, current = desired.spec, live.spec
        patch: dict[str, Any] = {}
        if current["name"] != spec["name"]:
            patch["name"] = spec["name"]
        if live.observed.get("unkeyed") or live.key != desired.key:
            patch["slug"] = desired.key  # adopting an organization that had no slug
        if (
            "max_allowed_memberships" in spec
            and current.get("max_allowed_memberships") != spec["max_allowed_memberships"]
        ):
            patch["max_allowed_memberships"] = spec["max_allowed_memberships"]
        if patch:
            await self.http.send_json("PATCH", f"/organizations/{self.seg(org_id)}", patch)
        if normalize_spec(current["metadata"]) != normalize_spec(spec["metadata"]):
            # PUT replaces public_metadata whole (keys the manifest dropped go) and leaves the
            # application's private_metadata alone.
            await self.http.send_json(
                "PUT",
                f"/organizations/{self.seg(org_id)}/metadata",
                {"public_metadata": dict(spec["metadata"])},
            )
        have = {d["domain"]: d["state"] for d in current["domains"]}
        want = {d["domain"]: d["state"] for d in spec["domains"]}
        domain_ids: Mapping[str, str] = live.observed.get("domain_ids") or {}
        for name in sorted(set(have) - set(want)):
            await self.http.send_json(
                "DELETE", f"/organizations/{self.seg(org_id)}/domains/{self.seg(domain_ids[name])}"
            )
        for name, state in sorted(want.items()):
            if name not in have:
                await self._add_domain(org_id, {"domain": name, "state": state})
            elif have[name] != state:
                await self.http.send_json(
                    "PATCH",
                    f"/organizations/{self.seg(org_id)}/domains/{self.seg(domain_ids[name])}",
                    {"verified": state == "verified"},
                )
        self.ids[Kind.ORGANIZATION][desired.key] = org_id

    async def _add_domain(self, org_id: str, domain: Mapping[str, Any]) -> None:
        await self.http.send_json(
            "POST",
            f"/organizations/{self.seg(org_id)}/domains",
            {
                "name": domain["domain"],
                "enrollment_mode": NEW_DOMAIN_ENROLLMENT,
                "verified": domain["state"] == "verified",
            },
        )

    # ---- redirect URLs and allowed origins

    async def _create_redirect_url(self, desired: Resource) -> Resource:
        url = desired.spec["uri"]
        created, _ = await self.create_converging(
            "/redirect_urls", {"url": url}, lambda: self._find_redirect_url(url)
        )
        return with_provider_id(desired, created["id"])

    async def _find_redirect_url(self, url: str) -> dict[str, Any] | None:
        return next((item for item in await self._redirect_urls() if item.get("url") == url), None)

    async def _create_origin(self, desired: Resource) -> Resource:
        await self._change_origins(add=desired.key)
        return desired

    async def _delete_origin(self, live: Resource) -> None:
        await self._change_origins(remove=live.key)

    async def _change_origins(self, *, add: str | None = None, remove: str | None = None) -> None:
        """Add or remove one allowed origin: read the list, change it, write it whole.

        The lock keeps the changes of one apply (which run concurrently) from writing over
        each other; the fresh read keeps them from undoing a change made since the plan.
        """
        async with self._origins_lock:
            instance = await self.http.get_json("/instance") or {}
            current = [str(o) for o in instance.get("allowed_origins") or []]
            if remove is not None:
                updated = [o for o in current if _origin_key(o) != remove]
            else:
                updated = list(current)
            if add is not None and all(_origin_key(o) != add for o in updated):
                updated.append(add)
            if updated != current:
                await self.http.send_json("PATCH", "/instance", {"allowed_origins": updated})
            self.instance = {**instance, "allowed_origins": updated}

    # ---- users

    async def _create_user(self, desired: Resource) -> Resource:
        spec = desired.spec
        body: dict[str, Any] = {
            "external_id": desired.key,
            "email_address": [spec["email"]],
            "email_address_identification_status": [_identification_status(spec)],
        }
        for name in ("first_name", "last_name"):
            if spec.get(name):
                body[name] = spec[name]
        password = _password_fields(desired)
        if password:
            body.update(password)
        else:
            # Imported without a password: allowed even where passwords are required, so the
            # user signs in another way or resets it.
            body["skip_password_requirement"] = True
        try:
            created = await self.http.send_json("POST", "/users", body)
        except ProviderError as exc:
            # A create can land and lose its answer; the retry then finds the external id
            # (or the email) taken. If the holder carries our key, it is ours.
            existing = await self._user_by_external_id(desired.key) if exc.status else None
            if existing is None:
                raise
            created = existing
        self.ids[Kind.USER][desired.key] = created["id"]
        return with_provider_id(desired, created["id"])

    async def _user_by_external_id(self, external_id: str) -> dict[str, Any] | None:
        found = await self.http.get_json("/users", {"external_id": external_id, "limit": 1})
        if isinstance(found, list) and found and found[0].get("external_id") == external_id:
            user: dict[str, Any] = found[0]
            return user
        return None

    async def _update_user(self, live: Resource, desired: Resource) -> None:
        user_id = self.require_id(live)
        spec = desired.spec
        body: dict[str, Any] = {
            "first_name": spec["first_name"] or None,
            "last_name": spec["last_name"] or None,
            "external_id": desired.key,
        }
        if live.observed.get("unkeyed") and not live.observed.get("password_enabled"):
            # Adopting a user who exists without our key and has no password: carry the
            # imported digest over now (one with a password keeps it).
            body.update(_password_fields(desired))
        await self.http.send_json("PATCH", f"/users/{self.seg(user_id)}", body)
        if (live.spec["email"], live.spec["email_verified"]) != (
            spec["email"],
            spec["email_verified"],
        ):
            await self.http.send_json(
                "PUT",
                f"/users/{self.seg(user_id)}/email_address",
                {
                    "email_address": spec["email"],
                    "identification_status": _identification_status(spec),
                },
            )
        self.ids[Kind.USER][desired.key] = user_id

    # ---- memberships

    async def _create_membership(self, desired: Resource) -> Resource:
        spec = desired.spec
        user_id, org_id = self.member_ids(desired)
        path = f"/organizations/{self.seg(org_id)}/memberships"
        try:
            created = await self.http.send_json(
                "POST", path, {"user_id": user_id, "role": spec["role"]}
            )
        except ProviderError as exc:
            if exc.status != 400 or exc.code != "already_a_member_in_organization":
                raise
            # Already a member (an interrupted run, an adopted user): converge on its role.
            created = await self.http.send_json(
                "PATCH", f"{path}/{self.seg(user_id)}", {"role": spec["role"]}
            )
        return with_provider_id(
            desired, created["id"], {"organization_id": org_id, "user_id": user_id}
        )

    async def _update_membership(self, live: Resource, desired: Resource) -> None:
        await self.http.send_json(
            "PATCH", self._membership_path(live), {"role": desired.spec["role"]}
        )

    async def _delete_membership(self, live: Resource) -> None:
        await self.http.send_json("DELETE", self._membership_path(live))

    def _membership_path(self, live: Resource) -> str:
        org_id = live.observed.get("organization_id")
        user_id = live.observed.get("user_id")
        if not org_id or not user_id:
            raise ProviderError(f"Clerk: {live.address} has no Clerk organization or user id")
        return f"/organizations/{self.seg(str(org_id))}/memberships/{self.seg(str(user_id))}"

    # ---- what the plan and reports need ----------------------------------------------------

    def _enable_social_connection(self, desired: Resource) -> list[str]:
        callback = (
            f"{self.frontend_api_url}/v1/oauth_callback"
            if self.frontend_api_url
            else "https://<your Frontend API host>/v1/oauth_callback (the dashboard shows it)"
        )
        return SOCIAL_LOGIN.add(
            desired,
            dashboard=DASHBOARD,
            instance=self._instance_label(),
            callback=callback,
            strategy=CLERK_STRATEGIES[desired.key],
        )

    def _remove_social_connection(self, live: Resource) -> list[str]:
        return SOCIAL_LOGIN.remove(live, dashboard=DASHBOARD, instance=self._instance_label())

    def _instance_label(self) -> str:
        return str(self.instance.get("environment_type") or "target")

    def plan_caveats(self, desired: Sequence[Resource]) -> list[str]:
        caveats = []
        if self.instance:
            caveats.append(
                f"Clerk: the secret key belongs to the {self._instance_label()} instance "
                f"{self.instance.get('id', '(unknown id)')}."
            )
        social = sorted(r.key for r in desired if r.kind is Kind.SOCIAL_CONNECTION)
        if social:
            caveats.append(
                "Clerk: social connections are dashboard-only and no Clerk API reveals their "
                "OAuth client id; plan and verify check only that each is enabled (the "
                f"Frontend API's environment): {', '.join(social)}."
            )
        if social and self._social_probe_problem:
            caveats.append(
                "Clerk: the social connections could not be checked, so they are planned as "
                f"not enabled: {self._social_probe_problem}."
            )
        return caveats

    async def authenticate(self, email: str, password: str) -> ProbeResult:
        """A canary sign-in through ``POST /users/{id}/verify_password``: Clerk checks the
        password against the stored digest, whatever hasher it came with."""
        found = await self.http.get_json("/users", {"email_address": email, "limit": 1})
        if not isinstance(found, list) or not found:
            return ProbeResult(False, f"no Clerk user has the email address {email}")
        user_id = found[0]["id"]
        try:
            body = await self.http.send_json(
                "POST", f"/users/{self.seg(user_id)}/verify_password", {"password": password}
            )
        except ProviderError as exc:
            return ProbeResult(False, f"password check failed: {exc}")
        if not (isinstance(body, Mapping) and body.get("verified") is True):
            return ProbeResult(False, "Clerk did not confirm the password")
        return ProbeResult(True, f"password verified for user {user_id}")


# ---- shapes ---------------------------------------------------------------------------------


def _is_system_permission(permission: Mapping[str, Any]) -> bool:
    return permission.get("type") == "system" or str(permission.get("key", "")).startswith(
        SYSTEM_PERMISSION_PREFIX
    )


def _permission_spec(permission: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "slug": permission["key"],
        "name": permission.get("name") or "",
        "description": permission.get("description") or "",
    }


def _role_spec(role: Mapping[str, Any]) -> dict[str, Any]:
    return normalize_spec(
        {
            "slug": role["key"],
            "name": role.get("name") or "",
            "description": role.get("description") or "",
            "permissions": [
                p["key"] for p in role.get("permissions") or [] if not _is_system_permission(p)
            ],
        }
    )


def _organization_resource(
    org: Mapping[str, Any], domains: Sequence[Mapping[str, Any]], limited: Container[str]
) -> Resource:
    """A live organization keyed by its slug (unkeyed without one). Fields the manifest may
    or may not manage (``max_allowed_memberships``) are read back only where it names them."""
    slug = org.get("slug")
    key = str(slug) if slug else unkeyed_key(str(org["id"]), "key")
    spec: dict[str, Any] = {
        "name": org["name"],
        "domains": [{"domain": str(d["name"]).lower(), "state": _domain_state(d)} for d in domains],
        "metadata": dict(org.get("public_metadata") or {}),
    }
    if key in limited:
        spec["max_allowed_memberships"] = org.get("max_allowed_memberships") or 0
    return Resource(
        Kind.ORGANIZATION,
        key,
        normalize_spec(spec),
        provider_id=str(org["id"]),
        observed={
            "unkeyed": not slug,
            "domain_ids": {str(d["name"]).lower(): d["id"] for d in domains},
        },
    )


def _domain_state(domain: Mapping[str, Any]) -> str:
    verification = domain.get("affiliation_verification") or domain.get("verification") or {}
    return "verified" if verification.get("status") == "verified" else "pending"


def _origin_key(origin: str) -> str:
    """An origin as the manifest writes it: scheme and host in lower case, no default port.
    Other schemes (``chrome-extension://…``, ``capacitor://localhost``) stay as they are."""
    parts = urlsplit(origin.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return origin.strip()
    host = parts.hostname
    host = f"[{host}]" if ":" in host else host.lower()
    try:
        port = parts.port
    except ValueError:
        return origin.strip()
    default = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


def _primary_email(user: Mapping[str, Any]) -> str:
    primary_id = user.get("primary_email_address_id")
    for address in user.get("email_addresses") or []:
        if isinstance(address, Mapping) and address.get("id") == primary_id:
            return str(address.get("email_address") or "").lower()
    return ""


def _user_spec(user: Mapping[str, Any], desired_email: str | None) -> dict[str, Any]:
    primary_id = user.get("primary_email_address_id")
    addresses = [a for a in user.get("email_addresses") or [] if isinstance(a, Mapping)]
    primary = next((a for a in addresses if a.get("id") == primary_id), None)
    primary = primary or (addresses[0] if addresses else {})
    email = str(primary.get("email_address") or "")
    verification = primary.get("verification") or {}
    if desired_email is not None and email.lower() == desired_email.lower():
        # Addresses compare without case, as Clerk's uniqueness does: a change of case alone
        # is not worth replacing the user's address.
        email = desired_email
    return {
        "email": email,
        "first_name": user.get("first_name") or "",
        "last_name": user.get("last_name") or "",
        "email_verified": verification.get("status") == "verified",
    }


def _identification_status(spec: Mapping[str, Any]) -> str:
    """``verified``, or ``reserved``: unverified but usable for sign-in and locked to this
    user (``unverified`` would leave the user unable to sign in with it)."""
    return "verified" if spec.get("email_verified") else "reserved"


def _password_fields(desired: Resource) -> dict[str, Any]:
    if "password_hash" not in desired.create_only:
        return {}
    return {
        "password_digest": str(desired.create_only["password_hash"]),
        "password_hasher": str(desired.create_only.get("password_hash_type", "bcrypt")),
    }
