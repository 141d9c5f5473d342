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
from dataclasses import fields
from operator import attrgetter
from typing import Any

from authform.engine.field_diff import FieldChange
from authform.engine.plan import Action, Change, EncodedCreate
from authform.resources import Kind, Resource

_KINDS = {kind.value: kind for kind in Kind}
_ACTIONS = {action.value: action for action in Action}
# Field names after the ones encoded by hand (kind; action, kind, key, desired, live, fields).
_RESOURCE_REST = tuple(f.name for f in fields(Resource))[1:]
_CHANGE_FIELDS = tuple(f.name for f in fields(Change))
_CHANGE_REST = _CHANGE_FIELDS[6:]
assert _CHANGE_FIELDS[:6] == ("action", "kind", "key", "desired", "live", "fields")
# The rest of each as one tuple, read in C (``attrgetter`` of several names).
_resource_rest = attrgetter(*_RESOURCE_REST)
_change_rest = attrgetter(*_CHANGE_REST)
# The rest of a plain create (``EncodedCreate``): every field at its default.
_CREATE_REST = _change_rest(Change(Action.CREATE, Kind.USER, ""))


def resource_state(resource: Resource | None) -> tuple[Any, ...] | None:
    if resource is None:
        return None
    return (resource.kind._value_, *_resource_rest(resource))


def resource_from(state: tuple[Any, ...] | None) -> Resource | None:
    if state is None:
        return None
    return Resource(_KINDS[state[0]], *state[1:])


def dump_resource(resource: Resource) -> bytes:
    return pickle.dumps(resource_state(resource), protocol=pickle.HIGHEST_PROTOCOL)


def load_resource(blob: bytes) -> Resource:
    resource = resource_from(pickle.loads(blob))
    assert resource is not None
    return resource


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
