"""What every Scalekit resource family shares: the store, Scalekit's ids, its error and
rate-limit shapes, and row writes that stamp ``create_time``/``update_time``."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ..base import Limit, LimitTable, TableBackend
from ..routing import Call
from ..store import now_iso, to_json
from .errors import GRPC, STATUS_TO_GRPC, grpc_error, not_found, status_body
from .fields import json_body
from .schema import BUILTIN_PERMISSIONS, SCHEMA, TABLES

_ids_lock, _last_id = threading.Lock(), [0]


def new_id(prefix: str) -> str:
    """Scalekit ids are a prefix and a number (``org_59615193906282635``): the user id docs
    say 19-25 characters. Monotonic, so id order is creation order (pagination relies on it)."""
    with _ids_lock:
        _last_id[0] = max(time.time_ns() // 1000, _last_id[0] + 1)
        return f"{prefix}{_last_id[0]:018d}"


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

    def start(self) -> None:
        """Scalekit's own permissions (present in every environment), then the seed (both
        skip what a kept state holds)."""
        for name, description in BUILTIN_PERMISSIONS:
            if not self.store.find("permissions", "name", name):
                row = {"name": name, "description": description, "builtin": 1}
                self.add_row("permissions", "perm_", row)
        super().start()

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

    def add_row(self, table: str, prefix: str, values: Mapping[str, Any]) -> str:
        """Insert a row under a new id, stamped with both times (maps and lists stored as
        JSON); returns the id."""
        row_id, now = new_id(prefix), now_iso()
        row = {"id": row_id, **_stored(values), "create_time": now, "update_time": now}
        self.store.insert(table, row)
        return row_id

    def change_row(
        self, table: str, key: str, changes: Mapping[str, Any], column: str = "id"
    ) -> None:
        """Update the row whose ``column`` is ``key`` and stamp its ``update_time``."""
        changes = {**_stored(changes), "update_time": now_iso()}
        self.store.update(table, changes, f"{column} = ?", [key])

    def keyed_row(self, table: str, call: Call) -> sqlite3.Row:
        """The row a path names by ``{id}``, or by ``{external_id}`` (``…:external/…``)."""
        if (external_id := call.path.get("external_id")) is None:
            return self.row(table, call.path["id"])
        row = self.store.find(table, "external_id", external_id)
        if row is None:
            raise not_found(f"{table.removesuffix('s')} with external_id", external_id)
        return row

    def delete(self, table: str, key: str) -> dict[str, Any]:  # type: ignore[override]
        """Delete the row a path names; Scalekit answers ``{}``."""
        super().delete(table, key)
        return {}

    def check_external_id_free(self, table: str, external_id: str, own_id: str | None) -> None:
        if clash := self.store.taken_by(table, "external_id", external_id, own_id):
            message = f"external_id {external_id!r} is already used by {clash}"
            raise grpc_error("ALREADY_EXISTS", message)


def _stored(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: to_json(v) if isinstance(v, dict | list) else v for k, v in values.items()}
