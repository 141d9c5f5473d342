"""The saved-plan file: written by ``plan --out``, read (and judged) by ``apply PLAN.json``.

A saved plan is the plan's JSON rendering (what the reviewer saw) plus how it was made, the
keyed fingerprints of everything it was computed from, and a seal: one keyed tag per
top-level part, so an edit is refused naming the part that moved.

An import plans a million changes, so the file is line-oriented (JSON Lines) and is never
held whole, neither written nor read:

    line 1      the header: format, provider, counts, notes, refusals, how it was made and
                the fingerprints; what a person reads (``head -1 plan.json | jq .``)
    lines 2..   one change per line, in plan order, each in the canonical form it is
                sealed in (``jq -c 'select(.address)' plan.json`` lists them)
    last line   the seal: a tag per part, the change list's streamed as it was written

The file is checked in this order, each step before anything that depends on it: readable,
a saved plan of this format, its shape line by line (every key known, every type right),
then its seal (``check.verify_seal``), reading one line at a time.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from authform.engine.plan import Plan
from authform.render.json_output import plan_header_to_json
from authform.saved_plan.evidence import (
    MadeWith,
    fingerprints,
    seal_credential,
    sealed_change_lines,
)
from authform.saved_plan.seal import TAG_PREFIX, Sealer, same_tag
from authform.workflow import Session

SAVED_PLAN_FORMAT = 3
# Parts of the document that are not sealed themselves: the seal, and the digest over it.
_SEAL_KEYS = ("seal", "plan_digest")
# What made an unreadable file is unknown: both commands that save plans are named.
_MAKE_AGAIN = (
    "make the plan again with `authform plan --out` (an undo plan: `authform undo JOURNAL --out`)"
)


class SavedPlanError(Exception):
    """A saved plan that cannot be applied: unreadable, edited, or stale."""


# ---- shape --------------------------------------------------------------------------------

Tag = Annotated[str, StringConstraints(pattern=f"^{TAG_PREFIX}[0-9a-f]{{64}}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Selection(_Strict):
    target: list[str]
    exclude: list[str]


class _MadeWith(_Strict):
    manifest: str
    manifest_dir: str
    emulate: bool
    environment: str | None
    force: bool
    undo_journal: str | None = None
    selection: _Selection | None = None


class _ManifestPrints(_Strict):
    files: dict[str, str]
    sections: dict[str, str]


class _SourcePrints(_Strict):
    label: str
    records: Tag
    password_digests: Tag


class _Fingerprints(_Strict):
    target: Tag
    manifest: _ManifestPrints
    source: _SourcePrints | None
    live: Tag


class _Change(BaseModel):
    """A change entry's own shape; its content is judged by the seal and the fresh plan."""

    model_config = ConfigDict(extra="allow", strict=True)
    action: Literal["create", "update", "replace", "delete", "manual"]
    address: str
    kind: str
    key: str
    fields: list[dict[str, Any]]


class _Seal(_Strict):
    salt: Annotated[str, StringConstraints(pattern="^[0-9a-f]{32}$")]
    key_check: Tag
    parts: dict[str, str]


class _Header(_Strict):
    format_version: Literal[3]
    provider: str
    environment: str | None
    summary: dict[str, int]
    refusals: list[str]
    notes: list[str]
    forced: bool
    managed: list[str]
    made_with: _MadeWith
    fingerprints: _Fingerprints


class _Trailer(_Strict):
    seal: _Seal
    plan_digest: Tag


# ---- writing ------------------------------------------------------------------------------


def plan_header(
    plan: Plan, session: Session, made_with: MadeWith, sealer: Sealer
) -> dict[str, Any]:
    """The first line: what a reviewer reads first, then how the plan was made."""
    rendered = plan_header_to_json(plan)
    return {
        "format_version": SAVED_PLAN_FORMAT,
        **{key: rendered[key] for key in ("provider", "environment", "summary")},
        **{key: rendered[key] for key in ("refusals", "notes", "forced", "managed")},
        "made_with": made_with.to_json(),
        "fingerprints": fingerprints(plan, session, made_with, sealer),
    }


def header_parts(header: dict[str, Any], sealer: Sealer) -> dict[str, str]:
    """One tag per part of the header."""
    return {
        name: sealer.tag(f"part\x00{name}", value)
        for name, value in header.items()
        if name not in (*_SEAL_KEYS, "changes")
    }


def seal_parts(document: dict[str, Any], sealer: Sealer) -> dict[str, str]:
    """One tag per top-level part of a whole document (header parts and ``changes``, a list
    of change entries): the seal ``plan --out`` writes for the same content."""
    parts = header_parts(document, sealer)
    parts["changes"] = sealer.stream_tag("part\x00changes", document.get("changes", []))
    return parts


def write_saved_plan(path: Path, plan: Plan, session: Session, made_with: MadeWith) -> None:
    """Write the plan sealed under a fresh salt and the target's credential, streaming the
    change list (its tag computed as it is written). Whole or not at all: a half-written
    plan must never be left to be applied."""
    sealer = Sealer.fresh(seal_credential(session, emulate=made_with.emulate))
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("wb") as handle:
            header = plan_header(plan, session, made_with, sealer)
            handle.write(json.dumps(header, ensure_ascii=False).encode() + b"\n")
            changes = sealer.stream("part\x00changes")
            for line in sealed_change_lines(plan, sealer):
                handle.write(line + b"\n")
                changes.add_line(line)
            parts = {**header_parts(header, sealer), "changes": changes.tag()}
            seal = {"salt": sealer.salt.hex(), "key_check": sealer.key_check, "parts": parts}
            trailer = {"seal": seal, "plan_digest": sealer.tag("plan", parts)}
            handle.write(json.dumps(trailer).encode() + b"\n")
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise SavedPlanError(f"{path}: cannot write the saved plan ({exc.strerror})") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


# ---- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedPlan:
    """A saved plan whose shape is right, read line by line; ``verify_seal`` judges whether
    it was edited. Only the header and the seal are held; the changes are read again from
    the file, one line at a time, by whatever needs them."""

    path: Path
    document: dict[str, Any]  # the header
    trailer: dict[str, Any]
    change_count: int

    @property
    def made_with(self) -> MadeWith:
        return MadeWith.from_json(self.document["made_with"])

    @property
    def salt(self) -> bytes:
        return bytes.fromhex(self.trailer["seal"]["salt"])

    @property
    def key_check(self) -> str:
        return str(self.trailer["seal"]["key_check"])

    @property
    def fingerprints(self) -> dict[str, Any]:
        return dict(self.document["fingerprints"])

    def change_lines(self) -> Iterator[bytes]:
        """The change lines as written (without line breaks), read lazily."""
        with _open(self.path) as handle:
            lines = _lines(handle)
            next(lines, None)  # the header
            previous: bytes | None = None
            for _, line in lines:
                if previous is not None:
                    yield previous
                previous = line
            # ``previous`` is now the seal line

    def changes(self) -> Iterator[dict[str, Any]]:
        """The change entries, read lazily."""
        for line in self.change_lines():
            yield json.loads(line)

    def changes_tag(self, sealer: Sealer) -> str:
        """The change list's tag, recomputed from the file in one streaming pass."""
        stream = sealer.stream("part\x00changes")
        for line in self.change_lines():
            stream.add_line(line)
        return stream.tag()

    def edited_parts(self, sealer: Sealer) -> list[str]:
        """The parts whose content no longer matches their tag (``plan_digest`` last)."""
        recorded: dict[str, str] = self.trailer["seal"]["parts"]
        computed = {**header_parts(self.document, sealer), "changes": self.changes_tag(sealer)}
        edited = [
            name
            for name in sorted(set(recorded) | set(computed))
            if not same_tag(recorded.get(name, ""), computed.get(name, ""))
        ]
        if not edited and not same_tag(self.trailer["plan_digest"], sealer.tag("plan", recorded)):
            edited.append("plan_digest")
        return edited


def is_saved_plan_path(path: Path) -> bool:
    """``apply`` takes a manifest (YAML files) or a saved plan (a ``.json`` file)."""
    return path.suffix == ".json" and not path.is_dir()


def read_saved_plan(path: Path) -> SavedPlan:
    """The saved plan at ``path``, its shape checked line by line (never loaded whole);
    raises ``SavedPlanError`` saying where."""
    try:
        with _open(path) as handle:
            return _read(path, handle)
    except FileNotFoundError:
        raise SavedPlanError(f"{path}: no such saved plan; nothing was applied") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SavedPlanError(f"{path}: cannot read this saved plan ({exc})") from None


def _open(path: Path) -> IO[bytes]:
    return path.open("rb")


def _lines(handle: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """Numbered lines without their line breaks (``\r\n`` too), checked to be UTF-8."""
    for number, raw in enumerate(handle, 1):
        line = raw.rstrip(b"\n").rstrip(b"\r")
        line.decode("utf-8")  # a UnicodeDecodeError says the file is not a saved plan
        yield number, line


def _read(path: Path, handle: IO[bytes]) -> SavedPlan:
    lines = _lines(handle)
    first = next(lines, None)
    if first is None:
        raise SavedPlanError(f"{path}: not a saved plan (the file is empty); {_MAKE_AGAIN}")
    header_line = first[1]
    if header_line.strip() == b"{":
        raise SavedPlanError(_older_format(path, handle))
    header = _parse(path, 1, header_line)
    if not isinstance(header, dict) or "format_version" not in header:
        raise SavedPlanError(f"{path}: not a saved plan (no format_version); {_MAKE_AGAIN}")
    version = header["format_version"]
    if version != SAVED_PLAN_FORMAT:
        raise SavedPlanError(_unreadable_version(path, version))
    _validate(path, 1, _Header, header)
    count = 0
    previous: tuple[int, bytes] | None = None
    for number, line in lines:
        if previous is not None:
            _validate(path, previous[0], _Change, _parse(path, *previous), index=count)
            count += 1
        previous = number, line
    if previous is None:
        raise SavedPlanError(_cut_short(path, 1, header))
    trailer = _parse(path, *previous)
    if not isinstance(trailer, dict) or "seal" not in trailer:
        raise SavedPlanError(_cut_short(path, previous[0], header))
    _validate(path, previous[0], _Trailer, trailer)
    return SavedPlan(path, header, trailer, count)


def _parse(path: Path, number: int, line: bytes) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise SavedPlanError(
            f"{path}:{number}:{exc.colno}: not valid JSON ({exc.msg}); the saved plan is "
            f"damaged or cut short: {_MAKE_AGAIN}"
        ) from None


def _validate(
    path: Path, number: int, model: type[BaseModel], value: Any, *, index: int | None = None
) -> None:
    try:
        model.model_validate(value)
    except ValidationError as exc:
        prefix = "" if index is None else f"changes[{index}]"
        raise SavedPlanError(
            f"{path}:{number}: not a valid saved plan: {_first_problem(exc, prefix)}"
        ) from None


def _cut_short(path: Path, number: int, header: dict[str, Any]) -> str:
    """Its header was read, so the command that made the plan is known."""
    remake = MadeWith.from_json(header["made_with"]).remake_command(path)
    return (
        f"{path}:{number}: the saved plan ends without its seal line; it is damaged or cut "
        f"short: make it again with `{remake}`"
    )


def _unreadable_version(path: Path, version: Any) -> str:
    return (
        f"{path}: saved-plan format {json.dumps(version)} is not one this authform reads "
        f"(format {SAVED_PLAN_FORMAT}); {_MAKE_AGAIN}"
    )


def _older_format(path: Path, handle: IO[bytes]) -> str:
    """A file that opens a multi-line JSON document: a saved plan of format 2 or earlier
    (one indented JSON document) names its version on one of its first lines."""
    for _, raw in zip(range(50), handle, strict=False):
        found = re.match(rb'\s*"format_version":\s*(-?\d+)', raw)
        if found:
            return (
                f"{path}: saved-plan format {int(found.group(1))} (one JSON document) is not "
                f"one this authform reads (format {SAVED_PLAN_FORMAT}, one JSON line per "
                f"change); {_MAKE_AGAIN}"
            )
    return f"{path}: not a saved plan (no format_version); {_MAKE_AGAIN}"


def _first_problem(exc: ValidationError, prefix: str = "") -> str:
    error = exc.errors()[0]
    where = prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
    where = where.lstrip(".")
    others = len(exc.errors()) - 1
    more = f" (and {others} more problem{'s' if others > 1 else ''})" if others else ""
    message = re.sub(r" or instance of _\w+", "", error["msg"])  # no internal class names
    return f"{where or '(top level)'}: {message}{more}"
