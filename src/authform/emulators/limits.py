"""Rate limiting for the emulators: a provider's documented limits as a table of buckets,
and an all-or-nothing limiter over them (a 429 with ``Retry-After`` when a bucket is full)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal, Self


@dataclass(frozen=True)
class Limit:
    """``requests`` per ``per_seconds``; ``sliding`` counts the last window from now, ``fixed``
    resets the count at window boundaries (cheaper, but allows a 2x burst across a boundary)."""

    requests: int
    per_seconds: float
    window: Literal["fixed", "sliding"] = "sliding"

    @classmethod
    def from_dict(cls, data: Any) -> Limit:
        if not isinstance(data, Mapping):
            raise ValueError("a limit must be an object {requests, per_seconds, window?}")
        requests, per_seconds = data.get("requests"), data.get("per_seconds")
        window = data.get("window", "sliding")
        if not isinstance(requests, int) or isinstance(requests, bool) or requests < 1:
            raise ValueError("requests must be a positive integer")
        if not isinstance(per_seconds, int | float) or isinstance(per_seconds, bool):
            raise ValueError("per_seconds must be a positive number")
        if per_seconds <= 0:
            raise ValueError("per_seconds must be a positive number")
        if window not in ("fixed", "sliding"):
            raise ValueError("window must be 'fixed' or 'sliding'")
        return cls(requests=requests, per_seconds=float(per_seconds), window=window)


@dataclass(frozen=True)
class LimitTable:
    """Base for a provider's rate-limit configuration: every other field is a bucket name
    holding a ``Limit`` (or ``None`` to switch that bucket off)."""

    enabled: bool = True

    @classmethod
    def disabled(cls) -> Self:
        return cls(enabled=False)

    def limit_for(self, bucket: str) -> Limit | None:
        value = getattr(self, bucket, None)
        return value if isinstance(value, Limit) and self.enabled else None

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            result[item.name] = asdict(value) if isinstance(value, Limit) else value
        return result

    def updated(self, changes: Mapping[str, Any]) -> Self:
        """A copy with ``changes`` applied (partial update); raises ValueError on bad input."""
        known = [item.name for item in fields(self)]
        parsed: dict[str, Any] = {}
        for key, value in changes.items():
            if key not in known:
                raise ValueError(f"unknown rate-limit setting {key!r}; known: {', '.join(known)}")
            if key == "enabled":
                if not isinstance(value, bool):
                    raise ValueError("enabled must be a boolean")
                parsed[key] = value
            else:
                try:
                    parsed[key] = None if value is None else Limit.from_dict(value)
                except ValueError as exc:
                    raise ValueError(f"{key}: {exc}") from None
        return replace(self, **parsed)


class _Window:
    """Counts for one (bucket, key): a timestamp log (sliding) or a counter (fixed)."""

    __slots__ = ("hits", "window_start", "count")

    def __init__(self) -> None:
        self.hits: deque[float] = deque()
        self.window_start = 0.0
        self.count = 0

    def wait_needed(self, limit: Limit, now: float) -> float:
        """Seconds until one more request fits; 0 when it fits now."""
        if limit.window == "sliding":
            horizon = now - limit.per_seconds
            while self.hits and self.hits[0] <= horizon:
                self.hits.popleft()
            if len(self.hits) < limit.requests:
                return 0.0
            return self.hits[len(self.hits) - limit.requests] + limit.per_seconds - now
        start = math.floor(now / limit.per_seconds) * limit.per_seconds
        if start != self.window_start:
            self.window_start, self.count = start, 0
        if self.count < limit.requests:
            return 0.0
        return start + limit.per_seconds - now

    def record(self, limit: Limit, now: float) -> None:
        if limit.window == "sliding":
            self.hits.append(now)
        else:
            self.count += 1


class RateLimiter:
    """All-or-nothing admission across several buckets; rejected requests are not counted."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def try_acquire(self, claims: Sequence[tuple[str, Limit]]) -> tuple[str, float] | None:
        """Admit a request drawing on every ``(key, limit)``; else ``(key, seconds to wait)``."""
        with self._lock:
            now = self._clock()
            worst: tuple[str, float] | None = None
            for key, limit in claims:
                window = self._windows.setdefault(key, _Window())
                wait = window.wait_needed(limit, now)
                if wait > 0 and (worst is None or wait > worst[1]):
                    worst = (key, wait)
            if worst is not None:
                return worst
            for key, limit in claims:
                self._windows[key].record(limit, now)
            if len(self._windows) > 50_000:  # per-email buckets: forget idle ones
                self._windows = {k: w for k, w in self._windows.items() if w.hits or w.count}
            return None

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
