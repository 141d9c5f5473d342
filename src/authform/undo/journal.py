"""Write an apply's journal as the apply goes: what `authform undo` needs to put it back.

Every write change of the plan is recorded before the first write (its before-image and the
spec it writes), then each outcome the moment the engine reports it, one flushed line at a
time: an apply stopped by Ctrl-C, a crash or SIGKILL leaves a journal that says what it had
done, and names the changes whose outcome it never learnt (undo judges those by the live
state). The file is created exclusively under a name that sorts by time and never repeats.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from authform import __version__
from authform.engine.plan import Action, Change, Plan
from authform.engine.spool import streamed_digest
from authform.output_paths import check_output_folder
from authform.saved_plan.seal import canonical
from authform.undo.record import (
    JOURNAL_FORMAT,
    JOURNAL_PREFIX,
    JOURNAL_SUFFIX,
    JOURNAL_VERSION,
    NOT_REACHED,
    JournalSealer,
    before_image,
    fingerprint,
    masked,
    target_identity,
)
from authform.workflow import Session


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class JournalWriter:
    """One apply's journal, open for appending until ``close``."""

    def __init__(self, path: Path, stream: IO[str], sealer: JournalSealer) -> None:
        self.path = path
        self._stream = stream
        self._sealer = sealer
        self.counts: dict[str, int] = {}

    @classmethod
    def start(cls, session: Session, plan: Plan) -> JournalWriter:
        """Create the journal in ``session``'s reports folder and record the plan's writes.
        Raises ``OutputPathError`` or ``OSError`` before any write to the provider when it
        cannot be created: an apply that could not be undone does not start."""
        folder = session.reports_dir
        check_output_folder(folder, "the apply journal's folder")
        folder.mkdir(parents=True, exist_ok=True)
        started = _now()
        salt = secrets.token_bytes(16)
        with tempfile.TemporaryFile(prefix="authform-journal-") as entries:
            # One pass over the plan (a spooled plan is read from disk on each): its digest,
            # and each write's entry in its canonical form, held on disk until the header,
            # which names the digest, is written before them.
            digest = streamed_digest(_writing_entries(plan.changes, entries))
            # Microseconds in the name: journals sort in the order their applies started,
            # even two applies within one second (the newest is the last in `ls`).
            name = (
                f"{JOURNAL_PREFIX}{started.strftime('%Y%m%dT%H%M%S%f')}Z-"
                f"{digest[:6]}{salt.hex()[:6]}{JOURNAL_SUFFIX}"
            )
            path = folder / name
            stream = path.open("x", encoding="utf-8")  # never over another apply's journal
            writer = cls(path, stream, JournalSealer(salt, session))
            writer._write(
                {
                    "type": "header",
                    "format": JOURNAL_FORMAT,
                    "format_version": JOURNAL_VERSION,
                    "authform": __version__,
                    "started_at": _stamp(started),
                    "provider": plan.provider,
                    "environment": session.environment,
                    "manifest": str(session.manifest_path or session.loaded.files[0]),
                    "target": target_identity(session),
                    "plan_digest": digest,
                    "salt": salt.hex(),
                    "key_check": writer._sealer.key_check,
                }
            )
            entries.seek(0)
            for body in entries:
                stream.write(writer._sealer.sealed_canonical_line(body[:-1], "change"))
        writer._flush()
        return writer

    def record(self, change: Change, outcome: str) -> None:
        """The engine's outcome callback: one line per outcome, flushed at once. The engine
        tells the outcomes of the plan's writes only (``engine.apply``: a write the provider
        left to a person included), the changes this journal listed at its start."""
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        self._write({"type": "outcome", "address": change.address, "outcome": outcome})
        self._flush()

    def not_reached(self, changes: Iterable[Change]) -> None:
        for change in changes:
            if change.is_write:
                self.record(change, NOT_REACHED)

    def close(self, ended: str) -> None:
        """``ended``: "complete", "interrupted" or the reason the apply stopped."""
        try:
            self._write(
                {
                    "type": "end",
                    "finished_at": _stamp(_now()),
                    "ended": ended,
                    "counts": dict(sorted(self.counts.items())),
                }
            )
            self._flush()
        finally:
            self._stream.close()

    def _write(self, entry: dict[str, Any]) -> None:
        self._stream.write(self._sealer.sealed_line(entry))

    def _flush(self) -> None:
        # Flushed to the operating system, which keeps it if this process is killed; not
        # fsync'd per line, which would make a 20,000-change import wait on the disk.
        self._stream.flush()


def _writing_entries(changes: Iterable[Change], entries: IO[bytes]) -> Iterator[Change]:
    """``changes``, each passed on after its entry (a write's) is added to ``entries``, one
    canonical line each."""
    for change in changes:
        if change.is_write:
            entries.write(canonical(_change_entry(change)) + b"\n")
        yield change


def _change_entry(change: Change) -> dict[str, Any]:
    """The before-image of what the change overwrites or removes, and what it writes."""
    entry: dict[str, Any] = {
        "type": "change",
        "action": change.action.value,
        "address": change.address,
        "kind": change.kind.value,
        "key": change.key,
        "before": before_image(change.live) if change.live is not None else None,
        "after": None,
    }
    if change.desired is not None and change.action is not Action.DELETE:
        # Masked only: its canonical form (which writes what JSON cannot hold as text, as
        # ``as_json`` would) is what the line and its seal hold.
        entry["after"] = {"spec": masked(change.desired.spec)}
        if change.desired.create_only:
            entry["after"]["written_once"] = _written_once(change.desired.create_only)
    return entry


def _written_once(values: Mapping[str, Any]) -> dict[str, str]:
    """Write-once values (a password digest) by fingerprint: which were set, never what."""
    return {name: fingerprint(str(value)) for name, value in sorted(values.items())}
