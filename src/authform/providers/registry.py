"""The providers this installation can build, what each declares, and building one.

A declaration is what the rest of authform may know about a provider without connecting:
its name, the rate-limit buckets ``target.rate_limits`` may override, and the prefix its
secret key must have. ``validate`` checks a manifest against the same declarations ``plan``
builds from, so a manifest that validates is not refused later, before the network, with
no position to point at. A provider is added by declaring it here (its module is imported
only when it is built).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from authform.providers.base import Provider, ProviderError
from authform.providers.http import RateLimit


@dataclass(frozen=True)
class Connection:
    """Resolved credentials and endpoint for one provider account (secrets stay in memory)."""

    provider: str
    api_key: str | None
    client_id: str | None
    base_url: str | None
    max_concurrency: int = 16
    rate_limits: Mapping[str, RateLimit] = field(default_factory=dict)
    # Database targets (KavachOS): where the database is, and provider-specific choices.
    database_url: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderDeclaration:
    """One provider, as known before it is built.

    ``rate_limit_buckets`` are the names of the windows its client draws from (each with the
    provider's documented default); ``api_key_prefix`` is what every valid secret key starts
    with, if the provider has such a rule, and ``api_key_hint`` says what the key is.
    """

    name: str
    label: str
    rate_limit_buckets: tuple[str, ...]
    build: Callable[[Connection], Provider]
    api_key_prefix: str | None = None
    api_key_hint: str = ""

    def unknown_buckets(self, names: object) -> list[str]:
        """The names in ``names`` this provider has no rate-limit bucket for, sorted."""
        if not isinstance(names, Mapping):
            return []
        return sorted(str(n) for n in names if n not in self.rate_limit_buckets)


def _build_workos(connection: Connection) -> Provider:
    from authform.providers.workos import DEFAULT_BASE_URL, WorkOSProvider

    if not connection.api_key:
        raise ProviderError("target.api_key is required for WorkOS")
    return WorkOSProvider(
        api_key=connection.api_key,
        client_id=connection.client_id,
        base_url=connection.base_url or DEFAULT_BASE_URL,
        max_concurrency=connection.max_concurrency,
        rate_limits=connection.rate_limits,
    )


def _build_scalekit(connection: Connection) -> Provider:
    from authform.providers.scalekit import ScalekitProvider

    # Scalekit has no default host: every environment has its own URL.
    missing = [
        name
        for name, value in (
            ("api_key (the client secret)", connection.api_key),
            ("client_id", connection.client_id),
            ("base_url (the environment URL)", connection.base_url),
        )
        if not value
    ]
    if missing:
        raise ProviderError("Scalekit needs " + ", ".join(f"target.{m}" for m in missing))
    assert connection.api_key and connection.client_id and connection.base_url
    return ScalekitProvider(
        client_secret=connection.api_key,
        client_id=connection.client_id,
        base_url=connection.base_url,
        max_concurrency=connection.max_concurrency,
        rate_limits=connection.rate_limits,
    )


def _build_clerk(connection: Connection) -> Provider:
    from authform.providers.clerk import DEFAULT_BASE_URL as CLERK_BASE_URL
    from authform.providers.clerk import ClerkProvider

    if not connection.api_key:
        raise ProviderError("target.api_key (the instance's secret key) is required for Clerk")
    return ClerkProvider(
        secret_key=connection.api_key,
        base_url=connection.base_url or CLERK_BASE_URL,
        max_concurrency=connection.max_concurrency,
        rate_limits=connection.rate_limits,
    )


def _build_kavachos(connection: Connection) -> Provider:
    from authform.providers.kavachos import KavachOSProvider

    if not connection.database_url:
        raise ProviderError("target.database_url is required for KavachOS")
    return KavachOSProvider(
        database_url=connection.database_url,
        legacy_passwords=connection.options.get("legacy_passwords", "keep"),
    )


PROVIDERS: Mapping[str, ProviderDeclaration] = {
    declaration.name: declaration
    for declaration in (
        ProviderDeclaration(
            "workos",
            "WorkOS",
            ("general", "user_management_reads", "user_management_writes"),
            _build_workos,
        ),
        ProviderDeclaration("scalekit", "Scalekit", ("general",), _build_scalekit),
        ProviderDeclaration(
            "clerk",
            "Clerk",
            ("instance",),
            _build_clerk,
            api_key_prefix="sk_",
            api_key_hint="the instance's secret key, sk_test_… or sk_live_…",
        ),
        # A database, not an API: no rate limit, no key (see providers/kavachos).
        ProviderDeclaration("kavachos", "KavachOS", (), _build_kavachos),
    )
}


def provider_declaration(name: str) -> ProviderDeclaration:
    """The declaration of provider ``name``; ``ProviderError`` naming the available ones."""
    declaration = PROVIDERS.get(name)
    if declaration is None:
        raise ProviderError(f"target.provider: {unavailable_provider_message(name)}")
    return declaration


def unavailable_provider_message(name: str) -> str:
    return (
        f"provider {name!r} is not available in this installation "
        f"(available: {', '.join(PROVIDERS)})"
    )


def unknown_buckets_message(declaration: ProviderDeclaration, unknown: list[str]) -> str:
    noun = "bucket" if len(unknown) == 1 else "buckets"
    return (
        f"unknown {declaration.label} rate-limit {noun} {', '.join(map(repr, unknown))} "
        f"(known: {', '.join(declaration.rate_limit_buckets)})"
    )


def build_provider(connection: Connection) -> Provider:
    """The provider ``connection`` names, after the checks ``validate`` also makes, guarded
    so that every failure of its calls is a ``ProviderError`` naming the request (see
    ``providers.guarded``)."""
    from authform.providers.guarded import GuardedProvider

    declaration = provider_declaration(connection.provider)
    unknown = declaration.unknown_buckets(connection.rate_limits)
    if unknown:
        raise ProviderError(f"target.rate_limits: {unknown_buckets_message(declaration, unknown)}")
    return GuardedProvider(declaration.build(connection))
