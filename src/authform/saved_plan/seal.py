"""Keyed fingerprints for a saved plan: tamper-evident, and never a secret or its plain hash.

Every fingerprint in a saved plan is an HMAC-SHA256 under a key derived from a random
per-plan salt (stored in the plan) and the target's API credential (never stored). The salt
keeps equal inputs in two plans from having equal fingerprints, so a password digest's
fingerprint cannot be looked up or matched across plans; the credential makes the whole seal
unforgeable by someone who can edit ``plan.json`` (or the CI artifact holding it) but does not
hold the target's key, and so cannot widen what apply may do (``forced: true``) and re-seal.

Values are fingerprinted in one canonical JSON form, and the change list as a stream of one
canonical line per change, in order: the saved plan's file holds exactly those lines, so a
plan of a million changes is written and verified line by line, never held whole.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from typing import Any

from authform.json_text import compact_sorted_encoder

try:
    from _hashlib import hmac_new as _openssl_hmac
except ImportError:  # a Python built without OpenSSL
    _openssl_hmac = None  # type: ignore[assignment]

TAG_PREFIX = "hmac-sha256:"
SALT_BYTES = 16
_KEY_CONTEXT = b"authform saved plan v3\x00"


# One encoder for every value: ``json.dumps`` with options builds a new one per call, which
# is most of the cost of sealing a million changes.
_CANONICAL = compact_sorted_encoder(ensure_ascii=False)


def canonical(value: Any) -> bytes:
    """The one byte form a value is fingerprinted in: sorted keys, no whitespace."""
    return _CANONICAL(value).encode()


def as_json(value: Any) -> Any:
    """``value`` as it reads back from a JSON file (tuples become lists, and so on), so a
    fingerprint computed now equals the one recomputed from the saved file."""
    return json.loads(canonical(value))


class Sealer:
    """Computes the keyed fingerprints of one saved plan."""

    def __init__(self, salt: bytes, credential: str | None) -> None:
        self.salt = salt
        self._key = hmac.new(
            salt, _KEY_CONTEXT + (credential or "").encode(), hashlib.sha256
        ).digest()
        # Keyed once; each tag copies it (re-keying an HMAC per change costs more than the
        # change's own fingerprint).
        self._keyed = _keyed_sha256(self._key)

    @classmethod
    def fresh(cls, credential: str | None) -> Sealer:
        return cls(secrets.token_bytes(SALT_BYTES), credential)

    def tag(self, label: str, value: Any) -> str:
        """Fingerprint of ``value`` under ``label``: the label keeps equal values in
        different places (two users' equal digests) from having equal fingerprints."""
        return self.tag_canonical(label, canonical(value))

    def tag_canonical(self, label: str, encoded: bytes) -> str:
        """``tag`` of a value already in its ``canonical`` form (a caller that writes that
        form anyway encodes it once)."""
        mac = self._keyed.copy()
        mac.update(label.encode() + b"\x00" + encoded)
        return TAG_PREFIX + mac.hexdigest()

    def stream_tag(self, label: str, values: Iterable[Any]) -> str:
        """Fingerprint of a sequence, fed one canonical line per value, in order."""
        stream = self.stream(label)
        for value in values:
            stream.add_line(canonical(value))
        return stream.tag()

    def stream(self, label: str) -> LineStream:
        """An incremental ``stream_tag``, fed lines as they are written or read."""
        mac = self._keyed.copy()
        mac.update(label.encode() + b"\x00")
        return LineStream(mac)

    def labelled(self, label: str) -> Any:
        """The keyed HMAC fed ``label`` as ``tag_canonical`` feeds it: a caller sealing many
        values under one label copies it and adds each value's canonical form, which is
        ``tag_canonical`` without a label encoded per value."""
        mac = self._keyed.copy()
        mac.update(label.encode() + b"\x00")
        return mac

    @property
    def key_check(self) -> str:
        """Says whether apply holds the credential the plan was sealed with."""
        return self.tag("key-check", None)


def _keyed_sha256(key: bytes) -> Any:
    """HMAC-SHA256 under ``key``: OpenSSL's own object where there is one (``hmac.new``
    wraps it in Python, which costs more than hashing a change line), else ``hmac``'s."""
    if _openssl_hmac is not None:
        return _openssl_hmac(key, digestmod="sha256")
    return hmac.new(key, digestmod=hashlib.sha256)


class LineStream:
    """The fingerprint of a line-oriented stream, one line at a time (constant memory)."""

    def __init__(self, mac: Any) -> None:
        self._mac = mac
        self._update = mac.update

    def add_line(self, line: bytes) -> None:
        """One line, without its line break (the stream adds its own separator)."""
        self._update(line)
        self._update(b"\n")

    def tag(self) -> str:
        return TAG_PREFIX + self._mac.copy().hexdigest()


def same_tag(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
