"""Peak memory and phase times of the real CLI on a generated Clerk export (issue 12).

For each size: a synthetic Clerk CSV export (users, organizations = users / 20, two
memberships per user) and a WorkOS emulator in its own process (no rate limits: this measures
authform, not the limiter). ``plan`` and ``verify`` run against an empty tenant and against one
already holding every user, organization and membership (written straight into the
emulator's SQLite file, not through its API); ``apply`` runs against the empty tenant, from
the manifest and from a saved plan (``--apply-max`` bounds the sizes it runs at). Each command
runs under ``/usr/bin/time -v``; peak RSS, wall time and the phase times authform prints with
``AUTHFORM_PHASE_TIMES=1`` are printed per size, with the ratio between sizes.

    .venv/bin/python bench/stream_memory.py --sizes 10000,100000 [--apply-max 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import yaml
from emulator_process import free_port

from authform.emulators.workos import WORKOS_SCHEMA
from authform.sources.synthetic import (
    SYNTHETIC_DIGEST,
    org_id,
    user_id,
    write_synthetic_export,
)

API_KEY = "sk_test_stream"
PHASE = re.compile(r"^authform phase (.+?): ([0-9.]+) s")


@contextmanager
def emulator_process(folder: Path, api_key: str) -> Iterator[str]:
    """The WorkOS emulator in its own process, without rate limits (this measures authform's
    memory and time, not the limiter's pacing), state in ``folder``."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "authform.cli",
            "emulator",
            "workos",
            "--port",
            str(port),
            "--db",
            str(folder / "emulator.sqlite3"),
            "--api-key",
            api_key,
            "--no-rate-limit",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise SystemExit("the WorkOS emulator did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def manifest(folder: Path, url: str) -> Path:
    document = {
        "version": 1,
        "target": {
            "provider": "workos",
            "api_key": API_KEY,
            "client_id": "client_stream",
            "base_url": url,
            "rate_limits": {
                name: {"requests": 1_000_000, "per_seconds": 1}
                for name in ("general", "user_management_reads", "user_management_writes")
            },
        },
        "roles": [{"slug": "admin", "name": "Admin"}, {"slug": "member", "name": "Member"}],
        "policy": {"max_update_percent": 100, "max_delete_percent": 100},
        "users": {
            "source": {
                "kind": "clerk-csv",
                "path": str(folder / "users.csv"),
                "organizations": str(folder / "organizations.json"),
                "memberships": str(folder / "memberships.json"),
            },
            "reports_dir": str(folder / "reports"),
        },
    }
    (folder / "manifest").mkdir(exist_ok=True)
    path = folder / "manifest" / "authform.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def fill_tenant(db: Path, users: int, organizations: int, per_user: int) -> None:
    """Everything the export holds, written as the emulator stores it."""
    now = "2026-01-01T00:00:00.000Z"
    con = sqlite3.connect(db)
    con.executescript(WORKOS_SCHEMA)
    for slug in ("admin", "member"):
        con.execute(
            "INSERT OR IGNORE INTO roles VALUES (?, ?, ?, '', 'organization', '[]', ?, ?)",
            (f"role_{slug}", slug, slug.title(), now, now),
        )
    con.executemany(
        "INSERT INTO organizations (id, name, external_id, metadata, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            (
                f"org_{n:08d}",
                f"Org {n}",
                org_id(n),
                json.dumps({"clerk_slug": f"org-{n}"}),
                now,
                now,
            )
            for n in range(organizations)
        ),
    )
    con.executemany(
        "INSERT INTO users (id, email, email_verified, first_name, last_name, external_id, "
        "password_hash, password_hash_type, created_at, updated_at) "
        "VALUES (?, ?, 0, ?, ?, ?, ?, 'bcrypt', ?, ?)",
        (
            (
                f"user_{n:08d}",
                f"person{n}@example{n % 97}.com",
                f"First{n}",
                f"Last{n}",
                user_id(n),
                SYNTHETIC_DIGEST,
                now,
                now,
            )
            for n in range(users)
        ),
    )

    def memberships():
        count = 0
        for n in range(users):
            for k in range(min(per_user, organizations)):
                role = "admin" if k == 0 and n % 10 == 0 else "member"
                org = (n + k) % organizations
                yield (
                    f"om_{count:09d}",
                    f"user_{n:08d}",
                    f"org_{org:08d}",
                    json.dumps([role]),
                    now,
                    now,
                )
                count += 1

    con.executemany(
        "INSERT INTO organization_memberships VALUES (?, ?, ?, 'active', ?, ?, ?)", memberships()
    )
    con.commit()
    con.close()


def run(command: list[str], cwd: Path, source: str | None = None) -> dict[str, float]:
    env = {**os.environ, "AUTHFORM_PHASE_TIMES": "1", "CI": "1"}
    if source:  # another checkout's src/ (e.g. main's, for a baseline on the same machine)
        env["PYTHONPATH"] = source
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "-m", "authform.cli", *command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    figures = {"wall_s": time.perf_counter() - started, "exit": done.returncode}
    for line in done.stderr.splitlines():
        if "Maximum resident set size" in line:
            figures["peak_mb"] = int(line.split(":")[1]) / 1024
        match = PHASE.match(line.strip())
        if match:
            figures[match.group(1)] = figures.get(match.group(1), 0.0) + float(match.group(2))
    if done.returncode not in (0, 2, 3):
        print(done.stderr[-3000:], file=sys.stderr)
    return figures


def show(label: str, size: int, figures: dict[str, float]) -> None:
    phases = ", ".join(
        f"{k} {v:.1f}s" for k, v in figures.items() if k not in ("wall_s", "exit", "peak_mb")
    )
    print(
        f"{label:<22} {size:>9,} users  peak {figures.get('peak_mb', 0):7.0f} MB  "
        f"wall {figures['wall_s']:7.1f} s  exit {int(figures['exit'])}  [{phases}]",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--apply-max", type=int, default=100_000)
    parser.add_argument(
        "--only", default="plan-empty,verify-empty,plan-full,verify-full,apply,apply-saved"
    )
    parser.add_argument(
        "--baseline-src",
        help="also run each command from this src/ folder (e.g. `git archive main src`), "
        "labelled 'base', for a comparison under the same machine load",
    )
    args = parser.parse_args()
    sources = [("", None)] + ([("base ", args.baseline_src)] if args.baseline_src else [])
    wanted = set(args.only.split(","))
    results: dict[str, dict[int, dict[str, float]]] = {}
    for size in [int(s) for s in args.sizes.split(",")]:
        organizations = max(1, size // 20)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write_synthetic_export(
                folder, users=size, organizations=organizations, memberships_per_user=2
            )
            for state in ("empty", "full"):
                tenant = folder / f"tenant-{state}"
                tenant.mkdir()
                if state == "full":
                    fill_tenant(tenant / "emulator.sqlite3", size, organizations, 2)
                with emulator_process(tenant, API_KEY) as url:
                    path = manifest(folder, url)
                    for command in ("plan", "verify"):
                        for prefix, source in sources:
                            label = f"{prefix}{command}-{state}"
                            if f"{command}-{state}" in wanted:
                                figures = run([command, str(path)], folder, source)
                                results.setdefault(label, {})[size] = figures
                                show(label, size, figures)
                    if state == "empty" and "apply" in wanted and size <= args.apply_max:
                        figures = run(["apply", "--auto-approve", str(path)], folder)
                        results.setdefault("apply", {})[size] = figures
                        show("apply", size, figures)
            if "apply-saved" in wanted and size <= args.apply_max:
                tenant = folder / "tenant-saved"
                tenant.mkdir()
                with emulator_process(tenant, API_KEY) as url:
                    path = manifest(folder, url)
                    figures = run(["plan", str(path), "--out", str(folder / "plan.json")], folder)
                    show("plan --out", size, figures)
                    figures = run(["apply", "--auto-approve", str(folder / "plan.json")], folder)
                    results.setdefault("apply-saved", {})[size] = figures
                    show("apply-saved", size, figures)
    for label, by_size in results.items():
        sizes = sorted(by_size)
        for small, large in zip(sizes, sizes[1:], strict=False):
            ratio = by_size[large].get("peak_mb", 0) / max(1.0, by_size[small].get("peak_mb", 1))
            print(f"{label:<22} peak ratio {large:,} / {small:,} users: {ratio:.2f}x")


if __name__ == "__main__":
    main()
