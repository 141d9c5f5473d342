"""The Clerk emulator assembled: its resource families behind the shared ``EmulatorApp``
(auth, rate limits, faults, the request log, ``/_emulate/``), Clerk's error bodies and limits,
and its seed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Final

from starlette.routing import BaseRoute

from ..base import SECRET_FIELDS, EmulatorApp, EmulatorBackend, Limit, LimitTable, SocialConnections
from ..seeding import apply_seed, open_backend
from ..store import SqliteStore
from .domains import Domains
from .family import API_PREFIX, CLERK_SCHEMA, CLERK_TABLES, clerk_error, errors_body
from .instance import ENVIRONMENT_PATH, FrontendEnvironment, Instance, RedirectUrls
from .memberships import Memberships
from .organizations import Organizations
from .roles import Roles
from .seed import SEED_SECTIONS
from .users import Users

# https://clerk.com/docs/guides/how-clerk-works/system-limits: per instance (secret key),
# 1,000 requests per 10 s in production and 100 per 10 s in development. CreateUser's
# description in the OpenAPI document repeats both figures.
DEVELOPMENT_LIMIT: Final = Limit(100, 10)
PRODUCTION_LIMIT: Final = Limit(1000, 10)
# status -> (code, message, long message) of the errors the shared app raises: a wrong secret
# key (what api.clerk.com answers, clerk/clerk-sdk-python#26), no such route, the rate limit,
# an injected or unexpected server error.
KEY_INVALID: Final = (
    "The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct."
)
SHARED_ERRORS: Final = {
    401: ("clerk_key_invalid", KEY_INVALID, KEY_INVALID),
    404: ("resource_not_found", "not found", "The requested resource was not found."),
    429: ("too_many_requests", "Too many requests", "Too many requests, please retry later."),
    500: (
        "internal_clerk_error",
        "Oops, an unexpected error occurred",
        "There was an internal error on our servers. We've been notified and are working on "
        "fixing it.",
    ),
}


@dataclass(frozen=True)
class ClerkRateLimits(LimitTable):
    """Clerk's Backend API limit: one ``instance`` bucket per secret key.

    ``for_secret_key`` picks the documented figure from the key (``sk_live_`` is a production
    instance); tests scale it down, e.g. ``ClerkRateLimits(instance=Limit(3, 1))``.
    """

    instance: Limit | None = DEVELOPMENT_LIMIT

    @classmethod
    def for_secret_key(cls, secret_key: str) -> ClerkRateLimits:
        production = secret_key.startswith("sk_live_")
        return cls(instance=PRODUCTION_LIMIT if production else DEVELOPMENT_LIMIT)

    @classmethod
    def disabled(cls) -> ClerkRateLimits:
        return cls(enabled=False)


class ClerkBackend(EmulatorBackend):
    """Clerk's Backend API over SQLite: one object per resource family, each serving its
    routes; the seed goes through the same operations as HTTP clients."""

    provider: ClassVar[str] = "clerk"
    # The Frontend API is public (browsers call it with no secret key).
    public_routes: ClassVar[frozenset[tuple[str, str]]] = frozenset({("GET", ENVIRONMENT_PATH)})
    # CreateUser's password_digest and backup_codes hold secrets the shared list does not name.
    secret_fields: ClassVar[frozenset[str]] = SECRET_FIELDS | {"password_digest", "backup_codes"}

    def __init__(
        self,
        store: SqliteStore,
        social: SocialConnections,
        *,
        seed: Mapping[str, Any] | None = None,
        environment_type: str = "development",
    ) -> None:
        super().__init__(store, social)
        self.seed = seed
        store.apply_schema(CLERK_SCHEMA)
        self.roles = Roles(store)
        self.users = Users(store)
        self.organizations = Organizations(store, self.users, self.roles)
        self.memberships = Memberships(self.organizations)
        self.families = (
            self.users,
            self.organizations,
            self.memberships,
            Domains(self.organizations),
            self.roles,
            RedirectUrls(store),
            Instance(store, environment_type),
            FrontendEnvironment(social, environment_type),
        )
        self.reset(wipe=False)

    def routes(self) -> list[BaseRoute]:
        return [route for family in self.families for route in family.routes()]

    def reset(self, *, wipe: bool = True) -> None:
        if wipe:
            self.store.wipe(CLERK_TABLES)
        self.roles.add_defaults()
        if self.seed:
            apply_seed(self, self.seed, SEED_SECTIONS)

    def error_body(self, status: int, message: str, code: str | None = None) -> dict[str, Any]:
        """Clerk's error body for the errors the shared app raises (auth, routing, faults)."""
        known = SHARED_ERRORS.get(500 if status >= 500 else status)
        if known is not None:
            return errors_body(clerk_error(*known))
        if code == "invalid_request_parameters":  # the shared admin routes' validation
            return errors_body(clerk_error("form_param_value_invalid", "is invalid", message))
        return errors_body(clerk_error(code or "request_invalid", message, message))

    def rate_limited_body(self, bucket: str) -> dict[str, Any]:
        return self.error_body(429, "")

    def rate_limit_claims(self, method: str, path: str, body: Any) -> list[tuple[str, str]]:
        # One budget per instance, i.e. per secret key; every Backend API path draws on it.
        if path == API_PREFIX or path.startswith(f"{API_PREFIX}/"):
            return [("instance", "secret_key")]
        return []


def create_clerk_app(
    db_path: str | Path = ":memory:",
    api_key: str = "sk_test_emulator",
    rate_limits: ClerkRateLimits | None = None,
    *,
    seed: Path | str | Mapping[str, Any] | None = None,
) -> EmulatorApp:
    """The Clerk emulator as an ASGI app (an ``EmulatorApp``, i.e. a Starlette app).

    Without ``rate_limits`` the documented limit for the key's kind applies: 100 requests
    per 10 s for a development key (``sk_test_``), 1,000 for a production one (``sk_live_``).
    A production secret key (``sk_live_``) names a production instance, anything else a
    development one, as ``GET /v1/instance`` reports it.
    """
    environment = "production" if api_key.startswith("sk_live_") else "development"
    backend = open_backend(ClerkBackend, db_path, seed, environment_type=environment)
    limits = rate_limits or ClerkRateLimits.for_secret_key(api_key)
    return EmulatorApp(backend, api_key=api_key, rate_limits=limits)
