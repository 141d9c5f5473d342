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
    blocked_deletes = plan.count(Action.DELETE, blocked=True)
    deletes = plan.count(Action.DELETE)
    delete_text = f"{deletes} to delete"
    if blocked_deletes:
        delete_text += f" ({blocked_deletes} not allowed)"
    return (
        f"Plan: {plan.count(Action.CREATE)} to create, {plan.count(Action.UPDATE)} to update, "
        f"{plan.count(Action.REPLACE)} to replace, {delete_text}, "
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
