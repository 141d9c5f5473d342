"""A saved plan built from fixed inputs under a fixed salt, for the format-compatibility test.

A plan saved by one version of authform must apply with the next: ``apply PLAN.json``
recomputes the plan and compares it line by line with the file, and the source's and live
state's fingerprints with the header's. So for the same inputs and salt, the change lines
and those fingerprints must come out byte for byte the same, however the planner and the
writer compute them. ``build`` makes such a plan offline (no emulator: the live side is
written straight into the index) with every kind of change the writer handles: creates of
imported users (write-once password digests, names outside ASCII), organizations and
memberships, updates, an adoption, blocked deletes and a manual step.

Run as a script with the ``src`` of another version on ``PYTHONPATH`` to record what that
version writes (``golden/format3-plan.json``)::

    PYTHONPATH=OTHER/src python tests/saved_plan/golden_plan.py tests/saved_plan/golden
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
from pathlib import Path
from typing import Any, cast

from authform.engine.index import StateIndex
from authform.engine.plan import PlanOptions, Policy
from authform.engine.planner import plan_index
from authform.manifest import load_manifest
from authform.providers.base import Provider
from authform.providers.workos import CAPABILITIES
from authform.resources import Kind, Resource
from authform.saved_plan import MadeWith, evidence, seal
from authform.sources.clerk_csv import COLUMNS
from authform.workflow import Session, desired_state

SALT = bytes(range(16))
CREDENTIAL = "sk_test_golden_plan"
DIGEST = "$2b$04$3TGo6Y.2bb/kT3nG7LzHauczyaL1O6ClvuOn/nvlFGdC2pWnJ8Z76"
USERS = [
    ("user_a", "Zoë", "Ångström", "zoe@example.com"),
    ("user_b", "李", "小龙", "li@example.com"),
    ("user_c", "Ann", "Lee", "ann@example.com"),
    ("user_d", "Bo", "Ek", "bo@example.com"),
    ("user_e", "Cy", 'Quote"d', "cy@example.com"),
]
MANIFEST = """\
version: 1
target: {provider: workos, api_key: "${env:GOLDEN_PLAN_KEY}"}
roles:
  - {slug: admin, name: Admin}
  - {slug: member, name: Member}
organizations:
  - {key: hand, name: Handmade Co}
users:
  source: {kind: clerk-csv, path: users.csv, organizations: organizations.json,
           memberships: memberships.json}
  role_map: {"org:admin": admin, "org:member": member}
"""


def write_inputs(folder: Path) -> None:
    with (folder / "users.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for user, first, last, email in USERS:
            row = dict.fromkeys(COLUMNS, "")
            row |= {
                "id": user,
                "first_name": first,
                "last_name": last,
                "primary_email_address": email,
                "verified_email_addresses": email,
                "password_digest": DIGEST,
                "password_hasher": "bcrypt",
            }
            writer.writerow([row[column] for column in COLUMNS])
    organizations = [
        {"object": "organization", "id": f"org_{n}", "name": name, "slug": f"org-{n}"}
        for n, name in enumerate(["Acme", "Bêta GmbH"])
    ]
    (folder / "organizations.json").write_text(json.dumps(organizations), encoding="utf-8")
    memberships = [
        {
            "object": "organization_membership",
            "id": f"orgmem_{n}",
            "role": "org:admin" if n == 0 else "org:member",
            "organization": {"id": f"org_{n % 2}"},
            "public_user_data": {"user_id": user},
        }
        for n, (user, *_) in enumerate(USERS)
    ]
    (folder / "memberships.json").write_text(json.dumps(memberships), encoding="utf-8")
    (folder / "authform.yaml").write_text(MANIFEST, encoding="utf-8")


def live_state(index: StateIndex) -> list[Resource]:
    """What the tenant holds: two imported users (one equal, one renamed), one made by hand
    with a desired user's email (adopted), one no longer desired, a role, and
    memberships (one with another role, one no longer desired)."""
    desired = {(r.kind, r.key): r for r in index.desired()}
    same = desired[Kind.USER, "user_c"]
    renamed = desired[Kind.USER, "user_d"]
    adoptable = desired[Kind.USER, "user_e"]
    member = next(r for r in index.desired(Kind.MEMBERSHIP) if r.key.startswith("user_c"))
    return [
        Resource(Kind.ROLE, "admin", {"slug": "admin", "name": "Admin", "description": ""}),
        Resource(Kind.USER, same.key, dict(same.spec), provider_id="user_01C"),
        Resource(
            Kind.USER, renamed.key, {**renamed.spec, "first_name": "Robert"}, provider_id="u_D"
        ),
        Resource(
            Kind.USER,
            "unkeyed:user_01E",
            {**adoptable.spec, "external_id": None},
            provider_id="user_01E",
            observed={"unkeyed": True},
        ),
        Resource(
            Kind.USER,
            "user_gone",
            {"email": "gone@example.com", "first_name": "Gone", "external_id": "user_gone"},
            provider_id="user_01G",
        ),
        Resource(Kind.MEMBERSHIP, member.key, {**member.spec, "role": "admin"}, "om_1"),
        Resource(
            Kind.MEMBERSHIP,
            "user_gone@org_0",
            {"user": "user_gone", "organization": "org_0", "role": "member"},
            "om_2",
        ),
    ]


def manual_steps(desired: Resource | None, live: Resource | None) -> list[str]:
    item = desired or live
    assert item is not None
    return [f"Open the dashboard and change {item.address} by hand."]


def build(folder: Path) -> dict[str, Any]:
    """The saved plan's path-independent parts for the inputs written to ``folder``: its
    change lines, the source's, live state's and target's fingerprints, and the digest."""
    from authform.importing.source import load_import_set

    write_inputs(folder)
    loaded = load_manifest(folder, environment=None)
    index = StateIndex()
    try:
        assert loaded.manifest.users is not None
        import_set = load_import_set(loaded.manifest.users, "workos", index)
        desired, managed = desired_state(loaded, import_set, index)
        index.add_live(live_state(index))
        options = PlanOptions(
            managed=managed,
            capabilities=CAPABILITIES,
            policy=Policy(threshold_min_existing=1000),
            manual_instructions=manual_steps,
            read=managed | {Kind.ROLE},
        )
        plan = plan_index(index, options)
        session = Session(
            loaded,
            cast(Provider, None),
            desired,
            managed,
            None,
            import_set=import_set,
            import_label="clerk-csv users.csv",
        )
        sealer = seal.Sealer(SALT, CREDENTIAL)
        made_with = MadeWith("manifest", "/golden/manifest", False, None, False)
        prints = evidence.fingerprints(plan, session, made_with, sealer)
        return {
            "changes": [
                line.decode("utf-8") for line in evidence.sealed_change_lines(plan, sealer)
            ],
            "fingerprints": {key: prints[key] for key in ("target", "source", "live")},
            "digest": plan.digest(),
        }
    finally:
        index.close()


def record(folder: Path) -> Path:
    """Write what this version builds to ``folder/format3-plan.json``."""
    import os

    os.environ.setdefault("GOLDEN_PLAN_KEY", CREDENTIAL)
    with tempfile.TemporaryDirectory() as inputs:
        built = build(Path(inputs))
    out = folder / "format3-plan.json"
    out.write_text(json.dumps(built, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    print(record(Path(sys.argv[1])))
