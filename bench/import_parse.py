"""Benchmark: CPU seconds of the import's parse phase (reading, screening and judging a Clerk
export into the state index, what ``plan`` reports as ``parse``), and its peak memory.

For each size, a synthetic export of N users, N/20 organizations and 2 memberships per user
is written (as ``bench/scale_cli.py`` writes it), then read by ``load_import_set`` in a
process of its own: best of ``--repeat`` runs in CPU seconds (the machine may be shared, and
CPU time is what other processes disturb least), per 100,000 users, and the process's peak
RSS (``os.wait4``). The goal of issue 12 is 4.6 s per 100,000 users.

    .venv/bin/python bench/import_parse.py [--sizes 10000,100000] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from authform.sources.synthetic import write_synthetic_export


def parse_once(folder: Path, repeat: int) -> None:
    """In this process: read the export in ``folder`` ``repeat`` times; print the best CPU time.
    What is imported by now is frozen out of the collector's view, as ``authform``'s entry
    point does (``cli.main``), so the figure is the one ``plan`` spends."""
    gc.freeze()
    from authform.engine.index import StateIndex
    from authform.importing.source import load_import_set
    from authform.manifest.models import Users

    users = Users.model_validate(
        {
            "source": {
                "kind": "clerk-csv",
                "path": str(folder / "users.csv"),
                "organizations": str(folder / "organizations.json"),
                "memberships": str(folder / "memberships.json"),
            },
            "role_map": {"org:admin": "admin", "org:member": "member"},
        }
    )
    best = float("inf")
    for _ in range(repeat):
        index = StateIndex()
        started = time.process_time()
        counts = load_import_set(users, "workos", index).counts
        best = min(best, time.process_time() - started)
        index.close()
    print(f"{best:.3f} {counts.users_imported} {counts.orgs} {counts.memberships}")


def measure(size: int, folder: Path, repeat: int) -> None:
    if not (folder / "users.csv").exists():
        write_synthetic_export(
            folder, users=size, organizations=max(size // 20, 1), memberships_per_user=2
        )
    process = subprocess.Popen(
        [sys.executable, __file__, "--one", str(folder), "--repeat", str(repeat)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the parse of {size} users failed")
    cpu, users, orgs, memberships = output.split()
    per_100k = float(cpu) / size * 100_000
    print(
        f"{size:>9,} users ({int(users):,} users, {int(orgs):,} organizations, "
        f"{int(memberships):,} memberships imported): parse cpu {float(cpu):7.2f} s, "
        f"{per_100k:6.2f} s per 100,000 users, peak RSS {usage.ru_maxrss // 1024} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write (or reuse) the exports here")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        parse_once(args.one, args.repeat)
        return
    print(f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as scratch:
        base = args.keep or Path(scratch)
        for size in (int(s) for s in args.sizes.split(",")):
            measure(size, base / f"n{size}", args.repeat)


if __name__ == "__main__":
    main()
