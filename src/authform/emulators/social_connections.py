"""Social (OAuth) logins: dashboard-only on every provider we emulate, so one shared table
holds which OAuth client id each social provider is configured with."""

from __future__ import annotations

from typing import Any

from authform.social import SOCIAL_PROVIDERS

from .store import SqliteStore, now_iso

SOCIAL_SCHEMA = """
CREATE TABLE IF NOT EXISTS emulator_social_connections (
    provider TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""


class SocialConnections:
    """The dashboard's social-login settings, the one table every emulator shares."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        store.apply_schema(SOCIAL_SCHEMA)

    def get(self, provider: str) -> str | None:
        row = self._store.one(
            "SELECT client_id FROM emulator_social_connections WHERE provider = ?", [provider]
        )
        return None if row is None else str(row["client_id"])

    def set(self, provider: str, client_id: str) -> dict[str, Any]:
        updated_at = now_iso()
        self._store.execute(
            "INSERT INTO emulator_social_connections (provider, client_id, updated_at) "
            "VALUES (?, ?, ?) ON CONFLICT(provider) DO UPDATE SET "
            "client_id = excluded.client_id, updated_at = excluded.updated_at",
            [provider, client_id, updated_at],
        )
        return {"provider": provider, "client_id": client_id, "updated_at": updated_at}

    def delete(self, provider: str) -> bool:
        cursor = self._store.execute(
            "DELETE FROM emulator_social_connections WHERE provider = ?", [provider]
        )
        return cursor.rowcount > 0

    def list(self) -> list[dict[str, Any]]:
        rows = self._store.all("SELECT * FROM emulator_social_connections ORDER BY provider")
        return [dict(row) for row in rows]

    def clear(self) -> None:
        self._store.wipe(["emulator_social_connections"])


def check_social_provider(provider: str) -> None:
    if provider not in SOCIAL_PROVIDERS:
        raise ValueError(
            f"unknown social provider {provider!r}; use one of: {', '.join(SOCIAL_PROVIDERS)}"
        )
