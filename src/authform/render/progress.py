"""Progress on stderr: a live line on a terminal, a plain line every 10 s in CI logs.

A CI system kills a job that prints nothing for a while as hung, and a 100,000-user import
runs for the better part of an hour, so in CI a line is printed at least every ``interval``
seconds during every long step (reading the live state, each phase of apply), whether or not
a change completed since the last one. The rate is measured over the recent past, so the
estimate follows a phase that is faster or slower than the last one, and neither rate nor
estimate is shown before there are ``warmup`` seconds of data: an estimate from the first
second of an import is noise ("about 655,653 s left").
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TextIO

RATE_WINDOW = 60.0  # seconds of history the rate is measured over


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if minutes < 10 and seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


class ProgressReporter:
    """Called with (done, total) after each write of an apply; ``waiting`` covers a step with
    no count (reading the live state); ``heartbeat`` keeps the lines coming while nothing
    completes; ``close`` ends a terminal's live line with a newline.

    Progress is there to be seen, never a reason to stop: once its stream cannot be written
    (a log collector gone, ``2>&1 | head`` closing the pipe), the reporter says nothing more
    and the apply goes on (found: the broken pipe stopped an apply halfway, the rest of its
    changes "not reached")."""

    def __init__(
        self,
        stream: TextIO,
        *,
        tty: bool,
        interval: float = 10.0,
        warmup: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.tty = tty
        self.interval = 0.2 if tty else interval
        self.warmup = warmup
        self.clock = clock
        self.started = clock()
        self.last_shown = self.started
        self.samples: deque[tuple[float, int]] = deque()
        self.done = 0
        self.total = 0
        self.step: str | None = None  # a step with no count, e.g. "reading the live state"
        self.step_started = self.started
        self.open_line = False  # a terminal line drawn without its newline yet
        self.silenced = False  # the stream could not be written: nothing more is said

    # ---- apply progress ---------------------------------------------------------------

    def begin(self) -> None:
        """The apply starts now: rates and elapsed times are measured from here."""
        self.started = self.last_shown = self.clock()
        self.samples = deque([(self.started, 0)])

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if not self.samples:
            self.samples.append((self.started, 0))
        self.done, self.total = done, total
        self.samples.append((now, done))
        # Keep one sample older than the window as the baseline the rate is measured from.
        while len(self.samples) > 2 and now - self.samples[1][0] >= RATE_WINDOW:
            self.samples.popleft()
        if done >= total or now - self.last_shown >= self.interval:
            self._show(now, final=done >= total)

    def rate(self, now: float) -> float | None:
        """Changes per second over about the last minute, once there are ``warmup`` seconds
        of data; None before."""
        if not self.samples or now - self.started < self.warmup:
            return None
        since, done_then = self.samples[0]
        return (self.done - done_then) / (now - since) if now > since else None

    def apply_line(self, now: float) -> str:
        text = f"apply: {self.done:,} of {self.total:,} changes"
        if self.done >= self.total:
            return text + f", done in {format_duration(now - self.started)}"
        rate = self.rate(now)
        if rate is None:
            return text + " (measuring the rate)"
        elapsed = format_duration(now - self.started)
        if rate <= 0:
            quiet = "none completed yet" if self.done == 0 else "none completed lately"
            return text + f" ({quiet}; {elapsed} elapsed)"
        left = (self.total - self.done) / rate
        return text + f" ({rate:,.1f}/s, about {format_duration(left)} left; {elapsed} elapsed)"

    # ---- steps with no count and keeping CI logs alive ---------------------------------

    @asynccontextmanager
    async def waiting(self, step: str) -> AsyncIterator[None]:
        """Around a step that reports no counts: in CI, say every ``interval`` it goes on."""
        self.step, self.step_started = step, self.clock()
        self.last_shown = self.step_started
        try:
            async with self.heartbeat():
                yield
        finally:
            self.step = None

    @asynccontextmanager
    async def heartbeat(self, every: float = 1.0) -> AsyncIterator[None]:
        """While inside, ``tick`` runs every ``every`` seconds."""

        async def beat() -> None:
            while True:
                await asyncio.sleep(every)
                self.tick()

        task = asyncio.create_task(beat())
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def tick(self) -> None:
        """Print a line if none was printed for ``interval`` seconds (CI logs only: a
        terminal's line is redrawn as changes complete)."""
        now = self.clock()
        if self.tty or now - self.last_shown < self.interval:
            return
        if self.step is not None:
            self.last_shown = now
            self._write(f"{self.step}… ({format_duration(now - self.step_started)})\n")
        elif self.samples:
            self._show(now, final=False)

    def close(self) -> None:
        """End the terminal's live line, so what follows starts on a line of its own."""
        if self.open_line:
            self._write("\n")
            self.open_line = False

    def _show(self, now: float, *, final: bool) -> None:
        self.last_shown = now
        text = self.apply_line(now)
        if self.tty:
            self._write("\r" + text.ljust(78))
            self.open_line = True
            if final:
                self.close()
        else:
            self._write(text + "\n")

    def _write(self, text: str) -> None:
        if self.silenced:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # ValueError: the stream was closed
            self.silenced = True
