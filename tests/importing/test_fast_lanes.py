"""The fast lanes (clean blocks of users and memberships written whole) give exactly what the
per-record path gives: the same index rows (byte for byte), skips and their messages, counts,
role uses and re-enroll notices, over the shared Clerk sample and over a synthetic export with
hostile rows and items sprinkled through it, at block sizes from a few records to the
default."""

import csv
import json
from pathlib import Path

import pytest

from authform.engine.index import StateIndex
from authform.importing import build_import_set
from authform.importing.report import SkipCode
from authform.sources import read_clerk_csv, read_clerk_memberships, read_clerk_organizations
from authform.sources.clerk_csv import read_clerk_csv_blocks
from authform.sources.clerk_files import read_clerk_membership_blocks
from authform.sources.json_array import DEFAULT_BLOCK_CHARS
from authform.sources.records import CleanMemberships, CleanUsers
from authform.sources.synthetic import org_id, user_id, write_synthetic_export

from . import FIXTURES

BLOCK_SIZES = [64, 300, 1_000, 4_000, DEFAULT_BLOCK_CHARS]


def _outcome(users, organizations: Path, memberships, role_map, target, policy="primary"):
    index = StateIndex()
    try:
        result = build_import_set(
            users,
            read_clerk_organizations(organizations),
            memberships,
            email_policy=policy,
            role_map=role_map,
            target=target,
            index=index,
        )
        rows = index.db.execute(
            "SELECT seq, kind, key, spec, item FROM desired ORDER BY seq"
        ).fetchall()
        return {
            "rows": rows,
            "skipped": list(result.skipped),
            "reenroll": list(result.reenroll),
            "counts": result.counts,
            "role_uses": list(result.role_uses.items()),
        }
    finally:
        index.close()


def _blocks_taken(path: Path, block_chars: int) -> tuple[int, int]:
    """(clean blocks, records yielded one by one) of the fast lane's reading of ``path``."""
    entries = list(read_clerk_membership_blocks(path, block_chars=block_chars))
    blocks = sum(1 for e in entries if type(e) is CleanMemberships)
    return blocks, len(entries) - blocks


def _assert_same(
    users, organizations, memberships, role_map, target, block_chars, policy="primary"
):
    exact = _outcome(
        read_clerk_csv(users),
        organizations,
        read_clerk_memberships(memberships),
        role_map,
        target,
        policy,
    )
    fast = _outcome(
        read_clerk_csv_blocks(users, rows_per_block=max(block_chars // 100, 1)),
        organizations,
        read_clerk_membership_blocks(memberships, block_chars=block_chars),
        role_map,
        target,
        policy,
    )
    assert fast["rows"] == exact["rows"]
    assert fast["skipped"] == exact["skipped"]
    assert fast["reenroll"] == exact["reenroll"]
    assert fast["counts"] == exact["counts"]
    assert fast["role_uses"] == exact["role_uses"]
    return exact


FIXTURE_ROLES = {"org:admin": "admin", "org:member": "member", "admin": "admin"}


@pytest.mark.parametrize("block_chars", BLOCK_SIZES)
@pytest.mark.parametrize("target", ["workos", "clerk", "kavachos"])
@pytest.mark.parametrize("role_map", [None, FIXTURE_ROLES])
@pytest.mark.parametrize("policy", ["primary", "first", "skip-multi"])
def test_the_clerk_sample_imports_the_same_through_both_lanes(
    block_chars, target, role_map, policy
):
    exact = _assert_same(
        FIXTURES / "users.csv",
        FIXTURES / "organizations.json",
        FIXTURES / "memberships.json",
        role_map,
        target,
        block_chars,
        policy,
    )
    assert exact["counts"].memberships_skipped > 0  # the sample's edge cases are there


def test_the_clerk_sample_is_read_in_blocks_where_it_can_be():
    blocks, alone = _blocks_taken(FIXTURES / "memberships.json", 300)
    assert blocks > 0 and alone > 0


def _membership(n: int, user: str, org: str, role: str = "org:member", **extra):
    item = {
        "object": "organization_membership",
        "id": f"orgmem_hostile{n}",
        "role": role,
        "organization": {"id": org},
        "public_user_data": {"user_id": user},
    }
    item.update(extra)
    return json.dumps(item)


def _hostile_items() -> list[str]:
    """Items that each take the exact path, as JSON texts (one is not valid JSON)."""
    u, o = user_id, org_id
    return [
        _membership(1, u(0), o(0)),  # a repeat of user 0's first membership
        _membership(2, "user_notInTheExport1", o(1)),
        _membership(3, u(1), "org_notInTheExport1"),
        _membership(4, u(2), o(3), role="org:billing"),  # unmapped
        _membership(5, u(3), o(4), role=" org:member"),  # trimmed by the reader
        _membership(6, u(4), o(0), id=""),  # no membership id
        json.dumps({"user_id": u(5), "organization_id": o(2), "role": "org:member"}),  # flat
        _membership(7, u(6), o(4), role="org:\x1bmember"),  # a control character
        _membership(8, "user_bad-shape", o(1)),
        "7",
        '"a string"',
        "[1, 2]",
        json.dumps({**json.loads(_membership(9, u(7), o(2))), "object": "organization"}),
        '{"object": "organization_membership", "id": oops}',  # broken JSON
        _membership(10, "user_syn99990001", o(1)),  # its user is skipped (no email)
        # Objects of the items' own head nested inside an item: a cut may be tried there.
        _membership(11, u(8), o(3), history=[{"object": "a"}, {"object": "b"}]),
        _membership(12, u(9), o(3), note='},{"object": "organization_membership"'),
        _membership(13, u(10), o(4), role=7),
        _membership(14, u(11), o(0), organization=[o(0)]),
        _membership(15, "user_a\nuser_b", o(0)),
        _membership(16, u(13), o(1), id="orgmem_a\norgmem_b"),
        # Numbers a block's values read as floats (see json_array.ItemBlock) are never a
        # text the lane takes; the last imports even in a block (its number is not read).
        _membership(17, u(14), o(2), role=18446744073709551616),
        _membership(18, u(15), o(3), id=-9223372036854775809),
        _membership(19, u(16), o(4), created_at=123456789012345678901234567890),
    ]


BCRYPT = "$2b$04$3TGo6Y.2bb/kT3nG7LzHauczyaL1O6ClvuOn/nvlFGdC2pWnJ8Z76"


def _user_row(user: str, email: str = "", **cells: str) -> list[str]:
    """A users.csv row (columns in ``clerk_csv.COLUMNS`` order)."""
    row = {
        "id": user,
        "first_name": "Hostile",
        "last_name": "Row",
        "username": "",
        "primary_email_address": email,
        "primary_phone_number": "",
        "verified_email_addresses": email,
        "unverified_email_addresses": "",
        "verified_phone_numbers": "",
        "unverified_phone_numbers": "",
        "totp_secret": "",
        "password_digest": BCRYPT,
        "password_hasher": "bcrypt",
    }
    row.update(cells)
    return list(row.values())


def _hostile_user_rows() -> list[list[str]]:
    """Rows that each take the exact path (or, last, import through a block as they are)."""
    h = [f"user_hostile{n}" for n in range(40)]
    return [
        ["user_syn99990001", "No", "Email"] + [""] * 10,  # skipped: its memberships too
        _user_row(user_id(12), "twice@example.com"),  # a repeated id
        _user_row(h[0], "a@example.com|b@example.com", primary_email_address="a@example.com"),
        _user_row(h[1], "", unverified_email_addresses="unverified@example.com"),
        _user_row(h[2], "primary@example.com", verified_email_addresses="other@example.com"),
        _user_row(h[3], "PERSON5@example5.com"),  # another user's address: a conflict
        _user_row(h[4], "not-an-email"),
        _user_row(h[5], " spaced@example.com"),
        _user_row(h[6], "phone@example.com", primary_phone_number="+15555550100"),
        _user_row(h[7], "totp@example.com", totp_secret="JBSWY3DPEHPK3PXP"),
        _user_row(h[8], "argon@example.com", password_hasher="argon2"),
        _user_row(h[9], "short@example.com", password_digest="$2b$04$short"),
        _user_row(h[10], "unnamed@example.com", password_hasher=""),
        _user_row(h[11], "cost@example.com", password_digest=BCRYPT.replace("$04$", "$03$")),
        _user_row(h[12], "upperhasher@example.com", password_hasher="BCRYPT"),
        _user_row(h[13], "control@example.com", first_name="\x1b[31mRed"),
        _user_row("user-bad-shape", "badid@example.com"),
        _user_row("user_a\nuser_b", "newlineid@example.com"),
        _user_row(h[14], "one@example.com\ntwo@example.com"),
        _user_row(h[15], "digests@example.com", password_digest=BCRYPT + "\n" + BCRYPT),
        _user_row(h[16], "multiline@example.com", first_name="Two\nLines"),
        _user_row(h[17], "josé@example.com"),
        _user_row(h[18], "x" * 250 + "@example.com"),
        _user_row(h[19], "nopassword@example.com", password_digest="", password_hasher="x\x00"),
        _user_row(h[20], "Upper.Case@Example.COM"),
        _user_row(h[21], "totpspace@example.com", totp_secret=" "),
        _user_row(h[22], "pipe|@example.com", primary_email_address="pipe|@example.com"),
        _user_row(h[23], "dots..@example.com"),
        ["user_hostileShort", "Too", "Few"],
        _user_row(h[24], "extra@example.com") + ["", "an extra cell"],
        [],  # a blank line
        _user_row(h[25], "username@example.com", username="\tname"),
    ]


def _hostile_export(folder: Path, indent: int | None) -> tuple[Path, Path, Path]:
    export = write_synthetic_export(folder, users=200, organizations=6, memberships_per_user=2)
    with export.users_csv.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    for at, row in enumerate(_hostile_user_rows()):
        rows.insert(5 + at * 4, row)
    with export.users_csv.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    clean = json.loads(export.memberships_json.read_text(encoding="utf-8"))
    # A role first used in the middle of the export (its first use is reported with origin).
    for item in clean[150:170]:
        item["role"] = "org:viewer"
    texts = [json.dumps(item, indent=indent) for item in clean]
    hostile = _hostile_items()
    for at, text in enumerate(hostile):
        texts.insert(7 + at * 13, text)
    export.memberships_json.write_text("[\n" + "\n,".join(texts) + "\n]\n", encoding="utf-8")
    return export.users_csv, export.organizations_json, export.memberships_json


HOSTILE_ROLES = {"org:admin": "admin", "org:member": "member", "org:viewer": "member"}


@pytest.mark.parametrize("block_chars", BLOCK_SIZES)
@pytest.mark.parametrize("indent", [None, 2])
@pytest.mark.parametrize("target", ["workos", "clerk", "kavachos"])
@pytest.mark.parametrize("policy", ["primary", "skip-multi"])
def test_hostile_items_are_judged_the_same_through_both_lanes(
    tmp_path, block_chars, indent, target, policy
):
    users, organizations, memberships = _hostile_export(tmp_path, indent)
    exact = _assert_same(
        users, organizations, memberships, HOSTILE_ROLES, target, block_chars, policy
    )
    user_codes = {s.code for s in exact["skipped"] if s.kind == "user"}
    assert {
        SkipCode.EMAIL_CONFLICT,
        SkipCode.DUPLICATE_USER,
        SkipCode.MALFORMED_RECORD,
        SkipCode.INVALID_EMAIL,
        SkipCode.MALFORMED_PASSWORD_DIGEST,
    } <= user_codes
    codes = {s.code for s in exact["skipped"] if s.kind == "membership"}
    assert codes == {
        SkipCode.DUPLICATE_MEMBERSHIP,
        SkipCode.USER_NOT_IN_EXPORT,
        SkipCode.ORGANIZATION_NOT_IN_EXPORT,
        SkipCode.UNMAPPED_ROLE,
        SkipCode.MALFORMED_RECORD,
        SkipCode.USER_SKIPPED,
    }
    if block_chars in (1_000, 4_000):  # a larger block holds a hostile item whole
        blocks, alone = _blocks_taken(memberships, block_chars)
        assert blocks > 0 and alone > 0
        entries = list(read_clerk_csv_blocks(users, rows_per_block=block_chars // 100))
        blocks = sum(1 for e in entries if type(e) is CleanUsers)
        assert 0 < blocks < len(entries)
