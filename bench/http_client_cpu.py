"""Benchmark: CPU per write of authform's HTTP client, and of the WorkOS emulator serving it.

Issue 12.4 wants apply to fill the rate limit (>= 0.95 of it). An apply is bounded by the
slowest of: the limiter (tests/providers/test_http_units.py shows its margin leaves >= 0.952),
the emulator, and the client's own CPU per request. This measures the last two on the write
path apply takes (``ApiClient.send_json("POST", "/user_management/users")`` from 64 workers,
as ``engine.apply`` runs them), with the emulator's limits off and the client's limiters open,
at each ``--concurrency`` (the client's connections). CPU, not wall time: on a shared machine
only CPU seconds compare; a fill needs roughly ``allowed rate x client ms`` of one core.

    .venv/bin/python bench/http_client_cpu.py [--writes 2000] [--concurrency 16,4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import httpx
from emulator_process import emulator_process

from authform.providers.http import ApiClient, RateLimit, WindowLimiter

API_KEY = "sk_test_http_client_cpu"
BUCKETS = ("general", "user_management_reads", "user_management_writes")


def child_cpu_seconds() -> dict[int, float]:
    """User + system CPU seconds of each child of this process (the emulator), from /proc."""
    me = os.getpid()
    children = Path(f"/proc/{me}/task/{me}/children").read_text().split()
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in map(int, children):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        found[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return found


async def measure(url: str, writes: int, concurrency: int, first: int) -> tuple[float, float]:
    """(client CPU s, wall s) for ``writes`` user creates through one ``ApiClient``."""
    open_limit = [WindowLimiter(RateLimit(1_000_000, 1.0)) for _ in range(2)]

    async def headers() -> Mapping[str, str]:
        return {"Authorization": f"Bearer {API_KEY}"}

    client = ApiClient(
        url,
        provider_name="WorkOS",
        headers=headers,
        describe_error=lambda response: (None, response.text),
        limiters_for=lambda method, path: open_limit,
        max_concurrency=concurrency,
    )
    numbers = iter(range(first, first + writes))

    async def worker() -> None:
        for n in numbers:
            body = {"email": f"p{n}@example.com", "first_name": "F", "external_id": f"u{n}"}
            await client.send_json("POST", "/user_management/users", body)

    await client.get_json("/user_management/users")  # connect outside the measurement
    cpu, wall = time.process_time(), time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(64):
            group.create_task(worker())
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await client.aclose()
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument(
        "--concurrency", default="16,4", help="the client's connections, comma-separated"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, emulator_process(Path(folder), API_KEY) as url:
        auth = {"Authorization": f"Bearer {API_KEY}"}
        off = dict.fromkeys(BUCKETS)
        httpx.put(f"{url}/_emulate/rate_limits", json=off, headers=auth).raise_for_status()
        first = 0
        for concurrency in (int(part) for part in args.concurrency.split(",")):
            before = child_cpu_seconds()
            cpu, wall = asyncio.run(measure(url, args.writes, concurrency, first))
            emulator = sum(child_cpu_seconds().values()) - sum(before.values())
            first += args.writes
            print(
                f"concurrency {concurrency:>3}: client {1000 * cpu / args.writes:5.2f} ms cpu "
                f"per write, emulator {1000 * emulator / args.writes:5.2f} ms; "
                f"{args.writes / wall:6.1f} writes/s; load {os.getloadavg()[0]:.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
