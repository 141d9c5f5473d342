"""The providers that ship with authform, declared as any plug-in declares its own.

Each constant here is named by an entry point of the ``authform.providers`` group in
authform's own ``pyproject.toml``, so the registry finds the built-ins exactly as it finds a
third-party package's providers. A declaration imports its provider's module only when it is
built, so loading the registry stays cheap.
"""

from __future__ import annotations

from typing import Any

from authform.providers.base import Provider
from authform.providers.registry import Connection, ProviderDeclaration


def _tuning(connection: Connection) -> dict[str, Any]:
    """How hard an API provider may drive its API: the manifest's concurrency and rate
    limits, the same keywords for each."""
    return {"max_concurrency": connection.max_concurrency, "rate_limits": connection.rate_limits}


def _build_workos(connection: Connection) -> Provider:
    from authform.providers.workos import DEFAULT_BASE_URL, WorkOSProvider

    return WorkOSProvider(
        api_key=connection.given("api_key"),
        client_id=connection.client_id,
        base_url=connection.base_url or DEFAULT_BASE_URL,
        **_tuning(connection),
    )


def _build_scalekit(connection: Connection) -> Provider:
    from authform.providers.scalekit import ScalekitProvider

    return ScalekitProvider(
        client_secret=connection.given("api_key"),
        client_id=connection.given("client_id"),
        base_url=connection.given("base_url"),  # no default: every environment has its own
        **_tuning(connection),
    )


def _build_clerk(connection: Connection) -> Provider:
    from authform.providers.clerk import DEFAULT_BASE_URL as CLERK_BASE_URL
    from authform.providers.clerk import ClerkProvider

    return ClerkProvider(
        secret_key=connection.given("api_key"),
        base_url=connection.base_url or CLERK_BASE_URL,
        **_tuning(connection),
    )


def _build_kavachos(connection: Connection) -> Provider:
    from authform.providers.kavachos import KavachOSProvider

    return KavachOSProvider(
        database_url=connection.given("database_url"),
        legacy_passwords=connection.options.get("legacy_passwords", "keep"),
    )


WORKOS = ProviderDeclaration(
    "workos",
    "WorkOS",
    ("general", "user_management_reads", "user_management_writes"),
    _build_workos,
    required=(("api_key", "the WorkOS secret key, sk_..."),),
)
SCALEKIT = ProviderDeclaration(
    "scalekit",
    "Scalekit",
    ("general",),
    _build_scalekit,
    required=(
        ("api_key", "the Scalekit client secret"),
        ("client_id", "the Scalekit client id"),
        ("base_url", "your Scalekit environment URL"),
    ),
)
CLERK = ProviderDeclaration(
    "clerk",
    "Clerk",
    ("instance",),
    _build_clerk,
    api_key_prefix="sk_",
    api_key_hint="the instance's secret key, sk_test_… or sk_live_…",
    required=(("api_key", "the Clerk secret key, sk_..."),),
)
# A database, not an API: no rate limit, no key (see providers/kavachos).
KAVACHOS = ProviderDeclaration(
    "kavachos",
    "KavachOS",
    (),
    _build_kavachos,
    required=(("database_url", "the database KavachOS uses, sqlite:///... or postgresql://..."),),
)
