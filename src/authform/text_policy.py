"""Which characters authform lets through into a provider: one rule for manifests and imports.

Control characters (NUL, ESC, the C1 range) and characters that reorder or hide text ("Trojan
Source": U+202E RIGHT-TO-LEFT OVERRIDE, zero-width spaces, the byte-order mark) make a value
show one thing to the person reviewing a plan and store another; a terminal interprets ESC
sequences in a plan or log, a NUL truncates a value in some stores, and a lone surrogate
cannot be written out at all. A manifest value and an imported record's value reach the same
APIs, so both are held to this one rule:

- single-line text (names, keys, ids, addresses) refuses all of those plus tab and newline;
- prose (descriptions, metadata values) may hold tabs and newlines, nothing else of them.
"""

from __future__ import annotations

import re

_CONTROL = r"\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 and C1 controls except tab and newline
_INVISIBLE = r"\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff\u2028\u2029"
# A lone surrogate (a JSON "\ud800" escape) is no character: it cannot be encoded as UTF-8,
# so printing it in a plan or sending it would fail half-way.
_SURROGATE = r"\ud800-\udfff"
_UNSAFE_IN_LINE = re.compile(rf"[\t\n{_CONTROL}{_INVISIBLE}{_SURROGATE}]")
_UNSAFE_IN_PROSE = re.compile(rf"[{_CONTROL}{_INVISIBLE}{_SURROGATE}]")


def unsafe_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character ``value`` may not hold, as ``U+XXXX``, or None when it is clean."""
    if value.isprintable():
        # Every refused character is non-printable to Python (Cc, Cf, Cs, Zl, Zp; tab and
        # newline too), so this C-speed test clears nearly every value without the regex.
        return None
    found = (_UNSAFE_IN_PROSE if multiline else _UNSAFE_IN_LINE).search(value)
    return None if found is None else f"U+{ord(found.group()):04X}"


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` is refused, naming the character (never quoting the value), or None."""
    char = unsafe_character(value, multiline=multiline)
    return None if char is None else f"contains the control character {char}"


def check_text(value: str, *, multiline: bool = False) -> str:
    """``value`` unchanged, or ``ValueError`` saying which character is refused."""
    problem = text_problem(value, multiline=multiline)
    if problem is not None:
        raise ValueError(problem)
    return value
