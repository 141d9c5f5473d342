"""Clerk user objects are judged by Clerk's own ``User`` schema (issue 10, item 8): a record
whose field has the wrong type is skipped, and the report names the record and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from authform.sources import MalformedRecord, SourceUser, read_clerk_json
from authform.sources.clerk_api import user_from_api
from authform.sources.clerk_user_schema import is_api_user, user_schema, user_schema_problem

from .clerk_user_subset import clerk_user_subset

API_USER = {
    "id": "user_1",
    "object": "user",
    "username": None,
    "first_name": "Ada",
    "last_name": None,
    "primary_email_address_id": "idn_1",
    "primary_phone_number_id": None,
    "totp_enabled": False,
    "email_addresses": [
        {
            "id": "idn_1",
            "object": "email_address",
            "email_address": "ada@example.com",
            "reserved": False,
            "verification": {"status": "verified", "strategy": "email_code"},
        }
    ],
    "phone_numbers": [],
}


def test_the_vendored_schema_is_clerks_user_schema_subset() -> None:
    """Regenerated from tests/fixtures/openapi/clerk-bapi-2026-05-12.yml: stale fails."""
    assert user_schema() == clerk_user_subset(), (
        "run tests/sources/clerk_user_subset.py's clerk_user_subset() into "
        "src/authform/sources/schemas/clerk_user.json"
    )
    assert "clerk/openapi-specs" in user_schema()["$comment"]


def test_a_user_as_the_api_returns_it_passes() -> None:
    assert user_schema_problem(API_USER) is None
    assert isinstance(user_from_api(API_USER, "Clerk API users #0"), SourceUser)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"first_name": 7}, "first_name: expected a string or null, found a number"),
        ({"totp_enabled": "yes"}, "totp_enabled: expected a boolean, found a string"),
        ({"object": "organization"}, 'object: expected one of "user"'),
        ({"email_addresses": {"id": "x"}}, "email_addresses: expected an array, found an object"),
        (
            {"email_addresses": [{**API_USER["email_addresses"][0], "email_address": ["a"]}]},
            "email_addresses[0].email_address: expected a string, found an array",
        ),
        (
            {
                "email_addresses": [
                    {**API_USER["email_addresses"][0], "verification": {"status": "maybe"}}
                ]
            },
            'email_addresses[0].verification.status: expected one of "expired", "failed"',
        ),
        (
            {"phone_numbers": [{"phone_number": "+1555", "reserved_for_second_factor": "no"}]},
            "phone_numbers[0].reserved_for_second_factor: expected a boolean, found a string",
        ),
    ],
)
def test_a_wrong_field_skips_the_record_naming_record_and_field(
    tmp_path: Path, change: dict, problem: str
) -> None:
    user = {**API_USER, **change}
    from_api = user_from_api(user, "Clerk API users #4 (user_1)")
    assert isinstance(from_api, MalformedRecord)
    assert from_api.origin == "Clerk API users #4 (user_1)" and from_api.source_id == "user_1"
    field = problem.split(":")[0]
    assert field in from_api.problem  # the field is named (object has its own older check)

    path = tmp_path / "users.json"
    path.write_text(json.dumps([API_USER, user]), encoding="utf-8")
    good, bad = read_clerk_json(path)
    assert isinstance(good, SourceUser)
    assert isinstance(bad, MalformedRecord)
    assert bad.origin.startswith("users.json:item 2") and bad.source_id == "user_1"
    assert problem in bad.problem
    assert "does not match Clerk's User schema" in bad.problem


def test_messages_never_quote_a_value() -> None:
    secret = "sk_live_do_not_print"
    problem = user_schema_problem({**API_USER, "username": 1, "first_name": [secret]})
    assert problem is not None and secret not in problem


def test_the_old_export_shape_is_not_judged_by_the_api_schema() -> None:
    """The support export's pipe-separated addresses are not the API's User shape."""
    old = {"id": "user_2", "email_addresses": "a@example.com|b@example.com", "phone_numbers": None}
    assert not is_api_user(old)
    assert is_api_user(API_USER)
    assert is_api_user({"id": "u", "email_addresses": [{"email_address": "a@example.com"}]})
