"""Compact JSON text with sorted keys, by the C encoder built once rather than per call.

``json.JSONEncoder.encode`` builds a new C encoder on every call; for the small values a
saved plan seals a million of (a change line, a source record) that construction is about
half the cost. The text is exactly what ``JSONEncoder(sort_keys=True, separators=(",",
":"), default=str, ensure_ascii=...)`` writes; values hold no cycles (specs and change
entries never do), so none is looked for.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)


def sorted_encoder(
    *,
    separators: tuple[str, str],
    ensure_ascii: bool,
    default: Callable[[Any], Any] | None,
) -> Callable[[Any], str]:
    """``JSONEncoder(sort_keys=True, separators=separators, ensure_ascii=ensure_ascii,
    default=default).encode``, its C encoder built once. ``default=None``: a value of an
    unknown type raises ``TypeError``, as ``JSONEncoder``'s own default does."""
    encoder = json.JSONEncoder(
        sort_keys=True, separators=separators, default=default, ensure_ascii=ensure_ascii
    )
    if _c_make_encoder is None:  # a Python without the C accelerator
        return encoder.encode
    text = json.encoder
    strings = text.encode_basestring_ascii if ensure_ascii else text.encode_basestring
    item_separator, key_separator = separators
    chunks = _c_make_encoder(
        None, encoder.default, strings, None, key_separator, item_separator, True, False, True
    )

    def encode(value: Any) -> str:
        if type(value) is str:  # a lone string (a secret fingerprinted alone): no encoder
            return strings(value)  # type: ignore[no-any-return]
        return "".join(chunks(value, 0))

    return encode


def compact_sorted_encoder(*, ensure_ascii: bool) -> Callable[[Any], str]:
    """A function giving ``value`` as compact JSON text with sorted keys (unknown types
    as ``str``), non-ASCII text escaped or not as asked."""
    return sorted_encoder(separators=(",", ":"), ensure_ascii=ensure_ascii, default=str)
