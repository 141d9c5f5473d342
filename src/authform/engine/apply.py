"""Carry a Plan out through a provider, in dependency order, reporting every outcome.

Changes of one kind run concurrently (the HTTP client bounds concurrency and rate); kinds run
one after another so a role is never created before its permissions. When a change fails,
only the changes that depend on it (a membership of a user whose create failed, a role naming
a permission that could not be created) are held back; everything else goes on. The result
lists exactly what was applied, what failed and what was not attempted: nothing is
half-applied silently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Sequence, Set
from dataclasses import dataclass, field, fields
from itertools import count
from operator import itemgetter
from typing import Any

from authform.engine.batches import LEFT_TO_PERSON, run_batches
from authform.engine.codec import (
    change_from,
    change_state,
    change_state_fields,
    change_states,
    load_state,
    plain_create_state,
    resource_from,
)
from authform.engine.field_diff import created_field_states
from authform.engine.plan import Action, Change, EncodedCreate, Plan
from authform.engine.spool import ChangeSpool, PickleSpool, outcome_spool
from authform.providers.base import Provider, ProviderError
from authform.resources import Kind, Resource, dependencies

ProgressCallback = Callable[[int, int], None]
# Told each write change's outcome the moment it is known: "applied", "failed", "not
# attempted" (held back because a change it needs failed) or ``LEFT_TO_PERSON`` (the provider
# found it is a person's step; nothing written). The apply journal (``authform.undo.journal``)
# is written from it, so an interrupted apply leaves one.
OutcomeCallback = Callable[[Change, str], None]
# Told at once the outcome shared by many write changes (a batch of a bulk writer whose every
# write was made: "applied"), in their order; without it, ``OutcomeCallback`` hears each.
OutcomesCallback = Callable[[Sequence[Change], str], None]
# Told when the outcomes of a batch of a bulk writer (of a change, otherwise) have all been
# told: the journal writes its lines through to the operating system then, once per batch
# rather than once per line. An apply killed before that leaves those changes without an
# outcome in the journal, which undo judges by the live state, as it does a write in flight.
SettledCallback = Callable[[], None]


def _spool() -> PickleSpool:
    """A spool of the changes of one outcome. A plain create read from the plan's spool
    (``StoredCreate``) is kept as the stored bytes it was read from, as the plan's spool
    keeps it (``ChangeSpool``), and read back as the same ``Change``."""
    return PickleSpool("authform-apply-", _stored_form, _from_stored_form)


def _stored_form(change: Change) -> Any:
    return change.stored if type(change) is StoredCreate else change_state(change)


def _from_stored_form(stored: Any) -> Change:
    if type(stored) is tuple:
        return change_from(stored)
    return change_from(plain_create_state(load_state(stored)))


@dataclass
class ApplyResult:
    """What became of each change. Each list is spooled to disk (an import applies a
    million changes; holding each applied one would grow with it) and reads like a list."""

    applied: PickleSpool = field(default_factory=_spool)
    failed: PickleSpool = field(default_factory=outcome_spool)  # (change, error) pairs
    not_attempted: PickleSpool = field(default_factory=_spool)
    manual_pending: PickleSpool = field(default_factory=_spool)
    blocked: PickleSpool = field(default_factory=_spool)
    # Changes apply never reached because it stopped early (interrupted, or a failure that
    # is not one change's): see ``mark_not_reached``.
    not_reached: PickleSpool = field(default_factory=_spool)
    # One byte per change of the plan, by position: 1 once its outcome is recorded.
    settled: bytearray = field(default_factory=bytearray)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_attempted and not self.not_reached

    def reserve(self, count: int) -> bytearray:
        """``settled`` with room for ``count`` changes, made once (not one change at a
        time): what marks a change settled sets its byte."""
        if count > len(self.settled):
            self.settled.extend(bytes(count - len(self.settled)))
        return self.settled

    def settle(self, position: int) -> None:
        if position >= len(self.settled):
            self.settled.extend(bytes(position + 1 - len(self.settled)))
        self.settled[position] = 1

    def mark_not_reached(self, changes: Iterable[Change]) -> None:
        """After an apply that stopped early: every change of ``changes`` (the plan's, in
        order) with no outcome yet is one it never reached (or whose answer it never saw)."""
        for position, change in enumerate(changes):
            if position >= len(self.settled) or not self.settled[position]:
                self.not_reached.append(change)

    @property
    def pending(self) -> bool:
        return bool(self.manual_pending or self.blocked)


def _phases(changes: Iterable[Change]) -> list[list[Change]]:
    """The phases of ``changes``, each a list (for a plan small enough to hold)."""
    return [list(phase) for phase in stream_phases(changes)]


def stream_phases(
    changes: Iterable[Change], waited_for: Set[str] | None = None
) -> Iterator[Iterator[Change]]:
    """Consecutive changes that may run together, each phase a stream read from the plan as
    workers take them: same kind, same direction, and none waiting for another of the phase
    (a create waits for the delete that frees its email). Only the addresses some change
    waits for (``waited_for``, a rename's worth) are remembered per phase, not the phase."""
    if waited_for is None:
        waited_for = addresses_waited_for(changes)
    source = iter(changes)
    upcoming = next(source, None)

    def phase() -> Iterator[Change]:
        nonlocal upcoming
        assert upcoming is not None
        first = upcoming
        direction = first.action is Action.DELETE
        in_phase: set[str] = set()
        while upcoming is not None:
            change = upcoming
            if change is not first and (
                change.kind is not first.kind
                or (change.action is Action.DELETE) != direction
                or (change.after and in_phase.intersection(change.after))
            ):
                return
            if waited_for and change.address in waited_for:
                in_phase.add(change.address)
            current, upcoming = upcoming, next(source, None)
            yield current

    while upcoming is not None:
        yield phase()


def addresses_waited_for(changes: Iterable[Change]) -> set[str]:
    """Addresses some change of ``changes`` waits for (its ``after``)."""
    known = getattr(changes, "waited_for", None)
    if known is not None:
        return set(known)
    return {address for change in changes for address in change.after}


async def apply_plan(
    plan: Plan,
    provider: Provider,
    *,
    on_progress: ProgressCallback | None = None,
    on_outcome: OutcomeCallback | None = None,
    on_outcomes: OutcomesCallback | None = None,
    on_settled: SettledCallback = lambda: None,
    result: ApplyResult | None = None,
) -> ApplyResult:
    """Apply ``plan``. Each outcome is recorded in ``result`` (and reported to
    ``on_progress``) the moment its change completes, so a caller whose apply is interrupted
    or fails midway still holds exactly what was done. The plan is read as a stream: only
    the changes in flight are in memory."""
    if plan.refused:
        raise ProviderError("plan refused: " + "; ".join(plan.refusals))
    result = ApplyResult() if result is None else result
    total = writes(plan)
    done = told = 0
    broken: set[str] = set()  # addresses whose write failed or was held back
    settled = result.reserve(len(plan.changes))  # ``record`` marks each change settled

    def record(position: int, change: Change, outcome: str) -> None:
        nonlocal done
        settled[position] = 1
        if change.blocked:
            result.blocked.append(change)
        elif change.action is Action.MANUAL:
            result.manual_pending.append(change)  # a person's step, never ours
        elif outcome == "done":
            result.applied.append(change)
        else:
            result.failed.append((change, outcome))
            broken.add(change.address)
        # A write the provider left to a person is a manual step now, but it was one of
        # the plan's writes: it is counted and its outcome told like the others.
        if change.is_write or outcome == LEFT_TO_PERSON:
            done += 1
            if on_outcome:
                on_outcome(change, _told(outcome))

    def record_done(items: Sequence[tuple[int, Change]]) -> None:
        """``record(position, change, "done")`` of each of ``items``, writes of a batch
        that all went through (a bulk writer's; none blocked or manual), told at once."""
        nonlocal done
        for position, _ in items:
            settled[position] = 1
        changes = [change for _, change in items]
        result.applied.extend_stored([_stored_form(change) for change in changes])
        done += len(changes)
        if on_outcomes:
            on_outcomes(changes, "applied")
        elif on_outcome:
            for change in changes:
                on_outcome(change, "applied")

    def settle_and_tell() -> None:
        """Outcomes told (``on_settled``), then progress, once per batch (of a bulk
        writer; per change otherwise) rather than once per change."""
        nonlocal told
        on_settled()
        if on_progress and done != told:
            told = done
            on_progress(done, total)

    def held_back(position: int, change: Change) -> bool:
        """A change whose dependency failed or was held back is not attempted. What it
        depends on is of another kind or waited for, so of an earlier phase, all settled.
        While nothing has failed, nothing is held back: no change's needs are looked at."""
        if not broken or not change.is_write:
            return False
        needs = [*change.after, *(dependencies(change.desired) if change.desired else [])]
        if any(dep in broken for dep in needs):
            result.settle(position)
            result.not_attempted.append(change)
            broken.add(change.address)
            if on_outcome:
                on_outcome(change, "not attempted")
            return True
        return False

    positions = count()

    def runnable(phase: Iterable[Change]) -> Iterator[tuple[int, Change]]:
        """The phase's changes numbered by their place in the plan, less those held back."""
        # The phase first: zip stops at its end without drawing a number for nothing.
        for change, position in zip(phase, positions, strict=False):
            if not broken or not held_back(position, change):
                yield position, change

    changes = _stored_changes(plan.changes)
    for phase in stream_phases(changes, addresses_waited_for(plan.changes)):
        await _run_all(runnable(phase), provider, record, record_done, settle_and_tell)
        settle_and_tell()  # the changes held back at the phase's end
    return result


_KINDS = {kind.value: kind for kind in Kind}


class StoredCreate(EncodedCreate):
    """A plain create as the plan's spool stores it (``ChangeSpool``): its desired item's
    stored bytes, decoded once, when apply reads it. Apply never reads a create's field
    changes, so they are built only when asked (``fields``), and the outcome spools keep
    the bytes as they were read (``_spool``)."""

    __slots__ = ("stored", "address")
    stored: bytes
    address: str  # type: ignore[misc]  # made once: the journal and the phases read it
    is_write = True  # a plain create is a write (``Change.is_write``)

    def __init__(self, stored: bytes) -> None:
        state = load_state(stored)
        set_slot = object.__setattr__
        set_slot(self, "kind", _KINDS[state[0]])
        set_slot(self, "key", state[1])
        set_slot(self, "desired_state", state)
        set_slot(self, "stored", stored)
        set_slot(self, "address", f"{state[0]}.{state[1]}")

    @property
    def field_states(self) -> tuple[tuple[str, None, Any], ...]:  # type: ignore[override]
        return created_field_states(self.desired_state[2])

    @property  # type: ignore[override]
    def desired(self) -> Resource:
        """``EncodedCreate.desired``, built by the write that needs it (once)."""
        resource = resource_from(self.desired_state)
        assert resource is not None
        return resource


# A plain create (no adoption, hold or wait) as the plan stores it: every field after the
# first six at its default, and no live item.
_AFTER_FIELDS = tuple(f.name for f in fields(Change))[6:]
_plain_create_rest = change_state_fields("live", *_AFTER_FIELDS)
_PLAIN_CREATE_REST = (
    None,
    *(getattr(Change(Action.CREATE, Kind.USER, ""), name) for name in _AFTER_FIELDS),
)
_create_parts = change_state_fields("kind", "key", "desired", "fields")


def _stored_changes(changes: Iterable[Change]) -> Iterator[Change]:
    """The changes of a plan as apply carries them out, read as the plan stores them: a
    plain create stored as its desired item's bytes is decoded once, here (``StoredCreate``);
    any other change from its state (``_change_of``)."""
    if not isinstance(changes, ChangeSpool):
        yield from map(_change_of, change_states(changes))
        return
    for stored in changes.states():
        yield _change_of(stored) if type(stored) is tuple else StoredCreate(stored)


def _change_of(state: tuple[Any, ...]) -> Change:
    """A stored change as apply carries it out. A plain create (all of an import's writes)
    stays in its stored form (``EncodedCreate``): its resource is built once, by the write
    that needs it, its field changes never (apply reads none), and the result's spool
    stores it as it is."""
    if state[0] == "create" and _plain_create_rest(state) == _PLAIN_CREATE_REST:
        kind, key, desired, fields = _create_parts(state)
        return EncodedCreate(_KINDS[kind], key, desired, fields)
    return change_from(state)


_change_of_item = itemgetter(1)  # (position, change) -> change


def _told(outcome: str) -> str:
    """A write's outcome as ``on_outcome`` hears it: the error message stays in ``result``."""
    if outcome == "done":
        return "applied"
    return outcome if outcome == LEFT_TO_PERSON else "failed"


def writes(plan: Plan) -> int:
    """How many changes of ``plan`` apply carries out through the API."""
    return sum(
        plan.count(action, blocked=False) for action in Action if action is not Action.MANUAL
    )


# Enough workers to keep any provider's connection pool busy; the HTTP client bounds what is
# really in flight. A pool rather than one task per change keeps a 20,000-membership phase from
# holding 20,000 suspended tasks, whose scheduling and garbage collection show up as uneven
# send times, and uneven send times as 429s.
WORKERS = 64


async def _run_all(
    changes: Iterable[tuple[int, Change]],
    provider: Provider,
    record: Callable[[int, Change, str], None],
    record_done: Callable[[Sequence[tuple[int, Change]]], None],
    settled: SettledCallback,
) -> None:
    write_batch = getattr(provider, "write_batch", None)  # the optional BatchWriter
    if write_batch is not None:
        await run_batches(
            changes,
            _change_of_item,
            write_batch,
            lambda change: _run(change, provider),
            lambda item, change, outcome: record(item[0], change, outcome),
            settled,
            record_done,
        )
        return
    position = iter(changes)

    async def worker() -> None:
        for index, change in position:
            record(index, change, await _run(change, provider))
            settled()

    # A task group, so that an unexpected exception in one worker stops the others before
    # it propagates: no worker may go on writing after apply has reported its outcome.
    async with asyncio.TaskGroup() as group:
        for _ in range(WORKERS):
            group.create_task(worker())


async def _run(change: Change, provider: Provider) -> str:
    """Returns "done", "pending" (blocked, or manual: a dashboard step apply never takes,
    under --emulate too) or an error message."""
    if change.blocked or change.action is Action.MANUAL:
        return "pending"
    try:
        if change.action is Action.CREATE:
            assert change.desired is not None
            await provider.create(change.desired)
        elif change.action is Action.UPDATE:
            assert change.desired is not None and change.live is not None
            await provider.update(change.live, change.desired)
        elif change.action is Action.REPLACE:
            assert change.desired is not None and change.live is not None
            await _delete(provider, change)
            await provider.create(change.desired)
        elif change.action is Action.DELETE:
            assert change.live is not None
            await _delete(provider, change)
    except ProviderError as exc:
        return str(exc)
    return "done"


async def _delete(provider: Provider, change: Change) -> None:
    """Delete, where "not found" means done: the item went since the plan read it (another
    apply running at the same time, or a delete earlier in this one that took it along, as
    deleting a user takes its memberships)."""
    assert change.live is not None
    try:
        await provider.delete(change.live)
    except ProviderError as exc:
        if exc.status != 404:
            raise
