"""The cyclic garbage collector's first generation, enlarged around bulk work that makes no
cycles.

Why: bulk work holds a block of new containers at a time (decoded records of an export, a
page of database rows), and at the default threshold (a collection every 700 new
containers) each of them is walked several times as it ages through the generations, and
every full collection walks all that lives: about a tenth of a 100,000-user parse, and of a
KavachOS read of that size. Work whose objects form no cycles frees them by reference
counting alone, and what a rare cycle leaves is still collected within the enlarged first
generation, so memory stays flat. Work that makes cycles (HTTP clients) keeps the default:
at this size its cyclic garbage piled up (see ``cli.main``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# The first generation's size while bulk work runs (the default is 700).
BULK_FIRST_GENERATION = 50_000


@contextmanager
def collected_rarely(first_generation: int = BULK_FIRST_GENERATION) -> Iterator[None]:
    """The collector's first generation set to ``first_generation`` for the block, the
    thresholds restored after it, however it ends."""
    thresholds = gc.get_threshold()
    gc.set_threshold(first_generation, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
