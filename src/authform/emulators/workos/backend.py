"""The WorkOS emulator assembled: every resource family, the seed, and the ASGI app.

The families stack in dependency order (organizations, users, sessions, memberships,
authorization, redirects), each a small class adding its routes and operations over the
shared ``WorkOSCore``. Operations are plain synchronous methods taking the request body as a
dict, so the seed goes through the same validation as HTTP clients.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..base import EmulatorApp, SocialConnections
from ..seeding import open_backend
from .core import RateLimits
from .redirects import Redirects
from .seed import SEED_SECTIONS


class WorkOSBackend(Redirects):
    """WorkOS's API over SQLite."""

    seed_sections = SEED_SECTIONS


def create_workos_app(
    db_path: str | Path = ":memory:",
    api_key: str = "sk_test_emulator",
    client_id: str = "client_emulator",
    rate_limits: RateLimits | None = None,
    *,
    seed: Path | str | Mapping[str, Any] | None = None,
) -> EmulatorApp:
    """The WorkOS emulator as an ASGI app (an ``EmulatorApp``, i.e. a Starlette app)."""
    backend = open_backend(
        db_path,
        seed,
        lambda store, data: WorkOSBackend(
            store, SocialConnections(store), api_key=api_key, client_id=client_id, seed=data
        ),
    )
    return EmulatorApp(backend, api_key=api_key, rate_limits=rate_limits or RateLimits())
