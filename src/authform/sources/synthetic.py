"""Synthetic Clerk exports of any size, for benchmarks, resumability tests, and trying
authform at scale without real data. Same files and shapes as the Clerk dashboard CSV export
and the Backend API's organization and membership lists."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from authform.sources.clerk_csv import COLUMNS as CSV_COLUMNS

# One real bcrypt digest (cost 4, password "synthetic-password"), shared by every synthetic
# user: hashing 100,000 distinct passwords would dominate any benchmark that uses the export.
SYNTHETIC_PASSWORD = "synthetic-password"
SYNTHETIC_DIGEST = "$2b$04$3TGo6Y.2bb/kT3nG7LzHauczyaL1O6ClvuOn/nvlFGdC2pWnJ8Z76"


@dataclass(frozen=True)
class SyntheticExport:
    users_csv: Path
    organizations_json: Path
    memberships_json: Path
    users: int
    organizations: int
    memberships: int


def user_id(n: int) -> str:
    return f"user_syn{n:08d}"


def org_id(n: int) -> str:
    return f"org_syn{n:06d}"


def write_synthetic_export(
    folder: Path, *, users: int, organizations: int = 0, memberships_per_user: int = 0
) -> SyntheticExport:
    """Users ``user_syn00000000…``; user n belongs to organizations n, n+1, … (mod count)."""
    folder.mkdir(parents=True, exist_ok=True)
    users_csv = folder / "users.csv"
    with users_csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for n in range(users):
            email = f"person{n}@example{n % 97}.com"
            writer.writerow(
                [
                    user_id(n),
                    f"First{n}",
                    f"Last{n}",
                    "",
                    email,
                    "",
                    email,
                    "",
                    "",
                    "",
                    "",
                    SYNTHETIC_DIGEST,
                    "bcrypt",
                ]
            )
    orgs_json = folder / "organizations.json"
    with orgs_json.open("w", encoding="utf-8") as handle:
        handle.write("[\n")
        for n in range(organizations):
            item = {
                "object": "organization",
                "id": org_id(n),
                "name": f"Org {n}",
                "slug": f"org-{n}",
                "public_metadata": {},
                "private_metadata": {},
            }
            handle.write(("," if n else "") + json.dumps(item) + "\n")
        handle.write("]\n")
    memberships = 0
    members_json = folder / "memberships.json"
    with members_json.open("w", encoding="utf-8") as handle:
        handle.write("[\n")
        if organizations:
            for n in range(users):
                for k in range(min(memberships_per_user, organizations)):
                    item = {
                        "object": "organization_membership",
                        "id": f"orgmem_syn{memberships:09d}",
                        "role": "org:admin" if k == 0 and n % 10 == 0 else "org:member",
                        "organization": {"id": org_id((n + k) % organizations)},
                        "public_user_data": {"user_id": user_id(n)},
                    }
                    handle.write(("," if memberships else "") + json.dumps(item) + "\n")
                    memberships += 1
        handle.write("]\n")
    return SyntheticExport(users_csv, orgs_json, members_json, users, organizations, memberships)
