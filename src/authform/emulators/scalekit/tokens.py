"""Scalekit's ids and access tokens."""

from __future__ import annotations

import secrets
import threading
import time
from typing import ClassVar

from ..routing import hs256_token
from .schema import DEFAULT_TOKEN_TTL


class NumericIds:
    """Scalekit ids are a prefix and a number (``org_59615193906282635``): the user id docs
    say 19-25 characters. Monotonic, so id order is creation order (pagination relies on it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def new(self, prefix: str) -> str:
        with self._lock:
            value = max(time.time_ns() // 1000, self._last + 1)
            self._last = value
        return f"{prefix}{value:018d}"


new_id = NumericIds().new


class TokenStore:
    """Access tokens issued by ``POST /oauth/token``, in memory: they do not outlive the
    process, as a restarted server's would not outlive a key rotation. JWT-shaped (HS256 with
    a per-process key); nothing here or in authform verifies their signature."""

    MAX_TOKENS: ClassVar[int] = 10_000

    def __init__(self, ttl: int = DEFAULT_TOKEN_TTL) -> None:
        self.ttl = ttl
        self._key = secrets.token_bytes(32)
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self, client_id: str) -> tuple[str, int]:
        now = int(time.time())
        claims = {"sub": client_id, "iat": now, "exp": now + self.ttl, "jti": secrets.token_hex(8)}
        token = hs256_token(claims, self._key)
        with self._lock:
            if len(self._expiry) >= self.MAX_TOKENS:
                self._expiry = {t: e for t, e in self._expiry.items() if e > time.monotonic()}
            self._expiry[token] = time.monotonic() + self.ttl
        return token, self.ttl

    def valid(self, token: str) -> bool:
        with self._lock:
            expiry = self._expiry.get(token)
        return expiry is not None and time.monotonic() < expiry

    def revoke_all(self) -> int:
        with self._lock:
            count = len(self._expiry)
            self._expiry.clear()
        return count
