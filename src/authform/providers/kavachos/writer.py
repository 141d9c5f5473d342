"""Group commit: the engine's concurrent single changes become batched transactions.

The engine calls ``create``/``update``/``delete`` once per change, from many workers at once.
Each call hands its rows here as a ``Change`` and waits; whatever has gathered by the time the
database is free is written in one transaction (each statement once, with ``executemany``).
A change's rows are all-or-nothing: a user, its password row and its OAuth links commit
together, so a run killed at any instant leaves whole users or none, and the rerun's plan
finds exactly what is missing. When a row of a batch is refused, the batch is split until the
error lands on the change that caused it, and the others still commit. The engine's bulk path
(``KavachOSProvider.write_batch``) hands in thousands of changes at once through ``commit``.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from authform.providers.kavachos.database import Database, DatabaseError, RowError

# One SQL text of ``statements``; a transaction runs them in that module's ``ORDER``.
Statement = str


@dataclass
class Change:
    """The writes of one engine change: (statement, parameters) pairs, in order."""

    writes: list[tuple[Statement, tuple[Any, ...]]] = field(default_factory=list)

    def add(self, statement: Statement, params: Sequence[Any]) -> None:
        self.writes.append((statement, tuple(params)))


MAX_BATCH = 2000


class GroupCommitter:
    def __init__(self, db: Database, order: Sequence[Statement]) -> None:
        self._db = db
        self._rank = {sql: index for index, sql in enumerate(order)}
        self._pending: list[tuple[Change, asyncio.Future[None]]] = []
        self._drainer: asyncio.Task[None] | None = None
        self.transactions = 0

    async def submit(self, change: Change) -> None:
        """Returns once ``change`` is committed; raises ``DatabaseError`` if it was not."""
        self._check_order([change])
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((change, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        await future

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # let every worker that is ready hand in its change first
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            outcomes = await asyncio.to_thread(self.commit, [change for change, _ in batch])
            for (_, future), error in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if error is None:
                    future.set_result(None)
                else:
                    future.set_exception(error)

    def commit(self, changes: Sequence[Change]) -> list[DatabaseError | None]:
        """Commit ``changes`` (blocking): one transaction when every row fits. When a row
        does not (a constraint, a value of the wrong type), the batch is halved until the
        changes that cannot commit stand alone, each failing with its own error, and every
        other change still commits: a few dozen transactions for one bad row in thousands.
        Any other failure (the connection, a lock) fails the whole batch at once."""
        self._check_order(changes)
        if not any(change.writes for change in changes):
            return [None] * len(changes)
        try:
            self._db.run_batch(self._statements(changes))
        except RowError as exc:
            if len(changes) == 1:
                return [exc]
            half = len(changes) // 2
            return self.commit(changes[:half]) + self.commit(changes[half:])
        except DatabaseError as exc:
            return [exc] * len(changes)
        self.transactions += 1
        return [None] * len(changes)

    def _check_order(self, changes: Sequence[Change]) -> None:
        for change in changes:
            for sql, _ in change.writes:
                if sql not in self._rank:
                    raise AssertionError(f"statement not in the write order: {sql}")

    def _statements(self, changes: Sequence[Change]) -> list[tuple[str, list[tuple[Any, ...]]]]:
        grouped: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for change in changes:
            for sql, params in change.writes:
                grouped[sql].append(params)
        return sorted(grouped.items(), key=lambda item: self._rank[item[0]])
