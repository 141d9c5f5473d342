"""Clerk metadata reshaped for targets whose metadata values must be strings (WorkOS).

Keys are kept; non-string values are JSON-encoded (compact, keys sorted) so they survive the
trip and diff stably from run to run instead of being dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def flatten_metadata(metadata: Mapping[str, Any]) -> dict[str, str]:
    """One level of str → str: strings as they are, anything else as compact JSON."""
    return {str(key): _as_text(value) for key, value in metadata.items()}


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
