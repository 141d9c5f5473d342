"""Password digests and TOTP secrets never show in a repr, a reason, an origin or an error."""

import csv
import json

import pytest

from authform.importing import build_import_set
from authform.sources import (
    BcryptHash,
    PasswordDigest,
    SensitiveText,
    SourceError,
    read_clerk_csv,
    read_clerk_json,
    read_clerk_memberships,
    read_clerk_organizations,
)
from authform.sources.clerk_csv import COLUMNS

from . import FIXTURES

TOTP = "JBSWY3DPEHPK3PXP"


def fixture_secrets() -> list[str]:
    with (FIXTURES / "users.csv").open(encoding="utf-8", newline="") as fp:
        rows = list(csv.DictReader(fp))
    digests = [r["password_digest"] for r in rows if r["password_digest"]]
    assert len(digests) == 10
    return [*digests, TOTP]


def assert_no_secret(text: str) -> None:
    for secret in fixture_secrets():
        assert secret not in text


def test_masked_values_still_send_the_real_value():
    digest = PasswordDigest("bcrypt", SensitiveText("$2b$10$abc"))
    assert repr(digest) == str(digest) == f"{digest}" == "bcrypt hash (set)"
    assert repr(SensitiveText("x")) == "(sensitive)"
    value = BcryptHash("$2b$10$abc")
    assert repr(value) == "bcrypt hash (set)"
    assert json.dumps({"password_hash": value}) == '{"password_hash": "$2b$10$abc"}'
    assert value == "$2b$10$abc"


@pytest.mark.parametrize("users_file", ["users.csv", "users.json"])
def test_records_and_the_import_set_never_show_secrets(users_file):
    reader = read_clerk_csv if users_file.endswith(".csv") else read_clerk_json
    records = list(reader(FIXTURES / users_file))
    assert_no_secret(repr(records))
    assert "bcrypt hash (set)" in repr(records[0])
    assert "pbkdf2_sha256 hash (set)" in repr(records[8])
    result = build_import_set(
        records,
        read_clerk_organizations(FIXTURES / "organizations.json"),
        read_clerk_memberships(FIXTURES / "memberships.json"),
    )
    assert_no_secret(repr(result))
    for item in result.skipped:
        assert_no_secret(item.reason + item.origin + item.source_id)
    for notice in result.reenroll:
        assert_no_secret(repr(notice))
    # ...while the create-only field still carries the exact digest for the provider.
    assert any(u.create_only.get("password_hash") in fixture_secrets() for u in result.users)


def test_malformed_rows_and_file_errors_do_not_quote_secrets(tmp_path):
    digest = fixture_secrets()[0]
    lines = [
        ",".join(COLUMNS),
        f"user_1,A,B,,a@x.io,,a@x.io,,,,{TOTP},{digest},bcrypt,extra",
        f"{digest},{TOTP}",
    ]
    path = tmp_path / "users.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = build_import_set(read_clerk_csv(path), [], [])
    assert [s.code for s in result.skipped] == ["malformed_record", "malformed_record"]
    assert_no_secret(repr(result))

    broken = tmp_path / "users.json"
    broken.write_text(
        f'[{{"id": "user_1", "password_digest": "{digest}", "totp_secret": 5}},'
        f' {{"password_digest": "{digest}" "x"}}]',
        encoding="utf-8",
    )
    assert_no_secret(repr(build_import_set(read_clerk_json(broken), [], [])))

    truncated = tmp_path / "cut.json"
    truncated.write_text(f'[{{"id": "user_1", "password_digest": "{digest}', encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        list(read_clerk_json(truncated))
    assert_no_secret(str(caught.value))
