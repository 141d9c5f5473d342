import pytest

from authform.importing.passwords import bcrypt_problem, classify_password
from authform.sources import PasswordDigest, SensitiveText

from .factories import BCRYPT_DIGEST

VALID = "$2b$10$rCUC3m0NZNiOTcIgm15yout/fI5HqM0avbC9bxZ1cEP2lWBEfd1c2"


def digest(value, hasher="bcrypt"):
    return PasswordDigest(hasher, SensitiveText(value))


@pytest.mark.parametrize("prefix", ["$2a$", "$2b$", "$2y$"])
def test_well_formed_bcrypt_passes_through_byte_for_byte(prefix):
    value = prefix + VALID[4:]
    outcome = classify_password(digest(value))
    assert outcome.imported and outcome.caveat_code is None
    assert outcome.create_only == {"password_hash": value, "password_hash_type": "bcrypt"}
    assert type(outcome.create_only["password_hash"]).__name__ == "BcryptHash"


def test_a_generated_digest_and_an_unnamed_hasher_are_accepted():
    assert classify_password(digest(BCRYPT_DIGEST)).imported
    assert classify_password(digest(VALID, hasher="")).imported
    assert classify_password(digest(VALID, hasher="BCRYPT")).imported


def test_no_digest_is_no_password_and_no_caveat():
    assert classify_password(None) == classify_password(digest(""))
    assert not classify_password(None).imported and classify_password(None).caveat_code is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("$2a$10$tooshort", "it has 15 characters, a bcrypt digest has 60"),
        ("$2x$10$" + VALID[7:], "its prefix is not $2a$, $2b$ or $2y$"),
        ("$2$10$" + VALID[7:] + "x", "its prefix is not $2a$, $2b$ or $2y$"),
        ("$2b$03$" + VALID[7:], "its cost is outside 04-31"),
        ("$2b$32$" + VALID[7:], "its cost is outside 04-31"),
        (
            "$2b$1a$" + VALID[7:],
            "it contains characters outside bcrypt's alphabet or misplaced separators",
        ),
        (
            VALID[:-1] + "!",
            "it contains characters outside bcrypt's alphabet or misplaced separators",
        ),
        (
            VALID[:-1] + "=",
            "it contains characters outside bcrypt's alphabet or misplaced separators",
        ),
    ],
)
def test_malformed_bcrypt(value, problem):
    assert bcrypt_problem(value) == problem
    outcome = classify_password(digest(value))
    assert not outcome.imported and outcome.create_only == {}
    assert outcome.caveat_code == "malformed_password_digest"
    assert problem in outcome.caveat and value not in outcome.caveat


def test_cost_bounds_are_inclusive():
    assert bcrypt_problem("$2b$04$" + VALID[7:]) is None
    assert bcrypt_problem("$2b$31$" + VALID[7:]) is None


@pytest.mark.parametrize("hasher", ["pbkdf2_sha256", "argon2id", "scrypt_firebase", "md5"])
def test_other_hashers_are_unsupported_and_named(hasher):
    outcome = classify_password(digest("pbkdf2_sha256$260000$c2FsdHNhbHQ$3Wq1Yk0b=", hasher))
    assert not outcome.imported
    assert outcome.caveat_code == "unsupported_password_hasher"
    assert f"password hasher '{hasher}' is not supported" in outcome.caveat


def test_a_hasher_cell_that_looks_like_a_digest_is_not_echoed():
    secret = "pbkdf2$600000$salt$hash="
    outcome = classify_password(digest("x" * 20, hasher=secret))
    assert secret not in outcome.caveat and "(unrecognized name)" in outcome.caveat
    unnamed = classify_password(digest("pbkdf2$1$a$b", hasher=""))
    assert "(not named in the export)" in unnamed.caveat
