"""The error every emulator handler raises: rendered as the provider's JSON error body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ApiError(Exception):
    """Raised by route handlers; rendered as a JSON error response with the given body."""

    def __init__(
        self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(body.get("message") or body.get("error_description") or str(status))
        self.status = status
        self.body = dict(body)
        self.headers = dict(headers or {})
