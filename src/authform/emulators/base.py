"""What every provider emulator shares: API-key auth, rate limiting, fault injection, a
request log, ``GET /health`` and the ``/_emulate`` admin routes.

A provider emulator is an ``EmulatorBackend`` (its routes, its error-body shape, which rate
limit buckets a request draws from) wrapped in an ``EmulatorApp``. The app is a Starlette
subclass rather than a middleware so that it sees uvicorn's own ``send`` callable: that is
the only handle on the socket, and a fault hook with ``drop_connection`` needs to close it
without writing a response, the way a load balancer or a crashed server would.

Conventions are borrowed from WorkOS's own emulator (github ``workos/emulate``): ``/health``,
a YAML seed file, and ``/_emulate/hooks`` for injecting errors.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import math
import re
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, ClassVar, Literal, Self, cast
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Message, Receive, Scope, Send

from authform.social import SOCIAL_PROVIDERS

from .store import SqliteStore, new_id, now_iso

logger = logging.getLogger("authform.emulators")

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
MAX_BODY_BYTES = 10 * 1024 * 1024
REQUEST_LOG_SIZE = 20_000


class ApiError(Exception):
    """Raised by route handlers; rendered as a JSON error response with the given body."""

    def __init__(
        self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(body.get("message") or body.get("error_description") or str(status))
        self.status = status
        self.body = dict(body)
        self.headers = dict(headers or {})


# --------------------------------------------------------------------------- rate limiting


@dataclass(frozen=True)
class Limit:
    """``requests`` per ``per_seconds``; ``sliding`` counts the last window from now, ``fixed``
    resets the count at window boundaries (cheaper, but allows a 2x burst across a boundary)."""

    requests: int
    per_seconds: float
    window: Literal["fixed", "sliding"] = "sliding"

    @classmethod
    def from_dict(cls, data: Any) -> Limit:
        if not isinstance(data, Mapping):
            raise ValueError("a limit must be an object {requests, per_seconds, window?}")
        requests, per_seconds = data.get("requests"), data.get("per_seconds")
        window = data.get("window", "sliding")
        if not isinstance(requests, int) or isinstance(requests, bool) or requests < 1:
            raise ValueError("requests must be a positive integer")
        if not isinstance(per_seconds, int | float) or isinstance(per_seconds, bool):
            raise ValueError("per_seconds must be a positive number")
        if per_seconds <= 0:
            raise ValueError("per_seconds must be a positive number")
        if window not in ("fixed", "sliding"):
            raise ValueError("window must be 'fixed' or 'sliding'")
        return cls(requests=requests, per_seconds=float(per_seconds), window=window)


@dataclass(frozen=True)
class LimitTable:
    """Base for a provider's rate-limit configuration: every other field is a bucket name
    holding a ``Limit`` (or ``None`` to switch that bucket off)."""

    enabled: bool = True

    def limit_for(self, bucket: str) -> Limit | None:
        value = getattr(self, bucket, None)
        return value if isinstance(value, Limit) and self.enabled else None

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            result[item.name] = asdict(value) if isinstance(value, Limit) else value
        return result

    def updated(self, changes: Mapping[str, Any]) -> Self:
        """A copy with ``changes`` applied (partial update); raises ValueError on bad input."""
        known = [item.name for item in fields(self)]
        parsed: dict[str, Any] = {}
        for key, value in changes.items():
            if key not in known:
                raise ValueError(f"unknown rate-limit setting {key!r}; known: {', '.join(known)}")
            if key == "enabled":
                if not isinstance(value, bool):
                    raise ValueError("enabled must be a boolean")
                parsed[key] = value
            else:
                try:
                    parsed[key] = None if value is None else Limit.from_dict(value)
                except ValueError as exc:
                    raise ValueError(f"{key}: {exc}") from None
        return replace(self, **parsed)


class _Window:
    """Counts for one (bucket, key): a timestamp log (sliding) or a counter (fixed)."""

    __slots__ = ("hits", "window_start", "count")

    def __init__(self) -> None:
        self.hits: deque[float] = deque()
        self.window_start = 0.0
        self.count = 0

    def wait_needed(self, limit: Limit, now: float) -> float:
        """Seconds until one more request fits; 0 when it fits now."""
        if limit.window == "sliding":
            horizon = now - limit.per_seconds
            while self.hits and self.hits[0] <= horizon:
                self.hits.popleft()
            if len(self.hits) < limit.requests:
                return 0.0
            return self.hits[len(self.hits) - limit.requests] + limit.per_seconds - now
        start = math.floor(now / limit.per_seconds) * limit.per_seconds
        if start != self.window_start:
            self.window_start, self.count = start, 0
        if self.count < limit.requests:
            return 0.0
        return start + limit.per_seconds - now

    def record(self, limit: Limit, now: float) -> None:
        if limit.window == "sliding":
            self.hits.append(now)
        else:
            self.count += 1


class RateLimiter:
    """All-or-nothing admission across several buckets; rejected requests are not counted."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def try_acquire(self, claims: Sequence[tuple[str, Limit]]) -> tuple[str, float] | None:
        """Admit a request drawing on every ``(key, limit)``; else ``(key, seconds to wait)``."""
        with self._lock:
            now = self._clock()
            worst: tuple[str, float] | None = None
            for key, limit in claims:
                window = self._windows.setdefault(key, _Window())
                wait = window.wait_needed(limit, now)
                if wait > 0 and (worst is None or wait > worst[1]):
                    worst = (key, wait)
            if worst is not None:
                return worst
            for key, limit in claims:
                self._windows[key].record(limit, now)
            if len(self._windows) > 50_000:  # per-email buckets: forget idle ones
                self._windows = {k: w for k, w in self._windows.items() if w.hits or w.count}
            return None

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


# --------------------------------------------------------------------------- fault hooks


@dataclass
class FaultHook:
    """Fail requests whose method and path match: answer ``status``, add ``latency_ms``,
    or close the connection without answering. ``times`` matches, then it expires.

    ``body`` replaces the provider's error body with any JSON value; ``raw_body`` answers
    text that is not JSON at all (a gateway's HTML page), as ``content_type``. With either,
    ``status`` may also be a success (2xx): an answer that breaks the API's contract (a
    create answered without an ``id``), which a client must survive.

    ``lose_answer`` carries the request out and then closes the connection without
    answering: the write landed but the client cannot know (what a killed proxy or a
    network cut after the server committed looks like), so a retry meets its own item.
    """

    id: str
    method: str
    path: str
    status: int | None = None
    latency_ms: int = 0
    drop_connection: bool = False
    lose_answer: bool = False
    times: int | None = None
    body: Any = None
    raw_body: str | None = None
    content_type: str = "text/html; charset=utf-8"
    _pattern: re.Pattern[str] = field(default=re.compile(".*"), repr=False)

    @classmethod
    def from_dict(cls, data: Any) -> FaultHook:
        if not isinstance(data, Mapping):
            raise ValueError("a hook must be a JSON object")
        unknown = set(data) - {
            "method",
            "path",
            "status",
            "latency_ms",
            "drop_connection",
            "lose_answer",
            "times",
            "body",
            "raw_body",
            "content_type",
        }
        if unknown:
            raise ValueError(f"unknown hook fields: {', '.join(sorted(unknown))}")
        method = data.get("method", "*")
        path = data.get("path", ".*")
        status = data.get("status")
        latency_ms = data.get("latency_ms", 0)
        drop = data.get("drop_connection", False)
        lose_answer = data.get("lose_answer", False)
        times = data.get("times")
        body = data.get("body")
        raw_body = data.get("raw_body")
        content_type = data.get("content_type", "text/html; charset=utf-8")
        if not isinstance(method, str) or not method:
            raise ValueError("method must be an HTTP method or '*'")
        if not isinstance(path, str):
            raise ValueError("path must be a regular expression string")
        try:
            pattern = re.compile(path)
        except re.error as exc:
            raise ValueError(f"path is not a valid regular expression: {exc}") from None
        lowest = 200 if body is not None or raw_body is not None else 400
        if status is not None and (
            not isinstance(status, int) or isinstance(status, bool) or not lowest <= status <= 599
        ):
            raise ValueError(
                f"status must be an integer between {lowest} and 599 "
                "(a success status needs body or raw_body)"
            )
        if not isinstance(latency_ms, int) or isinstance(latency_ms, bool) or latency_ms < 0:
            raise ValueError("latency_ms must be a non-negative integer")
        if latency_ms > 120_000:
            raise ValueError("latency_ms must be at most 120000")
        if not isinstance(drop, bool):
            raise ValueError("drop_connection must be a boolean")
        if not isinstance(lose_answer, bool):
            raise ValueError("lose_answer must be a boolean")
        if times is not None and (
            not isinstance(times, int) or isinstance(times, bool) or times < 1
        ):
            raise ValueError("times must be a positive integer")
        if raw_body is not None and (not isinstance(raw_body, str) or body is not None):
            raise ValueError("raw_body must be a string, and excludes body")
        if not isinstance(content_type, str) or not content_type:
            raise ValueError("content_type must be a media type")
        if status is None and not drop and not lose_answer and latency_ms == 0:
            raise ValueError("a hook needs status, latency_ms, drop_connection or lose_answer")
        return cls(
            id=new_id("hook_"),
            method=method.upper(),
            path=path,
            status=status,
            latency_ms=latency_ms,
            drop_connection=drop,
            lose_answer=lose_answer,
            times=times,
            body=body,
            raw_body=raw_body,
            content_type=content_type,
            _pattern=pattern,
        )

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and self._pattern.fullmatch(path) is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "drop_connection": self.drop_connection,
            "lose_answer": self.lose_answer,
            "times": self.times,
            "body": self.body,
            "raw_body": self.raw_body,
            "content_type": self.content_type,
        }


class FaultHooks:
    def __init__(self) -> None:
        self._hooks: list[FaultHook] = []
        self._lock = threading.Lock()

    def add(self, hook: FaultHook) -> None:
        with self._lock:
            self._hooks.append(hook)

    def remove(self, hook_id: str) -> bool:
        with self._lock:
            before = len(self._hooks)
            self._hooks = [h for h in self._hooks if h.id != hook_id]
            return len(self._hooks) != before

    def clear(self) -> None:
        with self._lock:
            self._hooks.clear()

    def list(self) -> list[FaultHook]:
        with self._lock:
            return list(self._hooks)

    def take(self, method: str, path: str) -> FaultHook | None:
        """The first hook matching this request, counting the match against ``times``."""
        with self._lock:
            for hook in self._hooks:
                if hook.matches(method, path):
                    if hook.times is not None:
                        hook.times -= 1
                        if hook.times <= 0:
                            self._hooks.remove(hook)
                    return hook
            return None


# --------------------------------------------------------------------------- request log


def redact(value: Any) -> Any:
    """A copy of a request body with every secret field replaced by ``(redacted)``."""
    if isinstance(value, Mapping):
        return {
            key: REDACTED if key in SECRET_FIELDS and item is not None else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
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


# --------------------------------------------------------------------------- social connections

SOCIAL_SCHEMA = """
CREATE TABLE IF NOT EXISTS emulator_social_connections (
    provider TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""


class SocialConnections:
    """Social (OAuth) logins are dashboard-only on every provider we emulate; this is that
    dashboard: which OAuth client id each social provider is configured with."""

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


# --------------------------------------------------------------------------- backend + app


class EmulatorBackend(ABC):
    """One provider's API: its routes and the provider-specific shapes the app needs."""

    provider: ClassVar[str]
    # (METHOD, path) pairs that take no API key: browser routes, OAuth token endpoints.
    public_routes: ClassVar[frozenset[tuple[str, str]]] = frozenset()

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
        admin = [
            Route("/_emulate/requests", self._get_requests, methods=["GET"]),
            Route("/_emulate/requests", self._delete_requests, methods=["DELETE"]),
            Route("/_emulate/hooks", self._get_hooks, methods=["GET"]),
            Route("/_emulate/hooks", self._post_hook, methods=["POST"]),
            Route("/_emulate/hooks", self._delete_hooks, methods=["DELETE"]),
            Route("/_emulate/hooks/{hook_id}", self._delete_hook, methods=["DELETE"]),
            Route("/_emulate/social_connections", self._get_social, methods=["GET"]),
            Route("/_emulate/social_connections/{provider}", self._put_social, methods=["PUT"]),
            Route(
                "/_emulate/social_connections/{provider}", self._delete_social, methods=["DELETE"]
            ),
            Route("/_emulate/rate_limits", self._get_rate_limits, methods=["GET"]),
            Route("/_emulate/rate_limits", self._put_rate_limits, methods=["PUT"]),
            Route("/_emulate/reset", self._post_reset, methods=["POST"]),
        ]
        super().__init__(
            routes=[*admin, *backend.routes()],
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
        if path == "/health":
            await self._send_json(send_with_request_id, 200, {"status": "ok"})
            return

        raw_body, too_large = await _read_body(receive)
        replay = _replaying_receive(raw_body, receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        body = parse_body(raw_body, headers.get("content-type", ""))
        is_admin = path == "/_emulate" or path.startswith("/_emulate/")
        dropped = False
        lose_answer = False
        try:
            if too_large:
                await self._send_error(send_with_request_id, 413, "Request body too large.")
                return
            if not is_admin:
                hook = self.hooks.take(method, path)
                if hook is not None:
                    if hook.latency_ms:
                        await asyncio.sleep(hook.latency_ms / 1000)
                    if hook.drop_connection:
                        dropped = True
                        _drop_connection(send)
                        return
                    if hook.status is not None and hook.raw_body is not None:
                        await self._send_raw(
                            send_with_request_id, hook.status, hook.raw_body, hook.content_type
                        )
                        return
                    lose_answer = hook.lose_answer
                    if hook.status is not None:
                        fault_body = (
                            hook.body
                            if hook.body is not None
                            else self.backend.error_body(
                                hook.status, "Injected fault.", "emulator_fault"
                            )
                        )
                        await self._send_json(send_with_request_id, hook.status, fault_body)
                        return
            if (method, path) not in self.backend.public_routes and not self._authorized(headers):
                await self._send_error(send_with_request_id, 401, "Unauthorized", "unauthorized")
                return
            if not is_admin and self.rate_limits.enabled:
                limited = self._admit(method, path, body)
                if limited is not None:
                    bucket, wait = limited
                    await self._send_json(
                        send_with_request_id,
                        429,
                        self.backend.rate_limited_body(bucket),
                        {"retry-after": str(max(1, math.ceil(wait)))},
                    )
                    return
            if lose_answer:
                await super().__call__(scope, replay, _recording_status(status))
                dropped = True
                _drop_connection(send)
                return
            await super().__call__(scope, replay, send_with_request_id)
        except Exception:
            logger.exception("emulator error on %s %s", method, path)
            if status["code"] is None:
                await self._send_error(send_with_request_id, 500, "Internal server error.")
        finally:
            if not is_admin:  # the log is API traffic; admin calls would only be noise
                self.request_log.append(
                    {
                        "id": request_id,
                        "at": now_iso(),
                        "method": method,
                        "path": path,
                        "query": redact(dict(parse_qsl(scope["query_string"].decode("latin-1")))),
                        "status": status["code"] if lose_answer or not dropped else None,
                        "dropped": dropped,
                        "body": redact(body),
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    }
                )

    def _authorized(self, headers: Mapping[str, str]) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), self.api_key.encode()
        )

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

    async def _send_json(
        self,
        send: Send,
        status: int,
        body: Any,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        payload = json.dumps(body).encode()
        raw_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            *((k.encode(), v.encode()) for k, v in (headers or {}).items()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": payload})

    async def _send_raw(self, send: Send, status: int, text: str, content_type: str) -> None:
        payload = text.encode()
        raw_headers = [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(payload)).encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": payload})

    async def _send_error(
        self, send: Send, status: int, message: str, code: str | None = None
    ) -> None:
        await self._send_json(send, status, self.backend.error_body(status, message, code))

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

    async def _json_object(self, request: Request) -> dict[str, Any]:
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError:
            raise self._bad_admin_request("Body must be JSON.") from None
        if not isinstance(data, dict):
            raise self._bad_admin_request("Body must be a JSON object.")
        return data

    async def _get_requests(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": self.request_log.entries()})

    async def _delete_requests(self, request: Request) -> Response:
        self.request_log.clear()
        return Response(status_code=204)

    async def _get_hooks(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [h.to_dict() for h in self.hooks.list()]})

    async def _post_hook(self, request: Request) -> Response:
        try:
            hook = FaultHook.from_dict(await self._json_object(request))
        except ValueError as exc:
            raise self._bad_admin_request(str(exc)) from None
        self.hooks.add(hook)
        return JSONResponse(hook.to_dict(), status_code=201)

    async def _delete_hooks(self, request: Request) -> Response:
        self.hooks.clear()
        return Response(status_code=204)

    async def _delete_hook(self, request: Request) -> Response:
        if not self.hooks.remove(request.path_params["hook_id"]):
            raise ApiError(404, self.backend.error_body(404, "Hook not found.", "not_found"))
        return Response(status_code=204)

    async def _get_social(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": self.backend.social.list()})

    async def _put_social(self, request: Request) -> Response:
        provider = request.path_params["provider"]
        data = await self._json_object(request)
        client_id = data.get("client_id")
        try:
            check_social_provider(provider)
        except ValueError as exc:
            raise self._bad_admin_request(str(exc)) from None
        if not isinstance(client_id, str) or not client_id.strip():
            raise self._bad_admin_request("client_id must be a non-empty string.")
        return JSONResponse(self.backend.social.set(provider, client_id.strip()))

    async def _delete_social(self, request: Request) -> Response:
        provider = request.path_params["provider"]
        try:
            check_social_provider(provider)
        except ValueError as exc:
            raise self._bad_admin_request(str(exc)) from None
        self.backend.social.delete(provider)
        return Response(status_code=204)

    async def _get_rate_limits(self, request: Request) -> Response:
        return JSONResponse(self.rate_limits.to_dict())

    async def _put_rate_limits(self, request: Request) -> Response:
        try:
            self.rate_limits = self.rate_limits.updated(await self._json_object(request))
        except ValueError as exc:
            raise self._bad_admin_request(str(exc)) from None
        self.limiter.reset()
        return JSONResponse(self.rate_limits.to_dict())

    async def _post_reset(self, request: Request) -> Response:
        """Back to the state at start: the seed, the configured limits, no hooks, no log."""
        self.backend.social.clear()
        self.backend.reset()
        self.hooks.clear()
        self.rate_limits = self.initial_rate_limits
        self.limiter.reset()
        self.request_log.clear()
        return Response(status_code=204)


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
