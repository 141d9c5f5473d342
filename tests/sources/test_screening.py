"""Screening source records: Clerk id shapes and the manifest's character rule, for every
source (CSV, JSON exports, the live API), before the importer sees a record."""

from __future__ import annotations

import dataclasses

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
from authform.sources.records import ExternalAccount
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


# One hostile value per field a source fills, with the label the refusal must name: the fast
# path that clears clean records must send each of these to the walk that names the field.
BAD = "a\x1bb"
HOSTILE_FIELDS = [
    (SourceUser, {"first_name": BAD}, "first_name"),
    (SourceUser, {"last_name": BAD}, "last_name"),
    (SourceUser, {"username": BAD}, "username"),
    (SourceUser, {"primary_email": BAD}, "primary_email"),
    (SourceUser, {"image_url": BAD}, "image_url"),
    (SourceUser, {"emails": (SourceEmail("ok@x.io", True), SourceEmail(BAD, False))}, "emails[1]"),
    (SourceUser, {"phone_numbers": ("+15550100", BAD)}, "phone_numbers[1]"),
    (SourceUser, {"totp_secret": SensitiveText(BAD)}, "totp_secret"),
    (SourceUser, {"password": PasswordDigest(BAD, SensitiveText("x"))}, "password_hasher"),
    (SourceUser, {"password": PasswordDigest("bcrypt", SensitiveText(BAD))}, "password_digest"),
    (
        SourceUser,
        {"external_accounts": (ExternalAccount("oauth_github", BAD),)},
        "external_accounts[0].provider_user_id",
    ),
    (SourceOrganization, {"name": BAD}, "name"),
    (SourceOrganization, {"slug": BAD}, "slug"),
    (SourceOrganization, {"public_metadata": {"tier": {"note": BAD}}}, "public_metadata.tier.note"),
    (SourceMembership, {"role": BAD}, "role"),
]
CLEAN = {
    SourceUser: {"id": USER, "origin": "users.csv:row 2"},
    SourceOrganization: {"id": ORG, "origin": "orgs.json:item 1", "name": "Acme"},
    SourceMembership: {"user_id": USER, "organization_id": ORG, "role": "admin", "origin": "m"},
}


@pytest.mark.parametrize(("record_type", "values", "label"), HOSTILE_FIELDS)
def test_every_field_is_screened_and_named(record_type, values, label):
    record = screen_record(record_type(**{**CLEAN[record_type], **values}))
    assert isinstance(record, MalformedRecord)
    assert record.problem == f"{label} contains the control character U+001B"


def test_every_screened_field_has_a_hostile_case():
    """A field added to a record later gets a case above (the screening walks it already)."""
    for record_type in CLEAN:
        fields = {f.name for f in dataclasses.fields(record_type)} - {"origin", "id"}
        fields -= {"user_id", "organization_id", "sms_second_factor", "totp_enabled"}
        covered = {
            name for kind, values, _ in HOSTILE_FIELDS if kind is record_type for name in values
        }
        assert fields <= covered, fields - covered


@pytest.mark.parametrize(
    "values",
    [
        {"first_name": "Zo\u00eb\u00a0Smith"},  # a no-break space: not printable, still allowed
        {"last_name": 5},  # a value not of its declared type: judged by the walk (no text)
        {"emails": (SourceEmail("a@x.io", True),), "phone_numbers": ()},
    ],
)
def test_records_the_fast_path_cannot_clear_are_still_judged_exactly(values):
    user = SourceUser(USER, "o", **values)
    assert screen_record(user) is user


def test_prose_metadata_may_hold_tabs_and_newlines_but_not_controls():
    fine = SourceOrganization(ORG, "o", "Acme", public_metadata={"note": "a\tb\nc"})
    assert screen_record(fine) is fine
    bad = SourceOrganization(ORG, "o", "Acme", public_metadata={"note": "a\x07"})
    assert (
        screen_record(bad).problem == "public_metadata.note contains the control character U+0007"
    )


def test_printable_is_str_isprintable_for_every_ascii_character_and_beyond():
    from authform.sources.screening import printable

    for code in range(0x100):
        character = chr(code)
        for text in (character, f"ab{character}cd", f"{character}" * 3):
            assert printable(text) is text.isprintable(), repr(text)
    for text in ("", "plain text", "tab\there", "del\x7f", "ünïcode", "zero\u200bwidth", "\u2028"):
        assert printable(text) is text.isprintable(), repr(text)
