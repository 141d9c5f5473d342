"""Translating Clerk organization role keys into the target's role slugs.

Clerk instances created before December 2023 use ``admin`` / ``basic_member``, newer ones
``org:admin`` / ``org:member``; both map by default so either export imports without config.
Custom roles (``org:billing``) must be mapped in the manifest: guessing a role would grant or
withhold permissions silently, so an unmapped role is a reported skip.

A Clerk target has Clerk's own role keys, so there the defaults keep ``org:admin`` and
``org:member`` and carry the legacy keys over to them.
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_ROLE_MAP: Mapping[str, str] = {
    "org:admin": "admin",
    "org:member": "member",
    "admin": "admin",
    "basic_member": "member",
}


CLERK_DEFAULT_ROLE_MAP: Mapping[str, str] = {
    "org:admin": "org:admin",
    "org:member": "org:member",
    "admin": "org:admin",
    "basic_member": "org:member",
}


def effective_role_map(
    overrides: Mapping[str, str] | None, target: str = "workos"
) -> dict[str, str]:
    """The target's defaults overlaid by the manifest's ``role_map``."""
    defaults = CLERK_DEFAULT_ROLE_MAP if target == "clerk" else DEFAULT_ROLE_MAP
    return {**defaults, **(overrides or {})}
