"""Machine-readable renderings. A saved plan (``authform.saved_plan``) is the plan's rendering
plus its seal; fingerprints belong there (keyed), never in this output."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authform.engine.apply import ApplyResult
from authform.engine.plan import Action, Change, Plan
from authform.engine.verify import VerifyReport
from authform.render.sources import ChangeSources
from authform.render.values import create_only_summary, masked

PLAN_FORMAT_VERSION = 1


def change_to_json(change: Change, source: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One change; ``source`` (see ``render.sources``) says what caused it."""
    item: dict[str, Any] = {
        "action": change.action.value,
        "address": change.address,
        "kind": change.kind.value,
        "key": change.key,
        "fields": [
            {"path": f.path, "old": masked(f.path, f.old), "new": masked(f.path, f.new)}
            for f in change.fields
        ],
    }
    if change.desired is not None and change.desired.create_only:
        item["write_only"] = create_only_summary(change.desired.create_only)
    if change.instructions:
        item["instructions"] = list(change.instructions)
    if change.blocked:
        item["blocked"] = change.blocked
    if change.note:
        item["note"] = change.note
    if change.after:
        item["after"] = list(change.after)
    if source:
        item["source"] = dict(source)
    return item


def plan_header_to_json(plan: Plan) -> dict[str, Any]:
    """Everything about the plan but its change list."""
    return {
        "format_version": PLAN_FORMAT_VERSION,
        "provider": plan.provider,
        "environment": plan.environment,
        "managed": [k.value for k in plan.managed],
        "refusals": plan.refusals,
        "notes": plan.notes,
        "forced": plan.forced,
        "summary": {a.value: plan.count(a) for a in Action}
        | {"blocked": sum(1 for c in plan.changes if c.blocked)},
    }


def plan_to_json(plan: Plan, sources: ChangeSources | None = None) -> dict[str, Any]:
    """The plan; with ``sources``, each change says what caused it (``"source"``)."""
    return {
        **plan_header_to_json(plan),
        "changes": [
            change_to_json(c, sources.source(c) if sources else None) for c in plan.changes
        ],
    }


def apply_to_json(result: ApplyResult) -> dict[str, Any]:
    return {
        "applied": [c.address for c in result.applied],
        "failed": [{"address": c.address, "error": e} for c, e in result.failed],
        "not_attempted": [c.address for c in result.not_attempted],
        "not_reached": [c.address for c in result.not_reached],
        "manual_pending": [c.address for c in result.manual_pending],
        "blocked": [c.address for c in result.blocked],
    }


def verify_to_json(report: VerifyReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "checks": [
            {"name": c.name, "ok": c.ok, "detail": c.detail, "kind": c.kind} for c in report.checks
        ],
    }
