"""WorkOS: maps authform's canonical kinds onto the WorkOS REST API.

API facts (paths, shapes, limits) are in shared/reference/provider-apis.md §A; the emulator in
``authform.emulators.workos`` honours the same contract and is checked with the official SDK.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from authform.providers.base import (
    KindSupport,
    ProbeResult,
    ProviderCapabilities,
    ProviderError,
)
from authform.providers.http import ApiClient, RateLimit, WindowLimiter
from authform.providers.ids import MemoryIds, ProviderIds
from authform.providers.social_probe import probe_authorize, probed_connection
from authform.resources import (
    Kind,
    Resource,
    membership_key,
    normalize_spec,
    of_kind,
    unkeyed_key,
)
from authform.social import SOCIAL_PROVIDERS

DEFAULT_BASE_URL = "https://api.workos.com"

# WorkOS's documented limits (reference/rate-limits): 6,000 requests per 60 s per API key
# overall; AuthKit's /user_management/* adds 1,000 reads and 500 writes per 10 s.
GENERAL_LIMIT = RateLimit(6000, 60.0)
USER_MANAGEMENT_READS = RateLimit(1000, 10.0)
USER_MANAGEMENT_WRITES = RateLimit(500, 10.0)

CAPABILITIES = ProviderCapabilities(
    name="workos",
    support={
        Kind.PERMISSION: KindSupport(),
        # WorkOS has no API to delete an environment role.
        Kind.ROLE: KindSupport(delete=False),
        Kind.ORGANIZATION: KindSupport(),
        # A redirect URI is its own key, so there is never an in-place update.
        Kind.REDIRECT_URI: KindSupport(update=False),
        # CORS origins can be listed and created, not deleted.
        Kind.CORS_ORIGIN: KindSupport(update=False, delete=False),
        # Social connections are configured in the dashboard only.
        Kind.SOCIAL_CONNECTION: KindSupport(manual=True),
        Kind.USER: KindSupport(),
        # A membership is its (user, organization) pair: only the role changes in place.
        Kind.MEMBERSHIP: KindSupport(immutable_fields=frozenset({"user", "organization"})),
    },
)

DASHBOARD = "https://dashboard.workos.com"
# Answers to a create that may mean "it exists already" (WorkOS answers 409 for slugs, 400
# or 422 for a used external_id or email); the item is then looked up by its key.
CONFLICT_STATUSES = frozenset({400, 409, 422})
# Organizations whose memberships are read at once: enough to keep the connections busy,
# few enough that one batch's memberships are all that is held.
MEMBERSHIP_READ_BATCH = 32


def describe_workos_error(response: httpx.Response) -> tuple[str | None, str]:
    body = response.json()
    code = body.get("code") or body.get("error")
    message = body.get("message") or body.get("error_description") or response.reason_phrase
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        fields = ", ".join(
            f"{e.get('field') or e.get('property')}: {e.get('code') or e.get('constraints')}"
            for e in errors
            if isinstance(e, dict)
        )
        message = f"{message} ({fields})"
    return code, message


class WorkOSProvider:
    capabilities = CAPABILITIES

    def __init__(
        self,
        *,
        api_key: str,
        client_id: str | None,
        base_url: str = DEFAULT_BASE_URL,
        max_concurrency: int = 16,
        rate_limits: Mapping[str, RateLimit] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        limits = {
            "general": GENERAL_LIMIT,
            "user_management_reads": USER_MANAGEMENT_READS,
            "user_management_writes": USER_MANAGEMENT_WRITES,
        }
        unknown = sorted(set(rate_limits or {}) - set(limits))
        if unknown:
            raise ProviderError(
                f"target.rate_limits: unknown WorkOS bucket(s) {', '.join(unknown)} "
                f"(known: {', '.join(limits)})"
            )
        limits.update(rate_limits or {})
        self._limiters = {name: WindowLimiter(limit) for name, limit in limits.items()}
        self._api_key = api_key
        self.client_id = client_id
        # Natural key → WorkOS id, filled by reads and creates, so a membership can name a
        # user or organization created earlier in the same apply.
        # See ``authform.providers.ids``: the commands hand it one kept on disk.
        self.ids: ProviderIds = MemoryIds()
        self._unkeyed_emails: dict[str, str] = {}
        self.http = ApiClient(
            base_url,
            provider_name="WorkOS",
            headers=self._auth_headers,
            describe_error=describe_workos_error,
            limiters_for=self._limiters_for,
            max_concurrency=max_concurrency,
            transport=transport,
        )

    async def _auth_headers(self) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"}

    def _limiters_for(self, method: str, path: str) -> Sequence[WindowLimiter]:
        chosen = [self._limiters["general"]]
        if path.startswith("/user_management/") and path != "/user_management/authorize":
            bucket = "user_management_reads" if method == "GET" else "user_management_writes"
            chosen.append(self._limiters[bucket])
        return chosen

    async def aclose(self) -> None:
        await self.http.aclose()

    # ---- reading ---------------------------------------------------------------------------

    async def read(self, kinds: Iterable[Kind], desired: Sequence[Resource]) -> list[Resource]:
        return [resource async for resource in self.read_stream(kinds, desired)]

    async def read_stream(
        self, kinds: Iterable[Kind], desired: Iterable[Resource]
    ) -> AsyncIterator[Resource]:
        """The live resources of ``kinds``, yielded a page at a time (users and memberships
        are never held whole); the ids writes need are remembered in ``self.ids``."""
        wanted = set(kinds)
        if Kind.PERMISSION in wanted:
            for resource in await self._read_permissions():
                yield resource
        if Kind.ROLE in wanted:
            for resource in await self._read_roles():
                yield resource
        if Kind.ORGANIZATION in wanted or Kind.MEMBERSHIP in wanted:
            async for resource in self._read_organizations():
                if Kind.ORGANIZATION in wanted:  # else read only to fill the id index
                    yield resource
        redirect_uris: list[Resource] = []
        if Kind.REDIRECT_URI in wanted or Kind.SOCIAL_CONNECTION in wanted:
            redirect_uris = await self._read_redirect_uris()
        if Kind.REDIRECT_URI in wanted:
            for resource in redirect_uris:
                yield resource
        if Kind.CORS_ORIGIN in wanted:
            for resource in await self._read_cors_origins():
                yield resource
        if Kind.SOCIAL_CONNECTION in wanted:
            social = list(of_kind(desired, Kind.SOCIAL_CONNECTION))
            for resource in await self._probe_social_connections(social, redirect_uris):
                yield resource
        if Kind.USER in wanted or Kind.MEMBERSHIP in wanted:
            async for resource in self._read_users():
                if Kind.USER in wanted:
                    yield resource
        if Kind.MEMBERSHIP in wanted:
            org_keys = {str(r.spec["organization"]) for r in of_kind(desired, Kind.MEMBERSHIP)}
            org_keys |= {r.key for r in of_kind(desired, Kind.ORGANIZATION)}
            async for resource in self._read_memberships(org_keys, desired):
                yield resource

    def remember_ids_in(self, store: ProviderIds) -> None:
        """Keep the ids read and written in ``store`` (see ``authform.providers.ids``)."""
        self.ids = store

    async def _list(self, path: str) -> list[dict[str, Any]]:
        return [item async for item in self._stream(path)]

    def _stream(self, path: str, params: Mapping[str, Any] | None = None) -> AsyncIterator[Any]:
        return self.http.paginate_cursor(
            path,
            params,
            next_cursor=lambda page: (page.get("list_metadata") or {}).get("after"),
        )

    async def _read_permissions(self) -> list[Resource]:
        return [
            Resource(
                Kind.PERMISSION,
                p["slug"],
                {"slug": p["slug"], "name": p["name"], "description": p.get("description") or ""},
                provider_id=p["id"],
            )
            for p in await self._list("/authorization/permissions")
            if not p.get("system")  # built-in permissions are WorkOS's, not the team's
        ]

    async def _read_roles(self) -> list[Resource]:
        body = await self.http.get_json("/authorization/roles")
        return [
            _role_resource(r)
            for r in body.get("data", [])
            if r.get("type", "EnvironmentRole") == "EnvironmentRole"
        ]

    async def _read_organizations(self) -> AsyncIterator[Resource]:
        async for org in self._stream("/organizations"):
            spec = _organization_spec(org)
            external_id = org.get("external_id")
            if external_id:
                self.ids[Kind.ORGANIZATION][external_id] = org["id"]
            yield Resource(
                Kind.ORGANIZATION,
                external_id if external_id else unkeyed_key(org["id"]),
                spec,
                provider_id=org["id"],
                observed={"unkeyed": not external_id},
            )

    async def _read_users(self) -> AsyncIterator[Resource]:
        async for user in self._stream("/user_management/users"):
            external_id = user.get("external_id")
            key = external_id if external_id else unkeyed_key(user["id"])
            self.ids[Kind.USER][key] = user["id"]
            if not external_id:
                self._unkeyed_emails[key] = user["email"]
            yield Resource(
                Kind.USER,
                key,
                _user_spec(user),
                provider_id=user["id"],
                observed={"unkeyed": not external_id},
            )

    def _adoptable_user_keys(self, desired: Iterable[Resource]) -> dict[str, str]:
        """WorkOS id → desired key for live users without an external_id that the plan will
        adopt (the engine's rule: exactly one desired user with that email), so their
        memberships compare under the key they are about to get instead of looking like a
        delete plus a create of the same membership. Only the unkeyed users' emails are
        held (users made by hand), not every desired user's."""
        if not self._unkeyed_emails:
            return {}
        unkeyed_emails = set(self._unkeyed_emails.values())
        by_email: dict[str, list[str]] = {}
        for item in of_kind(desired, Kind.USER):
            if item.spec["email"] in unkeyed_emails:
                by_email.setdefault(item.spec["email"], []).append(item.key)
        adoptable = {}
        for key, email in self._unkeyed_emails.items():
            provider_id = self.ids[Kind.USER].get(key)
            if provider_id is not None and len(by_email.get(email, [])) == 1:
                adoptable[provider_id] = by_email[email][0]
        return adoptable

    async def _read_memberships(
        self, org_keys: set[str], desired: Iterable[Resource]
    ) -> AsyncIterator[Resource]:
        """Memberships of the organizations the manifest and its source name.

        WorkOS lists memberships per user or per organization only; per organization is far
        fewer requests for an import (hundreds of organizations, thousands of users). A batch
        of organizations is read concurrently (the shared client keeps within the rate
        limit), and each batch is yielded before the next is read.
        """
        adoptable = self._adoptable_user_keys(desired)
        org_ids = {
            key: org_id
            for key in sorted(org_keys)
            if (org_id := self.ids[Kind.ORGANIZATION].get(key)) is not None
        }

        def user_key(user_id: str) -> str:
            if user_id in adoptable:
                return adoptable[user_id]
            return self.ids.key_for(Kind.USER, user_id) or unkeyed_key(user_id)

        async def one_org(org_key: str, org_id: str) -> list[Resource]:
            items = []
            async for m in self._stream(
                "/user_management/organization_memberships",
                {"organization_id": org_id, "statuses": "active,pending"},
            ):
                key = user_key(m["user_id"])
                items.append(
                    Resource(
                        Kind.MEMBERSHIP,
                        membership_key(key, org_key),
                        {"user": key, "organization": org_key, "role": _role_slug(m)},
                        provider_id=m["id"],
                    )
                )
            return items

        pending = list(org_ids.items())
        for start in range(0, len(pending), MEMBERSHIP_READ_BATCH):
            batch = pending[start : start + MEMBERSHIP_READ_BATCH]
            pages = await asyncio.gather(*(one_org(k, i) for k, i in batch))
            for page in pages:
                for resource in page:
                    yield resource

    async def _read_redirect_uris(self) -> list[Resource]:
        return [
            Resource(Kind.REDIRECT_URI, r["uri"], {"uri": r["uri"]}, provider_id=r["id"])
            for r in await self._list("/user_management/redirect_uris")
        ]

    async def _read_cors_origins(self) -> list[Resource]:
        return [
            Resource(Kind.CORS_ORIGIN, c["origin"], {"origin": c["origin"]}, provider_id=c["id"])
            for c in await self._list("/user_management/cors_origins")
        ]

    async def _probe_social_connections(
        self, desired: Sequence[Resource], redirect_uris: Sequence[Resource]
    ) -> list[Resource]:
        """Social connections cannot be read through the API: probe each one's authorize URL.

        A configured connection answers with a redirect to the OAuth provider carrying the
        OAuth client id it was configured with; that client id is the live state.
        """
        live = []
        for resource in desired:
            result, client_id = await self.probe_social_connection(
                resource.key, [r.key for r in redirect_uris]
            )
            found = probed_connection(resource.key, result, client_id)
            if found is not None:
                live.append(found)
        return live

    async def probe_social_connection(
        self, provider: str, redirect_uris: Sequence[str]
    ) -> tuple[ProbeResult, str | None]:
        social = SOCIAL_PROVIDERS[provider]
        if not self.client_id:
            return ProbeResult(False, "target.client_id is not set, so nothing can be probed"), None
        if not redirect_uris:
            return ProbeResult(False, "no redirect URI is registered to probe with"), None
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uris[0],
            "provider": social.workos,
            "state": "authform-probe",
        }
        return await probe_authorize(self.http, "/user_management/authorize", params, social)

    # ---- writing ---------------------------------------------------------------------------

    async def create(self, desired: Resource) -> Resource:
        """Create one item. Every create converges: when WorkOS refuses it because the item
        exists (a retried create whose answer was lost, a run killed after it landed, another
        apply running at the same time), the item holding our key is ours, so it is taken
        and brought to the desired spec instead of failing."""
        spec = desired.spec
        if desired.kind is Kind.PERMISSION:
            body, existed = await self._create_converging(
                "/authorization/permissions",
                {"slug": spec["slug"], "name": spec["name"], "description": spec["description"]},
                lambda: self._get_or_none(f"/authorization/permissions/{_seg(desired.key)}"),
            )
            if existed and (body.get("name"), body.get("description") or "") != (
                spec["name"],
                spec["description"],
            ):
                await self.update(_with_id(desired, body["id"]), desired)
            return _with_id(desired, body["id"])
        if desired.kind is Kind.ROLE:
            body, existed = await self._create_converging(
                "/authorization/roles",
                {"slug": spec["slug"], "name": spec["name"], "description": spec["description"]},
                lambda: self._get_or_none(f"/authorization/roles/{_seg(desired.key)}"),
            )
            if existed:
                await self.update(_role_resource(body), desired)
            elif spec["permissions"]:
                await self._set_role_permissions(spec["slug"], spec["permissions"])
            return _with_id(desired, body["id"])
        if desired.kind is Kind.ORGANIZATION:
            body, existed = await self._create_converging(
                "/organizations",
                {**_organization_body(spec), "external_id": desired.key},
                lambda: self._get_or_none(f"/organizations/external_id/{_seg(desired.key)}"),
            )
            if existed and _organization_spec(body) != spec:
                await self.update(_with_id(desired, body["id"]), desired)
            self.ids[Kind.ORGANIZATION][desired.key] = body["id"]
            return _with_id(desired, body["id"])
        if desired.kind is Kind.REDIRECT_URI:
            body, _ = await self._create_converging(
                "/user_management/redirect_uris",
                {"uri": spec["uri"]},
                lambda: self._find_listed("/user_management/redirect_uris", "uri", spec["uri"]),
            )
            return _with_id(desired, body["id"])
        if desired.kind is Kind.USER:
            return await self._create_user(desired)
        if desired.kind is Kind.MEMBERSHIP:
            return await self._create_membership(desired)
        if desired.kind is Kind.CORS_ORIGIN:
            body, _ = await self._create_converging(
                "/user_management/cors_origins",
                {"origin": spec["origin"]},
                lambda: self._find_listed(
                    "/user_management/cors_origins", "origin", spec["origin"]
                ),
            )
            return _with_id(desired, body["id"])
        raise ProviderError(f"WorkOS: cannot create {desired.kind.value} through the API")

    async def _create_converging(
        self,
        path: str,
        body: Mapping[str, Any],
        find: Callable[[], Awaitable[dict[str, Any] | None]],
    ) -> tuple[dict[str, Any], bool]:
        """POST; when refused, look the item up by its key before believing the error.
        Returns (the item, whether it existed already)."""
        try:
            created: dict[str, Any] = await self.http.send_json("POST", path, body)
        except ProviderError as exc:
            if exc.status not in CONFLICT_STATUSES:
                raise
            existing = await find()
            if existing is None:
                raise
            return existing, True
        return created, False

    async def _get_or_none(self, path: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = await self.http.get_json(path)
        except ProviderError as exc:
            if exc.status == 404:
                return None
            raise
        return found

    async def _find_listed(self, path: str, field_name: str, value: str) -> dict[str, Any] | None:
        return next(
            (item for item in await self._list(path) if item.get(field_name) == value), None
        )

    async def update(self, live: Resource, desired: Resource) -> Resource:
        spec = desired.spec
        if desired.kind is Kind.PERMISSION:
            await self.http.send_json(
                "PATCH",
                f"/authorization/permissions/{_seg(desired.key)}",
                {"name": spec["name"], "description": spec["description"]},
            )
        elif desired.kind is Kind.ROLE:
            if (live.spec["name"], live.spec["description"]) != (spec["name"], spec["description"]):
                await self.http.send_json(
                    "PATCH",
                    f"/authorization/roles/{_seg(desired.key)}",
                    {"name": spec["name"], "description": spec["description"]},
                )
            if live.spec["permissions"] != spec["permissions"]:
                await self._set_role_permissions(desired.key, spec["permissions"])
        elif desired.kind is Kind.ORGANIZATION:
            # PUT replaces: name, the whole domain set and the whole metadata object, plus the
            # external_id (which is how an unkeyed organization is adopted).
            await self.http.send_json(
                "PUT",
                f"/organizations/{_seg(_require_id(live))}",
                {**_organization_body(spec), "external_id": desired.key},
            )
            self.ids[Kind.ORGANIZATION][desired.key] = _require_id(live)
        elif desired.kind is Kind.USER:
            body = _user_body(desired)
            if live.observed.get("unkeyed"):
                # Adopting a user who exists without our key: the hash was never set by us,
                # so carry it over now, as WorkOS's own Clerk importer does.
                body.update(_password_fields(desired))
            await self.http.send_json(
                "PUT", f"/user_management/users/{_seg(_require_id(live))}", body
            )
            self.ids[Kind.USER][desired.key] = _require_id(live)
        elif desired.kind is Kind.MEMBERSHIP:
            await self.http.send_json(
                "PUT",
                f"/user_management/organization_memberships/{_seg(_require_id(live))}",
                {"role_slug": spec["role"]},
            )
        else:
            raise ProviderError(f"WorkOS: cannot update {desired.kind.value} through the API")
        return _with_id(desired, _require_id(live))

    async def delete(self, live: Resource) -> None:
        if live.kind is Kind.PERMISSION:
            await self.http.send_json("DELETE", f"/authorization/permissions/{_seg(live.key)}")
        elif live.kind is Kind.ORGANIZATION:
            await self.http.send_json("DELETE", f"/organizations/{_seg(_require_id(live))}")
        elif live.kind is Kind.REDIRECT_URI:
            await self.http.send_json(
                "DELETE", f"/user_management/redirect_uris/{_seg(_require_id(live))}"
            )
        elif live.kind is Kind.USER:
            await self.http.send_json("DELETE", f"/user_management/users/{_seg(_require_id(live))}")
        elif live.kind is Kind.MEMBERSHIP:
            await self.http.send_json(
                "DELETE",
                f"/user_management/organization_memberships/{_seg(_require_id(live))}",
            )
        else:
            raise ProviderError(f"WorkOS: cannot delete {live.kind.value} through the API")

    async def _create_user(self, desired: Resource) -> Resource:
        body = {**_user_body(desired), **_password_fields(desired)}
        created, existed = await self._create_converging(
            "/user_management/users",
            body,
            lambda: self._get_or_none(f"/user_management/users/external_id/{_seg(desired.key)}"),
        )
        if existed and _user_spec(created) != desired.spec:
            await self.update(_with_id(desired, created["id"]), desired)
        self.ids[Kind.USER][desired.key] = created["id"]
        return _with_id(desired, created["id"])

    async def _create_membership(self, desired: Resource) -> Resource:
        spec = desired.spec
        user_id = self.ids[Kind.USER].get(spec["user"])
        org_id = self.ids[Kind.ORGANIZATION].get(spec["organization"])
        if user_id is None or org_id is None:
            missing = "user" if user_id is None else "organization"
            raise ProviderError(
                f"WorkOS: {desired.address}: its {missing} does not exist in WorkOS "
                "(its create failed or was not attempted)"
            )
        body = {"user_id": user_id, "organization_id": org_id, "role_slug": spec["role"]}
        try:
            created = await self.http.send_json(
                "POST", "/user_management/organization_memberships", body
            )
        except ProviderError as exc:
            if exc.status != 409:
                raise
            # Already a member (an earlier interrupted run, or an adopted user): converge on it.
            created = await self._find_membership(user_id, org_id)
            if created is None:
                raise
            if _role_slug(created) != spec["role"]:
                await self.http.send_json(
                    "PUT",
                    f"/user_management/organization_memberships/{_seg(created['id'])}",
                    {"role_slug": spec["role"]},
                )
        return _with_id(desired, created["id"])

    async def _find_membership(self, user_id: str, org_id: str) -> dict[str, Any] | None:
        page = await self.http.get_json(
            "/user_management/organization_memberships",
            {"user_id": user_id, "organization_id": org_id, "statuses": "active,pending"},
        )
        data = page.get("data") or []
        return data[0] if data else None

    def id_mapping(self) -> Mapping[str, Mapping[str, str]]:
        """Source key → WorkOS id for users and organizations (the import's mapping file)."""
        return {
            "users": self.ids.keyed(Kind.USER),
            "organizations": self.ids.keyed(Kind.ORGANIZATION),
        }

    async def _set_role_permissions(self, slug: str, permissions: Sequence[str]) -> None:
        await self.http.send_json(
            "PUT",
            f"/authorization/roles/{_seg(slug)}/permissions",
            {"permissions": list(permissions)},
        )

    # ---- what only a person can do ---------------------------------------------------------

    def manual_instructions(self, desired: Resource | None, live: Resource | None) -> list[str]:
        resource = desired or live
        assert resource is not None
        if resource.kind is Kind.SOCIAL_CONNECTION and desired is not None:
            social = SOCIAL_PROVIDERS[desired.key]
            return [
                f"In the WorkOS Dashboard ({DASHBOARD}), open Authentication → "
                f"{social.label} OAuth and enable it for this environment.",
                f"Choose 'Your app's credentials' and set the Client ID to "
                f"{desired.spec['client_id']}; paste the client secret from your secret store "
                "(it is not shown here).",
                f"Copy the Redirect URI WorkOS shows on that page and add it to the authorized "
                f"redirect URIs of the {social.label} OAuth app whose client id is "
                f"{desired.spec['client_id']}.",
                "Run `authform verify` to confirm: it probes the authorize URL and expects a "
                f"redirect to {social.label} carrying that client id.",
            ]
        if resource.kind is Kind.SOCIAL_CONNECTION and live is not None:
            return [
                f"In the WorkOS Dashboard, open Authentication → "
                f"{SOCIAL_PROVIDERS[live.key].label} OAuth and disable it."
            ]
        if resource.kind is Kind.ROLE and live is not None:
            return [
                f"WorkOS has no API to delete an environment role: in the WorkOS Dashboard, "
                f"open Roles & Permissions and delete the role '{live.key}'."
            ]
        if resource.kind is Kind.CORS_ORIGIN and live is not None:
            return [
                f"WorkOS has no API to delete a CORS origin: in the WorkOS Dashboard, open "
                f"Authentication → Sessions → CORS and remove '{live.key}'."
            ]
        return [f"Change {resource.address} in the WorkOS Dashboard."]

    def plan_caveats(self, desired: Sequence[Resource]) -> list[str]:
        return []  # WorkOS imports bcrypt hashes; what the source cannot give is reported there

    async def authenticate(self, email: str, password: str) -> ProbeResult:
        if not self.client_id:
            return ProbeResult(False, "cannot sign in: target.client_id is not set")
        try:
            body = await self.http.send_json(
                "POST",
                "/user_management/authenticate",
                {
                    "grant_type": "password",
                    "client_id": self.client_id,
                    "client_secret": self._api_key,
                    "email": email,
                    "password": password,
                },
            )
        except ProviderError as exc:
            return ProbeResult(False, f"sign-in failed: {exc}")
        return ProbeResult(True, f"signed in as user {body.get('user', {}).get('id')}")


def _user_spec(user: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "email": user["email"],
        "first_name": user.get("first_name") or "",
        "last_name": user.get("last_name") or "",
        "email_verified": bool(user.get("email_verified")),
    }


def _role_resource(role: Mapping[str, Any]) -> Resource:
    spec = normalize_spec(
        {
            "slug": role["slug"],
            "name": role["name"],
            "description": role.get("description") or "",
            "permissions": list(role.get("permissions") or []),
        }
    )
    return Resource(Kind.ROLE, str(role["slug"]), spec, provider_id=role["id"])


def _organization_spec(org: Mapping[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = normalize_spec(
        {
            "name": org["name"],
            "domains": [
                {"domain": d["domain"], "state": d.get("state", "pending")}
                for d in org.get("domains") or []
            ],
            "metadata": dict(org.get("metadata") or {}),
        }
    )
    return spec


def _user_body(desired: Resource) -> dict[str, Any]:
    spec = desired.spec
    return {
        "email": spec["email"],
        "first_name": spec["first_name"],
        "last_name": spec["last_name"],
        "email_verified": spec["email_verified"],
        "external_id": desired.key,
    }


def _password_fields(desired: Resource) -> dict[str, Any]:
    if "password_hash" not in desired.create_only:
        return {}
    return {
        "password_hash": str(desired.create_only["password_hash"]),
        "password_hash_type": desired.create_only.get("password_hash_type", "bcrypt"),
    }


def _role_slug(membership: Mapping[str, Any]) -> str:
    role = membership.get("role") or {}
    return str(role.get("slug", ""))


def _organization_body(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": spec["name"],
        "domain_data": [{"domain": d["domain"], "state": d["state"]} for d in spec["domains"]],
        "metadata": dict(spec["metadata"]),
    }


def _with_id(resource: Resource, provider_id: str) -> Resource:
    return Resource(resource.kind, resource.key, resource.spec, provider_id=provider_id)


def _require_id(live: Resource) -> str:
    if not live.provider_id:
        raise ProviderError(f"WorkOS: {live.address} has no WorkOS id")
    return live.provider_id


def _seg(value: str) -> str:
    """Quote a value for use as one path segment (slugs may hold ':')."""
    return quote(value, safe=":")
