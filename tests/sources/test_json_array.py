import io
import json

import pytest

from authform.sources.errors import SourceError
from authform.sources.json_array import iter_json_array

TRICKY = [
    {"id": "a", "note": "brackets ] [ and braces } { inside", "q": 'say "hi"', "bs": "C:\\dir\\"},
    {"nested": {"list": [1, [2, {"deep": "}]"}], {}], "empty": []}, "uni": "José ☃ \u2028"},
    "a string, with a comma]",
    12345678901234567890,
    -1.5e-10,
    True,
    None,
    [],
    {},
    {"escaped": '\\"', "slash": "\\", "tail": "ends with backslash \\"},
]


def values(text, chunk_size=64):
    return [
        item.value for item in iter_json_array(io.StringIO(text), "t.json", chunk_size=chunk_size)
    ]


@pytest.mark.parametrize("indent", [None, 2])
def test_every_chunk_boundary_yields_the_same_items(indent):
    text = json.dumps(TRICKY, indent=indent, ensure_ascii=False)
    for chunk_size in range(1, len(text) + 2):
        assert values(text, chunk_size) == TRICKY, chunk_size


def test_items_carry_index_and_starting_line():
    text = '[\n  {"a": 1},\n\n  {"b":\n 2},\n  3\n]\n'
    items = list(iter_json_array(io.StringIO(text), "t.json", chunk_size=3))
    assert [(i.number, i.line, i.value) for i in items] == [
        (1, 2, {"a": 1}),
        (2, 4, {"b": 2}),
        (3, 6, 3),
    ]


@pytest.mark.parametrize("chunk_size", [1, 2, 5, 7, 1000])
def test_a_broken_item_is_reported_and_the_rest_still_read(chunk_size):
    text = (
        '[{"a": 1},\n {"b": oops},\n {"c": "}]\\" ,"},\n {"d": 1}},\n {"e": 1} {"f": 2},\n'
        ' , \n {"g": [1, 2}, \n {"h": 3}]'
    )
    items = list(iter_json_array(io.StringIO(text), "t.json", chunk_size=chunk_size))
    got = [(i.number, i.value if i.error is None else "ERR") for i in items]
    assert got == [
        (1, {"a": 1}),
        (2, "ERR"),
        (3, {"c": '}]" ,'}),
        (4, "ERR"),  # stray closing brace
        (5, "ERR"),  # missing comma between two objects
        (6, "ERR"),  # empty item
        (7, "ERR"),  # mismatched bracket
        (8, {"h": 3}),
    ]
    assert items[1].error == "invalid JSON (Expecting value) at line 2"
    assert items[1].line == 2


def test_empty_array_and_trailing_comma():
    assert values("  [ ]  ") == []
    assert values("[1, 2,]") == [1, 2]


def test_byte_order_mark_is_the_callers_job_but_whitespace_is_skipped():
    assert values("\n\t [1]\n") == [1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "t.json: the file is empty, expected a JSON array"),
        ("   \n", "t.json: the file is empty, expected a JSON array"),
        ('{"data": []}', "t.json: expected a JSON array, found a JSON object"),
        ("id,first_name\n", "t.json: expected a JSON array (not JSON, or not an array)"),
        ('[{"a": 1}, {"b": 2', "t.json: the JSON array is never closed (after item 2)"),
        ("[1, 2", "t.json: the JSON array is never closed (after item 2)"),
        ("[1, 2] [3]", "t.json: unexpected content after the JSON array's closing ']' at line 1"),
    ],
)
def test_a_file_that_is_not_one_array_raises_source_error(text, message):
    with pytest.raises(SourceError) as caught:
        list(iter_json_array(io.StringIO(text), "t.json", chunk_size=4))
    assert str(caught.value).startswith(message)


def test_unclosed_string_stops_instead_of_loading_the_whole_file(monkeypatch):
    import authform.sources.json_array as module

    monkeypatch.setattr(module, "MAX_ITEM_CHARS", 1000)
    text = '[{"a": "never closed, ' + "x" * 5000 + "]"
    with pytest.raises(SourceError, match="item 1 .* runs past 1000 characters"):
        list(iter_json_array(io.StringIO(text), "t.json", chunk_size=100))
