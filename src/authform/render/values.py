"""How values appear in every rendering: one place decides what is masked.

Secrets and password hashes never leave this module as values: a sensitive field shows as
``(sensitive)`` and a password hash as ``bcrypt hash (set)``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from authform.engine.plan import Change, FieldChange
from authform.resources import SENSITIVE_FIELDS

SENSITIVE = "(sensitive)"


@lru_cache(maxsize=4096)
def is_sensitive(path: str) -> bool:
    # Cached: a plan of a million changes asks this of the same few field paths.
    return any(part in SENSITIVE_FIELDS for part in path.split("."))


def format_value(value: Any) -> str:
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def masked(path: str, value: Any) -> Any:
    return SENSITIVE if is_sensitive(path) and value is not None else value


def describe_field(change: FieldChange) -> str:
    """``old → new`` for scalars; ``+ item, - item`` for lists, which are order-free sets."""
    old, new = masked(change.path, change.old), masked(change.path, change.new)
    if change.path.endswith("]") and (change.old is None) != (change.new is None):
        # one item of a keyed list added or removed: domains[acme.com]
        return f"+ {format_value(new)}" if change.old is None else f"- {format_value(old)}"
    if change.old is None and change.new is not None:
        return format_value(new)  # a new value: show it whole
    if isinstance(old, list) or isinstance(new, list):
        before = [format_value(v) for v in old or []]
        after = [format_value(v) for v in new or []]
        parts = [f"+ {v}" for v in after if v not in before]
        parts += [f"- {v}" for v in before if v not in after]
        return ", ".join(parts) if parts else "(reordered)"
    if change.new is None and change.old is not None:
        return f"{format_value(old)} → null"
    return f"{format_value(old)} → {format_value(new)}"


def create_only_summary(values: Mapping[str, Any]) -> dict[str, str]:
    """Write-once values (password hashes, secrets) as the plan may show them."""
    shown: dict[str, str] = {}
    for name in values:
        if name == "password_hash_type":
            continue
        if name == "password_hash":
            shown[name] = f"{values.get('password_hash_type', 'password')} hash (set)"
        else:
            shown[name] = SENSITIVE
    return shown


def change_fields(change: Change) -> list[tuple[str, str]]:
    """(field, description) rows for one change, masks applied."""
    rows = [(f.path, describe_field(f)) for f in change.fields]
    if change.desired is not None and change.action.value in ("create", "replace"):
        rows += list(create_only_summary(change.desired.create_only).items())
    return rows
