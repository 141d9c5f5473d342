"""Environments: one manifest set, several targets (staging, production, ...).

A top-level ``environments`` mapping names each environment and, under it, the sections that
differ there. The rule fits in one sentence so a reviewer can predict the result without
running anything: **a section given under an environment replaces the top-level section of
the same name, whole; nothing is merged inside a section.** ``target`` is a section like any
other, so an environment that overrides it writes the whole target (a YAML anchor in an
``x-`` key saves repeating the shared part).

Several files may contribute to one environment: its sections merge across files exactly as
top-level sections do (lists concatenate, other sections may appear once).

When a manifest defines environments, every command that talks to a provider must be told
which one (``--environment``): planning the top level alone against some target is how a
staging configuration ends up in production. ``validate`` checks every environment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from authform.manifest.diagnostics import (
    Diagnostic,
    Location,
    did_you_mean,
    list_names,
    show,
)
from authform.manifest.models import ENVIRONMENT_NAME_PATTERN, LIST_SECTIONS, SINGLE_SECTIONS
from authform.manifest.positions import ParsedFile

ENVIRONMENTS_KEY = "environments"
_NAME = re.compile(ENVIRONMENT_NAME_PATTERN)
# Everything but the format version can differ per environment.
OVERRIDABLE_SECTIONS = tuple(s for s in (*SINGLE_SECTIONS, *LIST_SECTIONS) if s != "version")


@dataclass(frozen=True)
class Override:
    """One file's overrides for one environment, as written (not yet interpolated)."""

    parsed: ParsedFile
    data: dict[str, Any]


@dataclass
class Environments:
    """Every environment the files define, with where each is defined."""

    overrides: dict[str, list[Override]] = field(default_factory=dict)
    defined_at: dict[str, Location] = field(default_factory=dict)
    # Where the first ``environments`` key is: errors about the set as a whole point there.
    anchor: Location | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return sorted(self.overrides)

    def add(self, parsed: ParsedFile, value: Any) -> None:
        """Read one file's ``environments`` value."""
        source = parsed.source
        fallback = Location(parsed.file, 0, 0)
        key_at = source.key((ENVIRONMENTS_KEY,)) or fallback
        self.anchor = self.anchor or key_at
        if not isinstance(value, dict):
            got = "a list" if isinstance(value, list) else "null" if value is None else show(value)
            where = source.nearest((ENVIRONMENTS_KEY,), fallback)
            self.diagnostics.append(
                Diagnostic.at(
                    where,
                    f"{ENVIRONMENTS_KEY}: expected a mapping of environment names to the "
                    f"sections that differ there, got {got}",
                )
            )
            return
        for name, overrides in value.items():
            at = source.key((ENVIRONMENTS_KEY, name)) or key_at
            if not _NAME.fullmatch(name):
                self.diagnostics.append(
                    Diagnostic.at(
                        at,
                        f"{ENVIRONMENTS_KEY}: invalid environment name {show(name)} (use "
                        "lowercase letters, digits, '-' and '_', at most 48 characters)",
                    )
                )
                continue
            if not isinstance(overrides, dict):
                got = (
                    "a list"
                    if isinstance(overrides, list)
                    else "null"
                    if overrides is None
                    else show(overrides)
                )
                self.diagnostics.append(
                    Diagnostic.at(
                        source.nearest((ENVIRONMENTS_KEY, name), at),
                        f"{ENVIRONMENTS_KEY}.{name}: expected a mapping of the sections that "
                        f"differ in this environment, got {got} (write `{name}: {{}}` for an "
                        "environment where nothing differs)",
                    )
                )
                continue
            self.overrides.setdefault(name, []).append(Override(parsed, overrides))
            self.defined_at.setdefault(name, at)

    def selection_problem(self, chosen: str | None, root: str) -> Diagnostic | None:
        """Why ``chosen`` cannot be loaded from these files, if it cannot."""
        if chosen is None:
            if not self.overrides:
                return None
            return Diagnostic.at(
                self.anchor or Location(root, 0, 0),
                f"this manifest defines environments ({list_names(self.names)}): choose one "
                "with --environment NAME",
            )
        if not self.overrides:
            return Diagnostic(
                root,
                0,
                0,
                f"--environment {show(chosen)} was given, but this manifest defines no "
                f"environments (add an `{ENVIRONMENTS_KEY}:` section, or drop --environment)",
            )
        if chosen not in self.overrides:
            return Diagnostic.at(
                self.anchor or Location(root, 0, 0),
                f"unknown environment {show(chosen)} (defined: {list_names(self.names)})"
                f"{did_you_mean(chosen, self.names)}",
            )
        return None
