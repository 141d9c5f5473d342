"""Benchmark: what screening every source record (Clerk id shapes, the character rule of
``authform.text_policy``) costs per record, against reading the record from the CSV export.

Reads a synthetic export once into memory, then times the reader and ``screen_record`` over
the same records, best of ``--repeat`` runs (the machine may be shared).

    .venv/bin/python bench/import_screening.py [--users N] [--repeat R]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from authform.sources import read_clerk_csv
from authform.sources.screening import screen_record
from authform.sources.synthetic import write_synthetic_export


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        export = write_synthetic_export(Path(folder), users=args.users)
        read_best = screen_best = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            records = list(read_clerk_csv(export.users_csv))
            read_best = min(read_best, time.perf_counter() - started)
            started = time.perf_counter()
            for record in records:
                screen_record(record)
            screen_best = min(screen_best, time.perf_counter() - started)
    per_read = read_best / args.users * 1e6
    per_screen = screen_best / args.users * 1e6
    print(f"users: {args.users}")
    print(f"read CSV:  {per_read:.1f} µs per record (best of {args.repeat})")
    print(f"screen:    {per_screen:.1f} µs per record ({per_screen / per_read:.0%} of reading)")


if __name__ == "__main__":
    main()
