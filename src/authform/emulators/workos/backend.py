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

from starlette.routing import BaseRoute

from ..base import EmulatorApp, SocialConnections
from ..routing import build_routes
from ..seeding import apply_seed, load_seed
from ..store import SqliteStore
from .core import RateLimits
from .fields import json_body
from .redirects import Redirects
from .schema import TABLES
from .seed import SEED_SECTIONS


class WorkOSBackend(Redirects):
    """WorkOS's API over SQLite."""

    def __init__(
        self,
        store: SqliteStore,
        social: SocialConnections,
        *,
        api_key: str,
        client_id: str,
        seed: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(store, social, api_key=api_key, client_id=client_id)
        self.seed = seed
        if seed:
            apply_seed(self, seed, SEED_SECTIONS)

    def routes(self) -> list[BaseRoute]:
        return build_routes(self.endpoints(), json_body)

    def reset(self) -> None:
        self.store.wipe(TABLES)
        if self.seed:
            apply_seed(self, self.seed, SEED_SECTIONS)


def create_workos_app(
    db_path: str | Path = ":memory:",
    api_key: str = "sk_test_emulator",
    client_id: str = "client_emulator",
    rate_limits: RateLimits | None = None,
    *,
    seed: Path | str | Mapping[str, Any] | None = None,
) -> EmulatorApp:
    """The WorkOS emulator as an ASGI app (an ``EmulatorApp``, i.e. a Starlette app)."""
    store = SqliteStore(db_path)
    seed_data = load_seed(seed) if isinstance(seed, str | Path) else seed
    try:
        backend = WorkOSBackend(
            store, SocialConnections(store), api_key=api_key, client_id=client_id, seed=seed_data
        )
    except BaseException:
        store.close()
        raise
    return EmulatorApp(backend, api_key=api_key, rate_limits=rate_limits or RateLimits())
