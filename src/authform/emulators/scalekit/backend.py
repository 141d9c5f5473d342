"""The Scalekit emulator assembled: every resource family, the seed, and the ASGI app with
Scalekit's two-step auth.

The families stack in dependency order (organizations, authorization, users, memberships,
OAuth and dashboard state), each a small class adding its routes and operations over the
shared ``ScalekitCore``. Operations are synchronous methods taking the request body as a
dict, so the seed goes through the same validation as HTTP clients.
"""

from __future__ import annotations

import contextvars
import hmac
from collections.abc import Mapping
from pathlib import Path

from starlette.types import Receive, Scope, Send

from ..base import EmulatorApp, LimitTable
from ..seeding import Seed, open_backend
from .core import ScalekitRateLimits
from .oauth import OAuth
from .seed import SEED_SECTIONS


class ScalekitBackend(OAuth):
    """Scalekit's API over SQLite."""

    seed_sections = SEED_SECTIONS


_PATH: contextvars.ContextVar[str] = contextvars.ContextVar("scalekit_emulator_path", default="")


class ScalekitEmulatorApp(EmulatorApp):
    """The shared app with Scalekit's two-step auth: the API takes access tokens issued by
    ``POST /oauth/token``; the client secret itself is accepted only on ``/_emulate`` admin
    routes (the test harness's and ``--emulate``'s dashboard), never on the API."""

    backend: ScalekitBackend

    async def _serve_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        reset = _PATH.set(scope["path"])
        try:
            await super()._serve_http(scope, receive, send)
        finally:
            _PATH.reset(reset)

    def _authorized(self, headers: Mapping[str, str]) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        path = _PATH.get()
        if path == "/_emulate" or path.startswith("/_emulate/"):
            return hmac.compare_digest(token.strip().encode(), self.api_key.encode())
        return self.backend.tokens.valid(token.strip())


def create_scalekit_app(
    db_path: str | Path, api_key: str, client_id: str, rate_limits: LimitTable | None, seed: Seed
) -> EmulatorApp:
    """The Scalekit emulator as an ASGI app; ``api_key`` is the environment's client secret
    and ``client_id`` its client id: together they buy access tokens at ``/oauth/token``."""
    backend = open_backend(ScalekitBackend, db_path, seed, api_key=api_key, client_id=client_id)
    return ScalekitEmulatorApp(
        backend, api_key=api_key, rate_limits=rate_limits or ScalekitRateLimits()
    )
