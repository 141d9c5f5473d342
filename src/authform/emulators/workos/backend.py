"""The WorkOS emulator assembled: every resource family, the seed, and the ASGI app.

The families stack in dependency order (organizations, users, sessions, memberships,
authorization, redirects), each a small class adding its routes and operations over the
shared ``WorkOSCore``. Operations are plain synchronous methods taking the request body as a
dict, so the seed goes through the same validation as HTTP clients.
"""

from __future__ import annotations

from pathlib import Path

from ..base import EmulatorApp, LimitTable
from ..seeding import Seed, open_backend
from .core import RateLimits
from .redirects import Redirects
from .seed import SEED_SECTIONS


class WorkOSBackend(Redirects):
    """WorkOS's API over SQLite."""

    seed_sections = SEED_SECTIONS


def create_workos_app(
    db_path: str | Path, api_key: str, client_id: str, rate_limits: LimitTable | None, seed: Seed
) -> EmulatorApp:
    """The WorkOS emulator as an ASGI app; callers build it with ``create_app("workos")``."""
    backend = open_backend(WorkOSBackend, db_path, seed, api_key=api_key, client_id=client_id)
    return EmulatorApp(backend, api_key=api_key, rate_limits=rate_limits or RateLimits())
