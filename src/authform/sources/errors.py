"""File-level failures of a user-import source.

A source file that cannot be read at all (missing, not UTF-8, wrong format, bad header) stops
the import before anything is planned: importing half of an unreadable export would silently
drop users. One bad record is not that: it becomes a ``MalformedRecord`` and the rest go on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
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
        raise SourceError(
            f"{path}: not UTF-8 text ({exc.reason}); re-save the export as UTF-8",
            path=path,
        ) from None
    except OSError as exc:
        raise SourceError(f"{path}: read failed: {exc.strerror or exc}", path=path) from None
