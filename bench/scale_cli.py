"""Benchmark: the real CLI at 10,000, 100,000 and 1,000,000 users, memory and time per phase.

Each command runs as its own process (``python -m authform.cli``) on a synthetic Clerk export
of N users, N/20 organizations and 2 memberships per user (1,000,000 users: 50,000
organizations and 2,000,000 memberships; ``--shape users``: users alone), against the WorkOS
emulator in a process of its own. Two targets per size:

- empty: ``plan``, ``plan --out plan.json`` and ``verify`` (which fails: nothing is there);
  at the sizes of ``--apply-sizes``, ``apply plan.json`` and ``apply MANIFEST`` (the
  emulator wiped in between) under WorkOS's rate limits, windows scaled by ``--scale``.
- full: the emulator's database seeded directly through its own backend (not its
  rate-limited API) with everything the export holds; ``plan`` (which must find nothing
  to do) and ``verify`` (which must pass).

Peak RSS is the command's own, exact: ``os.wait4`` returns the resource usage of that one
process (the CLI starts no children; the emulator is not one of them). Wall time per phase
comes from the CLI itself (``AUTHFORM_PHASE_TIMES=1``: parse, read live, diff, write plan,
render plan, read/check saved plan, apply, verify). Apply's fill is the user-management
writes (users and memberships) per second of the apply phase, divided by the emulator's
configured limit.
Plan and verify run with the limits off, so they measure authform, not the waiting.
With ``--json``, the empty target's ``plan`` prints ``--format json`` and both ``verify``
runs print ``--format json`` and write ``--junit``: the streamed outputs are then measured
too (their text, gigabytes at a million users, goes to the log folder).

    .venv/bin/python bench/scale_cli.py --sizes 10000,100000 [--apply-sizes 10000]
        [--apply-modes plan,manifest] [--skip-apply] [--targets empty,full] [--scale 5.5]
        [--shape full|users] [--json] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from bench_manifest import import_manifest
from emulator_process import emulator_process

from authform.emulators.base import SocialConnections
from authform.emulators.store import SqliteStore
from authform.emulators.workos import WorkOSBackend
from authform.sources.synthetic import (
    SYNTHETIC_DIGEST,
    SyntheticExport,
    org_id,
    user_id,
    write_synthetic_export,
)

API_KEY = "sk_test_scale_bench"
PHASE_LINE = re.compile(
    r"^authform phase (?P<name>[^:]+): (?P<seconds>[\d.]+) s \(cpu (?P<cpu>[\d.]+) s", re.M
)
# WorkOS's documented limits (requests, window in seconds), as the emulator enforces them.
WORKOS_LIMITS = {
    "general": (6000, 60.0),
    "user_management_reads": (1000, 10.0),
    "user_management_writes": (500, 10.0),
}
OPEN_LIMIT = (1_000_000, 1.0)  # the client's limiter out of the way when the emulator's is off
PHASES = (
    "parse",
    "read live",
    "diff",
    "compare",
    "write plan",
    "render plan",
    "read saved plan",
    "check seal",
    "check saved plan",
    "apply",
    "verify",
)


@dataclass
class Run:
    """One command at one size: its exit code, peak RSS, wall time and phase times."""

    size: int
    target: str
    command: str
    exit_code: int
    peak_rss_mb: float
    wall_s: float
    phases: dict[str, float] = field(default_factory=dict)
    # CPU seconds per phase (the process's, all threads): on a shared machine the figure
    # to compare between runs, where wall time also measures the other work.
    phase_cpu: dict[str, float] = field(default_factory=dict)
    cpu_s: float = 0.0
    note: str = ""
    # The machine's 1-minute load average when the command ended: wall times on a shared
    # machine are only comparable at similar load.
    load: float = 0.0


def manifest_text(export: SyntheticExport, url: str, limits: dict[str, tuple[int, float]]) -> str:
    reports = export.users_csv.parent.parent / "reports"
    return import_manifest(export, url, limits, reports, role_map=True)


def write_manifest(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "authform.yaml").write_text(text, encoding="utf-8")
    return folder


def run_cli(size: int, target: str, label: str, args: list[str], logs: Path) -> Run:
    """Run ``authform ARGS`` as a process of its own; its exact peak RSS from ``wait4``."""
    env = {
        **os.environ,
        "WORKOS_API_KEY": API_KEY,
        "AUTHFORM_PHASE_TIMES": "1",
        "NO_COLOR": "1",
    }
    stem = re.sub(r"\W+", "-", f"{size}-{target}-{label}")
    out, err = logs / f"{stem}.out", logs / f"{stem}.err"
    started = time.perf_counter()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "authform.cli", *args],
            stdout=stdout,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    text = err.read_text(encoding="utf-8", errors="replace")
    phases: dict[str, float] = {}
    phase_cpu: dict[str, float] = {}
    for match in PHASE_LINE.finditer(text):
        phases[match["name"]] = phases.get(match["name"], 0.0) + float(match["seconds"])
        phase_cpu[match["name"]] = phase_cpu.get(match["name"], 0.0) + float(match["cpu"])
    run = Run(size, target, label, process.returncode, usage.ru_maxrss / 1024, wall, phases)
    run.phase_cpu = phase_cpu
    run.cpu_s = usage.ru_utime + usage.ru_stime
    run.load = os.getloadavg()[0]
    print(
        f"  {label:<24} exit {run.exit_code}  peak RSS {run.peak_rss_mb:7.0f} MB  "
        f"wall {wall:8.1f} s  cpu {run.cpu_s:7.1f} s  load {run.load:4.1f}  "
        + ", ".join(
            f"{name} {seconds:.1f} s (cpu {phase_cpu[name]:.1f})"
            for name, seconds in phases.items()
        ),
        flush=True,
    )
    return run


def admin(url: str, method: str, path: str, body: Any = None) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    answer = httpx.request(method, f"{url}{path}", json=body, headers=headers, timeout=600)
    answer.raise_for_status()


def set_emulator_limits(url: str, limits: dict[str, tuple[int, float]] | None) -> None:
    body = {
        name: None
        if limits is None
        else {"requests": limits[name][0], "per_seconds": limits[name][1]}
        for name in WORKOS_LIMITS
    }
    admin(url, "PUT", "/_emulate/rate_limits", body)


def seed_full_target(db_path: Path, export: SyntheticExport, memberships_per_user: int) -> float:
    """Everything the export holds, written into the emulator's database through its own
    backend (the code its seed file and its API both go through), in large transactions:
    no HTTP, no rate limit. Returns the seconds it took."""
    started = time.perf_counter()
    store = SqliteStore(db_path)
    try:
        backend = WorkOSBackend(
            store, SocialConnections(store), api_key=API_KEY, client_id="client_emulator"
        )
        with store.transaction():
            for slug in ("admin", "member"):
                backend.create_role({"slug": slug, "name": slug.title(), "description": ""})
        organizations: list[str] = []
        with store.transaction():
            for n in range(export.organizations):
                # As the import writes it: Clerk's slug kept in metadata (importing/organizations).
                metadata = {"clerk_slug": f"org-{n}"}
                body = {"name": f"Org {n}", "external_id": org_id(n), "metadata": metadata}
                organizations.append(backend.create_organization(body)["id"])
        batch = 5_000
        for first in range(0, export.users, batch):
            with store.transaction():
                for n in range(first, min(first + batch, export.users)):
                    _seed_user(backend, n, organizations, memberships_per_user)
    finally:
        store.close()
    return time.perf_counter() - started


def _seed_user(
    backend: WorkOSBackend, n: int, organizations: list[str], memberships_per_user: int
) -> None:
    """User ``n`` of ``write_synthetic_export``, as authform's import creates it."""
    email = f"person{n}@example{n % 97}.com"
    body = {
        "email": email,
        "first_name": f"First{n}",
        "last_name": f"Last{n}",
        "email_verified": True,
        "external_id": user_id(n),
        "password_hash": SYNTHETIC_DIGEST,
        "password_hash_type": "bcrypt",
    }
    created = backend.create_user(body)
    count = len(organizations)
    for k in range(min(memberships_per_user, count)):
        role = "admin" if k == 0 and n % 10 == 0 else "member"
        backend.create_membership(
            {
                "user_id": created["id"],
                "organization_id": organizations[(n + k) % count],
                "role_slug": role,
            }
        )


@contextmanager
def emulator(folder: Path) -> Iterator[str]:
    folder.mkdir(parents=True, exist_ok=True)
    with emulator_process(folder, API_KEY) as url:
        yield url


def bench_size(size: int, args: argparse.Namespace, root: Path) -> list[Run]:
    runs: list[Run] = []
    folder = root / f"n{size}"
    logs = folder / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    # "users" is the shape issue 12's per-user goals were measured on (a users-only CSV).
    organizations, per_user = (max(1, size // 20), 2) if args.shape == "full" else (0, 0)
    started = time.perf_counter()
    export = write_synthetic_export(
        folder / "export", users=size, organizations=organizations, memberships_per_user=per_user
    )
    print(
        f"\n{size:,} users, {export.organizations:,} organizations, {export.memberships:,} "
        f"memberships (export written in {time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    if "empty" in args.targets:
        runs += bench_empty_target(size, args, folder, export, logs)
    if "full" in args.targets:
        runs += bench_full_target(size, args, folder, export, logs)
    if not args.keep:
        shutil.rmtree(folder / "export", ignore_errors=True)
    return runs


def bench_empty_target(
    size: int, args: argparse.Namespace, folder: Path, export: SyntheticExport, logs: Path
) -> list[Run]:
    runs: list[Run] = []
    scaled = {name: (n, seconds / args.scale) for name, (n, seconds) in WORKOS_LIMITS.items()}
    open_limits = dict.fromkeys(WORKOS_LIMITS, OPEN_LIMIT)
    print(" empty target", flush=True)
    with emulator(folder / "empty") as url:
        set_emulator_limits(url, None)
        open_manifest = write_manifest(folder / "open", manifest_text(export, url, open_limits))
        plan_args = ["plan", str(open_manifest), *(["--format", "json"] if args.json else [])]
        runs.append(run_cli(size, "empty", "plan", plan_args, logs))
        plan_file = folder / "plan.json"
        runs.append(
            run_cli(
                size,
                "empty",
                "plan --out",
                ["plan", str(open_manifest), "--out", str(plan_file)],
                logs,
            )
        )
        runs[-1].note = f"plan file {plan_file.stat().st_size / 1e6:.0f} MB"
        runs.append(run_cli(size, "empty", "verify", verify_args(open_manifest, args, logs), logs))
        if not args.skip_apply and size in args.apply_sizes:
            limited = write_manifest(folder / "limited", manifest_text(export, url, scaled))
            runs += bench_apply(size, url, limited, folder, export, scaled, logs, args.apply_modes)
    return runs


def bench_full_target(
    size: int, args: argparse.Namespace, folder: Path, export: SyntheticExport, logs: Path
) -> list[Run]:
    runs: list[Run] = []
    open_limits = dict.fromkeys(WORKOS_LIMITS, OPEN_LIMIT)
    print(" full target (seeded directly)", flush=True)
    seconds = seed_full_target(
        folder / "full" / "emulator.sqlite3", export, 2 if args.shape == "full" else 0
    )
    print(f"  seeded in {seconds:.1f} s", flush=True)
    with emulator(folder / "full") as url:
        set_emulator_limits(url, None)
        open_manifest = write_manifest(folder / "open", manifest_text(export, url, open_limits))
        runs.append(
            run_cli(size, "full", "plan", ["plan", str(open_manifest), "--detailed-exitcode"], logs)
        )
        if runs[-1].exit_code != 0:
            runs[-1].note = "changes found on a full target: the seed differs from the import"
        runs.append(run_cli(size, "full", "verify", verify_args(open_manifest, args, logs), logs))
    return runs


def verify_args(manifest: Path, args: argparse.Namespace, logs: Path) -> list[str]:
    """``verify MANIFEST``; with ``--json``, its JSON report on stdout and JUnit beside it."""
    if not args.json:
        return ["verify", str(manifest)]
    return ["verify", str(manifest), "--format", "json", "--junit", str(logs / "verify.xml")]


def bench_apply(
    size: int,
    url: str,
    manifest: Path,
    folder: Path,
    export: SyntheticExport,
    limits: dict[str, tuple[int, float]],
    logs: Path,
    modes: list[str],
) -> list[Run]:
    """Apply from empty under the scaled limits, once per mode of ``modes``: ``plan`` (the
    saved plan), ``manifest`` (the manifest)."""
    runs = []
    set_emulator_limits(url, limits)
    writes = export.users + export.memberships  # the user-management writes of an import
    requests, seconds = limits["user_management_writes"]
    allowed = requests / seconds
    plan_file = folder / "limited-plan.json"
    made = run_cli(
        size,
        "empty",
        "plan --out (limited)",
        ["plan", str(manifest), "--out", str(plan_file)],
        logs,
    )
    if made.exit_code not in (0, 2):
        raise SystemExit(f"plan --out failed: see {logs}")
    commands = {
        "plan": ("apply plan.json", ["apply", str(plan_file), "--auto-approve"]),
        "manifest": ("apply manifest", ["apply", str(manifest), "--auto-approve"]),
    }
    for label, command in (commands[mode] for mode in modes):
        admin(url, "POST", "/_emulate/reset")
        # A reset also puts back the limits the emulator started with (WorkOS's own): the
        # scaled ones are set again, or the client would pace to limits the emulator refuses.
        set_emulator_limits(url, limits)
        if label == "apply manifest":
            shutil.rmtree(folder / "reports", ignore_errors=True)
        run = run_cli(size, "empty", label, command, logs)
        applying = run.phases.get("apply", 0.0)
        if applying:
            fill = writes / applying / allowed
            run.note = (
                f"{writes:,} user-management writes in {applying:.0f} s = "
                f"{writes / applying:.1f}/s of {allowed:.1f}/s allowed: fill {fill:.3f}"
            )
            print(f"    {run.note}", flush=True)
        runs.append(run)
    set_emulator_limits(url, None)
    return runs


def print_table(runs: list[Run], sizes: list[int]) -> None:
    print("\n## Peak RSS (MB) and wall time (s) per command\n")
    print(
        "| target | command | size | exit | peak RSS MB | wall s | load | "
        + " | ".join(PHASES)
        + " |"
    )
    print("|---" * (7 + len(PHASES)) + "|")
    for run in runs:
        phases = " | ".join(
            f"{run.phases[name]:.1f}" if name in run.phases else "" for name in PHASES
        )
        print(
            f"| {run.target} | {run.command} | {run.size:,} | {run.exit_code} | "
            f"{run.peak_rss_mb:.0f} | {run.wall_s:.1f} | {run.load:.1f} | {phases} |"
        )
    print("\n## CPU seconds per command and phase (compare these between runs)\n")
    print("| target | command | size | cpu s | " + " | ".join(PHASES) + " |")
    print("|---" * (4 + len(PHASES)) + "|")
    for run in runs:
        cpu = " | ".join(
            f"{run.phase_cpu[name]:.1f}" if name in run.phase_cpu else "" for name in PHASES
        )
        print(f"| {run.target} | {run.command} | {run.size:,} | {run.cpu_s:.1f} | {cpu} |")
    notes = [run for run in runs if run.note]
    if notes:
        print()
        for run in notes:
            print(f"- {run.size:,} {run.target} {run.command}: {run.note}")
    if len(sizes) < 2:
        return
    print("\n## Ratios between sizes (peak RSS, wall time)\n")
    by_key = {(r.target, r.command, r.size): r for r in runs}
    for smaller, larger in zip(sizes, sizes[1:], strict=False):
        print(f"{larger:,} / {smaller:,} users ({larger / smaller:g}x the data):")
        for (target, command, size), run in by_key.items():
            base = by_key.get((target, command, smaller))
            if size != larger or base is None:
                continue
            print(
                f"  {target:<5} {command:<22} RSS {run.peak_rss_mb / base.peak_rss_mb:5.2f}x  "
                f"wall {run.wall_s / max(base.wall_s, 1e-9):6.2f}x"
            )


def sizes_arg(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=sizes_arg, default=[10_000, 100_000, 1_000_000])
    parser.add_argument(
        "--apply-sizes",
        type=sizes_arg,
        default=[10_000, 100_000],
        help="sizes at which apply is measured (a million writes take hours even unlimited)",
    )
    parser.add_argument(
        "--apply-modes",
        type=lambda text: [mode for mode in ("plan", "manifest") if mode in text.split(",")],
        default=["plan", "manifest"],
        help="plan,manifest: apply the saved plan, the manifest, or both (each from empty)",
    )
    parser.add_argument("--skip-apply", action="store_true")
    parser.add_argument(
        "--shape",
        choices=("full", "users"),
        default="full",
        help="full: N/20 organizations and 2 memberships per user; users: users only",
    )
    parser.add_argument(
        "--targets",
        type=lambda text: set(text.split(",")),
        default={"empty", "full"},
        help="empty,full: which targets to measure (a million users take an hour per target)",
    )
    parser.add_argument(
        "--scale", type=float, default=5.5, help="divide WorkOS's rate-limit windows by this"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="plan --format json, verify --format json --junit: measure the streamed outputs",
    )
    parser.add_argument("--keep", type=Path, help="keep the exports, logs and plans here")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="authform-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"working in {root}; logs of every command in {root}/n<size>/logs")
    runs: list[Run] = []
    try:
        for size in args.sizes:
            runs += bench_size(size, args, root)
    finally:
        print_table(runs, args.sizes)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
