"""References between kinds that the plan checks before anything is written.

A membership names a role by slug. When that role neither exists in the provider nor is
planned, every write of such a membership fails at apply (one missing role once gave 582
failed writes), so the plan refuses instead, naming the role and how many memberships use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from authform.engine.plan import Action, Change
from authform.resources import Kind, Resource


@dataclass(frozen=True)
class MissingRole:
    """A role slug memberships name that will not exist once the plan is applied."""

    role: str
    memberships: tuple[str, ...]  # membership keys, in desired order


def missing_membership_roles(
    desired: Iterable[Resource], live: Iterable[Resource], changes: Sequence[Change]
) -> list[MissingRole]:
    """Roles named by desired memberships that are neither desired nor live (or live but
    about to be deleted). ``live`` must hold every role of the provider."""
    desired = list(desired)
    roles = [c for c in changes if c.kind is Kind.ROLE]
    deleted = {c.key for c in roles if c.action is Action.DELETE and c.blocked is None}
    # A role the API cannot create (a manual step) or whose create is held back is not there.
    not_created = {c.key for c in roles if c.live is None and not c.is_write}
    available = {r.key for r in desired if r.kind is Kind.ROLE and r.key not in not_created}
    available |= {r.key for r in live if r.kind is Kind.ROLE and r.key not in deleted}
    users: dict[str, list[str]] = {}
    for item in desired:
        if item.kind is not Kind.MEMBERSHIP:
            continue
        role = str(item.spec.get("role") or "")
        if role and role not in available:
            users.setdefault(role, []).append(item.key)
    return [MissingRole(role, tuple(keys)) for role, keys in sorted(users.items())]
