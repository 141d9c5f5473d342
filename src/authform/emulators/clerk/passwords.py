"""Passwords as CreateUser and UpdateUser take them, and checking one against a digest.

The digest forms Clerk accepts live once, in ``authform.password_digests`` (the importer reads
the same table); this module adds what only the emulator does: hashing a plaintext and
verifying a password against the digests whose algorithm needs only the standard library and
bcrypt."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Final

import bcrypt

from authform.password_digests import CLERK_HASHERS, fits_clerk_form

from .forms import Form

MIN_PASSWORD_LENGTH: Final = 8
BCRYPT_ROUNDS: Final = 10


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def check_password_fields(form: Form) -> None:
    """A plaintext or a digest, never both; a digest with its hasher, in that hasher's form.
    Problems go to ``form``; messages never quote a password or digest."""
    password, digest, hasher = form["password"], form["password_digest"], form["password_hasher"]
    problem: tuple[str, str, str, str] | None = None
    if password is not None and digest is not None:
        problem = (
            "form_param_value_invalid",
            "password_digest",
            "is invalid",
            "password and password_digest cannot be given together.",
        )
    elif digest is not None and hasher is None:
        problem = (
            "form_conditional_param_missing",
            "password_hasher",
            "is missing",
            "password_hasher is required when password_digest is given.",
        )
    elif hasher is not None and digest is None:
        problem = (
            "form_conditional_param_missing",
            "password_digest",
            "is missing",
            "password_digest is required when password_hasher is given.",
        )
    elif hasher is not None and hasher not in CLERK_HASHERS:
        problem = (
            "form_param_value_invalid",
            "password_hasher",
            "is invalid",
            "password_hasher must be one of the supported hashing algorithms.",
        )
    elif hasher is not None and digest is not None and not fits_clerk_form(hasher, digest):
        # Clerk's error index: "FormPasswordDigestInvalid signifies an error when the
        # provided password_digest is not valid for the provided password_hasher".
        problem = (
            "form_password_digest_invalid",
            "password_digest",
            "is invalid",
            f"The password digest is not a valid {hasher} digest.",
        )
    if problem is not None:
        form.fail(*problem)
    skip_checks = bool(form["skip_password_checks"])
    if password is not None and not skip_checks and len(password) < MIN_PASSWORD_LENGTH:
        text = f"Passwords must be {MIN_PASSWORD_LENGTH} characters or more."
        form.fail("form_password_length_too_short", "password", "is too short", text)


def _unhex(text: str) -> bytes | None:
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None


def _unbase64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


# hasher → (algorithm, how to read the salt, how to read the hash) of the pbkdf2 family,
# whose digests are ``<name>$<iterations>$<salt>$<hash>``.
_PBKDF2: Final = {
    "pbkdf2_sha256_django": ("sha256", str.encode, _unbase64),
    "pbkdf2_sha256": ("sha256", lambda s: _unbase64(s) or b"", _unbase64),
    "pbkdf2_sha512": ("sha512", str.encode, _unhex),
    "pbkdf2_sha512_hex": ("sha512", lambda s: _unhex(s) or b"", _unhex),
    "pbkdf2_sha1": ("sha1", lambda s: _unhex(s) or s.encode(), _unhex),
}


def digest_matches(hasher: str | None, digest: str, password: str) -> bool | None:
    """Whether ``password`` matches a stored digest, for the hashers whose checks need only
    the standard library and bcrypt; ``None`` for the others (scrypt_firebase, argon2,
    phpass…), which the emulator stores but cannot check."""
    secret = password.encode()
    if hasher == "bcrypt":
        try:
            return bcrypt.checkpw(secret, digest.encode())
        except ValueError:
            return False
    if hasher in ("md5", "sha256"):
        return hmac.compare_digest(hashlib.new(hasher, secret).hexdigest(), digest.lower())
    parts = digest.split("$")
    lengths = (4, 5) if hasher == "pbkdf2_sha1" else (4,)
    if hasher not in _PBKDF2 or len(parts) not in lengths:
        return None
    algorithm, read_salt, read_hash = _PBKDF2[hasher]
    salt, expected = read_salt(parts[2]), read_hash(parts[3])
    if expected is None or not parts[1].isdigit():
        return False
    derived = hashlib.pbkdf2_hmac(algorithm, secret, salt, int(parts[1]), len(expected))
    return hmac.compare_digest(derived, expected)
