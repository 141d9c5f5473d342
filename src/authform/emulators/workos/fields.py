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
from ..store import ListOrder
from .errors import bad_request, unprocessable
from .schema import EXTERNAL_ID_PATTERN


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
        readers = {"string": self._string, "boolean": self._boolean, "strings": self._strings}
        return {rule.name: readers[rule.kind](rule) for rule in rules}

    def string(self, name: str, **constraints: Any) -> Any:
        return self._string(Rule(name, **constraints))

    def _absent(self, rule: Rule) -> bool:
        if rule.name not in self.data:
            if rule.required:
                self.fail(rule.name, "required", f"{rule.name} is required.")
            return True
        return False

    def _string(self, rule: Rule) -> str | None:
        name = rule.name
        if self._absent(rule):
            return None
        value = self.data[name]
        if value is None:
            if rule.required and not rule.nullable:
                self.fail(name, "required", f"{name} is required.")
            elif not rule.nullable:
                self.fail(name, "invalid_type", f"{name} must be a string, not null.")
            return None
        if not isinstance(value, str):
            self.fail(name, "invalid_type", f"{name} must be a string.")
            return None
        if rule.non_empty and not value.strip():
            self.fail(name, "required", f"{name} must not be empty.")
        elif rule.max_length is not None and len(value) > rule.max_length:
            self.fail(name, "too_long", f"{name} must be at most {rule.max_length} characters.")
        elif rule.pattern is not None and re.fullmatch(rule.pattern, value) is None:
            self.fail(name, "invalid_format", f"{name} {rule.hint}.")
        return value

    def _boolean(self, rule: Rule) -> bool | None:
        value = self.data.get(rule.name)
        if value is None:
            if rule.name in self.data and not rule.nullable:
                self.fail(rule.name, "invalid_type", f"{rule.name} must be a boolean.")
            return None
        if not isinstance(value, bool):
            self.fail(rule.name, "invalid_type", f"{rule.name} must be a boolean.")
            return None
        return value

    def _strings(self, rule: Rule) -> list[str] | None:
        if self._absent(rule):
            return None
        value = self.data[rule.name]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.fail(rule.name, "invalid_type", f"{rule.name} must be an array of strings.")
            return None
        return list(value)

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
    value = data["metadata"]
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise unprocessable(
            "metadata must be an object.", [{"field": "metadata", "code": "invalid_type"}]
        )
    if len(value) > 50:
        raise bad_request("invalid_metadata", "Metadata can have at most 50 keys.")
    for key, item in value.items():
        if len(key) > 40:
            problem = f"Metadata key '{key}' exceeds 40 characters."
        elif not isinstance(item, str):
            problem = f"Metadata value for '{key}' must be a string."
        elif len(item) > 600:
            problem = f"Metadata value for '{key}' exceeds 600 characters."
        else:
            continue
        raise bad_request("invalid_metadata", problem)
    return dict(value)


@dataclass(frozen=True)
class ListParams:
    limit: int
    order: ListOrder
    before: str | None
    after: str | None


def parse_list_params(query: QueryParams) -> ListParams:
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
    return ListParams(limit, order, before, after)  # type: ignore[arg-type]  # checked above


def query_list(query: QueryParams, name: str) -> list[str]:
    """A list query parameter, comma-joined (what the SDK sends) or repeated."""
    values = [*query.getlist(name), *query.getlist(f"{name}[]")]
    return [part.strip() for value in values for part in value.split(",") if part.strip()]
