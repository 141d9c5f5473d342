"""How long each phase of a command took, for benchmarks: with ``AUTHFORM_PHASE_TIMES=1``
every phase prints one line on stderr,
``authform phase NAME: SECONDS s (cpu SECONDS s, peak RSS MB)``.

The CPU figure is the process's (all its threads) during the phase: on a machine shared with
other work, wall time measures the machine's load as much as authform. The memory figure is
the process's peak so far, so the phase whose line first shows the command's peak is the one
that reached it. Off by default: the lines are for ``bench/scale_cli.py``, not for people.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

ENVIRONMENT_VARIABLE = "AUTHFORM_PHASE_TIMES"


def enabled() -> bool:
    return os.environ.get(ENVIRONMENT_VARIABLE, "") not in ("", "0")


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Time the enclosed block (it may await) and report it when it ends, also by an error."""
    if not enabled():
        yield
        return
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"authform phase {name}: {elapsed:.3f} s (cpu {cpu:.3f} s, peak RSS {peak_mb:.0f} MB)",
            file=sys.stderr,
        )
