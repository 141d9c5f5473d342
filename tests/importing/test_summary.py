"""What ``plan`` prints about an import before anything is written."""

from __future__ import annotations

from authform.importing import build_import_set
from authform.importing.source import MAX_LISTED_UNREADABLE, summarize_import
from authform.sources import MalformedRecord

from .factories import user


def test_unreadable_records_are_named_by_origin_up_to_a_limit():
    broken = [
        MalformedRecord("user", f"users.csv:row {n}", "expected 13 columns, found 2")
        for n in range(2, 2 + MAX_LISTED_UNREADABLE + 5)
    ]
    hostile = user("user_2aEsc", "e@x.io", first_name="\x1b[2J")
    lines = summarize_import(build_import_set([*broken, hostile]), "clerk-csv users.csv")
    listed = [line.strip() for line in lines if line.startswith("    users.csv:row")]
    assert listed[0] == "users.csv:row 2: expected 13 columns, found 2"
    assert len(listed) == MAX_LISTED_UNREADABLE
    assert lines[-1] == "    … and 6 more (all are listed in skipped.csv after apply)"
    assert not any("\x1b" in line for line in lines)


def test_no_listing_when_every_record_reads():
    lines = summarize_import(build_import_set([user("user_2aOk", "ok@x.io")]), "clerk-csv x")
    assert not any("unreadable" in line for line in lines)
