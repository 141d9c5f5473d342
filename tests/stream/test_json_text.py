"""The JSON text written by hand for speed is exactly the text ``json`` writes: the prebuilt
C encoder's (a saved plan sealed before it was used must still verify: its change lines and
the source's records are fingerprinted as this text), and the streamed documents' items."""

from __future__ import annotations

import json
import math
import random
from decimal import Decimal
from pathlib import Path

import pytest

from authform.engine.plan import Action
from authform.json_text import compact_sorted_encoder, sorted_encoder
from authform.render.json_stream import Streamed, json_chunks


class MaskedText(str):
    def __repr__(self) -> str:
        return "(sensitive)"


VALUES = [
    "plain",
    'zoë 用户 \u2028 \x7f \x01 \n \t " \\ /',
    MaskedText("$2b$04$abc"),
    0,
    -17,
    10**30,
    1.5,
    1e-7,
    math.inf,
    True,
    None,
    [],
    {},
    ["b", "a", None, False, 2.0],
    {"z": 1, "a": {"y": [1, {"d": "ë", "c": None}], "b": ()}, "é": "x", "A": [1, 2]},
    {"path": Path("/tmp/x"), "amount": Decimal("1.10")},  # unknown types: their str
    {"action": "create", "fields": [{"path": "email", "old": None, "new": "a@b.c"}]},
]


@pytest.mark.parametrize("ensure_ascii", [True, False])
@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_the_text_is_what_the_json_encoder_writes(value, ensure_ascii):
    reference = json.JSONEncoder(
        sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=ensure_ascii
    )
    assert compact_sorted_encoder(ensure_ascii=ensure_ascii)(value) == reference.encode(value)


@pytest.mark.parametrize("value", VALUES[:-2] + VALUES[-1:], ids=range(len(VALUES) - 1))
def test_the_digest_form_is_what_json_dumps_with_sorted_keys_writes(value):
    """The plan digest's entries: ``json.dumps(entry, sort_keys=True)``'s spaced separators
    and ASCII escapes, and a value of an unknown type refused as ``json.dumps`` refuses it."""
    encode = sorted_encoder(separators=(", ", ": "), ensure_ascii=True, default=None)
    assert encode(value) == json.dumps(value, sort_keys=True)


def test_the_digest_form_refuses_what_json_dumps_refuses():
    encode = sorted_encoder(separators=(", ", ": "), ensure_ascii=True, default=None)
    for value in ({"path": Path("/tmp/x")}, [Decimal("1.10")]):
        with pytest.raises(TypeError, match="is not JSON serializable"):
            encode(value)
        with pytest.raises(TypeError, match="is not JSON serializable"):
            json.dumps(value, sort_keys=True)


def random_value(rng: random.Random, depth: int = 0) -> object:
    """Any JSON-able value, with the types a plan's fields hold and a few they may not."""
    leaves = [
        lambda: rng.choice(["", "a", "zoë", "用户", "\u2028", "\x7f", '"q"\\', "line\nbreak"]),
        lambda: rng.randint(-(10**20), 10**20),
        lambda: rng.choice([0.0, -0.0, 1.5, 1e-7, 1e300, math.inf, -math.inf, math.nan]),
        lambda: rng.choice([True, False, None]),
        lambda: MaskedText("hash"),
        lambda: Action.CREATE,  # a str enum: its value
    ]
    if depth >= 4 or rng.random() < 0.4:
        return rng.choice(leaves)()
    if rng.random() < 0.5:
        items = [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
        return tuple(items) if rng.random() < 0.2 else items
    keys: list[object] = ["path", "old", "new", "é", ""]
    if rng.random() < 0.1:
        keys += [1, 2.5, True, None]  # keys json.dumps turns into text
    return {rng.choice(keys): random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


@pytest.mark.parametrize("seed", range(20))
def test_a_streamed_item_is_the_text_json_dumps_writes(seed):
    """``json_chunks`` writes each streamed item itself (``json.dumps`` with an indent
    encodes in Python); the document is still exactly ``json.dumps``'s text."""
    rng = random.Random(seed)
    items = [random_value(rng) for _ in range(50)]
    document = {"head": random_value(rng), "changes": items, "tail": {"n": 1}}
    streamed = "".join(json_chunks({**document, "changes": Streamed(items)}))
    assert streamed == json.dumps(document, indent=2, ensure_ascii=False)
