"""Turn an apply journal into an ordinary plan that puts back what that apply changed.

Each change the journal records is judged against the live state now:

- live is what the apply wrote (its after-state): it is put back to the before-image (an
  update back, a deleted item created again, a created item deleted);
- live is already the before-state: nothing to do;
- anything else: the live state moved on since that apply (someone changed it again, or a
  later apply did), and undo refuses, naming every such item, rather than overwrite it.

Changes the apply reported failed, not attempted or left to a person wrote nothing and are
left out. Changes
whose outcome it never learnt (interrupted, killed) are judged by the live state like the
rest. The restore is then planned like any manifest: the desired state is the live state of
the journal's kinds with those items put back, so ``plan_changes`` computes the diff, the
policy (deletes opt-in) and the thresholds against every live item, not just the journal's.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from authform.engine.plan import Plan, plan_changes
from authform.provenance import Origin, display_path
from authform.resources import Kind, Resource
from authform.undo.reading import Journal, JournalEntry, JournalError
from authform.undo.record import (
    LEFT_TO_PERSON,
    NOTHING_WRITTEN,
    has_masked_value,
    masked,
    resource_of,
)
from authform.workflow import Session

_MAX_NAMED = 10


@dataclass
class Judgement:
    """What undo makes of each journal entry against the live state."""

    restore: dict[str, Resource | None] = field(default_factory=dict)  # address -> before
    already: list[str] = field(default_factory=list)
    moved_on: list[tuple[str, str]] = field(default_factory=list)
    not_written: list[str] = field(default_factory=list)  # failed or not attempted
    left_to_person: list[str] = field(default_factory=list)  # a manual step, nothing written
    cannot: list[tuple[str, str]] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)  # outcome never learnt, but written
    recreated: list[str] = field(default_factory=list)  # deleted by the apply, created again


async def undo_plan(session: Session, journal: Journal, *, force: bool = False) -> Plan:
    """The plan that restores what ``journal``'s apply changed; raises ``JournalError``
    (nothing changed) when it cannot be trusted or the live state moved on."""
    journal.check(session)
    entries = list(journal.entries.values())
    kinds = sorted({e.kind for e in entries}, key=lambda k: k.order)
    read = set(kinds)
    role_support = session.provider.capabilities.supports(Kind.ROLE)
    if Kind.MEMBERSHIP in read and role_support is not None and not role_support.manual:
        read.add(Kind.ROLE)  # a restored membership's role must exist, as in any plan
    async with session.waiting(f"reading the live state from {session.provider.capabilities.name}"):
        live = await session.provider.read(read, list(_hints(entries)))
    judged = judge(entries, live)
    if judged.moved_on:
        raise JournalError(_moved_on_refusal(journal, judged.moved_on))
    origins = {e.address: {"file": display_path(str(journal.path)), "row": e.line} for e in entries}
    desired = _restored_state(live, judged.restore, kinds, origins)
    plan = plan_changes(
        desired, live, session.plan_options(force=force, managed=set(kinds), read=read)
    )
    plan.notes += _notes(journal, judged)
    return plan


def judge(entries: Iterable[JournalEntry], live: Iterable[Resource]) -> Judgement:
    live_by_address = {r.address: r for r in live}
    judged = Judgement()
    for entry in entries:
        if entry.outcome in NOTHING_WRITTEN:
            left = entry.outcome == LEFT_TO_PERSON
            (judged.left_to_person if left else judged.not_written).append(entry.address)
            continue
        before = entry.before
        if before is not None and before["key"] != entry.key:
            judged.cannot.append(
                (
                    entry.address,
                    f"the apply gave an existing item ({before['provider_id']}) authform's key; "
                    "undo leaves it adopted",
                )
            )
            continue
        current = live_by_address.get(entry.address)
        now = _spec(masked(current.spec)) if current is not None else None
        was = _spec(before["spec"]) if before is not None else None
        wrote = _spec(entry.after["spec"]) if entry.after is not None else None
        if now == was:
            judged.already.append(entry.address)
        elif now == wrote:
            if before is not None and has_masked_value(before["spec"]):
                judged.cannot.append(
                    (entry.address, "its before-state holds a secret the journal never records")
                )
                continue
            judged.restore[entry.address] = resource_of(before) if before is not None else None
            if current is None:
                judged.recreated.append(entry.address)
            if entry.outcome is None or entry.outcome != "applied":
                judged.unconfirmed.append(entry.address)
        else:
            judged.moved_on.append((entry.address, _how_moved(entry, now, was, wrote)))
    return judged


def _how_moved(entry: JournalEntry, now: Any, was: Any, wrote: Any) -> str:
    if now is None:
        return f"it was {'created' if wrote is not None else 'there'} by the apply and is gone now"
    if wrote is None:
        return "the apply deleted it and it exists again, with other values"
    return "its live values are neither what the apply wrote nor what was there before"


def _spec(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _hints(entries: Iterable[JournalEntry]) -> Iterable[Resource]:
    """The journal's items as desired resources, for reads that look items up (users by
    email, social connections by provider)."""
    for entry in entries:
        if entry.before is not None:
            yield resource_of(entry.before)
        if entry.after is not None:
            yield Resource(entry.kind, entry.key, dict(entry.after["spec"]))


def _restored_state(
    live: Iterable[Resource],
    restore: Mapping[str, Resource | None],
    kinds: Iterable[Kind],
    origins: Mapping[str, Origin],
) -> list[Resource]:
    """The live state of ``kinds`` with the journal's items put back: planned against the
    live state, it differs exactly where undo writes. A restored item's origin is its
    journal line, so the plan names the line each change comes from."""
    managed = set(kinds)
    desired = [r for r in live if r.kind in managed and r.address not in restore]
    desired += [
        dataclasses.replace(before, provider_id=None, origin=origins.get(address, {}))
        for address, before in restore.items()
        if before is not None
    ]
    return desired


def _moved_on_refusal(journal: Journal, moved: list[tuple[str, str]]) -> str:
    shown = "; ".join(f"{address} ({why})" for address, why in moved[:_MAX_NAMED])
    more = f"; and {len(moved) - _MAX_NAMED} more" if len(moved) > _MAX_NAMED else ""
    return (
        f"cannot undo {journal.path}: the live state moved on since that apply for "
        f"{len(moved)} item(s): {shown}{more}. Undo will not overwrite later changes; put "
        "those items right by hand or in the manifest. Nothing was changed"
    )


def _notes(journal: Journal, judged: Judgement) -> list[str]:
    notes = [f"Undo of {journal.path} (apply of {journal.header['started_at']})."]
    if journal.ended is None:
        notes.append(
            "The journal has no end: that apply was killed before it finished. Changes it "
            "never saw answered are judged by the live state."
        )
    if judged.unconfirmed:
        notes.append(
            f"{len(judged.unconfirmed)} change(s) the apply never saw confirmed were written "
            f"all the same, and are undone too{_named(judged.unconfirmed)}."
        )
    if judged.already:
        notes.append(
            f"{len(judged.already)} item(s) are already as they were before that apply"
            f"{_named(judged.already)}."
        )
    if judged.not_written:
        notes.append(
            f"{len(judged.not_written)} change(s) of that apply failed or were not attempted: "
            f"nothing to undo{_named(judged.not_written)}."
        )
    if judged.left_to_person:
        notes.append(
            f"{len(judged.left_to_person)} change(s) of that apply were left to a person: "
            f"nothing to undo{_named(judged.left_to_person)}."
        )
    recreated_users = [a for a in judged.recreated if a.startswith(f"{Kind.USER.value}.")]
    if recreated_users:
        notes.append(
            f"{len(recreated_users)} deleted user(s) come back without their password (it is "
            "never readable), sessions or second factors, and with a new id: they sign in "
            f"again by password reset or a social login{_named(recreated_users)}."
        )
    for address, why in judged.cannot:
        notes.append(f"Cannot restore {address}: {why}.")
    return notes


def _named(addresses: list[str]) -> str:
    shown = ", ".join(addresses[:_MAX_NAMED])
    more = f" and {len(addresses) - _MAX_NAMED} more" if len(addresses) > _MAX_NAMED else ""
    return f" ({shown}{more})" if addresses else ""
