"""The password digests Clerk accepts: each hasher's name and the form its digest must take.

One table, read by both sides of the same rule: the importer (``importing.passwords``) checks
a digest against it before sending it to a Clerk target, and the Clerk emulator
(``emulators.clerk``) refuses a digest that does not fit it, as Clerk does. Kept apart from
both so that neither copies the other and they cannot drift.

The hashers are the ``PasswordHasher`` list of Clerk's OpenAPI document (2026-05-12; listed in
prose, not as an enum) plus the five its Backend SDK documents for the same field
(clerk/javascript ``packages/backend/src/api/endpoints/UserApi.ts``) and its migration tool
sends: ``awscognito``, ``bcrypt_peppered``, ``hmac_sha256_utf16_b64``, ``md5_salted``,
``sha256_salted``. The forms are those documents' ("Each of the supported hashers expects the
incoming digest to be in a particular format"). ``md5_phpass`` and ``ldap_ssha`` are named
without a form: theirs follow the references Clerk links (phpass's ``$P$``/``$H$`` portable
hash, OpenLDAP's ``{SSHA}`` base64 of digest and salt).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# What Clerk accepts as a bcrypt digest: the modular-crypt versions it reads, ``$2$`` and
# ``$2x$`` included. The importer is stricter on top of this (see ``importing.passwords``).
BCRYPT_FORM = r"\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}"
_B64 = r"[A-Za-z0-9+/]+=*"
_HEX = r"[0-9a-fA-F]+"


@dataclass(frozen=True)
class DigestForm:
    """The shape a hasher's digest must have, and how to say it without quoting a digest."""

    pattern: re.Pattern[str]
    described: str


def _form(pattern: str, described: str) -> DigestForm:
    return DigestForm(re.compile(pattern), described)


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
    "bcrypt": _form(BCRYPT_FORM, "$<version>$<cost>$<salt and hash>"),
    "bcrypt_peppered": _form(
        BCRYPT_FORM + r"\$[^$]+", "$<version>$<cost>$<salt and hash>$<pepper>"
    ),
    "bcrypt_sha256_django": _form(
        r"bcrypt_sha256\$" + BCRYPT_FORM, "bcrypt_sha256$$<version>$<cost>$<salt and hash>"
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
    # The documented ``$<algorithm args>$<salt>$<hash>``, and what Werkzeug itself writes
    # (``scrypt:32768:8:1$<salt>$<hash>``), which the documented leading ``$`` excludes.
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


def fits_clerk_form(hasher: str, digest: str) -> bool:
    """Whether ``digest`` has the form Clerk requires of ``hasher``'s digests (an unknown
    hasher fits no form)."""
    form = CLERK_DIGEST_FORMS.get(hasher)
    return form is not None and form.pattern.fullmatch(digest) is not None
