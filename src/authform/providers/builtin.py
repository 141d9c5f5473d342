"""The providers that ship with authform, declared as any plug-in declares its own.

Each constant here is named by an entry point of the ``authform.providers`` group in
authform's own ``pyproject.toml``, so the registry finds the built-ins exactly as it finds a
third-party package's providers. A declaration imports its provider's module only when it is
built, so loading the registry stays cheap.
"""

from __future__ import annotations

from authform.providers.base import Provider, ProviderError
from authform.providers.registry import Connection, ProviderDeclaration


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


WORKOS = ProviderDeclaration(
    "workos",
    "WorkOS",
    ("general", "user_management_reads", "user_management_writes"),
    _build_workos,
)
SCALEKIT = ProviderDeclaration("scalekit", "Scalekit", ("general",), _build_scalekit)
CLERK = ProviderDeclaration(
    "clerk",
    "Clerk",
    ("instance",),
    _build_clerk,
    api_key_prefix="sk_",
    api_key_hint="the instance's secret key, sk_test_… or sk_live_…",
)
# A database, not an API: no rate limit, no key (see providers/kavachos).
KAVACHOS = ProviderDeclaration("kavachos", "KavachOS", (), _build_kavachos)
