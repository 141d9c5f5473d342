"""The HTTP client's lanes: at most ``max_concurrency`` requests in flight, each on a
connection of its own lane, the warmest lane first, and lanes made only when needed.

The server is a real HTTP/1.1 keep-alive server on 127.0.0.1 that counts the connections it
accepts and the requests it holds at once (each answer waits a little, so callers overlap).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from authform.providers.http import ApiClient, RateLimit, WindowLimiter


@dataclass
class Counts:
    connections: int = 0
    in_flight: int = 0
    most_in_flight: int = 0
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a lane keeps its connection
    counts: Counts
    delay = 0.02

    def setup(self) -> None:
        super().setup()
        with self.counts.lock:
            self.counts.connections += 1

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        counts = self.counts
        with counts.lock:
            counts.requests += 1
            counts.in_flight += 1
            counts.most_in_flight = max(counts.most_in_flight, counts.in_flight)
        time.sleep(self.delay)
        with counts.lock:
            counts.in_flight -= 1
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture
def server() -> Iterator[tuple[str, Counts]]:
    counts = Counts()
    handler = type("Handler", (_Handler,), {"counts": counts})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", counts
    finally:
        httpd.shutdown()
        httpd.server_close()


def client(url: str, lanes: int) -> ApiClient:
    open_limit = [WindowLimiter(RateLimit(1_000_000, 1.0))]

    async def headers() -> dict[str, str]:
        return {}

    return ApiClient(
        url,
        provider_name="Test",
        headers=headers,
        describe_error=lambda response: (None, response.text),
        limiters_for=lambda method, path: open_limit,
        max_concurrency=lanes,
        timeout=10.0,
    )


def send(url: str, lanes: int, requests: int, *, at_once: bool) -> None:
    """``requests`` GETs through one client of ``lanes`` lanes: all started together, or
    each after the one before; closed at the end, bounded in time."""

    async def run() -> None:
        api = client(url, lanes=lanes)
        try:
            if at_once:
                calls = (api.get_json("/things") for _ in range(requests))
                await asyncio.wait_for(asyncio.gather(*calls), timeout=30)
            else:
                for _ in range(requests):
                    await asyncio.wait_for(api.get_json("/things"), timeout=10)
        finally:
            await api.aclose()

    asyncio.run(run())


def recorded(monkeypatch, name: str, record) -> list[object]:
    """Calls of ``httpx.<name>`` from now on, each as ``record(kwargs)``."""
    calls: list[object] = []
    real = getattr(httpx, name)

    def wrapper(*args, **kwargs):
        calls.append(record(kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(httpx, name, wrapper)
    return calls


def test_never_more_requests_in_flight_than_lanes_and_one_connection_per_lane(server, monkeypatch):
    """Each lane is a pool of one connection: httpcore checks every connection of a pool on
    each request, so one pool of 16 cost twice the CPU per write (bench/http_client_cpu.py)."""
    url, counts = server
    pools = recorded(monkeypatch, "AsyncClient", lambda kwargs: kwargs["limits"].max_connections)
    send(url, lanes=4, requests=40, at_once=True)
    assert counts.requests == 40
    assert counts.most_in_flight == 4
    assert counts.connections == 4  # each lane connected once and kept its connection
    assert pools == [1, 1, 1, 1]


def test_requests_one_at_a_time_use_one_warm_connection_and_make_no_other_lane(server, monkeypatch):
    url, counts = server
    made = recorded(monkeypatch, "AsyncClient", lambda kwargs: None)
    send(url, lanes=16, requests=10, at_once=False)
    assert counts.requests == 10
    assert counts.connections == 1  # the warmest lane serves next (last in, first out)
    assert len(made) == 1  # the 15 lanes a sequential caller never needs are never made


def test_every_lane_shares_one_tls_context(server, monkeypatch):
    url, counts = server
    contexts = recorded(monkeypatch, "create_ssl_context", lambda kwargs: None)
    send(url, lanes=8, requests=24, at_once=True)
    assert counts.connections == 8
    assert len(contexts) == 1
