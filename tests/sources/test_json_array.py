import io
import json

import pytest

from authform.sources.errors import SourceError
from authform.sources.json_array import ItemBlock, iter_json_array, iter_json_array_blocks

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


def _flattened(text, block_chars):
    """Every item of ``iter_json_array_blocks`` as (number, line, value, error), blocks
    taken apart both by their values and by their exact re-reading."""
    items, blocks = [], 0
    for entry in iter_json_array_blocks(io.StringIO(text), "t.json", block_chars=block_chars):
        if isinstance(entry, ItemBlock):
            blocks += 1
            again = list(entry.items("t.json"))
            assert [i.value for i in again] == entry.values
            assert [i.number for i in again] == list(
                range(entry.first, entry.first + len(entry.values))
            )
            items += [(i.number, i.line, i.value, i.error) for i in again]
        else:
            items.append((entry.number, entry.line, entry.value, entry.error))
    return items, blocks


OBJECTS = [item for item in TRICKY if isinstance(item, dict) and item] * 8 + [
    {"object": "x", "nested": [{"object": "y"}, {"object": "z"}], "s": '},{"object": 1'},
    {"object": "x", "s": "line\nbreak ] , {"},
]


@pytest.mark.parametrize("indent", [None, 2])
@pytest.mark.parametrize("block_chars", [1, 16, 64, 200, 1000, 1 << 20])
def test_blocks_hold_exactly_the_items_read_one_by_one(indent, block_chars):
    text = json.dumps(OBJECTS * 3, indent=indent, ensure_ascii=False)
    items, blocks = _flattened(text, block_chars)
    one_by_one = [
        (i.number, i.line, i.value, i.error) for i in iter_json_array(io.StringIO(text), "t.json")
    ]
    assert items == one_by_one
    if 200 <= block_chars < len(text):
        assert blocks > 0


@pytest.mark.parametrize("block_chars", [16, 64, 200, 1000])
def test_broken_items_are_read_one_by_one_among_blocks(block_chars):
    good = ",\n".join(json.dumps({"object": "m", "n": n}) for n in range(30))
    text = "[" + good + ',\n{"object": "m", "n": oops},\n' + good + ",\n 7, {}, " + good + "]"
    items, _ = _flattened(text, block_chars)
    one_by_one = [
        (i.number, i.line, i.value, i.error) for i in iter_json_array(io.StringIO(text), "t.json")
    ]
    assert items == one_by_one
    assert sum(1 for item in items if item[3] is not None) == 1


# Values the two decoders a block may be read by (orjson, json) could read differently:
# integers beyond 64 bits, numbers and escapes orjson refuses, digits inside strings.
EXACT_VALUES = [
    "18446744073709551616",
    "-9223372036854775809",
    "1234567890123456789",
    "9007199254740993",
    "-0",
    "-0.0",
    "0.1",
    "5e-324",
    "1e-400",
    "1e400",
    "NaN",
    "-Infinity",
    '"\\ud800"',
    '"\\ud83d\\ude00 \\u00e9 \\u0000"',
    '"12345678901234567890123"',
    '":12345678901234567890123"',
    "[1, 2.5, 123456789012345678901234567890]",
]


# What a block's values read differently from ``json`` (see ``ItemBlock``).
BEYOND_64_BITS = ("18446744073709551616", "-9223372036854775809", "123456789012345678901234567890")


@pytest.mark.parametrize("value", EXACT_VALUES)
def test_a_block_holds_the_values_json_reads_and_its_items_exactly_them(value):
    items = [f'{{"object": "m", "n": {n}, "v": {value}}}' for n in range(40)]
    plain = [f'{{"object": "m", "n": {n}, "v": "x"}}' for n in range(40)]
    text = "[" + ",\n".join(plain + items + plain) + "]"
    blocks = [
        entry
        for entry in iter_json_array_blocks(io.StringIO(text), "t.json", block_chars=600)
        if isinstance(entry, ItemBlock)
    ]
    assert any(value in block.text for block in blocks)
    for block in blocks:
        # repr tells an int from an equal float, and nan from nan.
        exact = repr(json.loads("[" + block.text + "]"))
        assert repr([item.value for item in block.items("t.json")]) == exact
        if not any(number in block.text for number in BEYOND_64_BITS):
            assert repr(block.values) == exact
        else:
            assert block.values == json.loads("[" + block.text + "]", parse_int=float)
