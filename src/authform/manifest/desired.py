"""The manifest as desired resources, in exactly the spec shapes providers read back.

Providers build the same shapes from live data, so a plan is a comparison of equal-shaped
dicts: anything not managed by the manifest (ids, timestamps, server defaults) never appears
here, and secrets that cannot be read back (OAuth client secrets) are left out so they never
cause a diff or reach a plan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from authform.manifest.models import (
    Manifest,
    Organization,
    Permission,
    Role,
    SocialConnection,
)
from authform.manifest.positions import SourceMap
from authform.provenance import manifest_origin
from authform.resources import Kind, Resource, normalize_spec


def managed_kinds(manifest: Manifest) -> set[Kind]:
    """A section that is present, even empty, is managed; an absent one is left alone.

    ``users:`` manages users and memberships both: they come from the same source.
    """
    kinds = {
        kind
        for kind, items in (
            (Kind.PERMISSION, manifest.permissions),
            (Kind.ROLE, manifest.roles),
            (Kind.ORGANIZATION, manifest.organizations),
            (Kind.REDIRECT_URI, manifest.redirect_uris),
            (Kind.CORS_ORIGIN, manifest.cors_origins),
            (Kind.SOCIAL_CONNECTION, manifest.social_connections),
        )
        if items is not None
    }
    if manifest.users is not None:
        kinds |= {Kind.USER, Kind.MEMBERSHIP}
    return kinds


def desired_resources(manifest: Manifest, positions: SourceMap | None = None) -> list[Resource]:
    """Every resource the manifest declares, in kind order then manifest order.

    With ``positions`` (the loaded manifest's source map) each resource's ``origin`` is the
    file, line and column of its item, so a plan can point at the line behind each change.
    Users and memberships come from the user-import source, not from here.
    """
    build = _Builder(positions)
    resources: list[Resource] = []
    resources += build(Kind.PERMISSION, manifest.permissions, permission_resource)
    resources += build(Kind.ROLE, manifest.roles, role_resource)
    resources += build(Kind.ORGANIZATION, manifest.organizations, organization_resource)
    resources += build(Kind.REDIRECT_URI, manifest.redirect_uris, redirect_uri_resource)
    resources += build(Kind.CORS_ORIGIN, manifest.cors_origins, cors_origin_resource)
    resources += build(
        Kind.SOCIAL_CONNECTION, manifest.social_connections, social_connection_resource
    )
    return resources


class _Builder:
    """Builds one section's resources, each with the origin of its item when known."""

    def __init__(self, positions: SourceMap | None) -> None:
        self.positions = positions

    def __call__(
        self, kind: Kind, items: Iterable[Any] | None, make: Callable[[Any], Resource]
    ) -> list[Resource]:
        resources = [make(item) for item in items or ()]
        if self.positions is None:
            return resources
        positions = self.positions
        return [
            replace(resource, origin=manifest_origin(positions.value((kind.plural, index))))
            for index, resource in enumerate(resources)
        ]


def _resource(kind: Kind, key: str, spec: dict[str, Any]) -> Resource:
    return Resource(kind=kind, key=key, spec=normalize_spec(spec))


def permission_resource(permission: Permission) -> Resource:
    return _resource(
        Kind.PERMISSION,
        permission.slug,
        {"slug": permission.slug, "name": permission.name, "description": permission.description},
    )


def role_resource(role: Role) -> Resource:
    return _resource(
        Kind.ROLE,
        role.slug,
        {
            "slug": role.slug,
            "name": role.name,
            "description": role.description,
            "permissions": sorted(role.permissions),
        },
    )


def organization_resource(organization: Organization) -> Resource:
    return _resource(
        Kind.ORGANIZATION,
        organization.key,
        {
            "name": organization.name,
            "domains": [{"domain": d.domain, "state": d.state} for d in organization.domains],
            "metadata": dict(organization.metadata),
        },
    )


def redirect_uri_resource(uri: str) -> Resource:
    return _resource(Kind.REDIRECT_URI, uri, {"uri": uri})


def cors_origin_resource(origin: str) -> Resource:
    return _resource(Kind.CORS_ORIGIN, origin, {"origin": origin})


def social_connection_resource(connection: SocialConnection) -> Resource:
    return _resource(
        Kind.SOCIAL_CONNECTION,
        connection.provider,
        {"provider": connection.provider, "client_id": connection.client_id},
    )
