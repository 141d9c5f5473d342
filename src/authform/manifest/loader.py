"""Load a manifest file or folder: parse, pick the environment, interpolate, merge, validate,
cross-check.

Each stage keeps going after a problem and the loader raises once at the end, with every
diagnostic from every file, because CI users fix a manifest from one log, not one error per
push. Nothing here touches the network.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
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
    format_path,
    show,
    unknown_key_message,
)
from authform.manifest.environments import ENVIRONMENTS_KEY, OVERRIDABLE_SECTIONS, Environments
from authform.manifest.interpolate import interpolate
from authform.manifest.models import (
    LIST_SECTIONS,
    REQUIRED_SECTIONS,
    SECRET_FIELDS,
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

# Fields naming files authform reads: relative paths resolve against the file that names
# them, so a manifest folder can move (or be run from another directory) without editing it.
_SOURCE_PATH_FIELDS = ("path", "organizations", "memberships", "csv")
# Fields naming files authform writes (import reports hold email addresses). Like --out and
# --junit they are the working directory's, and never inside the manifest folder: the
# pre-commit hook and the CI workflows watch it, and people commit what is in it.
_USERS_OUTPUT_FIELDS = ("mapping_file", "reports_dir")


@dataclass(frozen=True)
class LoadedManifest:
    """A validated manifest and where each of its values was written.

    ``environment`` is the environment it was resolved for (``None`` when the manifest
    defines none); ``environments`` lists every environment the files define.
    """

    manifest: Manifest
    files: list[Path]
    source_map: SourceMap = field(default_factory=SourceMap, repr=False, compare=False)
    environment: str | None = None
    environments: tuple[str, ...] = ()
    # Secrets whose variable is not set, each (path, problem): only the command that reads
    # the value needs it (verify a canary's password, an import the Clerk key), so loading
    # does not fail; that command calls ``require_resolved``, and ``validate`` reports them
    # unless --without-credentials. Such a value still holds its unexpanded ``${env:...}``.
    unresolved: tuple[tuple[DataPath, Diagnostic], ...] = ()

    def unresolved_under(self, section: str) -> list[Diagnostic]:
        return [problem for path, problem in self.unresolved if path[:1] == (section,)]

    def require_resolved(self, section: str) -> None:
        """Raise ``ManifestError`` naming every unset variable of ``section``'s secrets."""
        problems = self.unresolved_under(section)
        if problems:
            raise ManifestError(problems)

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


@dataclass
class _FilePiece:
    """One parsed file's top-level sections, as written (not yet interpolated)."""

    parsed: ParsedFile
    sections: dict[str, Any]


@dataclass
class _ReadFiles:
    """Every file of a manifest, parsed once; environments are resolved from this."""

    root: Path
    files: list[Path]
    pieces: list[_FilePiece]
    environments: Environments
    diagnostics: list[Diagnostic]
    # Locations already reported (a refused tag): later errors there would only repeat it.
    reported: set[Location]
    complete: bool


def load_manifest(
    path: str | Path,
    *,
    env: Mapping[str, str] | None = None,
    emulate: bool = False,
    environment: str | None = None,
    require_secrets: bool = False,
) -> LoadedManifest:
    """Load and validate a manifest file, or a folder of ``*.yaml``/``*.yml`` partial
    manifests merged in name order, for ``environment`` when the manifest defines
    environments. Raises ``ManifestError`` listing every problem.

    With ``emulate``, variables missing inside ``target`` are allowed (the emulator supplies
    credentials); everywhere else a missing variable is still an error, except in the
    secrets only one command reads (``LoadedManifest.unresolved``), unless
    ``require_secrets``.
    """
    read = _read_files(Path(path))
    loaded, diagnostics = _resolve_environment(
        read, environment, env=env, emulate=emulate, require_secrets=require_secrets
    )
    if diagnostics or loaded is None:
        raise ManifestError(diagnostics)
    return loaded


def load_every_environment(
    path: str | Path,
    *,
    env: Mapping[str, str] | None = None,
    emulate: bool = False,
    require_secrets: bool = False,
) -> list[LoadedManifest]:
    """The manifest resolved for each environment it defines (or once, when it defines
    none): what ``validate`` checks. Raises one ``ManifestError`` with every problem of every
    environment (a problem shared by several is reported once)."""
    read = _read_files(Path(path))
    names: list[str | None] = list(read.environments.names) or [None]
    loaded: list[LoadedManifest] = []
    diagnostics: list[Diagnostic] = []
    for name in names:
        one, problems = _resolve_environment(
            read, name, env=env, emulate=emulate, require_secrets=require_secrets
        )
        diagnostics += problems
        if one is not None:
            loaded.append(one)
    if diagnostics:
        raise ManifestError(diagnostics)
    return loaded


def _read_files(root: Path) -> _ReadFiles:
    files, diagnostics = find_manifest_files(root)
    # A manifest file that could not be read may hold any section: no "missing" checks.
    read = _ReadFiles(root, files, [], Environments(), diagnostics, set(), complete=not diagnostics)
    for file in files:
        parsed = load_yaml_file(file)
        read.diagnostics += parsed.diagnostics
        read.reported.update(problem.location for problem in parsed.diagnostics)
        if parsed.data is None:
            read.complete = False
            continue
        if not isinstance(parsed.data, dict):
            kind = "a list" if isinstance(parsed.data, list) else show(parsed.data)
            where = parsed.source.nearest((), Location(parsed.file, 0, 0))
            read.diagnostics.append(
                Diagnostic.at(where, f"expected a mapping of manifest sections, got {kind}")
            )
            read.complete = False
            continue
        sections = {
            key: value
            for key, value in parsed.data.items()
            if not key.startswith(EXTENSION_PREFIX) and key != ENVIRONMENTS_KEY
        }
        if ENVIRONMENTS_KEY in parsed.data:
            read.environments.add(parsed, parsed.data[ENVIRONMENTS_KEY])
        read.pieces.append(_FilePiece(parsed, sections))
    read.diagnostics += read.environments.diagnostics
    return read


def _deferrable(path: DataPath) -> bool:
    """A value read by one command only: everything under ``verify`` (its canary passwords),
    and a secret outside ``target`` (a social connection's client secret, which no API
    takes; the Clerk key of a ``clerk-api`` user source, which only an import reads). A
    pre-commit hook or a fork's pull request has none of them, and needs none."""
    if not path:
        return False
    return path[0] == "verify" or (path[0] != "target" and path[-1] in SECRET_FIELDS)


def _resolve_environment(
    read: _ReadFiles,
    environment: str | None,
    *,
    env: Mapping[str, str] | None,
    emulate: bool,
    require_secrets: bool = False,
) -> tuple[LoadedManifest | None, list[Diagnostic]]:
    """The manifest for one environment: interpolate (only what that environment uses, so
    another environment's credentials are never needed), merge, override, validate."""
    variables: Mapping[str, str] = os.environ if env is None else env
    lenient = ("target",) if emulate else ()
    unresolved: list[tuple[DataPath, Diagnostic]] = []
    diagnostics = list(read.diagnostics)
    if read.diagnostics and not read.files:
        return None, diagnostics  # no such path, or an empty folder
    reported = set(read.reported)
    problem = read.environments.selection_problem(environment, str(read.root))
    if problem is not None:
        return None, [*diagnostics, problem]

    # Top-level sections the environment replaces are not read at all: their variables
    # (another environment's credentials) need not be set.
    replaced_here = {
        key
        for override in (read.environments.overrides[environment] if environment else [])
        for key in override.data
        if key in OVERRIDABLE_SECTIONS
    }
    pieces: list[tuple[ParsedFile, dict[str, Any]]] = []
    for piece in read.pieces:
        data, problems = interpolate(
            {k: v for k, v in piece.sections.items() if k not in replaced_here},
            piece.parsed.source,
            variables,
            missing_allowed_under=lenient,
            deferrable=None if require_secrets else _deferrable,
            deferred=unresolved,
            file=piece.parsed.file,
        )
        diagnostics += problems
        reported.update(p.location for p in problems)
        pieces.append((piece.parsed, _resolve_paths(data, Path(piece.parsed.file).parent)))
    merged, source, problems = merge_files(pieces)
    diagnostics += problems

    if environment is not None:
        prefix = (ENVIRONMENTS_KEY, environment)
        override_pieces: list[tuple[ParsedFile, dict[str, Any]]] = []
        for override in read.environments.overrides[environment]:
            parsed = override.parsed
            data, problems = interpolate(
                {k: v for k, v in override.data.items() if not k.startswith(EXTENSION_PREFIX)},
                parsed.source,
                variables,
                missing_allowed_under=lenient,
                deferrable=None if require_secrets else _deferrable,
                deferred=unresolved,
                file=parsed.file,
                at=prefix,
            )
            diagnostics += problems
            reported.update(p.location for p in problems)
            rerooted = ParsedFile(parsed.file, data, parsed.source.subtree(prefix), [])
            override_pieces.append((rerooted, _resolve_paths(data, Path(parsed.file).parent)))
        replaced, replaced_source, problems = merge_files(
            override_pieces, sections=OVERRIDABLE_SECTIONS, shown_under=prefix
        )
        diagnostics += problems
        for section, value in replaced.items():
            merged[section] = value
            source.replace_section(section, replaced_source, prefix)

    fallback = Location(str(read.root), 0, 0)
    if read.complete:
        diagnostics += _missing_sections(
            merged, read.root, read.files, source, environment, read.environments
        )
    manifest, problems = validate_manifest(
        merged, source, fallback=fallback, skip_missing=REQUIRED_SECTIONS
    )
    problems += check_manifest(
        merged, source, fallback=fallback, check_references=read.complete, emulate=emulate
    )
    problems += _outputs_inside_manifest_folder(merged, source, read.root, fallback)
    diagnostics += [problem for problem in problems if problem.location not in reported]
    if diagnostics or manifest is None:
        return None, diagnostics
    loaded = LoadedManifest(
        manifest=manifest,
        files=read.files,
        source_map=source,
        environment=environment,
        environments=tuple(read.environments.names),
        unresolved=tuple(unresolved),
    )
    return loaded, []


# The next step for someone with no manifest yet: the two ways the README starts one.
START_A_MANIFEST = (
    "To start one: `authform export --out manifests` writes the manifests of a live WorkOS "
    "tenant, or copy the example folder `manifests/` of authform's repository (README: "
    "Quickstart) and try it with `authform plan --emulate`"
)


def find_manifest_files(root: Path) -> tuple[list[Path], list[Diagnostic]]:
    """The file itself, or a folder's ``*.yaml``/``*.yml`` entries (sorted, not recursive,
    hidden files skipped: editors leave ``.#roles.yaml`` and similar behind).

    Every entry with a manifest name is returned, also one that is not a regular file (a
    dangling or looping symbolic link, a FIFO, a directory named ``x.yaml``): reading it
    reports that as an error (``load_yaml_file``), where skipping it would apply the folder
    without the sections that file was meant to hold.
    """
    if root.is_dir():
        files = sorted(
            entry
            for entry in root.iterdir()
            if entry.suffix in MANIFEST_SUFFIXES and not entry.name.startswith(".")
        )
        if not files:
            message = f"no manifest files (*.yaml, *.yml) in this folder. {START_A_MANIFEST}"
            return [], [Diagnostic(str(root), 0, 0, message)]
        return files, []
    if os.path.lexists(root):
        return [root], []
    hint = "" if root.suffix in MANIFEST_SUFFIXES else f". {START_A_MANIFEST}"
    return [], [Diagnostic(str(root), 0, 0, f"no such file or directory{hint}")]


def merge_files(
    pieces: list[tuple[ParsedFile, dict[str, Any]]],
    *,
    sections: Sequence[str] | None = None,
    shown_under: DataPath = (),
) -> tuple[dict[str, Any], SourceMap, list[Diagnostic]]:
    """Merge partial manifests: list sections concatenate, single sections may appear once.

    Positions are carried over with list indexes shifted; ``SourceMap.local_index`` keeps
    each item's index within its own file for messages. ``sections`` narrows the keys
    allowed (an environment cannot change ``version``) and ``shown_under`` is the path
    messages name them under (``environments.staging``).
    """
    merged: dict[str, Any] = {}
    source = SourceMap()
    diagnostics: list[Diagnostic] = []
    defined_at: dict[str, Location] = {}
    expected = list(sections) if sections is not None else list(Manifest.model_fields)

    for parsed, data in pieces:
        offsets: dict[str, int] = {}
        fallback = Location(parsed.file, 0, 0)
        for key, value in data.items():
            key_at = parsed.source.key((key,)) or fallback
            value_at = parsed.source.nearest((key,), fallback)
            shown = format_path((*shown_under, key))
            if sections is not None and key not in sections:
                diagnostics.append(
                    Diagnostic.at(key_at, _in(shown_under, unknown_key_message(key, expected)))
                )
                continue
            if key in LIST_SECTIONS:
                if not isinstance(value, list):
                    diagnostics.append(Diagnostic.at(value_at, _not_a_list(shown, key, value)))
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
                            f"{shown}: defined twice (first defined at {defined_at[key]})",
                        )
                    )
                    continue
                if value is None and key != "version":
                    message = f"{shown}: expected a mapping, got null (remove the key to omit it)"
                    diagnostics.append(Diagnostic.at(value_at, message))
                    continue
                defined_at[key] = key_at
                merged[key] = value
            else:
                message = unknown_key_message(key, expected)
                diagnostics.append(Diagnostic.at(key_at, _in(shown_under, message)))
                continue
            offsets.setdefault(key, 0)
        _copy_positions(parsed.source, source, offsets)
        source.values.setdefault((), parsed.source.nearest((), fallback))
    return merged, source, diagnostics


def _in(where: DataPath, message: str) -> str:
    return f"{format_path(where)}: {message}" if where else message


def _not_a_list(shown: str, key: str, value: Any) -> str:
    if value is None:
        return (
            f"{shown}: expected a list, got null (write `{key}: []` to manage {key} with none "
            "defined, or remove the key to leave them unmanaged)"
        )
    got = "a mapping" if isinstance(value, dict) else show(value)
    return f"{shown}: expected a list, got {got}"


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
    merged: dict[str, Any],
    root: Path,
    files: list[Path],
    source: SourceMap,
    environment: str | None = None,
    environments: Environments | None = None,
) -> list[Diagnostic]:
    """``version`` and ``target`` must be defined once across all files (``target`` may
    come from the environment)."""
    diagnostics = []
    for key in REQUIRED_SECTIONS:
        if key in merged:
            continue
        if environment is not None and environments is not None and key != "version":
            where = environments.defined_at.get(environment, Location(str(root), 0, 0))
            message = (
                f"missing required key {show(key)} (neither the top level nor environment "
                f"{show(environment)} defines it)"
            )
            diagnostics.append(Diagnostic.at(where, message))
        elif len(files) == 1 and not root.is_dir():
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
    source = users.get("source")
    if isinstance(source, dict):
        users["source"] = {
            k: _resolve(v, base) if k in _SOURCE_PATH_FIELDS else v for k, v in source.items()
        }
    return {**data, "users": users}


def _outputs_inside_manifest_folder(
    data: dict[str, Any], source: SourceMap, root: Path, fallback: Location
) -> list[Diagnostic]:
    users = data.get("users")
    if not isinstance(users, dict):
        return []
    folder = (root if root.is_dir() else root.parent).resolve()
    problems = []
    for name in _USERS_OUTPUT_FIELDS:
        value = users.get(name)
        if not isinstance(value, str) or not value.strip():
            continue
        written = Path(value).resolve()
        if written == folder or folder in written.parents:
            where = source.value(("users", name)) or fallback
            problems.append(
                Diagnostic.at(
                    where,
                    f"users.{name}: {value} is inside the manifest folder {root}, which the "
                    "pre-commit hook and the CI workflows watch and people commit; import "
                    "reports hold email addresses, so write them outside it (relative paths "
                    "are the working directory's; the default, authform-reports/, is easy to "
                    "add to .gitignore)",
                )
            )
    return problems


def _resolve(value: Any, base: Path) -> Any:
    if not isinstance(value, str) or not value.strip() or Path(value).is_absolute():
        return value
    return str(base / value)
