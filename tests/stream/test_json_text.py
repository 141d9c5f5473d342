"""The prebuilt C encoder writes exactly the text ``json.JSONEncoder`` writes with the same
options: a saved plan sealed before it was used must still verify (its change lines and the
source's records are fingerprinted as this text)."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path

import pytest

from authform.json_text import compact_sorted_encoder


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
