"""A seed from a Clerk export: stand up "the instance the export came from"."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from .roles import DEFAULT_ROLES

# Users in the Dashboard CSV carry no creation time; the seed spaces them a minute apart in
# file order, so created_at order is file order and every page boundary is deterministic.
EXPORT_USERS_CREATED_FROM: Final = 1_690_000_000_000
EXPORT_USERS_CREATED_STEP: Final = 60_000


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
    users: list[dict[str, Any]] = []
    with open(root / "users.csv", encoding="utf-8-sig", newline="") as handle:
        for index, row in enumerate(csv.DictReader(handle)):
            users.append(_seed_user_from_csv_row(row, index))
    metadata: dict[str, dict[str, Any]] = {}
    if (root / "users.json").is_file():
        for item in json.loads((root / "users.json").read_text(encoding="utf-8")):
            metadata[item["id"]] = {
                key: item[key]
                for key in ("public_metadata", "private_metadata", "unsafe_metadata")
                if isinstance(item.get(key), dict) and item[key]
            }
    for user in users:
        user.update(metadata.get(user["id"], {}))
    seed: dict[str, Any] = {"users": users}
    if (root / "organizations.json").is_file():
        seed["organizations"] = [
            {
                key: org[key]
                for key in (
                    "id",
                    "name",
                    "slug",
                    "public_metadata",
                    "private_metadata",
                    "max_allowed_memberships",
                    "created_at",
                    "updated_at",
                )
                if org.get(key) is not None
            }
            for org in json.loads((root / "organizations.json").read_text(encoding="utf-8"))
        ]
    if (root / "memberships.json").is_file():
        known_users = {user["id"] for user in users}
        default_roles = {key for key, _, _ in DEFAULT_ROLES}
        memberships: list[dict[str, Any]] = []
        roles: list[dict[str, Any]] = []
        for item in json.loads((root / "memberships.json").read_text(encoding="utf-8")):
            user_id = item["public_user_data"]["user_id"]
            membership = {
                "id": item.get("id"),
                "organization": item["organization"]["id"],
                "user_id": user_id,
                "role": item["role"],
                "created_at": item.get("created_at"),
                "updated_at": item.get("updated_at"),
            }
            if user_id not in known_users:
                membership["dangling_user"] = True
            memberships.append({k: v for k, v in membership.items() if v is not None})
            if item["role"] not in default_roles and item["role"] not in {r["key"] for r in roles}:
                roles.append({"key": item["role"], "name": item["role"].replace("_", " ").title()})
        seed["memberships"] = memberships
        if roles:
            seed["roles"] = roles
    return seed


def _split_cell(cell: str | None) -> list[str]:
    # The Dashboard export's delimiter inside multi-value cells is undocumented; |, ; and ,
    # never occur inside an email address or phone number.
    return [part.strip() for part in re.split(r"[|,;]", cell or "") if part.strip()]


def _seed_user_from_csv_row(row: Mapping[str, str], index: int) -> dict[str, Any]:
    verified = _split_cell(row.get("verified_email_addresses"))
    unverified = _split_cell(row.get("unverified_email_addresses"))
    primary_phone = (row.get("primary_phone_number") or "").strip()
    phones = list(
        dict.fromkeys(
            ([primary_phone] if primary_phone else [])
            + _split_cell(row.get("verified_phone_numbers"))
        )
    )
    unverified_phones = [
        phone for phone in _split_cell(row.get("unverified_phone_numbers")) if phone not in phones
    ]
    user: dict[str, Any] = {
        "id": row["id"].strip(),
        "first_name": row.get("first_name") or None,
        "last_name": row.get("last_name") or None,
        "username": (row.get("username") or "").strip() or None,
        "email_addresses": [{"email_address": a, "verified": True} for a in verified]
        + [{"email_address": a, "verified": False} for a in unverified],
        "phone_numbers": [{"phone_number": p, "verified": True} for p in phones]
        + [{"phone_number": p, "verified": False} for p in unverified_phones],
        "created_at": EXPORT_USERS_CREATED_FROM + index * EXPORT_USERS_CREATED_STEP,
    }
    primary_email = (row.get("primary_email_address") or "").strip()
    if primary_email:
        user["primary_email_address"] = primary_email
    if primary_phone:
        user["primary_phone_number"] = primary_phone
    if (row.get("totp_secret") or "").strip():
        user["totp_secret"] = row["totp_secret"].strip()
    if (row.get("password_digest") or "").strip():
        user["password_digest"] = row["password_digest"].strip()
        user["password_hasher"] = (row.get("password_hasher") or "").strip() or "bcrypt"
    return {key: value for key, value in user.items() if value is not None}
