"""WorkOS: maps authform's canonical kinds onto the WorkOS REST API.

API facts (paths, shapes, limits) are in shared/reference/provider-apis.md §A; the emulator in
``authform.emulators.workos`` honours the same contract and is checked with the official SDK.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from authform.providers.base import (
    KindSupport,
    ProbeResult,
    ProviderCapabilities,
    ProviderError,
)
from authform.providers.http import ApiClient, RateLimit, WindowLimiter
from authform.resources import Kind, Resource, normalize_spec
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
    },
)

DASHBOARD = "https://dashboard.workos.com"


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
            **(rate_limits or {}),
        }
        self._limiters = {name: WindowLimiter(limit) for name, limit in limits.items()}
        self._api_key = api_key
        self.client_id = client_id
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
        wanted = set(kinds)
        live: list[Resource] = []
        if Kind.PERMISSION in wanted:
            live += await self._read_permissions()
        if Kind.ROLE in wanted:
            live += await self._read_roles()
        if Kind.ORGANIZATION in wanted:
            live += await self._read_organizations()
        redirect_uris: list[Resource] = []
        if Kind.REDIRECT_URI in wanted or Kind.SOCIAL_CONNECTION in wanted:
            redirect_uris = await self._read_redirect_uris()
        if Kind.REDIRECT_URI in wanted:
            live += redirect_uris
        if Kind.CORS_ORIGIN in wanted:
            live += await self._read_cors_origins()
        if Kind.SOCIAL_CONNECTION in wanted:
            social = [r for r in desired if r.kind is Kind.SOCIAL_CONNECTION]
            live += await self._probe_social_connections(social, redirect_uris)
        return live

    async def _list(self, path: str) -> list[dict[str, Any]]:
        return [
            item
            async for item in self.http.paginate_cursor(
                path, next_cursor=lambda page: (page.get("list_metadata") or {}).get("after")
            )
        ]

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
            Resource(
                Kind.ROLE,
                r["slug"],
                normalize_spec(
                    {
                        "slug": r["slug"],
                        "name": r["name"],
                        "description": r.get("description") or "",
                        "permissions": list(r.get("permissions") or []),
                    }
                ),
                provider_id=r["id"],
            )
            for r in body.get("data", [])
            if r.get("type", "EnvironmentRole") == "EnvironmentRole"
        ]

    async def _read_organizations(self) -> list[Resource]:
        live = []
        for org in await self._list("/organizations"):
            spec = normalize_spec(
                {
                    "name": org["name"],
                    "domains": [
                        {"domain": d["domain"], "state": d.get("state", "pending")}
                        for d in org.get("domains") or []
                    ],
                    "metadata": dict(org.get("metadata") or {}),
                }
            )
            external_id = org.get("external_id")
            live.append(
                Resource(
                    Kind.ORGANIZATION,
                    external_id if external_id else f"(no external_id) {org['id']}",
                    spec,
                    provider_id=org["id"],
                    observed={"unkeyed": not external_id},
                )
            )
        return live

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
            if client_id is not None:
                live.append(
                    Resource(
                        Kind.SOCIAL_CONNECTION,
                        resource.key,
                        {"provider": resource.key, "client_id": client_id},
                        observed={"probe": result.detail},
                    )
                )
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
        response = await self._authorize(params)
        if response is None or not (300 <= response.status_code < 400):
            status = response.status_code if response is not None else "no answer"
            return ProbeResult(False, f"authorize URL did not redirect (HTTP {status})"), None
        location = response.headers.get("location", "")
        target = urlsplit(location)
        expected = urlsplit(social.oauth_authorize_url)
        if (target.scheme, target.netloc, target.path) != (
            expected.scheme,
            expected.netloc,
            expected.path,
        ):
            return ProbeResult(False, f"authorize URL redirected elsewhere: {location}"), None
        client_ids = parse_qs(target.query).get("client_id", [])
        found = client_ids[0] if client_ids else ""
        return ProbeResult(True, f"redirects to {social.label} with client_id {found}"), found

    async def _authorize(self, params: Mapping[str, str | None]) -> httpx.Response | None:
        try:
            return await self.http.request(
                "GET", "/user_management/authorize", params=params, expected=(), follow=True
            )
        except ProviderError:
            return None

    # ---- writing ---------------------------------------------------------------------------

    async def create(self, desired: Resource) -> Resource:
        spec = desired.spec
        if desired.kind is Kind.PERMISSION:
            body = await self.http.send_json(
                "POST",
                "/authorization/permissions",
                {"slug": spec["slug"], "name": spec["name"], "description": spec["description"]},
            )
            return _with_id(desired, body["id"])
        if desired.kind is Kind.ROLE:
            body = await self.http.send_json(
                "POST",
                "/authorization/roles",
                {"slug": spec["slug"], "name": spec["name"], "description": spec["description"]},
            )
            if spec["permissions"]:
                await self._set_role_permissions(spec["slug"], spec["permissions"])
            return _with_id(desired, body["id"])
        if desired.kind is Kind.ORGANIZATION:
            body = await self.http.send_json(
                "POST", "/organizations", {**_organization_body(spec), "external_id": desired.key}
            )
            return _with_id(desired, body["id"])
        if desired.kind is Kind.REDIRECT_URI:
            body = await self.http.send_json(
                "POST", "/user_management/redirect_uris", {"uri": spec["uri"]}
            )
            return _with_id(desired, body["id"])
        if desired.kind is Kind.CORS_ORIGIN:
            body = await self.http.send_json(
                "POST", "/user_management/cors_origins", {"origin": spec["origin"]}
            )
            return _with_id(desired, body["id"])
        raise ProviderError(f"WorkOS: cannot create {desired.kind.value} through the API")

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
        else:
            raise ProviderError(f"WorkOS: cannot delete {live.kind.value} through the API")

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

    async def authenticate(self, email: str, password: str) -> ProbeResult:
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
