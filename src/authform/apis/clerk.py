"""Clerk's Backend API client: the one way authform talks to a Clerk instance.

Both the ``clerk-api`` user-import source (``sources.clerk_api``, which reads users,
organizations and memberships) and the Clerk target (``providers.clerk``, which reads and
writes the configuration) build their client here, so the endpoint, the API version, the
key's rate limit and the reading of Clerk's error bodies are stated once.

Every request goes through the shared ``ApiClient``: a client-side window at Clerk's
documented limit (100 requests per 10 s for ``sk_test_`` keys, 1,000 for ``sk_live_``),
``Retry-After`` honoured on 429, 5xx and timeouts retried with jittered backoff, a bounded
number of attempts, and HTTPS only (plain HTTP to loopback emulators).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

import httpx

from authform.providers.http import ApiClient, RateLimit, RetryPolicy, WindowLimiter

DEFAULT_BASE_URL = "https://api.clerk.com/v1"
# https://clerk.com/docs/guides/how-clerk-works/system-limits (per instance, i.e. secret key).
DEVELOPMENT_LIMIT = RateLimit(100, 10.0)
PRODUCTION_LIMIT = RateLimit(1000, 10.0)
# Pins the answers to the shapes authform parses (the 2026-05-12 document's), whatever the
# instance's default version is.
API_VERSION = "2026-05-12"


def rate_limit_for_key(secret_key: str) -> RateLimit:
    """Clerk's documented limit for the instance a secret key belongs to."""
    return PRODUCTION_LIMIT if secret_key.startswith("sk_live_") else DEVELOPMENT_LIMIT


def describe_clerk_error(response: httpx.Response) -> tuple[str | None, str]:
    """``(code, message)`` from Clerk's ``{errors: [{message, long_message, code}],
    clerk_trace_id}``; every error is listed, the trace id appended for support tickets."""
    body = response.json()
    errors = body.get("errors") if isinstance(body, Mapping) else None
    code: str | None = None
    parts: list[str] = []
    for error in errors if isinstance(errors, list) else []:
        if not isinstance(error, Mapping):
            continue
        code = code or (str(error["code"]) if error.get("code") else None)
        text = str(error.get("long_message") or error.get("message") or "").strip()
        param = (
            error.get("meta", {}).get("param_name")
            if isinstance(error.get("meta"), Mapping)
            else None
        )
        if text:
            parts.append(f"{text} [{param}]" if param and param not in text else text)
    message = "; ".join(parts) or response.reason_phrase
    if response.status_code == 401:
        message += (
            " (check the secret key: sk_test_… for a development instance, sk_live_… for "
            "production)"
        )
    # When the body has no trace id, Clerk's own SDK falls back to the cf-ray header.
    trace_id = body.get("clerk_trace_id") if isinstance(body, Mapping) else None
    trace_id = trace_id or response.headers.get("cf-ray")
    if trace_id:
        message += f" (clerk trace id {trace_id})"
    return code, message


def api_base_url(url: str) -> str:
    """The Backend API root: ``/v1`` is added to a URL with no path, so both
    ``https://api.clerk.com`` and an emulator's root URL name the API itself."""
    parts = urlsplit(url.strip())
    if parts.path in ("", "/"):
        return urlunsplit(parts._replace(path="/v1"))
    return url.strip()


def clerk_api_client(
    secret_key: str,
    base_url: str,
    *,
    label: str,
    limiter: WindowLimiter,
    max_concurrency: int,
    timeout: float = 30.0,
    retry: RetryPolicy | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ApiClient:
    """An ``ApiClient`` for one Clerk instance: its key as bearer token, the pinned API
    version, Clerk's error bodies read by ``describe_clerk_error`` and every request drawn
    from ``limiter`` (the caller owns it: Clerk has one window per instance). ``label``
    names the API in messages. Raises ``ProviderError`` for a base URL that is neither HTTPS
    nor loopback. Clerk documents no idempotency header; creates converge by key instead."""

    async def headers() -> Mapping[str, str]:
        return {"Authorization": f"Bearer {secret_key}", "Clerk-API-Version": API_VERSION}

    return ApiClient(
        api_base_url(base_url),
        provider_name=label,
        headers=headers,
        describe_error=describe_clerk_error,
        limiters_for=lambda method, path: (limiter,),
        max_concurrency=max_concurrency,
        timeout=timeout,
        retry=retry,
        idempotency_header=None,
        transport=transport,
    )
