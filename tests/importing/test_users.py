import pytest

from authform.importing import build_import_set
from authform.resources import Kind, Resource
from authform.sources import MalformedRecord

from .factories import BCRYPT_DIGEST, member, org, user


def build(*users, **options):
    return build_import_set(list(users), [], [], **options)


def skips(result):
    return [(s.source_id, s.code, s.imported) for s in result.skipped]


def test_a_plain_user_becomes_a_compact_resource_keyed_by_clerk_id():
    result = build(user("user_1", "A@X.io", first_name="Ada", digest=BCRYPT_DIGEST))
    assert result.users == [
        Resource(
            kind=Kind.USER,
            key="user_1",
            spec={"email": "a@x.io", "first_name": "Ada", "last_name": "", "email_verified": True},
            create_only={"password_hash": BCRYPT_DIGEST, "password_hash_type": "bcrypt"},
        )
    ]
    assert result.skipped == [] and result.reenroll == []


def test_names_are_kept_exactly():
    result = build(user("user_u", "a@x.io", first_name="  Zoë ", last_name='O\'Brien, "Jr"'))
    assert (result.users[0].spec["first_name"], result.users[0].spec["last_name"]) == (
        "  Zoë ",
        'O\'Brien, "Jr"',
    )


def test_email_verified_follows_the_chosen_address():
    result = build(user("user_u", "a@x.io", verified=False))
    assert result.users[0].spec["email_verified"] is False


def test_conflicting_emails_skip_every_user_involved_and_name_the_others():
    result = build(
        user("user_a", "same@x.io", digest=BCRYPT_DIGEST, totp_enabled=True),
        user("user_b", "other@x.io"),
        user("user_c", "SAME@x.io "),
        user("user_d", "Same@X.IO", digest="bad", hasher="bcrypt"),
    )
    assert [u.key for u in result.users] == ["user_b"]
    assert skips(result) == [
        ("user_a", "email_conflict", False),
        ("user_c", "email_conflict", False),
        ("user_d", "email_conflict", False),
    ]
    assert "user_c, user_d" in result.skipped[0].reason
    assert "user_a, user_d" in result.skipped[1].reason
    # Caveats and re-enrollment of users that are not imported are not reported.
    assert result.reenroll == []
    assert result.counts.users_skipped == 3 and result.counts.users_imported == 1


def test_conflicts_are_judged_on_the_chosen_address_only():
    result = build(
        user("user_a", "a@x.io", "shared@x.io", primary="a@x.io"), user("user_b", "shared@x.io")
    )
    assert [u.key for u in result.users] == ["user_a", "user_b"]


def test_phone_only_and_no_email_at_all():
    result = build(
        user("user_p", phone_numbers=("+15555550100",)),
        user("user_n", username="web3-only"),
    )
    assert result.users == []
    assert skips(result) == [("user_p", "phone_only", False), ("user_n", "no_email", False)]


def test_invalid_email_is_skipped_with_the_reason():
    result = build(user("user_1", "not-an-email"))
    (skip,) = result.skipped
    assert (skip.code, skip.imported) == ("invalid_email", False)
    assert skip.reason == "email address 'not-an-email' is invalid: it must contain exactly one @"


def test_skip_multi_policy():
    result = build(
        user("user_1", "a@x.io", "b@x.io", primary="a@x.io"),
        user("user_2", "c@x.io"),
        email_policy="skip-multi",
    )
    assert [u.key for u in result.users] == ["user_2"]
    assert skips(result) == [("user_1", "multiple_emails_skipped", False)]
    assert result.counts.users_with_several_emails == 1


def test_unknown_primary_is_a_caveat_not_a_skip():
    result = build(user("user_1", "a@x.io", "b@x.io"))
    assert result.users[0].spec["email"] == "a@x.io"
    assert skips(result) == [("user_1", "primary_email_unknown", True)]
    assert "b@x.io" in result.skipped[0].reason
    assert result.counts.users_primary_unknown == 1


def test_password_caveats_still_import_the_user():
    result = build(
        user("user_1", "a@x.io", digest="$2b$10$short"),
        user("user_2", "b@x.io", digest="sha1$abc", hasher="sha256"),
        user("user_3", "c@x.io"),
    )
    assert [(u.key, dict(u.create_only)) for u in result.users] == [
        ("user_1", {}),
        ("user_2", {}),
        ("user_3", {}),
    ]
    assert skips(result) == [
        ("user_1", "malformed_password_digest", True),
        ("user_2", "unsupported_password_hasher", True),
    ]
    assert (result.counts.users_with_password, result.counts.users_without_password) == (0, 3)


def test_second_factors_that_must_be_re_enrolled():
    result = build(
        user("user_t", "t@x.io", totp_enabled=True),
        user("user_s", "s@x.io", sms_second_factor=True),
        user("user_b", "b@x.io", totp_enabled=True, sms_second_factor=True),
        user("user_n", "n@x.io"),
    )
    assert [(n.source_id, n.email, n.factors) for n in result.reenroll] == [
        ("user_t", "t@x.io", ("totp",)),
        ("user_s", "s@x.io", ("sms",)),
        ("user_b", "b@x.io", ("totp", "sms")),
    ]
    assert "SMS" in result.reenroll[1].reason and "TOTP" in result.reenroll[0].reason
    assert result.counts.users_to_reenroll == 3


def test_malformed_and_duplicate_records():
    result = build_import_set(
        [
            user("user_1", "a@x.io"),
            MalformedRecord(
                "user", "users.csv:row 3", "expected 13 columns, found 3", source_id="user_2"
            ),
            MalformedRecord("user", "users.csv:row 4", "the id column is empty"),
            user("user_1", "again@x.io"),
        ],
        [org("org_1")],
        [member("user_1"), member("user_2")],
    )
    assert [u.key for u in result.users] == ["user_1"]
    assert result.users[0].spec["email"] == "a@x.io"
    assert [(s.source_id, s.origin, s.code) for s in result.skipped] == [
        ("user_2", "users.csv:row 3", "malformed_record"),
        ("", "users.csv:row 4", "malformed_record"),
        ("user_1", "test:user_1", "duplicate_user"),
        ("user_2@org_1", "test:user_2@org_1", "user_skipped"),
    ]
    assert result.skipped[0].reason == "expected 13 columns, found 3"
    assert result.skipped[-1].reason == "its user user_2 is not imported (malformed_record)"
    assert result.counts.users_total == 4 and result.counts.users_skipped == 3


def test_unknown_email_policy_is_a_value_error():
    with pytest.raises(ValueError, match="unknown email policy 'last'"):
        build(user("u", "a@x.io"), email_policy="last")
