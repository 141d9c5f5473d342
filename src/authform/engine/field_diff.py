"""Field-level detail of two specs already known to differ, with paths a reviewer can read.

Nested values are compared by deepdiff, after each list of mappings that share a natural key
(an organization's domains) is keyed by it: a change inside one item is then named by that
item, ``domains[acme.com].state: "pending" → "verified"``, instead of showing the whole
list, or a position that shifts when an item is added. Lists of plain values (a role's
permissions) are order-free sets: they stay one change of the list, which the renderings
show as ``+ item, - item``. Mappings (metadata) are broken down to ``metadata.tier``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from authform.resources import normalize_spec

# The fields that name an item of a list, in the order they are tried: the first one that
# every item has, with no two items sharing a value, keys the list.
ITEM_KEYS = ("domain", "key", "slug", "email", "provider", "uri", "name", "id")


@dataclass(frozen=True, slots=True)
class FieldChange:
    path: str
    old: Any
    new: Any

    @property
    def field(self) -> str:
        """The spec's own field this change is in: ``domains`` for ``domains[acme.com].state``."""
        return self.path.split(".", 1)[0].split("[", 1)[0]


class _ByKey(dict[str, Any]):
    """A list of mappings keyed by ``key_field``: its entries render as ``[key]``."""

    def __init__(self, items: Mapping[str, Any], key_field: str) -> None:
        super().__init__(items)
        self.key_field = key_field


def field_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """The changes that turn ``old`` into ``new``, sorted by path. A field present on only
    one side is one change of the whole value."""
    if not old or not new:
        # A create or a delete (a million of them in a first import): every field set on
        # the one side is one change, as the general walk below would find.
        return _one_sided(old, new)
    result: list[FieldChange] = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if _scalar(before) and _scalar(after):
            # Plain values that differ in Python differ as JSON too: skipping the round trip
            # below matters when a create compares each of 300,000 records' fields with None.
            result.append(FieldChange(name, before, after))
            continue
        if _stable(before) == _stable(after):  # lists are order-free sets
            continue
        if before is None or after is None or not _nested(before) or not _nested(after):
            result.append(FieldChange(name, before, after))
            continue
        result += _nested_changes(name, before, after)
    return tuple(result)


def _one_sided(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    if new:
        return tuple(FieldChange(*state) for state in created_field_states(new))
    return tuple(FieldChange(n, old[n], None) for n in sorted(old) if old[n] is not None)


def created_field_states(spec: Mapping[str, Any]) -> tuple[tuple[str, None, Any], ...]:
    """The fields of a create of ``spec`` as ``(path, old, new)`` tuples: what
    ``field_changes({}, spec)`` holds, for the planner's plain creates (built as objects
    only when read)."""
    # Sorted by name: a spec's names are unique, so its values are never compared.
    return tuple([(name, None, value) for name, value in sorted(spec.items()) if value is not None])


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _nested(value: Any) -> bool:
    return isinstance(value, Mapping) or (
        isinstance(value, list | tuple) and any(isinstance(v, Mapping | list) for v in value)
    )


def _nested_changes(name: str, before: Any, after: Any) -> list[FieldChange]:
    old, new = _keyed(before), _keyed(after)
    if type(old) is not type(new):  # e.g. a list whose items lost their key: whole value
        return [FieldChange(name, before, after)]
    # Imported here, by the first nested change: deepdiff takes a tenth of a second to
    # import, which every plan with no such change (a no-change plan) would pay.
    from deepdiff import DeepDiff

    diff = DeepDiff({name: old}, {name: new}, view="tree", ignore_order=True)
    changes: dict[str, FieldChange] = {}
    for group in diff.values():
        for level in group:
            steps = level.path(output_format="list")
            # A change inside a plain list (an item added to a set of values) is a change of
            # that list: one row, shown as "+ item, - item".
            list_at = _first_plain_list(old, new, name, steps)
            if list_at is not None:
                steps = steps[:list_at]
                before_value, after_value = _at(old, name, steps), _at(new, name, steps)
            else:
                before_value = None if _is_missing(level.t1) else _plain(level.t1)
                after_value = None if _is_missing(level.t2) else _plain(level.t2)
            path = _readable(name, old, new, steps)
            changes[path] = FieldChange(path, before_value, after_value)
    return sorted(changes.values(), key=lambda change: change.path)


def _keyed(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _keyed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        items = [_keyed(v) for v in value]
        key_field = _item_key(items)
        if key_field is not None:
            return _ByKey({str(item[key_field]): item for item in items}, key_field)
        return items
    return value


def _item_key(items: Sequence[Any]) -> str | None:
    if not items or not all(isinstance(item, Mapping) for item in items):
        return None
    for candidate in ITEM_KEYS:
        values = [item.get(candidate) for item in items]
        if all(isinstance(v, str | int) for v in values) and len(set(values)) == len(values):
            return candidate
    return None


def _first_plain_list(old: Any, new: Any, name: str, steps: list[Any]) -> int | None:
    """How many steps lead to the first plain list on the way, if any."""
    for depth in range(1, len(steps) + 1):
        container = _raw_at(new, name, steps[: depth - 1])
        if container is None:
            container = _raw_at(old, name, steps[: depth - 1])
        if isinstance(container, list):
            return depth - 1
    return None


def _at(root: Any, name: str, steps: Sequence[Any]) -> Any:
    """The plain value at ``steps`` (which start with the field's name)."""
    return _plain(_raw_at(root, name, steps))


def _readable(name: str, old: Any, new: Any, steps: Sequence[Any]) -> str:
    """``domains[acme.com].state`` from the steps deepdiff reports (which start at the field)."""
    path = str(steps[0]) if steps else name
    for depth in range(1, len(steps)):
        container = _raw_at(new, name, steps[:depth])
        if container is None:
            container = _raw_at(old, name, steps[:depth])
        step = steps[depth]
        path += f"[{step}]" if isinstance(container, _ByKey | list) else f".{step}"
    return path


def _raw_at(root: Any, name: str, steps: Sequence[Any]) -> Any:
    value: Any = {name: root}
    for step in steps:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _plain(value: Any) -> Any:
    """A keyed list back as the list it was, for showing a whole value."""
    if isinstance(value, _ByKey):
        return [_plain(item) for item in value.values()]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _is_missing(value: Any) -> bool:
    return type(value).__name__ == "NotPresent"


def _stable(value: Any) -> Any:
    return normalize_spec(json.loads(json.dumps(value, sort_keys=True, default=str)))
