"""Apply progress: a live line on a terminal, periodic plain lines in CI logs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO


class ProgressReporter:
    """Called with (done, total) after each write; prints rate and time left.

    On a terminal one line is redrawn in place (at most every 0.2 s); elsewhere a full line
    is printed every ``interval`` seconds so CI logs show the import is alive without
    drowning in output.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        tty: bool,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.tty = tty
        self.interval = 0.2 if tty else interval
        self.clock = clock
        self.started = clock()
        self.last_shown = self.started
        self.finished = False

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        last = done >= total
        if not last and now - self.last_shown < self.interval:
            return
        self.last_shown = now
        elapsed = max(now - self.started, 1e-9)
        rate = done / elapsed
        left = (total - done) / rate if rate > 0 else 0.0
        text = f"apply: {done:,} of {total:,} changes ({rate:,.0f}/s, about {left:,.0f} s left)"
        if self.tty:
            self.stream.write("\r" + text.ljust(78) + ("\n" if last else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
