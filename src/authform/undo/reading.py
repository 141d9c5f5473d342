"""Read an apply journal back, and refuse one that cannot be trusted, saying where.

Checked in order, each before what depends on it: readable JSON Lines, a journal of this
format, every line's shape (offline, before any request); then, with the target's
credential, its seal chain (an edited line is named by number) and that the manifest given to
undo targets the tenant the apply wrote to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from authform.resources import Kind
from authform.saved_plan.seal import same_tag
from authform.undo.record import (
    JOURNAL_FORMAT,
    JOURNAL_VERSION,
    OUTCOMES,
    JournalSealer,
    describe_target,
    target_identity,
)
from authform.workflow import Session


class JournalError(Exception):
    """A journal undo cannot use; the message names the file (and line) and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Header(_Strict):
    type: Literal["header"]
    format: Literal["authform apply journal"]
    format_version: int
    authform: str
    started_at: str
    provider: str
    environment: str | None
    manifest: str
    target: dict[str, Any]
    plan_digest: str
    salt: Annotated[str, Field(pattern="^[0-9a-f]{32}$")]
    key_check: str
    seal: str


class _Image(_Strict):
    kind: str
    key: str
    spec: dict[str, Any]
    provider_id: str | None


class _After(_Strict):
    spec: dict[str, Any]
    written_once: dict[str, str] = {}


class _Change(_Strict):
    type: Literal["change"]
    action: Literal["create", "update", "replace", "delete"]
    address: str
    kind: Literal[tuple(k.value for k in Kind)]  # type: ignore[valid-type]
    key: str
    before: _Image | None
    after: _After | None
    seal: str


class _Outcome(_Strict):
    type: Literal["outcome"]
    address: str
    outcome: Literal[OUTCOMES]  # type: ignore[valid-type]
    seal: str


class _End(_Strict):
    type: Literal["end"]
    finished_at: str
    ended: str
    counts: dict[str, int]
    seal: str


_LINE: TypeAdapter[_Change | _Outcome | _End] = TypeAdapter(
    Annotated[_Change | _Outcome | _End, Field(discriminator="type")]
)


@dataclass
class JournalEntry:
    """One write change of the journaled apply, with its outcome if the apply learnt it."""

    action: str
    kind: Kind
    key: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    outcome: str | None = None
    line: int = 0  # where the journal records it: the origin of the change that undoes it

    @property
    def address(self) -> str:
        return f"{self.kind.value}.{self.key}"


@dataclass
class Journal:
    path: Path
    header: dict[str, Any]
    lines: list[dict[str, Any]]
    entries: dict[str, JournalEntry] = field(default_factory=dict)
    ended: str | None = None
    cut_short: bool = False  # the last line was half-written (the process was killed)

    def check(self, session: Session) -> None:
        """Refuse, before any request, a journal sealed without this target's credential, an
        edited one, or one written by an apply to another tenant."""
        sealer = JournalSealer(bytes.fromhex(self.header["salt"]), session)
        target = self.header["target"]
        here = target_identity(session)
        if target != here:
            raise JournalError(
                f"{self.path}: this journal is from an apply to another target: "
                f"{describe_target(target)}; the manifest given targets {describe_target(here)}. "
                "Run undo with the manifest (and --emulate / --environment) that apply used; "
                "nothing was changed"
            )
        if not same_tag(self.header["key_check"], sealer.key_check):
            raise JournalError(self._sealed_with_another_key())
        for number, line in enumerate(self.lines, start=1):
            if not same_tag(line["seal"], sealer.seal(line)):
                raise JournalError(
                    f"{self.path}:{number}: the journal was edited here (the line does not "
                    "match its seal); undo will not restore from an edited journal; nothing "
                    "was changed"
                )

    def _sealed_with_another_key(self) -> str:
        """The target matched, so the key is what differs: almost always a rotated key.
        Undo cannot verify the chain without the key that sealed it, and says how to."""
        return (
            f"{self.path}: its seal does not verify with the target's API key. The journal "
            f"was sealed with the API key the apply of {self.header['started_at']} used, and "
            "target.api_key is another key now: the key was rotated since that apply (or the "
            "journal's header was edited). Undo trusts a journal only under the key that "
            "sealed it: to undo that apply, run undo again with target.api_key set to the key "
            "that apply used, while it is still valid; once that key is revoked, this journal "
            "can no longer be verified, and what that apply changed is put back by hand or "
            "through the manifest. Nothing was changed"
        )


def read_journal(path: Path) -> Journal:
    """The journal at ``path``, its shape checked (offline; the seal needs the target)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise JournalError(f"{path}: no such journal") from None
    except IsADirectoryError:
        raise JournalError(f"{path}: is a folder; give a journal file (journal-*.jsonl)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise JournalError(f"{path}: cannot read this journal ({exc})") from None
    raw_lines = text.split("\n")
    cut_short = False
    if raw_lines and raw_lines[-1] == "":
        raw_lines.pop()
    elif raw_lines and len(raw_lines) > 1:
        # No newline at the end: the last line's write was cut off (a killed apply). What
        # comes before it is whole, and sealed line by line.
        raw_lines.pop()
        cut_short = True
    if not raw_lines:
        raise JournalError(f"{path}: empty; not an authform apply journal")
    lines = [_parse(path, number, raw) for number, raw in enumerate(raw_lines, start=1)]
    header = lines[0]
    if header.get("type") != "header" or header.get("format") != JOURNAL_FORMAT:
        raise JournalError(
            f"{path}:1: not an authform apply journal (apply writes them as "
            "authform-reports/journal-*.jsonl)"
        )
    if header.get("format_version") != JOURNAL_VERSION:
        raise JournalError(
            f"{path}:1: journal format {json.dumps(header.get('format_version'))} is not one "
            f"this authform reads (format {JOURNAL_VERSION})"
        )
    _validate(path, 1, header, _Header)
    journal = Journal(path, header, lines, cut_short=cut_short)
    for number, line in enumerate(lines[1:], start=2):
        entry = _validate_line(path, number, line)
        _take(journal, path, number, entry)
    return journal


def _parse(path: Path, number: int, raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise JournalError(
            f"{path}:{number}:{exc.colno}: not valid JSON ({exc.msg}); the journal is damaged"
        ) from None
    if not isinstance(value, dict):
        raise JournalError(f"{path}:{number}: not a journal line (a JSON object is expected)")
    return value


def _validate(path: Path, number: int, line: dict[str, Any], model: type[BaseModel]) -> None:
    try:
        model.model_validate(line)
    except ValidationError as exc:
        raise JournalError(f"{path}:{number}: {_first_problem(exc)}") from None


def _validate_line(path: Path, number: int, line: dict[str, Any]) -> _Change | _Outcome | _End:
    try:
        return _LINE.validate_python(line)
    except ValidationError as exc:
        raise JournalError(f"{path}:{number}: {_first_problem(exc)}") from None


def _take(journal: Journal, path: Path, number: int, entry: _Change | _Outcome | _End) -> None:
    if journal.ended is not None:
        raise JournalError(f"{path}:{number}: a line after the journal's end line")
    if isinstance(entry, _Change):
        kind = Kind(entry.kind)
        if entry.address != f"{kind.value}.{entry.key}" or entry.address in journal.entries:
            raise JournalError(f"{path}:{number}: change {entry.address!r} is not a new address")
        journal.entries[entry.address] = JournalEntry(
            entry.action,
            kind,
            entry.key,
            entry.before.model_dump() if entry.before else None,
            entry.after.model_dump() if entry.after else None,
            line=number,
        )
    elif isinstance(entry, _Outcome):
        known = journal.entries.get(entry.address)
        if known is None:
            raise JournalError(
                f"{path}:{number}: an outcome for {entry.address}, which the journal does not "
                "record as a change"
            )
        known.outcome = entry.outcome
    else:
        journal.ended = entry.ended


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"] if not str(p).startswith("function-"))
    return f"not a valid journal line: {where or '(line)'}: {error['msg']}"
