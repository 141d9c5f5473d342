import csv
import re

import pytest

from authform.sources import MalformedRecord, SourceEmail, SourceError, SourceUser, read_clerk_csv
from authform.sources.clerk_csv import COLUMNS, split_multi_value

from . import FIXTURES

HEADER = ",".join(COLUMNS)
DIGEST = "$2b$10$rCUC3m0NZNiOTcIgm15yout/fI5HqM0avbC9bxZ1cEP2lWBEfd1c2"


def write(tmp_path, text, name="users.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def row(**cells):
    return ",".join(cells.get(column, "") for column in COLUMNS)


def test_fixture_reads_every_row_with_its_origin():
    records = list(read_clerk_csv(FIXTURES / "users.csv"))
    assert all(isinstance(r, SourceUser) for r in records)
    assert [r.id[-3:] for r in records] == [f"{n:03}" for n in range(1, 15)]
    assert records[0].origin == "users.csv:row 2"
    assert records[13].origin == "users.csv:row 15"


def test_fixture_fields_as_exported():
    users = {u.id[-3:]: u for u in read_clerk_csv(FIXTURES / "users.csv")}
    assert users["001"].primary_email == "ada@example.com"
    assert users["001"].password is not None
    assert users["001"].password.hasher == "bcrypt"
    assert users["001"].password.value.startswith("$2a$10$")
    assert users["004"].password is None
    assert users["005"].emails == (
        SourceEmail("jessica@atreides.example", True),
        SourceEmail("jessica@harkonnen.example", True),
    )
    assert (users["006"].first_name, users["006"].last_name) == ("José", "Ñúñez")
    assert (
        users["007"].primary_email == "Mixed.Case@Example.COM"
    )  # normalizing is not the reader's job
    assert users["009"].password is not None and users["009"].password.hasher == "pbkdf2_sha256"
    assert users["011"].emails == () and users["011"].phone_numbers == ("+15555550111",)
    assert (users["012"].first_name, users["012"].last_name) == ('Robert "Bobby"', "Tables, Jr.")
    assert users["013"].totp_enabled and users["013"].totp_secret == "JBSWY3DPEHPK3PXP"
    assert users["014"].emails == (SourceEmail("una@example.com", False),)
    assert users["002"].username == "ghopper"


@pytest.mark.parametrize(
    ("cell", "values"),
    [
        ("a@x.io|b@x.io", ["a@x.io", "b@x.io"]),
        ("a@x.io, b@x.io", ["a@x.io", "b@x.io"]),
        ("a@x.io;b@x.io;", ["a@x.io", "b@x.io"]),
        (" a@x.io | ", ["a@x.io"]),
        ("", []),
    ],
)
def test_multi_value_cells_split_on_pipe_comma_or_semicolon(cell, values):
    assert split_multi_value(cell) == values


def test_quoted_multi_value_cell_with_commas(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "\n"
        + row(
            id="user_1",
            primary_email_address="a@x.io",
            verified_email_addresses='"a@x.io, b@x.io"',
            unverified_email_addresses="c@x.io;d@x.io",
        )
        + "\n",
    )
    (user,) = read_clerk_csv(path)
    assert [(e.address, e.verified) for e in user.emails] == [
        ("a@x.io", True),
        ("b@x.io", True),
        ("c@x.io", False),
        ("d@x.io", False),
    ]


def test_extra_trailing_column_and_reordered_columns_are_tolerated(tmp_path):
    columns = list(reversed(COLUMNS)) + ["created_at"]
    values = {
        "id": "user_1",
        "primary_email_address": "a@x.io",
        "verified_email_addresses": "a@x.io",
        "password_digest": DIGEST,
        "password_hasher": "bcrypt",
        "created_at": "2024-01-01",
    }
    text = ",".join(columns) + "\n" + ",".join(values.get(c, "") for c in columns) + "\n"
    (user,) = read_clerk_csv(write(tmp_path, text))
    assert isinstance(user, SourceUser)
    assert user.id == "user_1" and user.password is not None and user.password.value == DIGEST


def test_header_with_byte_order_mark_and_crlf(tmp_path):
    path = tmp_path / "users.csv"
    path.write_bytes(("\ufeff" + HEADER + "\r\n" + row(id="user_1") + "\r\n").encode())
    (user,) = read_clerk_csv(path)
    assert user.id == "user_1" and user.origin == "users.csv:row 2"


def test_malformed_rows_are_reported_in_place_and_reading_goes_on(tmp_path):
    lines = [
        HEADER,
        row(id="user_1", primary_email_address="a@x.io"),
        "user_2,only,three",
        row(id="user_3") + ",unexpected,cells",
        row(id="user_4") + ",",  # a trailing empty cell is harmless
        "",
        row(id="", primary_email_address="noid@x.io"),
        row(id="user_6", password_digest=DIGEST, password_hasher="bcrypt") + ",x",
        row(id="user_7"),
    ]
    records = list(read_clerk_csv(write(tmp_path, "\n".join(lines) + "\n")))
    summary = [
        (r.origin, r.source_id, r.problem) if isinstance(r, MalformedRecord) else (r.origin, r.id)
        for r in records
    ]
    assert summary == [
        ("users.csv:row 2", "user_1"),
        ("users.csv:row 3", "user_2", "expected 13 columns, found 3"),
        ("users.csv:row 4", "user_3", "expected 13 columns, found 15"),
        ("users.csv:row 5", "user_4"),
        ("users.csv:row 7", None, "the id column is empty"),
        ("users.csv:row 8", "user_6", "expected 13 columns, found 14"),
        ("users.csv:row 9", "user_7"),
    ]
    assert DIGEST not in repr(records)


def test_multiline_quoted_cell_keeps_row_numbers_honest(tmp_path):
    text = (
        HEADER + "\n" + row(id="user_1", first_name='"two\nlines"') + "\n" + row(id="user_2") + "\n"
    )
    records = list(read_clerk_csv(write(tmp_path, text)))
    assert [(r.origin, r.first_name) for r in records] == [
        ("users.csv:row 2", "two\nlines"),
        ("users.csv:row 4", ""),
    ]


def test_unreadable_row_is_malformed_not_a_crash(tmp_path):
    text = HEADER + "\n" + row(id="user_1", first_name="x" * 80) + "\n" + row(id="user_2") + "\n"
    previous = csv.field_size_limit(50)
    try:
        records = list(read_clerk_csv(write(tmp_path, text)))
    finally:
        csv.field_size_limit(previous)
    assert isinstance(records[0], MalformedRecord)
    assert records[0].problem.startswith("unreadable CSV row: field larger than field limit")
    assert isinstance(records[-1], SourceUser) and records[-1].id == "user_2"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "users.csv: the file is empty, expected a Clerk users CSV"),
        (
            "id,first_name,last_name\nuser_1,A,B\n",
            "users.csv: not a Clerk Dashboard users CSV: the header lacks column(s) username, "
            "primary_email_address, primary_phone_number, verified_email_addresses, "
            "unverified_email_addresses, verified_phone_numbers, unverified_phone_numbers, "
            "totp_secret, password_digest, password_hasher",
        ),
        (
            '[{"id": "user_1"}]',
            "users.csv: not a Clerk Dashboard users CSV: the first row has none of its "
            "column names (is the header row missing, or is this another format?)",
        ),
        (HEADER + ",id\n", "users.csv: the header names column 'id' twice"),
    ],
)
def test_unusable_file_raises_source_error_naming_it(tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(SourceError) as caught:
        list(read_clerk_csv(path))
    assert str(caught.value).replace(str(tmp_path) + "/", "").startswith(message)
    assert caught.value.path == path


def test_a_missing_header_row_is_reported_without_echoing_the_data(tmp_path):
    first_row = row(
        id="user_1",
        primary_email_address="a@x.io",
        totp_secret="JBSWY3DPEHPK3PXP",
        password_digest=DIGEST,
        password_hasher="bcrypt",
    )
    with pytest.raises(SourceError) as caught:
        list(read_clerk_csv(write(tmp_path, first_row + "\n")))
    message = str(caught.value)
    assert "is the header row missing" in message
    assert DIGEST not in message and "JBSWY3DPEHPK3PXP" not in message and "a@x.io" not in message


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(SourceError, match=r"nope\.csv: file not found"):
        list(read_clerk_csv(tmp_path / "nope.csv"))
    with pytest.raises(SourceError, match="is a directory"):
        list(read_clerk_csv(tmp_path))


def test_non_utf8_file(tmp_path):
    path = tmp_path / "users.csv"
    path.write_bytes(
        (HEADER + "\n").encode() + row(id="user_1", first_name="Jos\xe9").encode("latin-1")
    )
    offset = path.read_bytes().index(b"\xe9")
    with pytest.raises(
        SourceError, match=rf"users\.csv: line 2, byte offset {offset}: not UTF-8 text"
    ):
        list(read_clerk_csv(path))


@pytest.mark.parametrize(
    "cell", ["", " ", "a@x.io", "  a@x.io ", "a@x.io|b@x.io", "a@x.io, b@x.io", "a;;b", "|", "\t"]
)
def test_a_cell_of_one_value_splits_as_the_separators_would(cell):
    """A cell without a separator skips the split (nearly every cell); the result is the
    split's."""
    parts = [part.strip() for part in re.split(r"[|,;]", cell) if part.strip()] if cell else []
    assert split_multi_value(cell) == parts


def _reference_blocks(path, rows_per_block):
    """The blocks reader as it read every line through the CSV reader, for comparison."""
    from pathlib import Path

    from authform.sources import clerk_csv
    from authform.sources.records import row_origin

    name, file = Path(path).name, str(path)
    with open(path, encoding="utf-8-sig", newline="") as fp:
        reader = csv.reader(fp)
        header = clerk_csv._read_header(reader, path)
        rows, lines = [], []
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                yield from clerk_csv._entries(rows, lines, header, name, file)
                rows, lines = [], []
                origin = row_origin(f"{name}:row {line}", file, line)
                yield MalformedRecord("user", origin, f"unreadable CSV row: {exc}")
                continue
            rows.append(cells)
            lines.append(line)
            if len(rows) >= rows_per_block:
                yield from clerk_csv._entries(rows, lines, header, name, file)
                rows, lines = [], []
        yield from clerk_csv._entries(rows, lines, header, name, file)


def _comparable(entries):
    """Entries as values: a block as its columns and its records read one by one."""
    from authform.sources.records import CleanUsers

    return [
        (
            "block",
            entry.lines,
            entry.ids,
            entry.first_names,
            entry.last_names,
            entry.emails,
            entry.digests,
            entry.hashers,
            [(r, r.origin) for r in entry.records()],
        )
        if type(entry) is CleanUsers
        else (entry, entry.origin)
        for entry in entries
    ]


def _plain(n):
    return row(
        id=f"user_{n}",
        first_name=f"F{n}",
        primary_email_address=f"u{n}@x.io",
        verified_email_addresses=f"u{n}@x.io",
    )


BLOCKS_TEXTS = {
    "plain, CRLF": "\r\n".join([HEADER] + [_plain(n) for n in range(12)]) + "\r\n",
    "plain, no final line break": "\n".join([HEADER] + [_plain(n) for n in range(12)]),
    "a quoted cell over two lines": "\n".join(
        [HEADER]
        + [_plain(n) for n in range(4)]
        + [row(id="user_q", first_name='"two\nlines, and a comma"')]
        + [_plain(n) for n in range(4, 9)]
    )
    + "\n",
    "blank lines, lone CRs": HEADER
    + "\r\n"
    + _plain(1)
    + "\r\n\r\n"
    + _plain(2)
    + "\n\n"
    + _plain(3)
    + "\r"
    + _plain(4)
    + "\r"
    + "   \n"
    + _plain(5)
    + "\n",
    "a NUL, short rows, quotes inside": "\n".join(
        [HEADER, _plain(1), row(id="user_n", first_name="a\0b"), "user_short,x", _plain(2)]
        + [
            row(id="user_qq", first_name='say ""hi""'),
            row(id="user_q2", last_name='"x"y'),
            _plain(3),
        ]
    )
    + "\n",
    "an overlong cell": "\n".join(
        [HEADER, _plain(1), row(id="user_long", first_name="x" * (csv.field_size_limit() + 1))]
        + [_plain(n) for n in range(2, 6)]
    )
    + "\n",
    "an unclosed quote at the end": "\n".join(
        [HEADER] + [_plain(n) for n in range(3)] + [row(id="user_u", first_name='"open')]
    )
    + "\n"
    + _plain(9)
    + "\n",
}


@pytest.mark.parametrize("rows_per_block", [0, 1, 2, 3, 7, 500])
@pytest.mark.parametrize("text", sorted(BLOCKS_TEXTS))
def test_blocks_are_read_as_the_csv_reader_reads_every_line(tmp_path, text, rows_per_block):
    """Runs of lines with no quote are split on commas, the others read by the CSV reader:
    the same blocks, records, row numbers and errors as when every line went through it."""
    from authform.sources.clerk_csv import read_clerk_csv_blocks

    path = tmp_path / "users.csv"
    path.write_bytes(BLOCKS_TEXTS[text].encode())
    expected = _comparable(_reference_blocks(path, rows_per_block))
    assert _comparable(read_clerk_csv_blocks(path, rows_per_block=rows_per_block)) == expected
    assert [r for r in read_clerk_csv(path)] == [
        record
        for entry in read_clerk_csv_blocks(path, rows_per_block=rows_per_block)
        for record in (entry.records() if hasattr(entry, "records") else [entry])
    ]
