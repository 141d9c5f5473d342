"""Deciding whether a user's exported password digest can be imported as-is.

Nobody holds the plaintext, so a digest is either passed through untouched (never re-hashed,
never re-prefixed: ``$2y$`` stays ``$2y$``) or dropped; a dropped digest still imports the user,
who then signs in by password reset, magic link or social login, and the operator is told. A
malformed digest is dropped rather than sent because a target would either reject the create
(failing the apply half-way) or store a hash no password can ever match.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from authform.importing.report import SkipCode
from authform.sources.records import BcryptHash, PasswordDigest

_BCRYPT = re.compile(r"\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}")
_HASHER_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")
_NO_PASSWORD = "imported without a password: the user must reset it or sign in another way"


@dataclass(frozen=True)
class PasswordOutcome:
    """``create_only`` fields for the user resource, and a caveat when a digest was dropped."""

    create_only: Mapping[str, str] = field(default_factory=dict)
    caveat_code: SkipCode | None = None
    caveat: str = ""

    @property
    def imported(self) -> bool:
        return bool(self.create_only)


def classify_password(digest: PasswordDigest | None) -> PasswordOutcome:
    """Map an exported digest to what the target receives; see the module docstring."""
    if digest is None or not digest.value:
        return PasswordOutcome()
    hasher = digest.hasher.strip().lower()
    value = str(digest.value)
    if hasher == "" and value.startswith("$2"):
        hasher = "bcrypt"  # an unnamed hasher: the modular-crypt prefix says bcrypt
    if hasher != "bcrypt":
        return PasswordOutcome(
            caveat_code=SkipCode.UNSUPPORTED_PASSWORD_HASHER,
            caveat=f"password hasher {_hasher_name(hasher)} is not supported "
            f"(only bcrypt digests import); {_NO_PASSWORD}",
        )
    problem = bcrypt_problem(value)
    if problem is not None:
        return PasswordOutcome(
            caveat_code=SkipCode.MALFORMED_PASSWORD_DIGEST,
            caveat=f"the bcrypt password digest is malformed ({problem}); {_NO_PASSWORD}",
        )
    return PasswordOutcome(
        create_only={"password_hash": BcryptHash(value), "password_hash_type": "bcrypt"}
    )


def bcrypt_problem(value: str) -> str | None:
    """What is wrong with a bcrypt digest, described without quoting any of it."""
    if not re.match(r"\$2[aby]\$", value):
        return "its prefix is not $2a$, $2b$ or $2y$"
    if len(value) != 60:
        return f"it has {len(value)} characters, a bcrypt digest has 60"
    match = _BCRYPT.fullmatch(value)
    if match is None:
        return "it contains characters outside bcrypt's alphabet or misplaced separators"
    if not 4 <= int(match.group(1)) <= 31:
        return "its cost is outside 04-31"
    return None


def _hasher_name(hasher: str) -> str:
    if hasher == "":
        return "(not named in the export)"
    return repr(hasher) if _HASHER_NAME.fullmatch(hasher) else "(unrecognized name)"
