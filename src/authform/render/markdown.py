"""Markdown rendering for pull-request comments and GitHub step summaries.

A pull-request comment holds at most 65,536 characters, and an import plans a million
changes, so the rendering is bounded at any size: it lists whole changes in plan order while
they fit a byte budget (never cutting inside a change, a table or a code block), and when
anything is left out it ends with the counts per kind and action and one line saying how
many changes are not listed and where the full plan is. A plan that fits renders as it
always did. The changes are read in one pass, so a plan spooled to disk is never loaded;
from a plan's spool, only the changes that can be listed are read (``_list_runs``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from authform.engine.plan import Action, Change, Plan
from authform.render.sources import ChangeSources, Source, describe_source
from authform.render.summary import plan_counts, plan_headline
from authform.render.values import change_fields
from authform.resources import Kind

# The first line of every Markdown plan: CI finds its own pull-request comment by it and
# updates it in place. Each environment's plan is a comment of its own.
MARKER = "<!-- authform-plan -->"

# GitHub refuses a comment longer than this many characters.
GITHUB_COMMENT_LIMIT = 65_536
# What the rendering may fill, in UTF-8 bytes (never fewer than characters, however GitHub
# counts them): the rest is room for what CI adds around it.
MARKDOWN_BUDGET = 60_000

FENCE = "```"


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


def _size(lines: Iterable[str]) -> int:
    return sum(len(line.encode("utf-8")) + 1 for line in lines)


@dataclass
class _Budget:
    """Bytes left for optional lines. Once a block did not fit, later blocks of the same
    section are not tried either: what is listed is always a prefix, in plan order."""

    left: int

    def share(self, most: int) -> _Budget:
        """A part of what is left, for one section; it is no longer this budget's."""
        part = _Budget(max(0, min(self.left, most)))
        self.left -= part.left
        return part

    def take(self, lines: list[str]) -> bool:
        size = _size(lines)
        if size > self.left:
            return False
        self.left -= size
        return True


@dataclass
class _Listing:
    """What one pass over the changes collects: at most the rows and manual steps that fit,
    the per-group counts of rows left out, and the counts per kind and action."""

    rows: list[str] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)
    # (kind, action, how many not listed) of each run of consecutive changes.
    hidden_groups: list[tuple[Kind, Action, int]] = field(default_factory=list)
    counts: Counter[tuple[Kind, Action]] = field(default_factory=Counter)
    total: int = 0
    listed: int = 0
    rows_full: bool = False  # a row did not fit the budget: no later row is listed
    manual_full: bool = False
    manual_left_out: int = 0


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


def manual_step_lines(change: Change) -> list[str]:
    lines = [f"**`{change.address}`**"]
    lines += [f"{n}. {_cell(s)}" for n, s in enumerate(change.instructions, 1)]
    return [*lines, ""]


@dataclass
class _Group:
    """The run of consecutive changes of one kind and action being listed."""

    kind: Kind
    action: Action
    shown: int = 0
    hidden: int = 0


def _list_changes(
    changes: Iterable[Change],
    max_per_group: int | None,
    rows: _Budget,
    manual: _Budget,
    sources: ChangeSources | None = None,
) -> _Listing:
    runs = getattr(changes, "runs", None)
    if runs is not None and not getattr(changes, "instructions_outside_manual", True):
        return _list_runs(changes, runs, max_per_group, rows, manual, sources)
    listing = _Listing()
    group: _Group | None = None
    for change in changes:
        listing.total += 1
        listing.counts[change.kind, change.action] += 1
        if group is None or (group.kind, group.action) != (change.kind, change.action):
            _close_group(listing, group)
            group = _Group(change.kind, change.action)
        _list_change(listing, group, change, max_per_group, rows, manual, sources)
    _close_group(listing, group)
    return listing


def _list_runs(
    spool: Any,
    runs: Iterable[tuple[Kind, Action, int, int]],
    max_per_group: int | None,
    rows: _Budget,
    manual: _Budget,
    sources: ChangeSources | None,
) -> _Listing:
    """``_list_changes`` of a plan's spool, from its runs (``ChangeSpool.runs``): the same
    listing, reading only the changes that can be listed (the first of each run, while rows
    fit) and every manual step; the rest of a run is counted as left out without being
    read, as the one pass would have found it."""
    listing = _Listing()
    for kind, action, first, count in runs:
        listing.total += count
        listing.counts[kind, action] += count
        group = _Group(kind, action)
        # A manual step is listed whether its row is or not: a manual run is read whole.
        whole = action is Action.MANUAL
        readable = count if whole or max_per_group is None else min(count, max_per_group)
        if listing.rows_full and not whole:
            readable = 0
        read = 0
        for change in spool.read_range(first, first + readable):
            _list_change(listing, group, change, max_per_group, rows, manual, sources)
            read += 1
            if listing.rows_full and not whole:
                break
        group.hidden += count - read
        _close_group(listing, group)
    return listing


def _list_change(
    listing: _Listing,
    group: _Group,
    change: Change,
    max_per_group: int | None,
    rows: _Budget,
    manual: _Budget,
    sources: ChangeSources | None,
) -> None:
    if max_per_group is not None and group.shown >= max_per_group:
        group.hidden += 1
    elif not listing.rows_full and rows.take(
        [row := change_row(change, sources.source(change) if sources else None)]
    ):
        listing.rows.append(row)
        listing.listed += 1
        group.shown += 1
    else:
        listing.rows_full = True
        group.hidden += 1
    if change.instructions:
        _list_manual_step(listing, change, manual)


def _close_group(listing: _Listing, group: _Group | None) -> None:
    if group is not None and group.hidden:
        listing.hidden_groups.append((group.kind, group.action, group.hidden))


def _list_manual_step(listing: _Listing, change: Change, budget: _Budget) -> None:
    lines = manual_step_lines(change)
    if not listing.manual_full and budget.take(lines):
        listing.manual += lines
    else:
        listing.manual_full = True
        listing.manual_left_out += 1


def _prefix_that_fits(lines: list[str], budget: _Budget, more: str) -> list[str]:
    """The first lines that fit, then one line counting the rest (room kept for it)."""
    room = _Budget(budget.left - _size([more.format(len(lines))]))
    for index, line in enumerate(lines):
        if not room.take([line]):
            return [*lines[:index], more.format(len(lines) - index)]
    return lines


def _fenced(lines: list[str], most: int) -> list[str]:
    """A code block of the first whole lines that fit in ``most`` bytes, always closed."""
    inner = _Budget(most - _size([FENCE, FENCE, ""]))
    return [FENCE, *_prefix_that_fits(lines, inner, "… {} more lines"), FENCE, ""]


def _kind_counts(counts: Counter[tuple[Kind, Action]]) -> list[str]:
    actions = list(Action)
    lines = [
        "| kind | " + " | ".join(a.value for a in actions) + " |",
        "|---" * (len(actions) + 1) + "|",
    ]
    for kind in sorted({kind for kind, _ in counts}, key=lambda k: (k.order, k.value)):
        cells = " | ".join(f"{counts[kind, a]:,}" for a in actions)
        lines.append(f"| {kind.value} | {cells} |")
    return lines


def _left_out_lines(listing: _Listing, full_plan: str | None) -> list[str]:
    where = (
        f"the full plan is in {full_plan}, one change per line"
        if full_plan
        else "`authform plan --format json` prints the full plan"
    )
    missing = listing.total - listing.listed
    line = (
        f"**{listing.listed:,} of {listing.total:,} changes are listed above; "
        f"{missing:,} more are not:** {where}."
    )
    return ["", "#### Changes per kind", "", *_kind_counts(listing.counts), "", line]


def render_plan_markdown(
    plan: Plan,
    *,
    max_per_group: int | None = 30,
    full_plan: str | None = None,
    budget: int = MARKDOWN_BUDGET,
    sources: ChangeSources | None = None,
) -> str:
    """The plan as one pull-request comment, at most ``budget`` UTF-8 bytes.

    ``full_plan`` says where the whole plan is (the saved plan's file), for the line that
    counts what is not listed; with ``sources`` each change's detail ends with the place
    that caused it."""
    head = [
        plan_marker(plan.environment),
        f"### {plan_headline(plan)}",
        "",
        f"**{plan_counts(plan)}**",
        "",
    ]
    # Room always kept for the closing counts (one row per kind: a few hundred bytes).
    widest = _Listing(counts=Counter({(kind, action): 10**9 for kind in Kind for action in Action}))
    reserve = _size(_left_out_lines(widest, full_plan)) + 64
    room = _Budget(budget - _size(head) - reserve)
    lines = list(head)
    # Notes and refusals are bounded to a share each, so that the changes are listed too.
    if plan.notes:
        notes = _fenced(plan.notes, min(room.left, budget // 4))
        room.left -= _size(notes)
        lines += notes
    refusals = [
        f"> {'⚠️ Forced' if plan.forced else '⛔ Refused'}: {refusal}" for refusal in plan.refusals
    ]
    refusals = _prefix_that_fits(
        refusals, _Budget(min(room.left, budget // 8)), "> … and {} more refusals"
    )
    room.left -= _size(refusals)
    lines += refusals
    if plan.refusals:
        lines.append("")
    table = ["| | resource | detail |", "|---|---|---|"]
    room.take(table)
    # Manual steps have a share of their own, so that a long listing cannot crowd them out.
    manual_room = room.share(budget // 8)
    listing = _list_changes(plan.changes, max_per_group, room, manual_room, sources)
    room.left += manual_room.left
    if listing.total:
        lines += table + listing.rows
        hidden_lines = [
            f"| … | {count} more {kind.value} {action.value}s | see the JSON plan |"
            for kind, action, count in listing.hidden_groups
        ]
        if room.take(hidden_lines):
            lines += hidden_lines
        if listing.manual or listing.manual_left_out:
            lines += ["", "#### Manual steps", "", *listing.manual]
            if listing.manual_left_out:
                lines += [f"… and {listing.manual_left_out} more manual steps.", ""]
        if listing.listed < listing.total:
            while lines[-1] == "":
                lines.pop()
            lines += _left_out_lines(listing, full_plan)
    return "\n".join(lines).rstrip() + "\n"
