"""Serving an emulator: in a background thread for tests and ``--emulate`` runs, or blocking
for ``authform emulator``.

The background server binds its own socket before uvicorn starts, so port 0 yields a free
ephemeral port we can report, and it listens on 127.0.0.1 only: an emulator accepts a
well-known test key and must never be reachable from the network.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from .base import EmulatorApp, LimitTable
from .clerk import ClerkRateLimits, create_clerk_app
from .dashboard import DashboardStep, EmulatedDashboard
from .loopback import loopback_client
from .scalekit import ScalekitRateLimits, create_scalekit_app
from .workos import RateLimits, create_workos_app

LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS = 15.0
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# provider -> (its rate-limit table, its app from db path, API key, client id, limits, seed)
EMULATORS: dict[str, tuple[type[LimitTable], Callable[..., EmulatorApp]]] = {
    "workos": (RateLimits, create_workos_app),
    "clerk": (
        ClerkRateLimits,
        lambda db, key, client, limits, seed: create_clerk_app(db, key, limits, seed=seed),
    ),
    # The API key is the environment's client secret, traded for tokens at /oauth/token.
    "scalekit": (ScalekitRateLimits, create_scalekit_app),
}


def create_app(
    provider: str = "workos",
    db_path: str | Path = ":memory:",
    api_key: str = "sk_test_emulator",
    client_id: str = "client_emulator",
    rate_limits: LimitTable | None = None,
    seed: Path | str | Mapping[str, Any] | None = None,
) -> EmulatorApp:
    """The ASGI app of ``provider``'s emulator. ``rate_limits`` is that provider's table
    (``RateLimits``, ``ClerkRateLimits``); any provider's disabled table turns limits off."""
    if provider not in EMULATORS:
        available = ", ".join(EMULATORS)
        raise ValueError(f"no emulator for provider {provider!r}; available: {available}")
    table, build = EMULATORS[provider]
    if rate_limits is not None and not isinstance(rate_limits, table):
        rate_limits = None if rate_limits.enabled else table(enabled=False)
    return build(db_path, api_key, client_id, rate_limits, seed)


class _PromptServer(uvicorn.Server):
    """uvicorn's server, checking its exit flag every 10 ms instead of 100 ms: test suites
    start and stop many emulators, and each stop would otherwise wait out a tick."""

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            await asyncio.sleep(0.01)


KEEP_ALIVE_S = 75  # seconds an idle connection is kept open (see ``_uvicorn_config``)


def _uvicorn_config(app: EmulatorApp, host: str, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,  # paths only, but the CLI's own logging is enough
        http="h11",  # fault hooks drop connections through h11's transport
        loop="asyncio",
        lifespan="off",
        timeout_graceful_shutdown=2,
        # An idle keep-alive connection stays open longer than any client keeps one (httpx:
        # 5 s, the loopback client 2 s), as a real tenant's load balancer does (60 s or more):
        # with uvicorn's default 5 s, a request could leave on a connection the server was
        # closing at that moment and fail with "Connection reset by peer".
        timeout_keep_alive=KEEP_ALIVE_S,
    )


@dataclass
class RunningEmulator:
    """An emulator serving on loopback in a daemon thread; ``stop()`` shuts it down."""

    url: str
    api_key: str
    client_id: str
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _app: EmulatorApp = field(repr=False)
    _client: httpx.Client | None = field(default=None, repr=False)
    _stopped: bool = field(default=False, repr=False)

    def stop(self) -> None:
        """Stop serving and close the database (so a file database can be reopened).
        Stopping twice is harmless."""
        if self._stopped:
            return
        self._stopped = True
        if self._client is not None:
            self._client.close()
            self._client = None
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._app.close()

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def app(self) -> EmulatorApp:
        return self._app

    def _admin(self, method: str, path: str, json: Any = None) -> httpx.Response:
        if self._client is None:
            self._client = loopback_client()
        response = self._client.request(
            method,
            f"{self.url}{path}",
            json=json,
            headers={"Authorization": f"Bearer {self.api_key}"},
        )
        response.raise_for_status()
        return response

    def requests_log(self) -> list[dict[str, Any]]:
        """Every request the emulator answered (secrets redacted), oldest first."""
        data: list[dict[str, Any]] = self._admin("GET", "/_emulate/requests").json()["data"]
        return data

    def writes(self) -> list[dict[str, Any]]:
        """The logged API writes: what a dry run must never produce."""
        return [
            entry
            for entry in self.requests_log()
            if entry["method"] in WRITE_METHODS and not entry["path"].startswith("/_emulate")
        ]

    def clear_log(self) -> None:
        self._admin("DELETE", "/_emulate/requests")

    @property
    def dashboard(self) -> EmulatedDashboard:
        """This emulator's dashboard-only settings, changed as a person would change them."""
        return EmulatedDashboard(self._app.backend.provider, self.url, self.api_key)

    def set_social_connection(self, provider: str, client_id: str | None) -> None:
        """Configure (or, with ``None``, remove) a social login, as the dashboard would."""
        step = DashboardStep("social_connection", provider, client_id is not None, client_id)
        self.dashboard.perform(step)

    def add_fault(self, **hook: Any) -> dict[str, Any]:
        """Inject a fault: ``method``, ``path`` (regex), ``status``, ``latency_ms``,
        ``drop_connection``, ``lose_answer``, ``times``, ``body``; see ``base.FaultHook``."""
        created: dict[str, Any] = self._admin("POST", "/_emulate/hooks", hook).json()
        return created

    def clear_faults(self) -> None:
        self._admin("DELETE", "/_emulate/hooks")

    def set_rate_limits(self, **changes: Any) -> dict[str, Any]:
        """Partial update, e.g. ``set_rate_limits(general={"requests": 5, "per_seconds": 1})``."""
        current: dict[str, Any] = self._admin("PUT", "/_emulate/rate_limits", changes).json()
        return current

    def reset(self) -> None:
        self._admin("POST", "/_emulate/reset")


def start_emulator(
    provider: str = "workos",
    *,
    db_path: str | Path = ":memory:",
    api_key: str = "sk_test_emulator",
    client_id: str = "client_emulator",
    port: int = 0,
    rate_limits: LimitTable | None = None,
    seed: Path | None = None,
) -> RunningEmulator:
    """Serve ``provider``'s emulator on 127.0.0.1 in a daemon thread; returns once
    ``/_emulate/health`` answers. ``port=0`` picks a free port."""
    sock, app = _listen(LOOPBACK, port, provider, db_path, api_key, client_id, rate_limits, seed)
    bound_port = sock.getsockname()[1]
    server = _PromptServer(_uvicorn_config(app, LOOPBACK, bound_port, "warning"))
    thread = threading.Thread(
        target=server.run,
        kwargs={"sockets": [sock]},
        name=f"authform-emulator-{provider}-{bound_port}",
        daemon=True,
    )
    thread.start()
    url = f"http://{LOOPBACK}:{bound_port}"
    running = RunningEmulator(
        url=url, api_key=api_key, client_id=client_id, _server=server, _thread=thread, _app=app
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    with loopback_client(timeout=2) as probe:
        while True:
            try:
                if probe.get(f"{url}/_emulate/health").status_code == 200:
                    return running  # uvicorn owns the socket now and closes it on shutdown
            except httpx.TransportError:
                pass
            if not thread.is_alive() or time.monotonic() > deadline:
                running.stop()
                sock.close()
                raise RuntimeError(f"the {provider} emulator did not start on {url}")
            time.sleep(0.01)


def serve(
    provider: str = "workos",
    host: str = LOOPBACK,
    port: int = 8787,
    db_path: str | Path = ":memory:",
    api_key: str = "sk_test_emulator",
    client_id: str = "client_emulator",
    rate_limits: LimitTable | None = None,
    seed: Path | None = None,
    log_level: str = "info",
) -> None:
    """Serve in the foreground until interrupted (``authform emulator workos``).

    ``host`` defaults to loopback; anything else exposes an API that accepts a known test
    key, so the caller should only allow it on explicit request.
    """
    sock, app = _listen(host, port, provider, db_path, api_key, client_id, rate_limits, seed)
    try:
        uvicorn.Server(_uvicorn_config(app, host, sock.getsockname()[1], log_level)).run(
            sockets=[sock]
        )
    except KeyboardInterrupt:
        pass  # uvicorn re-raises Ctrl-C after shutting down gracefully; that is our exit
    finally:
        app.close()
        sock.close()


def _listen(
    host: str, port: int, provider: str, *app_options: Any
) -> tuple[socket.socket, EmulatorApp]:
    """A listening socket, then the app (``create_app``'s positional options). Binding
    first makes a port in use an OSError the caller can report (uvicorn would log it and
    exit on its own terms); the socket is closed again when the app cannot be built."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections only when
    # the listening socket says TCP explicitly, and without it every response waits ~40 ms
    # for a delayed ACK (uvicorn writes headers and body separately).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)  # connections queue until uvicorn accepts them: no refused probe
        return sock, create_app(provider, *app_options)
    except BaseException:
        sock.close()
        raise
