"""Deciding whether a user's exported password digest can be imported as-is, by the target.

Nobody holds the plaintext, so a digest is either passed through untouched (never re-hashed,
never re-prefixed: ``$2y$`` stays ``$2y$``) or dropped; a dropped digest still imports the user,
who then signs in by password reset, magic link or social login, and the operator is told. A
malformed digest is dropped rather than sent because a target would either reject the create
(failing the apply half-way) or store a hash no password can ever match.

What a target accepts decides what imports: WorkOS (and every target not listed) takes
bcrypt digests only; Clerk takes every hasher it documents for ``password_hasher``, each in
its own digest form (``authform.password_digests``, the table the Clerk emulator enforces
too), which is checked here before anything is sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from authform.importing.report import SkipCode
from authform.password_digests import BCRYPT_FORM, CLERK_DIGEST_FORMS, CLERK_HASHERS
from authform.sources.records import BcryptHash, PasswordDigest, SensitiveText

_BCRYPT_PREFIX = re.compile(r"\$2[aby]\$")
_BCRYPT = re.compile(r"\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}")
_HASHER_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")
_EMBEDDED_BCRYPT = re.compile(BCRYPT_FORM)
# A bcrypt digest ``bcrypt_problem`` finds nothing wrong with (cost 04-31), in one pattern.
BCRYPT_WELL_FORMED = re.compile(r"\$2[aby]\$(?:0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}")
_NO_PASSWORD = "imported without a password: the user must reset it or sign in another way"

BCRYPT_ONLY: frozenset[str] = frozenset({"bcrypt"})
# Which hashers each target imports; a target not named here imports bcrypt only.
TARGET_HASHERS: Mapping[str, frozenset[str]] = {"workos": BCRYPT_ONLY, "clerk": CLERK_HASHERS}
_TARGET_LABELS = {
    "workos": "WorkOS",
    "clerk": "Clerk",
    "scalekit": "Scalekit",
    "kavachos": "KavachOS",
}


def accepted_hashers(target: str) -> frozenset[str]:
    """The hashers whose digests ``target`` imports as they are."""
    return TARGET_HASHERS.get(target, BCRYPT_ONLY)


@dataclass(slots=True)
class PasswordOutcome:
    """``create_only`` fields for the user resource, and a caveat when a digest was dropped.
    (One is made per user: not frozen, as a frozen dataclass is three times slower to build.)
    """

    create_only: Mapping[str, str] = field(default_factory=dict)
    caveat_code: SkipCode | None = None
    caveat: str = ""

    @property
    def imported(self) -> bool:
        return bool(self.create_only)


def classify_password(digest: PasswordDigest | None, target: str = "workos") -> PasswordOutcome:
    """Map an exported digest to what ``target`` receives; see the module docstring."""
    if digest is None or not digest.value:
        return PasswordOutcome()
    hasher = digest.hasher.strip().lower()
    value = str(digest.value)
    if hasher == "" and value.startswith("$2"):
        hasher = "bcrypt"  # an unnamed hasher: the modular-crypt prefix says bcrypt
    accepted = accepted_hashers(target)
    if hasher not in accepted:
        label = _TARGET_LABELS.get(target, target)
        which = (
            "only bcrypt digests import"
            if accepted == BCRYPT_ONLY
            else f"{label} accepts {len(accepted)} hashers, not this one"
        )
        return PasswordOutcome(
            caveat_code=SkipCode.UNSUPPORTED_PASSWORD_HASHER,
            caveat=f"password hasher {_hasher_name(hasher)} is not supported by {label} "
            f"({which}); {_NO_PASSWORD}",
        )
    problem = digest_problem(hasher, value)
    if problem is not None:
        return PasswordOutcome(
            caveat_code=SkipCode.MALFORMED_PASSWORD_DIGEST,
            caveat=f"the {hasher} password digest is malformed ({problem}); {_NO_PASSWORD}",
        )
    secret = BcryptHash(value) if hasher == "bcrypt" else SensitiveText(value)
    return PasswordOutcome(create_only={"password_hash": secret, "password_hash_type": hasher})


def digest_problem(hasher: str, value: str) -> str | None:
    """What is wrong with a digest for ``hasher``, described without quoting any of it."""
    if hasher == "bcrypt":
        return bcrypt_problem(value)
    form = CLERK_DIGEST_FORMS.get(hasher)
    if form is None:
        return f"{_hasher_name(hasher)} is not a known hasher"
    if form.pattern.fullmatch(value) is None:
        return f"it does not have the form {form.described}"
    if hasher in ("bcrypt_peppered", "bcrypt_sha256_django"):
        # Clerk's form admits every bcrypt version; the embedded digest must still be one
        # that verifies ($2a$, $2b$, $2y$, cost 04-31), like a plain bcrypt digest.
        embedded = _EMBEDDED_BCRYPT.search(value)
        return bcrypt_problem(embedded.group(0)) if embedded else None
    return None


def bcrypt_problem(value: str) -> str | None:
    """What is wrong with a bcrypt digest, described without quoting any of it."""
    well_formed = _BCRYPT.fullmatch(value)
    if well_formed is not None and 4 <= int(well_formed.group(1)) <= 31:
        return None  # the common case, in one match; the rest finds what is wrong
    if not _BCRYPT_PREFIX.match(value):
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
