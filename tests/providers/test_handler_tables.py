"""A provider is a table of handlers per kind (``providers.api_provider``): each REST
provider's table says exactly what its declared ``capabilities`` say, and a write the table
has no handler for is refused before any request, with the same message on every provider."""

from __future__ import annotations

import asyncio

import pytest

from authform.emulators import RunningEmulator
from authform.providers.api_provider import ApiProvider, with_provider_id
from authform.providers.base import ProviderError
from authform.providers.clerk import ClerkProvider
from authform.providers.scalekit import ScalekitProvider
from authform.providers.workos import WorkOSProvider
from authform.resources import Kind, Resource


def build(name: str, url: str = "http://127.0.0.1:9") -> ApiProvider:
    if name == "workos":
        return WorkOSProvider(api_key="sk_test_x", client_id="client_x", base_url=url)
    if name == "scalekit":
        return ScalekitProvider(client_secret="secret", client_id="skc_x", base_url=url)
    return ClerkProvider(secret_key="sk_test_x", base_url=url)


@pytest.mark.parametrize("name", ["workos", "scalekit", "clerk"])
def test_the_handler_table_matches_the_declared_capabilities(name: str) -> None:
    provider = build(name)
    try:
        for kind in Kind:
            support = provider.capabilities.supports(kind)
            handlers = provider.handlers.get(kind)
            if support is None or support.manual:
                assert handlers is None, f"{name}: {kind.value} is not written through the API"
                continue
            assert handlers is not None, f"{name}: {kind.value} has no handlers"
            for verb in ("create", "update", "delete"):
                declared = getattr(support, verb)
                present = getattr(handlers, verb) is not None
                assert present == declared, f"{name}: {verb} {kind.value}: {present=}"
    finally:
        asyncio.run(provider.aclose())


def test_a_write_without_a_handler_is_refused_before_any_request(
    workos_emulator: RunningEmulator,
) -> None:
    """WorkOS cannot delete a role or a CORS origin, nor update a redirect URI; asked
    anyway (a caller that skipped the plan's manual steps), nothing reaches the API."""
    provider = build("workos", workos_emulator.url)
    role = Resource(Kind.ROLE, "admin", {"slug": "admin"}, provider_id="role_1")
    origin = Resource(Kind.CORS_ORIGIN, "https://a.example", {"origin": "https://a.example"})
    uri = Resource(Kind.REDIRECT_URI, "https://a.example/cb", {"uri": "https://a.example/cb"})

    async def attempts() -> list[str]:
        refusals = []
        for call in (
            provider.delete(role),
            provider.delete(origin),
            provider.update(uri, uri),
            provider.create(Resource(Kind.SOCIAL_CONNECTION, "google", {})),
        ):
            with pytest.raises(ProviderError) as caught:
                await call
            refusals.append(str(caught.value))
        await provider.aclose()
        return refusals

    assert asyncio.run(attempts()) == [
        "WorkOS: cannot delete role through the API",
        "WorkOS: cannot delete cors_origin through the API",
        "WorkOS: cannot update redirect_uri through the API",
        "WorkOS: cannot create social_connection through the API",
    ]
    assert workos_emulator.writes() == []


def test_a_live_resource_without_an_id_is_refused_naming_the_provider() -> None:
    provider = build("clerk")
    unread = Resource(Kind.USER, "user_1", {"email": "a@example.com"})
    with pytest.raises(ProviderError, match=r"^Clerk: user\.user_1 has no Clerk id$"):
        asyncio.run(provider.delete(unread))
    asyncio.run(provider.aclose())


def test_a_written_resource_keeps_its_fields_but_never_its_write_once_data() -> None:
    desired = Resource(
        Kind.USER,
        "user_1",
        {"email": "a@example.com"},
        create_only={"password_hash": "$2b$10$abcdefghijklmnopqrstuv"},
    )
    live = with_provider_id(desired, "id_1", {"unkeyed": False})
    assert (live.kind, live.key, live.spec) == (desired.kind, desired.key, desired.spec)
    assert live.provider_id == "id_1" and live.observed == {"unkeyed": False}
    assert live.create_only == {}
