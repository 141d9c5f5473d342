"""Benchmark: what the provenance of imported items (``Resource.origin``: the export's file
and row of every user, organization and membership) costs in memory and time.

Builds the import set of one synthetic export twice, with origins and with the origin step
left out, and prints the traced memory peak and the best time of ``--repeat`` runs of each.

    .venv/bin/python bench/provenance_cost.py [--users N] [--repeat R]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import authform.importing.memberships as memberships_module
import authform.importing.organizations as organizations_module
import authform.importing.users as users_module
from authform.importing.build import build_import_set
from authform.provenance import record_origin
from authform.sources import read_clerk_csv, read_clerk_memberships, read_clerk_organizations
from authform.sources.synthetic import SyntheticExport, write_synthetic_export

_MODULES = (users_module, organizations_module, memberships_module)
_NO_ORIGIN: dict[str, Any] = {}


def _build(export: SyntheticExport) -> Any:
    return build_import_set(
        read_clerk_csv(export.users_csv),
        read_clerk_organizations(export.organizations_json),
        read_clerk_memberships(export.memberships_json),
    )


def _with_origin_step(step: Callable[[str], Any]) -> None:
    for module in _MODULES:
        module.record_origin = step  # type: ignore[attr-defined]


def _measure(export: SyntheticExport, repeat: int) -> tuple[float, int, int]:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        _build(export)
        best = min(best, time.perf_counter() - started)
    tracemalloc.start()
    kept = _build(export)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak, len(kept.resources)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        export = write_synthetic_export(
            Path(folder),
            users=args.users,
            organizations=max(1, args.users // 100),
            memberships_per_user=1,
        )
        _with_origin_step(lambda origin: _NO_ORIGIN)
        bare_time, bare_peak, items = _measure(export, args.repeat)
        _with_origin_step(record_origin)
        time_taken, peak, _ = _measure(export, args.repeat)
    print(f"users: {args.users}, imported items: {items}")
    print(f"without origin: {bare_time:.2f} s, peak {bare_peak / 2**20:.1f} MiB")
    print(f"with origin:    {time_taken:.2f} s, peak {peak / 2**20:.1f} MiB")
    extra = (peak - bare_peak) / items
    print(f"cost per item: {extra:.0f} bytes, {(time_taken - bare_time) / items * 1e6:.2f} µs")


if __name__ == "__main__":
    main()
