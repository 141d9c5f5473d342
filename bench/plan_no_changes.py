"""Benchmark: `plan` with nothing to change against a large WorkOS environment.

The emulator holds 10,000 organizations (two domains and three metadata keys each),
200 permissions, 50 roles and 100 redirect URIs, exactly as the manifest declares them. Prints
wall time per phase, the number of HTTP requests, and the CPU time of the diff itself.

    .venv/bin/python bench/plan_no_changes.py [--organizations N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import yaml

from authform.emulators import start_emulator
from authform.engine.plan import Policy, plan_changes
from authform.manifest import desired_resources, load_manifest, managed_kinds
from authform.providers.workos import WorkOSProvider


def build_state(organizations: int) -> tuple[dict, dict]:
    permissions = [{"slug": f"feature{i}:use", "name": f"Use feature {i}"} for i in range(200)]
    roles = [
        {
            "slug": f"role-{i}",
            "name": f"Role {i}",
            "permissions": [p["slug"] for p in permissions[i : i + 20]],
        }
        for i in range(50)
    ]
    orgs = [
        {
            "key": f"org-{i:05d}",
            "name": f"Customer {i}",
            "domains": [
                {"domain": f"c{i}.example.com", "state": "verified"},
                {"domain": f"c{i}-eu.example.com", "state": "pending"},
            ],
            "metadata": {"tier": ["free", "pro", "enterprise"][i % 3], "region": "eu", "n": str(i)},
        }
        for i in range(organizations)
    ]
    uris = [f"https://app{i}.example.com/callback" for i in range(100)]
    seed = {
        "permissions": permissions,
        "roles": roles,
        "organizations": [
            {
                "name": o["name"],
                "external_id": o["key"],
                "domain_data": o["domains"],
                "metadata": o["metadata"],
            }
            for o in orgs
        ],
        "redirect_uris": uris,
    }
    manifest = {
        "version": 1,
        "permissions": permissions,
        "roles": roles,
        "organizations": orgs,
        "redirect_uris": uris,
    }
    return seed, manifest


async def measure(manifest_path: Path, url: str, api_key: str) -> dict[str, float]:
    figures: dict[str, float] = {}
    started = time.perf_counter()
    loaded = load_manifest(manifest_path)
    desired = desired_resources(loaded.manifest)
    managed = managed_kinds(loaded.manifest)
    figures["load_manifest_s"] = time.perf_counter() - started

    provider = WorkOSProvider(api_key=api_key, client_id=None, base_url=url)
    try:
        started = time.perf_counter()
        live = await provider.read(managed, desired)
        figures["read_live_s"] = time.perf_counter() - started
        figures["http_requests"] = provider.http.stats.requests

        cpu_started, wall_started = time.process_time(), time.perf_counter()
        plan = plan_changes(
            desired,
            live,
            managed=managed,
            capabilities=provider.capabilities,
            policy=Policy(),
            manual_instructions=provider.manual_instructions,
        )
        figures["diff_cpu_s"] = time.process_time() - cpu_started
        figures["diff_wall_s"] = time.perf_counter() - wall_started
    finally:
        await provider.aclose()
    figures["changes"] = len(plan.changes)
    figures["live_resources"] = len(live)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--organizations", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        seed, manifest = build_state(args.organizations)
        (folder / "seed.json").write_text(json.dumps(seed))
        started = time.perf_counter()
        emulator = start_emulator(
            "workos", db_path=folder / "state.sqlite3", seed=folder / "seed.json"
        )
        seeded_s = time.perf_counter() - started
        try:
            manifest["target"] = {
                "provider": "workos",
                "api_key": emulator.api_key,
                "base_url": emulator.url,
            }
            path = folder / "authform.yaml"
            path.write_text(yaml.safe_dump(manifest, sort_keys=False))
            total_started = time.perf_counter()
            figures = asyncio.run(measure(path, emulator.url, emulator.api_key))
            figures["plan_total_wall_s"] = time.perf_counter() - total_started
        finally:
            emulator.stop()
    if figures["changes"]:
        sys.exit(f"expected no changes, got {figures['changes']}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"state: {args.organizations} organizations, 200 permissions, 50 roles, 100 redirect URIs"
    )
    print(f"emulator seeded in            {seeded_s:8.2f} s")
    print(f"load + validate manifest      {figures['load_manifest_s']:8.2f} s")
    print(
        f"read live state               {figures['read_live_s']:8.2f} s "
        f"({int(figures['http_requests'])} HTTP requests, "
        f"{int(figures['live_resources'])} resources)"
    )
    print(f"diff (CPU)                    {figures['diff_cpu_s']:8.3f} s")
    print(f"plan total (wall)             {figures['plan_total_wall_s']:8.2f} s")
    print(f"changes                       {int(figures['changes']):8d}")
    print(f"peak RSS (bench + emulator)   {peak_mb:8.0f} MB")


if __name__ == "__main__":
    main()
