"""The order a plan runs in, and what one change must wait for.

Creates and updates run in dependency order (permissions before the roles that name them,
users and organizations before their memberships); deletes run after them, in reverse.

One thing that order alone gets wrong: some values are unique across a provider (a user's
email, an organization's domain). When the key of an item that holds one is renamed, the
plan holds a delete of the old key and a create of the new one; run create-first, the create
fails on a conflict while the delete still runs, and until the next run neither exists. So a
change that claims a unique value another live item holds waits for the change that frees it
(that delete moves ahead of the kind's creates), and when the value will not be freed (the
delete is not allowed, or is a manual step) the claiming change is not applied either, and
says why, instead of failing at apply.

A change whose desired item depends on one that will not be created (a membership of a user
whose create is held back) is held back with it, at plan time, so apply never fails on it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from authform.engine.plan import Action, Change
from authform.resources import Kind, dependencies


def _emails(spec: Mapping[str, Any]) -> set[str]:
    email = spec.get("email")
    return {str(email).lower()} if email else set()


def _domains(spec: Mapping[str, Any]) -> set[str]:
    return {str(d["domain"]).lower() for d in spec.get("domains") or [] if d.get("domain")}


# Values no two items of a kind may share, on every provider (compared without case, as the
# providers compare them). Named by the field they live in, for messages.
UNIQUE_VALUES: dict[Kind, tuple[str, Callable[[Mapping[str, Any]], set[str]]]] = {
    Kind.USER: ("email", _emails),
    Kind.ORGANIZATION: ("domain", _domains),
}


def order_changes(changes: Sequence[Change]) -> list[Change]:
    """The changes in the order apply runs them, with waits and holds filled in."""
    held = _wait_for_unique_values(changes)
    levels = _levels(held)
    early = {address for change in held for address in change.after}

    def position(change: Change) -> tuple[int, int, int, str]:
        if change.action is Action.DELETE and change.address not in early:
            return (1, -change.kind.order, 0, change.key)
        if change.action is Action.DELETE:
            return (0, change.kind.order, -1, change.key)
        return (0, change.kind.order, levels.get(change.address, 0), change.key)

    return _hold_dependents(sorted(held, key=position))


def _values(change: Change, side: str) -> set[str]:
    rule = UNIQUE_VALUES.get(change.kind)
    resource = change.live if side == "live" else change.desired
    if rule is None or resource is None:
        return set()
    return rule[1](resource.spec)


def _frees(change: Change) -> set[str]:
    """Unique values the live item holds that it will not hold once this change is done."""
    if change.action is Action.DELETE:
        return _values(change, "live")
    return _values(change, "live") - _values(change, "desired")


def _claims(change: Change) -> set[str]:
    """Unique values this change gives an item that the item does not hold yet."""
    if change.action in (Action.DELETE, Action.MANUAL) or change.blocked:
        return set()
    if change.action is Action.REPLACE:  # deletes its own live item first
        return _values(change, "desired")
    return _values(change, "desired") - _values(change, "live")


def _wait_for_unique_values(changes: Sequence[Change]) -> list[Change]:
    freed_by: dict[tuple[Kind, str], Change] = {}
    for change in changes:
        for value in _frees(change):
            freed_by[(change.kind, value)] = change
    result = []
    for change in changes:
        holders = sorted(
            (
                (value, freed_by[(change.kind, value)])
                for value in _claims(change)
                if (change.kind, value) in freed_by
                and freed_by[(change.kind, value)].key != change.key
            ),
            key=lambda pair: pair[0],
        )
        stuck = [(value, holder) for value, holder in holders if not holder.is_write]
        if stuck:
            value, holder = stuck[0]
            field_name = UNIQUE_VALUES[change.kind][0]
            change = dataclasses.replace(
                change,
                blocked=f"its {field_name} {value} is still held by {holder.address}, "
                f"{_why_kept(holder)}",
            )
        elif holders:
            change = dataclasses.replace(
                change, after=tuple(sorted({holder.address for _, holder in holders}))
            )
        result.append(change)
    return result


def _why_kept(holder: Change) -> str:
    if holder.action is Action.MANUAL:
        return "which needs a manual step first"
    return f"whose {holder.action.value} is not applied ({holder.blocked})"


def _levels(changes: Sequence[Change]) -> dict[str, int]:
    """How many waits deep each change is, so a chain (a frees for b, b frees for c) runs in
    that order. Two changes that wait for each other (a swap of emails) can never both run
    first; they stay at level 0 and the provider's answer reports the conflict."""
    after = {change.address: change.after for change in changes}
    levels: dict[str, int] = {}

    def level(address: str, seen: frozenset[str]) -> int:
        if address in levels:
            return levels[address]
        if address in seen:
            return 0
        deps = after.get(address, ())
        value = 1 + max((level(d, seen | {address}) for d in deps), default=-1)
        levels[address] = value
        return value

    for change in changes:
        level(change.address, frozenset())
    return levels


def _hold_dependents(changes: Sequence[Change]) -> list[Change]:
    """Hold back, at plan time, every change whose desired item needs one that will not be
    created (its create is blocked): apply would only fail on it."""
    missing: dict[str, str] = {
        change.address: change.blocked
        for change in changes
        if change.blocked and change.action is Action.CREATE
    }
    result = []
    for change in changes:
        if change.blocked is None and change.desired is not None:
            needed = [d for d in dependencies(change.desired) if d in missing]
            if needed:
                change = dataclasses.replace(
                    change, blocked=f"it needs {needed[0]}, which is not applied"
                )
                if change.action is Action.CREATE:
                    missing[change.address] = change.blocked or ""
        result.append(change)
    return result
