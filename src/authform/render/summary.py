"""Counts and headlines shared by the text and Markdown renderings."""

from __future__ import annotations

from authform.engine.plan import Action, Plan


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
