"""Targeted plans: ``--target`` and ``--exclude`` narrow a computed plan to some items.

The plan is computed whole first (adoption, ordering, references all see everything) and
then filtered here, so selecting never changes what a selected change looks like; only
which changes are in the plan. A selected change that needs another change of the plan
first (a membership its user's create, a role its permissions' creates, a create the delete
that frees its email) pulls that change in, and the plan says so; when the needed change is
excluded, the selection is refused naming both, since applying it would fail half-way.

Every pattern must match an item of the desired or live state: a pattern that matches
nothing is almost always a typo, and a targeted apply that silently does nothing (or
everything but the typo) is worse than an error. The safety thresholds are judged again on
the selected changes, which are what apply would do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, overload

from authform.addresses import AddressPattern, AddressPatternError
from authform.engine.plan import Action, Change, Plan, Policy
from authform.engine.safety import threshold_refusals
from authform.resources import Resource, dependencies

# How many pulled-in dependencies the plan's note names before it only counts them.
MAX_NAMED_DEPENDENCIES = 10
# How many broken dependencies a refusal names.
MAX_NAMED_PROBLEMS = 5


class SelectionError(Exception):
    """A selection that cannot be planned: a bad pattern, one matching nothing, or one that
    leaves out a change a selected change needs. The message names the pattern or items."""


@dataclass(frozen=True)
class Selection:
    """What ``--target`` and ``--exclude`` chose. No target means every item."""

    targets: tuple[AddressPattern, ...] = ()
    excludes: tuple[AddressPattern, ...] = ()

    @classmethod
    def parse(cls, targets: Sequence[str] = (), excludes: Sequence[str] = ()) -> Selection:
        return cls(_parsed("--target", targets), _parsed("--exclude", excludes))

    @classmethod
    def from_json(cls, data: Any) -> Selection:
        if not data:
            return cls()
        return cls.parse(data.get("target", ()), data.get("exclude", ()))

    def to_json(self) -> dict[str, list[str]] | None:
        """How a saved plan records it; ``None`` for an untargeted plan."""
        if not self:
            return None
        return {
            "target": [p.text for p in self.targets],
            "exclude": [p.text for p in self.excludes],
        }

    def __bool__(self) -> bool:
        return bool(self.targets or self.excludes)

    def describe(self) -> str:
        return " ".join(
            [f"--target {p.text}" for p in self.targets]
            + [f"--exclude {p.text}" for p in self.excludes]
        )

    def excluded(self, change: Change) -> AddressPattern | None:
        return next((p for p in self.excludes if p.matches(change.kind, change.key)), None)

    def chosen(self, change: Change) -> bool:
        targeted = not self.targets or any(p.matches(change.kind, change.key) for p in self.targets)
        return targeted and self.excluded(change) is None


def _parsed(flag: str, texts: Sequence[str]) -> tuple[AddressPattern, ...]:
    try:
        return tuple(AddressPattern.parse(text) for text in texts)
    except AddressPatternError as exc:
        raise SelectionError(f"{flag} {exc}") from None


class SelectedChanges(Sequence[Change]):
    """The changes of a plan that a selection keeps, read from the plan's own sequence each
    time (which may be streamed from disk), never copied into a list of their own."""

    def __init__(self, changes: Iterable[Change], keep: set[str], selection: Selection) -> None:
        self._changes = changes
        self._pulled_in = keep
        self._selection = selection
        self._count: int | None = None

    def _kept(self, change: Change) -> bool:
        return self._selection.chosen(change) or change.address in self._pulled_in

    def __iter__(self) -> Iterator[Change]:
        return (change for change in self._changes if self._kept(change))

    def __len__(self) -> int:
        if self._count is None:
            self._count = sum(1 for _ in self)
        return self._count

    def __bool__(self) -> bool:
        return any(True for _ in self)

    @overload
    def __getitem__(self, index: int) -> Change: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Change]: ...
    def __getitem__(self, index: int | slice) -> Change | Sequence[Change]:
        # Only for callers that index; everything in authform iterates.
        return list(self)[index]


def check_patterns_match(selection: Selection, items: Iterable[Resource]) -> None:
    """Raise ``SelectionError`` naming every pattern that matches no desired or live item."""
    unmatched = {id(p): p for p in (*selection.targets, *selection.excludes)}
    for item in items:
        if not unmatched:
            return
        for key in [k for k, p in unmatched.items() if p.matches(item.kind, item.key)]:
            del unmatched[key]
    if unmatched:
        flags = {id(p): "--target" for p in selection.targets} | {
            id(p): "--exclude" for p in selection.excludes
        }
        named = "; ".join(
            f"{flags[k]} {p.text!r} matches no {p.kind.value} in the manifest, its source or "
            f"the live state"
            for k, p in unmatched.items()
        )
        raise SelectionError(f"{named}; nothing was planned")


def select_plan(
    plan: Plan, selection: Selection, items: Iterable[Resource], policy: Policy
) -> Plan:
    """``plan`` narrowed to ``selection`` (with what its changes need pulled in); ``items``
    are the desired and live resources the patterns must each match one of."""
    if not selection:
        return plan
    check_patterns_match(selection, items)
    needed_by = _pull_in_dependencies(plan.changes, selection)
    changes = SelectedChanges(plan.changes, set(needed_by), selection)
    every_threshold = set(_thresholds(plan.changes, plan, policy))
    refusals = [r for r in plan.refusals if r not in every_threshold]
    refusals += _thresholds(changes, plan, policy)
    notes = [*plan.notes, _selection_note(selection, changes, plan, needed_by)]
    return replace(plan, changes=changes, refusals=refusals, notes=notes)  # type: ignore[arg-type]


def _thresholds(changes: Iterable[Change], plan: Plan, policy: Policy) -> list[str]:
    return threshold_refusals(
        changes,
        plan.live_counts,
        max_delete_percent=policy.max_delete_percent,
        max_update_percent=policy.max_update_percent,
        threshold_min_existing=policy.threshold_min_existing,
    )


def _needs(change: Change) -> dict[str, tuple[str, bool]]:
    """What must be applied before ``change``: address -> (who needs it, whatever its
    action?). A change it must wait for (``after``: the delete freeing its email) is needed
    whatever it is; an item it refers to only when that item does not exist yet."""
    needs = {
        dep: (change.address, False)
        for dep in (dependencies(change.desired) if change.desired else ())
    }
    needs.update({dep: (change.address, True) for dep in change.after})
    return needs


def _brings_into_being(change: Change) -> bool:
    """A change without which the item does not exist yet (or not with its new id)."""
    if change.action in (Action.CREATE, Action.REPLACE):
        return True
    return change.action is Action.MANUAL and change.live is None


def _pull_in_dependencies(changes: Iterable[Change], selection: Selection) -> dict[str, str]:
    """The not-selected changes the selected ones need, each with the first address that
    needs it. Walks the plan once per level of dependency (membership → role → permission),
    holding only the addresses involved. Raises ``SelectionError`` when a needed change is
    excluded."""
    pulled: dict[str, str] = {}
    wanted: dict[str, tuple[str, bool]] = {}
    for change in changes:
        if selection.chosen(change):
            wanted.update(_needs(change))
    problems: list[str] = []
    while wanted:
        more: dict[str, tuple[str, bool]] = {}
        for change in changes:
            need = wanted.get(change.address)
            if need is None or selection.chosen(change) or change.address in pulled:
                continue
            needer, whatever_it_is = need
            if not (whatever_it_is or _brings_into_being(change)):
                continue
            pattern = selection.excluded(change)
            if pattern is not None:
                problems.append(
                    f"{needer} needs {change.address} ({change.action.value}), which "
                    f"--exclude {pattern.text!r} leaves out"
                )
                continue
            pulled[change.address] = needer
            more.update({d: n for d, n in _needs(change).items() if d not in pulled})
        wanted = more
    if problems:
        shown = "; ".join(problems[:MAX_NAMED_PROBLEMS])
        if len(problems) > MAX_NAMED_PROBLEMS:
            shown += f"; and {len(problems) - MAX_NAMED_PROBLEMS} more"
        raise SelectionError(
            f"the selection would break a dependency: {shown}. Exclude the items that need "
            "it too, or stop excluding what they need; nothing was planned"
        )
    return pulled


def _selection_note(
    selection: Selection, changes: SelectedChanges, plan: Plan, needed_by: dict[str, str]
) -> str:
    total = sum(1 for _ in plan.changes)
    note = f"Targeted plan ({selection.describe()}): {len(changes)} of {total} change(s)."
    if needed_by:
        named = [f"{dep} (needed by {needer})" for dep, needer in needed_by.items()]
        shown = ", ".join(named[:MAX_NAMED_DEPENDENCIES])
        if len(named) > MAX_NAMED_DEPENDENCIES:
            shown += f", and {len(named) - MAX_NAMED_DEPENDENCIES} more"
        note += f" Pulled in as dependencies: {shown}."
    return note


def ignore_for_drift(plan: Plan, patterns: Sequence[AddressPattern]) -> Plan:
    """``plan`` without the changes of items the manifest's ``drift.ignore`` names: items a
    team manages by hand on purpose never count as drift. Nothing is pulled in or refused
    (drift applies nothing), and a pattern matching nothing is fine: the item may be made
    by hand tomorrow."""
    if not patterns:
        return plan
    ignoring = Selection(excludes=tuple(patterns))
    changes = SelectedChanges(plan.changes, set(), ignoring)
    ignored = sum(1 for change in plan.changes if not ignoring.chosen(change))
    notes = plan.notes
    if ignored:
        notes = [*notes, f"drift.ignore: {ignored} difference(s) of hand-managed items ignored."]
    return replace(plan, changes=changes, notes=notes)  # type: ignore[arg-type]
