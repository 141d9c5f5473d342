"""Request validation as data: each operation lists its fields as ``Rule``s, and ``Fields``
reads a body against them, collecting every problem before failing so a client learns about
all its mistakes in one 422 (``errors: [{field, code}]``), as WorkOS answers."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from starlette.datastructures import QueryParams

from ..routing import json_parser
from .errors import bad_request, unprocessable
from .schema import EXTERNAL_ID_PATTERN

# kind -> (does a present, non-null value have it?, the noun its type error names)
KINDS = {
    "string": (lambda value: isinstance(value, str), "a string"),
    "boolean": (lambda value: isinstance(value, bool), "a boolean"),
    "strings": (
        lambda value: isinstance(value, list) and all(isinstance(item, str) for item in value),
        "an array of strings",
    ),
}


@dataclass(frozen=True)
class Rule:
    """One body field: its type and WorkOS's documented constraints on it."""

    name: str
    kind: Literal["string", "boolean", "strings"] = "string"
    required: bool = False
    nullable: bool = False
    non_empty: bool = False
    max_length: int | None = None
    pattern: str | None = None
    hint: str = "has an invalid format"
    choices: tuple[str, ...] = ()


EXTERNAL_ID = Rule(
    "external_id", nullable=True, max_length=128, pattern=EXTERNAL_ID_PATTERN, hint="must be ASCII"
)


class Fields:
    """Reads typed fields from a request body, collecting every problem before failing."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: list[dict[str, str]] = []
        self.messages: list[str] = []

    def has(self, name: str) -> bool:
        return name in self.data

    def fail(self, name: str, code: str, message: str) -> None:
        self.errors.append({"field": name, "code": code})
        self.messages.append(message)

    def read(self, rules: Sequence[Rule]) -> dict[str, Any]:
        """The value of each rule's field (``None`` when absent or invalid)."""
        return {rule.name: self._value(rule) for rule in rules}

    def string(self, name: str, **constraints: Any) -> Any:
        return self._value(Rule(name, **constraints))

    def _value(self, rule: Rule) -> Any:
        name = rule.name
        if name not in self.data:
            if rule.required:
                self.fail(name, "required", f"{name} is required.")
            return None
        value = self.data[name]
        has_kind, noun = KINDS[rule.kind]
        if value is None and rule.nullable:
            return None
        if value is None and rule.kind == "string":
            required = rule.required
            problem = "is required" if required else "must be a string, not null"
            self.fail(name, "required" if required else "invalid_type", f"{name} {problem}.")
            return None
        if not has_kind(value):
            self.fail(name, "invalid_type", f"{name} must be {noun}.")
            return None
        if rule.kind == "string":
            self._constrain(rule, value)
        return value

    def _constrain(self, rule: Rule, value: str) -> None:
        """Note the first of a string's documented constraints it breaks, if any."""
        name, choices = rule.name, rule.choices
        if rule.non_empty and not value.strip():
            self.fail(name, "required", f"{name} must not be empty.")
        elif rule.max_length is not None and len(value) > rule.max_length:
            self.fail(name, "too_long", f"{name} must be at most {rule.max_length} characters.")
        elif rule.pattern is not None and re.fullmatch(rule.pattern, value) is None:
            self.fail(name, "invalid_format", f"{name} {rule.hint}.")
        elif choices and value not in choices:
            self.fail(name, "invalid_enum_value", f"{name} must be one of {', '.join(choices)}.")

    def check(self) -> None:
        if self.errors:
            raise unprocessable(" ".join(self.messages), self.errors)


def read_fields(data: Mapping[str, Any], rules: Sequence[Rule]) -> dict[str, Any]:
    """``rules`` read from ``data``; a 422 listing every problem if any."""
    fields = Fields(data)
    values = fields.read(rules)
    fields.check()
    return values


json_body = json_parser(
    unprocessable, "Request body must be valid JSON.", "Request body must be a JSON object."
)


def parse_metadata(data: Mapping[str, Any]) -> dict[str, str] | None:
    """``metadata`` if present (explicit null clears it), validated like WorkOS: at most 50
    keys of at most 40 characters, string values of at most 600 characters."""
    if "metadata" not in data:
        return None
    if (value := data["metadata"]) is None:
        return {}
    if not isinstance(value, dict):
        raise unprocessable(
            "metadata must be an object.", [{"field": "metadata", "code": "invalid_type"}]
        )
    if len(value) > 50:
        raise bad_request("invalid_metadata", "Metadata can have at most 50 keys.")
    for key, item in value.items():
        if len(key) > 40:
            raise bad_request("invalid_metadata", f"Metadata key '{key}' exceeds 40 characters.")
        if not isinstance(item, str) or len(item) > 600:
            problem = "must be a string" if not isinstance(item, str) else "exceeds 600 characters"
            raise bad_request("invalid_metadata", f"Metadata value for '{key}' {problem}.")
    return dict(value)


def list_params(query: QueryParams) -> dict[str, Any]:
    """A list's ``limit``, ``order`` and cursors, as ``SqliteStore.keyset_page`` takes them."""
    raw_limit = query.get("limit", "10")
    try:
        limit = int(raw_limit)
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        raise unprocessable(
            f"limit must be an integer between 1 and 100, got '{raw_limit}'.",
            [{"field": "limit", "code": "out_of_range"}],
        )
    order = query.get("order", "desc")
    if order not in ("asc", "desc", "normal"):
        raise unprocessable(
            f"order must be one of asc, desc, normal, got '{order}'.",
            [{"field": "order", "code": "invalid_enum_value"}],
        )
    before, after = query.get("before") or None, query.get("after") or None
    return {"limit": limit, "order": order, "before": before, "after": after}


def query_list(query: QueryParams, name: str) -> list[str]:
    """A list query parameter, comma-joined (what the SDK sends) or repeated."""
    values = [*query.getlist(name), *query.getlist(f"{name}[]")]
    return [part.strip() for value in values for part in value.split(",") if part.strip()]
