"""A provider's documented rate limit, as its declaration states it. Apart from the HTTP
client that honours it (``providers.http``), so that reading a manifest, or planning for a
target that is not an HTTP API (KavachOS), does not import httpx (~0.1 s of every command)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    """At most ``requests`` started in any ``per_seconds`` window (a documented limit)."""

    requests: int
    per_seconds: float
