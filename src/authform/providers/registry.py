"""Build the provider a manifest's ``target`` names."""

from __future__ import annotations

from collections.abc import Mapping
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


def build_provider(connection: Connection) -> Provider:
    """The provider ``connection`` names, guarded so that every failure of its calls is a
    ``ProviderError`` naming the request (see ``providers.guarded``)."""
    from authform.providers.guarded import GuardedProvider

    return GuardedProvider(_provider_for(connection))


def _provider_for(connection: Connection) -> Provider:
    if connection.provider == "workos":
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
    if connection.provider == "scalekit":
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
    if connection.provider == "clerk":
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
    raise ProviderError(
        f"target.provider '{connection.provider}' is not supported yet "
        "(supported: workos, scalekit, clerk)"
    )
