"""A local Clerk Backend API (``https://api.clerk.com/v1``): users, organizations and
organization memberships, and one instance's configuration (organization roles and
permissions, redirect URLs, the instance's allowed origins, organization domains and
metadata), with Clerk's paths, payloads, ids, pagination, error bodies and rate limits; plus
the one Frontend API answer authform reads (``/fapi/v1/environment``: which social
connections the emulated dashboard enabled).

Shapes follow Clerk's OpenAPI document (``tests/fixtures/openapi/clerk-bapi-2026-05-12.yml``)
and the official Python SDK generated from it (PyPI ``clerk-backend-api`` 7.x); the fidelity
tests check both and say where they disagree. What neither names (most error codes) follows
Clerk's published error index and real responses; the module constants say which is which.

One module per resource family (``users``, ``organizations``, ``memberships``, ``domains``,
``roles``, ``instance``, ``social``), each a table of its operations; request bodies are
tables of field rules (``forms``). Conventions that matter to clients:
- Timestamps are int64 Unix milliseconds; ids are KSUIDs behind Clerk's prefixes.
- ``GET /v1/users`` answers a bare JSON array (totals come from ``/v1/users/count``) and
  pages by ``offset`` or by the ``starting_after`` cursor, which needs a ``created_at``
  ordering and a zero offset (else 422). Organization and membership lists answer
  ``{data, total_count}`` and page by ``offset``.
- Errors are ``{errors: [{message, long_message, code, meta?}], clerk_trace_id}``; every
  problem in a request body is reported at once.
- Password digests and TOTP secrets are stored but never answered (the real API has no such
  fields) and never written to the request log.
- ``Clerk-API-Version`` is accepted and ignored: the emulator speaks 2026-05-12.
- Every instance starts with Clerk's system permissions (``org:sys_…``) and its default
  roles ``org:admin`` and ``org:member``. A ``sk_live_`` key makes a production instance.
- Role sets are not emulated: every role is assignable in every organization.
"""

from .app import (
    DEVELOPMENT_LIMIT,
    PRODUCTION_LIMIT,
    ClerkBackend,
    ClerkRateLimits,
    create_clerk_app,
)
from .passwords import digest_matches
from .seed import seed_from_clerk_export

__all__ = [
    "DEVELOPMENT_LIMIT",
    "PRODUCTION_LIMIT",
    "ClerkBackend",
    "ClerkRateLimits",
    "create_clerk_app",
    "digest_matches",
    "seed_from_clerk_export",
]
