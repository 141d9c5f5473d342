"""The manifest's JSON Schema, generated from the models so it cannot drift from them.

Editors use it (``# yaml-language-server: $schema=...``) to complete keys and flag mistakes
while typing. Each file of a folder is a partial manifest, so the schema requires no top-level
section: ``version`` and ``target`` being defined exactly once is checked by the loader.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from authform.manifest.models import PROVIDERS, Manifest, Target
from authform.providers.registry import PROVIDERS as REGISTERED_PROVIDERS

# Where `authform schema --write` writes, relative to the working directory (the repository
# whose manifests point at it with `$schema=../schemas/authform.schema.json`), never next to
# the installed package: from a wheel that would be site-packages.
SCHEMA_PATH = Path("schemas") / "authform.schema.json"
DRAFT = "https://json-schema.org/draft/2020-12/schema"


class _ManifestSchema(GenerateJsonSchema):
    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        """Optional fields are omitted, never written as null; offering ``null`` in an
        editor would suggest the loader's "empty section" mistake."""
        return self.generate_inner(schema["schema"])


def manifest_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one manifest file."""
    schema = Manifest.model_json_schema(schema_generator=_ManifestSchema, mode="validation")
    schema.pop("required", None)
    _drop_null_defaults(schema)
    # The loader ignores "x-" keys at the top level (anchors for shared values).
    schema["patternProperties"] = {"^x-": {}}
    _installed_providers(schema)
    return {
        "$schema": DRAFT,
        **schema,
        "title": "authform manifest",
    }


def render_schema() -> str:
    """The schema file's exact text: sorted keys and a trailing newline, so regeneration is
    byte-stable and the staleness test can compare text."""
    return json.dumps(manifest_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schema(path: str | Path = SCHEMA_PATH) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_schema(), encoding="utf-8")
    return target


def _drop_null_defaults(node: Any) -> None:
    """``"default": null`` would contradict the null-free types; "omitted" is the default."""
    if isinstance(node, dict):
        if "default" in node and node["default"] is None:
            del node["default"]
        for value in node.values():
            _drop_null_defaults(value)
    elif isinstance(node, list):
        for value in node:
            _drop_null_defaults(value)


def _installed_providers(schema: dict[str, Any]) -> None:
    """``target`` as this installation accepts it: authform's ``Target`` for its own
    providers and for plug-ins that declare no settings model, and each plug-in's own
    settings model (its name as the only ``provider``) for the others."""
    own_settings = {
        name: declaration.settings
        for name, declaration in REGISTERED_PROVIDERS.items()
        if declaration.settings is not None and declaration.settings is not Target
    }
    names = (set(PROVIDERS) | set(REGISTERED_PROVIDERS)) - set(own_settings)
    definitions = schema["$defs"]
    definitions["Target"]["properties"]["provider"]["enum"] = sorted(names)
    if not own_settings:
        return
    choices = [{"$ref": "#/$defs/Target"}]
    for name, settings in sorted(own_settings.items()):
        key = f"Target_{name}"
        plugin = settings.model_json_schema(
            schema_generator=_ManifestSchema,
            mode="validation",
            ref_template="#/$defs/{model}",
        )
        definitions.update(plugin.pop("$defs", {}))
        plugin["properties"]["provider"] = {"const": name, "description": "Provider plug-in."}
        definitions[key] = plugin
        choices.append({"$ref": f"#/$defs/{key}"})
    for holder in (schema["properties"], definitions["Environment"]["properties"]):
        description = holder["target"].get("description")
        holder["target"] = {"anyOf": choices, "description": description}
