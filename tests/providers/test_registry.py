"""The provider registry: what each provider declares is what it builds with, and building
refuses what ``validate`` refuses (so the two cannot disagree)."""

from __future__ import annotations

import asyncio

import pytest

from authform.providers.base import ProviderError
from authform.providers.http import RateLimit
from authform.providers.registry import PROVIDERS, Connection, build_provider

CREDENTIALS = {"api_key": "sk_test_registry", "client_id": "cid", "base_url": "https://x.example"}


@pytest.mark.parametrize(
    "name",
    sorted(n for n, d in PROVIDERS.items() if d.rate_limit_buckets),  # KavachOS: none
)
def test_every_declared_bucket_overrides_a_window_the_provider_uses(name: str) -> None:
    declaration = PROVIDERS[name]
    lowered = RateLimit(3, 7.0)
    limits = {bucket: lowered for bucket in declaration.rate_limit_buckets}
    provider = build_provider(Connection(name, **CREDENTIALS, rate_limits=limits))
    try:
        windows = getattr(provider, "_limiters", None) or {"instance": provider._limiter}
        assert set(windows) == set(declaration.rate_limit_buckets)
        assert {window.limit for window in windows.values()} == {lowered}
    finally:
        asyncio.run(provider.aclose())


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_an_undeclared_bucket_is_refused_for_every_provider(name: str) -> None:
    with pytest.raises(ProviderError, match=r"target\.rate_limits: unknown .* bucket 'nope'"):
        build_provider(Connection(name, **CREDENTIALS, rate_limits={"nope": RateLimit(1, 1.0)}))


def test_an_unregistered_provider_names_the_available_ones() -> None:
    available = r"available: clerk, (\w+, )*workos"
    with pytest.raises(ProviderError, match=r"'nothing' is not available .*" + available):
        build_provider(Connection("nothing", **CREDENTIALS))
