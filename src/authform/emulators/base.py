"""What every provider emulator shares: API-key auth, rate limiting, fault injection, a
request log and the ``/_emulate`` admin routes (``GET /_emulate/health`` among them).

A provider emulator is an ``EmulatorBackend`` (its routes, its error-body shape, which rate
limit buckets a request draws from) wrapped in an ``EmulatorApp``. The app is a Starlette
subclass rather than a middleware so that it sees uvicorn's own ``send`` callable: that is
the only handle on the socket, and a fault hook with ``drop_connection`` needs to close it
without writing a response, the way a load balancer or a crashed server would.

Conventions are borrowed from WorkOS's own emulator (github ``workos/emulate``): a health
route, a YAML seed file, and ``/_emulate/hooks`` for injecting errors. The health route lives
under ``/_emulate/`` because no provider's API has one: every other path is the provider's.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import math
import sqlite3
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar, cast
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import Message, Receive, Scope, Send

from .errors import ApiError
from .faults import FaultHook, FaultHooks
from .limits import Limit, LimitTable, RateLimiter
from .requestlog import SECRET_FIELDS, RequestLog, redact
from .routing import Call, Endpoint, build_routes, json_parser
from .seeding import SeedSection, apply_seed
from .social_connections import SocialConnections, check_social_provider
from .store import SqliteStore, now_iso

logger = logging.getLogger("authform.emulators")
T = TypeVar("T")
MAX_BODY_BYTES = 10 * 1024 * 1024
# The readiness probe ``start_emulator`` waits on; it needs no key (nothing is known yet).
HEALTH_ROUTE = ("GET", "/_emulate/health")


def parse_body(raw: bytes, content_type: str) -> Any:
    """The request body as JSON or form data; ``None`` when empty or unparseable."""
    if not raw:
        return None
    if "application/x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


# --------------------------------------------------------------------------- backend + app


class EmulatorBackend(ABC):
    """One provider's API: its routes and the provider-specific shapes the app needs."""

    provider: ClassVar[str]
    # (METHOD, path) pairs that take no API key: browser routes, OAuth token endpoints.
    public_routes: ClassVar[frozenset[tuple[str, str]]] = frozenset()
    # Request fields the request log never holds: the shared ones plus the provider's own.
    secret_fields: ClassVar[frozenset[str]] = SECRET_FIELDS

    def __init__(self, store: SqliteStore, social: SocialConnections) -> None:
        self.store = store
        self.social = social

    @abstractmethod
    def routes(self) -> list[BaseRoute]: ...

    @abstractmethod
    def error_body(self, status: int, message: str, code: str | None = None) -> dict[str, Any]:
        """The provider's error JSON for a status, message and machine-readable code."""

    def rate_limited_body(self, bucket: str) -> dict[str, Any]:
        return self.error_body(429, "Too many requests.", "rate_limit_exceeded")

    @abstractmethod
    def rate_limit_claims(self, method: str, path: str, body: Any) -> list[tuple[str, str]]:
        """The ``(bucket, key)`` pairs this request draws on, e.g. ``("general", "api")``."""

    @abstractmethod
    def reset(self) -> None:
        """Forget all provider state and re-apply the seed, if one was given."""

    def accepts_token(self, token: str, api_key: str) -> bool:
        """Whether a bearer token may call the API: the API key itself, unless the provider
        trades it for tokens (Scalekit)."""
        return hmac.compare_digest(token.encode(), api_key.encode())


class TableBackend(EmulatorBackend):
    """A backend over SQLite tables, declared as data: its ``schema``, its ``tables`` (table
    -> the noun its not-found answer names and the column a path names a row by, children
    first: the order a reset wipes them in) and the ``seed_sections`` of its seed. Resource
    families stack as subclasses in dependency order, each adding rows to ``endpoints()``."""

    schema: ClassVar[str]
    tables: ClassVar[Mapping[str, tuple[str, str] | None]]
    seed_sections: ClassVar[Sequence[SeedSection]] = ()  # named by the assembled backend

    def __init__(
        self,
        store: SqliteStore,
        social: SocialConnections,
        *,
        api_key: str,
        client_id: str,
        seed: Mapping[str, Any] | None = None,
    ) -> None:
        """``api_key`` doubles as the environment's OAuth client secret (WorkOS's
        authenticate, Scalekit's token exchange), ``client_id`` names its OAuth client."""
        super().__init__(store, social)
        self.api_key, self.client_id, self.seed = api_key, client_id, seed
        store.apply_schema(self.schema)
        self.start()

    @staticmethod
    @abstractmethod
    def not_found(noun: str, key: str, /) -> ApiError: ...

    @staticmethod
    @abstractmethod
    def json_body(raw: bytes, /) -> dict[str, Any]:
        """The request body as a JSON object, or the provider's refusal."""

    def endpoints(self) -> list[Endpoint]:
        """This family's routes; each family adds its own rows and calls ``super()``."""
        return []

    def routes(self) -> list[BaseRoute]:
        return build_routes(self.endpoints(), self.json_body)

    def start(self) -> None:
        """Apply the seed (each item skips what a kept database already holds)."""
        if self.seed:
            apply_seed(self, self.seed, self.seed_sections)

    def reset(self) -> None:
        self.store.wipe(list(self.tables))
        self.start()

    def row(self, table: str, key: str, column: str | None = None) -> sqlite3.Row:
        """The row of ``table`` a path names (by its usual column unless ``column`` says
        otherwise, e.g. ``external_id``), or the provider's not-found answer."""
        noun, usual = self.tables[table] or ("row", "id")
        row = self.store.find(table, column or usual, key)
        if row is None:
            raise self.not_found(noun, key)
        return row

    def delete(self, table: str, key: str) -> None:
        """Delete the row a path names (not found if there is none)."""
        row_id = self.row(table, key)["id"]
        self.store.execute(f"DELETE FROM {table} WHERE id = ?", [row_id])  # noqa: S608


class EmulatorApp(Starlette):
    """A provider backend behind auth, faults, rate limits, the request log and admin routes."""

    def __init__(
        self,
        backend: EmulatorBackend,
        *,
        api_key: str,
        rate_limits: LimitTable,
    ) -> None:
        self.backend = backend
        self.api_key = api_key
        self.rate_limits = self.initial_rate_limits = rate_limits
        self.limiter = RateLimiter()
        self.hooks = FaultHooks()
        self.request_log = RequestLog()
        admin, hooks, social = "/_emulate", "/_emulate/hooks", "/_emulate/social_connections"
        self.public_routes = backend.public_routes | {HEALTH_ROUTE}
        endpoints = [
            Endpoint(*HEALTH_ROUTE, lambda c: {"status": "ok"}),
            Endpoint(
                "GET", f"{admin}/requests", lambda c: self._listed(self.request_log.entries())
            ),
            Endpoint("DELETE", f"{admin}/requests", lambda c: self.request_log.clear(), 204),
            Endpoint("GET", hooks, lambda c: self._listed(h.to_dict() for h in self.hooks.list())),
            Endpoint("POST", hooks, self._add_hook, 201),
            Endpoint("DELETE", hooks, lambda c: self.hooks.clear(), 204),
            Endpoint("DELETE", f"{hooks}/{{hook_id}}", self._remove_hook, 204),
            Endpoint("GET", social, lambda c: self._listed(self.backend.social.list())),
            Endpoint("PUT", f"{social}/{{provider}}", self._set_social),
            Endpoint("DELETE", f"{social}/{{provider}}", self._delete_social, 204),
            Endpoint("GET", f"{admin}/rate_limits", lambda c: self.rate_limits.to_dict()),
            Endpoint("PUT", f"{admin}/rate_limits", self._set_rate_limits),
            Endpoint("POST", f"{admin}/reset", self._reset, 204),
        ]
        admin_body = json_parser(
            self._bad_admin_request, "Body must be JSON.", "Body must be a JSON object."
        )
        admin_routes = build_routes(endpoints, admin_body)
        super().__init__(
            routes=[*admin_routes, *backend.routes()],
            exception_handlers={
                ApiError: self._render_api_error,
                HTTPException: self._render_http_exception,
            },
        )

    def close(self) -> None:
        self.backend.store.close()

    # ----------------------------------------------------------------- ASGI entry point

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        await self._serve_http(scope, receive, send)

    async def _serve_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        status: dict[str, int | None] = {"code": None}

        async def send_with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
                status["code"] = message["status"]
            await send(message)

        method: str = scope["method"]
        path: str = scope["path"]
        raw_body, too_large = await _read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        body = parse_body(raw_body, headers.get("content-type", ""))
        is_admin = path == "/_emulate" or path.startswith("/_emulate/")
        dropped = lose_answer = False
        try:
            hook = None if is_admin or too_large else self.hooks.take(method, path)
            if hook is not None and hook.latency_ms:
                await asyncio.sleep(hook.latency_ms / 1000)
            if hook is not None and hook.drop_connection:
                dropped = True
                _drop_connection(send)
                return
            early = self._early_answer(method, path, headers, body, too_large, is_admin, hook)
            if early is not None:
                await _send_answer(send_with_request_id, *early)
                return
            lose_answer = hook is not None and hook.lose_answer
            # A lost answer: the request is carried out, its status noted, nothing sent.
            answer_to = _recording_status(status) if lose_answer else send_with_request_id
            await super().__call__(scope, _replaying_receive(raw_body, receive), answer_to)
            if lose_answer:
                dropped = True
                _drop_connection(send)
        except Exception:
            logger.exception("emulator error on %s %s", method, path)
            if status["code"] is None:
                error = self.backend.error_body(500, "Internal server error.")
                await _send_answer(send_with_request_id, *_json_answer(500, error))
        finally:
            if not is_admin:  # the log is API traffic; admin calls would only be noise
                secrets = self.backend.secret_fields
                self.request_log.append(
                    {
                        "id": request_id,
                        "at": now_iso(),
                        "method": method,
                        "path": path,
                        "query": redact(
                            dict(parse_qsl(scope["query_string"].decode("latin-1"))), secrets
                        ),
                        "status": status["code"] if lose_answer or not dropped else None,
                        "dropped": dropped,
                        "body": redact(body, secrets),
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    }
                )

    def _early_answer(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: Any,
        too_large: bool,
        is_admin: bool,
        hook: FaultHook | None,
    ) -> Answer | None:
        """The answer a request gets before any route sees it, if it gets one: a body too
        large, an injected fault's status, a missing or wrong key, a full rate-limit bucket."""
        error_body = self.backend.error_body
        if too_large:
            return _json_answer(413, error_body(413, "Request body too large."))
        if hook is not None and hook.status is not None and hook.raw_body is not None:
            return hook.status, hook.raw_body.encode(), hook.content_type, {}
        if hook is not None and hook.status is not None:
            fault = error_body(hook.status, "Injected fault.", "emulator_fault")
            return _json_answer(hook.status, fault if hook.body is None else hook.body)
        if (method, path) not in self.public_routes and not self._authorized(headers, is_admin):
            return _json_answer(401, error_body(401, "Unauthorized", "unauthorized"))
        limited = (
            None if is_admin or not self.rate_limits.enabled else self._admit(method, path, body)
        )
        if limited is None:
            return None
        bucket, wait = limited
        retry_after = {"retry-after": str(max(1, math.ceil(wait)))}
        return _json_answer(429, self.backend.rate_limited_body(bucket), retry_after)

    def _authorized(self, headers: Mapping[str, str], is_admin: bool) -> bool:
        """A bearer token: the API key on admin routes, what the backend accepts on its API."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        if is_admin:
            return hmac.compare_digest(token.strip().encode(), self.api_key.encode())
        return self.backend.accepts_token(token.strip(), self.api_key)

    def _admit(self, method: str, path: str, body: Any) -> tuple[str, float] | None:
        claims: list[tuple[str, Limit]] = []
        bucket_of: dict[str, str] = {}
        for bucket, key in self.backend.rate_limit_claims(method, path, body):
            limit = self.rate_limits.limit_for(bucket)
            if limit is not None:
                claim_key = f"{bucket}:{key}"
                bucket_of[claim_key] = bucket
                claims.append((claim_key, limit))
        refused = self.limiter.try_acquire(claims)
        return None if refused is None else (bucket_of[refused[0]], refused[1])

    # ----------------------------------------------------------------- error rendering

    async def _render_api_error(self, request: Request, exc: Exception) -> Response:
        error = cast(ApiError, exc)
        return JSONResponse(error.body, status_code=error.status, headers=error.headers)

    async def _render_http_exception(self, request: Request, exc: Exception) -> Response:
        error = cast(HTTPException, exc)
        message = "Not found." if error.status_code == 404 else str(error.detail)
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code)
        body = self.backend.error_body(error.status_code, message, code)
        return JSONResponse(body, status_code=error.status_code, headers=error.headers)

    # ----------------------------------------------------------------- admin routes

    def _bad_admin_request(self, message: str) -> ApiError:
        return ApiError(422, self.backend.error_body(422, message, "invalid_request_parameters"))

    def _admin_check(self, check: Callable[[], T]) -> T:
        """``check()``, its ``ValueError`` answered as the admin routes' 422."""
        try:
            return check()
        except ValueError as exc:
            raise self._bad_admin_request(str(exc)) from None

    @staticmethod
    def _listed(items: Iterable[Any]) -> dict[str, Any]:
        return {"object": "list", "data": list(items)}

    def _add_hook(self, call: Call) -> dict[str, Any]:
        hook = self._admin_check(lambda: FaultHook.from_dict(call.json))
        self.hooks.add(hook)
        return hook.to_dict()

    def _remove_hook(self, call: Call) -> None:
        if not self.hooks.remove(call.path["hook_id"]):
            raise ApiError(404, self.backend.error_body(404, "Hook not found.", "not_found"))

    def _set_social(self, call: Call) -> dict[str, Any]:
        client_id = call.json.get("client_id")
        self._admin_check(lambda: check_social_provider(call.path["provider"]))
        if not isinstance(client_id, str) or not client_id.strip():
            raise self._bad_admin_request("client_id must be a non-empty string.")
        return self.backend.social.set(call.path["provider"], client_id.strip())

    def _delete_social(self, call: Call) -> None:
        self._admin_check(lambda: check_social_provider(call.path["provider"]))
        self.backend.social.delete(call.path["provider"])

    def _set_rate_limits(self, call: Call) -> dict[str, Any]:
        self.rate_limits = self._admin_check(lambda: self.rate_limits.updated(call.json))
        self.limiter.reset()
        return self.rate_limits.to_dict()

    def _reset(self, call: Call) -> None:
        """Back to the state at start: the seed, the configured limits, no hooks, no log."""
        self.backend.social.clear()
        self.backend.reset()
        self.hooks.clear()
        self.rate_limits = self.initial_rate_limits
        self.limiter.reset()
        self.request_log.clear()


# An answer as sent: status, body, its content type, any further headers.
Answer = tuple[int, bytes, str, Mapping[str, str]]


def _json_answer(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Answer:
    return status, json.dumps(body).encode(), "application/json", headers or {}


async def _send_answer(
    send: Send, status: int, payload: bytes, content_type: str, headers: Mapping[str, str]
) -> None:
    raw_headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(payload)).encode()),
        *((k.encode(), v.encode()) for k, v in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole request body (the log and the rate limiter need it before routing)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= MAX_BODY_BYTES:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), size > MAX_BODY_BYTES


def _replaying_receive(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class ConnectionDropped(Exception):
    """Raised when the server's transport is out of reach (e.g. an in-process test client)."""


def _recording_status(status: dict[str, int | None]) -> Send:
    """A ``send`` that notes the status the request was answered with and sends nothing:
    the request is carried out, its answer lost."""

    async def swallow(message: Message) -> None:
        if message["type"] == "http.response.start":
            status["code"] = message["status"]

    return swallow


def _drop_connection(send: Send) -> None:
    """Close the client's socket without writing a response byte.

    uvicorn's h11 protocol passes a bound ``RequestResponseCycle.send``; its owner holds the
    transport. Marking the cycle disconnected stops uvicorn from writing its own 500.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if cycle is None or transport is None:
        raise ConnectionDropped("cannot reach the transport to drop the connection")
    cycle.disconnected = True
    transport.abort()
