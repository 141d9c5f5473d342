"""Carry a Plan out through a provider, in dependency order, reporting every outcome.

Changes of one kind run concurrently (the HTTP client bounds concurrency and rate); kinds run
one after another so a role is never created before its permissions. When a change fails, its
kind finishes (independent items still land) but later kinds are not started, and the result
lists exactly what was applied, what failed and what was not attempted: nothing is
half-applied silently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from authform.engine.plan import Action, Change, Plan
from authform.providers.base import Provider, ProviderError

ManualExecutor = Callable[[Change], Awaitable[None]]
ProgressCallback = Callable[[int, int], None]


@dataclass
class ApplyResult:
    applied: list[Change] = field(default_factory=list)
    failed: list[tuple[Change, str]] = field(default_factory=list)
    not_attempted: list[Change] = field(default_factory=list)
    manual_pending: list[Change] = field(default_factory=list)
    manual_done: list[Change] = field(default_factory=list)
    blocked: list[Change] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_attempted

    @property
    def pending(self) -> bool:
        return bool(self.manual_pending or self.blocked)


def _phases(changes: Sequence[Change]) -> list[list[Change]]:
    """Group consecutive changes that may run together: same kind, same direction."""
    phases: list[list[Change]] = []
    for change in changes:
        direction = change.action is Action.DELETE
        if (
            phases
            and phases[-1][0].kind is change.kind
            and (phases[-1][0].action is Action.DELETE) == direction
        ):
            phases[-1].append(change)
        else:
            phases.append([change])
    return phases


async def apply_plan(
    plan: Plan,
    provider: Provider,
    *,
    manual_executor: ManualExecutor | None = None,
    on_progress: ProgressCallback | None = None,
) -> ApplyResult:
    if plan.refused:
        raise ProviderError("plan refused by safety thresholds: " + "; ".join(plan.refusals))
    result = ApplyResult()
    total = sum(1 for c in plan.changes if c.is_write)
    done = 0
    stop = False
    for phase in _phases(plan.changes):
        if stop:
            result.not_attempted += [c for c in phase if c.is_write]
            result.blocked += [c for c in phase if c.blocked]
            result.manual_pending += [c for c in phase if c.action is Action.MANUAL]
            continue
        outcomes = await asyncio.gather(
            *(_run(change, provider, manual_executor) for change in phase)
        )
        for change, outcome in zip(phase, outcomes, strict=True):
            if change.blocked:
                result.blocked.append(change)
            elif change.action is Action.MANUAL:
                (result.manual_done if outcome == "done" else result.manual_pending).append(change)
            elif outcome == "done":
                result.applied.append(change)
                done += 1
            else:
                result.failed.append((change, outcome))
                done += 1
            if on_progress and change.is_write:
                on_progress(done, total)
        if any(change is failed for failed, _ in result.failed for change in phase):
            stop = True
    return result


async def _run(change: Change, provider: Provider, manual_executor: ManualExecutor | None) -> str:
    """Returns "done", "pending" (manual, not executed) or an error message."""
    if change.blocked:
        return "pending"
    try:
        if change.action is Action.MANUAL:
            if manual_executor is None:
                return "pending"
            await manual_executor(change)
        elif change.action is Action.CREATE:
            assert change.desired is not None
            await provider.create(change.desired)
        elif change.action is Action.UPDATE:
            assert change.desired is not None and change.live is not None
            await provider.update(change.live, change.desired)
        elif change.action is Action.REPLACE:
            assert change.desired is not None and change.live is not None
            await provider.delete(change.live)
            await provider.create(change.desired)
        elif change.action is Action.DELETE:
            assert change.live is not None
            await provider.delete(change.live)
    except ProviderError as exc:
        return str(exc)
    return "done"
