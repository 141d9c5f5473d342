"""The shape of Clerk's object ids, so a value that is not one never becomes a key.

Clerk ids are a type prefix and a base-62 body (``user_2aAda0000000000000000001``,
``org_2aAcme…``, ``orgmem_…``): see the ids in Clerk's OpenAPI examples and every export.
A source id becomes the target's ``external_id`` and the key memberships refer to, so a cell
holding ``@SUM(1+1)``, a shifted column's email address or a control character is a broken
record, not an id: it is reported and skipped, never sent.
"""

from __future__ import annotations

import re
from typing import Literal

IdKind = Literal["user", "organization", "membership"]

# Clerk's own ids are 27-32 characters; the bound leaves room without admitting junk.
CLERK_ID_PREFIXES: dict[IdKind, str] = {
    "user": "user_",
    "organization": "org_",
    "membership": "orgmem_",
}
CLERK_ID_SHAPES: dict[IdKind, re.Pattern[str]] = {
    kind: re.compile(re.escape(prefix) + r"[A-Za-z0-9]{1,64}")
    for kind, prefix in CLERK_ID_PREFIXES.items()
}


def is_clerk_id(kind: IdKind, value: str) -> bool:
    return CLERK_ID_SHAPES[kind].fullmatch(value) is not None


def clerk_id_problem(kind: IdKind, value: str, field: str = "id") -> str | None:
    """Why ``value`` is not a Clerk ``kind`` id, or None. The value itself is not quoted: in a
    row whose columns shifted it may be anything, a password digest included."""
    if is_clerk_id(kind, value):
        return None
    prefix = CLERK_ID_PREFIXES[kind]
    return (
        f"{field} is not a Clerk {kind} id (expected {prefix!r} followed by 1-64 letters or "
        f"digits, like {prefix}2aXyz0000000000000000001)"
    )
