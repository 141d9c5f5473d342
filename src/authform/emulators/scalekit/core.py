"""What every Scalekit resource family shares: the store, the access tokens, Scalekit's
error and rate-limit shapes, and row lookups that answer NOT_FOUND."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from starlette.routing import BaseRoute

from ..base import EmulatorBackend, Limit, LimitTable, SocialConnections
from ..routing import Endpoint, build_routes
from ..seeding import SeedSection, apply_seed
from ..store import SqliteStore, now_iso
from .errors import GRPC, STATUS_TO_GRPC, grpc_error, not_found, status_body
from .fields import json_body
from .schema import BUILTIN_PERMISSIONS, DEFAULT_TOKEN_TTL, SCHEMA, TABLES
from .tokens import TokenStore, new_id


@dataclass(frozen=True)
class ScalekitRateLimits(LimitTable):
    """Scalekit documents no limits (only "429 Rate limit exceeded"). The default (1,200
    requests per minute) is twice authform's own conservative client default, so a client
    that ignores its limiter is caught. Tests scale it down, e.g.
    ``ScalekitRateLimits(general=Limit(5, 1))``.
    """

    general: Limit | None = Limit(1200, 60)


# table -> (the noun a NOT_FOUND names, the column a path identifies a row by)
LOOKUPS: dict[str, tuple[str, str]] = {
    "organizations": ("organization", "id"),
    "domains": ("domain", "id"),
    "users": ("user", "id"),
    "roles": ("role", "name"),
    "permissions": ("permission", "name"),
}


class ScalekitCore(EmulatorBackend):
    """The state and conventions each resource family (a class over this one) builds on."""

    provider: ClassVar[str] = "scalekit"

    # The seed's sections, named by the assembled backend (they call every family).
    seed_sections: ClassVar[Sequence[SeedSection]] = ()

    def __init__(
        self,
        store: SqliteStore,
        social: SocialConnections,
        *,
        client_secret: str,
        client_id: str,
        token_ttl: int = DEFAULT_TOKEN_TTL,
        seed: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(store, social)
        self.client_secret = client_secret
        self.client_id = client_id
        self.tokens = TokenStore(token_ttl)
        self.token_ttl = token_ttl
        self.seed = seed
        store.apply_schema(SCHEMA)
        self._start()

    def routes(self) -> list[BaseRoute]:
        return build_routes(self.endpoints(), json_body)

    def reset(self) -> None:
        """Back to the seeded state; issued tokens are revoked and their lifetime restored."""
        self.store.wipe(TABLES)
        self.tokens.revoke_all()
        self.tokens.ttl = self.token_ttl
        self._start()

    def _start(self) -> None:
        """Scalekit's own permissions, then the seed (both skip what a kept state holds)."""
        self.insert_builtins()
        if self.seed:
            apply_seed(self, self.seed, self.seed_sections)

    def insert_builtins(self) -> None:
        """Scalekit's own permissions, present in every environment."""
        now = now_iso()
        for name, description in BUILTIN_PERMISSIONS:
            self.store.execute(
                "INSERT OR IGNORE INTO permissions (id, name, description, builtin, create_time, "
                "update_time) VALUES (?, ?, ?, 1, ?, ?)",
                [new_id("perm_"), name, description, now, now],
            )

    def endpoints(self) -> list[Endpoint]:
        """This family's routes; each family adds its own and calls ``super()``."""
        return []

    # ----------------------------------------------------------------- EmulatorBackend

    def error_body(self, status: int, message: str, code: str | None = None) -> dict[str, Any]:
        """The shared app's errors (401, 404, 413, injected faults) in Scalekit's shape; the
        gRPC status follows the HTTP status, as grpc-gateway maps them."""
        name = code.upper() if code and code.upper() in GRPC else STATUS_TO_GRPC.get(status)
        return status_body(name or "UNKNOWN", message)

    def rate_limited_body(self, bucket: str) -> dict[str, Any]:
        return status_body("RESOURCE_EXHAUSTED", "Rate limit exceeded")

    def rate_limit_claims(self, method: str, path: str, body: Any) -> list[tuple[str, str]]:
        return [("general", "environment")]

    # ----------------------------------------------------------------- shared helpers

    def row(self, table: str, key: str) -> sqlite3.Row:
        """The row of ``table`` a path names, or NOT_FOUND naming it."""
        noun, column = LOOKUPS[table]
        row = self.store.find(table, column, key)
        if row is None:
            raise not_found(noun, key)
        return row

    def delete(self, table: str, key: str) -> dict[str, Any]:
        """Delete the row a path names (NOT_FOUND if there is none); Scalekit answers ``{}``."""
        column = LOOKUPS[table][1]
        value = self.row(table, key)[column]
        self.store.execute(f"DELETE FROM {table} WHERE {column} = ?", [value])  # noqa: S608
        return {}

    def check_external_id_free(self, table: str, external_id: str, own_id: str | None) -> None:
        if clash := self.store.taken_by(table, "external_id", external_id, own_id):
            message = f"external_id {external_id!r} is already used by {clash}"
            raise grpc_error("ALREADY_EXISTS", message)
