"""The query parameters that filter users, as a table: ``GET /v1/users`` and its count take
them all, organization membership lists a subset (matching the member's user)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from starlette.requests import Request

from .listing import Filters, like, placeholders, query_bool, query_optional_int, query_values

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
