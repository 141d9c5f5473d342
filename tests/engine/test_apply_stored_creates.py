"""Apply reads a plan's plain creates as the spool stores them (``engine.apply.StoredCreate``:
the desired item's bytes, decoded once) and reports every outcome as it would for the
changes built the long way: the provider gets the same resources, the outcome spools read
back the same changes (field changes included), a failed write and one left to a person
keep their change, and progress is told once per batch with the last count last."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from authform.engine import batches
from authform.engine.apply import apply_plan
from authform.engine.codec import dump_resource
from authform.engine.plan import Action, Change, CreateBlock, Plan
from authform.engine.spool import ChangeSpool
from authform.providers.base import NeedsPerson, ProviderError, Write
from authform.resources import Kind, Resource


def _user(key: str) -> Resource:
    return Resource(
        Kind.USER,
        key,
        {"email": f"{key}@example.com", "first_name": "Zoë", "oauth_accounts": []},
        create_only={"password_hash": "$2b$10$" + "a" * 53},
        origin={"file": "users.csv", "row": 2},
    )


class BatchProvider:
    """A provider with only a bulk path: it refuses one key and leaves another to a person."""

    def __init__(self) -> None:
        self.written: list[Resource] = []

    async def write_batch(self, writes: Sequence[Write]) -> list[ProviderError | None]:
        outcomes: list[ProviderError | None] = []
        for write in writes:
            assert write.desired is not None
            self.written.append(write.desired)
            if write.desired.key == "user_refused":
                outcomes.append(ProviderError("refused"))
            elif write.desired.key == "user_manual":
                outcomes.append(NeedsPerson("a person must", ["do it by hand"]))
            else:
                outcomes.append(None)
        return outcomes


def _plan() -> tuple[Plan, list[Resource], Resource]:
    keys = ["user_a", "user_refused", "user_b", "user_manual", "user_c"]
    users = [_user(key) for key in keys]
    spool = ChangeSpool()
    spool.append(CreateBlock(Kind.USER, [dump_resource(user) for user in users]))
    organization = Resource(Kind.ORGANIZATION, "org", {"name": "Org"})
    spool.append(Change(Action.CREATE, Kind.ORGANIZATION, "org", organization))
    return Plan("kavachos", [Kind.USER, Kind.ORGANIZATION], spool, ""), users, organization


# Every write's outcome as the journal hears it, in plan order (batches of two).
TOLD = [
    ("user.user_a", "applied"),
    ("user.user_refused", "failed"),
    ("user.user_b", "applied"),
    ("user.user_manual", "left to a person"),
    ("user.user_c", "applied"),
    ("organization.org", "applied"),
]


@pytest.mark.parametrize("many", [True, False], ids=["batch-told", "one-by-one"])
def test_each_outcome_is_told_once_in_plan_order(monkeypatch, many: bool) -> None:  # noqa: ANN001
    """A batch whose every write went through is told at once (``on_outcomes``), or one
    change at a time without that callback: the same outcomes, in the same order."""
    monkeypatch.setattr(batches, "BATCH_SIZE", 2)
    plan, _, _ = _plan()
    told: list[tuple[str, str]] = []
    batches_told: list[int] = []

    def tell_many(changes: Sequence[Change], outcome: str) -> None:
        batches_told.append(len(changes))
        told.extend((change.address, outcome) for change in changes)

    asyncio.run(
        apply_plan(
            plan,
            BatchProvider(),  # type: ignore[arg-type]
            on_outcome=lambda change, outcome: told.append((change.address, outcome)),
            on_outcomes=tell_many if many else None,
        )
    )

    assert told == TOLD
    assert batches_told == ([1, 1] if many else [])  # user_c's batch, the organization's


def test_stored_creates_apply_and_read_back_as_the_changes_they_are(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(batches, "BATCH_SIZE", 2)
    plan, users, organization = _plan()
    long_way = list(plan.changes)  # the changes as the spool builds them
    provider = BatchProvider()
    progress: list[tuple[int, int]] = []

    result = asyncio.run(
        apply_plan(plan, provider, on_progress=lambda d, t: progress.append((d, t)))  # type: ignore[arg-type]
    )

    assert provider.written == [*users, organization]
    by_key = {change.key: change for change in long_way}
    assert list(result.applied) == [by_key[k] for k in ("user_a", "user_b", "user_c", "org")]
    assert [(c, error) for c, error in result.failed] == [(by_key["user_refused"], "refused")]
    [manual] = result.manual_pending
    assert manual.action is Action.MANUAL and manual.key == "user_manual"
    assert manual.instructions == ("do it by hand",) and manual.desired == users[3]
    assert all(result.settled) and len(result.settled) == len(long_way)
    # once per batch of two (and for the organization's phase), the last count last
    assert progress == [(2, 6), (4, 6), (5, 6), (6, 6)]
