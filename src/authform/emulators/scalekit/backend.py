"""The Scalekit emulator assembled: every resource family, the seed, Scalekit's two-step auth
and the ASGI app.

The families stack in dependency order (organizations, authorization, users, memberships,
OAuth and dashboard state), each a small class adding its routes and operations over the
shared ``ScalekitCore``. Operations are synchronous methods taking the request body as a
dict, so the seed goes through the same validation as HTTP clients.
"""

from __future__ import annotations

from pathlib import Path

from ..base import EmulatorApp, LimitTable
from ..seeding import Seed, open_backend
from .core import ScalekitRateLimits
from .oauth import OAuth
from .seed import SEED_SECTIONS


class ScalekitBackend(OAuth):
    """Scalekit's API over SQLite, with its two-step auth: the API takes access tokens issued
    by ``POST /oauth/token``; the client secret itself is accepted only on ``/_emulate``
    admin routes (the test harness's and ``--emulate``'s dashboard), never on the API."""

    seed_sections = SEED_SECTIONS

    def accepts_token(self, token: str, api_key: str) -> bool:
        return self.tokens.valid(token)


def create_scalekit_app(
    db_path: str | Path, api_key: str, client_id: str, rate_limits: LimitTable | None, seed: Seed
) -> EmulatorApp:
    """The Scalekit emulator as an ASGI app; ``api_key`` is the environment's client secret
    and ``client_id`` its client id: together they buy access tokens at ``/oauth/token``."""
    backend = open_backend(ScalekitBackend, db_path, seed, api_key=api_key, client_id=client_id)
    return EmulatorApp(backend, api_key=api_key, rate_limits=rate_limits or ScalekitRateLimits())
