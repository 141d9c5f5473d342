"""Screen every record a source yields before the importer sees it: ids of Clerk's shape, and
every text held to the same character rule as a manifest (``authform.text_policy``).

A record that fails becomes a ``MalformedRecord`` naming its origin (file and row, or API
item) and the field, so it is skipped and reported like any unreadable row while the rest of
the export imports: one hostile cell must not stop a million-row import, and it must never
reach the provider, a plan or a report. The walk over a record's fields is generic (every
string, list, mapping and digest it holds), so a field added to a record later is screened
without anyone remembering to.

Which value is refused is never quoted (it may be a secret, or text that rewrites a
terminal): the problem names the field and the refused character only.

Speed: a million-user import screens three million records, nearly all clean. So each record
is first cleared in one go (its ids joined and matched by one pattern, its texts joined and
tested by ``str.isprintable``); only a record that is not cleared takes the labelled walk,
which finds the field and the character to name.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from operator import attrgetter
from typing import Any, TypeVar

from authform.sources.clerk_ids import CLERK_ID_SHAPES, IdKind, clerk_id_problem, is_clerk_id
from authform.sources.records import (
    CleanMemberships,
    CleanUsers,
    MalformedRecord,
    PasswordDigest,
    RecordKind,
    SourceEmail,
    SourceMembership,
    SourceOrganization,
    SourceUser,
)
from authform.text_policy import text_problem, unsafe_character

R = TypeVar("R", SourceUser, SourceOrganization, SourceMembership)
# What a stream may hold: records of one type, ``MalformedRecord``s, and (memberships)
# ``CleanMemberships`` blocks, which pass as they are.
S = TypeVar("S")

# Fields written by authform itself, not read from the source.
_OWN_FIELDS = frozenset({"origin"})
# Fields whose value is an id of this Clerk kind, checked for shape instead of characters.
_ID_FIELDS: dict[type, dict[str, IdKind]] = {
    SourceUser: {"id": "user"},
    SourceOrganization: {"id": "organization"},
    SourceMembership: {"user_id": "user", "organization_id": "organization", "id": "membership"},
}
# Every other field of each record, in order: what the character rule screens.
_SCREENED_FIELDS: dict[type, tuple[str, ...]] = {
    record_type: tuple(
        f.name
        for f in dataclasses.fields(record_type)
        if f.name not in _OWN_FIELDS and f.name not in ids
    )
    for record_type, ids in _ID_FIELDS.items()
}
# Fields holding free text (metadata values): tabs and newlines allowed, as in a manifest.
_PROSE_FIELDS = frozenset({"public_metadata"})
# Id fields that may be empty: flat membership rows carry no membership id (nothing is keyed
# on it).
_OPTIONAL_IDS = frozenset({(SourceMembership, "id")})


def _values_of(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A record's values of ``names`` as one tuple, read in C (``attrgetter`` of several
    names; one name returns the bare value, so that case is wrapped)."""
    if not names:
        return lambda record: ()
    if len(names) == 1:
        single = attrgetter(names[0])
        return lambda record: (single(record),)
    return attrgetter(*names)


def _ids_pattern(record_type: type) -> re.Pattern[str]:
    """What a record's ids, joined by NUL, fully match when each has its Clerk shape (NUL is
    in no id's alphabet, so no value can reach into the next one's place)."""
    parts = []
    for name, kind in _ID_FIELDS[record_type].items():
        shape = CLERK_ID_SHAPES[kind].pattern
        parts.append(f"(?:{shape})?" if (record_type, name) in _OPTIONAL_IDS else f"(?:{shape})")
    return re.compile("\x00".join(parts))


def _is_text_type(hint: Any) -> bool:
    """Whether a field declared ``hint`` holds text or nothing (``str``, ``str | None``,
    ``SensitiveText | None``)."""
    members = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    return all(m is type(None) or (isinstance(m, type) and issubclass(m, str)) for m in members)


def _split_by_declared_type(record_type: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The screened fields declared as text, and the others (lists, digests, metadata)."""
    hints = typing.get_type_hints(record_type)
    names = _SCREENED_FIELDS[record_type]
    texts = tuple(name for name in names if _is_text_type(hints[name]))
    return texts, tuple(name for name in names if name not in texts)


# Per record type: its ids, its text fields and its other screened fields, each read as one
# tuple, and the pattern its joined ids match when they are all well-formed.
_IDS_OF = {record_type: _values_of(tuple(ids)) for record_type, ids in _ID_FIELDS.items()}
_CLEAN_IDS = {record_type: _ids_pattern(record_type) for record_type in _ID_FIELDS}
_TEXTS_OF: dict[type, Callable[[Any], tuple[Any, ...]]] = {}
_OTHERS_OF: dict[type, Callable[[Any], tuple[Any, ...]]] = {}
for _record_type in _ID_FIELDS:
    _texts_names, _other_names = _split_by_declared_type(_record_type)
    _TEXTS_OF[_record_type] = _values_of(_texts_names)
    _OTHERS_OF[_record_type] = _values_of(_other_names)


def screened(records: Iterable[S | MalformedRecord]) -> Iterator[S | MalformedRecord]:
    """``records`` with each hostile one replaced by a ``MalformedRecord`` (streaming; a
    ``map``, not a generator: one frame less to resume for each of millions of records).
    A ``CleanMemberships`` block was screened as it was made, and passes."""
    screen: Callable[[S | MalformedRecord], S | MalformedRecord] = screen_record  # type: ignore[assignment]
    return map(screen, records)


def screen_record(record: R | MalformedRecord) -> R | MalformedRecord:
    clears = _CLEARS.get(type(record))
    if clears is not None and clears(record):
        return record
    if isinstance(record, MalformedRecord):
        return _believable_id(record)
    problem = _id_problem(record) or _text_problem(record)
    if problem is None:
        return record
    return MalformedRecord(record_kind(record), record.origin, problem, _trusted_id(record))


def record_kind(record: SourceUser | SourceOrganization | SourceMembership) -> RecordKind:
    if isinstance(record, SourceUser):
        return "user"
    if isinstance(record, SourceOrganization):
        return "organization"
    return "membership"


def _id_problem(record: SourceUser | SourceOrganization | SourceMembership) -> str | None:
    for field, kind in _ID_FIELDS[type(record)].items():
        value = getattr(record, field)
        if not value and (type(record), field) in _OPTIONAL_IDS:
            continue
        problem = clerk_id_problem(kind, value, field)
        if problem is not None:
            return problem
    return None


def _trusted_id(record: SourceUser | SourceOrganization | SourceMembership) -> str | None:
    """The id to report the skip under, when it is one (memberships of a skipped user then
    say why they are skipped); never an id that failed its shape."""
    if isinstance(record, SourceMembership):
        if is_clerk_id("user", record.user_id) and is_clerk_id(
            "organization", record.organization_id
        ):
            return f"{record.user_id}@{record.organization_id}"
        return None
    return record.id if is_clerk_id(record_kind(record), record.id) else None


def _believable_id(record: MalformedRecord) -> MalformedRecord:
    """A reader's ``MalformedRecord`` keeps its id only if the id has Clerk's shape: it is
    written to the skipped report and compared with membership ends."""
    source_id = record.source_id
    if source_id is None:
        return record
    if record.kind == "membership":
        user, _, org = source_id.partition("@")
        ok = is_clerk_id("user", user) and is_clerk_id("organization", org)
    else:
        kind: IdKind = "user" if record.kind == "user" else "organization"
        ok = is_clerk_id(kind, source_id)
    return record if ok else dataclasses.replace(record, source_id=None)


def _text_problem(record: SourceUser | SourceOrganization | SourceMembership) -> str | None:
    if _looks_clean(record):
        return None
    for label, value, is_prose in _texts(record):
        problem = text_problem(value, multiline=is_prose)
        if problem is not None:
            return f"{label} {problem}"
    return None  # pragma: no cover - _looks_clean found a character one of these holds


def _looks_clean(record: SourceUser | SourceOrganization | SourceMembership) -> bool:
    """``_looks_clean_by_type`` of the record's type (see there)."""
    return _LOOKS_CLEAN[type(record)](record)


def _texts_look_clean(texts_of: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any], bool]:
    """``_looks_clean_by_type`` for a record type whose screened fields are all text (a
    membership: its role): the texts joined and tested, and nothing else to walk."""

    def looks_clean(record: Any) -> bool:
        try:
            return "".join(filter(None, texts_of(record))).isprintable()
        except TypeError:
            return False  # a text field holding something else: the walk judges it

    return looks_clean


def _looks_clean_by_type(record: SourceUser | SourceOrganization | SourceMembership) -> bool:
    """The fast path for the clean record (nearly all of them, a million per import): the
    record's texts joined and tested once, with no labels built. False sends the record to
    the labelled walk, which is exact: so anything unusual (a value not of its declared type,
    a tab in metadata) may simply answer False here."""
    record_type = type(record)
    try:
        texts = "".join(filter(None, _TEXTS_OF[record_type](record)))
    except TypeError:
        return False  # a text field holding something else
    parts: list[str] = [texts]
    for value in _OTHERS_OF[record_type](record):
        if isinstance(value, str):
            parts.append(value)
        elif not value or value is True:
            continue  # None, False, an empty list or mapping: no text (True: a flag)
        elif isinstance(value, tuple):
            for item in value:
                parts += _item_texts(item)
        elif isinstance(value, PasswordDigest):
            parts += (value.hasher, value.value)
        elif isinstance(value, Mapping):
            # Held to the single-line rule here: a metadata value with a tab or newline
            # (allowed in prose) is cleared by the exact walk instead.
            parts += (text for _, text, _ in _walk("", value, False))
        else:
            return False  # a value of a type no source yields: the walk judges it
    try:
        return "".join(parts).isprintable()
    except TypeError:
        return False  # a list item's field holding something else than text


def _item_texts(item: Any) -> tuple[str, ...]:
    """The texts of one list item: itself, or every text field of a small record (an email,
    an OAuth link): never its ``repr``, which escapes the very characters looked for."""
    reader = _ITEM_TEXTS.get(type(item))
    if reader is None:
        reader = _ITEM_TEXTS[type(item)] = _item_text_reader(type(item))
    return reader(item)


def _item_text_reader(item_type: type) -> Callable[[Any], tuple[str, ...]]:
    if issubclass(item_type, str):
        return lambda item: (item,)
    if dataclasses.is_dataclass(item_type):
        # Every field but the flags (``SourceEmail.verified``); a value that is not text
        # makes the caller's join fail, and the record then takes the exact walk.
        hints = typing.get_type_hints(item_type)
        return _values_of(
            tuple(f.name for f in dataclasses.fields(item_type) if hints[f.name] is not bool)
        )
    return lambda item: (str(item),)


# Record type -> its fast clearing (``_looks_clean_by_type``, or the lean form of it for a
# type with text fields only).
_LOOKS_CLEAN: dict[type, Callable[[Any], bool]] = {
    record_type: (
        _texts_look_clean(_TEXTS_OF[record_type])
        if not _split_by_declared_type(record_type)[1]
        else _looks_clean_by_type
    )
    for record_type in _ID_FIELDS
}


def _clearing(record_type: type) -> Callable[[Any], bool]:
    """Whether a record of ``record_type`` is cleared at once: its ids, joined by NUL, match
    their Clerk shapes and its texts look clean (``_LOOKS_CLEAN``); False sends it to the
    exact checks, which find the field to name. One function per type, built once: the
    screen runs for every record of an import."""
    ids_of, clean_ids = _IDS_OF[record_type], _CLEAN_IDS[record_type].fullmatch
    looks_clean = _LOOKS_CLEAN[record_type]

    def clears(record: Any) -> bool:
        return clean_ids("\x00".join(ids_of(record))) is not None and looks_clean(record)

    return clears


_CLEARS = {record_type: _clearing(record_type) for record_type in _ID_FIELDS}


def _cleared_when_made(block: CleanMemberships) -> bool:
    """A ``CleanMemberships`` or ``CleanUsers`` block exists only once
    ``memberships_clear`` or ``users_clear`` cleared it."""
    return True


_CLEARS[CleanMemberships] = _CLEARS[CleanUsers] = _cleared_when_made


def _ids_run_pattern(kind: IdKind) -> re.Pattern[str]:
    """What ids of ``kind`` joined by newlines fully match when each has its Clerk shape (a
    newline is in no id's alphabet, so each id is matched whole)."""
    shape = CLERK_ID_SHAPES[kind].pattern
    return re.compile(f"(?:(?:{shape})\n)*(?:{shape})")


_ID_RUNS = {kind: _ids_run_pattern(kind) for kind in CLERK_ID_SHAPES}


def each_fullmatches(run: re.Pattern[str], values: Sequence[str]) -> bool:
    """Whether every one of ``values`` fully matches ``run``'s item, ``run`` being the
    pattern of such items joined by newlines (``(?:ITEM\\n)*ITEM``): one match for all of
    them. A value holding a newline itself is refused (it would pass for two items)."""
    joined = "\n".join(values)
    return joined.count("\n") == len(values) - 1 and run.fullmatch(joined) is not None


def memberships_clear(
    user_ids: Sequence[str],
    organization_ids: Sequence[str],
    ids: Sequence[str],
    roles: Iterable[str],
) -> bool:
    """Whether a block of memberships, given as its columns, is cleared at once: the same
    judgement ``screen_record`` makes of each (every id of its Clerk shape, every text
    printable), in a few C calls for the whole block. The membership ids must all be
    present here (the screen lets a flat row go without one: such a block takes the exact
    path). A value that is not text makes a join fail: the block is then not cleared."""
    try:
        return (
            each_fullmatches(_ID_RUNS["user"], user_ids)
            and each_fullmatches(_ID_RUNS["organization"], organization_ids)
            and each_fullmatches(_ID_RUNS["membership"], ids)
            and "".join(roles).isprintable()
        )
    except TypeError:
        return False


def users_clear(ids: Sequence[str], texts: Iterable[Iterable[str]]) -> bool:
    """Whether a block of users, given as its ids and every text column the screen would
    walk, is cleared at once: every id of its Clerk shape, every text printable."""
    try:
        return each_fullmatches(_ID_RUNS["user"], ids) and printable(
            "".join(["".join(column) for column in texts])
        )
    except TypeError:
        return False


# The printable ASCII characters (``str.isprintable`` of each is True; of the rest of ASCII,
# the controls 0x00-0x1f and DEL, False).
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F))


def printable(text: str) -> bool:
    """``text.isprintable()``, an ASCII text tested by deleting its printable bytes (what is
    left, if anything, is a control): ``str.isprintable`` looks each character up in the
    Unicode tables, six times slower over a block of users' cells (100,000 users: 0.024 ->
    0.004 s)."""
    if text.isascii():
        return not text.encode("ascii").translate(None, _PRINTABLE_ASCII)
    return text.isprintable()


# List item type -> how its texts are read (made once per type).
_ITEM_TEXTS: dict[type, Callable[[Any], tuple[str, ...]]] = {}


def _screened_fields(record_type: type) -> tuple[str, ...]:
    return _SCREENED_FIELDS[record_type]


def _texts(
    record: SourceUser | SourceOrganization | SourceMembership,
) -> Iterator[tuple[str, str, bool]]:
    """Every text the record holds, as (label for messages, value, may hold newlines)."""
    for name in _screened_fields(type(record)):
        yield from _walk(name, getattr(record, name), name in _PROSE_FIELDS)


def _walk(label: str, value: Any, prose: bool) -> Iterator[tuple[str, str, bool]]:
    """Texts inside one field value, iteratively (metadata may nest deeply)."""
    pending: list[tuple[str, Any]] = [(label, value)]
    while pending:
        label, value = pending.pop()
        if isinstance(value, str):
            yield label, value, prose
        elif isinstance(value, SourceEmail):
            yield label, value.address, False
        elif isinstance(value, PasswordDigest):
            yield "password_hasher", value.hasher, False
            yield "password_digest", value.value, False
        elif isinstance(value, Mapping):
            for key, item in value.items():
                key_text = str(key)
                if unsafe_character(key_text) is not None:
                    yield f"a key of {label}", key_text, False
                    continue
                pending.append((f"{label}.{key_text}", item))
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            # A small record in a list (an OAuth link): each of its fields, labelled.
            pending.extend(
                (f"{label}.{f.name}", getattr(value, f.name)) for f in dataclasses.fields(value)
            )
        elif isinstance(value, list | tuple):
            pending.extend((f"{label}[{index}]", item) for index, item in enumerate(value))
