"""A third-party provider package in miniature, for tests/providers/test_plugins.py.

It is what the README's "Writing a provider plug-in" describes: a module with a
``ProviderDeclaration`` that authform finds through the ``authform.providers`` entry-point
group of the package's metadata (the test writes that metadata next to this file). The
provider keeps its permissions in memory: the point is how authform finds and builds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from authform.providers.base import (
    KindSupport,
    ProbeResult,
    ProviderCapabilities,
    ProviderError,
)
from authform.providers.registry import Connection, ProviderDeclaration
from authform.resources import Kind, Resource


class ToyProvider:
    """Permissions only, held in a dict."""

    capabilities = ProviderCapabilities("toy", {Kind.PERMISSION: KindSupport()})

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.permissions: dict[str, Resource] = {}

    async def read(self, kinds: Iterable[Kind], desired: Sequence[Resource]) -> list[Resource]:
        return list(self.permissions.values()) if Kind.PERMISSION in kinds else []

    async def create(self, desired: Resource) -> Resource:
        self.permissions[desired.key] = desired
        return desired

    async def update(self, live: Resource, desired: Resource) -> Resource:
        return await self.create(desired)

    async def delete(self, live: Resource) -> None:
        self.permissions.pop(live.key, None)

    def manual_instructions(self, desired: Resource | None, live: Resource | None) -> list[str]:
        return []

    def id_mapping(self) -> dict[str, dict[str, str]]:
        return {}

    def plan_caveats(self, desired: Sequence[Resource]) -> list[str]:
        return []

    async def authenticate(self, email: str, password: str) -> ProbeResult:
        return ProbeResult(False, "the toy provider has no users")

    async def aclose(self) -> None:
        return None


def build(connection: Connection) -> ToyProvider:
    if not connection.api_key:
        raise ProviderError("target.api_key is required for Toy")
    return ToyProvider(connection.api_key)


TOY = ProviderDeclaration("toy", "Toy", ("general",), build, api_key_prefix="toy_")
NOT_A_DECLARATION = {"name": "toy"}
