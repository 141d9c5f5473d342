"""A local Scalekit API: the endpoints authform calls, with Scalekit's paths (``/api/v1``),
payloads, numeric ids, ``page_size``/``page_token`` pagination, gRPC-status error bodies,
OAuth client-credentials tokens, and the authorization URL that dashboard-only settings
(redirect URLs, social logins) are probed through.

Shapes follow Scalekit's public OpenAPI document and the protobuf messages of the official
Python SDK (``scalekit-sdk-python``), whose ``google.api.http`` annotations are the REST
mapping the API serves; the fidelity tests check both. The SDK itself speaks gRPC to
Scalekit for everything but the token endpoint, so it cannot drive a REST emulator; its
messages still parse every answer here.

Where Scalekit's documents are silent, the emulator says what it assumes: rate limits (see
``ScalekitRateLimits``); unknown request fields are refused (INVALID_ARGUMENT), so a typo in
a client fails a test instead of being dropped; invitations and domain verification are
described in ``users.py`` and ``organizations.py``.

Dashboard-only state lives under ``/_emulate`` (``oauth.py``). Those routes take the client
secret as bearer; the API takes only access tokens from ``POST /oauth/token``.
"""

from pathlib import Path
from typing import Any

from ..base import EmulatorApp, LimitTable
from ..dashboard import DashboardStep
from ..seeding import Seed, open_backend
from .core import ScalekitRateLimits
from .oauth import OAuth
from .seed import SEED_SECTIONS

__all__ = [
    "ScalekitBackend",
    "ScalekitRateLimits",
    "create_scalekit_app",
    "set_dashboard_redirect_uri",
]


class ScalekitBackend(OAuth):
    """The Scalekit emulator assembled: the resource families stack in dependency order
    (organizations, authorization, users and memberships, then OAuth and dashboard state),
    each a small class adding its routes and operations over ``ScalekitCore``. Operations
    are synchronous methods taking the request body as a dict, so the seed goes through the
    same validation as HTTP clients."""

    seed_sections = SEED_SECTIONS


def create_scalekit_app(
    db_path: str | Path, api_key: str, client_id: str, rate_limits: LimitTable | None, seed: Seed
) -> EmulatorApp:
    """The Scalekit emulator as an ASGI app; ``api_key`` is the environment's client secret
    and ``client_id`` its client id: together they buy access tokens at ``/oauth/token``."""
    backend = open_backend(ScalekitBackend, db_path, seed, api_key=api_key, client_id=client_id)
    return EmulatorApp(backend, api_key=api_key, rate_limits=rate_limits or ScalekitRateLimits())


def set_dashboard_redirect_uri(emulator: Any, uri: str, present: bool) -> None:
    """Register (or remove) a redirect URL on a running Scalekit emulator, as a person would
    in Authentication > Redirects (for tests). ``emulator`` is a ``RunningEmulator``."""
    emulator.dashboard.perform(DashboardStep("redirect_uri", uri, present))
