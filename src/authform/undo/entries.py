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

from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any, NamedTuple

from authform.engine.codec import change_state_fields, change_states, resource_from, state_fields
from authform.engine.spool import streamed_digest
from authform.redaction import redact
from authform.resources import SENSITIVE_FIELDS
from authform.saved_plan.seal import canonical
from authform.undo.record import before_image, fingerprint, masked

_change_parts = change_state_fields("action", "kind", "key", "desired", "live", "fields", "blocked")
_spec_of = state_fields("spec")
_create_only_of = state_fields("create_only")


class _Value(NamedTuple):
    """An action as ``spool.digest_entry`` reads it (``change.action.value``)."""

    value: str


class _Field(NamedTuple):
    """A field change as ``spool.digest_entry`` reads it."""

    path: str
    old: Any
    new: Any


class _DigestView(NamedTuple):
    """What ``spool.digest_entry`` reads of a change, taken from its state without building
    the change: the digest stays the one formula ``Plan.digest`` computes."""

    action: _Value
    address: str
    fields: tuple[_Field, ...]
    blocked: str | None


_ACTIONS: dict[str, _Value] = {}


def write_change_entries(changes: Iterable[Any], out: IO[bytes]) -> str:
    """Write the canonical entry of each write change of ``changes`` (a plan's: a spool is
    read as stored) to ``out``, one line each; returns the plan's digest."""
    return streamed_digest(_entries_written(change_states(changes), out))


def _entries_written(states: Iterable[tuple[Any, ...]], out: IO[bytes]) -> Iterator[_DigestView]:
    write = out.write
    for state in states:
        action, kind, key, desired, live, field_states, blocked = _change_parts(state)
        if action != "manual" and blocked is None:  # ``Change.is_write``
            write(change_entry_line(action, kind, key, desired, live))
        value = _ACTIONS.get(action) or _ACTIONS.setdefault(action, _Value(action))
        yield _DigestView(value, f"{kind}.{key}", tuple(map(_Field._make, field_states)), blocked)


def change_entry_line(
    action: str,
    kind: str,
    key: str,
    desired: tuple[Any, ...] | None,
    live: tuple[Any, ...] | None,
) -> bytes:
    """The canonical line (with its line break) of one write change, given as the parts of
    its state: the before-image of what it overwrites or removes, and what it writes."""
    entry: dict[str, Any] = {
        "type": "change",
        "action": action,
        "address": f"{kind}.{key}",
        "kind": kind,
        "key": key,
        "before": None if live is None else before_image(_resource(live)),
        "after": None,
    }
    spec = None
    if desired is not None and action != "delete":
        spec = _spec_of(desired)
        entry["after"] = after = {"spec": unredacted_mask(spec)}
        create_only = _create_only_of(desired)
        if create_only:
            after["written_once"] = written_once(create_only)
    line = canonical(entry)
    if spec is not None and redact(text := line.decode()) != text:
        # A string of the spec holds what the redactor replaces: redact string by string.
        entry["after"]["spec"] = masked(spec)
        line = canonical(entry)
    return line + b"\n"


def unredacted_mask(value: Any, name: str = "") -> Any:
    """``record.masked`` without the redactor: sensitive fields fingerprinted, containers
    made the lists and dicts JSON holds. Equal to ``masked`` wherever the redactor changes
    no string (see the module's docstring)."""
    if name in SENSITIVE_FIELDS and value is not None:
        return fingerprint(value)
    kind = type(value)
    if kind is str or kind is bool or kind is int or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): unredacted_mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [unredacted_mask(v) for v in value]
    return value


def written_once(values: Mapping[str, Any]) -> dict[str, str]:
    """Write-once values (a password digest) by fingerprint: which were set, never what."""
    return {name: fingerprint(str(value)) for name, value in sorted(values.items())}


def _resource(state: tuple[Any, ...]) -> Any:
    resource = resource_from(state)
    assert resource is not None
    return resource
