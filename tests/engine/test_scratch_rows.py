"""``ScratchDatabase.insert_rows`` writes many rows to a statement; every row must land, in
order, whatever the count and the width (a statement's parameters are limited)."""

from __future__ import annotations

import pytest

from authform.engine.tempspace import ROWS_PER_INSERT, ScratchDatabase


@pytest.mark.parametrize("width", [1, 3, 12])
@pytest.mark.parametrize(
    "count", [0, 1, ROWS_PER_INSERT - 1, ROWS_PER_INSERT, 2 * ROWS_PER_INSERT + 7]
)
def test_every_row_lands_in_order(width, count):
    columns = ", ".join(f"c{n}" for n in range(width))
    scratch = ScratchDatabase(
        "authform-test-", f"CREATE TABLE t (seq INTEGER PRIMARY KEY, {columns});"
    )
    try:
        rows = [(n, *(f"{n}.{c}" for c in range(width))) for n in range(count)]
        scratch.insert_rows(f"t (seq, {columns})", rows)
        assert scratch.db.execute("SELECT * FROM t ORDER BY seq").fetchall() == rows
    finally:
        scratch.close()
