"""A local Scalekit API: the endpoints authform calls, with Scalekit's paths (``/api/v1``),
payloads, numeric ids, ``page_size``/``page_token`` pagination, gRPC-status error bodies,
OAuth client-credentials tokens, and the authorization URL that dashboard-only settings
(redirect URLs, social logins) are probed through.

Shapes follow Scalekit's public OpenAPI document (``reference/openapi/scalekit-saaskit.yaml``)
and the protobuf messages of the official Python SDK (``scalekit-sdk-python``), whose
``google.api.http`` annotations are the REST mapping the API serves; the fidelity tests check
both. The SDK itself speaks gRPC to Scalekit for everything but the token endpoint, so it
cannot drive a REST emulator; its messages still parse every answer here.

Where Scalekit's documents are silent, the emulator says what it assumes:

- Rate limits: Scalekit publishes none. The default (1,200 requests per minute) is twice
  authform's own conservative client default, so a client that ignores its limiter is
  caught; 429s carry ``Retry-After``.
- Unknown request fields are refused (INVALID_ARGUMENT). Scalekit's gateway may drop them
  silently; refusing them makes a typo in a client fail a test instead.
- Users created with ``send_invitation_email=false`` are active and verified at once (as the
  migration guide says); with the default ``true`` an invitation is "sent": it lands in
  ``GET /_emulate/emails`` so tests can prove a migration emailed nobody.
- Domains added through the API are admin-verified (Scalekit's organization-domains guide);
  a seed can add DNS-pending ones, as the Admin Portal would.

Dashboard-only state lives under ``/_emulate``: redirect URLs (``/_emulate/redirect_uris``),
social logins (``/_emulate/social_connections``, shared with every emulator), issued tokens
(``/_emulate/tokens``) and the invitation outbox (``/_emulate/emails``). Those routes take
the client secret as bearer; the API takes only access tokens from ``POST /oauth/token``.
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import hmac
import json
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Final
from urllib.parse import urlencode

import yaml
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from authform.social import SOCIAL_PROVIDERS

from .base import (
    ApiError,
    EmulatorApp,
    EmulatorBackend,
    Limit,
    LimitTable,
    SocialConnections,
    check_social_provider,
    parse_body,
)
from .store import SqliteStore, from_json, now_iso, to_json

API: Final = "/api/v1"


@dataclass(frozen=True)
class ScalekitRateLimits(LimitTable):
    """Scalekit documents no limits (only "429 Rate limit exceeded"); see the module docstring.

    Tests scale it down, e.g. ``ScalekitRateLimits(general=Limit(5, 1))``.
    """

    general: Limit | None = Limit(1200, 60)

    @classmethod
    def disabled(cls) -> ScalekitRateLimits:
        return cls(enabled=False)


SCALEKIT_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS organizations (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    external_id TEXT UNIQUE,
    metadata TEXT NOT NULL DEFAULT '{}',
    slug TEXT,
    logo_url TEXT,
    region_code TEXT NOT NULL DEFAULT 'US',
    create_time TEXT NOT NULL,
    update_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS domains (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    domain_type TEXT NOT NULL,
    verification_status TEXT NOT NULL,
    verification_method TEXT NOT NULL,
    create_time TEXT NOT NULL,
    update_time TEXT NOT NULL,
    UNIQUE (domain, domain_type)
);
CREATE INDEX IF NOT EXISTS domains_by_org ON domains(organization_id, id);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,
    external_id TEXT UNIQUE,
    metadata TEXT NOT NULL DEFAULT '{}',
    profile TEXT NOT NULL DEFAULT '{}',
    email_verified INTEGER NOT NULL DEFAULT 0,
    create_time TEXT NOT NULL,
    update_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS memberships (
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    membership_status TEXT NOT NULL,
    roles TEXT NOT NULL DEFAULT '[]',
    metadata TEXT NOT NULL DEFAULT '{}',
    inviter_email TEXT,
    join_time TEXT NOT NULL,
    accepted_at TEXT,
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX IF NOT EXISTS memberships_by_user ON memberships(user_id);
CREATE TABLE IF NOT EXISTS roles (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    extends TEXT,
    default_creator INTEGER NOT NULL DEFAULT 0,
    default_member INTEGER NOT NULL DEFAULT 0,
    create_time TEXT NOT NULL,
    update_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS permissions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    builtin INTEGER NOT NULL DEFAULT 0,
    create_time TEXT NOT NULL,
    update_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS role_permissions (
    role_name TEXT NOT NULL REFERENCES roles(name) ON DELETE CASCADE,
    permission_name TEXT NOT NULL REFERENCES permissions(name),
    create_time TEXT NOT NULL,
    PRIMARY KEY (role_name, permission_name)
);
CREATE TABLE IF NOT EXISTS dashboard_redirect_uris (
    uri TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    email TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    sent_at TEXT NOT NULL
);
"""

# Children before parents, so a wipe never trips a foreign key.
SCALEKIT_TABLES: Final = (
    "memberships",
    "domains",
    "role_permissions",
    "users",
    "organizations",
    "roles",
    "permissions",
    "dashboard_redirect_uris",
    "outbox",
)

# Scalekit's own permissions exist in every environment (organization-domains guide); they
# are listed with is_scalekit_permission and cannot be changed.
BUILTIN_PERMISSIONS: Final = (
    ("sk_org_settings_read", "View organization settings in Scalekit's hosted widgets"),
    ("sk_org_settings_write", "Change organization settings in Scalekit's hosted widgets"),
)

ROLE_NAME_PATTERN: Final = r"[A-Za-z0-9_]{1,64}"
PERMISSION_NAME_PATTERN: Final = r"[A-Za-z0-9_:]{1,64}"
EMAIL_PATTERN: Final = r"[^@\s]+@[^@\s]+\.[^@\s]+"
DOMAIN_PATTERN: Final = r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}"
_LABEL: Final = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
SLUG_PATTERN: Final = rf"{_LABEL}(?:\.{_LABEL})*"
# "Public and disposable domains (gmail.com, outlook.com, etc.) are automatically blocked."
PUBLIC_DOMAINS: Final = frozenset(
    {"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com"}
)
DOMAIN_TYPES: Final = ("ALLOWED_EMAIL_DOMAIN", "ORGANIZATION_DOMAIN")
MEMBERSHIP_STATUSES: Final = ("ACTIVE", "INACTIVE", "PENDING_INVITE", "INVITE_EXPIRED")
DEFAULT_TOKEN_TTL: Final = 86399  # what Scalekit's token endpoint answers
ENVIRONMENT_ID: Final = "env_000000000000000001"
ERROR_INFO_TYPE: Final = "type.googleapis.com/scalekit.v1.errdetails.ErrorInfo"

# gRPC status name → (code, HTTP status), as grpc-gateway maps them.
GRPC: Final[dict[str, tuple[int, int]]] = {
    "INVALID_ARGUMENT": (3, 400),
    "DEADLINE_EXCEEDED": (4, 504),
    "NOT_FOUND": (5, 404),
    "ALREADY_EXISTS": (6, 409),
    "PERMISSION_DENIED": (7, 403),
    "RESOURCE_EXHAUSTED": (8, 429),
    "FAILED_PRECONDITION": (9, 400),
    "UNIMPLEMENTED": (12, 501),
    "INTERNAL": (13, 500),
    "UNAVAILABLE": (14, 503),
    "UNAUTHENTICATED": (16, 401),
}
STATUS_TO_GRPC: Final = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    409: "ALREADY_EXISTS",
    413: "INVALID_ARGUMENT",
    422: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


# --------------------------------------------------------------------------- errors


def status_body(
    name: str, message: str, violations: Sequence[tuple[str, str]] = (), error_code: str = ""
) -> dict[str, Any]:
    """A gRPC-status error body: ``{code, message, details: [ErrorInfo]}``."""
    detail: dict[str, Any] = {"@type": ERROR_INFO_TYPE, "error_code": error_code or name}
    if violations:
        detail["validation_error_info"] = {
            "field_violations": [
                {"field": field, "description": description} for field, description in violations
            ]
        }
    return {"code": GRPC.get(name, (2, 500))[0], "message": message, "details": [detail]}


def grpc_error(name: str, message: str, violations: Sequence[tuple[str, str]] = ()) -> ApiError:
    return ApiError(GRPC[name][1], status_body(name, message, violations))


def not_found(what: str, identifier: str) -> ApiError:
    return grpc_error("NOT_FOUND", f"{what} not found: {identifier}")


def oauth_error(status: int, error: str, description: str) -> ApiError:
    """RFC 6749 §5.2: the token and authorize endpoints answer in OAuth's shape."""
    return ApiError(status, {"error": error, "error_description": description})


class Violations:
    """Collects every problem of one request body before failing, so a client learns about
    all its mistakes in one INVALID_ARGUMENT with ``field_violations``."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, field: str, description: str) -> None:
        self.items.append((field, description))

    def check(self) -> None:
        if self.items:
            summary = "; ".join(f"{field}: {text}" for field, text in self.items)
            raise grpc_error("INVALID_ARGUMENT", f"invalid request: {summary}", self.items)


def json_object(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise grpc_error("INVALID_ARGUMENT", "request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise grpc_error("INVALID_ARGUMENT", "request body must be a JSON object")
    return data


def only_fields(data: Mapping[str, Any], allowed: Sequence[str], where: str = "") -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise grpc_error(
            "INVALID_ARGUMENT",
            f"unknown field(s) {', '.join(repr(f) for f in unknown)}"
            + (f" in {where}" if where else ""),
            [(f"{where}.{f}" if where else f, "unknown field") for f in unknown],
        )


def string_field(
    data: Mapping[str, Any],
    name: str,
    problems: Violations,
    *,
    required: bool = False,
    min_length: int = 0,
    max_length: int | None = None,
    pattern: str | None = None,
    hint: str = "has an invalid format",
    where: str = "",
) -> str | None:
    field = f"{where}.{name}" if where else name
    value = data.get(name)
    if value is None or value == "":
        if required:
            problems.add(field, "is required")
        return None if value is None else ""
    if not isinstance(value, str):
        problems.add(field, "must be a string")
        return None
    if len(value) < min_length or (max_length is not None and len(value) > max_length):
        bound = f"{min_length}-{max_length}" if max_length is not None else f">= {min_length}"
        problems.add(field, f"must be {bound} characters")
    elif pattern is not None and re.fullmatch(pattern, value) is None:
        problems.add(field, hint)
    return value


def string_map(
    data: Mapping[str, Any],
    name: str,
    problems: Violations,
    *,
    max_pairs: int | None = None,
    where: str = "",
) -> dict[str, str] | None:
    """A ``map<string,string>`` field with Scalekit's documented limits: keys of 3-25
    characters, values of 1-256 (and, for organizations, at most 10 pairs)."""
    field = f"{where}.{name}" if where else name
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.add(field, "must be an object of strings")
        return None
    if max_pairs is not None and len(value) > max_pairs:
        problems.add(field, f"at most {max_pairs} pairs are allowed")
    for key, item in value.items():
        if not 3 <= len(key) <= 25:
            problems.add(f"{field}.{key}", "keys must be 3-25 characters")
        if not isinstance(item, str) or not 1 <= len(item) <= 256:
            problems.add(f"{field}.{key}", "values must be strings of 1-256 characters")
    return {str(k): str(v) for k, v in value.items()}


def bool_param(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise grpc_error("INVALID_ARGUMENT", f"{name} must be true or false", [(name, "not a bool")])


# --------------------------------------------------------------------------- ids, tokens


class NumericIds:
    """Scalekit ids are a prefix and a number (``org_59615193906282635``): the user id docs
    say 19-25 characters. Monotonic, so id order is creation order (pagination relies on it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def new(self, prefix: str) -> str:
        with self._lock:
            value = max(time.time_ns() // 1000, self._last + 1)
            self._last = value
        return f"{prefix}{value:018d}"


_IDS = NumericIds()


def new_id(prefix: str) -> str:
    return _IDS.new(prefix)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenStore:
    """Access tokens issued by ``POST /oauth/token``, in memory: they do not outlive the
    process, as a restarted server's would not outlive a key rotation. JWT-shaped (HS256 with
    a per-process key); nothing here or in authform verifies their signature."""

    MAX_TOKENS: ClassVar[int] = 10_000

    def __init__(self, ttl: int = DEFAULT_TOKEN_TTL) -> None:
        self.ttl = ttl
        self._key = secrets.token_bytes(32)
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self, client_id: str) -> tuple[str, int]:
        now = time.time()
        claims = {
            "sub": client_id,
            "iat": int(now),
            "exp": int(now) + self.ttl,
            "jti": secrets.token_hex(8),
        }
        header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        token = f"{header}.{payload}.{_b64url(signature)}"
        with self._lock:
            if len(self._expiry) >= self.MAX_TOKENS:
                self._expiry = {t: e for t, e in self._expiry.items() if e > time.monotonic()}
            self._expiry[token] = time.monotonic() + self.ttl
        return token, self.ttl

    def valid(self, token: str) -> bool:
        with self._lock:
            expiry = self._expiry.get(token)
        return expiry is not None and time.monotonic() < expiry

    def revoke_all(self) -> int:
        with self._lock:
            count = len(self._expiry)
            self._expiry.clear()
        return count


# --------------------------------------------------------------------------- pagination


def encode_page_token(last_id: str) -> str:
    return _b64url(f"after:{last_id}".encode())


def encode_prev_token(first_id: str) -> str:
    return _b64url(f"before:{first_id}".encode())


def decode_page_token(token: str) -> tuple[str, str]:
    """(direction, id) from an opaque page token; a forged or foreign one is a 400."""
    try:
        padded = token + "=" * (-len(token) % 4)
        direction, _, anchor = base64.urlsafe_b64decode(padded).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        direction, anchor = "", ""
    if direction not in ("after", "before") or not anchor:
        raise grpc_error("INVALID_ARGUMENT", "invalid page token", [("page_token", "invalid")])
    return direction, anchor


def page_size_param(request: Request, *, low: int, high: int, default: int) -> int:
    raw = request.query_params.get("page_size")
    if raw is None or raw == "":
        return default
    try:
        size = int(raw)
    except ValueError:
        size = -1
    if size == 0:
        return default  # proto3: zero means "not set"
    if not low <= size <= high:
        raise grpc_error(
            "INVALID_ARGUMENT",
            f"page_size must be between {low} and {high}",
            [("page_size", f"must be between {low} and {high}")],
        )
    return size


@dataclass(frozen=True)
class Page:
    rows: list[sqlite3.Row]
    next_page_token: str
    prev_page_token: str
    total_size: int


def token_page(
    store: SqliteStore,
    table: str,
    request: Request,
    *,
    low: int,
    high: int,
    default: int,
    where: str = "",
    params: Sequence[Any] = (),
) -> Page:
    """One page of ``table`` in id (creation) order, Scalekit-style: opaque tokens to the
    next and previous pages (empty when there is none) and the total count."""
    size = page_size_param(request, low=low, high=high, default=default)
    token = request.query_params.get("page_token") or ""
    after = before = None
    if token:
        direction, anchor = decode_page_token(token)
        after, before = (anchor, None) if direction == "after" else (None, anchor)
    page = store.keyset_page(
        table, limit=size, order="asc", after=after, before=before, where=where, params=params
    )
    total = store.one(
        f"SELECT COUNT(*) AS n FROM {table}" + (f" WHERE {where}" if where else ""),  # noqa: S608
        list(params),
    )
    rows = page.rows
    return Page(
        rows=rows,
        next_page_token=encode_page_token(rows[-1]["id"]) if rows and page.has_following else "",
        prev_page_token=encode_prev_token(rows[0]["id"]) if rows and page.has_preceding else "",
        total_size=int(total["n"]) if total else 0,
    )


# --------------------------------------------------------------------------- serializers


def _placeholders(values: Sequence[Any]) -> str:
    return ",".join("?" for _ in values)


def organization_json(row: sqlite3.Row) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": row["id"],
        "display_name": row["display_name"],
        "metadata": from_json(row["metadata"], {}),
        "region_code": row["region_code"],
        "settings": {
            "features": [{"name": "sso", "enabled": False}, {"name": "dir_sync", "enabled": False}]
        },
        "create_time": row["create_time"],
        "update_time": row["update_time"],
    }
    for optional in ("external_id", "slug", "logo_url"):
        if row[optional]:
            item[optional] = row[optional]
    return item


def domain_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "domain": row["domain"],
        "environment_id": ENVIRONMENT_ID,
        "organization_id": row["organization_id"],
        "domain_type": row["domain_type"],
        "verification_status": row["verification_status"],
        "verification_method": row["verification_method"],
        "create_time": row["create_time"],
        "update_time": row["update_time"],
    }


def permission_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "is_scalekit_permission": bool(row["builtin"]),
        "create_time": row["create_time"],
        "update_time": row["update_time"],
    }


# --------------------------------------------------------------------------- the backend


class ScalekitBackend(EmulatorBackend):
    """Scalekit's API over SQLite. Operations are synchronous methods taking the request
    body as a dict (the seed loader goes through the same validation as HTTP clients);
    route handlers only parse HTTP."""

    provider: ClassVar[str] = "scalekit"
    public_routes: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {
            # The client-credentials exchange authenticates with the form body.
            ("POST", "/oauth/token"),
            # A browser navigates here; there is no token to send.
            ("GET", "/oauth/authorize"),
        }
    )

    def __init__(
        self,
        store: SqliteStore,
        social: SocialConnections,
        *,
        client_secret: str,
        client_id: str,
        token_ttl: int = DEFAULT_TOKEN_TTL,
        seed: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(store, social)
        self.client_secret = client_secret
        self.client_id = client_id
        self.tokens = TokenStore(token_ttl)
        self.token_ttl = token_ttl
        self.seed = seed
        store.apply_schema(SCALEKIT_SCHEMA)
        self._insert_builtins()
        if seed:
            apply_seed(self, seed)

    def _insert_builtins(self) -> None:
        now = now_iso()
        for name, description in BUILTIN_PERMISSIONS:
            self.store.execute(
                "INSERT OR IGNORE INTO permissions (id, name, description, builtin, create_time, "
                "update_time) VALUES (?, ?, ?, 1, ?, ?)",
                [new_id("perm_"), name, description, now, now],
            )

    # ----------------------------------------------------------------- EmulatorBackend

    def error_body(self, status: int, message: str, code: str | None = None) -> dict[str, Any]:
        """The shared app's errors (401, 404, 413, injected faults) in Scalekit's shape; the
        gRPC status follows the HTTP status, as grpc-gateway maps them."""
        name = code.upper() if code and code.upper() in GRPC else STATUS_TO_GRPC.get(status)
        return status_body(name or "UNKNOWN", message)

    def rate_limited_body(self, bucket: str) -> dict[str, Any]:
        return status_body("RESOURCE_EXHAUSTED", "Rate limit exceeded")

    def rate_limit_claims(self, method: str, path: str, body: Any) -> list[tuple[str, str]]:
        return [("general", "environment")]

    def reset(self) -> None:
        self.store.wipe(SCALEKIT_TABLES)
        self.tokens.revoke_all()
        self.tokens.ttl = self.token_ttl
        self._insert_builtins()
        if self.seed:
            apply_seed(self, self.seed)

    def routes(self) -> list[BaseRoute]:
        def route(path: str, endpoint: Any, method: str) -> Route:
            return Route(path, endpoint, methods=[method])

        orgs, users = f"{API}/organizations", f"{API}/users"
        members = f"{API}/memberships/organizations/{{organization_id}}/users"
        roles, perms = f"{API}/roles", f"{API}/permissions"
        return [
            route("/oauth/token", self._token, "POST"),
            route("/oauth/authorize", self._authorize, "GET"),
            route(orgs, self._list_organizations, "GET"),
            route(orgs, self._create_organization, "POST"),
            route(f"{orgs}:external/{{external_id}}", self._get_organization_by_external, "GET"),
            route(f"{orgs}/{{id}}", self._get_organization, "GET"),
            route(f"{orgs}/{{id}}", self._update_organization, "PATCH"),
            route(f"{orgs}/{{id}}", self._delete_organization, "DELETE"),
            route(f"{orgs}/{{organization_id}}/domains", self._list_domains, "GET"),
            route(f"{orgs}/{{organization_id}}/domains", self._create_domain, "POST"),
            route(f"{orgs}/{{organization_id}}/domains/{{id}}", self._get_domain, "GET"),
            route(f"{orgs}/{{organization_id}}/domains/{{id}}", self._delete_domain, "DELETE"),
            route(f"{orgs}/{{organization_id}}/users", self._list_organization_users, "GET"),
            route(f"{orgs}/{{organization_id}}/users", self._create_user_and_membership, "POST"),
            route(users, self._list_users, "GET"),
            route(f"{users}:external/{{external_id}}", self._get_user, "GET"),
            route(f"{users}:external/{{external_id}}", self._update_user, "PATCH"),
            route(f"{users}:external/{{external_id}}", self._delete_user, "DELETE"),
            route(f"{users}/{{id}}", self._get_user, "GET"),
            route(f"{users}/{{id}}", self._update_user, "PATCH"),
            route(f"{users}/{{id}}", self._delete_user, "DELETE"),
            route(f"{members}:external/{{external_id}}", self._create_membership, "POST"),
            route(f"{members}:external/{{external_id}}", self._update_membership, "PATCH"),
            route(f"{members}:external/{{external_id}}", self._delete_membership, "DELETE"),
            route(f"{members}/{{id}}", self._create_membership, "POST"),
            route(f"{members}/{{id}}", self._update_membership, "PATCH"),
            route(f"{members}/{{id}}", self._delete_membership, "DELETE"),
            route(roles, self._list_roles, "GET"),
            route(roles, self._create_role, "POST"),
            route(f"{roles}/{{role_name}}", self._get_role, "GET"),
            route(f"{roles}/{{role_name}}", self._update_role, "PUT"),
            route(f"{roles}/{{role_name}}", self._delete_role, "DELETE"),
            route(f"{roles}/{{role_name}}/permissions", self._list_role_permissions, "GET"),
            route(f"{roles}/{{role_name}}/permissions", self._add_role_permissions, "POST"),
            route(
                f"{roles}/{{role_name}}/permissions/{{permission_name}}",
                self._remove_role_permission,
                "DELETE",
            ),
            route(perms, self._list_permissions, "GET"),
            route(perms, self._create_permission, "POST"),
            route(f"{perms}/{{permission_name}}", self._get_permission, "GET"),
            route(f"{perms}/{{permission_name}}", self._update_permission, "PUT"),
            route(f"{perms}/{{permission_name}}", self._delete_permission, "DELETE"),
            # dashboard-only state and test conveniences
            route("/_emulate/redirect_uris", self._admin_list_redirect_uris, "GET"),
            route("/_emulate/redirect_uris", self._admin_add_redirect_uri, "POST"),
            route("/_emulate/redirect_uris", self._admin_delete_redirect_uri, "DELETE"),
            route("/_emulate/tokens", self._admin_revoke_tokens, "DELETE"),
            route("/_emulate/tokens", self._admin_token_settings, "PUT"),
            route("/_emulate/emails", self._admin_emails, "GET"),
        ]

    # ----------------------------------------------------------------- OAuth

    async def _token(self, request: Request) -> Response:
        # OAuth token requests are form-urlencoded (RFC 6749 4.4.2); parsed here rather than
        # by starlette's request.form(), which needs python-multipart, a package only the
        # test extra happened to bring in, so a plain install answered 500.
        content_type = request.headers.get("content-type", "")
        body = await request.body()
        parsed = parse_body(body, content_type) if "x-www-form-urlencoded" in content_type else None
        form: dict[str, Any] = parsed if isinstance(parsed, dict) else {}
        grant_type, client_id = form.get("grant_type"), form.get("client_id")
        client_secret = form.get("client_secret")
        if grant_type != "client_credentials":
            raise oauth_error(
                400, "unsupported_grant_type", "grant_type must be client_credentials"
            )
        if (
            not isinstance(client_id, str)
            or not isinstance(client_secret, str)
            or not hmac.compare_digest(client_id.encode(), self.client_id.encode())
            or not hmac.compare_digest(client_secret.encode(), self.client_secret.encode())
        ):
            raise oauth_error(401, "invalid_client", "invalid client credentials")
        token, ttl = self.tokens.issue(client_id)
        return JSONResponse(
            {"access_token": token, "token_type": "Bearer", "expires_in": ttl, "scope": "openid"}
        )

    async def _authorize(self, request: Request) -> Response:
        """The hosted login's entry point: refuses an unregistered redirect URL; with
        ``provider=`` redirects to that social login's OAuth provider carrying the client id
        configured in the dashboard (what ``verify`` probes); else on to the login page."""
        query = request.query_params
        client_id, redirect_uri = query.get("client_id"), query.get("redirect_uri")
        missing = [n for n in ("response_type", "client_id", "redirect_uri") if not query.get(n)]
        if missing:
            raise oauth_error(400, "invalid_request", f"missing parameter: {', '.join(missing)}")
        if client_id != self.client_id:
            raise oauth_error(400, "invalid_client", "unknown client_id")
        if not self.store.one(
            "SELECT 1 FROM dashboard_redirect_uris WHERE uri = ?", [redirect_uri]
        ):
            raise oauth_error(
                400,
                "invalid_redirect_uri",
                "Redirect URI is not part of the pre-approved list of Redirect URIs.",
            )
        assert redirect_uri is not None
        state = query.get("state")

        def back_with_error(error: str, description: str) -> Response:
            params = {"error": error, "error_description": description}
            if state is not None:
                params["state"] = state
            separator = "&" if "?" in redirect_uri else "?"
            return RedirectResponse(f"{redirect_uri}{separator}{urlencode(params)}", 302)

        if query.get("response_type") != "code":
            return back_with_error("unsupported_response_type", "response_type must be code")
        base = str(request.base_url).rstrip("/")
        provider = query.get("provider")
        if not provider:
            login = {"client_id": self.client_id, "request_id": secrets.token_hex(8)}
            return RedirectResponse(f"{base}/ui/login?{urlencode(login)}", 302)
        social = SOCIAL_PROVIDERS.get(provider)
        oauth_client_id = self.social.get(provider) if social else None
        if social is None or oauth_client_id is None:
            return back_with_error(
                "invalid_request",
                f"social login '{provider}' is not enabled (Authentication > Auth Methods > "
                "Social logins)",
            )
        params = {
            "client_id": oauth_client_id,
            "redirect_uri": f"{base}/sso/v1/oauth/{social.name}/callback",
            "response_type": "code",
            "scope": "openid email profile",
            "state": secrets.token_urlsafe(12),
        }
        return RedirectResponse(f"{social.oauth_authorize_url}?{urlencode(params)}", 302)

    # ----------------------------------------------------------------- organizations

    def organization_row(self, organization_id: str) -> sqlite3.Row:
        row = self.store.one("SELECT * FROM organizations WHERE id = ?", [organization_id])
        if row is None:
            raise not_found("organization", organization_id)
        return row

    def _check_external_id_free(self, table: str, external_id: str, own_id: str | None) -> None:
        clash = self.store.one(
            f"SELECT id FROM {table} WHERE external_id = ? AND id IS NOT ?",  # noqa: S608
            [external_id, own_id],
        )
        if clash is not None:
            raise grpc_error(
                "ALREADY_EXISTS", f"external_id {external_id!r} is already used by {clash['id']}"
            )

    def _organization_fields(self, data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        only_fields(data, ("display_name", "external_id", "metadata", "slug", "logo_url"))
        problems = Violations()
        fields: dict[str, Any] = {}
        if creating or "display_name" in data:
            fields["display_name"] = string_field(
                data, "display_name", problems, required=True, min_length=1, max_length=200
            )
        if "external_id" in data:
            fields["external_id"] = string_field(data, "external_id", problems, max_length=255)
        if "metadata" in data:
            fields["metadata"] = string_map(data, "metadata", problems, max_pairs=10) or {}
        if "slug" in data:
            fields["slug"] = string_field(
                data, "slug", problems, max_length=253, pattern=SLUG_PATTERN
            )
        if "logo_url" in data:
            fields["logo_url"] = string_field(
                data, "logo_url", problems, max_length=1024, pattern=r"https://\S+"
            )
        problems.check()
        return fields

    def create_organization(self, data: Mapping[str, Any]) -> dict[str, Any]:
        fields = self._organization_fields(data, creating=True)
        external_id = fields.get("external_id") or None
        if external_id:
            self._check_external_id_free("organizations", external_id, None)
        organization_id = new_id("org_")
        now = now_iso()
        self.store.execute(
            "INSERT INTO organizations (id, display_name, external_id, metadata, slug, logo_url, "
            "create_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                organization_id,
                fields["display_name"],
                external_id,
                to_json(fields.get("metadata") or {}),
                fields.get("slug") or None,
                fields.get("logo_url") or None,
                now,
                now,
            ],
        )
        return organization_json(self.organization_row(organization_id))

    def update_organization(self, organization_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        self.organization_row(organization_id)
        fields = self._organization_fields(data, creating=False)
        if fields.get("external_id"):
            self._check_external_id_free("organizations", fields["external_id"], organization_id)
        changes = {k: (v or None) for k, v in fields.items() if k != "metadata"}
        if "metadata" in fields:
            changes["metadata"] = to_json(fields["metadata"])  # the map is replaced whole
        changes["update_time"] = now_iso()
        assignments = ", ".join(f"{column} = ?" for column in changes)
        self.store.execute(
            f"UPDATE organizations SET {assignments} WHERE id = ?",  # noqa: S608
            [*changes.values(), organization_id],
        )
        return organization_json(self.organization_row(organization_id))

    async def _list_organizations(self, request: Request) -> Response:
        external_id = request.query_params.get("external_id")
        where, params = ("external_id = ?", [external_id]) if external_id else ("", [])
        page = token_page(
            self.store, "organizations", request, low=10, high=100, default=10,
            where=where, params=params,
        )  # fmt: skip
        return JSONResponse(
            {
                "organizations": [organization_json(row) for row in page.rows],
                "next_page_token": page.next_page_token,
                "prev_page_token": page.prev_page_token,
                "total_size": page.total_size,
            }
        )

    async def _create_organization(self, request: Request) -> Response:
        body = json_object(await request.body())
        return JSONResponse({"organization": self.create_organization(body)}, status_code=201)

    async def _get_organization(self, request: Request) -> Response:
        return JSONResponse(
            {"organization": organization_json(self.organization_row(request.path_params["id"]))}
        )

    async def _get_organization_by_external(self, request: Request) -> Response:
        external_id = request.path_params["external_id"]
        row = self.store.one("SELECT * FROM organizations WHERE external_id = ?", [external_id])
        if row is None:
            raise not_found("organization with external_id", external_id)
        return JSONResponse({"organization": organization_json(row)})

    async def _update_organization(self, request: Request) -> Response:
        body = json_object(await request.body())
        organization = self.update_organization(request.path_params["id"], body)
        return JSONResponse({"organization": organization})

    async def _delete_organization(self, request: Request) -> Response:
        organization_id = request.path_params["id"]
        self.organization_row(organization_id)
        self.store.execute("DELETE FROM organizations WHERE id = ?", [organization_id])
        return JSONResponse({})

    # ----------------------------------------------------------------- domains

    def create_domain(
        self, organization_id: str, data: Mapping[str, Any], *, status: str | None = None
    ) -> dict[str, Any]:
        """``status`` lets the seed add a DNS-pending domain, as the Admin Portal does; the
        API's own domains are admin-verified."""
        self.organization_row(organization_id)
        only_fields(data, ("domain", "domain_type"))
        problems = Violations()
        domain = string_field(data, "domain", problems, required=True, max_length=253)
        domain_type = data.get("domain_type")
        if domain_type not in DOMAIN_TYPES:
            problems.add("domain_type", f"must be one of {', '.join(DOMAIN_TYPES)}")
        name = (domain or "").strip().lower()
        if domain and re.fullmatch(DOMAIN_PATTERN, name) is None:
            problems.add("domain", "is not a valid domain name")
        elif name in PUBLIC_DOMAINS:
            problems.add("domain", "public and disposable email domains are not allowed")
        problems.check()
        if self.store.one(
            "SELECT 1 FROM domains WHERE domain = ? AND domain_type = ?", [name, domain_type]
        ):
            raise grpc_error("ALREADY_EXISTS", f"domain {name} is already registered")
        if domain_type == "ORGANIZATION_DOMAIN":
            verification = (status or "VERIFIED", "DNS" if status == "PENDING" else "ADMIN")
        else:
            verification = ("AUTO_VERIFIED", "NOT_APPLICABLE")
        domain_id = new_id("dom_")
        now = now_iso()
        self.store.execute(
            "INSERT INTO domains (id, organization_id, domain, domain_type, verification_status, "
            "verification_method, create_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [domain_id, organization_id, name, domain_type, *verification, now, now],
        )
        return domain_json(self._domain_row(organization_id, domain_id))

    def _domain_row(self, organization_id: str, domain_id: str) -> sqlite3.Row:
        row = self.store.one(
            "SELECT * FROM domains WHERE id = ? AND organization_id = ?",
            [domain_id, organization_id],
        )
        if row is None:
            raise not_found("domain", domain_id)
        return row

    async def _list_domains(self, request: Request) -> Response:
        organization_id = request.path_params["organization_id"]
        self.organization_row(organization_id)
        query = request.query_params
        try:
            size = int(query.get("page_size") or 30)
            number = int(query.get("page_number") or 0)
        except ValueError:
            raise grpc_error(
                "INVALID_ARGUMENT", "page_size and page_number must be integers"
            ) from None
        if not 1 <= size <= 100 or number < 0:
            raise grpc_error(
                "INVALID_ARGUMENT",
                "page_size must be 1-100 and page_number >= 0",
                [("page_size", "1-100"), ("page_number", ">= 0")],
            )
        conditions, params = ["organization_id = ?"], [organization_id]
        domain_type = query.get("domain_type")
        if domain_type:
            if domain_type not in DOMAIN_TYPES:
                raise grpc_error("INVALID_ARGUMENT", "unknown domain_type")
            conditions.append("domain_type = ?")
            params.append(domain_type)
        rows = self.store.all(
            f"SELECT * FROM domains WHERE {' AND '.join(conditions)} "  # noqa: S608
            "ORDER BY id LIMIT ? OFFSET ?",
            [*params, size, size * number],
        )
        return JSONResponse(
            {
                "domains": [domain_json(row) for row in rows],
                "page_number": number,
                "page_size": len(rows),
            }
        )

    async def _create_domain(self, request: Request) -> Response:
        body = json_object(await request.body())
        domain = self.create_domain(request.path_params["organization_id"], body)
        return JSONResponse({"domain": domain})  # the document says 200 for this create

    async def _get_domain(self, request: Request) -> Response:
        row = self._domain_row(request.path_params["organization_id"], request.path_params["id"])
        return JSONResponse({"domain": domain_json(row)})

    async def _delete_domain(self, request: Request) -> Response:
        row = self._domain_row(request.path_params["organization_id"], request.path_params["id"])
        self.store.execute("DELETE FROM domains WHERE id = ?", [row["id"]])
        return JSONResponse({})

    # ----------------------------------------------------------------- users

    def user_row(self, request_or_id: Request | str) -> sqlite3.Row:
        """By ``{id}`` or ``{external_id}`` in the path, or by a plain id."""
        if isinstance(request_or_id, str):
            column, value = "id", request_or_id
        elif "external_id" in request_or_id.path_params:
            column, value = "external_id", request_or_id.path_params["external_id"]
        else:
            column, value = "id", request_or_id.path_params["id"]
        row = self.store.one(f"SELECT * FROM users WHERE {column} = ?", [value])  # noqa: S608
        if row is None:
            raise not_found("user" if column == "id" else "user with external_id", value)
        return row

    def users_json(self, rows: Sequence[sqlite3.Row]) -> list[dict[str, Any]]:
        ids = [row["id"] for row in rows]
        memberships: dict[str, list[dict[str, Any]]] = {user_id: [] for user_id in ids}
        if ids:
            for m in self.store.all(
                "SELECT m.*, o.display_name AS org_name FROM memberships m "
                "JOIN organizations o ON o.id = m.organization_id "
                f"WHERE m.user_id IN ({_placeholders(ids)}) ORDER BY m.organization_id",
                ids,
            ):
                memberships[m["user_id"]].append(self._membership_json(m))
        result = []
        for row in rows:
            profile = from_json(row["profile"], {})
            item: dict[str, Any] = {
                "id": row["id"],
                "email": row["email"],
                "metadata": from_json(row["metadata"], {}),
                "user_profile": {
                    "id": "usp_" + row["id"].removeprefix("usr_"),
                    **profile,
                    "email_verified": bool(row["email_verified"]),
                    "phone_number_verified": False,
                },
                "memberships": memberships[row["id"]],
                "create_time": row["create_time"],
                "update_time": row["update_time"],
            }
            if row["external_id"]:
                item["external_id"] = row["external_id"]
            result.append(item)
        return result

    def user_json(self, user_id: str) -> dict[str, Any]:
        return self.users_json([self.user_row(user_id)])[0]

    def _membership_json(self, row: sqlite3.Row) -> dict[str, Any]:
        role_names: list[str] = from_json(row["roles"], [])
        roles = []
        for name in role_names:
            role = self.store.one("SELECT id, display_name FROM roles WHERE name = ?", [name])
            if role is not None:
                roles.append({"id": role["id"], "name": name, "display_name": role["display_name"]})
        item: dict[str, Any] = {
            "organization_id": row["organization_id"],
            "join_time": row["join_time"],
            "membership_status": row["membership_status"],
            "roles": roles,
            "name": row["org_name"],
            "display_name": row["org_name"],
            "metadata": from_json(row["metadata"], {}),
            "created_at": row["join_time"],
            "permissions": sorted(self._effective_permissions(role_names)),
        }
        if row["inviter_email"]:
            item["inviter_email"] = row["inviter_email"]
        if row["accepted_at"]:
            item["accepted_at"] = row["accepted_at"]
        return item

    def _effective_permissions(self, role_names: Sequence[str]) -> set[str]:
        """Direct permissions of each role and of the roles it extends (bounded depth)."""
        found: set[str] = set()
        pending, seen = list(role_names), set[str]()
        while pending and len(seen) < 64:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            found |= {
                r["permission_name"]
                for r in self.store.all(
                    "SELECT permission_name FROM role_permissions WHERE role_name = ?", [name]
                )
            }
            role = self.store.one("SELECT extends FROM roles WHERE name = ?", [name])
            if role is not None and role["extends"]:
                pending.append(role["extends"])
        return found

    def _parse_membership(
        self, data: Mapping[str, Any], problems: Violations, where: str = ""
    ) -> tuple[list[str] | None, dict[str, str] | None, str | None]:
        only_fields(data, ("roles", "metadata", "inviter_email"), where)
        roles: list[str] | None = None
        field = f"{where}.roles" if where else "roles"
        if "roles" in data:
            raw = data["roles"]
            if not isinstance(raw, list):
                problems.add(field, "must be a list of {name}")
                raw = []
            roles = []
            for index, item in enumerate(raw):
                name = item.get("name") if isinstance(item, dict) else None
                if isinstance(item, dict):
                    only_fields(item, ("id", "name", "display_name"), f"{field}[{index}]")
                if not isinstance(name, str) or not name:
                    problems.add(f"{field}[{index}].name", "is required")
                elif not self.store.one("SELECT 1 FROM roles WHERE name = ?", [name]):
                    problems.add(f"{field}[{index}].name", f"role {name!r} does not exist")
                else:
                    roles.append(name)
        metadata = string_map(data, "metadata", problems, where=where)
        inviter = string_field(data, "inviter_email", problems, pattern=EMAIL_PATTERN, where=where)
        return roles, metadata, inviter

    def _default_roles(self) -> list[str]:
        row = self.store.one("SELECT name FROM roles WHERE default_member = 1 ORDER BY id")
        return [row["name"]] if row else []

    def _insert_membership(
        self,
        conn: sqlite3.Connection,
        organization_id: str,
        user_id: str,
        email: str,
        *,
        roles: list[str] | None,
        metadata: dict[str, str] | None,
        inviter: str | None,
        send_invitation: bool,
    ) -> None:
        now = now_iso()
        conn.execute(
            "INSERT INTO memberships (organization_id, user_id, membership_status, roles, "
            "metadata, inviter_email, join_time, accepted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                organization_id,
                user_id,
                "PENDING_INVITE" if send_invitation else "ACTIVE",
                to_json(roles if roles else self._default_roles()),
                to_json(metadata or {}),
                inviter or None,
                now,
                None if send_invitation else now,
            ],
        )
        if send_invitation:
            conn.execute(
                "INSERT INTO outbox (kind, email, organization_id, sent_at) VALUES (?, ?, ?, ?)",
                ["invitation", email, organization_id, now],
            )

    def _profile_fields(self, data: Mapping[str, Any], problems: Violations) -> dict[str, Any]:
        allowed = [
            "given_name",
            "family_name",
            "name",
            "locale",
            "phone_number",
            "metadata",
            "custom_attributes",
            "preferred_username",
            "picture",
            "gender",
            "groups",
            "first_name",
            "last_name",
        ]
        only_fields(data, allowed, "user_profile")
        profile: dict[str, Any] = {}
        for name in ("given_name", "family_name", "first_name", "last_name", "name"):
            if name in data:
                value = string_field(data, name, problems, max_length=255, where="user_profile")
                target = {"first_name": "given_name", "last_name": "family_name"}.get(name, name)
                profile[target] = value or ""
        for name in ("locale", "phone_number", "preferred_username", "picture", "gender"):
            if name in data:
                profile[name] = string_field(data, name, problems, where="user_profile") or ""
        for name in ("metadata", "custom_attributes"):
            if name in data:
                profile[name] = string_map(data, name, problems, where="user_profile") or {}
        if "groups" in data:
            groups = data["groups"]
            if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
                problems.add("user_profile.groups", "must be a list of strings")
            else:
                profile["groups"] = list(groups)
        return profile

    def create_user_and_membership(
        self, organization_id: str, data: Mapping[str, Any], *, send_invitation: bool
    ) -> dict[str, Any]:
        self.organization_row(organization_id)
        only_fields(data, ("email", "external_id", "metadata", "user_profile", "membership"))
        problems = Violations()
        email = string_field(
            data, "email", problems, required=True, max_length=254, pattern=EMAIL_PATTERN,
            hint="is not a valid email address",
        )  # fmt: skip
        external_id = string_field(data, "external_id", problems, max_length=255)
        metadata = string_map(data, "metadata", problems)
        raw_profile = data.get("user_profile") or {}
        if not isinstance(raw_profile, dict):
            problems.add("user_profile", "must be an object")
            raw_profile = {}
        profile = self._profile_fields(raw_profile, problems)
        raw_membership = data.get("membership") or {}
        if not isinstance(raw_membership, dict):
            problems.add("membership", "must be an object")
            raw_membership = {}
        roles, membership_metadata, inviter = self._parse_membership(
            raw_membership, problems, "membership"
        )
        problems.check()
        assert email is not None
        email = email.strip()
        if self.store.one("SELECT 1 FROM users WHERE email_key = ?", [email.lower()]):
            raise grpc_error("ALREADY_EXISTS", f"a user with email {email} already exists")
        if external_id:
            self._check_external_id_free("users", external_id, None)
        user_id = new_id("usr_")
        now = now_iso()
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO users (id, email, email_key, external_id, metadata, profile, "
                "email_verified, create_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    user_id,
                    email,
                    email.lower(),
                    external_id or None,
                    to_json(metadata or {}),
                    to_json(profile),
                    # Without an invitation the membership is active and the email verified.
                    not send_invitation,
                    now,
                    now,
                ],
            )
            self._insert_membership(
                conn,
                organization_id,
                user_id,
                email,
                roles=roles,
                metadata=membership_metadata,
                inviter=inviter,
                send_invitation=send_invitation,
            )
        return self.user_json(user_id)

    def update_user(self, user_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        row = self.user_row(user_id)
        only_fields(data, ("external_id", "metadata", "user_profile"))
        problems = Violations()
        changes: dict[str, Any] = {}
        if "external_id" in data:
            external_id = string_field(data, "external_id", problems, max_length=255)
            changes["external_id"] = external_id or None
        if "metadata" in data:
            changes["metadata"] = to_json(string_map(data, "metadata", problems) or {})
        if "user_profile" in data:
            raw = data["user_profile"]
            if not isinstance(raw, dict):
                problems.add("user_profile", "must be an object")
                raw = {}
            profile = {
                **from_json(row["profile"], {}),
                **self._profile_fields(raw, problems),
            }
            changes["profile"] = to_json(profile)
        problems.check()
        if changes.get("external_id"):
            self._check_external_id_free("users", changes["external_id"], user_id)
        changes["update_time"] = now_iso()
        assignments = ", ".join(f"{column} = ?" for column in changes)
        self.store.execute(
            f"UPDATE users SET {assignments} WHERE id = ?",  # noqa: S608
            [*changes.values(), user_id],
        )
        return self.user_json(user_id)

    async def _list_users(self, request: Request) -> Response:
        page = token_page(self.store, "users", request, low=10, high=100, default=10)
        return JSONResponse(
            {
                "users": self.users_json(page.rows),
                "next_page_token": page.next_page_token,
                "prev_page_token": page.prev_page_token,
                "total_size": page.total_size,
            }
        )

    async def _list_organization_users(self, request: Request) -> Response:
        organization_id = request.path_params["organization_id"]
        self.organization_row(organization_id)
        page = token_page(
            self.store, "users", request, low=1, high=100, default=10,
            where="id IN (SELECT user_id FROM memberships WHERE organization_id = ?)",
            params=[organization_id],
        )  # fmt: skip
        return JSONResponse(
            {
                "users": self.users_json(page.rows),
                "next_page_token": page.next_page_token,
                "prev_page_token": page.prev_page_token,
                "total_size": page.total_size,
            }
        )

    async def _create_user_and_membership(self, request: Request) -> Response:
        body = json_object(await request.body())
        user = self.create_user_and_membership(
            request.path_params["organization_id"],
            body,
            send_invitation=bool_param(request, "send_invitation_email", True),
        )
        return JSONResponse({"user": user}, status_code=201)

    async def _get_user(self, request: Request) -> Response:
        return JSONResponse({"user": self.users_json([self.user_row(request)])[0]})

    async def _update_user(self, request: Request) -> Response:
        body = json_object(await request.body())
        return JSONResponse({"user": self.update_user(self.user_row(request)["id"], body)})

    async def _delete_user(self, request: Request) -> Response:
        user_id = self.user_row(request)["id"]
        self.store.execute("DELETE FROM users WHERE id = ?", [user_id])
        return JSONResponse({})

    # ----------------------------------------------------------------- memberships

    def create_membership(
        self, organization_id: str, user_id: str, data: Mapping[str, Any], *, send_invitation: bool
    ) -> dict[str, Any]:
        self.organization_row(organization_id)
        user = self.user_row(user_id)
        problems = Violations()
        roles, metadata, inviter = self._parse_membership(data, problems)
        problems.check()
        if self.store.one(
            "SELECT 1 FROM memberships WHERE organization_id = ? AND user_id = ?",
            [organization_id, user_id],
        ):
            raise grpc_error(
                "ALREADY_EXISTS", f"user {user_id} is already a member of {organization_id}"
            )
        with self.store.transaction() as conn:
            self._insert_membership(
                conn,
                organization_id,
                user_id,
                user["email"],
                roles=roles,
                metadata=metadata,
                inviter=inviter,
                send_invitation=send_invitation,
            )
        return self.user_json(user_id)

    def _membership_row(self, organization_id: str, user_id: str) -> sqlite3.Row:
        row = self.store.one(
            "SELECT * FROM memberships WHERE organization_id = ? AND user_id = ?",
            [organization_id, user_id],
        )
        if row is None:
            raise not_found("membership", f"{organization_id}/{user_id}")
        return row

    async def _create_membership(self, request: Request) -> Response:
        body = json_object(await request.body())
        organization_id = request.path_params["organization_id"]
        self.organization_row(organization_id)
        user = self.create_membership(
            organization_id,
            self.user_row(request)["id"],
            body,
            send_invitation=bool_param(request, "send_invitation_email", True),
        )
        return JSONResponse({"user": user}, status_code=201)

    async def _update_membership(self, request: Request) -> Response:
        body = json_object(await request.body())
        organization_id = request.path_params["organization_id"]
        self.organization_row(organization_id)
        user_id = self.user_row(request)["id"]
        self._membership_row(organization_id, user_id)
        only_fields(body, ("roles", "metadata"))
        problems = Violations()
        roles, metadata, _ = self._parse_membership(body, problems)
        problems.check()
        changes: dict[str, Any] = {}
        if roles is not None:
            changes["roles"] = to_json(roles)
        if metadata is not None:
            changes["metadata"] = to_json(metadata)
        if changes:
            assignments = ", ".join(f"{column} = ?" for column in changes)
            self.store.execute(
                f"UPDATE memberships SET {assignments} "  # noqa: S608
                "WHERE organization_id = ? AND user_id = ?",
                [*changes.values(), organization_id, user_id],
            )
        return JSONResponse({"user": self.user_json(user_id)})

    async def _delete_membership(self, request: Request) -> Response:
        organization_id = request.path_params["organization_id"]
        self.organization_row(organization_id)
        user_id = self.user_row(request)["id"]
        self._membership_row(organization_id, user_id)
        self.store.execute(
            "DELETE FROM memberships WHERE organization_id = ? AND user_id = ?",
            [organization_id, user_id],
        )
        return JSONResponse({})

    # ----------------------------------------------------------------- roles

    def role_row(self, name: str) -> sqlite3.Row:
        row = self.store.one("SELECT * FROM roles WHERE name = ?", [name])
        if row is None:
            raise not_found("role", name)
        return row

    def _role_permission_rows(self, name: str) -> list[sqlite3.Row]:
        return self.store.all(
            "SELECT p.*, rp.role_name FROM role_permissions rp "
            "JOIN permissions p ON p.name = rp.permission_name "
            "WHERE rp.role_name = ? ORDER BY p.name",
            [name],
        )

    def role_json(self, row: sqlite3.Row, include: str | None = None) -> dict[str, Any]:
        dependents = self.store.one(
            "SELECT COUNT(*) AS n FROM roles WHERE extends = ?", [row["name"]]
        )
        item: dict[str, Any] = {
            "id": row["id"],
            "name": row["name"],
            "display_name": row["display_name"],
            "description": row["description"],
            "default_creator": bool(row["default_creator"]),
            "default_member": bool(row["default_member"]),
            "is_org_role": False,
            "dependent_roles_count": int(dependents["n"]) if dependents else 0,
        }
        if row["extends"]:
            item["extends"] = row["extends"]
        if include in ("permissions", "permissions:all"):
            chain = [row["name"]]
            if include == "permissions:all":
                base = row["extends"]
                while base and base not in chain and len(chain) < 64:
                    chain.append(base)
                    parent = self.store.one("SELECT extends FROM roles WHERE name = ?", [base])
                    base = parent["extends"] if parent else None
            item["permissions"] = [
                {
                    "id": p["id"],
                    "name": p["name"],
                    "description": p["description"],
                    "create_time": p["create_time"],
                    "update_time": p["update_time"],
                    "role_name": p["role_name"],
                }
                for name in chain
                for p in self._role_permission_rows(name)
            ]
        return item

    def _check_permissions_exist(self, names: Sequence[str], field: str) -> None:
        problems = Violations()
        for index, name in enumerate(names):
            if not self.store.one("SELECT 1 FROM permissions WHERE name = ?", [name]):
                problems.add(f"{field}[{index}]", f"permission {name!r} does not exist")
        problems.check()

    def _string_list(
        self, data: Mapping[str, Any], name: str, problems: Violations, limit: int = 100
    ) -> list[str] | None:
        value = data.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.add(name, "must be a list of strings")
            return None
        if len(value) > limit:
            problems.add(name, f"at most {limit} items")
        return list(dict.fromkeys(value))

    def create_role(self, data: Mapping[str, Any]) -> dict[str, Any]:
        only_fields(data, ("name", "display_name", "description", "extends", "permissions"))
        problems = Violations()
        name = string_field(
            data, "name", problems, required=True, pattern=ROLE_NAME_PATTERN,
            hint="must be 1-64 letters, digits or underscores",
        )  # fmt: skip
        display_name = string_field(
            data, "display_name", problems, required=True, min_length=1, max_length=100
        )
        description = string_field(data, "description", problems, max_length=2000)
        extends = string_field(data, "extends", problems)
        permissions = self._string_list(data, "permissions", problems) or []
        problems.check()
        assert name is not None and display_name is not None
        if self.store.one("SELECT 1 FROM roles WHERE name = ?", [name]):
            raise grpc_error("ALREADY_EXISTS", f"role {name} already exists")
        if extends:
            self.role_row(extends)
        self._check_permissions_exist(permissions, "permissions")
        now = now_iso()
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO roles (id, name, display_name, description, extends, create_time, "
                "update_time) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [new_id("role_"), name, display_name, description or "", extends or None, now, now],
            )
            for permission in permissions:
                conn.execute(
                    "INSERT INTO role_permissions (role_name, permission_name, create_time) "
                    "VALUES (?, ?, ?)",
                    [name, permission, now],
                )
        return self.role_json(self.role_row(name), "permissions")

    def update_role(self, name: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Only the fields sent change. ``permissions``, when sent and not empty, replaces the
        role's direct permissions; an empty list is the same as none (proto3 cannot tell
        them apart), which is why clients remove permissions one by one."""
        self.role_row(name)
        only_fields(data, ("display_name", "description", "extends", "permissions"))
        problems = Violations()
        changes: dict[str, Any] = {}
        if data.get("display_name"):
            changes["display_name"] = string_field(
                data, "display_name", problems, min_length=1, max_length=100
            )
        if "description" in data:
            changes["description"] = (
                string_field(data, "description", problems, max_length=2000) or ""
            )
        if data.get("extends"):
            changes["extends"] = string_field(data, "extends", problems)
        permissions = self._string_list(data, "permissions", problems)
        problems.check()
        if changes.get("extends"):
            self.role_row(changes["extends"])
        if permissions:
            self._check_permissions_exist(permissions, "permissions")
        now = now_iso()
        changes["update_time"] = now
        with self.store.transaction() as conn:
            assignments = ", ".join(f"{column} = ?" for column in changes)
            conn.execute(
                f"UPDATE roles SET {assignments} WHERE name = ?",  # noqa: S608
                [*changes.values(), name],
            )
            if permissions:
                conn.execute("DELETE FROM role_permissions WHERE role_name = ?", [name])
                for permission in permissions:
                    conn.execute(
                        "INSERT INTO role_permissions (role_name, permission_name, create_time) "
                        "VALUES (?, ?, ?)",
                        [name, permission, now],
                    )
        return self.role_json(self.role_row(name), "permissions")

    def add_role_permissions(self, name: str, permissions: Sequence[str]) -> None:
        self.role_row(name)
        self._check_permissions_exist(permissions, "permission_names")
        now = now_iso()
        for permission in permissions:
            self.store.execute(
                "INSERT OR IGNORE INTO role_permissions (role_name, permission_name, "
                "create_time) VALUES (?, ?, ?)",
                [name, permission, now],
            )

    async def _list_roles(self, request: Request) -> Response:
        include = request.query_params.get("include")
        rows = self.store.all("SELECT * FROM roles ORDER BY id")
        return JSONResponse({"roles": [self.role_json(row, include) for row in rows]})

    async def _create_role(self, request: Request) -> Response:
        body = json_object(await request.body())
        return JSONResponse({"role": self.create_role(body)}, status_code=201)

    async def _get_role(self, request: Request) -> Response:
        row = self.role_row(request.path_params["role_name"])
        return JSONResponse({"role": self.role_json(row, request.query_params.get("include"))})

    async def _update_role(self, request: Request) -> Response:
        body = json_object(await request.body())
        return JSONResponse({"role": self.update_role(request.path_params["role_name"], body)})

    async def _delete_role(self, request: Request) -> Response:
        name = request.path_params["role_name"]
        self.role_row(name)
        reassign = request.query_params.get("reassign_role_name")
        if self.store.one("SELECT 1 FROM roles WHERE extends = ?", [name]):
            raise grpc_error("FAILED_PRECONDITION", f"role {name} has dependent roles")
        members = self.store.all("SELECT organization_id, user_id, roles FROM memberships")
        holders = [m for m in members if name in from_json(m["roles"], [])]
        if holders and not reassign:
            raise grpc_error(
                "FAILED_PRECONDITION",
                f"role {name} is assigned to {len(holders)} user(s); pass reassign_role_name",
            )
        if reassign:
            self.role_row(reassign)
        with self.store.transaction() as conn:
            for m in holders:
                roles = [reassign if r == name else r for r in from_json(m["roles"], [])]
                conn.execute(
                    "UPDATE memberships SET roles = ? WHERE organization_id = ? AND user_id = ?",
                    [to_json(list(dict.fromkeys(roles))), m["organization_id"], m["user_id"]],
                )
            conn.execute("DELETE FROM roles WHERE name = ?", [name])
        return JSONResponse({})

    async def _list_role_permissions(self, request: Request) -> Response:
        name = request.path_params["role_name"]
        self.role_row(name)
        return JSONResponse(
            {"permissions": [permission_json(p) for p in self._role_permission_rows(name)]}
        )

    async def _add_role_permissions(self, request: Request) -> Response:
        name = request.path_params["role_name"]
        body = json_object(await request.body())
        only_fields(body, ("permission_names",))
        problems = Violations()
        names = self._string_list(body, "permission_names", problems) or []
        problems.check()
        self.add_role_permissions(name, names)
        return JSONResponse(
            {"permissions": [permission_json(p) for p in self._role_permission_rows(name)]}
        )

    async def _remove_role_permission(self, request: Request) -> Response:
        name, permission = request.path_params["role_name"], request.path_params["permission_name"]
        self.role_row(name)
        cursor = self.store.execute(
            "DELETE FROM role_permissions WHERE role_name = ? AND permission_name = ?",
            [name, permission],
        )
        if cursor.rowcount == 0:
            raise not_found("role permission", f"{name}/{permission}")
        return JSONResponse({})

    # ----------------------------------------------------------------- permissions

    def permission_row(self, name: str) -> sqlite3.Row:
        row = self.store.one("SELECT * FROM permissions WHERE name = ?", [name])
        if row is None:
            raise not_found("permission", name)
        return row

    def create_permission(self, data: Mapping[str, Any]) -> dict[str, Any]:
        only_fields(data, ("name", "description"))
        problems = Violations()
        name = string_field(
            data, "name", problems, required=True, pattern=PERMISSION_NAME_PATTERN,
            hint="must be 1-64 letters, digits, underscores or colons",
        )  # fmt: skip
        description = string_field(data, "description", problems, max_length=2000)
        problems.check()
        assert name is not None
        if self.store.one("SELECT 1 FROM permissions WHERE name = ?", [name]):
            raise grpc_error("ALREADY_EXISTS", f"permission {name} already exists")
        now = now_iso()
        self.store.execute(
            "INSERT INTO permissions (id, name, description, create_time, update_time) "
            "VALUES (?, ?, ?, ?, ?)",
            [new_id("perm_"), name, description or "", now, now],
        )
        return permission_json(self.permission_row(name))

    async def _list_permissions(self, request: Request) -> Response:
        kind = request.query_params.get("type") or "ALL"
        if kind not in ("ALL", "SCALEKIT", "ENVIRONMENT"):
            raise grpc_error("INVALID_ARGUMENT", "type must be ALL, SCALEKIT or ENVIRONMENT")
        where = {"ALL": "", "SCALEKIT": "builtin = 1", "ENVIRONMENT": "builtin = 0"}[kind]
        page = token_page(
            self.store, "permissions", request, low=1, high=100, default=30, where=where
        )
        return JSONResponse(
            {
                "permissions": [permission_json(row) for row in page.rows],
                "next_page_token": page.next_page_token,
                "prev_page_token": page.prev_page_token,
                "total_size": page.total_size,
            }
        )

    async def _create_permission(self, request: Request) -> Response:
        body = json_object(await request.body())
        return JSONResponse({"permission": self.create_permission(body)}, status_code=201)

    async def _get_permission(self, request: Request) -> Response:
        row = self.permission_row(request.path_params["permission_name"])
        return JSONResponse({"permission": permission_json(row)})

    async def _update_permission(self, request: Request) -> Response:
        name = request.path_params["permission_name"]
        row = self.permission_row(name)
        body = json_object(await request.body())
        only_fields(body, ("name", "description"))
        if body.get("name") and body["name"] != name:
            raise grpc_error(
                "INVALID_ARGUMENT", "a permission's name cannot be changed", [("name", "immutable")]
            )
        if row["builtin"]:
            raise grpc_error("PERMISSION_DENIED", f"{name} is a Scalekit permission")
        problems = Violations()
        description = string_field(body, "description", problems, max_length=2000)
        problems.check()
        if "description" in body:
            self.store.execute(
                "UPDATE permissions SET description = ?, update_time = ? WHERE name = ?",
                [description or "", now_iso(), name],
            )
        return JSONResponse({"permission": permission_json(self.permission_row(name))})

    async def _delete_permission(self, request: Request) -> Response:
        name = request.path_params["permission_name"]
        row = self.permission_row(name)
        if row["builtin"]:
            raise grpc_error("PERMISSION_DENIED", f"{name} is a Scalekit permission")
        assigned = self.store.all(
            "SELECT role_name FROM role_permissions WHERE permission_name = ?", [name]
        )
        if assigned:
            roles = ", ".join(sorted(r["role_name"] for r in assigned))
            raise grpc_error(
                "FAILED_PRECONDITION", f"permission {name} is assigned to role(s) {roles}"
            )
        self.store.execute("DELETE FROM permissions WHERE name = ?", [name])
        return JSONResponse({})

    # ----------------------------------------------------------------- dashboard-only state

    def add_redirect_uri(self, uri: str) -> None:
        if not isinstance(uri, str) or not re.fullmatch(r"[a-zA-Z][a-zA-Z0-9+.-]*://\S+", uri):
            raise grpc_error("INVALID_ARGUMENT", "uri must be an absolute URL", [("uri", "")])
        self.store.execute(
            "INSERT OR IGNORE INTO dashboard_redirect_uris (uri, created_at) VALUES (?, ?)",
            [uri, now_iso()],
        )

    async def _admin_list_redirect_uris(self, request: Request) -> Response:
        rows = self.store.all("SELECT * FROM dashboard_redirect_uris ORDER BY created_at, uri")
        return JSONResponse({"data": [dict(row) for row in rows]})

    async def _admin_add_redirect_uri(self, request: Request) -> Response:
        body = json_object(await request.body())
        self.add_redirect_uri(body.get("uri"))  # type: ignore[arg-type]
        return JSONResponse({"uri": body["uri"]}, status_code=201)

    async def _admin_delete_redirect_uri(self, request: Request) -> Response:
        uri = request.query_params.get("uri") or ""
        self.store.execute("DELETE FROM dashboard_redirect_uris WHERE uri = ?", [uri])
        return Response(status_code=204)

    async def _admin_revoke_tokens(self, request: Request) -> Response:
        return JSONResponse({"revoked": self.tokens.revoke_all()})

    async def _admin_token_settings(self, request: Request) -> Response:
        body = json_object(await request.body())
        ttl = body.get("expires_in")
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not 1 <= ttl <= 86400 * 30:
            raise grpc_error("INVALID_ARGUMENT", "expires_in must be 1-2592000 seconds")
        self.tokens.ttl = ttl
        return JSONResponse({"expires_in": ttl})

    async def _admin_emails(self, request: Request) -> Response:
        rows = self.store.all(
            "SELECT kind, email, organization_id, sent_at FROM outbox ORDER BY id"
        )
        return JSONResponse({"data": [dict(row) for row in rows]})


# --------------------------------------------------------------------------- the app

_PATH: contextvars.ContextVar[str] = contextvars.ContextVar("scalekit_emulator_path", default="")


class ScalekitEmulatorApp(EmulatorApp):
    """The shared app with Scalekit's two-step auth: the API takes access tokens issued by
    ``POST /oauth/token``; the client secret itself is accepted only on ``/_emulate`` admin
    routes (the test harness's and ``--emulate``'s dashboard), never on the API."""

    backend: ScalekitBackend

    async def _serve_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        reset = _PATH.set(scope["path"])
        try:
            await super()._serve_http(scope, receive, send)
        finally:
            _PATH.reset(reset)

    def _authorized(self, headers: Mapping[str, str]) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        path = _PATH.get()
        if path == "/_emulate" or path.startswith("/_emulate/"):
            return hmac.compare_digest(token.strip().encode(), self.api_key.encode())
        return self.backend.tokens.valid(token.strip())


# --------------------------------------------------------------------------- seed


def load_seed(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a seed file must be a mapping")
    return data


def apply_seed(backend: ScalekitBackend, seed: Mapping[str, Any]) -> None:
    """Load a starting state; items whose natural key exists are skipped, so seeding a
    persistent database on every start is harmless.

    ```yaml
    permissions: [{name: "billing:manage", description: Change plans}]
    roles: [{name: admin, display_name: Admin, permissions: ["billing:manage"]}]
    organizations:
      - {display_name: Acme, external_id: acme, domains: [{domain: acme.com, state: pending}]}
    users:
      - {email: ada@acme.com, external_id: u1, memberships: [{organization: acme, role: admin}]}
    redirect_uris: [https://app.example.com/callback]
    social_connections: {google: 1234.apps.googleusercontent.com}
    ```
    A domain's ``state: pending`` adds it DNS-pending, as the Admin Portal would.
    """
    known = {
        "permissions",
        "roles",
        "organizations",
        "users",
        "redirect_uris",
        "social_connections",
    }
    unknown = set(seed) - known
    if unknown:
        raise ValueError(f"unknown seed sections: {', '.join(sorted(unknown))}")

    def items(section: str) -> list[Any]:
        value = seed.get(section) or []
        if not isinstance(value, list):
            raise ValueError(f"seed section {section!r} must be a list")
        return value

    def attempt(what: str, operation: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return operation(*args, **kwargs)
        except ApiError as exc:
            raise ValueError(f"seed {what}: {json.dumps(exc.body)}") from None

    store = backend.store
    for item in items("permissions"):
        if not store.one("SELECT 1 FROM permissions WHERE name = ?", [_seed_key(item, "name")]):
            attempt(f"permission {item['name']}", backend.create_permission, item)
    for item in items("roles"):
        if not store.one("SELECT 1 FROM roles WHERE name = ?", [_seed_key(item, "name")]):
            attempt(f"role {item['name']}", backend.create_role, item)
    for item in items("organizations"):
        name = _seed_key(item, "display_name")
        if _find_organization(store, item.get("external_id") or name) is not None:
            continue
        body = {key: value for key, value in item.items() if key != "domains"}
        org = attempt(f"organization {name}", backend.create_organization, body)
        for domain in item.get("domains") or []:
            status = "PENDING" if domain.get("state") == "pending" else None
            request = {"domain": domain["domain"], "domain_type": "ORGANIZATION_DOMAIN"}
            attempt(
                f"domain {domain['domain']}", backend.create_domain, org["id"], request,
                status=status,
            )  # fmt: skip
    for item in items("users"):
        email = str(_seed_key(item, "email"))
        memberships = item.get("memberships") or []
        if not memberships:
            raise ValueError(f"seed user {email}: Scalekit users need an organization membership")
        if store.one("SELECT 1 FROM users WHERE email_key = ?", [email.lower()]):
            continue
        user_id = None
        for membership in memberships:
            org_id = _find_organization(store, str(_seed_key(membership, "organization")))
            if org_id is None:
                raise ValueError(f"seed user {email}: no organization {membership['organization']}")
            roles = [{"name": membership["role"]}] if membership.get("role") else []
            if user_id is None:
                body = {k: v for k, v in item.items() if k != "memberships"}
                body["membership"] = {"roles": roles}
                user = attempt(
                    f"user {email}", backend.create_user_and_membership, org_id, body,
                    send_invitation=False,
                )  # fmt: skip
                user_id = user["id"]
            else:
                attempt(
                    f"membership {email}", backend.create_membership, org_id, user_id,
                    {"roles": roles}, send_invitation=False,
                )  # fmt: skip
    for uri in items("redirect_uris"):
        attempt(f"redirect URI {uri}", backend.add_redirect_uri, uri)
    connections = seed.get("social_connections") or {}
    if not isinstance(connections, dict):
        raise ValueError("seed social_connections must be a mapping provider -> client_id")
    for provider, client_id in connections.items():
        check_social_provider(provider)
        backend.social.set(provider, str(client_id))


def _seed_key(item: Any, key: str) -> Any:
    if not isinstance(item, dict) or item.get(key) is None:
        raise ValueError(f"seed item {item!r} needs {key!r}")
    return item[key]


def _find_organization(store: SqliteStore, reference: str) -> str | None:
    """An organization id by external id, else by display name."""
    row = store.one("SELECT id FROM organizations WHERE external_id = ?", [reference])
    row = row or store.one(
        "SELECT id FROM organizations WHERE display_name = ? ORDER BY id", [reference]
    )
    return None if row is None else str(row["id"])


# --------------------------------------------------------------------------- app factory


def create_scalekit_app(
    db_path: str | Path = ":memory:",
    api_key: str = "sk_test_emulator",
    client_id: str = "client_emulator",
    rate_limits: ScalekitRateLimits | None = None,
    *,
    seed: Path | str | Mapping[str, Any] | None = None,
    token_ttl: int = DEFAULT_TOKEN_TTL,
) -> EmulatorApp:
    """The Scalekit emulator as an ASGI app. ``api_key`` is the environment's client secret
    and ``client_id`` its client id: together they buy access tokens at ``/oauth/token``."""
    store = SqliteStore(db_path)
    seed_data = load_seed(seed) if isinstance(seed, str | Path) else seed
    try:
        backend = ScalekitBackend(
            store,
            SocialConnections(store),
            client_secret=api_key,
            client_id=client_id,
            token_ttl=token_ttl,
            seed=seed_data,
        )
    except BaseException:
        store.close()
        raise
    return ScalekitEmulatorApp(
        backend, api_key=api_key, rate_limits=rate_limits or ScalekitRateLimits()
    )


def set_dashboard_redirect_uri(emulator: Any, uri: str, present: bool) -> None:
    """Register (or remove) a redirect URL on a running Scalekit emulator, as a person would
    in Authentication > Redirects (for tests). ``emulator`` is a ``RunningEmulator``."""
    from .dashboard import DashboardStep

    emulator.dashboard.perform(DashboardStep("redirect_uri", uri, present))
