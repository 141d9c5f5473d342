"""Scalekit's OAuth client credentials and its error bodies.

Every Scalekit API call carries an access token that the environment's client id and secret
obtain at ``POST /oauth/token``; ``ClientCredentials`` fetches it, caches it and refreshes it.
Scalekit's error bodies are gRPC statuses (``{"code": 5, "message": ...}``), or RFC 6749 bodies
at the token endpoint: ``describe_scalekit_error`` reads both.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable, Mapping, Sequence

import httpx

from authform.providers.base import ProviderError
from authform.providers.http import ApiClient, WindowLimiter, redact

TOKEN_PATH = "/oauth/token"
# A token is refreshed this long before it expires (Scalekit issues 24-hour tokens), so a
# request never leaves with a token that dies in flight.
TOKEN_REFRESH_MARGIN = 60.0


# gRPC status codes, as Scalekit's error bodies carry them (``{"code": 5, ...}``).
GRPC_CODES = {
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    6: "ALREADY_EXISTS",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    10: "ABORTED",
    11: "OUT_OF_RANGE",
    12: "UNIMPLEMENTED",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    15: "DATA_LOSS",
    16: "UNAUTHENTICATED",
}


def describe_scalekit_error(response: httpx.Response) -> tuple[str | None, str]:
    """(code, message) from a gRPC-status body, or from the OAuth token endpoint's body.

    ``{"code": 3, "message": "…", "details": [{"@type": "…ErrorInfo", "error_code": "…",
    "validation_error_info": {"field_violations": [{"field", "description"}]}}]}`` becomes
    ``("INVALID_ARGUMENT", "… (display_name: must be 1-200 characters)")``.
    """
    body = response.json()
    if not isinstance(body, dict):
        return None, response.reason_phrase
    if "error" in body and "code" not in body:  # RFC 6749 §5.2, the token endpoint
        return str(body["error"]), str(body.get("error_description") or response.reason_phrase)
    raw_code = body.get("code")
    code = GRPC_CODES.get(raw_code, str(raw_code)) if isinstance(raw_code, int) else raw_code
    message = str(body.get("message") or response.reason_phrase)
    violations: list[str] = []
    for detail in body.get("details") or []:
        if not isinstance(detail, dict):
            continue
        if detail.get("error_code") and detail["error_code"] != code:
            code = f"{code} {detail['error_code']}" if code else str(detail["error_code"])
        info = detail.get("validation_error_info") or {}
        for violation in info.get("field_violations") or []:
            if isinstance(violation, dict):
                violations.append(
                    f"{violation.get('field')}: "
                    f"{violation.get('description') or violation.get('constraint')}"
                )
    if violations:
        message = f"{message} ({'; '.join(violations)})"
    return (str(code) if code is not None else None), message


class ClientCredentials:
    """An OAuth client-credentials access token for the environment, fetched on first use,
    cached, refreshed shortly before it expires and once when the API answers 401.

    The token request goes through its own ``ApiClient`` (same HTTPS policy, retries and rate
    limiter, but no Authorization header: it is what obtains one). The client secret travels
    only in that form body; it is never in a header, log line or error message.
    """

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str,
        client_secret: str,
        limiters_for: Callable[[str, str], Sequence[WindowLimiter]],
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._clock = clock
        self._token: str | None = None
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()
        # The token the current request carried: a request runs in one task, so what
        # ``headers`` sets here is what ``refresh`` sees when that request meets a 401.
        self._sent: contextvars.ContextVar[str | None] = contextvars.ContextVar(
            "scalekit_token_sent", default=None
        )
        self.fetches = 0
        self._http = ApiClient(
            base_url,
            provider_name="Scalekit",
            headers=_no_headers,
            describe_error=describe_scalekit_error,
            limiters_for=limiters_for,
            max_concurrency=1,
            idempotency_header=None,
            transport=transport,
        )

    async def headers(self) -> Mapping[str, str]:
        token = await self.token()
        self._sent.set(token)
        return {"Authorization": f"Bearer {token}"}

    async def token(self) -> str:
        async with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                await self._fetch()
            assert self._token is not None
            return self._token

    async def refresh(self) -> bool:
        """The API said 401: the token was revoked or expired early. Fetch a new one, unless
        a concurrent request already replaced the one this request carried (a burst of 401s
        fetches once); a failed fetch raises, naming the token endpoint."""
        async with self._lock:
            if self._token is None or self._token == self._sent.get():
                await self._fetch()
        return True

    async def _fetch(self) -> None:
        try:
            response = await self._http.request(
                "POST",
                TOKEN_PATH,
                data={
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                    "grant_type": "client_credentials",
                },
                expected=(200,),
            )
        except ProviderError as exc:
            # The secret is in the form body, not a header, so the client cannot know to
            # redact it should the server echo it back.
            raise exc.reworded(redact(str(exc), [self._client_secret])) from None
        body = response.json()
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ProviderError("Scalekit: POST /oauth/token answered without an access_token")
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 3600.0
        now = self._clock()
        self._token = token
        # Refresh a margin before expiry; a token shorter-lived than twice the margin is
        # used for half its life instead.
        if lifetime > 2 * TOKEN_REFRESH_MARGIN:
            self._refresh_at = now + lifetime - TOKEN_REFRESH_MARGIN
        else:
            self._refresh_at = now + max(lifetime, 0.0) / 2
        self.fetches += 1

    async def aclose(self) -> None:
        await self._http.aclose()


async def _no_headers() -> Mapping[str, str]:
    return {}
