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

from typing import Any

from ..dashboard import DashboardStep
from .backend import ScalekitBackend, create_scalekit_app
from .core import ScalekitRateLimits

__all__ = [
    "ScalekitBackend",
    "ScalekitRateLimits",
    "create_scalekit_app",
    "set_dashboard_redirect_uri",
]


def set_dashboard_redirect_uri(emulator: Any, uri: str, present: bool) -> None:
    """Register (or remove) a redirect URL on a running Scalekit emulator, as a person would
    in Authentication > Redirects (for tests). ``emulator`` is a ``RunningEmulator``."""
    emulator.dashboard.perform(DashboardStep("redirect_uri", uri, present))
