"""A source's stream cut into the runs the importer judges at once.

A reader with a fast lane yields clean blocks (``CleanUsers``, ``CleanMemberships``) among
single records; the importer takes each block alone, and the records between blocks in
batches (each export-wide question is then one lookup per batch).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

B = TypeVar("B")


def runs(entries: Iterable[Any], block_type: type[B], batch_size: int) -> Iterator[list[Any] | B]:
    """``entries`` as runs: each block of ``block_type`` alone, and the records between
    blocks in batches of at most ``batch_size``, in order."""
    batch: list[Any] = []
    for entry in entries:
        if type(entry) is block_type:
            if batch:
                yield batch
                batch = []
            yield entry
            continue
        batch.append(entry)
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch
