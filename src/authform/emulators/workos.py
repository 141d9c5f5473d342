"""A local WorkOS API: the endpoints authform calls, with WorkOS's paths, payloads, ids,
pagination, error bodies, rate limits, bcrypt password checks and social-login redirects.

Shapes follow WorkOS's OpenAPI document (``reference/openapi/workos.yaml``) and the official
Python SDK generated from it; where they disagree the SDK wins, because that is what users'
code runs, and the fidelity tests say so next to the case. Error codes are the document's own
(``external_id_already_used``, ``user_creation_error`` + ``email_not_available``,
``invalid_credentials``, ``role_slug_conflict``…); where the document names none, the code is
ours and says what happened.

State lives in SQLite (see ``store.py``); everything a list endpoint filters on is a column
with an index, so paging through 10,000 organizations is one range scan per page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Final
from urllib.parse import parse_qsl, urlencode, urlsplit

import bcrypt
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from authform.social import WORKOS_NAME_TO_SOCIAL

from .base import (
    ApiError,
    EmulatorApp,
    EmulatorBackend,
    Limit,
    LimitTable,
    SocialConnections,
    check_social_provider,
)
from .seeding import SeedSection, apply_seed, load_seed
from .store import ListOrder, SqliteStore, from_json, new_id, now_iso, to_json


@dataclass(frozen=True)
class RateLimits(LimitTable):
    """WorkOS's documented limits (https://workos.com/docs/reference/rate-limits).

    Buckets: ``general`` per API key, ``user_management_reads``/``_writes`` per environment
    for ``/user_management/*``, ``authenticate_per_email`` on ``/user_management/authenticate``.
    Tests scale them down, e.g. ``RateLimits(user_management_writes=Limit(50, 1))``.
    """

    general: Limit | None = Limit(6000, 60)
    user_management_reads: Limit | None = Limit(1000, 10)
    user_management_writes: Limit | None = Limit(500, 10)
    authenticate_per_email: Limit | None = Limit(10, 60)

    @classmethod
    def disabled(cls) -> RateLimits:
        return cls(enabled=False)


WORKOS_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS organizations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    external_id TEXT UNIQUE,
    metadata TEXT NOT NULL DEFAULT '{}',
    stripe_customer_id TEXT,
    allow_profiles_outside_organization INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS organization_domains (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    domain TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    verification_strategy TEXT NOT NULL,
    verification_prefix TEXT NOT NULL,
    verification_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS organization_domains_by_org
    ON organization_domains(organization_id, id);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    email_verified INTEGER NOT NULL DEFAULT 0,
    first_name TEXT,
    last_name TEXT,
    name TEXT,
    external_id TEXT UNIQUE,
    metadata TEXT NOT NULL DEFAULT '{}',
    locale TEXT,
    last_sign_in_at TEXT,
    password_hash TEXT,
    password_hash_type TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS organization_memberships (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    role_slugs TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (user_id, organization_id)
);
CREATE INDEX IF NOT EXISTS organization_memberships_by_org
    ON organization_memberships(organization_id, id);
CREATE INDEX IF NOT EXISTS organization_memberships_by_user
    ON organization_memberships(user_id, id);
CREATE TABLE IF NOT EXISTS roles (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    resource_type_slug TEXT NOT NULL,
    permissions TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS permissions (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    resource_type_slug TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS redirect_uris (
    id TEXT PRIMARY KEY,
    uri TEXT NOT NULL UNIQUE,
    is_default INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cors_origins (
    id TEXT PRIMARY KEY,
    origin TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""

# Children before parents, so a wipe never trips a foreign key.
WORKOS_TABLES: Final = (
    "organization_memberships",
    "organization_domains",
    "users",
    "organizations",
    "roles",
    "permissions",
    "redirect_uris",
    "cors_origins",
)

# Surrounding whitespace is allowed: WorkOS trims it (and lowercases) before storing.
EMAIL_PATTERN: Final = r"\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*"
EXTERNAL_ID_PATTERN: Final = r"[\x00-\x7F]+"
# Permission slugs: "lowercase … letters, numbers, hyphens, underscores, colons, periods, and
# asterisks" (SDK docstring). Role slugs: the same minus asterisks.
PERMISSION_SLUG_PATTERN: Final = r"[a-z0-9_\-:.*]+"
ROLE_SLUG_PATTERN: Final = r"[a-z0-9_\-:.]+"
DOMAIN_PATTERN: Final = r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}"
BCRYPT_PATTERN: Final = r"\$2[abxy]\$\d{2}\$[./A-Za-z0-9]{53}"
PASSWORD_HASH_TYPES: Final = (
    "bcrypt",
    "firebase-scrypt",
    "ssha",
    "ssha256",
    "scrypt",
    "pbkdf2",
    "argon2",
)
MEMBERSHIP_STATUSES: Final = ("active", "inactive", "pending")
DEFAULT_RESOURCE_TYPE: Final = "organization"
DEFAULT_ROLE: Final = "member"
BCRYPT_ROUNDS: Final = 10
BCRYPT_MAX_BYTES: Final = 72  # bcrypt ignores the rest; the library refuses longer input


# --------------------------------------------------------------------------- errors


def error_body(message: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message}
    if code is not None:
        body["code"] = code
    body.update(extra)
    return body


def not_found(kind: str, identifier: str) -> ApiError:
    # The document's 404 example: "Organization not found: 'org_01EHQMYV6MBK39QC5PZXHY59C3'."
    return ApiError(404, error_body(f"{kind} not found: '{identifier}'.", "entity_not_found"))


def bad_request(code: str, message: str, **extra: Any) -> ApiError:
    return ApiError(400, error_body(message, code, **extra))


def unprocessable(message: str, errors: list[dict[str, str]] | None = None) -> ApiError:
    extra = {"errors": errors} if errors else {}
    return ApiError(422, error_body(message, "invalid_request_parameters", **extra))


def oauth_error(error: str, description: str) -> ApiError:
    """The ``{error, error_description}`` shape WorkOS uses on its OAuth-style endpoints."""
    return ApiError(400, {"error": error, "error_description": description})


# --------------------------------------------------------------------------- validation


class Fields:
    """Reads typed fields from a request body, collecting every problem before failing, so a
    client learns about all its mistakes in one 422 (``errors: [{field, code}]``)."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: list[dict[str, str]] = []
        self.messages: list[str] = []

    def has(self, name: str) -> bool:
        return name in self.data

    def fail(self, name: str, code: str, message: str) -> None:
        self.errors.append({"field": name, "code": code})
        self.messages.append(message)

    def string(
        self,
        name: str,
        *,
        required: bool = False,
        nullable: bool = False,
        non_empty: bool = False,
        max_length: int | None = None,
        pattern: str | None = None,
        pattern_hint: str = "has an invalid format",
    ) -> str | None:
        if name not in self.data:
            if required:
                self.fail(name, "required", f"{name} is required.")
            return None
        value = self.data[name]
        if value is None:
            if required and not nullable:
                self.fail(name, "required", f"{name} is required.")
            elif not nullable:
                self.fail(name, "invalid_type", f"{name} must be a string, not null.")
            return None
        if not isinstance(value, str):
            self.fail(name, "invalid_type", f"{name} must be a string.")
            return None
        if non_empty and not value.strip():
            self.fail(name, "required", f"{name} must not be empty.")
        elif max_length is not None and len(value) > max_length:
            self.fail(name, "too_long", f"{name} must be at most {max_length} characters.")
        elif pattern is not None and re.fullmatch(pattern, value) is None:
            self.fail(name, "invalid_format", f"{name} {pattern_hint}.")
        return value

    def boolean(self, name: str, *, nullable: bool = False) -> bool | None:
        value = self.data.get(name)
        if value is None:
            if name in self.data and not nullable:
                self.fail(name, "invalid_type", f"{name} must be a boolean.")
            return None
        if not isinstance(value, bool):
            self.fail(name, "invalid_type", f"{name} must be a boolean.")
            return None
        return value

    def string_list(self, name: str, *, required: bool = False) -> list[str] | None:
        if name not in self.data:
            if required:
                self.fail(name, "required", f"{name} is required.")
            return None
        value = self.data[name]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.fail(name, "invalid_type", f"{name} must be an array of strings.")
            return None
        return list(value)

    def check(self) -> None:
        if self.errors:
            raise unprocessable(" ".join(self.messages), self.errors)


def json_object(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object; an empty body is an empty object."""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise unprocessable("Request body must be valid JSON.") from None
    if not isinstance(data, dict):
        raise unprocessable("Request body must be a JSON object.")
    return data


def parse_metadata(data: Mapping[str, Any]) -> dict[str, str] | None:
    """``metadata`` if present (explicit null clears it), validated like WorkOS: at most 50
    keys of at most 40 characters, string values of at most 600 characters."""
    if "metadata" not in data:
        return None
    value = data["metadata"]
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise unprocessable(
            "metadata must be an object.", [{"field": "metadata", "code": "invalid_type"}]
        )
    if len(value) > 50:
        raise bad_request("invalid_metadata", "Metadata can have at most 50 keys.")
    for key, item in value.items():
        if len(key) > 40:
            raise bad_request("invalid_metadata", f"Metadata key '{key}' exceeds 40 characters.")
        if not isinstance(item, str):
            raise bad_request("invalid_metadata", f"Metadata value for '{key}' must be a string.")
        if len(item) > 600:
            raise bad_request(
                "invalid_metadata", f"Metadata value for '{key}' exceeds 600 characters."
            )
    return dict(value)


@dataclass(frozen=True)
class ListParams:
    limit: int
    order: ListOrder
    before: str | None
    after: str | None


def parse_list_params(request: Request) -> ListParams:
    query = request.query_params
    raw_limit = query.get("limit", "10")
    try:
        limit = int(raw_limit)
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        raise unprocessable(
            f"limit must be an integer between 1 and 100, got '{raw_limit}'.",
            [{"field": "limit", "code": "out_of_range"}],
        )
    order = query.get("order", "desc")
    if order not in ("asc", "desc", "normal"):
        raise unprocessable(
            f"order must be one of asc, desc, normal, got '{order}'.",
            [{"field": "order", "code": "invalid_enum_value"}],
        )
    return ListParams(
        limit=limit,
        order=order,  # type: ignore[arg-type]  # narrowed by the check above
        before=query.get("before") or None,
        after=query.get("after") or None,
    )


def query_list(request: Request, name: str) -> list[str]:
    """A list query parameter, comma-joined (what the SDK sends) or repeated."""
    values = [*request.query_params.getlist(name), *request.query_params.getlist(f"{name}[]")]
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


# --------------------------------------------------------------------------- passwords, tokens


def hash_password(password: str) -> str:
    secret = password.encode()[:BCRYPT_MAX_BYTES]
    return bcrypt.hashpw(secret, bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def password_matches(password: str, stored_hash: str) -> bool:
    """bcrypt check accepting ``$2a$``, ``$2b$`` and ``$2y$`` digests (Clerk exports 2a/2b)."""
    try:
        return bcrypt.checkpw(password.encode()[:BCRYPT_MAX_BYTES], stored_hash.encode())
    except ValueError:
        return False


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_token(claims: Mapping[str, Any], key: str) -> str:
    """An HS256 JWT. Real WorkOS tokens are RS256 with a JWKS; nothing we test verifies them."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps(dict(claims), separators=(",", ":")).encode())
    signature = hmac.new(key.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


def is_valid_origin(origin: str) -> bool:
    parts = urlsplit(origin)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and parts.path == ""
        and not parts.query
        and not parts.fragment
        and not parts.username
    )


def is_valid_redirect_uri(uri: str) -> bool:
    parts = urlsplit(uri)
    if not parts.scheme or " " in uri:
        return False
    if parts.scheme in ("http", "https"):
        return bool(parts.hostname)
    return True  # native apps register custom schemes (myapp://callback)


# --------------------------------------------------------------------------- serializers


def _bool(value: Any) -> bool:
    return bool(value)


def domain_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "object": "organization_domain",
        "id": row["id"],
        "organization_id": row["organization_id"],
        "domain": row["domain"],
        "state": row["state"],
        "verification_prefix": row["verification_prefix"],
        "verification_token": row["verification_token"],
        "verification_strategy": row["verification_strategy"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def user_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "object": "user",
        "id": row["id"],
        "email": row["email"],
        "email_verified": _bool(row["email_verified"]),
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "name": row["name"],
        "profile_picture_url": None,
        "external_id": row["external_id"],
        "metadata": from_json(row["metadata"], {}),
        "locale": row["locale"],
        "last_sign_in_at": row["last_sign_in_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def role_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "object": "role",
        "id": row["id"],
        "slug": row["slug"],
        "name": row["name"],
        "description": row["description"],
        "type": "EnvironmentRole",
        "resource_type_slug": row["resource_type_slug"],
        "permissions": from_json(row["permissions"], []),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def permission_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "object": "permission",
        "id": row["id"],
        "slug": row["slug"],
        "name": row["name"],
        "description": row["description"],
        "system": False,
        "resource_type_slug": row["resource_type_slug"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def redirect_uri_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "object": "redirect_uri",
        "id": row["id"],
        "uri": row["uri"],
        "default": _bool(row["is_default"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def cors_origin_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "object": "cors_origin",
        "id": row["id"],
        "origin": row["origin"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _placeholders(values: Sequence[Any]) -> str:
    return ",".join("?" for _ in values)


# --------------------------------------------------------------------------- the backend


class WorkOSBackend(EmulatorBackend):
    """WorkOS's API over SQLite. Operations are plain synchronous methods taking the request
    body as a dict (so the seed loader goes through the same validation as HTTP clients);
    route handlers only parse HTTP and move bcrypt work off the event loop."""

    provider: ClassVar[str] = "workos"
    public_routes: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {
            # A browser navigates here; there is no API key to send.
            ("GET", "/user_management/authorize"),
            # Authenticates with client_id + client_secret in the body instead.
            ("POST", "/user_management/authenticate"),
        }
    )

    def __init__(
        self,
        store: SqliteStore,
        social: SocialConnections,
        *,
        api_key: str,
        client_id: str,
        seed: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(store, social)
        self.api_key = api_key
        self.client_id = client_id
        self.seed = seed
        self._token_key = secrets.token_hex(32)  # signs the access tokens authenticate issues
        store.apply_schema(WORKOS_SCHEMA)
        if seed:
            apply_seed(self, seed, SEED_SECTIONS)

    # ----------------------------------------------------------------- EmulatorBackend

    def error_body(self, status: int, message: str, code: str | None = None) -> dict[str, Any]:
        return error_body(message, code)

    def rate_limited_body(self, bucket: str) -> dict[str, Any]:
        if bucket == "authenticate_per_email":
            # The document's 429 for /user_management/authenticate.
            return {
                "error": "too_many_requests",
                "error_description": "Too many authentication attempts for this email.",
            }
        return error_body("Too many requests.", "rate_limit_exceeded")

    def rate_limit_claims(self, method: str, path: str, body: Any) -> list[tuple[str, str]]:
        claims = [("general", "api_key")]
        if path.startswith("/user_management/"):
            writes = method not in ("GET", "HEAD", "OPTIONS")
            claims.append(
                ("user_management_writes" if writes else "user_management_reads", "environment")
            )
        if method == "POST" and path == "/user_management/authenticate":
            email = body.get("email") if isinstance(body, dict) else None
            if isinstance(email, str) and email.strip():
                claims.append(("authenticate_per_email", email.strip().lower()))
        return claims

    def reset(self) -> None:
        self.store.wipe(WORKOS_TABLES)
        if self.seed:
            apply_seed(self, self.seed, SEED_SECTIONS)

    def routes(self) -> list[BaseRoute]:
        def route(path: str, endpoint: Any, method: str) -> Route:
            return Route(path, endpoint, methods=[method])

        um = "/user_management"
        oms = f"{um}/organization_memberships"
        return [
            route("/organizations", self._list_organizations, "GET"),
            route("/organizations", self._create_organization, "POST"),
            route(
                "/organizations/external_id/{external_id:path}",
                self._get_organization_by_external_id,
                "GET",
            ),
            route("/organizations/{id}", self._get_organization, "GET"),
            route("/organizations/{id}", self._update_organization, "PUT"),
            route("/organizations/{id}", self._delete_organization, "DELETE"),
            route("/organization_domains", self._create_domain, "POST"),
            route("/organization_domains/{id}", self._get_domain, "GET"),
            route("/organization_domains/{id}", self._delete_domain, "DELETE"),
            route("/organization_domains/{id}/verify", self._verify_domain, "POST"),
            route(f"{um}/users", self._list_users, "GET"),
            route(f"{um}/users", self._create_user, "POST"),
            route(
                f"{um}/users/external_id/{{external_id:path}}",
                self._get_user_by_external_id,
                "GET",
            ),
            route(f"{um}/users/{{id}}", self._get_user, "GET"),
            route(f"{um}/users/{{id}}", self._update_user, "PUT"),
            route(f"{um}/users/{{id}}", self._delete_user, "DELETE"),
            route(f"{um}/authenticate", self._authenticate, "POST"),
            route(f"{um}/authorize", self._authorize, "GET"),
            route(oms, self._list_memberships, "GET"),
            route(oms, self._create_membership, "POST"),
            route(f"{oms}/{{id}}", self._get_membership, "GET"),
            route(f"{oms}/{{id}}", self._update_membership, "PUT"),
            route(f"{oms}/{{id}}", self._delete_membership, "DELETE"),
            route(f"{oms}/{{id}}/deactivate", self._deactivate_membership, "PUT"),
            route(f"{oms}/{{id}}/reactivate", self._reactivate_membership, "PUT"),
            route("/authorization/roles", self._list_roles, "GET"),
            route("/authorization/roles", self._create_role, "POST"),
            route("/authorization/roles/{slug}", self._get_role, "GET"),
            route("/authorization/roles/{slug}", self._update_role, "PATCH"),
            route("/authorization/roles/{slug}/permissions", self._add_role_permission, "POST"),
            route("/authorization/roles/{slug}/permissions", self._set_role_permissions, "PUT"),
            route("/authorization/permissions", self._list_permissions, "GET"),
            route("/authorization/permissions", self._create_permission, "POST"),
            route("/authorization/permissions/{slug}", self._get_permission, "GET"),
            route("/authorization/permissions/{slug}", self._update_permission, "PATCH"),
            route("/authorization/permissions/{slug}", self._delete_permission, "DELETE"),
            route(f"{um}/redirect_uris", self._list_redirect_uris, "GET"),
            route(f"{um}/redirect_uris", self._create_redirect_uri, "POST"),
            route(f"{um}/redirect_uris/{{id}}", self._delete_redirect_uri, "DELETE"),
            route(f"{um}/cors_origins", self._list_cors_origins, "GET"),
            route(f"{um}/cors_origins", self._create_cors_origin, "POST"),
            # What only the WorkOS Dashboard can do (the API has no delete for these).
            route("/_emulate/roles/{slug}", self._dashboard_delete_role, "DELETE"),
            route("/_emulate/cors_origins", self._dashboard_delete_cors_origin, "DELETE"),
        ]

    # ----------------------------------------------------------------- list helper

    def page(
        self,
        table: str,
        params: ListParams,
        where: str = "",
        args: Sequence[Any] = (),
    ) -> tuple[list[sqlite3.Row], dict[str, str | None]]:
        """A page of rows plus WorkOS ``list_metadata`` for it."""
        page = self.store.keyset_page(
            table,
            limit=params.limit,
            order=params.order,
            before=params.before,
            after=params.after,
            where=where,
            params=args,
        )
        if not page.rows:
            return [], {"before": None, "after": None}
        first, last = page.rows[0]["id"], page.rows[-1]["id"]
        if params.order == "normal":  # newest first, `before` walks to older items
            metadata = {
                "before": last if page.has_following else None,
                "after": first if page.has_preceding else None,
            }
        else:
            metadata = {
                "before": first if page.has_preceding else None,
                "after": last if page.has_following else None,
            }
        return page.rows, metadata

    @staticmethod
    def list_body(data: list[dict[str, Any]], metadata: dict[str, str | None]) -> dict[str, Any]:
        return {"object": "list", "data": data, "list_metadata": metadata}

    # ----------------------------------------------------------------- organizations

    def organization_rows_json(self, rows: Sequence[sqlite3.Row]) -> list[dict[str, Any]]:
        ids = [row["id"] for row in rows]
        domains: dict[str, list[dict[str, Any]]] = {org_id: [] for org_id in ids}
        if ids:
            for domain in self.store.all(
                f"SELECT * FROM organization_domains WHERE organization_id IN "
                f"({_placeholders(ids)}) ORDER BY id",
                ids,
            ):
                domains[domain["organization_id"]].append(domain_json(domain))
        result = []
        for row in rows:
            item: dict[str, Any] = {
                "object": "organization",
                "id": row["id"],
                "name": row["name"],
                "domains": domains[row["id"]],
                "metadata": from_json(row["metadata"], {}),
                "external_id": row["external_id"],
                "allow_profiles_outside_organization": _bool(
                    row["allow_profiles_outside_organization"]
                ),
                "created_at": row["created_at"],
                "updated_at": row["updated_at"],
            }
            if row["stripe_customer_id"] is not None:
                item["stripe_customer_id"] = row["stripe_customer_id"]
            result.append(item)
        return result

    def organization_row(self, organization_id: str) -> sqlite3.Row:
        row = self.store.one("SELECT * FROM organizations WHERE id = ?", [organization_id])
        if row is None:
            raise not_found("Organization", organization_id)
        return row

    def organization_json(self, organization_id: str) -> dict[str, Any]:
        return self.organization_rows_json([self.organization_row(organization_id)])[0]

    def _parse_domains(self, fields: Fields) -> list[tuple[str, str]] | None:
        """``domain_data`` (or the deprecated ``domains``) as ``[(domain, state)]``."""
        if fields.has("domain_data") and fields.has("domains"):
            fields.fail("domains", "conflict", "Send domain_data or domains, not both.")
            return None
        if fields.has("domains"):
            names = fields.string_list("domains")
            # Deprecated form: no state given, so the domain starts unverified.
            pairs = [(name, "pending") for name in names or []]
        elif fields.has("domain_data"):
            items = fields.data["domain_data"]
            if not isinstance(items, list):
                fields.fail("domain_data", "invalid_type", "domain_data must be an array.")
                return None
            pairs = []
            for index, item in enumerate(items):
                where = f"domain_data[{index}]"
                if not isinstance(item, dict):
                    fields.fail(where, "invalid_type", f"{where} must be an object.")
                    continue
                domain, state = item.get("domain"), item.get("state")
                if not isinstance(domain, str):
                    fields.fail(f"{where}.domain", "required", f"{where}.domain is required.")
                    continue
                if state not in ("pending", "verified"):
                    fields.fail(
                        f"{where}.state",
                        "invalid_enum_value",
                        f"{where}.state must be 'pending' or 'verified'.",
                    )
                    continue
                pairs.append((domain, state))
        else:
            return None
        normalized: list[tuple[str, str]] = []
        seen: set[str] = set()
        for domain, state in pairs:
            name = domain.strip().lower()
            if re.fullmatch(DOMAIN_PATTERN, name) is None:
                fields.fail("domain_data", "invalid_domain", f"'{domain}' is not a valid domain.")
            elif name in seen:
                fields.fail("domain_data", "duplicate_domain", f"'{domain}' is listed twice.")
            else:
                seen.add(name)
                normalized.append((name, state))
        return normalized

    def _check_domains_free(self, names: Sequence[str], organization_id: str | None) -> None:
        if not names:
            return
        taken = self.store.all(
            f"SELECT domain FROM organization_domains WHERE domain IN ({_placeholders(names)})"
            " AND organization_id IS NOT ?",
            [*names, organization_id],
        )
        if taken:
            raise ApiError(
                409,
                error_body(
                    f"Domain '{taken[0]['domain']}' already belongs to another organization.",
                    "domain_already_exists",
                ),
            )

    def _check_external_id_free(self, table: str, external_id: str, own_id: str | None) -> None:
        clash = self.store.one(
            f"SELECT id FROM {table} WHERE external_id = ? AND id IS NOT ?",  # noqa: S608
            [external_id, own_id],
        )
        if clash is not None:
            raise bad_request(
                "external_id_already_used",
                f"The external_id '{external_id}' is already used by {clash['id']}.",
            )

    def _insert_domain(
        self, conn: sqlite3.Connection, organization_id: str, domain: str, state: str
    ) -> str:
        domain_id = new_id("org_domain_")
        now = now_iso()
        conn.execute(
            "INSERT INTO organization_domains (id, organization_id, domain, state, "
            "verification_strategy, verification_prefix, verification_token, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                domain_id,
                organization_id,
                domain,
                state,
                # A domain created verified was verified by an admin, not by DNS.
                "manual" if state == "verified" else "dns",
                f"workos-domain-verification-{secrets.token_hex(3)}",
                secrets.token_urlsafe(18),
                now,
                now,
            ],
        )
        return domain_id

    def create_organization(self, data: Mapping[str, Any]) -> dict[str, Any]:
        fields = Fields(data)
        name = fields.string("name", required=True, non_empty=True)
        allow_outside = fields.boolean("allow_profiles_outside_organization")
        external_id = fields.string(
            "external_id",
            nullable=True,
            max_length=128,
            pattern=EXTERNAL_ID_PATTERN,
            pattern_hint="must be ASCII",
        )
        domains = self._parse_domains(fields) or []
        fields.check()
        metadata = parse_metadata(data) or {}
        assert name is not None
        if external_id is not None:
            self._check_external_id_free("organizations", external_id, None)
        self._check_domains_free([domain for domain, _ in domains], None)
        organization_id = new_id("org_")
        now = now_iso()
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO organizations (id, name, external_id, metadata, "
                "allow_profiles_outside_organization, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    organization_id,
                    name,
                    external_id,
                    to_json(metadata),
                    bool(allow_outside),
                    now,
                    now,
                ],
            )
            for domain, state in domains:
                self._insert_domain(conn, organization_id, domain, state)
        return self.organization_json(organization_id)

    def update_organization(self, organization_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        self.organization_row(organization_id)
        fields = Fields(data)
        name = fields.string("name", non_empty=True)
        allow_outside = fields.boolean("allow_profiles_outside_organization")
        stripe_customer_id = fields.string("stripe_customer_id")
        external_id = fields.string(
            "external_id",
            nullable=True,
            max_length=128,
            pattern=EXTERNAL_ID_PATTERN,
            pattern_hint="must be ASCII",
        )
        domains = self._parse_domains(fields)
        fields.check()
        metadata = parse_metadata(data)
        if external_id is not None:
            self._check_external_id_free("organizations", external_id, organization_id)
        if domains is not None:
            self._check_domains_free([domain for domain, _ in domains], organization_id)
        if stripe_customer_id is not None:
            clash = self.store.one(
                "SELECT id FROM organizations WHERE stripe_customer_id = ? AND id != ?",
                [stripe_customer_id, organization_id],
            )
            if clash is not None:
                raise bad_request(
                    "stripe_customer_id_already_used",
                    f"The stripe_customer_id '{stripe_customer_id}' is already used.",
                )
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = name
        if allow_outside is not None:
            changes["allow_profiles_outside_organization"] = allow_outside
        if stripe_customer_id is not None:
            changes["stripe_customer_id"] = stripe_customer_id
        if fields.has("external_id"):
            changes["external_id"] = external_id
        if metadata is not None:
            changes["metadata"] = to_json(metadata)
        now = now_iso()
        changes["updated_at"] = now
        with self.store.transaction() as conn:
            assignments = ", ".join(f"{column} = ?" for column in changes)
            conn.execute(
                f"UPDATE organizations SET {assignments} WHERE id = ?",  # noqa: S608
                [*changes.values(), organization_id],
            )
            if domains is not None:
                self._replace_domains(conn, organization_id, domains, now)
        return self.organization_json(organization_id)

    def _replace_domains(
        self,
        conn: sqlite3.Connection,
        organization_id: str,
        domains: Sequence[tuple[str, str]],
        now: str,
    ) -> None:
        """PUT semantics: the organization ends with exactly ``domains``; a domain that stays
        keeps its id (and its verification), one whose state changes is updated in place."""
        existing = {
            row["domain"]: row
            for row in conn.execute(
                "SELECT * FROM organization_domains WHERE organization_id = ?", [organization_id]
            )
        }
        wanted = dict(domains)
        for domain, row in existing.items():
            if domain not in wanted:
                conn.execute("DELETE FROM organization_domains WHERE id = ?", [row["id"]])
            elif wanted[domain] != row["state"] and wanted[domain] == "verified":
                conn.execute(
                    "UPDATE organization_domains SET state = 'verified', "
                    "verification_strategy = 'manual', updated_at = ? WHERE id = ?",
                    [now, row["id"]],
                )
            elif wanted[domain] != row["state"]:
                conn.execute(
                    "UPDATE organization_domains SET state = ?, updated_at = ? WHERE id = ?",
                    [wanted[domain], now, row["id"]],
                )
        for domain, state in domains:
            if domain not in existing:
                self._insert_domain(conn, organization_id, domain, state)

    async def _list_organizations(self, request: Request) -> Response:
        params = parse_list_params(request)
        conditions: list[str] = []
        args: list[Any] = []
        domains = [domain.lower() for domain in query_list(request, "domains")]
        if domains:
            conditions.append(
                "id IN (SELECT organization_id FROM organization_domains "
                f"WHERE domain IN ({_placeholders(domains)}))"
            )
            args.extend(domains)
        search = request.query_params.get("search")
        if search:
            escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append("name LIKE ? ESCAPE '\\'")
            args.append(f"%{escaped}%")
        rows, metadata = self.page("organizations", params, " AND ".join(conditions), args)
        return JSONResponse(self.list_body(self.organization_rows_json(rows), metadata))

    async def _create_organization(self, request: Request) -> Response:
        body = json_object(await request.body())
        return JSONResponse(self.create_organization(body), status_code=201)

    async def _get_organization(self, request: Request) -> Response:
        return JSONResponse(self.organization_json(request.path_params["id"]))

    async def _get_organization_by_external_id(self, request: Request) -> Response:
        external_id = request.path_params["external_id"]
        row = self.store.one("SELECT * FROM organizations WHERE external_id = ?", [external_id])
        if row is None:
            raise not_found("Organization", external_id)
        return JSONResponse(self.organization_rows_json([row])[0])

    async def _update_organization(self, request: Request) -> Response:
        body = json_object(await request.body())
        return JSONResponse(self.update_organization(request.path_params["id"], body))

    async def _delete_organization(self, request: Request) -> Response:
        organization_id = request.path_params["id"]
        self.organization_row(organization_id)
        self.store.execute("DELETE FROM organizations WHERE id = ?", [organization_id])
        # The document allows 200 or 202 with no body; WorkOS deletes asynchronously (202),
        # the emulator at once.
        return Response(status_code=202)

    # ----------------------------------------------------------------- organization domains

    def domain_row(self, domain_id: str) -> sqlite3.Row:
        row = self.store.one("SELECT * FROM organization_domains WHERE id = ?", [domain_id])
        if row is None:
            raise not_found("Organization domain", domain_id)
        return row

    async def _create_domain(self, request: Request) -> Response:
        fields = Fields(json_object(await request.body()))
        domain = fields.string("domain", required=True, non_empty=True)
        organization_id = fields.string("organization_id", required=True, non_empty=True)
        fields.check()
        assert domain is not None and organization_id is not None
        name = domain.strip().lower()
        if re.fullmatch(DOMAIN_PATTERN, name) is None:
            raise unprocessable(
                f"'{domain}' is not a valid domain.",
                [{"field": "domain", "code": "invalid_domain"}],
            )
        self.organization_row(organization_id)
        if self.store.one("SELECT 1 FROM organization_domains WHERE domain = ?", [name]):
            raise ApiError(
                409, error_body(f"Domain '{name}' already exists.", "domain_already_exists")
            )
        with self.store.transaction() as conn:
            domain_id = self._insert_domain(conn, organization_id, name, "pending")
            conn.execute(
                "UPDATE organizations SET updated_at = ? WHERE id = ?", [now_iso(), organization_id]
            )
        return JSONResponse(domain_json(self.domain_row(domain_id)), status_code=201)

    async def _get_domain(self, request: Request) -> Response:
        return JSONResponse(domain_json(self.domain_row(request.path_params["id"])))

    async def _delete_domain(self, request: Request) -> Response:
        row = self.domain_row(request.path_params["id"])
        self.store.execute("DELETE FROM organization_domains WHERE id = ?", [row["id"]])
        return Response(status_code=204)

    async def _verify_domain(self, request: Request) -> Response:
        row = self.domain_row(request.path_params["id"])
        if row["state"] in ("verified", "legacy_verified"):
            raise bad_request("domain_already_verified", "Domain is already verified.")
        # WorkOS starts a DNS check; the emulator has no DNS to look at and succeeds at once.
        self.store.execute(
            "UPDATE organization_domains SET state = 'verified', updated_at = ? WHERE id = ?",
            [now_iso(), row["id"]],
        )
        return JSONResponse(domain_json(self.domain_row(row["id"])), status_code=201)

    # ----------------------------------------------------------------- users

    def user_row(self, user_id: str) -> sqlite3.Row:
        row = self.store.one("SELECT * FROM users WHERE id = ?", [user_id])
        if row is None:
            raise not_found("User", user_id)
        return row

    def _parse_password(
        self, fields: Fields, precomputed_hash: str | None
    ) -> tuple[str, str] | None:
        """``(hash, hash_type)`` from ``password`` or ``password_hash``+``password_hash_type``."""
        data = fields.data
        has_password = data.get("password") is not None
        has_hash = data.get("password_hash") is not None
        if has_password and has_hash:
            raise bad_request(
                "password_and_password_hash_provided",
                "Provide either password or password_hash, not both.",
            )
        if has_password and data.get("password_hash_type") is not None:
            raise bad_request(
                "password_and_password_hash_type_provided",
                "password_hash_type can only be used with password_hash.",
            )
        if data.get("password_salt_position") is not None and not has_hash:
            raise bad_request(
                "password_salt_position_requires_password_hash",
                "password_salt_position can only be used with password_hash.",
            )
        if has_password:
            password = fields.string("password")
            fields.check()
            if password is not None and not password:
                raise bad_request(
                    "password_strength_error",
                    "Password does not meet strength requirements.",
                    errors=[{"code": "password_too_short", "message": "Password is empty."}],
                )
            if password is None:
                return None
            return (precomputed_hash or hash_password(password), "bcrypt")
        if has_hash:
            password_hash = fields.string("password_hash", non_empty=True)
            hash_type = fields.string("password_hash_type", required=True)
            if hash_type is not None and hash_type not in PASSWORD_HASH_TYPES:
                fields.fail(
                    "password_hash_type",
                    "invalid_enum_value",
                    f"password_hash_type must be one of {', '.join(PASSWORD_HASH_TYPES)}.",
                )
            fields.string("password_salt_position", pattern="prefix|suffix")
            fields.check()
            assert password_hash is not None and hash_type is not None
            if hash_type == "bcrypt" and re.fullmatch(BCRYPT_PATTERN, password_hash) is None:
                raise bad_request("invalid_password_hash", "The bcrypt password hash is invalid.")
            return (password_hash, hash_type)
        return None

    def create_user(
        self, data: Mapping[str, Any], *, precomputed_hash: str | None = None
    ) -> dict[str, Any]:
        fields = Fields(data)
        email = fields.string(
            "email",
            required=True,
            pattern=EMAIL_PATTERN,
            pattern_hint="must be a valid email address",
        )
        first_name = fields.string("first_name", nullable=True)
        last_name = fields.string("last_name", nullable=True)
        name = fields.string("name", nullable=True)
        email_verified = fields.boolean("email_verified", nullable=True)
        external_id = fields.string(
            "external_id",
            nullable=True,
            max_length=128,
            pattern=EXTERNAL_ID_PATTERN,
            pattern_hint="must be ASCII",
        )
        for optional in ("ip_address", "user_agent"):
            fields.string(optional, nullable=True)
        fields.string("signals_id")
        fields.check()
        password = self._parse_password(fields, precomputed_hash)
        metadata = parse_metadata(data) or {}
        assert email is not None
        # "WorkOS trims whitespace and converts the address to lowercase before storing it."
        email = email.strip().lower()
        if self.store.one("SELECT 1 FROM users WHERE email = ?", [email]):
            raise bad_request(
                "user_creation_error",
                "Could not create user.",
                errors=[{"code": "email_not_available", "message": "This email is not available."}],
            )
        if external_id is not None:
            clash = self.store.one("SELECT id FROM users WHERE external_id = ?", [external_id])
            if clash is not None:
                raise bad_request(
                    "user_creation_error",
                    "Could not create user.",
                    errors=[
                        {
                            "code": "external_id_already_used",
                            "message": f"The external_id '{external_id}' is already used.",
                        }
                    ],
                )
        user_id = new_id("user_")
        now = now_iso()
        self.store.execute(
            "INSERT INTO users (id, email, email_verified, first_name, last_name, name, "
            "external_id, metadata, password_hash, password_hash_type, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                user_id,
                email,
                bool(email_verified),
                first_name,
                last_name,
                name,
                external_id,
                to_json(metadata),
                password[0] if password else None,
                password[1] if password else None,
                now,
                now,
            ],
        )
        return user_json(self.user_row(user_id))

    def update_user(
        self, user_id: str, data: Mapping[str, Any], *, precomputed_hash: str | None = None
    ) -> dict[str, Any]:
        self.user_row(user_id)
        fields = Fields(data)
        email = fields.string(
            "email", pattern=EMAIL_PATTERN, pattern_hint="must be a valid email address"
        )
        first_name = fields.string("first_name")
        last_name = fields.string("last_name")
        name = fields.string("name")
        email_verified = fields.boolean("email_verified")
        external_id = fields.string(
            "external_id",
            nullable=True,
            max_length=128,
            pattern=EXTERNAL_ID_PATTERN,
            pattern_hint="must be ASCII",
        )
        locale = fields.string("locale", nullable=True)
        fields.check()
        password = self._parse_password(fields, precomputed_hash)
        metadata = parse_metadata(data)
        changes: dict[str, Any] = {}
        if email is not None:
            email = email.strip().lower()
            if self.store.one("SELECT 1 FROM users WHERE email = ? AND id != ?", [email, user_id]):
                raise bad_request("email_not_available", "This email is not available.")
            changes["email"] = email
        if external_id is not None:
            self._check_external_id_free("users", external_id, user_id)
        for column, value in (
            ("first_name", first_name),
            ("last_name", last_name),
            ("name", name),
            ("email_verified", email_verified),
        ):
            if value is not None:
                changes[column] = value
        if fields.has("external_id"):
            changes["external_id"] = external_id
        if fields.has("locale"):
            changes["locale"] = locale
        if metadata is not None:
            changes["metadata"] = to_json(metadata)
        if password is not None:
            changes["password_hash"], changes["password_hash_type"] = password
        changes["updated_at"] = now_iso()
        assignments = ", ".join(f"{column} = ?" for column in changes)
        self.store.execute(
            f"UPDATE users SET {assignments} WHERE id = ?",  # noqa: S608
            [*changes.values(), user_id],
        )
        return user_json(self.user_row(user_id))

    @staticmethod
    async def _precompute_hash(body: Mapping[str, Any]) -> str | None:
        """Hash a plaintext password off the event loop (bcrypt takes tens of ms)."""
        password = body.get("password")
        if isinstance(password, str) and password and body.get("password_hash") is None:
            return await run_in_threadpool(hash_password, password)
        return None

    async def _list_users(self, request: Request) -> Response:
        params = parse_list_params(request)
        conditions: list[str] = []
        args: list[Any] = []
        email = request.query_params.get("email")
        if email:
            conditions.append("email = ?")
            args.append(email.strip().lower())
        organization_id = request.query_params.get("organization_id") or request.query_params.get(
            "organization"
        )
        if organization_id:
            conditions.append(
                "id IN (SELECT user_id FROM organization_memberships WHERE organization_id = ?)"
            )
            args.append(organization_id)
        rows, metadata = self.page("users", params, " AND ".join(conditions), args)
        return JSONResponse(self.list_body([user_json(row) for row in rows], metadata))

    async def _create_user(self, request: Request) -> Response:
        body = json_object(await request.body())
        precomputed = await self._precompute_hash(body)
        return JSONResponse(self.create_user(body, precomputed_hash=precomputed), status_code=201)

    async def _get_user(self, request: Request) -> Response:
        return JSONResponse(user_json(self.user_row(request.path_params["id"])))

    async def _get_user_by_external_id(self, request: Request) -> Response:
        external_id = request.path_params["external_id"]
        row = self.store.one("SELECT * FROM users WHERE external_id = ?", [external_id])
        if row is None:
            raise not_found("User", external_id)
        return JSONResponse(user_json(row))

    async def _update_user(self, request: Request) -> Response:
        body = json_object(await request.body())
        user_id = request.path_params["id"]
        self.user_row(user_id)
        precomputed = await self._precompute_hash(body)
        return JSONResponse(self.update_user(user_id, body, precomputed_hash=precomputed))

    async def _delete_user(self, request: Request) -> Response:
        row = self.user_row(request.path_params["id"])
        self.store.execute("DELETE FROM users WHERE id = ?", [row["id"]])
        return Response(status_code=200)

    # ----------------------------------------------------------------- authentication

    async def _authenticate(self, request: Request) -> Response:
        raw = await request.body()
        if "application/x-www-form-urlencoded" in request.headers.get("content-type", ""):
            # OAuth clients may post a form instead of JSON; both are accepted.
            body: dict[str, Any] = dict(parse_qsl(raw.decode("utf-8", "replace")))
        else:
            body = json_object(raw)
        fields = Fields(body)
        grant_type = fields.string("grant_type", required=True)
        client_id = fields.string("client_id", required=True)
        fields.check()
        if grant_type != "password":
            raise oauth_error(
                "invalid_request",
                f"The emulator supports grant_type 'password' only, not '{grant_type}'.",
            )
        client_secret = fields.string("client_secret", required=True)
        email = fields.string("email", required=True)
        password = fields.string("password", required=True)
        fields.check()
        assert client_secret is not None and email is not None and password is not None
        if client_id != self.client_id:
            raise oauth_error("invalid_client", f"Invalid client ID '{client_id}'.")
        if not hmac.compare_digest(client_secret.encode(), self.api_key.encode()):
            raise oauth_error("invalid_client", "Invalid client secret.")
        row = self.store.one("SELECT * FROM users WHERE email = ?", [email.strip().lower()])
        stored_hash = row["password_hash"] if row is not None else None
        # Only bcrypt digests can be checked here; users imported with another hash type
        # fail like a wrong password would.
        verified = (
            row is not None
            and stored_hash is not None
            and row["password_hash_type"] == "bcrypt"
            and await run_in_threadpool(password_matches, password, stored_hash)
        )
        if not verified or row is None:
            raise bad_request("invalid_credentials", "Invalid credentials.")
        now = now_iso()
        self.store.execute("UPDATE users SET last_sign_in_at = ? WHERE id = ?", [now, row["id"]])
        memberships = self.store.all(
            "SELECT organization_id FROM organization_memberships "
            "WHERE user_id = ? AND status = 'active'",
            [row["id"]],
        )
        # With several organizations WorkOS asks the user to pick one; with exactly one it
        # signs the user into it. The emulator returns no organization in the first case.
        organization_id = memberships[0]["organization_id"] if len(memberships) == 1 else None
        issued = int(time.time())
        claims: dict[str, Any] = {
            "iss": str(request.base_url).rstrip("/"),
            "sub": row["id"],
            "sid": new_id("session_"),
            "jti": new_id(""),
            "iat": issued,
            "exp": issued + 300,
        }
        if organization_id:
            claims["org_id"] = organization_id
        response: dict[str, Any] = {
            "user": user_json(self.user_row(row["id"])),
            "access_token": signed_token(claims, self._token_key),
            "refresh_token": secrets.token_urlsafe(24),
            "authentication_method": "Password",
        }
        if organization_id:
            response["organization_id"] = organization_id
        return JSONResponse(response)

    async def _authorize(self, request: Request) -> Response:
        """The browser entry point: redirect to the social provider's own consent page, with
        the OAuth client id configured for that connection (what ``verify`` probes)."""
        query = request.query_params
        client_id, redirect_uri = query.get("client_id"), query.get("redirect_uri")
        response_type, provider = query.get("response_type"), query.get("provider")
        missing = [
            name
            for name, value in (
                ("response_type", response_type),
                ("client_id", client_id),
                ("redirect_uri", redirect_uri),
            )
            if not value
        ]
        if missing:
            raise bad_request(
                "invalid_request", f"Missing required parameter: {', '.join(missing)}."
            )
        if response_type != "code":
            raise bad_request("invalid_request", "response_type must be 'code'.")
        if client_id != self.client_id:
            raise bad_request("invalid_client", f"Invalid client ID '{client_id}'.")
        if not self.store.one("SELECT 1 FROM redirect_uris WHERE uri = ?", [redirect_uri]):
            raise bad_request(
                "invalid_redirect_uri",
                f"The redirect URI '{redirect_uri}' is not registered for this environment.",
            )
        if not provider:
            raise bad_request(
                "invalid_request",
                "The emulator supports social providers only: pass provider, e.g. GoogleOAuth.",
            )
        social = WORKOS_NAME_TO_SOCIAL.get(provider)
        if social is None:
            raise bad_request("invalid_request", f"Unsupported provider '{provider}'.")
        oauth_client_id = self.social.get(social.name)
        if oauth_client_id is None:
            raise bad_request(
                "invalid_connection",
                f"{provider} is not configured for this environment: set it up in the WorkOS "
                "dashboard (Authentication > Social connections).",
            )
        params = {
            "client_id": oauth_client_id,
            "redirect_uri": f"{str(request.base_url).rstrip('/')}/sso/oauth/{social.name}/callback",
            "response_type": "code",
        }
        if query.get("state") is not None:
            params["state"] = query["state"]
        return RedirectResponse(f"{social.oauth_authorize_url}?{urlencode(params)}", 302)

    # ----------------------------------------------------------------- memberships

    def membership_row(self, membership_id: str) -> sqlite3.Row:
        row = self.store.one("SELECT * FROM organization_memberships WHERE id = ?", [membership_id])
        if row is None:
            raise not_found("Organization membership", membership_id)
        return row

    def membership_rows_json(self, rows: Sequence[sqlite3.Row]) -> list[dict[str, Any]]:
        user_ids = sorted({row["user_id"] for row in rows})
        org_ids = sorted({row["organization_id"] for row in rows})
        users = {
            user["id"]: user_json(user)
            for user in self.store.all(
                f"SELECT * FROM users WHERE id IN ({_placeholders(user_ids)})", user_ids
            )
        }
        names = {
            org["id"]: org["name"]
            for org in self.store.all(
                f"SELECT id, name FROM organizations WHERE id IN ({_placeholders(org_ids)})",
                org_ids,
            )
        }
        result = []
        for row in rows:
            slugs: list[str] = from_json(row["role_slugs"], [])
            result.append(
                {
                    "object": "organization_membership",
                    "id": row["id"],
                    "user_id": row["user_id"],
                    "organization_id": row["organization_id"],
                    "organization_name": names.get(row["organization_id"]),
                    "status": row["status"],
                    "directory_managed": False,
                    "role": {"slug": slugs[0]},
                    "roles": [{"slug": slug} for slug in slugs],
                    "user": users[row["user_id"]],
                    "custom_attributes": {},
                    "created_at": row["created_at"],
                    "updated_at": row["updated_at"],
                }
            )
        return result

    def membership_json(self, membership_id: str) -> dict[str, Any]:
        return self.membership_rows_json([self.membership_row(membership_id)])[0]

    def _parse_role_slugs(self, fields: Fields) -> list[str] | None:
        """``role_slug`` or ``role_slugs``; every slug must name an environment role."""
        if fields.has("role_slug") and fields.has("role_slugs"):
            fields.fail("role_slugs", "conflict", "Send role_slug or role_slugs, not both.")
            fields.check()
        if fields.has("role_slug"):
            slug = fields.string("role_slug", required=True, non_empty=True)
            fields.check()
            slugs = [slug] if slug else []
        elif fields.has("role_slugs"):
            slugs = fields.string_list("role_slugs", required=True) or []
            if not slugs and not fields.errors:
                fields.fail("role_slugs", "required", "role_slugs must not be empty.")
            fields.check()
        else:
            return None
        unique = list(dict.fromkeys(slugs))
        known = {
            row["slug"]
            for row in self.store.all(
                f"SELECT slug FROM roles WHERE slug IN ({_placeholders(unique)})", unique
            )
        }
        unknown = [slug for slug in unique if slug not in known]
        if unknown:
            raise ApiError(422, error_body(f"Role '{unknown[0]}' does not exist.", "invalid_role"))
        return unique

    def _default_role_slugs(self) -> list[str]:
        """The environment's default role: ``member`` when it exists, else the first role."""
        row = self.store.one("SELECT slug FROM roles WHERE slug = ?", [DEFAULT_ROLE])
        row = row or self.store.one("SELECT slug FROM roles ORDER BY id LIMIT 1")
        if row is None:
            raise ApiError(
                422,
                error_body(
                    "No role given and the environment has no roles to default to.",
                    "invalid_role",
                ),
            )
        return [row["slug"]]

    def create_membership(self, data: Mapping[str, Any]) -> dict[str, Any]:
        fields = Fields(data)
        user_id = fields.string("user_id", required=True, non_empty=True)
        organization_id = fields.string("organization_id", required=True, non_empty=True)
        fields.check()
        assert user_id is not None and organization_id is not None
        slugs = self._parse_role_slugs(fields)
        self.user_row(user_id)
        self.organization_row(organization_id)
        existing = self.store.one(
            "SELECT * FROM organization_memberships WHERE user_id = ? AND organization_id = ?",
            [user_id, organization_id],
        )
        now = now_iso()
        if existing is not None:
            if existing["status"] == "pending":
                raise bad_request(
                    "cannot_reactivate_pending_organization_membership",
                    "A pending membership (an open invitation) cannot be reactivated.",
                )
            if existing["status"] == "active":
                # The document lists no error for this; WorkOS's own emulator answers 409.
                raise ApiError(
                    409,
                    error_body(
                        "The user is already a member of this organization.",
                        "organization_membership_already_exists",
                    ),
                )
            # "Calling this API with an organization and user that match an inactive
            # membership will activate the membership with the specified role(s)."
            self.store.execute(
                "UPDATE organization_memberships SET status = 'active', role_slugs = ?, "
                "updated_at = ? WHERE id = ?",
                [to_json(slugs or self._default_role_slugs()), now, existing["id"]],
            )
            return self.membership_json(existing["id"])
        membership_id = new_id("om_")
        self.store.execute(
            "INSERT INTO organization_memberships (id, user_id, organization_id, status, "
            "role_slugs, created_at, updated_at) VALUES (?, ?, ?, 'active', ?, ?, ?)",
            [
                membership_id,
                user_id,
                organization_id,
                to_json(slugs or self._default_role_slugs()),
                now,
                now,
            ],
        )
        return self.membership_json(membership_id)

    async def _list_memberships(self, request: Request) -> Response:
        params = parse_list_params(request)
        user_id = request.query_params.get("user_id")
        organization_id = request.query_params.get("organization_id")
        if not user_id and not organization_id:
            raise bad_request(
                "missing_user_id_or_organization_id",
                "At least one of user_id or organization_id is required.",
            )
        statuses = query_list(request, "statuses") or ["active"]
        invalid = [status for status in statuses if status not in MEMBERSHIP_STATUSES]
        if invalid:
            raise bad_request(
                "invalid_request_parameters",
                f"Invalid status '{invalid[0]}': use active, inactive or pending.",
            )
        conditions = [f"status IN ({_placeholders(statuses)})"]
        args: list[Any] = list(statuses)
        if user_id:
            conditions.append("user_id = ?")
            args.append(user_id)
        if organization_id:
            conditions.append("organization_id = ?")
            args.append(organization_id)
        rows, metadata = self.page(
            "organization_memberships", params, " AND ".join(conditions), args
        )
        return JSONResponse(self.list_body(self.membership_rows_json(rows), metadata))

    async def _create_membership(self, request: Request) -> Response:
        body = json_object(await request.body())
        return JSONResponse(self.create_membership(body), status_code=201)

    async def _get_membership(self, request: Request) -> Response:
        return JSONResponse(self.membership_json(request.path_params["id"]))

    async def _update_membership(self, request: Request) -> Response:
        row = self.membership_row(request.path_params["id"])
        slugs = self._parse_role_slugs(Fields(json_object(await request.body())))
        if slugs is not None:
            self.store.execute(
                "UPDATE organization_memberships SET role_slugs = ?, updated_at = ? WHERE id = ?",
                [to_json(slugs), now_iso(), row["id"]],
            )
        return JSONResponse(self.membership_json(row["id"]))

    async def _delete_membership(self, request: Request) -> Response:
        row = self.membership_row(request.path_params["id"])
        self.store.execute("DELETE FROM organization_memberships WHERE id = ?", [row["id"]])
        return Response(status_code=200)

    async def _deactivate_membership(self, request: Request) -> Response:
        row = self.membership_row(request.path_params["id"])
        if row["status"] == "pending":
            raise bad_request(
                "cannot_deactivate_pending_organization_membership",
                "A pending membership cannot be deactivated.",
            )
        if row["status"] == "active":  # deactivating an inactive membership does nothing
            self.store.execute(
                "UPDATE organization_memberships SET status = 'inactive', updated_at = ? "
                "WHERE id = ?",
                [now_iso(), row["id"]],
            )
        return JSONResponse(self.membership_json(row["id"]))

    async def _reactivate_membership(self, request: Request) -> Response:
        row = self.membership_row(request.path_params["id"])
        if row["status"] == "pending":
            raise bad_request(
                "cannot_reactivate_pending_organization_membership",
                "A pending membership cannot be reactivated.",
            )
        if row["status"] == "inactive":
            self.store.execute(
                "UPDATE organization_memberships SET status = 'active', updated_at = ? "
                "WHERE id = ?",
                [now_iso(), row["id"]],
            )
        return JSONResponse(self.membership_json(row["id"]))

    # ----------------------------------------------------------------- roles, permissions

    def role_row(self, slug: str) -> sqlite3.Row:
        row = self.store.one("SELECT * FROM roles WHERE slug = ?", [slug])
        if row is None:
            raise not_found("Role", slug)
        return row

    def permission_row(self, slug: str) -> sqlite3.Row:
        row = self.store.one("SELECT * FROM permissions WHERE slug = ?", [slug])
        if row is None:
            raise not_found("Permission", slug)
        return row

    def _read_definition(
        self, data: Mapping[str, Any], slug_pattern: str, *, creating: bool
    ) -> tuple[str | None, str | None, str | None, str | None]:
        """``(slug, name, description, resource_type_slug)`` of a role or permission body."""
        fields = Fields(data)
        slug = None
        resource_type = None
        if creating:
            slug = fields.string(
                "slug",
                required=True,
                non_empty=True,
                max_length=48,
                pattern=slug_pattern,
                pattern_hint="must be lowercase letters, digits and - _ : . only",
            )
            resource_type = fields.string("resource_type_slug", max_length=48)
        name = fields.string("name", required=creating, non_empty=True, max_length=48)
        description = fields.string("description", nullable=True, max_length=150)
        fields.check()
        return slug, name, description, resource_type

    def create_role(self, data: Mapping[str, Any]) -> dict[str, Any]:
        slug, name, description, resource_type = self._read_definition(
            data, ROLE_SLUG_PATTERN, creating=True
        )
        if self.store.one("SELECT 1 FROM roles WHERE slug = ?", [slug]):
            raise ApiError(
                409, error_body(f"A role with slug '{slug}' already exists.", "role_slug_conflict")
            )
        now = now_iso()
        self.store.execute(
            "INSERT INTO roles (id, slug, name, description, resource_type_slug, permissions, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, '[]', ?, ?)",
            [
                new_id("role_"),
                slug,
                name,
                description,
                resource_type or DEFAULT_RESOURCE_TYPE,
                now,
                now,
            ],
        )
        assert slug is not None
        return role_json(self.role_row(slug))

    def set_role_permissions(self, slug: str, permissions: Sequence[str]) -> dict[str, Any]:
        self.role_row(slug)
        wanted = list(dict.fromkeys(permissions))
        known = {
            row["slug"]
            for row in self.store.all(
                f"SELECT slug FROM permissions WHERE slug IN ({_placeholders(wanted)})", wanted
            )
        }
        for permission in wanted:
            if permission not in known:
                raise not_found("Permission", permission)
        self.store.execute(
            "UPDATE roles SET permissions = ?, updated_at = ? WHERE slug = ?",
            [to_json(wanted), now_iso(), slug],
        )
        return role_json(self.role_row(slug))

    def create_permission(self, data: Mapping[str, Any]) -> dict[str, Any]:
        slug, name, description, resource_type = self._read_definition(
            data, PERMISSION_SLUG_PATTERN, creating=True
        )
        if self.store.one("SELECT 1 FROM permissions WHERE slug = ?", [slug]):
            raise ApiError(
                409,
                error_body(
                    f"A permission with slug '{slug}' already exists.", "permission_slug_conflict"
                ),
            )
        now = now_iso()
        self.store.execute(
            "INSERT INTO permissions (id, slug, name, description, resource_type_slug, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                new_id("perm_"),
                slug,
                name,
                description,
                resource_type or DEFAULT_RESOURCE_TYPE,
                now,
                now,
            ],
        )
        assert slug is not None
        return permission_json(self.permission_row(slug))

    def _update_definition(self, table: str, slug: str, data: Mapping[str, Any]) -> None:
        _, name, description, _ = self._read_definition(data, "", creating=False)
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = name
        if "description" in data:
            changes["description"] = description
        changes["updated_at"] = now_iso()
        assignments = ", ".join(f"{column} = ?" for column in changes)
        self.store.execute(
            f"UPDATE {table} SET {assignments} WHERE slug = ?",  # noqa: S608
            [*changes.values(), slug],
        )

    async def _list_roles(self, request: Request) -> Response:
        # Not paginated: all environment roles, in priority order (here: creation order).
        rows = self.store.all("SELECT * FROM roles ORDER BY id")
        return JSONResponse({"object": "list", "data": [role_json(row) for row in rows]})

    async def _create_role(self, request: Request) -> Response:
        return JSONResponse(self.create_role(json_object(await request.body())), status_code=201)

    async def _get_role(self, request: Request) -> Response:
        return JSONResponse(role_json(self.role_row(request.path_params["slug"])))

    async def _update_role(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        self.role_row(slug)
        self._update_definition("roles", slug, json_object(await request.body()))
        return JSONResponse(role_json(self.role_row(slug)))

    async def _add_role_permission(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        role = self.role_row(slug)
        fields = Fields(json_object(await request.body()))
        permission = fields.string("slug", required=True, non_empty=True)
        fields.check()
        assert permission is not None
        current: list[str] = from_json(role["permissions"], [])
        return JSONResponse(self.set_role_permissions(slug, [*current, permission]))

    async def _set_role_permissions(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        self.role_row(slug)
        fields = Fields(json_object(await request.body()))
        permissions = fields.string_list("permissions", required=True)
        fields.check()
        assert permissions is not None
        return JSONResponse(self.set_role_permissions(slug, permissions))

    async def _list_permissions(self, request: Request) -> Response:
        rows, metadata = self.page("permissions", parse_list_params(request))
        return JSONResponse(self.list_body([permission_json(row) for row in rows], metadata))

    async def _create_permission(self, request: Request) -> Response:
        return JSONResponse(
            self.create_permission(json_object(await request.body())), status_code=201
        )

    async def _get_permission(self, request: Request) -> Response:
        return JSONResponse(permission_json(self.permission_row(request.path_params["slug"])))

    async def _update_permission(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        self.permission_row(slug)
        self._update_definition("permissions", slug, json_object(await request.body()))
        return JSONResponse(permission_json(self.permission_row(slug)))

    async def _delete_permission(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        self.permission_row(slug)
        now = now_iso()
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM permissions WHERE slug = ?", [slug])
            for role in conn.execute("SELECT id, permissions FROM roles").fetchall():
                current: list[str] = from_json(role["permissions"], [])
                if slug in current:
                    conn.execute(
                        "UPDATE roles SET permissions = ?, updated_at = ? WHERE id = ?",
                        [to_json([p for p in current if p != slug]), now, role["id"]],
                    )
        return Response(status_code=204)

    # ----------------------------------------------------------------- redirect URIs, CORS

    def create_redirect_uri(self, data: Mapping[str, Any]) -> dict[str, Any]:
        fields = Fields(data)
        uri = fields.string("uri", required=True, non_empty=True)
        fields.check()
        assert uri is not None
        if not is_valid_redirect_uri(uri):
            raise ApiError(400, error_body(f"'{uri}' is not a valid redirect URI."))
        if self.store.one("SELECT 1 FROM redirect_uris WHERE uri = ?", [uri]):
            raise ApiError(
                400,
                error_body(f"Redirect URI '{uri}' already exists.", "redirect_uri_already_exists"),
            )
        # The first redirect URI of an environment becomes its default.
        is_first = self.store.one("SELECT 1 FROM redirect_uris LIMIT 1") is None
        redirect_id = new_id("redir_")
        now = now_iso()
        self.store.execute(
            "INSERT INTO redirect_uris (id, uri, is_default, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [redirect_id, uri, is_first, now, now],
        )
        row = self.store.one("SELECT * FROM redirect_uris WHERE id = ?", [redirect_id])
        assert row is not None
        return redirect_uri_json(row)

    def create_cors_origin(self, data: Mapping[str, Any]) -> dict[str, Any]:
        origin = data.get("origin")
        if not isinstance(origin, str) or not is_valid_origin(origin):
            # The document gives this endpoint class-validator style errors.
            raise ApiError(
                422,
                {
                    "message": "Validation failed.",
                    "code": "invalid_request_parameters",
                    "errors": [
                        {
                            "property": "origin",
                            "constraints": {
                                "isOrigin": "origin must be a scheme://host[:port] origin"
                            },
                        }
                    ],
                },
            )
        if self.store.one("SELECT 1 FROM cors_origins WHERE origin = ?", [origin]):
            raise ApiError(409, error_body("CORS origin already exists.", "duplicate_cors_origin"))
        origin_id = new_id("cors_origin_")
        now = now_iso()
        self.store.execute(
            "INSERT INTO cors_origins (id, origin, created_at, updated_at) VALUES (?, ?, ?, ?)",
            [origin_id, origin, now, now],
        )
        row = self.store.one("SELECT * FROM cors_origins WHERE id = ?", [origin_id])
        assert row is not None
        return cors_origin_json(row)

    async def _list_redirect_uris(self, request: Request) -> Response:
        rows, metadata = self.page("redirect_uris", parse_list_params(request))
        return JSONResponse(self.list_body([redirect_uri_json(row) for row in rows], metadata))

    async def _create_redirect_uri(self, request: Request) -> Response:
        body = json_object(await request.body())
        return JSONResponse(self.create_redirect_uri(body), status_code=201)

    async def _delete_redirect_uri(self, request: Request) -> Response:
        redirect_id = request.path_params["id"]
        row = self.store.one("SELECT * FROM redirect_uris WHERE id = ?", [redirect_id])
        if row is None:
            raise not_found("Redirect URI", redirect_id)
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM redirect_uris WHERE id = ?", [redirect_id])
            if row["is_default"]:  # the oldest remaining URI takes over as default
                conn.execute(
                    "UPDATE redirect_uris SET is_default = 1, updated_at = ? WHERE id = "
                    "(SELECT id FROM redirect_uris ORDER BY id LIMIT 1)",
                    [now_iso()],
                )
        return Response(status_code=204)

    async def _list_cors_origins(self, request: Request) -> Response:
        rows, metadata = self.page("cors_origins", parse_list_params(request))
        return JSONResponse(self.list_body([cors_origin_json(row) for row in rows], metadata))

    async def _create_cors_origin(self, request: Request) -> Response:
        body = json_object(await request.body())
        return JSONResponse(self.create_cors_origin(body), status_code=201)

    # ----------------------------------------------------------------- dashboard-only actions

    async def _dashboard_delete_role(self, request: Request) -> Response:
        """Roles & Permissions → delete, as a person does in the dashboard."""
        slug = request.path_params["slug"]
        self.role_row(slug)
        self.store.execute("DELETE FROM roles WHERE slug = ?", [slug])
        return Response(status_code=204)

    async def _dashboard_delete_cors_origin(self, request: Request) -> Response:
        """Authentication → Sessions → CORS → remove, as a person does in the dashboard."""
        origin = request.query_params.get("origin") or ""
        if self.store.one("SELECT 1 FROM cors_origins WHERE origin = ?", [origin]) is None:
            raise not_found("CORS origin", origin)
        self.store.execute("DELETE FROM cors_origins WHERE origin = ?", [origin])
        return Response(status_code=204)


# --------------------------------------------------------------------------- seed
#
# A seed states a starting tenant; each item goes through the same operation an API call
# would, and is skipped when its natural key exists:
#
#     permissions: [{slug: "billing:manage", name: Manage billing}]
#     roles:
#       - {slug: admin, name: Admin, permissions: ["billing:manage"]}
#       - {slug: member, name: Member}
#     organizations:
#       - {name: Acme, external_id: acme, domain_data: [{domain: acme.com, state: verified}]}
#     users:
#       - email: ada@acme.com
#         password: correct horse battery staple
#         memberships: [{organization: acme, role: admin}]  # external_id or name
#       - {email: bob@acme.com, password_hash: "$2b$10$…", password_hash_type: bcrypt}
#     redirect_uris: [https://app.example.com/callback]
#     cors_origins: [https://app.example.com]
#     social_connections: {google: 1234.apps.googleusercontent.com}


def _seed_permission(backend: WorkOSBackend, item: Any) -> None:
    if not backend.store.one("SELECT 1 FROM permissions WHERE slug = ?", [_seed_key(item, "slug")]):
        backend.create_permission(item)


def _seed_role(backend: WorkOSBackend, item: Any) -> None:
    slug = _seed_key(item, "slug")
    permissions = item.get("permissions") or []
    if not isinstance(permissions, list):
        raise ValueError(f"seed role {slug}: permissions must be a list of slugs")
    if not backend.store.one("SELECT 1 FROM roles WHERE slug = ?", [slug]):
        backend.create_role({key: value for key, value in item.items() if key != "permissions"})
        backend.set_role_permissions(slug, permissions)


def _seed_organization(backend: WorkOSBackend, item: Any) -> None:
    if _find_organization(backend.store, item.get("external_id") or _seed_key(item, "name")):
        return
    body = dict(item)
    if body.get("domains") and isinstance(body["domains"][0], dict):
        body["domain_data"] = body.pop("domains")
    backend.create_organization(body)


def _seed_user(backend: WorkOSBackend, item: Any) -> None:
    email = str(_seed_key(item, "email")).strip().lower()
    body = {key: value for key, value in item.items() if key != "memberships"}
    if body.get("password_hash") is not None:
        body.setdefault("password_hash_type", "bcrypt")
    row = backend.store.one("SELECT id FROM users WHERE email = ?", [email])
    user_id = row["id"] if row else backend.create_user(body)["id"]
    for membership in item.get("memberships") or []:
        organization = _find_organization(backend.store, str(_seed_key(membership, "organization")))
        if organization is None:
            raise ValueError(f"seed user {email}: no organization {membership['organization']!r}")
        if backend.store.one(
            "SELECT 1 FROM organization_memberships WHERE user_id = ? AND organization_id = ?",
            [user_id, organization],
        ):
            continue
        request: dict[str, Any] = {"user_id": user_id, "organization_id": organization}
        if membership.get("roles"):
            request["role_slugs"] = membership["roles"]
        elif membership.get("role"):
            request["role_slug"] = membership["role"]
        backend.create_membership(request)


def _seed_redirect_uri(backend: WorkOSBackend, uri: Any) -> None:
    if not backend.store.one("SELECT 1 FROM redirect_uris WHERE uri = ?", [uri]):
        backend.create_redirect_uri({"uri": uri})


def _seed_cors_origin(backend: WorkOSBackend, origin: Any) -> None:
    if not backend.store.one("SELECT 1 FROM cors_origins WHERE origin = ?", [origin]):
        backend.create_cors_origin({"origin": origin})


def _seed_social_connection(backend: WorkOSBackend, pair: tuple[str, Any]) -> None:
    provider, client_id = pair
    check_social_provider(provider)
    backend.social.set(provider, str(client_id))


SEED_SECTIONS: Final = (
    SeedSection("permissions", _seed_permission),
    SeedSection("roles", _seed_role),
    SeedSection("organizations", _seed_organization),
    SeedSection("users", _seed_user),
    SeedSection("redirect_uris", _seed_redirect_uri),
    SeedSection("cors_origins", _seed_cors_origin),
    SeedSection("social_connections", _seed_social_connection, container=dict),
)


def _seed_key(item: Any, key: str) -> Any:
    if not isinstance(item, dict) or item.get(key) is None:
        raise ValueError(f"seed item {item!r} needs {key!r}")
    return item[key]


def _find_organization(store: SqliteStore, reference: str) -> str | None:
    """An organization id by external id, else by name (how seed memberships refer to them)."""
    row = store.one("SELECT id FROM organizations WHERE external_id = ?", [reference])
    row = row or store.one("SELECT id FROM organizations WHERE name = ? ORDER BY id", [reference])
    return None if row is None else str(row["id"])


# --------------------------------------------------------------------------- app factory


def create_workos_app(
    db_path: str | Path = ":memory:",
    api_key: str = "sk_test_emulator",
    client_id: str = "client_emulator",
    rate_limits: RateLimits | None = None,
    *,
    seed: Path | str | Mapping[str, Any] | None = None,
) -> EmulatorApp:
    """The WorkOS emulator as an ASGI app (an ``EmulatorApp``, i.e. a Starlette app)."""
    store = SqliteStore(db_path)
    seed_data = load_seed(seed) if isinstance(seed, str | Path) else seed
    try:
        backend = WorkOSBackend(
            store,
            SocialConnections(store),
            api_key=api_key,
            client_id=client_id,
            seed=seed_data,
        )
    except BaseException:
        store.close()
        raise
    return EmulatorApp(backend, api_key=api_key, rate_limits=rate_limits or RateLimits())
