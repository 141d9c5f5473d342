"""The Clerk Dashboard CSV export, the only export carrying password digests and TOTP secrets.

Columns are found by name, not position, so an extra column (some exports add ``created_at``)
anywhere is harmless; a header lacking one of the 13 documented columns is not a Clerk export,
and guessing would mis-read every row, so it stops the import. Clerk does not document the
delimiter inside multi-value cells; like WorkOS's own importer we split on ``|``, ``,`` or
``;`` (none can occur inside an email address or phone number we would accept).
"""

from __future__ import annotations

import csv
import os
import re
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import islice
from operator import itemgetter
from pathlib import Path

from authform.sources.clerk_ids import is_clerk_id
from authform.sources.errors import SourceError, open_source_text
from authform.sources.records import (
    CleanUsers,
    MalformedRecord,
    PasswordDigest,
    SensitiveText,
    SourceEmail,
    SourceUser,
    UserEntry,
    UserRecord,
    row_origin,
)
from authform.sources.screening import users_clear

COLUMNS: tuple[str, ...] = (
    "id",
    "first_name",
    "last_name",
    "username",
    "primary_email_address",
    "primary_phone_number",
    "verified_email_addresses",
    "unverified_email_addresses",
    "verified_phone_numbers",
    "unverified_phone_numbers",
    "totp_secret",
    "password_digest",
    "password_hasher",
)

_MULTI_VALUE_SEPARATOR = re.compile(r"[|,;]")


def split_multi_value(cell: str | None) -> list[str]:
    """Split a multi-value cell (``a@x|b@x``, ``a@x, b@x``) into its non-empty values."""
    if not cell:
        return []
    if "|" not in cell and "," not in cell and ";" not in cell:
        # One value (nearly every cell): the split below would return just this, slower.
        value = cell.strip()
        return [value] if value else []
    return [part.strip() for part in _MULTI_VALUE_SEPARATOR.split(cell) if part.strip()]


def read_clerk_csv(path: str | os.PathLike[str]) -> Iterator[UserRecord]:
    """Yield each user of a Clerk Dashboard CSV export, or a ``MalformedRecord`` for a bad row.

    Raises ``SourceError`` (on first iteration) when the file cannot be read or its header is
    not a Clerk export's.
    """
    name, file = Path(path).name, str(path)
    with open_source_text(path, newline="") as fp:
        reader = csv.reader(fp)
        header = _read_header(reader, path)
        while True:
            row_number = reader.line_num + 1
            origin = row_origin(f"{name}:row {row_number}", file, row_number)
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield MalformedRecord("user", origin, f"unreadable CSV row: {exc}")
                continue
            if len(row) <= 1 and not "".join(row).strip():
                continue  # blank line
            yield _user_from_row(row, header, origin)


# How many rows the fast lane reads into one block.
ROWS_PER_BLOCK = 500


def read_clerk_csv_blocks(
    path: str | os.PathLike[str], *, rows_per_block: int = ROWS_PER_BLOCK
) -> Iterator[UserEntry]:
    """``read_clerk_csv``, with each run of users of the plainest shape (see ``CleanUsers``)
    given as one block: the fast lane. A run holding anything else (several addresses, a
    phone, a TOTP secret, a short row, a value the screen refuses) is yielded as its records,
    one by one, exactly as ``read_clerk_csv`` reads them.

    The file is read a run of lines at a time: a run with no quote in it (nearly every run
    of an export) is split on commas, which is what the CSV reader makes of such lines; any
    other run is read by the CSV reader, record by record (a quoted cell may span lines)."""
    name, file = Path(path).name, str(path)
    per_block = max(rows_per_block, 1)  # a block holds a row at least
    with open_source_text(path, newline="") as fp:
        # Lines read ahead of the CSV reader, which it reads first: a run not split.
        unread: deque[str] = deque()
        reader = csv.reader(_lines(unread, fp))
        header = _read_header(reader, path)
        split = 0  # lines split here, never seen by the reader
        rows: list[list[str]] = []
        lines: list[int] = []
        while True:
            if not unread:
                run = list(islice(fp, per_block))
                if not run:
                    break
                if _splits_as_csv(run):
                    first = reader.line_num + split + 1
                    split += len(run)
                    at = 0
                    while at < len(run):
                        take = min(per_block - len(rows), len(run) - at)
                        rows += [line.rstrip("\r\n").split(",") for line in run[at : at + take]]
                        lines += range(first + at, first + at + take)
                        at += take
                        if len(rows) >= per_block:
                            yield from _entries(rows, lines, header, name, file)
                            rows, lines = [], []
                    continue
                unread.extend(run)
            line = reader.line_num + split + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                yield from _entries(rows, lines, header, name, file)
                rows, lines = [], []
                origin = row_origin(f"{name}:row {line}", file, line)
                yield MalformedRecord("user", origin, f"unreadable CSV row: {exc}")
                continue
            rows.append(row)
            lines.append(line)
            if len(rows) >= per_block:
                yield from _entries(rows, lines, header, name, file)
                rows, lines = [], []
        yield from _entries(rows, lines, header, name, file)


def _lines(unread: deque[str], fp: Iterator[str]) -> Iterator[str]:
    """The lines ``unread``, then the file's: what the CSV reader reads."""
    while True:
        while unread:
            yield unread.popleft()
        line = next(fp, None)
        if line is None:
            return
        yield line


def _splits_as_csv(run: list[str]) -> bool:
    """Whether each of the ``run`` of lines (read with ``newline=""``: each ends at its
    first line break) is, to the CSV reader, one record of its comma-separated cells:
    it holds no quote (only quotes make a cell span lines, hold a comma or need undoing),
    no NUL, and no cell the reader would refuse as longer than its limit. A blank line
    splits as one empty cell where the reader gives no cell: both are read as a blank line
    (``_entries``), and neither is a row of the header's width."""
    text = "".join(run)
    return '"' not in text and "\0" not in text and max(map(len, run)) <= csv.field_size_limit()


def _entries(
    rows: list[list[str]], lines: list[int], header: _Header, name: str, file: str
) -> Iterator[UserEntry]:
    """The rows (first read at ``lines``) as one ``CleanUsers`` block, or as their records."""

    def records() -> Iterator[UserRecord]:
        for row, line in zip(rows, lines, strict=True):
            if len(row) <= 1 and not "".join(row).strip():
                continue  # blank line
            yield _user_from_row(row, header, row_origin(f"{name}:row {line}", file, line))

    clean = _clean_users(rows, lines, header, name, file, records) if rows else None
    if clean is None:
        yield from records()
    else:
        yield clean


def _clean_users(
    rows: list[list[str]],
    lines: list[int],
    header: _Header,
    name: str,
    file: str,
    records: Callable[[], Iterator[UserRecord]],
) -> CleanUsers | None:
    """The rows as columns when every one is of the plainest shape (``CleanUsers``) and the
    screen clears them; else None. Each test is over a whole column: an address equal to
    the primary in every row, no cell of the phone, TOTP and unverified columns filled."""
    if set(map(len, rows)) != {header.width}:
        return None  # a short or long row (or a blank line): read one by one
    (
        ids,
        first_names,
        last_names,
        usernames,
        primary_emails,
        primary_phones,
        verified_emails,
        unverified_emails,
        verified_phones,
        unverified_phones,
        totps,
        digests,
        hashers,
    ) = zip(*map(header.known_cells, rows), strict=True)
    if (
        verified_emails != primary_emails
        or any(primary_phones)
        or any(unverified_emails)
        or any(verified_phones)
        or any(unverified_phones)
        or any(totps)
    ):
        return None
    addresses = "\n".join(primary_emails)
    # One address per cell, as written (no value to trim, no separator to split on).
    if (
        not addresses.isascii()
        or addresses.count("\n") != len(rows) - 1
        or _NOT_IN_ONE_ADDRESS.search(addresses) is not None
    ):
        return None
    if any(digest != digest.strip() for digest in digests if digest):
        return None
    if not users_clear(ids, (first_names, last_names, usernames, primary_emails, digests, hashers)):
        return None
    return CleanUsers(
        file, name, lines, ids, first_names, last_names, primary_emails, digests, hashers, records
    )


# What no single address cell holds as written (the cells joined by newlines, all ASCII): a
# multi-value separator, whitespace ``str.strip`` would trim, or nothing (a user with no
# address).
_NOT_IN_ONE_ADDRESS = re.compile(r"[|,;\t\r\x0b\x0c\x1c-\x1f ]|^$", re.MULTILINE)


@dataclass(frozen=True)
class _Header:
    """Where each known column is, and how many cells a row must have."""

    positions: dict[str, int]
    width: int

    @cached_property
    def known_cells(self) -> Callable[[Sequence[str]], tuple[str, ...]]:
        """A row's cells of the ``COLUMNS``, in that order, picked in one C call."""
        return itemgetter(*(self.positions[column] for column in COLUMNS))


def _read_header(reader: Iterator[list[str]], path: str | os.PathLike[str]) -> _Header:
    try:
        header = next(reader)
    except StopIteration:
        raise SourceError(
            f"{path}: the file is empty, expected a Clerk users CSV", path=path
        ) from None
    except csv.Error as exc:
        raise SourceError(f"{path}: not a readable CSV file: {exc}", path=path) from None
    columns: dict[str, int] = {}
    for position, raw in enumerate(header):
        column = raw.strip().lower()
        if column in columns and column in COLUMNS:
            raise SourceError(f"{path}: the header names column {column!r} twice", path=path)
        columns.setdefault(column, position)
    missing = [column for column in COLUMNS if column not in columns]
    # Header cells are never echoed: in a file whose header row is missing they are a user's
    # data, TOTP secret and password digest included.
    if len(missing) == len(COLUMNS):
        raise SourceError(
            f"{path}: not a Clerk Dashboard users CSV: the first row has none of its column names "
            "(is the header row missing, or is this another format?)",
            path=path,
        )
    if missing:
        raise SourceError(
            f"{path}: not a Clerk Dashboard users CSV: the header lacks column(s) "
            f"{', '.join(missing)}",
            path=path,
        )
    return _Header(positions=columns, width=len(header))


def _user_from_row(row: Sequence[str], header: _Header, origin: str) -> UserRecord:
    # A trailing empty cell (a row ending in ",") is harmless; any other width is a row we
    # cannot trust column by column.
    expected = header.width
    if len(row) != expected and (
        len(row) < expected or any(cell.strip() for cell in row[expected:])
    ):
        id_index = header.positions["id"]
        guessed_id = row[id_index].strip() if id_index < len(row) else ""
        return MalformedRecord(
            "user",
            origin,
            f"expected {expected} columns, found {len(row)}",
            # In a row whose cells cannot be trusted, the id is believed only if it looks like one.
            source_id=guessed_id if is_clerk_id("user", guessed_id) else None,
        )
    (
        user_id,
        first_name,
        last_name,
        username,
        primary_email,
        primary_phone,
        verified_emails,
        unverified_emails,
        verified_phones,
        unverified_phones,
        totp,
        digest,
        hasher,
    ) = header.known_cells(row)  # in the order of COLUMNS
    user_id = user_id.strip()
    if not user_id:
        return MalformedRecord("user", origin, "the id column is empty")
    emails = tuple([SourceEmail(a, True) for a in split_multi_value(verified_emails)])
    if unverified_emails:
        emails += tuple([SourceEmail(a, False) for a in split_multi_value(unverified_emails)])
    primary_phone = primary_phone.strip()
    phones = (
        _unique(
            ([primary_phone] if primary_phone else [])
            + split_multi_value(verified_phones)
            + split_multi_value(unverified_phones)
        )
        if primary_phone or verified_phones or unverified_phones
        else ()
    )
    totp = totp.strip()
    digest = digest.strip()
    return SourceUser(
        id=user_id,
        origin=origin,
        first_name=first_name,
        last_name=last_name,
        username=username.strip(),
        emails=emails,
        primary_email=primary_email.strip() or None,
        phone_numbers=phones,
        totp_enabled=bool(totp),
        totp_secret=SensitiveText(totp) if totp else None,
        password=PasswordDigest(hasher.strip(), SensitiveText(digest)) if digest else None,
    )


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))
