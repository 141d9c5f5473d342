"""Where a desired item came from, so a plan can tell a reviewer *why* each change is there.

A ``Resource.origin`` is one of three small mappings, the same ones a JSON plan shows as a
change's ``source``:

- ``{"file", "line", "column"}``: the manifest item that declares it;
- ``{"file", "row"}``: the record of a CSV or JSON export it was imported from (the CSV's
  line, or the JSON array's item number);
- ``{"api": "<record id>"}``: the Clerk API record it was imported from.

Paths are made relative to the working directory (or, outside it, to the Git repository that
holds the file): plans are posted to pull requests and kept as CI artifacts, and a path like
``/home/runner/work/...`` says nothing useful there while telling everyone the machine's layout.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authform.sources.records import RecordOrigin

if TYPE_CHECKING:  # at run time only its fields are read; importing it would be a cycle
    from authform.manifest.diagnostics import Location

Origin = Mapping[str, Any]


def manifest_origin(location: Location | None) -> Origin:
    """The origin of a manifest item written at ``location`` (none when it is unknown)."""
    if location is None or location.line <= 0:
        return {}
    return {"file": display_path(location.file), "line": location.line, "column": location.column}


def record_origin(origin: str) -> Origin:
    """The origin of an imported record, from the ``RecordOrigin`` its source gave it."""
    if not isinstance(origin, RecordOrigin):
        return {}
    if origin.file is not None and origin.row is not None:
        return {"file": display_path(origin.file), "row": origin.row}
    if origin.api_id:
        return {"api": origin.api_id}
    return {}


def describe(origin: Origin) -> str:
    """The origin as a plain, link-free location: ``auth.yaml:12:5``, ``users.csv row 12``,
    ``Clerk API user_2abc``; empty when nothing is known."""
    if "api" in origin:
        return f"Clerk API {origin['api']}"
    file = origin.get("file")
    if not file:
        return ""
    if "row" in origin:
        return f"{file} row {origin['row']}"
    if origin.get("line"):
        return f"{file}:{origin['line']}:{origin.get('column', 1)}"
    return str(file)


@lru_cache(maxsize=256)
def display_path(path: str) -> str:
    """``path`` relative to the working directory, else to its Git repository, else its name
    alone; always with ``/`` separators. Cached: every row of an export names the same file."""
    given = Path(path)
    absolute = given if given.is_absolute() else Path.cwd() / given
    absolute = Path(os.path.normpath(absolute))
    for base in (Path.cwd(), _repository_root(absolute)):
        if base is not None and (base == absolute or base in absolute.parents):
            return absolute.relative_to(base).as_posix()
    return absolute.name


def _repository_root(path: Path) -> Path | None:
    for folder in path.parents:
        if (folder / ".git").exists():
            return folder
    return None
