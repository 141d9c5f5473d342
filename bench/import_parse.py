"""Benchmark: CPU seconds of the import's parse phase (reading, screening and judging a Clerk
export into the state index, what ``plan`` reports as ``parse``), and its peak memory.

For each size and shape, a synthetic export is written (as ``bench/scale_cli.py`` writes it),
then read by ``load_import_set`` in a process of its own: best of ``--repeat`` runs in CPU
seconds (the machine may be shared, and CPU time is what other processes disturb least), per
100,000 users, and the process's peak RSS (``os.wait4``). The goal of issue 12 is 4.6 s per
100,000 users.

Shapes (``--shape full,users``): ``full`` is N users, N/20 organizations and 2 memberships per
user; ``users`` is N users alone (no organizations nor memberships in the source), the export
issue 12's "parse 4.6 s per 100,000" was measured on.

``--code REF`` (repeatable) measures the authform of a git commit instead of the working tree:
its ``src/`` exported with ``git archive`` into a temporary folder and put first on PYTHONPATH,
one row per code, all under the same machine load. A commit from before the state index
(``load_import_set(users)``, returning the imported resources) is read through that older
signature.

    .venv/bin/python bench/import_parse.py [--sizes 10000,100000] [--shape full,users]
        [--code de5c207 --code HEAD] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from code_export import export_code

SHAPES = ("full", "users")


def parse_once(folder: Path, shape: str, repeat: int) -> None:
    """In this process: read the export in ``folder`` ``repeat`` times; print the best CPU time.
    What is imported by now is frozen out of the collector's view, as ``authform``'s entry
    point does (``cli.main``), so the figure is the one ``plan`` spends."""
    gc.freeze()
    import inspect

    from authform.importing.source import load_import_set
    from authform.manifest.models import Users

    source = {"kind": "clerk-csv", "path": str(folder / "users.csv")}
    if shape == "full":
        source["organizations"] = str(folder / "organizations.json")
        source["memberships"] = str(folder / "memberships.json")
    users = Users.model_validate(
        {"source": source, "role_map": {"org:admin": "admin", "org:member": "member"}}
    )
    # Before the state index, the import was held in memory and returned whole.
    indexed = "index" in inspect.signature(load_import_set).parameters
    best = float("inf")
    for _ in range(repeat):
        if indexed:
            from authform.engine.index import StateIndex

            index = StateIndex()
            started = time.process_time()
            counts = load_import_set(users, "workos", index).counts
            best = min(best, time.process_time() - started)
            index.close()
        else:
            started = time.process_time()
            imported = load_import_set(users)
            best = min(best, time.process_time() - started)
            counts = imported.counts
            del imported
            gc.collect()
    print(f"{best:.3f} {counts.users_imported} {counts.orgs} {counts.memberships}")


@dataclass(frozen=True)
class Measured:
    """One parse process: best CPU seconds, peak RSS (MB), and what it imported."""

    cpu: float
    rss_mb: int
    users: int
    orgs: int
    memberships: int

    def per_100k(self, size: int) -> float:
        return self.cpu / size * 100_000


def write_export(folder: Path, size: int, shape: str) -> None:
    from authform.sources.synthetic import write_synthetic_export

    if (folder / "users.csv").exists():
        return
    if shape == "full":
        write_synthetic_export(
            folder, users=size, organizations=max(size // 20, 1), memberships_per_user=2
        )
    else:
        write_synthetic_export(folder, users=size, organizations=0)


def measure(folder: Path, shape: str, repeat: int, src: Path | None) -> Measured:
    """Parse the export in ``folder`` in a process of its own, with ``src`` first on
    PYTHONPATH when a commit's code is measured."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")]).rstrip(":")
    process = subprocess.Popen(
        [sys.executable, __file__, "--one", str(folder), "--shape", shape]
        + ["--repeat", str(repeat)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the parse of {folder} failed")
    cpu, users, orgs, memberships = output.split()
    return Measured(float(cpu), usage.ru_maxrss // 1024, int(users), int(orgs), int(memberships))


def print_classic(size: int, m: Measured) -> None:
    """The default invocation's line, as it always read."""
    print(
        f"{size:>9,} users ({m.users:,} users, {m.orgs:,} organizations, "
        f"{m.memberships:,} memberships imported): parse cpu {m.cpu:7.2f} s, "
        f"{m.per_100k(size):6.2f} s per 100,000 users, peak RSS {m.rss_mb} MB",
        flush=True,
    )


TABLE_HEADER = (
    f"{'users':>9} {'shape':<6} {'code':<14} {'CPU s':>8} {'per 100k':>9} {'RSS MB':>7}"
    f"  imported (users/orgs/memberships)"
)


def print_row(size: int, shape: str, code: str, m: Measured) -> None:
    print(
        f"{size:>9,} {shape:<6} {code:<14} {m.cpu:8.2f} {m.per_100k(size):9.2f} "
        f"{m.rss_mb:7,}  {m.users:,}/{m.orgs:,}/{m.memberships:,}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--shape", default="full", help="comma-separated: full, users")
    parser.add_argument(
        "--code",
        action="append",
        default=[],
        metavar="REF",
        help="measure this commit's authform (repeat to compare; default: the working tree)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write (or reuse) the exports here")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    shapes = [s for s in args.shape.split(",") if s]
    if unknown := sorted(set(shapes) - set(SHAPES)):
        parser.error(f"unknown --shape {', '.join(unknown)} (choose from {', '.join(SHAPES)})")
    if args.one is not None:
        parse_once(args.one, shapes[0], args.repeat)
        return
    classic = shapes == ["full"] and not args.code
    print(f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as scratch:
        base = args.keep or Path(scratch)
        codes: list[tuple[str, Path | None]] = [
            (ref, export_code(ref, Path(scratch))) for ref in args.code
        ] or [("working tree", None)]
        if not classic:
            print(TABLE_HEADER)
        for size in (int(s) for s in args.sizes.split(",")):
            for shape in shapes:
                # The full shape keeps the folder name it always had, so --keep reuses it.
                folder = base / (f"n{size}" if shape == "full" else f"n{size}-{shape}")
                write_export(folder, size, shape)
                for ref, src in codes:
                    measured = measure(folder, shape, args.repeat, src)
                    if classic:
                        print_classic(size, measured)
                    else:
                        print_row(size, shape, ref, measured)
    if not classic:
        print("load average at the end: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
