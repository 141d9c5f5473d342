"""Address patterns: how a person names items of any kind (``role.admin``, ``user.*``).

An address is ``KIND.KEY`` as plans print it. A pattern is an address whose key may hold
``*`` (any run of characters, ``/`` and ``.`` included: keys are URIs, emails and
``billing:manage``). Nothing else is special: ``?`` and ``[`` appear in real keys (a redirect
URI's query), so the pattern ``redirect_uri.https://app.example.com/cb?next=1`` means exactly
that URI. The kind must be one authform knows, so a typo (``rol.admin``) is an error naming
the kinds rather than a pattern that silently matches nothing.

Used by ``--target``/``--exclude`` (``engine.selection``) and the manifest's
``drift.ignore``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from authform.resources import Kind

KIND_NAMES = ", ".join(kind.value for kind in Kind)


class AddressPatternError(ValueError):
    """A pattern that cannot name anything; the message says why."""


@dataclass(frozen=True)
class AddressPattern:
    """One parsed pattern; ``text`` is as written, so messages quote it back."""

    text: str
    kind: Kind
    key: str
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def parse(cls, text: str) -> AddressPattern:
        kind_name, dot, key = text.partition(".")
        if not dot or not kind_name:
            raise AddressPatternError(
                f"{text!r} is not an address: expected KIND.KEY (e.g. role.admin) or KIND.* "
                f"(e.g. user.*), where KIND is one of {KIND_NAMES}"
            )
        try:
            kind = Kind(kind_name)
        except ValueError:
            raise AddressPatternError(
                f"{text!r}: unknown kind {kind_name!r} (expected one of {KIND_NAMES})"
            ) from None
        if not key:
            raise AddressPatternError(
                f"{text!r} names no key: write {kind_name}.KEY, or {kind_name}.* for every "
                f"{kind_name}"
            )
        regex = None
        if "*" in key:
            regex = re.compile(".*".join(re.escape(part) for part in key.split("*")), re.DOTALL)
        return cls(text, kind, key, regex)

    def matches(self, kind: Kind, key: str) -> bool:
        if kind is not self.kind:
            return False
        if self._regex is None:
            return key == self.key
        return self._regex.fullmatch(key) is not None

    def matches_address(self, address: str) -> bool:
        kind_name, _, key = address.partition(".")
        try:
            return self.matches(Kind(kind_name), key)
        except ValueError:
            return False


def check_address_pattern(text: str) -> str:
    """A pydantic validator: the pattern as written, or ``ValueError`` saying what is wrong."""
    AddressPattern.parse(text)
    return text
