"""Request validation as data: each operation's body is checked against its JSON Schema in
``requests.json``, and every problem is reported in one INVALID_ARGUMENT with
``field_violations`` (``metadata.ab``, ``roles[0].name``), so a client learns about all its
mistakes at once. Query parameters (booleans) are read here too."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from starlette.datastructures import QueryParams

from ..routing import json_parser
from .errors import invalid

REQUESTS: dict[str, Any] = json.loads(Path(__file__).with_name("requests.json").read_text())
ARTICLES = {"string": "a string", "object": "an object", "array": "a list"}


def _whole_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    """``pattern`` matches the whole value, as Scalekit's rules read; an empty string is
    proto3's unset value, so only ``minLength`` can refuse it."""
    if isinstance(instance, str) and instance and re.fullmatch(pattern, instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _inlined(schema: Any) -> Any:
    """``schema`` with each ``{"$ref": "#/…", …}`` replaced by what it points at (merged with
    its sibling keywords): resolving references on every request cost two thirds of the
    validation time."""
    if isinstance(schema, list):
        return [_inlined(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    target: dict[str, Any] = {}
    if pointer := schema.get("$ref"):
        target = REQUESTS
        for part in pointer.removeprefix("#/").split("/"):
            target = target[part]
        target = _inlined(target)
    return {**target, **{key: _inlined(value) for key, value in schema.items() if key != "$ref"}}


_Validator = validators.extend(Draft202012Validator, {"pattern": _whole_pattern})
_VALIDATORS = {
    name: _Validator(_inlined(schema)) for name, schema in REQUESTS.items() if name[0] != "$"
}


def checked(data: Mapping[str, Any], operation: str) -> dict[str, Any]:
    """``data`` without its ``null`` fields (proto3: unset), checked against the schema of
    ``operation``; raises INVALID_ARGUMENT naming every violation."""
    body = _without_nulls(data)
    violations = [
        violation
        for error in _VALIDATORS[operation].iter_errors(body)
        for violation in _violations(error)
    ]
    refuse(violations)
    return body


def refuse(violations: Sequence[tuple[str, str]]) -> None:
    """Raise INVALID_ARGUMENT naming every ``(field, description)`` violation, if any."""
    if violations:
        summary = "; ".join(f"{field}: {text}" for field, text in violations)
        raise invalid(f"invalid request: {summary}", violations)


def _without_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    return [_without_nulls(item) for item in value] if isinstance(value, list) else value


def _violations(error: ValidationError) -> list[tuple[str, str]]:
    """``(field, description)`` pairs of one schema error."""
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    field = where.removeprefix(".")
    keyword, value = error.validator, error.validator_value
    if keyword == "additionalProperties" and value is False:
        unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return [(f"{where}.{name}".removeprefix("."), "unknown field") for name in unknown]
    if keyword == "required":
        missing = [name for name in value if name not in error.instance]
        return [(f"{where}.{name}".removeprefix("."), "is required") for name in missing]
    if "propertyNames" in error.relative_schema_path:  # a map's key: named as its field
        field = f"{field}.{error.instance}"
    hint = error.schema.get("errorMessage")
    hint = hint.get(keyword) if isinstance(hint, dict) else hint
    return [(field, hint or _stock_description(error))]


def _stock_description(error: ValidationError) -> str:
    """What a violated keyword means, where its schema gives no ``errorMessage``."""
    keyword, value, schema = error.validator, error.validator_value, error.schema
    if keyword in ("minLength", "maxLength"):
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        bounds = f"{low}-{high}" if high is not None else f">= {low}"
        return "is required" if error.instance == "" else f"must be {bounds} characters"
    if keyword == "type":
        return f"must be {ARTICLES.get(value, value)}"
    if keyword == "enum":
        return f"must be one of {', '.join(value)}"
    if keyword in ("maxProperties", "maxItems"):
        return f"at most {value} {'pairs are allowed' if keyword == 'maxProperties' else 'items'}"
    return "has an invalid format"


json_body = json_parser(
    invalid, "request body is not valid JSON", "request body must be a JSON object"
)


def bool_param(query: QueryParams, name: str, default: bool) -> bool:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise invalid(f"{name} must be true or false", [(name, "not a bool")])
