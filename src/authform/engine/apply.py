"""Carry a Plan out through a provider, in dependency order, reporting every outcome.

Changes of one kind run concurrently (the HTTP client bounds concurrency and rate); kinds run
one after another so a role is never created before its permissions. When a change fails,
only the changes that depend on it (a membership of a user whose create failed, a role naming
a permission that could not be created) are held back; everything else goes on. The result
lists exactly what was applied, what failed and what was not attempted: nothing is
half-applied silently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from authform.engine.batches import run_batches
from authform.engine.plan import Action, Change, Plan
from authform.providers.base import Provider, ProviderError
from authform.resources import dependencies

ProgressCallback = Callable[[int, int], None]
# Told each write change's outcome the moment it is known: "applied", "failed" or
# "not attempted" (held back because a change it needs failed). The apply journal
# (``authform.undo.journal``) is written from it, so an interrupted apply leaves one.
OutcomeCallback = Callable[[Change, str], None]


@dataclass
class ApplyResult:
    applied: list[Change] = field(default_factory=list)
    failed: list[tuple[Change, str]] = field(default_factory=list)
    not_attempted: list[Change] = field(default_factory=list)
    manual_pending: list[Change] = field(default_factory=list)
    blocked: list[Change] = field(default_factory=list)
    # Changes apply never reached because it stopped early (interrupted, or a failure that
    # is not one change's): see ``mark_not_reached``.
    not_reached: list[Change] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_attempted and not self.not_reached

    def mark_not_reached(self, changes: Sequence[Change]) -> None:
        """After an apply that stopped early: every change of ``changes`` with no outcome yet
        is one it never reached (or whose answer it never saw)."""
        settled = {
            id(c)
            for group in (
                self.applied,
                self.not_attempted,
                self.manual_pending,
                self.blocked,
                self.not_reached,
            )
            for c in group
        } | {id(c) for c, _ in self.failed}
        self.not_reached += [c for c in changes if id(c) not in settled]

    @property
    def pending(self) -> bool:
        return bool(self.manual_pending or self.blocked)


def _phases(changes: Sequence[Change]) -> list[list[Change]]:
    """Group consecutive changes that may run together: same kind, same direction, and none
    waiting for another of the group (a create waits for the delete that frees its email)."""
    phases: list[list[Change]] = []
    in_phase: set[str] = set()
    for change in changes:
        direction = change.action is Action.DELETE
        if (
            phases
            and phases[-1][0].kind is change.kind
            and (phases[-1][0].action is Action.DELETE) == direction
            and not in_phase.intersection(change.after)
        ):
            phases[-1].append(change)
        else:
            phases.append([change])
            in_phase = set()
        in_phase.add(change.address)
    return phases


async def apply_plan(
    plan: Plan,
    provider: Provider,
    *,
    on_progress: ProgressCallback | None = None,
    on_outcome: OutcomeCallback | None = None,
    result: ApplyResult | None = None,
) -> ApplyResult:
    """Apply ``plan``. Each outcome is recorded in ``result`` (and reported to
    ``on_progress``) the moment its change completes, so a caller whose apply is interrupted
    or fails midway still holds exactly what was done."""
    if plan.refused:
        raise ProviderError("plan refused: " + "; ".join(plan.refusals))
    result = ApplyResult() if result is None else result
    total = sum(1 for c in plan.changes if c.is_write)
    done = 0
    broken: set[str] = set()  # addresses whose write failed or was held back

    def record(change: Change, outcome: str) -> None:
        nonlocal done
        if change.blocked:
            result.blocked.append(change)
        elif change.action is Action.MANUAL:
            result.manual_pending.append(change)  # a person's step, never ours
        elif outcome == "done":
            result.applied.append(change)
        else:
            result.failed.append((change, outcome))
            broken.add(change.address)
        if change.is_write:
            done += 1
            if on_outcome:
                on_outcome(change, "applied" if outcome == "done" else "failed")
            if on_progress:
                on_progress(done, total)

    for phase in _phases(plan.changes):
        runnable = []
        for change in phase:
            needs = [*change.after, *(dependencies(change.desired) if change.desired else [])]
            if change.is_write and any(dep in broken for dep in needs):
                result.not_attempted.append(change)
                broken.add(change.address)
                if on_outcome:
                    on_outcome(change, "not attempted")
            else:
                runnable.append(change)
        await _run_all(runnable, provider, record)
    return result


# Enough workers to keep any provider's connection pool busy; the HTTP client bounds what is
# really in flight. A pool rather than one task per change keeps a 20,000-membership phase from
# holding 20,000 suspended tasks, whose scheduling and garbage collection show up as uneven
# send times, and uneven send times as 429s.
WORKERS = 64


async def _run_all(
    changes: Sequence[Change],
    provider: Provider,
    record: Callable[[Change, str], None],
) -> None:
    write_batch = getattr(provider, "write_batch", None)  # the optional BatchWriter
    if write_batch is not None:
        await run_batches(
            changes,
            lambda change: change,
            write_batch,
            lambda change: _run(change, provider),
            lambda _, change, outcome: record(change, outcome),
        )
        return
    position = iter(changes)

    async def worker() -> None:
        for change in position:
            record(change, await _run(change, provider))

    # A task group, so that an unexpected exception in one worker stops the others before
    # it propagates: no worker may go on writing after apply has reported its outcome.
    async with asyncio.TaskGroup() as group:
        for _ in range(min(WORKERS, len(changes))):
            group.create_task(worker())


async def _run(change: Change, provider: Provider) -> str:
    """Returns "done", "pending" (blocked, or manual: a dashboard step apply never takes,
    under --emulate too) or an error message."""
    if change.blocked or change.action is Action.MANUAL:
        return "pending"
    try:
        if change.action is Action.CREATE:
            assert change.desired is not None
            await provider.create(change.desired)
        elif change.action is Action.UPDATE:
            assert change.desired is not None and change.live is not None
            await provider.update(change.live, change.desired)
        elif change.action is Action.REPLACE:
            assert change.desired is not None and change.live is not None
            await _delete(provider, change)
            await provider.create(change.desired)
        elif change.action is Action.DELETE:
            assert change.live is not None
            await _delete(provider, change)
    except ProviderError as exc:
        return str(exc)
    return "done"


async def _delete(provider: Provider, change: Change) -> None:
    """Delete, where "not found" means done: the item went since the plan read it (another
    apply running at the same time, or a delete earlier in this one that took it along, as
    deleting a user takes its memberships)."""
    assert change.live is not None
    try:
        await provider.delete(change.live)
    except ProviderError as exc:
        if exc.status != 404:
            raise
