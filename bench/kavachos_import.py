"""Benchmark: a Clerk import into KavachOS's database, PostgreSQL and SQLite.

Imports a synthetic export (default 100,000 users with bcrypt digests, 10,000 organizations,
200,000 memberships) with `authform apply`, run as its own process exactly as a user runs it,
then times a no-change `authform plan`. Prints, per database: wall time, rows written per
second, the importer's peak RSS, and the no-change plan's wall time and peak RSS. Goals:
PostgreSQL import under 60 s, peak memory under 300 MB, no-change plan under 15 s.

The PostgreSQL server is started the way the tests start it (tests/kavachos/databases.py:
Debian's postgresql, on 127.0.0.1 and a free port, stopped at the end), but with fsync on, as
a real server runs. Both databases commit durably, so each transaction waits for the disk.

    .venv/bin/python bench/kavachos_import.py [--users N] [--organizations N] [--only sqlite]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from kavachos.databases import (  # noqa: E402 - the tests' database helpers
    KavachDatabase,
    postgres_bindir,
    postgres_database,
    running_postgres,
    sqlite_database,
    synthetic_manifest,
)

TABLES = (
    "kavach_users",
    "kavach_email_accounts",
    "kavach_organizations",
    "kavach_org_roles",
    "kavach_org_members",
)


def run_authform(
    args: list[str], db: KavachDatabase, cwd: Path
) -> tuple[int, float, float, float, str]:
    """Exit code, wall seconds, peak RSS in MB, CPU seconds (user + system) and the last
    output lines of one command. CPU time is the figure that does not depend on what else
    the machine is running."""
    env = {**os.environ, "DATABASE_URL": db.url, "NO_COLOR": "1"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "authform.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    output = process.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    tail = "\n".join(output.strip().splitlines()[-3:])
    return code, wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, tail


def bench(label: str, db: KavachDatabase, manifest: Path, folder: Path) -> None:
    apply = ["apply", "--auto-approve", str(manifest)]
    code, wall, rss, cpu, tail = run_authform(apply, db, folder)
    if code != 0:
        raise SystemExit(f"{label}: apply exited {code}:\n{tail}")
    rows = sum(db.count(table) for table in TABLES)
    print(
        f"{label}: import {wall:7.1f} s wall ({cpu:.1f} s CPU), {rows:,} rows, "
        f"{rows / wall:,.0f} rows/s, peak RSS {rss:,.0f} MB"
    )
    plan = ["plan", "--detailed-exitcode", str(manifest)]
    code, wall, rss, cpu, tail = run_authform(plan, db, folder)
    if code != 0:
        raise SystemExit(f"{label}: the plan after the import is not empty (exit {code}):\n{tail}")
    print(f"{label}: no-change plan {wall:.1f} s wall ({cpu:.1f} s CPU), peak RSS {rss:,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--organizations", type=int, default=10_000)
    parser.add_argument("--memberships-per-user", type=int, default=2)
    parser.add_argument("--only", choices=("postgres", "sqlite"))
    args = parser.parse_args()
    print(
        f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
        f"on {os.cpu_count()} CPUs"
    )

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        manifest = synthetic_manifest(
            folder, args.users, args.organizations, args.memberships_per_user
        )
        print(
            f"export: {args.users:,} users (bcrypt digests), {args.organizations:,} "
            f"organizations, {args.users * args.memberships_per_user:,} memberships"
        )
        if args.only in (None, "postgres"):
            bindir = postgres_bindir()
            if bindir is None:
                raise SystemExit("no PostgreSQL server binaries (initdb, pg_ctl) found")
            with running_postgres(bindir, fsync=True) as server:
                db = postgres_database(server, "bench", "postgres")
                bench("PostgreSQL", db, manifest, folder)
        if args.only in (None, "sqlite"):
            (folder / "sqlite").mkdir()
            bench("SQLite", sqlite_database(folder / "sqlite"), manifest, folder)


if __name__ == "__main__":
    main()
