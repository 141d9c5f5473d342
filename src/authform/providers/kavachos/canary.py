"""``verify``'s password check for KavachOS: the canary's password against its stored digest.

authform cannot run KavachOS's sign-in, so it checks what that sign-in would check and says
plainly what it still needs. KavachOS's email plugin (``packages/auth/email/src/password.ts``)
stores ``<salt hex>:<key hex>``: scrypt with N=16384, r=8, p=1 and a 64-byte key, whose salt
input is the *hex text* of the salt. A bcrypt digest kept for the application-side rehash is
checked with bcrypt.
"""

from __future__ import annotations

import hashlib
import hmac
import re

import bcrypt

from authform.providers.base import ProbeResult
from authform.providers.kavachos.writes import RESET_MARKER

_SCRYPT = re.compile(r"([0-9a-f]{32}):([0-9a-f]{128})")
_BCRYPT = re.compile(r"\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}")
NEEDS_REHASH = (
    "a sign-in through KavachOS alone will fail (its email sign-in verifies only its scrypt "
    "format): it needs the application-side check from the README, which verifies this bcrypt "
    "digest once and rehashes it into KavachOS's format"
)


def kavachos_scrypt_matches(password: str, stored: str) -> bool:
    match = _SCRYPT.fullmatch(stored)
    if match is None:
        return False
    salt, key = match.groups()
    derived = hashlib.scrypt(
        password.encode(), salt=salt.encode(), n=16384, r=8, p=1, dklen=64, maxmem=64 * 1024 * 1024
    )
    return hmac.compare_digest(derived.hex(), key)


def check_canary(
    password: str, digest: str | None, *, account_verified: bool, has_account: bool
) -> ProbeResult:
    if not has_account or digest is None:
        return ProbeResult(
            False,
            "no kavach_email_accounts row: KavachOS has no password for this user, so an "
            "email sign-in cannot succeed",
        )
    if digest == RESET_MARKER:
        return ProbeResult(
            False,
            "marked for a password reset (target.legacy_passwords: reset): the user must "
            "reset the password before an email sign-in can succeed",
        )
    if _BCRYPT.fullmatch(digest):
        matches = bcrypt.checkpw(password.encode(), digest.encode())
        what = "matches the kept bcrypt digest; " + NEEDS_REHASH
    elif _SCRYPT.fullmatch(digest):
        matches = kavachos_scrypt_matches(password, digest)
        what = "matches its KavachOS scrypt digest; KavachOS's email sign-in accepts it"
    else:
        return ProbeResult(False, "the stored digest is neither bcrypt nor KavachOS's scrypt")
    if not matches:
        return ProbeResult(False, "the password does not match the stored digest")
    if not account_verified:
        return ProbeResult(
            False,
            "the password matches, but email_verified is false: KavachOS's email sign-in "
            "refuses unverified accounts (requireVerification defaults to true)",
        )
    return ProbeResult(True, "password " + what)
