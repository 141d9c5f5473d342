"""References between kinds that the plan checks before anything is written.

A membership names a role by slug. When that role neither exists in the provider nor is
planned, every write of such a membership fails at apply (one missing role once gave 582
failed writes), so the plan refuses instead, naming the role and how many memberships use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from authform.engine.plan import Action, Change
from authform.resources import Kind, Resource

if TYPE_CHECKING:
    from authform.engine.index import StateIndex


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
    available = _available_roles(
        (r.key for r in desired if r.kind is Kind.ROLE),
        (r.key for r in live if r.kind is Kind.ROLE),
        changes,
    )
    users: dict[str, list[str]] = {}
    for item in desired:
        if item.kind is not Kind.MEMBERSHIP:
            continue
        role = str(item.spec.get("role") or "")
        if role and role not in available:
            users.setdefault(role, []).append(item.key)
    return [MissingRole(role, tuple(keys)) for role, keys in sorted(users.items())]


def missing_roles_in_index(index: StateIndex, role_changes: Sequence[Change]) -> list[MissingRole]:
    """``missing_membership_roles`` over the on-disk index: only the distinct role slugs are
    read for every membership, and the memberships of a missing role only when one is."""
    available = _available_roles(
        (r.key for r in index.desired(Kind.ROLE)),
        (r.key for r in index.live(Kind.ROLE)),
        role_changes,
    )
    named = index.desired_values(Kind.MEMBERSHIP, "role")
    missing = sorted(role for role in named if role and role not in available)
    if not missing:
        return []
    users: dict[str, list[str]] = {role: [] for role in missing}
    for item in index.desired(Kind.MEMBERSHIP):
        role = str(item.spec.get("role") or "")
        if role in users:
            users[role].append(item.key)
    return [MissingRole(role, tuple(keys)) for role, keys in users.items()]


def _available_roles(
    desired_roles: Iterable[str], live_roles: Iterable[str], changes: Iterable[Change]
) -> set[str]:
    roles = [c for c in changes if c.kind is Kind.ROLE]
    deleted = {c.key for c in roles if c.action is Action.DELETE and c.blocked is None}
    # A role the API cannot create (a manual step) or whose create is held back is not there.
    not_created = {c.key for c in roles if c.live is None and not c.is_write}
    available = {key for key in desired_roles if key not in not_created}
    available |= {key for key in live_roles if key not in deleted}
    return available
