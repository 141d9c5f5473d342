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
``roles``, ``instance``), each a ``collection.Collection`` configured as data (table, paths,
body rules, unique columns, orderings) with hooks for what data cannot say; request bodies
are lists of field names over one table of field rules (``forms.body``), list filters a table
(``users.USER_FILTERS``), the tables a data file (``schema.sql``); the seed is a tuple of
sections for the shared loader (``seed``, ``emulators.seeding``). Password digests and TOTP
secrets are stored but never answered (the real API has no such fields) and never written
to the request log. ``Clerk-API-Version`` is accepted and ignored:
the emulator speaks 2026-05-12. Role sets are not emulated: every role is assignable in every
organization.
"""

from .app import (
    DEVELOPMENT_LIMIT,
    PRODUCTION_LIMIT,
    ClerkBackend,
    ClerkRateLimits,
    create_clerk_app,
)
from .passwords import digest_matches

__all__ = [
    "DEVELOPMENT_LIMIT",
    "PRODUCTION_LIMIT",
    "ClerkBackend",
    "ClerkRateLimits",
    "create_clerk_app",
    "digest_matches",
]
