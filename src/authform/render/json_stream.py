"""JSON documents written a piece at a time, for outputs whose lists grow with the tenant.

``plan --format json`` on a million-user import lists about three million changes, and
``verify --format json`` as many checks: built as one Python object and dumped, either takes
gigabytes. ``json_chunks`` writes exactly the text ``json.dumps(document, indent=2,
ensure_ascii=False)`` would, but a value wrapped in ``Streamed`` is read and written one
item at a time, so only the item being written is held.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

# What ``buffered`` gathers before handing text on: big enough that a million small items
# are not a million writes (and flushes), small enough to stay flat.
BLOCK_CHARS = 1 << 16


class Streamed:
    """A list value of a document, written item by item from ``items`` (any iterable that
    can be read once: a spool, a generator)."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)


def _dumps(value: Any, indent: str) -> str:
    """``value`` as ``json.dumps(value, indent=2, ensure_ascii=False)`` writes it, nested
    at ``indent``."""
    out: list[str] = []
    _write(value, indent, out)
    return "".join(out)


_text = json.encoder.encode_basestring
_FLOAT_TEXT = float.__repr__
_INT_TEXT = int.__repr__


def _write(value: Any, indent: str, out: list[str]) -> None:
    """``_dumps`` into ``out``: the plain types (strings, numbers, lists, mappings with
    string keys) written here, in one recursive pass, since ``json.dumps`` with an indent
    encodes in Python, a generator per level, which made a million-change JSON plan cost
    minutes; anything else (a non-finite float, another key or value type) by
    ``json.dumps`` itself, so the text is the same whatever the value."""
    kind = type(value)
    if kind is str:
        out.append(_text(value))
    elif value is None:
        out.append("null")
    elif kind is bool:
        out.append("true" if value else "false")
    elif kind is int:
        out.append(_INT_TEXT(value))
    elif kind is float and value - value == 0:  # finite (NaN and infinities are not)
        out.append(_FLOAT_TEXT(value))
    elif (kind is list or kind is tuple) and value:
        inner = indent + "  "
        out.append("[\n" + inner)
        for position, item in enumerate(value):
            if position:
                out.append(",\n" + inner)
            _write(item, inner, out)
        out.append("\n" + indent + "]")
    elif kind is dict and value and all(type(key) is str for key in value):
        inner = indent + "  "
        opening = "{\n" + inner
        for key, item in value.items():
            out.append(opening + _text(key) + ": ")
            opening = ",\n" + inner
            _write(item, inner, out)
        out.append("\n" + indent + "}")
    else:
        # JSON text never holds a raw newline inside a string (it is escaped), so
        # re-indenting a nested value is a replace of its line breaks.
        text = json.dumps(value, indent=2, ensure_ascii=False)
        out.append(text.replace("\n", "\n" + indent))


def json_chunks(document: Mapping[str, Any]) -> Iterator[str]:
    """``document`` as ``json.dumps(document, indent=2, ensure_ascii=False)`` writes it
    (no trailing newline), in pieces: one per key, and one per item of a ``Streamed``."""
    if not document:
        yield "{}"
        return
    for position, (key, value) in enumerate(document.items()):
        yield ("{\n  " if position == 0 else ",\n  ") + json.dumps(key, ensure_ascii=False) + ": "
        if not isinstance(value, Streamed):
            yield _dumps(value, "  ")
            continue
        empty = True
        for item in value:
            yield ("[\n    " if empty else ",\n    ") + _dumps(item, "    ")
            empty = False
        yield "[]" if empty else "\n  ]"
    yield "\n}"


def buffered(chunks: Iterable[str], size: int = BLOCK_CHARS) -> Iterator[str]:
    """``chunks`` joined into blocks of about ``size`` characters. A chunk is never split,
    so whatever filter runs over a block (secret redaction) sees each value whole."""
    block: list[str] = []
    length = 0
    for chunk in chunks:
        block.append(chunk)
        length += len(chunk)
        if length >= size:
            yield "".join(block)
            block, length = [], 0
    if block:
        yield "".join(block)
