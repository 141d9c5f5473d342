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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from authform.engine.plan import Action, Change, CreateBlock, as_change
from authform.engine.spool import PickleSpool, change_spool
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
    """The changes in the order apply runs them, with waits and holds filled in (for a list
    of changes; the planner streams ``order_kinds`` itself)."""
    by_kind: dict[Kind, list[Change]] = {}
    for change in changes:
        by_kind.setdefault(change.kind, []).append(change)
    kinds = sorted(by_kind, key=lambda k: k.order)
    for changes_of_kind in by_kind.values():
        changes_of_kind.sort(key=lambda c: (c.action is Action.DELETE, c.key))
    # A list of changes holds no ``CreateBlock``, so none comes out.
    return list(order_kinds((kind, by_kind[kind], True) for kind in kinds))  # type: ignore[arg-type]


def order_kinds(
    kinds: Iterable[tuple[Kind, Iterable[Change | CreateBlock], bool]],
) -> Iterator[Change | CreateBlock]:
    """Each kind's changes (in dependency order of kinds; within one, desired-driven changes
    in key order, then deletes in key order) in the order apply runs them, with waits and
    holds filled in. ``may_wait`` says whether any change of the kind can free a unique value
    (the index knows it before the diff); when none can, the kind streams in one pass, its
    blocks of plain creates (``CreateBlock``) as they are (a kind that may wait has none).

    Held in memory: the values being freed and the changes that wait for them (a rename's
    worth, not the kind's); everything else goes through spools on disk.
    """
    late: list[PickleSpool] = []

    def ordered() -> Iterator[Change | CreateBlock]:
        for kind, changes, may_wait in kinds:
            deletes = change_spool()
            if kind in UNIQUE_VALUES and may_wait:
                yield from _with_unique_waits(_one_by_one(changes), deletes)
            else:
                for change in changes:
                    if change.action is Action.DELETE:
                        deletes.append(change)
                    else:
                        yield change
            late.append(deletes)
        # Deletes run after every create and update, bottom kind first.
        for deletes in reversed(late):
            yield from deletes
            deletes.close()

    return _hold_dependents(ordered())


def _one_by_one(changes: Iterable[Change | CreateBlock]) -> Iterator[Change]:
    """Each change, the creates of a block one at a time."""
    for change in changes:
        if type(change) is CreateBlock:
            yield from change.changes()
        else:
            yield change  # type: ignore[misc]


def _with_unique_waits(changes: Iterable[Change], late: PickleSpool) -> Iterator[Change]:
    """One kind whose changes may claim a value another frees: a change that claims a value
    waits for the change that frees it (that delete moves ahead of the kind's others), or is
    held when the value will not be freed. Deletes no one waits for go to ``late``."""
    head, deletes = change_spool(), change_spool()
    freed_by: dict[str, Change] = {}
    for change in changes:
        for value in _frees(change):
            # What a claim needs of its holder: address, action, block; not its resources.
            freed_by[value] = dataclasses.replace(
                change, desired=None, live=None, fields=(), instructions=()
            )
        (deletes if change.action is Action.DELETE else head).append(change)
    waiting: list[Change] = []
    rest = change_spool()
    for change in head:
        change = _wait_for_unique_values(change, freed_by)
        if change.after:
            waiting.append(change)
        else:
            rest.append(change)
    head.close()
    early = {address for change in waiting for address in change.after}
    for change in deletes:
        if change.address in early:
            yield change
    yield from rest
    rest.close()
    levels = _levels(waiting)
    yield from sorted(waiting, key=lambda c: (levels.get(c.address, 0), c.key))
    for change in deletes:
        if change.address not in early:
            late.append(change)
    deletes.close()


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


def _wait_for_unique_values(change: Change, freed_by: Mapping[str, Change]) -> Change:
    """``change``, waiting for the changes that free the unique values it claims, or held
    when one of them will not be carried out."""
    holders = sorted(
        (
            (value, freed_by[value])
            for value in _claims(change)
            if value in freed_by and freed_by[value].key != change.key
        ),
        key=lambda pair: pair[0],
    )
    stuck = [(value, holder) for value, holder in holders if not holder.is_write]
    if stuck:
        value, holder = stuck[0]
        field_name = UNIQUE_VALUES[change.kind][0]
        return dataclasses.replace(
            change,
            blocked=f"its {field_name} {value} is still held by {holder.address}, "
            f"{_why_kept(holder)}",
        )
    if holders:
        return dataclasses.replace(
            change, after=tuple(sorted({holder.address for _, holder in holders}))
        )
    return change


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


def _hold_dependents(changes: Iterable[Change | CreateBlock]) -> Iterator[Change | CreateBlock]:
    """Hold back, at plan time, every change whose desired item needs one that will not be
    created (its create is blocked): apply would only fail on it. What a change needs comes
    before it in this order (kinds run in dependency order), so one pass sees every hold.
    A block of plain creates passes whole while nothing is held (none of its creates is)."""
    missing: dict[str, str] = {}
    for item in changes:
        if type(item) is not CreateBlock:
            yield _held(item, missing)  # type: ignore[arg-type]
        elif not missing:
            yield item
        else:
            for change in item.changes():
                yield _held(change, missing)


def _held(change: Change, missing: dict[str, str]) -> Change:
    """``change``, held back when it needs a create that is (``missing``: address → why,
    which a held create is added to)."""
    # Nothing is held until a create is (a blocked create is rare): until then no change's
    # needs are worth working out.
    if missing and change.blocked is None and change.desired is not None:
        needed = [d for d in dependencies(change.desired) if d in missing]
        if needed:
            change = dataclasses.replace(
                as_change(change), blocked=f"it needs {needed[0]}, which is not applied"
            )
    if change.blocked and change.action is Action.CREATE:
        missing[change.address] = change.blocked
    return change
