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
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from authform import __version__
from authform.engine.plan import Change, Plan
from authform.output_paths import check_output_folder
from authform.undo.entries import write_change_entries
from authform.undo.record import (
    JOURNAL_FORMAT,
    JOURNAL_PREFIX,
    JOURNAL_SUFFIX,
    JOURNAL_VERSION,
    NOT_REACHED,
    JournalSealer,
    target_identity,
)
from authform.workflow import Session

# Change lines handed to the file in one write at the journal's start.
_LINES_PER_WRITE = 1000


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
        # Lines recorded since the last flush, written in one call then (an import records
        # hundreds of thousands; a write per line cost more than sealing it).
        self._pending: list[str] = []

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
            digest = write_change_entries(plan.changes, entries)
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
            pending = writer._pending
            for line in writer._sealer.sealed_change_lines(entries):
                pending.append(line)
                if len(pending) >= _LINES_PER_WRITE:
                    writer._write_pending()
        writer._flush()
        return writer

    def record(self, change: Change, outcome: str) -> None:
        """The engine's outcome callback: one line per outcome, written through to the
        operating system by ``flush``, which the engine calls once the outcomes of a batch
        are told (see ``engine.apply.SettledCallback``). The engine tells the outcomes of
        the plan's writes only (``engine.apply``: a write the provider left to a person
        included), the changes this journal listed at its start."""
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        self._pending.append(self._sealer.sealed_outcome_line(change.address, outcome))

    def record_many(self, changes: Sequence[Change], outcome: str) -> None:
        """``record`` of each of ``changes``, one outcome for all (the engine's outcomes
        callback: a batch whose every write was made)."""
        self.counts[outcome] = self.counts.get(outcome, 0) + len(changes)
        self._pending += self._sealer.sealed_outcome_lines(
            [change.address for change in changes], outcome
        )

    def flush(self) -> None:
        """The engine's settled callback (see ``record``)."""
        self._flush()

    def not_reached(self, changes: Iterable[Change]) -> None:
        for change in changes:
            if change.is_write:
                self.record(change, NOT_REACHED)
        self._flush()

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
        self._pending.append(self._sealer.sealed_line(entry))

    def _flush(self) -> None:
        # Flushed to the operating system, which keeps it if this process is killed; not
        # fsync'd per line, which would make a 20,000-change import wait on the disk.
        self._write_pending()
        self._stream.flush()

    def _write_pending(self) -> None:
        if self._pending:
            self._stream.write("".join(self._pending))
            self._pending.clear()
