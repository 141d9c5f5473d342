"""Canonical resource kinds shared by manifests, sources, providers and the engine.

Every kind has a natural key that survives across providers and runs, so authform needs no
state file: the same key is found again on the next run, by another CI job, or after a crash.
A ``Resource.spec`` holds only the fields authform manages, already normalized (order-free
lists sorted, server-filled fields dropped), so equal specs mean "nothing to do".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """Resource kinds in dependency order: creates run top to bottom, deletes bottom up."""

    PERMISSION = "permission"
    ROLE = "role"
    ORGANIZATION = "organization"
    REDIRECT_URI = "redirect_uri"
    CORS_ORIGIN = "cors_origin"
    SOCIAL_CONNECTION = "social_connection"
    USER = "user"
    MEMBERSHIP = "membership"

    @property
    def order(self) -> int:
        return _KIND_ORDER[self]

    @property
    def plural(self) -> str:
        return MANIFEST_SECTION[self]


# Each kind's place in ``Kind`` (asked for every row the on-disk index and id store touch:
# a lookup, not a walk of the enum).
_KIND_ORDER: dict[Kind, int] = {kind: position for position, kind in enumerate(Kind)}

# The manifest section each kind is declared in; listing a section makes the kind managed.
MANIFEST_SECTION: dict[Kind, str] = {
    Kind.PERMISSION: "permissions",
    Kind.ROLE: "roles",
    Kind.ORGANIZATION: "organizations",
    Kind.REDIRECT_URI: "redirect_uris",
    Kind.CORS_ORIGIN: "cors_origins",
    Kind.SOCIAL_CONNECTION: "social_connections",
    Kind.USER: "users",
    Kind.MEMBERSHIP: "memberships",
}

# Spec fields whose values are secret: shown as "(sensitive)" in every rendering.
SENSITIVE_FIELDS: frozenset[str] = frozenset(
    {"client_secret", "password", "password_hash", "api_key", "totp_secret"}
)


@dataclass(frozen=True, slots=True)
class Resource:
    """One item of one kind, desired (from manifest/source) or live (read from a provider).

    ``provider_id`` is the provider's own identifier, set only on live resources; the engine
    passes it back to the provider for updates and deletes but never compares it.
    ``observed`` carries live-only facts a provider needs later (e.g. a user's adoption
    candidate) and is never diffed.
    ``create_only`` carries desired data that is written once and can never be read back
    (a password hash, a client secret): it is sent on create, rendered masked, never diffed.
    ``origin`` says where a desired item came from (see ``authform.provenance``: the manifest
    file, line and column, an export's file and row, or a Clerk API record id) so a plan can
    name what caused each change; it is never diffed, compared or part of a plan's digest.
    """

    kind: Kind
    key: str
    spec: Mapping[str, Any]
    provider_id: str | None = None
    observed: Mapping[str, Any] = field(default_factory=dict)
    create_only: Mapping[str, Any] = field(default_factory=dict)
    origin: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def address(self) -> str:
        """Stable, human-readable address used in plans, e.g. ``role.admin``."""
        return f"{self.kind.value}.{self.key}"


def of_kind(resources: Iterable[Resource], kind: Kind) -> Iterator[Resource]:
    """The resources of one kind. A collection that can select a kind itself (the on-disk
    index's ``IndexedResources``) does, instead of being read whole."""
    select = getattr(resources, "of_kind", None)
    if select is not None:
        chosen: Iterator[Resource] = select(kind)
        return chosen
    return (r for r in resources if r.kind is kind)


def spec_values(resources: Iterable[Resource], kind: Kind, field_name: str) -> set[str]:
    """The distinct values (as text) of one top-level spec field among the resources of
    ``kind`` that set it. The on-disk index answers in SQL, without reading the items back
    (a million memberships' organizations are a few thousand keys)."""
    select = getattr(resources, "spec_values", None)
    if select is not None:
        chosen: set[str] = select(kind, field_name)
        return chosen
    return {
        str(r.spec[field_name])
        for r in of_kind(resources, kind)
        if r.spec.get(field_name) is not None
    }


def membership_key(user_key: str, org_key: str) -> str:
    """Natural key of a membership: the user's key and the organization's key."""
    return f"{user_key}@{org_key}"


def normalize_spec(value: Any) -> Any:
    """Make a spec comparable: dicts recursively, lists sorted by their canonical form.

    Lists in authform specs are order-free (role permissions, domains), so sorting them
    removes the phantom diffs that list order causes in other tools.
    """
    if isinstance(value, Mapping):
        return {k: normalize_spec(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple | set | frozenset):
        items = [normalize_spec(v) for v in value]
        return sorted(items, key=_sort_token)
    return value


def _sort_token(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True, default=str)


def dependencies(resource: Resource) -> list[str]:
    """Addresses of the resources this one needs to exist first.

    Apply uses them to hold back only what depends on a failed write (a membership whose
    user, organization or role could not be created) while everything else goes on.
    """
    spec = resource.spec
    if resource.kind is Kind.MEMBERSHIP:
        needs = [
            f"{Kind.USER.value}.{spec['user']}",
            f"{Kind.ORGANIZATION.value}.{spec['organization']}",
        ]
        if spec.get("role"):
            needs.append(f"{Kind.ROLE.value}.{spec['role']}")
        return needs
    if resource.kind is Kind.ROLE:
        return [f"{Kind.PERMISSION.value}.{slug}" for slug in spec.get("permissions", [])]
    return []


def unkeyed_key(provider_id: str, missing: str = "external_id") -> str:
    """The key of a live item authform did not create: it lacks the field keys live in
    (``missing``), so it is named by the provider's id and can only be adopted or deleted."""
    return f"(no {missing}) {provider_id}"


def is_unkeyed(key: str) -> bool:
    return key.startswith("(no ")
