"""Routes as data: an emulator family lists ``(method, path, handler, status)`` and a handler
is a plain function of one ``Call`` (path parameters, query, body) returning the answer.

Handlers return a dict (sent as JSON with the route's status), ``None`` (an empty answer
with that status) or a ``Response`` of their own (redirects). They may be ``async`` when
they move slow work (bcrypt) off the event loop. Errors are raised as ``ApiError``, which
the shared app renders in the provider's shape.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import inspect
import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .errors import ApiError
from .store import from_json

JsonParser = Callable[[bytes], dict[str, Any]]


@dataclass
class Call:
    """One request as a handler sees it; the body is parsed as JSON only if asked for."""

    request: Request
    raw: bytes
    parse_json: JsonParser = field(repr=False)

    @property
    def path(self) -> Mapping[str, str]:
        return self.request.path_params

    @property
    def query(self) -> QueryParams:
        return self.request.query_params

    @cached_property
    def json(self) -> dict[str, Any]:
        return self.parse_json(self.raw)

    @property
    def base_url(self) -> str:
        return str(self.request.base_url).rstrip("/")


class Endpoint(NamedTuple):
    """A route: ``handler``'s answer is sent with ``status``, inside ``{wrap: answer}`` when
    the provider wraps its objects (Scalekit's ``{"user": {...}}``)."""

    method: str
    path: str
    handler: Callable[[Call], Any]
    status: int = 200
    wrap: str | None = None


def build_routes(endpoints: Iterable[Endpoint], parse_json: JsonParser) -> list[BaseRoute]:
    """Starlette routes for ``endpoints``; request bodies are parsed with ``parse_json``."""
    return [_route(endpoint, parse_json) for endpoint in endpoints]


def _route(endpoint: Endpoint, parse_json: JsonParser) -> Route:
    async def serve(request: Request) -> Response:
        result = endpoint.handler(Call(request, await request.body(), parse_json))
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, Response):
            return result
        if result is None:
            return Response(status_code=endpoint.status)
        if endpoint.wrap is not None:
            result = {endpoint.wrap: result}
        return JSONResponse(result, status_code=endpoint.status)

    return Route(endpoint.path, serve, methods=[endpoint.method])


def json_parser(refuse: Callable[[str], ApiError], not_json: str, not_object: str) -> JsonParser:
    """A body parser giving the body as a JSON object (an empty body: ``{}``); it raises
    ``refuse(not_json)`` when the body is not JSON, ``refuse(not_object)`` when it is JSON
    but not an object."""

    def parse(raw: bytes) -> dict[str, Any]:
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise refuse(not_json) from None
        if not isinstance(data, dict):
            raise refuse(not_object)
        return data

    return parse


# --------------------------------------------------------------------------- answer shapes


@dataclass(frozen=True)
class Shape:
    """How a table row becomes an API object, as data: ``columns`` copied as they are,
    ``flags`` as booleans, ``documents`` decoded from JSON (with their empty default),
    ``optional`` only when set, and ``constants`` added to every object."""

    columns: tuple[str, ...]
    flags: Mapping[str, str] = field(default_factory=dict)  # answer field -> column
    documents: Mapping[str, Any] = field(default_factory=dict)  # column -> empty default
    optional: tuple[str, ...] = ()
    constants: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self, row: sqlite3.Row) -> dict[str, Any]:
        item: dict[str, Any] = dict(self.constants)
        item.update({column: row[column] for column in self.columns})
        item.update({name: bool(row[column]) for name, column in self.flags.items()})
        item.update({name: from_json(row[name], empty) for name, empty in self.documents.items()})
        item.update({name: row[name] for name in self.optional if row[name]})
        return item

    def many(self, rows: Iterable[sqlite3.Row]) -> list[dict[str, Any]]:
        return [self(row) for row in rows]


# --------------------------------------------------------------------------- tokens


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_token(claims: Mapping[str, Any], key: bytes) -> str:
    """A JWT signed with HS256. The real providers sign with RS256 and publish a JWKS;
    nothing authform or its tests do verifies the signature, only the shape."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(dict(claims), separators=(",", ":")).encode())
    signature = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"
