"""What a resource family of the emulated Backend API is: a table of operations (method,
path under ``/v1``, handler) over the shared store. Adding a route is one line there."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..store import SqliteStore

API_PREFIX: Final = "/v1"
Operation = tuple[str, str, Callable[[Request], Awaitable[Response]]]


class Family:
    def __init__(self, store: SqliteStore) -> None:
        self.store = store

    def operations(self) -> Sequence[Operation]:
        """``(method, path under /v1, handler)`` for each operation this family serves."""
        return ()

    def routes(self) -> list[Route]:
        return [
            Route(f"{API_PREFIX}{path}", handler, methods=[method])
            for method, path, handler in self.operations()
        ]
