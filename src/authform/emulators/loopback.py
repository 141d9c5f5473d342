"""The HTTP client for talking to a local emulator (tests, the emulated dashboard)."""

from __future__ import annotations

import ssl

import httpx

# How long the client keeps an idle connection for its next request: well under the 5 s
# after which uvicorn closes an idle one (``timeout_keep_alive``). Kept as long as the server
# keeps it (httpx's default is also 5 s), a request can go out on a socket the server is
# closing and fail with ECONNRESET: seen in CI on a test fixture's ``/_emulate/reset``.
KEEPALIVE_EXPIRY_S = 2.0


def loopback_client(timeout: float = 10) -> httpx.Client:
    """An httpx client for plain-HTTP calls to a local emulator.

    Its TLS context trusts no CA at all: building httpx's default one (loading the CA
    bundle) costs ~0.1 s, and a client that only talks to http://127.0.0.1 should fail
    rather than trust anything if it is ever pointed at HTTPS.
    """
    return httpx.Client(
        timeout=timeout,
        verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT),
        limits=httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY_S),
    )
