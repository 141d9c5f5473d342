"""Benchmark: a Clerk import into WorkOS that must come out exact under chaos.

5,000 users, 100 organizations and 10,000 memberships (a synthetic Clerk export) are imported
with `authform apply` into the WorkOS emulator, which runs in its own process on a file
database with WorkOS's rate-limit windows scaled down by ``--scale``. For the whole import a
chaos thread keeps injecting faults through ``/_emulate/``: 5xx answers, connections dropped
before the request is served, connections dropped *after* it was carried out (the write landed,
its answer is lost), and 429 bursts (the emulator's limits shrunk to a trickle for a moment,
so it answers 429 with Retry-After). `apply` is killed with SIGKILL at five random moments
and started again each time; once, a second `apply` runs alongside it. A last `apply` then
runs to the end, chaos still on.

With the chaos off, the bench reads the tenant back through the API and prints, per kind,
expected vs present, duplicates, wrong roles and lost records (all must be zero
difference), then runs `authform plan --detailed-exitcode`, which must report no changes
(exit 0). The process exits 1 if any figure is off.

    .venv/bin/python bench/chaos_import.py [--users N] [--organizations N] [--scale F] [--seed S]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from bench_manifest import import_manifest
from emulator_process import emulator_process

from authform.sources.synthetic import SyntheticExport, org_id, user_id, write_synthetic_export

API_KEY = "sk_test_chaos"
KILLS = 5
# Write paths the import uses, as the emulator's hooks match them (full-match regexes).
WRITE_PATHS = (
    "/user_management/users",
    "/user_management/organization_memberships",
    "/organizations",
)
READ_PATHS = ("/user_management/users", "/user_management/organization_memberships")


class Admin:
    """The emulator's /_emulate/ actions, and plain API reads for the final count."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30
        )

    def hook(self, **hook: Any) -> str:
        answer = self.client.post("/_emulate/hooks", json=hook)
        answer.raise_for_status()
        return str(answer.json()["id"])

    def hooks_left(self) -> dict[str, int]:
        """Hook id → matches it still waits for (a hook that has fired all its times is gone)."""
        answer = self.client.get("/_emulate/hooks")
        answer.raise_for_status()
        return {h["id"]: int(h["times"] or 0) for h in answer.json()["data"]}

    def clear_hooks(self) -> None:
        self.client.delete("/_emulate/hooks").raise_for_status()

    def limits(self, limits: dict[str, Any]) -> None:
        self.client.put("/_emulate/rate_limits", json=limits).raise_for_status()

    def list_all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        after = None
        for _ in range(100_000):  # bounded walk
            query = {"limit": 100, **params, **({"after": after} if after else {})}
            page = self.client.get(path, params=query)
            page.raise_for_status()
            body = page.json()
            items += body["data"]
            after = body["list_metadata"]["after"]
            if not after:
                return items
        raise SystemExit(f"{path}: pagination did not end")


class Chaos(threading.Thread):
    """Keeps injecting faults until stopped; counts what it injected."""

    def __init__(self, admin: Admin, limits: dict[str, Any], rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.admin, self.normal, self.rng = admin, limits, rng
        self.stop_event = threading.Event()
        # Faults that fired (matched a request), by kind; an armed hook that met no request
        # before the next one replaced it is not counted.
        self.injected: Counter[str] = Counter()
        self._armed: tuple[str, str, int] | None = None  # (kind, hook id, times)

    def arm(self, kind: str, times: int = 1, **hook: Any) -> None:
        self._armed = (kind, self.admin.hook(times=times, **hook), times)

    def disarm(self) -> None:
        """Count what the armed hook did, then remove every hook."""
        if self._armed is not None:
            kind, hook_id, times = self._armed
            self.injected[kind] += times - self.admin.hooks_left().get(hook_id, 0)
            self._armed = None
        self.admin.clear_hooks()

    def run(self) -> None:
        next_burst = time.monotonic() + self.rng.uniform(5, 15)
        while not self.stop_event.wait(self.rng.uniform(0.1, 0.3)):
            if time.monotonic() >= next_burst:
                self.burst()
                # Rare enough that the client's adaptive limiter recovers in between: a burst
                # every few seconds would measure the limiter's back-off, not correctness.
                next_burst = time.monotonic() + self.rng.uniform(15, 30)
                continue
            # One armed fault at a time: a hook waits for the next matching request, so on a
            # path with little traffic (10 organizations) hooks would pile up and fail every
            # attempt of one create; the fault is "whatever comes next in this moment".
            self.disarm()
            roll = self.rng.random()
            path = self.rng.choice(WRITE_PATHS)
            if roll < 0.4:
                status = self.rng.choice([500, 502, 503, 504])
                self.arm("5xx on writes", 2, method="POST", path=path, status=status)
            elif roll < 0.6:
                self.arm("dropped before serving", method="POST", path=path, drop_connection=True)
            elif roll < 0.8:
                self.arm(
                    "dropped after serving (answer lost)",
                    method="POST",
                    path=path,
                    lose_answer=True,
                )
            else:
                read = self.rng.choice(READ_PATHS)
                self.arm("5xx on reads", method="GET", path=read, status=503)

    def burst(self) -> None:
        """The emulator's limits fall to a trickle for a moment: real 429s with Retry-After."""
        trickle = {name: {"requests": 3, "per_seconds": 1.0} for name in self.normal}
        self.admin.limits(trickle)
        self.injected["429 bursts (1-1.5 s at 3 requests/s)"] += 1
        time.sleep(self.rng.uniform(1.0, 1.5))
        self.admin.limits(self.normal)

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=10)
        self.disarm()
        self.admin.limits(self.normal)


def manifest(export: SyntheticExport, url: str, limits: dict[str, Any], reports: Path) -> str:
    windows = {name: (v["requests"], v["per_seconds"]) for name, v in limits.items()}
    return import_manifest(export, url, windows, reports)


def apply_command(folder: Path) -> list[str]:
    return [sys.executable, "-m", "authform.cli", "apply", str(folder), "--auto-approve"]


def start(folder: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen(apply_command(folder), env=env, stdout=handle, stderr=handle)


def expected_memberships(export: SyntheticExport) -> dict[tuple[str, str], str]:
    """(user key, organization key) → role, as the synthetic export defines them."""
    expected: dict[tuple[str, str], str] = {}
    per_user = export.memberships // export.users if export.users else 0
    for n in range(export.users):
        for k in range(per_user):
            role = "admin" if k == 0 and n % 10 == 0 else "member"
            expected[(user_id(n), org_id((n + k) % export.organizations))] = role
    return expected


def count(admin: Admin, export: SyntheticExport) -> dict[str, dict[str, int]]:
    users = admin.list_all("/user_management/users")
    orgs = admin.list_all("/organizations")
    org_keys = {o["id"]: o.get("external_id") for o in orgs}
    user_keys = {u["id"]: u.get("external_id") for u in users}
    memberships = [
        m
        for o in orgs
        for m in admin.list_all(
            "/user_management/organization_memberships",
            organization_id=o["id"],
            statuses="active,inactive,pending",
        )
    ]
    want_users = {user_id(n) for n in range(export.users)}
    want_orgs = {org_id(n) for n in range(export.organizations)}
    want_members = expected_memberships(export)

    def figures(present_keys: list[Any], wanted: set[Any]) -> dict[str, int]:
        seen = Counter(present_keys)
        return {
            "expected": len(wanted),
            "present": sum(1 for k in seen if k in wanted),
            "duplicates": sum(n - 1 for n in seen.values() if n > 1)
            + sum(n for k, n in seen.items() if k not in wanted),
            "lost": len(wanted - set(seen)),
        }

    pairs = [(user_keys.get(m["user_id"]), org_keys.get(m["organization_id"])) for m in memberships]
    member_figures = figures(pairs, set(want_members))
    member_figures["wrong roles"] = sum(
        1
        for m, pair in zip(memberships, pairs, strict=True)
        if pair in want_members and (m.get("role") or {}).get("slug") != want_members[pair]
    )
    return {
        "users": figures([u.get("external_id") for u in users], want_users),
        "organizations": figures([o.get("external_id") for o in orgs], want_orgs),
        "memberships": member_figures,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--organizations", type=int, default=100)
    parser.add_argument(
        "--scale", type=float, default=6.0, help="divide WorkOS's rate-limit windows by this"
    )
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    limits = {
        "user_management_writes": {"requests": 500, "per_seconds": 10.0 / args.scale},
        "user_management_reads": {"requests": 1000, "per_seconds": 10.0 / args.scale},
        "general": {"requests": 6000, "per_seconds": 60.0 / args.scale},
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        export = write_synthetic_export(
            folder / "export",
            users=args.users,
            organizations=args.organizations,
            memberships_per_user=2,
        )
        manifests = folder / "manifests"
        manifests.mkdir()
        log = folder / "apply.log"
        env = {**os.environ, "WORKOS_API_KEY": API_KEY, "NO_COLOR": "1"}
        with emulator_process(folder, API_KEY) as url:
            admin = Admin(url)
            admin.limits(limits)
            (manifests / "authform.yaml").write_text(
                manifest(export, url, limits, folder / "reports"), encoding="utf-8"
            )
            chaos = Chaos(admin, limits, rng)
            chaos.start()
            kills: list[float] = []
            concurrent_exit: int | None = None
            second: subprocess.Popen[bytes] | None = None
            for round_number in range(KILLS):
                victim = start(manifests, env, log)
                if round_number == 2:  # runs beside this and the later victims, to its end
                    second = start(manifests, env, log)
                moment = rng.uniform(5.0, 20.0)
                deadline = time.monotonic() + moment
                while time.monotonic() < deadline and victim.poll() is None:
                    time.sleep(0.05)
                if victim.poll() is not None:
                    print(f"  run {round_number + 1} finished before its kill at {moment:.1f} s")
                else:
                    victim.send_signal(signal.SIGKILL)
                    victim.wait(timeout=10)
                    kills.append(moment)
            if second is not None:
                concurrent_exit = second.wait(timeout=1800)
            final = subprocess.run(
                apply_command(manifests), env=env, capture_output=True, text=True, timeout=1800
            )
            chaos.stop()
            figures = count(admin, export)
            settled = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "authform.cli",
                    "plan",
                    str(manifests),
                    "--detailed-exitcode",
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
    elapsed = time.perf_counter() - started

    print(
        f"chaos import: {export.users} users, {export.organizations} organizations, "
        f"{export.memberships} memberships into the WorkOS emulator; windows scaled "
        f"1/{args.scale:g}; seed {args.seed}"
    )
    print(f"  SIGKILLs at (s into each run)   {', '.join(f'{k:.1f}' for k in kills)}")
    print(f"  concurrent second apply exit    {concurrent_exit}")
    print(f"  final apply exit (chaos on)     {final.returncode}")
    injected = ", ".join(f"{name} {n}" for name, n in sorted(chaos.injected.items()))
    print(f"  faults injected                 {injected}")
    header = ("expected", "present", "duplicates", "wrong roles", "lost")
    print(f"  {'':14} " + " ".join(f"{h:>11}" for h in header))
    off = 0
    for kind, row in figures.items():
        wrong = row.get("wrong roles", 0)
        values = (row["expected"], row["present"], row["duplicates"], wrong, row["lost"])
        print(f"  {kind:14} " + " ".join(f"{v:>11}" for v in values))
        off += abs(row["expected"] - row["present"]) + row["duplicates"] + wrong + row["lost"]
    print(f"  difference (must be 0)          {off}")
    print(
        f"  plan afterwards                 exit {settled.returncode} "
        f"({'no changes' if settled.returncode == 0 else 'CHANGES PENDING'})"
    )
    print(f"  wall time                       {elapsed:.0f} s")
    if off or settled.returncode != 0 or final.returncode != 0 or concurrent_exit != 0:
        output = final.stdout + final.stderr
        problems = [line for line in output.splitlines() if "FAILED" in line or "Error" in line]
        print("\n".join(problems[:20]) or output[-3000:])
        sys.exit(1)


if __name__ == "__main__":
    main()
