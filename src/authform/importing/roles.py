"""Translating Clerk organization role keys into the target's role slugs.

Clerk instances created before December 2023 use ``admin`` / ``basic_member``, newer ones
``org:admin`` / ``org:member``; both map by default so either export imports without config.
Custom roles (``org:billing``) must be mapped in the manifest: guessing a role would grant or
withhold permissions silently, so an unmapped role is a reported skip.
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_ROLE_MAP: Mapping[str, str] = {
    "org:admin": "admin",
    "org:member": "member",
    "admin": "admin",
    "basic_member": "member",
}


def effective_role_map(overrides: Mapping[str, str] | None) -> dict[str, str]:
    """The defaults overlaid by the manifest's ``role_map``."""
    return {**DEFAULT_ROLE_MAP, **(overrides or {})}
