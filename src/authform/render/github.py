"""GitHub Actions workflow commands: manifest problems and plan changes as annotations on the
pull request.

An ``::error file=…,line=…,col=…::message`` line printed by a step becomes an annotation
GitHub shows on that line of the diff, so a reviewer sees the problem where it is instead of
reading a log. The escaping follows the runner's rules (actions/toolkit ``command.ts``): in
the message ``%``, CR and LF are percent-encoded; in a property value ``:`` and ``,`` are
too, since they separate properties.

The rule for when authform prints them is one line: on GitHub Actions (``GITHUB_ACTIONS`` is
``true``, as every runner sets it) every command prints each manifest problem both as the
usual ``file:line:column: message`` line and as an annotation; ``validate --format github``
prints annotations only, anywhere. A plan's changes are ``::notice`` annotations on the lines
that caused them (see ``plan_annotations``), so a reviewer sees ``~ role.admin: permissions +
billing:manage`` beside the edited line.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from authform.engine.plan import Action, Change, Plan
from authform.manifest.diagnostics import Diagnostic
from authform.render.sources import ChangeSources, source_line
from authform.render.values import change_fields

ANNOTATION_TITLE = "authform"


def in_github_actions(env: Mapping[str, str] | None = None) -> bool:
    return (os.environ if env is None else env).get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, message: str, **properties: str | int | None) -> str:
    """``::command k=v,k=v::message`` with every part escaped; ``None`` properties left out."""
    shown = ",".join(
        f"{name}={escape_property(str(value))}"
        for name, value in properties.items()
        if value is not None
    )
    return f"::{command}{' ' + shown if shown else ''}::{escape_data(message)}"


def repository_path(file: str, workspace: str | None = None) -> str:
    """The path GitHub matches against the diff: relative to the checkout when the file is
    inside it (the runner's ``GITHUB_WORKSPACE``), else as given."""
    root = workspace if workspace is not None else os.environ.get("GITHUB_WORKSPACE")
    path = Path(file)
    if root:
        try:
            return Path(os.path.abspath(path)).relative_to(os.path.abspath(root)).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def diagnostic_annotation(
    diagnostic: Diagnostic, *, level: str = "error", workspace: str | None = None
) -> str:
    """One annotation; a problem about a whole file (line 0) carries no line or column."""
    located = diagnostic.line > 0
    return workflow_command(
        level,
        diagnostic.message,
        file=repository_path(diagnostic.file, workspace),
        line=diagnostic.line if located else None,
        col=diagnostic.column if located and diagnostic.column > 0 else None,
        title=ANNOTATION_TITLE,
    )


def diagnostic_annotations(
    diagnostics: Iterable[Diagnostic], *, workspace: str | None = None
) -> list[str]:
    return [diagnostic_annotation(d, workspace=workspace) for d in diagnostics]


def error_annotation(message: str) -> str:
    """An error with no place in a file (an API failure, a stale saved plan)."""
    return workflow_command("error", message, title=ANNOTATION_TITLE)


# GitHub shows at most 10 notice annotations per step; past that they are dropped silently,
# so the plan's notices stop at 10 and the last one says what was left out.
MAX_PLAN_NOTICES = 10
# How many changes one line's notice names before it only counts the rest.
MAX_CHANGES_PER_NOTICE = 5
PLAN_TITLE = "authform plan"


def change_summary(change: Change) -> str:
    """``~ role.admin: permissions + billing:manage``: the change as one short line (a create
    or delete is named only: its values are in the plan, and would bury the address)."""
    text = f"{change.action.symbol} {change.address}"
    rows = change_fields(change) if change.action in (Action.UPDATE, Action.REPLACE) else []
    if rows:
        text += ": " + "; ".join(f"{name} {value}" for name, value in rows)
    if change.blocked:
        text += f" (not applied: {change.blocked})"
    return text


@dataclass
class _LineNotice:
    column: int | None
    changes: list[str] = field(default_factory=list)
    more: int = 0

    def add(self, summary: str) -> None:
        if len(self.changes) < MAX_CHANGES_PER_NOTICE:
            self.changes.append(summary)
        else:
            self.more += 1

    def message(self) -> str:
        text = "\n".join(self.changes)
        return text + (f"\n… and {self.more} more change(s) from this line" if self.more else "")


def plan_annotations(
    plan: Plan,
    sources: ChangeSources,
    *,
    limit: int = MAX_PLAN_NOTICES,
    workspace: str | None = None,
) -> list[str]:
    """The plan as notices on the lines that caused its changes: one per manifest line
    (the changed field's line for an update, the section's line for a delete), one per
    export file with its counts, one for records read from the Clerk API, and at most
    ``limit`` in all, the last one then saying what was left out."""
    title = PLAN_TITLE + (f" ({plan.environment})" if plan.environment else "")
    lines: dict[tuple[str, int], _LineNotice] = {}
    imported: dict[str, Counter[str]] = {}
    for change in plan.changes:
        source = sources.source(change)
        place = source_line(source)
        if place is not None:
            column = _column(source)
            lines.setdefault(place, _LineNotice(column)).add(change_summary(change))
        elif source:
            origin = str(source.get("file") or "")
            imported.setdefault(origin, Counter())[
                f"{change.kind.value} {change.action.value}"
            ] += 1
    notices = [
        workflow_command(
            "notice",
            notice.message(),
            file=repository_path(file, workspace),
            line=line,
            col=notice.column,
            title=title,
        )
        for (file, line), notice in lines.items()
    ]
    for file, counts in imported.items():
        listed = ", ".join(f"{n:,} {what}s" for what, n in counts.items())
        if file:
            message = f"{listed} from the records of this file"
            notices.append(
                workflow_command(
                    "notice", message, file=repository_path(file, workspace), title=title
                )
            )
        else:
            notices.append(workflow_command("notice", f"{listed} from the Clerk API", title=title))
    if len(notices) > limit:
        left_out = len(notices) - (limit - 1)
        notices = notices[: limit - 1]
        notices.append(
            workflow_command(
                "notice",
                f"… and {left_out} more lines or files with changes: the plan lists them all",
                title=title,
            )
        )
    return notices


def _column(source: Mapping[str, object]) -> int | None:
    fields = source.get("fields")
    place = fields[0] if isinstance(fields, list) and fields else source
    column = place.get("column") if isinstance(place, Mapping) else None
    return column if isinstance(column, int) and column > 0 else None
