"""Apply through a provider's bulk path (``providers.base.BatchWriter``), when it has one.

A provider with no rate limit (a database) writes fastest thousands of rows per transaction,
not one call per change. The phase is handed over in batches of ``BATCH_SIZE`` and each
change's outcome recorded as soon as its batch returns, so an apply stopped midway still
knows exactly what was done. A change with no single write (a replace, a manual step, a
blocked change) takes the one-change path; a write the provider says a person must make is
recorded as a pending manual step carrying the provider's instructions, never as a failure.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Iterable, Sequence
from itertools import islice
from typing import Generic, TypeVar

from authform.engine.plan import Action, Change, as_change
from authform.providers.base import NeedsPerson, ProviderError, Write

BATCH_SIZE = 2000
# The outcome of a write the provider says a person must make (``NeedsPerson``): nothing was
# written, and the change is a pending manual step from then on.
LEFT_TO_PERSON = "left to a person"

T = TypeVar("T")  # one item of the phase: a change, or whatever the caller carries it in
WriteBatch = Callable[[Sequence[Write]], Awaitable[Sequence[ProviderError | None]]]
RunOne = Callable[[Change], Awaitable[str]]


async def run_batches(
    items: Iterable[T],
    change_of: Callable[[T], Change],
    write_batch: WriteBatch,
    run_one: RunOne,
    record: Callable[[T, Change, str], None],
    settled: Callable[[], None] = lambda: None,
    record_done: Callable[[Sequence[T]], None] | None = None,
) -> None:
    """Carry out one phase (``items``, each holding the change ``change_of`` gives) through
    ``write_batch``; ``run_one`` takes a change that has no single write, and
    ``record(item, change, outcome)`` hears "done", "pending", ``LEFT_TO_PERSON`` (with the
    change as it ended: a manual step carrying the provider's instructions) or the error.
    ``settled()`` is called once the outcomes of a batch (or of a change taken alone) are
    recorded. ``record_done(items)``, when given, records at once a batch whose every write
    was made (what ``record`` would hear as "done" for each).

    The next batch is handed over while the one before is still being written (a database
    commits it while the next one's rows are built): at most two are in flight, their
    outcomes recorded in order, and the phase ends with both done. A change taken alone
    waits until the batch in flight is done."""
    position = iter(items)
    flights: list[_Flight[T]] = []  # handed over, outcomes not yet recorded: at most two

    async def finish_flights() -> None:
        while flights:
            await flights[0].finish(record, settled, record_done)
            flights.pop(0)

    try:
        while batch := list(islice(position, BATCH_SIZE)):
            writes: list[tuple[T, Change, Write]] = []
            for item in batch:
                change = change_of(item)
                write = as_write(change)
                if write is None:
                    await finish_flights()
                    record(item, change, await run_one(change))
                    settled()
                else:
                    writes.append((item, change, write))
            if writes:
                flights.append(_Flight(writes, write_batch))
                if len(flights) > 1:
                    await flights[0].finish(record, settled, record_done)
                    flights.pop(0)
        await finish_flights()
    finally:
        for flight in flights:  # stopped early (Ctrl-C): their outcomes stay unknown
            flight.task.cancel()


class _Flight(Generic[T]):
    """One batch handed to ``write_batch``, running while the next is prepared."""

    def __init__(self, writes: list[tuple[T, Change, Write]], write_batch: WriteBatch) -> None:
        self.writes = writes
        self.task = asyncio.ensure_future(write_batch([write for _, _, write in writes]))
        # Its failure is read by ``finish``; one never finished (an apply stopped early)
        # is not reported again as an exception nobody retrieved.
        self.task.add_done_callback(lambda task: task.cancelled() or task.exception())

    async def finish(
        self,
        record: Callable[[T, Change, str], None],
        settled: Callable[[], None],
        record_done: Callable[[Sequence[T]], None] | None,
    ) -> None:
        try:
            outcomes: Sequence[ProviderError | None] = await self.task
        except ProviderError as exc:  # the batch as a whole (e.g. the connection was lost)
            outcomes = [exc] * len(self.writes)
        if len(outcomes) != len(self.writes):
            raise ValueError(f"{len(outcomes)} outcomes for a batch of {len(self.writes)}")
        if record_done is not None and not any(outcomes):  # every write made
            record_done([item for item, _, _ in self.writes])
            settled()
            return
        for (item, change, _), error in zip(self.writes, outcomes, strict=True):
            if isinstance(error, NeedsPerson):
                manual = dataclasses.replace(
                    as_change(change),
                    action=Action.MANUAL,
                    instructions=error.instructions,
                    note=str(error),
                )
                record(item, manual, LEFT_TO_PERSON)
            else:
                record(item, change, "done" if error is None else str(error))
        settled()


def as_write(change: Change) -> Write | None:
    action = change.action
    if change.blocked or action is Action.MANUAL or action is Action.REPLACE:
        return None
    if action is Action.CREATE:  # most of an import: first
        return Write("create", desired=change.desired)
    if action is Action.DELETE:
        return Write("delete", live=change.live)
    return Write("update", desired=change.desired, live=change.live)
