"""Read a top-level JSON array one item at a time, in flat memory.

Clerk's JSON exports are single arrays that reach hundreds of megabytes; ``json.load`` would
hold all of it (several times over, as Python objects). This reader keeps one chunk plus the
item being read: ``json.JSONDecoder.raw_decode`` parses each item straight out of the buffer,
and only when that fails does a small scanner (aware of strings, escapes and nesting) decide
whether the item is merely cut by the chunk boundary (read more) or really broken (report it
as one bad item and resynchronize at the next top-level ``,``), so one damaged record never
costs the rest of the export.

Speed: an export holds millions of small items, so the items a chunk holds whole (each
followed by its ``,`` or ``]``) are read in one tight loop (a decode, a whitespace match and a
newline count each); anything else (an item cut by the chunk boundary, a broken one, the end
of the array) takes the careful one-item step, so both paths yield exactly the same items.

Blocks (``iter_json_array_blocks``): a reader that can take many items at once asks for the
text in blocks of about a megabyte, each decoded by one call of the decoder over ``[`` +
block + ``]``. The block is cut at a comma followed by what began its first item (the
object's head, its first key with the indentation before it): in an export of like items
that is where the next item begins. A cut that falls inside a string or inside an item
leaves an unterminated string or an unclosed bracket, so the decode fails and that text is
read item by item instead: a block that decodes holds exactly the items the one-item reading
finds there, with the same values.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, TextIO

from authform import fast_json
from authform.sources.errors import SourceError

DEFAULT_CHUNK_SIZE = 1 << 16
# An item this large is not a user record: the file is corrupted (e.g. an unclosed string
# swallowing the rest of it), and reading on would load the whole file.
MAX_ITEM_CHARS = 8 << 20

_DECODER = json.JSONDecoder()
# The decoder's own scanner (``scan_once``: the typeshed stubs do not list it), called
# directly: ``raw_decode`` wraps it in Python.
_SCAN: Callable[[str, int], tuple[Any, int]] = vars(_DECODER)["scan_once"]
_WHITESPACE = re.compile(r"[ \t\n\r]*")
# A complete string, or any single structural character (a lone quote = unterminated string).
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},"]', re.DOTALL)
_NEED_MORE = -1
# What follows an item that is not the last: its comma, and the whitespace around it.
_COMMA = re.compile(r"[ \t\n\r]*,[ \t\n\r]*")
_new_item = tuple.__new__
# How far back from the end of the buffered text a block's cut is looked for, and how long
# an item's head (its text up to the first key's colon) may be.
_CUT_WINDOW = 1 << 16
_MAX_HEAD = 64
# How much text a block holds (about): a few thousand records of an export.
DEFAULT_BLOCK_CHARS = 1 << 18


class ArrayItem(NamedTuple):
    """One item of the array: its 1-based number and starting line, and its value or error.
    (A named tuple: one is built per item, and a tuple is built several times faster than a
    frozen dataclass.)"""

    number: int
    line: int
    value: Any = None
    error: str | None = None


class ItemBlock(NamedTuple):
    """Items read at once (see ``iter_json_array_blocks``): the number and starting line of
    the first, the block's text, and the items' values (all readable).

    The values are for reading an item's texts and shape: they are what ``json`` reads but
    for an integer beyond 64 bits, read as a float of about its value (they are decoded by
    orjson). A reader that needs such a number exactly reads the block one by one
    (``items``), as a reader does whenever it cannot take the block whole."""

    first: int
    line: int
    text: str
    values: list[Any]

    def items(self, name: str) -> Iterator[ArrayItem]:
        """The block's items one by one, as ``iter_json_array`` reads them (number, line):
        for a reader that cannot take the block whole."""
        number, line = self.first - 1, self.line - 1
        for item in iter_json_array(io.StringIO("[" + self.text + "]"), name):
            yield _new_item(ArrayItem, (item.number + number, item.line + line, item.value, None))


class _Buffer:
    """A sliding window over the file; ``pos`` is the first unconsumed character."""

    def __init__(self, fp: TextIO, chunk_size: int) -> None:
        self.fp = fp
        self.chunk_size = chunk_size
        self.text = ""
        self.pos = 0
        self.line = 1
        self.eof = False

    def fill(self) -> bool:
        """Append one chunk, dropping what was consumed; False once the file is exhausted."""
        if self.eof:
            return False
        chunk = self.fp.read(self.chunk_size)
        if not chunk:
            self.eof = True
            return False
        self.text = self.text[self.pos :] + chunk
        self.pos = 0
        return True

    def advance(self, to: int) -> None:
        self.line += self.text.count("\n", self.pos, to)
        self.pos = to

    def line_at(self, index: int) -> int:
        return self.line + self.text.count("\n", self.pos, index)

    def peek(self) -> str:
        """Skip whitespace and return the next character, or "" at the end of the file."""
        while True:
            match = _WHITESPACE.match(self.text, self.pos)
            self.advance(match.end() if match else self.pos)
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.fill():
                return ""

    @property
    def pending(self) -> int:
        return len(self.text) - self.pos


def iter_json_array(
    fp: TextIO, name: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> Iterator[ArrayItem]:
    """Yield each item of the JSON array in ``fp``; ``name`` is used in error messages.

    A broken item is yielded with ``error`` set; a file that is not one JSON array (empty,
    an object, truncated, trailing content) raises ``SourceError``.
    """
    for entry in _entries(fp, name, chunk_size, 0):
        assert type(entry) is ArrayItem
        yield entry


def iter_json_array_blocks(
    fp: TextIO, name: str, *, block_chars: int = DEFAULT_BLOCK_CHARS
) -> Iterator[ArrayItem | ItemBlock]:
    """``iter_json_array``, with runs of items given as ``ItemBlock``s of about
    ``block_chars`` characters where the text allows (see the module's docstring); the first
    item always comes alone (readers check it for the file's kind)."""
    return _entries(fp, name, block_chars, block_chars)


def _entries(
    fp: TextIO, name: str, chunk_size: int, block_chars: int
) -> Iterator[ArrayItem | ItemBlock]:
    buf = _Buffer(fp, chunk_size)
    first = buf.peek()
    if first != "[":
        raise SourceError(f"{name}: {_not_an_array(first)}", path=name)
    buf.advance(buf.pos + 1)
    index = 0
    while True:
        if block_chars and index:
            block = _read_block(buf, index, block_chars)
            if block is not None:
                index += len(block.values)
                yield block
                continue
        if index or not block_chars:  # in blocks, the first item comes alone
            for item in _whole_items(buf, index):
                index = item.number
                yield item
        next_char = buf.peek()
        if next_char == "]":
            break
        if next_char == "":
            raise SourceError(
                f"{name}: the JSON array is never closed (after item {index}); "
                "the file looks truncated",
                path=name,
            )
        index += 1
        yield _read_item(buf, name, index, buf.line)
        if buf.peek() == ",":
            buf.advance(buf.pos + 1)  # a trailing comma before "]" is tolerated
    buf.advance(buf.pos + 1)
    if buf.peek() != "":
        raise SourceError(
            f"{name}: unexpected content after the JSON array's closing ']' at line {buf.line}",
            path=name,
        )


def _whole_items(buf: _Buffer, index: int) -> Iterator[ArrayItem]:
    """The items after ``index`` that the buffer holds whole, each followed by its ``,`` or
    ``]``; stops (leaving ``buf`` on the next item, or on the ``]``) at the first one that is
    not, for ``_read_item`` to read with care."""
    text, line = buf.text, buf.line
    end_of_text = len(text)
    scan, after_item, count = _SCAN, _COMMA.match, text.count
    counted = buf.pos
    start = _skip_whitespace(text, counted)
    try:
        while True:
            try:
                value, end = scan(text, start)
            except (StopIteration, json.JSONDecodeError, RecursionError):
                return  # no value here (the "]", a stray ","), or a broken or cut one
            comma = after_item(text, end)
            if comma is not None:
                stop = comma.end()
            else:
                stop = _skip_whitespace(text, end)
                if stop >= end_of_text or text[stop] != "]":
                    return  # a number may go on in the next chunk, or content follows
            line += count("\n", counted, start)
            counted = start
            index += 1
            yield _new_item(ArrayItem, (index, line, value, None))
            start = stop
    finally:
        buf.pos, buf.line = start, line + count("\n", counted, start)


def _read_block(buf: _Buffer, index: int, block_chars: int) -> ItemBlock | None:
    """The items after ``index`` up to the last object's end in about ``block_chars`` of
    text, decoded at once; None (``buf`` untouched) when there is no such cut or the text
    before it is not a run of valid items."""
    while buf.pending < block_chars and buf.fill():
        pass
    text = buf.text
    start = _skip_whitespace(text, buf.pos)
    head_end = text.find(":", start, start + _MAX_HEAD)
    if head_end < 0:
        return None  # not an object with a short head: read item by item
    cut = _last_cut(text, text[start:head_end], max(start + 1, len(text) - _CUT_WINDOW))
    if cut <= start:
        return None
    block_text = text[start:cut]
    try:
        values = _decode_block("[" + block_text + "]")
    except (json.JSONDecodeError, RecursionError):
        return None
    line = buf.line_at(start)
    buf.advance(text.index(",", cut) + 1)
    return ItemBlock(index + 1, line, block_text, values)


def _last_cut(text: str, head: str, lowest: int) -> int:
    """Where the last ``head`` in ``text`` at or after ``lowest`` that follows a comma (and
    whitespace around it) has that whitespace and comma begin, or -1: found from the end by
    ``str.rfind`` (a regular expression scanning the window from its start cost six times
    as much: 0.22 s per 100,000 users' memberships)."""
    at = len(text)
    while (at := text.rfind(head, lowest, at)) >= 0:
        before = at
        while before > lowest and text[before - 1] in _JSON_WHITESPACE:
            before -= 1
        if before > lowest and text[before - 1] == ",":
            before -= 1
            while before > lowest and text[before - 1] in _JSON_WHITESPACE:
                before -= 1
            return before
    return -1


_JSON_WHITESPACE = " \t\n\r"


def _decode_block(text: str) -> Any:
    """``json.loads(text)``, by orjson where it can (``fast_json``): 100,000 users'
    memberships 0.52 -> 0.25 s CPU. One value differs (see ``ItemBlock``): an integer beyond
    64 bits, which orjson reads as a float. Guarding against it cost more than the decoding
    (a regular expression over the block: 4 ms, orjson 3 ms)."""
    return fast_json.loads(text)


def _skip_whitespace(text: str, pos: int) -> int:
    match = _WHITESPACE.match(text, pos)
    return match.end() if match else pos


def _not_an_array(first: str) -> str:
    if first == "":
        return "the file is empty, expected a JSON array"
    if first == "{":
        return (
            "expected a JSON array, found a JSON object "
            "(if this is a saved API response, save its 'data' array instead)"
        )
    return "expected a JSON array (not JSON, or not an array)"


def _read_item(buf: _Buffer, name: str, index: int, line: int) -> ArrayItem:
    """Read the item at ``buf.pos``, leaving ``buf.pos`` on the ``,`` or ``]`` after it."""
    while True:
        problem: str | None = None
        try:
            value, end = _DECODER.raw_decode(buf.text, buf.pos)
        except json.JSONDecodeError as exc:
            problem = f"invalid JSON ({exc.msg}) at line {buf.line_at(exc.pos)}"
        except RecursionError:
            problem = "invalid JSON (nested too deeply)"
        else:
            after = _WHITESPACE.match(buf.text, end)
            stop = after.end() if after else end
            if stop == len(buf.text) and not buf.eof:
                # A number may continue in the next chunk, and we must see what follows.
                _fill_or_fail(buf, name, index, line)
                continue
            if stop == len(buf.text) or buf.text[stop] in ",]":
                buf.advance(stop)
                return ArrayItem(number=index, line=line, value=value)
            problem = f"unexpected content after the item's value at line {buf.line_at(stop)}"
        separator = _find_separator(buf.text, buf.pos)
        if separator == _NEED_MORE:
            if buf.eof:
                # Cut off by the end of the file: the caller reports the truncation.
                buf.advance(len(buf.text))
                return ArrayItem(number=index, line=line, error=problem)
            _fill_or_fail(buf, name, index, line)
            continue
        buf.advance(separator)
        return ArrayItem(number=index, line=line, error=problem)


def _fill_or_fail(buf: _Buffer, name: str, index: int, line: int) -> None:
    if buf.pending > MAX_ITEM_CHARS:
        raise SourceError(
            f"{name}: item {index} (line {line}) runs past {MAX_ITEM_CHARS} characters; "
            "the file looks corrupted (an unclosed string or bracket?)",
            path=name,
        )
    buf.fill()


def _find_separator(text: str, start: int) -> int:
    """Index of the ``,`` or ``]`` ending the item that starts at ``start``, or ``_NEED_MORE``.

    Strings are skipped whole (so brackets, braces and escaped quotes inside them do not
    count). Broken nesting is resolved the way a reader would: a closer pops back to its own
    opener (``{"a": [1}`` closes both), and a closer with no opener is ignored, so the scan
    resynchronizes at the next top-level separator.
    """
    open_brackets: list[str] = []
    for match in _TOKEN.finditer(text, start):
        token = match.group()
        char = token[0]
        if char == '"':
            if len(token) == 1:
                return _NEED_MORE  # unterminated string: its end is in a later chunk
        elif char in "[{":
            open_brackets.append(char)
        elif char in "]}":
            opener = "[" if char == "]" else "{"
            if opener in open_brackets:
                while open_brackets.pop() != opener:
                    pass
            elif char == "]" and not open_brackets:
                return match.start()
        elif not open_brackets:  # ","
            return match.start()
    return _NEED_MORE


def describe_json_type(value: Any) -> str:
    """Name a decoded JSON value's type for messages, never its content (it may be secret)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
