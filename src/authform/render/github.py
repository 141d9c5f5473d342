"""GitHub Actions workflow commands: manifest problems as annotations on the pull request.

An ``::error file=…,line=…,col=…::message`` line printed by a step becomes an annotation
GitHub shows on that line of the diff, so a reviewer sees the problem where it is instead of
reading a log. The escaping follows the runner's rules (actions/toolkit ``command.ts``): in
the message ``%``, CR and LF are percent-encoded; in a property value ``:`` and ``,`` are
too, since they separate properties.

The rule for when authform prints them is one line: on GitHub Actions (``GITHUB_ACTIONS`` is
``true``, as every runner sets it) every command prints each manifest problem both as the
usual ``file:line:column: message`` line and as an annotation; ``validate --format github``
prints annotations only, anywhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from authform.manifest.diagnostics import Diagnostic

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
