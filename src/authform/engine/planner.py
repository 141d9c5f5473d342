"""The plan of a whole state held in the on-disk index, computed as a stream.

Each managed kind is diffed by ``plan.diff_kind`` over the index's keyed join (only the pairs
that differ leave SQLite), put in apply's order by ``ordering.order_kinds`` and appended to a
``ChangeSpool``; what stays in memory is the counts (per action, per kind for the safety
thresholds) and the role changes the missing-role check reads. The result is the same
``Plan`` an in-memory diff gave, with ``changes`` a re-iterable sequence on disk.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from authform.engine.index import StateIndex
from authform.engine.ordering import UNIQUE_VALUES, order_kinds
from authform.engine.plan import (
    ADOPTION_FIELD,
    Change,
    CreateBlock,
    Plan,
    PlanOptions,
    as_change,
    diff_kind,
)
from authform.engine.references import missing_roles_in_index
from authform.engine.safety import threshold_refusals_from_counts
from authform.engine.spool import ChangeSpool
from authform.resources import Kind


def plan_index(index: StateIndex, options: PlanOptions) -> Plan:
    """The plan for the managed kinds of ``index`` (see ``plan.plan_changes``)."""
    capabilities, policy = options.capabilities, options.policy
    manual_instructions, read = options.manual_instructions, options.read
    managed_kinds = sorted(set(options.managed), key=lambda k: k.order)

    def kinds() -> Iterator[tuple[Kind, Iterable[Change | CreateBlock], bool]]:
        for kind in managed_kinds:
            unkeyed = index.unkeyed(kind) if kind in ADOPTION_FIELD else []
            if index.settled(kind):
                # Nothing to read pair by pair: a no-change plan of 100,000 users and
                # 200,000 memberships made three passes over the join for nothing (2 s).
                yield kind, (), False
                continue
            may_wait = kind in UNIQUE_VALUES and index.may_free(kind)
            changes = diff_kind(
                kind,
                index.pair_items(kind),
                lambda kind=kind: index.live_only(kind),  # type: ignore[misc]
                unkeyed,
                capabilities,
                policy,
                manual_instructions,
                # A kind whose creates may wait for a freed value takes them one by one.
                blocks=not may_wait,
            )
            yield kind, changes, may_wait

    spool = ChangeSpool()
    role_changes: list[Change] = []
    for change in order_kinds(kinds()):
        spool.append(change)
        if change.kind is Kind.ROLE:
            created = change.changes() if isinstance(change, CreateBlock) else (change,)
            role_changes += [as_change(role_change) for role_change in created]
    spool.seal()

    read_kinds = set(managed_kinds if read is None else read)
    missing_roles = (
        missing_roles_in_index(index, role_changes)
        if Kind.MEMBERSHIP in managed_kinds and Kind.ROLE in read_kinds
        else []
    )
    live_counts = {kind: index.count("live", kind) for kind in managed_kinds}
    plan = Plan(
        provider=capabilities.name,
        managed=managed_kinds,
        changes=spool,
        live_fingerprint=index.live_fingerprint() if options.fingerprint_live else "",
        environment=options.environment,
        desired_counts={kind: index.count("desired", kind) for kind in managed_kinds},
        live_counts=live_counts,
        forced=options.force,
        missing_roles=missing_roles,
    )
    plan.refusals = [
        f"{len(m.memberships)} membership(s) name role {m.role!r}, which neither exists in "
        f"{capabilities.name} nor is planned (first: membership.{m.memberships[0]})"
        for m in missing_roles
    ] + threshold_refusals_from_counts(
        spool.by_threshold,
        live_counts,
        max_delete_percent=policy.max_delete_percent,
        max_update_percent=policy.max_update_percent,
        threshold_min_existing=policy.threshold_min_existing,
    )
    return plan
