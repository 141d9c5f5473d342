"""Request bodies read against tables of field rules.

Each operation declares its body as a table (``{field: Rule}``) mirroring the OpenAPI
document's schema: the fields it knows (any other is ``form_param_unknown``, the document's
``additionalProperties: false``), their types, and the checks that need no database. ``body``
writes the table as the document lists the fields; a field's type comes from one Clerk-wide
table (a name means the same type in every body), so an operation spells out only its
special rules. ``Form``
applies a table and collects every problem before failing, so a client learns about all its
mistakes in one 422, as Clerk answers several ``errors``. What a rule cannot say (a check
across fields, a uniqueness lookup) is a few lines beside the table, added with ``fail``.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, Literal
from urllib.parse import parse_qsl

from starlette.requests import Request

from ..base import ApiError
from .family import api_error, clerk_error, errors_body, parse_rfc3339_ms

Kind = Literal["text", "flag", "count", "texts", "object", "time"]
_TYPE_NAMES = {
    "text": "a string",
    "flag": "a boolean",
    "count": "an integer",
    "texts": "an array of strings",
    "object": "a JSON object",
}


@dataclass(frozen=True)
class Rule:
    """How one body field is read: its type and the checks on its value.

    ``pattern`` must match the whole value (each item of a ``texts``, stripped); ``choices``
    lists the allowed values; either failing reports ``invalid``. ``unsupported`` refuses any
    value with that explanation (what the emulator does not model)."""

    kind: Kind = "text"
    required: bool = False
    max_length: int | None = None
    minimum: int | None = None
    pattern: re.Pattern[str] | None = None
    choices: tuple[str, ...] = ()
    invalid: str = ""
    unsupported: str = ""


TEXT, FLAG, TEXTS, OBJECT, TIME = (Rule(k) for k in ("text", "flag", "texts", "object", "time"))
REQUIRED = Rule(required=True)
COUNT = Rule("count", minimum=0)
Rules = Mapping[str, Rule]


def names(text: str) -> tuple[str, ...]:
    """Field names written as one space-separated string (as ``namedtuple`` takes them)."""
    return tuple(text.split())


# A field's type wherever Clerk's bodies use its name (a string unless named here).
FIELD_RULES: Final = {
    **dict.fromkeys(("public_metadata", "private_metadata", "unsafe_metadata"), OBJECT),
    **dict.fromkeys(("legal_accepted_at", "created_at"), TIME),
    **dict.fromkeys(("create_organizations_limit", "max_allowed_memberships"), COUNT),
    **dict.fromkeys(names("backup_codes permissions"), TEXTS),
    **dict.fromkeys(
        names("email_address_identification_status phone_number_identification_status"), TEXTS
    ),
    **dict.fromkeys(
        names(
            "skip_password_requirement skip_password_checks delete_self_enabled banned locked "
            "create_organization_enabled bypass_client_trust skip_legal_checks verified "
            "skip_user_requirement sign_out_of_other_sessions notify_primary_email_address_changed "
            "include_in_initial_role_set admin_delete_enabled test_mode hibp cookieless_dev "
            "url_based_session_syncing"
        ),
        FLAG,
    ),
}


def body(fields: str, **special: Rule) -> dict[str, Rule]:
    """An operation's body as its document lists it: field names in order, ``!`` after a
    required one; each read by its rule in ``special``, else by its Clerk-wide type."""
    rules = {}
    for field in fields.split():
        name = field.removesuffix("!")
        rule = special.get(name) or FIELD_RULES.get(name, TEXT)
        rules[name] = replace(rule, required=True) if field.endswith("!") else rule
    return rules


class Form:
    """A request body read against ``rules``: ``form[name]`` is the value read (``None`` when
    absent or invalid), ``errors`` every problem found. ``open`` accepts unknown fields, where
    the document's schema does. Form-encoded bodies (which Clerk also accepts) arrive as
    strings, so booleans, integers, lists and objects are converted when ``from_form``."""

    def __init__(
        self, data: Mapping[str, Any], rules: Rules, *, from_form: bool = False, open: bool = False
    ) -> None:
        self.data, self.from_form = data, from_form
        self.errors: list[dict[str, Any]] = []
        for key in data:
            if not open and key not in rules:
                text = f"{key} is not a valid parameter for this request."
                self.fail("form_param_unknown", key, "is unknown", text)
        self.values = {name: self._read(name, rule) for name, rule in rules.items()}

    def __getitem__(self, name: str) -> Any:
        return self.values.get(name)

    def sent(self, name: str) -> bool:
        return name in self.data

    def given(self, *names: str, nullable: bool = False) -> dict[str, Any]:
        """The fields among ``names`` the client set, by name; with ``nullable``, a field
        sent as ``null`` is given as ``None`` (it clears a nullable column)."""
        return {
            name: self.values[name]
            for name in names
            if self.values[name] is not None
            or (nullable and self.sent(name) and self.data[name] is None)
        }

    def fail(self, code: str, param: str, message: str, long_message: str) -> None:
        self.errors.append(clerk_error(code, message, long_message, param=param))

    def missing(self, param: str) -> None:
        self.fail("form_param_missing", param, "is missing", f"{param} is missing.")

    def invalid(self, param: str, long_message: str) -> None:
        self.fail("form_param_format_invalid", param, "is invalid", long_message)

    def check(self) -> None:
        if self.errors:
            raise ApiError(422, errors_body(*self.errors))

    def _read(self, name: str, rule: Rule) -> Any:
        value = self._typed(name, rule.kind, self.data.get(name))
        if value is None:
            if rule.required and not (name in self.data and self.data[name] is not None):
                self.missing(name)
            return None
        if rule.required and isinstance(value, str) and not value.strip():
            self.missing(name)
            return None
        if rule.max_length is not None and len(value) > rule.max_length:
            self.invalid(name, f"{name} must be at most {rule.max_length} characters long.")
            return None
        if rule.minimum is not None and value < rule.minimum:
            self.invalid(name, f"{name} must be greater than or equal to {rule.minimum}.")
            return None
        items = value if isinstance(value, list) else [value]
        for text in [item.strip() for item in items] if rule.pattern or rule.choices else []:
            bad_pattern = rule.pattern is not None and not rule.pattern.fullmatch(text)
            if bad_pattern or (rule.choices and text not in rule.choices):
                self.invalid(name, rule.invalid)
                return None
        if rule.unsupported and items:
            self.fail("form_param_value_invalid", name, "is invalid", rule.unsupported)
            return None
        return value

    def _typed(self, name: str, kind: Kind, value: Any) -> Any:
        """``value`` as ``kind``, or ``None`` (with the problem noted) when it is not one."""
        if value is None:
            return None
        if self.from_form and isinstance(value, str):
            if kind == "flag" and value in ("true", "false"):
                value = value == "true"
            elif kind == "count" and re.fullmatch(r"-?\d+", value):
                value = int(value)
            elif kind == "texts":
                value = [value]
            elif kind == "object":
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
        if kind == "time":
            text = self._typed(name, "text", value)
            parsed = None if text is None else parse_rfc3339_ms(text)
            if text is not None and parsed is None:
                example = "e.g. 2012-10-20T07:15:20Z"
                self.invalid(name, f"{name} must be an RFC 3339 date-time, {example}.")
            return parsed
        fits = {
            "text": isinstance(value, str),
            "flag": isinstance(value, bool),
            "count": isinstance(value, int) and not isinstance(value, bool),
            "texts": isinstance(value, list) and all(isinstance(i, str) for i in value),
            "object": isinstance(value, dict),
        }[kind]
        if not fits:
            self.invalid(name, f"{name} must be {_TYPE_NAMES[kind]}.")
            return None
        return value


async def read_body(request: Request) -> tuple[dict[str, Any], bool]:
    """The request body as a dict and whether it was form-encoded.

    Form fields named ``x[]`` (or repeated) become lists, as Clerk reads them.
    """
    raw = await request.body()
    if not raw.strip():
        return {}, False
    if "application/x-www-form-urlencoded" in request.headers.get("content-type", ""):
        form: dict[str, Any] = {}
        for key, value in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
            name = key.removesuffix("[]")
            if name in form or name != key:
                existing = form.get(name, [])
                form[name] = [*(existing if isinstance(existing, list) else [existing]), value]
            else:
                form[name] = value
        return form, True
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        text = "The request body must be a JSON object or form data."
        raise api_error(400, "request_body_invalid", "Request body is invalid", text)
    return data, False


async def read_form(request: Request, rules: Rules, *, open: bool = False) -> Form:
    data, from_form = await read_body(request)
    return Form(data, rules, from_form=from_form, open=open)
