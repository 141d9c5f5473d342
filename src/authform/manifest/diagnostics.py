"""Positioned problems, and the small text helpers every manifest check uses to describe them.

Manifests are edited by hand and reviewed in pull requests, so every problem names the file,
line and column where it is, and the whole set is reported at once: a CI run that shows one
error per push wastes a review cycle per mistake.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

PathPart = str | int
DataPath = tuple[PathPart, ...]

# How much of a user-supplied value a message may quote: enough to recognise it, never a
# megabyte of hostile input echoed into a CI log.
MAX_SHOWN_CHARS = 60
# How many defined names a "did you mean / defined:" hint lists before eliding the rest.
MAX_LISTED_NAMES = 12
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class Location(NamedTuple):
    """Where something is in a manifest file. ``line``/``column`` are 1-based; 0 means the
    problem concerns the file (or folder) as a whole.

    A tuple rather than a dataclass: a source map holds one per YAML node, and tuples are
    several times cheaper to create.
    """

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem, with where it is.

    Rendered the way compilers and editors expect (``file:line:column: message``) so CI log
    parsers and terminals turn it into a link.
    """

    file: str
    line: int
    column: int
    message: str

    @classmethod
    def at(cls, location: Location, message: str) -> Diagnostic:
        return cls(location.file, location.line, location.column, message)

    @property
    def location(self) -> Location:
        return Location(self.file, self.line, self.column)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.line, self.column, self.message)

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class ManifestError(Exception):
    """The manifest is invalid; ``diagnostics`` holds every problem found, sorted by place."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        unique = {d: None for d in diagnostics}  # the same problem reached twice is one problem
        self.diagnostics: list[Diagnostic] = sorted(unique, key=Diagnostic.sort_key)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(d) for d in self.diagnostics)


def format_path(path: Sequence[PathPart]) -> str:
    """``("roles", 1, "permissions", 0)`` -> ``roles[1].permissions[0]``.

    Keys that are not plain identifiers (``org:admin``) are quoted so the path stays readable.
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part) and len(part) <= MAX_SHOWN_CHARS:
            out += f".{part}" if out else part
        else:
            out += f"[{show(part)}]"
    return out


def show(value: object) -> str:
    """Quote a user value for a message: bounded length, control characters escaped."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_SHOWN_CHARS:
        text = f"{text[: MAX_SHOWN_CHARS - 3]}... ({len(text)} characters)"
    escaped = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return f"'{escaped}'"


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate, when one is close enough to be a plausible typo."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` or the empty string."""
    match = suggest(word, candidates)
    return f"; did you mean {show(match)}?" if match is not None else ""


def list_names(names: Iterable[str]) -> str:
    """Sorted, comma-separated, elided past ``MAX_LISTED_NAMES``."""
    ordered = sorted(set(names))
    shown = ", ".join(ordered[:MAX_LISTED_NAMES])
    if len(ordered) > MAX_LISTED_NAMES:
        shown += f", ... ({len(ordered) - MAX_LISTED_NAMES} more)"
    return shown


def unknown_key_message(key: str, expected: Iterable[str]) -> str:
    expected = list(expected)
    return (
        f"unknown key {show(key)} (expected one of: {list_names(expected)})"
        f"{did_you_mean(key, expected)}"
    )
