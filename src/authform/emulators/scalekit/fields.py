"""Request validation as data: each operation lists its fields as ``Rule``s and ``read``
checks a body against them, collecting every problem so a client learns about all its
mistakes in one INVALID_ARGUMENT with ``field_violations``. Unknown fields are refused."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from starlette.datastructures import QueryParams

from ..routing import json_parser
from .errors import invalid


class Violations:
    """Every problem of one request body, raised together by ``check``."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, field: str, description: str) -> None:
        self.items.append((field, description))

    def check(self) -> None:
        if self.items:
            summary = "; ".join(f"{field}: {text}" for field, text in self.items)
            raise invalid(f"invalid request: {summary}", self.items)


@dataclass(frozen=True)
class Rule:
    """One body field: a string (length bounds, pattern), a ``map<string,string>`` (at most
    ``max_pairs`` pairs, keys of 3-25 characters, values of 1-256) or a list of strings."""

    name: str
    kind: Literal["string", "map", "strings"] = "string"
    required: bool = False
    min_length: int = 0
    max_length: int | None = None
    pattern: str | None = None
    hint: str = "has an invalid format"
    max_pairs: int | None = None


def only_fields(data: Mapping[str, Any], allowed: Sequence[str], where: str = "") -> None:
    if unknown := sorted(set(data) - set(allowed)):
        raise invalid(
            f"unknown field(s) {', '.join(repr(f) for f in unknown)}"
            + (f" in {where}" if where else ""),
            [(f"{where}.{f}" if where else f, "unknown field") for f in unknown],
        )


def read(
    data: Mapping[str, Any], rules: Sequence[Rule], problems: Violations, where: str = ""
) -> dict[str, Any]:
    """The fields of ``rules`` that ``data`` holds (or that are required), checked."""
    readers = {"string": _string, "map": _map, "strings": _strings}
    return {
        rule.name: readers[rule.kind](data.get(rule.name), rule, problems, where)
        for rule in rules
        if rule.name in data or rule.required
    }


def _field(rule: Rule, where: str) -> str:
    return f"{where}.{rule.name}" if where else rule.name


def _string(value: Any, rule: Rule, problems: Violations, where: str) -> str | None:
    field = _field(rule, where)
    if value is None or value == "":
        if rule.required:
            problems.add(field, "is required")
        return None if value is None else ""
    if not isinstance(value, str):
        problems.add(field, "must be a string")
        return None
    high = rule.max_length
    if len(value) < rule.min_length or (high is not None and len(value) > high):
        bound = f"{rule.min_length}-{high}" if high is not None else f">= {rule.min_length}"
        problems.add(field, f"must be {bound} characters")
    elif rule.pattern is not None and re.fullmatch(rule.pattern, value) is None:
        problems.add(field, rule.hint)
    return value


def _map(value: Any, rule: Rule, problems: Violations, where: str) -> dict[str, str] | None:
    field = _field(rule, where)
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.add(field, "must be an object of strings")
        return None
    if rule.max_pairs is not None and len(value) > rule.max_pairs:
        problems.add(field, f"at most {rule.max_pairs} pairs are allowed")
    for key, item in value.items():
        if not 3 <= len(key) <= 25:
            problems.add(f"{field}.{key}", "keys must be 3-25 characters")
        if not isinstance(item, str) or not 1 <= len(item) <= 256:
            problems.add(f"{field}.{key}", "values must be strings of 1-256 characters")
    return {str(k): str(v) for k, v in value.items()}


def _strings(value: Any, rule: Rule, problems: Violations, where: str) -> list[str] | None:
    """A list of names, deduplicated in order; at most 100."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add(rule.name, "must be a list of strings")
        return None
    if len(value) > 100:
        problems.add(rule.name, "at most 100 items")
    return list(dict.fromkeys(value))


def checked(data: Mapping[str, Any], rules: Sequence[Rule]) -> dict[str, Any]:
    """``data`` holding only the fields of ``rules``, read and checked in one go."""
    only_fields(data, [rule.name for rule in rules])
    problems = Violations()
    values = read(data, rules, problems)
    problems.check()
    return values


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
