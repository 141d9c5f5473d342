"""How resources and changes are written to the on-disk index and spools, and read back.

Pickle, but of plain tuples: pickling the frozen slotted dataclasses themselves goes through
Python-level ``__getstate__`` for every object, several times slower than a tuple of their
values, and a plan writes millions of them. The tuples are built from the dataclasses' own
field lists, so every field (``origin``, ``observed``, ``create_only``, and any added later)
travels without this module naming it; enums are written as their values (``_value_``, a
plain attribute, rather than the slower ``value`` property).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import fields
from operator import attrgetter, itemgetter
from typing import Any

from authform.engine.field_diff import FieldChange, created_field_states
from authform.engine.plan import Action, Change, EncodedCreate
from authform.resources import Kind, Resource

_KINDS = {kind.value: kind for kind in Kind}
_ACTIONS = {action.value: action for action in Action}
# Field names after the ones encoded by hand (kind; action, kind, key, desired, live, fields).
_RESOURCE_FIELDS = tuple(f.name for f in fields(Resource))
_RESOURCE_REST = _RESOURCE_FIELDS[1:]
_CHANGE_FIELDS = tuple(f.name for f in fields(Change))
_CHANGE_REST = _CHANGE_FIELDS[6:]
assert _CHANGE_FIELDS[:6] == ("action", "kind", "key", "desired", "live", "fields")
# The rest of each as one tuple, read in C (``attrgetter`` of several names).
_resource_rest = attrgetter(*_RESOURCE_REST)
_change_rest = attrgetter(*_CHANGE_REST)
# The rest of a plain create (``EncodedCreate``): every field at its default.
_CREATE_REST = _change_rest(Change(Action.CREATE, Kind.USER, ""))


# Where ``create_only`` sits in a resource's state.
_CREATE_ONLY = 1 + _RESOURCE_REST.index("create_only")
# ``create_only`` holds secrets as ``str`` subclasses that mask their repr (a password hash is
# a ``BcryptHash``). Pickle names a class and looks it up again on every dump and load, which
# made a user's row cost four times a membership's; so such a value is written as its text
# and a number for its class, numbered by this process (a pickle written here is only ever
# read back by this process, from its private folder).
_TEXT_CLASSES: list[type[str]] = []
_TEXT_CLASS_NUMBERS: dict[type[str], int] = {}
_PLAIN = -1


def _create_only_state(values: Mapping[str, Any]) -> tuple[tuple[str, int, Any], ...]:
    state = []
    for name, value in values.items():
        cls = type(value)
        if cls is str or not isinstance(value, str):
            state.append((name, _PLAIN, value))
            continue
        number = _TEXT_CLASS_NUMBERS.get(cls)
        if number is None:
            number = _TEXT_CLASS_NUMBERS[cls] = len(_TEXT_CLASSES)
            _TEXT_CLASSES.append(cls)
        state.append((name, number, str(value)))
    return tuple(state)


def _create_only_from(state: tuple[tuple[str, int, Any], ...]) -> dict[str, Any]:
    return {
        name: value if number == _PLAIN else _TEXT_CLASSES[number](value)
        for name, number, value in state
    }


def _create_only_value(stored: Any) -> Any:
    """``create_only`` as stored in a state (a mapping when empty) back as a mapping."""
    return _create_only_from(stored) if type(stored) is tuple else stored


def resource_state(resource: Resource | None) -> tuple[Any, ...] | None:
    if resource is None:
        return None
    return _resource_state(resource)


def state_fields(*names: str) -> Callable[[tuple[Any, ...]], Any]:
    """A getter of the named ``Resource`` fields from a resource's state, in C (a tuple
    of them; one name: the field itself). ``create_only`` comes back as the mapping it
    was, its secrets of their own classes again (see ``_create_only_state``)."""
    get = itemgetter(*(_RESOURCE_FIELDS.index(name) for name in names))
    if "create_only" not in names:
        return get
    if len(names) == 1:
        return lambda state: _create_only_value(get(state))
    at = names.index("create_only")

    def fields_of(state: tuple[Any, ...]) -> tuple[Any, ...]:
        values = get(state)
        return (*values[:at], _create_only_value(values[at]), *values[at + 1 :])

    return fields_of


def carries_password_digest(state: tuple[Any, ...]) -> bool:
    """Whether a resource's state carries a password digest (a non-empty ``password_hash``
    in ``create_only``): read from the stored (name, class number, text) entries, without
    building each secret's object only to test it (the index asks it of every user)."""
    stored = state[_CREATE_ONLY]
    if type(stored) is tuple:
        return any(name == "password_hash" and bool(text) for name, _, text in stored)
    return bool(stored.get("password_hash"))


def resource_from(state: tuple[Any, ...] | None) -> Resource | None:
    if state is None:
        return None
    at = _CREATE_ONLY
    if type(state[at]) is tuple:
        state = (*state[:at], _create_only_from(state[at]), *state[at + 1 :])
    return Resource(_KINDS[state[0]], *state[1:])


def resource_states(resources: Iterable[Resource]) -> Iterator[tuple[Any, ...]]:
    """Each resource's state (``resource_state``), in order. A collection that keeps its
    items as states (the on-disk index, a chain of its views) gives them as they are
    stored, without building a ``Resource`` for each only to take it apart again."""
    states = getattr(resources, "resource_states", None)
    if states is not None:
        stored: Iterator[tuple[Any, ...]] = states()
        return stored
    return (_resource_state(resource) for resource in resources)


def _resource_state(resource: Resource) -> tuple[Any, ...]:
    state = (resource.kind._value_, *_resource_rest(resource))
    if not resource.create_only:
        return state
    at = _CREATE_ONLY
    return (*state[:at], _create_only_state(resource.create_only), *state[at + 1 :])


# ``imported_state`` writes the state's tuple by position, so it must follow the dataclass.
assert _RESOURCE_FIELDS == (
    "kind",
    "key",
    "spec",
    "provider_id",
    "observed",
    "create_only",
    "origin",
)


def imported_state(
    kind: Kind,
    key: str,
    spec: Mapping[str, Any],
    create_only: Mapping[str, Any],
    origin: Mapping[str, Any],
) -> tuple[Any, ...]:
    """The state ``resource_state`` gives of a desired item read from a source (no
    provider id, nothing observed), built from its parts: an import writes millions of
    items, and building each as a ``Resource`` only to take it apart again cost as much as
    judging it."""
    return imported_state_encoded(
        kind, key, spec, _create_only_state(create_only) if create_only else {}, origin
    )


def imported_state_encoded(
    kind: Kind,
    key: str,
    spec: Mapping[str, Any],
    create_only: tuple[tuple[str, int, Any], ...] | Mapping[str, Any],
    origin: Mapping[str, Any],
) -> tuple[Any, ...]:
    """``imported_state``, its ``create_only`` given as stored already (see
    ``create_only_state``; an empty mapping when there is none)."""
    return (kind._value_, key, spec, None, {}, create_only, origin)


def create_only_state(values: Mapping[str, Any]) -> tuple[tuple[str, int, Any], ...]:
    """``create_only`` as a state stores it: (name, class number, text) for each secret (a
    ``str`` subclass such as ``BcryptHash``), so an importer can build many from one."""
    return _create_only_state(values)


def dump_imported_states(
    kind: Kind,
    keys: Iterable[str],
    specs: Iterable[Mapping[str, Any]],
    origins: Iterable[Mapping[str, Any]],
    create_only: Iterable[tuple[tuple[str, int, Any], ...] | Mapping[str, Any]] | None = None,
) -> list[bytes]:
    """``dump_state(imported_state_encoded(kind, key, spec, create_only, origin))`` of each
    item (``create_only`` as stored, see ``create_only_state``; nothing when not given),
    the same bytes, in one pass: an import's fast lane writes a block of thousands of items
    at once, and a call or two per item was a sixth of the pickling."""
    value, dumps, protocol = kind._value_, pickle.dumps, pickle.HIGHEST_PROTOCOL
    if create_only is None:
        return [
            dumps((value, key, spec, None, {}, {}, origin), protocol)
            for key, spec, origin in zip(keys, specs, origins, strict=True)
        ]
    return [
        dumps((value, key, spec, None, {}, secrets, origin), protocol)
        for key, spec, secrets, origin in zip(keys, specs, create_only, origins, strict=True)
    ]


def dump_state(state: tuple[Any, ...]) -> bytes:
    return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


def dump_resource(resource: Resource) -> bytes:
    return pickle.dumps(resource_state(resource), protocol=pickle.HIGHEST_PROTOCOL)


def load_resource(blob: bytes) -> Resource:
    resource = resource_from(pickle.loads(blob))
    assert resource is not None
    return resource


def load_state(blob: bytes) -> tuple[Any, ...]:
    """A resource's state (``resource_state``) from the bytes ``dump_resource`` wrote."""
    state: tuple[Any, ...] = pickle.loads(blob)
    return state


def plain_create_state(desired: tuple[Any, ...]) -> tuple[Any, ...]:
    """The state (``change_state``) of the plain create of the desired item whose state is
    ``desired``: what a plan's spool keeps of it is that item's stored bytes alone."""
    return (
        Action.CREATE._value_,
        desired[0],
        desired[1],
        desired,
        None,
        created_field_states(desired[2]),
        *_CREATE_REST,
    )


def change_state(change: Change) -> tuple[Any, ...]:
    if type(change) is EncodedCreate:  # already in its stored form
        return (
            Action.CREATE._value_,
            change.kind._value_,
            change.key,
            change.desired_state,
            None,
            change.field_states,
            *_CREATE_REST,
        )
    return (
        change.action._value_,
        change.kind._value_,
        change.key,
        resource_state(change.desired),
        resource_state(change.live),
        tuple((f.path, f.old, f.new) for f in change.fields),
        *_change_rest(change),
    )


def change_states(changes: Iterable[Change]) -> Iterator[tuple[Any, ...]]:
    """Each change's state (``change_state``), in order: a plan's spool gives them as they
    are stored (``ChangeSpool.change_states``), without building the changes."""
    states = getattr(changes, "change_states", None)
    if states is not None:
        stored: Iterator[tuple[Any, ...]] = states()
        return stored
    return (change_state(change) for change in changes)


def change_state_fields(*names: str) -> Callable[[tuple[Any, ...]], Any]:
    """A getter of the named ``Change`` fields from a change's state, in C (a resource
    field is its state, see ``state_fields``; ``action`` and ``kind`` are their values;
    ``fields`` are ``(path, old, new)`` tuples)."""
    return itemgetter(*(_CHANGE_FIELDS.index(name) for name in names))


def change_from(state: tuple[Any, ...]) -> Change:
    action, kind, key, desired, live, field_states, *rest = state
    return Change(
        _ACTIONS[action],
        _KINDS[kind],
        key,
        resource_from(desired),
        resource_from(live),
        tuple(FieldChange(*f) for f in field_states),
        *rest,
    )
