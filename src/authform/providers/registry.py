"""Build the provider a manifest's ``target`` names."""

from __future__ import annotations

from dataclasses import dataclass

from authform.providers.base import Provider, ProviderError


@dataclass(frozen=True)
class Connection:
    """Resolved credentials and endpoint for one provider account (secrets stay in memory)."""

    provider: str
    api_key: str | None
    client_id: str | None
    base_url: str | None


def build_provider(connection: Connection) -> Provider:
    if connection.provider == "workos":
        from authform.providers.workos import DEFAULT_BASE_URL, WorkOSProvider

        if not connection.api_key:
            raise ProviderError("target.api_key is required for WorkOS")
        return WorkOSProvider(
            api_key=connection.api_key,
            client_id=connection.client_id,
            base_url=connection.base_url or DEFAULT_BASE_URL,
        )
    raise ProviderError(
        f"target.provider '{connection.provider}' is not supported yet (supported: workos)"
    )
