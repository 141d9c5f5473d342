"""Validate merged manifest data with the pydantic models, and turn pydantic's errors into
positioned diagnostics a person can act on.

Pydantic reports ``loc=('roles', 3, 'name')`` and "Input should be a valid string"; a manifest
author needs ``roles.yaml:12:11: roles[0].name: expected a string, got boolean false (YAML
reads no as a boolean; quote it to mean the text: "no")``. Secret values are never quoted.
"""

from __future__ import annotations

import re
import types
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from authform.manifest.diagnostics import (
    DataPath,
    Diagnostic,
    Location,
    PathPart,
    did_you_mean,
    format_path,
    list_names,
    show,
    unknown_key_message,
)
from authform.manifest.models import SECRET_FIELDS, Manifest
from authform.manifest.positions import SourceMap
from authform.manifest.targets import manifest_model

_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "path_type": "a file path (a string)",
    "literal_error": None,
}


def validate_manifest(
    data: dict[str, Any], source: SourceMap, *, fallback: Location, skip_missing: Sequence[str] = ()
) -> tuple[Manifest | None, list[Diagnostic]]:
    """Build the ``Manifest``; on failure, every error as a diagnostic.

    ``skip_missing`` names top-level keys whose absence the caller already reported (it
    knows which files were read, pydantic does not). The model is the one whose ``target``
    is the settings model of the provider the data names (``targets.manifest_model``).
    """
    model = manifest_model(data)
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        errors = [
            e
            for e in exc.errors()
            if not (e["type"] == "missing" and len(e["loc"]) == 1 and e["loc"][0] in skip_missing)
        ]
    return None, [describe_error(e, data, source, fallback, model) for e in errors]


def describe_error(
    error: ErrorDetails,
    data: Any,
    source: SourceMap,
    fallback: Location,
    model: type[BaseModel] = Manifest,
) -> Diagnostic:
    loc = tuple(error["loc"])
    path, at_key = _data_path(loc, data)
    kind = error["type"]
    if kind == "union_tag_invalid":
        path = (*path, "kind")  # point at the bad tag, not at the mapping holding it
    if at_key or kind == "extra_forbidden":
        where = source.key(path) or source.nearest(path, fallback)
    else:
        where = source.nearest(path, fallback)
    message = _message(error, loc, path, source, model)
    shown = format_path(source.display(path))
    return Diagnostic.at(where, f"{shown}: {message}" if shown else message)


def _data_path(loc: tuple[PathPart, ...], data: Any) -> tuple[DataPath, bool]:
    """Follow pydantic's ``loc`` through the data, dropping the parts that name union
    variants rather than keys (``('users', 'source', 'clerk-csv', 'path')``)."""
    path: list[PathPart] = []
    node = data
    for part in loc:
        if part == "[key]":
            return tuple(path), True
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            path.append(part)
            node = node[part]
    return tuple(path), False


def _message(
    error: ErrorDetails,
    loc: tuple[PathPart, ...],
    path: DataPath,
    source: SourceMap,
    model: type[BaseModel],
) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    field = next((p for p in reversed(loc) if isinstance(p, str) and p != "[key]"), "")
    secret = field in SECRET_FIELDS

    if kind == "missing":
        return f"missing required key {show(loc[-1])}"
    if kind == "extra_forbidden":
        expected = _fields_at(loc[:-1], model)
        return unknown_key_message(str(loc[-1]), expected or [])
    if kind == "union_tag_not_found":
        tags = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))
        return f"missing required key 'kind' (one of: {list_names(tags)})"
    if kind == "union_tag_invalid":
        tags = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))
        tag = str(ctx.get("tag", value))
        hint = did_you_mean(tag, tags)
        return f"invalid kind {show(tag)} (expected one of: {list_names(tags)}){hint}"
    if kind == "literal_error":
        return _literal_message(loc, field, value, model)
    if kind in _EXPECTED:
        got = _describe(value, secret=secret)
        hint = "" if secret else _quote_hint(kind, path, source)
        return f"expected {_EXPECTED[kind]}, got {got}{hint}"
    if kind in ("string_too_short", "too_short"):
        minimum = ctx.get("min_length", 1)
        if minimum == 1:
            return "must not be empty"
        return f"too short (at least {minimum})"
    if kind == "string_too_long":
        maximum = ctx.get("max_length")
        if secret or not isinstance(value, str):
            return f"too long (at most {maximum} characters)"
        return f"too long: {len(value)} characters (at most {maximum})"
    if kind == "too_long":
        count = len(value) if isinstance(value, dict | list) else ctx.get("actual_length")
        return f"too many entries: {count} (at most {ctx.get('max_length')})"
    if kind in ("greater_than_equal", "less_than_equal"):
        bound = (
            f"at least {ctx.get('ge')}"
            if kind == "greater_than_equal"
            else f"at most {ctx.get('le')}"
        )
        return f"must be {bound}, got {_describe(value, secret=secret)}"
    if kind in ("value_error", "assertion_error"):
        return str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return str(error["msg"])


def _literal_message(
    loc: tuple[PathPart, ...], field: str, value: Any, model: type[BaseModel]
) -> str:
    annotation = _annotation_at(loc, model)
    allowed = [str(a) for a in get_args(annotation)] if get_origin(annotation) is Literal else []
    if loc == ("version",):
        return f"unsupported manifest version {show(value)} (this authform reads version 1)"
    if not isinstance(value, str | int | float | bool) or value is None:
        return f"expected one of: {list_names(allowed)}, got {_describe(value, secret=False)}"
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return (
        f"invalid {field or 'value'} {show(text)} (expected one of: {list_names(allowed)})"
        f"{did_you_mean(text, allowed)}"
    )


def _describe(value: Any, *, secret: bool) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if secret:
        return {int: "an integer", float: "a number", str: "a string"}.get(type(value), "a value")
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {show(value)}"
    return type(value).__name__  # pragma: no cover - YAML yields no other types


def _quote_hint(kind: str, path: DataPath, source: SourceMap) -> str:
    """YAML 1.1 reads ``no``, ``on``, ``10`` and ``~`` as non-strings; say how to fix it."""
    if kind != "string_type":
        return ""
    text = source.scalars.get(tuple(path))
    if text is None:
        return ""
    if text == "":
        return " (the value is empty)"
    return f' (YAML reads {show(text)[1:-1]} that way; quote it to mean the text: "{text}")'


def _strip(annotation: Any) -> Any:
    """Remove ``Annotated`` and ``Optional`` wrappers."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
            continue
        if get_origin(annotation) in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation


def _annotation_at(loc: Sequence[PathPart], model: type[BaseModel]) -> Any:
    """The model annotation a pydantic ``loc`` points at, or ``None`` if it leaves the models."""
    annotation: Any = model
    for part in loc:
        annotation = _strip(annotation)
        origin = get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            annotation = field.annotation
        elif origin is list:
            annotation = get_args(annotation)[0]
        elif origin is dict:
            annotation = get_args(annotation)[0 if part == "[key]" else 1]
        elif origin in (Union, types.UnionType):
            annotation = _variant(annotation, part)
            if annotation is None:
                return None
        else:
            return None
    return _strip(annotation)


def _variant(union: Any, tag: PathPart) -> Any:
    for member in get_args(union):
        member = _strip(member)
        if not (isinstance(member, type) and issubclass(member, BaseModel)):
            continue
        kind = member.model_fields.get("kind")
        if kind is not None and tag in get_args(_strip(kind.annotation)):
            return member
    return None


def _fields_at(loc: Sequence[PathPart], model: type[BaseModel]) -> list[str] | None:
    annotation = _annotation_at(loc, model)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return None
