"""Clients and the emulator's server agree on idle connections: a client lets one go before
the server closes it. Found in CI: a session-long emulator's ``/_emulate/reset`` went out on
a keep-alive connection the server was closing at that moment (both sides kept idle
connections 5 s) and failed with ECONNRESET."""

from __future__ import annotations

import httpx

from authform.emulators.loopback import KEEPALIVE_EXPIRY_S, loopback_client
from authform.emulators.server import RunningEmulator


def test_the_client_lets_an_idle_connection_go_before_the_emulator_closes_it(
    workos_emulator: RunningEmulator,
) -> None:
    server_keeps = workos_emulator._server.config.timeout_keep_alive
    assert server_keeps / 2 >= KEEPALIVE_EXPIRY_S, (KEEPALIVE_EXPIRY_S, server_keeps)
    # Every other client (the providers', the SDKs') keeps httpx's or its own default.
    assert server_keeps >= 10 * httpx.Limits().keepalive_expiry, server_keeps
    with loopback_client() as client:
        pool = client._transport._pool  # type: ignore[attr-defined]
        assert pool._keepalive_expiry == KEEPALIVE_EXPIRY_S
        response = client.get(f"{workos_emulator.url}/_emulate/health")
        assert response.status_code == 200
        assert isinstance(client._transport, httpx.HTTPTransport)
