"""The tracemalloc peak of one piece of async work: what the streaming reads are held to."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def traced_peak(work: Callable[[], Awaitable[T]]) -> tuple[T, int]:
    """``work()``'s result and the peak of memory allocated while it ran, in bytes (the
    garbage of what ran before is collected first, so it does not count)."""
    gc.collect()
    tracemalloc.start()
    try:
        result = await work()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak
