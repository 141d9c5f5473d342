"""Readers must stream: peak memory stays flat however long the export is.

These check correctness of streaming (nothing accumulates), not speed.
"""

import json
import tracemalloc

from authform.sources import SourceUser, read_clerk_csv, read_clerk_json
from authform.sources.clerk_csv import COLUMNS

ROWS = 50_000
JSON_ITEMS = 20_000  # ~7 MB of pretty-printed JSON: already beyond the bound
PEAK_LIMIT = 5 * 1024 * 1024
DIGEST = "$2b$10$rCUC3m0NZNiOTcIgm15yout/fI5HqM0avbC9bxZ1cEP2lWBEfd1c2"


def _peak_while_counting(records):
    tracemalloc.start()
    try:
        count = sum(1 for record in records if isinstance(record, SourceUser))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return count, peak


def test_csv_reader_memory_stays_flat(tmp_path):
    path = tmp_path / "users.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(COLUMNS) + "\n")
        for n in range(ROWS):
            email = f"user{n}@example.com"
            out.write(
                f"user_{n:024},First{n},Last{n},,{email},,{email}|alt{n}@example.com,,,,,"
                f"{DIGEST},bcrypt\n"
            )
    assert path.stat().st_size > PEAK_LIMIT  # the file alone would not fit the bound
    count, peak = _peak_while_counting(read_clerk_csv(path))
    assert count == ROWS
    assert peak < PEAK_LIMIT, f"peak {peak} bytes"


def test_json_reader_memory_stays_flat(tmp_path):
    path = tmp_path / "users.json"
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for n in range(JSON_ITEMS):
            user = {
                "id": f"user_{n:024}",
                "first_name": f"First{n}",
                "last_name": "Last",
                "email_addresses": f"user{n}@example.com",
                "password_digest": DIGEST,
                "password_hasher": "bcrypt",
                "public_metadata": {"plan": "pro"},
            }
            out.write(("," if n else "") + json.dumps(user, indent=2) + "\n")
        out.write("]\n")
    assert path.stat().st_size > PEAK_LIMIT
    count, peak = _peak_while_counting(read_clerk_json(path))
    assert count == JSON_ITEMS
    assert peak < PEAK_LIMIT, f"peak {peak} bytes"
