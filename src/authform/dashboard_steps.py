"""``authform emulator dashboard``: a plan's manual steps, done on the emulated dashboard.

``apply`` never takes a manual step, under ``--emulate`` either, so a rehearsal exits 2 and
``verify`` 3 exactly where the real tenant would. Someone rehearsing the whole rollout then
does on purpose what a person does in the provider's dashboard, with this command, and the
emulated tenant ends up where the real one will after that person's clicks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from authform.emulators.dashboard import DashboardError, EmulatedDashboard
from authform.engine.plan import Action, Change, Plan
from authform.workflow import dashboard_step


@dataclass
class DashboardOutcome:
    done: list[Change] = field(default_factory=list)
    # Manual steps not taken, each with the reason (policy, or no such dashboard setting).
    left: list[tuple[Change, str]] = field(default_factory=list)
    # Steps the emulated dashboard refused (its message); the run is an error.
    failed: list[tuple[Change, str]] = field(default_factory=list)
    # Changes that are apply's to make (through the API), not the dashboard's.
    for_apply: int = 0


def select_manual_steps(
    plan: Plan, only: Sequence[str], where: Callable[[str], str]
) -> list[Change]:
    """The plan's manual steps, or just those ``only`` names. A name that is not one of
    them is an error before anything is done (a typo must not pass as "nothing to do");
    ``where(address)`` says where the manifest declares it (else the manifest's path)."""
    manual = [change for change in plan.changes if change.action is Action.MANUAL]
    if not only:
        return manual
    by_address = {change.address: change for change in manual}
    planned = {change.address for change in plan.changes}
    listed = ", ".join(sorted(by_address)) or "none"
    for address in only:
        if address in by_address:
            continue
        what = (
            "is a change apply makes through the API, not a manual step"
            if address in planned
            else "is not a manual step of this plan"
        )
        raise DashboardError(
            f"{where(address)}: {address} {what} (its manual steps: {listed}); nothing was done"
        )
    return [by_address[address] for address in dict.fromkeys(only)]


async def perform_manual_steps(
    plan: Plan, dashboard: EmulatedDashboard, steps: Sequence[Change]
) -> DashboardOutcome:
    """Take each step the provider's dashboard offers and the policy allows, in plan order."""
    outcome = DashboardOutcome(for_apply=sum(1 for change in plan.changes if change.is_write))
    for change in steps:
        step = dashboard_step(change)
        if change.blocked:
            outcome.left.append((change, change.blocked))
        elif not dashboard.can_do(step):
            reason = f"the {dashboard.provider} dashboard has no setting for this either"
            outcome.left.append((change, reason))
        else:
            try:
                await asyncio.to_thread(dashboard.perform, step)
            except DashboardError as exc:
                outcome.failed.append((change, str(exc)))
            else:
                outcome.done.append(change)
    return outcome
