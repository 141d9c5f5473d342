"""The worker threads a command's blocking work runs in (``asyncio.to_thread``), tracked so
that a session stops them before it closes what they use.

Ctrl-C cancels the command's task at an ``await``, but a thread cannot be cancelled: the
parse of an export, a page of a database read, a batch's commit go on running. Closing a
SQLite connection under a statement another thread is running crashes the process
(SIGSEGV: exit -11 instead of 130, seen in two of six Ctrl-Cs during a 100,000-user
KavachOS plan). So a session first asks its SQLite connections to stop what they run
(``Connection.interrupt``: the running statement fails with "interrupted", and the thread's
work with it), waits until no worker runs, and only then closes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

# How often a waiting session interrupts its connections again: an interrupt stops only the
# statement running at that moment, and a worker between two statements is doing Python.
INTERRUPT_EVERY = 0.02


class TrackedExecutor(ThreadPoolExecutor):
    """A thread pool that knows whether any of its work is still running."""

    def __init__(self) -> None:
        super().__init__(thread_name_prefix="authform-worker")
        self._lock = threading.Lock()
        self._unfinished: set[Future[Any]] = set()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        with self._lock:
            self._unfinished.add(future)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, future: Future[Any]) -> None:
        with self._lock:
            self._unfinished.discard(future)

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._unfinished)


def track_worker_threads() -> TrackedExecutor:
    """Make the running loop's default executor (``asyncio.to_thread``'s) a tracked one."""
    loop = asyncio.get_running_loop()
    executor = TrackedExecutor()
    loop.set_default_executor(executor)
    return executor


async def workers_stopped(
    executor: TrackedExecutor, connections: Callable[[], Iterable[sqlite3.Connection]]
) -> None:
    """Return once no worker of ``executor`` runs, interrupting the statements of
    ``connections`` (those still open) until then. Nothing waits when nothing runs, which
    is every command's normal end."""
    while executor.busy:
        for connection in connections():
            connection.interrupt()
        await asyncio.sleep(INTERRUPT_EVERY)
