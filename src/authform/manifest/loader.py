"""Load a manifest file or folder: parse, interpolate, merge, validate, cross-check.

Each stage keeps going after a problem and the loader raises once at the end, with every
diagnostic from every file, because CI users fix a manifest from one log, not one error per
push. Nothing here touches the network.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from authform.manifest.checks import check_manifest
from authform.manifest.desired import desired_resources
from authform.manifest.diagnostics import (
    DataPath,
    Diagnostic,
    Location,
    ManifestError,
    PathPart,
    show,
    unknown_key_message,
)
from authform.manifest.interpolate import interpolate
from authform.manifest.models import (
    LIST_SECTIONS,
    REQUIRED_SECTIONS,
    SINGLE_SECTIONS,
    Manifest,
)
from authform.manifest.positions import ParsedFile, SourceMap, load_yaml_file
from authform.manifest.validation import validate_manifest
from authform.resources import Kind

T = TypeVar("T")

MANIFEST_SUFFIXES = (".yaml", ".yml")
# Top-level keys starting with "x-" are ignored (as in Compose files and OpenAPI), so shared
# values can be defined once under an anchor, e.g. `x-defaults: &defaults {...}`.
EXTENSION_PREFIX = "x-"

# Fields naming local files: relative paths resolve against the file that names them, so a
# manifest folder can move (or be run from another directory) without editing it.
_USERS_PATH_FIELDS = ("mapping_file", "reports_dir")
_SOURCE_PATH_FIELDS = ("path", "organizations", "memberships", "csv")


@dataclass(frozen=True)
class LoadedManifest:
    """A validated manifest and where each of its values was written."""

    manifest: Manifest
    files: list[Path]
    source_map: SourceMap = field(default_factory=SourceMap, repr=False, compare=False)

    def position(self, *path: PathPart) -> Location | None:
        """Where the value at ``path`` (merged indexes, e.g. ``("roles", 1, "slug")``) was
        written, so plans and annotations can point back into the manifest."""
        return self.source_map.value(tuple(path))

    def resource_position(self, kind: Kind, key: str) -> Location | None:
        """Where the desired resource ``kind``/``key`` is declared."""
        section = kind.plural
        index = 0
        for resource in desired_resources(self.manifest):
            if resource.kind is kind:
                if resource.key == key:
                    return self.position(section, index)
                index += 1
        return None


def load_manifest(
    path: str | Path, *, env: Mapping[str, str] | None = None, emulate: bool = False
) -> LoadedManifest:
    """Load and validate a manifest file, or a folder of ``*.yaml``/``*.yml`` partial
    manifests merged in name order. Raises ``ManifestError`` listing every problem.

    With ``emulate``, variables missing inside ``target`` are allowed (the emulator supplies
    credentials); everywhere else a missing variable is still an error.
    """
    root = Path(path)
    environment: Mapping[str, str] = os.environ if env is None else env
    files, diagnostics = find_manifest_files(root)
    if diagnostics:
        raise ManifestError(diagnostics)

    pieces: list[tuple[ParsedFile, dict[str, Any]]] = []
    # Values that could not be read (a refused tag, a failed interpolation) hold placeholders;
    # errors about them would only repeat the real problem, so they are dropped below.
    reported: set[Location] = set()
    complete = True
    for file in files:
        parsed = load_yaml_file(file)
        diagnostics += parsed.diagnostics
        reported.update(problem.location for problem in parsed.diagnostics)
        if parsed.data is None:
            complete = False
            continue
        if not isinstance(parsed.data, dict):
            kind = "a list" if isinstance(parsed.data, list) else show(parsed.data)
            where = parsed.source.nearest((), Location(parsed.file, 0, 0))
            diagnostics.append(
                Diagnostic.at(where, f"expected a mapping of manifest sections, got {kind}")
            )
            complete = False
            continue
        sections = {
            key: value for key, value in parsed.data.items() if not key.startswith(EXTENSION_PREFIX)
        }
        data, problems = interpolate(
            sections,
            parsed.source,
            environment,
            missing_allowed_under=("target",) if emulate else (),
            file=parsed.file,
        )
        diagnostics += problems
        reported.update(problem.location for problem in problems)
        pieces.append((parsed, _resolve_paths(data, file.parent)))

    merged, source, problems = merge_files(pieces)
    diagnostics += problems
    fallback = Location(str(root), 0, 0)
    if complete:
        diagnostics += _missing_sections(merged, root, files, source)
    manifest, problems = validate_manifest(
        merged, source, fallback=fallback, skip_missing=REQUIRED_SECTIONS
    )
    problems += check_manifest(
        merged, source, fallback=fallback, check_references=complete, emulate=emulate
    )
    diagnostics += [problem for problem in problems if problem.location not in reported]
    if diagnostics or manifest is None:
        raise ManifestError(diagnostics)
    return LoadedManifest(manifest=manifest, files=files, source_map=source)


def find_manifest_files(root: Path) -> tuple[list[Path], list[Diagnostic]]:
    """The file itself, or a folder's ``*.yaml``/``*.yml`` files (sorted, not recursive,
    hidden files skipped: editors leave ``.#roles.yaml`` and similar behind)."""
    if root.is_dir():
        files = sorted(
            entry
            for entry in root.iterdir()
            if entry.suffix in MANIFEST_SUFFIXES
            and not entry.name.startswith(".")
            and entry.is_file()
        )
        if not files:
            message = "no manifest files (*.yaml, *.yml) in this folder"
            return [], [Diagnostic(str(root), 0, 0, message)]
        return files, []
    if root.is_file():
        return [root], []
    return [], [Diagnostic(str(root), 0, 0, "no such file or directory")]


def merge_files(
    pieces: list[tuple[ParsedFile, dict[str, Any]]],
) -> tuple[dict[str, Any], SourceMap, list[Diagnostic]]:
    """Merge partial manifests: list sections concatenate, single sections may appear once.

    Positions are carried over with list indexes shifted; ``SourceMap.local_index`` keeps
    each item's index within its own file for messages.
    """
    merged: dict[str, Any] = {}
    source = SourceMap()
    diagnostics: list[Diagnostic] = []
    defined_at: dict[str, Location] = {}
    expected = list(Manifest.model_fields)

    for parsed, data in pieces:
        offsets: dict[str, int] = {}
        fallback = Location(parsed.file, 0, 0)
        for key, value in data.items():
            key_at = parsed.source.key((key,)) or fallback
            value_at = parsed.source.nearest((key,), fallback)
            if key in LIST_SECTIONS:
                if not isinstance(value, list):
                    diagnostics.append(Diagnostic.at(value_at, _not_a_list(key, value)))
                    continue
                items = merged.setdefault(key, [])
                offsets[key] = len(items)
                items.extend(value)
                for index in range(len(value)):
                    source.local_index[(key, offsets[key] + index)] = index
            elif key in SINGLE_SECTIONS:
                if key in defined_at:
                    diagnostics.append(
                        Diagnostic.at(
                            key_at,
                            f"{key}: defined twice (first defined at {defined_at[key]})",
                        )
                    )
                    continue
                if value is None and key != "version":
                    message = f"{key}: expected a mapping, got null (remove the key to omit it)"
                    diagnostics.append(Diagnostic.at(value_at, message))
                    continue
                defined_at[key] = key_at
                merged[key] = value
            else:
                diagnostics.append(Diagnostic.at(key_at, unknown_key_message(key, expected)))
                continue
            offsets.setdefault(key, 0)
        _copy_positions(parsed.source, source, offsets)
        source.values.setdefault((), parsed.source.nearest((), fallback))
    return merged, source, diagnostics


def _not_a_list(key: str, value: Any) -> str:
    if value is None:
        return (
            f"{key}: expected a list, got null (write `{key}: []` to manage {key} with none "
            "defined, or remove the key to leave them unmanaged)"
        )
    got = "a mapping" if isinstance(value, dict) else show(value)
    return f"{key}: expected a list, got {got}"


def _copy_positions(file_map: SourceMap, merged: SourceMap, offsets: dict[str, int]) -> None:
    """Copy a file's positions for the sections it contributed, shifting list indexes."""
    _copy(file_map.values, merged.values, offsets)
    _copy(file_map.keys, merged.keys, offsets)
    _copy(file_map.scalars, merged.scalars, offsets)


def _copy(table: dict[DataPath, T], target: dict[DataPath, T], offsets: dict[str, int]) -> None:
    for path, entry in table.items():
        section = path[0] if path else None
        offset = offsets.get(section) if isinstance(section, str) else None
        if offset is None:
            continue
        if offset and len(path) >= 2 and isinstance(path[1], int):
            path = (path[0], path[1] + offset, *path[2:])
        target.setdefault(path, entry)


def _missing_sections(
    merged: dict[str, Any], root: Path, files: list[Path], source: SourceMap
) -> list[Diagnostic]:
    """``version`` and ``target`` must be defined once across all files."""
    diagnostics = []
    for key in REQUIRED_SECTIONS:
        if key in merged:
            continue
        if len(files) == 1 and not root.is_dir():
            where = source.nearest((), Location(str(files[0]), 0, 0))
            diagnostics.append(Diagnostic.at(where, f"missing required key {show(key)}"))
        else:
            message = f"missing required key {show(key)} (no file in this folder defines it)"
            diagnostics.append(Diagnostic(str(root), 0, 0, message))
    return diagnostics


def _resolve_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    users = data.get("users")
    if not isinstance(users, dict):
        return data
    users = {k: _resolve(v, base) if k in _USERS_PATH_FIELDS else v for k, v in users.items()}
    source = users.get("source")
    if isinstance(source, dict):
        users["source"] = {
            k: _resolve(v, base) if k in _SOURCE_PATH_FIELDS else v for k, v in source.items()
        }
    return {**data, "users": users}


def _resolve(value: Any, base: Path) -> Any:
    if not isinstance(value, str) or not value.strip() or Path(value).is_absolute():
        return value
    return str(base / value)
