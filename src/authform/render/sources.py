"""What caused each change of a plan: the line a reviewer should look at.

A create or update comes from a desired item, and the item's ``origin`` says where it was
written (the manifest's file, line and column, or an export's file and row, or a Clerk API
record). An update also names where each changed field is written, so the annotation on a
pull request lands on the line that was edited, not on the top of the item. A delete has no
desired item: it is there because the manifest manages the kind and does not list the live
item, so its source is the section that manages the kind (``roles:``, or ``users:`` for users
and memberships, which come from its source).

Only the manifest's own items and sections are indexed here (a few hundred entries); an
imported item's source is its own ``origin``, so a plan of a million imported users costs
nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from authform.engine.plan import Action, Change
from authform.manifest import LoadedManifest, desired_resources
from authform.manifest.diagnostics import Location
from authform.manifest.positions import SourceMap
from authform.provenance import describe, display_path
from authform.resources import MANIFEST_SECTION, Kind

# Users and memberships are managed by the ``users:`` section (its source lists them); an
# organization that only the source brings is managed there too.
_IMPORT_SECTION = "users"
_LIST_STEP = re.compile(r"\[[^\]]*\]")

Source = Mapping[str, Any]


@dataclass
class ChangeSources:
    """Finds the source of a change; built once per plan from the loaded manifest."""

    source_map: SourceMap = field(default_factory=SourceMap)
    # (kind, key) -> the item's index in its manifest section (merged across files).
    item_index: dict[tuple[Kind, str], int] = field(default_factory=dict)

    @classmethod
    def of(cls, loaded: LoadedManifest | None) -> ChangeSources:
        if loaded is None:
            return cls()
        index: dict[tuple[Kind, str], int] = {}
        counters: dict[Kind, int] = {}
        for resource in desired_resources(loaded.manifest):
            position = counters.get(resource.kind, 0)
            index.setdefault((resource.kind, resource.key), position)
            counters[resource.kind] = position + 1
        return cls(loaded.source_map, index)

    def source(self, change: Change) -> dict[str, Any]:
        """``{"file", "line", "column"}`` (plus ``"fields"`` for an update),
        ``{"file", "row"}``, ``{"api": id}``, or for a delete the managing section with its
        place (``{"section", "file", "line", "column"}``); empty when nothing is known."""
        desired = change.desired
        if desired is not None and desired.origin:
            source = dict(desired.origin)
            if change.action in (Action.UPDATE, Action.REPLACE) and "line" in source:
                fields = self._field_places(change)
                if fields:
                    source["fields"] = fields
            return source
        if desired is None:
            return self._section(change.kind)
        return {}

    def _section(self, kind: Kind) -> dict[str, Any]:
        for section in (MANIFEST_SECTION[kind], _IMPORT_SECTION):
            location = self.source_map.key((section,))
            if location is not None and location.line > 0:
                return {"section": section, **_place(location)}
        return {}

    def _field_places(self, change: Change) -> list[dict[str, Any]]:
        index = self.item_index.get((change.kind, change.key))
        if index is None:
            return []
        item: tuple[str | int, ...] = (change.kind.plural, index)
        item_location = self.source_map.value(item)
        if item_location is None:
            return []
        places: list[dict[str, Any]] = []
        for field_change in change.fields:
            steps = _LIST_STEP.sub("", field_change.path).split(".")
            location = self._key_line((*item, *steps)) or item_location
            places.append({"path": field_change.path, **_place(location)})
        return places

    def _key_line(self, path: tuple[str | int, ...]) -> Location | None:
        """Where the field at ``path`` is named (``permissions:``), else its closest named
        ancestor: the line a reviewer edited, even when the value starts below it."""
        while len(path) > 2:
            location = self.source_map.key(path)
            if location is not None:
                return location
            path = path[:-1]
        return None


def _place(location: Location) -> dict[str, Any]:
    return {"file": display_path(location.file), "line": location.line, "column": location.column}


def source_line(source: Source) -> tuple[str, int] | None:
    """The file and line an annotation for this change belongs on: the first changed
    field's line for an update, else the item's or section's line; ``None`` for an imported
    row or an API record (those are counted per file, never annotated one by one)."""
    if "row" in source or "line" not in source:
        return None
    fields = source.get("fields") or ()
    if fields:
        return str(fields[0]["file"]), int(fields[0]["line"])
    return str(source["file"]), int(source["line"])


def describe_source(source: Source) -> str:
    """A plain, link-free location for text and Markdown: ``auth.yaml:12:5``,
    ``auth.yaml:14:18 (permissions)`` for an update, ``users.csv row 12``, or for a delete
    ``not listed in roles (auth.yaml:9:1)``."""
    if not source:
        return ""
    if "section" in source:
        return f"not listed in {source['section']} ({describe(source)})"
    fields = source.get("fields") or ()
    if fields:
        first = fields[0]
        names = ", ".join(dict.fromkeys(str(f["path"]) for f in fields))
        return f"{describe(first)} ({names})"
    return describe(source)
