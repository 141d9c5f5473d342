"""JSON text read by orjson where it can, by the standard library where orjson refuses.

orjson reads large texts (an export's blocks, a page of canonical specs) two to three times
faster than ``json``. What it refuses and ``json`` reads (NaN, Infinity, 1e400, a lone
surrogate escape: ``canonical_json`` may write the first two) is read by ``json``, so every
text ``json`` reads still reads. One value differs: an integer beyond 64 bits, which orjson
reads as a float (callers that read numbers say so).
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_DECODER = json.JSONDecoder()


def loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except ValueError:  # orjson.JSONDecodeError, also for text that is not UTF-8
        return _DECODER.decode(text)
