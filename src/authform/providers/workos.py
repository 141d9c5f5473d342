"""WorkOS: maps authform's canonical kinds onto the WorkOS REST API.

API facts (paths, shapes, limits) are in shared/reference/provider-apis.md §A; the emulator in
``authform.emulators.workos`` honours the same contract and is checked with the official SDK.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import Any

import httpx

from authform.providers.api_provider import (
    ApiProvider,
    KindHandlers,
    ManualSteps,
    Update,
    window_limiters,
    with_provider_id,
)
from authform.providers.base import KindSupport, ProbeResult, ProviderError, api_capabilities
from authform.providers.dashboard_steps import SocialLoginSteps, dashboard_steps
from authform.providers.http import ApiClient, RateLimit, WindowLimiter
from authform.providers.ids import remembering
from authform.providers.social_probe import SocialLoginProbe
from authform.resources import (
    Kind,
    Resource,
    membership_key,
    normalize_spec,
    of_kind,
    spec_values,
    unkeyed_key,
)

DEFAULT_BASE_URL = "https://api.workos.com"

# WorkOS's documented limits (reference/rate-limits): 6,000 requests per 60 s per API key
# overall; AuthKit's /user_management/* adds 1,000 reads and 500 writes per 10 s.
GENERAL_LIMIT = RateLimit(6000, 60.0)
USER_MANAGEMENT_READS = RateLimit(1000, 10.0)
USER_MANAGEMENT_WRITES = RateLimit(500, 10.0)

CAPABILITIES = api_capabilities(
    "workos",
    {
        # WorkOS has no API to delete an environment role.
        Kind.ROLE: KindSupport(delete=False),
        # A redirect URI is its own key, so there is never an in-place update.
        Kind.REDIRECT_URI: KindSupport(update=False),
        # CORS origins can be listed and created, not deleted.
        Kind.CORS_ORIGIN: KindSupport(update=False, delete=False),
    },
)

DASHBOARD = "https://dashboard.workos.com"
PERMISSIONS = "/authorization/permissions"
ROLES = "/authorization/roles"
USERS = "/user_management/users"
MEMBERSHIPS = "/user_management/organization_memberships"
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


class WorkOSProvider(ApiProvider):
    label = "WorkOS"
    dashboard = DASHBOARD
    capabilities = CAPABILITIES
    conflict_statuses = CONFLICT_STATUSES

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
        super().__init__()
        self._limiters = window_limiters(
            "WorkOS",
            {
                "general": GENERAL_LIMIT,
                "user_management_reads": USER_MANAGEMENT_READS,
                "user_management_writes": USER_MANAGEMENT_WRITES,
            },
            rate_limits,
        )
        self._api_key = api_key
        self.client_id = client_id
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
        self.social_logins = SocialLoginProbe(
            self.http,
            "/user_management/authorize",
            client_id,
            no_redirect_uri="no redirect URI is registered to probe with",
            params=lambda social: {"provider": social.workos},
        )
        self.handlers = {
            Kind.PERMISSION: KindHandlers(
                self._create_permission,
                self._update_permission,
                self.delete_by_key(PERMISSIONS),
            ),
            # WorkOS has no API to delete an environment role.
            Kind.ROLE: KindHandlers(self._create_role, self._update_role),
            Kind.ORGANIZATION: KindHandlers(
                self._create_organization,
                self._update_organization,
                self.delete_by_id("/organizations"),
            ),
            Kind.REDIRECT_URI: KindHandlers(
                create=self._create_redirect_uri,
                delete=self.delete_by_id("/user_management/redirect_uris"),
            ),
            # CORS origins can be listed and created, not deleted.
            Kind.CORS_ORIGIN: KindHandlers(create=self._create_cors_origin),
            Kind.USER: KindHandlers(self._create_user, self._update_user, self.delete_by_id(USERS)),
            Kind.MEMBERSHIP: KindHandlers(
                self._create_membership,
                self._update_membership,
                self.delete_by_id(MEMBERSHIPS),
            ),
        }
        self.manual_steps = {
            Kind.SOCIAL_CONNECTION: SOCIAL_LOGIN.manual_steps(dashboard=DASHBOARD),
            Kind.ROLE: _delete_in_dashboard(
                "an environment role", "Roles & Permissions", "delete the role"
            ),
            Kind.CORS_ORIGIN: _delete_in_dashboard(
                "a CORS origin", "Authentication → Sessions → CORS", "remove"
            ),
        }

    async def _auth_headers(self) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"}

    def _limiters_for(self, method: str, path: str) -> Sequence[WindowLimiter]:
        chosen = [self._limiters["general"]]
        if path.startswith("/user_management/") and path != "/user_management/authorize":
            bucket = "user_management_reads" if method == "GET" else "user_management_writes"
            chosen.append(self._limiters[bucket])
        return chosen

    # ---- reading ---------------------------------------------------------------------------

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
            org_keys = spec_values(desired, Kind.MEMBERSHIP, "organization")
            org_keys |= {r.key for r in of_kind(desired, Kind.ORGANIZATION)}
            async for resource in self._read_memberships(org_keys, desired):
                yield resource

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
            _permission_resource(p)
            for p in await self._list(PERMISSIONS)
            if not p.get("system")  # built-in permissions are WorkOS's, not the team's
        ]

    async def _read_roles(self) -> list[Resource]:
        body = await self.http.get_json(ROLES)
        return [
            _role_resource(r)
            for r in body.get("data", [])
            if r.get("type", "EnvironmentRole") == "EnvironmentRole"
        ]

    async def _read_organizations(self) -> AsyncIterator[Resource]:
        with remembering(self.ids, Kind.ORGANIZATION) as remember:
            async for org in self._stream("/organizations"):
                spec = _organization_spec(org)
                external_id = org.get("external_id")
                if external_id:
                    remember(external_id, org["id"])
                yield Resource(
                    Kind.ORGANIZATION,
                    external_id if external_id else unkeyed_key(org["id"]),
                    spec,
                    provider_id=org["id"],
                    observed={"unkeyed": not external_id},
                )

    async def _read_users(self) -> AsyncIterator[Resource]:
        with remembering(self.ids, Kind.USER) as remember:
            async for user in self._stream(USERS):
                external_id = user.get("external_id")
                key = external_id if external_id else unkeyed_key(user["id"])
                remember(key, user["id"])
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

        async def one_org(org_key: str, org_id: str) -> list[Resource]:
            listed = [
                m
                async for m in self._stream(
                    "/user_management/organization_memberships",
                    {"organization_id": org_id, "statuses": "active,pending"},
                )
            ]
            # The organization's users' keys in one lookup, not one per membership.
            keys = self.ids.keys_for(Kind.USER, [m["user_id"] for m in listed])
            items = []
            for m in listed:
                user_id = m["user_id"]
                key = adoptable.get(user_id) or keys.get(user_id) or unkeyed_key(user_id)
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
        return await self.social_logins.connections(desired, [r.key for r in redirect_uris])

    # ---- writing: one handler per kind and write (see ``handlers``) -------------------------
    # Every create converges (``create_converging``): when WorkOS refuses it because the item
    # exists, the item holding our key is ours, so it is taken and brought to the desired
    # spec instead of failing.

    async def _create_slugged(
        self,
        collection: str,
        desired: Resource,
        live_of: Callable[[Mapping[str, Any]], Resource],
        update: Update,
    ) -> tuple[Resource, bool]:
        """POST a permission or a role; when its slug is taken, take the one that holds it,
        brought to the desired spec with ``update``. Returns it as live, and whether this
        call created it."""
        spec = desired.spec
        body, existed = await self.create_converging(
            collection,
            {"slug": spec["slug"], "name": spec["name"], "description": spec["description"]},
            lambda: self.get_or_none(f"{collection}/{self.seg(desired.key)}"),
        )
        if existed:
            await update(live_of(body), desired)
        return with_provider_id(desired, body["id"]), not existed

    async def _create_permission(self, desired: Resource) -> Resource:
        live, _ = await self._create_slugged(
            PERMISSIONS, desired, _permission_resource, self._update_permission
        )
        return live

    async def _update_permission(self, live: Resource, desired: Resource) -> None:
        await self.relabel("PATCH", f"{PERMISSIONS}/{self.seg(desired.key)}", live, desired)

    async def _create_role(self, desired: Resource) -> Resource:
        live, created = await self._create_slugged(
            ROLES, desired, _role_resource, self._update_role
        )
        if created and desired.spec["permissions"]:
            await self._set_role_permissions(desired.key, desired.spec["permissions"])
        return live

    async def _update_role(self, live: Resource, desired: Resource) -> None:
        await self.relabel("PATCH", f"{ROLES}/{self.seg(desired.key)}", live, desired)
        if live.spec["permissions"] != desired.spec["permissions"]:
            await self._set_role_permissions(desired.key, desired.spec["permissions"])

    async def _set_role_permissions(self, slug: str, permissions: Sequence[str]) -> None:
        await self.http.send_json(
            "PUT",
            f"{ROLES}/{self.seg(slug)}/permissions",
            {"permissions": list(permissions)},
        )

    # Organizations and users carry our key as their ``external_id``: a create converges on
    # the item that holds it, and every write remembers the item's id for the memberships.

    async def _create_keyed(
        self,
        collection: str,
        desired: Resource,
        body: Mapping[str, Any],
        spec_of: Callable[[Mapping[str, Any]], Mapping[str, Any]],
        update: Update,
    ) -> Resource:
        """POST ``body``; when WorkOS refuses it because the key is taken, take the item
        that holds it (brought to the desired spec with ``update`` when ``spec_of`` it
        differs)."""
        item, existed = await self.create_converging(
            collection,
            body,
            lambda: self.get_or_none(f"{collection}/external_id/{self.seg(desired.key)}"),
        )
        stale = existed and spec_of(item) != desired.spec
        live = await self.converged(desired, item, stale, update)
        self.ids[desired.kind][desired.key] = item["id"]
        return live

    async def _replace_keyed(
        self, collection: str, live: Resource, desired: Resource, body: Mapping[str, Any]
    ) -> None:
        """PUT the item whole, ``external_id`` included (which is how an item made without
        our key is adopted)."""
        item_id = self.require_id(live)
        await self.http.send_json("PUT", f"{collection}/{self.seg(item_id)}", body)
        self.ids[desired.kind][desired.key] = item_id

    async def _create_organization(self, desired: Resource) -> Resource:
        return await self._create_keyed(
            "/organizations",
            desired,
            _organization_body(desired),
            _organization_spec,
            self._update_organization,
        )

    async def _update_organization(self, live: Resource, desired: Resource) -> None:
        # PUT replaces: name, the whole domain set and the whole metadata object.
        await self._replace_keyed("/organizations", live, desired, _organization_body(desired))

    async def _create_redirect_uri(self, desired: Resource) -> Resource:
        return await self._create_listed("/user_management/redirect_uris", "uri", desired)

    async def _create_cors_origin(self, desired: Resource) -> Resource:
        return await self._create_listed("/user_management/cors_origins", "origin", desired)

    async def _create_listed(self, path: str, field_name: str, desired: Resource) -> Resource:
        """A setting that is its own key (a redirect URI, a CORS origin): POST it, and on a
        conflict find it in the list."""
        value = desired.spec[field_name]
        body, _ = await self.create_converging(
            path, {field_name: value}, lambda: self._find_listed(path, field_name, value)
        )
        return with_provider_id(desired, body["id"])

    async def _find_listed(self, path: str, field_name: str, value: str) -> dict[str, Any] | None:
        return next(
            (item for item in await self._list(path) if item.get(field_name) == value), None
        )

    async def _create_user(self, desired: Resource) -> Resource:
        return await self._create_keyed(
            USERS,
            desired,
            {**_user_body(desired), **_password_fields(desired)},
            _user_spec,
            self._update_user,
        )

    async def _update_user(self, live: Resource, desired: Resource) -> None:
        body = _user_body(desired)
        if live.observed.get("unkeyed"):
            # Adopting a user who exists without our key: the hash was never set by us,
            # so carry it over now, as WorkOS's own Clerk importer does.
            body.update(_password_fields(desired))
        await self._replace_keyed(USERS, live, desired, body)

    async def _create_membership(self, desired: Resource) -> Resource:
        spec = desired.spec
        user_id, org_id = self.member_ids(desired)
        body = {"user_id": user_id, "organization_id": org_id, "role_slug": spec["role"]}
        try:
            created = await self.http.send_json("POST", MEMBERSHIPS, body)
        except ProviderError as exc:
            if exc.status != 409:
                raise
            # Already a member (an earlier interrupted run, or an adopted user): converge on it.
            created = await self._find_membership(user_id, org_id)
            if created is None:
                raise
            if _role_slug(created) != spec["role"]:
                await self._set_membership_role(created["id"], spec["role"])
        return with_provider_id(desired, created["id"])

    async def _update_membership(self, live: Resource, desired: Resource) -> None:
        await self._set_membership_role(self.require_id(live), desired.spec["role"])

    async def _set_membership_role(self, membership_id: str, role: str) -> None:
        await self.http.send_json(
            "PUT", f"{MEMBERSHIPS}/{self.seg(membership_id)}", {"role_slug": role}
        )

    async def _find_membership(self, user_id: str, org_id: str) -> dict[str, Any] | None:
        page = await self.http.get_json(
            MEMBERSHIPS,
            {"user_id": user_id, "organization_id": org_id, "statuses": "active,pending"},
        )
        data = page.get("data") or []
        return data[0] if data else None

    # ---- signing a canary in ----------------------------------------------------------------

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


def _permission_resource(permission: Mapping[str, Any]) -> Resource:
    slug = str(permission["slug"])
    spec = {
        "slug": slug,
        "name": permission["name"],
        "description": permission.get("description") or "",
    }
    return Resource(Kind.PERMISSION, slug, spec, provider_id=permission["id"])


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


def _organization_body(desired: Resource) -> dict[str, Any]:
    spec = desired.spec
    return {
        "name": spec["name"],
        "domain_data": [{"domain": d["domain"], "state": d["state"]} for d in spec["domains"]],
        "metadata": dict(spec["metadata"]),
        "external_id": desired.key,
    }


# ---- what only a person can do (the ``manual_steps`` table) -----------------------------


SOCIAL_LOGIN = SocialLoginSteps(
    enable="In the WorkOS Dashboard ({dashboard}), open Authentication → {label} OAuth and "
    "enable it for this environment.",
    own_client="Choose 'Your app's credentials'",
    callback="Copy the Redirect URI WorkOS shows on that page and add it",
    confirm="it probes the authorize URL and expects a redirect to {label} carrying that client id",
    disable="In the WorkOS Dashboard, open Authentication → {label} OAuth and disable it.",
)


def _delete_in_dashboard(what: str, where: str, action: str) -> ManualSteps:
    """The step for deleting an item WorkOS has no delete endpoint for."""
    return ManualSteps(
        remove=dashboard_steps(
            "WorkOS has no API to delete {what}: in the WorkOS Dashboard, open {where} and "
            "{action} '{key}'.",
            what=what,
            where=where,
            action=action,
        )
    )
