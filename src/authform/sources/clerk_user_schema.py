"""Check a Clerk user object against Clerk's own ``User`` schema before reading it.

Users saved from the Backend API (by the live ``clerk-api`` source, or by a script into a
JSON export) are judged by the schema Clerk publishes, so a record whose field has the wrong
type is skipped with a report naming the record and the field
(``email_addresses[0].verification.status: expected one of ...``) instead of being half
read. The schema is the subset of Clerk's ``User`` that authform reads, vendored in
``schemas/clerk_user.json`` from Clerk's OpenAPI document (its ``$comment`` names the
source, MIT); a test regenerates it from that document and fails when it is stale.
Messages never quote a value: a record may hold a secret.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when first used: a CSV import never validates a JSON user
    from jsonschema import Draft202012Validator, ValidationError

from authform.sources.json_array import describe_json_type

SCHEMA_FILE = "schemas/clerk_user.json"
MAX_PROBLEMS = 3  # per record: enough to fix it, short enough to read in a report row


@cache
def user_schema() -> dict[str, Any]:
    text = files("authform.sources").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft202012Validator:
    # jsonschema (and attrs, referencing) take a tenth of a second to import: every
    # command that loads a manifest would pay it, and only a Clerk JSON or API source
    # validates a user against the schema.
    from jsonschema import Draft202012Validator

    return Draft202012Validator(user_schema())


def is_api_user(obj: Mapping[str, Any]) -> bool:
    """Whether ``obj`` is a Backend API user object rather than the old JSON export's shape
    (pipe-separated ``email_addresses``), which Clerk's schema does not describe."""
    if "object" in obj:
        return True
    return any(
        isinstance(value, list) and any(isinstance(entry, Mapping) for entry in value)
        for value in (obj.get("email_addresses"), obj.get("phone_numbers"))
    )


def user_schema_problem(obj: Mapping[str, Any]) -> str | None:
    """``None`` when ``obj`` matches Clerk's ``User`` schema, else what is wrong and where,
    for the skip report (the record's origin and id are reported beside it)."""
    validator = _validator()
    if validator.is_valid(obj):
        return None
    errors = sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))
    shown = [_describe(error) for error in _leaves(errors)][:MAX_PROBLEMS]
    return "does not match Clerk's User schema: " + "; ".join(dict.fromkeys(shown))


def _leaves(errors: Iterable[ValidationError]) -> Iterable[ValidationError]:
    for error in errors:
        if error.context:  # oneOf/anyOf: the branches' own errors say more
            yield from _leaves(error.context)
        else:
            yield error


def _describe(error: ValidationError) -> str:
    where = _path(error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "a field"
        return f"{where + '.' if where else ''}{missing}: missing"
    if error.validator == "type":
        expected = error.validator_value
        names = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join(_a(name) for name in names)
        return f"{where}: expected {wanted}, found {describe_json_type(error.instance)}"
    if error.validator == "enum":
        allowed = ", ".join(json.dumps(v) for v in error.validator_value)
        return f"{where}: expected one of {allowed}"
    return f"{where or 'the user object'}: fails the schema's {error.validator} rule"


def _a(type_name: str) -> str:
    if type_name == "null":
        return "null"
    return f"an {type_name}" if type_name[0] in "aeiou" else f"a {type_name}"


def _path(parts: Iterable[Any]) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path
