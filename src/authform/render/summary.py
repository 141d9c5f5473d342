"""Counts and headlines shared by the text and Markdown renderings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from authform.engine.plan import Action, Change, Plan
from authform.resources import Kind


def plan_headline(plan: Plan) -> str:
    where = plan.provider + (f" (environment: {plan.environment})" if plan.environment else "")
    return f"authform plan for {where}"


def plan_counts(plan: Plan) -> str:
    if not plan.changes:
        return "No changes. The provider matches the manifest."

    def counted(action: Action, verb: str) -> str:
        # A change that will not be carried out (deletes not allowed, a replace, a create
        # whose email is still held) is counted, and said to be not applied.
        text = f"{plan.count(action)} to {verb}"
        blocked = plan.count(action, blocked=True)
        return text + (f" ({blocked} not applied)" if blocked else "")

    return (
        f"Plan: {counted(Action.CREATE, 'create')}, {counted(Action.UPDATE, 'update')}, "
        f"{counted(Action.REPLACE, 'replace')}, {counted(Action.DELETE, 'delete')}, "
        f"{plan.count(Action.MANUAL)} manual."
    )


@dataclass
class ChangeGroup:
    """Consecutive changes of one kind and action, of which the first few are listed."""

    kind: Kind
    action: Action
    shown: list[Change] = field(default_factory=list)
    hidden: int = 0


def listed_groups(changes: Sequence[Change], max_per_group: int | None) -> list[ChangeGroup]:
    """Consecutive changes of one kind and action, each group with its first
    ``max_per_group`` changes (all of them with None) and a count of the rest.

    A plan's spool knows its groups (``ChangeSpool.runs``) and reads a range of changes
    without the ones before it, so a plan of a million creates reads the few changes it
    lists, not the million it counts."""
    runs = getattr(changes, "runs", None)
    if runs is not None and max_per_group is not None:
        return [
            ChangeGroup(
                kind,
                action,
                list(changes.read_range(first, first + min(count, max_per_group))),  # type: ignore[attr-defined]
                max(0, count - max_per_group),
            )
            for kind, action, first, count in runs
        ]
    groups: list[ChangeGroup] = []
    for change in changes:
        if not groups or (groups[-1].kind, groups[-1].action) != (change.kind, change.action):
            groups.append(ChangeGroup(change.kind, change.action))
        group = groups[-1]
        if max_per_group is None or len(group.shown) < max_per_group:
            group.shown.append(change)
        else:
            group.hidden += 1
    return groups
