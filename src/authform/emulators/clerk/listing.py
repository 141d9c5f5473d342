"""Lists: query parameters, the SQL filters built from them, and their order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from starlette.requests import Request

from ..store import placeholders
from .family import param_invalid

MAX_LIST_FILTER_VALUES: Final = 100
MAX_PAGE_SIZE: Final = 500


def query_values(request: Request, name: str) -> list[str]:
    """An array query parameter (the SDK repeats ``name=…``, other clients send
    ``name[]=…``), refused beyond Clerk's 100 values."""
    values = [*request.query_params.getlist(name), *request.query_params.getlist(f"{name}[]")]
    values = [value.strip() for value in values if value.strip()]
    if len(values) > MAX_LIST_FILTER_VALUES:
        raise param_invalid(name, f"{name} accepts up to {MAX_LIST_FILTER_VALUES} values.")
    return values


def split_signed(values: Sequence[str]) -> tuple[list[str], list[str]]:
    """``+id``/``-id`` filters: (included, excluded); no sign means included. A ``+`` sent
    unencoded in a query string arrives as a space, which is read as ``+``."""
    include = [value.lstrip("+ ") for value in values if not value.startswith("-")]
    return include, [value[1:] for value in values if value.startswith("-")]


def query_int(request: Request, name: str, *, default: int, low: int, high: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise param_invalid(name, f"{name} must be an integer {bounds}.")
    return value


def query_optional_int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise param_invalid(name, f"{name} must be an integer (Unix milliseconds).") from None


def query_bool(request: Request, name: str) -> bool | None:
    raw = (request.query_params.get(name) or "").lower()
    if raw in ("true", "1", "false", "0", ""):
        return None if raw == "" else raw in ("true", "1")
    raise param_invalid(name, f"{name} must be true or false.")


@dataclass(frozen=True)
class Order:
    """A parsed ``order_by``: the field and its direction (``+`` is implied)."""

    field: str
    descending: bool

    @property
    def direction(self) -> str:
        return "DESC" if self.descending else "ASC"


def parse_order(request: Request, fields: Iterable[str], default: str) -> Order:
    # "We only support one order_by parameter ... we will only keep the first one."
    values = request.query_params.getlist("order_by")
    raw = (values[0] if values else "") or default
    text = raw.strip() if raw[:1] == " " else raw  # an unencoded '+' arrives as a space
    name, known = text.lstrip("+-"), list(fields)
    if name not in known:
        text = f"order_by must be one of {', '.join(known)}, optionally prefixed + or -."
        raise param_invalid("order_by", text)
    return Order(name, text.startswith("-"))


def like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


@dataclass
class Filters:
    """SQL conditions and their arguments, built up from query parameters."""

    conditions: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)

    def add(self, condition: str, *args: Any) -> None:
        self.conditions.append(condition)
        self.args.extend(args)

    def add_in(self, column: str, values: Sequence[Any], *, negate: bool = False) -> None:
        """``column IN (values)`` (``NOT IN`` when ``negate``); nothing for no values."""
        if values:
            self.add(f"{column} {'NOT IN' if negate else 'IN'} ({placeholders(values)})", *values)

    def add_signed(self, including: str, excluding: str, values: Sequence[str]) -> None:
        """A ``+value``/``-value`` filter; in the two conditions ``{values}`` stands for the
        placeholders of the values included or excluded."""
        for sql, chosen in zip((including, excluding), split_signed(values), strict=True):
            if chosen:
                self.add(sql.format(values=placeholders(chosen)), *chosen)

    def where(self) -> str:
        return f"WHERE {' AND '.join(self.conditions)}" if self.conditions else ""


_IDENTIFIED: Final = "{uid} IN (SELECT user_id FROM clerk_identifications WHERE "


@dataclass(frozen=True)
class UserFilter:
    """One parameter's SQL condition. ``{uid}`` stands for the user id column, ``{values}``
    for the placeholders of the parameter's values; ``excluding`` is the condition of the
    ``-value`` form of a signed parameter. ``read`` says how the parameter is read: values
    (``lower``: compared without case), ``signed`` values, one ``like`` pattern, a ``bound``
    in Unix ms, a ``flag``, or ``never`` (nothing can match: no web3 wallets here)."""

    sql: str
    read: Literal["values", "lower", "signed", "like", "bound", "flag", "never"]
    excluding: str = ""


USER_FILTERS: Final = {
    "email_address": UserFilter(
        _IDENTIFIED + "kind = 'email_address' AND lower(value) IN ({values}))", "lower"
    ),
    "phone_number": UserFilter(
        _IDENTIFIED + "kind = 'phone_number' AND value IN ({values}))", "values"
    ),
    "username": UserFilter("lower(u.username) IN ({values})", "lower"),
    "web3_wallet": UserFilter("0", "never"),
    "external_id": UserFilter(
        "u.external_id IN ({values})",
        "signed",
        "(u.external_id IS NULL OR u.external_id NOT IN ({values}))",
    ),
    "user_id": UserFilter("{uid} IN ({values})", "signed", "{uid} NOT IN ({values})"),
    "organization_id": UserFilter(
        "{uid} IN (SELECT user_id FROM clerk_memberships WHERE organization_id IN ({values}))",
        "signed",
        "{uid} NOT IN (SELECT user_id FROM clerk_memberships WHERE organization_id IN ({values}))",
    ),
    "query": UserFilter(
        "(lower({uid}) LIKE ? ESCAPE '\\' OR lower(coalesce(u.first_name, '')) LIKE ? ESCAPE '\\'"
        " OR lower(coalesce(u.last_name, '')) LIKE ? ESCAPE '\\' OR "
        "lower(coalesce(u.username, '')) LIKE ? ESCAPE '\\' OR {uid} IN (SELECT user_id "
        "FROM clerk_identifications WHERE lower(value) LIKE ? ESCAPE '\\'))",
        "like",
    ),
    "email_address_query": UserFilter(
        _IDENTIFIED + "kind = 'email_address' AND lower(value) LIKE ? ESCAPE '\\')", "like"
    ),
    "phone_number_query": UserFilter(
        _IDENTIFIED + "kind = 'phone_number' AND lower(value) LIKE ? ESCAPE '\\')", "like"
    ),
    "username_query": UserFilter("lower(coalesce(u.username, '')) LIKE ? ESCAPE '\\'", "like"),
    "name_query": UserFilter(
        "lower(coalesce(u.first_name, '') || ' ' || coalesce(u.last_name, '')) LIKE ? ESCAPE '\\'",
        "like",
    ),
    "banned": UserFilter("u.banned = ?", "flag"),
    "created_at_before": UserFilter("u.created_at < ?", "bound"),
    "created_at_after": UserFilter("u.created_at > ?", "bound"),
    "last_active_at_before": UserFilter("u.last_active_at < ?", "bound"),
    "last_active_at_after": UserFilter("u.last_active_at > ?", "bound"),
    "last_active_at_since": UserFilter("u.last_active_at >= ?", "bound"),
    "last_sign_in_at_before": UserFilter("u.last_sign_in_at < ?", "bound"),
    "last_sign_in_at_after": UserFilter("u.last_sign_in_at > ?", "bound"),
}
# Orderings by a user's fields, shared by user and membership lists.
USER_ORDER_FIELDS: Final = {
    "email_address": "(SELECT lower(value) FROM clerk_identifications "
    "WHERE id = u.primary_email_address_id)",
    "phone_number": "(SELECT value FROM clerk_identifications "
    "WHERE id = u.primary_phone_number_id)",
    "first_name": "lower(u.first_name)",
    "last_name": "lower(u.last_name)",
    "username": "lower(u.username)",
}


def filter_users(
    request: Request, filters: Filters, names: Iterable[str] = USER_FILTERS, *, uid: str = "u.id"
) -> Filters:
    """Add the conditions of the parameters ``names`` the request sets to ``filters``."""
    for name in names:
        rule = USER_FILTERS[name]
        sql = rule.sql.replace("{uid}", uid)
        if rule.read == "like":
            value = request.query_params.get(name)
            if value:
                filters.add(sql, *[like(value)] * sql.count("?"))
        elif rule.read in ("bound", "flag"):
            bound = (query_optional_int if rule.read == "bound" else query_bool)(request, name)
            if bound is not None:
                filters.add(sql, bound)
        else:
            values = query_values(request, name)
            if rule.read == "lower":
                values = [value.lower() for value in values]
            if rule.read == "never" and values:
                filters.add(sql)
            elif rule.read == "signed":
                filters.add_signed(sql, rule.excluding.replace("{uid}", uid), values)
            elif values:
                filters.add(sql.format(values=placeholders(values)), *values)
    return filters
