"""The HTTP client for talking to a local emulator (tests, the emulated dashboard)."""

from __future__ import annotations

import ssl

import httpx


def loopback_client(timeout: float = 10) -> httpx.Client:
    """An httpx client for plain-HTTP calls to a local emulator.

    Its TLS context trusts no CA at all: building httpx's default one (loading the CA
    bundle) costs ~0.1 s, and a client that only talks to http://127.0.0.1 should fail
    rather than trust anything if it is ever pointed at HTTPS.
    """
    return httpx.Client(timeout=timeout, verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
