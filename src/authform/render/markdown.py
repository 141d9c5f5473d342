"""Markdown rendering for pull-request comments and GitHub step summaries."""

from __future__ import annotations

from authform.engine.plan import Action, Change, Plan
from authform.render.sources import ChangeSources, Source, describe_source
from authform.render.summary import listed_groups, plan_counts, plan_headline
from authform.render.values import change_fields

# The first line of every Markdown plan: CI finds its own pull-request comment by it and
# updates it in place. Each environment's plan is a comment of its own.
MARKER = "<!-- authform-plan -->"


def plan_marker(environment: str | None) -> str:
    """``<!-- authform-plan -->``, or ``<!-- authform-plan environment=NAME -->`` (the GitHub
    action's comment step builds the same line)."""
    return f"<!-- authform-plan environment={environment} -->" if environment else MARKER


ICONS = {
    Action.CREATE: "➕",
    Action.UPDATE: "✏️",
    Action.REPLACE: "♻️",
    Action.DELETE: "🗑️",
    Action.MANUAL: "🖐️",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def change_row(change: Change, source: Source | None = None) -> str:
    """One change as a table row; its source is shown as code, so GitHub makes no link of
    a path or a host name in it."""
    rows = [f"`{name}`: {text}" for name, text in change_fields(change)]
    if change.action is Action.DELETE:
        rows = []
    if change.blocked:
        rows.insert(0, f"**not applied:** {change.blocked}")
    elif change.note:
        rows.insert(0, f"_{change.note}_")
    where = describe_source(source or {})
    if where:
        rows.append("from `" + where.replace("`", "'") + "`")
    detail = "<br>".join(_cell(r) for r in rows)
    return (
        f"| {ICONS[change.action]} {change.action.value} | `{_cell(change.address)}` | {detail} |"
    )


def render_plan_markdown(
    plan: Plan, *, max_per_group: int | None = 30, sources: ChangeSources | None = None
) -> str:
    """Bounded like the text plan: a GitHub comment holds at most 65,536 characters. With
    ``sources`` each change's detail ends with the place that caused it."""
    lines = [
        plan_marker(plan.environment),
        f"### {plan_headline(plan)}",
        "",
        f"**{plan_counts(plan)}**",
        "",
    ]
    if plan.notes:
        lines += ["```", *plan.notes, "```", ""]
    for refusal in plan.refusals:
        prefix = "⚠️ Forced" if plan.forced else "⛔ Refused"
        lines.append(f"> {prefix}: {refusal}")
    if plan.refusals:
        lines.append("")
    if plan.changes:
        lines += ["| | resource | detail |", "|---|---|---|"]
        groups = listed_groups(plan.changes, max_per_group)
        for change in (c for g in groups for c in g.shown):
            lines.append(change_row(change, sources.source(change) if sources else None))
        for group in groups:
            if group.hidden:
                lines.append(
                    f"| … | {group.hidden} more {group.kind.value} {group.action.value}s | "
                    "see the JSON plan |"
                )
        manual = [c for c in plan.changes if c.instructions]
        if manual:
            lines += ["", "#### Manual steps", ""]
            for change in manual:
                lines.append(f"**`{change.address}`**")
                lines += [f"{n}. {_cell(s)}" for n, s in enumerate(change.instructions, 1)]
                lines.append("")
    return "\n".join(lines).rstrip() + "\n"
