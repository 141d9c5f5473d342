"""A local Clerk Backend API (``https://api.clerk.com/v1``): users, organizations and
organization memberships, and one instance's configuration (organization roles and
permissions, redirect URLs, the instance's allowed origins, organization domains and
metadata), with Clerk's paths, payloads, ids, pagination, error bodies and rate limits; plus
the one Frontend API answer authform reads (``/fapi/v1/environment``: which social
connections the emulated dashboard enabled).

Shapes follow Clerk's OpenAPI document (``reference/openapi/clerk-bapi-2026-05-12.yml``) and
the official Python SDK generated from it (PyPI ``clerk-backend-api`` 7.x); the fidelity
tests check both and say where they disagree. What neither names (most error codes) follows
Clerk's published error index and real responses; the module constants say which is which.

Conventions that matter to clients:
- Timestamps are int64 Unix milliseconds; ids are KSUIDs behind Clerk's prefixes (``user_``,
  ``org_``, ``orgmem_``, ``idn_`` for email addresses and phone numbers).
- ``GET /v1/users`` answers a bare JSON array (totals come from ``/v1/users/count``) and
  pages by ``offset`` or by the ``starting_after`` cursor, which needs a ``created_at``
  ordering and a zero offset (else 422). Organization and membership lists answer
  ``{data, total_count}`` and page by ``offset``.
- Errors are ``{errors: [{message, long_message, code, meta?}], clerk_trace_id}``; every
  problem in a request body is reported at once.
- Password digests and TOTP secrets are stored but never answered (the real API has no such
  fields) and never written to the request log.
- ``Clerk-API-Version`` is accepted and ignored: the emulator speaks 2026-05-12.
- Every instance starts with Clerk's system permissions (``org:sys_…``) and its default
  roles ``org:admin`` and ``org:member``. A ``sk_live_`` key makes a production instance
  (``GET /v1/instance`` says so, and the production rate limit applies).
- Role sets are not emulated: every role is assignable in every organization.
- Password digests of every hasher Clerk accepts are checked against that hasher's form;
  ``verify_password`` checks bcrypt, md5, sha256 and the pbkdf2 family (the others are
  stored but cannot be checked here, and say so).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import csv
import hashlib
import hmac
import json
import re
import secrets
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Final
from urllib.parse import parse_qsl

import bcrypt
import yaml
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from authform.password_digests import CLERK_HASHERS, fits_clerk_form
from authform.social import CLERK_STRATEGIES, SOCIAL_PROVIDERS

from .base import (
    REDACTED,
    ApiError,
    EmulatorApp,
    EmulatorBackend,
    Limit,
    LimitTable,
    RequestLog,
    SocialConnections,
)
from .store import SqliteStore, from_json, to_json

API_PREFIX: Final = "/v1"

# --------------------------------------------------------------------------- rate limits

# https://clerk.com/docs/guides/how-clerk-works/system-limits: per instance (secret key),
# 1,000 requests per 10 s in production and 100 per 10 s in development. CreateUser's
# description in the OpenAPI document repeats both figures.
DEVELOPMENT_LIMIT: Final = Limit(100, 10)
PRODUCTION_LIMIT: Final = Limit(1000, 10)


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


# --------------------------------------------------------------------------- schema

CLERK_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS clerk_permissions (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    type TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS clerk_org_roles (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS clerk_role_permissions (
    role_id TEXT NOT NULL REFERENCES clerk_org_roles(id) ON DELETE CASCADE,
    permission_id TEXT NOT NULL REFERENCES clerk_permissions(id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
);
CREATE TABLE IF NOT EXISTS clerk_redirect_urls (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- One row: the instance's settings that PATCH /v1/instance changes and GET reads back.
CREATE TABLE IF NOT EXISTS clerk_instance (
    id TEXT PRIMARY KEY,
    settings TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS clerk_organization_domains (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES clerk_organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL UNIQUE,
    enrollment_mode TEXT NOT NULL,
    verified INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS clerk_organization_domains_by_org
    ON clerk_organization_domains(organization_id, created_at);
CREATE TABLE IF NOT EXISTS clerk_users (
    id TEXT PRIMARY KEY,
    external_id TEXT UNIQUE,
    username TEXT,
    first_name TEXT,
    last_name TEXT,
    locale TEXT,
    primary_email_address_id TEXT,
    primary_phone_number_id TEXT,
    password_digest TEXT,
    password_hasher TEXT,
    password_last_updated_at INTEGER,
    totp_secret TEXT,
    backup_codes TEXT,
    mfa_enabled_at INTEGER,
    public_metadata TEXT NOT NULL DEFAULT '{}',
    private_metadata TEXT NOT NULL DEFAULT '{}',
    unsafe_metadata TEXT NOT NULL DEFAULT '{}',
    external_accounts TEXT NOT NULL DEFAULT '[]',
    banned INTEGER NOT NULL DEFAULT 0,
    locked INTEGER NOT NULL DEFAULT 0,
    delete_self_enabled INTEGER NOT NULL DEFAULT 1,
    create_organization_enabled INTEGER NOT NULL DEFAULT 1,
    create_organizations_limit INTEGER,
    bypass_client_trust INTEGER NOT NULL DEFAULT 0,
    legal_accepted_at INTEGER,
    last_sign_in_at INTEGER,
    last_active_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS clerk_users_by_created ON clerk_users(created_at, id);
CREATE UNIQUE INDEX IF NOT EXISTS clerk_users_by_username
    ON clerk_users(lower(username)) WHERE username IS NOT NULL;
CREATE TABLE IF NOT EXISTS clerk_identifications (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES clerk_users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    status TEXT NOT NULL,
    reserved_for_second_factor INTEGER NOT NULL DEFAULT 0,
    default_second_factor INTEGER NOT NULL DEFAULT 0,
    verification_strategy TEXT,
    linked_to TEXT NOT NULL DEFAULT '[]',
    position INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (kind, value)
);
CREATE INDEX IF NOT EXISTS clerk_identifications_by_user
    ON clerk_identifications(user_id, position);
CREATE INDEX IF NOT EXISTS clerk_identifications_by_value
    ON clerk_identifications(kind, lower(value));
CREATE TABLE IF NOT EXISTS clerk_organizations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    max_allowed_memberships INTEGER NOT NULL DEFAULT 0,
    admin_delete_enabled INTEGER NOT NULL DEFAULT 1,
    public_metadata TEXT NOT NULL DEFAULT '{}',
    private_metadata TEXT NOT NULL DEFAULT '{}',
    created_by TEXT,
    role_set_key TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS clerk_organizations_by_created
    ON clerk_organizations(created_at, id);
-- user_id has no foreign key: a seed may hold a membership whose user is gone (see
-- apply_seed); deleting a user through the API deletes its memberships explicitly.
CREATE TABLE IF NOT EXISTS clerk_memberships (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES clerk_organizations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    public_metadata TEXT NOT NULL DEFAULT '{}',
    private_metadata TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (organization_id, user_id)
);
CREATE INDEX IF NOT EXISTS clerk_memberships_by_user ON clerk_memberships(user_id);
CREATE INDEX IF NOT EXISTS clerk_memberships_by_created ON clerk_memberships(created_at, id);
"""

# Children before parents, so a wipe never trips a foreign key.
CLERK_TABLES: Final = (
    "clerk_memberships",
    "clerk_organization_domains",
    "clerk_identifications",
    "clerk_users",
    "clerk_organizations",
    "clerk_role_permissions",
    "clerk_org_roles",
    "clerk_permissions",
    "clerk_redirect_urls",
    "clerk_instance",
)

# Clerk's default organization roles and their system permissions
# (https://clerk.com/docs/organizations/roles-permissions). Instances that enabled
# organizations before December 2023 use ``admin`` / ``basic_member`` instead; a seed adds
# those (``seed_from_clerk_export`` does when the export's memberships use them).
SYSTEM_PERMISSIONS_ADMIN: Final = (
    "org:sys_profile:manage",
    "org:sys_profile:delete",
    "org:sys_memberships:read",
    "org:sys_memberships:manage",
    "org:sys_domains:read",
    "org:sys_domains:manage",
)
# (key, name, permissions)
DEFAULT_ROLES: Final[tuple[tuple[str, str, tuple[str, ...]], ...]] = (
    ("org:admin", "Admin", SYSTEM_PERMISSIONS_ADMIN),
    ("org:member", "Member", ("org:sys_memberships:read",)),
)
CREATOR_ROLES: Final = ("org:admin", "admin")
# System permission display names, as Clerk's dashboard lists them.
SYSTEM_PERMISSION_NAMES: Final = {
    "org:sys_profile:manage": "Manage organization",
    "org:sys_profile:delete": "Delete organization",
    "org:sys_memberships:read": "Read members",
    "org:sys_memberships:manage": "Manage members",
    "org:sys_domains:read": "Read domains",
    "org:sys_domains:manage": "Manage domains",
}
# CreateOrganizationRole: "The key must ... start with the 'org:' prefix, followed by
# lowercase alphanumeric characters and underscores only." CreateOrganizationPermission:
# "org:feature:action" with segments of lowercase letters, digits or underscores, and not
# "org:sys_", which is reserved for system permissions.
ROLE_KEY: Final = re.compile(r"org:[a-z0-9_]+")
PERMISSION_KEY: Final = re.compile(r"org:[a-z0-9_]+:[a-z0-9_]+")
SYSTEM_PERMISSION_PREFIX: Final = "org:sys_"
# A creator role must be able to run the organization it creates (the emulator's reading of
# Role.is_creator_eligible; Clerk does not document the rule).
CREATOR_PERMISSION: Final = "org:sys_memberships:manage"
ENROLLMENT_MODES: Final = (
    "manual_invitation",
    "automatic_invitation",
    "automatic_suggestion",
    "enterprise_sso",
)
# Public email providers Clerk refuses as organization domains (a sample of its list).
COMMON_EMAIL_DOMAINS: Final = frozenset(
    {"gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com"}
)
DOMAIN_NAME: Final = re.compile(
    r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]"
)
# The path under which the emulator serves the slice of Clerk's Frontend API authform reads;
# GET /v1/domains names it as the instance's frontend_api_url.
FRONTEND_API_PREFIX: Final = "/fapi"

EMAIL_ADDRESS: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
E164_PHONE: Final = re.compile(r"\+[1-9]\d{6,14}")
BASE32_SECRET: Final = re.compile(r"[A-Za-z2-7]+=*")
ORGANIZATION_SLUG: Final = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MIN_PASSWORD_LENGTH: Final = 8
USERNAME_LENGTH: Final = (4, 64)
MAX_LIST_FILTER_VALUES: Final = 100
MAX_PAGE_SIZE: Final = 500
BCRYPT_ROUNDS: Final = 10
# What Clerk answers for an account without an uploaded image: an img.clerk.com URL whose
# path is a base64 JSON descriptor ({"type":"default"}).
DEFAULT_IMAGE_URL: Final = "https://img.clerk.com/eyJ0eXBlIjoiZGVmYXVsdCJ9"


# --------------------------------------------------------------------------- ids, time

_BASE62: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_KSUID_EPOCH: Final = 1_400_000_000


def clerk_id(prefix: str) -> str:
    """A Clerk-style id such as ``user_2aAda…``: Clerk ids are KSUIDs, 27 base62 characters
    encoding a 32-bit timestamp (seconds since 2014-05-13) and 128 random bits."""
    value = ((int(time.time()) - _KSUID_EPOCH) << 128) | secrets.randbits(128)
    digits = []
    for _ in range(27):
        value, digit = divmod(value, 62)
        digits.append(_BASE62[digit])
    return prefix + "".join(reversed(digits))


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def parse_rfc3339_ms(text: str) -> int | None:
    """``2012-10-20T07:15:20.902Z`` → Unix milliseconds; ``None`` when unparseable or naive."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return int(parsed.timestamp() * 1000)


# --------------------------------------------------------------------------- errors


def clerk_error(
    code: str, message: str, long_message: str, *, param: str | None = None
) -> dict[str, Any]:
    """One entry of ``errors``; ``meta.param_name`` names the offending request parameter."""
    error: dict[str, Any] = {"message": message, "long_message": long_message, "code": code}
    if param is not None:
        error["meta"] = {"param_name": param}
    return error


def errors_body(*errors: Mapping[str, Any]) -> dict[str, Any]:
    # Clerk puts a trace id on every error; support asks for it, clients log it.
    return {"errors": [dict(error) for error in errors], "clerk_trace_id": uuid.uuid4().hex}


def api_error(
    status: int, code: str, message: str, long_message: str, *, param: str | None = None
) -> ApiError:
    return ApiError(status, errors_body(clerk_error(code, message, long_message, param=param)))


def not_found(kind: str, identifier: str) -> ApiError:
    # The shape of Clerk's index entries, e.g. "No identifier was found with id <id>".
    return api_error(
        404, "resource_not_found", "not found", f"No {kind} was found with id {identifier}"
    )


def param_invalid(
    param: str, long_message: str, code: str = "form_param_value_invalid"
) -> ApiError:
    return api_error(422, code, "is invalid", long_message, param=param)


# --------------------------------------------------------------------------- request bodies


class Body:
    """Reads a request body field by field, collecting every problem before failing, so a
    client learns about all its mistakes in one 422 (Clerk answers several ``errors``).

    ``allowed`` mirrors the document's ``additionalProperties: false``: any other field is
    ``form_param_unknown``. Form-encoded bodies (which Clerk also accepts) arrive as strings,
    so booleans and integers are converted when ``from_form``.
    """

    def __init__(
        self, data: Mapping[str, Any], allowed: Iterable[str], *, from_form: bool = False
    ) -> None:
        self.data = data
        self.from_form = from_form
        self.errors: list[dict[str, Any]] = []
        known = set(allowed)
        for key in data:
            if key not in known:
                self.errors.append(
                    clerk_error(
                        "form_param_unknown",
                        "is unknown",
                        f"{key} is not a valid parameter for this request.",
                        param=key,
                    )
                )

    def has(self, name: str) -> bool:
        return name in self.data

    def fail(self, code: str, param: str, message: str, long_message: str) -> None:
        self.errors.append(clerk_error(code, message, long_message, param=param))

    def missing(self, param: str) -> None:
        self.fail("form_param_missing", param, "is missing", f"{param} is missing.")

    def invalid(self, param: str, long_message: str) -> None:
        self.fail("form_param_format_invalid", param, "is invalid", long_message)

    def string(
        self, name: str, *, required: bool = False, max_length: int | None = None
    ) -> str | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.missing(name)
            return None
        if not isinstance(value, str):
            self.invalid(name, f"{name} must be a string.")
            return None
        if required and not value.strip():
            self.missing(name)
            return None
        if max_length is not None and len(value) > max_length:
            self.invalid(name, f"{name} must be at most {max_length} characters long.")
            return None
        return value

    def boolean(self, name: str) -> bool | None:
        value = self.data.get(name)
        if value is None:
            return None
        if self.from_form and isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        if not isinstance(value, bool):
            self.invalid(name, f"{name} must be a boolean.")
            return None
        return value

    def integer(self, name: str, *, minimum: int | None = None) -> int | None:
        value = self.data.get(name)
        if value is None:
            return None
        if self.from_form and isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            self.invalid(name, f"{name} must be an integer.")
            return None
        if minimum is not None and value < minimum:
            self.invalid(name, f"{name} must be greater than or equal to {minimum}.")
            return None
        return value

    def string_list(self, name: str) -> list[str]:
        value = self.data.get(name)
        if value is None:
            return []
        if self.from_form and isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.invalid(name, f"{name} must be an array of strings.")
            return []
        return list(value)

    def metadata(self, name: str) -> dict[str, Any] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if self.from_form and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        if not isinstance(value, dict):
            self.invalid(name, f"{name} must be a JSON object.")
            return None
        return value

    def timestamp(self, name: str) -> int | None:
        """An RFC 3339 date-time field, as Unix milliseconds."""
        text = self.string(name)
        if text is None:
            return None
        parsed = parse_rfc3339_ms(text)
        if parsed is None:
            self.invalid(name, f"{name} must be an RFC 3339 date-time, e.g. 2012-10-20T07:15:20Z.")
        return parsed

    def check(self) -> None:
        if self.errors:
            raise ApiError(422, errors_body(*self.errors))


async def read_body(request: Request) -> tuple[dict[str, Any], bool]:
    """The request body as a dict and whether it was form-encoded.

    Form fields named ``x[]`` (or repeated) become lists, as Clerk reads them.
    """
    raw = await request.body()
    if not raw.strip():
        return {}, False
    if "application/x-www-form-urlencoded" in request.headers.get("content-type", ""):
        form: dict[str, Any] = {}
        for key, value in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
            name = key.removesuffix("[]")
            if key.endswith("[]") or name in form:
                existing = form.get(name)
                items = (
                    existing
                    if isinstance(existing, list)
                    else []
                    if existing is None
                    else [existing]
                )
                form[name] = [*items, value]
            else:
                form[name] = value
        return form, True
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise api_error(
            400,
            "request_body_invalid",
            "Request body is invalid",
            "The request body must be a JSON object or form data.",
        )
    return data, False


# --------------------------------------------------------------------------- query strings


def query_values(request: Request, name: str) -> list[str]:
    """An array query parameter: the SDK repeats ``name=…``, other clients send ``name[]=…``."""
    values = [*request.query_params.getlist(name), *request.query_params.getlist(f"{name}[]")]
    return [value.strip() for value in values if value.strip()]


def split_signed(values: Sequence[str]) -> tuple[list[str], list[str]]:
    """``+id``/``-id`` filters: (included, excluded); no sign means included. A ``+`` sent
    unencoded in a query string arrives as a space, which is read as ``+``."""
    include, exclude = [], []
    for value in values:
        if value.startswith("-"):
            exclude.append(value[1:])
        else:
            include.append(value.lstrip("+ "))
    return include, exclude


def query_int(request: Request, name: str, *, default: int, low: int, high: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise param_invalid(name, f"{name} must be an integer {bounds}.")
    return value


def query_optional_int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise param_invalid(name, f"{name} must be an integer (Unix milliseconds).") from None


def query_bool(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise param_invalid(name, f"{name} must be true or false.")


@dataclass(frozen=True)
class Order:
    """A parsed ``order_by``: the field and its direction (``+`` is implied)."""

    field: str
    descending: bool

    @property
    def direction(self) -> str:
        return "DESC" if self.descending else "ASC"


def parse_order(request: Request, fields: Iterable[str], default: str) -> Order:
    # "We only support one order_by parameter ... we will only keep the first one."
    values = request.query_params.getlist("order_by")
    raw = (values[0] if values else "") or default
    text = raw.strip() if raw[:1] == " " else raw  # an unencoded '+' arrives as a space
    descending = text.startswith("-")
    name = text.lstrip("+-")
    known = list(fields)
    if name not in known:
        raise param_invalid(
            "order_by", f"order_by must be one of {', '.join(known)}, optionally prefixed + or -."
        )
    return Order(name, descending)


@dataclass
class Filters:
    """SQL conditions and their arguments, built up from query parameters."""

    conditions: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)

    def add(self, condition: str, *args: Any) -> None:
        self.conditions.append(condition)
        self.args.extend(args)

    def where(self) -> str:
        return f"WHERE {' AND '.join(self.conditions)}" if self.conditions else ""


def _placeholders(values: Sequence[Any]) -> str:
    return ",".join("?" for _ in values)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _limited(request: Request, name: str) -> list[str]:
    values = query_values(request, name)
    if len(values) > MAX_LIST_FILTER_VALUES:
        raise param_invalid(name, f"{name} accepts up to {MAX_LIST_FILTER_VALUES} values.")
    return values


# --------------------------------------------------------------------------- serializers


def _bool(value: Any) -> bool:
    return bool(value)


def verification_json(row: sqlite3.Row) -> dict[str, Any] | None:
    """The verification object of an email address or phone number.

    Clerk's answers carry ``object`` (``verification_admin``…) even though the document marks
    it optional: the SDK's union discriminates on it, so without it nothing parses.
    """
    status = row["status"]
    if status == "reserved":
        return None
    strategy = row["verification_strategy"]
    if status == "verified" and strategy and strategy.startswith("from_oauth_"):
        return {
            "object": "verification_from_oauth",
            "status": "verified",
            "strategy": strategy,
            "attempts": None,
            "expire_at": None,
        }
    if status == "verified":
        return {
            "object": "verification_admin",
            "status": "verified",
            "strategy": "admin",
            "attempts": None,
            "expire_at": None,
        }
    return {
        "object": "verification_otp",
        "status": "unverified",
        "strategy": "email_code" if row["kind"] == "email_address" else "phone_code",
        "attempts": None,
        "expire_at": None,
    }


def email_address_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "email_address",
        "email_address": row["value"],
        "reserved": row["status"] == "reserved",
        "verification": verification_json(row),
        "linked_to": from_json(row["linked_to"], []),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def phone_number_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "phone_number",
        "phone_number": row["value"],
        "reserved_for_second_factor": _bool(row["reserved_for_second_factor"]),
        "default_second_factor": _bool(row["default_second_factor"]),
        "reserved": row["status"] == "reserved",
        "verification": verification_json(row),
        "linked_to": from_json(row["linked_to"], []),
        "backup_codes": None,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def user_json(row: sqlite3.Row, identifications: Sequence[sqlite3.Row]) -> dict[str, Any]:
    """A ``User`` exactly as the document defines it. The digest, hasher, TOTP secret and
    backup codes stay in the database: the real API has no fields for them."""
    emails = [email_address_json(i) for i in identifications if i["kind"] == "email_address"]
    phones = [phone_number_json(i) for i in identifications if i["kind"] == "phone_number"]
    totp = row["totp_secret"] is not None
    backup = row["backup_codes"] is not None
    sms = any(phone["reserved_for_second_factor"] for phone in phones)
    return {
        "id": row["id"],
        "object": "user",
        "external_id": row["external_id"],
        "primary_email_address_id": row["primary_email_address_id"],
        "primary_phone_number_id": row["primary_phone_number_id"],
        "primary_web3_wallet_id": None,
        "username": row["username"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "locale": row["locale"],
        "profile_image_url": DEFAULT_IMAGE_URL,
        "image_url": DEFAULT_IMAGE_URL,
        "has_image": False,
        "public_metadata": from_json(row["public_metadata"], {}),
        "private_metadata": from_json(row["private_metadata"], {}),
        "unsafe_metadata": from_json(row["unsafe_metadata"], {}),
        "email_addresses": emails,
        "phone_numbers": phones,
        "web3_wallets": [],
        "passkeys": [],
        "password_enabled": row["password_digest"] is not None,
        "two_factor_enabled": totp or backup or sms,
        "totp_enabled": totp,
        "backup_code_enabled": backup,
        "mfa_enabled_at": row["mfa_enabled_at"],
        "mfa_disabled_at": None,
        "password_last_updated_at": row["password_last_updated_at"],
        "external_accounts": from_json(row["external_accounts"], []),
        "saml_accounts": [],
        "enterprise_accounts": [],
        "last_sign_in_at": row["last_sign_in_at"],
        "banned": _bool(row["banned"]),
        "locked": _bool(row["locked"]),
        "lockout_expires_in_seconds": None,
        "verification_attempts_remaining": None,
        "updated_at": row["updated_at"],
        "created_at": row["created_at"],
        "delete_self_enabled": _bool(row["delete_self_enabled"]),
        "create_organization_enabled": _bool(row["create_organization_enabled"]),
        "create_organizations_limit": row["create_organizations_limit"],
        "last_active_at": row["last_active_at"],
        "legal_accepted_at": row["legal_accepted_at"],
        "bypass_client_trust": _bool(row["bypass_client_trust"]),
    }


def organization_json(row: sqlite3.Row, members_count: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "object": "organization",
        "id": row["id"],
        "name": row["name"],
        "slug": row["slug"],
        "image_url": DEFAULT_IMAGE_URL,
        "has_image": False,
        "max_allowed_memberships": row["max_allowed_memberships"],
        "admin_delete_enabled": _bool(row["admin_delete_enabled"]),
        "public_metadata": from_json(row["public_metadata"], {}),
        "private_metadata": from_json(row["private_metadata"], {}),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "role_set_key": row["role_set_key"],
    }
    if members_count is not None:
        item["members_count"] = members_count
    if row["created_by"] is not None:  # a string when present, never null in the document
        item["created_by"] = row["created_by"]
    return item


def permission_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "object": "permission",
        "id": row["id"],
        "name": row["name"],
        "key": row["key"],
        "description": row["description"],
        "type": row["type"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def redirect_url_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "object": "redirect_url",
        "id": row["id"],
        "url": row["url"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def organization_domain_json(row: sqlite3.Row, organization: sqlite3.Row) -> dict[str, Any]:
    """An ``OrganizationDomain``. ``verified`` in the create and update bodies is the
    affiliation verification (the one members prove by email); its deprecated alias
    ``verification`` carries the same. DNS ownership is never attempted here, so
    ``ownership_verification`` stays null, as the document says it does until then."""
    affiliation = (
        {
            "status": "verified",
            "strategy": "admin",
            "attempts": None,
            "expire_at": None,
            "verified_at": None,  # "Only populated on ownership_verification"
        }
        if row["verified"]
        else None
    )
    return {
        "object": "organization_domain",
        "id": row["id"],
        "organization_id": row["organization_id"],
        "name": row["name"],
        "enrollment_mode": row["enrollment_mode"],
        "affiliation_email_address": None,
        "affiliation_verification": affiliation,
        "ownership_verification": None,
        "verification": affiliation,
        "total_pending_invitations": 0,
        "total_pending_suggestions": 0,
        "public_organization_data": {
            "id": organization["id"],
            "name": organization["name"],
            "slug": organization["slug"],
            "image_url": DEFAULT_IMAGE_URL,
            "has_image": False,
        },
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


@dataclass
class RoleSummary:
    """A role as memberships show it: its name and its permission keys."""

    name: str
    permissions: list[str]


# --------------------------------------------------------------------------- new users


@dataclass
class NewIdentification:
    kind: str  # "email_address" | "phone_number"
    value: str
    status: str = "verified"  # "verified" | "unverified" | "reserved"
    reserved_for_second_factor: bool = False
    default_second_factor: bool = False
    verification_strategy: str | None = None
    linked_to: list[dict[str, str]] = field(default_factory=list)
    id: str = field(default_factory=lambda: clerk_id("idn_"))


@dataclass
class NewUser:
    """Everything a user row holds, from an API body or a seed item."""

    id: str
    emails: list[NewIdentification]
    phones: list[NewIdentification]
    primary_email: str | None = None
    primary_phone: str | None = None
    external_id: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    locale: str | None = None
    password_digest: str | None = None
    password_hasher: str | None = None
    totp_secret: str | None = None
    backup_codes: list[str] | None = None
    public_metadata: dict[str, Any] = field(default_factory=dict)
    private_metadata: dict[str, Any] = field(default_factory=dict)
    unsafe_metadata: dict[str, Any] = field(default_factory=dict)
    external_accounts: list[dict[str, Any]] = field(default_factory=list)
    banned: bool = False
    locked: bool = False
    delete_self_enabled: bool = True
    create_organization_enabled: bool = True
    create_organizations_limit: int | None = None
    bypass_client_trust: bool = False
    legal_accepted_at: int | None = None
    last_sign_in_at: int | None = None
    last_active_at: int | None = None
    created_at: int | None = None
    updated_at: int | None = None


CREATE_USER_FIELDS: Final = frozenset(
    {
        "external_id",
        "first_name",
        "last_name",
        "locale",
        "email_address",
        "email_address_identification_status",
        "phone_number",
        "phone_number_identification_status",
        "web3_wallet",
        "username",
        "password",
        "password_digest",
        "password_hasher",
        "skip_password_checks",
        "skip_password_requirement",
        "totp_secret",
        "backup_codes",
        "public_metadata",
        "private_metadata",
        "unsafe_metadata",
        "delete_self_enabled",
        "legal_accepted_at",
        "skip_legal_checks",
        "skip_user_requirement",
        "create_organization_enabled",
        "create_organizations_limit",
        "created_at",
        "bypass_client_trust",
        "banned",
        "locked",
    }
)


# UpdateUser's documented body (additionalProperties: false).
UPDATE_USER_FIELDS: Final = frozenset(
    {
        "external_id",
        "first_name",
        "last_name",
        "locale",
        "primary_email_address_id",
        "notify_primary_email_address_changed",
        "primary_phone_number_id",
        "username",
        "profile_image_id",
        "password",
        "password_digest",
        "password_hasher",
        "skip_password_checks",
        "sign_out_of_other_sessions",
        "totp_secret",
        "backup_codes",
        "delete_self_enabled",
        "create_organization_enabled",
        "legal_accepted_at",
        "skip_legal_checks",
        "create_organizations_limit",
        "created_at",
        "bypass_client_trust",
    }
)
# UpdateInstance's documented body (additionalProperties: false).
INSTANCE_SETTINGS: Final = frozenset(
    {
        "test_mode",
        "hibp",
        "support_email",
        "clerk_js_version",
        "development_origin",
        "allowed_origins",
        "cookieless_dev",
        "url_based_session_syncing",
        "preferred_sign_in_strategy_when_password_required",
    }
)


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def read_password_fields(body: Body) -> tuple[str | None, str | None, str | None]:
    """``password``, ``password_digest`` and ``password_hasher`` as CreateUser and UpdateUser
    both take them: a plaintext or a digest, never both; a digest with its hasher, in that
    hasher's form. Problems go to ``body``; messages never quote a password or digest."""
    password = body.string("password")
    digest = body.string("password_digest")
    hasher = body.string("password_hasher")
    skip_checks = bool(body.boolean("skip_password_checks"))
    if password is not None and digest is not None:
        body.fail(
            "form_param_value_invalid",
            "password_digest",
            "is invalid",
            "password and password_digest cannot be given together.",
        )
    elif digest is not None and hasher is None:
        body.fail(
            "form_conditional_param_missing",
            "password_hasher",
            "is missing",
            "password_hasher is required when password_digest is given.",
        )
    elif hasher is not None and digest is None:
        body.fail(
            "form_conditional_param_missing",
            "password_digest",
            "is missing",
            "password_digest is required when password_hasher is given.",
        )
    elif hasher is not None and hasher not in CLERK_HASHERS:
        body.fail(
            "form_param_value_invalid",
            "password_hasher",
            "is invalid",
            "password_hasher must be one of the supported hashing algorithms.",
        )
    elif hasher is not None and digest is not None and not fits_clerk_form(hasher, digest):
        # Clerk's error index: "FormPasswordDigestInvalid signifies an error when the
        # provided password_digest is not valid for the provided password_hasher".
        body.fail(
            "form_password_digest_invalid",
            "password_digest",
            "is invalid",
            f"The password digest is not a valid {hasher} digest.",
        )
    if password is not None and not skip_checks and len(password) < MIN_PASSWORD_LENGTH:
        body.fail(
            "form_password_length_too_short",
            "password",
            "is too short",
            f"Passwords must be {MIN_PASSWORD_LENGTH} characters or more.",
        )
    return password, digest, hasher


def deep_merge(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Clerk's metadata merge: nested objects merge too, and a ``null`` removes a key."""
    merged = dict(current)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _unhex(text: str) -> bytes | None:
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None


def _unbase64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def digest_matches(hasher: str | None, digest: str, password: str) -> bool | None:
    """Whether ``password`` matches a stored digest, for the hashers whose checks need only
    the standard library and bcrypt; ``None`` for the others (scrypt_firebase, argon2,
    phpass…), which the emulator stores but cannot check."""
    secret = password.encode()
    if hasher == "bcrypt":
        try:
            return bcrypt.checkpw(secret, digest.encode())
        except ValueError:
            return False
    if hasher in ("md5", "sha256"):
        computed = hashlib.new(hasher, secret).hexdigest()
        return hmac.compare_digest(computed, digest.lower())
    parts = digest.split("$")
    salt: bytes
    expected: bytes | None
    if hasher == "pbkdf2_sha256_django" and len(parts) == 4:
        salt, expected = parts[2].encode(), _unbase64(parts[3])
        algorithm = "sha256"
    elif hasher == "pbkdf2_sha256" and len(parts) == 4:
        salt, expected = _unbase64(parts[2]) or b"", _unbase64(parts[3])
        algorithm = "sha256"
    elif hasher == "pbkdf2_sha512" and len(parts) == 4:
        salt, expected = parts[2].encode(), _unhex(parts[3])
        algorithm = "sha512"
    elif hasher == "pbkdf2_sha512_hex" and len(parts) == 4:
        salt, expected = _unhex(parts[2]) or b"", _unhex(parts[3])
        algorithm = "sha512"
    elif hasher == "pbkdf2_sha1" and len(parts) in (4, 5):
        salt, expected = _unhex(parts[2]) or parts[2].encode(), _unhex(parts[3])
        algorithm = "sha1"
    else:
        return None
    if expected is None or not parts[1].isdigit():
        return False
    derived = hashlib.pbkdf2_hmac(algorithm, secret, salt, int(parts[1]), len(expected))
    return hmac.compare_digest(derived, expected)


def _identification_statuses(body: Body, name: str, count: int) -> list[str]:
    statuses = body.string_list(name)
    if not statuses:
        return ["verified"] * count
    if len(statuses) != count:
        body.invalid(name, f"{name} must have exactly one item per {name.split('_identif')[0]}.")
        return ["verified"] * count
    for status in statuses:
        if status not in ("verified", "reserved"):
            body.invalid(name, f"{name} items must be 'verified' or 'reserved'.")
            return ["verified"] * count
    return statuses


def parse_create_user(
    data: Mapping[str, Any], *, from_form: bool, precomputed_digest: str | None
) -> NewUser:
    """A ``POST /v1/users`` body as a ``NewUser``; raises the 422 listing every problem.

    Messages never quote a password, digest or TOTP secret.
    """
    body = Body(data, CREATE_USER_FIELDS, from_form=from_form)
    external_id = body.string("external_id")
    first_name = body.string("first_name")
    last_name = body.string("last_name")
    locale = body.string("locale")
    username = body.string("username")
    emails = body.string_list("email_address")
    phones = body.string_list("phone_number")
    if body.string_list("web3_wallet"):
        body.fail(
            "form_param_value_invalid",
            "web3_wallet",
            "is invalid",
            "The emulator does not support web3 wallets.",
        )
    email_statuses = _identification_statuses(
        body, "email_address_identification_status", len(emails)
    )
    phone_statuses = _identification_statuses(
        body, "phone_number_identification_status", len(phones)
    )
    for email in emails:
        if EMAIL_ADDRESS.fullmatch(email.strip()) is None:
            body.invalid("email_address", "email_address must be a valid email address.")
            break
    for phone in phones:
        if E164_PHONE.fullmatch(phone.strip()) is None:
            body.invalid(
                "phone_number", "phone_number must be a valid phone number in E.164 format."
            )
            break
    if username is not None:
        low, high = USERNAME_LENGTH
        if not low <= len(username) <= high:
            body.fail(
                "form_username_invalid_length",
                "username",
                "is invalid",
                f"Username must be between {low} and {high} characters long.",
            )

    password, digest, hasher = read_password_fields(body)
    body.boolean("skip_password_requirement")

    totp_secret = body.string("totp_secret")
    if totp_secret is not None and not BASE32_SECRET.fullmatch(totp_secret):
        body.invalid("totp_secret", "totp_secret must be a base32-encoded secret.")
    backup_codes = body.string_list("backup_codes") if body.has("backup_codes") else None
    public_metadata = body.metadata("public_metadata")
    private_metadata = body.metadata("private_metadata")
    unsafe_metadata = body.metadata("unsafe_metadata")
    delete_self = body.boolean("delete_self_enabled")
    create_org = body.boolean("create_organization_enabled")
    create_limit = body.integer("create_organizations_limit", minimum=0)
    bypass = body.boolean("bypass_client_trust")
    banned = body.boolean("banned")
    locked = body.boolean("locked")
    legal_accepted_at = body.timestamp("legal_accepted_at")
    created_at = body.timestamp("created_at")
    for flag in ("skip_legal_checks", "skip_user_requirement"):
        body.boolean(flag)
    body.check()

    if password is not None:
        digest, hasher = precomputed_digest or hash_password(password), "bcrypt"
    return NewUser(
        id=clerk_id("user_"),
        emails=[
            NewIdentification("email_address", email.strip(), status)
            for email, status in zip(emails, email_statuses, strict=True)
        ],
        phones=[
            NewIdentification("phone_number", phone.strip(), status)
            for phone, status in zip(phones, phone_statuses, strict=True)
        ],
        # "The first email address will be set as the user's primary email address."
        primary_email=emails[0].strip() if emails else None,
        primary_phone=phones[0].strip() if phones else None,
        external_id=external_id,
        username=username,
        first_name=first_name,
        last_name=last_name,
        locale=locale,
        password_digest=digest,
        password_hasher=hasher,
        totp_secret=totp_secret,
        backup_codes=backup_codes,
        public_metadata=public_metadata or {},
        private_metadata=private_metadata or {},
        unsafe_metadata=unsafe_metadata or {},
        banned=bool(banned),
        locked=bool(locked),
        delete_self_enabled=True if delete_self is None else delete_self,
        create_organization_enabled=True if create_org is None else create_org,
        create_organizations_limit=create_limit,
        bypass_client_trust=bool(bypass),
        legal_accepted_at=legal_accepted_at,
        created_at=created_at,
    )


# --------------------------------------------------------------------------- the backend


class ClerkBackend(EmulatorBackend):
    """Clerk's Backend API over SQLite. Operations are plain synchronous methods (the seed
    loader goes through the same inserts as HTTP clients); route handlers parse HTTP and move
    bcrypt work off the event loop."""

    provider: ClassVar[str] = "clerk"
    # The Frontend API is public (browsers call it with no secret key).
    public_routes: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {("GET", f"{FRONTEND_API_PREFIX}/v1/environment")}
    )

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
        self.environment_type = environment_type
        store.apply_schema(CLERK_SCHEMA)
        self._add_default_roles()
        if seed:
            apply_seed(self, seed)

    # ----------------------------------------------------------------- EmulatorBackend

    def error_body(self, status: int, message: str, code: str | None = None) -> dict[str, Any]:
        """Clerk's error body for the errors the shared app raises (auth, routing, faults)."""
        if status == 401:
            # What api.clerk.com answers for a wrong secret key (clerk/clerk-sdk-python#26).
            text = (
                "The provided Clerk Secret Key is invalid. "
                "Make sure that your Clerk Secret Key is correct."
            )
            return errors_body(clerk_error("clerk_key_invalid", text, text))
        if status == 404:
            return errors_body(
                clerk_error(
                    "resource_not_found", "not found", "The requested resource was not found."
                )
            )
        if status == 429:
            return self.rate_limited_body("instance")
        if status >= 500:
            return errors_body(
                clerk_error(
                    "internal_clerk_error",
                    "Oops, an unexpected error occurred",
                    "There was an internal error on our servers. We've been notified and are "
                    "working on fixing it.",
                )
            )
        if code == "invalid_request_parameters":  # the shared admin routes' validation
            return errors_body(clerk_error("form_param_value_invalid", "is invalid", message))
        return errors_body(clerk_error(code or "request_invalid", message, message))

    def rate_limited_body(self, bucket: str) -> dict[str, Any]:
        return errors_body(
            clerk_error(
                "too_many_requests",
                "Too many requests",
                "Too many requests, please retry later.",
            )
        )

    def rate_limit_claims(self, method: str, path: str, body: Any) -> list[tuple[str, str]]:
        # One budget per instance, i.e. per secret key; every Backend API path draws on it.
        if path == API_PREFIX or path.startswith(f"{API_PREFIX}/"):
            return [("instance", "secret_key")]
        return []

    def reset(self) -> None:
        self.store.wipe(CLERK_TABLES)
        self._add_default_roles()
        if self.seed:
            apply_seed(self, self.seed)

    def routes(self) -> list[BaseRoute]:
        def route(path: str, endpoint: Any, method: str) -> Route:
            return Route(f"{API_PREFIX}{path}", endpoint, methods=[method])

        organization = "/organizations/{organization_id}"
        memberships = f"{organization}/memberships"
        domains = f"{organization}/domains"
        role = "/organization_roles/{role_id}"
        return [
            route("/users", self._list_users, "GET"),
            route("/users", self._create_user, "POST"),
            route("/users/count", self._count_users, "GET"),
            route("/users/{user_id}", self._get_user, "GET"),
            route("/users/{user_id}", self._delete_user, "DELETE"),
            route("/users/{user_id}/organization_memberships", self._list_user_memberships, "GET"),
            route("/organizations", self._list_organizations, "GET"),
            route("/organizations", self._create_organization, "POST"),
            route("/organizations/{organization_id}", self._get_organization, "GET"),
            route("/organizations/{organization_id}", self._update_organization, "PATCH"),
            route("/organizations/{organization_id}", self._delete_organization, "DELETE"),
            route(memberships, self._list_memberships, "GET"),
            route(memberships, self._create_membership, "POST"),
            route(f"{memberships}/{{user_id}}", self._update_membership, "PATCH"),
            route(f"{memberships}/{{user_id}}", self._delete_membership, "DELETE"),
            route("/organization_memberships", self._list_instance_memberships, "GET"),
            route("/users/{user_id}", self._update_user, "PATCH"),
            route("/users/{user_id}/email_address", self._replace_email_address, "PUT"),
            route("/users/{user_id}/verify_password", self._verify_password, "POST"),
            route(f"{organization}/metadata", self._merge_organization_metadata, "PATCH"),
            route(f"{organization}/metadata", self._replace_organization_metadata, "PUT"),
            route(domains, self._list_organization_domains, "GET"),
            route(domains, self._create_organization_domain, "POST"),
            route(f"{domains}/{{domain_id}}", self._update_organization_domain, "PATCH"),
            route(f"{domains}/{{domain_id}}", self._delete_organization_domain, "DELETE"),
            route("/organization_domains", self._list_all_organization_domains, "GET"),
            route("/organization_permissions", self._list_permissions, "GET"),
            route("/organization_permissions", self._create_permission, "POST"),
            route("/organization_permissions/{permission_id}", self._get_permission, "GET"),
            route("/organization_permissions/{permission_id}", self._update_permission, "PATCH"),
            route("/organization_permissions/{permission_id}", self._delete_permission, "DELETE"),
            route("/organization_roles", self._list_roles, "GET"),
            route("/organization_roles", self._create_role, "POST"),
            route(f"{role}", self._get_role, "GET"),
            route(f"{role}", self._update_role, "PATCH"),
            route(f"{role}", self._delete_role, "DELETE"),
            route(f"{role}/permissions/{{permission_id}}", self._assign_permission, "POST"),
            route(f"{role}/permissions/{{permission_id}}", self._remove_permission, "DELETE"),
            route("/redirect_urls", self._list_redirect_urls, "GET"),
            route("/redirect_urls", self._create_redirect_url, "POST"),
            route("/redirect_urls/{redirect_url_id}", self._get_redirect_url, "GET"),
            route("/redirect_urls/{redirect_url_id}", self._delete_redirect_url, "DELETE"),
            route("/instance", self._get_instance, "GET"),
            route("/instance", self._update_instance, "PATCH"),
            route("/domains", self._list_domains, "GET"),
            Route(
                f"{FRONTEND_API_PREFIX}/v1/environment",
                self._frontend_environment,
                methods=["GET"],
            ),
        ]

    # ----------------------------------------------------------------- roles and permissions

    def _add_default_roles(self) -> None:
        """What every instance starts with: Clerk's system permissions and default roles."""
        for key, name in SYSTEM_PERMISSION_NAMES.items():
            self.add_permission(key, name, kind="system")
        for key, name, permissions in DEFAULT_ROLES:
            self.add_role(key, name, permissions)

    def _next_ms(self) -> int:
        """Now, but later than anything created before: lists order by creation time, and
        objects created in one millisecond must still list in creation order."""
        row = self.store.one(
            "SELECT max(created_at) AS latest FROM (SELECT created_at FROM clerk_permissions "
            "UNION ALL SELECT created_at FROM clerk_org_roles "
            "UNION ALL SELECT created_at FROM clerk_redirect_urls "
            "UNION ALL SELECT created_at FROM clerk_organization_domains)"
        )
        latest = row["latest"] if row is not None and row["latest"] is not None else 0
        return max(now_ms(), latest + 1)

    def add_permission(
        self, key: str, name: str, description: str = "", *, kind: str = "user"
    ) -> str:
        """The id of permission ``key``, created (as ``kind``: system or user) if missing."""
        row = self.store.one("SELECT id FROM clerk_permissions WHERE key = ?", [key])
        if row is not None:
            return str(row["id"])
        permission_id = clerk_id("perm_")
        now = self._next_ms()
        self.store.execute(
            "INSERT INTO clerk_permissions (id, key, name, description, type, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [permission_id, key, name, description, kind, now, now],
        )
        return permission_id

    def add_role(
        self, key: str, name: str, permissions: Sequence[str], description: str | None = None
    ) -> str:
        """The id of role ``key``, created with ``permissions`` (keys) if missing; a permission
        it names that does not exist yet is created, system or not by its prefix."""
        row = self.store.one("SELECT id FROM clerk_org_roles WHERE key = ?", [key])
        if row is not None:
            return str(row["id"])
        role_id = clerk_id("role_")
        with self.store.transaction() as conn:
            now = self._next_ms()
            conn.execute(
                "INSERT INTO clerk_org_roles (id, key, name, description, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                [role_id, key, name, description, now, now],
            )
            for permission in permissions:
                system = permission.startswith(SYSTEM_PERMISSION_PREFIX)
                permission_id = self.add_permission(
                    permission,
                    SYSTEM_PERMISSION_NAMES.get(permission, permission),
                    kind="system" if system else "user",
                )
                conn.execute(
                    "INSERT OR IGNORE INTO clerk_role_permissions (role_id, permission_id) "
                    "VALUES (?, ?)",
                    [role_id, permission_id],
                )
        return role_id

    def roles(self) -> dict[str, RoleSummary]:
        """Role key → name and permission keys: what memberships show of their role."""
        found: dict[str, RoleSummary] = {}
        for row in self.store.all(
            "SELECT r.key, r.name, p.key AS permission FROM clerk_org_roles AS r "
            "LEFT JOIN clerk_role_permissions AS rp ON rp.role_id = r.id "
            "LEFT JOIN clerk_permissions AS p ON p.id = rp.permission_id "
            "ORDER BY r.created_at, r.rowid, p.created_at, p.rowid"
        ):
            summary = found.setdefault(row["key"], RoleSummary(row["name"], []))
            if row["permission"] is not None:
                summary.permissions.append(row["permission"])
        return found

    def permission_row(self, permission_id: str) -> sqlite3.Row:
        row = self.store.one("SELECT * FROM clerk_permissions WHERE id = ?", [permission_id])
        if row is None:
            raise not_found("permission", permission_id)
        return row

    def role_row(self, role_id: str) -> sqlite3.Row:
        row = self.store.one("SELECT * FROM clerk_org_roles WHERE id = ?", [role_id])
        if row is None:
            raise not_found("organization role", role_id)
        return row

    def role_json(self, row: sqlite3.Row) -> dict[str, Any]:
        permissions = self.store.all(
            "SELECT p.* FROM clerk_role_permissions AS rp JOIN clerk_permissions AS p "
            "ON p.id = rp.permission_id WHERE rp.role_id = ? ORDER BY p.created_at, p.rowid",
            [row["id"]],
        )
        return {
            "object": "role",
            "id": row["id"],
            "name": row["name"],
            "key": row["key"],
            "description": row["description"],
            "is_creator_eligible": any(p["key"] == CREATOR_PERMISSION for p in permissions),
            "permissions": [permission_json(p) for p in permissions],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        }

    def _offset_page(
        self,
        request: Request,
        table: str,
        order_fields: Mapping[str, str],
        default_order: str,
        filters: Filters,
    ) -> tuple[list[sqlite3.Row], int]:
        """One ``limit``/``offset`` page of ``table`` in the requested order, and the total."""
        limit = query_int(request, "limit", default=10, low=1, high=MAX_PAGE_SIZE)
        offset = query_int(request, "offset", default=0, low=0, high=None)
        order = parse_order(request, order_fields, default_order)
        where = filters.where()
        total = self.store.one(
            f"SELECT COUNT(*) AS n FROM {table} AS t {where}",  # noqa: S608
            filters.args,
        )
        rows = self.store.all(
            f"SELECT t.* FROM {table} AS t {where} "  # noqa: S608
            f"ORDER BY {order_fields[order.field]} {order.direction}, "
            f"t.rowid {order.direction} LIMIT ? OFFSET ?",
            [*filters.args, limit, offset],
        )
        return rows, total["n"] if total else 0

    def _key_query(self, request: Request) -> Filters:
        """``query``: "exact match for ID and partial match for name and key"."""
        filters = Filters()
        query = request.query_params.get("query")
        if query:
            filters.add(
                "(t.id = ? OR lower(t.name) LIKE ? ESCAPE '\\' OR t.key LIKE ? ESCAPE '\\')",
                query,
                _like(query),
                _like(query),
            )
        return filters

    KEYED_ORDER_FIELDS: ClassVar[dict[str, str]] = {
        "created_at": "t.created_at",
        "name": "lower(t.name)",
        "key": "t.key",
    }

    def _check_key_free(self, body: Body, table: str, key: str | None, own_id: str | None) -> None:
        if key is not None and self.store.one(
            f"SELECT 1 FROM {table} WHERE key = ? AND id IS NOT ?",  # noqa: S608
            [key, own_id],
        ):
            text = "That key is taken. Please try another."
            body.fail("form_identifier_exists", "key", text, text)

    def _check_permission_key(self, body: Body, key: str | None) -> None:
        if key is None:
            return
        if key.startswith(SYSTEM_PERMISSION_PREFIX):
            body.invalid("key", "Permission keys cannot begin with org:sys_, which is reserved.")
        elif not PERMISSION_KEY.fullmatch(key):
            body.invalid(
                "key",
                'key must have the format "org:feature:action", where feature and action '
                "consist of lowercase letters, digits or underscores.",
            )

    # ---- permissions

    async def _list_permissions(self, request: Request) -> Response:
        rows, total = self._offset_page(
            request,
            "clerk_permissions",
            self.KEYED_ORDER_FIELDS,
            "-created_at",
            self._key_query(request),
        )
        return JSONResponse({"data": [permission_json(r) for r in rows], "total_count": total})

    async def _create_permission(self, request: Request) -> Response:
        data, from_form = await read_body(request)
        # The document's schema is open here (no additionalProperties: false).
        body = Body(data, set(data), from_form=from_form)
        name = body.string("name", required=True)
        key = body.string("key", required=True)
        description = body.string("description")
        self._check_permission_key(body, key)
        self._check_key_free(body, "clerk_permissions", key, None)
        body.check()
        assert name is not None and key is not None
        permission_id = self.add_permission(key, name, description or "")
        return JSONResponse(permission_json(self.permission_row(permission_id)))

    async def _get_permission(self, request: Request) -> Response:
        return JSONResponse(
            permission_json(self.permission_row(request.path_params["permission_id"]))
        )

    def _refuse_system(self, row: sqlite3.Row, action: str) -> None:
        if row["type"] == "system":
            text = f"System permissions cannot be {action}."
            raise api_error(403, "authorization_invalid", text, text)

    async def _update_permission(self, request: Request) -> Response:
        row = self.permission_row(request.path_params["permission_id"])
        self._refuse_system(row, "updated")
        data, from_form = await read_body(request)
        body = Body(data, set(data), from_form=from_form)
        name = body.string("name")
        key = body.string("key")
        description = body.string("description")
        if body.has("name") and name is not None and not name.strip():
            body.missing("name")
        self._check_permission_key(body, key)
        self._check_key_free(body, "clerk_permissions", key, row["id"])
        body.check()
        changes: dict[str, Any] = {
            column: value
            for column, value in (("name", name), ("key", key), ("description", description))
            if value is not None
        }
        changes["updated_at"] = now_ms()
        assignments = ", ".join(f"{column} = ?" for column in changes)
        self.store.execute(
            f"UPDATE clerk_permissions SET {assignments} WHERE id = ?",  # noqa: S608
            [*changes.values(), row["id"]],
        )
        return JSONResponse(permission_json(self.permission_row(row["id"])))

    async def _delete_permission(self, request: Request) -> Response:
        row = self.permission_row(request.path_params["permission_id"])
        self._refuse_system(row, "deleted")
        # Roles lose it with it (ON DELETE CASCADE on clerk_role_permissions).
        self.store.execute("DELETE FROM clerk_permissions WHERE id = ?", [row["id"]])
        return JSONResponse({"object": "permission", "id": row["id"], "deleted": True})

    # ---- roles

    def _role_permission_ids(self, body: Body) -> list[str] | None:
        if not body.has("permissions") or body.data.get("permissions") is None:
            return None
        ids = body.string_list("permissions")
        for permission_id in ids:
            self.permission_row(permission_id)  # 404 names the unknown id
        return list(dict.fromkeys(ids))

    def _check_role_key(self, body: Body, key: str | None) -> None:
        if key is not None and not ROLE_KEY.fullmatch(key):
            body.invalid(
                "key",
                "key must start with 'org:' and contain only lowercase alphanumeric characters "
                "and underscores.",
            )

    async def _list_roles(self, request: Request) -> Response:
        rows, total = self._offset_page(
            request,
            "clerk_org_roles",
            self.KEYED_ORDER_FIELDS,
            "-created_at",
            self._key_query(request),
        )
        return JSONResponse({"data": [self.role_json(r) for r in rows], "total_count": total})

    async def _create_role(self, request: Request) -> Response:
        data, from_form = await read_body(request)
        body = Body(
            data,
            {"name", "key", "description", "permissions", "include_in_initial_role_set"},
            from_form=from_form,
        )
        name = body.string("name", required=True)
        key = body.string("key", required=True)
        description = body.string("description")
        # Role sets are not emulated: every role is assignable in every organization, as in
        # an instance whose organizations all use the initial role set.
        body.boolean("include_in_initial_role_set")
        self._check_role_key(body, key)
        self._check_key_free(body, "clerk_org_roles", key, None)
        body.check()
        permission_ids = self._role_permission_ids(body) or []
        assert name is not None and key is not None
        role_id = self.add_role(key, name, [], description)
        with self.store.transaction() as conn:
            for permission_id in permission_ids:
                conn.execute(
                    "INSERT INTO clerk_role_permissions (role_id, permission_id) VALUES (?, ?)",
                    [role_id, permission_id],
                )
        return JSONResponse(self.role_json(self.role_row(role_id)))

    async def _get_role(self, request: Request) -> Response:
        return JSONResponse(self.role_json(self.role_row(request.path_params["role_id"])))

    async def _update_role(self, request: Request) -> Response:
        row = self.role_row(request.path_params["role_id"])
        data, from_form = await read_body(request)
        body = Body(data, {"name", "key", "description", "permissions"}, from_form=from_form)
        name = body.string("name")
        key = body.string("key")
        description = body.string("description")
        if body.has("name") and name is not None and not name.strip():
            body.missing("name")
        self._check_role_key(body, key)
        self._check_key_free(body, "clerk_org_roles", key, row["id"])
        body.check()
        permission_ids = self._role_permission_ids(body)
        changes: dict[str, Any] = {
            column: value
            for column, value in (("name", name), ("key", key), ("description", description))
            if value is not None
        }
        changes["updated_at"] = now_ms()
        assignments = ", ".join(f"{column} = ?" for column in changes)
        with self.store.transaction() as conn:
            conn.execute(
                f"UPDATE clerk_org_roles SET {assignments} WHERE id = ?",  # noqa: S608
                [*changes.values(), row["id"]],
            )
            if key is not None and key != row["key"]:
                # "updating the key will cascade": members keep their role under its new key.
                conn.execute(
                    "UPDATE clerk_memberships SET role = ? WHERE role = ?", [key, row["key"]]
                )
            if permission_ids is not None:  # "If provided, this will replace the existing"
                conn.execute("DELETE FROM clerk_role_permissions WHERE role_id = ?", [row["id"]])
                for permission_id in permission_ids:
                    conn.execute(
                        "INSERT INTO clerk_role_permissions (role_id, permission_id) VALUES (?, ?)",
                        [row["id"], permission_id],
                    )
        return JSONResponse(self.role_json(self.role_row(row["id"])))

    def creator_role(self) -> str:
        roles = self.roles()
        return next((key for key in CREATOR_ROLES if key in roles), next(iter(roles)))

    async def _delete_role(self, request: Request) -> Response:
        row = self.role_row(request.path_params["role_id"])
        # "The role cannot be deleted if it is currently used as the default creator role,
        # domain default role, assigned to any members, or exists in any invitations."
        # (Clerk documents the rule, not its error codes; these name the reason.)
        if row["key"] == self.creator_role():
            raise api_error(
                422,
                "organization_role_is_creator_role",
                "role in use",
                f"The role {row['key']} is the creator role of new organizations and cannot be "
                "deleted.",
            )
        if self.store.one("SELECT 1 FROM clerk_memberships WHERE role = ? LIMIT 1", [row["key"]]):
            raise api_error(
                422,
                "organization_role_assigned_to_members",
                "role in use",
                f"The role {row['key']} is assigned to organization members and cannot be deleted.",
            )
        self.store.execute("DELETE FROM clerk_org_roles WHERE id = ?", [row["id"]])
        return JSONResponse({"object": "role", "id": row["id"], "deleted": True})

    async def _assign_permission(self, request: Request) -> Response:
        role = self.role_row(request.path_params["role_id"])
        permission = self.permission_row(request.path_params["permission_id"])
        if self.store.one(
            "SELECT 1 FROM clerk_role_permissions WHERE role_id = ? AND permission_id = ?",
            [role["id"], permission["id"]],
        ):
            raise api_error(
                409,
                "duplicate_record",
                "duplicate",
                f"The role {role['key']} already has the permission {permission['key']}.",
            )
        self.store.execute(
            "INSERT INTO clerk_role_permissions (role_id, permission_id) VALUES (?, ?)",
            [role["id"], permission["id"]],
        )
        return JSONResponse(self.role_json(self.role_row(role["id"])))

    async def _remove_permission(self, request: Request) -> Response:
        role = self.role_row(request.path_params["role_id"])
        permission = self.permission_row(request.path_params["permission_id"])
        removed = self.store.execute(
            "DELETE FROM clerk_role_permissions WHERE role_id = ? AND permission_id = ?",
            [role["id"], permission["id"]],
        )
        if removed.rowcount == 0:
            raise api_error(
                404,
                "resource_not_found",
                "not found",
                f"The role {role['key']} does not have the permission {permission['key']}.",
            )
        return JSONResponse(self.role_json(self.role_row(role["id"])))

    # ----------------------------------------------------------------- users

    def user_row(self, user_id: str) -> sqlite3.Row:
        row = self.store.one("SELECT * FROM clerk_users WHERE id = ?", [user_id])
        if row is None:
            raise not_found("user", user_id)
        return row

    def users_json(self, rows: Sequence[sqlite3.Row]) -> list[dict[str, Any]]:
        ids = [row["id"] for row in rows]
        by_user: dict[str, list[sqlite3.Row]] = {user_id: [] for user_id in ids}
        if ids:
            for identification in self.store.all(
                f"SELECT * FROM clerk_identifications WHERE user_id IN ({_placeholders(ids)}) "
                "ORDER BY position",
                ids,
            ):
                by_user[identification["user_id"]].append(identification)
        return [user_json(row, by_user[row["id"]]) for row in rows]

    def user_json(self, user_id: str) -> dict[str, Any]:
        return self.users_json([self.user_row(user_id)])[0]

    def _check_identifiers_free(self, user: NewUser) -> None:
        """Emails, phone numbers, usernames and external ids are unique per instance; emails
        and usernames without regard to case, as Clerk compares them."""
        errors: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for identification in [*user.emails, *user.phones]:
            value = identification.value.lower()
            taken = (identification.kind, value) in seen or self.store.one(
                "SELECT 1 FROM clerk_identifications WHERE kind = ? AND lower(value) = ?",
                [identification.kind, value],
            )
            seen.add((identification.kind, value))
            if taken:
                noun = "email address" if identification.kind == "email_address" else "phone number"
                text = f"That {noun} is taken. Please try another."
                errors.append(
                    clerk_error("form_identifier_exists", text, text, param=identification.kind)
                )
        if user.username is not None and self.store.one(
            "SELECT 1 FROM clerk_users WHERE lower(username) = ?", [user.username.lower()]
        ):
            text = "That username is taken. Please try another."
            errors.append(clerk_error("form_identifier_exists", text, text, param="username"))
        if user.external_id is not None and self.store.one(
            "SELECT 1 FROM clerk_users WHERE external_id = ?", [user.external_id]
        ):
            text = "That external ID is taken. Please try another."
            errors.append(clerk_error("form_identifier_exists", text, text, param="external_id"))
        if errors:
            raise ApiError(422, errors_body(*errors))

    def insert_user(self, user: NewUser, *, check_identifiers: bool = True) -> dict[str, Any]:
        """Store ``user``. The seed skips the case-insensitive identifier check: it describes
        a state, and exports of long-lived instances hold addresses differing only in case."""
        if check_identifiers:
            self._check_identifiers_free(user)
        now = now_ms()
        created_at = user.created_at if user.created_at is not None else now
        updated_at = user.updated_at if user.updated_at is not None else max(created_at, now)

        def primary(items: Sequence[NewIdentification], wanted: str | None) -> str | None:
            if not items:
                return None
            if wanted is not None:
                for item in items:
                    if item.value == wanted:
                        return item.id
            verified = [item for item in items if item.status == "verified"]
            return (verified or list(items))[0].id

        second_factor = (
            user.totp_secret is not None
            or user.backup_codes is not None
            or any(phone.reserved_for_second_factor for phone in user.phones)
        )
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO clerk_users (id, external_id, username, first_name, last_name, "
                "locale, primary_email_address_id, primary_phone_number_id, password_digest, "
                "password_hasher, password_last_updated_at, totp_secret, backup_codes, "
                "mfa_enabled_at, public_metadata, private_metadata, unsafe_metadata, "
                "external_accounts, banned, locked, delete_self_enabled, "
                "create_organization_enabled, create_organizations_limit, bypass_client_trust, "
                "legal_accepted_at, last_sign_in_at, last_active_at, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "?, ?, ?, ?, ?)",
                [
                    user.id,
                    user.external_id,
                    user.username,
                    user.first_name,
                    user.last_name,
                    user.locale,
                    primary(user.emails, user.primary_email),
                    primary(user.phones, user.primary_phone),
                    user.password_digest,
                    user.password_hasher if user.password_digest is not None else None,
                    created_at if user.password_digest is not None else None,
                    user.totp_secret,
                    None if user.backup_codes is None else to_json(user.backup_codes),
                    created_at if second_factor else None,
                    to_json(user.public_metadata),
                    to_json(user.private_metadata),
                    to_json(user.unsafe_metadata),
                    to_json(user.external_accounts),
                    user.banned,
                    user.locked,
                    user.delete_self_enabled,
                    user.create_organization_enabled,
                    user.create_organizations_limit,
                    user.bypass_client_trust,
                    user.legal_accepted_at,
                    user.last_sign_in_at,
                    user.last_active_at,
                    created_at,
                    updated_at,
                ],
            )
            for position, item in enumerate([*user.emails, *user.phones]):
                conn.execute(
                    "INSERT INTO clerk_identifications (id, user_id, kind, value, status, "
                    "reserved_for_second_factor, default_second_factor, verification_strategy, "
                    "linked_to, position, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        item.id,
                        user.id,
                        item.kind,
                        item.value,
                        item.status,
                        item.reserved_for_second_factor,
                        item.default_second_factor,
                        item.verification_strategy,
                        to_json(item.linked_to),
                        position,
                        created_at,
                        created_at,
                    ],
                )
        return self.user_json(user.id)

    def _user_filters(self, request: Request) -> Filters:
        """The filters ``GET /v1/users`` and ``/v1/users/count`` share."""
        filters = Filters()
        emails = [value.lower() for value in _limited(request, "email_address")]
        if emails:
            filters.add(
                "u.id IN (SELECT user_id FROM clerk_identifications WHERE kind = "
                f"'email_address' AND lower(value) IN ({_placeholders(emails)}))",
                *emails,
            )
        phones = _limited(request, "phone_number")
        if phones:
            filters.add(
                "u.id IN (SELECT user_id FROM clerk_identifications WHERE kind = "
                f"'phone_number' AND value IN ({_placeholders(phones)}))",
                *phones,
            )
        usernames = [value.lower() for value in _limited(request, "username")]
        if usernames:
            filters.add(f"lower(u.username) IN ({_placeholders(usernames)})", *usernames)
        if _limited(request, "web3_wallet"):
            filters.add("0")  # no user has a web3 wallet here
        for name, column in (("external_id", "u.external_id"), ("user_id", "u.id")):
            include, exclude = split_signed(_limited(request, name))
            if include:
                filters.add(f"{column} IN ({_placeholders(include)})", *include)
            if exclude:
                filters.add(
                    f"({column} IS NULL OR {column} NOT IN ({_placeholders(exclude)}))", *exclude
                )
        include, exclude = split_signed(_limited(request, "organization_id"))
        member_of = "u.id {} (SELECT user_id FROM clerk_memberships WHERE organization_id IN ({}))"
        if include:
            filters.add(member_of.format("IN", _placeholders(include)), *include)
        if exclude:
            filters.add(member_of.format("NOT IN", _placeholders(exclude)), *exclude)
        query = request.query_params.get("query")
        if query:
            pattern = _like(query)
            filters.add(
                "(lower(u.id) LIKE ? ESCAPE '\\' OR lower(coalesce(u.first_name, '')) LIKE ? "
                "ESCAPE '\\' OR lower(coalesce(u.last_name, '')) LIKE ? ESCAPE '\\' OR "
                "lower(coalesce(u.username, '')) LIKE ? ESCAPE '\\' OR u.id IN (SELECT user_id "
                "FROM clerk_identifications WHERE lower(value) LIKE ? ESCAPE '\\'))",
                *[pattern] * 5,
            )
        partial = {
            "email_address_query": "u.id IN (SELECT user_id FROM clerk_identifications WHERE "
            "kind = 'email_address' AND lower(value) LIKE ? ESCAPE '\\')",
            "phone_number_query": "u.id IN (SELECT user_id FROM clerk_identifications WHERE "
            "kind = 'phone_number' AND lower(value) LIKE ? ESCAPE '\\')",
            "username_query": "lower(coalesce(u.username, '')) LIKE ? ESCAPE '\\'",
            "name_query": "lower(coalesce(u.first_name, '') || ' ' || coalesce(u.last_name, '')) "
            "LIKE ? ESCAPE '\\'",
        }
        for name, condition in partial.items():
            value = request.query_params.get(name)
            if value:
                filters.add(condition, _like(value))
        banned = query_bool(request, "banned")
        if banned is not None:
            filters.add("u.banned = ?", banned)
        for name, column, op in (
            ("created_at_before", "u.created_at", "<"),
            ("created_at_after", "u.created_at", ">"),
            ("last_active_at_before", "u.last_active_at", "<"),
            ("last_active_at_after", "u.last_active_at", ">"),
            ("last_active_at_since", "u.last_active_at", ">="),
            ("last_sign_in_at_before", "u.last_sign_in_at", "<"),
            ("last_sign_in_at_after", "u.last_sign_in_at", ">"),
        ):
            bound = query_optional_int(request, name)
            if bound is not None:
                filters.add(f"{column} {op} ?", bound)
        provider = request.query_params.get("provider")
        provider_ids = _limited(request, "provider_user_id")
        if provider or provider_ids:
            if not (provider and provider_ids):
                raise param_invalid(
                    "provider", "provider and provider_user_id must be used together."
                )
            # External accounts live as JSON on the user row; match in Python-free SQL.
            filters.add(
                "EXISTS (SELECT 1 FROM json_each(u.external_accounts) AS account WHERE "
                "json_extract(account.value, '$.provider') = ? AND "
                f"json_extract(account.value, '$.provider_user_id') IN "
                f"({_placeholders(provider_ids)}))",
                provider,
                *provider_ids,
            )
        return filters

    USER_ORDER_FIELDS: ClassVar[dict[str, str]] = {
        "created_at": "u.created_at",
        "updated_at": "u.updated_at",
        "email_address": "(SELECT lower(value) FROM clerk_identifications "
        "WHERE id = u.primary_email_address_id)",
        "web3wallet": "NULL",
        "first_name": "lower(u.first_name)",
        "last_name": "lower(u.last_name)",
        "phone_number": "(SELECT value FROM clerk_identifications "
        "WHERE id = u.primary_phone_number_id)",
        "username": "lower(u.username)",
        "last_active_at": "u.last_active_at",
        "last_sign_in_at": "u.last_sign_in_at",
    }

    async def _list_users(self, request: Request) -> Response:
        limit = query_int(request, "limit", default=10, low=1, high=MAX_PAGE_SIZE)
        offset = query_int(request, "offset", default=0, low=0, high=None)
        order = parse_order(request, self.USER_ORDER_FIELDS, "-created_at")
        filters = self._user_filters(request)
        starting_after = request.query_params.get("starting_after")
        if starting_after:
            # The document: cursor pagination needs a created_at ordering (the only one both
            # unique with the id tiebreak and immutable) and no offset; anything else is 422.
            if order.field != "created_at":
                raise param_invalid(
                    "starting_after",
                    "starting_after can only be combined with created_at ordering "
                    "(order_by omitted, created_at, +created_at or -created_at).",
                )
            if offset != 0:
                raise param_invalid(
                    "starting_after", "starting_after cannot be combined with a non-zero offset."
                )
            cursor = self.store.one(
                "SELECT created_at, id FROM clerk_users WHERE id = ?", [starting_after]
            )
            if cursor is None:
                raise param_invalid(
                    "starting_after", f"starting_after: no user was found with id {starting_after}"
                )
            filters.add(
                f"(u.created_at, u.id) {'<' if order.descending else '>'} (?, ?)",
                cursor["created_at"],
                cursor["id"],
            )
        expression = self.USER_ORDER_FIELDS[order.field]
        rows = self.store.all(
            f"SELECT u.* FROM clerk_users AS u {filters.where()} "  # noqa: S608
            f"ORDER BY {expression} {order.direction}, u.id {order.direction} LIMIT ? OFFSET ?",
            [*filters.args, limit, offset],
        )
        # A bare array, not {data, total_count}: totals come from /v1/users/count.
        return JSONResponse(self.users_json(rows))

    async def _count_users(self, request: Request) -> Response:
        filters = self._user_filters(request)
        row = self.store.one(
            f"SELECT COUNT(*) AS n FROM clerk_users AS u {filters.where()}",  # noqa: S608
            filters.args,
        )
        return JSONResponse({"object": "total_count", "total_count": row["n"] if row else 0})

    async def _create_user(self, request: Request) -> Response:
        data, from_form = await read_body(request)
        password = data.get("password")
        precomputed = None
        if isinstance(password, str) and password and data.get("password_digest") is None:
            precomputed = await run_in_threadpool(hash_password, password)  # bcrypt takes ~50 ms
        user = parse_create_user(data, from_form=from_form, precomputed_digest=precomputed)
        # CreateUser documents 200, not 201.
        return JSONResponse(self.insert_user(user))

    async def _get_user(self, request: Request) -> Response:
        return JSONResponse(self.user_json(request.path_params["user_id"]))

    async def _delete_user(self, request: Request) -> Response:
        user_id = self.user_row(request.path_params["user_id"])["id"]
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM clerk_memberships WHERE user_id = ?", [user_id])
            conn.execute("DELETE FROM clerk_users WHERE id = ?", [user_id])
        return JSONResponse({"object": "user", "id": user_id, "deleted": True})

    # ----------------------------------------------------------------- organizations

    def organization_row(self, id_or_slug: str) -> sqlite3.Row:
        row = self.store.one(
            "SELECT * FROM clerk_organizations WHERE id = ? OR slug = ? ORDER BY id = ? DESC",
            [id_or_slug, id_or_slug, id_or_slug],
        )
        if row is None:
            raise not_found("organization", id_or_slug)
        return row

    def members_counts(self, organization_ids: Sequence[str]) -> dict[str, int]:
        counts = {org_id: 0 for org_id in organization_ids}
        if organization_ids:
            for row in self.store.all(
                "SELECT organization_id, COUNT(*) AS n FROM clerk_memberships WHERE "
                f"organization_id IN ({_placeholders(organization_ids)}) GROUP BY organization_id",
                organization_ids,
            ):
                counts[row["organization_id"]] = row["n"]
        return counts

    def _free_slug(self, name: str) -> str:
        base = "-".join(re.findall(r"[a-z0-9]+", name.lower())) or "organization"
        slug, suffix = base, 1
        while self.store.one("SELECT 1 FROM clerk_organizations WHERE slug = ?", [slug]):
            suffix += 1
            slug = f"{base}-{suffix}"
        return slug

    def _check_name(self, body: Body, name: str | None) -> None:
        if name is not None and ("<" in name or "://" in name):
            body.invalid("name", "name may not contain URLs or HTML.")

    def _check_slug(self, body: Body, slug: str | None, own_id: str | None) -> None:
        if slug is None:
            return
        if not ORGANIZATION_SLUG.fullmatch(slug):
            body.invalid(
                "slug", "slug can contain only lowercase alphanumeric characters and the dash '-'."
            )
        elif self.store.one(
            "SELECT 1 FROM clerk_organizations WHERE slug = ? AND id IS NOT ?", [slug, own_id]
        ):
            text = "This organization slug is already taken. Please try another."
            body.fail("form_identifier_exists", "slug", text, text)

    def create_organization(
        self,
        data: Mapping[str, Any],
        *,
        from_form: bool = False,
        organization_id: str | None = None,
        created_at: int | None = None,
        updated_at: int | None = None,
    ) -> dict[str, Any]:
        body = Body(
            data,
            {
                "name",
                "created_by",
                "private_metadata",
                "public_metadata",
                "slug",
                "max_allowed_memberships",
                "created_at",
                "role_set_key",
            },
            from_form=from_form,
        )
        name = body.string("name", required=True, max_length=256)
        self._check_name(body, name)
        slug = body.string("slug")
        self._check_slug(body, slug, None)
        created_by = body.string("created_by")
        public_metadata = body.metadata("public_metadata") or {}
        private_metadata = body.metadata("private_metadata") or {}
        max_memberships = body.integer("max_allowed_memberships", minimum=0)
        given_created_at = body.timestamp("created_at")
        role_set_key = body.string("role_set_key")
        body.check()
        assert name is not None
        if created_by is not None:
            self.user_row(created_by)
        organization_id = organization_id or clerk_id("org_")
        now = now_ms()
        created = created_at if created_at is not None else given_created_at or now
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO clerk_organizations (id, name, slug, max_allowed_memberships, "
                "public_metadata, private_metadata, created_by, role_set_key, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    organization_id,
                    name,
                    slug or self._free_slug(name),
                    max_memberships or 0,
                    to_json(public_metadata),
                    to_json(private_metadata),
                    created_by,
                    role_set_key,
                    created,
                    updated_at if updated_at is not None else max(created, now),
                ],
            )
            if created_by is not None:
                # "The ID of the User who will become the administrator for the new
                # organization": the creator gets a membership with the admin role.
                role = self.creator_role()
                conn.execute(
                    "INSERT INTO clerk_memberships (id, organization_id, user_id, role, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    [clerk_id("orgmem_"), organization_id, created_by, role, now, now],
                )
        return organization_json(self.organization_row(organization_id))

    async def _list_organizations(self, request: Request) -> Response:
        limit = query_int(request, "limit", default=10, low=1, high=MAX_PAGE_SIZE)
        offset = query_int(request, "offset", default=0, low=0, high=None)
        fields = {
            "created_at": "o.created_at",
            "name": "lower(o.name)",
            "members_count": "(SELECT COUNT(*) FROM clerk_memberships "
            "WHERE organization_id = o.id)",
        }
        order = parse_order(request, fields, "-created_at")
        include_count = bool(query_bool(request, "include_members_count"))
        query_bool(request, "include_missing_member_with_elevated_permissions")
        filters = Filters()
        query = request.query_params.get("query")
        if query:
            # "Exact match for organization ID and partial match for name and slug."
            filters.add(
                "(o.id = ? OR lower(o.name) LIKE ? ESCAPE '\\' OR o.slug LIKE ? ESCAPE '\\')",
                query,
                _like(query),
                _like(query),
            )
        include, exclude = split_signed(_limited(request, "user_id"))
        has_member = "o.id {} (SELECT organization_id FROM clerk_memberships WHERE user_id IN ({}))"
        if include:
            filters.add(has_member.format("IN", _placeholders(include)), *include)
        if exclude:
            filters.add(has_member.format("NOT IN", _placeholders(exclude)), *exclude)
        include, exclude = split_signed(_limited(request, "organization_id"))
        if include:
            filters.add(f"o.id IN ({_placeholders(include)})", *include)
        if exclude:
            filters.add(f"o.id NOT IN ({_placeholders(exclude)})", *exclude)
        where = filters.where()
        total = self.store.one(
            f"SELECT COUNT(*) AS n FROM clerk_organizations AS o {where}",  # noqa: S608
            filters.args,
        )
        rows = self.store.all(
            f"SELECT o.* FROM clerk_organizations AS o {where} "  # noqa: S608
            f"ORDER BY {fields[order.field]} {order.direction}, o.id {order.direction} "
            "LIMIT ? OFFSET ?",
            [*filters.args, limit, offset],
        )
        counts = self.members_counts([row["id"] for row in rows]) if include_count else {}
        data = [organization_json(row, counts.get(row["id"])) for row in rows]
        return JSONResponse({"data": data, "total_count": total["n"] if total else 0})

    async def _create_organization(self, request: Request) -> Response:
        data, from_form = await read_body(request)
        # CreateOrganization documents 200, not 201.
        return JSONResponse(self.create_organization(data, from_form=from_form))

    async def _get_organization(self, request: Request) -> Response:
        row = self.organization_row(request.path_params["organization_id"])
        count = None
        if query_bool(request, "include_members_count"):
            count = self.members_counts([row["id"]])[row["id"]]
        return JSONResponse(organization_json(row, count))

    async def _update_organization(self, request: Request) -> Response:
        row = self.organization_row(request.path_params["organization_id"])
        data, from_form = await read_body(request)
        # Since 2026-05-12 metadata is not accepted here (it has its own /metadata endpoint),
        # so public_metadata / private_metadata are form_param_unknown like any other field.
        body = Body(
            data,
            {
                "name",
                "slug",
                "max_allowed_memberships",
                "admin_delete_enabled",
                "created_at",
                "role_set_key",
            },
            from_form=from_form,
        )
        changes: dict[str, Any] = {}
        name = body.string("name", max_length=256)
        if body.has("name") and name is not None and not name.strip():
            body.missing("name")
        self._check_name(body, name)
        slug = body.string("slug")
        self._check_slug(body, slug, row["id"])
        max_memberships = body.integer("max_allowed_memberships", minimum=0)
        admin_delete = body.boolean("admin_delete_enabled")
        created_at = body.timestamp("created_at")
        role_set_key = body.string("role_set_key")
        body.check()
        for column, value in (
            ("name", name),
            ("slug", slug),
            ("max_allowed_memberships", max_memberships),
            ("admin_delete_enabled", admin_delete),
            ("created_at", created_at),
            ("role_set_key", role_set_key),
        ):
            if value is not None:
                changes[column] = value
        changes["updated_at"] = now_ms()
        assignments = ", ".join(f"{column} = ?" for column in changes)
        self.store.execute(
            f"UPDATE clerk_organizations SET {assignments} WHERE id = ?",  # noqa: S608
            [*changes.values(), row["id"]],
        )
        return JSONResponse(organization_json(self.organization_row(row["id"])))

    async def _delete_organization(self, request: Request) -> Response:
        row = self.organization_row(request.path_params["organization_id"])
        # "Deleting an organization will also delete all memberships" (ON DELETE CASCADE).
        self.store.execute("DELETE FROM clerk_organizations WHERE id = ?", [row["id"]])
        return JSONResponse(
            {"object": "organization", "id": row["id"], "slug": row["slug"], "deleted": True}
        )

    # ----------------------------------------------------------------- memberships

    def memberships_json(self, rows: Sequence[sqlite3.Row]) -> list[dict[str, Any]]:
        org_ids = sorted({row["organization_id"] for row in rows})
        user_ids = sorted({row["user_id"] for row in rows})
        organizations = {
            org["id"]: organization_json(org)
            for org in self.store.all(
                f"SELECT * FROM clerk_organizations WHERE id IN ({_placeholders(org_ids)})",
                org_ids,
            )
        }
        users = {
            user["id"]: user
            for user in self.store.all(
                f"SELECT * FROM clerk_users WHERE id IN ({_placeholders(user_ids)})", user_ids
            )
        }
        identifiers = {
            row["id"]: row["value"]
            for row in self.store.all(
                "SELECT id, value FROM clerk_identifications WHERE user_id IN "
                f"({_placeholders(user_ids)})",
                user_ids,
            )
        }
        roles = self.roles()
        result = []
        for row in rows:
            role = roles.get(row["role"])
            result.append(
                {
                    "id": row["id"],
                    "object": "organization_membership",
                    "role": row["role"],
                    "role_name": role.name if role else row["role"],
                    "permissions": list(role.permissions) if role else [],
                    "public_metadata": from_json(row["public_metadata"], {}),
                    "private_metadata": from_json(row["private_metadata"], {}),
                    "organization": organizations[row["organization_id"]],
                    "public_user_data": _public_user_data(
                        row["user_id"], users.get(row["user_id"]), identifiers
                    ),
                    "created_at": row["created_at"],
                    "updated_at": row["updated_at"],
                }
            )
        return result

    def membership_row(self, organization_id: str, user_id: str) -> sqlite3.Row:
        row = self.store.one(
            "SELECT * FROM clerk_memberships WHERE organization_id = ? AND user_id = ?",
            [organization_id, user_id],
        )
        if row is None:
            raise api_error(
                404,
                "resource_not_found",
                "not found",
                f"No organization membership was found for user {user_id} in organization "
                f"{organization_id}",
            )
        return row

    def _check_role(self, body: Body, role: str | None) -> None:
        if role is not None and role not in self.roles():
            body.fail(
                "form_param_value_invalid",
                "role",
                "is invalid",
                f"There is no role with key {role} in this instance.",
            )

    def create_membership(
        self,
        organization_id: str,
        data: Mapping[str, Any],
        *,
        from_form: bool = False,
        membership_id: str | None = None,
        created_at: int | None = None,
        updated_at: int | None = None,
        user_must_exist: bool = True,
    ) -> dict[str, Any]:
        organization = self.organization_row(organization_id)
        body = Body(
            data, {"user_id", "role", "public_metadata", "private_metadata"}, from_form=from_form
        )
        user_id = body.string("user_id", required=True)
        role = body.string("role", required=True)
        self._check_role(body, role)
        public_metadata = body.metadata("public_metadata") or {}
        private_metadata = body.metadata("private_metadata") or {}
        body.check()
        assert user_id is not None and role is not None
        if user_must_exist:
            self.user_row(user_id)
        if self.store.one(
            "SELECT 1 FROM clerk_memberships WHERE organization_id = ? AND user_id = ?",
            [organization["id"], user_id],
        ):
            raise api_error(
                400,
                "already_a_member_in_organization",
                "already a member",
                f"User {user_id} is already a member of the organization.",
            )
        maximum = organization["max_allowed_memberships"]
        if maximum and self.members_counts([organization["id"]])[organization["id"]] >= maximum:
            raise api_error(
                403,
                "organization_membership_quota_exceeded",
                "membership quota exceeded",
                "The organization has reached its maximum number of memberships.",
            )
        now = now_ms()
        created = created_at if created_at is not None else now
        membership_id = membership_id or clerk_id("orgmem_")
        self.store.execute(
            "INSERT INTO clerk_memberships (id, organization_id, user_id, role, public_metadata, "
            "private_metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                membership_id,
                organization["id"],
                user_id,
                role,
                to_json(public_metadata),
                to_json(private_metadata),
                created,
                updated_at if updated_at is not None else max(created, now),
            ],
        )
        return self.memberships_json(self.membership_rows_by_id([membership_id]))[0]

    def membership_rows_by_id(self, ids: Sequence[str]) -> list[sqlite3.Row]:
        return self.store.all(
            f"SELECT * FROM clerk_memberships WHERE id IN ({_placeholders(ids)})", ids
        )

    MEMBERSHIP_ORDER_FIELDS: ClassVar[dict[str, str]] = {
        "created_at": "m.created_at",
        "email_address": "(SELECT lower(value) FROM clerk_identifications "
        "WHERE id = u.primary_email_address_id)",
        "phone_number": "(SELECT value FROM clerk_identifications "
        "WHERE id = u.primary_phone_number_id)",
        "first_name": "lower(u.first_name)",
        "last_name": "lower(u.last_name)",
        "username": "lower(u.username)",
    }

    def _membership_page(self, request: Request, filters: Filters) -> Response:
        limit = query_int(request, "limit", default=10, low=1, high=MAX_PAGE_SIZE)
        offset = query_int(request, "offset", default=0, low=0, high=None)
        # No default is documented; newest first, like every other Clerk list.
        order = parse_order(request, self.MEMBERSHIP_ORDER_FIELDS, "-created_at")
        source = "clerk_memberships AS m LEFT JOIN clerk_users AS u ON u.id = m.user_id"
        where = filters.where()
        total = self.store.one(
            f"SELECT COUNT(*) AS n FROM {source} {where}",  # noqa: S608
            filters.args,
        )
        rows = self.store.all(
            f"SELECT m.* FROM {source} {where} "  # noqa: S608
            f"ORDER BY {self.MEMBERSHIP_ORDER_FIELDS[order.field]} {order.direction}, "
            f"m.id {order.direction} LIMIT ? OFFSET ?",
            [*filters.args, limit, offset],
        )
        return JSONResponse(
            {"data": self.memberships_json(rows), "total_count": total["n"] if total else 0}
        )

    async def _list_memberships(self, request: Request) -> Response:
        organization = self.organization_row(request.path_params["organization_id"])
        filters = Filters()
        filters.add("m.organization_id = ?", organization["id"])
        include, exclude = split_signed(_limited(request, "user_id"))
        if include:
            filters.add(f"m.user_id IN ({_placeholders(include)})", *include)
        if exclude:
            filters.add(f"m.user_id NOT IN ({_placeholders(exclude)})", *exclude)
        roles = _limited(request, "role")
        if roles:
            filters.add(f"m.role IN ({_placeholders(roles)})", *roles)
        identified_by = (
            "m.user_id IN (SELECT user_id FROM clerk_identifications WHERE kind = ? AND {})"
        )
        emails = [value.lower() for value in _limited(request, "email_address")]
        if emails:
            condition = f"lower(value) IN ({_placeholders(emails)})"
            filters.add(identified_by.format(condition), "email_address", *emails)
        phones = _limited(request, "phone_number")
        if phones:
            filters.add(
                identified_by.format(f"value IN ({_placeholders(phones)})"), "phone_number", *phones
            )
        usernames = [value.lower() for value in _limited(request, "username")]
        if usernames:
            filters.add(f"lower(u.username) IN ({_placeholders(usernames)})", *usernames)
        if _limited(request, "web3_wallet"):
            filters.add("0")
        query = request.query_params.get("query")
        if query:
            pattern = _like(query)
            filters.add(
                "(lower(m.user_id) LIKE ? ESCAPE '\\' OR lower(coalesce(u.first_name, '')) LIKE ? "
                "ESCAPE '\\' OR lower(coalesce(u.last_name, '')) LIKE ? ESCAPE '\\' OR "
                "lower(coalesce(u.username, '')) LIKE ? ESCAPE '\\' OR m.user_id IN (SELECT "
                "user_id FROM clerk_identifications WHERE lower(value) LIKE ? ESCAPE '\\'))",
                *[pattern] * 5,
            )
        for name, condition in (
            ("email_address_query", identified_by.format("lower(value) LIKE ? ESCAPE '\\'")),
            ("phone_number_query", identified_by.format("lower(value) LIKE ? ESCAPE '\\'")),
        ):
            value = request.query_params.get(name)
            if value:
                kind = "email_address" if name.startswith("email") else "phone_number"
                filters.add(condition, kind, _like(value))
        for name, condition in (
            ("username_query", "lower(coalesce(u.username, '')) LIKE ? ESCAPE '\\'"),
            (
                "name_query",
                "lower(coalesce(u.first_name, '') || ' ' || coalesce(u.last_name, '')) "
                "LIKE ? ESCAPE '\\'",
            ),
        ):
            value = request.query_params.get(name)
            if value:
                filters.add(condition, _like(value))
        for name, column, op in (
            ("created_at_before", "u.created_at", "<"),
            ("created_at_after", "u.created_at", ">"),
            ("last_active_at_before", "u.last_active_at", "<"),
            ("last_active_at_after", "u.last_active_at", ">"),
        ):
            bound = query_optional_int(request, name)
            if bound is not None:
                filters.add(f"{column} {op} ?", bound)
        return self._membership_page(request, filters)

    async def _list_instance_memberships(self, request: Request) -> Response:
        return self._membership_page(request, Filters())

    async def _list_user_memberships(self, request: Request) -> Response:
        user = self.user_row(request.path_params["user_id"])
        filters = Filters()
        filters.add("m.user_id = ?", user["id"])
        return self._membership_page(request, filters)

    async def _create_membership(self, request: Request) -> Response:
        data, from_form = await read_body(request)
        membership = self.create_membership(
            request.path_params["organization_id"], data, from_form=from_form
        )
        return JSONResponse(membership)  # documented 200

    async def _update_membership(self, request: Request) -> Response:
        organization = self.organization_row(request.path_params["organization_id"])
        row = self.membership_row(organization["id"], request.path_params["user_id"])
        data, from_form = await read_body(request)
        body = Body(data, {"role"}, from_form=from_form)
        role = body.string("role", required=True)
        self._check_role(body, role)
        body.check()
        self.store.execute(
            "UPDATE clerk_memberships SET role = ?, updated_at = ? WHERE id = ?",
            [role, now_ms(), row["id"]],
        )
        return JSONResponse(self.memberships_json(self.membership_rows_by_id([row["id"]]))[0])

    async def _delete_membership(self, request: Request) -> Response:
        organization = self.organization_row(request.path_params["organization_id"])
        row = self.membership_row(organization["id"], request.path_params["user_id"])
        # The document answers the removed membership itself, not a DeletedObject.
        removed = self.memberships_json([row])[0]
        self.store.execute("DELETE FROM clerk_memberships WHERE id = ?", [row["id"]])
        return JSONResponse(removed)

    # ----------------------------------------------------------------- user updates

    NULLABLE_USER_COLUMNS: ClassVar[tuple[str, ...]] = (
        "external_id",
        "first_name",
        "last_name",
        "locale",
        "username",
    )

    async def _update_user(self, request: Request) -> Response:
        """UpdateUser: the fields the emulator stores are changed; a field sent as ``null``
        clears a nullable one. Identifiers stay unique (``form_identifier_exists``)."""
        row = self.user_row(request.path_params["user_id"])
        data, from_form = await read_body(request)
        body = Body(data, UPDATE_USER_FIELDS, from_form=from_form)
        changes: dict[str, Any] = {}
        for column in self.NULLABLE_USER_COLUMNS:
            value = body.string(column)
            if value is not None or (body.has(column) and data.get(column) is None):
                changes[column] = value
        password, digest, hasher = read_password_fields(body)
        for name in ("sign_out_of_other_sessions", "skip_legal_checks"):
            body.boolean(name)
        totp_secret = body.string("totp_secret")
        if totp_secret is not None and not BASE32_SECRET.fullmatch(totp_secret):
            body.invalid("totp_secret", "totp_secret must be a base32-encoded secret.")
        for flag in ("delete_self_enabled", "create_organization_enabled", "bypass_client_trust"):
            enabled = body.boolean(flag)
            if enabled is not None:
                changes[flag] = enabled
        limit = body.integer("create_organizations_limit", minimum=0)
        if limit is not None:
            changes["create_organizations_limit"] = limit
        for name in ("legal_accepted_at", "created_at"):
            stamp = body.timestamp(name)
            if stamp is not None:
                changes[name] = stamp
        primary_email = body.string("primary_email_address_id")
        body.boolean("notify_primary_email_address_changed")
        if primary_email is not None:
            if self.store.one(
                "SELECT 1 FROM clerk_identifications WHERE id = ? AND user_id = ? AND kind = "
                "'email_address' AND status = 'verified'",
                [primary_email, row["id"]],
            ):
                changes["primary_email_address_id"] = primary_email
            else:
                body.invalid(
                    "primary_email_address_id",
                    "primary_email_address_id must be a verified email address of this user.",
                )
        for ignored in ("primary_phone_number_id", "profile_image_id"):
            if body.string(ignored) is not None:
                body.fail(
                    "form_param_value_invalid",
                    ignored,
                    "is invalid",
                    f"The emulator does not support changing {ignored}.",
                )
        body.check()
        taken = []
        external_id = changes.get("external_id")
        if external_id is not None and self.store.one(
            "SELECT 1 FROM clerk_users WHERE external_id = ? AND id != ?", [external_id, row["id"]]
        ):
            taken.append("external_id")
        username = changes.get("username")
        if username is not None and self.store.one(
            "SELECT 1 FROM clerk_users WHERE lower(username) = ? AND id != ?",
            [username.lower(), row["id"]],
        ):
            taken.append("username")
        if taken:
            raise ApiError(
                422,
                errors_body(
                    *(
                        clerk_error(
                            "form_identifier_exists",
                            f"That {name.replace('_', ' ')} is taken. Please try another.",
                            f"That {name.replace('_', ' ')} is taken. Please try another.",
                            param=name,
                        )
                        for name in taken
                    )
                ),
            )
        if password is not None:
            digest, hasher = await run_in_threadpool(hash_password, password), "bcrypt"
        now = now_ms()
        if digest is not None:
            changes.update(
                password_digest=digest, password_hasher=hasher, password_last_updated_at=now
            )
        if totp_secret is not None:
            changes.update(totp_secret=totp_secret, mfa_enabled_at=row["mfa_enabled_at"] or now)
        changes["updated_at"] = now
        assignments = ", ".join(f"{column} = ?" for column in changes)
        self.store.execute(
            f"UPDATE clerk_users SET {assignments} WHERE id = ?",  # noqa: S608
            [*changes.values(), row["id"]],
        )
        return JSONResponse(self.user_json(row["id"]))

    async def _replace_email_address(self, request: Request) -> Response:
        """ReplaceUserEmailAddress: one new primary address replaces all of the user's."""
        row = self.user_row(request.path_params["user_id"])
        data, from_form = await read_body(request)
        body = Body(
            data,
            {"email_address", "identification_status", "notify_primary_email_address_changed"},
            from_form=from_form,
        )
        address = body.string("email_address", required=True)
        status = body.string("identification_status") or "verified"
        body.boolean("notify_primary_email_address_changed")
        if address is not None and EMAIL_ADDRESS.fullmatch(address.strip()) is None:
            body.invalid("email_address", "email_address must be a valid email address.")
        if status not in ("verified", "reserved", "unverified"):
            body.invalid(
                "identification_status",
                "identification_status must be one of verified, reserved or unverified.",
            )
        body.check()
        assert address is not None
        address = address.strip()
        if status != "unverified" and self.store.one(
            "SELECT 1 FROM clerk_identifications WHERE kind = 'email_address' AND "
            "lower(value) = ? AND user_id != ? AND status != 'unverified'",
            [address.lower(), row["id"]],
        ):
            text = "That email address is taken. Please try another."
            raise ApiError(
                422,
                errors_body(
                    clerk_error("form_identifier_exists", text, text, param="email_address")
                ),
            )
        linked = self.store.one(
            "SELECT 1 FROM clerk_identifications WHERE user_id = ? AND kind = 'email_address' "
            "AND linked_to != '[]'",
            [row["id"]],
        )
        if linked:
            raise api_error(
                400,
                "email_address_linked_to_external_account",
                "linked to a connected account",
                "An email address of this user is linked to a connected account; remove the "
                "connected account first.",
            )
        identification_id = clerk_id("idn_")
        now = now_ms()
        with self.store.transaction() as conn:
            conn.execute(
                "DELETE FROM clerk_identifications WHERE user_id = ? AND kind = 'email_address'",
                [row["id"]],
            )
            conn.execute(
                "INSERT INTO clerk_identifications (id, user_id, kind, value, status, "
                "verification_strategy, position, created_at, updated_at) "
                "VALUES (?, ?, 'email_address', ?, ?, NULL, -1, ?, ?)",
                [identification_id, row["id"], address, status, now, now],
            )
            conn.execute(
                "UPDATE clerk_users SET primary_email_address_id = ?, updated_at = ? WHERE id = ?",
                [identification_id, now, row["id"]],
            )
        identification = self.store.one(
            "SELECT * FROM clerk_identifications WHERE id = ?", [identification_id]
        )
        assert identification is not None
        return JSONResponse(email_address_json(identification))

    async def _verify_password(self, request: Request) -> Response:
        """VerifyPassword: 200 ``{verified: true}``; 400 without a password; 422 when wrong.
        The emulator checks the digests it can compute (see ``digest_matches``)."""
        row = self.user_row(request.path_params["user_id"])
        data, from_form = await read_body(request)
        body = Body(data, {"password"}, from_form=from_form)
        password = body.string("password", required=True)
        body.check()
        assert password is not None
        if row["password_digest"] is None:
            raise api_error(
                400,
                "no_password_set",
                "no password",
                "The user does not have a password set.",
            )
        matches = await run_in_threadpool(
            digest_matches, row["password_hasher"], row["password_digest"], password
        )
        if matches is None:
            raise api_error(
                422,
                "password_verification_not_emulated",
                "cannot verify",
                f"The emulator cannot check {row['password_hasher']} digests.",
            )
        if not matches:
            raise api_error(
                422, "incorrect_password", "incorrect password", "The password is incorrect."
            )
        return JSONResponse({"verified": True})

    # ----------------------------------------------------------------- organization metadata

    async def _organization_metadata(self, request: Request, *, merge: bool) -> Response:
        row = self.organization_row(request.path_params["organization_id"])
        data, from_form = await read_body(request)
        body = Body(data, {"public_metadata", "private_metadata"}, from_form=from_form)
        public = body.metadata("public_metadata")
        private = body.metadata("private_metadata")
        body.check()
        changes: dict[str, Any] = {}
        for column, value in (("public_metadata", public), ("private_metadata", private)):
            if value is not None:
                current = from_json(row[column], {})
                changes[column] = to_json(deep_merge(current, value) if merge else value)
        changes["updated_at"] = now_ms()
        assignments = ", ".join(f"{column} = ?" for column in changes)
        self.store.execute(
            f"UPDATE clerk_organizations SET {assignments} WHERE id = ?",  # noqa: S608
            [*changes.values(), row["id"]],
        )
        return JSONResponse(organization_json(self.organization_row(row["id"])))

    async def _merge_organization_metadata(self, request: Request) -> Response:
        return await self._organization_metadata(request, merge=True)

    async def _replace_organization_metadata(self, request: Request) -> Response:
        return await self._organization_metadata(request, merge=False)

    # ----------------------------------------------------------------- organization domains

    def domain_row(self, organization_id: str, domain_id: str) -> sqlite3.Row:
        row = self.store.one(
            "SELECT * FROM clerk_organization_domains WHERE id = ? AND organization_id = ?",
            [domain_id, organization_id],
        )
        if row is None:
            raise not_found("organization domain", domain_id)
        return row

    def domains_json(self, rows: Sequence[sqlite3.Row]) -> list[dict[str, Any]]:
        org_ids = sorted({row["organization_id"] for row in rows})
        organizations = {
            org["id"]: org
            for org in self.store.all(
                f"SELECT * FROM clerk_organizations WHERE id IN ({_placeholders(org_ids)})",
                org_ids,
            )
        }
        return [
            organization_domain_json(row, organizations[row["organization_id"]]) for row in rows
        ]

    def _enrollment_mode(self, body: Body) -> str | None:
        mode = body.string("enrollment_mode")
        if mode is not None and mode not in ENROLLMENT_MODES:
            body.invalid(
                "enrollment_mode", f"enrollment_mode must be one of {', '.join(ENROLLMENT_MODES)}."
            )
            return None
        return mode

    def create_organization_domain(
        self, organization_id: str, data: Mapping[str, Any], *, from_form: bool = False
    ) -> dict[str, Any]:
        organization = self.organization_row(organization_id)
        body = Body(data, {"name", "enrollment_mode", "verified"}, from_form=from_form)
        name = body.string("name", required=True)
        mode = self._enrollment_mode(body)
        verified = body.boolean("verified")
        if name is not None:
            name = name.strip().lower()
            if not DOMAIN_NAME.fullmatch(name):
                body.invalid("name", "name must be a valid domain name, e.g. example.com.")
            elif name in COMMON_EMAIL_DOMAINS:
                body.fail(
                    "organization_domain_common",
                    "name",
                    "is a common email provider",
                    "This is a common email provider domain; it cannot be an organization domain.",
                )
            elif self.store.one("SELECT 1 FROM clerk_organization_domains WHERE name = ?", [name]):
                text = "That domain is taken by an organization. Please try another."
                body.fail("form_identifier_exists", "name", text, text)
        body.check()
        assert name is not None
        domain_id = clerk_id("orgdmn_")
        now = self._next_ms()
        self.store.execute(
            "INSERT INTO clerk_organization_domains (id, organization_id, name, enrollment_mode, "
            "verified, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                domain_id,
                organization["id"],
                name,
                mode or "manual_invitation",
                True if verified is None else verified,  # "Defaults to true"
                now,
                now,
            ],
        )
        return self.domains_json([self.domain_row(organization["id"], domain_id)])[0]

    async def _create_organization_domain(self, request: Request) -> Response:
        data, from_form = await read_body(request)
        domain = self.create_organization_domain(
            request.path_params["organization_id"], data, from_form=from_form
        )
        return JSONResponse(domain)

    DOMAIN_ORDER_FIELDS: ClassVar[dict[str, str]] = {
        "created_at": "t.created_at",
        "name": "t.name",
    }

    def _domain_filters(self, request: Request, filters: Filters) -> Filters:
        verified = request.query_params.get("verified")
        if verified:
            if verified not in ("true", "false"):
                raise param_invalid("verified", "verified must be true or false.")
            filters.add("t.verified = ?", verified == "true")
        modes = [
            mode
            for value in query_values(request, "enrollment_mode")
            for mode in value.split(",")
            if mode
        ]
        include, exclude = split_signed(modes)
        for mode in [*include, *exclude]:
            if mode not in ENROLLMENT_MODES:
                raise param_invalid(
                    "enrollment_mode",
                    f"enrollment_mode must be one of {', '.join(ENROLLMENT_MODES)}.",
                )
        if include:
            filters.add(f"t.enrollment_mode IN ({_placeholders(include)})", *include)
        if exclude:
            filters.add(f"t.enrollment_mode NOT IN ({_placeholders(exclude)})", *exclude)
        return filters

    async def _list_organization_domains(self, request: Request) -> Response:
        organization = self.organization_row(request.path_params["organization_id"])
        filters = Filters()
        filters.add("t.organization_id = ?", organization["id"])
        rows, total = self._offset_page(
            request,
            "clerk_organization_domains",
            self.DOMAIN_ORDER_FIELDS,
            "-created_at",
            self._domain_filters(request, filters),
        )
        return JSONResponse({"data": self.domains_json(rows), "total_count": total})

    async def _list_all_organization_domains(self, request: Request) -> Response:
        filters = Filters()
        organization_id = request.query_params.get("organization_id")
        if organization_id:
            filters.add("t.organization_id = ?", organization_id)
        query = request.query_params.get("query")
        if query is not None:
            if not query.strip():
                raise param_invalid("query", "query must not be empty.")
            if query.startswith("org_"):  # "an exact organization ID match"
                filters.add("t.organization_id = ?", query)
            else:
                filters.add("t.name LIKE ? ESCAPE '\\'", _like(query))
        names = [name.lower() for name in _limited(request, "domains")]
        if names:
            filters.add(f"t.name IN ({_placeholders(names)})", *names)
        rows, total = self._offset_page(
            request,
            "clerk_organization_domains",
            self.DOMAIN_ORDER_FIELDS,
            "-created_at",
            self._domain_filters(request, filters),
        )
        return JSONResponse({"data": self.domains_json(rows), "total_count": total})

    async def _update_organization_domain(self, request: Request) -> Response:
        organization = self.organization_row(request.path_params["organization_id"])
        row = self.domain_row(organization["id"], request.path_params["domain_id"])
        data, from_form = await read_body(request)
        body = Body(data, {"enrollment_mode", "verified"}, from_form=from_form)
        mode = self._enrollment_mode(body)
        verified = body.boolean("verified")
        body.check()
        changes: dict[str, Any] = {}
        if mode is not None:
            changes["enrollment_mode"] = mode
        if verified is not None:
            changes["verified"] = verified
        changes["updated_at"] = now_ms()
        assignments = ", ".join(f"{column} = ?" for column in changes)
        self.store.execute(
            f"UPDATE clerk_organization_domains SET {assignments} WHERE id = ?",  # noqa: S608
            [*changes.values(), row["id"]],
        )
        return JSONResponse(self.domains_json([self.domain_row(organization["id"], row["id"])])[0])

    async def _delete_organization_domain(self, request: Request) -> Response:
        organization = self.organization_row(request.path_params["organization_id"])
        row = self.domain_row(organization["id"], request.path_params["domain_id"])
        self.store.execute("DELETE FROM clerk_organization_domains WHERE id = ?", [row["id"]])
        return JSONResponse({"object": "organization_domain", "id": row["id"], "deleted": True})

    # ----------------------------------------------------------------- redirect URLs

    def redirect_url_row(self, redirect_url_id: str) -> sqlite3.Row:
        row = self.store.one("SELECT * FROM clerk_redirect_urls WHERE id = ?", [redirect_url_id])
        if row is None:
            raise not_found("redirect url", redirect_url_id)
        return row

    async def _list_redirect_urls(self, request: Request) -> Response:
        """ListRedirectURLs answers a bare array; ``limit``/``offset`` apply only when
        ``paginated`` is true (the default lists them all)."""
        if query_bool(request, "paginated"):
            rows, _ = self._offset_page(
                request,
                "clerk_redirect_urls",
                {"created_at": "t.created_at"},
                "+created_at",
                Filters(),
            )
        else:
            rows = self.store.all("SELECT * FROM clerk_redirect_urls ORDER BY created_at, rowid")
        return JSONResponse([redirect_url_json(row) for row in rows])

    async def _create_redirect_url(self, request: Request) -> Response:
        data, from_form = await read_body(request)
        body = Body(data, set(data), from_form=from_form)
        url = body.string("url", required=True)
        if url is not None:
            scheme = url.split("://", 1)[0] if "://" in url else ""
            if not re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme) or not url.split("://", 1)[1]:
                body.invalid(
                    "url",
                    "url must be a full URL prefixed with https:// or a custom scheme, e.g. "
                    "my-app://oauth-callback.",
                )
            elif self.store.one("SELECT 1 FROM clerk_redirect_urls WHERE url = ?", [url]):
                text = "That redirect URL already exists."
                body.fail("duplicate_record", "url", text, text)
        body.check()
        assert url is not None
        redirect_url_id = clerk_id("ru_")
        now = self._next_ms()
        self.store.execute(
            "INSERT INTO clerk_redirect_urls (id, url, created_at, updated_at) VALUES (?, ?, ?, ?)",
            [redirect_url_id, url, now, now],
        )
        return JSONResponse(redirect_url_json(self.redirect_url_row(redirect_url_id)))

    async def _get_redirect_url(self, request: Request) -> Response:
        return JSONResponse(
            redirect_url_json(self.redirect_url_row(request.path_params["redirect_url_id"]))
        )

    async def _delete_redirect_url(self, request: Request) -> Response:
        row = self.redirect_url_row(request.path_params["redirect_url_id"])
        self.store.execute("DELETE FROM clerk_redirect_urls WHERE id = ?", [row["id"]])
        return JSONResponse({"object": "redirect_url", "id": row["id"], "deleted": True})

    # ----------------------------------------------------------------- the instance

    def instance_settings(self) -> tuple[str, dict[str, Any]]:
        """The instance id and its settings (created on first use)."""
        row = self.store.one("SELECT * FROM clerk_instance")
        if row is None:
            instance_id = clerk_id("ins_")
            self.store.execute(
                "INSERT INTO clerk_instance (id, settings) VALUES (?, ?)",
                [instance_id, to_json({"allowed_origins": None})],
            )
            return instance_id, {"allowed_origins": None}
        return str(row["id"]), dict(from_json(row["settings"], {}))

    async def _get_instance(self, request: Request) -> Response:
        instance_id, settings = self.instance_settings()
        return JSONResponse(
            {
                "object": "instance",
                "id": instance_id,
                "environment_type": self.environment_type,
                "allowed_origins": settings.get("allowed_origins"),
                "workspace_id": None,
            }
        )

    async def _update_instance(self, request: Request) -> Response:
        """UpdateInstance answers 204 "Accepted" with no body; ``allowed_origins`` replaces
        the whole list (GetInstance reads it back)."""
        data, from_form = await read_body(request)
        body = Body(data, INSTANCE_SETTINGS, from_form=from_form)
        changes: dict[str, Any] = {}
        for name in ("test_mode", "hibp", "cookieless_dev", "url_based_session_syncing"):
            if body.has(name):
                changes[name] = body.boolean(name)
        for name in ("support_email", "clerk_js_version", "development_origin"):
            if body.has(name):
                changes[name] = body.string(name)
        if body.has("preferred_sign_in_strategy_when_password_required"):
            strategy = body.string("preferred_sign_in_strategy_when_password_required")
            if strategy not in (None, "password", "otp", ""):
                body.invalid(
                    "preferred_sign_in_strategy_when_password_required",
                    "preferred_sign_in_strategy_when_password_required must be password, otp "
                    "or empty.",
                )
            changes["preferred_sign_in_strategy_when_password_required"] = strategy
        if body.has("allowed_origins"):
            origins = body.string_list("allowed_origins")
            for origin in origins:
                if "://" not in origin or not origin.split("://", 1)[1]:
                    body.invalid(
                        "allowed_origins",
                        "allowed_origins must be origins such as https://example.com or "
                        "chrome-extension://extension_uuid.",
                    )
                    break
            changes["allowed_origins"] = list(dict.fromkeys(origins))
        body.check()
        instance_id, settings = self.instance_settings()
        settings.update(changes)
        self.store.execute(
            "UPDATE clerk_instance SET settings = ? WHERE id = ?", [to_json(settings), instance_id]
        )
        return Response(status_code=204)

    async def _list_domains(self, request: Request) -> Response:
        """ListDomains: the instance's one primary domain. Its ``frontend_api_url`` is the
        emulator's own Frontend API slice, so clients find it as they find Clerk's."""
        base = str(request.base_url).rstrip("/")
        instance_id, _ = self.instance_settings()
        host = request.url.hostname or "127.0.0.1"
        return JSONResponse(
            {
                "data": [
                    {
                        "object": "domain",
                        "id": "dmn_" + instance_id.removeprefix("ins_"),
                        "name": host,
                        "is_satellite": False,
                        "frontend_api_url": f"{base}{FRONTEND_API_PREFIX}",
                        "accounts_portal_url": f"{base}/accounts",
                        "proxy_url": None,
                        "development_origin": "",
                        "cname_targets": None,
                    }
                ],
                "total_count": 1,
            }
        )

    async def _frontend_environment(self, request: Request) -> Response:
        """The Frontend API's ``GET /v1/environment``, reduced to what the dashboard decides
        and authform reads: which social connections are enabled (``user_settings.social``,
        keyed by OAuth strategy). Like Clerk's, it names no client id or secret."""
        enabled = {item["provider"] for item in self.social.list()}
        social = {
            strategy: {
                "enabled": name in enabled,
                "required": False,
                "authenticatable": name in enabled,
                "strategy": strategy,
                "name": SOCIAL_PROVIDERS[name].label,
                "logo_url": None,
            }
            for name, strategy in CLERK_STRATEGIES.items()
        }
        return JSONResponse(
            {
                "object": "environment",
                "auth_config": {"object": "auth_config", "single_session_mode": True},
                "display_config": {
                    "object": "display_config",
                    "instance_environment_type": self.environment_type,
                },
                "user_settings": {"social": social},
            }
        )


def _public_user_data(
    user_id: str, user: sqlite3.Row | None, identifiers: Mapping[str, str]
) -> dict[str, Any]:
    """The membership's ``public_user_data``; for a seeded membership whose user no longer
    exists, everything but the id is empty, as Clerk's own exports show such rows."""
    if user is None:
        return {
            "user_id": user_id,
            "first_name": None,
            "last_name": None,
            "profile_image_url": None,
            "image_url": DEFAULT_IMAGE_URL,
            "has_image": False,
            "identifier": None,
            "username": None,
        }
    identifier = (
        identifiers.get(user["primary_email_address_id"] or "")
        or identifiers.get(user["primary_phone_number_id"] or "")
        or user["username"]
    )
    return {
        "user_id": user_id,
        "first_name": user["first_name"],
        "last_name": user["last_name"],
        "profile_image_url": DEFAULT_IMAGE_URL,
        "image_url": DEFAULT_IMAGE_URL,
        "has_image": False,
        "identifier": identifier,
        "username": user["username"],
        "banned": _bool(user["banned"]),
    }


# --------------------------------------------------------------------------- request log

# Clerk request fields holding secrets that the shared list (base.SECRET_FIELDS) does not
# name: CreateUser's password_digest and backup_codes.
CLERK_SECRET_FIELDS: Final = frozenset({"password_digest", "backup_codes"})


def redact_clerk_secrets(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            key: REDACTED
            if key in CLERK_SECRET_FIELDS and item is not None
            else redact_clerk_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_clerk_secrets(item) for item in value]
    return value


class ClerkRequestLog(RequestLog):
    """The shared request log, also masking Clerk's own secret fields before storing."""

    def append(self, entry: dict[str, Any]) -> None:
        super().append({**entry, "body": redact_clerk_secrets(entry.get("body"))})


# --------------------------------------------------------------------------- seed


def load_seed(path: str | Path) -> dict[str, Any]:
    """Read a seed file (YAML or JSON); its shape is documented on ``apply_seed``."""
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a seed file must be a mapping")
    return data


SEED_USER_FIELDS: Final = frozenset(
    {
        "id",
        "external_id",
        "username",
        "first_name",
        "last_name",
        "locale",
        "email_addresses",
        "primary_email_address",
        "phone_numbers",
        "primary_phone_number",
        "password",
        "password_digest",
        "password_hasher",
        "totp_secret",
        "backup_codes",
        "public_metadata",
        "private_metadata",
        "unsafe_metadata",
        "external_accounts",
        "banned",
        "locked",
        "created_at",
        "updated_at",
        "last_sign_in_at",
        "last_active_at",
    }
)


SEED_READ_ONLY_FIELDS: Final = frozenset(
    {
        "object",
        "id",
        "created_at",
        "updated_at",
        "image_url",
        "has_image",
        "members_count",
        "pending_invitations_count",
        "missing_member_with_elevated_permissions",
        "last_active_at",
    }
)


def apply_seed(backend: ClerkBackend, seed: Mapping[str, Any]) -> None:
    """Load a starting state; items whose id (or slug) already exists are skipped, so seeding
    a persistent database on every start is harmless.

    Seeds describe state, not requests: they may set ids and timestamps, hold password
    digests the API would refuse (an export's malformed one), addresses that differ only in
    case, and memberships of users that no longer exist (``dangling_user: true``), because
    real exports hold all of these. Timestamps are Unix ms or RFC 3339 strings.

    ```yaml
    roles: [{key: basic_member, name: Member, permissions: []}]   # added to org:admin/member
    users:
      - id: user_2aAda0000000000000000001                # optional
        first_name: Ada
        email_addresses:                                  # strings, or objects:
          - {email_address: ada@example.com, verified: true}
          - {email_address: ada@old.example, reserved: true}
        primary_email_address: ada@example.com            # default: first verified
        phone_numbers: [{phone_number: "+15555550111", reserved_for_second_factor: true}]
        password_digest: "$2a$10$…"                      # or password: plaintext
        password_hasher: bcrypt
        totp_secret: JBSWY3DPEHPK3PXP
        public_metadata: {plan: pro}
        external_accounts: [{provider: oauth_google, email_address: ada@example.com}]
        created_at: 1700000000000
    organizations:
      - {id: org_2aAcme…, name: Acme Inc, slug: acme, public_metadata: {tier: gold}}
    memberships:
      - {organization: acme, user_id: user_2aAda…, role: "org:admin"}   # id or slug
      - {organization: acme, user_id: user_2aGone…, role: "org:member", dangling_user: true}
    ```
    """
    unknown = set(seed) - {"roles", "users", "organizations", "memberships"}
    if unknown:
        raise ValueError(f"unknown seed sections: {', '.join(sorted(unknown))}")

    def items(section: str) -> list[Any]:
        value = seed.get(section) or []
        if not isinstance(value, list):
            raise ValueError(f"seed section {section!r} must be a list")
        for item in value:
            if not isinstance(item, dict):
                raise ValueError(f"seed {section} items must be mappings, not {item!r}")
        return value

    def attempt(what: str, operation: Callable[[], Any]) -> Any:
        try:
            return operation()
        except ApiError as exc:
            problems = "; ".join(error["long_message"] for error in exc.body.get("errors", []))
            raise ValueError(f"seed {what}: {problems}") from None
        except sqlite3.IntegrityError as exc:  # e.g. two seed users with one external_id
            raise ValueError(f"seed {what}: {exc}") from None

    store = backend.store
    for role in items("roles"):
        permissions = role.get("permissions") or []
        backend.add_role(_seed_text(role, "key"), str(role.get("name") or role["key"]), permissions)
    for item in items("users"):
        user = seed_user(item)
        if store.one("SELECT 1 FROM clerk_users WHERE id = ?", [user.id]) is None:
            attempt(f"user {user.id}", partial(backend.insert_user, user, check_identifiers=False))
    for item in items("organizations"):
        org_id = str(item.get("id") or "") or None
        slug = item.get("slug")
        exists = store.one(
            "SELECT 1 FROM clerk_organizations WHERE id = ? OR slug = ?", [org_id, slug]
        )
        if exists is None:
            # Read-only answer fields are dropped, so a saved GET /v1/organizations page
            # seeds as it is.
            body = {key: value for key, value in item.items() if key not in SEED_READ_ONLY_FIELDS}
            # Only an update can set it through the API; a seed states it directly.
            admin_delete = body.pop("admin_delete_enabled", None)
            create = partial(
                backend.create_organization,
                body,
                organization_id=org_id,
                created_at=_seed_time(item, "created_at"),
                updated_at=_seed_time(item, "updated_at"),
            )
            organization = attempt(f"organization {item.get('name')}", create)
            if admin_delete is not None:
                store.execute(
                    "UPDATE clerk_organizations SET admin_delete_enabled = ? WHERE id = ?",
                    [bool(admin_delete), organization["id"]],
                )
    for item in items("memberships"):
        organization = attempt(
            "membership", partial(backend.organization_row, item.get("organization") or "")
        )
        user_id = _seed_text(item, "user_id")
        if store.one(
            "SELECT 1 FROM clerk_memberships WHERE organization_id = ? AND user_id = ?",
            [organization["id"], user_id],
        ):
            continue
        dangling = bool(item.get("dangling_user"))
        if not dangling and store.one("SELECT 1 FROM clerk_users WHERE id = ?", [user_id]) is None:
            raise ValueError(
                f"seed membership: no user {user_id!r} (set dangling_user: true to keep a "
                "membership whose user was deleted)"
            )
        body = {"user_id": user_id, "role": _seed_text(item, "role")}
        for key in ("public_metadata", "private_metadata"):
            if key in item:
                body[key] = item[key]
        add = partial(
            backend.create_membership,
            organization["id"],
            body,
            membership_id=item.get("id"),
            created_at=_seed_time(item, "created_at"),
            updated_at=_seed_time(item, "updated_at"),
            user_must_exist=not dangling,
        )
        attempt(f"membership {user_id}@{organization['id']}", add)


def seed_user(item: Mapping[str, Any]) -> NewUser:
    """A seed ``users`` item as a ``NewUser`` (see ``apply_seed`` for the shape)."""
    unknown = set(item) - SEED_USER_FIELDS
    if unknown:
        raise ValueError(f"seed user: unknown fields {', '.join(sorted(unknown))}")
    user_id = str(item.get("id") or "") or clerk_id("user_")

    def identifications(key: str, kind: str) -> list[NewIdentification]:
        result = []
        for entry in item.get(key) or []:
            spec = {kind: entry} if isinstance(entry, str) else dict(entry)
            value = spec.get(kind)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"seed user {user_id}: each of {key} needs {kind!r}")
            status = "reserved" if spec.get("reserved") else "verified"
            if spec.get("verified") is False:
                status = "unverified"
            result.append(
                NewIdentification(
                    kind,
                    value.strip(),
                    status,
                    reserved_for_second_factor=bool(spec.get("reserved_for_second_factor")),
                    default_second_factor=bool(spec.get("default_second_factor")),
                )
            )
        return result

    emails = identifications("email_addresses", "email_address")
    phones = identifications("phone_numbers", "phone_number")
    digest = item.get("password_digest") or None
    hasher = item.get("password_hasher") or None
    if item.get("password"):
        digest, hasher = hash_password(str(item["password"])), "bcrypt"
    created_at = _seed_time(item, "created_at")
    accounts = [
        _seed_external_account(account, emails, item, created_at or now_ms())
        for account in item.get("external_accounts") or []
    ]
    metadata = {
        key: dict(item.get(key) or {})
        for key in ("public_metadata", "private_metadata", "unsafe_metadata")
    }
    return NewUser(
        id=user_id,
        emails=emails,
        phones=phones,
        primary_email=item.get("primary_email_address"),
        primary_phone=item.get("primary_phone_number"),
        external_id=item.get("external_id"),
        username=item.get("username") or None,
        first_name=item.get("first_name"),
        last_name=item.get("last_name"),
        locale=item.get("locale"),
        password_digest=digest,
        password_hasher=(hasher or "bcrypt") if digest else None,
        totp_secret=item.get("totp_secret") or None,
        backup_codes=item.get("backup_codes"),
        public_metadata=metadata["public_metadata"],
        private_metadata=metadata["private_metadata"],
        unsafe_metadata=metadata["unsafe_metadata"],
        external_accounts=accounts,
        banned=bool(item.get("banned")),
        locked=bool(item.get("locked")),
        last_sign_in_at=_seed_time(item, "last_sign_in_at"),
        last_active_at=_seed_time(item, "last_active_at"),
        created_at=created_at,
        updated_at=_seed_time(item, "updated_at"),
    )


def _seed_external_account(
    account: Any, emails: list[NewIdentification], user: Mapping[str, Any], created_at: int
) -> dict[str, Any]:
    """An ``ExternalAccountWithVerification``; the matching email address is linked to it
    and marked verified from OAuth, as a social sign-up leaves them."""
    if not isinstance(account, dict) or not isinstance(account.get("provider"), str):
        raise ValueError("seed external account needs a provider such as oauth_google")
    provider = account["provider"]
    if not re.fullmatch(r"oauth_[a-z]+", provider):
        raise ValueError(f"seed external account provider {provider!r} must look like oauth_x")
    email = str(account.get("email_address") or "")
    account_id = clerk_id("eac_")
    identification_id = clerk_id("idn_")
    for identification in emails:
        if email and identification.value.lower() == email.lower():
            identification_id = identification.id
            identification.linked_to.append({"type": provider, "id": account_id})
            identification.verification_strategy = f"from_{provider}"
    return {
        "object": "external_account",
        "id": account_id,
        "provider": provider,
        "identification_id": identification_id,
        "provider_user_id": str(account.get("provider_user_id") or secrets.token_hex(8)),
        "approved_scopes": str(account.get("approved_scopes") or "email profile openid"),
        "email_address": email,
        "email_address_verified": True,
        "first_name": str(account.get("first_name", user.get("first_name")) or ""),
        "last_name": str(account.get("last_name", user.get("last_name")) or ""),
        "image_url": None,
        "username": account.get("username"),
        "phone_number": None,
        "public_metadata": {},
        "label": None,
        "created_at": created_at,
        "updated_at": created_at,
        "verification": {
            "object": "verification_oauth",
            "status": "verified",
            "strategy": provider,
            "attempts": None,
            "expire_at": created_at,
        },
    }


def _seed_text(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"seed item {item!r} needs {key!r}")
    return value.strip()


def _seed_time(item: Mapping[str, Any], key: str) -> int | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        parsed = parse_rfc3339_ms(value)
        if parsed is not None:
            return parsed
    raise ValueError(f"seed {key} must be Unix milliseconds or an RFC 3339 date-time: {value!r}")


# --------------------------------------------------------------------------- export → seed

# Users in the Dashboard CSV carry no creation time; the seed spaces them a minute apart in
# file order, so created_at order is file order and every page boundary is deterministic.
EXPORT_USERS_CREATED_FROM: Final = 1_690_000_000_000
EXPORT_USERS_CREATED_STEP: Final = 60_000


def seed_from_clerk_export(directory: str | Path) -> dict[str, Any]:
    """A seed holding what a Clerk export describes: ``users.csv`` (Dashboard export, with
    digests and TOTP secrets), ``users.json`` (metadata, optional), ``organizations.json`` and
    ``memberships.json`` (Backend API objects, optional).

    Lets a test stand up "the instance the export came from" and read it back through the
    API; written to a JSON file, it is also a seed for ``authform emulator clerk --seed``.
    Memberships of users missing from the export are kept as ``dangling_user``; role keys the
    export uses that Clerk does not define by default (legacy ``admin``/``basic_member``)
    become seed roles.
    """
    root = Path(directory)
    users: list[dict[str, Any]] = []
    with open(root / "users.csv", encoding="utf-8-sig", newline="") as handle:
        for index, row in enumerate(csv.DictReader(handle)):
            users.append(_seed_user_from_csv_row(row, index))
    metadata: dict[str, dict[str, Any]] = {}
    if (root / "users.json").is_file():
        for item in json.loads((root / "users.json").read_text(encoding="utf-8")):
            metadata[item["id"]] = {
                key: item[key]
                for key in ("public_metadata", "private_metadata", "unsafe_metadata")
                if isinstance(item.get(key), dict) and item[key]
            }
    for user in users:
        user.update(metadata.get(user["id"], {}))
    seed: dict[str, Any] = {"users": users}
    if (root / "organizations.json").is_file():
        seed["organizations"] = [
            {
                key: org[key]
                for key in (
                    "id",
                    "name",
                    "slug",
                    "public_metadata",
                    "private_metadata",
                    "max_allowed_memberships",
                    "created_at",
                    "updated_at",
                )
                if org.get(key) is not None
            }
            for org in json.loads((root / "organizations.json").read_text(encoding="utf-8"))
        ]
    if (root / "memberships.json").is_file():
        known_users = {user["id"] for user in users}
        default_roles = {key for key, _, _ in DEFAULT_ROLES}
        memberships: list[dict[str, Any]] = []
        roles: list[dict[str, Any]] = []
        for item in json.loads((root / "memberships.json").read_text(encoding="utf-8")):
            user_id = item["public_user_data"]["user_id"]
            membership = {
                "id": item.get("id"),
                "organization": item["organization"]["id"],
                "user_id": user_id,
                "role": item["role"],
                "created_at": item.get("created_at"),
                "updated_at": item.get("updated_at"),
            }
            if user_id not in known_users:
                membership["dangling_user"] = True
            memberships.append({k: v for k, v in membership.items() if v is not None})
            if item["role"] not in default_roles and item["role"] not in {r["key"] for r in roles}:
                roles.append({"key": item["role"], "name": item["role"].replace("_", " ").title()})
        seed["memberships"] = memberships
        if roles:
            seed["roles"] = roles
    return seed


def _split_cell(cell: str | None) -> list[str]:
    # The Dashboard export's delimiter inside multi-value cells is undocumented; |, ; and ,
    # never occur inside an email address or phone number.
    return [part.strip() for part in re.split(r"[|,;]", cell or "") if part.strip()]


def _seed_user_from_csv_row(row: Mapping[str, str], index: int) -> dict[str, Any]:
    verified = _split_cell(row.get("verified_email_addresses"))
    unverified = _split_cell(row.get("unverified_email_addresses"))
    primary_phone = (row.get("primary_phone_number") or "").strip()
    phones = list(
        dict.fromkeys(
            ([primary_phone] if primary_phone else [])
            + _split_cell(row.get("verified_phone_numbers"))
        )
    )
    unverified_phones = [
        phone for phone in _split_cell(row.get("unverified_phone_numbers")) if phone not in phones
    ]
    user: dict[str, Any] = {
        "id": row["id"].strip(),
        "first_name": row.get("first_name") or None,
        "last_name": row.get("last_name") or None,
        "username": (row.get("username") or "").strip() or None,
        "email_addresses": [{"email_address": a, "verified": True} for a in verified]
        + [{"email_address": a, "verified": False} for a in unverified],
        "phone_numbers": [{"phone_number": p, "verified": True} for p in phones]
        + [{"phone_number": p, "verified": False} for p in unverified_phones],
        "created_at": EXPORT_USERS_CREATED_FROM + index * EXPORT_USERS_CREATED_STEP,
    }
    primary_email = (row.get("primary_email_address") or "").strip()
    if primary_email:
        user["primary_email_address"] = primary_email
    if primary_phone:
        user["primary_phone_number"] = primary_phone
    if (row.get("totp_secret") or "").strip():
        user["totp_secret"] = row["totp_secret"].strip()
    if (row.get("password_digest") or "").strip():
        user["password_digest"] = row["password_digest"].strip()
        user["password_hasher"] = (row.get("password_hasher") or "").strip() or "bcrypt"
    return {key: value for key, value in user.items() if value is not None}


# --------------------------------------------------------------------------- app factory


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
    """
    store = SqliteStore(db_path)
    seed_data = load_seed(seed) if isinstance(seed, str | Path) else seed
    try:
        # A production secret key (sk_live_) names a production instance; anything else a
        # development one, as GET /v1/instance reports it.
        environment = "production" if api_key.startswith("sk_live_") else "development"
        backend = ClerkBackend(
            store, SocialConnections(store), seed=seed_data, environment_type=environment
        )
    except BaseException:
        store.close()
        raise
    app = EmulatorApp(
        backend,
        api_key=api_key,
        rate_limits=rate_limits or ClerkRateLimits.for_secret_key(api_key),
    )
    app.request_log = ClerkRequestLog()
    return app
