"""Choosing the one email address a target keeps for a user, and checking it is usable.

WorkOS (like most targets) holds exactly one address per user and matches sign-ins on it, so
the choice decides who can sign in: ``primary`` keeps the address the user chose in Clerk
(guessing the first when the export has no primary flag, and saying so), ``first`` keeps the
first listed, ``skip-multi`` leaves every multi-address user for manual review. Addresses are
compared lower-cased and stripped, which is how targets compare them too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal, get_args

from authform.sources.records import SourceEmail, SourceUser

EmailPolicy = Literal["primary", "first", "skip-multi"]
EMAIL_POLICIES: tuple[str, ...] = get_args(EmailPolicy)

_FORBIDDEN = frozenset('<>()[]\\,;:"')
# The common, plainly valid ASCII address; anything else takes the slower path that explains.
PLAIN_ADDRESS = re.compile(
    r"(?!\.)(?!.*\.\.)[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}(?<!\.)"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
)


class Address(SourceEmail):
    """A source email once normalized (trimmed, lower case), verified if any listing of it
    says so."""

    __slots__ = ()

    @property
    def email(self) -> str:
        return self.address


@dataclass(slots=True)
class EmailChoice:
    """The outcome of applying a policy to one user (one is made per user; not frozen, as a
    frozen dataclass is three times slower to build).

    ``chosen`` is None when the policy refuses the user (``skip-multi`` with several
    addresses) or the user has none; ``guessed`` is True when the source had no primary flag
    and the first of several addresses was taken in its place.
    """

    addresses: tuple[Address, ...]
    chosen: Address | None
    guessed: bool = False


def normalize_email(address: str) -> str:
    return address.strip().lower()


def distinct_addresses(user: SourceUser, primary: str | None = None) -> tuple[Address, ...]:
    """The user's addresses once each, in source order; verified if any listing says so.
    ``primary`` is the user's primary address normalized, when the caller has it already."""
    verified: dict[str, bool] = {}
    for source_email in user.emails:
        email = source_email.address.strip().lower()
        if email:
            verified[email] = verified.get(email, False) or source_email.verified
    if primary is None:
        primary = _primary(user)
    if primary:
        # A primary missing from the address lists is still the user's; nothing says verified.
        verified.setdefault(primary, False)
    return tuple([Address(email, flag) for email, flag in verified.items()])


def choose_email(user: SourceUser, policy: EmailPolicy) -> EmailChoice:
    """Apply ``policy`` to ``user``'s addresses."""
    primary = _primary(user)
    addresses = distinct_addresses(user, primary)
    if not addresses:
        return EmailChoice(addresses, None)
    if len(addresses) > 1 and policy == "skip-multi":
        return EmailChoice(addresses, None)
    if policy == "primary" and primary:
        for address in addresses:
            if address.address == primary:
                return EmailChoice(addresses, address)
    guessed = policy == "primary" and len(addresses) > 1
    return EmailChoice(addresses, addresses[0], guessed)


def _primary(user: SourceUser) -> str:
    return normalize_email(user.primary_email or "")


def email_problem(email: str) -> str | None:
    """Why ``email`` is not a usable address, or None.

    Deliberately practical, not full RFC 5322: quoted local parts and IP-literal domains are
    legal but no identity provider we target accepts them, and an address rejected here is a
    clear skip instead of a failed API call half-way through an apply.
    """
    if len(email) <= 254 and PLAIN_ADDRESS.fullmatch(email):
        return None
    if not email:
        return "it is empty"
    if len(email) > 254:
        return "it is longer than 254 characters"
    if any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf") for c in email):
        return "it contains spaces or control characters"
    if email.count("@") != 1:
        return "it must contain exactly one @"
    local, domain = email.split("@")
    if not local:
        return "the part before @ is empty"
    if len(local) > 64:
        return "the part before @ is longer than 64 characters"
    if any(c in _FORBIDDEN for c in email):
        return "it contains a character not allowed in an unquoted address"
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return "the part before @ has a misplaced dot"
    labels = domain.split(".")
    if len(labels) < 2 or any(not label for label in labels):
        return "the domain must have at least one dot and no empty labels"
    if any(label.startswith("-") or label.endswith("-") for label in labels):
        return "a domain label starts or ends with a hyphen"
    return None
