"""Fault hooks: ``/_emulate/hooks`` makes matching requests fail, slow down, lose their
answer or drop the connection, so clients are tested against a misbehaving API."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from .store import new_id


@dataclass
class FaultHook:
    """Fail requests whose method and path match: answer ``status``, add ``latency_ms``,
    or close the connection without answering. ``times`` matches, then it expires.

    ``body`` replaces the provider's error body with any JSON value; ``raw_body`` answers
    text that is not JSON at all (a gateway's HTML page), as ``content_type``. With either,
    ``status`` may also be a success (2xx): an answer that breaks the API's contract (a
    create answered without an ``id``), which a client must survive.

    ``lose_answer`` carries the request out and then closes the connection without
    answering: the write landed but the client cannot know (what a killed proxy or a
    network cut after the server committed looks like), so a retry meets its own item.
    """

    id: str
    method: str = "*"
    path: str = ".*"
    status: int | None = None
    latency_ms: int = 0
    drop_connection: bool = False
    lose_answer: bool = False
    times: int | None = None
    body: Any = None
    raw_body: str | None = None
    content_type: str = "text/html; charset=utf-8"
    _pattern: re.Pattern[str] = field(default=re.compile(".*"), repr=False)

    @classmethod
    def from_dict(cls, data: Any) -> FaultHook:
        if not isinstance(data, Mapping):
            raise ValueError("a hook must be a JSON object")
        if unknown := set(data) - set(HOOK_FIELDS):
            raise ValueError(f"unknown hook fields: {', '.join(sorted(unknown))}")
        defaults = {item.name: item.default for item in fields(cls)}
        values = {name: data.get(name, defaults[name]) for name in HOOK_FIELDS}
        for name, (valid, problem) in HOOK_CHECKS.items():
            if not valid(values[name]):
                raise ValueError(problem)
        try:
            pattern = re.compile(values["path"])
        except re.error as exc:
            raise ValueError(f"path is not a valid regular expression: {exc}") from None
        lowest = 200 if values["body"] is not None or values["raw_body"] is not None else 400
        if values["status"] is not None and not _whole(values["status"], lowest, 599):
            raise ValueError(
                f"status must be an integer between {lowest} and 599 "
                "(a success status needs body or raw_body)"
            )
        if values["latency_ms"] > 120_000:
            raise ValueError("latency_ms must be at most 120000")
        if values["raw_body"] is not None and values["body"] is not None:
            raise ValueError("raw_body must be a string, and excludes body")
        if not any(
            values[name] for name in ("status", "latency_ms", "drop_connection", "lose_answer")
        ):
            raise ValueError("a hook needs status, latency_ms, drop_connection or lose_answer")
        values["method"] = values["method"].upper()
        return cls(id=new_id("hook_"), **values, _pattern=pattern)

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and self._pattern.fullmatch(path) is not None

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in ("id", *HOOK_FIELDS)}


def _whole(value: Any, low: int, high: int | None = None) -> bool:
    """An integer (not a boolean) of at least ``low`` and at most ``high``."""
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    return value >= low and (high is None or value <= high)


# What a hook may say: the fields a client sets, with ``FaultHook``'s defaults.
HOOK_FIELDS = tuple(item.name for item in fields(FaultHook) if item.name not in ("id", "_pattern"))
# The checks on one field at a time, in this order: field -> (is it valid?, the message if not).
# ``status`` is checked after them: its range depends on the body.
HOOK_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "method": (lambda v: isinstance(v, str) and v != "", "method must be an HTTP method or '*'"),
    "path": (lambda v: isinstance(v, str), "path must be a regular expression string"),
    "latency_ms": (lambda v: _whole(v, 0), "latency_ms must be a non-negative integer"),
    "drop_connection": (lambda v: isinstance(v, bool), "drop_connection must be a boolean"),
    "lose_answer": (lambda v: isinstance(v, bool), "lose_answer must be a boolean"),
    "times": (lambda v: v is None or _whole(v, 1), "times must be a positive integer"),
    "raw_body": (
        lambda v: v is None or isinstance(v, str),
        "raw_body must be a string, and excludes body",
    ),
    "content_type": (
        lambda v: isinstance(v, str) and v != "",
        "content_type must be a media type",
    ),
}


class FaultHooks:
    def __init__(self) -> None:
        self._hooks: list[FaultHook] = []
        self._lock = threading.Lock()

    def add(self, hook: FaultHook) -> None:
        with self._lock:
            self._hooks.append(hook)

    def remove(self, hook_id: str) -> bool:
        with self._lock:
            before = len(self._hooks)
            self._hooks = [h for h in self._hooks if h.id != hook_id]
            return len(self._hooks) != before

    def clear(self) -> None:
        with self._lock:
            self._hooks.clear()

    def list(self) -> list[FaultHook]:
        with self._lock:
            return list(self._hooks)

    def take(self, method: str, path: str) -> FaultHook | None:
        """The first hook matching this request, counting the match against ``times``."""
        with self._lock:
            for hook in self._hooks:
                if hook.matches(method, path):
                    if hook.times is not None:
                        hook.times -= 1
                        if hook.times <= 0:
                            self._hooks.remove(hook)
                    return hook
            return None
