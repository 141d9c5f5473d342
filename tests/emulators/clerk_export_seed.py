"""A Clerk export (the Dashboard's ``users.csv`` plus Backend API JSON) as a Clerk emulator
seed: test support, so a test can stand up "the instance the export came from" and read it
back through the API. It converts a file format into a seed; the emulator itself only ever
reads seeds (``authform.emulators.clerk.seed``)."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from authform.emulators.clerk.forms import names
from authform.emulators.clerk.roles import DEFAULT_ROLES
from authform.emulators.clerk.users import METADATA

# Users in the Dashboard CSV carry no creation time; the seed spaces them a minute apart in
# file order, so created_at order is file order and every page boundary is deterministic.
EXPORT_USERS_CREATED_FROM: Final = 1_690_000_000_000
EXPORT_USERS_CREATED_STEP: Final = 60_000
EXPORT_ORGANIZATION_FIELDS: Final = names(
    "id name slug public_metadata private_metadata max_allowed_memberships created_at updated_at"
)


def seed_from_clerk_export(directory: str | Path) -> dict[str, Any]:
    """A seed holding what a Clerk export describes: ``users.csv`` (Dashboard export, with
    digests and TOTP secrets), ``users.json`` (metadata, optional), ``organizations.json`` and
    ``memberships.json`` (Backend API objects, optional).

    Lets a test stand up "the instance the export came from" and read it back through the
    API; written to a JSON file, it is also a seed for ``authform emulator clerk --seed``.
    Memberships of users missing from the export are kept as ``dangling_user``; role keys the
    export uses that Clerk does not define by default (legacy ``admin``/``basic_member``)
    become seed roles.
    """
    root = Path(directory)

    def read(name: str) -> list[dict[str, Any]]:
        path = root / name
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []

    with open(root / "users.csv", encoding="utf-8-sig", newline="") as handle:
        users = [_user_from_csv_row(row, n) for n, row in enumerate(csv.DictReader(handle))]
    metadata = {item["id"]: item for item in read("users.json")}
    for user in users:
        found = metadata.get(user["id"], {})
        user.update(
            {key: found[key] for key in METADATA if isinstance(found.get(key), dict) and found[key]}
        )
    seed: dict[str, Any] = {"users": users}
    if organizations := read("organizations.json"):
        seed["organizations"] = [
            {key: org[key] for key in EXPORT_ORGANIZATION_FIELDS if org.get(key) is not None}
            for org in organizations
        ]
    known_users = {user["id"] for user in users}
    roles = {key: key for key, _, _ in DEFAULT_ROLES}
    for item in read("memberships.json"):
        user_id = item["public_user_data"]["user_id"]
        membership = {
            "id": item.get("id"),
            "organization": item["organization"]["id"],
            "user_id": user_id,
            "role": item["role"],
            "created_at": item.get("created_at"),
            "updated_at": item.get("updated_at"),
            "dangling_user": True if user_id not in known_users else None,
        }
        seed.setdefault("memberships", []).append(
            {k: v for k, v in membership.items() if v is not None}
        )
        if item["role"] not in roles:
            roles[item["role"]] = item["role"]
            name = item["role"].replace("_", " ").title()
            seed.setdefault("roles", []).append({"key": item["role"], "name": name})
    return seed


def _cell(row: Mapping[str, str], column: str) -> str:
    return (row.get(column) or "").strip()


def _split_cell(row: Mapping[str, str], column: str) -> list[str]:
    # The Dashboard export's delimiter inside multi-value cells is undocumented; |, ; and ,
    # never occur inside an email address or phone number.
    return [part.strip() for part in re.split(r"[|,;]", _cell(row, column)) if part.strip()]


def _user_from_csv_row(row: Mapping[str, str], index: int) -> dict[str, Any]:
    primary_phone = _cell(row, "primary_phone_number")
    verified_phones = [primary_phone] if primary_phone else []
    phones = list(dict.fromkeys(verified_phones + _split_cell(row, "verified_phone_numbers")))
    unverified_phones = [p for p in _split_cell(row, "unverified_phone_numbers") if p not in phones]
    emails = [(a, True) for a in _split_cell(row, "verified_email_addresses")]
    emails += [(a, False) for a in _split_cell(row, "unverified_email_addresses")]
    numbers = [(p, True) for p in phones] + [(p, False) for p in unverified_phones]
    digest = _cell(row, "password_digest")
    user: dict[str, Any] = {
        "id": row["id"].strip(),
        "first_name": row.get("first_name") or None,
        "last_name": row.get("last_name") or None,
        "username": _cell(row, "username") or None,
        "email_addresses": [{"email_address": a, "verified": v} for a, v in emails],
        "phone_numbers": [{"phone_number": p, "verified": v} for p, v in numbers],
        "created_at": EXPORT_USERS_CREATED_FROM + index * EXPORT_USERS_CREATED_STEP,
        "primary_email_address": _cell(row, "primary_email_address") or None,
        "primary_phone_number": primary_phone or None,
        "totp_secret": _cell(row, "totp_secret") or None,
        "password_digest": digest or None,
        "password_hasher": (_cell(row, "password_hasher") or "bcrypt") if digest else None,
    }
    return {key: value for key, value in user.items() if value is not None}
