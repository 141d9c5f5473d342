"""``authform emulator dashboard``: a plan's manual steps, done on the emulated dashboard.

``apply`` never takes a manual step, under ``--emulate`` either, so a rehearsal exits 2 and
``verify`` 3 exactly where the real tenant would. Someone rehearsing the whole rollout then
does on purpose what a person does in the provider's dashboard, with this command, and the
emulated tenant ends up where the real one will after that person's clicks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from authform.emulators.dashboard import DashboardError, EmulatedDashboard
from authform.engine.plan import Action, Change, Plan
from authform.workflow import dashboard_step


@dataclass
class DashboardOutcome:
    done: list[Change] = field(default_factory=list)
    # Manual steps not taken, each with the reason (policy, or no such dashboard setting).
    left: list[tuple[Change, str]] = field(default_factory=list)
    # Changes that are apply's to make (through the API), not the dashboard's.
    for_apply: int = 0


def select_manual_steps(plan: Plan, only: Sequence[str], where: str) -> list[Change]:
    """The plan's manual steps, or just those ``only`` names. A name that is not one of
    them is an error before anything is done (a typo must not pass as "nothing to do")."""
    manual = [change for change in plan.changes if change.action is Action.MANUAL]
    if not only:
        return manual
    by_address = {change.address: change for change in manual}
    unknown = [address for address in only if address not in by_address]
    if unknown:
        listed = ", ".join(sorted(by_address)) or "none"
        raise DashboardError(
            f"{where}: {', '.join(unknown)} "
            f"{'is not a manual step' if len(unknown) == 1 else 'are not manual steps'} "
            f"of this plan (its manual steps: {listed}); nothing was done"
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
            await asyncio.to_thread(dashboard.perform, step)
            outcome.done.append(change)
    return outcome
