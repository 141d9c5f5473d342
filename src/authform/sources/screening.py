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
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

from authform.sources.clerk_ids import IdKind, clerk_id_problem, is_clerk_id
from authform.sources.records import (
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


def screened(records: Iterable[R | MalformedRecord]) -> Iterator[R | MalformedRecord]:
    """``records`` with each hostile one replaced by a ``MalformedRecord`` (streaming)."""
    for record in records:
        yield screen_record(record)


def screen_record(record: R | MalformedRecord) -> R | MalformedRecord:
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
        if field == "id" and kind == "membership" and not value:
            continue  # flat membership rows carry no membership id; nothing is keyed on it
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
    """The fast path for the clean record (nearly all of them, a million per import): the
    record's single-line texts joined and searched once, with no labels built. Mappings
    (metadata) take the labelled walk, which is exact."""
    parts: list[str] = []
    for name in _screened_fields(type(record)):
        value = getattr(record, name)
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, tuple):
            for item in value:
                parts += _item_texts(item)
        elif isinstance(value, PasswordDigest):
            parts += (value.hasher, value.value)
        elif isinstance(value, Mapping):
            texts = _walk(name, value, name in _PROSE_FIELDS)
            if any(text_problem(text, multiline=prose) for _, text, prose in texts):
                return False
    return unsafe_character(" ".join(parts)) is None


def _item_texts(item: Any) -> list[str]:
    """The texts of one list item: itself, or every text field of a small record (an email,
    an OAuth link): never its ``repr``, which escapes the very characters looked for."""
    if isinstance(item, str):
        return [item]
    if dataclasses.is_dataclass(item):
        return [
            v
            for v in (getattr(item, f.name) for f in dataclasses.fields(item))
            if isinstance(v, str)
        ]
    return [str(item)]


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
