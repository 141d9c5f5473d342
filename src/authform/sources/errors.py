"""File-level failures of a user-import source.

A source file that cannot be read at all (missing, not UTF-8, wrong format, bad header) stops
the import before anything is planned: importing half of an unreadable export would silently
drop users. One bad record is not that: it becomes a ``MalformedRecord`` and the rest go on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO


class SourceError(Exception):
    """A source file cannot be used; the message names the file and what is wrong."""

    def __init__(self, message: str, *, path: str | os.PathLike[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = None if path is None else Path(path)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class InvalidUtf8:
    """Where a file stops being UTF-8: 1-based line, 0-based byte offset, and why."""

    line: int
    offset: int
    reason: str


def locate_invalid_utf8(
    path: str | os.PathLike[str], *, chunk_size: int = 1 << 20
) -> InvalidUtf8 | None:
    """The first byte of ``path`` that is not UTF-8, read in chunks (the file may be huge),
    or None when there is none (or the file cannot be read again)."""
    offset = 0  # file offset of buffer[0]
    line = 1
    carry = b""
    try:
        with open(path, "rb") as fp:
            while True:
                chunk = fp.read(chunk_size)
                buffer = carry + chunk
                if not buffer:
                    return None
                try:
                    buffer.decode("utf-8")
                except UnicodeDecodeError as exc:
                    cut_by_chunk = chunk and exc.reason == "unexpected end of data"
                    if not cut_by_chunk:
                        bad = buffer[exc.start]
                        return InvalidUtf8(
                            line + buffer.count(b"\n", 0, exc.start),
                            offset + exc.start,
                            f"{exc.reason}: byte 0x{bad:02x}",
                        )
                    good = exc.start  # a character split by the chunk boundary: read on
                else:
                    good = len(buffer)
                if not chunk:
                    return None
                line += buffer.count(b"\n", 0, good)
                offset += good
                carry = buffer[good:]
    except OSError:
        return None


@contextmanager
def open_source_text(
    path: str | os.PathLike[str], *, newline: str | None = None
) -> Iterator[TextIO]:
    """Open a source file as UTF-8 text, turning OS and decoding failures into ``SourceError``.

    ``utf-8-sig`` drops the byte-order mark spreadsheet tools add, which would otherwise end up
    in the first CSV column name or before a JSON array's ``[``.
    """
    try:
        fp = open(path, encoding="utf-8-sig", newline=newline)  # noqa: SIM115
    except FileNotFoundError:
        raise SourceError(f"{path}: file not found", path=path) from None
    except IsADirectoryError:
        raise SourceError(f"{path}: is a directory, expected a file", path=path) from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot open: {exc.strerror or exc}", path=path) from None
    try:
        with fp:
            yield fp
    except UnicodeDecodeError as exc:
        # The decoder saw one buffered chunk; find the byte in the file itself.
        where = locate_invalid_utf8(path)
        place = f"line {where.line}, byte offset {where.offset}: " if where else ""
        reason = where.reason if where else exc.reason
        raise SourceError(
            f"{path}: {place}not UTF-8 text ({reason}); re-save the export as UTF-8",
            path=path,
        ) from None
    except OSError as exc:
        raise SourceError(f"{path}: read failed: {exc.strerror or exc}", path=path) from None
