"""Translating Clerk organization role keys into the target's role slugs.

Clerk instances created before December 2023 use ``admin`` / ``basic_member``, newer ones
``org:admin`` / ``org:member``; both map by default so either export imports without config.
Custom roles (``org:billing``) must be mapped in the manifest: guessing a role would grant or
withhold permissions silently, so an unmapped role is a reported skip.

A Clerk target has Clerk's own role keys, so there the defaults keep ``org:admin`` and
``org:member`` and carry the legacy keys over to them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from authform.manifest.diagnostics import Diagnostic, Location

if TYPE_CHECKING:
    from authform.engine.references import MissingRole
    from authform.importing.memberships import RoleUse
    from authform.manifest.loader import LoadedManifest

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


def missing_role_diagnostics(
    loaded: LoadedManifest,
    missing: Sequence[MissingRole],
    role_uses: Mapping[str, RoleUse],
    provider: str,
) -> list[Diagnostic]:
    """One located problem per role the memberships name but the target will not have: at
    the ``users.role_map`` entry that maps to it (or at ``users`` when a default mapping
    did), naming the source role, how many memberships and the first record that use it."""
    manifest_users = loaded.manifest.users
    written = dict(manifest_users.role_map) if manifest_users else {}
    fallback = Location(str(loaded.files[0]) if loaded.files else "manifest", 0, 0)
    problems = []
    for item in missing:
        use = role_uses.get(item.role)
        source_role = use.source_role if use else None
        if source_role is not None and written.get(source_role) == item.role:
            where = loaded.position("users", "role_map", source_role)
            mapped = f"users.role_map maps {source_role!r} to role {item.role!r}"
        else:
            where = loaded.position("users", "role_map") or loaded.source_map.key(("users",))
            mapped = f"the default role map sends {source_role!r} to role {item.role!r}"
        first = f", first at {use.first_origin}" if use else ""
        problems.append(
            Diagnostic.at(
                where or fallback,
                f"{mapped}, which neither exists in {provider} nor is declared under roles; "
                f"{len(item.memberships)} membership(s) name it{first}. Declare the role "
                f"under roles, create it in {provider}, or map {source_role!r} to a role "
                "that exists (nothing was written)",
            )
        )
    return problems
