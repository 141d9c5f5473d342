"""A plan's change list spooled to a file: written once in order, read as often as needed.

A million-user import plans about three million changes; as Python objects they are
gigabytes, so the planner appends each change to a file as it is decided and keeps only what
the plan's summary needs in memory (counts per action and per kind, the digest computed as
the changes stream by). Reading it back yields fresh ``Change`` objects each time, so a
renderer or apply holds only the change it is looking at.

Records are pickled in blocks of ``SPOOL_BLOCK`` (every field of ``Change`` and of its
resources travels without being named here), one after another; the spool keeps where each
block starts, so ``read_range`` reads a few changes from the middle without unpickling
what comes before them (the text plan lists the first 50 changes of each group and counts
the rest: it reads a block or two per group, not the whole plan).
The file lives in a private temporary folder, removed when the spool is garbage-collected or
at exit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from operator import attrgetter
from typing import Any, overload

from authform.engine.tempspace import private_folder
from authform.json_text import sorted_encoder

# How many items a spool pickles at once (a block of changes is a few hundred kilobytes).
SPOOL_BLOCK = 512
# How many runs of one kind and action a plan's spool keeps for its summary (``runs``).
MAX_RUNS = 10_000


class StreamedSequence(Sequence[Any]):
    """A sequence read back in order from disk (or from such sequences), never held whole:
    ``seq[i]`` reads up to item ``i`` (a scan, not a seek: offsets would cost memory for
    what only tests do), and it equals any sequence with equal items in the same order."""

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            return list(islice(self, start, stop, step)) if step > 0 else list(self)[index]
        if index < 0:
            index += len(self)
        if index >= 0:
            for item in islice(self, index, index + 1):
                return item
        raise IndexError(f"{type(self).__name__} index out of range")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class PickleSpool(StreamedSequence):
    """Objects appended to a private file, then read back in order as often as needed."""

    def __init__(
        self,
        prefix: str = "authform-spool-",
        encode: Callable[[Any], Any] | None = None,
        decode: Callable[[Any], Any] | None = None,
    ) -> None:
        # ``encode``/``decode`` turn an item into what is pickled and back (plain tuples
        # pickle several times faster than slotted dataclasses).
        self._encode = encode
        self._decode = decode
        self.folder, self._remove = private_folder(self, prefix)
        self.path = self.folder / "items.pickle"
        self._writer: Any = self.path.open("wb")
        self._count = 0
        # Where each block starts in the file (one offset per ``SPOOL_BLOCK`` items: a few
        # thousand integers for a million-change plan).
        self._offsets: list[int] = []
        self._written = 0
        # Items are pickled a block at a time: one call per block rather than per item, and
        # the values items repeat (kinds, actions, field names) stored once per block.
        self._block: list[Any] = []

    def append(self, item: Any) -> None:
        self._block.append(item if self._encode is None else self._encode(item))
        self._count += 1
        if len(self._block) >= SPOOL_BLOCK:
            self._write_block()

    def extend_stored(self, stored: list[Any]) -> None:
        """Append items already in their stored form (what ``encode`` gives, or what
        ``decode`` also reads), without encoding them one by one."""
        self._count += len(stored)
        block = self._block
        while stored:
            room = SPOOL_BLOCK - len(block)
            block += stored[:room]
            stored = stored[room:]
            if len(block) >= SPOOL_BLOCK:
                self._write_block()
                block = self._block

    def _write_block(self) -> None:
        if not self._block:
            return
        if self._writer is None:  # read once already: reopen it to append
            self._writer = self.path.open("ab")
        data = pickle.dumps(self._block, protocol=pickle.HIGHEST_PROTOCOL)
        self._offsets.append(self._written)
        self._writer.write(data)
        self._written += len(data)
        self._block = []

    def extend(self, items: Iterable[Any]) -> None:
        for item in items:
            self.append(item)

    def __iadd__(self, items: Iterable[Any]) -> PickleSpool:
        self.extend(items)
        return self

    def seal(self) -> PickleSpool:
        self._write_block()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        return self

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __iter__(self) -> Iterator[Any]:
        decode = self._decode
        if decode is None:
            return self.states()
        return map(decode, self.states())

    def states(self) -> Iterator[Any]:
        """The items as stored (``encode``'s output), in order, not decoded."""
        self.seal()
        remaining = self._count
        with self.path.open("rb") as reader:
            while remaining > 0:
                block = pickle.load(reader)
                yield from block[:remaining]
                remaining -= len(block)

    def read_range(self, start: int, stop: int) -> Iterator[Any]:
        """Items ``start`` to ``stop`` (excluded), read from the block holding ``start``
        on: only the blocks that hold them are unpickled, and only they are decoded."""
        self.seal()
        stop = min(stop, self._count)
        if start >= stop:
            return
        decode = self._decode
        block_number, skip = divmod(start, SPOOL_BLOCK)
        wanted = stop - start
        with self.path.open("rb") as reader:
            reader.seek(self._offsets[block_number])
            while wanted > 0:
                block = pickle.load(reader)
                for state in block[skip : skip + wanted]:
                    yield state if decode is None else decode(state)
                wanted -= len(block) - skip
                skip = 0

    def close(self) -> None:
        self.seal()
        self._remove()


def change_spool(prefix: str = "authform-changes-") -> PickleSpool:
    """A spool of ``Change`` objects, written through ``engine.codec``."""
    from authform.engine.codec import change_from, change_state

    return PickleSpool(prefix, change_state, change_from)


def resource_spool(prefix: str = "authform-resources-") -> PickleSpool:
    """A spool of ``Resource`` objects, written through ``engine.codec``."""
    from authform.engine.codec import resource_from, resource_state

    return PickleSpool(prefix, resource_state, resource_from)


def dataclass_spool(cls: Any, prefix: str) -> PickleSpool:
    """A spool of instances of a flat dataclass ``cls``, written as tuples of its fields."""
    names = tuple(f.name for f in dataclasses.fields(cls))
    # Read in C: a verify of a million users spools a million checks.
    fields_of = attrgetter(*names) if len(names) > 1 else lambda item: (getattr(item, names[0]),)
    return PickleSpool(prefix, fields_of, lambda s: cls(*s))


def outcome_spool(prefix: str = "authform-apply-") -> PickleSpool:
    """A spool of (``Change``, error message) pairs."""
    from authform.engine.codec import change_from, change_state

    return PickleSpool(
        prefix,
        lambda pair: (change_state(pair[0]), pair[1]),
        lambda state: (change_from(state[0]), state[1]),
    )


class ChangeSpool(PickleSpool):
    """A plan's changes (``Change``), with the counts summaries and the safety thresholds
    need, kept as the changes are written so nothing reads the file again for them.

    A change is stored as its state (``codec.change_state``), or, for a plain create
    appended in a ``CreateBlock``, as its desired item's stored bytes alone: the state is
    built from them when the change is read."""

    def __init__(self) -> None:
        from authform.engine.codec import change_from, change_state, load_state
        from authform.engine.codec import plain_create_state as create_state
        from authform.engine.plan import CreateBlock

        def state_of(stored: Any) -> Any:
            return stored if type(stored) is tuple else create_state(load_state(stored))

        self._state_of = state_of
        self._create_block = CreateBlock  # engine.plan imports this module: found here
        super().__init__("authform-plan-", change_state, lambda s: change_from(state_of(s)))
        # (action, blocked?) -> count, and (kind, counts_as) -> count.
        self.by_action: Counter[tuple[str, bool]] = Counter()
        self.by_threshold: Counter[tuple[Any, str]] = Counter()
        # Addresses some change waits for (``Change.after``): apply keeps only these per phase.
        self.waited_for: set[str] = set()
        # Consecutive changes of one kind and action, as [kind, action, first, count]: what a
        # summary lists the first few of and counts (``runs``). A plan whose actions
        # alternate change by change has as many runs as changes; past ``MAX_RUNS`` they are
        # no longer kept, and a summary reads the whole spool instead.
        self._runs: list[list[Any]] | None = []
        # Whether a change that is not a manual step carries steps for a person: a summary
        # that lists every manual step must then read every change, not only manual runs.
        self.instructions_outside_manual = False

    def append(self, item: Any) -> None:
        kind, action = item.kind, item.action
        if type(item) is self._create_block:
            self._add_to_runs(kind, action, len(item.items))
            self.extend_stored(item.items)
            self.by_action[(action._value_, False)] += len(item.items)
            return
        self._add_to_runs(kind, action, 1)
        super().append(item)
        if item.instructions and action._value_ != "manual":
            self.instructions_outside_manual = True
        if item.after:
            self.waited_for.update(item.after)
        # ``_value_``: the enum's ``value`` property costs more than the rest of this line.
        self.by_action[(action._value_, item.blocked is not None)] += 1
        label = item.counts_as
        if label is not None:
            self.by_threshold[(kind, label)] += 1

    def _add_to_runs(self, kind: Any, action: Any, count: int) -> None:
        runs = self._runs
        if runs is None:
            return
        if runs and runs[-1][0] is kind and runs[-1][1] is action:
            runs[-1][3] += count
        elif len(runs) < MAX_RUNS:
            runs.append([kind, action, self._count, count])
        else:
            self._runs = None

    def change_states(self) -> Iterator[Any]:
        """The changes' states (``codec.change_state``), not built (``codec.change_states``)."""
        return map(self._state_of, self.states())

    @property
    def runs(self) -> list[tuple[Any, Any, int, int]] | None:
        """(kind, action, first, count) of each run of consecutive changes of one kind and
        action, in order; None when there were too many to keep (see ``MAX_RUNS``)."""
        if self._runs is None:
            return None
        return [(kind, action, first, count) for kind, action, first, count in self._runs]


def streamed_digest(changes: Iterable[Any]) -> str:
    """The digest of any change sequence, equal to the one a spool computes as it is written:
    sha256 of the JSON list of each change's entry (``digest_text``), written one entry at a
    time."""
    return digest_of_texts(map(digest_text, changes))


def digest_of_texts(texts: Iterable[str]) -> str:
    """``streamed_digest`` of the changes whose entries' JSON texts (``digest_text_of``)
    are ``texts``, in order."""
    digest = hashlib.sha256(b"[")
    update = digest.update
    first = True
    for text in texts:
        if not first:
            update(b", ")
        first = False
        update(text.encode())
    update(b"]")
    return digest.hexdigest()


def digest_text(change: Any) -> str:
    """The JSON text of what ``change`` contributes to the plan digest (``Plan.digest``)."""
    return digest_text_of(
        change.action.value,
        change.address,
        [(f.path, f.old, f.new) for f in change.fields],
        change.blocked,
    )


def digest_text_of(
    action: str, address: str, fields: Iterable[tuple[str, Any, Any]], blocked: str | None
) -> str:
    """A change's digest entry from its parts (``fields``: (path, old, new) each): the text
    of ``json.dumps({"action", "address", "fields": [[path, old, new], ...], "blocked"},
    sort_keys=True)`` (non-scalar values made stable first), spelt out around the encoded
    parts rather than built as a dict and encoded, since a journal digests every change of
    an import's plan. The keys are written in their sorted order with the encoder's
    separators, so the text is byte for byte that of the dict (tests/stream/
    test_streamed_plan.py holds it to the formula)."""
    scalar = _SCALARS
    listed = [
        (
            path,
            old if type(old) in scalar else _stable(old),
            new if type(new) in scalar else _stable(new),
        )
        for path, old, new in fields
    ]
    return (
        f'{{"action": {_ascii_text(action)}, "address": {_ascii_text(address)}, '
        f'"blocked": {_digest_json(blocked)}, "fields": {_digest_json(listed)}}}'
    )


# ``json.dumps(entry, sort_keys=True)``, its C encoder built once rather than per call (most
# of a digest's cost: a journal digests every change of an import's plan).
_digest_json = sorted_encoder(separators=(", ", ": "), ensure_ascii=True, default=None)


def created_digest_text(address: str, spec: dict[str, Any]) -> str:
    """``digest_text_of`` the plain create of ``spec`` at ``address``: its fields are
    ``field_diff.created_field_states`` of the spec, listed here as they are encoded."""
    scalar, stable = _SCALARS, _stable
    fields = [
        (name, None, value if type(value) in scalar else stable(value))
        for name, value in sorted(spec.items())
        if value is not None
    ]
    return (
        f'{{"action": "create", "address": {_ascii_text(address)}, "blocked": null, '
        f'"fields": {_digest_json(fields)}}}'
    )


_ascii_text = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


_STABLE_JSON = json.JSONEncoder(sort_keys=True, default=str)
# Values a JSON round trip gives back unchanged (by exact type: a subclass, such as an enum,
# comes back as its base type), so ``_stable`` returns them as they are.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _stable(value: Any) -> Any:
    """``value`` as JSON reads it back (tuples become lists, unknown types strings)."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if (kind is list or kind is tuple) and all(type(item) in _SCALARS for item in value):
        return list(value)  # most often empty (a user with no OAuth links): no round trip
    if kind is dict and all(
        type(name) is str and type(item) in _SCALARS for name, item in value.items()
    ):
        # Plain values under string names (an organization's metadata): what the round trip
        # gives back but for the order of its keys, which every digest encoder sorts.
        return value
    return json.loads(_STABLE_JSON.encode(value))


def count_actions(changes: Sequence[Any] | Iterable[Any]) -> Counter[tuple[str, bool]]:
    counts: Counter[tuple[str, bool]] = Counter()
    for change in changes:
        counts[(change.action.value, change.blocked is not None)] += 1
    return counts


class ChainedSequence(StreamedSequence):
    """Several sequences read one after another, as often as needed (the import's users,
    organizations and memberships as one desired list, without copying them)."""

    def __init__(self, *parts: Sequence[Any]) -> None:
        self.parts = parts

    def __len__(self) -> int:
        return sum(len(part) for part in self.parts)

    def __iter__(self) -> Iterator[Any]:
        for part in self.parts:
            yield from part

    def resource_states(self) -> Iterator[Any]:
        """The parts' resources as their stored states (``codec.resource_states``): for a
        chain of resources only."""
        from authform.engine.codec import resource_states

        for part in self.parts:
            yield from resource_states(part)
