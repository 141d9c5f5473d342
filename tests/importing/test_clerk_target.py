"""What a Clerk target changes in the import: every hasher Clerk accepts imports, each checked
in its own form; organizations are keyed by slug with their metadata as it is; memberships
name them by slug; default roles keep Clerk's keys. Other targets keep bcrypt only."""

from __future__ import annotations

import pytest

from authform.importing import build_import_set
from authform.importing.passwords import (
    CLERK_HASHERS,
    accepted_hashers,
    classify_password,
    digest_problem,
)
from authform.resources import membership_key
from authform.sources import PasswordDigest, SensitiveText

from .factories import BCRYPT_DIGEST, member, org, user

ARGON2ID = "$argon2id$v=19$m=64,t=4,p=8$Z2liZXJyaXNo$iGXEpMBTDYQ8G/71tF0qGjxRHEmR3gpGULcE93zUJVU"
DJANGO = "pbkdf2_sha256$600000$rawsalt$3Wq1Yk0bqkqkq0n2m6u1m3lKq8g8b1m1Vq6Xv5j5nqA="
FIREBASE = "aGFzaA==$c2FsdA==$c2lnbmVy$Bw==$8$14"


def digest(value: str, hasher: str) -> PasswordDigest:
    return PasswordDigest(hasher, SensitiveText(value))


def test_the_accepted_hashers_depend_on_the_target() -> None:
    assert accepted_hashers("workos") == {"bcrypt"}
    assert accepted_hashers("scalekit") == {"bcrypt"}  # unlisted targets: bcrypt only
    assert accepted_hashers("clerk") == CLERK_HASHERS and len(CLERK_HASHERS) == 22
    assert {"bcrypt", "argon2id", "scrypt_firebase", "pbkdf2_sha256_django", "awscognito"} <= (
        CLERK_HASHERS
    )


@pytest.mark.parametrize(
    ("hasher", "value"),
    [
        ("argon2id", ARGON2ID),
        ("pbkdf2_sha256_django", DJANGO),
        ("scrypt_firebase", FIREBASE),
        ("md5", "5f4dcc3b5aa765d61d8327deb882cf99"),
        ("bcrypt", BCRYPT_DIGEST),
    ],
)
def test_clerk_imports_each_hasher_in_its_own_form_untouched(hasher: str, value: str) -> None:
    outcome = classify_password(digest(value, hasher), "clerk")
    assert outcome.imported and outcome.caveat_code is None
    assert outcome.create_only == {"password_hash": value, "password_hash_type": hasher}
    assert value not in repr(outcome)  # the digest is masked wherever it is shown
    workos = classify_password(digest(value, hasher), "workos")
    assert workos.imported is (hasher == "bcrypt")


@pytest.mark.parametrize(
    ("hasher", "value", "problem"),
    [
        ("argon2id", "$argon2i$v=19$m=64,t=4,p=8$c2FsdA$aGFzaA", "$argon2id$v=19$m=<memory>"),
        ("scrypt_firebase", "hash$salt$key$sep$8", "<hash>$<salt>$<signer key>"),
        ("md5", "5f4dcc3b5aa765d61d8327deb882cf9", "32 hexadecimal characters"),
        ("bcrypt", "$2a$10$tooshort", "it has 15 characters, a bcrypt digest has 60"),
        ("bcrypt_sha256_django", "bcrypt_sha256$$2b$03$" + "a" * 53, "its cost is outside 04-31"),
    ],
)
def test_a_digest_not_in_its_hashers_form_is_dropped_with_the_form_named(
    hasher: str, value: str, problem: str
) -> None:
    outcome = classify_password(digest(value, hasher), "clerk")
    assert not outcome.imported and outcome.caveat_code == "malformed_password_digest"
    assert problem in outcome.caveat and value not in outcome.caveat
    assert digest_problem(hasher, value) is not None


def test_an_unknown_hasher_is_named_per_target() -> None:
    clerk = classify_password(digest("abc", "whirlpool"), "clerk")
    assert clerk.caveat_code == "unsupported_password_hasher"
    assert "password hasher 'whirlpool' is not supported by Clerk" in clerk.caveat
    assert "Clerk accepts 22 hashers" in clerk.caveat
    workos = classify_password(digest(ARGON2ID, "argon2id"), "workos")
    assert "not supported by WorkOS (only bcrypt digests import)" in workos.caveat


def test_a_clerk_import_counts_every_digest_it_can_carry() -> None:
    users = [
        user("user_1", "a@x.io", digest=BCRYPT_DIGEST),
        user("user_2", "b@x.io", digest=ARGON2ID, hasher="argon2id"),
        user("user_3", "c@x.io", digest="nope", hasher="argon2id"),
    ]
    clerk = build_import_set(users, [], [], target="clerk")
    assert (clerk.counts.users_with_password, clerk.counts.users_without_password) == (2, 1)
    workos = build_import_set(users, [], [], target="workos")
    assert (workos.counts.users_with_password, workos.counts.users_without_password) == (1, 2)


def test_organizations_are_keyed_by_slug_and_memberships_follow() -> None:
    result = build_import_set(
        [user("user_1", "a@x.io"), user("user_2", "b@x.io")],
        [
            org("org_1", "Acme", slug="acme", public_metadata={"seats": 5, "tier": "gold"}),
            org("org_2", "No slug"),
            org("org_3", "Acme again", slug="acme"),
        ],
        [member("user_1", "org_1", "org:admin"), member("user_2", "org_1", "basic_member")],
        target="clerk",
    )
    assert [(r.key, r.spec["metadata"]) for r in result.organizations] == [
        ("acme", {"seats": 5, "tier": "gold"})  # JSON values kept: Clerk metadata holds them
    ]
    assert [(s.source_id, s.code) for s in result.skipped] == [
        ("org_2", "organization_without_slug"),
        ("org_3", "duplicate_organization"),
    ]
    assert [(r.key, r.spec["organization"], r.spec["role"]) for r in result.memberships] == [
        (membership_key("user_1", "acme"), "acme", "org:admin"),
        (membership_key("user_2", "acme"), "acme", "org:member"),
    ]


def test_other_targets_keep_the_clerk_id_as_the_key() -> None:
    result = build_import_set(
        [user("user_1", "a@x.io")],
        [org("org_1", "Acme", slug="acme", public_metadata={"seats": 5})],
        [member("user_1", "org_1", "org:admin")],
    )
    assert [(r.key, r.spec["metadata"]) for r in result.organizations] == [
        ("org_1", {"seats": "5", "clerk_slug": "acme"})
    ]
    assert [(r.spec["organization"], r.spec["role"]) for r in result.memberships] == [
        ("org_1", "admin")
    ]
