"""Which model validates a manifest: the one whose ``target`` is its provider's settings.

authform's own providers share ``models.Target``. A provider plug-in may declare its own
settings model (``ProviderDeclaration.settings``, a subclass of ``models.TargetSettings``);
a manifest naming that provider is then validated by ``Manifest`` with ``target`` replaced by
that model, so its fields get the same positioned errors as the built-ins' (an unknown key
lists the plug-in's own keys) and nothing else of the manifest changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from pydantic import Field, create_model

from authform.manifest.models import Manifest, Target, TargetSettings
from authform.providers.registry import PROVIDERS


def manifest_model(data: Mapping[str, Any]) -> type[Manifest]:
    """The model for merged manifest ``data``, chosen by its ``target.provider``. A name no
    registered provider has, or one that declares no settings, gets ``Manifest`` (checks.py
    reports an unknown name)."""
    target = data.get("target")
    name = target.get("provider") if isinstance(target, Mapping) else None
    declaration = PROVIDERS.get(name) if isinstance(name, str) else None
    settings = declaration.settings if declaration is not None else None
    if settings is None or settings is Target:
        return Manifest
    return _manifest_with(settings)


@cache
def _manifest_with(settings: type[TargetSettings]) -> type[Manifest]:
    return create_model(
        f"Manifest_{settings.__name__}",
        __base__=Manifest,
        target=(settings, Field(description="The identity provider to configure.")),
    )
