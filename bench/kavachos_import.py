"""Benchmark: a Clerk import into KavachOS's database, PostgreSQL and SQLite.

Imports a synthetic export (default 100,000 users with bcrypt digests, 10,000 organizations,
200,000 memberships) with `authform apply`, run as its own process exactly as a user runs it,
then times a no-change `authform plan`. Prints, per database: wall time, rows written per
second, the importer's peak RSS, and the no-change plan's wall time and peak RSS, each with
the CPU time (user + system) of the authform process, the figure that does not depend on what
else the machine runs. Goals: PostgreSQL import under 60 s, peak memory under 300 MB,
no-change plan under 15 s.

``--code REF`` (repeatable) measures the authform of a git commit instead of the working tree
(its ``src/`` exported to a temporary folder, compiled to bytecode as an install is, and put
first on PYTHONPATH), each on a fresh
database, and prints the ratio of every figure to the first one: a before/after comparison
measured in one run, under the same machine load.

The PostgreSQL server is started the way the tests start it (tests/kavachos/databases.py:
Debian's postgresql, on 127.0.0.1 and a free port, stopped at the end), but with fsync on, as
a real server runs. Both databases commit durably, so each transaction waits for the disk.

    .venv/bin/python bench/kavachos_import.py [--users N] [--organizations N] [--only sqlite]
        [--code 6912ebe --code HEAD]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from code_export import export_code

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


@dataclass(frozen=True)
class Run:
    """One authform process: exit code, wall seconds, peak RSS (MB), CPU seconds, output."""

    code: int
    wall: float
    rss: float
    cpu: float
    tail: str


@dataclass(frozen=True)
class Figures:
    rows: int
    apply: Run
    plan: Run

    def row(self, label: str) -> str:
        return (
            f"{label:<24} {self.apply.wall:8.1f} {self.apply.cpu:8.1f} "
            f"{self.rows / self.apply.wall:9,.0f} {self.apply.rss:7,.0f} "
            f"{self.plan.wall:8.1f} {self.plan.cpu:8.1f} {self.plan.rss:7,.0f}"
        )

    def ratio(self, label: str, before: Figures) -> str:
        def r(new: float, old: float) -> str:
            return f"{old / new:7.2f}x" if new else "      -"

        return (
            f"{label:<24} {r(self.apply.wall, before.apply.wall)} "
            f"{r(self.apply.cpu, before.apply.cpu)} {'':9} "
            f"{r(self.apply.rss, before.apply.rss)} {r(self.plan.wall, before.plan.wall)} "
            f"{r(self.plan.cpu, before.plan.cpu)} {r(self.plan.rss, before.plan.rss)}"
        )


HEADER = (
    f"{'':<24} {'apply s':>8} {'CPU s':>8} {'rows/s':>9} {'RSS MB':>7} "
    f"{'plan s':>8} {'CPU s':>8} {'RSS MB':>7}"
)


def run_authform(args: list[str], db: KavachDatabase, cwd: Path, src: Path | None) -> Run:
    """One command as its own process. CPU time is the figure that does not depend on what
    else the machine is running."""
    env = {**os.environ, "DATABASE_URL": db.url, "NO_COLOR": "1"}
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")]).rstrip(":")
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
    return Run(code, wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, tail)


def bench(label: str, db: KavachDatabase, manifest: Path, src: Path | None) -> Figures:
    folder = manifest.parent
    apply = run_authform(["apply", "--auto-approve", str(manifest)], db, folder, src)
    if apply.code != 0:
        raise SystemExit(f"{label}: apply exited {apply.code}:\n{apply.tail}")
    rows = sum(db.count(table) for table in TABLES)
    plan = run_authform(["plan", "--detailed-exitcode", str(manifest)], db, folder, src)
    if plan.code != 0:
        raise SystemExit(
            f"{label}: the plan after the import is not empty (exit {plan.code}):\n{plan.tail}"
        )
    figures = Figures(rows, apply, plan)
    print(figures.row(label), flush=True)
    return figures


def _load() -> str:
    """The machine's load average (1, 5, 15 minutes): what the wall times shared the CPUs
    with."""
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--organizations", type=int, default=10_000)
    parser.add_argument("--memberships-per-user", type=int, default=2)
    parser.add_argument("--only", choices=("postgres", "sqlite"))
    parser.add_argument(
        "--code",
        action="append",
        default=[],
        metavar="REF",
        help="measure this commit's authform (repeat to compare; default: the working tree)",
    )
    args = parser.parse_args()
    print(f"load average before: {_load()} on {os.cpu_count()} CPUs")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        codes: list[tuple[str, Path | None]] = [
            (ref, export_code(ref, folder)) for ref in args.code
        ] or [("working tree", None)]
        manifest = synthetic_manifest(
            folder, args.users, args.organizations, args.memberships_per_user
        )
        print(
            f"export: {args.users:,} users (bcrypt digests), {args.organizations:,} "
            f"organizations, {args.users * args.memberships_per_user:,} memberships"
        )
        print(HEADER)
        results: list[tuple[str, Figures]] = []
        if args.only in (None, "postgres"):
            bindir = postgres_bindir()
            if bindir is None:
                raise SystemExit("no PostgreSQL server binaries (initdb, pg_ctl) found")
            with running_postgres(bindir, fsync=True) as server:
                for n, (ref, src) in enumerate(codes):
                    db = postgres_database(server, f"bench{n}", "postgres")
                    results.append(
                        (f"PostgreSQL {ref}", bench(f"PostgreSQL {ref}", db, manifest, src))
                    )
        if args.only in (None, "sqlite"):
            for n, (ref, src) in enumerate(codes):
                (folder / f"sqlite{n}").mkdir()
                db = sqlite_database(folder / f"sqlite{n}")
                results.append((f"SQLite {ref}", bench(f"SQLite {ref}", db, manifest, src)))
        print(f"load average after: {_load()}")
        if len(codes) > 1:
            print(f"\nspeed-up over {codes[0][0]} (old / new; above 1 is better)")
            for n in range(0, len(results), len(codes)):
                first = results[n][1]
                for label, figures in results[n + 1 : n + len(codes)]:
                    print(figures.ratio(label, first))


if __name__ == "__main__":
    main()
