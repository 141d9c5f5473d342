"""The engine's bulk path: a phase handed to a provider's ``write_batch`` in batches, every
change's outcome recorded, and nothing that has no single write sent through it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from authform.engine import batches
from authform.engine.plan import Action, Change
from authform.providers.base import NeedsPerson, ProviderError, Write
from authform.resources import Kind, Resource


def _create(key: str, **extra: object) -> Change:
    desired = Resource(Kind.ORGANIZATION, key, {"name": key})
    return Change(Action.CREATE, Kind.ORGANIZATION, key, desired=desired, **extra)  # type: ignore[arg-type]


def _run(changes: list[Change], answer) -> tuple[list[list[str]], list[tuple[str, str, str]]]:  # noqa: ANN001
    """Runs ``changes`` with a writer answering each batch with ``answer(writes)``; returns
    the batches it was handed (keys) and every recorded (action, key, outcome)."""
    handed: list[list[str]] = []
    recorded: list[tuple[str, str, str]] = []

    async def write_batch(writes: Sequence[Write]) -> Sequence[ProviderError | None]:
        handed.append([w.desired.key for w in writes if w.desired is not None])
        return answer(writes)

    async def run_one(change: Change) -> str:
        return "pending"

    def record(item: Change, change: Change, outcome: str) -> None:
        recorded.append((change.action.value, change.key, outcome))

    asyncio.run(batches.run_batches(changes, lambda c: c, write_batch, run_one, record))
    return handed, recorded


def test_a_phase_goes_in_batches_and_each_outcome_is_recorded(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(batches, "BATCH_SIZE", 3)
    changes = [_create(f"org{n}") for n in range(7)]
    handed, recorded = _run(
        changes,
        lambda writes: [
            ProviderError("refused") if w.desired and w.desired.key == "org4" else None
            for w in writes
        ],
    )
    assert handed == [["org0", "org1", "org2"], ["org3", "org4", "org5"], ["org6"]]
    assert [outcome for _, _, outcome in recorded] == ["done"] * 4 + ["refused"] + ["done"] * 2


def test_a_batch_failing_as_a_whole_fails_each_of_its_changes() -> None:
    def lost(writes: Sequence[Write]) -> list[ProviderError | None]:
        raise ProviderError("the connection was lost")

    _, recorded = _run([_create("a"), _create("b")], lost)
    assert recorded == [
        ("create", "a", "the connection was lost"),
        ("create", "b", "the connection was lost"),
    ]


def test_a_write_a_person_must_make_is_a_pending_manual_step_with_its_instructions() -> None:
    def needs_person(writes: Sequence[Write]) -> list[ProviderError | None]:
        return [NeedsPerson("no owner", ["create it in your app"]) for _ in writes]

    recorded: list[Change] = []

    async def main() -> None:
        async def write_batch(writes: Sequence[Write]) -> Sequence[ProviderError | None]:
            return needs_person(writes)

        async def run_one(change: Change) -> str:
            raise AssertionError("a create has a single write")

        await batches.run_batches(
            [_create("acme")], lambda c: c, write_batch, run_one, lambda _, c, o: recorded.append(c)
        )

    asyncio.run(main())
    (change,) = recorded
    assert change.action is Action.MANUAL and change.key == "acme"
    assert change.instructions == ("create it in your app",)
    assert change.note == "no owner"


def test_changes_with_no_single_write_never_reach_the_batch() -> None:
    blocked = _create("blocked", blocked="deletes are not allowed")
    handed, recorded = _run([blocked, _create("ok")], lambda writes: [None for _ in writes])
    assert handed == [["ok"]]
    assert recorded == [("create", "blocked", "pending"), ("create", "ok", "done")]


def test_the_next_batch_is_handed_over_while_one_is_written_and_outcomes_stay_in_order(
    monkeypatch,  # noqa: ANN001
) -> None:
    """At most two batches in flight: the next is handed over (its rows built) while the one
    before is written; outcomes are recorded and settled batch by batch, in order, and a
    change taken alone waits for the batch in flight."""
    monkeypatch.setattr(batches, "BATCH_SIZE", 2)
    events: list[str] = []
    in_flight = 0
    most = 0

    async def write_batch(writes: Sequence[Write]) -> Sequence[ProviderError | None]:
        nonlocal in_flight, most
        keys = ",".join(w.desired.key for w in writes if w.desired is not None)
        in_flight += 1
        most = max(most, in_flight)
        events.append(f"start {keys}")
        await asyncio.sleep(0.01)
        events.append(f"end {keys}")
        in_flight -= 1
        return [None] * len(writes)

    async def run_one(change: Change) -> str:
        events.append(f"alone {change.key} with {in_flight} in flight")
        return "pending"

    def record(item: Change, change: Change, outcome: str) -> None:
        events.append(f"record {change.key}")

    changes = [_create(f"o{n}") for n in range(6)]
    changes.insert(4, _create("held", blocked="deletes are not allowed"))
    asyncio.run(
        batches.run_batches(
            changes, lambda c: c, write_batch, run_one, record, lambda: events.append("settled")
        )
    )
    assert most == 2
    assert events.index("start o2,o3") < events.index("end o0,o1")  # overlapped
    assert [e.split()[1] for e in events if e.startswith("record")] == [
        "o0", "o1", "o2", "o3", "held", "o4", "o5",
    ]  # fmt: skip
    assert "alone held with 0 in flight" in events
    assert events[-1] == "settled" and events.count("settled") == 5
