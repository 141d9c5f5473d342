"""Machine-readable renderings. A saved plan (``authform.saved_plan``) is the plan's rendering
plus its seal; fingerprints belong there (keyed), never in this output.

The ``*_document`` functions give the documents the commands print, with every list that
grows with the tenant (changes, checks, apply outcomes) as a ``Streamed`` value read from its
spool as it is written (``render.json_stream.json_chunks``): a million-user plan is printed
without being held. ``plan_to_json`` is the same document as one object, for a plan small
enough to hold (tests, embedding).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from authform.engine.apply import ApplyResult
from authform.engine.plan import Action, Change, Plan
from authform.engine.verify import VerifyReport
from authform.render.json_stream import Streamed
from authform.render.sources import ChangeSources
from authform.render.values import create_only_summary, is_sensitive, masked

PLAN_FORMAT_VERSION = 1


def change_to_json(change: Change, source: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One change; ``source`` (see ``render.sources``) says what caused it."""
    return change_entry(
        change.action._value_,
        change.kind._value_,
        change.key,
        [(f.path, f.old, f.new) for f in change.fields],
        None if change.desired is None else change.desired.create_only,
        change.instructions,
        change.blocked,
        change.note,
        change.after,
        source,
    )


def change_entry(
    action: str,
    kind: str,
    key: str,
    fields: Iterable[tuple[str, Any, Any]],
    create_only: Mapping[str, Any] | None,
    instructions: Sequence[str],
    blocked: str | None,
    note: str | None,
    after: Sequence[str],
    source: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``change_to_json`` from a change's parts (fields as ``(path, old, new)``): a saved
    plan writes a million changes from their stored states, without building them."""
    item: dict[str, Any] = {
        "action": action,
        "address": f"{kind}.{key}",
        "kind": kind,
        "key": key,
        "fields": [
            {"path": path, "old": masked(path, old), "new": masked(path, new)}
            if is_sensitive(path)
            else {"path": path, "old": old, "new": new}
            for path, old, new in fields
        ],
    }
    if create_only:
        item["write_only"] = create_only_summary(create_only)
    if instructions:
        item["instructions"] = list(instructions)
    if blocked:
        item["blocked"] = blocked
    if note:
        item["note"] = note
    if after:
        item["after"] = list(after)
    if source:
        item["source"] = dict(source)
    return item


def plan_header_to_json(plan: Plan) -> dict[str, Any]:
    """Everything about the plan but its change list (from the counts the spool keeps: the
    change list is not read)."""
    return {
        "format_version": PLAN_FORMAT_VERSION,
        "provider": plan.provider,
        "environment": plan.environment,
        "managed": [k.value for k in plan.managed],
        "refusals": plan.refusals,
        "notes": plan.notes,
        "forced": plan.forced,
        "summary": {a.value: plan.count(a) for a in Action}
        | {"blocked": sum(plan.count(a, blocked=True) for a in Action)},
    }


def plan_document(plan: Plan, sources: ChangeSources | None = None) -> dict[str, Any]:
    """The plan, its changes streamed; with ``sources``, each change says what caused it
    (``"source"``)."""
    changes = (change_to_json(c, sources.source(c) if sources else None) for c in plan.changes)
    return {**plan_header_to_json(plan), "changes": Streamed(changes)}


def plan_to_json(plan: Plan, sources: ChangeSources | None = None) -> dict[str, Any]:
    """``plan_document`` as one object (its change list held whole)."""
    document = plan_document(plan, sources)
    return {**document, "changes": list(document["changes"])}


def apply_document(result: ApplyResult, stopped: str | None = None) -> dict[str, Any]:
    """What became of each change, each list streamed from its spool; ``stopped`` says why
    apply stopped early, when it did."""
    document: dict[str, Any] = {
        "applied": Streamed(c.address for c in result.applied),
        "failed": Streamed({"address": c.address, "error": e} for c, e in result.failed),
        "not_attempted": Streamed(c.address for c in result.not_attempted),
        "not_reached": Streamed(c.address for c in result.not_reached),
        "manual_pending": Streamed(c.address for c in result.manual_pending),
        "blocked": Streamed(c.address for c in result.blocked),
    }
    if stopped:
        document["stopped"] = stopped
    return document


def verify_document(report: VerifyReport) -> dict[str, Any]:
    """Every check, streamed (``ok`` is one pass over them first)."""
    checks = (
        {"name": c.name, "ok": c.ok, "detail": c.detail, "kind": c.kind} for c in report.checks
    )
    return {"ok": report.ok, "checks": Streamed(checks)}
