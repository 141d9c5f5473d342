"""Terminal rendering: Terraform-style ``+ ~ - -/+ !`` lines with field-level detail.

Colour only when writing to a terminal and NO_COLOR is unset (https://no-color.org).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import TextIO

from authform.engine.apply import ApplyResult
from authform.engine.plan import Action, Change, Plan
from authform.engine.verify import Check, VerifyReport
from authform.render.sources import ChangeSources, Source, describe_source
from authform.render.summary import listed_groups, plan_counts, plan_headline
from authform.render.values import change_fields

COLOURS = {
    Action.CREATE: "32",
    Action.UPDATE: "33",
    Action.REPLACE: "35",
    Action.DELETE: "31",
    Action.MANUAL: "36",
}

# How many changes that were not applied the apply summary names, each with its reason.
BLOCKED_LISTED = 50


def use_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Painter:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text


def render_change(change: Change, paint: Painter, source: Source | None = None) -> list[str]:
    """One change: its header, field rows, manual steps, and what caused it (``source``)."""
    head = f"  {paint(change.action.symbol, COLOURS[change.action])} {change.address}"
    if change.blocked:
        head += f"  [not applied: {change.blocked}]"
    elif change.note:
        head += f"  ({change.note})"
    if change.after and not change.blocked:
        head += f"  (after {', '.join(change.after)})"
    lines = [head]
    rows = change_fields(change)
    if change.action is Action.DELETE:
        rows = []  # the address says it all; the old values are noise
    width = max((len(name) for name, _ in rows), default=0)
    lines += [f"      {name.ljust(width)} : {text}" for name, text in rows]
    lines += [f"      {n}. {step}" for n, step in enumerate(change.instructions, 1)]
    where = describe_source(source or {})
    if where:
        lines.append(f"      # {where}")
    return lines


def render_plan(
    plan: Plan,
    *,
    colour: bool = False,
    max_per_group: int | None = 50,
    sources: ChangeSources | None = None,
) -> str:
    """``max_per_group`` bounds how many changes of one kind and action are listed (an import
    plans thousands of identical-looking user creates); the rest are counted, and
    ``--format json`` or ``--full`` lists them all. With ``sources`` each change is followed
    by the place that caused it (``# authform.yaml:12:5``)."""
    paint = Painter(colour)
    lines = [plan_headline(plan)]
    managed = ", ".join(k.plural for k in plan.managed) or "nothing"
    lines.append(f"Managed kinds: {managed}")
    lines += plan.notes
    lines.append("")
    for group in listed_groups(plan.changes, max_per_group):
        for change in group.shown:
            lines += render_change(change, paint, sources.source(change) if sources else None)
        if group.hidden:
            lines.append(
                f"  … and {group.hidden} more {group.kind.value} {group.action.value}s "
                "(--full or --format json lists them all)"
            )
    if plan.changes:
        lines.append("")
    for refusal in plan.refusals:
        label = "Forced past safety threshold" if plan.forced else "Refused"
        lines.append(paint(f"{label}: {refusal}", "31;1"))
    lines.append(plan_counts(plan))
    return "\n".join(lines) + "\n"


def render_apply(result: ApplyResult, *, colour: bool = False) -> str:
    paint = Painter(colour)
    lines = [f"Applied {len(result.applied)} change(s)."]
    for change, error in result.failed:
        lines.append(paint(f"  FAILED {change.address}: {error}", "31"))
    if result.not_attempted:
        # Named up to a bound: an organization whose create failed leaves every membership
        # in it not attempted, which may be most of an import.
        named = [c.address for c in islice(result.not_attempted, BLOCKED_LISTED)]
        more = len(result.not_attempted) - len(named)
        if more:
            named.append(f"… and {more:,} more ({count_by_kind(result.not_attempted)} in all)")
        lines.append("Not attempted (something they depend on failed): " + ", ".join(named))
    if result.not_reached:
        lines.append(
            f"Not applied (apply stopped before them, or before their answer came): "
            f"{len(result.not_reached):,} change(s): " + count_by_kind(result.not_reached)
        )
    if result.manual_pending:
        lines.append("Manual steps still to do (authform cannot make these changes):")
        for change in result.manual_pending:
            lines.append(f"  ! {change.address}")
            lines += [f"      {n}. {s}" for n, s in enumerate(change.instructions, 1)]
    if result.blocked:
        lines.append("Pending, not applied:")
        lines += [f"  {c.address}: {c.blocked}" for c in result.blocked[:BLOCKED_LISTED]]
        if len(result.blocked) > BLOCKED_LISTED:
            lines.append(f"  … and {len(result.blocked) - BLOCKED_LISTED} more (see the plan)")
    return "\n".join(lines) + "\n"


def count_by_kind(changes: Sequence[Change]) -> str:
    """``9,990 user creates, 10 membership creates``: thousands of changes in one line."""
    counts = Counter((c.kind.value, c.action.value) for c in changes)
    return ", ".join(f"{n:,} {kind} {action}s" for (kind, action), n in counts.items())


# How many failures of one kind the text report lists one by one: a million missing users are
# not read line by line (the JSON and JUnit outputs list every check).
MAX_FAILURES_LISTED = 1000


def render_verify(report: VerifyReport, *, colour: bool = False, max_listed: int = 50) -> str:
    """Failures are listed one by one (up to ``MAX_FAILURES_LISTED`` a kind); passing checks
    of a large kind (thousands of imported users) are summed up in one line instead. One pass
    over the checks, which may be spooled to disk: what is kept per group is bounded."""
    paint = Painter(colour)

    def line(check: Check) -> str:
        mark = paint("ok  ", "32") if check.ok else paint("FAIL", "31")
        return f"  {mark} {check.name}: {check.detail}"

    groups: dict[str, _VerifyGroup] = {}
    for check in report.checks:
        group = groups.setdefault(check.name.split(".", 1)[0], _VerifyGroup())
        group.count += 1
        group.passed += int(check.ok)
        if group.count <= max_listed:
            group.first.append(line(check))
        if not check.ok:
            if len(group.failures) < MAX_FAILURES_LISTED:
                group.failures.append(line(check))
            else:
                group.more_failures += 1
    lines = []
    for name, group in groups.items():
        if group.count <= max_listed:
            lines += group.first
            continue
        lines += group.failures
        if group.more_failures:
            lines.append(
                f"  {paint('FAIL', '31')} {name}: … and {group.more_failures:,} more failing "
                "(--format json and --junit list every check)"
            )
        lines.append(
            f"  {paint('ok  ', '32')} {name}: {group.passed} of {group.count} present and equal"
        )
    total = sum(group.count for group in groups.values())
    total_passed = sum(group.passed for group in groups.values())
    lines.append(f"Verify: {total_passed} of {total} checks passed.")
    return "\n".join(lines) + "\n"


@dataclass
class _VerifyGroup:
    count: int = 0
    passed: int = 0
    first: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    more_failures: int = 0
