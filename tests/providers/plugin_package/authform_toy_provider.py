"""A third-party provider package in miniature, for tests/providers/test_plugins.py.

It is what the README's "Writing a provider plug-in" describes: a module with a
``ProviderDeclaration`` that authform finds through the ``authform.providers`` entry-point
group of the package's metadata (the test writes that metadata next to this file), and a
settings model that validates the manifest's ``target`` for it. The provider keeps its
permissions in memory, per region, for the life of the process (a stand-in for the service
it would call): the point is how authform finds, validates, builds and drives it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import Field

from authform.manifest import TargetSettings
from authform.providers.base import (
    KindSupport,
    ProbeResult,
    ProviderCapabilities,
    ProviderError,
)
from authform.providers.registry import Connection, ProviderDeclaration
from authform.resources import Kind, Resource


class ToySettings(TargetSettings):
    """The toy's target: what every target has, plus the region its permissions live in."""

    region: Literal["eu", "us"] = Field(default="eu", description="Where the toy keeps data.")


# The toy "service": permissions per region, and every write it was asked for, in order.
STORE: dict[str, dict[str, Resource]] = {}
WRITES: list[str] = []


class ToyProvider:
    """Permissions only, held in the process-wide ``STORE``."""

    capabilities = ProviderCapabilities("toy", {Kind.PERMISSION: KindSupport()})

    def __init__(self, api_key: str, region: str = "eu") -> None:
        self.api_key = api_key
        self.permissions = STORE.setdefault(region, {})

    async def read(self, kinds: Iterable[Kind], desired: Sequence[Resource]) -> list[Resource]:
        return list(self.permissions.values()) if Kind.PERMISSION in kinds else []

    async def create(self, desired: Resource) -> Resource:
        WRITES.append(f"create {desired.address}")
        self.permissions[desired.key] = desired
        return desired

    async def update(self, live: Resource, desired: Resource) -> Resource:
        return await self.create(desired)

    async def delete(self, live: Resource) -> None:
        WRITES.append(f"delete {live.address}")
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
    return ToyProvider(connection.api_key, str(connection.options.get("region", "eu")))


TOY = ProviderDeclaration(
    "toy",
    "Toy",
    ("general",),
    build,
    api_key_prefix="toy_",
    api_key_hint="the toy's key, toy_…",
    settings=ToySettings,
)
# A plug-in whose settings model is not a TargetSettings: refused when it is loaded.
WRONG_SETTINGS = ProviderDeclaration("bad", "Bad", (), build, settings=dict)  # type: ignore[arg-type]
NOT_A_DECLARATION = {"name": "toy"}
