"""Diff desired against live resources into a Plan.

Both sides are indexed by natural key and their normalized specs compared, so nothing diffs
that isn't different; field-level detail is computed only for items already known to differ.
Nothing here does I/O: the plan is a pure function of (desired, live, capabilities, policy).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from authform.engine.field_diff import FieldChange, created_field_states, field_changes
from authform.engine.spool import count_actions, streamed_digest
from authform.providers.base import KindSupport, ProviderCapabilities
from authform.resources import Kind, Resource

if TYPE_CHECKING:
    from authform.engine.references import MissingRole


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    MANUAL = "manual"

    @property
    def symbol(self) -> str:
        return {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "manual": "!"}[
            self.value
        ]


@dataclass(frozen=True, slots=True)
class Change:
    action: Action
    kind: Kind
    key: str
    desired: Resource | None = None
    live: Resource | None = None
    fields: tuple[FieldChange, ...] = ()
    instructions: tuple[str, ...] = ()
    # Why authform will not carry this change out (e.g. deletes not allowed); it stays pending.
    blocked: str | None = None
    note: str | None = None
    # Addresses of changes that must succeed first (a delete that frees the email or domain
    # this change claims); apply holds this change back when one of them fails.
    after: tuple[str, ...] = ()

    @property
    def address(self) -> str:
        return f"{self.kind.value}.{self.key}"

    @property
    def counts_as(self) -> str | None:
        """How the safety thresholds count this change: an executable delete or an update.

        A replace is a delete (the live item and its id are gone, whatever refers to it
        breaks), so it counts toward the delete threshold, never the update one."""
        if self.action in (Action.DELETE, Action.REPLACE) and self.blocked is None:
            return "delete"
        if self.action is Action.UPDATE:
            return "update"
        return None

    @property
    def is_write(self) -> bool:
        """A change apply carries out through the API."""
        return self.action is not Action.MANUAL and self.blocked is None


class EncodedCreate(Change):
    """A plain create (no adoption, no hold, no wait) as the planner decides it: the
    desired item's stored state and its fields as tuples, never built into objects.

    An import's first plan is a million creates; building each one's ``Resource``,
    ``FieldChange`` objects and ``Change`` only for the spool to take them apart again cost
    three quarters of the diff. This is a ``Change`` to everything that reads it (action,
    kind, key, address, counts, and ``desired`` and ``fields`` built when asked), and the
    spool writes its state as is (``codec.change_state``), so what is read back is an
    ordinary ``Change``, equal to the one the full path builds. Whatever would change it
    (``dataclasses.replace``) takes ``as_change()`` first.
    """

    __slots__ = ("desired_state", "field_states")
    desired_state: tuple[Any, ...]
    field_states: tuple[tuple[str, None, Any], ...]

    # A plain create's other fields, at their defaults (class attributes shadow the slots of
    # ``Change``, so each create sets only its own four).
    action = Action.CREATE
    live = None
    instructions = ()
    blocked = None
    note = None
    after = ()

    def __init__(
        self, kind: Kind, key: str, desired_state: tuple[Any, ...], field_states: tuple[Any, ...]
    ) -> None:
        # ``desired`` and ``fields`` are built from the states when asked (the properties
        # below shadow ``Change``'s slots of those names).
        set_slot = object.__setattr__
        set_slot(self, "kind", kind)
        set_slot(self, "key", key)
        set_slot(self, "desired_state", desired_state)
        set_slot(self, "field_states", field_states)

    @property  # type: ignore[override]
    def desired(self) -> Resource:
        from authform.engine.codec import resource_from

        resource = resource_from(self.desired_state)
        assert resource is not None
        return resource

    @property  # type: ignore[override]
    def fields(self) -> tuple[FieldChange, ...]:
        return tuple(FieldChange(*state) for state in self.field_states)

    def as_change(self) -> Change:
        """The same create as an ordinary ``Change``."""
        return Change(Action.CREATE, self.kind, self.key, self.desired, fields=self.fields)


# How many plain creates a ``CreateBlock`` gathers (a spool block's worth).
CREATE_BLOCK = 512


@dataclass(frozen=True, slots=True)
class CreateBlock:
    """Consecutive plain creates of one kind, in plan order, each as its desired item's
    stored bytes (``codec.dump_resource``), as the index's join returns them.

    The first plan of an import is a million plain creates, and the spool keeps each as
    those bytes (``ChangeSpool.append``): unpickling each item only to build its create and
    pickle it again was most of the diff. What must look at each create (a hold, a wait for
    a freed value, the role check) reads ``changes()``."""

    kind: Kind
    items: list[bytes]
    # What a block is to the ordering of a plan: creates.
    action = Action.CREATE

    def changes(self) -> Iterator[EncodedCreate]:
        from authform.engine.codec import load_state

        kind = self.kind
        for blob in self.items:
            state = load_state(blob)
            yield EncodedCreate(kind, state[1], state, created_field_states(state[2]))


def as_change(change: Change) -> Change:
    """``change`` as an ordinary ``Change`` (one ``dataclasses.replace`` can copy)."""
    return change.as_change() if isinstance(change, EncodedCreate) else change


@dataclass(frozen=True)
class Policy:
    allow_delete: bool = False
    max_delete_percent: float = 30.0
    max_update_percent: float = 30.0
    threshold_min_existing: int = 10


@dataclass
class Plan:
    provider: str
    managed: list[Kind]
    # A list, or the spooled sequence the planner writes (``authform.engine.spool``): iterate
    # it (more than once if need be); use ``count`` for totals.
    changes: Sequence[Change]
    # Hash of the live state the plan was computed from (``StateIndex.live_fingerprint``);
    # empty when not asked for (``PlanOptions.fingerprint_live``).
    live_fingerprint: str
    environment: str | None = None
    refusals: list[str] = field(default_factory=list)
    desired_counts: dict[Kind, int] = field(default_factory=dict)
    live_counts: dict[Kind, int] = field(default_factory=dict)
    forced: bool = False
    # Facts a reviewer needs beside the changes: import counts, what a provider cannot carry.
    notes: list[str] = field(default_factory=list)
    # Roles that memberships name but that will not exist: an error --force cannot override.
    missing_roles: list[MissingRole] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def refused(self) -> bool:
        return bool(self.missing_roles) or (bool(self.refusals) and not self.forced)

    def count(self, action: Action, *, blocked: bool | None = None) -> int:
        counts = getattr(self.changes, "by_action", None)
        if counts is None:
            counts = count_actions(self.changes)
        return sum(
            n
            for (name, is_blocked), n in counts.items()
            if name == action.value and (blocked is None or is_blocked == blocked)
        )

    def digest(self) -> str:
        """Identity of what this plan would do: equal digests mean the same changes
        (sha256 of the JSON list of each change's action, address, fields and block,
        computed as the changes stream by)."""
        return streamed_digest(self.changes)


DELETE_NOT_ALLOWED = "deletes are not allowed (set policy.allow_delete: true to delete)"
REPLACE_NOT_ALLOWED = (
    "a replace deletes the live item and creates a new one, and deletes are not allowed "
    "(set policy.allow_delete: true to replace)"
)

# Kinds whose live item is never deleted and recreated to change a field the API cannot
# update: a user's provider id is what its sessions, second factors, identities and the
# import's id mapping hang on, so a new id loses them all. Such a change is a manual step.
NEVER_REPLACED: frozenset[Kind] = frozenset({Kind.USER})

# The field by which an existing item that lacks authform's key can be recognised and adopted
# (e.g. an organization created by hand has no external_id but has the same name).
ADOPTION_FIELD: dict[Kind, str] = {Kind.ORGANIZATION: "name", Kind.USER: "email"}


@dataclass(frozen=True)
class PlanOptions:
    """What a plan is computed with, beside its two sides.

    ``manual_instructions(desired, live)`` is the provider's source of dashboard steps.
    ``read`` names the kinds the live side holds in full (by default the managed ones); a
    kind read but not managed (roles, when only memberships are) is consulted, never changed.
    ``fingerprint_live``: compute ``Plan.live_fingerprint`` (a pass over the whole live
    state); only a saved plan seals it, so a plan that is only shown leaves it empty.
    """

    managed: Iterable[Kind]
    capabilities: ProviderCapabilities
    policy: Policy
    manual_instructions: Any
    environment: str | None = None
    force: bool = False
    read: Iterable[Kind] | None = None
    fingerprint_live: bool = True


def plan_changes(
    desired: Iterable[Resource],
    live: Iterable[Resource],
    options: PlanOptions | None = None,
    **settings: Any,
) -> Plan:
    """Compute the plan for the managed kinds, in dependency order, with safety checks:
    with ``options``, or the ``PlanOptions`` fields given as keywords.

    Both sides go through the same on-disk index the commands use (``authform.engine.index``),
    so this in-memory entry point and a million-user plan share every rule.
    """
    from authform.engine.index import StateIndex
    from authform.engine.planner import plan_index

    index = StateIndex()
    try:
        index.add_desired(desired)
        index.add_live(live)
        return plan_index(index, options or PlanOptions(**settings))
    finally:
        index.close()


def diff_kind(
    kind: Kind,
    pairs: Iterable[tuple[bytes, Resource | None]],
    live_only: Callable[[], Iterable[Resource]],
    unkeyed: Sequence[Resource],
    capabilities: ProviderCapabilities,
    policy: Policy,
    manual_instructions: Any,
    *,
    blocks: bool = True,
) -> Iterator[Change | CreateBlock]:
    """The changes of one kind, as they are decided: first for each desired item (``pairs``:
    each desired item's stored bytes, ``codec.dump_resource``, with its live twin of the
    same key, or None), then a delete for each live item no desired item keys or adopts
    (``live_only``, called once the desired ones are done). ``unkeyed`` are the live items
    without authform's key, which a desired item may adopt.

    A desired item with no twin that nothing can adopt is a plain create: consecutive ones
    are yielded as a ``CreateBlock`` of their stored bytes, or (without ``blocks``) each as
    an ``EncodedCreate``, from its stored state, without building its objects."""
    from authform.engine.codec import load_state, resource_from

    support = capabilities.supports(kind)
    adopted: set[str] = set()
    creates = support is not None and not support.manual and support.create
    plain_creates = creates and not (kind in ADOPTION_FIELD and unkeyed)

    def manual(desired: Resource | None, live_item: Resource | None, action_note: str) -> Change:
        return Change(
            Action.MANUAL,
            kind,
            (desired or live_item).key,  # type: ignore[union-attr]
            desired=desired,
            live=live_item,
            fields=field_changes(
                live_item.spec if live_item else {}, desired.spec if desired else {}
            ),
            instructions=tuple(manual_instructions(desired, live_item)),
            note=action_note,
        )

    block: list[bytes] = []
    for desired_item, live_item in pairs:
        if live_item is None and plain_creates:
            if blocks:
                block.append(desired_item)
                if len(block) >= CREATE_BLOCK:
                    yield CreateBlock(kind, block)
                    block = []
            else:
                state = load_state(desired_item)
                yield EncodedCreate(kind, state[1], state, created_field_states(state[2]))
            continue
        if block:
            yield CreateBlock(kind, block)
            block = []
        item = resource_from(load_state(desired_item))
        current = live_item
        assert item is not None
        if current is None:
            candidate = _adoption_candidate(kind, item, unkeyed, adopted)
            if candidate is not None:
                adopted.add(candidate.key)
                fields = (FieldChange("(key)", None, item.key),) + field_changes(
                    candidate.spec, item.spec
                )
                yield Change(
                    Action.UPDATE,
                    kind,
                    item.key,
                    desired=item,
                    live=candidate,
                    fields=fields,
                    note=f"adopts existing {candidate.provider_id}, which has no key yet",
                )
                continue
            if not creates:
                yield manual(item, None, "the API cannot create this")
            else:
                yield Change(
                    Action.CREATE,
                    kind,
                    item.key,
                    desired=item,
                    fields=field_changes({}, item.spec),
                )
            continue
        if _same(current.spec, item.spec):
            continue
        fields = field_changes(current.spec, item.spec)
        if support is None or support.manual:
            yield manual(item, current, "the API cannot change this")
        elif not support.update or _immutable(fields, support):
            what = ", ".join(_immutable(fields, support)) or "this"
            if kind in NEVER_REPLACED:
                yield manual(
                    item,
                    current,
                    f"the API cannot change {what} in place, and authform never deletes "
                    f"and recreates a {kind.value} (it would lose its id and all that "
                    "hangs on it)",
                )
            elif support.delete and support.create:
                yield Change(
                    Action.REPLACE,
                    kind,
                    item.key,
                    desired=item,
                    live=current,
                    fields=fields,
                    note=f"the API cannot change {what} in place: deleted, then created",
                    blocked=None if policy.allow_delete else REPLACE_NOT_ALLOWED,
                )
            else:
                yield manual(item, current, "the API cannot update this in place")
        else:
            yield Change(Action.UPDATE, kind, item.key, desired=item, live=current, fields=fields)

    if block:
        yield CreateBlock(kind, block)
    for current in live_only():
        if current.key in adopted:
            continue
        cannot_delete = support is None or support.manual or not support.delete
        if policy.allow_delete and cannot_delete:
            yield manual(None, current, "the API cannot delete this")
            continue
        yield Change(
            Action.DELETE,
            kind,
            current.key,
            live=current,
            fields=field_changes(current.spec, {}),
            blocked=None if policy.allow_delete else DELETE_NOT_ALLOWED,
        )


def _immutable(fields: Sequence[FieldChange], support: KindSupport) -> list[str]:
    """The changed top-level fields the API cannot update in place."""
    return sorted({f.field for f in fields} & support.immutable_fields)


def _adoption_candidate(
    kind: Kind, item: Resource, unkeyed: Sequence[Resource], taken: set[str]
) -> Resource | None:
    """An unkeyed live item is adopted only when exactly one matches: never guess."""
    field_name = ADOPTION_FIELD.get(kind)
    if field_name is None:
        return None
    matches = [
        r
        for r in unkeyed
        if r.key not in taken and r.spec.get(field_name) == item.spec.get(field_name)
    ]
    return matches[0] if len(matches) == 1 else None


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    # Specs are normalized on both sides, so plain equality decides almost every pair; the
    # JSON round trip only settles container-type differences (tuple vs list).
    return a == b or _stable(a) == _stable(b)


def _stable(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str))
