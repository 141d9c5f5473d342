"""How much request validation the providers' OpenAPI documents could carry for the emulators.

For every API route each emulator serves, the operation of the vendored document
(``tests/fixtures/openapi``) is looked up and its JSON request body's fields are counted by
the constraints the schema states: ``required``, ``maxLength``, ``pattern``, ``enum``,
``minimum``, a null-allowing type, and operations closed with ``additionalProperties: false``.
It prints one line per provider, plus the CPU seconds a document takes to parse: what an
emulator reading its document at start would pay once per process.

Run: ``python bench/emulator_openapi_constraints.py``
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import yaml

from authform.emulators.server import create_app

DOCUMENTS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "openapi"
FILES = {
    "workos": "workos.yaml",
    "clerk": "clerk-bapi-2026-05-12.yml",
    "scalekit": "scalekit-saaskit.yaml",
}
METHODS = ("get", "put", "post", "delete", "patch")
KINDS = ("maxLength", "pattern", "enum", "minimum")


def resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """``(METHOD, path template with parameter names erased)`` -> operation."""
    found = {}
    for path, item in document["paths"].items():
        for method in METHODS:
            if operation := item.get(method):
                servers = operation.get("servers") or item.get("servers") or document["servers"]
                for server in servers:
                    base = re.sub(r"^https?://[^/]+", "", server["url"]).rstrip("/")
                    found[(method.upper(), re.sub(r"\{[^}]*\}", "{}", base + path))] = operation
    return found


def body_schema(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    content = resolve(document, operation.get("requestBody", {})).get("content", {})
    schema = resolve(document, content.get("application/json", {}).get("schema", {}))
    merged = {"properties": {}, "required": [], **schema}
    for part in schema.get("allOf", []):
        part = resolve(document, part)
        merged["properties"].update(part.get("properties", {}))
        merged["required"] += part.get("required", [])
    return merged


def main() -> None:
    for provider, name in FILES.items():
        started = time.process_time()
        with (DOCUMENTS / name).open(encoding="utf-8") as handle:
            document = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
        parse_cpu = time.process_time() - started
        known = operations(document)
        app = create_app(provider)
        served = [
            (method, re.sub(r"\{[^}]*\}", "{}", route.path))
            for route in app.routes
            for method in sorted(getattr(route, "methods", None) or ())
            if method != "HEAD" and not route.path.startswith("/_emulate/")  # type: ignore[attr-defined]
        ]
        app.close()
        fields = required = nullable = closed = 0
        kinds = dict.fromkeys(KINDS, 0)
        for key in served:
            if key not in known:
                continue
            schema = body_schema(document, known[key])
            closed += schema.get("additionalProperties") is False
            required += len(schema["required"])
            for spec in schema["properties"].values():
                spec = resolve(document, spec)
                fields += 1
                nullable += spec.get("nullable") is True or "null" in (spec.get("type") or [])
                for kind in KINDS:
                    kinds[kind] += kind in spec
        print(
            f"{provider}: {len(served)} routes, {fields} body fields; required {required}, "
            + ", ".join(f"{kind} {count}" for kind, count in kinds.items())
            + f", nullable {nullable}, closed bodies {closed}; parse {parse_cpu:.2f} cpu s"
        )


if __name__ == "__main__":
    main()
