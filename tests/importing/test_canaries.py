"""bcrypt checks each canary's password against its exported digest before any write."""

from __future__ import annotations

import bcrypt

from authform.importing.canaries import canary_digest_refusals
from authform.resources import Kind, Resource

DIGEST = bcrypt.hashpw(b"right password", bcrypt.gensalt(rounds=4)).decode()


def user(key: str, email: str, **create_only: str) -> Resource:
    return Resource(Kind.USER, key, {"email": email}, create_only=create_only)


USERS = [
    user("user_1", "ada@example.com", password_hash=DIGEST, password_hash_type="bcrypt"),
    user("user_2", "bob@example.com", password_hash="$argon2id$x", password_hash_type="argon2"),
    user("user_3", "cy@example.com"),
]


def test_a_matching_password_passes_and_a_wrong_one_is_refused_without_showing_either():
    assert canary_digest_refusals(USERS, [("ada@example.com", "right password")]) == []
    [refusal] = canary_digest_refusals(USERS, [("Ada@Example.com", "wrong password")])
    assert "canary Ada@Example.com" in refusal and "user_1" in refusal
    assert "wrong password" not in refusal and DIGEST not in refusal and "$2b$" not in refusal


def test_canaries_bcrypt_cannot_judge_are_left_to_verify():
    logins = [
        ("bob@example.com", "anything"),  # another hasher's digest
        ("cy@example.com", "anything"),  # imported without a password
        ("nobody@example.com", "anything"),  # not imported: an existing account
    ]
    assert canary_digest_refusals(USERS, logins) == []


def test_an_unreadable_digest_matches_nothing():
    broken = [
        user("user_9", "z@example.com", password_hash="$2b$10$short", password_hash_type="bcrypt")
    ]
    assert len(canary_digest_refusals(broken, [("z@example.com", "x")])) == 1
