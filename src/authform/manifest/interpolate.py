"""``${env:VAR}`` references in string values.

Manifests live in Git, so credentials and per-environment values come from the environment
instead of the file. Interpolation runs on parsed values, never on YAML text, so a variable's
value can't inject YAML structure, and it is never re-scanned, so a value containing ``${``
stays literal. ``$${`` writes a literal ``${``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from authform.manifest.diagnostics import DataPath, Diagnostic, Location, format_path, show
from authform.manifest.positions import SourceMap

_OPENING = re.compile(r"\$\$\{|\$\{")
_REFERENCE = re.compile(r"env:(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")
_SYNTAX = "expected ${env:VAR} or ${env:VAR:-default}; write $${ for a literal ${"


class _Unset:
    """Marks a value whose variable is missing where that is allowed; the key is dropped."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


@dataclass(frozen=True)
class InterpolationProblem:
    message: str
    missing_variable: str | None = None


def interpolate_string(
    text: str, env: Mapping[str, str]
) -> tuple[str | None, list[InterpolationProblem]]:
    """Expand every reference in ``text``; the result is ``None`` when any problem was found.

    ``${env:VAR:-default}`` uses the default when VAR is unset or empty, as POSIX shells do,
    because CI systems commonly export unset secrets as empty strings.
    """
    out: list[str] = []
    problems: list[InterpolationProblem] = []
    position = 0
    while (opening := _OPENING.search(text, position)) is not None:
        out.append(text[position : opening.start()])
        if opening.group() == "$${":
            out.append("${")
            position = opening.end()
            continue
        reference = _REFERENCE.match(text, opening.end())
        if reference is None:
            close = text.find("}", opening.end())
            snippet = text[opening.start() : close + 1 if close != -1 else len(text)]
            problems.append(InterpolationProblem(f"invalid reference {show(snippet)} ({_SYNTAX})"))
            position = close + 1 if close != -1 else len(text)
            continue
        position = reference.end()
        name, default = reference.group("name"), reference.group("default")
        if default is not None and "${" in default:
            problems.append(
                InterpolationProblem(
                    f"invalid reference {show(text[opening.start() : reference.end()])}: "
                    "a default cannot contain "
                    "another reference"
                )
            )
            continue
        value = env.get(name)
        if default is not None and not value:
            value = default
        if value is None:
            problems.append(
                InterpolationProblem(
                    f"environment variable {name} is not set", missing_variable=name
                )
            )
            continue
        out.append(value)
    out.append(text[position:])
    return ("".join(out) if not problems else None), problems


def interpolate(
    data: Any,
    source: SourceMap,
    env: Mapping[str, str],
    *,
    missing_allowed_under: Collection[str] = (),
    deferrable: Callable[[DataPath], bool] | None = None,
    deferred: list[tuple[DataPath, Diagnostic]] | None = None,
    file: str = "",
    at: DataPath = (),
) -> tuple[Any, list[Diagnostic]]:
    """Interpolate every string value of a parsed file (or of the part of it at ``at``, such
    as one environment's overrides).

    A missing variable inside one of the sections in ``missing_allowed_under`` (top-level
    sections, or those under ``at``) is not an error: the value is dropped, as if it had not
    been written. ``--emulate`` uses this for ``target`` because the emulator supplies its
    own credentials.

    A missing variable in a value ``deferrable`` accepts (its path relative to ``at``) is not
    an error here either: the value stays as written and the problem goes to ``deferred``,
    for the one command that reads the value to report (see ``LoadedManifest.unresolved``).
    """
    diagnostics: list[Diagnostic] = []
    depth = len(at)

    def walk(value: Any, path: DataPath) -> Any:
        if isinstance(value, str):
            if "${" not in value:
                return value
            result, problems = interpolate_string(value, env)
            only_missing = bool(problems) and all(p.missing_variable for p in problems)
            lenient = len(path) > depth and path[depth] in missing_allowed_under
            if lenient and only_missing:
                return UNSET
            where = source.nearest(path, Location(file, 0, 0))
            prefix = f"{format_path(path)}: " if path else ""
            found = [Diagnostic.at(where, prefix + p.message) for p in problems]
            if only_missing and deferrable is not None and deferrable(path[depth:]):
                if deferred is not None:
                    deferred.extend((path[depth:], problem) for problem in found)
                return value
            diagnostics.extend(found)
            return result if result is not None else value
        if isinstance(value, dict):
            walked = {key: walk(item, (*path, key)) for key, item in value.items()}
            return {key: item for key, item in walked.items() if item is not UNSET}
        if isinstance(value, list):
            walked_items = [walk(item, (*path, i)) for i, item in enumerate(value)]
            return [item for item in walked_items if item is not UNSET]
        return value

    return walk(data, tuple(at)), diagnostics
