"""Screening source records: Clerk id shapes and the manifest's character rule, for every
source (CSV, JSON exports, the live API), before the importer sees a record."""

from __future__ import annotations

import pytest

from authform.sources import (
    MalformedRecord,
    PasswordDigest,
    SensitiveText,
    SourceEmail,
    SourceMembership,
    SourceOrganization,
    SourceUser,
)
from authform.sources.clerk_api import _origin, user_from_api
from authform.sources.clerk_ids import clerk_id_problem, is_clerk_id
from authform.sources.errors import locate_invalid_utf8
from authform.sources.screening import screen_record, screened

USER = "user_2aAda0000000000000000001"
ORG = "org_2aAcme000000000000000001"


def test_a_clean_record_passes_unchanged():
    user = SourceUser(
        USER,
        "users.csv:row 2",
        first_name="  Zoë ",  # names as written: spaces are not hostile
        last_name='O\'Brien, "Jr"',
        emails=(SourceEmail("ada@example.com", True),),
        password=PasswordDigest("bcrypt", SensitiveText("$2b$10$" + "a" * 53)),
    )
    assert screen_record(user) is user
    org = SourceOrganization(ORG, "o", "Acme", public_metadata={"note": "line 1\nline\t2"})
    assert screen_record(org) is org  # metadata values are prose: tabs and newlines are fine


def test_an_api_user_with_a_hostile_name_is_screened_like_an_export_row():
    api_user = {"object": "user", "id": USER, "first_name": "\x1b[31mAda", "last_name": "L"}
    record = screen_record(user_from_api(api_user, "Clerk API users #1 (user_2aAda…)"))
    assert record == MalformedRecord(
        "user",
        "Clerk API users #1 (user_2aAda…)",
        "first_name contains the control character U+001B",
        source_id=USER,
    )


def test_a_secret_field_is_named_never_quoted():
    user = SourceUser(USER, "o", totp_secret=SensitiveText("JBSW\x00Y3DP"))
    record = screen_record(user)
    assert isinstance(record, MalformedRecord)
    assert record.problem == "totp_secret contains the control character U+0000"
    assert "JBSW" not in repr(record)


def test_a_hostile_metadata_key_is_refused_without_being_shown():
    org = SourceOrganization(ORG, "o", "Acme", public_metadata={"ti\u202eer": "x"})
    record = screen_record(org)
    assert isinstance(record, MalformedRecord)
    assert record.problem == "a key of public_metadata contains the control character U+202E"


def test_deeply_nested_metadata_is_walked_without_recursion():
    nested: dict[str, object] = {"leaf": "bad\x07"}
    for _ in range(5000):
        nested = {"k": nested}
    record = screen_record(SourceOrganization(ORG, "o", "Acme", public_metadata=nested))
    assert isinstance(record, MalformedRecord)
    assert record.problem.endswith(".leaf contains the control character U+0007")


@pytest.mark.parametrize(
    ("membership", "problem", "source_id"),
    [
        (SourceMembership("=1+1", ORG, "org:member", "m"), "user_id is not a Clerk user", None),
        (SourceMembership(USER, "@x", "org:member", "m"), "organization_id is not", None),
        (
            SourceMembership(USER, ORG, "org:member", "m", id="orgmem_\x00"),
            "id is not a Clerk membership id",
            f"{USER}@{ORG}",
        ),
    ],
)
def test_membership_ids_must_have_clerk_shapes(membership, problem, source_id):
    record = screen_record(membership)
    assert isinstance(record, MalformedRecord)
    assert record.problem.startswith(problem)
    assert record.source_id == source_id


def test_a_flat_membership_row_without_an_id_is_fine():
    row = SourceMembership(USER, ORG, "org:member", "m")
    assert screen_record(row) is row


def test_a_readers_malformed_record_keeps_its_id_only_when_it_is_one():
    kept = MalformedRecord("user", "o", "bad", source_id=USER)
    dropped = MalformedRecord("organization", "o", "bad", source_id="=HYPERLINK(1)")
    membership = MalformedRecord("membership", "o", "bad", source_id=f"{USER}@{ORG}")
    assert list(screened([kept, dropped, membership])) == [
        kept,
        MalformedRecord("organization", "o", "bad", source_id=None),
        membership,
    ]


@pytest.mark.parametrize(
    ("kind", "value", "ok"),
    [
        ("user", USER, True),
        ("user", "user_", False),
        ("user", "user_abc_def", False),
        ("user", "User_abc", False),
        ("user", "user_abc\n", False),
        ("user", ORG, False),
        ("organization", ORG, True),
        ("membership", "orgmem_00010001", True),
    ],
)
def test_clerk_id_shapes(kind, value, ok):
    assert is_clerk_id(kind, value) is ok
    assert (clerk_id_problem(kind, value) is None) is ok


def test_an_api_origin_shows_the_id_only_when_it_is_one():
    assert _origin("users", 3, {"id": USER}) == f"Clerk API users #3 ({USER})"
    assert _origin("users", 3, {"id": "\x1b[2J"}) == "Clerk API users #3"


def test_locating_invalid_utf8_across_chunk_boundaries(tmp_path):
    text = ("é" * 5 + "\n") * 10 + "abc"
    path = tmp_path / "x.csv"
    path.write_bytes(text.encode() + b"\xff")
    for chunk_size in (1, 2, 3, 7, 1 << 20):
        where = locate_invalid_utf8(path, chunk_size=chunk_size)
        assert where is not None
        assert (where.line, where.offset) == (11, len(text.encode())), chunk_size
    path.write_bytes(text.encode())
    assert locate_invalid_utf8(path, chunk_size=4) is None
