import json

import pytest

from authform.sources import MalformedRecord, SourceEmail, SourceError, SourceUser, read_clerk_json

from . import FIXTURES

DIGEST = "$2b$10$rCUC3m0NZNiOTcIgm15yout/fI5HqM0avbC9bxZ1cEP2lWBEfd1c2"


def write(tmp_path, items, name="users.json"):
    path = tmp_path / name
    path.write_text(
        items if isinstance(items, str) else json.dumps(items, indent=2), encoding="utf-8"
    )
    return path


def test_fixture_reads_every_user_without_a_primary_flag():
    records = list(read_clerk_json(FIXTURES / "users.json"))
    assert all(isinstance(r, SourceUser) for r in records)
    assert [r.id[-3:] for r in records] == [f"{n:03}" for n in range(1, 15)]
    assert all(r.primary_email is None for r in records)
    users = {u.id[-3:]: u for u in records}
    assert users["001"].origin == "users.json:item 1 (line 2)"
    assert users["005"].emails == (
        SourceEmail("jessica@atreides.example", True),
        SourceEmail("jessica@harkonnen.example", True),
    )
    assert users["011"].emails == () and users["011"].phone_numbers == ("+15555550111",)
    assert users["012"].first_name == 'Robert "Bobby"'
    assert users["013"].totp_enabled
    assert users["004"].password is None and users["004"].username == ""
    assert users["014"].emails == (SourceEmail("una@example.com", True),)  # verified unless marked


def test_backend_api_shape_with_primary_id_verification_and_sms_second_factor(tmp_path):
    path = write(
        tmp_path,
        [
            {
                "id": "user_api",
                "first_name": None,
                "last_name": "Api",
                "primary_email_address_id": "idn_2",
                "email_addresses": [
                    {
                        "id": "idn_1",
                        "email_address": "old@x.io",
                        "verification": {"status": "verified"},
                    },
                    {
                        "id": "idn_2",
                        "email_address": "new@x.io",
                        "verification": {"status": "unverified"},
                    },
                    {"id": "idn_3", "email_address": "third@x.io", "verification": None},
                ],
                "phone_numbers": [
                    {
                        "id": "idn_4",
                        "phone_number": "+15555550100",
                        "reserved_for_second_factor": True,
                    },
                ],
                "totp_enabled": True,
            }
        ],
    )
    (user,) = read_clerk_json(path)
    assert user.primary_email == "new@x.io"
    assert user.emails == (
        SourceEmail("old@x.io", True),
        SourceEmail("new@x.io", False),
        SourceEmail("third@x.io", True),
    )
    assert user.sms_second_factor and user.totp_enabled and user.totp_secret is None
    assert (user.first_name, user.last_name) == ("", "Api")


def test_unverified_list_marks_addresses(tmp_path):
    path = write(
        tmp_path,
        [
            {
                "id": "user_1",
                "email_addresses": "a@x.io|b@x.io",
                "unverified_email_addresses": "B@x.io|c@x.io",
            }
        ],
    )
    (user,) = read_clerk_json(path)
    assert user.emails == (
        SourceEmail("a@x.io", True),
        SourceEmail("b@x.io", False),
        SourceEmail("c@x.io", False),
    )


def test_malformed_items_are_reported_in_place(tmp_path):
    text = (
        '[\n{"id": "user_1", "email_addresses": "a@x.io"},\n'
        '{"id": "user_2", "password_digest": "' + DIGEST.replace("$", "\\u0024") + '", oops},\n'
        '"just a string",\n'
        '{"first_name": "No Id"},\n'
        '{"id": "user_5", "email_addresses": 42, "password_digest": "' + DIGEST + '"},\n'
        '{"id": "user_6", "first_name": ["x"]},\n'
        '{"id": "user_7"}\n]'
    )
    records = list(read_clerk_json(write(tmp_path, text)))
    summary = [
        (r.origin, r.source_id, r.problem) if isinstance(r, MalformedRecord) else (r.origin, r.id)
        for r in records
    ]
    assert summary == [
        ("users.json:item 1 (line 2)", "user_1"),
        (
            "users.json:item 2 (line 3)",
            None,
            "invalid JSON (Expecting property name enclosed in double quotes) at line 3",
        ),
        ("users.json:item 3 (line 4)", None, "expected a user object, found a string"),
        ("users.json:item 4 (line 5)", None, "the user object has no id"),
        (
            "users.json:item 5 (line 6)",
            "user_5",
            "email_addresses is a number, expected a string or a list",
        ),
        ("users.json:item 6 (line 7)", "user_6", "first_name is an array, expected a string"),
        ("users.json:item 7 (line 8)", "user_7"),
    ]
    assert DIGEST not in repr(records)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty, expected a JSON array"),
        ('{"data": []}', "expected a JSON array, found a JSON object"),
        ("id,first_name\nuser_1,A\n", "expected a JSON array (not JSON, or not an array)"),
        ('[{"id": "user_1"}', "the JSON array is never closed (after item 1)"),
    ],
)
def test_unusable_file_raises_source_error_naming_it(tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(SourceError) as caught:
        list(read_clerk_json(path))
    assert str(caught.value).startswith(f"{path}: {message}")


def test_missing_file(tmp_path):
    with pytest.raises(SourceError, match=r"users\.json: file not found"):
        list(read_clerk_json(tmp_path / "users.json"))
