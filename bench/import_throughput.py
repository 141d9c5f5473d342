"""Benchmark: import a Clerk export into the WorkOS emulator at its rate limit.

Part 1 imports 10,000 users, 500 organizations and 20,000 memberships with the emulator's
rate limits on, WorkOS's windows scaled down by ``--scale`` (so the run takes under two
minutes), and reports the achieved user-management write rate divided by the allowed rate
(goal: at least 0.9 with zero failed records) and the importer's peak memory.
Part 2 parses and plans a 100,000-user CSV against an empty emulator, limits off.

The emulator runs in its own process, so the importer's figures are its own.

    .venv/bin/python bench/import_throughput.py [--users N] [--scale F] [--skip-large]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from emulator_process import emulator_process

from authform.engine.apply import apply_plan
from authform.engine.plan import Policy, plan_changes
from authform.importing.source import load_import_set
from authform.manifest.models import Users
from authform.providers.http import RateLimit
from authform.providers.workos import WorkOSProvider
from authform.resources import Kind, Resource
from authform.sources.synthetic import write_synthetic_export

API_KEY = "sk_test_bench"


def admin(url: str, method: str, path: str, body: Any) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    httpx.request(method, f"{url}{path}", json=body, headers=headers, timeout=10).raise_for_status()


class TimedWorkOS(WorkOSProvider):
    """Records when each user-management write finished, to measure the achieved rate."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.finished: list[float] = []

    async def create(self, desired: Resource) -> Resource:
        live = await super().create(desired)
        if desired.kind in (Kind.USER, Kind.MEMBERSHIP):
            self.finished.append(time.perf_counter())
        return live


async def import_once(
    url: str, users_cfg: Users, limits: dict[str, RateLimit], apply: bool, concurrency: int = 8
):
    figures: dict[str, float] = {}
    started = time.perf_counter()
    import_set = load_import_set(users_cfg)
    desired = [
        Resource(
            Kind.ROLE,
            slug,
            {"slug": slug, "name": slug.title(), "description": "", "permissions": []},
        )
        for slug in ("admin", "member")
    ] + import_set.resources
    figures["parse_s"] = time.perf_counter() - started
    managed = {Kind.ROLE, Kind.ORGANIZATION, Kind.USER, Kind.MEMBERSHIP}
    provider = TimedWorkOS(
        api_key=API_KEY,
        client_id=None,
        base_url=url,
        rate_limits=limits,
        max_concurrency=concurrency,
    )
    try:
        started = time.perf_counter()
        live = await provider.read(managed, desired)
        plan = plan_changes(
            desired,
            live,
            managed=managed,
            capabilities=provider.capabilities,
            policy=Policy(),
            manual_instructions=provider.manual_instructions,
        )
        figures["plan_s"] = time.perf_counter() - started
        figures["planned_changes"] = len(plan.changes)
        if apply:
            gc.freeze()  # as `authform apply` does
            started = time.perf_counter()
            result = await apply_plan(plan, provider)
            figures["apply_s"] = time.perf_counter() - started
            figures["failed"] = len(result.failed) + len(result.not_attempted)
            figures["throttled_429"] = provider.http.stats.throttled
            times = provider.finished
            figures["um_writes"] = len(times)
            figures["um_span_s"] = times[-1] - times[0] if len(times) > 1 else 0.0
    finally:
        await provider.aclose()
    return figures


def users_config(export: Any) -> Users:
    return Users.model_validate(
        {
            "source": {
                "kind": "clerk-csv",
                "path": str(export.users_csv),
                "organizations": str(export.organizations_json),
                "memberships": str(export.memberships_json),
            }
        }
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--organizations", type=int, default=500)
    parser.add_argument(
        "--scale", type=float, default=5.5, help="divide WorkOS's rate-limit windows by this"
    )
    parser.add_argument("--large-users", type=int, default=100_000)
    parser.add_argument("--skip-large", action="store_true")
    # On loopback a write takes a few milliseconds, so a handful in flight fill the limit;
    # more only deepen the emulator's queue, and the uneven lag that brings causes 429s.
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    # WorkOS: 500 user-management writes per 10 s and 6,000 requests per 60 s, windows scaled.
    writes = RateLimit(500, 10.0 / args.scale)
    general = RateLimit(6000, 60.0 / args.scale)
    reads = RateLimit(1000, 10.0 / args.scale)
    limits = {"user_management_writes": writes, "general": general, "user_management_reads": reads}
    allowed_rate = writes.requests / writes.per_seconds

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        export = write_synthetic_export(
            folder / "export",
            users=args.users,
            organizations=args.organizations,
            memberships_per_user=2,
        )
        with emulator_process(folder, API_KEY) as url:
            admin(
                url,
                "PUT",
                "/_emulate/rate_limits",
                {
                    "user_management_writes": {
                        "requests": writes.requests,
                        "per_seconds": writes.per_seconds,
                    },
                    "general": {"requests": general.requests, "per_seconds": general.per_seconds},
                    "user_management_reads": {
                        "requests": reads.requests,
                        "per_seconds": reads.per_seconds,
                    },
                },
            )
            run = asyncio.run(
                import_once(url, users_config(export), limits, True, args.concurrency)
            )
        rss_import = peak_rss_mb()
        achieved = run["um_writes"] / run["um_span_s"] if run["um_span_s"] else 0.0
        print(
            f"import: {export.users} users, {export.organizations} organizations, "
            f"{export.memberships} memberships; windows scaled 1/{args.scale:g}"
        )
        print(f"  parse + judge source        {run['parse_s']:8.2f} s")
        print(
            f"  read live + plan            {run['plan_s']:8.2f} s "
            f"({int(run['planned_changes'])} changes)"
        )
        print(f"  apply                       {run['apply_s']:8.2f} s")
        print(
            f"  user-management writes      {int(run['um_writes']):8d} in {run['um_span_s']:.2f} s"
        )
        print(
            f"  achieved / allowed rate     {achieved:8.1f} / {allowed_rate:.1f} per s "
            f"= {achieved / allowed_rate:.3f}"
        )
        print(f"  429 answers, failed records {int(run['throttled_429']):8d}, {int(run['failed'])}")
        print(f"  peak RSS (importer)         {rss_import:8.0f} MB")

        if not args.skip_large:
            large = write_synthetic_export(
                folder / "large", users=args.large_users, organizations=0
            )
            os.environ.setdefault("NO_COLOR", "1")
            with emulator_process(folder / "large", API_KEY) as url:
                admin(
                    url,
                    "PUT",
                    "/_emulate/rate_limits",
                    {
                        "user_management_writes": None,
                        "general": None,
                        "user_management_reads": None,
                    },
                )
                big = asyncio.run(import_once(url, users_config(large), {}, apply=False))
            print(f"parse + plan: {large.users} users from CSV, rate limits off")
            print(f"  parse + judge source        {big['parse_s']:8.2f} s")
            print(
                f"  read live + plan            {big['plan_s']:8.2f} s "
                f"({int(big['planned_changes'])} changes)"
            )
            print(f"  peak RSS (process, both parts) {peak_rss_mb():5.0f} MB")


if __name__ == "__main__":
    main()
