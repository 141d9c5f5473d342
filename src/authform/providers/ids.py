"""The state a provider carries from ``read()`` to its writes: natural key → provider id.

Some APIs name related items by their own ids only (a WorkOS membership is created with the
user's and the organization's WorkOS ids), so a provider remembers, per kind, the id of each
item it read or created, and its writes look them up. That is part of the provider contract:

- the provider keeps these in ``self.ids``, a ``ProviderIds``, and nowhere else;
- ``remember_ids_in(store)`` hands it the store to use: the commands give it one backed by
  the on-disk index (``IndexedIds``), so a million users' ids are not a million-entry dict;
  a provider used on its own (tests, embedding) starts with ``MemoryIds``;
- ``id_mapping()`` (the import's mapping file) reads them back, in key order, as a stream.

A read that meets every item of a kind may leave its ids to be remembered when first asked
for (``DeferredIds``): a plan reads them all and then writes nothing.

The engine never reads these: live resources carry their own ``provider_id``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Protocol

from authform.resources import Kind, is_unkeyed

_IN_CHUNK = 500  # keys per ``IN (...)`` lookup: far below SQLite's limit of parameters


class ProviderIds(Protocol):
    """Per kind, natural key → provider id, and back."""

    def __getitem__(self, kind: Kind) -> MutableMapping[str, str]: ...

    def key_for(self, kind: Kind, provider_id: str) -> str | None:
        """The key remembered for ``provider_id`` (None when unknown)."""
        ...

    def keyed(self, kind: Kind) -> Mapping[str, str]:
        """The ids of items that have authform's key, iterated in key order."""
        ...

    def remember(self, kind: Kind, pairs: Iterable[tuple[str, str]]) -> None:
        """Many (key, provider id) pairs at once, as ``self[kind][key] = id`` each (a read
        remembers a page of items in one statement rather than one per item)."""
        ...

    def known(self, kind: Kind, keys: Sequence[str]) -> dict[str, str]:
        """The ids of those of ``keys`` remembered (a batch of writes looks up the items
        it names at once)."""
        ...

    def keys_for(self, kind: Kind, provider_ids: Sequence[str]) -> dict[str, str]:
        """Provider id → key, for those of ``provider_ids`` remembered (a page of read
        memberships names its users at once)."""
        ...


class MemoryIds:
    """``ProviderIds`` in dicts: for a provider used on its own, or a small tenant."""

    def __init__(self) -> None:
        self._ids: dict[Kind, dict[str, str]] = {}

    def __getitem__(self, kind: Kind) -> MutableMapping[str, str]:
        return self._ids.setdefault(kind, {})

    def key_for(self, kind: Kind, provider_id: str) -> str | None:
        for key, value in self[kind].items():
            if value == provider_id:
                return key
        return None

    def keyed(self, kind: Kind) -> Mapping[str, str]:
        return {k: v for k, v in sorted(self[kind].items()) if not is_unkeyed(k)}

    def remember(self, kind: Kind, pairs: Iterable[tuple[str, str]]) -> None:
        self[kind].update(pairs)

    def known(self, kind: Kind, keys: Sequence[str]) -> dict[str, str]:
        ids = self[kind]
        return {key: ids[key] for key in keys if key in ids}

    def keys_for(self, kind: Kind, provider_ids: Sequence[str]) -> dict[str, str]:
        wanted = set(provider_ids)
        found: dict[str, str] = {}
        for key, provider_id in self[kind].items():
            if provider_id in wanted:
                found.setdefault(provider_id, key)
        return found


class IndexedIds:
    """``ProviderIds`` in the ``ids`` table of the command's on-disk index."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __getitem__(self, kind: Kind) -> MutableMapping[str, str]:
        return _KindIds(self.db, kind)

    def key_for(self, kind: Kind, provider_id: str) -> str | None:
        row = self.db.execute(
            "SELECT key FROM ids WHERE kind = ? AND provider_id = ? LIMIT 1",
            (kind.order, provider_id),
        ).fetchone()
        return None if row is None else str(row[0])

    def keyed(self, kind: Kind) -> Mapping[str, str]:
        return _KindIds(self.db, kind, keyed_only=True)

    def remember(self, kind: Kind, pairs: Iterable[tuple[str, str]]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO ids (kind, key, provider_id) VALUES (?, ?, ?)",
            ((kind.order, key, provider_id) for key, provider_id in pairs),
        )

    def known(self, kind: Kind, keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(keys), _IN_CHUNK):
            chunk = keys[start : start + _IN_CHUNK]
            found.update(
                self.db.execute(
                    "SELECT key, provider_id FROM ids WHERE kind = ? "
                    f"AND key IN ({', '.join('?' * len(chunk))})",
                    (kind.order, *chunk),
                )
            )
        return found

    def keys_for(self, kind: Kind, provider_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        distinct = list(dict.fromkeys(provider_ids))
        for start in range(0, len(distinct), _IN_CHUNK):
            chunk = distinct[start : start + _IN_CHUNK]
            # No ORDER BY: it made SQLite walk the table in key order instead of using
            # ``ids_by_provider_id`` (10 ms a page). The smallest key per id is kept, the
            # one ``key_for`` finds first in that index.
            for provider_id, key in self.db.execute(
                "SELECT provider_id, key FROM ids WHERE kind = ? "
                f"AND provider_id IN ({', '.join('?' * len(chunk))})",
                (kind.order, *chunk),
            ):
                if provider_id not in found or key < found[provider_id]:
                    found[provider_id] = key
        return found


class DeferredIds:
    """A ``ProviderIds`` (``store``) whose ids of some kinds are remembered when first asked
    for rather than as a read meets them: a plan of 100,000 KavachOS users read them all
    and wrote nothing, yet spent 0.25 s of its 2.8 s read (CPU) writing each one's id to the
    store. ``defer(kind, pairs)`` hands over what gives the (key, id) pairs of the items read
    (a second read of the database, say); any use of that kind's ids (a write, the import's
    mapping) first remembers them all, once, and ``remember_deferred`` does it ahead of time
    (from a worker thread: a lock keeps two threads from both doing it)."""

    def __init__(self, store: ProviderIds) -> None:
        self.store = store
        self._deferred: dict[Kind, Callable[[], Iterable[tuple[str, str]]]] = {}
        self._lock = threading.Lock()

    def defer(self, kind: Kind, pairs: Callable[[], Iterable[tuple[str, str]]]) -> None:
        """The ids of ``kind`` are ``pairs()``'s, remembered on first use (instead of
        those an earlier ``defer`` of the kind named, which a later read replaces)."""
        with self._lock:
            self._deferred[kind] = pairs

    @property
    def deferred(self) -> bool:
        """Whether some kind's ids are still to be remembered."""
        return bool(self._deferred)

    def remember_deferred(self) -> None:
        """Remember the ids of every kind deferred, now."""
        for kind in list(self._deferred):
            self._ready(kind)

    def _ready(self, kind: Kind) -> None:
        if kind not in self._deferred:  # nearly every call: no lock taken
            return
        with self._lock:  # held while remembering: another thread waits for all of them
            pairs = self._deferred.get(kind)
            if pairs is None:  # remembered by the thread this one waited for
                return
            # A page at a time, as a read remembers: never every pair held at once.
            pending = iter(pairs())
            while page := list(islice(pending, _IN_CHUNK)):
                self.store.remember(kind, page)
            # Only now: until then a use of the kind from another thread waits above, and
            # a failed read of them is tried again at the next use.
            del self._deferred[kind]

    def __getitem__(self, kind: Kind) -> MutableMapping[str, str]:
        self._ready(kind)
        return self.store[kind]

    def key_for(self, kind: Kind, provider_id: str) -> str | None:
        self._ready(kind)
        return self.store.key_for(kind, provider_id)

    def keyed(self, kind: Kind) -> Mapping[str, str]:
        self._ready(kind)
        return self.store.keyed(kind)

    def remember(self, kind: Kind, pairs: Iterable[tuple[str, str]]) -> None:
        self._ready(kind)  # first: what a write learnt is newer than what the read saw
        self.store.remember(kind, pairs)

    def known(self, kind: Kind, keys: Sequence[str]) -> dict[str, str]:
        self._ready(kind)
        return self.store.known(kind, keys)

    def keys_for(self, kind: Kind, provider_ids: Sequence[str]) -> dict[str, str]:
        self._ready(kind)
        return self.store.keys_for(kind, provider_ids)


@contextmanager
def remembering(ids: ProviderIds, kind: Kind) -> Iterator[Callable[[str, str], None]]:
    """``remember(key, provider_id)`` for a read that meets its items one at a time: the
    pairs are written ``_IN_CHUNK`` at a time through ``ids.remember`` (one statement each,
    not one per item: a read of a million users), and the rest when the block ends, however
    it ends, so the reads after it find every id."""
    pending: list[tuple[str, str]] = []

    def remember(key: str, provider_id: str) -> None:
        pending.append((key, provider_id))
        if len(pending) >= _IN_CHUNK:
            ids.remember(kind, pending)
            pending.clear()

    try:
        yield remember
    finally:
        ids.remember(kind, pending)


class _KindIds(MutableMapping[str, str]):
    """One kind's ids, read and written through SQLite, iterated in key order."""

    def __init__(self, db: sqlite3.Connection, kind: Kind, *, keyed_only: bool = False) -> None:
        self.db = db
        self.kind = kind.order
        self.keyed_only = keyed_only

    def __getitem__(self, key: str) -> str:
        row = self.db.execute(
            "SELECT provider_id FROM ids WHERE kind = ? AND key = ?", (self.kind, key)
        ).fetchone()
        if row is None or (self.keyed_only and is_unkeyed(key)):
            raise KeyError(key)
        return str(row[0])

    def __setitem__(self, key: str, provider_id: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO ids (kind, key, provider_id) VALUES (?, ?, ?)",
            (self.kind, key, provider_id),
        )

    def __delitem__(self, key: str) -> None:
        self.db.execute("DELETE FROM ids WHERE kind = ? AND key = ?", (self.kind, key))

    def __iter__(self) -> Iterator[str]:
        for key, _ in self.items():
            yield key

    def items(self) -> Iterator[tuple[str, str]]:  # type: ignore[override]
        rows = self.db.execute(
            "SELECT key, provider_id FROM ids WHERE kind = ? ORDER BY key", (self.kind,)
        )
        for key, provider_id in rows:
            if not (self.keyed_only and is_unkeyed(key)):
                yield key, provider_id

    def __len__(self) -> int:
        return sum(1 for _ in self.items())

    def __contains__(self, key: object) -> bool:
        try:
            self[str(key)]
        except KeyError:
            return False
        return True
