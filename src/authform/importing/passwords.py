"""Deciding whether a user's exported password digest can be imported as-is, by the target.

Nobody holds the plaintext, so a digest is either passed through untouched (never re-hashed,
never re-prefixed: ``$2y$`` stays ``$2y$``) or dropped; a dropped digest still imports the user,
who then signs in by password reset, magic link or social login, and the operator is told. A
malformed digest is dropped rather than sent because a target would either reject the create
(failing the apply half-way) or store a hash no password can ever match.

What a target accepts decides what imports: WorkOS (and every target not listed) takes
bcrypt digests only; Clerk takes every hasher it documents for ``password_hasher``, each in
its own digest form, which is checked here before anything is sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from authform.importing.report import SkipCode
from authform.sources.records import BcryptHash, PasswordDigest, SensitiveText

_BCRYPT = re.compile(r"\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}")
_HASHER_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")
_NO_PASSWORD = "imported without a password: the user must reset it or sign in another way"

_B64 = r"[A-Za-z0-9+/]+=*"
_HEX = r"[0-9a-fA-F]+"
_BCRYPT_FORM = r"\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}"


@dataclass(frozen=True)
class DigestForm:
    """The shape a hasher's digest must have, and how to say it without quoting a digest."""

    pattern: re.Pattern[str]
    described: str


def _form(pattern: str, described: str) -> DigestForm:
    return DigestForm(re.compile(pattern), described)


# Clerk's hashers and their digest forms: the ``PasswordHasher`` list of Clerk's OpenAPI
# document (2026-05-12) plus the five its Backend SDK documents for the same field
# (``awscognito``, ``bcrypt_peppered``, ``hmac_sha256_utf16_b64``, ``md5_salted``,
# ``sha256_salted``); the forms are those documents' ("Each of the supported hashers expects
# the incoming digest to be in a particular format"). ``md5_phpass`` and ``ldap_ssha`` are
# named without a form: theirs follow the references Clerk links (phpass's portable hash,
# OpenLDAP's ``{SSHA}``).
CLERK_DIGEST_FORMS: Mapping[str, DigestForm] = {
    "argon2i": _form(
        r"\$argon2i\$(?:v=\d+\$)?m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+",
        "$argon2i$v=19$m=<memory>,t=<iterations>,p=<parallelism>$<salt>$<hash>",
    ),
    "argon2id": _form(
        r"\$argon2id\$(?:v=\d+\$)?m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+",
        "$argon2id$v=19$m=<memory>,t=<iterations>,p=<parallelism>$<salt>$<hash>",
    ),
    "awscognito": _form(
        r"awscognito#[^#]+#[^#]+#[^#]+", "awscognito#<user pool id>#<client id>#<identifier>"
    ),
    "bcrypt": _form(_BCRYPT_FORM, "$<version>$<cost>$<salt and hash>"),
    "bcrypt_peppered": _form(
        _BCRYPT_FORM + r"\$[^$]+", "$<version>$<cost>$<salt and hash>$<pepper>"
    ),
    "bcrypt_sha256_django": _form(
        r"bcrypt_sha256\$" + _BCRYPT_FORM, "bcrypt_sha256$$<version>$<cost>$<salt and hash>"
    ),
    "hmac_sha256_utf16_b64": _form(
        r"hmac_sha256_utf16_b64\$" + _B64 + r"\$[^$]+",
        "hmac_sha256_utf16_b64$<base64 hash>$<key>",
    ),
    "ldap_ssha": _form(r"(?:\{SSHA\})?" + _B64, "{SSHA}<base64 of hash and salt>"),
    "md5": _form(r"[0-9a-fA-F]{32}", "32 hexadecimal characters"),
    "md5_phpass": _form(
        r"\$[PH]\$[./0-9A-Za-z]{31}", "$P$ or $H$ followed by 31 characters of [./0-9A-Za-z]"
    ),
    "md5_salted": _form(
        r"[^$]+\$[0-9a-fA-F]{32}|[0-9a-fA-F]{32}\$[^$]+",
        "<salt>$<hash>, the hash 32 hexadecimal characters",
    ),
    "pbkdf2_sha1": _form(
        r"pbkdf2_sha1\$\d+\$[^$]+\$" + _HEX + r"(?:\$\d+)?",
        "pbkdf2_sha1$<iterations>$<salt>$<hex hash>[$<key length>]",
    ),
    "pbkdf2_sha256": _form(
        r"pbkdf2_sha256\$\d+\$" + _B64 + r"\$" + _B64,
        "pbkdf2_sha256$<iterations>$<base64 salt>$<base64 hash>",
    ),
    "pbkdf2_sha256_django": _form(
        r"pbkdf2_sha256\$\d+\$[^$]+\$" + _B64,
        "pbkdf2_sha256$<iterations>$<salt>$<base64 hash>",
    ),
    "pbkdf2_sha512": _form(
        r"pbkdf2_sha512\$\d+\$[^$]+\$" + _HEX, "pbkdf2_sha512$<iterations>$<salt>$<hex hash>"
    ),
    "pbkdf2_sha512_hex": _form(
        r"pbkdf2_sha512_hex\$\d+\$" + _HEX + r"\$" + _HEX,
        "pbkdf2_sha512_hex$<iterations>$<hex salt>$<hex hash>",
    ),
    "phpass": _form(r"\$P\$[./0-9A-Za-z]{31}", "$P$ followed by 31 characters of [./0-9A-Za-z]"),
    "scrypt_firebase": _form(
        r"[^$]+\$[^$]+\$[^$]+\$[^$]+\$\d+\$\d+",
        "<hash>$<salt>$<signer key>$<salt separator>$<rounds>$<memory cost>",
    ),
    "scrypt_werkzeug": _form(
        r"(?:\$[^$]+|scrypt:\d+:\d+:\d+)\$[^$]+\$[^$]+", "<algorithm args>$<salt>$<hash>"
    ),
    "sha256": _form(r"[0-9a-fA-F]{64}", "64 hexadecimal characters"),
    "sha256_salted": _form(
        r"[^$]+\$[0-9a-fA-F]{64}|[0-9a-fA-F]{64}\$[^$]+",
        "<salt>$<hash>, the hash 64 hexadecimal characters",
    ),
    "sha512_symfony": _form(
        r"sha512_symfony\$[1-9]\d*\$[^$]+\$" + _B64,
        "sha512_symfony$<iterations>$<salt>$<base64 hash>",
    ),
}
CLERK_HASHERS: frozenset[str] = frozenset(CLERK_DIGEST_FORMS)
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


@dataclass(frozen=True)
class PasswordOutcome:
    """``create_only`` fields for the user resource, and a caveat when a digest was dropped."""

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
        embedded = _BCRYPT.search(value)
        return bcrypt_problem(embedded.group(0)) if embedded else None
    return None


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
