"""``ScratchDatabase.insert_rows`` (and ``insert_columns``) write many rows to a statement;
every row must land, in order, whatever the count and the width (a statement's parameters
are limited)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from authform.engine.codec import dump_state
from authform.engine.index import BATCH, StateIndex
from authform.engine.tempspace import MAX_PARAMETERS, ROWS_PER_INSERT, ScratchDatabase
from authform.resources import Kind

COUNTS = [0, 1, ROWS_PER_INSERT - 1, ROWS_PER_INSERT, 2 * ROWS_PER_INSERT + 7]


@contextmanager
def _table(width: int, count: int) -> Iterator[tuple[ScratchDatabase, str, list[tuple]]]:
    """A scratch table of ``width`` text columns after its ``seq``, the ``INSERT INTO`` target
    naming them, and ``count`` rows for it."""
    columns = ", ".join(f"c{n}" for n in range(width))
    scratch = ScratchDatabase(
        "authform-test-", f"CREATE TABLE t (seq INTEGER PRIMARY KEY, {columns});"
    )
    try:
        rows = [(n, *(f"{n}.{c}" for c in range(width))) for n in range(count)]
        yield scratch, f"t (seq, {columns})", rows
    finally:
        scratch.close()


@pytest.mark.parametrize("width", [1, 3, 12])
@pytest.mark.parametrize("count", COUNTS)
def test_every_row_lands_in_order(width, count):
    with _table(width, count) as (scratch, into, rows):
        scratch.insert_rows(into, rows)
        assert scratch.db.execute("SELECT * FROM t ORDER BY seq").fetchall() == rows


@pytest.mark.parametrize("width", [1, 3, 12])
@pytest.mark.parametrize("count", COUNTS)
def test_insert_columns_writes_the_whole_statements_and_says_how_many(width, count):
    with _table(width, count) as (scratch, into, rows):
        written = scratch.insert_columns(into, list(zip(*rows, strict=True)) or [[]])
        per = min(ROWS_PER_INSERT, MAX_PARAMETERS // (width + 1))
        assert written == count - count % per
        assert scratch.db.execute("SELECT * FROM t ORDER BY seq").fetchall() == rows[:written]


@pytest.mark.parametrize(
    "block", [1, ROWS_PER_INSERT - 1, ROWS_PER_INSERT, 3 * ROWS_PER_INSERT + 1]
)
def test_a_writer_given_columns_writes_the_rows_it_writes_one_by_one(block):
    """``DesiredWriter.extend_rows`` (blocks, written from their columns, their last rows
    left for later) among ``append_state`` (single rows): the same table as every item
    appended one by one, whatever the block's size and however the batches fall."""

    def items(start: int, count: int) -> list[tuple[str, str, tuple[object, ...]]]:
        return [
            (f"user_{n}", f'{{"n":{n}}}', ("user", f"user_{n}", {"n": n}, None, {}, {}, {}))
            for n in range(start, start + count)
        ]

    def table(index: StateIndex) -> list[tuple[object, ...]]:
        return index.db.execute("SELECT * FROM desired ORDER BY seq").fetchall()

    plan = [("block", block), ("one", 3), ("block", block), ("block", BATCH + 1), ("one", 1)]
    one_by_one, by_blocks = StateIndex(), StateIndex()
    try:
        single, mixed = one_by_one.desired_writer(2), by_blocks.desired_writer(2)
        start = 0
        for way, count in plan:
            made = items(start, count)
            start += count
            for key, spec, state in made:
                single.append_state(Kind.USER, key, spec, state)
            if way == "one":
                for key, spec, state in made:
                    mixed.append_state(Kind.USER, key, spec, state)
            else:
                mixed.extend_rows(
                    Kind.USER,
                    [key for key, _, _ in made],
                    [spec for _, spec, _ in made],
                    [dump_state(state) for _, _, state in made],
                    [False] * count,
                )
        assert mixed.close() == single.close()
        assert table(by_blocks) == table(one_by_one)
        assert len(table(by_blocks)) == start
    finally:
        one_by_one.close()
        by_blocks.close()
