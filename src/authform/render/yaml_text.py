"""YAML text for files people review in pull requests: stable ordering and stable quoting.

``yaml.dump`` picks quoting and line breaks from heuristics that change with the value and
the library version, so a re-export of unchanged data could still show a diff. This writer
has one rule per case instead: a string is written plain only when it is ASCII, starts with
a letter, holds nothing but letters, digits, spaces and ``_ . / ( ) & + ' -``, does not end in
a space, and is not a word YAML 1.1 reads as a boolean or null; every other string is
double-quoted with JSON's escapes (all of which YAML understands). Mappings are written in the
order given: the caller sorts.

It also writes the comments that make an exported file self-explaining, which ``yaml.dump``
cannot do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 _./()&+'-]*")
# YAML 1.1 reads these (in any case) as booleans or null; PyYAML is a YAML 1.1 parser.
_RESERVED = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"})
# What YAML may hold raw inside double quotes: printable, and not a line break (NEL, LS, PS).
_NEEDS_ESCAPE = re.compile(
    "[^\t\u0020-\u007e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
FLOW_WIDTH = 96


@dataclass(frozen=True)
class Commented:
    """A list item with comment lines written just above it."""

    value: Any
    comment: tuple[str, ...]


@dataclass(frozen=True)
class Flow:
    """A short mapping or list of scalars written on one line: ``{domain: a.com, state: x}``."""

    value: Mapping[str, Any] | Sequence[Any]


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and not text.endswith(" ") and text.lower() not in _RESERVED:
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    return _NEEDS_ESCAPE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _flow(value: Mapping[str, Any] | Sequence[Any]) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{scalar(k)}: {scalar(v)}" for k, v in value.items()) + "}"
    return "[" + ", ".join(scalar(v) for v in value) + "]"


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, Mapping | list | tuple | Flow | Commented)


def _inline(value: Any) -> str | None:
    """The value's text when it stays on its key's line."""
    if isinstance(value, Flow):
        return _flow(value.value)
    if isinstance(value, Mapping | list | tuple) and not value:
        return "{}" if isinstance(value, Mapping) else "[]"
    if _is_scalar(value):
        return scalar(value)
    return None


def _mapping(value: Mapping[str, Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for key, item in value.items():
        inline = _inline(item)
        if inline is not None:
            lines.append(f"{pad}{scalar(key)}: {inline}")
        elif isinstance(item, Mapping):
            lines.append(f"{pad}{scalar(key)}:")
            lines += _mapping(item, indent + 2)
        else:
            lines.append(f"{pad}{scalar(key)}:")
            lines += _sequence(item, indent + 2)
    return lines


def _sequence(items: Sequence[Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for item in items:
        if isinstance(item, Commented):
            lines += [f"{pad}# {line}".rstrip() for line in item.comment]
            item = item.value
        inline = _inline(item)
        if inline is not None:
            lines.append(f"{pad}- {inline}")
        elif isinstance(item, Mapping):
            body = _mapping(item, indent + 2)
            lines.append(f"{pad}- {body[0].lstrip()}")
            lines += body[1:]
        else:
            body = _sequence(item, indent + 2)
            lines.append(f"{pad}- {body[0].lstrip()}")
            lines += body[1:]
    return lines


def dump_document(
    sections: Mapping[str, Any],
    *,
    header: Sequence[str] = (),
    footer: Sequence[str] = (),
) -> str:
    """One YAML document: ``header`` and ``footer`` are comment lines (without ``#``)."""
    lines = [f"# {line}".rstrip() for line in header]
    lines += _mapping(sections, 0)
    lines += [f"# {line}".rstrip() for line in footer]
    return "\n".join(lines) + "\n"


def flow_if_short(value: Mapping[str, Any] | Sequence[Any], indent: int) -> Any:
    """``Flow`` when the one-line form fits the page, else the value for block style."""
    return Flow(value) if indent + len(_flow(value)) <= FLOW_WIDTH else value
