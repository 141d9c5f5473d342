"""What every Scalekit resource family shares: the store, the access tokens, Scalekit's
error and rate-limit shapes, and row lookups that answer NOT_FOUND."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..base import Limit, LimitTable, TableBackend
from ..store import now_iso
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


class ScalekitCore(TableBackend):
    """The state and conventions each resource family (a class over this one) builds on."""

    provider: ClassVar[str] = "scalekit"
    schema, tables = SCHEMA, TABLES
    not_found, json_body = staticmethod(not_found), staticmethod(json_body)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.tokens = TokenStore(DEFAULT_TOKEN_TTL)
        super().__init__(*args, **kwargs)

    def reset(self) -> None:
        """Back to the seeded state; issued tokens are revoked and their lifetime restored."""
        self.tokens.revoke_all()
        self.tokens.ttl = DEFAULT_TOKEN_TTL
        super().reset()

    def start(self) -> None:
        """Scalekit's own permissions, then the seed (both skip what a kept state holds)."""
        self.insert_builtins()
        super().start()

    def insert_builtins(self) -> None:
        """Scalekit's own permissions, present in every environment."""
        now = now_iso()
        for name, description in BUILTIN_PERMISSIONS:
            self.store.execute(
                "INSERT OR IGNORE INTO permissions (id, name, description, builtin, create_time, "
                "update_time) VALUES (?, ?, ?, 1, ?, ?)",
                [new_id("perm_"), name, description, now, now],
            )

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

    def delete(self, table: str, key: str) -> dict[str, Any]:  # type: ignore[override]
        """Delete the row a path names; Scalekit answers ``{}``."""
        super().delete(table, key)
        return {}

    def check_external_id_free(self, table: str, external_id: str, own_id: str | None) -> None:
        if clash := self.store.taken_by(table, "external_id", external_id, own_id):
            message = f"external_id {external_id!r} is already used by {clash}"
            raise grpc_error("ALREADY_EXISTS", message)
