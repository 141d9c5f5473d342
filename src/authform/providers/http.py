"""One async HTTP client per provider: auth, HTTPS policy, rate limiting, retries, pagination.

Everything about talking HTTP well lives here so each provider module is only the mapping
between its API's shapes and authform's canonical resources.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import json as jsonlib
import logging
import random
import re
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from authform.providers.base import ApiRefusal, ProviderError

# answer_error and RateLimit live where importing them costs no httpx; the providers and
# plug-ins that talk HTTP import them from here as before.
from authform.providers.exchange import LAST_EXCHANGE, Exchange
from authform.providers.exchange import answer_error as answer_error
from authform.providers.rate_limit import RateLimit as RateLimit
from authform.providers.transport_errors import describe_transport_error
from authform.redaction import MIN_SECRET_LENGTH, PASSWORD_HASH, SENSITIVE, is_password_hash
from authform.redaction import redact as redact_known

logger = logging.getLogger("authform.http")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_secure_base_url(base_url: str) -> str:
    """Credentials only ever travel over HTTPS; plain HTTP is allowed to loopback emulators."""
    parts = urlsplit(base_url)
    if parts.scheme == "https":
        return base_url.rstrip("/")
    if parts.scheme == "http" and parts.hostname and is_loopback_host(parts.hostname):
        return base_url.rstrip("/")
    raise ProviderError(
        f"refusing to send credentials to {parts.scheme}://{parts.hostname}: "
        "the API base URL must use https (plain http is allowed only for loopback emulators)"
    )


class WindowLimiter:
    """Sliding-window limiter: waits until starting one more request keeps within the limit.

    A sliding window (rather than a token bucket with burst) never exceeds the documented
    "N per window" however requests line up, so a full-speed import stays just under the
    server's limit instead of bouncing off it.

    When the server answers 429 anyway (another client sharing the key, uneven latency),
    ``throttled`` adapts: it lowers this limiter's share by 10% (never below half the
    documented limit) and briefly holds every caller so the server's window drains; each
    window that passes without a 429 gives 5% back. The request that got the 429 itself waits
    its ``Retry-After``; the others are not held for it, since a server's whole-second
    ``Retry-After`` would otherwise stall a full import for a few milliseconds of overshoot.
    """

    def __init__(
        self,
        limit: RateLimit,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limit = limit
        # Requests reach the server a little after they start here, and not all equally
        # late; a window slightly longer than the server's keeps a burst at a window edge
        # from landing inside the server's window (2.5–5% of throughput for no 429s).
        self._window = limit.per_seconds + min(0.25, 0.05 * limit.per_seconds)
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._paused_until = 0.0
        self._capacity = float(limit.requests)
        self._last_throttle = -float("inf")
        self._lock = asyncio.Lock()

    @property
    def capacity(self) -> int:
        """Requests this limiter currently allows per window (adapted after 429s)."""
        return max(1, int(self._capacity))

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await self._sleep(self._paused_until - now)
                    continue
                window_start = now - self._window
                while self._starts and self._starts[0] <= window_start:
                    self._starts.popleft()
                self._recover(now)
                if len(self._starts) < self.capacity:
                    self._starts.append(now)
                    return
                # A floor on the wait keeps float rounding from spinning on a zero sleep.
                await self._sleep(max(self._starts[0] - window_start, 0.001))

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def throttled(self) -> None:
        now = self._clock()
        self._capacity = max(self.limit.requests * 0.5, self._capacity * 0.9)
        self._last_throttle = now
        self.pause(self._window * 0.05)

    def _recover(self, now: float) -> None:
        if self._capacity >= self.limit.requests:
            return
        windows = int((now - self._last_throttle) / self._window)
        if windows >= 1:
            self._capacity = min(
                float(self.limit.requests), self._capacity + 0.05 * self.limit.requests * windows
            )
            self._last_throttle += windows * self._window


@dataclass(frozen=True)
class RetryPolicy:
    """``max_attempts`` bounds retries of an answer that failed (5xx, 429, a dropped
    connection); ``max_connect_attempts`` bounds tries to reach a host that does not answer
    at all, so a wrong ``base_url`` fails in seconds, not minutes."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 60.0
    max_connect_attempts: int = 3

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff, so parallel workers don't retry in lockstep."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """Remove ``secrets`` (credentials this request carried), every secret authform was
    given (``authform.redaction``) and password hashes from text bound for a message. A
    password hash the request carried reads "(password hash)", as every other hash does,
    whichever of several concurrent requests met the error."""
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, PASSWORD_HASH if is_password_hash(secret) else SENSITIVE)
    return redact_known(text)


# Request fields whose values must not come back in an error message should the API echo
# the request: the client knows them only for the request it is sending.
_SECRET_FIELDS = frozenset(
    {"password", "client_secret", "secret", "api_key", "token", "password_hash", "password_digest"}
)


def _request_secrets(response: httpx.Response, *bodies: Any) -> list[str]:
    """The credentials the request behind ``response`` carried: its bearer token (which may
    be a short-lived one the manifest never held) and secret fields of its body. Kept per
    request: concurrent requests each know their own."""
    auth = response.request.headers.get("authorization")
    found = [auth.split(" ", 1)[-1]] if auth else []
    for body in bodies:
        if isinstance(body, Mapping):
            found += [
                v for k, v in body.items() if k in _SECRET_FIELDS and isinstance(v, str) and v
            ]
    return found


_HTML_TAG = re.compile(r"<[^>]*>")


def _snippet(text: str, limit: int = 160) -> str:
    """A one-line, bounded excerpt of an answer's body for an error message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# A host that has not accepted a connection within this long is unreachable, not slow.
CONNECT_TIMEOUT = 10.0

ErrorDescriber = Callable[[httpx.Response], tuple[str | None, str]]
LimiterChooser = Callable[[str, str], Sequence[WindowLimiter]]


@dataclass
class RequestStats:
    """Counters the benchmarks and progress output read."""

    requests: int = 0
    writes: int = 0
    retries: int = 0
    throttled: int = 0


class ApiClient:
    """Async JSON client for one provider account.

    ``headers`` returns auth headers (async so OAuth providers can fetch a token);
    ``on_unauthorized`` lets such providers refresh once on 401. ``describe_error`` turns a
    provider's error body into (code, message). ``limiters_for(method, path)`` names the
    rate-limit windows a request counts against.
    """

    def __init__(
        self,
        base_url: str,
        *,
        provider_name: str,
        headers: Callable[[], Awaitable[Mapping[str, str]]],
        describe_error: ErrorDescriber,
        limiters_for: LimiterChooser,
        on_unauthorized: Callable[[], Awaitable[bool]] | None = None,
        max_concurrency: int = 16,
        timeout: float = 30.0,
        connect_timeout: float = CONNECT_TIMEOUT,
        retry: RetryPolicy | None = None,
        idempotency_header: str | None = "Idempotency-Key",
        request_id_header: str = "x-request-id",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = require_secure_base_url(base_url)
        self.provider_name = provider_name
        self._headers = headers
        self._describe_error = describe_error
        self._limiters_for = limiters_for
        self._on_unauthorized = on_unauthorized
        self._retry = retry or RetryPolicy()
        self._idempotency_header = idempotency_header
        self._request_id_header = request_id_header
        self.stats = RequestStats()

        # ``max_concurrency`` lanes, each a client of one connection, taken and given back
        # per request: the lanes are the concurrency limit. One pool of N connections would
        # do the same, but httpcore's pool checks every connection it holds, and counts its
        # idle ones once per connection, on each request: at 16 connections that was half of
        # the client's CPU per write (bench/http_client_cpu.py), the bound of a rate-paced
        # import on a small CI runner. Last in, first out: the warmest connection serves
        # next, and a lane is made when first needed, so lanes a slow pace never needs cost
        # nothing. A transport given by the caller (tests, fault injection) is one shared
        # client, lent out as every lane.
        self._client_settings: dict[str, Any] = {
            "base_url": self.base_url,
            "timeout": httpx.Timeout(timeout, connect=connect_timeout),
            "transport": transport,
            "follow_redirects": False,
            "headers": {"User-Agent": "authform", "Accept": "application/json"},
        }
        self._clients: list[httpx.AsyncClient] = []
        shared = self._new_client(max_concurrency) if transport is not None else None
        self._lanes: asyncio.LifoQueue[httpx.AsyncClient | None] = asyncio.LifoQueue()
        for _ in range(max_concurrency):
            self._lanes.put_nowait(shared)

    def _new_client(self, connections: int) -> httpx.AsyncClient:
        if "verify" not in self._client_settings and self._client_settings["transport"] is None:
            # One TLS context for every lane: each client would otherwise build its own,
            # reading the CA bundle again (tens of milliseconds each).
            self._client_settings["verify"] = httpx.create_ssl_context()
        client = httpx.AsyncClient(
            **self._client_settings,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )
        self._clients.append(client)
        return client

    async def aclose(self) -> None:
        for lane in self._clients:
            await lane.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        expected: Sequence[int] = (200, 201, 202, 204),
        follow: bool = False,
    ) -> httpx.Response:
        """Send one logical request, retrying what is safe to retry.

        Creates carry one Idempotency-Key across all their attempts, so a retry after a
        dropped connection cannot create the same thing twice.
        """
        method = method.upper()
        extra: dict[str, str] = {}
        if method == "POST" and self._idempotency_header:
            extra[self._idempotency_header] = str(uuid.uuid4())
        refreshed = False
        attempt = 0
        connect_attempts = 0
        while True:
            attempt += 1
            headers = {**(await self._headers()), **extra}
            try:
                lane = await self._lanes.get()
                try:
                    if lane is None:
                        lane = self._new_client(1)
                    # Take the rate-limit slot only once a connection is ours: a slot taken
                    # while queued would be "spent" early and the queue would then reach the
                    # server as a burst above the limit.
                    for limiter in self._limiters_for(method, path):
                        await limiter.acquire()
                    self.stats.requests += 1
                    if method in WRITE_METHODS:
                        self.stats.writes += 1
                    response = await lane.request(
                        method, path, params=params, json=json, data=data, headers=headers
                    )
                finally:
                    self._lanes.put_nowait(lane)  # None again if it failed to be made
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                failure = describe_transport_error(exc, self.base_url)
                if failure.before_connecting:
                    connect_attempts += 1
                limit = (
                    self._retry.max_connect_attempts
                    if failure.before_connecting
                    else self._retry.max_attempts
                )
                tries = connect_attempts if failure.before_connecting else attempt
                if not failure.retryable or tries >= limit:
                    tried = f" (tried {tries} times)" if tries > 1 else ""
                    raise ProviderError(
                        f"{self.provider_name}: {method} {self.base_url}{path} failed: "
                        f"{failure.reason}{tried}{failure.hint}"
                    ) from None
                self.stats.retries += 1
                delay = self._retry.backoff(tries)
                if failure.before_connecting:
                    # Say so: a silent wait reads as a hang in a CI log.
                    logger.warning(
                        "%s: %s; retrying in %.1f s (attempt %d of %d)",
                        self.provider_name,
                        failure.reason,
                        delay,
                        tries + 1,
                        limit,
                    )
                await asyncio.sleep(delay)
                continue

            LAST_EXCHANGE.set(
                Exchange(
                    self.provider_name,
                    method,
                    self.base_url,
                    path,
                    response.status_code,
                    response.headers.get(self._request_id_header),
                    response.headers.get("content-type", ""),
                )
            )
            if response.status_code == 401 and self._on_unauthorized and not refreshed:
                refreshed = await self._on_unauthorized()
                if refreshed:
                    continue
            if response.status_code in RETRYABLE_STATUSES and attempt < self._retry.max_attempts:
                self.stats.retries += 1
                delay = self._retry.backoff(attempt)
                if response.status_code == 429:
                    self.stats.throttled += 1
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                    if retry_after is not None:
                        delay = min(retry_after, self._retry.max_retry_after) + random.uniform(
                            0, 0.25
                        )
                    for limiter in self._limiters_for(method, path):
                        limiter.throttled()
                await asyncio.sleep(delay)
                continue
            if response.status_code in expected or (follow and 300 <= response.status_code < 400):
                return response
            raise self._error(method, path, response, _request_secrets(response, json, data))

    def _error(
        self, method: str, path: str, response: httpx.Response, secrets: Sequence[str]
    ) -> ProviderError:
        try:
            code, message = self._describe_error(response)
        except Exception:  # an error page that is not the API's JSON must still read well
            code = None
            kind = response.headers.get("content-type", "").split(";")[0].strip()
            text = _HTML_TAG.sub(" ", response.text) if "html" in kind else response.text
            message = _snippet(text) or response.reason_phrase
            if kind and "json" not in kind:
                message = f"{message} (a {kind} page, not the API's answer: a proxy or gateway?)"
        request_id = response.headers.get(self._request_id_header)
        detail = f"{self.provider_name}: {method} {path} → HTTP {response.status_code}"
        if code:
            detail += f" {code}"
        # An error body can be megabytes (a gateway's page, a validation dump); the message
        # keeps what a person reads.
        detail += f": {_snippet(str(message), 500)}"
        detail = redact(detail, secrets)
        if request_id:
            detail += f" (request id {request_id})"
        return ProviderError(detail, ApiRefusal(response.status_code, code, request_id))

    def decode(self, method: str, path: str, response: httpx.Response, sent: Any = None) -> Any:
        """The answer's JSON; an answer that is not JSON (a proxy's HTML page, a truncated
        body) is a ``ProviderError`` naming the request, not a ``JSONDecodeError``."""
        try:
            return jsonlib.loads(response.content)
        except ValueError:
            kind = response.headers.get("content-type", "").split(";")[0].strip() or "no type"
            request_id = response.headers.get(self._request_id_header)
            detail = (
                f"{self.provider_name}: {method} {path} → HTTP {response.status_code}: "
                f"the answer is not JSON ({kind}: {_snippet(response.text, 120)!r})"
            )
            detail = redact(detail, _request_secrets(response, sent))
            if request_id:
                detail += f" (request id {request_id})"
            raise ProviderError(
                detail, ApiRefusal(response.status_code, request_id=request_id)
            ) from None

    async def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.decode("GET", path, await self.request("GET", path, params=params))

    async def send_json(self, method: str, path: str, body: Any = None) -> Any:
        response = await self.request(method, path, json=body)
        if response.status_code == 204 or not response.content:
            return None
        return self.decode(method.upper(), path, response, body)

    async def paginate_cursor(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        limit: int = 100,
        data_key: str = "data",
        next_cursor: Callable[[Any], str | None],
        cursor_param: str = "after",
        limit_param: str = "limit",
    ) -> AsyncIterator[Any]:
        """Walk a cursor-paginated list, yielding items; stops when the cursor runs out.

        ``limit_param``/``cursor_param`` name the page-size and cursor query parameters
        (WorkOS: ``limit``/``after``; Scalekit: ``page_size``/``page_token``).
        """
        query = {**(params or {}), limit_param: limit}
        while True:
            page = await self.get_json(path, query)
            for item in page.get(data_key) or []:
                yield item
            cursor = next_cursor(page)
            if not cursor:
                return
            query = {**query, cursor_param: cursor}
