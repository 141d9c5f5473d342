"""A plan's write changes as the journal's change entries, made from their stored states.

An import journals every write of its plan, hundreds of thousands of creates, before its
first write. Building each ``Change`` back from the plan's spool (two resources, a field
object per field) only to take it apart into an entry cost more than the writes themselves,
so the entries are made from the states the spool stores (``engine.codec``), in the one pass
that also computes the plan's digest.

Masking (``record.masked``) passes every string of a spec through the redactor. Whether the
redactor would change any of them is asked once, of the entry's whole canonical line: a
registered secret or a password-hash shape inside a string is inside the line too (the
redactor also knows each secret as JSON escapes it), so a line the redactor leaves alone
needs no string of it redacted. Only an entry whose line it would change takes the walk
that redacts string by string; either way the line is byte for byte the one
``masked`` makes.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

from authform.engine.codec import change_state_fields, change_states, resource_from, state_fields
from authform.engine.spool import (
    ChangeSpool,
    created_digest_text,
    digest_of_texts,
    digest_text_of,
)
from authform.json_text import compact_sorted_encoder
from authform.redaction import SECRETS
from authform.resources import SENSITIVE_FIELDS
from authform.undo.record import (
    FINGERPRINT_DOMAIN,
    SENSITIVE_MARK,
    before_image,
    fingerprint,
    masked,
)

# A value, and a string, as ``seal.canonical`` writes them (before their UTF-8 encoding).
canonical_text = compact_sorted_encoder(ensure_ascii=False)
_text = json.encoder.encode_basestring  # type: ignore[attr-defined]
_sha256 = hashlib.sha256
_change_parts = change_state_fields("action", "kind", "key", "desired", "live", "fields", "blocked")
_spec_of = state_fields("spec")
_create_only_of = state_fields("create_only")


def write_change_entries(changes: Iterable[Any], out: IO[bytes]) -> str:
    """Write the canonical entry of each write change of ``changes`` (a plan's: a spool is
    read as stored) to ``out``, one line each; returns the plan's digest."""
    if isinstance(changes, ChangeSpool):
        return digest_of_texts(_stored_entries_written(changes.states(), out))
    return digest_of_texts(_entries_written(change_states(changes), out))


def _stored_entries_written(stored: Iterable[Any], out: IO[bytes]) -> Iterator[str]:
    """``_entries_written`` of a plan's spool read as it stores its changes: a plain create
    (most of an import's plan) is its desired item's stored bytes, decoded here once for
    both its entry and its digest text, never built into a change's state."""
    write, loads = out.write, pickle.loads
    for item in stored:
        if type(item) is tuple:
            yield from _entries_written((item,), out)
            continue
        desired = loads(item)
        kind, key, spec = desired[0], desired[1], desired[2]
        write(change_entry_line("create", kind, key, desired, None))
        yield created_digest_text(f"{kind}.{key}", spec)


def _entries_written(states: Iterable[tuple[Any, ...]], out: IO[bytes]) -> Iterator[str]:
    """The digest text of each change of ``states``, given after its entry (a write's) is
    written to ``out``."""
    write = out.write
    for state in states:
        action, kind, key, desired, live, field_states, blocked = _change_parts(state)
        if action != "manual" and blocked is None:  # ``Change.is_write``
            write(change_entry_line(action, kind, key, desired, live))
        yield digest_text_of(action, f"{kind}.{key}", field_states, blocked)


def change_entry_line(
    action: str,
    kind: str,
    key: str,
    desired: tuple[Any, ...] | None,
    live: tuple[Any, ...] | None,
) -> bytes:
    """The canonical line (with its line break) of one write change, given as the parts of
    its state: the before-image of what it overwrites or removes, and what it writes.

    The line is ``canonical`` of the entry, spelt out around the canonical text of its
    values, so the spec, which most of the line is, is encoded once and checked for what the
    redactor would replace in that same text (the entry's keys in their sorted order)."""
    after = "null"
    if desired is not None and action != "delete":
        after = _after_text(_spec_of(desired), _create_only_of(desired))
    before = "null" if live is None else canonical_text(before_image(_resource(live)))
    return (
        f'{{"action":{_text(action)},"address":{_text(f"{kind}.{key}")},"after":{after},'
        f'"before":{before},"key":{_text(key)},"kind":{_text(kind)},"type":"change"}}\n'
    ).encode()


def _after_text(spec: Any, create_only: Mapping[str, Any]) -> str:
    """The entry's ``after``: the masked spec and the write-once values' fingerprints."""
    spec_text = canonical_text(spec if _is_own_mask(spec) else unredacted_mask(spec))
    if SECRETS.finds(spec_text):
        spec_text = canonical_text(masked(spec))  # redact string by string
    if not create_only:
        return f'{{"spec":{spec_text}}}'
    return f'{{"spec":{spec_text},"written_once":{_written_once_text(create_only)}}}'


def _is_own_mask(spec: Any) -> bool:
    """Whether ``spec`` encodes to the text its mask (``unredacted_mask``) does, so no mask
    need be built: a dict under string names, none sensitive, of plain values, of lists of
    plain values (a user's empty link list) and of such dicts of plain values (an
    organization's metadata). A tuple is written as the list its mask is."""
    if type(spec) is not dict or not SENSITIVE_FIELDS.isdisjoint(spec):
        return False
    plain = _PLAIN
    for name, value in spec.items():
        kind = type(value)
        if type(name) is not str:
            return False
        if kind in plain:
            continue
        if kind is list or kind is tuple:
            for item in value:
                if type(item) not in plain:
                    return False
        elif kind is dict and SENSITIVE_FIELDS.isdisjoint(value):
            for inner, item in value.items():
                if type(inner) is not str or type(item) not in plain:
                    return False
        else:
            return False
    return True


def _written_once_text(values: Mapping[str, Any]) -> str:
    """``canonical_text(written_once(values))``, spelt out when every name is a string (a
    fingerprint is plain ASCII, with nothing to escape)."""
    parts = []
    for name, value in sorted(values.items()):
        if type(name) is not str:
            return canonical_text(written_once(values))
        text = value if type(value) is str else str(value)
        found = _short_fingerprints.get(text)
        if found is None:
            found = _fingerprint(text)
            if len(text) <= _SHORT:
                if len(_short_fingerprints) >= 256:
                    _short_fingerprints.clear()
                _short_fingerprints[text] = found
        parts.append(f'{_text(name)}:"{found}"')
    return "{" + ",".join(parts) + "}"


# Fingerprints of short write-once values, which repeat (a hash's type: "bcrypt" for every
# user); a digest is unique, and never kept here.
_SHORT = 16
_short_fingerprints: dict[str, str] = {}


def _fingerprint(text: str) -> str:
    """``record.fingerprint(text)``, of a string, spelt out."""
    digest = _sha256(FINGERPRINT_DOMAIN + _text(text).encode()).hexdigest()
    return f"{SENSITIVE_MARK}{digest[:12]})"


def unredacted_mask(value: Any, name: str = "") -> Any:
    """``record.masked`` without the redactor: sensitive fields fingerprinted, containers
    made the lists and dicts JSON holds. Equal to ``masked`` wherever the redactor changes
    no string (see the module's docstring). Dicts and lists, what specs are made of, are
    walked here without a call per plain value."""
    if name in SENSITIVE_FIELDS and value is not None:
        return fingerprint(value)
    kind = type(value)
    if kind is dict:
        return _mask_mapping(value)
    if kind is list:
        return _mask_list(value)
    if kind in _PLAIN or not isinstance(value, Mapping | list | tuple | set | frozenset):
        return value
    if isinstance(value, Mapping):
        return _mask_mapping(value)
    return _mask_list(value)


def _mask_mapping(value: Mapping[Any, Any]) -> dict[str, Any]:
    masked_items: dict[str, Any] = {}
    for key, item in value.items():
        name = key if type(key) is str else str(key)
        if type(item) in _PLAIN and name not in SENSITIVE_FIELDS:
            masked_items[name] = item
        else:
            masked_items[name] = unredacted_mask(item, name)
    return masked_items


def _mask_list(value: Iterable[Any]) -> list[Any]:
    return [item if type(item) in _PLAIN else unredacted_mask(item) for item in value]


# Values ``masked`` gives back as they are (bar the redactor, for text).
_PLAIN = frozenset({str, bool, int, float, type(None)})


def written_once(values: Mapping[str, Any]) -> dict[str, str]:
    """Write-once values (a password digest) by fingerprint: which were set, never what."""
    return {name: fingerprint(str(value)) for name, value in sorted(values.items())}


def _resource(state: tuple[Any, ...]) -> Any:
    resource = resource_from(state)
    assert resource is not None
    return resource
