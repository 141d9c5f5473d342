"""Carry out an apply for a command, and end with an outcome whatever happens.

An apply writes to a live tenant, so the worst way for it to end is a traceback halfway
through: the user cannot tell what was written, and the import reports (the id mapping
downstream apps need) are not written. This is the one place where any failure during an
apply becomes an outcome: what was done, what failed, what was never reached, which reports
were written, and why it stopped. Ctrl-C is an outcome too. Everything a rerun needs is in
the provider (natural keys, ``external_id``), so the rerun resumes where this one stopped.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from authform.engine.apply import ApplyResult, apply_plan, writes
from authform.engine.plan import Plan
from authform.output_paths import OutputPathError, write_failure
from authform.phase_times import phase
from authform.providers.base import ProviderError
from authform.redaction import redact
from authform.render.progress import ProgressReporter
from authform.saved_plan import SavedPlanError
from authform.undo.journal import JournalWriter
from authform.workflow import Session


@dataclass
class ApplyOutcome:
    result: ApplyResult
    total: int
    reports: list[Path] = field(default_factory=list)
    # Why the apply stopped before its end (not one change's failure: those are in result).
    stopped: str | None = None
    interrupted: bool = False
    # The reports could not be written (the apply itself may have gone well).
    report_problem: str | None = None
    # The journal `authform undo` reads: every write's before-image and outcome.
    journal: Path | None = None

    @property
    def ok(self) -> bool:
        return (
            self.result.ok
            and not self.stopped
            and not self.interrupted
            and not (self.report_problem)
        )

    def closing_lines(self) -> list[str]:
        """What a person needs after an apply that did not finish cleanly: how far it got,
        why it stopped, and that a rerun resumes."""
        applied = len(self.result.applied)
        lines = []
        if self.report_problem:
            lines.append(f"Error: {self.report_problem}")
        if self.interrupted or self.stopped:
            reached = f"{applied:,} of {self.total:,} changes applied"
            if self.result.failed:
                reached += f", {len(self.result.failed):,} failed"
            reached += f", {len(self.result.not_reached):,} not reached or not confirmed"
            if self.interrupted:
                lines.append(f"Interrupted: {reached}.")
            else:
                lines.append(f"Error: apply stopped: {self.stopped}")
                lines.append(f"{reached}.")
            lines.append(
                "Run `authform apply` again to resume: it reads the live state and applies "
                "only what is still missing (a write whose answer never came is found there)."
            )
        return lines


def describe_stop(exc: BaseException) -> str:
    """Why an apply stopped, for a person; never a traceback."""
    while isinstance(exc, BaseExceptionGroup):  # from the engine's task group of workers
        exc = exc.exceptions[0]
    if isinstance(exc, ProviderError | SavedPlanError | OutputPathError):
        return str(exc)
    if isinstance(exc, OSError):
        return write_failure(exc)
    return redact(
        f"unexpected {type(exc).__name__}: {exc} (a bug in authform: please report it "
        "with this message)"
    )


async def run_apply(session: Session, plan: Plan, progress: ProgressReporter) -> ApplyOutcome:
    """Apply ``plan`` through ``session``'s provider, then write the import reports (also
    after a failure or an interruption, so they describe what the provider now holds).

    The journal is started before the first write (a folder it cannot be written to stops
    the apply there) and gets each outcome as the engine reports it."""
    outcome = ApplyOutcome(ApplyResult(), total=writes(plan))
    with phase("apply journal"):  # before the first write, so overlapped with none
        journal = JournalWriter.start(session, plan) if outcome.total else None
    outcome.journal = journal.path if journal else None
    progress.begin()
    try:
        async with progress.heartbeat():
            await apply_plan(
                plan,
                session.provider,
                on_progress=progress,
                on_outcome=journal.record if journal else None,
                on_outcomes=journal.record_many if journal else None,
                on_settled=journal.flush if journal else lambda: None,
                result=outcome.result,
            )
    except asyncio.CancelledError:
        # Ctrl-C: asyncio cancels the command's task. Take the cancellation back so the
        # reports can still be written and the connections closed, then say how far it got.
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        outcome.interrupted = True
    except Exception as exc:  # the one place any failure during apply becomes an outcome
        outcome.stopped = describe_stop(exc)
    finally:
        progress.close()
    if outcome.interrupted or outcome.stopped:
        outcome.result.mark_not_reached(plan.changes)
    if journal is not None:
        try:
            journal.not_reached(outcome.result.not_reached)
            journal.close("interrupted" if outcome.interrupted else outcome.stopped or "complete")
        except OSError as exc:
            outcome.report_problem = f"could not finish the journal: {describe_stop(exc)}"
    failures = [(c.kind.value, c.key, error) for c, error in outcome.result.failed]
    try:
        outcome.reports = session.write_import_reports(failures)
    except OSError as exc:
        outcome.report_problem = f"could not write the import reports: {describe_stop(exc)}"
    return outcome
