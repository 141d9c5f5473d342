"""The manifest's shape, as pydantic models (version 1).

Every model forbids unknown keys, because a misspelt key that is silently ignored is a
setting that silently never applies. Limits follow WorkOS's documented API limits (slugs and
names 48 characters, descriptions 150, metadata 50 keys of 40 characters with values of 600,
external ids 64) so a manifest that validates also applies; everything else is bounded too,
so hostile input fails here, with a position, and not halfway through an apply.

The field validators are plain functions, exported, so the cross-item checks (duplicates,
references) normalize values exactly as the models do.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import SplitResult, urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
)

from authform.addresses import check_address_pattern
from authform.manifest.diagnostics import did_you_mean, list_names, show
from authform.social import SOCIAL_PROVIDERS
from authform.text_policy import check_text, unsafe_character

MANIFEST_VERSION = 1
# The providers that ship with authform. ``target.provider`` accepts any provider registered
# through the ``authform.providers`` entry points (a plug-in's included): checks.py holds
# the name against the registry, with its position.
PROVIDERS = ("workos", "scalekit", "clerk", "kavachos")
PROVIDER_NAME_MAX = 64
EMAIL_STRATEGIES = ("primary", "first", "skip-multi")
DOMAIN_STATES = ("pending", "verified")

SLUG_MAX = 48
NAME_MAX = 48
DESCRIPTION_MAX = 150
ORGANIZATION_KEY_MAX = 64
ORGANIZATION_NAME_MAX = 200
METADATA_MAX_KEYS = 50
METADATA_KEY_MAX = 40
METADATA_VALUE_MAX = 600
URL_MAX = 2048
TEXT_MAX = 1024
SECRET_MAX = 4096

PERMISSION_SLUG_PATTERN = r"^[a-z0-9][a-z0-9:._*-]*$"
ROLE_SLUG_PATTERN = r"^[a-z0-9][a-z0-9:._-]*$"
ORGANIZATION_KEY_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.:-]*$"
# A rate-limit bucket's name; which names a provider has is its registry declaration's.
BUCKET_PATTERN = r"^[a-z_]{1,64}$"
DOMAIN_PATTERN = (
    r"^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)
_DOMAIN_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# --- validators (plain functions: the cross-item checks reuse them) ------------------------
# Which characters text may hold is ``authform.text_policy``'s rule, shared with the import.


def check_single_line(value: str) -> str:
    check_text(value)
    if value != value.strip():
        raise ValueError("must not start or end with whitespace")
    return value


def check_multiline(value: str) -> str:
    return check_text(value, multiline=True)


def _check_pattern(value: str, pattern: str, what: str, allowed: str) -> str:
    check_text(value)
    if not re.fullmatch(pattern, value):
        raise ValueError(f"invalid {what} {_quote(value)}: use {allowed}")
    return value


def check_permission_slug(value: str) -> str:
    return _check_pattern(
        value,
        PERMISSION_SLUG_PATTERN,
        "permission slug",
        "lowercase letters, digits and ': . _ - *', starting with a letter or digit",
    )


def check_role_slug(value: str) -> str:
    return _check_pattern(
        value,
        ROLE_SLUG_PATTERN,
        "role slug",
        "lowercase letters, digits and ': . _ -', starting with a letter or digit",
    )


def check_organization_key(value: str) -> str:
    return _check_pattern(
        value, ORGANIZATION_KEY_PATTERN, "organization key", "letters, digits and '_ . : -'"
    )


def normalize_domain(value: str) -> str:
    """Lower-case a domain and check it is a plain DNS hostname (no scheme, port or path)."""
    check_text(value)
    if "://" in value or "/" in value:
        raise ValueError(f"{_quote(value)} is a URL; write just the domain, e.g. 'example.com'")
    if not value.isascii():
        raise ValueError(f"{_quote(value)} is not ASCII; write the punycode form (xn--...)")
    domain = value.lower()
    labels = domain.split(".")
    if (
        len(domain) > 253
        or len(labels) < 2
        or not all(_DOMAIN_LABEL.match(label) for label in labels)
        or not labels[-1][0].isalpha()
    ):
        raise ValueError(f"{_quote(value)} is not a valid domain name")
    return domain


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 and ::1: the only places plain http is safe to talk to."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _split_url(value: str, what: str) -> SplitResult:
    check_text(value)
    if any(char.isspace() for char in value):
        raise ValueError(f"{what} must not contain whitespace")
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{what} must be an absolute http(s) URL, got {_quote(value)}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError(f"{what} has an invalid port: {_quote(value)}") from None
    if not parts.hostname:
        raise ValueError(f"{what} has no host: {_quote(value)}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{what} must not contain credentials (user:password@)")
    if parts.scheme.lower() == "http" and not is_loopback(parts.hostname):
        raise ValueError(
            f"{what} must use https (http is allowed only for localhost, 127.0.0.0/8 and "
            f"::1), got {_quote(value)}"
        )
    return parts


def check_base_url(value: str) -> str:
    parts = _split_url(value, "base_url")
    if parts.query or parts.fragment:
        raise ValueError("base_url must not have a query or fragment")
    return value


def check_redirect_uri(value: str) -> str:
    """Redirect URIs match exactly (OAuth 2.1), so they are kept verbatim, never normalized."""
    parts = _split_url(value, "redirect URI")
    if parts.fragment or value.endswith("#"):
        raise ValueError("redirect URI must not have a fragment (#...)")
    return value


def normalize_cors_origin(value: str) -> str:
    """An origin is what a browser sends in ``Origin:``: scheme://host[:port], lower case,
    default port dropped, so the manifest compares equal to what the provider stores."""
    parts = _split_url(value, "CORS origin")
    if parts.path or parts.query or parts.fragment or value.endswith(("?", "#")):
        hint = "; remove the trailing '/'" if parts.path == "/" and not parts.query else ""
        raise ValueError(f"CORS origin must be scheme://host[:port] with no path{hint}")
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host.lower()
    port = parts.port
    default_port = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != default_port else "")


def check_social_provider(value: str) -> str:
    if value not in SOCIAL_PROVIDERS:
        raise ValueError(
            f"unknown social provider {_quote(value)} (expected one of: "
            f"{list_names(SOCIAL_PROVIDERS)}){did_you_mean(value, SOCIAL_PROVIDERS)}"
        )
    return value


def check_email(value: str) -> str:
    check_text(value)
    if not _EMAIL.match(value) or len(value) > 254:
        raise ValueError(f"{_quote(value)} is not an email address")
    return value


def check_path(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        raise ValueError("must not be empty")
    if isinstance(value, str):
        check_text(value)
    return value


def check_secret(value: SecretStr) -> SecretStr:
    if unsafe_character(value.get_secret_value()) is not None:
        raise ValueError("contains a control character")  # never show the secret
    return value


DATABASE_URL_SCHEMES = ("sqlite", "postgresql", "postgres")


def check_database_url(value: SecretStr) -> SecretStr:
    """A KavachOS database URL: ``sqlite:///path`` or ``postgresql://…``. Described, never
    quoted: it may hold a password."""
    url = value.get_secret_value()
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in DATABASE_URL_SCHEMES:
        raise ValueError(
            "database_url must start with sqlite:/// (a file path) or postgresql:// "
            f"(a server), not {show(scheme[:12]) if sep else 'a value without a scheme'}"
        )
    if scheme.lower() == "sqlite" and not rest.startswith("/"):
        raise ValueError(
            "a SQLite database_url is sqlite:/// followed by the file's path "
            "(sqlite:///relative/path.db or sqlite:////absolute/path.db)"
        )
    if scheme.lower() == "sqlite" and not rest[1:].strip():
        raise ValueError("a SQLite database_url needs a file path after sqlite:///")
    return value


def _quote(value: str) -> str:
    return show(value)


# --- reusable field types ------------------------------------------------------------------

Name = Annotated[
    str, StringConstraints(min_length=1, max_length=NAME_MAX), AfterValidator(check_single_line)
]
Description = Annotated[
    str, StringConstraints(max_length=DESCRIPTION_MAX), AfterValidator(check_multiline)
]
Text = Annotated[
    str, StringConstraints(min_length=1, max_length=TEXT_MAX), AfterValidator(check_single_line)
]
Secret = Annotated[
    SecretStr,
    StringConstraints(min_length=1, max_length=SECRET_MAX),
    AfterValidator(check_secret),
]
PermissionSlug = Annotated[
    str,
    StringConstraints(min_length=1, max_length=SLUG_MAX),
    AfterValidator(check_permission_slug),
    Field(json_schema_extra={"pattern": PERMISSION_SLUG_PATTERN}),
]
RoleSlug = Annotated[
    str,
    StringConstraints(min_length=1, max_length=SLUG_MAX),
    AfterValidator(check_role_slug),
    Field(json_schema_extra={"pattern": ROLE_SLUG_PATTERN}),
]
HttpUrl = Annotated[str, StringConstraints(min_length=1, max_length=URL_MAX)]
FilePath = Annotated[Path, BeforeValidator(check_path)]
MetadataKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=METADATA_KEY_MAX),
    AfterValidator(check_single_line),
]
MetadataValue = Annotated[
    str, StringConstraints(max_length=METADATA_VALUE_MAX), AfterValidator(check_multiline)
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


# --- target --------------------------------------------------------------------------------


class RateLimit(_Model):
    """At most `requests` started in any window of `per_seconds`."""

    requests: Annotated[int, Field(ge=1, le=1_000_000)] = Field(description="Requests.")
    per_seconds: Annotated[float, Field(gt=0, le=86_400)] = Field(description="Window.")


class TargetSettings(_Model):
    """The identity provider this manifest configures, and how to reach it: what every
    target has, whichever its provider.

    A provider plug-in that needs more settings declares its own model, a subclass of this
    one (``ProviderDeclaration.settings``), and the manifest's ``target`` is validated by
    it; its extra fields reach the provider as ``Connection.options``.
    Credentials belong in the environment: write `${env:VAR}`, never the secret itself.
    """

    provider: Annotated[
        str,
        StringConstraints(min_length=1, max_length=PROVIDER_NAME_MAX),
        AfterValidator(check_single_line),
        # The schema lists the installed providers (manifest/schema.py); checks.py holds the
        # name against the registry, so a plug-in's provider is accepted with no edit here.
        Field(json_schema_extra={"enum": list(PROVIDERS)}),
    ] = Field(description="Which identity provider to configure.")
    api_key: Secret | None = Field(
        default=None,
        description=(
            "Secret API credential: the WorkOS or Clerk secret key (sk_...) or the Scalekit "
            "client secret. Required except with --emulate (KavachOS uses database_url)."
        ),
    )
    client_id: Text | None = Field(
        default=None,
        description=(
            "OAuth client id: WorkOS client_..., the Scalekit client id. Used to build "
            "authorize URLs when verifying social connections."
        ),
    )
    base_url: Annotated[HttpUrl, AfterValidator(check_base_url)] | None = Field(
        default=None,
        description=(
            "API base URL override (your Scalekit environment URL). https, except for localhost."
        ),
    )
    max_concurrency: Annotated[int, Field(ge=1, le=256)] = Field(
        default=16,
        description="Most requests in flight at once; the rate limits still apply.",
    )
    rate_limits: dict[Annotated[str, StringConstraints(pattern=BUCKET_PATTERN)], RateLimit] = Field(
        default_factory=dict,
        description=(
            "Override the provider's documented rate limits, by bucket name (WorkOS: "
            "general, user_management_reads, user_management_writes), e.g. to leave "
            "room for production traffic sharing the key."
        ),
    )

    def provider_settings(self) -> dict[str, Any]:
        """The settings beyond those every target has (KavachOS's database options, a
        plug-in's own fields), by name: what the provider's build finds in its
        ``Connection``."""
        common = TargetSettings.model_fields
        return {name: getattr(self, name) for name in type(self).model_fields if name not in common}


class Target(TargetSettings):
    """The identity provider this manifest configures, and how to reach it: the settings of
    authform's own providers (WorkOS, Scalekit, Clerk, KavachOS).

    Credentials belong in the environment: write `${env:VAR}`, never the secret itself.
    """

    database_url: Annotated[Secret, AfterValidator(check_database_url)] | None = Field(
        default=None,
        description=(
            "KavachOS only: the database KavachOS uses, `sqlite:///path/to/db.sqlite` or "
            "`postgresql://user:password@host:5432/db`. It may hold a password: write "
            "`${env:DATABASE_URL}`. Required except with --emulate."
        ),
    )
    legacy_passwords: Literal["keep", "reset"] = Field(
        default="keep",
        description=(
            "KavachOS only: what happens to imported bcrypt password digests, which "
            "KavachOS's email sign-in does not accept by itself. `keep` stores them for an "
            "application-side check that verifies bcrypt once and rehashes into KavachOS's "
            "format (see the README); `reset` stores none and marks the users for a password "
            "reset."
        ),
    )


# --- authorization -------------------------------------------------------------------------


class Permission(_Model):
    """A permission roles can grant. Its slug is its identity across runs and providers."""

    slug: PermissionSlug = Field(description="Unique key, e.g. 'billing:manage'.")
    name: Name = Field(description="Display name.")
    description: Description = Field(default="", description="What the permission allows.")


class Role(_Model):
    """A role and the permissions it grants."""

    slug: RoleSlug = Field(description="Unique key, e.g. 'admin'.")
    name: Name = Field(description="Display name.")
    description: Description = Field(default="", description="Who the role is for.")
    permissions: list[PermissionSlug] = Field(
        default_factory=list,
        description="Slugs of the permissions this role grants (defined under `permissions`).",
    )


# --- organizations -------------------------------------------------------------------------


class Domain(_Model):
    """A domain that belongs to an organization."""

    domain: Annotated[
        str,
        StringConstraints(min_length=1, max_length=253),
        AfterValidator(normalize_domain),
        Field(json_schema_extra={"pattern": DOMAIN_PATTERN}),
    ] = Field(description="DNS hostname, e.g. 'acme.com' (compared in lower case).")
    state: Literal["pending", "verified"] = Field(
        default="pending",
        description="'verified' asserts you own the domain; 'pending' needs DNS verification.",
    )


class Organization(_Model):
    """An organization (tenant). Its key is stored as the provider's external id, so re-runs
    find the same organization instead of creating another."""

    key: Annotated[
        str,
        StringConstraints(min_length=1, max_length=ORGANIZATION_KEY_MAX),
        AfterValidator(check_organization_key),
        Field(json_schema_extra={"pattern": ORGANIZATION_KEY_PATTERN}),
    ] = Field(description="Stable unique key, stored as the organization's external id.")
    name: Annotated[
        str,
        StringConstraints(min_length=1, max_length=ORGANIZATION_NAME_MAX),
        AfterValidator(check_single_line),
    ] = Field(description="Display name.")
    domains: list[Domain] = Field(default_factory=list, description="Domains it owns.")
    metadata: dict[MetadataKey, MetadataValue] = Field(
        default_factory=dict,
        max_length=METADATA_MAX_KEYS,
        description="String key/value pairs (at most 50; keys up to 40 characters, values 600).",
    )


# --- application settings ------------------------------------------------------------------

RedirectUri = Annotated[
    HttpUrl,
    AfterValidator(check_redirect_uri),
    Field(description="Absolute https URL (http only for localhost); matched exactly."),
]
CorsOrigin = Annotated[
    HttpUrl,
    AfterValidator(normalize_cors_origin),
    Field(description="scheme://host[:port], no path; https except for localhost."),
]


class SocialConnection(_Model):
    """A social (OAuth) login. Most providers only configure these in their dashboard, so
    authform plans them as manual steps and verifies them by probing the authorize URL."""

    provider: Annotated[
        str,
        AfterValidator(check_social_provider),
        Field(json_schema_extra={"enum": sorted(SOCIAL_PROVIDERS)}),
    ] = Field(description="Social login provider.")
    client_id: Text = Field(description="Your OAuth app's client id at that provider.")
    client_secret: Secret | None = Field(
        default=None,
        description="Your OAuth app's client secret; never read back or shown.",
    )


# --- user import ---------------------------------------------------------------------------

_PATH_NOTE = "Relative paths are relative to the manifest file that names them."
_OUTPUT_NOTE = (
    "Relative paths are the working directory's; never inside the manifest folder "
    "(reports hold email addresses). Default: authform-reports/."
)


class _ClerkExportSource(_Model):
    """What both Clerk export sources take besides the users file: the organization and
    membership exports that come with it."""

    organizations: FilePath | None = Field(
        default=None, description=f"Organizations JSON export. {_PATH_NOTE}"
    )
    memberships: FilePath | None = Field(
        default=None, description=f"Memberships JSON export. {_PATH_NOTE}"
    )


class ClerkCsvSource(_ClerkExportSource):
    """Users from a Clerk dashboard CSV export (the only export with password digests)."""

    kind: Literal["clerk-csv"]
    path: FilePath = Field(description=f"The users CSV export. {_PATH_NOTE}")


class ClerkJsonSource(_ClerkExportSource):
    """Users from a Clerk JSON export."""

    kind: Literal["clerk-json"]
    path: FilePath = Field(description=f"The users JSON export. {_PATH_NOTE}")


class ClerkApiSource(_Model):
    """Users, organizations and memberships read live from Clerk's Backend API."""

    kind: Literal["clerk-api"]
    secret_key: Secret = Field(description="Clerk secret key (sk_...).")
    csv: FilePath | None = Field(
        default=None,
        description=(
            "A dashboard CSV export whose password digests are combined with the API's "
            f"users (the API has none). {_PATH_NOTE}"
        ),
    )
    base_url: Annotated[HttpUrl, AfterValidator(check_base_url)] | None = Field(
        default=None, description="Clerk Backend API base URL override (https)."
    )


UserSource = Annotated[
    ClerkCsvSource | ClerkJsonSource | ClerkApiSource, Field(discriminator="kind")
]


class Users(_Model):
    """Import users, organizations and memberships from a source."""

    source: UserSource = Field(description="Where the users come from.")
    email: Literal["primary", "first", "skip-multi"] = Field(
        default="primary",
        description=(
            "Which address to keep for users with several: the primary one, the first "
            "listed, or skip those users (reported)."
        ),
    )
    role_map: dict[Text, RoleSlug] = Field(
        default_factory=dict,
        description="Source role key (e.g. 'org:admin') to role slug.",
    )
    mapping_file: FilePath | None = Field(
        default=None,
        description=f"Where to write the source id to provider id mapping. {_OUTPUT_NOTE}",
    )
    reports_dir: FilePath | None = Field(
        default=None,
        description=f"Where to write reports of skipped and changed users. {_OUTPUT_NOTE}",
    )


# --- safety and verification ---------------------------------------------------------------

Percent = Annotated[int, Field(ge=0, le=100)]


class Policy(_Model):
    """Safety limits for apply, in the style of octoDNS: large plans need --force."""

    allow_delete: bool = Field(
        default=False, description="Allow deleting live items the manifest doesn't list."
    )
    max_delete_percent: Percent = Field(
        default=30, description="Refuse plans deleting more than this share of existing items."
    )
    max_update_percent: Percent = Field(
        default=30, description="Refuse plans updating more than this share of existing items."
    )
    threshold_min_existing: int = Field(
        default=10,
        ge=0,
        description="The percentages apply only from this many existing items of a kind.",
    )


class PasswordLogin(_Model):
    """A canary account whose password login `verify` tries."""

    email: Annotated[str, StringConstraints(max_length=254), AfterValidator(check_email)] = Field(
        description="The account's email address."
    )
    password: Secret = Field(description="Its password; use ${env:VAR}.")


class Verify(_Model):
    """Checks `authform verify` runs after apply."""

    password_logins: list[PasswordLogin] = Field(
        default_factory=list, description="Accounts that must be able to sign in."
    )


AddressPatternText = Annotated[
    str, StringConstraints(max_length=512), AfterValidator(check_address_pattern)
]


class Drift(_Model):
    """What `authform drift` leaves out: items a team manages by hand on purpose."""

    ignore: list[AddressPatternText] = Field(
        default_factory=list,
        description=(
            "Addresses never reported as drift, as plans print them (role.admin), or with * "
            "in the key for many (organization.sandbox-*, user.*). plan and apply still show "
            "them; use --exclude there."
        ),
    )


# --- environments --------------------------------------------------------------------------

ENVIRONMENT_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,47}$"


class _Sections(_Model):
    """The sections a manifest and an environment both hold, each managed when present."""

    permissions: list[Permission] | None = Field(default=None, description="Permissions.")
    roles: list[Role] | None = Field(default=None, description="Roles.")
    redirect_uris: list[RedirectUri] | None = Field(
        default=None, description="Allowed OAuth redirect URIs."
    )
    cors_origins: list[CorsOrigin] | None = Field(
        default=None, description="Allowed browser origins (CORS)."
    )
    social_connections: list[SocialConnection] | None = Field(
        default=None, description="Social (OAuth) logins."
    )
    organizations: list[Organization] | None = Field(default=None, description="Organizations.")
    users: Users | None = Field(default=None, description="User import.")


class Environment(_Sections):
    """What differs in one environment. Each section given here replaces the top-level
    section of the same name, whole (nothing is merged inside a section)."""

    target: Target | None = Field(default=None, description="This environment's target.")
    policy: Policy | None = Field(default=None, description="Safety limits.")
    verify: Verify | None = Field(default=None, description="Post-apply checks.")
    drift: Drift | None = Field(default=None, description="What drift leaves out.")


# --- the manifest --------------------------------------------------------------------------


class Manifest(_Sections):
    """An authform manifest: the desired configuration of one identity provider.

    A section that is present (even as `[]`) is managed: live items it doesn't list are
    planned for deletion. A section that is absent is left alone.
    """

    version: Literal[1] = Field(description="Manifest format version.")
    # Validated as the built-ins' ``Target``, or as a provider plug-in's own settings model
    # (a subclass of TargetSettings; see manifest/targets.py). Code reading it may rely on
    # TargetSettings' fields only, which is what type checkers are told.
    if TYPE_CHECKING:
        target: TargetSettings
    else:
        target: Target = Field(description="The identity provider to configure.")
    policy: Policy = Field(default_factory=Policy, description="Safety limits.")
    verify: Verify = Field(default_factory=Verify, description="Post-apply checks.")
    drift: Drift = Field(default_factory=Drift, description="What drift leaves out.")
    # The loader resolves the chosen environment before validation (see environments.py), so
    # on a loaded manifest this is always unset; it is declared for the JSON Schema.
    environments: (
        dict[Annotated[str, StringConstraints(pattern=ENVIRONMENT_NAME_PATTERN)], Environment]
        | None
    ) = Field(
        default=None,
        description=(
            "Named environments (e.g. staging, production), chosen with --environment. Each "
            "section given under an environment replaces the top-level section of the same "
            "name, whole; nothing is merged inside a section."
        ),
        json_schema_extra={"additionalProperties": False},
    )


# Top-level sections: which merge by concatenation across files and which may appear once.
LIST_SECTIONS = (
    "permissions",
    "roles",
    "redirect_uris",
    "cors_origins",
    "social_connections",
    "organizations",
)
SINGLE_SECTIONS = ("version", "target", "users", "policy", "verify", "drift")
# Fields holding secrets: error messages about them never quote the value.
SECRET_FIELDS = frozenset({"api_key", "client_secret", "password", "secret_key", "database_url"})
REQUIRED_SECTIONS = ("version", "target")
