"""Progress output (issue 9, finding 7), with an injected clock: a line at least every 10 s in
every step in CI, a rate and an estimate only once there are a few seconds of data, and a
terminal line that always ends with a newline."""

from __future__ import annotations

import asyncio
import io
import re

from authform.render.progress import ProgressReporter, format_duration


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def reporter(tty: bool = False) -> tuple[ProgressReporter, io.StringIO, Clock]:
    stream, clock = io.StringIO(), Clock()
    progress = ProgressReporter(stream, tty=tty, clock=clock)
    progress.begin()
    return progress, stream, clock


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_no_rate_or_estimate_before_a_few_seconds_of_data():
    progress, stream, clock = reporter(tty=True)  # a terminal redraws at once
    clock.now += 0.5
    progress(1, 100_000)  # no estimate from the first moments ("655,653 s left")
    assert stream.getvalue() == "\r" + "apply: 1 of 100,000 changes (measuring the rate)".ljust(78)
    clock.now += 2.0
    progress(40, 100_000)
    assert "left" not in stream.getvalue()
    clock.now += 1.5
    progress(80, 100_000)  # 4 s of data: 20/s, 99,920 left
    assert "(20.0/s, about 1 h 23 min left; 4 s elapsed)" in stream.getvalue()


def test_in_ci_one_line_per_10_s_with_a_real_rate_and_estimate():
    progress, stream, clock = reporter()
    for _ in range(25):
        clock.now += 1
        progress(progress.done + 10, 1000)
    # 10 changes a second: 900 left after 10 s, 750 after 25 s... one line per 10 s
    assert lines(stream) == [
        "apply: 100 of 1,000 changes (10.0/s, about 1 min 30 s left; 10 s elapsed)",
        "apply: 200 of 1,000 changes (10.0/s, about 1 min 20 s left; 20 s elapsed)",
    ]


def test_a_line_every_10_s_even_when_nothing_completes_in_every_step():
    progress, stream, clock = reporter()
    # reading the live state: no counts, still a line every 10 s
    progress.step, progress.step_started = "reading the live state from workos", clock.now
    for _ in range(35):
        clock.now += 1
        progress.tick()
    reading = lines(stream)
    assert reading == [
        "reading the live state from workos… (10 s)",
        "reading the live state from workos… (20 s)",
        "reading the live state from workos… (30 s)",
    ]
    # an apply phase stalled on a slow write (or a long Retry-After): still a line every 10 s
    progress.step = None
    progress.begin()
    clock.now += 2
    progress(5, 50)
    for _ in range(25):
        clock.now += 1
        progress.tick()
    applying = lines(stream)[len(reading) :]
    assert len(applying) == 2, applying
    assert all(re.match(r"apply: 5 of 50 changes \(", line) for line in applying)
    assert "about" in applying[-1]


def test_ticks_are_driven_by_the_heartbeat_while_waiting():
    stream = io.StringIO()
    progress = ProgressReporter(stream, tty=False, interval=0.05)

    async def slow_read() -> None:
        async with progress.waiting("reading the live state from workos"):
            await asyncio.sleep(0.3)

    async def main() -> None:
        # a 10 ms heartbeat for the test; the CLI's is 1 s against a 10 s interval
        original = progress.heartbeat

        def fast(every: float = 1.0):  # type: ignore[no-untyped-def]
            return original(every=0.01)

        progress.heartbeat = fast  # type: ignore[method-assign]
        await slow_read()

    asyncio.run(main())
    assert lines(stream), "no line while waiting"
    assert all(line.startswith("reading the live state from workos… (") for line in lines(stream))


def test_the_terminal_line_is_redrawn_and_always_ends_with_a_newline():
    progress, stream, clock = reporter(tty=True)
    clock.now += 1
    progress(1, 10)
    clock.now += 1
    progress(2, 10)
    assert stream.getvalue().startswith("\rapply: 1 of 10")
    assert not stream.getvalue().endswith("\n")
    progress.close()  # apply stopped (a failure, Ctrl-C) before the last change
    assert stream.getvalue().endswith("\n")
    progress.close()
    assert not stream.getvalue().endswith("\n\n")  # closing twice adds nothing

    finished, stream, clock = reporter(tty=True)
    clock.now += 1
    finished(1, 1)
    assert stream.getvalue().endswith("\n") and "done in 1 s" in stream.getvalue()


def test_durations_read_like_a_person_wrote_them():
    assert format_duration(0.2) == "0 s"
    assert format_duration(59) == "59 s"
    assert format_duration(88) == "1 min 28 s"
    assert format_duration(1800) == "30 min"
    assert format_duration(2 * 3600 + 5 * 60 + 7) == "2 h 5 min"
