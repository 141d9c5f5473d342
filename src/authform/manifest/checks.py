"""Checks that span items, files or sections: duplicates, references, credentials.

Pydantic validates one value at a time and stops at the first broken field of a model, so
these run separately on the merged data, item by item, skipping values the models will reject
anyway. That way one run reports both a typo in a role's name and the role's undefined
permission, and a broken item never causes a second, misleading error elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from authform.manifest.diagnostics import (
    DataPath,
    Diagnostic,
    Location,
    did_you_mean,
    format_path,
    list_names,
    show,
)
from authform.manifest.models import (
    BUCKET_PATTERN,
    METADATA_KEY_MAX,
    METADATA_VALUE_MAX,
    PROVIDERS,
    check_organization_key,
    check_permission_slug,
    check_redirect_uri,
    check_role_slug,
    check_social_provider,
    normalize_cors_origin,
    normalize_domain,
)
from authform.manifest.positions import SourceMap
from authform.providers.registry import PROVIDERS as REGISTERED_PROVIDERS
from authform.providers.registry import unavailable_provider_message, unknown_buckets_message

Normalizer = Callable[[str], str]

# Scalekit's naming rules (API reference): role names are letters, digits and underscores;
# permission names add colons; both 1-64 characters. Organization metadata: at most 10 pairs,
# keys of 3-25 characters, values of 1-256. Checked here so a manifest that validates also
# applies, instead of failing half-way through with a 400.
SCALEKIT_ROLE_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
SCALEKIT_PERMISSION_NAME = re.compile(r"[A-Za-z0-9_:]{1,64}")
SCALEKIT_METADATA_PAIRS = 10
SCALEKIT_METADATA_KEY = (3, 25)
SCALEKIT_METADATA_VALUE = (1, 256)


class _Reporter:
    def __init__(self, source: SourceMap, fallback: Location) -> None:
        self.source = source
        self.fallback = fallback
        self.diagnostics: list[Diagnostic] = []

    def where(self, path: DataPath) -> Location:
        return self.source.nearest(path, self.fallback)

    def error(self, path: DataPath, message: str, *, at_key: bool = False) -> None:
        """``at_key`` points at a mapping entry's key instead of its value."""
        shown = format_path(self.source.display(path))
        text = f"{shown}: {message}" if shown else message
        where = (self.source.key(path) if at_key else None) or self.where(path)
        self.diagnostics.append(Diagnostic.at(where, text))


def check_manifest(
    data: dict[str, Any],
    source: SourceMap,
    *,
    fallback: Location,
    check_references: bool = True,
    emulate: bool = False,
) -> list[Diagnostic]:
    """All cross-item problems. ``check_references`` is off when a file failed to parse,
    since the definitions a reference needs may be in that file."""
    report = _Reporter(source, fallback)
    permissions = _unique(report, data, "permissions", "slug", check_permission_slug, "permission")
    roles = _unique(report, data, "roles", "slug", check_role_slug, "role")
    _unique(report, data, "organizations", "key", check_organization_key, "organization")
    _unique(report, data, "redirect_uris", None, check_redirect_uri, "redirect URI")
    _unique(report, data, "cors_origins", None, normalize_cors_origin, "CORS origin")
    _unique(
        report, data, "social_connections", "provider", check_social_provider, "social connection"
    )
    _unique_domains(report, data)
    _role_permissions(report, data, permissions if check_references else None)
    _role_map(report, data, roles if check_references else None)
    target = data.get("target")
    if isinstance(target, dict) and target.get("provider") in PROVIDERS:
        _kavachos_target_keys(report, target, target.get("provider"))
    if not emulate:
        _target_credentials(report, data)
    _target_declared(report, data, emulate=emulate)
    if _provider(data) == "scalekit":
        _scalekit_rules(report, data)
    if _provider(data) == "clerk":
        _clerk_rules(report, data)
    return report.diagnostics


def _valid(normalize: Normalizer, value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return normalize(value)
    except ValueError:
        return None


def _items(data: dict[str, Any], section: str) -> Iterator[tuple[int, Any]]:
    items = data.get(section)
    if isinstance(items, list):
        yield from enumerate(items)


def _unique(
    report: _Reporter,
    data: dict[str, Any],
    section: str,
    field: str | None,
    normalize: Normalizer,
    noun: str,
) -> dict[str, DataPath] | None:
    """Report repeated keys in a list section; return the valid keys defined (``None`` when
    the section is absent, i.e. unmanaged)."""
    if section not in data:
        return None
    first: dict[str, DataPath] = {}
    for index, item in _items(data, section):
        if field is None:
            path: DataPath = (section, index)
            raw = item
        else:
            if not isinstance(item, dict):
                continue
            path = (section, index, field)
            raw = item.get(field)
        key = _valid(normalize, raw)
        if key is None:
            continue
        if key in first:
            report.error(
                path, f"duplicate {noun} {show(key)} (first defined at {report.where(first[key])})"
            )
        else:
            first[key] = path
    return first


def _unique_domains(report: _Reporter, data: dict[str, Any]) -> None:
    """A domain identifies one organization (SSO routing, auto-join): it may appear once."""
    first: dict[str, tuple[DataPath, str]] = {}
    for org_index, org in _items(data, "organizations"):
        if not isinstance(org, dict) or not isinstance(org.get("domains"), list):
            continue
        key = org.get("key")
        org_key = key if isinstance(key, str) else f"organizations[{org_index}]"
        for index, entry in enumerate(org["domains"]):
            if not isinstance(entry, dict):
                continue
            path: DataPath = ("organizations", org_index, "domains", index, "domain")
            domain = _valid(normalize_domain, entry.get("domain"))
            if domain is None:
                continue
            if domain not in first:
                first[domain] = (path, org_key)
                continue
            first_path, owner = first[domain]
            first_at = report.where(first_path)
            if first_path[1] == org_index:
                message = f"duplicate domain {show(domain)} (first defined at {first_at})"
            else:
                message = (
                    f"domain {show(domain)} already belongs to organization {show(owner)} "
                    f"(at {first_at})"
                )
            report.error(path, message)


def _role_permissions(
    report: _Reporter, data: dict[str, Any], defined: dict[str, DataPath] | None
) -> None:
    for role_index, role in _items(data, "roles"):
        if not isinstance(role, dict) or not isinstance(role.get("permissions"), list):
            continue
        seen: dict[str, DataPath] = {}
        for index, raw in enumerate(role["permissions"]):
            path: DataPath = ("roles", role_index, "permissions", index)
            slug = _valid(check_permission_slug, raw)
            if slug is None:
                continue
            if slug in seen:
                first_at = report.where(seen[slug])
                report.error(path, f"permission {show(slug)} is listed twice (first at {first_at})")
                continue
            seen[slug] = path
            if defined is not None and slug not in defined:
                report.error(path, _undefined("permission", slug, defined))


def _role_map(report: _Reporter, data: dict[str, Any], defined: dict[str, DataPath] | None) -> None:
    users = data.get("users")
    if (
        defined is None
        or not isinstance(users, dict)
        or not isinstance(users.get("role_map"), dict)
    ):
        return
    for source_role, raw in users["role_map"].items():
        slug = _valid(check_role_slug, raw)
        if slug is not None and slug not in defined:
            report.error(("users", "role_map", source_role), _undefined("role", slug, defined))


def _undefined(noun: str, name: str, defined: dict[str, DataPath]) -> str:
    if not defined:
        return f"unknown {noun} {show(name)} (no {noun}s are defined)"
    hint = did_you_mean(name, defined)
    return f"unknown {noun} {show(name)} (defined: {list_names(defined)}){hint}"


_KAVACHOS_ONLY = ("database_url", "legacy_passwords")
_NOT_FOR_KAVACHOS = ("api_key", "client_id", "base_url", "rate_limits")


def _kavachos_target_keys(report: _Reporter, target: dict[str, Any], provider: Any) -> None:
    """KavachOS is a database, the others are APIs: a key of the one kind given to the
    other would be silently ignored, so it is an error at its place."""
    if provider == "kavachos":
        for key in _NOT_FOR_KAVACHOS:
            if key in target:
                report.error(
                    ("target", key),
                    f"{key} is not used by provider 'kavachos', which writes its database "
                    "directly: set target.database_url instead",
                    at_key=True,
                )
        return
    for key in _KAVACHOS_ONLY:
        if key in target:
            report.error(
                ("target", key),
                f"{key} is only used by provider 'kavachos', not {show(provider)}",
                at_key=True,
            )


def _target_credentials(report: _Reporter, data: dict[str, Any]) -> None:
    target = data.get("target")
    if not isinstance(target, dict):
        return
    provider = target.get("provider")
    declaration = REGISTERED_PROVIDERS.get(provider) if isinstance(provider, str) else None
    # What the provider's declaration requires (the emulator supplies its own).
    for key, what in declaration.required if declaration is not None else ():
        if target.get(key) is None:
            report.error(
                ("target",),
                f"missing required key {show(key)} for provider {show(provider)} ({what})",
            )


def _target_declared(report: _Reporter, data: dict[str, Any], *, emulate: bool) -> None:
    """What ``plan`` checks against the provider registry before connecting, checked here
    with positions: the provider is installed, ``rate_limits`` names only buckets it has,
    and the secret key has the provider's prefix (not with ``--emulate``, which supplies its
    own key). The registry is the one source, so a provider a plug-in registers is accepted
    here with no edit, and its declaration's rules hold for it as for the built-ins."""
    provider = _provider(data)
    if provider is None:
        return  # absent or not a string: the model reports it
    declaration = REGISTERED_PROVIDERS.get(provider)
    if declaration is None:
        report.error(("target", "provider"), _unknown_provider_message(provider))
        return
    target = data["target"]
    rate_limits = target.get("rate_limits")
    for bucket in declaration.unknown_buckets(rate_limits):
        if not re.fullmatch(BUCKET_PATTERN, bucket):
            continue  # not a bucket name at all: the model says so, once
        report.error(
            ("target", "rate_limits", bucket),
            unknown_buckets_message(declaration, [bucket]),
            at_key=True,
        )
    api_key = target.get("api_key")
    prefix = declaration.api_key_prefix
    if (
        not emulate
        and prefix
        and isinstance(api_key, str)
        and not api_key.strip().startswith(prefix)
    ):
        report.error(
            ("target", "api_key"),
            f"must be {declaration.api_key_hint} (starts with {prefix!r}; the value is not shown)",
        )


def _unknown_provider_message(name: str) -> str:
    """Why ``name`` cannot be the target's provider. A provider that ships with authform, or
    a plug-in that failed to load, is "not available" (and why); any other name is a
    mistake, answered with the installed providers and the nearest one."""
    if name in PROVIDERS or name in REGISTERED_PROVIDERS.broken or not REGISTERED_PROVIDERS:
        return unavailable_provider_message(name)
    installed = list(REGISTERED_PROVIDERS)
    return (
        f"invalid provider {show(name)} (expected one of: {list_names(installed)})"
        f"{did_you_mean(name, installed)}"
    )


def _provider(data: dict[str, Any]) -> str | None:
    target = data.get("target")
    provider = target.get("provider") if isinstance(target, dict) else None
    return provider if isinstance(provider, str) else None


def _scalekit_rules(report: _Reporter, data: dict[str, Any]) -> None:
    """Scalekit's stricter names and metadata limits, at the offending value.

    Only values the general rules accept are checked (a value already reported is not
    reported twice), and references are checked only where their definitions are not in the
    manifest (the definition carries the error otherwise).
    """
    for index, role in _items(data, "roles"):
        if isinstance(role, dict):
            _scalekit_name(report, ("roles", index, "slug"), role.get("slug"), "role")
            if "permissions" not in data and isinstance(role.get("permissions"), list):
                for ref, raw in enumerate(role["permissions"]):
                    path: DataPath = ("roles", index, "permissions", ref)
                    _scalekit_name(report, path, raw, "permission")
    for index, permission in _items(data, "permissions"):
        if isinstance(permission, dict):
            path = ("permissions", index, "slug")
            _scalekit_name(report, path, permission.get("slug"), "permission")
    users = data.get("users")
    if "roles" not in data and isinstance(users, dict) and isinstance(users.get("role_map"), dict):
        for source_role, raw in users["role_map"].items():
            _scalekit_name(report, ("users", "role_map", source_role), raw, "role")
    for index, organization in _items(data, "organizations"):
        if isinstance(organization, dict) and isinstance(organization.get("metadata"), dict):
            _scalekit_metadata(report, ("organizations", index, "metadata"), organization)


def _scalekit_name(report: _Reporter, path: DataPath, raw: Any, noun: str) -> None:
    general = check_role_slug if noun == "role" else check_permission_slug
    name = _valid(general, raw)
    if name is None:
        return
    pattern, allowed = (
        (SCALEKIT_ROLE_NAME, "letters, digits and '_'")
        if noun == "role"
        else (SCALEKIT_PERMISSION_NAME, "letters, digits, '_' and ':'")
    )
    if pattern.fullmatch(name) is None:
        report.error(
            path,
            f"{noun} slug {show(name)} is not a valid Scalekit {noun} name: Scalekit allows "
            f"only {allowed}, 1-64 characters",
        )


def _scalekit_metadata(report: _Reporter, path: DataPath, organization: dict[str, Any]) -> None:
    metadata: dict[str, Any] = organization["metadata"]
    if len(metadata) > SCALEKIT_METADATA_PAIRS:
        report.error(
            path,
            f"{len(metadata)} metadata pairs, but Scalekit allows at most "
            f"{SCALEKIT_METADATA_PAIRS} per organization",
        )
    for key, value in metadata.items():
        # Lengths the general rules already refuse are reported there, not twice.
        _scalekit_length(report, (*path, key), "key", key, METADATA_KEY_MAX, SCALEKIT_METADATA_KEY)
        _scalekit_length(
            report, (*path, key), "value", value, METADATA_VALUE_MAX, SCALEKIT_METADATA_VALUE
        )


def _scalekit_length(
    report: _Reporter,
    path: DataPath,
    part: str,
    text: Any,
    general_max: int,
    bounds: tuple[int, int],
) -> None:
    """A metadata key's or value's length against Scalekit's bounds, unless the general
    rules (at most ``general_max``) already refuse it. A key's error points at the key."""
    if not isinstance(text, str) or len(text) > general_max:
        return
    low, high = bounds
    if not low <= len(text) <= high:
        report.error(
            path,
            f"metadata {part} {show(text)} has {len(text)} characters, but Scalekit requires "
            f"{low}-{high}",
            at_key=part == "key",
        )


# Clerk's key rules (Backend API, CreateOrganizationPermission / CreateOrganizationRole): a
# permission key is "org:<feature>:<action>" of lowercase letters, digits and underscores, and
# "org:sys_" is reserved for Clerk's system permissions; a role key is "org:" followed by the
# same characters. A Clerk target keys organizations by slug: lowercase letters, digits and
# single dashes. Checked here so a manifest that validates also applies.
CLERK_PERMISSION_KEY = re.compile(r"org:[a-z0-9_]+:[a-z0-9_]+")
CLERK_ROLE_KEY = re.compile(r"org:[a-z0-9_]+")
CLERK_SYSTEM_PREFIX = "org:sys_"
CLERK_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _clerk_rules(report: _Reporter, data: dict[str, Any]) -> None:
    """Clerk's key formats, at the offending value.

    As for Scalekit: values the general rules refuse are not reported twice, and references
    are checked only where their definitions are not in the manifest.
    """
    for index, permission in _items(data, "permissions"):
        if isinstance(permission, dict):
            path: DataPath = ("permissions", index, "slug")
            _clerk_permission_key(report, path, permission.get("slug"))
    for index, role in _items(data, "roles"):
        if not isinstance(role, dict):
            continue
        _clerk_role_key(report, ("roles", index, "slug"), role.get("slug"))
        if "permissions" not in data and isinstance(role.get("permissions"), list):
            for ref, raw in enumerate(role["permissions"]):
                _clerk_permission_key(report, ("roles", index, "permissions", ref), raw)
    users = data.get("users")
    if "roles" not in data and isinstance(users, dict) and isinstance(users.get("role_map"), dict):
        for source_role, raw in users["role_map"].items():
            _clerk_role_key(report, ("users", "role_map", source_role), raw)
    for index, organization in _items(data, "organizations"):
        if not isinstance(organization, dict):
            continue
        key = _valid(check_organization_key, organization.get("key"))
        if key is not None and CLERK_SLUG.fullmatch(key) is None:
            report.error(
                ("organizations", index, "key"),
                f"organization key {show(key)} is not a valid Clerk slug: a Clerk target keys "
                "organizations by their slug, which allows only lowercase letters, digits and "
                "single dashes between them (e.g. 'acme-inc')",
            )


def _clerk_permission_key(report: _Reporter, path: DataPath, raw: Any) -> None:
    key = _valid(check_permission_slug, raw)
    if key is None:
        return
    if key.startswith(CLERK_SYSTEM_PREFIX):
        report.error(
            path,
            f"permission {show(key)} uses the prefix 'org:sys_', which Clerk reserves for its "
            "own system permissions; authform leaves those as they are, so pick another key",
        )
    elif CLERK_PERMISSION_KEY.fullmatch(key) is None:
        report.error(
            path,
            f"permission {show(key)} is not a valid Clerk permission key: Clerk requires "
            "'org:<feature>:<action>', each part lowercase letters, digits and '_' "
            "(e.g. 'org:billing:manage')",
        )


def _clerk_role_key(report: _Reporter, path: DataPath, raw: Any) -> None:
    key = _valid(check_role_slug, raw)
    if key is not None and CLERK_ROLE_KEY.fullmatch(key) is None:
        report.error(
            path,
            f"role {show(key)} is not a valid Clerk role key: Clerk requires 'org:' followed "
            "by lowercase letters, digits and '_' (e.g. 'org:admin')",
        )
