"""The request log: what reached the emulator's API, secrets redacted, so tests can assert
what a command sent (and that a refused one sent nothing) without mocking the client."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

REDACTED = "(redacted)"
# Request fields that carry secrets; they are never written to the request log.
SECRET_FIELDS: frozenset[str] = frozenset(
    {
        "password",
        "password_hash",
        "client_secret",
        "api_key",
        "secret",
        "totp_secret",
        "refresh_token",
        "access_token",
        "code_verifier",
    }
)
REQUEST_LOG_SIZE = 20_000


def redact(value: Any, secrets: frozenset[str] = SECRET_FIELDS) -> Any:
    """A copy of a request body with every field named in ``secrets`` (a provider adds its
    own to ``SECRET_FIELDS``) replaced by ``(redacted)``."""
    if isinstance(value, Mapping):
        return {
            key: REDACTED if key in secrets and item is not None else redact(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item, secrets) for item in value]
    return value


class RequestLog:
    """The last requests the emulator answered, so tests can assert what reached the API
    (and that nothing did) without mocking the client."""

    def __init__(self, size: int = REQUEST_LOG_SIZE) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._lock = threading.Lock()

    def append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
